"""The report's per-model progress rows fit an 80-column terminal (make demo's first screen)."""

from __future__ import annotations

import io
import re

from rich.console import Console

from movierec.viz.report import _Progress


def _rows(width: int) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=True, color_system=None)
    with _Progress(console, 2) as prog:
        on = prog.handler({})
        for model in ("warp+genres+tags", "bpr"):
            on({"event": "fit-start", "model": model, "epochs": 150})
            for epoch in (1, 5, 119):
                on(
                    {
                        "event": "epoch",
                        "model": model,
                        "epoch": epoch,
                        "loss": 0.13561234,
                        "val_ndcg@10": 0.0633512,
                    }
                )
        console.width = width  # rich may read the width again; keep it fixed
        prog.progress.refresh()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())  # cursor moves and line clears
    return [line for line in text.replace("\r", "\n").split("\n") if "loss" in line]


def test_an_epoch_row_fits_80_columns_with_its_loss_and_validation_score_whole() -> None:
    rows = _rows(80)
    assert rows, "no progress row was drawn"
    last = [r for r in rows if "119/150" in r]
    assert last, rows
    for row in last:
        text = row.strip()
        assert len(row.rstrip()) <= 80, row
        assert "…" not in text, (
            row
        )  # nothing cut: before, 'epoch 119 · loss 0.1356 · val_ndcg@10 0.06335 0:0…'
        assert "loss 0.136 · val ndcg@10 0.0634" in text, row
        assert "epoch 119" not in text  # the 119/150 column says it once


def test_a_wide_terminal_keeps_the_long_bar() -> None:
    row = next(r for r in _rows(140) if "119/150" in r)
    assert "━" * 20 in row, row
