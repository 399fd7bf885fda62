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


def test_steps_without_a_loss_are_shown_with_their_figure() -> None:
    from movierec.cli.compare import _RichProgress

    out = io.StringIO()
    progress = LineProgress(Console(file=out, force_terminal=False, width=120), every=0.0)
    events = _RichProgress(progress)
    events({"event": "fit-start", "model": "ensemble", "epochs": None})
    for step, value in enumerate([0.12, 0.13], start=1):  # the ensemble reports each base's hold-out NDCG
        events({"event": "epoch", "model": "ensemble", "epoch": step, "slim hold-out NDCG@10": value})
    text = out.getvalue()
    assert "fitting ensemble step 1 slim hold-out NDCG@10 0.1200" in text
    assert "fitting ensemble step 2 slim hold-out NDCG@10 0.1300" in text


def test_a_loss_the_library_does_not_report_is_not_shown_as_nan() -> None:
    """lightfm:bpr's epochs carry loss nan (LightFM computes none): the bar shows its count, not 'loss nan'."""
    from movierec.cli.compare import _RichProgress

    out = io.StringIO()
    progress = LineProgress(Console(file=out, force_terminal=False, width=120), every=0.0)
    events = _RichProgress(progress)
    events({"event": "fit-start", "model": "lightfm:bpr", "epochs": 2})
    events({"event": "epoch", "model": "lightfm:bpr", "epoch": 1, "loss": float("nan"), "seconds": 0.1})
    events({"event": "fit-start", "model": "bpr", "epochs": 2})
    events({"event": "epoch", "model": "bpr", "epoch": 1, "loss": 0.25, "seconds": 0.1})
    text = out.getvalue()
    assert "nan" not in text and "fitting lightfm:bpr" in text
    assert "fitting bpr loss 0.2500" in text
