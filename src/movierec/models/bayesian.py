"""Bayesian factorisation machines for ratings, trained by Gibbs sampling (Freudenthaler, Schmidt-Thieme &
Rendle 2011; Rendle 2012's libFM MCMC; the recipe of Rendle, Zhang & Koren 2019, "On the difficulty of
evaluating baselines", whose Bayesian MF / SVD++ beat every newer method on ML-10M).

Features per rating (user u, item i), each block with its own prior (a hyperprior group):
- ``user`` and ``item`` one-hot ids: Bayesian MF with biases (``features="mf"``);
- ``iu``: the items u rated in training, each weighted 1/√|N(u)| (SVD++'s implicit feedback as FM
  features, Rendle 2012 §5.2) (``features="svdpp"``);
- ``ii``: the users who rated i in training, 1/√|N(i)|, the "flipped" implicit block of Rendle et al.
  2019 (``features="flipped"`` = user, item, iu, ii).
Time features (timeSVD++ as features, Koren 2009) are not implemented yet.

Every block belongs to the user side or the item side, so each posterior sample is
ŷ(u, i) = w0 + b_u + b_i + ⟨P_u, Q_i⟩ with P_u the sum of u's feature vectors (Q_i likewise) and b_u the
linear and within-side pairwise terms. The posterior predictive mean over S kept samples is therefore
w̄0 + b̄_u + b̄_i + ⟨[P_u¹…P_uˢ], [Q_i¹…Q_iˢ]⟩/S: a factor model with S·k dimensions, so scoring, export
and serving are one matrix product, like every other factor model here.
"""

from __future__ import annotations

import time
from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import EpochCallback, check_positive, check_random_state
from movierec.models.mf import _FactorModel
from movierec.models.space import Choice, IntRange, SearchSpace

__all__ = ["FEATURE_SETS", "BayesianFM", "side_matrices"]

FEATURE_SETS = ("mf", "svdpp", "flipped")


def _implicit_block(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """Binary rows × cols matrix of (rows, cols) pairs, each row scaled to 1/√(its count)."""
    m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_rows, n_cols))
    m.sum_duplicates()
    m.data[:] = 1.0
    counts = np.diff(m.indptr).astype(np.float64)
    scale = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1.0)), 0.0)
    return sp.csr_matrix(sp.diags(scale) @ m)


def side_matrices(train: Interactions, features: str) -> tuple[sp.csr_matrix, sp.csr_matrix, list[int]]:
    """User-side (n_users × F) and item-side (n_items × F) feature rows over one feature space, and
    the size of each group, in the order user | iu | item | ii (absent blocks have size 0)."""
    if features not in FEATURE_SETS:
        raise ConfigError(f"features must be one of {', '.join(FEATURE_SETS)}, got {features!r}")
    nu, ni = train.n_users, train.n_items
    iu = features in ("svdpp", "flipped")
    ii = features == "flipped"
    sizes = [nu, ni if iu else 0, ni, nu if ii else 0]
    user_blocks = [sp.identity(nu, format="csr")]
    if iu:
        user_blocks.append(_implicit_block(train.users, train.items, nu, ni))
    item_blocks = [sp.identity(ni, format="csr")]
    if ii:
        item_blocks.append(_implicit_block(train.items, train.users, ni, nu))
    n_user_side = sizes[0] + sizes[1]
    n_item_side = sizes[2] + sizes[3]
    xu = sp.hstack([*user_blocks, sp.csr_matrix((nu, n_item_side))], format="csr")
    xi = sp.hstack([sp.csr_matrix((ni, n_user_side)), *item_blocks], format="csr")
    return xu, xi, sizes


