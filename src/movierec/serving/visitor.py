"""Serving a new visitor from their features (age, gender, occupation, zip), with or without ratings.

A hybrid model (bpr, warp, logistic, warp-kos trained with ``--user-features demographics``)
exports its user-feature embeddings beside its item factors; a visitor's vector is the
normalised sum of the embeddings of their features, exactly as
:meth:`movierec.models.bpr.HybridMF.score_new_user` computes it (the API and Python agree), and
each liked rating (≥ the artifact's implicit threshold) adds that movie's vector to the mean.
A ``segment-popularity`` artifact (the ``segments`` family) serves the popularity list of the
segment (age bucket × gender by default) the visitor's features fall in, as
:meth:`movierec.models.segment_popularity.SegmentPopularity.score_new_user` does; ratings only
exclude the rated movies there.
Unknown fields or values raise :class:`~movierec.demographics.FeatureValueError` naming the
field, which the API turns into a 422.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from movierec.demographics import DemographicSchema
from movierec.errors import FeatureValueError, spelled

__all__ = ["visitor_export", "visitor_scores"]

ARRAY = "user_feature_embeddings"


def visitor_export(model: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """``(arrays, manifest entry)`` for a model trained with user features, else None."""
    names = list(getattr(model, "user_feature_names_", None) or [])
    if names and getattr(model, "segment_scores_", None) is not None:  # the segments family's own arrays
        return {}, {"names": names, "normalize": False}
    emb = getattr(model, "user_feature_embeddings_", None)
    if not names or emb is None or len(emb) != len(names):
        return None
    normalizes = getattr(model, "normalizes", None)
    normalize = bool(normalizes("users")) if callable(normalizes) else True
    return {ARRAY: np.asarray(emb, dtype=np.float32)}, {"names": names, "normalize": normalize}


def visitor_scores(
    manifest: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    features: Mapping[str, Any],
    liked: Sequence[int] = (),
) -> np.ndarray:
    """Scores over all items for a visitor's ``features`` plus the indices of movies they liked."""
    meta = manifest.get("user_features")
    model = manifest.get("model", {}).get("name", "this")
    if not meta or (ARRAY not in arrays and "segment_scores" not in arrays):
        raise FeatureValueError(
            "features",
            f"the {model} artifact was exported without user features; export bpr, warp or "
            "segment-popularity with demographic user features to serve visitors by their features "
            f"({spelled('user_features=' + repr('demographics'), '--user-features demographics')})",
        )
    names = list(meta["names"])
    schema = DemographicSchema.from_names(names)
    if schema is None:
        raise FeatureValueError("features", "this artifact's user features are not demographics")
    row = schema.encode(features, names)
    if manifest.get("model", {}).get("family") == "segments":
        from movierec.scoring.segments import segment_key, segment_row

        spec = manifest.get("fold_in") or {}
        key = segment_key(names, row.indices, spec["prefixes"])
        return segment_row(arrays["segment_scores"], arrays["global_scores"], spec["segment_keys"], key)
    emb = arrays[ARRAY]
    total = float(row.sum())
    vec = np.zeros(emb.shape[1], dtype=np.float64)
    weight = 1.0
    if total > 0:
        vec = np.asarray(row @ emb, dtype=np.float64).ravel() / (
            total if meta.get("normalize", True) else 1.0
        )
    item_factors = arrays["item_factors"]
    if len(liked):
        vec = vec + item_factors[np.asarray(liked, dtype=np.int64)].sum(axis=0)
        weight += len(liked)
    vec /= weight
    return (item_factors @ vec.astype(np.float32) + arrays["item_bias"]).astype(np.float32)
