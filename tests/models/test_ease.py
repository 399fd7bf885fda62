"""EASE: the closed form against a direct numpy solve, the active-item shortcut, the item limit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from contract import check_contract
from movierec.errors import ConfigError, DataError
from movierec.interactions import IdMap, Interactions
from movierec.models.ease import EASE, ease_weights, time_adjacency


def test_contract(tiny: Interactions, tmp_path) -> None:
    check_contract("ease", tiny.to_implicit(3.0), tmp_path, l2=10.0)


def _direct(x: np.ndarray, l2: float, dropout: float = 0.0) -> np.ndarray:
    lam = l2 + dropout / (1 - dropout) * (x**2).sum(axis=0)
    p = np.linalg.inv(x.T @ x + np.diag(lam))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


@pytest.mark.parametrize(("n_users", "n_items"), [(25, 60), (60, 25)])  # Woodbury path and item-side solve
@pytest.mark.parametrize("dropout", [0.0, 0.3])  # EASE and the emphasised-denoising penalty (EDLAE)
def test_weights_match_direct_solve(n_users: int, n_items: int, dropout: float) -> None:
    rng = np.random.default_rng(1)
    x = (rng.random((n_users, n_items)) < 0.25).astype(np.float64) * rng.integers(1, 4, (n_users, n_items))
    got = ease_weights(sp.csr_matrix(x), 3.0, dropout)
    np.testing.assert_allclose(got, _direct(x, 3.0, dropout), rtol=1e-4, atol=1e-6)


def test_a_gram_matrix_that_is_not_positive_definite_is_refused_on_the_item_side() -> None:
    """The item-side solve (as many users as items or more) takes P from the Cholesky factor (potri); a
    Gram matrix that is not positive definite (here λ < 0 on a matrix of zeros) is a LinAlgError, as
    cho_factor's was, not a wrong B."""
    from movierec.models.ease import ease_solve

    with pytest.raises(np.linalg.LinAlgError, match="positive definite"):
        ease_solve(sp.csr_matrix((30, 4)), -1.0)


def test_items_without_interactions_are_left_out_and_score_zero() -> None:
    rng = np.random.default_rng(2)
    x = (rng.random((20, 12)) < 0.3).astype(np.float32)
    x[:, [3, 7]] = 0.0
    u, i = np.nonzero(x)
    train = Interactions(u, i, np.ones(len(u)), IdMap(np.arange(20)), IdMap(np.arange(12)))
    model = EASE(l2=5.0, popularity_exponent=0.0, user_exponent=0.0).fit(train)  # plain EASE^R
    assert 3 not in model.active_items_ and 7 not in model.active_items_
    full = x @ _direct(x.astype(np.float64), 5.0)  # the closed form over ALL items
    np.testing.assert_allclose(model.score(np.arange(20)), full, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.score_new_user(np.flatnonzero(x[4])), full[4], rtol=1e-4, atol=1e-5)


def test_popularity_exponent_scales_each_items_scores_by_its_count() -> None:
    rng = np.random.default_rng(3)
    x = (rng.random((30, 15)) < 0.3).astype(np.float32)
    x[:, 5] = 0.0
    u, i = np.nonzero(x)
    train = Interactions(u, i, np.ones(len(u)), IdMap(np.arange(30)), IdMap(np.arange(15)))
    plain = EASE(l2=5.0, popularity_exponent=0.0).fit(train).score(np.arange(30))
    damped = EASE(l2=5.0, popularity_exponent=-0.5, popularity_shrink=0.0).fit(train).score(np.arange(30))
    counts = np.maximum(x.sum(axis=0), 1.0)
    np.testing.assert_allclose(damped, plain * counts[None, :] ** -0.5, rtol=1e-5, atol=1e-6)
    # popularity_shrink κ: a user with n training items gets γ·n/(n + κ)
    shrunk = EASE(l2=5.0, popularity_exponent=-0.5, popularity_shrink=4.0).fit(train).score(np.arange(30))
    gamma_n = -0.5 * x.sum(axis=1) / (x.sum(axis=1) + 4.0)
    np.testing.assert_allclose(shrunk, plain * counts[None, :] ** gamma_n[:, None], rtol=1e-5, atol=1e-6)
    with pytest.raises(ConfigError, match="popularity_exponent"):
        EASE(popularity_exponent=5.0).fit(train)


