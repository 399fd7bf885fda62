"""Hostile requests against a real ``movierec serve`` on 127.0.0.1 (issue 23): non-finite numbers in JSON,
look-alike ids, undecodable bodies. Every 4xx must have the body the service's own OpenAPI declares."""

from __future__ import annotations

import sqlite3
import urllib.parse
import uuid
from typing import Any

import httpx
import pytest
from servehelp import API_KEY

from movierec.cli import main

NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"]

# (endpoint, a valid body with one placeholder per field path) — every field of every JSON endpoint
VISITOR = '{"ratings":[{"movieId":%(ratings.0.movieId)s,"rating":%(ratings.0.rating)s}],"history":[%(history.0)s],"features":%(features)s,"k":%(k)s,"genres":[%(genres.0)s],"userId":%(userId)s,"explain":%(explain)s,"exclude":[%(exclude.0)s]}'
FEEDBACK = '{"userId":%(userId)s,"movieId":%(movieId)s,"rating":%(rating)s,"requestId":%(requestId)s}'
VALID = {
    "/recommendations": (
        VISITOR,
        {
            "ratings.0.movieId": "21",
            "ratings.0.rating": "4.5",
            "history.0": "31",
            "features": "null",
            "k": "5",
            "genres.0": '"Comedy"',
            "userId": '"web-1"',
            "explain": "false",
            "exclude.0": "21",
        },
    ),
    "/feedback": (FEEDBACK, {"userId": "7", "movieId": "21", "rating": "4.0", "requestId": '"r-%s"'}),
}
LOOKALIKES = ["\u0661", "\uff11", "1_0", "+1", " 1 ", "0001", "1\n", "-0"]


@pytest.fixture(scope="module")
def client(server) -> httpx.Client:
    with httpx.Client(base_url=server.url, timeout=10.0, headers={"X-API-Key": API_KEY}) as c:
        yield c


@pytest.fixture(scope="module")
def error_schema(client: httpx.Client) -> dict[str, Any]:
    return client.get("/openapi.json").json()["components"]["schemas"]


def _body(path: str, field: str | None = None, token: str | None = None) -> str:
    template, values = VALID[path]
    filled = {k: (token if k == field else v) for k, v in values.items()}
    if "requestId" in filled and filled["requestId"].startswith('"r-'):
        filled["requestId"] = f'"r-{uuid.uuid4().hex}"'
    return template % filled


def assert_422_shape(resp: httpx.Response, schemas: dict[str, Any]) -> list[dict]:
    """A 422 whose body is the OpenAPI's HTTPValidationError: detail is a list of {loc, msg, type}."""
    assert resp.status_code == 422, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], list) and body["detail"], body
    required = set(schemas["ValidationError"]["required"])
    for item in body["detail"]:
        assert required <= set(item), item
        assert isinstance(item["msg"], str) and isinstance(item["type"], str)
        assert all(isinstance(p, (str, int)) for p in item["loc"]), item
    return body["detail"]


def test_every_field_of_every_json_endpoint_is_covered(client: httpx.Client) -> None:
    """A new request field must join VALID above, so the non-finite family reaches it too."""
    spec = client.get("/openapi.json").json()
    for path, op in ((p, o["post"]) for p, o in spec["paths"].items() if "post" in o):
        if "requestBody" not in op:
            continue
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        fields = set(spec["components"]["schemas"][ref]["properties"])
        covered = {f.split(".")[0] for f in VALID.get(path, ("", {}))[1]}
        assert fields <= covered, (path, fields - covered)


def test_non_finite_numbers_nested_in_features_are_422(client: httpx.Client, error_schema: dict) -> None:
    for token in NON_FINITE:
        body = '{"ratings":[{"movieId":21,"rating":4.5}],"features":{"age":' + token + "}}"
        detail = assert_422_shape(client.post("/recommendations", content=body, headers=_ct()), error_schema)
        assert detail[0]["loc"][:2] == ["body", "features"], detail


