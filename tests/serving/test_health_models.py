"""GET /health describes every artifact ``movierec serve -a A -a B`` serves, not only the first.

Its top level is the first artifact's (the default): served as ``-a ease -a markov``, it said likedFrom 4 and
sequential false, and a client applied that to markov's lists, whose counts are of every rating and whose
reason is the last movie given. Now ``models`` holds one entry per served artifact, in serve's order, each with
its own description and how a request reaches it (``label`` for ?model=, ``weight``); the top level is as it
was. Every check runs against a real ``movierec serve`` on 127.0.0.1 (or a real uvicorn)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from servehelp import Server, fit, mounted_api

from movierec.datasets import Dataset
from movierec.models.registry import create
from movierec.serving.artifact import export_artifact, load_artifact

#: the keys of a ``models`` entry: the artifact's own description, and how a request reaches it
ENTRY = {
    "model",
    "modelVersion",
    "kind",
    "dataset",
    "createdAt",
    "nItems",
    "nUsers",
    "ratingScale",
    "ratingStep",
    "minSupport",
    "likedFrom",
    "interactionsOnly",
    "sequential",
    "sameForEveryone",
    "similarBy",
    "userFeatures",
}


@pytest.fixture(scope="module")
def pair(movies: Dataset, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """ease (learned from the ratings of 4+) and markov (a sequence model: every rating, in time order), of one
    dataset, exported as ``movierec export`` trains them."""
    root = tmp_path_factory.mktemp("pair")
    ease, train = fit("ease", movies)
    markov = create("markov").fit(movies.interactions)
    return {
        "ease": export_artifact(ease, movies, train, root / "ease", min_support=0),
        "markov": export_artifact(markov, movies, movies.interactions, root / "markov", min_support=0),
    }


@pytest.fixture(scope="module")
def ease_then_markov(pair: dict[str, Path]) -> Iterator[Server]:
    """ease served first (the default), markov beside it, three in ten users hashed to ease."""
    srv = Server(pair["ease"], "none", "--artifact", str(pair["markov"]), "--weights", "30,70").wait()
    yield srv
    srv.stop()


def _validators(url: str) -> tuple[Draft202012Validator, dict[str, Any]]:
    """A validator of GET /openapi.json's Health, and the schema's components."""
    spec = httpx.get(url + "/openapi.json").json()
    return Draft202012Validator({**spec, "$ref": "#/components/schemas/Health"}), spec["components"][
        "schemas"
    ]


def _check_schema(url: str, body: dict[str, Any]) -> None:
    """``body`` is valid against the served schema, which declares every key it sends (extra keys would
    validate) and requires ``models`` and every key of an entry."""
    validator, schemas = _validators(url)
    validator.validate(body)
    assert set(body) <= set(schemas["Health"]["properties"]) and "models" in schemas["Health"]["required"]
    entry = schemas["ServedModel"]
    assert set(entry["required"]) >= {"label", "weight"}, entry["required"]
    for model in body["models"]:
        assert set(model) == set(entry["properties"]) == ENTRY | {"label", "weight"}, model


def test_health_describes_each_served_model_by_itself(
    ease_then_markov: Server, pair: dict[str, Path]
) -> None:
    """/health's top level says ease's likedFrom 4 and sequential false, as before; ``models`` says markov's
    own likedFrom null and sequential true beside ease's, each equal to what its artifact says of itself."""
    url = ease_then_markov.url
    health = httpx.get(url + "/health").json()
    assert (health["model"], health["likedFrom"], health["sequential"]) == ("ease", 4.0, False)  # unchanged
    models = health["models"]
    assert [(m["label"], m["model"], m["weight"]) for m in models] == [
        ("ease", "ease", 0.3),
        ("markov", "markov", 0.7),
    ]
    ease, markov = models
    assert (ease["likedFrom"], ease["sequential"], ease["kind"]) == (4.0, False, "implicit")
    assert (markov["likedFrom"], markov["sequential"]) == (None, True)
    for name, entry in zip(("ease", "markov"), models, strict=True):
        own = load_artifact(pair[name]).description()
        assert {key: entry[key] for key in ENTRY} == own, name
    assert {key: health[key] for key in ENTRY} == {
        key: ease[key] for key in ENTRY
    }  # the first is the top level
    _check_schema(url, health)


def test_each_label_reaches_its_own_model(ease_then_markov: Server) -> None:
    """``?model=LABEL`` sends a request to that entry's artifact, whoever the user is: its list is made by that
    model, with that version, and reads as the entry says (sequential, likedFrom). /health?model=markov answers
    markov's top level and the same ``models``."""
    url = ease_then_markov.url
    models = httpx.get(url + "/health").json()["models"]
    for entry in models:
        resp = httpx.get(url + "/users/1/recommendations", params={"model": entry["label"]})
        body = resp.json()
        assert resp.status_code == 200, resp.text
        assert resp.headers["x-model-version"] == body["modelVersion"] == entry["modelVersion"], body
        assert (body["model"], body["sequential"], body["likedFrom"]) == (
            entry["model"],
            entry["sequential"],
            entry["likedFrom"],
        ), body
    health = httpx.get(url + "/health", params={"model": "markov"}).json()
    assert (health["model"], health["sequential"]) == ("markov", True) and health["models"] == models
    _check_schema(url, health)


