"""Timing socket.io turns inside the Rasa server, for the conversations benchmark.

A simulated customer's clock includes its own client: 50 socket.io clients in one process on
the same two cores as the servers. To tell the server's share from the client's, the bench asks
the Rasa server (environment `SUPPORT_SOCKET_FRAME_LOG=<file>`) to write one line when a
customer's message arrives and one when each bot message leaves through the websocket:

    recv <engineio sid> <time.monotonic()> <the socket.io packet, JSON>
    write <engineio sid> <time.monotonic()>

`time.monotonic()` is CLOCK_MONOTONIC on Linux, one clock for every process, so the bench can
compare these times with its own (bot/bench/socket_frames.py). Lines go out one by one (line
buffered): a write costs a few microseconds, small beside a turn's 20-80 ms. Off unless asked.
"""

from __future__ import annotations

import os
import time
from typing import Any

__all__ = ["ENVIRONMENT_VARIABLE", "install_socket_frame_log_if_asked"]

ENVIRONMENT_VARIABLE = "SUPPORT_SOCKET_FRAME_LOG"


class _TimedWebsocket:
    """engineio's websocket, with a line written after each bot message it sends."""

    def __init__(self, websocket: Any, engineio_sid: str, log) -> None:
        self._websocket, self._engineio_sid, self._log = websocket, engineio_sid, log

    def __getattr__(self, name: str) -> Any:
        return getattr(self._websocket, name)

    async def send(self, data: Any) -> None:
        await self._websocket.send(data)
        # An engineio MESSAGE (4) carrying a socket.io EVENT (2): '42["bot_uttered",{...}]'.
        if isinstance(data, str) and data.startswith('42["bot_uttered"'):
            self._log.write(f"write {self._engineio_sid} {time.monotonic():.6f}\n")


def install_socket_frame_log_if_asked() -> None:
    path = os.environ.get(ENVIRONMENT_VARIABLE)
    if not path:
        return
    from engineio.async_socket import AsyncSocket

    log = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the server's life
    receive, websocket_handler = AsyncSocket.receive, AsyncSocket._websocket_handler

    async def timed_receive(self: AsyncSocket, pkt: Any) -> Any:
        if isinstance(pkt.data, str) and pkt.data.startswith('2["user_uttered"'):
            log.write(f"recv {self.sid} {time.monotonic():.6f} {pkt.data[1:]}\n")
        return await receive(self, pkt)

    async def timed_websocket_handler(self: AsyncSocket, ws: Any) -> Any:
        return await websocket_handler(self, _TimedWebsocket(ws, self.sid, log))

    AsyncSocket.receive = timed_receive  # type: ignore[method-assign]
    AsyncSocket._websocket_handler = timed_websocket_handler  # type: ignore[method-assign]
