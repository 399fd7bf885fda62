"""A known user with no training positive: ml-latest-small's user 442 rated nothing 4 or more, so ease learned
nothing of them. GET /users/442/recommendations?explain=true answered 500 (the artifact's leave-one-out
indexed an empty float array); after that fix the list was ease's all-zero scores in movie-id order (Toy
Story, Jumanji, Grumpier Old Men) with no word. Now it is popularity's list, as a visitor without a liked
movie gets, with the reason in ``fallback`` over HTTP, a note in the CLI and a UserWarning in Python, and the
three give the same movies."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from servehelp import Server, mounted_api

import movierec
from clihelp import run_process
from movierec.serving.batch import recommend_all_users

MOST_LIKED = [318, 356, 296, 593, 2571]  # ml-latest-small's most ratings >= 4, in order


def test_a_user_the_model_learned_nothing_of_gets_the_visitors_fallback(tmp_path: Path) -> None:
    rec = movierec.Recommender("ml-latest-small", "ease").fit()
    with pytest.warns(UserWarning, match="user 442 has no rating of 4 or more in the training data"):
        want = rec.recommend(442, k=5, explain=True)
    assert list(want["movieId"]) == MOST_LIKED and (want["because"] == "").all()
    art = rec.export(tmp_path / "ease")
    assert [r["movieId"] for r in art.recommend_rows(442, 5)] == MOST_LIKED
    batch = recommend_all_users(art, 5, users=[442, 1])  # the batch path (Spark's too) ranks the same
    assert list(batch[batch["userId"] == 442]["movieId"]) == MOST_LIKED
    assert list(batch[batch["userId"] == 1]["movieId"]) == [r["movieId"] for r in art.recommend_rows(1, 5)]
    assert art.known_fallback(art.user_index(1)) is None  # a user with positives keeps ease's list
    with mounted_api({"ease": art}) as base:
        res = httpx.get(f"{base}/ease/users/442/recommendations?k=5&explain=true", timeout=60)
        other = httpx.get(f"{base}/ease/users/1/recommendations?k=5", timeout=60)
    assert res.status_code == 200, res.text
    body = res.json()
    assert [r["movieId"] for r in body["recommendations"]] == MOST_LIKED
    assert all(r["because"] == [] for r in body["recommendations"])
    assert body["fallback"].startswith("popularity: user 442 has no rating of 4 or more")
    assert other.status_code == 200 and "fallback" not in other.json()
    # the plain request (k and exclude_seen only) is answered by serve's shortcut, not the route: it listed the
    # most-liked movies without the fallback that says why, where the route's answer (any other parameter) had it
    srv = Server(tmp_path / "ease", "none").wait()
    try:
        plain = httpx.get(f"{srv.url}/users/442/recommendations?k=5", timeout=60)
        routed = httpx.get(f"{srv.url}/users/442/recommendations?k=05&exclude_seen=True", timeout=60)
        known = httpx.get(f"{srv.url}/users/1/recommendations?k=5", timeout=60)
    finally:
        srv.stop()
    assert plain.status_code == routed.status_code == 200 and plain.content == routed.content
    assert plain.json()["fallback"] == body["fallback"] and "fallback" not in known.json()

    cli = run_process("recommend", "--user", "442", "-k", "5", "--json", cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr
    assert [r["movieId"] for r in json.loads(cli.stdout)] == MOST_LIKED
    assert "note: popularity: user 442 has no rating of 4 or more" in " ".join(cli.stderr.split())
