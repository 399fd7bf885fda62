"""Reading a feedback store that cannot be reached says so, instead of "not a movierec feedback database".

Walked on a fresh clone: ``movierec feedback report --db postgresql://movierec:wrong@…`` and ``export
--with-feedback`` with that URL said "not a movierec feedback database (connection failed: … password
authentication failed …)", and a real feedback.db copied to a read-only folder (a read-only mount of the
server's volume) said "not a movierec feedback database (unable to open database file)": the store keeps
SQLite in WAL mode, which cannot be opened where its ``-shm`` file cannot be written. Both were
movierec feedback databases. Each is now one line naming what failed, exit 2.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from servehelp import movierec_cmd

from clihelp import run_process
from movierec.serving.store import FeedbackStore

_ERROR = "movierec: error: "


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in done.stderr.splitlines() if not ln.startswith("note:")]
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith(_ERROR), done.stderr
    return lines[0][len(_ERROR) :]


def test_a_database_that_refuses_the_connection_is_not_called_foreign(pg_cluster) -> None:
    """A PostgreSQL database name that does not exist (as a wrong password would be): 'cannot connect'."""
    url = pg_cluster.url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/nosuchdb"
    for args in (["feedback", "report", "--db", url], ["data", "info", "--with-feedback", url]):
        line = _one_line(run_process(*args, inherit_columns=True))
        assert "cannot connect to the feedback database (" in line, line
        assert 'database "nosuchdb" does not exist' in line and "not a movierec feedback database" not in line


def _read_only_run(folder: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """``args`` run with ``folder`` read-only: its mode 555 for a normal user; for root, which writes through
    modes, a read-only bind mount in a private mount namespace (skipped where that is not allowed)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            return subprocess.run(movierec_cmd(*args), capture_output=True, text=True, timeout=120)
        finally:
            folder.chmod(0o755)
    if shutil.which("unshare") is None:
        pytest.skip("running as root without unshare: no way to make a folder read-only for root")
    mount = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1"'
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", mount, "sh", str(folder)], capture_output=True, text=True
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a read-only folder here: {probe.stderr.strip()}")
    cmd = [
        "unshare",
        "-m",
        "sh",
        "-c",
        mount + ' && shift && exec "$@"',
        "sh",
        str(folder),
        *movierec_cmd(*args),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_a_feedback_database_in_a_read_only_folder_says_why_it_cannot_be_read(tmp_path: Path) -> None:
    folder = tmp_path / "snapshot"
    folder.mkdir()
    store = FeedbackStore(folder / "fb.db")
    store.add("r1", "web-1", "1", 4.5)
    store.close()  # a clean close: WAL checkpointed, no -wal or -shm left beside it
    assert sorted(p.name for p in folder.iterdir()) == ["fb.db"]
    before = (folder / "fb.db").read_bytes()
    line = _one_line(_read_only_run(folder, ["feedback", "report", "--db", str(folder / "fb.db")]))
    assert line.startswith(f"--db {folder / 'fb.db'}: cannot read it here (unable to open database file)"), (
        line
    )
    assert (
        f"{folder} is not writable; copy fb.db (with fb.db-wal if there is one) to a writable folder" in line
    )
    assert "not a movierec feedback database" not in line
    assert (folder / "fb.db").read_bytes() == before
    # the copy it advises reads
    shutil.copy(folder / "fb.db", tmp_path / "copy.db")
    done = run_process(
        "feedback", "report", "--db", str(tmp_path / "copy.db"), "--json", inherit_columns=True
    )
    assert done.returncode == 0 and '"ratings": 1' in done.stdout, done.stderr
