"""ALS gets a checkpoint folder, so many iterations do not overflow the stack.

Without a checkpoint folder, Spark's ALS never cuts its lineage. Each iteration adds to the chain that
Java serializes recursively for every task, and on ``local[2]`` 50 iterations ended in
``java.lang.StackOverflowError``, which also killed the driver's JVM. CI met it at the default 15
iterations once, when the stack was tighter (a ``spark train`` in ``test_driver_log``). A local master
now gets a folder in the temporary folder, removed when the process exits. A folder you give
(``spark.checkpoint.dir``) is used and kept. Each test runs the real CLI in a subprocess on ``local[2]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sparkmarks import SPARK_JOB, small_ratings

from movierec.spark.session import CHECKPOINT_PREFIX, ensure_checkpoint_dir

pytestmark = SPARK_JOB


def _train(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    ratings = small_ratings(tmp_path)
    env = {
        k: v for k, v in os.environ.items() if k not in ("SPARK_SUBMIT_OPTS", "SPARK_CONF_DIR", "SPARK_HOME")
    }
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env["TMPDIR"] = str(tmp_path / "tmp")
    args = ["train", "--ratings", str(ratings), "--out", str(tmp_path / "art"), "--rank", "4"]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "movierec",
            "spark",
            *args,
            "--iterations",
            "50",
            "--master",
            "local[2]",
            "--conf",
            "spark.ui.enabled=false",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )


def test_fifty_iterations_train_and_the_made_folder_is_removed(tmp_path: Path) -> None:
    done = _train(tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "StackOverflowError" not in done.stderr
    assert (tmp_path / "art" / "manifest.json").is_file()
    assert not [p.name for p in (tmp_path / "tmp").iterdir() if p.name.startswith(CHECKPOINT_PREFIX)]


def test_your_checkpoint_folder_is_used_and_kept(tmp_path: Path) -> None:
    mine = tmp_path / "my-checkpoints"
    done = _train(tmp_path, "--conf", f"spark.checkpoint.dir={mine}")
    assert done.returncode == 0, done.stderr[-3000:]
    written = [p for p in mine.rglob("*") if p.is_file()]
    assert written, "ALS wrote no checkpoint into the folder given"
    assert not [p.name for p in (tmp_path / "tmp").iterdir() if p.name.startswith(CHECKPOINT_PREFIX)]


class _Cluster:
    """A SparkContext's two answers on a cluster master (no standalone cluster runs in these tests)."""

    master = "spark://10.0.0.1:7077"

    def getCheckpointDir(self) -> None:
        return None

    def setCheckpointDir(self, folder: str) -> None:
        raise AssertionError(f"a folder on the driver's disk was set for a cluster: {folder}")


def test_a_cluster_without_a_folder_gets_none_made() -> None:
    assert ensure_checkpoint_dir(_Cluster()) is None


def test_a_killed_runs_folder_is_removed_by_the_next_run_and_nothing_else(tmp_path: Path) -> None:
    """``spark train`` killed with SIGKILL runs no exit handler, so its checkpoint folder stayed in the
    temporary folder for good. Each folder movierec makes holds a marker naming its process now, and the
    next run removes the marked folders whose process is gone; it leaves a folder of the same prefix that
    has no marker (not ours) and one whose process still runs. The real CLI is killed mid-fit (its whole
    process group: the Python driver and its JVM), then run again."""
    import json
    import signal
    import socket
    import time

    marker = "movierec-checkpoint-owner.json"  # movierec.spark.session.CHECKPOINT_MARKER

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    foreign = tmp / f"{CHECKPOINT_PREFIX}not-ours"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("someone else's", encoding="utf-8")
    alive = tmp / f"{CHECKPOINT_PREFIX}alive"
    alive.mkdir()
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "uid": os.getuid()}
    (alive / marker).write_text(json.dumps(owner), encoding="utf-8")
    ratings = small_ratings(tmp_path)
    env = {
        k: v for k, v in os.environ.items() if k not in ("SPARK_SUBMIT_OPTS", "SPARK_CONF_DIR", "SPARK_HOME")
    }
    env["TMPDIR"] = str(tmp)
    command = [sys.executable, "-m", "movierec", "spark", "train", "--ratings", str(ratings), "--rank", "4"]
    command += ["--master", "local[2]", "--conf", "spark.ui.enabled=false"]
    proc = subprocess.Popen(
        [*command, "--iterations", "200", "--out", str(tmp_path / "killed")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp_path, start_new_session=True,
    )  # fmt: skip
    made: list[Path] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None and not made:
            made = [p for p in tmp.glob(CHECKPOINT_PREFIX + "*") if p not in (foreign, alive)]
            time.sleep(0.2)
        marked = time.monotonic() + 5  # the marker is written just after the folder is made
        while made and time.monotonic() < marked and not (made[0] / marker).is_file():
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the group this test started: the driver and its JVM
        proc.wait(timeout=60)
    assert len(made) == 1, f"no checkpoint folder appeared before the run ended ({proc.returncode})"
    (killed,) = made
    assert killed.is_dir()  # no exit handler ran
    done = subprocess.run(
        [*command, "--iterations", "2", "--out", str(tmp_path / "next")],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert not killed.exists(), "the killed run's checkpoint folder is still there"
    assert "removed 1 Spark checkpoint folder that a killed movierec run left" in done.stderr, done.stderr
    assert (foreign / "keep.txt").is_file() and (alive / marker).is_file()
    left = sorted(p.name for p in tmp.glob(CHECKPOINT_PREFIX + "*"))
    assert left == sorted([foreign.name, alive.name]), left  # and the second run's own folder went at exit
