"""Popularity: counts of positives, recency window, weighting options and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from contract import check_contract
from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.popularity import Popularity


def test_contract(tiny: Interactions, tmp_path) -> None:
    check_contract("popularity", tiny.to_implicit(3.0), tmp_path)


def test_scores_are_counts_of_positives(tiny: Interactions) -> None:
    train = tiny.to_implicit(4.0)
    model = Popularity().fit(train)
    np.testing.assert_array_equal(
        model.score(np.array([0]))[0], np.bincount(train.items, minlength=train.n_items)
    )
    items, _ = model.recommend(np.array([0]), k=3, exclude_seen=False)
    counts = train.item_counts()
    assert counts[items[0][0]] == counts.max()


def test_window_keeps_only_recent_interactions(tiny: Interactions) -> None:
    ts = tiny.timestamps
    days = 30
    model = Popularity(window_days=days).fit(tiny)
    recent = ts >= ts.max() - days * 86400
    np.testing.assert_array_equal(model.item_scores_, np.bincount(tiny.items[recent], minlength=tiny.n_items))


def test_rating_and_recency_weighting(tiny: Interactions) -> None:
    by_rating = Popularity(weighting="rating").fit(tiny).item_scores_
    user_mean = np.bincount(tiny.users, tiny.ratings) / np.bincount(tiny.users)
    relative = tiny.ratings / user_mean[tiny.users]  # each rating over its user's mean
    np.testing.assert_allclose(
        by_rating, np.bincount(tiny.items, weights=relative, minlength=tiny.n_items), rtol=1e-5
    )
    decayed = Popularity(weighting="recency", half_life_days=10).fit(tiny).item_scores_
    plain = Popularity().fit(tiny).item_scores_
    assert (decayed <= plain + 1e-6).all() and decayed.sum() < plain.sum()


def test_bad_input(tiny: Interactions) -> None:
    with pytest.raises(ConfigError, match="leaves no positives"):
        tiny.to_implicit(threshold=9.0)
    with pytest.raises(ConfigError, match="weighting must be one of"):
        Popularity(weighting="loud").fit(tiny)
    with pytest.raises(ConfigError, match="window_days"):
        Popularity(window_days=-1).fit(tiny)
    no_time = Interactions(tiny.users, tiny.items, tiny.ratings, tiny.user_map, tiny.item_map)
    with pytest.raises(DataError, match="timestamps"):
        Popularity(weighting="recency").fit(no_time)
