"""Early stopping's rule and its setting as a run takes it, below :mod:`movierec.evaluation`.

:class:`Stopper` is :class:`movierec.early_stopping.EarlyStopping` with its scoring function given, so
:func:`movierec.evaluation.compare` stops models with the same rule (and the same scores) without
importing what imports it; :class:`StopSpec` is ``early_stopping=`` of compare, tune, the CLI's
``--early-stopping`` and an experiment file's ``[early_stopping]``; :func:`cut_validation` cuts each
fold's validation part from its training part. docs/protocols.md, "Early stopping".
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from movierec.errors import ConfigError, Doors
from movierec.interactions import Interactions
from movierec.metrics import Metric, parse_metric
from movierec.models.base import fit_options, tags_of

__all__ = [
    "StopSpec",
    "Stopper",
    "can_stop_early",
    "cut_validation",
    "stop_spec",
    "time_budget_note",
    "valid_size_fault",
]


class Stopper:
    """:class:`movierec.early_stopping.EarlyStopping`'s rule with the scoring function given: ``score(model,
    known, valid, metric, threshold)`` (:func:`movierec.evaluation.score_split`, which compare passes and
    EarlyStopping looks up). It lives below :mod:`movierec.evaluation` so that compare stops models with
    it without an import cycle; EarlyStopping's docstring describes every argument and attribute."""

    def __init__(
        self,
        valid: Interactions,
        metric: str = "ndcg@10",
        *,
        every: int = 1,
        patience: int = 10,
        known: Interactions | None = None,
        threshold: float | None = 4.0,
        score: Callable[..., float],
    ) -> None:
        for name, value in (("every", every), ("patience", patience)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"EarlyStopping: {name} must be a whole number ≥ 1, got {value!r}")
        if not isinstance(valid, Interactions):
            raise ConfigError(
                f"EarlyStopping: valid must be Interactions (the validation part of per_user_split), got {type(valid).__name__}"
            )
        self.metric: Metric = parse_metric(metric)
        self.valid, self.every, self.patience = valid, int(every), int(patience)
        self.known, self.threshold, self._score = known, threshold, score
        if valid.n_ratings == 0:
            raise ConfigError("EarlyStopping: the validation part has no rows to score the model on")
        if self.metric.kind == "ranking" and threshold is not None and not (valid.ratings >= threshold).any():
            raise ConfigError(
                f"EarlyStopping: no validation rating is ≥ the relevance threshold {threshold:g}, so "
                f"{self.metric.label} has nothing to find; lower threshold= or pass threshold=None (every row relevant)"
            )
        self._reset(None, valid)

    def _reset(self, model: Any, known: Interactions) -> None:
        self.model_: Any = model
        self._known = known
        self.best_epoch_ = 0
        self.best_score_ = math.nan
        self.best_model_: Any = None
        self.history_: dict[int, float] = {}
        self.stopped_epoch_ = 0
        self.stopped_ = False  # patience ran out (the fit ended before its epochs)
        self._without_gain = 0

    def start_fit(self, model: Any, train: Interactions) -> None:
        """Called by ``model.fit(train, on_epoch=self)`` before training: check that this model can be
        stopped and scored with this metric, and forget any earlier fit. A ConfigError says why not."""
        name = getattr(model, "name", type(model).__name__)
        if "on_epoch" not in fit_options(model):
            raise ConfigError(
                f"EarlyStopping: {name} trains in one pass, without epochs to stop between; "
                "use it with an iterative model (bpr, warp, svd, ials, mult-vae…)"
            )
        if not getattr(model, "can_stop_early", True):
            raise ConfigError(
                f"EarlyStopping: {name} cannot be scored and stopped between epochs (a library runs its loop, "
                "or its model is only set at the end); set its epochs instead"
            )
        parse_metric(self.metric.label, model_kind=tags_of(model).kind)  # rmse on an implicit model: refused
        if self.valid.n_users > train.n_users or self.valid.n_items > train.n_items:
            raise ConfigError(
                "EarlyStopping: the validation part has users or items the training data does not; "
                "cut both from one Interactions (movierec.split.per_user_split)"
            )
        self._reset(model, self.known if self.known is not None else train)

    def __call__(self, epoch: int, logs: dict[str, float]) -> bool | None:
        """Score after every ``every``-th epoch; ``False`` once ``patience`` scores brought no gain."""
        if self.model_ is None:
            raise ConfigError(
                "EarlyStopping: pass it to a model's fit (model.fit(train, on_epoch=stopper)), "
                "which tells it the model to score"
            )
        self.stopped_epoch_ = int(epoch)
        if epoch % self.every:
            return None
        value = self._score(self.model_, self._known, self.valid, self.metric, threshold=self.threshold)
        self.history_[int(epoch)] = value
        logs[f"val_{self.metric.label}"] = value
        if self._gains(value):
            self.best_epoch_, self.best_score_ = int(epoch), value
            self.best_model_ = copy.deepcopy(self.model_)
            self._without_gain = 0
            return None
        self._without_gain += 1
        self.stopped_ = self._without_gain >= self.patience
        return False if self.stopped_ else None

    def _gains(self, value: float) -> bool:
        """Whether ``value`` beats the best score so far (NaN never does: a diverged epoch is no gain)."""
        if not math.isfinite(value):
            return False
        if not math.isfinite(self.best_score_):
            return True
        if self.metric.direction == "minimize":
            return value < self.best_score_
        return value > self.best_score_

    def __repr__(self) -> str:
        state = (
            f"best {self.metric.label} {self.best_score_:.4f} at epoch {self.best_epoch_}"
            if self.best_epoch_
            else "not run"
        )
        return f"{type(self).__name__}({self.metric.label}, every={self.every}, patience={self.patience}; {state})"


