"""The website chat widget's side of the helpdesk: the Kestrel Home demo page and chat history.

The widget itself (`widget/`, built into `static/widget/`) talks to Rasa's socket.io channel.
After a reload, a new tab or a dropped connection it asks here for the conversation so far,
which this service reads from Rasa's tracker through the token-protected HTTP API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

__all__ = ["WidgetButton", "WidgetHistory", "WidgetMessage", "history_from_events", "router"]

router = APIRouter(tags=["widget"])

# The widget makes its ids like Rasa does (uuid4 hex): 128 random bits, not guessable.
SESSION_ID_PATTERN = r"^[0-9a-f]{32}$"
# Enough to redraw any real chat; a runaway conversation does not become a huge response.
MAX_HISTORY_MESSAGES = 300
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


class WidgetButton(BaseModel):
    title: str
    payload: str


class WidgetMessage(BaseModel):
    sender: Literal["customer", "bot", "agent"]
    text: str
    buttons: list[WidgetButton] = []
    time: datetime
    # The widget's own id for a customer message, so it knows a queued message was delivered.
    client_message_id: str | None = None
    agent: str | None = None


class WidgetHistory(BaseModel):
    session_id: str
    messages: list[WidgetMessage]


def history_from_events(events: list[dict[str, Any]]) -> list[WidgetMessage]:
    """The customer's and the bot's messages of a Rasa tracker, nothing else (no slots, no actions).

    One bot event is one message, paragraphs and buttons included, as the socket.io channel sends
    it live (channels/socketio.py), so a reload redraws exactly the bubbles the customer saw.
    A button click arrives as its payload ("/affirm"); it is shown with the button's title.
    """
    messages: list[WidgetMessage] = []
    last_buttons: list[WidgetButton] = []
    for event in events:
        kind = event.get("event")
        time = _time(event.get("timestamp"))
        metadata = _as_dict(event.get("metadata"))
        if kind == "user":
            text = str(event.get("text") or "")
            client_id = metadata.get("client_message_id")
            messages.append(
                WidgetMessage(
                    sender="customer",
                    text=_customer_text(text, metadata.get("display"), last_buttons),
                    time=time,
                    client_message_id=client_id if isinstance(client_id, str) else None,
                )
            )
        elif kind == "bot":
            data = _as_dict(event.get("data"))
            buttons = _buttons(data.get("buttons") or data.get("quick_replies"))
            last_buttons = buttons or last_buttons
            is_agent = metadata.get("sender") == "agent"
            agent = metadata.get("agent") if is_agent and isinstance(metadata.get("agent"), str) else None
            text = str(event.get("text") or "").strip()
            if not text and not buttons:
                continue
            messages.append(
                WidgetMessage(sender="agent" if is_agent else "bot", text=text, buttons=buttons, time=time, agent=agent)
            )
    return messages[-MAX_HISTORY_MESSAGES:]


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _customer_text(text: str, display: Any, last_buttons: list[WidgetButton]) -> str:
    if isinstance(display, str) and display.strip():
        return display
    if text.startswith("/"):
        for button in last_buttons:
            if button.payload == text:
                return button.title
    return text


def _buttons(raw: Any) -> list[WidgetButton]:
    if not isinstance(raw, list):
        return []
    return [
        WidgetButton(title=str(b["title"]), payload=str(b["payload"]))
        for b in raw
        if isinstance(b, dict) and "title" in b and "payload" in b
    ]


def _time(timestamp: Any) -> datetime:
    if isinstance(timestamp, int | float):
        return datetime.fromtimestamp(timestamp, UTC)
    return datetime.now(UTC)


def _tracker_events(request: Request, session_id: str) -> list[dict[str, Any]]:
    settings = request.app.state.settings
    try:
        response = httpx.get(
            f"{settings.rasa_url}/conversations/{session_id}/tracker",
            params={"token": settings.rasa_token},
            timeout=15.0,
        )
    except httpx.HTTPError:
        raise HTTPException(502, "The chat server is not reachable; the history cannot be loaded now.") from None
    if response.status_code != 200:
        raise HTTPException(502, f"The chat server answered {response.status_code}; the history cannot be loaded now.")
    events = response.json().get("events") or []
    return [e for e in events if isinstance(e, dict)]


@router.get("/widget/history/{session_id}", response_model=WidgetHistory)
def widget_history(
    request: Request,
    response: Response,
    session_id: Annotated[str, PathParam(pattern=SESSION_ID_PATTERN, description="the widget's conversation id")],
) -> WidgetHistory:
    """The messages of one website chat, oldest first, for the widget to redraw after a reload."""
    events = _tracker_events(request, session_id)
    # Only website chats: a REST, Telegram or Slack conversation id must never open a transcript here.
    channels = {e.get("input_channel") for e in events if e.get("event") == "user"}
    if channels - {"socketio"}:
        raise HTTPException(404, "No website chat has this id.")
    # The widget runs on the shop's own site, another origin; no cookies are involved.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-store"
    return WidgetHistory(session_id=session_id, messages=history_from_events(events))


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def demo_page(request: Request) -> HTMLResponse:
    """Kestrel Home's shop front with the chat widget on it, embedded with one script tag."""
    return templates.TemplateResponse(request, "kestrel_demo.html", {"rasa_url": request.app.state.settings.rasa_url})
