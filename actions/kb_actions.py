"""Answer from the knowledge base, and try the next article when the answer did not help."""

from __future__ import annotations

import gc
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import constants as c
from bot.config import get_settings
from bot.kb.followup import answer_in_context
from bot.kb.live import LiveKnowledgeBase
from bot.kb.replies import Reply, answer_reply, not_found_reply
from bot.kb.search import KnowledgeBase, limit_query_threads
from nlu_components import shared_vector


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
        if not question.strip() or question.startswith("/"):
            dispatcher.utter_message(text="What would you like to know? Type your question in your own words.")
            return []
        kb = knowledge_base()
        vector = shared_vector_of(tracker, kb)  # the NLU pipeline embedded this very text already
        previous_topic = tracker.get_slot(c.SLOT_KB_TOPIC)
        answer, query, follow_up = answer_in_context(kb, question, previous_topic, query_vector=vector)
        topic = previous_topic if follow_up else question
        if answer.decision == "answer" and answer.best:
            send(dispatcher, answer_reply(answer.best))
            shown = [answer.best.article_id]
        elif (tracker.latest_message.get("intent") or {}).get("name") == c.INTENT_OUT_OF_SCOPE:
            # Out of scope and no article either: say so, and offer no ticket for the weather.
            dispatcher.utter_message(response="utter_out_of_scope")
            shown = []
        else:
            send(dispatcher, not_found_reply(answer.hits))
            shown = []
        return changed_slots(tracker, {c.SLOT_KB_TOPIC: topic, c.SLOT_KB_QUERY: query, c.SLOT_KB_SHOWN: shown})


class ActionKBNotHelpful(Action):
    """ "No": the next best confident article once, then the honest answer."""

    def name(self) -> str:
        return c.ACTION_KB_NOT_HELPFUL

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        query = tracker.get_slot(c.SLOT_KB_QUERY) or ""
        shown = list(tracker.get_slot(c.SLOT_KB_SHOWN) or [])
        kb = knowledge_base()
        hits = kb.search(query, top_k=5) if query else []
        unseen = [h for h in hits if h.article_id not in shown]
        if len(shown) == 1 and unseen and unseen[0].score >= kb.threshold:
            send(dispatcher, answer_reply(unseen[0], second_try=True))
            return [SlotSet(c.SLOT_KB_SHOWN, [*shown, unseen[0].article_id])]
        send(dispatcher, not_found_reply(unseen, after_tries=bool(shown)))
        return []


class ActionPing(Action):
    """Replies without any work: a liveness check, and the baseline cost of the action-server hop."""

    def name(self) -> str:
        return c.ACTION_PING

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        dispatcher.utter_message(text="pong")
        return []
