"""Slack through the real Rasa server: signed Events API payloads in, Web API calls out
(to the loopback stand-in), bad signatures refused, retries answered once, pushes delivered."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.config import Settings
from bot.notify.rasa_push import RasaPusher
from tests.channels.platform_apis import ApiCall, PlatformApis

pytestmark = pytest.mark.e2e

RESET_PASSWORD_URL = "https://help.kestrelhome.example/articles/reset-password"
TEAM_ID = "T0KESTREL"
BOT_USER_ID = "U0KESTRELBOT"


def new_user_id() -> str:
    return "U" + uuid.uuid4().hex[:10].upper()


def dm_event(user_id: str, text: str) -> dict[str, Any]:
    """A direct message to the app, as the Events API posts it (event_callback envelope)."""
    ts = f"{time.time():.6f}"
    channel = "D" + user_id[1:]
    return {
        "token": "verification-token-unused",
        "team_id": TEAM_ID,
        "api_app_id": "A0KESTREL",
        "event": {
            "client_msg_id": str(uuid.uuid4()),
            "type": "message",
            "text": text,
            "user": user_id,
            "ts": ts,
            "team": TEAM_ID,
            "blocks": [],
            "channel": channel,
            "event_ts": ts,
            "channel_type": "im",
        },
        "type": "event_callback",
        "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ",
    }


def signed_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 signature: HMAC-SHA256 of "v0:<timestamp>:<body>" with the signing secret."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def post_event(settings: Settings, event: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    body = json.dumps(event).encode()
    assert settings.slack_signing_secret
    headers = headers if headers is not None else signed_headers(settings.slack_signing_secret, body)
    return httpx.post(f"{settings.rasa_url}/webhooks/slack/webhook", content=body, headers=headers, timeout=30)


def retry_headers(settings: Settings, event: dict[str, Any], reason: str) -> dict[str, str]:
    """Slack's retry of `event`: the same body (same event_id), newly signed, with the retry headers."""
    assert settings.slack_signing_secret
    body = json.dumps(event).encode()
    return {
        **signed_headers(settings.slack_signing_secret, body),
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": reason,
    }


def posted_to(apis: PlatformApis, channel: str) -> list[ApiCall]:
    return [c for c in apis.calls("slack", "chat.postMessage") if c.params.get("channel") == channel]


def wait_for_post(apis: PlatformApis, channel: str, containing: str) -> ApiCall:
    return apis.wait_for(
        "slack",
        lambda c: (
            c.method == "chat.postMessage"
            and c.params.get("channel") == channel
            and containing in c.params.get("text", "")
        ),
    )


def test_kb_question_in_a_dm_is_answered_in_that_dm(running_stack: Settings, platform_apis: PlatformApis) -> None:
    user = new_user_id()
    event = dm_event(user, "how do i reset my password")
    assert post_event(running_stack, event).status_code == 200

    channel = event["event"]["channel"]
    answer = wait_for_post(platform_apis, channel, RESET_PASSWORD_URL)
    assert answer.headers["Authorization"] == f"Bearer {running_stack.slack_bot_token}"
    # In Slack's mrkdwn, not as the bot's Markdown: the customer sees bold and a link, no marks.
    shown = "\n".join(c.params.get("text", "") for c in posted_to(platform_apis, channel))
    assert "*Reset your password*" in shown and f"<{RESET_PASSWORD_URL}|Reset your password>" in shown
    assert "**" not in shown and "](" not in shown
    feedback = wait_for_post(platform_apis, channel, "Did this solve it?")
    assert feedback.params["blocks"][0]["text"] == {"type": "mrkdwn", "text": "Did this solve it?"}
    buttons = feedback.params["blocks"][1]["elements"]
    assert [(b["text"]["text"], b["value"]) for b in buttons] == [("Yes, that solved it", "/affirm"), ("No", "/deny")]


def button_click(user_id: str, channel: str, value: str) -> dict[str, Any]:
    """A click on a button of a bot message, as Slack's Interactivity posts it (block_actions)."""
    ts = f"{time.time():.6f}"
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "ada", "name": "ada", "team_id": TEAM_ID},
        "api_app_id": "A0KESTREL",
        "team": {"id": TEAM_ID, "domain": "kestrel"},
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "text": "Did this solve it?", "user": BOT_USER_ID, "ts": ts},
        "trigger_id": "1.2.3",
        "response_url": "https://hooks.slack.invalid/actions/T0KESTREL/1/2",
        "actions": [
            {
                "type": "button",
                "block_id": "b1",
                "action_id": "a1",
                "text": {"type": "plain_text", "text": "x"},
                "value": value,
                "action_ts": ts,
            }
        ],
    }


