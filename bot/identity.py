"""Verified customers: the shop's own server vouches for who is chatting.

A signed-in customer's page passes their email and an HMAC-SHA256 of it, made with a secret
shared only between the shop's server and ours (`SUPPORT_WIDGET_IDENTITY_SECRET`). The widget
sends both with each message; the actions check the signature in constant time before trusting
the email for anything that shows tickets across conversations. Without a valid signature a
visitor still chats and opens tickets, but sees only the tickets of this conversation.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

__all__ = ["IDENTITY_METADATA_KEY", "sign_identity", "verified_email", "verify_identity"]

# Where the widget puts {"email": ..., "signature": ...} in each message's metadata.
IDENTITY_METADATA_KEY = "identity"


def _normalise(email: str) -> str:
    return email.strip().lower()


def sign_identity(secret: str, email: str) -> str:
    """What the shop's server computes for a signed-in customer (hex digest)."""
    return hmac.new(secret.encode(), _normalise(email).encode(), hashlib.sha256).hexdigest()


def verify_identity(secret: str, email: str, signature: str) -> bool:
    """True only with a configured secret and a signature that matches, compared in constant time."""
    if not secret or not email or not signature:
        return False
    return hmac.compare_digest(sign_identity(secret, email), signature.strip().lower())


def verified_email(events: Iterable[dict[str, Any]], secret: str) -> str | None:
    """The email of the latest correctly signed identity in a conversation's user messages."""
    for event in reversed(list(events)):
        if event.get("event") != "user":
            continue
        metadata = event.get("metadata")
        identity = metadata.get(IDENTITY_METADATA_KEY) if isinstance(metadata, dict) else None
        if not isinstance(identity, dict):
            continue
        email, signature = identity.get("email"), identity.get("signature")
        if isinstance(email, str) and isinstance(signature, str) and verify_identity(secret, email, signature):
            return _normalise(email)
    return None