def test_valid_bodies_pass(client: httpx.Client) -> None:
    assert (
        client.post("/recommendations", content=_body("/recommendations"), headers=_ct()).status_code == 200
    )
    assert client.post("/feedback", content=_body("/feedback"), headers=_ct()).status_code == 201


def _ct() -> dict[str, str]:
    return {"content-type": "application/json"}


@pytest.mark.parametrize("path", sorted(VALID))
def test_non_finite_numbers_in_every_field_are_422_not_500(
    client: httpx.Client, error_schema: dict, path: str
) -> None:
    """NaN, ±Infinity and 1e400 (Python's json reads them) in each field: 422 with a JSON body, never 500."""
    fields = VALID[path][1]
    n = 0
    for field in fields:
        for token in NON_FINITE:
            resp = client.post(path, content=_body(path, field, token), headers=_ct())
            detail = assert_422_shape(resp, error_schema)
            want = ["body", *[int(p) if p.isdigit() else p for p in field.split(".")]]
            assert any(d["loc"][: len(want)] == want for d in detail), (field, token, detail)
            n += 1
    assert n == len(fields) * len(NON_FINITE)
    assert client.get("/health").status_code == 200  # the server is still answering


@pytest.mark.parametrize(
    "content, reason",
    [
        (b'{"ratings":[{"movieId":21,"rating":4.5}],"userId":"\xff\xfe"}', "not UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b'{"ratings":[{"movieId":' + b"9" * 5000 + b',"rating":4}]}', "too many digits"),
        (b'{"ratings":[{"movieId":21,"rating":4.5}', "JSON decode error"),
    ],
)
def test_undecodable_bodies_are_documented_422(
    client: httpx.Client, error_schema: dict, content: bytes, reason: str
) -> None:
    for path in VALID:
        detail = assert_422_shape(client.post(path, content=content, headers=_ct()), error_schema)
        assert detail[0]["type"] == "json_invalid" and detail[0]["loc"][0] == "body"
        assert reason in detail[0]["msg"], detail


def test_unknown_genre_detail_is_a_list(client: httpx.Client, error_schema: dict) -> None:
    detail = assert_422_shape(client.get("/users/3/recommendations?genres=Western"), error_schema)
    assert detail[0]["loc"] == ["query", "genres"] and "unknown genre 'Western'" in detail[0]["msg"]
    body = '{"ratings":[{"movieId":21,"rating":4.5}],"genres":["Western"]}'
    detail = assert_422_shape(client.post("/recommendations", content=body, headers=_ct()), error_schema)
    assert detail[0]["loc"] == ["body", "genres"]


def test_a_movie_rated_twice_is_a_documented_422_naming_it(client: httpx.Client, error_schema: dict) -> None:
    """One visitor request rating a movie twice kept the last rating silently; it is a 422 at the second entry,
    naming the movie, whichever spelling of its id (the CLI's --rated refuses it the same way). The body is
    validated against the service's own OpenAPI (HTTPValidationError), not only its keys."""
    import jsonschema

    spec = client.get("/openapi.json").json()
    # the '#/components/…' references resolve inside this document, which carries the components
    schema = {**spec["components"]["schemas"]["HTTPValidationError"], "components": spec["components"]}
    for second in (21, "21"):
        ratings = [
            {"movieId": 21, "rating": 5.0},
            {"movieId": 31, "rating": 4},
            {"movieId": second, "rating": 1},
        ]
        for extra in ({}, {"history": [41]}, {"explain": True}):
            resp = client.post("/recommendations", json={"ratings": ratings, **extra})
            (item,) = assert_422_shape(resp, error_schema)
            jsonschema.validate(resp.json(), schema)
            assert item["loc"] == ["body", "ratings", 2, "movieId"] and item["input"] == second, item
            assert item["msg"] == "Toy Story (1995) is given twice (ratings 0 and 2); give each movie once"
    assert client.post("/recommendations", json={"ratings": ratings[:2]}).status_code == 200  # distinct: fine
    resp = client.post("/recommendations", json={"ratings": [*ratings[:2], {"movieId": 424242, "rating": 3}]})
    assert resp.status_code == 404  # an unknown movie is still what it was


def test_declared_statuses(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"201", "401", "404", "409", "413", "422", "503"} <= set(paths["/feedback"]["post"]["responses"])
    assert {"404", "413", "422"} <= set(paths["/recommendations"]["post"]["responses"])
    for p in ("/movies/{movieId}", "/movies/{movieId}/similar", "/users/{userId}/recommendations"):
        assert "404" in paths[p]["get"]["responses"], p
    err = paths["/feedback"]["post"]["responses"]["409"]["content"]["application/json"]["schema"]
    assert err == {"$ref": "#/components/schemas/ErrorMessage"}


@pytest.mark.parametrize("spelling", LOOKALIKES)
def test_lookalike_ids_name_nothing_in_the_api(client: httpx.Client, spelling: str) -> None:
    """User 1 and movie 1 exist; their look-alike spellings must not reach them."""
    assert client.get("/users/1/recommendations").status_code == 200
    assert client.get("/movies/1/similar").status_code == 200
    q = urllib.parse.quote(spelling, safe="")
    for url in (
        f"/users/{q}/recommendations",
        f"/users/{q}/recommendations?k=3&genres=Comedy",
        f"/movies/{q}",
        f"/movies/{q}/similar",
    ):
        resp = client.get(url)
        assert resp.status_code == 404 and isinstance(resp.json()["detail"], str), (url, resp.text)
    visitor = {"ratings": [{"movieId": spelling, "rating": 4.5}]}
    assert client.post("/recommendations", json=visitor).status_code == 404
    assert client.post("/recommendations", json={"history": [spelling]}).status_code == 404
    fb = {"userId": 7, "movieId": spelling, "rating": 4.0, "requestId": uuid.uuid4().hex}
    assert client.post("/feedback", json=fb).status_code == 404
    resp = client.post("/feedback", json={**fb, "movieId": 21, "userId": spelling})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "userId"], resp.text


