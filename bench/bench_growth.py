"""Cost growth and machine limits: fit time vs number of ratings per model, on a log-log chart.

For each model, fit time is measured on synthetic MovieLens-shaped data at three sizes
(quick: 100k / 300k / 1M ratings; --scale: 1M / 5M / 25M); the slope of log(time) against
log(ratings) is the empirical cost exponent (≈1 means linear). Next to each time we print the
machine's limit for the same work: floating-point operations divided by a measured single-core
FMA rate, and bytes touched divided by measured memory bandwidth, so the table shows how far we
are from what the hardware allows. Writes bench/results/growth.json and bench/results/growth.png.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, make_row, parse_mode, run_in_child, write_results
from synthetic import ensure, label

# Work per unit for each model (flops, bytes), with f factors. SGD/BPR touch two f-vectors per
# rating (read + write); ALS builds f×f Gram updates per rating and solves f×f systems per row.
MODELS: dict[str, dict[str, Any]] = {
    "svd": {"params": {"n_factors": 80, "n_epochs": 25}, "implicit": False},
    "als": {"params": {"factors": 64, "iterations": 15}, "implicit": True},
    "bpr": {"params": {"no_components": 40, "epochs": 5, "num_threads": 2}, "implicit": True},
}


def work(model: str, n_ratings: int, n_users: int, n_items: int) -> tuple[float, float, int]:
    """(flops, compulsory bytes, threads) of one fit: a deliberately simple operation count.

    Bytes are the compulsory memory traffic: every rating read once per epoch plus every factor
    row read and written once per epoch (rows reused within an epoch are assumed cached).
    """
    rows = n_users + n_items
    if model == "svd":  # one thread: Surprise's sequential SGD order
        f, epochs = 80, 25
        flops: float = epochs * n_ratings * (2 * f + 6 * f + 10)  # dot product + two vector updates + biases
        nbytes = epochs * (n_ratings * 12 + rows * f * 8 * 2)
        return float(flops), float(nbytes), 1
    if model == "als":
        f, iters = 64, 15
        flops = iters * (2 * n_ratings * (f * f + 2 * f) + rows * (f**3 / 3 + 2 * f * f))
        nbytes = iters * (2 * n_ratings * 8 + rows * f * 4 * 2)
        return float(flops), float(nbytes), 2
    f, epochs = 40, 5  # bpr: per sampled positive, user/positive/negative vectors: 3 dots + 3 updates
    flops = epochs * n_ratings * (3 * 2 * f + 3 * 4 * f)
    nbytes = epochs * (n_ratings * 8 + rows * f * 4 * 2)
    return float(flops), float(nbytes), 2


def machine_limits() -> dict[str, float]:
    """Single-core FMA rate (GFLOP/s, float64 matmul on one thread) and memory bandwidth (GB/s, array copy)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        n = 1024
        a = np.random.default_rng(0).random((n, n))
        a @ a
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            a @ a
            runs.append(time.perf_counter() - t0)
        gflops = 2 * n**3 / min(runs) / 1e9
    x = np.ones(50_000_000 // 8 * 8)
    y = np.empty_like(x)
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        np.copyto(y, x)
        runs.append(time.perf_counter() - t0)
    gbps = 2 * x.nbytes / min(runs) / 1e9
    return {"gflops_per_core": gflops, "memory_gb_per_s": gbps}


def fit_once(model: str, path: str) -> dict[str, float]:
    """Load a synthetic ratings file and fit one model (runs in a child process)."""
    from movierec.datasets import load_ratings_file
    from movierec.models import create

    spec = MODELS[model]
    inter = load_ratings_file(path).interactions
    train = inter.to_implicit(4.0) if spec["implicit"] else inter
    t0 = time.perf_counter()
    create(model, random_state=0, **spec["params"]).fit(train)
    return {
        "fit_seconds": time.perf_counter() - t0,
        "n_ratings": train.n_ratings,
        "n_users": train.n_users,
        "n_items": train.n_items,
    }


def main() -> None:
    args = parse_mode(__doc__.splitlines()[0])
    sizes = [1_000_000, 5_000_000, 25_000_000] if args.mode == "scale" else [100_000, 300_000, 1_000_000]
    limits = machine_limits()
    print(
        f"machine: {limits['gflops_per_core']:.1f} GFLOP/s per core, {limits['memory_gb_per_s']:.1f} GB/s copy"
    )
    points: dict[str, list[tuple[int, float]]] = {m: [] for m in MODELS}
    rows = []
    for n in sizes:
        path = str(ensure(n))
        for model in MODELS:
            repeat = 1 if n >= 25_000_000 else args.repeat
            outs = [run_in_child(fit_once, model, path, repeat=1) for _ in range(repeat)]
            res = outs[-1]["result"]
            fit_s = float(np.median([o["result"]["fit_seconds"] for o in outs]))  # fit only, not the load
            out = {"peak_rss_mb": max(o["peak_rss_mb"] for o in outs)}
            flops, nbytes, threads = work(model, res["n_ratings"], res["n_users"], res["n_items"])
            limit_compute = flops / (limits["gflops_per_core"] * 1e9 * threads)
            limit_memory = nbytes / (limits["memory_gb_per_s"] * 1e9)
            floor = max(limit_compute, limit_memory)
            points[model].append((res["n_ratings"], fit_s))
            print(
                f"{model:4s} {label(n):>5s}: fit {fit_s:7.2f} s  (machine floor {floor:.3f} s, {fit_s / floor:.0f}× above)"
            )
            rows.append(
                make_row(
                    "growth",
                    f"{model} fit, synthetic {label(n)} ratings",
                    fit_s,
                    "machine floor",
                    floor,
                    quality={
                        "n_ratings_fitted": res["n_ratings"],
                        "gflop": flops / 1e9,
                        "gbytes": nbytes / 1e9,
                        "limit_compute_s": limit_compute,
                        "limit_memory_s": limit_memory,
                        "peak_rss_mb": out["peak_rss_mb"],
                    },
                    notes=f"{MODELS[model]['params']}; fit time: median of {repeat} fresh child processes; floor = max(flops / ({limits['gflops_per_core']:.1f} GFLOP/s × {threads} core(s)), "
                    f"bytes / {limits['memory_gb_per_s']:.1f} GB/s)",
                    ours_peak_rss_mb=out["peak_rss_mb"],
                )
            )
    for model, pts in points.items():
        x = np.log([p[0] for p in pts])
        y = np.log([p[1] for p in pts])
        slope = float(np.polyfit(x, y, 1)[0])
        print(f"{model}: cost exponent {slope:.2f}")
        rows.append(
            make_row(
                "growth",
                f"{model}: slope of log(fit s) vs log(ratings)",
                None,
                None,
                None,
                quality={"slope": slope, "sizes": [p[0] for p in pts]},
                notes="≈1 is linear growth; > 1.3 would signal super-linear cost",
            )
        )
    rows.append(
        make_row(
            "growth",
            "machine limits",
            None,
            None,
            None,
            quality=limits,
            notes="float64 matmul on one thread (FMA rate); np.copyto of 400 MB (read+write bandwidth)",
        )
    )
    write_results("growth", rows, mode=args.mode)
    _chart(points, RESULTS_DIR / ("growth-scale.png" if args.mode == "scale" else "growth.png"))


def _chart(points: dict[str, list[tuple[int, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for model, pts in points.items():
        xs = np.array([p[0] for p in pts], dtype=float)
        ys = np.array([p[1] for p in pts], dtype=float)
        slope, _icpt = np.polyfit(np.log(xs), np.log(ys), 1)
        ax.loglog(xs, ys, "o-", label=f"{model} (slope {slope:.2f})")
    ax.set_xlabel("ratings")
    ax.set_ylabel("fit seconds")
    ax.set_title("Fit time vs data size (log-log)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(path)


if __name__ == "__main__":
    main()
