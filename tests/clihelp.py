"""Run ``movierec`` in this process the way the console script does, for tests that read its output."""

from __future__ import annotations

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
