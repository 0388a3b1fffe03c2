"""Live handoff bookkeeping: who is on duty, the queue of waiting customers, who talks to whom.

The Rasa side (pausing the bot, delivering the agent's words) is in `bot.notify.live`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.tickets.models import Handoff, User, utcnow


@dataclass(frozen=True)
class HandoffView:
    id: int
    conversation_id: str
    channel: str
    state: str
    topic: str
    agent_id: int | None
    requested_at: datetime
    picked_up_at: datetime | None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "state": self.state,
            "topic": self.topic,
            "agent_id": self.agent_id,
            "requested_at": self.requested_at.isoformat(timespec="seconds"),
            "picked_up_at": self.picked_up_at.isoformat(timespec="seconds") if self.picked_up_at else None,
        }


@dataclass(frozen=True)
class QueuePlace:
    handoff: HandoffView
    position: int  # 1 = next
    expected_wait_minutes: int


def _view(h: Handoff) -> HandoffView:
    return HandoffView(h.id, h.conversation_id, h.channel, h.state, h.topic, h.agent_id, h.requested_at, h.picked_up_at)


class HandoffDesk:
    def __init__(self, sessions: sessionmaker[Session], *, minutes_per_customer: float, presence: timedelta) -> None:
        self._sessions = sessions
        self.minutes_per_customer = minutes_per_customer
        self.presence = presence

    # --- agents on duty ----------------------------------------------------------------

    def set_available(self, agent_id: int, available: bool, *, now: datetime | None = None) -> None:
        now = now or utcnow()
        with self._sessions.begin() as session:
            session.execute(
                update(User)
                .where(User.id == agent_id)
                .values(available_until=(now + self.presence) if available else None)
            )

    def agents_on_duty(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        with self._sessions() as session:
            return (
                session.scalar(
                    select(func.count()).select_from(User).where(User.active.is_(True), User.available_until > now)
                )
                or 0
            )

    # --- the queue ----------------------------------------------------------------------

    def request(self, conversation_id: str, channel: str, topic: str, *, now: datetime | None = None) -> QueuePlace:
        """Join the queue (or keep the place already held by this conversation)."""
        now = now or utcnow()
        with self._sessions.begin() as session:
            existing = session.scalar(
                select(Handoff).where(
                    Handoff.conversation_id == conversation_id, Handoff.state.in_(("waiting", "active"))
                )
            )
            handoff = existing or Handoff(
                conversation_id=conversation_id, channel=channel, topic=topic[:2000], state="waiting", requested_at=now
            )
            if existing is None:
                session.add(handoff)
                session.flush()
            ahead = (
                session.scalar(
                    select(func.count())
                    .select_from(Handoff)
                    .where(Handoff.state == "waiting", Handoff.requested_at < handoff.requested_at)
                )
                or 0
            )
            view = _view(handoff)
        position = ahead + 1
        return QueuePlace(view, position, max(1, round(position * self.minutes_per_customer)))

    def waiting_and_active(self) -> list[HandoffView]:
        with self._sessions() as session:
            rows = session.scalars(
                select(Handoff).where(Handoff.state.in_(("waiting", "active"))).order_by(Handoff.requested_at)
            )
            return [_view(h) for h in rows]

    def get(self, handoff_id: int) -> HandoffView | None:
        with self._sessions() as session:
            handoff = session.get(Handoff, handoff_id)
            return _view(handoff) if handoff else None

    def active_for(self, conversation_id: str) -> HandoffView | None:
        with self._sessions() as session:
            handoff = session.scalar(
                select(Handoff).where(
                    Handoff.conversation_id == conversation_id, Handoff.state.in_(("waiting", "active"))
                )
            )
            return _view(handoff) if handoff else None

    # --- state changes: each a conditional UPDATE, so two agents cannot both win ---------

    def pick_up(self, handoff_id: int, agent_id: int, *, now: datetime | None = None) -> bool:
        return self._move(handoff_id, "waiting", "active", agent_id=agent_id, picked_up_at=now or utcnow())

    def hand_back(self, handoff_id: int, *, now: datetime | None = None) -> bool:
        return self._move(handoff_id, "active", "returned", ended_at=now or utcnow())

    def time_out(self, handoff_id: int, *, now: datetime | None = None) -> bool:
        return self._move(handoff_id, "waiting", "timed_out", ended_at=now or utcnow())

    def undo_time_out(self, handoff_id: int) -> None:
        """The customer could not be told: keep them waiting and try again next round."""
        self._move(handoff_id, "timed_out", "waiting", ended_at=None)

    def overdue(self, timeout: timedelta, now: datetime | None = None) -> list[HandoffView]:
        now = now or utcnow()
        with self._sessions() as session:
            rows = session.scalars(
                select(Handoff).where(Handoff.state == "waiting", Handoff.requested_at < now - timeout)
            )
            return [_view(h) for h in rows]

    def _move(self, handoff_id: int, old: str, new: str, **values: object) -> bool:
        with self._sessions.begin() as session:
            # An UPDATE without RETURNING gives a CursorResult; Session.execute is typed as the general Result.
            result = cast(
                CursorResult[Any],
                session.execute(
                    update(Handoff).where(Handoff.id == handoff_id, Handoff.state == old).values(state=new, **values)
                ),
            )
            return result.rowcount == 1
