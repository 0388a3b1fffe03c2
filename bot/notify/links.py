"""Signed links in emails: a customer can rate a ticket without signing in, nobody else can."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

RATING_LINK_DAYS = 30


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="ticket-rating")


def rating_links(secret: str, base_url: str, reference: str) -> dict[int, str]:
    token = _serializer(secret).dumps({"ref": reference})
    return {score: f"{base_url.rstrip('/')}/feedback/{token}?rating={score}" for score in range(1, 6)}


def reference_from_token(secret: str, token: str) -> str | None:
    """The ticket a rating link names, or None if it was forged, altered or is too old."""
    try:
        data = _serializer(secret).loads(token, max_age=RATING_LINK_DAYS * 86400)
    except BadSignature:
        return None
    return str(data.get("ref")) if isinstance(data, dict) else None


def keep_open_link(secret: str, base_url: str, reference: str) -> str:
    token = URLSafeTimedSerializer(secret, salt="ticket-keep-open").dumps({"ref": reference})
    return f"{base_url.rstrip('/')}/keep-open/{token}"


def reference_from_keep_open_token(secret: str, token: str) -> str | None:
    try:
        data = URLSafeTimedSerializer(secret, salt="ticket-keep-open").loads(token, max_age=RATING_LINK_DAYS * 86400)
    except BadSignature:
        return None
    return str(data.get("ref")) if isinstance(data, dict) else None
