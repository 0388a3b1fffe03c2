"""The server's share of socket.io latency, from the Rasa server's frame log.

channels/socket_frame_log.py writes a line when a customer's message reaches the Rasa server
and one when each bot message leaves it. A turn is a message and the bot messages that leave
on the same socket before its next message. Per kind of message (by its text), this gives
the server's time from the message to the turn's last bot message, and from its first bot
message to its last: what the simulated customers measured, minus their own client.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.bench.common import latency_summary

__all__ = ["ServerTurn", "read_turns", "server_side_figures"]


@dataclass
class ServerTurn:
    text: str
    received_at: float
    sent_at: list[float] = field(default_factory=list)


def read_turns(log_path: Path) -> list[ServerTurn]:
    """Every turn in the log, each with the times its bot messages left (maybe none)."""
    turns: list[ServerTurn] = []
    open_turn: dict[str, ServerTurn] = {}
    if not log_path.exists():
        return turns
    for line in log_path.read_text(encoding="utf-8").splitlines():
        what, sid, at, *rest = line.split(" ", 3)
        if what == "recv":
            payload = json.loads(rest[0])[1]  # ["user_uttered", {"message": ..., "session_id": ...}]
            open_turn[sid] = ServerTurn(str(payload.get("message", "")), float(at))
            turns.append(open_turn[sid])
        elif what == "write" and sid in open_turn:
            open_turn[sid].sent_at.append(float(at))
    return turns


def server_side_figures(
    turns: list[ServerTurn], kind_of_text: dict[str, str], started: float, ended: float
) -> dict[str, Any]:
    """Per kind, for the turns whose message arrived between `started` and `ended` (monotonic):
    message to last bot message, and first to last bot message, in milliseconds."""
    whole: dict[str, list[float]] = defaultdict(list)
    first_to_last: dict[str, list[float]] = defaultdict(list)
    for turn in turns:
        kind = kind_of_text.get(turn.text)
        if kind is None or not turn.sent_at or not started <= turn.received_at <= ended:
            continue
        whole[kind].append((turn.sent_at[-1] - turn.received_at) * 1000)
        first_to_last[kind].append((turn.sent_at[-1] - turn.sent_at[0]) * 1000)
    return {
        kind: {**latency_summary(whole[kind]), "first_to_last_part": latency_summary(first_to_last[kind])}
        for kind in whole
    }
