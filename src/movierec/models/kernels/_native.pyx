# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: language = c++
"""Compiled kernels of the explicit models (SVD, baselines, k-NN), built once by ``pip install``.

The same algorithms as the numba modules beside this file (``sgd.py``, ``baselines.py``,
``knn.py``), which stay as the reference and the fallback of a source checkout without a build.
Compiled ahead of time so that a fresh install pays no JIT on its first command: measured on
ml-latest-small with an empty numba cache (2 cores, load ~0.3), ``knn-baseline``'s first fit took
21.4 s (44 s of it compiling ``top_similarities`` and its ``np.partition``/``argsort`` at load ~4)
and ``svd``'s 1.8 s, against 0.5 s and 0.05 s warm.

Every function releases the GIL. The parallel kernels take a chunk number and a chunk count (rows
``c, c + n_chunks, …``) and write into arrays allocated by the caller, so Python threads can claim
chunks one at a time (``threads.run_blocks``): no barrier waits for a thread the OS has not
scheduled. Updates are the numba kernels' own, in the same order (parity tests compare both).
"""

from libc.math cimport sqrt
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memset

import numpy as np


cdef extern from * nogil:
    """
    #include <algorithm>
    #include <cstdint>
    struct mr_cand { double s; int32_t x; int32_t pos; };
    /* best first (larger similarity), ties by traversal order: the order of a stable sort */
    static inline bool mr_better(const mr_cand& a, const mr_cand& b) {
        return a.s > b.s || (a.s == b.s && a.pos < b.pos);
    }
    static void mr_select(mr_cand* c, int64_t n, int64_t m) {
        if (n > m) std::nth_element(c, c + m, c + n, mr_better);
        std::sort(c, c + (n < m ? n : m), mr_better);
    }
    static inline void mr_prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }
    """
    ctypedef struct mr_cand:
        double s
        int x
        int pos
    void mr_select(mr_cand* c, long long n, long long m)
    void mr_prefetch(const void* p)


cdef int PREFETCH_AHEAD = 4
cdef int COSINE = 0
cdef int MSD = 1
cdef int PEARSON = 2
cdef int PEARSON_BASELINE = 3


# --- biased MF (Funk 2006; Koren, Bell & Volinsky 2009), Surprise's update rules -----------------


def svd_epochs_exact(
    const int[::1] users, const int[::1] items, const double[::1] ratings, double mu,
    double[::1] bu, double[::1] bi, double[:, ::1] pu, double[:, ::1] qi,
    double lr_b, double lr_f, double reg_b, double reg_f, bint biased, double[::1] sq_out,
):
    """``len(sq_out)`` exact SGD sweeps (float64, ratings in the order given); Σ err² of each in ``sq_out``."""
    cdef Py_ssize_t n = users.shape[0], nf = pu.shape[1], p, f, e
    cdef int u, i
    cdef double dot, err, puf, qif, sq
    cdef double* pr
    cdef double* qr
    with nogil:
        for e in range(sq_out.shape[0]):
            sq = 0.0
            for p in range(n):
                u = users[p]
                i = items[p]
                if p + PREFETCH_AHEAD < n:
                    mr_prefetch(&qi[items[p + PREFETCH_AHEAD], 0])
                pr = &pu[u, 0]
                qr = &qi[i, 0]
                dot = 0.0
                for f in range(nf):
                    dot += qr[f] * pr[f]
                err = ratings[p] - (mu + bu[u] + bi[i] + dot)
                sq += err * err
                if biased:
                    bu[u] += lr_b * (err - reg_b * bu[u])
                    bi[i] += lr_b * (err - reg_b * bi[i])
                for f in range(nf):
                    puf = pr[f]
                    qif = qr[f]
                    pr[f] = puf + lr_f * (err * qif - reg_f * puf)
                    qr[f] = qif + lr_f * (err * puf - reg_f * qif)
            sq_out[e] = sq


