"""The ticket store on SQLite and on PostgreSQL: references, SLA, limits, idempotency, visibility."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from bot.tickets.store import NewTicket, TicketLimitReached, TicketNotFound, TicketStore
from tests.tickets.conftest import SLA


def new_ticket(**overrides) -> NewTicket:
    fields = {
        "customer_email": "Ada@Example.com",
        "summary": "Camera offline since the router change",
        "description": "my camera says offline since we changed the router",
        "category": "technical",
        "team": "Technical support",
        "priority": "normal",
        "channel": "socketio",
        "conversation_id": "conv-1",
        "transcript": [{"sender": "customer", "text": "my camera is offline", "at": "2026-11-25T10:00:00+00:00"}],
        "idempotency_key": None,
    }
    fields.update(overrides)
    return NewTicket(**fields)


def test_a_new_ticket_gets_a_reference_due_times_and_an_audit_event(store: TicketStore) -> None:
    opened = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    ticket, created = store.create(new_ticket(priority="high"), now=opened)
    assert created
    assert ticket.reference.startswith("SUP-") and len(ticket.reference) == 10
    assert ticket.status == "new"
    assert ticket.customer_email == "ada@example.com"
    assert ticket.first_response_due == opened + timedelta(hours=4)
    assert ticket.resolution_due == opened + timedelta(hours=24)
    assert [e["kind"] for e in ticket.events] == ["created"]
    again = store.get(ticket.reference.lower())
    assert again.transcript == ticket.transcript
    assert again.created_at == opened  # aware UTC round-trip, also on SQLite


def test_references_count_up(store: TicketStore) -> None:
    first, _ = store.create(new_ticket(conversation_id="a"))
    second, _ = store.create(new_ticket(conversation_id="b"))
    assert int(second.reference[4:]) == int(first.reference[4:]) + 1


def test_the_same_idempotency_key_never_makes_a_second_ticket(store: TicketStore) -> None:
    first, created_first = store.create(new_ticket(idempotency_key="conv-1:1732528800.1"))
    second, created_second = store.create(new_ticket(idempotency_key="conv-1:1732528800.1"))
    assert (created_first, created_second) == (True, False)
    assert second.reference == first.reference
    assert len(store.list()) == 1


def test_new_tickets_are_limited_per_conversation_per_hour(store: TicketStore) -> None:
    now = datetime.now(UTC)
    for n in range(3):
        store.create(new_ticket(customer_email=f"p{n}@example.com"), now=now)
    with pytest.raises(TicketLimitReached):
        store.create(new_ticket(customer_email="p9@example.com"), now=now)
    # An hour later the conversation may open tickets again.
    later, created = store.create(new_ticket(customer_email="p9@example.com"), now=now + timedelta(hours=1, minutes=1))
    assert created and later.status == "new"


def test_new_tickets_are_limited_per_email_per_hour(store: TicketStore) -> None:
    for n in range(5):
        store.create(new_ticket(conversation_id=f"c{n}"))
    with pytest.raises(TicketLimitReached, match="email"):
        store.create(new_ticket(conversation_id="c-other", customer_email="ADA@example.com"))


def test_a_ticket_is_visible_only_in_the_conversation_that_opened_it(store: TicketStore) -> None:
    ticket, _ = store.create(new_ticket())
    assert store.visible_in_conversation(ticket.reference, "conv-1") is not None
    assert store.visible_in_conversation(ticket.reference, "someone-else") is None
    assert store.visible_in_conversation("SUP-999999", "conv-1") is None


def test_customer_messages_and_comments_go_to_the_audit_trail(store: TicketStore) -> None:
    ticket, _ = store.create(new_ticket())
    store.add_customer_message(ticket.reference, "It's the outdoor one, serial KC-88")
    updated = store.comment(ticket.reference, "Asked the customer for the LED colour", actor="agent:sam@kestrel")
    kinds = [(e["kind"], e["public"]) for e in updated.events]
    assert kinds == [("created", False), ("customer_message", True), ("comment", False)]
    assert updated.transcript[-1]["text"] == "It's the outdoor one, serial KC-88"
    with pytest.raises(ValueError):
        store.comment(ticket.reference, "   ")
    with pytest.raises(TicketNotFound):
        store.comment("SUP-424242", "hello")


def test_open_tickets_of_a_customer_by_conversation_or_email(store: TicketStore) -> None:
    mine, _ = store.create(new_ticket(conversation_id="c1", customer_email="ada@example.com"))
    by_mail, _ = store.create(new_ticket(conversation_id="c2", customer_email="ada@example.com"))
    store.create(new_ticket(conversation_id="c3", customer_email="bob@example.com"))
    found = store.open_for_customer(email="ada@example.com", conversation_id="c1")
    assert {t.reference for t in found} == {mine.reference, by_mail.reference}
    assert store.list(status="new")[0].reference  # filter by status works
    with pytest.raises(ValueError):
        store.list(status="lost")


def test_a_bad_ticket_is_refused_and_nothing_is_written(store: TicketStore) -> None:
    with pytest.raises(ValueError):
        store.create(new_ticket(summary="   "))
    with pytest.raises(ValueError):
        store.create(new_ticket(priority="whenever"))
    assert store.list() == []


def test_fifty_concurrent_tickets_on_postgresql_get_fifty_distinct_references(postgres_url: str) -> None:
    store = TicketStore(postgres_url, SLA, per_conversation_per_hour=100, per_email_per_hour=100)
    try:

        def create(n: int) -> str:
            ticket, _ = store.create(new_ticket(conversation_id=f"conv-{n}", idempotency_key=f"conv-{n}:1"))
            return ticket.reference

        with ThreadPoolExecutor(max_workers=25) as pool:
            references = list(pool.map(create, range(50)))
        assert len(set(references)) == 50
        assert len(store.list()) == 50
    finally:
        store.close()


def test_concurrent_retries_of_one_action_make_one_ticket_on_postgresql(postgres_url: str) -> None:
    store = TicketStore(postgres_url, SLA)
    try:

        def retry(_: int) -> str:
            ticket, _created = store.create(new_ticket(idempotency_key="conv-1:same-event"))
            return ticket.reference

        with ThreadPoolExecutor(max_workers=10) as pool:
            references = set(pool.map(retry, range(10)))
        assert len(references) == 1
        assert len(store.list()) == 1
    finally:
        store.close()
