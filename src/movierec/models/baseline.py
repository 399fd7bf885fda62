"""Rating baselines: the global mean and μ + b_u + b_i (Koren 2010, 'Factor in the neighbors', §2.1).

Also the shared machinery of the explicit models (SVD, SVD++, k-NN): Surprise's visiting order of
the training ratings, bias estimation by ALS or SGD (reused by ``knn-baseline``), and prediction
with Surprise's fallback for users or items that have no training ratings.
"""

from __future__ import annotations

from dataclasses import KW_ONLY
from typing import ClassVar, Self

import numpy as np

from movierec.errors import ConfigError, Doors
from movierec.interactions import Interactions
from movierec.models.base import ExplicitRecommender, Tags, check_indices
from movierec.models.kernels.accel import als_biases, first_seen, group_by_first_seen, sgd_biases
from movierec.models.params import ActsWhen, Constraint, Interval, Options
from movierec.models.space import FloatRange, IntRange, SearchSpace

__all__ = ["Baseline", "ExplicitModel", "GlobalMean", "estimate_biases", "surprise_order"]


def surprise_order(train: Interactions) -> np.ndarray:
    """Row order in which Surprise's ``trainset.all_ratings()`` visits a training log.

    Surprise numbers users by first appearance and walks them in that order, each user's ratings
    in file order; SGD models sweep ratings in this order (no shuffling), so we do too.
    """
    users = train.users
    if len(users) == 0:
        return np.zeros(0, dtype=np.int64)
    return group_by_first_seen(users, max(train.n_users, int(users.max()) + 1))


def first_appearance(values: np.ndarray) -> np.ndarray:
    """Distinct values (non-negative ints) in order of first appearance (Surprise's inner-id order)."""
    values = np.asarray(values)
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    return first_seen(values, int(values.max()) + 1)


