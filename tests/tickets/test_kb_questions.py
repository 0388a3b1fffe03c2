"""The record of KB questions and the gaps report, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from bot.tickets.db import make_engine, make_sessions
from bot.tickets.kb_questions import KBQuestionLog, gaps_report, resolve, unanswered_question
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


def test_questions_a_moment_apart_are_saved_together_after_the_turns_that_asked_them(store: TicketStore) -> None:
    """The writer waits BATCH_SECONDS (1 s) after a question, so it does not compete with the
    turn that asked it for the interpreter, and a busy moment's questions share one transaction."""
    commits: list[int] = []
    engine = store.sessions.kw["bind"]
    event.listen(engine, "commit", lambda connection: commits.append(1))
    log = KBQuestionLog(store.sessions)
    log.record("c1", "first question", "answered")
    time.sleep(0.1)  # long after the writer woke for the first: a tenth of BATCH_SECONDS
    log.record("c2", "second question", "escalated")
    log.flush()
    assert len(commits) == 1
    # Without a flush the writer saves it on its own, a second or so later.
    log.record("c3", "third question", "answered")
    deadline = time.monotonic() + 10
    while len(_saved_questions(store)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _saved_questions(store) == ["first question", "second question", "third question"]


def _saved_questions(store: TicketStore) -> list[str]:
    with store.sessions() as session:
        return list(session.scalars(select(KBQuestion.question).order_by(KBQuestion.id)))


def test_resolved_questions_leave_the_list_but_still_count(store: TicketStore) -> None:
    log = KBQuestionLog(store.sessions)
    log.record("c1", "can the doorbell play a melody", "escalated", article_id="doorbell-battery", score=1.2)
    log.record("c2", "does the doorbell come in red", "escalated", article_id="doorbell-battery", score=1.1)
    log.record("c3", "can i unlock by sms", "escalated", article_id="account-locked", score=1.0)
    log.flush()
    ids = {u.question: u.id for u in gaps_report(store.sessions).unanswered}
    with store.sessions.begin() as session:
        melody = unanswered_question(ids["can the doorbell play a melody"], session=session)
        resolve(
            melody, resolution="not_answered", article_id="doorbell-battery", by="agent:ann@x.example", session=session
        )
        sms = unanswered_question(ids["can i unlock by sms"], session=session)
        resolve(sms, resolution="taught", article_id="two-factor", by="agent:ann@x.example", session=session)

    report = gaps_report(store.sessions)
    assert [u.question for u in report.unanswered] == ["does the doorbell come in red"]
    assert report.unanswered_by_article == {"doorbell-battery": 1}
    assert report.counts["escalated"] == 3  # what customers got does not change
    assert report.as_dict()["unanswered"][0]["id"] == ids["does the doorbell come in red"]
    assert [u.question for u in gaps_report(store.sessions, closest_to="account-locked").unanswered] == []
    with store.sessions() as session:
        row = session.get(KBQuestion, ids["can i unlock by sms"])
        assert (row.resolution, row.resolved_article, row.resolved_by) == (
            "taught",
            "two-factor",
            "agent:ann@x.example",
        )
        assert row.resolved_at is not None and row.resolved_at.tzinfo is not None


def test_only_unanswered_questions_can_be_resolved(store: TicketStore) -> None:
    log = KBQuestionLog(store.sessions)
    log.record("c1", "how do i reset my password", "answered", article_id="reset-password", score=2.1)
    log.flush()
    with store.sessions.begin() as session:
        (answered_id,) = session.scalars(select(KBQuestion.id))
        assert unanswered_question(answered_id, session=session) is None
        assert unanswered_question(answered_id + 1000, session=session) is None
    with store.sessions.begin() as session, pytest.raises(ValueError, match="unknown resolution 'fixed'"):
        resolve(KBQuestion(), resolution="fixed", article_id="x", by="agent:a@x.example", session=session)


def test_answers_said_no_to_are_listed_until_an_admin_deals_with_them(store: TicketStore) -> None:
    log = KBQuestionLog(store.sessions)
    log.record("c1", "how do i reset my password", "answered", article_id="reset-password", score=2.1)
    log.record("c1", "how do i reset my password", "not_helpful", article_id="reset-password")
    log.record("c2", "doorbell battery stuck", "not_helpful", article_id="account-locked")
    log.flush()
    report = gaps_report(store.sessions)
    assert [(u.question, u.closest_article) for u in report.said_no] == [
        ("doorbell battery stuck", "account-locked"),
        ("how do i reset my password", "reset-password"),
    ]
    assert report.unanswered == []  # answered, then "No": not among the unanswered
    assert [u.question for u in gaps_report(store.sessions, closest_to="reset-password").said_no] == [
        "how do i reset my password"
    ]
    assert report.as_dict()["said_no"][0]["article_given"] == "account-locked"
    with store.sessions.begin() as session:
        row = unanswered_question(report.said_no[0].id, session=session)  # "No" answers can be resolved too
        resolve(row, resolution="dismissed", article_id=None, by="agent:ann@x.example", session=session)
    assert [u.question for u in gaps_report(store.sessions).said_no] == ["how do i reset my password"]
