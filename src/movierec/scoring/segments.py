"""The segments family: one popularity list per user segment (segment-popularity), chosen by features.

A segment is the set of a user's feature columns whose names start with one of the model's field
prefixes (``age:``, ``gender:`` for the default age bucket × gender). Known users get their
segment's row; a visitor described by features (``POST /recommendations`` with ``features``) gets
the row of the segment those features encode, or global popularity when no training user was in
it; a visitor with ratings only gets global popularity (the model has no rating fold-in). The
model (:class:`movierec.models.segment_popularity.SegmentPopularity`) and the artifact share
:func:`segment_key` and :func:`segment_row`, so Python and the API give the same list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from movierec.scoring import base

__all__ = ["Scorer", "export", "segment_key", "segment_row"]


def segment_key(names: Sequence[str], cols: Sequence[int] | np.ndarray, prefixes: Sequence[str]) -> str:
    """The segment of a feature row given by its nonzero columns ``cols``: its field columns' names, sorted."""
    wanted = tuple(prefixes)
    return " ".join(sorted(names[int(c)] for c in cols if names[int(c)].startswith(wanted)))


def segment_row(
    segment_scores: np.ndarray, global_scores: np.ndarray, keys: Sequence[str], key: str
) -> np.ndarray:
    """The scores of segment ``key`` (a copy); global popularity for a segment no training user was in."""
    if key in keys:
        return np.asarray(segment_scores[list(keys).index(key)], dtype=np.float32).copy()
    return np.asarray(global_scores, dtype=np.float32).copy()


def export(model: Any, n_users: int, n_items: int, threshold: float) -> tuple[dict[str, np.ndarray], dict]:
    """Every segment's scores, global popularity, each training user's segment; keys and names in the spec."""
    arrays = {
        "segment_scores": np.asarray(model.segment_scores_, dtype=np.float32),
        "global_scores": np.asarray(model.global_scores_, dtype=np.float32),
        "user_segment": np.asarray(model.user_segment_, dtype=np.int32),
    }
    spec = {
        "threshold": float(threshold),
        "segment_keys": [str(k) for k in model.segment_keys_],
        "feature_names": [str(n) for n in model.user_feature_names_],
        "prefixes": list(model._prefixes()),
    }
    return arrays, spec


class Scorer(base.Scorer):
    family: ClassVar[str] = "segments"

    def known(self, u: int) -> np.ndarray:
        return np.asarray(self.a["segment_scores"][int(self.a["user_segment"][u])], dtype=np.float32).copy()

    def fold_in(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        """Ratings say nothing about a segment: global popularity (features: :mod:`movierec.serving.visitor`)."""
        return np.asarray(self.a["global_scores"], dtype=np.float32).copy()
