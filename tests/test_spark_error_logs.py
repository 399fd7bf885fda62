"""A failed Spark job's full-stack log (``movierec-spark-error-XXXXXXXX.log`` in the temporary folder) does
not pile up: writing one removes this user's oldest beyond ``KEEP_LOGS``, and nothing else in the folder.

No JVM is needed: :func:`movierec.spark.failures._write_log` takes any exception. The files are real, in a
test folder that stands in for ``/tmp`` (``tempfile.tempdir``); their ages are set with ``os.utime``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from movierec.spark import failures
from movierec.spark.failures import KEEP_LOGS, LOG_PREFIX, LOG_SUFFIX, _write_log


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder that ``tempfile`` uses as the temporary folder."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _failure() -> BaseException:
    try:
        raise RuntimeError("the job failed")
    except RuntimeError as exc:
        return exc


def _old_logs(folder: Path, n: int, stem: str = "old") -> list[str]:
    """``n`` earlier logs, oldest first, one hour and more old (a minute apart)."""
    names = []
    for i in range(n):
        path = folder / f"{LOG_PREFIX}{stem}{i:05d}{LOG_SUFFIX}"
        path.write_text(f"stack {i}")
        age = 3600 + 60 * (n - i)
        os.utime(path, (path.stat().st_atime - age, path.stat().st_mtime - age))
        names.append(path.name)
    return names


def _logs(folder: Path) -> list[str]:
    return sorted(
        p.name for p in folder.iterdir() if p.name.startswith(LOG_PREFIX) and p.name.endswith(LOG_SUFFIX)
    )


def test_a_new_log_removes_the_oldest_beyond_the_limit(tmp: Path) -> None:
    old = _old_logs(tmp, KEEP_LOGS + 5)
    log = _write_log(_failure())
    assert log is not None and log.parent == tmp
    assert "RuntimeError: the job failed" in log.read_text()
    kept = old[-(KEEP_LOGS - 1) :]  # the newest earlier ones, and the new log
    assert _logs(tmp) == sorted([*kept, log.name])
    again = _write_log(_failure())  # the next failure: one more of the oldest goes, the first new one stays
    assert again is not None and again != log
    assert _logs(tmp) == sorted([*kept[1:], log.name, again.name])


def test_under_the_limit_nothing_is_removed(tmp: Path) -> None:
    old = _old_logs(tmp, KEEP_LOGS - 2)
    log = _write_log(_failure())
    assert log is not None
    assert _logs(tmp) == sorted([*old, log.name])


def test_only_our_log_files_are_touched(tmp: Path, tmp_path: Path) -> None:
    """Other names, a folder and a symbolic link of a log's name are neither removed nor counted."""
    old = _old_logs(tmp, KEEP_LOGS + 3)
    others = [
        f"{LOG_PREFIX}abcdefgh.txt",
        f"x{LOG_PREFIX}abcdefgh{LOG_SUFFIX}",
        f"{LOG_PREFIX}abcdefgh{LOG_SUFFIX}.bak",
        f"{LOG_PREFIX}{LOG_SUFFIX}",
        f"{LOG_PREFIX}ab.cd{LOG_SUFFIX}",
        "movierec-batch-1@host",
        "unrelated.log",
    ]
    for name in others:
        (tmp / name).write_text("not ours")
        os.utime(tmp / name, (0, 0))  # older than every log
    folder = tmp / f"{LOG_PREFIX}afolder0{LOG_SUFFIX}"
    folder.mkdir()
    target = tmp_path / "elsewhere.txt"
    target.write_text("kept")
    link = tmp / f"{LOG_PREFIX}alink000{LOG_SUFFIX}"
    link.symlink_to(target)
    os.utime(folder, (0, 0))
    os.utime(link, (0, 0), follow_symlinks=False)
    log = _write_log(_failure())
    assert log is not None
    names = set(os.listdir(tmp))
    assert set(others) | {folder.name, link.name, log.name} <= names
    assert sorted(n for n in names if n in old) == old[-(KEEP_LOGS - 1) :]
    assert target.read_text() == "kept" and all((tmp / n).read_text() == "not ours" for n in others)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away needs root")
def test_another_users_logs_stay(tmp: Path) -> None:
    """In a shared ``/tmp`` another user's logs are theirs: not removed, and not counted against ours."""
    theirs = _old_logs(tmp, 3, stem="aaa")  # older than ours: by age they would go first
    for name in theirs:
        os.utime(tmp / name, (0, 0))
        os.chown(tmp / name, 54321, 54321)
    ours = _old_logs(tmp, KEEP_LOGS + 2)
    log = _write_log(_failure())
    assert log is not None
    assert _logs(tmp) == sorted([*theirs, *ours[-(KEEP_LOGS - 1) :], log.name])


def test_a_clean_up_that_fails_still_returns_the_log(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither an unreadable folder listing nor a log that cannot be removed hides the failure's log."""
    old = _old_logs(tmp, KEEP_LOGS + 2)

    def refuse(self: Path, missing_ok: bool = False) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "unlink", refuse)
    log = _write_log(_failure())
    assert log is not None and log.is_file()
    assert _logs(tmp) == sorted([*old, log.name])

    def unreadable(path: object) -> object:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(failures.os, "scandir", unreadable)
    again = _write_log(_failure())
    assert again is not None and again.is_file()
