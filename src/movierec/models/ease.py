"""EASE: an embarrassingly shallow linear autoencoder with a closed-form solution (Steck 2019).

B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹, then scores = X·B. Only items with training
interactions enter the Gram matrix (an item with no interactions has a zero column in the full
solution, so leaving it out changes nothing and saves a cubic amount of work).

``popularity_exponent`` γ optionally rescales B's columns by each item's training count^γ
(γ < 0 damps popular items, a form of popularity-bias correction as in Steck 2019's follow-ups
and Abdollahpouri et al. 2019); ``user_exponent`` δ weights each user's row by |I_u|^−δ in the Gram
matrix, XᵀD_u^−2δX (δ = 0.25 is the D_u^−½ user normalisation of GF-CF, Shen et al. 2021, "How
Powerful is Graph Convolution for Recommendation?"), so heavy users do not dominate the item
co-occurrences; the model stays one linear item × item matrix.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import Tags, check_positive
from movierec.models.kernels.accel import woodbury_diag, woodbury_weights
from movierec.models.params import Constraint, Interval
from movierec.models.space import FloatRange, SearchSpace
from movierec.models.weighting import WeightedRecommender, check_weighting, weighted_csr

__all__ = ["EASE", "LinearItemModel", "UserEASE", "ease_weights"]


def ease_weights(x: sp.spmatrix | np.ndarray, l2: float, dropout: float = 0.0) -> np.ndarray:
    """The EASE item × item weight matrix (float32, zero diagonal) for a users × items matrix ``x``.

    The penalty is Λ = λI, plus p/(1−p)·diag(XᵀX) when ``dropout`` p > 0 (the emphasised
    denoising variant, EDLAE; Steck 2020), which regularises popular items more. P = (XᵀX + Λ)⁻¹
    comes from a Cholesky solve over items or, when there are fewer users than items, from the
    Woodbury identity P = D − DXᵀ(I + XDXᵀ)⁻¹XD with D = Λ⁻¹, which needs only a users × users
    solve (XᵀX has rank ≤ n_users) and is exact up to rounding. Then B = −P·diag(1/diag P), zero diagonal.
    """
    x = sp.csr_matrix(x, dtype=np.float64)
    n_users, n_items = x.shape
    lam = np.full(n_items, float(l2))
    if dropout > 0:
        lam += dropout / (1.0 - dropout) * np.asarray(x.multiply(x).sum(axis=0)).ravel()
    if n_users < n_items:
        d = 1.0 / lam
        y = sp.csr_matrix(x @ sp.diags(d))  # X·D
        k = np.asarray((y @ x.T).toarray())
        k[np.diag_indices_from(k)] += 1.0
        chol = sla.cho_factor(k, lower=False, overwrite_a=True, check_finite=False)
        k_inv = sla.cho_solve(chol, np.eye(n_users), overwrite_b=True, check_finite=False)
        ky = np.ascontiguousarray(np.asarray(y.T @ k_inv).T)  # K⁻¹XD, users × items
        yc = sp.csc_matrix(y)
        yc.sort_indices()
        diag = woodbury_diag(yc.indptr, yc.indices, yc.data, ky)
        return woodbury_weights(yc.indptr, yc.indices, yc.data, ky, 1.0 / (d - diag))
    gram = np.asarray((x.T @ x).toarray())
    gram[np.diag_indices_from(gram)] += lam
    chol = sla.cho_factor(gram, lower=False, overwrite_a=True, check_finite=False)
    p = sla.cho_solve(chol, np.eye(n_items), overwrite_b=True, check_finite=False)
    diag = np.diag(p).copy()
    p /= -diag[None, :]
    p[np.diag_indices_from(p)] = 0.0
    return p.astype(np.float32)


class LinearItemModel(WeightedRecommender):
    """A linear item × item model: scores = X_u · W over the items with training interactions.

    ``user_items_`` is the weighted users × items matrix, ``active_items_`` the items with training
    interactions and ``weights_`` W over them (dense for EASE, sparse for RP3beta and SLIM); items
    without training interactions score 0, as in the full closed form.
    """

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """X_u · W; items without training interactions score 0."""
        self._check_fitted()
        users = self._check_users(users)
        xa = self.user_items_[users][:, self.active_items_]
        out = np.zeros((len(users), self.n_items_), dtype=np.float32)
        product = xa @ self.weights_
        out[:, self.active_items_] = np.asarray(
            product.toarray() if sp.issparse(product) else product, dtype=np.float32
        )
        return out if items is None else out[:, np.asarray(items)]


class EASE(LinearItemModel):
    """EASE^R with L2 weight ``l2`` (λ), optional emphasised ``dropout`` (EDLAE, Steck 2020),
    ``popularity_exponent`` γ (scores of item i scaled by its training count^γ; 0 = plain EASE) and
    ``user_exponent`` δ (user rows weighted |I_u|^−δ in the Gram matrix; 0 = plain EASE); refuses
    above ``max_items`` items with interactions.

    Memory and time grow with the square and cube of the number of active items, so large
    catalogues get a clear ConfigError instead of an exhausted machine.

    Defaults from ``bench/validation_study.py ease --protocol mlls`` (ml-latest-small, ``compare``'s default
    split, validation folds cut from its training part): λ 50, γ −0.3, δ 0.25 scored validation NDCG@10
    0.1950 against 0.1795 for the old defaults (λ 500, γ 0, δ 0) and 0.1902 for the best δ = 0 point
    (λ 300, γ −0.2). ``EASE(l2=500, popularity_exponent=0, user_exponent=0)`` is plain EASE^R.
    """

    name: ClassVar[str] = "ease"
    search_space: ClassVar[SearchSpace] = {
        "l2": FloatRange(1.0, 10_000.0, log=True),
        "popularity_exponent": FloatRange(-0.5, 0.0),
        "user_exponent": FloatRange(0.0, 0.5),
    }
    tags: ClassVar[Tags] = Tags(fold_in="neighbours", serving="linear")

    l2: float = 50.0
    dropout: float = 0.0
    popularity_exponent: float = -0.3
    max_items: int = 30_000
    user_exponent: float = 0.25  # after max_items: positional calls from before it existed keep their meaning

    def _fit(self, train: Interactions) -> Self:
        """Solve the closed form over the items that have training interactions."""
        check_positive("l2", self.l2)
        check_positive("max_items", self.max_items, integer=True)
        if not isinstance(self.dropout, (int, float)) or not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout!r}")
        gamma = self.popularity_exponent
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not -2.0 <= gamma <= 2.0:
            raise ConfigError(f"popularity_exponent must be a number in [-2, 2], got {gamma!r}")
        delta = self.user_exponent
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not 0.0 <= delta <= 1.0:
            raise ConfigError(f"user_exponent must be a number in [0, 1], got {delta!r}")
        check_weighting(self.weighting, self.half_life_days)
        x = weighted_csr(train, self.weighting, self.half_life_days)
        counts = np.diff(x.tocsc().indptr)  # training interactions per item
        active = np.flatnonzero(counts > 0).astype(np.int32)
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
        xa = x[:, active]
        if delta != 0:  # the Gram matrix sees user rows weighted |I_u|^-δ; scoring keeps X as it is
            n_u = np.maximum(np.diff(x.indptr), 1).astype(np.float64)
            xa = sp.csr_matrix(sp.diags(n_u ** -float(delta)) @ xa)
        self.weights_ = ease_weights(xa, float(self.l2), float(self.dropout))
        if gamma != 0:
            self.weights_ *= (counts[active].astype(np.float64) ** gamma).astype(np.float32)[None, :]
        return self

    def item_embeddings(self) -> np.ndarray | None:
        return None


class UserEASE(WeightedRecommender):
    """User-based EASE: the EASE closed form on the users × users Gram matrix XXᵀ (Steck 2019's model
    with the roles of users and items swapped), scores = BᵀX with B = I − P·diag(1/diag P),
    P = (XXᵀ + λI)⁻¹, zero diagonal: each user is reconstructed from the *other users'* rows.

    Item-based EASE explains a user's items by co-occurring items; this explains a user by similar
    users, the user-kNN view with learned weights instead of cosine neighbours, and it ranks
    differently enough to help in :class:`~movierec.models.ensemble.Ensemble`. Cost grows with the
    cube of the users with interactions (ml-100k's 943 or ml-latest-small's 610 solve in well under a
    second), hence ``max_users``. A person not in training cannot be scored (no fold-in): refit.

    Default λ 300 from ``bench/validation_study.py user-ease --protocol mlls`` (ml-latest-small,
    ``compare``'s default split, validation cut from its training part).
    """

    name: ClassVar[str] = "user-ease"
    search_space: ClassVar[SearchSpace] = {"l2": FloatRange(1.0, 10_000.0, log=True)}
    tags: ClassVar[Tags] = Tags(fold_in="none")
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "l2": [Interval(float, 0, None, closed="neither")],
        "max_users": [Interval(int, 1, None)],
    }

    l2: float = 300.0
    max_users: int = 30_000

    def _fit(self, train: Interactions) -> Self:
        """Solve the closed form over the users with training interactions."""
        check_weighting(self.weighting, self.half_life_days)
        x = weighted_csr(train, self.weighting, self.half_life_days)
        active = np.flatnonzero(np.diff(x.indptr) > 0).astype(np.int32)
        if len(active) == 0:
            raise DataError("user-ease: no user has a training interaction")
        if len(active) > self.max_users:
            gib = len(active) ** 2 * 8 * 2 / 2**30
            raise ConfigError(
                f"user-ease: {len(active)} users with interactions exceed max_users={self.max_users} "
                f"(the dense Gram matrix would need about {gib:.0f} GiB); raise max_users or use ease"
            )
        self._remember_train(train)
        self.user_items_ = x
        self.active_users_ = active
        # EASE on Xᵀ (items × active users) gives B with Xᵀ ≈ XᵀB, i.e. X ≈ BᵀX; row u of Bᵀ weighs the others
        self.weights_ = np.ascontiguousarray(ease_weights(sp.csr_matrix(x[active].T), float(self.l2)).T)
        return self

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Σ_v B[v, u]·X_v over the other users v; a user without training interactions scores 0."""
        self._check_fitted()
        users = self._check_users(users)
        pos = np.searchsorted(self.active_users_, users)
        pos = np.minimum(pos, len(self.active_users_) - 1)
        known = self.active_users_[pos] == users
        out = np.zeros((len(users), self.n_items_), dtype=np.float32)
        if known.any():
            xa = sp.csr_matrix(self.user_items_[self.active_users_])
            rows = self.weights_[pos[known]]  # users × active users (row u: B[:, u])
            out[known] = np.asarray((xa.T @ rows.T).T, dtype=np.float32)
        return out if items is None else out[:, np.asarray(items)]

    def score_new_user(
        self, items: np.ndarray, ratings: np.ndarray | None = None, *, threshold: float = 4.0
    ) -> np.ndarray:
        """Not available: a new person enters B only by refitting (``fold_in`` is ``"none"``)."""
        raise ConfigError("user-ease cannot score a person not in training (no fold-in); refit, or use ease")

    def item_embeddings(self) -> np.ndarray | None:
        return None
