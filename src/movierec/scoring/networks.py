"""What the network families (SASRec and GRU4Rec in ``sasrec``, the VAEs in ``vae``) share: a model's
``net.*`` weights as an artifact's ``net:*`` arrays, and the model rebuilt from them."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["NET_PREFIX", "network_arrays", "network_model"]

#: the prefix of a network's weight arrays in an artifact (``net:<layer>``; ``net.<layer>`` on the model)
NET_PREFIX = "net:"


def network_arrays(model: Any) -> dict[str, np.ndarray]:
    """A network model's ``net.*`` weights as the artifact's ``net:*`` float32 arrays (the inverse of
    :func:`network_model`)."""
    return {
        NET_PREFIX + key[len("net.") :]: np.ascontiguousarray(value, dtype=np.float32)
        for key, value in vars(model).items()
        if key.startswith("net.")
    }


def network_model(
    arrays: dict[str, np.ndarray], spec: dict[str, Any], default: str, n_items: int, **overrides: Any
) -> Any:
    """The network model a family serves (SASRec, GRU4Rec, the VAEs) rebuilt from an artifact: the class
    ``spec["model"]`` names, the stored parameters it knows (``overrides`` on top), the catalogue size,
    and every ``net:*`` array as its ``net.*`` weight."""
    from movierec.models.registry import get_class

    cls = get_class(str(spec.get("model", default)))
    known = cls().get_params()
    params = {**dict(spec.get("params") or {}), **overrides}
    model = cls(**{k: v for k, v in params.items() if k in known})
    model.n_items_ = n_items
    for key, value in arrays.items():
        if key.startswith(NET_PREFIX):
            setattr(model, "net." + key[len(NET_PREFIX) :], value)
    return model
