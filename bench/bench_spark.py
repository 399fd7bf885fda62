"""Spark ALS in ``local[2]`` next to movierec's single-machine ``als`` on a synthetic ratings set.

Both learn implicit ALS (Hu, Koren & Volinsky 2008) with the same rank, regularisation, alpha and
iterations on every row as a positive of weight 1, end to end from ``ratings.csv``: read, map ids,
fit, and (Spark) collect the factors to the driver. Sizes: 1M rows in ``--quick``, 25M with
``--scale`` (``bench/synthetic.py``).

* ours: :func:`common.run_in_child` (median of ≥ 3 repeats, peak RSS of the child);
* Spark: a child process that starts one session (start-up timed separately), runs the job
  ≥ 3 times, and reports the driver's peak RSS plus the JVM's (``VmHWM``; executors live in the
  JVM in local mode) and the stage metrics of the last run from Spark's REST API. From those
  metrics it estimates the time with more task slots (see :func:`scaling_estimate`).

Results: ``bench/results/spark.json``.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import make_row, parse_mode, run_in_child, write_results

TASK = "spark"
SETTINGS: dict[str, dict[str, Any]] = {
    "quick": {"n": 1_000_000, "rank": 32, "iterations": 10, "driver_memory": "3g"},
    # 25M: one run each, rank 32 and 5 iterations, so that Spark's side fits in ~half an hour on 2 cores
    # (per-iteration cost is what the scaling estimate needs; both sides run the same settings)
    "scale": {"n": 25_000_000, "rank": 32, "iterations": 5, "driver_memory": "12g", "repeat": 1},
}
REG, ALPHA = 0.05, 2.0
SLOTS = [2, 4, 8, 16, 32, 64, 128]
CORES_PER_EXECUTOR = 4
NETWORK_BYTES_PER_S = 1e9  # ~10 Gb/s per executor for shuffle reads


# --- ours ---------------------------------------------------------------------------------------


def ours_fit(path: str, rank: int, iterations: int) -> dict[str, Any]:
    """Load the csv into Interactions and fit movierec's ``als`` (implicit CPU solver)."""
    from movierec.datasets import load_ratings_file
    from movierec.models.als import ALS

    t0 = time.perf_counter()
    inter = load_ratings_file(path).interactions
    t1 = time.perf_counter()
    model = ALS(factors=rank, regularization=REG, alpha=ALPHA, epochs=iterations, random_state=42).fit(inter)
    return {
        "load_s": t1 - t0,
        "fit_s": time.perf_counter() - t1,
        "n_users": int(model.user_factors_.shape[0]),
        "n_items": int(model.item_factors_.shape[0]),
    }


# --- Spark (child process) ----------------------------------------------------------------------


def _rest(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read())


def _vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def spark_child(path: str, rank: int, iterations: int, repeat: int, driver_memory: str) -> dict[str, Any]:
    """Run the Spark job ``repeat`` times in one session; times, memory and the last run's stage metrics."""
    from pyspark.sql import functions as F

    from movierec.spark.session import spark_session
    from movierec.spark.train import ITEM, RATING, USER, collect_factors, fit_als, index_ids, read_ratings

    t0 = time.perf_counter()
    conf = {"spark.driver.memory": driver_memory, "spark.ui.showConsoleProgress": "false"}
    with spark_session("local[2]", conf, app_name="movierec bench", quiet=True) as spark:
        startup = time.perf_counter() - t0
        sc = spark.sparkContext
        runs = []
        out: dict[str, Any] = {}
        for r in range(repeat):
            sc.setJobGroup(f"run-{r}", "measured run")
            t1 = time.perf_counter()
            src = read_ratings(spark, path, max_bad_share=0.0)
            frame = src.frame.withColumn(RATING, F.lit(1.0).cast("float"))
            indexed, _, _ = index_ids(spark, frame)
            train_df = indexed.select(USER, ITEM, RATING).cache()
            n = train_df.count()
            t_prep = time.perf_counter() - t1
            model = fit_als(
                train_df,
                rank=rank,
                reg=REG,
                iterations=iterations,
                implicit=True,
                alpha=ALPHA,
                seed=42,
                num_blocks=sc.defaultParallelism,
            )
            uf = collect_factors(model.userFactors, rank)[1]
            itf = collect_factors(model.itemFactors, rank)[1]
            train_df.unpersist()
            runs.append(time.perf_counter() - t1)
            out = {
                "n_ratings": int(n),
                "n_users": int(uf.shape[0]),
                "n_items": int(itf.shape[0]),
                "prep_s": t_prep,
                "fit_s": runs[-1] - t_prep,
            }
        time.sleep(2)  # let the listener bus publish the last stages to the REST API
        stages = _stage_metrics(sc, f"run-{repeat - 1}")
        jvm = getattr(getattr(sc, "_gateway", None), "proc", None)
        jvm_mb = _vm_hwm_mb(jvm.pid) if jvm is not None else None
        version = spark.version
    return {
        "startup_s": startup,
        "runs": runs,
        "seconds": statistics.median(runs),
        "driver_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "jvm_peak_rss_mb": jvm_mb,
        "stages": stages,
        "last_run": out,
        "spark_version": version,
    }


