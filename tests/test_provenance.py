"""The git commit a result or an artifact records is movierec's own, never that of a repository it lies in.

A wheel installed into ``myproject/.venv`` (ignored by myproject's git) sits inside someone else's checkout:
``git rev-parse HEAD`` there answered myproject's commit, recorded as movierec's in every result's provenance,
in artifacts' ``exported_by`` and in ``/health``. These tests use real ``git`` in real temporary repositories.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import movierec
from movierec.provenance import git_commit

PACKAGE = Path(movierec.__file__).resolve().parent

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _project(tmp_path: Path) -> tuple[Path, str]:
    """A user's project: a real git repository with one commit that ignores its ``.venv``."""
    repo = tmp_path / "myproject"
    (repo / "myproject").mkdir(parents=True)
    (repo / "myproject" / "__init__.py").write_text("VALUE = 1\n")
    (repo / ".gitignore").write_text(".venv/\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".gitignore", "myproject/__init__.py")
    _git(repo, "commit", "-q", "-m", "first")
    return repo, _git(repo, "rev-parse", "HEAD")


def test_a_package_in_an_ignored_venv_of_another_repository_has_no_commit(tmp_path: Path) -> None:
    """movierec copied into myproject/.venv/lib/python3.11/site-packages, imported from there in a real
    Python: its provenance and its artifacts' code identity record no commit, and myproject's is nowhere."""
    repo, theirs = _project(tmp_path)
    site = repo / ".venv" / "lib" / "python3.11" / "site-packages"
    shutil.copytree(PACKAGE, site / "movierec", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "myproject" / "__init__.py").write_text("VALUE = 2\n")  # their uncommitted edit: not ours either
    assert _git(repo, "status", "--porcelain", "--ignored").count(".venv") == 1  # ignored, as a venv is
    code = (
        "import json, movierec\n"
        "from movierec.provenance import git_commit, provenance\n"
        "from movierec.serving.origin import code_identity\n"
        "print(json.dumps([movierec.__file__, git_commit(), provenance()['git_commit'], code_identity()['commit']]))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    where, commit, recorded, identity = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(where).resolve().is_relative_to(site.resolve())  # the copy ran, not this checkout
    assert (commit, recorded, identity) == ("unknown", "unknown", None)
    assert theirs not in done.stdout
    # the same folder passed explicitly, and the bare venv: unknown too
    assert git_commit(site / "movierec") == "unknown" == git_commit(repo / ".venv")


def test_code_tracked_by_the_repository_records_its_commit_and_edits(tmp_path: Path) -> None:
    """The check does not refuse every commit: the project's own package gets the project's commit,
    ``+dirty`` once a tracked file is edited."""
    repo, theirs = _project(tmp_path)
    assert git_commit(repo / "myproject") == theirs
    assert git_commit(repo / "myproject" / "__init__.py") == theirs
    (repo / "myproject" / "__init__.py").write_text("VALUE = 2\n")
    assert git_commit(repo / "myproject") == f"{theirs}+dirty"
    assert git_commit(tmp_path) == "unknown"  # no repository at all


def test_this_checkout_records_its_own_commit() -> None:
    """movierec run from its own git checkout (as here) still records the checkout's commit."""
    try:
        subprocess.run(
            ["git", "ls-files", "--error-unmatch", "__init__.py"],
            cwd=PACKAGE,
            capture_output=True,
            check=True,
            timeout=5,
        )
    except subprocess.CalledProcessError:
        pytest.skip("movierec is not running from a git checkout (an installed wheel)")
    before = _git(PACKAGE, "rev-parse", "HEAD")
    commit = git_commit()
    after = _git(PACKAGE, "rev-parse", "HEAD")  # others may commit in the same checkout meanwhile
    assert commit.removesuffix("+dirty") in {before, after}
    assert git_commit(PACKAGE).removesuffix("+dirty") in {before, after, _git(PACKAGE, "rev-parse", "HEAD")}


def test_reading_the_commit_never_writes_the_index(tmp_path: Path) -> None:
    """``git status`` refreshes a stale index under ``.git/index.lock``: a result recording its commit beside
    the user's own ``git commit`` made theirs fail ("another git process seems to be running"), and a run
    killed mid-write (a file-size limit did it to this repository) left the lock for good. Here a tracked
    file's times change but not its content, which makes a plain ``git status`` rewrite the index (checked
    first, on a copy), and :func:`git_commit` leaves the index byte for byte and time as it was."""
    repo, sha = _project(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy)

    def touched(project: Path) -> tuple[bytes, int]:
        """The index as it was, after the tracked file's modification time moved 5 s on."""
        index, tracked = project / ".git" / "index", project / "myproject" / "__init__.py"
        before = (index.read_bytes(), index.stat().st_mtime_ns)
        os.utime(tracked, ns=(tracked.stat().st_atime_ns, tracked.stat().st_mtime_ns + 5 * 10**9))
        return before

    before = touched(copy)
    _git(copy, "status", "--porcelain", "--untracked-files=no")
    index = copy / ".git" / "index"
    assert (index.read_bytes(), index.stat().st_mtime_ns) != before  # a plain status does write it
    before = touched(repo)
    assert git_commit(repo / "myproject" / "__init__.py") == sha  # same content: not dirty
    index = repo / ".git" / "index"
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before
    assert not (repo / ".git" / "index.lock").exists()
