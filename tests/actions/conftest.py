"""Every action test records KB questions (and looks for open tickets) in a database of its own,
never the project's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import actions.kb_actions as kb_actions
import actions.ticket_actions as ticket_actions
from bot.tickets.kb_questions import KBQuestionLog
from bot.tickets.store import TicketStore
from tests.tickets.conftest import SLA


@pytest.fixture(autouse=True)
def question_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[KBQuestionLog, TicketStore]]:
    store = TicketStore(f"sqlite:///{tmp_path / 'kb_questions.db'}", SLA)
    log = KBQuestionLog(store.sessions)
    monkeypatch.setattr(kb_actions, "question_log", lambda: log)
    monkeypatch.setattr(ticket_actions, "ticket_store", lambda: store)  # a test's own `store` fixture overrides it
    yield log, store
    log.flush()
    store.close()
