# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: language = c++
"""The models' compiled kernels (SVD, SVD++, baselines, k-NN, EASE, iALS, LightFM-style and LearnBPR
epochs), built by ``pip install`` (setup.py; required) and called through ``accel.py``/``hybrid.py``.

They are the only implementation in the package. Each was ported from a numba kernel; those
originals live on as test-side references (``tests/reference_kernels/``) that the parity tests
compare these with. Compiled ahead of time so that a fresh install pays no JIT on its first
command: measured on ml-latest-small with an empty numba cache (2 cores, load ~0.3), the numba
``knn-baseline``'s first fit took 21.4 s (44 s of it compiling ``top_similarities`` and its
``np.partition``/``argsort`` at load ~4) and ``svd``'s 1.8 s, against 0.5 s and 0.05 s warm.

Every function releases the GIL. The parallel kernels take a chunk number and a chunk count (rows
``c, c + n_chunks, …``) and write into arrays allocated by the caller, so Python threads can claim
chunks one at a time (``threads.run_blocks``): no barrier waits for a thread the OS has not
scheduled. Updates are the numba references' own, in the same order (the parity tests compare them).
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
    """Rows ``chunk, chunk + n_chunks, …`` of ``accel.top_similarities`` (Surprise's definitions; the kept
    neighbours: best first, ties in traversal order), written into the given arrays."""
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
    """Groups ``chunk, chunk + n_chunks, …`` of ``accel.predict_pairs``: pairs sorted by y
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
    """Rows ``chunk, chunk + n_chunks, …`` of ``accel.predict_dense_items`` (a users × items grid)."""
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


# --- EASE's Woodbury path (Steck 2019) -------------------------------------------------------------------


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


# --- LightFM's hybrid model and LearnBPR (Kula 2015; Rendle et al. 2009; Weston et al. 2011) --------
# Ported from numba (``tests/reference_kernels/lightfm_like.py``, ``learn_bpr.py``) with the same random
# streams (xorshift64*, multiply-shift reduction), the same sampling and the same update order; component
# loops run in float32. Each call runs blocks ``first..last-1`` of one epoch (``threads.run_blocks`` hands
# blocks to threads: no barrier).

from libc.math cimport exp, floor, log, log1p, sqrtf

cdef double MAX_WARP_LOSS = 10.0


cdef inline unsigned long long mr_rand(unsigned long long* state) noexcept nogil:
    """xorshift64* step; the high 31 bits (the low bits are weak: reducing them with ``% n_items`` cost WARP 0.005 P@10 on ml-latest-small)."""
    cdef unsigned long long x = state[0]
    x ^= x >> 12
    x ^= x << 25
    x ^= x >> 27
    state[0] = x
    return (x * <unsigned long long>2685821657736338717) >> 33


cdef inline long long mr_below(unsigned long long* state, long long n) noexcept nogil:
    """A uniform integer in [0, n) by multiply-shift (Lemire 2019)."""
    return <long long>((mr_rand(state) * <unsigned long long>n) >> 31)


cdef inline bint mr_has(const long long* indptr, const int* indices, long long user, long long item) noexcept nogil:
    """Binary search of ``item`` among the user's sorted positive items."""
    cdef long long lo = indptr[user], hi = indptr[user + 1], mid
    cdef int v
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


cdef inline long long mr_kth_largest(long long* items, double* scores, long long m, long long k) noexcept nogil:
    """The item with the k-th largest score among the first ``m`` (partial selection sort)."""
    cdef long long r, q, best, ti
    cdef double ts
    for r in range(k):
        best = r
        for q in range(r + 1, m):
            if scores[q] > scores[best]:
                best = q
        ts = scores[r]; scores[r] = scores[best]; scores[best] = ts
        ti = items[r]; items[r] = items[best]; items[best] = ti
    return items[k - 1]


cdef inline void mr_adagrad(float* e, float* a, float g, float lr) noexcept nogil:
    e[0] -= lr / sqrtf(a[0]) * g
    a[0] += g * g


