"""Signed customer identity (bot/identity.py): what the shop's server signs, the bot checks."""

from __future__ import annotations

import hashlib
import hmac

from bot.identity import sign_identity, verified_email, verify_identity

SECRET = "a-long-random-shared-secret"


def test_the_signature_is_hmac_sha256_of_the_lowercased_email() -> None:
    expected = hmac.new(SECRET.encode(), b"ada@example.com", hashlib.sha256).hexdigest()
    assert sign_identity(SECRET, " Ada@Example.COM ") == expected
    assert verify_identity(SECRET, "ada@example.com", expected.upper())


def test_wrong_secret_wrong_email_or_no_secret_is_not_verified() -> None:
    signature = sign_identity(SECRET, "ada@example.com")
    assert not verify_identity("another-secret", "ada@example.com", signature)
    assert not verify_identity(SECRET, "eve@example.com", signature)
    assert not verify_identity(SECRET, "ada@example.com", "")
    # No secret configured: nobody is verified, even with a signature made with an empty key.
    assert not verify_identity("", "ada@example.com", sign_identity("", "ada@example.com"))


def test_the_latest_valid_identity_of_a_conversation_counts() -> None:
    def said(email: str, signature: str) -> dict:
        return {"event": "user", "text": "hi", "metadata": {"identity": {"email": email, "signature": signature}}}

    events = [
        said("ada@example.com", sign_identity(SECRET, "ada@example.com")),
        {"event": "bot", "text": "Hello"},
        said("eve@example.com", "forged"),
        {"event": "user", "text": "no metadata"},
        {"event": "user", "text": "odd metadata", "metadata": {"identity": "ada@example.com"}},
    ]
    assert verified_email(events, SECRET) == "ada@example.com"
    assert verified_email(events, "") is None
    assert verified_email([], SECRET) is None
