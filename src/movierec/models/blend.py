"""A stacked rating predictor: ridge regression over the predictions of several explicit models.

Blending the predictions of diverse rating models was the decisive step of the Netflix Prize
(Töscher, Jahrer & Bell 2009; Koren 2009); *feature-weighted* linear stacking lets each model's
weight vary with meta-features such as how many ratings the user and the item have (Sill,
Takács, Mackey & Lin 2009). Here the bases (``svd``, ``svdpp``, ``knn-baseline``, ``baseline``…)
are fitted on part of the training ratings, the blend weights are fitted on their predictions of
the rest (held out, so the weights reward what generalises), and then every base is refitted on
all the training ratings. The test split is never involved.
"""

from __future__ import annotations

from dataclasses import KW_ONLY
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from movierec.errors import ArtifactError, ConfigError
from movierec.interactions import Interactions
from movierec.models.base import ExplicitRecommender, Tags, check_indices, tags_of
from movierec.models.params import NON_NEGATIVE, POSITIVE_INT, Boolean, Constraint, Interval
from movierec.models.space import Choice, FloatRange, SearchSpace

__all__ = ["Blend"]

#: default bases: the factor models and the neighbourhood model Surprise's table compares, plus the biases
DEFAULT_BASES: dict[str, dict[str, Any]] = {"svd": {}, "svdpp": {}, "knn-baseline": {}, "baseline": {}}


def _support(train: Interactions) -> tuple[np.ndarray, np.ndarray]:
    """log(1 + ratings per user) and per item, scaled to [0, 1] by the largest: the meta-features."""
    nu = np.log1p(train.user_counts().astype(np.float64))
    ni = np.log1p(train.item_counts().astype(np.float64))
    return nu / max(float(nu.max(initial=0.0)), 1.0), ni / max(float(ni.max(initial=0.0)), 1.0)


def _base_predict(
    model: Any, users: np.ndarray, items: np.ndarray, timestamps: np.ndarray | None
) -> np.ndarray:
    """A base's predictions, with the pairs' timestamps for a base whose predictions use time."""
    if timestamps is not None and getattr(model, "predicts_with_time", False):
        return np.asarray(model.predict(users, items, timestamps=timestamps))
    return np.asarray(model.predict(users, items))


