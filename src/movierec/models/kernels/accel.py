"""The compiled kernels (``_native``, Cython/C++ built by ``pip install``) as plain-numpy functions.

Every kernel of ``svd``, ``svdpp``, ``baseline``, biased ``nmf``, the ``knn-*`` models, ``ease``, ``ials``
and (through :mod:`~movierec.models.kernels.hybrid`) ``bpr``/``warp``/``warp-kos``/``logistic`` is compiled ahead of
time, so a fit never waits for a JIT and never imports numba. The extension is the only
implementation: there is no fallback, and importing this module without it raises an ImportError
that says how to build it. (Only ``bayesian-fm``'s kernel, which has no port, is numba.) The parity tests compare the kernels with straightforward numba references kept in
``tests/reference_kernels/``. :data:`CALLS` counts kernel calls per name (the perf guard checks that
a fit without a listener makes one sweep call, not one per epoch).

Every function takes plain numpy arrays and converts them to the dtypes the kernels expect
(indices int32, pointers int64, values float64) only where they differ.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import scipy.sparse as sp

from movierec.models.kernels.threads import run_chunks

BUILD_HINT = (
    "run `pip install -e .` (needs a C++ compiler) or `python setup.py build_ext --inplace` in the checkout"
)
# every kernel the package calls: a build older than this source (an in-place build not redone after
# a pull) lacks the newest ones, and must fail here rather than halfway through a fit
KERNELS = (
    "svd_epochs", "svdpp_epoch", "implicit_sums", "als_biases", "sgd_biases", "nmf_bias_sweep",
    "first_seen", "group_by_first_seen", "top_similarities_chunk", "predict_pairs_chunk",
    "predict_dense_items_chunk", "woodbury_diag", "woodbury_weights_chunk", "ials_rows_chunk",
    "learn_bpr_block", "hybrid_epoch", "legacy_gauss_fill", "topk_rows", "slim_targets_chunk",
)  # fmt: skip

try:
    import movierec.models.kernels._native as _native  # compiled (no stubs: Any to the type checker)
except ImportError as exc:
    raise ImportError(f"movierec's compiled kernels are not built: {BUILD_HINT}") from exc
if missing := [name for name in KERNELS if not hasattr(_native, name)]:
    raise ImportError(
        f"movierec's compiled kernels are older than this source (no {', '.join(missing)}): {BUILD_HINT}"
    )

__all__ = [
    "CALLS",
    "COSINE",
    "MSD",
    "PEARSON",
    "PEARSON_BASELINE",
    "als_biases",
    "fast_width",
    "first_seen",
    "group_by_first_seen",
    "ials_half_step",
    "implicit_sums",
    "largest_k",
    "legacy_gauss_fill",
    "nmf_bias_sweep",
    "predict_dense_items",
    "predict_pairs",
    "sgd_biases",
    "similarity_row",
    "slim_columns",
    "svd_epochs",
    "svdpp_epoch",
    "top_similarities",
    "woodbury_diag",
    "woodbury_weights",
]

CALLS: Counter[str] = Counter()

COSINE, MSD, PEARSON, PEARSON_BASELINE = 0, 1, 2, 3  # the similarity codes of top_similarities_chunk


def _i32(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int32)


def _i64(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def _f32(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def _ranks(a: np.ndarray | None) -> np.ndarray:
    """The k-NN kernels' tie order (int32 per rating), or an empty array: ties in list order."""
    return np.empty(0, dtype=np.int32) if a is None else _i32(a)