def svd_epochs_fast(
    const int[::1] users, const int[::1] items, const float[::1] ratings, double mu,
    float[::1] bu, float[::1] bi, float[:, ::1] pu, float[:, ::1] qi,
    double lr_b, double lr_f, double reg_b, double reg_f, bint biased, double[::1] sq_out,
):
    """``len(sq_out)`` fast sweeps: float32 state, the order cut into two halves whose ratings alternate.

    Still one sequential SGD pass (no races); consecutive ratings mostly belong to different users,
    so the CPU overlaps their dependency chains. Σ err² of each sweep in ``sq_out``.
    """
    cdef Py_ssize_t n = users.shape[0], nf = pu.shape[1], half = (n + 1) // 2, t, p, f, e
    cdef int lane, u, i
    cdef float mu32 = <float>mu, lrb = <float>lr_b, rb = <float>reg_b, lrf = <float>lr_f
    cdef float shrink = <float>1.0 - lrf * <float>reg_f
    cdef float dot, err, step, puf, qif
    cdef double sq
    cdef float* pr
    cdef float* qr
    with nogil:
        for e in range(sq_out.shape[0]):
            sq = 0.0
            for t in range(half):
                for lane in range(2):
                    p = lane * half + t
                    if p >= n:
                        continue
                    if t + PREFETCH_AHEAD < half and p + PREFETCH_AHEAD < n:
                        mr_prefetch(&qi[items[p + PREFETCH_AHEAD], 0])
                    u = users[p]
                    i = items[p]
                    pr = &pu[u, 0]
                    qr = &qi[i, 0]
                    dot = 0.0
                    for f in range(nf):
                        dot += pr[f] * qr[f]
                    err = ratings[p] - (mu32 + bu[u] + bi[i] + dot)
                    sq += <double>err * <double>err
                    if biased:
                        bu[u] += lrb * (err - rb * bu[u])
                        bi[i] += lrb * (err - rb * bi[i])
                    step = lrf * err
                    for f in range(nf):
                        puf = pr[f]
                        qif = qr[f]
                        pr[f] = shrink * puf + step * qif
                        qr[f] = shrink * qif + step * puf
            sq_out[e] = sq


# --- baselines (Koren 2010, §2.1), Surprise's optimize_baselines ----------------------------------


def als_biases(
    const long long[::1] u_ptr, const int[::1] u_items, const double[::1] u_ratings,
    const long long[::1] i_ptr, const int[::1] i_users, const double[::1] i_ratings,
    double mu, double reg_u, double reg_i, int n_epochs,
):
    """User and item biases by alternating least squares (item step first, as Surprise does)."""
    cdef Py_ssize_t n_users = u_ptr.shape[0] - 1, n_items = i_ptr.shape[0] - 1, u, i, p
    cdef int e
    cdef double dev
    bu_arr = np.zeros(n_users)
    bi_arr = np.zeros(n_items)
    cdef double[::1] bu = bu_arr
    cdef double[::1] bi = bi_arr
    with nogil:
        for e in range(n_epochs):
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
    return bu_arr, bi_arr


def sgd_biases(
    const int[::1] users, const int[::1] items, const double[::1] ratings,
    Py_ssize_t n_users, Py_ssize_t n_items, double mu, double reg, double lr, int n_epochs,
):
    """User and item biases by stochastic gradient descent over the ratings in the given order."""
    cdef Py_ssize_t p
    cdef int e, u, i
    cdef double err
    bu_arr = np.zeros(n_users)
    bi_arr = np.zeros(n_items)
    cdef double[::1] bu = bu_arr
    cdef double[::1] bi = bi_arr
    with nogil:
        for e in range(n_epochs):
            for p in range(users.shape[0]):
                u = users[p]
                i = items[p]
                err = ratings[p] - (mu + bu[u] + bi[i])
                bu[u] += lr * (err - reg * bu[u])
                bi[i] += lr * (err - reg * bi[i])
    return bu_arr, bi_arr


def first_seen(const long long[::1] values, Py_ssize_t n_values):
    """Distinct ``values`` (each in 0..n_values-1) in order of first appearance; one O(n) pass."""
    cdef Py_ssize_t k = 0, p, v
    out_arr = np.empty(min(values.shape[0], n_values), dtype=np.int64)
    cdef long long[::1] out = out_arr
    cdef unsigned char* seen = <unsigned char*>calloc(max(n_values, 1), 1)
    if seen == NULL:
        raise MemoryError()
    with nogil:
        for p in range(values.shape[0]):
            v = values[p]
            if not seen[v]:
                seen[v] = 1
                out[k] = v
                k += 1
    free(seen)
    return out_arr[:k]


def group_by_first_seen(const long long[::1] values, Py_ssize_t n_values):
    """Stable order of the rows grouped by value, groups in order of first appearance (a counting sort)."""
    cdef Py_ssize_t n = values.shape[0], k = 0, p, r
    rank_arr = np.full(n_values, -1, dtype=np.int64)
    counts_arr = np.zeros(min(n, n_values) + 1, dtype=np.int64)
    out_arr = np.empty(n, dtype=np.int64)
    cdef long long[::1] rank = rank_arr
    cdef long long[::1] counts = counts_arr
    cdef long long[::1] out = out_arr
    with nogil:
        for p in range(n):
            if rank[values[p]] < 0:
                rank[values[p]] = k
                k += 1
            counts[rank[values[p]] + 1] += 1
        for r in range(1, k + 1):
            counts[r] += counts[r - 1]
        for p in range(n):
            r = rank[values[p]]
            out[counts[r]] = p
            counts[r] += 1
    return out_arr


