"""Property tests not covered elsewhere: ranking-metric bounds and monotonicity in K, and fold-in of factor models
(finite, deterministic, and for SVD / ALS close to the user's fitted row when folded in from their own ratings)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec import metrics as M
from movierec.interactions import Interactions
from movierec.models.registry import create


@st.composite
def top_lists(draw):  # type: ignore[no-untyped-def]
    """Duplicate-free top-k lists (padded with -1) and a random relevance matrix."""
    n_users = draw(st.integers(1, 10))
    n_items = draw(st.integers(1, 30))
    k = draw(st.integers(1, 15))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    recs = np.full((n_users, k), -1, dtype=np.int32)
    for u in range(n_users):
        m = min(k, n_items, int(rng.integers(0, k + 1)))
        recs[u, :m] = rng.permutation(n_items)[:m]
    rel = sp.csr_matrix((rng.random((n_users, n_items)) < draw(st.floats(0.0, 0.7))).astype(np.float32))
    return recs, rel, k


@settings(max_examples=120, deadline=None)
@given(top_lists())
def test_ranking_metrics_are_bounded_and_monotone_in_k(case) -> None:  # type: ignore[no-untyped-def]
    recs, rel, k = case
    prev: dict[str, np.ndarray] = {}
    for kk in range(1, k + 1):
        cur = {
            "precision": M.precision(recs, rel, kk),
            "recall": M.recall(recs, rel, kk),
            "hit_rate": M.hit_rate(recs, rel, kk),
            "ndcg": M.ndcg(recs, rel, kk),
            "map": M.average_precision(recs, rel, kk),
        }
        for name, v in cur.items():
            assert np.all(np.isfinite(v)) and np.all(v >= 0.0) and np.all(v <= 1.0 + 1e-12), (name, kk, v)
        hits_at_k = cur["precision"] * kk
        if prev:
            # cumulative quantities never shrink as the list grows
            assert np.all(cur["recall"] >= prev["recall"] - 1e-12)
            assert np.all(cur["hit_rate"] >= prev["hit_rate"])
            assert np.all(hits_at_k >= prev["hits"] - 1e-9)
        prev = {**cur, "hits": hits_at_k}
    # MRR over the whole list is the hit rate's first-hit reciprocal: 0 exactly when there is no hit
    mrr = M.reciprocal_rank(recs, rel)
    assert np.all((mrr > 0) == (prev["hit_rate"] > 0)) and np.all(mrr <= 1.0)


def _low_rank_ratings(n_users: int, n_items: int, density: float, seed: int) -> pd.DataFrame:
    """Half-star ratings with rank-3 structure; every user and item has at least one rating."""
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=(n_users, 3)), rng.normal(size=(n_items, 3))
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    users, items = np.nonzero(mask)
    ratings = np.clip(np.round((3.0 + (u[users] * v[items]).sum(1)) * 2) / 2, 0.5, 5.0)
    return pd.DataFrame(
        {
            "userId": users + 1,
            "movieId": items + 1,
            "rating": ratings,
            "timestamp": np.arange(len(users), dtype=np.int64),
        }
    )


@pytest.fixture(scope="module")
def train() -> Interactions:
    return Interactions.from_frame(_low_rank_ratings(40, 50, density=0.35, seed=3))


@pytest.fixture(scope="module")
def fitted(train: Interactions) -> dict[str, object]:
    return {
        "svd": create("svd", n_factors=5, n_epochs=60, random_state=0).fit(train),
        "als": create("als", factors=5, iterations=15, random_state=0).fit(train.to_implicit(3.5)),
    }


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(["svd", "als"]), seed=st.integers(0, 2**32 - 1), n=st.integers(1, 50))
def test_fold_in_of_any_ratings_is_finite_and_deterministic(
    fitted, train: Interactions, name: str, seed: int, n: int
) -> None:
    rng = np.random.default_rng(seed)
    items = rng.choice(train.n_items, size=n, replace=False).astype(np.int64)
    ratings = (rng.integers(1, 11, size=n) / 2).astype(np.float32)
    a = fitted[name].score_new_user(items, ratings)
    b = fitted[name].score_new_user(items.copy(), ratings.copy())
    assert a.shape == (train.n_items,) and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["svd", "als"])
def test_fold_in_from_own_ratings_is_close_to_the_fitted_row(fitted, train: Interactions, name: str) -> None:
    """Each user folded in from their own training row scores like their fitted row: strongly correlated overall,
    and nearer to their own fitted row than to the typical other user's."""
    model = fitted[name]
    data = train if name == "svd" else train.to_implicit(3.5)
    m = data.csr()
    fitted_rows = model.score(np.arange(data.n_users))
    corrs, nearer = [], []
    for u in range(data.n_users):
        row = m.getrow(u)
        if row.nnz == 0:
            continue
        # an implicit model's training row holds interaction weights, not ratings: every item there is liked
        given = row.data.astype(np.float32) if name == "svd" else None
        a = model.score_new_user(row.indices.astype(np.int64), given)
        corrs.append(np.corrcoef(a, fitted_rows[u])[0, 1])
        dist = np.sqrt(((fitted_rows - a) ** 2).sum(1))
        nearer.append(dist[u] < np.median(np.delete(dist, u)))
    assert len(corrs) >= 30
    assert np.median(corrs) > 0.9, (name, np.median(corrs))
    assert np.mean(nearer) >= 0.95, (name, np.mean(nearer))
