"""The kNN family (Surprise's KNNBasic/KNNWithMeans/KNNWithZScore/KNNBaseline, item-based): best-first
neighbour lists.

r̂_ui = base + Σ_{j ∈ N^k_i(u)} s_ij (r_uj − base_uj) / Σ s_ij over the k most similar items the
user rated (Koren 2010, 'Factor in the neighbors'); KNNBasic uses Σ s·r / Σ s with a fallback.
KNNWithZScore scales each deviation by its item's spread σ_j and the sum by σ_i (``knn_x_scale``):
r̂_ui = μ_i + σ_i Σ s_ij (r_uj − μ_j)/σ_j / Σ s_ij (Herlocker et al. 1999), nothing per user, so a
visitor's ratings enter exactly as a training user's do.
A visitor's user offset is their mean deviation from μ + b_i, shrunk by ``n + 5`` ratings.
LensKit's explicit ItemKNNScorer (``itemknn-explicit``, rule 2) is KNNWithMeans' prediction over its own
lists, with no user offset, and its BiasScorer() μ + b_i + b_u where no neighbour counts: a visitor's b_u
there is the plain mean of their r − μ − b_i, as BiasScorer() places a person from their ratings.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.errors import ArtifactError, ConfigError
from movierec.scoring import base
from movierec.scoring.base import Exported
from movierec.scoring.neighbours import csr_arrays

__all__ = ["KnnIndex", "Scorer", "SimilarRows", "export", "similar_spec"]

#: pseudo-ratings shrinking a visitor's user offset towards 0
USER_OFFSET_SHRINK = 5.0
#: each model's combination rule (``knn_rule``; 1 for the others): 0 KNNBasic's Σ s·r / Σ s, or the fallback
#: below min_k; 2 LensKit's explicit ItemKNNScorer (itemknn-explicit): m_i + dev where at least max(min_k, 1)
#: neighbours count, else its BiasScorer() μ + b_i + b_u, a visitor's b_u the undamped mean of r − μ − b_i
_RULES = {"knn-basic": 0, "itemknn-explicit": 2}


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    """Neighbour lists in best-first order, per-item and per-user offsets, k, min_k and the combination rule."""
    if getattr(model, "user_based", False):
        raise ConfigError(f"cannot export {model.name!r} with user_based=true: serving needs item neighbours")
    nb = sp.csr_matrix(model.neighbours_)  # row order is best first: keep it (no sort_indices)
    has_biases = bool(getattr(model, "has_biases", True))
    ub, ib = getattr(model, "user_bias_", None), getattr(model, "item_bias_", None)
    gm = float(np.asarray(getattr(model, "global_mean_", 0.0) or 0.0))
    z_scores = getattr(model, "x_std_", None) is not None  # KNNWithZScore: offsets μ_i, scales σ_i
    arrays = {
        **csr_arrays("neighbours", nb, data="weights", sort=False),
        "knn_x_offset": np.asarray(model.x_mean_ if z_scores else model.x_offset_, dtype=np.float64),
        "knn_y_offset": np.asarray(model.y_offset_, dtype=np.float64),
        "knn_k": np.int64(model.k),
        "knn_min_k": np.int64(model.min_k),
        # 0: Σs·r/Σs or fallback; 1: base + dev; 2: m_i + dev or LensKit's bias fallback (_RULES)
        "knn_rule": np.int64(_RULES.get(model.name, 1)),
        # the fallback's μ, b_u, b_i as the model holds them (float64 in itemknn-explicit, float32 values
        # in knn-baseline), so the artifact's fallback is the model's to the bit; float32 copies were up to
        # 4.8e-7 off itemknn-explicit's (an artifact that holds them still loads, and computes in float32)
        "global_mean": np.float64(gm),
        "user_bias": np.zeros(n_users) if ub is None or not has_biases else np.asarray(ub, np.float64),
        "item_bias": np.zeros(n_items) if ib is None or not has_biases else np.asarray(ib, np.float64),
    }
    if z_scores:
        arrays["knn_x_scale"] = np.asarray(model.x_std_, dtype=np.float64)
    order = getattr(model, "rating_order_", None)
    if order is not None:  # the tie order at the k-th neighbour (models.knn.training_order), per seen rating
        arrays["knn_rating_order"] = np.asarray(order, dtype=np.int32)
    return arrays, {"threshold": float(threshold), **similar_spec(model)}


def similar_spec(model: Any) -> dict[str, Any]:
    """``{"similar": …}`` for a k-NN model whose 'similar' rows are computed whole from the training
    ratings (:func:`movierec.models.knn.rows_from_ratings`), else {}."""
    from movierec.models.knn import SIMILARITIES, rows_from_ratings

    kind = getattr(model, "similarity", None)
    if not isinstance(kind, str) or kind.lower() not in SIMILARITIES or not rows_from_ratings(kind):
        return {}
    return {
        "similar": {"kind": kind, "min_support": int(model.min_support), "shrinkage": float(model.shrinkage)}
    }


class SimilarRows:
    """A scorer's 'similar' rows from the training ratings when its spec says so (:func:`similar_spec`),
    the :class:`movierec.models.knn.RatingSimilarity` built on first use; ``row`` is None otherwise."""

    def __init__(self, seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        self.seen, self.how = seen, spec.get("similar")
        self._rows: Any = None

    def row(self, item: int) -> np.ndarray | None:
        if not isinstance(self.how, dict):
            return None
        if self._rows is None:
            from movierec.models.knn import RatingSimilarity

            h = self.how
            self._rows = RatingSimilarity(
                self.seen, str(h["kind"]), int(h["min_support"]), float(h["shrinkage"])
            )
        return self._rows.row(item)


class KnnIndex:
    """Column access to best-first neighbour lists: for the items a user rated, the lists they appear in.

    Scores need only the lists as the model's kernel reads them; the column index and the per-entry arrays
    that explanations read (:meth:`terms`) are built on first use (0.15 of the 0.17 s a build took on
    ml-latest-small's item-kNN lists, paid by every visitor a model folded in and every knn server start)."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        indptr = arrays["neighbours_indptr"]
        n = len(indptr) - 1
        self.n = n
        self.indptr = np.asarray(indptr, dtype=np.int64)
        # the lists as the model's kernel reads them (accel.predict_dense_items: int32 neighbours, float32
        # similarities), converted once rather than per scored user
        self._nb_idx = np.ascontiguousarray(arrays["neighbours_indices"], dtype=np.int32)
        self._nb_sim = np.ascontiguousarray(arrays["neighbours_weights"], dtype=np.float32)
        self._all = np.arange(n, dtype=np.int64)
        self._no_offset = np.zeros(n)
        self.x_off = arrays["knn_x_offset"]
        self.x_scale = arrays.get("knn_x_scale")  # KNNWithZScore's σ per item (None: 1)
        self.k = int(arrays["knn_k"])
        self.min_k = int(arrays["knn_min_k"])
        self.rule = int(arrays["knn_rule"])

    @cached_property
    def rows(self) -> np.ndarray:
        """Each list entry's list (target item)."""
        return np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.indptr))

    @cached_property
    def sims(self) -> np.ndarray:
        """Each list entry's similarity as the kernel reads it (an artifact's are float32), in float64."""
        return self._nb_sim.astype(np.float64)

    @cached_property
    def by_col(self) -> sp.csc_matrix:
        """Positions + 1 (so none is a stored zero) as CSC: column j = every list that contains j."""
        nnz = len(self._nb_idx)
        pos = sp.csr_matrix(
            (np.arange(1, nnz + 1, dtype=np.float64), self._nb_idx, self.indptr), shape=(self.n, self.n)
        )
        return pos.tocsc()

    def scores(
        self,
        items: np.ndarray,
        ratings: np.ndarray,
        y_off: float,
        fallback: np.ndarray,
        came: np.ndarray | None = None,
    ) -> np.ndarray:
        """Predicted ratings for every item: the k first neighbours of each item among ``items`` (Surprise's
        rule). Neighbours of equal similarity at the k-th place are taken in the order of ``came`` (one number
        per item: when its rating came), the earliest first, as Surprise's ``heapq.nlargest`` does over a
        user's ratings; None: in list order (an artifact exported before the rating order was kept).

        The deviations and neighbour counts come from the kernel the model predicts with
        (:func:`movierec.models.kernels.accel.predict_dense_items`, as ``models.knn`` calls it) over a one-row
        CSR of the user's ratings: one implementation of the rule, the model's. On every seventh
        ml-latest-small user, knn-basic, knn-means, knn-zscore, knn-baseline and itemknn-explicit score
        exactly as the model's ``predicted_scores`` (knn-baseline's base is its float64 offsets, as here;
        itemknn-explicit's bias fallback the float64 μ + b_u + b_i :func:`export` writes; both were up to
        4.8e-7 off before, float32 on one side). A numpy gather
        over every list entry did this before, at 2-3x the CPU per user. A movie given twice counts once,
        with its last rating (an artifact's visitor keeps one per movie already)."""
        dev, actual = self._deviations(items, ratings, y_off, came)
        if self.rule == 0:
            est = np.where((actual < self.min_k) | (actual == 0), fallback, dev)
        elif self.rule == 2:
            est = np.where(actual < max(self.min_k, 1), fallback, self.x_off + y_off + dev)
        else:
            scale = 1.0 if self.x_scale is None else self.x_scale
            est = self.x_off + y_off + scale * np.where(actual < self.min_k, 0.0, dev)
        return est.astype(np.float32)

    def _deviations(
        self, items: np.ndarray, ratings: np.ndarray, y_off: float, came: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every item's Σ s (r_uj − x_off_j − y_off) / Σ s over its k first rated neighbours (0 where none
        counts; under z-scores each deviation over σ_j) and how many counted, by the model's kernel. The
        user is one CSR row (items in the order given: the kernel finds each by its marker, and ``came``,
        per rating, breaks ties); under z-scores the row holds (r − μ_j − y_off) / σ_j and the offsets are 0,
        as ``KNNWithZScore`` stores its z-scored ratings."""
        from movierec.models.kernels import accel

        items = np.asarray(items, dtype=np.int64)
        values = np.asarray(ratings, dtype=np.float64)
        offsets, user = self.x_off, np.array([y_off], dtype=np.float64)
        if self.x_scale is not None:
            values = (values - self.x_off[items] - y_off) / self.x_scale[items]
            offsets, user = self._no_offset, np.zeros(1)
        dev, actual = accel.predict_dense_items(
            np.zeros(1, dtype=np.int64), self._all, self.indptr, self._nb_idx, self._nb_sim,
            np.array([0, len(items)], dtype=np.int64), items, values, offsets, user, self.n, self.k,
            None if came is None else np.asarray(came),
        )  # fmt: skip
        return dev[0], actual[0]

    def terms(
        self,
        items: np.ndarray,
        ratings: np.ndarray,
        y_off: float,
        fallback: np.ndarray,
        targets: np.ndarray,
        came: np.ndarray | None = None,
    ) -> np.ndarray:
        """Each rated item's term in each target's predicted rating above the target's baseline,
        ``(len(items), len(targets))``: s_ij (r_uj − base_uj) / Σ s (times σ_i under z-scores; KNNBasic:
        s_ij (r_uj − fallback_i) / Σ s), so a target's terms add up to its prediction (:meth:`scores`) less
        the baseline (x_off_i + y_off, or KNNBasic's fallback). 0 where the item is not among the target's
        k neighbours, and everywhere for a target with fewer than min_k (its prediction is the baseline)."""
        targets = np.asarray(targets, dtype=np.int64)
        rows, s, dev, col = self._pairs(items, ratings, y_off, came)
        sum_sim = np.bincount(rows, weights=s, minlength=self.n)
        actual = np.bincount(rows, minlength=self.n)
        if self.rule == 0:
            dev = np.asarray(ratings, dtype=np.float64)[col] - np.asarray(fallback, dtype=np.float64)[rows]
        elif self.x_scale is not None:
            dev = dev * self.x_scale[rows]
        counts = (actual >= max(self.min_k, 1)) & (sum_sim > 0)
        share = np.divide(s * dev, sum_sim[rows], out=np.zeros(len(rows)), where=counts[rows])
        at = np.full(self.n, -1, dtype=np.int64)
        at[targets] = np.arange(len(targets))
        hit = at[rows] >= 0
        out = np.zeros((len(items), len(targets)))
        np.add.at(out, (col[hit], at[rows[hit]]), share[hit])
        return out

    def _pairs(
        self, items: np.ndarray, ratings: np.ndarray, y_off: float, came: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The (target row, similarity, deviation, position in ``items``) of every rated item among a
        target's k first neighbours (:meth:`scores`' choice); the deviation r_uj − x_off_j − y_off, over σ_j
        under z-scores."""
        items = np.asarray(items, dtype=np.int64)
        sub = self.by_col[:, items]
        pos = sub.data.astype(np.int64) - 1
        col = np.repeat(np.arange(len(items)), np.diff(sub.indptr))
        rows = self.rows[pos]
        # each entry's place among the user's movies in its list (lists are best first): a running count of
        # the user's movies over every list, read at the entry and where its list starts. Ordering the
        # entries instead (a user's 200 movies meet ~200,000 of them) took 4x as long, 13x the model's own
        # scoring per user.
        mine = np.zeros(self.n, dtype=bool)
        mine[items] = True
        running = np.zeros(len(self._nb_idx) + 1, dtype=np.int64)  # running[p]: the user's movies before p
        np.cumsum(mine[self._nb_idx], out=running[1:])
        rank = running[pos] - running[self.indptr[rows]]
        keep = rank < self.k
        if came is not None:  # equal similarities go by when the rating came, not by list order: in a list
            # whose k-th and (k+1)-th of the user's movies are equally similar (s), those above s stay, and of
            # those at s the earliest rated fill the places left
            at = np.full(self.n, np.nan)
            kth = rank == self.k - 1
            at[rows[kth]] = self.sims[pos[kth]]
            past = np.flatnonzero(rank == self.k)
            tied = np.zeros(self.n, dtype=bool)
            tied[rows[past[self.sims[pos[past]] == at[rows[past]]]]] = True
            e = np.flatnonzero(tied[rows])
            if len(e):
                sim, edge = self.sims[pos[e]], at[rows[e]]
                places = self.k - np.bincount(rows[e], weights=sim > edge, minlength=self.n).astype(np.int64)
                level = e[sim == edge]
                order = level[np.lexsort((np.asarray(came)[col[level]], rows[level]))]
                ranked = rows[order]
                starts = np.r_[0, np.flatnonzero(np.diff(ranked)) + 1]
                first = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
                keep[e] = sim > edge
                keep[order] = first < places[ranked]
        rows, pos, col = rows[keep], pos[keep], col[keep]
        dev = np.asarray(ratings, dtype=np.float64)[col] - self.x_off[items[col]] - y_off
        if self.x_scale is not None:
            dev = dev / self.x_scale[items[col]]
        return rows, self.sims[pos], dev, col


class Scorer(base.Scorer):
    family: ClassVar[str] = "knn"

    def __init__(self, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        super().__init__(arrays, seen, spec)
        self.index = KnnIndex(arrays)
        self._similar = SimilarRows(seen, spec)
        self.has_user_offset = bool(np.any(arrays["knn_y_offset"] != 0))
        self._came = arrays.get("knn_rating_order")
        if self._came is not None and self._came.shape != (seen.nnz,):
            raise ArtifactError(
                f"knn_rating_order must hold one number per training rating ({seen.nnz:,}), "
                f"got shape {self._came.shape}"
            )
        n = self.n_items
        self.s = sp.csr_matrix(
            (arrays["neighbours_weights"], arrays["neighbours_indices"], arrays["neighbours_indptr"]),
            shape=(n, n),
        )

    def known(self, u: int) -> np.ndarray:
        items, ratings, y_off, fallback, came = self._known_row(u)
        return self.index.scores(items, ratings, y_off, fallback, came)

    def known_terms(self, u: int, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Training user ``u``'s rated movies (item indices, as stored), their ratings, and each one's term in
        the ``targets``' predicted ratings above their baseline, ``(len(items), len(targets))``
        (:meth:`KnnIndex.terms` over the very row, user offset, fallback and tie order :meth:`known`
        predicts with): a target's terms add up to ``known(u)[target]`` less x_off + the user's offset
        (KNNBasic: less its fallback). What a known user's reasons are read on
        (:func:`movierec.scoring.explain.known_because`)."""
        items, ratings, y_off, fallback, came = self._known_row(u)
        terms = self.index.terms(items, ratings, y_off, fallback, np.asarray(targets, dtype=np.int64), came)
        return np.asarray(items, dtype=np.int64), np.asarray(ratings, dtype=np.float64), terms

    def _known_row(self, u: int) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, np.ndarray | None]:
        """Training user ``u``'s (items, ratings, user offset, fallback predictions, tie order)."""
        a = self.a
        lo, hi = self.seen.indptr[u], self.seen.indptr[u + 1]
        fallback = a["global_mean"] + a["user_bias"][u] + a["item_bias"]
        came = self._came[lo:hi] if self._came is not None else None
        return self.seen.indices[lo:hi], self.seen.data[lo:hi], float(a["knn_y_offset"][u]), fallback, came

    def fold_in(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        values, ub, fallback = self._visitor(items, ratings)
        # a visitor's ratings came in the order given (a training user's, folded in in training order, give
        # the model's own predictions)
        return self.index.scores(items, values, ub, fallback, np.arange(len(items)))

    def fold_in_terms(self, items: np.ndarray, ratings: np.ndarray | None, targets: np.ndarray) -> np.ndarray:
        """A visitor's rated movies' terms in the ``targets``' predicted ratings above their baseline
        (:meth:`KnnIndex.terms`, the neighbours :meth:`fold_in` uses): what k-NN's prediction is a sum of,
        which :func:`movierec.scoring.explain.because` reads its reasons on (``terms=``)."""
        values, ub, fallback = self._visitor(items, ratings)
        return self.index.terms(items, values, ub, fallback, targets, np.arange(len(items)))

    def _visitor(self, items: np.ndarray, ratings: np.ndarray | None) -> tuple[np.ndarray, float, np.ndarray]:
        """A visitor's ratings (``top`` each where none are given), user offset and fallback predictions."""
        a = self.a
        values = np.full(len(items), float(self.spec.get("top", 5.0))) if ratings is None else ratings
        values = np.asarray(values, dtype=np.float64)
        ub = 0.0
        if self.index.rule == 2:  # no user offset in the prediction; the fallback's b_u, undamped (LensKit's)
            bu = float(np.mean(values - a["global_mean"] - a["item_bias"][items])) if len(items) else 0.0
            return values, ub, a["global_mean"] + a["item_bias"].dtype.type(bu) + a["item_bias"]
        if self.has_user_offset:
            ub = float(
                np.sum(values - a["global_mean"] - a["item_bias"][items]) / (len(items) + USER_OFFSET_SHRINK)
            )
        # b_u in the biases' own precision (float64; float32 in an artifact that holds float32 copies)
        return values, ub, a["global_mean"] + a["item_bias"].dtype.type(ub) + a["item_bias"]

    def neighbour_rows(self) -> sp.csr_matrix | None:
        return self.s

    def similar_row(self, item: int) -> np.ndarray | None:
        """The item's similarity to every item, computed whole from the training ratings under ``msd``,
        ``cosine`` and ``pearson`` (their truncated lists hold mostly items with a handful of co-raters;
        see :meth:`movierec.models.knn._KNN.similarity_row`), else from the neighbour lists."""
        row = self._similar.row(item)
        return super().similar_row(item) if row is None else row
