"""BM25 over the same chunks the dense index holds (bm25s, with an English stemmer)."""

from __future__ import annotations

import numpy as np

__all__ = ["LexicalIndex"]

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
        self._size = len(texts)
        self._retriever = bm25s.BM25()
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)
        self._retriever.index(tokens, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """One BM25 score per chunk (0 where no query term occurs)."""
        tokenized = self._bm25s.tokenize(
            [query], stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )
        terms = [t for t in tokenized[0] if t in self._retriever.vocab_dict]
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
