"""Search the KB: dense and BM25 scores fused per chunk, aggregated per article, then decided.

The fused score is absolute, not relative to the other hits of the same query, so one
threshold on it can say "I know" or "I don't know":

    fused = cosine(query, chunk) + LEXICAL_WEIGHT * bm25 / (bm25 + BM25_SATURATION)
    article = best fused chunk + CENTROID_WEIGHT * cosine(query, article centroid)
              + QUESTION_WEIGHT * best cosine(query, the article's example questions)
              - UNKNOWN_WORDS_WEIGHT * share of the query's words the help centre never uses
              - NOT_ANSWERED_WEIGHT * best cosine(query, the questions the help centre does not answer)

Before any of it, the question's misspelt words are put right ("camra" -> "camera",
bot/kb/spelling.py).

The BM25 term saturates below 1, so exact keyword overlap (product names, error codes) lifts a
passage without letting a long keyword-stuffed chunk dominate. The centroid (the mean of the
article's chunk vectors) is what the article is about as a whole: it keeps one
passage that merely names the same product ("my doorbell...") from outranking the article
about what the customer wants done with it. The example questions (the title and the
questions its writer added, `example_questions`) are how customers ask for the article: a
question phrased like one of them is about this article even when its words are far from
the article's. The last term is the same for every article of a query, so it changes no
ranking, only the decision: "can the lock open with a fingerprint" is close to the smart-lock
article in meaning, but "fingerprint" is a word no article or example question uses, a sign
that the question is about something the help centre does not cover. The not-answered term is
the same for every article too: the articles' writers (and admins, from the console's Help
centre page) list questions customers ask near an article that no article answers ("can the
doorbell be hardwired"), and a question phrased like one of them is one the bot should not
answer with the article that merely shares its words. The best chunk's text becomes the hit's
passage.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np

from bot.kb.chunking import Chunk, starts_list_item
from bot.kb.embedding import Embedder, SentenceTransformerEmbedder
from bot.kb.index import KBIndex, load_index, question_slices
from bot.kb.lexical import LexicalIndex
from bot.kb.spelling import Speller
from bot.kb.words import model_words, reads_as_words

__all__ = [
    "MAX_QUERY_CHARS",
    "PASSAGE_SEPARATOR",
    "TOP_K",
    "Answer",
    "Hit",
    "KnowledgeBase",
    "Mode",
    "chunk_key",
    "clean_query",
    "limit_query_threads",
]

Mode = Literal["dense", "bm25", "fused"]
Decision = Literal["answer", "escalate"]

LEXICAL_WEIGHT = 0.3
BM25_SATURATION = 8.0
# Chosen on the dev split of eval/kb_questions.jsonl, where it put the right article first for
# 0.81 of the questions instead of 0.78 (test split: 0.77 instead of 0.74); docs/benchmarks.md.
CENTROID_WEIGHT = 0.2
# These two were chosen together on the dev split of eval/kb_questions.jsonl and the independent
# eval/kb_calibration.jsonl (262 answerable, 160 out-of-scope questions), each pair with its own
# calibrated threshold: 1.5 and 0.8 answered the most rightly (0.794; 0.767 with 1.0 and no
# unknown-word term) (docs/benchmarks.md, "Knowing when not to answer").
QUESTION_WEIGHT = 1.5
UNKNOWN_WORDS_WEIGHT = 0.8
# Chosen on the same 422 questions with 560 written not-answered questions (12 per article), a
# grid of floors (0-0.7) and weights (0.5-3), each pair with its own calibrated threshold, the
# grid smoothed over its neighbours: 1.25 and no floor (0.794 -> 0.897 right answers there).
NOT_ANSWERED_WEIGHT = 1.25
# Example questions taken before fusing: their articles' passages join the candidates.
QUESTION_CANDIDATES = 20
# Candidate chunks taken from each side before fusing.
CANDIDATES = 100
# The model reads at most 256 word pieces; longer questions only cost time.
MAX_QUERY_CHARS = 1000
# The longest passage shown: an article's opening lines are joined to the passage after them,
# and a passage of a few words to the one before it in its section, when the two fit in this.
JOINED_PASSAGE_CHARS = 700
SHORT_PASSAGE_WORDS = 25
# The article's second best passage is shown after (or before, in the article's order) the best
# one when its score is within this margin and both fit in SHOWN_PASSAGE_CHARS: the answer is often
# in the passage just below the one that names the topic best. On the labelled answer spans of the
# choosing set (eval/kb_answer_spans_*.jsonl, `kb eval`), the passage shown held the answer for 0.761
# of the right-article answers with the best passage alone, 0.853 with this (the smallest margin that
# reaches 0.85; two passages in 29% of answers, 522 characters on average); docs/benchmarks.md.
SECOND_PASSAGE_MARGIN = 0.05
SHOWN_PASSAGE_CHARS = 1100
# Between passages shown together; inside one, only a list item or table row starts a line
# (Chunk.shown, bot/kb/chunking.py).
PASSAGE_SEPARATOR = "\n\n"
# Articles a search returns unless asked for more: the answer and the closest others.
TOP_K = 5


@dataclass(frozen=True)
class Hit:
    article_id: str
    title: str
    url: str
    score: float
    passage: str
    section: str = ""

    def as_dict(self) -> dict:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "url": self.url,
            "score": round(self.score, 4),
            "passage": self.passage,
        }


@dataclass(frozen=True)
class Answer:
    """What the chat does with a question: answer with `hits[0]`, or escalate."""

    decision: Decision
    hits: list[Hit]
    reason: Literal["empty_question", "low_confidence", "confident"]

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


def chunk_key(chunk: Chunk) -> str:
    """A short key of a chunk's shown text: the same while the text is, whatever a rebuild
    does to the rows around it."""
    return hashlib.sha1(f"{chunk.article_id}\n{chunk.shown}".encode()).hexdigest()[:12]


def clean_query(text: str | None) -> str:
    """Collapse whitespace and cut absurdly long input (a pasted log, say) to a useful length."""
    return re.sub(r"\s+", " ", text or "").strip()[:MAX_QUERY_CHARS]


def limit_query_threads(threads: int) -> None:
    """Let torch and FAISS use `threads` threads in this process (0 leaves their default).

    One query is too small to split across cores, and when another process holds a core the
    OpenMP workers wait for it: on 2 busy cores one question's embedding took 1.4 s (p50)
    with 2 threads and 0.1 s with 1, a 10k-chunk exact search 50 ms and 0.25 ms.
    """
    if threads <= 0:
        return
    import faiss
    import torch

    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)


class KnowledgeBase:
    """A loaded index with its lexical twin and the embedder that made it."""

    def __init__(self, index: KBIndex, embedder: Embedder, *, threshold: float) -> None:
        if index.model_name != embedder.name:
            raise ValueError(
                f"the index was built with '{index.model_name}' but the embedder is '{embedder.name}'; "
                "rebuild the index with the same model"
            )
        self.index = index
        self.embedder = embedder
        self.threshold = threshold
        self.lexical = LexicalIndex(index.chunk_texts())
        self.article_ids, self.centroids, self._chunk_article = _article_centroids(index)
        # Each article's chunk rows (an article's chunks are consecutive in a built index, but
        # an index made in memory need not be so).
        self._rows_by_article = np.argsort(self._chunk_article, kind="stable")
        self._article_first_row = np.searchsorted(
            self._chunk_article[self._rows_by_article], np.arange(len(self.article_ids))
        )
        self._article_row_count = np.bincount(self._chunk_article, minlength=len(self.article_ids))
        self._question_article, self._question_start, self._question_count = _question_rows(index, self.article_ids)
        # Customers' words from the example questions count as the help centre's own words.
        # Tokenized once: the speller wants them as written, BM25's checks stemmed.
        written_question_words = self.lexical.written_words_of(
            [q for meta in index.articles.values() for q in meta.questions]
        )
        self._question_words = self.lexical.stems_of(written_question_words)
        self._speller = Speller(
            lambda word: self.lexical.uses(word, also_known=written_question_words),
            self._model_words,
            articles_use=self.lexical.uses,
        )

    @classmethod
    def load(cls, index_dir: Path, *, threshold: float, embedder: Embedder | None = None) -> KnowledgeBase:
        return cls(load_index(index_dir), embedder or SentenceTransformerEmbedder(), threshold=threshold)

    @cached_property
    def _model_words(self) -> frozenset[str]:
        return model_words(getattr(self.embedder, "model_path", None))

    def reads_as_words(self, question: str) -> bool:
        """False for keyboard mashing ("asdfgh"): no word the embedding model's vocabulary, the
        help centre or its example questions know, even with one typo (bot/kb/words.py)."""
        return reads_as_words(
            question, self._model_words, lambda words: self.lexical.knows_any(words, also_known=self._question_words)
        )

    def read_as(self, question: str) -> str:
        """The text the search reads: the question cleaned and cut, its misspelt words put right
        ("my camra" -> "my camera", bot/kb/spelling.py)."""
        return self._speller.correct(clean_query(question))

    def answer(
        self,
        question: str,
        *,
        top_k: int = TOP_K,
        query_vector: np.ndarray | None = None,
        unknown_words_of: str | None = None,
    ) -> Answer:
        """Search and decide. An empty question escalates with no hits.

        `query_vector`: the question's embedding when the caller already has it from this
        embedder's model (the NLU pipeline's, nlu_components/shared_vector.py); else it is embedded here.
        `unknown_words_of`: see `search`.
        """
        hits = self.search(question, top_k=top_k, query_vector=query_vector, unknown_words_of=unknown_words_of)
        if not hits:
            return Answer("escalate", [], "empty_question" if not clean_query(question) else "low_confidence")
        if hits[0].score < self.threshold:
            return Answer("escalate", hits, "low_confidence")
        return Answer("answer", hits, "confident")

    def search(
        self,
        question: str,
        *,
        top_k: int = TOP_K,
        mode: Mode = "fused",
        query_vector: np.ndarray | None = None,
        unknown_words_of: str | None = None,
    ) -> list[Hit]:
        """Ranked articles, best first, at most `top_k` of them.

        `query_vector` is the embedding of the whole `question`; it is not used when the search
        reads another text: the question cut short (MAX_QUERY_CHARS) or with its misspelt words
        put right (bot/kb/spelling.py).

        `unknown_words_of`: the text whose words the unknown-word term counts, if not `question`'s:
        a follow-up's own, when it is searched joined to its topic ("to guernsey?" after "do you
        deliver to the uk"), where the topic's known words would hide the one nobody answers.
        """
        query = clean_query(question)
        if not query or not self.index.chunks:
            return []
        if query_vector is not None and len(query) < len(" ".join(question.split())):
            query_vector = None
        corrected = self._speller.correct(query)
        if corrected != query:  # the vector given was of the misspelt words
            query, query_vector = corrected, None
        rows, scores, query_vector = self._chunk_scores(query, mode, query_vector)
        best, articles = self._best_per_article(rows, scores)
        # float64 from here, as the hits' scores are Python floats.
        ranked = scores[best].astype(np.float64)
        order = np.arange(len(best))
        if mode == "fused":
            assert query_vector is not None
            ranked = self._with_centroids(ranked, articles, query_vector)
            ranked = self._with_questions(ranked, articles, query_vector)
            words = query if unknown_words_of is None else self._speller.correct(clean_query(unknown_words_of))
            ranked -= UNKNOWN_WORDS_WEIGHT * self.lexical.unknown_share(words, also_known=self._question_words)
            ranked -= NOT_ANSWERED_WEIGHT * self._closeness_to_not_answered(query_vector)
            order = np.argsort(-ranked, kind="stable")
        row_articles = self._chunk_article[rows]  # each candidate chunk's article, for the runner-up passages
        hits = []
        for i in order[:top_k]:
            row = int(rows[best[i]])
            chunk = self.index.chunks[row]
            meta = self.index.articles[chunk.article_id]
            passage = (
                self._passage(row) if mode != "fused" else self._shown_passage(rows, row_articles, scores, best[i])
            )
            hits.append(Hit(meta.id, meta.title, meta.url, float(ranked[i]), passage, chunk.section))
        return hits

    def read_keys(self, article_id: str, passage: str) -> list[str]:
        """Keys of the article's chunks that `passage` shows: what a conversation remembers of the
        text a customer has read (a few characters each, not the text itself)."""
        return [chunk_key(chunk) for chunk in self._article_chunks(article_id) if chunk.shown in passage]

    def unread(self, article_id: str, passage: str, read: Collection[str]) -> str:
        """`passage` without the parts (paragraphs a search shows apart) whose every chunk is in
        `read`: "" when the customer has read all of it, or all but the article's opening."""
        chunks = self._article_chunks(article_id)

        def was_read(part: str) -> bool:
            inside = [chunk_key(chunk) for chunk in chunks if chunk.shown in part]
            return bool(inside) and all(key in read for key in inside)

        parts = passage.split(PASSAGE_SEPARATOR)
        left = [part for part in parts if not was_read(part)]
        # The article's opening (its lines before the first heading) leads into the passage after it
        # (`_passage_and_words`); left on its own ("This article covers delivery outside the
        # Netherlands and the UK.") it answers nothing.
        title = self.index.articles[article_id].title if chunks else ""
        opening = chunks[0].shown if chunks and chunks[0].section in ("", title) else None
        if len(left) < len(parts) and all(part == opening for part in left):
            return ""
        return PASSAGE_SEPARATOR.join(left)

    def other_passage(
        self,
        question: str,
        article_id: str,
        read: Collection[str],
        *,
        query_vector: np.ndarray | None = None,
        within: float | None = None,
    ) -> str | None:
        """The article's passage that best matches `question` (dense and BM25, as `search` scores
        chunks) among those with nothing `read` in them (`read_keys`); None when there is none,
        or, with `within`, when it scores more than that below the article's best chunk.

        For a follow-up that lands on the passage the customer has just read ("and how long does
        charging take?" after "my doorbell battery drains fast"): the same text again tells them
        nothing new. The question alone picks the passage, since the article is settled: joined
        to its topic, it would find the topic's passage again.
        """
        query = self.read_as(question)
        if not query or article_id not in self.article_ids:
            return None
        if query_vector is None or query != clean_query(question):
            query_vector = self.embedder.embed([query])[0]
        rows = self._article_rows(article_id)
        scores = _fused(self.index.vectors[rows] @ query_vector, self.lexical.scores(query)[rows])
        for position in np.argsort(-scores, kind="stable"):
            if within is not None and scores[position] < scores.max() - within:
                return None
            passage = self._passage(int(rows[position]))
            # Nothing of it read: a passage whose other part was read would be shown without what
            # it was joined for ("This article covers delivery abroad." without the delivery times).
            if self.unread(article_id, passage, read) == passage:
                return passage
        return None

    def _article_rows(self, article_id: str) -> np.ndarray:
        article = self.article_ids.index(article_id)
        first = self._article_first_row[article]
        return self._rows_by_article[first : first + self._article_row_count[article]]

    def _article_chunks(self, article_id: str) -> list[Chunk]:
        if article_id not in self.article_ids:
            return []
        return [self.index.chunks[int(row)] for row in self._article_rows(article_id)]

    def _chunk_scores(
        self, query: str, mode: Mode, query_vector: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Candidate chunk rows, their scores under `mode`, and the query's vector (not for bm25)."""
        total = len(self.index.chunks)
        take = min(CANDIDATES, total)
        rows: np.ndarray = np.zeros(0, dtype=np.int64)
        if mode == "bm25":
            query_vector = None
        elif query_vector is None:
            query_vector = self.embedder.embed([query])[0]
        if query_vector is not None:
            _, found = self.index.faiss_index.search(query_vector[None, :], take)
            rows = found[0][found[0] >= 0]
        if mode == "fused" and query_vector is not None:
            rows = np.union1d(rows, self._rows_of_question_matches(query_vector))
        bm25 = None
        if mode in ("bm25", "fused"):
            # The best lexical chunks joined to the dense ones, with the BM25 score of each.
            rows, bm25 = self.lexical.candidates(query, take, also=rows)
        if mode == "bm25":
            assert bm25 is not None
            return rows, bm25, None
        assert query_vector is not None
        dense = self.index.vectors[rows] @ query_vector
        if mode == "dense":
            return rows, dense, query_vector
        assert bm25 is not None
        return rows, _fused(dense, bm25), query_vector

    def _with_centroids(self, scores: np.ndarray, articles: np.ndarray, query_vector: np.ndarray) -> np.ndarray:
        """Each article's score plus the weighted cosine of the query to the article's centroid."""
        closeness = self.centroids[articles] @ query_vector if len(articles) else np.zeros(0, dtype=np.float32)
        return scores + CENTROID_WEIGHT * closeness.astype(np.float64)

    def _with_questions(self, scores: np.ndarray, articles: np.ndarray, query_vector: np.ndarray) -> np.ndarray:
        """Each article's score plus the weighted cosine of the query to the closest of the
        article's example questions (nothing for an index without them)."""
        if self.index.question_vectors is None or not len(articles):
            return scores
        counts = self._question_count[articles]
        if not counts.sum():
            return scores
        # The question rows of every candidate article, one run per article.
        rows, offsets = _runs(self._question_start[articles], counts)
        closeness = self.index.question_vectors[rows] @ query_vector
        best = np.maximum.reduceat(closeness, np.minimum(offsets, len(rows) - 1))
        best = np.where(counts > 0, best, 0.0)  # reduceat gives a neighbour's value for an empty run
        return scores + QUESTION_WEIGHT * best.astype(np.float64)

    def _closeness_to_not_answered(self, query_vector: np.ndarray) -> float:
        """The cosine of the query to the closest question the help centre does not answer (0
        without any, and never below 0: an unrelated question is not made more likely)."""
        vectors = self.index.not_answered_vectors
        if vectors is None or not len(vectors):
            return 0.0
        return max(0.0, float(np.max(vectors @ query_vector)))

    def _rows_of_question_matches(self, query_vector: np.ndarray) -> np.ndarray:
        """The chunk rows of the articles whose example questions are nearest the query, so an
        article asked for in its customers' words is scored even if no passage came up."""
        if self.index.question_faiss_index is None or not len(self._question_article):
            return np.zeros(0, dtype=np.int64)
        take = min(QUESTION_CANDIDATES, len(self._question_article))
        _, found = self.index.question_faiss_index.search(query_vector[None, :], take)
        articles = np.unique(self._question_article[found[0][found[0] >= 0]])
        articles = articles[articles >= 0]
        positions, _ = _runs(self._article_first_row[articles], self._article_row_count[articles])
        return self._rows_by_article[positions]

    def _best_per_article(self, rows: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each candidate article's best-scoring chunk, best first (ties in the order of `rows`):
        positions in `rows` and `scores`, and the article's row in `centroids`. The hits and their
        passages are built only for the articles returned."""
        ranked = np.argsort(-scores, kind="stable")
        articles = self._chunk_article[rows[ranked]]
        _, first = np.unique(articles, return_index=True)  # an article's first place is its best chunk
        first.sort()
        return ranked[first], articles[first]

    def _shown_passage(self, rows: np.ndarray, row_articles: np.ndarray, scores: np.ndarray, best: int) -> str:
        """The passage of `rows[best]`, with its article's runner-up among `rows` when that scores
        within SECOND_PASSAGE_MARGIN and both fit in SHOWN_PASSAGE_CHARS, in the article's order."""
        row = int(rows[best])
        first, first_words = self._passage_and_words(row)
        same_article = row_articles == row_articles[best]
        same_article[best] = False
        if not same_article.any():
            return first
        candidate = int(np.argmax(np.where(same_article, scores, -np.inf)))
        if scores[candidate] < scores[best] - SECOND_PASSAGE_MARGIN:
            return first
        second, second_words = self._passage_and_words(int(rows[candidate]))
        if second in first:  # a neighbour already joined to the best one
            return first
        if first in second:
            return second
        if len(first_words) + len(second_words) > SHOWN_PASSAGE_CHARS:
            return first
        ordered = (first, second) if row < int(rows[candidate]) else (second, first)
        return PASSAGE_SEPARATOR.join(ordered)

    def _passage(self, row: int) -> str:
        return self._passage_and_words(row)[0]

    def _passage_and_words(self, row: int) -> tuple[str, str]:
        """The chunk's text, with a neighbour where the chunk alone would not answer: as shown
        (`Chunk.shown`, lists item by item) and as its words on one line (`Chunk.text`), which
        the length limits are measured on, since list marks and line breaks add nothing to read.

        An article's opening lines (before the first heading) say what the article is about, so
        they match questions best, but rarely hold the answer ("This article shows you how to
        set a new password with a reset link."): the passage after them, where the steps start,
        comes with them. A passage of a few words is usually the last sentence of a section the
        chunker had to split ("Express delivery is not available outside the EU and the UK."),
        and one that goes on with a list is the rest of steps the chunker split ("4. Move the
        camera closer ..."): the passage before it in the same section comes first. Either only
        when both fit in JOINED_PASSAGE_CHARS.
        """
        chunks = self.index.chunks
        chunk = chunks[row]

        def in_article(other: int) -> bool:
            return 0 <= other < len(chunks) and chunks[other].article_id == chunk.article_id

        title = self.index.articles[chunk.article_id].title
        if chunk.section in ("", title) and not in_article(row - 1) and in_article(row + 1):
            after = chunks[row + 1]
            shown = f"{chunk.shown}{PASSAGE_SEPARATOR}{after.shown}"
            words = f"{chunk.text}{PASSAGE_SEPARATOR}{after.text}"
        elif in_article(row - 1) and (
            len(chunk.text.split()) < SHORT_PASSAGE_WORDS or _goes_on_with_the_list(chunks[row - 1], chunk)
        ):
            before = chunks[row - 1]
            # Within a list or table (a shown text with lines of its own), the next line.
            space = "\n" if before.display or chunk.display else " "
            shown = f"{before.shown}{space}{chunk.shown}" if before.section == chunk.section else ""
            words = f"{before.text} {chunk.text}"
        else:
            shown = words = ""
        if shown and len(words) <= JOINED_PASSAGE_CHARS:
            return shown, words
        return chunk.shown, chunk.text


def _goes_on_with_the_list(before: Chunk, chunk: Chunk) -> bool:
    """Whether `chunk` starts with a list item and `before`, in the same section, ends with one:
    the chunker split a list, and "4. Move the camera closer to the router" alone leaves the
    customer without steps 1 to 3."""
    return before.section == chunk.section and all(
        starts_list_item(line) for line in (chunk.shown, before.shown.rsplit("\n", 1)[-1])
    )


def _fused(dense: np.ndarray, bm25: np.ndarray) -> np.ndarray:
    """A chunk's score: its cosine plus its BM25 score, saturated so a keyword cannot outweigh meaning."""
    return dense + LEXICAL_WEIGHT * bm25 / (bm25 + BM25_SATURATION)


def _runs(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions start, start + 1, ... of each run (`counts[i]` of them from `starts[i]`),
    concatenated, and where each run begins in that concatenation."""
    offsets = np.cumsum(counts) - counts
    return np.repeat(starts - offsets, counts) + np.arange(counts.sum()), offsets


def _question_rows(index: KBIndex, article_ids: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each example question row, its article's row in `article_ids` (-1: an article with
    no passage); for each article row, where its questions start and how many there are."""
    row_of = {article_id: row for row, article_id in enumerate(article_ids)}
    question_article: list[int] = []
    start = np.zeros(len(article_ids), dtype=np.int64)
    count = np.zeros(len(article_ids), dtype=np.int64)
    if index.question_vectors is not None:
        for meta, rows in question_slices(index.articles.values()):
            row = row_of.get(meta.id, -1)
            if row >= 0:
                start[row], count[row] = rows.start, rows.stop - rows.start
            question_article.extend([row] * (rows.stop - rows.start))
        assert len(question_article) == len(index.question_vectors), "the index's questions do not match its articles"
    return np.array(question_article, dtype=np.int64), start, count


def _article_centroids(index: KBIndex) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Article ids; row for row, the unit-length mean of each article's chunk vectors; and each
    chunk's article row."""
    article_ids = list(dict.fromkeys(chunk.article_id for chunk in index.chunks))
    row_of = {article_id: row for row, article_id in enumerate(article_ids)}
    chunk_article = np.array([row_of[chunk.article_id] for chunk in index.chunks], dtype=np.int64)
    sums = np.zeros((len(article_ids), index.vectors.shape[1] if len(index.vectors) else 0), dtype=np.float32)
    np.add.at(sums, chunk_article, index.vectors)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return article_ids, sums / np.where(norms == 0, 1, norms), chunk_article
