"""What the PyTorch sequence models (SASRec, GRU4Rec) share: importing torch, and keeping a network's
weights as plain numpy attributes so ``save``/``load`` stay npz + JSON (never pickle).

The weights live on the model as ``net.<parameter name>`` arrays; the torch module itself is rebuilt
from them on first use after ``fit`` or ``load`` (``_net_obj`` is a cache, never saved).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from movierec.errors import ConfigError
from movierec.models.base import BaseRecommender

__all__ = ["NET_PREFIX", "TorchNetState", "import_torch"]

NET_PREFIX = "net."


def import_torch(who: str, pin: str = "torch==2.13.0") -> Any:
    """The ``torch`` module, or a ConfigError saying how to install it for ``who`` (a model's name)."""
    try:
        import torch
    except ModuleNotFoundError as exc:
        raise ConfigError(f"{who} needs torch: pip install {pin} 'movierec[seq]'") from exc
    return torch


class TorchNetState(BaseRecommender):
    """A model whose network weights are ``net.*`` numpy attributes (saved in ``arrays.npz``)."""

    def _keep_net_state(self, best_state: dict[str, Any], key: str = "val_ndcg@10") -> None:
        """Store the best epoch's state dict (tensors) as the model's weights; ``best_epoch_`` from ``history_``."""
        self.best_epoch_ = int(max(self.history_, key=lambda d: d.get(key, -d["loss"]))["epoch"])
        for k, v in best_state.items():
            setattr(self, NET_PREFIX + k, v.numpy().copy())
        self._net_obj = None

    def _load_net_state(self, torch: Any, net: Any) -> Any:
        """``net`` with the stored weights loaded (returns ``net``)."""
        state = {
            k[len(NET_PREFIX) :]: torch.from_numpy(np.asarray(v))
            for k, v in vars(self).items()
            if k.startswith(NET_PREFIX)
        }
        net.load_state_dict(state)
        return net

    def _array_state(self) -> dict[str, np.ndarray]:
        state = super()._array_state()
        state.update({k: np.asarray(v) for k, v in vars(self).items() if k.startswith(NET_PREFIX)})
        return state

    def _after_load(self) -> None:
        self._net_obj = None
        self.best_epoch_ = int(getattr(self, "best_epoch_", 0))
