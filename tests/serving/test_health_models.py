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
