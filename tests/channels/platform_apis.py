"""Telegram's Bot API and Slack's Web API, stood in for on loopback: the far side of a network
this machine cannot reach. Every call the bot makes is recorded; answers are shaped like the
real APIs' so aiogram and slack_sdk accept them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["ApiCall", "PlatformApis"]

TELEGRAM_BOT_ID = 7000000001


@dataclass
class ApiCall:
    platform: str  # "telegram" or "slack"
    method: str  # "sendMessage", "chat.postMessage", ...
    params: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class PlatformApis:
    """One loopback HTTP server: Telegram under /telegram, Slack under /slack/api/."""

    def __init__(self, telegram_bot_username: str) -> None:
        self.telegram_bot_username = telegram_bot_username
        self._calls: list[ApiCall] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def telegram_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/telegram"

    @property
    def slack_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/slack/api/"

    def start(self) -> PlatformApis:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def calls(self, platform: str, method: str | None = None) -> list[ApiCall]:
        with self._lock:
            return [c for c in self._calls if c.platform == platform and method in (None, c.method)]

    def wait_for(self, platform: str, matches: Callable[[ApiCall], bool], *, timeout: float = 60.0) -> ApiCall:
        """The first recorded call of `platform` that `matches`, waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls(platform) if matches(c)]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching {platform} call in {timeout} s; got {self.calls(platform)}")
            time.sleep(0.05)

    def record(self, call: ApiCall) -> None:
        with self._lock:
            self._calls.append(call)

    def answer(self, call: ApiCall) -> dict[str, Any]:
        if call.platform == "slack":
            if call.method == "chat.postMessage":
                ts = f"{time.time():.6f}"
                return {"ok": True, "channel": call.params.get("channel"), "ts": ts, "message": {"text": "", "ts": ts}}
            return {"ok": True}
        if call.method == "getMe":
            result: Any = {
                "id": TELEGRAM_BOT_ID,
                "is_bot": True,
                "first_name": "Kestrel support",
                "username": self.telegram_bot_username,
            }
        elif call.method.startswith("send"):
            result = {
                "message_id": len(self._calls),
                "date": int(time.time()),
                "chat": {"id": int(call.params.get("chat_id", 0)), "type": "private"},
                "from": {"id": TELEGRAM_BOT_ID, "is_bot": True, "first_name": "Kestrel support"},
                "text": call.params.get("text", ""),
            }
        else:  # setWebhook and the like
            result = True
        return {"ok": True, "result": result}


def _handler_for(apis: PlatformApis) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = self.path.strip("/").split("/")
            if parts[0] == "telegram" and len(parts) == 3:  # /telegram/bot<token>/<method>
                call = ApiCall("telegram", parts[2], _params(self.headers.get("Content-Type", ""), body))
                call.params["token"] = parts[1].removeprefix("bot")
            elif parts[:2] == ["slack", "api"] and len(parts) == 3:  # /slack/api/<method>
                call = ApiCall("slack", parts[2], _params(self.headers.get("Content-Type", ""), body))
            else:
                self.send_error(404)
                return
            call.headers = dict(self.headers.items())
            apis.record(call)
            payload = json.dumps(apis.answer(call)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST  # aiogram and slack_sdk only POST; GET calls are recorded all the same

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest's output clean

    return Handler


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    if content_type.startswith("application/json"):
        return json.loads(body or b"{}")
    params: dict[str, Any] = dict(parse_qsl(body.decode()))
    # Telegram takes nested objects (reply_markup) as JSON strings inside the form.
    if "reply_markup" in params:
        params["reply_markup"] = json.loads(params["reply_markup"])
    return params
