"""One JSON sanitiser for everything movierec writes (manifests, results, studies, reports, saved models).

``json.dumps`` refuses numpy scalars and arrays and writes ``NaN``/``Infinity``, which are not JSON;
every writer in the package passes its data through :func:`to_jsonable` first.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["to_jsonable"]


def to_jsonable(obj: Any) -> Any:
    """Plain JSON data from ``obj``: numpy scalars/arrays to Python, NaN/±inf to ``None``, paths to strings.

    Mapping keys become strings; tuples and sets become lists; a numpy ``Generator`` (a
    ``random_state`` that is not a seed) becomes ``None``; anything else unknown becomes ``str(obj)``.
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    if isinstance(obj, (np.random.Generator, np.random.RandomState)):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)