cdef inline void mr_adadelta(float* e, float* a, float* m, float g, float rho, float eps) noexcept nogil:
    cdef float step
    a[0] = rho * a[0] + (1 - rho) * g * g
    step = sqrtf(m[0] + eps) / sqrtf(a[0] + eps) * g
    m[0] = rho * m[0] + (1 - rho) * step * step
    e[0] -= step


def learn_bpr_block(
    const int[::1] ex_users, const int[::1] ex_items, const float[::1] ex_weights,
    const long long[::1] pos_indptr, const int[::1] pos_indices, float[:, ::1] item_w, float[:, ::1] user_w,
    float lr, float reg_item, float reg_user, unsigned long long[::1] state, double[::1] losses,
    long long[::1] skipped, Py_ssize_t first, Py_ssize_t last,
):
    """Blocks ``first..last-1`` of one LearnBPR epoch (Rendle et al. 2009, Fig. 4): bootstrap-drawn
    pairs, uniform negatives (a positive is skipped, not redrawn), constant-step SGD."""
    cdef Py_ssize_t n_blocks = losses.shape[0], n = ex_users.shape[0], n_items = item_w.shape[0]
    cdef Py_ssize_t d = item_w.shape[1] - 1, chunk = (n + n_blocks - 1) // n_blocks, t, k, c
    cdef long long row, u, i, j, skips
    cdef double total, x, z
    cdef float zf, tmp, diff
    cdef float* ue
    cdef float* pe
    cdef float* ne
    with nogil:
        for t in range(first, last):
            total = 0.0
            skips = 0
            for k in range(t * chunk, min(n, (t + 1) * chunk)):
                row = mr_below(&state[8 * t], n)
                u = ex_users[row]
                i = ex_items[row]
                j = mr_below(&state[8 * t], n_items)
                if mr_has(&pos_indptr[0], &pos_indices[0], u, j):
                    skips += 1
                    continue
                ue = &user_w[u, 0]
                pe = &item_w[i, 0]
                ne = &item_w[j, 0]
                zf = pe[d] - ne[d]
                for c in range(d):
                    zf = zf + ue[c] * (pe[c] - ne[c])
                x = zf
                if x > 0:
                    total += log1p(exp(-x))
                    z = 1.0 / (1.0 + exp(x))
                else:
                    total += log1p(exp(x)) - x
                    z = 1.0 - 1.0 / (1.0 + exp(-x))
                zf = <float>(z * ex_weights[row])
                for c in range(d):
                    tmp = ue[c]
                    diff = pe[c] - ne[c]
                    ue[c] = tmp + lr * (zf * diff - reg_user * tmp)
                    pe[c] = pe[c] + lr * (zf * tmp - reg_item * pe[c])
                    ne[c] = ne[c] + lr * (-zf * tmp - reg_item * ne[c])
                pe[d] = pe[d] + lr * (zf - reg_item * pe[d])
                ne[d] = ne[d] + lr * (-zf - reg_item * ne[d])
            losses[t] = total
            skipped[t] = skips


