"""Approximate search on real sentence embeddings beside synthetic ones of the same size.

The kb-scale benchmark's large indexes hold synthetic vectors (a million real passages would
take most of a day to embed here), so its recall at 1M is only as good as the generator. This
benchmark checks the generator against the real thing at the largest real size available:
every distinct text of the public datasets here (CLINC150 and BANKING77 utterances, StackFAQ
questions, answers and queries) embedded with the shipped model. A few hundred are held out as questions; the rest go
into the product's HNSW index (forced: at this size the product would search exactly), and
the same is done with as many vectors from each kb-scale generator. Reported for each: recall@10 against exact
search over the efSearch sweep, and how close the 1st and 10th neighbours are (median cosine).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from bot.bench.common import latency_summary, machine, write_json
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
    index = make_faiss_index(base, kind="hnsw")
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
    return {"vectors": name, "chunks": len(base), "median_cosine": closeness, "sweep": sweep}


def run_kb_real(datasets_dir: Path, *, queries: int = 500, limit: int | None = None, out: Path | None = None) -> dict:
    from bot.kb.embedding import SentenceTransformerEmbedder

    texts = real_sentences(datasets_dir)[:limit]
    if len(texts) <= queries:
        raise SystemExit(f"only {len(texts)} sentences under {datasets_dir}; need more than --queries {queries}")
    print(f"embedding {len(texts)} sentences...", flush=True)
    vectors = SentenceTransformerEmbedder().embed(texts, show_progress=True).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(vectors))
    base, asked = vectors[order[queries:]], vectors[order[:queries]]
    rows = [measure_vectors("real", base, asked)]
    for name, generator in GENERATORS.items():  # each kb-scale generator at the same size
        synthetic = generator(len(base))
        rows.append(measure_vectors(name, synthetic.draw(len(base), seed=1), synthetic.draw(queries, seed=2)))
    figures = {"machine": machine(), "queries": queries, "rows": rows}
    write_json(out, figures)
    return figures
