"""Live handoff through the real stack over socket.io: the bot paused by the server, an agent
picking up and talking, handing back; and a customer nobody picks up, offered a ticket."""

from __future__ import annotations

import queue
from collections.abc import Iterator

import httpx
import pytest

from bot.config import Settings
from bot.tickets.sla import SlaPolicy
from bot.tickets.store import TicketStore
from bot.tickets.users import UserDirectory
from tests.test_end_to_end_socketio import ChatSession

pytestmark = pytest.mark.e2e


@pytest.fixture
def agent_api(running_stack: Settings) -> Iterator[httpx.Client]:
    """An agent on duty for live chats, through the helpdesk API; off duty again afterwards."""
    store = TicketStore(running_stack.tickets_database_url, SlaPolicy({}, {}), run_migrations=False)
    directory = UserDirectory(store.sessions)
    agent = directory.by_email("live.agent@kestrel.example") or directory.create(
        "live.agent@kestrel.example", "correct horse battery", name="Lea"
    )
    api = httpx.Client(
        base_url=f"http://{running_stack.host}:{running_stack.helpdesk_port}/api",
        headers={"Authorization": f"Bearer {directory.issue_token(agent.id, 'e2e')}"},
        timeout=30,
    )
    assert api.post("/presence", json={"available": True}).status_code == 204
    try:
        yield api
    finally:
        api.post("/presence", json={"available": False})
        api.close()
        store.close()


def nothing_arrives(chat: ChatSession, seconds: float) -> bool:
    try:
        chat.received.get(timeout=seconds)
    except queue.Empty:
        return True
    return False


def test_an_agent_takes_over_the_chat_and_hands_back(running_stack: Settings, agent_api: httpx.Client) -> None:
    chat = ChatSession(running_stack)
    try:
        chat.say("/request_human")
        queued = chat.wait_for_text("bringing in a person")["text"]
        assert "You're next" in queued and "expected wait is about" in queued
        # Paused by the server: the bot stays silent whatever the customer types.
        chat.say("hello? how do I reset my password")
        assert nothing_arrives(chat, 4)

        waiting = [h for h in agent_api.get("/handoffs").json() if h["conversation_id"] == chat.session_id]
        (handoff,) = waiting
        assert handoff["state"] == "waiting"
        assert agent_api.post(f"/handoffs/{handoff['id']}/pickup").status_code == 200
        chat.wait_for_text("Lea from our support team has joined the chat")
        assert agent_api.post(f"/handoffs/{handoff['id']}/pickup").status_code == 409  # only once

        seen = agent_api.get(f"/handoffs/{handoff['id']}/messages").json()
        assert any(m["sender"] == "customer" and "hello?" in m["text"] for m in seen)
        agent_api.post(f"/handoffs/{handoff['id']}/messages", json={"body": "Hi, I can help. Which email do you use?"})
        chat.wait_for_text("Which email do you use?")

        assert agent_api.post(f"/handoffs/{handoff['id']}/handback").json()["state"] == "returned"
        chat.wait_for_text("You're back with the Kestrel assistant")
        chat.say("how do i reset my password")
        chat.wait_for_text("reset-password")  # the bot answers again
    finally:
        chat.close()


def test_nobody_picks_up_so_the_bot_offers_a_ticket(running_stack: Settings, agent_api: httpx.Client) -> None:
    chat = ChatSession(running_stack)
    try:
        chat.say("I want to talk to a human")
        chat.wait_for_text("bringing in a person")
        offer = chat.wait_for_text("nobody from our team is free", timeout=45)
        assert [b["payload"] for b in offer["quick_replies"]] == ["/open_ticket", "/decline_ticket"]
        chat.say("/open_ticket")
        chat.wait_for_text("email address")  # the bot is awake again
    finally:
        chat.close()
