"""Chat shorthand written out before a question is searched: "wheres the email to set a new pw".

The embedding model reads "pw" as two letters and BM25 finds no passage with it, so the password
article scores as if the customer had not said what they lost. The speller (bot/kb/spelling.py)
leaves such words alone: they are too short to be typos, or English uses them often enough.

The table is common English chat and texting shorthand with one reading in a support chat; forms
with two ("min": minute or minimum, "sec": second or security, "r") are left out. A form is
written out only when the help centre's articles do not use it themselves, so a help centre that
says "PW" in its own articles keeps it. Its example questions do not count: they are written in
customers' words, shorthand included.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["SHORTHAND", "expand_shorthand"]

SHORTHAND = {
    "u": "you",
    "ur": "your",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "thnx": "thanks",
    "pw": "password",
    "pwd": "password",
    "passwd": "password",
    "acc": "account",
    "acct": "account",
    "nr": "number",
    "notif": "notification",
    "notifs": "notifications",
    "msg": "message",
    "msgs": "messages",
    "addr": "address",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "b4": "before",
    "abt": "about",
    "cuz": "because",
    "coz": "because",
    "bc": "because",
    "idk": "i don't know",
    "wk": "week",
    "wks": "weeks",
    "hr": "hour",
    "hrs": "hours",
    "mins": "minutes",
    "yr": "year",
    "yrs": "years",
    "pic": "picture",
    "pics": "pictures",
    "vid": "video",
    "vids": "videos",
    "pkg": "package",
    "ppl": "people",
    "bday": "birthday",
    "nite": "night",
    "thru": "through",
    "wanna": "want to",
    "gonna": "going to",
    "dunno": "don't know",
}

# A word of letters and digits alone: not part of an email address, a web address, an order
# number ("KH-1234567") or an abbreviation with dots ("the u.s.").
_WORD = re.compile(r"(?<![\w@./-])[A-Za-z0-9]+(?![\w@/-]|\.\w)")


def expand_shorthand(text: str, help_centre_uses: Callable[[str], bool]) -> str:
    """`text` with each shorthand form the help centre does not use itself written out in full.

    `help_centre_uses`: whether the help centre's articles have a (lower-case) word as written."""

    def written_out(match: re.Match[str]) -> str:
        word = match.group(0)
        full = SHORTHAND.get(word.lower())
        return word if full is None or help_centre_uses(word.lower()) else full

    return _WORD.sub(written_out, text)
