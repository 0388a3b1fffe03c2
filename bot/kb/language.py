"""Whether a message is written in a language other than English.

The help centre and the bot speak English, so a question in Spanish finds no article: telling
its writer "I can only help in English for now" is honest, where "I'm not sure, shall I open a
ticket?" is not (and files a ticket an English-speaking team may not read). Two signs:

- most letters are not Latin ("у меня не работает камера", "我的摄像头坏了");
- the words are far more common in another Latin-script language than in English
  ("mi cámara no funciona"): a naive Bayes over each word's frequency in the `wordfreq`
  package's lists. A word English does not know at all costs no more than a rare one, so a
  misspelt English question is not taken for Dutch.

Only asked when no article answers the message, so a customer who writes "¿password reset?"
and is understood is still answered.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["mostly_another_script", "written_in_another_language"]

# The Latin-script languages wordfreq has lists for that customers of a European or American
# shop most often write in. Hinglish ("kab tak aayega") has no list; it reads as Indonesian,
# which is just as right for "I can only help in English".
OTHER_LATIN_LANGUAGES = (
    *("es", "fr", "de", "pt", "it", "nl", "sv", "da", "nb"),
    *("fi", "pl", "cs", "tr", "ro", "id", "hu", "ca"),
)

# How much more likely, per word, the message is in the other language than in English, in
# Zipf units (log10 of a word's count per billion words): 1.5 is about 30 times. Measured on
# 31,605 English messages (the demo and calibration questions, CLINC150, HINT3, BANKING77, the
# NLU examples): 14 flagged, of which 8 are Hindi in Latin letters, 1 French ("merci beaucoup")
# and 5 English ("hi hi", "Very vad", a name twice, "Dite plan"); 90 of 90 written Spanish,
# French, German, Portuguese, Italian and Dutch support questions caught.
MARGIN_PER_WORD = 1.5
# The frequency given to a word a list does not hold: a typo or a product name is rare, not
# impossible, in any language.
UNSEEN_ZIPF = 1.0

_WORD = re.compile(r"[^\W\d_]{2,}")


def mostly_another_script(text: str) -> bool:
    """Most letters are not Latin: a language the English help centre cannot be searched in."""
    letters = [ch for ch in text if ch.isalpha()]
    latin = sum(1 for ch in letters if ch.isascii() or unicodedata.name(ch, "").startswith("LATIN"))
    return bool(letters) and latin < len(letters) / 2


def another_latin_language(text: str) -> str | None:
    """The language code a message of two words or more reads as, if clearly not English."""
    words = _WORD.findall(text.lower())
    if len(words) < 2:  # "merci", "gracias": one word is too little to go on
        return None
    from wordfreq import zipf_frequency  # imported here: only unanswered messages need its lists

    def likelihood(language: str) -> float:
        return sum(max(zipf_frequency(word, language, wordlist="small"), UNSEEN_ZIPF) for word in words)

    others = {language: likelihood(language) for language in OTHER_LATIN_LANGUAGES}
    best = max(others, key=others.__getitem__)
    return best if others[best] - likelihood("en") >= MARGIN_PER_WORD * len(words) else None


def written_in_another_language(text: str) -> bool:
    return mostly_another_script(text) or another_latin_language(text) is not None
