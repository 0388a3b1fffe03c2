"""Answer from the knowledge base, and try the next article when the answer did not help.

The customer's "Yes" or "No" to an answer reaches `answer_solved` or `answer_not_helpful`
through `action_yes_no` (actions/yes_no_actions.py), which knows which question it answers.
"""

from __future__ import annotations

import atexit
import gc
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import constants as c
from bot.config import get_settings
from bot.kb.followup import answer_in_context, is_elliptical, passage_for_follow_up
from bot.kb.language import written_in_another_language
from bot.kb.live import LiveKnowledgeBase
from bot.kb.replies import Reply, answer_reply, not_found_reply
from bot.kb.search import KnowledgeBase, limit_query_threads
from bot.kb.second_try import second_try
from bot.kb.words import is_only_filler, thumbs_verdict
from bot.launcher import WARM_UP_SENDER
from bot.tickets.kb_questions import KBQuestionLog
from nlu_components import shared_vector

log = logging.getLogger(__name__)

# Passages a conversation remembers as read (`kb_read`), newest kept.
MAX_READ_KEYS = 24


def knowledge_base() -> KnowledgeBase:
    """The KB to answer from now: loaded on first use, then reloaded when `kb build` rewrote the
    index while the bot runs (bot/kb/live.py)."""
    return live_knowledge_base().current()


@lru_cache(maxsize=1)
def live_knowledge_base() -> LiveKnowledgeBase:
    settings = get_settings()
    from bot.kb.embedding import SentenceTransformerEmbedder
    from bot.kb.onnx_embedding import OnnxEmbedder

    limit_query_threads(settings.kb_query_threads)
    embedder = (
        OnnxEmbedder(settings.embedding_model_path, export_dir=settings.onnx_dir, threads=settings.kb_query_threads)
        if settings.kb_query_backend == "onnx"
        else SentenceTransformerEmbedder(settings.embedding_model_path)
    )

    def load(index_dir: Path) -> KnowledgeBase:
        """Model and index: a few seconds the first time; a rebuilt index reuses the model."""
        kb = KnowledgeBase.load(index_dir, threshold=settings.kb_answer_threshold, embedder=embedder)
        kb.search("warm up")  # the embedder's session and the index are built now, not in a customer's turn
        # What is alive now (libraries, model, index) lives as long as the server: freeze it out of
        # Python's full collections, which walked all of it and stalled every reply for about 200 ms
        # every 20 s or so under load (docs/benchmarks.md). Reference counting still frees it; the
        # unfreeze first lets the collection free what a previous index left in cycles.
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        return kb

    return LiveKnowledgeBase(settings.kb_index_dir, load)


@lru_cache(maxsize=1)
def question_log() -> KBQuestionLog:
    """Written to the helpdesk's database, beside the tickets (bot/tickets/kb_questions.py)."""
    from actions.ticket_actions import ticket_store  # imported here: ticket_actions imports this module

    log = KBQuestionLog(ticket_store().sessions, pipeline=get_settings().spacy_pipeline)
    # The writer saves a second after a question: what is still waiting when the server stops
    # (Ctrl-C, a deploy) is saved on the way out, not lost.
    atexit.register(log.flush)
    return log


def record_question(tracker: Tracker, question: str, outcome: str, article_id: str | None, score: float | None) -> None:
    """For the admins' report of what the help centre lacks; never in the customer's way."""
    if tracker.sender_id == WARM_UP_SENDER:
        return
    try:
        question_log().record(
            tracker.sender_id,
            question,
            outcome,
            channel=tracker.get_latest_input_channel() or "unknown",
            article_id=article_id,
            score=score,
        )
    except Exception:
        log.exception("could not record a KB question")


def open_ticket_here(tracker: Tracker) -> str | None:
    """The newest open ticket of this conversation, offered to add an unanswered message to."""
    from actions.ticket_actions import ticket_store  # imported here: ticket_actions imports this module

    open_ones = ticket_store().open_for_customer(email=None, conversation_id=tracker.sender_id)
    return open_ones[0].reference if open_ones else None


