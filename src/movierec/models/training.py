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

A listener that only reports progress (a bar, a log line: :func:`progress_only`) needs neither the
model after each epoch nor a chance to stop; :func:`fit_epochs` then runs the first epoch alone,
times it, and the rest in chunks of about :data:`CHUNK_SECONDS`, replaying each chunk's records to
the listener. A default ``svd`` on ml-latest-small (25 sweeps of ~1.5 ms) is then 2 kernel calls
instead of 25, so ``compare``'s progress bar no longer costs fit time (issue 16).
"""

from __future__ import annotations

import time
from typing import Any, Protocol, runtime_checkable

import numpy as np

from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.base import EpochCallback, index_digest

__all__ = [
    "CHUNK_SECONDS",
    "ModelTrainer",
    "check_same_index",
    "epoch_progress",
    "fit_epochs",
    "generator_state",
    "index_digest",
    "progress_only",
    "restore_generator",
    "say_step",
]

#: the bit generators a saved random stream may name (numpy's own; nothing else is looked up by name)
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")

CHUNK_SECONDS = 0.2  # how long a progress-only listener may wait between reports


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
    elif getattr(on_epoch, "progress_only", False):
        _chunked(trainer, n_epochs, on_epoch)
    else:
        for epoch in range(1, n_epochs + 1):
            row = trainer.train_epoch()
            if on_epoch(epoch, dict(row)) is False:
                break
    return trainer.finalize()


def progress_only(on_epoch: EpochCallback) -> EpochCallback:
    """Mark ``on_epoch`` as a progress report: it may see epochs in bursts, after the fact, and cannot
    stop training (:func:`fit_epochs` runs epochs in timed chunks for it). Returns ``on_epoch``."""
    on_epoch.progress_only = True  # type: ignore[attr-defined]
    return on_epoch


def epoch_progress(step: Any, model: Any, text: str) -> dict[str, Any]:
    """``fit``'s ``on_epoch`` keyword showing each epoch of ``model`` on ``step``, a running
    :func:`movierec.progress.status` whose text is ``text`` ('training sasrec on 100,836 interactions (time
    budget 180 s) · epoch 12/200 · loss 5.21 · val ndcg@10 0.0812'), or ``{}``: no step (a caller without
    one), or a model that counts no epochs (ease). A model whose fit is parts it names (``reports_steps``:
    the ensemble, whose parts are its bases' fits) shows each part as it starts and the figure it ends
    with ('fitting ensemble · fitting slim (base 2/4) on the hold-out', :func:`say_step`).
    ``export`` and ``recommend`` showed the step's text alone for sasrec's three minutes, and nothing at all
    between its first and last line in a log. A progress report (:func:`progress_only`): the fit runs as
    without it."""
    from movierec.models.base import fit_options
    from movierec.progress import epoch_words, show_epoch

    total = getattr(model, "epochs", None)
    if step is None or "on_epoch" not in fit_options(model):
        return {}

    # a log's epoch lines name the step by its verb and the model ('training sasrec · epoch 12/200 · …'): its
    # first line said the rest, and the whole text made them 103 columns and more
    name = getattr(model, "name", None)
    short = f"{text.split(' ', 1)[0]} {name}" if isinstance(name, str) and name in text else None
    if not isinstance(total, int) or isinstance(total, bool):
        if not getattr(model, "reports_steps", False):
            return {}
        # a fit of parts, not epochs (the ensemble: each base on the hold-out, the weights, the refits)
        return {"on_epoch": progress_only(_StepProgress(step, text, short))}

    def on_epoch(epoch: int, record: dict[str, float]) -> None:
        show_epoch(step, text, epoch_words(epoch, total, record), short)

    return {"on_epoch": progress_only(on_epoch)}


class _StepProgress:
    """:func:`epoch_progress`'s listener for a model whose fit is a series of parts it names
    (``reports_steps``: the ensemble, through :func:`say_step`): 'fitting slim (base 2/4) on the hold-out'
    as the part starts, a line at once in a log, and 'slim (base 2/4): hold-out NDCG@10 0.188' as it ends,
    at the epochs' cadence. Its ``on_epoch`` records (compare's per-base figures) say nothing more here.
    ``recommend --model ensemble`` printed 'fitting ensemble …' and then nothing for its 28 to 48 s."""

    def __init__(self, step: Any, text: str, short: str | None) -> None:
        self.step, self.text, self.short = step, text, short

    def say(self, words: str, now: bool) -> None:
        from movierec.progress import show_epoch

        show_epoch(self.step, self.text, words, self.short, now=now)

    def __call__(self, epoch: int, record: dict[str, float]) -> None:
        """A part's record: :meth:`say` has shown what it says."""


