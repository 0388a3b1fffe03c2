""" "Yes" or "no", typed or tapped: the answer to the question the bot asked last.

The bot asks several yes/no questions ("Did this solve it?", "Would you like me to open a
ticket?", "Shall I add this to SUP-... instead?", "Shall I add this message to it?" when a ticket is
open, "Did this solve your problem?" after a
resolved ticket, "Do you still need help?").
Their buttons carry their own intents, but customers also type "yes" or "no", above all on
Telegram and Slack; Rasa's NLU reads those as `affirm` / `deny`, whatever was asked. Rules keyed
on the previous action cannot tell which question it was (the KB action both answers and offers
tickets), so one action looks at the buttons of the bot's last question and does what tapping
the matching button would have done.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions import constants as c
from actions.kb_actions import answer_not_helpful, answer_solved
from actions.last_question import by_intent, last_question_button_list
from actions.ticket_actions import ActionAddToTicket, ActionCreateTicket, intent_of, is_addition_offer
from actions.update_actions import ask_for_rating, keep_open, reopen_not_solved, ticket_in_this_conversation


def start_ticket_form(dispatcher: CollectingDispatcher) -> list[dict]:
    """What tapping "open a ticket" does (the rule for /open_ticket in data/rules.yml)."""
    dispatcher.utter_message(response="utter_start_ticket")
    return [FollowupAction(c.FORM_TICKET)]


class ActionYesNo(Action):
    def name(self) -> str:
        return c.ACTION_YES_NO

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        yes = intent_of(tracker) == c.INTENT_AFFIRM
        return self.answer(dispatcher, tracker, domain, yes=yes)

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict, *, yes: bool) -> list[dict]:
        """ "yes" or "no" to whatever the bot asked last."""
        buttons = last_question_button_list(tracker)
        asked = by_intent(buttons)
        if c.INTENT_AFFIRM in asked and c.INTENT_DENY in asked:  # "Did this solve it?" after a KB answer
            return answer_solved(dispatcher, tracker) if yes else answer_not_helpful(dispatcher, tracker)
        if is_addition_offer(asked):  # "You have an open ticket, SUP-...: shall I add this message to it?"
            if yes:
                return ActionAddToTicket().run(dispatcher, tracker, domain)
            dispatcher.utter_message(response="utter_ticket_declined")
            return []
        if c.INTENT_ADD_TO_TICKET in asked and c.INTENT_OPEN_TICKET in asked:
            # "A person already has your ticket: would you like to add something to it?" (handoff)
            if yes:
                return ActionAddToTicket().run(dispatcher, tracker, domain)
            return start_ticket_form(dispatcher)
        if c.INTENT_OPEN_TICKET in asked:  # "Would you like me to open a ticket?"
            if yes:
                return start_ticket_form(dispatcher)
            dispatcher.utter_message(response="utter_ticket_declined")
            return []
        if c.INTENT_ADD_TO_TICKET in asked and c.INTENT_CONFIRM_NEW_TICKET in asked:
            # "You already have ticket SUP-... open about ...; shall I add this to it?"
            if yes:
                return ActionAddToTicket().run(dispatcher, tracker, domain)
            return ActionCreateTicket().create(dispatcher, tracker, check_duplicates=False)
        for intent in (c.INTENT_TICKET_SOLVED, c.INTENT_KEEP_TICKET_OPEN):
            if intent in asked:
                ticket = ticket_in_this_conversation(tracker, asked[intent].get("ticket_ref"))
                if ticket is not None:
                    return self._about_ticket(dispatcher, intent, ticket, yes)
        if buttons:  # a question "yes" or "no" does not answer (stars, "Try again"): ask it again
            dispatcher.utter_message(text="Please pick one of these:", buttons=buttons)
            return []
        dispatcher.utter_message(response="utter_anything_else")
        return []

    @staticmethod
    def _about_ticket(dispatcher: CollectingDispatcher, question: str, ticket, yes: bool) -> list[dict]:
        if question == c.INTENT_TICKET_SOLVED:  # "Did this solve your problem?"
            if yes:
                ask_for_rating(dispatcher, ticket)
            else:
                reopen_not_solved(dispatcher, ticket)
            return []
        # "Do you still need help with SUP-...?"
        if yes:
            keep_open(dispatcher, ticket)
        else:
            dispatcher.utter_message(
                text=f"Okay, glad it's sorted. **{ticket.reference}** will close on its own; "
                "reply here if you need us again before then."
            )
        return []
