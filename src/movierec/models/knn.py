"""Neighbourhood rating models, Surprise's ``KNNBasic``, ``KNNWithMeans`` and ``KNNBaseline``.

Item-based by default (Sarwar et al. 2001); ``knn-baseline`` centres ratings on baselines and
uses the shrunk ``pearson_baseline`` similarity (Koren 2010, 'Factor in the neighbors', §2.2).
Every model takes Surprise's ``bsl_options`` as parameters of their own (``bsl_method``, ``reg_i``,
``reg_u``, ``bsl_epochs``, ``bsl_reg``, ``bsl_learning_rate``), declared once on the family: they fit
the baselines the ``pearson_baseline`` similarity reads, and knn-baseline's offsets too.

Memory stays O(n · max_neighbours): each item (or user) keeps at most ``max_neighbours`` positive
neighbours, in ``neighbours_`` (sparse CSR, best first per row by similarity). Surprise
predicts r̂_ui from the k most similar items *among those the user rated*, so to agree with it
we keep more than k candidates: with ``max_neighbours=None`` the list length is
``max(DEFAULT_MAX_NEIGHBOURS, 10·k)`` capped at the catalogue size. Measured on ml-latest-small
(80/20 split, seed 42, item-based pearson_baseline, k=40; Surprise RMSE 0.85897): the RMSE gap to
Surprise is 0.0050 with 100 neighbours per item, 0.0020 with 200, 0.0013 with 400, 0.0003 with 600,
0.0001 with 1000, and 6e-9 with untruncated lists (there items keep ~330 positive neighbours on
average, so 600 already holds most lists whole).

Which neighbours a list keeps: those of largest s·n/(n + λ), n the co-raters and λ =
:data:`SELECTION_SUPPORT` (3), the support shrinkage of Koren 2010 §2.2 (Herlocker et al. 1999's
significance weighting in spirit), used for the choice only: the kept ones are stored, ranked and
weighted by the raw s, as Surprise does. Unshrunk ``msd`` (Surprise's default, min_support 1) gives
1.0 to any two movies one person rated alike, so lists cut by raw s held obscure movies: on
ml-latest-small (whose movies co-rate with ~2,700 others on average) Toy Story's 600 had a median of
1 rating, no movie could be predicted from it that had 50 ratings or more, and a visitor who rated Toy
Story and Finding Nemo got obscure films. Measured on validation pairs (ml-latest-small's default
split, its training part split again 80/20 seed 42; ml-100k u1.base likewise), item-based, the RMSE
between the default model's predictions and the untruncated (Surprise's) ones, raw s → this key:
knn-basic 0.359 → 0.171 (ml-100k 0.151 → 0.082), knn-means 0.298 → 0.129 (0.127 → 0.062),
knn-zscore 0.311 → 0.136 (0.129 → 0.061), knn-baseline 0.020 → 0.017 (0.0000 both: its lists fit);
predictions with no neighbour at all 13.3% → 4.7% (untruncated 4.7%). λ = 1, 2, 5, 10, 100, raw s
then co-raters, and co-raters first were farther; half the list by s and half by the key about as close
(knn-basic 0.169, knn-means 0.134). The RMSE to the ratings is no parity measure alone: knn-basic's
validation RMSE was 0.987 by raw s, 0.889 by the key, 0.906 untruncated. The key does not make a
truncated msd model Surprise's (it halves the distance); ``max_neighbours`` ≥ the catalogue does, at
~8 bytes a co-rated pair (ml-latest-small: 26.3M pairs, ~210 MB of lists, plus the fit's
n_items × max_neighbours buffers, ~750 MB); 2000 bring the key's distance to 0.053 (knn-basic) at up
to 156 MB. Fit time (whole ml-latest-small, one thread, CPU time, median of 15 fits, same load):
knn-basic 0.84 → 0.93 s, knn-means 0.89 → 0.97 s, knn-zscore 0.82 → 0.89 s, knn-baseline 0.62 both.

Ties: among neighbours of equal similarity at the k-th place, those whose rating came first in the
training data count (item-based: the user's ratings of the neighbour items; user-based: the neighbour
users' ratings of the item), which is how Surprise's ``heapq.nlargest`` picks them from its trainset's
lists. ``rating_order_`` numbers the training ratings for it (:func:`training_order`). Fitted on
``make_split``'s ratings hold-out, whose training rows keep Surprise's trainset order, every estimate is
Surprise's: on ml-100k (``train_test_split(test_size=.25, random_state=0)``, untruncated lists) all four
models × msd, cosine, pearson, pearson_baseline × user- and item-based agree to 1.6e-7 on the 25,000 test
rows; ordered by list position instead, item-based msd knn-basic was 0.75 apart on 3,011 rows. "Equal" is equal in float64, as Surprise computes them: the lists
store float32, and a lower similarity that rounds to its predecessor's float32 is stored one float32 step
below it. A visitor's ratings (``score_new_user``, an artifact's fold-in) count in the order given.
Reading the rest of a tie costs time where many neighbours tie (msd and cosine on whole-star ratings): on
ml-latest-small (one thread) fit + test of item-based msd knn-basic +4%, knn-baseline unchanged.
"""

