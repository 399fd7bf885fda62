"""Validation curves: an iterative model scored after its epochs on a slice of its own training data.

A training-loss curve says the optimiser converges, not that the model generalises; the curve a
reader needs beside it is a held-out score per epoch (Prechelt 1998, "Early stopping — but
when?"). :class:`EpochValidator` gives :func:`movierec.evaluation.compare` that curve for every
model with a trainer (:mod:`movierec.models.training`: svd, svdpp, bpr, warp, logistic,
warp-kos — models usable after each epoch): before the fit it moves a small **validation slice
out of the model's training data** (``per_user`` interactions of up to ``n_users`` sampled
users; never the test split) — out of every model's, so a comparison stays fair — and the epoch
callback scores the model on it: RMSE for rating models, NDCG@K over the full catalogue
(Järvelin & Kekäläinen 2002) for the others. The value
joins the epoch's record in ``model.history_`` (``val_rmse`` / ``val_ndcg@10``, the key sasrec's
own validation uses) and :attr:`EpochValidator.curves`.

Cost: the slice is ~1–2 % of ml-latest-small's training ratings, and at most ``max_points``
epochs are scored (every epoch for short runs, evenly spaced ones for bpr's 150), each a
``n_users`` × catalogue score block. The models are fit without the slice, so their test numbers
are compare's with the same ``monitor``, not a plain compare's; the note says so.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from movierec import metrics as M
from movierec.interactions import Interactions
from movierec.models.base import EpochCallback, Recommender, fit_options, tags_of, topk

__all__ = ["EpochValidator", "validation_slice"]


def validation_slice(
    train: Interactions, *, n_users: int = 256, per_user: int = 5, seed: int = 42
) -> tuple[Interactions, Interactions]:
    """``(fit, valid)``: ``per_user`` random interactions of up to ``n_users`` sampled users moved out of ``train``.

    Only users with at least ``2 * per_user`` interactions are sampled, so each keeps most of its
    history; both parts share ``train``'s id maps. ``valid`` is empty when no user qualifies.
    """
    rng = np.random.default_rng(seed)
    counts = np.bincount(train.users, minlength=train.n_users)
    eligible = np.flatnonzero(counts >= 2 * per_user)
    chosen = np.zeros(train.n_users, dtype=bool)
    chosen[rng.permutation(eligible)[:n_users]] = True
    perm = rng.permutation(train.n_ratings)
    order = perm[np.argsort(train.users[perm], kind="stable")]  # each user's rows, in random order
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    users = train.users[order]
    first = chosen[users] & (np.arange(len(order)) - starts[users] < per_user)
    held = np.zeros(train.n_ratings, dtype=bool)
    held[order[first]] = True
    return train.subset(~held), train.subset(held)


def _pairs(inter: Interactions) -> sp.csr_matrix:
    data = np.ones(inter.n_ratings, dtype=np.float32)
    return sp.csr_matrix((data, (inter.users, inter.items)), shape=(inter.n_users, inter.n_items))


class EpochValidator:
    """A validation slice for :func:`movierec.evaluation.compare` (``compare(..., monitor=…)``) and the
    per-epoch scores of the models it can follow.

    compare takes :meth:`split` of each fold's training data: **every** model then trains without
    the slice (so the table stays a fair comparison), and :meth:`attach` scores the iterative ones
    on it after their epochs. ``n_users`` and ``per_user`` size the slice, ``k`` the NDCG cut-off,
    ``max_points`` caps the scored epochs per fit (the first, every ``ceil(epochs / max_points)``-th
    and the last). ``curves`` maps each followed model's label to ``[{"epoch", "val_…"}, …]``;
    ``seconds`` is the time spent scoring (compare leaves it out of the fit time).
    """

    def __init__(
        self, *, n_users: int = 256, per_user: int = 5, k: int = 10, max_points: int = 20, seed: int = 42
    ) -> None:
        self.n_users, self.per_user, self.k = int(n_users), int(per_user), int(k)
        self.max_points, self.seed = max(1, int(max_points)), seed
        self.curves: dict[str, list[dict[str, float]]] = {}
        self.seconds = 0.0
        self.held = (0, 0)  # interactions and users in the last slice
        self._last: tuple[Interactions, tuple[Interactions, Interactions]] | None = None

    def split(self, train: Interactions) -> tuple[Interactions, Interactions]:
        """``(rest, slice)`` of a fold's training data (:func:`validation_slice`; the same objects for the same fold)."""
        if self._last is None or self._last[0] is not train:
            parts = validation_slice(train, n_users=self.n_users, per_user=self.per_user, seed=self.seed)
            self._last = (train, parts)
            self.held = (parts[1].n_ratings, len(np.unique(parts[1].users)))
        return self._last[1]

    @staticmethod
    def follows(model: Recommender) -> bool:
        """Whether ``model`` gets a curve: it trains epoch by epoch and is usable after each (a trainer)."""
        return callable(getattr(model, "trainer", None)) and "on_epoch" in fit_options(model)

    def attach(
        self, label: str, model: Recommender, fit: Interactions, valid: Interactions, threshold: float | None
    ) -> EpochCallback | None:
        """The epoch listener scoring ``model`` (training on ``fit``) on ``valid``; ``None`` if it is not followed.

        Rating models get the RMSE over ``valid``; the others NDCG@k with the slice's ratings ≥
        ``threshold`` relevant (every slice row when ``threshold`` is None).
        """
        if not self.follows(model):
            return None
        explicit = tags_of(model).kind == "explicit"
        if not explicit and threshold is not None:
            valid = valid.subset(valid.ratings >= threshold)
        if valid.n_ratings == 0:
            return None
        key = "val_rmse" if explicit else f"val_ndcg@{self.k}"
        score = _rmse_scorer(valid) if explicit else _ndcg_scorer(fit, valid, self.k)
        last = int(getattr(model, "epochs", 1) or 1)
        every = max(1, math.ceil(last / self.max_points))
        curve: list[dict[str, float]] = []
        self.curves[label] = curve

        def on_epoch(epoch: int, info: dict[str, float]) -> None:
            if not (epoch == 1 or epoch % every == 0 or epoch == last):
                return
            t0 = time.perf_counter()
            value = float(score(model))
            self.seconds += time.perf_counter() - t0
            curve.append({"epoch": epoch, key: value})
            info[key] = value
            history = getattr(model, "history_", None)  # the trainer's live record of this epoch
            if history and history[-1].get("epoch") == epoch:
                history[-1][key] = value

        return on_epoch

    def note(self) -> str | None:
        """One line for a report: what the slice is and which models were scored on it (``None`` if none)."""
        if self._last is None:
            return None
        n, users = self.held
        followed = f"; {', '.join(self.curves)} scored on it as they trained" if self.curves else ""
        return (
            f"validation slice: every model trained without {n:,} training interactions of {users:,} sampled "
            f"users (never the test split){followed} (RMSE for rating models, NDCG@{self.k} for the others; "
            f"{self.seconds:.1f} s of scoring): the dashed lines of the training-curve chart"
        )


def _rmse_scorer(valid: Interactions) -> Callable[[Any], float]:
    truth = valid.ratings.astype(np.float64)
    return lambda model: M.rmse(np.asarray(model.predict(valid.users, valid.items), dtype=np.float64), truth)


def _ndcg_scorer(fit: Interactions, valid: Interactions, k: int) -> Callable[[Any], float]:
    users = np.unique(valid.users).astype(np.int32)
    seen = _pairs(fit)[users]
    relevant = _pairs(valid)[users]
    rows = np.repeat(np.arange(len(users)), np.diff(seen.indptr))

    def score(model: Recommender) -> float:
        s = np.array(model.score(users), dtype=np.float32)
        s[rows, seen.indices] = -np.inf  # the items the model trained on are not candidates
        return float(M.ndcg(topk(s, k)[0], relevant, k).mean())

    return score
