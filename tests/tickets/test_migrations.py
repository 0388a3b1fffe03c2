"""Alembic migrations go all the way down and up again, on SQLite and PostgreSQL."""

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import column, insert, inspect, table, text
from sqlalchemy.exc import IntegrityError

from bot.tickets.db import MIGRATIONS_DIR, make_engine, make_sessions, migrate
from bot.tickets.kb_questions import gaps_report, resolve, unanswered_question
from bot.tickets.models import UTCDateTime


def test_migrations_downgrade_and_upgrade_cleanly(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        assert {"tickets", "ticket_events", "users", "api_tokens", "outbox"} <= set(inspect(engine).get_table_names())
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert not {"tickets", "users", "outbox"} & set(inspect(engine).get_table_names())
        migrate(engine)
        migrate(engine)  # a second upgrade is a no-op
        columns = {c["name"] for c in inspect(engine).get_columns("tickets")}
        assert {"stale_warned_at", "rating", "assignee_id"} <= columns
    finally:
        engine.dispose()


def test_the_kb_question_resolution_migration_keeps_the_questions_recorded_before_it(database_url: str) -> None:
    """A database at 0005 with questions in it (a helpdesk before this change) upgrades to the head;
    its questions stay, unresolved, and can be resolved."""
    engine = make_engine(database_url)
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0005")
        # The table as 0005 made it: the model of today has columns it has not.
        before = table(
            "kb_questions",
            *(column(name) for name in ("conversation_id", "channel", "question", "outcome", "article_id", "score")),
            column("asked_at", UTCDateTime()),
        )
        with engine.begin() as connection:
            connection.execute(
                insert(before).values(
                    asked_at=datetime.now(UTC),
                    conversation_id="c1",
                    channel="socketio",
                    question="can the doorbell play a tune",
                    outcome="escalated",
                    article_id="doorbell-battery",
                    score=1.2,
                )
            )
        migrate(engine)
        columns = {c["name"] for c in inspect(engine).get_columns("kb_questions")}
        assert {"resolution", "resolved_article", "resolved_by", "resolved_at", "question", "score"} <= columns
        sessions = make_sessions(engine)
        (old,) = gaps_report(sessions).unanswered
        assert (old.question, old.closest_article) == ("can the doorbell play a tune", "doorbell-battery")
        with sessions.begin() as session:
            row = unanswered_question(old.id, session=session)
            resolve(
                row, resolution="not_answered", article_id="doorbell-battery", by="agent:a@x.example", session=session
            )
        assert gaps_report(sessions).unanswered == []
        with pytest.raises(IntegrityError), engine.begin() as connection:  # the database checks the value too
            connection.execute(text("UPDATE kb_questions SET resolution = 'fixed'"))
    finally:
        engine.dispose()
