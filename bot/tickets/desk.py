"""What agents do to tickets. Every change the customer must hear about writes an outbox row
in the same transaction, so a change is never made without its notice, nor the other way round.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.tickets.models import OPEN_STATUSES, PRIORITIES, STATUSES, OutboxMessage, Ticket, TicketEvent, utcnow
from bot.tickets.store import TicketStore, TicketView, load_ticket, view_of
from bot.tickets.users import Agent

# Status changes the customer is told about (new -> open is bookkeeping).
NOTIFY_STATUSES = {"pending_customer", "resolved", "closed", "open"}
MAX_REPLY_CHARS = 5000


class PermissionDenied(Exception):
    pass


class Desk:
    def __init__(self, store: TicketStore) -> None:
        self.store = store

    # --- reading, with permissions ----------------------------------------------------

    def visible(self, agent: Agent, reference: str) -> TicketView:
        """The ticket if this agent may see it; TicketNotFound otherwise (no hint it exists)."""
        ticket = self.store.get(reference)
        if not agent.may_see_team(ticket.team):
            from bot.tickets.store import TicketNotFound

            raise TicketNotFound(f"no ticket {reference}")
        return ticket

    def queue(
        self,
        agent: Agent,
        *,
        status: str | None = None,
        team: str | None = None,
        query: str | None = None,
        limit: int = 100,
    ) -> list[TicketView]:
        """Tickets this agent may see, oldest first-response due first among open ones."""
        statement = select(Ticket)
        if status:
            if status not in STATUSES:
                raise ValueError(f"unknown status '{status}'")
            statement = statement.where(Ticket.status == status)
        if team:
            statement = statement.where(Ticket.team == team)
        if not agent.is_admin and agent.team:
            statement = statement.where(Ticket.team == agent.team)
        if query:
            like = f"%{query.strip()}%"
            statement = statement.where(
                Ticket.summary.ilike(like)
                | Ticket.description.ilike(like)
                | Ticket.reference.ilike(like)
                | Ticket.customer_email.ilike(like)
            )
        statement = statement.order_by(Ticket.first_response_due, Ticket.id).limit(limit)
        with self.store.sessions() as session:
            return [view_of(t) for t in session.scalars(statement)]

    # --- changing ---------------------------------------------------------------------

    def reply(self, agent: Agent, reference: str, body: str, *, now: datetime | None = None) -> TicketView:
        """A public reply: in the transcript, the audit trail, and the outbox to the customer."""
        body = body.strip()
        if not body:
            raise ValueError("the reply is empty")
        if len(body) > MAX_REPLY_CHARS:
            raise ValueError(f"the reply is longer than {MAX_REPLY_CHARS} characters")
        now = now or utcnow()
        with self.store.sessions.begin() as session:
            ticket = self._editable(session, agent, reference)
            ticket.transcript = [
                *ticket.transcript,
                {"sender": "agent", "text": body, "at": now.isoformat(timespec="seconds")},
            ]
            if ticket.first_responded_at is None:
                ticket.first_responded_at = now
            if ticket.status == "new":
                ticket.status = "open"
            ticket.updated_at = now
            session.add(
                TicketEvent(ticket_id=ticket.id, at=now, kind="reply", actor=agent.actor, body=body, public=True)
            )
            session.add(
                OutboxMessage(
                    ticket_id=ticket.id,
                    kind="reply",
                    body=body,
                    data={"agent": agent.name},
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            session.flush()
            session.refresh(ticket, ["events"])
            return view_of(ticket)

    def note(self, agent: Agent, reference: str, body: str) -> TicketView:
        self.visible(agent, reference)
        return self.store.comment(reference, body, actor=agent.actor)

    def set_status(
        self, agent: Agent | None, reference: str, status: str, *, reason: str = "", now: datetime | None = None
    ) -> TicketView:
        if status not in STATUSES:
            raise ValueError(f"unknown status '{status}': use one of {', '.join(STATUSES)}")
        now = now or utcnow()
        with self.store.sessions.begin() as session:
            ticket = (
                self._editable(session, agent, reference) if agent else load_ticket(session, reference, for_update=True)
            )
            old = ticket.status
            if old == status:
                return view_of(ticket)
            self._apply_status(
                session, ticket, status, actor=agent.actor if agent else "system", reason=reason, now=now
            )
            session.flush()
            session.refresh(ticket, ["events"])
            return view_of(ticket)

    def update(
        self,
        agent: Agent,
        reference: str,
        *,
        priority: str | None = None,
        team: str | None = None,
        assignee_id: int | None = None,
    ) -> TicketView:
        """Priority, team, assignee: bookkeeping the customer is not told about."""
        now = utcnow()
        with self.store.sessions.begin() as session:
            ticket = self._editable(session, agent, reference)
            changes: dict[str, tuple[object, object]] = {}  # field -> (old, new)
            if priority is not None:
                if priority not in PRIORITIES:
                    raise ValueError(f"unknown priority '{priority}'")
                changes["priority"] = (ticket.priority, priority)
                ticket.priority = priority
            if team is not None:
                if not team.strip():
                    raise ValueError("the team is empty")
                changes["team"] = (ticket.team, team)
                ticket.team = team
            if assignee_id is not None:
                changes["assignee_id"] = (ticket.assignee_id, assignee_id)
                ticket.assignee_id = assignee_id
            if changes:
                ticket.updated_at = now
                session.add(
                    TicketEvent(
                        ticket_id=ticket.id,
                        at=now,
                        kind="updated",
                        actor=agent.actor,
                        body=", ".join(f"{k}: {a} -> {b}" for k, (a, b) in changes.items()),
                        data={k: b for k, (_a, b) in changes.items()},
                    )
                )
            session.flush()
            session.refresh(ticket, ["events"])
            return view_of(ticket)

    def merge(self, agent: Agent, duplicate: str, into: str) -> TicketView:
        """Close `duplicate` as merged into `into`; its customer is told where to look."""
        now = utcnow()
        with self.store.sessions.begin() as session:
            target = self._editable(session, agent, into)
            source = self._editable(session, agent, duplicate)
            if source.id == target.id:
                raise ValueError("a ticket cannot be merged into itself")
            if target.status not in OPEN_STATUSES:
                raise ValueError(f"{target.reference} is {target.status}; merge into an open ticket")
            source.merged_into_id = target.id
            target.transcript = [
                *target.transcript,
                *[{**line, "merged_from": source.reference} for line in source.transcript],
            ]
            session.add(
                TicketEvent(
                    ticket_id=target.id,
                    at=now,
                    kind="merged",
                    actor=agent.actor,
                    body=f"{source.reference} merged into this ticket",
                    data={"from": source.reference},
                )
            )
            self._apply_status(
                session, source, "closed", actor=agent.actor, reason=f"merged into {target.reference}", now=now
            )
            session.flush()
            session.refresh(target, ["events"])
            return view_of(target)

    # --- helpers ----------------------------------------------------------------------

    @staticmethod
    def _editable(session, agent: Agent, reference: str) -> Ticket:
        ticket = load_ticket(session, reference, for_update=True)
        if not agent.may_see_team(ticket.team):
            from bot.tickets.store import TicketNotFound

            raise TicketNotFound(f"no ticket {reference}")
        return ticket

    @staticmethod
    def _apply_status(session, ticket: Ticket, status: str, *, actor: str, reason: str, now: datetime) -> None:
        old = ticket.status
        ticket.status = status
        ticket.updated_at = now
        if status == "resolved":
            ticket.resolved_at = now
        elif status == "closed":
            ticket.closed_at = now
        elif status in OPEN_STATUSES:
            ticket.resolved_at = ticket.closed_at = None
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                at=now,
                kind="status_changed",
                actor=actor,
                body=reason or f"{old} -> {status}",
                data={"from": old, "to": status},
            )
        )
        if status in NOTIFY_STATUSES and not (old == "new" and status == "open"):
            session.add(
                OutboxMessage(
                    ticket_id=ticket.id,
                    kind="status",
                    body=reason,
                    data={"from": old, "to": status},
                    next_attempt_at=now,
                    created_at=now,
                )
            )
