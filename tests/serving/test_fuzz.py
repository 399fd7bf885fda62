"""Schemathesis against the running service's own OpenAPI (real uvicorn on 127.0.0.1): no 5xx, JSON 4xx bodies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from servehelp import API_KEY, Server

CALLS: list[int] = []


@pytest.fixture(scope="module")
def fuzz_server(svd_artifact, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Its own server and database, so fuzzed feedback never reaches the other API tests' rows."""
    db = tmp_path_factory.mktemp("fuzzdb") / "feedback.db"
    srv = Server(svd_artifact[0], db, env={"MOVIEREC_API_KEY": API_KEY}).wait()
    yield srv
    srv.stop()
    assert srv.proc.returncode is not None


def _check(case, response) -> None:
    CALLS.append(response.status_code)
    case.validate_response(response, checks=(not_a_server_error,))
    assert response.status_code < 500, (
        case.method,
        case.formatted_path,
        response.status_code,
        response.text[:300],
    )
    if 400 <= response.status_code < 500:
        ctype = response.headers.get("content-type") or [""]
        assert str(ctype[0] if isinstance(ctype, list) else ctype).startswith("application/json"), (
            response.headers
        )
        body = response.json()
        assert isinstance(body, dict) and "detail" in body, body


@pytest.mark.slow
def test_api_never_5xx_and_errors_are_json(fuzz_server: Server) -> None:
    """Every operation of /openapi.json, up to 30 generated cases each (seeded), half of them with the API key."""
    schema = schemathesis.openapi.from_url(fuzz_server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5
    for op in operations:

        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=op.as_strategy())
        def fuzz(case) -> None:
            headers = {"X-API-Key": API_KEY} if len(CALLS) % 2 == 0 else None
            _check(case, case.call(headers=headers, timeout=15))

        fuzz()
    assert len(CALLS) >= 5 * len(operations)
    assert any(400 <= c < 500 for c in CALLS) and any(c == 200 for c in CALLS)
    print(f"fuzz: {len(CALLS)} requests over {len(operations)} operations")
