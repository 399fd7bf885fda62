"""Load test of ``GET /users/{id}/recommendations?k=10`` on loopback → bench/results/api.json.

Exports an svd model trained on ml-latest-small (the notebook's defaults), starts a real
``movierec serve`` (uvicorn, access log off) with 1 and then 2 workers, and drives it with 32
concurrent keep-alive connections from one asyncio process. The client speaks minimal HTTP/1.1
over raw sockets (not httpx) so that, on a 2-core machine shared with the server, the load
generator costs as little CPU as possible. Bounded: at most ``--requests`` requests or
``--seconds`` per run, whichever comes first; 3 runs per variant, the median run reported.

Targets (issue 6): ≥ 1,000 requests/s with p99 < 20 ms and no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import make_row, write_results


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def export_model(out: Path) -> Path:
    subprocess.run([sys.executable, "-m", "movierec", "export", "--model", "svd", "--out", str(out), "--force"], check=True)
    return out


def start_server(artifact: Path, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "movierec", "serve", "--artifact", str(artifact), "--port", str(port), "--db", "none",
         "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            # every worker must be up: a few health checks in a row
            time.sleep(2.0 if workers > 1 else 0.5)
            return proc, port
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start")


async def _client(port: int, paths: list[bytes], state: dict, latencies: list[float], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while state["sent"] < state["limit"] and time.perf_counter() < state["deadline"]:
            path = paths[state["sent"] % len(paths)]
            state["sent"] += 1
            t0 = time.perf_counter()
            writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                errors.append(str(status))
    finally:
        writer.close()


async def _load(port: int, paths: list[bytes], concurrency: int, limit: int, seconds: float) -> dict:
    state = {"sent": 0, "limit": limit, "deadline": time.perf_counter() + seconds}
    latencies: list[float] = []
    errors: list[str] = []
    t0 = time.perf_counter()
    results = await asyncio.gather(*[_client(port, paths, state, latencies, errors) for _ in range(concurrency)],
                                   return_exceptions=True)
    wall = time.perf_counter() - t0
    errors += [repr(r) for r in results if isinstance(r, BaseException)]
    lat = np.asarray(latencies) * 1000.0
    return {
        "requests": len(lat), "errors": len(errors), "seconds": wall, "rps": len(lat) / wall,
        "p50_ms": float(np.percentile(lat, 50)), "p90_ms": float(np.percentile(lat, 90)),
        "p99_ms": float(np.percentile(lat, 99)), "max_ms": float(lat.max()),
    }


def run_variant(artifact: Path, workers: int, users: list[int], args: argparse.Namespace) -> tuple[dict, list[dict]]:
    paths = [f"/users/{u}/recommendations?k=10".encode() for u in users]
    proc, port = start_server(artifact, workers)
    try:
        asyncio.run(_load(port, paths, args.concurrency, 2000, 10.0))  # warm-up (caches, thread pools)
        runs = [asyncio.run(_load(port, paths, args.concurrency, args.requests, args.seconds)) for _ in range(args.repeat)]
    finally:
        proc.terminate()
        proc.wait(30)
    runs_sorted = sorted(runs, key=lambda r: r["rps"])
    return runs_sorted[len(runs_sorted) // 2], runs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=20_000, help="max requests per run")
    p.add_argument("--seconds", type=float, default=20.0, help="max seconds per run")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--extra-light", type=int, default=8, help="also run the last worker count with this many clients (0: skip)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts to try")
    p.add_argument("--artifact", type=Path, default=None, help="reuse an exported artifact instead of training svd")
    args = p.parse_args()
    args.repeat = max(3, args.repeat)
    artifact = args.artifact or export_model(Path(tempfile.mkdtemp(prefix="bench-api-")) / "svd")
    from movierec.serving.app import limit_blas_threads
    from movierec.serving.artifact import load_artifact

    limit_blas_threads()  # as the server does
    art = load_artifact(artifact)
    users = [int(u) for u in art.user_map.ids]
    # the in-process cost of one top-10 (numpy only), for context
    t0 = time.perf_counter()
    for u in users:
        art.recommend(u, 10)
    per_call_ms = (time.perf_counter() - t0) / len(users) * 1000
    rows = []
    plan = [(int(w), args.concurrency) for w in args.workers.split(",")]
    if args.extra_light:
        plan.append((plan[-1][0], args.extra_light))
    for workers, concurrency in plan:
        args_c = argparse.Namespace(**{**vars(args), "concurrency": concurrency})
        median, runs = run_variant(artifact, workers, users, args_c)
        ok = median["rps"] >= 1000 and median["p99_ms"] < 20 and median["errors"] == 0
        print(f"workers={workers}, clients={concurrency}: {median['rps']:.0f} req/s, p50 {median['p50_ms']:.2f} ms, p90 {median['p90_ms']:.2f} ms, "
              f"p99 {median['p99_ms']:.2f} ms, errors {median['errors']} -> {'meets' if ok else 'misses'} the target")
        rows.append(make_row(
            "api", f"GET /users/{{id}}/recommendations?k=10, workers={workers}, {concurrency} clients",
            1.0 / median["rps"], None, None,
            quality={**{k: round(v, 3) if isinstance(v, float) else v for k, v in median.items()},
                     "all_runs_rps": [round(r["rps"], 1) for r in runs], "meets_target": ok,
                     "in_process_recommend_ms": round(per_call_ms, 3)},
            notes=(f"svd (ml-latest-small, {art.n_items} items, {art.manifest['model']['params']['n_factors']} factors), "
                   f"loopback, client and server share the machine ({os.cpu_count()} cores); median of {len(runs)} runs "
                   f"of ≤{args.requests} requests/≤{args.seconds:g} s; ours_seconds = 1/throughput. With a closed loop of "
                   f"{concurrency} clients, mean latency = clients/throughput (Little's law), so p99 < 20 ms at 32 "
                   f"clients needs well over 1,600 req/s"),
        ))
    path = write_results("api", rows, mode="quick")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
