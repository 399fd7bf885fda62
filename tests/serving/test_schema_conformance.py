"""The API matches its own OpenAPI schema (issue 23): schemathesis against a real ``movierec serve`` on
127.0.0.1, seeded and bounded, with real user and movie ids mixed in so cases get past 404.

Every answer must have a declared status code, a declared content type and a body valid against the
declared schema (422 included: ``detail`` is a list). ``test_fuzz.py`` checks only "no 5xx".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from servehelp import API_KEY, Server, fit, mounted_api

from movierec.datasets import Dataset
from movierec.models.registry import create
from movierec.serving.artifact import export_artifact, load_artifact

CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


@pytest.fixture(scope="module")
def conformance_server(svd_artifact, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    db = tmp_path_factory.mktemp("conformdb") / "feedback.db"
    srv = Server(svd_artifact[0], db, env={"MOVIEREC_API_KEY": API_KEY}).wait()
    yield srv
    srv.stop()


def _real_ids(case: Any, users: list[int], movies: list[int], draw: Any) -> None:
    """Put real ids into the path and body (each field independently, so both 200s and 404s occur)."""
    params = case.path_parameters or {}
    if "userId" in params and draw(st.booleans()):
        params["userId"] = str(draw(st.sampled_from(users)))
    if "movieId" in params and draw(st.booleans()):
        params["movieId"] = str(draw(st.sampled_from(movies)))
    body = case.body
    if isinstance(body, dict) and draw(st.booleans()):
        if "movieId" in body:
            body["movieId"] = draw(st.sampled_from(movies))
        if "rating" in body:
            body["rating"] = draw(st.sampled_from([0.5, 3.0, 5.0]))
        if "userId" in body and "requestId" in body:
            body["userId"] = draw(st.sampled_from(users))
        if isinstance(body.get("ratings"), list):
            for r in body["ratings"]:
                if isinstance(r, dict):
                    r["movieId"] = draw(st.sampled_from(movies))
                    r["rating"] = draw(st.sampled_from([0.5, 3.0, 5.0]))
        if "requestId" not in body and not body.get("ratings") and not body.get("history"):
            body["ratings"] = [{"movieId": draw(st.sampled_from(movies)), "rating": 4.0}]
        if isinstance(body.get("history"), list):
            body["history"] = [draw(st.sampled_from(movies)) for _ in body["history"]]
        if isinstance(body.get("genres"), list):
            body["genres"] = draw(st.lists(st.sampled_from(["Comedy", "Drama", "Action"]), max_size=2))
        body.pop("rerank", None) if draw(st.booleans()) else None


def _declared(spec: dict[str, Any], name: str) -> set[str]:
    return set(spec["components"]["schemas"][name]["properties"])


def test_every_field_of_a_list_is_declared_for_each_kind_of_model(
    movies: Dataset, svd_artifact, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The run below serves svd only, and a schema that names fewer fields than an answer sends still passes it
    (extra keys are allowed): a field added to the answers but not to the schema would go unseen. For a rating
    model, one that learned from likes and a sequence model, each recommending answer is valid against
    GET /openapi.json's RecommendationsResponse, sends no key it does not declare (the list's rows and their
    ``because`` too), and every field the schema requires (``sequential``, ``ratingsCounted``) is sent."""
    root = tmp_path_factory.mktemp("kinds")
    ease, train = fit("ease", movies)
    markov = create("markov").fit(movies.interactions)  # a sequence model learns from every rating, in order
    arts = {
        "svd": load_artifact(svd_artifact[0]),
        "ease": load_artifact(export_artifact(ease, movies, train, root / "ease", min_support=0)),
        "markov": load_artifact(
            export_artifact(markov, movies, movies.interactions, root / "markov", min_support=0)
        ),
    }
    given = {"ratings": [{"movieId": 21, "rating": 5}, {"movieId": 31, "rating": 1}], "explain": True}
    with mounted_api(arts) as url:
        for name in arts:
            spec = httpx.get(f"{url}/{name}/openapi.json").json()
            schema = spec["components"]["schemas"]["RecommendationsResponse"]
            assert {"ratingsCounted", "sequential"} <= set(schema["required"]), schema["required"]
            validator = Draft202012Validator({**spec, "$ref": "#/components/schemas/RecommendationsResponse"})
            for resp in (
                httpx.post(f"{url}/{name}/recommendations", json=given),
                httpx.get(f"{url}/{name}/users/1/recommendations"),
                httpx.get(f"{url}/{name}/movies/21/similar"),
            ):
                body = resp.json()
                assert resp.status_code == 200, (name, resp.text)
                validator.validate(body)
                assert set(body) <= _declared(spec, "RecommendationsResponse"), (name, body)
                for row in body["recommendations"]:
                    assert set(row) <= _declared(spec, "Recommendation"), (name, row)
                    for ref in row.get("because") or []:
                        assert set(ref) <= _declared(spec, "MovieRef"), (name, ref)


@pytest.mark.slow
def test_responses_conform_to_the_openapi_schema(conformance_server: Server, svd_artifact) -> None:
    art = load_artifact(svd_artifact[0])
    users = [int(u) for u in art.user_map.ids[:20]]
    movies = [int(m) for m in art.item_map.ids[:30]]
    schema = schemathesis.openapi.from_url(conformance_server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: Counter[tuple[str, int]] = Counter()
    for op in operations:
        _run_operation(op, users, movies, statuses)
    ok = {label for (label, code) in statuses if code in (200, 201)}
    assert len(ok) >= len(operations) - 1, statuses  # real ids got (nearly) every operation past 404/422
    assert sum(statuses.values()) >= 10 * len(operations)
    print(f"schema conformance: {sum(statuses.values())} requests, {dict(statuses)}")


def _run_operation(op: Any, users: list[int], movies: list[int], statuses: Counter[tuple[str, int]]) -> None:
    """Up to 25 seeded cases of one operation, every response checked against the schema."""

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=op.as_strategy(), data=st.data())
    def run(case: Any, data: Any) -> None:
        _real_ids(case, users, movies, data.draw)
        response = case.call(headers={"X-API-Key": API_KEY}, timeout=15)
        statuses[(op.label, response.status_code)] += 1
        case.validate_response(response, checks=CHECKS)

    run()