def _when(stamp: str) -> datetime:
    """Spark REST time stamps look like ``2026-11-29T03:11:32.123GMT``."""
    return datetime.strptime(stamp.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")


def _stage_metrics(sc: Any, group: str) -> list[dict[str, Any]]:
    """Per-stage task time, task count, wall time and shuffle volume of one job group (REST API)."""
    base = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}"
    jobs = _rest(f"{base}/jobs")
    wanted = {sid for j in jobs if j.get("jobGroup") == group for sid in j.get("stageIds", [])}
    rows = []
    for st in _rest(f"{base}/stages?status=complete"):
        if st["stageId"] not in wanted:
            continue
        sub, done = st.get("submissionTime"), st.get("completionTime")
        wall = (_when(done) - _when(sub)).total_seconds() if sub and done else None
        rows.append(
            {
                "stage": st["stageId"],
                "name": st["name"][:60],
                "tasks": st["numTasks"],
                "task_s": st["executorRunTime"] / 1000.0,
                "cpu_s": st.get("executorCpuTime", 0) / 1e9,
                "wall_s": wall,
                "shuffle_read_mb": st.get("shuffleReadBytes", 0) / 2**20,
                "shuffle_write_mb": st.get("shuffleWriteBytes", 0) / 2**20,
                "input_mb": st.get("inputBytes", 0) / 2**20,
            }
        )
    return sorted(rows, key=lambda r: r["stage"])


