"""Reference (numba) of ``_native``'s baseline kernels: baseline estimates b_ui = μ + b_u + b_i (Koren 2010, 'Factor in the neighbors', §2.1).

Both follow Surprise's ``optimize_baselines``: ALS alternates closed-form item then user updates
with separate regularisers; SGD sweeps the ratings in the order given.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
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
    """User and item biases by alternating least squares (item step first, as Surprise does).

    ``u_*`` is the users × items CSR (indptr, column indices, ratings), ``i_*`` its transpose.
    """
    n_users = len(u_ptr) - 1
    n_items = len(i_ptr) - 1
    bu = np.zeros(n_users)
    bi = np.zeros(n_items)
    for _ in range(n_epochs):
        for i in range(n_items):
            dev = 0.0
            for p in range(i_ptr[i], i_ptr[i + 1]):
                dev += i_ratings[p] - mu - bu[i_users[p]]
            bi[i] = dev / (reg_i + (i_ptr[i + 1] - i_ptr[i]))
        for u in range(n_users):
            dev = 0.0
            for p in range(u_ptr[u], u_ptr[u + 1]):
                dev += u_ratings[p] - mu - bi[u_items[p]]
            bu[u] = dev / (reg_u + (u_ptr[u + 1] - u_ptr[u]))
    return bu, bi


@njit(cache=True, nogil=True)
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
    """User and item biases by stochastic gradient descent over the ratings in the given order."""
    bu = np.zeros(n_users)
    bi = np.zeros(n_items)
    for _ in range(n_epochs):
        for p in range(len(users)):
            u = users[p]
            i = items[p]
            err = ratings[p] - (mu + bu[u] + bi[i])
            bu[u] += lr * (err - reg * bu[u])
            bi[i] += lr * (err - reg * bi[i])
    return bu, bi


# dup-ok: the compiled kernel's signature on purpose: this is its plain reference, compared call for call
@njit(cache=True, nogil=True)
def nmf_bias_sweep(
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    dots: np.ndarray,
    mu: float,
    lr_bu: float,
    lr_bi: float,
    reg_bu: float,
    reg_bi: float,
    bu: np.ndarray,
    bi: np.ndarray,
) -> np.ndarray:
    """One epoch of Surprise's biased NMF bias step: each rating's estimate μ + b_u + b_i + q_i·p_u before
    an SGD step on its error, in the given order (``bu``/``bi`` in place)."""
    est = np.empty(len(users))
    for p in range(len(users)):
        u = users[p]
        i = items[p]
        est[p] = mu + bu[u] + bi[i] + dots[p]
        err = ratings[p] - est[p]
        bu[u] += lr_bu * (err - reg_bu * bu[u])
        bi[i] += lr_bi * (err - reg_bi * bi[i])
    return est


@njit(cache=True, nogil=True)
def first_seen(values: np.ndarray, n_values: int) -> np.ndarray:
    """Distinct ``values`` (each in 0..n_values-1) in order of first appearance; one O(n) pass."""
    seen = np.zeros(n_values, dtype=np.bool_)
    out = np.empty(min(len(values), n_values), dtype=np.int64)
    k = 0
    for v in values:
        if not seen[v]:
            seen[v] = True
            out[k] = v
            k += 1
    return out[:k]


@njit(cache=True, nogil=True)
def group_by_first_seen(values: np.ndarray, n_values: int) -> np.ndarray:
    """Stable order of the rows grouped by value, groups in order of first appearance (a counting sort)."""
    rank = np.full(n_values, -1, dtype=np.int64)
    counts = np.zeros(min(len(values), n_values) + 1, dtype=np.int64)
    k = 0
    for v in values:
        if rank[v] < 0:
            rank[v] = k
            k += 1
        counts[rank[v] + 1] += 1
    for r in range(1, k + 1):
        counts[r] += counts[r - 1]
    out = np.empty(len(values), dtype=np.int64)
    for p in range(len(values)):
        r = rank[values[p]]
        out[counts[r]] = p
        counts[r] += 1
    return out
