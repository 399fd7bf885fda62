"""EASE: an embarrassingly shallow linear autoencoder with a closed-form solution (Steck 2019).

B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹, then scores = X·B. Only items with training
interactions enter the Gram matrix (an item with no interactions has a zero column in the full
solution, so leaving it out changes nothing and saves a cubic amount of work).

``popularity_exponent`` γ optionally rescales B's columns by each item's training count^γ
(γ < 0 damps popular items, a form of popularity-bias correction as in Steck 2019's follow-ups
and Abdollahpouri et al. 2019), and ``popularity_shrink`` κ makes it depend on the person's history: a
user or visitor with n positives gets γ·n/(n + κ) (:func:`movierec.scoring.linear.shrunk_exponent`), so
one or two given movies are not ranked with the full boost of rarely rated ones; ``user_exponent`` δ
weights each user's row by |I_u|^−δ in the Gram matrix, XᵀD_u^−2δX (δ = 0.25 is the D_u^−½ user normalisation of GF-CF, Shen et al. 2021, "How
Powerful is Graph Convolution for Recommendation?"), so heavy users do not dominate the item
co-occurrences; the model stays one linear item × item matrix.

``time_window`` W > 0 adds a time-adjacency term to the Gram matrix: each user's training items sorted
by timestamp, every pair d = 1..W positions apart counts 1/d (symmetric; weighted by the user's
|I_u|^−2δ like their Gram row), and G = XᵀD_u^−2δX + c·T with c = ``time_weight``. The 1/d pair weights are
those of sequential rules and session kNN (Ludewig & Jannach 2018, "Evaluation of session-based
recommendation algorithms"); the closed form on top is Steck 2019's, unchanged, so B is still one item ×
item matrix (fold-in, export and serving run as for plain EASE). It helps where people rate in bursts
(MovieLens's UI): items rated next to each other co-occur in the held-out part too.

Given ``item_features`` (``compare --item-features genres,tags,year``), EASE becomes collective EASE
(Jeunen, Van Balen & Goethals 2020, "Closed-Form Models for Collaborative Filtering with
Side-Information"): each feature is one more row of X, scaled by √c/√(items having it) with c =
``feature_weight``, so items sharing a genre or a tag co-occur in the Gram matrix as items sharing users
do; B stays one item × item matrix, scored, folded in and served as before.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import Tags, check_indices, topk
from movierec.models.blas import safe_blas
from movierec.models.kernels.accel import woodbury_diag, woodbury_weights
from movierec.models.params import NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, ActsWhen, Constraint, Interval
from movierec.models.space import FloatRange, SearchSpace
from movierec.models.weighting import WeightedRecommender, weighted_csr
from movierec.scoring.linear import active_log_counts, shrink_scores

__all__ = [
    "EASE",
    "LinearItemModel",
    "UserEASE",
    "ease_solve",
    "ease_weights",
    "feature_rows",
    "time_adjacency",
]


def ease_weights(
    x: sp.spmatrix | np.ndarray, l2: float, dropout: float = 0.0, extra: sp.spmatrix | None = None
) -> np.ndarray:
    """The EASE item × item weight matrix (float32, zero diagonal) for a users × items matrix ``x``
    (:func:`ease_solve`'s B)."""
    return ease_solve(x, l2, dropout, extra)[0]


def time_adjacency(
    users: np.ndarray,
    items: np.ndarray,
    timestamps: np.ndarray,
    n_items: int,
    window: int,
    user_weights: np.ndarray | None = None,
) -> sp.csr_matrix:
    """The symmetric items × items time-adjacency matrix T: each user's interactions sorted by timestamp
    (ties by item id, so the row order of the data does not matter), and every pair of their items d = 1..``window``
    positions apart adds 1/d (times ``user_weights[u]`` when given) to T[a, b] and T[b, a]
    (the 1/d weights of sequential rules, Ludewig & Jannach 2018)."""
    order = np.lexsort((items, timestamps, users))
    u_s, i_s = users[order], items[order]
    rows, cols, vals = [], [], []
    for d in range(1, int(window) + 1):
        if d >= len(u_s):
            break
        same = u_s[d:] == u_s[:-d]
        a, b = i_s[:-d][same], i_s[d:][same]
        w = np.full(len(a), 1.0 / d) if user_weights is None else user_weights[u_s[d:][same]] / d
        rows += [a, b]
        cols += [b, a]
        vals += [w, w]
    if not rows:
        return sp.csr_matrix((n_items, n_items), dtype=np.float64)
    t = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_items, n_items)
    )
    t.sum_duplicates()
    return t