class Blend(ExplicitRecommender):
    """Ridge blend of explicit base models, fitted on held-out predictions (Sill et al. 2009).

    ``bases`` maps registered explicit model names to their hyperparameters, e.g.
    ``{"svd": {"n_factors": 100}, "knn-baseline": {"k": 60}}`` (an entry ``"name#label"`` lets one
    model appear twice with different params). ``folds=1`` fits the bases on ``1 - holdout`` of
    the training ratings and the weights on the rest; ``folds=K ≥ 2`` uses out-of-fold predictions
    of a K-fold split (every training rating, K times the fitting cost). ``alpha`` is the ridge
    penalty (the intercept is not penalised). ``meta_features=True`` adds each base's prediction
    times the user's and the item's scaled log support, so weights can shift with how much is
    known. Predictions are clipped to the rating scale. ``random_state`` seeds the split and every
    base that takes one.
    """

    item_vectors: ClassVar[bool | None] = False

    name: ClassVar[str] = "blend"
    _none_means: ClassVar[dict[str, str]] = {
        "bases": "svd, svdpp, knn-baseline and baseline, each with its defaults"
    }
    tags: ClassVar[Tags] = Tags(
        trains_on="ratings", predicts_ratings=True, fold_in="factors", serving="blend"
    )
    search_space: ClassVar[
        SearchSpace
    ] = {  # the bases stay as given (fixed params); the blend's own ridge is tuned (Sill et al. 2009)
        "alpha": FloatRange(0.01, 100.0, log=True),
        "meta_features": Choice((True, False)),
        "holdout": FloatRange(0.1, 0.3),
    }
    _json_state: ClassVar[tuple[str, ...]] = ("base_labels_", "base_rmse_")
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "folds": [POSITIVE_INT],
        "holdout": [Interval(float, 0, 1, closed="neither")],
        "alpha": [NON_NEGATIVE],
        "meta_features": [Boolean()],
        "random_state": [Interval(int, None, None), None],  # an int seed: it also seeds the split
    }

    bases: dict[str, dict[str, Any]] | None = None
    _: KW_ONLY
    folds: int = 1
    holdout: float = 0.2
    alpha: float = 1.0
    meta_features: bool = True
    random_state: int | None = 0

    def __post_init__(self) -> None:
        self._validate()

    # --- checks ---------------------------------------------------------------------------
    def _base_specs(self) -> list[tuple[str, str, dict[str, Any]]]:
        """``[(label, registered name, params), …]`` with every base checked to be an explicit model."""
        from movierec.models.registry import base_specs

        def refuse(cls: type) -> str | None:
            return None if tags_of(cls).predicts_ratings else "is not a rating model (it predicts no ratings)"

        return base_specs(
            self.name, self.bases, DEFAULT_BASES, example="{svd = {}, baseline = {}}", refuse=refuse
        )

    def _validate(self) -> None:
        """The bases, then the declared constraints (at construction too, as always)."""
        self._base_specs()
        self._validate_params()

    # --- fitting --------------------------------------------------------------------------
    def _make_bases(self) -> dict[str, Any]:
        from movierec.models.registry import create

        models = {}
        for label, name, params in self._base_specs():
            m = create(name, **params)
            if "random_state" in m.get_params() and "random_state" not in params:
                m.set_params(random_state=self.random_state)
            models[label] = m
        return models

    def _design(
        self, preds: np.ndarray, users: np.ndarray, items: np.ndarray, su: np.ndarray, si: np.ndarray
    ) -> np.ndarray:
        """The blend's inputs: base predictions (n, b), plus with meta-features pred·s_u, pred·s_i, s_u, s_i."""
        if not self.meta_features:
            return preds
        inside_u = (users >= 0) & (users < len(su))
        inside_i = (items >= 0) & (items < len(si))
        u = np.where(inside_u, su[np.where(inside_u, users, 0)], 0.0)[:, None]
        i = np.where(inside_i, si[np.where(inside_i, items, 0)], 0.0)[:, None]
        return np.hstack([preds, preds * u, preds * i, u, i])

    def prepare(self, train: Interactions) -> None:
        """Every base's views of ``train`` (knn-baseline's CSC too), which their refit on all of it reads, before
        a fit's clock starts (:meth:`BaseRecommender.prepare`); the hold-out fits build their own parts' views."""
        super().prepare(train)
        for model in self._make_bases().values():
            model.prepare(train)

    def _fit(self, train: Interactions) -> Self:
        """Fit the bases on part of ``train``, the ridge weights on their held-out predictions, refit the bases on all."""
        from movierec.split import kfold, ratings_holdout

        self._validate()
        if train.n_ratings < 10:
            raise ConfigError(
                f"blend needs at least 10 training ratings to hold some out, got {train.n_ratings}"
            )
        seed = 0 if self.random_state is None else int(self.random_state)
        splits = (
            [ratings_holdout(train, self.holdout, seed)]
            if self.folds == 1
            else kfold(train, int(self.folds), seed)
        )
        xs, ys = [], []
        for inner_train, inner_valid in splits:
            su, si = _support(inner_train)
            preds = np.column_stack([
                _base_predict(m.fit(inner_train), inner_valid.users, inner_valid.items, inner_valid.timestamps)
                for m in self._make_bases().values()
            ])  # fmt: skip
            xs.append(self._design(preds, inner_valid.users, inner_valid.items, su, si))
            ys.append(inner_valid.ratings.astype(np.float64))
        x, y = np.vstack(xs), np.concatenate(ys)
        x_mean, y_mean = x.mean(axis=0), float(y.mean())
        xc = x - x_mean
        gram = xc.T @ xc + float(self.alpha) * np.eye(x.shape[1])
        self.weights_ = np.linalg.solve(gram, xc.T @ (y - y_mean))
        self.intercept_ = float(y_mean - x_mean @ self.weights_)
        self.blend_rmse_ = float(np.sqrt(np.mean((x @ self.weights_ + self.intercept_ - y) ** 2)))
        self.base_rmse_ = {
            label: float(np.sqrt(np.mean((x[:, j] - y) ** 2))) for j, label in enumerate(self._labels())
        }
        self._remember_train(train)
        self.support_user_, self.support_item_ = _support(train)
        self.models_ = {label: m.fit(train) for label, m in self._make_bases().items()}
        self.base_labels_ = list(self.models_)
        return self

    def _labels(self) -> list[str]:
        return [label for label, _, _ in self._base_specs()]

    # --- prediction -----------------------------------------------------------------------
    def _check_fitted(self) -> None:
        super()._check_fitted()
        if not hasattr(self, "models_"):
            raise ConfigError(f"{self.name}: the base models are missing (not fitted or not loaded)")

    @property
    def predicts_with_time(self) -> bool:
        """True when a base uses the ratings' timestamps (e.g. bayesian-fm's timeSVD++ features): the
        evaluation then passes them, and the blend hands them to those bases."""
        bases = self.models_.values() if hasattr(self, "models_") else self._make_bases().values()
        return any(getattr(m, "predicts_with_time", False) for m in bases)

    def predict(
        self, users: np.ndarray, items: np.ndarray, *, clip: bool = True, timestamps: np.ndarray | None = None
    ) -> np.ndarray:
        """Blended predicted ratings for (user, item) index pairs; each base falls back as it does alone.

        ``timestamps`` (one per pair) go to the bases that use time; the others ignore them.
        """
        self._check_fitted()
        users = check_indices(users, self.n_users_, "user", allow_unknown=True)
        items = check_indices(items, self.n_items_, "item", allow_unknown=True)
        if users.shape != items.shape:
            raise ConfigError(f"users and items must have the same length, got {len(users)} and {len(items)}")
        preds = np.column_stack([_base_predict(m, users, items, timestamps) for m in self.models_.values()])
        est = (
            self._design(preds, users, items, self.support_user_, self.support_item_) @ self.weights_
            + self.intercept_
        )
        return self._clip(est) if clip else est

    def blend_weights(self) -> dict[str, float]:
        """Each base's weight on its own prediction (without meta-features: the whole blend, plus ``intercept``)."""
        self._check_fitted()
        out = {label: float(w) for label, w in zip(self._labels(), self.weights_, strict=False)}
        out["intercept"] = float(self.intercept_)
        return out

    # --- persistence: the blend's own state plus one saved folder per base ------------------
    def save(self, path: str | Path) -> Path:
        """Write the blend (``model.json``, ``arrays.npz``) and each base into ``bases/<n>/``."""
        path = super().save(path)
        for n, label in enumerate(self.base_labels_):
            self.models_[label].save(path / "bases" / str(n))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Rebuild a blend saved by :meth:`save`, bases included."""
        from movierec.models.registry import get_class

        path = Path(path)
        model = super().load(path)
        specs = {label: name for label, name, _ in model._base_specs()}
        labels = list(getattr(model, "base_labels_", None) or [])
        if sorted(labels) != sorted(specs):
            raise ArtifactError(
                f"{path / 'model.json'}: the saved bases {labels} do not match the blend's params"
            )
        model.models_ = {
            label: get_class(specs[label]).load(path / "bases" / str(n)) for n, label in enumerate(labels)
        }
        return model
