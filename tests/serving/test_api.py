"""The HTTP API against a real ``movierec serve`` (uvicorn) on 127.0.0.1: every endpoint and error case."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
from servehelp import API_KEY, movierec_cmd

from movierec.serving.artifact import load_artifact

REC_KEYS = {"userId", "model", "modelVersion", "recommendations", "ratingsCounted", "likedFrom", "sequential"}
ITEM_KEYS = {"movieId", "title", "year", "genres", "score", "ratings", "predictedRating"}


@pytest.fixture(scope="module")
def client(server) -> httpx.Client:
    with httpx.Client(base_url=server.url, timeout=10.0) as c:
        yield c


def _check_recs(body: dict, version: str, model: str = "svd") -> list[dict]:
    assert (
        set(body) - {"similarBy"} == REC_KEYS and body["model"] == model and body["modelVersion"] == version
    )
    for r in body["recommendations"]:
        assert ITEM_KEYS - {"predictedRating"} <= set(r) <= ITEM_KEYS and isinstance(r["genres"], list)
    scores = [r["score"] for r in body["recommendations"]]
    assert scores == sorted(scores, reverse=True)
    return body["recommendations"]


def test_health_and_docs(client: httpx.Client, svd_artifact) -> None:
    art = load_artifact(svd_artifact[0])
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["model"] == "svd" and h["modelVersion"] == art.model_version
    assert (
        h["dataset"] == "tiny-movies"
        and h["nItems"] == 60
        and h["createdAt"] == art.created_at
        and h["feedback"]
    )
    assert h["likedFrom"] is None  # svd learned from every rating: a movie's `ratings` counts them all
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/health",
        "/movies",
        "/movies/{movieId}",
        "/movies/{movieId}/similar",
        "/users/{userId}/recommendations",
        "/recommendations",
        "/feedback",
    } <= set(paths)


def test_user_recommendations_match_the_artifact(client: httpx.Client, svd_artifact) -> None:
    art = load_artifact(svd_artifact[0])
    body = client.get("/users/3/recommendations", params={"k": 7}).json()
    recs = _check_recs(body, art.model_version)
    assert body["userId"] == 3 and len(recs) == 7
    assert [r["movieId"] for r in recs] == [r["movieId"] for r in art.recommend_rows(3, 7)]
    assert [r["score"] for r in recs] == pytest.approx([r["score"] for r in art.recommend_rows(3, 7)])
    # scores read as the float32 they are, not its float64 expansion (4.954176, not 4.95417594909668)
    for r in recs:
        for key in ("score", "predictedRating"):
            assert r[key] == float(str(np.float32(r[key]))) and len(repr(r[key])) <= 12, r
    seen_too = client.get("/users/3/recommendations?k=60&exclude_seen=false").json()["recommendations"]
    assert (
        len(seen_too) == 60
        and len(client.get("/users/3/recommendations?k=60").json()["recommendations"]) < 60
    )
    comedy = client.get("/users/3/recommendations?genres=Comedy,Drama").json()["recommendations"]
    assert comedy and all({"Comedy", "Drama"} & set(r["genres"]) for r in comedy)


def test_movies_search_one_and_similar(client: httpx.Client, svd_artifact) -> None:
    version = load_artifact(svd_artifact[0]).model_version
    found = client.get("/movies", params={"search": "AMELIE", "limit": 5}).json()
    assert [m["movieId"] for m in found["movies"]] == [1] and found["query"] == "AMELIE"
    # ?q=, the name most search APIs use, was ignored (the most-rated movies came back)
    assert client.get("/movies", params={"q": "AMELIE", "limit": 5}).json() == found
    assert len(client.get("/movies?limit=3").json()["movies"]) == 3
    movie = client.get("/movies/21").json()
    assert (
        movie["title"] == "Toy Story (1995)" and movie["movieId"] == 21 and isinstance(movie["ratings"], int)
    )
    sim = client.get("/movies/21/similar?k=5").json()
    recs = _check_recs(sim, version, model="lift")  # listed by lift, whatever the model
    assert len(recs) == 5 and 21 not in [r["movieId"] for r in recs] and sim["userId"] is None


def test_similar_lists_by_lift_unless_the_model_is_asked_for(client: httpx.Client, svd_artifact) -> None:
    """GET /movies/{id}/similar lists by lift by default: the movies liked together with it more often than
    chance says, counted here pair by pair from the training ratings ≥ 4 (n·c_ij/(c_i·c_j), shrunk by
    c_ij/(c_ij + 5) and by the users who liked both, n/(n + 20), floored on ratings ≥ 4), whatever the
    model (svd trained on every rating); ?by=model gives svd's own cosine list; another value is a 422."""
    import numpy as np

    path, _model, train = svd_artifact
    art = load_artifact(path)
    assert client.get("/health").json()["similarBy"] == "lift"
    sim = client.get("/movies/21/similar?k=5").json()
    assert sim["similarBy"] == "lift"
    # the neighbours are lift's, not svd's: the answer names lift as what ranked them (it said "model": "svd")
    got = [r["movieId"] for r in _check_recs(sim, art.model_version, model="lift")]
    seen = train.csr().toarray()
    liked = seen >= 4.0
    i = train.item_map.index(21)
    c = liked.sum(axis=0).astype(float)
    both = (liked & liked[:, [i]]).sum(axis=0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(both > 0, len(seen) * both / (c[i] * c) * both / (both + 5.0), 0.0)
    score = np.where(both > 0, lift * both / (both + 20.0), -np.inf)
    score[i] = -np.inf
    score[c < art.min_support] = -np.inf
    want = [
        int(train.item_map.to_raw(j)) for j in np.argsort(-score, kind="stable")[:5] if np.isfinite(score[j])
    ]
    assert got == want
    by_model = client.get("/movies/21/similar?k=5&by=model").json()
    assert by_model["similarBy"] == "model" and by_model["model"] == "svd"
    schema = client.get("/openapi.json").json()["components"]["schemas"]["RecommendationsResponse"]
    assert "'lift'" in schema["properties"]["model"]["description"]  # the schema says what `model` names
    assert [r["movieId"] for r in by_model["recommendations"]] == [
        r["movieId"] for r in art.similar_rows(21, 5, by="model")
    ]
    bad = client.get("/movies/21/similar?by=cosine")
    assert bad.status_code == 422 and "by" in bad.text


def test_by_lift_on_an_artifact_without_the_lift_table_is_a_422_naming_by(
    svd_artifact, tmp_path: Path
) -> None:
    """An artifact exported before the lift table (its arrays removed, resealed) served for real: its
    /similar lists by the model, and ?by=lift is a 422 whose loc names the parameter (["query", "by"], as
    every other 422) and whose message tells the client what to ask, without the server's folder."""
    import shutil

    import numpy as np
    from servehelp import Server
    from test_validate import reseal

    root = tmp_path / "old"
    shutil.copytree(svd_artifact[0], root)
    with np.load(root / "seen.npz", allow_pickle=False) as z:
        kept = {k: z[k].copy() for k in z.files if not k.startswith("similar_")}
    np.savez(root / "seen.npz", **kept)
    reseal(root)
    srv = Server(root, "none").wait()
    try:
        with httpx.Client(base_url=srv.url, timeout=10.0) as old:
            assert old.get("/health").json()["similarBy"] == "model"
            listed = old.get("/movies/21/similar?k=3").json()
            assert listed["similarBy"] == "model" and len(listed["recommendations"]) == 3
            bad = old.get("/movies/21/similar?k=3&by=lift")
            assert bad.status_code == 422
            (item,) = bad.json()["detail"]
            assert item["loc"] == ["query", "by"] and item["input"] == "lift"
            assert "by=model" in item["msg"] and str(tmp_path) not in item["msg"]
    finally:
        srv.stop()


def test_visitor_fold_in(client: httpx.Client, svd_artifact) -> None:
    art = load_artifact(svd_artifact[0])
    payload = {
        "ratings": [
            {"movieId": 21, "rating": 5.0},
            {"movieId": 31, "rating": 4},
            {"movieId": 1, "rating": 1.5},
        ],
        "k": 5,
        "userId": "web-abc",
    }
    body = client.post("/recommendations", json=payload).json()
    recs = _check_recs(body, art.model_version)
    assert body["userId"] == "web-abc" and len(recs) == 5 and not {21, 31, 1} & {r["movieId"] for r in recs}
    want = art.visitor([(21, 5.0), (31, 4.0), (1, 1.5)], 5)["recommendations"]
    assert [r["movieId"] for r in recs] == [r["movieId"] for r in want]


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("/users/99999/recommendations", "unknown user id '99999'"),
        ("/movies/424242", "unknown movie id '424242'"),
        ("/movies/424242/similar", "unknown movie id"),
        ("/users/abc/recommendations", "unknown user id 'abc'"),
    ],
)
def test_unknown_ids_are_404_with_a_message(client: httpx.Client, path: str, needle: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 404 and needle in resp.json()["detail"]


def test_an_unknown_users_404_says_what_the_cli_says_in_the_apis_words(
    client: httpx.Client, svd_artifact
) -> None:
    """The 404 said only "unknown user id '99999'" where the CLI and Recommender name the ids there are and
    the way to serve someone new; the API's way is POST /recommendations, and the body keeps its schema."""
    from movierec.titles import known_users

    art = load_artifact(svd_artifact[0])
    resp = client.get("/users/99999/recommendations")
    assert resp.status_code == 404 and set(resp.json()) == {"detail"}
    assert resp.json()["detail"] == (
        f"unknown user id '99999' in {art.dataset_name} ({known_users(art.user_map.ids)}); for someone not in "
        "the data, POST /recommendations with their ratings"
    )


def test_an_unknown_movies_404_says_which_ids_there_are_in_the_apis_words(
    client: httpx.Client, svd_artifact
) -> None:
    """The 404 of a movieId the artifact has no ratings of said only "unknown movie id '424242'" (GET
    /movies/{movieId}, its similar movies, a visitor's rating, a feedback), as did the 422 of a deny-list's id,
    where the unknown user's names the ids there are. Each now says them and the route that finds a movie's id,
    in ErrorMessage's shape (the 422 in its list's msg); Python's words stay IdMap's (test_artifact)."""
    from movierec.errors import UnknownIdError
    from movierec.titles import known_users

    art = load_artifact(svd_artifact[0])
    said = (
        f"in {art.dataset_name} ({known_users(art.item_map.ids, 'movies')}); GET /movies?q=TITLE finds a "
        "movie's movieId"
    )
    for path in ("/movies/424242", "/movies/424242/similar"):
        resp = client.get(path)
        assert resp.status_code == 404 and resp.json() == {"detail": f"unknown movie id '424242' {said}"}, (
            path
        )
    posts = [
        ("/recommendations", {"ratings": [{"movieId": 424242, "rating": 4}]}),
        ("/feedback", {"userId": "3", "movieId": 424242, "rating": 4, "requestId": "unknown-movie-1"}),
    ]
    for path, body in posts:
        resp = client.post(path, json=body, headers={"X-API-Key": API_KEY})
        assert resp.status_code == 404 and resp.json() == {"detail": f"unknown movie id 424242 {said}"}, (
            resp.text
        )
    resp = client.post(
        "/recommendations", json={"ratings": [{"movieId": 21, "rating": 4}], "exclude": [424242]}
    )
    (item,) = resp.json()["detail"]
    assert resp.status_code == 422 and item["loc"] == ["body", "exclude", 0], resp.text
    assert item["msg"] == f"unknown movie id 424242 {said}", item
    with pytest.raises(UnknownIdError, match=r"^unknown movie id 424242$"):  # Python's, as it was
        art.item_index(424242)


@pytest.mark.parametrize("k", ["0", "501", "-3", "ten", "2.5"])
def test_k_outside_1_to_500_is_422(client: httpx.Client, k: str) -> None:
    for path in ("/users/3/recommendations", "/movies/21/similar"):
        resp = client.get(path, params={"k": k})
        assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["query", "k"]
    resp = client.post(
        "/recommendations",
        content=f'{{"ratings":[{{"movieId":21,"rating":4}}],"k":{json.dumps(k)}}}',
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][:2] == ["body", "k"]


def test_unknown_genre_is_422(client: httpx.Client) -> None:
    resp = client.get("/users/3/recommendations?genres=Western")
    assert resp.status_code == 422 and "unknown genre 'Western'" in resp.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ("{bad json", ["body", 1]),
        ('{"ratings": []}', ["body", "ratings"]),
        ('{"k": 5}', ["body", "ratings"]),
        ('{"ratings": [{"movieId": 21, "rating": 7.0}]}', ["body", "ratings", 0, "rating"]),
        ('{"ratings": [{"movieId": 21, "rating": 0.1}]}', ["body", "ratings", 0, "rating"]),
        ('{"ratings": [{"movieId": 21, "rating": "five"}]}', ["body", "ratings", 0, "rating"]),
        ('{"ratings": [{"movieId": [1], "rating": 4}]}', ["body", "ratings", 0, "movieId"]),
        ('{"ratings": "lots"}', ["body", "ratings"]),
        ('{"ratings": [{"movieId": 21, "rating": 4}], "extra": 1}', ["body", "extra"]),
    ],
)
def test_bad_visitor_bodies_are_422_naming_the_field(client: httpx.Client, body: str, loc: list) -> None:
    resp = client.post("/recommendations", content=body, headers={"content-type": "application/json"})
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert any(d["loc"][: len(loc)] == loc for d in detail), detail


