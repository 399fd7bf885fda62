"""Most-popular baseline: every user gets the items with the most (weighted) positives.

The yardstick any personalised model must beat (Cremonesi, Koren & Turrin 2010 show how hard
it is to beat on accuracy metrics).
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np

from movierec.errors import ConfigError, DataError, Doors
from movierec.interactions import Interactions
from movierec.models.base import BaseRecommender, Tags, require_interactions
from movierec.models.weighting import WeightedRecommender, check_weighting, interaction_weights

__all__ = ["OneListRecommender", "Popularity"]


class OneListRecommender(BaseRecommender):
    """A model that gives every user, known or new, the same list: ``item_scores_``, one score per item."""

    item_vectors: ClassVar[bool | None] = False

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """The same ``item_scores_`` row for every user."""
        self._check_fitted()
        users = self._check_users(users)
        row = self.item_scores_ if items is None else self.item_scores_[np.asarray(items)]
        return np.broadcast_to(row, (len(users), len(row))).copy()

    def score_new_user(
        self, items: np.ndarray, ratings: np.ndarray | None = None, *, threshold: float = 4.0
    ) -> np.ndarray:
        """A new user gets the same list too."""
        self._check_fitted()
        return np.asarray(self.item_scores_).copy()


class Popularity(OneListRecommender, WeightedRecommender):
    """Item score = sum of interaction weights (count of positives by default).

    ``window_days`` keeps only interactions within that many days of the newest one (a
    "trending" list); ``weighting`` is ``binary``, ``rating`` or ``recency``.
    """

    name: ClassVar[str] = "popularity"
    _none_means: ClassVar[dict[str, str]] = {"window_days": "every interaction, however old"}
    _foreign_names: ClassVar[dict[str, str]] = {
        "score": Doors(
            "LensKit's PopScorer(score='quantile', 'rank' or 'count') ranks movies alike in all three; "
            "popularity ranks by the count of positives (ratings ≥ the threshold; threshold=0.5 in Recommender "
            "counts every rating, as PopScorer does)",
            "LensKit's PopScorer ranks alike by any score; --implicit-threshold 0.5 counts every rating, "
            "as PopScorer does",
        ),
    }
    tags: ClassVar[Tags] = Tags(fold_in="popularity", serving="scores")

    window_days: float | None = None

    def _fit(self, train: Interactions) -> Self:
        """Count (weighted) interactions per item, optionally within the recency window."""
        check_weighting(self.weighting, self.half_life_days)
        if self.window_days is not None and not (
            isinstance(self.window_days, (int, float)) and self.window_days > 0
        ):
            raise ConfigError(
                f"window_days must be a positive number of days or None, got {self.window_days!r}"
            )
        require_interactions(train)
        weights = interaction_weights(train, self.weighting, self.half_life_days).astype(np.float64)
        if self.window_days is not None:
            if train.timestamps is None:
                raise DataError("window_days needs timestamps, and these interactions have none")
            cutoff = train.timestamps.max() - float(self.window_days) * 86400.0
            weights = np.where(train.timestamps >= cutoff, weights, 0.0)
        self._remember_train(train)
        counts = np.bincount(train.items, weights=weights, minlength=train.n_items)
        self.item_scores_ = counts.astype(np.float32)
        return self
