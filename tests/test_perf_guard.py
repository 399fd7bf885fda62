"""Performance regression guard: counts work instead of timing it (issue 8).

Each check would fail on an accidental O(n²) or per-rating Python loop, whatever the machine's
speed: kernels are called once per epoch whatever the data size, neighbour lists stay bounded
by k per item, and batched scoring calls the model once per batch of users.
"""

from __future__ import annotations

import numpy as np
import pytest

from datagen import make_ratings
from movierec.interactions import Interactions
from movierec.models import create


def _data(n_users: int, n_items: int, seed: int = 0) -> Interactions:
    return Interactions.from_frame(
        make_ratings(n_users, n_items, density=0.2, seed=seed), rating_scale=(0.5, 5.0)
    )


class _Counter:
    """Wraps a real kernel and counts its calls (the kernel still does the work)."""

    def __init__(self, fn):  # type: ignore[no-untyped-def]
        self.fn = fn
        self.calls = 0

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        return self.fn(*args, **kwargs)


@pytest.mark.parametrize(("module", "kernel", "model", "params"), [
    ("movierec.models.mf", "svd_epoch", "svd", {"n_epochs": 3, "n_factors": 4}),
    ("movierec.models.bpr", "pairwise_epoch_identity", "bpr", {"epochs": 3, "no_components": 4}),
    ("movierec.models.bpr", "pairwise_epoch_identity", "warp", {"epochs": 3, "no_components": 4}),
])  # fmt: skip
def test_one_kernel_call_per_epoch_whatever_the_size(monkeypatch, module, kernel, model, params) -> None:  # type: ignore[no-untyped-def]
    import importlib

    mod = importlib.import_module(module)
    calls = []
    for n_users, n_items in [(20, 30), (120, 200)]:
        counter = _Counter(getattr(mod, kernel))
        monkeypatch.setattr(mod, kernel, counter)
        train = _data(n_users, n_items)
        if model != "svd":
            train = train.to_implicit(3.0)
        create(model, random_state=0, **params).fit(train)
        calls.append(counter.calls)
    assert calls[0] == calls[1] == 3, f"kernel calls per fit at two sizes: {calls} (expected one per epoch)"


@pytest.mark.parametrize(("model", "params", "bound"), [
    ("itemknn", {"k": 10}, 10),
    ("knn-baseline", {"k": 5, "max_neighbours": 12}, 12),
])  # fmt: skip
def test_neighbour_lists_stay_linear_in_items(model: str, params: dict, bound: int) -> None:
    nnz = []
    for n_items in (100, 400):
        train = _data(150, n_items, seed=1)
        if model == "itemknn":
            train = train.to_implicit(3.0)
        fitted = create(model, **params).fit(train)
        neigh = fitted.neighbours_
        assert neigh.shape == (n_items, n_items)
        assert np.diff(neigh.indptr).max() <= bound
        nnz.append(neigh.nnz)
    # 4x the items may at most give 4x the stored similarities (no n_items² growth)
    assert nnz[1] <= 4 * bound * 100 and nnz[1] <= 4.5 * max(nnz[0], 1)


def test_recommend_scores_in_batches(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    train = _data(50, 60).to_implicit(3.0)
    model = create("popularity").fit(train)
    counter = _Counter(model.score)
    monkeypatch.setattr(model, "score", counter)
    users = np.arange(50)
    model.recommend(users, k=5, batch_size=16)
    assert counter.calls == 4  # ceil(50 / 16): one vectorised call per batch, never one per user
