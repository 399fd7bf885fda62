"""The ridge blend of explicit models: contract, determinism, held-out weights, and that blending helps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from contract import check_contract
from movierec.datasets import Dataset
from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.registry import create
from movierec.split import ratings_holdout

SMALL_BASES = {"svd": {"n_factors": 4, "n_epochs": 5}, "baseline": {}, "knn-baseline": {"k": 10}}


@pytest.mark.parametrize("params", [{}, {"folds": 3, "meta_features": False}])
def test_contract(params: dict, tiny: Interactions, tmp_path: Path) -> None:
    check_contract("blend", tiny, tmp_path, bases=SMALL_BASES, **params)
    assert (tmp_path / "blend" / "bases" / "0" / "model.json").is_file()  # each base saved beside the blend


def test_predictions_in_range_and_deterministic(tiny: Interactions) -> None:
    train, test = ratings_holdout(tiny, 0.2, 1)
    a = create("blend", bases=SMALL_BASES, random_state=3).fit(train)
    b = create("blend", bases=SMALL_BASES, random_state=3).fit(train)
    pa = a.predict(test.users, test.items)
    np.testing.assert_array_equal(pa, b.predict(test.users, test.items))
    assert pa.min() >= 0.5 and pa.max() <= 5.0
    unclipped = a.predict(test.users, test.items, clip=False)
    np.testing.assert_array_equal(np.clip(unclipped, 0.5, 5.0), pa)
    # unknown users and items (-1) fall back inside each base, so the blend still predicts
    assert np.isfinite(a.predict(np.array([-1, 0]), np.array([0, -1]))).all()
    weights = a.blend_weights()
    assert set(weights) == {*SMALL_BASES, "intercept"}
    c = create("blend", bases=SMALL_BASES, random_state=4).fit(train)  # another seed: another inner split
    assert not np.array_equal(c.weights_, a.weights_)


def test_two_instances_of_one_model_by_label(tiny: Interactions) -> None:
    m = create("blend", bases={"svd": {"n_epochs": 3}, "svd#unbiased": {"n_epochs": 3, "biased": False}}).fit(
        tiny
    )
    assert list(m.models_) == ["svd", "svd#unbiased"]
    assert m.models_["svd#unbiased"].biased is False


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"bases": {"ease": {}}}, "not a rating model"),
        ({"bases": {"blend": {}}}, "cannot contain another blend"),
        ({"bases": {}}, "non-empty table"),
        ({"bases": {"nosuch": {}}}, "unknown model"),
        ({"bases": {"svd": 3}}, "params must be a table"),
        ({"holdout": 1.5}, "holdout"),
        ({"folds": 0}, "folds"),
        ({"alpha": -1.0}, "alpha"),
    ],
)
def test_bad_params_raise_config_errors(params: dict, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        create("blend", **params)


def test_blend_beats_its_best_base_on_a_bundled_holdout(bundled: Dataset) -> None:
    """Measured (ml-latest-small, 80/20 seed 42): knn-baseline 0.8593 best base, blend 0.8447 RMSE."""
    train, test = ratings_holdout(bundled.interactions, 0.2, 42)
    bases = {
        "svd": {"n_epochs": 20, "reg": 0.05},
        "knn-baseline": {},
        "baseline": {},
        "svd#unbiased": {"n_factors": 20, "n_epochs": 20, "reg": 0.08, "biased": False},
    }
    m = create("blend", bases=bases).fit(train)

    def rmse(pred: np.ndarray) -> float:
        return float(np.sqrt(np.mean((pred - test.ratings) ** 2)))

    # the refitted bases are exactly the models fitted alone on the training split (same params, seed)
    base = {label: rmse(b.predict(test.users, test.items)) for label, b in m.models_.items()}
    blended = rmse(m.predict(test.users, test.items))
    assert blended <= min(base.values()) - 0.005, (blended, base)
    # the weights were fitted on held-out predictions, not on the ratings the bases trained on
    assert m.blend_rmse_ < min(m.base_rmse_.values())


def test_tune_searches_the_blend_ridge_with_fixed_bases(tiny: Interactions, tmp_path: Path) -> None:
    pytest.importorskip("optuna")
    from movierec.experiment import load_experiment
    from movierec.tuning import tune

    res = tune(
        tiny,
        "blend",
        metric="rmse",
        n_trials=2,
        cv=2,
        seed=1,
        fixed_params={"bases": SMALL_BASES},
        out=tmp_path / "t",
    )
    assert set(res.best_params) == {"alpha", "meta_features", "holdout"}
    params = load_experiment(tmp_path / "t" / "best.toml").models[0].params  # best.toml carries the bases
    assert params["bases"] == SMALL_BASES and params["alpha"] == pytest.approx(res.best_params["alpha"])


def test_a_time_base_gets_the_timestamps_through_the_blend() -> None:
    """A blend with bayesian-fm's timeSVD++ features uses the ratings' days, in fitting its weights and in
    predicting, and the rating protocol passes them (before, it scored every pair with day-free terms)."""
    from test_bayesian import _sessions_data

    from movierec.evaluation import RatingProtocol
    from movierec.models.bayesian import BayesianFM

    train, test = ratings_holdout(_sessions_data(), 0.2, 42)
    bfm = {"features": "timesvdpp-flipped", "rank": 4, "n_iter": 20, "burn_in": 5}
    blend = create("blend", bases={"bayesian-fm": bfm, "baseline": {}}, random_state=1)
    assert blend.predicts_with_time  # known before fitting, from the bases' settings
    blend.fit(train)
    timed = blend.predict(test.users, test.items, timestamps=test.timestamps)
    day_free = blend.predict(test.users, test.items)
    assert not np.allclose(timed, day_free)
    got = RatingProtocol().evaluate(blend, train, test).metrics["rmse"]
    assert got == pytest.approx(float(np.sqrt(np.mean((timed - test.ratings) ** 2))))
    assert BayesianFM(**bfm).predicts_with_time
    assert not create("blend", bases={"svd": {}, "baseline": {}}).predicts_with_time
