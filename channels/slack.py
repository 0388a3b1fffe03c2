"""Rasa's Slack connector with a configurable Web API URL, no duplicate replies to retries, and
the bot's Markdown sent as Slack's mrkdwn (channels/markup.py).

Rasa 3.6's `SlackInput` already refuses requests whose `X-Slack-Signature` does not match
the signing secret (Slack's v0 scheme, five-minute replay window); that stays as it is.

The events already handled are kept in the process, or, given `redis_url` (several Rasa servers
behind a load balancer, docs/deploy.md), in Redis, so a retry that lands on another server is
recognised too.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from rasa.core.channels import slack as rasa_slack
from rasa.core.channels.channel import UserMessage
from sanic import response
from sanic.request import Request
from slack_sdk.web.async_client import AsyncWebClient

from channels.markup import slack_mrkdwn

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
# Slack retries an event up to three times within about an hour; a few thousand ids cover that.
SEEN_EVENTS_KEPT = 5000
# In Redis, each handled event's id is kept for two hours.
SEEN_EVENT_SECONDS = 2 * 60 * 60
SEEN_EVENT_KEY = "kestrel:slack-event:"


class SlackBot(rasa_slack.SlackBot):
    """Rasa's Slack output channel, talking to the Web API at `api_url`."""

    def __init__(
        self,
        token: str,
        slack_channel: str | None = None,
        thread_id: str | None = None,
        proxy: str | None = None,
        *,
        api_url: str = DEFAULT_API_URL,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        # slack_sdk joins method names to base_url, so it must end with a slash.
        self.client = AsyncWebClient(token, proxy=proxy, base_url=api_url.rstrip("/") + "/")

    async def _post_message(self, channel: str, **kwargs: Any) -> None:
        # Every message Rasa posts comes through here. The bot's Markdown becomes mrkdwn, or Slack
        # shows "**Reset your password**" and "[label](https://...)" as typed; the question above
        # buttons, which Rasa sends as plain text, becomes mrkdwn too (buttons' own titles stay plain).
        if isinstance(kwargs.get("text"), str):
            kwargs["text"] = slack_mrkdwn(kwargs["text"])
        if kwargs.get("blocks"):
            kwargs["blocks"] = [_as_mrkdwn(block) for block in kwargs["blocks"]]
        await super()._post_message(channel, **kwargs)


def _as_mrkdwn(block: dict[str, Any]) -> dict[str, Any]:
    """A section block of plain text (Rasa's text above buttons) as mrkdwn; any other block as it is."""
    text = block.get("text") if block.get("type") == "section" else None
    if isinstance(text, dict) and text.get("type") == "plain_text":
        return {**block, "text": {"type": "mrkdwn", "text": slack_mrkdwn(str(text.get("text", "")))}}
    return block


class SlackInput(rasa_slack.SlackInput):
    """credentials.yml keys: Rasa's (slack_token, slack_signing_secret, slack_channel, ...)
    and optionally api_url (default: Slack's)."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SlackInput:
        channel = super().from_credentials(credentials)
        assert isinstance(channel, SlackInput)
        channel.api_url = (credentials or {}).get("api_url") or DEFAULT_API_URL
        channel.redis_url = (credentials or {}).get("redis_url") or None
        # An empty SLACK_CHANNEL means "reply where the customer wrote".
        channel.slack_channel = channel.slack_channel or None
        return channel

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api_url = DEFAULT_API_URL
        self.redis_url: str | None = None
        self._redis: Any = None  # made on first use, inside the server's event loop
        self._seen_event_ids: OrderedDict[str, None] = OrderedDict()

    def get_output_channel(self, channel: str | None = None, thread_id: str | None = None) -> SlackBot:
        return SlackBot(self.slack_token, channel or self.slack_channel, thread_id, self.proxy, api_url=self.api_url)

    async def process_message(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        sender_id: str | None,
        metadata: dict | None,
    ) -> Any:
        # Rasa skips retries only for the reason "http_timeout". Slack retries for other
        # reasons too, and a retry of an event that did arrive would be answered twice; one
        # that never arrived must still be answered. Slack's event_id tells them apart.
        event_id = self._event_id(request)
        if event_id is not None and not await self._first_time(event_id):
            logger.info(
                "Slack retry #%s of %s ignored: already handled", request.headers.get(self.retry_num_header), event_id
            )
            return response.text("", status=HTTPStatus.OK, headers={"X-Slack-No-Retry": "1"})
        return await super().process_message(request, on_new_message, text, sender_id, metadata)

    async def _first_time(self, event_id: str) -> bool:
        """Note the event as handled; False when it already was, here or on another server."""
        if self.redis_url:
            try:
                if self._redis is None:
                    from redis import asyncio as redis_asyncio

                    self._redis = redis_asyncio.from_url(self.redis_url)
                # SET NX: only the first server to see this id sets it.
                return bool(await self._redis.set(SEEN_EVENT_KEY + event_id, 1, nx=True, ex=SEEN_EVENT_SECONDS))
            except Exception:  # Redis unreachable: answering a retry twice beats not answering at all
                logger.exception("Redis unreachable; Slack event %s checked in this server only", event_id)
        if event_id in self._seen_event_ids:
            return False
        self._seen_event_ids[event_id] = None
        while len(self._seen_event_ids) > SEEN_EVENTS_KEPT:
            self._seen_event_ids.popitem(last=False)
        return True

    @staticmethod
    def _event_id(request: Request) -> str | None:
        if request.headers.get("content-type") != "application/json":
            return None  # interactive payloads (button clicks) carry no event_id
        body = request.json
        return body.get("event_id") if isinstance(body, dict) else None
