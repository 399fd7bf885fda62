"""Hyperparameters declared once as class fields: the generated constructor, inherited defaults, shared bases."""

from __future__ import annotations

import inspect
from typing import ClassVar

import numpy as np
import pytest
import scipy.sparse as sp

from movierec.errors import DataError
from movierec.interactions import Interactions
from movierec.models.base import BaseRecommender, require_interactions
from movierec.models.bpr import BPR, WARP, WARPKOS, HybridMF
from movierec.models.ease import EASE
from movierec.models.mf import SVD, SVDpp
from movierec.models.popularity import Popularity


def test_the_constructor_comes_from_the_declarations_in_order() -> None:
    params = list(inspect.signature(SVD).parameters)
    assert params[:4] == ["factors", "epochs", "learning_rate", "regularization"]
    svd = SVD(12, 3)  # positional, as before the declarations
    assert (svd.factors, svd.epochs, svd.learning_rate) == (12, 3, 0.005)
    assert SVD(n_factors=7).factors == 7  # Surprise's alias still loads
    assert repr(SVD(factors=5)).startswith("SVD(factors=5, epochs=25")


def test_a_subclass_redeclares_only_the_defaults_it_changes() -> None:
    assert HybridMF().factors == 40 and WARP().factors == 40
    bpr = BPR()
    assert (bpr.factors, bpr.epochs, bpr.learning_schedule, bpr.item_alpha) == (200, 150, "auto", 0.001)
    assert bpr.max_sampled == HybridMF().max_sampled  # inherited unchanged
    assert list(inspect.signature(BPR).parameters) == list(inspect.signature(HybridMF).parameters)
    kos = WARPKOS(k=2, n=4)
    assert (kos.k, kos.n) == (2, 4) and "k" not in HybridMF().get_params()
    assert SVDpp().factors == 20 and SVD().factors == 80  # siblings keep their own defaults


def test_shared_groups_are_keyword_only_and_declared_once() -> None:
    sig = inspect.signature(EASE)
    assert sig.parameters["weighting"].kind is inspect.Parameter.KEYWORD_ONLY
    assert EASE(300.0).l2 == 300.0
    assert Popularity(weighting="rating").get_params() == {
        "window_days": None,
        "weighting": "rating",
        "half_life_days": 365.0,
    }


def test_an_annotation_without_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match="need a default"):

        class _Bad(BaseRecommender):
            name: ClassVar[str] = "bad"
            factors: int = 3
            user_factors_: np.ndarray


def test_side_features_are_dropped_for_a_model_that_does_not_take_them(tiny: Interactions) -> None:
    train = tiny.to_implicit(4.0)
    feats = sp.csr_matrix(np.ones((train.n_items, 2), dtype=np.float32))
    plain = EASE(l2=10.0).fit(train)
    with_feats = EASE(l2=10.0).fit(train, item_features=feats)
    np.testing.assert_array_equal(plain.score(np.arange(3)), with_feats.score(np.arange(3)))


def test_an_empty_training_set_has_one_message(tiny: Interactions) -> None:
    empty = tiny.subset(np.zeros(tiny.n_ratings, dtype=bool))  # every id, no rows
    assert empty.n_ratings == 0
    with pytest.raises(DataError, match="no interactions to train on"):
        require_interactions(empty)
    with pytest.raises(DataError, match="no interactions to train on"):
        Popularity().fit(empty)
