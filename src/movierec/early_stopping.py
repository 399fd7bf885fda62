"""Early stopping on a validation part: RecBole's ``valid_metric`` / ``eval_step`` / ``stopping_step``.

An iterative model (bpr, warp, logistic, warp-kos, svd, svdpp, ials, mult-vae, recvae, the LightFM
references) calls ``on_epoch(epoch, logs)`` after each epoch and stops when it returns
``False`` (:data:`movierec.models.base.EpochCallback`). :class:`EarlyStopping` is that callback,
written once: every ``every`` epochs it scores the model being fitted on **your** validation
interactions with the scoring path of tuning and compare (:func:`movierec.tuning.score_split`: the
full-ranking protocol for ranking metrics, the rating protocol for ``rmse``/``mae``/``mse``/``fcp``;
the metric names of :func:`movierec.metrics.parse_metric`, ``mrr@10`` included), keeps a deep copy
of the best model so far (RecBole's best checkpoint, ``load_best_model=True``) and stops after
``patience`` scores without a gain (Prechelt 1998, "Early stopping — but when?").

Why a copy and not a refit with the best epoch count: the model a trainer shows after epoch *e* is the
model a fit with ``epochs=e`` returns for bpr and svd (``tests/test_tuning.py``), so both give the
same test figures there (docs/from-recbole.md measured them equal to 6 decimals), and the copy costs
no second fit. For a model whose schedule depends on its epoch budget the copy is still the state
that was scored, which a refit would not be.

The model learns nothing from the callback but when to stop: it is given the callback as
``model.fit(train, on_epoch=stopper)`` (or ``Recommender(...).fit(on_epoch=stopper)``), and
:meth:`movierec.models.base.BaseRecommender.fit` hands it the model and its training data first
(:meth:`EarlyStopping.start_fit`), so a model without epochs, a metric that does not suit it or a
model that cannot be scored and stopped between epochs (``can_stop_early = False``: als and
implicit:bpr, whose loop implicit runs; bayesian-fm, sasrec and gru4rec, whose model is set at the
end; ensemble) is refused before any training.

:class:`movierec.EpochValidator` is the other listener: it draws curves on a slice it moves out of
the training data and never stops a fit.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.metrics import Metric, parse_metric
from movierec.models.base import fit_options, tags_of

__all__ = ["EarlyStopping"]


class EarlyStopping:
    """An ``on_epoch`` callback: score on ``valid`` every ``every`` epochs, keep the best model, stop after
    ``patience`` scores without a gain.

    - ``valid``: the validation interactions, with the id maps of the data the model trains on (the
      middle part of :func:`movierec.split.per_user_split`). They are never trained on.
    - ``metric``: ``"ndcg@10"`` (default), ``"mrr@10"`` (RecBole's ``valid_metric``), ``"recall@20"``,
      ``"rmse"``… (:func:`movierec.metrics.parse_metric`); lower is better for ``rmse``/``mae``/``mse``.
    - ``every``: score after epochs ``every``, ``2·every``… (RecBole's ``eval_step``); an epoch budget
      that is not a multiple of it leaves its last epochs unscored.
    - ``patience``: stop after this many scores in a row without a gain (RecBole's ``stopping_step``);
      a gain is a strictly better score.
    - ``known``: the interactions whose items are no candidates of a user's ranking; default the data
      the model is fitted on. Pass every training rating when the model trains on positives only
      (``known=train`` beside ``fit(train.to_implicit())``), as compare and tune do.
    - ``threshold``: validation ratings at or above it are relevant (ranking metrics); ``None`` makes
      every validation row relevant (RecBole's ``threshold: ~``). Ignored by the rating metrics.

    After a fit: ``best_epoch_``, ``best_score_``, ``best_model_`` (a deep copy of the model as it stood
    after ``best_epoch_``; its ``epochs`` parameter still reads the budget), ``history_`` (scored
    epoch → score) and ``stopped_epoch_`` (the last epoch trained; below the budget when it stopped).
    The fitted model itself is left as its last epoch made it. One instance serves one fit at a time;
    each fit starts afresh.
    """

    def __init__(
        self,
        valid: Interactions,
        metric: str = "ndcg@10",
        *,
        every: int = 1,
        patience: int = 10,
        known: Interactions | None = None,
        threshold: float | None = 4.0,
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
        self.known, self.threshold = known, threshold
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
        from movierec.tuning import score_split

        value = score_split(self.model_, self._known, self.valid, self.metric, threshold=self.threshold)
        self.history_[int(epoch)] = value
        logs[f"val_{self.metric.label}"] = value
        if self._gains(value):
            self.best_epoch_, self.best_score_ = int(epoch), value
            self.best_model_ = copy.deepcopy(self.model_)
            self._without_gain = 0
            return None
        self._without_gain += 1
        return False if self._without_gain >= self.patience else None

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
        return f"EarlyStopping({self.metric.label}, every={self.every}, patience={self.patience}; {state})"
