"""``fit_partial``: a fitted model trained further (LightFM's ``fit_partial``; docs/from-lightfm.md).

N epochs then M more must give the weights of one fit of N + M epochs, bit for bit (one thread, the
same seed), in memory and after ``save``/``load_model``; a model that cannot continue, or data and
features that do not fit the fitted state, get one ConfigError sentence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import movierec
from movierec.datasets import Dataset
from movierec.errors import ConfigError
from movierec.features import build_item_features
from movierec.interactions import Interactions
from movierec.models import load_model
from movierec.models.registry import create


@pytest.fixture(scope="module")
def positives(bundled: Dataset) -> Interactions:
    return bundled.interactions.to_implicit(4.0)


def _same(a: object, b: object) -> None:
    """Every learned vector and bias of two hybrid (or svd) models equal, bit for bit."""
    for key in ("item_factors_", "item_bias_", "user_factors_", "user_bias_"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)


# every schedule's state: LearnBPR's sgd (none), adagrad (accumulators), adadelta (and momenta)
@pytest.mark.parametrize(
    ("name", "schedule"),
    [("bpr", "auto"), ("warp", "adagrad"), ("logistic", "adadelta"), ("warp-kos", "adagrad")],
)
def test_n_epochs_then_m_more_equal_one_fit_of_n_plus_m(
    positives: Interactions, tmp_path: Path, name: str, schedule: str
) -> None:
    params = {"factors": 8, "learning_schedule": schedule, "random_state": 3}
    once = create(name, epochs=5, **params).fit(positives)
    resumed = create(name, epochs=2, **params).fit(positives)
    untouched = create(name, epochs=2, **params).fit(positives)
    assert not np.array_equal(once.item_factors_, resumed.item_factors_)  # two epochs short: differs
    resumed.fit_partial(positives, epochs=3)
    _same(once, resumed)
    assert [row["epoch"] for row in resumed.history_] == [1, 2, 3, 4, 5]
    untouched.save(tmp_path / "m")  # the saved model continues as the one in memory did
    loaded = load_model(tmp_path / "m")
    loaded.fit_partial(positives, epochs=1)
    loaded.fit_partial(positives, epochs=2)
    _same(once, loaded)


def test_the_optimiser_state_is_what_makes_the_equality(positives: Interactions) -> None:
    """Continuing adagrad with fresh accumulators (or a fresh random stream) is not the one fit: the
    equality above holds because both are kept."""
    once = create("warp", factors=8, epochs=3).fit(positives)
    for key, fresh in [("training_item_acc_", 1.0), ("training_rng_", None)]:
        model = create("warp", factors=8, epochs=2).fit(positives)
        if fresh is None:
            model.training_rng_ = dict(np.random.default_rng(0).bit_generator.state)
        else:
            model.training_item_acc_ = np.full_like(model.training_item_acc_, fresh)
        model.fit_partial(positives, 1)
        assert not np.array_equal(once.item_factors_, model.item_factors_), key


def test_side_features_continue_and_must_be_the_fits(bundled: Dataset, positives: Interactions) -> None:
    feats = build_item_features(bundled, positives.item_map, "genres")
    users = sp.csr_matrix(np.eye(positives.n_users, 3, dtype=np.float32) + 0.5)
    params = {"factors": 8, "learning_schedule": "adadelta"}
    once = create("warp", epochs=3, **params).fit(positives, item_features=feats, user_features=users)
    model = create("warp", epochs=1, **params).fit(positives, item_features=feats, user_features=users)
    with pytest.raises(
        ConfigError, match=r"fitted with \d+ item and 3 user side features and these are \d+ and 0"
    ):
        model.fit_partial(positives, 2, item_features=feats)
    model.fit_partial(positives, 2, item_features=feats, user_features=users)
    _same(once, model)


def test_svd_sweeps_on_from_its_fitted_factors(bundled: Dataset, tmp_path: Path) -> None:
    ratings = bundled.interactions
    once = create("svd", factors=8, epochs=4).fit(ratings)
    create("svd", factors=8, epochs=1).fit(ratings).save(tmp_path / "svd")
    model = load_model(tmp_path / "svd")
    model.fit_partial(ratings, epochs=3)
    _same(once, model)
    assert len(model.history_) == 4


def test_unfitted_fit_partial_is_a_fresh_run_as_in_lightfm(positives: Interactions) -> None:
    model = create("bpr", factors=8, epochs=99).fit_partial(positives, epochs=2)
    _same(create("bpr", factors=8, epochs=2).fit(positives), model)


def test_models_that_cannot_continue_say_what_to_do_instead(positives: Interactions) -> None:
    for name in ("ease", "ials", "svdpp"):
        model = create(name)
        with pytest.raises(ConfigError, match=rf"^{name} cannot train further from its fitted state .*refit"):
            model.fit_partial(positives)
    with pytest.raises(ConfigError, match="epochs must be a whole number ≥ 1, got 0"):
        create("warp").fit_partial(positives, epochs=0)


def test_new_users_or_movies_are_refused_with_refit_or_fold_in(
    bundled: Dataset, positives: Interactions
) -> None:
    model = create("warp", factors=8, epochs=1).fit(positives)
    frame = bundled.to_frame()
    others = movierec.Interactions.from_frame(frame[frame.userId <= 100])  # its own, smaller id maps
    with pytest.raises(ConfigError, match=r"fitted on 610 users .* train has 100 users .* refit .* fold-in"):
        model.fit_partial(others)
    renamed = Interactions.from_csr(positives.csr(), item_ids=np.arange(positives.n_items) + 10**6)
    with pytest.raises(ConfigError, match="with other ids"):  # same sizes, other movies
        model.fit_partial(renamed)
    with pytest.raises(ConfigError, match="fitted with factors=8, not 16: set factors=8"):
        model.set_params(factors=16).fit_partial(positives)
    model.set_params(factors=8)
    grown = movierec.Interactions.from_frame(  # the same maps, fewer rows: accepted
        frame.head(20_000), user_map=positives.user_map, item_map=positives.item_map
    )
    model.fit_partial(grown)
    assert model.n_items_ == positives.n_items and len(model.history_) == 2


def test_a_reference_lightfm_model_is_not_continued(positives: Interactions) -> None:
    pytest.importorskip("lightfm")
    model = create("lightfm:warp", no_components=4, epochs=1).fit(positives)
    with pytest.raises(ConfigError, match="trained by the reference library"):
        model.fit_partial(positives)
