"""The SASRec family (Kang & McAuley 2018): known users as factors (their final hidden state after the
training history), a visitor's ordered history through the network (torch, loaded lazily)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.scoring import factors
from movierec.scoring.base import Exported
from movierec.scoring.networks import NET_PREFIX, network_arrays, network_model

__all__ = ["NET_PREFIX", "Scorer", "export"]


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    users = np.arange(model.n_users_, dtype=np.int64)
    if hasattr(model, "export_vectors"):  # gru4rec: its final states, output embeddings and biases
        user_f, item_f, item_b = model.export_vectors()
    else:
        user_f = model._user_vectors(model.history_seq_[users].astype(np.int64))
        item_f, item_b = model.item_embeddings(), np.zeros(model.n_items_, np.float32)
    out = {
        "user_factors": np.ascontiguousarray(user_f, np.float32),
        "item_factors": np.ascontiguousarray(item_f, np.float32),
        "user_bias": np.zeros(model.n_users_, np.float32),
        "item_bias": np.ascontiguousarray(item_b, np.float32),
        "global_mean": np.float32(0.0),
        **network_arrays(model),
    }
    spec = {
        "threshold": float(threshold),
        "sequential": True,
        "params": model.get_params(),
        "model": model.name,
    }
    return out, spec


class Scorer(factors.Scorer):
    family: ClassVar[str] = "sasrec"

    def __init__(self, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        super().__init__(arrays, seen, spec)
        self._net: Any = None

    def network(self) -> Any:
        """A :class:`~movierec.models.sasrec.SASRec` rebuilt from the stored weights (needs torch; built once)."""
        if self._net is None:
            model = network_model(self.a, self.spec, "sasrec", self.n_items, device="cpu")  # or gru4rec
            model.n_users_ = self.seen.shape[0]
            model._net()  # fails here, once, with the install hint when torch is missing
            self._net = model
        return self._net

    def fold_in(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        """``items`` is an ordered history (oldest first)."""
        return np.asarray(self.network().score_new_user(np.asarray(items, dtype=np.int64)), dtype=np.float32)
