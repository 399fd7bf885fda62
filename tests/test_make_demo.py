"""``make demo`` on a fresh clone: what it prints before each long, quiet step (a dry run, ``make -n``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _dry_run(target: str, tmp_path: Path) -> list[str]:
    """The commands ``make TARGET`` would run with no virtual environment yet (a fresh clone's), in order."""
    venv = tmp_path / "fresh-venv"  # never created: -n only prints
    # a `make test PYTEST_ARGS=...` running this test passes its variables down in MAKEFLAGS: not ours
    env = {
        k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTEST_ARGS")
    }
    run = subprocess.run(
        ["make", "--no-print-directory", "-n", target, f"VENV={venv}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return [line.replace(str(venv), ".venv") for line in run.stdout.splitlines()]


def test_make_demo_says_what_each_long_step_does_before_it_runs(tmp_path: Path) -> None:
    """``pip install --quiet`` ran for minutes after one bare command line, and a newcomer took make demo
    for hung: each long step (the venv, the install, the report) is now preceded by a line saying what
    it does, within 80 columns. Fails on the old Makefile, which echoed nothing of its own."""
    lines = _dry_run("demo", tmp_path)
    said = {
        i: line.removeprefix("echo ").strip('"') for i, line in enumerate(lines) if line.startswith("echo ")
    }

    def said_before(command: str, words: str) -> None:
        at = next(i for i, line in enumerate(lines) if command in line)
        assert at - 1 in said and words in said[at - 1], (command, lines)

    said_before("-m venv .venv", "creating the virtual environment .venv")
    said_before("pip install --quiet -e '.[report]'", "installing movierec and its dependencies into .venv")
    said_before("movierec report --out reports/demo", "writing reports/demo/index.html")
    assert "(minutes the first time)" in " ".join(said.values())
    assert all(len(text) <= 80 for text in said.values()), said


def test_make_test_runs_the_same_commands(tmp_path: Path) -> None:
    """The lines added for make demo change what ``make test`` runs in nothing: the venv's line (shared)
    is its one new output; the installs and the suite are as before."""
    commands = [line for line in _dry_run("test", tmp_path) if not line.startswith("echo ")]
    assert commands[:5] == [
        "python3 -m venv .venv",
        ".venv/bin/python -m pip install --quiet --upgrade pip wheel setuptools",
        ".venv/bin/python -m pip install --quiet 'torch==2.13.0'",
        ".venv/bin/python -m pip install --quiet -e '.[all]' 'torch==2.13.0'",
        "touch .venv/.test-installed",
    ]
    # one OpenMP/BLAS thread per xdist worker: three workers of two threads each oversubscribed two cores
    threads = "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1"
    suite = f"{threads} .venv/bin/python -m pytest -n 3 --dist loadgroup -q"
    assert any(line.strip().startswith(suite) for line in commands), commands


def test_make_test_runs_lint_beside_the_suite_and_fails_on_either(tmp_path: Path) -> None:
    """make lint ran after the suite, ~45 s of mypy's first check added to a fresh clone's wall time; it now
    runs in the background while the suite runs, its output printed after the suite's. Both checks still
    decide the exit status: the script make runs is executed here with a suite and a lint that fail or
    pass (each a shell ``exit N``), and its status is non-zero whenever either fails."""
    lines = _dry_run("test", tmp_path)
    start = next(i for i, line in enumerate(lines) if "lint.log 2>&1 &" in line)
    script = "\n".join(lines[start:]).replace("\\\n", "\n")
    assert ".venv/bin/python -m mypy && .venv/bin/ruff check src tests bench" in script
    assert "ruff format --check src tests bench" in script
    lint_command = (
        ".venv/bin/python -m mypy && .venv/bin/ruff check src tests bench"
        " && .venv/bin/ruff format --check src tests bench"
    )
    suite_command = re.search(r"OMP_NUM_THREADS=1 .*? -m pytest -n 3 --dist loadgroup -q *", script)
    assert suite_command is not None, script
    for suite, lint in [(0, 0), (1, 0), (0, 1), (1, 1)]:
        body = (
            script.replace(lint_command, f"exit {lint}")
            .replace(suite_command.group(0), f"(exit {suite})")
            .replace(".venv/lint.log", str(tmp_path / "lint.log"))
        )
        run = subprocess.run(["bash", "-c", body], capture_output=True, text=True, timeout=60)
        assert (run.returncode == 0) == (suite == 0 and lint == 0), (suite, lint, run.stdout, run.stderr)
        assert "make lint (mypy, ruff check, ruff format --check):" in run.stdout


def test_make_test_says_what_its_long_steps_do_before_they_run(tmp_path: Path) -> None:
    """``make test`` installed every extra (Surprise and LightFM build from source) and then ran the suite
    (731 s on 2 cores) after bare command lines only, the minutes of silence make demo's lines were added
    for. Each now has a line of its own before it, within 80 columns."""
    lines = _dry_run("test", tmp_path)

    def said_before(command: str, words: str) -> None:
        at = next(i for i, line in enumerate(lines) if command in line)
        assert lines[at - 1].startswith("echo ") and words in lines[at - 1], (command, lines)
        assert len(lines[at - 1].removeprefix("echo ").strip('"')) <= 80, lines[at - 1]

    said_before(
        "pip install --quiet 'torch==2.13.0'", "installing movierec, every extra and torch into .venv"
    )
    said_before("-m pytest -n 3", "running the whole test suite")
