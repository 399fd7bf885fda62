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

import pytest
from sparkmarks import SPARK_JOB

from datagen import make_ratings
from movierec.spark.session import CHECKPOINT_PREFIX, SparkUnavailableError, check_java, ensure_checkpoint_dir

pytestmark = SPARK_JOB


def _train(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    try:
        check_java()
    except SparkUnavailableError as exc:
        pytest.skip(f"Spark tests need Java 17: {exc}")
    ratings = tmp_path / "ratings.csv"
    make_ratings(n_users=60, n_items=80, seed=3).to_csv(ratings, index=False)
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
