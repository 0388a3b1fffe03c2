"""The outbox worker: delivers what agents changed to the customer, once, with retries.

Claiming a row is one conditional UPDATE (`WHERE state = 'pending' AND next_attempt_at <= now`),
atomic on SQLite and PostgreSQL alike, so two helpdesk services never deliver the same row:
the loser's UPDATE matches nothing. A claimed row is leased for `LEASE`; if its worker dies
mid-delivery the lease runs out and another worker retries it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from bot.config import Settings
from bot.notify import messages
from bot.notify.links import keep_open_link, rating_links
from bot.notify.mail import MailFailed, SmtpMailer
from bot.notify.rasa_push import PUSHABLE_CHANNELS, PushFailed, RasaPusher
from bot.tickets.models import OutboxMessage, Ticket, User, utcnow
from bot.tickets.store import TicketStore, view_of

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_CHAT_ATTEMPTS = 8  # then email, if the chat stays unreachable
MAX_ATTEMPTS = 12
BATCH = 20
UPDATE_INTENT = "ticket_update"


def backoff(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s ... capped at 10 minutes."""
    return timedelta(seconds=min(2**attempts, 600))


@dataclass
class Delivery:
    via: str  # "chat" or "email"


class OutboxWorker:
    def __init__(self, store: TicketStore, pusher: RasaPusher, mailer: SmtpMailer, settings: Settings) -> None:
        self.store, self.pusher, self.mailer, self.settings = store, pusher, mailer, settings

    @classmethod
    def from_settings(cls, store: TicketStore, settings: Settings) -> OutboxWorker:
        return cls(
            store,
            RasaPusher(settings.rasa_url, settings.rasa_token),
            SmtpMailer(
                settings.smtp_host,
                settings.smtp_port,
                settings.smtp_sender,
                username=settings.smtp_username,
                password=settings.smtp_password,
                starttls=settings.smtp_starttls,
            ),
            settings,
        )

    # --- the loop -----------------------------------------------------------------------

    def run_once(self, now: datetime | None = None) -> int:
        """Deliver what is due; returns how many rows this worker delivered."""
        now = now or utcnow()
        with self.store.sessions() as session:
            due = list(
                session.scalars(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now)
                    .order_by(OutboxMessage.id)
                    .limit(BATCH)
                )
            )
        delivered = 0
        for message_id in due:
            if self._claim(message_id, now):
                delivered += self._deliver(message_id, now)
        return delivered

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # one bad round must not end delivery for good
                log.exception("outbox round failed")
            stop.wait(self.settings.outbox_poll_seconds)

    def start_thread(self) -> tuple[threading.Thread, threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(target=self.run_forever, args=(stop,), name="outbox", daemon=True)
        thread.start()
        return thread, stop

    # --- one row ------------------------------------------------------------------------

    def _claim(self, message_id: int, now: datetime) -> bool:
        with self.store.sessions.begin() as session:
            # An UPDATE without RETURNING gives a CursorResult; Session.execute is typed as the general Result.
            claimed = cast(
                CursorResult[Any],
                session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id == message_id,
                        OutboxMessage.state == "pending",
                        OutboxMessage.next_attempt_at <= now,
                    )
                    .values(next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
                ),
            )
            return claimed.rowcount == 1

    def _deliver(self, message_id: int, now: datetime) -> int:
        with self.store.sessions() as session:
            message = session.get(OutboxMessage, message_id)
            # This worker has just claimed the row, and nothing deletes outbox rows or tickets (the
            # foreign key, enforced on SQLite too, keeps a message's ticket while the message exists).
            assert message is not None, f"claimed outbox message {message_id} is gone"
            ticket = session.get(Ticket, message.ticket_id)
            assert ticket is not None, f"ticket {message.ticket_id} of outbox message {message_id} is gone"
            agent = session.get(User, ticket.assignee_id) if ticket.assignee_id else None
            kind, body, data, attempts = message.kind, message.body, dict(message.data), message.attempts
            view = view_of(ticket)
        agent_name = data.get("agent") or (agent.name if agent else "")
        try:
            delivery = self._send(view, kind, body, data, agent_name, attempts)
        except (PushFailed, MailFailed) as exc:
            self._failed(message_id, attempts, str(exc), now)
            return 0
        with self.store.sessions.begin() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(state="delivered", delivered_at=utcnow(), delivered_via=delivery.via, last_error=None)
            )
        return 1

    def _send(self, ticket, kind: str, body: str, data: dict, agent_name: str, attempts: int) -> Delivery:
        if self._chat_reachable(ticket) and attempts <= MAX_CHAT_ATTEMPTS:
            if kind == "reply":
                self.pusher.say(
                    ticket.conversation_id,
                    ticket.channel,
                    messages.chat_reply(agent_name, ticket, body),
                    metadata={"ticket_ref": ticket.reference, "sender": "agent", "agent": agent_name},
                )
            else:
                entities = {"ticket_ref": ticket.reference, "ticket_status": data.get("to", ticket.status)}
                self.pusher.trigger(ticket.conversation_id, ticket.channel, UPDATE_INTENT, entities)
            return Delivery("chat")
        if kind == "reply":
            subject, text = messages.email_reply(agent_name, ticket, body)
        elif kind == "stale_warning":
            link = keep_open_link(self.settings.secret_key, self.settings.public_helpdesk_url, ticket.reference)
            subject, text = messages.email_stale(ticket, self.settings.stale_close_days, link)
        else:
            status = data.get("to", ticket.status)
            links = None
            if status == "resolved":
                links = rating_links(self.settings.secret_key, self.settings.public_helpdesk_url, ticket.reference)
            subject, text = messages.email_status(ticket, status, body, links)
        self.mailer.send(ticket.customer_email, subject, text)
        return Delivery("email")

    def _chat_reachable(self, ticket) -> bool:
        """A push-capable channel where the customer wrote recently; otherwise email is kinder."""
        if ticket.channel not in PUSHABLE_CHANNELS:
            return False
        try:
            last = self.pusher.last_customer_message_at(ticket.conversation_id)
        except PushFailed:
            return True  # Rasa is down: keep the chat as the target and retry it with backoff
        return last is not None and utcnow() - last <= timedelta(minutes=self.settings.chat_inactive_minutes)

    def _failed(self, message_id: int, attempts: int, error: str, now: datetime) -> None:
        log.warning("outbox message %s: attempt %s failed: %s", message_id, attempts, error)
        final = attempts >= MAX_ATTEMPTS
        with self.store.sessions.begin() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(
                    state="failed" if final else "pending",
                    last_error=error[:2000],
                    next_attempt_at=now + backoff(attempts),
                )
            )
