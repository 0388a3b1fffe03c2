"""Schemathesis against the helpdesk's own OpenAPI schema: whatever a client sends that the
schema allows, or almost allows, the API answers without a server error, and what it answers
for a success matches the schema it publishes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from bot.config import Settings
from bot.tickets.users import UserDirectory
from bot.web.app import create_app
from tests.tickets.test_store import new_ticket


def _helpdesk_with_data() -> tuple[object, str]:
    """The app on its own SQLite file, an admin's token, and two real tickets (so generated
    references sometimes hit one: SUP-000001, SUP-000002)."""
    folder = Path(tempfile.mkdtemp(prefix="kestrel-api-schema-"))
    app = create_app(Settings(var_dir=folder, outbox_enabled=False, _env_file=None))
    store = app.state.store
    directory = UserDirectory(store.sessions)
    admin = directory.create("admin@kestrel.example", "correct horse battery", role="admin")
    directory.create("tom@kestrel.example", "correct horse battery", role="agent")
    store.create(new_ticket(summary="Charged twice", category="billing", team="Billing", conversation_id="c1"))
    store.create(new_ticket(summary="Camera offline", conversation_id="c2"))
    return app, directory.issue_token(admin.id, "schemathesis")


# Built when the module is collected: schemathesis makes one test per operation from the schema.
APP, TOKEN = _helpdesk_with_data()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).include(path_regex="^/api/")


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_never_fails_with_a_server_error(case) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {TOKEN}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
