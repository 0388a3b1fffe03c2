"""The ticket form and actions with a real rasa_sdk Tracker, a real SQLite store and the real embedder."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.handoff_actions as handoff_actions
import actions.kb_actions as kb_actions
import actions.ticket_actions as ticket_actions
from actions.handoff_actions import ActionRequestHuman
from actions.ticket_actions import (
    ActionAddToTicket,
    ActionAskTicketCategory,
    ActionAskTicketEmail,
    ActionAskTicketSummary,
    ActionCancelTicket,
    ActionCreateTicket,
    ActionSaveTicketAddition,
    ActionTicketStatus,
    ValidateTicketForm,
)
from actions.yes_no_actions import ActionYesNo
from bot.config import PROJECT_ROOT
from bot.tickets.handoff import HandoffDesk
from bot.tickets.routing import Router
from bot.tickets.store import TicketStore
from tests.tickets.conftest import SLA

CARD = "4111 1111 1111 1111"


@pytest.fixture
def store(tmp_path: Path, demo_kb, monkeypatch: pytest.MonkeyPatch) -> TicketStore:
    ticket_store = TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}", SLA)
    router = Router.from_file(PROJECT_ROOT / "bot" / "tickets" / "routing.yml", demo_kb.embedder)
    monkeypatch.setattr(kb_actions, "knowledge_base", lambda: demo_kb)
    monkeypatch.setattr(ticket_actions, "knowledge_base", lambda: demo_kb)
    monkeypatch.setattr(ticket_actions, "ticket_store", lambda: ticket_store)
    monkeypatch.setattr(ticket_actions, "router", lambda: router)
    yield ticket_store
    ticket_store.close()


def user(text: str, intent: str = "ask_question", at: float | None = None) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "timestamp": at or time.time(),
        "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": []},
        "input_channel": "socketio",
    }


def bot(text: str) -> dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": time.time()}


def tracker(
    events: list[dict[str, Any]], sender: str = "conv-1", active_loop: str | None = None, **slots: Any
) -> Tracker:
    latest = next(e for e in reversed(events) if e["event"] == "user")
    return Tracker(
        sender_id=sender,
        slots=slots,
        latest_message={"text": latest["text"], **latest["parse_data"]},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def run(action, t: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, t, {})
    return dispatcher.messages, events


def validate(slot: str, value: str, t: Tracker) -> tuple[Any, list[dict]]:
    dispatcher = CollectingDispatcher()
    result = getattr(ValidateTicketForm(), f"validate_{slot}")(value, dispatcher, t, {})
    return result[slot], dispatcher.messages


def slots_of(events: list[dict]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


CONVERSATION = [
    user("hi", "greet"),
    bot("Hi! I'm Kestrel's support assistant."),
    user(f"my outdoor cam shows a red light and I paid with card {CARD}, call me on +31 20 555 0142"),
    bot("I'm not sure about this one, and I'd rather not guess."),
    user("/open_ticket", "open_ticket"),
    {"event": "active_loop", "name": "ticket_form", "timestamp": time.time()},
]


def test_email_is_validated_and_asked_again_with_the_reason(store: TicketStore) -> None:
    t = tracker([*CONVERSATION, user("ada at example dot com")], active_loop="ticket_form")
    value, messages = validate("ticket_email", "ada at example dot com", t)
    assert value is None and "@" in messages[0]["text"]
    value, messages = validate("ticket_email", "sure, it's Ada@Example.com", t)
    assert value == "ada@example.com" and messages == []


def test_a_description_typed_where_the_email_was_asked_is_kept_as_the_ticket_description(store: TicketStore) -> None:
    asked = [
        *CONVERSATION,
        {"event": "slot", "name": "requested_slot", "value": "ticket_email", "timestamp": time.time()},
        bot("What email address should our team reply to?"),
    ]
    described = "The lock beeps 3x and stays open since yesterday, new batteries did not help"
    t = tracker([*asked, user(described)], active_loop="ticket_form", kb_topic="my outdoor cam shows a red light")
    value, messages = validate("ticket_email", described, t)
    assert value is None and messages[0]["text"] == "Thanks, I'll pass that on to the team."
    # Then the address, and the description proposed is the one typed, not the question before the form.
    later = [
        *t.events,
        user("ada@example.com"),
        {"event": "slot", "name": "ticket_email", "value": "ada@example.com", "timestamp": time.time()},
        {"event": "slot", "name": "requested_slot", "value": "ticket_summary", "timestamp": time.time()},
    ]
    messages, _ = run(ActionAskTicketSummary(), tracker(later, active_loop="ticket_form", kb_topic="my outdoor cam"))
    assert f"> {described}" in messages[0]["text"]
    confirm = tracker([*later, user("/affirm", "affirm")], active_loop="ticket_form", kb_topic="my outdoor cam")
    assert validate("ticket_summary", "/affirm", confirm)[0] == described
    # Tries at an address, or words about one, are still told what an address needs.
    for typed in ("ada at example dot com please", "i dont want to give you my email", "ada.example.com is mine"):
        value, messages = validate("ticket_email", typed, tracker([*asked, user(typed)], active_loop="ticket_form"))
        assert value is None and "example.com" in messages[0]["text"], typed


def test_an_email_typed_before_the_form_is_proposed_instead_of_asked_for(store: TicketStore) -> None:
    typed = [user("Ada@Example.com", "request_human"), bot("I'll get a person from our support team on this.")]
    start = [*typed, {"event": "active_loop", "name": "ticket_form", "timestamp": time.time()}]
    messages, _ = run(ActionAskTicketEmail(), tracker(start, active_loop="ticket_form"))
    assert "**ada@example.com**" in messages[0]["text"] and messages[0]["buttons"][0]["payload"] == "/affirm"
    assert validate("ticket_email", "yes", tracker([*start, user("yes", "affirm")])) == ("ada@example.com", [])
    # "No": asked plainly for another address, without a complaint about "no".
    refused = tracker([*start, user("no", "deny")])
    assert validate("ticket_email", "no", refused) == (None, [])
    messages, _ = run(ActionAskTicketEmail(), refused)
    assert messages[0].get("response") == "utter_ask_ticket_email"
    assert validate("ticket_email", "bo@example.org", tracker([*start, user("bo@example.org")]))[0] == "bo@example.org"
    # Nothing typed before the form, or only the bot's words: asked plainly.
    messages, _ = run(ActionAskTicketEmail(), tracker([bot("write to help@kestrelhome.example"), *CONVERSATION]))
    assert messages[0].get("response") == "utter_ask_ticket_email"


def test_the_summary_is_proposed_from_the_customers_words_and_can_be_confirmed_or_edited(store: TicketStore) -> None:
    t = tracker(CONVERSATION, active_loop="ticket_form", kb_topic="my outdoor cam shows a red light")
    messages, _ = run(ActionAskTicketSummary(), t)
    assert "My outdoor cam shows a red light" in messages[0]["text"]
    confirm = tracker([*CONVERSATION, user("/affirm", "affirm")], kb_topic="my outdoor cam shows a red light")
    assert validate("ticket_summary", "/affirm", confirm)[0] == "My outdoor cam shows a red light"
    thumbs_up = tracker([*CONVERSATION, user("👍", "nlu_fallback")], kb_topic="my outdoor cam shows a red light")
    assert validate("ticket_summary", "👍", thumbs_up)[0] == "My outdoor cam shows a red light"
    edit = tracker([*CONVERSATION, user("Outdoor cam offline after router swap")])
    assert validate("ticket_summary", "Outdoor cam offline after router swap", edit)[0] == (
        "Outdoor cam offline after router swap"
    )
    # "No" to the proposal: asked in their own words, without the rejected proposal again.
    rejected = tracker([*CONVERSATION, user("no", "deny")], kb_topic="my outdoor cam shows a red light")
    assert validate("ticket_summary", "no", rejected) == (None, [])
    messages, _ = run(ActionAskTicketSummary(), rejected)
    assert "own words" in messages[0]["text"] and "red light" not in messages[0]["text"]


def test_a_description_that_says_nothing_is_asked_for_again(store: TicketStore) -> None:
    t = tracker([user("open a ticket", "open_ticket"), user("it doesnt work")])
    value, messages = validate("ticket_summary", "it doesnt work", t)
    assert value is None and "a bit more" in messages[0]["text"]


def test_category_buttons_put_the_routed_suggestion_first(store: TicketStore) -> None:
    t = tracker(CONVERSATION, ticket_summary="I was charged twice for my Protect subscription")
    messages, _ = run(ActionAskTicketCategory(), t)
    buttons = messages[0]["buttons"]
    assert buttons[0]["payload"] == "billing" and "(suggested)" in buttons[0]["title"]
    assert {b["payload"] for b in buttons} >= {"account", "orders", "billing", "technical", "privacy", "other"}
    assert validate("ticket_category", "billing", t)[0] == "billing"
    assert validate("ticket_category", "/affirm", tracker([user("/affirm", "affirm")], **t.slots))[0] == "billing"
    assert validate("ticket_category", "bananas", t)[0] is None


@pytest.mark.parametrize(
    ("typed", "category"),
    [
        ("devices", "technical"),  # a word of "Devices and app"
        ("it's about my order", "orders"),
        ("Refund", "billing"),
        ("Billing, refunds and subscription (suggested)", "billing"),  # the suggested button's title
        ("something else", "other"),
        ("2", "account"),  # the second button: billing is suggested, then routing.yml's order
        ("the first one", "billing"),
        ("the suggested one please", "billing"),
        ("the last", "other"),
        ("the first or the second", None),
        ("no", None),
        ("9", None),
        ("orders or billing", None),  # two fit: asked again
    ],
)
def test_a_typed_category_is_read_as_the_button_it_names(store: TicketStore, typed: str, category: str | None) -> None:
    t = tracker(CONVERSATION, ticket_summary="I was charged twice for my Protect subscription")
    value, messages = validate("ticket_category", typed, t)
    assert value == category
    if category is None:
        assert "Please pick one of the buttons (or type its name)" in messages[0]["text"]


def test_the_suggestion_is_the_team_of_the_article_the_summary_is_about(store: TicketStore) -> None:
    """By its words ("box", "hub") this reads like a device problem; the help centre's
    missing-items article, which Logistics handles, is what it is about."""
    summary = "box came but the hub isnt in it"
    assert ticket_actions.router().categorize(summary)[0] != "orders"
    t = tracker(CONVERSATION, ticket_summary=summary)
    messages, _ = run(ActionAskTicketCategory(), t)
    assert messages[0]["buttons"][0]["payload"] == "orders" and "(suggested)" in messages[0]["buttons"][0]["title"]
    assert validate("ticket_category", "/affirm", tracker([user("/affirm", "affirm")], **t.slots))[0] == "orders"


@pytest.mark.parametrize("leaving", [("thanks bye", "goodbye"), ("cheers", "thanks")])
def test_a_customer_who_leaves_at_the_topic_question_gets_the_ticket_under_the_suggested_topic(
    store: TicketStore, leaving: tuple[str, str]
) -> None:
    """ "thanks bye" instead of a topic: the address and the description are given, so the form is
    finished with the suggested topic and the order number from before, and says so."""
    text, intent = leaving
    events = [user("my order KH-7654321 was charged twice"), user(text, intent)]
    t = tracker(events, active_loop="ticket_form", ticket_summary="I was charged twice for my order KH-7654321")
    dispatcher = CollectingDispatcher()
    slots = ValidateTicketForm().validate_ticket_category(text, dispatcher, t, {})
    assert slots["ticket_category"] == "billing"
    assert slots["ticket_order_ref"] == "KH-7654321"
    assert "Billing, refunds and subscription" in dispatcher.messages[0]["text"]
    # A topic that is not one, without leaving, is still asked again.
    assert validate("ticket_category", "bananas", tracker([user("bananas")], **t.slots))[0] is None


def test_a_customer_who_leaves_at_the_description_takes_the_proposed_one(store: TicketStore) -> None:
    events = [
        user("the hub keeps dropping off the wifi every night"),
        user("/open_ticket", "open_ticket"),
        {"event": "active_loop", "name": "ticket_form", "timestamp": time.time()},
        user("ada@example.com"),
        user("ok thanks, bye", "goodbye"),
    ]
    t = tracker(events, active_loop="ticket_form", ticket_email="ada@example.com")
    dispatcher = CollectingDispatcher()
    slots = ValidateTicketForm().validate_ticket_summary("ok thanks, bye", dispatcher, t, {})
    assert slots["ticket_summary"] == "The hub keeps dropping off the wifi every night"  # as proposed
    assert slots["ticket_category"] and slots["ticket_order_ref"] == "-"
    # Leaving when there is no description to take: asked for one, nothing made up.
    bare = tracker([user("/open_ticket", "open_ticket"), user("bye", "goodbye")], ticket_email="ada@example.com")
    assert validate("ticket_summary", "bye", bare)[0] is None


def test_the_order_number_is_optional(store: TicketStore) -> None:
    t = tracker([user("skip")])
    assert validate("ticket_order_ref", "skip", t)[0] == "-"
    assert validate("ticket_order_ref", "KH-1234567", t)[0] == "KH-1234567"
    assert validate("ticket_order_ref", "dunno", t)[0] is None
    assert validate("ticket_order_ref", "thanks bye", tracker([user("thanks bye", "goodbye")]))[0] == "-"


def extract_order_ref(t: Tracker) -> dict:
    return ValidateTicketForm().extract_ticket_order_ref(CollectingDispatcher(), t, {})


def test_an_order_number_the_customer_already_gave_is_not_asked_for_again(store: TicketStore) -> None:
    start = {"event": "active_loop", "name": "ticket_form", "timestamp": time.time()}
    # In the description typed in the form, as the customer wrote it.
    described = tracker([*CONVERSATION, user("order kh 10023 never came")], ticket_summary="Order kh 10023 never came")
    assert extract_order_ref(described) == {"ticket_order_ref": "KH-10023"}
    # Before the form: the last one they typed.
    typed = [user("where is KH-1111111"), user("sorry, i meant KH-2222222"), user("/open_ticket", "open_ticket")]
    before = [*typed, start]
    assert extract_order_ref(tracker(before, ticket_summary="Order late")) == {"ticket_order_ref": "KH-2222222"}
    # One already given or skipped stays; none typed anywhere is asked for; a bot's is not theirs.
    assert extract_order_ref(tracker(before, ticket_order_ref="-")) == {}
    assert extract_order_ref(tracker([bot("orders look like KH-1234567"), *CONVERSATION])) == {}
    # Validated like a typed one, and named when the ticket is opened.
    assert validate("ticket_order_ref", "KH-10023", described)[0] == "KH-10023"
    opened = tracker([*CONVERSATION, user("skip")], **filled(ticket_order_ref="KH-10023"))
    messages, _ = run(ActionCreateTicket(), opened)
    assert "about order **KH-10023**" in messages[0]["text"]
    assert store.list()[0].order_ref == "KH-10023"


def filled(**overrides: Any) -> dict[str, Any]:
    slots = {
        "ticket_email": "ada@example.com",
        "ticket_summary": "Outdoor cam shows a red light",
        "ticket_category": "technical",
        "ticket_order_ref": "-",
    }
    slots.update(overrides)
    return slots


def test_a_complete_form_creates_one_ticket_with_a_masked_transcript(store: TicketStore) -> None:
    events = [*CONVERSATION, user("skip")]
    messages, result = run(ActionCreateTicket(), tracker(events, **filled()))
    (ticket,) = store.list()
    assert ticket.reference in messages[0]["text"]
    assert "Technical support" in messages[0]["text"] and "within 8 hours" in messages[0]["text"]
    assert slots_of(result)["last_ticket_ref"] == ticket.reference
    assert slots_of(result)["ticket_summary"] is None  # ready for the next ticket; the email is kept
    assert ticket.channel == "socketio" and ticket.conversation_id == "conv-1"
    assert ticket.team == "Technical support" and ticket.category == "technical"
    transcript = "\n".join(line["text"] for line in ticket.transcript)
    assert "my outdoor cam shows a red light" in transcript
    assert CARD not in transcript and "[card number]" in transcript
    assert "555 0142" not in transcript and "[phone number]" in transcript
    assert CARD not in ticket.description
    assert "skip" not in ticket.description  # the form's answers are not the problem description

    # Rasa retrying the same action on the same message: still one ticket.
    again, _ = run(ActionCreateTicket(), tracker(events, **filled()))
    assert len(store.list()) == 1 and ticket.reference in again[0]["text"]


def test_a_summary_typed_with_a_card_number_is_masked(store: TicketStore) -> None:
    typed = filled(ticket_summary=f"Refund to card {CARD} missing", ticket_category="billing")
    run(ActionCreateTicket(), tracker([user("/confirm_new_ticket", "confirm_new_ticket")], sender="c9", **typed))
    assert store.for_conversation("c9")[0].summary == "Refund to card [card number] missing"


def test_a_similar_open_ticket_is_offered_instead_of_a_duplicate(store: TicketStore) -> None:
    run(ActionCreateTicket(), tracker([*CONVERSATION, user("skip", at=1.0)], **filled()))
    (first,) = store.list()
    similar = filled(ticket_summary="My outdoor camera has a red light and is offline")
    events = [*CONVERSATION, user("skip", at=2.0)]
    messages, result = run(ActionCreateTicket(), tracker(events, **similar))
    assert first.reference in messages[0]["text"]
    assert [b["title"] for b in messages[0]["buttons"]] == [f"Add to {first.reference}", "Open a new ticket"]
    assert len(store.list()) == 1
    # "Add to SUP-..." attaches the new words to the open ticket.
    duplicate_slots = {**similar, **slots_of(result)}
    payload = f'/add_to_ticket{{"ticket_ref":"{first.reference}"}}'
    messages, _ = run(ActionAddToTicket(), tracker([*events, user(payload, "add_to_ticket")], **duplicate_slots))
    assert "added" in messages[0]["text"]
    assert store.get(first.reference).transcript[-1]["text"] == similar["ticket_summary"]
    # "Open a new ticket" opens it after all.
    messages, _ = run(
        ActionCreateTicket(), tracker([*events, user("/confirm_new_ticket", "confirm_new_ticket")], **similar)
    )
    assert len(store.list()) == 2


def test_a_typed_yes_or_no_answers_the_duplicate_question(store: TicketStore) -> None:
    run(ActionCreateTicket(), tracker([*CONVERSATION, user("skip", at=1.0)], **filled()))
    (first,) = store.list()
    similar = filled(ticket_summary="My outdoor camera has a red light and is offline")
    events = [*CONVERSATION, user("skip", at=2.0)]
    messages, result = run(ActionCreateTicket(), tracker(events, **similar))
    asked = [*events, {"event": "bot", "text": messages[0]["text"], "data": {"buttons": messages[0]["buttons"]}}]
    duplicate_slots = {**similar, **slots_of(result)}

    messages, _ = run(ActionYesNo(), tracker([*asked, user("no", "deny", at=3.0)], **duplicate_slots))
    assert "I've opened ticket" in messages[0]["text"] and len(store.list()) == 2  # a new one, as asked
    messages, _ = run(ActionYesNo(), tracker([*asked, user("yes please", "affirm", at=4.0)], **duplicate_slots))
    assert f"added this to **{first.reference}**" in messages[0]["text"]
    assert store.get(first.reference).transcript[-1]["text"] == similar["ticket_summary"]


def test_too_many_tickets_from_one_conversation_are_refused_politely(store: TicketStore) -> None:
    for n in range(3):
        run(
            ActionCreateTicket(),
            tracker([user("/confirm_new_ticket", "confirm_new_ticket", at=float(n + 1))], **filled()),
        )
    messages, _ = run(
        ActionCreateTicket(), tracker([user("/confirm_new_ticket", "confirm_new_ticket", at=9.0)], **filled())
    )
    assert "several tickets" in messages[0]["text"]
    assert len(store.list()) == 3


def test_cancel_clears_the_form_and_creates_nothing(store: TicketStore) -> None:
    messages, result = run(ActionCancelTicket(), tracker([*CONVERSATION, user("never mind", "cancel")], **filled()))
    assert "No ticket was opened" in messages[0]["text"]
    assert slots_of(result)["ticket_summary"] is None
    assert store.list() == []


def test_status_is_shown_only_in_the_conversation_that_opened_the_ticket(store: TicketStore) -> None:
    run(ActionCreateTicket(), tracker([*CONVERSATION, user("skip")], **filled()))
    (ticket,) = store.list()
    question = f"what's the status of {ticket.reference.lower()}?"
    messages, _ = run(ActionTicketStatus(), tracker([user(question, "check_ticket_status")]))
    assert ticket.reference in messages[0]["text"] and "Status: new" in messages[0]["text"]
    assert "Technical support team replies" in messages[0]["text"]
    stranger, _ = run(ActionTicketStatus(), tracker([user(question, "check_ticket_status")], sender="someone-else"))
    missing, _ = run(ActionTicketStatus(), tracker([user("status of SUP-999999", "check_ticket_status")]))
    assert (
        stranger[0]["text"]
        == missing[0]["text"]
        == "I can't find that ticket for you. I can only show tickets opened in this conversation."
    )
    mine, _ = run(ActionTicketStatus(), tracker([user("my tickets", "my_tickets")]))
    assert ticket.reference in mine[0]["text"]


def test_more_information_can_be_added_from_the_chat(store: TicketStore) -> None:
    run(ActionCreateTicket(), tracker([*CONVERSATION, user("skip")], **filled()))
    (ticket,) = store.list()
    _, result = run(ActionAddToTicket(), tracker([user("add to my ticket", "add_to_ticket")]))
    slots = slots_of(result)
    assert slots["ticket_addition_ref"] == ticket.reference
    assert any(e.get("event") == "followup" and e["name"] == "ticket_addition_form" for e in result)
    text = f"It started after the firmware update; my card {CARD} was not charged"
    messages, _ = run(
        ActionSaveTicketAddition(), tracker([user(text)], ticket_addition=text, ticket_addition_ref=ticket.reference)
    )
    assert ticket.reference in messages[0]["text"]
    saved = store.get(ticket.reference)
    assert "firmware update" in saved.transcript[-1]["text"] and CARD not in saved.transcript[-1]["text"]
    assert saved.events[-1]["kind"] == "customer_message"


def bot_asking(text: str, buttons: list[dict[str, Any]]) -> dict[str, Any]:
    return {**bot(text), "data": {"buttons": buttons}}


@pytest.mark.parametrize("answer", ["tap", "yes", "no"])
def test_a_message_the_kb_cannot_answer_is_offered_to_the_open_ticket(store: TicketStore, answer: str) -> None:
    run(ActionCreateTicket(), tracker([*CONVERSATION, user("skip")], **filled()))
    (ticket,) = store.list()
    said = f"also it happened again today, and my card {CARD} was charged"
    messages, _ = run(kb_actions.ActionAnswerFromKB(), tracker([user(said)]))
    offer = messages[-1]
    assert ticket.reference in offer["text"]
    payloads = [b["payload"] for b in offer["buttons"]]
    assert payloads == [f'/add_to_ticket{{"ticket_ref":"{ticket.reference}"}}', "/open_ticket", "/decline_ticket"]
    asked = [user(said), bot_asking(offer["text"], offer["buttons"])]
    if answer == "tap":
        messages, events = run(ActionAddToTicket(), tracker([*asked, user(payloads[0], "add_to_ticket")]))
    else:
        intent = "affirm" if answer != "no" else "deny"
        messages, events = run(ActionYesNo(), tracker([*asked, user(answer, intent)]))
    saved = store.get(ticket.reference)
    if answer == "no":
        assert messages[0].get("response") == "utter_ticket_declined"
        assert saved.events[-1]["kind"] != "customer_message"
        return
    assert events == [] and f"added your message to **{ticket.reference}**" in messages[0]["text"]
    assert saved.events[-1]["kind"] == "customer_message"
    assert "happened again today" in saved.transcript[-1]["text"] and CARD not in saved.transcript[-1]["text"]


@pytest.fixture
def nobody_on_duty(store: TicketStore, monkeypatch: pytest.MonkeyPatch) -> HandoffDesk:
    desk = HandoffDesk(store.sessions, minutes_per_customer=4, presence=timedelta(minutes=10))
    monkeypatch.setattr(handoff_actions, "ticket_store", lambda: store)
    monkeypatch.setattr(handoff_actions, "handoff_desk", lambda: desk)
    assert desk.agents_on_duty() == 0
    return desk


def test_asking_for_a_person_with_nobody_on_duty_starts_the_ticket_form(store, nobody_on_duty) -> None:
    messages, events = run(ActionRequestHuman(), tracker([user("I want to talk to a human", "request_human")]))
    assert messages[0].get("response") == "utter_handoff_via_ticket"
    assert any(e.get("event") == "followup" and e["name"] == "ticket_form" for e in events)


@pytest.mark.parametrize("answer", ["tap add", "yes", "no"])
def test_asking_for_a_person_with_a_ticket_open_points_to_it_first(store, nobody_on_duty, answer: str) -> None:
    """Not three form questions ending in "you already have ticket ..."; and "I want a person" is
    never added to the ticket as the customer's words."""
    run(ActionCreateTicket(), tracker([*CONVERSATION, user("skip")], **filled()))
    (ticket,) = store.list()
    asking = user("I want to talk to a human", "request_human")
    messages, events = run(ActionRequestHuman(), tracker([asking]))
    (offer,) = messages
    assert ticket.reference in offer["text"] and "Next: the Technical support team replies by" in offer["text"]
    assert events == []
    add, new = (b["payload"] for b in offer["buttons"])
    assert (add, new) == (f'/add_to_ticket{{"ticket_ref":"{ticket.reference}"}}', "/open_ticket")
    asked = [asking, bot_asking(offer["text"], offer["buttons"])]
    if answer == "tap add":  # "No, a new ticket" is /open_ticket, the ticket form's own rule (data/rules.yml)
        messages, events = run(ActionAddToTicket(), tracker([*asked, user(add, "add_to_ticket")]))
    else:
        messages, events = run(ActionYesNo(), tracker([*asked, user(answer, "affirm" if answer == "yes" else "deny")]))
    followed = [e["name"] for e in events if e.get("event") == "followup"]
    if answer == "no":
        assert messages[0].get("response") == "utter_start_ticket" and followed == ["ticket_form"]
    else:
        assert messages == [] and followed == ["ticket_addition_form"]
        assert slots_of(events)["ticket_addition_ref"] == ticket.reference
    assert all("talk to a human" not in line["text"] for line in store.get(ticket.reference).transcript)


