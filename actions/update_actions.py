"""What the bot says when the helpdesk pushes a ticket update, and the customer's verdict on it.

The helpdesk triggers the `ticket_update` intent with the ticket's reference; the action reads
the ticket itself, so a pushed update can never show a ticket to the wrong conversation.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import constants as c
from actions.ticket_actions import ticket_store
from bot.config import get_settings
from bot.notify.messages import stale_question, status_sentence
from bot.privacy import mask_personal_data
from bot.tickets.chat import NOT_FOUND, find_ticket_ref


def entity(tracker: Tracker, name: str) -> Any:
    for found in tracker.latest_message.get("entities") or []:
        if found.get("entity") == name:
            return found.get("value")
    return None


def ticket_in_this_conversation(tracker: Tracker, reference: str | None = None):
    """The ticket named by the message's `ticket_ref` (or by `reference`), if this conversation may see it."""
    reference = find_ticket_ref(str(reference or entity(tracker, "ticket_ref") or ""))
    if not reference:
        return None
    return ticket_store().visible_in_conversation(reference, tracker.sender_id)


def payload(intent: str, **entities: Any) -> str:
    return f"/{intent}{json.dumps(entities, separators=(',', ':'))}"


class ActionNotifyTicketUpdate(Action):
    def name(self) -> str:
        return c.ACTION_NOTIFY_TICKET_UPDATE

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        ticket = ticket_in_this_conversation(tracker)
        if ticket is None:
            return []  # not this conversation's ticket (or typed by hand): say nothing
        status = str(entity(tracker, "ticket_status") or ticket.status)
        if status == "stale_warning":
            dispatcher.utter_message(
                text=stale_question(ticket, get_settings().stale_close_days),
                buttons=[
                    {"title": "Keep it open", "payload": payload("keep_ticket_open", ticket_ref=ticket.reference)}
                ],
            )
            return []
        reason = next((e["body"] for e in reversed(ticket.events) if e["kind"] == "status_changed"), "")
        text = status_sentence(ticket, status, reason)
        if status == "resolved":
            dispatcher.utter_message(
                text=f"{text}\n\nDid this solve your problem?",
                buttons=[
                    {"title": "Yes, it's solved", "payload": payload("ticket_solved", ticket_ref=ticket.reference)},
                    {"title": "No, not yet", "payload": payload("ticket_not_solved", ticket_ref=ticket.reference)},
                ],
            )
        else:
            dispatcher.utter_message(text=text)
        return []


def ask_for_rating(dispatcher: CollectingDispatcher, ticket) -> None:
    dispatcher.utter_message(
        text="Glad to hear it! How would you rate the help you got? (1 = poor, 5 = excellent)",
        buttons=[
            {
                "title": "★" * score,
                "payload": payload("rate_ticket", ticket_ref=ticket.reference, rating=str(score)),
            }
            for score in range(1, 6)
        ],
    )


def reopen_not_solved(dispatcher: CollectingDispatcher, ticket) -> None:
    ticket_store().reopen_by_customer(ticket.reference)
    dispatcher.utter_message(
        text=f"Sorry it's not solved yet. I've reopened **{ticket.reference}** and told the {ticket.team} team. "
        "You can add details by saying **add to my ticket**."
    )


def keep_open(dispatcher: CollectingDispatcher, ticket) -> None:
    try:
        ticket_store().keep_open(ticket.reference)
    except ValueError:
        dispatcher.utter_message(text=f"{ticket.reference} is already closed. Say **open a ticket** for a new one.")
        return
    dispatcher.utter_message(
        text=f"Okay, **{ticket.reference}** stays open and the {ticket.team} team will get back to you. "
        "You can add details by saying **add to my ticket**."
    )


class ActionTicketSolved(Action):
    def name(self) -> str:
        return c.ACTION_TICKET_SOLVED

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        ticket = ticket_in_this_conversation(tracker)
        if ticket is not None:
            ask_for_rating(dispatcher, ticket)
        return []


class ActionTicketNotSolved(Action):
    def name(self) -> str:
        return c.ACTION_TICKET_NOT_SOLVED

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        ticket = ticket_in_this_conversation(tracker)
        if ticket is not None:
            reopen_not_solved(dispatcher, ticket)
        return []


class ActionRateTicket(Action):
    def name(self) -> str:
        return c.ACTION_RATE_TICKET

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        ticket = ticket_in_this_conversation(tracker)
        try:
            rating = int(str(entity(tracker, "rating") or ""))
        except ValueError:
            rating = 0
        if ticket is None or not 1 <= rating <= 5:
            dispatcher.utter_message(text="Please use the star buttons to rate your ticket.")
            return []
        ticket_store().rate(ticket.reference, rating)
        return [SlotSet(c.SLOT_RATING_TICKET_REF, ticket.reference), FollowupAction(c.FORM_RATING_COMMENT)]


class ActionSaveRatingComment(Action):
    def name(self) -> str:
        return c.ACTION_SAVE_RATING_COMMENT

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        reference = tracker.get_slot(c.SLOT_RATING_TICKET_REF)
        comment = " ".join(str(tracker.get_slot(c.SLOT_RATING_COMMENT) or "").split())
        done = [SlotSet(c.SLOT_RATING_TICKET_REF, None), SlotSet(c.SLOT_RATING_COMMENT, None)]
        if reference and comment and comment.lower() not in {"skip", "no", "no thanks", "nope"}:
            store = ticket_store()
            ticket = store.visible_in_conversation(reference, tracker.sender_id)
            if ticket is not None:
                masked = mask_personal_data(comment, own_email=ticket.customer_email)
                store.rate(reference, ticket.rating or 5, comment=masked)
        dispatcher.utter_message(text="Thank you for your feedback! Anything else I can help with?")
        return done


class ActionKeepTicketOpen(Action):
    def name(self) -> str:
        return c.ACTION_KEEP_TICKET_OPEN

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        ticket = ticket_in_this_conversation(tracker)
        if ticket is None:
            dispatcher.utter_message(text=NOT_FOUND)
            return []
        keep_open(dispatcher, ticket)
        return []
