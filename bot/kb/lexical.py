"""BM25 over the same chunks the dense index holds (bm25s, with an English stemmer)."""

from __future__ import annotations

import numpy as np

__all__ = ["LexicalIndex"]


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
