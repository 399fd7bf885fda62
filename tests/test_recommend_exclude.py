"""``exclude=`` on ``Recommender.recommend`` and ``recommend_for``: a deny-list of raw movieIds (implicit's
``filter_items``), left out of the list, which fills from the next best; an unknown movie is refused."""

from __future__ import annotations

import pytest

import movierec
from movierec.datasets import Dataset
from movierec.errors import ConfigError, UnknownIdError


@pytest.fixture(scope="module")
def rec(bundled: Dataset) -> movierec.Recommender:
    return movierec.Recommender(bundled, "ease").fit()


def test_recommend_leaves_the_denied_movies_out(rec: movierec.Recommender) -> None:
    plain = rec.recommend(1, k=8).movieId.tolist()
    denied = [plain[0], plain[4]]
    assert rec.recommend(1, k=6, exclude=denied).movieId.tolist() == [m for m in plain if m not in denied][:6]
    assert rec.recommend(1, k=3, exclude=plain[0]).movieId.tolist() == plain[1:4]  # one id alone
    assert rec.recommend(1, k=3, exclude=[]).movieId.tolist() == plain[:3]
    reranked = rec.recommend(1, k=5, rerank="mmr:0.5", exclude=plain[:3]).movieId.tolist()
    assert reranked and not set(reranked) & set(plain[:3])
    many = rec.recommend([1, 2], k=3, exclude=denied)
    assert not set(many.movieId) & set(denied) and len(many) == 6


def test_recommend_for_leaves_the_denied_movies_out(rec: movierec.Recommender) -> None:
    liked = {1: 5.0, 2571: 5.0}  # Toy Story, The Matrix
    plain = rec.recommend_for(liked, k=6).movieId.tolist()
    assert rec.recommend_for(liked, k=4, exclude=plain[1:3]).movieId.tolist() == [plain[0], *plain[3:6]]


def test_a_bad_deny_list_is_refused(rec: movierec.Recommender) -> None:
    with pytest.raises(UnknownIdError, match="987654"):
        rec.recommend(1, exclude=[1, 987654])
    with pytest.raises(UnknownIdError, match="987654"):
        rec.recommend_for({1: 5.0}, exclude=[987654])
    with pytest.raises(ConfigError, match="exclude: give the movies never to list"):
        rec.recommend(1, exclude={1: True})