def test_user_exponent_weights_user_rows_in_the_gram_matrix() -> None:
    """δ: B solves the closed form on D_u^-δ X (heavy users count less), scores stay X·B."""
    rng = np.random.default_rng(4)
    x = (rng.random((25, 10)) < 0.4).astype(np.float32)
    x[0, :] = 1.0  # one heavy user
    u, i = np.nonzero(x)
    train = Interactions(u, i, np.ones(len(u)), IdMap(np.arange(25)), IdMap(np.arange(10)))
    weighted = x.astype(np.float64) * (np.maximum(x.sum(axis=1), 1.0) ** -0.25)[:, None]
    want = x @ _direct(weighted, 2.0)
    got = EASE(l2=2.0, popularity_exponent=0.0, user_exponent=0.25).fit(train).score(np.arange(25))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert not np.allclose(
        got,
        EASE(l2=2.0, popularity_exponent=0.0, user_exponent=0.0).fit(train).score(np.arange(25)),
        atol=1e-3,
    )
    with pytest.raises(ConfigError, match="user_exponent"):
        EASE(user_exponent=-0.5).fit(train)


def test_refuses_above_item_limit(tiny: Interactions) -> None:
    with pytest.raises(ConfigError, match=r"exceed max_items=10 .*GiB"):
        EASE(max_items=10).fit(tiny)
    with pytest.raises(ConfigError, match="l2"):
        EASE(l2=-1).fit(tiny)
    with pytest.raises(ConfigError, match="dropout"):
        EASE(dropout=1.0).fit(tiny)


def _timed(n_users: int, n_items: int, seed: int, *, ties: bool = False) -> tuple[np.ndarray, Interactions]:
    """A binary users × items matrix and its interactions with timestamps (many equal ones if ``ties``)."""
    rng = np.random.default_rng(seed)
    x = (rng.random((n_users, n_items)) < 0.35).astype(np.float64)
    x[:, 0] = 1.0  # every user has an item; every item below gets one too
    x[0, :] = 1.0
    u, i = np.nonzero(x)
    ts = rng.integers(0, 5 if ties else 10**6, len(u)).astype(np.int64)
    train = Interactions(u, i, np.ones(len(u)), IdMap(np.arange(n_users)), IdMap(np.arange(n_items)), ts)
    return x, train


def _adjacency_by_loops(train: Interactions, window: int, user_weight: np.ndarray) -> np.ndarray:
    """T written out pair by pair: each user's items in (timestamp, item) order, d ≤ window apart → 1/d."""
    assert train.timestamps is not None
    t = np.zeros((train.n_items, train.n_items))
    for u in range(train.n_users):
        mine = np.flatnonzero(train.users == u)
        seq = [int(train.items[k]) for k in sorted(mine, key=lambda k: (train.timestamps[k], train.items[k]))]
        for a in range(len(seq)):
            for b in range(a + 1, min(a + window, len(seq) - 1) + 1):
                t[seq[a], seq[b]] += user_weight[u] / (b - a)
                t[seq[b], seq[a]] += user_weight[u] / (b - a)
    return t


@pytest.mark.parametrize(("delta", "ties"), [(0.0, False), (0.25, True)])
def test_time_term_matches_a_direct_numpy_solve(delta: float, ties: bool) -> None:
    """B = EASE's closed form on G = XᵀD_u^-2δX + c·T (T's pairs weighted n_u^-2δ too), columns × count^γ."""
    x, train = _timed(30, 12, 5, ties=ties)  # more users than items and (below) fewer: both solve paths
    n_u = x.sum(axis=1)
    t = _adjacency_by_loops(train, 4, n_u ** (-2 * delta))
    xd = x * (n_u**-delta)[:, None]
    p = np.linalg.inv(xd.T @ xd + 0.7 * t + 3.0 * np.eye(12))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    b *= x.sum(axis=0)[None, :] ** -0.1
    model = EASE(l2=3.0, popularity_exponent=-0.1, user_exponent=delta, time_window=4, time_weight=0.7,
                 popularity_shrink=0.0)  # fmt: skip
    model.fit(train)
    np.testing.assert_allclose(model.weights_, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.score(np.arange(30)), x @ b, rtol=1e-4, atol=1e-5)
    plain = EASE(l2=3.0, popularity_exponent=-0.1, user_exponent=delta).fit(train)
    assert np.abs(plain.weights_ - model.weights_).max() > 1e-3  # the term changes B
    # the row order of the data does not matter (ties broken by item id)
    perm = np.random.default_rng(0).permutation(len(train.users))
    assert train.timestamps is not None
    shuffled = Interactions(
        train.users[perm], train.items[perm], train.ratings[perm], train.user_map, train.item_map,
        train.timestamps[perm],
    )  # fmt: skip
    again = EASE(l2=3.0, popularity_exponent=-0.1, user_exponent=delta, time_window=4, time_weight=0.7)
    np.testing.assert_allclose(again.fit(shuffled).weights_, model.weights_, rtol=1e-6, atol=1e-7)
    # fewer users than items: the Woodbury shortcut cannot hold the term, the item-side solve does
    x2, train2 = _timed(8, 20, 6)
    t2 = time_adjacency(train2.users, train2.items, train2.timestamps, 20, 3)
    np.testing.assert_allclose(t2.toarray(), _adjacency_by_loops(train2, 3, np.ones(8)))
    p2 = np.linalg.inv(x2.T @ x2 + 1.5 * t2.toarray() + 2.0 * np.eye(20))
    b2 = -p2 / np.diag(p2)[None, :]
    np.fill_diagonal(b2, 0.0)
    got = EASE(l2=2.0, popularity_exponent=0.0, user_exponent=0.0, time_window=3, time_weight=1.5).fit(train2)
    np.testing.assert_allclose(got.weights_, b2, rtol=1e-5, atol=1e-6)


