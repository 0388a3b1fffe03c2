"""bot/kb/onnx_embedding.py: the shipped weights on onnxruntime give the torch embedder's vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.kb.embedding import SentenceTransformerEmbedder
from bot.kb.onnx_embedding import OnnxEmbedder

TEXTS = [
    "my camera keeps going offline every night",
    "how long does a refund take",
    "ok",
    "Hi, I haven't opened the Kestrel app since I set up the cameras last year and I have no idea what my "
    "password was. It just says wrong credentials. How do I make a new one? " * 8,  # past 256 word pieces
]


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


def test_onnx_vectors_match_the_torch_embedders(export_dir: Path) -> None:
    torch_vectors = SentenceTransformerEmbedder().embed(TEXTS)
    onnx_embedder = OnnxEmbedder(export_dir=export_dir, threads=1, batch_size=2)  # batches pad differently
    onnx_vectors = onnx_embedder.embed(TEXTS)
    assert onnx_vectors.shape == torch_vectors.shape == (len(TEXTS), 384)
    assert onnx_vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(onnx_vectors * torch_vectors, axis=1)
    assert cosines.min() > 0.9999, cosines
    assert onnx_embedder.name == "all-MiniLM-L6-v2"  # the name an index records: either backend can search it


def test_the_export_is_made_once_and_reused(export_dir: Path) -> None:
    first = OnnxEmbedder(export_dir=export_dir)
    first.embed(["warm up"])
    exported = first.export_path.stat().st_mtime_ns
    second = OnnxEmbedder(export_dir=export_dir)
    assert second.embed(["again"]).shape == (1, 384)
    assert second.export_path.stat().st_mtime_ns == exported
    assert [p.name for p in first.export_path.parent.iterdir()] == ["model.onnx"]  # no partial file left
    assert second._model is None  # with the export there, the torch model is never loaded


def test_no_texts_give_an_empty_matrix(export_dir: Path) -> None:
    assert OnnxEmbedder(export_dir=export_dir).embed([]).shape == (0, 384)
