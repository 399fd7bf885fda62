"""movierec.jsonsafe: the one sanitiser behind every JSON file the package writes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from movierec.jsonsafe import to_jsonable


def test_numpy_nan_paths_and_keys_become_plain_json() -> None:
    data = {
        1: np.float32(0.5),
        "n": np.int64(3),
        "bad": [float("nan"), np.float64(np.inf), -math.inf],
        "arr": np.arange(3, dtype=np.int32),
        "nested": ({"p": Path("/tmp/x")}, {2}),
        "rng": np.random.default_rng(0),
        "ok": (True, None, "s"),
    }
    out = to_jsonable(data)
    assert out == {
        "1": 0.5,
        "n": 3,
        "bad": [None, None, None],
        "arr": [0, 1, 2],
        "nested": [{"p": "/tmp/x"}, [2]],
        "rng": None,
        "ok": [True, None, "s"],
    }
    text = json.dumps(out, allow_nan=False)  # strict JSON: no NaN/Infinity tokens
    assert json.loads(text) == out
    assert type(out["n"]) is int and type(out["1"]) is float