# --- neighbourhood models (Sarwar et al. 2001; Koren 2010) ------------------------------------------


def top_similarities_chunk(
    const long long[::1] x_ptr, const int[::1] x_idx, const double[::1] x_val,
    const long long[::1] y_ptr, const int[::1] y_idx, const double[::1] y_val,
    int kind, int min_support, double shrinkage,
    int[::1] counts, int[:, ::1] nbrs, float[:, ::1] sims, Py_ssize_t chunk, Py_ssize_t n_chunks,
):
    """Rows ``chunk, chunk + n_chunks, …`` of ``kernels.knn.top_similarities`` (same definitions, same
    order of the kept neighbours: best first, ties in traversal order), written into the given arrays."""
    cdef Py_ssize_t n_x = x_ptr.shape[0] - 1, m = nbrs.shape[1], x, p, q, t, n_touched, n_cand, keep
    cdef int y, x2, width = 6 if kind == PEARSON else 4
    cdef int support = max(2, min_support) if kind == PEARSON_BASELINE else min_support
    cdef double ri, ri2, rj, d, n, s, den, num
    cdef double* a
    cdef double* acc = <double*>calloc(max(n_x, 1) * width, sizeof(double))
    cdef int* touched = <int*>malloc((n_x + 1) * sizeof(int))  # +1: written one past the last touched row
    cdef mr_cand* cand = <mr_cand*>malloc(max(n_x, 1) * sizeof(mr_cand))
    if acc == NULL or touched == NULL or cand == NULL:
        free(acc); free(touched); free(cand)
        raise MemoryError()
    with nogil:
        x = chunk
        while x < n_x:
            n_touched = 0
            for p in range(x_ptr[x], x_ptr[x + 1]):
                y = x_idx[p]
                ri = x_val[p]
                if kind == MSD:
                    for q in range(y_ptr[y], y_ptr[y + 1]):
                        x2 = y_idx[q]
                        a = acc + <Py_ssize_t>x2 * width
                        touched[n_touched] = x2
                        n_touched += a[0] == 0.0
                        d = ri - y_val[q]
                        a[0] += 1.0
                        a[1] += d * d
                elif kind == PEARSON:
                    for q in range(y_ptr[y], y_ptr[y + 1]):
                        x2 = y_idx[q]
                        a = acc + <Py_ssize_t>x2 * width
                        touched[n_touched] = x2
                        n_touched += a[0] == 0.0
                        rj = y_val[q]
                        a[0] += 1.0
                        a[1] += ri * rj
                        a[2] += ri * ri
                        a[3] += rj * rj
                        a[4] += ri
                        a[5] += rj
                else:
                    ri2 = ri * ri
                    for q in range(y_ptr[y], y_ptr[y + 1]):
                        x2 = y_idx[q]
                        a = acc + <Py_ssize_t>x2 * width
                        touched[n_touched] = x2
                        n_touched += a[0] == 0.0
                        rj = y_val[q]
                        a[0] += 1.0
                        a[1] += ri * rj
                        a[2] += ri2
                        a[3] += rj * rj
            n_cand = 0
            for t in range(n_touched):
                x2 = touched[t]
                a = acc + <Py_ssize_t>x2 * width
                n = a[0]
                s = 0.0
                if x2 != x and n >= support:
                    if kind == COSINE:
                        den = sqrt(a[2] * a[3])
                        s = a[1] / den if den > 0 else 0.0
                    elif kind == MSD:
                        s = 1.0 / (a[1] / n + 1.0)
                    elif kind == PEARSON:
                        num = n * a[1] - a[4] * a[5]
                        den = sqrt((n * a[2] - a[4] * a[4]) * (n * a[3] - a[5] * a[5]))
                        s = num / den if den > 0 else 0.0
                    else:
                        den = sqrt(a[2] * a[3])
                        s = a[1] / den if den > 0 else 0.0
                        s *= (n - 1) / (n - 1 + shrinkage)
                if s > 0:
                    cand[n_cand].s = s
                    cand[n_cand].x = x2
                    cand[n_cand].pos = <int>n_cand
                    n_cand += 1
                memset(a, 0, width * sizeof(double))
            if n_cand > 0:
                keep = min(m, n_cand)
                mr_select(cand, n_cand, keep)
                for t in range(keep):
                    nbrs[x, t] = cand[t].x
                    sims[x, t] = <float>cand[t].s
                counts[x] = <int>keep
            x += n_chunks
    free(acc)
    free(touched)
    free(cand)


