"""The note a Spark run prints when it removes a killed run's checkpoint folder fits 80 columns when piped.

No JVM is needed: :func:`movierec.spark.session.ensure_checkpoint_dir` asks a SparkContext three things
(its folder, its master, set a folder), which a stand-in answers as a local master does; the folders, the
marker and the dead process are real, and the run is a real interpreter with stderr piped.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from movierec.spark.session import CHECKPOINT_MARKER, CHECKPOINT_PREFIX

ROOT = Path(__file__).resolve().parents[1]

_RUN = """
from movierec.spark.session import ensure_checkpoint_dir

class Local:  # a SparkContext on local[2] with no checkpoint folder yet
    master = "local[2]"
    folder = None
    def getCheckpointDir(self):
        return self.folder
    def setCheckpointDir(self, folder):
        self.folder = folder

print(ensure_checkpoint_dir(Local()))
"""


def test_the_removal_note_wraps_at_80_columns_when_piped(tmp_path: Path) -> None:
    """'note: removed 1 Spark checkpoint folder that a killed movierec run left in /tmp/…' was one print()
    of 78 columns plus the temporary folder's path (140 here); it is wrapped at spaces now, as the CLI's
    notes are (movierec.progress.prose_lines), the path whole. Fails on the old code: one line over 80."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process that ran and is gone, as a killed run's
    left = tmp / f"{CHECKPOINT_PREFIX}killed"
    left.mkdir()
    owner = {"pid": dead.pid, "host": socket.gethostname(), "uid": os.getuid()}
    (left / CHECKPOINT_MARKER).write_text(json.dumps(owner), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TMPDIR=str(tmp), PYTHONPATH=str(ROOT / "src"))
    run = subprocess.run(
        [sys.executable, "-c", _RUN], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert not left.exists() and run.stdout.strip().startswith(str(tmp / CHECKPOINT_PREFIX)), run.stdout
    lines = run.stderr.splitlines()
    assert lines and all(len(line) <= 80 for line in lines), lines
    flowing = " ".join(run.stderr.split())
    assert flowing == f"note: removed 1 Spark checkpoint folder that a killed movierec run left in {tmp}", (
        lines
    )
    assert any(str(tmp) in line for line in lines), lines  # wrapped at spaces: the path whole on a line
