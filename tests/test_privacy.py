"""Masking personal data in transcripts: what must go, and what must stay readable for the agent."""

import pytest

from bot.privacy import mask_personal_data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card is 4111 1111 1111 1111 thanks", "my card is [card number] thanks"),
        ("card 4111-1111-1111-1111.", "card [card number]."),
        ("5500005555555559", "[card number]"),
        ("IBAN NL91 ABNA 0417 1643 00 please", "IBAN [IBAN] please"),
        ("refund to de89370400440532013000", "refund to [IBAN]"),
        ("call +31 20 555 0142 or (020) 555-0142", "call [phone number] or [phone number]"),
        ("my mobile 06-12345678", "my mobile [phone number]"),
        ("mail my husband bob@example.com", "mail my husband [email]"),
    ],
)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order KH-1234567 and ticket SUP-000123",
        "it cost EUR 149 on 25.11.2026, I have 2 cameras",
        "4111 1111 1111 1112 is not a valid card number",  # fails the Luhn check
        "NL12 ABNA 0417 16",  # fails the IBAN checksum and is too short for a phone number
        "firmware 2.14.3 on port 5005",
    ],
)
def test_what_is_not_personal_data_stays(text: str) -> None:
    assert mask_personal_data(text) == text


def test_the_customers_own_email_stays_and_others_go() -> None:
    text = "I'm Ada@Example.com, please cc bob@example.org"
    assert mask_personal_data(text, own_email="ada@example.com") == "I'm Ada@Example.com, please cc [email]"
