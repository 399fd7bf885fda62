"""Validation study behind gru4rec's defaults (issue 20; nested: the test item is never read).

    nice -n 10 env PYTHONPATH=src python bench/gru4rec_study.py [--only NAME ...] [--out FILE]

Protocol: bundled ml-latest-small, the ``leave-last-out`` split of the results table (each user's latest
rating is the test item). Only its *training* part is used: every configuration is fitted on it, and
gru4rec itself holds each user's latest *training* item out as validation (full-ranking NDCG@10, the
user's other training items excluded), which is also what its early stopping reads. A configuration's
score is its best epoch's validation NDCG@10; the best configuration becomes the class default
(``models/gru4rec.py``). Stage 1 varies one hyperparameter at a time around the first (untuned)
defaults; stage 2 combines the winners. Every fit is capped at 6 epochs / patience 1 (one thread; the
issue's target is training < 5 min here, so longer curves are not candidates). With 610 validation
users one NDCG@10 has a standard error of about 0.008, so differences below ~0.01 are noise: ties are
broken towards the cheaper configuration. ``bench/results/gru4rec_study.json`` keeps every row, the
per-epoch curves, the command, load averages and the dataset checksum.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from movierec.datasets import load  # noqa: E402
from movierec.evaluation import make_split  # noqa: E402
from movierec.models.registry import create  # noqa: E402

#: the first defaults (not tuned): the centre of stage 1
BASE: dict[str, Any] = {
    "hidden": 128, "dropout": 0.2, "loss": "ce", "n_negatives": 2048, "sample_alpha": 0.0,
    "lr": 5e-3, "batch_size": 64, "session_gap": None,
}  # fmt: skip
STAGE1: dict[str, dict[str, Any]] = {
    "base": {},
    "hidden=64": {"hidden": 64},
    "hidden=256": {"hidden": 256},
    "dropout=0": {"dropout": 0.0},
    "dropout=0.5": {"dropout": 0.5},
    "lr=2e-3": {"lr": 2e-3},
    "lr=1e-2": {"lr": 1e-2},
    "loss=bpr-max": {"loss": "bpr-max"},
    "n_negatives=512": {"n_negatives": 512},
    "sample_alpha=0.5": {"sample_alpha": 0.5},
    "batch_size=128": {"batch_size": 128},
    "session_gap=1h": {"session_gap": "1h"},
}
#: 6 epochs, patience 1, no time budget (a budget would make the curves depend on the machine's load;
#: the base configuration, run first with 12 epochs / patience 2 / a 240 s budget, peaked at epoch 4)
CAP: dict[str, Any] = {"epochs": 6, "patience": 1, "n_threads": 1, "random_state": 42}


def run(name: str, params: dict[str, Any], train: Any) -> dict[str, Any]:
    """Fit one configuration on the training part; its validation curve and cost."""
    full = {**BASE, **params, **CAP}
    load_before = os.getloadavg()[0]
    tic = time.perf_counter()
    model = create("gru4rec", **full)
    model.fit(train)
    secs = time.perf_counter() - tic
    curve = [round(float(h.get("val_ndcg@10", 0.0)), 4) for h in model.history_]
    row = {
        "config": name,
        "params": {k: v for k, v in full.items() if k in BASE},
        "val_ndcg@10": max(curve),
        "best_epoch": model.best_epoch_,
        "epochs_run": len(curve),
        "curve": curve,
        "fit_seconds": round(secs, 1),
        "cap": {k: v for k, v in full.items() if k not in BASE},
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    return _bench_row(row)


def _bench_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row with the fields bench/report.py renders (BENCHMARKS.md's gru4rec_study table)."""
    row = {
        "task": "gru4rec_study",
        "variant": f"validation: {row['config']}",
        "ours_seconds": row["fit_seconds"],
        "reference": None,
        "reference_seconds": None,
        "ratio": None,
        "quality": {"val_ndcg@10": row["val_ndcg@10"], "best_epoch": row["best_epoch"]},
        "notes": f"curve {row['curve']}; load average {row['load_average'][0]} → {row['load_average'][1]}",
        **row,
    }
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="stage-1 configuration names, or k=v,k=v parameter sets")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "gru4rec_study.json"))
    args = ap.parse_args()
    ds = load("ml-latest-small")
    train, _test, desc = make_split(ds.interactions, "leave-last-out")
    out = Path(args.out)
    rows: list[dict[str, Any]] = json.loads(out.read_text())["rows"] if out.is_file() else []
    configs: dict[str, dict[str, Any]] = {}
    for item in args.only or list(STAGE1):
        if item in STAGE1:
            configs[item] = STAGE1[item]
        else:  # "hidden=256,dropout=0": a stage-2 combination
            pairs = [p.split("=", 1) for p in item.split(",")]
            configs[item] = {k: _value(v) for k, v in pairs}
    for name, params in configs.items():
        rows = [r for r in rows if r["config"] != name] + [run(name, params, train)]
        doc = {
            "command": "nice -n 10 env PYTHONPATH=src python bench/gru4rec_study.py "
            + " ".join(sys.argv[1:]),
            "dataset": "ml-latest-small (bundled)",
            "dataset_sha256": ds.sha256,
            "split": desc,
            "validation": "each user's latest training item (inside the leave-last-out training part)",
            "cap": CAP,
            "rows": rows,
        }
        out.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    best = max(rows, key=lambda r: r["val_ndcg@10"])
    print(f"best: {best['config']} val NDCG@10 {best['val_ndcg@10']} ({best['fit_seconds']} s)")


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return None if text == "None" else text


if __name__ == "__main__":
    main()
