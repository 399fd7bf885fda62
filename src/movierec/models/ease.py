"""EASE: an embarrassingly shallow linear autoencoder with a closed-form solution (Steck 2019).

B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹, then scores = X·B. Only items with training
interactions enter the Gram matrix (an item with no interactions has a zero column in the full
solution, so leaving it out changes nothing and saves a cubic amount of work).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import BaseRecommender, check_positive
from movierec.models.kernels.ease_kernels import woodbury_diag, woodbury_weights
from movierec.models.weighting import check_weighting, weighted_csr

__all__ = ["EASE", "ease_weights"]


def ease_weights(x: sp.spmatrix | np.ndarray, l2: float) -> np.ndarray:
    """The EASE item × item weight matrix (float32, zero diagonal) for a users × items matrix ``x``.

    P = (XᵀX + λI)⁻¹ comes from a Cholesky solve over items, or, when there are fewer users than
    items, from the Woodbury identity P = (I − Xᵀ(λI + XXᵀ)⁻¹X)/λ, which needs only a users × users
    solve (XᵀX has rank ≤ n_users) and is exact up to rounding.
    """
    x = sp.csr_matrix(x, dtype=np.float64)
    n_users, n_items = x.shape
    if n_users < n_items:
        k = np.asarray((x @ x.T).toarray())
        k[np.diag_indices_from(k)] += l2
        chol = sla.cho_factor(k, lower=False, overwrite_a=True, check_finite=False)
        k_inv = sla.cho_solve(chol, np.eye(n_users), overwrite_b=True, check_finite=False)
        kx = np.ascontiguousarray(np.asarray(x.T @ k_inv).T)  # K⁻¹X, users × items
        xc = sp.csc_matrix(x)
        xc.sort_indices()
        diag = woodbury_diag(xc.indptr, xc.indices, xc.data, kx)
        return woodbury_weights(xc.indptr, xc.indices, xc.data, kx, diag)
    gram = np.asarray((x.T @ x).toarray())
    gram[np.diag_indices_from(gram)] += l2
    chol = sla.cho_factor(gram, lower=False, overwrite_a=True, check_finite=False)
    p = sla.cho_solve(chol, np.eye(n_items), overwrite_b=True, check_finite=False)
    diag = np.diag(p).copy()
    p /= -diag[None, :]
    p[np.diag_indices_from(p)] = 0.0
    return p.astype(np.float32)


class EASE(BaseRecommender):
    """EASE^R with L2 weight ``l2`` (λ); refuses above ``max_items`` items with interactions.

    Memory and time grow with the square and cube of the number of active items, so large
    catalogues get a clear ConfigError instead of an exhausted machine.
    """

    name: ClassVar[str] = "ease"
    kind: ClassVar[str] = "implicit"

    def __init__(
        self, l2: float = 500.0, max_items: int = 30_000, weighting: str = "binary", half_life_days: float = 365.0
    ) -> None:
        self.l2 = l2
        self.max_items = max_items
        self.weighting = weighting
        self.half_life_days = half_life_days

    def fit(self, train: Interactions, *, item_features: Any = None, user_features: Any = None) -> Self:
        """Solve the closed form over the items that have training interactions."""
        check_positive("l2", self.l2)
        check_positive("max_items", self.max_items, integer=True)
        check_weighting(self.weighting, self.half_life_days)
        x = weighted_csr(train, self.weighting, self.half_life_days)
        active = np.flatnonzero(np.diff(x.tocsc().indptr) > 0).astype(np.int32)
        if len(active) == 0:
            raise DataError("EASE: no item has a training interaction")
        if len(active) > self.max_items:
            gib = len(active) ** 2 * 8 * 2 / 2**30
            raise ConfigError(
                f"EASE: {len(active)} items with interactions exceed max_items={self.max_items} "
                f"(the dense Gram matrix would need about {gib:.0f} GiB); raise max_items or use als/bpr"
            )
        self._remember_train(train)
        self.user_items_ = x
        self.active_items_ = active
        self.weights_ = ease_weights(x[:, active], float(self.l2))
        return self

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """X_u · B; items without training interactions score 0, as in the full closed form."""
        self._check_fitted()
        users = self._check_users(users)
        xa = self.user_items_[users][:, self.active_items_]
        out = np.zeros((len(users), self.n_items_), dtype=np.float32)
        out[:, self.active_items_] = np.asarray(xa @ self.weights_, dtype=np.float32)
        return out if items is None else out[:, np.asarray(items)]

    def score_new_user(self, items: np.ndarray, ratings: np.ndarray | None = None) -> np.ndarray:
        """EASE needs no fold-in: a new user's row times B."""
        self._check_fitted()
        row = np.zeros(self.n_items_, dtype=np.float32)
        row[np.asarray(items, dtype=np.int64)] = 1.0 if ratings is None else np.asarray(ratings, dtype=np.float32)
        out = np.zeros(self.n_items_, dtype=np.float32)
        out[self.active_items_] = row[self.active_items_] @ self.weights_
        return out

    def item_embeddings(self) -> np.ndarray | None:
        return None
