"""Implicit-feedback ALS (Hu, Koren & Volinsky 2008) through the ``implicit`` library.

Confidence c_ui = α·r_ui on observed pairs and 1 elsewhere, as ``implicit`` computes it (the paper writes
1 + α·r_ui; r from the chosen weighting: 1, the rating over the user's mean, a recency decay, or the
values given), preference 1 on observed pairs and 0 elsewhere; alternating conjugate-gradient
least squares on CPU, or implicit's CUDA solver when ``use_gpu`` is set and a GPU build is present.
New users are folded in by the same closed-form least-squares step with the item factors fixed.
"""

from __future__ import annotations

import os
from typing import ClassVar, Self

import numpy as np

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import EpochCallback, FactorRecommender, Tags, check_random_state
from movierec.models.groups import FactorParams
from movierec.models.kernels.threads import free_threads
from movierec.models.params import NON_NEGATIVE_INT, POSITIVE, Boolean, Constraint
from movierec.models.space import FACTORS, REG, FloatRange, IntRange, SearchSpace
from movierec.models.weighting import WeightedRecommender, weighted_csr
from movierec.progress import quiet_tqdm_import
from movierec.scoring.base import rating_weights
from movierec.scoring.factors import confidence_fold_in

__all__ = ["ALS", "als_fold_in"]


als_fold_in = confidence_fold_in  # the fold-in lives with the factor family (movierec.scoring.factors)


class ALS(FactorParams, FactorRecommender, WeightedRecommender):
    """Weighted-matrix-factorisation ALS: ``factors``, ``regularization``, ``alpha``, ``epochs``.

    ``use_gpu``: False (default), True (error when no CUDA build), or ``"auto"``.
    """

    name: ClassVar[str] = "als"
    can_stop_early: ClassVar[bool] = False  # implicit runs the iterations and sets the factors at the end
    requires: ClassVar[dict[str, str]] = {"implicit": "pip install 'movierec[report]'"}  # implicit's solver
    search_space: ClassVar[SearchSpace] = {
        "factors": FACTORS,
        "regularization": REG,
        "alpha": FloatRange(1.0, 100.0, log=True),
        "epochs": IntRange(5, 50),
    }
    tags: ClassVar[Tags] = Tags(fold_in="factors", serving="factors")
    _json_state: ClassVar[tuple[str, ...]] = ("history_",)

    _aliases: ClassVar[dict[str, str]] = {"iterations": "epochs"}  # implicit's spelling
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "alpha": [POSITIVE],
        "use_cg": [Boolean()],
        "num_threads": [NON_NEGATIVE_INT],  # 0: the cores others leave free
    }

    # the factor group's defaults (FactorParams declares them)
    factors = 64
    epochs = 15
    regularization: float = 0.05
    alpha: float = 2.0
    use_cg: bool = True
    use_gpu: bool | str = False
    num_threads: int = 0

    def _gpu(self) -> bool:
        if self.use_gpu not in (True, False, "auto"):
            raise ConfigError(f"use_gpu must be true, false or 'auto', got {self.use_gpu!r}")
        if self.use_gpu is False:
            return False
        try:
            with quiet_tqdm_import():
                import implicit.gpu

            has = bool(implicit.gpu.HAS_CUDA)
        except ImportError:
            has = False
        if self.use_gpu is True and not has:
            raise ConfigError(
                "use_gpu=true but this 'implicit' build has no CUDA support; use use_gpu='auto' or false"
            )
        return has

    def _fit(self, train: Interactions, *, on_epoch: EpochCallback | None = None) -> Self:
        """Alternate least-squares solves for ``epochs`` rounds (training loss per round in ``history_``)."""
        if train.n_ratings == 0:
            raise DataError("als: no positive interactions to train on")
        gpu = self._gpu()
        seed = int(check_random_state(self.random_state).integers(0, 2**31 - 1))
        x = weighted_csr(train, self.weighting, self.half_life_days)
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit's advice; BLAS threads fight its own
        from threadpoolctl import threadpool_limits

        with quiet_tqdm_import():  # implicit's als imports tqdm.auto; its bar is off (fit below)
            if gpu:
                from implicit.gpu.als import AlternatingLeastSquares
            else:
                from implicit.cpu.als import AlternatingLeastSquares

        kwargs = self.library_params("factors", "regularization", "alpha", "epochs")
        kwargs.update(calculate_training_loss=True, random_state=seed)
        if not gpu:
            # 0 = the cores others leave free now (implicit's OpenMP sweep waits for its slowest thread)
            threads = int(self.num_threads) or free_threads()
            kwargs.update(use_cg=bool(self.use_cg), num_threads=threads)
        with threadpool_limits(limits=1, user_api="blas"):
            model = AlternatingLeastSquares(**kwargs)
        self.history_: list[dict[str, float]] = []

        def callback(iteration: int, elapsed: float, loss: float) -> None:
            record = {"epoch": iteration + 1, "loss": float(loss), "seconds": float(elapsed)}
            self.history_.append(record)
            if on_epoch is not None:
                on_epoch(iteration + 1, record)  # implicit cannot stop early; the value is ignored

        with threadpool_limits(limits=1, user_api="blas"):
            model.fit(x, show_progress=False, callback=callback)
        uf, itf = model.user_factors, model.item_factors
        if gpu:
            uf, itf = uf.to_numpy(), itf.to_numpy()
        self._remember_train(train)
        self.user_factors_ = np.ascontiguousarray(uf, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(itf, dtype=np.float32)
        return self

    def fold_in_spec(self) -> dict[str, object]:
        """A visitor joins by one confidence-weighted solve (Hu et al. 2008), see :mod:`movierec.scoring.factors`."""
        return {
            "method": "confidence",
            "alpha": float(self.alpha),
            "reg": float(self.regularization),
            "rating_weights": rating_weights(self),
        }
