"""weighting="rating": each positive weighs its rating over its user's mean, so weights average 1.

Raw ratings of 4 to 5 as weights enlarged EASE's Gram matrix about 20×: λ 50 acted like λ 2.5, so the
weighting only helped with a λ searched for it, and that λ was ~20× too strong for binary data.
"""

from __future__ import annotations

import numpy as np

from movierec.interactions import Interactions
from movierec.models.registry import create
from movierec.models.weighting import interaction_weights, relative_ratings


def test_each_users_weights_average_one(tiny: Interactions) -> None:
    pos = tiny.to_implicit(3.0)
    w = interaction_weights(pos, "rating")
    per_user = np.bincount(pos.users, w) / np.bincount(pos.users)
    np.testing.assert_allclose(per_user[np.bincount(pos.users) > 0], 1.0, rtol=1e-5)
    # within a user the order of the ratings is kept: a 5 weighs more than a 4
    u = pos.users == pos.users[0]
    src = pos.source_ratings[u]
    assert src.min() < src.max()
    assert w[u][np.argmax(src)] > w[u][np.argmin(src)]
    np.testing.assert_allclose(
        relative_ratings(np.array([4.0, 5.0, 4.5])), [4 / 4.5, 5 / 4.5, 1.0], rtol=1e-6
    )
    np.testing.assert_array_equal(relative_ratings(np.zeros(2)), [1.0, 1.0])  # no mean to scale by
    assert relative_ratings(np.array([], dtype=np.float32)).shape == (0,)


def test_a_user_who_rates_alike_weighs_like_binary(tiny: Interactions) -> None:
    """Data whose users give each positive one rating (a file of 1s, or every positive a 4) trains the
    same model under both weightings: the scale parameters are the binary ones."""
    pos = tiny.to_implicit(3.0)
    alike = Interactions(
        pos.users, pos.items, pos.ratings, pos.user_map, pos.item_map,
        source_ratings=(3.0 + pos.users % 3).astype(np.float32),  # 3, 4 or 5, one per user
    )  # fmt: skip
    users = np.arange(alike.n_users)
    for name in ("ease", "slim", "als"):
        binary = create(name).fit(alike).score(users)
        rated = create(name, weighting="rating").fit(alike).score(users)
        np.testing.assert_allclose(rated, binary, rtol=1e-4, atol=1e-6, err_msg=name)


def test_a_visitors_ratings_are_scaled_by_their_own_mean(tiny: Interactions) -> None:
    """A visitor's fold-in weighs their ratings as training weighed a user's, relative to their own mean:
    ratings 10% lower (all still positives) give the same scores, and one rating for all weighs each 1."""
    pos = tiny.to_implicit(3.0)
    items = np.array([0, 3, 7, 12])
    ratings = np.array([5.0, 4.5, 5.0, 4.5], dtype=np.float32)  # positives (≥ 4)
    for name in ("ease", "als", "user-ease"):
        model = create(name, weighting="rating").fit(pos)
        once = model.score_new_user(items, ratings)
        lower = model.score_new_user(items, 0.9 * ratings)
        np.testing.assert_allclose(once, lower, rtol=1e-4, atol=1e-6, err_msg=name)
        alike = model.score_new_user(items, np.full(4, 4.0, dtype=np.float32))
        unrated = model.score_new_user(items, None)  # every item liked, each weighing 1
        np.testing.assert_allclose(alike, unrated, rtol=1e-4, atol=1e-6, err_msg=name)
        assert not np.allclose(once, alike), name


def test_an_artifact_says_which_rating_weights_its_users_had() -> None:
    """New artifacts mark rating weights "relative"; one written before (True) held raw ratings, and
    its visitors keep being weighed by raw ratings, as its training users were."""
    from movierec.scoring.base import rating_weights, visitor_weights

    assert rating_weights(create("ease", weighting="rating")) == "relative"
    assert rating_weights(create("ease")) is False
    r = np.array([5.0, 2.0, 4.0], dtype=np.float32)
    liked = r >= 4.0
    np.testing.assert_allclose(visitor_weights({"rating_weights": "relative"}, r, liked), [5 / 4.5, 4 / 4.5])
    np.testing.assert_allclose(visitor_weights({"rating_weights": True}, r, liked), [5.0, 4.0])
    np.testing.assert_allclose(visitor_weights({"rating_weights": False}, r, liked), [1.0, 1.0])
    np.testing.assert_allclose(visitor_weights({"rating_weights": "relative"}, None, liked), [1.0, 1.0])
