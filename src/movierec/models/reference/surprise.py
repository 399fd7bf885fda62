"""Surprise (Hug 2020, JOSS 5(52)) behind the movierec model contract: ``surprise:baseline``, ``surprise:svd``, …

They exist to prove parity and measure speed-ups, so they take the same hyperparameter names and
defaults as our models and train on the same rows in the same order (the trainset is built from
the index arrays, so Surprise's raw ids are our indices). Predictions for factor models and
baselines are vectorised over Surprise's learned arrays; k-NN predictions go through Surprise's
own ``predict``, one pair at a time. Reference models are not exportable (Surprise keeps its
state in Python objects that only pickle could save, and we never pickle).
"""

from __future__ import annotations

from dataclasses import KW_ONLY
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.base import BaseRecommender, Tags
from movierec.models.baseline import Baseline, ExplicitModel
from movierec.models.classic import NMF, CoClustering
from movierec.models.knn import KNNBaseline
from movierec.models.mf import SVD, SVDpp

try:
    import surprise
except ModuleNotFoundError as exc:  # registry turns this into "pip install 'movierec[reference]'"
    raise ModuleNotFoundError("No module named 'surprise'", name="surprise") from exc

__all__ = [
    "SurpriseBaseline",
    "SurpriseCoClustering",
    "SurpriseKNNBaseline",
    "SurpriseKNNWithZScore",
    "SurpriseNMF",
    "SurpriseNormalPredictor",
    "SurpriseSVD",
    "SurpriseSVDpp",
    "SurpriseSlopeOne",
    "to_trainset",
]


_TRAINSET = "surprise_trainset"  # the cache key of a prepared Trainset on an Interactions


def to_trainset(train: Interactions) -> surprise.Trainset:
    """A Surprise trainset with our indices as raw ids, rows in our order (so inner ids match Surprise's own split)."""
    frame = pd.DataFrame(
        {"user": train.users, "item": train.items, "rating": train.ratings.astype(np.float64)}
    )
    reader = surprise.Reader(rating_scale=tuple(train.rating_scale))
    return surprise.Dataset.load_from_df(frame, reader).build_full_trainset()


class _SurpriseModel(ExplicitModel):
    """Fit a Surprise algorithm on our Interactions; predict through its learned state.

    ``class SurpriseSVD(_SurpriseModel, params_of=SVD)`` takes our model's hyperparameters: its
    constructor, aliases (Surprise's own names among them: ``lr_all``, ``init_std_dev``) and checks, so
    the pair is compared on one configuration.
    """

    tags: ClassVar[Tags] = Tags(trains_on="ratings", predicts_ratings=True)  # not exportable

    def __init_subclass__(cls, params_of: type[BaseRecommender] | None = None, **kwargs: Any) -> None:
        if params_of is not None:
            for attr in ("__init__", "__post_init__", "_validate", "_check_common"):
                if hasattr(params_of, attr):
                    setattr(cls, attr, getattr(params_of, attr))
            # what ours accepts, merged along its bases and the shared meanings of the names
            cls._parameter_constraints = params_of.parameter_constraints()
            # and the names it takes besides its own (BaseRecommender.__init_subclass__ filters them again)
            cls._declared_aliases = params_of._declared_aliases_all()
            cls._compound_aliases = params_of._compound_aliases
            cls._foreign_names = params_of._foreign_names
            cls._none_means = params_of.none_means()
        super().__init_subclass__(**kwargs)

    def _make(self) -> Any:
        raise NotImplementedError

    def prepare(self, train: Interactions) -> None:
        """Surprise's Trainset of ``train``, built once and cached on it (Surprise never modifies a
        trainset), as a Surprise user builds one before calling ``fit``."""
        super().prepare(train)
        if _TRAINSET not in train._cache:
            train._cache[_TRAINSET] = to_trainset(train)

    def _fit(self, train: Interactions) -> Self:
        """Fit the Surprise algorithm on the trainset of the index arrays (built here unless prepared)."""
        self._remember_train(train)
        self.prepare(train)
        self.trainset_ = train._cache[_TRAINSET]
        self.algo_ = self._make()
        self.algo_.fit(self.trainset_)
        ts = self.trainset_
        self._inner_u = np.full(train.n_users, -1, dtype=np.int64)
        self._inner_i = np.full(train.n_items, -1, dtype=np.int64)
        for raw, inner in ts._raw2inner_id_users.items():
            self._inner_u[int(raw)] = inner
        for raw, inner in ts._raw2inner_id_items.items():
            self._inner_i[int(raw)] = inner
        self._collect()
        return self

    def _collect(self) -> None:
        """Copy Surprise's learned arrays into our index space (baseline and factor models)."""

    def _to_ours(self, inner_values: np.ndarray, inner: np.ndarray) -> np.ndarray:
        out = np.zeros((len(inner), *inner_values.shape[1:]), dtype=np.float64)
        ok = inner >= 0
        out[ok] = inner_values[inner[ok]]
        return out

    def save(self, path: str | Path) -> Path:
        raise ConfigError(
            "reference models are not exportable (Surprise state can only be pickled); use our own models"
        )

    @classmethod
    def load(cls, path: str | Path) -> Self:
        raise ConfigError(
            "reference models are not exportable (Surprise state can only be pickled); use our own models"
        )


