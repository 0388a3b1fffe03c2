"""The whole loop over socket.io, as the website widget lives it, through the real Rasa server,
action server and helpdesk: a ticket opened in the chat, an agent's reply pushed into that same
socket, the ticket resolved, the rating prompt, the rating stored."""

from __future__ import annotations

import json
import queue
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
import socketio

from bot.config import Settings
from bot.tickets.sla import SlaPolicy
from bot.tickets.store import TicketStore
from bot.tickets.users import UserDirectory

pytestmark = pytest.mark.e2e


class ChatSession:
    """A customer's socket.io session, as the widget opens it."""

    def __init__(self, settings: Settings) -> None:
        self.session_id = uuid.uuid4().hex
        self.received: queue.Queue[dict] = queue.Queue()
        self.client = socketio.Client()
        self.client.on("bot_uttered", self.received.put)
        confirmed = queue.Queue()
        self.client.on("session_confirm", confirmed.put)
        self.client.connect(settings.rasa_url, socketio_path="/socket.io", transports=["websocket"])
        self.client.emit("session_request", {"session_id": self.session_id})
        confirmed.get(timeout=20)

    def say(self, text: str) -> None:
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})

    def wait_for(self, wanted: Callable[[dict], bool], timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                message = self.received.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(message.get("text"))
            if wanted(message):
                return message
        raise AssertionError(f"no such message within {timeout}s; got {seen}")

    def wait_for_text(self, fragment: str, timeout: float = 30) -> dict:
        return self.wait_for(lambda m: fragment in (m.get("text") or ""), timeout)

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def chat(running_stack: Settings) -> Iterator[ChatSession]:
    session = ChatSession(running_stack)
    yield session
    session.close()


def payload_of(message: dict, title_fragment: str) -> str:
    buttons = message.get("quick_replies") or message.get("buttons") or []
    return next(b["payload"] for b in buttons if title_fragment in b["title"])


def test_a_kb_answer_arrives_whole_then_asks_whether_it_helped(chat: ChatSession) -> None:
    chat.say("how do i reset my password")
    answer = chat.wait_for_text("Here's what I found")
    # The lead, the passage and the article link in one message (Rasa's own channel sent three).
    lead, *passage, link = answer["text"].split("\n\n")
    assert "**" in lead and passage and link.startswith("Read the full article: [")
    assert "/articles/reset-password)" in link
    feedback = chat.wait_for_text("Did this solve it?")
    assert [b["title"] for b in feedback["quick_replies"]] == ["Yes, that solved it", "No"]


def test_ticket_reply_resolution_and_rating_over_socketio(running_stack: Settings, chat: ChatSession) -> None:
    chat.say("/open_ticket")
    chat.wait_for_text("email address")
    chat.say("ada.socket@example.com")
    chat.wait_for_text("describe the problem")
    chat.say("The lock beeps three times every night at 3am")
    chat.wait_for_text("Which topic")
    chat.say("technical")
    chat.wait_for_text("order number")
    chat.say("skip")
    created = chat.wait_for_text("I've opened ticket")["text"]
    reference = created.split("**")[1]

    store = TicketStore(running_stack.tickets_database_url, SlaPolicy({}, {}), run_migrations=False)
    try:
        ticket = store.get(reference)
        assert (ticket.channel, ticket.conversation_id) == ("socketio", chat.session_id)
        directory = UserDirectory(store.sessions)
        agent = directory.by_email("e2e.agent@kestrel.example") or directory.create(
            "e2e.agent@kestrel.example", "correct horse battery", name="Sam"
        )
        api = httpx.Client(
            base_url=f"http://{running_stack.host}:{running_stack.helpdesk_port}/api",
            headers={"Authorization": f"Bearer {directory.issue_token(agent.id, 'e2e')}"},
            timeout=30,
        )

        # The agent's reply arrives live in the customer's socket, in the agent's own words.
        reply = "Please take the batteries out for ten seconds, then put them back."
        assert api.post(f"/tickets/{reference}/replies", json={"body": reply}).status_code == 201
        pushed = chat.wait_for_text(reply)
        assert "Sam" in pushed["text"] and reference in pushed["text"]

        # Resolved: the bot asks whether it is solved, then for a rating.
        assert api.patch(f"/tickets/{reference}", json={"status": "resolved"}).json()["status"] == "resolved"
        # One message, paragraphs and buttons together: the channel does not split at blank lines.
        resolved = chat.wait_for_text("marked resolved")
        assert resolved["text"].endswith("\n\nDid this solve your problem?")
        # Typed rather than tapped, as on Telegram or Slack: the "yes" answers that question
        # (the browser test taps the button).
        chat.say("yes")
        prompt = chat.wait_for_text("How would you rate")
        five = payload_of(prompt, "★★★★★")
        assert json.loads(five[five.index("{") :]) == {
            "ticket_ref": reference,
            "rating": "5",
        }
        chat.say(five)
        chat.wait_for_text("Anything you'd like to tell us")
        chat.say("Fixed in two minutes, thanks!")
        chat.wait_for_text("Thank you for your feedback")

        rated = store.get(reference)
        assert (rated.rating, rated.rating_comment) == (5, "Fixed in two minutes, thanks!")
        assert [e["kind"] for e in rated.events][-2:] == ["rated", "rated"]
        api.close()
    finally:
        store.close()
