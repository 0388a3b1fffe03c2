"""Agents and admins: argon2-hashed passwords, and API tokens of which only a hash is kept."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.tickets.chat import find_email
from bot.tickets.models import ROLES, ApiToken, User, utcnow

_hasher = PasswordHasher()
MIN_PASSWORD_CHARS = 10


@dataclass(frozen=True)
class Agent:
    """Who is acting: what the API and console check permissions against."""

    id: int
    email: str
    name: str
    role: str
    team: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        return f"agent:{self.email}"

    def may_see_team(self, team: str) -> bool:
        return self.is_admin or self.team is None or self.team == team


def _agent(user: User) -> Agent:
    return Agent(user.id, user.email, user.name, user.role, user.team)


class UserDirectory:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def create(
        self, email: str, password: str, *, role: str = "agent", name: str = "", team: str | None = None
    ) -> Agent:
        clean = find_email(email)
        if clean is None or clean != email.strip().lower():
            raise ValueError(f"'{email}' is not an email address")
        if role not in ROLES:
            raise ValueError(f"unknown role '{role}': use agent or admin")
        if len(password) < MIN_PASSWORD_CHARS:
            raise ValueError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
        try:
            with self._sessions.begin() as session:
                user = User(
                    email=clean,
                    name=name or clean.split("@")[0],
                    role=role,
                    team=team or None,
                    password_hash=_hasher.hash(password),
                )
                session.add(user)
                session.flush()
                return _agent(user)
        except IntegrityError:
            raise ValueError(f"a user with the email {clean} already exists") from None

    def authenticate(self, email: str, password: str) -> Agent | None:
        with self._sessions() as session:
            user = session.scalar(select(User).where(User.email == email.strip().lower(), User.active.is_(True)))
            if user is None:
                _hasher.hash(password)  # same work as a real check: no timing hint that the email exists
                return None
            try:
                _hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                return None
            return _agent(user)

    def issue_token(self, user_id: int, name: str = "") -> str:
        """A new bearer token, shown once; the database keeps its SHA-256 only."""
        token = "kst_" + secrets.token_urlsafe(32)
        with self._sessions.begin() as session:
            session.add(ApiToken(user_id=user_id, name=name, token_hash=_digest(token)))
        return token

    def by_token(self, token: str) -> Agent | None:
        if not token:
            return None
        with self._sessions.begin() as session:
            row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
            if row is None:
                return None
            user = session.get(User, row.user_id)
            if user is None or not user.active:
                return None
            row.last_used_at = utcnow()
            return _agent(user)

    def get(self, user_id: int) -> Agent | None:
        with self._sessions() as session:
            user = session.get(User, user_id)
            return _agent(user) if user and user.active else None

    def by_email(self, email: str) -> Agent | None:
        with self._sessions() as session:
            user = session.scalar(select(User).where(User.email == email.strip().lower()))
            return _agent(user) if user and user.active else None

    def list(self) -> list[Agent]:
        with self._sessions() as session:
            return [_agent(u) for u in session.scalars(select(User).order_by(User.email))]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
