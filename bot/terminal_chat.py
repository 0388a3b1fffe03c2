"""`make shell`: chat with the bot in a terminal over Rasa's REST channel.

Uses a running bot when there is one; otherwise starts the whole stack for the session
and stops it on exit. Buttons are shown numbered: type the number to press one.
"""

from __future__ import annotations

import re
import uuid

import httpx

from bot.config import Settings

__all__ = ["chat", "render", "resolve_input"]

_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def render(message: dict) -> str:
    """A bot message as terminal text: Markdown links become "title <url>"."""
    text = _LINK.sub(r"\1 <\2>", message.get("text") or "").replace("**", "")
    lines = [f"bot> {line}" if i == 0 else f"     {line}" for i, line in enumerate(text.splitlines())]
    for number, button in enumerate(message.get("buttons") or [], start=1):
        lines.append(f"     [{number}] {button.get('title')}")
    return "\n".join(lines)


def resolve_input(typed: str, buttons: list[dict]) -> str:
    """A button's payload when the customer typed its number, else what they typed."""
    if typed.strip().isdigit() and 1 <= int(typed) <= len(buttons):
        return str(buttons[int(typed) - 1]["payload"])
    return typed


def _is_up(settings: Settings) -> bool:
    try:
        return httpx.get(f"{settings.rasa_url}/", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def chat(settings: Settings) -> int:
    stack = None
    if not _is_up(settings):
        from bot.launcher import start_stack

        print("The bot is not running; starting it for this chat (about a minute)...")
        stack = start_stack(settings, on_progress=lambda line: print(f"  {line}"))
    sender = f"terminal-{uuid.uuid4().hex[:8]}"
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    print("Chat with Kestrel's support bot. Type /quit to leave.\n")
    buttons: list[dict] = []
    try:
        while True:
            try:
                typed = input("you> ")
            except EOFError:
                break
            if typed.strip() in ("/quit", "/exit"):
                break
            if not typed.strip():
                continue
            try:
                reply = httpx.post(url, json={"sender": sender, "message": resolve_input(typed, buttons)}, timeout=60)
                reply.raise_for_status()
            except httpx.HTTPError as exc:
                print(f"(could not reach the bot: {exc})")
                continue
            buttons = []
            for message in reply.json():
                print(render(message))
                buttons = message.get("buttons") or buttons
            print()
    finally:
        if stack:
            print("stopping the bot...")
            stack.stop()
    return 0
