"""``?rerank=`` on GET /users/{id}/recommendations against a real ``movierec serve``: same re-ranker as Python."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from movierec import beyond as B
from movierec.serving.artifact import load_artifact


@pytest.fixture(scope="module")
def client(server) -> httpx.Client:
    with httpx.Client(base_url=server.url, timeout=10.0) as c:
        yield c


def _ids(resp: httpx.Response) -> list[int]:
    assert resp.status_code == 200, resp.text
    return [r["movieId"] for r in resp.json()["recommendations"]]


def test_rerank_lambda_zero_is_the_plain_list_and_mmr_diversifies(client: httpx.Client, svd_artifact) -> None:
    plain = _ids(client.get("/users/3/recommendations", params={"k": 6}))
    assert _ids(client.get("/users/3/recommendations", params={"k": 6, "rerank": "mmr:0"})) == plain
    art = load_artifact(svd_artifact[0])
    diverse = _ids(client.get("/users/3/recommendations", params={"k": 6, "rerank": "mmr:0.9"}))
    u = art.user_index(3)
    assert diverse == [r["movieId"] for r in art.recommend_index(u, 6, rerank="mmr:0.9")]
    g, _ = B.genre_matrix([art.movie_row(i)["genres"] for i in range(art.n_items)])
    as_idx = [np.array([[art.item_index(m) for m in ids]]) for ids in (plain, diverse)]
    assert diverse != plain and B.ild_genres(as_idx[1], g)[0] > B.ild_genres(as_idx[0], g)[0]
    seen = set(art._seen.indices[art._seen.indptr[u] : art._seen.indptr[u + 1]].tolist())
    assert not seen & {art.item_index(m) for m in diverse}


def test_a_reranked_rating_model_list_keeps_its_predicted_ratings(client: httpx.Client) -> None:
    """``?rerank=`` rows lost ``predictedRating`` (svd's plain list has it, and the page shows it as stars)."""
    plain = client.get("/users/3/recommendations", params={"k": 6}).json()["recommendations"]
    predicted = {r["movieId"]: r["predictedRating"] for r in plain}
    for spec in ("mmr:0", "calibrated:0.5"):
        rows = client.get("/users/3/recommendations", params={"k": 6, "rerank": spec}).json()[
            "recommendations"
        ]
        assert all(0.5 <= r["predictedRating"] <= 5.0 for r in rows), rows  # the scale, clipped
        same = [r for r in rows if r["movieId"] in predicted]
        assert same and all(r["predictedRating"] == predicted[r["movieId"]] for r in same)


@pytest.mark.parametrize("spec", ["shuffle:0.2", "mmr:1.5", "mmr:", "mmr:-1"])
def test_bad_rerank_is_422_naming_the_parameter(client: httpx.Client, spec: str) -> None:
    resp = client.get("/users/3/recommendations", params={"rerank": spec})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["query", "rerank"]
    # said as what it takes: pydantic's message quoted the regular expression
    msg = resp.json()["detail"][0]["msg"]
    assert msg.startswith("expected mmr, calibrated, xquad or pop") and "^(" not in msg, msg
