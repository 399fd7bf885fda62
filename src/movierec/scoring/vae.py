"""The VAE family: Mult-VAE (Liang et al. 2018) and RecVAE (Shenbin et al. 2020), served by their own
numpy forward pass.

A user's scores are their weighted item row through the encoder's posterior mean and the decoder (the
model's ``_forward_rows``, numpy only: the server needs no torch). A training user's row is the one the
model trained on (its ``user_items_``, exported as ``weights_*``), so known users get exactly the model's
scores. A visitor's row is their positives (ratings ≥ the threshold), 1 each, or their rating over their
own mean when the model weighs positives by rating: one more row through the encoder, no solve and no
refit, the amortised inference the VAEs were built for. ``score_new_user`` and the artifact call this
same code, so the notebook, the CLI and ``POST /recommendations`` give the same list.

The artifact holds the network's weights (``net:<layer>``) and the training rows: for Mult-VAE
[I → 600 → 200] about 2 · 600 · I floats, 47 MB for ml-latest-small's 9,724 movies, 18 MB for ml-1m's
3,706, whatever the number of users (the ``table`` family these models used before stored 4 bytes per
user and item, 90 MB for ml-1m, and could not place a visitor).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.errors import ArtifactError
from movierec.scoring.base import Exported
from movierec.scoring.neighbours import ItemRowScorer, interactions_part
from movierec.scoring.networks import network_arrays, network_model

__all__ = ["Scorer", "export"]


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    net = network_arrays(model)
    rows, spec = interactions_part(model, threshold, sum(a.nbytes for a in net.values()))
    spec.update(model=str(model.name), params=model.get_params())
    return {**net, **rows}, spec


class Scorer(ItemRowScorer):
    family: ClassVar[str] = "vae"

    def __init__(self, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        super().__init__(arrays, seen, spec)
        self.net = network_model(arrays, spec, "mult-vae", self.n_items)
        try:  # a network whose layers do not fit the catalogue is a broken artifact, said at load
            out = self._row(np.zeros(0, np.int64), np.zeros(0, np.float32))
        except (AttributeError, ValueError) as exc:
            raise ArtifactError(f"the {spec.get('model')} network's weights do not fit: {exc}") from exc
        if out.shape != (self.n_items,):
            raise ArtifactError(
                f"the {spec.get('model')} network scores {out.shape[-1]} items, the artifact has {self.n_items}"
            )

    def _row(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        row = sp.csr_matrix(
            (np.asarray(weights, np.float32), (np.zeros(len(items), np.int64), np.asarray(items, np.int64))),
            shape=(1, self.n_items),
        )
        return np.asarray(self.net._forward_rows(row)[0], dtype=np.float32)

    def item_vectors(self) -> np.ndarray | None:
        """The decoder's item vectors: 'similar' ranks by their cosine, as the model's own does."""
        return self.net.similar_vectors()
