"""The KB actions with a real rasa_sdk Tracker and CollectingDispatcher over the demo KB."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.kb_actions as kb_actions
from actions.kb_actions import ActionAnswerFromKB, ActionPing, answer_not_helpful, answer_solved
from nlu_components import shared_vector

REAL_KNOWLEDGE_BASE = kb_actions.knowledge_base


@pytest.fixture(autouse=True)
def use_demo_kb(demo_kb, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kb_actions, "knowledge_base", lambda: demo_kb)


def tracker(text: str = "", intent: str = "ask_question", *, parse_extra: dict | None = None, **slots: Any) -> Tracker:
    return Tracker(
        sender_id="test-user",
        slots=slots,
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": [],
            **(parse_extra or {}),
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action, t: Tracker) -> tuple[list[dict], list[dict]]:
    """An action, or one of the functions `action_yes_no` calls, with a fresh dispatcher."""
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, t, {}) if hasattr(action, "run") else action(dispatcher, t)
    return dispatcher.messages, events


def slots_of(events: list[dict]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_answer_from_kb_cites_the_article_and_asks_for_feedback() -> None:
    messages, events = run(ActionAnswerFromKB(), tracker("i forgot my password, how do i get a new one"))
    answer, feedback = messages
    assert "reset-password" in answer["text"]  # the article link
    assert feedback["text"] == "Did this solve it?"
    assert [b["payload"] for b in feedback["buttons"]] == ["/affirm", "/deny"]
    slots = slots_of(events)
    assert slots["kb_shown"] == ["reset-password"]
    assert slots["kb_topic"] == "i forgot my password, how do i get a new one"


def test_answer_from_kb_is_honest_when_it_does_not_know() -> None:
    messages, events = run(ActionAnswerFromKB(), tracker("who won the football world cup in 1998"))
    message, offer = messages
    assert "rather not guess" in message["text"]
    assert "buttons" not in message or not message["buttons"]
    assert "open a ticket" in offer["text"]
    assert slots_of(events)["kb_shown"] == []


def test_answer_from_kb_reads_a_follow_up_with_the_previous_topic() -> None:
    run(ActionAnswerFromKB(), tracker("how do i send back something i bought"))
    messages, events = run(
        ActionAnswerFromKB(),
        tracker("and how long does that take?", kb_topic="how do i send back something i bought"),
    )
    slots = slots_of(events)
    assert slots["kb_query"] == "how do i send back something i bought and how long does that take?"
    assert "kb_topic" not in slots  # the topic stays for the next follow-up, and is not stored again
    assert "Did this solve it?" in [m["text"] for m in messages]


def test_a_question_of_a_few_words_after_an_answer_is_read_with_its_topic() -> None:
    topic = "do you ship internationally"
    _, events = run(ActionAnswerFromKB(), tracker(topic))
    messages, events = run(ActionAnswerFromKB(), tracker("how much?", **slots_of(events)))
    assert "international-shipping" in messages[0]["text"]
    assert "I'm not sure" not in messages[0]["text"]
    slots = slots_of(events)
    assert "kb_topic" not in slots  # still the shipping question, for the next one
    assert slots["kb_query"] == f"{topic} how much?"


def test_a_few_words_that_found_nothing_leave_the_topic_and_what_was_read_as_they_were() -> None:
    topic = "do you ship internationally"
    _, events = run(ActionAnswerFromKB(), tracker(topic))
    slots = slots_of(events)
    messages, events = run(ActionAnswerFromKB(), tracker("to guernsey?", **slots))
    assert "rather not guess" in messages[0]["text"]
    changed = slots_of(events)
    assert "kb_topic" not in changed and "kb_read" not in changed and changed["kb_shown"] == []
    # So the next follow-up is still read with the shipping question.
    messages, _ = run(ActionAnswerFromKB(), tracker("and how long does that take?", **{**slots, **changed}))
    assert "international-shipping" in messages[0]["text"]


def test_a_follow_up_on_the_article_just_shown_gets_its_next_passage_not_the_same_again() -> None:
    question = "my doorbell battery drains really fast"
    first, events = run(ActionAnswerFromKB(), tracker(question))
    assert "A full charge normally lasts 2 to 6 months" in first[0]["text"]
    slots = slots_of(events)

    # Joined to its topic the follow-up finds the same passage; the customer has read it.
    follow_up = tracker("and how long does charging take?", **slots)
    messages, _ = run(ActionAnswerFromKB(), follow_up)
    assert "doorbell-battery" in messages[0]["text"]
    assert "Leave it for about 5 hours" in messages[0]["text"]
    assert "A full charge normally lasts" not in messages[0]["text"]

    # After an escalation nothing of that article was shown: its best passage comes as it is.
    escalated = tracker("and how long does charging take?", kb_topic=question, kb_query=question, kb_shown=[])
    messages, _ = run(ActionAnswerFromKB(), escalated)
    assert "A full charge normally lasts 2 to 6 months" in messages[0]["text"]


def test_a_follow_up_answered_by_the_text_just_read_says_so() -> None:
    """A question after an answer that lands on the passage just read (here read alone, confident)
    shows it again, introduced as such: the same text under "Here's what I found" reads as not
    listening. A fresh conversation's answer to the same question is introduced as usual."""
    first, events = run(ActionAnswerFromKB(), tracker("my doorbell battery dies after like a week"))
    assert first[0]["text"].startswith("Here's what I found in **Kestrel Doorbell battery drains too fast**")
    assert "A full charge normally lasts 2 to 6 months" in first[0]["text"]

    messages, _ = run(ActionAnswerFromKB(), tracker("how long should it take to charge", **slots_of(events)))
    assert messages[0]["text"].startswith(
        "That's in the part of **Kestrel Doorbell battery drains too fast** I showed you above"
    )
    assert "A full charge normally lasts 2 to 6 months" in messages[0]["text"]  # the text read, again
    fresh, _ = run(ActionAnswerFromKB(), tracker("how long should it take to charge"))
    assert fresh[0]["text"].startswith("Here's what I found in")


