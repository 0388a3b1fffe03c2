"""The message's sentence vector, handed from Rasa's NLU pipeline to the action server.

Rasa's featurizer (`minilm_featurizer.py`) and the KB's query embedder run the same
all-MiniLM-L6-v2 export on the same text, so a KB question used to be embedded twice: once to
classify its intent, once to search. The featurizer now puts its vector into the parse data
(`TEXT_VECTOR_KEY`), which Rasa stores with the user message and sends to the action server
in the tracker's `latest_message`; the KB action searches with it instead of embedding again.

The vector travels as float16 in base64 (1 KB a message; cosine to the float32 vector above
0.99999) with the model's name, and only when the whole text fitted in the featurizer's token
window, so it is exactly what the KB embedder would compute. Anything else (another model, a
truncated text, a malformed value) decodes to None and the KB embeds the text itself.

Plain numpy and base64: imported by both virtual environments.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

__all__ = ["TEXT_VECTOR_KEY", "decode", "encode"]

TEXT_VECTOR_KEY = "text_vector"


def encode(vector: np.ndarray, model: str) -> dict[str, str]:
    data = base64.b64encode(np.asarray(vector, dtype="<f2").tobytes()).decode("ascii")
    return {"model": model, "dtype": "float16", "data": data}


def decode(value: Any, *, model: str, dimension: int) -> np.ndarray | None:
    """The float32 unit vector, or None when `value` is not a vector of `model` with `dimension`."""
    if not isinstance(value, dict) or value.get("model") != model or value.get("dtype") != "float16":
        return None
    try:
        raw = base64.b64decode(str(value.get("data", "")), validate=True)
    except ValueError:
        return None
    if len(raw) != 2 * dimension:
        return None
    vector = np.frombuffer(raw, dtype="<f2").astype(np.float32)
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm == 0.0:
        return None
    return vector / norm
