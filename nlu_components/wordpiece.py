"""BERT's uncased WordPiece tokenizer in plain Python, for the MiniLM featurizer.

Why not TensorFlow Text's BertTokenizer: in eager mode it builds a dozen ragged tensors per
call, which cost more per chat message (about 4 ms here) than the whole transformer on
onnxruntime. The Rasa environment has no `tokenizers` package, and this is the short, well-known
algorithm of the original BERT code (and of Hugging Face's BertTokenizer, which
sentence-transformers uses for all-MiniLM-L6-v2): clean and split on whitespace, lower-case,
strip accents, split off punctuation and CJK characters, then greedy longest-match WordPiece.
`tests/test_nlu_benchmark.py` checks it against TensorFlow Text and the vectors against
sentence-transformers.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

__all__ = ["WordPieceTokenizer"]

MAX_CHARS_PER_WORD = 100  # longer "words" become [UNK], as in BERT


class WordPieceTokenizer:
    def __init__(self, vocab: list[str], *, unknown: str = "[UNK]") -> None:
        self.ids = {piece: i for i, piece in enumerate(vocab)}
        self.unknown = self.ids[unknown]
        # Chat messages repeat words: a word's pieces are looked up once.
        self._word_ids = lru_cache(maxsize=50_000)(self._word_pieces)

    def tokenize(self, text: str) -> list[int]:
        ids: list[int] = []
        for word in _basic_words(text):
            ids.extend(self._word_ids(word))
        return ids

    def _word_pieces(self, word: str) -> tuple[int, ...]:
        if len(word) > MAX_CHARS_PER_WORD:
            return (self.unknown,)
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self.ids.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:  # no piece fits: the whole word is unknown
                return (self.unknown,)
            pieces.append(found)
            start = end
        return tuple(pieces)


def _basic_words(text: str) -> list[str]:
    """BERT's BasicTokenizer with lower-casing: the words WordPiece then splits."""
    cleaned = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD or _is_control(char):
            continue
        if _is_whitespace(char):
            cleaned.append(" ")
        elif _is_cjk(code):
            cleaned.append(f" {char} ")
        else:
            cleaned.append(char)
    words = []
    for token in "".join(cleaned).split():
        token = unicodedata.normalize("NFD", token.lower())
        token = "".join(c for c in token if unicodedata.category(c) != "Mn")
        words.extend(_split_punctuation(token))
    return words


def _split_punctuation(token: str) -> list[str]:
    out: list[str] = []
    current = ""
    for char in token:
        if _is_punctuation(char):
            if current:
                out.append(current)
                current = ""
            out.append(char)
        else:
            current += char
    if current:
        out.append(current)
    return out


def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char) in ("Cc", "Cf")


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    # ASCII symbols such as "$", "^" and "`" count as punctuation in BERT, as in Unicode's P*.
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )
