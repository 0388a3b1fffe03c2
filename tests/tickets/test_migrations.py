"""Alembic migrations go all the way down and up again, on SQLite and PostgreSQL."""

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from bot.tickets.db import MIGRATIONS_DIR, make_engine, migrate


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
