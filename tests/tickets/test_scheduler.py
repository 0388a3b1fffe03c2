"""SLA breaches and stale tickets: flagged once, priority raised, warned, then closed with notice."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from bot.tickets.desk import Desk
from bot.tickets.models import OutboxMessage, utcnow
from bot.tickets.scheduler import Scheduler
from bot.tickets.sla import SlaPolicy
from bot.tickets.store import TicketStore
from bot.tickets.users import UserDirectory
from tests.tickets.conftest import SLA
from tests.tickets.test_store import new_ticket

WARN, CLOSE = timedelta(days=3), timedelta(days=4)


def outbox(store: TicketStore) -> list[tuple[str, dict, str]]:
    with store.sessions() as session:
        return [(m.kind, m.data, m.body) for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_a_missed_first_response_is_flagged_once_and_raises_the_priority(store: TicketStore) -> None:
    opened = utcnow() - timedelta(hours=9)  # normal priority: first response due after 8 hours
    ticket, _ = store.create(new_ticket(), now=opened)
    scheduler = Scheduler(store, warn_after=WARN, close_after=CLOSE)
    done = scheduler.run_once()
    assert done.first_response_breaches == [ticket.reference]
    assert scheduler.run_once().first_response_breaches == []
    flagged = store.get(ticket.reference)
    assert flagged.priority == "high" and flagged.first_response_breached_at is not None
    assert flagged.events[-1]["kind"] == "sla_breached"


def test_a_missed_resolution_is_flagged(store: TicketStore) -> None:
    ticket, _ = store.create(new_ticket(priority="urgent"), now=utcnow() - timedelta(hours=9))
    done = Scheduler(store, warn_after=WARN, close_after=CLOSE).run_once()
    assert done.resolution_breaches == [ticket.reference]
    assert store.get(ticket.reference).priority == "urgent"  # already at the top


def test_a_ticket_waiting_on_the_customer_is_warned_then_closed_with_notice(store: TicketStore) -> None:
    agent = UserDirectory(store.sessions).create("sam@kestrel.example", "correct horse battery")
    ticket, _ = store.create(new_ticket())
    asked = utcnow() - timedelta(days=3, hours=1)
    Desk(store).set_status(agent, ticket.reference, "pending_customer", now=asked)
    scheduler = Scheduler(store, warn_after=WARN, close_after=CLOSE)
    assert scheduler.run_once().stale_warnings == [ticket.reference]
    assert outbox(store)[-1][0] == "stale_warning"
    assert scheduler.run_once().stale_warnings == []  # asked once
    assert scheduler.run_once(utcnow() + timedelta(days=3)).stale_closures == []  # not yet
    done = scheduler.run_once(utcnow() + timedelta(days=4, minutes=1))
    assert done.stale_closures == [ticket.reference]
    closed = store.get(ticket.reference)
    assert closed.status == "closed" and closed.events[-1]["data"]["reason"] == "stale"
    kind, data, body = outbox(store)[-1]
    assert kind == "status" and data["to"] == "closed" and "no answer for 7 days" in body


def test_keep_it_open_stops_the_closing(store: TicketStore) -> None:
    agent = UserDirectory(store.sessions).create("sam@kestrel.example", "correct horse battery")
    ticket, _ = store.create(new_ticket())
    Desk(store).set_status(agent, ticket.reference, "pending_customer", now=utcnow() - timedelta(days=4))
    scheduler = Scheduler(store, warn_after=WARN, close_after=CLOSE)
    scheduler.run_once()
    kept = store.keep_open(ticket.reference)
    assert kept.status == "open" and kept.stale_warned_at is None
    assert scheduler.run_once(utcnow() + timedelta(days=30)).stale_closures == []


def test_two_schedulers_on_postgresql_warn_each_ticket_once(postgres_url: str) -> None:
    store = TicketStore(
        postgres_url,
        SlaPolicy(SLA.first_response_hours, SLA.resolution_hours),
        per_conversation_per_hour=100,
        per_email_per_hour=100,
    )
    try:
        agent = UserDirectory(store.sessions).create("sam@kestrel.example", "correct horse battery")
        desk = Desk(store)
        for n in range(20):
            ticket, _ = store.create(new_ticket(conversation_id=f"c{n}"))
            desk.set_status(agent, ticket.reference, "pending_customer", now=utcnow() - timedelta(days=5))
        schedulers = [Scheduler(store, warn_after=WARN, close_after=CLOSE) for _ in range(2)]
        warned: list[list[str]] = [[], []]

        def run(i: int) -> None:
            warned[i] = schedulers[i].run_once().stale_warnings

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(warned[0] + warned[1]) == sorted(t.reference for t in store.list())
        assert [kind for kind, _, _ in outbox(store)].count("stale_warning") == 20
    finally:
        store.close()


def test_the_record_of_kb_questions_is_kept_only_for_the_set_days(store: TicketStore) -> None:
    from bot.tickets.kb_questions import gaps_report
    from bot.tickets.models import KBQuestion

    with store.sessions.begin() as session:
        for days_ago, question in [(200, "asked long ago"), (10, "asked lately")]:
            session.add(
                KBQuestion(
                    asked_at=utcnow() - timedelta(days=days_ago),
                    conversation_id="c",
                    channel="rest",
                    question=question,
                    outcome="escalated",
                )
            )
    scheduler = Scheduler(store, warn_after=WARN, close_after=CLOSE, keep_kb_questions=timedelta(days=180))
    assert scheduler.run_once().kb_questions_deleted == 1
    assert [u.question for u in gaps_report(store.sessions, days=365).unanswered] == ["asked lately"]
    assert scheduler.run_once().kb_questions_deleted == 0
