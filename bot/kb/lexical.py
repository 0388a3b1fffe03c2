"""BM25 over the same chunks the dense index holds (bm25s, with an English stemmer), and the
help centre's words, to tell how much of a question is about things it never mentions."""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["LexicalIndex", "one_typo_away"]

# A word of this many letters or more may carry one typo and still be a known word.
TYPO_MIN_LETTERS = 4
_LETTERS = string.ascii_lowercase + string.digits

# The k largest of a million scores are looked for among those at least as high as the k-th
# largest of every SAMPLE_STRIDE-th score: about 0.9 ms instead of 2.6 ms for argpartition over
# all of them (docs/benchmarks.md, "KB scale").
SAMPLE_STRIDE = 16


class LexicalIndex:
    """Okapi BM25 scores of a query against every chunk."""

    def __init__(self, texts: list[str]) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        self._stopwords = frozenset(bm25s.stopwords.STOPWORDS_EN)
        self._size = len(texts)
        self._retriever = bm25s.BM25()
        # Split without the stemmer, then stemmed as bm25s.tokenize(stemmer=...) would: the one pass
        # over the text also gives the help centre's words as written, which the speller asks for
        # (bot/kb/spelling.py; counting them apart cost 1 s more per 100,000 passages at load).
        written = bm25s.tokenize(texts, stopwords="en", show_progress=False)
        self.written_words = frozenset(written.vocab)
        self._retriever.index(self._stemmed(written), show_progress=False)

    def _stemmed(self, written: Any) -> Any:
        """bm25s's tokens (ids into a vocabulary of words as written) with each word stemmed."""
        words = list(written.vocab)
        stems = self._stemmer.stemWords(words)
        stem_ids = {stem: i for i, stem in enumerate(dict.fromkeys(stems))}
        word_to_stem = [stem_ids[stem] for stem in stems]  # a word's id in `written.vocab` is its place
        ids = [[word_to_stem[word] for word in document] for document in written.ids]
        return self._bm25s.tokenization.Tokenized(ids=ids, vocab=stem_ids)

    def terms(self, text: str) -> list[str]:
        """The text's words as BM25 reads them: lower case, stemmed, without stop words."""
        return list(self._tokenize([text])[0])

    def words_of(self, texts: list[str]) -> frozenset[str]:
        """Every word of these texts as BM25 reads them (tokenized in one batch: fast for many)."""
        return self.stems_of(self.written_words_of(texts))

    def stems_of(self, words: frozenset[str]) -> frozenset[str]:
        """These words (lower case, no stop words) as BM25 reads them: stemmed."""
        return frozenset(self._stemmer.stemWords(list(words)))

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        return self._bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False)

    def knows(self, term: str) -> bool:
        """Whether any chunk uses this (stemmed) word."""
        return term in self._retriever.vocab_dict

    def uses(self, word: str, *, also_known: frozenset[str] = frozenset()) -> bool:
        """Whether a chunk (or `also_known`) has this word (lower case) as written. Stop words count
        as used: every text has them, though BM25 drops them."""
        return word in self.written_words or word in self._stopwords or word in also_known

    def written_words_of(self, texts: list[str]) -> frozenset[str]:
        """Every word of these texts as written (lower case), but for stop words."""
        if not texts:
            return frozenset()
        return frozenset(self._bm25s.tokenize(texts, stopwords="en", show_progress=False).vocab)

    def knows_any(self, words: Iterable[str], *, also_known: frozenset[str] = frozenset()) -> bool:
        """Whether any of these words (lower case, not stemmed) is used by a chunk or `also_known`."""
        return any(self.knows(term) or term in also_known for term in self._stemmer.stemWords(list(words)))

    def unknown_share(self, query: str, *, also_known: frozenset[str] = frozenset()) -> float:
        """The share of the query's words that no chunk uses (nor `also_known`), even with one typo
        put right: 0 for a question in the help centre's words, 1 for one about things it never
        mentions ("recipe for fluffy pancakes"). A question without such words counts 0."""
        terms = self.terms(query)
        if not terms:
            return 0.0

        def known(term: str) -> bool:
            return self.knows(term) or term in also_known

        unknown = [
            t
            for t in terms
            if not known(t) and not (len(t) >= TYPO_MIN_LETTERS and any(known(e) for e in one_typo_away(t)))
        ]
        return len(unknown) / len(terms)

    def scores(self, query: str) -> np.ndarray:
        """One BM25 score per chunk (0 where no query term occurs)."""
        terms = [t for t in self.terms(query) if self.knows(t)]
        if not terms or not self._size:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(terms), dtype=np.float32)

    def candidates(self, query: str, k: int, *, also: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows of the `k` best-scoring chunks (score above 0; of chunks tied at the k-th place,
        the first ones) and the rows `also`, sorted and without repeats, with each row's BM25 score."""
        scores = self.scores(query)
        best = _largest(scores, k)
        rows = np.union1d(also, best[scores[best] > 0])
        return rows, scores[rows]


def one_typo_away(word: str) -> Iterable[str]:
    """Every string one edit from `word`: a letter missing, extra or wrong, or two swapped."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    for left, right in splits:
        if right:
            yield left + right[1:]
            for letter in _LETTERS:
                yield left + letter + right[1:]
        if len(right) > 1:
            yield left + right[1] + right[0] + right[2:]
        for letter in _LETTERS:
            yield left + letter + right


def _largest(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows of the `k` largest scores, in no particular order; of rows tied at the k-th
    place, the first ones.

    The k-th largest of a sample is no higher than the k-th largest of all, so the k largest
    are among the scores at least that high: usually a few thousand of a million, found in one
    pass, instead of partially ordering all of them.
    """
    if k >= len(scores):
        return np.arange(len(scores))
    sample = scores[::SAMPLE_STRIDE]
    floor = np.partition(sample, len(sample) - k)[len(sample) - k] if len(sample) > k else 0
    # With a floor of 0 nearly every row would pass: then all of them are looked at.
    near = np.flatnonzero(scores >= floor) if floor > 0 else None
    values = scores if near is None else scores[near]
    kth = np.partition(values, len(values) - k)[len(values) - k]
    above = np.flatnonzero(values > kth)
    tied = np.flatnonzero(values == kth)[: k - len(above)]
    chosen = np.concatenate([above, tied])
    return chosen if near is None else near[chosen]
