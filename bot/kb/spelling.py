"""Put right the misspelt words of a question before it is searched.

"my camra wont turn on": the embedding model reads "camra" as word pieces unrelated to
"camera", and BM25 finds no passage with it, so the camera article scores as if the customer
had not named what they are asking about. A word is put right only when it is no word at all:
the help centre never uses it (its passages, titles and example questions), the embedding model's
vocabulary does not hold it whole, and English uses it less than `NON_WORD_ZIPF` by wordfreq's
list. It then becomes the word one typo away that English uses most, but only if the help centre
uses that word too: "doorbel" becomes "doorbell", while "resut" stays as it is, since its likeliest
meaning, "result", is not the help centre's "reset".

Correcting every word the help centre does not know was tried first and did worse: it turned
"fingerprint" into "fingerprints", "frozen" into "froze" and "knot" into "not" (docs/benchmarks.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from wordfreq import get_frequency_dict

from bot.kb.lexical import TYPO_MIN_LETTERS, one_typo_away
from bot.kb.shorthand import expand_shorthand

__all__ = ["NON_WORD_ZIPF", "Speller"]

# Zipf is log10 of a word's uses per billion words: under 2.25, fewer than about 2 in 10 million.
# Chosen on the choosing questions (the demo's dev split and the calibration set): from 2.0 to 2.5
# the same questions are answered rightly, and the corrections made are all right ("camra" 1.99,
# "shoud" 2.13); below 2.0 "camra" is left as it is, and from about 2.6 real words and common
# misspellings of other words start to be changed ("mowers" -> "lowers", "wich" -> "with").
NON_WORD_ZIPF = 2.25

# A word of letters alone: not part of an email address, a web address or an order number.
_WORD = re.compile(r"(?<![\w@./-])[A-Za-z]+(?![\w@/-])")


class Speller:
    """Writes out chat shorthand and corrects non-words to the help centre's own words."""

    def __init__(
        self,
        help_centre_uses: Callable[[str], bool],
        model_words: frozenset[str],
        *,
        articles_use: Callable[[str], bool] | None = None,
    ) -> None:
        # Whether the help centre has a (lower-case) word as written: asked of the BM25 index, which
        # keeps its words (bot/kb/lexical.py), as counting them again cost 1 s more per 100,000
        # passages at load.
        self._uses = help_centre_uses
        # Whether the articles themselves do (`help_centre_uses` if not given): shorthand is kept
        # only if they use it. Example questions are in customers' words, "pw" and "pls" among them,
        # which is no sign the help centre means something else by them.
        self._articles_use = articles_use or help_centre_uses
        self._model_words = model_words
        # Each English word's share of all words (wordfreq's large list: 321,000 words, about 40 MB).
        self._english: dict[str, float] = get_frequency_dict("en")

    def correct(self, text: str) -> str:
        """`text` with chat shorthand written out ("pw" -> "password", bot/kb/shorthand.py) and
        each non-word replaced by its correction; the rest as written."""
        text = expand_shorthand(text, self._articles_use)
        return _WORD.sub(lambda match: self._correction(match.group(0)), text)

    def _correction(self, word: str) -> str:
        lowered = word.lower()
        if len(lowered) < TYPO_MIN_LETTERS or lowered in self._model_words:
            return word
        if _zipf(self._english.get(lowered, 0.0)) >= NON_WORD_ZIPF or self._uses(lowered):
            return word
        # What an English spell checker would make of it: the neighbour English uses most. Where
        # several tie (most often words English never uses), one the help centre uses, so that its
        # product names are found.
        neighbours = set(one_typo_away(lowered))
        most = max(self._english.get(spelling, 0.0) for spelling in neighbours)
        likeliest = sorted(spelling for spelling in neighbours if self._english.get(spelling, 0.0) == most)
        used = [spelling for spelling in likeliest if self._uses(spelling)]
        return used[0] if used else word


def _zipf(frequency: float) -> float:
    """wordfreq's Zipf scale: log10 of uses per billion words (0 for a word it never saw)."""
    return math.log10(frequency * 1e9) if frequency > 0 else 0.0
