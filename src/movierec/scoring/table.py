"""The table family: every training user's scores over every item, computed once by the model itself.

For models whose scores have no compact serving form: Slope One's (Lemire & Maclachlan 2005) pairwise
deviations, NMF's factors (Luo et al. 2014; biased too), co-clustering's cluster means (George & Merugu
2005) and user-based k-NN (no item neighbour lists); the VAEs have their own family
(:mod:`movierec.scoring.vae`). The artifact stores the model's raw scores for the
users it was trained on (for a rating predictor: its unclipped predicted ratings, which the artifact
ranks by the same support-shrunk score as the model); the scores are the model's own, so the lists
served are exactly the model's. It costs 4 bytes per user and item (:func:`memory_bytes`): 24 MB for
ml-latest-small, 90 MB for ml-1m; above :data:`MAX_BYTES` export refuses and names what to use instead.

Each places a person not in training by its own rule, from a few arrays stored beside the
table (``visitor_*``; :func:`visitor_part`), the same code for ``score_new_user`` and the artifact:

- Slope One: r̂_j = μ_v + the mean, over the visitor's movies i rated alongside j by some training user, of
  dev(j, i), the mean difference r_j − r_i among those users (Lemire & Maclachlan 2005 built the scheme
  for exactly this: a new user needs no training). dev is computed for the visitor's few movies from
  the training ratings, stored as CSR (0.8 MB for ml-latest-small), not the dense items × items matrix.
- NMF: the visitor's factors p ≥ 0 minimise Σ (r_i − p·q_i)² + n·λ_pu·|p|² with the item factors fixed,
  the objective Luo et al.'s multiplicative updates descend for a training user (non-negative least
  squares, solved exactly by ``scipy.optimize.nnls``); biased NMF also solves for the visitor's bias b_v
  (residuals r_i − μ − b_i, penalty n·λ_bu·b_v², the objective of its per-rating SGD).
- Co-clustering: μ_v is the visitor's mean; their user cluster is the one whose prediction errs least on
  their ratings (the algorithm's own reassignment step), then r̂_j = C̄_c,ic + (μ_v − C̄_c) + (μ_j − C̄_ic).
- User-based k-NN: the visitor's similarity to every training user by the kernel that built the lists
  (the visitor as one more row of the training ratings), then Surprise's rule over the first k of their
  best neighbours who rated each movie (:func:`_user_knn`).

A movie without training ratings gets what the model itself gives a known user there (Surprise's
estimate when the item is unknown): μ, plus the visitor's own bias b_v where the model has biases
(biased NMF, knn-baseline), as the model adds a training user's b_u. Each rule returns its b_v
(0 for the others) and :meth:`Scorer.fold_in` applies this one fallback.

An artifact written before these rules names none (``visitors: "popularity"``): :meth:`Scorer.fold_in`
returns ``None`` and the API answers with popularity, saying why.
Where the model has item vectors (NMF's factors) they are stored too, and
'similar' ranks by their cosine, as for the factor family; a k-NN model's 'similar' reads its
similarity rows from the training ratings (:class:`movierec.models.knn.RatingSimilarity`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError
from movierec.scoring import base
from movierec.scoring.base import Exported
from movierec.scoring.neighbours import csr_from

__all__ = [
    "MAX_BYTES",
    "VISITOR_RULES",
    "Scorer",
    "VisitorRule",
    "check_size",
    "check_table_before_training",
    "export",
    "memory_bytes",
    "visitor_part",
]

#: the largest table export writes (1 GiB: ~16k users × 16k items)
MAX_BYTES = 2**30
_BATCH = 256  # users scored per call while the table is built

#: a visitor rule: (the ``visitor_*`` arrays, the visitor's item indices, their ratings) → (predicted ratings
#: over every item, the visitor's bias b_v: what an item without training ratings gets on top of μ)
VisitorRule = Callable[[dict[str, np.ndarray], np.ndarray, np.ndarray], tuple[np.ndarray, float]]


def memory_bytes(n_users: int, n_items: int) -> int:
    """Bytes of the float32 users × items table."""
    return 4 * int(n_users) * int(n_items)


def check_size(name: str, n_users: int, n_items: int) -> None:
    """Refuse, in one line, a table above :data:`MAX_BYTES` (before a long computation)."""
    size = memory_bytes(n_users, n_items)
    if size > MAX_BYTES:
        raise ConfigError(  # one line of <= 160 columns up to 6-digit counts (it was 249)
            f"cannot export {name!r} for {n_users:,} users × {n_items:,} items: its table of scores would be "
            f"{size / 2**30:.1f} GiB (limit {MAX_BYTES / 2**30:.0f}); export svd, ease, itemknn or als"
        )


def check_table_before_training(model: Any, train: Any) -> None:
    """Refuse an unfitted model that would be served as a table too large for ``train`` (its users ×
    items), before training: ``export`` and ``recommend`` would otherwise train, then refuse."""
    from movierec.scoring import family_of

    if family_of(model) == "table":
        check_size(str(getattr(model, "name", model)), train.n_users, train.n_items)


def _raw_scores(model: Any, users: np.ndarray) -> np.ndarray:
    """The model's raw scores for ``users``: a rating predictor's unclipped predicted ratings (the
    artifact applies the ranking rule), any other model's ranking score."""
    from movierec.models.base import ExplicitRecommender

    if isinstance(model, ExplicitRecommender):
        return np.asarray(model.predicted_scores(users), dtype=np.float32)
    return np.asarray(model.score(users), dtype=np.float32)


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    check_size(str(model.name), n_users, n_items)
    table = np.empty((n_users, n_items), dtype=np.float32)
    for start in range(0, n_users, _BATCH):
        users = np.arange(start, min(start + _BATCH, n_users), dtype=np.int32)
        table[start : start + len(users)] = _raw_scores(model, users)
    # an item a model cannot score (-inf, NaN; none scores +inf) ranks last, as in the model's own lists
    lowest = float(np.finfo(np.float32).min)
    table[~np.isfinite(table)] = lowest
    arrays: dict[str, Any] = {"table_scores": table}
    get = getattr(model, "similar_vectors", None) or getattr(model, "item_embeddings", None)
    vectors = get() if callable(get) else None
    if vectors is not None and np.shape(vectors)[0] == n_items and np.all(np.isfinite(vectors)):
        arrays["item_vectors"] = np.ascontiguousarray(vectors, dtype=np.float32)  # NMF: 'similar'
    from movierec.scoring.knn import similar_spec

    visitor_arrays, visitor_spec = visitor_part(model)
    spec = {"memory_bytes": memory_bytes(n_users, n_items), **visitor_spec, **similar_spec(model)}
    return {**arrays, **visitor_arrays}, spec


