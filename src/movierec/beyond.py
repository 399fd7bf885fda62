"""Beyond-accuracy metrics: diversity, popularity bias, calibration, unexpectedness and user-group fairness.

Pure, vectorised functions in the shape of :mod:`movierec.metrics`: ``recs`` is an
``(n_users, K)`` array of item indices (best first, ``-1`` for empty slots) and the result is one
value per user, or one value per list set (Gini, entropy, aggregate diversity), which describe the
whole set of lists and have no per-user value. Definitions, papers and how they differ from
RecBole's and Elliot's are in ``docs/beyond-accuracy.md``. :func:`beyond_metrics` computes every
metric for one protocol's lists; :func:`group_metrics` splits per-user metrics by user group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from movierec.beyond_names import AGGREGATE, LOWER_IS_BETTER, MIN_INTERVAL_USERS, PER_USER, is_beyond
from movierec.errors import ConfigError
from movierec.metrics import cluster_bootstrap_means, hits, resample_counts
from movierec.models.base import Recommender

__all__ = [
    "AGGREGATE",
    "GAP_SIGNIFICANCE",
    "HEAD_SHARE",
    "LOWER_IS_BETTER",
    "MIN_INTERVAL_USERS",
    "PER_USER",
    "ItemInfo",
    "activity_groups",
    "aggregate_diversity",
    "aplt",
    "arp",
    "beyond_metrics",
    "calibration_kl",
    "demographic_groups",
    "entropy",
    "extend_output",
    "gap_p_values",
    "genre_matrix",
    "gini",
    "group_metrics",
    "ild",
    "ild_genres",
    "ild_vectors",
    "is_beyond",
    "item_info",
    "item_popularity",
    "long_tail_mask",
    "pool_groups",
    "popular_lists",
    "recommendation_counts",
    "serendipity",
    "train_pairs",
    "unexpectedness",
]

HEAD_SHARE = 0.8
"""The short head is the smallest set of most popular items that together hold this share of the training
interactions (Pareto's 80/20, as Abdollahpouri et al. 2019 split head and tail); every other item is long tail."""

CALIBRATION_ALPHA = 0.01
"""Steck (2018)'s smoothing of the list's genre distribution, q̃ = (1 − α)·q + α·p, which keeps KL finite."""


_BATCH = 4096


# --- item information ------------------------------------------------------------------------


def genre_matrix(genres: Sequence[Sequence[str]]) -> tuple[sp.csr_matrix, list[str]]:
    """Items × genres binary CSR from each item's genre list (``(no genres listed)`` and blanks dropped).

    Returns the matrix and the genre names in column order (sorted).
    """
    clean = [[g for g in (gs or []) if g and not str(g).startswith("(")] for gs in genres]
    names = sorted({g for gs in clean for g in gs})
    col = {g: j for j, g in enumerate(names)}
    indptr = np.zeros(len(clean) + 1, dtype=np.int64)
    indices: list[int] = []
    for i, gs in enumerate(clean):
        js = sorted({col[g] for g in gs})
        indices.extend(js)
        indptr[i + 1] = len(indices)
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix(
        (data, np.asarray(indices, dtype=np.int32), indptr), shape=(len(clean), len(names))
    ), names


def item_popularity(train_pairs: sp.csr_matrix) -> np.ndarray:
    """Users who interacted with each item, from a users × items matrix of training pairs (each pair counted once)."""
    m = sp.csr_matrix(train_pairs)
    return np.bincount(m.indices, minlength=m.shape[1]).astype(np.float64)


def long_tail_mask(popularity: np.ndarray, head_share: float = HEAD_SHARE) -> np.ndarray:
    """Boolean mask of long-tail items: everything outside the short head (see :data:`HEAD_SHARE`).

    Items are sorted by popularity (ties by index); the head is the shortest prefix whose
    interactions reach ``head_share`` of all interactions. Items nobody interacted with are tail.
    """
    pop = np.asarray(popularity, dtype=np.float64)
    if not 0.0 < head_share <= 1.0:
        raise ConfigError(f"head_share must be in (0, 1], got {head_share}")
    total = pop.sum()
    tail = np.ones(len(pop), dtype=bool)
    if total <= 0:
        return tail
    order = np.argsort(-pop, kind="stable")
    cum = np.cumsum(pop[order])
    n_head = int(np.searchsorted(cum, head_share * total - 1e-9 * total)) + 1
    tail[order[:n_head]] = False
    return tail


@dataclass
class ItemInfo:
    """What beyond-accuracy metrics and re-rankers know about items: genres, the model's vectors, popularity.

    ``genres``: items × genres binary CSR (or ``None``); ``vectors``: items × d (or ``None``);
    ``popularity``: training users per item; ``n_users``: training users (for ARP's share).
    """

    popularity: np.ndarray
    n_users: int
    genres: sp.csr_matrix | None = None
    vectors: np.ndarray | None = None

    @property
    def tail(self) -> np.ndarray:
        return long_tail_mask(self.popularity)

    def genre_dense(self) -> np.ndarray:
        """Items × genres booleans (no column when the data has no genres: check ``genres`` first)."""
        if self.genres is None:
            return np.zeros((len(self.popularity), 0), dtype=bool)
        return np.asarray(self.genres.todense(), dtype=np.float32) > 0

    def genre_shares(self) -> np.ndarray | None:
        """Items × genres p(g|i): an item's genres share its mass equally (Steck 2018); no genres → zero row."""
        if self.genres is None:
            return None
        g = self.genre_dense().astype(np.float64)
        n = g.sum(axis=1, keepdims=True)
        return np.divide(g, n, out=np.zeros_like(g), where=n > 0)


# --- diversity -------------------------------------------------------------------------------


def _valid(recs: np.ndarray, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    recs = np.asarray(recs)
    if recs.ndim != 2:
        raise ValueError(f"recs must be a 2-d array (n_users, K), got shape {recs.shape}")
    valid = (recs >= 0) & (recs < n_items)
    return np.where(valid, recs, 0), valid


def _mean_pair_distance(sim: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Mean of ``1 − sim`` over unordered pairs of valid slots; 0 for lists with fewer than two items."""
    k = valid.shape[1]
    upper = np.triu(np.ones((k, k), dtype=bool), 1)
    pair = valid[:, :, None] & valid[:, None, :] & upper
    n_pairs = pair.sum(axis=(1, 2))
    total = np.where(pair, 1.0 - sim, 0.0).sum(axis=(1, 2))
    return np.divide(total, n_pairs, out=np.zeros(len(n_pairs)), where=n_pairs > 0)


def jaccard_block(a: np.ndarray) -> np.ndarray:
    """Pairwise Jaccard similarity of boolean feature rows ``a`` of shape ``(n, K, F)`` → ``(n, K, K)``.

    Two items without features are identical (J(∅, ∅) = 1).
    """
    af = a.astype(np.float32)
    inter = np.einsum("nkf,nlf->nkl", af, af)
    size = af.sum(axis=2)
    union = size[:, :, None] + size[:, None, :] - inter
    return np.divide(inter, union, out=np.ones_like(inter), where=union > 0)


def cosine_block(v: np.ndarray) -> np.ndarray:
    """Pairwise cosine similarity of vectors ``v`` of shape ``(n, K, d)`` → ``(n, K, K)`` (zero vectors: 0)."""
    norms = np.linalg.norm(v, axis=2, keepdims=True)
    u = np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)
    return np.einsum("nkd,nld->nkl", u, u)


def ild(recs: np.ndarray, features: np.ndarray, *, kind: str = "jaccard") -> np.ndarray:
    """Intra-list diversity per user (Ziegler et al. 2005): mean pairwise distance 1 − sim over the list's item pairs.

    ``features`` is items × F: boolean genres (``kind="jaccard"``) or the model's item vectors
    (``kind="cosine"``). Lists with fewer than two items score 0.
    """
    feats = np.asarray(features)
    idx, valid = _valid(recs, feats.shape[0])
    out = np.empty(len(idx), dtype=np.float64)
    for s in range(0, len(idx), _BATCH):
        block = feats[idx[s : s + _BATCH]]
        if kind == "jaccard":
            sim = jaccard_block(block > 0)
        elif kind == "cosine":
            sim = cosine_block(block.astype(np.float64))
        else:
            raise ConfigError(f"unknown similarity {kind!r}; use jaccard or cosine")
        out[s : s + _BATCH] = _mean_pair_distance(sim, valid[s : s + _BATCH])
    return out


def ild_genres(recs: np.ndarray, genres: sp.csr_matrix | np.ndarray) -> np.ndarray:
    """Genre intra-list diversity: mean Jaccard distance between the genre sets of every pair in the list."""
    g = sp.csr_matrix(genres).toarray() if sp.issparse(genres) else np.asarray(genres)
    return ild(recs, g > 0, kind="jaccard")


def ild_vectors(recs: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Embedding intra-list diversity: mean cosine distance between the model's own item vectors."""
    return ild(recs, np.asarray(vectors), kind="cosine")


# --- popularity bias -------------------------------------------------------------------------


def arp(recs: np.ndarray, popularity: np.ndarray, n_users: int) -> np.ndarray:
    """Average recommendation popularity (Abdollahpouri et al. 2019) as a share: mean over the list of pop(i)/n_users.

    pop(i) = training users who interacted with item i; dividing by the number of training users
    puts ARP in [0, 1] (RecBole and Elliot report raw counts; multiply by ``n_users`` to compare).
    """
    pop = np.asarray(popularity, dtype=np.float64) / max(int(n_users), 1)
    idx, valid = _valid(recs, len(pop))
    n = valid.sum(axis=1)
    return np.divide(np.where(valid, pop[idx], 0.0).sum(axis=1), n, out=np.zeros(len(n)), where=n > 0)


def aplt(recs: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """Average percentage of long-tail items (Abdollahpouri et al. 2019): the share of each list in the long tail."""
    tail = np.asarray(tail, dtype=bool)
    idx, valid = _valid(recs, len(tail))
    n = valid.sum(axis=1)
    return np.divide((valid & tail[idx]).sum(axis=1), n, out=np.zeros(len(n)), where=n > 0)


def recommendation_counts(recs: np.ndarray, n_items: int) -> np.ndarray:
    """How many lists each catalogue item appears in (a repeated item in one list counts each time)."""
    idx, valid = _valid(recs, n_items)
    return np.bincount(idx[valid], minlength=n_items).astype(np.float64)


def gini(recs: np.ndarray, n_items: int) -> float:
    """Gini index of recommendation frequency over the whole catalogue (0 = every item equally often, → 1 = one item).

    G = Σ_j (2j − n − 1)·c_(j) / (n·Σc), c sorted ascending, j = 1..n, n = ``n_items`` (items never
    recommended count as zeros, as RecBole's ``GiniIndex``).
    """
    c = np.sort(recommendation_counts(recs, n_items))
    total = c.sum()
    if total == 0:
        return 0.0
    j = np.arange(1, n_items + 1, dtype=np.float64)
    return float(((2 * j - n_items - 1) * c).sum() / (n_items * total))


def entropy(recs: np.ndarray, n_items: int) -> float:
    """Shannon entropy (natural log) of how often each item is recommended: −Σ p_i ln p_i, p_i = c_i / Σc."""
    c = recommendation_counts(recs, n_items)
    total = c.sum()
    if total == 0:
        return 0.0
    p = c[c > 0] / total
    return float(-(p * np.log(p)).sum())


def aggregate_diversity(recs: np.ndarray, n_items: int) -> int:
    """Distinct items recommended to at least one user (Adomavicius & Kwon 2012)."""
    return int((recommendation_counts(recs, n_items) > 0).sum())


# --- calibration -----------------------------------------------------------------------------


def _kl(p: np.ndarray, q: np.ndarray, alpha: float) -> np.ndarray:
    """KL(p ‖ q̃) over the last axis with q̃ = (1 − α)q + αp; terms with p = 0 are 0."""
    qt = (1.0 - alpha) * q + alpha * p
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / np.where(qt > 0, qt, 1.0)), 0.0)
    return terms.sum(axis=-1)


def _normalise_rows(m: np.ndarray) -> np.ndarray:
    s = m.sum(axis=-1, keepdims=True)
    return np.divide(m, s, out=np.zeros_like(m), where=s > 0)


def calibration_kl(
    recs: np.ndarray,
    history: sp.csr_matrix,
    genre_shares: np.ndarray,
    *,
    alpha: float = CALIBRATION_ALPHA,
) -> np.ndarray:
    """Miscalibration per user (Steck 2018): KL(p(g|u) ‖ q̃(g|u)) between history and list genre distributions.

    p(g|u) = Σ_{i∈H_u} p(g|i) / Σ_g(…) over the user's training items (uniform weights); q(g|u)
    the same over the list; p(g|i) = ``genre_shares`` (an item's genres share its mass equally).
    Natural log. Users whose history carries no genre score 0.
    """
    shares = np.asarray(genre_shares, dtype=np.float64)
    hist = sp.csr_matrix(history)
    hist = hist.astype(bool).astype(np.float64)
    p = _normalise_rows(np.asarray(hist @ shares))
    idx, valid = _valid(recs, shares.shape[0])
    q = _normalise_rows((shares[idx] * valid[:, :, None]).sum(axis=1))
    return _kl(p, q, alpha)


# --- unexpectedness and serendipity ----------------------------------------------------------


def popular_lists(seen: sp.csr_matrix, popularity: np.ndarray, k: int) -> np.ndarray:
    """The popularity model's top-``k`` unseen items per row of ``seen`` (ties by item index): the primitive list.

    Seen items are marked by their popularity rank in a dense block over the top ``k + max |seen|``
    ranks (one pass over the nonzeros), so each row's first ``k`` unmarked ranks are its list.
    """
    seen = sp.csr_matrix(seen)
    pop = np.asarray(popularity, dtype=np.float64)
    order = np.argsort(-pop, kind="stable").astype(np.int32)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    out = np.full((seen.shape[0], k), -1, dtype=np.int32)
    for s in range(0, seen.shape[0], 1024):
        block = seen[s : s + 1024]
        counts = np.diff(block.indptr)
        m = min(len(order), k + int(counts.max(initial=0)))
        taken = np.zeros((block.shape[0], m), dtype=bool)
        r = rank[block.indices]
        rows = np.repeat(np.arange(block.shape[0]), counts)
        keep = r < m
        taken[rows[keep], r[keep]] = True
        pos = np.argsort(taken, axis=1, kind="stable")[:, :k]  # unseen ranks first, in popularity order
        ok = ~np.take_along_axis(taken, pos, axis=1)
        out[s : s + block.shape[0], : pos.shape[1]] = np.where(ok, order[pos], -1)
    return out


def _as_csr(lists: np.ndarray, n_items: int) -> sp.csr_matrix:
    idx, valid = _valid(lists, n_items)
    rows = np.repeat(np.arange(len(idx)), valid.sum(axis=1))
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, idx[valid])), shape=(len(idx), n_items))
    m.sum_duplicates()
    return m


