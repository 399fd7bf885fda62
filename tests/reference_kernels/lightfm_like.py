"""Reference (numba) of ``_native``'s pairwise/logistic epochs: SGD for LightFM's hybrid factorisation model with its four losses.

The model (Kula 2015): a user's (item's) representation is the weighted sum of the embeddings of
its features plus the sum of their biases; the score is the dot product of the two plus both
biases. Losses: BPR (Rendle et al. 2009) with one negative per positive, sampled from the
interaction log and rejected when it is a positive; WARP (Weston, Bengio & Usunier 2011) samples
uniform negatives until one violates the margin, then weights the update by log⌊(n−1)/tries⌋; k-OS WARP (Weston, Yee & Weiss 2013) draws ``n``
of the user's positives, takes the k-th highest scored as the positive and runs the WARP step;
logistic (LightFM's pointwise loss) fits σ(u·i + b_u + b_i) to 1 for every interaction.
Step sizes follow Adagrad (Duchi et al. 2011; accumulators start at 1) or Adadelta (Zeiler 2012).

An epoch's shuffled examples are split into contiguous blocks, each with its own random stream,
processed in parallel without locks (Hogwild, Recht et al. 2011), like LightFM's OpenMP loop;
one block gives a deterministic serial epoch. :func:`run_blocks` hands the blocks one at a time
to Python threads that call the ``nogil`` kernels. Unlike an OpenMP/numba parallel region, the
epoch ends as soon as every block is done: it never waits at a barrier for a thread that the
OS has not scheduled yet, which on a loaded machine cost more than the work itself (measured
here at load 5 on 2 cores: 64 ms per 2-thread epoch through numba's OpenMP layer vs 10 ms for
one thread). Component loops are the
innermost loops over contiguous float32 rows, so LLVM vectorises them (LightFM's layout iterates
features inside components and cannot).
"""

from __future__ import annotations

import numpy as np
from numba import njit

BPR = 0
WARP = 1
LOGISTIC = 2
WARP_KOS = 3
MAX_WARP_LOSS = 10.0


@njit(cache=True, nogil=True, inline="always")
def _rand(state: np.ndarray, t: int) -> np.uint64:
    """xorshift64* step on ``state[t]`` (one stream per thread block); returns the high 31 bits.

    The low bits of xorshift64* are weak (measured here: reducing them with ``% n_items`` cost
    WARP 0.005 P@10 on ml-latest-small), so only the high bits are used."""
    x = state[t]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[t] = x
    return (x * np.uint64(2685821657736338717)) >> np.uint64(33)


@njit(cache=True, nogil=True, inline="always")
def _below(state: np.ndarray, t: int, n: int) -> np.int64:
    """A uniform integer in [0, n) by multiply-shift (Lemire 2019), avoiding a 64-bit division."""
    return np.int64((_rand(state, t) * np.uint64(n)) >> np.uint64(31))


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


