"""EASE: the closed form against a direct numpy solve, the active-item shortcut, the item limit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from contract import check_contract
from movierec.errors import ConfigError
from movierec.interactions import IdMap, Interactions
from movierec.models.ease import EASE, ease_weights


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
    damped = EASE(l2=5.0, popularity_exponent=-0.5).fit(train).score(np.arange(30))
    counts = np.maximum(x.sum(axis=0), 1.0)
    np.testing.assert_allclose(damped, plain * counts[None, :] ** -0.5, rtol=1e-5, atol=1e-6)
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
