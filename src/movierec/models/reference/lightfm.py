"""LightFM (Kula 2015) behind the movierec contract: ``lightfm:bpr``, ``:warp``, ``:logistic``, ``:warp-kos``.

The reference our own :mod:`movierec.models.bpr` is checked against. Same hyperparameters and
feature handling (identity plus side features, rows normalised as ``normalize_features`` says); after
``fit`` the effective item/user vectors are precomputed, so scoring and saving need no LightFM, and
they are LightFM's ``predict``: every item keeps its identity feature (our models score an item
without training positives from its side features alone). ``num_threads=1`` by
default because LightFM's Hogwild loop is not deterministic with more threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError, DataError
from movierec.features import side_matrix
from movierec.interactions import Interactions
from movierec.models.base import REFERENCE_INSTALL, check_random_state
from movierec.models.bpr import WARP_ONLY, WARPKOS, HybridMF, HybridTrainerBase, feature_rows
from movierec.models.params import POSITIVE_INT, ActsWhen, Constraint
from movierec.models.training import ModelTrainer
from movierec.models.weighting import binary_only, interaction_weights

__all__ = ["LightFMBPR", "LightFMLogistic", "LightFMWARP", "LightFMWARPKOS"]


class _LightFMTrainer(HybridTrainerBase):
    """``lightfm.LightFM`` trained one epoch at a time (``fit_partial``), its vectors kept on the model."""

    def __init__(self, model: HybridMF, train: Interactions, item_features: Any, user_features: Any) -> None:
        try:
            from lightfm import LightFM
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError(
                "model 'lightfm:*' needs lightfm-next: pip install 'movierec[reference]'"
            ) from exc
        self.model = model
        self.history: list[dict[str, float]] = []
        self._train = train
        self._item_side, item_names = side_matrix(item_features, train.n_items, "item_features")
        self._user_side, user_names = side_matrix(user_features, train.n_users, "user_features")
        seed = int(check_random_state(model.random_state).integers(0, 2**31 - 1))
        weights = interaction_weights(train, model.weighting, model.half_life_days)
        model._remember_train(train)
        self._item_rows = feature_rows(self._item_side, train.n_items, normalize=model.normalizes("items"))
        self._user_rows = feature_rows(self._user_side, train.n_users, normalize=model.normalizes("users"))
        params = model.library_params(
            "factors", "learning_rate", "learning_schedule", "rho", "epsilon", "item_alpha", "user_alpha"
        )
        self._lightfm = LightFM(
            **params,
            loss=getattr(model, "_lightfm_loss", "bpr"),
            max_sampled=int(model.max_sampled),
            k=int(getattr(model, "k", 5)),  # k-OS WARP's k and n (LightFM's defaults elsewhere)
            n=int(getattr(model, "n", 10)),
            random_state=np.random.RandomState(seed),
        )
        self._coo = sp.coo_matrix(
            (np.ones(train.n_ratings, np.float32), (train.users, train.items)), shape=train.shape
        )
        self._sample_weight = None
        if model.weighting != "binary":
            self._sample_weight = sp.coo_matrix((weights, (train.users, train.items)), shape=train.shape)
        model._start_training(self.history, item_names, user_names)

    def _sweep(self) -> dict[str, float]:
        tic = time.perf_counter()
        try:
            self._lightfm.fit_partial(
                self._coo,
                user_features=self._user_rows,
                item_features=self._item_rows,
                sample_weight=self._sample_weight,
                epochs=1,
                num_threads=int(self.model.num_threads),
            )
        except ValueError as exc:  # LightFM's "Not all estimated parameters are finite … diverged"
            if "diverged" not in str(exc):
                raise
            raise DataError(
                f"{self.model.name} diverged in epoch {len(self.history) + 1} (LightFM: {exc}); "
                "on this little data try a lower learning_rate or another loss"
            ) from None
        record = {"epoch": len(self.history) + 1, "loss": float("nan"), "seconds": time.perf_counter() - tic}
        self.history.append(record)
        return record

    def _vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        lfm = self._lightfm
        return (
            np.asarray(lfm.item_embeddings),
            np.asarray(lfm.item_biases),
            np.asarray(lfm.user_embeddings),
            np.asarray(lfm.user_biases),
        )

    def train_epoch(self) -> dict[str, float]:
        """One ``fit_partial`` epoch; the model's vectors are LightFM's after it."""
        record = self._sweep()
        self._publish()
        return record

    def finalize(self) -> HybridMF:
        """The model with LightFM's current item/user vectors and biases (features summed in)."""
        self._publish()
        return self.model


class _LightFMModel(HybridMF):
    """HybridMF's hyperparameters, training and fold-in, with ``lightfm.LightFM`` as the trainer."""

    _lightfm_loss: ClassVar[str] = "bpr"
    requires: ClassVar[dict[str, str]] = {"lightfm": REFERENCE_INSTALL}  # the lightfm-next package
    _trainer: ClassVar[Callable[..., ModelTrainer] | None] = _LightFMTrainer
    _aliases: ClassVar[dict[str, str]] = {"no_components": "factors"}  # LightFM's spelling
    # scored as LightFM's predict scores: every item keeps its identity, also one with no training
    # positive (a WARP/BPR negative all along); dropping it, as our models do for item cold start, took
    # lightfm:bpr's P@10 on a 75/25 positives hold-out with genres,tags rows normalised from LightFM's
    # 0.034 to 0.004 with the very same weights
    _cold_items_by_features: ClassVar[bool] = False
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "epochs": [POSITIVE_INT],  # LightFM has no untrained state to return (ours: epochs=0 keeps the init)
    }


class LightFMBPR(_LightFMModel):
    """LightFM with the BPR loss (Rendle et al. 2009)."""

    name: ClassVar[str] = "lightfm:bpr"
    _lightfm_loss: ClassVar[str] = "bpr"
    acts_when: ClassVar[dict[str, ActsWhen]] = {"max_sampled": WARP_ONLY}


class LightFMWARP(_LightFMModel):
    """LightFM with the WARP loss (Weston, Bengio & Usunier 2011)."""

    name: ClassVar[str] = "lightfm:warp"
    _lightfm_loss: ClassVar[str] = "warp"


class LightFMLogistic(_LightFMModel):
    """LightFM with its logistic loss (every interaction a positive)."""

    name: ClassVar[str] = "lightfm:logistic"
    _lightfm_loss: ClassVar[str] = "logistic"
    acts_when: ClassVar[dict[str, ActsWhen]] = {"max_sampled": WARP_ONLY}


class LightFMWARPKOS(_LightFMModel, WARPKOS):
    """LightFM with the k-OS WARP loss (Weston, Yee & Weiss 2013); ``k``/``n`` as in LightFM."""

    name: ClassVar[str] = "lightfm:warp-kos"
    _lightfm_loss: ClassVar[str] = "warp-kos"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = binary_only(
        "LightFM's k-OS loss takes no sample weights"
    )
