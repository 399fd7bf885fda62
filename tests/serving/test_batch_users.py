"""``recommend_all_users(art, k, users=…)`` takes raw userIds, as every other entry point does."""

from __future__ import annotations

import pytest

from movierec.errors import ConfigError, UnknownIdError
from movierec.serving.artifact import load_artifact
from movierec.serving.batch import recommend_all_users


def test_users_are_raw_user_ids_not_dense_indices(svd_artifact) -> None:  # type: ignore[no-untyped-def]
    """The lists for ``users`` are those users' lists, the ones ``Artifact.recommend_rows`` serves them, in
    the order asked; an id given as text names the same user; an unknown id is one UnknownIdError.
    ``users=[196]`` on ml-100k used to rank dense index 196, user 197, and label the rows 197."""
    art = load_artifact(svd_artifact[0])
    ids = art.user_map.ids
    asked = [int(ids[9]), int(ids[3])]
    assert asked[0] < len(ids) and int(ids[asked[0]]) != asked[0]  # a mix-up of id and index shows
    got = recommend_all_users(art, 4, users=asked)
    assert got["userId"].tolist() == [asked[0]] * 4 + [asked[1]] * 4
    for user in asked:
        want = [r["movieId"] for r in art.recommend_rows(user, k=4)]
        assert got[got.userId == user].sort_values("rank")["movieId"].tolist() == want
    as_text = recommend_all_users(art, 4, users=[str(u) for u in asked])
    assert as_text.equals(got)
    with pytest.raises(UnknownIdError, match="987654"):
        recommend_all_users(art, 4, users=[asked[0], 987654])
    with pytest.raises(ConfigError, match="a list of user ids"):
        recommend_all_users(art, 4, users=str(asked[0]))  # type: ignore[arg-type]
