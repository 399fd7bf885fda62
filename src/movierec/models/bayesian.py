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
from movierec.models.base import EpochCallback, check_random_state
from movierec.models.groups import FactorParams
from movierec.models.mf import _FactorModel
from movierec.models.params import NON_NEGATIVE_INT, POSITIVE, Constraint, Options
from movierec.models.space import Choice, IntRange, SearchSpace

__all__ = [
    "FEATURE_SETS",
    "BayesianFM",
    "BayesianFMParams",
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
    """The FM design as relational blocks (Rendle 2013): every rating row r is one entity per block, and
    x_r is the concatenation of their feature rows. Blocks: ``user`` (user one-hot, iu), with time
    features ``session`` (the user-day indicator; one entity per training (user, day) in ``sessions``,
    plus a last, featureless entity for a day not seen in training), and ``item`` (item one-hot, ii).
    ``blocks`` are entity × feature matrices, ``of_row`` each row's entity per block, ``group_sizes`` the
    prior groups in block order."""

    blocks: list[sp.csr_matrix]
    of_row: list[np.ndarray]
    group_sizes: list[int]
    sessions: np.ndarray

    def entities(
        self, users: np.ndarray, items: np.ndarray, timestamps: np.ndarray | None
    ) -> list[np.ndarray]:
        """Each block's entity for (user, item[, timestamp]) pairs (an unseen day: the empty session)."""
        users = np.asarray(users, dtype=np.int64)
        out = [users]
        if len(self.blocks) == 3:
            pos = session_index(self.sessions, users, timestamps)
            out.append(np.where(pos >= 0, pos, len(self.sessions)))
        out.append(np.asarray(items, dtype=np.int64))
        return out


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
    Zhang & Koren 2019); ``timesvdpp`` / ``timesvdpp-flipped`` add a session block, the user-day indicator
    (timeSVD++'s day-specific user bias and factors b_{u,t}, p_u(t), Koren 2009, as FM features)."""
    _check_features(features)
    xu, xi, sizes = side_matrices(train, features)
    user = sp.csr_matrix(xu[:, : sizes[0] + sizes[1]])
    item = sp.csr_matrix(xi[:, sizes[0] + sizes[1] :])
    blocks, of_row = [user], [train.users.astype(np.int64)]
    groups = [sizes[0], sizes[1]]
    sessions = np.zeros((0, 2), dtype=np.int64)
    if features.startswith("time"):
        if train.timestamps is None:
            raise DataError(
                f"bayesian-fm: features={features!r} needs rating timestamps, and the data has none"
            )
        day = train.timestamps // DAY
        keys, session_of_row = np.unique(
            np.stack([train.users.astype(np.int64), day], 1), axis=0, return_inverse=True
        )
        ns = len(keys)
        blocks.append(sp.csr_matrix((np.ones(ns), (np.arange(ns), np.arange(ns))), shape=(ns + 1, ns)))
        of_row.append(session_of_row.ravel().astype(np.int64))
        groups.append(ns)
        sessions = keys.astype(np.int64)
    blocks.append(item)
    of_row.append(train.items.astype(np.int64))
    groups += [sizes[2], sizes[3]]
    return RelationalDesign(blocks, of_row, groups, sessions)


class BayesianFMParams(FactorParams):
    """Bayesian FM's hyperparameters, shared by ``bayesian-fm`` and its reference ``myfm:bfm``:
    ``factors`` (myfm's ``rank``), ``epochs`` Gibbs sweeps (myfm's ``n_iter``) of which the first
    ``burn_in`` are discarded, ``features`` the relational feature set (:data:`FEATURE_SETS`)."""

    _aliases: ClassVar[dict[str, str]] = {"rank": "factors", "n_iter": "epochs"}
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "burn_in": [NON_NEGATIVE_INT],
        "features": [Options(*FEATURE_SETS)],
    }

    # the factor group's defaults (FactorParams declares them)
    factors = 10
    epochs = 200
    burn_in: int = 5
    features: str = "flipped"

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.burn_in >= self.epochs:
            raise ConfigError(
                f"burn_in ({self.burn_in}) must be smaller than epochs (n_iter, the sweeps: {self.epochs})"
            )


