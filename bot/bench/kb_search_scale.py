"""The product's whole KB search at scale: loading a KnowledgeBase, and one question end to end.

`bench kb-scale` measures the FAISS index alone. A customer's question costs more: the fused
search (`KnowledgeBase.search`) also scores BM25 over the chunks, picks the lexical candidates,
keeps the best chunk per article, adds the article centroids, and looks among the articles'
example questions (a second FAISS search, and each candidate article's closest question). This
benchmark builds a synthetic KB of each size in memory (no Markdown ingest) and measures:

- loading: the `KnowledgeBase` constructor (BM25 indexing and article centroids), its time and
  the growth of this process's RSS (after, and at its peak while building);
- one question at a time, as the action server asks them (FAISS and torch on one thread,
  `limit_query_threads(1)`), with the query vector given so the embedding model is not part
  of it: `search()` p50/p95/p99 and `answer()` p50;
- where the time goes: a second pass with timers around the search's parts.

Text and vectors do not match: this is about latency, not quality. The text is real enough
for BM25 (sentences of the public datasets, several per chunk, about five chunks per
article, so term frequencies and posting lengths look like a help centre's); the vectors come
from kb-scale's layered generator; each article's example questions (its title and
QUESTIONS_PER_ARTICLE more, fewer than the demo's 24 since nobody writes two dozen for each of
200,000 articles) lie near its passages' vectors; the questions asked are the real ones of
eval/kb_questions.jsonl (their text for BM25, a synthetic query vector drawn as kb-scale draws
queries).
"""

from __future__ import annotations

import csv
import gc
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bot.bench.common import latency_summary, machine, own_rss_mb, write_json
from bot.bench.kb_real import real_sentences
from bot.bench.kb_scale import DIMENSION, LayeredSyntheticKB
from bot.kb.chunking import Chunk
from bot.kb.index import ArticleMeta, KBIndex, example_questions, index_kind, make_faiss_index
from bot.kb.search import KnowledgeBase, _article_centroids, limit_query_threads

__all__ = ["run_kb_search_scale", "sentence_pool", "synthetic_kb_index"]

MODEL_NAME = "synthetic-vectors"
SENTENCES_PER_CHUNK = (3, 6)  # inclusive
CHUNKS_PER_ARTICLE = (3, 7)  # inclusive: about five
QUESTIONS_PER_ARTICLE = 4  # written ones; the title is one more
# An example question's vector: one of its article's passage vectors plus noise of this norm
# (cosine to that passage about 0.86, as a paraphrase is to the passage it asks for).
QUESTION_NOISE = 0.6
PARTS = ("faiss", "bm25", "question_matches", "fusion", "per_article", "centroids", "questions", "passages", "rest")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class GivenVectorsOnly:
    """The embedder of a KB whose questions always come with their vector: embedding is a bug here."""

    name = MODEL_NAME
    dimension = DIMENSION

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        raise RuntimeError("the benchmark passes every query vector; nothing should be embedded")