@dataclass(frozen=True)
class StopSpec:
    """Early stopping as a setting of a run (``compare(..., early_stopping=…)``, ``tune``, the CLI's
    ``--early-stopping``, an experiment file's ``[early_stopping]``): what :class:`EarlyStopping` is
    built from on each fold, whose validation part is cut afresh by :func:`cut_validation`.

    - ``metric``: the validation metric (``"ndcg@10"``, ``"mrr@10"``, ``"rmse"``…).
    - ``patience`` (10) and ``every`` (5): RecBole's ``stopping_step`` and ``eval_step``, so a model stops
      after 50 epochs without a gain. Not RecBole's ``eval_step`` 1: scoring every epoch is cheap (a
      full-ranking NDCG@10 of ml-latest-small's validation part takes about 0.03 s), but bpr's validation
      NDCG@10 there sits on a plateau from epoch 1 to about 80 (0.0746 at 1, 0.0775 at 8, 0.0744 at 80)
      before it climbs (0.0827 at 150, 0.1017 at 300), so patience 10 at every epoch stopped it at epoch 18
      and refit it with 8 epochs: test NDCG@10 0.1514 against 0.1753 for its default 150.
    - ``valid_size`` (0.1): the share of each user's training ratings held out to score on, sized as
      :func:`movierec.split.per_user_split` sizes RecBole's validation part. A split given with its own
      validation part (``compare(split=(train, valid, test))``, ``--valid``) is scored on that part and
      cuts nothing, so another ``valid_size`` there is refused.
    """

    metric: str = "ndcg@10"
    patience: int = 10
    every: int = 5
    valid_size: float = 0.1

    def __post_init__(self) -> None:
        from movierec.metrics import parse_metric as parse

        label = parse(str(self.metric)).label  # an unknown metric is one line before any work
        object.__setattr__(self, "metric", label)
        for name in ("patience", "every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"early stopping: {name} must be a whole number ≥ 1, got {value!r}")
        if (fault := valid_size_fault(self.valid_size)) is not None:
            raise ConfigError(f"early stopping: valid_size is {fault}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return self.describe()

    def describe(self, part: str | None = None) -> str:
        """``ndcg@10 on 10% of each user's training ratings, patience 10, every 5``; with ``part``, the
        validation part given (``valid.csv (9,913 ratings)``), which ``valid_size`` does not cut."""
        on = part if part is not None else f"{self.valid_size:.0%} of each user's training ratings"
        return f"{self.metric} on {on}, patience {self.patience}, every {self.every}"


def valid_size_fault(size: object) -> str | None:
    """What is wrong with ``valid_size`` (``None``: nothing), in words that follow "valid_size is" in
    :class:`StopSpec`'s error and "invalid value for '--valid-size':" on the command line, so the two
    check the same thing and say it alike."""
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 < size < 1:
        return (
            "the share of each user's training ratings to validate on, between 0 and 1 exclusive (0.1), "
            f"got {size!r}"
        )
    return None


def stop_spec(value: Any) -> StopSpec | None:
    """``early_stopping=`` as given → a :class:`StopSpec`, or ``None`` for off (``None``/``False``).

    A metric name (``"ndcg@10"``), ``True`` (the defaults), a mapping of :class:`StopSpec`'s fields, or a
    StopSpec. An :class:`EarlyStopping` is refused: it holds one validation part, and a run cuts one per fold.
    """
    if value is None or value is False:
        return None
    if isinstance(value, StopSpec):
        return value
    if value is True:
        return StopSpec()
    if isinstance(value, str):
        return StopSpec(metric=value)
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"metric", "patience", "every", "valid_size"})
        if unknown:
            raise ConfigError(
                f"early stopping has no setting {unknown[0]!r}; valid: metric, patience, every, valid_size"
            )
        return StopSpec(**value)
    if isinstance(value, Stopper):
        raise ConfigError(
            "early_stopping= takes the settings, not an EarlyStopping (which holds one validation part; "
            "each fold cuts its own): pass {'metric': 'ndcg@10', 'patience': 10, 'every': 1}"
        )
    raise ConfigError(
        f"early_stopping= takes a metric name ('ndcg@10'), a dict of metric/patience/every/valid_size, "
        f"or a StopSpec; got {type(value).__name__}"
    )


