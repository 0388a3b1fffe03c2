"""The credentials file the launcher hands Rasa, and the settings check for half-configured channels."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import PROJECT_ROOT, Settings
from bot.launcher import rasa_environment, write_credentials, write_endpoints


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


def test_one_server_gets_endpoints_yml_as_it_is(tmp_path: Path) -> None:
    written = yaml.safe_load(write_endpoints(Settings(var_dir=tmp_path)).read_text())
    assert written == yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    assert written["tracker_store"]["db"] == "${SUPPORT_TRACKER_DB}"
    assert "lock_store" not in written
    assert rasa_environment(Settings(var_dir=tmp_path))["SUPPORT_REDIS_URL"] == ""  # the socket.io channel's


def test_several_servers_share_the_tracker_store_and_lock_store_without_a_password_on_disk(tmp_path: Path) -> None:
    settings = Settings(
        var_dir=tmp_path,
        tracker_store_url="postgresql+psycopg2://rasa:tracker-secret@db.internal:5433/conversations",
        redis_url="redis://:redis-secret@cache.internal:6380/2",
    )
    text = write_endpoints(settings).read_text()
    written = yaml.safe_load(text)
    assert written["tracker_store"] == {
        "type": "SQL",
        "dialect": "postgresql",  # Rasa's SQLAlchemy picks its own driver
        "db": "conversations",
        "url": "db.internal",
        "port": 5433,
        "username": "rasa",
        "password": "${SUPPORT_TRACKER_STORE_PASSWORD}",
    }
    assert written["lock_store"] == {
        "type": "channels.lock_store.AtomicRedisLockStore",
        "url": "cache.internal",
        "port": 6380,
        "db": 2,
        "key_prefix": "kestrel",
        "password": "${SUPPORT_REDIS_PASSWORD}",
    }
    assert written["action_endpoint"] == {"url": "${SUPPORT_ACTION_ENDPOINT_URL}"}
    assert "secret" not in text

    env = rasa_environment(settings)
    assert env["SUPPORT_TRACKER_STORE_PASSWORD"] == "tracker-secret"
    assert env["SUPPORT_REDIS_PASSWORD"] == "redis-secret"
    assert env["SUPPORT_REDIS_URL"] == "redis://:redis-secret@cache.internal:6380/2"


def test_a_redis_url_that_is_not_one_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SUPPORT_REDIS_URL must start with redis://"):
        write_endpoints(Settings(var_dir=tmp_path, redis_url="localhost:6379"))


def test_behind_balancers_each_kind_of_server_reaches_the_others_through_theirs(tmp_path: Path) -> None:
    alone = Settings(var_dir=tmp_path, host="127.0.0.1", rasa_port=5005, action_port=5055)
    assert alone.rasa_url == "http://127.0.0.1:5005"
    assert rasa_environment(alone)["SUPPORT_ACTION_ENDPOINT_URL"] == "http://127.0.0.1:5055/webhook"

    behind = Settings(
        var_dir=tmp_path, rasa_server_url="https://chat.example.com/", action_server_url="http://actions.internal:5055/"
    )
    assert behind.rasa_url == "https://chat.example.com"  # the helpdesk's pushes, the demo page's widget
    assert rasa_environment(behind)["SUPPORT_ACTION_ENDPOINT_URL"] == "http://actions.internal:5055/webhook"