from __future__ import annotations

from dataclasses import KW_ONLY
from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.base import Tags, check_positive, topk
from movierec.models.baseline import ExplicitModel, estimate_biases
from movierec.models.kernels import accel as kernels
from movierec.models.params import (
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    ActsWhen,
    Boolean,
    Constraint,
    Options,
)
from movierec.models.space import Choice, FloatRange, IntRange, SearchSpace

__all__ = [
    "DEFAULT_MAX_NEIGHBOURS",
    "SELECTION_SUPPORT",
    "SIMILARITIES",
    "KNNBaseline",
    "KNNBasic",
    "KNNWithMeans",
    "KNNWithZScore",
]

SIMILARITIES = {
    "cosine": kernels.COSINE,
    "msd": kernels.MSD,
    "pearson": kernels.PEARSON,
    "pearson_baseline": kernels.PEARSON_BASELINE,
}
DEFAULT_MAX_NEIGHBOURS = 600
#: λ of the key s·n/(n + λ) (n co-raters) that picks which neighbours a truncated list keeps (module docstring)
SELECTION_SUPPORT = 3.0
#: the similarity whose baselines the baseline options fit (Surprise's ``compute_baselines``), and shrinks
PEARSON_BASELINE = ActsWhen("similarity", ("pearson_baseline",))
BSL_OPTIONS = (
    "Surprise's bsl_options keys are parameters of their own here: bsl_method (its 'method'), reg_i, reg_u, "
    "bsl_epochs (its 'n_epochs'), bsl_reg (its 'reg'), bsl_learning_rate (its 'learning_rate')"
)


def rows_from_ratings(similarity: str) -> bool:
    """Whether 'similar' computes an item's row whole from the ratings (``msd``, ``cosine``, ``pearson``:
    unshrunk, so a truncated prediction list, chosen by s·n/(n + 3), is no ranking by the raw s) rather
    than reading its neighbour list (``pearson_baseline``, shrunk already)."""
    return SIMILARITIES[similarity.lower()] != kernels.PEARSON_BASELINE


def training_order(train: Interactions, csr: sp.csr_matrix) -> np.ndarray | None:
    """Each stored rating of ``csr`` (``train.csr()``, users × items, sorted) numbered by when it comes in
    ``train`` (int32; a pair given twice: its first row), or None where the two do not hold the same pairs.

    Surprise picks the k neighbours with ``heapq.nlargest`` over the user's (item's) ratings in its
    trainset's order, so among equal similarities the neighbour rated earlier wins; fitted on a split in
    Surprise's order (``make_split``'s ratings hold-out), these numbers reproduce that choice."""
    n = train.n_ratings
    numbered = sp.csr_matrix(
        (np.arange(1, n + 1, dtype=np.float64), (train.users, train.items)), shape=csr.shape
    )
    if numbered.nnz == n == csr.nnz:  # one row per pair (the loaders keep one): row numbers in csr's order
        numbered.sort_indices()
        return (numbered.data - 1).astype(np.int32)
    key = train.users.astype(np.int64) * max(train.n_items, 1) + train.items
    _, first = np.unique(key, return_index=True)  # sorted by (user, item): csr's order
    return first.astype(np.int32) if len(first) == csr.nnz else None


