"""The shortcut for ``GET /users/{id}/recommendations`` answers exactly what the FastAPI route answers.

The route itself is reached with spellings the shortcut declines on purpose (``k=07``,
``exclude_seen=True``, an empty ``genres``), so the same request goes through both paths.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from movierec.serving.app import FastRecommendations, ServeSettings, create_app
from movierec.serving.artifact import load_artifact


class Local:
    """Requests straight into the ASGI app (httpx's ASGI transport), for looking inside the shortcut."""

    def __init__(self, app) -> None:
        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://local")

    def get(self, url: str, **kw) -> httpx.Response:
        return self.loop.run_until_complete(self.http.get(url, **kw))

    def post(self, url: str, **kw) -> httpx.Response:
        return self.loop.run_until_complete(self.http.post(url, **kw))

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


def _shortcut(app) -> FastRecommendations:
    layer = app.middleware_stack
    while not isinstance(layer, FastRecommendations):
        layer = layer.app
    return layer


@pytest.fixture(scope="module")
def client(server) -> httpx.Client:
    with httpx.Client(base_url=server.url, timeout=10.0) as c:
        yield c


@pytest.fixture(scope="module")
def local(svd_artifact):
    app = create_app(
        load_artifact(svd_artifact[0]), None, ServeSettings(static=False, cors_origins=("http://ui.test",))
    )
    c = Local(app)
    yield c, app
    c.close()


@pytest.mark.parametrize("user", [1, 3, 17, 40])
@pytest.mark.parametrize(
    ("k", "exclude"), [(1, "true"), (7, "false"), (10, "true"), (60, "false"), (500, "true")]
)
def test_shortcut_equals_the_route_on_a_real_server(
    client: httpx.Client, user: int, k: int, exclude: str
) -> None:
    fast = client.get(f"/users/{user}/recommendations?k={k}&exclude_seen={exclude}")
    general = client.get(f"/users/{user}/recommendations?k=0{k}&exclude_seen={exclude.capitalize()}&genres=")
    assert fast.status_code == general.status_code == 200
    assert fast.content == general.content
    assert fast.headers["content-type"] == general.headers["content-type"] == "application/json"
    assert fast.json()["userId"] == user


def test_default_request_and_genre_filters(client: httpx.Client, svd_artifact) -> None:
    art = load_artifact(svd_artifact[0])
    default = client.get("/users/5/recommendations")
    assert default.content == client.get("/users/5/recommendations?k=10").content
    assert default.content == client.get("/users/5/recommendations?exclude_seen=1&k=10").content
    assert default.json()["modelVersion"] == art.model_version
    for genres, exclude in [("Comedy", True), ("Comedy,Drama", False), ("drama", True)]:
        body = client.get(
            f"/users/5/recommendations?k=8&genres={genres}&exclude_seen={str(exclude).lower()}"
        ).json()
        want = art.recommend_rows(5, 8, exclude_seen=exclude, genres=genres.split(","))
        assert [r["movieId"] for r in body["recommendations"]] == [r["movieId"] for r in want]


def test_shortcut_is_used_cached_and_keeps_the_errors(local, svd_artifact) -> None:
    c, app = local
    first = c.get("/users/2/recommendations?k=4")
    cache = _shortcut(app).cached
    before = cache.cache_info()
    assert c.get("/users/2/recommendations?k=4").content == first.content
    assert cache.cache_info().hits == before.hits + 1
    c.get("/users/2/recommendations?k=04")  # declined: the route answers, the cache is not asked
    assert cache.cache_info().hits == before.hits + 1 and cache.cache_info().misses == before.misses
    big = c.get("/users/2/recommendations?k=60")  # answered by the shortcut, not kept (large bodies)
    assert big.status_code == 200 and len(big.json()["recommendations"]) > 4
    assert cache.cache_info().currsize == before.currsize
    missing = c.get("/users/99999/recommendations?k=10")
    assert missing.status_code == 404 and "99999" in missing.json()["detail"]
    for bad in ("0", "501", "abc", "-1"):
        assert c.get(f"/users/2/recommendations?k={bad}").status_code == 422
    assert c.get("/users/" + "9" * 129 + "/recommendations").status_code == 422
    assert c.post("/users/2/recommendations").status_code == 405
    cors = c.get("/users/2/recommendations?k=4", headers={"Origin": "http://ui.test"})
    assert cors.headers["access-control-allow-origin"] == "http://ui.test" and cors.content == first.content


def test_cache_can_be_turned_off(svd_artifact) -> None:
    art = load_artifact(svd_artifact[0])
    app = create_app(art, None, ServeSettings(static=False, rec_cache_size=0))
    c = Local(app)
    body = c.get("/users/3/recommendations?k=6").json()
    c.close()
    assert _shortcut(app).cached is None
    assert [r["movieId"] for r in body["recommendations"]] == [r["movieId"] for r in art.recommend_rows(3, 6)]


@pytest.mark.parametrize(
    ("qs", "want"),
    [
        (b"", (10, True)),
        (b"k=10", (10, True)),
        (b"k=500&exclude_seen=false", (500, False)),
        (b"exclude_seen=true&k=3", (3, True)),
        (b"k=501", None),
        (b"k=0", None),
        (b"k=010", None),
        (b"k=1&k=2", None),
        (b"exclude_seen=1", None),
        (b"genres=Comedy", None),
        (b"k=%31", None),
        (b"k", None),
        (b"k=10&", None),
        (b"other=1", None),
    ],
)
def test_parse_query(qs: bytes, want) -> None:
    assert FastRecommendations.parse_query(qs) == want
