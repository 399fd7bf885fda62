"""The compiled kernels (``kernels/_native.pyx``) against their numba originals, on the same inputs.

The package runs only the compiled kernels; the numba originals they were ported from are kept as
test-side references (``tests/reference_kernels/``). The compiled ones must give the same
neighbours in the same order, take the same random draws and give the same numbers to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

from datagen import make_ratings
from movierec.interactions import Interactions
from movierec.models.kernels import accel
from reference_kernels import baselines, knn, sgd

#: one worker runs the module, so the numba references (``parallel=True``, ~20 s to compile) are compiled
#: once: split over ``make test``'s two workers, each compiled them (~30 s each in a fresh clone)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("numba-references")]


def _train(seed: int = 0) -> Interactions:
    return Interactions.from_frame(make_ratings(70, 90, density=0.25, seed=seed), rating_scale=(0.5, 5.0))


def _state(train: Interactions, f: int, dtype: type, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        np.zeros(train.n_users, dtype=dtype),
        np.zeros(train.n_items, dtype=dtype),
        rng.normal(0, 0.1, (train.n_users, f)).astype(dtype),
        rng.normal(0, 0.1, (train.n_items, f)).astype(dtype),
    ]


@pytest.mark.parametrize(("dtype", "f", "rtol"), [(np.float64, 7, 1e-9), (np.float32, 64, 2e-4)])
def test_svd_sweeps_match_numba(dtype: type, f: int, rtol: float) -> None:
    train = _train()
    r = train.ratings.astype(dtype)
    ours, ref = _state(train, f, dtype), _state(train, f, dtype)
    sq = accel.svd_epochs(train.users, train.items, r, 3.5, *ours, 0.005, 0.01, 0.02, 0.03, True, 3)
    ref_sq = [
        sgd.svd_epoch(train.users, train.items, r, 3.5, *ref, 0.005, 0.01, 0.02, 0.03, True) for _ in range(3)
    ]
    np.testing.assert_allclose(sq, ref_sq, rtol=rtol)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-2)


def test_bias_kernels_and_orders_match_numba() -> None:
    train = _train(2)
    csr, csc = train.csr(), train.csc()
    args = (csr.indptr.astype(np.int64), csr.indices, csr.data.astype(np.float64))
    args += (csc.indptr.astype(np.int64), csc.indices, csc.data.astype(np.float64))
    for a, b in zip(  # noqa: B905
        accel.als_biases(csr, csc, 3.4, 15.0, 10.0, 10), baselines.als_biases(*args, 3.4, 15.0, 10.0, 10)
    ):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    sgd_args = (train.users, train.items, train.ratings.astype(np.float64), train.n_users, train.n_items)
    for a, b in zip(  # noqa: B905
        accel.sgd_biases(*sgd_args, 3.4, 0.02, 0.005, 20),
        baselines.sgd_biases(*sgd_args, 3.4, 0.02, 0.005, 20),
    ):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    dots = np.random.default_rng(2).uniform(0, 1, train.n_ratings)
    state = [np.random.default_rng(s).normal(0, 0.1, n) for s, n in ((3, train.n_users), (4, train.n_items))]
    ref_state = [x.copy() for x in state]
    est = accel.nmf_bias_sweep(*sgd_args[:3], dots, 3.4, (0.01, 0.02), (0.05, 0.1), *state)
    ref = baselines.nmf_bias_sweep(*sgd_args[:3], dots, 3.4, 0.01, 0.02, 0.05, 0.1, *ref_state)
    for a, b in zip([est, *state], [ref, *ref_state], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_array_equal(
        accel.group_by_first_seen(train.users, train.n_users),
        baselines.group_by_first_seen(train.users, train.n_users),
    )
    np.testing.assert_array_equal(
        accel.first_seen(train.items, train.n_items), baselines.first_seen(train.items, train.n_items)
    )


@pytest.mark.parametrize("kind", [knn.COSINE, knn.MSD, knn.PEARSON, knn.PEARSON_BASELINE])
@pytest.mark.parametrize(("m", "select_support"), [(5, 0.0), (5, 3.0), (200, 0.0)])
def test_neighbour_lists_and_predictions_match_numba(
    monkeypatch: pytest.MonkeyPatch, kind: int, m: int, select_support: float
) -> None:
    monkeypatch.setenv("MOVIEREC_THREADS", "2")  # several chunks on several threads
    train = _train(3)
    csr, csc = train.csr(), train.csc()
    x = (csc.indptr.astype(np.int64), csc.indices, csc.data.astype(np.float64) - 3.0)
    y = (csr.indptr.astype(np.int64), csr.indices, csr.data.astype(np.float64) - 3.0)
    m = min(m, train.n_items - 1)
    ours = accel.top_similarities(*x, *y, kind, 2, 50.0, m, select_support)
    ref = knn.top_similarities(*x, *y, kind, 2, 50.0, m, 3, select_support)
    if select_support:  # a truncated list keeps by s·n/(n + λ): other neighbours than by s
        assert not np.array_equal(ours[1], accel.top_similarities(*x, *y, kind, 2, 50.0, m)[1])
    np.testing.assert_array_equal(ours[0], ref[0])
    np.testing.assert_array_equal(ours[1], ref[1])
    np.testing.assert_allclose(ours[2], ref[2], rtol=1e-6)
    counts, nbrs, sims = ours
    mask = np.arange(m)[None, :] < counts[:, None]
    nb_ptr = np.r_[0, np.cumsum(counts, dtype=np.int64)]
    nb = (nb_ptr, nbrs[mask], sims[mask])
    rng = np.random.default_rng(0)
    ox, oy = rng.normal(size=train.n_items), rng.normal(size=train.n_users)
    xs = rng.integers(0, train.n_items, 300)
    ys = rng.integers(0, train.n_users, 300)
    a = accel.predict_pairs(xs, ys, *nb, *y, ox, oy, 10)
    b = knn.predict_pairs(xs, ys, *nb, *y, ox, oy, 10, 3)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
    np.testing.assert_array_equal(a[1], b[1])
    users, items = np.arange(train.n_users), np.arange(train.n_items)
    a = accel.predict_dense_items(users, items, *nb, *y, ox, oy, train.n_items, 10)
    b = knn.predict_dense_items(users, items, *nb, *y, ox, oy, train.n_items, 10, 3)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("kind", [knn.COSINE, knn.MSD, knn.PEARSON, knn.PEARSON_BASELINE])
def test_one_similarity_row_is_that_row_of_the_untruncated_lists(kind: int) -> None:
    """accel.similarity_row (one item relabelled 0, the kernel on that row alone) is row x of the lists
    top_similarities keeps when nothing is truncated: same neighbours, same values, bit for bit."""
    train = _train(3)
    csr, csc = train.csr(), train.csc()
    x = (csc.indptr.astype(np.int64), csc.indices, csc.data.astype(np.float64) - 3.0)
    y = (csr.indptr.astype(np.int64), csr.indices, csr.data.astype(np.float64) - 3.0)
    n = train.n_items
    counts, nbrs, sims = accel.top_similarities(*x, *y, kind, 2, 50.0, n - 1)
    for item in (0, 1, n // 2, n - 1):
        want = np.zeros(n, dtype=np.float32)
        want[nbrs[item, : counts[item]]] = sims[item, : counts[item]]
        got = accel.similarity_row(item, *x, *y, kind, 2, 50.0)
        np.testing.assert_array_equal(got, want)
        assert got[item] == 0 and (got > 0).sum() == counts[item]


def test_ease_woodbury_kernels_match_numba(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from reference_kernels import ease as ease_kernels

    monkeypatch.setenv("MOVIEREC_THREADS", "2")
    train = _train(4)
    y = train.csc().astype(np.float64)
    y.sort_indices()
    kx = np.random.default_rng(0).normal(size=(train.n_users, train.n_items))
    scale = np.random.default_rng(1).uniform(0.5, 2.0, train.n_items)
    np.testing.assert_allclose(
        accel.woodbury_diag(y.indptr, y.indices, y.data, kx),
        ease_kernels.woodbury_diag(y.indptr, y.indices, y.data, kx),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        accel.woodbury_weights(y.indptr, y.indices, y.data, kx, scale),
        ease_kernels.woodbury_weights(y.indptr, y.indices, y.data, kx, scale),
        rtol=1e-6,
    )


def _hybrid_inputs(d: int = 8, adadelta: bool = False, features: bool = False, seed: int = 0):  # type: ignore[no-untyped-def]
    """An implicit training set, its sorted positives, feature rows and LightFM-style starting weights."""
    import scipy.sparse as sp

    from movierec.models.bpr import feature_rows

    train = _train(seed).to_implicit(3.0)
    pos = sp.csr_matrix((np.ones(train.n_ratings, np.float32), (train.users, train.items)), shape=train.shape)
    pos.sum_duplicates()
    pos.sort_indices()
    side = sp.random(train.n_items, 5, density=0.4, random_state=seed, format="csr") if features else None
    irows = feature_rows(side, train.n_items, normalize=True)
    urows = feature_rows(None, train.n_users, normalize=True)
    rng = np.random.default_rng(seed)
    start = 0.0 if adadelta else 1.0
    state = []
    for n in (irows.shape[1], urows.shape[1]):
        w = np.zeros((n, d + 1), np.float32)
        w[:, :d] = (rng.random((n, d)) - 0.5) / d
        state += [w, np.full_like(w, start), np.zeros_like(w)]
    weights = rng.uniform(0.5, 1.5, train.n_ratings).astype(np.float32)
    feats = (irows.indptr, irows.indices, irows.data, urows.indptr, urows.indices, urows.data)
    return train, pos, feats, state, weights


@pytest.mark.parametrize("loss_kind", [0, 1, 3])  # BPR, WARP, k-OS WARP
@pytest.mark.parametrize("adadelta", [False, True])
@pytest.mark.parametrize("features", [False, True])
def test_hybrid_kernels_match_numba(loss_kind: int, adadelta: bool, features: bool) -> None:
    """The compiled bpr/warp/k-OS epochs (identity and feature-sum kernels) take the numba kernels' steps:
    same random streams, same negatives, same factors to float32 rounding over several epochs."""
    from movierec.models.kernels import hybrid
    from reference_kernels import lightfm_like

    train, pos, feats, state, weights = _hybrid_inputs(adadelta=adadelta, features=features)
    hyper = (
        np.float32(0.05),
        np.float32(0.95),
        np.float32(1e-6),
        np.float32(1e-3),
        np.float32(1e-3),
        10,
        5,
        10,
    )
    runs = []
    for compiled in (True, False):
        iw, ia, im, uw, ua, um = (a.copy() for a in state)
        losses = []
        for epoch in range(3):
            order = np.random.default_rng(epoch).permutation(train.n_ratings).astype(np.int64)
            streams = np.zeros(24, dtype=np.uint64)  # 3 blocks, run in order
            streams[::8] = [12345 + epoch, 777, 4242]
            block_losses = np.zeros(3)
            head = (loss_kind, order, train.users, train.items, weights, pos.indptr, pos.indices)
            tail = (iw, uw, ia, ua, im, um, adadelta, *hyper, streams, block_losses, 0, 3)
            module = hybrid if compiled else lightfm_like
            if features:
                module.pairwise_epoch(*head, *feats, *tail)
            else:
                module.pairwise_epoch_identity(*head, *tail)
            losses.append(block_losses.sum())
        runs.append((iw, uw, losses, streams))
    (iw1, uw1, l1, s1), (iw2, uw2, l2, s2) = runs
    assert np.abs(iw1 - state[0]).max() > 1e-3  # training moved the factors
    np.testing.assert_array_equal(s1, s2)  # the same number of draws from every stream
    np.testing.assert_allclose(iw1, iw2, atol=2e-5)
    np.testing.assert_allclose(uw1, uw2, atol=2e-5)
    np.testing.assert_allclose(l1, l2, rtol=1e-4)


def test_learn_bpr_blocks_match_numba() -> None:
    """LearnBPR's compiled blocks: the same bootstrap draws, skips and constant-step updates as numba's."""
    from movierec.models.kernels import hybrid
    from reference_kernels import learn_bpr

    train, pos, _feats, state, weights = _hybrid_inputs(d=16, seed=4)
    runs = []
    for kernel in (hybrid.learn_bpr_block, learn_bpr.learn_bpr_block):
        iw, uw = state[0].copy(), state[3].copy()
        out = []
        for epoch in range(4):
            streams = np.zeros(16, dtype=np.uint64)
            streams[::8] = [99 + epoch, 5]
            losses, skipped = np.zeros(2), np.zeros(2, np.int64)
            args = (train.users, train.items, weights, pos.indptr, pos.indices, iw, uw)
            kernel(
                *args, np.float32(0.05), np.float32(1e-3), np.float32(1e-3), streams, losses, skipped, 0, 2
            )
            out.append((losses.copy(), skipped.copy()))
        runs.append((iw, uw, out))
    (iw1, uw1, o1), (iw2, uw2, o2) = runs
    assert np.abs(iw1 - state[0]).max() > 1e-3
    for (la, sa), (lb, sb) in zip(o1, o2, strict=True):
        np.testing.assert_array_equal(sa, sb)
        np.testing.assert_allclose(la, lb, rtol=1e-5)
    np.testing.assert_allclose(iw1, iw2, atol=1e-5)
    np.testing.assert_allclose(uw1, uw2, atol=1e-5)


def test_svdpp_sweeps_and_implicit_sums_match_numba() -> None:
    train = _train(5)
    order = np.lexsort((train.items, train.users))
    users, items = train.users[order], train.items[order]
    ratings = train.ratings[order].astype(np.float64)
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    block_users, block_ptr = users[starts].astype(np.int64), np.r_[starts, len(users)].astype(np.int64)
    rng = np.random.default_rng(0)
    f = 6
    init = [np.zeros(train.n_users), np.zeros(train.n_items)]
    init += [rng.normal(0, 0.1, (n, f)) for n in (train.n_users, train.n_items, train.n_items)]
    ours, ref = [a.copy() for a in init], [a.copy() for a in init]
    hyper = (3.5, 0.007, 0.007, 0.007, 0.02, 0.02, 0.02)
    for _ in range(3):
        sq = accel.svdpp_epoch(items, ratings, block_users, block_ptr, hyper[0], *ours, *hyper[1:])
        ref_sq = sgd.svdpp_epoch(items, ratings, block_users, block_ptr, hyper[0], *ref, *hyper[1:])
        assert sq == pytest.approx(ref_sq, rel=1e-9)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    csr = train.csr()
    indptr = csr.indptr.astype(np.int64)
    np.testing.assert_allclose(
        accel.implicit_sums(indptr, csr.indices, ours[4]),
        sgd.implicit_sums(indptr, csr.indices, ours[4]),
        rtol=1e-12,
    )


@pytest.mark.parametrize("adadelta", [False, True])
@pytest.mark.parametrize("features", [False, True])
def test_logistic_kernel_matches_numba(adadelta: bool, features: bool) -> None:
    """LightFM's pointwise loss, compiled: the numba kernel's steps over several epochs, to float32 rounding."""
    from movierec.models.kernels import hybrid
    from reference_kernels import lightfm_like

    train, pos, feats, state, weights = _hybrid_inputs(adadelta=adadelta, features=features, seed=6)
    hyper = (
        np.float32(0.05),
        np.float32(0.95),
        np.float32(1e-6),
        np.float32(1e-3),
        np.float32(1e-3),
        10,
        5,
        10,
    )
    runs = []
    for module in (hybrid, lightfm_like):
        iw, ia, im, uw, ua, um = (a.copy() for a in state)
        losses = []
        for epoch in range(3):
            order = np.random.default_rng(epoch).permutation(train.n_ratings).astype(np.int64)
            streams = np.zeros(16, dtype=np.uint64)
            block_losses = np.zeros(2)
            module.logistic_epoch(
                2, order, train.users, train.items, weights, pos.indptr, pos.indices, *feats,
                iw, uw, ia, ua, im, um, adadelta, *hyper, streams, block_losses, 0, 2,
            )  # fmt: skip
            losses.append(block_losses.sum())
        runs.append((iw, uw, losses))
    (iw1, uw1, l1), (iw2, uw2, l2) = runs
    assert np.abs(iw1 - state[0]).max() > 1e-3
    np.testing.assert_allclose(iw1, iw2, atol=2e-5)
    np.testing.assert_allclose(uw1, uw2, atol=2e-5)
    np.testing.assert_allclose(l1, l2, rtol=1e-4)


def test_ials_half_steps_match_numba(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """iALS's CG row solves, compiled and chunked over threads: the numba half-step's factors and loss."""
    from reference_kernels import ials_cg

    monkeypatch.setenv("MOVIEREC_THREADS", "2")  # several chunks on several threads
    train = _train(7).to_implicit(3.0)
    x = train.csr()
    xt = train.csc()
    rng = np.random.default_rng(0)
    d = 6
    users0 = (rng.standard_normal((train.n_users, d)) * 0.1).astype(np.float32)
    items0 = (rng.standard_normal((train.n_items, d)) * 0.1).astype(np.float32)
    reg_u = 0.05 * (np.diff(x.indptr) + 1.0).astype(np.float64)
    reg_i = 0.05 * (np.diff(xt.indptr) + 1.0).astype(np.float64)
    runs = []
    for half_step in (accel.ials_half_step, ials_cg.ials_half_step):
        users, items = users0.copy(), items0.copy()
        losses = []
        for _ in range(3):
            half_step(x.indptr, x.indices, items, users, items.T.astype(np.float64) @ items, 0.1, reg_u, 3)
            gram_u = users.T.astype(np.float64) @ users
            losses.append(half_step(xt.indptr, xt.indices, users, items, gram_u, 0.1, reg_i, 3))
        runs.append((users, items, losses))
    (u1, i1, l1), (u2, i2, l2) = runs
    assert np.abs(u1 - users0).max() > 1e-2
    np.testing.assert_allclose(u1, u2, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(i1, i2, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(l1, l2, rtol=1e-6)


@pytest.mark.parametrize("cap", [70, 5])  # every weight kept; the 5 largest (the partial sort)
def test_slim_columns_match_numba(monkeypatch, cap: int) -> None:  # type: ignore[no-untyped-def]
    """SLIM's compiled solver, chunked over threads: the numba original's kept items, weights and sweeps."""
    import scipy.sparse as sp

    from reference_kernels import slim_cd

    monkeypatch.setenv("MOVIEREC_THREADS", "2")
    rng = np.random.default_rng(3)
    x = (rng.random((120, 70)) < 0.08).astype(float)
    x[:, :4] = rng.random((120, 4)) < 0.5  # popular items: long columns
    xc = sp.csc_matrix(x)
    l1, l2 = 0.1 * 0.05 * 120, 0.1 * 0.95 * 120

    def dense(rows: np.ndarray, vals: np.ndarray) -> np.ndarray:
        out = np.zeros((70, 70))
        for j in range(70):
            keep = rows[j] >= 0
            out[rows[j][keep], j] = vals[j][keep]
        return out

    got = accel.slim_columns(xc, l1, l2, 100, 1e-4, cap)
    ref = slim_cd.slim_columns(xc.indptr.astype(np.int64), xc.indices.astype(np.int32), xc.data, 120, l1, l2, 100,
                               1e-4, cap)  # fmt: skip
    w, w_ref = dense(*got[:2]), dense(*ref[:2])
    assert (w > 0).sum() > 3 * 70 and ((w > 0).sum(axis=0) <= cap).all()
    np.testing.assert_allclose(w, w_ref, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(got[2], ref[2])
