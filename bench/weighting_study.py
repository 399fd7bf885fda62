"""Does weighing positives by their rating help the default models? (issue 19, validation only)

    PYTHONPATH=src python bench/weighting_study.py [--out FILE]

Until ``Interactions.source_ratings``, ``weighting="rating"`` weighed every positive 1 in compare, tune and
export (their implicit view sets ratings to 1), so no study had measured it. The bundled ml-latest-small
under ``compare``'s default implicit split (positives ≥ 4, 20% held out, seed 42); only its *training*
part is read, split again 80/20 with seeds 1, 2, 3 (``validation_study.py --protocol mlls --seeds
1,2,3``'s inner splits). Each model at its defaults (binary), then with ``weighting="rating"`` over its
scale parameter (weights of 4 to 5 enlarge the Gram matrix about 20×, so EASE's and user-EASE's λ and
SLIM's α move with them); last, the ensemble's start blend (ease 1, slim 0.5, ials 0.6, rp3beta 0.2 on
max-normalised scores) with the defaults and with each base at its best weighted point. Mean validation
NDCG@10 over the three splits; the points are chosen on the splits they are read on (upper bounds).
The test part is never read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from frontier_study import _ndcg  # noqa: E402
from movierec.datasets import load  # noqa: E402
from movierec.evaluation import make_split, relevant_matrix  # noqa: E402
from movierec.models.registry import create  # noqa: E402
from movierec.scoring.ensemble import normalise_scores  # noqa: E402
from movierec.split import interactions_holdout  # noqa: E402

#: each model's scale parameter under weighting="rating" (its binary default first in the docstring)
GRID: dict[str, list[dict[str, Any]]] = {
    "ease": [{"l2": v} for v in (200, 400, 800, 1200, 1600)],
    "slim": [{"alpha": v} for v in (0.4, 0.8, 1.6, 3.2)],
    "user-ease": [{"l2": v} for v in (2400, 4800, 7200, 9600)],
    "rp3beta": [{}],
}
BLEND = {"ease": 1.0, "slim": 0.5, "ials": 0.6, "rp3beta": 0.2}


def _splits(train: Any) -> list[dict[str, Any]]:
    out = []
    for seed in (1, 2, 3):
        inner, valid = interactions_holdout(train, 0.2, seed)
        inner = inner.to_implicit(1.0)  # as compare trains: ratings 1, the positives' own in source_ratings
        rel = relevant_matrix(valid, None)
        users = np.flatnonzero(np.diff(rel.indptr) > 0)
        out.append({"inner": inner, "users": users, "rel": rel[users], "seen": inner.csr()[users].tocsr()})
    return out


def _fit(splits: list[dict[str, Any]], name: str, params: dict[str, Any]) -> tuple[list[float], list[Any]]:
    """Validation NDCG@10 per split, and the max-normalised scores the blend sums."""
    values, norms = [], []
    for p in splits:
        s = np.asarray(create(name, **params).fit(p["inner"]).score(p["users"]))
        values.append(_ndcg(s, p["seen"], p["rel"]))
        norms.append(normalise_scores(s, p["seen"], "max"))
    return values, norms


def _row(name: str, params: dict[str, Any], values: list[float]) -> dict[str, Any]:
    mean = float(np.mean(values))
    print(f"{name:10s} {json.dumps(params):48s} {mean:.4f} {[round(v, 4) for v in values]}", flush=True)
    return {"model": name, "params": params, "ndcg@10": mean, "by split": values}


def study(ds: Any) -> dict[str, Any]:
    """Every row of the study on ``ds`` (its test part is cut, never read)."""
    train, _test, _ = make_split(ds.interactions, "interactions-holdout", seed=42, threshold=4.0)
    splits = _splits(train)
    rows, best, norms = [], {}, {}
    for name, grid in GRID.items():
        values, norms[name, "binary"] = _fit(splits, name, {})
        rows.append(_row(name, {}, values))
        for point in grid:
            params = {"weighting": "rating", **point}
            values, n = _fit(splits, name, params)
            rows.append(_row(name, params, values))
            if name not in best or rows[-1]["ndcg@10"] > best[name]["ndcg@10"]:
                best[name], norms[name, "rating"] = rows[-1], n
    _, norms["ials", "binary"] = _fit(splits, "ials", {})
    norms["ials", "rating"] = norms[
        "ials", "binary"
    ]  # ials refuses weights: it reads which items, not how much
    blends = {}
    for label in ("binary", "rating"):
        values = [
            _ndcg(sum(w * norms[n, label][i] for n, w in BLEND.items()), p["seen"], p["rel"])
            for i, p in enumerate(splits)
        ]
        blends[label] = _row(f"blend ({label})", BLEND, values)
    return {"rows": rows, "best_weighted": best, "blend": blends}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "bench/results/weighting_study.json"))
    args = ap.parse_args()
    tic, load_before = time.perf_counter(), os.getloadavg()
    ds = load("ml-latest-small")
    result = {
        "command": "PYTHONPATH=src python bench/weighting_study.py",
        "dataset_sha256": ds.sha256,
        **study(ds),
        "seconds": round(time.perf_counter() - tic, 1),
        "loadavg": [round(x, 2) for x in (*load_before, *os.getloadavg())],
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
