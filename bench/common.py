"""Helpers every bench script shares: timing, peak memory in a child process, machine info, results.

Conventions (BENCHMARKS.md is rendered from them by ``bench/report.py``):

* times are the **median of at least 3 repeats** (:func:`timeit`), in seconds;
* ``ratio`` is ``ours_seconds / reference_seconds`` (below 1: ours is faster);
* peak memory is the peak resident set size of a fresh ``spawn`` child process that runs only
  the measured function (:func:`run_in_child`), so the parent's memory never pollutes it;
* each script writes ``bench/results/<task>.json`` (``<task>-scale.json`` for ``--scale``): a list of rows
  ``{"task", "variant", "ours_seconds", "reference", "reference_seconds", "ratio", "quality", "notes"}``
  plus optional ``ours_peak_rss_mb`` / ``reference_peak_rss_mb``, ``mode`` and ``machine``.

Usage in a script::

    from common import timeit, run_in_child, make_row, write_results, parse_mode
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
DATA_DIR = BENCH_DIR / "data"  # git-ignored: synthetic data and other generated inputs

__all__ = [
    "BENCH_DIR",
    "DATA_DIR",
    "RESULTS_DIR",
    "ROOT",
    "busy_loops",
    "machine_info",
    "make_row",
    "parse_mode",
    "run_in_child",
    "timeit",
    "write_results",
]


# --- timing ---------------------------------------------------------------------------------


def timeit(fn: Callable[[], Any], *, repeat: int = 3, warmup: int = 0) -> dict[str, Any]:
    """Run ``fn`` ``warmup`` + ``repeat`` times; return the median, min, max and all run times (seconds).

    ``repeat`` is at least 3 so one noisy run cannot decide a result. The last return value of
    ``fn`` is passed back as ``result`` (for quality checks).
    """
    repeat = max(3, int(repeat))
    result = None
    for _ in range(warmup):
        result = fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - t0)
    return {
        "median": statistics.median(runs),
        "min": min(runs),
        "max": max(runs),
        "runs": runs,
        "result": result,
    }


# --- peak memory in a child -----------------------------------------------------------------


def _peak_rss_bytes() -> int:
    """This process's own peak RSS: VmHWM (reset at exec), not ru_maxrss, which Linux carries over
    from the forking parent, so a big parent would otherwise inflate a spawned child's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(ru) if sys.platform == "darwin" else int(ru) * 1024  # Linux reports KiB


