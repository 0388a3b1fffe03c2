"""Transcripts from Rasa tracker events, and their rendering for agents."""

from bot.tickets.transcript import customer_words, render, transcript_from_events

EVENTS = [
    {"event": "action", "name": "action_listen", "timestamp": 1764064800.0},
    {"event": "user", "text": "my card 4111 1111 1111 1111 was charged twice", "timestamp": 1764064801.0},
    {"event": "bot", "text": "I'm not sure about this one", "timestamp": 1764064802.0},
    {"event": "user", "text": "/open_ticket", "timestamp": 1764064803.0},
    {"event": "slot", "name": "ticket_email", "value": "x@y.z", "timestamp": 1764064804.0},
    {"event": "user", "text": "  ", "timestamp": 1764064805.0},
]


def test_every_message_in_order_masked_with_times() -> None:
    lines = transcript_from_events(EVENTS)
    assert lines == [
        {"sender": "customer", "text": "my card [card number] was charged twice", "at": "2025-11-25T10:00:01+00:00"},
        {"sender": "bot", "text": "I'm not sure about this one", "at": "2025-11-25T10:00:02+00:00"},
        {"sender": "customer", "text": "[open_ticket]", "at": "2025-11-25T10:00:03+00:00"},
    ]
    assert customer_words(lines) == ["my card [card number] was charged twice"]


def test_html_export_escapes_everything() -> None:
    ticket = {
        "reference": "SUP-000001",
        "summary": "<script>alert(1)</script>",
        "status": "new",
        "transcript": [{"sender": "customer", "text": "<img src=x onerror=alert(1)>", "at": "t"}],
    }
    page = render(ticket, "html")
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