def test_time_window_zero_is_bit_identical_to_plain_ease(tiny: Interactions) -> None:
    """Off by default: W = 0 (or c = 0) runs exactly the code of plain EASE, bit for bit."""
    train = tiny.to_implicit(3.0)
    base = EASE(l2=20.0)
    assert base.time_window == 0
    ref = base.fit(train).weights_
    for params in ({"time_window": 0, "time_weight": 2.0}, {"time_window": 10, "time_weight": 0.0}):
        assert np.array_equal(EASE(l2=20.0, **params).fit(train).weights_, ref)
    # the closed form as it was before the term existed: δ-weighted rows, ease_weights, columns × count^γ
    x = train.csr().astype(np.float64)
    x.data[:] = 1.0
    counts = np.diff(x.tocsc().indptr)
    active = np.flatnonzero(counts > 0)
    n_u = np.maximum(np.diff(x.indptr), 1).astype(np.float64)
    xa = sp.csr_matrix(sp.diags(n_u**-0.25) @ sp.csr_matrix(x[:, active], dtype=np.float32))
    old = ease_weights(xa, 20.0) * (counts[active].astype(np.float64) ** -0.3).astype(np.float32)[None, :]
    assert np.array_equal(ref, old)


def test_time_window_needs_timestamps_and_valid_values() -> None:
    _x, train = _timed(10, 6, 7)
    bare = Interactions(train.users, train.items, train.ratings, train.user_map, train.item_map)
    EASE(time_window=0).fit(bare)  # off: no timestamps needed
    with pytest.raises(DataError, match="time_window=5 needs timestamps"):
        EASE(time_window=5).fit(bare)
    with pytest.raises(ConfigError, match="time_window"):
        EASE(time_window=-1).fit(train)
    with pytest.raises(ConfigError, match="time_weight"):
        EASE(time_window=3, time_weight=-0.5).fit(train)


