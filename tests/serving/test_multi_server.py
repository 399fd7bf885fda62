"""Several ``movierec serve`` processes, one PostgreSQL (or SQLite) feedback store.

Two servers on different ports share one database; clients retry each request on the other server,
so the same ``requestId`` reaches both. Idempotency must hold across processes (the database's unique
constraint decides), and a ``kill -9`` of one server mid-load must lose no acknowledged write.
"""

from __future__ import annotations

import signal
import threading
import time
import uuid

import httpx
import pytest
from servehelp import Server

from movierec.serving.store import FeedbackStore


def _load(
    urls: list[str], worker: int, n: int, acked: list[str], lock: threading.Lock, stop: threading.Event
) -> None:
    clients = [httpx.Client(base_url=u, timeout=5.0) for u in urls]
    try:
        for j in range(n):  # bounded in count
            if stop.is_set():
                return
            rid = f"w{worker}-{j}-{uuid.uuid4().hex[:8]}"
            body = {"userId": f"u{worker}", "movieId": 21, "rating": 0.5 + (j % 10) / 2, "requestId": rid}
            ok = False
            for client in (
                clients[worker % 2 :] + clients[: worker % 2]
            ):  # first choice, then the other server
                try:
                    resp = client.post("/feedback", json=body)
                except httpx.HTTPError:
                    continue  # that server is gone: retry the same requestId on the other one
                if resp.status_code in (200, 201):
                    ok = True
                    # the same request on the other server too: a client that never saw the answer retries
                    for other in clients:
                        if other is not client:
                            try:
                                again = other.post("/feedback", json=body)
                                assert again.status_code in (200, 201), again.text
                            except httpx.HTTPError:
                                pass
                    break
            if ok:
                with lock:
                    acked.append(rid)
    finally:
        for c in clients:
            c.close()


def _check(db: str, acked: list[str]) -> None:
    store = FeedbackStore(db)
    frame = store.frame()
    store.close()
    assert frame["requestId"].is_unique, "a requestId was stored twice"
    missing = set(acked) - set(frame["requestId"])
    assert not missing, f"{len(missing)} acknowledged writes lost"


@pytest.mark.slow
def test_two_servers_share_one_store_idempotently(svd_artifact, db_url: str) -> None:
    FeedbackStore(db_url).close()  # the schema exists before the servers start
    a = Server(svd_artifact[0], db_url).wait()
    b = Server(svd_artifact[0], db_url).wait()
    acked: list[str] = []
    lock, stop = threading.Lock(), threading.Event()
    try:
        threads = [
            threading.Thread(target=_load, args=([a.url, b.url], w, 15, acked, lock, stop)) for w in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        a.stop()
        b.stop()
    assert len(acked) == 8 * 15
    _check(db_url, acked)


@pytest.mark.slow
def test_kill_9_of_one_server_loses_no_acknowledged_write(svd_artifact, db_url: str) -> None:
    FeedbackStore(db_url).close()
    a = Server(svd_artifact[0], db_url).wait()
    b = Server(svd_artifact[0], db_url).wait()
    acked: list[str] = []
    lock, stop = threading.Lock(), threading.Event()
    threads = [
        threading.Thread(target=_load, args=([a.url, b.url], w, 60, acked, lock, stop)) for w in range(8)
    ]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acked) < 60 and time.monotonic() < deadline:
            time.sleep(0.02)
        a.proc.send_signal(signal.SIGKILL)  # mid-load; clients carry on against b
        a.proc.wait(10)
        for t in threads:
            t.join(120)
    finally:
        stop.set()
        a.stop()
        b.stop()
    assert len(acked) >= 60, "the load never got going"
    _check(db_url, acked)
