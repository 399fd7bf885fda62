"""Reference (numba) of ``_native``'s neighbourhood kernels (Sarwar et al. 2001; Koren 2010 for the baseline-centred variant).

Similarities follow Surprise's ``similarities.pyx`` definitions but are computed one row at a
time (in chunks of rows, accumulators reset per row) and only the ``max_neighbours`` largest
positive similarities of each row are kept, so memory is O(n · max_neighbours), never O(n²).

"x" is the entity that has neighbours (items for item-based models, users for user-based) and
"y" the other side. ``x_ptr/x_idx/x_val`` is the x-major CSR (y indices, values) and
``y_ptr/y_idx/y_val`` the y-major CSR (x indices, values), with sorted indices.
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

__all__ = ["n_chunks", "predict_dense_items", "predict_pairs", "top_similarities"]

COSINE = 0
MSD = 1
PEARSON = 2
PEARSON_BASELINE = 3


def n_chunks(factor: int = 4) -> int:
    """Work chunks for the parallel kernels: a few per numba thread, for load balance."""
    return factor * get_num_threads()


@njit(cache=True, nogil=True, parallel=False)
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
    n_chunks: int,
    select_support: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each x, its up-to-``max_neighbours`` most similar other x with similarity > 0, best first.

    ``select_support`` λ > 0: a row with more candidates keeps those of largest s·n/(n + λ) (n co-raters),
    ties in traversal order, and stores them by s as ever.

    Values are ratings (cosine, msd, pearson) or baseline residuals r − μ − b_x − b_y
    (pearson_baseline). Returns ``(counts, neighbours, sims)`` with shapes (n_x,), (n_x, M), (n_x, M).
    """
    n_x = len(x_ptr) - 1
    m = max_neighbours
    counts = np.zeros(n_x, dtype=np.int32)
    nbrs = np.full((n_x, m), -1, dtype=np.int32)
    sims = np.zeros((n_x, m), dtype=np.float32)
    n_chunks = max(1, min(n_x, n_chunks))
    for c in prange(n_chunks):
        # per candidate: count, Σ ri·rj (or Σ (ri−rj)²), Σ ri², Σ rj² (+ Σ ri, Σ rj for pearson);
        # 32 bytes a row keeps the accumulators of ~15k items in a 512 KiB L2 cache
        acc = np.zeros((n_x, 6 if kind == PEARSON else 4))
        touched = np.empty(n_x + 1, dtype=np.int32)  # +1: the branch-free append writes one past the end
        cand_sim = np.empty(n_x)
        cand_key = np.empty(n_x)
        cand_idx = np.empty(n_x, dtype=np.int32)
        support = max(2, min_support) if kind == PEARSON_BASELINE else min_support
        for x in range(c, n_x, n_chunks):
            n_touched = 0
            # the kind test sits outside the hot loops; "touched" grows without a branch
            for p in range(x_ptr[x], x_ptr[x + 1]):
                y = x_idx[p]
                ri = x_val[p]
                if kind == MSD:
                    for q in range(y_ptr[y], y_ptr[y + 1]):
                        x2 = y_idx[q]
                        touched[n_touched] = x2
                        n_touched += acc[x2, 0] == 0.0
                        d = ri - y_val[q]
                        acc[x2, 0] += 1.0
                        acc[x2, 1] += d * d
                elif kind == PEARSON:
                    for q in range(y_ptr[y], y_ptr[y + 1]):
                        x2 = y_idx[q]
                        touched[n_touched] = x2
                        n_touched += acc[x2, 0] == 0.0
                        rj = y_val[q]
                        acc[x2, 0] += 1.0
                        acc[x2, 1] += ri * rj
                        acc[x2, 2] += ri * ri
                        acc[x2, 3] += rj * rj
                        acc[x2, 4] += ri
                        acc[x2, 5] += rj
                else:
                    ri2 = ri * ri
                    for q in range(y_ptr[y], y_ptr[y + 1]):
                        x2 = y_idx[q]
                        touched[n_touched] = x2
                        n_touched += acc[x2, 0] == 0.0
                        rj = y_val[q]
                        acc[x2, 0] += 1.0
                        acc[x2, 1] += ri * rj
                        acc[x2, 2] += ri2
                        acc[x2, 3] += rj * rj
            n_cand = 0
            for t in range(n_touched):
                x2 = touched[t]
                a = acc[x2]
                n = a[0]
                s = 0.0
                if x2 != x and n >= support:
                    if kind == COSINE:
                        den = np.sqrt(a[2] * a[3])
                        s = a[1] / den if den > 0 else 0.0
                    elif kind == MSD:
                        s = 1.0 / (a[1] / n + 1.0)
                    elif kind == PEARSON:
                        num = n * a[1] - a[4] * a[5]
                        den = np.sqrt((n * a[2] - a[4] ** 2) * (n * a[3] - a[5] ** 2))
                        s = num / den if den > 0 else 0.0
                    else:
                        den = np.sqrt(a[2] * a[3])
                        s = a[1] / den if den > 0 else 0.0
                        s *= (n - 1) / (n - 1 + shrinkage)
                if s > 0:
                    cand_sim[n_cand] = -s
                    cand_key[n_cand] = -s * n / (n + select_support) if select_support > 0 else -s
                    cand_idx[n_cand] = x2
                    n_cand += 1
                a[:] = 0.0
            if n_cand == 0:
                continue
            keep = min(m, n_cand)
            base = np.arange(n_cand)
            if select_support > 0 and n_cand > m:  # the kept, by key; back in traversal order
                base = np.sort(np.argsort(cand_key[:n_cand], kind="mergesort")[:m])
            neg = cand_sim[base]
            if n_cand > 2 * m:  # select the m best first, then sort only those
                thr = np.partition(neg.copy(), m - 1)[m - 1]
                sel = np.flatnonzero(neg <= thr)
            else:
                sel = np.arange(n_cand)
            order = np.argsort(neg[sel], kind="mergesort")  # best first; ties keep traversal order
            for t in range(keep):
                pos = sel[order[t]]
                nbrs[x, t] = cand_idx[base[pos]]
                sims[x, t] = -neg[pos]
            counts[x] = keep
    return counts, nbrs, sims


