"""GET /users/{id}/recommendations?explain=true for a user with no training positive: ml-latest-small's user
442 rated nothing 4 or more, so ease's exported row of them is empty, and the artifact's leave-one-out
indexed it with an empty float array (IndexError: the API answered 500). Now the list comes back, each
row with an empty ``because``, as ``Recommender.recommend(442, explain=True)`` gives."""

from __future__ import annotations

from pathlib import Path

import httpx
from servehelp import mounted_api

import movierec


def test_explain_for_a_user_without_positives_answers_over_http(tmp_path: Path) -> None:
    rec = movierec.Recommender("ml-latest-small", "ease").fit()
    want = rec.recommend(442, k=5, explain=True)
    assert (want["because"] == "").all()
    art = rec.export(tmp_path / "ease")
    with mounted_api({"ease": art}) as base:
        res = httpx.get(f"{base}/ease/users/442/recommendations?k=5&explain=true", timeout=60)
    assert res.status_code == 200, res.text
    rows = res.json()["recommendations"]
    assert [r["movieId"] for r in rows] == list(want["movieId"])
    assert all(r["because"] == [] for r in rows)