def pairwise_epoch_identity(
    int loss_kind, const long long[::1] order, const int[::1] ex_users, const int[::1] ex_items,
    const float[::1] ex_weights, const long long[::1] pos_indptr, const int[::1] pos_indices,
    float[:, ::1] item_emb, float[:, ::1] user_emb, float[:, ::1] item_acc, float[:, ::1] user_acc,
    float[:, ::1] item_mom, float[:, ::1] user_mom, bint adadelta, float lr, float rho, float eps,
    float item_alpha, float user_alpha, int max_sampled, int kos_k, int kos_n,
    unsigned long long[::1] state, double[::1] losses, Py_ssize_t first, Py_ssize_t last,
):
    """BPR (0), WARP (1) or k-OS WARP (3) when every user and
    item has only its identity feature; the three row updates read each row once."""
    cdef Py_ssize_t n_blocks = losses.shape[0], n = order.shape[0], n_items = item_emb.shape[0]
    cdef Py_ssize_t n_examples = ex_items.shape[0], d = item_emb.shape[1] - 1
    cdef Py_ssize_t chunk = (n + n_blocks - 1) // n_blocks, t, k, c, q
    cdef long long row, u, i, j, cand, start, cnt, m_pos, it, tries
    cdef float w, s_pos, s_neg, sc, m, g
    cdef double total, mult, x
    cdef float* ue
    cdef float* pe
    cdef float* ne
    cdef float* ie
    cdef float* pa
    cdef float* na
    cdef float* ua
    cdef float* pm
    cdef float* nm
    cdef float* um
    cdef int kn = kos_n if kos_n > 1 else 1
    cdef float* g_user = <float*>malloc((d + 1) * sizeof(float))
    cdef long long* kos_items = <long long*>malloc(kn * sizeof(long long))
    cdef double* kos_scores = <double*>malloc(kn * sizeof(double))
    if g_user == NULL or kos_items == NULL or kos_scores == NULL:
        free(g_user); free(kos_items); free(kos_scores)
        raise MemoryError()
    with nogil:
        for t in range(first, last):
            total = 0.0
            for k in range(t * chunk, min(n, (t + 1) * chunk)):
                row = order[k]
                u = ex_users[row]
                i = ex_items[row]
                w = ex_weights[row]
                ue = &user_emb[u, 0]
                if loss_kind == 3:  # k-OS: the k-th best scored of n positives drawn with replacement
                    start = pos_indptr[u]
                    cnt = pos_indptr[u + 1] - start
                    m_pos = kos_n if kos_n < cnt else cnt
                    for q in range(m_pos):
                        it = pos_indices[start + mr_below(&state[8 * t], cnt)]
                        ie = &item_emb[it, 0]
                        sc = ie[d]
                        for c in range(d):
                            sc = sc + ue[c] * ie[c]
                        kos_items[q] = it
                        kos_scores[q] = sc
                    i = mr_kth_largest(kos_items, kos_scores, m_pos, kos_k if kos_k < m_pos else m_pos)
                pe = &item_emb[i, 0]
                s_pos = pe[d]
                for c in range(d):
                    s_pos = s_pos + ue[c] * pe[c]
                j = -1
                mult = 0.0
                if loss_kind == 0:
                    for q in range(n_examples):
                        cand = ex_items[mr_below(&state[8 * t], n_examples)]
                        if not mr_has(&pos_indptr[0], &pos_indices[0], u, cand):
                            j = cand
                            break
                    if j < 0:
                        continue
                    ne = &item_emb[j, 0]
                    s_neg = ne[d]
                    for c in range(d):
                        s_neg = s_neg + ue[c] * ne[c]
                    x = s_pos - s_neg
                    if x > 0:
                        total += w * log1p(exp(-x))
                        mult = w / (1.0 + exp(x))
                    else:
                        total += w * (log1p(exp(x)) - x)
                        mult = w * (1.0 - 1.0 / (1.0 + exp(-x)))
                else:
                    tries = 0
                    while tries < max_sampled:
                        tries += 1
                        cand = mr_below(&state[8 * t], n_items)
                        ie = &item_emb[cand, 0]
                        s_neg = ie[d]
                        for c in range(d):
                            s_neg = s_neg + ue[c] * ie[c]
                        if s_neg > s_pos - 1.0:
                            if mr_has(&pos_indptr[0], &pos_indices[0], u, cand):
                                continue
                            j = cand
                            mult = w * log(max(1.0, floor(<double>(n_items - 1) / tries)))
                            if mult > MAX_WARP_LOSS:
                                mult = MAX_WARP_LOSS
                            total += mult * (1.0 - s_pos + s_neg)
                            break
                    if j < 0:
                        continue
                m = <float>mult
                ne = &item_emb[j, 0]
                pa = &item_acc[i, 0]
                na = &item_acc[j, 0]
                ua = &user_acc[u, 0]
                for c in range(d):
                    g_user[c] = m * (ne[c] - pe[c]) + user_alpha * ue[c]
                g_user[d] = user_alpha * ue[d]
                if adadelta:
                    pm = &item_mom[i, 0]
                    nm = &item_mom[j, 0]
                    um = &user_mom[u, 0]
                    for c in range(d):
                        mr_adadelta(&pe[c], &pa[c], &pm[c], -m * ue[c] + item_alpha * pe[c], rho, eps)
                    mr_adadelta(&pe[d], &pa[d], &pm[d], -m + item_alpha * pe[d], rho, eps)
                    for c in range(d):
                        mr_adadelta(&ne[c], &na[c], &nm[c], m * ue[c] + item_alpha * ne[c], rho, eps)
                    mr_adadelta(&ne[d], &na[d], &nm[d], m + item_alpha * ne[d], rho, eps)
                    for c in range(d + 1):
                        mr_adadelta(&ue[c], &ua[c], &um[c], g_user[c], rho, eps)
                else:
                    for c in range(d):
                        g = -m * ue[c] + item_alpha * pe[c]
                        pe[c] -= lr / sqrtf(pa[c]) * g
                        pa[c] += g * g
                    mr_adagrad(&pe[d], &pa[d], -m + item_alpha * pe[d], lr)
                    for c in range(d):
                        g = m * ue[c] + item_alpha * ne[c]
                        ne[c] -= lr / sqrtf(na[c]) * g
                        na[c] += g * g
                    mr_adagrad(&ne[d], &na[d], m + item_alpha * ne[d], lr)
                    for c in range(d + 1):
                        g = g_user[c]
                        ue[c] -= lr / sqrtf(ua[c]) * g
                        ua[c] += g * g
            losses[t] = total
    free(g_user); free(kos_items); free(kos_scores)


