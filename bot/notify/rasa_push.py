"""Push into a live conversation through Rasa's HTTP API (token-authenticated)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

# Channels whose connector can send a message the customer did not just ask for.
PUSHABLE_CHANNELS = frozenset({"socketio", "callback", "slack", "telegram", "facebook", "twilio"})


class PushFailed(Exception):
    pass


class RasaPusher:
    def __init__(self, rasa_url: str, token: str, *, timeout: float = 15.0) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def say(self, conversation_id: str, channel: str, text: str, *, metadata: dict[str, Any] | None = None) -> None:
        """Deliver words unchanged (an agent's reply) as a bot message in the customer's channel."""
        event = {"event": "bot", "text": text, "metadata": metadata or {}}
        self._post(
            f"/conversations/{conversation_id}/tracker/events",
            event,
            {"execute_side_effects": "true", "output_channel": channel},
        )

    def append_events(self, conversation_id: str, channel: str, events: list[dict[str, Any]]) -> None:
        """Append events (e.g. `resume`, then a bot message) and run their side effects in that channel."""
        self._post(
            f"/conversations/{conversation_id}/tracker/events",
            events,
            {"execute_side_effects": "true", "output_channel": channel},
        )

    def conversation_messages(self, conversation_id: str) -> list[dict[str, Any]]:
        """The customer's and the bot's (or agent's) messages, in order; nothing else of the tracker."""
        response = self._request("GET", f"/conversations/{conversation_id}/tracker", None, {"include_events": "ALL"})
        found = []
        for event in response.json().get("events") or []:
            if event.get("event") not in ("user", "bot") or not (event.get("text") or "").strip():
                continue
            metadata = event.get("metadata") or {}
            sender = "customer" if event["event"] == "user" else metadata.get("sender", "bot")
            buttons = (event.get("data") or {}).get("buttons") or []
            found.append(
                {
                    "sender": sender,
                    "text": event["text"],
                    "timestamp": event.get("timestamp"),
                    "buttons": [{"title": b.get("title"), "payload": b.get("payload")} for b in buttons],
                }
            )
        return found

    def trigger(self, conversation_id: str, channel: str, intent: str, entities: dict[str, Any]) -> None:
        """Run the bot's reaction to an intent (status updates, rating prompts) in that channel."""
        self._post(
            f"/conversations/{conversation_id}/trigger_intent",
            {"name": intent, "entities": entities},
            {"output_channel": channel},
        )

    def last_customer_message_at(self, conversation_id: str) -> datetime | None:
        """When the customer last wrote in this conversation, from Rasa's tracker."""
        response = self._request("GET", f"/conversations/{conversation_id}/tracker", None, {"include_events": "ALL"})
        for event in reversed(response.json().get("events") or []):
            if event.get("event") == "user" and isinstance(event.get("timestamp"), int | float):
                return datetime.fromtimestamp(event["timestamp"], UTC)
        return None

    def _post(self, path: str, body: Any, params: dict[str, str]) -> None:
        self._request("POST", path, body, params)

    def _request(self, method: str, path: str, body: Any, params: dict[str, str]) -> httpx.Response:
        try:
            response = httpx.request(
                method,
                f"{self.rasa_url}{path}",
                json=body,
                params={**params, "token": self.token},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise PushFailed(f"Rasa not reachable: {exc}") from exc
        if response.status_code >= 300:
            raise PushFailed(f"Rasa answered {response.status_code}: {response.text[:300]}")
        return response