class _VectorisedSurprise(_SurpriseModel):
    """Models whose estimate is μ + b_u + b_i + p_u·q_i over Surprise's arrays."""

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        est = float(self.global_mean_) + self.user_bias_[users] + self.item_bias_[items]
        if hasattr(self, "user_factors_"):
            est = est + np.einsum("ij,ij->i", self.user_factors_[users], self.item_factors_[items])
        return est, np.zeros(len(users), dtype=bool)


class SurpriseBaseline(_VectorisedSurprise, params_of=Baseline):
    """Surprise's ``BaselineOnly`` with :class:`~movierec.models.baseline.Baseline`'s parameters."""

    name: ClassVar[str] = "surprise:baseline"

    def _make(self) -> Any:
        opts: dict[str, Any] = {"method": self.method}
        if self.method == "als":
            opts.update(reg_i=self.reg_i, reg_u=self.reg_u)
        else:
            opts.update(reg=self.regularization, learning_rate=self.learning_rate)
        if self.epochs is not None:
            opts["n_epochs"] = self.epochs
        return surprise.BaselineOnly(bsl_options=opts, verbose=False)

    def _collect(self) -> None:
        self.user_bias_ = self._to_ours(np.asarray(self.algo_.bu), self._inner_u)
        self.item_bias_ = self._to_ours(np.asarray(self.algo_.bi), self._inner_i)


class SurpriseSVD(_VectorisedSurprise, params_of=SVD):
    """Surprise's ``SVD`` with :class:`~movierec.models.mf.SVD`'s parameters (an int seed gives the same start)."""

    name: ClassVar[str] = "surprise:svd"

    def _make(self) -> Any:
        return surprise.SVD(
            n_factors=self.factors, n_epochs=self.epochs, biased=self.biased, init_mean=self.init_mean,
            init_std_dev=self.init_std, lr_all=self.learning_rate, reg_all=self.regularization, lr_bu=self.lr_bias, lr_bi=self.lr_bias,
            reg_bu=self.reg_bias, reg_bi=self.reg_bias, random_state=self.random_state,
        )  # fmt: skip

    def _collect(self) -> None:
        self.user_bias_ = self._to_ours(np.asarray(self.algo_.bu), self._inner_u)
        self.item_bias_ = self._to_ours(np.asarray(self.algo_.bi), self._inner_i)
        self.user_factors_ = self._to_ours(np.asarray(self.algo_.pu), self._inner_u)
        self.item_factors_ = self._to_ours(np.asarray(self.algo_.qi), self._inner_i)
        if not self.biased:
            self.global_mean_ = np.asarray(0.0, dtype=np.float32)
            self.has_biases = False  # type: ignore[misc]  # this fit has none, whatever the class says


