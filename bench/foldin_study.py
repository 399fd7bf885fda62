"""How strongly should a rating model's fold-in shrink a visitor's bias and factors? (validation only)

    PYTHONPATH=src python bench/foldin_study.py [--models svd,svdpp] [--out FILE]

A person not in the training data (the web page's visitor, ``recommend --rated``, ``POST
/recommendations``) is placed by a ridge solve of (b_u, p_u) with the item factors fixed
(``scoring.factors.ridge_fold_in``), with penalty λ_b on the bias and λ_f on the factors. The first build
used 1 for both (``RIDGE_REG``): a visitor who gave two films 5 stars got a bias so large that every
prediction on the web page read "about 5.0 of 5".

The study places new people the way the product meets them: ml-latest-small's users are split 80/20
(seeds 1…5); each of ``--models`` is fitted, at its defaults, on the 80%'s ratings; each held-out user gives n ∈
{1, 3, 5, 10} of their ratings (in an order drawn with the seed) and the rest are predicted. Two figures
per (λ_b, λ_f): RMSE of the clipped predictions (each person and n weighs the same), and NDCG@10 of the
predicted-rating ranking (movies with ≥ 5 training ratings, the given ones left out; n ∈ {3, 10}) against
the rest of their ratings ≥ 4. λ_f moves the lists, so the chosen point is the lowest RMSE (mean over the
models) among points where no model's NDCG@10 is below its first-build figure; it is also read
cross-fitted (chosen on four seeds, scored on the fifth). No test split exists here: the held-out people are validation for this one setting.
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

from movierec.datasets import load  # noqa: E402
from movierec.models.registry import create  # noqa: E402
from movierec.scoring.factors import ridge_fold_in  # noqa: E402

GIVEN = (1, 3, 5, 10)
RANKED = (3, 10)
BIAS_REGS = (1.0, 2.0, 3.0, 5.0, 10.0)
FACTOR_REGS = (0.3, 1.0, 3.0, 10.0)
SEEDS = (1, 2, 3, 4, 5)
OLD = (1.0, 1.0)  # the first build's single penalty (scoring.factors.RIDGE_REG) on both


def fold_in(q: np.ndarray, bi: np.ndarray, mu: float, items: np.ndarray, r: np.ndarray, lb: float, lf: float) -> np.ndarray:  # fmt: skip
    """Predicted ratings after the product's ridge solve with penalty λ_b on b_u and λ_f on p_u."""
    return ridge_fold_in(q, bi, mu, items, r, reg=lf, biased=True, bias_reg=lb).astype(np.float64)


def visitors(inter: Any, seed: int) -> tuple[Any, list[tuple[np.ndarray, np.ndarray]]]:
    """Ratings of the 80% of users the model trains on; each held-out user's (items, ratings), shuffled."""
    rng = np.random.default_rng(seed)
    held = rng.random(inter.n_users) < 0.2
    train = inter.subset(np.flatnonzero(~held[inter.users]))
    out = []
    for u in np.flatnonzero(held):
        rows = np.flatnonzero(inter.users == u)
        rows = rows[rng.permutation(len(rows))]
        out.append((inter.items[rows], inter.ratings[rows].astype(np.float64)))
    return train, out


def _ndcg(pred: np.ndarray, given: np.ndarray, rest: np.ndarray, floor: np.ndarray) -> float | None:
    """NDCG@10 of the predicted-rating ranking (``floor``: movies it may list) against ``rest``."""
    s = np.where(floor, pred, -np.inf)
    s[given] = -np.inf
    top = np.argpartition(-s, 10)[:10]
    top = top[np.argsort(-s[top])]
    gains = 1.0 / np.log2(np.arange(2, 12))
    ideal = gains[: min(10, len(rest))].sum()
    return float((np.isin(top, rest) * gains).sum() / ideal) if len(rest) else None


