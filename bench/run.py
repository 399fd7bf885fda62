"""Run every ``bench/bench_*.py`` script (``--quick`` or ``--scale``), then render BENCHMARKS.md.

    python bench/run.py --quick              # all scripts, small sizes
    python bench/run.py --scale              # synthetic 1M/5M/25M: the scripts in SCALE_TASKS
    python bench/run.py --quick --only load  # just bench_load.py

A failing script is reported and the others still run; the exit code is 1 if any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
# scripts with a ``--scale`` mode of their own (synthetic 1M/5M/25M); the others would only repeat their quick run
SCALE_TASKS = ("load", "growth", "explicit", "implicit", "spark")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="small sizes (default)")
    g.add_argument("--scale", action="store_true", help="large synthetic sizes")
    p.add_argument("--only", nargs="*", default=None, help="task names to run (bench_<name>.py)")
    p.add_argument("--timeout", type=float, default=None, help="seconds allowed per script")
    args = p.parse_args(argv)
    flag = "--scale" if args.scale else "--quick"

    scripts = sorted(BENCH_DIR.glob("bench_*.py"))
    if args.scale and not args.only:
        args.only = list(SCALE_TASKS)
    if args.only:
        wanted = {f"bench_{n.removeprefix('bench_').removesuffix('.py')}.py" for n in args.only}
        scripts = [s for s in scripts if s.name in wanted]
    failed = []
    for script in scripts:
        print(f"== {script.name} {flag}", flush=True)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, str(script), flag], cwd=BENCH_DIR.parent, timeout=args.timeout
            )
            ok = proc.returncode == 0
        except subprocess.TimeoutExpired:
            ok = False
            print(f"   {script.name} ran past {args.timeout} s", flush=True)
        print(f"   {'ok' if ok else 'FAILED'} in {time.perf_counter() - t0:.0f} s", flush=True)
        if not ok:
            failed.append(script.name)
    subprocess.run([sys.executable, str(BENCH_DIR / "report.py")], check=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
