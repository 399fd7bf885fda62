"""Cornac's BPR (Rendle et al. 2009; Salah, Truong & Lauw 2020, "Cornac: a comparative framework for
multimodal recommender systems") behind the movierec contract: ``cornac:bpr``.

The reference our ``bpr`` is checked against: plain SGD at a constant learning rate, a positive pair
drawn uniformly from all training pairs and a negative item uniformly from the catalogue (skipped
when the user has it), λ on user and item factors and the item bias, no user bias. Cornac maps ids
itself; the factors are mapped back to our dense indices, and items Cornac never saw get zero
vectors and a zero bias.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import BaseRecommender, check_positive, check_random_state

__all__ = ["CornacBPR"]


def _cornac_dataset(train: Interactions, seed: int) -> Any:
    try:
        import cornac
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError("the cornac:* models need cornac: pip install 'movierec[reference]'") from exc
    data = list(
        zip(train.users.tolist(), train.items.tolist(), train.ratings.astype(float).tolist(), strict=True)
    )
    return cornac.data.Dataset.from_uir(data, seed=seed)


class CornacBPR(BaseRecommender):
    """``cornac.models.BPR``: ``k`` factors, ``max_iter`` epochs, ``learning_rate``, ``lambda_reg``;
    ``num_threads=1`` by default so a seed gives the same model."""

    name: ClassVar[str] = "cornac:bpr"
    kind: ClassVar[str] = "implicit"

    k: int = 200
    max_iter: int = 100
    learning_rate: float = 0.01
    lambda_reg: float = 0.001
    num_threads: int = 1
    random_state: int | None = 42

    def _fit(self, train: Interactions) -> Self:
        """Train Cornac's BPR on every training pair (features are ignored)."""
        check_positive("k", self.k, integer=True)
        check_positive("max_iter", self.max_iter, integer=True)
        check_positive("learning_rate", self.learning_rate)
        check_positive("lambda_reg", self.lambda_reg, allow_zero=True)
        check_positive("num_threads", self.num_threads, integer=True)
        if train.n_ratings == 0:
            raise DataError("cornac:bpr: no positive interactions to train on")
        seed = int(check_random_state(self.random_state).integers(0, 2**31 - 1))
        ds = _cornac_dataset(train, seed)
        import cornac

        model = cornac.models.BPR(
            k=int(self.k),
            max_iter=int(self.max_iter),
            learning_rate=float(self.learning_rate),
            lambda_reg=float(self.lambda_reg),
            num_threads=int(self.num_threads),
            seed=seed,
        ).fit(ds)
        self._remember_train(train)
        uidx = np.array([ds.uid_map[u] for u in range(train.n_users) if u in ds.uid_map])
        users = np.array([u for u in range(train.n_users) if u in ds.uid_map])
        iidx = np.array([ds.iid_map[i] for i in range(train.n_items) if i in ds.iid_map])
        items = np.array([i for i in range(train.n_items) if i in ds.iid_map])
        self.user_factors_ = np.zeros((train.n_users, int(self.k)), dtype=np.float32)
        self.item_factors_ = np.zeros((train.n_items, int(self.k)), dtype=np.float32)
        self.item_bias_ = np.zeros(train.n_items, dtype=np.float32)
        self.user_factors_[users] = model.u_factors[uidx]
        self.item_factors_[items] = model.i_factors[iidx]
        self.item_bias_[items] = model.i_biases[iidx]
        return self

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """b_i + x_u · y_i, as Cornac scores."""
        self._check_fitted()
        users = self._check_users(users)
        sel = slice(None) if items is None else np.asarray(items)
        out = self.user_factors_[users] @ self.item_factors_[sel].T + self.item_bias_[sel][None, :]
        return out.astype(np.float32, copy=False)
