"""The bot's last question, read from its buttons: what a customer's next message answers.

Each button carries its intent (and entities) in its payload, so the buttons say which question
was asked: "Did this solve it?", the ticket offer, "Shall I add this to SUP-...?".
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker

__all__ = [
    "button_intent",
    "by_intent",
    "last_question_button_list",
    "last_question_buttons",
    "previous_customer_text",
]


def button_intent(payload: str) -> tuple[str, dict[str, Any]]:
    """("ticket_solved", {"ticket_ref": "SUP-000001"}) for '/ticket_solved{"ticket_ref":"SUP-000001"}'."""
    if not payload.startswith("/"):
        return "", {}
    name, _, raw_entities = payload[1:].partition("{")
    try:
        entities = json.loads("{" + raw_entities) if raw_entities else {}
    except json.JSONDecodeError:
        entities = {}
    return name.strip(), entities if isinstance(entities, dict) else {}


def last_question_button_list(tracker: Tracker) -> list[dict[str, Any]]:
    """The buttons of the bot's latest message with buttons since the customer's previous
    message; empty when the bot asked nothing since (a yes or no out of the blue)."""
    events = tracker.events or []
    user_positions = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if not user_positions:
        return []
    end = user_positions[-1]  # the "yes" or "no" being answered
    start = user_positions[-2] if len(user_positions) > 1 else -1
    for event in reversed(events[start + 1 : end]):
        buttons = ((event.get("data") or {}).get("buttons") or []) if event.get("event") == "bot" else []
        if buttons:
            return list(buttons)
    return []


def last_question_buttons(tracker: Tracker) -> dict[str, dict[str, Any]]:
    """The same buttons by intent: {"ticket_solved": {"ticket_ref": "SUP-000001"}, ...}."""
    return by_intent(last_question_button_list(tracker))


def by_intent(buttons: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return dict(button_intent(str(b.get("payload") or "")) for b in buttons)


def previous_customer_text(tracker: Tracker) -> str:
    """What the customer wrote before their latest message (the one answering the question)."""
    texts = [str(e.get("text") or "") for e in tracker.events or [] if e.get("event") == "user"]
    return texts[-2].strip() if len(texts) > 1 else ""
