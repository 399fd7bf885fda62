"""A trainer you loop over: iterative models expose ``trainer(train)`` with ``train_epoch()``.

The shape is LensKit's ``ModelTrainer`` (lkpy ``training.py``): the model is usable after every
``train_epoch()`` (its learned arrays are views of the trainer's live state, so scoring it
mid-training needs no copy), and ``finalize()`` ends training. Progress bars, validation curves and
pruning are then plain loops::

    trainer = SVD(n_epochs=25).trainer(train)
    for epoch in range(1, 26):
        row = trainer.train_epoch()          # {"epoch": 1, "loss": …, "rmse": …}
        if validation_score(trainer.model) < best:   # the model as it stands after this epoch
            break
    model = trainer.finalize()

When nobody listens per epoch, :func:`fit_epochs` asks the trainer for all epochs at once
(``train_epochs(n)``: one kernel call instead of ``n``), which is what ``fit`` does without
``on_epoch``. A listener that wants to keep an earlier epoch's state copies it itself.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from movierec.models.base import EpochCallback

__all__ = ["ModelTrainer", "fit_epochs"]


@runtime_checkable
class ModelTrainer(Protocol):
    """One training run of an iterative model, advanced an epoch at a time."""

    model: Any
    history: list[dict[str, float]]

    def train_epoch(self) -> dict[str, float]:
        """Run one epoch; return its record (``{"epoch": …, "loss": …}``); the model is usable after it."""
        ...

    def train_epochs(self, n: int) -> list[dict[str, float]]:
        """Run ``n`` epochs in as few kernel calls as the model allows; their records."""
        ...

    def finalize(self) -> Any:
        """End training: store the final state on the model (contiguous, unpadded) and return the model."""
        ...


def fit_epochs(trainer: ModelTrainer, n_epochs: int, on_epoch: EpochCallback | None = None) -> Any:
    """Train for ``n_epochs`` (fewer if ``on_epoch`` returns False) and finalize; returns the model.

    Without a listener the epochs run in one ``train_epochs`` call; with one, epoch by epoch, the
    listener seeing the model as a fit of that many epochs would leave it.
    """
    if on_epoch is None:
        trainer.train_epochs(n_epochs)
    else:
        for epoch in range(1, n_epochs + 1):
            row = trainer.train_epoch()
            if on_epoch(epoch, dict(row)) is False:
                break
    return trainer.finalize()
