"""Reference (numba) of ``_native``'s SVD and SVD++ sweeps: SGD epochs for biased matrix factorisation
(Funk 2006; Koren, Bell & Volinsky 2009) and SVD++ (Koren 2008).

The update rules are Surprise's (``matrix_factorization.pyx``): per rating, biases first, then
every factor using the pre-update values. :func:`svd_epoch` has two sweeps, as the compiled kernels:

* exact (float64 state, the ratings in the order given): agrees with Surprise to rounding when
  started from the same factors;
* fast (float32 state): the order given cut into three parts whose ratings take turns
  (r_0, r_m, r_2m, r_1, r_m+1, …, m = ⌈n/3⌉; still one sequential SGD pass). The compiled kernel does this for speed
  (consecutive ratings mostly belong to different users, so the CPU overlaps their dependency
  chains); here it is written plainly, without the prefetching and fixed-width loops.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def svd_epoch(
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
) -> float:
    """One SGD sweep of biased MF, updating ``bu, bi, pu, qi`` in place; returns Σ err² seen during the sweep.

    float64 state runs the exact sweep (ratings in the order given), float32 state (``ratings``
    float32 too) the fast one (three interleaved parts of that order); see the module docstring.
    """
    if pu.dtype == np.float64:
        return float(
            svd_epoch_exact(users, items, ratings, mu, bu, bi, pu, qi, lr_b, lr_f, reg_b, reg_f, biased)
        )
    return float(svd_epoch_fast(users, items, ratings, mu, bu, bi, pu, qi, lr_b, lr_f, reg_b, reg_f, biased))


@njit(cache=True, nogil=True, fastmath=True)
def svd_epoch_fast(
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
) -> float:
    """Fast sweep (float32, three interleaved parts of the order) of :func:`svd_epoch`; Σ err² seen."""
    n_f = pu.shape[1]
    n = len(users)
    lanes = 3  # _native's FAST_LANES
    part = (n + lanes - 1) // lanes
    mu32 = np.float32(mu)
    lrb = np.float32(lr_b)
    rb = np.float32(reg_b)
    lrf = np.float32(lr_f)
    shrink = np.float32(1.0) - lrf * np.float32(reg_f)  # p ← p + lr(err·q − reg·p) = shrink·p + lr·err·q
    sq = 0.0
    for t in range(part):
        for lane in range(lanes):
            p = lane * part + t
            if p >= n:
                continue
            u = users[p]
            i = items[p]
            pr = pu[u]
            qr = qi[i]
            dot = np.float32(0.0)
            for f in range(n_f):
                dot += pr[f] * qr[f]
            err = ratings[p] - (mu32 + bu[u] + bi[i] + dot)
            sq += np.float64(err) * np.float64(err)
            if biased:
                bu[u] += lrb * (err - rb * bu[u])
                bi[i] += lrb * (err - rb * bi[i])
            step = lrf * err
            for f in range(n_f):
                puf = pr[f]
                qif = qr[f]
                pr[f] = shrink * puf + step * qif
                qr[f] = shrink * qif + step * puf
    return sq


@njit(cache=True, nogil=True, fastmath=True)
def svd_epoch_exact(
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
) -> float:
    """Exact sweep (float64, ratings in the order given) of :func:`svd_epoch`; Σ err² seen during the sweep.

    fastmath lets LLVM reorder the dot product's sum, as the compiled kernel's flags do.
    """
    n_factors = pu.shape[1]
    n = len(users)
    sq = 0.0
    for p in range(n):
        u = users[p]
        i = items[p]
        pr = pu[u]
        qr = qi[i]
        dot = 0.0
        for f in range(n_factors):
            dot += qr[f] * pr[f]
        err = ratings[p] - (mu + bu[u] + bi[i] + dot)
        sq += err * err
        if biased:
            bu[u] += lr_b * (err - reg_b * bu[u])
            bi[i] += lr_b * (err - reg_b * bi[i])
        for f in range(n_factors):
            puf = pr[f]
            qif = qr[f]
            pr[f] = puf + lr_f * (err * qif - reg_f * puf)
            qr[f] = qif + lr_f * (err * puf - reg_f * qif)
    return sq


@njit(cache=True, nogil=True)
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
    """One SGD sweep of SVD++ over ratings grouped by user (block ``b`` = user ``block_users[b]``).

    Surprise updates every y_j of the user's items after each rating, O(|I_u|) per rating. All
    those y_j receive the same affine update y ← a·y + c (a = 1 − lr_y·reg_y), so within a user's
    block we track the running sum Σy_j and the common offset exactly and write the y_j once at
    the end of the block: the same result in O(f) per rating. Returns Σ err² seen during the sweep.
    """
    n_factors = pu.shape[1]
    a = 1.0 - lr_y * reg_y
    s_sum = np.zeros(n_factors)
    offset = np.zeros(n_factors)
    impl = np.zeros(n_factors)
    sq = 0.0
    for b in range(len(block_users)):
        u = block_users[b]
        start = block_ptr[b]
        end = block_ptr[b + 1]
        n = end - start
        sqrt_n = np.sqrt(n)
        s_sum[:] = 0.0
        for p in range(start, end):
            j = items[p]
            for f in range(n_factors):
                s_sum[f] += yj[j, f]
        scale = 1.0  # y_j(now) = scale · y_j(block start) + offset
        offset[:] = 0.0
        for p in range(start, end):
            i = items[p]
            dot = 0.0
            for f in range(n_factors):
                impl[f] = s_sum[f] / sqrt_n
                dot += qi[i, f] * (pu[u, f] + impl[f])
            err = ratings[p] - (mu + bu[u] + bi[i] + dot)
            sq += err * err
            bu[u] += lr_b * (err - reg_b * bu[u])
            bi[i] += lr_b * (err - reg_b * bi[i])
            scale *= a
            for f in range(n_factors):
                puf = pu[u, f]
                qif = qi[i, f]
                pu[u, f] += lr_f * (err * qif - reg_f * puf)
                qi[i, f] += lr_f * (err * (puf + impl[f]) - reg_f * qif)
                c = lr_y * err * qif / sqrt_n
                offset[f] = a * offset[f] + c
                s_sum[f] = a * s_sum[f] + n * c
        for p in range(start, end):
            j = items[p]
            for f in range(n_factors):
                yj[j, f] = scale * yj[j, f] + offset[f]
    return sq


@njit(cache=True, nogil=True)
def implicit_sums(u_ptr: np.ndarray, u_items: np.ndarray, yj: np.ndarray) -> np.ndarray:
    """|I_u|^-1/2 Σ_{j∈I_u} y_j for every user (zero for users without ratings), SVD++'s implicit term."""
    n_users = len(u_ptr) - 1
    out = np.zeros((n_users, yj.shape[1]))
    for u in range(n_users):
        n = u_ptr[u + 1] - u_ptr[u]
        if n == 0:
            continue
        for p in range(u_ptr[u], u_ptr[u + 1]):
            out[u] += yj[u_items[p]]
        out[u] /= np.sqrt(n)
    return out
