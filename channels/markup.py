"""The bot's little Markdown (**bold**, [label](https://...), "- " lists) in each platform's own markup.

The bot, the KB and agents write that subset (the web widget renders it: widget/src/markdown.js).
Sent as it is, Telegram and Slack show the customer the marks themselves: "Here's what I found in
**Reset your password**" and "Read the full article: [Reset your password](https://...)". Telegram
takes HTML (parse_mode "HTML"); Slack its mrkdwn, where a link is <url|label> and bold is one star.
Every other character is escaped first, so no text (an agent's "a < b", a KB passage) can become
markup, and the tags made here are always whole pairs: Telegram refuses a message with an
unbalanced tag, and the customer would get nothing.
"""

from __future__ import annotations

import html
import re

__all__ = ["slack_mrkdwn", "telegram_html"]

# On text already escaped for the platform: a label without brackets, an http(s) or mailto URL.
_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:https?://|mailto:)[^\s)]+)\)")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")


def telegram_html(text: str) -> str:
    """Telegram's HTML: <b> for bold, <a href> for links, &amp; &lt; &gt; for the rest."""
    escaped = html.escape(text, quote=False)
    escaped = _LINK.sub(lambda m: f'<a href="{_attribute(m.group(2))}">{_unbold(m.group(1))}</a>', escaped)
    return _BOLD.sub(r"<b>\1</b>", escaped)


def slack_mrkdwn(text: str) -> str:
    """Slack's mrkdwn: *bold*, <url|label>, and &amp; &lt; &gt; as Slack asks for them."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _LINK.sub(lambda m: f"<{m.group(2)}|{_unbold(m.group(1)).replace('|', '/')}>", escaped)
    return _BOLD.sub(r"*\1*", escaped)


def _unbold(label: str) -> str:
    """A link's label without bold marks: a tag or star inside a link would not pair up."""
    return _BOLD.sub(r"\1", label)


def _attribute(value: str) -> str:
    """A value inside double quotes: the text is escaped already but for its quotes."""
    return value.replace('"', "&quot;")
