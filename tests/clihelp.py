"""Run ``movierec`` the way a person does, for tests that read its output: in this process as the console
script does (:func:`run_cli`), or in a fresh interpreter (:func:`run_process`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from movierec.cli import main


def run_cli(args: list[str], capsys: Any) -> tuple[int, str, str]:
    """``(exit code, stdout, stderr)`` of ``movierec ARGS`` (``main`` ends in SystemExit, 0 on success)."""
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def run_process(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``movierec ARGS`` in a fresh interpreter in ``cwd``, at 200 columns (a table's rows on one line each)."""
    return subprocess.run(
        [sys.executable, "-m", "movierec", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        cwd=cwd,
        timeout=timeout,
    )


#: how every CLI error line begins
ERROR = "movierec: error: "


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a refused command (exit 2), without its ``movierec: error: `` prefix."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR), proc.stderr
    return lines[0].removeprefix(ERROR)
