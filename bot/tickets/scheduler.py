"""Timers that must survive restarts, so they live in the database, not in Rasa's memory:
SLA breaches (flagged once, priority raised) and tickets left waiting on the customer
("still need help?" after N days, closed with notice M days later); and the record of KB
questions (bot/tickets/kb_questions.py) is kept only for a set number of days.

Safe with several helpdesk services: each ticket is handled inside its own transaction with a
row lock (`FOR UPDATE SKIP LOCKED` on PostgreSQL: another instance skips it instead of
waiting), and the condition is checked again under that lock, so nothing happens twice.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.tickets.models import (
    OPEN_STATUSES,
    PRIORITIES,
    KBQuestion,
    OutboxMessage,
    Ticket,
    TicketEvent,
    reference_for,
    utcnow,
)
from bot.tickets.store import TicketStore

log = logging.getLogger(__name__)


def raised(priority: str) -> str:
    index = PRIORITIES.index(priority)
    return PRIORITIES[min(index + 1, len(PRIORITIES) - 1)]


@dataclass
class Round:
    first_response_breaches: list[str] = field(default_factory=list)
    resolution_breaches: list[str] = field(default_factory=list)
    stale_warnings: list[str] = field(default_factory=list)
    stale_closures: list[str] = field(default_factory=list)
    kb_questions_deleted: int = 0


class Scheduler:
    def __init__(
        self,
        store: TicketStore,
        *,
        warn_after: timedelta,
        close_after: timedelta,
        keep_kb_questions: timedelta = timedelta(days=180),
    ) -> None:
        self.store = store
        self.warn_after = warn_after
        self.close_after = close_after
        self.keep_kb_questions = keep_kb_questions

    def run_once(self, now: datetime | None = None) -> Round:
        now = now or utcnow()
        done = Round()
        open_ = Ticket.status.in_(OPEN_STATUSES)
        checks = [
            (
                open_
                & Ticket.first_responded_at.is_(None)
                & Ticket.first_response_breached_at.is_(None)
                & (Ticket.first_response_due < now),
                self._first_response_breach,
                done.first_response_breaches,
            ),
            (
                open_ & Ticket.resolution_breached_at.is_(None) & (Ticket.resolution_due < now),
                self._resolution_breach,
                done.resolution_breaches,
            ),
            (
                (Ticket.status == "pending_customer")
                & Ticket.stale_warned_at.is_(None)
                & (Ticket.updated_at < now - self.warn_after),
                self._stale_warning,
                done.stale_warnings,
            ),
            (
                (Ticket.status == "pending_customer")
                & Ticket.stale_warned_at.is_not(None)
                & (Ticket.stale_warned_at < now - self.close_after),
                self._stale_close,
                done.stale_closures,
            ),
        ]
        for condition, act, record in checks:
            with self.store.sessions() as session:
                ids = list(session.scalars(select(Ticket.id).where(condition).order_by(Ticket.id).limit(500)))
            for ticket_id in ids:
                with self.store.sessions.begin() as session:
                    ticket = session.scalar(
                        select(Ticket).where(Ticket.id == ticket_id, condition).with_for_update(skip_locked=True)
                    )
                    if ticket is not None:  # still due, and no other instance holds it
                        act(session, ticket, now)
                        record.append(ticket.reference or reference_for(ticket.id))  # same fallback as the views
        # Customers' questions (masked) are kept as long as the report needs them, not for ever.
        with self.store.sessions.begin() as session:
            old = delete(KBQuestion).where(KBQuestion.asked_at < now - self.keep_kb_questions)
            done.kb_questions_deleted = session.execute(old).rowcount or 0  # type: ignore[attr-defined]
        return done

    def run_forever(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # a bad round must not stop the timers for good
                log.exception("scheduler round failed")
            stop.wait(interval)

    def start_thread(self, interval: float) -> threading.Event:
        stop = threading.Event()
        threading.Thread(target=self.run_forever, args=(stop, interval), name="scheduler", daemon=True).start()
        return stop

    # --- what happens -------------------------------------------------------------------

    @staticmethod
    def _breach(session: Session, ticket: Ticket, now: datetime, what: str) -> None:
        old = ticket.priority
        ticket.priority = raised(old)
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                at=now,
                kind="sla_breached",
                actor="system",
                body=f"{what} due time passed; priority {old} -> {ticket.priority}",
                data={"what": what, "from": old, "to": ticket.priority},
            )
        )

    def _first_response_breach(self, session: Session, ticket: Ticket, now: datetime) -> None:
        ticket.first_response_breached_at = now
        self._breach(session, ticket, now, "first response")

    def _resolution_breach(self, session: Session, ticket: Ticket, now: datetime) -> None:
        ticket.resolution_breached_at = now
        self._breach(session, ticket, now, "resolution")

    @staticmethod
    def _stale_warning(session: Session, ticket: Ticket, now: datetime) -> None:
        ticket.stale_warned_at = now
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                at=now,
                kind="stale_warning",
                actor="system",
                body="Asked the customer whether they still need help",
                public=True,
            )
        )
        session.add(
            OutboxMessage(
                ticket_id=ticket.id,
                kind="stale_warning",
                body="",
                data={"to": "stale_warning"},
                next_attempt_at=now,
                created_at=now,
            )
        )

    def _stale_close(self, session: Session, ticket: Ticket, now: datetime) -> None:
        days = (self.warn_after + self.close_after).days
        reason = f"Closed because we had no answer for {days} days. Reply any time to open a new ticket."
        old = ticket.status
        ticket.status, ticket.closed_at, ticket.updated_at = "closed", now, now
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                at=now,
                kind="status_changed",
                actor="system",
                body=reason,
                data={"from": old, "to": "closed", "reason": "stale"},
            )
        )
        session.add(
            OutboxMessage(
                ticket_id=ticket.id,
                kind="status",
                body=reason,
                data={"from": old, "to": "closed"},
                next_attempt_at=now,
                created_at=now,
            )
        )
