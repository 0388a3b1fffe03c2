"""Thin rasa_sdk adapters that turn an unsolved problem into a ticket, and answer about it.

All wording and checks live in `bot.tickets.chat`; all writes in `bot.tickets.store`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions import constants as c
from actions.kb_actions import knowledge_base
from actions.last_question import last_question_buttons, previous_customer_text
from bot.config import get_settings
from bot.identity import verified_email
from bot.kb.search import KnowledgeBase
from bot.kb.words import thumbs_verdict
from bot.privacy import mask_personal_data
from bot.tickets import chat
from bot.tickets.routing import Router
from bot.tickets.store import NewTicket, TicketLimitReached, TicketStore, TicketView
from bot.tickets.transcript import customer_words, transcript_from_events

log = logging.getLogger(__name__)

FORM_SLOTS = (c.SLOT_TICKET_SUMMARY, c.SLOT_TICKET_CATEGORY, c.SLOT_TICKET_ORDER_REF)
SKIP_WORDS = {"skip", "no", "none", "nope", "n/a", "na", "-", "no order", "not about an order"}


@lru_cache(maxsize=1)
def ticket_store() -> TicketStore:
    return TicketStore.from_settings(get_settings())


def router() -> Router:
    return _router_for(knowledge_base())


@lru_cache(maxsize=1)
def _router_for(kb: KnowledgeBase) -> Router:
    """Built again when the KB was reloaded: its articles' example questions are the teams' too."""
    return Router.from_file(get_settings().routing_rules_path, kb.embedder, kb.index)


def offered_categories(tracker: Tracker) -> list[str]:
    """The category buttons' order: the routed suggestion first, then the rest as configured."""
    suggested = suggested_category(tracker.get_slot(c.SLOT_TICKET_SUMMARY) or "")
    return [suggested] + [name for name in router().category_names if name != suggested]


def suggested_category(summary: str) -> str:
    """The category offered first for a ticket: the team of the help-centre article the KB finds
    for its summary, else by the summary's words (bot/tickets/routing.py)."""
    hits = knowledge_base().search(summary, top_k=1) if summary.strip() else []
    category, _method = router().categorize(summary, hits[0] if hits else None)
    return category


def verified_customer(tracker: Tracker) -> str | None:
    """The email the shop's server vouched for in this conversation (bot/identity.py), if any."""
    return verified_email(tracker.events, get_settings().widget_identity_secret)


def intent_of(tracker: Tracker) -> str | None:
    """The latest message's intent; a lone 👍 or 👎 is a yes or a no, whatever the NLU made of it."""
    verdict = thumbs_verdict(tracker.latest_message.get("text") or "")
    if verdict is not None:
        return c.INTENT_AFFIRM if verdict else c.INTENT_DENY
    return (tracker.latest_message.get("intent") or {}).get("name")


def is_addition_offer(asked: dict[str, dict[str, Any]]) -> bool:
    """The buttons of bot/kb/replies.py's `addition_offer`: add this message to the open ticket,
    a new ticket, or neither (the handoff's "add something to it?" has no third button)."""
    return {c.INTENT_ADD_TO_TICKET, c.INTENT_OPEN_TICKET, c.INTENT_DECLINE_TICKET} <= asked.keys()


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message.get("text") or "").strip()


def customer_lines(tracker: Tracker) -> list[str]:
    return customer_words(transcript_from_events(tracker.events))


def proposed_summary(tracker: Tracker) -> str | None:
    """The customer's own words: what they described where the form asked for their email, else
    the question the bot could not answer, else their last real message before the form."""
    topic = described_at_email_question(tracker) or tracker.get_slot(c.SLOT_KB_TOPIC)
    if topic:
        topic = mask_personal_data(topic, own_email=tracker.get_slot(c.SLOT_TICKET_EMAIL))
    return chat.propose_summary(topic, customer_lines_before_form(tracker))


