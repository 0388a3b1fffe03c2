"""Two Rasa servers behind nginx, sharing conversations the way docs/deploy.md says to run them:
Rasa's SQL tracker store on PostgreSQL, its Redis lock store, and the socket.io channel's rooms
shared through Redis. Both servers use the session's action server, as N Rasa servers share
stateless action servers in a deployment."""

from __future__ import annotations

import concurrent.futures
import queue
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import socketio

from bot.bench.cluster import Nginx, start_extra_rasa_servers, start_nginx
from bot.bench.tickets import postgres_database
from bot.config import Settings
from bot.launcher import start_stack
from tests.channels.platform_apis import PlatformApis
from tests.channels.test_slack import dm_event, new_user_id, post_event, posted_to, retry_headers, wait_for_post
from tests.conftest import free_port

pytestmark = pytest.mark.e2e

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Deployment:
    servers: list[Settings]  # each Rasa server's own settings (its port)
    nginx: Nginx


@pytest.fixture(scope="module")
def tracker_database() -> Iterator[str]:
    with postgres_database(name="test_tracker") as url:
        yield url


@pytest.fixture(scope="module")
def deployment(
    running_stack: Settings, tracker_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("scale-out")
    first = running_stack.model_copy(
        update={
            "rasa_port": free_port(),
            "var_dir": root / "rasa-1",
            "tracker_store_url": tracker_database,
            "redis_url": REDIS_URL,
            "telegram_token": None,  # Slack stays on, talking to the loopback stand-in
        }
    )
    # One after the other: the first creates the tracker store's tables (docs/deploy.md).
    stacks = [start_stack(first, only=["rasa"], on_progress=lambda _line: None)]
    nginx = None
    try:
        others, more_stacks = start_extra_rasa_servers(first, 1, root)
        stacks += more_stacks
        nginx = start_nginx(root / "nginx", [first, *others])
        yield Deployment([first, *others], nginx)
    finally:
        if nginx is not None:
            nginx.stop()
        for stack in stacks:
            stack.stop()


def say(base_url: str, sender: str, text: str) -> str:
    response = httpx.post(f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    response.raise_for_status()
    return "\n".join(message.get("text", "") for message in response.json())


def user_texts(settings: Settings, sender: str) -> list[str]:
    tracker = httpx.get(
        f"{settings.rasa_url}/conversations/{sender}/tracker", params={"token": settings.rasa_token}, timeout=30
    ).json()
    return [event["text"] for event in tracker["events"] if event["event"] == "user"]


def test_a_conversation_goes_on_when_its_next_message_lands_on_the_other_server(deployment: Deployment) -> None:
    first, second = (s.rasa_url for s in deployment.servers)
    sender = f"scale-{uuid.uuid4().hex}"
    answer = say(first, sender, "my doorbell battery drains really fast")
    assert "Did this solve it?" in answer
    # "No" to an answer the other server gave: only a shared tracker knows which article it was.
    after_no = say(second, sender, "/deny")
    assert any(reply in after_no for reply in ("Maybe this one fits better", "Maybe this part of", "Sorry, I couldn't"))
    assert user_texts(deployment.servers[0], sender) == ["my doorbell battery drains really fast", "/deny"]


def test_nginx_spreads_one_conversation_over_both_servers(deployment: Deployment) -> None:
    sender = f"scale-{uuid.uuid4().hex}"
    questions = ["how do i reset my password", "/deny", "where is my order", "/affirm", "hello", "thanks"]
    replies = [say(deployment.nginx.url, sender, text) for text in questions]
    assert "/articles/reset-password" in replies[0]
    assert "glad that solved it" in replies[3]
    assert all(replies)

    upstreams = set(deployment.nginx.requests_by_server()["rest"])
    assert upstreams == {f"{s.host}:{s.rasa_port}" for s in deployment.servers}
    assert user_texts(deployment.servers[1], sender) == questions


def test_messages_sent_at_once_to_both_servers_are_all_kept(deployment: Deployment) -> None:
    """Rasa's lock store makes the servers take one conversation's messages one at a time; without a
    shared lock two servers save over each other's events."""
    sender = f"scale-{uuid.uuid4().hex}"
    texts = [f"hello number {n}" for n in range(6)]
    targets = [deployment.servers[n % 2].rasa_url for n in range(len(texts))]
    with concurrent.futures.ThreadPoolExecutor(len(texts)) as pool:
        replies = list(pool.map(lambda pair: say(pair[0], sender, pair[1]), zip(targets, texts, strict=True)))
    assert all(replies)
    assert sorted(user_texts(deployment.servers[0], sender)) == sorted(texts)


def test_a_push_through_either_server_reaches_a_widget_connected_through_nginx(deployment: Deployment) -> None:
    """An agent's reply goes through whichever server the load balancer picks; the widget's socket
    lives in one of them."""
    session_id = uuid.uuid4().hex
    received: queue.Queue[dict] = queue.Queue()
    confirmed: queue.Queue[str] = queue.Queue()
    client = socketio.Client()
    client.on("bot_uttered", received.put)
    client.on("session_confirm", confirmed.put)
    client.connect(deployment.nginx.url, socketio_path="/socket.io", transports=["polling", "websocket"])
    try:
        client.emit("session_request", {"session_id": session_id})
        confirmed.get(timeout=20)
        client.emit("user_uttered", {"message": "hello", "session_id": session_id})
        assert received.get(timeout=30)["text"]

        for n, server in enumerate(deployment.servers):
            words = f"An agent's words, pushed through server {n + 1}"
            response = httpx.post(
                f"{server.rasa_url}/conversations/{session_id}/tracker/events",
                params={"token": server.rasa_token, "execute_side_effects": "true", "output_channel": "socketio"},
                json={"event": "bot", "text": words},
                timeout=30,
            )
            response.raise_for_status()
            assert _arrives(received, words)
    finally:
        client.disconnect()


def _arrives(received: queue.Queue[dict], text: str, timeout: float = 15) -> bool:
    """Whether a bot message with exactly this text arrives in time (others, e.g. the greeting's, are skipped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if received.get(timeout=max(0.1, deadline - time.monotonic())).get("text") == text:
                return True
        except queue.Empty:
            return False
    return False


def test_a_slack_retry_that_lands_on_the_other_server_is_not_answered_twice(
    deployment: Deployment, platform_apis: PlatformApis
) -> None:
    first, second = deployment.servers
    user = new_user_id()
    event = dm_event(user, "how do i reset my password")
    channel = event["event"]["channel"]
    assert post_event(first, event).status_code == 200
    wait_for_post(platform_apis, channel, "Did this solve it?")

    retried = post_event(second, event, retry_headers(second, event, "http_error"))
    assert retried.is_success and retried.headers.get("X-Slack-No-Retry") == "1"

    # Once a later message is answered, a reply to the retry would already have been sent.
    assert post_event(second, dm_event(user, "hello")).status_code == 200
    wait_for_post(platform_apis, channel, "support assistant")
    assert [c.params["text"] for c in posted_to(platform_apis, channel)].count("Did this solve it?") == 1
