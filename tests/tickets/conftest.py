"""A fresh ticket database per test: a SQLite file, and a PostgreSQL database of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from bot.tickets.sla import SlaPolicy
from bot.tickets.store import TicketStore

# The machine's PostgreSQL (trust auth on loopback); override for another server.
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SLA = SlaPolicy({"urgent": 1, "high": 4, "normal": 8, "low": 24}, {"urgent": 8, "high": 24, "normal": 72, "low": 120})


def _admin_connection():
    connection = psycopg2.connect(POSTGRES_ADMIN_URL)
    connection.autocommit = True
    return connection


@pytest.fixture
def postgres_url() -> Iterator[str]:
    name = f"test_tickets_{uuid.uuid4().hex[:12]}"
    connection = _admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        connection = _admin_connection()
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tickets.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def store(database_url: str) -> Iterator[TicketStore]:
    ticket_store = TicketStore(database_url, SLA)
    yield ticket_store
    ticket_store.close()