def visitor_part(model: Any) -> Exported:
    """What a table model's visitor rule reads: its ``visitor_*`` arrays and the spec naming the rule
    (``"popularity"``, and no arrays, for a model without one)."""
    rule = getattr(model, "visitor_rule", None)
    if rule not in VISITOR_RULES:
        return {}, {"visitors": "popularity"}
    arrays = {f"visitor_{k}": v for k, v in model.visitor_arrays().items()}
    arrays["visitor_item_known"] = np.asarray(model.item_known_, dtype=np.int8)
    arrays["visitor_global_mean"] = np.asarray(float(model.global_mean_))
    spec = {"visitors": rule, "top": float(model.rating_scale_[1])}
    return arrays, spec


def _visitor_mean(a: dict[str, np.ndarray], r: np.ndarray) -> float:
    """μ_v, the visitor's mean rating; the training mean for someone who rated nothing (``raw_new_user``
    with no movies, which explanations' leave-one-out asks for: numpy's mean of nothing printed "Mean of
    empty slice" and "invalid value encountered in scalar divide" above a --explain list)."""
    return float(r.mean()) if len(r) else float(a["visitor_global_mean"])


def _slope_one(a: dict[str, np.ndarray], items: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, float]:
    """μ_v + mean over the visitor's co-rated movies i of dev(j, i) (Lemire & Maclachlan 2005), dev from
    the training ratings X: Σ_u (r_uj − r_ui) / #u over the users u who rated both. No bias (b_v = 0)."""
    n_items = len(a["visitor_item_known"])
    x = csr_from(a, "visitor_ratings", (len(a["visitor_ratings_indptr"]) - 1, n_items))
    b = x.copy()
    b.data[:] = 1.0
    xr, br = x[:, items], b[:, items]  # users × the visitor's movies
    freq = np.asarray((b.T @ br).toarray(), dtype=np.float64)
    diff = np.asarray((x.T @ br).toarray(), dtype=np.float64) - np.asarray((b.T @ xr).toarray())
    co = freq > 0
    dev = np.divide(diff, freq, out=np.zeros_like(diff), where=co).sum(axis=1)
    n = co.sum(axis=1)
    return _visitor_mean(a, r) + np.divide(dev, n, out=np.zeros(n_items), where=n > 0), 0.0


