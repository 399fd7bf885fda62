"""Validation study behind the defaults of the issue-19 models (nested: the test split is never read).

    PYTHONPATH=src python bench/validation_study.py MODEL [MODEL ...] [--dataset PATH] [--out FILE]

Protocol: ml-100k, every rating a positive, the per-user 75/25 split (seed 42) of the results table;
only its *training* part is used here: it is split again per user 75/25 (seed 1) into inner-train and
validation, every grid point is fitted on inner-train and scored by NDCG@10 (full ranking, seen items
excluded) on validation. Iterative models are scored at several epoch counts from one fit (the
``on_epoch`` callback sees the model as a fit of that many epochs leaves it). The best point per
model becomes the class default; ``bench/results/validation_study.json`` keeps every row, the
command, the load average and the dataset checksum.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from movierec import metrics as M  # noqa: E402
from movierec.datasets import load  # noqa: E402
from movierec.evaluation import relevant_matrix  # noqa: E402
from movierec.models.registry import create  # noqa: E402
from movierec.split import per_user_holdout  # noqa: E402

# model -> (grid of constructor params, epoch checkpoints scored from one fit or None)
GRIDS: dict[str, tuple[dict[str, list[Any]], list[int] | None]] = {
    "bpr": (
        # stage 1 (rows kept in the json): k 64|200 × lr 0.01|0.05 × item_alpha 0|0.001 (user_alpha 0), 150
        # epochs: lr 0.05 overfits after 25–50 epochs, lr 0.01 still climbs at 150. Stage 2: λ on both sides.
        {"factors": [200], "learning_rate": [0.02, 0.05], "item_alpha": [0.003, 0.01, 0.03],
         "learning_schedule": ["sgd"], "epochs": [100]},
        [25, 50, 75, 100],
    ),
    "rp3beta": ({"alpha": [0.6, 0.8, 1.0], "beta": [0.2, 0.35, 0.5], "k": [50, 100, 200]}, None),
    # stage 1 (rows kept): alpha 1e-4…3e-3 × l1_ratio 0.01|0.1|0.3, best at the edge (3e-3, 0.3: 0.2384)
    "slim": ({"alpha": [1e-2, 3e-2], "l1_ratio": [0.3, 0.6], "k": [200]}, None),
    # stage 1 (log only, run stopped): factors 64|128 × alpha0 0.01|0.1|0.3 × reg 3e-4|3e-3|3e-2, 4/8/16
    # epochs: best 128, 0.1, 3e-2, 16 epochs 0.2776 (64: 0.2771 at 8), reg at the edge of the grid
    "ials": (
        {"factors": [128], "alpha0": [0.1, 0.3], "regularization": [0.1, 0.3], "epochs": [16]},
        [8, 16],
    ),
    "mult-vae": ({"beta": [0.2], "dropout": [0.5], "epochs": [200]}, [25, 50, 100, 150, 200]),
    "recvae": ({"gamma": [0.005], "epochs": [50]}, [10, 20, 30, 50]),
}  # fmt: skip


def _ndcg(model: Any, users: np.ndarray, rel: Any) -> float:
    recs, _ = model.recommend(users, k=10)
    return float(M.ndcg(recs, rel[users], 10).mean())


def study(name: str, inner: Any, valid: Any) -> list[dict[str, Any]]:
    """Every grid point of ``name`` scored on the validation part."""
    grid, checkpoints = GRIDS[name]
    rel = relevant_matrix(valid, None)
    users = np.flatnonzero(np.diff(rel.indptr) > 0)
    rows: list[dict[str, Any]] = []
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, values, strict=True))
        if "item_alpha" in params and "user_alpha" not in params:  # one λ for both sides, as Cornac's
            params["user_alpha"] = params["item_alpha"]
        model = create(name, **params)
        tic = time.perf_counter()
        if checkpoints:
            scores: dict[int, float] = {}

            def on_epoch(
                epoch: int, info: dict[str, float], model: Any = model, scores: Any = scores
            ) -> bool:
                if epoch in checkpoints:
                    scores[epoch] = _ndcg(model, users, rel)
                return True

            model.fit(inner, on_epoch=on_epoch)
            for epoch, value in scores.items():
                rows.append({"model": name, "params": {**params, "epochs": epoch}, "ndcg@10": value})
        else:
            model.fit(inner)
            rows.append({"model": name, "params": params, "ndcg@10": _ndcg(model, users, rel)})
        print(
            name,
            params,
            f"{time.perf_counter() - tic:.1f}s",
            [round(r["ndcg@10"], 4) for r in rows[-(len(checkpoints or [0])) :]],
            flush=True,
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", choices=sorted(GRIDS))
    ap.add_argument(
        "--dataset", default=os.environ.get("MOVIEREC_ML100K", str(ROOT.parent / "shared/data/ml-100k"))
    )
    ap.add_argument("--out", default=str(ROOT / "bench/results/validation_study.json"))
    args = ap.parse_args()
    ds = load(args.dataset, rating_scale=(1.0, 5.0))
    train, _test = per_user_holdout(ds.interactions, 0.25, seed=42)  # _test is never read
    inner, valid = per_user_holdout(train, 0.25, seed=1)
    inner = inner.to_implicit(1.0)
    out = Path(args.out)
    stored = json.loads(out.read_text()) if out.is_file() else {"studies": {}}
    for name in args.models:
        load_before = os.getloadavg()
        rows = stored["studies"].get(name, {}).get("rows", []) + study(name, inner, valid)
        best = max(rows, key=lambda r: r["ndcg@10"])
        stored["studies"][name] = {
            "command": f"PYTHONPATH=src python bench/validation_study.py {name}",
            "protocol": "ml-100k per-user 75/25 (seed 42) training part, split again per-user 75/25 (seed 1): "
            "fit on inner-train, NDCG@10 on validation, every rating a positive",
            "dataset_sha256": ds.sha256,
            "loadavg": [round(x, 2) for x in (*load_before, *os.getloadavg())],
            "best": best,
            "rows": rows,
        }
        print(f"best {name}: {best}", flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(stored, indent=1))


if __name__ == "__main__":
    main()
