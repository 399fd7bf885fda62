"""per_user_split: RecBole's default 8:1:1 per-user split (train, validation, test), its sizes exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import movierec
from datagen import make_ratings, ml100k_path
from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.split import per_user_split


def recbole_counts(tot: int, ratios: list[float]) -> list[int]:
    """RecBole 1.2's ``Dataset._calcu_split_ids`` (recbole/data/dataset/dataset.py), as sizes: the
    reference the split's per-user sizes must equal, written out as RecBole writes it."""
    total = sum(ratios)
    ratios = [r / total for r in ratios]
    cnt = [int(ratios[i] * tot) for i in range(len(ratios))]
    cnt[0] = tot - sum(cnt[1:])
    for i in range(1, len(ratios)):
        if cnt[0] <= 1:
            break
        if 0 < ratios[-i] * tot < 1:
            cnt[-i] += 1
            cnt[0] -= 1
    return cnt


def _one_user_each(sizes: list[int]) -> Interactions:
    """User u rates sizes[u] movies (movies 0 … sizes[u] − 1)."""
    rows = [(u, i, 4.0) for u, n in enumerate(sizes) for i in range(n)]
    return Interactions.from_frame(pd.DataFrame(rows, columns=["userId", "movieId", "rating"]), time_col=None)


@pytest.mark.parametrize(
    "ratios", [[0.8, 0.1, 0.1], [0.7, 0.15, 0.15], [8, 1, 1], [0.6, 0.0, 0.4], [0.5, 0.3, 0.2]]
)
def test_each_users_parts_have_recboles_sizes(ratios: list[float]) -> None:
    sizes = list(range(1, 121))
    inter = _one_user_each(sizes)
    parts = per_user_split(inter, ratios, seed=3)
    got = np.stack([p.user_counts() for p in parts], axis=1)
    want = np.array([recbole_counts(n, ratios) for n in sizes])
    np.testing.assert_array_equal(got, want)
    assert got[0].tolist() == [1, 0, 0] and got[4].tolist() == want[4].tolist()  # one rating: training only


def test_the_parts_partition_the_ratings_in_a_seeded_random_order() -> None:
    inter = Interactions.from_frame(make_ratings(40, 60, 0.5, seed=1), rating_scale=(0.5, 5.0))
    train, valid, test = per_user_split(inter, seed=7)
    keys = [p.users.astype(np.int64) * inter.n_items + p.items for p in (train, valid, test)]
    joined = np.concatenate(keys)
    assert len(np.unique(joined)) == inter.n_ratings == len(joined)  # disjoint and complete
    assert all(p.user_map is inter.user_map and p.item_map is inter.item_map for p in (train, valid, test))
    again = per_user_split(inter, seed=7)
    other = per_user_split(inter, seed=8)
    np.testing.assert_array_equal(again[2].items, test.items)
    assert not np.array_equal(other[2].items, test.items)  # the seed picks the rows, not only the sizes
    # not the first or last rows of each user: the held-out movies come from anywhere in the user's list
    first = np.searchsorted(inter.users, np.arange(inter.n_users))
    assert not np.isin(test.items, inter.items[first]).all()


def test_on_ml100k_the_parts_are_the_size_recbole_gives() -> None:
    path = ml100k_path()
    if path is None:
        pytest.skip("ml-100k not found in ../shared/data or $MOVIEREC_DATA")
    ds = movierec.load(path)
    train, valid, test = per_user_split(ds.interactions)
    # run_recbole(model=..., dataset="ml-100k") with its defaults logs these three sizes (RecBole 1.2.1)
    assert (train.n_ratings, valid.n_ratings, test.n_ratings) == (80_808, 9_596, 9_596)


@pytest.mark.parametrize(
    "ratios",
    [[0.8, 0.2], [0.8, 0.1, 0.0], [0.0, 0.5, 0.5], [0.8, -0.1, 0.3], "811", [0.8, float("nan"), 0.1]],
)
def test_ratios_that_are_not_three_usable_shares_are_one_config_error(ratios: object) -> None:
    inter = _one_user_each([5, 6])
    with pytest.raises(ConfigError, match=r"ratios must be three shares \(train, validation, test\).*got"):
        per_user_split(inter, ratios)  # type: ignore[arg-type]


def test_a_bad_seed_is_one_config_error() -> None:
    with pytest.raises(ConfigError, match="seed must be a whole number"):
        per_user_split(_one_user_each([5]), seed=-1)