def scaling_estimate(total_s: float, stages: list[dict[str, Any]], slots_now: int = 2) -> dict[str, Any]:
    """Estimated run time with ``P`` task slots, from the measured stages (Amdahl with per-stage overhead).

    The work (sum of task run times) divides over ``P`` slots, assuming ALS blocks and input
    partitions grow with the cluster (``--num-blocks`` = total cores); each stage's wall time
    beyond its work share (scheduling, serialisation) stays; the driver's share (total − stage
    wall times: planning, collecting ids and factors to the driver) stays; shuffle reads add
    ``bytes / (executors × 1 GB/s)`` with ``CORES_PER_EXECUTOR`` cores per executor. A second
    estimate uses executor CPU time instead of task time: on a shared machine tasks wait for a
    core, and CPU time is the work that more cores would actually split.
    """
    walls = [s["wall_s"] or 0.0 for s in stages]
    work = sum(s["task_s"] for s in stages)
    stage_wall = sum(walls)
    driver = max(0.0, total_s - stage_wall)
    overhead = sum(
        max(0.0, w - s["task_s"] / max(1, min(slots_now, s["tasks"])))
        for w, s in zip(walls, stages, strict=True)
    )
    shuffle = sum(s["shuffle_read_mb"] for s in stages) * 2**20
    cpu = sum(s.get("cpu_s", 0.0) for s in stages)

    def by_slots(total_work: float) -> dict[str, float]:
        out = {}
        for p in SLOTS:
            executors = max(1, p // CORES_PER_EXECUTOR)
            net = 0.0 if p <= slots_now else shuffle / (executors * NETWORK_BYTES_PER_S)
            out[str(p)] = round(driver + overhead + total_work / p + net, 2)
        return out

    return {
        "measured_total_s": round(total_s, 2),
        "driver_s": round(driver, 2),
        "stage_overhead_s": round(overhead, 2),
        "task_work_s": round(work, 2),
        "shuffle_read_mb": round(shuffle / 2**20, 1),
        "n_stages": len(stages),
        "executor_cpu_s": round(cpu, 2),
        "estimated_seconds_by_slots": by_slots(work),
        "estimated_seconds_by_slots_cpu": by_slots(cpu),
        "parallel_fraction": round(work / slots_now / total_s, 3) if total_s else None,
    }


def run_spark(path: str, rank: int, iterations: int, repeat: int, driver_memory: str) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--spark-child",
        json.dumps([path, rank, iterations, repeat, driver_memory]),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    if proc.returncode != 0:
        raise RuntimeError(f"spark child failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def build_note(rank: int, iters: int, est: dict[str, Any], startup_s: float) -> str:
    """The row's notes: what ran, where the Spark time went, and the scaling estimate in words."""
    by, by_cpu = est["estimated_seconds_by_slots"], est["estimated_seconds_by_slots_cpu"]
    return (
        f"Implicit ALS, rank {rank}, reg {REG}, alpha {ALPHA}, {iters} iterations, every row a positive; "
        "end to end from ratings.csv (read, map ids, fit; Spark also collects factors to the driver). "
        f"Spark local[2], {est['n_stages']} stages in the measured run: {est['task_work_s']:.0f} task-seconds "
        f"({est['executor_cpu_s']:.0f} s of executor CPU), {est['driver_s']:.0f} s driver-side, "
        f"{est['stage_overhead_s']:.0f} s per-stage overhead, {est['shuffle_read_mb']:.0f} MB shuffled. "
        f"Estimated time with more task slots (blocks = slots, {CORES_PER_EXECUTOR} cores/executor, "
        "1 GB/s shuffle per executor), from task time: "
        + ", ".join(f"{p} slots {by[p]:.0f} s" for p in by)
        + "; from CPU time: "
        + ", ".join(f"{p} slots {by_cpu[p]:.0f} s" for p in by_cpu)
        + ". The driver-side and per-stage fixed costs bound the speed-up, so Spark pays off only when the "
        "data no longer fits one machine. "
        f"Start-up of the Spark session ({startup_s:.0f} s) is not in the times. "
        "Memory: ours = child peak RSS; Spark = driver Python peak RSS + JVM VmHWM."
    )


def reestimate(path: Path) -> None:
    """Recompute the scaling estimate and notes of an existing results file from its stored stage metrics."""
    rows = json.loads(path.read_text())
    for row in rows:
        est = scaling_estimate(row["reference_seconds"], row["stage_metrics"])
        row["scaling_estimate"] = est
        params = row["params"]
        row["notes"] = build_note(
            params["rank"], params["iterations"], est, row["reference_breakdown"]["startup_s"]
        )
    path.write_text(json.dumps(rows, indent=2) + "\n")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--spark-child":
        print(json.dumps(spark_child(*json.loads(sys.argv[2]))))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--reestimate":
        reestimate(Path(__file__).resolve().parent / "results" / f"{TASK}.json")
        return
    args = parse_mode(__doc__.splitlines()[0])
    cfg = SETTINGS[args.mode]
    from synthetic import ensure

    path = str(ensure(cfg["n"]))
    rank, iters = cfg["rank"], cfg["iterations"]
    print(f"ours: als rank {rank}, {iters} iterations on {path}", flush=True)
    repeat = cfg.get("repeat", args.repeat)
    ours = run_in_child(ours_fit, path, rank, iters, repeat=repeat)
    print(f"  {ours['seconds']:.1f} s, peak {ours['peak_rss_mb']:.0f} MB", flush=True)
    print("spark: local[2]", flush=True)
    sp = run_spark(path, rank, iters, repeat, cfg["driver_memory"])
    spark_mb = sp["driver_peak_rss_mb"] + (sp["jvm_peak_rss_mb"] or 0.0)
    est = scaling_estimate(sp["seconds"], sp["stages"])
    print(
        f"  {sp['seconds']:.1f} s (+{sp['startup_s']:.1f} s start-up), peak {spark_mb:.0f} MB; "
        f"estimate by slots: {est['estimated_seconds_by_slots']}",
        flush=True,
    )
    note = build_note(rank, iters, est, sp["startup_s"])
    row = make_row(
        TASK,
        f"implicit ALS {cfg['n'] // 1_000_000}M ratings",
        ours["seconds"],
        "spark-als local[2]",
        sp["seconds"],
        quality={
            "n_users": ours["result"]["n_users"],
            "n_items": ours["result"]["n_items"],
            "spark_n_users": sp["last_run"]["n_users"],
            "spark_n_items": sp["last_run"]["n_items"],
        },
        notes=note,
        ours_peak_rss_mb=round(ours["peak_rss_mb"], 1),
        reference_peak_rss_mb=round(spark_mb, 1),
        ours_breakdown={k: round(v, 2) for k, v in ours["result"].items() if k.endswith("_s")},
        reference_breakdown={
            "prep_s": round(sp["last_run"]["prep_s"], 2),
            "fit_and_collect_s": round(sp["last_run"]["fit_s"], 2),
            "startup_s": round(sp["startup_s"], 2),
            "runs": [round(r, 2) for r in sp["runs"]],
        },
        reference_memory={
            "driver_python_mb": round(sp["driver_peak_rss_mb"], 1),
            "jvm_mb": sp["jvm_peak_rss_mb"],
        },
        spark_version=sp["spark_version"],
        scaling_estimate=est,
        stage_metrics=sp["stages"],
        params={"rank": rank, "reg": REG, "alpha": ALPHA, "iterations": iters, "n_ratings": cfg["n"]},
    )
    print(write_results(TASK, [row], mode=args.mode))


if __name__ == "__main__":
    main()
