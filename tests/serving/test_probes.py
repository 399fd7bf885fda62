"""/healthz and /readyz answer as every other route does: compact JSON, an ``X-Model-Version`` header, and
bodies that /openapi.json declares for their 200 and 503. A walk on a fresh clone read
``{"status": "ready", "modelVersions": [...]}`` (with spaces, unlike every other route), no version header on
either probe, and neither path in the OpenAPI schema (so nothing declared their 503)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from movierec.serving.app import ServeSettings, create_app
from movierec.serving.artifact import load_artifact
from movierec.serving.server import build_server
from movierec.serving.store import FeedbackStore


def _declared(spec: dict[str, Any], path: str, status: int) -> dict[str, Any]:
    """The JSON schema ``spec`` declares for GET ``path`` answering ``status``, its references resolvable."""
    schema = spec["paths"][path]["get"]["responses"][str(status)]["content"]["application/json"]["schema"]
    return {**schema, "components": spec["components"]}


def _check(client: TestClient, spec: dict[str, Any], path: str, status: int, version: str) -> dict[str, Any]:
    r = client.get(path)
    assert r.status_code == status, r.text
    assert r.headers["x-model-version"] == version
    assert r.headers["content-type"] == "application/json"
    assert ": " not in r.text and ", " not in r.text, r.text  # compact, as every other route
    jsonschema.validate(r.json(), _declared(spec, path, status))
    return dict(r.json())


def test_probes_are_compact_carry_the_version_and_match_the_schema(svd_artifact, tmp_path: Path) -> None:
    version = str(load_artifact(svd_artifact[0]).model_version)
    asgi, _ = build_server([svd_artifact[0]], FeedbackStore(tmp_path / "fb.db"), ServeSettings(static=False))
    client = TestClient(asgi)
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]["/healthz"]["get"]["responses"]) >= {"200"}
    assert set(spec["paths"]["/readyz"]["get"]["responses"]) >= {"200", "503"}
    assert _check(client, spec, "/healthz", 200, version) == {"status": "ok"}
    assert _check(client, spec, "/readyz", 200, version) == {"status": "ready", "modelVersions": [version]}
    with pytest.raises(jsonschema.ValidationError):  # the check can fail: a 503 body is no Ready
        jsonschema.validate({"status": "not ready", "detail": "x"}, _declared(spec, "/readyz", 200))
    pytest.importorskip("psycopg")
    gone = FeedbackStore("postgresql://nobody@127.0.0.1:1/none", create=False)  # nothing listens on port 1
    asgi, _ = build_server([svd_artifact[0]], gone, ServeSettings(static=False))
    client = TestClient(asgi)
    body = _check(client, spec, "/readyz", 503, version)
    assert body == {"status": "not ready", "detail": "the feedback database does not answer"}


def test_an_app_without_the_probe_layer_answers_the_same_bodies(svd_artifact, tmp_path: Path) -> None:
    """The declared handlers (create_app alone, as in a notebook) answer what the schema says, too."""
    art = load_artifact(svd_artifact[0])
    client = TestClient(create_app(art, FeedbackStore(tmp_path / "fb.db"), ServeSettings(static=False)))
    spec = client.get("/openapi.json").json()
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.text == f'{{"status":"ready","modelVersions":["{art.model_version}"]}}'
    jsonschema.validate(r.json(), _declared(spec, "/readyz", 200))


def test_every_get_answers_head_with_its_status_and_headers_and_no_body(server) -> None:
    """``curl -I URL`` and an uptime monitor's HEAD probe: a real ``movierec serve`` answers HEAD wherever it
    answers GET, with the GET's status, Content-Type and Content-Length and no body (RFC 9110 9.3.2). Every
    FastAPI route (GET only) answered ``405 Method Not Allowed``, ``allow: GET``: /health, /healthz, the page,
    /docs and the recommendation lists alike. A POST route still refuses HEAD, naming POST."""
    import http.client
    from urllib.parse import urlsplit

    host = urlsplit(server.url)
    paths = [
        "/health",
        "/healthz",
        "/readyz",
        "/",
        "/docs",
        "/openapi.json",
        "/movies?search=toy",
        "/movies/21",
    ]
    paths += [
        "/users/1/recommendations?k=3",
        "/users/1/recommendations?k=3&genres=Comedy",
        "/users/99999/recommendations",
    ]
    for path in paths:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        conn.request("GET", path)
        get = conn.getresponse()
        body = get.read()
        conn.request(
            "HEAD", path
        )  # on the same keep-alive connection: an unread body would break the next one
        head = conn.getresponse()
        assert head.read() == b"", path
        assert head.status == get.status, (path, head.status, head.getheaders())
        for name in ("content-type", "content-length", "x-model-version"):
            assert head.getheader(name) == get.getheader(name), (path, name)
        assert int(head.getheader("content-length")) == len(body), path
        conn.request("GET", "/healthz")
        assert conn.getresponse().read() == b'{"status":"ok"}', path
        conn.close()
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    conn.request("HEAD", "/recommendations")
    refused = conn.getresponse()
    assert (refused.status, refused.getheader("allow"), refused.read()) == (405, "POST", b"")
    conn.close()