def described_at_email_question(tracker: Tracker) -> str | None:
    """The latest description the customer typed where the form asked for their email address
    ("The lock beeps 3x and stays open since yesterday"): people answer the question they expect,
    and those words are the best description the team could get."""
    start = form_start(tracker)
    requested = None
    described = None
    for event in tracker.events[start:] if start is not None else []:
        if event.get("event") == "slot" and event.get("name") == "requested_slot":
            requested = event.get("value")
        elif event.get("event") == "user" and requested == c.SLOT_TICKET_EMAIL:
            text = event.get("text") or ""
            described = text if chat.reads_as_description(text) else described
    return described


def form_start(tracker: Tracker) -> int | None:
    """Where in the events the ticket form last started, if it did."""
    starts = [
        i for i, e in enumerate(tracker.events) if e.get("event") == "active_loop" and e.get("name") == c.FORM_TICKET
    ]
    return starts[-1] if starts else None


def events_before_form(tracker: Tracker) -> list[dict[str, Any]]:
    """The conversation up to the latest start of the ticket form (form answers are not the problem)."""
    start = form_start(tracker)
    return list(tracker.events[:start] if start is not None else tracker.events)


def typed_before_form(tracker: Tracker, find: Callable[[str], str | None]) -> str | None:
    """What `find` finds in the customer's typed messages before the form started, the latest
    message first (button payloads and the bot's words are not theirs)."""
    for event in reversed(events_before_form(tracker)):
        text = (event.get("text") or "") if event.get("event") == "user" else ""
        found = find(text) if text and not text.startswith("/") else None
        if found:
            return found
    return None


def email_given_before_form(tracker: Tracker) -> str | None:
    """The email address the customer last typed before the form started, if any: proposed as
    theirs instead of asking for what they already said."""
    return typed_before_form(tracker, chat.find_email)


def order_ref_given(tracker: Tracker) -> str | None:
    """The order number in the ticket's description, else the last one the customer typed
    before the form started, if any."""
    described = chat.find_order_ref(tracker.get_slot(c.SLOT_TICKET_SUMMARY) or "")
    return described or typed_before_form(tracker, chat.find_order_ref)


def customer_lines_before_form(tracker: Tracker) -> list[str]:
    return customer_words(transcript_from_events(events_before_form(tracker)))


def is_leaving(tracker: Tracker) -> bool:
    """ "thanks bye" once the form has an address and a description (proposed or given) and asks to
    confirm it, for a topic or for an order number: the customer is going and expects the ticket."""
    return intent_of(tracker) in (c.INTENT_GOODBYE, c.INTENT_THANKS)


def finished_for_a_leaving_customer(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, summary: str
) -> dict[str, Any]:
    """The rest of the form filled as the customer would most likely have: the suggested topic and
    the order number they gave, if any. Better a ticket the team can re-file than a request lost
    because the customer did not answer the last question."""
    category = suggested_category(summary)
    dispatcher.utter_message(text=f"Before you go: I'll file it under **{router().label(category)}**.")
    order_ref = tracker.get_slot(c.SLOT_TICKET_ORDER_REF) or order_ref_given(tracker) or c.NO_ORDER_REF
    return {c.SLOT_TICKET_SUMMARY: summary, c.SLOT_TICKET_CATEGORY: category, c.SLOT_TICKET_ORDER_REF: order_ref}


def reset_form_slots() -> list[dict[str, Any]]:
    return [SlotSet(name, None) for name in (*FORM_SLOTS, c.SLOT_TICKET_DUPLICATE_OF)]


