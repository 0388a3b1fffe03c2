"""Telegram through the real Rasa server: recorded webhook updates in, Bot API calls out
(to the loopback stand-in), the secret-token header enforced, pushes delivered."""

from __future__ import annotations

import random
import time
from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.notify.rasa_push import RasaPusher
from tests.channels.platform_apis import ApiCall, PlatformApis

pytestmark = pytest.mark.e2e

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RESET_PASSWORD_URL = "https://help.kestrelhome.example/articles/reset-password"


def new_chat_id() -> int:
    return random.randint(10**8, 10**10)


def text_update(chat_id: int, text: str) -> dict[str, Any]:
    """A private-chat text message, as Telegram posts it to the webhook."""
    now = int(time.time())
    person = {"id": chat_id, "is_bot": False, "first_name": "Ada", "username": "ada_l", "language_code": "en"}
    return {
        "update_id": random.randint(10**8, 10**9),
        "message": {
            "message_id": random.randint(1, 10**6),
            "from": person,
            "chat": {"id": chat_id, "first_name": "Ada", "username": "ada_l", "type": "private"},
            "date": now,
            "text": text,
        },
    }


def button_update(chat_id: int, data: str) -> dict[str, Any]:
    """A press on an inline-keyboard button of an earlier bot message (a callback query)."""
    person = {"id": chat_id, "is_bot": False, "first_name": "Ada", "username": "ada_l", "language_code": "en"}
    return {
        "update_id": random.randint(10**8, 10**9),
        "callback_query": {
            "id": str(random.randint(10**17, 10**18)),
            "from": person,
            "message": {
                "message_id": random.randint(1, 10**6),
                "from": {"id": 7000000001, "is_bot": True, "first_name": "Kestrel support"},
                "chat": {"id": chat_id, "first_name": "Ada", "type": "private"},
                "date": int(time.time()),
                "text": "Did this solve it?",
            },
            "chat_instance": str(random.randint(10**17, 10**18)),
            "data": data,
        },
    }


def post_update(settings: Settings, update: dict[str, Any], *, secret: str | None) -> httpx.Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return httpx.post(f"{settings.rasa_url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=60)


def sent_to(apis: PlatformApis, chat_id: int) -> list[ApiCall]:
    return [c for c in apis.calls("telegram", "sendMessage") if c.params.get("chat_id") == str(chat_id)]


def test_setwebhook_registered_the_url_and_the_secret_at_start(
    running_stack: Settings, platform_apis: PlatformApis
) -> None:
    (call,) = platform_apis.calls("telegram", "setWebhook")
    assert call.params["url"] == running_stack.telegram_webhook_url
    assert call.params["secret_token"] == running_stack.telegram_secret_token
    assert call.params["token"] == running_stack.telegram_token


def test_kb_question_is_answered_with_the_article_and_buttons(
    running_stack: Settings, platform_apis: PlatformApis
) -> None:
    chat_id = new_chat_id()
    answer = post_update(
        running_stack, text_update(chat_id, "how do i reset my password"), secret=running_stack.telegram_secret_token
    )
    assert answer.status_code == 200, answer.text

    # The Telegram connector answers the webhook after the bot has spoken.
    sent = sent_to(platform_apis, chat_id)
    assert RESET_PASSWORD_URL in "\n".join(c.params["text"] for c in sent)
    # In Telegram's HTML, not as the bot's Markdown: the customer sees bold and a link, no marks.
    answer_parts = [c.params for c in sent if c.params["text"] != "Did this solve it?"]
    assert all(part["parse_mode"] == "HTML" for part in answer_parts)
    shown = "\n".join(part["text"] for part in answer_parts)
    assert "<b>Reset your password</b>" in shown
    assert f'<a href="{RESET_PASSWORD_URL}">Reset your password</a>' in shown
    assert "**" not in shown and "](" not in shown
    feedback = sent[-1]
    assert feedback.params["text"] == "Did this solve it?"
    buttons = feedback.params["reply_markup"]["inline_keyboard"][0]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [("Yes, that solved it", "/affirm"), ("No", "/deny")]

    # Pressing "Yes" arrives as a callback query and reaches the same conversation.
    before = len(sent)
    assert post_update(
        running_stack, button_update(chat_id, "/affirm"), secret=running_stack.telegram_secret_token
    ).is_success
    assert "glad that solved it" in " ".join(c.params["text"] for c in sent_to(platform_apis, chat_id)[before:])


@pytest.mark.parametrize("secret", [None, "", "test-telegram-secreT", "wrong"])
def test_update_without_the_right_secret_is_refused(
    running_stack: Settings, platform_apis: PlatformApis, secret: str | None
) -> None:
    chat_id = new_chat_id()
    refused = post_update(running_stack, text_update(chat_id, "hello"), secret=secret)
    assert refused.status_code == 401
    # Nothing reached the bot: the conversation is empty and nothing was sent to the chat.
    pusher = RasaPusher(running_stack.rasa_url, running_stack.rasa_token)
    assert pusher.conversation_messages(str(chat_id)) == []
    assert sent_to(platform_apis, chat_id) == []


def test_webhook_health_check_needs_no_secret(running_stack: Settings) -> None:
    assert httpx.get(f"{running_stack.rasa_url}/webhooks/telegram/", timeout=10).json() == {"status": "ok"}


def test_set_webhook_route_needs_the_secret(running_stack: Settings) -> None:
    # Anyone who could call it would re-register the webhook; it stays behind the secret.
    assert httpx.post(f"{running_stack.rasa_url}/webhooks/telegram/set_webhook", timeout=10).status_code == 401


def test_pushed_agent_reply_and_triggered_message_reach_the_chat(
    running_stack: Settings, platform_apis: PlatformApis
) -> None:
    chat_id = new_chat_id()
    assert post_update(
        running_stack, text_update(chat_id, "hello"), secret=running_stack.telegram_secret_token
    ).is_success
    pusher = RasaPusher(running_stack.rasa_url, running_stack.rasa_token)

    pusher.say(str(chat_id), "telegram", "Hi Ada, Lea from support here: your refund is on its way.")
    assert (
        sent_to(platform_apis, chat_id)[-1].params["text"]
        == "Hi Ada, Lea from support here: your refund is on its way."
    )

    # trigger_intent is how status updates are pushed: the bot's own reaction, in the chat.
    pusher.trigger(str(chat_id), "telegram", "greet", {})
    assert "support assistant" in sent_to(platform_apis, chat_id)[-1].params["text"]
