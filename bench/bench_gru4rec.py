"""GRU4Rec (issue 20) on bundled ml-latest-small: leave-last-out beside markov, popularity and ease, and the
next-item-in-session protocol.

Leave-last-out: each user's latest rating is the test item; models train on everything else;
full ranking over every item the user has not rated (``movierec.evaluation.compare``, split
``leave-last-out``). gru4rec holds each user's latest *training* item out internally for early
stopping (its defaults: best of 5 epochs; ``time_budget`` is not used, so the row is comparable across loads). sasrec is not retrained
here: its row is read from ``bench/results/sequential.json`` when present (same split).
Published full-ranking figures for the same family are on other data: SASRec on ml-1m
NDCG@10 ≈ 0.13–0.19 (Klenitskiy & Vasilev 2023; Petrov & Macdonald 2023) — a different dataset.
Next-item-in-session (``compare --protocols next-item-in-session``, split ``last-session``): sessions cut
at a 1 h gap, each user's latest session of ≥ 2 ratings is the test session (first 20 events each),
HR@20 / NDCG@20 / MRR@20 per event averaged per user; gru4rec reads 1 h sessions there.
Target: gru4rec NDCG@10 above markov and popularity under leave-last-out; training < 5 min.
Results: ``bench/results/gru4rec.json``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS_DIR, make_row, parse_mode, write_results

TASK = "gru4rec"
BUDGET_S = 280.0
# the class defaults (bench/gru4rec_study.py: bpr-max, 5 epochs, best kept); no time budget, so the row is
# comparable across machine loads
GRU = {"random_state": 42}


def main() -> None:
    argv = sys.argv[1:]
    part = "all"
    if "--part" in argv:  # --part lla | session: rerun one half, keep the other's stored rows
        i = argv.index("--part")
        part = argv[i + 1]
        argv = argv[:i] + argv[i + 2 :]
    args = parse_mode(__doc__.splitlines()[0], argv)
    stored = RESULTS_DIR / f"{TASK}.json"
    keep = json.loads(stored.read_text()) if part != "all" and stored.is_file() else []
    keep = [r for r in keep if r["variant"].startswith("next-item" if part == "lla" else "leave-last-out")]
    from movierec.datasets import load
    from movierec.evaluation import compare

    ds = load("ml-latest-small")
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()

    def progress(e: dict[str, Any]) -> None:
        if e.get("event") == "epoch":
            print(f"  {e['model']} epoch {e['epoch']}: val NDCG@10 {e.get('val_ndcg@10', 0):.4f} "
                  f"({time.perf_counter() - t0:.0f}s)", flush=True)  # fmt: skip

    comp = (
        None
        if part == "session"
        else compare(
            ds,
            [("popularity", {}), ("markov", {}), ("ease", {}), ("gru4rec", GRU)],
            split="leave-last-out",
            protocols=["leave-last-out"],
            progress=progress,
        )
    )
    load_after = os.getloadavg()[0]
    for note in comp.notes if comp is not None else []:
        print("note:", note)
    for r in comp.rows if comp is not None else []:
        q: dict[str, Any] = {key: round(v, 4) for key, v in r.metrics.items()}
        q.update({f"{key} ci": [round(x, 4) for x in v] for key, v in r.intervals.items()})
        extra = ""
        if r.label == "gru4rec":
            assert comp is not None
            m = comp.models["gru4rec"]
            q["best_epoch"] = m.best_epoch_
            q["epochs_run"] = len(m.history_)
            extra = "; 5 epochs, best kept"
        rows.append(
            make_row(
                TASK,
                f"leave-last-out: {r.label}",
                r.fit_seconds,
                None,
                None,
                quality=q,
                notes=f"fit seconds; {r.n_users} users; load average {load_before:.1f} → {load_after:.1f}{extra}",
            )
        )
    seq = RESULTS_DIR / "sequential.json"
    if seq.is_file():
        for r in json.loads(seq.read_text()):
            if comp is not None and str(r.get("variant", "")).startswith("sasrec"):
                rows.append(
                    {**r, "task": TASK, "variant": f"leave-last-out: {r['variant']} (from sequential.json)"}
                )
                break
    tic = time.perf_counter()
    sess = (
        None
        if part == "lla"
        else compare(
            ds,
            [("popularity", {}), ("markov", {}), ("ease", {}), ("gru4rec", {**GRU, "session_gap": "1h"})],
            protocols=["next-item-in-session"],
            k=20,
            progress=progress,
        )
    )
    for r in sess.rows if sess is not None else []:
        q = {key: round(v, 4) for key, v in r.metrics.items()}
        q.update({f"{key} ci": [round(x, 4) for x in v] for key, v in r.intervals.items()})
        rows.append(
            make_row(
                TASK,
                f"next-item-in-session (gap 1h): {r.label}",
                r.fit_seconds,
                None,
                None,
                quality=q,
                notes=f"fit seconds; {'; '.join(r.notes)}; load average {os.getloadavg()[0]:.1f}",
            )
        )
    print(f"session protocol {time.perf_counter() - tic:.0f}s")
    path = write_results(TASK, keep + rows, mode=args.mode)
    for row in rows:
        print(row["variant"], row.get("ours_seconds"), row["quality"])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
