"""The Markov family: P(j | i) = (C[i, j] + α·p(j)) / (C[i, ·] + α), read from the last item of a history
(Shani, Heckerman & Brafman 2005; the Markov part of Rendle et al. 2010's FPMC)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from movierec.scoring import base
from movierec.scoring.base import Exported
from movierec.scoring.neighbours import csr_arrays

__all__ = ["Scorer", "back_off_note", "export", "followed", "next_scores"]


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    """First-order transitions (CSR counts), the popularity back-off and each user's latest item."""
    arrays = {
        **csr_arrays("transitions", model.transitions_, data="counts"),
        "out_counts": np.asarray(model.out_counts_, dtype=np.float32),
        "item_prior": np.asarray(model.item_prior_, dtype=np.float32),
        "alpha": np.float32(model.alpha),
        "last_item": np.asarray(model.last_item_, dtype=np.int32),
    }
    return arrays, {"threshold": float(threshold), "sequential": True}


def next_scores(arrays: dict[str, np.ndarray], last: int) -> np.ndarray:
    """``P(· | last)`` as :class:`movierec.models.sequential.Markov` computes it (popularity when ``last < 0``)."""
    prior = arrays["item_prior"]
    if last < 0:
        return prior.copy()
    alpha = float(arrays["alpha"])
    ptr, idx = arrays["transitions_indptr"], arrays["transitions_indices"]
    row = np.zeros(len(prior), dtype=np.float32)
    row[idx[ptr[last] : ptr[last + 1]]] = arrays["transitions_counts"][ptr[last] : ptr[last + 1]]
    return ((row + alpha * prior) / (arrays["out_counts"][last] + alpha)).astype(np.float32)


def followed(indptr: np.ndarray, indices: np.ndarray, last: int, items: np.ndarray) -> np.ndarray:
    """Whether each of ``items`` followed ``last`` at least once in the training histories (a transition
    count above 0, from the CSR arrays of the counts: the model's ``transitions_`` or the artifact's); the
    others' scores are the popularity back-off alone, ``α·p(j) / (C[last, ·] + α)``."""
    return np.isin(np.asarray(items, dtype=np.int64), indices[indptr[last] : indptr[last + 1]])


def back_off_note(reached: Sequence[bool], last_title: str, whose: str) -> str | None:
    """The line under a markov list whose rows the last movie never led to, or ``None`` where each did.

    ``reached``: per row (rank 1 first), whether the movie followed ``last_title`` (the latest movie of
    ``whose``: "user 1's") in someone's training history (:func:`followed`). User 1's list read 0.14289 on
    row 1 and 0.00045 … 0.00025 on rows 2-10 with nothing to say why: row 1 followed 20 Dates (1998) once in
    six, and no movie of rows 2-10 ever did, so their scores are the back-off, each movie's share of the
    training ratings, in the order of the list's count column (most ratings first)."""
    missed = [n for n, hit in enumerate(reached, 1) if not hit]
    if not missed:
        return None
    one = len(missed) == 1
    every = len(missed) == len(reached) and not one
    rows = "every row" if every else f"row{'' if one else 's'} {_spans(missed)}"
    them, score = ("it", "its score is") if one else ("them", "their scores are")
    return (
        f"{rows}: in training no one rated {them} next after {last_title}, {whose} latest movie; {score} "
        "the popularity back-off (most ratings first)"
    )


def _spans(ranks: list[int]) -> str:
    """``[2, 3, 4, 7]`` as ``"2-4, 7"``."""
    spans: list[list[int]] = []
    for r in ranks:
        if spans and r == spans[-1][1] + 1:
            spans[-1][1] = r
        else:
            spans.append([r, r])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


class Scorer(base.Scorer):
    family: ClassVar[str] = "markov"

    def known(self, u: int) -> np.ndarray:
        return next_scores(self.a, int(self.a["last_item"][u]))

    def fold_in(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        """``items`` is an ordered history (oldest first): what follows its last item."""
        return next_scores(self.a, int(items[-1]) if len(items) else -1)
