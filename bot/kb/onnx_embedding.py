"""The same all-MiniLM-L6-v2 weights on onnxruntime, for embedding one chat question fast.

The transformer is exported once with torch.onnx from the local weights (offline, a few
seconds) and cached; tokenising, mean pooling and normalising are done as
sentence-transformers does them, so the vectors match the torch embedder's (a cosine above
0.9999, tested) and an index built with either can be searched with the other.

Why: one question took 20 ms with torch and 6 ms with onnxruntime on one idle core here,
and the embedding was most of the action server's work per KB answer (docs/benchmarks.md).
For whole-index builds torch's batching is faster, so `kb build` keeps torch. Once the export
exists, only the tokenizer is loaded beside it, not the torch model (about 190 MB less).
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from bot.kb.embedding import SentenceTransformerEmbedder

__all__ = ["OnnxEmbedder"]

INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


class OnnxEmbedder(SentenceTransformerEmbedder):
    """all-MiniLM-L6-v2's transformer on onnxruntime; the export is cached in `export_dir`."""

    def __init__(
        self, model_path: str | None = None, *, export_dir: Path, threads: int = 0, batch_size: int = 64
    ) -> None:
        super().__init__(model_path, batch_size=batch_size)
        self.export_path = Path(export_dir) / self.name / "model.onnx"
        self.threads = threads  # 0: onnxruntime's default, one per core
        self._session: Any = None
        self._tokenizer: Any = None

    @property
    def tokenizer(self) -> Any:
        """The model's own tokenizer, loaded alone (offline) so the torch model can stay unloaded."""
        if self._tokenizer is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self.model_path)
        return self._tokenizer

    @cached_property
    def max_tokens(self) -> int:
        """sentence-transformers' own limit for this model (256 word pieces for all-MiniLM-L6-v2).

        Newer sentence-transformers (a model saved by `kb adapt`) keep it as the tokenizer's
        `model_max_length` instead of in sentence_bert_config.json.
        """
        config = Path(self.model_path) / "sentence_bert_config.json"
        limit = json.loads(config.read_text()).get("max_seq_length") if config.exists() else None
        return int(limit or min(self.tokenizer.model_max_length, 512))

    @property
    def dimension(self) -> int:
        return int(self._load().get_outputs()[0].shape[-1])

    def _load(self) -> Any:
        if self._session is None:
            import onnxruntime

            if not self.export_path.exists():
                self._export()
            options = onnxruntime.SessionOptions()
            if self.threads > 0:
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
            self._session = onnxruntime.InferenceSession(
                str(self.export_path), options, providers=["CPUExecutionProvider"]
            )
        return self._session

    def _export(self) -> None:
        """Trace the transformer to ONNX; written beside and renamed, so two processes never read half a file."""
        import torch

        self.export_path.parent.mkdir(parents=True, exist_ok=True)
        transformer = _Transformer(self.model[0].auto_model.eval())
        sample = self.tokenizer(["export me"], return_tensors="pt")
        axes = {name: {0: "batch", 1: "tokens"} for name in [*INPUTS, "last_hidden_state"]}
        handle, partial = tempfile.mkstemp(dir=self.export_path.parent, suffix=".onnx.partial")
        os.close(handle)
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
                torch.onnx.export(
                    transformer, tuple(sample[n] for n in INPUTS), partial, input_names=INPUTS,
                    output_names=["last_hidden_state"], dynamic_axes=axes, dynamo=False, opset_version=17,
                )  # fmt: skip
            os.replace(partial, self.export_path)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session = self._load()
        # Batches of texts of similar length, as sentence-transformers makes them: a batch is
        # padded to its longest text, and unsorted passages made ONNX slower than torch.
        order = np.argsort([-len(text) for text in texts], kind="stable")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        starts = range(0, len(texts), self.batch_size)
        if show_progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches", unit="batch")
        for start in starts:
            rows = order[start : start + self.batch_size]
            batch = self.tokenizer(
                [texts[row] for row in rows], padding=True, truncation=True,
                max_length=self.max_tokens, return_tensors="np",
            )  # fmt: skip
            feed = {i.name: batch[i.name].astype(np.int64) for i in session.get_inputs()}
            hidden = session.run(None, feed)[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            out[rows] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out


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
