"""The linear family: score = x_u · B with B the item × item weights over the active items (the items with
training interactions): EASE (Steck 2019; B dense), RP3beta and SLIM (B sparse).

Served as B itself (exact: the artifact reproduces the model's scores). A dense B takes 4·a² bytes
for ``a`` active items (:func:`memory_bytes`): about 0.2 GB for the ~7k positively rated items of
ml-latest-small; EASE's own ``max_items`` bounds it. A sparse B is stored as CSR arrays.
A visitor's positives form the row x (1 each), as a training user's binary row. EASE's
``popularity_shrink`` κ (the spec's ``popularity_shrink`` and ``popularity_exponent`` γ; an artifact
without them: none) scales a person's scores on each item by count^(−γ·κ/(n + κ)) for their n movies
(:func:`shrink_scores`, which the model's own ``score`` runs), with counts read from
the exported training interactions.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.scoring.base import Exported
from movierec.scoring.neighbours import ItemRowScorer, csr_arrays, csr_from, interactions_part

__all__ = [
    "Scorer",
    "active_log_counts",
    "export",
    "memory_bytes",
    "shrink_scores",
    "shrunk_exponent",
    "weight_row",
]


def memory_bytes(n_active: int) -> int:
    """Bytes of the dense float32 B for ``n_active`` items."""
    return 4 * int(n_active) ** 2


def weight_row(
    b: np.ndarray | sp.csr_matrix, active: np.ndarray, p: int, n_items: int, fill: float
) -> np.ndarray:
    """Row ``p`` of B (dense, or CSR) over every item (float32): how much liking active item ``p`` adds to
    each item's score, ``fill`` where B has no entry (``p < 0``: an item without training interactions).
    The model's ``similar_items`` and the artifact's 'similar' both read B through this."""
    out = np.full(n_items, fill, dtype=np.float32)
    if p >= 0 and isinstance(b, sp.csr_matrix):
        lo, hi = b.indptr[p], b.indptr[p + 1]
        out[active[b.indices[lo:hi]]] = b.data[lo:hi]
    elif p >= 0:
        out[active] = np.asarray(b[p]).ravel()
    return out


def shrunk_exponent(gamma: float, kappa: float, n: np.ndarray | int) -> np.ndarray:
    """What to add to ``gamma`` for a person with ``n`` positives under ``popularity_shrink`` κ = ``kappa``:
    B's columns already carry count^γ, and a person with n positives is scored with count^(γ·n/(n + κ)),
    so the correction is count^(γ·n/(n + κ) − γ) = count^(−γ·κ/(n + κ)) (κ = 0: none)."""
    n = np.asarray(n, dtype=np.float64)
    return -float(gamma) * float(kappa) / (n + float(kappa))


def shrink_scores(
    scores: np.ndarray, active: np.ndarray, log_counts: np.ndarray, gamma: float, kappa: float, n: Any
) -> np.ndarray:
    """``scores`` (users × items, or one row) with each person's columns of the ``active`` items scaled by
    count^(:func:`shrunk_exponent`) for their ``n`` positives (one n per row), in place; the model's
    ``score`` and the artifact's linear scorer both call it, so they agree."""
    if kappa == 0 or gamma == 0 or len(active) == 0:
        return scores
    extra = shrunk_exponent(gamma, kappa, n)
    if scores.ndim == 1:
        scores[active] *= np.exp(float(extra) * log_counts).astype(scores.dtype)
    else:
        scores[:, active] *= np.exp(extra.reshape(-1, 1) * log_counts[None, :]).astype(scores.dtype)
    return scores


def active_log_counts(user_items: sp.spmatrix, active: np.ndarray) -> np.ndarray:
    """log of each ``active`` item's training interactions (the counts γ scales B's columns by)."""
    counts = np.diff(sp.csc_matrix(user_items).indptr)[active]
    return np.log(np.maximum(counts, 1).astype(np.float64))


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    out: dict[str, Any] = {"active_items": np.asarray(model.active_items_, dtype=np.int32)}
    if sp.issparse(model.weights_):  # RP3beta, SLIM: their top-k item lists
        out.update(csr_arrays("linear", model.weights_))
        size = 8 * int(model.weights_.nnz)
    else:
        out["linear_weights"] = np.ascontiguousarray(model.weights_, dtype=np.float32)
        size = memory_bytes(len(model.active_items_))
    x, spec = interactions_part(model, threshold, size)
    kappa = float(getattr(model, "popularity_shrink", 0.0))
    gamma = float(getattr(model, "popularity_exponent", 0.0))
    if kappa != 0 and gamma != 0:  # EASE's history-aware γ (an artifact without these keys scores as before)
        spec.update(popularity_shrink=kappa, popularity_exponent=gamma)
    return {**out, **x}, spec


class Scorer(ItemRowScorer):
    family: ClassVar[str] = "linear"

    def __init__(self, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        super().__init__(arrays, seen, spec)
        self.active = arrays["active_items"].astype(np.int64)
        a = len(self.active)
        self.b = (
            arrays["linear_weights"] if "linear_weights" in arrays else csr_from(arrays, "linear", (a, a))
        )
        pos = np.full(self.n_items, -1, dtype=np.int64)
        pos[self.active] = np.arange(len(self.active))
        self.pos = pos
        self.kappa = float(spec.get("popularity_shrink", 0.0))
        self.gamma = float(spec.get("popularity_exponent", 0.0))
        self.log_counts = (
            active_log_counts(self.w, self.active) if self.kappa != 0 and self.gamma != 0 else None
        )

    def _finish(self, raw: np.ndarray, n: int) -> np.ndarray:
        if self.log_counts is None:
            return raw
        return shrink_scores(raw, self.active, self.log_counts, self.gamma, self.kappa, n)

    def without_one(self, raw: np.ndarray, items: np.ndarray, weights: np.ndarray, gone: int) -> np.ndarray:
        if self.log_counts is None:
            return super().without_one(raw, items, weights, gone)
        # the row's part is linear; the history scaling is undone at n movies and redone at n − 1
        row = shrink_scores(
            raw.astype(np.float64), self.active, -self.log_counts, self.gamma, self.kappa, len(items)
        )
        row -= self.score_row(items[gone : gone + 1], weights[gone : gone + 1])
        return shrink_scores(row, self.active, self.log_counts, self.gamma, self.kappa, len(items) - 1)

    def _row(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n_items, dtype=np.float32)
        p = self.pos[items]
        keep = p >= 0
        if keep.any():
            out[self.active] = np.asarray(weights[keep].astype(np.float32) @ self.b[p[keep]]).ravel()
        return out

    def similar_row(self, item: int) -> np.ndarray | None:
        """Row ``item`` of B over every item (how much liking it adds to each other item's score;
        ``-inf`` where B has no entry), as :meth:`movierec.models.ease.LinearItemModel.similar_items`."""
        return weight_row(self.b, self.active, int(self.pos[item]), self.n_items, -np.inf)
