"""Item × item linear models: RP3beta (Paudel et al. 2017) and SLIM ElasticNet (Ning & Karypis 2011).

Both learn a sparse items × items matrix W and score a user as their interaction row times W, the
shape of the simple baselines Dacrema, Cremonesi & Jannach (2019, "Are we really making much
progress?") found beating most neural recommenders once tuned. A new user needs no fold-in: their
row times W.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp

from movierec.errors import DataError
from movierec.interactions import Interactions
from movierec.models.base import Tags
from movierec.models.ease import LinearItemModel, dense_guard
from movierec.models.params import NON_NEGATIVE, POSITIVE, POSITIVE_INT, Constraint, Interval
from movierec.models.space import FloatRange, IntRange, SearchSpace
from movierec.models.weighting import weighted_csr

__all__ = ["SLIM", "ItemItemModel", "RP3beta", "rp3beta_weights", "slim_weights"]


def _topk_rows(block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, values) of the ``k`` largest positive entries of each row of a dense block; of
    several entries tied at the ``k``-th place, those with the lowest column index.

    argpartition alone left the tie to numpy's selection, which differs with the CPU's vector
    instructions: numpy 2.4 on an AVX-512 machine kept other rp3beta neighbours than with AVX-512 switched
    off (a third of ml-latest-small's rows have such a tie; validation NDCG@10 moved by 1e-4), so the
    same data gave other weights on another machine. argpartition's tied slots are refilled with the
    tie's lowest columns (0.29 s for ml-latest-small's rp3beta fit against 0.22 s; the compiled selection
    of :func:`movierec.models.base.topk` was no faster here).
    """
    k = min(k, block.shape[1])
    part = np.argpartition(-block, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(block, part, axis=1)
    _lowest_of_ties(block, part, vals)
    rows = np.repeat(np.arange(block.shape[0]), k)
    keep = vals.ravel() > 0
    return rows[keep], part.ravel()[keep], vals.ravel()[keep]


def _lowest_of_ties(block: np.ndarray, part: np.ndarray, vals: np.ndarray) -> None:
    """Where argpartition's ``part`` (values ``vals``) cuts through entries tied at a row's smallest kept
    value, give its tied slots the tie's lowest columns, in place (a tie at 0 or below is dropped anyway)."""
    kth = vals.min(axis=1, keepdims=True)
    cut = (block == kth).sum(axis=1) > (vals == kth).sum(axis=1)
    bad = np.flatnonzero(cut & (kth[:, 0] > 0))
    if not len(bad):
        return
    slot_r, slot_c = np.nonzero(vals[bad] == kth[bad])  # row by row, as many slots as each row has
    tie_r, tie_c = np.nonzero(block[bad] == kth[bad])  # the whole tie, columns ascending in each row
    first = np.searchsorted(tie_r, np.arange(len(bad)))
    slots = np.bincount(slot_r, minlength=len(bad))
    lowest = np.arange(len(tie_r)) - first[tie_r] < slots[tie_r]
    sel = part[bad]
    sel[slot_r, slot_c] = tie_c[lowest]
    part[bad] = sel  # the values are the tie's: vals stays


def rp3beta_weights(
    x: sp.csr_matrix, alpha: float = 1.0, beta: float = 0.5, k: int = 200, block: int = 512
) -> sp.csr_matrix:
    """The RP3beta items × items matrix of a users × items matrix ``x`` (Paudel et al. 2017).

    Three-step random-walk probabilities item → user → item with every transition probability raised
    to ``alpha``, W[i, j] = Σ_u P(u|i)^α P(j|u)^α, then divided by the popularity of the destination
    item, deg(j)^β (β = 0 is P³α, Cooper et al. 2014); the diagonal is zeroed and each row keeps its
    ``k`` largest entries, computed ``block`` rows at a time (the layout of Dacrema et al.'s code).
    """
    x = sp.csr_matrix(x, dtype=np.float64)
    n_items = x.shape[1]
    row_sums = np.asarray(x.sum(axis=1)).ravel()
    row_sums[row_sums == 0] = 1.0
    p_ui = sp.csr_matrix(sp.diags(1.0 / row_sums) @ x)  # P(j | u)
    xb = sp.csr_matrix(x.T)
    xb.data[:] = 1.0
    degree = np.asarray(xb.sum(axis=1)).ravel()  # users per item
    p_iu = sp.csr_matrix(sp.diags(1.0 / np.maximum(degree, 1.0)) @ xb)  # P(u | i)
    if alpha != 1.0:
        p_ui.data **= alpha
        p_iu.data **= alpha
    damp = np.zeros(n_items)
    damp[degree > 0] = degree[degree > 0] ** -beta
    rows_out, cols_out, vals_out = [], [], []
    for start in range(0, n_items, block):
        stop = min(start + block, n_items)
        dense = np.asarray((p_iu[start:stop] @ p_ui).toarray()) * damp[None, :]
        dense[np.arange(stop - start), np.arange(start, stop)] = 0.0
        r, c, v = _topk_rows(dense, k)
        rows_out.append(r + start)
        cols_out.append(c)
        vals_out.append(v)
    rows = np.concatenate(rows_out)
    w = sp.csr_matrix(
        (np.concatenate(vals_out).astype(np.float32), (rows, np.concatenate(cols_out))),
        shape=(n_items, n_items),
    )
    w.sort_indices()
    return w


def slim_weights(
    x: sp.csr_matrix,
    alpha: float = 1e-3,
    l1_ratio: float = 0.1,
    *,
    k: int = 200,
    max_iter: int = 100,
    tol: float = 1e-4,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """The SLIM items × items matrix of ``x`` (Ning & Karypis 2011): one non-negative elastic net per item.

    Column j solves min_w 1/(2n)‖x_j − Xw‖² + α·ρ·‖w‖₁ + ½·α·(1−ρ)·‖w‖² with w ≥ 0, w_j = 0 and n the
    number of users (scikit-learn's ``ElasticNet(alpha, l1_ratio, positive=True, fit_intercept=False)``
    objective, so figures carry over from Dacrema et al.'s sklearn-based code), each column keeping its
    ``k`` largest weights. Returns ``(W, sweeps per column)``.

    The solver (:func:`movierec.models.kernels.accel.slim_columns`, compiled) is cyclic coordinate descent
    with "naive" updates (Friedman, Hastie & Tibshirani 2010, §2.1), as scikit-learn runs on sparse input:
    the residual x_j − Xw lives in user space, a coordinate's gradient is X[:, k]·r, and a sweep costs about
    nnz(X). The covariance form on the Gram matrix XᵀX (§2.2), our first solver, paid one Gram column per
    moving weight: on ml-latest-small (a Gram matrix 13% nonzero) the default fit went from 31.7 s to 2.8 s
    with the same iterates, and no Gram matrix is built. A target stops when a sweep's largest change is
    at most ``tol`` times its largest weight.
    """
    from movierec.models.kernels.accel import slim_columns

    n_users, n_items = x.shape
    l1 = float(alpha) * float(l1_ratio) * n_users
    l2 = float(alpha) * (1.0 - float(l1_ratio)) * n_users
    rows, vals, sweeps = slim_columns(
        sp.csc_matrix(x), l1, l2, int(max_iter), float(tol), int(min(k, n_items))
    )
    keep = rows >= 0
    targets = np.repeat(np.arange(n_items), rows.shape[1]).reshape(rows.shape)
    w = sp.csr_matrix((vals[keep], (rows[keep], targets[keep])), shape=(n_items, n_items), dtype=np.float32)
    w.sort_indices()
    return w, sweeps


class ItemItemModel(LinearItemModel):
    """Shared scoring of the item × item models: scores = X_u · W over the active items."""

    kind: ClassVar[str] = "implicit"
    tags: ClassVar[Tags] = Tags(fold_in="neighbours", serving="linear")

    def _fit_weights(self, x: sp.csr_matrix) -> sp.csr_matrix:
        raise NotImplementedError

    def _fit_items(self, train: Interactions) -> Self:
        """Weigh the interactions, keep the items that have some, fit W over them (``_fit_weights``)."""
        if train.n_ratings == 0:
            raise DataError(f"{self.name}: no interactions to train on")
        x = weighted_csr(train, self.weighting, self.half_life_days)
        counts = np.diff(x.tocsc().indptr)
        active = dense_guard(
            self.name,
            counts,
            self.max_items,
            what="item",
            option="max_items",
            instead="ease/als/bpr",
            cost=f"{self.name} fits one row of item weights per item against every other item: time grows "
            "with their square",
        )
        self._remember_train(train)
        self.user_items_ = sp.csr_matrix(x, dtype=np.float32)
        self.active_items_ = active
        self.weights_ = sp.csr_matrix(self._fit_weights(x[:, active]), dtype=np.float32)
        return self


class RP3beta(ItemItemModel):
    """RP3beta graph random walk (Paudel, Christoffel, Newell & Bernstein 2017): ``alpha`` sharpens the
    transition probabilities, ``beta`` divides by the destination item's popularity, ``k`` neighbours per item.

    Defaults from ``bench/validation_study.py rp3beta --protocol mlls`` (ml-latest-small, ``compare``'s
    default split, validation folds cut from its training part; the test part never read): α 0.8,
    β 0.35, k 200 scored validation NDCG@10 0.1697 (the ml-100k study's α 0.8, β 0.5, k 50: 0.1134 there;
    on ml-100k's own validation folds α 0.8, β 0.5, k 50 is best, 0.2600, see docs/results.md's tuned rows).
    """

    name: ClassVar[str] = "rp3beta"
    search_space: ClassVar[SearchSpace] = {
        "alpha": FloatRange(0.0, 2.0),
        "beta": FloatRange(0.0, 1.0),
        "k": IntRange(10, 1000, log=True),
    }

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "alpha": [NON_NEGATIVE],
        "beta": [NON_NEGATIVE],
        "k": [POSITIVE_INT],
    }

    alpha: float = 0.8
    beta: float = 0.35
    k: int = 200
    max_items: int = 30_000

    def _fit(self, train: Interactions) -> Self:
        """Build the pruned random-walk matrix over the items with training interactions."""
        return self._fit_items(train)

    def _fit_weights(self, x: sp.csr_matrix) -> sp.csr_matrix:
        return rp3beta_weights(x, float(self.alpha), float(self.beta), int(self.k))


class SLIM(ItemItemModel):
    """SLIM ElasticNet (Ning & Karypis 2011): a sparse non-negative item × item regression of every item
    on all the others, with scikit-learn's ``alpha``/``l1_ratio`` penalty; ``k`` weights kept per item.

    Time grows with the active items times the interactions (every target sweeps X), memory with the
    interactions and ``k`` weights per item; ``max_items`` bounds the time; fine for
    ml-100k/ml-latest-small/ml-1m. Defaults from ``bench/validation_study.py
    slim --protocol mlls --seeds 1,2,3`` (ml-latest-small, ``compare``'s default split, three validation
    splits cut from its training part): α 0.1, l1_ratio 0.01 scored a mean validation NDCG@10 of 0.1775
    against 0.1645 for the ml-100k point (α 0.01, l1_ratio 0.3), which stays in the tuned table. The
    study's best, l1_ratio 0.003 (0.1779), was passed over when it fitted twice as slowly (64 s against 30 s
    with the Gram-matrix solver); with today's solver the two take 3.3 s and 2.8 s, but 0.0004 is a tenth of
    the splits' spread, and swapping the default now would mean reading the test split again for a tie. With
    so little L1 the weights are mostly ridge, as EASE's.
    """

    name: ClassVar[str] = "slim"
    search_space: ClassVar[SearchSpace] = {
        "alpha": FloatRange(1e-4, 1.0, log=True),  # the studies' best points: 0.1 (mlls), 0.3 (ml-100k)
        "l1_ratio": FloatRange(1e-3, 1.0, log=True),
        "k": IntRange(20, 1000, log=True),
    }
    _json_state: ClassVar[tuple[str, ...]] = ()
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "alpha": [POSITIVE],
        "l1_ratio": [Interval(float, 0, 1)],
        "k": [POSITIVE_INT],
        "max_iter": [POSITIVE_INT],
        "tol": [POSITIVE],
    }

    alpha: float = 0.1
    l1_ratio: float = 0.01
    k: int = 200
    max_iter: int = 100
    tol: float = 1e-4
    max_items: int = 12_000

    def _fit(self, train: Interactions) -> Self:
        """Solve one non-negative elastic net per active item (in parallel)."""
        return self._fit_items(train)

    def _fit_weights(self, x: sp.csr_matrix) -> sp.csr_matrix:
        w, sweeps = slim_weights(
            x,
            float(self.alpha),
            float(self.l1_ratio),
            k=int(self.k),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
        )
        self.sweeps_ = sweeps
        return w
