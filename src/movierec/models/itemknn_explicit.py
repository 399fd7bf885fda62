"""LensKit's explicit item-based k-NN (``ItemKNNScorer(feedback="explicit")``, LensKit 2025's default).

Item-based collaborative filtering as Sarwar, Karypis, Konstan & Riedl (2001, "Item-based collaborative
filtering recommendation algorithms") describe it and Deshpande & Karypis (2004, "Item-based top-N
recommendation algorithms") refine it, with the design of LensKit's Java and Python item-item scorer
(Ekstrand 2020, "LensKit for Python"):

1. each movie's ratings are centred on its mean rating m_i;
2. s_ij is the cosine of the centred columns over *all* users (each column's norm is over all of its
   ratings, not over the users who rated both, as Surprise's similarities are); only s_ij > ``min_sim``
   is kept, so neighbours are positively correlated movies;
3. r̂_ui = m_i + Σ_j s_ij (r_uj − m_j) / Σ_j |s_ij| over the ``k`` most similar movies j among those
   the user rated (LensKit's ``max_nbrs``); fewer than ``min_k`` such neighbours (``min_nbrs``) and the
   prediction is LensKit's ``predict_pipeline`` fallback, its ``BiasScorer()``: μ + b_i + b_u with
   b_i = mean(r − μ) over the movie, b_u = mean(r − μ − b_i) over the user (no damping).

Measured against LensKit 2025.8.1 on fold 0 of ``crossfold_users(ml-latest-small, 5, SampleFrac(0.2,
rng=42), rng=42)`` (3,550 test ratings): 3,544 predictions equal LensKit's to 5.4e-7 (the 182 it leaves
to BiasScorer to 3.3e-7); the 6 others differ by up to 0.047, rows where the 20th neighbour ties with the
21st in exact arithmetic and LensKit's float32 sums break the tie the other way. RMSE (unclipped) 0.891574
here, 0.891589 in LensKit. ``tests/models/test_itemknn_explicit.py`` checks the model against a plain numpy
transcription of the three steps above.

``knn-means`` has the same prediction rule (Surprise's ``KNNWithMeans``, item-based) with Surprise's
similarities, computed over each pair's common raters; this model's neighbour lists are computed block by
block from the sparse ratings and stored best first (``max_neighbours`` per movie, LensKit's
``save_nbrs``; ``None`` keeps every positive one, as LensKit does), and the predictions run through the
same compiled kernel as the ``knn-*`` family's.

Every positive neighbour is many: 10,478,284 on ml-latest-small (9,724 movies), an 84 MB table whose
build raised peak RSS by 132 MB (377 MB when the blocks were kept as lists with int64 row indices and
joined at the end; 60 MB with ``save_nbrs=200``). The fit estimates the table from 256 sampled rows
first (:func:`neighbour_count`: 0.95 to 1.03 of the table on ml-latest-small for four seeds, 0.11 s of
a 2-4 s fit), writes it in place into arrays of that size, and refuses a table that cannot fit in the
memory available (:mod:`movierec.models.memory`) with a :class:`~movierec.models.memory.MemoryLimitError`
naming its size and a ``save_nbrs`` that fits; compare asks before the fit's progress line
(:meth:`ItemKNNExplicit.check_fit_memory`).
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.base import Tags, check_positive, topk
from movierec.models.baseline import ExplicitModel
from movierec.models.kernels import accel as kernels
from movierec.models.memory import MARGIN, MemoryLimitError, available_bytes
from movierec.models.params import NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT, Constraint
from movierec.models.space import FloatRange, IntRange, SearchSpace

__all__ = [
    "ItemKNNExplicit",
    "centred_cosine_neighbours",
    "check_neighbour_table",
    "item_means",
    "neighbour_count",
]

#: rows of the similarity matrix computed at once (a block × n_items float64 array)
_BLOCK = 256
#: the table's arrays are allocated for the estimate times this (the sample's error was within ±5 % on
#: ml-latest-small for four seeds), then cut to what was kept
_SLACK = 1.15
#: bytes a kept neighbour costs while the table is built: its float32 similarity and int32 column, for
#: the estimate and its slack (8 bytes each once built)
_BUILD_BYTES = 10
#: bytes per cell of a block of similarity rows (block × n_items) while it is computed: its float64 product,
#: float32 copy and mask at once (ml-latest-small's save_nbrs=200 fit: about 13 a cell beside its 10 MB table)
_BLOCK_CELL_BYTES = 16
#: movies whose similarity rows are computed to estimate the table's size before it is built
_SAMPLE_ROWS = _BLOCK
#: a block's own columns are copied dense (users × rows, float64) this many bytes at a time
_DENSE_BYTES = 16 * 2**20
#: bits of the sort key (:func:`_positive`) for a row within its block and for a column: 8 + 31 + 25 = 64
_ROW_BITS, _COLUMN_BITS = 8, 25


def item_means(train: Interactions) -> np.ndarray:
    """Each movie's mean training rating (float64; 0 for a movie without ratings)."""
    counts = np.bincount(train.items, minlength=train.n_items)
    sums = np.bincount(train.items, weights=train.ratings.astype(np.float64), minlength=train.n_items)
    return np.divide(sums, counts, out=np.zeros(train.n_items), where=counts > 0)


