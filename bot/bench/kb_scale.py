"""KB index at scale: build time, size, memory, single-query latency and recall@10 against exact search.

Embedding a million real passages takes over an hour here (`bench kb-real --corpus
debian-docs` does it once and keeps the vectors), so this benchmark's vectors are synthetic and
every size builds in minutes: 384 dimensions, unit length, from one of two generators (more
chunks always means more subjects, not the same ones more densely).

- "layered" (the default): subjects, topics inside them, groups of near-paraphrases inside
  those, and a little noise, plus one direction all vectors share. Its weights were fitted to
  real MiniLM embeddings (`bench kb-real`: CLINC150, BANKING77 and StackFAQ, 36k texts): the
  same median cosine to the 1st and 10th neighbour and between unrelated texts, and the same
  HNSW recall curve at that size.
- "islands" (the first generator, kept as the worst case): isolated topics of about 50 chunks,
  each a random centre plus a spread in a 64-dimensional subspace; topics are orthogonal, so
  nothing guides a graph search from one topic towards another.

The index is the one the product builds (`bot.kb.index.make_faiss_index`, which picks flat,
HNSW or IVF by size).
"""

from __future__ import annotations

import gc
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bot.bench.common import latency_summary, machine, own_rss_mb, write_json
from bot.kb.index import IndexKind, index_kind, make_faiss_index

__all__ = ["recall_at_k", "run_kb_scale", "synthetic_vectors"]

DIMENSION = 384  # all-MiniLM-L6-v2
CHUNKS_PER_TOPIC = 50
SPREAD_DIMENSIONS = 64
SPREAD = 0.9  # norm of the in-topic spread; a topic centre has norm 1
NOISE = 0.3  # norm of the isotropic noise


