"""LearnBPR (Rendle et al. 2009, Fig. 4): bootstrap-sampled triples and constant-step SGD.

Each step draws a training pair (u, i) uniformly from all pairs (with replacement) and a negative j
uniformly from the catalogue; a j the user has is skipped, not redrawn (Cornac's BPR does the same).
Item biases ride in the last column of ``item_w``; users have no bias (it cancels in x_uij). λ applies
to the factors and the item bias touched by the step. This is the sampling Cornac and Rendle use;
LightFM's (our ``adagrad``/``adadelta`` schedules) draws negatives in proportion to popularity, which
on ml-100k cost 0.08–0.10 NDCG@10 (measured, docs/results.md).
Reference of ``_native.learn_bpr_block`` (see ``reference_kernels/__init__.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from reference_kernels.lightfm_like import _below, _is_positive

__all__ = ["learn_bpr_block"]


@njit(cache=True, nogil=True, fastmath=True)  # results checked: NDCG equal to Cornac's (tests, bench)
def learn_bpr_block(  # type: ignore[no-untyped-def]
    ex_users, ex_items, ex_weights, pos_indptr, pos_indices, item_w, user_w, lr, reg_item, reg_user,
    state, losses, skipped, first, last,
):  # fmt: skip
    """Blocks ``first..last-1`` of one epoch (``len(ex_users)`` steps split evenly over ``len(losses)`` blocks).

    ``losses[t]``/``skipped[t]``: the summed −ln σ(x_uij) and the number of skipped draws of block t.
    """
    n_blocks = losses.shape[0]
    n = ex_users.shape[0]
    n_items = item_w.shape[0]
    d = item_w.shape[1] - 1
    chunk = (n + n_blocks - 1) // n_blocks
    for t in range(first, last):
        total = 0.0
        skips = 0
        for _ in range(t * chunk, min(n, (t + 1) * chunk)):
            row = _below(state, 8 * t, n)
            u = ex_users[row]
            i = ex_items[row]
            j = _below(state, 8 * t, n_items)
            if _is_positive(pos_indptr, pos_indices, u, j):
                skips += 1
                continue
            ue = user_w[u]
            pe = item_w[i]
            ne = item_w[j]
            x = pe[d] - ne[d]
            for c in range(d):
                x += ue[c] * (pe[c] - ne[c])
            if x > 0:
                total += np.log1p(np.exp(-x))
                z = 1.0 / (1.0 + np.exp(x))
            else:
                total += np.log1p(np.exp(x)) - x
                z = 1.0 - 1.0 / (1.0 + np.exp(-x))
            z *= ex_weights[row]
            for c in range(d):
                tmp = ue[c]
                ue[c] += lr * (z * (pe[c] - ne[c]) - reg_user * tmp)
                pe[c] += lr * (z * tmp - reg_item * pe[c])
                ne[c] += lr * (-z * tmp - reg_item * ne[c])
            pe[d] += lr * (z - reg_item * pe[d])
            ne[d] += lr * (-z - reg_item * ne[d])
        losses[t] = total
        skipped[t] = skips
