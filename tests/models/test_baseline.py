"""Global mean and μ + b_u + b_i baselines: hand-worked cases, fallback flags, bad parameters, Surprise parity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contract import check_contract
from movierec.datasets import Dataset
from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.baseline import Baseline, GlobalMean, estimate_biases, surprise_order
from movierec.models.registry import create
from movierec.split import ratings_holdout


def three_by_three() -> Interactions:
    """u0: i0=5, i1=3; u1: i0=4, i2=2; u2: i1=1, i2=3 (μ = 3)."""
    frame = pd.DataFrame(
        {
            "userId": [0, 0, 1, 1, 2, 2],
            "movieId": [0, 1, 0, 2, 1, 2],
            "rating": [5.0, 3.0, 4.0, 2.0, 1.0, 3.0],
        }
    )
    return Interactions.from_frame(frame, time_col=None, rating_scale=(0.5, 5.0))


@pytest.mark.parametrize(
    ("name", "params"), [("global-mean", {}), ("baseline", {}), ("baseline", {"method": "sgd"})]
)
def test_contract(name: str, params: dict, tiny: Interactions, tmp_path: Path) -> None:
    check_contract(name, tiny, tmp_path, **params)


def test_global_mean_predicts_the_mean_everywhere() -> None:
    model = GlobalMean().fit(three_by_three())
    assert model.predict(np.array([0, 2]), np.array([2, 0])).tolist() == [3.0, 3.0]
    assert model.score(np.array([1])).tolist() == [[3.0, 3.0, 3.0]]


def test_global_mean_predicts_the_mean_for_a_visitor_too(tmp_path: Path) -> None:
    """A person not in the data gets μ, as every known user does (the ridge fold-in gave them their own
    mean rating, 4.75 here); the artifact's visitor agrees."""
    from movierec.datasets import from_frame
    from movierec.serving.artifact import export_artifact, load_artifact

    train = three_by_three()
    model = GlobalMean().fit(train)
    raw = model._visitor_scorer().fold_in(np.array([0, 1]), np.array([5.0, 4.5], dtype=np.float32))
    assert raw.tolist() == [3.0, 3.0, 3.0]
    frame = pd.DataFrame({"userId": train.user_map.ids[train.users], "movieId": train.item_map.ids[train.items],
                          "rating": train.ratings})  # fmt: skip
    ds = from_frame(frame, time_col=None, rating_scale=(0.5, 5.0))
    art = load_artifact(export_artifact(model, ds, train, tmp_path / "gm"))
    items = np.array([art.item_index(0), art.item_index(1)])
    assert art.scorer.fold_in(items, np.array([5.0, 4.5], dtype=np.float32)).tolist() == [3.0, 3.0, 3.0]


def test_als_one_epoch_by_hand() -> None:
    """No regularisation, one sweep: b_i = mean(r − μ) over the item's users, then b_u = mean(r − μ − b_i)."""
    model = Baseline(reg_i=0, reg_u=0, n_epochs=1).fit(three_by_three())
    np.testing.assert_allclose(model.item_bias_, [1.5, -1.0, -0.5], atol=1e-6)
    np.testing.assert_allclose(model.user_bias_, [0.75, -0.5, -0.25], atol=1e-6)
    assert model.predict(np.array([0]), np.array([2]))[0] == pytest.approx(3.0 + 0.75 - 0.5, abs=1e-6)


def test_als_regularised_by_hand() -> None:
    """reg_i=10, reg_u=15, one sweep: the sums are divided by (reg + count)."""
    model = Baseline(reg_i=10, reg_u=15, n_epochs=1).fit(three_by_three())
    bi = np.array([3 / 12, -2 / 12, -1 / 12])
    bu = np.array([(2 - bi[0]) + (0 - bi[1]), (1 - bi[0]) + (-1 - bi[2]), (-2 - bi[1]) + (0 - bi[2])]) / 17
    np.testing.assert_allclose(model.item_bias_, bi, atol=1e-6)
    np.testing.assert_allclose(model.user_bias_, bu, atol=1e-6)


def test_sgd_one_rating_by_hand() -> None:
    frame = pd.DataFrame({"userId": [1], "movieId": [1], "rating": [4.0]})
    train = Interactions.from_frame(frame, time_col=None, rating_scale=(1.0, 5.0))
    model = Baseline("sgd", reg=0.5, learning_rate=0.1, n_epochs=1).fit(train)
    # μ = 4, err = 0 for the only rating: nothing moves
    assert model.user_bias_[0] == 0 and model.item_bias_[0] == 0
    _, bu, bi = estimate_biases(three_by_three(), "sgd", reg=0.0, learning_rate=0.1, n_epochs=1)
    # first rating (u0, i0, 5): err = 2, both biases += 0.1·2
    assert bi[0] > 0 and bu[0] > 0


