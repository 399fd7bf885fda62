"""What a new user sees: the first commands after a fresh install, next to the same commands warm (issue 16).

Steps, each a separate process, in this order:

1. **install**: ``git clone`` of this repository's HEAD into a temporary folder, a new venv, and
   ``pip install -e '.[reference,viz]'`` (``make demo``'s ``.[report]`` plus the reference libraries the
   comparisons need); its seconds and any warning
   lines pip prints that mention this project are recorded. Whatever ``pip install`` does (here:
   compiling the explicit kernels) counts as install, not run time.
2. **cold compare**: ``movierec compare --models svd,surprise:svd,knn-baseline,surprise:knn-baseline
   --protocols rating`` with an empty numba cache directory (``NUMBA_CACHE_DIR``), ``--repeat``
   times, each with a new empty cache; ``fit_seconds`` as ``compare`` reports them, ours and
   Surprise's from the same run (targets: svd ≥ 10×, knn-baseline ≥ 5× faster).
3. **warm compare**: the same command again with the cache the cold runs filled (targets: svd ≥ 20×,
   knn-baseline ≥ 10×), and ``--models bpr,lightfm:bpr,warp,lightfm:warp --protocols full-ranking``
   warm (bpr/warp ≥ 2× LightFM per epoch, as bench_implicit measures it: each model at its own
   defaults, and our bpr's are 150 epochs × 200 factors against LightFM's 25 × 40).
4. **bare fit**: the same models fitted in the new venv, as many Python processes as compare ran
   (each: one warm-up, then the median of 3 fits), the median over the processes: ``compare``'s
   ``fit_seconds`` (a median over its processes) must stay within 1.2× of it. One bare process
   against a median of compare processes compared one process's luck with a spread: on this VM the
   same fit differs by up to 1.3× from process to process (warp's bare fit read 0.277 s in one run
   and 0.210 s in the next).
5. **report** (skipped by ``--no-report``): ``movierec report`` with an empty cache, then again warm
   (target: cold ≤ 1.3× warm).

``--demo SECONDS`` records a ``make demo`` time measured on a fresh clone (the whole Makefile
target, install included; target ≤ 3 min); ``--reuse DIR`` skips step 1 and uses ``DIR/repo`` and
``DIR/venv`` made by an earlier run (install seconds then come from ``DIR/install.json``). Every row
records the 1-minute load average before and after it. Results: ``bench/results/coldstart.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, make_row, write_results

TASK = "coldstart"
EXPLICIT = "svd,surprise:svd,knn-baseline,surprise:knn-baseline"
IMPLICIT = "bpr,lightfm:bpr,warp,lightfm:warp"
BARE_FIT = """
import json, statistics, sys, time
from movierec.datasets import load
from movierec.models.registry import create
from movierec.split import interactions_holdout, ratings_holdout
data = load("ml-latest-small").interactions
explicit, _ = ratings_holdout(data, 0.2, 42)
implicit, _ = interactions_holdout(data.to_implicit(4.0), 0.2, 42)
out = {}
for name in sys.argv[2].split(","):
    train = implicit if name in ("bpr", "warp") else explicit
    seed = {"random_state": 42} if name != "knn-baseline" else {}  # compare seeds the models that take one
    create(name, **seed).fit(train)  # warm-up
    runs = []
    for _ in range(int(sys.argv[1])):
        model = create(name, **seed)
        t0 = time.perf_counter(); model.fit(train); runs.append(time.perf_counter() - t0)
    out[name] = statistics.median(runs)
print(json.dumps(out))
"""


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    secs = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return secs, proc.stdout + proc.stderr


def install(dest: Path) -> dict[str, Any]:
    """Clone HEAD, make a venv, ``pip install -e '.[reference,viz]'``; seconds and our warning lines."""
    repo, venv = dest / "repo", dest / "venv"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(repo)], check=True)
    load0 = _load()
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip", "wheel", "setuptools"], check=True)
    proc = subprocess.run(
        [*pip, "install", "-e", ".[reference,viz]"], cwd=repo, capture_output=True, text=True, check=True
    )
    secs = time.perf_counter() - t0
    ours = [
        line
        for line in (proc.stdout + proc.stderr).splitlines()
        if "warning" in line.lower() and ("movierec" in line.lower() or "pyproject" in line.lower())
    ]
    info = {"seconds": secs, "warnings_of_ours": ours, "load_before": load0, "load_after": _load()}
    (dest / "install.json").write_text(json.dumps(info, indent=2))
    return info


RESUME: dict[str, Any] = {}


def _compare(python: Path, repo: Path, models: str, protocol: str, cache: Path, out: Path) -> dict[str, Any]:
    """One ``movierec compare`` process; fit_seconds per model, wall seconds, load before/after.

    With ``--resume`` a run whose results.json exists is read back instead of repeated (its wall
    time is unknown then, and its load is the one given with ``--resume-load``).
    """
    if RESUME and (out / "results.json").is_file():
        rows = json.loads((out / "results.json").read_text())
        fits = {r["model"]: float(r["fit_seconds"]) for r in rows}
        return {"fit": fits, "epochs": _epochs(rows), "wall": None, "load_before": RESUME["load"][0],
                "load_after": RESUME["load"][1]}  # fmt: skip
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": ""}
    load0 = _load()
    cmd = [str(python), "-m", "movierec", "compare", "--models", models, "--protocols", protocol]
    secs, _ = _run([*cmd, "--out", str(out)], env, repo)
    rows = json.loads((out / "results.json").read_text())
    fits = {r["model"]: float(r["fit_seconds"]) for r in rows}
    return {"fit": fits, "epochs": _epochs(rows), "wall": secs, "load_before": load0, "load_after": _load()}


def _epochs(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Epochs each model was fitted for (its ``params``), where it has any."""
    return {r["model"]: float(r["params"]["epochs"]) for r in rows if (r.get("params") or {}).get("epochs")}