# dup-ok: a keyword signature alike in shape to others (tuning.check_request); no shared logic
def estimate_biases(
    train: Interactions,
    method: str = "als",
    *,
    reg_i: float = 10.0,
    reg_u: float = 15.0,
    n_epochs: int | None = None,
    reg: float = 0.02,
    learning_rate: float = 0.005,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Global mean and user/item biases (float64) as Surprise's ``compute_baselines`` gets them.

    ``method="als"`` uses ``reg_i``, ``reg_u`` and ``n_epochs`` (default 10); ``method="sgd"`` uses
    ``reg``, ``learning_rate`` and ``n_epochs`` (default 20), sweeping ratings in Surprise's order.
    """
    mu = train.global_mean
    if method == "als":
        epochs = 10 if n_epochs is None else n_epochs
        bu, bi = als_biases(train.csr(), train.csc(), mu, float(reg_u), float(reg_i), int(epochs))
    elif method == "sgd":
        epochs = 20 if n_epochs is None else n_epochs
        order = surprise_order(train)
        bu, bi = sgd_biases(
            train.users[order], train.items[order], train.ratings[order].astype(np.float64),
            train.n_users, train.n_items, mu, float(reg), float(learning_rate), int(epochs),
        )  # fmt: skip
    else:
        raise ConfigError(f"baseline method must be 'als' or 'sgd', got {method!r}")
    return mu, bu, bi


class ExplicitModel(ExplicitRecommender):
    """Shared prediction logic: known pairs go to ``_estimate``, others fall back as Surprise does.

    A user or item is *known* when it has training ratings. Unknown pairs get the baseline parts
    that exist (μ, plus b_u or b_i when that side is known; just μ for models without biases) and
    are flagged, like Surprise's ``was_impossible``. ``score`` ranks by the support-shrunk estimate.
    """

    tags: ClassVar[Tags] = Tags(
        trains_on="ratings", predicts_ratings=True, fold_in="factors", serving="factors"
    )
    has_biases: ClassVar[bool] = True

    def _remember_train(self, train: Interactions) -> None:
        super()._remember_train(train)
        self.user_known_ = train.user_counts() > 0
        self.item_known_ = train.item_counts() > 0
        self.global_mean_ = np.asarray(train.global_mean, dtype=np.float32)

    def _known(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        in_u = (users >= 0) & (users < self.n_users_)
        in_i = (items >= 0) & (items < self.n_items_)
        ku = in_u & self.user_known_[np.where(in_u, users, 0)]
        ki = in_i & self.item_known_[np.where(in_i, items, 0)]
        return ku, ki

    def _fallback(self, users: np.ndarray, items: np.ndarray, ku: np.ndarray, ki: np.ndarray) -> np.ndarray:
        est = np.full(len(users), float(self.global_mean_), dtype=np.float64)
        if self.has_biases:
            est += np.where(ku, self.user_bias_[np.where(ku, users, 0)], 0.0)
            est += np.where(ki, self.item_bias_[np.where(ki, items, 0)], 0.0)
        return est

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Estimates for known (user, item) pairs and a mask of those the model could not make."""
        raise NotImplementedError

    def predict_with_flags(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Clipped predictions and a flag per pair, True where the model fell back to the baseline."""
        est, flags = self._predict(users, items)
        return self._clip(est), flags

    def predict(self, users: np.ndarray, items: np.ndarray, *, clip: bool = True) -> np.ndarray:
        """Predicted ratings for (user, item) index pairs; unknown users/items fall back to the baseline."""
        est, _ = self._predict(users, items)
        return self._clip(est) if clip else est

    def _predict(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        users = check_indices(users, self.n_users_, "user", allow_unknown=True)
        items = check_indices(items, self.n_items_, "item", allow_unknown=True)
        if users.shape != items.shape:
            raise ConfigError(f"users and items must have the same length, got {len(users)} and {len(items)}")
        ku, ki = self._known(users, items)
        est = self._fallback(users, items, ku, ki)
        known = ku & ki
        flags = ~known
        if known.any():
            value, impossible = self._estimate(users[known], items[known])
            sub = est[known]
            sub[~impossible] = value[~impossible]
            est[known] = sub
            flags[np.flatnonzero(known)[impossible]] = True
        return est, flags


class GlobalMean(ExplicitModel):
    """Predicts the mean training rating for every pair: the floor every model must beat."""

    item_vectors: ClassVar[bool | None] = False

    name: ClassVar[str] = "global-mean"
    has_biases: ClassVar[bool] = False

    def _fit(self, train: Interactions) -> Self:
        """Remember the mean rating (and the seen items, for ``recommend``)."""
        self._remember_train(train)
        return self

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.full(len(users), float(self.global_mean_)), np.zeros(len(users), dtype=bool)

    def fold_in_spec(self) -> dict[str, object]:
        """A visitor gets μ as every known user does: no user bias to solve for (the factor family's ridge
        fold-in gave them their own mean rating, a model this one is not)."""
        from movierec.scoring.factors import RIDGE_REG

        return {"method": "ridge", "reg": RIDGE_REG, "biased": False}


class Baseline(ExplicitModel):
    """μ + b_u + b_i, biases fitted by ALS or SGD exactly as Surprise's ``BaselineOnly`` (Koren 2010, §2.1).

    ``method="als"``: ``reg_i`` (10), ``reg_u`` (15), ``epochs`` (10); ``method="sgd"``: ``regularization``
    (0.02), ``learning_rate`` (0.005), ``epochs`` (20). ``epochs=None`` takes the method's default.
    """

    item_vectors: ClassVar[bool | None] = False

    name: ClassVar[str] = "baseline"
    _none_means: ClassVar[dict[str, str]] = {"epochs": "the method's default, 10 for als and 20 for sgd"}
    search_space: ClassVar[SearchSpace] = {
        "reg_i": FloatRange(0.1, 50.0, log=True),
        "reg_u": FloatRange(0.1, 50.0, log=True),
        "epochs": IntRange(2, 30),
    }

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "method": [Options("als", "sgd")],
        "reg_i": [Interval(float, 0, None)],
        "reg_u": [Interval(float, 0, None)],
        "regularization": [Interval(float, 0, None)],
        "learning_rate": [Interval(float, 0, None, closed="neither")],
        "epochs": [Interval(int, 1, None), None],
    }
    acts_when: ClassVar[dict[str, ActsWhen]] = {
        "reg_i": ActsWhen("method", ("als",)),
        "reg_u": ActsWhen("method", ("als",)),
        "regularization": ActsWhen("method", ("sgd",)),
        "learning_rate": ActsWhen("method", ("sgd",)),
    }
    _foreign_names: ClassVar[dict[str, str]] = {
        "bsl_options": "Surprise's bsl_options keys are parameters of their own here: method, reg_i, reg_u, "
        "epochs (its 'n_epochs'), regularization (its 'reg'), learning_rate",
        "damping": Doors(
            "LensKit's BiasScorer(damping=d) is baseline(reg_i=d, reg_u=d, epochs=1): one sweep, "
            "item biases then user biases, each sum of residuals over its count plus d (a damping dict: "
            "reg_i= its 'item', reg_u= its 'user')",
            "LensKit's BiasScorer(damping=d) is baseline with --params reg_i=d,reg_u=d,epochs=1 (one sweep)",
        ),
    }

    method: str = "als"
    _: KW_ONLY
    reg_i: float = 10.0
    reg_u: float = 15.0
    regularization: float = 0.02
    learning_rate: float = 0.005
    epochs: int | None = None

    def __post_init__(self) -> None:
        self._validate()

    def _validate(self) -> None:
        self._validate_params()  # at construction too, as this model always has

    def prepare(self, train: Interactions) -> None:
        """The CSR, and for ``method="als"`` the items-by-column view (CSC) its item sweeps read, before a fit's
        clock starts (:meth:`BaseRecommender.prepare`)."""
        super().prepare(train)
        if self.method == "als":
            train.csc()

    def _fit(self, train: Interactions) -> Self:
        """Estimate the global mean and biases."""
        self._validate()
        self._remember_train(train)
        _, bu, bi = estimate_biases(
            train, self.method, reg_i=self.reg_i, reg_u=self.reg_u, n_epochs=self.epochs,
            reg=self.regularization, learning_rate=self.learning_rate,
        )  # fmt: skip
        self.user_bias_ = bu.astype(np.float32)
        self.item_bias_ = bi.astype(np.float32)
        return self

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        est = float(self.global_mean_) + self.user_bias_[users].astype(np.float64) + self.item_bias_[items]
        return est, np.zeros(len(users), dtype=bool)

    def predicted_scores(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """μ + b_u + b_i over the grid (biases of users/items without ratings are 0)."""
        self._check_fitted()
        users = self._check_users(users)
        bi = self.item_bias_ if items is None else self.item_bias_[np.asarray(items, dtype=np.int64)]
        return (self.global_mean_ + self.user_bias_[users][:, None] + bi[None, :]).astype(np.float32)
