"""A userId or movieId given as text, at every door of a real ``movierec serve`` that takes one: the words
of each answer, and its body valid against the schema ``/openapi.json`` declares for its status.

Walked on the serving fixture (integer ids): a visitor's look-alike userId ``"007"`` was echoed by ``POST
/recommendations`` (its list made for "007") while ``POST /feedback`` refused the same id with other words,
"userId: '007' is not a valid user id (integer ids are written in ASCII digits only, …)", and no ``input``,
where every other 422 of an id says "X is not a userId: …" and echoes it. Both doors now take the same
userIds by one rule: no spelling of a number but its own names anyone, so a body's look-alike is that 422 at
both (stored, ``export --with-feedback`` would drop it; read as 7, the visitor would be user 7), and the
path, which looks up the data's users only, answers it with the unknown user's 404 as before.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from servehelp import API_KEY, fit, mounted_api

from movierec.datasets import Dataset
from movierec.interactions import Interactions
from movierec.serving.artifact import export_artifact, load_artifact

A_USER_ID_IS = "a userId is a whole number written in digits (1, 42, 610)"
VISITORS_TOO = f"{A_USER_ID_IS}, or a visitor's own text id, such as 'web-42'"
NOT_IN_DATA = "for someone not in the data, POST /recommendations with their ratings"
A_MOVIE_ID_IS = "a movieId is a whole number written in digits (1, 296, 2571); GET /movies?q=TITLE finds a movie's movieId"


def _lookalike(text: str, number: int) -> str:
    """What a body says of ``text``, a spelling of the whole number ``number`` other than its own."""
    return (
        f"{text!r} is not a userId: a userId is a whole number written in ASCII digits, without '+', spaces, "
        f"underscores or leading zeros ({number}, not {text!r}), or a visitor's own text id, such as 'web-42'"
    )


def _unknown_user(text: str) -> str:
    return f"unknown user id {text!r} in tiny-movies (its 40 users have ids 1 to 40); {NOT_IN_DATA}"


def _unknown_movie(text: str) -> str:
    return (
        f"unknown movie id {text!r} in tiny-movies (its 60 movies have ids 1 to 591, with gaps); "
        "GET /movies?q=TITLE finds a movie's movieId"
    )


@pytest.fixture(scope="module")
def client(server) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server.url, timeout=10.0, headers={"X-API-Key": API_KEY}) as c:
        yield c


@pytest.fixture(scope="module")
def spec(client: httpx.Client) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def _valid(spec: dict[str, Any], route: str, resp: httpx.Response) -> None:
    """``resp``'s body is valid against the schema ``spec`` declares for ``route`` ("POST /feedback") and its
    status (a 422: HTTPValidationError, a 404: ErrorMessage, a 200: the route's answer)."""
    method, template = route.split(" ", 1)
    answers = spec["paths"][template][method.lower()]["responses"]
    assert str(resp.status_code) in answers, (route, resp.status_code, sorted(answers))
    schema = answers[str(resp.status_code)]["content"]["application/json"]["schema"]
    Draft202012Validator({**spec, **schema}).validate(resp.json())


#: each door that takes a userId or movieId: (the route as /openapi.json names it, the request for a value,
#: where its 422 points)
Request = Callable[[str], tuple[str, str, Any]]
DOORS: dict[str, tuple[str, Request, list[Any]]] = {
    "userId in the path": (
        "GET /users/{userId}/recommendations",
        lambda v: ("GET", f"/users/{urllib.parse.quote(v, safe='')}/recommendations?k=2", None),
        ["path", "userId"],
    ),
    "a visitor's userId": (
        "POST /recommendations",
        lambda v: (
            "POST",
            "/recommendations",
            {"ratings": [{"movieId": 21, "rating": 4.5}], "k": 2, "userId": v},
        ),
        ["body", "userId"],
    ),
    "feedback's userId": (
        "POST /feedback",
        lambda v: (
            "POST",
            "/feedback",
            {"userId": v, "movieId": 21, "rating": 4.0, "requestId": uuid.uuid4().hex},
        ),
        ["body", "userId"],
    ),
    "movieId in the path": (
        "GET /movies/{movieId}",
        lambda v: ("GET", f"/movies/{urllib.parse.quote(v, safe='')}", None),
        ["path", "movieId"],
    ),
    "similar's movieId": (
        "GET /movies/{movieId}/similar",
        lambda v: ("GET", f"/movies/{urllib.parse.quote(v, safe='')}/similar?k=2", None),
        ["path", "movieId"],
    ),
    "?exclude=": (
        "GET /users/{userId}/recommendations",
        lambda v: ("GET", f"/users/1/recommendations?k=2&exclude={urllib.parse.quote(v, safe='')}", None),
        ["query", "exclude", 0],
    ),
    "a visitor's rating": (
        "POST /recommendations",
        lambda v: ("POST", "/recommendations", {"ratings": [{"movieId": v, "rating": 4.5}], "k": 2}),
        ["body", "ratings", 0, "movieId"],
    ),
    "a visitor's history": (
        "POST /recommendations",
        lambda v: ("POST", "/recommendations", {"history": [v], "k": 2}),
        ["body", "history", 0],
    ),
    "a visitor's exclude": (
        "POST /recommendations",
        lambda v: ("POST", "/recommendations", {"ratings": [{"movieId": 21, "rating": 4.5}], "exclude": [v]}),
        ["body", "exclude", 0],
    ),
    "feedback's movieId": (
        "POST /feedback",
        lambda v: (
            "POST",
            "/feedback",
            {"userId": 7, "movieId": v, "rating": 4.0, "requestId": uuid.uuid4().hex},
        ),
        ["body", "movieId"],
    ),
}
USER_DOORS = ("userId in the path", "a visitor's userId", "feedback's userId")
EXCLUDES = ("?exclude=", "a visitor's exclude")


def _expected(door: str, value: str) -> tuple[int, str | None]:
    """The status ``door`` answers ``value`` with, and the sentence it says (None for a 2xx)."""
    path = DOORS[door][2][0] == "path"
    if door in USER_DOORS:
        if value == "1.5":
            return 422, f"'1.5' is not a userId: {f'{A_USER_ID_IS}; {NOT_IN_DATA}' if path else VISITORS_TOO}"
        if path:  # the data's users only: text or a look-alike is nobody
            return 404, _unknown_user(value)
        if value == "007":
            return 422, _lookalike("007", 7)
        return (201 if door.startswith("feedback") else 200), None  # a visitor's own text id
    if value == "1.5":
        return 422, f"'1.5' is not a movieId: {A_MOVIE_ID_IS}"
    return (422 if door in EXCLUDES else 404), _unknown_movie(value)  # the deny-list refuses at its entry


@pytest.mark.parametrize("value", ["abc", "1.5", "007"])
@pytest.mark.parametrize("door", sorted(DOORS))
def test_text_given_as_an_id_is_answered_in_words_at_every_door(
    client: httpx.Client, spec: dict[str, Any], door: str, value: str
) -> None:
    """``"abc"``, ``"1.5"`` and ``"007"`` as a userId or movieId, in the path, the query and a body: a 422
    is one item at the field naming what the id is and echoing it, a 404 one sentence naming which ids there
    are, a 2xx a visitor's own text id taken; every body valid against /openapi.json for its status. (The
    words were checked by hand; ``"007"`` was echoed by a visitor's list, and refused by feedback without
    its input.)"""
    route, request, loc = DOORS[door]
    method, url, body = request(value)
    resp = client.request(method, url, json=body)
    status, said = _expected(door, value)
    assert resp.status_code == status, (door, value, resp.text)
    _valid(spec, route, resp)
    if status == 422:
        want = {"detail": [{"type": "value_error", "loc": loc, "msg": said, "input": value}]}
        assert resp.json() == want, (door, value)
    elif status == 404:
        assert resp.json() == {"detail": said}, (door, value)
    elif door == "a visitor's userId":
        assert resp.json()["userId"] == value


#: other spellings of a whole number than its own, each with the number
LOOKALIKES = [
    ("007", 7),
    ("+7", 7),
    (" 7", 7),
    ("7\n", 7),
    ("0001", 1),
    ("1_0", 10),
    ("-0", 0),
    ("\uff17", 7),  # fullwidth 7
    ("\u0667", 7),  # Arabic-Indic 7
]


@pytest.mark.parametrize("door", ["a visitor's userId", "feedback's userId"])
@pytest.mark.parametrize(("text", "number"), LOOKALIKES)
def test_a_body_takes_a_lookalike_userid_by_one_rule_at_both_doors(
    client: httpx.Client, spec: dict[str, Any], server, door: str, text: str, number: int
) -> None:
    """A userId spelling a whole number other than its own way is one 422 at ``["body", "userId"]`` at
    both doors that take a visitor's id, in the words of the other ids' 422s with the input echoed, and
    feedback stores nothing. A visitor's list echoed "007" as their id while their feedback refused it; the
    path's look-alike stays the unknown user's 404 (test_hostile)."""
    route, request, loc = DOORS[door]
    method, url, body = request(text)
    resp = client.request(method, url, json=body)
    assert resp.status_code == 422, (door, text, resp.text)
    _valid(spec, route, resp)
    assert resp.json() == {
        "detail": [{"type": "value_error", "loc": loc, "msg": _lookalike(text, number), "input": text}]
    }, (door, text)
    if door.startswith("feedback"):
        with sqlite3.connect(server.db) as conn:
            stored = conn.execute("select count(*) from feedback where request_id = ?", (body["requestId"],))
            assert stored.fetchone() == (0,)


@pytest.mark.parametrize("door", ["a visitor's userId", "feedback's userId"])
def test_text_that_reads_as_no_whole_number_is_no_visitors_id(
    client: httpx.Client, spec: dict[str, Any], door: str
) -> None:
    """``"nan"`` and ``"inf"`` read as numbers (``export --with-feedback`` drops them as it drops ``"007"``),
    so both body doors refuse them alike, saying so; a text id that is no number (``"web-42"``, ``"abc"``) is
    a visitor's own."""
    route, request, loc = DOORS[door]
    for text in ("nan", "inf", "-Infinity"):
        method, url, body = request(text)
        resp = client.request(method, url, json=body)
        assert resp.status_code == 422, (door, text, resp.text)
        _valid(spec, route, resp)
        said = f"{text!r} is not a userId: it reads as a number that is no whole one; {VISITORS_TOO}"
        assert resp.json() == {"detail": [{"type": "value_error", "loc": loc, "msg": said, "input": text}]}
    for text in ("web-42", "abc", "7", "-7"):
        method, url, body = request(text)
        assert client.request(method, url, json=body).status_code in (200, 201), (door, text)


def test_on_data_whose_userids_are_text_007_is_an_id_like_any_other(
    movies: Dataset, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The rule is the data's: where userIds are text (a ratings file whose ids have leading zeros is read
    so), ``"007"`` and ``"7"`` are two ids, and a visitor's list takes either."""
    frame = movies.interactions.to_frame(raw_ids=True)
    frame["userId"] = frame["userId"].map(lambda u: f"{int(u):03d}")
    inter = Interactions.from_frame(frame, rating_scale=(0.5, 5.0))
    texts = Dataset("text-users", inter, movies.movies, None, "0" * 64, "in-code", [])
    model, train = fit("svd", texts, n_factors=4, n_epochs=5, random_state=0)
    art = load_artifact(export_artifact(model, texts, train, tmp_path_factory.mktemp("text") / "svd"))
    with mounted_api({"svd": art}) as url:
        for text in ("007", "7", "+7"):
            body = {"ratings": [{"movieId": 21, "rating": 4.5}], "k": 2, "userId": text}
            resp = httpx.post(f"{url}/svd/recommendations", json=body)
            assert resp.status_code == 200 and resp.json()["userId"] == text, resp.text
        assert httpx.get(f"{url}/svd/users/007/recommendations", params={"k": 2}).status_code == 200