def send(dispatcher: CollectingDispatcher, replies: list[Reply]) -> None:
    for reply in replies:
        kwargs: dict[str, Any] = {"text": reply.text}
        if reply.buttons:
            kwargs["buttons"] = reply.buttons
        dispatcher.utter_message(**kwargs)


def shared_vector_of(tracker: Tracker, kb: KnowledgeBase) -> np.ndarray | None:
    """The latest message's sentence vector from Rasa's NLU pipeline, if it is one this KB can use."""
    return shared_vector.decode(
        tracker.latest_message.get(shared_vector.TEXT_VECTOR_KEY),
        model=kb.embedder.name,
        dimension=kb.embedder.dimension,
    )


def changed_slots(tracker: Tracker, values: dict[str, Any]) -> list[dict]:
    """SlotSet events for the values that differ from the tracker's.

    Rasa stores every event and reloads the whole conversation for each message, so a slot
    set to the value it already has costs on every later turn for nothing.
    """
    return [SlotSet(name, value) for name, value in values.items() if tracker.get_slot(name) != value]


class ActionAnswerFromKB(Action):
    def name(self) -> str:
        return c.ACTION_ANSWER_FROM_KB

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        question = tracker.latest_message.get("text") or ""
        verdict = thumbs_verdict(question)
        if verdict is not None:  # "👍" to "Did this solve it?" or to a ticket offer: a yes
            from actions.yes_no_actions import ActionYesNo  # here: that module imports this one

            return ActionYesNo().answer(dispatcher, tracker, domain, yes=verdict)
        if not any(ch.isalnum() for ch in question) or question.startswith("/") or is_only_filler(question):
            # "", "?", "!!!", "hmm": nothing to search for, and nothing to open a ticket about.
            dispatcher.utter_message(text="What would you like to know? Type your question in your own words.")
            return []
        kb = knowledge_base()
        vector = shared_vector_of(tracker, kb)  # the NLU pipeline embedded this very text already
        previous_topic = tracker.get_slot(c.SLOT_KB_TOPIC)
        answer, query, follow_up = answer_in_context(kb, question, previous_topic, query_vector=vector)
        # A few words that found nothing ("to guernsey?" after a shipping question) are no topic for
        # the next question: the one before stays, with what was read since.
        keeps_topic = follow_up or (bool(previous_topic) and answer.decision != "answer" and is_elliptical(question))
        topic = previous_topic if keeps_topic else question
        # What the customer has read since the topic's question, so a follow-up shows something new.
        read = list(tracker.get_slot(c.SLOT_KB_READ) or []) if keeps_topic else []
        closest = answer.hits[0] if answer.hits else None
        if answer.decision == "answer" and answer.best:
            best = answer.best
            if follow_up:
                best = passage_for_follow_up(kb, question, best, read, query_vector=vector)
            # Every part of it read since the last topic's question (a follow-up the read passage
            # answers best, or a new question landing on it): said so, not presented as news.
            read_before = tracker.get_slot(c.SLOT_KB_READ) or []
            read_again = bool(read_before) and not kb.unread(best.article_id, best.passage, read_before)
            send(dispatcher, answer_reply(best, read_again=read_again))
            read = remember_read(read, kb.read_keys(best.article_id, best.passage))
            shown = [answer.best.article_id]
            outcome = "answered"
        elif written_in_another_language(question):
            # "mi cámara no funciona": the help centre and the bot are in English. Say so, rather
            # than "I'm not sure" with a ticket offer an English-speaking team may not read.
            dispatcher.utter_message(response="utter_english_only")
            return []
        elif not kb.reads_as_words(question):
            # "asdfgh": ask again; no ticket for it, and not an unanswered question for the admins.
            dispatcher.utter_message(response="utter_default")
            return []
        elif (tracker.latest_message.get("intent") or {}).get("name") == c.INTENT_OUT_OF_SCOPE:
            # Out of scope and no article either: say so, and offer no ticket for the weather.
            dispatcher.utter_message(response="utter_out_of_scope")
            shown = []
            outcome = "off_topic"
        else:
            send(dispatcher, not_found_reply(answer.hits, open_ticket=open_ticket_here(tracker)))
            shown = []
            outcome = "escalated"
        if closest is None:
            record_question(tracker, question, outcome, None, None)
        else:
            record_question(tracker, question, outcome, closest.article_id, closest.score)
        return [
            *changed_slots(
                tracker, {c.SLOT_KB_TOPIC: topic, c.SLOT_KB_QUERY: query, c.SLOT_KB_SHOWN: shown, c.SLOT_KB_READ: read}
            ),
            *abandoned_ticket_draft(tracker),
        ]


