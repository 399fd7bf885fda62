"""``myfm``'s Bayesian factorisation machine (Gibbs sampling; Ohtsuki's C++ implementation of Rendle's
MCMC) behind the movierec contract: ``myfm:bfm``, the reference our ``bayesian-fm`` is checked against.

It receives exactly our design (:func:`movierec.models.bayesian.relational_design`: user, item, the
SVD++ / flipped implicit blocks and the timeSVD++ user-day indicator as feature groups) as myfm's
``RelationBlock``s, its fast path (Rendle 2013), and predicts the posterior predictive mean.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import REFERENCE_INSTALL, ExplicitRecommender, check_random_state
from movierec.models.bayesian import BayesianFMParams, relational_design

__all__ = ["MyFMBayesianFM"]


class MyFMBayesianFM(BayesianFMParams, ExplicitRecommender):
    """``myfm.MyFMGibbsRegressor`` with bayesian-fm's hyperparameters (:class:`BayesianFMParams`):
    ``factors`` (myfm's ``rank``), ``epochs`` sweeps (``n_iter``), ``burn_in`` discarded, ``features``."""

    name: ClassVar[str] = "myfm:bfm"
    requires: ClassVar[dict[str, str]] = {"myfm": REFERENCE_INSTALL}

    @property
    def predicts_with_time(self) -> bool:
        """True when ``predict`` uses the ratings' timestamps (the time feature sets)."""
        return str(self.features).startswith("time")

    def _fit(self, train: Interactions) -> Self:
        try:
            import myfm
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ConfigError("model 'myfm:bfm' needs myfm: pip install 'movierec[reference]'") from exc
        if train.n_ratings == 0:
            raise DataError("myfm:bfm: no ratings to train on")
        seed = int(check_random_state(self.random_state).integers(0, 2**31 - 1))
        self._remember_train(train)
        design = relational_design(train, self.features)
        self._design = design
        self._model = myfm.MyFMGibbsRegressor(rank=int(self.factors), random_seed=seed).fit(
            sp.csr_matrix((train.n_ratings, 0)),
            train.ratings.astype(np.float64),
            X_rel=[myfm.RelationBlock(rows, m) for rows, m in zip(design.of_row, design.blocks, strict=True)],
            n_iter=int(self.epochs),
            n_kept_samples=int(self.epochs) - int(self.burn_in),
            group_shapes=[s for s in design.group_sizes if s > 0],
        )
        return self

    def predict(
        self, users: np.ndarray, items: np.ndarray, *, clip: bool = True, timestamps: np.ndarray | None = None
    ) -> np.ndarray:
        """Posterior predictive mean for (user, item) index pairs (unknown indices get the global mean);
        with time features, ``timestamps`` pick the training session of each pair as in ``bayesian-fm``."""
        self._check_fitted()
        if getattr(self, "_model", None) is None:
            raise ConfigError("myfm:bfm keeps myfm's samples in memory only: refit after load")
        import myfm

        users = np.asarray(users, dtype=np.int64)
        items = np.asarray(items, dtype=np.int64)
        ok = (users >= 0) & (users < self.n_users_) & (items >= 0) & (items < self.n_items_)
        out = np.full(len(users), float(np.mean(self.rating_scale_)), dtype=np.float64)
        if ok.any():
            design = self._design
            ts = None if timestamps is None else np.asarray(timestamps)[ok]
            rows = design.entities(users[ok], items[ok], ts)
            out[ok] = self._model.predict(
                sp.csr_matrix((int(ok.sum()), 0)),
                X_rel=[myfm.RelationBlock(r, m) for r, m in zip(rows, design.blocks, strict=True)],
            )
        return self._clip(out) if clip else out
