"""Pure, vectorised evaluation metrics: arrays in, one value per user out (no models, no I/O).

Ranking metrics take ``recs`` — recommended item indices of shape ``(n_users, K)``, best first,
``-1`` for empty slots — and ``relevant``, a users × items CSR whose row ``u`` holds the items
relevant to the user of ``recs[u]`` (nonzero = relevant). Definitions follow docs/protocols.md
("Evaluation protocols"); aggregation and confidence intervals live in ``evaluation``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError

__all__ = [
    "ERROR_METRICS",
    "Metric",
    "auc_full",
    "average_precision",
    "bootstrap_ci",
    "bootstrap_cis",
    "catalog_coverage",
    "cluster_bootstrap_means",
    "cluster_paired_bootstrap",
    "cluster_permutation_test",
    "concordant_pairs",
    "cutoff_note",
    "fcp",
    "fcp_from_counts",
    "hit_rate",
    "hits",
    "mae",
    "metric_name",
    "mse",
    "ndcg",
    "novelty",
    "paired_bootstrap",
    "parse_metric",
    "permutation_test",
    "precision",
    "ranking_metrics",
    "ranking_metrics_from_hits",
    "recall",
    "reciprocal_rank",
    "reciprocal_rank_full",
    "resample_counts",
    "rmse",
]


# --- rating accuracy -------------------------------------------------------------------------


def _pair(pred: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64).ravel()
    t = np.asarray(true, dtype=np.float64).ravel()
    if p.shape != t.shape:
        raise ValueError(f"predictions ({p.size}) and true ratings ({t.size}) differ in length")
    if p.size == 0:
        raise ConfigError("no predictions to score (the test set is empty)")
    return p, t


def rmse(pred: np.ndarray, true: np.ndarray) -> float:
    """Root mean squared error, ``sqrt(mean((r̂ − r)²))`` in float64 (as ``surprise.accuracy.rmse``)."""
    p, t = _pair(pred, true)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def mae(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean absolute error, ``mean(|r̂ − r|)`` in float64 (as ``surprise.accuracy.mae``)."""
    p, t = _pair(pred, true)
    return float(np.mean(np.abs(t - p)))


def mse(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean squared error, ``mean((r̂ − r)²)`` in float64 (as ``surprise.accuracy.mse``): RMSE squared,
    the loss SGD matrix factorisation minimises, kept so a Surprise ``measures=['MSE']`` run has its number."""
    p, t = _pair(pred, true)
    return float(np.mean((t - p) ** 2))


_LEVELS_MAX = 64  # distinct true ratings up to which concordant pairs are counted level by level


def concordant_pairs(
    pred: np.ndarray, true: np.ndarray, users: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per user, the concordant and discordant pairs of their test rows: ``(users, nc, nd)``, users sorted.

    Surprise's rule (``surprise.accuracy.fcp``), over unordered pairs of one user's rows whose true
    ratings differ: *concordant* when the higher-rated row is also predicted strictly higher,
    *discordant* when it is predicted lower **or equal** (a tie in the prediction counts against
    the model); pairs with equal true ratings count as neither. A NaN prediction is in no pair
    (no comparison with NaN holds, as in Surprise's loop).

    Counted without forming the O(n²) pairs: rows sorted by (user, prediction), then for each true
    rating level a cumulative count of the rows of that level predicted strictly lower in the same
    user — O(n·L) for L distinct true ratings (10 half-stars on MovieLens). With more than 64 levels
    (continuous targets) each user's pairs are compared directly, O(Σ n_u²).
    """
    p, t = _pair(pred, true)
    u = np.asarray(users).ravel()
    if u.shape != p.shape:
        raise ValueError(f"users ({u.size}) and predictions ({p.size}) differ in length")
    uniq, inv = np.unique(u, return_inverse=True)
    n_users = len(uniq)
    ok = ~np.isnan(p)
    p, t, inv = p[ok], t[ok], inv[ok]
    levels, lvl = np.unique(t, return_inverse=True)
    # pairs whose true ratings differ = all pairs − pairs within a (user, level) group
    n = np.bincount(inv, minlength=n_users).astype(np.float64)
    cell, cell_n = np.unique(inv.astype(np.int64) * len(levels) + lvl, return_counts=True)
    same = np.bincount(cell // max(len(levels), 1), weights=cell_n * (cell_n - 1) / 2.0, minlength=n_users)
    differ = n * (n - 1) / 2.0 - same
    if len(levels) <= _LEVELS_MAX:
        nc = _concordant_by_levels(p, lvl, inv, len(levels), n_users)
    else:
        nc = _concordant_by_user(p, t, inv, n_users)
    return uniq, nc, differ - nc


def _concordant_by_levels(
    p: np.ndarray, lvl: np.ndarray, inv: np.ndarray, n_levels: int, n_users: int
) -> np.ndarray:
    """Per user, pairs with both the true level and the prediction strictly higher on the same row."""
    order = np.lexsort((p, inv))
    ps, ls, us = p[order], lvl[order], inv[order]
    m = len(ps)
    idx = np.arange(m)
    new_user = np.ones(m, dtype=bool)
    new_user[1:] = us[1:] != us[:-1]
    new_tie = new_user.copy()
    new_tie[1:] |= ps[1:] != ps[:-1]
    user_start = np.maximum.accumulate(np.where(new_user, idx, 0))
    tie_start = np.maximum.accumulate(np.where(new_tie, idx, 0))  # rows before it: predicted strictly lower
    below = np.zeros(m, dtype=np.int64)
    for b in range(n_levels - 1):
        c = np.concatenate([[0], np.cumsum(ls == b)])  # c[k]: rows of level b among the first k
        below += np.where(ls > b, c[tie_start] - c[user_start], 0)
    return np.bincount(us, weights=below, minlength=n_users)


def _concordant_by_user(p: np.ndarray, t: np.ndarray, inv: np.ndarray, n_users: int) -> np.ndarray:
    """:func:`_concordant_by_levels` for many distinct true ratings: each user's pairs compared directly."""
    order = np.argsort(inv, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(inv, minlength=n_users))])
    ps, ts = p[order], t[order]
    nc = np.zeros(n_users)
    for i in range(n_users):
        a, b = bounds[i], bounds[i + 1]
        if b - a > 1:
            pu, tu = ps[a:b], ts[a:b]
            nc[i] = np.count_nonzero((tu[:, None] > tu[None, :]) & (pu[:, None] > pu[None, :]))
    return nc


