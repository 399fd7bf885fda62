"""A CLI note says its text as written: square brackets in it are not taken for rich markup."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_notes_install_hint_keeps_its_extra() -> None:
    """compare's 'charts skipped (matplotlib missing): pip install 'movierec[viz]'' note lost its extra:
    say() passed the text to rich as markup, which took '[viz]' for a style tag and printed
    "pip install 'movierec'" (the hint then installed nothing that was missing). Fails on the old code."""
    script = (
        "from movierec.cli.common import say\n"
        "from movierec.errors import install_hint\n"
        "say('note', 'charts skipped (matplotlib missing): ' + install_hint('viz'))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stderr.startswith("note: charts skipped (matplotlib missing): pip install "), run.stderr
    assert run.stderr.rstrip().endswith("[viz]'"), run.stderr  # 'movierec[viz]' or '/path/to/checkout[viz]'
