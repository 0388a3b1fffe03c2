"""Through a real Rasa server and action server, over the REST channel."""

from __future__ import annotations

import uuid

import httpx
import pytest

from bot.config import Settings

pytestmark = pytest.mark.e2e


def say(settings: Settings, sender: str, text: str) -> list[dict]:
    response = httpx.post(
        f"{settings.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
    )
    response.raise_for_status()
    return response.json()


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def test_kb_question_gets_the_right_article(running_stack: Settings) -> None:
    messages = say(running_stack, f"e2e-{uuid.uuid4().hex}", "hey, i forgot my password and cant sign in")
    assert "https://help.kestrelhome.example/articles/reset-password" in texts(messages)
    assert messages[-1]["text"] == "Did this solve it?"
    assert [b["title"] for b in messages[-1]["buttons"]] == ["Yes, that solved it", "No"]


def test_out_of_scope_question_gets_the_honest_answer(running_stack: Settings) -> None:
    messages = say(running_stack, f"e2e-{uuid.uuid4().hex}", "do you also sell robot lawn mowers?")
    reply = texts(messages)
    assert "Here's what I found" not in reply
    assert "Did this solve it?" not in reply
    assert any(phrase in reply for phrase in ("rather not guess", "couldn't find", "outside what I can help with"))


def test_no_twice_ends_with_an_honest_answer_and_yes_is_acknowledged(running_stack: Settings) -> None:
    sender = f"e2e-{uuid.uuid4().hex}"
    say(running_stack, sender, "my doorbell battery drains really fast")
    second = texts(say(running_stack, sender, "/deny"))
    if "Did this solve it?" in second:  # a second article was offered
        assert "Maybe this one fits better" in second
        third = texts(say(running_stack, sender, "/deny"))
        assert "Sorry, I couldn't find an answer" in third
    else:
        assert "Sorry, I couldn't find an answer" in second
    say(running_stack, sender, "where is my order")
    assert "glad that solved it" in texts(say(running_stack, sender, "/affirm"))


def test_follow_up_question_uses_the_conversation(running_stack: Settings) -> None:
    sender = f"e2e-{uuid.uuid4().hex}"
    say(running_stack, sender, "how do i return something i bought")
    follow_up = texts(say(running_stack, sender, "and how long does that take?"))
    assert "Here's what I found" in follow_up
    assert "business days" in follow_up


def test_http_api_needs_the_token(running_stack: Settings) -> None:
    assert httpx.get(f"{running_stack.rasa_url}/status", timeout=10).status_code == 401
    ok = httpx.get(f"{running_stack.rasa_url}/status", params={"token": running_stack.rasa_token}, timeout=10)
    assert ok.status_code == 200


def test_greeting_and_helpdesk_health(running_stack: Settings) -> None:
    assert "support assistant" in texts(say(running_stack, f"e2e-{uuid.uuid4().hex}", "hello"))
    health = httpx.get(f"http://{running_stack.host}:{running_stack.helpdesk_port}/health", timeout=10)
    assert health.json() == {"status": "ok"}
