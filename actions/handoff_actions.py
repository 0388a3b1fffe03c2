""" "Talk to a person": a live agent when one is on duty (the bot pauses), a ticket otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions import constants as c
from actions.ticket_actions import ticket_store, verified_customer
from bot.config import get_settings
from bot.kb.replies import TICKET_OFFER_BUTTONS
from bot.tickets import chat
from bot.tickets.handoff import HandoffDesk
from bot.tickets.store import TicketView


@lru_cache(maxsize=1)
def handoff_desk() -> HandoffDesk:
    settings = get_settings()
    return HandoffDesk(
        ticket_store().sessions,
        minutes_per_customer=settings.handoff_minutes_per_customer,
        presence=timedelta(minutes=settings.presence_minutes),
    )


class ActionRequestHuman(Action):
    def name(self) -> str:
        return c.ACTION_REQUEST_HUMAN

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        desk = handoff_desk()
        if desk.agents_on_duty() == 0:
            # This conversation's tickets, and a signed-in customer's others (an email typed here proves nothing).
            open_ones = ticket_store().open_for_customer(
                email=verified_customer(tracker), conversation_id=tracker.sender_id
            )
            if open_ones:
                # The person they want is already on it: three form questions would only end in
                # "you already have ticket ..." (the duplicate check) or a second ticket.
                self._point_to_open_ticket(dispatcher, open_ones[0])
                return []
            dispatcher.utter_message(response="utter_handoff_via_ticket")
            return [FollowupAction(c.FORM_TICKET)]
        topic = tracker.get_slot(c.SLOT_KB_TOPIC) or ""
        place = desk.request(tracker.sender_id, tracker.get_latest_input_channel() or "unknown", topic)
        ahead = "You're next" if place.position == 1 else f"You're number {place.position} in the queue"
        dispatcher.utter_message(
            text=f"I'm bringing in a person from our support team. {ahead}; the expected wait is about "
            f"{place.expected_wait_minutes} minute{'s' if place.expected_wait_minutes != 1 else ''}. "
            "You can keep typing: they'll see the whole conversation."
        )
        # The server stops the bot from answering until the agent hands back (or nobody comes).
        return [ConversationPaused()]

    @staticmethod
    def _point_to_open_ticket(dispatcher: CollectingDispatcher, ticket: TicketView) -> None:
        """Two buttons, add or new: not replies.addition_offer's three, which adds the message
        before this one ("I want a person" is nothing to add); yes_no_actions.py reads "yes"/"no"."""
        dispatcher.utter_message(
            text="Nobody from our team is online right now, but your ticket is already with them:\n\n"
            f"{chat.status_line(ticket, datetime.now(UTC))}\n\n"
            "Would you like to add something to it?",
            buttons=[
                {
                    "title": f"Yes, add to {ticket.reference}",
                    "payload": f'/{c.INTENT_ADD_TO_TICKET}{{"ticket_ref":"{ticket.reference}"}}',
                },
                {"title": "No, a new ticket", "payload": f"/{c.INTENT_OPEN_TICKET}"},
            ],
        )


class ActionHandoffTimeout(Action):
    def name(self) -> str:
        return c.ACTION_HANDOFF_TIMEOUT

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        dispatcher.utter_message(
            text="Sorry, nobody from our team is free right now. "
            "Would you like me to open a ticket? They'll reply here or by email.",
            buttons=list(TICKET_OFFER_BUTTONS),
        )
        return []