def _median_fits(runs: list[dict[str, Any]]) -> dict[str, float]:
    return {m: statistics.median(r["fit"][m] for r in runs) for m in runs[0]["fit"]}


def _pair_rows(
    label: str, runs: list[dict[str, Any]], pairs: list[tuple[str, str, float]], *, per_epoch: bool = False
) -> list[dict[str, Any]]:
    """Speed-up rows of ours vs the reference, from compare's fit_seconds (median over the processes).

    ``per_epoch``: the speed-up is of seconds per epoch (fit_seconds / the epochs in the row's params),
    as bench_implicit measures bpr/warp against LightFM: each runs its own defaults (our bpr: 150
    epochs of LearnBPR with 200 factors; lightfm:bpr: LightFM's 25 epochs of 40), so whole fits do
    different amounts of work. The whole-fit ratio is kept in ``quality``.
    """
    med = _median_fits(runs)
    loads = [r["load_before"] for r in runs] + [r["load_after"] for r in runs]
    epochs = runs[0].get("epochs") or {}
    rows = []
    for ours, ref, target in pairs:
        whole = med[ref] / med[ours]
        speedup, what = whole, "fit_seconds as compare reports them"
        if per_epoch and epochs.get(ours) and epochs.get(ref):
            speedup = (med[ref] / epochs[ref]) / (med[ours] / epochs[ours])
            what = (
                f"seconds per epoch from compare's fit_seconds ({ours} {epochs[ours]:.0f} epochs, "
                f"{ref} {epochs[ref]:.0f}, each at its defaults; whole fit {whole:.2f}×)"
            )
        print(
            f"{label:<28} {ours:<14} {med[ours]:8.3f}s  {ref:<22} {med[ref]:8.3f}s  {speedup:6.1f}×  (target ≥ {target}×)"
        )
        rows.append(
            make_row(
                TASK, f"{label}: {ours} vs {ref}", med[ours], ref, med[ref],
                quality={"speedup": speedup, "target_speedup": target, "meets_target": speedup >= target,
                         "whole_fit_speedup": whole, "epochs": {ours: epochs.get(ours), ref: epochs.get(ref)},
                         "ours_runs": [r["fit"][ours] for r in runs], "reference_runs": [r["fit"][ref] for r in runs],
                         "command_seconds": [r["wall"] for r in runs]},
                notes=f"{what}; median of {len(runs)} processes; 1-min load {min(loads):.1f}-{max(loads):.1f}",
                load_averages=loads,
            )
        )  # fmt: skip
    return rows


