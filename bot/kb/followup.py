"""Follow-up questions: "and how long does that take?" only makes sense with the last topic."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from bot.kb.search import Answer, KnowledgeBase

__all__ = ["answer_in_context", "contextualize", "is_follow_up"]

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


def answer_in_context(
    kb: KnowledgeBase, question: str, topic: str | None, *, query_vector: np.ndarray | None = None
) -> tuple[Answer, str, bool]:
    """The answer, the text searched, and whether the question was read as a follow-up of `topic`.

    A question the KB can answer confidently on its own is answered on its own; only when it
    cannot, and it reads like a follow-up, is it searched again together with the topic. So
    "and how long does that take?" gets the topic, while a new question that merely says "it"
    ("the app crashes when I open it") is not bent towards the last one: joined to "how do I
    reset my password", it found the password article. `python -m bot kb eval` measures it: the
    demo KB's questions that read like follow-ups (16 of 188), each after three unrelated topics,
    24 of 48 answered with the right article against 10 when every such question took the topic;
    genuine follow-ups (eval/kb_follow_ups.jsonl) 5 of 9 against 6 (the sixth, "do I get money
    back for it" after cancelling Kestrel Protect, is answered with the refund policy on its own).
    `query_vector` is the question's own embedding, if the caller has it.
    """
    alone = kb.answer(question, query_vector=query_vector)
    query, follow_up = contextualize(question, topic)
    if not follow_up or alone.decision == "answer":
        return alone, question.strip(), False
    return kb.answer(query), query, True
