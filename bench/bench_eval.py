"""Full-ranking evaluation: the batched protocol next to per-user Python loops, in the same run.

Every user of bundled ml-latest-small with a test rating (ratings hold-out, 20%, seed 42) is
ranked over every item of the catalogue minus their training items, and P@10, R@10, NDCG@10,
MAP@10 and MRR are computed. Three ways, same fitted ``svd`` model, same numbers:

* **ours**: ``movierec.evaluation.evaluate(..., "full-ranking")``: batched ``score`` (1024 users
  at a time), ``argpartition`` top-k, vectorised metrics, plus the seeded bootstrap intervals;
* **loop-numpy**: a Python loop over users that scores one user with the same model, then does
  everything else in numpy (``argpartition``, ``isin``; the fastest loop one would write by hand);
* **loop-python**: a Python loop over users that ranks candidates with ``sorted`` and a key
  function, the way a notebook typically does it.

Target (issue 3): ours < 1 s and ≥ 20× faster than a per-user Python loop. Times are medians of
≥ 3 repeats in this process (warm: the model is fitted once). Results: ``bench/results/eval.json``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import make_row, parse_mode, timeit, write_results

TASK = "eval"
K = 10


def _setup() -> tuple[Any, Any, Any]:
    from movierec.datasets import load
    from movierec.evaluation import make_split
    from movierec.models.registry import create

    inter = load("ml-latest-small").interactions
    train, test, _ = make_split(inter, "ratings-holdout", seed=42)
    model = create("svd", random_state=42).fit(train)
    return model, train, test


def ours(model: Any, train: Any, test: Any) -> dict[str, float]:
    from movierec.evaluation import evaluate

    res = evaluate(model, train, test, "full-ranking", k=K, threshold=None)
    return {m: res.metrics[m] for m in (f"precision@{K}", f"recall@{K}", f"ndcg@{K}", f"map@{K}", "mrr")} | {
        "n_users": res.n_users
    }


def _loop_metrics(ranked_fn: Any, model: Any, train: Any, test: Any) -> dict[str, float]:
    seen = train.csr()
    rel_m = test.csr()
    sums = dict.fromkeys(("precision", "recall", "ndcg", "map", "mrr"), 0.0)
    n = 0
    for u in range(train.n_users):
        rel = set(rel_m.indices[rel_m.indptr[u] : rel_m.indptr[u + 1]].tolist())
        if not rel:
            continue
        n += 1
        train_items = set(seen.indices[seen.indptr[u] : seen.indptr[u + 1]].tolist())
        ranked = ranked_fn(model, u, train_items, train.n_items)
        top = ranked[:K]
        hits = [i in rel for i in top]
        sums["precision"] += sum(hits) / K
        sums["recall"] += sum(hits) / len(rel)
        dcg = sum(1.0 / math.log2(p + 2) for p, h in enumerate(hits) if h)
        sums["ndcg"] += dcg / sum(1.0 / math.log2(p + 2) for p in range(min(len(rel), K)))
        run, ap = 0, 0.0
        for p, h in enumerate(hits):
            if h:
                run += 1
                ap += run / (p + 1)
        sums["map"] += ap / min(len(rel), K)
        first = next(p for p, i in enumerate(ranked) if i in rel)
        sums["mrr"] += 1.0 / (first + 1)
    return {(f"{m}@{K}" if m != "mrr" else m): v / n for m, v in sums.items()} | {"n_users": n}


def _loop_numpy(model: Any, train: Any, test: Any) -> dict[str, float]:
    """The fastest per-user loop one would write by hand: numpy inside, Python only over users."""
    seen = train.csr()
    rel_m = test.csr()
    disc = 1.0 / np.log2(np.arange(2, K + 2))
    acc = dict.fromkeys((f"precision@{K}", f"recall@{K}", f"ndcg@{K}", f"map@{K}", "mrr"), 0.0)
    n = 0
    for u in range(train.n_users):
        rel = rel_m.indices[rel_m.indptr[u] : rel_m.indptr[u + 1]]
        if len(rel) == 0:
            continue
        n += 1
        s = model.score(np.array([u]))[0]
        s[seen.indices[seen.indptr[u] : seen.indptr[u + 1]]] = -np.inf
        top = np.argpartition(-s, K)[:K]
        top = top[np.argsort(-s[top], kind="stable")]
        hits = np.isin(top, rel)
        nh = hits.sum()
        acc[f"precision@{K}"] += nh / K
        acc[f"recall@{K}"] += nh / len(rel)
        acc[f"ndcg@{K}"] += (hits @ disc) / disc[: min(len(rel), K)].sum()
        acc[f"map@{K}"] += (np.cumsum(hits) / np.arange(1, K + 1) * hits).sum() / min(len(rel), K)
        acc["mrr"] += 1.0 / (1 + (s > s[rel].max()).sum())
    return {m: v / n for m, v in acc.items()} | {"n_users": n}


def _ranked_python(model: Any, u: int, train_items: set[int], n_items: int) -> list[int]:
    s = model.score(np.array([u]))[0].tolist()
    cand = [i for i in range(n_items) if i not in train_items]
    return sorted(cand, key=lambda i: -s[i])


def main() -> None:
    ns = parse_mode(__doc__ or "")
    model, train, test = _setup()
    t_ours = timeit(lambda: ours(model, train, test), repeat=ns.repeat, warmup=1)
    t_np = timeit(lambda: _loop_numpy(model, train, test), repeat=ns.repeat)
    t_py = timeit(lambda: _loop_metrics(_ranked_python, model, train, test), repeat=ns.repeat)
    q_ours, q_np, q_py = t_ours["result"], t_np["result"], t_py["result"]
    agree_np = max(abs(q_ours[m] - q_np[m]) for m in q_ours)
    agree_py = max(abs(q_ours[m] - q_py[m]) for m in q_ours)
    quality = {
        "metrics": q_ours,
        "max_abs_diff_vs_loop_numpy": agree_np,
        "max_abs_diff_vs_loop_python": agree_py,
        "target_seconds": 1.0,
        "target_speedup": 20.0,
    }
    shape = f"{q_ours['n_users']} users x {train.n_items} items, K={K}, svd"
    rows = [
        make_row(
            TASK,
            "full-ranking vs per-user loop (numpy per user)",
            t_ours["median"],
            "loop-numpy",
            t_np["median"],
            quality=quality | {"speedup": t_np["median"] / t_ours["median"]},
            notes=f"{shape}; ours includes 1000-sample bootstrap intervals for 8 metrics; same numbers",
        ),
        make_row(
            TASK,
            "full-ranking vs per-user loop (Python sorted per user)",
            t_ours["median"],
            "loop-python",
            t_py["median"],
            quality=quality | {"speedup": t_py["median"] / t_ours["median"]},
            notes=f"{shape}; the notebook-style loop",
        ),
    ]
    path = write_results(TASK, rows, mode=ns.mode)
    for r in rows:
        print(
            f"{r['variant']}: ours {r['ours_seconds']:.3f}s, {r['reference']} {r['reference_seconds']:.3f}s, "
            f"speed-up {r['quality']['speedup']:.1f}x"
        )
    print(f"metrics agree to {max(agree_np, agree_py):.2e}; wrote {path}")


if __name__ == "__main__":
    main()
