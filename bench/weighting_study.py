"""Does weighing positives by their rating help the default models? (issue 19, validation only)

    PYTHONPATH=src python bench/weighting_study.py [--out FILE]

Until ``Interactions.source_ratings``, ``weighting="rating"`` weighed every positive 1 in compare, tune and
export (their implicit view sets ratings to 1), so no study had measured it. The bundled ml-latest-small
under ``compare``'s default implicit split (positives ≥ 4, 20% held out, seed 42); only its *training*
part is read, split again 80/20 with seeds 1, 2, 3 (``validation_study.py --protocol mlls --seeds
1,2,3``'s inner splits). Each model at its defaults (binary), then with ``weighting="rating"`` over its
scale parameter around the binary default: each positive now weighs its rating over its user's mean
(``relative_ratings``), so a user's weights average 1 and λ keeps its meaning (raw ratings of 4 to 5
enlarged the Gram matrix about 20×, and an earlier run of this study had to search λ 200…1,600). Last,
the ensemble's start blend (ease 1, slim 0.5, ials 0.6, rp3beta 0.2 on max-normalised scores) with the
defaults and with each base at its best weighted point. Mean validation NDCG@10 over the three splits;
the points are chosen on the splits they are read on (upper bounds). The test part is never read.

Where ml-100k is found (``$MOVIEREC_ML100K`` or ../shared/data/ml-100k), the same comparison at the
defaults on the results table's other protocol: every rating a positive, the per-user 75/25 split
(seed 42), its training part split again per user 75/25 (seeds 1, 2, 3). There a 1-star rating is a
positive too, and weighing it down is what the question is.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import write_study  # noqa: E402
from frontier_study import _ndcg  # noqa: E402
from movierec.datasets import load  # noqa: E402
from movierec.evaluation import make_split, relevant_matrix  # noqa: E402
from movierec.models.registry import create  # noqa: E402
from movierec.scoring.ensemble import normalise_scores  # noqa: E402
from movierec.split import interactions_holdout, per_user_holdout  # noqa: E402

#: each model's scale parameter under weighting="rating" (its binary default first in the docstring)
GRID: dict[str, list[dict[str, Any]]] = {
    "ease": [{"l2": v} for v in (25, 50, 100)],
    "slim": [{"alpha": v} for v in (0.05, 0.1, 0.2)],
    "user-ease": [{"l2": v} for v in (150, 300, 600)],
    "rp3beta": [{}],
}
#: the ml-100k part compares the defaults only (the question there is the sign, not the best point)
ML100K_MODELS = ("ease", "slim", "user-ease")
ML100K = Path(os.environ.get("MOVIEREC_ML100K", str(ROOT.parent / "shared" / "data" / "ml-100k")))
BLEND = {"ease": 1.0, "slim": 0.5, "ials": 0.6, "rp3beta": 0.2}


def _part(inner: Any, valid: Any, threshold: float) -> dict[str, Any]:
    """One inner split as the fits read it: inner-train as compare trains (ratings 1, the positives' own
    in ``source_ratings``), the validation users, their relevant and their seen items."""
    inner = inner.to_implicit(threshold)
    rel = relevant_matrix(valid, None)
    users = np.flatnonzero(np.diff(rel.indptr) > 0)
    return {"inner": inner, "users": users, "rel": rel[users], "seen": inner.csr()[users].tocsr()}


def _splits(train: Any) -> list[dict[str, Any]]:
    return [_part(*interactions_holdout(train, 0.2, seed), 1.0) for seed in (1, 2, 3)]


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
    rows: list[dict[str, Any]] = []
    best: dict[str, Any] = {}
    norms: dict[Any, Any] = {}
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


def study_ml100k(ds: Any) -> dict[str, Any]:
    """ml-100k, every rating a positive: each of :data:`ML100K_MODELS` at its defaults, binary and
    ``weighting="rating"``, on three per-user 75/25 cuts of the 75/25 split's training part."""
    train, _test = per_user_holdout(ds.interactions, 0.25, seed=42)  # _test is never read
    lowest = float(train.ratings.min())  # every rating a positive, its rating kept for the weights
    splits = [_part(*per_user_holdout(train, 0.25, seed=seed), lowest) for seed in (1, 2, 3)]
    rows = []
    for name in ML100K_MODELS:
        for params in ({}, {"weighting": "rating"}):
            rows.append(_row(f"ml-100k {name}", params, _fit(splits, name, params)[0]))
    return {"dataset_sha256": ds.sha256, "rows": rows}


def main() -> None:
    def run(ds: Any) -> dict[str, Any]:
        return {**study(ds), **({"ml100k": study_ml100k(load(str(ML100K)))} if ML100K.exists() else {})}

    write_study("weighting_study", __doc__.splitlines()[0], run)


if __name__ == "__main__":
    main()
