"""The main job end to end: the default ``movierec report`` on bundled ml-latest-small, and t-SNE maps.

* ``report-default``: ``movierec report --out <tmp> --force`` as a user runs it (a fresh process,
  imports included), median of 3 runs; the time per step is read from the median run's
  ``results.json``. Target (issue 5): under 90 s on the 2-core machine (``reference_seconds`` holds
  the target, so ``ratio`` < 1 means within it).
* ``tsne-all-items``: openTSNE (FFT gradient) of every item vector of WARP with genres+tags (about
  9.7k items, L2-normalised, PCA to 50 dims first), median of 3. Target: under 30 s.
* ``tsne-1500``: the report's map size (1,500 most-rated items), ours (openTSNE) against
  scikit-learn's ``TSNE`` (Barnes-Hut, the notebook's library) on the same PCA-50 inputs, median of 3.

Results: ``bench/results/report.json``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, make_row, parse_mode, timeit, write_results

TASK = "report"


def _report_runs(repeat: int) -> tuple[list[float], list[dict[str, Any]]]:
    exe = Path(sys.executable).with_name("movierec")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "movierec"]
    walls, metas = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            out = Path(tmp) / f"r{i}"
            t0 = time.perf_counter()
            subprocess.run(
                [*cmd, "report", "--out", str(out), "--force"],
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            walls.append(time.perf_counter() - t0)
            data = json.loads((out / "results.json").read_text())
            metas.append(
                {
                    "timings": data["report"]["timings"],
                    "maps": data["maps"],
                    "html_mb": round((out / "index.html").stat().st_size / 1e6, 2),
                    "ndcg@10": {r["model"]: r["values"].get("ndcg@10") for r in data["table"]},
                }
            )
    return walls, metas


def _warp_vectors() -> tuple[np.ndarray, np.ndarray]:
    from movierec.datasets import load
    from movierec.features import build_item_features
    from movierec.models.registry import create

    ds = load("ml-latest-small")
    train = ds.interactions.to_implicit(4.0)
    model = create("warp").fit(train, item_features=build_item_features(ds, train.item_map, "genres,tags"))
    return np.asarray(model.item_embeddings(), dtype=np.float64), ds.interactions.item_counts()


def _pca50(vectors: np.ndarray) -> np.ndarray:
    from movierec.viz.embeddings import _pca

    x = vectors / np.maximum(np.linalg.norm(vectors, axis=1), 1e-12)[:, None]
    return _pca(x, 50, 0)


def main() -> None:
    args = parse_mode(__doc__.splitlines()[0])
    repeat = args.repeat
    load = os.getloadavg()[0]
    rows = []

    walls, metas = _report_runs(repeat)
    med = statistics.median(walls)
    mid = metas[walls.index(sorted(walls)[len(walls) // 2])]
    rows.append(
        make_row(
            TASK,
            "report-default (svd, knn-baseline, bpr, ease, als, warp+genres+tags; t-SNE maps of 1,500 items)",
            med,
            "target (issue 5)",
            90.0,
            quality={"ndcg@10": mid["ndcg@10"], "index_html_mb": mid["html_mb"]},
            notes=f"fresh `movierec report` process, median of {repeat}; load average {load:.1f} at start",
            runs=[round(w, 2) for w in walls],
            steps=mid["timings"],
            maps=mid["maps"],
        )
    )
    print(f"report: median {med:.1f} s {[round(w, 1) for w in walls]} steps {mid['timings']}", flush=True)

    from movierec.viz.embeddings import project

    vectors, counts = _warp_vectors()
    usable = np.flatnonzero(np.linalg.norm(vectors, axis=1) > 0)
    t = timeit(lambda: project(vectors, "tsne", 42, sample=None, items=usable), repeat=repeat)
    proj = t["result"]
    again = project(vectors, "tsne", 42, sample=None, items=usable)
    rows.append(
        make_row(
            TASK,
            f"tsne-all-items ({len(usable):,} WARP+genres+tags item vectors, openTSNE FFT)",
            t["median"],
            "target (issue 5)",
            30.0,
            quality={"deterministic": bool(np.array_equal(proj.coords, again.coords))},
            notes=f"median of {repeat}, PCA included; load average {os.getloadavg()[0]:.1f}",
            runs=[round(r, 2) for r in t["runs"]],
        )
    )
    print(f"tsne all {len(usable)}: median {t['median']:.1f} s {t['runs']}", flush=True)

    top = np.sort(usable[np.argsort(-counts[usable], kind="stable")[:1500]])
    ours = timeit(lambda: project(vectors, "tsne", 42, sample=None, items=top), repeat=repeat)
    from sklearn.manifold import TSNE

    x50 = _pca50(vectors[top])
    ref = timeit(
        lambda: TSNE(n_components=2, perplexity=30, init="pca", random_state=42, n_jobs=2).fit_transform(x50),
        repeat=repeat,
    )
    rows.append(
        make_row(
            TASK,
            "tsne-1500 (the report's map size)",
            ours["median"],
            "scikit-learn TSNE (Barnes-Hut)",
            ref["median"],
            notes=f"same PCA-50 inputs; median of {repeat}",
            ours_runs=[round(r, 2) for r in ours["runs"]],
            reference_runs=[round(r, 2) for r in ref["runs"]],
        )
    )
    print(f"tsne 1500: ours {ours['median']:.1f} s, sklearn {ref['median']:.1f} s", flush=True)
    path = write_results(TASK, rows, mode=args.mode)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
