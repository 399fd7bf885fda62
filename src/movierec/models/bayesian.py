"""Bayesian factorisation machines for ratings, trained by Gibbs sampling (Freudenthaler, Schmidt-Thieme &
Rendle 2011; Rendle 2012's libFM MCMC; the recipe of Rendle, Zhang & Koren 2019, "On the difficulty of
evaluating baselines", whose Bayesian MF / SVD++ beat every newer method on ML-10M).

Features per rating (user u, item i), each block with its own prior (a hyperprior group):
- ``user`` and ``item`` one-hot ids: Bayesian MF with biases (``features="mf"``);
- ``iu``: the items u rated in training, each weighted 1/√|N(u)| (SVD++'s implicit feedback as FM
  features, Rendle 2012 §5.2) (``features="svdpp"``);
- ``ii``: the users who rated i in training, 1/√|N(i)|, the "flipped" implicit block of Rendle et al.
  2019 (``features="flipped"`` = user, item, iu, ii);
- ``ud``: a user-day indicator, timeSVD++'s day-specific user bias and factors b_{u,t}, p_u(t) (Koren 2009)
  as FM features (``features="timesvdpp"`` = user, iu, ud, item; ``"timesvdpp-flipped"`` adds ii).
  On ml-100k's u1 split 99% of test ratings fall on a (user, day) seen in training, so ``predict``
  takes the ratings' ``timestamps``; without them a pair gets the user's day-free terms.

Sampling runs on the relational form of the design (Rendle 2013; myfm's ``RelationBlock``): each rating
row is a (left entity, right entity) pair, see :mod:`movierec.models.kernels.bfm_gibbs`.

Every block belongs to the user side or the item side, so each posterior sample is
ŷ(u, i) = w0 + b_u + b_i + ⟨P_u, Q_i⟩ with P_u the sum of u's feature vectors (Q_i likewise) and b_u the
linear and within-side pairwise terms. The posterior predictive mean over S kept samples is therefore
w̄0 + b̄_u + b̄_i + ⟨[P_u¹…P_uˢ], [Q_i¹…Q_iˢ]⟩/S: a factor model with S·k dimensions, so scoring, export
and serving are one matrix product, like every other factor model here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import EpochCallback, check_positive, check_random_state
from movierec.models.mf import _FactorModel
from movierec.models.space import Choice, IntRange, SearchSpace

__all__ = [
    "FEATURE_SETS",
    "BayesianFM",
    "RelationalDesign",
    "relational_design",
    "session_index",
    "side_matrices",
]

FEATURE_SETS = ("mf", "svdpp", "flipped", "timesvdpp", "timesvdpp-flipped")
#: seconds per day of the user-day sessions (timeSVD++'s b_{u,t} / p_u(t) day index, Koren 2009)
DAY = 86400
_DAY_CODE = 1 << 32  # user * _DAY_CODE + day: one sortable key per session


def _implicit_block(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """Binary rows × cols matrix of (rows, cols) pairs, each row scaled to 1/√(its count)."""
    m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_rows, n_cols))
    m.sum_duplicates()
    m.data[:] = 1.0
    counts = np.diff(m.indptr).astype(np.float64)
    scale = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1.0)), 0.0)
    return sp.csr_matrix(sp.diags(scale) @ m)


def _check_features(features: str) -> None:
    if features not in FEATURE_SETS:
        raise ConfigError(f"features must be one of {', '.join(FEATURE_SETS)}, got {features!r}")


def side_matrices(train: Interactions, features: str) -> tuple[sp.csr_matrix, sp.csr_matrix, list[int]]:
    """User-side (n_users × F) and item-side (n_items × F) feature rows over one feature space, and
    the size of each group, in the order user | iu | item | ii (absent blocks have size 0).
    Time features are per session, not per user: see :func:`relational_design`."""
    _check_features(features)
    nu, ni = train.n_users, train.n_items
    iu = features != "mf"
    ii = features.endswith("flipped")
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


@dataclass
class RelationalDesign:
    """The FM design as two relational blocks (Rendle 2013): every rating row is (left entity, right
    entity). Left entities are the users, or with time features the training sessions (user, day)
    followed by one "no day" entity per user (what serving and unseen days use); right entities are
    the items. ``left``/``right`` are entity × feature rows; ``groups`` the prior group of every
    feature (left features first); ``sessions`` the (user, day) key of each session entity."""

    left: sp.csr_matrix
    left_of_row: np.ndarray
    right: sp.csr_matrix
    right_of_row: np.ndarray
    group_sizes: list[int]
    sessions: np.ndarray

    @property
    def user_entities(self) -> np.ndarray:
        """The left entity of each user without a day (the serving factor form)."""
        return np.arange(len(self.sessions), self.left.shape[0])


def session_index(sessions: np.ndarray, users: np.ndarray, timestamps: np.ndarray | None) -> np.ndarray:
    """Row of ``sessions`` (sorted (user, day) keys) for each (user, timestamp) pair, −1 where that day was
    not a training session (or no timestamps are given)."""
    users = np.asarray(users, dtype=np.int64)
    out = np.full(len(users), -1, dtype=np.int64)
    if timestamps is None or len(sessions) == 0 or len(users) == 0:
        return out
    ts = np.asarray(timestamps, dtype=np.int64)
    if ts.shape != users.shape:
        raise ConfigError(f"timestamps must have one value per pair, got {len(ts)} for {len(users)}")
    code = sessions[:, 0] * _DAY_CODE + sessions[:, 1]
    want = users * _DAY_CODE + ts // DAY
    pos = np.minimum(np.searchsorted(code, want), len(code) - 1)
    hit = code[pos] == want
    out[hit] = pos[hit]
    return out


def relational_design(train: Interactions, features: str) -> RelationalDesign:
    """Blocks per feature set: ``mf`` user | item; ``svdpp`` adds iu (the user's rated items, 1/√|N(u)|,
    Koren 2008 as features, Rendle 2012 §5.2); ``flipped`` adds ii (the item's raters, 1/√|N(i)|, Rendle,
    Zhang & Koren 2019); ``timesvdpp`` / ``timesvdpp-flipped`` add a user-day indicator on the left
    (timeSVD++'s day-specific user bias and factors b_{u,t}, p_u(t), Koren 2009, as FM features)."""
    _check_features(features)
    xu, xi, sizes = side_matrices(train, features)
    nu = train.n_users
    left_u = xu[:, : sizes[0] + sizes[1]]
    right = xi[:, sizes[0] + sizes[1] :]
    groups = [sizes[0], sizes[1]]
    if features.startswith("time"):
        if train.timestamps is None:
            raise DataError(
                f"bayesian-fm: features={features!r} needs rating timestamps, and the data has none"
            )
        day = train.timestamps // DAY
        keys, left_of_row = np.unique(
            np.stack([train.users.astype(np.int64), day], 1), axis=0, return_inverse=True
        )
        ns = len(keys)
        session_owner = np.concatenate([keys[:, 0], np.arange(nu)])
        user_day = sp.csr_matrix((np.ones(ns), (np.arange(ns), np.arange(ns))), shape=(ns + nu, ns))
        left = sp.hstack([left_u[session_owner], user_day], format="csr")
        groups.append(ns)
        sessions = keys.astype(np.int64)
        left_of_row = left_of_row.ravel().astype(np.int64)
    else:
        left = sp.csr_matrix(left_u)
        left_of_row = train.users.astype(np.int64)
        sessions = np.zeros((0, 2), dtype=np.int64)
    groups += [sizes[2], sizes[3]]
    return RelationalDesign(
        left, left_of_row, sp.csr_matrix(right), train.items.astype(np.int64), groups, sessions
    )


class BayesianFM(_FactorModel):
    """Bayesian FM by Gibbs sampling: ``rank`` factors, ``n_iter`` sweeps of which the first ``burn_in``
    are discarded, ``features`` ``mf`` | ``svdpp`` | ``flipped`` | ``timesvdpp`` | ``timesvdpp-flipped``; priors as libFM/myfm (α0 = β0 = γ0 = 1,
    μ0 = 0, w0 precision ``reg_0``), V initialised N(0, ``init_std``²). No learning rate, no λ to tune:
    the hyperpriors learn the regularisation, which is the point of the method (Rendle et al. 2019)."""

    name: ClassVar[str] = "bayesian-fm"
    search_space: ClassVar[SearchSpace] = {
        "rank": IntRange(4, 64, log=True),
        "n_iter": IntRange(50, 400, log=True),
        # the time sets need timestamps, which a tuner's data may lack: bench/validation_study_bfm.py tries them
        "features": Choice(FEATURE_SETS[:3]),
    }
    _json_state: ClassVar[tuple[str, ...]] = ("history_",)

    # dup-ok: hyperparameter lists share a shape across models, not a meaning (names, defaults differ)
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
        _check_features(self.features)

    def _fit(self, train: Interactions, *, on_epoch: EpochCallback | None = None) -> Self:
        """Run ``n_iter`` Gibbs sweeps over the relational design and average the kept samples into the
        factor form above (per user, per item and, with time features, per training session)."""
        from movierec.models.kernels.bfm_gibbs import entity_terms, relational_sweep, seed_kernel

        self._check_params()
        if train.n_ratings == 0:
            raise DataError("bayesian-fm: no ratings to train on")
        rng = check_random_state(self.random_state)
        seed_kernel(int(rng.integers(0, 2**31 - 1)))
        self._remember_train(train)
        design = relational_design(train, self.features)
        left, right = design.left.tocsc(), design.right.tocsc()
        left.sort_indices()
        right.sort_indices()
        n_left, n_right = left.shape[0], right.shape[0]
        f_left = left.shape[1]
        n_groups = len(design.group_sizes)
        group = np.repeat(np.arange(n_groups, dtype=np.int64), design.group_sizes)
        k, n_feat = int(self.rank), f_left + right.shape[1]
        mu = float(train.global_mean)
        y = train.ratings.astype(np.float64) - mu
        w = np.zeros(n_feat)
        v = rng.normal(0.0, float(self.init_std), (n_feat, k))
        w0 = 0.0
        lp, le, lx = left.indptr.astype(np.int64), left.indices.astype(np.int64), left.data.astype(np.float64)
        rp, re_, rx = (
            right.indptr.astype(np.int64),
            right.indices.astype(np.int64),
            right.data.astype(np.float64),
        )
        lrow, rrow = design.left_of_row, design.right_of_row
        b_l, p_l = entity_terms(lp, le, lx, 0, n_left, w, v)
        b_r, q_r = entity_terms(rp, re_, rx, f_left, n_right, w, v)
        e = y - w0 - b_l[lrow] - b_r[rrow] - np.einsum("ij,ij->i", p_l[lrow], q_r[rrow])
        mu_w, lam_w = np.zeros(n_groups), np.ones(n_groups)
        mu_v, lam_v = np.zeros((n_groups, k)), np.ones((n_groups, k))
        alpha = 1.0
        hyper = (1.0, 1.0, 1.0, 1.0, 1.0, 0.0, float(self.reg_0), 1.0)
        n_keep = int(self.n_iter) - int(self.burn_in)
        p_cat = np.zeros((n_left, n_keep * k), dtype=np.float32)
        q_cat = np.zeros((n_right, n_keep * k), dtype=np.float32)
        b_left = np.zeros(n_left)
        b_right = np.zeros(n_right)
        w0_sum = 0.0
        self.history_: list[dict[str, float]] = []
        kept = 0
        for sweep in range(1, int(self.n_iter) + 1):
            tic = time.perf_counter()
            alpha, w0 = relational_sweep(
                lp, le, lx, lrow, n_left, rp, re_, rx, rrow, n_right, group, n_groups,
                y, e, w0, w, v, mu_w, lam_w, mu_v, lam_v, alpha, hyper,
            )  # fmt: skip
            record = {"epoch": sweep, "loss": float(np.mean(e**2)), "rmse": float(np.sqrt(np.mean(e**2)))}
            if sweep > int(self.burn_in):
                bl, pl = entity_terms(lp, le, lx, 0, n_left, w, v)
                br, qr = entity_terms(rp, re_, rx, f_left, n_right, w, v)
                b_left += bl
                b_right += br
                p_cat[:, kept * k : (kept + 1) * k] = pl
                q_cat[:, kept * k : (kept + 1) * k] = qr
                w0_sum += w0
                kept += 1
            record["seconds"] = time.perf_counter() - tic
            self.history_.append(record)
            if on_epoch is not None and on_epoch(sweep, dict(record)) is False:
                break
        kept = max(kept, 1)
        scale = np.float32(1.0 / np.sqrt(kept))
        self.global_mean_ = np.asarray(mu, dtype=np.float32)
        users = design.user_entities
        p_cat = p_cat[:, : kept * k]
        p_cat *= scale
        q_cat = q_cat[:, : kept * k]
        q_cat *= scale
        self._store(b_left[users] / kept, b_right / kept + w0_sum / kept, p_cat[users], q_cat)
        n_sessions = len(design.sessions)
        self.session_keys_ = design.sessions
        self.session_bias_ = (b_left[:n_sessions] / kept).astype(np.float32)
        self.session_factors_ = p_cat[:n_sessions]
        self.n_kept_ = kept
        self.noise_precision_ = float(alpha)
        return self

    @property
    def predicts_with_time(self) -> bool:
        """True when ``predict`` uses the ratings' timestamps (the time feature sets)."""
        return str(self.features).startswith("time")

    def predict(
        self, users: np.ndarray, items: np.ndarray, *, clip: bool = True, timestamps: np.ndarray | None = None
    ) -> np.ndarray:
        """Predicted ratings; with time features and ``timestamps`` (seconds, one per pair), a pair whose
        (user, day) was a training session uses that session's bias and factors (timeSVD++'s b_{u,t}, p_u(t));
        other pairs, and calls without timestamps, use the user's day-free terms (a new day)."""
        est, _ = self._predict(users, items)
        keys = getattr(self, "session_keys_", None)
        if timestamps is not None and keys is not None and len(keys):
            users = np.asarray(users, dtype=np.int64)
            items = np.asarray(items, dtype=np.int64)
            pos = session_index(keys, users, timestamps)
            ku, ki = self._known(users, items)
            hit = ku & ki & (pos >= 0)
            if hit.any():
                s, i = pos[hit], items[hit]
                dots = np.einsum(
                    "ij,ij->i", self.session_factors_[s], self.item_factors_[i], dtype=np.float64
                )
                est[hit] = float(self.global_mean_) + self.session_bias_[s] + self.item_bias_[i] + dots
        return self._clip(est) if clip else est
