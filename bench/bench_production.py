"""Production serving under load → bench/results/production.json (issue 22).

Four measurements, each against real ``movierec serve`` processes on loopback:

1. **Feedback writes per second**: 8 concurrent clients POST /feedback (unique ``requestId`` each) for
   ``--seconds``; one server on SQLite, two servers on one SQLite file, two servers on one PostgreSQL
   (a throw-away cluster, as the tests start it). Median of ``--repeat`` runs.
2. **kill -9 of one of two servers** during that load, clients retrying on the other server with the
   same ``requestId``: acknowledged writes lost and rows stored twice, per repeat (target 0 and 0).
3. **Hot reload under 32 clients**: an asyncio client keeps 32 connections busy with
   ``GET /users/{id}/recommendations``; mid-run the ``--artifact`` symlink is flipped and SIGHUP sent.
   Failed requests over the whole run and p99 latency of the requests answered in the second after
   the signal (target 0 failed, p99 < 50 ms).
4. **Traffic split**: 10,000 user ids over weights 90/10 and 50/30/20 (the server's SHA-256 buckets):
   the largest deviation from the configured share (target ±2%), and whether a user's version is stable.

The 1-minute load average is recorded with every row; the 2-core machine also runs the servers,
the clients and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from common import make_row, write_results  # noqa: E402

API_KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load1() -> float:
    return round(os.getloadavg()[0], 2)


class Serve:
    def __init__(self, artifact: Path, db: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            sys.executable,
            "-m",
            "movierec",
            "serve",
            "--artifact",
            str(artifact),
            "--port",
            str(self.port),
        ]
        cmd += ["--db", db, "--no-access-log", "--log-level", "warning"]
        env = {**os.environ, "MOVIEREC_API_KEY": API_KEY}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def feedback_load(urls: list[str], clients: int, seconds: float, kill: Serve | None = None) -> dict[str, Any]:
    """``clients`` threads POST /feedback until ``seconds`` pass; optionally kill -9 ``kill`` at 1/3."""
    acked: list[str] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(w: int) -> None:
        order = [httpx.Client(base_url=u, timeout=5.0, headers={"X-API-Key": API_KEY}) for u in urls]
        order = order[w % len(order) :] + order[: w % len(order)]
        j = 0
        while time.monotonic() < deadline:
            j += 1
            rid = f"b{w}-{j}-{uuid.uuid4().hex[:6]}"
            body = {"userId": w + 1, "movieId": 1, "rating": 0.5 + (j % 10) / 2, "requestId": rid}
            for client in order:
                try:
                    r = client.post("/feedback", json=body)
                except httpx.HTTPError:
                    continue
                if r.status_code in (200, 201):
                    with lock:
                        acked.append(rid)
                    break
            else:
                with lock:
                    errors[0] += 1
        for c in order:
            c.close()

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    if kill is not None:
        time.sleep(seconds / 3)
        kill.proc.send_signal(signal.SIGKILL)
    for t in threads:
        t.join(seconds + 60)
    wall = time.monotonic() - t0
    return {"acked": acked, "errors": errors[0], "seconds": wall, "wps": len(acked) / wall}


def check_store(db: str, acked: list[str]) -> tuple[int, int]:
    from movierec.serving.store import FeedbackStore

    store = FeedbackStore(db)
    frame = store.frame()
    store.close()
    ids = frame["requestId"]
    return len(set(acked) - set(ids)), int(ids.duplicated().sum())


async def _reload_client(
    port: int, paths: list[bytes], stop: float, log: list[tuple[float, float, int]]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while time.perf_counter() < stop:
            path = paths[i % len(paths)]
            i += 7
            t0 = time.perf_counter()
            writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                log.append((t0, time.perf_counter(), 0))
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            status = int(head[9:12])
            length = next(int(h[15:]) for h in head.split(b"\r\n") if h[:15].lower() == b"content-length:")
            await reader.readexactly(length)
            log.append((t0, time.perf_counter(), status))
    finally:
        writer.close()


def reload_under_load(a: Path, b: Path, seconds: float, clients: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="bench-reload-"))
    link = root / "current"
    link.symlink_to(a)
    srv = Serve(link, "none")
    try:
        from movierec.serving.artifact import load_artifact

        users = load_artifact(a).user_map.ids
        paths = [f"/users/{u}/recommendations?k=10".encode() for u in users]
        log: list[tuple[float, float, int]] = []
        start = time.perf_counter()
        stop = start + seconds
        signal_at: list[float] = []

        async def run() -> None:
            tasks = [asyncio.create_task(_reload_client(srv.port, paths, stop, log)) for _ in range(clients)]
            await asyncio.sleep(seconds / 2)
            tmp = root / "next"
            tmp.symlink_to(b)
            os.replace(tmp, link)
            signal_at.append(time.perf_counter())
            srv.proc.send_signal(signal.SIGHUP)
            await asyncio.gather(*tasks)

        asyncio.run(run())
        version = httpx.get(srv.url + "/health").json()["modelVersion"]
    finally:
        srv.stop()
    t_sig = signal_at[0]
    failed = sum(1 for _, _, s in log if s != 200)
    window = [(e - s) * 1000 for s, e, st in log if t_sig <= e <= t_sig + 1.0]
    other = [(e - s) * 1000 for s, e, st in log if not t_sig <= e <= t_sig + 1.0]
    return {
        "requests": len(log),
        "failed": failed,
        "p99_reload_second_ms": float(np.percentile(window, 99)) if window else None,
        "p50_reload_second_ms": float(np.percentile(window, 50)) if window else None,
        "p99_other_ms": float(np.percentile(other, 99)) if other else None,
        "rps": len(log) / seconds,
        "new_version": version,
    }


def export(model: str, seed: int, out: Path) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "movierec",
        "export",
        "--model",
        model,
        "--seed",
        str(seed),
        "--out",
        str(out),
    ]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true")
    g.add_argument("--scale", action="store_true", help="same as --quick")
    p.add_argument("--seconds", type=float, default=6.0, help="seconds per feedback run")
    p.add_argument("--reload-seconds", type=float, default=8.0)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    from movierec.serving.dispatch import bucket
    from pghelp import PostgresCluster, pg_unavailable_reason

    tmp = Path(tempfile.mkdtemp(prefix="bench-prod-"))
    a = export("popularity", 1, tmp / "a")
    b = export("svd", 2, tmp / "b")
    rows = []
    cluster = None if pg_unavailable_reason() else PostgresCluster()
    try:
        setups: list[tuple[str, int]] = [("sqlite", 1), ("sqlite", 2)] + (
            [("postgresql", 2)] if cluster else []
        )
        for backend, n_servers in setups:
            runs: list[dict[str, Any]] = []
            for rep in range(args.repeat):
                db = (
                    f"sqlite:///{tmp / f'fb-{backend}-{n_servers}-{rep}.db'}"
                    if backend == "sqlite"
                    else cluster.fresh_database(f"bench_{n_servers}_{rep}_{uuid.uuid4().hex[:6]}")  # type: ignore[union-attr]
                )
                from movierec.serving.store import FeedbackStore

                FeedbackStore(db).close()
                servers = [Serve(a, db) for _ in range(n_servers)]
                before = load1()
                try:
                    r = feedback_load([s.url for s in servers], 8, args.seconds)
                finally:
                    for s in servers:
                        s.stop()
                lost, dup = check_store(db, r["acked"])  # type: ignore[arg-type]
                runs.append(
                    {
                        "wps": r["wps"],
                        "errors": r["errors"],
                        "lost": lost,
                        "dup": dup,
                        "load": [before, load1()],
                    }
                )
                print(
                    f"   feedback {backend} x{n_servers}: {r['wps']:.0f} writes/s, lost {lost}, dup {dup}",
                    flush=True,
                )
            wps = float(np.median([x["wps"] for x in runs]))
            rows.append(
                make_row(
                    "production",
                    f"POST /feedback writes/s, {n_servers} server(s), {backend}, 8 clients",
                    1.0 / wps,
                    None,
                    None,
                    quality={
                        "writes_per_s": round(wps, 1),
                        "all_runs_wps": [round(x["wps"]) for x in runs],
                        "lost": sum(x["lost"] for x in runs),
                        "duplicated": sum(x["dup"] for x in runs),
                        "errors": sum(x["errors"] for x in runs),
                        "load_1min_before_after": [x["load"] for x in runs],
                    },
                    notes=f"median of {len(runs)} runs of {args.seconds:g} s; durable commits (SQLite WAL synchronous=FULL, PostgreSQL fsync on)",
                )
            )
        for backend in ["postgresql", "sqlite"] if cluster else ["sqlite"]:
            kills = []
            for rep in range(args.repeat):
                db = (
                    f"sqlite:///{tmp / f'kill-{rep}.db'}"
                    if backend == "sqlite"
                    else cluster.fresh_database(f"kill_{rep}_{uuid.uuid4().hex[:6]}")  # type: ignore[union-attr]
                )
                from movierec.serving.store import FeedbackStore

                FeedbackStore(db).close()
                s1, s2 = Serve(a, db), Serve(a, db)
                before = load1()
                try:
                    r = feedback_load([s1.url, s2.url], 8, args.seconds, kill=s1)
                finally:
                    s1.stop()
                    s2.stop()
                lost, dup = check_store(db, r["acked"])  # type: ignore[arg-type]
                kills.append({"acked": len(r["acked"]), "lost": lost, "dup": dup, "load": [before, load1()]})  # type: ignore[arg-type]
                print(
                    f"   kill -9 {backend}: {len(r['acked'])} acknowledged, lost {lost}, dup {dup}",
                    flush=True,
                )  # type: ignore[arg-type]
            rows.append(
                make_row(
                    "production",
                    f"kill -9 of 1 of 2 servers mid-load, {backend}, 8 clients",
                    None,
                    None,
                    None,
                    quality={
                        "acknowledged": [k["acked"] for k in kills],
                        "lost": sum(k["lost"] for k in kills),
                        "duplicated": sum(k["dup"] for k in kills),
                        "meets_target": all(k["lost"] == 0 and k["dup"] == 0 for k in kills),
                        "load_1min_before_after": [k["load"] for k in kills],
                    },
                    notes="clients retry the same requestId on the other server; the store is checked after each run",
                )
            )
    finally:
        if cluster is not None:
            cluster.stop()
    reloads: list[dict[str, Any]] = []
    for _rep in range(args.repeat):
        before = load1()
        r = reload_under_load(a, b, args.reload_seconds, 32)
        r["load"] = [before, load1()]
        reloads.append(r)
        print(
            f"   reload: {r['failed']} failed of {r['requests']}, p99 in the reload second {r['p99_reload_second_ms']:.1f} ms",
            flush=True,
        )
    p99 = float(np.median([r["p99_reload_second_ms"] for r in reloads]))
    rows.append(
        make_row(
            "production",
            "hot reload (symlink flip + SIGHUP) under 32 clients, GET /users/{id}/recommendations",
            None,
            None,
            None,
            quality={
                "failed": sum(r["failed"] for r in reloads),  # type: ignore[misc]
                "p99_reload_second_ms": round(p99, 2),
                "all_runs_p99_reload_second_ms": [round(r["p99_reload_second_ms"], 2) for r in reloads],  # type: ignore[arg-type]
                "all_runs_p99_other_ms": [round(r["p99_other_ms"], 2) for r in reloads],  # type: ignore[arg-type]
                "requests": [r["requests"] for r in reloads],
                "meets_target": sum(r["failed"] for r in reloads) == 0 and p99 < 50,  # type: ignore[misc]
                "load_1min_before_after": [r["load"] for r in reloads],
            },
            notes="popularity artifact swapped for an svd one mid-run; Python asyncio client (32 keep-alive connections)",
        )
    )
    split = {}
    for weights in ([0.9, 0.1], [0.5, 0.3, 0.2]):
        counts = Counter(bucket(str(u), weights) for u in range(1, 10_001))
        dev = max(abs(counts[i] / 10_000 - w) for i, w in enumerate(weights))
        stable = all(bucket(str(u), weights) == bucket(str(u), weights) for u in range(1, 2001))
        split["/".join(f"{w:g}" for w in weights)] = {"max_deviation": round(dev, 4), "stable": stable}
    rows.append(
        make_row(
            "production",
            "traffic split over 10,000 user ids (SHA-256 buckets)",
            None,
            None,
            None,
            quality={
                **split,
                "meets_target": all(v["max_deviation"] <= 0.02 and v["stable"] for v in split.values()),
            },
        )
    )
    path = write_results("production", rows, mode="quick")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
