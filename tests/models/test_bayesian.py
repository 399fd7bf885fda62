"""Bayesian FM (Gibbs sampling): contract, the factor form equals the FM on every pair, parity with myfm."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from contract import check_contract
from datagen import make_ratings
from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.bayesian import BayesianFM, side_matrices
from movierec.split import ratings_holdout


def _sessions_data(seed: int = 5) -> Interactions:
    """Generated ratings where each user rates on a few days, so (user, day) sessions repeat."""
    frame = make_ratings(120, 90, density=0.25, seed=seed)
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 3, len(frame)) + 7 * (frame["userId"].to_numpy() % 5)
    frame["timestamp"] = 1_000_000_000 + days * 86400 + rng.integers(0, 80_000, len(frame))
    return Interactions.from_frame(frame, rating_scale=(0.5, 5.0))


@pytest.mark.parametrize("features", ["mf", "svdpp", "flipped", "timesvdpp-flipped"])
def test_contract(tiny: Interactions, tmp_path, features: str) -> None:
    model = check_contract("bayesian-fm", tiny, tmp_path, rank=3, n_iter=8, burn_in=2, features=features)
    assert model.n_kept_ == 6 and model.user_factors_.shape == (tiny.n_users, 18)
    pred = model.predict(np.array([0, 1]), np.array([2, 3]))
    assert ((pred >= 0.5) & (pred <= 5.0)).all()


def test_side_matrices_build_the_svdpp_and_flipped_blocks(tiny: Interactions) -> None:
    xu, xi, sizes = side_matrices(tiny, "flipped")
    assert sizes == [tiny.n_users, tiny.n_items, tiny.n_items, tiny.n_users]
    u = 4
    rated = np.unique(tiny.items[tiny.users == u])
    row = xu[u].toarray().ravel()
    assert row[u] == 1.0 and row[: tiny.n_users].sum() == 1.0
    np.testing.assert_allclose(row[tiny.n_users + rated], 1 / np.sqrt(len(rated)))
    assert xi[:, : sizes[0] + sizes[1]].nnz == 0 and xu[:, sizes[0] + sizes[1] :].nnz == 0


def test_posterior_mean_is_the_average_of_sample_predictions(tiny: Interactions) -> None:
    """With one kept sample, predictions from the side decomposition (w0 + b_u + b_i + ⟨P_u, Q_i⟩) equal the
    full FM's, whose training residuals the sampler reports as its last RMSE."""
    model = BayesianFM(rank=4, n_iter=3, burn_in=2, features="flipped").fit(tiny)
    assert model.n_kept_ == 1
    pred = model.predict(tiny.users, tiny.items, clip=False)
    rmse = np.sqrt(np.mean((pred - tiny.ratings) ** 2))
    assert abs(rmse - model.history_[-1]["rmse"]) < 1e-6


@pytest.mark.parametrize("features", ["timesvdpp", "timesvdpp-flipped"])
def test_time_features_posterior_mean_matches_training_residuals(features: str) -> None:
    """With one kept sample and the training timestamps, every training pair is scored through its own
    session (user-day) terms, and the result is the sampler's own full-FM prediction."""
    train = _sessions_data()
    model = BayesianFM(rank=4, n_iter=3, burn_in=2, features=features).fit(train)
    assert 0 < len(model.session_keys_) < train.n_ratings and model.predicts_with_time
    pred = model.predict(train.users, train.items, clip=False, timestamps=train.timestamps)
    rmse = np.sqrt(np.mean((pred - train.ratings) ** 2))
    assert abs(rmse - model.history_[-1]["rmse"]) < 1e-6
    day_free = model.predict(train.users, train.items, clip=False)
    assert not np.allclose(day_free, pred)
    with pytest.raises(ConfigError, match="timestamps"):
        model.predict(train.users[:3], train.items[:3], timestamps=train.timestamps[:2])


def test_rating_protocol_passes_timestamps_to_time_models() -> None:
    from movierec.evaluation import RatingProtocol

    train, test = ratings_holdout(_sessions_data(), 0.2, 42)
    model = BayesianFM(rank=4, n_iter=20, burn_in=5, features="timesvdpp-flipped").fit(train)
    got = RatingProtocol().evaluate(model, train, test).metrics["rmse"]
    want = np.sqrt(
        np.mean((model.predict(test.users, test.items, timestamps=test.timestamps) - test.ratings) ** 2)
    )
    assert got == pytest.approx(want)
    day_free = np.sqrt(np.mean((model.predict(test.users, test.items) - test.ratings) ** 2))
    assert got != pytest.approx(day_free)


def test_time_features_need_timestamps(tiny: Interactions) -> None:
    bare = Interactions(
        tiny.users, tiny.items, tiny.ratings, tiny.user_map, tiny.item_map, None, tiny.rating_scale
    )
    with pytest.raises(DataError, match="timestamps"):
        BayesianFM(rank=2, n_iter=3, burn_in=1, features="timesvdpp").fit(bare)


@pytest.mark.parametrize("features", ["svdpp", "timesvdpp-flipped"])
def test_parity_with_myfm(features: str) -> None:
    pytest.importorskip("myfm")
    from movierec.evaluation import predict_ratings
    from movierec.models.registry import create

    inter = _sessions_data()
    train, test = ratings_holdout(inter, 0.2, 42)
    out = {}
    for name in ("bayesian-fm", "myfm:bfm"):
        model = create(name, rank=4, n_iter=60, burn_in=10, features=features).fit(train)
        out[name] = float(np.sqrt(np.mean((predict_ratings(model, test) - test.ratings) ** 2)))
    assert abs(out["bayesian-fm"] - out["myfm:bfm"]) < 0.02, out
    mean_only = float(np.sqrt(np.mean((train.ratings.mean() - test.ratings) ** 2)))
    assert out["bayesian-fm"] < 0.9 * mean_only, (out, mean_only)


def test_bad_parameters(tiny: Interactions) -> None:
    with pytest.raises(ConfigError, match="burn_in"):
        BayesianFM(n_iter=5, burn_in=5).fit(tiny)
    with pytest.raises(ConfigError, match="features"):
        BayesianFM(features="time").fit(tiny)
    assert sp.issparse(side_matrices(tiny, "mf")[0])
