"""A person not in the data, through each serving family → bench/results/visitors.json.

What ``POST /recommendations`` does for a visitor, minus HTTP: ``Artifact.visitor(ratings, k=10)`` on an
artifact exported by ``movierec export``'s own pipeline from the bundled ml-latest-small (each model at
its defaults; implicit models on the ratings ≥ 4), one model per family or visitor rule: the factor
family's ridge (svd) and iALS solve, the item-row families (itemknn, ease), the kNN rule with offsets
(knn-baseline) and with z-scores (knn-zscore), user-EASE's exact bordered solve, the ensemble's bases,
the table family's rules (Slope One's deviations, NMF's non-negative solve, co-clustering's cluster,
user-based k-NN's neighbours) and the VAE's encoder (where torch is installed, to train it).

Each row: the median seconds of one call over 5 seeded visitors × 5 calls (so a visitor's first call
and the rest are both in it), for visitors with 3 and with 20 rated movies (among movies with at least
20 ratings, ratings drawn from 3 to 5 stars, so some are not positives), the family, and whether any
call fell back to popularity. No reference library places a visitor without refitting (Surprise and
LightFM need a refit), so there is no ratio. The load average before and after each model is recorded.

``--sizes`` exports every model again and puts its artifact's size in the stored rows' notes, with the
date and commit it was measured at, keeping every time and the machine they were measured on: a size does
not depend on the machine's load, while the visitor times did (3001adb7: on the shared 2 cores svd's
visitor read 8 ms against 0.21 stored, OpenBLAS's threads against other processes).
"""

from __future__ import annotations

import importlib.util
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS_DIR, ROOT, machine_info, make_row, parse_mode, write_results

sys.path.insert(0, str(ROOT / "src"))

TASK = "visitors"
MODELS: list[tuple[str, dict[str, Any]]] = [
    ("svd", {}),
    ("knn-baseline", {}),
    ("knn-zscore", {}),
    ("itemknn", {}),
    ("ease", {}),
    ("user-ease", {}),
    ("ials", {}),
    ("ensemble", {}),
    ("slope-one", {}),
    ("nmf", {}),
    ("co-clustering", {}),
    ("knn-means", {"user_based": True}),
    ("mult-vae", {"epochs": 20}),
]
SIZES = (3, 20)
VISITORS, CALLS = 5, 5


def _visitors(art: Any, n: int, seed: int) -> list[list[tuple[Any, float]]]:
    rng = np.random.default_rng(seed)
    pool = np.flatnonzero(art.support >= 20)
    out = []
    for _ in range(VISITORS):
        items = rng.choice(pool, n, replace=False)
        stars = rng.choice([3.0, 3.5, 4.0, 4.5, 5.0], n)
        out.append([(art.item_map.to_raw(int(i)), float(r)) for i, r in zip(items, stars, strict=True)])
    return out


def export(ds: Any, name: str, params: dict[str, Any], root: Path) -> tuple[Path, float, float]:
    """``name`` exported by ``movierec export``'s pipeline into ``root``: its folder, the seconds it took and
    its files' size in MB."""
    from movierec.serving.pipeline import train_and_export

    tic = time.perf_counter()
    path = Path(train_and_export(ds, name, params, root / name, check=False).path)
    seconds = time.perf_counter() - tic
    return path, seconds, sum(f.stat().st_size for f in path.iterdir()) / 2**20


def refresh_sizes(mode: str) -> Path:
    """``--sizes``: each stored row's artifact size measured again (every model exported once), written
    into its notes with when and at which commit; the rows' times, load and machine are kept as stored."""
    import json

    from movierec.datasets import load

    path = RESULTS_DIR / f"{TASK}.json"
    rows = json.loads(path.read_text())
    ds, stamp = load("ml-latest-small"), machine_info()
    when = f"size of {stamp['date'][:10]} at {stamp['git_commit']}"
    with tempfile.TemporaryDirectory() as tmp:
        for name, params in MODELS:
            label = f"{name}{' (user_based)' if params.get('user_based') else ''}: "
            mine = [r for r in rows if r["variant"].startswith(label)]
            if not mine or (name == "mult-vae" and importlib.util.find_spec("torch") is None):
                continue
            size_mb = export(ds, name, params, Path(tmp))[2]
            for r in mine:
                was = r["notes"]
                r["notes"] = re.sub(
                    r"artifact \d+ MB( \([^)]*\))?", f"artifact {size_mb:.0f} MB ({when})", was
                )
                print(f"{r['variant']}: {was} -> {r['notes']}", flush=True)
    return write_results(TASK, rows, mode=mode)


def measure(name: str, params: dict[str, Any], root: Path) -> list[dict[str, Any]]:
    """Export ``name`` and time its visitors; one row per visitor size."""
    from movierec.datasets import load
    from movierec.serving.artifact import load_artifact

    ds = load("ml-latest-small")
    before = os.getloadavg()
    path, fit_seconds, size_mb = export(ds, name, params, root)
    art = load_artifact(path)
    rows = []
    for n in SIZES:
        times, fallbacks = [], 0
        for ratings in _visitors(art, n, seed=n):
            for _ in range(CALLS):
                t = time.perf_counter()
                out = art.visitor(ratings, k=10)
                times.append(time.perf_counter() - t)
            fallbacks += out["fallback"] is not None
        label = f"{name}{' (user_based)' if params.get('user_based') else ''}"
        rows.append(
            make_row(
                TASK,
                f"{label}: a visitor with {n} ratings → top 10",
                float(statistics.median(times)),
                None,
                None,
                quality={"family": art.family, "visitors that fell back to popularity": fallbacks},
                notes=f"export {fit_seconds:.1f} s, artifact {size_mb:.0f} MB; p90 "
                f"{float(np.percentile(times, 90)) * 1000:.1f} ms",
                params=params,
                dataset_sha256=ds.sha256,
                loadavg=[round(x, 2) for x in (*before, *os.getloadavg())],
            )
        )
        print(
            rows[-1]["variant"], f"{rows[-1]['ours_seconds'] * 1000:.2f} ms", rows[-1]["quality"], flush=True
        )
    return rows


def main() -> None:
    sizes = "--sizes" in sys.argv[1:]
    args = parse_mode(__doc__.splitlines()[0], [a for a in sys.argv[1:] if a != "--sizes"])
    if sizes:
        print(refresh_sizes(args.mode))
        return
    has_torch = importlib.util.find_spec("torch") is not None
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, params in MODELS:
            if name == "mult-vae" and not has_torch:
                print("mult-vae skipped: torch is not installed", flush=True)
                continue
            rows += measure(name, params, Path(tmp))
    print(write_results(TASK, rows, mode=args.mode))


if __name__ == "__main__":
    main()
