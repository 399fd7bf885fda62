"""Canonical ml-100k splits regenerated from u.data by mku.sh's and allbut.pl's rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from datagen import ml100k_path
from movierec.datasets import Dataset
from movierec.datasets.canonical import CANONICAL_SPLITS
from movierec.errors import ConfigError
from movierec.evaluation import SPLITS, make_split
from movierec.interactions import Interactions
from movierec.split import canonical_split


def _pairs(inter: Interactions) -> set[tuple[int, int]]:
    u = inter.user_map.to_raw(inter.users)
    i = inter.item_map.to_raw(inter.items)
    return set(zip(u.tolist(), i.tolist(), strict=True))


def test_every_canonical_split_is_a_named_split() -> None:
    for name in [f"ml100k-u{k}" for k in range(1, 6)] + ["ml100k-ua", "ml100k-ub", "ml1m-90-10"]:
        assert name in CANONICAL_SPLITS and name in SPLITS


def test_wrong_dataset_is_a_clear_error(tiny: Interactions) -> None:
    # every count grouped as the ratings are: it read "100,000 ratings, 943 users, 1682 items"
    with pytest.raises(
        ConfigError, match=r"ml100k-u1 is defined on ml-100k \(100,000 ratings, 943 users, 1,682 items, in"
    ):
        make_split(tiny, "ml100k-u1")
    with pytest.raises(
        ConfigError, match=r"defined on ml-1m \(1,000,209 ratings, 6,040 users, 3,706 items, in"
    ):
        canonical_split(tiny, "ml1m-90-10")
    with pytest.raises(ConfigError, match="unknown canonical split"):
        canonical_split(tiny, "ml100k-u9")


def test_u_folds_match_mku_rules(ml100k: Dataset) -> None:
    raw = pd.read_csv(ml100k_path() / "u.data", sep="\t", header=None, names=["u", "i", "r", "t"])
    tests = []
    for k in range(1, 6):
        train, test, desc = make_split(ml100k.interactions, f"ml100k-u{k}")
        assert (train.n_ratings, test.n_ratings) == (80_000, 20_000) and f"u{k}" in desc
        block = raw.iloc[20_000 * (k - 1) : 20_000 * k]  # `head -20000·k u.data | tail -20000`
        assert _pairs(test) == set(zip(block.u.tolist(), block.i.tolist(), strict=True))
        assert not _pairs(test) & _pairs(train)
        tests.append(_pairs(test))
    assert len(set().union(*tests)) == 100_000  # disjoint: 5-fold cross-validation


@pytest.mark.parametrize(("name", "lo", "hi"), [("ml100k-ua", 1, 10), ("ml100k-ub", 11, 20)])
def test_allbut_splits_hold_out_ten_ratings_per_user(ml100k: Dataset, name: str, lo: int, hi: int) -> None:
    raw = pd.read_csv(ml100k_path() / "u.data", sep="\t", header=None, names=["u", "i", "r", "t"])
    nth = raw.groupby("u").cumcount() + 1  # allbut.pl: the user's count so far, in file order
    expect = raw[(nth >= lo) & (nth <= hi)]
    train, test, _ = make_split(ml100k.interactions, name)
    assert test.n_ratings == 9_430 and train.n_ratings == 90_570
    assert (np.bincount(test.users, minlength=943) == 10).all()
    assert _pairs(test) == set(zip(expect.u.tolist(), expect.i.tolist(), strict=True))
    # the ratings travel with their rows
    row = expect.iloc[0]
    hit = (test.user_map.to_raw(test.users) == row.u) & (test.item_map.to_raw(test.items) == row.i)
    assert test.ratings[hit][0] == row.r
