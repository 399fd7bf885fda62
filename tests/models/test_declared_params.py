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
from movierec.models.itemitem import RP3beta
from movierec.models.mf import SVD, SVDpp
from movierec.models.popularity import Popularity


def test_the_constructor_comes_from_the_declarations_in_order() -> None:
    params = list(inspect.signature(SVD).parameters)
    assert params[:4] == ["factors", "epochs", "learning_rate", "regularization"]
    svd = SVD(12, 3)  # positional, as before the declarations
    assert (svd.factors, svd.epochs, svd.learning_rate) == (12, 3, 0.005)
    assert SVD(n_factors=7).factors == 7  # Surprise's alias still loads
    assert repr(SVD(epochs=3, factors=5)) == "SVD(factors=5, epochs=3)"  # declared order, changed ones


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
    plain = RP3beta(k=10).fit(train)  # item × item, no side features
    with_feats = RP3beta(k=10).fit(train, item_features=feats)
    np.testing.assert_array_equal(plain.score(np.arange(3)), with_feats.score(np.arange(3)))


def test_an_empty_training_set_has_one_message(tiny: Interactions) -> None:
    empty = tiny.subset(np.zeros(tiny.n_ratings, dtype=bool))  # every id, no rows
    assert empty.n_ratings == 0
    with pytest.raises(DataError, match="no interactions to train on"):
        require_interactions(empty)
    with pytest.raises(DataError, match="no interactions to train on"):
        Popularity().fit(empty)


def test_a_group_declares_a_hyperparameter_once_and_a_model_sets_its_default() -> None:
    from movierec.models.als import ALS
    from movierec.models.groups import FactorParams
    from movierec.models.ials import IALS

    sig = inspect.signature(IALS).parameters
    assert sig["factors"].kind is inspect.Parameter.KEYWORD_ONLY and sig["factors"].default == 256
    assert inspect.signature(FactorParams).parameters["factors"].default == 64
    assert (ALS().factors, IALS().factors, IALS(n_factors=3).factors) == (64, 256, 3)
    assert next(iter(sig)) == "alpha0"  # a positional argument is always one of the model's own


def test_a_name_keeps_its_meaning_across_models(tiny: Interactions) -> None:
    from movierec.errors import ConfigError
    from movierec.models.vae import MultVAE

    class _Toy(BaseRecommender):
        name: ClassVar[str] = "toy"
        dropout: float = 0.1
        epochs: int = 3

    with pytest.raises(ConfigError, match=r"toy: dropout must be a number in \[0, 1\), got 1.5"):
        _Toy(dropout=1.5)._validate_params()
    with pytest.raises(ConfigError, match=r"toy: epochs \(n_epochs, iterations\) must be a whole number ≥ 1"):
        _Toy(epochs=0)._validate_params()
    with pytest.raises(ConfigError, match=r"mult-vae: dropout must be"):
        MultVAE(dropout=1.0).fit(tiny)


def test_library_params_spell_our_names_as_the_wrapped_library_does() -> None:
    from movierec.models.als import ALS
    from movierec.models.bayesian import BayesianFM
    from movierec.models.reference.cornac import CornacBPR

    assert CornacBPR().library_params("factors", "epochs", "regularization", "learning_rate") == {
        "k": 200,
        "max_iter": 100,
        "lambda_reg": 0.001,
        "learning_rate": 0.01,
    }
    got = ALS(factors=np.int64(8), regularization=1).library_params("factors", "epochs", "regularization")
    assert got == {"factors": 8, "iterations": 15, "regularization": 1.0}
    assert type(got["factors"]) is int and type(got["regularization"]) is float
    assert CornacBPR(k=7, lambda_reg=0.5).get_params()["factors"] == 7
    assert BayesianFM(rank=4, n_iter=9).get_params()["epochs"] == 9  # a group's aliases hold below it
