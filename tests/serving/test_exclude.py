"""A deny-list when recommending (implicit's ``filter_items``: movies a list must never show): ``exclude=`` on
the artifact's lists, ``?exclude=1,2,3`` on GET /users/{id}/recommendations and ``exclude`` in POST
/recommendations against a real ``movierec serve``; an id the model does not know is a 422 at its entry."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from movierec.errors import UnknownIdError
from movierec.serving.artifact import load_artifact


@pytest.fixture(scope="module")
def client(server) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server.url, timeout=10.0) as c:
        yield c


def _ids(resp: httpx.Response) -> list[int]:
    assert resp.status_code == 200, resp.text
    return [r["movieId"] for r in resp.json()["recommendations"]]


def test_the_artifact_leaves_denied_movies_out_and_fills_from_the_next(svd_artifact) -> None:  # type: ignore[no-untyped-def]
    art = load_artifact(svd_artifact[0])
    u = art.user_index(3)
    plain = [r["movieId"] for r in art.recommend_index(u, 8)]
    denied = [plain[0], plain[3]]
    listed = [r["movieId"] for r in art.recommend_index(u, 6, exclude=denied)]
    assert listed == [m for m in plain if m not in denied][:6]
    # a visitor's list, and one movie alone
    ratings = [(plain[5], 5.0), (plain[6], 4.0)]
    visitor = [r["movieId"] for r in art.visitor(ratings, 6)["recommendations"]]
    kept = [r["movieId"] for r in art.visitor(ratings, 5, exclude=visitor[0])["recommendations"]]
    assert kept == visitor[1:6]
    with pytest.raises(UnknownIdError):
        art.recommend_index(u, 5, exclude=[plain[0], 987654])


def test_get_exclude_query_parameter(client: httpx.Client) -> None:
    plain = _ids(client.get("/users/3/recommendations", params={"k": 8}))
    denied = [plain[1], plain[2]]
    listed = _ids(
        client.get("/users/3/recommendations", params={"k": 6, "exclude": f"{denied[0]}, {denied[1]}"})
    )
    assert listed == [m for m in plain if m not in denied][:6]
    # with a re-ranker too: the denied movies never come back
    reranked = _ids(
        client.get(
            "/users/3/recommendations",
            params={"k": 6, "rerank": "mmr:0.5", "exclude": ",".join(map(str, plain[:4]))},
        )
    )
    assert reranked and not set(reranked) & set(plain[:4])
    assert _ids(client.get("/users/3/recommendations", params={"k": 8, "exclude": ""})) == plain


def test_post_exclude_field(client: httpx.Client) -> None:
    plain = _ids(client.get("/users/3/recommendations", params={"k": 8}))
    body = {"ratings": [{"movieId": plain[5], "rating": 5.0}, {"movieId": plain[6], "rating": 4.0}], "k": 8}
    visitor = _ids(client.post("/recommendations", json=body))
    kept = _ids(client.post("/recommendations", json={**body, "k": 5, "exclude": [visitor[0], visitor[2]]}))
    assert kept == [m for m in visitor if m not in (visitor[0], visitor[2])][:5]


def test_an_unknown_id_in_the_deny_list_is_a_422_at_its_entry(client: httpx.Client) -> None:
    plain = _ids(client.get("/users/3/recommendations", params={"k": 3}))
    resp = client.get("/users/3/recommendations", params={"exclude": f"{plain[0]},987654"})
    assert resp.status_code == 422, resp.text
    (err,) = resp.json()["detail"]  # FastAPI's validation body, as the OpenAPI schema declares
    assert err["loc"] == ["query", "exclude", 1] and "987654" in err["msg"] and err["input"] == "987654"
    body = {"ratings": [{"movieId": plain[0], "rating": 5.0}], "exclude": [plain[1], 987654]}
    resp = client.post("/recommendations", json=body)
    assert resp.status_code == 422, resp.text
    (err,) = resp.json()["detail"]
    assert err["loc"] == ["body", "exclude", 1] and "987654" in err["msg"]
    schema = client.get("/openapi.json").json()
    params = schema["paths"]["/users/{userId}/recommendations"]["get"]["parameters"]
    assert any(p["name"] == "exclude" for p in params)
    assert "exclude" in schema["components"]["schemas"]["RecommendRequest"]["properties"]