def test_one_artifact_is_a_list_of_one_equal_to_the_top_level(server: Server, svd_artifact) -> None:
    """Served alone (by ``movierec serve``, and by an app built without the version router), ``models`` is one
    entry: the top level's description, the folder's name as its label and every user."""
    art = load_artifact(svd_artifact[0])
    health = httpx.get(server.url + "/health").json()
    (entry,) = health["models"]
    assert {key: entry[key] for key in ENTRY} == {key: health[key] for key in ENTRY} == art.description()
    assert (entry["label"], entry["weight"]) == (svd_artifact[0].name, 1.0)
    _check_schema(server.url, health)
    with mounted_api({"alone": art}) as url:
        body = httpx.get(url + "/alone/health").json()
        assert body["models"] == [entry], body["models"]
        _check_schema(url + "/alone", body)


def test_an_unknown_model_is_a_404_naming_what_model_takes(ease_then_markov: Server) -> None:
    """``?model=zzz`` on a server of ease and markov answered "model 'zzz' is not served here; served: ease
    (1a2b…), markov (3c4d…)": the words ``label`` and ``modelVersion`` of GET /health's ``models`` were not
    there, so a reader had to guess that the name and the hash in brackets are the two spellings it takes. And
    /openapi.json declared neither the parameter nor the 404 on GET /health or GET /movies, which answer it.
    Each path now says what ``?model=`` takes with each served pair, in ErrorMessage's shape, and the schema
    declares both; each spelling the 404 names reaches its model."""
    url = ease_then_markov.url
    spec = httpx.get(url + "/openapi.json").json()
    error = Draft202012Validator({**spec, "$ref": "#/components/schemas/ErrorMessage"})
    models = httpx.get(url + "/health").json()["models"]
    pairs = ", ".join(f"{m['label']} or {m['modelVersion']}" for m in models)
    said = (
        f"model 'zzz' is not served here; ?model= takes a served model's label or modelVersion ({pairs}), "
        "as GET /health lists them in models"
    )
    asks = [
        ("GET", "/health", "/health", None),
        ("GET", "/movies", "/movies", None),
        ("GET", "/movies/21", "/movies/{movieId}", None),
        ("GET", "/movies/21/similar", "/movies/{movieId}/similar", None),
        ("GET", "/users/1/recommendations", "/users/{userId}/recommendations", None),
        ("POST", "/recommendations", "/recommendations", {"ratings": [{"movieId": 21, "rating": 5}]}),
    ]
    for method, path, route, body in asks:
        resp = httpx.request(method, url + path, params={"model": "zzz"}, json=body)
        assert resp.status_code == 404 and resp.json() == {"detail": said}, (path, resp.text)
        error.validate(resp.json())
        operation = spec["paths"][route][method.lower()]
        declared = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        assert (
            "label" in declared["model"]["description"] and "GET /health" in declared["model"]["description"]
        )
        answer = operation["responses"]["404"]
        assert answer["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorMessage"
        }
        assert answer["description"].endswith("?model= names no served model."), (route, answer)
    reload = spec["paths"]["/admin/reload"]["post"].get("parameters", [])  # the router's own: no ?model=
    assert "model" not in {p["name"] for p in reload}, reload
    for m in models:  # both spellings the 404 names reach that model
        for spelling in (m["label"], m["modelVersion"]):
            resp = httpx.get(url + "/health", params={"model": spelling})
            assert resp.headers["x-model-version"] == m["modelVersion"], spelling


def test_an_app_without_the_router_declares_no_model_choice(svd_artifact) -> None:
    """An app mounted without the version router (``create_app`` in Python) ignores ``?model=``: its schema
    does not offer it."""
    with mounted_api({"alone": load_artifact(svd_artifact[0])}) as url:
        spec = httpx.get(url + "/alone/openapi.json").json()
        names = {
            p["name"]
            for ops in spec["paths"].values()
            for op in ops.values()
            for p in op.get("parameters", [])
        }
        assert "model" not in names and "k" in names, names
        assert "404" not in spec["paths"]["/health"]["get"]["responses"]


def test_two_folders_of_one_name_get_labels_that_tell_them_apart(
    movies: Dataset, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Served as ``-a runs/v1/model -a runs/v2/model`` (two versions, each in a folder named alike), both
    entries of ``models`` were labelled 'model' and ``?model=model`` reached the first only. Each label is now
    the last parts of its path that tell them apart, and each reaches its own artifact."""
    root = tmp_path_factory.mktemp("runs")
    ease, train = fit("ease", movies)
    first = export_artifact(ease, movies, train, root / "v1" / "model", min_support=0)
    markov = create("markov").fit(movies.interactions)
    second = export_artifact(markov, movies, movies.interactions, root / "v2" / "model", min_support=0)
    srv = Server(first, "none", "--artifact", str(second)).wait()
    try:
        models = httpx.get(srv.url + "/health").json()["models"]
        assert [(m["label"], m["model"]) for m in models] == [("v1/model", "ease"), ("v2/model", "markov")]
        for m in models:
            resp = httpx.get(srv.url + "/users/1/recommendations", params={"model": m["label"]})
            assert resp.status_code == 200 and resp.json()["model"] == m["model"], resp.text
        said = httpx.get(srv.url + "/health", params={"model": "model"}).json()["detail"]
        assert f"(v1/model or {models[0]['modelVersion']}, v2/model or {models[1]['modelVersion']})" in said
    finally:
        srv.stop()
