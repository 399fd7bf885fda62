"""New users on ml-100k (issue 20): the cold-users warm-up curve, demographics against the baselines.

Protocol (:mod:`movierec.cold_users`): a seeded 20% of ml-100k's users (seed 42) are held out
entirely; models train on the others' positives (rating ≥ 4); each held-out user is scored from
their demographics alone (0 revealed ratings) and after revealing their first 1, 5, 10 ratings in
time order; relevant = their ratings ≥ 4 after the 10th; full ranking; NDCG@10 / Recall@10 with
95% bootstrap intervals over users. warp and bpr get the ``demographics`` user features (age
bucket, gender, occupation, zip region); baselines: popularity and segment popularity (age
bucket × gender). Paired: warp+demographics minus each baseline per user, bootstrap interval and
sign-flip permutation p. Targets: warp+demographics ≥ 10% NDCG@10 over popularity at 0 revealed,
and above segment popularity, confirmed by the paired test; a miss is reported with its numbers.
ml-100k from ../shared/data or $MOVIEREC_DATA; skipped with a message when absent.
Results: ``bench/results/cold_users.json``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import make_row, parse_mode, write_results

TASK = "cold_users"
MODELS: list[tuple[str, dict[str, Any]]] = [
    ("popularity", {}),
    ("segment-popularity", {}),
    ("warp", {"random_state": 42}),
    ("bpr", {"random_state": 42}),
    ("ease", {}),
]


def _ml100k() -> Path | None:
    cands = [Path(os.environ["MOVIEREC_DATA"]) / "ml-100k"] if os.environ.get("MOVIEREC_DATA") else []
    cands.append(Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k")
    return next((c for c in cands if (c / "u.data").is_file()), None)


def main() -> None:
    args = parse_mode(__doc__.splitlines()[0], sys.argv[1:])
    path = _ml100k()
    if path is None:
        print("ml-100k not found in $MOVIEREC_DATA or ../shared/data: skipping the cold-users bench")
        return
    from movierec.cold_users import cold_users
    from movierec.datasets import load

    ds = load(path, rating_scale=(1.0, 5.0))
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    rep = cold_users(ds, MODELS, user_features="demographics", seed=42, progress=print)
    secs = time.perf_counter() - t0
    load_after = os.getloadavg()
    rows = []
    for r in rep.rows:
        q = {k: round(v, 4) for k, v in r.items() if isinstance(v, float) and k != "fit_seconds"}
        rows.append(
            make_row(
                TASK,
                f"{r['model']}, {r['revealed']} revealed",
                r.get("fit_seconds"),
                None,
                None,
                quality=q or {"note": r.get("note", "")},
                notes=f"{r['n_users']} held-out users; NDCG@10 [95% bootstrap CI]",
            )
        )
    for p in rep.paired:
        rows.append(
            make_row(
                TASK,
                f"paired: {p['model']} − {p['baseline']}, {p['revealed']} revealed",
                None,
                None,
                None,
                quality={
                    "model": round(p["model_value"], 4),
                    "baseline": round(p["baseline_value"], 4),
                    "relative_gain": None if p["relative_gain"] is None else round(p["relative_gain"], 4),
                    "diff": round(p["diff"], 4),
                    "diff_lo": round(p["diff_lo"], 4),
                    "diff_hi": round(p["diff_hi"], 4),
                    "p_permutation": round(p["p_permutation"], 4),
                },
                notes="per-user NDCG@10 differences on the same held-out users (paired bootstrap, sign-flip test)",
            )
        )
    rows.append(
        make_row(
            TASK,
            "whole protocol",
            secs,
            None,
            None,
            quality={"n_held_out": rep.meta["n_held_out"], "n_evaluated": rep.meta["n_evaluated"]},
            notes=f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (shared 2-core machine)",
        )
    )
    out = write_results(TASK, rows, mode=args.mode)
    for r in rows:
        print(r["variant"], r["quality"])
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