def fcp(pred: np.ndarray, true: np.ndarray, users: np.ndarray) -> float:
    """Fraction of Concordant Pairs, as ``surprise.accuracy.fcp`` computes it (higher is better).

    Koren & Sill, "OrdRec: an ordinal model for predicting personalized item rating
    distributions" (RecSys 2011), and "Collaborative filtering on ordinal user feedback" (IJCAI
    2013, §5.2): how often the predictions order two of a user's test items as the user's own
    ratings do — a ranking measure that RMSE does not see (a model can shift every prediction and
    keep its order). Pairs per user from :func:`concordant_pairs` (ties in the prediction are
    discordant, ties in the true rating are left out).

    Averaged as Surprise averages it, for parity: ``nc = mean of n_c(u)`` over the users with at
    least one concordant pair, ``nd = mean of n_d(u)`` over the users with at least one discordant
    pair, FCP = ``nc / (nc + nd)``. The paper pools the counts instead (``Σ n_c / (Σ n_c + Σ n_d)``);
    the two agree when the same users have both kinds of pair, and :func:`concordant_pairs` gives the
    counts for the pooled form. NaN when no user has a pair of differing ratings (Surprise raises).
    """
    _, nc_u, nd_u = concordant_pairs(pred, true, users)
    return fcp_from_counts(nc_u, nd_u)


def fcp_from_counts(nc_u: np.ndarray, nd_u: np.ndarray) -> float:
    """:func:`fcp` from the per-user counts :func:`concordant_pairs` gave (the rating protocol keeps them
    per user as well, so it counts once)."""
    nc = float(nc_u[nc_u > 0].mean()) if (nc_u > 0).any() else 0.0
    nd = float(nd_u[nd_u > 0].mean()) if (nd_u > 0).any() else 0.0
    return nc / (nc + nd) if nc + nd > 0 else float("nan")


# --- ranking ---------------------------------------------------------------------------------


def _check(recs: np.ndarray, relevant: sp.csr_matrix) -> tuple[np.ndarray, sp.csr_matrix]:
    recs = np.asarray(recs)
    if recs.ndim != 2:
        raise ValueError(f"recs must be a 2-d array (n_users, K), got shape {recs.shape}")
    rel = sp.csr_matrix(relevant)
    if rel.shape[0] != recs.shape[0]:
        raise ValueError(f"recs has {recs.shape[0]} rows but relevant has {rel.shape[0]}")
    return recs, rel