class BayesianFM(BayesianFMParams, _FactorModel):
    """Bayesian FM by Gibbs sampling: ``factors`` (``rank``), ``epochs`` sweeps (``n_iter``) of which the
    first ``burn_in`` are discarded, ``features`` ``mf`` | ``svdpp`` | ``flipped`` | ``timesvdpp`` |
    ``timesvdpp-flipped``; priors as libFM/myfm (α0 = β0 = γ0 = 1, μ0 = 0, w0 precision ``reg_0``), V
    initialised N(0, ``init_std``²). No learning rate, no λ to tune: the hyperpriors learn the
    regularisation, which is the point of the method (Rendle et al. 2019).

    The strongest setting on ml-100k (``bench/bfm_study.py``, chosen on validation data inside the
    training split: u1 RMSE 0.888, Surprise's 5 folds 0.876) is timeSVD++-flipped; score held-out
    ratings with their timestamps so each lands on its user-day::

        model = create("bayesian-fm", features="timesvdpp-flipped", epochs=300, burn_in=20).fit(train)
        model.predict(test.users, test.items, timestamps=test.timestamps)  # evaluate() does this itself
    """

    name: ClassVar[str] = "bayesian-fm"
    can_stop_early: ClassVar[bool] = False  # its posterior means are set at the end of the sweeps
    search_space: ClassVar[SearchSpace] = {
        "factors": IntRange(4, 64, log=True),
        "epochs": IntRange(50, 400, log=True),
        # the time sets need timestamps, which a tuner's data may lack: bench/validation_study_bfm.py tries them
        "features": Choice(FEATURE_SETS[:3]),
    }
    _json_state: ClassVar[tuple[str, ...]] = ("history_",)
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {"reg_0": [POSITIVE]}

    init_std: float = 0.1
    reg_0: float = 1.0

    def _fit(self, train: Interactions, *, on_epoch: EpochCallback | None = None) -> Self:
        """Run ``epochs`` Gibbs sweeps over the relational design and average the kept samples into the
        factor form above (per user, per item and, with time features, per training session)."""
        from movierec.models.kernels.bfm_gibbs import entity_terms, relational_sweep, seed_kernel

        if train.n_ratings == 0:
            raise DataError("bayesian-fm: no ratings to train on")
        rng = check_random_state(self.random_state)
        seed_kernel(int(rng.integers(0, 2**31 - 1)))
        self._remember_train(train)
        design = relational_design(train, self.features)
        full = sp.block_diag(design.blocks, format="csc")
        full.sort_indices()
        block_feat = np.cumsum([0] + [m.shape[1] for m in design.blocks]).astype(np.int64)
        block_ent = np.cumsum([0] + [m.shape[0] for m in design.blocks]).astype(np.int64)
        of_row = np.stack([rows + block_ent[b] for b, rows in enumerate(design.of_row)]).astype(np.int64)
        n_ent = int(block_ent[-1])
        n_rows_of = np.bincount(of_row.ravel(), minlength=n_ent).astype(np.float64)
        ptr, ent, xs = (
            full.indptr.astype(np.int64),
            full.indices.astype(np.int64),
            full.data.astype(np.float64),
        )
        n_groups = len(design.group_sizes)
        group = np.repeat(np.arange(n_groups, dtype=np.int64), design.group_sizes)
        k, n_feat = int(self.factors), full.shape[1]
        mu = float(train.global_mean)
        y = train.ratings.astype(np.float64) - mu
        w = np.zeros(n_feat)
        v = rng.normal(0.0, float(self.init_std), (n_feat, k))
        w0 = 0.0
        bias, fac = entity_terms(ptr, ent, xs, 0, n_ent, w, v)
        pair = sum(fac[r] for r in of_row)
        pred = bias[of_row].sum(axis=0) + 0.5 * ((pair**2).sum(1) - sum((fac[r] ** 2).sum(1) for r in of_row))
        e = y - w0 - pred
        mu_w, lam_w = np.zeros(n_groups), np.ones(n_groups)
        mu_v, lam_v = np.zeros((n_groups, k)), np.ones((n_groups, k))
        alpha = 1.0
        hyper = (1.0, 1.0, 1.0, 1.0, 1.0, 0.0, float(self.reg_0), 1.0)
        nu, ni, ns = train.n_users, train.n_items, len(design.sessions)
        users_at, items_at = block_ent[0], block_ent[-2]
        owner = design.sessions[:, 0]
        n_keep = int(self.epochs) - int(self.burn_in)
        p_cat = np.zeros((nu + ns, n_keep * k), dtype=np.float32)  # users, then sessions (user + its day)
        q_cat = np.zeros((ni, n_keep * k), dtype=np.float32)
        b_left = np.zeros(nu + ns)
        b_right = np.zeros(ni)
        w0_sum = 0.0
        self.history_: list[dict[str, float]] = []
        kept = 0
        for sweep in range(1, int(self.epochs) + 1):
            tic = time.perf_counter()
            alpha, w0 = relational_sweep(
                ptr, ent, xs, block_feat, block_ent, of_row, n_rows_of, group, n_groups,
                y, e, w0, w, v, mu_w, lam_w, mu_v, lam_v, alpha, hyper,
            )  # fmt: skip
            record = {"epoch": sweep, "loss": float(np.mean(e**2)), "rmse": float(np.sqrt(np.mean(e**2)))}
            if sweep > int(self.burn_in):
                bias, fac = entity_terms(ptr, ent, xs, 0, n_ent, w, v)
                pu, bu = fac[users_at : users_at + nu], bias[users_at : users_at + nu]
                b_left[:nu] += bu
                p_cat[:nu, kept * k : (kept + 1) * k] = pu
                if ns:
                    d_s = fac[block_ent[1] : block_ent[1] + ns]
                    b_left[nu:] += (
                        bu[owner] + bias[block_ent[1] : block_ent[1] + ns] + (pu[owner] * d_s).sum(1)
                    )
                    p_cat[nu:, kept * k : (kept + 1) * k] = pu[owner] + d_s
                b_right += bias[items_at : items_at + ni]
                q_cat[:, kept * k : (kept + 1) * k] = fac[items_at : items_at + ni]
                w0_sum += w0
                kept += 1
            record["seconds"] = time.perf_counter() - tic
            self.history_.append(record)
            if on_epoch is not None and on_epoch(sweep, dict(record)) is False:
                break
        kept = max(kept, 1)
        scale = np.float32(1.0 / np.sqrt(kept))
        self.global_mean_ = np.asarray(mu, dtype=np.float32)
        p_cat = p_cat[:, : kept * k]
        p_cat *= scale
        q_cat = q_cat[:, : kept * k]
        q_cat *= scale
        self._store(b_left[:nu] / kept, b_right / kept + w0_sum / kept, p_cat[:nu], q_cat)
        self.session_keys_ = design.sessions
        self.session_bias_ = (b_left[nu:] / kept).astype(np.float32)
        self.session_factors_ = p_cat[nu:]
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
