"""The demo questions through the whole running bot, as a customer meets them.

`kb eval` measures the KB's answer/escalate decision alone. A customer's first message goes
through Rasa's NLU first: the intent classifier may take a question for chit-chat, out of
scope or a request for a person before the KB is asked, and it may turn away a support
question the KB would have answered. This starts a private stack (as `bench conversations`
does), sends each question as the first message of a new REST conversation, and sorts what
came back:

- `answered`: an article presented as the answer ("Read the full article: [title](url)");
- `not_found`: the honest "I'm not sure about this one" with the closest articles;
- `out_of_scope`: the NLU's out-of-scope reply;
- `other`: anything else (a greeting, "what I can do", a hand-over to a person), its text kept.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.bench.common import machine, write_json
from bot.config import Settings
from bot.kb.documents import load_articles
from bot.kb.evaluate import Question
from bot.launcher import start_stack

__all__ = ["BotReply", "classify_reply", "run_whole_bot_eval", "summarise"]

ARTICLE_LINK = re.compile(r"Read the full article: \[[^\]]*\]\(([^)\s]+)\)")
NOT_FOUND_OPENINGS = ("I'm not sure about this one", "Sorry, I couldn't find an answer")
OUT_OF_SCOPE_OPENING = "Sorry, that's outside what I can help with"
# A few questions at a time: a thousand take half a minute instead of one or two, and each is
# still its own conversation, so none can influence another's answer.
CONCURRENCY = 4


@dataclass(frozen=True)
class BotReply:
    outcome: str  # answered, not_found, out_of_scope, other, error
    article_id: str | None = None
    text: str = ""


def classify_reply(messages: list[dict], article_of_url: dict[str, str]) -> BotReply:
    """What one REST response body (the bot's messages for one customer message) amounts to."""
    text = "\n\n".join(str(m.get("text", "")) for m in messages if m.get("text"))
    link = ARTICLE_LINK.search(text)
    if link:
        url = link.group(1)
        return BotReply("answered", article_of_url.get(url, f"unknown url {url}"), text)
    if text.startswith(NOT_FOUND_OPENINGS):
        return BotReply("not_found", text=text)
    if text.startswith(OUT_OF_SCOPE_OPENING):
        return BotReply("out_of_scope", text=text)
    return BotReply("other", text=text)


def summarise(questions: list[Question], replies: list[BotReply]) -> dict[str, Any]:
    """Per split: answerable questions answered with the right article, with another, or not
    answered (by how); out-of-scope questions answered with any article."""
    splits: dict[str, Any] = {}
    for split in dict.fromkeys(q.split for q in questions):
        pairs = [(q, r) for q, r in zip(questions, replies, strict=True) if q.split == split]
        answerable = [(q, r) for q, r in pairs if q.article_id]
        oos = [(q, r) for q, r in pairs if not q.article_id]
        right = sum(r.outcome == "answered" and r.article_id == q.article_id for q, r in answerable)
        wrong = sum(r.outcome == "answered" and r.article_id != q.article_id for q, r in answerable)
        oos_answered = [r for _, r in oos if r.outcome == "answered"]
        splits[split] = {
            "answerable": len(answerable),
            "right_article": right,
            "right_article_rate": round(right / len(answerable), 3) if answerable else None,
            "wrong_article": wrong,
            "answerable_not_answered_by": dict(Counter(r.outcome for _, r in answerable if r.outcome != "answered")),
            "out_of_scope": len(oos),
            "out_of_scope_answered": len(oos_answered),
            "out_of_scope_answered_rate": round(len(oos_answered) / len(oos), 3) if oos else None,
            "out_of_scope_answered_by_kind": dict(Counter(q.kind for q, r in oos if r.outcome == "answered")),
            "out_of_scope_by_kind": dict(Counter(q.kind for q, _ in oos)),
            "out_of_scope_stopped_by": dict(Counter(r.outcome for _, r in oos if r.outcome != "answered")),
            "errors": sum(r.outcome == "error" for _, r in pairs),
        }
    return splits


async def _ask_all(rasa_url: str, questions: list[Question], article_of_url: dict[str, str]) -> list[BotReply]:
    url = f"{rasa_url}/webhooks/rest/webhook"
    replies: list[BotReply | None] = [None] * len(questions)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def ask(client: httpx.AsyncClient, number: int, question: Question) -> None:
        # A new sender each time: every question is the first message of its own conversation.
        sender = f"eval-{question.split}-{question.id}-{uuid.uuid4().hex[:8]}"
        async with gate:
            try:
                response = await client.post(url, json={"sender": sender, "message": question.text})
                response.raise_for_status()
                replies[number] = classify_reply(response.json(), article_of_url)
            except (httpx.HTTPError, ValueError) as error:
                replies[number] = BotReply("error", text=f"{type(error).__name__}: {error}")

    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(ask(client, n, q) for n, q in enumerate(questions)))
    return [r if r is not None else BotReply("error") for r in replies]


def _reply_row(question: Question, reply: BotReply) -> dict[str, Any]:
    row = {
        "id": question.id,
        "split": question.split,
        "kind": question.kind,
        "expected": question.article_id,
        "outcome": reply.outcome,
        "article_id": reply.article_id,
    }
    if reply.outcome in ("other", "error"):  # the other outcomes' text is known from their kind
        row["text"] = reply.text[:200]
    return row


def run_whole_bot_eval(settings: Settings, questions: list[Question], out: Path | None = None) -> dict[str, Any]:
    """Start a private stack, ask every question once, stop it; returns (and writes) the figures."""
    articles, _problems = load_articles(settings.kb_source_dir)
    article_of_url = {a.url: a.id for a in articles if a.url}
    stack = start_stack(settings, on_progress=lambda line: None)
    try:
        started = time.monotonic()
        replies = asyncio.run(_ask_all(settings.rasa_url, questions, article_of_url))
        elapsed = time.monotonic() - started
    finally:
        stack.stop()
    figures = {
        "machine": machine(),
        "questions": len(questions),
        "seconds": round(elapsed, 1),
        "splits": summarise(questions, replies),
        "replies": [_reply_row(q, r) for q, r in zip(questions, replies, strict=True)],
    }
    write_json(out, figures)
    return figures
