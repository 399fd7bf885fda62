"""Protocols, result rows, intervals, paired comparison and ``compare`` on real and hand-made models."""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from movierec import evaluation as E
from movierec import metrics as M
from movierec.datasets import Dataset
from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.split import leave_last_out


class Oracle:
    """A model whose scores are a fixed users × items matrix (explicit: predictions are the scores)."""

    name = "oracle"

    def __init__(self, scores: np.ndarray, kind: str = "explicit") -> None:
        self.scores_ = np.asarray(scores, dtype=np.float32)
        self.kind = kind

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        s = self.scores_[np.asarray(users)]
        return s if items is None else s[:, np.asarray(items)]

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self.scores_[np.asarray(users), np.asarray(items)]

    def get_params(self) -> dict:
        return {}


def _inter(
    rows: list[tuple[int, int, float]], n_users: int, n_items: int, like: Interactions | None = None
) -> Interactions:
    from movierec.interactions import IdMap

    u, i, r = (np.array(x) for x in zip(*rows, strict=True)) if rows else (np.array([], int),) * 3
    umap = like.user_map if like else IdMap(np.arange(1, n_users + 1), kind="user")
    imap = like.item_map if like else IdMap(np.arange(1, n_items + 1) * 10, kind="item")
    return Interactions(u, i, r, umap, imap, None, (0.5, 5.0))


def test_test_candidates_hand_worked_example() -> None:
    # Two test users, K = 2, threshold 4.0.
    # user 0 test items (rating, predicted): A(5.0, 4.5) B(3.0, 4.8) C(4.0, 3.9) D(2.0, 1.0)
    #   ranked by prediction: B, A, C, D -> top-2 = {B, A}; relevant = {A, C} -> 1 hit
    #   P@2 = 1/2, R@2 = 1/2, hit
    # user 1 test items: E(4.5, 2.0) F(1.0, 3.0)
    #   ranked: F, E -> top-2 = {F, E}; relevant = {E} -> 1 hit: P@2 = 1/2, R@2 = 1/1
    #   (P@K divides by K even though user 1 has only 2 candidates)
    # user 2 test items: G(3.5, 5.0): no relevant item -> skipped
    # means: P@2 = 0.5, R@2 = 0.75, hit-rate = 1.0 over 2 users
    A, B, C, D, E_, F, G = range(7)
    pred = np.zeros((3, 7))
    pred[0, [A, B, C, D]] = [4.5, 4.8, 3.9, 1.0]
    pred[1, [E_, F]] = [2.0, 3.0]
    pred[2, G] = 5.0
    test = _inter(
        [(0, A, 5.0), (0, B, 3.0), (0, C, 4.0), (0, D, 2.0), (1, E_, 4.5), (1, F, 1.0), (2, G, 3.5)], 3, 7
    )
    train = _inter([(0, E_, 3.0), (1, A, 4.0), (2, B, 2.0)], 3, 7, like=test)
    res = E.evaluate(Oracle(pred), train, test, "test-candidates", k=2, threshold=4.0)
    assert res.n_users == 2
    assert res.metrics == pytest.approx({"precision@2": 0.5, "recall@2": 0.75, "hit_rate@2": 1.0})
    np.testing.assert_array_equal(res.users, [0, 1])
    np.testing.assert_allclose(res.per_user["recall@2"], [0.5, 1.0])


def test_test_candidates_ties_keep_test_order() -> None:
    # all predictions equal: the stable sort keeps test-set order, as sorted() in the notebook does
    test = _inter([(0, 3, 5.0), (0, 1, 2.0), (0, 2, 5.0)], 1, 4)
    res = E.evaluate(Oracle(np.full((1, 4), 3.0)), test, test, "test-candidates", k=1)
    assert res.metrics["precision@1"] == 1.0  # item 3 comes first and is relevant


def _naive_full_ranking(
    scores: np.ndarray, train: Interactions, test: Interactions, k: int, thr: float
) -> dict[str, float]:
    out: dict[str, list[float]] = {m: [] for m in ("precision", "recall", "ndcg", "map", "mrr")}
    for u in range(train.n_users):
        rel = {
            int(i)
            for i, r in zip(test.items[test.users == u], test.ratings[test.users == u], strict=True)
            if r >= thr
        }
        if not rel:
            continue
        seen = set(train.items[train.users == u].tolist())
        cand = [i for i in range(train.n_items) if i not in seen]
        ranked = sorted(cand, key=lambda i: -scores[u, i])
        top = ranked[:k]
        hits = [i in rel for i in top]
        out["precision"].append(sum(hits) / k)
        out["recall"].append(sum(hits) / len(rel))
        dcg = sum(1 / math.log2(p + 2) for p, h in enumerate(hits) if h)
        out["ndcg"].append(dcg / sum(1 / math.log2(p + 2) for p in range(min(len(rel), k))))
        run, ap = 0, 0.0
        for p, h in enumerate(hits):
            if h:
                run += 1
                ap += run / (p + 1)
        out["map"].append(ap / min(len(rel), k))
        out["mrr"].append(1.0 / (1 + next(p for p, i in enumerate(ranked) if i in rel)))
    return {m: float(np.mean(v)) for m, v in out.items()}


def test_full_ranking_matches_a_naive_loop(tiny: Interactions) -> None:
    from movierec.split import ratings_holdout

    train, test = ratings_holdout(tiny, 0.3, seed=3)
    scores = np.random.default_rng(0).random(tiny.shape)  # distinct scores: no ties
    res = E.evaluate(Oracle(scores, "implicit"), train, test, "full-ranking", k=5, threshold=3.5)
    want = _naive_full_ranking(scores, train, test, 5, 3.5)
    for m in ("precision", "recall", "ndcg", "map"):
        assert res.metrics[f"{m}@5"] == pytest.approx(want[m], abs=1e-12), m
    assert res.metrics["mrr"] == pytest.approx(want["mrr"], abs=1e-12)
    assert 0 < res.metrics["coverage@5"] <= 1
    # intervals: seeded, deterministic, and contain the point estimate
    for m, (lo, hi) in res.intervals.items():
        assert lo <= res.metrics[m] <= hi, m
    again = E.evaluate(Oracle(scores, "implicit"), train, test, "full-ranking", k=5, threshold=3.5)
    assert again.intervals == res.intervals
    other = E.evaluate(Oracle(scores, "implicit"), train, test, "full-ranking", k=5, threshold=3.5, seed=7)
    assert other.intervals != res.intervals


@pytest.mark.reference
@pytest.mark.slow
def test_full_ranking_equals_lightfm_evaluation(tmp_path: Path) -> None:
    """Our full ranking's precision@10, recall@10 and MRR are LightFM's evaluation of the same scores, per user
    to 1e-6. On ml-latest-small's first 150 users (the bundled files' reading path; 5,017 movies rated): the
    equality is per user and does not rest on how many there are; the whole file's 5.9 million pairs, scored
    by ours and by LightFM's three functions, took 1.7 CPU-s, these 0.35."""
    lightfm = pytest.importorskip("lightfm")
    from lightfm.evaluation import precision_at_k, recall_at_k, reciprocal_rank

    from datagen import mlls_first_users
    from movierec import load

    inter = load(mlls_first_users(tmp_path / "mlls150", 150)).interactions
    train, test, _ = E.make_split(inter, "interactions-holdout", seed=42)
    tr_m = sp.coo_matrix(
        (np.ones(train.n_ratings, np.float32), (train.users, train.items)), shape=train.shape
    ).tocsr()
    te_m = sp.coo_matrix(
        (np.ones(test.n_ratings, np.float32), (test.users, test.items)), shape=test.shape
    ).tocsr()
    model = lightfm.LightFM(no_components=10, loss="bpr", random_state=7)
    model.fit(tr_m, epochs=3, num_threads=1)
    # LightFM scores every (user, item) in float32 inside predict_rank; model.predict gives the same values
    uu, ii = np.meshgrid(np.arange(inter.n_users), np.arange(inter.n_items), indexing="ij")
    scores = model.predict(uu.ravel().astype(np.int32), ii.ravel().astype(np.int32), num_threads=1).reshape(
        inter.shape
    )
    res = E.evaluate(Oracle(scores, "implicit"), train, test, "full-ranking", k=10, threshold=None)
    p = precision_at_k(model, te_m, train_interactions=tr_m, k=10, num_threads=1)
    r = recall_at_k(model, te_m, train_interactions=tr_m, k=10, num_threads=1)
    rr = reciprocal_rank(model, te_m, train_interactions=tr_m, num_threads=1)
    assert res.n_users == len(p)
    assert abs(res.metrics["precision@10"] - p.mean()) <= 1e-6
    assert abs(res.metrics["recall@10"] - r.mean()) <= 1e-6
    assert abs(res.metrics["mrr"] - rr.mean()) <= 1e-6
    np.testing.assert_allclose(res.per_user["precision@10"], p, atol=1e-6)


