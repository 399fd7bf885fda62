"""The report's per-model progress rows fit an 80-column terminal (make demo's first screen)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from clihelp import run_process
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


def _final_rows(events: list[dict]) -> dict[str, str]:
    """Each model's progress row as a terminal shows it once the report's models are done: the last
    frame rich drew (on leaving the display) of a real ``_Progress`` fed compare's events."""
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    with _Progress(console, 2) as prog:
        on = prog.handler({})
        for ev in events:
            on(ev)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    last: dict[str, str] = {}
    for line in text.replace("\r", "\n").split("\n"):
        for model in ("svd", "ease"):
            if line.strip().startswith(model + " "):
                last[model] = line.strip()
    return last


def test_a_terminal_bar_stops_saying_evaluating_once_its_model_is_done() -> None:
    """The report's bars outlive the run (transient=False); each kept the last status it was given, so at
    the end of make demo all seven read 'evaluating test-candidates' above the finished report. A model's
    evaluation ends when the next model starts or the run does: its bar reads its fit time again."""
    events: list[dict] = []
    for model, epochs in (("svd", 2), ("ease", None)):
        events.append({"event": "fit-start", "model": model, "epochs": epochs})
        if epochs:
            events += [{"event": "epoch", "model": model, "epoch": e, "loss": 0.5} for e in (1, 2)]
        events.append({"event": "fit-end", "model": model, "seconds": 0.25})
        events += [{"event": "evaluate", "model": model, "protocol": p} for p in ("rating", "full-ranking")]
    rows = _final_rows(events)
    assert set(rows) == {"svd", "ease"}, rows
    for row in rows.values():
        assert "fitted in 0.2 s" in row and "evaluating" not in row, rows


@pytest.fixture(scope="module")
def piped_svd_ease(tmp_path_factory: pytest.TempPathFactory, movielens_dir: Path) -> list[str]:
    """The stamped lines (stamps cut) of one piped ``report --models svd,ease,bpr,markov`` on the tiny folder
    (PCA maps, 80 columns), which the tests of its steps' lines share. markov, a sequence model, adds the
    sequence section (every model fitted again under leave-last-out): its lines are read here too, where a
    second report of their own (popularity,markov) spent ~5 CPU-s on charts and pages to say them."""
    tmp_path = tmp_path_factory.mktemp("piped")
    proc = run_process(
        "report", "--dataset", str(movielens_dir), "--models", "svd,ease,bpr,markov",
        "--params", "svd.n_epochs=2", "--params", "bpr.epochs=2", "--projection", "pca",
        "--out", str(tmp_path / "r"), cwd=tmp_path, env={"COLUMNS": "80"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    stamped = [line for line in proc.stderr.splitlines() if re.match(r"\[ *\d+\.\ds\] ", line)]
    assert all(len(line) <= 80 for line in stamped), stamped
    return [line.split("] ", 1)[1] for line in stamped]


def test_a_piped_report_prints_each_models_lines_before_the_next_models(piped_svd_ease: list[str]) -> None:
    """Piped, a model's 'evaluating PROTOCOL' line within 3 s of its fit's was held back and printed when
    the progress closed, stamped then: make demo's log read '[ 24.0s] popularity · evaluating
    test-candidates' after warp's lines, though popularity was evaluated at 1.1 s. Each is a line of
    its own now, in order, as compare's are."""
    texts = piped_svd_ease[: piped_svd_ease.index("sequence section …")]  # the main table's fits
    svd = [i for i, t in enumerate(texts) if t.startswith("svd · ")]
    ease = [i for i, t in enumerate(texts) if t.startswith("ease · ")]
    assert svd and ease and max(svd) < min(ease), texts
    assert any(texts[i].startswith("svd · evaluating ") for i in svd), texts


def _inside(texts: list[str], step: str) -> list[str]:
    """The lines between ``step``'s first line and its 'done' line."""
    start = texts.index(f"{step} …")
    end = next(i for i, t in enumerate(texts) if t.startswith(f"{step}: done in "))
    return texts[start + 1 : end]


def test_a_piped_reports_curves_and_maps_say_each_part(piped_svd_ease: list[str]) -> None:
    """A default report's log read 'curves …' and then nothing until its 'done' line, and 'embedding maps …'
    likewise (17 to 28 s each on ml-latest-small, in a newcomer's walk): the models' bars had ended and these
    steps said no more than their start. Each now says its parts as they start, in the models' lines' style:
    the curves each model's, the maps the similar movies, each model's 2-D layout, then each map drawn (ease
    has no item vectors: no layout, no map). On a terminal a spinner says them (it said nothing during the
    curves, and only 'projecting item vectors' during the maps)."""
    assert _inside(piped_svd_ease, "curves") == [
        "curves · svd · 1/4",
        "curves · ease · 2/4",
        "curves · bpr · 3/4",
        "curves · markov · 4/4",
    ]
    maps = _inside(piped_svd_ease, "embedding maps")
    assert maps[0] == "embedding maps · similar movies by lift", maps
    assert sorted(maps[1:3]) == [  # two at a time on two threads (one CPU: one after the other), either first
        "embedding maps · bpr · fitting its 2-D layout (pca) · 2/2",
        "embedding maps · svd · fitting its 2-D layout (pca) · 1/2",
    ], maps
    assert maps[3:] == [
        "embedding maps · svd · drawing its map · 1/2",
        "embedding maps · bpr · drawing its map · 2/2",
    ]
    from movierec.viz.report import _say, _step_line

    terminal = Console(file=io.StringIO(), force_terminal=True, width=80)
    with _step_line(terminal, "curves", 0.0) as spinner:
        _say(spinner, "curves", "ease · 2/3")
        assert str(spinner.status) == "curves · ease · 2/3"


def test_the_sequence_sections_fits_show_their_progress(piped_svd_ease: list[str]) -> None:
    """sequential.md's ``report --models popularity,ease,markov,sasrec`` fits every model a second time for
    its sequence section (leave-last-out): run as written, sasrec's 180 s budget ran again there, and the
    log read '[ 30.0s] sequence section …' and nothing else until it was done (a terminal showed nothing at
    all). That section's fits now show as the main table's do: a piped report prints each model's lines
    between the section's two (the shared report's: ease, like popularity, is no sequence model)."""
    texts = piped_svd_ease
    start = texts.index("sequence section …")
    end = next(i for i, t in enumerate(texts) if t.startswith("sequence section: done"))
    inside = texts[start + 1 : end]
    for model in ("ease", "markov"):
        assert f"{model} · fitting" in inside, texts
        assert f"{model} · evaluating leave-last-out" in inside, texts
    for model in ("svd", "bpr"):  # epoch-counted fits: their lines end in the epoch count
        assert any(t.startswith(f"{model} · fitting · ") for t in inside), texts
        assert any(t.startswith(f"{model} · evaluating leave-last-out · ") for t in inside), texts


def test_a_validation_score_keeps_its_three_digits_when_they_end_in_zeros() -> None:
    """sequential.md's report (run as written) showed 'val ndcg@10 0.0175' then 'val ndcg@10 0.019': the
    0.0190 lost a digit and read as a coarser score. The score keeps three significant digits, as the loss
    beside it does ('loss 7.00')."""
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    with _Progress(console, 1) as prog:
        on = prog.handler({})
        on({"event": "fit-start", "model": "sasrec", "epochs": 20})
        on({"event": "epoch", "model": "sasrec", "epoch": 2, "loss": 7.0, "val_ndcg@10": 0.019})
        prog.progress.refresh()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "loss 7.00 · val ndcg@10 0.0190" in text, text
