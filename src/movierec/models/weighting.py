"""Interaction weighting for implicit models: binary, rating as confidence, recency decay, or the values as given.

Implicit models receive ``train.to_implicit(threshold)`` (weights 1) or a raw ratings log; the
weighting turns it into the users × items matrix they learn from. ``values`` is the one for a
confidence matrix made elsewhere (play counts, ``α·counts``, BM25 weights: what ``implicit``'s
models are given): the weights are those values, unchanged.
"""

from __future__ import annotations

from dataclasses import KW_ONLY
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import BaseRecommender, require_interactions
from movierec.models.params import ActsWhen, Constraint, Options
from movierec.scoring.base import relative_ratings

__all__ = [
    "WEIGHTINGS",
    "WeightedRecommender",
    "binary_only",
    "check_weighting",
    "interaction_weights",
    "relative_ratings",
    "weighted_csr",
]

WEIGHTINGS = ("binary", "rating", "recency", "values")


def check_weighting(weighting: str, half_life_days: float) -> None:
    """ConfigError naming the option when ``weighting``/``half_life_days`` are invalid."""
    if weighting not in WEIGHTINGS:
        raise ConfigError(f"weighting must be one of {', '.join(WEIGHTINGS)}, got {weighting!r}")
    if not isinstance(half_life_days, (int, float)) or not half_life_days > 0:
        raise ConfigError(f"half_life_days must be a positive number of days, got {half_life_days!r}")


def interaction_weights(
    train: Interactions, weighting: str = "binary", half_life_days: float = 365.0
) -> np.ndarray:
    """One float32 weight per interaction row.

    ``binary``: 1; ``rating``: the rating as confidence (Hu et al. 2008) relative to the user's own mean
    (:func:`relative_ratings`), read from an implicit view's ``source_ratings``
    (:meth:`~movierec.interactions.Interactions.to_implicit` sets its ratings to 1); ``recency``:
    ``0.5 ** (age / half_life_days)`` with age measured back from the newest interaction
    (Ding & Li 2005, time-decayed collaborative filtering); ``values``: each interaction's own value as
    given (an implicit view's ``source_ratings``, else ``ratings``), for a confidence matrix built
    elsewhere (:meth:`~movierec.interactions.Interactions.from_csr`); ``binary`` would read it as 1s.
    """
    check_weighting(weighting, half_life_days)
    require_interactions(train)
    if weighting == "binary":
        return np.ones(train.n_ratings, dtype=np.float32)
    if weighting == "rating":  # an implicit view's ratings are 1s: its positives' own ratings are kept
        values = train.ratings if train.source_ratings is None else train.source_ratings
        if (values <= 0).any():
            raise DataError("weighting='rating' needs positive ratings, found a rating ≤ 0")
        return relative_ratings(values, train.users)
    if weighting == "values":
        values = train.ratings if train.source_ratings is None else train.source_ratings
        bad = ~np.isfinite(values) | (values <= 0)
        if bad.any():
            raise DataError(
                f"weighting='values' needs a positive, finite confidence per interaction, found "
                f"{values[np.flatnonzero(bad)[0]]:g} ({int(bad.sum())} of {len(values)} values are not)"
            )
        return np.asarray(values, dtype=np.float32)
    if train.timestamps is None:
        raise DataError("weighting='recency' needs timestamps, and these interactions have none")
    age_days = (train.timestamps.max() - train.timestamps).astype(np.float64) / 86400.0
    return np.power(0.5, age_days / float(half_life_days)).astype(np.float32)


def weighted_csr(
    train: Interactions, weighting: str = "binary", half_life_days: float = 365.0
) -> sp.csr_matrix:
    """Users × items float32 CSR (sorted indices) holding :func:`interaction_weights`."""
    w = interaction_weights(train, weighting, half_life_days)
    m = sp.csr_matrix((w, (train.users, train.items)), shape=train.shape, dtype=np.float32)
    m.sum_duplicates()
    m.sort_indices()
    return m


def binary_only(why: str) -> dict[str, list[Constraint]]:
    """The constraint of a model that reads which items a user has, not their weights: ``weighting``
    other than ``"binary"`` would train the same model, so it is refused, saying ``why``."""
    return {"weighting": [Options("binary", because=why)]}


class WeightedRecommender(BaseRecommender):
    """A model that learns from weighted interactions: the two hyperparameters of the weighting, declared once.

    ``weighting`` is one of :data:`WEIGHTINGS` and ``half_life_days`` the half-life of
    ``"recency"`` (:func:`interaction_weights`). Both are keyword-only and come after the model's
    own hyperparameters in its constructor.
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {"weighting": [Options(*WEIGHTINGS)]}
    acts_when: ClassVar[dict[str, ActsWhen]] = {"half_life_days": ActsWhen("weighting", ("recency",))}

    _: KW_ONLY
    weighting: str = "binary"
    half_life_days: float = 365.0