cdef inline void mr_represent(
    const long long* indptr, const int* indices, const float* data, float* emb, Py_ssize_t width,
    long long row, float* out,
) noexcept nogil:
    """out = Σ w_f · emb[f] over the features f of ``row`` (the last column is the bias)."""
    cdef long long p
    cdef Py_ssize_t c
    cdef float wt
    cdef float* e
    for c in range(width):
        out[c] = 0.0
    for p in range(indptr[row], indptr[row + 1]):
        wt = data[p]
        e = emb + indices[p] * width
        for c in range(width):
            out[c] += wt * e[c]


cdef inline double mr_score(
    const float* user, const long long* indptr, const int* indices, const float* data, const float* emb,
    Py_ssize_t width, long long row,
) noexcept nogil:
    """user · item from the item's feature rows (``user``'s bias slot holds 1)."""
    cdef long long p
    cdef Py_ssize_t c
    cdef double s = 0.0, acc
    cdef const float* e
    for p in range(indptr[row], indptr[row + 1]):
        e = emb + indices[p] * width
        acc = 0.0
        for c in range(width):
            acc += user[c] * e[c]
        s += data[p] * acc
    return s


cdef inline void mr_step(
    const long long* indptr, const int* indices, const float* data, long long row, float* emb,
    float* acc_g, float* mom, const float* grad, Py_ssize_t width, bint adadelta, float lr, float rho,
    float eps, float alpha,
) noexcept nogil:
    """Apply ``grad`` (components, then the bias in the last slot) to every feature of ``row``."""
    cdef long long p, f
    cdef Py_ssize_t c
    cdef float wt, g
    cdef float* e
    cdef float* a
    cdef float* mm
    for p in range(indptr[row], indptr[row + 1]):
        f = indices[p]
        wt = data[p]
        e = emb + f * width
        a = acc_g + f * width
        if adadelta:
            mm = mom + f * width
            for c in range(width):
                mr_adadelta(&e[c], &a[c], &mm[c], wt * grad[c] + alpha * e[c], rho, eps)
        else:
            for c in range(width):
                g = wt * grad[c] + alpha * e[c]
                e[c] -= lr / sqrtf(a[c]) * g
                a[c] += g * g


