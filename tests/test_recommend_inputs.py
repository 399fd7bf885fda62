"""Bad input to ``movierec.Recommender``'s lists and to ``movierec recommend``/``similar``/``compare``: a
clear movierec error (one line and exit 2 in the terminal), never a numpy traceback or a silently
different answer; Python and the CLI agree."""

from __future__ import annotations

import pytest

import movierec
from movierec.errors import ConfigError


@pytest.fixture(scope="module")
def ease() -> movierec.Recommender:
    return movierec.Recommender("ml-latest-small", "ease").fit()


@pytest.mark.parametrize("k", [-1, 0, 2.5, True])
def test_similar_checks_k_as_recommend_does(ease: movierec.Recommender, k: object) -> None:
    with pytest.raises(ConfigError) as from_recommend:
        ease.recommend(1, k=k)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as from_similar:
        ease.similar("Toy Story", k=k)  # type: ignore[arg-type]
    assert str(from_similar.value) == str(from_recommend.value)
    assert str(from_similar.value).startswith("k must be")


def test_a_list_longer_than_the_catalogue_is_refused_as_the_cli_does(ease: movierec.Recommender) -> None:
    n = ease.train_.n_items  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match=f"k 1000000000 is larger than the catalogue \\({n} movies\\)"):
        ease.recommend(1, k=10**9)
    with pytest.raises(ConfigError, match="larger than the catalogue"):
        ease.recommend_for({"Alien": 5}, k=10**9)
    with pytest.raises(ConfigError, match=f"minus the movie itself \\({n - 1}\\)"):
        ease.similar("Toy Story", k=n)
    assert len(ease.similar("Toy Story", k=n - 1)) > 0  # the longest list there is still works


@pytest.mark.parametrize("model", [None, 3, object()])
def test_a_model_that_is_no_name_and_no_model_is_refused_at_construction(model: object) -> None:
    with pytest.raises(ConfigError, match=r"model must be a registry name .* or a model instance"):
        movierec.Recommender("ml-latest-small", model)  # type: ignore[arg-type]


def test_a_model_class_is_refused_with_the_instance_it_wants() -> None:
    from movierec.models.popularity import Popularity

    with pytest.raises(ConfigError, match=r"pass an instance \(Popularity\(\)\)"):
        movierec.Recommender("ml-latest-small", Popularity)  # type: ignore[arg-type]
    assert movierec.Recommender("ml-latest-small", Popularity()).fit().recommend(1, k=3).shape[0] == 3
