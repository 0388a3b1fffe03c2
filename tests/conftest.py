"""Shared fixtures: the real KB (built once), the trained model, one Rasa + action server stack."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Settings
from tests.channels.platform_apis import PlatformApis

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
        settings.kb_index_dir,
        threshold=settings.kb_answer_threshold,
        embedder=SentenceTransformerEmbedder(settings.embedding_model_path),
    )


def rasa_env() -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}


@pytest.fixture(scope="session")
def stack_kb_index(project_artifacts: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo KB plus one article carrying HTML, to prove every page renders it as text.

    Built from a copy of the real index, so only the extra article is embedded.
    """
    import shutil

    from bot.kb.embedding import SentenceTransformerEmbedder
    from bot.kb.index import build_index

    root = tmp_path_factory.mktemp("kb")
    source, index = root / "source", root / "index"
    shutil.copytree(Settings().kb_source_dir, source)
    shutil.copytree(PROJECT_ROOT / "tests" / "fixtures" / "kb_extra", source, dirs_exist_ok=True)
    shutil.copytree(Settings().kb_index_dir, index)
    embedder = SentenceTransformerEmbedder(Settings().embedding_model_path)
    report = build_index(source, index, embedder, pipeline=Settings().spacy_pipeline)
    assert not report.problems, report.problems
    return index


@pytest.fixture(scope="session")
def platform_apis() -> Iterator[PlatformApis]:
    """Stand-ins for Telegram's Bot API and Slack's Web API on loopback, recording what the bot sends."""
    apis = PlatformApis(telegram_bot_username="kestrel_test_bot").start()
    try:
        yield apis
    finally:
        apis.stop()


@pytest.fixture(scope="session")
def stack_settings(
    tmp_path_factory: pytest.TempPathFactory, stack_kb_index: Path, platform_apis: PlatformApis
) -> Settings:
    var = tmp_path_factory.mktemp("var")
    return Settings(
        kb_index_dir=stack_kb_index,
        # The copy the index was built from: the console's Help centre buttons edit these
        # articles, never the repository's data/kb.
        kb_source_dir=stack_kb_index.parent / "source",
        rasa_port=free_port(),
        action_port=free_port(),
        helpdesk_port=free_port(),
        rasa_token="test-token",
        widget_identity_secret="test-identity-secret",
        # Short enough for a test to see "nobody is free", long enough to pick a chat up first.
        handoff_timeout_minutes=0.25,
        var_dir=var,
        tracker_db=var / "tracker.db",
        # Telegram and Slack on, talking to the loopback stand-ins (tests/channels/).
        telegram_token="7000000001:AAtest-token-for-the-stand-in",
        telegram_bot_name=platform_apis.telegram_bot_username,
        telegram_webhook_url="https://support.kestrelhome.example/webhooks/telegram/webhook",
        telegram_secret_token="test-telegram-secret",
        telegram_api_url=platform_apis.telegram_url,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret="test-slack-signing-secret",
        slack_api_url=platform_apis.slack_url,
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