def can_stop_early(model: Any) -> bool:
    """Whether :class:`EarlyStopping` accepts this model or model class: its fit takes ``on_epoch`` and it
    can be scored and stopped between epochs (``can_stop_early``, see :meth:`EarlyStopping.start_fit`)."""
    return "on_epoch" in fit_options(model) and bool(getattr(model, "can_stop_early", True))


def cut_validation(train: Interactions, valid_size: float, *, seed: int) -> tuple[Interactions, Interactions]:
    """``(rest, valid)``: ``valid_size`` of each user's ``train`` ratings, drawn with ``seed``, moved out
    to stop a model on (:func:`movierec.split.per_user_split`'s sizes: ⌊share·n⌋, raised to 1 while more
    than one rating stays; a user with one rating keeps it). Only the training part is cut: a run never
    hands the test part here."""
    from movierec.split import per_user_split

    rest, _none, valid = per_user_split(train, (1.0 - valid_size, 0.0, valid_size), seed=seed)
    return rest, valid


def time_budget_note(model: Any, name: str) -> Doors | None:
    """A note for a fitted ``model`` (registered as ``name``) whose time budget, not training, ended its fit
    (sasrec's 180 s by default, gru4rec's when given one), with the setting that gives it more time in each
    door's words; ``None`` when it ran every epoch it was given or stopped for another reason.

    ``recommend --model sasrec`` on a machine at load 7 trained 4 of 200 epochs (validation NDCG@10 0.017)
    and printed its list with only 'done in 187.6 s' on stderr; compare notes the same stop beside its
    figures (evaluation's ``_note_time_budget``), and a list, an export and ``Recommender.fit`` now do."""
    if getattr(model, "stop_reason_", None) != "time budget":
        return None
    ran, most = len(getattr(model, "history_", None) or []), getattr(model, "epochs", None)
    said = (
        f"{name} stopped at its {float(model.time_budget):g} s time budget after {ran} of {most} epochs, "
        "before it converged, so its lists may be weak; give it more time: "
    )
    return Doors(
        said + f"Recommender(ds, {name!r}, time_budget=SECONDS)", said + "--params time_budget=SECONDS"
    )
