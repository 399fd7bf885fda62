"""The explicit models' (SVD, SVD++, baselines, k-NN) and EASE's kernels: compiled at install time (``_native``), numba where no build exists.

``pip install`` compiles ``_native.pyx`` (Cython, C++), so a fresh install runs its first ``svd``,
``baseline`` or ``knn-*`` fit with no JIT wait and without importing numba. A source checkout that
was never built (``PYTHONPATH=src``) falls back to the numba kernels of ``sgd.py``,
``baselines.py`` and ``knn.py``, which compile on first use and stay the reference the parity
tests compare against. :data:`BACKEND` says which is in use; :data:`CALLS` counts kernel calls
per name (the perf guard checks that a fit without a listener makes one sweep call, not one per
epoch).

Every function takes plain numpy arrays and converts them to the dtypes the kernels expect
(indices int32, pointers int64, values float64) only where they differ.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import numpy as np

from movierec.models.kernels.threads import run_chunks

try:  # built by `pip install`; MOVIEREC_KERNELS=numba forces the fallback (parity tests use both)
    if os.environ.get("MOVIEREC_KERNELS", "").lower() == "numba":
        raise ImportError("numba kernels requested")
    from movierec.models.kernels import _native
except ImportError:
    _native = None

__all__ = [
    "BACKEND",
    "CALLS",
    "COSINE",
    "MSD",
    "PEARSON",
    "PEARSON_BASELINE",
    "als_biases",
    "fast_width",
    "first_seen",
    "group_by_first_seen",
    "has_native",
    "ials_half_step",
    "implicit_sums",
    "predict_dense_items",
    "predict_pairs",
    "sgd_biases",
    "svd_epochs",
    "svdpp_epoch",
    "top_similarities",
    "woodbury_diag",
    "woodbury_weights",
]

BACKEND = "native" if _native is not None else "numba"


def has_native(name: str) -> bool:
    """Whether the built extension has kernel ``name``: a build older than this source (an in-place build
    not redone after a pull) lacks the newest kernels, which then run their numba versions."""
    return _native is not None and hasattr(_native, name)


CALLS: Counter[str] = Counter()

COSINE, MSD, PEARSON, PEARSON_BASELINE = 0, 1, 2, 3  # the similarity codes of both backends


def _i32(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int32)


def _i64(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def _f64(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def fast_width(n_factors: int) -> int:
    """Row width of the fast SVD sweep: factors padded with zero columns (which stay zero).

    The compiled kernel wants a multiple of 16 floats (whole AVX-512 registers, no remainder
    loop); numba's wants at least 64 as well (``sgd.fast_width``).
    """
    if _native is None:
        from movierec.models.kernels.sgd import fast_width as numba_width

        return numba_width(n_factors)
    return -(-int(n_factors) // 16) * 16


def svd_epochs(
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    mu: float,
    bu: np.ndarray,
    bi: np.ndarray,
    pu: np.ndarray,
    qi: np.ndarray,
    lr_b: float,
    lr_f: float,
    reg_b: float,
    reg_f: float,
    biased: bool,
    n_epochs: int = 1,
) -> np.ndarray:
    """``n_epochs`` SGD sweeps of biased MF in one call, updating ``bu, bi, pu, qi`` in place.

    float64 state runs the exact sweep, float32 the fast one (``sgd.svd_epoch``). Returns Σ err²
    seen during each sweep (float64, length ``n_epochs``).
    """
    CALLS["svd_epochs"] += 1
    sq = np.zeros(int(n_epochs))
    if _native is None:
        from movierec.models.kernels.sgd import svd_epoch

        for e in range(int(n_epochs)):
            sq[e] = svd_epoch(users, items, ratings, mu, bu, bi, pu, qi, lr_b, lr_f, reg_b, reg_f, biased)
        return sq
    kernel = _native.svd_epochs_exact if pu.dtype == np.float64 else _native.svd_epochs_fast
    kernel(
        _i32(users), _i32(items), ratings, float(mu), bu, bi, pu, qi,
        float(lr_b), float(lr_f), float(reg_b), float(reg_f), bool(biased), sq,
    )  # fmt: skip
    return sq


def als_biases(
    u_ptr: np.ndarray,
    u_items: np.ndarray,
    u_ratings: np.ndarray,
    i_ptr: np.ndarray,
    i_users: np.ndarray,
    i_ratings: np.ndarray,
    mu: float,
    reg_u: float,
    reg_i: float,
    n_epochs: int,
) -> tuple[np.ndarray, np.ndarray]:
    """User and item biases by alternating least squares (``baselines.als_biases``)."""
    CALLS["als_biases"] += 1
    if _native is None:
        from movierec.models.kernels import baselines

        return baselines.als_biases(
            u_ptr, u_items, u_ratings, i_ptr, i_users, i_ratings, mu, reg_u, reg_i, n_epochs
        )
    return _native.als_biases(
        _i64(u_ptr), _i32(u_items), _f64(u_ratings), _i64(i_ptr), _i32(i_users), _f64(i_ratings),
        float(mu), float(reg_u), float(reg_i), int(n_epochs),
    )  # fmt: skip


def sgd_biases(
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    n_users: int,
    n_items: int,
    mu: float,
    reg: float,
    lr: float,
    n_epochs: int,
) -> tuple[np.ndarray, np.ndarray]:
    """User and item biases by SGD over the ratings in the given order (``baselines.sgd_biases``)."""
    CALLS["sgd_biases"] += 1
    if _native is None:
        from movierec.models.kernels import baselines

        return baselines.sgd_biases(users, items, ratings, n_users, n_items, mu, reg, lr, n_epochs)
    return _native.sgd_biases(
        _i32(users), _i32(items), _f64(ratings), int(n_users), int(n_items),
        float(mu), float(reg), float(lr), int(n_epochs),
    )  # fmt: skip


def first_seen(values: np.ndarray, n_values: int) -> np.ndarray:
    """Distinct ``values`` (each in 0..n_values-1) in order of first appearance."""
    if _native is None:
        from movierec.models.kernels import baselines

        return baselines.first_seen(values, n_values)
    return _native.first_seen(_i64(values), int(n_values))


def group_by_first_seen(values: np.ndarray, n_values: int) -> np.ndarray:
    """Stable order of the rows grouped by value, groups in order of first appearance."""
    if _native is None:
        from movierec.models.kernels import baselines

        return baselines.group_by_first_seen(values, n_values)
    return _native.group_by_first_seen(_i64(values), int(n_values))


def top_similarities(
    x_ptr: np.ndarray,
    x_idx: np.ndarray,
    x_val: np.ndarray,
    y_ptr: np.ndarray,
    y_idx: np.ndarray,
    y_val: np.ndarray,
    kind: int,
    min_support: int,
    shrinkage: float,
    max_neighbours: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each x's up-to-``max_neighbours`` most similar other x (similarity > 0), best first
    (``knn.top_similarities``). Returns ``(counts, neighbours, sims)``."""
    CALLS["top_similarities"] += 1
    if _native is None:
        from movierec.models.kernels import knn

        return knn.top_similarities(
            x_ptr, x_idx, x_val, y_ptr, y_idx, y_val, kind, min_support, shrinkage, max_neighbours,
            knn.n_chunks(),
        )  # fmt: skip
    n_x = len(x_ptr) - 1
    counts = np.zeros(n_x, dtype=np.int32)
    nbrs = np.full((n_x, max_neighbours), -1, dtype=np.int32)
    sims = np.zeros((n_x, max_neighbours), dtype=np.float32)
    args = (_i64(x_ptr), _i32(x_idx), _f64(x_val), _i64(y_ptr), _i32(y_idx), _f64(y_val))
    run_chunks(
        lambda c, n: _native.top_similarities_chunk(
            *args, int(kind), int(min_support), float(shrinkage), counts, nbrs, sims, c, n
        ),
        n_x,
    )
    return counts, nbrs, sims