class RatingSimilarity:
    """Items' similarity rows computed whole from the ratings (users × items), by the kernel that builds
    the neighbour lists (:func:`movierec.models.kernels.accel.similarity_row`); the model's 'similar' and
    the artifact's (knn and table families) both read them here."""

    def __init__(
        self,
        ratings: sp.csr_matrix,
        similarity: str,
        min_support: int,
        shrinkage: float,
        by_item: sp.csc_matrix | None = None,
    ) -> None:
        self.users = sp.csr_matrix(ratings)
        if by_item is None:
            by_item = self.users.tocsc()
            by_item.sort_indices()
        self.items = by_item
        self.kind = SIMILARITIES[similarity.lower()]
        self.min_support, self.shrinkage = int(min_support), float(shrinkage)

    def row(self, item: int) -> np.ndarray:
        """Item ``item``'s similarity to every item (float32), -inf where there is none."""
        x, y = self.items, self.users
        sims = kernels.similarity_row(
            int(item), x.indptr, x.indices, x.data, y.indptr, y.indices, y.data,
            self.kind, self.min_support, self.shrinkage,
        )  # fmt: skip
        out = np.full(len(sims), -np.inf, dtype=np.float32)
        keep = sims > 0
        out[keep] = sims[keep]
        return out


class _KNN(ExplicitModel):
    """Shared fit/predict of the three neighbourhood models; subclasses set the offsets.

    Of equally similar neighbours at the k-th place, those rated first in the training data count
    (Surprise's choice; the module docstring says more)."""

    item_vectors: ClassVar[bool | None] = False

    default_similarity: ClassVar[str] = "msd"
    _none_means: ClassVar[dict[str, str]] = {
        "max_neighbours": f"max({DEFAULT_MAX_NEIGHBOURS}, 10·k), at most the catalogue",
        "bsl_epochs": "the baseline method's default, 10 for als and 20 for sgd",
    }

    @classmethod
    def none_means(cls) -> dict[str, str]:
        """The shared meanings plus ``similarity``: the class's own default (msd, pearson_baseline)."""
        return {**super().none_means(), "similarity": f"{cls.default_similarity!r}"}

    tags: ClassVar[Tags] = Tags(
        trains_on="ratings", predicts_ratings=True, fold_in="neighbours", serving="knn"
    )

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "k": [POSITIVE_INT],
        "min_k": [NON_NEGATIVE_INT],
        "user_based": [Boolean()],
        "min_support": [NON_NEGATIVE_INT],
        "shrinkage": [NON_NEGATIVE],
        "max_neighbours": [POSITIVE_INT, None],
        "bsl_method": [Options("als", "sgd")],
        "reg_i": [NON_NEGATIVE],
        "reg_u": [NON_NEGATIVE],
        "bsl_epochs": [POSITIVE_INT, None],
        "bsl_reg": [NON_NEGATIVE],
        "bsl_learning_rate": [POSITIVE],
    }
    # Surprise's algo.get_neighbors(inner_id, k): the Python error said no more than 'no attribute'
    _foreign_attributes: ClassVar[dict[str, str]] = {
        "get_neighbors": "Surprise's get_neighbors(inner_id, k) is similar_items(item, k) here, on an "
        "item-based model (user_based=False, the default here): the k most similar items' dense indices "
        "and similarities; Recommender.similar(movie, by='model') lists them by title",
    }
    # Surprise's similarity and baseline dicts are parameters of their own here
    _foreign_names: ClassVar[dict[str, str]] = {
        "sim_options": "Surprise's sim_options keys are parameters of their own here: similarity "
        "(its 'name'), user_based (False by default here, True in Surprise), min_support, shrinkage",
        "bsl_options": BSL_OPTIONS,
        **dict.fromkeys(
            ("max_nbrs", "nnbrs"),
            "k= is the number of neighbours each prediction reads (Surprise's k, LensKit's max_nbrs)",
        ),
        "min_nbrs": "min_k= is the fewest neighbours a prediction needs (Surprise's min_k, LensKit's min_nbrs)",
    }
    # Surprise shrinks only its pearson_baseline similarity (Koren 2010); msd, cosine and pearson are raw.
    # It reads reg_i/reg_u only in its ALS baselines, reg and learning_rate only in its SGD ones.
    acts_when: ClassVar[dict[str, ActsWhen]] = {
        "shrinkage": PEARSON_BASELINE,
        **dict.fromkeys(("reg_i", "reg_u"), ActsWhen("bsl_method", ("als",))),
        **dict.fromkeys(("bsl_reg", "bsl_learning_rate"), ActsWhen("bsl_method", ("sgd",))),
    }

    k: int = 40
    min_k: int = 1
    _: KW_ONLY
    similarity: str | None = None  # None: the class's default_similarity
    user_based: bool = False
    min_support: int = 1
    shrinkage: float = 100.0
    max_neighbours: int | None = None
    # Surprise's bsl_options: the baselines pearson_baseline reads (and knn-baseline's offsets)
    bsl_method: str = "als"
    reg_i: float = 10.0
    reg_u: float = 15.0
    bsl_epochs: int | None = None
    bsl_reg: float = 0.02
    bsl_learning_rate: float = 0.005

    def __post_init__(self) -> None:
        if self.similarity is None:
            self.similarity = self.default_similarity
        self._validate()

    def _validate(self) -> None:
        """The declared constraints, then the rules between them (at construction too, as always)."""
        self._validate_params()
        if self.max_neighbours is not None and self.max_neighbours < self.k:
            raise ConfigError(
                f"max_neighbours ({self.max_neighbours}) must be ≥ k ({self.k}): k neighbours are chosen among them"
            )
        # case-insensitive (Surprise's names), so not an Options constraint
        if not isinstance(self.similarity, str) or self.similarity.lower() not in SIMILARITIES:
            raise ConfigError(f"similarity {self.similarity!r} is not one of {', '.join(SIMILARITIES)}")

    # --- fitting ------------------------------------------------------------------------------
    def _baselines(self, train: Interactions) -> tuple[np.ndarray, np.ndarray] | None:
        """User and item biases when the model (or its similarity) needs them, else None (kept as
        ``sim_user_bias_``/``sim_item_bias_``: a user-based model's visitor rule reads them)."""
        if str(self.similarity).lower() == "pearson_baseline":
            bu, bi = self._fit_baselines(train)
            self.sim_user_bias_, self.sim_item_bias_ = bu.astype(np.float64), bi.astype(np.float64)
            return bu, bi
        return None

    def _fit_baselines(self, train: Interactions) -> tuple[np.ndarray, np.ndarray]:
        """b_u and b_i as Surprise's ``compute_baselines`` fits them under these ``bsl_options``."""
        _, bu, bi = estimate_biases(
            train, self.bsl_method, reg_i=self.reg_i, reg_u=self.reg_u, n_epochs=self.bsl_epochs,
            reg=self.bsl_reg, learning_rate=self.bsl_learning_rate,
        )  # fmt: skip
        return bu, bi

    #: the table family's visitor rule code for a user-based model: 0 Σs·r/Σs, 1 μ + dev, 2 z-scores, 3 baseline
    _user_rule: ClassVar[int] = 0

    @property
    def visitor_rule(self) -> str | None:
        """A user-based model, served as a table, places a visitor by its own rule (``scoring.table``)."""
        return "user-knn" if self.user_based else None

    def visitor_arrays(self) -> dict[str, np.ndarray]:
        """What the user-based visitor rule reads: the training ratings, every user's offset (and spread),
        the items' offsets, the baselines a pearson_baseline similarity needs, and the rule's settings."""
        from movierec.scoring.neighbours import csr_arrays

        n_users, n_items = self.n_users_, self.n_items_
        bu = getattr(self, "sim_user_bias_", getattr(self, "user_bias_", None))
        bi = getattr(self, "sim_item_bias_", getattr(self, "item_bias_", None))
        return {
            **csr_arrays("ratings", self.ratings_),
            "x_offset": np.asarray(getattr(self, "x_mean_", self.x_offset_), dtype=np.float64),
            "x_std": np.asarray(getattr(self, "x_std_", np.ones(n_users)), dtype=np.float64),
            "y_offset": np.asarray(self.y_offset_, dtype=np.float64),
            "user_bias": np.zeros(n_users) if bu is None else np.asarray(bu, dtype=np.float64),
            "item_bias": np.zeros(n_items) if bi is None else np.asarray(bi, dtype=np.float64),
            "settings": np.array(
                [
                    self._user_rule,
                    SIMILARITIES[str(self.similarity).lower()],
                    self.k,
                    self.min_k,
                    self.min_support,
                    self._list_length(n_users),
                ],
                dtype=np.int64,
            ),
            "shrinkage": np.asarray(float(self.shrinkage)),
            # knn-zscore's spread for ratings all equal (a visitor's too): every training rating's
            "overall_std": np.asarray(float(getattr(self, "overall_std_", 1.0))),
        }

    def _offsets(
        self, train: Interactions, biases: tuple[np.ndarray, np.ndarray] | None
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """(per-x offset, per-y offset, constant) subtracted from neighbour ratings; zeros for KNNBasic."""
        n_x, n_y = (train.n_users, train.n_items) if self.user_based else (train.n_items, train.n_users)
        return np.zeros(n_x), np.zeros(n_y), 0.0

    def prepare(self, train: Interactions) -> None:
        """The CSR and the items-by-column view (CSC) the neighbour kernel reads, before a fit's clock starts
        (:meth:`BaseRecommender.prepare`): the first k-NN fit on a split otherwise timed the CSC's build."""
        super().prepare(train)
        train.csc()

    def _fit(self, train: Interactions) -> Self:
        """Compute the truncated similarity lists (compiled kernel, parallel over rows) and remember the ratings."""
        self._validate()
        self._remember_train(train)
        biases = self._baselines(train)
        csr = train.csr()  # users × items
        csc = train.csc()
        x_major, y_major = (csr, csc) if self.user_based else (csc, csr)
        n_x = x_major.shape[0] if self.user_based else x_major.shape[1]
        x_ptr, x_idx, x_val = (
            x_major.indptr.astype(np.int64),
            x_major.indices,
            x_major.data.astype(np.float64),
        )
        y_ptr, y_idx, y_val = (
            y_major.indptr.astype(np.int64),
            y_major.indices,
            y_major.data.astype(np.float64),
        )
        kind = SIMILARITIES[str(self.similarity).lower()]
        if kind == kernels.PEARSON_BASELINE:
            assert biases is not None
            mu = train.global_mean
            bu, bi = biases
            bx, by = (bu, bi) if self.user_based else (bi, bu)
            # residual of each stored rating; x_major rows are x, columns y (and the other way round)
            x_rows = np.repeat(np.arange(len(x_ptr) - 1), np.diff(x_ptr))
            x_val = x_val - mu - bx[x_rows] - by[x_idx]
            y_rows = np.repeat(np.arange(len(y_ptr) - 1), np.diff(y_ptr))
            y_val = y_val - mu - by[y_rows] - bx[y_idx]
        m = self._list_length(n_x)
        counts, nbrs, sims = kernels.top_similarities(
            x_ptr,
            x_idx,
            x_val,
            y_ptr,
            y_idx,
            y_val,
            kind,
            int(self.min_support),
            float(self.shrinkage),
            m,
            SELECTION_SUPPORT,
        )
        indptr = np.r_[0, np.cumsum(counts, dtype=np.int64)]
        mask = np.arange(m)[None, :] < counts[:, None]
        self.neighbours_ = sp.csr_matrix((sims[mask], nbrs[mask], indptr), shape=(n_x, n_x))
        self.ratings_ = csr.astype(np.float32)
        self.rating_order_ = training_order(train, csr)
        ox, oy, c = self._offsets(train, biases)
        self.x_offset_ = (ox + c).astype(np.float64)
        self.y_offset_ = oy.astype(np.float64)
        self._after_load()
        return self

    def _list_length(self, n_x: int) -> int:
        m = (
            self.max_neighbours
            if self.max_neighbours is not None
            else max(DEFAULT_MAX_NEIGHBOURS, 10 * self.k)
        )
        return int(max(1, min(m, n_x - 1)))

    def _after_load(self) -> None:
        """Derived CSR views the kernels read (not saved: rebuilt from ``ratings_``)."""
        csr = sp.csr_matrix(self.ratings_)
        csc = csr.tocsc()
        csc.sort_indices()
        self._y_major = csr if not self.user_based else csc  # item-based: rows are users (y)
        # the tie order at the k-th neighbour, per rating of _y_major (None: a model saved before it, list order)
        order = getattr(self, "rating_order_", None)
        self._y_rank: np.ndarray | None = None
        if order is not None:
            ranks = sp.csr_matrix(
                (np.asarray(order, dtype=np.int64), csr.indices, csr.indptr), shape=csr.shape
            )
            if self.user_based:  # the same pattern as csc, so the same positions
                ranks = ranks.tocsc()
                ranks.sort_indices()
            self._y_rank = ranks.data.astype(np.int32)
        # the raw ratings (knn-zscore z-scores _y_major below): the rows 'similar' reads (similarity_row)
        self._rows = RatingSimilarity(
            csr, str(self.similarity), self.min_support, self.shrinkage, by_item=csc
        )
        self._nb = sp.csr_matrix(self.neighbours_)

    # --- prediction ---------------------------------------------------------------------------
    def _base(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The value the neighbour deviation is added to (0 for KNNBasic)."""
        return np.zeros(len(users))

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = (users, items) if self.user_based else (items, users)
        y = self._y_major
        dev, actual = kernels.predict_pairs(
            xs.astype(np.int64), ys.astype(np.int64),
            self._nb.indptr.astype(np.int64), self._nb.indices, self._nb.data,
            y.indptr.astype(np.int64), y.indices, y.data.astype(np.float64),
            self.x_offset_, self.y_offset_, int(self.k), self._y_rank,
        )  # fmt: skip
        return self._combine(users, items, dev, actual)

    def _combine(
        self, users: np.ndarray, items: np.ndarray, dev: np.ndarray, actual: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Estimate and impossible-mask from the deviation (Surprise: too few neighbours → base only)."""
        few = actual < self.min_k
        return self._base(users, items) + np.where(few, 0.0, dev), np.zeros(len(users), dtype=bool)

    def predicted_scores(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Unclipped predicted ratings over the grid (batched kernel for item-based models)."""
        self._check_fitted()
        users = self._check_users(users)
        if self.user_based:
            return super().predicted_scores(users, items)
        cols = (
            np.arange(self.n_items_, dtype=np.int64) if items is None else np.asarray(items, dtype=np.int64)
        )
        u = self._y_major
        dev, actual = kernels.predict_dense_items(
            users.astype(np.int64), cols,
            self._nb.indptr.astype(np.int64), self._nb.indices, self._nb.data,
            u.indptr.astype(np.int64), u.indices, u.data.astype(np.float64),
            self.x_offset_, self.y_offset_, self.n_items_, int(self.k), self._y_rank,
        )  # fmt: skip
        grid_u = np.repeat(users.astype(np.int64), len(cols))
        grid_i = np.tile(cols, len(users))
        ku, ki = self._known(grid_u, grid_i)
        known = ku & ki
        est = self._fallback(grid_u, grid_i, ku, ki)
        value, impossible = self._combine(grid_u, grid_i, dev.ravel(), actual.ravel())
        ok = known & ~impossible
        est[ok] = value[ok]
        return est.reshape(len(users), len(cols)).astype(np.float32)

    def similar_items(self, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` most similar items (item-based models only), from :meth:`similarity_row`."""
        self._check_fitted()
        if self.user_based:
            raise ConfigError(f"{self.name} with user_based=true has user neighbours, not item neighbours")
        check_positive("k", k, integer=True)
        if not 0 <= item < self.n_items_:
            raise ConfigError(f"item index {item} is outside 0..{self.n_items_ - 1}")
        idx, vals = topk(self.similarity_row(item)[None, :], k)
        return idx[0], vals[0]

    def similarity_row(self, item: int) -> np.ndarray:
        """Item ``item``'s similarity to every item (float32, -inf where there is none), for 'similar'.

        The prediction lists keep ``max_neighbours`` neighbours per item, chosen by s·n/(n + 3) (module
        docstring). Under ``msd``, ``cosine`` and ``pearson`` (no shrinkage, as in Surprise) the highest
        raw similarities are mostly items with one to five co-raters who happen to agree (MSD 1.0), and
        a truncated list is not the row's top by raw s, so the row is computed whole, by the same
        kernel, from the ratings (lists chosen by raw s once held Toy Story's Gilda (1946) and the like).
        ``pearson_baseline`` is shrunk already (its lists hold Toy Story 2, Aladdin): its list is used.
        """
        if rows_from_ratings(str(self.similarity)):
            return self._rows.row(item)
        out = np.full(self.n_items_, -np.inf, dtype=np.float32)
        row = self._nb[item]
        out[row.indices] = row.data
        return out

    def item_embeddings(self) -> np.ndarray | None:
        """None: neighbour models have similarity lists (``neighbours_``), not vectors."""
        return None


class _SimilarityBaselines(_KNN):
    """The k-NN models whose baselines only the ``pearson_baseline`` similarity reads (Surprise's
    ``KNNBasic``, ``KNNWithMeans``, ``KNNWithZScore``): every baseline option acts only with it, and
    ``reg_i``/``reg_u`` only with ALS baselines, ``bsl_reg``/``bsl_learning_rate`` only with SGD ones,
    as on the whole family."""

    _foreign_names: ClassVar[dict[str, str]] = {
        **_KNN._foreign_names,
        "bsl_options": f"{BSL_OPTIONS}; they fit the baselines of similarity='pearson_baseline' and act "
        "only with it",
    }
    acts_when: ClassVar[dict[str, ActsWhen]] = {
        **dict.fromkeys(("bsl_method", "bsl_epochs"), PEARSON_BASELINE),
        **{
            key: PEARSON_BASELINE & _KNN.acts_when[key]
            for key in ("reg_i", "reg_u", "bsl_reg", "bsl_learning_rate")
        },
    }


class KNNBasic(_SimilarityBaselines):
    """r̂_ui = Σ s·r / Σ s over the k most similar neighbours with s > 0 (Surprise's ``KNNBasic``; Sarwar et al. 2001).

    Fewer than ``min_k`` neighbours: impossible, falls back to μ (flagged), as Surprise does. With
    ``similarity="pearson_baseline"``, its baselines follow Surprise's ``bsl_options``: ``bsl_method``
    (``als`` with ``reg_i``, ``reg_u``; ``sgd`` with ``bsl_reg``, ``bsl_learning_rate``), ``bsl_epochs``.
    """

    name: ClassVar[str] = "knn-basic"
    has_biases: ClassVar[bool] = False

    def _combine(
        self, users: np.ndarray, items: np.ndarray, dev: np.ndarray, actual: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        impossible = (actual < self.min_k) | (actual == 0)
        return dev, impossible


class KNNWithMeans(_SimilarityBaselines):
    """r̂_ui = mean_x + Σ s·(r − mean_x') / Σ s (Surprise's ``KNNWithMeans``; Herlocker et al. 1999).

    The baseline options (Surprise's ``bsl_options``) set the baselines of ``similarity="pearson_baseline"``,
    as in ``knn-basic``."""

    name: ClassVar[str] = "knn-means"
    _user_rule: ClassVar[int] = 1
    has_biases: ClassVar[bool] = False

    def _offsets(
        self, train: Interactions, biases: tuple[np.ndarray, np.ndarray] | None
    ) -> tuple[np.ndarray, np.ndarray, float]:
        ent = train.users if self.user_based else train.items
        n_x = train.n_users if self.user_based else train.n_items
        n_y = train.n_items if self.user_based else train.n_users
        counts = np.bincount(ent, minlength=n_x)
        sums = np.bincount(ent, weights=train.ratings.astype(np.float64), minlength=n_x)
        means = np.divide(sums, counts, out=np.zeros(n_x), where=counts > 0)
        return means, np.zeros(n_y), 0.0

    def _base(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.x_offset_[users if self.user_based else items]


class KNNWithZScore(_SimilarityBaselines):
    """r̂_ui = μ_x + σ_x · Σ s·(r − μ_x')/σ_x' / Σ s (Surprise's ``KNNWithZScore``; Herlocker et al. 1999's
    z-score normalisation): neighbours' ratings enter as z-scores, σ the population standard deviation
    of each user's (item's) ratings; where it is 0 (ratings all equal), that of every training rating, as
    Surprise 1.1.5 has it (``overall_std_``; it was 1 here, 0.29 off Surprise on 22–53 of ml-100k's 25,000
    test rows item-based). Like the family, neighbour lists are truncated
    (``max_neighbours``); ``max_neighbours`` ≥ n_items keeps them all and reproduces Surprise (ml-100k
    u1: RMSE 0.9511 both; the truncated default 0.9484, its predictions 0.077 RMSE from Surprise's, 0.9600
    and 0.165 with lists chosen by raw similarity; 4–5× faster than Surprise). The baseline options
    (Surprise's ``bsl_options``) set the baselines of ``similarity="pearson_baseline"``, as in ``knn-basic``."""

    name: ClassVar[str] = "knn-zscore"
    _user_rule: ClassVar[int] = 2
    has_biases: ClassVar[bool] = False
    # item-based: the knn family with each item's σ (knn_x_scale), visitors included; user-based: a table
    tags: ClassVar[Tags] = Tags(
        trains_on="ratings", predicts_ratings=True, fold_in="neighbours", serving="knn"
    )

    def _fit(self, train: Interactions) -> Self:
        ent = train.users if self.user_based else train.items
        n_x = train.n_users if self.user_based else train.n_items
        r = train.ratings.astype(np.float64)
        counts = np.bincount(ent, minlength=n_x)
        means = np.divide(
            np.bincount(ent, weights=r, minlength=n_x), counts, out=np.zeros(n_x), where=counts > 0
        )
        var = np.divide(
            np.bincount(ent, weights=(r - means[ent]) ** 2, minlength=n_x),
            counts,
            out=np.zeros(n_x),
            where=counts > 0,
        )
        sigma = np.sqrt(var)
        # where one's ratings are all equal, Surprise (1.1.5) divides by the spread of every training rating
        self.overall_std_ = float(np.std(r)) or 1.0
        self.x_mean_, self.x_std_ = means, np.where(sigma == 0, self.overall_std_, sigma)
        return super()._fit(train)

    def _after_load(self) -> None:
        """As the base class, with every stored rating replaced by its rater's (or item's) z-score."""
        super()._after_load()
        y = self._y_major.copy()
        y.data = (y.data - self.x_mean_[y.indices]) / self.x_std_[y.indices]
        self._y_major = y

    def _base(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.x_mean_[users if self.user_based else items]

    def _combine(
        self, users: np.ndarray, items: np.ndarray, dev: np.ndarray, actual: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        x = users if self.user_based else items
        few = actual < self.min_k
        return self._base(users, items) + np.where(few, 0.0, dev * self.x_std_[x]), np.zeros(
            len(users), dtype=bool
        )


class KNNBaseline(_KNN):
    """r̂_ui = b_ui + Σ s·(r_uj − b_uj) / Σ s with b_ui = μ + b_u + b_i (Koren 2010, §2.2; Surprise's ``KNNBaseline``).

    Defaults (Surprise's KNNBaseline conventions): item-based, ``pearson_baseline`` with shrinkage 100, k=40, min_k=2,
    baselines by ALS (``reg_i=10``, ``reg_u=15``, ``bsl_epochs=10``). ``bsl_method="sgd"`` fits them as
    Surprise's ``bsl_options={'method': 'sgd'}`` does: ``bsl_reg`` (its 'reg', 0.02), ``bsl_learning_rate``
    (its 'learning_rate', 0.005), ``bsl_epochs`` 20; the baselines serve both the offsets and the
    ``pearson_baseline`` similarity, as in Surprise. ``max_neighbours`` is how many
    candidates each item keeps (default ``max(600, 10·k)``; see the module docstring for the
    measured effect on parity); ``user_based=True`` finds neighbours among users instead.
    """

    name: ClassVar[str] = "knn-baseline"
    _user_rule: ClassVar[int] = 3
    search_space: ClassVar[SearchSpace] = {
        "k": IntRange(10, 200),
        "min_k": IntRange(1, 10),
        "shrinkage": FloatRange(0.0, 300.0),
        "reg_i": FloatRange(1.0, 50.0, log=True),
        "reg_u": FloatRange(1.0, 50.0, log=True),
        "user_based": Choice((False, True)),
    }
    default_similarity: ClassVar[str] = "pearson_baseline"
    # the baseline options (declared on the family, _KNN) always act here: the offsets read the baselines

    min_k: int = 2

    def _baselines(self, train: Interactions) -> tuple[np.ndarray, np.ndarray]:
        bu, bi = self._fit_baselines(train)
        self.user_bias_ = bu.astype(np.float32)
        self.item_bias_ = bi.astype(np.float32)
        return bu, bi

    def _offsets(
        self, train: Interactions, biases: tuple[np.ndarray, np.ndarray] | None
    ) -> tuple[np.ndarray, np.ndarray, float]:
        assert biases is not None
        bu, bi = biases
        bx, by = (bu, bi) if self.user_based else (bi, bu)
        return bx, by, train.global_mean

    def _base(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """b_ui = μ + b_u + b_i in float64: the two offsets the neighbours' residuals are taken from
        (``x_offset_`` μ + b_x, ``y_offset_`` b_y), added as the served artifact adds them (``knn_x_offset``
        + ``knn_y_offset``, :class:`movierec.scoring.knn.KnnIndex`), so the two score to the bit. It added
        the float32 ``global_mean_``, ``user_bias_`` and ``item_bias_`` before (up to 4.8e-7 from the
        artifact on ml-latest-small; Surprise adds float64 biases too)."""
        x, y = (users, items) if self.user_based else (items, users)
        return self.x_offset_[x] + self.y_offset_[y]

    def _fallback(self, users: np.ndarray, items: np.ndarray, ku: np.ndarray, ki: np.ndarray) -> np.ndarray:
        """The baseline parts that exist (μ, plus b_u or b_i where that side is known), as :meth:`_base` adds
        them for a user and movie in the training data's range (one without ratings has a bias of 0, so μ
        + b_u for a movie nobody rated, as the artifact scores it); the float32 parts for an index beyond
        it (an unknown id)."""
        est = super()._fallback(users, items, ku, ki)
        inside = (users >= 0) & (users < self.n_users_) & (items >= 0) & (items < self.n_items_)
        est[inside] = self._base(users[inside], items[inside])
        return est
