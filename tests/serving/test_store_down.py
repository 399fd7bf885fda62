"""POST /feedback while the feedback database is down is a 503 the client can retry, not a 500.

Walked on a fresh clone with the store in PostgreSQL: ``pg_ctl stop`` while ``movierec serve`` ran, and
``POST /feedback`` answered a plain-text ``500 Internal Server Error`` (declared nowhere in the OpenAPI)
with two tracebacks in the server's log, while ``/readyz`` rightly said 503 "the feedback database does
not answer". Now the write is a 503 ``{"detail": …}`` with ``Retry-After``, one warning line in the log
naming the database (no password) and the driver's reason, and the retry with the same ``requestId``
once PostgreSQL is back stores the rating once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from servehelp import API_KEY, Server


@pytest.fixture
def own_cluster() -> Iterator[object]:
    """A cluster of this test's own: it is stopped and started again, which the session's shared one must not be."""
    from pghelp import running_cluster

    with running_cluster() as cluster:
        yield cluster


def test_feedback_while_the_database_is_down_is_a_retryable_503(svd_artifact, own_cluster) -> None:
    c = own_cluster
    server = Server(svd_artifact[0], c.url, env={"MOVIEREC_API_KEY": API_KEY}).wait()  # type: ignore[attr-defined]
    try:
        with httpx.Client(base_url=server.url, timeout=30.0, headers={"X-API-Key": API_KEY}) as client:

            def send(request_id: str) -> httpx.Response:
                body = {"userId": "web-1", "movieId": 21, "rating": 4.5, "requestId": request_id}
                return client.post("/feedback", json=body)

            assert send(uuid.uuid4().hex).status_code == 201
            c._run("pg_ctl", "-D", str(c.data), "-m", "fast", "-w", "stop")  # type: ignore[attr-defined]
            retried = uuid.uuid4().hex
            down = send(retried)
            assert down.status_code == 503, (down.status_code, down.text)
            assert down.headers["content-type"] == "application/json" and down.headers["retry-after"] == "1"
            assert down.json() == {
                "detail": "the feedback database does not answer; retry with the same requestId, "
                "which stores the rating once"
            }
            assert client.get("/readyz").status_code == 503
            assert client.get("/users/1/recommendations?k=3").status_code == 200  # lists never needed it
            opts = f"-p {c.port} -k {c.root} -c listen_addresses=127.0.0.1"  # type: ignore[attr-defined]
            c._run("pg_ctl", "-D", str(c.data), "-l", str(c.root / "restart.log"), "-w", "-o", opts, "start")  # type: ignore[attr-defined]
            again = send(retried)
            assert again.status_code == 201 and again.json()["requestId"] == retried, again.text
            assert send(retried).status_code == 200  # stored once
            assert client.get("/readyz").status_code == 200
        log = server.log.read_text(errors="replace")
        assert "Traceback" not in log, log
        (warning,) = [ln for ln in log.splitlines() if ln.startswith("warning: /feedback:")]
        # the driver's reason: the pooled connection's "terminating connection due to administrator command",
        # or "Connection refused" for a new one
        assert f"movierec@127.0.0.1:{c.port}/movierec: " in warning, warning  # type: ignore[attr-defined]
        assert "administrator command" in warning or "Connection refused" in warning, warning
    finally:
        server.stop()
