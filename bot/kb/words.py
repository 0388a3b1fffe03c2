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
import unicodedata
from collections.abc import Callable, Sequence

from bot.kb.lexical import TYPO_MIN_LETTERS, one_typo_away

__all__ = ["model_words", "mostly_another_script", "reads_as_words"]

_LETTER_WORDS = re.compile(r"[a-z]+")


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


def mostly_another_script(text: str) -> bool:
    """Most letters are not Latin ("у меня не работает камера", "我的摄像头坏了"): a language the
    help centre, written in English, cannot be searched in."""
    letters = [ch for ch in text if ch.isalpha()]
    latin = sum(1 for ch in letters if ch.isascii() or unicodedata.name(ch, "").startswith("LATIN"))
    return bool(letters) and latin < len(letters) / 2