def _centred_columns(train: Interactions, means: np.ndarray) -> tuple[sp.csc_matrix, sp.csr_matrix]:
    """The mean-centred rating columns scaled to unit norm over all their ratings (users × items, CSC) and
    their transpose (CSR): a row block of the transpose times the columns is a block of cosines."""
    r = sp.csr_matrix(
        (train.ratings.astype(np.float64) - means[train.items], (train.users, train.items)),
        shape=(train.n_users, train.n_items),
    )
    r.sum_duplicates()
    norms = np.sqrt(np.asarray(r.multiply(r).sum(axis=0)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    c = sp.csc_matrix(r @ sp.diags(scale))
    return c, sp.csr_matrix(c.T)


def _dense_products(c: sp.csc_matrix) -> bool:
    """Whether :func:`_positive` computes its blocks as the sparse columns times a dense copy of each
    block's own columns (``nnz × n_items`` multiply-adds in all) rather than sparse × sparse (``Σ_u
    ratings(u)²``, each about 30 times dearer here): when the first is at most 20 times the second.
    ml-latest-small reads 18 (0.86 s against 1.49 s for the whole table), 60 users' ratings at half density
    2 (0.34 s against 1.36 s); sparser, larger data (ml-25m's ratio is about 90) stays sparse × sparse."""
    per_user = np.diff(sp.csr_matrix(c).indptr).astype(np.float64)
    return float(c.nnz) * c.shape[1] <= 20 * float(per_user @ per_user)


def _positive(
    ct: sp.csr_matrix, c: sp.csc_matrix, rows: np.ndarray, min_sim: float, dense: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(row, column, similarity)`` of the float32 cosines > ``min_sim`` of the movies ``rows`` (row
    positions within ``rows``), no movie its own neighbour, row by row best first (lowest index among
    equals).

    With ``dense`` (:func:`_dense_products`) the block is the sparse columns times a dense copy of the
    block's own columns, at most ``_DENSE_BYTES`` at a time: the same products summed in the same order as
    sparse × sparse (a zero term adds nothing), so the same values. The order comes from sorting one
    unsigned 64-bit key per entry (row, then the similarity's float32 bits reversed, then the column) and
    reading the three back from it: ``np.lexsort``'s order of the three, which took 60 % of a fit
    (3.9 of 6.5 s on ml-latest-small, 0.5 s this way)."""
    if dense:
        block = np.empty((len(rows), c.shape[1]), dtype=np.float32)
        step = max(1, _DENSE_BYTES // (8 * max(c.shape[0], 1)))
        for s in range(0, len(rows), step):
            block[s : s + step] = np.asarray(ct @ ct[rows[s : s + step]].T.toarray()).T
    else:
        block = np.asarray((ct[rows] @ c).toarray()).astype(np.float32)
    block[np.arange(len(rows)), rows] = 0.0
    r_idx, c_idx = np.nonzero(block > min_sim)
    v = block[r_idx, c_idx]
    if len(rows) > 1 << _ROW_BITS or block.shape[1] > 1 << _COLUMN_BITS:
        order = np.lexsort((c_idx, -v, r_idx))
        return r_idx[order], c_idx[order], v[order]
    # v > min_sim > 0: a positive float32's bits, read as an unsigned integer, order as its value does
    low = np.uint64((1 << _COLUMN_BITS) - 1)
    bits = np.uint64(0x7FFFFFFF) - v.view(np.uint32).astype(np.uint64)
    key = (r_idx.astype(np.uint64) << np.uint64(64 - _ROW_BITS)) | (bits << np.uint64(_COLUMN_BITS))
    key |= c_idx.astype(np.uint64)
    key.sort()  # the keys are unique: any sort gives the one order
    bits = np.uint64(0x7FFFFFFF) - ((key >> np.uint64(_COLUMN_BITS)) & np.uint64(0x7FFFFFFF))
    rows_sorted = (key >> np.uint64(64 - _ROW_BITS)).astype(np.intp)
    return rows_sorted, (key & low).astype(np.intp), bits.astype(np.uint32).view(np.float32)


def neighbour_count(
    train: Interactions, means: np.ndarray, min_sim: float, max_neighbours: int | None, *, seed: int = 0
) -> int:
    """The number of neighbours :func:`centred_cosine_neighbours` would keep, estimated before the table is
    built from the rows of ``_SAMPLE_ROWS`` movies drawn with ``seed`` (all movies, and exact, when there
    are no more): their neighbours above ``min_sim``, each row cut to ``max_neighbours``, times the
    movies. About 1/40 of the table's work on ml-latest-small."""
    c, ct = _centred_columns(train, means)
    return _count_neighbours(ct, c, min_sim, max_neighbours, seed=seed)


def _count_neighbours(
    ct: sp.csr_matrix,
    c: sp.csc_matrix,
    min_sim: float,
    max_neighbours: int | None,
    *,
    seed: int = 0,
    dense: bool | None = None,
) -> int:
    n = ct.shape[0]
    if n == 0:
        return 0
    rows = np.sort(np.random.default_rng(seed).choice(n, size=min(n, _SAMPLE_ROWS), replace=False))
    r_idx, _, _ = _positive(ct, c, rows, min_sim, dense if dense is not None else _dense_products(c))
    counts = np.bincount(r_idx, minlength=len(rows))
    if max_neighbours is not None:
        counts = np.minimum(counts, max_neighbours)
    return round(float(counts.mean()) * n)


def _grown(array: np.ndarray, need: int) -> np.ndarray:
    """``array``'s values in a new array of at least ``need`` items (half as large again)."""
    out = np.empty(max(need, len(array) * 3 // 2), dtype=array.dtype)
    out[: len(array)] = array
    return out


def check_neighbour_table(
    n_items: int, neighbours: float, available: int | None, *, name: str = "itemknn-explicit"
) -> None:
    """Raise :class:`MemoryLimitError` (a ConfigError) when building a table of ``neighbours`` for
    ``n_items`` movies needs more than ``available`` bytes (``None``: unknown, nothing refused), by
    :mod:`movierec.models.memory`'s rule: ``MARGIN ×`` the estimate above what is available; the estimate
    is the neighbours' bytes while built and one block of similarity rows. The sentence says the size, the
    memory and a ``save_nbrs`` whose table and block take at most half of what is available."""
    working = _BLOCK * n_items * _BLOCK_CELL_BYTES
    need = neighbours * _BUILD_BYTES + working
    if available is None or MARGIN * need <= available:
        return
    fits = max(int((available / 2 - working) / (_BUILD_BYTES * max(n_items, 1))), 1)
    nice = max(m * 10**e for e in range(len(str(fits))) for m in (1, 2, 5) if m * 10**e <= fits)
    raise MemoryLimitError(
        f"{name} would keep about {neighbours:,.0f} neighbours for {n_items:,} movies (every similarity above "
        f"min_sim: {_size(neighbours * 8)}, about {_size(need)} while it is built) and {_size(available)} is "
        "available: set save_nbrs (max_neighbours) to keep only the most similar per movie, as LensKit's "
        f"save_nbrs does, e.g. save_nbrs={nice}"
    )


def _size(n: float) -> str:
    """``84 MB``, ``9.9 GB``."""
    return f"{n / 1e6:,.0f} MB" if n < 1e9 else f"{n / 1e9:,.1f} GB"


def centred_cosine_neighbours(
    train: Interactions,
    means: np.ndarray,
    min_sim: float,
    max_neighbours: int | None,
    *,
    available: int | None = None,
) -> sp.csr_matrix:
    """Items × items CSR of the cosine between mean-centred item columns over all users, only entries
    > ``min_sim`` (no diagonal), each row best first (equal float32 values: lowest index first) and cut to
    ``max_neighbours`` (None: all). A movie whose centred ratings are all 0 has no neighbours and is none.

    With ``available`` (bytes), the table's size is estimated first (:func:`neighbour_count`) and a table
    that cannot fit is refused before it is built (:func:`check_neighbour_table`), and again as soon as the
    rows built so far and the sample's rate for the others show it cannot (the sample may err: ±5 % on
    ml-latest-small for four seeds)."""
    c, ct = _centred_columns(train, means)
    n = train.n_items
    dense = _dense_products(c)
    estimate = _count_neighbours(ct, c, min_sim, max_neighbours, dense=dense)
    if available is not None:
        check_neighbour_table(n, estimate, available)
    per_row = estimate / max(n, 1)
    # the table is written in place, sized by the estimate and its error, not kept as blocks and joined
    # (which held every neighbour twice): grown only if the sample fell short, cut to size at the end
    cap = int(estimate * _SLACK) + _BLOCK
    data, indices = np.empty(cap, dtype=np.float32), np.empty(cap, dtype=np.int32)
    counts = np.zeros(n, dtype=np.int64)
    kept = 0
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        r_idx, c_idx, v = _positive(ct, c, np.arange(start, stop), min_sim, dense)
        if max_neighbours is not None and len(r_idx):
            first = np.searchsorted(r_idx, r_idx, side="left")
            keep = np.arange(len(r_idx)) - first < max_neighbours
            r_idx, c_idx, v = r_idx[keep], c_idx[keep], v[keep]
        if available is not None:  # the rows built, and the sample's rate for the rest: the sample may err
            check_neighbour_table(n, kept + len(v) + per_row * (n - stop), available)
        if kept + len(v) > len(data):
            data, indices = _grown(data, kept + len(v)), _grown(indices, kept + len(v))
        data[kept : kept + len(v)], indices[kept : kept + len(v)] = v, c_idx
        counts[start:stop] = np.bincount(r_idx, minlength=stop - start)
        kept += len(v)
    data.resize(kept, refcheck=False)  # in place (realloc): no second copy of the table
    indices.resize(kept, refcheck=False)
    indptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    return sp.csr_matrix((data, indices, indptr), shape=(n, n))  # best first: indices not sorted


class ItemKNNExplicit(ExplicitModel):
    """LensKit's explicit ``ItemKNNScorer`` (Sarwar et al. 2001; Deshpande & Karypis 2004): movie-mean-centred
    ratings, cosine over all users, r̂_ui = m_i + Σ s·(r_uj − m_j) / Σ |s| over the ``k`` most similar of the
    user's movies with s > ``min_sim`` (module docstring). LensKit's names work: ``max_nbrs`` is ``k``,
    ``min_nbrs`` is ``min_k``, ``save_nbrs`` is ``max_neighbours``; the defaults are LensKit's."""

    item_vectors: ClassVar[bool | None] = False

    name: ClassVar[str] = "itemknn-explicit"
    # served by the knn family (movierec.scoring.knn) under its rule 2: m_i + deviation, or the bias
    # fallback below max(min_k, 1) neighbours; a visitor's b_u is the mean of their r − μ − b_i (undamped)
    tags: ClassVar[Tags] = Tags(
        trains_on="ratings", predicts_ratings=True, fold_in="neighbours", serving="knn"
    )
    search_space: ClassVar[SearchSpace] = {
        "k": IntRange(5, 200, log=True),
        "min_sim": FloatRange(1e-6, 0.2, log=True),
    }
    _aliases: ClassVar[dict[str, str]] = {
        "max_nbrs": "k",
        "nnbrs": "k",
        "min_nbrs": "min_k",
        "save_nbrs": "max_neighbours",
    }
    _none_means: ClassVar[dict[str, str]] = {"max_neighbours": "every neighbour above min_sim (LensKit's)"}
    _foreign_names: ClassVar[dict[str, str]] = {
        "feedback": "itemknn-explicit is LensKit's feedback='explicit'; its feedback='implicit' is itemknn",
    }
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "k": [POSITIVE_INT],
        "min_k": [NON_NEGATIVE_INT],
        "min_sim": [POSITIVE],
        "max_neighbours": [POSITIVE_INT, None],
    }

    k: int = 20
    min_k: int = 1
    min_sim: float = 1e-6
    max_neighbours: int | None = None

    def _fit(self, train: Interactions) -> Self:
        """Item means, the undamped biases of the fallback, and the best-first neighbour lists."""
        self._remember_train(train)
        means = item_means(train)
        mu = float(np.mean(train.ratings, dtype=np.float64))
        n_i = np.bincount(train.items, minlength=train.n_items)
        b_i = np.divide(
            np.bincount(train.items, train.ratings - mu, train.n_items),
            n_i,
            out=np.zeros(train.n_items),
            where=n_i > 0,
        )
        n_u = np.bincount(train.users, minlength=train.n_users)
        b_u = np.divide(
            np.bincount(train.users, train.ratings - mu - b_i[train.items], train.n_users),
            n_u,
            out=np.zeros(train.n_users),
            where=n_u > 0,
        )
        self.global_mean_ = np.asarray(mu, dtype=np.float64)
        self.user_bias_, self.item_bias_ = b_u, b_i
        self.x_offset_ = means
        self.y_offset_ = np.zeros(train.n_users)
        self.neighbours_ = centred_cosine_neighbours(
            train, means, float(self.min_sim), self.max_neighbours, available=available_bytes()
        )
        self.ratings_ = train.csr().astype(np.float32)
        self._after_load()
        return self

    def check_fit_memory(self, train: Interactions) -> None:
        """Refuse, before any work, a neighbour table that cannot fit in the memory available, as fit does
        (:func:`check_neighbour_table`); compare calls it before a fit's progress line, so the refusal is
        the command's one line."""
        count = neighbour_count(train, item_means(train), float(self.min_sim), self.max_neighbours)
        check_neighbour_table(train.n_items, count, available_bytes())

    def _after_load(self) -> None:
        """The CSR views the prediction kernel reads (rebuilt from the saved arrays)."""
        self._y_major = sp.csr_matrix(self.ratings_)
        self._nb = sp.csr_matrix(self.neighbours_)

    def _deviations(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y, nb = self._y_major, self._nb
        return kernels.predict_pairs(
            items.astype(np.int64), users.astype(np.int64),
            nb.indptr.astype(np.int64), nb.indices, nb.data,
            y.indptr.astype(np.int64), y.indices, y.data.astype(np.float64),
            self.x_offset_, self.y_offset_, int(self.k), None,
        )  # fmt: skip

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """m_i + deviation where at least ``max(min_k, 1)`` neighbours count; the others are impossible
        (flagged) and take the bias fallback, as LensKit's NaN score does."""
        dev, actual = self._deviations(users, items)
        impossible = actual < max(int(self.min_k), 1)
        return self.x_offset_[items] + dev, impossible

    def predicted_scores(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Unclipped predicted ratings over the grid (the batched kernel of the knn family)."""
        self._check_fitted()
        users = self._check_users(users)
        cols = (
            np.arange(self.n_items_, dtype=np.int64) if items is None else np.asarray(items, dtype=np.int64)
        )
        u, nb = self._y_major, self._nb
        dev, actual = kernels.predict_dense_items(
            users.astype(np.int64), cols,
            nb.indptr.astype(np.int64), nb.indices, nb.data,
            u.indptr.astype(np.int64), u.indices, u.data.astype(np.float64),
            self.x_offset_, self.y_offset_, self.n_items_, int(self.k), None,
        )  # fmt: skip
        grid_u = np.repeat(users.astype(np.int64), len(cols))
        grid_i = np.tile(cols, len(users))
        ku, ki = self._known(grid_u, grid_i)
        est = self._fallback(grid_u, grid_i, ku, ki)
        ok = ku & ki & (actual.ravel() >= max(int(self.min_k), 1))
        est[ok] = (self.x_offset_[grid_i] + dev.ravel())[ok]
        return est.reshape(len(users), len(cols)).astype(np.float32)

    def similar_items(self, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` most similar movies by the centred cosine (the stored lists, best first)."""
        self._check_fitted()
        check_positive("k", k, integer=True)
        if not 0 <= item < self.n_items_:
            raise ConfigError(f"item index {item} is outside 0..{self.n_items_ - 1}")
        row = np.full(self.n_items_, -np.inf, dtype=np.float32)
        got = self._nb[item]
        row[got.indices] = got.data
        idx, vals = topk(row[None, :], k)
        return idx[0], vals[0]

    def item_embeddings(self) -> np.ndarray | None:
        """None: a neighbour model has similarity lists (``neighbours_``), not vectors."""
        return None
