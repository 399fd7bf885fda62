"""Popularity within the user's segment: the strong cold-start baseline for user side information.

A segment is the combination of a user's values for ``fields`` (default age bucket × gender, from
the ``demographics`` user features, :mod:`movierec.demographics`). An item's score for a segment
is its share of the segment's users who interacted with it, shrunk towards its share of all
users: (c_si + m·g_i) / (n_s + m), with c_si the segment's users with the item, n_s the segment's
size, g_i the global share and m = ``shrinkage`` (an additive-smoothing prior; m = 0 is raw segment
popularity, m → ∞ plain popularity). Demographic models must beat this, not only global
popularity, before their side information can be said to help (Lam et al. 2008 use the same
kind of baseline for new users).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.base import BaseRecommender, Tags, require_interactions
from movierec.scoring.segments import segment_key, segment_row

__all__ = ["SegmentPopularity"]


class SegmentPopularity(BaseRecommender):
    """Most popular items among users of the same segment (``fields`` of the user features).

    ``fields``: comma-separated feature prefixes that define a segment (``age,gender``);
    ``shrinkage``: pseudo-users of global popularity mixed into each segment's shares.
    """

    item_vectors: ClassVar[bool | None] = False

    name: ClassVar[str] = "segment-popularity"
    kind: ClassVar[str] = "implicit"
    uses_user_features: ClassVar[bool] = True
    tags: ClassVar[Tags] = Tags(fold_in="popularity", serving="segments", uses_features=True)
    _json_state: ClassVar[tuple[str, ...]] = ("segment_keys_", "user_feature_names_")

    fields: str = "age,gender"
    shrinkage: float = 10.0

    def _prefixes(self) -> tuple[str, ...]:
        parts = tuple(p.strip() + ":" for p in str(self.fields).split(",") if p.strip())
        if not parts:
            raise ConfigError(f"fields must name at least one user feature, got {self.fields!r}")
        return parts

    def _segment_key(self, names: list[str], cols: np.ndarray) -> str:
        return segment_key(names, cols, self._prefixes())

    def _fit(self, train: Interactions, *, item_features: Any = None, user_features: Any = None) -> Self:
        """Count each segment's users per item; ``user_features`` must hold the segment fields."""
        if (
            not isinstance(self.shrinkage, (int, float))
            or isinstance(self.shrinkage, bool)
            or self.shrinkage < 0
        ):
            raise ConfigError(f"shrinkage must be a number ≥ 0, got {self.shrinkage!r}")
        if user_features is None:
            raise ConfigError(
                f"{self.name} needs user features with {self.fields}: in the CLI --user-features "
                "demographics; in Python fit(train, user_features=movierec.demographics."
                "build_user_features(dataset, train.user_map)) on data with demographics (ml-100k)"
            )
        require_interactions(train)
        names = list(getattr(user_features, "names", []))
        mat = sp.csr_matrix(getattr(user_features, "matrix", user_features))
        if mat.shape[0] != train.n_users or len(names) != mat.shape[1]:
            raise ConfigError(f"user_features must be named and have {train.n_users} rows")
        if not any(n.startswith(self._prefixes()) for n in names):
            raise ConfigError(f"{self.name}: the user features have no {self.fields} columns")
        self._remember_train(train)
        keys: dict[str, int] = {}
        seg = np.empty(train.n_users, dtype=np.int64)
        for u in range(train.n_users):
            key = self._segment_key(names, mat.indices[mat.indptr[u] : mat.indptr[u + 1]])
            seg[u] = keys.setdefault(key, len(keys))
        pos = sp.csr_matrix((np.ones(train.n_ratings), (train.users, train.items)), shape=train.shape)
        pos.data[:] = 1.0
        pos.sum_duplicates()
        pos.data[:] = 1.0
        active = np.diff(pos.indptr) > 0
        onehot = sp.csr_matrix(
            (np.ones(train.n_users), (seg, np.arange(train.n_users))), shape=(len(keys), train.n_users)
        )
        counts = np.asarray((onehot @ pos).todense(), dtype=np.float64)
        sizes = np.bincount(seg[active], minlength=len(keys)).astype(np.float64)
        share = np.asarray(pos.sum(axis=0)).ravel() / max(int(active.sum()), 1)
        m = float(self.shrinkage)
        self.segment_scores_ = ((counts + m * share) / np.maximum(sizes + m, 1e-9)[:, None]).astype(
            np.float32
        )
        self.global_scores_ = share.astype(np.float32)
        self.user_segment_ = seg
        self.segment_keys_ = list(keys)
        self.user_feature_names_ = names
        return self

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Each user's segment row."""
        self._check_fitted()
        users = self._check_users(users)
        out = self.segment_scores_[self.user_segment_[users]]
        return out if items is None else out[:, np.asarray(items)]

    def score_new_user(
        self,
        items: np.ndarray | None = None,
        ratings: np.ndarray | None = None,
        *,
        threshold: float = 4.0,
        features: Any = None,
    ) -> np.ndarray:
        """A new user's segment row from ``features`` (a visitor mapping or a 1 × n row); global
        popularity when no features are given or the segment had no training users."""
        self._check_fitted()
        if features is None:
            return self.global_scores_.copy()
        names = list(self.user_feature_names_)
        from movierec.demographics import visitor_feature_row

        row = visitor_feature_row(self.name, features, names)
        key = self._segment_key(names, row.indices)
        return segment_row(self.segment_scores_, self.global_scores_, self.segment_keys_, key)

    def item_embeddings(self) -> np.ndarray | None:
        return None
