"""Item-kNN: similarities against a naive dense computation, top-k sparsity, scoring and fold-in."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from contract import check_contract
from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.itemknn import ItemKNN, bm25_weight


@pytest.mark.parametrize("similarity", ["cosine", "asymmetric", "bm25", "lift"])
def test_contract(tiny: Interactions, tmp_path, similarity: str) -> None:
    check_contract("itemknn", tiny.to_implicit(3.0), tmp_path, similarity=similarity, k=10)


def _naive(x: np.ndarray, alpha: float, shrink: float) -> np.ndarray:
    n = x.shape[1]
    sims = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            ni, nj = np.sqrt((x[:, i] ** 2).sum()), np.sqrt((x[:, j] ** 2).sum())
            den = ni ** (2 * alpha) * nj ** (2 * (1 - alpha)) + shrink
            sims[i, j] = (x[:, i] @ x[:, j]) / den if den > 0 else 0.0
    return sims


@pytest.mark.parametrize(
    ("similarity", "alpha", "shrink"), [("cosine", 0.5, 0.0), ("asymmetric", 0.2, 0.0), ("cosine", 0.5, 5.0)]
)
def test_similarities_match_naive_computation(
    tiny: Interactions, similarity: str, alpha: float, shrink: float
) -> None:
    train = tiny.to_implicit(3.0)
    k = 6
    model = ItemKNN(k=k, similarity=similarity, alpha=alpha, shrink=shrink).fit(train)
    naive = _naive(train.csr().toarray(), alpha, shrink)
    nb = model.neighbours_.toarray()
    for i in range(train.n_items):
        kept = np.flatnonzero(nb[i])
        assert len(kept) <= k
        np.testing.assert_allclose(nb[i, kept], naive[i, kept], rtol=1e-5)
        # nothing left out is more similar than what was kept
        if len(kept) == k:
            assert np.delete(naive[i], kept).max() <= nb[i, kept].min() + 1e-6


@pytest.mark.parametrize("shrink", [0.0, 5.0])
def test_lift_matches_a_naive_count_of_co_likes(tiny: Interactions, shrink: float) -> None:
    """lift(i, j) = n·c_ij / (c_i·c_j) · c_ij / (c_ij + shrink), counted pair by pair from the binary matrix
    (Brin et al. 1997's interest, with co-support shrinkage): every kept neighbour's value, and nothing
    left out above what was kept."""
    train = tiny.to_implicit(3.0)
    x = train.csr().toarray() > 0
    n_users, n = x.shape
    naive = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            both = int((x[:, i] & x[:, j]).sum())
            if i != j and both:
                naive[i, j] = n_users * both / (x[:, i].sum() * x[:, j].sum()) * both / (both + shrink)
    k = 6
    nb = ItemKNN(k=k, similarity="lift", shrink=shrink).fit(train).neighbours_.toarray()
    for i in range(n):
        kept = np.flatnonzero(nb[i])
        assert 0 < len(kept) <= k
        np.testing.assert_allclose(nb[i, kept], naive[i, kept], rtol=1e-5)
        assert np.delete(naive[i], kept).max(initial=0.0) <= nb[i, kept].min() + 1e-6


def test_bm25_is_cosine_of_weighted_matrix(tiny: Interactions) -> None:
    train = tiny.to_implicit(3.0)
    model = ItemKNN(k=train.n_items, similarity="bm25").fit(train)
    naive = _naive(bm25_weight(train.csr()).toarray(), 0.5, 0.0)
    np.testing.assert_allclose(model.neighbours_.toarray(), naive, rtol=1e-4, atol=1e-6)


def _naive_scores(x: np.ndarray, own: np.ndarray, neighbourhood: str) -> np.ndarray:
    """Scores summed pair by pair from each movie's own kept neighbours ``own`` (row i: i's k nearest):
    ``candidate``: candidate j gathers the user's movies among j's own k nearest (Sarwar et al. 2001);
    ``rated``: the user's movies that keep j among their k nearest (Deshpande & Karypis 2004)."""
    scores = np.zeros((x.shape[0], own.shape[0]))
    for u in range(x.shape[0]):
        for j in range(own.shape[0]):
            for i in np.flatnonzero(x[u]):
                if neighbourhood == "candidate" and own[j, i]:
                    scores[u, j] += x[u, i] * own[j, i]
                if neighbourhood == "rated" and own[i, j]:
                    scores[u, j] += x[u, i] * own[i, j]
    return scores


@pytest.mark.parametrize("neighbourhood", ["candidate", "rated"])
def test_scores_sum_the_chosen_neighbourhood(tiny: Interactions, neighbourhood: str) -> None:
    """``neighbours_`` keeps each movie's own k nearest whatever the neighbourhood (its similar list);
    the scores sum the candidate's own k nearest among the user's movies (the default), or the user's
    movies that list the candidate, each against a pair-by-pair sum. On this data the two differ."""
    train = tiny.to_implicit(3.0)
    model = ItemKNN(k=5, neighbourhood=neighbourhood).fit(train)
    assert sp.issparse(model.neighbours_) and model.neighbours_.shape == (train.n_items, train.n_items)
    assert (np.diff(model.neighbours_.indptr) <= 5).all()  # each movie's own k nearest, in either case
    expect = _naive_scores(train.csr().toarray(), model.neighbours_.toarray(), neighbourhood)
    other = _naive_scores(
        train.csr().toarray(), model.neighbours_.toarray(), ({"candidate", "rated"} - {neighbourhood}).pop()
    )
    assert np.abs(expect - other).max() > 0.1
    np.testing.assert_allclose(model.score(np.arange(train.n_users)), expect, rtol=1e-5, atol=1e-6)
    u = 3
    row = train.csr()[u]
    np.testing.assert_allclose(model.score_new_user(row.indices), expect[u], rtol=1e-5, atol=1e-6)
    idx, vals = model.similar_items(0, k=3)
    assert (np.diff(vals[np.isfinite(vals)]) <= 0).all() and 0 not in idx


def test_bad_parameters(tiny: Interactions) -> None:
    with pytest.raises(ConfigError, match="similarity must be one of"):
        ItemKNN(similarity="jaccardish").fit(tiny)
    with pytest.raises(ConfigError, match="neighbourhood must be one of"):
        ItemKNN(neighbourhood="user").fit(tiny)
    with pytest.raises(ConfigError, match="alpha"):
        ItemKNN(similarity="asymmetric", alpha=2.0).fit(tiny)
    with pytest.raises(ConfigError, match="k must"):
        ItemKNN(k=0).fit(tiny)
