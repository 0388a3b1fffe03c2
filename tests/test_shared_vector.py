"""The sentence vector handed from the NLU pipeline to the KB action: what decodes and what does not."""

from __future__ import annotations

import numpy as np

from nlu_components import shared_vector

MODEL = "all-MiniLM-L6-v2"


def unit_vector(seed: int = 0, dimension: int = 384) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(dimension).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_a_vector_survives_the_trip_as_float16() -> None:
    vector = unit_vector()
    payload = shared_vector.encode(vector, MODEL)
    assert len(payload["data"]) == 1024  # 384 float16 in base64: about 1 KB a message
    decoded = shared_vector.decode(payload, model=MODEL, dimension=384)
    assert decoded is not None and decoded.dtype == np.float32
    assert float(decoded @ vector) > 0.99999
    assert abs(float(np.linalg.norm(decoded)) - 1.0) < 1e-6


def test_anything_but_this_models_vector_is_refused() -> None:
    payload = shared_vector.encode(unit_vector(), MODEL)
    assert shared_vector.decode(payload, model="another-model", dimension=384) is None
    assert shared_vector.decode(payload, model=MODEL, dimension=768) is None
    assert shared_vector.decode({**payload, "dtype": "float32"}, model=MODEL, dimension=384) is None
    assert shared_vector.decode({**payload, "data": "not base64!"}, model=MODEL, dimension=384) is None
    assert shared_vector.decode(shared_vector.encode(np.zeros(384), MODEL), model=MODEL, dimension=384) is None
    assert shared_vector.decode(shared_vector.encode(np.full(384, np.nan), MODEL), model=MODEL, dimension=384) is None
    for value in (None, "a string", [1, 2], {}):
        assert shared_vector.decode(value, model=MODEL, dimension=384) is None