def test_what_was_read_is_remembered_for_the_whole_topic_and_forgotten_with_it() -> None:
    def ask(text: str, slots: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        messages, events = run(ActionAnswerFromKB(), tracker(text, **slots))
        return messages[0]["text"], {**slots, **slots_of(events)}

    kb = kb_actions.knowledge_base()
    opening = "You can return any item within 30 days of delivery"
    first, slots = ask("how do i return my doorbell", {})
    assert opening in first
    read_first = slots["kb_read"]
    assert read_first == kb.read_keys("return-an-item", first.split("\n\nRead the full article")[0])
    second, slots = ask("can i do that without the box?", slots)
    assert "Pack the product with all accessories" in second and opening not in second  # read: left out
    assert slots["kb_read"][: len(read_first)] == read_first and len(slots["kb_read"]) > len(read_first)
    read_on_returns = slots["kb_read"]

    # A new topic starts afresh: only its own answer is remembered as read.
    _, slots = ask("how do i reset my password", slots)
    assert slots["kb_read"] and not set(slots["kb_read"]) & set(read_on_returns)


def test_answer_from_kb_stores_only_the_slots_that_change() -> None:
    question = "how do i reset my password"
    _, first = run(ActionAnswerFromKB(), tracker(question))
    asked_again = tracker(question, **slots_of(first))
    assert run(ActionAnswerFromKB(), asked_again)[1] == []


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.texts = inner, inner.name, []

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: list[str], *, show_progress: bool = False):
        self.texts.extend(texts)
        return self.inner.embed(texts)


def test_answer_from_kb_searches_with_the_nlu_pipelines_vector_instead_of_embedding_again(
    demo_kb, monkeypatch: pytest.MonkeyPatch
) -> None:
    question = "the app crashes when i open it"
    counting = CountingEmbedder(demo_kb.embedder)
    monkeypatch.setattr(demo_kb, "embedder", counting)
    messages, _ = run(ActionAnswerFromKB(), tracker(question))
    assert counting.texts == [question]  # no vector in the parse data: embedded here

    vector = shared_vector.encode(counting.inner.embed([question])[0], counting.name)
    given = tracker(question, parse_extra={shared_vector.TEXT_VECTOR_KEY: vector})
    counting.texts.clear()
    assert run(ActionAnswerFromKB(), given)[0] == messages  # the same answer
    assert counting.texts == []

    # Another model's vector is not used: the question is embedded here.
    foreign = tracker(question, parse_extra={shared_vector.TEXT_VECTOR_KEY: {**vector, "model": "other"}})
    run(ActionAnswerFromKB(), foreign)
    # A follow-up is also searched with its topic, which the NLU pipeline never embedded.
    follow_up_text = "and how long does that take?"
    own_vector = shared_vector.encode(counting.inner.embed([follow_up_text])[0], counting.name)
    follow_up = tracker(follow_up_text, kb_topic=question, parse_extra={shared_vector.TEXT_VECTOR_KEY: own_vector})
    run(ActionAnswerFromKB(), follow_up)
    long_question = question + " and here is the whole crash log: " + "0x0000 " * 200
    run(ActionAnswerFromKB(), tracker(long_question, parse_extra={shared_vector.TEXT_VECTOR_KEY: vector}))
    assert counting.texts == [question, f"{question} and how long does that take?", long_question[:1000]]


