"""Mask personal data in transcripts before they leave the chat.

Card numbers (Luhn-checked), IBANs (mod-97-checked), phone numbers and every email address
except the customer's own are replaced by a label such as "[card number]". Candidates come
from spaCy `Matcher` rules over tokens; a checksum or digit count then decides, so order
numbers, ticket references, prices and dates stay readable for the agent.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from spacy.matcher import Matcher
from spacy.util import filter_spans

from bot.kb.chunking import load_nlp

CARD = "[card number]"
IBAN = "[IBAN]"
PHONE = "[phone number]"
EMAIL = "[email]"

# Digits, a leading "+", and the separators people type inside numbers.
_DIGITISH = r"^(\+?\d+|[()\-./+])$"
_IBAN_START = r"(?i)^[a-z]{2}\d{2}[a-z0-9]*$"
_IBAN_GROUP = r"(?i)^[a-z0-9]{1,4}$"


@lru_cache(maxsize=4)
def _pipeline(name: str) -> tuple[Any, Matcher]:
    nlp = load_nlp(name)
    matcher = Matcher(nlp.vocab)
    matcher.add("NUMBER", [[{"TEXT": {"REGEX": _DIGITISH}, "OP": "+"}]], greedy="LONGEST")
    matcher.add(
        "IBAN", [[{"TEXT": {"REGEX": _IBAN_START}}, {"TEXT": {"REGEX": _IBAN_GROUP}, "OP": "*"}]], greedy="LONGEST"
    )
    matcher.add("EMAIL", [[{"LIKE_EMAIL": True}]])
    return nlp, matcher


def mask_personal_data(text: str, *, own_email: str | None = None, pipeline: str = "blank:en") -> str:
    """`text` with card numbers, IBANs, phone numbers and foreign emails replaced."""
    if not text or not any(ch.isdigit() or ch == "@" for ch in text):
        return text  # nothing that could be masked: skip the tokenizer
    nlp, matcher = _pipeline(pipeline)
    doc = nlp.make_doc(text)
    own = (own_email or "").strip().lower()
    found = []
    for match_id, start, end in matcher(doc):
        kind = nlp.vocab.strings[match_id]
        span = doc[start:end]
        if kind == "EMAIL":
            if span.text.lower() != own:
                found.append((span, EMAIL))
        elif kind == "IBAN":
            iban = _valid_iban_prefix(span)
            if iban is not None:
                found.append((iban, IBAN))
        else:
            numbered = _classify_number(span)
            if numbered is not None:
                found.append(numbered)
    if not found:
        return text
    labels = {(s.start, s.end): label for s, label in found}
    # Longest first, so an IBAN wins over the digit groups inside it.
    spans = sorted(filter_spans([s for s, _ in found]), key=lambda s: s.start)
    pieces, cursor = [], 0
    for span in spans:
        pieces.append(text[cursor : span.start_char])
        pieces.append(labels[(span.start, span.end)])
        cursor = span.end_char
    pieces.append(text[cursor:])
    return "".join(pieces)


def _valid_iban_prefix(span: Any) -> Any | None:
    """The longest leading part of `span` that is a valid IBAN (trailing words may have joined)."""
    for end in range(len(span), 0, -1):
        candidate = "".join(t.text for t in span[:end]).upper()
        if 15 <= len(candidate) <= 34 and _iban_checksum_ok(candidate):
            return span[:end]
    return None


def _iban_checksum_ok(iban: str) -> bool:
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", iban):
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def _classify_number(span: Any) -> tuple[Any, str] | None:
    """A card number if 13-19 digits pass Luhn; a phone number if it looks like one."""
    # Separators at the edges belong to the sentence, except "(" that opens an area code.
    start, end = 0, len(span)
    while start < end and not any(ch.isdigit() for ch in span[start].text) and span[start].text not in ("(", "+"):
        start += 1
    while end > start and not any(ch.isdigit() for ch in span[end - 1].text):
        end -= 1
    if start == end:
        return None
    trimmed = span[start:end]
    digits = "".join(ch for ch in trimmed.text if ch.isdigit())
    if 13 <= len(digits) <= 19 and _luhn_ok(digits):
        return trimmed, CARD
    looks_international = trimmed.text.startswith(("+", "00", "(0", "0"))
    if (looks_international and 8 <= len(digits) <= 15) or 10 <= len(digits) <= 15:
        if "." in trimmed.text and trimmed.text.count(".") >= 2:
            return None  # a date such as 25.11.2026 or a version number
        return trimmed, PHONE
    return None


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0
