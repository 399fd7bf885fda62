"""Soak test of ``movierec serve`` on loopback → bench/results/soak.json.

A bounded load (default 60 s, 32 concurrent keep-alive clients) mixing the read endpoints with
``POST /feedback`` (API key on): zero errors allowed, resident memory sampled from
/proc/<pid>/status (VmRSS) once a second must not grow more than 10% from the end of warm-up to the
end, and every acknowledged feedback row must be in the database afterwards (rows lost = 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import free_port
from common import make_row, write_results

KEY = "soak-key"


def vm_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start(artifact: Path, db: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "movierec",
            "serve",
            "--artifact",
            str(artifact),
            "--port",
            str(port),
            "--db",
            str(db),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MOVIEREC_API_KEY": KEY},  # not --api-key: a key on the command line shows in ps
    )
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return proc, port
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start")


async def client(cid: int, port: int, users: list, movies: list, state: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    rng = random.Random(1000 * state["seed"] + cid)  # seeded: the same request stream every run
    n = 0
    try:
        while time.perf_counter() < state["deadline"]:
            n += 1
            kind = n % 5
            if kind == 0:
                rid = f"soak-{cid}-{n}"
                body = json.dumps(
                    {
                        "userId": users[n % len(users)],
                        "movieId": movies[(n * 7) % len(movies)],
                        "rating": 0.5 + (n % 10) * 0.5,
                        "requestId": rid,
                    }
                ).encode()
                req = (
                    b"POST /feedback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b"X-API-Key: "
                    + KEY.encode()
                    + b"\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
            elif kind == 1:
                req = (
                    f"GET /movies/{movies[n % len(movies)]}/similar?k=10 HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                )
            elif kind == 2:
                req = b"GET /movies?search=the&limit=20 HTTP/1.1\r\nHost: x\r\n\r\n"
            else:  # a random user, a random k (cached up to 50, computed above) and exclude_seen
                user, k = rng.choice(users), rng.randint(1, 100)
                seen = rng.choice(("true", "false"))
                req = f"GET /users/{user}/recommendations?k={k}&exclude_seen={seen} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            writer.write(req)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            state["requests"] += 1
            if status not in (200, 201):
                state["errors"].append(status)
            elif kind == 0:
                state["acked"].add(rid)
    finally:
        writer.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--warmup", type=float, default=10.0)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--artifact", type=Path, default=None)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    artifact = args.artifact or tmp / "svd"
    if args.artifact is None:
        subprocess.run(
            [sys.executable, "-m", "movierec", "export", "--model", "svd", "--out", str(artifact)], check=True
        )
    from movierec.serving.artifact import load_artifact

    art = load_artifact(artifact)
    users = [int(u) for u in art.user_map.ids]
    movies = [int(m) for m in art.item_map.ids]
    db = tmp / "feedback.db"
    proc, port = start(artifact, db)
    samples: list[tuple[float, int]] = []
    stop = threading.Event()
    t0 = time.perf_counter()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.perf_counter() - t0, vm_rss_kb(proc.pid)))
            stop.wait(1.0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    state: dict[str, Any] = {"deadline": 0.0, "requests": 0, "errors": [], "acked": set(), "seed": 0}

    async def run(seconds: float) -> None:
        state["deadline"] = time.perf_counter() + seconds
        res = await asyncio.gather(
            *[client(i, port, users, movies, state) for i in range(args.concurrency)], return_exceptions=True
        )
        state["errors"] += [repr(r) for r in res if isinstance(r, BaseException)]

    try:
        asyncio.run(run(args.warmup))
        state["seed"] = 1  # the measured run draws other users and k than the warm-up
        rss_start = vm_rss_kb(proc.pid)
        warm = dict(requests=state["requests"], errors=len(state["errors"]))
        state["requests"] = 0
        state["errors"] = []
        t_load = time.perf_counter()
        asyncio.run(run(args.seconds))
        wall = time.perf_counter() - t_load
        rss_end = vm_rss_kb(proc.pid)
    finally:
        stop.set()
        sampler.join(5)
        proc.terminate()
        proc.wait(30)
    con = sqlite3.connect(db)
    stored = {r[0] for r in con.execute("SELECT request_id FROM feedback")}
    integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
    con.close()
    lost = len(state["acked"] - stored)
    growth = (rss_end - rss_start) / rss_start
    quality = {
        "requests": state["requests"],
        "rps": state["requests"] / wall,
        "errors": len(state["errors"]),
        "warmup": warm,
        "concurrency": args.concurrency,
        "seconds": wall,
        "rss_start_kb": rss_start,
        "rss_end_kb": rss_end,
        "rss_max_kb": max(s[1] for s in samples),
        "rss_growth": growth,
        "feedback_acked": len(state["acked"]),
        "feedback_lost": lost,
        "db_integrity": integrity,
        "rss_samples": samples[::5],
    }
    ok = not state["errors"] and growth < 0.10 and lost == 0 and integrity == "ok"
    row = make_row(
        "soak",
        f"svd ml-latest-small, {args.concurrency} clients, {args.seconds:g} s",
        wall,
        None,
        None,
        quality=quality,
        passed=ok,
        notes="mixed GET recommendations (random user, k 1..100, exclude_seen true/false; seeded)/similar/search "
        "+ POST /feedback (1 in 5); RSS from /proc VmRSS",
    )
    print(json.dumps({k: v for k, v in quality.items() if k != "rss_samples"}, indent=1))
    print("written", write_results("soak", [row]))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
