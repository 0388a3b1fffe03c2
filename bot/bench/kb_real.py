"""Approximate search on real sentence embeddings beside synthetic ones of the same size.

The kb-scale benchmark's large indexes hold synthetic vectors, so its recall at 1M is only as
good as the generator. This benchmark checks the generator against the real thing: by default
at 36k texts, every distinct text of the public datasets here (CLINC150 and BANKING77 utterances, StackFAQ
questions, answers and queries) embedded with the shipped model. A few hundred are held out as questions; the rest go
into the product's HNSW index (forced: at this size the product would search exactly), and
the same is done with as many vectors from each kb-scale generator. Reported for each: recall@10 against exact
search over the efSearch sweep, and how close the 1st and 10th neighbours are (median cosine).

`--corpus debian-docs --size 1000000` does the same at a million real passages: Debian's
dictionary, WordNet, manuals and API documentation, chunked by the product's chunker
(`bot/bench/doc_corpus.py`). Embedding them takes over an hour here (66 minutes on
2026-11-28), so the vectors are kept in a file (`--vectors`) and a second run only measures.
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from bot.bench.common import latency_summary, machine, own_rss_mb, write_json
from bot.bench.kb_scale import GENERATORS, SWEEP, _single_queries, recall_at_k
from bot.kb.index import make_faiss_index

__all__ = ["real_sentences", "run_kb_real"]


def real_sentences(datasets_dir: Path) -> list[str]:
    """Distinct texts over 20 characters of CLINC150, BANKING77 and StackFAQ (whichever are present)."""
    texts: set[str] = set()
    clinc = datasets_dir / "clinc150" / "data_full.json"
    if clinc.exists():
        for rows in json.loads(clinc.read_text(encoding="utf-8")).values():
            texts.update(text for text, _ in rows)
    for name in ("train.csv", "test.csv"):
        path = datasets_dir / "banking77" / name
        if path.exists():
            with path.open(encoding="utf-8", newline="") as handle:
                texts.update(row["text"] for row in csv.DictReader(handle))
    for name in ("faqs.jsonl", "queries.jsonl"):
        path = datasets_dir / "stackfaq" / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                for value in json.loads(line).values() if line.strip() else ():
                    # questions, queries and each of a question's answers
                    texts.update(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str))
    return sorted({t.strip() for t in texts if len(t.strip()) > 20})


def measure_vectors(name: str, base: np.ndarray, asked: np.ndarray) -> dict[str, Any]:
    """Neighbour closeness, and the product's HNSW index against exact search, for one vector set."""
    import faiss

    exact_index = faiss.IndexFlatIP(base.shape[1])
    exact_index.add(base)
    similarity, exact = exact_index.search(asked, 10)
    del exact_index
    started, rss_before = time.perf_counter(), own_rss_mb()
    index = make_faiss_index(base, kind="hnsw")
    build = {"build_s": round(time.perf_counter() - started, 1), "rss_growth_mb": round(own_rss_mb() - rss_before)}
    sweep = []
    for ef_search in SWEEP["hnsw"][1]:
        index.hnsw.efSearch = ef_search
        latencies, found = _single_queries(index, asked, 10)
        sweep.append(
            {"efSearch": ef_search, **latency_summary(latencies), "recall_at_10": round(recall_at_k(found, exact), 4)}
        )
    # Cosine between unrelated vectors, for scale: the question against the first 2,000 vectors.
    unrelated = np.median(asked[:200] @ base[:2000].T)
    closeness = {
        "nearest": round(float(np.median(similarity[:, 0])), 3),
        "tenth": round(float(np.median(similarity[:, 9])), 3),
        "unrelated": round(float(unrelated), 3),
    }
    default = next(s for s in sweep if s["efSearch"] == 128)
    print(
        f"{name:<9} {len(base):>7} vectors: nearest cos {closeness['nearest']}, 10th {closeness['tenth']}; "
        f"HNSW recall@10 {default['recall_at_10']} at efSearch 128",
        flush=True,
    )
    return {"vectors": name, "chunks": len(base), **build, "median_cosine": closeness, "sweep": sweep}


def embed_once(texts: list[str], cache: Path | None) -> np.ndarray:
    """The texts' vectors, from `cache` when it holds these very texts, else embedded (and kept there)."""
    from bot.config import get_settings
    from bot.kb.onnx_embedding import OnnxEmbedder

    # The stock model on onnxruntime, which make setup exported: the same vectors as
    # sentence-transformers (cosine above 0.99999) at about twice its speed for short passages.
    embedder = OnnxEmbedder(export_dir=get_settings().onnx_dir, batch_size=16)
    key = f"{embedder.name}:{len(texts)}:{hash_texts(texts)}"
    if cache is not None and cached_key(cache) == key:
        print(f"vectors from {cache}", flush=True)
        return np.load(cache).astype(np.float32)
    print(f"embedding {len(texts)} passages...", flush=True)
    started = time.perf_counter()
    vectors = embedder.embed(texts, show_progress=True).astype(np.float32)
    print(f"embedded in {time.perf_counter() - started:.0f} s", flush=True)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors.astype(np.float16))  # half the disk; cosines move by under 1e-3
        cache.with_suffix(".key").write_text(key)  # written last: a half-written cache is never trusted
    return vectors


def cached_key(cache: Path) -> str | None:
    """What the vectors kept in `cache` were made from, if they are all there."""
    key_file = cache.with_suffix(".key")
    return key_file.read_text() if cache.exists() and key_file.exists() else None


def hash_texts(texts: list[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()[:16]


def run_kb_real(
    datasets_dir: Path,
    *,
    corpus: str = "datasets",
    size: int = 1_000_000,
    queries: int = 500,
    limit: int | None = None,
    vectors_cache: Path | None = None,
    generators: tuple[str, ...] = tuple(GENERATORS),
    out: Path | None = None,
) -> dict:
    """`corpus`: "datasets" (the public datasets' texts) or "debian-docs" (`size` passages of them)."""
    sources: dict[str, int] = {}
    if corpus == "debian-docs":
        from bot.bench.doc_corpus import debian_doc_passages

        texts, sources = debian_doc_passages(size)
        texts = texts[:limit]
    else:
        texts = real_sentences(datasets_dir)[:limit]
    if len(texts) <= queries:
        raise SystemExit(f"only {len(texts)} texts in corpus {corpus}; need more than --queries {queries}")
    vectors = embed_once(texts, vectors_cache)
    order = np.random.default_rng(0).permutation(len(vectors))
    base, asked = vectors[order[queries:]], vectors[order[:queries]]
    rows = [measure_vectors("real", base, asked)]
    for name in generators:  # each kb-scale generator at the same size
        synthetic = GENERATORS[name](len(base))
        rows.append(measure_vectors(name, synthetic.draw(len(base), seed=1), synthetic.draw(queries, seed=2)))
    words = [len(text.split()) for text in texts]
    figures = {
        "machine": machine(),
        "corpus": corpus,
        "sources": sources,
        "words_per_passage": {"mean": round(float(np.mean(words)), 1), "median": float(np.median(words))},
        "queries": queries,
        "rows": rows,
    }
    write_json(out, figures)
    return figures
