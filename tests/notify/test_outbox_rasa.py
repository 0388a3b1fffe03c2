"""The outbox against the real Rasa server: down at first, then back; the reply lands once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.notify.outbox import OutboxWorker
from bot.tickets.desk import Desk
from bot.tickets.models import utcnow
from bot.tickets.store import TicketStore
from bot.tickets.users import UserDirectory
from tests.tickets.test_store import new_ticket

pytestmark = pytest.mark.e2e


def test_a_reply_waits_for_rasa_to_come_back_and_lands_once(running_stack: Settings, tmp_path: Path) -> None:
    sender = f"outbox-{uuid.uuid4().hex}"
    # The customer is chatting (so the chat counts as reachable) ...
    httpx.post(
        f"{running_stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": "hello"}, timeout=60
    )
    # ... and this worker has its own ticket database, so the stack's own worker stays out of it.
    settings = running_stack.model_copy(update={"var_dir": tmp_path, "database_url": None})
    store = TicketStore.from_settings(settings)
    try:
        ticket, _ = store.create(new_ticket(channel="socketio", conversation_id=sender))
        agent = UserDirectory(store.sessions).create("sam@kestrel.example", "correct horse battery", name="Sam")
        Desk(store).reply(agent, ticket.reference, "Your replacement lock ships today.")

        down = OutboxWorker.from_settings(store, settings.model_copy(update={"rasa_port": 9}))
        now = utcnow()
        assert down.run_once(now) == 0  # Rasa is unreachable: kept for a retry

        back = OutboxWorker.from_settings(store, settings)
        assert back.run_once(now + timedelta(minutes=1)) == 1
        assert back.run_once(now + timedelta(hours=1)) == 0
    finally:
        store.close()

    tracker = httpx.get(
        f"{running_stack.rasa_url}/conversations/{sender}/tracker",
        params={"token": running_stack.rasa_token},
        timeout=30,
    ).json()
    pushed = [
        e for e in tracker["events"] if e["event"] == "bot" and "replacement lock ships today" in (e.get("text") or "")
    ]
    assert len(pushed) == 1
    assert pushed[0]["metadata"]["ticket_ref"] == ticket.reference
