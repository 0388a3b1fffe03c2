"""The only code that writes tickets. Every method is one transaction.

Creating a ticket is idempotent (a retried action finds the ticket it already made, by its
idempotency key) and limited per conversation and per email address per hour.
"""

from __future__ import annotations

import builtins
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bot.config import Settings
from bot.tickets.db import make_engine, make_sessions, migrate
from bot.tickets.models import (
    OPEN_STATUSES,
    PRIORITIES,
    STATUSES,
    Ticket,
    TicketEvent,
    normalise_reference,
    reference_for,
    utcnow,
)
from bot.tickets.sla import SlaPolicy


class TicketNotFound(LookupError):
    pass


class TicketLimitReached(Exception):
    """Too many new tickets from one conversation or email address in the last hour."""


@dataclass(frozen=True)
class NewTicket:
    customer_email: str
    summary: str
    description: str
    category: str
    team: str
    priority: str
    channel: str
    conversation_id: str
    transcript: list[dict[str, Any]] = field(default_factory=list)
    idempotency_key: str | None = None
    order_ref: str | None = None


@dataclass(frozen=True)
class TicketView:
    """A read-only snapshot of a ticket, safe to use after its session is gone."""

    reference: str
    status: str
    priority: str
    category: str
    team: str
    customer_email: str
    summary: str
    description: str
    order_ref: str | None
    channel: str
    conversation_id: str
    first_response_due: datetime
    resolution_due: datetime
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    transcript: list[dict[str, Any]]
    events: list[dict[str, Any]]
    assignee_id: int | None = None
    merged_into_id: int | None = None
    rating: int | None = None
    rating_comment: str | None = None
    first_response_breached_at: datetime | None = None
    resolution_breached_at: datetime | None = None
    stale_warned_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name, value in data.items():
            if isinstance(value, datetime):
                data[name] = value.isoformat(timespec="seconds")
        return data


def load_ticket(session: Session, reference: str, *, for_update: bool = False) -> Ticket:
    """The ticket named by `reference` ("SUP-000123", "sup-123"), row-locked if asked."""
    query = (
        select(Ticket).options(selectinload(Ticket.events)).where(Ticket.reference == normalise_reference(reference))
    )
    if for_update:
        query = query.with_for_update()
    ticket = session.scalar(query)
    if ticket is None:
        raise TicketNotFound(f"no ticket {reference}")
    return ticket


def view_of(ticket: Ticket) -> TicketView:
    return _view(ticket)


def _view(ticket: Ticket) -> TicketView:
    return TicketView(
        reference=ticket.reference or reference_for(ticket.id),
        status=ticket.status,
        priority=ticket.priority,
        category=ticket.category,
        team=ticket.team,
        customer_email=ticket.customer_email,
        summary=ticket.summary,
        description=ticket.description,
        order_ref=ticket.order_ref,
        channel=ticket.channel,
        conversation_id=ticket.conversation_id,
        first_response_due=ticket.first_response_due,
        resolution_due=ticket.resolution_due,
        first_responded_at=ticket.first_responded_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        transcript=list(ticket.transcript or []),
        assignee_id=ticket.assignee_id,
        merged_into_id=ticket.merged_into_id,
        rating=ticket.rating,
        rating_comment=ticket.rating_comment,
        first_response_breached_at=ticket.first_response_breached_at,
        resolution_breached_at=ticket.resolution_breached_at,
        stale_warned_at=ticket.stale_warned_at,
        events=[
            {
                "at": e.at.isoformat(timespec="seconds"),
                "kind": e.kind,
                "actor": e.actor,
                "body": e.body,
                "public": e.public,
                "data": e.data,
            }
            for e in ticket.events
        ],
    )


