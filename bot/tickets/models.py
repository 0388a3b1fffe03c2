"""SQLAlchemy 2 tables for tickets and their audit trail.

The schema itself is created and changed only by Alembic (`bot/tickets/migrations`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Float, ForeignKey, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

STATUSES = ("new", "open", "pending_customer", "resolved", "closed")
OPEN_STATUSES = ("new", "open", "pending_customer")
PRIORITIES = ("low", "normal", "high", "urgent")
REFERENCE_PREFIX = "SUP-"


def utcnow() -> datetime:
    return datetime.now(UTC)


def reference_for(ticket_id: int) -> str:
    return f"{REFERENCE_PREFIX}{ticket_id:06d}"


def normalise_reference(text: str) -> str:
    """ "SUP-000123", "sup-123", "SUP 123" and "123" all name ticket SUP-000123."""
    match = re.fullmatch(r"(?:SUP)?[-\s]?0*(\d{1,9})", text.strip(), re.IGNORECASE)
    return reference_for(int(match.group(1))) if match else text.strip().upper()


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, also on SQLite (which stores them without a zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="ck_tickets_status"),
        CheckConstraint(f"priority IN {PRIORITIES}", name="ck_tickets_priority"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Set from the id in the same transaction that inserts the row: unique by construction.
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    # Conversation + triggering event: a retried action finds the ticket it already made.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    customer_email: Mapped[str] = mapped_column(String(320), index=True)
    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(40))
    team: Mapped[str] = mapped_column(String(60))
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    order_ref: Mapped[str | None] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    first_response_due: Mapped[datetime] = mapped_column(UTCDateTime())
    resolution_due: Mapped[datetime] = mapped_column(UTCDateTime())
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Set explicitly by every change that counts as activity (the stale-ticket timer reads it).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # [{"sender": "customer"|"bot"|"agent", "text": ..., "at": ISO time}], personal data masked.
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    # Set once when a due time passes unmet (and the priority was raised for it).
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the customer was asked "still need help?" about a ticket waiting on them.
    stale_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )


class TicketEvent(Base):
    """The audit trail: everything that happened to a ticket, by whom, in order."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # created, customer_message, comment, status_changed, ...
    kind: Mapped[str] = mapped_column(String(40))
    # "customer", "bot", "system" or "agent:<email>"
    actor: Mapped[str] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text, default="")
    # True when the customer sees it (a reply); False for internal notes and bookkeeping.
    public: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


ROLES = ("agent", "admin")


class User(Base):
    """An agent or admin of the helpdesk."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="ck_users_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(10), default="agent")
    # None: every team's tickets; otherwise an agent sees only this team's (admins see all).
    team: Mapped[str | None] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # On duty for live chats until then; the console renews it while the agent is there.
    available_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiToken(Base):
    """A bearer token for integrations; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


OUTBOX_STATES = ("pending", "delivered", "failed")


class OutboxMessage(Base):
    """Something the customer must hear about, written in the same transaction as the change.

    A worker delivers it into the chat through Rasa's HTTP API, or by email when the chat
    cannot receive pushes, retrying with backoff; `delivered_at` makes delivery happen once.
    """

    __tablename__ = "outbox"
    __table_args__ = (CheckConstraint(f"state IN {OUTBOX_STATES}", name="ck_outbox_state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    # reply (an agent's words), status (a status change), rating_prompt, stale_warning, ...
    kind: Mapped[str] = mapped_column(String(30))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_via: Mapped[str | None] = mapped_column(String(10))  # chat or email
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


HANDOFF_STATES = ("waiting", "active", "returned", "timed_out")


class Handoff(Base):
    """A customer waiting for, or talking to, a person; the bot is paused meanwhile."""

    __tablename__ = "handoffs"
    __table_args__ = (CheckConstraint(f"state IN {HANDOFF_STATES}", name="ck_handoffs_state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    channel: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(10), default="waiting", index=True)
    # What the customer last asked about, so the agent has context before picking up.
    topic: Mapped[str] = mapped_column(Text, default="")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# answered: an article was given as the answer; escalated: none was close enough, the closest
# were listed and a ticket offered; off_topic: not about the help centre at all. Then what the
# customer said of the article given: solved ("Yes, that solved it") or not_helpful ("No").
KB_OUTCOMES = ("answered", "escalated", "off_topic", "solved", "not_helpful")
# What an admin did about an unanswered question, or an answer a customer said "No" to, on the
# Help centre page: taught (added to the `questions:` of the article that answers it),
# not_answered (added to the closest or given article's `not_answered:`: the help centre does
# not answer it), or dismissed (nothing to change: the answer was right, or the question is noise).
KB_RESOLUTIONS = ("taught", "not_answered", "dismissed")


class KBQuestion(Base):
    """One customer question to the knowledge base and what came of it, personal data masked:
    what the help centre lacks, for the admins who write it (console page "Help centre")."""

    __tablename__ = "kb_questions"
    __table_args__ = (
        CheckConstraint(f"outcome IN {KB_OUTCOMES}", name="ck_kb_questions_outcome"),
        CheckConstraint(f"resolution IN {KB_RESOLUTIONS}", name="ck_kb_questions_resolution"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(40))
    question: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(12), index=True)
    # The article given as the answer, or the closest one when none was given.
    article_id: Mapped[str | None] = mapped_column(String(200))
    score: Mapped[float | None] = mapped_column(Float)
    # Set when an admin dealt with an unanswered question: it leaves the page's list. The
    # outcome stays: it is what the customer got.
    resolution: Mapped[str | None] = mapped_column(String(12))
    resolved_article: Mapped[str | None] = mapped_column(String(200))
    # "agent:<email>", as ticket_events.actor: still says who after the user is deleted.
    resolved_by: Mapped[str | None] = mapped_column(String(320))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