def pairwise_epoch(
    int loss_kind, const long long[::1] order, const int[::1] ex_users, const int[::1] ex_items,
    const float[::1] ex_weights, const long long[::1] pos_indptr, const int[::1] pos_indices,
    const long long[::1] if_indptr, const int[::1] if_indices, const float[::1] if_data,
    const long long[::1] uf_indptr, const int[::1] uf_indices, const float[::1] uf_data,
    float[:, ::1] item_emb, float[:, ::1] user_emb, float[:, ::1] item_acc, float[:, ::1] user_acc,
    float[:, ::1] item_mom, float[:, ::1] user_mom, bint adadelta, float lr, float rho, float eps,
    float item_alpha, float user_alpha, int max_sampled, int kos_k, int kos_n,
    unsigned long long[::1] state, double[::1] losses, Py_ssize_t first, Py_ssize_t last,
):
    """BPR (0), WARP (1) or k-OS WARP (3) with side features, a
    representation being the weighted sum of its features' rows."""
    cdef Py_ssize_t n_blocks = losses.shape[0], n = order.shape[0], n_items = if_indptr.shape[0] - 1
    cdef Py_ssize_t n_examples = ex_items.shape[0], width = item_emb.shape[1], d = width - 1
    cdef Py_ssize_t chunk = (n + n_blocks - 1) // n_blocks, t, k, c, q
    cdef long long row, u, i, j, cand, start, cnt, m_pos, tries
    cdef float w, m
    cdef double total, mult, x, s_pos, s_neg
    cdef float* iemb = &item_emb[0, 0]
    cdef float* uemb = &user_emb[0, 0]
    cdef float* iacc = &item_acc[0, 0]
    cdef float* uacc = &user_acc[0, 0]
    cdef float* imom = &item_mom[0, 0]
    cdef float* umom = &user_mom[0, 0]
    cdef int kn = kos_n if kos_n > 1 else 1
    cdef float* buf = <float*>malloc(5 * width * sizeof(float))
    cdef long long* kos_items = <long long*>malloc(kn * sizeof(long long))
    cdef double* kos_scores = <double*>malloc(kn * sizeof(double))
    if buf == NULL or kos_items == NULL or kos_scores == NULL:
        free(buf); free(kos_items); free(kos_scores)
        raise MemoryError()
    cdef float* u_repr = buf
    cdef float* p_repr = buf + width
    cdef float* n_repr = buf + 2 * width
    cdef float* g_item = buf + 3 * width
    cdef float* g_user = buf + 4 * width
    with nogil:
        for t in range(first, last):
            for c in range(width):
                g_user[c] = 0.0
            total = 0.0
            for k in range(t * chunk, min(n, (t + 1) * chunk)):
                row = order[k]
                u = ex_users[row]
                i = ex_items[row]
                w = ex_weights[row]
                mr_represent(&uf_indptr[0], &uf_indices[0], &uf_data[0], uemb, width, u, u_repr)
                u_repr[d] = 1.0
                if loss_kind == 3:
                    start = pos_indptr[u]
                    cnt = pos_indptr[u + 1] - start
                    m_pos = kos_n if kos_n < cnt else cnt
                    for q in range(m_pos):
                        kos_items[q] = pos_indices[start + mr_below(&state[8 * t], cnt)]
                        kos_scores[q] = mr_score(
                            u_repr, &if_indptr[0], &if_indices[0], &if_data[0], iemb, width, kos_items[q]
                        )
                    i = mr_kth_largest(kos_items, kos_scores, m_pos, kos_k if kos_k < m_pos else m_pos)
                mr_represent(&if_indptr[0], &if_indices[0], &if_data[0], iemb, width, i, p_repr)
                s_pos = 0.0
                for c in range(width):
                    s_pos += u_repr[c] * p_repr[c]
                j = -1
                mult = 0.0
                if loss_kind == 0:
                    for q in range(n_examples):
                        cand = ex_items[mr_below(&state[8 * t], n_examples)]
                        if not mr_has(&pos_indptr[0], &pos_indices[0], u, cand):
                            j = cand
                            break
                    if j < 0:
                        continue
                    x = s_pos - mr_score(u_repr, &if_indptr[0], &if_indices[0], &if_data[0], iemb, width, j)
                    if x > 0:
                        total += w * log1p(exp(-x))
                        mult = w / (1.0 + exp(x))
                    else:
                        total += w * (log1p(exp(x)) - x)
                        mult = w * (1.0 - 1.0 / (1.0 + exp(-x)))
                else:
                    tries = 0
                    while tries < max_sampled:
                        tries += 1
                        cand = mr_below(&state[8 * t], n_items)
                        s_neg = mr_score(u_repr, &if_indptr[0], &if_indices[0], &if_data[0], iemb, width, cand)
                        if s_neg > s_pos - 1.0:
                            if mr_has(&pos_indptr[0], &pos_indices[0], u, cand):
                                continue
                            j = cand
                            mult = w * log(max(1.0, floor(<double>(n_items - 1) / tries)))
                            if mult > MAX_WARP_LOSS:
                                mult = MAX_WARP_LOSS
                            total += mult * (1.0 - s_pos + s_neg)
                            break
                    if j < 0:
                        continue
                mr_represent(&if_indptr[0], &if_indices[0], &if_data[0], iemb, width, j, n_repr)
                m = <float>mult
                for c in range(width):
                    g_item[c] = -m * u_repr[c]
                for c in range(d):
                    g_user[c] = m * (n_repr[c] - p_repr[c])
                mr_step(&if_indptr[0], &if_indices[0], &if_data[0], i, iemb, iacc, imom, g_item, width,
                        adadelta, lr, rho, eps, item_alpha)
                for c in range(width):
                    g_item[c] = -g_item[c]
                mr_step(&if_indptr[0], &if_indices[0], &if_data[0], j, iemb, iacc, imom, g_item, width,
                        adadelta, lr, rho, eps, item_alpha)
                mr_step(&uf_indptr[0], &uf_indices[0], &uf_data[0], u, uemb, uacc, umom, g_user, width,
                        adadelta, lr, rho, eps, user_alpha)
            losses[t] = total
    free(buf); free(kos_items); free(kos_scores)


