"""Reference (numba) of ``_native``'s kernels for EASE's Woodbury path: B = S·diag(scale) with S = Yᵀ(K⁻¹Y), written as float32.

S is never materialised in float64: row i of S is Σ_u y_ui · KY[u, :] over the users of item i
(a CSC column of Y), so the cost is nnz(Y) × n_items multiply-adds, parallel over items.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True)
def woodbury_diag(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, kx: np.ndarray) -> np.ndarray:
    """diag(S)_i = Σ_u x_ui · KX[u, i] for a CSC matrix X (users × items) and dense KX (users × items)."""
    n_items = len(indptr) - 1
    out = np.zeros(n_items, dtype=np.float64)
    for i in range(n_items):
        acc = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            acc += data[p] * kx[indices[p], i]
        out[i] = acc
    return out


@njit(cache=True, nogil=True, parallel=False)
def woodbury_weights(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, kx: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """B[i, j] = S[i, j] · scale[j] for j ≠ i, 0 on the diagonal (float32 result)."""
    n_items = len(indptr) - 1
    out = np.empty((n_items, n_items), dtype=np.float32)
    for i in prange(n_items):
        row = np.zeros(n_items, dtype=np.float64)
        for p in range(indptr[i], indptr[i + 1]):
            w = data[p]
            src = kx[indices[p]]
            for j in range(n_items):
                row[j] += w * src[j]
        for j in range(n_items):
            out[i, j] = row[j] * scale[j]
        out[i, i] = 0.0
    return out