def _nmf(a: dict[str, np.ndarray], items: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, float]:
    """p ≥ 0 minimising Σ (r_i − p·q_i)² + n·λ_pu·|p|² (q fixed; Luo et al. 2014's objective), then p·q
    (b_v = 0). Biased NMF (item biases stored): p ≥ 0 and b_v minimising Σ (r_i − μ − b_i − b_v − p·q_i)²
    + n·λ_pu·|p|² + n·λ_bu·b_v², then μ + b_v + b_j + p·q_j, and b_v is returned for the movies without
    training ratings; b_v = b⁺ − b⁻ with both ≥ 0 (at the optimum one is 0), so NNLS solves it exactly too."""
    from scipy.optimize import nnls

    q = a["visitor_item_factors"].astype(np.float64)
    f, n = q.shape[1], len(items)
    ridge = np.sqrt(n * float(a["visitor_reg_pu"])) * np.eye(f)
    if "visitor_item_bias" not in a:
        p, _ = nnls(np.vstack([q[items], ridge]), np.concatenate([r, np.zeros(f)]))
        return q @ p, 0.0
    mu, bi = float(a["visitor_global_mean"]), a["visitor_item_bias"].astype(np.float64)
    ones = np.ones((n, 1))
    design = np.block(
        [
            [q[items], ones, -ones],
            [ridge, np.zeros((f, 2))],
            [np.zeros((2, f)), np.sqrt(n * float(a["visitor_reg_bu"])) * np.eye(2)],
        ]
    )
    x, _ = nnls(design, np.concatenate([r - mu - bi[items], np.zeros(f + 2)]))
    b_v = float(x[f] - x[f + 1])
    return mu + b_v + bi + q @ x[:f], b_v


def _co_clustering(a: dict[str, np.ndarray], items: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, float]:
    """The visitor's user cluster is the one whose predictions err least on their ratings (George &
    Merugu 2005's reassignment step), μ_v their mean; r̂_j = C̄_c,ic + (μ_v − C̄_c) + (μ_j − C̄_ic). No
    bias (b_v = 0)."""
    ci, mean_i = a["visitor_item_cluster"], a["visitor_item_mean"]
    avg_u, avg_i, avg_co = (
        a["visitor_cluster_user_mean"],
        a["visitor_cluster_item_mean"],
        a["visitor_cocluster_mean"],
    )
    mu = _visitor_mean(a, r)
    item_part = mean_i - avg_i[ci]  # μ_j − C̄_ic
    pred = avg_co[:, ci[items]] + (mu - avg_u)[:, None] + item_part[items][None, :]  # clusters × rated
    c = int(np.argmin(((pred - r[None, :]) ** 2).sum(axis=1)))
    return avg_co[c, ci] + (mu - avg_u[c]) + item_part, 0.0


def _user_knn_neighbours(
    a: dict[str, np.ndarray], x: sp.csr_matrix, items: np.ndarray, r: np.ndarray, mu: float, b_v: float
) -> tuple[np.ndarray, sp.csc_matrix]:
    """The visitor's similarity to every training user of ``x`` (users × items ratings), by the kernel that
    built the model's lists: the visitor joins ``x`` as one more row (ratings, or residuals r − μ − b_u − b_i
    under pearson_baseline, the visitor's b_u being ``b_v``). Also returns that matrix by item (CSC)."""
    from movierec.models.kernels import accel

    n_users = x.shape[0]
    _, kind, _, _, min_support, _ = (int(v) for v in a["visitor_settings"])
    row = sp.csr_matrix((r, (np.zeros(len(items), np.int64), items)), shape=(1, x.shape[1]))
    both = sp.vstack([x.astype(np.float64), row]).tocsr()
    if kind == accel.PEARSON_BASELINE:
        rows = np.repeat(np.arange(n_users + 1), np.diff(both.indptr))
        bu = np.r_[a["visitor_user_bias"], b_v]
        both.data = both.data - mu - bu[rows] - a["visitor_item_bias"][both.indices]
    by_item = both.tocsc()
    by_item.sort_indices()
    sims = accel.similarity_row(
        n_users, both.indptr.astype(np.int64), both.indices, both.data, by_item.indptr.astype(np.int64),
        by_item.indices, by_item.data, kind, min_support, float(a["visitor_shrinkage"]),
    )  # fmt: skip
    return np.asarray(sims[:n_users], dtype=np.float64), by_item


