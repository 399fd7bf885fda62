"""Sequence-aware baselines: recent popularity and a first-order Markov chain over items.

Both read each user's training history in time order (timestamp, ties in a fixed pseudo-random
order, :func:`movierec.interactions.time_order`, the order :func:`movierec.split.leave_last_out`
holds out by). Without timestamps the row order of the log is taken as time order.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError
from movierec.interactions import Interactions, time_order
from movierec.models.base import BaseRecommender, Tags, require_interactions
from movierec.models.params import POSITIVE, Constraint
from movierec.models.popularity import OneListRecommender

__all__ = ["Markov", "SequentialPopularity", "time_order"]


def last_items(train: Interactions, order: np.ndarray | None = None) -> np.ndarray:
    """Each user's latest training item index (``-1`` for users without training rows)."""
    order = time_order(train) if order is None else order
    counts = np.bincount(train.users, minlength=train.n_users)
    ends = np.cumsum(counts)
    out = np.full(train.n_users, -1, dtype=np.int32)
    has = counts > 0
    out[has] = train.items[order[ends[has] - 1]]
    return out


def fitted_history(model: Any, items: np.ndarray) -> np.ndarray:
    """A sequence model's new-user history, checked: the model is fitted and every item index is one of
    its items (oldest first, int64)."""
    model._check_fitted()
    return _check_history(items, model.n_items_)


def _check_history(items: np.ndarray, n_items: int) -> np.ndarray:
    items = np.atleast_1d(np.asarray(items, dtype=np.int64))
    if items.size and (items.min() < 0 or items.max() >= n_items):
        bad = items[(items < 0) | (items >= n_items)][0]
        raise ConfigError(f"item index {bad} in the history is outside 0..{n_items - 1}")
    return items


class SequentialPopularity(OneListRecommender):
    """Recent popularity: each interaction counts ``0.5 ** (age / half_life_days)``, age measured back from the newest one.

    Time-decayed popularity (Ding & Li 2005, "Time weight collaborative filtering"): a trending
    list, the same for every user. Without timestamps every interaction weighs 1.
    """

    name: ClassVar[str] = "sequential-popularity"
    #: reads each user's history in time order: trained on every interaction, not only positives
    tags: ClassVar[Tags] = Tags(trains_on="sequences", fold_in="sequence", serving="scores")

    half_life_days: float = 30.0

    def _fit(self, train: Interactions) -> Self:
        """Sum decayed weights per item; remember each user's last item (for history-aware callers)."""
        require_interactions(train)
        if train.timestamps is None:
            weights = np.ones(train.n_ratings, dtype=np.float64)
        else:
            age_days = (train.timestamps.max() - train.timestamps).astype(np.float64) / 86400.0
            weights = np.power(0.5, age_days / float(self.half_life_days))
        self._remember_train(train)
        self.last_item_ = last_items(train)
        # a tiny count term breaks ties among items whose decayed weight underflows to 0
        counts = np.bincount(train.items, minlength=train.n_items).astype(np.float64)
        pop = np.bincount(train.items, weights=weights, minlength=train.n_items)
        self.item_scores_ = (pop + 1e-9 * counts / max(counts.max(), 1.0)).astype(np.float32)
        return self

    def score_new_user(
        self, items: np.ndarray, ratings: np.ndarray | None = None, *, threshold: float = 4.0
    ) -> np.ndarray:
        """A new user gets the recent-popularity ranking (after checking the history's indices)."""
        self._check_fitted()
        _check_history(items, self.n_items_)
        return super().score_new_user(items, ratings, threshold=threshold)


class Markov(BaseRecommender):
    """First-order Markov chain over items: ``P(j | i) = (C[i, j] + alpha · p(j)) / (C[i, ·] + alpha)``.

    ``C`` counts consecutive pairs (i then j) in every user's time-ordered training history;
    ``p`` is the popularity distribution, so items never seen after ``i`` (or users whose last
    item has no outgoing transitions) fall back to popularity (additive/Dirichlet smoothing).
    Scores come from the user's last training item (Rendle et al. 2010's FPMC without the MF
    part; a Markov-chain recommender in the sense of Shani, Heckerman & Brafman 2005).
    """

    item_vectors: ClassVar[bool | None] = False

    name: ClassVar[str] = "markov"
    #: reads each user's history in time order: trained on every interaction, not only positives
    tags: ClassVar[Tags] = Tags(trains_on="sequences", fold_in="sequence", serving="markov")

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {"alpha": [POSITIVE]}

    alpha: float = 1.0

    def _fit(self, train: Interactions) -> Self:
        """Count item-to-item transitions along each user's history and the popularity back-off."""
        require_interactions(train)
        self._remember_train(train)
        order = time_order(train)
        u = train.users[order]
        it = train.items[order]
        same = u[1:] == u[:-1]
        src, dst = it[:-1][same], it[1:][same]
        n = train.n_items
        trans = sp.csr_matrix(
            (np.ones(len(src), dtype=np.float32), (src, dst)), shape=(n, n), dtype=np.float32
        )
        trans.sum_duplicates()
        trans.sort_indices()
        self.transitions_ = trans
        self.out_counts_ = np.asarray(trans.sum(axis=1)).ravel().astype(np.float32)
        counts = np.bincount(train.items, minlength=n).astype(np.float64)
        self.item_prior_ = (counts / counts.sum()).astype(np.float32)
        self.last_item_ = last_items(train, order)
        return self

    def _next_scores(self, last: np.ndarray) -> np.ndarray:
        """Rows of ``P(· | last)``; ``last == -1`` gives the popularity prior."""
        alpha = float(self.alpha)
        out = np.broadcast_to(self.item_prior_, (len(last), self.n_items_)).astype(np.float32)
        known = last >= 0
        if known.any():
            rows = self.transitions_[last[known]].toarray()
            denom = (self.out_counts_[last[known]] + alpha)[:, None]
            out[known] = (rows + alpha * self.item_prior_[None, :]) / denom
        return out

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Next-item probabilities from each user's last training item."""
        self._check_fitted()
        users = self._check_users(users)
        out = self._next_scores(self.last_item_[users].astype(np.int64))
        return out if items is None else out[:, np.asarray(items)]

    def score_new_user(
        self, items: np.ndarray, ratings: np.ndarray | None = None, *, threshold: float = 4.0
    ) -> np.ndarray:
        """Next-item probabilities after the last item of an ordered history (popularity when empty)."""
        items = fitted_history(self, items)
        last = np.array([items[-1] if items.size else -1], dtype=np.int64)
        return self._next_scores(last)[0]

    def next_items(self, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` most likely items to follow ``item`` (with their probabilities)."""
        from movierec.models.base import topk

        self._check_fitted()
        _check_history(np.array([item]), self.n_items_)
        idx, vals = topk(self._next_scores(np.array([item]))[None, 0], k)
        return idx[0], vals[0]