class SurpriseSVDpp(_VectorisedSurprise, params_of=SVDpp):
    """Surprise's ``SVDpp`` with :class:`~movierec.models.mf.SVDpp`'s parameters (``cache_ratings=True``)."""

    name: ClassVar[str] = "surprise:svdpp"

    def _make(self) -> Any:
        return surprise.SVDpp(
            n_factors=self.factors, n_epochs=self.epochs, init_mean=self.init_mean, init_std_dev=self.init_std,
            lr_all=self.learning_rate, reg_all=self.regularization, random_state=self.random_state, cache_ratings=True,
        )  # fmt: skip

    def _collect(self) -> None:
        algo = self.algo_
        self.user_bias_ = self._to_ours(np.asarray(algo.bu), self._inner_u)
        self.item_bias_ = self._to_ours(np.asarray(algo.bi), self._inner_i)
        yj = np.asarray(algo.yj)
        implicit = np.zeros_like(np.asarray(algo.pu))
        for u, ratings in self.trainset_.ur.items():  # |I_u|^-½ Σ y_j, as SVDpp.estimate computes it
            js = [j for j, _ in ratings]
            implicit[u] = yj[js].sum(axis=0) / np.sqrt(len(js))
        self.user_factors_ = self._to_ours(np.asarray(algo.pu) + implicit, self._inner_u)
        self.item_factors_ = self._to_ours(np.asarray(algo.qi), self._inner_i)


class SurpriseKNNBaseline(_SurpriseModel):
    """Surprise's ``KNNBaseline`` with :class:`~movierec.models.knn.KNNBaseline`'s parameters (dense n² similarities)."""

    name: ClassVar[str] = "surprise:knn-baseline"
    _none_means: ClassVar[dict[str, str]] = KNNBaseline.none_means()

    # dup-ok: the same names and defaults as knn-baseline's on purpose (a reference stand-in takes what the
    # model it is compared with takes), declared here so the wrapper never inherits our model's behaviour
    k: int = 40
    min_k: int = 2
    _: KW_ONLY
    similarity: str = "pearson_baseline"
    user_based: bool = False
    min_support: int = 1
    shrinkage: float = 100.0
    bsl_method: str = "als"
    reg_i: float = 10.0
    reg_u: float = 15.0
    bsl_epochs: int | None = None
    bsl_reg: float = 0.02
    bsl_learning_rate: float = 0.005

    def __post_init__(self) -> None:
        # same checks as ours (max_neighbours does not exist here: Surprise keeps the dense matrix; None
        # skips its rule against k, where max(k, 1) raised a TypeError for k = "many" before k's own check)
        KNNBaseline(**self.get_params())

    def _make(self) -> Any:
        bsl: dict[str, Any] = {"method": self.bsl_method, "reg_i": self.reg_i, "reg_u": self.reg_u}
        if self.bsl_method == "sgd":  # Surprise's sgd baselines read 'reg' and 'learning_rate'
            bsl.update(reg=self.bsl_reg, learning_rate=self.bsl_learning_rate)
        if self.bsl_epochs is not None:
            bsl["n_epochs"] = self.bsl_epochs
        sim = {
            "name": self.similarity,
            "user_based": bool(self.user_based),
            "min_support": self.min_support,
            "shrinkage": self.shrinkage,
        }
        return surprise.KNNBaseline(
            k=self.k, min_k=self.min_k, sim_options=sim, bsl_options=bsl, verbose=False
        )

    def _collect(self) -> None:
        self.user_bias_ = self._to_ours(np.asarray(self.algo_.bu), self._inner_u)
        self.item_bias_ = self._to_ours(np.asarray(self.algo_.bi), self._inner_i)

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        est = np.empty(len(users))
        impossible = np.zeros(len(users), dtype=bool)
        algo = self.algo_
        for t, (u, i) in enumerate(zip(users.tolist(), items.tolist(), strict=True)):
            pred = algo.predict(u, i, clip=False)
            est[t] = pred.est
            impossible[t] = bool(pred.details.get("was_impossible", False))
        return est, impossible