def logistic_epoch(
    int loss_kind, const long long[::1] order, const int[::1] ex_users, const int[::1] ex_items,
    const float[::1] ex_weights, const long long[::1] pos_indptr, const int[::1] pos_indices,
    const long long[::1] if_indptr, const int[::1] if_indices, const float[::1] if_data,
    const long long[::1] uf_indptr, const int[::1] uf_indices, const float[::1] uf_data,
    float[:, ::1] item_emb, float[:, ::1] user_emb, float[:, ::1] item_acc, float[:, ::1] user_acc,
    float[:, ::1] item_mom, float[:, ::1] user_mom, bint adadelta, float lr, float rho, float eps,
    float item_alpha, float user_alpha, int max_sampled, int kos_k, int kos_n,
    unsigned long long[::1] state, double[::1] losses, Py_ssize_t first, Py_ssize_t last,
):
    """LightFM's pointwise loss w·−log σ(u·i + b_u + b_i) on every
    interaction (the sampling arguments are unused)."""
    cdef Py_ssize_t n_blocks = losses.shape[0], n = order.shape[0], width = item_emb.shape[1], d = width - 1
    cdef Py_ssize_t chunk = (n + n_blocks - 1) // n_blocks, t, k, c
    cdef long long row, u, i
    cdef float w, m, s
    cdef double total, p, e
    cdef float* iemb = &item_emb[0, 0]
    cdef float* uemb = &user_emb[0, 0]
    cdef float* iacc = &item_acc[0, 0]
    cdef float* uacc = &user_acc[0, 0]
    cdef float* imom = &item_mom[0, 0]
    cdef float* umom = &user_mom[0, 0]
    cdef float* buf = <float*>malloc(4 * width * sizeof(float))
    if buf == NULL:
        raise MemoryError()
    cdef float* u_repr = buf
    cdef float* i_repr = buf + width
    cdef float* g_item = buf + 2 * width
    cdef float* g_user = buf + 3 * width
    with nogil:
        for t in range(first, last):
            total = 0.0
            for k in range(t * chunk, min(n, (t + 1) * chunk)):
                row = order[k]
                u = ex_users[row]
                i = ex_items[row]
                w = ex_weights[row]
                mr_represent(&uf_indptr[0], &uf_indices[0], &uf_data[0], uemb, width, u, u_repr)
                mr_represent(&if_indptr[0], &if_indices[0], &if_data[0], iemb, width, i, i_repr)
                s = u_repr[d] + i_repr[d]
                for c in range(d):
                    s = s + u_repr[c] * i_repr[c]
                if s > 0:
                    p = 1.0 / (1.0 + exp(-s))
                    total += w * log1p(exp(-s))
                else:
                    e = exp(s)
                    p = e / (1.0 + e)
                    total += w * (log1p(e) - s)
                m = <float>(w * (p - 1.0))
                for c in range(d):
                    g_item[c] = m * u_repr[c]
                    g_user[c] = m * i_repr[c]
                g_item[d] = m
                g_user[d] = m
                mr_step(&if_indptr[0], &if_indices[0], &if_data[0], i, iemb, iacc, imom, g_item, width,
                        adadelta, lr, rho, eps, item_alpha)
                mr_step(&uf_indptr[0], &uf_indices[0], &uf_data[0], u, uemb, uacc, umom, g_user, width,
                        adadelta, lr, rho, eps, user_alpha)
            losses[t] = total
    free(buf)


