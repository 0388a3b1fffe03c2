"""What the chat says and checks while it turns a problem into a ticket (no Rasa imports).

The action adapters in `actions/ticket_actions.py` call these; keeping the wording and the
validation here makes them testable without a tracker.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.tickets.store import TicketView

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
TICKET_REF = re.compile(r"\bSUP-?\s?(\d{1,6})\b", re.IGNORECASE)
# The shop's order numbers, "KH-1234567"; customers also type "kh1234567" or "KH 1234567".
ORDER_REF = re.compile(r"\bKH-?\s?(\d{4,10})\b", re.IGNORECASE)
MAX_SUMMARY_CHARS = 200
# A message typed where the email address was asked is a description of the problem from this many
# words on, unless it speaks of email or addresses ("my email is ada at example dot com").
DESCRIPTION_MIN_WORDS = 5
_ABOUT_EMAIL = re.compile(
    r"\b(?:e-?mail|mail|address|inbox|dot|gmail|hotmail|outlook|yahoo|icloud)\b|\.(?:com|org|net)\b", re.IGNORECASE
)
# Words that carry no information about the problem on their own.
_CONTENTLESS = {
    "help",
    "problem",
    "problems",
    "issue",
    "issues",
    "it",
    "doesn't",
    "doesnt",
    "work",
    "working",
    "broken",
    "please",
    "pls",
    "hi",
    "hello",
    "a",
    "an",
    "the",
    "my",
    "i",
    "have",
    "has",
    "is",
    "not",
    "need",
    "with",
    "something",
    "thing",
    "stuff",
    "wrong",
    "bad",
    "asdf",
    "test",
    "same",
    "as",
    "above",
    "before",
    "this",
    "that",
    "there",
    "me",
    "ticket",
    "open",
    "want",
    "to",
    "talk",
    "person",
    "human",
    "agent",
    "support",
}
STATUS_WORDS = {
    "new": "new: waiting for the team's first reply",
    "open": "open: the team is working on it",
    "pending_customer": "waiting for your answer",
    "resolved": "resolved",
    "closed": "closed",
}


def find_email(text: str) -> str | None:
    match = EMAIL.search(text or "")
    return match.group(0).lower() if match else None


def find_order_ref(text: str) -> str | None:
    """The last order number in `text`, written the shop's way ("KH-1234567"), or None."""
    found = ORDER_REF.findall(text or "")
    return f"KH-{found[-1]}" if found else None


def email_problem(text: str) -> str | None:
    """Why `text` holds no usable email address, in words a customer understands; None if it does."""
    text = (text or "").strip()
    if find_email(text):
        return None
    if "@" not in text:
        return "That doesn't look like an email address: it needs an @, like name@example.com."
    if " " in text.split("@", 1)[1].strip():
        return "There seems to be a space in the address. Could you type it again, like name@example.com?"
    return "The part after the @ needs a full domain, like name@example.com."


def find_ticket_ref(text: str) -> str | None:
    """ "SUP-000123", "sup 123", "SUP123" -> "SUP-000123"."""
    match = TICKET_REF.search(text or "")
    return f"SUP-{int(match.group(1)):06d}" if match else None


def says_something(summary: str) -> bool:
    """False for empty or content-free descriptions ("help", "it doesn't work", "asdf")."""
    words = re.findall(r"[a-z']+", summary.lower())
    informative = [w for w in words if w not in _CONTENTLESS and len(w) > 2]
    return len(informative) >= 2


def reads_as_description(text: str) -> bool:
    """Whether a message typed where an email address was asked describes the problem instead
    ("The lock beeps 3x and stays open"), not a try at an address ("ada at example dot com") or
    words about one ("I don't want to give my email")."""
    text = " ".join((text or "").split())
    if text.startswith("/") or "@" in text or _ABOUT_EMAIL.search(text) or len(text.split()) < DESCRIPTION_MIN_WORDS:
        return False
    return says_something(text)


def propose_summary(topic: str | None, customer_lines: list[str]) -> str | None:
    """The customer's own words: the question the bot could not answer, else their last real message."""
    for candidate in [topic or "", *reversed(customer_lines)]:
        candidate = " ".join(candidate.split())
        if candidate and not candidate.startswith("/") and says_something(candidate):
            if len(candidate) > MAX_SUMMARY_CHARS:
                candidate = candidate[: MAX_SUMMARY_CHARS - 3].rsplit(" ", 1)[0] + "..."
            return candidate[0].upper() + candidate[1:]
    return None


def mask_email_for_display(email: str) -> str:
    """a***@example.com: enough for the customer to recognise, not enough to leak."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def created_message(ticket: TicketView, team_wait: str) -> str:
    about = f" about order **{ticket.order_ref}**" if ticket.order_ref else ""
    return (
        f"I've opened ticket **{ticket.reference}**{about} for you. Our {ticket.team} team will get back to you "
        f"{team_wait}. I'll post updates right here, "
        f"and we'll also email {mask_email_for_display(ticket.customer_email)}."
    )


def status_line(ticket: TicketView, now: datetime) -> str:
    updated = ticket.updated_at.strftime("%d %b %H:%M UTC")
    line = f"**{ticket.reference}**: {ticket.summary}\nStatus: {STATUS_WORDS[ticket.status]} (last update {updated})."
    if ticket.status == "new":
        due = ticket.first_response_due
        when = "any moment now" if due <= now else f"by {due.strftime('%d %b %H:%M UTC')}"
        line += f"\nNext: the {ticket.team} team replies {when}."
    elif ticket.status == "open":
        line += f"\nNext: the {ticket.team} team will update you here."
    elif ticket.status == "pending_customer":
        line += "\nNext: the team needs more information from you; you can add it here."
    return line


NOT_FOUND = "I can't find that ticket for you. I can only show tickets opened in this conversation."
