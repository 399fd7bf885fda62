"""The linear family (EASE, Steck 2019): score = x_u · B with B the dense item × item weights over active items.

Served as the dense B itself (exact: the artifact reproduces the model's scores). Memory is
4·a² bytes for ``a`` items with training interactions (:func:`memory_bytes`): about 0.2 GB for
the ~7k positively rated items of ml-latest-small; EASE's own ``max_items`` bounds it.
A visitor's positives form the row x (1 each), as a training user's binary row.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.scoring.base import Exported
from movierec.scoring.neighbours import ItemRowScorer, csr_arrays

__all__ = ["Scorer", "export", "memory_bytes"]


def memory_bytes(n_active: int) -> int:
    """Bytes of the dense float32 B for ``n_active`` items."""
    return 4 * int(n_active) ** 2


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    out = {
        "linear_weights": np.ascontiguousarray(model.weights_, dtype=np.float32),
        "active_items": np.asarray(model.active_items_, dtype=np.int32),
    }
    out.update(csr_arrays("weights", model.user_items_))
    spec = {
        "threshold": float(threshold),
        "memory_bytes": memory_bytes(len(model.active_items_)),
        "rating_weights": getattr(model, "weighting", "") == "rating",
    }
    return out, spec


class Scorer(ItemRowScorer):
    family: ClassVar[str] = "linear"

    def __init__(self, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        super().__init__(arrays, seen, spec)
        self.b = arrays["linear_weights"]
        self.active = arrays["active_items"].astype(np.int64)
        pos = np.full(self.n_items, -1, dtype=np.int64)
        pos[self.active] = np.arange(len(self.active))
        self.pos = pos

    def _row(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n_items, dtype=np.float32)
        p = self.pos[items]
        keep = p >= 0
        if keep.any():
            out[self.active] = weights[keep].astype(np.float32) @ self.b[p[keep]]
        return out
