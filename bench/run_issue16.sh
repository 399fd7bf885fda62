#!/usr/bin/env bash
# Every issue-16 measurement in one run, then BENCHMARKS.md's Targets rows regenerated from the results.
#
#   bash bench/run_issue16.sh            # from the repository root (e.g. /work/main), on a calm machine
#
# Steps (each records the 1-minute load average; ~20 min on an idle 2-core machine, 25 at most):
#   0. setup.py build_ext --inplace (~15 s): the in-place extension the busy benches import
#   1. make demo on a fresh clone in a temp dir (../shared symlinked beside it): install + first report
#   2. bench_explicit --busy 2 and bench_implicit --busy 2 (svd/bpr/warp vs Surprise/LightFM, 2 busy loops)
#   3. bench_coldstart: a new venv with the reference libraries, cold (empty numba cache) and warm
#      compare (svd, knn-baseline vs Surprise; bpr, warp vs LightFM), compare fit_seconds vs the bare fit,
#      cold and warm report; the make demo seconds of step 1 go into its rows
#   4. bench/report.py rewrites BENCHMARKS.md (Targets table included)
# Results: bench/results/{coldstart,explicit-busy,implicit-busy}.json; logs and installs in $WORK (kept).
# REPEAT (default 3) sets the processes per coldstart measurement; PY the interpreter that runs the benches.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
REPEAT=${REPEAT:-3}
WORK=${WORK:-$(mktemp -d /tmp/movierec-issue16-XXXXXX)}
export PYTHONPATH=$ROOT/src
load() { cut -d' ' -f1 /proc/loadavg; }
stamp() { date +%s.%N; }
echo "work folder: $WORK; start $(date -u +%H:%M:%S) load $(load)"

# 0. the busy benches import src/ (PYTHONPATH): build its compiled kernels in place first, so they measure
#    this source's extension and not an older .so (git-ignored outputs only: the .so and build/)
"$PY" setup.py build_ext --inplace >"$WORK/build_ext.log" 2>&1
"$PY" -c "import movierec.models.kernels.hybrid; print('compiled kernels: built')"  # ImportError if not

# 1. make demo on a fresh clone (the whole Makefile target: venv, pip install, first report)
mkdir -p "$WORK/demo"
git clone --quiet "$ROOT" "$WORK/demo/repo"
[ -e "$ROOT/../shared" ] && ln -sfn "$(cd "$ROOT/../shared" && pwd)" "$WORK/demo/shared"
demo_load0=$(load)
t0=$(stamp)
(cd "$WORK/demo/repo" && env -u PYTHONPATH -u NUMBA_CACHE_DIR make demo >"$WORK/demo.log" 2>&1)
t1=$(stamp)
demo_secs=$(python3 -c "print(round($t1 - $t0, 1))")
demo_load1=$(load)
echo "make demo on a fresh clone: ${demo_secs}s (load $demo_load0-$demo_load1); log $WORK/demo.log"
grep -E "in all|report written" "$WORK/demo.log" || true

# 2. the lead with two busy-loop processes on the cores
echo "busy 2: explicit $(date -u +%H:%M:%S) load $(load)"
"$PY" bench/bench_explicit.py --quick --busy 2
echo "busy 2: implicit $(date -u +%H:%M:%S) load $(load)"
"$PY" bench/bench_implicit.py --quick --busy 2

# 3. fresh venv: cold/warm compare, compare vs bare fit, cold/warm report (+ the demo seconds)
echo "coldstart $(date -u +%H:%M:%S) load $(load)"
"$PY" bench/bench_coldstart.py --repeat "$REPEAT" --keep "$WORK/coldstart" \
  --demo "$demo_secs" --demo-load "$demo_load0-$demo_load1"

# 4. BENCHMARKS.md from every result file
"$PY" bench/report.py
echo "done $(date -u +%H:%M:%S) load $(load)"
grep -nE "cold first compare|warm compare|cold movierec report|make demo|fit_seconds in compare|busy-loop|pip install prints" BENCHMARKS.md || true