def _report(python: Path, repo: Path, cache: Path, out: Path) -> dict[str, Any]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": ""}
    load0 = _load()
    secs, _ = _run([str(python), "-m", "movierec", "report", "--out", str(out), "--force"], env, repo)
    return {"seconds": secs, "load_before": load0, "load_after": _load()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3, help="processes per measurement (median)")
    p.add_argument("--reuse", type=Path, help="a folder with repo/ and venv/ from an earlier run")
    p.add_argument(
        "--keep", type=Path, help="make the fresh install here (and keep it) instead of a temp dir"
    )
    p.add_argument("--no-report", action="store_true", help="skip the cold/warm report pair (~2 × 1 min)")
    p.add_argument("--demo", type=float, help="seconds of a `make demo` on a fresh clone, measured outside")
    p.add_argument("--demo-load", type=str, default="", help="load averages during that make demo")
    p.add_argument(
        "--resume", type=Path, help="the work folder of an interrupted run: reuse its compare results"
    )
    p.add_argument("--resume-load", type=str, default="", help="LOW,HIGH 1-min load seen during those runs")
    ns = p.parse_args()
    repeat = max(1, ns.repeat)
    work = ns.resume or Path(tempfile.mkdtemp(prefix="movierec-coldstart-"))
    if ns.resume:
        lo, hi = (float(x) for x in (ns.resume_load or "0,0").split(","))
        RESUME["load"] = (lo, hi)
    dest = ns.reuse or ns.keep or work
    dest.mkdir(parents=True, exist_ok=True)
    info = json.loads((dest / "install.json").read_text()) if ns.reuse else install(dest)
    repo, python = dest / "repo", dest / "venv" / "bin" / "python"
    rows: list[dict[str, Any]] = [
        make_row(
            TASK, "install: pip install -e '.[reference,viz]' in a new venv", info["seconds"], None, None,
            quality={"warnings_of_ours": info["warnings_of_ours"]},
            notes=f"compiles the explicit kernels; 1-min load {info['load_before']}-{info['load_after']}",
        )
    ]  # fmt: skip
    print(f"install {info['seconds']:.0f}s, warnings of ours: {info['warnings_of_ours'] or 'none'}")
    cold = [
        _compare(python, repo, EXPLICIT, "rating", work / f"cache-cold-{r}", work / f"cold-{r}")
        for r in range(repeat)
    ]
    rows += _pair_rows(
        "cold first compare",
        cold,
        [("svd", "surprise:svd", 10.0), ("knn-baseline", "surprise:knn-baseline", 5.0)],
    )
    warm_cache = work / "cache-cold-0"
    warm = [_compare(python, repo, EXPLICIT, "rating", warm_cache, work / f"warm-{r}") for r in range(repeat)]
    rows += _pair_rows(
        "warm compare", warm, [("svd", "surprise:svd", 20.0), ("knn-baseline", "surprise:knn-baseline", 10.0)]
    )
    _compare(python, repo, IMPLICIT, "full-ranking", warm_cache, work / "implicit-warmup")  # fills the cache
    implicit = [
        _compare(python, repo, IMPLICIT, "full-ranking", warm_cache, work / f"imp-{r}") for r in range(repeat)
    ]
    rows += _pair_rows(
        "warm compare", implicit, [("bpr", "lightfm:bpr", 2.0), ("warp", "lightfm:warp", 2.0)], per_epoch=True
    )

    env = {**os.environ, "NUMBA_CACHE_DIR": str(warm_cache), "PYTHONPATH": ""}
    load0 = _load()
    # one bare process per compare process: compare's side is a median over processes, so the bare side
    # samples the same process-to-process spread (this VM's identical fits differ by up to 1.3x between
    # processes); each process reports the median of 3 fits after a warm-up
    per_process = []
    for _ in range(max(3, repeat)):
        _, out = _run([str(python), "-c", BARE_FIT, "3", "svd,knn-baseline,bpr,warp"], env, repo)
        per_process.append(json.loads(out.strip().splitlines()[-1]))
    bare = {name: statistics.median(p[name] for p in per_process) for name in per_process[0]}
    via = {**_median_fits(warm), **_median_fits(implicit)}
    for name, secs in bare.items():
        ratio = via[name] / secs
        print(
            f"compare vs bare fit          {name:<14} {via[name]:8.3f}s vs {secs:8.3f}s  {ratio:5.2f}×  (target ≤ 1.2×)"
        )
        rows.append(
            make_row(
                TASK, f"fit_seconds in compare vs bare fit: {name}", via[name], f"bare {name}.fit", secs,
                quality={"ratio": ratio, "target_ratio": 1.2, "meets_target": ratio <= 1.2},
                notes=f"warm; bare = median over {max(3, repeat)} processes of each one's median of 3 fits "
                "after a warm-up; "
                f"1-min load {load0}-{_load()}",
            )
        )  # fmt: skip
    if not ns.no_report:
        cold_r = _report(python, repo, work / "cache-report", work / "report-cold")
        warm_r = _report(python, repo, work / "cache-report", work / "report-warm")
        ratio = cold_r["seconds"] / warm_r["seconds"]
        print(
            f"report cold {cold_r['seconds']:.1f}s vs warm {warm_r['seconds']:.1f}s: {ratio:.2f}× (target ≤ 1.3×)"
        )
        rows.append(
            make_row(
                TASK, "movierec report: cold (empty numba cache) vs warm", cold_r["seconds"], "warm report",
                warm_r["seconds"], quality={"ratio": ratio, "target_ratio": 1.3, "meets_target": ratio <= 1.3},
                notes=f"one process each; 1-min load {cold_r['load_before']}-{warm_r['load_after']}",
                load_averages=[cold_r["load_before"], cold_r["load_after"], warm_r["load_before"], warm_r["load_after"]],
            )
        )  # fmt: skip
    if ns.demo is not None:
        rows.append(
            make_row(
                TASK, "make demo on a fresh clone (install + first report)", ns.demo, None, None,
                quality={"target_seconds": 180.0, "meets_target": ns.demo <= 180.0},
                notes=f"measured outside this script; 1-min load {ns.demo_load or 'not recorded'}",
            )
        )  # fmt: skip
    print(f"wrote {write_results(TASK, rows)}")


if __name__ == "__main__":
    main()