def ease_solve(
    x: sp.spmatrix | np.ndarray, l2: float, dropout: float = 0.0, extra: sp.spmatrix | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(B, diag P)``: the EASE weight matrix (float32, zero diagonal) for a users × items matrix ``x``
    and the diagonal of P = (XᵀX + Λ)⁻¹ (float64), from which P = (I − B)·diag(P) can be rebuilt.

    The penalty is Λ = λI, plus p/(1−p)·diag(XᵀX) when ``dropout`` p > 0 (the emphasised
    denoising variant, EDLAE; Steck 2020), which regularises popular items more. P = (XᵀX + Λ)⁻¹
    comes from a Cholesky solve over items or, when there are fewer users than items, from the
    Woodbury identity P = D − DXᵀ(I + XDXᵀ)⁻¹XD with D = Λ⁻¹, which needs only a users × users
    solve (XᵀX has rank ≤ n_users) and is exact up to rounding. Then B = −P·diag(1/diag P), zero diagonal.

    ``extra`` (a symmetric items × items matrix, e.g. :func:`time_adjacency`'s c·T) is added to XᵀX; the
    Gram matrix is then no longer of rank ≤ n_users, so the item-side solve runs, and as such a term
    need not keep G + Λ positive definite, an LU inverse takes over where Cholesky fails. The item-side
    P comes from the Cholesky factor's inverse (:func:`_cholesky_inverse`).
    """
    x = sp.csr_matrix(x, dtype=np.float64)
    n_users, n_items = x.shape
    lam = np.full(n_items, float(l2))
    if dropout > 0:
        lam += dropout / (1.0 - dropout) * np.asarray(x.multiply(x).sum(axis=0)).ravel()
    if n_users < n_items and extra is None:
        d = 1.0 / lam
        y = sp.csr_matrix(x @ sp.diags(d))  # X·D
        k = np.asarray((y @ x.T).toarray())
        k[np.diag_indices_from(k)] += 1.0
        with safe_blas(n_users):
            chol = sla.cho_factor(k, lower=False, overwrite_a=True, check_finite=False)
            k_inv = sla.cho_solve(chol, np.eye(n_users), overwrite_b=True, check_finite=False)
        ky = np.ascontiguousarray(np.asarray(y.T @ k_inv).T)  # K⁻¹XD, users × items
        yc = sp.csc_matrix(y)
        yc.sort_indices()
        diag = woodbury_diag(yc.indptr, yc.indices, yc.data, ky)
        return woodbury_weights(yc.indptr, yc.indices, yc.data, ky, 1.0 / (d - diag)), d - diag
    gram = np.asarray((x.T @ x).toarray())
    if extra is not None:
        _add_sparse(gram, extra)
    gram[np.diag_indices_from(gram)] += lam
    with safe_blas(n_items):  # a side of 16,000 crashed OpenBLAS's threaded AVX-512 kernels (models/blas.py)
        p = _inverse_with_extra(gram) if extra is not None else _inverse_spd(gram)
    diag = np.diag(p).copy()
    p /= -diag[None, :]
    p[np.diag_indices_from(p)] = 0.0
    return p.astype(np.float32), diag


def _add_sparse(dense: np.ndarray, extra: sp.spmatrix) -> None:
    """``dense += extra`` through ``extra``'s stored entries (duplicates summed first, as ``toarray`` sums
    them), without an items × items float64 copy of it: the same sums, one dense matrix less in memory."""
    m = sp.csr_matrix(extra, dtype=np.float64)
    m.sum_duplicates()
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    dense[rows, m.indices] += m.data  # (row, column) pairs are distinct after sum_duplicates


def _cholesky_inverse(gram: np.ndarray, *, overwrite: bool) -> np.ndarray | None:
    """(G + Λ)⁻¹ from the Cholesky factor, ``None`` where ``gram`` is not positive definite: LAPACK potrf
    (cho_factor's own factor, upper), then potri for one triangle, mirrored (:func:`_mirror_upper`). potri
    forms U⁻¹U⁻ᵀ in about n³/3 + n³/3 flops where solving against the identity (cho_solve, what EASE did
    before) took 2n³: 2.05 → 0.61 s at 3,706 items (ml-1m's count), 5,720 items on ml-latest-small with the
    time term 5.3 → 2.6 s a fit; P agrees with that solve to rounding (≈2e-15 relative), so B moves by a
    float32 rounding here and there. ``overwrite``: ``gram`` may be destroyed (else it is kept, for LU)."""
    from scipy.linalg import lapack

    factor, info = lapack.dpotrf(gram, lower=False, overwrite_a=overwrite, clean=False)
    if info != 0:
        return None
    p, info = lapack.dpotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        return None
    _mirror_upper(p)
    return np.asarray(p)


def _inverse_spd(gram: np.ndarray) -> np.ndarray:
    """(G + Λ)⁻¹ of plain EASE's item-side solve (as many users as items or more: ml-1m and up), ``gram``
    overwritten; ``LinAlgError`` where it is not positive definite, as ``cho_factor`` raised."""
    p = _cholesky_inverse(gram, overwrite=True)
    if p is None:
        raise np.linalg.LinAlgError("EASE: the Gram matrix is not positive definite")
    return p


def _inverse_with_extra(gram: np.ndarray) -> np.ndarray:
    """(G + c·T + Λ)⁻¹ for :func:`ease_solve` with an extra term: from the Cholesky factor, or, as c·T need
    not keep the matrix positive definite, an LU inverse where the factor fails."""
    p = _cholesky_inverse(gram, overwrite=False)  # gram kept for the LU fallback
    if p is not None:
        return p
    try:  # G + c·T + Λ indefinite: still invertible in practice
        return np.linalg.inv(gram)  # (scipy's inv crashed here on an indefinite matrix)
    except np.linalg.LinAlgError as exc:
        raise DataError(f"EASE: the Gram matrix with the extra term is singular ({exc})") from exc


def _mirror_upper(p: np.ndarray, block: int = 1024) -> None:
    """Copy the square ``p``'s upper triangle onto its lower one, in place (potri fills one triangle), a
    block of rows at a time: no n × n temporary."""
    n = p.shape[0]
    for start in range(0, n, block):
        stop = min(start + block, n)
        p[start:stop, :start] = p[:start, start:stop].T
        square = p[start:stop, start:stop]
        low = np.tril_indices(stop - start, -1)
        square[low] = square.T[low]


def feature_rows(item_features: Any, n_items: int, weight: float) -> sp.csr_matrix | None:
    """Item features as extra rows of EASE's input, collective EASE (Jeunen, Van Balen & Goethals 2020,
    "Closed-Form Models for Collaborative Filtering with Side-Information"): one row per feature,
    features × items, so the Gram matrix becomes XᵀX + c·F̃F̃ᵀ and items that share features co-occur as
    items that share users do. Each feature's column of F is scaled by 1/√(items having it), so a broad
    genre (Drama) adds no more co-occurrence mass than a rare tag; ``weight`` is c (``None``: no features,
    or c = 0)."""
    from movierec.features import side_matrix

    side, _ = side_matrix(item_features, n_items, "item_features")
    if side is None or weight == 0 or side.shape[1] == 0:
        return None
    having = np.asarray((side > 0).sum(axis=0), dtype=np.float64).ravel()
    scaled = side.astype(np.float64) @ sp.diags(np.sqrt(weight) / np.sqrt(np.maximum(having, 1.0)))
    return sp.csr_matrix(scaled.T)


def dense_guard(
    owner: str, counts: np.ndarray, limit: int, *, what: str, option: str, instead: str, cost: str = ""
) -> np.ndarray:
    """The indices with training interactions (``counts > 0``), checked before a dense ``what`` × ``what``
    float64 matrix is built: a DataError when there are none, a ConfigError naming ``option`` (and about how
    many GiB the matrix and its factorisation would take) when there are more than ``limit``. ``cost``
    replaces the GiB clause for a model whose limit guards its time instead (SLIM, RP3beta)."""
    active = np.flatnonzero(counts > 0).astype(np.int32)
    if len(active) == 0:
        raise DataError(f"{owner}: no {what} has a training interaction")
    if len(active) > limit:
        gib = len(active) ** 2 * 8 * 2 / 2**30
        why = cost or f"the dense {what}s × {what}s matrix would need about {gib:.1f} GiB"
        raise ConfigError(
            f"{owner}: {len(active)} {what}s with interactions exceed {option}={limit} ({why}); raise "
            f"{option} or use {instead}"
        )
    return active


class LinearItemModel(WeightedRecommender):
    """A linear item × item model: scores = X_u · W over the items with training interactions.

    ``user_items_`` is the weighted users × items matrix, ``active_items_`` the items with training
    interactions and ``weights_`` W over them (dense for EASE, sparse for RP3beta and SLIM); items
    without training interactions score 0, as in the full closed form.
    """

    item_vectors: ClassVar[bool | None] = False

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

    def item_embeddings(self) -> np.ndarray | None:
        return None

    def similar_items(self, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The items W links ``item`` to most strongly: its row of W (how much liking ``item`` adds to
        each other item's score); items without training interactions have none."""
        from movierec.scoring.linear import weight_row

        self._check_fitted()
        item = int(check_indices(item, self.n_items_, "item")[0])
        pos = int(np.searchsorted(self.active_items_, item))
        linked = pos < len(self.active_items_) and self.active_items_[pos] == item
        w = sp.csr_matrix(self.weights_) if sp.issparse(self.weights_) else self.weights_
        sims = weight_row(w, self.active_items_, pos if linked else -1, self.n_items_, 0.0)
        sims[item] = -np.inf
        idx, vals = topk(sims[None, :], k)
        return idx[0], vals[0]


class EASE(LinearItemModel):
    """EASE^R with L2 weight ``l2`` (λ), optional emphasised ``dropout`` (EDLAE, Steck 2020),
    ``popularity_exponent`` γ (scores of item i scaled by its training count^γ; 0 = plain EASE) and
    ``user_exponent`` δ (user rows weighted |I_u|^−δ in the Gram matrix; 0 = plain EASE), and an opt-in
    time-adjacency term: ``time_window`` W (0 = off, the default) and ``time_weight`` c add c·T to the
    Gram matrix, T[a, b] = Σ_u |I_u|^−2δ · Σ 1/d over user u's training items a, b that are d ≤ W apart in
    time order (Ludewig & Jannach 2018's sequential-rule weights inside Steck 2019's closed form; needs
    timestamps, else a DataError); refuses above ``max_items`` items with interactions.

    Memory and time grow with the square and cube of the number of active items, so large
    catalogues get a clear ConfigError instead of an exhausted machine.

    Defaults from ``bench/validation_study.py ease --protocol mlls`` (ml-latest-small, ``compare``'s default
    split, validation folds cut from its training part): λ 50, γ −0.3, δ 0.25 scored validation NDCG@10
    0.1950 against 0.1795 for the old defaults (λ 500, γ 0, δ 0) and 0.1902 for the best δ = 0 point
    (λ 300, γ −0.2). ``EASE(l2=500, popularity_exponent=0, user_exponent=0)`` is plain EASE^R.

    ``feature_weight`` c acts only when ``fit`` gets item features (2.0 by default). On ml-latest-small
    with genres, tags and years, ``bench/validation_study.py ease --protocol mlls --seeds 1,2,3
    --item-features genres,tags,year`` chose c 2 with λ 50: validation NDCG@10 0.1848 against 0.1812
    without features (+2.0%); on the test part of ``compare``'s default split it reads 0.2819 against
    0.2809 (+0.4%, inside the 95% interval of ±0.019). On ml-100k (genres and years, the tuned point) it
    gains at most 0.4% on validation (c 30).

    ``popularity_shrink`` κ (20 by default; 0 = off, a fixed γ as before) scores a person with n positives
    (a training user's row, a visitor's given movies) with γ·n/(n + κ) instead of γ. γ −0.3 was chosen on
    known users (20+ ratings); with one or two given movies the scores are one noisy row of B, and the full
    boost of rarely rated movies lifted 1996 films co-rated in the same sessions (``recommend --rated "Toy
    Story=5"`` listed Eraser and Executive Decision third and fourth). ``bench/visitor_gamma_study.py``
    (held-out people who give n of their positives, seeds 1…5, validation only): κ 20 gains 22% NDCG@10 on
    the mean over n ≤ 5 on ml-latest-small (0.3481 against 0.2842, cross-fitted) and 16% on ml-100k
    (0.4229 against 0.3634), loses at no n, and known users' validation NDCG@10 reads 0.1826 against
    0.1812 (``validation_study.py --protocol mlls --seeds 1,2,3``'s splits).

    The time term stays off by default: on ml-latest-small its best validation point (λ 100, W 20, c 0.5)
    scored 0.1958 against the defaults' 0.1950, too little to make every fit need timestamps. On ml-100k
    (``bench/validation_study.py ease``, every rating a positive) λ 60, γ −0.1, δ 0.25 with W 10, c 1
    scored 0.2744 against 0.2710 without it (the tuned row of docs/results.md).
    """

    name: ClassVar[str] = "ease"
    search_space: ClassVar[SearchSpace] = {
        "l2": FloatRange(1.0, 10_000.0, log=True),
        "popularity_exponent": FloatRange(-0.5, 0.0),
        "user_exponent": FloatRange(0.0, 0.5),
        # acts only with time_window > 0 (off by default, as data may lack timestamps): tune searches it
        # only when --params sets a window (acts_when)
        "time_weight": FloatRange(0.0, 2.0),
        # acts only with item features: tune searches it only when given --item-features
        "feature_weight": FloatRange(0.0, 10.0),
    }
    feature_params: ClassVar[tuple[str, ...]] = ("feature_weight",)
    #: parameter → the switch without which it acts on nothing (tune leaves it out then; a note says so)
    acts_when: ClassVar[dict[str, ActsWhen]] = {"time_weight": ActsWhen("time_window")}
    tags: ClassVar[Tags] = Tags(fold_in="neighbours", serving="linear", uses_features=True)
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "l2": [POSITIVE],
        "popularity_exponent": [Interval(float, -2, 2)],
        "user_exponent": [Interval(float, 0, 1)],
        "time_window": [NON_NEGATIVE_INT],
        "time_weight": [NON_NEGATIVE],
        "feature_weight": [NON_NEGATIVE],
        "popularity_shrink": [NON_NEGATIVE],
    }

    l2: float = 50.0
    dropout: float = 0.0
    popularity_exponent: float = -0.3
    max_items: int = 30_000
    user_exponent: float = 0.25  # after max_items: positional calls from before it existed keep their meaning
    time_window: int = 0
    time_weight: float = 1.0
    feature_weight: float = 2.0  # acts only when fit is given item features
    popularity_shrink: float = 20.0  # κ: a person with n positives is scored with γ·n/(n + κ); 0 = a fixed γ

    @classmethod
    def load(cls, path: Any) -> Self:
        """:meth:`BaseRecommender.load`; a model saved before ``popularity_shrink`` existed scored every
        person with the fixed γ, and keeps doing so (κ 0) rather than taking today's default."""
        from movierec.models.base import saved_model_meta

        model = super().load(path)
        if "popularity_shrink" not in saved_model_meta(path).get("params", {}):
            model.popularity_shrink = 0.0
        return model

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """X_u · B, each user's columns scaled for their history (``popularity_shrink``, n = their training
        interactions); items without training interactions score 0."""
        out = super().score(users)
        kappa, gamma = float(self.popularity_shrink), float(self.popularity_exponent)
        if kappa != 0 and gamma != 0:
            n = np.diff(self.user_items_.indptr)[self._check_users(users)]
            shrink_scores(out, self.active_items_, self._log_counts(), gamma, kappa, n)
        return out if items is None else out[:, np.asarray(items)]

    def _log_counts(self) -> np.ndarray:
        """:func:`active_log_counts` of the fitted interactions, computed once per fit: ``score`` runs per
        block of users, and the column counts take a CSC copy of X (0.25 s at 10M interactions, 138k users;
        a full ranking of ml-20m's users scores some 140 blocks)."""
        cached = self.__dict__.get("_log_counts_of")
        if cached is None or cached[0] is not self.user_items_:
            cached = (self.user_items_, active_log_counts(self.user_items_, self.active_items_))
            self.__dict__["_log_counts_of"] = cached
        return cached[1]

    def _fit(self, train: Interactions, *, item_features: Any = None) -> Self:
        """Solve the closed form over the items that have training interactions (with ``item_features``:
        their rows join the Gram matrix, :func:`feature_rows`)."""
        gamma, delta = self.popularity_exponent, self.user_exponent
        window, c = int(self.time_window), float(self.time_weight)
        if window > 0 and train.timestamps is None:
            raise DataError(
                f"EASE: time_window={window} needs timestamps and these interactions have none; "
                "set time_window=0 (the default) or load data with a timestamp column"
            )
        x = weighted_csr(train, self.weighting, self.half_life_days)
        counts = np.diff(x.tocsc().indptr)  # training interactions per item
        active = dense_guard(
            "EASE", counts, self.max_items, what="item", option="max_items", instead="als/bpr"
        )
        self._remember_train(train)
        self.user_items_ = x
        self.active_items_ = active
        xa = x[:, active]
        n_u = np.maximum(np.diff(x.indptr), 1).astype(np.float64)
        if delta != 0:  # the Gram matrix sees user rows weighted |I_u|^-δ; scoring keeps X as it is
            xa = sp.csr_matrix(sp.diags(n_u ** -float(delta)) @ xa)
        side = feature_rows(item_features, train.n_items, float(self.feature_weight))
        if side is not None:  # collective EASE: feature rows stacked under the users' rows
            xa = sp.vstack([xa, side[:, active]], format="csr")
        extra = None
        if window > 0 and c > 0:
            assert train.timestamps is not None
            t = time_adjacency(
                np.asarray(train.users), np.asarray(train.items), train.timestamps, self.n_items_, window,
                n_u ** (-2.0 * float(delta)) if delta != 0 else None,
            )  # fmt: skip
            extra = c * t[active][:, active]
        self.weights_ = ease_weights(xa, float(self.l2), float(self.dropout), extra)
        if gamma != 0:
            self.weights_ *= (counts[active].astype(np.float64) ** gamma).astype(np.float32)[None, :]
        return self


class UserEASE(WeightedRecommender):
    """User-based EASE: the EASE closed form on the users × users Gram matrix XXᵀ (Steck 2019's model
    with the roles of users and items swapped), scores = BᵀX with B = I − P·diag(1/diag P),
    P = (XXᵀ + λI)⁻¹, zero diagonal: each user is reconstructed from the *other users'* rows.

    Item-based EASE explains a user's items by co-occurring items; this explains a user by similar
    users, the user-kNN view with learned weights instead of cosine neighbours, and it ranks
    differently enough to help in :class:`~movierec.models.ensemble.Ensemble`. Cost grows with the
    cube of the users with interactions (ml-100k's 943 or ml-latest-small's 610 solve in well under a
    second), hence ``max_users``.

    A person not in training is folded in exactly, without refitting: adding their row x to X borders
    the Gram matrix G = XXᵀ + λI with g = Xx and γ = x·x + λ, and the block inverse (Schur complement
    s = γ − gᵀPg) gives the new column of P as (−Pg/s, 1/s), so their column of B is exactly Pg, and
    their scores are Xᵀ(Pg): what refitting with them added would give them, in O(users² + nnz).
    P = (I − B)·diag(P) is rebuilt from B and ``inverse_diag_`` (diag P), kept from ``fit``
    (:mod:`movierec.scoring.user_linear`, the same code the exported artifact runs). The visitor's row holds
    1 per positive, each rating over their mean rating with ``weighting="rating"`` (as a user's row), and
    1 with ``"recency"`` (an interaction made now), so it equals the refit in which they rated at the
    newest training time.

    Default λ 300 from ``bench/validation_study.py user-ease --protocol mlls`` (ml-latest-small,
    ``compare``'s default split, validation cut from its training part).
    """

    item_vectors: ClassVar[bool | None] = False

    name: ClassVar[str] = "user-ease"
    tags: ClassVar[Tags] = Tags(fold_in="neighbours", serving="user-linear")
    search_space: ClassVar[SearchSpace] = {"l2": FloatRange(1.0, 10_000.0, log=True)}
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "l2": [Interval(float, 0, None, closed="neither")],
        "max_users": [Interval(int, 1, None)],
    }

    l2: float = 300.0
    max_users: int = 30_000

    def _fit(self, train: Interactions) -> Self:
        """Solve the closed form over the users with training interactions."""
        x = weighted_csr(train, self.weighting, self.half_life_days)
        counts = np.diff(x.indptr)  # training interactions per user
        active = dense_guard(
            "user-ease", counts, self.max_users, what="user", option="max_users", instead="ease"
        )
        self._remember_train(train)
        self.user_items_ = x
        self.active_users_ = active
        self._solve()
        return self

    def _solve(self) -> None:
        # EASE on Xᵀ (items × active users) gives B with Xᵀ ≈ XᵀB, i.e. X ≈ BᵀX; row u of Bᵀ weighs the others
        b, diag = ease_solve(sp.csr_matrix(self.user_items_[self.active_users_].T), float(self.l2))
        self.weights_ = np.ascontiguousarray(b.T)
        self.inverse_diag_ = np.asarray(diag, dtype=np.float64)  # diag P: the fold-in rebuilds P from B

    def _after_load(self) -> None:
        if not hasattr(self, "inverse_diag_") and hasattr(self, "user_items_"):
            self._solve()  # saved before the fold-in kept diag P

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
