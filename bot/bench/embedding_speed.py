"""Embedding throughput for ingestion (sentences/s), and whether a faster backend keeps quality.

Backends of the same all-MiniLM-L6-v2 weights:
  torch       sentence-transformers as the product runs it (float32, CPU)
  torch-int8  the same model with its Linear layers dynamically quantised to int8
              (torch.ao.quantization.quantize_dynamic: weights int8, activations quantised per batch)
  onnx        the transformer exported with torch.onnx (offline, from the local weights) and run by
              onnxruntime (`bot.kb.onnx_embedding`, which the action server uses for questions)
Quality is StackFAQ retrieval (R@1, dense and fused) through `bot.kb.evaluate`, so a backend
that is faster but ranks worse shows it.
"""

from __future__ import annotations

import copy
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from bot.bench.common import machine, write_json
from bot.config import PROJECT_ROOT, get_settings
from bot.kb.embedding import SentenceTransformerEmbedder
from bot.kb.evaluate import evaluate_stackfaq
from bot.kb.onnx_embedding import OnnxEmbedder

__all__ = ["QuantisedEmbedder", "run_embedding_speed"]

STACKFAQ = PROJECT_ROOT.parent / "shared" / "datasets" / "stackfaq"


class QuantisedEmbedder(SentenceTransformerEmbedder):
    """The product's embedder with int8 dynamic quantisation of every Linear layer."""

    @property
    def model(self) -> Any:
        if self._model is None:
            import torch

            full = super().model
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.ao.quantization announces its own deprecation
                self._model = torch.ao.quantization.quantize_dynamic(
                    copy.deepcopy(full), {torch.nn.Linear}, dtype=torch.qint8
                )
        return self._model


def _backends() -> list[tuple[str, SentenceTransformerEmbedder]]:
    return [
        ("torch", SentenceTransformerEmbedder()),
        ("torch-int8", QuantisedEmbedder()),
        ("onnx", OnnxEmbedder(export_dir=get_settings().onnx_dir)),  # the export make setup wrote
    ]


def _sentences(dataset_dir: Path, count: int) -> list[str]:
    """Real support-style text: StackFAQ answers (passages) and questions, interleaved, up to `count`."""
    rows = [json.loads(line) for line in (dataset_dir / "faqs.jsonl").read_text().splitlines() if line.strip()]
    queries = [json.loads(line) for line in (dataset_dir / "queries.jsonl").read_text().splitlines() if line.strip()]
    answers = [answer for row in rows for answer in row["answers"]]
    questions = [q["query"] for q in queries]
    texts = [t for pair in zip(answers * (len(questions) // len(answers) + 1), questions, strict=False) for t in pair]
    return (texts * (count // len(texts) + 1))[:count]


def measure(embedder: SentenceTransformerEmbedder, sentences: list[str], dataset_dir: Path, *, quality: bool) -> dict:
    started = time.perf_counter()
    embedder.embed(["warm up"])
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    vectors = embedder.embed(sentences)
    batch_s = time.perf_counter() - started
    single = []
    for text in sentences[:50]:  # one chat question at a time
        t = time.perf_counter()
        embedder.embed([text])
        single.append((time.perf_counter() - t) * 1000)
    row: dict[str, Any] = {
        "load_s": round(load_s, 2),
        "sentences": len(sentences),
        "sentences_per_s": round(len(sentences) / batch_s, 1),
        "single_query_ms_p50": round(float(np.median(single)), 1),
        "vectors": vectors,
    }
    if quality:
        scores = {s.mode: s for s in evaluate_stackfaq(dataset_dir, embedder)}
        row["stackfaq_r_at_1"] = {mode: round(scores[mode].recall_at_1, 4) for mode in ("dense", "fused")}
    return row


def run_embedding_speed(
    *, sentences: int = 2000, quality: bool = True, dataset_dir: Path = STACKFAQ, out: Path | None = None
) -> dict[str, Any]:
    texts = _sentences(dataset_dir, sentences)
    figures: dict[str, Any] = {"machine": machine(), "batch_size": 64, "backends": {}}
    reference = None
    for name, embedder in _backends():
        row = measure(embedder, texts, dataset_dir, quality=quality)
        vectors = row.pop("vectors")
        if reference is None:
            reference = vectors
        # How far the backend's vectors moved from the float32 ones (1.0 = identical).
        row["mean_cosine_to_torch"] = round(float(np.mean(np.sum(vectors * reference, axis=1))), 4)
        figures["backends"][name] = row
        print(f"{name:<11} {row['sentences_per_s']:7.1f} sentences/s, {row.get('stackfaq_r_at_1', '')}", flush=True)
    write_json(out, figures)
    return figures