class SyntheticKB:
    """The "islands" generator: isolated topics (centre + spread subspace); draws are reproducible by seed."""

    def __init__(self, size: int, seed: int = 0, dimension: int = DIMENSION) -> None:
        rng = np.random.default_rng(seed)
        self.dimension = dimension
        self.topics = max(20, size // CHUNKS_PER_TOPIC)
        self.centres = _unit(rng.standard_normal((self.topics, dimension), dtype=np.float32))
        self.basis = _unit(rng.standard_normal((SPREAD_DIMENSIONS, dimension), dtype=np.float32))

    def draw(self, n: int, seed: int, batch: int = 100_000) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = np.empty((n, self.dimension), dtype=np.float32)
        for start in range(0, n, batch):  # in slices: the temporaries of 1M rows at once cost GBs
            m = min(batch, n - start)
            spread = rng.standard_normal((m, SPREAD_DIMENSIONS), dtype=np.float32) @ self.basis
            noise = rng.standard_normal((m, self.dimension), dtype=np.float32)
            rows = (
                self.centres[rng.integers(0, self.topics, m)]
                + spread * (SPREAD / np.sqrt(SPREAD_DIMENSIONS))
                + noise * (NOISE / np.sqrt(self.dimension))
            )
            out[start : start + m] = _unit(rows)
        return out


class LayeredSyntheticKB:
    """Subjects > topics > paraphrase groups > chunks, as in real sentence embeddings.

    A chunk is the unit sum of: a direction every vector shares, its subject's, its topic's and
    its group's random directions, and noise; LAYER_WEIGHTS are the squared norms of those five
    parts. Expected cosines: unrelated 0.07, same subject 0.40, same topic 0.71, same group 0.89.
    Fitted to `bench kb-real`'s real vectors (median cosine to the 1st / 10th neighbour 0.893 /
    0.746, unrelated 0.067; this generator at the same size: 0.898 / 0.748 / 0.070).
    """

    LAYER_WEIGHTS = (0.067, 0.333, 0.31, 0.18, 0.11)  # shared, subject, topic, group, noise
    CHUNKS_PER_GROUP = 8
    GROUPS_PER_TOPIC = 10
    TOPICS_PER_SUBJECT = 15

    def __init__(self, size: int, seed: int = 0, dimension: int = DIMENSION) -> None:
        rng = np.random.default_rng(seed)
        self.dimension = dimension
        self.weights = np.sqrt(np.array(self.LAYER_WEIGHTS, dtype=np.float32))
        groups = max(1, size // self.CHUNKS_PER_GROUP)
        topics = max(1, groups // self.GROUPS_PER_TOPIC)
        subjects = max(1, topics // self.TOPICS_PER_SUBJECT)
        self.shared = _unit(rng.standard_normal((1, dimension), dtype=np.float32))
        self.subjects = _unit(rng.standard_normal((subjects, dimension), dtype=np.float32))
        self.topics = _unit(rng.standard_normal((topics, dimension), dtype=np.float32))
        self.groups = _unit(rng.standard_normal((groups, dimension), dtype=np.float32))
        self.subject_of_topic = rng.integers(0, subjects, topics)
        self.topic_of_group = rng.integers(0, topics, groups)

    def draw(self, n: int, seed: int, batch: int = 100_000) -> np.ndarray:
        rng = np.random.default_rng(seed)
        w = self.weights
        out = np.empty((n, self.dimension), dtype=np.float32)
        for start in range(0, n, batch):  # in slices: the temporaries of 1M rows at once cost GBs
            m = min(batch, n - start)
            group = rng.integers(0, len(self.groups), m)
            topic = self.topic_of_group[group]
            noise = _unit(rng.standard_normal((m, self.dimension), dtype=np.float32))
            rows = (
                w[0] * self.shared
                + w[1] * self.subjects[self.subject_of_topic[topic]]
                + w[2] * self.topics[topic]
                + w[3] * self.groups[group]
                + w[4] * noise
            )
            out[start : start + m] = _unit(rows)
        return out


GENERATORS: dict[str, type[LayeredSyntheticKB] | type[SyntheticKB]] = {
    "layered": LayeredSyntheticKB,
    "islands": SyntheticKB,
}
Generator = Literal["layered", "islands"]


def synthetic_vectors(n: int, *, seed: int = 1, generator: Generator = "layered") -> np.ndarray:
    return GENERATORS[generator](n).draw(n, seed)


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of the exact top-k that the index also returned."""
    k = exact.shape[1]
    return float(np.mean([len(set(f) & set(e)) / k for f, e in zip(found, exact, strict=True)]))


def _single_queries(index: Any, queries: np.ndarray, k: int) -> tuple[list[float], np.ndarray]:
    """One query at a time, as the chat asks them."""
    latencies, rows = [], []
    for query in queries:
        started = time.perf_counter()
        _, found = index.search(query[None, :], k)
        latencies.append((time.perf_counter() - started) * 1000)
        rows.append(found[0])
    return latencies, np.array(rows)


@lru_cache(maxsize=1)  # the comparison at the largest size reuses its vectors and ground truth
def _dataset(size: int, queries: int, generator: Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[float]]:
    """Vectors, queries, their exact top 10 and exact single-query latencies."""
    import faiss

    model = GENERATORS[generator](size)
    vectors = model.draw(size, seed=size)
    asked = model.draw(queries, seed=size + 1)
    exact_index = faiss.IndexFlatIP(model.dimension)
    exact_index.add(vectors)
    _, exact = exact_index.search(asked, 10)  # ground truth, one batch
    # Exact single-query latency at this size, for comparison (fewer queries at 1M: each is slow).
    exact_latencies, _ = _single_queries(exact_index, asked[: max(20, min(queries, 2_000_000 // size))], 10)
    return vectors, asked, exact, exact_latencies


SWEEP = {"hnsw": ("efSearch", (16, 32, 64, 128, 256, 512)), "ivf": ("nprobe", (8, 16, 32, 64, 128, 256))}


def measure_size(
    size: int,
    *,
    queries: int,
    kind: IndexKind | None = None,
    sweep: bool = False,
    generator: Generator = "layered",
) -> dict[str, Any]:
    """Build the index for `size` synthetic chunks and measure it; `sweep` also tries other search widths."""
    import faiss

    vectors, asked, exact, exact_latencies = _dataset(size, queries, generator)
    kind = kind or index_kind(size)
    rss_before = own_rss_mb()
    started = time.perf_counter()
    index = make_faiss_index(vectors, kind=kind)
    build_s = time.perf_counter() - started
    rss_delta = own_rss_mb() - rss_before
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.faiss"
        faiss.write_index(index, str(path))
        index_bytes = path.stat().st_size
    latencies, found = _single_queries(index, asked, 10)
    row: dict[str, Any] = {
        "chunks": size,
        "generator": generator,
        "index": kind,
        "params": _params(index, kind),
        "build_s": round(build_s, 2),
        "index_mb": round(index_bytes / 2**20, 1),
        "rss_delta_mb": round(rss_delta, 1),
        "search": latency_summary(latencies),
        "recall_at_10": round(recall_at_k(found, exact), 4),
        "exact_search": latency_summary(exact_latencies),
    }
    if sweep and kind in SWEEP:
        # The search width trades latency for recall; the product's default is one point on this curve.
        name, values = SWEEP[kind]
        row["sweep"] = []
        for value in values:
            _set_width(index, kind, value)
            latencies, found = _single_queries(index, asked, 10)
            row["sweep"].append(
                {name: value, **latency_summary(latencies), "recall_at_10": round(recall_at_k(found, exact), 4)}
            )
    print(
        f"{size:>9} chunks {kind:<4}: build {row['build_s']} s, {row['index_mb']} MB, "
        f"p95 {row['search']['p95_ms']} ms, recall@10 {row['recall_at_10']} "
        f"(exact p95 {row['exact_search']['p95_ms']} ms)",
        flush=True,
    )
    del index
    gc.collect()
    return row


def _set_width(index: Any, kind: str, value: int) -> None:
    if kind == "hnsw":
        index.hnsw.efSearch = value
    else:
        index.nprobe = value


def _params(index: Any, kind: str) -> dict[str, int]:
    if kind == "hnsw":
        return {
            "M": index.hnsw.nb_neighbors(1),
            "efConstruction": index.hnsw.efConstruction,
            "efSearch": index.hnsw.efSearch,
        }
    if kind == "ivf":
        return {"nlist": index.nlist, "nprobe": index.nprobe}
    return {}


def run_kb_scale(
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000),
    *,
    queries: int = 500,
    compare_at: int | None = 1_000_000,
    generator: Generator = "layered",
    out: Path | None = None,
) -> dict[str, Any]:
    """Each size with the index the product picks; at `compare_at` also the approximate kind it does not pick."""
    figures: dict[str, Any] = {
        "machine": machine(),
        "dimension": DIMENSION,
        "queries": queries,
        "generator": generator,
        "sizes": [],
    }
    for size in sizes:
        figures["sizes"].append(measure_size(size, queries=queries, sweep=True, generator=generator))
    if compare_at:
        # Why one kind and not the other at this size: the approximate kind the product does not pick.
        other: IndexKind = "ivf" if index_kind(compare_at) == "hnsw" else "hnsw"
        figures["comparison"] = [measure_size(compare_at, queries=queries, kind=other, sweep=True, generator=generator)]
    largest = figures["sizes"][-1]
    figures["targets"] = {
        "largest_chunks": largest["chunks"],
        "p95_ms": largest["search"]["p95_ms"],
        "p95_at_most_10ms": largest["search"]["p95_ms"] <= 10,
        "recall_at_10": largest["recall_at_10"],
        "recall_at_least_0_95": largest["recall_at_10"] >= 0.95,
    }
    write_json(out, figures)
    return figures
