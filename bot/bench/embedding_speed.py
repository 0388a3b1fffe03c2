"""Embedding throughput for ingestion (sentences/s), and whether a faster backend keeps quality.

Backends of the same all-MiniLM-L6-v2 weights:
  torch       sentence-transformers as the product runs it (float32, CPU)
  torch-int8  the same model with its Linear layers dynamically quantised to int8
              (torch.ao.quantization.quantize_dynamic: weights int8, activations quantised per batch)
  onnx        the transformer exported with torch.onnx (offline, from the local weights) and run by
              onnxruntime; tokenising, mean pooling and normalising as sentence-transformers does
              (only when onnxruntime is installed: it is in requirements-dev.txt)
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
from bot.config import PROJECT_ROOT
from bot.kb.embedding import SentenceTransformerEmbedder
from bot.kb.evaluate import evaluate_stackfaq

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


class OnnxEmbedder(SentenceTransformerEmbedder):
    """all-MiniLM-L6-v2's transformer on onnxruntime; the export is cached next to the run."""

    def __init__(self, model_path: str | None = None, *, batch_size: int = 64, export_dir: Path | None = None) -> None:
        super().__init__(model_path, batch_size=batch_size)
        self.export_dir = export_dir or PROJECT_ROOT / "var" / "onnx" / self.name
        self._session: Any = None

    def _load(self) -> Any:
        if self._session is None:
            import onnxruntime
            import torch

            path = self.export_dir / "model.onnx"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                transformer = _Transformer(self.model[0].auto_model.eval())
                sample = self.model.tokenizer(["export me"], return_tensors="pt")
                names = ["input_ids", "attention_mask", "token_type_ids"]
                axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
                with warnings.catch_warnings(), torch.no_grad():
                    warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
                    torch.onnx.export(
                        transformer, tuple(sample[n] for n in names), str(path), input_names=names,
                        output_names=["last_hidden_state"], dynamic_axes=axes,
                        dynamo=False, opset_version=17,
                    )  # fmt: skip
            self._session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return self._session

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        session = self._load()
        tokenizer = self.model.tokenizer
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = tokenizer(
                texts[start : start + self.batch_size], padding=True, truncation=True,
                max_length=self.model.max_seq_length, return_tensors="np",
            )  # fmt: skip
            feed = {i.name: batch[i.name].astype(np.int64) for i in session.get_inputs()}
            hidden = session.run(None, feed)[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.vstack(out).astype(np.float32) if out else np.zeros((0, 384), np.float32)


def _Transformer(bert: Any) -> Any:
    """The transformer with plain positional inputs, the shape torch.onnx.export traces."""
    import torch

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    return Wrapped()


def _backends() -> list[tuple[str, SentenceTransformerEmbedder]]:
    backends: list[tuple[str, SentenceTransformerEmbedder]] = [
        ("torch", SentenceTransformerEmbedder()),
        ("torch-int8", QuantisedEmbedder()),
    ]
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        print("onnxruntime is not installed: no ONNX figures", flush=True)
    else:
        backends.append(("onnx", OnnxEmbedder()))
    return backends


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
