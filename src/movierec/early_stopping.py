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

from typing import Any

from movierec.interactions import Interactions
from movierec.metrics import Metric
from movierec.stopping import Stopper, StopSpec, can_stop_early, cut_validation, stop_spec

__all__ = ["EarlyStopping", "StopSpec", "can_stop_early", "cut_validation", "stop_spec"]


class EarlyStopping(Stopper):
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
    epoch → score), ``stopped_epoch_`` (the last epoch trained; below the budget when it stopped) and
    ``stopped_`` (``True`` when patience ran out; ``False`` when the fit ran all its epochs).
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
        super().__init__(
            valid,
            metric,
            every=every,
            patience=patience,
            known=known,
            threshold=threshold,
            score=_score_split,
        )


def _score_split(
    model: Any, known: Interactions, valid: Interactions, metric: Metric, *, threshold: float | None
) -> float:
    """The score EarlyStopping keeps: :func:`movierec.tuning.score_split`, as tune and compare score."""
    from movierec.tuning import score_split

    return score_split(model, known, valid, metric, threshold=threshold)