def test_feedback_stores_canonical_ids(client: httpx.Client, server) -> None:
    """An int or its canonical string is stored as the dataset spells it; web visitors keep their text id."""
    rows = {}
    for user, movie in ((7, "21"), ("7", 21), ("web-3f2a", 31)):
        rid = uuid.uuid4().hex
        resp = client.post(
            "/feedback", json={"userId": user, "movieId": movie, "rating": 4.0, "requestId": rid}
        )
        assert resp.status_code == 201, resp.text
        rows[rid] = (str(user), str(movie))
    with sqlite3.connect(server.db) as conn:
        stored = dict(
            (r[0], (r[1], r[2]))
            for r in conn.execute("select request_id, user_id, movie_id from feedback").fetchall()
        )
    assert [stored[r] for r in rows] == [("7", "21"), ("7", "21"), ("web-3f2a", "31")]


@pytest.mark.parametrize("spelling", LOOKALIKES)
def test_lookalike_ids_in_the_cli_are_one_line_exit_2(svd_artifact, spelling: str, capsys) -> None:
    for args in (["recommend", "--user", spelling], ["similar", "--movie-id", spelling]):
        code, err = _cli([*args, "--artifact", str(svd_artifact[0])], capsys)
        assert code == 2 and err.count("\n") == 1 and "unknown" in err, (args, err)
    assert _cli(["recommend", "--user", "1", "--artifact", str(svd_artifact[0]), "-k", "3"], capsys)[0] == 0