# --- SVD++ (Koren 2008), Surprise's update rules with the O(f)-per-rating y_j bookkeeping -----------


def svdpp_epoch(
    const int[::1] items, const double[::1] ratings, const long long[::1] block_users,
    const long long[::1] block_ptr, double mu, double[::1] bu, double[::1] bi, double[:, ::1] pu,
    double[:, ::1] qi, double[:, ::1] yj, double lr_b, double lr_f, double lr_y, double reg_b,
    double reg_f, double reg_y,
):
    """One SGD sweep of SVD++ over ratings grouped by user (``sgd.svdpp_epoch``); returns Σ err²."""
    cdef Py_ssize_t nf = pu.shape[1], b, p, f
    cdef long long u, i, j, start, end, n
    cdef double a = 1.0 - lr_y * reg_y, sq = 0.0, sqrt_n, scale, dot, err, puf, qif, c
    cdef double* s_sum = <double*>calloc(3 * nf + 1, sizeof(double))
    if s_sum == NULL:
        raise MemoryError()
    cdef double* offset = s_sum + nf
    cdef double* impl = s_sum + 2 * nf
    with nogil:
        for b in range(block_users.shape[0]):
            u = block_users[b]
            start = block_ptr[b]
            end = block_ptr[b + 1]
            n = end - start
            sqrt_n = sqrt(<double>n)
            for f in range(nf):
                s_sum[f] = 0.0
                offset[f] = 0.0
            for p in range(start, end):
                j = items[p]
                for f in range(nf):
                    s_sum[f] += yj[j, f]
            scale = 1.0
            for p in range(start, end):
                i = items[p]
                dot = 0.0
                for f in range(nf):
                    impl[f] = s_sum[f] / sqrt_n
                    dot += qi[i, f] * (pu[u, f] + impl[f])
                err = ratings[p] - (mu + bu[u] + bi[i] + dot)
                sq += err * err
                bu[u] += lr_b * (err - reg_b * bu[u])
                bi[i] += lr_b * (err - reg_b * bi[i])
                scale *= a
                for f in range(nf):
                    puf = pu[u, f]
                    qif = qi[i, f]
                    pu[u, f] += lr_f * (err * qif - reg_f * puf)
                    qi[i, f] += lr_f * (err * (puf + impl[f]) - reg_f * qif)
                    c = lr_y * err * qif / sqrt_n
                    offset[f] = a * offset[f] + c
                    s_sum[f] = a * s_sum[f] + n * c
            for p in range(start, end):
                j = items[p]
                for f in range(nf):
                    yj[j, f] = scale * yj[j, f] + offset[f]
    free(s_sum)
    return sq


