"""Production serving: hot reload (SIGHUP, POST /admin/reload), several versions at once, observability.

Everything runs against real ``movierec serve`` processes on 127.0.0.1.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from servehelp import API_KEY, Server, fit, pool_connections

from movierec.errors import ConfigError
from movierec.serving.artifact import export_artifact
from movierec.serving.dispatch import bucket, parse_weights
from movierec.serving.observe import route_template
from movierec.serving.store import FeedbackStore


@pytest.fixture(scope="module")
def two_artifacts(movies, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("versions")
    a_model, a_train = fit("svd", movies, n_factors=8, n_epochs=10, random_state=0)
    b_model, b_train = fit("svd", movies, n_factors=8, n_epochs=10, random_state=1)
    a = export_artifact(a_model, movies, a_train, root / "a")
    b = export_artifact(b_model, movies, b_train, root / "b")
    return a, b


def _until(done: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Poll ``done`` until it holds; fail saying ``what`` after ``seconds`` (generous: a loaded machine's)."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _version(path: Path) -> str:
    return json.loads((path / "manifest.json").read_text())["model_version"]


def _flip(link: Path, target: Path) -> None:
    """What a deploy does: point ``link`` at ``target`` atomically (a new symlink renamed over the old one)."""
    tmp = link.with_name(link.name + ".tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)


def test_weights_and_buckets() -> None:
    assert parse_weights(None, 2) == [0.5, 0.5]
    assert parse_weights("80,20", 2) == [0.8, 0.2]
    for bad in ("80", "a,b", "-1,2", "0,0", "nan,1"):
        with pytest.raises(ConfigError):
            parse_weights(bad, 2)
    # it said "1 weights for 2 artifacts", no fix
    with pytest.raises(
        ConfigError, match=r"^--weights '50': 1 weight for 2 artifacts; give one per --artifact, "
    ):
        parse_weights("50", 2)
    with pytest.raises(ConfigError, match=r"e\.g\. --weights 80,10,10$"):
        parse_weights("50,50", 3)
    counts = Counter(bucket(str(u), [0.9, 0.1]) for u in range(10_000))
    assert abs(counts[0] / 10_000 - 0.9) <= 0.02 and abs(counts[1] / 10_000 - 0.1) <= 0.02
    counts3 = Counter(bucket(f"user-{u}", [0.5, 0.3, 0.2]) for u in range(10_000))
    for i, w in enumerate([0.5, 0.3, 0.2]):
        assert abs(counts3[i] / 10_000 - w) <= 0.02
    assert all(bucket("42", [0.5, 0.5]) == bucket("42", [0.5, 0.5]) for _ in range(5))  # stable


def test_route_templates_bound_the_labels() -> None:
    assert route_template("/users/17/recommendations") == "/users/{id}/recommendations"
    assert route_template("/movies/21/similar") == "/movies/{id}/similar"
    assert route_template("/movies/21") == "/movies/{id}"
    assert route_template("/static/app.js") == "/static"
    assert route_template("/wp-admin/x.php") == "other"


@pytest.mark.slow
def test_sighup_swaps_artifact_without_failed_requests(two_artifacts, tmp_path: Path) -> None:
    a, b = two_artifacts
    link = tmp_path / "current"
    _flip(link, a)
    srv = Server(link, "none").wait()
    failures: list[str] = []
    versions: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=srv.url, timeout=10.0) as client:
            for j in itertools.count():  # until the event (set in the finally below too)
                if stop.is_set():
                    return
                try:
                    r = client.get(f"/users/{1 + j % 30}/recommendations", params={"k": 5})
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
                    continue
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text[:80]}")
                versions.append(r.headers["x-model-version"])

    try:
        assert httpx.get(srv.url + "/health").headers["x-model-version"] == _version(a)
        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        # the load's answers are waited for, not a fixed time (0.5 s before the flip and after the swap): a
        # loaded machine could answer none from a version in that time, and its absence failed the test
        _until(lambda: _version(a) in versions, "no answer under load from the first version")
        _flip(link, b)
        srv.proc.send_signal(signal.SIGHUP)
        _until(
            lambda: httpx.get(srv.url + "/health").headers["x-model-version"] == _version(b),
            "GET /health never named the second version after SIGHUP",
        )
        _until(lambda: _version(b) in versions, "no answer under load from the second version")
        stop.set()
        for t in threads:
            t.join(30)
        assert httpx.get(srv.url + "/health").json()["modelVersion"] == _version(b)
        assert srv.proc.poll() is None, "SIGHUP must reload, not stop the server"
    finally:
        stop.set()
        srv.stop()
    assert not failures, failures[:5]
    assert _version(a) in versions and _version(b) in versions


def test_post_admin_reload_reloads_every_worker(two_artifacts, tmp_path: Path) -> None:
    """``--workers 2``: POST /admin/reload reaches one worker process, which reloaded and answered "reloaded:
    svd@a -> svd@b" while the other served the old artifact on (7 of 20 requests after a reload on ml-latest-small,
    for as long as the server ran). The worker now also signals serve's supervisor, which replaces every worker
    (uvicorn's SIGHUP), and the answer says so. New connections each time, so both workers answer."""
    a, b = two_artifacts
    link = tmp_path / "current"
    _flip(link, a)
    srv = Server(link, "none", "--workers", "2", env={"MOVIEREC_API_KEY": API_KEY}).wait()
    try:
        _flip(link, b)
        r = httpx.post(srv.url + "/admin/reload", headers={"X-API-Key": API_KEY}, timeout=60)
        assert r.status_code == 200 and r.json()["status"] == "reloaded", r.text
        assert r.json()["detail"].endswith("; every worker process restarts on it"), r.text
        # 20 answers in a row from b, each on a new connection (whichever worker takes it). A connection a retiring
        # worker had accepted but not read is closed unanswered (uvicorn's worker restart; one worker's reload
        # loses none, test_sighup_swaps_artifact_without_failed_requests): such a request is asked again
        seen: list[str] = []
        deadline = time.monotonic() + 150
        while seen[-20:] != [_version(b)] * 20 and time.monotonic() < deadline:
            try:
                answer = httpx.get(srv.url + "/health", headers={"Connection": "close"})
            except httpx.TransportError:
                continue
            seen.append(answer.json()["modelVersion"])
        assert seen[-20:] == [_version(b)] * 20, f"a worker kept serving a: {Counter(seen)}"
        assert srv.proc.poll() is None, "the reload must not stop the server"
    finally:
        srv.stop()


def _keyed_server_and_a_broken_copy(two_artifacts, tmp_path: Path) -> tuple[Path, Path, Server]:  # type: ignore[no-untyped-def]
    """A server with an API key on a link to the first artifact, and a copy of it whose factors fail
    their checksum (what a reload must refuse)."""
    a, _ = two_artifacts
    broken = tmp_path / "broken"
    shutil.copytree(a, broken)
    (broken / "factors.npz").write_bytes(b"not an npz")  # checksum mismatch
    link = tmp_path / "current"
    _flip(link, a)
    return link, broken, Server(link, "none", env={"MOVIEREC_API_KEY": API_KEY}).wait()


@pytest.mark.slow
def test_two_versions_split_by_user_and_feedback_records_them(two_artifacts, tmp_path: Path) -> None:
    a, b = two_artifacts
    va, vb = _version(a), _version(b)
    db = tmp_path / "fb.db"
    srv = Server(a, db, "--artifact", str(b), "--weights", "50,50", env={"MOVIEREC_API_KEY": API_KEY}).wait()
    try:
        seen: dict[int, str] = {}
        with httpx.Client(base_url=srv.url, timeout=10.0) as client:
            for user in range(1, 41):
                r = client.get(f"/users/{user}/recommendations", params={"k": 3})
                assert r.status_code == 200
                assert r.json()["modelVersion"] == r.headers["x-model-version"]
                seen[user] = r.headers["x-model-version"]
                again = client.get(f"/users/{user}/recommendations", params={"k": 7})
                assert again.headers["x-model-version"] == seen[user]  # a user always sees one version
                expected = [va, vb][bucket(str(user), [0.5, 0.5])]
                assert seen[user] == expected
            assert set(seen.values()) == {va, vb}
            forced = client.get("/users/1/recommendations", params={"model": vb})
            assert forced.headers["x-model-version"] == vb
            assert client.get("/users/1/recommendations", params={"model": "nope"}).status_code == 404
            for user in (1, 2, 3, 4, 5, 6):
                body = {"userId": user, "movieId": 21, "rating": 4.0, "requestId": f"ab-{user}"}
                fb = client.post("/feedback", json=body, headers={"X-API-Key": API_KEY})
                assert fb.status_code == 201, fb.text
                assert fb.headers["x-model-version"] == seen[user]
    finally:
        srv.stop()
    store = FeedbackStore(db)
    frame = store.frame(with_version=True)
    store.close()
    for user, version in zip(frame["userId"], frame["modelVersion"], strict=True):
        assert version == seen[int(user)]


def _served_log(artifact: Path, tmp_path: Path, *flags: str) -> str:
    """What ``movierec serve --artifact … *flags`` wrote to stdout and stderr together (one stream, as a
    container's log is) while answering users 1, 2, 3 and the unknown 99999, the default access log left on."""
    import subprocess

    from servehelp import movierec_cmd, served_url

    log = tmp_path / f"serve-{len(list(tmp_path.glob('serve-*.log')))}.log"
    cmd = movierec_cmd("serve", "--artifact", str(artifact), "--port", "0", "--db", "none", *flags)
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
        try:
            url, deadline = served_url(log, proc), time.monotonic() + 90
            while True:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                try:
                    if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            for user in (1, 2, 3, 99999):
                httpx.get(f"{url}/users/{user}/recommendations?k=3")
        finally:
            proc.terminate()
            proc.wait(10)
    return log.read_text()


def test_json_logs_write_each_request_once(svd_artifact, tmp_path: Path) -> None:
    """``--log-json`` logs each request as one JSON object, in place of uvicorn's plain access line. With the
    access log at its default (on), every request was logged twice in one container log: the JSON object on
    stderr and ``INFO: 127.0.0.1:… - "GET /users/1/recommendations?k=3 HTTP/1.1" 200 OK`` on stdout, a line
    a JSON log collector cannot parse. Without ``--log-json`` the plain line stays; ``--access-log`` typed
    beside ``--log-json`` keeps both. That last serve is also the one whose probes, metrics and JSON log
    records are checked (:func:`_probed_log`)."""
    plain = '"GET /users/1/recommendations?k=3 HTTP/1.1" 200'
    text = _served_log(svd_artifact[0], tmp_path, "--log-json")
    objects = [json.loads(x) for x in text.splitlines() if x.startswith("{")]
    assert [(x["path"], x["status"]) for x in objects if x["route"] == "/users/{id}/recommendations"] == [
        ("/users/1/recommendations", 200),
        ("/users/2/recommendations", 200),
        ("/users/3/recommendations", 200),
        ("/users/99999/recommendations", 404),
    ]
    assert plain not in text and "recommendations?k=3 HTTP/1.1" not in text, text
    assert "Application startup complete" in text  # uvicorn's other lines are still there
    assert plain in _served_log(svd_artifact[0], tmp_path)  # the default plain access log
    both = _probed_log(svd_artifact[0], tmp_path)  # --log-json --access-log
    assert plain in both and '"path":"/users/1/recommendations"' in both


def _probed_log(artifact: Path, tmp_path: Path) -> str:
    """The probes, the metrics and the JSON log of a ``movierec serve --log-json --access-log`` (at the default
    log level, info) with a feedback database and no API key, asked by users 1 (with ``?k=3``), 2, 3 and the
    unknown 99999, then POST /admin/reload (403 without a key); what it wrote to stdout and stderr. This was test_health_ready_metrics_and_json_logs, which started a
    server of its own for it (--log-level warning: no plain access line); the last server of
    test_json_logs_write_each_request_once is this one (about 2 CPU-s a serve)."""
    db = tmp_path / "fb.db"
    srv = Server(artifact, db, "--log-json", "--access-log", "--log-level", "info").wait()
    try:
        assert httpx.get(srv.url + "/healthz").json() == {"status": "ok"}
        ready = httpx.get(srv.url + "/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        for path in ("/users/1/recommendations?k=3", "/users/2/recommendations", "/users/3/recommendations"):
            assert httpx.get(srv.url + path).status_code == 200
        assert httpx.get(srv.url + "/users/99999/recommendations").status_code == 404
        text = httpx.get(srv.url + "/metrics").text
        version = httpx.get(srv.url + "/health").json()["modelVersion"]
        line = (
            f'movierec_requests_total{{method="GET",model_version="{version}",'
            f'route="/users/{{id}}/recommendations",status="200"}} 3.0'
        )
        assert line in text, text[:2000]
        assert 'status="404"' in text and "movierec_request_seconds_bucket" in text
        assert f'movierec_model_info{{model_version="{version}"}} 1.0' in text
        assert "_created" not in text  # a start-time sample per series doubled what a scraper stores
        # a server without an API key refuses POST /admin/reload with a 403 its published schema declares
        # (test_a_bad_artifact_is_refused_and_every_reload_answer_matches_the_schema's keyless server, which
        # was started for this alone)
        r = httpx.post(srv.url + "/admin/reload")
        assert r.status_code == 403 and "API key" in r.json()["detail"]
        _validator(httpx.get(srv.url + "/openapi.json").json(), "/admin/reload", 403)(r.json())
    finally:
        srv.stop()
    written = srv.log.read_text()
    logs = [json.loads(x) for x in written.splitlines() if x.startswith("{")]
    recs = [x for x in logs if x["route"] == "/users/{id}/recommendations"]
    assert len(recs) == 4 and {x["status"] for x in recs} == {200, 404}
    assert all(x["ms"] >= 0 and x["modelVersion"] for x in recs)
    return written


def test_readyz_is_503_when_the_store_does_not_answer(svd_artifact, tmp_path: Path) -> None:
    """The router and probes in-process (ASGI): a live store is ready, a store nobody answers for is not."""
    from fastapi.testclient import TestClient

    from movierec.serving.app import ServeSettings
    from movierec.serving.server import build_server

    live = FeedbackStore(tmp_path / "fb.db")
    asgi, _ = build_server([svd_artifact[0]], live, ServeSettings(static=False))
    assert TestClient(asgi).get("/readyz").status_code == 200
    pytest.importorskip("psycopg")
    gone = FeedbackStore("postgresql://nobody@127.0.0.1:1/none", create=False)  # nothing listens on port 1
    asgi, _ = build_server([svd_artifact[0]], gone, ServeSettings(static=False))
    client = TestClient(asgi)
    r = client.get("/readyz")
    assert r.status_code == 503 and "database does not answer" in r.json()["detail"]
    assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_the_server_closes_its_feedback_store_when_it_stops(svd_artifact, tmp_path: Path) -> None:
    """On the ASGI lifespan's shutdown (uvicorn stopping, each worker of --workers N) the feedback store's
    pooled connections are closed, not dropped with the process. Every pool connection is counted."""
    from fastapi.testclient import TestClient

    from movierec.serving.app import ServeSettings
    from movierec.serving.server import build_server

    with pool_connections() as opened:
        store = FeedbackStore(tmp_path / "fb.db")
        asgi, _ = build_server([svd_artifact[0]], store, ServeSettings(static=False))
        with TestClient(asgi) as client:  # the context runs the lifespan: startup, then shutdown on exit
            assert client.get("/readyz").status_code == 200  # the probe pings the store
            assert sum(opened) > 0
        assert sum(opened) == 0, "the store's connections were left open after shutdown"


def _validator(spec: dict, path: str, status: int):  # type: ignore[no-untyped-def]
    """A jsonschema check of a body against what ``spec`` declares for POST ``path`` answering ``status``."""
    import jsonschema

    declared = spec["paths"][path]["post"]["responses"][str(status)]["content"]["application/json"]["schema"]
    # the '#/components/…' references resolve inside this document, which carries the components
    return lambda body: jsonschema.validate(body, {**declared, "components": spec["components"]})


def test_a_bad_artifact_is_refused_and_every_reload_answer_matches_the_schema(
    two_artifacts, tmp_path: Path
) -> None:
    """A reload (POST /admin/reload, SIGHUP) of an artifact whose factors fail their checksum is refused, and
    the server keeps serving the old one; a good one then reloads.

    POST /admin/reload was missing from /openapi.json: the version router answers it before the apps, so
    its 401, 403 and 422 were declared nowhere, against the rule that every 4xx body matches the schema. The
    published schema now has it; the real answers of a server (no key, a wrong key, a broken artifact, a
    good one, and a server without a key, whose 403 is checked in :func:`_probed_log`) validate against the
    schema each status declares.

    One keyed server for both halves (they were two tests, test_bad_artifact_is_refused_and_old_keeps_serving
    and test_admin_reload_is_in_the_schema_and_its_answers_match_it, each starting the same server)."""
    a, _ = two_artifacts
    link, broken, srv = _keyed_server_and_a_broken_copy(two_artifacts, tmp_path)
    try:
        _flip(link, broken)
        assert httpx.post(srv.url + "/admin/reload").status_code == 401  # no key
        assert httpx.post(srv.url + "/admin/reload", headers={"X-API-Key": "wrong"}).status_code == 401
        r = httpx.post(srv.url + "/admin/reload", headers={"X-API-Key": API_KEY}, timeout=30)
        assert r.status_code == 422 and r.json()["status"] == "refused", r.text
        assert "checksum" in r.json()["detail"] or "factors" in r.json()["detail"]
        srv.proc.send_signal(signal.SIGHUP)  # the same through the signal: refused, still serving a
        refused = 'movierec_reloads_total{outcome="refused"} 2.0'
        # the signal's reload runs in the server's own time: its count is waited for (a fixed 1 s was a
        # guess at a loaded machine's speed, and the reload below could have run first)
        _until(
            lambda: srv.proc.poll() is not None or refused in httpx.get(srv.url + "/metrics").text,
            "the SIGHUP reload was never refused",
        )
        assert srv.proc.poll() is None, "SIGHUP must reload, not stop the server"
        rec = httpx.get(srv.url + "/users/1/recommendations")
        assert rec.status_code == 200 and rec.headers["x-model-version"] == _version(a)
        _flip(link, a)
        ok = httpx.post(srv.url + "/admin/reload", headers={"X-API-Key": API_KEY}, timeout=30)
        assert ok.status_code == 200 and ok.json()["modelVersions"] == [_version(a)]
        metrics = httpx.get(srv.url + "/metrics").text
        assert refused in metrics
        assert 'movierec_reloads_total{outcome="ok"} 1.0' in metrics
        # the schema half, on the same server (its link back on the first artifact)
        spec = httpx.get(srv.url + "/openapi.json").json()
        declared = spec["paths"]["/admin/reload"]["post"]["responses"]
        assert set(declared) == {"200", "401", "403", "422"}, declared
        seen = []
        bearer = {"Authorization": f"Bearer {API_KEY}"}  # as POST /feedback takes the key too
        for headers, target in (({}, a), ({"X-API-Key": "wrong"}, a), ({"X-API-Key": API_KEY}, broken),
                                ({"Authorization": "Bearer wrong"}, a), (bearer, broken),
                                ({"X-API-Key": API_KEY}, a)):  # fmt: skip
            _flip(link, target)
            r = httpx.post(srv.url + "/admin/reload", headers=headers, timeout=30)
            _validator(spec, "/admin/reload", r.status_code)(r.json())
            seen.append(r.status_code)
        assert seen == [401, 401, 422, 401, 422, 200]
        assert r.json()["status"] == "reloaded" and r.json()["modelVersions"] == [_version(a)]
    finally:
        srv.stop()
    # a server without a key (its 403): checked on test_json_logs_write_each_request_once's keyless server, in
    # _probed_log (a keyless server of its own here cost about 2 CPU-s)
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):  # the check can fail: a 401 body is no ReloadResult
        _validator(spec, "/admin/reload", 200)({"detail": "missing or wrong API key"})
