# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: language = c++
"""The models' compiled kernels (SVD, SVD++, baselines, biased NMF's bias step, k-NN, EASE, iALS, LightFM-style and LearnBPR
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

Variants of one algorithm share their steps as ``cdef inline`` functions (``mr_*``), so every exported
kernel is a short driver; where the variants differ in types (float32/float64 SVD state, identity or
side-feature representations) the shared code takes a fused type and Cython compiles it once per case.
Inside the loops the kernels read raw pointers and locals, not memoryviews or struct fields: re-reading
those at every step cost up to ~10-20% (measured on the SVD and WARP sweeps).
"""

from libc.math cimport nextafterf, sqrt
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
    /* the m best moved to the front, unsorted */
    static void mr_partition(mr_cand* c, int64_t n, int64_t m) {
        if (n > m) std::nth_element(c, c + m, c + n, mr_better);
    }
    static void mr_sort(mr_cand* c, int64_t n) { std::sort(c, c + n, mr_better); }
    static inline void mr_prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }
    /* a tied neighbour the user (item) rated: when its rating came in the training data, and its deviation */
    struct mr_tie { int32_t rank; double d; };
    /* Σ s·d over the ``need`` members of ``t`` whose ratings came first (smallest rank), in that order */
    static double mr_earliest(mr_tie* t, int64_t n, int64_t need, double s) {
        auto first = [](const mr_tie& a, const mr_tie& b) { return a.rank < b.rank; };
        if (n > need) std::nth_element(t, t + need, t + n, first);
        std::sort(t, t + need, first);
        double sum = 0.0;
        for (int64_t i = 0; i < need; ++i) sum += s * t[i].d;
        return sum;
    }
    """
    ctypedef struct mr_cand:
        double s
        int x
        int pos
    ctypedef struct mr_tie:
        int rank
        double d
    void mr_partition(mr_cand* c, long long n, long long m)
    void mr_sort(mr_cand* c, long long n)
    double mr_earliest(mr_tie* t, long long n, long long need, double s)
    void mr_prefetch(const void* p)


cdef enum:  # compile-time constants
    PREFETCH_AHEAD = 4
    FAST_LANES = 3  # parts of the fast SVD sweep's order that take turns (= MR_SVD_LANES in its C++ block)
    COSINE = 0  # the similarity codes of top_similarities_chunk (accel.COSINE, …)
    MSD = 1
    PEARSON = 2
    PEARSON_BASELINE = 3


# --- biased MF (Funk 2006; Koren, Bell & Volinsky 2009), Surprise's update rules -----------------


ctypedef fused mr_real:
    float
    double


cdef inline double mr_svd_rating(
    Py_ssize_t p, const int* users, const int* items, const mr_real* ratings, mr_real mu, mr_real* bu,
    mr_real* bi, mr_real* pu, mr_real* qi, Py_ssize_t nf, mr_real lr_b, mr_real reg_b, mr_real lr_f,
    mr_real reg_f, bint biased,
) noexcept nogil:
    """Rating p's SGD step, Surprise's rule: the error, the biases, then every factor from its pre-update
    values. float64 writes Surprise's p ← p + lr(err·q − reg·p); float32 the same as shrink·p + lr·err·q
    (one multiply fewer a component). Returns err²."""
    cdef int u = users[p], i = items[p]
    cdef mr_real* pr = pu + <Py_ssize_t>u * nf
    cdef mr_real* qr = qi + <Py_ssize_t>i * nf
    cdef mr_real dot = 0, err, puf, qif, step, shrink
    cdef Py_ssize_t f
    for f in range(nf):
        dot += pr[f] * qr[f]
    err = ratings[p] - (mu + bu[u] + bi[i] + dot)
    if biased:
        bu[u] += lr_b * (err - reg_b * bu[u])
        bi[i] += lr_b * (err - reg_b * bi[i])
    if mr_real is double:
        for f in range(nf):
            puf = pr[f]
            qif = qr[f]
            pr[f] = puf + lr_f * (err * qif - reg_f * puf)
            qr[f] = qif + lr_f * (err * puf - reg_f * qif)
    else:
        step = lr_f * err
        shrink = <float>1.0 - lr_f * reg_f
        for f in range(nf):
            puf = pr[f]
            qif = qr[f]
            pr[f] = shrink * puf + step * qif
            qr[f] = shrink * qif + step * puf
    return <double>err * <double>err


cdef extern from * nogil:
    """
    /* The fast (float32) SVD sweep with each lane's current user row held in AVX-512 registers.

       The generic loop (mr_svd_rating) stores the user row after every rating and the lane's next
       rating, almost always the same user's (Surprise's order groups a user's ratings), loads it back:
       a store-to-load forwarding wait on the critical chain dot -> err -> update -> next dot. Here
       the row stays in registers while the lane's user does not change and is written back when it
       does (or when another lane needs that user, so no two lanes ever hold one user at once).
       MR_SVD_LANES (3) lanes take turns, so three such chains overlap. A coming rating's whole item
       row (5 cache lines at 80 factors) is prefetched, not only its first line: the item rows (3 MB
       on ml-latest-small) outgrow L2, and the row's other lines missed. Measured on 25 sweeps of
       ml-latest-small's default svd (a C++ harness, AVX-512 Xeon, medians of 7-9): one lane 19 ns a
       rating, two 12.4 ns (the sweep before these changes), two with whole rows prefetched 11.1 ns,
       three 9.9 ns; four (20 of the 32 zmm registers for their rows: spills) 10.3 ns. Also tried, no
       faster: a lazily applied shrink (one FMA a factor row update instead of two), eight lanes in
       lockstep with one transposed reduction of their dots.
       The arithmetic is the generic loop's as -O3 -march=native compiles it, operation for
       operation: the dot accumulates 16 lanes with one FMA per 16 factors, then the halving tree
       (8, 4, 2, 1); p <- fma(p, shrink, q*step) and q <- fma(q, shrink, p*step); biases, error and
       the squared error are the same C expressions in the same order, so with gcc 12 at -march=native
       (512-bit vectors in the generic loop too) both give the same bits (tests/models/test_mf.py).
       Rows of 16 to 128 floats (fast_width pads rows to whole registers); 0 = not handled. */
    #include <cstdint>
    #define MR_SVD_LANES 3  /* = FAST_LANES below */
    #if defined(__AVX512F__) && defined(__AVX512DQ__)
    #include <immintrin.h>
    #pragma GCC diagnostic push  /* gcc 12 warns about its own intrinsics' undefined upper halves */
    #pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
    #pragma GCC diagnostic ignored "-Wuninitialized"
    static inline float mr_hsum16(__m512 v) {
        __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
        __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
        __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 0x55)));
    }
    template <int NCH> struct mr_lane { __m512 p[NCH]; int64_t u; };
    template <int NCH> static inline void mr_lane_store(mr_lane<NCH>& L, float* pu, int64_t nf) {
        if (L.u < 0) return;
        float* pr = pu + L.u * nf;
        for (int c = 0; c < NCH; ++c) _mm512_storeu_ps(pr + 16 * c, L.p[c]);
        L.u = -1;
    }
    template <int NCH> static inline void mr_prefetch_row(const float* row) {
        for (int c = 0; c < NCH; ++c) __builtin_prefetch(row + 16 * c, 0, 3);
    }
    /* rating p in lane l of the NL lanes L */
    template <int NCH, int NL> static inline double mr_lane_rating(
            int64_t p, int l, mr_lane<NCH>* L, const int* us, const int* it, const float* rs,
            float mu, float* bu, float* bi, float* pu, float* qi, float lr_b, float reg_b, float lr_f,
            float shrink, bool biased) {
        constexpr int64_t nf = 16 * NCH;
        int64_t u = us[p], i = it[p];
        mr_lane<NCH>& M = L[l];
        if (__builtin_expect(M.u != u, 0)) {
            mr_lane_store(M, pu, nf);
            #pragma GCC unroll 8
            for (int o = 0; o < NL; ++o)
                if (o != l && L[o].u == u) mr_lane_store(L[o], pu, nf);
            const float* pr = pu + u * nf;
            for (int c = 0; c < NCH; ++c) M.p[c] = _mm512_loadu_ps(pr + 16 * c);
            M.u = u;
        }
        float* qr = qi + i * nf;
        __m512 q[NCH];
        __m512 acc = _mm512_setzero_ps();
        for (int c = 0; c < NCH; ++c) {
            q[c] = _mm512_loadu_ps(qr + 16 * c);
            acc = _mm512_fmadd_ps(q[c], M.p[c], acc);
        }
        float dot = mr_hsum16(acc);
        float err = rs[p] - (mu + bu[u] + bi[i] + dot);
        if (biased) {
            bu[u] += lr_b * (err - reg_b * bu[u]);
            bi[i] += lr_b * (err - reg_b * bi[i]);
        }
        __m512 step = _mm512_set1_ps(lr_f * err), keep = _mm512_set1_ps(shrink);
        for (int c = 0; c < NCH; ++c) {
            __m512 pn = _mm512_fmadd_ps(M.p[c], keep, _mm512_mul_ps(q[c], step));
            _mm512_storeu_ps(qr + 16 * c, _mm512_fmadd_ps(q[c], keep, _mm512_mul_ps(M.p[c], step)));
            M.p[c] = pn;
        }
        return (double)err * (double)err;
    }
    /* the generic loop's order: step t takes r_t, r_(part+t), r_(2 part+t), ... (lanes past n skip) */
    template <int NCH> static void mr_svd_fast_sweeps(
            const int* us, const int* it, const float* rs, int64_t n, float mu, float* bu, float* bi, float* pu,
            float* qi, float lr_b, float reg_b, float lr_f, float reg_f, bool biased, double* sq_out,
            int64_t epochs, int64_t ahead) {
        constexpr int NL = MR_SVD_LANES;
        constexpr int64_t nf = 16 * NCH;
        const int64_t part = (n + NL - 1) / NL;
        const float shrink = 1.0f - lr_f * reg_f;
        for (int64_t e = 0; e < epochs; ++e) {
            mr_lane<NCH> L[NL];
            #pragma GCC unroll 8
            for (int l = 0; l < NL; ++l) {
                L[l].u = -1;
                for (int c = 0; c < NCH; ++c) L[l].p[c] = _mm512_setzero_ps();
            }
            double sq = 0.0;
            int64_t t = 0;
            for (; t < part; ++t) {
                /* fully unrolled (lanes in registers); a lane past the end of the order has no rating */
                #pragma GCC unroll 8
                for (int l = 0; l < NL; ++l) {
                    int64_t p = l * part + t;
                    if (p >= n) break;  /* the last parts may be short: with n = 1 only lane 0 has one */
                    if (p + ahead < n) mr_prefetch_row<NCH>(qi + it[p + ahead] * nf);
                    sq += mr_lane_rating<NCH, NL>(p, l, L, us, it, rs, mu, bu, bi, pu, qi, lr_b, reg_b, lr_f, shrink, biased);
                }
            }
            #pragma GCC unroll 8
            for (int l = 0; l < NL; ++l) mr_lane_store(L[l], pu, nf);
            sq_out[e] = sq;
        }
    }
    static int mr_svd_fast_registers(
            const int* us, const int* it, const float* rs, int64_t n, float mu, float* bu, float* bi, float* pu,
            float* qi, int64_t nf, float lr_b, float reg_b, float lr_f, float reg_f, bool biased, double* sq_out,
            int64_t epochs, int64_t ahead) {
        if (nf % 16 != 0) return 0;
        switch (nf / 16) {
    #define MR_CASE(K) case K: mr_svd_fast_sweeps<K>(us, it, rs, n, mu, bu, bi, pu, qi, lr_b, reg_b, lr_f, reg_f, biased, sq_out, epochs, ahead); return 1;
            MR_CASE(1) MR_CASE(2) MR_CASE(3) MR_CASE(4) MR_CASE(5) MR_CASE(6) MR_CASE(7) MR_CASE(8)
    #undef MR_CASE
            default: return 0;
        }
    }
    #pragma GCC diagnostic pop
    #else
    static int mr_svd_fast_registers(const int*, const int*, const float*, int64_t, float, float*, float*, float*,
                                     float*, int64_t, float, float, float, float, bool, double*, int64_t, int64_t) {
        return 0;  /* no AVX-512 in this build: the generic loop runs */
    }
    #endif
    """
    int mr_svd_fast_registers(
        const int* us, const int* it, const float* rs, long long n, float mu, float* bu, float* bi, float* pu,
        float* qi, long long nf, float lr_b, float reg_b, float lr_f, float reg_f, bint biased, double* sq_out,
        long long epochs, long long ahead)


def svd_epochs(
    const int[::1] users, const int[::1] items, const mr_real[::1] ratings, double mu,
    mr_real[::1] bu, mr_real[::1] bi, mr_real[:, ::1] pu, mr_real[:, ::1] qi,
    double lr_b, double lr_f, double reg_b, double reg_f, bint biased, double[::1] sq_out, bint registers=True,
):
    """``len(sq_out)`` SGD sweeps of biased MF, updating the state in place; Σ err² of each in ``sq_out``.

    float64 state: the exact sweep, the ratings in the order given (Surprise's). float32 state: the fast
    sweep, the order cut into ``FAST_LANES`` (3) parts whose ratings take turns (r_0, r_m, r_2m, r_1,
    r_m+1, …, m = ⌈n/3⌉): still one sequential SGD pass (no races), but consecutive ratings mostly
    belong to different users, so the CPU overlaps their dependency chains. Either way a coming
    rating's item row is prefetched (the fast sweep: every cache line of it).
    In an AVX-512 build, float32 rows of 16-128 floats take ``mr_svd_fast_registers``: the same
    operations in the same order (the same bits as gcc 12's 512-bit vectorisation of the generic
    loop), each lane's user row kept in registers between its ratings; ``registers=False`` forces the
    generic loop (a test compares them). Three lanes and whole-row prefetches: ~20% less time than
    two lanes with one line prefetched (ml-latest-small's default svd; see the C++ block above).
    """
    cdef Py_ssize_t n = users.shape[0], nf = pu.shape[1], part = (n + FAST_LANES - 1) // FAST_LANES
    cdef Py_ssize_t t, p, e, f
    cdef int lane
    cdef double sq
    # raw pointers taken once: re-reading them from the memoryviews at every rating cost ~10% (measured)
    cdef const int* us = &users[0]
    cdef const int* it = &items[0]
    cdef const mr_real* rs = &ratings[0]
    cdef mr_real* bup = &bu[0]
    cdef mr_real* bip = &bi[0]
    cdef mr_real* pp = &pu[0, 0]
    cdef mr_real* qp = &qi[0, 0]
    cdef mr_real mu_ = <mr_real>mu, lrb = <mr_real>lr_b, rb = <mr_real>reg_b, lrf = <mr_real>lr_f, rf = <mr_real>reg_f
    with nogil:
        for e in range(sq_out.shape[0]):
            sq = 0.0
            if mr_real is double:  # exact: the order given
                for p in range(n):
                    if p + PREFETCH_AHEAD < n:  # a coming rating's item row is likely outside L2: ask early
                        mr_prefetch(qp + it[p + PREFETCH_AHEAD] * nf)
                    sq += mr_svd_rating(p, us, it, rs, mu_, bup, bip, pp, qp, nf, lrb, rb, lrf, rf, biased)
            else:  # fast: interleaved parts (a loop over lanes whose count is not a constant cost ~20%)
                if registers and n > 0 and mr_svd_fast_registers(
                    us, it, rs, n, mu_, bup, bip, pp, qp, nf, lrb, rb, lrf, rf, biased, &sq_out[e], 1, PREFETCH_AHEAD
                ):
                    continue
                for t in range(part):
                    for lane in range(FAST_LANES):
                        p = lane * part + t
                        if p >= n:
                            continue
                        if p + PREFETCH_AHEAD < n:  # the whole row, a cache line (16 floats) at a time
                            for f in range(0, nf, 16):
                                mr_prefetch(qp + it[p + PREFETCH_AHEAD] * nf + f)
                        sq += mr_svd_rating(p, us, it, rs, mu_, bup, bip, pp, qp, nf, lrb, rb, lrf, rf, biased)
            sq_out[e] = sq


# --- baselines (Koren 2010, §2.1), Surprise's optimize_baselines ----------------------------------


def als_biases(
    const long long[::1] u_ptr, const int[::1] u_items, const double[::1] u_ratings,
    const long long[::1] i_ptr, const int[::1] i_users, const double[::1] i_ratings,
    double mu, double reg_u, double reg_i, int n_epochs, double[::1] bu, double[::1] bi,
):
    """User and item biases by alternating least squares (item step first, as Surprise does), into
    ``bu``/``bi`` (zeros: the first item step starts from b_u = 0)."""
    cdef Py_ssize_t n_users = u_ptr.shape[0] - 1, n_items = i_ptr.shape[0] - 1, u, i, p
    cdef int e
    cdef double dev
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


def sgd_biases(
    const int[::1] users, const int[::1] items, const double[::1] ratings,
    double mu, double reg, double lr, int n_epochs, double[::1] bu, double[::1] bi,
):
    """User and item biases by stochastic gradient descent over the ratings in the given order, updating
    ``bu``/``bi`` in place."""
    cdef Py_ssize_t p
    cdef int e, u, i
    cdef double err
    with nogil:
        for e in range(n_epochs):
            for p in range(users.shape[0]):
                u = users[p]
                i = items[p]
                err = ratings[p] - (mu + bu[u] + bi[i])
                bu[u] += lr * (err - reg * bu[u])
                bi[i] += lr * (err - reg * bi[i])


def nmf_bias_sweep(
    const int[::1] users, const int[::1] items, const double[::1] ratings, const double[::1] dots,
    double mu, double lr_bu, double lr_bi, double reg_bu, double reg_bi,
    double[::1] bu, double[::1] bi, double[::1] est,
):
    """One epoch of biased NMF's bias step, as Surprise's ``NMF(biased=True)``: over the ratings in the
    given order, ``est`` = μ + b_u + b_i + q_i·p_u (``dots``: the epoch's fixed factors) before the step,
    then b_u and b_i take an SGD step on r − est (``bu``/``bi`` in place). The factors' multiplicative
    updates read ``est`` afterwards (the caller's sparse products)."""
    cdef Py_ssize_t p
    cdef int u, i
    cdef double e, err
    with nogil:
        for p in range(users.shape[0]):
            u = users[p]
            i = items[p]
            e = mu + bu[u] + bi[i] + dots[p]
            est[p] = e
            err = ratings[p] - e
            bu[u] += lr_bu * (err - reg_bu * bu[u])
            bi[i] += lr_bi * (err - reg_bi * bi[i])


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


cdef inline void mr_co_rating(double* a, int kind, double ri, double rj) noexcept nogil:
    """Add one co-rating (ri, rj) to a candidate's sums: the count, then Σ (ri − rj)² (msd) or Σ ri·rj,
    Σ ri², Σ rj² (cosine, pearson_baseline; pearson also Σ ri, Σ rj). 32 bytes a candidate keep the sums
    of ~15k items in a 512 KiB L2 cache."""
    cdef double d
    a[0] += 1.0
    if kind == MSD:
        d = ri - rj
        a[1] += d * d
    else:
        a[1] += ri * rj
        a[2] += ri * ri
        a[3] += rj * rj
        if kind == PEARSON:
            a[4] += ri
            a[5] += rj


def top_similarities_chunk(
    const long long[::1] x_ptr, const int[::1] x_idx, const double[::1] x_val,
    const long long[::1] y_ptr, const int[::1] y_idx, const double[::1] y_val,
    int kind, int min_support, double shrinkage,
    int[::1] counts, int[:, ::1] nbrs, float[:, ::1] sims, Py_ssize_t chunk, Py_ssize_t n_chunks,
    double select_support=0.0,
):
    """Rows ``chunk, chunk + n_chunks, …`` of ``accel.top_similarities`` (Surprise's definitions; the kept
    neighbours: best first, ties in traversal order), written into the given arrays. Where a row has more
    candidates than it keeps, ``select_support`` λ > 0 keeps those of largest s·n/(n + λ) (n co-raters)
    instead of largest s; the kept ones are stored by s all the same. Two neighbours share a
    float32 similarity only when their float64 ones are equal: a lower one that rounds up to the one before
    it is stored one float32 step below (:func:`mr_deviation` reads equal float32 values as ties)."""
    cdef Py_ssize_t n_x = x_ptr.shape[0] - 1, m = nbrs.shape[1], x, p, q, t, n_touched, n_cand, keep
    cdef int y, x2, width = 6 if kind == PEARSON else 4
    cdef int support = max(2, min_support) if kind == PEARSON_BASELINE else min_support
    cdef double ri, n, s, den, num
    cdef float f
    cdef double* a
    cdef double* acc = <double*>calloc(max(n_x, 1) * width, sizeof(double))
    cdef int* touched = <int*>malloc((n_x + 1) * sizeof(int))  # +1: written one past the last touched row
    cdef mr_cand* cand = <mr_cand*>malloc(max(n_x, 1) * sizeof(mr_cand))
    cdef bint keyed = select_support > 0
    cdef double* raw = <double*>malloc(max(n_x, 1) * sizeof(double))  # each candidate's s while cand's is the key
    if acc == NULL or touched == NULL or cand == NULL or raw == NULL:
        free(acc); free(touched); free(cand); free(raw)
        raise MemoryError()
    with nogil:
        x = chunk
        while x < n_x:
            n_touched = 0
            for p in range(x_ptr[x], x_ptr[x + 1]):
                y = x_idx[p]
                ri = x_val[p]
                for q in range(y_ptr[y], y_ptr[y + 1]):  # one loop per kind once the compiler unswitches it
                    x2 = y_idx[q]
                    a = acc + <Py_ssize_t>x2 * width
                    touched[n_touched] = x2
                    n_touched += a[0] == 0.0  # "touched" grows without a branch
                    mr_co_rating(a, kind, ri, y_val[q])
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
                    if keyed:
                        raw[x2] = s
                        cand[n_cand].s = s * n / (n + select_support)
                    else:
                        cand[n_cand].s = s
                    cand[n_cand].x = x2
                    cand[n_cand].pos = <int>n_cand
                    n_cand += 1
                memset(a, 0, width * sizeof(double))
            if n_cand > 0:
                keep = min(m, n_cand)
                mr_partition(cand, n_cand, keep)  # the kept: by the key, or by s
                if keyed:
                    for t in range(keep):
                        cand[t].s = raw[cand[t].x]
                mr_sort(cand, keep)  # stored by s
                for t in range(keep):
                    nbrs[x, t] = cand[t].x
                    if t > 0 and cand[t].s == cand[t - 1].s:
                        f = sims[x, t - 1]  # a tie stays a tie
                    else:
                        f = <float>cand[t].s
                        if t > 0 and f >= sims[x, t - 1]:  # a lower similarity that float32 rounds up to the
                            f = nextafterf(sims[x, t - 1], 0.0)  # one before: one step below it, so no false tie
                    sims[x, t] = f
                counts[x] = <int>keep
            x += n_chunks
    free(acc)
    free(touched)
    free(cand)
    free(raw)


cdef long long* mr_new_marker(Py_ssize_t n) except NULL:
    """n positions, all −1 (unmarked): a dense view of one CSR row, filled by :func:`mr_mark`."""
    cdef long long* marker = <long long*>malloc(max(n, 1) * sizeof(long long))
    cdef Py_ssize_t p
    if marker == NULL:
        raise MemoryError()
    for p in range(n):
        marker[p] = -1
    return marker


cdef inline void mr_mark(long long* marker, const long long* ptr, const int* idx, long long row, bint on) noexcept nogil:
    """marker[x] = the position of x in CSR row ``row`` (``on``), or back to −1."""
    cdef long long p
    for p in range(ptr[row], ptr[row + 1]):
        marker[idx[p]] = p if on else -1


cdef struct mr_neighbours:
    const long long* ptr  # each x's neighbours, best first (CSR)
    const int* idx
    const float* sim
    const double* val  # the ratings of the other side's CSR, whose row is marked
    const double* offset  # per neighbour x2: the offset its rating is centred by
    long long* marker
    const int* rank  # per rating in ``val``: when it came in the training data (NULL: ties in list order)
    mr_tie* ties  # room for one list's tied neighbours (NULL when ``rank`` is)


cdef mr_neighbours mr_neighbour_lists(
    const long long[::1] nb_ptr, const int[::1] nb_idx, const float[::1] nb_sim, const double[::1] val,
    const double[::1] offset, const int[::1] rank, long long* marker,
) except *:
    """Raw pointers, taken once (re-reading them from memoryviews inside the loops cost ~10% in the SVD sweeps),
    and the room :func:`mr_deviation` sorts tied neighbours in (freed by :func:`mr_free_lists`). An empty
    ``rank`` breaks ties in list order."""
    cdef mr_neighbours nb
    cdef Py_ssize_t x, longest = 1
    nb.ptr, nb.idx, nb.sim, nb.val, nb.offset, nb.marker = &nb_ptr[0], &nb_idx[0], &nb_sim[0], &val[0], &offset[0], marker
    nb.rank = <const int*>NULL
    nb.ties = <mr_tie*>NULL
    if rank.shape[0] > 0:
        for x in range(nb_ptr.shape[0] - 1):
            longest = max(longest, nb_ptr[x + 1] - nb_ptr[x])
        nb.rank = &rank[0]
        nb.ties = <mr_tie*>malloc(longest * sizeof(mr_tie))
        if nb.ties == NULL:
            free(marker)
            raise MemoryError()
    return nb


cdef void mr_free_lists(mr_neighbours* nb) noexcept nogil:
    free(nb.marker)
    free(nb.ties)


cdef inline bint mr_earliest_tied(
    const mr_neighbours* nb, double offset, long long q0, long long q, long long end, int need, double* out,
) noexcept nogil:
    """Σ s·(r − o[x2] − offset) over the ``need`` rated neighbours of the tie that starts at list position
    ``q0`` (its members share one float32 similarity) whose ratings came first in the training data: the
    ``need`` that Surprise's ``heapq.nlargest`` keeps, its neighbours listed in that order. Members past
    ``q``, where the k-th was found, are read only when one of them was rated too; written to ``out``, and
    False (``out`` untouched) when none was: the first k found stand."""
    cdef const float* sim = nb.sim
    cdef float s = sim[q0]
    cdef long long p, pos, after = q + 1
    cdef Py_ssize_t n = 0
    while after < end and sim[after] == s and nb.marker[nb.idx[after]] < 0:
        after += 1
    if after >= end or sim[after] != s:
        return False
    for p in range(q0, end):
        if sim[p] != s:
            break
        pos = nb.marker[nb.idx[p]]
        if pos >= 0:
            nb.ties[n].rank = nb.rank[pos]
            nb.ties[n].d = nb.val[pos] - nb.offset[nb.idx[p]] - offset
            n += 1
    out[0] = mr_earliest(nb.ties, n, need, s)
    return True


cdef inline int mr_deviation(const mr_neighbours* nb, double offset, long long x, int k, double* dev) noexcept nogil:
    """Σ s·(r − o[x2] − offset) / Σ s over the first ``k`` neighbours x2 of ``x`` (best first) that the
    marked row rated (``marker[x2]``: that rating's position in ``val``), written to ``dev`` only when
    Σ s > 0. Returns how many neighbours counted. Among neighbours of equal similarity at the k-th place,
    those whose ratings came first in the training data (``rank``) count, as Surprise picks them."""
    cdef const int* idx = nb.idx
    cdef const float* sim = nb.sim
    cdef const double* val = nb.val
    cdef const double* off = nb.offset
    cdef const long long* marker = nb.marker
    cdef long long q, pos, q0 = 0, end = nb.ptr[x + 1]
    cdef int found = 0, found0 = 0
    cdef float tie = -1.0  # the similarity of the current run of equal ones (sims are > 0)
    cdef double sum_sim = 0.0, sum_dev = 0.0, s, dev0 = 0.0, tied = 0.0
    for q in range(nb.ptr[x], end):
        pos = marker[idx[q]]
        if pos < 0:
            continue
        if sim[q] != tie:
            tie, q0, found0, dev0 = sim[q], q, found, sum_dev
        s = sim[q]
        sum_sim += s
        sum_dev += s * (val[pos] - off[idx[q]] - offset)
        found += 1
        if found == k:
            if nb.rank != NULL and mr_earliest_tied(nb, offset, q0, q, end, found - found0, &tied):
                sum_dev = dev0 + tied
            break
    if sum_sim > 0:
        dev[0] = sum_dev / sum_sim
    return found


def predict_pairs_chunk(
    const long long[::1] xs, const long long[::1] ys, const long long[::1] order, const long long[::1] starts,
    const long long[::1] nb_ptr, const int[::1] nb_idx, const float[::1] nb_sim,
    const long long[::1] y_ptr, const int[::1] y_idx, const double[::1] y_val, const int[::1] y_rank,
    const double[::1] offset_x, const double[::1] offset_y, int k,
    double[::1] dev, int[::1] actual, Py_ssize_t chunk, Py_ssize_t n_chunks,
):
    """Groups ``chunk, chunk + n_chunks, …`` of ``accel.predict_pairs``: pairs sorted by y
    (``order``), group g = positions ``starts[g]..starts[g+1]``; results written into ``dev``/``actual``.
    Each y's rated x are marked once for its whole group. ``y_rank[p]``: when rating ``p`` came in the
    training data, which breaks ties at the k-th neighbour (empty: list order)."""
    cdef Py_ssize_t n_groups = starts.shape[0] - 1, g, t, pair, y
    cdef mr_neighbours nb = mr_neighbour_lists(
        nb_ptr, nb_idx, nb_sim, y_val, offset_x, y_rank, mr_new_marker(nb_ptr.shape[0] - 1)
    )
    with nogil:
        g = chunk
        while g < n_groups:
            y = ys[order[starts[g]]]
            mr_mark(nb.marker, &y_ptr[0], &y_idx[0], y, True)
            for t in range(starts[g], starts[g + 1]):
                pair = order[t]
                actual[pair] = mr_deviation(&nb, offset_y[y], xs[pair], k, &dev[pair])
            mr_mark(nb.marker, &y_ptr[0], &y_idx[0], y, False)
            g += n_chunks
    mr_free_lists(&nb)


def predict_dense_items_chunk(
    const long long[::1] users, const long long[::1] items,
    const long long[::1] nb_ptr, const int[::1] nb_idx, const float[::1] nb_sim,
    const long long[::1] u_ptr, const int[::1] u_idx, const double[::1] u_val, const int[::1] u_rank,
    const double[::1] offset_item, const double[::1] offset_user, Py_ssize_t n_items, int k,
    double[:, ::1] dev, int[:, ::1] actual, Py_ssize_t chunk, Py_ssize_t n_chunks,
):
    """Rows ``chunk, chunk + n_chunks, …`` of ``accel.predict_dense_items`` (a users × items grid): the
    rule of :func:`predict_pairs_chunk`, each user's rated items marked once for its row."""
    cdef Py_ssize_t r, col, u
    cdef mr_neighbours nb = mr_neighbour_lists(nb_ptr, nb_idx, nb_sim, u_val, offset_item, u_rank, mr_new_marker(n_items))
    with nogil:
        r = chunk
        while r < users.shape[0]:
            u = users[r]
            mr_mark(nb.marker, &u_ptr[0], &u_idx[0], u, True)
            for col in range(items.shape[0]):
                actual[r, col] = mr_deviation(&nb, offset_user[u], items[col], k, &dev[r, col])
            mr_mark(nb.marker, &u_ptr[0], &u_idx[0], u, False)
            r += n_chunks
    mr_free_lists(&nb)


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


cdef inline double mr_log_loss(double x, double* z) noexcept nogil:
    """−ln σ(x), computed without overflow, and z = σ(−x): the size of its gradient."""
    if x > 0:
        z[0] = 1.0 / (1.0 + exp(x))
        return log1p(exp(-x))
    z[0] = 1.0 - 1.0 / (1.0 + exp(-x))
    return log1p(exp(x)) - x


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
    cdef double total, z
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
                total += mr_log_loss(zf, &z)
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


# BPR, WARP, k-OS WARP and the logistic loss share one entry (``hybrid_epoch``) and their steps. What
# differs between a model with identity features only and one with side features (how the current
# user's representation is formed, how an item is scored, how the three rows are updated) sits behind
# the fused type ``mr_side``: Cython compiles each driver once for ``mr_identity`` (a representation IS
# an embedding row: nothing summed or copied, the three updates fused in one pass over the components)
# and once for ``mr_features`` (representations summed over feature rows, ``mr_step`` per feature), with
# no run-time branch between them.

cdef struct mr_weights:
    float* iemb  # items' (or item features') embeddings, d components then the bias: one row each
    float* uemb
    float* iacc  # Adagrad's / Adadelta's accumulators of squared gradients, same layout
    float* uacc
    float* imom  # Adadelta's accumulators of squared steps
    float* umom
    Py_ssize_t width  # d + 1


cdef struct mr_epoch:
    int loss_kind
    const long long* order  # the epoch's shuffled examples; block t takes order[t·chunk:(t+1)·chunk]
    const int* ex_users
    const int* ex_items
    const float* ex_weights
    const long long* pos_indptr  # each user's sorted positive items (CSR)
    const int* pos_indices
    Py_ssize_t n
    Py_ssize_t n_examples
    Py_ssize_t n_items
    Py_ssize_t n_blocks
    int max_sampled
    int kos_k
    int kos_n
    long long* kos_items  # k-OS scratch: kos_n drawn positives and their scores
    double* kos_scores
    unsigned long long* state  # block t's xorshift state at state[8t] (64 bytes apart: no shared cache line)
    double* losses
    bint adadelta
    float lr
    float rho
    float eps
    float item_alpha
    float user_alpha


cdef struct mr_identity:
    mr_weights w
    float* ue  # the current example's user row and positive item row
    float* pe
    float* g_user  # width floats: the user's gradient, taken before any row of the example moves


cdef struct mr_features:
    mr_weights w
    const long long* if_indptr  # items × item features (identity included), CSR with weights
    const int* if_indices
    const float* if_data
    const long long* uf_indptr
    const int* uf_indices
    const float* uf_data
    float* u_repr  # the current user's representation (bias slot 1), the positive's, the negative's
    float* p_repr
    float* n_repr
    float* g_item
    float* g_user  # its bias slot stays 0: the user's bias cancels in s⁺ − s⁻


ctypedef fused mr_side:
    mr_identity
    mr_features


cdef inline void mr_set_user(mr_side* s, long long u) noexcept nogil:
    """Make ``u`` the user that :func:`mr_item_score` scores for."""
    if mr_side is mr_identity:
        s.ue = s.w.uemb + u * s.w.width
    else:
        mr_represent(s.uf_indptr, s.uf_indices, s.uf_data, s.w.uemb, s.w.width, u, s.u_repr)
        s.u_repr[s.w.width - 1] = 1.0  # the user's own bias is the same for every item: u·i + b_i


cdef inline double mr_item_score(mr_side* s, long long item) noexcept nogil:
    """The current user's u·i + b_i (a float32 sum over identity rows, as the numba reference)."""
    cdef Py_ssize_t c, d = s.w.width - 1
    cdef float sc
    cdef const float* ue
    cdef const float* ie
    if mr_side is mr_identity:
        ue = s.ue
        ie = s.w.iemb + item * s.w.width
        sc = ie[d]
        for c in range(d):
            sc = sc + ue[c] * ie[c]
        return sc
    else:
        return mr_score(s.u_repr, s.if_indptr, s.if_indices, s.if_data, s.w.iemb, s.w.width, item)


cdef inline double mr_positive_score(mr_side* s, long long item) noexcept nogil:
    """:func:`mr_item_score` of the example's positive, keeping its row (or representation) for the step."""
    cdef Py_ssize_t c
    cdef double sp = 0.0
    if mr_side is mr_identity:
        s.pe = s.w.iemb + item * s.w.width
        return mr_item_score(s, item)
    else:
        mr_represent(s.if_indptr, s.if_indices, s.if_data, s.w.iemb, s.w.width, item, s.p_repr)
        for c in range(s.w.width):
            sp += s.u_repr[c] * s.p_repr[c]
        return sp


cdef inline long long mr_kos_positive(mr_epoch* e, mr_side* s, unsigned long long* st, long long u) noexcept nogil:
    """k-OS: the k-th best scored of ``kos_n`` of the user's positives drawn with replacement."""
    cdef long long start = e.pos_indptr[u], cnt = e.pos_indptr[u + 1] - start, q
    cdef long long m_pos = e.kos_n if e.kos_n < cnt else cnt
    for q in range(m_pos):
        e.kos_items[q] = e.pos_indices[start + mr_below(st, cnt)]
        e.kos_scores[q] = mr_item_score(s, e.kos_items[q])
    return mr_kth_largest(e.kos_items, e.kos_scores, m_pos, e.kos_k if e.kos_k < m_pos else m_pos)


cdef inline long long mr_bpr_negative(mr_epoch* e, unsigned long long* st, long long u) noexcept nogil:
    """BPR's negative: an item drawn from the interaction log, redrawn while it is one of the user's
    positives; −1 when ``n_examples`` draws found none."""
    cdef Py_ssize_t q, n = e.n_examples
    cdef long long cand
    for q in range(n):
        cand = e.ex_items[mr_below(st, n)]
        if not mr_has(e.pos_indptr, e.pos_indices, u, cand):
            return cand
    return -1


cdef inline long long mr_warp_negative(
    mr_epoch* e, mr_side* s, unsigned long long* st, long long u, double s_pos, float w, double* mult,
    double* total,
) noexcept nogil:
    """WARP's negative: uniform draws until one (not a positive) scores within the margin of the
    positive; ``mult`` = w·log⌊(n−1)/tries⌋ (capped) and its hinge loss added to ``total``; −1 when
    ``max_sampled`` draws found none."""
    cdef long long tries = 0, cand, n_items = e.n_items  # locals: ~10% faster than fields (measured)
    cdef int max_sampled = e.max_sampled
    cdef double s_neg, margin = s_pos - 1.0
    while tries < max_sampled:
        tries += 1
        cand = mr_below(st, n_items)
        s_neg = mr_item_score(s, cand)
        if s_neg > margin:
            if mr_has(e.pos_indptr, e.pos_indices, u, cand):
                continue
            mult[0] = min(w * log(max(1.0, floor(<double>(n_items - 1) / tries))), MAX_WARP_LOSS)
            total[0] += mult[0] * (1.0 - s_pos + s_neg)
            return cand
    return -1


cdef inline void mr_pairwise_step(mr_epoch* e, mr_side* s, long long u, long long i, long long j, float m) noexcept nogil:
    """The steps of −m·(s⁺ − s⁻) (+ L2) on the positive item, the negative item and the user, each
    gradient from this example's starting values."""
    cdef Py_ssize_t c, width = s.w.width, d = width - 1
    cdef float lr = e.lr, rho = e.rho, eps = e.eps, item_alpha = e.item_alpha, user_alpha = e.user_alpha, g
    cdef float* ue
    cdef float* pe
    cdef float* ne
    cdef float* pa
    cdef float* na
    cdef float* ua
    cdef float* pm
    cdef float* nm
    cdef float* um
    cdef float* g_user = s.g_user
    if mr_side is mr_identity:
        ue = s.ue
        pe = s.pe
        ne = s.w.iemb + j * width
        pa = s.w.iacc + i * width
        na = s.w.iacc + j * width
        ua = s.w.uacc + u * width
        for c in range(d):  # the user's gradient first: it needs both items before their update
            g_user[c] = m * (ne[c] - pe[c]) + user_alpha * ue[c]
        g_user[d] = user_alpha * ue[d]  # the user's bias: only its L2 term (it cancels in s⁺ − s⁻)
        if e.adadelta:
            pm = s.w.imom + i * width
            nm = s.w.imom + j * width
            um = s.w.umom + u * width
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
    else:
        mr_represent(s.if_indptr, s.if_indices, s.if_data, s.w.iemb, width, j, s.n_repr)
        for c in range(width):
            s.g_item[c] = -m * s.u_repr[c]
        for c in range(d):
            g_user[c] = m * (s.n_repr[c] - s.p_repr[c])
        mr_step(s.if_indptr, s.if_indices, s.if_data, i, s.w.iemb, s.w.iacc, s.w.imom, s.g_item, width,
                e.adadelta, lr, rho, eps, item_alpha)
        for c in range(width):
            s.g_item[c] = -s.g_item[c]
        mr_step(s.if_indptr, s.if_indices, s.if_data, j, s.w.iemb, s.w.iacc, s.w.imom, s.g_item, width,
                e.adadelta, lr, rho, eps, item_alpha)
        mr_step(s.uf_indptr, s.uf_indices, s.uf_data, u, s.w.uemb, s.w.uacc, s.w.umom, g_user, width,
                e.adadelta, lr, rho, eps, user_alpha)


cdef inline double mr_pairwise_example(mr_epoch* e, mr_side* s, unsigned long long* st, long long row) noexcept nogil:
    """Example ``row``'s step of BPR (``loss_kind`` 0), WARP (1) or k-OS WARP (3); returns its loss.

    BPR: w·log(1 + e^−(s⁺−s⁻)) with one negative from the interaction log; WARP: w·log⌊(n−1)/tries⌋·
    (1 − s⁺ + s⁻) for the first violating uniform negative, nothing when none is found; k-OS WARP: the
    WARP step on the k-th best of ``kos_n`` drawn positives."""
    cdef long long u = e.ex_users[row], i = e.ex_items[row], j
    cdef float w = e.ex_weights[row]
    cdef double loss = 0.0, mult, s_pos, x, z
    mr_set_user(s, u)
    if e.loss_kind == 3:
        i = mr_kos_positive(e, s, st, u)
    s_pos = mr_positive_score(s, i)
    if e.loss_kind == 0:
        j = mr_bpr_negative(e, st, u)
        if j < 0:
            return 0.0
        x = s_pos - mr_item_score(s, j)
        if mr_side is mr_identity:
            x = <float>x  # identity scores are float32 sums, and so is their difference
        loss = w * mr_log_loss(x, &z)
        mult = w * z
    else:
        j = mr_warp_negative(e, s, st, u, s_pos, w, &mult, &loss)
        if j < 0:
            return 0.0
    mr_pairwise_step(e, s, u, i, j, <float>mult)
    return loss


cdef inline double mr_logistic_example(mr_epoch* e, mr_features* s, long long row) noexcept nogil:
    """Example ``row``'s step of LightFM's pointwise loss: every interaction a positive, loss
    w·−log σ(s) with s = u·i + b_u + b_i, gradient w·(σ(s) − 1) on both representations and both
    biases (the user's bias does not cancel here). Returns its loss."""
    cdef long long u = e.ex_users[row], i = e.ex_items[row]
    cdef float w = e.ex_weights[row], m, sc
    cdef Py_ssize_t width = s.w.width, d = width - 1, c
    cdef double loss, z
    cdef float* u_repr = s.u_repr
    cdef float* i_repr = s.p_repr
    mr_represent(s.uf_indptr, s.uf_indices, s.uf_data, s.w.uemb, width, u, u_repr)
    mr_represent(s.if_indptr, s.if_indices, s.if_data, s.w.iemb, width, i, i_repr)
    sc = u_repr[d] + i_repr[d]
    for c in range(d):
        sc = sc + u_repr[c] * i_repr[c]
    loss = w * mr_log_loss(sc, &z)
    m = <float>(-w * z)  # w·(σ(s) − 1), with σ(s) − 1 = −σ(−s)
    for c in range(d):
        s.g_item[c] = m * u_repr[c]
        s.g_user[c] = m * i_repr[c]
    s.g_item[d] = m
    s.g_user[d] = m
    mr_step(s.if_indptr, s.if_indices, s.if_data, i, s.w.iemb, s.w.iacc, s.w.imom, s.g_item, width,
            e.adadelta, e.lr, e.rho, e.eps, e.item_alpha)
    mr_step(s.uf_indptr, s.uf_indices, s.uf_data, u, s.w.uemb, s.w.uacc, s.w.umom, s.g_user, width,
            e.adadelta, e.lr, e.rho, e.eps, e.user_alpha)
    return loss


cdef void mr_epoch_blocks(mr_epoch* e, mr_side* s, Py_ssize_t first, Py_ssize_t last) noexcept nogil:
    """Blocks ``first..last-1``: block t takes ``order[t·chunk:(t+1)·chunk]``, draws from its own
    xorshift state ``state[8t]`` and writes its summed loss to ``losses[t]``."""
    cdef Py_ssize_t chunk = (e.n + e.n_blocks - 1) // e.n_blocks, t, k
    cdef unsigned long long* st
    cdef double total
    for t in range(first, last):
        st = &e.state[8 * t]
        total = 0.0
        for k in range(t * chunk, min(e.n, (t + 1) * chunk)):
            if mr_side is mr_features:
                if e.loss_kind == 2:
                    total += mr_logistic_example(e, s, e.order[k])
                    continue
            total += mr_pairwise_example(e, s, st, e.order[k])
        e.losses[t] = total


def hybrid_epoch(
    int loss_kind, const long long[::1] order, const int[::1] ex_users, const int[::1] ex_items,
    const float[::1] ex_weights, const long long[::1] pos_indptr, const int[::1] pos_indices,
    const long long[::1] if_indptr, const int[::1] if_indices, const float[::1] if_data,
    const long long[::1] uf_indptr, const int[::1] uf_indices, const float[::1] uf_data,
    float[:, ::1] item_emb, float[:, ::1] user_emb, float[:, ::1] item_acc, float[:, ::1] user_acc,
    float[:, ::1] item_mom, float[:, ::1] user_mom, bint adadelta, float lr, float rho, float eps,
    float item_alpha, float user_alpha, int max_sampled, int kos_k, int kos_n,
    unsigned long long[::1] state, double[::1] losses, Py_ssize_t first, Py_ssize_t last,
):
    """Blocks ``first..last-1`` of one epoch of BPR (``loss_kind`` 0), WARP (1), logistic (2) or k-OS
    WARP (3, with ``kos_k``/``kos_n``) over ``order``, chunk = ⌈len(order) / len(losses)⌉ examples a
    block, block t's summed loss in ``losses[t]``.

    The six feature-row arrays (items' and users' CSR: indptr, indices, weights) are ``None`` when every
    user and item has only its identity feature (pairwise losses only). ``item_emb``/``user_emb`` are
    rows × (d + 1) float32 whose last column is the bias (one cache line per sampled negative);
    ``*_acc``/``*_mom`` the matching Adagrad/Adadelta state. User biases get no gradient from the
    pairwise losses (they cancel in every difference)."""
    cdef bint identity = if_indptr is None
    cdef Py_ssize_t width = item_emb.shape[1]
    cdef int kn = kos_n if kos_n > 1 else 1
    cdef mr_epoch e
    cdef mr_identity ident
    cdef mr_features feats
    cdef mr_weights* w
    if identity and loss_kind == 2:
        raise ValueError("the logistic epoch takes feature rows (identity features included)")
    cdef float* buf = <float*>calloc(5 * width, sizeof(float))
    cdef long long* kos_items = <long long*>malloc(kn * sizeof(long long))
    cdef double* kos_scores = <double*>malloc(kn * sizeof(double))
    if buf == NULL or kos_items == NULL or kos_scores == NULL:
        free(buf); free(kos_items); free(kos_scores)
        raise MemoryError()
    e.loss_kind = loss_kind
    e.order = &order[0]
    e.ex_users = &ex_users[0]
    e.ex_items = &ex_items[0]
    e.ex_weights = &ex_weights[0]
    e.pos_indptr = &pos_indptr[0]
    e.pos_indices = &pos_indices[0]
    e.n = order.shape[0]
    e.n_examples = ex_items.shape[0]
    e.n_items = item_emb.shape[0] if identity else if_indptr.shape[0] - 1
    e.n_blocks = losses.shape[0]
    e.max_sampled, e.kos_k, e.kos_n = max_sampled, kos_k, kos_n
    e.kos_items, e.kos_scores = kos_items, kos_scores
    e.state = &state[0]
    e.losses = &losses[0]
    e.adadelta, e.lr, e.rho, e.eps = adadelta, lr, rho, eps
    e.item_alpha, e.user_alpha = item_alpha, user_alpha
    w = &ident.w if identity else &feats.w
    w.iemb, w.uemb = &item_emb[0, 0], &user_emb[0, 0]
    w.iacc, w.uacc = &item_acc[0, 0], &user_acc[0, 0]
    w.imom, w.umom = &item_mom[0, 0], &user_mom[0, 0]
    w.width = width
    if identity:
        ident.g_user = buf
        with nogil:
            mr_epoch_blocks(&e, &ident, first, last)
    else:
        feats.if_indptr, feats.if_indices, feats.if_data = &if_indptr[0], &if_indices[0], &if_data[0]
        feats.uf_indptr, feats.uf_indices, feats.uf_data = &uf_indptr[0], &uf_indices[0], &uf_data[0]
        feats.u_repr, feats.p_repr, feats.n_repr = buf, buf + width, buf + 2 * width
        feats.g_item, feats.g_user = buf + 3 * width, buf + 4 * width
        with nogil:
            mr_epoch_blocks(&e, &feats, first, last)
    free(buf); free(kos_items); free(kos_scores)


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


cdef inline void mr_symv(const double* gram, const double* v, double* out, Py_ssize_t d) noexcept nogil:
    """out = G·v for a d × d row-major G."""
    cdef Py_ssize_t a, b
    cdef double acc
    cdef const double* g
    for a in range(d):
        acc = 0.0  # a local accumulator: out could alias gram, so += on out[a] would not vectorise
        g = gram + a * d
        for b in range(d):
            acc = acc + g[b] * v[b]
        out[a] = acc


cdef inline double mr_hdot(const float* h, const double* v, Py_ssize_t d) noexcept nogil:
    """h·v for a float32 row h of the fixed side."""
    cdef double s = 0.0
    cdef Py_ssize_t a
    for a in range(d):
        s += h[a] * v[a]
    return s


cdef inline void mr_haxpy(double coef, const float* h, double* out, Py_ssize_t d) noexcept nogil:
    """out += coef·h."""
    cdef Py_ssize_t a
    for a in range(d):
        out[a] += coef * h[a]


def ials_rows_chunk(
    const long long[::1] indptr, const int[::1] indices, const float[:, ::1] fixed, float[:, ::1] solve,
    const double[:, ::1] gram, double alpha0, const double[::1] reg, int cg_steps, double[::1] losses,
    Py_ssize_t chunk, Py_ssize_t n_chunks,
):
    """Rows ``chunk, chunk + n_chunks, …`` of one iALS half-step (``accel.ials_half_step``): each row's system
    (Σ h hᵀ + α₀G + λ_u I) w = Σ h by ``cg_steps`` CG iterations from its current value, in float64;
    ``losses[u]``: the row's data loss before its update."""
    cdef Py_ssize_t n = solve.shape[0], d = solve.shape[1], u, a, step_i
    cdef long long p
    cdef double loss, pred, rs_old, rs_new, step, pap, lam
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
            mr_symv(&gram[0, 0], x, gx, d)
            loss = 0.0
            for a in range(d):
                r[a] = -alpha0 * gx[a] - lam * x[a]
                loss += x[a] * gx[a]
            loss *= alpha0
            for p in range(indptr[u], indptr[u + 1]):
                h = &fixed[indices[p], 0]
                pred = mr_hdot(h, x, d)
                mr_haxpy(1.0 - pred, h, r, d)
                loss += (pred - 1.0) * (pred - 1.0)
            losses[u] = loss
            rs_old = 0.0
            for a in range(d):
                pv[a] = r[a]
                rs_old += r[a] * r[a]
            for step_i in range(cg_steps):
                if rs_old < 1e-20:
                    break
                mr_symv(&gram[0, 0], pv, ap, d)
                for a in range(d):
                    ap[a] = alpha0 * ap[a] + lam * pv[a]
                for p in range(indptr[u], indptr[u + 1]):
                    h = &fixed[indices[p], 0]
                    mr_haxpy(mr_hdot(h, pv, d), h, ap, d)
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


# --- numpy's legacy normal draws (RandomState.normal), for Surprise's factor initialisation --------


cdef extern from * nogil:
    """
    #include <cmath>
    #include <cstdint>
    /* numpy's legacy_gauss, compiled as numpy is: no FMA contraction, no reassociation (this file's
       flags allow both), so the draws are numpy's to the bit. */
    #pragma GCC push_options
    #pragma GCC optimize ("fp-contract=off", "no-associative-math")
    static long long mr_polar_fill(const double* u, long long m, double* out, long long n, long long k,
                                 double mean, double std, long long* used) {
        long long p = 0;
        while (k < n && p + 1 < m) {
            double x1 = 2.0 * u[p] - 1.0;
            double x2 = 2.0 * u[p + 1] - 1.0;
            p += 2;
            double r2 = x1 * x1 + x2 * x2;
            if (r2 >= 1.0 || r2 == 0.0) continue;
            double f = std::sqrt(-2.0 * std::log(r2) / r2);
            out[k++] = mean + std * (f * x2);
            if (k < n) out[k++] = mean + std * (f * x1);
        }
        *used = p;
        return k;
    }
    #pragma GCC pop_options
    """
    long long mr_polar_fill(const double* u, long long m, double* out, long long n, long long k,
                            double mean, double std, long long* used)


def legacy_gauss_fill(const double[::1] uniforms, double[::1] out, Py_ssize_t start, double mean, double std):
    """Fill ``out[start:]`` with ``mean + std * g`` for the gaussians ``g`` that ``RandomState.normal``
    makes from this stream of ``random_sample`` uniforms; returns ``(filled_to, uniforms_used)``.

    numpy's ``legacy_gauss`` (Marsaglia's polar method): draw ``x1 = 2u - 1, x2 = 2u - 1`` until
    ``0 < r² = x1² + x2² < 1``, then ``f = sqrt(-2 ln r² / r²)``; it returns ``f·x2`` and keeps ``f·x1``
    for the next call. Both generators read the same ``next_double`` of MT19937, so a fresh
    ``RandomState(seed)``'s ``random_sample`` stream turned into gaussians here gives its ``normal``
    draws bit for bit at about half the cost: one pass, no call per value.
    Stops when ``out`` is full or fewer than two uniforms are left (the caller draws more).
    """
    cdef long long used = 0, k = start
    if uniforms.shape[0] > 0 and out.shape[0] > start:
        with nogil:
            k = mr_polar_fill(&uniforms[0], uniforms.shape[0], &out[0], out.shape[0], start, mean, std, &used)
    return k, used


# --- top-k selection (every ranked list: evaluation, recommend, the artifact) -------------------------

from libc.math cimport INFINITY, fabs


def topk_rows(const mr_real[:, ::1] scores, Py_ssize_t k, int[:, ::1] out_idx, float[:, ::1] out_vals):
    """The ``k`` largest scores of each row, best first, into ``out_idx``/``out_vals`` (``k`` ≥ 1 columns).

    One pass over the row keeping a sorted buffer of the best ``k`` so far: an item enters only when it
    beats the buffer's last entry, so equal scores keep the lower item index, at the ``k``-th place too
    (a fully determined order: score descending, then index ascending). ``-inf`` and NaN never enter;
    a row with fewer than ``k`` such scores is padded with index -1 and score ``-inf``. Replaces
    ``np.argpartition`` + sort, which took ~60 ms of a ~105 ms full-ranking evaluation of
    ml-latest-small (610 × 9,724 scores) and left ties at the ``k``-th place to chance.
    """
    cdef Py_ssize_t n = scores.shape[0], m = scores.shape[1], r, j, q, filled
    cdef const mr_real* row
    cdef mr_real v
    cdef mr_real* buf = <mr_real*> malloc(k * sizeof(mr_real))
    cdef int* ibuf = <int*> malloc(k * sizeof(int))
    if buf == NULL or ibuf == NULL:
        free(buf)
        free(ibuf)
        raise MemoryError()
    with nogil:
        for r in range(n):
            row = &scores[r, 0]
            filled = 0
            for j in range(m):
                v = row[j]
                if filled == k:
                    if not (v > buf[k - 1]):
                        continue
                    q = k - 1
                else:
                    if not (v > -INFINITY):  # -inf and NaN
                        continue
                    q = filled
                    filled += 1
                while q > 0 and buf[q - 1] < v:
                    buf[q] = buf[q - 1]
                    ibuf[q] = ibuf[q - 1]
                    q -= 1
                buf[q] = v
                ibuf[q] = <int>j
            for q in range(filled):
                out_idx[r, q] = ibuf[q]
                out_vals[r, q] = <float>buf[q]
            for q in range(filled, k):
                out_idx[r, q] = -1
                out_vals[r, q] = -INFINITY
    free(buf)
    free(ibuf)


# --- SLIM: one non-negative elastic net per target item, coordinate descent on X's columns ---------------


cdef extern from * nogil:
    """
    #include <algorithm>
    /* The ``cap`` largest positive weights of w[0..n) into rows/values (largest first; all of them, in index
       order, when there are no more than ``cap``), ``buf`` n scratch indices; returns how many. */
    static int mr_slim_keep(const double* w, long long n, int cap, int* rows, float* values, long long* buf) {
        long long m = 0;
        for (long long k = 0; k < n; ++k)
            if (w[k] > 0.0) buf[m++] = k;
        if (m > cap) {
            std::partial_sort(buf, buf + cap, buf + m, [w](long long a, long long b) {
                return w[a] > w[b] || (w[a] == w[b] && a < b);
            });
            m = cap;
        }
        for (long long t = 0; t < m; ++t) {
            rows[t] = (int)buf[t];
            values[t] = (float)w[buf[t]];
        }
        return (int)m;
    }
    """
    int mr_slim_keep(const double* w, long long n, int cap, int* rows, float* values, long long* buf)


def slim_targets_chunk(
    const long long[::1] indptr, const int[::1] indices, const double[::1] data, const double[::1] norms,
    Py_ssize_t n_users, double l1, double l2, int max_iter, double tol, int[:, ::1] rows, float[:, ::1] values,
    int[::1] sweeps, Py_ssize_t chunk, Py_ssize_t n_chunks,
):
    """Targets ``chunk, chunk + n_chunks, …`` of SLIM (``accel.slim_columns``): for target j, cyclic coordinate
    descent with naive updates on min_{w ≥ 0, w_j = 0} ½‖x_j − Xw‖² + l1·Σw + ½·l2·‖w‖², X given as CSC
    arrays and ``norms`` its columns' squared norms; the residual x_j − Xw lives in user space. Stops a
    target when a sweep's largest change is at most ``tol`` times its largest weight (or after ``max_iter``
    sweeps); ``rows[j]``/``values[j]`` get its ``rows.shape[1]`` largest weights (rows pre-filled with −1)."""
    cdef Py_ssize_t n = norms.shape[0], j, k, it
    cdef long long p, lo, hi
    cdef int cap = rows.shape[1], done
    cdef double grad, old, num, nw, delta, max_delta, max_w
    cdef double* w = <double*>malloc(max(n, 1) * sizeof(double))
    cdef double* r = <double*>malloc(max(n_users, 1) * sizeof(double))
    cdef long long* buf = <long long*>malloc(max(n, 1) * sizeof(long long))
    if w == NULL or r == NULL or buf == NULL:
        free(w)
        free(r)
        free(buf)
        raise MemoryError()
    with nogil:
        j = chunk
        while j < n:
            memset(w, 0, n * sizeof(double))
            memset(r, 0, n_users * sizeof(double))
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
                    nw = num / (norms[k] + l2) if num > 0.0 else 0.0
                    delta = nw - old
                    if delta != 0.0:
                        w[k] = nw
                        for p in range(lo, hi):
                            r[indices[p]] -= delta * data[p]
                        if fabs(delta) > max_delta:
                            max_delta = fabs(delta)
                    if nw > max_w:
                        max_w = nw
                done = <int>it + 1
                if max_w == 0.0 or max_delta <= tol * max_w:
                    break
            sweeps[j] = done
            mr_slim_keep(w, n, cap, &rows[j, 0], &values[j, 0], buf)
            j += n_chunks
    free(w)
    free(r)
    free(buf)
