"""Metrics against naive per-user reference implementations, Surprise's accuracy functions, and hand examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec import metrics as M

# --- naive references (one user at a time, plain Python) ---------------------------------------


def ref_all(rec: list[int], rel: set[int], k: int) -> dict[str, float]:
    top = rec[:k]
    seen: set[int] = set()
    hit_flags = []
    for i in top:
        hit_flags.append(i >= 0 and i in rel and i not in seen)
        seen.add(i)
    n_hits = sum(hit_flags)
    dcg = sum(1.0 / math.log2(p + 2) for p, h in enumerate(hit_flags) if h)
    idcg = sum(1.0 / math.log2(p + 2) for p in range(min(len(rel), k)))
    ap, running = 0.0, 0
    for p, h in enumerate(hit_flags):
        if h:
            running += 1
            ap += running / (p + 1)
    first = next((p for p, h in enumerate(hit_flags) if h), None)
    return {
        "precision": n_hits / k,
        "recall": n_hits / len(rel) if rel else 0.0,
        "hit_rate": float(n_hits > 0),
        "ndcg": dcg / idcg if idcg else 0.0,
        "map": ap / min(len(rel), k) if rel else 0.0,
        "mrr": 0.0 if first is None else 1.0 / (first + 1),
    }


@st.composite
def ranking_case(draw):  # type: ignore[no-untyped-def]
    n_users = draw(st.integers(1, 12))
    n_items = draw(st.integers(1, 25))
    k = draw(st.integers(1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    recs = rng.integers(-1, n_items, size=(n_users, k))
    if draw(st.booleans()):  # lists without duplicates, like real top-k output
        recs = np.array([rng.permutation(max(n_items, k))[:k] for _ in range(n_users)]) % max(n_items, 1)
        recs = np.array(
            [r if len(set(r)) == len(r) else np.where(np.arange(k) < len(set(r)), r, -1) for r in recs]
        )
    rel = (rng.random((n_users, n_items)) < draw(st.floats(0.0, 0.6))).astype(np.float32)
    return recs.astype(np.int32), sp.csr_matrix(rel), k


@settings(max_examples=150, deadline=None)
@given(ranking_case())
def test_ranking_metrics_match_naive_reference(case) -> None:  # type: ignore[no-untyped-def]
    recs, rel, k = case
    got = M.ranking_metrics(recs, rel)
    single = {
        "precision": M.precision(recs, rel),
        "recall": M.recall(recs, rel),
        "hit_rate": M.hit_rate(recs, rel),
        "ndcg": M.ndcg(recs, rel),
        "map": M.average_precision(recs, rel),
        "mrr": M.reciprocal_rank(recs, rel),
    }
    for u in range(recs.shape[0]):
        want = ref_all(recs[u].tolist(), set(rel[u].indices.tolist()), k)
        for name, value in want.items():
            assert got[name][u] == pytest.approx(value, abs=1e-12), name
            assert single[name][u] == pytest.approx(value, abs=1e-12), name


def test_hand_worked_ranking_example() -> None:
    # user 0: list [3, 1, 4, 2], relevant {1, 2, 7}: hits at positions 2 and 4
    #   P@4 = 2/4, R@4 = 2/3, HR = 1, MRR = 1/2
    #   DCG = 1/log2(3) + 1/log2(5); IDCG (min(3,4)=3 hits) = 1 + 1/log2(3) + 1/log2(4)
    #   AP@4 = (1/2 + 2/4) / min(3, 4) = 1/3
    # user 1: list [0, 5, -1, -1] (padded), relevant {} -> every metric 0
    recs = np.array([[3, 1, 4, 2], [0, 5, -1, -1]])
    rel = sp.csr_matrix((np.ones(3), ([0, 0, 0], [1, 2, 7])), shape=(2, 8))
    got = M.ranking_metrics(recs, rel)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert got["precision"].tolist() == [0.5, 0.0]
    assert got["recall"][0] == pytest.approx(2 / 3)
    assert got["hit_rate"].tolist() == [1.0, 0.0]
    assert got["mrr"].tolist() == [0.5, 0.0]
    assert got["ndcg"][0] == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / idcg)
    assert got["map"][0] == pytest.approx(1 / 3)
    assert got["ndcg"][1] == got["map"][1] == got["recall"][1] == 0.0


def test_rmse_mae_equal_surprise_accuracy() -> None:
    accuracy = pytest.importorskip("surprise.accuracy")
    from surprise.prediction_algorithms.predictions import Prediction

    rng = np.random.default_rng(0)
    true = rng.choice(np.arange(0.5, 5.01, 0.5), size=5000)
    est = np.clip(true + rng.normal(0, 0.9, size=5000), 0.5, 5.0)
    preds = [
        Prediction(u, i, float(t), float(e), {})
        for u, i, t, e in zip(range(5000), range(5000), true, est, strict=True)
    ]
    assert abs(M.rmse(est, true) - accuracy.rmse(preds, verbose=False)) <= 1e-9
    assert abs(M.mae(est, true) - accuracy.mae(preds, verbose=False)) <= 1e-9
    # float32 inputs (as models return) give the same numbers as their float64 values
    assert (
        abs(M.rmse(est.astype(np.float32), true) - M.rmse(est.astype(np.float32).astype(np.float64), true))
        == 0.0
    )


def _surprise_predictions(users, true, est):  # type: ignore[no-untyped-def]
    from surprise.prediction_algorithms.predictions import Prediction

    return [
        Prediction(int(u), i, float(t), float(e), {})
        for i, (u, t, e) in enumerate(zip(users, true, est, strict=True))
    ]


def test_mse_fcp_equal_surprise_accuracy_with_ties() -> None:
    """Small synthetic sets with ties in the true ratings and in the predictions (Surprise counts a
    tied prediction as discordant, a tied rating as neither), users with one row, users with only
    concordant or only discordant pairs (Surprise averages each count over its own users), NaN
    predictions, and continuous ratings (the per-user path)."""
    accuracy = pytest.importorskip("surprise.accuracy")
    rng = np.random.default_rng(7)
    for case in range(300):
        n = int(rng.integers(2, 80))
        users = rng.integers(0, int(rng.integers(1, 12)), size=n)
        true = rng.integers(1, 11, size=n) / 2.0
        est = np.round(rng.normal(3.0, 1.0, size=n), 1 if case % 3 else 0)  # many ties at 0 decimals
        if case % 5 == 0:
            true = np.where(rng.random(n) < 0.3, 3.0, np.round(rng.normal(3.0, 1.0, size=n), 6))
        if case % 11 == 0:
            est[rng.random(n) < 0.2] = np.nan
        preds = _surprise_predictions(users, true, est)
        try:
            want = accuracy.fcp(preds, verbose=False)
        except ValueError:  # no user has a pair of differing ratings
            want = float("nan")
        got = M.fcp(est, true, users)
        assert (math.isnan(got) and math.isnan(want)) or abs(got - want) <= 1e-9, (case, got, want)
        finite = np.nan_to_num(est, nan=3.0)
        assert (
            abs(M.mse(finite, true) - accuracy.mse(_surprise_predictions(users, true, finite), verbose=False))
            <= 1e-9
        )
    # many distinct true ratings: the per-user path counts as the level path does
    true = rng.normal(3.0, 1.0, size=3000)
    users, est = rng.integers(0, 40, size=3000), np.round(rng.normal(3.0, 1.0, size=3000), 1)
    want = accuracy.fcp(_surprise_predictions(users, true, est), verbose=False)
    assert abs(M.fcp(est, true, users) - want) <= 1e-9


def test_fcp_hand_worked_and_surprise_averaging() -> None:
    # user 0: ratings 5 > 4 > 3 predicted 4.5 > 4.0 = 4.0: (5,4) and (5,3) concordant, (4,3) tied -> discordant
    # user 1: one pair predicted in the wrong order -> 1 discordant, no concordant
    users = np.array([0, 0, 0, 1, 1])
    true = np.array([5.0, 4.0, 3.0, 4.0, 2.0])
    est = np.array([4.5, 4.0, 4.0, 3.0, 3.5])
    u, nc, nd = M.concordant_pairs(est, true, users)
    assert u.tolist() == [0, 1] and nc.tolist() == [2.0, 0.0] and nd.tolist() == [1.0, 1.0]
    # Surprise: mean nc over users with one (2 / 1 user), mean nd over users with one (2 / 2 users)
    assert M.fcp(est, true, users) == pytest.approx(2.0 / (2.0 + 1.0), abs=1e-15)
    # the paper's pooled form would be 2 / (2 + 2); the counts give it
    assert nc.sum() / (nc.sum() + nd.sum()) == 0.5
    assert math.isnan(M.fcp(np.array([1.0, 2.0]), np.array([4.0, 4.0]), np.array([0, 0])))  # no pair differs
    assert M.mse(est, true) == pytest.approx(M.rmse(est, true) ** 2, abs=1e-15)


def test_fcp_is_fast_on_a_large_test_set() -> None:
    """O(n·L): a million rows, 10,000 users, ten rating levels in about a second (~50 million pairs)."""
    import time

    rng = np.random.default_rng(0)
    n = 1_000_000
    users, true = rng.integers(0, 10_000, size=n), rng.integers(1, 11, size=n) / 2.0
    t0 = time.perf_counter()
    value = M.fcp(true + rng.normal(0, 1.0, size=n), true, users)
    assert 0.5 < value < 1.0 and time.perf_counter() - t0 < 15.0


def test_rmse_rejects_empty_and_mismatched() -> None:
    from movierec.errors import ConfigError

    with pytest.raises(ConfigError):
        M.rmse(np.array([]), np.array([]))
    with pytest.raises(ValueError):
        M.mae(np.array([1.0, 2.0]), np.array([1.0]))


def test_reciprocal_rank_full_counts_strictly_higher_candidates() -> None:
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.5], [0.1, 0.2, 0.3, 0.4, 0.5]])
    allowed = np.ones_like(scores, dtype=bool)
    allowed[0, 0] = False  # a training item does not count
    rel = sp.csr_matrix(np.array([[0, 0, 1, 1, 0], [0, 0, 0, 0, 0]], dtype=np.float32))
    # user 0: best relevant item 2 (0.7); candidates above it: item 1 only -> rank 1 -> RR 1/2
    np.testing.assert_allclose(M.reciprocal_rank_full(scores, rel, allowed), [0.5, 0.0])


def test_reciprocal_rank_full_settles_ties_as_the_lists_do() -> None:
    # every score tied (a model with one value for everyone): the list is items by index, so the first
    # relevant item (3) sits at rank 4; strictly-higher counting (LightFM's) would read 1.0
    tied = np.zeros((1, 6))
    rel = sp.csr_matrix(np.array([[0, 0, 0, 1, 0, 1]], dtype=np.float32))
    np.testing.assert_allclose(M.reciprocal_rank_full(tied, rel), [0.25])
    # an excluded (−inf) lower-index item never counts, tied or not
    tied[0, 0] = -np.inf
    np.testing.assert_allclose(M.reciprocal_rank_full(tied, rel), [1 / 3])


def test_reciprocal_rank_full_agrees_with_the_top_k_lists_on_tied_scores() -> None:
    from movierec.models.base import topk

    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(200, 60)).astype(np.float32)  # few values: ties everywhere
    rel = sp.csr_matrix((rng.random((200, 60)) < 0.05).astype(np.float32))
    full = M.reciprocal_rank_full(scores, rel)
    recs, _ = topk(scores, 10)
    at_k = M.reciprocal_rank(recs, rel)
    hit = at_k > 0
    assert hit.sum() > 50 and (~hit & (np.diff(rel.indptr) > 0)).sum() > 5
    np.testing.assert_allclose(full[hit], at_k[hit])  # a hit in the top 10: the same rank
    assert np.all(full[~hit] < 1 / 10)  # none: below 1/K, never above what the hit rate allows


def test_coverage_and_novelty() -> None:
    recs = np.array([[0, 1], [1, 2], [-1, -1]])
    assert M.catalog_coverage(recs, 10) == pytest.approx(0.3)
    pop = np.array([9, 3, 0, 1])
    nov = M.novelty(recs, pop, n_users=9)
    # p_i = (pop + 1) / 10
    want0 = (-math.log2(1.0) - math.log2(0.4)) / 2
    want1 = (-math.log2(0.4) - math.log2(0.1)) / 2
    np.testing.assert_allclose(nov, [want0, want1, 0.0])


def test_bootstrap_ci_contains_mean_and_is_seeded() -> None:
    v = np.random.default_rng(1).random(300)
    lo, hi = M.bootstrap_ci(v, seed=5)
    assert lo <= v.mean() <= hi
    assert hi - lo < 0.2
    assert M.bootstrap_ci(v, seed=5) == (lo, hi)
    assert M.bootstrap_ci(v, seed=6) != (lo, hi)
    assert M.bootstrap_ci(np.full(10, 0.25), seed=1) == (0.25, 0.25)


def test_paired_tests_detect_a_real_difference_and_not_a_null_one() -> None:
    rng = np.random.default_rng(2)
    a = rng.random(400)
    better = a + 0.05 + rng.normal(0, 0.01, 400)
    res = M.paired_bootstrap(better, a, seed=1)
    assert res["lo"] > 0 and res["p_value"] < 0.01 and res["diff"] == pytest.approx(0.05, abs=0.01)
    assert M.permutation_test(better, a, seed=1) < 0.01
    noise = a + rng.normal(0, 0.05, 400) * rng.choice([-1, 1], 400)
    assert M.permutation_test(noise, a, n_perm=2000, seed=1) > 0.01
    assert M.permutation_test(noise, a, n_perm=2000, seed=1) == M.permutation_test(
        noise, a, n_perm=2000, seed=1
    )


def test_bootstrap_p_is_never_zero_it_counts_the_observed_difference_as_a_draw() -> None:
    """A resampling p-value is (count + 1) / (B + 1) per tail (Davison & Hinkley 1997; North et al.
    2002): with no draw crossing 0 the paired bootstrap's two-sided p read 0.0, beside a permutation
    p that reads 1/(B+1). It now reads 2/(B+1), and a tail that some draws reach keeps its +1."""
    rng = np.random.default_rng(2)
    a = rng.random(400)
    better = a + 0.05 + rng.normal(0, 0.01, 400)  # every resampled mean difference is far above 0
    for n_boot in (999, 2000):
        res = M.paired_bootstrap(better, a, n_boot=n_boot, seed=1)
        assert res["p_value"] == pytest.approx(2 / (n_boot + 1)), res
    owners = np.repeat(np.arange(200), 2)  # two units per user: the clustered bootstrap has the same floor
    res = M.cluster_paired_bootstrap(better, a, owners, n_boot=999, seed=1)
    assert res["p_value"] == pytest.approx(0.002), res
    # a tail some draws reach: exactly 2 (k + 1) / (B + 1), k the draws on the smaller side of 0
    noise = a + rng.normal(0.004, 0.05, 400)
    d = noise - a
    draws = np.random.default_rng(3)
    means = d[draws.integers(0, d.size, size=(999, d.size))].mean(axis=1)
    k = min(int((means <= 0).sum()), int((means >= 0).sum()))
    assert 0 < k < 500
    assert M.paired_bootstrap(noise, a, n_boot=999, seed=3)["p_value"] == pytest.approx(2 * (k + 1) / 1000)


def test_cluster_paired_tests_count_a_users_copies_once() -> None:
    """A user seen in 5 folds with the same difference each time carries no more evidence than once:
    the cluster bootstrap keeps the one-unit-per-user width, resampling units shrinks it by ~√5."""
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 1, 300)
    a = rng.random(300)
    b = a - 0.01 - 0.1 * (noise - noise.mean()) / noise.std()  # a − b: mean 0.01, sd 0.1 (z ≈ 1.7 per user)
    once = M.cluster_paired_bootstrap(a, b, np.arange(300), seed=1)
    a5, b5, users5 = np.tile(a, 5), np.tile(b, 5), np.tile(np.arange(300), 5)
    five = M.cluster_paired_bootstrap(a5, b5, users5, seed=1)
    units = M.paired_bootstrap(a5, b5, seed=1)
    assert five["diff"] == pytest.approx(once["diff"]) == pytest.approx(units["diff"])
    w_once, w_five, w_units = (r["hi"] - r["lo"] for r in (once, five, units))
    assert w_five == pytest.approx(w_once, rel=1e-9)  # the same users drawn: the same resampled means
    assert w_units == pytest.approx(w_once / math.sqrt(5), rel=0.15)
    # flipping each user's units together: as (in)significant as one unit per user; unit by unit it is not
    p_once = M.cluster_permutation_test(a, b, np.arange(300), n_perm=2000, seed=1)
    p_five = M.cluster_permutation_test(a5, b5, users5, n_perm=2000, seed=1)
    assert p_five == p_once > 0.05
    assert M.permutation_test(a5, b5, n_perm=2000, seed=1) < 0.05
    with pytest.raises(ValueError, match="same units"):
        M.cluster_paired_bootstrap(a, b, users5)


def test_novelty_counts_each_user_item_pair_once() -> None:
    """novelty@K's p_i counts the users who interacted with item i (docs/beyond-accuracy.md: each pair
    once), but it was np.bincount(train.items), so a log that repeats a pair (plays) counted a user as
    often as they played it: here user 0's three plays of item 0 made pop(0) = 4, not 2."""
    from movierec.evaluation import FullRankingProtocol
    from movierec.interactions import IdMap, Interactions
    from movierec.models.registry import create

    users, items = IdMap([1, 2, 3, 4]), IdMap([10, 20, 30, 40, 50])
    # train: user 0 plays item 0 three times; user 1 item 0 once; items 1-3 by a user each
    tr_u = np.array([0, 0, 0, 1, 1, 2, 3])
    tr_i = np.array([0, 0, 0, 0, 1, 2, 3])
    train = Interactions(tr_u, tr_i, np.ones(len(tr_u)), users, items)
    test = Interactions(np.array([2, 3]), np.array([0, 0]), np.ones(2), users, items)
    model = create("popularity").fit(train)
    out = FullRankingProtocol().evaluate(model, train, test, k=2, threshold=None)
    pop = np.array([2.0, 1.0, 1.0, 1.0, 0.0])  # users per item, each pair once
    want = M.novelty(out.recs, pop, n_users=4)
    np.testing.assert_allclose(out.per_user["novelty@2"], want)
    assert out.per_user["novelty@2"][0] != pytest.approx(
        M.novelty(out.recs, np.array([4.0, 1, 1, 1, 0]), 4)[0]
    )