def predict_pairs(
    xs: np.ndarray,
    ys: np.ndarray,
    nb_ptr: np.ndarray,
    nb_idx: np.ndarray,
    nb_sim: np.ndarray,
    y_ptr: np.ndarray,
    y_idx: np.ndarray,
    y_val: np.ndarray,
    offset_x: np.ndarray,
    offset_y: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted neighbour deviation for each (x, y) pair (``knn.predict_pairs``): ``(deviation, actual_k)``."""
    CALLS["predict_pairs"] += 1
    if _native is None:
        from movierec.models.kernels import knn

        return knn.predict_pairs(
            xs, ys, nb_ptr, nb_idx, nb_sim, y_ptr, y_idx, y_val, offset_x, offset_y, k, knn.n_chunks()
        )
    xs, ys = _i64(xs), _i64(ys)
    n = len(xs)
    dev = np.zeros(n)
    actual = np.zeros(n, dtype=np.int32)
    if n == 0:
        return dev, actual
    order = np.argsort(ys, kind="stable")
    sorted_ys = ys[order]
    starts = np.flatnonzero(np.r_[True, sorted_ys[1:] != sorted_ys[:-1], True]).astype(np.int64)
    args = (
        xs, ys, order.astype(np.int64), starts, _i64(nb_ptr), _i32(nb_idx),
        np.ascontiguousarray(nb_sim, dtype=np.float32), _i64(y_ptr), _i32(y_idx), _f64(y_val),
        _f64(offset_x), _f64(offset_y), int(k), dev, actual,
    )  # fmt: skip
    run_chunks(lambda c, m: _native.predict_pairs_chunk(*args, c, m), len(starts) - 1)
    return dev, actual


def predict_dense_items(
    users: np.ndarray,
    items: np.ndarray,
    nb_ptr: np.ndarray,
    nb_idx: np.ndarray,
    nb_sim: np.ndarray,
    u_ptr: np.ndarray,
    u_idx: np.ndarray,
    u_val: np.ndarray,
    offset_item: np.ndarray,
    offset_user: np.ndarray,
    n_items: int,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Item-based deviations over a users × items grid (``knn.predict_dense_items``)."""
    CALLS["predict_dense_items"] += 1
    if _native is None:
        from movierec.models.kernels import knn

        return knn.predict_dense_items(
            users, items, nb_ptr, nb_idx, nb_sim, u_ptr, u_idx, u_val, offset_item, offset_user, n_items, k,
            knn.n_chunks(2),
        )  # fmt: skip
    users, items = _i64(users), _i64(items)
    dev = np.zeros((len(users), len(items)))
    actual = np.zeros((len(users), len(items)), dtype=np.int32)
    args = (
        users, items, _i64(nb_ptr), _i32(nb_idx), np.ascontiguousarray(nb_sim, dtype=np.float32),
        _i64(u_ptr), _i32(u_idx), _f64(u_val), _f64(offset_item), _f64(offset_user), int(n_items), int(k),
        dev, actual,
    )  # fmt: skip
    run_chunks(lambda c, m: _native.predict_dense_items_chunk(*args, c, m), len(users), per_thread=2)
    return dev, actual


def woodbury_diag(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, kx: np.ndarray) -> np.ndarray:
    """diag(S) of EASE's Woodbury path (``ease_kernels.woodbury_diag``)."""
    if _native is None:
        from movierec.models.kernels import ease_kernels

        return ease_kernels.woodbury_diag(indptr, indices, data, kx)
    return _native.woodbury_diag(_i64(indptr), _i32(indices), _f64(data), _f64(kx))


def woodbury_weights(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, kx: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """EASE's B = S·diag(scale), zero diagonal, float32 (``ease_kernels.woodbury_weights``); rows in
    chunks claimed by threads (no parallel region waiting at a barrier)."""
    CALLS["woodbury_weights"] += 1
    if _native is None:
        from movierec.models.kernels import ease_kernels

        return ease_kernels.woodbury_weights(indptr, indices, data, kx, scale)
    n_items = len(indptr) - 1
    out = np.empty((n_items, n_items), dtype=np.float32)
    args = (_i64(indptr), _i32(indices), _f64(data), _f64(kx), _f64(scale), out)
    run_chunks(lambda c, n: _native.woodbury_weights_chunk(*args, c, n), n_items)
    return out


def svdpp_epoch(
    items: np.ndarray,
    ratings: np.ndarray,
    block_users: np.ndarray,
    block_ptr: np.ndarray,
    mu: float,
    bu: np.ndarray,
    bi: np.ndarray,
    pu: np.ndarray,
    qi: np.ndarray,
    yj: np.ndarray,
    lr_b: float,
    lr_f: float,
    lr_y: float,
    reg_b: float,
    reg_f: float,
    reg_y: float,
) -> float:
    """One SGD sweep of SVD++ over ratings grouped by user, float64 state updated in place (``sgd.svdpp_epoch``)."""
    CALLS["svdpp_epoch"] += 1
    if not has_native("svdpp_epoch"):
        from movierec.models.kernels import sgd

        return float(
            sgd.svdpp_epoch(
                items,
                ratings,
                block_users,
                block_ptr,
                mu,
                bu,
                bi,
                pu,
                qi,
                yj,
                lr_b,
                lr_f,
                lr_y,
                reg_b,
                reg_f,
                reg_y,
            )
        )
    sq = _native.svdpp_epoch(
        _i32(items), _f64(ratings), _i64(block_users), _i64(block_ptr), float(mu), bu, bi, pu, qi, yj,
        float(lr_b), float(lr_f), float(lr_y), float(reg_b), float(reg_f), float(reg_y),
    )  # fmt: skip
    return float(sq)


def implicit_sums(u_ptr: np.ndarray, u_items: np.ndarray, yj: np.ndarray) -> np.ndarray:
    """|I_u|^-1/2 Σ_{j∈I_u} y_j per user, SVD++'s implicit term (``sgd.implicit_sums``)."""
    if not has_native("implicit_sums"):
        from movierec.models.kernels import sgd

        return sgd.implicit_sums(u_ptr, u_items, yj)
    return _native.implicit_sums(_i64(u_ptr), _i32(u_items), _f64(yj))


def ials_half_step(
    indptr: np.ndarray,
    indices: np.ndarray,
    fixed: np.ndarray,
    solve: np.ndarray,
    gram: np.ndarray,
    alpha0: float,
    reg: np.ndarray,
    cg_steps: int,
) -> float:
    """One iALS half-step: every row of ``solve`` (float32, in place) by CG against ``fixed``
    (``ials_cg.ials_half_step``); rows in chunks claimed by threads. Returns the rows' data loss."""
    CALLS["ials_half_step"] += 1
    if not has_native("ials_rows_chunk"):
        from movierec.models.kernels import ials_cg

        return float(ials_cg.ials_half_step(indptr, indices, fixed, solve, gram, alpha0, reg, cg_steps))
    losses = np.zeros(solve.shape[0])
    args = (
        _i64(indptr), _i32(indices), np.ascontiguousarray(fixed, dtype=np.float32), solve, _f64(gram),
        float(alpha0), _f64(reg), int(cg_steps), losses,
    )  # fmt: skip
    run_chunks(lambda c, n: _native.ials_rows_chunk(*args, c, n), solve.shape[0])
    return float(losses.sum())