@pytest.mark.parametrize(("n_users", "n_items"), [(8, 40), (60, 25)])
def test_time_term_inverse_is_the_identity_solves(n_users: int, n_items: int) -> None:
    """With an extra term P comes from the Cholesky factor's own inverse (potri, one triangle mirrored),
    not a solve against the identity: the same P to rounding, a symmetric one, and B from it."""
    import scipy.linalg as sla

    from movierec.models.ease import ease_solve

    x, train = _timed(n_users, n_items, 11)
    extra = 0.5 * time_adjacency(train.users, train.items, train.timestamps, n_items, 5)
    l2 = 2.0 - min(np.linalg.eigvalsh(x.T @ x + extra.toarray()).min(), 0.0)  # G + c·T + Λ positive definite
    b, diag = ease_solve(sp.csr_matrix(x), l2, extra=extra)
    gram = x.T @ x + extra.toarray() + l2 * np.eye(n_items)
    ref = sla.cho_solve(sla.cho_factor(gram), np.eye(n_items))  # what the fit solved before
    np.testing.assert_allclose(diag, np.diag(ref), rtol=1e-12)
    b_ref = -ref / np.diag(ref)[None, :]
    np.fill_diagonal(b_ref, 0.0)
    np.testing.assert_allclose(b, b_ref, rtol=1e-6, atol=1e-12)
    p = (np.eye(n_items) - b.astype(np.float64)) * diag[None, :]  # P rebuilt from B: symmetric
    np.testing.assert_allclose(p, p.T, rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("order", ["C", "F"])
def test_mirror_upper_fills_the_lower_triangle_across_blocks(order: str) -> None:
    from movierec.models.ease import _mirror_upper

    a = np.asarray(np.random.default_rng(3).random((10, 10)), order=order)
    upper = np.triu(a)
    _mirror_upper(a, block=3)  # blocks of 3 rows: 10 is not a multiple, the last block is 1 row
    np.testing.assert_array_equal(np.triu(a), upper)
    np.testing.assert_array_equal(a, a.T)


def test_an_indefinite_time_term_falls_back_to_lu_and_a_singular_one_is_a_data_error() -> None:
    """c·T need not keep G + Λ positive definite: the Cholesky factor fails and an LU inverse gives B; a
    singular matrix is a DataError naming the extra term."""
    from movierec.models.ease import ease_solve

    x, _train = _timed(30, 12, 5)
    extra = sp.csr_matrix(-np.diag(np.linspace(20.0, 40.0, 12)))  # pushes some eigenvalues below zero
    gram = x.T @ x + extra.toarray() + 1.0 * np.eye(12)
    assert np.linalg.eigvalsh(gram).min() < 0
    b, diag = ease_solve(sp.csr_matrix(x), 1.0, extra=extra)
    p = np.linalg.inv(gram)
    b_ref = -p / np.diag(p)[None, :]
    np.fill_diagonal(b_ref, 0.0)
    np.testing.assert_allclose(diag, np.diag(p), rtol=1e-10)
    np.testing.assert_allclose(b, b_ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(DataError, match="singular"):  # G + Λ − Λ = 0 for users without interactions
        ease_solve(sp.csr_matrix((3, 4)), 1.0, extra=sp.csr_matrix(-np.eye(4)))


@pytest.mark.parametrize(("n_users", "n_items"), [(25, 60), (60, 25)])  # Woodbury path and item-side solve
def test_item_features_match_a_direct_solve_of_collective_ease(n_users: int, n_items: int) -> None:
    """Collective EASE (Jeunen et al. 2020): B from the Gram matrix XᵀX + c·F̃F̃ᵀ, F̃ each feature column
    over √(items having it); the scores stay X·B, so fold-in and export are unchanged."""
    from movierec.features import ItemFeatures

    rng = np.random.default_rng(7)
    x = (rng.random((n_users, n_items)) < 0.25).astype(np.float64)
    x[0, 0] = 1.0  # item 0 has an interaction, whatever the draw
    f = (rng.random((n_items, 6)) < 0.3).astype(np.float64)
    u, i = np.nonzero(x)
    train = Interactions(u, i, np.ones(len(u)), IdMap(np.arange(n_users)), IdMap(np.arange(n_items)))
    feats = ItemFeatures(sp.csr_matrix(f), [f"g{n}" for n in range(6)])
    model = EASE(l2=4.0, popularity_exponent=0.0, user_exponent=0.0, feature_weight=2.0).fit(
        train, item_features=feats
    )
    a = model.active_items_
    ft = f / np.sqrt(np.maximum(f.sum(axis=0), 1.0))[None, :]
    gram = x[:, a].T @ x[:, a] + 2.0 * ft[a] @ ft[a].T
    p = np.linalg.inv(gram + 4.0 * np.eye(len(a)))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    np.testing.assert_allclose(model.weights_, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.score_new_user(np.flatnonzero(x[3])), model.score(np.array([3]))[0], rtol=1e-5, atol=1e-6)  # fmt: skip
    plain = EASE(l2=4.0, popularity_exponent=0.0, user_exponent=0.0).fit(train)
    off = EASE(l2=4.0, popularity_exponent=0.0, user_exponent=0.0, feature_weight=0.0).fit(
        train, item_features=feats
    )
    np.testing.assert_array_equal(off.weights_, plain.weights_)  # c = 0: the features are ignored
    assert not np.allclose(model.weights_, plain.weights_)
    with pytest.raises(ConfigError, match="item_features has 5 rows but the training data has"):
        EASE().fit(train, item_features=sp.csr_matrix(f[:5]))
    with pytest.raises(ConfigError, match="feature_weight"):
        EASE(feature_weight=-1.0).fit(train, item_features=feats)


def test_items_sharing_a_feature_become_neighbours() -> None:
    """Two items no user rated together, sharing a rare tag: plain EASE gives them no weight, with the tag
    one explains the other (what makes 'similar' and cold-ish items better on sparse data)."""
    x = np.zeros((6, 4))
    x[[0, 1, 2], 0] = 1
    x[[3, 4, 5], 1] = 1
    x[[0, 3], 2] = 1
    x[[1, 4], 3] = 1
    u, i = np.nonzero(x)
    train = Interactions(u, i, np.ones(len(u)), IdMap(np.arange(6)), IdMap(np.arange(4)))
    tag = sp.csr_matrix(np.array([[1.0], [1.0], [0.0], [0.0]]))  # items 0 and 1 share it
    plain = EASE(l2=1.0, popularity_exponent=0.0, user_exponent=0.0).fit(train)
    tagged = EASE(l2=1.0, popularity_exponent=0.0, user_exponent=0.0, feature_weight=2.0).fit(
        train, item_features=tag
    )
    assert tagged.weights_[0, 1] > plain.weights_[0, 1] + 0.05