def test_pressing_a_button_answers_in_the_same_conversation(
    running_stack: Settings, platform_apis: PlatformApis
) -> None:
    user = new_user_id()
    event = dm_event(user, "how do i reset my password")
    channel = event["event"]["channel"]
    assert post_event(running_stack, event).status_code == 200
    wait_for_post(platform_apis, channel, "Did this solve it?")

    body = urlencode({"payload": json.dumps(button_click(user, channel, "/affirm"))}).encode()
    assert running_stack.slack_signing_secret
    headers = {
        **signed_headers(running_stack.slack_signing_secret, body),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    clicked = httpx.post(f"{running_stack.rasa_url}/webhooks/slack/webhook", content=body, headers=headers, timeout=30)
    assert clicked.status_code == 200
    wait_for_post(platform_apis, channel, "glad that solved it")


def test_badly_signed_request_is_refused_and_never_reaches_the_bot(
    running_stack: Settings, platform_apis: PlatformApis
) -> None:
    user = new_user_id()
    forged = dm_event(user, "forged: how do i reset my password")
    body = json.dumps(forged).encode()
    assert running_stack.slack_signing_secret
    wrong_secret = signed_headers("not-the-signing-secret", body)
    too_old = signed_headers(running_stack.slack_signing_secret, body, timestamp=int(time.time()) - 600)
    unsigned = {"Content-Type": "application/json"}
    for headers in (wrong_secret, too_old, unsigned):
        assert post_event(running_stack, forged, headers).status_code == 400

    # A genuine message afterwards is answered; the tracker shows it is the only one Rasa saw.
    genuine = dm_event(user, "hello")
    assert post_event(running_stack, genuine).status_code == 200
    wait_for_post(platform_apis, genuine["event"]["channel"], "support assistant")
    pusher = RasaPusher(running_stack.rasa_url, running_stack.rasa_token)
    customer_said = [m["text"] for m in pusher.conversation_messages(user) if m["sender"] == "customer"]
    assert customer_said == ["hello"]
    assert RESET_PASSWORD_URL not in " ".join(
        c.params.get("text", "") for c in posted_to(platform_apis, genuine["event"]["channel"])
    )


@pytest.mark.parametrize("reason", ["http_timeout", "http_error", "connection_failed"])
def test_slack_retry_of_a_handled_event_is_not_answered_twice(
    running_stack: Settings, platform_apis: PlatformApis, reason: str
) -> None:
    user = new_user_id()
    event = dm_event(user, "how do i reset my password")
    channel = event["event"]["channel"]
    assert post_event(running_stack, event).status_code == 200
    wait_for_post(platform_apis, channel, "Did this solve it?")

    retried = post_event(running_stack, event, retry_headers(running_stack, event, reason))
    assert retried.is_success
    assert retried.headers.get("X-Slack-No-Retry") == "1"

    # Messages of one conversation are handled in order: once the next one is answered,
    # a reply to the retry would already have been sent.
    later = dm_event(user, "hello")
    assert post_event(running_stack, later).status_code == 200
    wait_for_post(platform_apis, channel, "support assistant")
    texts = [c.params["text"] for c in posted_to(platform_apis, channel)]
    assert texts.count("Did this solve it?") == 1
    assert sum(RESET_PASSWORD_URL in t for t in texts) == 1


def test_a_retry_of_an_event_that_never_arrived_is_answered(
    running_stack: Settings, platform_apis: PlatformApis
) -> None:
    user = new_user_id()
    event = dm_event(user, "hello")
    assert post_event(running_stack, event, retry_headers(running_stack, event, "http_error")).status_code == 200
    wait_for_post(platform_apis, event["event"]["channel"], "support assistant")


def test_bot_s_own_messages_are_not_answered(running_stack: Settings, platform_apis: PlatformApis) -> None:
    user = new_user_id()
    echo = dm_event(user, "Did this solve it?")
    echo["event"]["bot_id"] = "B0KESTREL"
    assert post_event(running_stack, echo).status_code == 200
    assert RasaPusher(running_stack.rasa_url, running_stack.rasa_token).conversation_messages(user) == []


def test_pushed_agent_reply_and_triggered_message_reach_the_user(
    running_stack: Settings, platform_apis: PlatformApis
) -> None:
    user = new_user_id()
    event = dm_event(user, "hello")
    assert post_event(running_stack, event).status_code == 200
    wait_for_post(platform_apis, event["event"]["channel"], "support assistant")
    pusher = RasaPusher(running_stack.rasa_url, running_stack.rasa_token)

    # A push has no incoming event to reply to: Slack delivers a message to a user id as a DM.
    pusher.say(user, "slack", "Hi Ada, Lea from support here: your refund is on its way.")
    wait_for_post(platform_apis, user, "Lea from support here")
    pusher.trigger(user, "slack", "greet", {})
    wait_for_post(platform_apis, user, "support assistant")
