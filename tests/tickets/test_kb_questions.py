"""The record of KB questions and the gaps report, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.tickets.db import make_engine, make_sessions
from bot.tickets.kb_questions import KBQuestionLog, gaps_report
from bot.tickets.models import KBQuestion
from bot.tickets.store import TicketStore

CARD = "4111 1111 1111 1111"


def test_the_report_lists_what_the_bot_could_not_answer_and_what_did_not_help(store: TicketStore) -> None:
    log = KBQuestionLog(store.sessions)
    log.record(
        "c1", "how do i reset my password", "answered", channel="socketio", article_id="reset-password", score=2.1
    )
    log.record("c1", "how do i reset my password", "not_helpful", article_id="reset-password")
    log.record("c2", "forgot my password", "answered", article_id="reset-password", score=1.9)
    log.record("c2", "forgot my password", "solved", article_id="reset-password")
    log.record("c3", "can the doorbell play a melody", "escalated", article_id="doorbell-battery", score=1.2)
    log.record(
        "c4", f"do you sell spare doorbell batteries, card {CARD}, mail ann@example.com", "escalated",
        article_id="doorbell-battery", score=1.3,
    )  # fmt: skip
    log.record("c5", "what's the weather in Paris", "off_topic", article_id="camera-offline", score=0.2)
    log.flush()

    report = gaps_report(store.sessions, days=30)
    assert report.counts == {"answered": 2, "solved": 1, "not_helpful": 1, "escalated": 2, "off_topic": 1}
    assert report.questions == 5 and report.share("escalated") == pytest.approx(0.4)
    assert report.solved_share == pytest.approx(0.5)
    newest = report.unanswered[0]
    assert [u.question for u in report.unanswered][1] == "can the doorbell play a melody"
    # Personal data is masked before it is stored: the report is read by people.
    assert CARD not in newest.question and "ann@example.com" not in newest.question
    assert newest.question.startswith("do you sell spare doorbell batteries")
    assert (newest.closest_article, newest.score) == ("doorbell-battery", pytest.approx(1.3))
    assert report.unanswered_by_article == {"doorbell-battery": 2}
    (password,) = report.articles
    assert (password.article_id, password.answered, password.solved, password.not_helpful) == (
        "reset-password",
        2,
        1,
        1,
    )
    assert password.not_helpful_share == pytest.approx(0.5)


def test_only_the_chosen_days_count(store: TicketStore) -> None:
    with store.sessions.begin() as session:
        session.add(
            KBQuestion(
                asked_at=datetime.now(UTC) - timedelta(days=40),
                conversation_id="old",
                channel="rest",
                question="an old question",
                outcome="escalated",
            )
        )
    log = KBQuestionLog(store.sessions)
    log.record("new", "a new question", "escalated")
    log.flush()
    assert [u.question for u in gaps_report(store.sessions, days=30).unanswered] == ["a new question"]
    assert len(gaps_report(store.sessions, days=60).unanswered) == 2


def test_an_unknown_outcome_is_refused(sqlite_url: str) -> None:
    log = KBQuestionLog(make_sessions(make_engine(sqlite_url)))
    with pytest.raises(ValueError, match="unknown outcome"):
        log.record("c", "q", "solved-maybe")


def test_a_database_that_cannot_take_them_is_logged_and_nothing_waits(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No tables (never migrated): the rows are lost for the report, and said so in the log."""
    log = KBQuestionLog(make_sessions(make_engine(f"sqlite:///{tmp_path / 'empty.db'}")))
    with caplog.at_level(logging.ERROR, logger="bot.tickets.kb_questions"):
        log.record("c", "q", "escalated")
        log.flush()
    assert "could not record 1 KB question(s)" in caplog.text