def predict_pairs_chunk(
    const long long[::1] xs, const long long[::1] ys, const long long[::1] order, const long long[::1] starts,
    const long long[::1] nb_ptr, const int[::1] nb_idx, const float[::1] nb_sim,
    const long long[::1] y_ptr, const int[::1] y_idx, const double[::1] y_val,
    const double[::1] offset_x, const double[::1] offset_y, int k,
    double[::1] dev, int[::1] actual, Py_ssize_t chunk, Py_ssize_t n_chunks,
):
    """Groups ``chunk, chunk + n_chunks, …`` of ``kernels.knn.predict_pairs``: pairs sorted by y
    (``order``), group g = positions ``starts[g]..starts[g+1]``; results written into ``dev``/``actual``."""
    cdef Py_ssize_t n_x = nb_ptr.shape[0] - 1, n_groups = starts.shape[0] - 1, g, p, q, t, pair, x, y, pos
    cdef int found
    cdef double sum_sim, sum_dev, s
    cdef long long* marker = <long long*>malloc(max(n_x, 1) * sizeof(long long))
    if marker == NULL:
        raise MemoryError()
    with nogil:
        for p in range(n_x):
            marker[p] = -1
        g = chunk
        while g < n_groups:
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
            g += n_chunks
    free(marker)


def predict_dense_items_chunk(
    const long long[::1] users, const long long[::1] items,
    const long long[::1] nb_ptr, const int[::1] nb_idx, const float[::1] nb_sim,
    const long long[::1] u_ptr, const int[::1] u_idx, const double[::1] u_val,
    const double[::1] offset_item, const double[::1] offset_user, Py_ssize_t n_items, int k,
    double[:, ::1] dev, int[:, ::1] actual, Py_ssize_t chunk, Py_ssize_t n_chunks,
):
    """Rows ``chunk, chunk + n_chunks, …`` of ``kernels.knn.predict_dense_items`` (a users × items grid)."""
    cdef Py_ssize_t r, p, q, col, i, j, u, pos
    cdef int found
    cdef double sum_sim, sum_dev, s
    cdef long long* marker = <long long*>malloc(max(n_items, 1) * sizeof(long long))
    if marker == NULL:
        raise MemoryError()
    with nogil:
        for p in range(n_items):
            marker[p] = -1
        r = chunk
        while r < users.shape[0]:
            u = users[r]
            for p in range(u_ptr[u], u_ptr[u + 1]):
                marker[u_idx[p]] = p
            for col in range(items.shape[0]):
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
            r += n_chunks
    free(marker)


# --- EASE's Woodbury path (Steck 2019), ``ease_kernels.py``'s two kernels ------------------------------


def woodbury_diag(const long long[::1] indptr, const int[::1] indices, const double[::1] data, const double[:, ::1] kx):
    """diag(S)_i = Σ_u x_ui · KX[u, i] for a CSC matrix X (users × items) and dense KX (users × items)."""
    cdef Py_ssize_t n_items = indptr.shape[0] - 1, i, p
    cdef double acc
    out_arr = np.zeros(n_items)
    cdef double[::1] out = out_arr
    with nogil:
        for i in range(n_items):
            acc = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                acc += data[p] * kx[indices[p], i]
            out[i] = acc
    return out_arr


def woodbury_weights_chunk(
    const long long[::1] indptr, const int[::1] indices, const double[::1] data, const double[:, ::1] kx,
    const double[::1] scale, float[:, ::1] out, Py_ssize_t chunk, Py_ssize_t n_chunks,
):
    """Rows ``chunk, chunk + n_chunks, …`` of B[i, j] = S[i, j] · scale[j] (j ≠ i), 0 on the diagonal."""
    cdef Py_ssize_t n_items = indptr.shape[0] - 1, i, p, j
    cdef double w
    cdef const double* src
    cdef double* row = <double*>malloc(max(n_items, 1) * sizeof(double))
    if row == NULL:
        raise MemoryError()
    with nogil:
        i = chunk
        while i < n_items:
            memset(row, 0, n_items * sizeof(double))
            for p in range(indptr[i], indptr[i + 1]):
                w = data[p]
                src = &kx[indices[p], 0]
                for j in range(n_items):
                    row[j] += w * src[j]
            for j in range(n_items):
                out[i, j] = <float>(row[j] * scale[j])
            out[i, i] = 0.0
            i += n_chunks
    free(row)