def unexpectedness(recs: np.ndarray, primitive: np.ndarray, n_items: int) -> np.ndarray:
    """Share of each list that the primitive (popularity) model would not have recommended (Ge et al. 2010)."""
    in_pm = hits(recs, _as_csr(primitive, n_items))
    _, valid = _valid(recs, n_items)
    n = valid.sum(axis=1)
    return np.divide((valid & ~in_pm).sum(axis=1), n, out=np.zeros(len(n)), where=n > 0)


def serendipity(recs: np.ndarray, primitive: np.ndarray, relevant: sp.csr_matrix, n_items: int) -> np.ndarray:
    """Share of each list that is both unexpected (not in the primitive list) and relevant (Ge et al. 2010)."""
    in_pm = hits(recs, _as_csr(primitive, n_items))
    rel = hits(recs, relevant)
    _, valid = _valid(recs, n_items)
    n = valid.sum(axis=1)
    return np.divide((rel & ~in_pm).sum(axis=1), n, out=np.zeros(len(n)), where=n > 0)


# --- every metric for one set of lists -------------------------------------------------------


def beyond_metrics(
    recs: np.ndarray,
    *,
    seen: sp.csr_matrix,
    relevant: sp.csr_matrix | None,
    info: ItemInfo,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Every beyond-accuracy metric of one protocol's lists: (per-user values, aggregate values), unsuffixed names.

    ``seen`` holds the listed users' training items (rows aligned with ``recs``), ``relevant`` their
    test positives (for serendipity). Genre metrics need ``info.genres``; ``ild_vectors`` needs
    ``info.vectors``; the others need only popularity.
    """
    n_items = len(info.popularity)
    k = np.asarray(recs).shape[1]
    per_user: dict[str, np.ndarray] = {}
    if info.genres is not None and info.genres.shape[1] > 0:
        per_user["ild_genres"] = ild(recs, info.genre_dense(), kind="jaccard")
    if info.vectors is not None:
        per_user["ild_vectors"] = ild_vectors(recs, info.vectors)
    per_user["arp"] = arp(recs, info.popularity, info.n_users)
    per_user["aplt"] = aplt(recs, info.tail)
    if info.genres is not None and info.genres.shape[1] > 0:
        shares = info.genre_shares()
        assert shares is not None
        per_user["calibration_kl"] = calibration_kl(recs, seen, shares)
    primitive = popular_lists(seen, info.popularity, k)
    in_pm = hits(recs, _as_csr(primitive, n_items))  # shared by unexpectedness and serendipity
    _, valid = _valid(recs, n_items)
    n = valid.sum(axis=1)
    per_user["unexpectedness"] = np.divide((valid & ~in_pm).sum(axis=1), n, out=np.zeros(len(n)), where=n > 0)
    if relevant is not None:
        rel = hits(recs, relevant)
        per_user["serendipity"] = np.divide((rel & ~in_pm).sum(axis=1), n, out=np.zeros(len(n)), where=n > 0)
    aggregate = {
        "gini": gini(recs, n_items),
        "entropy": entropy(recs, n_items),
        "aggregate_diversity": float(aggregate_diversity(recs, n_items)),
    }
    return per_user, aggregate


# --- user groups -----------------------------------------------------------------------------


def activity_groups(counts: np.ndarray) -> np.ndarray:
    """Activity terciles: ``low``/``mid``/``high`` by training interactions, equal-sized (ties by position).

    Users are sorted by count (stable, so ties keep their order) and cut into three groups of
    ⌊n/3⌋ or ⌈n/3⌉: rank r of n goes to tercile ⌊3r/n⌋.
    """
    c = np.asarray(counts)
    n = len(c)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(c, kind="stable")] = np.arange(n)
    names = np.array(["low", "mid", "high"], dtype=object)
    return names[(3 * rank) // max(n, 1)] if n else np.empty(0, dtype=object)


def demographic_groups(dataset: Any) -> dict[str, np.ndarray]:
    """``{"gender": labels, "age": labels}`` per user index of ``dataset.interactions`` from its user file.

    Empty when the dataset has no demographics (ml-latest-small); users missing from the file get
    ``None`` (left out of the groups). Age uses ml-1m's groups (``25-34``…, movierec.demographics).
    """
    users = getattr(dataset, "users", None)
    if users is None or len(users) == 0:
        return {}
    from movierec.demographics import age_bucket

    ids = dataset.interactions.user_map.ids
    frame = users.drop_duplicates("userId").set_index("userId")
    try:
        aligned = frame.reindex(ids)
    except (TypeError, ValueError):
        return {}
    out: dict[str, np.ndarray] = {}
    if "gender" in aligned:
        out["gender"] = np.array(
            [g if isinstance(g, str) and g else None for g in aligned["gender"]], dtype=object
        )
    if "age" in aligned:
        out["age"] = np.array(
            [age_bucket(int(a)) if a == a and a is not None else None for a in aligned["age"]], dtype=object
        )
    return out


def group_metrics(
    per_user: Mapping[str, np.ndarray],
    groups: Mapping[str, np.ndarray],
    *,
    n_boot: int = 1000,
    seed: int = 42,
    level: float = 0.95,
    min_size: int = 2,
    clusters: np.ndarray | None = None,
    n_perm: int = 1000,
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """Every per-user metric's mean per user group, and the gap between the best- and worst-served group.

    ``groups`` maps a family (``activity``, ``gender``…) to a label per user (aligned with the
    per-user arrays; ``None``/empty labels are left out). Keys: ``metric[family=label]`` and
    ``metric[family gap]`` = mean(best group) − mean(worst group), best and worst by point estimate;
    ``users[family=label]`` is the group's number of users (no interval). Intervals are percentile
    bootstraps (as :func:`movierec.metrics.bootstrap_ci`): users are
    resampled within each group, the same draws serve every metric, and the gap's interval comes
    from the same resamples of its two groups. Groups with fewer than ``min_size`` users are skipped;
    a group under :data:`MIN_INTERVAL_USERS` users keeps its mean and size but gets no interval (its
    draws still serve the gap's interval).
    ``metric[family gap p]`` is the permutation p-value that the family's groups differ at all
    (:func:`gap_p_values`, ``n_perm`` shuffles of the labels over users, ``seed``): read "the groups
    are served differently" from p < :data:`GAP_SIGNIFICANCE`, not from the gap's interval excluding 0,
    which picks the best and worst groups after the fact (too often with three or more groups).

    ``clusters`` (pooled K-fold CV: each array position is a (user, fold) unit and this its user)
    makes it a cluster bootstrap, as the pooled rows' own intervals (``evaluation._cluster_cis``): a
    group's value is the mean over its units, each draw resamples the group's distinct users with all
    of their units in that group (:func:`movierec.metrics.cluster_bootstrap_means`), and
    ``users[family=label]`` counts those distinct users. A unit's label is the one it had in its fold,
    so a user whose activity tercile changed between folds is in each of those groups (with the units
    they had there): the sizes of a family can then sum to more than the users.
    """
    names = list(per_user)
    if not names:
        return {}, {}
    values = np.vstack([np.asarray(per_user[m], dtype=np.float64) for m in names])  # metrics × users
    rng = np.random.default_rng(seed)
    alpha = (1.0 - level) / 2.0
    out: dict[str, float] = {}
    ci: dict[str, tuple[float, float]] = {}
    for family, labels in groups.items():
        lab = np.asarray(labels, dtype=object)
        if len(lab) != values.shape[1]:
            raise ValueError(f"group {family!r} has {len(lab)} labels for {values.shape[1]} users")
        present = [g for g in dict.fromkeys(lab.tolist()) if g is not None and str(g) != "" and g == g]
        means: dict[str, np.ndarray] = {}
        boots: dict[str, np.ndarray] = {}
        for g in sorted(present, key=_group_order):
            members = np.flatnonzero(lab == g)
            v = values[:, members]
            owners = None if clusters is None else np.asarray(clusters)[members]
            n, b = _group_draws(v, owners, n_boot, rng, min_size)
            if b is None:
                continue
            means[str(g)] = v.mean(axis=1)
            boots[str(g)] = b
            out[f"users[{family}={g}]"] = float(n)  # the group's (distinct) users: no interval
            for j, m in enumerate(names):
                out[f"{m}[{family}={g}]"] = float(means[str(g)][j])
                if n >= MIN_INTERVAL_USERS:
                    ci[f"{m}[{family}={g}]"] = _percentile(b[j], means[str(g)][j], alpha)
        if len(means) < 2:
            continue
        keys = list(means)
        stacked = np.vstack([means[g] for g in keys])  # groups × metrics
        codes = np.full(len(lab), -1, dtype=np.int64)
        for c, g in enumerate(keys):
            codes[lab == g] = c
        owners = None if clusters is None else np.asarray(clusters)
        p = gap_p_values(values, codes, stacked.max(axis=0) - stacked.min(axis=0), owners, n_perm, seed)
        for j, m in enumerate(names):
            hi_g, lo_g = keys[int(np.argmax(stacked[:, j]))], keys[int(np.argmin(stacked[:, j]))]
            gap = float(means[hi_g][j] - means[lo_g][j])
            out[f"{m}[{family} gap]"] = gap
            out[f"{m}[{family} gap p]"] = float(p[j])
            ci[f"{m}[{family} gap]"] = _percentile(boots[hi_g][j] - boots[lo_g][j], gap, alpha)
    return out, ci


GAP_SIGNIFICANCE = 0.05
"""A gap's permutation p below this is read as "the groups are served differently" (report, docs)."""

_PERM_CELLS = 2_000_000  # permutations × units per chunk (16 MB of float64)
_EXACT_PERM_CELLS = 20_000_000
"""Up to this many units × ``n_perm`` (20,000 users at 1,000 shuffles; ml-1m's 6,040 and 5-fold ml-100k's
4,715 units fit), :func:`gap_p_values` draws every shuffle; above it the draws are bounded (sequential
stopping and a cap, :data:`MIN_PERM`)."""
MIN_PERM = 200
"""Above :data:`_EXACT_PERM_CELLS`, the fewest shuffles a metric's p rests on unless it stops early: p is
then no smaller than 1/201 ≈ 0.005, fine enough for the 0.05 reading."""
_STOP_AFTER = 10  # Besag & Clifford (1991)'s h: a metric stops at its 10th shuffle with range ≥ the gap


def gap_p_values(
    values: np.ndarray,
    codes: np.ndarray,
    observed: np.ndarray,
    owners: np.ndarray | None = None,
    n_perm: int = 1000,
    seed: int = 42,
) -> np.ndarray:
    """Permutation p-value per metric that a family's groups differ: the range of its group means.

    ``values`` is metrics × units, ``codes`` each unit's group (0..G−1; −1: left out), ``observed``
    the range max − min of the group means per metric (the gap). Each of ``n_perm`` draws shuffles the
    labels over the users (``numpy.random.default_rng(seed)``: the k-th draw orders the users by
    ``argsort`` of k-th row of ``random((n_perm, users))``) and recomputes the range; p = (1 + draws
    whose range ≥ the observed) / (1 + ``n_perm``). Unlike the gap's interval, which takes the best and
    worst groups as chosen in advance, the range is recomputed after every shuffle, so the choice of
    the extreme pair is allowed for: with no true difference p < 0.05 in ≈ 5% of shuffles for any
    number of groups (docs/beyond-accuracy.md).

    The cost is units × metrics × draws. Up to :data:`_EXACT_PERM_CELLS` units × ``n_perm`` every draw
    is made, as above. Beyond it the work is bounded two ways, the same draws in the same order:
    at most max(:data:`MIN_PERM`, cells / units) draws (200 for 100,000 users), and a metric stops at
    its 10th draw whose range ≥ the gap (sequential Monte Carlo, Besag & Clifford 1991) with p = 10 /
    the draws made, still a valid p-value; a gap with no real difference stops after ≈ 20 draws. A
    metric that never stops gets (1 + hits) / (1 + draws), at least 1/201.

    ``owners`` (pooled K-fold units: each unit's user) shuffles whole users: user u's i-th unit takes
    the label of the i-th unit (cycling) of the user it is swapped with, so a user's units move
    together (with one label per user, as gender and age, this is a plain shuffle of users' labels).
    """
    v = np.asarray(values, dtype=np.float64)
    codes = np.asarray(codes, dtype=np.int64)
    n_groups = int(codes.max(initial=-1)) + 1
    keep = codes >= 0
    if owners is None:
        owners = np.arange(len(codes))
    _, user = np.unique(np.asarray(owners)[keep], return_inverse=True)
    v, codes = v[:, keep], codes[keep]
    order = np.argsort(user, kind="stable")
    v, codes, user = v[:, order], codes[order], user[order]
    n_users = int(user.max(initial=-1)) + 1
    count = np.bincount(user, minlength=n_users)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    rank = np.arange(len(user)) - start[user]  # each unit's position among its user's units
    rng = np.random.default_rng(seed)
    bounded = len(user) * n_perm > _EXACT_PERM_CELLS
    draws = min(n_perm, max(MIN_PERM, _EXACT_PERM_CELLS // max(len(user), 1))) if bounded else n_perm
    hits = np.zeros(v.shape[0], dtype=np.int64)
    made = np.full(v.shape[0], draws, dtype=np.int64)  # the draws each metric's p rests on
    live = np.arange(v.shape[0])  # metrics still drawing
    tol = 1e-12 * np.maximum(1.0, np.abs(observed))
    step = max(1, _PERM_CELLS // max(len(user), 1))
    for s in range(0, draws, step):
        b = min(step, draws - s)
        perm = np.argsort(rng.random((b, n_users)), axis=1)  # user u takes user perm[u]'s labels
        src = perm[:, user]
        lab = codes[start[src] + rank % count[src]] + n_groups * np.arange(b)[:, None]  # b × units
        size = np.bincount(lab.ravel(), minlength=b * n_groups).reshape(b, n_groups)
        for j in live:
            sums = np.bincount(lab.ravel(), weights=np.tile(v[j], b), minlength=b * n_groups)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(size > 0, sums.reshape(b, n_groups) / size, np.nan)
            spread = np.nanmax(mean, axis=1) - np.nanmin(mean, axis=1)
            exceed = spread >= observed[j] - tol[j]
            if bounded and hits[j] + int(exceed.sum()) >= _STOP_AFTER:  # the h-th exceedance: stop here
                made[j] = s + 1 + int(np.flatnonzero(np.cumsum(exceed) + hits[j] >= _STOP_AFTER)[0])
                hits[j] = _STOP_AFTER
            else:
                hits[j] += int(exceed.sum())
        live = live[hits[live] < _STOP_AFTER] if bounded else live
        if not len(live):
            break
    stopped = bounded & (hits >= _STOP_AFTER)
    return np.where(stopped, hits / made, (1.0 + hits) / (1.0 + made))


def _group_draws(
    v: np.ndarray, owners: np.ndarray | None, n_boot: int, rng: np.random.Generator, min_size: int
) -> tuple[int, np.ndarray | None]:
    """One group's number of users and its resampled means (metrics × ``n_boot``; ``None`` under
    ``min_size`` users): ``v``'s columns are users drawn with replacement, or with ``owners`` (each
    column's user, pooled folds) units whose distinct users are drawn, each with all of their units."""
    if owners is not None:
        return _cluster_draws(v, owners, n_boot, rng, min_size)
    n = v.shape[1]
    if n < min_size:
        return n, None
    # resample counts per user: one matrix product gives every metric's resampled means
    return n, v @ resample_counts(n_boot, n, rng).T / n  # metrics × n_boot


def _cluster_draws(
    v: np.ndarray, owners: np.ndarray, n_boot: int, rng: np.random.Generator, min_size: int
) -> tuple[int, np.ndarray | None]:
    """:func:`_group_draws` over units: the distinct users among ``v``'s columns (``owners``: each
    column's user), drawn with replacement, each draw's mean Σ drawn users' sums / Σ their units."""
    _, inv = np.unique(owners, return_inverse=True)
    n = int(inv.max()) + 1 if inv.size else 0
    if n < min_size:
        return n, None
    sums = np.vstack([np.bincount(inv, weights=row, minlength=n) for row in v])  # metrics × users
    counts = np.bincount(inv, minlength=n).astype(np.float64)
    return n, cluster_bootstrap_means(sums, counts, n_boot=n_boot, rng=rng)


def _group_order(g: object) -> tuple[int, str]:
    order = {"under 18": -1, "low": 0, "mid": 1, "high": 2}  # ml-100k's youngest age group first
    return (order.get(str(g), 3), str(g))


def _percentile(samples: np.ndarray, point: float, alpha: float) -> tuple[float, float]:
    lo, hi = np.quantile(samples, [alpha, 1.0 - alpha])
    return (float(min(lo, point)), float(max(hi, point)))


# --- glue: add every beyond-accuracy metric to a protocol's output ----------------------------


def item_info(model: Recommender, train: Any, genres: sp.csr_matrix | None = None) -> ItemInfo:
    """:class:`ItemInfo` for a fitted model and its training :class:`~movierec.interactions.Interactions`."""
    pairs = train_pairs(train)
    vectors = None
    get = getattr(model, "similar_vectors", None) or getattr(model, "item_embeddings", None)
    if callable(get):
        try:
            emb = get()
        except Exception:
            emb = None
        if emb is not None and np.ndim(emb) == 2 and np.shape(emb)[0] == train.n_items:
            vectors = np.asarray(emb, dtype=np.float64)
    if genres is not None and genres.shape[0] != train.n_items:
        raise ConfigError(f"genre matrix has {genres.shape[0]} rows for {train.n_items} items")
    return ItemInfo(
        popularity=item_popularity(pairs),
        n_users=int((np.diff(pairs.indptr) > 0).sum()),
        genres=genres,
        vectors=vectors,
    )


def train_pairs(train: Any) -> sp.csr_matrix:
    """Binary users × items CSR of the training log's pairs (duplicates once)."""
    m = sp.csr_matrix(
        (np.ones(len(train.users), dtype=np.float32), (train.users, train.items)), shape=train.shape
    )
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def extend_output(
    out: Any,
    *,
    model: Recommender,
    train: Any,
    k: int,
    seed: int = 42,
    genres: sp.csr_matrix | None = None,
    user_groups: Mapping[str, np.ndarray] | None = None,
    n_boot: int = 1000,
    n_perm: int = 1000,
) -> None:
    """Add beyond-accuracy and per-group metrics to a full-ranking :class:`~movierec.evaluation.EvalOutput` in place.

    Needs ``out.recs`` (the top-K lists of ``out.users``). Per-user metrics go to ``out.per_user``
    (``arp@10``…, bootstrapped with the accuracy metrics); list-set metrics to ``out.metrics``;
    every accuracy metric per user group (activity terciles, plus ``user_groups``: a label per
    training user, e.g. gender) with its interval (``n_boot`` draws) and its gap's p (``n_perm``
    shuffles, :func:`gap_p_values`) to ``out.metrics``/``out.intervals``, and each
    user's labels to ``out.groups`` (K-fold CV pools the folds' units by these: :func:`pool_groups`).
    """
    recs = getattr(out, "recs", None)
    if recs is None:
        return
    info = item_info(model, train, genres)
    pairs = train_pairs(train)
    users = np.asarray(out.users, dtype=np.int64)
    accuracy = _grouped(out.per_user)
    per_user, aggregate = beyond_metrics(
        recs, seen=pairs[users], relevant=getattr(out, "relevant", None), info=info
    )
    for m, v in per_user.items():
        out.per_user[f"{m}@{k}"] = v
        out.metrics[f"{m}@{k}"] = float(v.mean()) if len(v) else float("nan")
    for m, x in aggregate.items():
        out.metrics[f"{m}@{k}"] = x
    families: dict[str, np.ndarray] = {"activity": activity_groups(np.diff(pairs.indptr)[users])}
    for family, labels in (user_groups or {}).items():
        lab = np.asarray(labels, dtype=object)
        families[family] = lab[users] if len(lab) == train.n_users else lab
    vals, ci = group_metrics(accuracy, families, n_boot=n_boot, seed=seed, n_perm=n_perm)
    out.metrics.update(vals)
    if not hasattr(out, "intervals") or out.intervals is None:
        out.intervals = {}
    out.intervals.update(ci)
    out.groups = families  # each user's labels, so pooled folds can split their units (pool_groups)


def pool_groups(
    per_user: Mapping[str, np.ndarray],
    groups: Mapping[str, np.ndarray],
    clusters: np.ndarray,
    *,
    seed: int = 42,
    n_boot: int = 1000,
    n_perm: int = 1000,
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """:func:`extend_output`'s per-group figures for outputs pooled over K-fold CV.

    ``per_user`` and ``groups`` hold one value and one label per (user, fold) unit, ``clusters``
    each unit's user: every group's value is the mean over its units and its interval (and the gap's)
    a cluster bootstrap over its users (:func:`group_metrics` with ``clusters``), as the pooled
    accuracy metrics are a mean over units with intervals that resample users.
    """
    return group_metrics(
        _grouped(per_user), groups, n_boot=n_boot, seed=seed, clusters=clusters, n_perm=n_perm
    )


def _grouped(per_user: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The per-user metrics split by user group: the accuracy metrics (not novelty, not beyond accuracy)."""
    return {m: v for m, v in per_user.items() if not is_beyond(m) and not m.startswith("novelty")}
