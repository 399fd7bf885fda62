"""Reference (numba) of ``_native.ials_rows_chunk``: one half-step of iALS (Rendle et al. 2022): every row's least-squares solve by conjugate gradient.

For row u with observed columns I_u, the system is (Σ_{i∈I_u} h_i h_iᵀ + α₀·G + λ_u·I) w_u = Σ_{i∈I_u} h_i
with G = HᵀH the Gramian of the fixed side (Hu et al. 2008's trick: the unobserved pairs enter only
through G). ``cg_steps`` conjugate-gradient iterations start from the current w_u (Takács et al. 2011;
implicit's ``use_cg``), so a step costs O(|I_u|·d + d²) instead of a d³ factorisation.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["ials_half_step"]


@njit(cache=True, nogil=True, parallel=False)
def ials_half_step(indptr, indices, fixed, solve, gram, alpha0, reg, cg_steps):  # type: ignore[no-untyped-def]
    """Update ``solve`` (rows × d, in place) given ``fixed`` (cols × d); ``reg[u]`` is row u's λ_u.

    Returns the data part of the loss Σ_{S}(ŷ − 1)² + α₀ Σ_all ŷ² for the rows before their update.
    """
    n = solve.shape[0]
    d = solve.shape[1]
    losses = np.zeros(n, dtype=np.float64)
    for u in prange(n):
        x = solve[u].astype(np.float64)
        # r = b − A x
        gx = gram @ x
        r = -alpha0 * gx - reg[u] * x
        loss = alpha0 * (x @ gx)
        for p in range(indptr[u], indptr[u + 1]):
            h = fixed[indices[p]].astype(np.float64)
            pred = h @ x
            r += (1.0 - pred) * h
            loss += (pred - 1.0) ** 2
        losses[u] = loss
        p_vec = r.copy()
        rs_old = r @ r
        for _ in range(cg_steps):
            if rs_old < 1e-20:
                break
            ap = alpha0 * (gram @ p_vec) + reg[u] * p_vec
            for q in range(indptr[u], indptr[u + 1]):
                h = fixed[indices[q]].astype(np.float64)
                ap += (h @ p_vec) * h
            step = rs_old / (p_vec @ ap)
            x += step * p_vec
            r -= step * ap
            rs_new = r @ r
            p_vec = r + (rs_new / rs_old) * p_vec
            rs_old = rs_new
        for c in range(d):
            solve[u, c] = x[c]
    return losses.sum()