def test_unknown_movie_in_visitor_ratings_is_404(client: httpx.Client) -> None:
    resp = client.post("/recommendations", json={"ratings": [{"movieId": 31337, "rating": 4.0}]})
    assert resp.status_code == 404 and "unknown movie id 31337" in resp.json()["detail"]


def test_oversized_body_is_413(client: httpx.Client) -> None:
    ratings = [{"movieId": 21, "rating": 4.0}] * 5000  # ~150 KB > 64 KiB
    resp = client.post("/recommendations", json={"ratings": ratings})
    assert resp.status_code == 413 and "larger than 65536 bytes" in resp.json()["detail"]

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(100):
            yield b" " * 1024

    resp = client.post("/recommendations", content=chunks(), headers={"content-type": "application/json"})
    assert resp.status_code == 413


def _fb(request_id: str | None = None, **over) -> dict:
    return {
        "userId": "web-1",
        "movieId": 21,
        "rating": 4.5,
        "requestId": request_id or uuid.uuid4().hex,
        **over,
    }


def test_feedback_needs_the_api_key_and_is_idempotent(client: httpx.Client, server) -> None:
    body = _fb()
    assert client.post("/feedback", json=body).status_code == 401
    assert client.post("/feedback", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
    first = client.post("/feedback", json=body, headers={"X-API-Key": API_KEY})
    assert first.status_code == 201 and first.json()["created"] is True
    again = client.post("/feedback", json=body, headers={"Authorization": f"Bearer {API_KEY}"})
    assert again.status_code == 200 and again.json() == {**first.json(), "created": False}
    clash = client.post("/feedback", json={**body, "rating": 1.0}, headers={"X-API-Key": API_KEY})
    assert clash.status_code == 409 and "already used" in clash.json()["detail"]
    with sqlite3.connect(server.db) as conn:
        rows = conn.execute(
            "SELECT user_id, movie_id, rating FROM feedback WHERE request_id = ?", (body["requestId"],)
        ).fetchall()
    assert rows == [("web-1", "21", 4.5)]


@pytest.mark.parametrize(
    ("over", "loc", "status"),
    [
        ({"rating": 6.0}, ["body", "rating"], 422),
        ({"rating": "x"}, ["body", "rating"], 422),
        ({"requestId": ""}, ["body", "requestId"], 422),
        ({"requestId": "has space"}, ["body", "requestId"], 422),
        ({"movieId": 31337}, None, 404),
    ],
)
def test_bad_feedback(client: httpx.Client, over: dict, loc: list | None, status: int) -> None:
    resp = client.post("/feedback", json=_fb(**over), headers={"X-API-Key": API_KEY})
    assert resp.status_code == status, resp.text
    if loc:
        assert any(d["loc"] == loc for d in resp.json()["detail"])
    if over.get("requestId") == "has space":  # what it takes, not pydantic's regular expression
        (msg,) = [d["msg"] for d in resp.json()["detail"] if d["loc"] == loc]
        assert msg == "use only letters, digits and . _ : - (1 to 128 characters)", msg


def test_a_rating_between_two_steps_is_refused_with_the_steps(client: httpx.Client, server) -> None:
    """The fixture's ratings are half stars (0.5..5): 4.25 is no rating the data holds nor one a retrain could
    learn from, and POST /feedback stored it. It is a 422 on ``rating`` naming the levels; 4.5 is stored."""
    assert client.get("/health").json()["ratingStep"] == 0.5
    key = {"X-API-Key": API_KEY}
    for off in (4.25, 0.7, 4.999):
        body = _fb(rating=off)
        resp = client.post("/feedback", json=body, headers=key)
        assert resp.status_code == 422, resp.text
        (item,) = resp.json()["detail"]
        assert item["loc"] == ["body", "rating"] and item["input"] == off
        assert item["msg"] == "rating must be one of 0.5, 1, 1.5, …, 5 (steps of 0.5)", item["msg"]
        with sqlite3.connect(server.db) as conn:
            rows = conn.execute(
                "SELECT 1 FROM feedback WHERE request_id = ?", (body["requestId"],)
            ).fetchall()
        assert rows == []  # nothing stored
    for on in (0.5, 3.0, 4.5, 5):
        assert client.post("/feedback", json=_fb(rating=on), headers=key).status_code == 201


def test_cors_off_and_page_served(client: httpx.Client) -> None:
    resp = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in resp.headers
    pre = client.options(
        "/recommendations",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in pre.headers
    page = client.get("/")
    assert page.status_code == 200 and "<title>movierec</title>" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/app.js").status_code == 200


def test_server_binds_loopback_by_default(server) -> None:
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{server.port}"], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        pytest.skip("ss is not available")
    local = [line.split()[3] for line in out.stdout.splitlines() if line.strip()]
    assert local == [f"127.0.0.1:{server.port}"]


@pytest.mark.slow
def test_refuses_to_start_on_a_tampered_or_missing_artifact(svd_artifact, tmp_path: Path) -> None:
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(svd_artifact[0], bad)
    data = bytearray((bad / "factors.npz").read_bytes())
    data[100] ^= 0xFF
    (bad / "factors.npz").write_bytes(bytes(data))
    for folder, needle in (
        (bad, "factors.npz: sha256 mismatch"),
        (tmp_path / "none", "no such artifact folder"),
    ):
        res = subprocess.run(
            movierec_cmd("serve", "--artifact", str(folder), "--port", "1", "--db", "none"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == 2
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("movierec: error:") and needle in lines[0], res.stderr


@pytest.mark.slow
def test_two_workers_share_the_artifact_and_lose_no_feedback(svd_artifact, tmp_path: Path) -> None:
    import threading

    from servehelp import Server

    db = tmp_path / "fb.db"
    srv = Server(svd_artifact[0], db, "--workers", "2").wait()
    statuses: list[int] = []

    def post(worker: int) -> None:
        with httpx.Client(base_url=srv.url, timeout=30.0) as c:
            for j in range(15):
                body = _fb(f"w{worker}-{j}", userId=f"u{worker}")
                statuses.append(c.post("/feedback", json=body).status_code)
                statuses.append(c.post("/feedback", json=body).status_code)  # a retry
                assert c.get(f"/users/{1 + j}/recommendations?k=3").status_code == 200

    try:
        threads = [threading.Thread(target=post, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        srv.stop()
    assert sorted(set(statuses)) == [200, 201] and statuses.count(201) == 60
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT request_id) FROM feedback").fetchone() == (
            60,
            60,
        )


def test_a_body_sent_without_the_json_content_type_says_which_header(client: httpx.Client) -> None:
    """``curl -d '{…}'`` without ``-H 'content-type: application/json'`` sends a form: the 422 said "Input should
    be a valid dictionary or object to extract fields from" above the very JSON that was meant. It now names the
    header to send (the same bytes with it are a 200), and an empty POST says that the body is empty."""
    body = json.dumps({"ratings": [{"movieId": 21, "rating": 5}], "k": 3}).encode()
    for ctype, named in (("application/x-www-form-urlencoded", "Content-Type application/x-www-form-urlencoded"),
                         ("text/plain", "Content-Type text/plain"), (None, "no Content-Type")):  # fmt: skip
        headers = {"content-type": ctype} if ctype else {}
        resp = client.post("/recommendations", content=body, headers=headers)
        assert resp.status_code == 422
        (item,) = resp.json()["detail"]
        assert item["type"] == "model_attributes_type" and item["loc"] == ["body"], (
            item
        )  # FastAPI's, as declared
        assert item["msg"].startswith(f"the body was sent with {named}, so it was not read as JSON; "), item
        assert "Content-Type: application/json" in item["msg"] and item["input"] == body.decode()
    resp = client.post("/recommendations", content=body, headers={"content-type": "application/json"})
    assert resp.status_code == 200 and len(resp.json()["recommendations"]) == 3
    resp = client.post("/recommendations")
    assert resp.status_code == 422
    assert resp.json()["detail"] == [
        {"type": "missing", "loc": ["body"], "input": None,
         "msg": "the body is empty; send a JSON object with the header Content-Type: application/json"}
    ]  # fmt: skip
    # a JSON body of the wrong shape keeps FastAPI's words: it was read as JSON
    resp = client.post("/recommendations", json=[1, 2])
    assert resp.status_code == 422 and resp.json()["detail"][0]["msg"].startswith(
        "Input should be a valid dict"
    )
