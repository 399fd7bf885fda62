"""Surprise's remaining algorithms (normal-predictor, slope-one, nmf, co-clustering, knn-zscore): contract
and agreement with Surprise on the same split (same inner-id order, so seeded runs start alike)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contract import check_contract
from datagen import make_ratings
from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.classic import NMF, SlopeOne
from movierec.models.registry import create
from movierec.split import ratings_holdout

NAMES = ["normal-predictor", "slope-one", "nmf", "co-clustering", "knn-zscore"]


@pytest.fixture
def whole_stars() -> Interactions:
    """60 users × 50 items with 1–5 whole-star ratings (Surprise's co-clustering sums ratings as ints)."""
    frame = make_ratings(60, 50, density=0.3, seed=4)
    frame["rating"] = np.clip(np.ceil(frame["rating"]), 1, 5)
    return Interactions.from_frame(frame, rating_scale=(1.0, 5.0))


@pytest.mark.parametrize("name", NAMES)
def test_contract(whole_stars: Interactions, tmp_path, name: str) -> None:
    check_contract(name, whole_stars, tmp_path)


def _surprise(algo, train: Interactions, test: Interactions) -> np.ndarray:  # type: ignore[no-untyped-def]
    from surprise import Dataset, Reader

    frame = pd.DataFrame({"u": train.users, "i": train.items, "r": train.ratings})  # our row order
    trainset = Dataset.load_from_df(frame, Reader(rating_scale=(1, 5))).build_full_trainset()
    algo.fit(trainset)
    return np.array(
        [algo.predict(u, i).est for u, i in zip(test.users.tolist(), test.items.tolist(), strict=True)]
    )


def _rmse(pred: np.ndarray, test: Interactions) -> float:
    return float(np.sqrt(np.mean((pred - test.ratings) ** 2)))


@pytest.mark.parametrize(
    ("name", "params", "ref", "exact"),
    [
        ("slope-one", {}, "SlopeOne()", True),
        ("nmf", {"random_state": 3}, "NMF(random_state=3)", True),
        ("co-clustering", {"random_state": 3}, "CoClustering(random_state=3)", True),
        (
            "knn-zscore",
            {"k": 10},
            "KNNWithZScore(k=10, verbose=False, sim_options={'user_based': False})",
            False,
        ),
        ("knn-zscore", {"k": 10, "user_based": True}, "KNNWithZScore(k=10, verbose=False)", False),
        ("normal-predictor", {"random_state": 3}, "NormalPredictor()", False),
    ],
)
def test_agrees_with_surprise(
    whole_stars: Interactions, name: str, params: dict, ref: str, exact: bool
) -> None:
    surprise = pytest.importorskip("surprise")
    train, test = ratings_holdout(whole_stars, 0.2, 7)
    ours = create(name, **params).fit(train).predict(test.users, test.items)
    np.random.seed(3)  # Surprise's NormalPredictor draws from numpy's global generator
    theirs = _surprise(eval(ref, vars(surprise)), train, test)
    if exact:  # same definition and, where random, the same starting point: the same numbers
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
    tol = 0.15 if name == "normal-predictor" else 0.005  # normal-predictor: two random draws (σ: below)
    assert abs(_rmse(ours, test) - _rmse(theirs, test)) < tol, (_rmse(ours, test), _rmse(theirs, test))


def test_normal_predictor_fits_surprises_distribution(whole_stars: Interactions) -> None:
    surprise = pytest.importorskip("surprise")
    ref = surprise.NormalPredictor()
    _surprise(ref, whole_stars, whole_stars.subset(np.arange(3)))
    ours = create("normal-predictor").fit(whole_stars)
    assert (
        abs(ours.sigma_ - ref.sigma) < 1e-6
        and abs(float(ours.global_mean_) - ref.trainset.global_mean) < 1e-6
    )
    draws = ours.predict(np.zeros(20_000, np.int64), np.zeros(20_000, np.int64), clip=False)
    assert abs(draws.std() - ref.sigma) < 0.03 and abs(draws.mean() - ref.trainset.global_mean) < 0.03


@pytest.mark.parametrize("name", ["slope-one", "nmf"])
def test_grid_predictions_equal_predict_and_score_is_the_shrunk_rating(
    name: str, whole_stars: Interactions
) -> None:
    """Their matrix-product grids are ``predicted_scores``; ``score`` stays every rating predictor's ranking
    score (the support-shrunk rating), as evaluation, ``recommend`` and the artifact rank by it."""
    from movierec.scoring.support import explicit_rank_score

    model = create(name).fit(whole_stars)
    users = np.arange(5)
    grid = model.predicted_scores(users)
    pairs = model.predict(
        np.repeat(users, whole_stars.n_items), np.tile(np.arange(whole_stars.n_items), 5), clip=False
    )
    np.testing.assert_allclose(grid.ravel(), pairs, rtol=1e-5, atol=1e-5)
    items = np.array([3, 0, 7])
    np.testing.assert_allclose(model.predicted_scores(users, items), grid[:, items], rtol=1e-6)
    shrunk = explicit_rank_score(
        grid,
        model.item_support(),
        model.train_mean(),
        model.rating_scale_,
        model.rank_shrinkage,
        model.user_priors(users),
    )
    np.testing.assert_allclose(model.score(users), shrunk, rtol=1e-6)
    assert not np.allclose(model.score(users), grid)  # the shrinkage acts: the raw grid is not the score


def test_bad_parameters(whole_stars: Interactions) -> None:
    with pytest.raises(ConfigError, match="init_low"):
        NMF(init_low=2.0, init_high=1.0).fit(whole_stars)
    with pytest.raises(ConfigError, match="max_items"):
        SlopeOne(max_items=10).fit(whole_stars)