@njit(cache=True, nogil=True, parallel=False)
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
    n_chunks: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted neighbour deviation for each (x, y) pair: Σ s·(r − o_x[x2] − o_y[y]) / Σ s over the k most
    similar neighbours x2 of x that y rated (``nb_*``: CSR of neighbour lists, best first).

    Pairs are grouped by y so each y's rated x are marked once in a dense array. Returns
    ``(deviation, actual_k)``; deviation is 0 where no neighbour was found. Offsets are zeros
    (KNNBasic), x means (KNNWithMeans) or baselines (KNNBaseline).
    """
    n = len(xs)
    n_x = len(nb_ptr) - 1
    dev = np.zeros(n)
    actual = np.zeros(n, dtype=np.int32)
    if n == 0:
        return dev, actual
    order = np.argsort(ys, kind="mergesort")
    starts = [0]
    for t in range(1, n):
        if ys[order[t]] != ys[order[t - 1]]:
            starts.append(t)
    starts.append(n)
    n_groups = len(starts) - 1
    n_chunks = max(1, min(n_groups, n_chunks))
    for c in prange(n_chunks):
        marker = np.full(n_x, -1, dtype=np.int64)
        for g in range(c, n_groups, n_chunks):
            y = ys[order[starts[g]]]
            for p in range(y_ptr[y], y_ptr[y + 1]):
                marker[y_idx[p]] = p
            for t in range(starts[g], starts[g + 1]):
                pair = order[t]
                x = xs[pair]
                sum_sim = 0.0
                sum_dev = 0.0
                found = 0
                for q in range(nb_ptr[x], nb_ptr[x + 1]):
                    pos = marker[nb_idx[q]]
                    if pos < 0:
                        continue
                    s = nb_sim[q]
                    sum_sim += s
                    sum_dev += s * (y_val[pos] - offset_x[nb_idx[q]] - offset_y[y])
                    found += 1
                    if found == k:
                        break
                actual[pair] = found
                if sum_sim > 0:
                    dev[pair] = sum_dev / sum_sim
            for p in range(y_ptr[y], y_ptr[y + 1]):
                marker[y_idx[p]] = -1
    return dev, actual


@njit(cache=True, nogil=True, parallel=False)
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
    n_chunks: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Item-based deviations for every (user, item) of a users × items grid (batched scoring).

    Same rule as :func:`predict_pairs` but with a dense per-user marker of rated items instead of
    a binary search per neighbour. Returns ``(deviation, actual_k)`` of shape (len(users), len(items)).
    """
    dev = np.zeros((len(users), len(items)))
    actual = np.zeros((len(users), len(items)), dtype=np.int32)
    n_chunks = max(1, min(len(users), n_chunks))
    for c in prange(n_chunks):
        marker = np.full(n_items, -1, dtype=np.int64)
        for r in range(c, len(users), n_chunks):
            u = users[r]
            for p in range(u_ptr[u], u_ptr[u + 1]):
                marker[u_idx[p]] = p
            for col in range(len(items)):
                i = items[col]
                sum_sim = 0.0
                sum_dev = 0.0
                found = 0
                for q in range(nb_ptr[i], nb_ptr[i + 1]):
                    j = nb_idx[q]
                    pos = marker[j]
                    if pos < 0:
                        continue
                    s = nb_sim[q]
                    sum_sim += s
                    sum_dev += s * (u_val[pos] - offset_item[j] - offset_user[u])
                    found += 1
                    if found == k:
                        break
                actual[r, col] = found
                if sum_sim > 0:
                    dev[r, col] = sum_dev / sum_sim
            for p in range(u_ptr[u], u_ptr[u + 1]):
                marker[u_idx[p]] = -1
    return dev, actual