def test_rating_protocol_and_skip_for_implicit(tiny: Interactions) -> None:
    from movierec.split import ratings_holdout

    train, test = ratings_holdout(tiny, 0.2, 1)
    scores = np.full(tiny.shape, 3.0)
    res = E.evaluate(Oracle(scores), train, test, "rating")
    err = 3.0 - test.ratings.astype(np.float64)
    assert res.metrics["rmse"] == pytest.approx(np.sqrt(np.mean(err**2)), abs=1e-12)
    assert res.metrics["mae"] == pytest.approx(np.mean(np.abs(err)), abs=1e-12)
    assert res.metrics["mse"] == pytest.approx(np.mean(err**2), abs=1e-12)
    # every prediction tied: every pair of differing ratings is discordant (Surprise's tie rule)
    assert res.metrics["fcp"] == 0.0 and res.intervals == {}
    assert res.per_user["concordant_pairs"].sum() == 0 and res.per_user["discordant_pairs"].sum() > 0
    assert list(res.metrics) == ["rmse", "mae", "mse", "fcp"]
    with pytest.raises(ConfigError, match="implicit model"):
        E.evaluate(Oracle(scores, "implicit"), train, test, "rating")


def test_rating_protocol_equals_surprise_accuracy_on_the_bundled_data(bundled) -> None:
    """RMSE, MAE, MSE and FCP of a fitted model on a ratings hold-out of ml-latest-small equal
    surprise.accuracy's on the same predictions (as Surprise ``Prediction`` tuples)."""
    accuracy = pytest.importorskip("surprise.accuracy")
    from surprise.prediction_algorithms.predictions import Prediction

    from movierec.models.registry import create
    from movierec.split import ratings_holdout

    train, test = ratings_holdout(bundled.interactions, 0.2, 42)
    model = create("baseline").fit(train)
    res = E.evaluate(model, train, test, "rating")
    pred = E.predict_ratings(model, test)
    preds = [
        Prediction(int(u), int(i), float(r), float(e), {})
        for u, i, r, e in zip(test.users, test.items, test.ratings, pred, strict=True)
    ]
    for name in ("rmse", "mae", "mse", "fcp"):
        assert abs(res.metrics[name] - getattr(accuracy, name)(preds, verbose=False)) <= 1e-9, name
    assert 0.6 < res.metrics["fcp"] < 0.8


