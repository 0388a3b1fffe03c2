"""Several Rasa servers behind nginx on this machine, set up as docs/deploy.md runs them on many:
for `bench conversations --behind-nginx N` and tests/test_scale_out.py."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.bench.common import free_port
from bot.config import Settings
from bot.deploy import nginx_site
from bot.launcher import Stack, start_stack

__all__ = ["Nginx", "start_extra_rasa_servers", "start_nginx"]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class Nginx:
    url: str
    access_log: Path  # one line per request: "<uri> <upstream host:port> <status>"
    process: subprocess.Popen

    def requests_by_server(self) -> dict[str, dict[str, int]]:
        """From the access log: per path kind (rest, socket.io, other), requests per Rasa server.

        A socket.io client over WebSocket is one request (the upgrade), however many messages it sends.
        """
        counts: dict[str, dict[str, int]] = {}
        for line in self.access_log.read_text().splitlines():
            uri, upstream, _status = line.split(" ", 2)
            by_server = counts.setdefault(_path_kind(uri), {})
            by_server[upstream] = by_server.get(upstream, 0) + 1
        return counts

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _path_kind(uri: str) -> str:
    if uri.startswith("/webhooks/rest/"):
        return "rest"
    if uri.startswith("/socket.io/"):
        return "socket.io"
    return "other"


def start_extra_rasa_servers(settings: Settings, count: int, root: Path) -> tuple[list[Settings], list[Stack]]:
    """`count` more Rasa servers like the one `settings` describes (same tracker store, Redis and
    action server), on free ports, started one after the other; returns their settings and stacks."""
    servers, stacks = [], []
    try:
        for n in range(count):
            server = settings.model_copy(update={"rasa_port": free_port(), "var_dir": root / f"rasa-{n + 2}"})
            stacks.append(start_stack(server, only=["rasa"], on_progress=lambda _line: None))
            servers.append(server)
    except BaseException:
        for stack in stacks:
            stack.stop()
        raise
    return servers, stacks


def start_nginx(directory: Path, servers: list[Settings]) -> Nginx:
    """nginx in the foreground with the site `python -m bot deploy nginx` prints for `servers`,
    its files under `directory`, logging which server took each request."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    site = nginx_site(
        rasa_servers=[f"{s.host}:{s.rasa_port}" for s in servers], helpdesk_servers=[], chat_listen=f"127.0.0.1:{port}"
    )
    (directory / "site.conf").write_text(site)
    log = directory / "access.log"
    (directory / "nginx.conf").write_text(
        f"""daemon off;
pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{ worker_connections 1024; }}
http {{
    log_format upstreams '$request_uri $upstream_addr $status';
    access_log {log} upstreams;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {directory}/site.conf;
}}
"""
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # it logs to error.log
    )
    nginx = Nginx(f"http://127.0.0.1:{port}", log, process)
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{nginx.url}/", timeout=2).status_code == 200:  # a Rasa server's "Hello from Rasa"
                return nginx
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            nginx.stop()
            raise RuntimeError(f"nginx did not start: {(directory / 'error.log').read_text(errors='replace')}")
        time.sleep(0.2)