def remember_read(read: list[str], keys: list[str]) -> list[str]:
    """`read` with `keys` added, the oldest dropped beyond MAX_READ_KEYS: a topic rarely shows more,
    and the slot is stored with every turn of the conversation."""
    return [*read, *(key for key in keys if key not in read)][-MAX_READ_KEYS:]


def abandoned_ticket_draft(tracker: Tracker) -> list[dict]:
    """A customer who asks something new instead of answering "Shall I add this to SUP-...?"
    has left that ticket draft: its slots go, or a later "open a ticket" would file the old
    description again instead of asking for the new one."""
    if not tracker.get_slot(c.SLOT_TICKET_DUPLICATE_OF):
        return []
    draft = (c.SLOT_TICKET_SUMMARY, c.SLOT_TICKET_CATEGORY, c.SLOT_TICKET_ORDER_REF, c.SLOT_TICKET_DUPLICATE_OF)
    return [SlotSet(name, None) for name in draft]


def answer_not_helpful(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict]:
    """ "No" to "Did this solve it?": once, the next best confident article or else another part of
    the article just shown (bot/kb/second_try.py); then the honest answer."""
    query = tracker.get_slot(c.SLOT_KB_QUERY) or ""
    shown = list(tracker.get_slot(c.SLOT_KB_SHOWN) or [])
    kb = knowledge_base()
    if shown:
        record_question(tracker, query, "not_helpful", shown[-1], None)
    hits = kb.search(query) if query else []
    read = list(tracker.get_slot(c.SLOT_KB_READ) or [])
    again = second_try(kb, query, hits, shown[0], read) if len(shown) == 1 else None
    if again is not None:
        send(dispatcher, answer_reply(again.hit, second_try=True, same_article=again.same_article))
        record_question(tracker, query, "answered", again.hit.article_id, again.hit.score)
        # The same article twice when it was another part of it: a second "No" is the last.
        return [
            SlotSet(c.SLOT_KB_SHOWN, [*shown, again.hit.article_id]),
            SlotSet(c.SLOT_KB_READ, remember_read(read, kb.read_keys(again.hit.article_id, again.hit.passage))),
        ]
    unseen = [h for h in hits if h.article_id not in shown]
    send(dispatcher, not_found_reply(unseen, after_tries=bool(shown), open_ticket=open_ticket_here(tracker)))
    return []


def answer_solved(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict]:
    """ "Yes, that solved it": glad to hear it, and the article is counted as having solved it."""
    dispatcher.utter_message(response="utter_glad_it_helped")
    shown = tracker.get_slot(c.SLOT_KB_SHOWN) or []
    if shown:
        record_question(tracker, tracker.get_slot(c.SLOT_KB_QUERY) or "", "solved", shown[-1], None)
    return []


class ActionPing(Action):
    """Replies without any work: a liveness check, and the baseline cost of the action-server hop."""

    def name(self) -> str:
        return c.ACTION_PING

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        dispatcher.utter_message(text="pong")
        return []
