"""The widget's history is cut from Rasa's events the way the socket.io channel sends them live."""

from __future__ import annotations

from bot.web.widget import history_from_events

KB_ANSWER = (
    "Here's what I found in **Reset your password**:\n\nOpen the app and tap Forgot password.\n\n"
    "Read the full article: [Reset your password](https://help.example/articles/reset-password)"
)
FEEDBACK = {"title": "Yes, that solved it", "payload": "/affirm"}


def test_one_bot_event_is_one_message_with_its_paragraphs_and_buttons() -> None:
    events = [
        {"event": "user", "text": "forgot my password", "timestamp": 1_700_000_000.0},
        {"event": "slot", "name": "kb_topic", "value": "forgot my password", "timestamp": 1_700_000_000.1},
        {"event": "bot", "text": KB_ANSWER, "data": {}, "timestamp": 1_700_000_000.2},
        {"event": "bot", "text": "Did this solve it?", "data": {"buttons": [FEEDBACK]}, "timestamp": 1_700_000_000.3},
        {"event": "user", "text": "/affirm", "timestamp": 1_700_000_001.0},
    ]
    history = history_from_events(events)
    assert [(m.sender, m.text) for m in history] == [
        ("customer", "forgot my password"),
        ("bot", KB_ANSWER),
        ("bot", "Did this solve it?"),
        ("customer", "Yes, that solved it"),  # a click is shown by the button's title
    ]
    assert [b.title for b in history[2].buttons] == ["Yes, that solved it"]
    assert history[1].buttons == []


def test_a_bot_event_with_nothing_to_draw_is_left_out() -> None:
    events = [{"event": "bot", "text": "  \n\n ", "data": {}, "timestamp": 1_700_000_000.0}]
    assert history_from_events(events) == []
