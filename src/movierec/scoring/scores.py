"""The scores family (popularity and other user-independent rankers): one score per item, for everyone."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from movierec.errors import ConfigError
from movierec.scoring import base
from movierec.scoring.base import Exported

__all__ = ["Scorer", "export"]


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    probe = np.asarray(model.score(np.arange(min(n_users, 2), dtype=np.int32)), dtype=np.float32)
    if len(probe) > 1 and not np.allclose(probe[0], probe[1], equal_nan=True):
        raise ConfigError(
            f"cannot export {model.name!r}: it has no item factors, neighbour lists or user-independent scores"
        )
    return {"item_scores": probe[0].astype(np.float32)}, {}


class Scorer(base.Scorer):
    family: ClassVar[str] = "scores"

    def known(self, u: int) -> np.ndarray:
        return self.a["item_scores"].copy()

    def fold_in(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        return self.a["item_scores"].copy()
