"""The ensemble family: implicit top-N families summed with weights after a per-user normalisation
(:class:`movierec.models.ensemble.Ensemble`).

score = Σ_b w_b · norm(s_b) over the bases with a weight, each base scored by its own family
(``linear`` for EASE and RP3beta, ``user-linear`` for user-based EASE, ``factors`` for iALS, …) and
``norm`` the model's per-user normalisation over the items the user has not seen
(:func:`normalise_scores`: z-scores, or division by the largest absolute score). A training user's
seen items are their training positives; a visitor's are their positives (ratings ≥ the implicit
threshold), the items their row holds in every base. A visitor is folded into every base with that
base's own rule; with no positive rating there is nothing to fold in (popularity, as for every
implicit family).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError
from movierec.scoring import base
from movierec.scoring.base import Exported, positive_mask

__all__ = ["NORMALISATIONS", "Scorer", "export", "normalise_scores"]

NORMALISATIONS = ("std", "max")


def normalise_scores(scores: np.ndarray, seen: sp.spmatrix | np.ndarray, how: str) -> np.ndarray:
    """Scores (users × items) put on a common scale per user, over the items each user has not seen.

    ``"std"``: z-scores (minus the user's mean, over the standard deviation); ``"max"``: divided by
    the largest absolute score. ``seen`` is a users × items matrix (sparse, or a dense boolean mask).
    Seen items are left at whatever the transform gives them (ranking excludes them). Float32.
    """
    s = np.asarray(scores, dtype=np.float32)
    dense = seen.toarray() if isinstance(seen, sp.spmatrix | sp.sparray) else seen
    mask: np.ndarray = np.asarray(dense) != 0
    unseen = np.maximum((~mask).sum(axis=1, keepdims=True), 1).astype(np.float64)
    if how == "max":
        top = np.where(mask, 0.0, np.abs(s)).max(axis=1, keepdims=True).astype(np.float64)
        return (s / np.where(top > 0, top, 1.0)).astype(np.float32)
    kept = np.where(mask, 0.0, s).astype(np.float64)
    mean = kept.sum(axis=1, keepdims=True) / unseen
    var = np.where(mask, 0.0, (s - mean) ** 2).sum(axis=1, keepdims=True) / unseen
    sd = np.sqrt(var)
    return ((s - mean) / np.where(sd > 0, sd, 1.0)).astype(np.float32)


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    """Each weighted base's own family arrays under ``b<n>.`` (n its position among the model's bases), and
    the weights and normalisation in the spec. Bases with weight 0 were not refitted and are not stored."""
    from movierec.scoring import export_family

    if model.normalize not in NORMALISATIONS:
        raise ConfigError(f"cannot export {model.name!r}: unknown normalisation {model.normalize!r}")
    arrays: dict[str, Any] = {}
    bases = []
    for n, (label, weight) in enumerate(zip(model.base_labels_, model.weights_, strict=True)):
        fitted = model.models_.get(label)
        if weight <= 0 or fitted is None:
            continue
        try:
            family, sub, spec = export_family(fitted, n_users, n_items, threshold)
        except ConfigError as exc:
            raise ConfigError(
                f"cannot export {model.name!r}: its base {label!r} has no serving form ({exc})"
            ) from exc
        arrays.update({f"b{n}.{k}": v for k, v in sub.items()})
        bases.append({"label": label, "index": n, "family": family, "weight": float(weight), "spec": spec})
    spec = {
        "threshold": float(threshold),
        "normalize": str(model.normalize),
        "bases": bases,
        "memory_bytes": sum(int(b["spec"].get("memory_bytes", 0)) for b in bases),
    }
    return arrays, spec


class Scorer(base.Scorer):
    family: ClassVar[str] = "ensemble"

    def __init__(self, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        from movierec.scoring import make_scorer

        super().__init__(arrays, seen, spec)
        self.how = str(spec["normalize"])
        self.weights: list[float] = []
        self.bases: list[base.Scorer] = []
        self.labels = [str(b.get("label", f"base {int(b['index'])}")) for b in spec["bases"]]
        for b in spec["bases"]:
            prefix = f"b{int(b['index'])}."
            sub = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            self.bases.append(make_scorer(b["family"], sub, seen, b["spec"]))
            self.weights.append(float(b["weight"]))
        self.folds_in = all(b.folds_in for b in self.bases)
        self._similar: list[base.Scorer | None] = []

    def _combine(self, raws: list[np.ndarray], seen_items: np.ndarray) -> np.ndarray:
        """Σ_b w_b · norm(raw_b), normalised over the items outside ``seen_items`` (the model's order and float32 sums)."""
        mask = np.zeros((1, self.n_items), dtype=bool)
        mask[0, seen_items] = True
        out = np.zeros(self.n_items, dtype=np.float32)
        for w, raw in zip(self.weights, raws, strict=True):
            out += np.float32(w) * normalise_scores(np.asarray(raw)[None, :], mask, self.how)[0]
        return out

    def known(self, u: int) -> np.ndarray:
        lo, hi = self.seen.indptr[u], self.seen.indptr[u + 1]
        return self._combine([b.known(u) for b in self.bases], self.seen.indices[lo:hi])

    def fold_in(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        liked = positive_mask(ratings, len(items), self.threshold)
        if not liked.any():
            return None
        raws = [b.fold_in(items, ratings) for b in self.bases]
        if any(r is None for r in raws):
            return None
        return self._combine(raws, np.asarray(items)[liked])  # type: ignore[arg-type]

    def _similar_base(self) -> base.Scorer | None:
        """The heaviest base that has item vectors or item weights ('similar' reads them)."""
        if not self._similar:
            order = np.argsort(-np.asarray(self.weights), kind="stable")
            found = (self.bases[int(n)] for n in order)
            self._similar.append(
                next((b for b in found if b.item_vectors() is not None or b.similar_row(0) is not None), None)
            )
        return self._similar[0]

    def similar_label(self) -> str | None:
        """The label of the base whose similarity 'similar' reads (:meth:`_similar_base`), so a list's title
        can say whose numbers they are: they are that base's, to the digit, not a blend of the bases'."""
        b = self._similar_base()
        return None if b is None else self.labels[next(n for n, x in enumerate(self.bases) if x is b)]

    def item_vectors(self) -> np.ndarray | None:
        b = self._similar_base()
        return None if b is None else b.item_vectors()

    def similar_row(self, item: int) -> np.ndarray | None:
        b = self._similar_base()
        return None if b is None else b.similar_row(item)
