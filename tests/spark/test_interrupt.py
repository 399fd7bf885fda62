"""Ctrl-C or SIGTERM during a ``movierec spark`` run stops it as every other command stops: ``movierec:
interrupted`` (``terminated``), exit status 130 (143), nothing written, no JVM left behind, and no Python
or Java tracebacks on the terminal.

Ctrl-C on a terminal signals the whole foreground process group, so the test starts the real CLI in a
session of its own (``local[2]``, UI off) and signals that group while the ALS fit runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sparkmarks import FAST_JVM, SPARK_JOB, small_ratings

from clihelp import as_from_a_terminal
from movierec.spark.session import SparkUnavailableError, check_java

pytestmark = SPARK_JOB


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (the driver's JVM), read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads the process table from /proc")
@pytest.mark.parametrize(
    ("signum", "status", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["ctrl-c", "sigterm"],
)
def test_a_stop_during_the_fit_is_clean(tmp_path: Path, signum: int, status: int, word: str) -> None:
    """Before, a Ctrl-C during the fit printed 136 lines: py4j's 'RuntimeError: reentrant call' and
    'KeyboardInterrupt while sending command' tracebacks (pyspark's SIGINT handler calls the JVM while the
    interrupted call still waits on it), then the executors' ERROR lines with Java stacks as the context
    stopped, 'movierec: interrupted' somewhere in the middle; SIGTERM (kill, a scheduler) printed 15."""
    try:
        check_java()
    except SparkUnavailableError as exc:
        pytest.skip(f"Spark tests need Java 17: {exc}")
    env = {
        k: v for k, v in os.environ.items() if k not in ("SPARK_SUBMIT_OPTS", "SPARK_CONF_DIR", "SPARK_HOME")
    }
    (tmp_path / "tmp").mkdir()
    env["TMPDIR"] = str(tmp_path / "tmp")
    out = tmp_path / "art"
    ratings = small_ratings(tmp_path)  # the fit is reached in seconds (the bundled 100k ratings: ~10 s more)
    args = ["spark", "train", "--ratings", str(ratings), "--out", str(out), "--iterations", "200"]
    args += ["--rank", "16", "--master", "local[2]", *FAST_JVM]
    log = tmp_path / "stderr.txt"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "movierec", *args, "--conf", "spark.ui.enabled=false"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=tmp_path,
            start_new_session=True,  # its own process group, signalled as a terminal's Ctrl-C signals one
            preexec_fn=as_from_a_terminal,  # a background test run hands its children SIGINT ignored
        )
        try:
            deadline = time.monotonic() + 180
            # into the ALS iterations: the fit makes its checkpoint folder in the temporary folder as it
            # starts, and ALS writes its first checkpoint there once its 10th iteration is done
            # (checkpointInterval; 190 remain, far longer). This waited a fixed 3 s after the folder
            # appeared; the checkpoint came 1.3 s after it (load 3)
            ten_done = "movierec-spark-checkpoints-*/*/rdd-*/part-*"
            while not any((tmp_path / "tmp").glob(ten_done)) and proc.poll() is None:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            assert proc.poll() is None, log.read_text()
            jvms = _children(proc.pid)
            if signum == signal.SIGINT:
                os.killpg(proc.pid, signum)  # a terminal's Ctrl-C: the whole group (the JVM ignores it)
            else:
                os.kill(proc.pid, signum)  # kill PID
            code = proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    text = log.read_text()
    assert code == status, text[-3000:]
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[-1] == f"movierec: {word}", text[-3000:]
    assert "Traceback" not in text and not [ln for ln in lines if " ERROR " in ln], text[-3000:]
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert jvms, "the driver's JVM was not found among the run's child processes"
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in jvms) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(_alive(pid) for pid in jvms), "the driver's JVM outlived the run"
