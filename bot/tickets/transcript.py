"""The conversation an agent reads: taken from the Rasa tracker's events, personal data masked.

Rendering for agents (`tickets export`): Markdown, JSON or HTML, the HTML fully escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bot.privacy import mask_personal_data


def transcript_from_events(
    events: Iterable[dict[str, Any]], *, own_email: str | None = None, pipeline: str = "blank:en"
) -> list[dict[str, str]]:
    """Every customer and bot message of a Rasa tracker, in order, with ISO UTC times.

    Button clicks arrive as payloads ("/affirm"); the transcript shows the intent name so the
    agent still sees the answer ("[affirm]").
    """
    lines = []
    for event in events:
        kind = event.get("event")
        if kind not in ("user", "bot"):
            continue
        text = (event.get("text") or "").strip()
        if not text:
            continue
        if kind == "user" and text.startswith("/"):
            text = f"[{text[1:].split('{', 1)[0]}]"
        lines.append(
            {
                "sender": "customer" if kind == "user" else "bot",
                "text": mask_personal_data(text, own_email=own_email, pipeline=pipeline),
                "at": _iso(event.get("timestamp")),
            }
        )
    return lines


def customer_words(transcript: list[dict[str, str]]) -> list[str]:
    """What the customer typed (button clicks left out)."""
    return [line["text"] for line in transcript if line["sender"] == "customer" and not line["text"].startswith("[")]


def _iso(timestamp: Any) -> str:
    if isinstance(timestamp, int | float):
        return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
    return datetime.now(UTC).isoformat(timespec="seconds")


def render(ticket: dict[str, Any], fmt: str) -> str:
    """A ticket (as from `TicketView.to_dict`) with its transcript, as md, json or html."""
    if fmt == "json":
        return json.dumps(ticket, indent=2, ensure_ascii=False)
    if fmt == "md":
        return _markdown(ticket)
    if fmt == "html":
        return _html(ticket)
    raise ValueError(f"unknown format '{fmt}': use md, json or html")


_FIELDS = ("status", "priority", "category", "team", "customer_email", "channel", "created_at")


def _markdown(ticket: dict[str, Any]) -> str:
    out = [f"# {ticket['reference']}: {ticket['summary']}", ""]
    out += [f"- **{name.replace('_', ' ')}**: {ticket.get(name) or ''}" for name in _FIELDS]
    if ticket.get("order_ref"):
        out.append(f"- **order or account**: {ticket['order_ref']}")
    out += ["", "## Description", "", ticket.get("description") or "", "", "## Transcript", ""]
    for line in ticket.get("transcript") or []:
        out.append(f"**{line['sender']}** ({line['at']}): {line['text']}  ")
    return "\n".join(out) + "\n"


def _html(ticket: dict[str, Any]) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><th>{e(name.replace('_', ' '))}</th><td>{e(str(ticket.get(name) or ''))}</td></tr>" for name in _FIELDS
    )
    lines = "".join(
        f'<li class="{e(line["sender"])}"><b>{e(line["sender"])}</b> '
        f"<time>{e(line['at'])}</time><p>{e(line['text'])}</p></li>"
        for line in ticket.get("transcript") or []
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(ticket['reference'])}</title></head><body>"
        f"<h1>{e(ticket['reference'])}: {e(ticket['summary'])}</h1><table>{rows}</table>"
        f"<h2>Description</h2><p>{e(ticket.get('description') or '')}</p>"
        f"<h2>Transcript</h2><ol>{lines}</ol></body></html>\n"
    )
