"""Follow-up questions: "and how long does that take?" only makes sense with the last topic."""

from __future__ import annotations

import re

__all__ = ["contextualize", "is_follow_up"]

_OPENERS = re.compile(
    r"^(and|also|but|so|then|ok(ay)? and|what about|how about|what if|and if|does that|is that|can i do that|"
    r"where do i find that|how much does (it|that))\b",
    re.IGNORECASE,
)
_POINTERS = {"that", "it", "this", "those", "them", "these", "there", "one", "same"}
MAX_FOLLOW_UP_WORDS = 10


def is_follow_up(question: str) -> bool:
    """Short questions that open like a continuation or point back at something unnamed."""
    words = re.findall(r"[a-z']+", question.lower())
    if not words or len(words) > MAX_FOLLOW_UP_WORDS:
        return False
    return bool(_OPENERS.match(question.strip())) or bool(_POINTERS.intersection(words))


def contextualize(question: str, topic: str | None) -> tuple[str, bool]:
    """The text to search for, and whether it is a follow-up of `topic`."""
    question = question.strip()
    if topic and is_follow_up(question):
        return f"{topic.strip()} {question}", True
    return question, False
