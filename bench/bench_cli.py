"""Notebook-first and CLI weight (issue 18): ``movierec --help`` start-up and the default report's size.

* ``help-startup``: a fresh ``python -m movierec --help`` process, median of 10, against a bare
  ``python -c pass`` in the same run (the interpreter's own start-up). Target: under 0.5 s. Lazy
  imports keep numpy, pandas, numba and the models out of it (tests/test_cli_display.py checks the
  module list; this times it).
* ``report-size``: ``index.html`` of the default ``movierec report`` (ml-latest-small, default
  models, t-SNE maps of 1,500 items, no PNG maps). Target: under 3 MB (it was 7.3 MB with the full
  plotly.js inlined and PNG copies of every map).

``--help-only`` re-times the start-up and keeps the last report row; ``--report-only`` re-runs the
report and keeps the last start-up row (time that on a calm machine).

Results: ``bench/results/cli.json``.
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, make_row, parse_mode, write_results

TASK = "cli"


def _wall(cmd: list[str], n: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system of the child) seconds of ``n`` fresh runs of ``cmd``."""
    runs, cpus = [], []
    for _ in range(n):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        runs.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return runs, cpus


def _report_row() -> dict:
    """Run the default ``movierec report`` once; its index.html size (MB) and run time."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r"
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "movierec", "report", "--out", str(out), "--force"],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        secs = time.perf_counter() - t0
        size = (out / "index.html").stat().st_size / 1e6
        data = json.loads((out / "results.json").read_text())
    # the validation curves' cost (issue 18): seconds of per-epoch validation scoring, from the report's note
    found = [
        re.search(r"([\d.]+) s of scoring", n) for n in data["notes"] if n.startswith("validation slice")
    ]
    scoring = float(found[0].group(1)) if found and found[0] else None
    row = make_row(
        TASK,
        "report-size (default movierec report, index.html MB; seconds = its run time)",
        secs,
        None,
        None,
        quality={
            "index_html_mb": round(size, 2),
            "target_mb": 3.0,
            "met": size < 3.0,
            "validation_scoring_s": scoring,
            "train_evaluate_s": round(data["report"]["timings"]["train_evaluate"], 1),
        },
        notes=f"one run; load average {load:.1f} at start; validation curves' scoring {scoring} s of it",
    )
    print(f"report: {size:.2f} MB in {secs:.1f} s", flush=True)
    return row


def main() -> None:
    help_only, report_only = "--help-only" in sys.argv, "--report-only" in sys.argv
    sys.argv = [a for a in sys.argv if a not in ("--help-only", "--report-only")]
    args = parse_mode(__doc__.splitlines()[0])
    args.help_only = help_only
    n = max(10, args.repeat)
    previous = ROOT / "bench" / "results" / "cli.json"
    if report_only and previous.is_file():  # keep the last start-up row (measured on a calm machine)
        rows = [r for r in json.loads(previous.read_text()) if str(r.get("variant", "")).startswith("help-")]
        print(f"wrote {write_results(TASK, [*rows, _report_row()], mode=args.mode)}")
        return
    load = os.getloadavg()[0]
    bare, bare_cpu = _wall([sys.executable, "-c", "pass"], n)
    helps, help_cpu = _wall([sys.executable, "-m", "movierec", "--help"], n)
    rows = [
        make_row(
            TASK,
            "help-startup (python -m movierec --help, fresh process)",
            statistics.median(helps),
            "target (issue 18)",
            0.5,
            quality={
                "bare_python_s": round(statistics.median(bare), 3),
                "cpu_s": round(statistics.median(help_cpu), 3),
                "bare_python_cpu_s": round(statistics.median(bare_cpu), 3),
            },
            notes=f"median of {n}; CPU {statistics.median(help_cpu):.3f} s; bare interpreter "
            f"{statistics.median(bare):.3f} s; load average {load:.1f} at start",
            runs=[round(x, 3) for x in helps],
        )
    ]
    print(
        f"--help: median {statistics.median(helps):.3f} s (bare python {statistics.median(bare):.3f} s)",
        flush=True,
    )
    if args.help_only and previous.is_file():  # keep the last report-size row (the report takes minutes)
        rows += [
            r for r in json.loads(previous.read_text()) if str(r.get("variant", "")).startswith("report-size")
        ]
        print(f"wrote {write_results(TASK, rows, mode=args.mode)}")
        return
    rows.append(_report_row())
    print(f"wrote {write_results(TASK, rows, mode=args.mode)}")


if __name__ == "__main__":
    main()