def test_without_an_open_ticket_the_kb_offers_a_new_one(store: TicketStore) -> None:
    messages, _ = run(kb_actions.ActionAnswerFromKB(), tracker([user("it happened again today")]))
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/open_ticket", "/decline_ticket"]


IDENTITY_SECRET = "shop-and-helpdesk-secret"


def signed_user(text: str, email: str, signature: str, intent: str = "my_tickets") -> dict[str, Any]:
    return {**user(text, intent), "metadata": {"identity": {"email": email, "signature": signature}}}


def test_a_verified_customer_sees_their_tickets_from_other_conversations(
    store: TicketStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.config import get_settings
    from bot.identity import sign_identity

    monkeypatch.setenv("SUPPORT_WIDGET_IDENTITY_SECRET", IDENTITY_SECRET)
    get_settings.cache_clear()
    try:
        run(ActionCreateTicket(), tracker([*CONVERSATION, user("skip")], sender="on-the-phone", **filled()))
        (ticket,) = store.list()
        good = sign_identity(IDENTITY_SECRET, "Ada@Example.com")
        mine, _ = run(ActionTicketStatus(), tracker([signed_user("my tickets", "ada@example.com", good)]))
        assert ticket.reference in mine[0]["text"]
        by_reference = f"status of {ticket.reference}"
        found, _ = run(
            ActionTicketStatus(), tracker([signed_user(by_reference, "ada@example.com", good, "check_ticket_status")])
        )
        assert "Status: new" in found[0]["text"]

        # Typing someone's email, or signing it with another secret, shows nothing of theirs.
        forged = sign_identity("guessed-secret", "ada@example.com")
        for signature in (forged, good[:-1] + "0", ""):
            theirs, _ = run(ActionTicketStatus(), tracker([signed_user("my tickets", "ada@example.com", signature)]))
            assert theirs[0]["text"].startswith("You have no tickets from this conversation")
        other_email, _ = run(ActionTicketStatus(), tracker([signed_user("my tickets", "eve@example.com", good)]))
        assert ticket.reference not in other_email[0]["text"]

        # A verified customer is not asked for the email in the ticket form.
        form = ValidateTicketForm()
        extracted = form.extract_ticket_email(
            CollectingDispatcher(), tracker([signed_user("/open_ticket", "ada@example.com", good, "open_ticket")]), {}
        )
        assert extracted == {"ticket_email": "ada@example.com"}
        unverified = tracker([signed_user("/open_ticket", "ada@example.com", forged, "open_ticket")])
        assert form.extract_ticket_email(CollectingDispatcher(), unverified, {}) == {}
    finally:
        get_settings.cache_clear()
