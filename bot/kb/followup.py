"""Follow-up questions: "and how long does that take?" only makes sense with the last topic."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.kb.search import TOP_K

if TYPE_CHECKING:
    import numpy as np

    from bot.kb.search import Answer, Hit, KnowledgeBase

__all__ = [
    "answer_in_context",
    "contextualize",
    "is_elliptical",
    "is_follow_up",
    "joined_to_topic",
    "looks_like_follow_up",
    "passage_for_follow_up",
]

_OPENERS = re.compile(
    r"^(and|also|but|so|then|ok(ay)? and|what about|how about|what if|and if|does that|is that|can i do that|"
    r"where do i find that|how much does (it|that))\b",
    re.IGNORECASE,
)
_POINTERS = {"that", "it", "this", "those", "them", "these", "there", "one", "same"}
# A thing named before the pointer ("the app crashes when i open it", "my order says backordered,
# what does that mean"): the pointer most likely means that thing, not the last topic.
_NAMING_WORDS = {"the", "my", "a", "an", "your", "our"}
_BE = {"is", "are", "was", "were", "be"}
MAX_FOLLOW_UP_WORDS = 10
# How much surer the reading with the last topic must be to win over a confident reading alone.
# Chosen on the follow-up cases of `kb eval` (there is no separate split of them): margins 0 /
# 0.1 / 0.2 gave 38 / 41 / 43 of 48 questions that only look like follow-ups and 8 / 8 / 6 of 9
# genuine ones right.
FOLLOW_UP_MARGIN = 0.1
# How far below the question's own best article the joined reading's article may score when the
# question is read alone. A switch of subject ("also how long do refunds take to show up" after
# "im locked out of my account") finds the locked-account article only through the topic's words:
# alone, that article scores 1.3 below the refund article. Chosen on the choosing split of
# eval/kb_follow_ups.jsonl with the demo look-alikes (docs/benchmarks.md, "Questions after another one").
TOPIC_REACH = 1.2
# How many articles the question alone is scored against, to find the joined reading's article.
ALONE_CANDIDATES = 50
# A question of a few words ("how much?", "time limit?") that no article answers on its own is
# most likely about the last topic, though it says neither "it" nor "and". It is read with the
# topic then (or, confident alone, by ELLIPTICAL_MARGIN below), and only if the question alone
# still scores the article that reading finds at least ELLIPTICAL_FLOOR: joined to a confident
# topic, "recipe for fluffy pancakes" found the password article. Both chosen on the choosing
# split of eval/kb_follow_ups.jsonl's `elliptical` rows, demo and calibration questions after other
# ones, and out-of-scope questions after answerable ones (docs/benchmarks.md, "Questions after
# another one"): 5 or 6 words answered more out-of-scope questions with the last topic's article,
# and no more elliptical ones.
MAX_ELLIPTICAL_WORDS = 4
ELLIPTICAL_FLOOR = 0.15
# A few words that are confident on their own take the topic only when the joined reading scores
# this much higher: "can i undo?" after "how do i delete my kestrel account" finds the Protect
# cancellation alone (0.87) and the account deletion joined (1.54), while "where is my order" after
# a password question stays the tracking article (1.07 alone, the password article 1.29 joined).
# Chosen on the same rows (docs/benchmarks.md, "Questions after another one"): 0 to 0.3 lost demo
# questions read after unrelated ones to the topic, 0.4 and 0.5 did not, and all gave the same
# elliptical rows right; the smallest that loses nothing.
ELLIPTICAL_MARGIN = 0.4
# A few words scoring this much alone are answered alone without searching the joined reading: the
# second search costs an embedding (6-8 ms), and of the choosing split's elliptical rows none above
# 0.88 alone was given another article by the margin ("where is my order" 1.07 stays alone).
ELLIPTICAL_SURE_ALONE = 1.0
# A follow-up whose best passage the customer has read gets another one only if that matches the
# question about as well as the article's best chunk (within this much); else the read passage
# again, which holds the answer more often than the next unread one. Chosen on the choosing split
# of eval/kb_follow_up_spans.jsonl (docs/benchmarks.md, "Which passage a follow-up is shown"):
# always another passage gave 35 of 49 right, 0 and 0.025 gave 41, 0.05 gave 40, 0.1 gave 39.
REREAD_MARGIN = 0.025


def looks_like_follow_up(question: str) -> bool:
    """Short, and opens like a continuation or holds a pointer word ("it", "that", "one")."""
    words = re.findall(r"[a-z']+", question.lower())
    if not words or len(words) > MAX_FOLLOW_UP_WORDS:
        return False
    return bool(_OPENERS.match(question.strip())) or bool(_POINTERS.intersection(words))


def is_follow_up(question: str) -> bool:
    """Short questions that open like a continuation or point back at something unnamed.

    "the app crashes when i open it" names what "it" is first, so it is read alone: joining
    such questions to the last topic made 8 of 16 demo questions worth a second search (and a
    second embedding, about 10 ms) and answered fewer of them rightly (`kb eval`).
    """
    if not looks_like_follow_up(question):
        return False
    if _OPENERS.match(question.strip()):
        return True
    words = re.findall(r"[a-z']+", question.lower())
    pointers = [i for i, word in enumerate(words) if word in _POINTERS and _points_back(words, i)]
    return bool(pointers) and not _NAMING_WORDS.intersection(words[: pointers[0]])


def is_elliptical(question: str) -> bool:
    """A question of a few words at most (MAX_ELLIPTICAL_WORDS), which may lean on the last topic
    without saying so: "how much?", "on android?"."""
    words = re.findall(r"[a-z0-9']+", question.lower())
    return 0 < len(words) <= MAX_ELLIPTICAL_WORDS


def _points_back(words: list[str], i: int) -> bool:
    """Whether pointer word `i` stands for something: not the "there" of "is there a free trial"."""
    before, after = words[i - 1] if i else "", words[i + 1] if i + 1 < len(words) else ""
    return words[i] != "there" or (before not in _BE and after not in _BE)


def joined_to_topic(topic: str, question: str) -> str:
    """The text a question is searched as when read with its topic."""
    return f"{topic.strip()} {question.strip()}"


def contextualize(question: str, topic: str | None) -> tuple[str, bool]:
    """The text to search for, and whether it is a follow-up of `topic`."""
    question = question.strip()
    if topic and is_follow_up(question):
        return joined_to_topic(topic, question), True
    return question, False


def answer_in_context(
    kb: KnowledgeBase, question: str, topic: str | None, *, query_vector: np.ndarray | None = None
) -> tuple[Answer, str, bool]:
    """The answer, the text searched, and whether the question was read as a follow-up of `topic`.

    A question that does not read like a follow-up is answered on its own. One that does is
    searched both ways, and takes the topic when that reading is the surer one (not confident on
    its own, or the joined reading's best score at least FOLLOW_UP_MARGIN higher) and the question
    alone is still near the joined reading's article (TOPIC_REACH). So "and how
    long does that take?" gets the topic, while a new question that merely says "it" ("the app
    crashes when I open it") is not bent towards the last one: joined to "how do I reset my
    password", it found the password article. A question of a few words with neither ("how much?"
    after a shipping question) is read both ways too, and takes the topic by a wider margin when
    it is confident alone (`is_elliptical`, ELLIPTICAL_MARGIN, ELLIPTICAL_FLOOR). The joined
    reading counts the question's own unknown words: with the topic's, "does it work with
    smartthings?" lost the sign that nobody answers it.
    Until 2026-11-26 a question confident on its own never took the topic; with the lower threshold
    that came with the not-answered questions, "how much does it cost?" after "how do i return my
    doorbell" was then answered on its own with a price article. Since 2026-11-27 "also how long do
    refunds take to show up" after "im locked out of my account" is no longer answered with the
    locked-account article: alone, that article scores far below its best. Not yet told apart:
    "ok thx, does it work with my echo show?" after the password question, which alone is not
    confident and not far enough from the password article. `python -m bot kb eval` measures all
    these kinds (docs/benchmarks.md). `query_vector` is the question's own embedding, if the caller
    has it.
    """
    query, follow_up = contextualize(question, topic)
    elliptical = not follow_up and bool(topic) and is_elliptical(question)
    if not follow_up and not elliptical:
        return kb.answer(question, query_vector=query_vector), question.strip(), False
    alone = kb.answer(question, query_vector=query_vector, top_k=ALONE_CANDIDATES)
    if elliptical:
        if alone.decision == "answer" and alone.hits[0].score >= ELLIPTICAL_SURE_ALONE:
            return replace(alone, hits=alone.hits[:TOP_K]), question.strip(), False
        query = joined_to_topic(topic or "", question)
    # The question's own words for the unknown-word term: the topic's would hide "bitcoin".
    joined = kb.answer(query, unknown_words_of=question)
    margin = ELLIPTICAL_MARGIN if elliptical else FOLLOW_UP_MARGIN
    surer = alone.decision != "answer" or (joined.hits and joined.hits[0].score >= alone.hits[0].score + margin)
    near_enough = not elliptical or _alone_score(alone, joined) >= ELLIPTICAL_FLOOR
    if surer and near_enough and _within_reach_alone(alone, joined):
        return joined, query, True
    return replace(alone, hits=alone.hits[:TOP_K]), question.strip(), False


def _alone_score(alone: Answer, joined: Answer) -> float:
    """The question alone's score for the joined reading's article (-inf if not among its hits)."""
    if not joined.hits:
        return float("-inf")
    return next((hit.score for hit in alone.hits if hit.article_id == joined.hits[0].article_id), float("-inf"))


def _within_reach_alone(alone: Answer, joined: Answer) -> bool:
    """Whether the question alone scores the joined reading's article within TOPIC_REACH of its
    own best: a genuine follow-up is still somewhat about its topic's article ("how long does that
    take" and the returns article), a new subject is not."""
    if not joined.hits:
        return False
    if not alone.hits:
        return True
    return alone.hits[0].score - _alone_score(alone, joined) < TOPIC_REACH


def passage_for_follow_up(
    kb: KnowledgeBase,
    question: str,
    best: Hit,
    read: Collection[str],
    *,
    query_vector: np.ndarray | None = None,
    margin: float | None = REREAD_MARGIN,
) -> Hit:
    """`best` (a follow-up's answer) less the passages the customer has read since the topic's
    question (`KnowledgeBase.read_keys`): they asked on, so the same text again would mostly tell
    them nothing new. When all of it was read, the article's passage with nothing read in it that
    matches the question alone within REREAD_MARGIN of the best chunk, else `best` as it is: "and
    how long does that take?" after the shipping answer that gave the delivery times is better
    answered by those times again than by what happens when customs charges are refused.
    `margin` None: another passage whenever there is one (measured against, in `kb eval`).
    """
    unread = kb.unread(best.article_id, best.passage, read)
    if unread == best.passage:
        return best
    if unread:
        return replace(best, passage=unread)
    other = kb.other_passage(question, best.article_id, read, query_vector=query_vector, within=margin)
    return replace(best, passage=other) if other else best