@njit(cache=True, nogil=True, inline="always")
def _kth_largest(items, scores, m, k):  # type: ignore[no-untyped-def]
    """The item with the k-th largest score among the first ``m`` (k ≤ m), by partial selection sort."""
    for r in range(k):
        best = r
        for q in range(r + 1, m):
            if scores[q] > scores[best]:
                best = q
        scores[r], scores[best] = scores[best], scores[r]
        items[r], items[best] = items[best], items[r]
    return items[k - 1]


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy", inline="always")
def _represent(indptr, indices, data, emb, row, out):  # type: ignore[no-untyped-def]
    """out = Σ w_f · emb[f] over the features f of ``row`` (the last column is the bias)."""
    width = emb.shape[1]
    for c in range(width):
        out[c] = 0.0
    for p in range(indptr[row], indptr[row + 1]):
        w = data[p]
        e = emb[indices[p]]
        for c in range(width):
            out[c] += w * e[c]


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy", inline="always")
def _score(user, indptr, indices, data, emb, row):  # type: ignore[no-untyped-def]
    """user · item straight from the item's feature rows (no copy); ``user``'s bias slot holds 1,
    so the item bias is included and the user's own bias is not."""
    width = emb.shape[1]
    s = 0.0
    for p in range(indptr[row], indptr[row + 1]):
        e = emb[indices[p]]
        acc = 0.0
        for c in range(width):
            acc += user[c] * e[c]
        s += data[p] * acc
    return s


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy", inline="always")
def _step(indptr, indices, data, row, emb, acc_g, mom, grad, adadelta, lr, rho, eps, alpha):  # type: ignore[no-untyped-def]
    """Apply ``grad`` (components, then the bias in the last slot) to every feature of ``row``."""
    width = emb.shape[1]
    for p in range(indptr[row], indptr[row + 1]):
        f = indices[p]
        w = data[p]
        e = emb[f]
        a = acc_g[f]
        if adadelta:
            m = mom[f]
            for c in range(width):
                g = w * grad[c] + alpha * e[c]
                a[c] = rho * a[c] + (1 - rho) * g * g
                step = np.sqrt(m[c] + eps) / np.sqrt(a[c] + eps) * g
                m[c] = rho * m[c] + (1 - rho) * step * step
                e[c] -= step
        else:
            for c in range(width):
                g = w * grad[c] + alpha * e[c]
                e[c] -= lr / np.sqrt(a[c]) * g
                a[c] += g * g


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def pairwise_epoch(  # type: ignore[no-untyped-def]
    loss_kind,
    order,
    ex_users,
    ex_items,
    ex_weights,
    pos_indptr,
    pos_indices,
    if_indptr,
    if_indices,
    if_data,
    uf_indptr,
    uf_indices,
    uf_data,
    item_emb,
    user_emb,
    item_acc,
    user_acc,
    item_mom,
    user_mom,
    adadelta,
    lr,
    rho,
    eps,
    item_alpha,
    user_alpha,
    max_sampled,
    kos_k,
    kos_n,
    state,
    losses,
    first,
    last,
):
    """Blocks ``first..last-1`` of one epoch of BPR (``loss_kind=0``), WARP (``1``) or k-OS WARP
    (``3``, with ``kos_k``/``kos_n``) over ``order``.

    Block t covers ``order[t·chunk:(t+1)·chunk]`` with chunk = ⌈n / len(losses)⌉, draws from its
    own xorshift state ``state[8t]`` (64 bytes apart, so threads never share a cache line) and
    writes its summed loss to ``losses[t]``; :func:`run_blocks` hands blocks to threads.

    ``item_emb``/``user_emb`` are feature × (d + 1) float32 arrays whose last column is the bias,
    so one contiguous row holds everything a feature contributes (one cache miss per sampled
    negative instead of two); ``*_acc``/``*_mom`` are the matching Adagrad/Adadelta state.
    BPR loss per example: w·log(1 + e^−(s⁺−s⁻)); WARP: w·log⌊(n−1)/tries⌋·(1 − s⁺ + s⁻) for a
    violating negative, 0 when none is found in ``max_sampled`` tries. User biases get no
    gradient (they cancel in every pairwise difference).
    """
    n_blocks = losses.shape[0]
    n = order.shape[0]
    n_items = len(if_indptr) - 1
    n_examples = ex_items.shape[0]
    width = item_emb.shape[1]
    d = width - 1
    chunk = (n + n_blocks - 1) // n_blocks
    for t in range(first, last):
        u_repr = np.empty(width, dtype=np.float32)
        p_repr = np.empty(width, dtype=np.float32)
        n_repr = np.empty(width, dtype=np.float32)
        g_item = np.empty(width, dtype=np.float32)
        g_user = np.zeros(width, dtype=np.float32)
        kos_items = np.empty(max(kos_n, 1), dtype=np.int64)
        kos_scores = np.empty(max(kos_n, 1), dtype=np.float64)
        total = 0.0
        for k in range(t * chunk, min(n, (t + 1) * chunk)):
            row = order[k]
            u = ex_users[row]
            i = ex_items[row]
            w = ex_weights[row]
            _represent(uf_indptr, uf_indices, uf_data, user_emb, u, u_repr)
            u_repr[d] = 1.0  # the user's bias is constant across items: score items with u·i + b_i
            if loss_kind == 3:  # k-OS: the k-th best scored of n positives drawn with replacement
                start = pos_indptr[u]
                cnt = pos_indptr[u + 1] - start
                m_pos = min(kos_n, cnt)
                for q in range(m_pos):
                    kos_items[q] = pos_indices[start + _below(state, 8 * t, cnt)]
                    kos_scores[q] = _score(u_repr, if_indptr, if_indices, if_data, item_emb, kos_items[q])
                i = _kth_largest(kos_items, kos_scores, m_pos, min(kos_k, m_pos))
            _represent(if_indptr, if_indices, if_data, item_emb, i, p_repr)
            s_pos = 0.0
            for c in range(width):
                s_pos += u_repr[c] * p_repr[c]
            j = -1
            mult = 0.0
            if loss_kind == 0:
                for _ in range(n_examples):
                    cand = ex_items[_below(state, 8 * t, n_examples)]
                    if not _is_positive(pos_indptr, pos_indices, u, np.int64(cand)):
                        j = cand
                        break
                if j < 0:
                    continue
                x = s_pos - _score(u_repr, if_indptr, if_indices, if_data, item_emb, j)
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
                    cand = _below(state, 8 * t, n_items)
                    s_neg = _score(u_repr, if_indptr, if_indices, if_data, item_emb, cand)
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
            _represent(if_indptr, if_indices, if_data, item_emb, j, n_repr)
            m = np.float32(mult)  # a float32 name keeps the component loops in float32
            # gradients of the pairwise loss  −mult·(s⁺ − s⁻); the bias slot of u_repr is 1
            for c in range(width):
                g_item[c] = -m * u_repr[c]
            for c in range(d):
                g_user[c] = m * (n_repr[c] - p_repr[c])
            _step(
                if_indptr,
                if_indices,
                if_data,
                i,
                item_emb,
                item_acc,
                item_mom,
                g_item,
                adadelta,
                lr,
                rho,
                eps,
                item_alpha,
            )
            for c in range(width):
                g_item[c] = -g_item[c]
            _step(
                if_indptr,
                if_indices,
                if_data,
                j,
                item_emb,
                item_acc,
                item_mom,
                g_item,
                adadelta,
                lr,
                rho,
                eps,
                item_alpha,
            )
            _step(
                uf_indptr,
                uf_indices,
                uf_data,
                u,
                user_emb,
                user_acc,
                user_mom,
                g_user,
                adadelta,
                lr,
                rho,
                eps,
                user_alpha,
            )
        losses[t] = total


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy", inline="always")
def _adagrad(e, a, c, g, lr):  # type: ignore[no-untyped-def]
    """One Adagrad step on component ``c`` of row ``e`` with accumulator row ``a``."""
    e[c] -= lr / np.sqrt(a[c]) * g
    a[c] += g * g


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy", inline="always")
def _adadelta(e, a, m, c, g, rho, eps):  # type: ignore[no-untyped-def]
    """One Adadelta step on component ``c`` (``a``: squared gradients, ``m``: squared steps)."""
    a[c] = rho * a[c] + (1 - rho) * g * g
    step = np.sqrt(m[c] + eps) / np.sqrt(a[c] + eps) * g
    m[c] = rho * m[c] + (1 - rho) * step * step
    e[c] -= step


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def pairwise_epoch_identity(  # type: ignore[no-untyped-def]
    loss_kind,
    order,
    ex_users,
    ex_items,
    ex_weights,
    pos_indptr,
    pos_indices,
    item_emb,
    user_emb,
    item_acc,
    user_acc,
    item_mom,
    user_mom,
    adadelta,
    lr,
    rho,
    eps,
    item_alpha,
    user_alpha,
    max_sampled,
    kos_k,
    kos_n,
    state,
    losses,
    first,
    last,
):
    """:func:`pairwise_epoch` when every user and item has only its identity feature (weight 1).

    The common case: a representation *is* the embedding row, so nothing is summed or copied,
    and the three updates (positive item, negative item, user) run in one fused loop over the
    components that reads each row once. Same sampling, losses and steps as the general kernel:
    each gradient uses the other rows' values from before this example's update.
    """
    n_blocks = losses.shape[0]
    n = order.shape[0]
    n_items = item_emb.shape[0]
    n_examples = ex_items.shape[0]
    d = item_emb.shape[1] - 1
    chunk = (n + n_blocks - 1) // n_blocks
    for t in range(first, last):
        g_user = np.empty(d + 1, dtype=np.float32)
        kos_items = np.empty(max(kos_n, 1), dtype=np.int64)
        kos_scores = np.empty(max(kos_n, 1), dtype=np.float64)
        total = 0.0
        for k in range(t * chunk, min(n, (t + 1) * chunk)):
            row = order[k]
            u = ex_users[row]
            i = ex_items[row]
            w = ex_weights[row]
            ue = user_emb[u]
            if loss_kind == 3:  # k-OS: the k-th best scored of n positives drawn with replacement
                start = pos_indptr[u]
                cnt = pos_indptr[u + 1] - start
                m_pos = min(kos_n, cnt)
                for q in range(m_pos):
                    it = pos_indices[start + _below(state, 8 * t, cnt)]
                    ie = item_emb[it]
                    sc = ie[d]
                    for c in range(d):
                        sc += ue[c] * ie[c]
                    kos_items[q] = it
                    kos_scores[q] = sc
                i = _kth_largest(kos_items, kos_scores, m_pos, min(kos_k, m_pos))
            pe = item_emb[i]
            s_pos = pe[d]
            for c in range(d):
                s_pos += ue[c] * pe[c]
            j = -1
            mult = 0.0
            if loss_kind == 0:
                for _ in range(n_examples):
                    cand = ex_items[_below(state, 8 * t, n_examples)]
                    if not _is_positive(pos_indptr, pos_indices, u, np.int64(cand)):
                        j = cand
                        break
                if j < 0:
                    continue
                ne = item_emb[j]
                s_neg = ne[d]
                for c in range(d):
                    s_neg += ue[c] * ne[c]
                x = s_pos - s_neg
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
                    cand = _below(state, 8 * t, n_items)
                    ce = item_emb[cand]
                    s_neg = ce[d]
                    for c in range(d):
                        s_neg += ue[c] * ce[c]
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
            m = np.float32(mult)  # a float32 name keeps the component loops in float32 (8 lanes, not 4)
            ne = item_emb[j]
            pa, na, ua = item_acc[i], item_acc[j], user_acc[u]
            # gradients of −mult·(s⁺ − s⁻) (+ L2), each from this example's starting values: the
            # user's first (it needs both items before their update), then one loop per row
            for c in range(d):
                g_user[c] = m * (ne[c] - pe[c]) + user_alpha * ue[c]
            g_user[d] = user_alpha * ue[d]  # the user's bias: only its L2 term (it cancels in s⁺ − s⁻)
            if adadelta:
                pm, nm, um = item_mom[i], item_mom[j], user_mom[u]
                for c in range(d):
                    _adadelta(pe, pa, pm, c, -m * ue[c] + item_alpha * pe[c], rho, eps)
                _adadelta(pe, pa, pm, d, -m + item_alpha * pe[d], rho, eps)
                for c in range(d):
                    _adadelta(ne, na, nm, c, m * ue[c] + item_alpha * ne[c], rho, eps)
                _adadelta(ne, na, nm, d, m + item_alpha * ne[d], rho, eps)
                for c in range(d + 1):
                    _adadelta(ue, ua, um, c, g_user[c], rho, eps)
            else:
                for c in range(d):
                    _adagrad(pe, pa, c, -m * ue[c] + item_alpha * pe[c], lr)
                _adagrad(pe, pa, d, -m + item_alpha * pe[d], lr)
                for c in range(d):
                    _adagrad(ne, na, c, m * ue[c] + item_alpha * ne[c], lr)
                _adagrad(ne, na, d, m + item_alpha * ne[d], lr)
                for c in range(d + 1):
                    _adagrad(ue, ua, c, g_user[c], lr)
        losses[t] = total


@njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
def logistic_epoch(  # type: ignore[no-untyped-def]
    loss_kind,
    order,
    ex_users,
    ex_items,
    ex_weights,
    pos_indptr,
    pos_indices,
    if_indptr,
    if_indices,
    if_data,
    uf_indptr,
    uf_indices,
    uf_data,
    item_emb,
    user_emb,
    item_acc,
    user_acc,
    item_mom,
    user_mom,
    adadelta,
    lr,
    rho,
    eps,
    item_alpha,
    user_alpha,
    max_sampled,
    kos_k,
    kos_n,
    state,
    losses,
    first,
    last,
):
    """Blocks ``first..last-1`` of one epoch of LightFM's logistic loss (same arguments as
    :func:`pairwise_epoch`; the sampling ones are unused).

    Every interaction is a positive (LightFM's ``Y > 0``): loss w·−log σ(s) with
    s = u·i + b_u + b_i, gradient w·(σ(s) − 1) on both representations and on both biases
    (unlike the pairwise losses, the user's bias does not cancel here).
    """
    n_blocks = losses.shape[0]
    n = order.shape[0]
    width = item_emb.shape[1]
    d = width - 1
    chunk = (n + n_blocks - 1) // n_blocks
    for t in range(first, last):
        u_repr = np.empty(width, dtype=np.float32)
        i_repr = np.empty(width, dtype=np.float32)
        g_item = np.empty(width, dtype=np.float32)
        g_user = np.empty(width, dtype=np.float32)
        total = 0.0
        for k in range(t * chunk, min(n, (t + 1) * chunk)):
            row = order[k]
            u = ex_users[row]
            i = ex_items[row]
            w = ex_weights[row]
            _represent(uf_indptr, uf_indices, uf_data, user_emb, u, u_repr)
            _represent(if_indptr, if_indices, if_data, item_emb, i, i_repr)
            s = u_repr[d] + i_repr[d]
            for c in range(d):
                s += u_repr[c] * i_repr[c]
            if s > 0:
                p = 1.0 / (1.0 + np.exp(-s))
                total += w * np.log1p(np.exp(-s))
            else:
                e = np.exp(s)
                p = e / (1.0 + e)
                total += w * (np.log1p(e) - s)
            m = np.float32(w * (p - 1.0))
            for c in range(d):
                g_item[c] = m * u_repr[c]
                g_user[c] = m * i_repr[c]
            g_item[d] = m
            g_user[d] = m
            _step(
                if_indptr,
                if_indices,
                if_data,
                i,
                item_emb,
                item_acc,
                item_mom,
                g_item,
                adadelta,
                lr,
                rho,
                eps,
                item_alpha,
            )
            _step(
                uf_indptr,
                uf_indices,
                uf_data,
                u,
                user_emb,
                user_acc,
                user_mom,
                g_user,
                adadelta,
                lr,
                rho,
                eps,
                user_alpha,
            )
        losses[t] = total
