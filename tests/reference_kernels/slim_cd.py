"""The numba original of SLIM's solver (compiled as ``_native.slim_targets_chunk``; the parity test in
``tests/models/test_kernels_native.py`` runs both): non-negative elastic-net coordinate descent on the
interaction matrix.

For each target item j, w_j = argmin_{w ≥ 0, w_j = 0} ½‖x_j − Xw‖² + l1·Σw + ½·l2·‖w‖², solved by
cyclic coordinate descent with "naive" updates (Friedman, Hastie & Tibshirani 2010, §2.1), as
scikit-learn's ``ElasticNet`` runs on sparse input: the residual r = x_j − Xw lives in user space, a
coordinate's gradient is X[:, k]·r and its update w_k ← max(0, X[:, k]·r + ‖X[:, k]‖²·w_k − l1) /
(‖X[:, k]‖² + l2) costs one pass over the column's users, twice when w_k moves. A sweep therefore costs
about nnz(X), where the covariance form on the Gram matrix G = XᵀX (§2.2; the solver before this one)
paid one column of G per moving weight: on ml-latest-small (G 13% nonzero) this kernel took 3.9 s against
16.5 s, with the same iterates (weights equal to ~1e-14); the compiled port takes 2.9 s and needs no JIT.
Targets are independent, so they run in parallel (``prange``). Each target keeps its ``cap`` largest
weights (Ning & Karypis 2011 keep the nonzeros; Dacrema et al. 2019 keep a top-k per column).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["slim_columns"]


@njit(cache=True, nogil=True, parallel=False)
def slim_columns(indptr, indices, data, n_users, l1, l2, max_iter, tol, cap):  # type: ignore[no-untyped-def]
    """Solve every target column of the users × items matrix X given as CSC arrays (``indptr`` int64,
    ``indices`` int32 users, ``data`` float64); returns ``(rows, values, sweeps)`` of shape (n, cap),
    (n, cap), (n,).

    ``rows[j]`` holds the indices of target j's kept weights (−1 padding), ``values[j]`` the weights.
    Stops a target when the largest coordinate change of a sweep is below ``tol`` times its largest weight.
    """
    n = indptr.shape[0] - 1
    norms = np.zeros(n, dtype=np.float64)  # ‖X[:, k]‖² = G_kk
    for k in range(n):
        for p in range(indptr[k], indptr[k + 1]):
            norms[k] += data[p] * data[p]
    rows = np.full((n, cap), -1, dtype=np.int32)
    values = np.zeros((n, cap), dtype=np.float32)
    sweeps = np.zeros(n, dtype=np.int32)
    for j in prange(n):
        w = np.zeros(n, dtype=np.float64)
        r = np.zeros(n_users, dtype=np.float64)  # x_j − Xw
        for p in range(indptr[j], indptr[j + 1]):
            r[indices[p]] = data[p]
        done = 0
        for it in range(max_iter):
            max_delta = 0.0
            max_w = 0.0
            for k in range(n):
                if k == j:
                    continue
                lo = indptr[k]
                hi = indptr[k + 1]
                grad = 0.0
                for p in range(lo, hi):
                    grad += data[p] * r[indices[p]]
                old = w[k]
                num = grad + norms[k] * old - l1
                new = num / (norms[k] + l2) if num > 0.0 else 0.0
                delta = new - old
                if delta != 0.0:
                    w[k] = new
                    for p in range(lo, hi):
                        r[indices[p]] -= delta * data[p]
                    if abs(delta) > max_delta:
                        max_delta = abs(delta)
                if new > max_w:
                    max_w = new
            done = it + 1
            if max_w == 0.0 or max_delta <= tol * max_w:
                break
        sweeps[j] = done
        nz = np.flatnonzero(w > 0.0)
        if nz.shape[0] > cap:
            keep = nz[np.argsort(-w[nz])[:cap]]
        else:
            keep = nz
        for t in range(keep.shape[0]):
            rows[j, t] = keep[t]
            values[j, t] = w[keep[t]]
    return rows, values, sweeps
