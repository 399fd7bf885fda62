"""RP3beta against a dense re-derivation, SLIM against scikit-learn's ElasticNet, and quality on real data."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from contract import check_contract
from movierec import metrics as M
from movierec.datasets import Dataset
from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.itemitem import SLIM, RP3beta, rp3beta_weights, slim_weights
from movierec.split import interactions_holdout


@pytest.mark.parametrize(("name", "params"), [("rp3beta", {"k": 10}), ("slim", {"alpha": 1e-2, "k": 10})])
def test_contract(tiny: Interactions, tmp_path, name: str, params: dict) -> None:
    model = check_contract(name, tiny.to_implicit(3.0), tmp_path, **params)
    assert model.weights_.shape[0] == len(model.active_items_)
    assert np.diff(model.weights_.indptr).max() <= 10 or name == "slim"


def _dense_rp3(x: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Paudel et al.'s definition written out with dense matrices (no pruning)."""
    p_ui = x / x.sum(axis=1, keepdims=True)
    xb = (x > 0).astype(float)
    p_iu = xb.T / xb.sum(axis=0)[:, None]
    w = (p_iu**alpha) @ (p_ui**alpha)
    w = w / xb.sum(axis=0)[None, :] ** beta
    np.fill_diagonal(w, 0.0)
    return w


@pytest.mark.parametrize("k", [1, 7, 200, 256, 257, 300, 399, 400, 500])
def test_pruning_keeps_the_lowest_columns_of_a_tie(k: int) -> None:
    """Each row keeps its k largest positive weights; of several tied at the k-th place, those with the
    lowest column index. argpartition left that tie to numpy's selection, which differs with the CPU's
    vector instructions (a third of ml-latest-small's rp3beta rows have one); k past the row's width and
    rows with fewer positives than k included."""
    from movierec.models.itemitem import _topk_rows

    rng = np.random.default_rng(1)
    block = rng.integers(0, 6, size=(60, 400)).astype(np.float64) / 7.0  # many ties, zeros among them
    block[3] = 0.0
    block[4, :5] = 0.5  # fewer positives than k in some rows
    block[4, 5:] = 0.0
    rows, cols, vals = _topk_rows(block, k)
    for i in range(block.shape[0]):
        want = np.lexsort((np.arange(400), -block[i]))[: min(k, 400)]  # value down, then column up
        want = np.sort(want[block[i, want] > 0])
        assert np.array_equal(np.sort(cols[rows == i]), want), i
        assert np.array_equal(vals[rows == i], block[i, cols[rows == i]])


@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 0.0), (0.7, 0.4)])
def test_rp3beta_matches_dense_definition(alpha: float, beta: float) -> None:
    rng = np.random.default_rng(0)
    x = (rng.random((30, 20)) < 0.3).astype(float) * rng.integers(1, 4, (30, 20))
    x[:, 0] = 1.0
    x[0, :] = 1.0  # no empty rows or columns
    want = _dense_rp3(x, alpha, beta)
    got = rp3beta_weights(sp.csr_matrix(x), alpha, beta, k=20, block=7).toarray()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    pruned = rp3beta_weights(sp.csr_matrix(x), alpha, beta, k=3).toarray()
    assert ((pruned > 0).sum(axis=1) <= 3).all()
    top = np.sort(want, axis=1)[:, -3:]
    np.testing.assert_allclose(np.sort(pruned, axis=1)[:, -3:], top, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    ("alpha", "l1_ratio"), [(1e-2, 0.1), (3e-2, 0.5), (0.1, 0.01)]
)  # the last: the defaults
def test_slim_columns_match_sklearn_elasticnet(alpha: float, l1_ratio: float) -> None:
    from sklearn.linear_model import ElasticNet

    rng = np.random.default_rng(1)
    x = (rng.random((40, 15)) < 0.35).astype(float)
    w, sweeps = slim_weights(sp.csr_matrix(x), alpha, l1_ratio, k=15, max_iter=1000, tol=1e-9)
    dense = w.toarray()
    for j in range(15):
        xj = x.copy()
        xj[:, j] = 0.0
        ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=True, fit_intercept=False, tol=1e-10,
                         max_iter=100_000).fit(xj, x[:, j])  # fmt: skip
        np.testing.assert_allclose(dense[:, j], ref.coef_, rtol=1e-4, atol=1e-6)
    assert (np.diag(dense) == 0).all() and (dense >= 0).all() and sweeps.max() < 1000


def test_slim_on_sparse_data_matches_sklearn_and_keeps_the_cap() -> None:
    """The solver's naive updates walk X's columns: on sparse data (4% dense, a few popular items, items
    that share no user) every kept column matches scikit-learn's ElasticNet, and no column keeps more
    than ``k`` weights."""
    from sklearn.linear_model import ElasticNet

    rng = np.random.default_rng(2)
    x = (rng.random((300, 80)) < 0.04).astype(float)
    x[:, :5] = rng.random((300, 5)) < 0.6
    x[rng.integers(0, 300, 80), np.arange(80)] = 1.0  # every item has a user
    w, sweeps = slim_weights(sp.csr_matrix(x), 0.01, 0.1, k=80, max_iter=1000, tol=1e-9)
    dense = w.toarray()
    for j in (0, 3, 40, 79):
        xj = x.copy()
        xj[:, j] = 0.0
        ref = ElasticNet(alpha=0.01, l1_ratio=0.1, positive=True, fit_intercept=False, tol=1e-10,
                         max_iter=100_000).fit(xj, x[:, j])  # fmt: skip
        np.testing.assert_allclose(dense[:, j], ref.coef_, rtol=1e-4, atol=1e-6)
    capped, _ = slim_weights(sp.csr_matrix(x), 0.01, 0.1, k=3, max_iter=1000, tol=1e-9)
    assert (np.diff(capped.tocsc().indptr) <= 3).all() and capped.nnz > 0
    assert sweeps.max() < 1000


def test_quality_beats_popularity_on_bundled(bundled: Dataset) -> None:
    train, test = interactions_holdout(bundled.interactions.to_implicit(4.0), 0.2, 42)
    rel = sp.csr_matrix((np.ones(test.n_ratings), (test.users, test.items)), shape=test.shape)
    users = np.flatnonzero(np.diff(rel.indptr) > 0)
    from movierec.models.popularity import Popularity

    def ndcg(model) -> float:
        recs, _ = model.fit(train).recommend(users, k=10)
        return float(M.ndcg(recs, rel[users], 10).mean())

    pop = ndcg(Popularity())
    rp3 = ndcg(RP3beta())
    assert rp3 > 1.3 * pop, (rp3, pop)


def test_bad_parameters(tiny: Interactions) -> None:
    with pytest.raises(ConfigError, match="l1_ratio"):
        SLIM(l1_ratio=2.0).fit(tiny)
    with pytest.raises(ConfigError, match=r"exceed max_items=5 .*time grows"):
        RP3beta(max_items=5).fit(tiny)
    with pytest.raises(ConfigError, match="beta"):
        RP3beta(beta=-1).fit(tiny)
