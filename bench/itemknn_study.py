"""Which neighbourhood should itemknn sum over by default? (validation only)

    PYTHONPATH=src python bench/itemknn_study.py [--out FILE]

``neighbourhood="candidate"`` scores a candidate movie by the similarity of the user's movies among its
own k nearest (Sarwar, Karypis, Konstan & Riedl 2001; RecBole's ItemKNN); ``"rated"`` by the user's
movies that list the candidate among their k nearest (Deshpande & Karypis 2004; implicit's
ItemItemRecommender), itemknn's only behaviour until this study. Both keep the same neighbour table, so
each fit is scored both ways. Cosine and BM25-weighted cosine, k 20 to 400.

Two protocols, the test part of each never read: the bundled ml-latest-small under ``compare``'s default
implicit split (positives ≥ 4, 20% held out, seed 42), its training part split again the same way with
seeds 1, 2, 3; and, where ml-100k is found (``$MOVIEREC_ML100K`` or ../shared/data/ml-100k), every rating
a positive under the per-user 75/25 split (seed 42), its training part split again per user 75/25 (seeds
1, 2, 3). Mean validation NDCG@10 over the three inner splits.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import write_study  # noqa: E402
from movierec.evaluation import evaluate, make_split  # noqa: E402
from movierec.models.registry import create  # noqa: E402
from movierec.split import per_user_holdout  # noqa: E402

ML100K = Path(os.environ.get("MOVIEREC_ML100K", str(ROOT.parent / "shared" / "data" / "ml-100k")))
KS = (20, 50, 100, 200, 400)
SIMILARITIES = ("cosine", "bm25")
SEEDS = (1, 2, 3)


def _rows(protocol: str, train: Any, inner: Callable[[Any, int], tuple[Any, Any]], threshold: float | None) -> list[dict[str, Any]]:  # fmt: skip
    """Mean validation NDCG@10 of each (similarity, k, neighbourhood) over the inner splits of ``train``."""
    got: dict[tuple[str, int, str], list[float]] = {}
    for seed in SEEDS:
        fit, valid = inner(train, seed)
        positives = fit.to_implicit(threshold if threshold is not None else 0.0)
        for similarity in SIMILARITIES:
            for k in KS:
                model = create("itemknn", k=k, similarity=similarity).fit(positives)
                for neighbourhood in ("candidate", "rated"):  # the same table, scored both ways
                    model.set_params(neighbourhood=neighbourhood)
                    res = evaluate(
                        model, positives, valid, "full-ranking", k=10, threshold=threshold, intervals=False
                    )
                    got.setdefault((similarity, k, neighbourhood), []).append(float(res.metrics["ndcg@10"]))
    return [
        {"protocol": protocol, "similarity": s, "k": k, "neighbourhood": n, "ndcg@10": round(float(np.mean(v)), 4),
         "per_split": [round(x, 4) for x in v]}
        for (s, k, n), v in got.items()
    ]  # fmt: skip


def study(ds: Any) -> dict[str, Any]:
    """Every row of the study (the test parts are cut, never read)."""
    train, _test, _ = make_split(ds.interactions, "interactions-holdout", seed=42, threshold=4.0)
    rows = _rows(
        "ml-latest-small, interactions hold-out, positives ≥ 4",
        train,
        lambda t, s: make_split(t, "interactions-holdout", seed=s, threshold=4.0)[:2],
        4.0,
    )
    if (ML100K / "u.data").is_file():
        from movierec.datasets import load

        outer, _ = per_user_holdout(load(ML100K).interactions, 0.25, seed=42)
        rows += _rows(
            "ml-100k, per-user 75/25, every rating a positive",
            outer,
            lambda t, s: per_user_holdout(t, 0.25, seed=s),
            None,
        )
    else:
        print(f"ml-100k not found at {ML100K}: its rows are skipped", file=sys.stderr)
    for r in rows:
        print(r["protocol"][:16], r["similarity"], r["k"], r["neighbourhood"], r["ndcg@10"], flush=True)
    return {"rows": rows, "seeds": list(SEEDS)}


if __name__ == "__main__":
    write_study("itemknn_study", __doc__.splitlines()[0], study)
