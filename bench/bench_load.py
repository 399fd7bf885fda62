"""Loading ratings: movierec's loaders next to ``pandas.read_csv`` defaults, in the same run.

* bundled ml-latest-small in a warm process (target < 0.5 s): ``movierec.datasets.load`` parses
  ratings, movies and tags, validates every value and maps ids to dense indices; the reference
  reads ratings.csv alone with ``pd.read_csv`` defaults;
* a synthetic ml-25m-shaped ``ratings.csv`` (``bench/synthetic.py``): 1M rows in ``--quick``,
  1M/5M/25M with ``--scale`` (target for 25M: < 20 s and peak RSS < 3 GB):
  ``load_ratings_file`` (→ validated ``Interactions``) against ``pd.read_csv`` defaults.

Each measurement runs in a fresh ``spawn`` child (median of ≥ 3 repeats; one warm-up call up to
1M rows) which also reports its peak RSS and CPU time (user + system, all threads: steadier
than wall time on a shared machine). Results: ``bench/results/load.json`` (``load-scale.json``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import make_row, parse_mode, run_in_child, write_results

TASK = "load"
TARGET_SMALL_S = 0.5
TARGET_25M_S = 20.0
TARGET_25M_RSS_MB = 3 * 1024


def ours_bundled() -> dict[str, int]:
    """Load the bundled set from disk (the in-process cache is cleared so every repeat parses)."""
    from movierec import datasets

    datasets._load_bundled_cached.cache_clear()
    ds = datasets.load("ml-latest-small")
    return {
        "n_ratings": ds.interactions.n_ratings,
        "n_users": ds.interactions.n_users,
        "n_items": ds.interactions.n_items,
    }


def pandas_bundled() -> dict[str, int]:
    import pandas as pd

    from movierec.datasets import bundled_path

    df = pd.read_csv(bundled_path() / "ratings.csv")
    return {
        "n_ratings": len(df),
        "n_users": int(df["userId"].nunique()),
        "n_items": int(df["movieId"].nunique()),
    }


def ours_file(path: str) -> dict[str, int]:
    from movierec.datasets import load_ratings_file

    inter = load_ratings_file(path).interactions
    return {"n_ratings": inter.n_ratings, "n_users": inter.n_users, "n_items": inter.n_items}


def pandas_file(path: str) -> dict[str, int]:
    import pandas as pd

    df = pd.read_csv(path)
    return {"n_ratings": len(df), "n_users": -1, "n_items": -1}  # pandas alone maps no ids


def _row(
    variant: str, ours: dict, ref: dict, *, target_s: float | None, target_rss_mb: float | None, notes: str
) -> dict:
    same = ours["result"]["n_ratings"] == ref["result"]["n_ratings"]
    quality = {
        "n_ratings": ours["result"]["n_ratings"],
        "n_users": ours["result"]["n_users"],
        "n_items": ours["result"]["n_items"],
        "same_row_count_as_reference": same,
    }
    if target_s is not None:
        quality["target_seconds"] = target_s
        quality["meets_time_target"] = ours["seconds"] < target_s
    if target_rss_mb is not None:
        quality["target_peak_rss_mb"] = target_rss_mb
        quality["meets_memory_target"] = ours["peak_rss_mb"] < target_rss_mb
    return make_row(
        TASK, variant, ours["seconds"], "pandas.read_csv (defaults)", ref["seconds"], quality=quality, notes=notes,
        ours_peak_rss_mb=round(ours["peak_rss_mb"], 1), reference_peak_rss_mb=round(ref["peak_rss_mb"], 1),
        ours_cpu_seconds=round(ours["cpu_seconds"], 3), reference_cpu_seconds=round(ref["cpu_seconds"], 3),
        ours_runs=ours["runs"], reference_runs=ref["runs"],
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = parse_mode(__doc__.splitlines()[0], argv)
    rows = []

    ours = run_in_child(ours_bundled, repeat=args.repeat, warmup=1)
    ref = run_in_child(pandas_bundled, repeat=args.repeat, warmup=1)
    rows.append(
        _row(
            "ml-latest-small (bundled, 100,836 ratings)", ours, ref, target_s=TARGET_SMALL_S, target_rss_mb=None,
            notes="ours: ratings+movies+tags, validated, ids mapped; pandas: ratings.csv only",
        )
    )  # fmt: skip
    print(f"{rows[-1]['variant']}: ours {ours['seconds']:.3f} s, pandas {ref['seconds']:.3f} s", flush=True)

    from synthetic import ensure, label

    sizes = [1_000_000, 5_000_000, 25_000_000] if args.mode == "scale" else [1_000_000]
    for n in sizes:
        path = str(ensure(n))
        timeout = 60 + n / 1e5  # generous: a stuck child must not hang `make bench`
        warm = 1 if n <= 1_000_000 else 0  # imports cost ~1 s: negligible next to a 5M+ load
        budget = timeout * (args.repeat + warm)
        ours = run_in_child(ours_file, path, repeat=args.repeat, warmup=warm, timeout=budget)
        ref = run_in_child(pandas_file, path, repeat=args.repeat, warmup=warm, timeout=budget)
        is_25m = n == 25_000_000
        rows.append(
            _row(
                f"synthetic ratings.csv, {label(n)} rows", ours, ref,
                target_s=TARGET_25M_S if is_25m else None, target_rss_mb=TARGET_25M_RSS_MB if is_25m else None,
                notes="ours: parse + validate + ids mapped + dedup check (→ Interactions); pandas: parse only",
            )
        )  # fmt: skip
        print(
            f"{rows[-1]['variant']}: ours {ours['seconds']:.2f} s / {ours['peak_rss_mb']:.0f} MB, "
            f"pandas {ref['seconds']:.2f} s / {ref['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    print(write_results(TASK, rows, mode=args.mode))


if __name__ == "__main__":
    main()
