"""Feedback survives ``kill -9`` of the server mid-load: every request answered 2xx is in the database."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from servehelp import Server


@pytest.mark.slow
def test_acknowledged_feedback_survives_kill_9(svd_artifact, tmp_path: Path) -> None:
    db = tmp_path / "feedback.db"
    srv = Server(svd_artifact[0], db).wait()
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(worker: int) -> None:
        with httpx.Client(base_url=srv.url, timeout=5.0) as client:
            for j in range(400):  # bounded in count (and by the kill below)
                if stop.is_set():
                    return
                rid = f"crash-{worker}-{j}-{uuid.uuid4().hex[:8]}"
                body = {"userId": f"w{worker}", "movieId": 21, "rating": 0.5 + (j % 10) / 2, "requestId": rid}
                try:
                    resp = client.post("/feedback", json=body)
                except httpx.HTTPError:
                    return  # the server is gone
                if resp.status_code in (200, 201):
                    with lock:
                        acked.append(rid)

    threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < 40 and time.monotonic() < deadline and any(t.is_alive() for t in threads):
        time.sleep(0.02)
    srv.proc.send_signal(signal.SIGKILL)  # mid-load: writers are still posting
    srv.proc.wait(10)
    stop.set()
    for t in threads:
        t.join(30)
    srv.stop()
    assert len(acked) >= 40, "the load never got going"
    again = Server(svd_artifact[0], db).wait()  # the server restarts on the crashed database
    try:
        resp = httpx.post(
            again.url + "/feedback",
            json={"userId": "after", "movieId": 21, "rating": 3.0, "requestId": "after-1"},
        )
        assert resp.status_code == 201
    finally:
        again.stop()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {r[0] for r in conn.execute("SELECT request_id FROM feedback")}
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {sorted(missing)[:3]}"
    assert "after-1" in stored
