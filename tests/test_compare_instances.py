"""compare takes model objects, as Surprise's cross_validate(algo, …) does: compare(ds, [EASE(l2=100)])
failed with "TypeError: 'EASE' object is not subscriptable" (h125). An object is read as its registered name
and the hyperparameters it was given, so it scores as the (name, params) pair does and the run's seed seeds it."""

from __future__ import annotations

import pytest

import movierec
from movierec.datasets import Dataset
from movierec.errors import ConfigError
from movierec.models.bpr import BPR
from movierec.models.ease import EASE


def test_a_model_object_scores_as_its_name_and_params(bundled: Dataset) -> None:
    small = bundled.interactions.subset(bundled.interactions.users < 150)
    ds = Dataset("small", small, bundled.movies, None, "", "")
    objects = movierec.compare(ds, [EASE(l2=100), BPR(epochs=2)], progress=False, seed=7).to_frame()
    pairs = movierec.compare(
        ds, [("ease", {"l2": 100}), ("bpr", {"epochs": 2})], progress=False, seed=7
    ).to_frame()
    got = objects.dropna(subset=["ndcg@10"]).set_index("model")["ndcg@10"]
    want = pairs.dropna(subset=["ndcg@10"]).set_index("model")["ndcg@10"]
    assert list(got.index) == ["ease", "bpr"]
    assert got.to_dict() == want.to_dict()  # bpr seeded by the run's seed, as the pair is


def test_an_object_beside_the_same_name_gets_its_own_label(bundled: Dataset) -> None:
    small = bundled.interactions.subset(bundled.interactions.users < 100)
    ds = Dataset("small", small, bundled.movies, None, "", "")
    frame = movierec.compare(ds, [EASE(l2=100), "ease"], progress=False).to_frame()
    assert set(frame["model"]) == {"ease(l2=100)", "ease"}
    with pytest.raises(ConfigError, match="is not a model; give a name"):
        movierec.compare(ds, [object()], progress=False)


def test_a_dict_of_models_scores_as_its_name_and_params_pairs(bundled: Dataset) -> None:
    """compare(ds, {"svd": {"epochs": 3}}) (the shape of ensemble's bases=) iterated the dict's keys: svd
    trained its default 25 epochs, the params dropped without a word (RMSE 0.8811 on ml-latest-small where
    epochs=3 reads 0.9083). A dict is now its (name, params) pairs; a value that is no dict is refused."""
    small = bundled.interactions.subset(bundled.interactions.users < 150)
    ds = Dataset("small", small, bundled.movies, None, "", "")
    given = movierec.compare(ds, {"svd": {"epochs": 3}, "baseline": None}, protocols="rating", progress=False)
    pairs = movierec.compare(ds, [("svd", {"epochs": 3}), "baseline"], protocols="rating", progress=False)
    assert given.row("svd", "rating").params["epochs"] == 3
    got, want = (c.to_frame().set_index("model")["rmse"].to_dict() for c in (given, pairs))
    assert got == want and list(got) == ["svd", "baseline"]
    with pytest.raises(ConfigError) as err:
        movierec.compare(ds, {"svd": 3}, progress=False)
    assert str(err.value) == (
        "models: a dict maps each model name to its hyperparameters ({'svd': {'epochs': 10}}); 'svd' maps to 3"
    )