def gaps_report_counts(store) -> dict:
    from bot.tickets.kb_questions import gaps_report

    return dict(gaps_report(store.sessions).counts)


def test_keyboard_mashing_is_asked_again_without_a_ticket_offer(question_log) -> None:
    log, store = question_log
    messages, events = run(ActionAnswerFromKB(), tracker("asdfgh", "nlu_fallback", kb_topic="where is my order"))
    assert [m.get("response") for m in messages] == ["utter_default"]
    assert events == []  # the earlier topic stays for a follow-up
    log.flush()
    assert gaps_report_counts(store) == {}  # not an unanswered question for the admins


@pytest.mark.parametrize(
    ("question", "intent"),
    [("привет, у меня не работает камера", "out_of_scope"), ("mi cámara no se conecta al wifi", "nlu_fallback")],
)
def test_a_question_in_another_language_is_told_the_bot_speaks_english(question_log, question, intent) -> None:
    log, store = question_log
    messages, events = run(ActionAnswerFromKB(), tracker(question, intent))
    assert [m.get("response") for m in messages] == ["utter_english_only"] and events == []
    log.flush()
    assert gaps_report_counts(store) == {}


def test_a_new_question_drops_a_ticket_draft_left_at_the_duplicate_question() -> None:
    draft = {"ticket_summary": "charged twice", "ticket_category": "billing", "ticket_order_ref": "-"}
    left = tracker("how long does a refund take", ticket_duplicate_of="SUP-000002", **draft)
    _, events = run(ActionAnswerFromKB(), left)
    assert {name: slots_of(events)[name] for name in [*draft, "ticket_duplicate_of"]} == dict.fromkeys(
        [*draft, "ticket_duplicate_of"]
    )
    _, events = run(ActionAnswerFromKB(), tracker("how long does a refund take", **draft))
    assert not set(slots_of(events)) & set(draft)  # a draft with no pending question is not touched


@pytest.mark.parametrize("text", ["", "   ", "/deny", "?", "!!! ...", "hmm", "umm..."])
def test_answer_from_kb_asks_for_a_question_when_given_none(text: str) -> None:
    messages, events = run(ActionAnswerFromKB(), tracker(text))
    assert messages[0]["text"].startswith("What would you like to know?")
    assert events == []


def test_not_helpful_offers_the_next_best_article_once_then_gives_up_honestly() -> None:
    question = "my refund hasnt arrived on my card yet"
    _, events = run(ActionAnswerFromKB(), tracker(question))
    first = slots_of(events)["kb_shown"]
    assert len(first) == 1

    messages, events = run(answer_not_helpful, tracker("no", "deny", kb_query=question, kb_shown=first))
    second = slots_of(events).get("kb_shown")
    if second is not None:  # a second confident article existed
        assert len(second) == 2 and second[0] == first[0] and second[1] != first[0]
        assert messages[-1]["text"] == "Did this solve it?"
        shown = second
    else:
        assert "couldn't find" in messages[0]["text"]
        shown = first

    messages, events = run(answer_not_helpful, tracker("no", "deny", kb_query=question, kb_shown=shown))
    message, offer = messages
    assert message["text"].startswith("Sorry, I couldn't find an answer")
    assert [b["payload"] for b in offer["buttons"]] == ["/open_ticket", "/decline_ticket"]
    assert events == []  # nothing new to remember: the shown articles stay as they were
    for article_id in shown:  # never offers again what was already rejected
        assert f"/{article_id})" not in message["text"]