def hits(recs: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """Boolean ``(n_users, K)``: whether each recommended item is relevant to its user.

    Vectorised membership test: sorted ``row·n_items + col`` keys of the relevant matrix,
    searched for each ``(row, recommended item)`` key. Duplicates in a row count once.
    """
    recs, rel = _check(recs, relevant)
    n_rows, k = recs.shape
    if k == 0 or rel.nnz == 0:
        return np.zeros((n_rows, k), dtype=bool)
    rel = rel.copy()
    rel.eliminate_zeros()
    rel.sort_indices()
    n_cols = np.int64(rel.shape[1])
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(rel.indptr))
    keys = rows * n_cols + rel.indices.astype(np.int64)  # sorted: row-major, sorted columns
    valid = (recs >= 0) & (recs < n_cols)
    q = np.arange(n_rows, dtype=np.int64)[:, None] * n_cols + np.where(valid, recs, 0).astype(np.int64)
    pos = np.searchsorted(keys, q)
    found = keys[np.minimum(pos, len(keys) - 1)] == q
    out = found & valid
    # a repeated item in one list only counts at its first position
    if k > 1:
        srt = np.sort(np.where(valid, recs, -1 - np.arange(k)), axis=1)
        if (srt[:, 1:] == srt[:, :-1]).any():
            for r in np.flatnonzero((srt[:, 1:] == srt[:, :-1]).any(axis=1)):
                _, first = np.unique(recs[r], return_index=True)
                keep = np.zeros(k, dtype=bool)
                keep[first] = True
                out[r] &= keep
    return out


def _n_relevant(relevant: sp.csr_matrix) -> np.ndarray:
    rel = sp.csr_matrix(relevant, copy=True)
    rel.eliminate_zeros()
    return np.diff(rel.indptr).astype(np.float64)


def _at_k(recs: np.ndarray, relevant: sp.csr_matrix, k: int | None, metric: str) -> np.ndarray:
    h = hits(recs, relevant)
    k = h.shape[1] if k is None else k
    return ranking_metrics_from_hits(h[:, :k], _n_relevant(relevant))[metric]


def precision(recs: np.ndarray, relevant: sp.csr_matrix, k: int | None = None) -> np.ndarray:
    """Precision@K = hits in the top K / K (K = ``recs.shape[1]`` unless given)."""
    return _at_k(recs, relevant, k, "precision")


def recall(recs: np.ndarray, relevant: sp.csr_matrix, k: int | None = None) -> np.ndarray:
    """Recall@K = hits in the top K / |relevant| (0 for users with nothing relevant)."""
    return _at_k(recs, relevant, k, "recall")


def hit_rate(recs: np.ndarray, relevant: sp.csr_matrix, k: int | None = None) -> np.ndarray:
    """HR@K = 1 if at least one relevant item is in the top K, else 0."""
    return _at_k(recs, relevant, k, "hit_rate")


def ndcg(recs: np.ndarray, relevant: sp.csr_matrix, k: int | None = None) -> np.ndarray:
    """NDCG@K with binary gain and log2 discount; the ideal DCG puts min(|relevant|, K) hits first (Järvelin & Kekäläinen 2002)."""
    return _at_k(recs, relevant, k, "ndcg")


def average_precision(recs: np.ndarray, relevant: sp.csr_matrix, k: int | None = None) -> np.ndarray:
    """AP@K = sum of precision@i at each hit position i ≤ K, divided by min(|relevant|, K); MAP@K is its mean."""
    return _at_k(recs, relevant, k, "map")


