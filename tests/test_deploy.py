"""`python -m bot deploy nginx`: the site file for several Rasa servers and helpdesks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cli import main
from bot.deploy import nginx_site

RASA = ["10.0.0.11:5005", "10.0.0.12:5005"]


def test_rest_and_the_api_are_spread_while_a_socket_keeps_to_one_server() -> None:
    site = nginx_site(rasa_servers=RASA, helpdesk_servers=["10.0.0.21:8000"], chat_listen="443", helpdesk_listen="8443")
    spread = site[site.index("upstream kestrel_rasa {") :].split("}")[0]
    sticky = site[site.index("upstream kestrel_rasa_sticky {") :].split("}")[0]
    assert "least_conn;" in spread and "ip_hash;" in sticky
    for upstream in (spread, sticky):
        assert [line.strip() for line in upstream.splitlines() if "server " in line] == [
            "server 10.0.0.11:5005;",
            "server 10.0.0.12:5005;",
        ]
    socket_location = site[site.index("location /socket.io/") :].split("}")[0]
    assert "proxy_pass http://kestrel_rasa_sticky;" in socket_location
    assert "proxy_set_header Upgrade $http_upgrade;" in socket_location
    assert "listen 443;" in site and "listen 8443;" in site and "server 10.0.0.21:8000;" in site


def test_without_helpdesks_only_the_chat_is_served() -> None:
    site = nginx_site(rasa_servers=RASA, helpdesk_servers=[])
    assert "kestrel_helpdesk" not in site and site.count("server {") == 1


@pytest.mark.parametrize("servers", [[], ["10.0.0.11"], ["http://10.0.0.11:5005"], ["a:5005; evil"]])
def test_a_missing_or_malformed_address_is_refused(servers: list[str]) -> None:
    with pytest.raises(ValueError):
        nginx_site(rasa_servers=servers, helpdesk_servers=[])


def test_the_command_prints_the_site_or_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "nginx", "--rasa", RASA[0], "--rasa", RASA[1], "--helpdesk", "10.0.0.21:8000"]) == 0
    assert "upstream kestrel_rasa_sticky" in capsys.readouterr().out
    assert main(["deploy", "nginx", "--rasa", "10.0.0.11"]) == 2
    assert "'10.0.0.11' is not host:port" in capsys.readouterr().err


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx is not installed here (make test installs it as root)")
    (tmp_path / "site.conf").write_text(nginx_site(rasa_servers=RASA, helpdesk_servers=["10.0.0.21:8000"]))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    include {tmp_path}/site.conf;\n}}\n"
    )
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