def _user_knn(a: dict[str, np.ndarray], items: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, float]:
    """User-based k-NN (Surprise's KNNBasic/WithMeans/WithZScore/Baseline with user_based=True): the
    visitor's similarity to every training user, their ``max_neighbours`` best (s > 0) in order, and for
    each item the first k of those who rated it: r̂ = base_v + σ_v Σ s·dev / Σ s (too few: base_v alone;
    KNNBasic: Σ s·r / Σ s, or μ), the visitor's mean and spread (or μ + b_v) standing for a user's. The
    bias returned is b_v for KNNBaseline, whose estimate adds b_u where the item is unknown; 0 for the
    others, whose fallback is μ alone (a pearson_baseline similarity's b_v only weighs neighbours)."""
    from movierec.scoring.knn import USER_OFFSET_SHRINK

    x = csr_from(a, "visitor_ratings", (len(a["visitor_ratings_indptr"]) - 1, len(a["visitor_item_known"])))
    n_users = x.shape[0]
    rule, _, k, min_k, _, keep = (int(v) for v in a["visitor_settings"])
    mu, bi, y_off = float(a["visitor_global_mean"]), a["visitor_item_bias"], a["visitor_y_offset"]
    b_v = float(np.sum(r - mu - bi[items]) / (len(items) + USER_OFFSET_SHRINK))  # the knn family's rule
    sims, by_item = _user_knn_neighbours(a, x, items, r, mu, b_v)
    # best first, ties in the kernel's traversal order (the visitor's movies in index order, each one's
    # raters in index order), so equal similarities pick the same k neighbours as the model's lists
    touched = np.concatenate(
        [by_item.indices[by_item.indptr[j] : by_item.indptr[j + 1]] for j in np.unique(items)]
    ).astype(np.int64)
    touched = touched[touched < n_users]  # the visitor's own row is not a neighbour
    _, first = np.unique(touched, return_index=True)
    met = touched[np.sort(first)]
    order = met[np.argsort(-sims[met], kind="stable")][:keep]
    order = order[sims[order] > 0]
    best = sp.csr_matrix(x[order]).tocsc()  # rows: the visitor's neighbours, best first
    best.sort_indices()
    rank = np.arange(best.nnz) - np.repeat(best.indptr[:-1], np.diff(best.indptr))
    col = np.repeat(np.arange(best.shape[1]), np.diff(best.indptr))
    first = rank < k
    user, col, rating = order[best.indices[first]], col[first], best.data[first].astype(np.float64)
    off, std = a["visitor_x_offset"][user], a["visitor_x_std"][user]
    value = {0: rating, 1: rating - off, 2: (rating - off) / std, 3: rating - off - y_off[col]}[rule]
    s = sims[user]
    n = x.shape[1]
    sum_sim = np.bincount(col, weights=s, minlength=n)
    mean = np.divide(
        np.bincount(col, weights=s * value, minlength=n), sum_sim, out=np.zeros(n), where=sum_sim > 0
    )
    actual = np.bincount(col, minlength=n)
    if rule == 0:
        return np.where((actual < min_k) | (actual == 0), mu, mean), 0.0
    sd_v = float(r.std()) or float(a.get("visitor_overall_std", 1.0))  # ratings all equal: knn-zscore's rule
    base_v = {1: _visitor_mean(a, r), 2: _visitor_mean(a, r), 3: mu + b_v + y_off}[rule]
    out = base_v + np.where(actual < min_k, 0.0, (sd_v if rule == 2 else 1.0) * mean)
    return out, (b_v if rule == 3 else 0.0)


#: visitor rule name → the function giving a visitor's predicted ratings over every item and their bias
VISITOR_RULES: dict[str, VisitorRule] = {
    "slope-one": _slope_one,
    "nmf": _nmf,
    "co-clustering": _co_clustering,
    "user-knn": _user_knn,
}


class Scorer(base.Scorer):
    family: ClassVar[str] = "table"

    def __init__(self, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        from movierec.scoring.knn import SimilarRows

        super().__init__(arrays, seen, spec)
        self._similar = SimilarRows(seen, spec)  # a k-NN table's 'similar' (user-based)
        #: whether a visitor can be placed (by the model's rule); if not, the artifact serves popularity and says so
        self.folds_in = spec.get("visitors") in VISITOR_RULES

    def known(self, u: int) -> np.ndarray:
        return np.array(self.a["table_scores"][u], dtype=np.float32)

    def fold_in(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        """A visitor's predicted ratings (unclipped) by the model's rule; None where it has none. A movie
        without training ratings gets the model's fallback for an unknown item, μ + b_v (b_v = 0 for a
        model without biases): Surprise's μ + b_u for a known user, the visitor's fitted bias standing in."""
        rule = VISITOR_RULES.get(str(self.spec.get("visitors")))
        if rule is None:
            return None
        items = np.asarray(items, dtype=np.int64)
        r = (
            np.full(len(items), float(self.spec["top"]))
            if ratings is None
            else np.asarray(ratings, np.float64)
        )
        out, b_v = rule(self.a, items, r)
        out[self.a["visitor_item_known"] == 0] = float(self.a["visitor_global_mean"]) + b_v
        return np.asarray(out, dtype=np.float32)

    def item_vectors(self) -> np.ndarray | None:
        """The model's item vectors where it has them (NMF's factors): 'similar'."""
        return self.a.get("item_vectors")

    def similar_row(self, item: int) -> np.ndarray | None:
        """k-NN models served as a table (user-based k-NN): the item's similarity row under the
        model's similarity, computed whole from the training ratings (as the knn family does)."""
        return self._similar.row(item)
