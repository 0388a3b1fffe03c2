"""What the chat says for KB results, as plain data the action adapter sends on.

Kept out of `actions/` so the wording is testable without Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.kb.search import SHOWN_PASSAGE_CHARS, Hit

__all__ = [
    "FEEDBACK_BUTTONS",
    "MAX_PASSAGE_CHARS",
    "Reply",
    "addition_offer",
    "answer_reply",
    "not_found_reply",
    "ticket_offer",
]

FEEDBACK_BUTTONS = [
    {"title": "Yes, that solved it", "payload": "/affirm"},
    {"title": "No", "payload": "/deny"},
]
# The longest passage the search shows (two of an article's passages, bot/kb/search.py, measured
# without their list marks and line breaks, hence the room for those); a longer single passage
# (one very long sentence) is cut.
MAX_PASSAGE_CHARS = SHOWN_PASSAGE_CHARS + 200
CLOSEST_ARTICLES = 3
# Below this a "closest article" is unrelated noise, not worth a link.
RELATED_FLOOR = 0.35


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: list[dict] = field(default_factory=list)
    article: dict | None = None  # title/url/id, for channels that render article cards


def answer_reply(
    hit: Hit, *, second_try: bool = False, same_article: bool = False, read_again: bool = False
) -> list[Reply]:
    """The passage, its article's title and link, then "Did this solve it?" with buttons.
    `second_try`: after "No" (bot/kb/second_try.py), another article or, `same_article`, another
    part of the one just shown. `read_again`: the customer has read all of it already (a follow-up
    it answers best, bot/kb/followup.py REREAD_MARGIN, or a new question landing on it): said so,
    or the same text again looks like a bot that did not listen."""
    passage = hit.passage if len(hit.passage) <= MAX_PASSAGE_CHARS else hit.passage[: MAX_PASSAGE_CHARS - 3] + "..."
    if second_try and same_article:
        lead = f"Maybe this part of **{hit.title}** helps:"
    elif second_try:
        lead = f"Maybe this one fits better in **{hit.title}**:"
    elif read_again:
        lead = f"That's in the part of **{hit.title}** I showed you above:"
    else:
        lead = f"Here's what I found in **{hit.title}**:"
    link = f"\n\nRead the full article: [{hit.title}]({hit.url})" if hit.url else ""
    article = {"id": hit.article_id, "title": hit.title, "url": hit.url}
    return [
        Reply(f"{lead}\n\n{passage}{link}", article=article),
        Reply("Did this solve it?", buttons=list(FEEDBACK_BUTTONS)),
    ]


def not_found_reply(hits: list[Hit], *, after_tries: bool = False, open_ticket: str | None = None) -> list[Reply]:
    """The honest answer: no article is presented as the answer, the closest ones are listed.
    `open_ticket`: the reference of this conversation's open ticket, offered to add this to."""
    if after_tries:
        text = "Sorry, I couldn't find an answer to this in our help centre."
    else:
        text = "I'm not sure about this one, and I'd rather not guess."
    related = [h for h in hits if h.score >= RELATED_FLOOR][:CLOSEST_ARTICLES]
    if related:
        links = "\n".join(f"- [{h.title}]({h.url})" if h.url else f"- {h.title}" for h in related)
        text += f"\n\nThese articles come closest:\n{links}"
    text += "\n\nYou can ask in other words, or tell me more about what happened."
    return [Reply(text), addition_offer(open_ticket) if open_ticket else ticket_offer()]


TICKET_OFFER_BUTTONS = [
    {"title": "Yes, open a ticket", "payload": "/open_ticket"},
    {"title": "No, thanks", "payload": "/decline_ticket"},
]


def ticket_offer() -> Reply:
    """The seam between the KB and the people behind it: the customer may always decline."""
    return Reply(
        "Would you like me to open a ticket so someone from our support team can look into it?",
        buttons=list(TICKET_OFFER_BUTTONS),
    )


def addition_offer(reference: str) -> Reply:
    """With a ticket already open here, what the customer just wrote most likely belongs to it
    ("it happened again today"): adding it there comes first, a new ticket is still one tap."""
    return Reply(
        f"You have an open ticket, **{reference}**. Shall I add this message to it for the team?",
        buttons=[
            {"title": f"Yes, add it to {reference}", "payload": f'/add_to_ticket{{"ticket_ref":"{reference}"}}'},
            {"title": "Open a new ticket", "payload": "/open_ticket"},
            {"title": "No, thanks", "payload": "/decline_ticket"},
        ],
    )
