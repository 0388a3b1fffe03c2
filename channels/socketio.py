"""Rasa's socket.io channel, sending each bot message whole.

Rasa's `SocketIOOutput` splits every text at blank lines and emits each part as a message of
its own, so one KB answer ("Here's what I found in **Title**:", the passage, the article link)
reached the widget as three bubbles and three socket.io events. This channel emits one event
per bot message with its paragraphs inside, and the buttons on it; the widget draws the
paragraphs (widget/src/markdown.js), and the chat history (bot/web/widget.py) is cut the same
way, so a reload redraws exactly what was shown live. A turn's messages are also on their way
before Rasa goes on (see `flush`). Everything else (sessions, JWT, the
`socketio` name that pushes use as `output_channel`) is Rasa's own.

With several Rasa servers (docs/deploy.md), a widget's socket lives in one of them while an agent's
reply may be pushed through another's HTTP API. Rasa 3.6 keeps the sockets' rooms in the process,
so that push would be lost; given `redis_url` (credentials.yml), the channel shares its rooms
through python-socketio's Redis manager, and an emit on any server reaches the socket wherever it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from rasa.core.channels import socketio as rasa_socketio
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint

__all__ = ["SocketIOInput", "WholeMessageOutput", "share_rooms_through_redis"]


class WholeMessageOutput(rasa_socketio.SocketIOOutput):
    async def flush(self) -> None:
        """Let the connection's writer send what was emitted, before Rasa goes on.

        An emit only queues the event for the connection's writer task, and Rasa predicts and
        saves after a turn's messages without yielding to the event loop: without this, a KB
        answer waited 5-9 ms behind that work (one customer alone; more under load). Rasa's
        server calls it once after a turn's messages (channels/rasa_server.py, fix 6), so the
        answer and its "Did this solve it?" leave together; a yield after each message let other
        conversations' work run between them (docs/benchmarks.md, "Fix: each socket.io message
        leaves when it is sent", and "Fix: a turn's socket.io messages leave together").
        """
        await asyncio.sleep(0)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"text": text.strip()})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        quick_replies = [
            {"content_type": "text", "title": button["title"], "payload": button["payload"]} for button in buttons
        ]
        await self._send_message(recipient_id, {"text": text.strip(), "quick_replies": quick_replies})


class SocketIOInput(rasa_socketio.SocketIOInput):
    # Set from credentials.yml; None: the rooms stay in this process (one Rasa server).
    redis_url: str | None = None

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SocketIOInput:
        channel = super().from_credentials(credentials)
        channel.redis_url = (credentials or {}).get("redis_url") or None
        return channel

    def get_output_channel(self) -> OutputChannel | None:
        """For pushes through the HTTP API (`output_channel=socketio`): None when Rasa's is."""
        if super().get_output_channel() is None:
            return None
        return WholeMessageOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Rasa's message handler builds its own output channel for each message; it is swapped
        # here rather than copying the handler (sessions, JWT checks) out of Rasa.
        async def with_whole_messages(message: UserMessage) -> Any:
            if isinstance(message.output_channel, rasa_socketio.SocketIOOutput):
                message.output_channel = WholeMessageOutput(message.output_channel.sio, self.bot_message_evt)
            return await on_new_message(message)

        blueprint = super().blueprint(with_whole_messages)
        if self.redis_url:
            share_rooms_through_redis(self.sio, self.redis_url)
        return blueprint


# Every Rasa server of one deployment must publish and listen on the same Redis channel.
REDIS_CHANNEL = "kestrel-socketio"


def share_rooms_through_redis(sio: socketio.AsyncServer, redis_url: str) -> None:
    """Give Rasa's socket.io server a Redis client manager instead of its in-process one.

    Rasa builds the server inside `blueprint()` without a way to pass a manager; python-socketio
    sets a server's manager up only on the first connection, so swapping it before then is the
    same as having passed it to the constructor.
    """
    if sio.manager_initialized:
        raise RuntimeError("the socket.io server already has clients; its manager can no longer change")
    manager = socketio.AsyncRedisManager(redis_url, channel=REDIS_CHANNEL)
    manager.set_server(sio)
    sio.manager = manager
