"""Numba SGD kernels for LightFM's hybrid factorisation model with BPR and WARP losses.

The model (Kula 2015): a user's (item's) representation is the weighted sum of the embeddings of
its features plus the sum of their biases; the score is the dot product of the two plus both
biases. Losses: BPR (Rendle et al. 2009) with one negative per positive, sampled from the
interaction log and rejected when it is a positive; WARP (Weston, Bengio & Usunier 2011) samples
uniform negatives until one violates the margin, then weights the update by log⌊(n−1)/tries⌋.
Step sizes follow Adagrad (Duchi et al. 2011; accumulators start at 1) or Adadelta (Zeiler 2012).

One call runs one epoch. With ``len(seeds) > 1`` the shuffled examples are split into that many
contiguous blocks processed in parallel without locks (Hogwild, Recht et al. 2011), like
LightFM's OpenMP loop; one seed gives a deterministic serial epoch. Component loops are the
innermost loops over contiguous float32 rows, so LLVM vectorises them (LightFM's layout iterates
features inside components and cannot).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

BPR = 0
WARP = 1
MAX_WARP_LOSS = 10.0


@njit(cache=True, nogil=True, inline="always")
def _rand(state: np.ndarray, t: int) -> np.uint64:
    """xorshift64* step on ``state[t]`` (one stream per thread block); returns the high 31 bits.

    The low bits of xorshift64* are weak, and ``% n_items`` with an even ``n_items`` reads them
    (measured here: WARP lost 0.005 P@10 on ml-latest-small until we took the high bits)."""
    x = state[t]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[t] = x
    return (x * np.uint64(2685821657736338717)) >> np.uint64(33)


@njit(cache=True, nogil=True)
def _is_positive(indptr: np.ndarray, indices: np.ndarray, user: int, item: int) -> bool:
    """Binary search of ``item`` in the user's sorted positive items."""
    lo = indptr[user]
    hi = indptr[user + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        v = indices[mid]
        if v == item:
            return True
        if v < item:
            lo = mid + 1
        else:
            hi = mid
    return False


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def _represent(indptr, indices, data, emb, bias, row, out):  # type: ignore[no-untyped-def]
    """out[:d] = Σ w_f · emb[f], out[d] = Σ w_f · bias[f] over the features f of ``row``."""
    d = emb.shape[1]
    for c in range(d + 1):
        out[c] = 0.0
    for p in range(indptr[row], indptr[row + 1]):
        f = indices[p]
        w = data[p]
        e = emb[f]
        for c in range(d):
            out[c] += w * e[c]
        out[d] += w * bias[f]


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def _dot(a, b):  # type: ignore[no-untyped-def]
    d = a.shape[0] - 1
    s = a[d] + b[d]
    for c in range(d):
        s += a[c] * b[c]
    return s


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def _step(indptr, indices, data, row, emb, bias, emb_acc, bias_acc, emb_mom, bias_mom,  # type: ignore[no-untyped-def]
          grad, grad_bias, adadelta, lr, rho, eps, alpha, update_bias):
    """Apply gradient ``grad`` (per component) and ``grad_bias`` to every feature of ``row``."""
    d = emb.shape[1]
    for p in range(indptr[row], indptr[row + 1]):
        f = indices[p]
        w = data[p]
        e = emb[f]
        acc = emb_acc[f]
        if adadelta:
            mom = emb_mom[f]
            for c in range(d):
                g = w * grad[c] + alpha * e[c]
                acc[c] = rho * acc[c] + (1.0 - rho) * g * g
                step = np.sqrt(mom[c] + eps) / np.sqrt(acc[c] + eps) * g
                mom[c] = rho * mom[c] + (1.0 - rho) * step * step
                e[c] -= step
            if update_bias:
                g = w * grad_bias + alpha * bias[f]
                bias_acc[f] = rho * bias_acc[f] + (1.0 - rho) * g * g
                step = np.sqrt(bias_mom[f] + eps) / np.sqrt(bias_acc[f] + eps) * g
                bias_mom[f] = rho * bias_mom[f] + (1.0 - rho) * step * step
                bias[f] -= step
        else:
            for c in range(d):
                g = w * grad[c] + alpha * e[c]
                e[c] -= lr / np.sqrt(acc[c]) * g
                acc[c] += g * g
            if update_bias:
                g = w * grad_bias + alpha * bias[f]
                bias[f] -= lr / np.sqrt(bias_acc[f]) * g
                bias_acc[f] += g * g


@njit(cache=True, nogil=True, parallel=True, fastmath=True, error_model="numpy")
def pairwise_epoch(  # type: ignore[no-untyped-def]
    loss_kind, order, ex_users, ex_items, ex_weights, pos_indptr, pos_indices,
    if_indptr, if_indices, if_data, uf_indptr, uf_indices, uf_data,
    item_emb, item_bias, user_emb, user_bias,
    item_emb_acc, item_bias_acc, user_emb_acc, user_bias_acc,
    item_emb_mom, item_bias_mom, user_emb_mom, user_bias_mom,
    adadelta, lr, rho, eps, item_alpha, user_alpha, max_sampled, seeds,
):
    """One epoch of BPR (``loss_kind=0``) or WARP (``1``) over ``order``; returns the mean loss.

    BPR loss per example: w·log(1 + e^−(s⁺−s⁻)); WARP: w·log⌊(n−1)/tries⌋·(1 − s⁺ + s⁻) for a
    violating negative, 0 when none is found in ``max_sampled`` tries.
    """
    n_threads = seeds.shape[0]
    n = order.shape[0]
    n_items = len(if_indptr) - 1
    n_examples = ex_items.shape[0]
    d = item_emb.shape[1]
    chunk = (n + n_threads - 1) // n_threads
    state = seeds.copy()
    losses = np.zeros(n_threads, dtype=np.float64)
    for t in prange(n_threads):
        u_repr = np.empty(d + 1, dtype=np.float32)
        p_repr = np.empty(d + 1, dtype=np.float32)
        n_repr = np.empty(d + 1, dtype=np.float32)
        g_item = np.empty(d, dtype=np.float32)
        g_user = np.empty(d, dtype=np.float32)
        total = 0.0
        for k in range(t * chunk, min(n, (t + 1) * chunk)):
            row = order[k]
            u = ex_users[row]
            i = ex_items[row]
            w = ex_weights[row]
            _represent(uf_indptr, uf_indices, uf_data, user_emb, user_bias, u, u_repr)
            _represent(if_indptr, if_indices, if_data, item_emb, item_bias, i, p_repr)
            s_pos = _dot(u_repr, p_repr)
            j = -1
            mult = 0.0
            if loss_kind == 0:
                for _ in range(n_examples):
                    cand = ex_items[np.int64(_rand(state, t) % np.uint64(n_examples))]
                    if not _is_positive(pos_indptr, pos_indices, u, cand):
                        j = cand
                        break
                if j < 0:
                    continue
                _represent(if_indptr, if_indices, if_data, item_emb, item_bias, j, n_repr)
                x = s_pos - _dot(u_repr, n_repr)
                if x > 0:
                    total += w * np.log1p(np.exp(-x))
                    mult = w / (1.0 + np.exp(x))
                else:
                    total += w * (np.log1p(np.exp(x)) - x)
                    mult = w * (1.0 - 1.0 / (1.0 + np.exp(-x)))
            else:
                tries = 0
                while tries < max_sampled:
                    tries += 1
                    cand = np.int64(_rand(state, t) % np.uint64(n_items))
                    _represent(if_indptr, if_indices, if_data, item_emb, item_bias, cand, n_repr)
                    s_neg = _dot(u_repr, n_repr)
                    if s_neg > s_pos - 1.0:
                        if _is_positive(pos_indptr, pos_indices, u, cand):
                            continue
                        j = cand
                        mult = w * np.log(max(1.0, np.floor((n_items - 1) / tries)))
                        if mult > MAX_WARP_LOSS:
                            mult = MAX_WARP_LOSS
                        total += mult * (1.0 - s_pos + s_neg)
                        break
                if j < 0:
                    continue
            # gradients of the pairwise loss  −mult·(s⁺ − s⁻) w.r.t. each representation
            for c in range(d):
                g_item[c] = -mult * u_repr[c]
                g_user[c] = mult * (n_repr[c] - p_repr[c])
            _step(if_indptr, if_indices, if_data, i, item_emb, item_bias, item_emb_acc, item_bias_acc,
                  item_emb_mom, item_bias_mom, g_item, -mult, adadelta, lr, rho, eps, item_alpha, True)
            for c in range(d):
                g_item[c] = -g_item[c]
            _step(if_indptr, if_indices, if_data, j, item_emb, item_bias, item_emb_acc, item_bias_acc,
                  item_emb_mom, item_bias_mom, g_item, mult, adadelta, lr, rho, eps, item_alpha, True)
            _step(uf_indptr, uf_indices, uf_data, u, user_emb, user_bias, user_emb_acc, user_bias_acc,
                  user_emb_mom, user_bias_mom, g_user, 0.0, adadelta, lr, rho, eps, user_alpha, False)
        losses[t] = total
    return losses.sum() / max(n, 1)
