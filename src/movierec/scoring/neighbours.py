"""The neighbour family (ItemKNN): score = Σ over the user's items of weight × similarity (Sarwar et al. 2001).

A visitor's positives (ratings ≥ the implicit threshold) each weigh 1, or their rating over their mean
rating when the model weighs interactions by rating, exactly as a training user's row of ``user_items_``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.scoring import base
from movierec.scoring.base import Exported, positive_mask, rating_weights, visitor_weights

__all__ = ["ItemRowScorer", "Scorer", "csr_arrays", "export"]


def interactions_part(
    model: Any, threshold: float, memory_bytes: int
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and spec entries every family scoring from the training interactions X shares: X itself
    (``weights_*``: the model's ``user_items_``, weighted as it trained), the positive threshold a visitor's
    ratings are read with, the scorer's memory and whether X holds ratings as weights."""
    spec = {
        "threshold": float(threshold),
        "memory_bytes": int(memory_bytes),
        "rating_weights": rating_weights(model),
    }
    return csr_arrays("weights", model.user_items_), spec


def csr_arrays(prefix: str, matrix: Any, *, data: str = "data", sort: bool = True) -> dict[str, np.ndarray]:
    """A sparse matrix as three plain arrays ``{prefix}_indptr/_indices/_{data}`` (float32 values).

    ``sort=False`` keeps each row's stored order (neighbour lists are stored best first).
    """
    m = sp.csr_matrix(matrix, dtype=np.float32)
    if sort:
        m.sort_indices()
    return {
        f"{prefix}_indptr": m.indptr.astype(np.int64),
        f"{prefix}_indices": m.indices.astype(np.int32),
        f"{prefix}_{data}": m.data.astype(np.float32),
    }


def csr_from(arrays: dict[str, np.ndarray], prefix: str, shape: tuple[int, int]) -> sp.csr_matrix:
    """The inverse of :func:`csr_arrays` (legacy names ``neighbours_weights`` accepted)."""
    data = arrays.get(f"{prefix}_data")
    if data is None:
        data = arrays[f"{prefix}_weights"]
    return sp.csr_matrix((data, arrays[f"{prefix}_indices"], arrays[f"{prefix}_indptr"]), shape=shape)


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    out: dict[str, Any] = csr_arrays("neighbours", model.neighbours_, data="weights")  # the format's name
    out.update(
        user_bias=np.zeros(n_users, np.float32),
        item_bias=np.zeros(n_items, np.float32),
        global_mean=np.float32(0),
    )
    weights = getattr(model, "user_items_", None)
    if weights is not None:
        out.update(csr_arrays("weights", weights))
    spec = {
        "threshold": float(threshold),
        "rating_weights": rating_weights(model),
        # whose k nearest a score sums over (models.itemknn); an artifact without it is 'rated', as before
        "neighbourhood": getattr(model, "neighbourhood", "rated"),
    }
    return out, spec


class ItemRowScorer(base.Scorer):
    """A family whose scores are a function of one weighted item row (neighbours, linear).

    A training user's row is their row of the exported ``weights`` (the model's ``user_items_``,
    or the seen matrix); a visitor's is their positives, 1 each, or their rating over their mean
    rating when the model weighs interactions by rating. Subclasses say what a row scores (:meth:`_row`).
    """

    def __init__(self, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        super().__init__(arrays, seen, spec)
        self.w = csr_from(arrays, "weights", seen.shape) if "weights_indptr" in arrays else seen

    def _row(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _finish(self, raw: np.ndarray, n: int) -> np.ndarray:
        """A person's scores from their row's (:meth:`_row`), given that the row holds ``n`` movies: the
        same here; EASE's scorer scales them for the person's history (``popularity_shrink``)."""
        return raw

    def known(self, u: int) -> np.ndarray:
        items, weights = self.user_row(u)
        return self._finish(self._row(items, weights), len(items))

    def user_row(self, u: int) -> tuple[np.ndarray, np.ndarray]:
        """Training user ``u``'s row: their items and the weights the model trained them with."""
        lo, hi = self.w.indptr[u], self.w.indptr[u + 1]
        return self.w.indices[lo:hi], self.w.data[lo:hi]

    def score_row(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Raw scores of a row holding ``items`` with ``weights`` (a user's row with some items left out)."""
        return self._row(items, weights)

    def without_one(self, raw: np.ndarray, items: np.ndarray, weights: np.ndarray, gone: int) -> np.ndarray:
        """:meth:`known`'s scores ``raw`` of the row ``items``/``weights`` with its movie ``gone`` left out:
        the row's score is linear in it, so one item row is subtracted instead of scoring the whole row."""
        return raw - self.score_row(items[gone : gone + 1], weights[gone : gone + 1])

    def fold_in(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        liked = positive_mask(ratings, len(items), self.threshold)
        if not liked.any():
            return None
        raw = self._row(items[liked], visitor_weights(self.spec, ratings, liked).astype(np.float32))
        return self._finish(raw, int(liked.sum()))


class Scorer(ItemRowScorer):
    family: ClassVar[str] = "neighbours"

    def __init__(self, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        super().__init__(arrays, seen, spec)
        from movierec.models.itemknn import scoring_matrix

        n = self.n_items
        self.s = csr_from(arrays, "neighbours", (n, n))  # each movie's own neighbours: its similar list
        self.w_items = scoring_matrix(self.s, str(spec.get("neighbourhood", "rated")))

    def _row(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return np.asarray(self.w_items[items].T @ weights.astype(np.float32)).ravel().astype(np.float32)

    def neighbour_rows(self) -> sp.csr_matrix | None:
        return self.s
