"""ALS gets a checkpoint folder, so many iterations do not overflow the stack.

Without a checkpoint folder, Spark's ALS never cuts its lineage. Each iteration adds to the chain that
Java serializes recursively for every task, and on ``local[2]`` 50 iterations ended in
``java.lang.StackOverflowError``, which also killed the driver's JVM. CI met it at the default 15
iterations once, when the stack was tighter (a ``spark train`` in ``test_driver_log``). A local master
now gets a folder in the temporary folder, removed when the process exits. A folder you give
(``spark.checkpoint.dir``) is used and kept: test_driver_log checks it in the run that gives its own log4j
file (one JVM start fewer on the suite's Spark lane). A run killed outright leaves its folder, which the
next run removes. The killed run is a process that makes its folder with movierec's own function and is
killed (test_spark_checkpoint_note's stand-in for a local SparkContext: no JVM); its successor is the real
CLI in a subprocess on ``local[2]``, which also checks the summary's width on an 80-column
pseudo-terminal (one JVM start fewer too).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len
from sparkmarks import FAST_JVM, SPARK_JOB, small_ratings

from movierec.spark.session import CHECKPOINT_PREFIX, ensure_checkpoint_dir
from test_cli_display import _in_terminal

pytestmark = SPARK_JOB


class _Cluster:
    """A SparkContext's two answers on a cluster master (no standalone cluster runs in these tests)."""

    master = "spark://10.0.0.1:7077"

    def getCheckpointDir(self) -> None:
        return None

    def setCheckpointDir(self, folder: str) -> None:
        raise AssertionError(f"a folder on the driver's disk was set for a cluster: {folder}")


def test_a_cluster_without_a_folder_gets_none_made() -> None:
    assert ensure_checkpoint_dir(_Cluster()) is None


def test_a_killed_runs_folder_is_removed_by_the_next_run_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``spark train`` killed with SIGKILL runs no exit handler, so its checkpoint folder stayed in the
    temporary folder for good. Each folder movierec makes holds a marker naming its process now, and the
    next run removes the marked folders whose process is gone; it leaves a folder of the same prefix that
    has no marker (not ours) and one whose process still runs. The killed run is a process that makes its
    folder with movierec's own function, as ``spark train`` does when its fit starts, and is then killed
    with SIGKILL; the next run is the real CLI.

    The second run is also the one that checks two older rules, so the Spark group starts one JVM fewer
    per rule (each start is 10-30 s of the suite's critical path): 50 iterations train without Java's
    StackOverflowError, under the JIT's first tier too (the lineage is cut at each checkpoint, and the
    driver's threads get the 4 MiB stack the 9 iterations after the last cut need there), and the folder
    made for it is removed at exit; and it runs on an 80-column pseudo-terminal, where every line of the summary fits (the hold-out
    line was one line of 177 columns, which the terminal broke mid-word)."""
    import json
    import signal
    import socket

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
    # the killed run: a process that makes its folder as ``spark train`` makes it when its fit starts
    # (ensure_checkpoint_dir on a local master's context; Spark's own setCheckpointDir adds a folder inside
    # it, which ALS's checkpoints fill), then dies by SIGKILL. It was the real CLI killed mid-fit with its
    # JVM: the same folder from the same function, for a JVM start and a data load more (this test took
    # 39 s and 47 CPU seconds, now 24 s and 32, load ~2); test_interrupt's runs see ``spark train`` make
    # the folder in the temporary folder and fill it
    killer = tmp_path / "killed.py"
    killer.write_text(
        "import os, signal, uuid\n"
        "from pathlib import Path\n"
        "from movierec.spark.session import ensure_checkpoint_dir\n"
        "class LocalContext:\n"
        "    master = 'local[2]'\n"
        "    folder = None\n"
        "    def getCheckpointDir(self):\n"
        "        return self.folder\n"
        "    def setCheckpointDir(self, folder):\n"
        "        self.folder = Path(folder) / str(uuid.uuid4())\n"
        "        (self.folder / 'rdd-42').mkdir(parents=True)\n"
        "        (self.folder / 'rdd-42' / 'part-00000').write_bytes(b'factors')\n"
        "ensure_checkpoint_dir(LocalContext())\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, str(killer)], env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.returncode
    made = [p for p in tmp.glob(CHECKPOINT_PREFIX + "*") if p not in (foreign, alive)]
    assert len(made) == 1, f"no checkpoint folder appeared before the run ended ({proc.returncode})"
    (killed,) = made
    assert killed.is_dir() and (killed / marker).is_file()  # no exit handler ran
    monkeypatch.setenv("TMPDIR", str(tmp))  # the terminal run's environment is this process's
    for name in ("SPARK_SUBMIT_OPTS", "SPARK_CONF_DIR", "SPARK_HOME"):
        monkeypatch.delenv(name, raising=False)
    # the JIT's first tier (sparkmarks.FAST_JVM: 5-10 s sooner). Its larger stack frames are the tighter
    # stack the 50 iterations test: with Java's default 1 MiB thread stack they overflowed it even with the
    # checkpoint folder (the 9 iterations after the last cut, in the evaluation's tasks), and pass with the
    # driver's 4 MiB (movierec.spark.session.DRIVER_THREAD_STACK)
    command = ["spark", "train", "--ratings", str(ratings), "--rank", "4", "--master", "local[2]"]
    command += ["--conf", "spark.ui.enabled=false", "--conf", "spark.ui.showConsoleProgress=false"]
    text = _in_terminal([*command, *FAST_JVM, "--iterations", "50", "--out", "next"], tmp_path)
    assert (tmp_path / "next" / "manifest.json").is_file(), text[-3000:]
    assert "StackOverflowError" not in text
    assert not killed.exists(), "the killed run's checkpoint folder is still there"
    flowing = " ".join(text.split())
    assert "removed 1 Spark checkpoint folder that a killed movierec run left" in flowing, text
    assert (foreign / "keep.txt").is_file() and (alive / marker).is_file()
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Spark ALS ("))
    end = next(i for i, line in enumerate(lines) if "movierec serve --artifact" in line)
    summary = lines[start : end + 1]
    assert any(line.startswith("hold-out: rmse") for line in summary), text
    assert all(cell_len(line) <= 80 for line in summary), [line for line in summary if cell_len(line) > 80]
    summary_text = " ".join(" ".join(summary).split())
    assert "predictions clipped to" in summary_text and "test ratings" in summary_text, summary_text
    # the serve command on a line of its own ('artifact: PATH  (serve it: …)' wrapped inside its parenthesis)
    assert summary_text.endswith("artifact written to next next: movierec serve --artifact next"), (
        summary_text
    )
    left = sorted(p.name for p in tmp.glob(CHECKPOINT_PREFIX + "*"))
    assert left == sorted([foreign.name, alive.name]), left  # and the second run's own folder went at exit