def test_not_helpful_with_no_other_confident_article_shows_another_part_of_the_same_one() -> None:
    # The battery article is right, but its first passage (how long a charge lasts) is not what
    # was asked; no other article is confident, so "No" once gave up here.
    question = "my doorbell battery dies after a week"
    messages, events = run(ActionAnswerFromKB(), tracker(question))
    assert slots_of(events)["kb_shown"] == ["doorbell-battery"]
    first_answer = messages[0]["text"]

    read = slots_of(events)["kb_read"]
    messages, events = run(
        answer_not_helpful, tracker("no", "deny", kb_query=question, kb_shown=["doorbell-battery"], kb_read=read)
    )
    heading, passage = messages[0]["text"].split("\n\n")[:2]
    assert heading == "Maybe this part of **Kestrel Doorbell battery drains too fast** helps:"
    assert passage not in first_answer  # none of what was shown before
    assert messages[-1]["text"] == "Did this solve it?"
    assert slots_of(events)["kb_shown"] == ["doorbell-battery", "doorbell-battery"]
    assert slots_of(events)["kb_read"][: len(read)] == read and len(slots_of(events)["kb_read"]) > len(read)

    # A second "No" is the last: the honest answer and the ticket offer.
    shown = ["doorbell-battery", "doorbell-battery"]
    messages, events = run(answer_not_helpful, tracker("no", "deny", kb_query=question, kb_shown=shown))
    assert messages[0]["text"].startswith("Sorry, I couldn't find an answer") and events == []


def test_the_loaded_knowledge_base_is_frozen_out_of_full_collections() -> None:
    import gc

    knowledge_base = REAL_KNOWLEDGE_BASE  # the fixture points the module's name at the test KB
    kb_actions.live_knowledge_base.cache_clear()
    gc.unfreeze()
    try:
        kb = knowledge_base()
        assert gc.get_freeze_count() > 10_000
        assert kb.search("how do i reset my password")[0].article_id == "reset-password"
    finally:
        gc.unfreeze()
        kb_actions.live_knowledge_base.cache_clear()


def test_ping_replies_pong() -> None:
    messages, events = run(ActionPing(), tracker("ping", "ping"))
    assert [m["text"] for m in messages] == ["pong"]
    assert events == []


def test_what_came_of_each_question_is_recorded_for_the_help_centres_writers(question_log) -> None:
    from bot.tickets.kb_questions import gaps_report

    log, store = question_log
    run(ActionAnswerFromKB(), tracker("i forgot my password, how do i get a new one"))
    run(ActionAnswerFromKB(), tracker("can my doorbell play a tune i recorded myself"))
    run(ActionAnswerFromKB(), tracker("who won the football world cup in 1998", "out_of_scope"))
    question = "my doorbell battery drains really fast"
    _, events = run(answer_not_helpful, tracker("no", "deny", kb_query=question, kb_shown=["doorbell-battery"]))
    # Another article if one was confident enough, else another part of this one: an answer too.
    (_, second_try) = slots_of(events)["kb_shown"]
    messages, events = run(
        answer_solved, tracker("yes", "affirm", kb_query="forgot my password", kb_shown=["reset-password"])
    )
    assert messages == [{**messages[0], "response": "utter_glad_it_helped"}] and events == []
    log.flush()

    report = gaps_report(store.sessions)
    # The first question, and what the "No" brought.
    assert report.counts["answered"] == 2
    assert report.counts["not_helpful"] == 1 and report.counts["off_topic"] == 1 and report.counts["solved"] == 1
    (unanswered,) = report.unanswered
    assert unanswered.question == "can my doorbell play a tune i recorded myself"
    assert unanswered.closest_article is not None and unanswered.score is not None
    feedback = {a.article_id: (a.answered, a.solved, a.not_helpful) for a in report.articles}
    assert feedback["doorbell-battery"] == (int(second_try == "doorbell-battery"), 0, 1)
    assert feedback["reset-password"] == (1, 1, 0)


def test_the_launchers_warm_up_question_is_not_recorded(question_log) -> None:
    from bot.launcher import WARM_UP_SENDER

    log, store = question_log
    warm_up = tracker("how do I reset my password")
    warm_up.sender_id = WARM_UP_SENDER
    run(ActionAnswerFromKB(), warm_up)
    run(ActionAnswerFromKB(), tracker("how do I reset my password"))  # a customer's
    log.flush()
    assert gaps_report_counts(store) == {"answered": 1}