def test_surprise_order_groups_users_by_first_appearance() -> None:
    frame = pd.DataFrame({"userId": [7, 3, 7, 5, 3], "movieId": [1, 2, 3, 4, 5], "rating": [1.0] * 5})
    train = Interactions.from_frame(frame, time_col=None)
    # users appear as 7, 3, 5: rows of 7 (0, 2), then 3 (1, 4), then 5 (3)
    assert surprise_order(train).tolist() == [0, 2, 1, 4, 3]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_first_appearance_kernels_match_numpy_sorts(seed: int) -> None:
    """The O(n) counting passes give what np.unique + stable argsort give (the former implementation)."""
    from movierec.models.baseline import first_appearance

    rng = np.random.default_rng(seed)
    users = rng.integers(0, 50, 400).astype(np.int32)
    uniq, first = np.unique(users, return_index=True)
    expected_firsts = uniq[np.argsort(first, kind="stable")]
    assert first_appearance(users).tolist() == expected_firsts.tolist()
    rank = np.zeros(50, dtype=np.int64)
    rank[expected_firsts] = np.arange(len(expected_firsts))
    frame = pd.DataFrame({"userId": users, "movieId": np.arange(400), "rating": 1.0})
    train = Interactions.from_frame(frame, time_col=None)
    order = surprise_order(train)
    ref_rank = np.zeros(train.n_users, dtype=np.int64)
    ref_firsts = first_appearance(train.users)
    ref_rank[ref_firsts] = np.arange(len(ref_firsts))
    assert order.tolist() == np.argsort(ref_rank[train.users], kind="stable").tolist()
    assert sorted(order.tolist()) == list(range(400))


def test_unknown_users_and_items_fall_back_with_a_flag() -> None:
    full = three_by_three()
    train = full.subset(np.array([0, 1, 2, 3]))  # u2 has no training ratings; every item still rated
    model = Baseline().fit(train)
    pred, flags = model.predict_with_flags(np.array([2, -1, 0, 0]), np.array([0, 1, 0, -1]))
    assert flags.tolist() == [True, True, False, True]
    mu, bu, bi = float(model.global_mean_), model.user_bias_, model.item_bias_
    np.testing.assert_allclose(pred, [mu + bi[0], mu + bi[1], mu + bu[0] + bi[0], mu + bu[0]], atol=1e-6)
    # -1 marks an unknown id; an index past the end is a mistake (a raw id?), not a cold item
    with pytest.raises(ConfigError, match=r"item index 9 is outside 0\.\.2"):
        model.predict(np.array([0]), np.array([9]))


def test_predictions_are_clipped_to_the_scale() -> None:
    frame = pd.DataFrame({"userId": [0, 0, 1, 1], "movieId": [0, 1, 0, 1], "rating": [5.0, 5.0, 5.0, 1.0]})
    train = Interactions.from_frame(frame, time_col=None, rating_scale=(1.0, 5.0))
    model = Baseline(reg_i=0, reg_u=0, n_epochs=30).fit(train)
    raw = model.predict(np.array([0, 1]), np.array([0, 1]), clip=False)
    clipped = model.predict(np.array([0, 1]), np.array([0, 1]))
    assert ((clipped >= 1.0) & (clipped <= 5.0)).all()
    np.testing.assert_allclose(clipped, np.clip(raw, 1.0, 5.0))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"method": "newton"}, "method"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"reg_i": -1}, "reg_i"),
        ({"n_epochs": 0}, "n_epochs"),
    ],
)
def test_bad_hyperparameters_name_the_field(params: dict, field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        create("baseline", **params)


@pytest.fixture(scope="module")
def notebook_split(bundled: Dataset) -> tuple[Interactions, Interactions]:
    return ratings_holdout(bundled.interactions, 0.2, 42)


def _rmse(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(np.sqrt(np.mean((pred - truth) ** 2)))


@pytest.mark.reference
@pytest.mark.parametrize("method", ["als", "sgd"])
def test_parity_with_surprise_baseline_only(
    method: str, notebook_split: tuple[Interactions, Interactions]
) -> None:
    """Same split, same options: Surprise's BaselineOnly and ours agree prediction by prediction."""
    surprise = pytest.importorskip("surprise")
    from movierec.models.reference.surprise import to_trainset

    train, test = notebook_split
    algo = surprise.BaselineOnly(bsl_options={"method": method}, verbose=False).fit(to_trainset(train))
    theirs = np.array(
        [algo.predict(u, i).est for u, i in zip(test.users.tolist(), test.items.tolist(), strict=True)]
    )
    ours = Baseline(method).fit(train).predict(test.users, test.items)
    assert abs(_rmse(ours, test.ratings) - _rmse(theirs, test.ratings)) <= 0.01
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