class BayesianFM(_FactorModel):
    """Bayesian FM by Gibbs sampling: ``rank`` factors, ``n_iter`` sweeps of which the first ``burn_in``
    are discarded, ``features`` ``mf`` | ``svdpp`` | ``flipped``; priors as libFM/myfm (α0 = β0 = γ0 = 1,
    μ0 = 0, w0 precision ``reg_0``), V initialised N(0, ``init_std``²). No learning rate, no λ to tune:
    the hyperpriors learn the regularisation, which is the point of the method (Rendle et al. 2019)."""

    name: ClassVar[str] = "bayesian-fm"
    search_space: ClassVar[SearchSpace] = {
        "rank": IntRange(4, 64, log=True),
        "n_iter": IntRange(50, 400, log=True),
        "features": Choice(FEATURE_SETS),
    }
    _json_state: ClassVar[tuple[str, ...]] = ("history_",)

    rank: int = 10
    n_iter: int = 200
    burn_in: int = 5
    features: str = "flipped"
    init_std: float = 0.1
    reg_0: float = 1.0
    random_state: int | None = 42

    def _check_params(self) -> None:
        check_positive("rank", self.rank, integer=True)
        check_positive("n_iter", self.n_iter, integer=True)
        check_positive("burn_in", self.burn_in, integer=True, allow_zero=True)
        if self.burn_in >= self.n_iter:
            raise ConfigError(f"burn_in ({self.burn_in}) must be smaller than n_iter ({self.n_iter})")
        check_positive("init_std", self.init_std, allow_zero=True)
        check_positive("reg_0", self.reg_0)
        if self.features not in FEATURE_SETS:
            raise ConfigError(f"features must be one of {', '.join(FEATURE_SETS)}, got {self.features!r}")

    def _fit(self, train: Interactions, *, on_epoch: EpochCallback | None = None) -> Self:
        """Run ``n_iter`` Gibbs sweeps and average the kept samples into the factor form above."""
        from movierec.models.kernels.bfm_gibbs import gibbs_sweep, seed_kernel

        self._check_params()
        if train.n_ratings == 0:
            raise DataError("bayesian-fm: no ratings to train on")
        rng = check_random_state(self.random_state)
        seed_kernel(int(rng.integers(0, 2**31 - 1)))
        self._remember_train(train)
        xu, xi, sizes = side_matrices(train, self.features)
        design = sp.csc_matrix(xu[train.users] + xi[train.items], dtype=np.float64)
        design.sort_indices()
        group = np.repeat(np.arange(4, dtype=np.int64), sizes)
        k, n_feat = int(self.rank), design.shape[1]
        mu = float(train.global_mean)
        y = train.ratings.astype(np.float64) - mu
        w = np.zeros(n_feat)
        v = rng.normal(0.0, float(self.init_std), (n_feat, k))
        w0 = 0.0
        # every pairwise term (across and within sides) pairwise terms are part of ŷ too: ½(‖Σ x v‖² − Σ x²‖v‖²) of the full row
        full = design.tocsr()
        sq = full.multiply(full) @ (v**2).sum(axis=1)
        pred = 0.5 * (((full @ v) ** 2).sum(axis=1) - sq)
        e = y - w0 - pred
        q = np.zeros(len(y))
        mu_w, lam_w = np.zeros(4), np.ones(4)
        mu_v, lam_v = np.zeros((4, k)), np.ones((4, k))
        alpha = 1.0
        hyper = (1.0, 1.0, 1.0, 1.0, 1.0, 0.0, float(self.reg_0), 1.0)
        n_keep = int(self.n_iter) - int(self.burn_in)
        p_cat = np.zeros((train.n_users, n_keep * k), dtype=np.float32)
        q_cat = np.zeros((train.n_items, n_keep * k), dtype=np.float32)
        b_u = np.zeros(train.n_users)
        b_i = np.zeros(train.n_items)
        w0_sum = 0.0
        self.history_: list[dict[str, float]] = []
        kept = 0
        for sweep in range(1, int(self.n_iter) + 1):
            tic = time.perf_counter()
            alpha, w0 = gibbs_sweep(
                design.indptr, design.indices, design.data, group, 4, y, e, q, w0, w, v,
                mu_w, lam_w, mu_v, lam_v, alpha, hyper,
            )  # fmt: skip
            record = {"epoch": sweep, "loss": float(np.mean(e**2)), "rmse": float(np.sqrt(np.mean(e**2)))}
            if sweep > int(self.burn_in):
                pu, qi = xu @ v, xi @ v
                b_u += xu @ w + 0.5 * ((pu**2).sum(1) - (xu.multiply(xu) @ (v**2).sum(1)))
                b_i += xi @ w + 0.5 * ((qi**2).sum(1) - (xi.multiply(xi) @ (v**2).sum(1)))
                p_cat[:, kept * k : (kept + 1) * k] = pu
                q_cat[:, kept * k : (kept + 1) * k] = qi
                w0_sum += w0
                kept += 1
            record["seconds"] = time.perf_counter() - tic
            self.history_.append(record)
            if on_epoch is not None and on_epoch(sweep, dict(record)) is False:
                break
        kept = max(kept, 1)
        scale = np.float32(1.0 / np.sqrt(kept))
        self.global_mean_ = np.asarray(mu, dtype=np.float32)
        self._store(
            b_u / kept, b_i / kept + w0_sum / kept, p_cat[:, : kept * k] * scale, q_cat[:, : kept * k] * scale
        )
        self.n_kept_ = kept
        self.noise_precision_ = float(alpha)
        return self
