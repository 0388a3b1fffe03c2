""" "Yes" or "no" answers the bot's last question: a real rasa_sdk Tracker with real events."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

import actions.kb_actions as kb_actions
import actions.ticket_actions as ticket_actions
import actions.update_actions as update_actions
from actions.last_question import button_intent, last_question_buttons
from actions.update_actions import payload
from actions.yes_no_actions import ActionYesNo
from bot.kb.replies import FEEDBACK_BUTTONS, TICKET_OFFER_BUTTONS
from bot.tickets.store import TicketStore
from tests.actions.test_ticket_actions import tracker, user
from tests.tickets.conftest import SLA
from tests.tickets.test_store import new_ticket


@pytest.fixture(autouse=True)
def use_demo_kb(demo_kb, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kb_actions, "knowledge_base", lambda: demo_kb)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TicketStore:
    ticket_store = TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}", SLA)
    monkeypatch.setattr(ticket_actions, "ticket_store", lambda: ticket_store)
    monkeypatch.setattr(update_actions, "ticket_store", lambda: ticket_store)
    yield ticket_store
    ticket_store.close()


def bot(text: str, buttons: list[dict] | None = None) -> dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": time.time(), "data": {"buttons": buttons or []}}


def answer(events: list[dict[str, Any]], **slots: Any) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    returned = ActionYesNo().run(dispatcher, tracker(events, **slots), {})
    return dispatcher.messages, returned


def test_button_payloads_are_read_as_intent_and_entities() -> None:
    assert button_intent("/affirm") == ("affirm", {})
    assert button_intent('/ticket_solved{"ticket_ref":"SUP-000001"}') == ("ticket_solved", {"ticket_ref": "SUP-000001"})
    assert button_intent('/ticket_solved{"ticket_ref":') == ("ticket_solved", {})
    assert button_intent("technical") == ("", {})


def test_yes_and_no_after_an_answer_are_about_the_answer() -> None:
    asked = [
        user("i forgot my password", "ask_question"),
        bot("Here's what I found"),
        bot("Did this solve it?", FEEDBACK_BUTTONS),
    ]
    messages, _ = answer([*asked, user("yes", "affirm")], kb_query="i forgot my password", kb_shown=["reset-password"])
    assert [m.get("response") for m in messages] == ["utter_glad_it_helped"]

    messages, _ = answer([*asked, user("no", "deny")], kb_query="i forgot my password", kb_shown=["reset-password"])
    assert "glad" not in str(messages)
    assert "Did this solve it?" in [m["text"] for m in messages] or "couldn't find" in messages[0]["text"]


def test_yes_to_the_ticket_offer_starts_the_ticket_form_and_no_declines() -> None:
    asked = [
        user("do you sell solar panels", "ask_question"),
        bot("I'm not sure about this one"),
        bot("Would you like me to open a ticket?", TICKET_OFFER_BUTTONS),
    ]
    messages, events = answer([*asked, user("yes", "affirm")])
    assert [m.get("response") for m in messages] == ["utter_start_ticket"]
    assert events == [{"event": "followup", "name": "ticket_form", "timestamp": None}]

    messages, events = answer([*asked, user("no", "deny")])
    assert [m.get("response") for m in messages] == ["utter_ticket_declined"] and events == []


def test_a_question_before_the_customers_last_message_is_not_answered_again() -> None:
    events = [
        bot("Would you like me to open a ticket?", TICKET_OFFER_BUTTONS),
        user("what's your phone number", "ask_question"),
        bot("Here's what I found"),  # an answer with no question after it
        user("yes", "affirm"),
    ]
    assert last_question_buttons(tracker(events)) == {}
    messages, returned = answer(events)
    assert [m.get("response") for m in messages] == ["utter_anything_else"] and returned == []


def test_yes_or_no_to_a_resolved_ticket_rates_or_reopens_it(store: TicketStore) -> None:
    ticket, _ = store.create(new_ticket(conversation_id="conv-1"))
    question = bot(
        "Your ticket was marked resolved.\n\nDid this solve your problem?",
        [
            {"title": "Yes, it's solved", "payload": payload("ticket_solved", ticket_ref=ticket.reference)},
            {"title": "No, not yet", "payload": payload("ticket_not_solved", ticket_ref=ticket.reference)},
        ],
    )
    pushed = {"event": "user", "text": None, "parse_data": {"intent": {"name": "ticket_update"}, "entities": []}}
    messages, _ = answer([pushed, question, user("yes it is", "affirm")])
    assert "How would you rate" in messages[0]["text"]
    assert ticket.reference in messages[0]["buttons"][4]["payload"]

    messages, _ = answer([pushed, question, user("nope", "deny")])
    assert f"reopened **{ticket.reference}**" in messages[0]["text"]
    assert store.get(ticket.reference).status == "open"

    # Another conversation's "no" cannot touch the ticket.
    events_before = len(store.get(ticket.reference).events)
    messages, _ = answer([pushed, question, user("no", "deny")], sender="someone-else")
    assert "reopened" not in str(messages) and len(store.get(ticket.reference).events) == events_before


def test_a_question_yes_or_no_does_not_answer_is_asked_again() -> None:
    stars = [{"title": "★" * n, "payload": f'/rate_ticket{{"rating":"{n}"}}'} for n in range(1, 6)]
    messages, returned = answer([bot("How would you rate the help you got?", stars), user("yes", "affirm")])
    assert messages[0]["text"] == "Please pick one of these:" and messages[0]["buttons"] == stars
    assert returned == []


def test_yes_or_no_to_do_you_still_need_help_keeps_the_ticket_open_or_lets_it_close(store: TicketStore) -> None:
    ticket, _ = store.create(new_ticket(conversation_id="conv-1"))
    question = bot(
        f"Do you still need help with **{ticket.reference}**? Reply here, or tap **Keep it open**.",
        [{"title": "Keep it open", "payload": payload("keep_ticket_open", ticket_ref=ticket.reference)}],
    )
    messages, _ = answer([question, user("yes", "affirm")])
    assert f"**{ticket.reference}** stays open" in messages[0]["text"]
    assert [e["kind"] for e in store.get(ticket.reference).events][-1] == "kept_open"
    messages, _ = answer([question, user("no", "deny")])
    assert "will close on its own" in messages[0]["text"]


def test_a_thumbs_up_or_down_answers_the_last_question_as_yes_or_no() -> None:
    from actions.kb_actions import ActionAnswerFromKB

    def react(events: list[dict[str, Any]], **slots: Any) -> tuple[list[dict], list[dict]]:
        dispatcher = CollectingDispatcher()
        returned = ActionAnswerFromKB().run(dispatcher, tracker(events, **slots), {})
        return dispatcher.messages, returned

    solved = [
        user("i forgot my password", "ask_question"),
        bot("Here's what I found"),
        bot("Did this solve it?", FEEDBACK_BUTTONS),
    ]
    slots = {"kb_query": "i forgot my password", "kb_shown": ["reset-password"]}
    messages, _ = react([*solved, user("👍", "nlu_fallback")], **slots)
    assert [m.get("response") for m in messages] == ["utter_glad_it_helped"]

    offered = [
        user("do you sell solar panels", "ask_question"),
        bot("I'm not sure about this one"),
        bot("Would you like me to open a ticket?", TICKET_OFFER_BUTTONS),
    ]
    messages, events = react([*offered, user("👍🏽", "nlu_fallback")])
    assert [m.get("response") for m in messages] == ["utter_start_ticket"] and events[0]["name"] == "ticket_form"
    messages, events = react([*offered, user("👎", "nlu_fallback")])
    assert [m.get("response") for m in messages] == ["utter_ticket_declined"] and events == []
