"""The blend family: several explicit families combined by ridge weights (Sill et al. 2009's feature-weighted
linear stacking; :class:`movierec.models.blend.Blend`).

r̂ = c + Σ_b w_b·p_b (+ with meta-features Σ_b p_b·(w'_b·s_u + w''_b·s_i) + w_u·s_u + w_i·s_i), where p_b
is base b's clipped predicted rating and s_u, s_i the user's and item's log support scaled by the
largest in training. A visitor is folded into every base with that base's own rule; their s_u
comes from how many ratings they gave.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.scoring import base
from movierec.scoring.base import Exported

__all__ = ["Scorer", "combine", "export"]


def combine(
    preds: np.ndarray,
    su: np.ndarray | float,
    si: np.ndarray,
    weights: np.ndarray,
    intercept: float,
    meta: bool,
) -> np.ndarray:
    """Blended ratings from base predictions ``preds`` (n_bases, n) and supports (the Blend model's design)."""
    p = np.asarray(preds, dtype=np.float64).T  # (n, b)
    if meta:
        u = np.broadcast_to(np.asarray(su, dtype=np.float64), (p.shape[0],))[:, None]
        i = np.asarray(si, dtype=np.float64)[:, None]
        p = np.hstack([p, p * u, p * i, u, i])
    return p @ weights + intercept


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    """Each base's own family arrays under ``b<n>.``, the blend's weights and the support meta-features."""
    from movierec.scoring import export_family

    arrays: dict[str, Any] = {}
    bases = []
    for n, label in enumerate(model.base_labels_):
        family, sub, spec = export_family(model.models_[label], n_users, n_items, threshold)
        arrays.update({f"b{n}.{k}": v for k, v in sub.items()})
        bases.append({"label": label, "family": family, "spec": spec})
    counts = np.diff(sp.csr_matrix(model.seen_).indptr)
    arrays.update(
        blend_weights=np.asarray(model.weights_, dtype=np.float64),
        blend_intercept=np.float64(model.intercept_),
        support_user=np.asarray(model.support_user_, dtype=np.float64),
        support_item=np.asarray(model.support_item_, dtype=np.float64),
        support_user_denominator=np.float64(max(float(np.log1p(counts.max(initial=0))), 1.0)),
    )
    spec = {
        "threshold": float(threshold),
        "bases": bases,
        "meta_features": bool(model.meta_features),
        "scale": list(model.rating_scale_),
    }
    return arrays, spec


class Scorer(base.Scorer):
    family: ClassVar[str] = "blend"

    def __init__(self, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        from movierec.scoring import make_scorer

        super().__init__(arrays, seen, spec)
        self.bases = []
        for n, b in enumerate(spec["bases"]):
            prefix = f"b{n}."
            sub = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            self.bases.append(make_scorer(b["family"], sub, seen, b["spec"]))
        self.folds_in = all(b.folds_in for b in self.bases)
        self.lo, self.hi = (float(x) for x in spec["scale"])

    def _combine(self, preds: list[np.ndarray], su: float) -> np.ndarray:
        a = self.a
        clipped = np.clip(np.vstack(preds), self.lo, self.hi)
        out = combine(
            clipped, su, a["support_item"], a["blend_weights"], float(a["blend_intercept"]),
            bool(self.spec["meta_features"]),
        )  # fmt: skip
        return out.astype(np.float32)

    def known(self, u: int) -> np.ndarray:
        return self._combine([b.known(u) for b in self.bases], float(self.a["support_user"][u]))

    def fold_in(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        preds = [b.fold_in(items, ratings) for b in self.bases]
        if any(p is None for p in preds):
            return None
        su = float(np.log1p(len(items)) / float(self.a["support_user_denominator"]))
        return self._combine(preds, su)  # type: ignore[arg-type]
