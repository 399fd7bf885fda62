"""The table family: every training user's scores over every item, computed once by the model itself.

For models whose scores have no compact serving form: Slope One's (Lemire & Maclachlan 2005) pairwise
deviations, NMF's unbiased factors (Luo et al. 2014), co-clustering's cluster means (George & Merugu
2005), k-NN with z-scores' per-user spreads and user-based k-NN (no item neighbour lists); the VAEs
have their own family (:mod:`movierec.scoring.vae`). The artifact stores the model's raw scores for the
users it was trained on (for a rating predictor: its unclipped predicted ratings, which the artifact
ranks by the same support-shrunk score as the model); the scores are the model's own, so the lists
served are exactly the model's. It costs 4 bytes per user and item (:func:`memory_bytes`): 24 MB for
ml-latest-small, 90 MB for ml-1m; above :data:`MAX_BYTES` export refuses and names what to use instead.

A person not in training cannot be placed without the model, so :meth:`Scorer.fold_in` returns
``None`` and the API answers with popularity, saying why (``Artifact.recommend_for_new_user``).
Where the model has item vectors (NMF's factors) they are stored too, and
'similar' ranks by their cosine, as for the factor family; a k-NN model's 'similar' reads its
similarity rows from the training ratings (:class:`movierec.models.knn.RatingSimilarity`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError
from movierec.scoring import base
from movierec.scoring.base import Exported

__all__ = ["MAX_BYTES", "Scorer", "check_size", "check_table_before_training", "export", "memory_bytes"]

#: the largest table export writes (1 GiB: ~16k users × 16k items)
MAX_BYTES = 2**30
_BATCH = 256  # users scored per call while the table is built


def memory_bytes(n_users: int, n_items: int) -> int:
    """Bytes of the float32 users × items table."""
    return 4 * int(n_users) * int(n_items)


def check_size(name: str, n_users: int, n_items: int) -> None:
    """Refuse, in one line, a table above :data:`MAX_BYTES` (before a long computation)."""
    size = memory_bytes(n_users, n_items)
    if size > MAX_BYTES:
        raise ConfigError(
            f"cannot export {name!r} for {n_users:,} users × {n_items:,} items: it has no compact serving form, "
            f"and a table of every user's scores would take {size / 2**30:.1f} GiB (limit "
            f"{MAX_BYTES / 2**30:.0f} GiB); export a model with factors or neighbour lists (svd, ease, itemknn, als)"
        )


def check_table_before_training(model: Any, train: Any) -> None:
    """Refuse an unfitted model that would be served as a table too large for ``train`` (its users ×
    items), before training: ``export`` and ``recommend`` would otherwise train, then refuse."""
    from movierec.scoring import family_of

    if family_of(model) == "table":
        check_size(str(getattr(model, "name", model)), train.n_users, train.n_items)


def _raw_scores(model: Any, users: np.ndarray) -> np.ndarray:
    """The model's raw scores for ``users``: a rating predictor's unclipped predicted ratings (the
    artifact applies the ranking rule), any other model's ranking score."""
    from movierec.models.base import ExplicitRecommender

    if isinstance(model, ExplicitRecommender):
        return np.asarray(model.predicted_scores(users), dtype=np.float32)
    return np.asarray(model.score(users), dtype=np.float32)


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    check_size(str(model.name), n_users, n_items)
    table = np.empty((n_users, n_items), dtype=np.float32)
    for start in range(0, n_users, _BATCH):
        users = np.arange(start, min(start + _BATCH, n_users), dtype=np.int32)
        table[start : start + len(users)] = _raw_scores(model, users)
    # an item a model cannot score (-inf, NaN; none scores +inf) ranks last, as in the model's own lists
    lowest = float(np.finfo(np.float32).min)
    table[~np.isfinite(table)] = lowest
    arrays: dict[str, Any] = {"table_scores": table}
    get = getattr(model, "similar_vectors", None) or getattr(model, "item_embeddings", None)
    vectors = get() if callable(get) else None
    if vectors is not None and np.shape(vectors)[0] == n_items and np.all(np.isfinite(vectors)):
        arrays["item_vectors"] = np.ascontiguousarray(vectors, dtype=np.float32)  # NMF: 'similar'
    from movierec.scoring.knn import similar_spec

    spec = {"memory_bytes": memory_bytes(n_users, n_items), "visitors": "popularity", **similar_spec(model)}
    return arrays, spec


class Scorer(base.Scorer):
    family: ClassVar[str] = "table"
    #: a visitor cannot be placed without the model: the artifact serves popularity and says so
    folds_in: bool = False

    def __init__(self, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        from movierec.scoring.knn import SimilarRows

        super().__init__(arrays, seen, spec)
        self._similar = SimilarRows(seen, spec)  # a k-NN table's 'similar' (knn-zscore, user-based)

    def known(self, u: int) -> np.ndarray:
        return np.array(self.a["table_scores"][u], dtype=np.float32)

    def fold_in(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        return None

    def item_vectors(self) -> np.ndarray | None:
        """The model's item vectors where it has them (NMF's factors): 'similar'."""
        return self.a.get("item_vectors")

    def similar_row(self, item: int) -> np.ndarray | None:
        """k-NN models served as a table (knn-zscore, user-based k-NN): the item's similarity row under the
        model's similarity, computed whole from the training ratings (as the knn family does)."""
        return self._similar.row(item)
