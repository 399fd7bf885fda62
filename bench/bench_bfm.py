"""Bayesian FM (Gibbs sampling): our ``bayesian-fm`` beside ``myfm`` at equal rank and samples (issue 19).

    PYTHONPATH=src nice -n 10 python bench/bench_bfm.py [--repeat 3] [--rank 10] [--n-iter 200]

(12 fits on u1.base: about 2–3 min of CPU, ~10× that in wall time at load 12+).

ml-100k u1.base / u1.test; both get exactly the same design (``relational_design``: user, the SVD++
implicit items, the flipped implicit users and, for ``timesvdpp-flipped``, timeSVD++'s user-day
indicator) as two relation blocks, the same rank, sweeps and burn-in. Each fit runs in a fresh child
process, ours and myfm's interleaved, ``--repeat`` times; the row holds the median fit time (wall and
CPU, measured around ``fit`` alone; our first fit in a child includes loading numba's cached machine
code), the RMSE on u1.test of the last repeat (each repeat has the same seed) and the load average.
Writes ``bench/results/bfm.json`` (BENCHMARKS.md's ``bfm`` table).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import interleaved_runs, make_row, paired_fields, write_results  # noqa: E402

ML100K = Path(os.environ.get("MOVIEREC_ML100K", str(ROOT.parent / "shared" / "data" / "ml-100k")))
FEATURES = ("flipped", "timesvdpp-flipped")


def fit_u1(name: str, features: str, rank: int, n_iter: int, burn_in: int) -> dict[str, Any]:
    """Fit ``name`` on u1.base and score u1.test; fit wall and CPU seconds measured around ``fit``."""
    import numpy as np

    from movierec.datasets import load
    from movierec.evaluation import make_split, predict_ratings
    from movierec.models.registry import create

    ds = load(str(ML100K), rating_scale=(1.0, 5.0))
    train, test, _ = make_split(ds.interactions, "ml100k-u1")
    model = create(name, rank=rank, n_iter=n_iter, burn_in=burn_in, features=features, random_state=42)
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(train)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rmse = float(np.sqrt(np.mean((predict_ratings(model, test) - test.ratings) ** 2)))
    return {"rmse": rmse, "fit_seconds": wall, "fit_cpu_seconds": cpu, "loadavg": os.getloadavg()[0],
            "dataset_sha256": ds.sha256}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rank", type=int, default=10)
    ap.add_argument("--n-iter", type=int, default=200)
    ap.add_argument("--burn-in", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="accepted for bench/run.py (one size only)")
    ap.add_argument("--scale", action="store_true", help="accepted for bench/run.py (one size only)")
    args = ap.parse_args()
    if not (ML100K / "u.data").is_file():
        print(f"skipped: ml-100k not found at {ML100K} (set MOVIEREC_ML100K); it is never bundled")
        return
    rows = []
    for features in FEATURES:
        ours, ref = interleaved_runs(
            fit_u1, "bayesian-fm", "myfm:bfm", args.repeat, features, args.rank, args.n_iter, args.burn_in
        )

        def med(rs: list[dict[str, Any]], key: str) -> float:
            return float(statistics.median(r[key] for r in rs))

        gap = ours[-1]["rmse"] - ref[-1]["rmse"]
        rows.append(
            make_row(
                "bfm",
                f"bayesian-fm {features} fit, ml-100k u1.base (rank {args.rank}, {args.n_iter} sweeps, "
                f"{args.burn_in} burn-in)",
                med(ours, "fit_seconds"),
                "myfm:bfm",
                med(ref, "fit_seconds"),
                quality={
                    "rmse_u1_ours": round(ours[-1]["rmse"], 4),
                    "rmse_u1_myfm": round(ref[-1]["rmse"], 4),
                    "rmse_gap": round(gap, 4),
                    "within_0.003": abs(gap) <= 0.003,
                    "cpu_speedup": round(med(ref, "fit_cpu_seconds") / med(ours, "fit_cpu_seconds"), 2),
                    "loadavg_during": [round(r["loadavg"], 2) for r in ours + ref],
                },
                notes="same relational design and seed; fits interleaved in fresh children; "
                f"median of {len(ours)}; RMSE of one fit each (Monte-Carlo noise ~0.001)",
                **paired_fields(ours, ref),
                params={
                    "rank": args.rank,
                    "n_iter": args.n_iter,
                    "burn_in": args.burn_in,
                    "features": features,
                },
            )
        )
    print(write_results("bfm", rows))


if __name__ == "__main__":
    main()