def _cli(args: list[str], capsys) -> tuple[int, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def test_docs_serve_swagger_ui_locally(client: httpx.Client) -> None:
    """/docs works without the network: Swagger UI's script and stylesheet come from this server."""
    page = client.get("/docs")
    assert page.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn.jsdelivr.net" not in page.text and "unpkg.com" not in page.text
    js = client.get("/docs-assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"] and len(js.content) > 100_000
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200


def test_a_catalogue_movie_nobody_rated_is_a_404_that_says_so(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Niagara (1953), movieId 2939, is in ml-latest-small's movies.csv with no ratings. ``GET /movies/2939``
    and a visitor's rating of it answered "unknown movie id 2939", as for an id that exists nowhere; the 404
    now says what the CLI and the notebook say. An id that exists nowhere keeps its message."""
    from servehelp import mounted_api

    import movierec
    from movierec.serving.artifact import load_artifact

    path = tmp_path_factory.mktemp("artifact") / "popularity"
    movierec.Recommender("ml-latest-small", "popularity").fit().export(path)
    said = "movieId 2939 is Niagara (1953), which has no ratings in ml-latest-small"
    with mounted_api({"p": load_artifact(path)}) as url:
        for resp in (
            httpx.get(f"{url}/p/movies/2939"),
            httpx.get(f"{url}/p/movies/2939/similar"),
            httpx.post(
                f"{url}/p/recommendations",
                json={"ratings": [{"movieId": 1, "rating": 5}, {"movieId": 2939, "rating": 4}]},
            ),
        ):
            assert resp.status_code == 404 and said in resp.json()["detail"], resp.text
        gone = httpx.get(f"{url}/p/movies/424242")
        assert gone.status_code == 404 and "no ratings" not in gone.json()["detail"], gone.text


def test_the_python_artifact_refuses_a_movie_rated_twice_as_the_api_does(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """``Artifact.visitor``/``recommend_for_ratings`` kept the last of two ratings of one movie without a word,
    where the API answers 422 and ``--rated`` refuses it; the same sentence now, whichever spelling of the id."""
    import movierec
    from movierec.errors import ConfigError
    from movierec.serving.artifact import load_artifact

    path = tmp_path_factory.mktemp("artifact") / "popularity"
    movierec.Recommender("ml-latest-small", "popularity").fit().export(path)
    art = load_artifact(path)
    said = r"^Toy Story \(1995\) is given twice \(ratings 0 and 2\); give each movie once$"
    for second in (1, "1"):
        with pytest.raises(ConfigError, match=said):
            art.recommend_for_ratings([(1, 5.0), (260, 4.0), (second, 1.0)])
        with pytest.raises(ConfigError, match=said):
            art.visitor([(1, 5.0), (260, 4.0), (second, 1.0)], explain=True)
    assert len(art.recommend_for_ratings([(1, 5.0), (260, 4.0)], k=5)) == 5


def test_a_number_that_is_no_whole_one_is_a_422_saying_a_movieid_is_a_whole_number(
    client: httpx.Client, error_schema: dict
) -> None:
    """``GET /movies/1.5`` was read as a title: on ml-latest-small "'1.5' is a title, not a movieId; give
    Patrik Age 1.5 (Patrik 1,5) (2008)'s movieId, 80584", and ``/movies/abc`` called 'abc' a title (of
    ABCs of Death). A number written as no whole one is a malformed movieId: a 422 whose body is the
    OpenAPI's HTTPValidationError, saying plainly what a movieId is. A title in the path stays the
    documented 404 naming its movieId (docs/serving.md), and a part of a title is said to match it, not
    to be it."""
    import jsonschema

    spec = client.get("/openapi.json").json()
    schema = {**spec["components"]["schemas"]["HTTPValidationError"], "components": spec["components"]}
    for text in ("1.5", "3.0", ".5", "1e3", "-2.5"):
        for path in (f"/movies/{text}", f"/movies/{text}/similar"):
            resp = client.get(path)
            (item,) = assert_422_shape(resp, error_schema)
            jsonschema.validate(resp.json(), schema)
            assert item["loc"] == ["path", "movieId"] and item["input"] == text, item
            assert item["msg"] == (
                f"'{text}' is not a movieId: a movieId is a whole number written in digits (1, 296, 2571); "
                "GET /movies?q=TITLE finds a movie's movieId"
            ), item
    assert client.get("/movies/21").status_code == 200 and client.get("/movies/424242").status_code == 404
    whole = client.get("/movies/" + urllib.parse.quote("Léon: The Professional"))
    assert whole.status_code == 404 and whole.json()["detail"] == (
        "'Léon: The Professional' is a title, not a movieId; give Léon: The Professional (1994)'s movieId, 11"
    )
    part = client.get("/movies/Professional/similar")
    assert part.status_code == 404 and part.json()["detail"] == (
        "'Professional' is not a movieId, and it matches the title Léon: The Professional (1994); "
        "give its movieId, 11"
    )


#: each door of the API that takes a movieId in a request body: (name, its request, where a 422 points)
BODY_DOORS = {
    "feedback": (
        "/feedback",
        lambda m: {"userId": 7, "movieId": m, "rating": 4.0, "requestId": uuid.uuid4().hex},
        ["body", "movieId"],
    ),
    "rating": (
        "/recommendations",
        lambda m: {"ratings": [{"movieId": m, "rating": 4.0}]},
        ["body", "ratings", 0, "movieId"],
    ),
    "history": ("/recommendations", lambda m: {"history": [m]}, ["body", "history", 0]),
    "exclude": (
        "/recommendations",
        lambda m: {"ratings": [{"movieId": 21, "rating": 4.0}], "exclude": [m]},
        ["body", "exclude", 0],
    ),
}
A_MOVIE_ID_IS = "a movieId is a whole number written in digits (1, 296, 2571); GET /movies?q=TITLE finds a movie's movieId"
UNKNOWN_TAIL = (
    "in tiny-movies (its 60 movies have ids 1 to 591, with gaps); GET /movies?q=TITLE finds a movie's movieId"
)


@pytest.mark.parametrize("door", sorted(BODY_DOORS))
def test_a_body_movieid_that_is_no_whole_number_is_the_422_get_movies_answers(
    client: httpx.Client, door: str
) -> None:
    """``GET /movies/1.5`` is a 422 saying what a movieId is (9f09c58); a body's ``"movieId": "1.5"`` was a
    404 with those words, and ``1.5``, ``true`` or ``null`` as JSON values were pydantic's two lines at
    ``[…, "movieId", "constrained-int"]`` and ``"constrained-str"`` ("Input should be a valid integer", "…
    a valid string"). Each is now one 422 at the field, in the GET's words, its body the OpenAPI's
    HTTPValidationError. A whole number that is no movie, and text, stay what GET /movies/… answers for
    them: the unknown-id 404 (a 422 in the deny-list, as documented)."""
    import jsonschema

    spec = client.get("/openapi.json").json()
    invalid = {**spec["components"]["schemas"]["HTTPValidationError"], "components": spec["components"]}
    message = {**spec["components"]["schemas"]["ErrorMessage"], "components": spec["components"]}
    path, body, loc = BODY_DOORS[door]
    get_said = client.get("/movies/1.5").json()["detail"][0]["msg"]
    assert get_said == f"'1.5' is not a movieId: {A_MOVIE_ID_IS}"
    for value, shown in (
        ("1.5", "'1.5'"),
        ("1e3", "'1e3'"),
        (1.5, "1.5"),
        (3.0, "3.0"),
        (True, "true"),
        (None, "null"),
    ):
        resp = client.post(path, json=body(value))
        assert resp.status_code == 422, (door, value, resp.text)
        jsonschema.validate(resp.json(), invalid)
        assert resp.json() == {
            "detail": [
                {
                    "type": "value_error",
                    "loc": loc,
                    "msg": f"{shown} is not a movieId: {A_MOVIE_ID_IS}",
                    "input": value,
                }
            ]
        }, (door, value)
    unknown = {
        "abc": client.get("/movies/abc").json()["detail"],  # the GET's own words for this text
        -1: f"unknown movie id -1 {UNKNOWN_TAIL}",
        0: f"unknown movie id 0 {UNKNOWN_TAIL}",
        424242: f"unknown movie id 424242 {UNKNOWN_TAIL}",
    }
    assert unknown["abc"] == f"unknown movie id 'abc' {UNKNOWN_TAIL}"
    for value, said in unknown.items():
        resp = client.post(path, json=body(value))
        if door == "exclude":  # the deny-list refuses an unknown id as a 422 at its entry (docs/serving.md)
            assert resp.status_code == 422, (value, resp.text)
            jsonschema.validate(resp.json(), invalid)
            assert resp.json() == {
                "detail": [{"type": "value_error", "loc": loc, "msg": said, "input": value}]
            }
        else:
            assert resp.status_code == 404, (door, value, resp.text)
            jsonschema.validate(resp.json(), message)
            assert resp.json() == {"detail": said}, (door, value)
    assert client.post(path, json=body(21)).status_code in (200, 201)  # a movie it knows is taken


def test_a_query_movieid_that_is_no_whole_number_is_the_same_422(
    client: httpx.Client, error_schema: dict
) -> None:
    """``?exclude=`` of a user's list takes movieIds in the query: a number that is no whole one is the
    422 the body's deny-list and ``GET /movies/1.5`` answer, at its entry."""
    resp = client.get("/users/1/recommendations", params={"exclude": "21,1.5"})
    (item,) = assert_422_shape(resp, error_schema)
    assert item == {
        "type": "value_error",
        "loc": ["query", "exclude", 1],
        "msg": f"'1.5' is not a movieId: {A_MOVIE_ID_IS}",
        "input": "1.5",
    }


A_USER_ID_IS = "a userId is a whole number written in digits (1, 42, 610)"
#: each door that takes a userId: (its request with the userId given, where a 422 points)
USER_DOORS = {
    "feedback": (
        lambda u: (
            "POST",
            "/feedback",
            {"userId": u, "movieId": 21, "rating": 4.0, "requestId": uuid.uuid4().hex},
        ),
        ["body", "userId"],
    ),
    "visitor": (
        lambda u: ("POST", "/recommendations", {"userId": u, "ratings": [{"movieId": 21, "rating": 4.0}]}),
        ["body", "userId"],
    ),
}
TOO_LONG = "x" * 129
INT64_PAST = 99999999999999999999
RANGE = "lies between -9223372036854775808 and 9223372036854775807 (64 bits)"


@pytest.mark.parametrize("door", sorted(USER_DOORS))
def test_a_body_userid_that_is_no_id_is_one_422_at_the_field_in_words(
    client: httpx.Client, door: str
) -> None:
    """A userId that no id can be, where a body takes one (POST /feedback, a visitor's POST
    /recommendations): JSON ``1.5``, ``true``, an integer past 64 bits, text over 128 characters or empty
    were pydantic's two lines at ``[…, "userId", "constrained-int"]`` and ``"constrained-str"``; ``"1.5"``
    was feedback's look-alike rule ("integer ids are written in ASCII digits only, without sign, …") and a
    visitor's echoed id. Each is now one 422 at the field saying what a userId is, its body the served
    OpenAPI's HTTPValidationError. A visitor's ``null`` stays anonymous, and a well-formed id the data does
    not hold stays a visitor's own (stored by feedback, echoed by the list)."""
    import jsonschema

    spec = client.get("/openapi.json").json()
    invalid = {**spec["components"]["schemas"]["HTTPValidationError"], "components": spec["components"]}
    request, loc = USER_DOORS[door]
    visitor_tail = f"{A_USER_ID_IS}, or a visitor's own text id, such as 'web-42'"
    said = {
        1.5: f"1.5 is not a userId: {visitor_tail}",
        True: f"true is not a userId: {visitor_tail}",
        "1.5": f"'1.5' is not a userId: {visitor_tail}",
        "": f'"" is not a userId: {visitor_tail}',
        INT64_PAST: f"{INT64_PAST} is not a userId: a userId that is a number {RANGE}",
        -INT64_PAST: f"{-INT64_PAST} is not a userId: a userId that is a number {RANGE}",
        TOO_LONG: "a userId has at most 128 characters (this one has 129)",
    }
    if door == "feedback":
        said[None] = f"null is not a userId: {visitor_tail}"
    for value, msg in said.items():
        method, path, body = request(value)
        resp = client.request(method, path, json=body)
        assert resp.status_code == 422, (door, value, resp.text)
        jsonschema.validate(resp.json(), invalid)
        assert resp.json() == {"detail": [{"type": "value_error", "loc": loc, "msg": msg, "input": value}]}, (
            door,
            value,
        )
    for value in (7, "web-42", 999999, *((None,) if door == "visitor" else ())):
        method, path, body = request(value)
        resp = client.request(method, path, json=body)
        assert resp.status_code in (200, 201), (door, value, resp.text)
        if door == "visitor":
            assert resp.json()["userId"] == value


def test_a_path_userid_that_is_no_whole_number_is_the_422_get_movies_answers(client: httpx.Client) -> None:
    """``GET /users/1.5/recommendations`` answered "unknown user id '1.5'" (a 404) where ``GET /movies/1.5``
    is a 422 saying what a movieId is; a path id over 128 characters was pydantic's "String should have at
    most 128 characters". Both are now one 422 at the field in words. Text, look-alikes and a whole number
    the data does not hold (true, 0001, 99999999999999999999) stay the unknown user's 404, as GET /movies/…
    answers them."""
    import jsonschema

    spec = client.get("/openapi.json").json()
    invalid = {**spec["components"]["schemas"]["HTTPValidationError"], "components": spec["components"]}
    tail = "for someone not in the data, POST /recommendations with their ratings"
    for value, msg in (
        ("1.5", f"'1.5' is not a userId: {A_USER_ID_IS}; {tail}"),
        ("1e3", f"'1e3' is not a userId: {A_USER_ID_IS}; {tail}"),
        (TOO_LONG, "a userId has at most 128 characters (this one has 129)"),
    ):
        resp = client.get(f"/users/{value}/recommendations")
        assert resp.status_code == 422, (value, resp.text)
        jsonschema.validate(resp.json(), invalid)
        assert resp.json() == {
            "detail": [{"type": "value_error", "loc": ["path", "userId"], "msg": msg, "input": value}]
        }, value
    resp = client.get(f"/movies/{TOO_LONG}")
    assert resp.status_code == 422, resp.text
    assert resp.json() == {
        "detail": [
            {
                "type": "value_error",
                "loc": ["path", "movieId"],
                "msg": "a movieId has at most 128 characters (this one has 129); GET /movies?q=TITLE finds a "
                "movie's movieId",
                "input": TOO_LONG,
            }
        ]
    }
    for value in ("true", "null", "0001", str(INT64_PAST)):
        resp = client.get(f"/users/{value}/recommendations")
        assert resp.status_code == 404, (value, resp.text)
        assert resp.json()["detail"].startswith(f"unknown user id '{value}' in tiny-movies"), resp.text


@pytest.mark.parametrize("door", sorted(BODY_DOORS))
def test_a_body_movieid_past_64_bits_or_over_128_characters_is_one_422_in_words(
    client: httpx.Client, door: str
) -> None:
    """An integer past 64 bits or text over 128 characters (or empty) where a body takes a movieId was
    pydantic's two lines ("Input should be less than or equal to 9223372036854775807" at ``constrained-int``
    beside "Input should be a valid string" at ``constrained-str``); now one 422 at the field in words."""
    import jsonschema

    spec = client.get("/openapi.json").json()
    invalid = {**spec["components"]["schemas"]["HTTPValidationError"], "components": spec["components"]}
    path, body, loc = BODY_DOORS[door]
    find = "GET /movies?q=TITLE finds a movie's movieId"
    for value, msg in (
        (INT64_PAST, f"{INT64_PAST} is not a movieId: a movieId that is a number {RANGE}; {find}"),
        (-INT64_PAST, f"{-INT64_PAST} is not a movieId: a movieId that is a number {RANGE}; {find}"),
        (TOO_LONG, f"a movieId has at most 128 characters (this one has 129); {find}"),
        ("", f'"" is not a movieId: {A_MOVIE_ID_IS}'),
    ):
        resp = client.post(path, json=body(value))
        assert resp.status_code == 422, (door, value, resp.text)
        jsonschema.validate(resp.json(), invalid)
        assert resp.json() == {"detail": [{"type": "value_error", "loc": loc, "msg": msg, "input": value}]}, (
            door,
            value,
        )


def test_error_bodies_say_what_to_do_without_echoing_the_whole_body(
    server, client: httpx.Client, error_schema: dict[str, Any]
) -> None:
    """Four error bodies a backend engineer met first, each checked against the service's own OpenAPI:
    1,001 ratings (one past the limit) got a 422 echoing all of them back (27 KB): the echo is now the first
    entries and a count; a POST /feedback without requestId said only "Field required": it says what a
    requestId is; an unknown path said {"detail":"Not Found"}: it points at /docs; the 413's body was spaced
    as no other body was ('{"detail": "…"}')."""
    import jsonschema

    spec = client.get("/openapi.json").json()
    schema = {**spec["components"]["schemas"]["HTTPValidationError"], "components": spec["components"]}
    message = {**spec["components"]["schemas"]["ErrorMessage"], "components": spec["components"]}
    ratings = [{"movieId": 21, "rating": 4.0} for _ in range(1001)]
    resp = client.post("/recommendations", json={"ratings": ratings})
    (item,) = assert_422_shape(resp, error_schema)
    jsonschema.validate(resp.json(), schema)
    assert item["loc"] == ["body", "ratings"] and "at most 1000" in item["msg"], item
    assert item["input"] == [*ratings[:3], "… and 998 more (1,001 in all)"], item["input"]
    assert len(resp.content) < 1000, len(resp.content)
    body = {"userId": "1", "movieId": 21, "rating": 4.0}
    resp = client.post("/feedback", json={**body, "ratings": ratings[:20]})  # an extra field: still short
    assert all(len(str(i.get("input"))) < 1000 for i in assert_422_shape(resp, error_schema))
    resp = client.post("/feedback", json=body)
    (item,) = assert_422_shape(resp, error_schema)
    jsonschema.validate(resp.json(), schema)
    assert item["loc"] == ["body", "requestId"] and item["type"] == "missing" and item["input"] == body
    assert "client chooses" in item["msg"] and "retry is safe" in item["msg"], item["msg"]
    assert "retry" in spec["components"]["schemas"]["FeedbackIn"]["properties"]["requestId"]["description"]
    resp = client.get("/recommendation/1")
    assert resp.status_code == 404
    jsonschema.validate(resp.json(), message)
    assert resp.json()["detail"] == "Not Found: no endpoint at /recommendation/1; see /docs for the endpoints"
    unknown_user = client.get("/users/no-such-user/recommendations").json()["detail"]
    assert "/docs" not in unknown_user  # a route's own 404 keeps its words
    big = httpx.post(
        f"{server.url}/recommendations",
        content=b"a" * 300_000,
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert big.status_code == 413 and big.content.startswith(b'{"detail":"request body larger'), big.content
    jsonschema.validate(big.json(), message)
