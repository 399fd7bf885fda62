"""``spark recommend --out X --force`` replaces X only once the new output is complete: Spark's own
``mode("overwrite")`` deleted X before the job ran, so a job that failed partway lost the old output too.

The failure is real: the run's Python workers point at a program that does not exist, so every scoring
task fails after the target check passed and the write job began. The failed run is a subprocess (its
workers' program is fixed as its JVM starts), so it also checks what a failed job leaves on the terminal
(test_driver_log's rule, one JVM start fewer on the suite's Spark lane): Spark's ERROR lines and nothing
below ERROR, then movierec's one line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sparkmarks import FAST_JVM, SPARK_JOB, spark_log_lines

from movierec.cli import main

pytestmark = SPARK_JOB


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_failed_force_run_keeps_the_old_output_and_a_good_one_replaces_it(  # type: ignore[no-untyped-def]
    spark, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    art, out = tmp_path / "art", tmp_path / "recs.parquet"
    assert _cli("export", "--model", "popularity", "--out", str(art)) == 0
    recommend = ["spark", "recommend", "--artifact", str(art), "--out", str(out)]
    assert _cli(*recommend, "--k", "3") == 0  # on the module's local[2] session
    before = _snapshot(out)
    assert len(pd.read_parquet(out)) == 3 * 610

    logs = tmp_path_factory.mktemp("tmpdir")  # the failure's log file goes to the temporary folder
    env = {
        k: v for k, v in os.environ.items() if k not in ("SPARK_SUBMIT_OPTS", "SPARK_CONF_DIR", "SPARK_HOME")
    }
    env.update({"PYSPARK_PYTHON": str(tmp_path / "no-such-python"), "TMPDIR": str(logs)})
    failed = subprocess.run(
        [
            sys.executable,
            "-m",
            "movierec",
            *recommend,
            "--k",
            "5",
            "--force",
            "--master",
            "local[2]",
            *FAST_JVM,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # one readable line, not Py4J's Python traceback around the Java stack; 1: not a mistake in the input
    assert failed.returncode == 1, failed.stderr[-2000:]
    assert "Traceback" not in failed.stderr
    (log,) = logs.iterdir()  # the full stack, kept where the line says
    cause = f'Cannot run program "{tmp_path / "no-such-python"}": error=2, No such file or directory'
    assert failed.stderr.splitlines()[-1] == (  # the root cause, found in the job's Java causes
        f"movierec: error: the Spark job failed: {cause} (full stack in {log}); "
        f"nothing was written ({out} is as it was)"
    )
    assert [ln for ln in failed.stderr.splitlines() if ln.startswith("movierec:")] == [
        failed.stderr.splitlines()[-1]
    ]
    assert log.name.startswith("movierec-spark-error-"), log
    # movierec's log4j2 configuration: the failed tasks' ERROR lines reach the terminal, nothing below ERROR
    logged = spark_log_lines(failed.stderr)
    assert logged and all(" ERROR " in ln for ln in logged), failed.stderr[-3000:]
    full = log.read_text()
    assert "Py4JJavaError" in full and f"Caused by: java.io.IOException: {cause}" in full
    assert _snapshot(out) == before  # no staging folder inside, no part file lost or added
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art", "recs.parquet"]  # none beside it either

    assert _cli(*recommend, "--k", "5", "--force") == 0
    after = _snapshot(out)
    assert len(pd.read_parquet(out)) == 5 * 610
    assert not set(before) & {name for name in after if name != "_SUCCESS" and name != "._SUCCESS.crc"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art", "recs.parquet"]