def sentence_pool(datasets_dir: Path) -> list[str]:
    """Sentences of CLINC150, BANKING77, StackFAQ and HINT3 (whichever are present), 4 words or more."""
    texts = list(real_sentences(datasets_dir))
    for path in sorted((datasets_dir / "hint3" / "dataset").glob("v*/*/*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            texts.extend(row["sentence"] for row in csv.DictReader(handle) if row.get("sentence"))
    sentences = {s.strip() for text in texts for s in _SENTENCE_END.split(text.replace("\n", " "))}
    pool = sorted(s for s in sentences if len(s.split()) >= 4)
    if not pool:
        raise ValueError(f"no sentences found under {datasets_dir}: expected clinc150, banking77, stackfaq or hint3")
    return pool


def synthetic_kb_index(
    size: int,
    pool: list[str],
    *,
    seed: int = 0,
    faiss_cache: Path | None = None,
    questions_per_article: int = QUESTIONS_PER_ARTICLE,
) -> KBIndex:
    """A KBIndex of `size` chunks built in memory: real sentences as text, layered synthetic vectors,
    and `questions_per_article` example questions per article besides its title.

    `faiss_cache`: a folder where the FAISS indexes of this size are kept between runs (a 1M-chunk
    HNSW graph takes minutes to build, and kb-scale measures that already).
    """
    rng = np.random.default_rng(seed)
    sentences = np.array(pool, dtype=object)
    low, high = SENTENCES_PER_CHUNK
    counts = rng.integers(low, high + 1, size)
    picks = rng.integers(0, len(sentences), int(counts.sum()))
    ends = np.cumsum(counts)
    texts = [" ".join(sentences[picks[end - count : end]]) for count, end in zip(counts, ends, strict=True)]
    del picks

    chunks: list[Chunk] = []
    articles: dict[str, ArticleMeta] = {}
    low, high = CHUNKS_PER_ARTICLE
    row = 0
    while row < size:
        article_id = f"article-{len(articles):07d}"
        title = " ".join(str(sentences[rng.integers(len(sentences))]).split()[:8]).rstrip(".?!")
        asked = tuple(str(q) for q in sentences[rng.integers(0, len(sentences), questions_per_article)])
        articles[article_id] = ArticleMeta(
            article_id, title, f"https://help.example/{article_id}", (), "synthetic", article_id, asked
        )
        for part in range(min(int(rng.integers(low, high + 1)), size - row)):
            # The first chunk is an article's opening lines (no heading), as the chunker makes them.
            section = "" if part == 0 else " ".join(str(sentences[rng.integers(len(sentences))]).split()[:4])
            chunks.append(Chunk(article_id, section, texts[row]))
            row += 1
    del texts

    vectors = LayeredSyntheticKB(size).draw(size, seed=size)  # as kb-scale draws a KB of this size
    question_vectors = _question_vectors(articles, chunks, vectors, rng)
    return KBIndex(
        MODEL_NAME,
        articles,
        chunks,
        vectors,
        _faiss_index(vectors, faiss_cache, "layered"),
        {},
        question_vectors,
        _faiss_index(question_vectors, faiss_cache, f"questions{questions_per_article}"),
    )


def _question_vectors(
    articles: dict[str, ArticleMeta], chunks: list[Chunk], vectors: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Each article's example questions (title first), article after article as the index keeps
    them: a random passage vector of the article with noise, normalised."""
    first_row: dict[str, int] = {}
    for row, chunk in enumerate(chunks):
        first_row.setdefault(chunk.article_id, row)
    counts = np.array([len(example_questions(meta)) for meta in articles.values()])
    chunk_counts = np.diff([*first_row.values(), len(chunks)])
    starts = np.repeat(np.fromiter(first_row.values(), dtype=np.int64, count=len(first_row)), counts)
    rows = starts + (rng.random(int(counts.sum())) * np.repeat(chunk_counts, counts)).astype(np.int64)
    noise = rng.standard_normal((len(rows), vectors.shape[1]), dtype=np.float32)
    drawn = vectors[rows] + noise * (QUESTION_NOISE / np.sqrt(vectors.shape[1]))
    return (drawn / np.linalg.norm(drawn, axis=1, keepdims=True)).astype(np.float32)


def _faiss_index(vectors: np.ndarray, cache: Path | None, name: str) -> Any:
    import faiss

    size = len(vectors)
    path = cache / f"{name}-{size}-{index_kind(size)}.faiss" if cache else None
    if path and path.exists():
        index = faiss.read_index(str(path))
        if index.ntotal == size:
            return index
    # Built on every core: the build is offline work, only the questions run on one thread.
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        index = make_faiss_index(vectors)
    finally:
        faiss.omp_set_num_threads(threads)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        faiss.write_index(index, str(path))
    return index


def questions(path: Path, n: int, size: int) -> list[tuple[str, np.ndarray]]:
    """`n` questions: the real texts in turn, each with its own synthetic vector (kb-scale's query draw)."""
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not texts:
        raise ValueError(f"no questions in {path}")
    vectors = LayeredSyntheticKB(size).draw(n, seed=size + 1)
    return [(texts[i % len(texts)], vectors[i]) for i in range(n)]


class _Timers:
    """Milliseconds spent per part in the current question, summed over calls."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, part: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[part] = self.spent.get(part, 0.0) + (time.perf_counter() - started) * 1000

        return timed


class _TimedIndex:
    """The FAISS index with a timer around `search`."""

    def __init__(self, index: Any, timers: _Timers) -> None:
        self._index = index
        self.search = timers.wrap("faiss", index.search)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)


@contextmanager
def _timed_parts(kb: KnowledgeBase, timers: _Timers) -> Iterator[None]:
    """Timers around the search's parts, on this KB only; the product code runs unchanged."""
    faiss_index = kb.index.faiss_index
    kb.index.faiss_index = _TimedIndex(faiss_index, timers)
    wrapped = {
        "_chunk_scores": "chunk_scores",
        "_rows_of_question_matches": "question_matches",
        "_best_per_article": "per_article",
        "_with_centroids": "centroids",
        "_with_questions": "questions",
        "_passage": "passages",
    }
    for method, part in wrapped.items():
        setattr(kb, method, timers.wrap(part, getattr(kb, method)))
    kb.lexical.__dict__["candidates"] = timers.wrap("bm25", kb.lexical.candidates)
    try:
        yield
    finally:
        kb.index.faiss_index = faiss_index
        for method in (*wrapped, "candidates"):
            owner = kb.lexical if method == "candidates" else kb
            vars(owner).pop(method, None)


def _breakdown(kb: KnowledgeBase, asked: list[tuple[str, np.ndarray]]) -> dict[str, float]:
    """Median milliseconds per part of one search: "bm25" is LexicalIndex.candidates (the best
    lexical chunks and the BM25 scores of those and the dense ones), "question_matches" the
    search among the example questions (its FAISS search and the chunk rows of the articles it
    found), "fusion" the rest of the chunk scoring (the candidates' cosines and fused scores),
    "questions" each candidate article's closest example question."""
    per_part: dict[str, list[float]] = {part: [] for part in PARTS}
    # The question FAISS search is inside question_matches, not in "faiss".
    inside_chunk_scores = ("faiss", "bm25", "question_matches")
    after_chunk_scores = ("per_article", "centroids", "questions", "passages")
    timers = _Timers()
    with _timed_parts(kb, timers):
        for text, vector in asked:
            timers.spent = {}
            started = time.perf_counter()
            kb.search(text, query_vector=vector)
            total = (time.perf_counter() - started) * 1000
            spent = timers.spent
            get = spent.get
            for part in inside_chunk_scores:
                per_part[part].append(get(part, 0.0))
            per_part["fusion"].append(get("chunk_scores", 0.0) - sum(get(p, 0.0) for p in inside_chunk_scores))
            for part in after_chunk_scores:
                per_part[part].append(get(part, 0.0))
            per_part["rest"].append(total - get("chunk_scores", 0.0) - sum(get(p, 0.0) for p in after_chunk_scores))
    return {f"{part}_p50_ms": round(float(np.median(values)), 2) for part, values in per_part.items()}


def _single_questions(call: Callable[[str, np.ndarray], Any], asked: list[tuple[str, np.ndarray]]) -> list[float]:
    latencies = []
    for text, vector in asked:
        started = time.perf_counter()
        call(text, vector)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _peak_rss_mb() -> float | None:
    status = Path("/proc/self/status").read_text()
    line = next((line for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return int(line.split()[1]) / 1024 if line else None


def _reset_peak_rss() -> bool:
    """Start a new peak-RSS window (Linux: writing 5 to clear_refs); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure_size(
    size: int,
    pool: list[str],
    questions_path: Path,
    *,
    queries: int,
    faiss_cache: Path | None = None,
    questions_per_article: int = QUESTIONS_PER_ARTICLE,
) -> dict[str, Any]:
    """Build a synthetic KB of `size` chunks, load it as the product does, and time its questions."""
    load_average = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    index = synthetic_kb_index(size, pool, faiss_cache=faiss_cache, questions_per_article=questions_per_article)
    setup_s = time.perf_counter() - started
    asked = questions(questions_path, queries, size)
    gc.collect()

    rss_before = own_rss_mb()
    peak_known = _reset_peak_rss()
    started = time.perf_counter()
    kb = KnowledgeBase(index, GivenVectorsOnly(), threshold=0.5)
    load_s = time.perf_counter() - started
    # Each question as the search reads it ("pw" -> "password", "camra" -> "camera"): a question the
    # search rewrites is embedded again, in the product as here, and here nothing may be embedded.
    # The search still checks the rewritten text and finds nothing more to change.
    asked = [(kb.read_as(text), vector) for text, vector in asked]
    rss_after = own_rss_mb()
    peak = _peak_rss_mb() if peak_known else None
    # The constructor's parts, timed again on their own: what is left of load_s is BM25 indexing.
    started = time.perf_counter()
    index.chunk_texts()
    texts_s = time.perf_counter() - started
    started = time.perf_counter()
    _article_centroids(index)
    centroids_s = time.perf_counter() - started

    for text, vector in asked[:20]:  # warm-up: first-call costs are not a customer's
        kb.search(text, query_vector=vector)
    load_average_at_questions = round(os.getloadavg()[0], 2)
    search_ms = _single_questions(lambda text, vector: kb.search(text, query_vector=vector), asked)
    answer_ms = _single_questions(lambda text, vector: kb.answer(text, query_vector=vector), asked)
    row: dict[str, Any] = {
        "chunks": size,
        "articles": len(index.articles),
        "index": index_kind(size),
        "example_questions": len(index.question_vectors) if index.question_vectors is not None else 0,
        "question_index": index_kind(len(index.question_vectors)) if index.question_vectors is not None else None,
        "load_average_1m_at_start": load_average,
        "load_average_1m_at_questions": load_average_at_questions,
        "setup_s": round(setup_s, 1),
        "load_s": round(load_s, 2),
        "load_parts_s": {
            "chunk_texts": round(texts_s, 2),
            "bm25_index": round(load_s - texts_s - centroids_s, 2),
            "centroids": round(centroids_s, 2),
        },
        "load_rss_delta_mb": round(rss_after - rss_before, 1),
        "load_rss_peak_delta_mb": round(peak - rss_before, 1) if peak is not None else None,
        "rss_after_load_mb": round(rss_after, 1),
        "search": latency_summary(search_ms),
        "answer": latency_summary(answer_ms),
        "parts": _breakdown(kb, asked),
    }
    print(
        f"{size:>9} chunks: load {row['load_s']} s (+{row['load_rss_delta_mb']} MB), "
        f"search p50/p95/p99 {row['search']['p50_ms']}/{row['search']['p95_ms']}/{row['search']['p99_ms']} ms; "
        + ", ".join(f"{k[:-7]} {v}" for k, v in row["parts"].items()),
        flush=True,
    )
    return row


def run_kb_search_scale(
    datasets_dir: Path,
    questions_path: Path,
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000),
    *,
    queries: int = 500,
    threads: int = 1,
    faiss_cache: Path | None = None,
    questions_per_article: int = QUESTIONS_PER_ARTICLE,
    out: Path | None = None,
) -> dict[str, Any]:
    """Each size in turn; the figures are written after every size, so a long run keeps what it has."""
    limit_query_threads(threads)  # as the action server runs its searches
    pool = sentence_pool(datasets_dir)
    figures: dict[str, Any] = {
        "machine": machine(),
        "threads": threads,
        "queries": queries,
        "questions_per_article": questions_per_article,
        "sentence_pool": len(pool),
        "sizes": [],
    }
    for size in sizes:
        figures["sizes"].append(
            measure_size(
                size,
                pool,
                questions_path,
                queries=queries,
                faiss_cache=faiss_cache,
                questions_per_article=questions_per_article,
            )
        )
        gc.collect()  # this size's KB, before the next one is built
        figures["sizes"][-1]["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
        write_json(out, figures)
    return figures
