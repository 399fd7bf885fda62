"""A Ctrl-C in the middle of one of Optuna's reads must not make tune's next write wait out SQLite's lock.

Optuna reads and writes the study file at every reported epoch, so Ctrl-C lands mid-query as often as not: the
interrupted SELECT's statement stays alive in the exception's traceback and its connection keeps a shared
lock. In SQLite's default rollback-journal mode the trial's closing write then waited the whole lock timeout
(60 s) and failed (test_partial_output's Ctrl-C test, under load). :func:`movierec.tuning.open_storage` puts
a study file in write-ahead-log mode, where a reader never blocks a writer. The reader here is that orphan:
a real second connection with a SELECT stepped once and left open.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

pytest.importorskip("optuna")

from movierec.tuning import _close_connections, open_storage


def test_a_study_file_is_written_ahead_and_a_left_open_read_does_not_block_a_write(tmp_path: Path) -> None:
    import optuna

    db = tmp_path / "study.db"
    storage = open_storage(f"sqlite:///{db}")
    check = sqlite3.connect(db)
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    check.close()
    study = optuna.create_study(storage=storage, study_name="s")
    trial = study.ask()
    orphan = sqlite3.connect(db, timeout=60)
    pending = orphan.execute("SELECT name FROM sqlite_master")  # several rows: stepped once, left open
    assert pending.fetchone() is not None
    started = time.monotonic()
    trial.set_user_attr("fold_scores", [0.1, 0.2])
    study.tell(trial, 0.5)
    assert time.monotonic() - started < 30, "the write waited for the open read's lock"
    assert study.trials[0].value == 0.5 and study.trials[0].user_attrs["fold_scores"] == [0.1, 0.2]
    pending.close()
    orphan.close()
    _close_connections(study)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.db"]  # the log folded back in
    # and the file back in rollback-journal mode: a later read in this process leaves no -wal beside it
    assert len(study.trials) == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["study.db"]


def test_a_memory_study_and_a_non_sqlite_url_are_left_alone() -> None:
    assert type(open_storage(None)).__name__ == "InMemoryStorage"
    storage = open_storage("sqlite:///:memory:")
    assert storage.engine.url.database == ":memory:"