def reciprocal_rank(recs: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """1 / (position of the first relevant item in the list), 0 when none is in it."""
    return _at_k(recs, relevant, None, "mrr")


def reciprocal_rank_full(
    scores: np.ndarray, relevant: sp.csr_matrix, candidates: np.ndarray | None = None
) -> np.ndarray:
    """Reciprocal rank of the best-placed relevant item over the whole candidate ranking (LightFM's
    ``reciprocal_rank``, with ties settled as every list settles them).

    The ranking is the order every top-K list uses (:func:`movierec.models.base.topk`): score
    descending, then item index ascending. So the 0-based rank of the first relevant item counts the
    candidates scoring strictly higher, plus those tied with it at a lower index, and ``mrr`` agrees
    with the same row's ``mrr@K``, hit rate and NDCG: a user without a hit in the top K reads below
    1/K. LightFM's ``reciprocal_rank`` counts only strictly higher scores, which reads ties in the
    model's favour: a model whose scores take a few values (``global-mean``'s shrunk means) read an
    MRR of 0.66 on the tutorial's split beside a hit rate@10 of 0.23; where scores do not tie the two
    agree. ``candidates`` is a boolean mask of the scores' shape (default: every item; set excluded
    items' scores to −inf). Rows without a relevant item get 0.
    """
    scores = np.asarray(scores)
    rel = sp.csr_matrix(relevant, copy=True)
    rel.eliminate_zeros()
    if rel.shape != scores.shape:
        raise ValueError(f"scores {scores.shape} and relevant {rel.shape} differ in shape")
    counts = np.diff(rel.indptr)
    rows = np.repeat(np.arange(rel.shape[0]), counts)
    best = np.full(rel.shape[0], -np.inf, dtype=scores.dtype if scores.dtype.kind == "f" else np.float64)
    rel_scores = scores[rows, rel.indices]
    np.maximum.at(best, rows, rel_scores)  # the best-scored relevant item of each row
    # the first relevant item in list order: the lowest index among the relevant items at that score
    first = np.full(rel.shape[0], scores.shape[1], dtype=np.int64)
    at_best = rel_scores == best[rows]
    np.minimum.at(first, rows[at_best], rel.indices[at_best])
    allowed = None if candidates is None else np.asarray(candidates, dtype=bool)
    higher = scores > best[:, None]  # −inf (excluded) and NaN scores never count
    at_least = scores >= best[:, None]
    if allowed is not None:
        higher &= allowed
        at_least &= allowed
    above = np.count_nonzero(higher, axis=1)
    # ties at a lower index come first too; only rows where something ties with it need the count
    for r in np.flatnonzero((np.count_nonzero(at_least, axis=1) - above > 1) & np.isfinite(best)):
        above[r] += np.count_nonzero(at_least[r, : first[r]] & ~higher[r, : first[r]])
    return np.where(counts > 0, 1.0 / (above + 1.0), 0.0)


def auc_full(
    scores: np.ndarray, relevant: sp.csr_matrix, excluded: sp.csr_matrix | None = None
) -> np.ndarray:
    """Per-row ROC AUC over the whole candidate ranking: the share of (relevant, non-relevant) candidate pairs
    the scores order correctly (LightFM's ``auc_score``; the AUC of Rendle et al. 2009, which BPR optimises).

    Row ``u`` of ``scores`` scores every item for one user; its candidates are every item not in row ``u`` of
    ``excluded`` (the full-ranking protocol passes the user's training items), its positives the candidates in
    row ``u`` of ``relevant``, its negatives every other candidate (a test item rated below the threshold is a
    negative). A pair counts 1 when the positive scores higher, ½ when the two scores tie (the Mann–Whitney
    statistic with midranks; ``sklearn.metrics.roc_auc_score`` of the row gives the same), 0 otherwise.
    A row without a positive or without a negative gets 0.5, as LightFM gives it.

    Against the references: LightFM's ``auc_score(model, test, train_interactions=train)`` has the same
    candidates and pairs but counts a tied negative as ranked above the positive (0, not ½), so it reads
    lower where scores tie (a model scoring every item alike gets 0.5 here, 0.0 there). ``implicit``'s
    ``AUC@K`` in ``ranking_metrics_at_k`` is truncated: only the top K count, so it is another number.

    Computed from one sort of each row's candidate scores (excluded items become NaN, which sorts last)
    and a binary search of each positive in its row, vectorised over every positive at once: with
    ``below`` and ``at_or_below`` the candidates scoring < and ≤ a positive, its midrank is
    ``(below + at_or_below + 1) / 2`` and ``AUC = (Σ midranks − m(m+1)/2) / (m · negatives)`` for ``m``
    positives. NaN scores are not supported (a NaN negative is left out, a NaN positive ranks last).
    """
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores must be users × items, got shape {scores.shape}")
    rel = sp.csr_matrix(relevant, dtype=np.float64, copy=True)
    rel.eliminate_zeros()
    if rel.shape != scores.shape:
        raise ValueError(f"scores {scores.shape} and relevant {rel.shape} differ in shape")
    n_rows, n_items = scores.shape
    # a copy with one NaN column more, so the search below may read position n_items of any row
    work = np.full(
        (n_rows, n_items + 1), np.nan, dtype=np.float32 if scores.dtype == np.float32 else np.float64
    )
    work[:, :n_items] = scores
    if excluded is not None:
        ex = sp.csr_matrix(excluded, dtype=np.float64, copy=True)
        ex.eliminate_zeros()
        if ex.shape != scores.shape:
            raise ValueError(f"scores {scores.shape} and excluded {ex.shape} differ in shape")
        ex.sum_duplicates()
        rel = rel - rel.multiply(ex).astype(bool)  # an excluded item is no candidate, relevant or not
        rel.eliminate_zeros()
        work[np.repeat(np.arange(n_rows), np.diff(ex.indptr)), ex.indices] = np.nan
    rel.sum_duplicates()
    m = np.diff(rel.indptr)
    rows = np.repeat(np.arange(n_rows), m)
    q = work[rows, rel.indices]
    work.sort(axis=1)  # NaN (excluded) last
    below = _row_search(work, rows, q, right=False)
    at_or_below = _row_search(work, rows, q, right=True)
    every_row = np.arange(n_rows)
    n_neg = _row_search(work, every_row, np.full(n_rows, np.inf, work.dtype), right=True) - m  # non-NaN − m
    mid = np.bincount(rows, weights=(below + at_or_below + 1) / 2.0, minlength=n_rows)
    ok = (m > 0) & (n_neg > 0)
    u_stat = mid - m * (m + 1) / 2.0
    return np.where(ok, u_stat / np.maximum(m * n_neg, 1), 0.5)


def _row_search(ordered: np.ndarray, rows: np.ndarray, q: np.ndarray, *, right: bool) -> np.ndarray:
    """``np.searchsorted(ordered[r, :-1], v)`` for every pair ``(r, v)`` of ``rows`` and ``q`` at once: a binary
    search run in lock step over all pairs (⌈log2(n+1)⌉ vectorised steps, no loop over rows). NaN sorts last;
    the last column is a NaN pad, so a finished search (lo = hi = n) still reads inside its row."""
    width = ordered.shape[1]
    n = width - 1
    flat = ordered.ravel()
    base = rows.astype(np.int64) * width
    lo = np.zeros(len(q), dtype=np.int64)
    hi = np.full(len(q), n, dtype=np.int64)
    for _ in range(int(n).bit_length()):
        mid = (lo + hi) >> 1
        v = flat[base + mid]
        after = (v <= q) if right else (v < q)
        lo = np.where(after & (lo < hi), mid + 1, lo)
        hi = np.where(after, hi, mid)
    return lo


def ranking_metrics_from_hits(h: np.ndarray, n_relevant: np.ndarray) -> dict[str, np.ndarray]:
    """Per-user precision, recall, hit rate, NDCG, MAP and MRR at K = ``h.shape[1]`` from a hits matrix and |relevant|."""
    h = np.asarray(h, dtype=bool)
    n_rel = np.asarray(n_relevant, dtype=np.float64)
    n, k = h.shape
    if k == 0:
        raise ConfigError("K must be at least 1")
    n_hits = h.sum(axis=1).astype(np.float64)
    disc = 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))
    ideal = np.concatenate([[0.0], np.cumsum(disc)])
    idcg = ideal[np.minimum(n_rel, k).astype(np.int64)]
    denom = np.minimum(n_rel, k)
    prec_at = np.cumsum(h, axis=1) / np.arange(1, k + 1, dtype=np.float64)
    first = np.argmax(h, axis=1)
    zeros = np.zeros(n)
    return {
        "precision": n_hits / k,
        "recall": np.divide(n_hits, n_rel, out=zeros.copy(), where=n_rel > 0),
        "hit_rate": (n_hits > 0).astype(np.float64),
        "ndcg": np.divide(h @ disc, idcg, out=zeros.copy(), where=idcg > 0),
        "map": np.divide((prec_at * h).sum(axis=1), denom, out=zeros.copy(), where=denom > 0),
        "mrr": np.where(n_hits > 0, 1.0 / (first + 1.0), 0.0),
    }