def test_sampled_protocol_warns_and_perfect_model_hits(tiny: Interactions) -> None:
    from movierec.split import ratings_holdout

    train, test = ratings_holdout(tiny, 0.2, 1)
    # 40 items: fewer than 100 unseen items to sample from -> refused with a clear message
    with pytest.raises(ConfigError, match="fewer than 100 unseen items"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        E.evaluate(Oracle(np.zeros(tiny.shape), "implicit"), train, test, "sampled", k=10)
    n_users, n_items = 20, 400
    rng = np.random.default_rng(0)
    rows = [(u, int(i), 5.0) for u in range(n_users) for i in rng.choice(n_items, 30, replace=False)]
    full = _inter(rows, n_users, n_items)
    train, test = ratings_holdout(full, 0.3, 2)
    perfect = np.zeros(full.shape)
    perfect[test.users, test.items] = 1.0
    with pytest.warns(E.SampledMetricsWarning, match="Krichene & Rendle"):
        res = E.evaluate(Oracle(perfect, "implicit"), train, test, "sampled", k=1)
    assert res.metrics["hit_rate@1"] == 1.0 and res.metrics["ndcg@1"] == 1.0
    assert any("Krichene" in n for n in res.notes)


def test_a_constant_model_gets_no_credit_for_ties() -> None:
    """Every score tied: sampled and full-ranking read the positive's place in the list order (score,
    then movie index), not the top (strictly-higher counting put a constant model first every time)."""
    from movierec.split import ratings_holdout

    n_users, n_items = 20, 400
    rng = np.random.default_rng(0)
    rows = [(u, int(i), 5.0) for u in range(n_users) for i in rng.choice(n_items, 30, replace=False)]
    full = _inter(rows, n_users, n_items)
    train, test = ratings_holdout(full, 0.3, 2)
    flat = Oracle(np.zeros(full.shape), "implicit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sampled = E.evaluate(flat, train, test, "sampled", k=10)
        ranked = E.evaluate(flat, train, test, "full-ranking", k=10)
    assert sampled.metrics["hit_rate@10"] < 0.5  # was 1.0: every tied negative counted below the positive
    assert ranked.metrics["mrr"] < 0.2  # was 1.0
    # full ranking: with every score tied the list is the unseen movies by index, so each user's first
    # test positive sits after the unseen movies of lower index
    seen = E._pairs_csr(train).toarray() > 0
    want = []
    for u in np.unique(test.users):
        first = test.items[test.users == u].min()
        want.append(1.0 / (1 + np.count_nonzero(~seen[u, :first])))
    assert ranked.metrics["mrr"] == pytest.approx(np.mean(want), rel=1e-12)


def test_leave_last_out_protocol_needs_its_split() -> None:
    from datagen import make_ratings

    inter = Interactions.from_frame(make_ratings(15, 30, 0.4, seed=4))
    train, valid, test = leave_last_out(inter)
    scores = np.random.default_rng(1).random(inter.shape)
    res = E.evaluate(Oracle(scores, "implicit"), train.concat(valid), test, "leave-last-out", k=10)
    assert set(res.metrics) == {"hit_rate@10", "ndcg@10", "mrr"}
    assert res.n_users == 15 and res.threshold is None  # every last item counts, whatever its rating
    with pytest.raises(ConfigError, match="leave-last-out split"):
        E.evaluate(
            Oracle(scores, "implicit"), train, inter.subset(np.arange(inter.n_ratings)), "leave-last-out"
        )


def test_bad_protocol_k_and_threshold(tiny: Interactions) -> None:
    o = Oracle(np.zeros(tiny.shape), "implicit")
    with pytest.raises(ConfigError, match=r"unknown protocol 'ndcg'.*full-ranking"):
        E.evaluate(o, tiny, tiny, "ndcg")
    with pytest.raises(ConfigError, match="larger than the catalogue"):
        E.evaluate(o, tiny, tiny, "full-ranking", k=tiny.n_items + 1)
    with pytest.raises(ConfigError, match="no test positives"):
        E.evaluate(o, tiny, tiny, "full-ranking", threshold=9.0)


def test_the_start_of_one_valid_name_is_suggested(tiny: Interactions) -> None:
    """protocols="full" said "unknown protocol 'full'" and nothing more, where "fullranking" got "did you
    mean 'full-ranking'?": difflib's ratio of 'full' to 'full-ranking' is 0.5, under its cut-off. Every
    lookup that suggests through errors.closest (protocols, models, metrics, datasets, CLI commands and
    options) now takes a start of three or more characters that begins exactly one valid name."""
    import movierec
    from movierec.datasets.registry import get_spec
    from movierec.errors import closest
    from movierec.metrics import parse_metric

    o = Oracle(np.zeros(tiny.shape), "implicit")
    for typed, meant in (("full", "full-ranking"), ("samp", "sampled"), ("Leave", "leave-last-out")):
        with pytest.raises(ConfigError, match=rf"^unknown protocol '{typed}' \(did you mean '{meant}'\?\);"):
            E.evaluate(o, tiny, tiny, typed)
    with pytest.raises(ConfigError, match=r"^unknown model 'itemk' \(did you mean 'itemknn'\?\)"):
        movierec.Recommender(Dataset("tiny", tiny), "itemk")
    with pytest.raises(ConfigError, match=r"^unknown metric 'prec@10' \(did you mean 'precision@10'\?\)"):
        parse_metric("prec@10")
    with pytest.raises(ConfigError, match=r"^unknown dataset 'ml-32' \(did you mean 'ml-32m'\?\)"):
        get_spec("ml-32")
    # a start shared by two names, or under three characters, is no guess: difflib's pick or nothing
    assert closest("ml-lat", ["ml-latest-small", "ml-latest"]) == "ml-latest"
    assert closest("fu", ["full-ranking", "rating"]) is None
    assert closest("rat", ["rating", "ratings-holdout"]) == "rating"  # difflib's, as before


def test_metric_curve_agrees_with_evaluate(tiny: Interactions) -> None:
    from movierec.split import ratings_holdout

    train, test = ratings_holdout(tiny, 0.3, seed=3)
    scores = np.random.default_rng(4).random(tiny.shape)
    curve = E.metric_curve(Oracle(scores, "implicit"), train, test, ks=[1, 5, 10], threshold=3.5)
    assert list(curve["k"]) == [1, 5, 10]
    res = E.evaluate(Oracle(scores, "implicit"), train, test, "full-ranking", k=5, threshold=3.5)
    row = curve.set_index("k").loc[5]
    for m in ("precision", "recall", "ndcg", "map", "hit_rate"):
        assert row[m] == pytest.approx(res.metrics[f"{m}@5"], abs=1e-12)
    assert (np.diff(curve["recall"]) >= 0).all()


def test_paired_comparison_prefers_the_oracle(tiny: Interactions) -> None:
    from movierec.split import ratings_holdout

    train, test = ratings_holdout(tiny, 0.3, seed=3)
    good = np.random.default_rng(0).random(tiny.shape)
    good[test.users, test.items] += 2.0 * (test.ratings >= 3.5)
    bad = np.random.default_rng(1).random(tiny.shape)
    ra = E.evaluate(Oracle(good, "implicit"), train, test, k=5, threshold=3.5, label="good")
    rb = E.evaluate(Oracle(bad, "implicit"), train, test, k=5, threshold=3.5, label="bad")
    out = E.paired_comparison(ra, rb, "ndcg@5")
    assert out["diff"] > 0 and out["lo"] > 0 and out["permutation_p"] < 0.05
    assert out["n_users"] == ra.n_users
    # one split: users are not clustered, the result is exactly the unit-wise paired bootstrap and test
    assert ra.unit_users is None
    _, ia, ib = np.intersect1d(ra.users, rb.users, return_indices=True)
    va, vb = ra.per_user["ndcg@5"][ia], rb.per_user["ndcg@5"][ib]
    assert out == {
        "a": "good",
        "b": "bad",
        "metric": "ndcg@5",
        "n_users": len(ia),
        **M.paired_bootstrap(va, vb, seed=42),
        "permutation_p": M.permutation_test(va, vb, seed=42),
    }


# --- compare on the bundled data (real models) -----------------------------------------------


def test_compare_implicit_only_defaults_to_lightfm_holdout(bundled) -> None:
    comp = E.compare(bundled, ["popularity"], protocols=["rating", "full-ranking"], k=10, seed=42)
    assert comp.split.startswith("interactions-holdout")
    assert [r.protocol for r in comp.rows] == ["full-ranking"]
    assert any("rating skipped for popularity" in n for n in comp.notes)
    row = comp.rows[0]
    assert row.dataset == "ml-latest-small" and len(row.dataset_sha256) == 64
    assert row.threshold == 4.0 and row.k == 10 and row.seed == 42 and row.fit_seconds >= 0
    assert (comp.test.ratings >= 4.0).all()
    assert "popularity" in comp.models
    rec = comp.records()[0]
    for key in (
        "model",
        "protocol",
        "precision@10",
        "recall@10",
        "hit_rate@10",
        "ndcg@10",
        "fit_seconds",
        "intervals",
        "provenance",
    ):
        assert key in rec
    assert rec["provenance"]["packages"]["numpy"] == np.__version__


def test_compare_mixed_uses_one_ratings_holdout(bundled) -> None:
    comp = E.compare(
        bundled,
        [("baseline", {}), "popularity"],
        protocols="rating,test-candidates,full-ranking",
        k=5,
        seed=1,
    )
    assert comp.split.startswith("ratings-holdout")
    assert any("share one ratings hold-out" in n for n in comp.notes)
    labels = {(r.label, r.protocol) for r in comp.rows}
    assert labels == {
        ("baseline", "rating"),
        ("baseline", "test-candidates"),
        ("baseline", "full-ranking"),
        ("popularity", "test-candidates"),
        ("popularity", "full-ranking"),
    }
    assert comp.fit_train["popularity"].rating_scale == (1.0, 1.0)
    win = comp.winners()
    assert win[("rating", "rmse")] == "baseline"
    assert comp.paired("popularity", "baseline", "full-ranking", "ndcg@5")["n_users"] > 500
    frame = comp.frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 5


def test_compare_cv_pools_folds(bundled) -> None:
    comp = E.compare(bundled, ["popularity"], protocols=["full-ranking"], cv=3, seed=5, k=10)
    row = comp.rows[0]
    assert row.folds == 3 and "3-fold" in row.split
    # the per-user values are (user, fold) units; n_users counts distinct users, as a table reader expects
    assert len(row.users) > bundled.interactions.n_users >= row.n_users
    assert row.n_users == len(np.unique(row.users % bundled.interactions.n_users))
    lo, hi = row.intervals["ndcg@10"]
    assert lo <= row.metrics["ndcg@10"] <= hi
    # the interval resamples users, each with all of their folds' units (a user's folds move together):
    # as wide as a plain resampling of users, clearly wider than one that treats units as independent
    values, owner = row.per_user["ndcg@10"], row.users % bundled.interactions.n_users
    ids, inv = np.unique(owner, return_inverse=True)
    sums, counts = np.bincount(inv, weights=values), np.bincount(inv)
    rng = np.random.default_rng(0)
    by_user = []
    for _ in range(400):
        drawn = rng.integers(0, len(ids), len(ids))
        by_user.append(sums[drawn].sum() / counts[drawn].sum())
    by_user_w = np.diff(np.quantile(by_user, [0.025, 0.975]))[0]
    units_lo, units_hi = M.bootstrap_ci(values, seed=5)
    assert hi - lo == pytest.approx(by_user_w, rel=0.2)
    assert hi - lo > 1.2 * (units_hi - units_lo), (hi - lo, units_hi - units_lo)
    # each fold's own figures, their std as Surprise's cross_validate prints it, in to_dict and the frame
    folds = row.to_dict()["by_fold"]["ndcg@10"]
    assert len(folds) == 3 and min(folds) <= row.metrics["ndcg@10"] <= max(folds)
    frame = comp.to_frame()
    assert list(frame.columns[:3]) == ["model", "protocol", "precision@10"]
    assert frame.loc[0, "ndcg@10_std"] == pytest.approx(np.std(folds))
    assert frame.loc[0, "ndcg@10_lo"] == pytest.approx(lo) and frame.loc[0, "n_users"] == row.n_users


def test_compare_cv_paired_resamples_users(bundled) -> None:
    """Under cv the paired units are (user, fold); the paired interval resamples users with all their units,
    as the rows' intervals do, so it is wider than one treating units as independent."""
    comp = E.compare(bundled, ["ease", "popularity"], protocols=["full-ranking"], cv=3, seed=5, k=10)
    a, b = comp.row("ease", "full-ranking"), comp.row("popularity", "full-ranking")
    out = comp.paired("ease", "popularity", "full-ranking", "ndcg@10")
    common, ia, ib = np.intersect1d(a.users, b.users, return_indices=True)
    owners = common % bundled.interactions.n_users
    assert out["resampled"] == "users" and out["n_units"] == len(common)
    assert out["n_users"] == len(np.unique(owners)) < out["n_units"]
    d = a.per_user["ndcg@10"][ia] - b.per_user["ndcg@10"][ib]
    assert out["diff"] == pytest.approx(d.mean()) and out["lo"] <= out["diff"] <= out["hi"]
    assert out["diff"] == pytest.approx(a.metrics["ndcg@10"] - b.metrics["ndcg@10"], abs=1e-3)
    # a hand-written cluster bootstrap gives the width; the unit-wise one is clearly narrower
    ids, inv = np.unique(owners, return_inverse=True)
    sums, counts = np.bincount(inv, weights=d), np.bincount(inv)
    rng = np.random.default_rng(0)
    draws = [rng.integers(0, len(ids), len(ids)) for _ in range(400)]
    by_user = [sums[u].sum() / counts[u].sum() for u in draws]
    width = out["hi"] - out["lo"]
    assert width == pytest.approx(np.diff(np.quantile(by_user, [0.025, 0.975]))[0], rel=0.2)
    units = M.paired_bootstrap(a.per_user["ndcg@10"][ia], b.per_user["ndcg@10"][ib], seed=5)
    assert width > 1.2 * (units["hi"] - units["lo"]), (width, units)
    assert 0 < out["permutation_p"] <= 1


def test_comparison_frame_puts_metrics_and_intervals_first(bundled) -> None:
    """pandas' shortened print of a wide frame shows its first and last columns: the metrics lead, with
    their intervals (METRIC_lo/_hi, the CSV's names); one split has no *_std columns."""
    comp = E.compare(bundled, ["popularity"], protocols=["full-ranking", "rating"], seed=5, k=10)
    frame = comp.to_frame()
    names = comp.metric_names()
    assert list(frame.columns[: 2 + len(names)]) == ["model", "protocol", *names]
    row = comp.rows[0]
    assert frame.loc[0, "ndcg@10"] == pytest.approx(row.metrics["ndcg@10"])
    assert (frame.loc[0, "ndcg@10_lo"], frame.loc[0, "ndcg@10_hi"]) == pytest.approx(row.intervals["ndcg@10"])
    assert not any(c.endswith("_std") for c in frame.columns) and "by_fold" not in row.to_dict()
    assert {"kind", "dataset_sha256", "split", "seed", "n_users"} <= set(frame.columns)


def test_compare_takes_models_as_one_comma_separated_string(bundled) -> None:
    comp = E.compare(bundled, "popularity, global-mean", protocols="full-ranking")  # as --models reads
    assert [r.label for r in comp.rows] == ["popularity", "global-mean"]  # not model 'p', 'o', …


def test_compare_bad_inputs(bundled) -> None:
    with pytest.raises(ConfigError, match="unknown model 'nope'"):
        E.compare(bundled, ["nope"])
    with pytest.raises(ConfigError, match="unknown split"):
        E.compare(bundled, ["popularity"], split="random")
    with pytest.raises(ConfigError, match="leaves no positives"):
        E.compare(bundled, ["popularity"], threshold=6.0)
    with pytest.raises(ConfigError, match="needs the leave-last-out split"):
        E.compare(bundled, ["popularity"], protocols=["leave-last-out"], split="interactions-holdout")
    with pytest.raises(ConfigError, match="larger than the catalogue"):
        E.compare(bundled, ["popularity"], k=10**6)
    with pytest.raises(ConfigError, match="unknown item feature 'colour'"):
        E.compare(bundled, ["popularity"], protocols=["full-ranking"], item_features="genres,colour")
    with pytest.raises(ConfigError, match=r"window_days|hyperparameter"):
        E.compare(bundled, [("popularity", {"window_days": -1})], protocols=["full-ranking"])


def test_compare_gives_ease_the_item_features(tmp_path: Path) -> None:
    """--item-features reaches ease (collective EASE): the same split, a different list; c = 0 ignores them.
    The featured run holds two models that take no item features too: they are named in one note, and ease
    is not (it ran a comparison of its own, one ease fit more). On ml-latest-small's first 60 users with its
    movies and tags (the bundled files' reading path; 3,068 movies rated, not 9,724: three ease fits and
    full rankings were 2.2 CPU-s on the whole file, 0.8 here), where the features still change ease's list."""
    from datagen import mlls_first_users
    from movierec import load

    data = load(mlls_first_users(tmp_path / "mlls60", 60, tags=True))
    plain, off = (
        E.compare(data, [("ease", params)], protocols=["full-ranking"], item_features=feats).to_frame()
        for params, feats in (({}, None), ({"feature_weight": 0.0}, "genres,tags,year"))
    )
    mixed = E.compare(
        data,
        ["popularity", "ease", "global-mean"],
        protocols=["full-ranking"],
        item_features="genres,tags,year",
    )
    featured = mixed.to_frame().set_index("model")
    assert featured.loc["ease", "ndcg@10"] != plain["ndcg@10"].iloc[0]
    assert off["ndcg@10"].iloc[0] == plain["ndcg@10"].iloc[0]
    assert "popularity, global-mean ignore item features" in mixed.notes  # one note, not one per model
    assert not any("ease" in n and "ignore" in n for n in mixed.notes)


def test_item_features_column_says_none_alike_in_every_frame(tmp_path: Path) -> None:
    """01's summary (pd.concat of an explicit comparison's frame and a featured one's) showed the models that
    learned from no item features as None in one frame's rows and NaN in the other's: pandas 3 reads strings
    and None as its str dtype (missing: NaN), None alone as object. Each frame now says None, as
    Result.item_features and the JSON's null do. (On ml-latest-small's first 60 users and its movies: the
    column's values are the frames', not the data's; a featured ease on the whole file was 0.8 CPU-s.)"""
    from datagen import mlls_first_users
    from movierec import load

    data = load(mlls_first_users(tmp_path / "mlls60", 60))
    explicit = E.compare(data, ["global-mean"], protocols=["rating"], seed=1, progress=False).to_frame()
    featured = E.compare(
        data,
        ["popularity", "ease"],
        protocols=["full-ranking"],
        item_features="genres",
        seed=1,
        progress=False,
    )
    both = pd.concat([explicit, featured.to_frame()], ignore_index=True)
    assert both["item_features"].tolist() == [None, None, "genres"], both["item_features"]
    assert featured.to_frame("full-ranking")["item_features"].tolist() == [None, "genres"]
    assert both["item_features"].isna().tolist() == [True, True, False]


def test_compare_reports_progress_events_and_epochs(bundled) -> None:
    pytest.importorskip("implicit")
    events: list[dict] = []
    comp = E.compare(
        bundled,
        [("als", {"iterations": 2, "factors": 8}), "popularity"],
        protocols=["full-ranking"],
        k=5,
        progress=events.append,
    )
    kinds = [(e["event"], e["model"]) for e in events]
    assert kinds[0] == ("fit-start", "als") and ("fit-end", "popularity") in kinds
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [1, 2]
    assert ("evaluate", "popularity") in kinds
    assert len(comp.models["als"].history_) == 2  # the fitted models come back for charts and embeddings


def test_leave_last_out_protocol_picks_its_split_and_trains_on_every_rating(bundled) -> None:
    """``split="auto"`` with the leave-last-out protocol runs on the leave-last-out split, no threshold."""
    comp = E.compare(bundled, ["popularity", "markov"], protocols=["leave-last-out"], seed=3)
    assert {r.protocol for r in comp.rows} == {"leave-last-out"}
    assert all("leave-last-out" in r.split for r in comp.rows)
    inter = bundled.interactions
    # one test item per user; the models saw every other rating, low ones included
    assert comp.fit_train["markov"].n_ratings == inter.n_ratings - inter.n_users
    assert (comp.fit_train["markov"].ratings < 4.0).any()
    row = {r.model: r for r in comp.rows}["markov"]
    lo, hi = row.intervals["ndcg@10"]
    assert lo <= row.metrics["ndcg@10"] <= hi


def test_test_candidates_is_skipped_once_where_it_cannot_separate_models(bundled) -> None:
    # implicit-only: the interactions hold-out keeps positives only, so every test item is relevant
    comp = E.compare(
        bundled, ["popularity", "itemknn"], protocols=["test-candidates", "full-ranking"], seed=42
    )
    assert (comp.test.ratings >= 4.0).all()
    assert [r.protocol for r in comp.rows] == ["full-ranking", "full-ranking"]
    skipped = [n for n in comp.notes if n.startswith("test-candidates skipped")]
    assert len(skipped) == 1 and "every test item is relevant" in skipped[0]
    # a ratings hold-out keeps low ratings in the test set: the protocol runs
    mixed = E.compare(bundled, ["baseline"], protocols=["test-candidates"], seed=42)
    assert [r.protocol for r in mixed.rows] == ["test-candidates"]


def test_test_candidates_is_skipped_on_the_leave_last_out_split(bundled) -> None:
    """``compare --split leave-last-out`` with the default protocols: each user's one test movie was their
    whole candidate list, so every model read P@10 0.1000, R@10 1.0000, HR@10 1.0000 with a ★ each."""
    comp = E.compare(
        bundled,
        ["popularity", "markov"],
        protocols=["test-candidates", "full-ranking"],
        split="leave-last-out",
    )
    assert [r.protocol for r in comp.rows] == ["full-ranking", "full-ranking"]
    skipped = [n for n in comp.notes if n.startswith("test-candidates skipped")]
    assert len(skipped) == 1 and "each user has one test item on this split" in skipped[0]
    # the full ranking still tells them apart
    ndcg = {r.model: r.metrics["ndcg@10"] for r in comp.rows}
    assert ndcg["markov"] != ndcg["popularity"]


def test_full_ranking_on_the_leave_last_out_split_ranks_every_users_next_item(bundled) -> None:
    """The caption says 'relevance the next item' and a note 'each user's latest rating is the test item
    whatever its value', yet the full-ranking rows counted only the 362 of 610 users whose latest rating
    was ≥ 4. They count every user now, and read as the leave-last-out protocol's rows."""
    comp = E.compare(
        bundled,
        ["popularity", "markov"],
        protocols=["full-ranking", "leave-last-out"],
        split="leave-last-out",
    )
    rows = {(r.model, r.protocol): r for r in comp.rows}
    for model in ("popularity", "markov"):
        full, lolo = rows[model, "full-ranking"], rows[model, "leave-last-out"]
        assert full.n_users == lolo.n_users == bundled.interactions.n_users
        for metric in ("ndcg@10", "hit_rate@10", "mrr"):
            assert full.metrics[metric] == lolo.metrics[metric], (model, metric)
        assert full.threshold is None


def test_a_protocol_implements_evaluate_once_through_the_template() -> None:
    """Protocol.evaluate is the one public signature; a protocol writes _evaluate and gets EvalOptions."""
    seen: list[E.EvalOptions] = []

    class Counting(E.Protocol):
        name = "counting"

        def _evaluate(self, model, train, test, opts):  # type: ignore[no-untyped-def]
            seen.append(opts)
            rel = test.ratings >= opts.floor
            users = np.unique(test.users[rel]).astype(np.int32)
            return E.EvalOutput.of_users({f"n@{opts.k}": np.ones(len(users))}, users, 0.0)

    tiny = _inter([(0, 0, 5.0), (0, 1, 2.0), (1, 1, 4.0)], 2, 2)
    out = Counting().evaluate(None, tiny, tiny, k=3, threshold=None, seed=7)
    assert seen == [E.EvalOptions(k=3, threshold=None, seed=7)] and seen[0].floor == -np.inf
    assert out.metrics == {"n@3": 1.0} and list(out.users) == [0, 1]
    assert E.EvalOptions(threshold=4.0).floor == 4.0


def test_models_skipped_for_the_same_reason_share_one_note(tiny: Interactions) -> None:
    """Three implicit models in a rating comparison: one line naming all three, not three lines. (On 30
    people and 40 movies: the note is the models', not the data's; baseline's fit and RMSE on the bundled
    data were 1.2 CPU-s.)"""
    from movierec import load

    comp = E.compare(
        load(tiny.to_frame()),
        ["baseline", "popularity", "itemknn", "ease"],
        protocols=["rating"],
        k=10,
        seed=42,
    )
    skipped = [n for n in comp.notes if n.startswith("rating skipped")]
    assert skipped == [
        "rating skipped for popularity, itemknn, ease: implicit models (no rating predictions), so no RMSE/MAE"
    ]
    assert [r.model for r in comp.rows] == ["baseline"]


def test_compare_prepares_each_models_data_before_timing_a_fit(tiny: Interactions, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The views fitting reads are the split's preparation, cached on the data: our CSR (~4 ms of a ~45 ms
    svd fit) and Surprise's Trainset (~0.12 s of a ~1.7 s surprise:svd fit) are both built before each
    timed fit, so fit_seconds times training on prepared data on both sides of a comparison. (On 30 people
    and 40 movies: what is cached before a fit does not rest on the data's size; the bundled data's
    comparison was 0.9 CPU-s.)"""
    from movierec import load

    seen: list[tuple[str, bool, bool]] = []
    real = E._fit

    def spy(model, train, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((model.name, "csr" in train._cache, "surprise_trainset" in train._cache))
        return real(model, train, *args, **kwargs)

    monkeypatch.setattr(E, "_fit", spy)
    E.compare(
        load(tiny.to_frame()),
        ["popularity", "baseline", "surprise:baseline"],
        protocols=["rating", "full-ranking"],
        seed=42,
    )
    # ours find their CSR built, and Surprise its Trainset: both sides' preparation is outside the clock
    assert seen[:2] == [("popularity", True, False), ("baseline", True, False)]
    assert seen[2] == ("surprise:baseline", True, True)


def test_compare_tells_a_watching_person_what_it_is_fitting(
    tiny: Interactions, capsys: pytest.CaptureFixture[str]
) -> None:
    """A notebook or terminal run of minutes was silent; by default it prints each model's fit there (and
    nothing in a script or under pytest, where stderr is not a terminal), in the CLI's words
    ('svd · fitting', 'svd · fitted in 1.4 s') with the model's number: it said 'svd (2/2): fitting… 1.4 s'
    where the CLI said 'svd · fitted in 1.4 s'. On 30 people and 40 movies: the lines are the run's, not
    the data's (four comparisons on the bundled data, each ranking 9,700 movies, were 1.2 CPU-s)."""
    from movierec import load

    data = load(tiny.to_frame())
    quiet = E.compare(data, ["popularity", "svd"], protocols=["full-ranking"])
    assert capsys.readouterr().err == ""  # not watched: quiet
    shown = E.compare(data, ["popularity", "svd"], protocols=["full-ranking"], progress=True)
    err = capsys.readouterr().err.splitlines()
    assert [re.sub(r"\d+\.\d s$", "N s", line) for line in err] == [
        "popularity (1/2) · fitting", "popularity (1/2) · fitted in N s",
        "svd (2/2) · fitting", "svd (2/2) · fitted in N s",
    ], err  # fmt: skip
    E.compare(data, ["popularity", "global-mean"], protocols=["full-ranking"], cv=2, progress=True)
    folds = [line.split(" · ")[0] for line in capsys.readouterr().err.splitlines()[::2]]
    assert folds == [
        "popularity (1/2, fold 1/2)", "global-mean (2/2, fold 1/2)",
        "popularity (1/2, fold 2/2)", "global-mean (2/2, fold 2/2)",
    ]  # fmt: skip
    E.compare(data, ["popularity"], protocols=["full-ranking"], progress=False)  # said off: quiet too
    assert capsys.readouterr().err == ""
    # the lines change nothing (no per-epoch hook): the same svd as the quiet run's, where it ran a third
    # popularity,svd comparison (progress=False) to compare with
    assert shown.rows[1].metrics == quiet.rows[1].metrics


def test_compare_tells_a_watching_person_how_many_users_a_slow_evaluation_has_scored(
    bundled, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """In a notebook, ``compare()`` printed 'knn-baseline (3/3) · fitted in 1.1 s' and then nothing for its
    6-8 s of scoring, as if hung, where the CLI's bar counts the users scored. Its lines now say the count
    as the CLI does, for an evaluation that runs 3 s or more (MOVIEREC_PROGRESS_AFTER seconds: 0 here, so
    every count prints whatever this machine's speed); a fast one prints none (the test above)."""
    monkeypatch.setenv("MOVIEREC_PROGRESS_AFTER", "0")
    E.compare(bundled, ["popularity", "svd"], protocols=["test-candidates", "full-ranking"], progress=True)
    err = [re.sub(r"\d+\.\d s$", "N s", line) for line in capsys.readouterr().err.splitlines()]
    counts = [f"{n}/595 users scored" for n in (64, 192, 448, 595)]
    assert err == [
        "popularity (1/2) · fitting", "popularity (1/2) · fitted in N s",
        *(f"popularity (1/2) · evaluating {p} · {n}" for p in ("test-candidates", "full-ranking") for n in counts),
        "svd (2/2) · fitting", "svd (2/2) · fitted in N s",
        "svd (2/2) · evaluating test-candidates · 595/595 users scored",  # predict: every pair at once
        *(f"svd (2/2) · evaluating full-ranking · {n}" for n in counts),
    ], err  # fmt: skip


def test_an_evaluations_count_shows_once_it_has_run_or_will_run_a_few_seconds() -> None:
    """Which counts of users scored ``compare()``'s lines show, told ``(n, of, now)`` with ``now`` in
    seconds since the evaluation began (measured paces on ml-latest-small's 595 users): knn-baseline's full
    ranking, 64 users after 0.55 s and 192 after 2.0 s, will run about 6 s, so the line shows from the
    second block on; ease's sampled protocol spends 0.7 s sampling negatives before its first block, then
    scores a block in hundredths of a second: nothing; a count after 3 s always shows."""
    slow = E._LineProgress(3)
    slow.began, slow.count = 0.0, (0, 0.0)
    assert [slow._scored(n, 595, t) for n, t in ((64, 0.55), (192, 1.99), (448, 4.6), (595, 5.7))] == [
        False, True, True, True,
    ]  # fmt: skip
    fast = E._LineProgress(3)
    fast.began, fast.count = 0.0, (0, 0.0)
    assert not any(fast._scored(n, 595, t) for n, t in ((64, 0.7), (192, 0.71), (448, 0.73), (595, 0.75)))
    late = E._LineProgress(3)
    late.began, late.count = 0.0, (0, 0.0)
    assert late._scored(64, 64, 3.2)  # one block that took 3.2 s: its count shows at the end


def test_a_movie_rated_low_stays_a_candidate_under_the_positives_holdout_only(tiny: Interactions) -> None:
    """docs/protocols.md: the positives hold-out leaves ratings below the threshold out of both parts, so
    full ranking may list a movie the user rated low; the ratings hold-out excludes the training part's."""
    from movierec.models.popularity import Popularity

    def low_rated_listed(split: str) -> int:
        train, test, _ = E.make_split(tiny, split, seed=42, threshold=4.0)
        model = Popularity().fit(train.to_implicit(4.0))
        users, recs, *_ = E.FullRankingProtocol().rank(model, train, test, k=20, threshold=4.0)
        low = {(u, i) for u, i, r in zip(tiny.users, tiny.items, tiny.ratings, strict=True) if r < 4.0}
        in_train = set(zip(train.users.tolist(), train.items.tolist(), strict=True))
        listed = {(int(u), int(i)) for u, row in zip(users, recs, strict=True) for i in row}
        assert not listed & in_train  # a training item is never a candidate
        return len(listed & low)

    assert low_rated_listed("interactions-holdout") > 0
    low_rated_listed("ratings-holdout")  # its training part's low ratings are never listed (asserted inside)
    train, _, _ = E.make_split(tiny, "ratings-holdout", seed=42, threshold=4.0)
    assert (train.ratings < 4.0).sum() > 50  # ... and there are many of them to exclude

    # compare says so once, under that split only, and only where the data has ratings below the threshold
    def notes(data: Interactions, split: str = "auto") -> list[str]:
        ds = Dataset(name="tiny", interactions=data)
        comp = E.compare(ds, ["popularity"], protocols=["full-ranking"], split=split, seed=42, progress=False)
        return [n for n in comp.notes if "stays a full-ranking candidate" in n]

    assert notes(tiny) == [
        "interactions-holdout splits ratings ≥ 4 only: a movie a user rated below 4 stays a full-ranking "
        "candidate, where recommend leaves it out (the ratings-holdout split excludes it)"
    ]
    assert notes(tiny, "ratings-holdout") == []
    assert notes(tiny.subset(tiny.ratings >= 4.0)) == []  # positives only: nothing rated below
    # with folds the split is not "interactions-holdout" (the caption says "3-fold cv over positives"),
    # nor "one ratings hold-out" when explicit and implicit models share the folds
    ds = Dataset(name="tiny", interactions=tiny)
    folded = E.compare(ds, ["popularity"], protocols=["full-ranking"], cv=3, seed=42, progress=False).notes
    assert any(n.startswith("the 3 folds split ratings ≥ 4 only") for n in folded), folded
    mixed = E.compare(ds, ["popularity", "baseline"], protocols=["full-ranking"], cv=3, progress=False).notes
    assert any("share one 3-fold split of the ratings" in n for n in mixed) and not any(
        "hold-out" in n for n in mixed
    )


def test_the_default_threshold_on_another_scale_is_said_with_the_share_it_counts(tmp_path, capsys) -> None:
    """Ratings 1-10 were compared under 'relevance ≥ 4' with no word that 4 is MovieLens' 4 stars of 5: a
    4 of 10 counted as liked. compare says so with the share; a threshold set for the scale, or a 1-5 scale,
    gets no such note, and the figures are as asked either way."""
    from clihelp import run_cli

    rng = np.random.default_rng(0)
    users, items = np.divmod(np.arange(40 * 30), 30)
    keep = rng.random(len(users)) < 0.5
    frame = pd.DataFrame(
        {
            "userId": users[keep] + 1,
            "movieId": items[keep] + 1,
            "rating": rng.integers(1, 11, int(keep.sum())),
        }
    )
    share = float((frame["rating"] >= 4).mean())
    note = f"relevance ≥ 4 is MovieLens' 4 stars of 5; on this data's ratings (1–10) it counts {share:.0%} of them"
    assert any(
        n.startswith(note) and n.endswith("(threshold=)") for n in E.compare(frame, ["popularity"]).notes
    )
    assert not any("MovieLens" in n for n in E.compare(frame, ["popularity"], threshold=8).notes)
    halves = frame.assign(rating=(frame["rating"] + 1) // 2)  # 1-5
    assert not any("MovieLens" in n for n in E.compare(halves, ["popularity"]).notes)
    path = tmp_path / "tens.csv"
    frame.to_csv(path, index=False)
    code, out, err = run_cli(["compare", "--ratings", str(path), "--models", "popularity"], capsys)
    said = " ".join(out.split())
    assert code == 0 and "for this scale (--implicit-threshold)" in said and "in Python" not in said, err


def test_rating_models_on_data_without_ratings_are_said_to_learn_nothing() -> None:
    """A log loaded without ratings is all 1s; svd's row read RMSE 0.0000, MAE 0.0000 beside the implicit
    models, as if it were perfect, and its lists ranked by a constant. compare says so."""
    rng = np.random.default_rng(1)
    users, items = np.divmod(np.arange(30 * 20), 20)
    keep = rng.random(len(users)) < 0.5
    frame = pd.DataFrame({"userId": users[keep] + 1, "movieId": items[keep] + 1, "rating": 1.0})
    notes = E.compare(frame, ["svd", "popularity"], threshold=1, progress=False).notes
    assert any(
        n.startswith("every rating is 1 (data without ratings): rating models (svd) learn nothing")
        for n in notes
    ), notes
    rated = frame.assign(rating=rng.integers(1, 6, len(frame)).astype(float))
    assert not any("every rating" in n for n in E.compare(rated, ["svd", "popularity"], progress=False).notes)


# --- the front door in, as a Surprise notebook passes its data and its algorithm ----------------------


def test_evaluate_scores_a_fitted_front_door_recommender(bundled: Dataset) -> None:
    """``evaluate(rec, train, test, "rating")`` on a fitted ``movierec.Recommender`` scores its model: the
    wrapper was scored itself before and, having no ``kind``, was refused as 'an implicit model (no
    rating predictions)' although svd predicts ratings. The row names the Recommender's dataset."""
    from movierec.errors import NotFittedError
    from movierec.recommender import Recommender

    train, test, _ = E.make_split(bundled.interactions, "ratings-holdout", seed=0, test_size=0.25)
    rec = Recommender(bundled, "baseline")
    with pytest.raises(NotFittedError, match=r"call \.fit\(train\) before evaluate"):
        E.evaluate(rec, train, test, "rating")
    rec.fit(train)
    row = E.evaluate(rec, train, test, "rating")
    bare = E.evaluate(rec.model, train, test, "rating")
    assert row.kind == "explicit" and row.metrics == bare.metrics
    assert 0.8 < row.metrics["rmse"] < 1.0
    assert row.dataset == "ml-latest-small" and row.dataset_sha256 == bundled.sha256
    assert bare.dataset.startswith("unnamed")  # the bare model knows no dataset
    ranked = E.evaluate(rec, train, test, "full-ranking", intervals=False)
    assert ranked.metrics == E.evaluate(rec.model, train, test, "full-ranking", intervals=False).metrics


def test_make_split_takes_a_dataset_as_surprise_takes_its_data(bundled: Dataset) -> None:
    """``make_split(ds, …)`` splits ``ds.interactions`` (Surprise's ``train_test_split(data)`` takes the
    dataset); it ended in "AttributeError: 'Dataset' object has no attribute 'n_ratings'"."""
    tr, te, desc = E.make_split(bundled, "ratings-holdout", seed=0, test_size=0.25)
    tr2, te2, desc2 = E.make_split(bundled.interactions, "ratings-holdout", seed=0, test_size=0.25)
    assert desc == desc2 and te.n_ratings == math.ceil(0.25 * bundled.interactions.n_ratings)
    np.testing.assert_array_equal(te.users, te2.users)
    np.testing.assert_array_equal(tr.items, tr2.items)
    with pytest.raises(
        ConfigError, match=r"splits a Dataset or its interactions \(ds\.interactions\), not list"
    ):
        E.make_split([1, 2, 3], "ratings-holdout")  # type: ignore[arg-type]


def test_leave_last_out_notes_say_every_rating_trains_and_counts(bundled) -> None:  # type: ignore[no-untyped-def]
    """Under leave-last-out every model trains on every training rating and each user's latest rating is the
    test item whatever its value (fit_view, the protocol's threshold None); the note said implicit models
    train on ratings ≥ 4 and test positives are ratings ≥ 4, which is another split's rule."""
    import warnings as w

    with w.catch_warnings():
        w.simplefilter("ignore")
        comp = E.compare(
            bundled, ["popularity"], split="leave-last-out", protocols=["leave-last-out"], progress=False
        )
    assert any(
        n.startswith("leave-last-out: every model trains on every training rating") for n in comp.notes
    )
    assert not any("implicit models train on training ratings ≥" in n for n in comp.notes), comp.notes
    (row,) = comp.rows
    assert row.threshold is None


def test_leave_last_out_says_how_many_latest_ratings_tie_in_time(bundled) -> None:  # type: ignore[no-untyped-def]
    """MovieLens gives ratings entered together one timestamp, so for ml-latest-small 94 of 610 users (ml-100k
    415 of 943) the data does not say which movie came last. Leave-last-out held out the highest movie id of
    the tied ones, which moved ml-100k's popularity HR@10 to 0.050 from 0.112 (lowest id held out); it now
    holds out a fixed pseudo-random one (split.tie_key). The note counts the users and names the rule in
    two lines at 80 columns; no ties, no note."""
    import textwrap

    from movierec.split import leave_last_out, tied_latest

    assert tied_latest(bundled.interactions) == (94, 610)
    frame = pd.DataFrame(
        {  # user 1's two latest ratings share t=30: the hash holds out movie 5, not 9; user 2 has no tie
            "userId": [1, 1, 1, 2, 2, 2],
            "movieId": [7, 9, 5, 5, 7, 9],
            "rating": [4.0, 3.0, 5.0, 4.0, 4.0, 2.0],
            "timestamp": [10, 30, 30, 10, 20, 30],
        }
    )
    comp = E.compare(frame, ["popularity"], protocols=["leave-last-out"], k=2, progress=False)
    (note,) = [n for n in comp.notes if "timestamp of their latest rating" in n]
    assert note == (
        "leave-last-out: 1 of 2 users (50%) rated other movies at the timestamp of their latest rating; "
        "the test item is a fixed random pick of those"
    )
    (bundled_note,) = [
        n
        for n in E.compare(bundled, ["popularity"], protocols=["leave-last-out"], progress=False).notes
        if "timestamp of their latest rating" in n
    ]
    assert bundled_note.startswith("leave-last-out: 94 of 610 users (15%) rated other movies")
    assert len(textwrap.wrap(f"note: {bundled_note}", 80)) == 2
    _, _, test = leave_last_out(Interactions.from_frame(frame))
    assert sorted(test.item_map.to_raw(int(i)) for i in test.items) == [5, 9]
    untied = frame.assign(timestamp=[10, 20, 30, 10, 20, 30])
    comp = E.compare(untied, ["popularity"], protocols=["leave-last-out"], k=2, progress=False)
    assert not any("timestamp of their latest rating" in n for n in comp.notes), comp.notes


def test_leave_last_out_note_comes_with_the_default_split(bundled) -> None:  # type: ignore[no-untyped-def]
    """``compare --protocols leave-last-out`` (split auto, as docs/sequential.md runs it) said nothing of
    the split's rules: the note that every model trains on every training rating and the latest rating is
    the test item whatever its value came only with ``--split leave-last-out`` typed, the auto branch
    having picked the split without reaching it. A split given as a pair gets no tie note: its test part
    was drawn elsewhere, by a rule compare does not know."""
    comp = E.compare(bundled, ["popularity"], protocols=["leave-last-out"], progress=False)
    assert any(
        n.startswith("leave-last-out: every model trains on every training rating") for n in comp.notes
    )
    assert any("timestamp of their latest rating" in n for n in comp.notes)
    assert not any("implicit models train on training ratings ≥" in n for n in comp.notes), comp.notes
    train, test, _ = E.make_split(bundled, "leave-last-out")
    given = E.compare(
        bundled, ["popularity"], protocols=["leave-last-out"], split=(train, test), progress=False
    )
    assert not any("timestamp of their latest rating" in n for n in given.notes), given.notes


def test_sampled_warnings_point_at_the_callers_line() -> None:
    """A warning names the line that asked for it. compare(..., protocols=["sampled"]) in a notebook showed
    '/…/movierec/errors.py:186: SampledMetricsWarning: sampled metrics can rank models differently …' and
    'return func(*args, **kwargs)': stacklevel=2 counted compare as the caller, but compare is wrapped by
    refuses_foreign_keywords, so the frame above it was the wrapper's. evaluate's copy is checked too."""
    from movierec.datasets import load
    from movierec.models.registry import create

    ds = load("ml-latest-small")
    with pytest.warns(E.SampledMetricsWarning, match="Krichene & Rendle") as caught:
        E.compare(ds, ["popularity"], protocols=["sampled"], progress=False)
    assert [w.filename for w in caught] == [__file__], [(w.filename, w.lineno) for w in caught]
    train, test, _ = E.make_split(ds)
    model = create("popularity").fit(train.to_implicit(4.0))
    with pytest.warns(E.SampledMetricsWarning, match="Krichene & Rendle") as caught:
        E.evaluate(model, train, test, "sampled", intervals=False)
    sampled = [w for w in caught if issubclass(w.category, E.SampledMetricsWarning)]
    assert [w.filename for w in sampled] == [__file__], [(w.filename, w.lineno) for w in sampled]


def test_compares_warning_names_the_callers_line_through_an_experiment(tmp_path: Path) -> None:
    """compare's sampled-metrics warning counted its frames (stacklevel=3: compare, then its keyword
    wrapper), so through run_experiment it named experiment.py's line, not the notebook's. evaluation's
    warnings now take the first frame outside movierec, as Recommender's do."""
    from movierec.experiment import Experiment, run_experiment

    exp = Experiment.model_validate(
        {"protocols": ["sampled"], "k": 5, "models": [{"name": "popularity"}], "dataset": "ml-latest-small"}
    )
    with pytest.warns(E.SampledMetricsWarning, match="Krichene & Rendle") as caught:
        run_experiment(exp, runs_dir=tmp_path)
    sampled = [w for w in caught if issubclass(w.category, E.SampledMetricsWarning)]
    assert [w.filename for w in sampled] == [__file__], [(w.filename, w.lineno) for w in sampled]


def test_evaluate_given_the_dataset_says_it_takes_a_splits_parts(bundled: Dataset) -> None:
    """evaluate(rec, ds, ds) failed with "AttributeError: 'Dataset' object has no attribute 'n_ratings'"."""
    import movierec

    rec = movierec.Recommender(bundled, "popularity").fit()
    for part, args in (("train", (bundled, bundled)), ("test", (bundled.interactions, bundled))):
        with pytest.raises(ConfigError) as err:
            E.evaluate(rec, *args)
        assert str(err.value) == (
            f"evaluate() takes a split's {part} part, not the Dataset: train, test, _ = movierec.make_split(ds), "
            "then evaluate(model, train, test) with the model fitted on train"
        )


def test_a_surprise_users_own_train_and_test_frames_are_read_with_the_datasets_ids(bundled: Dataset) -> None:
    """A notebook with its own train/test DataFrames: ``evaluate(rec, train_df, test_df)`` failed with
    "AttributeError: 'DataFrame' object has no attribute 'n_ratings'", and ``compare(..., split=(train_df,
    test_df))`` (then a one-line refusal) named Interactions. Both read the frames with the dataset's ids
    now, and score them as ``make_split(ds, test=test_df)`` scores the same rows, whatever the frames' row
    order (svd trains by SGD in row order). An id the dataset lacks, a test row also in train, a frame
    without ratings and a bare model (no dataset to read ids by) are one line each."""
    import movierec

    rows = bundled.to_frame().sort_values("timestamp", kind="stable")
    train_df, test_df = rows.iloc[:80_000], rows.iloc[80_000:]  # by time: not the dataset's order
    given = movierec.make_split(bundled, test=test_df)
    ref = movierec.compare(bundled, ["svd"], protocols="rating", split=given, progress=False)
    own = movierec.compare(bundled, ["svd"], protocols="rating", split=(train_df, test_df), progress=False)
    assert own.row("svd", "rating").metrics == ref.row("svd", "rating").metrics
    assert own.row("svd", "rating").n_users == test_df.userId.nunique()
    assert own.split == "given train/test (80,000 / 20,836 ratings)"
    rec = movierec.Recommender(bundled, "svd").fit(given[0])
    row = E.evaluate(rec, train_df, test_df, "rating")
    assert row.metrics == E.evaluate(rec, given[0], given[1], "rating").metrics
    assert row.metrics["rmse"] == ref.row("svd", "rating").metrics["rmse"]

    def refused(split: tuple[pd.DataFrame, pd.DataFrame]) -> str:
        with pytest.raises(ConfigError) as err:
            movierec.compare(bundled, ["baseline"], split=split, progress=False)
        return str(err.value)

    stranger = pd.DataFrame({"userId": [9999, 9998, 9997, 9996], "movieId": 1, "rating": 4.0, "timestamp": 1})
    assert refused((train_df, pd.concat([test_df, stranger]))) == (
        "4 of the test frame's 20,840 rows have a userId the dataset does not have (9999, 9998, 9997 … 4 in "
        "all): its ids are read as the dataset's; drop those rows, or use the dataset the frames come from"
    )
    assert refused((rows, test_df)) == (
        "20,836 of the test part's 20,836 rows are also in the train part (the first: user 10, movie 296): a "
        "rating belongs to one part of a split; drop them from train (make_split(ds, test=test_frame) trains "
        "on every other rating)"
    )
    assert refused((train_df, test_df[["userId", "movieId"]])) == (
        "the test frame has no rating column and the dataset has ratings: name them 'rating' "
        "(its columns: userId, movieId)"
    )
    bare = movierec.Recommender(bundled, "baseline").fit(given[0]).model
    with pytest.raises(
        ConfigError,
        match=r"^evaluate\(\) reads a DataFrame's raw ids by a Recommender's dataset; a bare Baseline has none",
    ):
        E.evaluate(bare, train_df, test_df, "rating")
    with pytest.raises(ConfigError) as err:
        movierec.make_split(bundled, (train_df, test_df))  # type: ignore[arg-type]
    assert str(err.value).startswith(
        "the split is a name such as 'ratings-holdout', not a tuple of DataFrame"
    )


def test_a_metric_or_a_word_of_a_protocol_names_the_protocol(tiny: Interactions) -> None:
    """``compare --protocols ranking`` answered "did you mean 'rating'?" (difflib's nearest spelling) where
    'ranking' is the word full-ranking is named by; ``--protocols rmse`` or ``ndcg@10`` (a metric where a
    protocol goes) named none. Each names the protocol now, a metric as the protocol that reports it."""
    o = Oracle(np.zeros(tiny.shape), "implicit")
    for typed, said in (
        ("ranking", "(did you mean 'full-ranking'?)"),
        ("RMSE", "(a metric, not a protocol: 'rating' reports it)"),
        ("ndcg@10", "(a metric, not a protocol: 'full-ranking' reports it)"),
        ("hit_rate", "(a metric, not a protocol: 'full-ranking' reports it)"),
    ):
        with pytest.raises(ConfigError) as err:
            E.evaluate(o, tiny, tiny, typed)
        assert str(err.value).startswith(f"unknown protocol {typed!r} {said}; all 6: "), str(err.value)
    with pytest.raises(
        ConfigError, match=r"^unknown protocol 'ful-ranking' \(did you mean 'full-ranking'\?\)"
    ):
        E.evaluate(o, tiny, tiny, "ful-ranking")  # a misspelling still gets difflib's pick


def test_a_full_ranking_tells_how_many_users_it_has_scored(bundled) -> None:  # type: ignore[no-untyped-def]
    """knn-baseline's full ranking of ml-latest-small's 595 test users took 6-8 s as one block of 1,024
    users, and compare's and the report's progress said 'evaluating full-ranking' and nothing more. The
    users are now scored in blocks of 64, 128, 256, … (never by timing, so a rerun scores the same blocks),
    ``on_scored`` told the count after each; the metrics stay the same."""
    from movierec.models.registry import create
    from movierec.split import ratings_holdout

    train, test = ratings_holdout(bundled.interactions, 0.2, seed=42)
    model = create("popularity").fit(train.to_implicit(4.0))
    proto = E.get_protocol("full-ranking")
    whole = proto.evaluate(model, train, test, k=10, threshold=4.0)
    told: list[tuple[int, int]] = []
    out = proto.evaluate(
        model, train, test, k=10, threshold=4.0, on_scored=lambda n, of: told.append((n, of))
    )
    users = len(out.users)
    ends = [64, 192, 448, 960, 1984]  # 64 + 128 + 256 + …
    assert told == [
        (min(n, users), users) for n in ends[: next(i for i, n in enumerate(ends) if n >= users) + 1]
    ]
    assert told[-1] == (users, users) and len(told) > 1
    assert out.metrics == whole.metrics


@pytest.mark.filterwarnings("ignore::movierec.evaluation.SampledMetricsWarning")
def test_sampled_and_test_candidates_tell_how_many_users_they_have_scored(bundled, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The sampled protocol scored knn-baseline's 595 users on ml-latest-small for about 7 s in one block of
    1,024, with no count on compare's line; test-candidates scored a non-rating model's users the same way.
    Both now score in the full ranking's blocks of 64, 128, 256, … and tell ``on_scored`` after each; a
    rating predictor's test-candidates (one ``predict`` of every test pair, 0.05 s) tells it once, at the
    end. Every per-user value is the one the old single block of 1,024 gave (ease: float32 products of other
    shapes)."""
    from movierec.models.registry import create
    from movierec.split import ratings_holdout

    train, test = ratings_holdout(bundled.interactions, 0.2, seed=42)
    ease = create("ease").fit(train.to_implicit(4.0))
    svd = create("svd", epochs=2, random_state=7).fit(train)

    def counted(proto, model):  # type: ignore[no-untyped-def]
        told: list[tuple[int, int]] = []
        on = proto.evaluate(
            model, train, test, k=10, threshold=4.0, on_scored=lambda n, of: told.append((n, of))
        )
        return on, told

    for name, model in (("sampled", ease), ("test-candidates", ease), ("test-candidates", svd)):
        proto = E.get_protocol(name)
        with monkeypatch.context() as m:
            m.setattr(E, "_PROBE", E._BATCH)  # one block of 1,024, as these protocols scored before
            whole = proto.evaluate(model, train, test, k=10, threshold=4.0)
        out, told = counted(proto, model)
        users = len(out.users)
        blocks = [(64, users), (192, users), (448, users), (users, users)]
        assert users == 595 and told == (blocks if model is ease else [(users, users)]), (name, told)
        assert out.metrics == whole.metrics, name
        for metric, values in whole.per_user.items():
            assert np.array_equal(out.per_user[metric], values), (name, metric)


def test_next_item_in_session_tells_how_many_users_it_has_scored(bundled) -> None:  # type: ignore[no-untyped-def]
    """next-item-in-session folds in every prefix of each user's latest session (2,904 on ml-latest-small,
    277 users) with no count on compare's line, where the other ranking protocols count their users. It now
    scores the sessions in the full ranking's blocks of 64, 128, 256, … users and tells ``on_scored`` after
    each; every per-user value is the one scoring all the sessions at once gives (each session alone)."""
    from movierec.models.registry import create
    from movierec.session_eval import MAX_EVENTS, session_cases, session_events

    train, test, _ = E.make_split(bundled.interactions, "last-session", seed=42)
    proto = E.get_protocol("next-item-in-session")
    for name in ("popularity", "markov"):
        model = create(name).fit(train)
        told: list[tuple[int, int]] = []
        out = proto.evaluate(
            model, train, test, k=10, on_scored=lambda n, of, told=told: told.append((n, of))
        )
        assert told == [(64, 277), (192, 277), (277, 277)], (name, told)
        whole, users, events = session_events(model, session_cases(test), k=10, max_events=MAX_EVENTS)
        assert np.array_equal(out.users, users) and f"{events} events in 277 sessions" in out.notes[0], name
        assert out.per_user.keys() == whole.keys() and out.metrics == {
            m: float(v.mean()) for m, v in whole.items()
        }
        for metric, values in whole.items():
            assert np.array_equal(out.per_user[metric], values), (name, metric)
