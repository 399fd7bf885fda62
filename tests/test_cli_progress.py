"""LineProgress: the plain lines a piped command prints instead of rich's bars."""

from __future__ import annotations

import io
import re
import time

from rich.console import Console

from movierec.cli.progress import LineProgress, make_progress


def test_piped_console_gets_line_progress_with_stamps_in_order() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=80)
    progress = make_progress(console=console)
    assert isinstance(progress, LineProgress)
    with progress:
        first = progress.add_task("fitting svd", total=None)
        time.sleep(0.15)
        second = progress.add_task("fitting bpr", total=None)  # a later task: its clock must not restart
        progress.update(first, description="svd: evaluating full-ranking")
        time.sleep(0.15)
        progress.update(second, description="bpr: evaluating full-ranking")
    stamps = [float(s) for s in re.findall(r"^\[\s*([\d.]+)s\]", out.getvalue(), flags=re.M)]
    assert len(stamps) == 4
    assert stamps == sorted(stamps)
    assert stamps[-1] >= 0.3
