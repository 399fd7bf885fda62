"""``Recommender.recommend_for(…, features=…)``: a visitor's demographics in the notebook give the list an
exported artifact gives them (``Artifact.recommend_for_visitor``, the API's ``POST /recommendations``
with ``features``). Before, the notebook had no way to ask for a visitor by their features."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import movierec
from movierec.datasets import Dataset
from movierec.errors import ConfigError

ENGINEER = {"age": 31, "gender": "F", "occupation": "engineer"}
RETIRED = {"age": 62, "gender": "M", "occupation": "retired", "zip": "10025"}
# Star Wars and Return of the Jedi liked, Liar Liar (ml-100k's movieIds 50, 181, 294) disliked
RATED = [(50, 5.0), (181, 4.0), (294, 2.0)]


@pytest.fixture(scope="module")
def fitted(ml100k: Dataset, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Any]]:
    """warp (a hybrid factor model) and segment-popularity fitted on ml-100k with demographics, each with
    its exported artifact."""
    out = {}
    for name, params in (("warp", {"epochs": 3, "num_threads": 1}), ("segment-popularity", {})):
        rec = movierec.Recommender(ml100k, name, user_features="demographics", **params).fit()
        out[name] = (rec, rec.export(tmp_path_factory.mktemp("art") / name))
    return out


@pytest.mark.parametrize("name", ["warp", "segment-popularity"])
@pytest.mark.parametrize(
    "rated", [[], RATED, [(1, 2.0)]], ids=["features-only", "with-ratings", "none-liked"]
)
def test_a_visitors_features_give_the_artifacts_list(fitted, name, rated) -> None:  # type: ignore[no-untyped-def]
    rec, art = fitted[name]
    for who in (ENGINEER, RETIRED):
        ours = rec.recommend_for(dict(rated), k=10, features=who)
        theirs = art.recommend_for_visitor(who, rated, k=10)
        assert len(ours) == 10
        assert list(ours["movieId"]) == [r["movieId"] for r in theirs]
        np.testing.assert_allclose(ours["score"], [r["score"] for r in theirs], atol=1e-5, rtol=0)
        assert not {m for m, _ in rated} & set(ours["movieId"])  # the movies given never come back
    # the features choose the list: two different people get different lists
    engineer = rec.recommend_for(dict(rated), k=10, features=ENGINEER)["movieId"]
    assert list(engineer) != list(rec.recommend_for(dict(rated), k=10, features=RETIRED)["movieId"])


def test_features_alone_need_no_ratings_and_liked_ratings_move_the_list(fitted) -> None:  # type: ignore[no-untyped-def]
    rec, _ = fitted["warp"]
    alone = rec.recommend_for(features=ENGINEER, k=10)
    assert list(alone["movieId"]) == list(rec.recommend_for([], k=10, features=ENGINEER)["movieId"])
    assert list(rec.recommend_for(dict(RATED), k=10, features=ENGINEER)["movieId"]) != list(alone["movieId"])
    with pytest.raises(ConfigError, match=r"^ratings: give \{movie: rating\}.*or the person's features="):
        rec.recommend_for(k=10)


def test_features_a_model_cannot_use_are_refused_in_one_sentence(ml100k, fitted) -> None:  # type: ignore[no-untyped-def]
    popularity = movierec.Recommender(ml100k, "popularity").fit()
    with pytest.raises(
        ConfigError, match=r"^popularity does not learn from user features, so it cannot use .*: .*\bwarp\b"
    ):
        popularity.recommend_for(features=ENGINEER)
    plain = movierec.Recommender(ml100k, "warp", epochs=1, num_threads=1).fit()
    with pytest.raises(
        ConfigError,
        match=r"^warp was fitted without user features, .*Recommender\(dataset, 'warp', user_features='demographics'\)",
    ):
        plain.recommend_for({50: 5.0}, features=ENGINEER)
    rec, _ = fitted["warp"]
    for bad, message in [
        ({"agee": 31}, r"^unknown user feature 'agee'; known: age, gender, occupation, zip$"),
        ({"occupation": "astronaut"}, r"^unknown occupation 'astronaut'; known: administrator, .*engineer"),
        ({"gender": "X"}, r"^unknown gender 'X'; known: F, M$"),
        ({"age": 300}, r"^age must be a whole number between 1 and 120, got 300$"),
        ("F", r"^features: give a mapping such as \{\"age\": 31"),
    ]:
        with pytest.raises(ConfigError, match=message):
            rec.recommend_for(features=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^explain=True explains a list by the movies given"):
        rec.recommend_for(dict(RATED), features=ENGINEER, explain=True)
