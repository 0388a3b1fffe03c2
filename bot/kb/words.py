"""Whether a message holds any word at all.

"asdfgh" or "jjj kkk" is a slip of the keyboard, not a question the help centre failed to
answer: the bot asks the customer to say it again instead of offering a ticket for it, and the
admins' list of unanswered questions is not filled with it. A word is known when the embedding
model's word-piece vocabulary holds it whole (about 22,000 English words for all-MiniLM-L6-v2,
without "refund" or "kestrel") or the help centre uses it, in both cases with one typo allowed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

from bot.kb.lexical import TYPO_MIN_LETTERS, one_typo_away

__all__ = ["is_only_filler", "model_words", "reads_as_words", "thumbs_verdict"]

_LETTER_WORDS = re.compile(r"[a-z]+")

# Sounds people type while they think or react ("hmm", "umm", "oh", "lol"): no request in them,
# so no article to search for and nothing to open a ticket about.
_FILLER_WORD = re.compile(r"h+m+|m+h+m+|u+h*m+|u+h+|e+r+m*|a+h+|o+h+|huh|meh|ugh|welp|well|so|lol+|(?:ha)+h?|(?:he)+h?")


def model_words(model_path: str | None) -> frozenset[str]:
    """The whole words (no "##" pieces) of a BERT-style model's vocab.txt; empty without one."""
    vocabulary = os.path.join(model_path, "vocab.txt") if model_path else ""
    if not vocabulary or not os.path.exists(vocabulary):
        return frozenset()
    with open(vocabulary, encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip().isalpha())


def reads_as_words(
    text: str, dictionary: frozenset[str], knows_any: Callable[[Sequence[str]], bool] = lambda _: False
) -> bool:
    """False only for letters that make no known word, even with one typo, and no digit.

    `dictionary`: known words, lower case; `knows_any`: whether the help centre uses any of these
    words (it stems them). Without a dictionary nothing is called gibberish. A message without
    Latin letters (an emoji, another script) or with a digit (an order number) counts as words.
    """
    lowered = text.lower()
    words = _LETTER_WORDS.findall(lowered)
    if not dictionary or not words or any(ch.isdigit() for ch in lowered):
        return True
    for word in words:
        spellings = [word, *one_typo_away(word)] if len(word) >= TYPO_MIN_LETTERS else [word]
        if any(spelling in dictionary for spelling in spellings) or knows_any(spellings):
            return True
    return False


def is_only_filler(text: str) -> bool:
    """ "hmm", "umm...", "oh well", "lol": one to three thinking sounds and nothing else."""
    words = re.findall(r"[^\W_]+", text.lower())
    return 0 < len(words) <= 3 and all(_FILLER_WORD.fullmatch(word) for word in words)


_YES_SIGNS = set("👍👌✅✔")
_NO_SIGNS = set("👎❌✖")
# Skin tones and the variation selector that turns "✔" into its emoji form change no meaning.
_MODIFIERS = set("\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff\ufe0f")


def thumbs_verdict(text: str) -> bool | None:
    """True for a message of only yes signs ("👍", "👍🏽👍"), False for only no signs ("👎"), else None.

    A thumbs up is how many people answer "Did this solve it?" in a chat.
    """
    signs = {ch for ch in text if not ch.isspace() and ch not in _MODIFIERS and ch not in "!.?"}
    if signs and signs <= _YES_SIGNS:
        return True
    if signs and signs <= _NO_SIGNS:
        return False
    return None
