"""Item-based k-nearest-neighbours on implicit feedback (Sarwar et al. 2001; Deshpande & Karypis 2004).

Similarities are computed block by block from the sparse users × items matrix and only the top
``k`` neighbours of each item are kept (a sparse items × items CSR, never a dense n_items²
matrix). A user's scores are their (weighted) interaction row times that neighbour matrix.

Which neighbourhood a score sums over (``neighbourhood``):

- ``"candidate"`` (the default): a candidate movie's score is the summed similarity of the user's movies
  among *its own* ``k`` nearest, Sarwar, Karypis, Konstan & Riedl's (2001) item-based prediction and
  RecBole's ItemKNN (NDCG@10 0.2836 against RecBole 1.2.1's 0.2834 on its ml-100k split, k 100,
  ``docs/from-recbole.md``).
- ``"rated"``: the summed similarity of every user movie that lists the candidate among its ``k``
  nearest, Deshpande & Karypis's (2004) top-N scheme and implicit's ``ItemItemRecommender`` /
  ``CosineRecommender`` (``docs/from-implicit.md``).

The default comes from a validation study (the training parts only, seeds 1–3; cosine, k 100, the
defaults): NDCG@10 0.1470 against 0.1215 on ml-latest-small (positives ≥ 4, interactions hold-out),
0.2459 against 0.2270 on ml-100k (every rating a positive, per-user 75/25); with cosine the candidate
side led at every k from 50 to 400 on both. With BM25 weighting it is mixed (ml-latest-small: the
rated side by 2–5% from k 50; ml-100k: the candidate side by up to 4%). ``bench/itemknn_study.py``
reruns it (``bench/results/itemknn_study.json``).

``similarity="lift"`` is association rules' *lift* or *interest* (Brin, Motwani, Ullman & Tsur 1997,
"Dynamic itemset counting and implication rules for market basket data"): how many more users liked
both movies than would by chance, n·c_ij / (c_i·c_j), times the co-support shrinkage c_ij / (c_ij + shrink)
(Koren 2010, eq. 7) so that a pair liked together by two people does not top the list. Cosine and EASE's
weights grow with a movie's popularity, so their lists for a family film on ml-100k open with Star Wars
and Fargo; lift asks what goes with *this* movie more than with any other and lists Beauty and the
Beast, Aladdin and The Lion King (``bench/similar_study.py``). It is ``movierec similar``'s default.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp

from movierec.interactions import Interactions
from movierec.models.base import Tags, topk
from movierec.models.params import NON_NEGATIVE, POSITIVE_INT, ActsWhen, Constraint, Interval, Options
from movierec.models.space import Choice, FloatRange, IntRange, SearchSpace
from movierec.models.weighting import WeightedRecommender, weighted_csr

__all__ = [
    "LIFT_K",
    "LIFT_SHRINK",
    "NEIGHBOURHOODS",
    "SIMILARITIES",
    "ItemKNN",
    "bm25_weight",
    "item_similarity_topk",
    "lift_neighbours",
    "lift_positives",
    "lift_table",
    "scoring_matrix",
    "train_positives",
]

SIMILARITIES = ("cosine", "asymmetric", "bm25", "lift")
#: whose k nearest a score sums over: the candidate's own (Sarwar et al. 2001) or each rated movie's
#: (Deshpande & Karypis 2004; implicit's ItemItemRecommender); the module docstring has the study
NEIGHBOURHOODS = ("candidate", "rated")
#: the 'similar' lists by lift (``movierec similar``'s default, an artifact's table, ``Recommender.similar``):
#: neighbours kept per movie and the co-support shrinkage, from ``bench/similar_study.py``
LIFT_K = 50
LIFT_SHRINK = 5.0


def bm25_weight(x: sp.csr_matrix, k1: float = 1.2, b: float = 0.75) -> sp.csr_matrix:
    """Okapi BM25 weighting of a users × items matrix (Robertson & Zaragoza 2009): users are the
    'documents', items the 'terms'; frequent items are damped by IDF, long profiles by length."""
    x = sp.csr_matrix(x, dtype=np.float64, copy=True)
    n_users = x.shape[0]
    df = np.bincount(x.indices, minlength=x.shape[1]).astype(np.float64)
    idf = np.log(n_users / (1.0 + df)) + 1.0  # smoothed, stays positive
    length = np.diff(x.indptr).astype(np.float64)
    avg = length.mean() if len(length) and length.mean() > 0 else 1.0
    norm = k1 * (1.0 - b + b * length / avg)
    rows = np.repeat(np.arange(n_users), np.diff(x.indptr))
    x.data = x.data * (k1 + 1.0) / (norm[rows] + x.data) * idf[x.indices]
    return x.astype(np.float32)


def scoring_matrix(neighbours: sp.csr_matrix, neighbourhood: str) -> sp.csr_matrix:
    """What a user's (weighted) row is multiplied by: the neighbour rows as they are (``"rated"``: a
    candidate gathers the similarity of every rated movie that lists it among its k nearest), or their
    transpose (``"candidate"``: of the rated movies among the candidate's own k nearest)."""
    if neighbourhood == "rated":
        return neighbours
    w = sp.csr_matrix(neighbours.T)
    w.sort_indices()
    return w


def item_similarity_topk(
    x: sp.csr_matrix,
    k: int,
    *,
    alpha: float = 0.5,
    shrink: float = 0.0,
    block: int = 512,
    lift: bool = False,
) -> sp.csr_matrix:
    """Top-``k`` asymmetric-cosine neighbours per item of a users × items matrix, as items × items CSR.

    sim(i, j) = x_i·x_j / (‖x_i‖^(2α) ‖x_j‖^(2(1−α)) + shrink) (Aiolli 2013; α = 0.5 is cosine).
    With ``lift``: sim(i, j) = n·x_i·x_j / (s_i·s_j) · x_i·x_j / (x_i·x_j + shrink), s the column sums and
    n the users (for binary x: co-likes over the count expected by chance, shrunk by co-support).
    Computed ``block`` items at a time; self-similarity and zero similarities are dropped.
    """
    xc_full = sp.csc_matrix(x, dtype=np.float32)
    n_items = xc_full.shape[1]
    active = np.flatnonzero(np.diff(xc_full.indptr) > 0)  # items without interactions have no neighbours
    xc = xc_full[:, active]
    n_active = len(active)
    if lift:  # s_i·s_j / n in the denominator, the shrinkage applied below
        sums = np.asarray(xc.sum(axis=0)).ravel().astype(np.float64)
        left, right = sums / max(xc.shape[0], 1), sums
    else:
        norm = np.sqrt(np.asarray(xc.multiply(xc).sum(axis=0)).ravel().astype(np.float64))
        left = np.power(norm, 2 * alpha)
        right = np.power(norm, 2 * (1 - alpha))
    xt = sp.csr_matrix(xc.T)
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    vals_out: list[np.ndarray] = []
    k_eff = min(k, max(n_active - 1, 1))
    for start in range(0, n_active, block):
        stop = min(start + block, n_active)
        dots = (xt[start:stop] @ xc).toarray()  # (block, n_active)
        denom = (left[start:stop, None] * right[None, :] + (0.0 if lift else shrink)).astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            sims = np.where(denom > 0, dots / denom, np.float32(0.0)).astype(np.float32)
            if lift and shrink > 0:
                sims *= (dots / (dots + np.float32(shrink))).astype(np.float32)
        sims[np.arange(stop - start), np.arange(start, stop)] = 0.0
        idx, vals = topk(sims, k_eff)
        keep = vals > 0
        rows_out.append(active[np.repeat(np.arange(start, stop), keep.sum(axis=1))])
        cols_out.append(active[idx[keep]])
        vals_out.append(vals[keep])
    return _items_csr(rows_out, cols_out, vals_out, n_items)


def _items_csr(
    rows_out: list[np.ndarray], cols_out: list[np.ndarray], vals_out: list[np.ndarray], n_items: int
) -> sp.csr_matrix:
    """The items × items CSR of neighbour blocks (rows, columns, values per block of items), indices sorted."""
    rows = np.concatenate(rows_out) if rows_out else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(cols_out) if cols_out else np.zeros(0, dtype=np.int64)
    vals = np.concatenate(vals_out) if vals_out else np.zeros(0, dtype=np.float32)
    out = sp.csr_matrix((vals.astype(np.float32), (rows, cols)), shape=(n_items, n_items))
    out.sort_indices()
    return out


def lift_positives(
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    shape: tuple[int, int],
    threshold: float,
    *,
    implicit: bool,
) -> sp.csr_matrix:
    """The binary users × items matrix lift counts from: the ratings ≥ ``threshold``, or every row of an
    implicit view (``implicit``: :meth:`Interactions.to_implicit`'s 1s). Lift's co-support shrinkage and
    support floor count on it too, so a list by lift is the same whatever the model (an svd trained on
    every rating counted its co-raters over all ratings and listed The Nutty Professor for Toy Story)."""
    mask = np.ones(len(users), dtype=bool) if implicit else np.asarray(ratings) >= threshold
    x = sp.csr_matrix(
        (np.ones(int(mask.sum()), dtype=np.float32), (np.asarray(users)[mask], np.asarray(items)[mask])),
        shape=shape,
    )
    x.sum_duplicates()
    x.data[:] = 1.0
    return x


def train_positives(train: Interactions, threshold: float) -> sp.csr_matrix:
    """:func:`lift_positives` of an :class:`Interactions` (an implicit view when its scale is (1, 1))."""
    implicit = tuple(train.rating_scale) == (1.0, 1.0)
    return lift_positives(train.users, train.items, train.ratings, train.shape, threshold, implicit=implicit)


def lift_neighbours(
    train: Interactions,
    threshold: float,
    *,
    k: int = LIFT_K,
    shrink: float = LIFT_SHRINK,
    positives: sp.csr_matrix | None = None,
) -> sp.csr_matrix | None:
    """Each movie's ``k`` best lift neighbours (items × items CSR) from ``train``'s positives
    (:func:`train_positives`, or ``positives`` where the caller has them already); ``None`` when there
    are none. What ``ItemKNN(similarity="lift", shrink=shrink, k=k)`` keeps, without fitting a model: an
    artifact of any model stores it, so its 'similar' lists by lift too."""
    x = train_positives(train, threshold) if positives is None else positives
    if not x.nnz:
        return None
    return lift_table(x, k, shrink=shrink)


def lift_table(
    x: sp.csr_matrix,
    k: int = LIFT_K,
    *,
    shrink: float = LIFT_SHRINK,
    floors: tuple[int, ...] | None = None,
    block: int = 512,
) -> sp.csr_matrix:
    """Lift neighbours of every movie in the binary users × items ``x`` (items × items CSR), kept for the
    lists read from them: each stored value is :func:`item_similarity_topk`'s lift (co-likes over chance,
    times c_ij / (c_ij + ``shrink``)), but a movie keeps the ``k`` best by what a 'similar' list ranks by
    (that value shrunk again by co-support, c_ij / (c_ij + SIMILAR_SHRINKAGE),
    :func:`movierec.scoring.support.shrunk_similarities`) among all movies and, for each floor f in
    ``floors``, among the movies at least f users liked: by default MIN_SUPPORT and
    :func:`~movierec.scoring.support.default_min_support` of the likes, the support floors lists apply. Keeping the ``k`` best by the first shrinkage alone, before the second and the floor, left
    Stalker (4 likes) with 50 neighbours of under 5 likes each, so its list said 'every movie lift links
    to Stalker has fewer than 5 training ratings' although 460 liked movies above the floor were liked
    with it (2,783 of ml-latest-small's 6,298 liked movies listed nothing), and Toy Story lost The Lion
    King, Aladdin, Shrek and Finding Nemo to Mary Poppins and Pinocchio. A list under another floor
    (``--min-support 3``) reads from the same rows, so it may hold fewer movies than it could.
    """
    from movierec.scoring.support import MIN_SUPPORT, SIMILAR_SHRINKAGE, default_min_support

    key = _lift_key(x, k, shrink, floors, block, (MIN_SUPPORT, SIMILAR_SHRINKAGE))
    last = _LAST_LIFT[:]  # read once: a server's other thread may put another table there meanwhile
    if last and last[0][0] == key:
        return last[0][1].copy()
    xc_full = sp.csc_matrix(x, dtype=np.float32)
    n_items = xc_full.shape[1]
    active = np.flatnonzero(np.diff(xc_full.indptr) > 0)  # items nobody liked have no neighbours
    xc = xc_full[:, active]
    sums = np.asarray(xc.sum(axis=0)).ravel().astype(np.float64)
    if floors is None:
        floors = (MIN_SUPPORT, default_min_support(np.diff(xc_full.indptr)))
    left, right = sums / max(xc.shape[0], 1), sums
    bands = [None, *(sums >= f for f in sorted(set(floors)) if f > 1)]  # f = 1: every liked movie
    xt = sp.csr_matrix(xc.T)
    k_eff = min(k, max(len(active) - 1, 1))
    rows_out: list[np.ndarray] = []
    cols_out: list[np.ndarray] = []
    vals_out: list[np.ndarray] = []
    for start in range(0, len(active), block):
        stop = min(start + block, len(active))
        dots = (xt[start:stop] @ xc).toarray()  # co-likes (block, n_active)
        denom = (left[start:stop, None] * right[None, :]).astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            sims = np.where(denom > 0, dots / denom, np.float32(0.0)).astype(np.float32)
            if shrink > 0:
                sims *= (dots / (dots + np.float32(shrink))).astype(np.float32)
        sims[np.arange(stop - start), np.arange(start, stop)] = 0.0
        read = sims * (dots / (dots + np.float32(SIMILAR_SHRINKAGE))).astype(np.float32)
        keep = np.zeros(sims.shape, dtype=bool)
        for band in bands:
            idx, vals = topk(read if band is None else np.where(band[None, :], read, np.float32(0)), k_eff)
            hit = vals > 0
            keep[np.nonzero(hit)[0], idx[hit]] = True
        r, c = np.nonzero(keep & (sims > 0))
        rows_out.append(active[start + r])
        cols_out.append(active[c])
        vals_out.append(sims[r, c])
    table = _items_csr(rows_out, cols_out, vals_out, n_items)
    _LAST_LIFT[:] = [(key, table.copy())]
    return table


#: the last :func:`lift_table` computed, ``[(key, table)]`` (empty before the first): the same positives
#: asked again in one process (``Recommender.similar`` then ``export``, several models of one dataset
#: exported from a notebook, the report's similar-movies table and an export) reuse it. Computing it is
#: 0.6 CPU-s on ml-latest-small's positives, far more on larger data; one table is ~8 bytes a neighbour.
_LAST_LIFT: list[tuple[tuple[object, ...], sp.csr_matrix]] = []


def _lift_key(x: sp.csr_matrix, *settings: object) -> tuple[object, ...]:
    """What :func:`lift_table` reads: ``x``'s shape and a digest of its stored entries, and the settings
    (the support floors and the similar lists' shrinkage included, read at the call)."""
    import hashlib

    m = sp.csr_matrix(x)
    digest = hashlib.blake2b(digest_size=32)
    for part in (m.indptr, m.indices, m.data):
        arr = np.ascontiguousarray(part)
        digest.update(str(arr.dtype).encode())
        digest.update(arr.tobytes())
    return (m.shape, digest.hexdigest(), *settings)


class ItemKNN(WeightedRecommender):
    """Item-kNN: a candidate movie scores the summed similarity of the user's movies among its own ``k``
    nearest (``neighbourhood="candidate"``) or of those that keep it among theirs (``"rated"``);
    similarity by cosine, asymmetric cosine (``alpha``), BM25-weighted cosine or lift.

    ``k`` neighbours per item, ``shrink`` added to the similarity denominator (with ``lift``: the
    co-support shrinkage c_ij / (c_ij + shrink)), ``weighting`` of the interactions (binary / rating /
    recency).
    """

    item_vectors: ClassVar[bool | None] = False

    name: ClassVar[str] = "itemknn"
    search_space: ClassVar[SearchSpace] = {
        "k": IntRange(10, 200),
        "shrink": FloatRange(0.0, 100.0),
        "similarity": Choice(("cosine", "asymmetric", "bm25", "lift")),
        "alpha": FloatRange(0.0, 1.0),
        "neighbourhood": Choice(NEIGHBOURHOODS),
    }
    tags: ClassVar[Tags] = Tags(fold_in="neighbours", serving="neighbours")
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "k": [POSITIVE_INT],
        "similarity": [Options(*SIMILARITIES)],
        "neighbourhood": [Options(*NEIGHBOURHOODS)],
        "alpha": [Interval(float, 0, 1)],
        "shrink": [NON_NEGATIVE],
        "bm25_k1": [NON_NEGATIVE],
        "bm25_b": [NON_NEGATIVE],
    }
    _foreign_names: ClassVar[dict[str, str]] = {
        **dict.fromkeys(
            ("max_nbrs", "nnbrs", "save_nbrs"),
            "LensKit's ItemKNNScorer keeps save_nbrs neighbours per movie and sums the max_nbrs most similar "
            "of the user's own movies per target; itemknn keeps k per movie (k=) and sums the user's movies "
            "among a candidate's k nearest (neighbourhood='candidate', the default) or those that keep the "
            "candidate among theirs ('rated'), so no setting gives LensKit's lists (docs/from-lenskit.md)",
        ),
        "min_nbrs": "itemknn scores a movie from any one neighbour among the user's movies (LensKit's min_nbrs=1)",
        "min_sim": "itemknn keeps each movie's k most similar movies whose similarity is positive, as LensKit's "
        "default min_sim=1e-6 does; there is no other floor",
        "feedback": "itemknn is LensKit's feedback='implicit' (cosine of who watched what); for ratings "
        "(feedback='explicit'), itemknn-explicit",
    }
    acts_when: ClassVar[dict[str, ActsWhen]] = {
        "alpha": ActsWhen("similarity", ("asymmetric",)),
        "bm25_k1": ActsWhen("similarity", ("bm25",)),
        "bm25_b": ActsWhen("similarity", ("bm25",)),
    }

    k: int = 100
    similarity: str = "cosine"
    neighbourhood: str = "candidate"
    alpha: float = 0.5
    shrink: float = 0.0
    bm25_k1: float = 1.2
    bm25_b: float = 0.75

    def _fit(self, train: Interactions) -> Self:
        """Compute ``neighbours_`` (items × items CSR): row i holds movie i's own top-``k`` similarities,
        what ``similar_items`` lists; :meth:`scoring_matrix` is what a user's row is multiplied by."""
        x = weighted_csr(train, self.weighting, self.half_life_days)
        self._remember_train(train)
        self.user_items_ = x
        basis = bm25_weight(x, self.bm25_k1, self.bm25_b) if self.similarity == "bm25" else x
        alpha = self.alpha if self.similarity == "asymmetric" else 0.5
        self.neighbours_ = item_similarity_topk(
            basis, int(self.k), alpha=alpha, shrink=float(self.shrink), lift=self.similarity == "lift"
        )
        return self

    def scoring_matrix(self) -> sp.csr_matrix:
        """The items × items matrix a user's row is multiplied by: ``neighbours_`` (each rated movie's
        own k nearest, ``neighbourhood="rated"``) or its transpose (each candidate's, ``"candidate"``)."""
        return scoring_matrix(self.neighbours_, self.neighbourhood)

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Sum over the user's items of interaction weight × similarity to each candidate."""
        self._check_fitted()
        users = self._check_users(users)
        w = self.__dict__.get("_scoring")
        if w is None or w[0] is not self.neighbours_ or w[1] != self.neighbourhood:  # refitted or reset
            w = self.__dict__["_scoring"] = (self.neighbours_, self.neighbourhood, self.scoring_matrix())
        scores = np.asarray((self.user_items_[users] @ w[2]).todense(), dtype=np.float32)
        return scores if items is None else scores[:, np.asarray(items)]

    def item_embeddings(self) -> np.ndarray | None:
        return None

    def similar_items(self, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The stored neighbours of ``item``, best first (padded with -1 / -inf)."""
        self._check_fitted()
        start, stop = self.neighbours_.indptr[item], self.neighbours_.indptr[item + 1]
        idx = self.neighbours_.indices[start:stop]
        vals = self.neighbours_.data[start:stop]
        order = np.argsort(-vals, kind="stable")[:k]
        out_i = np.full(k, -1, dtype=np.int32)
        out_v = np.full(k, -np.inf, dtype=np.float32)
        out_i[: len(order)] = idx[order]
        out_v[: len(order)] = vals[order]
        return out_i, out_v
