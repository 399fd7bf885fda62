"""The Markov family: P(j | i) = (C[i, j] + α·p(j)) / (C[i, ·] + α), read from the last item of a history
(Shani, Heckerman & Brafman 2005; the Markov part of Rendle et al. 2010's FPMC)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from movierec.scoring import base
from movierec.scoring.base import Exported
from movierec.scoring.neighbours import csr_arrays

__all__ = ["Scorer", "export", "next_scores"]


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    """First-order transitions (CSR counts), the popularity back-off and each user's latest item."""
    arrays = {
        **csr_arrays("transitions", model.transitions_, data="counts"),
        "out_counts": np.asarray(model.out_counts_, dtype=np.float32),
        "item_prior": np.asarray(model.item_prior_, dtype=np.float32),
        "alpha": np.float32(model.alpha),
        "last_item": np.asarray(model.last_item_, dtype=np.int32),
    }
    return arrays, {"threshold": float(threshold), "sequential": True}


def next_scores(arrays: dict[str, np.ndarray], last: int) -> np.ndarray:
    """``P(· | last)`` as :class:`movierec.models.sequential.Markov` computes it (popularity when ``last < 0``)."""
    prior = arrays["item_prior"]
    if last < 0:
        return prior.copy()
    alpha = float(arrays["alpha"])
    ptr, idx = arrays["transitions_indptr"], arrays["transitions_indices"]
    row = np.zeros(len(prior), dtype=np.float32)
    row[idx[ptr[last] : ptr[last + 1]]] = arrays["transitions_counts"][ptr[last] : ptr[last + 1]]
    return ((row + alpha * prior) / (arrays["out_counts"][last] + alpha)).astype(np.float32)


class Scorer(base.Scorer):
    family: ClassVar[str] = "markov"

    def known(self, u: int) -> np.ndarray:
        return next_scores(self.a, int(self.a["last_item"][u]))

    def fold_in(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        """``items`` is an ordered history (oldest first): what follows its last item."""
        return next_scores(self.a, int(items[-1]) if len(items) else -1)
