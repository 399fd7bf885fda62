"""What a Surprise or LightFM user types first in a notebook, and what it answers.

``movierec.SVD()`` was Python's bare AttributeError; ``print(ds.movies.head())`` showed ``movieId ...
genres`` at 80 columns, the titles hidden; popularity's list frame showed its count twice (``score 274``
beside ``n_liked 274``); and a list longer than the catalogue is every movie there is, silently, from a
trained recommender and an exported artifact alike.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
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


def test_printed_movies_show_their_titles_at_80_columns() -> None:
    """``print(ds.movies.head())`` at pandas' default 80 columns read ``movieId ... genres``: the genre lists
    ('[Adventure, Animation, Children, Comedy, Fantasy]') took the room and pandas hid the titles. The
    table cuts the lists at a whole genre instead; the frame's columns, order and values are unchanged."""
    from movierec.display import fitted_text

    ds = movierec.load("ml-latest-small")
    head = ds.movies.head()
    assert isinstance(head, pd.DataFrame) and list(head.columns) == ["movieId", "title", "year", "genres"]
    assert head["genres"].iloc[0] == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]
    with pd.option_context("display.width", 80):
        text = str(head)
    assert text == fitted_text(head, 80) and "..." not in text, text
    assert max(len(line) for line in text.splitlines()) <= 80, text
    assert all(t in text for t in head["title"]) and "[Comedy, Drama, Romance]" in text, text
    assert "[Adventure, Animation, …]" in text, (
        text
    )  # cut at a whole genre, bracketed as pandas prints a list
    whole = repr(ds.movies)  # 9,742 rows: pandas' head and tail, each title whole, the row count said
    assert "Toy Story (1995)" in whole and "Andrew Dice Clay: Dice Rules (1991)" in whole, whole
    assert whole.endswith(f"[{len(ds.movies)} rows]") and " year " in whole.splitlines()[0], whole
    pd.testing.assert_frame_equal(pd.DataFrame(ds.movies), ds.item_table())  # the same data as before


@pytest.fixture(scope="module")
def popularity() -> movierec.Recommender:
    return movierec.Recommender(movierec.load("ml-latest-small"), "popularity").fit()


def test_popularitys_list_shows_its_count_once(popularity: movierec.Recommender, tmp_path: Path) -> None:
    """Popularity's score is its training count: its list frame printed ``score 274`` beside ``n_liked 274``
    (a wide terminal, Jupyter) where the CLI's list shows the number once. The printed and the Jupyter
    table show it once, as score, and say the frame has n_liked too; the frame keeps both columns at both
    doors (code reads either). Weighted popularity's score is its own, shown beside the count."""
    top = popularity.recommend(1, k=5)
    served = popularity.export(tmp_path / "pop").recommend(1, k=5)
    for frame in (top, served):
        assert (frame["score"] == frame["n_liked"]).all() and frame["n_liked"].iloc[0] == 274
        with pd.option_context("display.width", 200):
            text = repr(frame)
        header = text.splitlines()[0].split()
        assert "score" in header and "n_liked" not in header, text
        assert "(not shown, in the frame: n_liked (= score))" in text, text
        assert text.count(" 274 ") == 1, text
        page = str(frame._repr_html_())
        assert "<th>score</th>" in page and "<th>n_liked</th>" not in page, page[:800]
        assert "(not shown, in the frame: n_liked (= score))</p>" in page
    weighted = (
        movierec.Recommender(popularity.dataset, "popularity", weighting="rating").fit().recommend(1, k=3)
    )
    with pd.option_context("display.width", 200):
        text = repr(weighted)
    assert {"score", "n_liked"} <= set(text.splitlines()[0].split()) and "(= score)" not in text, text
    assert "<th>n_liked</th>" in str(weighted._repr_html_())
