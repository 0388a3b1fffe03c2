"""What the customer reads about their ticket, in the chat and by email."""

from __future__ import annotations

from bot.tickets.store import TicketView

STALE_QUESTION = (
    "Do you still need help with **{ref}** ({summary})? It has been waiting for your answer. "
    "Reply here, or tap **Keep it open**; otherwise we'll close it in {days} days."
)

STATUS_NEWS = {
    "open": "is open again, and the {team} team is on it",
    "pending_customer": "needs a little more information from you. Just reply here",
    "resolved": "was marked resolved by our {team} team",
    "closed": "is now closed",
}


def chat_reply(agent_name: str, ticket: TicketView, body: str) -> str:
    return f"**{agent_name or 'Our support team'}** from our {ticket.team} team replied on {ticket.reference}:\n{body}"


def status_sentence(ticket: TicketView, status: str, reason: str = "") -> str:
    news = STATUS_NEWS.get(status, "changed to " + status).format(team=ticket.team)
    sentence = f"Update on **{ticket.reference}** ({ticket.summary}): it {news}."
    return f"{sentence} {reason.strip()}" if reason.strip() and status == "closed" else sentence


def email_reply(agent_name: str, ticket: TicketView, body: str) -> tuple[str, str]:
    subject = f"Re: [{ticket.reference}] {ticket.summary}"
    text = (
        f"Hello,\n\n{agent_name or 'Our support team'} from the Kestrel {ticket.team} team replied to your ticket "
        f"{ticket.reference}:\n\n{body}\n\nYou can answer in the chat on our website; mention {ticket.reference}.\n\n"
        "Kestrel Home support\n"
    )
    return subject, text


def email_status(ticket: TicketView, status: str, reason: str, rating_links: dict[int, str] | None) -> tuple[str, str]:
    subject = f"[{ticket.reference}] {ticket.summary}: {status.replace('_', ' ')}"
    text = "Hello,\n\n" + status_sentence(ticket, status, reason).replace("**", "") + "\n"
    if rating_links:
        text += "\nDid we solve your problem? Rate our help with one click:\n"
        text += "".join(f"  {score} {'★' * score}: {url}\n" for score, url in sorted(rating_links.items()))
    return subject, text + "\nKestrel Home support\n"


def stale_question(ticket: TicketView, close_days: float) -> str:
    return STALE_QUESTION.format(ref=ticket.reference, summary=ticket.summary, days=f"{close_days:g}")


def email_stale(ticket: TicketView, close_days: float, keep_open_link: str) -> tuple[str, str]:
    subject = f"[{ticket.reference}] Do you still need help?"
    text = (
        "Hello,\n\n"
        + stale_question(ticket, close_days).replace("**", "").replace("tap Keep it open", "use the link")
        + f"\n\nKeep it open: {keep_open_link}\n\nKestrel Home support\n"
    )
    return subject, text