class TicketStore:
    def __init__(
        self,
        database_url: str,
        sla: SlaPolicy,
        *,
        per_conversation_per_hour: int = 3,
        per_email_per_hour: int = 5,
        run_migrations: bool = True,
    ) -> None:
        self.engine = make_engine(database_url)
        if run_migrations:
            migrate(self.engine)
        self._sessions = make_sessions(self.engine)
        self.sla = sla
        self.per_conversation_per_hour = per_conversation_per_hour
        self.per_email_per_hour = per_email_per_hour

    @classmethod
    def from_settings(cls, settings: Settings) -> TicketStore:
        return cls(
            settings.tickets_database_url,
            SlaPolicy(settings.sla_first_response_hours, settings.sla_resolution_hours),
            per_conversation_per_hour=settings.tickets_per_hour_per_conversation,
            per_email_per_hour=settings.tickets_per_hour_per_email,
        )

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self._sessions

    def close(self) -> None:
        self.engine.dispose()

    # --- creating ---------------------------------------------------------------------

    def create(self, new: NewTicket, *, now: datetime | None = None) -> tuple[TicketView, bool]:
        """(the ticket, True) when created; (the earlier ticket, False) for a repeated key."""
        if new.priority not in PRIORITIES:
            raise ValueError(f"unknown priority '{new.priority}'")
        if not new.summary.strip() or not new.customer_email.strip():
            raise ValueError("a ticket needs a summary and the customer's email")
        now = now or utcnow()
        if new.idempotency_key:
            existing = self._by_key(new.idempotency_key)
            if existing is not None:
                return existing, False
        first_due, resolution_due = self.sla.due_times(new.priority, now)
        try:
            with self._sessions.begin() as session:
                self._check_limits(session, new, now)
                ticket = Ticket(
                    idempotency_key=new.idempotency_key,
                    customer_email=new.customer_email.strip().lower(),
                    summary=new.summary.strip()[:300],
                    description=new.description.strip(),
                    category=new.category,
                    team=new.team,
                    priority=new.priority,
                    status="new",
                    order_ref=(new.order_ref or None),
                    channel=new.channel,
                    conversation_id=new.conversation_id,
                    first_response_due=first_due,
                    resolution_due=resolution_due,
                    created_at=now,
                    updated_at=now,
                    transcript=new.transcript,
                )
                session.add(ticket)
                session.flush()  # the id, hence the reference, in this same transaction
                ticket.reference = reference_for(ticket.id)
                session.add(
                    TicketEvent(
                        ticket_id=ticket.id,
                        at=now,
                        kind="created",
                        actor="customer",
                        body=new.summary,
                        data={"category": new.category, "team": new.team, "priority": new.priority},
                    )
                )
                session.flush()
                session.refresh(ticket, ["events"])
                return _view(ticket), True
        except IntegrityError:
            # Two tries with the same key raced; the other one won and its ticket stands.
            if new.idempotency_key:
                existing = self._by_key(new.idempotency_key)
                if existing is not None:
                    return existing, False
            raise

    def _check_limits(self, session: Session, new: NewTicket, now: datetime) -> None:
        since = now - timedelta(hours=1)
        recent = select(func.count()).select_from(Ticket).where(Ticket.created_at >= since)
        by_conversation = session.scalar(recent.where(Ticket.conversation_id == new.conversation_id)) or 0
        if by_conversation >= self.per_conversation_per_hour:
            raise TicketLimitReached(f"{by_conversation} tickets from this conversation in the last hour")
        email = new.customer_email.strip().lower()
        by_email = session.scalar(recent.where(Ticket.customer_email == email)) or 0
        if by_email >= self.per_email_per_hour:
            raise TicketLimitReached(f"{by_email} tickets for this email address in the last hour")

    # --- reading ----------------------------------------------------------------------

    def get(self, reference: str) -> TicketView:
        with self._sessions() as session:
            return _view(self._load(session, reference))

    def find(self, reference: str) -> TicketView | None:
        try:
            return self.get(reference)
        except TicketNotFound:
            return None

    def visible_in_conversation(
        self, reference: str, conversation_id: str, *, verified_email: str | None = None
    ) -> TicketView | None:
        """The ticket if this conversation opened it, or it is a verified customer's own;
        None otherwise, whether it exists or not."""
        ticket = self.find(reference)
        if ticket is None:
            return None
        if ticket.conversation_id == conversation_id:
            return ticket
        if verified_email and ticket.customer_email == verified_email.strip().lower():
            return ticket
        return None

    def for_conversation(self, conversation_id: str, *, verified_email: str | None = None) -> list[TicketView]:
        """Tickets opened in this conversation; with a verified email, all of that customer's too."""
        who = Ticket.conversation_id == conversation_id
        if verified_email:
            who = who | (Ticket.customer_email == verified_email.strip().lower())
        return self._list(select(Ticket).where(who))

    def open_for_customer(self, *, email: str | None, conversation_id: str) -> list[TicketView]:
        """Open tickets of this conversation or this email address, newest first."""
        who = Ticket.conversation_id == conversation_id
        if email:
            who = who | (Ticket.customer_email == email.strip().lower())
        return self._list(select(Ticket).where(who, Ticket.status.in_(OPEN_STATUSES)))

    def list(self, *, status: str | None = None, limit: int = 200) -> list[TicketView]:
        query = select(Ticket)
        if status:
            if status not in STATUSES:
                raise ValueError(f"unknown status '{status}': use one of {', '.join(STATUSES)}")
            query = query.where(Ticket.status == status)
        return self._list(query, limit=limit)

    # builtins.list: inside the class body `list` names the method above.
    def _list(self, query: Any, *, limit: int = 200) -> builtins.list[TicketView]:
        query = query.options(selectinload(Ticket.events)).order_by(Ticket.created_at.desc(), Ticket.id.desc())
        with self._sessions() as session:
            return [_view(t) for t in session.scalars(query.limit(limit))]

    def _by_key(self, key: str) -> TicketView | None:
        with self._sessions() as session:
            ticket = session.scalar(
                select(Ticket).options(selectinload(Ticket.events)).where(Ticket.idempotency_key == key)
            )
            return _view(ticket) if ticket else None

    @staticmethod
    def _load(session: Session, reference: str, *, for_update: bool = False) -> Ticket:
        return load_ticket(session, reference, for_update=for_update)

    # --- changing ---------------------------------------------------------------------

    def add_customer_message(self, reference: str, text: str, *, at: datetime | None = None) -> TicketView:
        """More information from the customer: in the audit trail and the transcript."""
        text = text.strip()
        if not text:
            raise ValueError("nothing to add")
        now = at or utcnow()
        with self._sessions.begin() as session:
            ticket = self._load(session, reference, for_update=True)
            ticket.transcript = [
                *ticket.transcript,
                {"sender": "customer", "text": text, "at": now.isoformat(timespec="seconds")},
            ]
            if ticket.status == "pending_customer":
                ticket.status = "open"  # the customer answered: the ball is with the agent again
            ticket.updated_at = now
            session.add(
                TicketEvent(
                    ticket_id=ticket.id, at=now, kind="customer_message", actor="customer", body=text, public=True
                )
            )
            session.flush()
            session.refresh(ticket, ["events"])
            return _view(ticket)

    def comment(self, reference: str, text: str, *, actor: str = "agent") -> TicketView:
        """An internal note: agents see it, the customer never does."""
        text = text.strip()
        if not text:
            raise ValueError("the comment is empty")
        now = utcnow()
        with self._sessions.begin() as session:
            ticket = self._load(session, reference, for_update=True)
            ticket.updated_at = now
            session.add(TicketEvent(ticket_id=ticket.id, at=now, kind="comment", actor=actor, body=text, public=False))
            session.flush()
            session.refresh(ticket, ["events"])
            return _view(ticket)

    # --- the customer's verdict -------------------------------------------------------------

    def rate(self, reference: str, rating: int, *, comment: str | None = None, via: str = "chat") -> TicketView:
        """A 1-5 rating (and optional comment) for a resolved or closed ticket; a later one replaces it."""
        if not 1 <= int(rating) <= 5:
            raise ValueError("a rating is a whole number from 1 to 5")
        now = utcnow()
        with self._sessions.begin() as session:
            ticket = self._load(session, reference, for_update=True)
            ticket.rating = int(rating)
            if comment is not None and comment.strip():
                ticket.rating_comment = comment.strip()[:2000]
            ticket.updated_at = now
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    at=now,
                    kind="rated",
                    actor="customer",
                    body=(comment or "").strip(),
                    public=True,
                    data={"rating": int(rating), "via": via},
                )
            )
            session.flush()
            session.refresh(ticket, ["events"])
            return _view(ticket)

    def reopen_by_customer(self, reference: str, *, reason: str = "") -> TicketView:
        """ "Not solved": the ticket is open again and the audit trail tells the agent why."""
        now = utcnow()
        with self._sessions.begin() as session:
            ticket = self._load(session, reference, for_update=True)
            old = ticket.status
            ticket.status = "open"
            ticket.resolved_at = ticket.closed_at = None
            ticket.updated_at = now
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    at=now,
                    kind="reopened",
                    actor="customer",
                    body=reason or "The customer says the problem is not solved.",
                    public=True,
                    data={"from": old, "to": "open"},
                )
            )
            session.flush()
            session.refresh(ticket, ["events"])
            return _view(ticket)

    def keep_open(self, reference: str, *, via: str = "chat") -> TicketView:
        """The customer's "keep it open" after a "still need help?": back to the agent, timer reset."""
        now = utcnow()
        with self._sessions.begin() as session:
            ticket = self._load(session, reference, for_update=True)
            if ticket.status not in OPEN_STATUSES:
                raise ValueError(f"{ticket.reference} is already {ticket.status}")
            old = ticket.status
            ticket.status, ticket.stale_warned_at, ticket.updated_at = "open", None, now
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    at=now,
                    kind="kept_open",
                    actor="customer",
                    body="The customer still needs help",
                    public=True,
                    data={"from": old, "to": "open", "via": via},
                )
            )
            session.flush()
            session.refresh(ticket, ["events"])
            return _view(ticket)
