"""LightFM (Kula 2015) behind the movierec contract: ``lightfm:bpr``, ``:warp``, ``:logistic``, ``:warp-kos``.

The reference our own :mod:`movierec.models.bpr` is checked against. Same hyperparameters and
feature handling (identity plus side features, rows normalised); after ``fit`` the effective
item/user vectors are precomputed, so scoring and saving need no LightFM. ``num_threads=1`` by
default because LightFM's Hogwild loop is not deterministic with more threads.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import EpochCallback, check_random_state
from movierec.models.bpr import WARPKOS, HybridMF, _as_matrix, feature_rows
from movierec.models.weighting import interaction_weights

__all__ = ["LightFMBPR", "LightFMLogistic", "LightFMWARP", "LightFMWARPKOS"]


class _LightFMModel(HybridMF):
    _lightfm_loss: ClassVar[str] = "bpr"

    # dup-ok: HybridMF._fit's signature, which this overrides (both take side features)
    def _fit(
        self,
        train: Interactions,
        *,
        item_features: Any = None,
        user_features: Any = None,
        on_epoch: EpochCallback | None = None,
    ) -> Self:
        """Train ``lightfm.LightFM`` one epoch at a time (``fit_partial``) and keep its vectors."""
        try:
            from lightfm import LightFM
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError(
                "model 'lightfm:*' needs lightfm-next: pip install 'movierec[reference]'"
            ) from exc
        if int(self.epochs) < 1:
            raise ConfigError(
                f"{self.name}: epochs must be ≥ 1 (LightFM has no untrained state), got {self.epochs!r}"
            )
        if train.n_ratings == 0:
            raise DataError(f"{self.name}: no positive interactions to train on")
        item_side, item_names = _as_matrix(item_features, train.n_items, "item_features")
        user_side, user_names = _as_matrix(user_features, train.n_users, "user_features")
        seed = int(check_random_state(self.random_state).integers(0, 2**31 - 1))
        weights = interaction_weights(train, self.weighting, self.half_life_days)
        self._remember_train(train)
        norm = bool(self.normalize_features)
        item_rows = feature_rows(item_side, train.n_items, normalize=norm)
        user_rows = feature_rows(user_side, train.n_users, normalize=norm)
        # dup-ok: LightFM's own keyword names (each reference call maps ours to its library's)
        model = LightFM(
            no_components=int(self.factors),
            learning_rate=float(self.learning_rate),
            loss=self._lightfm_loss,
            learning_schedule=self.learning_schedule,
            rho=float(self.rho),
            epsilon=float(self.epsilon),
            item_alpha=float(self.item_alpha),
            user_alpha=float(self.user_alpha),
            max_sampled=int(self.max_sampled),
            k=int(getattr(self, "k", 5)),
            n=int(getattr(self, "n", 10)),
            random_state=np.random.RandomState(seed),
        )
        coo = sp.coo_matrix(
            (np.ones(train.n_ratings, np.float32), (train.users, train.items)), shape=train.shape
        )
        sample_weight = None
        if self.weighting != "binary":
            sample_weight = sp.coo_matrix((weights, (train.users, train.items)), shape=train.shape)
        self.history_: list[dict[str, float]] = []
        import time

        for epoch in range(1, int(self.epochs) + 1):
            tic = time.perf_counter()
            model.fit_partial(
                coo,
                user_features=user_rows,
                item_features=item_rows,
                sample_weight=sample_weight,
                epochs=1,
                num_threads=int(self.num_threads),
            )
            record = {"epoch": epoch, "loss": float("nan"), "seconds": time.perf_counter() - tic}
            self.history_.append(record)
            if on_epoch is not None and on_epoch(epoch, record) is False:
                break
        self.item_feature_names_ = item_names
        self.user_feature_names_ = user_names
        self._finalise(
            np.asarray(model.item_embeddings),
            np.asarray(model.item_biases),
            np.asarray(model.user_embeddings),
            np.asarray(model.user_biases),
            item_side,
            user_side,
            train,
        )
        return self


class LightFMBPR(_LightFMModel):
    """LightFM with the BPR loss (Rendle et al. 2009)."""

    name: ClassVar[str] = "lightfm:bpr"
    _lightfm_loss: ClassVar[str] = "bpr"


class LightFMWARP(_LightFMModel):
    """LightFM with the WARP loss (Weston, Bengio & Usunier 2011)."""

    name: ClassVar[str] = "lightfm:warp"
    _lightfm_loss: ClassVar[str] = "warp"


class LightFMLogistic(_LightFMModel):
    """LightFM with its logistic loss (every interaction a positive)."""

    name: ClassVar[str] = "lightfm:logistic"
    _lightfm_loss: ClassVar[str] = "logistic"


class LightFMWARPKOS(_LightFMModel, WARPKOS):
    """LightFM with the k-OS WARP loss (Weston, Yee & Weiss 2013); ``k``/``n`` as in LightFM."""

    name: ClassVar[str] = "lightfm:warp-kos"
    _lightfm_loss: ClassVar[str] = "warp-kos"