def ranking_metrics(recs: np.ndarray, relevant: sp.csr_matrix) -> dict[str, np.ndarray]:
    """Every per-user ranking metric at K = ``recs.shape[1]`` from one membership pass (see the single-metric functions)."""
    return ranking_metrics_from_hits(hits(recs, relevant), _n_relevant(relevant))


def catalog_coverage(recs: np.ndarray, n_items: int) -> float:
    """Share of the ``n_items`` catalogue that appears in at least one user's list."""
    recs = np.asarray(recs)
    if n_items <= 0:
        raise ConfigError("catalogue coverage needs a catalogue of at least one item")
    shown = np.unique(recs[(recs >= 0) & (recs < n_items)])
    return float(len(shown)) / float(n_items)


def novelty(recs: np.ndarray, item_popularity: np.ndarray, n_users: int) -> np.ndarray:
    """Mean self-information −log2(p_i) of each user's list, p_i = (users with item i + 1) / (n_users + 1).

    Higher means less popular items are recommended (Zhou et al. 2010; Vargas & Castells 2011).
    The +1 smoothing keeps items never seen in training finite.
    """
    recs = np.asarray(recs)
    pop = np.asarray(item_popularity, dtype=np.float64)
    info = -np.log2((pop + 1.0) / (float(n_users) + 1.0))
    valid = recs >= 0
    vals = np.where(valid, info[np.where(valid, recs, 0)], 0.0)
    n = valid.sum(axis=1)
    return np.divide(vals.sum(axis=1), n, out=np.zeros(len(n)), where=n > 0)


# --- uncertainty -----------------------------------------------------------------------------


