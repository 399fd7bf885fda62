"""Batch lists (``recommend --all-users``, ``spark recommend``'s tasks) against serving each user in turn.

``recommend_all_users`` ranks blocks of users through ``Artifact.top_indices`` and builds columns with
array operations; before 7ec4009 it called ``Artifact.recommend_index`` user by user and appended each
row, which took as long as serving every user one at a time. This bench keeps that measurement out of
the test suite (speed lives in benchmarks, not timed tests): on the bundled ml-latest-small, an svd and
an ease export, k 100, it times the batch and the per-user loop alternately (median of ``--repeat``),
records the load average, and checks the two give the same lists.

    PYTHONPATH=src python bench/bench_batch.py [--repeat 3] [--busy 2]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import busy_loops, make_row, parse_mode, write_results

K = 100


def _served_loop(art, k: int) -> list[list[int]]:  # type: ignore[no-untyped-def]
    return [[row["movieId"] for row in art.recommend_index(u, k)] for u in range(art.n_users)]


def main() -> None:
    args = parse_mode(__doc__ or "")
    from movierec import Recommender
    from movierec.serving.batch import recommend_all_users

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp, busy_loops(args.busy):
        for model in ("svd", "ease"):
            rec = Recommender("ml-latest-small", model).fit()
            art = rec.export(Path(tmp) / model)  # the loaded artifact, as `movierec serve` holds it
            batch_s, loop_s = [], []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                frame = recommend_all_users(art, K)
                batch_s.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                served = _served_loop(art, K)
                loop_s.append(time.perf_counter() - t0)
            batch_lists = frame.groupby("userId", sort=False)["movieId"].apply(list).tolist()
            same = len(batch_lists) == len(served) and all(
                np.array_equal(a, b) for a, b in zip(batch_lists, served, strict=True)
            )
            print(model, "batch", [round(s, 2) for s in batch_s], "loop", [round(s, 2) for s in loop_s], same)
            rows.append(
                make_row(
                    "batch",
                    f"{model} k={K} ml-latest-small ({art.n_users} users x {art.n_items} movies)",
                    median(batch_s),
                    "recommend_index per user",
                    median(loop_s),
                    quality={"same_lists": same, "rows": len(frame)},
                    notes=f"busy={args.busy}; batch runs {[round(s, 3) for s in batch_s]}, "
                    f"loop runs {[round(s, 3) for s in loop_s]}",
                )
            )
    print(write_results("batch", rows, mode=args.mode))


if __name__ == "__main__":
    main()
