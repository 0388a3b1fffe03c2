"""nginx in front of several Rasa servers and helpdesks (docs/deploy.md).

`python -m bot deploy nginx --rasa 10.0.0.11:5005 --rasa 10.0.0.12:5005 --helpdesk 10.0.0.21:8000`
prints a site file for nginx's `conf.d/`. What it has to get right:

- A conversation may land on any Rasa server: they share it through the SQL tracker store and
  the Redis lock store, so REST webhooks and the HTTP API (the helpdesk's pushes) are spread
  over the servers (`least_conn`).
- socket.io is not: its long-polling requests carry a session that lives in one server until
  the socket upgrades to a WebSocket, so a client must keep to one server. `/socket.io/` goes to
  the same servers by client address (`ip_hash`); behind another proxy, give nginx the real
  client address (`set_real_ip_from`) or every widget lands on one server.
- WebSocket upgrades are passed through, and a chat's socket may stay open and quiet for long.
"""

from __future__ import annotations

import re

__all__ = ["nginx_site"]

_SERVER_ADDRESS = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")


def nginx_site(
    *, rasa_servers: list[str], helpdesk_servers: list[str], chat_listen: str = "80", helpdesk_listen: str = "8080"
) -> str:
    """The nginx site (http context): the chat (Rasa) on `chat_listen`, the helpdesk on `helpdesk_listen`.

    Raises:
        ValueError: no Rasa server, or an address that is not host:port.
    """
    if not rasa_servers:
        raise ValueError("at least one Rasa server (--rasa host:port) is needed")
    for address in [*rasa_servers, *helpdesk_servers]:
        if not _SERVER_ADDRESS.match(address):
            raise ValueError(f"{address!r} is not host:port")
    upstreams = [
        _upstream("kestrel_rasa", "least_conn", rasa_servers),
        _upstream("kestrel_rasa_sticky", "ip_hash", rasa_servers),
    ]
    sites = [
        f"""server {{
    listen {chat_listen};
    # A message of up to 10,000 characters and a ticket's transcript fit well within this.
    client_max_body_size 1m;

    location /socket.io/ {{
        proxy_pass http://kestrel_rasa_sticky;
{_PROXY_HEADERS}
        # A widget's socket stays open, mostly quiet, for the whole chat.
        proxy_read_timeout 1h;
        proxy_send_timeout 1h;
    }}

    location / {{
        proxy_pass http://kestrel_rasa;
{_PROXY_HEADERS}
        # A KB answer takes well under a second; Rasa waits up to 2 minutes for an action.
        proxy_read_timeout 150s;
    }}
}}"""
    ]
    if helpdesk_servers:
        upstreams.append(_upstream("kestrel_helpdesk", "least_conn", helpdesk_servers))
        sites.append(
            f"""server {{
    listen {helpdesk_listen};
    client_max_body_size 5m;

    location / {{
        proxy_pass http://kestrel_helpdesk;
{_PROXY_HEADERS}
    }}
}}"""
        )
    blocks = [*upstreams, _CONNECTION_UPGRADE, *sites]
    return "# Written by `python -m bot deploy nginx`; see docs/deploy.md.\n\n" + "\n\n".join(blocks) + "\n"


def _upstream(name: str, balancing: str, servers: list[str]) -> str:
    lines = "\n".join(f"    server {address};" for address in servers)
    return f"upstream {name} {{\n    {balancing};\n{lines}\n    keepalive 32;\n}}"


# WebSocket upgrades need HTTP/1.1 and the Upgrade headers passed on; other requests keep the
# connection to the upstream alive (an empty Connection header).
_CONNECTION_UPGRADE = """map $http_upgrade $kestrel_connection {
    default upgrade;
    ''      '';
}"""

_PROXY_HEADERS = """        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $kestrel_connection;
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;"""
