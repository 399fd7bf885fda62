"""The compiled kernels (``kernels/_native.pyx``) against their numba originals, on the same inputs.

The numba modules are the reference (and the fallback of an unbuilt checkout); the compiled ones
must give the same neighbours in the same order and the same numbers to rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

from datagen import make_ratings
from movierec.interactions import Interactions
from movierec.models.kernels import accel, baselines, knn, sgd

pytestmark = [
    pytest.mark.slow,  # compiles the numba originals (~20 s on a busy machine)
    pytest.mark.skipif(
        accel.BACKEND != "native", reason="compiled kernels not built here (pip install builds them)"
    ),
]


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
        accel.als_biases(*args, 3.4, 15.0, 10.0, 10), baselines.als_biases(*args, 3.4, 15.0, 10.0, 10)
    ):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    sgd_args = (train.users, train.items, train.ratings.astype(np.float64), train.n_users, train.n_items)
    for a, b in zip(  # noqa: B905
        accel.sgd_biases(*sgd_args, 3.4, 0.02, 0.005, 20),
        baselines.sgd_biases(*sgd_args, 3.4, 0.02, 0.005, 20),
    ):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_array_equal(
        accel.group_by_first_seen(train.users, train.n_users),
        baselines.group_by_first_seen(train.users, train.n_users),
    )
    np.testing.assert_array_equal(
        accel.first_seen(train.items, train.n_items), baselines.first_seen(train.items, train.n_items)
    )


@pytest.mark.parametrize("kind", [knn.COSINE, knn.MSD, knn.PEARSON, knn.PEARSON_BASELINE])
@pytest.mark.parametrize("m", [5, 200])
def test_neighbour_lists_and_predictions_match_numba(monkeypatch, kind: int, m: int) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MOVIEREC_THREADS", "2")  # several chunks on several threads
    train = _train(3)
    csr, csc = train.csr(), train.csc()
    x = (csc.indptr.astype(np.int64), csc.indices, csc.data.astype(np.float64) - 3.0)
    y = (csr.indptr.astype(np.int64), csr.indices, csr.data.astype(np.float64) - 3.0)
    m = min(m, train.n_items - 1)
    ours = accel.top_similarities(*x, *y, kind, 2, 50.0, m)
    ref = knn.top_similarities(*x, *y, kind, 2, 50.0, m, 3)
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


def test_ease_woodbury_kernels_match_numba(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from movierec.models.kernels import ease_kernels

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
