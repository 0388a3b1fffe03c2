"""The Rasa side of a live handoff: the bot paused and resumed by the server, the agent's own
words delivered into the customer's channel, and the timeout that offers a ticket instead."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from bot.notify.rasa_push import PushFailed, RasaPusher
from bot.tickets.handoff import HandoffDesk, HandoffView

log = logging.getLogger(__name__)
TIMEOUT_INTENT = "handoff_timeout"
LISTEN = {"event": "action", "name": "action_listen"}


class LiveChat:
    def __init__(self, desk: HandoffDesk, pusher: RasaPusher, *, timeout: timedelta) -> None:
        self.desk, self.pusher, self.timeout = desk, pusher, timeout

    def join(self, handoff: HandoffView, agent_name: str) -> None:
        self._say(handoff, f"{agent_name} from our support team has joined the chat.", agent_name)

    def send(self, handoff: HandoffView, agent_name: str, text: str) -> None:
        self._say(handoff, text, agent_name)

    def hand_back(self, handoff: HandoffView, agent_name: str) -> None:
        """Resume the bot, then say so: the customer knows who they are talking to."""
        self.pusher.append_events(
            handoff.conversation_id,
            handoff.channel,
            [
                {"event": "resume"},
                {
                    "event": "bot",
                    "text": f"{agent_name} has left the chat. You're back with the Kestrel assistant: "
                    "ask me anything, or say **talk to a person** again.",
                    "metadata": {"sender": "bot"},
                },
                # Messages typed while paused got no turn of their own; listening again starts a
                # clean turn, so the policies read the next message as new, not as a broken story.
                LISTEN,
            ],
        )

    def messages(self, handoff: HandoffView) -> list[dict[str, Any]]:
        """The conversation so far, for the agent: customer, bot and agent messages only."""
        return self.pusher.conversation_messages(handoff.conversation_id)

    def time_out_waiting(self) -> list[int]:
        """Customers nobody picked up: resume the bot and let it apologise and offer a ticket."""
        done = []
        for handoff in self.desk.overdue(self.timeout):
            if not self.desk.time_out(handoff.id):
                continue  # picked up (or timed out by another instance) meanwhile
            try:
                self.pusher.append_events(handoff.conversation_id, handoff.channel, [{"event": "resume"}, LISTEN])
                self.pusher.trigger(handoff.conversation_id, handoff.channel, TIMEOUT_INTENT, {})
            except PushFailed:
                log.warning("could not tell %s that nobody is free; retrying", handoff.conversation_id)
                self.desk.undo_time_out(handoff.id)
                continue
            done.append(handoff.id)
        return done

    def run_forever(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                self.time_out_waiting()
            except Exception:
                log.exception("handoff timeout round failed")
            stop.wait(interval)

    def start_thread(self, interval: float = 5.0) -> threading.Event:
        stop = threading.Event()
        threading.Thread(target=self.run_forever, args=(stop, interval), name="handoff", daemon=True).start()
        return stop

    def _say(self, handoff: HandoffView, text: str, agent_name: str) -> None:
        self.pusher.say(
            handoff.conversation_id, handoff.channel, text, metadata={"sender": "agent", "agent": agent_name}
        )
