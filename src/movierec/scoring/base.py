"""The scorer contract every serving family implements, and the rules all families share."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

__all__ = ["Exported", "Scorer", "positive_mask", "rating_weights", "relative_ratings", "visitor_weights"]

Exported = tuple[dict[str, Any], dict[str, Any]]
"""What a family's ``export(model, n_users, n_items, threshold)`` returns: ``(arrays, spec)``, the named
numpy arrays (and scalars) written to the artifact's npz and the JSON-able spec its scorer reads."""


def positive_mask(ratings: np.ndarray | None, n: int, threshold: float) -> np.ndarray:
    """Which of a visitor's ``n`` ratings count as positives for an implicit model (all when ``ratings`` is None)."""
    if ratings is None:
        return np.ones(n, dtype=bool)
    return np.asarray(ratings, dtype=np.float64) >= threshold


def relative_ratings(ratings: np.ndarray, users: np.ndarray | None = None) -> np.ndarray:
    """Each rating over the mean rating of its user's rows (one user when ``users`` is None), float32.

    ``weighting="rating"`` weighs positives by these: a user's weights average 1, as binary ones do, so
    a model's scale parameters (EASE's λ, SLIM's α, ALS's α) mean the same under both weightings and
    its defaults carry over; raw ratings of 4 to 5 enlarged EASE's Gram matrix about 20×, which made
    λ 50 act like λ 2.5 (``bench/weighting_study.py``). A user who gives every positive the same rating
    weighs them 1 each (binary), and a visitor's ratings are scaled by their own mean the same way, so
    folding them in needs nothing stored from training."""
    r = np.asarray(ratings, dtype=np.float64)
    u = np.zeros(r.size, np.int64) if users is None else np.asarray(users, dtype=np.int64)
    n = int(u.max()) + 1 if u.size else 0
    mean = (np.bincount(u, r, minlength=n) / np.maximum(np.bincount(u, minlength=n), 1))[u]
    # a mean of 0 or below (a visitor's 0-star positives under a threshold of 0): each weighs 1
    ok = mean > 0
    return np.where(ok, r / np.where(ok, mean, 1.0), 1.0).astype(np.float32)


def rating_weights(model: Any) -> str | bool:
    """The spec's ``rating_weights``: ``"relative"`` when ``model`` weighs positives by rating (each over
    its user's mean), True when it weighs them by their values as given (``weighting="values"``, and
    artifacts written before the relative rule), else False."""
    weighting = getattr(model, "weighting", "")
    return "relative" if weighting == "rating" else weighting == "values"


def visitor_weights(spec: dict[str, Any], ratings: np.ndarray | None, liked: np.ndarray) -> np.ndarray:
    """A visitor's weight per liked item (float64), as the model weighed a training user's positives: 1
    each, or with ``rating_weights`` their rating (over their own mean, unless the artifact predates it)."""
    mode = spec.get("rating_weights")
    if not mode or ratings is None:
        return np.ones(int(np.count_nonzero(liked)))
    r = np.asarray(ratings, dtype=np.float64)[liked]
    return relative_ratings(r).astype(np.float64) if mode == "relative" else r


class Scorer:
    """Scores over every item from exported arrays: for a training user (``known``) or a visitor (``fold_in``).

    ``fold_in`` returns ``None`` when the visitor's ratings carry no signal the family can use (an
    implicit model given only ratings below its positive threshold); the caller then falls back to
    popularity and says so.
    """

    family: ClassVar[str] = "base"
    #: whether :meth:`fold_in` can place a visitor at all (False: the table family, or a composite with a
    #: table base), so a ``None`` from it means "cannot", not "no liked movie"
    folds_in: bool = True

    def __init__(self, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        self.a = arrays
        self.seen = seen
        self.spec = spec
        self.n_items = seen.shape[1]

    def known(self, u: int) -> np.ndarray:
        """Raw scores (float32, n_items) for training user index ``u``."""
        raise NotImplementedError

    def fold_in(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        """Raw scores for a visitor from item indices and their ratings (None: every item liked)."""
        raise NotImplementedError

    def item_vectors(self) -> np.ndarray | None:
        """Item vectors whose cosine is 'similar' (None for families without vectors)."""
        return None

    def neighbour_rows(self) -> sp.csr_matrix | None:
        """Items × items similarity lists (None for families without them)."""
        return None

    def similar_row(self, item: int) -> np.ndarray | None:
        """Raw similarities of ``item`` to every item (``-inf`` where there is none), from the
        neighbour lists; None for families without them (factor families use :meth:`item_vectors`)."""
        rows = self.neighbour_rows()
        if rows is None:
            return None
        out = np.full(rows.shape[1], -np.inf, dtype=np.float32)
        lo, hi = rows.indptr[item], rows.indptr[item + 1]
        out[rows.indices[lo:hi]] = rows.data[lo:hi]
        return out

    @property
    def threshold(self) -> float:
        return float(self.spec.get("threshold", 4.0))
