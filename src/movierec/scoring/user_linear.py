"""The user-linear family: user-based EASE (:class:`movierec.models.ease.UserEASE`), scores = BᵀX with B the
users × users weights over the active users (the users with training interactions).

A training user u scores Σ_v B[v, u]·X_v. A visitor with row x (their positives, 1 each, or their
rating when the model weighs interactions by rating) is folded in exactly: bordering the Gram matrix
G = XXᵀ + λI with g = Xx, the block inverse gives the visitor's column of B as P·g (P = G⁻¹), so they
score Xᵀ(P·g), as if the model had been refitted with them. P is rebuilt from what the model keeps:
P = (I − B)·diag(P), so P·g = v − B·v with v = diag(P)·g, O(users²) per visitor.

Stored: B (``user_weights``, float32, Bᵀ as the model holds it: row u is B's column u), diag P
(``inverse_diag``, float64), the active users and the weighted users × items matrix X (``weights_*``
CSR). B takes 4·a² bytes for ``a`` active users (:func:`memory_bytes`): 1.5 MB for ml-latest-small's
610 users, 146 MB for ml-1m's 6,040; the model's ``max_users`` (30,000: 3.6 GB) bounds it, as EASE's
``max_items`` bounds the linear family.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.scoring.base import Exported
from movierec.scoring.neighbours import ItemRowScorer, interactions_part

__all__ = ["Scorer", "export", "memory_bytes"]


def memory_bytes(n_active: int) -> int:
    """Bytes of the dense float32 B for ``n_active`` users."""
    return 4 * int(n_active) ** 2


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    active = np.asarray(model.active_users_, dtype=np.int32)
    out: dict[str, Any] = {
        "active_users": active,
        "user_weights": np.ascontiguousarray(model.weights_, dtype=np.float32),
        "inverse_diag": np.asarray(model.inverse_diag_, dtype=np.float64),
    }
    x, spec = interactions_part(model, threshold, memory_bytes(len(active)))
    return {**out, **x}, spec


class Scorer(ItemRowScorer):
    family: ClassVar[str] = "user-linear"

    def __init__(self, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        super().__init__(arrays, seen, spec)
        self.active = arrays["active_users"].astype(np.int64)
        self.bt = arrays["user_weights"]  # Bᵀ: row u is B[:, u]
        self.pdiag = np.asarray(arrays["inverse_diag"], dtype=np.float64)
        self.xa = sp.csr_matrix(self.w[self.active], dtype=np.float32)  # active users × items
        self.xat = sp.csr_matrix(self.xa.T)  # items × active users
        pos = np.full(seen.shape[0], -1, dtype=np.int64)
        pos[self.active] = np.arange(len(self.active))
        self.pos = pos

    def known(self, u: int) -> np.ndarray:
        p = int(self.pos[u])
        if p < 0:  # no training interactions: nothing to rebuild the user from
            return np.zeros(self.n_items, dtype=np.float32)
        return np.asarray(self.xat @ self.bt[p], dtype=np.float32).ravel()

    def _row(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Xᵀ(P·g) with g = X·x for the visitor's row x (``weights`` on ``items``)."""
        g = np.asarray(self.xat[items].T @ weights.astype(np.float64), dtype=np.float64).ravel()
        v = self.pdiag * g
        pg = v - np.asarray(v.astype(np.float32) @ self.bt, dtype=np.float64)  # P·g = (I − B)·diag(P)·g
        return np.asarray(self.xa.T @ pg, dtype=np.float32).ravel()