class _PerPairSurprise(_SurpriseModel):
    """Predictions through Surprise's own ``predict``, one pair at a time (issue 19's remaining algorithms)."""

    has_biases: ClassVar[bool] = False

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        est = np.empty(len(users))
        impossible = np.zeros(len(users), dtype=bool)
        for t, (u, i) in enumerate(zip(users.tolist(), items.tolist(), strict=True)):
            pred = self.algo_.predict(u, i, clip=False)
            est[t] = pred.est
            impossible[t] = bool(pred.details.get("was_impossible", False))
        return est, impossible


class SurpriseSlopeOne(_PerPairSurprise):
    """Surprise's ``SlopeOne`` (dense n_items² deviations in float64)."""

    name: ClassVar[str] = "surprise:slope-one"

    max_items: int = 12_000

    def _make(self) -> Any:
        return surprise.SlopeOne()


class SurpriseNMF(_PerPairSurprise, params_of=NMF):
    """Surprise's ``NMF`` with :class:`~movierec.models.classic.NMF`'s parameters."""

    name: ClassVar[str] = "surprise:nmf"

    def _make(self) -> Any:
        return surprise.NMF(
            n_factors=self.factors, n_epochs=self.epochs, biased=self.biased, reg_pu=self.reg_pu,
            reg_qi=self.reg_qi, reg_bu=self.reg_bu, reg_bi=self.reg_bi, lr_bu=self.lr_bu, lr_bi=self.lr_bi,
            init_low=self.init_low, init_high=self.init_high, random_state=self.random_state,
        )  # fmt: skip

    def _collect(self) -> None:
        if self.biased:  # a pair with one side unknown gets μ plus the known side's bias, as in Surprise
            self.user_bias_ = self._to_ours(np.asarray(self.algo_.bu), self._inner_u)
            self.item_bias_ = self._to_ours(np.asarray(self.algo_.bi), self._inner_i)
            self.has_biases = True  # type: ignore[misc]  # this fit has them, whatever the class says
        else:
            self.__dict__.pop("has_biases", None)


class SurpriseCoClustering(_PerPairSurprise, params_of=CoClustering):
    """Surprise's ``CoClustering`` with :class:`~movierec.models.classic.CoClustering`'s parameters."""

    name: ClassVar[str] = "surprise:co-clustering"

    def _make(self) -> Any:
        return surprise.CoClustering(
            n_cltr_u=self.n_cltr_u,
            n_cltr_i=self.n_cltr_i,
            n_epochs=self.epochs,
            random_state=self.random_state,
        )


class SurpriseKNNWithZScore(_PerPairSurprise):
    """Surprise's ``KNNWithZScore`` (MSD similarity, as our ``knn-zscore``'s default)."""

    name: ClassVar[str] = "surprise:knn-zscore"

    k: int = 40
    min_k: int = 1
    _: KW_ONLY
    user_based: bool = False

    def _make(self) -> Any:
        return surprise.KNNWithZScore(
            k=self.k, min_k=self.min_k, sim_options={"user_based": bool(self.user_based)}, verbose=False
        )


class SurpriseNormalPredictor(_PerPairSurprise):
    """Surprise's ``NormalPredictor``. It draws from numpy's global generator and takes no seed, so each
    prediction call seeds that generator with ``random_state`` and puts the caller's state back afterwards:
    the same call gives the same draws (as our ``normal-predictor``'s do), and code around it that uses
    ``np.random`` is left as it was. ``random_state=None`` draws unseeded, as Surprise itself does."""

    name: ClassVar[str] = "surprise:normal-predictor"

    random_state: int | None = 42

    def _make(self) -> Any:
        return surprise.NormalPredictor()

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.random_state is None:
            return super()._estimate(users, items)
        state = np.random.get_state()
        np.random.seed(self.random_state)  # Surprise reads only the legacy global generator
        try:
            return super()._estimate(users, items)
        finally:
            np.random.set_state(state)
