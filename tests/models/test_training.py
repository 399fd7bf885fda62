"""The trainer you loop over (``models.training``): epoch by epoch equals one fit, the model is usable between."""

from __future__ import annotations

import numpy as np
import pytest

from datagen import make_ratings
from movierec.interactions import Interactions
from movierec.models import create
from movierec.models.training import ModelTrainer


def _train() -> Interactions:
    return Interactions.from_frame(make_ratings(40, 60, density=0.25, seed=5), rating_scale=(0.5, 5.0))


@pytest.mark.parametrize(("name", "params"), [
    ("svd", {"n_epochs": 4, "n_factors": 6}),
    ("bpr", {"epochs": 4, "no_components": 6}),
    ("warp", {"epochs": 4, "no_components": 6}),
])  # fmt: skip
def test_looping_over_train_epoch_gives_the_fit(name: str, params: dict) -> None:
    train = _train() if name == "svd" else _train().to_implicit(3.0)
    fitted = create(name, random_state=7, **params).fit(train)
    trainer = create(name, random_state=7, **params).trainer(train)
    assert isinstance(trainer, ModelTrainer)
    users = np.arange(train.n_users)
    mid = []
    for _ in range(4):
        row = trainer.train_epoch()
        assert row["epoch"] == len(trainer.history)
        mid.append(trainer.model.score(users).copy())  # usable after every epoch
    model = trainer.finalize()
    np.testing.assert_array_equal(model.score(users), fitted.score(users))
    np.testing.assert_array_equal(mid[-1], fitted.score(users))
    assert not np.array_equal(mid[0], mid[-1])  # it did change between epochs
    assert [r["loss"] for r in model.history_] == [r["loss"] for r in fitted.history_]


def test_an_early_epoch_equals_a_shorter_fit() -> None:
    """What a pruner scores after epoch 2 is the model a 2-epoch fit gives (no copies needed)."""
    train = _train().to_implicit(3.0)
    trainer = create("bpr", epochs=5, no_components=6, random_state=3).trainer(train)
    trainer.train_epochs(2)
    two = create("bpr", epochs=2, no_components=6, random_state=3).fit(train)
    np.testing.assert_array_equal(trainer.model.item_factors_, two.item_factors_)


@pytest.mark.parametrize(("name", "params"), [
    ("svd", {"n_epochs": 30, "n_factors": 6}),
    ("bpr", {"epochs": 12, "no_components": 6}),
])  # fmt: skip
def test_a_progress_bar_gets_every_epoch_from_few_kernel_calls(
    name: str, params: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A progress-only listener sees epochs 1..n in order, the fit is the unlistened one, and the
    epochs after the first run in timed chunks (2 calls when the whole fit takes < CHUNK_SECONDS)."""
    from movierec.models import training
    from movierec.models.training import progress_only

    train = _train() if name == "svd" else _train().to_implicit(3.0)
    plain = create(name, random_state=7, **params).fit(train)
    seen: list[int] = []
    chunks: list[int] = []
    real = training._chunked

    def spy(trainer, n_epochs, on_epoch):  # type: ignore[no-untyped-def]
        inner = trainer.train_epochs

        def counted(n: int) -> list:
            chunks.append(n)
            return inner(n)

        trainer.train_epochs = counted
        return real(trainer, n_epochs, on_epoch)

    monkeypatch.setattr(training, "_chunked", spy)
    monkeypatch.setattr(training, "CHUNK_SECONDS", 60.0)
    model = create(name, random_state=7, **params)
    model.fit(train, on_epoch=progress_only(lambda epoch, row: seen.append(epoch)))
    n = params.get("n_epochs", params.get("epochs"))
    assert seen == list(range(1, n + 1))
    assert chunks == [1, n - 1]
    users = np.arange(train.n_users)
    np.testing.assert_array_equal(model.score(users), plain.score(users))
    assert [r["loss"] for r in model.history_] == [r["loss"] for r in plain.history_]
