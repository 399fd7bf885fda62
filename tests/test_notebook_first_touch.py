"""What a Surprise or LightFM user types first in a notebook, and what it answers.

``movierec.SVD()`` was Python's bare AttributeError; ``print(ds.movies.head())`` showed ``movieId ...
genres`` at 80 columns, the titles hidden; popularity's list frame showed its count twice (``score 274``
beside ``n_liked 274``); and a list longer than the catalogue is every movie there is, silently, from a
trained recommender and an exported artifact alike.
"""

from __future__ import annotations

import pytest

import movierec


@pytest.mark.parametrize(
    ("word", "model", "where"),
    [
        ("SVD", "svd", "from movierec.models.mf import SVD"),
        ("svd", "svd", "from movierec.models.mf import SVD"),
        ("KNNBasic", "knn-basic", "from movierec.models.knn import KNNBasic"),
        ("knn_basic", "knn-basic", "from movierec.models.knn import KNNBasic"),
        ("EASE", "ease", "from movierec.models.ease import EASE"),
        ("BPR", "bpr", "from movierec.models.bpr import BPR"),
        ("SVDpp", "svdpp", "from movierec.models.mf import SVDpp"),
    ],
)
def test_a_models_class_name_on_the_package_says_how_to_get_the_model(
    word: str, model: str, where: str
) -> None:
    """``movierec.SVD()`` (Surprise's ``SVD()``) raised "module 'movierec' has no attribute 'SVD'" and nothing
    more. A model's name, in any case, says the call that trains it and where the class is; the place
    named is real."""
    import importlib

    with pytest.raises(AttributeError) as err:
        getattr(movierec, word)
    said = str(err.value)
    assert said.startswith(f"module 'movierec' has no attribute {word!r}; "), said
    assert f"movierec.Recommender(ds, {model!r}) with ds = movierec.load('ml-latest-small')" in said, said
    assert where in said, said
    module, _, cls = where.removeprefix("from ").partition(" import ")
    assert isinstance(getattr(importlib.import_module(module), cls), type)
    assert not hasattr(movierec, word)  # still no attribute: hasattr, IPython's completion, getattr(…, None)


@pytest.mark.parametrize(
    ("word", "model", "why"),
    [
        ("LightFM", "warp", "LightFM's model is warp, bpr, logistic or warp-kos here"),
        ("BaselineOnly", "baseline", "Surprise's BaselineOnly is baseline here"),
        ("AlternatingLeastSquares", "als", "implicit's AlternatingLeastSquares is als here"),
    ],
)
def test_another_librarys_class_name_on_the_package_names_the_model_here(
    word: str, model: str, why: str
) -> None:
    with pytest.raises(AttributeError) as err:
        getattr(movierec, word)
    said = str(err.value)
    assert why in said and f"movierec.Recommender(ds, {model!r})" in said, said
    movierec.Recommender(movierec.load("ml-latest-small"), model)  # the call named is one that works


def test_a_name_that_is_no_model_stays_a_plain_attribute_error() -> None:
    """Tools probe a module's attributes (IPython's completion and display hooks, ``hasattr``): an unknown
    name, and every ``_``-name, is Python's own error."""
    for word in (
        "nosuch",
        "_ipython_canary_method_should_not_exist_",
        "_repr_html_",
        "__wrapped__",
        "Reader",
    ):
        with pytest.raises(AttributeError, match=rf"^module 'movierec' has no attribute '{word}'$"):
            getattr(movierec, word)
        assert not hasattr(movierec, word)
    assert not hasattr(movierec, "SVD") and getattr(movierec, "EASE", None) is None
    assert "SVD" not in dir(movierec)
