"""The ``implicit`` library's BPR (Rendle et al. 2009) behind the movierec contract: ``implicit:bpr``.

A second reference for our BPR. implicit's BPR has no side features, so ``item_features`` is
accepted and ignored. Its item factors carry the item bias as the last column (user factors
hold a 1 there), so scores are plain dot products.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, Self

import numpy as np

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import REFERENCE_INSTALL, EpochCallback, FactorRecommender, Tags, check_random_state
from movierec.models.groups import SGDFactorParams
from movierec.models.params import NON_NEGATIVE_INT, Constraint
from movierec.models.weighting import WeightedRecommender, binary_only, weighted_csr
from movierec.progress import quiet_tqdm_import

__all__ = ["ImplicitBPR"]


class ImplicitBPR(SGDFactorParams, FactorRecommender, WeightedRecommender):
    """``implicit.cpu.bpr.BayesianPersonalizedRanking``: ``factors``, ``learning_rate``, ``regularization``,
    ``epochs``; ``num_threads=1`` by default so a seed gives the same model."""

    name: ClassVar[str] = "implicit:bpr"
    can_stop_early: ClassVar[bool] = False  # implicit runs the epochs and sets the factors at the end
    requires: ClassVar[dict[str, str]] = {"implicit": REFERENCE_INSTALL}
    tags: ClassVar[Tags] = Tags()
    _json_state: ClassVar[tuple[str, ...]] = ("history_",)

    _aliases: ClassVar[dict[str, str]] = {"iterations": "epochs"}  # implicit's spelling
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "num_threads": [NON_NEGATIVE_INT],
        **binary_only("implicit's BPR samples the items a user has and ignores their weights"),
    }

    # the group's defaults (SGDFactorParams declares them)
    factors = 40
    epochs = 100

    def _fit(self, train: Interactions, *, on_epoch: EpochCallback | None = None) -> Self:
        """Train implicit's BPR on the (weighted) users × items matrix; features are ignored."""
        try:
            with quiet_tqdm_import():
                from implicit.cpu.bpr import BayesianPersonalizedRanking
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError(
                "model 'implicit:bpr' needs implicit: pip install 'movierec[reference]'"
            ) from exc
        if train.n_ratings == 0:
            raise DataError("implicit:bpr: no positive interactions to train on")
        seed = int(check_random_state(self.random_state).integers(0, 2**31 - 1))
        x = weighted_csr(train, self.weighting, self.half_life_days)
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        params = self.library_params("factors", "learning_rate", "regularization", "epochs", "num_threads")
        model = BayesianPersonalizedRanking(**params, random_state=seed)
        self.history_: list[dict[str, float]] = []

        def callback(iteration: int, elapsed: float, *info: Any) -> None:
            record = {"epoch": iteration + 1, "seconds": float(elapsed)}
            self.history_.append(record)
            if on_epoch is not None:
                on_epoch(iteration + 1, record)

        model.fit(x, show_progress=False, callback=callback)
        self._remember_train(train)
        self.user_factors_ = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        return self