def grid(model_name: str, inter: Any, seed: int) -> dict[tuple[float, float], tuple[float, float]]:
    """(RMSE, NDCG@10) of every (λ_b, λ_f) point over the held-out users of ``seed``."""
    train, people = visitors(inter, seed)
    m = create(model_name).fit(train)
    q, bi, mu = np.asarray(m.item_factors_), np.asarray(m.item_bias_), float(m.global_mean_)
    lo, hi = inter.rating_scale
    counts = np.bincount(train.items, minlength=inter.n_items)
    out = {}
    for lb, lf in itertools.product(BIAS_REGS, FACTOR_REGS):
        squared, ndcgs = [], []  # each (person, n) counts once: a heavy rater does not outweigh light ones
        for items, ratings in people:
            for n in GIVEN:
                rest = items[n:]
                keep = counts[rest] > 0  # an item nobody in training rated has no factors to speak of
                if not keep.any():
                    continue
                pred = fold_in(q, bi, mu, items[:n], ratings[:n], lb, lf)
                squared.append(float(((np.clip(pred[rest[keep]], lo, hi) - ratings[n:][keep]) ** 2).mean()))
                if n in RANKED:
                    v = _ndcg(pred, items[:n], rest[ratings[n:] >= 4], counts >= 5)
                    if v is not None:
                        ndcgs.append(v)
        out[(lb, lf)] = (float(np.sqrt(np.mean(squared))), float(np.mean(ndcgs)))
    return out


Grids = dict[str, dict[int, dict[tuple[float, float], tuple[float, float]]]]  # model → seed → point → figures


def choose(grids: Grids, seeds: list[int]) -> tuple[float, float]:
    """The lowest RMSE (mean over the models and ``seeds``) among points whose NDCG@10 is, for every model,
    not below that model's at :data:`OLD`: one setting serves every rating model, none of whose lists worsen."""
    points = list(next(iter(grids.values()))[seeds[0]])

    def mean(model: str, k: tuple[float, float], j: int) -> float:
        return float(np.mean([grids[model][s][k][j] for s in seeds]))

    fair = [k for k in points if all(mean(m, k, 1) >= mean(m, OLD, 1) for m in grids)]
    return min(fair, key=lambda k: float(np.mean([mean(m, k, 0) for m in grids])))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="svd,svdpp", help="rating models whose fold-in the setting serves")
    ap.add_argument("--out", default=str(ROOT / "bench/results/foldin_study.json"))
    args = ap.parse_args()
    tic, load_before = time.perf_counter(), os.getloadavg()
    ds = load("ml-latest-small")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    grids: Grids = {m: {seed: grid(m, ds.interactions, seed) for seed in SEEDS} for m in models}
    best = choose(grids, list(SEEDS))
    crossfit = [(s, choose(grids, [o for o in SEEDS if o != s])) for s in SEEDS]  # read on the seed left out
    result: dict[str, Any] = {
        "command": f"PYTHONPATH=src python bench/foldin_study.py --models {','.join(models)}",
        "dataset_sha256": ds.sha256, "given": list(GIVEN), "ranked": list(RANKED), "seeds": list(SEEDS),
        "chosen": {"bias_reg": best[0], "factor_reg": best[1]}, "models": {},
    }  # fmt: skip
    for m in models:
        g = grids[m]
        mean = {k: tuple(float(np.mean([g[s][k][j] for s in SEEDS])) for j in (0, 1)) for k in g[SEEDS[0]]}
        cf = tuple(float(np.mean([g[s][k][j] for s, k in crossfit])) for j in (0, 1))
        print(f"{m}:")
        for (lb, lf), (r, n) in sorted(mean.items()):
            print(f"  λ_b {lb:4g} λ_f {lf:4g}  rmse {r:.4f}  ndcg@10 {n:.4f}")
        print(f"  chosen λ_b {best[0]:g}, λ_f {best[1]:g}: rmse {mean[best][0]:.4f}, ndcg@10 {mean[best][1]:.4f} "
              f"(first build: {mean[OLD][0]:.4f}, {mean[OLD][1]:.4f}); cross-fitted {cf[0]:.4f}, {cf[1]:.4f}")  # fmt: skip
        result["models"][m] = {
            "rows": [{"bias_reg": lb, "factor_reg": lf, "rmse": r, "ndcg@10": n, "by seed": [list(g[s][(lb, lf)]) for s in SEEDS]}
                     for (lb, lf), (r, n) in sorted(mean.items())],
            "chosen": {"rmse": mean[best][0], "ndcg@10": mean[best][1]},
            "first_build": {"rmse": mean[OLD][0], "ndcg@10": mean[OLD][1]},
            "cross_fitted": {"rmse": cf[0], "ndcg@10": cf[1]},
        }  # fmt: skip
    result["seconds"] = round(time.perf_counter() - tic, 1)
    result["loadavg"] = [round(x, 2) for x in (*load_before, *os.getloadavg())]
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
