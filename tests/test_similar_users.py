"""``Recommender.similar_users`` and the models' ``similar_users``: cosine of the user vectors, as implicit's
``similar_users`` (the same lists on the same factors), the user left out, raw ids in and out; models without
user vectors refuse with the list of those that have them."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import movierec
from movierec.datasets import Dataset
from movierec.errors import ConfigError, UnknownIdError
from movierec.models.base import USER_VECTOR_MODELS
from movierec.models.registry import create, get_class, missing_requirement


@pytest.fixture(scope="module")
def als(bundled: Dataset) -> movierec.Recommender:
    return movierec.Recommender(bundled, "als", factors=32, iterations=10, random_state=0).fit()


@pytest.mark.reference
def test_als_similar_users_equal_implicits_on_the_same_factors(als: movierec.Recommender) -> None:
    pytest.importorskip("implicit")
    from implicit.cpu.als import AlternatingLeastSquares

    model = als.model
    ref = AlternatingLeastSquares(factors=32)
    ref.user_factors, ref.item_factors = model.user_factors_.copy(), model.item_factors_.copy()
    zero = np.flatnonzero(np.linalg.norm(model.user_factors_, axis=1) == 0)
    checked = 0
    for u in range(model.user_factors_.shape[0]):
        if u in zero:  # implicit answers arbitrary users at 0 there; here nobody (below)
            continue
        ids, sims = ref.similar_users(u, N=11)
        assert ids[0] == u  # implicit lists the user first
        ours, our_sims = model.similar_users(u, 10)
        assert ours.tolist() == ids[1:].tolist(), u
        np.testing.assert_allclose(our_sims, sims[1:], rtol=0, atol=1e-6)
        checked += 1
    assert checked >= 600  # measured: 609 of ml-latest-small's 610 users, max |difference| 1.2e-7


def test_front_door_takes_and_gives_raw_ids(als: movierec.Recommender) -> None:
    frame = als.similar_users(1, k=5)
    assert list(frame.columns) == ["userId", "similarity"] and frame.index.name == "rank"
    assert frame.index.tolist() == [1, 2, 3, 4, 5] and 1 not in frame.userId.tolist()
    assert frame.similarity.is_monotonic_decreasing and (frame.similarity <= 1.0 + 1e-6).all()
    train = als.train_
    assert train is not None
    u = train.user_map.index(1)
    idx, _ = als.model.similar_users(u, 5)
    assert frame.userId.tolist() == train.user_map.to_raw(idx).tolist()
    vecs = als.model.user_factors_
    first = train.user_map.index(int(frame.userId.iloc[0]))
    cosine = vecs[u] @ vecs[first] / np.linalg.norm(vecs[u]) / np.linalg.norm(vecs[first])
    assert frame.similarity.iloc[0] == pytest.approx(float(cosine), abs=1e-6)
    with pytest.raises(UnknownIdError):
        als.similar_users(987654)
    everyone = als.similar_users(1, k=10**9)  # k past the users there are: every other user, as recommend's
    assert len(everyone) == len(als.similar_users(1, k=train.n_users - 1)) == train.n_users - 1


def test_a_user_with_an_all_zero_vector_is_like_no_one(als: movierec.Recommender) -> None:
    train = als.train_
    assert train is not None
    zero = np.flatnonzero(np.linalg.norm(als.model.user_factors_, axis=1) == 0)
    assert len(zero)  # ml-latest-small has a user with no rating ≥ 4: no positive to learn from
    with pytest.warns(UserWarning, match="all-zero vector"):
        assert als.similar_users(train.user_map.to_raw(zero[:1])[0]).empty


def test_models_without_user_vectors_name_those_with_them(bundled: Dataset) -> None:
    rec = movierec.Recommender(bundled, "ease").fit()
    with pytest.raises(ConfigError, match="learns no vector per user") as err:
        rec.similar_users(1)
    assert "als" in str(err.value) and "svd" in str(err.value) and "warp" in str(err.value)


_QUICK = {"epochs": 2, "n_epochs": 2, "iterations": 2, "max_iter": 2}


@pytest.mark.parametrize(
    "name", [*USER_VECTOR_MODELS, "popularity", "ease", "itemknn", "knn-basic", "baseline"]
)
def test_the_list_of_models_with_user_vectors_is_right(bundled: Dataset, name: str) -> None:
    cls = get_class(name)
    if missing_requirement(cls):
        pytest.skip(f"{name} needs {missing_requirement(cls)}")
    params = {k: v for k, v in _QUICK.items() if k in inspect.signature(cls.__init__).parameters}
    small = bundled.interactions.subset(bundled.interactions.users < 40)
    explicit = cls.tags.kind == "explicit"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = create(name, **params).fit(small if explicit else small.to_implicit(4.0))
    if name in USER_VECTOR_MODELS:
        idx, sims = model.similar_users(0, 3)
        assert np.isfinite(sims).all()
        assert len(idx) == 3 and 0 not in idx.tolist()
    else:
        with pytest.raises(ConfigError, match="learns no vector per user"):
            model.similar_users(0, 3)


def test_the_printed_list_says_what_its_similarity_is(als: movierec.Recommender) -> None:
    """``print(rec.similar_users(1))`` showed 0.296626 beside each userId and nothing else, where every movie
    list says under its table what its number is ('similarity: liked together this many times as often as
    chance says, …'); a reader took the cosine for a share of movies in common. The text and the Jupyter
    table now say it, as the lists do, and the values stay pandas' own."""
    frame = als.similar_users(1, k=3)
    said = "similarity: cosine of als's user vectors (1: the same taste, 0: unrelated)"
    assert str(frame).splitlines()[-1] == said, str(frame)
    assert said.replace("'", "&#x27;") in (frame._repr_html_() or "")
    assert frame.similarity.dtype == np.float64 and list(frame.columns) == ["userId", "similarity"]
