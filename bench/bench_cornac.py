"""Our ``bpr`` beside Cornac's BPR at equal settings on the same rows (issue 19's reference backend).

    PYTHONPATH=src nice -n 10 python bench/bench_cornac.py [--repeat 3] [--epochs 100]

ml-100k, every rating a positive, the per-user 75/25 split (seed 42) of docs/results.md's top-N table.
Both models get Cornac's BPR settings (k 200, lr 0.01, λ 0.001 on users and items, plain SGD, one
thread, seed 42) for ``--epochs`` epochs; each fit runs in a fresh child process, ours and Cornac's
interleaved, ``--repeat`` times. The row holds the median seconds per epoch (fit wall and CPU time
over the epochs; our first fit in a child includes loading the compiled kernels), NDCG@10 of each
(full ranking, seen items excluded, the same metric code for both) and the load average during the
fits. Issue 19's target: our NDCG@10 within 0.01 of Cornac's and ours at least as fast per epoch.
Writes ``bench/results/cornac.json`` (BENCHMARKS.md's ``cornac`` table and the issue-19 target row).
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
# Cornac's BPR settings (its README example) in each library's spelling; one thread so a seed fixes both
SETTINGS: dict[str, dict[str, Any]] = {
    "bpr": {"factors": 200, "learning_rate": 0.01, "item_alpha": 0.001, "user_alpha": 0.001,
            "learning_schedule": "sgd", "num_threads": 1},
    "cornac:bpr": {"factors": 200, "learning_rate": 0.01, "regularization": 0.001, "num_threads": 1},
}  # fmt: skip


def fit_topn(name: str, epochs: int) -> dict[str, Any]:
    """Fit ``name`` at Cornac's settings on the split's training part; NDCG@10 on its test part."""
    import numpy as np

    from movierec import metrics as M
    from movierec.datasets import load
    from movierec.evaluation import relevant_matrix
    from movierec.models.registry import create
    from movierec.split import per_user_holdout

    ds = load(str(ML100K), rating_scale=(1.0, 5.0))
    train, test = per_user_holdout(ds.interactions, 0.25, seed=42)
    train = train.to_implicit(1.0)
    model = create(name, **SETTINGS[name], epochs=epochs, random_state=42)
    prepare = getattr(model, "prepare", None)
    if callable(prepare):  # the training CSR is the split's, as compare builds it before its clock
        prepare(train)
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(train)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rel = relevant_matrix(test, None)
    users = np.flatnonzero(np.diff(rel.indptr) > 0)
    recs, _ = model.recommend(users, k=10)
    ndcg = float(M.ndcg(recs, rel[users], 10).mean())
    return {"ndcg": ndcg, "fit_seconds": wall, "fit_cpu_seconds": cpu, "loadavg": os.getloadavg()[0],
            "dataset_sha256": ds.sha256}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="accepted for bench/run.py (one size only)")
    ap.add_argument("--scale", action="store_true", help="accepted for bench/run.py (one size only)")
    args = ap.parse_args()
    if not (ML100K / "u.data").is_file():
        print(f"skipped: ml-100k not found at {ML100K} (set MOVIEREC_ML100K); it is never bundled")
        return
    try:
        import cornac  # noqa: F401
    except ImportError:
        print("skipped: cornac is not installed (pip install 'movierec[reference]')")
        return
    ours, ref = interleaved_runs(fit_topn, "bpr", "cornac:bpr", args.repeat, args.epochs)

    def per_epoch(rs: list[dict[str, Any]], key: str) -> float:
        return float(statistics.median(r[key] for r in rs)) / args.epochs

    gap = ours[-1]["ndcg"] - ref[-1]["ndcg"]
    row = make_row(
        "cornac",
        f"bpr epoch at Cornac's settings, ml-100k per-user 75/25 (k 200, {args.epochs} epochs, 1 thread)",
        per_epoch(ours, "fit_seconds"),
        "cornac:bpr",
        per_epoch(ref, "fit_seconds"),
        quality={
            "ndcg@10_ours": round(ours[-1]["ndcg"], 4),
            "ndcg@10_cornac": round(ref[-1]["ndcg"], 4),
            "ndcg_gap": round(gap, 4),
            "within_0.01": abs(gap) <= 0.01,
            "cpu_speedup": round(per_epoch(ref, "fit_cpu_seconds") / per_epoch(ours, "fit_cpu_seconds"), 2),
            "loadavg_during": [round(r["loadavg"], 2) for r in ours + ref],
        },
        notes="seconds per epoch (fit / epochs); same split, settings and seed; fits interleaved in fresh "
        f"children; median of {len(ours)}; NDCG@10 of the last fit each (every repeat has the same seed)",
        **paired_fields(ours, ref, per=args.epochs),
        params={"epochs": args.epochs, **SETTINGS["cornac:bpr"]},
    )
    print(write_results("cornac", [row]))


if __name__ == "__main__":
    main()