class ValidateTicketForm(FormValidationAction):
    def name(self) -> str:
        return c.ACTION_VALIDATE_TICKET_FORM

    def extract_ticket_email(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        # A verified customer is not asked for the email their shop account already has.
        if tracker.get_slot(c.SLOT_TICKET_EMAIL):
            return {}
        email = verified_customer(tracker)
        return {c.SLOT_TICKET_EMAIL: email} if email else {}

    def extract_ticket_order_ref(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict:
        # "My order KH-1234567 never arrived": the order number the customer already gave, in the
        # description or before the form, is not asked for again (the confirmation names it).
        if tracker.get_slot(c.SLOT_TICKET_ORDER_REF):
            return {}
        order_ref = order_ref_given(tracker)
        return {c.SLOT_TICKET_ORDER_REF: order_ref} if order_ref else {}

    def validate_ticket_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        text = str(value or "")
        given = email_given_before_form(tracker)
        if given and (intent_of(tracker) == c.INTENT_AFFIRM or text.startswith("/affirm")):
            return {c.SLOT_TICKET_EMAIL: given}
        if given and intent_of(tracker) == c.INTENT_DENY:
            return {c.SLOT_TICKET_EMAIL: None}  # "no" to the address proposed: asked for another
        email = chat.find_email(text)
        if email is None and chat.reads_as_description(text):
            # The problem, not an address: kept as the ticket's description (proposed_summary).
            dispatcher.utter_message(text="Thanks, I'll pass that on to the team.")
            return {c.SLOT_TICKET_EMAIL: None}
        if email is None:
            dispatcher.utter_message(text=chat.email_problem(text) or "Please type your email address.")
            return {c.SLOT_TICKET_EMAIL: None}
        return {c.SLOT_TICKET_EMAIL: email}

    def validate_ticket_summary(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        text = " ".join(str(value or "").split())
        proposal = proposed_summary(tracker)
        if proposal and (intent_of(tracker) == c.INTENT_AFFIRM or text.startswith("/affirm")):
            return {c.SLOT_TICKET_SUMMARY: proposal}
        if proposal and is_leaving(tracker):
            return finished_for_a_leaving_customer(dispatcher, tracker, summary=proposal)
        if proposal and intent_of(tracker) == c.INTENT_DENY:
            return {c.SLOT_TICKET_SUMMARY: None}  # the question that follows asks in their own words
        if text.startswith("/") or not chat.says_something(text):
            dispatcher.utter_message(
                text="Could you tell me a bit more? "
                "A sentence about what happened and what you expected helps the team."
            )
            return {c.SLOT_TICKET_SUMMARY: None}
        return {c.SLOT_TICKET_SUMMARY: text[: chat.MAX_SUMMARY_CHARS]}

    def validate_ticket_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        text = str(value or "").strip().lower()
        if is_leaving(tracker):  # before `offered`: it finds the suggested topic itself
            return finished_for_a_leaving_customer(
                dispatcher, tracker, summary=tracker.get_slot(c.SLOT_TICKET_SUMMARY) or ""
            )
        offered = offered_categories(tracker)
        if intent_of(tracker) == c.INTENT_AFFIRM or text.startswith("/affirm"):
            return {c.SLOT_TICKET_CATEGORY: offered[0]}  # "yes": the suggested one
        category = router().category_typed(text, offered)
        if category is not None:
            return {c.SLOT_TICKET_CATEGORY: category}
        dispatcher.utter_message(
            text="Please pick one of the buttons (or type its name), so the right team gets your ticket."
        )
        return {c.SLOT_TICKET_CATEGORY: None}

    def validate_ticket_order_ref(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict:
        text = " ".join(str(value or "").split())
        if text.lower().strip(".!") in SKIP_WORDS or intent_of(tracker) == c.INTENT_DENY or text.startswith("/deny"):
            return {c.SLOT_TICKET_ORDER_REF: c.NO_ORDER_REF}
        if is_leaving(tracker):
            return {c.SLOT_TICKET_ORDER_REF: c.NO_ORDER_REF}  # "thanks, bye": none, rather than no ticket
        if not any(ch.isdigit() for ch in text) or len(text) > 60:
            dispatcher.utter_message(
                text="Order numbers look like KH-1234567. Type it, or tap Skip if there isn't one."
            )
            return {c.SLOT_TICKET_ORDER_REF: None}
        return {c.SLOT_TICKET_ORDER_REF: text}


class ActionAskTicketEmail(Action):
    """Asks for the email address, or proposes the one the customer already typed in this chat."""

    def name(self) -> str:
        return c.ACTION_ASK_TICKET_EMAIL

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        given = email_given_before_form(tracker)
        if given and intent_of(tracker) != c.INTENT_DENY:
            dispatcher.utter_message(
                text=f"Shall the team reply to **{given}**? Tap **Yes**, or type another email address.",
                buttons=[{"title": "Yes", "payload": "/affirm"}],
            )
        else:
            dispatcher.utter_message(response="utter_ask_ticket_email")
        return []


class ActionAskTicketSummary(Action):
    """Proposes a summary in the customer's own words; they confirm it or type their own."""

    def name(self) -> str:
        return c.ACTION_ASK_TICKET_SUMMARY

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        proposal = proposed_summary(tracker)
        if proposal and intent_of(tracker) == c.INTENT_DENY:  # "no" to the description proposed
            dispatcher.utter_message(text="Okay. Please describe the problem in your own words, in a sentence or two.")
        elif proposal:
            dispatcher.utter_message(
                text=f"Here's how I'd describe it to the team:\n\n> {proposal}\n\n"
                "Is that right? Tap **Yes**, or type a better description.",
                buttons=[{"title": "Yes", "payload": "/affirm"}],
            )
        else:
            dispatcher.utter_message(text="Please describe the problem in a sentence or two.")
        return []


class ActionAskTicketCategory(Action):
    """Category buttons, the routed suggestion first."""

    def name(self) -> str:
        return c.ACTION_ASK_TICKET_CATEGORY

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        routing = router()
        suggested, *others = offered_categories(tracker)
        buttons = [{"title": routing.label(suggested) + " (suggested)", "payload": suggested}]
        buttons += [{"title": routing.label(name), "payload": name} for name in others]
        dispatcher.utter_message(text="Which topic fits best?", buttons=buttons)
        return []


class ActionCancelTicket(Action):
    def name(self) -> str:
        return c.ACTION_CANCEL_TICKET

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        dispatcher.utter_message(text="Okay, I've stopped. No ticket was opened. Anything else I can help with?")
        return [*reset_form_slots(), SlotSet(c.SLOT_TICKET_ADDITION, None), SlotSet(c.SLOT_TICKET_ADDITION_REF, None)]


class ActionCreateTicket(Action):
    """Creates the ticket once (idempotent per conversation and triggering message)."""

    def name(self) -> str:
        return c.ACTION_CREATE_TICKET

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        return self.create(dispatcher, tracker, check_duplicates=intent_of(tracker) != c.INTENT_CONFIRM_NEW_TICKET)

    def create(self, dispatcher: CollectingDispatcher, tracker: Tracker, *, check_duplicates: bool) -> list[dict]:
        """The ticket from the form's slots; `check_duplicates`: offer a similar open ticket first
        (not when the customer has just said they want a new one)."""
        email = tracker.get_slot(c.SLOT_TICKET_EMAIL)
        summary = tracker.get_slot(c.SLOT_TICKET_SUMMARY)
        category = tracker.get_slot(c.SLOT_TICKET_CATEGORY)
        if not (email and summary and category):
            dispatcher.utter_message(text="I don't have everything a ticket needs yet. Say **open a ticket** to start.")
            return []
        store, routing, settings = ticket_store(), router(), get_settings()
        transcript = transcript_from_events(tracker.events, own_email=email, pipeline=settings.spacy_pipeline)
        # The problem in the customer's words: what they said before the form's questions.
        before_form = transcript_from_events(
            events_before_form(tracker), own_email=email, pipeline=settings.spacy_pipeline
        )
        summary = mask_personal_data(summary, own_email=email, pipeline=settings.spacy_pipeline)
        description = "\n".join(customer_words(before_form)[-10:]) or summary
        try:
            if check_duplicates:
                duplicate = self._likely_duplicate(store, email, tracker.sender_id, f"{summary}\n{description}")
                if duplicate is not None:
                    dispatcher.utter_message(
                        text=f"You already have ticket **{duplicate.reference}** open about “{duplicate.summary}”. "
                        "Shall I add this to it instead of opening a new one?",
                        buttons=[
                            {
                                "title": f"Add to {duplicate.reference}",
                                "payload": f'/add_to_ticket{{"ticket_ref":"{duplicate.reference}"}}',
                            },
                            {"title": "Open a new ticket", "payload": f"/{c.INTENT_CONFIRM_NEW_TICKET}"},
                        ],
                    )
                    return [SlotSet(c.SLOT_TICKET_DUPLICATE_OF, duplicate.reference)]
            order_ref = tracker.get_slot(c.SLOT_TICKET_ORDER_REF)
            ticket, _created = store.create(
                NewTicket(
                    customer_email=email,
                    summary=summary,
                    description=description,
                    category=category,
                    team=routing.categories[category].team,
                    priority=routing.priority(f"{summary}\n{description}"),
                    channel=tracker.get_latest_input_channel() or "unknown",
                    conversation_id=tracker.sender_id,
                    transcript=transcript,
                    idempotency_key=f"{tracker.sender_id}:{self._trigger(tracker)}",
                    order_ref=None if order_ref in (None, c.NO_ORDER_REF) else order_ref,
                )
            )
        except TicketLimitReached:
            dispatcher.utter_message(
                text="You've opened several tickets in the last hour, so I haven't opened another one. "
                "Our team will get to the ones you have; "
                "you can add information to them by saying **add to my ticket**."
            )
            return reset_form_slots()
        except SQLAlchemyError:
            log.exception("could not save a ticket for %s", tracker.sender_id)
            dispatcher.utter_message(
                text="Sorry, I couldn't save your ticket just now. What you told me is still here: "
                "tap **Try again** in a minute.",
                buttons=[{"title": "Try again", "payload": f"/{c.INTENT_CONFIRM_NEW_TICKET}"}],
            )
            return []
        dispatcher.utter_message(text=chat.created_message(ticket, store.sla.first_response_text(ticket.priority)))
        return [*reset_form_slots(), SlotSet(c.SLOT_LAST_TICKET_REF, ticket.reference)]

    @staticmethod
    def _trigger(tracker: Tracker) -> str:
        """The latest customer message's time: a retry of this action sees the same one."""
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                return str(event.get("timestamp"))
        return "start"

    @staticmethod
    def _likely_duplicate(store: TicketStore, email: str, conversation_id: str, text: str) -> TicketView | None:
        candidates = store.open_for_customer(email=email, conversation_id=conversation_id)
        if not candidates:
            return None
        embedder = knowledge_base().embedder
        vectors = embedder.embed([text] + [f"{t.summary}\n{t.description}" for t in candidates])
        scores = vectors[1:] @ vectors[0]
        best = int(np.argmax(scores))
        return candidates[best] if float(scores[best]) >= get_settings().duplicate_similarity else None


class ActionTicketStatus(Action):
    """ "Status of SUP-000123?" and "my tickets": tickets opened in this conversation, and all of
    a verified customer's tickets (an email typed into the chat proves nothing)."""

    def name(self) -> str:
        return c.ACTION_TICKET_STATUS

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        store, now = ticket_store(), datetime.now(UTC)
        reference = chat.find_ticket_ref(latest_text(tracker)) or self._entity_ref(tracker)
        if reference:
            ticket = store.visible_in_conversation(
                reference, tracker.sender_id, verified_email=verified_customer(tracker)
            )
            dispatcher.utter_message(text=chat.status_line(ticket, now) if ticket else chat.NOT_FOUND)
            return []
        customer = verified_customer(tracker)
        tickets = store.for_conversation(tracker.sender_id, verified_email=customer)
        if not tickets:
            where = f"for {customer}" if customer else "from this conversation"
            dispatcher.utter_message(text=f"You have no tickets {where}. Say **open a ticket** if you need one.")
            return []
        dispatcher.utter_message(text="\n\n".join(chat.status_line(t, now) for t in tickets[:5]))
        return []

    @staticmethod
    def _entity_ref(tracker: Tracker) -> str | None:
        for entity in tracker.latest_message.get("entities") or []:
            if entity.get("entity") == "ticket_ref":
                return chat.find_ticket_ref(str(entity.get("value")))
        return None


class ActionAddToTicket(Action):
    """Adds to an open ticket: the problem just described (duplicate offer), or asks what to add."""

    def name(self) -> str:
        return c.ACTION_ADD_TO_TICKET

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        store = ticket_store()
        reference = (
            chat.find_ticket_ref(latest_text(tracker))
            or ActionTicketStatus._entity_ref(tracker)
            or tracker.get_slot(c.SLOT_TICKET_DUPLICATE_OF)
        )
        if reference is None:
            open_ones = [t for t in store.for_conversation(tracker.sender_id) if t.is_open]
            if not open_ones:
                dispatcher.utter_message(
                    text="You have no open ticket from this conversation. Say **open a ticket** to start one."
                )
                return []
            reference = open_ones[0].reference
        ticket = store.visible_in_conversation(reference, tracker.sender_id)
        email = tracker.get_slot(c.SLOT_TICKET_EMAIL)
        if ticket is None and email:  # a duplicate found by the customer's own email
            candidate = store.find(reference)
            ticket = candidate if candidate and candidate.customer_email == email else None
        if ticket is None or not ticket.is_open:
            dispatcher.utter_message(
                text=chat.NOT_FOUND
                if ticket is None
                else f"{ticket.reference} is already {ticket.status}. Say **open a ticket** for a new one."
            )
            return []
        if is_addition_offer(last_question_buttons(tracker)):
            # "Shall I add this message to it?", asked when the KB could not answer that message.
            message = previous_customer_text(tracker)
            if message:
                masked = mask_personal_data(message, own_email=email, pipeline=get_settings().spacy_pipeline)
                store.add_customer_message(ticket.reference, masked)
                dispatcher.utter_message(
                    text=f"Done: I've added your message to **{ticket.reference}**. The {ticket.team} team will see it."
                )
                return []
        pending = tracker.get_slot(c.SLOT_TICKET_SUMMARY)
        if tracker.get_slot(c.SLOT_TICKET_DUPLICATE_OF) == ticket.reference and pending:
            store.add_customer_message(ticket.reference, mask_personal_data(pending, own_email=email))
            dispatcher.utter_message(
                text=f"Done: I've added this to **{ticket.reference}**. The {ticket.team} team will see it."
            )
            return reset_form_slots()
        return [SlotSet(c.SLOT_TICKET_ADDITION_REF, ticket.reference), FollowupAction(c.FORM_TICKET_ADDITION)]


class ActionSaveTicketAddition(Action):
    def name(self) -> str:
        return c.ACTION_SAVE_TICKET_ADDITION

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        reference = tracker.get_slot(c.SLOT_TICKET_ADDITION_REF)
        text = " ".join(str(tracker.get_slot(c.SLOT_TICKET_ADDITION) or "").split())
        done = [SlotSet(c.SLOT_TICKET_ADDITION, None), SlotSet(c.SLOT_TICKET_ADDITION_REF, None)]
        if not reference or not text:
            dispatcher.utter_message(text="There was nothing to add.")
            return done
        settings = get_settings()
        masked = mask_personal_data(
            text, own_email=tracker.get_slot(c.SLOT_TICKET_EMAIL), pipeline=settings.spacy_pipeline
        )
        ticket = ticket_store().visible_in_conversation(reference, tracker.sender_id)
        if ticket is None:
            dispatcher.utter_message(text=chat.NOT_FOUND)
            return done
        ticket_store().add_customer_message(reference, masked)
        dispatcher.utter_message(text=f"Thanks, I've added that to **{reference}**.")
        return done
