"""Rasa's socket.io channel, sending each bot message whole.

Rasa's `SocketIOOutput` splits every text at blank lines and emits each part as a message of
its own, so one KB answer ("Here's what I found in **Title**:", the passage, the article link)
reached the widget as three bubbles and three socket.io events. This channel emits one event
per bot message with its paragraphs inside, and the buttons on it; the widget draws the
paragraphs (widget/src/markdown.js), and the chat history (bot/web/widget.py) is cut the same
way, so a reload redraws exactly what was shown live. A turn's messages are also queued
together and on their way before Rasa goes on (see `_send_message` and `flush`). Everything
else (sessions, JWT, the `socketio` name that pushes use as `output_channel`) is Rasa's own.

With several Rasa servers (docs/deploy.md), a widget's socket lives in one of them while an agent's
reply may be pushed through another's HTTP API. Rasa 3.6 keeps the sockets' rooms in the process,
so that push would be lost; given `redis_url` (credentials.yml), the channel shares its rooms
through python-socketio's Redis manager, and an emit on any server reaches the socket wherever it is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from engineio import packet as engineio_packet
from rasa.core.channels import socketio as rasa_socketio
from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint
from socketio import packet as socketio_packet

__all__ = ["SocketIOInput", "WholeMessageOutput", "share_rooms_through_redis"]


# How long Rasa waits, at most, for a socket's writer to take a turn's messages (a closed socket's
# writer never does); past it the turn goes on and the messages stay queued.
FLUSH_TIMEOUT_S = 0.5


class WholeMessageOutput(rasa_socketio.SocketIOOutput):
    def __init__(self, sio: socketio.AsyncServer, bot_message_evt: str) -> None:
        super().__init__(sio, bot_message_evt)
        self.queued_to: set[str] = set()  # engineio sockets this turn's messages were queued for

    async def _send_message(self, socket_id: str, response: Any) -> None:
        """Queue the event for the socket's writer without giving the event loop away.

        python-socketio's `emit` hands each packet to a task of its own and waits for it, so every
        emit let whatever else was ready run first: under load, other conversations' work came
        between a KB answer and its "Did this solve it?" (40 ms p95 at 50 customers, timed at the
        server's writer; docs/benchmarks.md). On one server the rooms are in this process and the
        packet goes straight onto the socket's queue, as that task would have put it; `flush` then
        waits once for the whole turn. With the Redis manager an emit is published to every
        server, so it stays python-socketio's own.
        """
        if type(self.sio.manager) is not socketio.AsyncManager:
            await super()._send_message(socket_id, response)
            return
        self.queued_to.update(await queue_event(self.sio, self.bot_message_evt, response, room=socket_id))

    async def flush(self) -> None:
        """Wait until the sockets' writers have taken what this turn queued, then let Rasa go on.

        Rasa's server calls it once after a turn's messages (channels/rasa_server.py, fix 6).
        Without it, Rasa predicts and saves the tracker right after the messages without yielding,
        and the answer waited behind that work. A single yield is not enough: engineio's writer
        waits on its queue through `asyncio.wait_for`, which takes three turns of the event loop to
        wake it. A queue's `join` returns once the writer has taken every packet (engineio's
        `poll` marks each done), and the writer sends them in the same step.
        """
        sockets = [socket for sid in self.queued_to if (socket := self.sio.eio.sockets.get(sid)) is not None]
        self.queued_to.clear()
        if not sockets:
            await asyncio.sleep(0)  # through Redis: the emit has already left this process
            return
        # A closed or stalled socket: its messages stay queued, and the conversation goes on.
        # (asyncio's TimeoutError is not the built-in one before Python 3.11, Rasa's Python.)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(socket.queue.join() for socket in sockets)), FLUSH_TIMEOUT_S)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"text": text.strip()})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        quick_replies = [
            {"content_type": "text", "title": button["title"], "payload": button["payload"]} for button in buttons
        ]
        await self._send_message(recipient_id, {"text": text.strip(), "quick_replies": quick_replies})


async def queue_event(server: socketio.AsyncServer, event: str, data: Any, room: str) -> list[str]:
    """`server.emit(event, data, room=room)` as python-socketio 5.9's `AsyncManager.emit` does it
    (no callback, default namespace), with each packet handed to engineio here instead of in a task.
    engineio's `send_packet` only puts the packet on the socket's queue: it never waits.
    Returns the engineio sockets it was queued for."""
    namespace = "/"
    if namespace not in server.manager.rooms:
        return []  # no socket has connected yet
    encoded = server.packet_class(socketio_packet.EVENT, namespace=namespace, data=[event, data]).encode()
    parts = encoded if isinstance(encoded, list) else [encoded]  # a list when the data holds bytes
    recipients = [engineio_sid for _sid, engineio_sid in server.manager.get_participants(namespace, room)]
    for engineio_sid in recipients:
        for part in parts:
            await server._send_eio_packet(engineio_sid, engineio_packet.Packet(engineio_packet.MESSAGE, part))
    return recipients


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
