"""The outbox worker: email over a real SMTP server, exactly once, retries, two workers at once."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.config import Settings
from bot.notify.outbox import OutboxWorker
from bot.tickets.desk import Desk
from bot.tickets.models import OutboxMessage, utcnow
from bot.tickets.sla import SlaPolicy
from bot.tickets.store import TicketStore
from bot.tickets.users import UserDirectory
from bot.web.app import create_app
from tests.tickets.conftest import SLA, postgres_url  # noqa: F401 - fixture
from tests.tickets.test_store import new_ticket


def settings_for(tmp_path: Path, smtp_port: int, **overrides) -> Settings:
    values = {
        "var_dir": tmp_path,
        "smtp_port": smtp_port,
        "rasa_port": 9,  # nothing listens there: any push attempt fails fast
        "outbox_enabled": False,
        "secret_key": "test-secret",
        "public_helpdesk_url": "http://helpdesk.test",
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


def rows(store: TicketStore) -> list[OutboxMessage]:
    with store.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
def desk_setup(tmp_path: Path, smtp_server):
    port, inbox = smtp_server
    inbox.messages.clear()
    settings = settings_for(tmp_path, port)
    store = TicketStore.from_settings(settings)
    agent = UserDirectory(store.sessions).create("sam@kestrel.example", "correct horse battery", name="Sam")
    yield settings, store, Desk(store), agent, inbox
    store.close()


def test_a_reply_to_a_rest_chat_goes_by_email_exactly_once(desk_setup) -> None:
    settings, store, desk, agent, inbox = desk_setup
    ticket, _ = store.create(new_ticket(channel="rest"))  # the REST channel cannot receive pushes
    desk.reply(agent, ticket.reference, "Please hold the reset button for 15 seconds.")
    worker = OutboxWorker.from_settings(store, settings)
    assert worker.run_once() == 1
    assert worker.run_once(utcnow() + timedelta(hours=1)) == 0  # nothing is sent twice
    (mail,) = inbox.messages
    assert mail["To"] == "ada@example.com"
    assert mail["Subject"] == f"Re: [{ticket.reference}] Camera offline since the router change"
    assert "Please hold the reset button for 15 seconds." in mail.get_content()
    (row,) = rows(store)
    assert (row.state, row.delivered_via, row.attempts) == ("delivered", "email", 1)


def test_a_resolved_ticket_emails_signed_rating_links_that_work(desk_setup) -> None:
    settings, store, desk, agent, inbox = desk_setup
    ticket, _ = store.create(new_ticket(channel="rest"))
    desk.set_status(agent, ticket.reference, "resolved", reason="Replaced under warranty")
    OutboxWorker.from_settings(store, settings).run_once()
    (mail,) = inbox.messages
    text = mail.get_content()
    assert "was marked resolved" in text
    link = next(line.split(": ", 1)[1] for line in text.splitlines() if line.strip().startswith("4 "))
    assert link.startswith("http://helpdesk.test/feedback/") and link.endswith("rating=4")

    client = TestClient(create_app(settings))
    path = link.removeprefix("http://helpdesk.test")
    assert "You rated" in client.get(path).text
    token = path.split("/")[2].split("?")[0]
    client.post(f"/feedback/{token}", data={"rating": 4, "comment": "Quick and kind"})
    rated = store.get(ticket.reference)
    assert (rated.rating, rated.rating_comment) == (4, "Quick and kind")
    forged = path.replace(token[:8], "AAAAAAAA")
    assert client.get(forged).status_code == 404
    assert client.get(path.replace("rating=4", "rating=9")).status_code == 422


def test_a_failed_delivery_is_retried_with_backoff_then_marked_failed(desk_setup, tmp_path: Path) -> None:
    _settings, store, desk, agent, _inbox = desk_setup
    broken = settings_for(tmp_path, smtp_port=9)  # no SMTP server there
    ticket, _ = store.create(new_ticket(channel="rest"))
    desk.reply(agent, ticket.reference, "Hello")
    worker = OutboxWorker.from_settings(store, broken)
    now = utcnow()
    assert worker.run_once(now) == 0
    (row,) = rows(store)
    assert (row.state, row.attempts) == ("pending", 1) and "could not send email" in row.last_error
    assert row.next_attempt_at == now + timedelta(seconds=2)
    assert worker.run_once(now + timedelta(seconds=1)) == 0 and rows(store)[0].attempts == 1  # not due yet
    for step in range(2, 13):
        worker.run_once(now + timedelta(hours=step))
    (row,) = rows(store)
    assert (row.state, row.attempts) == ("failed", 12)


def test_two_workers_deliver_each_message_once_on_postgresql(postgres_url: str, smtp_server, tmp_path: Path) -> None:  # noqa: F811
    port, inbox = smtp_server
    inbox.messages.clear()
    settings = settings_for(tmp_path, port, database_url=postgres_url)
    store = TicketStore(
        postgres_url,
        SlaPolicy(SLA.first_response_hours, SLA.resolution_hours),
        per_conversation_per_hour=100,
        per_email_per_hour=100,
    )
    try:
        agent = UserDirectory(store.sessions).create("sam@kestrel.example", "correct horse battery")
        desk = Desk(store)
        for n in range(30):
            ticket, _ = store.create(new_ticket(channel="rest", conversation_id=f"c{n}"))
            desk.reply(agent, ticket.reference, f"reply number {n}")
        workers = [OutboxWorker.from_settings(store, settings) for _ in range(2)]
        delivered = [0, 0]

        def drain(i: int) -> None:
            for _ in range(5):
                delivered[i] += workers[i].run_once()

        threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(delivered) == 30
        bodies = sorted(m.get_content().split("replied to your ticket")[1] for m in inbox.messages)
        assert len(bodies) == 30 and len(set(bodies)) == 30
        assert {r.state for r in rows(store)} == {"delivered"}
    finally:
        store.close()
