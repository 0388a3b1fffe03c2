"""The helpdesk app on its own SQLite database, with an admin, two agents and three tickets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.tickets.store import TicketStore
from bot.tickets.users import UserDirectory
from bot.web.app import create_app
from tests.tickets.test_store import new_ticket


@dataclass
class Helpdesk:
    client: TestClient
    store: TicketStore
    admin: dict[str, str]
    billing_agent: dict[str, str]
    any_agent: dict[str, str]
    billing_ref: str
    technical_ref: str


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def running_helpdesk(settings: Settings) -> Iterator[Helpdesk]:
    app = create_app(settings)
    store: TicketStore = app.state.store
    directory = UserDirectory(store.sessions)
    tokens = {}
    for email, role, team in [
        ("admin@kestrel.example", "admin", None),
        ("bea@kestrel.example", "agent", "Billing"),
        ("tom@kestrel.example", "agent", None),
    ]:
        user = directory.create(email, "correct horse battery", role=role, team=team)
        tokens[email] = directory.issue_token(user.id, "tests")
    billing, _ = store.create(
        new_ticket(summary="Charged twice", category="billing", team="Billing", conversation_id="c1")
    )
    technical, _ = store.create(new_ticket(summary="Camera offline", conversation_id="c2"))
    with TestClient(app) as client:
        yield Helpdesk(
            client,
            store,
            bearer(tokens["admin@kestrel.example"]),
            bearer(tokens["bea@kestrel.example"]),
            bearer(tokens["tom@kestrel.example"]),
            billing.reference,
            technical.reference,
        )
    store.close()


@pytest.fixture
def helpdesk(tmp_path: Path) -> Iterator[Helpdesk]:
    # No KB source folder: no test edits the demo's articles by accident (tests that add
    # questions from the console give their own copy).
    settings = Settings(var_dir=tmp_path, kb_source_dir=tmp_path / "no-kb-here", outbox_enabled=False, _env_file=None)
    with running_helpdesk(settings) as desk:
        yield desk
