"""Would weights chosen on several validation splits carry an ensemble past tuned ease? (issue 19)

    PYTHONPATH=src python bench/stacking_study.py [--dataset PATH] [--out FILE]

ml-100k, every rating a positive; only the *training* part of the per-user 75/25 split (seed 42) is
read: it is split again per user 75/25 with seeds 1, 2 and 3. Each base (its ml-100k study's best
point, bench/results/validation_study.json) is fitted on each inner-train part and scores that split's
validation users; scores are z-normalised per user. Weights (grid 0…2, coordinate ascent from the best
single base, 3 rounds) are chosen on two splits and scored on the third, for each of the three: the
leave-one-split-out gain over ease is an estimate of what the weights would carry to unseen data. The
test part is never read. ``--ease-features genres,year`` adds a base, ease fitted with ml-100k's genres
and release years (collective EASE, c 30), and stores that study beside the first. ``--add
mult-vae,recvae`` adds those registered models at their defaults as bases (stored as ``with mult-vae,recvae``,
or ``with ease+features,mult-vae,recvae`` with both options).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, cast

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from movierec import metrics as M  # noqa: E402
from movierec.evaluation import relevant_matrix  # noqa: E402
from movierec.models.registry import create  # noqa: E402
from movierec.split import per_user_holdout  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from validation_study import ml100k_training_part  # noqa: E402

BASES: dict[str, dict[str, Any]] = {
    "ease": {"l2": 120, "popularity_exponent": -0.3, "user_exponent": 0.25, "time_window": 10,
             "time_weight": 1.0, "dropout": 0.85},
    "user-ease": {"l2": 1000},
    "rp3beta": {"alpha": 0.8, "beta": 0.5, "k": 50},
    "ials": {"factors": 128, "alpha0": 0.1, "regularization": 0.03, "epochs": 16},
    "slim": {"alpha": 0.01, "l1_ratio": 0.3, "k": 200},
    "itemknn": {},
}  # fmt: skip
GRID = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0)


def _split_scores(
    train: Any, seed: int, bases: dict[str, dict[str, Any]] = BASES, features: Any = None
) -> tuple[Any, dict[str, np.ndarray]]:
    """Validation relevance of one inner split and each base's per-user z-scores (seen items last); a base
    named ``ease+features`` is ease fitted with the item features ``features`` builds without the tags on
    the split's validation pairs (collective EASE)."""
    inner, valid = per_user_holdout(train, 0.25, seed=seed)
    inner = inner.to_implicit(1.0)
    rel = relevant_matrix(valid, None)
    users = np.flatnonzero(np.diff(rel.indptr) > 0)
    seen = inner.csr()[users]
    rows = np.repeat(np.arange(len(users)), np.diff(seen.indptr))
    z = {}
    for name, params in bases.items():
        model = create(name.split("+")[0], **params)
        if "random_state" in model.get_params():
            model.set_params(random_state=42)
        given = {"item_features": features(valid)} if name.endswith("+features") else {}
        s = np.asarray(model.fit(inner, **given).score(users), dtype=np.float64)
        s[rows, seen.indices] = np.nan
        s = (s - np.nanmean(s, 1, keepdims=True)) / (np.nanstd(s, 1, keepdims=True) + 1e-12)
        z[name] = np.nan_to_num(s, nan=-1e9).astype(np.float32)
    return rel[users], z


def _features_without(ds: Any, train: Any, names: str, valid: Any) -> Any:
    """Item features ``names`` for ``train``'s items, without the tags on ``valid``'s pairs (a user's tag on
    a validation movie names the pair; ml-100k has no tags, other data may)."""
    from movierec.features import build_item_features

    return build_item_features(ds, train.item_map, names, held_out=valid)