def _child(
    conn: Any, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], repeat: int, warmup: int
) -> None:
    try:
        baseline = _peak_rss_bytes()
        cpu: list[float] = []

        def timed() -> Any:  # CPU seconds (all threads) per call: steadier than wall time on a busy machine
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            out = fn(*args, **kwargs)
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
            return out

        timing = timeit(timed, repeat=repeat, warmup=warmup)
        cpu = cpu[warmup:]
        conn.send(
            {
                "ok": True,
                "seconds": timing["median"],
                "runs": timing["runs"],
                "cpu_seconds": statistics.median(cpu),
                "result": timing["result"],
                "peak_rss_mb": _peak_rss_bytes() / 2**20,
                "baseline_rss_mb": baseline / 2**20,
            }
        )
    except BaseException as exc:  # report, never hang the parent
        conn.send({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def run_in_child(
    fn: Callable[..., Any],
    *args: Any,
    repeat: int = 3,
    warmup: int = 0,
    timeout: float | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Time ``fn(*args, **kwargs)`` (median of ``repeat``) in a fresh ``spawn`` child; report its peak RSS.

    ``fn`` must be importable by reference (a module-level function, also in a script guarded by
    ``if __name__ == "__main__"``) and should return something small (counts, not arrays).
    Returns ``{"seconds", "runs", "cpu_seconds", "result", "peak_rss_mb", "baseline_rss_mb"}``
    (``cpu_seconds``: median user+system CPU time of one call, all threads); the peak covers
    the interpreter, its imports and every repeat, so it is an upper bound of one call's peak.
    """
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, kwargs, repeat, warmup))
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise TimeoutError(f"{getattr(fn, '__name__', fn)} ran past {timeout} s")
        out = parent.recv()
    except EOFError:
        out = {"ok": False, "error": f"child died (exit code {proc.exitcode}; out of memory?)"}
    finally:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if not out.get("ok"):
        raise RuntimeError(f"benchmark child failed: {out.get('error')}")
    out.pop("ok", None)
    return out


# --- machine --------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _git_commit() -> str | None:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return None


def machine_info() -> dict[str, Any]:
    """CPU model, cores, RAM, OS, Python and library versions, git commit, load at the time of the run."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "ram_gb": _ram_gb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "pandas": _version("pandas"),
        "pyarrow": _version("pyarrow"),
        "numba": _version("numba"),
        "scipy": _version("scipy"),
        "git_commit": _git_commit(),
        "load_average": load,
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# --- results --------------------------------------------------------------------------------


def interleaved_runs(
    fn: Callable[..., Any], ours: str, reference: str, repeat: int, *args: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``fn(name, *args)`` for our model and the reference in fresh child processes, alternated ``repeat``
    times (so a change in the machine's load touches both); the results of ours and of the reference.

    ``fn`` returns a dict with at least ``fit_seconds``, ``fit_cpu_seconds`` and ``dataset_sha256``."""
    runs: dict[str, list[dict[str, Any]]] = {ours: [], reference: []}
    for _ in range(max(1, repeat)):
        for name in runs:
            out = run_in_child(fn, name, *args, repeat=1)
            runs[name].append(out["result"])
            print(name, *args, out["result"], flush=True)
    return runs[ours], runs[reference]


def paired_fields(ours: list[dict[str, Any]], ref: list[dict[str, Any]], per: float = 1.0) -> dict[str, Any]:
    """The row fields every side-by-side fit bench records: median CPU seconds (divided by ``per``, e.g. the
    epochs), each run's wall seconds and the dataset checksum."""

    def cpu(rs: list[dict[str, Any]]) -> float:
        return float(statistics.median(r["fit_cpu_seconds"] for r in rs)) / per

    return {
        "ours_cpu_seconds": cpu(ours),
        "reference_cpu_seconds": cpu(ref),
        "ours_runs": [round(r["fit_seconds"], 2) for r in ours],
        "reference_runs": [round(r["fit_seconds"], 2) for r in ref],
        "dataset_sha256": ours[-1]["dataset_sha256"],
    }


def make_row(
    task: str,
    variant: str,
    ours_seconds: float | None,
    reference: str | None,
    reference_seconds: float | None,
    *,
    quality: dict[str, Any] | None = None,
    notes: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """One result row in the shared format; ``ratio`` = ours / reference (None when either is missing)."""
    ratio = None
    if ours_seconds is not None and reference_seconds:
        ratio = ours_seconds / reference_seconds
    row = {
        "task": task,
        "variant": variant,
        "ours_seconds": ours_seconds,
        "reference": reference,
        "reference_seconds": reference_seconds,
        "ratio": ratio,
        "quality": quality or {},
        "notes": notes,
    }
    row.update(extra)
    return row


def write_results(task: str, rows: Sequence[dict[str, Any]], *, mode: str | None = None) -> Path:
    """Write ``bench/results/<task>.json`` (a list of rows, each stamped with mode and machine info).

    ``--scale`` runs go to ``<task>-scale.json`` so a later quick run does not overwrite them.
    """
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    out = []
    for r in rows:
        r = dict(r)
        r.setdefault("task", task)
        if mode is not None:
            r.setdefault("mode", mode)
        r.setdefault("machine", machine)
        out.append(r)
    path = RESULTS_DIR / (f"{task}-scale.json" if mode == "scale" else f"{task}.json")
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=2, default=_json_default) + "\n")
    os.replace(tmp, path)
    return path


def ratios_over_draws(
    rows: Sequence[dict[str, Any]], reference: str = "lightfm:bpr"
) -> dict[str, list[float]]:
    """Each model's NDCG@10 over ``reference``'s on the same draw of the split, one per seed both were read on
    (rows with ``model``, ``seed`` and ``ndcg@10``: bench_results.py's ``mlls-seeds`` group), the models in
    order of their mean NDCG@10, best first; ``reference`` itself is left out."""
    at: dict[str, dict[int, float]] = {}
    for r in rows:
        at.setdefault(str(r["model"]), {})[int(r["seed"])] = float(r["ndcg@10"])
    ref = at.pop(reference, {})
    order = sorted(at, key=lambda m: -statistics.fmean(at[m].values()))
    return {m: [v / ref[s] for s, v in sorted(at[m].items()) if ref.get(s)] for m in order}


def write_some_results(task: str, rows: Sequence[dict[str, Any]], *, mode: str | None = None) -> Path:
    """:func:`write_results` for a run of some of a task's variants (``--models``): the stored rows of the
    variants not rerun are kept."""
    path = RESULTS_DIR / (f"{task}-scale.json" if mode == "scale" else f"{task}.json")
    fresh = {r["variant"] for r in rows}
    kept = [r for r in json.loads(path.read_text()) if r["variant"] not in fresh] if path.is_file() else []
    return write_results(task, [*kept, *rows], mode=mode)


@contextlib.contextmanager
def busy_loops(n: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``n`` processes spinning a CPU each while the block runs (a shared machine, reproducibly).

    The bench's ratios then say whether a kernel keeps its lead when other work takes the cores
    (issue 16: no barrier waiting for a descheduled thread). They are stopped on exit.
    """
    procs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
        for _ in range(max(0, int(n)))
    ]
    try:
        if procs:
            time.sleep(1.0)  # let the scheduler see them before anything is timed
        yield procs
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)


def parse_mode(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The flags every bench script takes: ``--quick`` (default, minutes) or ``--scale`` (large data)."""
    p = argparse.ArgumentParser(description=description)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="small sizes, a few minutes (default)")
    g.add_argument("--scale", action="store_true", help="large sizes (synthetic 1M/5M/25M rows)")
    p.add_argument("--repeat", type=int, default=3, help="repeats per measurement (median; at least 3)")
    p.add_argument(
        "--busy", type=int, default=0, metavar="N", help="run N busy-loop processes during the measurement"
    )
    ns = p.parse_args(argv)
    ns.mode = "scale" if ns.scale else "quick"
    ns.repeat = max(3, ns.repeat)
    return ns


def canonical_params(model: str, params: Any) -> Any:
    """``params`` under the model's own hyperparameter names (rows stored before a rename, e.g.
    bayesian-fm's ``rank``/``n_iter`` → ``factors``/``epochs``, read as the names a user types today);
    the bases of a blend or an ensemble too."""
    from movierec.models.registry import available
    from movierec.models.registry import canonical_params as own_names

    if not isinstance(params, dict) or model not in available():
        return params
    out = own_names(model, params)
    if isinstance(out.get("bases"), dict):
        out["bases"] = {b: canonical_params(b.split("#")[0], p) for b, p in out["bases"].items()}
    return out


def write_study(script: str, description: str, run: Callable[[Any], dict[str, Any]]) -> None:
    """A validation study's ``main``: ``--out`` (default ``bench/results/<script>.json``), ``run`` on the
    bundled ml-latest-small, and the JSON with the command, the dataset checksum, the seconds and the
    load average before and after (the studies' shared record)."""
    from movierec.datasets import load

    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--out", default=str(ROOT / f"bench/results/{script}.json"))
    args = ap.parse_args()
    tic, load_before = time.perf_counter(), os.getloadavg()
    ds = load("ml-latest-small")
    result = {"command": f"PYTHONPATH=src python bench/{script}.py", "dataset_sha256": ds.sha256, **run(ds)}
    result["seconds"] = round(time.perf_counter() - tic, 1)
    result["loadavg"] = [round(x, 2) for x in (*load_before, *os.getloadavg())]
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
