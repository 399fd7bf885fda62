"""Are the lists people see sane? (issue 15) Per exported default model on ml-latest-small: the median
rating count of every user's top-10 and the share of top-10 items with fewer than 5 ratings, served
(the artifact's guardrails: support floor, support-shrunk score for rating models) and raw
(``model.recommend`` over every item), against popularity's.

Each model is fitted on all of ml-latest-small as ``movierec export`` fits it (implicit models on
ratings ≥ 4; seed 42) and served in memory (:func:`movierec.serving.artifact.serving_view`, the code
``movierec serve`` runs). All 610 users are ranked. Seconds = ranking every user through the served
path (median of repeats). Results: ``bench/results/sanity.json``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import make_row, parse_mode, timeit, write_results

TASK = "sanity"
MODELS: list[tuple[str, dict[str, Any]]] = [
    ("popularity", {}),
    ("svd", {}),
    ("baseline", {}),
    ("knn-baseline", {}),
    ("als", {}),
    ("bpr", {}),
    ("itemknn", {}),
    ("ease", {}),
]


def _figures(tops: list[np.ndarray], counts: np.ndarray) -> dict[str, float]:
    items = np.concatenate([t[t >= 0] for t in tops])
    c = counts[items]
    return {"median_ratings_top10": float(np.median(c)), "share_under_5": round(float(np.mean(c < 5)), 4)}


def main() -> None:
    args = parse_mode(__doc__.splitlines()[0])
    from movierec.datasets import load
    from movierec.models.base import seeded, training_view
    from movierec.models.registry import create
    from movierec.serving.artifact import serving_view

    ds = load("ml-latest-small")
    counts = ds.interactions.item_counts()
    users = np.arange(ds.interactions.n_users)
    load_before = os.getloadavg()
    rows, pop = [], None
    for name, params in MODELS:
        model = seeded(create(name, **params), 42, params)
        train = training_view(model, ds.interactions, 4.0)
        model.fit(train)
        art = serving_view(model, ds, train)
        raw_idx, _ = model.recommend(users, 10)
        raw = _figures(list(raw_idx), counts)

        def served(art: Any = art) -> list[np.ndarray]:
            return [
                np.array([art.item_index(r["movieId"]) for r in art.recommend_index(int(u), 10)])
                for u in users
            ]

        t = timeit(served, repeat=args.repeat)
        fig = _figures(t["result"], counts)
        if name == "popularity":
            pop = fig
        assert pop is not None
        quality = {
            **fig,
            "raw_median": raw["median_ratings_top10"],
            "raw_share_under_5": raw["share_under_5"],
        }
        quality |= {
            "popularity_median": pop["median_ratings_top10"],
            "popularity_share_under_5": pop["share_under_5"],
        }
        rows.append(
            make_row(
                TASK,
                f"{name} (served, floor {art.min_support})",
                t["median"],
                None,
                None,
                quality=quality,
                notes="raw = model.recommend over every item (no floor; rating models by their ranking score)",
            )
        )
        print(name, quality, flush=True)
    load_after = os.getloadavg()
    rows.append(
        make_row(
            TASK,
            "whole run",
            None,
            None,
            None,
            notes=f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (shared 2-core machine)",
        )
    )
    print(f"wrote {write_results(TASK, rows, mode=args.mode)}")


if __name__ == "__main__":
    main()