def implicit_sums(const long long[::1] u_ptr, const int[::1] u_items, const double[:, ::1] yj):
    """|I_u|^-1/2 Σ_{j∈I_u} y_j per user (zero without ratings), SVD++'s implicit term (``sgd.implicit_sums``)."""
    cdef Py_ssize_t n_users = u_ptr.shape[0] - 1, nf = yj.shape[1], u, f
    cdef long long p, n
    cdef double r
    out_arr = np.zeros((n_users, nf))
    cdef double[:, ::1] out = out_arr
    with nogil:
        for u in range(n_users):
            n = u_ptr[u + 1] - u_ptr[u]
            if n == 0:
                continue
            for p in range(u_ptr[u], u_ptr[u + 1]):
                for f in range(nf):
                    out[u, f] += yj[u_items[p], f]
            r = sqrt(<double>n)
            for f in range(nf):
                out[u, f] /= r
    return out_arr


# --- iALS (Rendle et al. 2022; Hu, Koren & Volinsky 2008), conjugate-gradient row solves -----------


def ials_rows_chunk(
    const long long[::1] indptr, const int[::1] indices, const float[:, ::1] fixed, float[:, ::1] solve,
    const double[:, ::1] gram, double alpha0, const double[::1] reg, int cg_steps, double[::1] losses,
    Py_ssize_t chunk, Py_ssize_t n_chunks,
):
    """Rows ``chunk, chunk + n_chunks, …`` of one iALS half-step (``accel.ials_half_step``): each row's system
    (Σ h hᵀ + α₀G + λ_u I) w = Σ h by ``cg_steps`` CG iterations from its current value, in float64;
    ``losses[u]``: the row's data loss before its update."""
    cdef Py_ssize_t n = solve.shape[0], d = solve.shape[1], u, a, b, step_i
    cdef long long p
    cdef double loss, pred, rs_old, rs_new, step, hp, pap, lam, acc
    cdef const double* g
    cdef double* work = <double*>malloc(5 * d * sizeof(double))
    if work == NULL:
        raise MemoryError()
    cdef double* x = work
    cdef double* r = work + d
    cdef double* pv = work + 2 * d
    cdef double* ap = work + 3 * d
    cdef double* gx = work + 4 * d
    cdef const float* h
    with nogil:
        u = chunk
        while u < n:
            lam = reg[u]
            for a in range(d):
                x[a] = solve[u, a]
            for a in range(d):
                acc = 0.0  # a local accumulator: gx could alias gram, so += on gx[a] would not vectorise
                g = &gram[a, 0]
                for b in range(d):
                    acc = acc + g[b] * x[b]
                gx[a] = acc
            loss = 0.0
            for a in range(d):
                r[a] = -alpha0 * gx[a] - lam * x[a]
                loss += x[a] * gx[a]
            loss *= alpha0
            for p in range(indptr[u], indptr[u + 1]):
                h = &fixed[indices[p], 0]
                pred = 0.0
                for a in range(d):
                    pred += h[a] * x[a]
                for a in range(d):
                    r[a] += (1.0 - pred) * h[a]
                loss += (pred - 1.0) * (pred - 1.0)
            losses[u] = loss
            rs_old = 0.0
            for a in range(d):
                pv[a] = r[a]
                rs_old += r[a] * r[a]
            for step_i in range(cg_steps):
                if rs_old < 1e-20:
                    break
                for a in range(d):
                    acc = 0.0
                    g = &gram[a, 0]
                    for b in range(d):
                        acc = acc + g[b] * pv[b]
                    ap[a] = alpha0 * acc + lam * pv[a]
                for p in range(indptr[u], indptr[u + 1]):
                    h = &fixed[indices[p], 0]
                    hp = 0.0
                    for a in range(d):
                        hp += h[a] * pv[a]
                    for a in range(d):
                        ap[a] += hp * h[a]
                pap = 0.0
                for a in range(d):
                    pap += pv[a] * ap[a]
                step = rs_old / pap
                rs_new = 0.0
                for a in range(d):
                    x[a] += step * pv[a]
                    r[a] -= step * ap[a]
                    rs_new += r[a] * r[a]
                for a in range(d):
                    pv[a] = r[a] + (rs_new / rs_old) * pv[a]
                rs_old = rs_new
            for a in range(d):
                solve[u, a] = <float>x[a]
            u += n_chunks
    free(work)
