"""Rasa's Telegram connector with Telegram's webhook secret checked, the bot's Markdown sent as
Telegram's HTML (channels/markup.py), and a configurable API URL.

Rasa 3.6's `TelegramInput` accepts any POST to its webhook. Telegram proves a webhook call
is its own with the `X-Telegram-Bot-Api-Secret-Token` header when `setWebhook` was given a
`secret_token`; this subclass registers that secret and refuses requests without it.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from rasa.core.channels import telegram as rasa_telegram
from rasa.core.channels.channel import UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request

from channels.markup import telegram_html

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_API_URL = "https://api.telegram.org"
# What Telegram accepts as a secret_token (https://core.telegram.org/bots/api#setwebhook).
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class TelegramOutput(rasa_telegram.TelegramOutput):
    """Sends through the Bot API at `api_url`, and always registers the webhook with its secret."""

    def __init__(self, access_token: str, api_url: str, secret_token: str) -> None:
        # The parent's __init__ cannot pass `server`; aiogram's Bot takes it.
        Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(api_url))
        self.secret_token = secret_token

    async def set_webhook(self, url: str, **_ignored: Any) -> bool:  # type: ignore[override]
        # aiogram 2.15 predates `secret_token`, so the call is made by method name. Every caller
        # (start-up and Rasa's /set_webhook route) goes through here: a webhook set without
        # the secret would make Telegram stop sending the header and every update be refused.
        return bool(await self.request("setWebhook", {"url": url, "secret_token": self.secret_token}))

    async def send_message(self, chat_id: Any, text: str, parse_mode: str | None = None, **kwargs: Any) -> Any:
        # Every text Rasa sends (answers, buttons' questions, pushed agent replies) comes through
        # here. Without a parse mode Telegram shows the bot's Markdown as typed ("**Reset your
        # password**", "[label](https://...)"); a caller's own parse mode is left as it is.
        if parse_mode is None:
            text, parse_mode = telegram_html(text), "HTML"
        return await super().send_message(chat_id, text, parse_mode, **kwargs)


class TelegramInput(rasa_telegram.TelegramInput):
    """credentials.yml keys: access_token, verify (the bot's username), webhook_url,
    secret_token, and optionally api_url (default: Telegram's)."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        secret = str(credentials.get("secret_token") or "")
        if not SECRET_PATTERN.fullmatch(secret):
            # The value itself is a secret: name the rule, not the value.
            raise RasaException(
                "telegram: `secret_token` must be 1-256 characters of A-Z, a-z, 0-9, _ and -; "
                f"got {len(secret)} characters"
            )
        return cls(
            credentials.get("access_token"),
            credentials.get("verify"),
            credentials.get("webhook_url"),
            secret_token=secret,
            api_url=credentials.get("api_url") or DEFAULT_API_URL,
        )

    def __init__(
        self,
        access_token: str | None,
        verify: str | None,
        webhook_url: str | None,
        *,
        secret_token: str,
        api_url: str = DEFAULT_API_URL,
    ) -> None:
        # debug_mode=False: an error while handling one update is logged, not a 500 that
        # makes Telegram redeliver the same update again and again.
        super().__init__(access_token, verify, webhook_url, debug_mode=False)
        self.secret_token = secret_token
        self.api_url = api_url
        self._output: TelegramOutput | None = None

    def get_output_channel(self) -> TelegramOutput:
        # Rasa's version calls `asyncio.run(set_webhook(...))` here, which fails inside the
        # server's running loop (every push with ?output_channel=telegram) and binds the HTTP
        # session to a loop that is then closed. One output channel, its session opened lazily
        # in the server's loop; the webhook is set once, at start-up (see `blueprint`).
        if self._output is None:
            self._output = TelegramOutput(self.access_token, self.api_url, self.secret_token)
        return self._output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = super().blueprint(on_new_message)

        @telegram_webhook.listener("before_server_start")
        async def register_webhook(_app: Any, _loop: Any) -> None:
            # Failing here stops the server with the reason, as Rasa's own connector does:
            # a wrong token or URL should be seen at start-up, not as a silent bot.
            try:
                await self.get_output_channel().set_webhook(self.webhook_url)
            except Exception as error:
                raise RasaException(f"telegram: setWebhook failed: {error}") from error
            logger.info("Telegram webhook set to %s", self.webhook_url)

        @telegram_webhook.middleware("request")
        async def require_secret(request: Request) -> response.HTTPResponse | None:
            if request.method == "GET" and request.path.rstrip("/").endswith("/telegram"):
                return None  # the health check
            given = request.headers.get(SECRET_HEADER, "")
            # Constant-time, so the secret cannot be guessed from response times.
            if hmac.compare_digest(given.encode(), self.secret_token.encode()):
                return None
            logger.warning("Refused a Telegram webhook request without the right %s header", SECRET_HEADER)
            return response.text("missing or wrong secret token", status=HTTPStatus.UNAUTHORIZED)

        return telegram_webhook
