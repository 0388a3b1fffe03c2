"""Shared fixtures: the real KB (built once), the trained model, one Rasa + action server stack."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Settings

RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def project_artifacts() -> None:
    """The KB index and the trained model, rebuilt by make only when their sources changed."""
    subprocess.run(["make", "-s", "index", "train"], cwd=PROJECT_ROOT, check=True)


@pytest.fixture(scope="session")
def demo_kb(project_artifacts: None):
    """The demo help centre's index with the real embedding model, loaded once."""
    from bot.kb.embedding import SentenceTransformerEmbedder
    from bot.kb.search import KnowledgeBase

    settings = Settings()
    return KnowledgeBase.load(
        settings.kb_index_dir, threshold=settings.kb_answer_threshold, embedder=SentenceTransformerEmbedder()
    )


def rasa_env() -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}


@pytest.fixture(scope="session")
def stack_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    var = tmp_path_factory.mktemp("var")
    return Settings(
        rasa_port=free_port(),
        action_port=free_port(),
        helpdesk_port=free_port(),
        rasa_token="test-token",
        # Short enough for a test to see "nobody is free", long enough to pick a chat up first.
        handoff_timeout_minutes=0.25,
        var_dir=var,
        tracker_db=var / "tracker.db",
    )


@pytest.fixture(scope="session")
def running_stack(project_artifacts: None, stack_settings: Settings) -> Iterator[Settings]:
    """One Rasa server, action server and helpdesk for all end-to-end tests."""
    from bot.launcher import start_stack

    stack = start_stack(stack_settings, on_progress=lambda _line: None)
    try:
        yield stack_settings
    finally:
        stack.stop()


def rasa_cmd(*args: str, cwd: Path = PROJECT_ROOT, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RASA_BIN), *args], cwd=cwd, env=rasa_env(), capture_output=True, text=True, timeout=timeout
    )


class _Inbox:
    """Messages a real SMTP server on loopback received."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    """aiosmtpd on a free loopback port for the whole run; tests read `inbox.messages`."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()