def _f64(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def fast_width(n_factors: int) -> int:
    """Row width of the fast SVD sweep: factors padded with zero columns (which stay zero) to a
    multiple of 16 floats (whole AVX-512 registers, no remainder loop)."""
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

    float64 state runs the exact sweep, float32 the fast one (``_native.svd_epochs``). Returns Σ err²
    seen during each sweep (float64, length ``n_epochs``).
    """
    CALLS["svd_epochs"] += 1
    sq = np.zeros(int(n_epochs))
    _native.svd_epochs(
        _i32(users), _i32(items), ratings, float(mu), bu, bi, pu, qi,
        float(lr_b), float(lr_f), float(reg_b), float(reg_f), bool(biased), sq,
    )  # fmt: skip
    return sq


def als_biases(
    by_user: sp.csr_matrix, by_item: sp.csc_matrix, mu: float, reg_u: float, reg_i: float, n_epochs: int
) -> tuple[np.ndarray, np.ndarray]:
    """User and item biases by alternating least squares from the ratings as users × items CSR and CSC."""
    CALLS["als_biases"] += 1
    bu, bi = np.zeros(len(by_user.indptr) - 1), np.zeros(len(by_item.indptr) - 1)
    _native.als_biases(
        _i64(by_user.indptr), _i32(by_user.indices), _f64(by_user.data),
        _i64(by_item.indptr), _i32(by_item.indices), _f64(by_item.data),
        float(mu), float(reg_u), float(reg_i), int(n_epochs), bu, bi,
    )  # fmt: skip
    return bu, bi


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
    """User and item biases by SGD over the ratings in the given order."""
    CALLS["sgd_biases"] += 1
    bu, bi = np.zeros(int(n_users)), np.zeros(int(n_items))
    _native.sgd_biases(
        _i32(users), _i32(items), _f64(ratings), float(mu), float(reg), float(lr), int(n_epochs), bu, bi
    )
    return bu, bi


def nmf_bias_sweep(
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    dots: np.ndarray,
    mu: float,
    lr: tuple[float, float],
    reg: tuple[float, float],
    bu: np.ndarray,
    bi: np.ndarray,
) -> np.ndarray:
    """One epoch of biased NMF's bias SGD over the ratings in the given order (``lr``, ``reg``: the user's
    and the item's), ``bu``/``bi`` (float64) updated in place; returns each rating's estimate before its step."""
    CALLS["nmf_bias_sweep"] += 1
    est = np.empty(len(users))
    _native.nmf_bias_sweep(
        _i32(users), _i32(items), _f64(ratings), _f64(dots), float(mu), float(lr[0]), float(lr[1]),
        float(reg[0]), float(reg[1]), bu, bi, est,
    )  # fmt: skip
    return est


def first_seen(values: np.ndarray, n_values: int) -> np.ndarray:
    """Distinct ``values`` (each in 0..n_values-1) in order of first appearance."""
    return _native.first_seen(_i64(values), int(n_values))


def group_by_first_seen(values: np.ndarray, n_values: int) -> np.ndarray:
    """Stable order of the rows grouped by value, groups in order of first appearance."""
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
    select_support: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each x's up-to-``max_neighbours`` most similar other x (similarity > 0), best first
    (``_native.top_similarities_chunk``, chunks claimed by threads). Returns ``(counts, neighbours, sims)``.

    ``select_support`` λ > 0: a row with more candidates than ``max_neighbours`` keeps those of largest
    s·n/(n + λ), n their co-raters, rather than of largest s (stored by s all the same); 0 keeps by s."""
    CALLS["top_similarities"] += 1
    n_x = len(x_ptr) - 1
    counts = np.zeros(n_x, dtype=np.int32)
    nbrs = np.full((n_x, max_neighbours), -1, dtype=np.int32)
    sims = np.zeros((n_x, max_neighbours), dtype=np.float32)
    args = (_i64(x_ptr), _i32(x_idx), _f64(x_val), _i64(y_ptr), _i32(y_idx), _f64(y_val))
    lam = float(select_support)
    run_chunks(
        lambda c, n: _native.top_similarities_chunk(
            *args, int(kind), int(min_support), float(shrinkage), counts, nbrs, sims, c, n, lam
        ),
        n_x,
    )
    return counts, nbrs, sims


def similarity_row(
    x: int,
    x_ptr: np.ndarray,
    x_idx: np.ndarray,
    x_val: np.ndarray,
    y_ptr: np.ndarray,
    y_idx: np.ndarray,
    y_val: np.ndarray,
    kind: int,
    min_support: int,
    shrinkage: float,
) -> np.ndarray:
    """Row ``x`` of the untruncated similarity matrix ``top_similarities`` truncates (float32 over every x',
    0 where there is none), by the same kernel: x is relabelled 0 (swapped with 0 in the y-major
    indices) so one output row suffices, and the kernel visits that row alone (a stride of n_x).
    O(co-ratings of x + n_x): what 'similar' needs for one item without keeping every list whole."""
    n_x = len(x_ptr) - 1
    lo, hi = int(x_ptr[x]), int(x_ptr[x + 1])
    if n_x < 2 or hi == lo:
        return np.zeros(n_x, dtype=np.float32)
    ptr = np.zeros(n_x + 1, dtype=np.int64)
    ptr[1:] = hi - lo  # only row 0 (x) has entries
    idx = np.asarray(y_idx)
    swapped = np.where(idx == x, 0, np.where(idx == 0, x, idx))
    counts = np.zeros(1, dtype=np.int32)
    nbrs = np.full((1, n_x - 1), -1, dtype=np.int32)
    sims = np.zeros((1, n_x - 1), dtype=np.float32)
    _native.top_similarities_chunk(
        ptr, _i32(x_idx[lo:hi]), _f64(x_val[lo:hi]), _i64(y_ptr), _i32(swapped), _f64(y_val),
        int(kind), int(min_support), float(shrinkage), counts, nbrs, sims, 0, n_x,
    )  # fmt: skip
    got = nbrs[0, : counts[0]]
    out = np.zeros(n_x, dtype=np.float32)
    out[np.where(got == 0, x, np.where(got == x, 0, got))] = sims[0, : counts[0]]
    return out


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
    y_rank: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted neighbour deviation for each (x, y) pair: ``(deviation, actual_k)``. ``y_rank`` (one per
    stored rating of the y-major CSR: when it came in the training data) breaks ties at the k-th neighbour
    as Surprise does, the earliest rating first; None: in list order."""
    CALLS["predict_pairs"] += 1
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
        _f32(nb_sim), _i64(y_ptr), _i32(y_idx), _f64(y_val), _ranks(y_rank),
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
    u_rank: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Item-based deviations over a users × items grid (``u_rank``: :func:`predict_pairs`'s ``y_rank``)."""
    CALLS["predict_dense_items"] += 1
    users, items = _i64(users), _i64(items)
    dev = np.zeros((len(users), len(items)))
    actual = np.zeros((len(users), len(items)), dtype=np.int32)
    args = (
        users, items, _i64(nb_ptr), _i32(nb_idx), _f32(nb_sim),
        _i64(u_ptr), _i32(u_idx), _f64(u_val), _ranks(u_rank), _f64(offset_item), _f64(offset_user), int(n_items), int(k),
        dev, actual,
    )  # fmt: skip
    run_chunks(lambda c, m: _native.predict_dense_items_chunk(*args, c, m), len(users), per_thread=2)
    return dev, actual


def woodbury_diag(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, kx: np.ndarray) -> np.ndarray:
    """diag(S) of EASE's Woodbury path."""
    return _native.woodbury_diag(_i64(indptr), _i32(indices), _f64(data), _f64(kx))


def woodbury_weights(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, kx: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """EASE's B = S·diag(scale), zero diagonal, float32; rows in
    chunks claimed by threads (no parallel region waiting at a barrier)."""
    CALLS["woodbury_weights"] += 1
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
    """One SGD sweep of SVD++ over ratings grouped by user, float64 state updated in place."""
    CALLS["svdpp_epoch"] += 1
    sq = _native.svdpp_epoch(
        _i32(items), _f64(ratings), _i64(block_users), _i64(block_ptr), float(mu), bu, bi, pu, qi, yj,
        float(lr_b), float(lr_f), float(lr_y), float(reg_b), float(reg_f), float(reg_y),
    )  # fmt: skip
    return float(sq)


def implicit_sums(u_ptr: np.ndarray, u_items: np.ndarray, yj: np.ndarray) -> np.ndarray:
    """|I_u|^-1/2 Σ_{j∈I_u} y_j per user, SVD++'s implicit term."""
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
    (``_native.ials_rows_chunk``); rows in chunks claimed by threads. Returns the rows' data loss."""
    CALLS["ials_half_step"] += 1
    losses = np.zeros(solve.shape[0])
    args = (
        _i64(indptr), _i32(indices), _f32(fixed), solve, _f64(gram),
        float(alpha0), _f64(reg), int(cg_steps), losses,
    )  # fmt: skip
    run_chunks(lambda c, n: _native.ials_rows_chunk(*args, c, n), solve.shape[0])
    return float(losses.sum())


def slim_columns(
    x: sp.csc_matrix, l1: float, l2: float, max_iter: int, tol: float, cap: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SLIM's non-negative elastic net for every target column of the users × items matrix ``x``
    (``_native.slim_targets_chunk``, targets in chunks claimed by threads): ``(rows, values, sweeps)`` of
    shape (n, cap), (n, cap), (n,), ``rows[j]`` target j's kept weights' items (−1 padding)."""
    CALLS["slim_columns"] += 1
    xc = sp.csc_matrix(x, dtype=np.float64)
    xc.sort_indices()
    n_users, n = xc.shape
    counts = np.diff(xc.indptr)
    norms = np.bincount(np.repeat(np.arange(n), counts), weights=xc.data * xc.data, minlength=n)
    rows = np.full((n, int(cap)), -1, dtype=np.int32)
    values = np.zeros((n, int(cap)), dtype=np.float32)
    sweeps = np.zeros(n, dtype=np.int32)
    args = (
        _i64(xc.indptr), _i32(xc.indices), _f64(xc.data), _f64(norms), int(n_users), float(l1), float(l2),
        int(max_iter), float(tol), rows, values, sweeps,
    )  # fmt: skip
    run_chunks(lambda c, k: _native.slim_targets_chunk(*args, c, k), n)
    return rows, values, sweeps


def legacy_gauss_fill(
    uniforms: np.ndarray, out: np.ndarray, start: int, mean: float, std: float
) -> tuple[int, int]:
    """Fill ``out[start:]`` (float64, in place) with ``RandomState.normal``'s draws made from this stream
    of its ``random_sample`` uniforms (numpy's polar method, bit for bit); ``(filled_to, uniforms_used)``."""
    filled, used = _native.legacy_gauss_fill(_f64(uniforms), out, int(start), float(mean), float(std))
    return int(filled), int(used)


def largest_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (int32) and values (float32) of each row's ``k`` largest scores, best first, ties by lower
    index, ``-1``/``-inf`` padding past a row's finite scores (``_native.topk_rows``); ``scores`` is a
    2-d float32 or float64 array and ``1 ≤ k``."""
    rows = np.ascontiguousarray(scores)
    idx = np.empty((rows.shape[0], k), dtype=np.int32)
    vals = np.empty((rows.shape[0], k), dtype=np.float32)
    _native.topk_rows(rows, int(k), idx, vals)
    return idx, vals
