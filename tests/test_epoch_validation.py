"""Validation curves: the slice comes out of the training data, every model trains without it, the
iterative models are scored on it per epoch (movierec.epoch_validation through compare's callback)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import movierec
from datagen import make_ratings
from movierec.datasets import Dataset
from movierec.epoch_validation import EpochValidator, validation_slice
from movierec.evaluation import compare
from movierec.interactions import Interactions


def _pairs(inter: Interactions) -> set[tuple[int, int]]:
    return set(zip(inter.users.tolist(), inter.items.tolist(), strict=True))


def test_slice_is_part_of_the_training_data(tiny: Interactions) -> None:
    rest, valid = validation_slice(tiny, n_users=10, per_user=3, seed=1)
    assert rest.n_ratings + valid.n_ratings == tiny.n_ratings
    assert not _pairs(rest) & _pairs(valid) and _pairs(rest) | _pairs(valid) == _pairs(tiny)
    users, counts = np.unique(valid.users, return_counts=True)
    assert len(users) == 10 and (counts == 3).all()
    per_user = np.bincount(tiny.users, minlength=tiny.n_users)
    assert (per_user[users] >= 6).all()  # only users with twice the slice are sampled
    assert rest.n_users == tiny.n_users and rest.n_items == tiny.n_items  # the id maps are shared
    again = validation_slice(tiny, n_users=10, per_user=3, seed=1)[1]
    assert _pairs(again) == _pairs(valid)  # seeded


@pytest.fixture(scope="module")
def small() -> Dataset:
    inter = Interactions.from_frame(make_ratings(60, 80, 0.3, seed=2), rating_scale=(0.5, 5.0))
    return Dataset("small", inter, None, None, "", "", [])


def test_compare_scores_the_iterative_models_each_epoch(small: Dataset) -> None:
    monitor = movierec.EpochValidator(n_users=30, per_user=4, k=5, seed=3)  # exported lazily
    comp = compare(
        small,
        [("svd", {"epochs": 5, "factors": 4}), ("bpr", {"epochs": 9, "factors": 4}), "ease"],
        split="ratings-holdout",
        protocols=("rating", "full-ranking"),
        k=5,
        seed=3,
        monitor=monitor,
    )
    svd, bpr = comp.models["svd"].history_, comp.models["bpr"].history_
    assert [h["epoch"] for h in svd if "val_rmse" in h] == [1, 2, 3, 4, 5]
    assert all(0 < h["val_rmse"] < 5 for h in svd)
    assert [h["epoch"] for h in bpr if "val_ndcg@5" in h] == list(range(1, 10))
    assert all(0 <= h["val_ndcg@5"] <= 1 for h in bpr)
    assert set(monitor.curves) == {"svd", "bpr"}  # ease has no epochs: no curve
    assert [c["val_rmse"] for c in monitor.curves["svd"]] == [h["val_rmse"] for h in svd]
    note = monitor.note()
    assert note is not None and "svd, bpr scored on it" in note and f"{monitor.held[0]:,} training" in note
    # every model, ease included, trained without the slice: its numbers are those of a fit on the rest
    plain = compare(small, ["ease"], split="ratings-holdout", protocols=("full-ranking",), k=5, seed=3)
    ease = {r.protocol: r for r in comp.rows if r.label == "ease"}["full-ranking"]
    assert ease.metrics["ndcg@5"] != plain.rows[0].metrics["ndcg@5"]
    again = compare(
        small,
        ["ease"],
        split="ratings-holdout",
        protocols=("full-ranking",),
        k=5,
        seed=3,
        monitor=EpochValidator(n_users=30, per_user=4, k=5, seed=3),
    )
    assert again.rows[0].metrics["ndcg@5"] == ease.metrics["ndcg@5"]


def test_long_runs_are_scored_at_spaced_epochs(small: Dataset) -> None:
    monitor = EpochValidator(n_users=20, per_user=3, k=5, max_points=3, seed=0)
    comp = compare(
        small, [("bpr", {"epochs": 10, "factors": 4})], protocols=("full-ranking",), k=5, monitor=monitor
    )
    scored = [h["epoch"] for h in comp.models["bpr"].history_ if "val_ndcg@5" in h]
    assert scored == [1, 4, 8, 10]  # the first, every ceil(10 / 3) = 4th, the last
    assert all(math.isfinite(c["val_ndcg@5"]) for c in monitor.curves["bpr"])