def say_step(on_epoch: EpochCallback | None, words: str, *, now: bool = True) -> None:
    """Tell a fit's progress what part of a fit without epochs starts or ends (``words``: the ensemble's
    'fitting slim (base 2/4) on the hold-out'), where it listens for that (a ``say`` method, as
    :func:`epoch_progress`'s listener has); any other listener hears the model's ``on_epoch`` records
    alone, as before. ``now``: a line at once in a log (a part that starts), else at the epochs' cadence
    (the figure a part ends with)."""
    say = getattr(on_epoch, "say", None)
    if callable(say):
        say(words, now)


def _chunked(trainer: ModelTrainer, n_epochs: int, on_epoch: EpochCallback) -> None:
    """Epoch 1 alone (timed), then chunks of ~``CHUNK_SECONDS``; every record replayed in order."""
    done = 0
    chunk = 1
    while done < n_epochs:
        t0 = time.perf_counter()
        rows = trainer.train_epochs(min(chunk, n_epochs - done))
        per_epoch = (time.perf_counter() - t0) / max(len(rows), 1)
        for row in rows:
            done += 1
            on_epoch(done, dict(row))
        chunk = max(1, int(CHUNK_SECONDS / max(per_epoch, 1e-9)))


# --- continuing a fitted model (``fit_partial``, ``trainer(train, resume=True)``) -------------------


def check_same_index(model: Any, train: Interactions) -> None:
    """Refuse (one sentence) to continue ``model`` on ``train`` unless both index the same users and
    movies: a new user or movie has no trained row, and a reordered map would train the wrong ones."""
    fitted = getattr(model, "training_index_", None)
    if fitted is None:
        raise ConfigError(
            f"{model.name} holds no index of its training data to continue on (a model fitted or saved "
            "before fit_partial existed): refit it with fit(train)"
        )
    if fitted == index_digest(train):
        return
    sizes = f"{model.n_users_:,} users and {model.n_items_:,} movies"
    given = f"{train.n_users:,} users and {train.n_items:,} movies"
    if (model.n_users_, model.n_items_) == (train.n_users, train.n_items):
        given += " with other ids"
    raise ConfigError(
        f"{model.name} was fitted on {sizes} and train has {given}: fit_partial continues "
        "on the fitted users and movies only (build the grown data with Interactions.from_frame(df, "
        "user_map=…, item_map=…) of the fit); refit with fit(train) to add users or movies, or place a "
        "new user by fold-in (score_new_user)"
    )


def generator_state(rng: np.random.Generator) -> dict[str, Any]:
    """The state of ``rng``'s bit generator, as JSON data (``save`` keeps it in model.json)."""
    return dict(rng.bit_generator.state)


def restore_generator(state: Any, name: str) -> np.random.Generator:
    """A Generator continuing the stream :func:`generator_state` recorded (``name``: the model, for errors)."""
    kind = state.get("bit_generator") if isinstance(state, dict) else None
    if kind not in BIT_GENERATORS:
        raise ConfigError(
            f"{name} holds no random stream to continue from (a model fitted or saved before fit_partial "
            "existed): refit it with fit(train)"
        )
    bit_generator = getattr(np.random, kind)()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise ConfigError(f"{name}: its saved random stream is unreadable ({exc}); refit it") from exc
    return np.random.Generator(bit_generator)
