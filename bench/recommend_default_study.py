"""Which model should ``movierec recommend --user ID`` use when none is named? Served lists, validation only.

    PYTHONPATH=src python bench/recommend_default_study.py [--seeds 1,2,3] [--models popularity,svd,ease,ensemble]
                                                           [--out FILE]

``recommend`` without ``--model`` listed svd's top 10 on rated data: the movies with the highest predicted
stars, support-shrunk (docs/serving.md). svd is a rating predictor; ``compare``'s full-ranking table ranks
the top-N models far above it. This study asks what a person reading the list gets, with the list
``recommend`` really prints, and never reads a test split:

1. The bundled ml-latest-small loses ``compare``'s default test part first (its positives held out by
   ``interactions_holdout(positives ≥ 4, 0.2, seed 42)``), which no row here reads.
2. What remains (every other rating, liked or not) is split again at random, 80/20 by rating
   (``ratings_holdout``, seeds ``--seeds``): a validation split inside training data. A random split of
   all ratings keeps svd's training data a fair sample of its stars.
3. Each model trains on the 80% as ``recommend`` trains it (``training_view``: svd on every rating, the
   top-N models on ratings ≥ 4) and is served as ``recommend`` serves it (``serving_view``: the support
   floor, svd's shrunk score, every rated movie left out); the top 10 of every validation user with a
   held-out rating ≥ 4 is scored against those ratings: NDCG@10, hit rate, recall, with a 95% bootstrap
   interval over users, a paired bootstrap and sign-flip test of each model against svd, the median
   number of ratings of the listed movies, and how many distinct movies the lists hold together.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from movierec import metrics as M  # noqa: E402
from movierec.datasets import load  # noqa: E402
from movierec.models.base import seeded, training_view  # noqa: E402
from movierec.models.registry import create  # noqa: E402
from movierec.serving.artifact import serving_view  # noqa: E402
from movierec.split import interactions_holdout, ratings_holdout  # noqa: E402

K = 10
THRESHOLD = 4.0


def _served_scores(
    name: str, ds: Any, train_all: Any, relevant: dict[int, set[int]], n_all: np.ndarray
) -> dict[str, Any]:
    """Fit ``name`` on ``train_all`` and score its served top ``K`` of every user in ``relevant``."""
    m = seeded(create(name), 42, {})
    train = training_view(m, train_all, THRESHOLD)
    t0 = time.perf_counter()
    m.fit(train)
    fit_s = time.perf_counter() - t0
    art = serving_view(
        m, dataclasses.replace(ds, interactions=train_all), train, implicit_threshold=THRESHOLD
    )
    disc = 1.0 / np.log2(np.arange(2, K + 2))
    ndcg: list[float] = []
    hit: list[float] = []
    recall: list[float] = []
    support: list[int] = []
    shown: set[int] = set()
    for u in sorted(relevant):
        items = [train_all.item_map.get(r["movieId"]) for r in art.recommend_index(u, K)]
        gains = np.array([float(i in relevant[u]) for i in items])
        ideal = float(disc[: min(len(relevant[u]), K)].sum())
        ndcg.append(float((gains * disc[: len(gains)]).sum()) / ideal)
        hit.append(float(gains.any()))
        recall.append(float(gains.sum()) / min(len(relevant[u]), K))
        support.extend(int(n_all[i]) for i in items)
        shown.update(items)
    lo, hi = M.bootstrap_ci(np.array(ndcg), seed=42)
    return {
        "model": name,
        f"ndcg@{K}": float(np.mean(ndcg)),
        f"ndcg@{K}_lo": lo,
        f"ndcg@{K}_hi": hi,
        f"hit_rate@{K}": float(np.mean(hit)),
        f"recall@{K}": float(np.mean(recall)),
        "median_ratings_listed": float(np.median(support)),
        "distinct_movies_listed": len(shown),
        "fit_s": round(fit_s, 2),
        "per_user": np.array(ndcg),
    }


def run(seeds: list[int], models: list[str]) -> dict[str, Any]:
    ds = load("ml-latest-small")
    full = ds.interactions
    keys = full.users.astype(np.int64) * full.n_items + full.items
    _, test = interactions_holdout(full.to_implicit(THRESHOLD), 0.2, 42)  # compare's default test part
    inner = full.subset(
        np.flatnonzero(~np.isin(keys, test.users.astype(np.int64) * full.n_items + test.items))
    )
    n_all = np.bincount(full.items, minlength=full.n_items)
    rows: list[dict[str, Any]] = []
    for seed in seeds:
        train_all, val = ratings_holdout(inner, 0.2, seed)
        liked = val.ratings >= THRESHOLD
        relevant: dict[int, set[int]] = {}
        for u, i in zip(val.users[liked], val.items[liked], strict=True):
            relevant.setdefault(int(u), set()).add(int(i))
        scored = {name: _served_scores(name, ds, train_all, relevant, n_all) for name in models}
        per_user = {name: row.pop("per_user") for name, row in scored.items()}
        for name, row in scored.items():
            if name != "svd" and "svd" in scored:
                paired = M.paired_bootstrap(per_user[name], per_user["svd"], seed=42)
                row["minus_svd"] = {k: paired[k] for k in ("diff", "lo", "hi", "p_value")}
                row["minus_svd"]["permutation_p"] = M.permutation_test(
                    per_user[name], per_user["svd"], seed=42
                )
            row.update(seed=seed, n_users=len(relevant))
            rows.append(row)
            print(json.dumps(row), flush=True)
    return {
        "protocol": "ml-latest-small less compare's default test positives; ratings_holdout 80/20 of the rest "
        "(seeds below); served top 10 scored against held-out ratings ≥ 4",
        "seeds": seeds,
        "rows": rows,
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--models", default="popularity,svd,ease,ensemble")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "recommend_default_study.json"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    result = run([int(s) for s in args.seeds.split(",")], args.models.split(","))
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