def _ndcg(weights: dict[str, float], rel: Any, z: dict[str, np.ndarray]) -> float:
    total = cast(np.ndarray, sum(w * z[n] for n, w in weights.items() if w))
    top = np.argpartition(-total, 10, axis=1)[:, :10]
    recs = np.take_along_axis(top, np.take_along_axis(total, top, 1).argsort(1)[:, ::-1], 1)
    return float(M.ndcg(recs, rel, 10).mean())


def _search(splits: list[Any], bases: dict[str, Any] = BASES) -> tuple[dict[str, float], float]:
    def mean(w: dict[str, float]) -> float:
        return float(np.mean([_ndcg(w, rel, z) for rel, z in splits]))

    first = max(bases, key=lambda n: mean({n: 1.0}))
    weights = {n: float(n == first) for n in bases}
    best = mean(weights)
    for _ in range(3):
        for n in bases:
            if n == first:
                continue
            for g in GRID:
                trial = {**weights, n: g}
                value = mean(trial)
                if value > best + 1e-6:
                    best, weights = value, trial
    return weights, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--dataset", default=os.environ.get("MOVIEREC_ML100K", str(ROOT.parent / "shared/data/ml-100k"))
    )
    ap.add_argument("--out", default=str(ROOT / "bench/results/stacking_study.json"))
    ap.add_argument(
        "--ease-features",
        default="",
        help="add a base: ease at its point fitted with these item features (collective EASE, feature_weight "
        "30, its ml-100k study's best), e.g. genres,year; stored under 'with ease+features'",
    )
    ap.add_argument(
        "--add",
        default="",
        help="more bases at their defaults, comma-separated model names, e.g. mult-vae,recvae",
    )
    args = ap.parse_args()
    tic, load_before = time.perf_counter(), os.getloadavg()
    ds, train = ml100k_training_part(args.dataset)  # the test part is never read
    bases, features = BASES, None
    if args.ease_features:
        features = functools.partial(_features_without, ds, train, args.ease_features)
        bases = {"ease": BASES["ease"], "ease+features": {**BASES["ease"], "feature_weight": 30.0}, **BASES}
    added = [n.strip() for n in args.add.split(",") if n.strip()]
    bases = {**bases, **{n: {} for n in added}}
    splits = [_split_scores(train, s, bases, features) for s in (1, 2, 3)]
    singles = {n: [round(_ndcg({n: 1.0}, rel, z), 4) for rel, z in splits] for n in bases}
    rows = []
    for held in range(3):
        weights, _ = _search([sp for i, sp in enumerate(splits) if i != held], bases)
        got, ease = _ndcg(weights, *splits[held]), _ndcg({"ease": 1.0}, *splits[held])
        rows.append({"held_out_seed": held + 1, "weights": weights, "ndcg@10": got, "ease": ease,
                     "gain": got / ease - 1})  # fmt: skip
        print(rows[-1], flush=True)
    option = f" --ease-features {args.ease_features}" if args.ease_features else ""
    option += f" --add {','.join(added)}" if added else ""
    label = ",".join((["ease+features"] if args.ease_features else []) + added)
    result = {
        "command": f"PYTHONPATH=src python bench/stacking_study.py{option}",
        "dataset_sha256": ds.sha256,
        "bases": bases,
        "single_bases_by_split": singles,
        "leave_one_split_out": rows,
        "mean_gain": float(np.mean([r["gain"] for r in rows])),
        "seconds": round(time.perf_counter() - tic, 1),
        "loadavg": [round(x, 2) for x in (*load_before, *os.getloadavg())],
    }
    print(f"mean gain over ease on the held-out split: {result['mean_gain']:+.2%}")
    out = Path(args.out)
    stored = json.loads(out.read_text()) if out.is_file() else {}
    # the plain study at the top level; each variant under "with <its extra bases>", kept beside the others
    kept = {k: v for k, v in stored.items() if k.startswith("with ")}
    top = {k: v for k, v in stored.items() if not k.startswith("with ")} if label else result
    out.write_text(
        json.dumps({**top, **kept, **({f"with {label}": result} if label else {})}, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()
