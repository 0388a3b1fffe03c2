"""The credentials file the launcher hands Rasa, and the settings check for half-configured channels."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import Settings
from bot.launcher import rasa_environment, write_credentials


def test_without_tokens_rasa_gets_only_rest_and_socketio(tmp_path: Path) -> None:
    written = yaml.safe_load(
        write_credentials(Settings(var_dir=tmp_path, telegram_token=None, slack_bot_token=None)).read_text()
    )
    assert list(written) == ["rest", "channels.socketio.SocketIOInput"]


def test_configured_channels_are_added_and_their_secrets_stay_out_of_the_file(tmp_path: Path) -> None:
    settings = Settings(
        var_dir=tmp_path,
        telegram_token="123:telegram-token-value",
        telegram_bot_name="kestrel_bot",
        telegram_webhook_url="https://support.example/webhooks/telegram/webhook",
        telegram_secret_token="telegram-secret-value",
        slack_bot_token="xoxb-slack-token-value",
        slack_signing_secret="slack-signing-secret-value",
    )
    text = write_credentials(settings).read_text()
    written = yaml.safe_load(text)
    assert list(written) == [
        "rest",
        "channels.socketio.SocketIOInput",
        "channels.telegram.TelegramInput",
        "channels.slack.SlackInput",
    ]
    assert written["channels.telegram.TelegramInput"]["secret_token"] == "${TELEGRAM_SECRET_TOKEN}"
    assert "value" not in text  # Rasa expands the ${VAR}s from its environment

    env = rasa_environment(settings)
    assert env["TELEGRAM_SECRET_TOKEN"] == "telegram-secret-value"
    assert env["SLACK_SIGNING_SECRET"] == "slack-signing-secret-value"
    assert env["SLACK_CHANNEL"] == ""  # optional: set empty so Rasa can expand ${SLACK_CHANNEL}
    assert env["TELEGRAM_API_URL"] == "https://api.telegram.org"


def test_only_the_configured_channel_is_added(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, telegram_token=None, slack_bot_token="xoxb-1", slack_signing_secret="s")
    assert list(yaml.safe_load(write_credentials(settings).read_text())) == [
        "rest",
        "channels.socketio.SocketIOInput",
        "channels.slack.SlackInput",
    ]


def test_platform_variable_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_TOKEN", "123:abc")
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)  # the platform's name would win
    monkeypatch.setenv("SUPPORT_SLACK_SIGNING_SECRET", "from-the-prefixed-name")
    settings = Settings()
    assert settings.telegram_token == "123:abc"
    assert settings.slack_signing_secret == "from-the-prefixed-name"
    assert settings.as_environment()["TELEGRAM_TOKEN"] == "123:abc"


def test_telegram_without_its_secret_token_is_refused() -> None:
    settings = Settings(
        telegram_token="123:abc", telegram_bot_name="b", telegram_webhook_url="https://x", telegram_secret_token=None
    )
    with pytest.raises(ValueError, match="TELEGRAM_TOKEN is set but not TELEGRAM_SECRET_TOKEN; set it too"):
        settings.check()


def test_slack_without_its_signing_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="SLACK_BOT_TOKEN is set but not SLACK_SIGNING_SECRET"):
        Settings(telegram_token=None, slack_bot_token="xoxb-1", slack_signing_secret=None).check()