def bootstrap_ci(
    values: np.ndarray, *, n_boot: int = 1000, seed: int = 42, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over users (Efron & Tibshirani 1993), seeded."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    step = max(1, 2_000_000 // max(v.size, 1))
    for s in range(0, n_boot, step):
        m = min(step, n_boot - s)
        means[s : s + m] = v[rng.integers(0, v.size, size=(m, v.size))].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    mean = float(v.mean())
    return (float(min(lo, mean)), float(max(hi, mean)))


def bootstrap_cis(
    per_user: dict[str, np.ndarray], *, n_boot: int = 1000, seed: int = 42, level: float = 0.95
) -> dict[str, tuple[float, float]]:
    """:func:`bootstrap_ci` of several metrics of the same users at once: the same draws, the same numbers.

    Every call of :func:`bootstrap_ci` with one seed draws the same resamples for arrays of one
    length, so metrics of equal length share one draw here (faster; identical intervals).
    """
    out: dict[str, tuple[float, float]] = {}
    by_size: dict[int, list[str]] = {}
    for m, v in per_user.items():
        by_size.setdefault(np.asarray(v).size, []).append(m)
    alpha = (1.0 - level) / 2.0
    for size, names in by_size.items():
        if size == 0 or len(names) == 1:
            out.update({m: bootstrap_ci(per_user[m], n_boot=n_boot, seed=seed, level=level) for m in names})
            continue
        vals = {m: np.asarray(per_user[m], dtype=np.float64) for m in names}
        means = {m: np.empty(n_boot) for m in names}
        rng = np.random.default_rng(seed)
        step = max(1, 2_000_000 // size)
        for s in range(0, n_boot, step):
            k = min(step, n_boot - s)
            idx = rng.integers(0, size, size=(k, size))
            for m in names:
                means[m][s : s + k] = vals[m][idx].mean(axis=1)
        for m in names:
            lo, hi = np.quantile(means[m], [alpha, 1.0 - alpha])
            mean = float(vals[m].mean())
            out[m] = (float(min(lo, mean)), float(max(hi, mean)))
    return {m: out[m] for m in per_user}


def paired_bootstrap(
    a: np.ndarray, b: np.ndarray, *, n_boot: int = 2000, seed: int = 42, level: float = 0.95
) -> dict[str, float]:
    """Paired bootstrap of the mean difference ``a − b`` over the same users: difference, interval, two-sided p."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("paired comparison needs per-user values of the same users, in the same order")
    d = a - b
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
    return _paired_summary(float(d.mean()), means, level)


def _paired_summary(diff: float, means: np.ndarray, level: float) -> dict[str, float]:
    """A paired bootstrap's result: the difference, the percentile interval of the resampled mean
    differences ``means`` at ``level``, and the two-sided p.

    The p is twice the smaller tail, each tail counted with the +1 convention of resampling p-values,
    ``(count + 1) / (B + 1)`` for ``B`` draws (Davison & Hinkley 1997, §4.2; North, Curtis & Sham 2002):
    the observed difference counts as one of the draws, so a p is never exactly 0. When no draw reaches
    0 it reads ``2 / (B + 1)`` (0.001 at the default B = 2000), "below what B draws can resolve", where
    a bare share read 0.0, which looks like certainty. The same rule as :func:`permutation_test`'s p.
    """
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    tail = min(int((means <= 0).sum()), int((means >= 0).sum()))
    p = 2.0 * (tail + 1) / (means.size + 1)
    return {"diff": diff, "lo": float(lo), "hi": float(hi), "p_value": float(min(1.0, p))}


def permutation_test(a: np.ndarray, b: np.ndarray, *, n_perm: int = 5000, seed: int = 42) -> float:
    """Two-sided paired permutation (sign-flip) test of ``mean(a − b) = 0``; returns the p-value."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("paired comparison needs per-user values of the same users, in the same order")
    d = a - b
    return _sign_flip_p(d, d.size, abs(d.mean()), n_perm, seed)


def _sign_flip_p(parts: np.ndarray, n_units: int, observed: float, n_perm: int, seed: int) -> float:
    """The sign-flip p-value: how often Σ ± ``parts`` / ``n_units`` (a sign drawn per part: a unit, or a
    user's summed units) reaches ``observed`` in ``n_perm`` seeded draws, with the +1 correction."""
    rng = np.random.default_rng(seed)
    count = 0
    step = max(1, 2_000_000 // max(parts.size, 1))  # draws per block: a block's sign matrix stays ~16 MB
    for s in range(0, n_perm, step):
        m = min(step, n_perm - s)
        signs = rng.integers(0, 2, size=(m, parts.size)) * 2 - 1
        count += int((np.abs((signs * parts).sum(axis=1) / n_units) >= observed - 1e-15).sum())
    return float((count + 1) / (n_perm + 1))


def resample_counts(k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` × ``n``: how often each of ``n`` units is drawn in each of ``k`` resamples with replacement
    (one ``rng.integers(0, n, (k, n))`` draw), as floats, so that a resample's sums over units are one
    matrix product. The bootstraps over users or clusters (here, per user group, per served version)
    share it."""
    draws = rng.integers(0, n, size=(k, n))
    times = np.bincount((np.arange(k)[:, None] * n + draws).ravel(), minlength=k * n)
    return times.reshape(k, n).astype(np.float64)


def cluster_bootstrap_means(
    sums: np.ndarray, counts: np.ndarray, *, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Resampled ratio means ``Σ sums / Σ counts`` over clusters (users) drawn with replacement.

    ``sums`` is metrics × clusters (each cluster's sum over its units), ``counts`` each cluster's
    number of units; returns metrics × ``n_boot`` means. A draw takes whole clusters, so units of one
    user (their folds under k-fold CV) move together, and the point estimate it brackets is the mean
    over units. Draws come in blocks whose count matrix stays ~16 MB.
    """
    sums = np.atleast_2d(np.asarray(sums, dtype=np.float64))
    counts = np.asarray(counts, dtype=np.float64)
    n = counts.size
    means = np.empty((sums.shape[0], n_boot))
    step = max(1, 2_000_000 // n)
    for s in range(0, n_boot, step):
        k = min(step, n_boot - s)
        times = resample_counts(k, n, rng)  # sums and counts of each resample: one matrix product
        means[:, s : s + k] = (sums @ times.T) / (times @ counts)
    return means


def _cluster_differences(
    a: np.ndarray, b: np.ndarray, clusters: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The paired differences a − b per unit, and each user's (``clusters``) sum of them and unit count."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    clusters = np.asarray(clusters)
    if a.shape != b.shape or a.shape != clusters.shape:
        raise ValueError(
            "paired comparison needs per-unit values and users of the same units, in the same order"
        )
    d = a - b
    _, inv = np.unique(clusters, return_inverse=True)
    return d, np.bincount(inv, weights=d), np.bincount(inv)


def cluster_paired_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    clusters: np.ndarray,
    *,
    n_boot: int = 2000,
    seed: int = 42,
    level: float = 0.95,
) -> dict[str, float]:
    """:func:`paired_bootstrap` when several paired units belong to one user (``clusters``: each unit's user).

    Under k-fold CV a user contributes up to k (user, fold) units whose differences move together;
    resampling units as if independent makes the interval too narrow. This resamples users, each with
    all of their units, and each draw's mean is Σ differences / Σ units of the drawn users: the same
    cluster bootstrap (and the same pooled-over-units point estimate) as the intervals of the rows.
    """
    d, sums, counts = _cluster_differences(a, b, clusters)
    means = cluster_bootstrap_means(sums, counts, n_boot=n_boot, rng=np.random.default_rng(seed))[0]
    return _paired_summary(float(d.mean()), means, level)


def cluster_permutation_test(
    a: np.ndarray, b: np.ndarray, clusters: np.ndarray, *, n_perm: int = 5000, seed: int = 42
) -> float:
    """:func:`permutation_test` flipping the sign of each user's units together (``clusters``: each unit's user).

    Swapping a and b is exchangeable per user, not per (user, fold) unit: one user's folds share
    their tastes, so flipping units one by one would understate the spread under the null.
    """
    d, sums, _ = _cluster_differences(a, b, clusters)  # the mean is Σ ± each user's sum / units
    return _sign_flip_p(sums, d.size, abs(d.mean()), n_perm, seed)


# --- the metric vocabulary ---------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """What a study optimises: ``rmse``/``mae``/``mse``/``fcp`` (rating protocol), a ranking metric at
    cut-off ``k``, or ``auc`` (the whole ranking, no cut-off: LightFM's ``auc_score``, :func:`auc_full`)."""

    name: str
    k: int | None = None

    @property
    def kind(self) -> str:
        return "rating" if self.name in _RATING_METRICS else "ranking"

    @property
    def direction(self) -> str:
        return "minimize" if self.name in ERROR_METRICS else "maximize"

    @property
    def label(self) -> str:
        return self.name if self.k is None or self.name == "auc" else f"{self.name}@{self.k}"

    @property
    def result_key(self) -> str:
        """The key of this metric in a :class:`movierec.evaluation.Result`: ``mrr`` and ``auc`` read the
        whole ranking there. ``mrr@K``, cut at K (RecBole's ``MRR@10``), is no column of a row:
        :func:`movierec.tuning.score_split` computes it from the row's top-K lists."""
        if self.kind == "rating" or self.name == "auc" or (self.name == "mrr" and self.k is None):
            return self.name
        return f"{self.name}@{self.k or 10}"


_RATING_METRICS = ("rmse", "mae", "mse", "fcp")
#: the rating protocol's errors: lower is better (every other metric, FCP included, is higher-better)
ERROR_METRICS = ("rmse", "mae", "mse")
_RANKING_METRICS = ("ndcg", "recall", "precision", "map", "hit_rate", "mrr", "auc")
#: ranking metrics of the whole list, no cut-off in a Result (mrr's rank of the first hit; AUC's pairs);
#: ``mrr@K`` is mrr cut at K
_WHOLE_RANKING = ("mrr", "auc")
# one metric vocabulary with evaluation.py; older spellings still parse
_METRIC_ALIASES = {"hr": "hit_rate", "hitrate": "hit_rate", "hit": "hit_rate"}
#: the printed tables' short headers (movierec.tables.SHORT_NAMES) read back as the metrics they head, so
#: 'P@10' copied from a table is precision@10: plot("P@10") said "did you mean 'map@10'?" and "R@10"
#: "did you mean 'hit_rate@10'?". Not offered as spellings to a typo (one letter is close to too much).
_TABLE_HEADERS = {"p": "precision", "r": "recall", "cov": "coverage"}


def metric_name(text: str) -> str:
    """A metric's name as every option spells it: lower case, an older spelling or a table's header read as
    the name it stands for (``hr``, ``hitrate``, ``hit`` → ``hit_rate``; ``P``, ``R``, ``Cov`` → ``precision``,
    ``recall``, ``coverage``), a cut-off kept (``HR@10`` → ``hit_rate@10``).

    The one reading of a metric's name for :func:`parse_metric` (``--metric``, ``--early-stopping``) and
    :func:`movierec.objective.parse_objective` (an objective's terms, ``--pareto``): the objective's own
    list spelt it ``hr`` while ``--metric`` made ``hr@10`` ``hit_rate@10``, so ``--metric hr@10 --pareto
    hr@10,arp@10`` was refused. Text that names no metric comes back lower-cased, for the caller to refuse.
    """
    base, at, k = str(text).strip().lower().partition("@")
    return _METRIC_ALIASES.get(base, _TABLE_HEADERS.get(base, base)) + at + k


def parse_metric(text: str, *, model_kind: str | None = None) -> Metric:
    """``"rmse"``, ``"ndcg@10"``, ``"recall@20"``… → :class:`Metric`; RMSE for an implicit model is an error.

    ``hr@K`` is read as ``hit_rate@K`` (one vocabulary with :mod:`movierec.evaluation`). ``mrr`` is
    1 / the rank of the first relevant item in the whole ranking (the rows' ``mrr``, no cut-off), and
    ``mrr@K`` the same within the top K, 0 beyond (RecBole's ``MRR@10``, its default ``valid_metric``). Weighted
    objectives (``"ndcg@10-0.1*arp@10"``) are parsed by :func:`movierec.tuning.parse_metric`.
    """
    raw = str(text).strip().lower()
    m = re.fullmatch(r"([a-z_]+)(?:@(\d+))?", raw)
    valid = ", ".join(
        [*_RATING_METRICS, *(f"{n}@K" for n in _RANKING_METRICS if n != "auc"), *_WHOLE_RANKING]
    )
    name = metric_name(m.group(1)) if m else ""
    if not m or name not in (*_RATING_METRICS, *_RANKING_METRICS):
        from movierec.errors import closest

        # 'ndgc@10': the likely one first, with its cut-off ('ndcg@10'), before the list of every metric
        near = closest(name or raw, (*_RATING_METRICS, *_RANKING_METRICS, *_METRIC_ALIASES))
        near = _METRIC_ALIASES.get(near, near) if near else None
        hint = f" (did you mean {near + (f'@{m.group(2)}' if m and m.group(2) else '')!r}?)" if near else ""
        raise ConfigError(f"unknown metric {text!r}{hint}; valid: {valid}")
    k = m.group(2)
    if name in _RATING_METRICS:
        if k is not None:
            raise ConfigError(f"metric {text!r}: {name} takes no cut-off (@K)")
        if model_kind == "implicit":
            raise ConfigError(
                f"metric {name!r} needs predicted ratings but the model is implicit; use a ranking metric such as ndcg@10"
            )
        return Metric(name)
    if name == "auc":
        if k is not None:
            raise ConfigError(f"metric {text!r}: auc ranks the whole list and takes no cut-off (@K); use auc")
        return Metric(name)
    if name == "mrr" and k is None:  # the rank of the first hit in the whole ranking: the rows' mrr
        return Metric(name)
    kk = 10 if k is None else int(k)
    if kk <= 0:
        raise ConfigError(f"metric {text!r}: the cut-off K must be ≥ 1")
    return Metric(name, kk)


def cutoff_note(text: str, option: str, *, typed: str | None = None) -> str | None:
    """The note for a ranking metric typed without its cut-off (``--metric ndcg``): it is read at the top
    10, which the person should be told rather than find in a study's name (``ease-ndcg@10``). ``None``
    where nothing was assumed: a cut-off typed, a metric of the whole list (``mrr``, ``auc``), a rating
    metric, or a name :func:`parse_metric` refuses (its own error says why). ``typed``: how the note
    quotes what was given (an experiment file's ``early_stopping = "ndcg"``), else ``OPTION TEXT``."""
    try:
        metric = parse_metric(text)
    except ConfigError:
        return None
    if metric.k is None or "@" in str(text):
        return None
    shown = typed or f"{option} {str(text).strip()}"
    return (
        f"{shown} is read as {metric.label}, the top {metric.k} of each list; type "
        f"{metric.name}@5, {metric.name}@20… for another cut-off"
    )
