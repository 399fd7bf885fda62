"""LineProgress: the plain lines a piped command prints instead of rich's bars."""

from __future__ import annotations

import io
import re
import time

from rich.console import Console

from movierec.progress import LineProgress, make_progress


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


#: the events ``compare`` emits for a piped ``--models svd,ease`` run (svd trained two epochs, ease none), and
#: a sasrec whose time budget ended its training after 23 of 200 epochs
_RUN = [
    *[
        ev
        for model, epochs, secs in (("svd", 2, 1.53), ("ease", None, 0.04))
        for ev in (
            {"event": "fit-start", "model": model, "fold": 0, "folds": 1, "epochs": epochs},
            *({"event": "epoch", "model": model, "epoch": e, "loss": 0.91234} for e in range(1, (epochs or 0) + 1)),
            {"event": "fit-end", "model": model, "fold": 0, "seconds": secs, "stopped": None, "epochs_run": 0},
            {"event": "evaluate", "model": model, "fold": 0, "protocol": "full-ranking"},
        )
    ],
    {"event": "fit-start", "model": "sasrec", "fold": 0, "folds": 1, "epochs": 200},
    {"event": "fit-end", "model": "sasrec", "fold": 0, "seconds": 181.2, "stopped": "time budget", "epochs_run": 23},
]  # fmt: skip


def _piped_lines(show: object, progress: LineProgress, out: io.StringIO) -> list[str]:
    with progress:
        for ev in _RUN:
            show(ev)  # type: ignore[operator]
    return [re.sub(r"^\[\s*[\d.]+s\] ", "", ln) for ln in out.getvalue().splitlines()]


def test_compare_and_report_say_each_step_in_the_same_words() -> None:
    """Piped, ``movierec compare`` and ``movierec report`` printed the same steps of the same models in two
    wordings: 'fitting ease', 'ease: fitted in 1.53s', 'ease: evaluating full-ranking' against the report's
    'ease · fitting', 'ease · fitted in 1.5 s', 'ease · evaluating full-ranking'; a model stopped by its time
    budget was a line in compare ('after 181s') and none in the report, whose bar then read 200/200. Both
    now say every step through :mod:`movierec.progress`'s words, fed the same events (compare's bar adds
    the word 'fitting' to its epoch lines: it has one column where the report's row has a status too)."""
    from movierec.cli.compare import _RichProgress
    from movierec.viz.report import _Progress

    out = io.StringIO()
    progress = LineProgress(Console(file=out, force_terminal=False, width=80), every=0.0)
    compare = _piped_lines(_RichProgress(progress), progress, out)
    out = io.StringIO()
    report = _Progress(Console(file=out, force_terminal=False, width=80), 3)
    assert isinstance(report.progress, LineProgress)
    report.progress.every = 0.0
    said = _piped_lines(report.handler({}), report.progress, out)
    steps = [
        "svd · fitting · 0/2",
        "svd · fitted in 1.5 s · 2/2",
        "svd · evaluating full-ranking · 2/2",
        "ease · fitting",
        "ease · fitted in 0.0 s",
        "ease · evaluating full-ranking",
        "sasrec · fitting · 0/200",
        "sasrec · training stopped (time budget) after 181 s, 23 epochs",
        "sasrec · fitted in 181.2 s · 23/200",  # not 200/200: the clock stopped it after 23
    ]
    assert [ln for ln in compare if "loss" not in ln] == steps, compare
    assert [ln for ln in said if "loss" not in ln] == steps, said
    assert "svd · fitting · loss 0.912 · 1/2" in compare and "svd · loss 0.912 · 1/2" in said


def test_steps_without_a_loss_are_shown_with_their_figure() -> None:
    from movierec.cli.compare import _RichProgress

    out = io.StringIO()
    progress = LineProgress(Console(file=out, force_terminal=False, width=120), every=0.0)
    events = _RichProgress(progress)
    events({"event": "fit-start", "model": "ensemble", "epochs": None})
    for step, value in enumerate([0.12, 0.13], start=1):  # the ensemble reports each base's hold-out NDCG
        events({"event": "epoch", "model": "ensemble", "epoch": step, "slim hold-out NDCG@10": value})
    text = out.getvalue()
    assert "ensemble · fitting · step 1 slim hold-out NDCG@10 0.1200" in text
    assert "ensemble · fitting · step 2 slim hold-out NDCG@10 0.1300" in text


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
    assert "nan" not in text and "lightfm:bpr · fitting" in text
    assert "bpr · fitting · loss 0.25" in text


def _on_screen(step: object) -> None:
    """Until ``step`` (a :class:`LineStatus`) has printed its line: its timer thread prints it ``after`` s in,
    and a loaded machine can start that thread late, so a test waits for the line rather than a fixed time."""
    deadline = time.monotonic() + 30
    while not step.on_screen and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.01)


def test_piped_status_prints_a_long_step_and_its_time_but_nothing_for_a_short_one(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """rich's spinner shows nothing in a pipe: ``export --model ensemble`` trained for ~30 s in silence.

    The quick step has the default 3 s (it sleeps 0.01 s: only a 3 s stall of this thread could print it,
    where a 0.3 s threshold could be met by a loaded machine); the long one is waited for until its line is
    on screen, and its time is checked against the clock around it, not against a speed (it ran at least
    the 0.3 s it slept)."""
    from movierec.progress import LineStatus, status

    monkeypatch.delenv("MOVIEREC_PROGRESS_AFTER", raising=False)  # the default threshold, as a person has it
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=120)
    with status(console, "quick step"):
        time.sleep(0.01)
    assert out.getvalue() == ""  # a quick command (or a mistake found at once) stays one line on stderr
    step = status(console, "training ensemble", after=0.05)
    assert isinstance(step, LineStatus)
    began = time.monotonic()
    with step:
        time.sleep(0.3)
        _on_screen(step)
        step.update("training ensemble: refitting the bases")
    spent = time.monotonic() - began
    lines = out.getvalue().splitlines()
    assert [re.sub(r"^\[\s*[\d.]+s\] ", "", line) for line in lines[:2]] == [
        "training ensemble …",
        "training ensemble: refitting the bases",
    ]
    took = re.fullmatch(
        r"\[\s*[\d.]+s\] training ensemble: refitting the bases: done in (\d+\.\d) s", lines[2]
    )
    assert took and 0.3 <= float(took[1]) <= spent + 0.05, (lines, spent)  # the step's own time, to 0.1 s


def test_a_late_step_line_is_stamped_when_the_step_began() -> None:
    """``movierec export --config reports/demo/best.toml`` piped read '[   5.8s] training ease on 48,580
    interactions …' then '[   7.5s] training ease on 48,580 interactions: done in 4.7 s': the first line,
    printed 3 s into the step, was stamped when it printed, so the stamps were 1.7 s apart beside a 'done in
    4.7 s' (recommend's 'fitting bpr' alike, 4.8 s apart for 7.8 s). It now reads the step's start, and a line
    printed meanwhile (a model's own progress) is never stamped after it: the log stays in order."""
    from movierec.progress import LineProgress, command_clock, status

    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=120)
    with command_clock():
        step = status(console, "fitting bpr", after=0.3)
        with step:
            time.sleep(0.4)
            _on_screen(step)
        # a line of its own, then a second late step, with a line printed before that step's own first line
        LineProgress(console).add_task("bpr · fitting", total=None)
        inner = status(console, "checking bpr", after=0.3)
        with inner:
            LineProgress(console).add_task("bpr · evaluating", total=None)
            _on_screen(inner)
            time.sleep(0.2)
    lines = out.getvalue().splitlines()
    stamps = [float(re.match(r"\[\s*([\d.]+)s\] ", line)[1]) for line in lines]  # type: ignore[index]
    assert [re.sub(r"^\[\s*[\d.]+s\] | in [\d.]+ s$", "", line) for line in lines] == [
        "fitting bpr …",
        "fitting bpr: done",
        "bpr · fitting",
        "bpr · evaluating",
        "checking bpr …",
        "checking bpr: done",
    ], lines
    took = float(re.search(r"done in ([\d.]+) s$", lines[1])[1])  # type: ignore[index]
    assert stamps[0] == 0.0 and abs(stamps[1] - stamps[0] - took) <= 0.15, lines  # before: 0.3+ and 0.1
    assert stamps == sorted(stamps), lines  # 'checking bpr …' not stamped before 'bpr · evaluating'


def test_exports_steps_are_stamped_from_the_commands_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``export --model slim`` piped read '[10.2s] training slim …: done in 10.2 s' then '[3.0s] checking
    slim's top-N …': each step's lines counted from the step's own start, so the log's clock ran backwards.
    They count from the command's start now (status's ``origin``). ``MOVIEREC_PROGRESS_AFTER=0`` prints every
    step's lines however quick: this test once counted on ials taking over 3 s a step, and a calmer CI
    machine checked it in less, so the check's lines never printed."""
    from clihelp import run_process
    from movierec.progress import status

    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=120)
    with status(console, "second step", after=0, origin=time.monotonic() - 10):
        pass
    assert re.fullmatch(r"\[  10\.\ds\] second step …", out.getvalue().splitlines()[0]), out.getvalue()
    done = run_process(
        "export", "-m", "ease", "--out", str(tmp_path / "ease"), env={"MOVIEREC_PROGRESS_AFTER": "0"}
    )
    assert done.returncode == 0, done.stderr
    steps, stamps, took = _stamped_steps(done.stderr)
    assert steps == [
        "loading ml-latest-small …",
        "loading ml-latest-small: done",
        "training ease on 48,580 ratings of 4+ …",  # it said 'interactions': half the ratings lost?
        "training ease: done",  # the first line said the whole text (name_step)
        "checking ease's top-N against popularity on a hold-out split …",
        "checking ease: done",  # was 'checking ease's top-N … on a hold-out split: done in 0.7 s', 85 columns
    ], done.stderr
    # in order, and the check began after the whole training (its own clock would restart at 0.0)
    assert stamps == sorted(stamps) and stamps[4] >= took[3], done.stderr


def test_a_piped_exports_lines_keep_within_80_columns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``export -m sasrec | cat`` printed '[  28.3s] checking sasrec's top-N against popularity on
    leave-last-out (each user's latest rating) (time budget 180 s) …' (120 columns) and its 'done' line
    (134); ease's, svd's and bpr's 'done' lines of the check were 84 and 85. A step's line wider than the
    log goes on under it, broken before its details in parentheses, and the step's later lines name it by
    its verb and model. A real export of markov (checked on leave-last-out) into a pipe's 80 columns: every
    line of stderr within them, the whole text said once, nothing lost."""
    from clihelp import run_process

    done = run_process(
        "export", "-m", "markov", "--out", str(tmp_path / "m"),
        env={"MOVIEREC_PROGRESS_AFTER": "0", "COLUMNS": "80"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    said = [re.sub(r"^\[ +\d+\.\ds\] | in [\d.]+ s$", "", line) for line in lines]
    assert said[2:] == [
        "training markov on 100,836 ratings …",
        "training markov: done",
        "checking markov's top-N against popularity on leave-last-out",
        "          (each user's latest rating) …",  # under the text, after the stamp's 10 columns
        "checking markov: done",
    ], done.stderr


def test_a_steps_lines_past_the_logs_width_go_on_under_it() -> None:
    """The longest of export's steps, sasrec's check with its time budget, on an 80-column log: its first
    line broken before its details in parentheses, its epoch and 'done' lines by the step's short name
    (:func:`movierec.progress.name_step`); a terminal's spinner (rich's Status) keeps the whole text. A
    word wider than the line (a path) stays whole, so it can be copied."""
    from movierec.progress import LineStatus, _step_lines, name_step, show_epoch, status

    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=80)
    text = (
        "checking sasrec's top-N against popularity on leave-last-out (each user's latest rating) "
        "(time budget 180 s)"
    )
    with status(console, text, after=0) as step:
        assert isinstance(step, LineStatus)
        name_step(step, "checking sasrec")
        show_epoch(step, text, "epoch 1/2 · loss 7.53 · val ndcg@10 0.0187", "checking sasrec")
    lines = out.getvalue().splitlines()
    assert [re.sub(r"^\[ +\d+\.\ds\] | in [\d.]+ s$", "", line) for line in lines] == [
        "checking sasrec's top-N against popularity on leave-last-out",
        "          (each user's latest rating) (time budget 180 s) …",
        "checking sasrec · epoch 1/2 · loss 7.53 · val ndcg@10 0.0187",
        "checking sasrec: done",
    ], lines
    assert all(len(line) <= 80 for line in lines), lines
    path = "/data/" + "x" * 80 + "/ratings.csv"
    assert _step_lines(f"loading {path} (a file of 2 GB)", 70) == ["loading", path, "(a file of 2 GB)"]
    shown: list[str] = []
    name_step(type("Spinner", (), {"update": shown.append})(), "checking sasrec")  # not a LineStatus: as is
    assert shown == []


def _stamped_steps(stderr: str) -> tuple[list[str], list[float], list[float]]:
    """A piped command's stamped step lines: each one's text (less its stamp and its 'in N s'), its stamp,
    and the seconds its 'done in N s' says (0 for a step's first line)."""
    stamped = [ln for ln in stderr.splitlines() if re.match(r"\[\s*[\d.]+s\] ", ln)]
    steps = [re.sub(r"^\[\s*[\d.]+s\] | in [\d.]+ s$", "", ln) for ln in stamped]
    stamps = [float(re.match(r"\[\s*([\d.]+)s\]", ln).group(1)) for ln in stamped]  # type: ignore[union-attr]
    took = [float(m.group(1)) if (m := re.search(r"done in ([\d.]+) s$", ln)) else 0.0 for ln in stamped]
    return steps, stamps, took


def test_progress_after_that_is_not_seconds_is_one_line_and_writes_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from clihelp import run_process

    done = run_process(
        "export", "-m", "ease", "--out", str(tmp_path / "x"), env={"MOVIEREC_PROGRESS_AFTER": "soon"}
    )
    assert done.returncode == 2 and not (tmp_path / "x").exists()
    assert done.stderr.strip().splitlines() == [
        "movierec: error: MOVIEREC_PROGRESS_AFTER='soon' is not a number of seconds: give one ≥ 0 (0 prints "
        "every step's line), or unset it (steps then print after 3 s, loading after 5 s)"
    ], done.stderr


def test_piped_status_says_no_done_line_for_a_step_that_failed() -> None:
    from movierec.progress import status

    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=120)
    try:
        with status(console, "loading ratings.csv", after=0.05) as step:
            _on_screen(step)  # its line is printed, then the step fails
            raise ValueError("bad column")
    except ValueError:
        pass
    assert [line.split("] ", 1)[1] for line in out.getvalue().splitlines()] == ["loading ratings.csv …"]


def test_terminal_status_is_richs_spinner() -> None:
    from rich.status import Status

    from movierec.progress import status

    console = Console(file=io.StringIO(), force_terminal=True, width=80)
    assert isinstance(status(console, "fitting svd"), Status)


def test_piped_cv_compare_prints_every_fold_of_every_model() -> None:
    """``compare --cv 3`` into a pipe (a log, CI): each model's fit and evaluation of each fold is a line
    naming the fold. Before, a fold's start within 3 s of the last line was dropped, its end said no fold
    ('ease: fitted in 0.16s'), and the evaluations of folds 1–2 never showed."""
    from clihelp import run_process

    done = run_process("compare", "-m", "popularity,ease", "--cv", "3")  # its stderr a pipe, as in a log
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [re.sub(r"^\[\s*[\d.]+s\] ", "", ln) for ln in done.stderr.splitlines() if ln.startswith("[")]
    for model in ("popularity", "ease"):
        for f in (1, 2, 3):
            assert f"{model} fold {f}/3 · fitting" in lines, done.stderr
            assert any(ln.startswith(f"{model} fold {f}/3 · fitted in ") for ln in lines), done.stderr
            assert f"{model} fold {f}/3 · evaluating full-ranking" in lines, done.stderr


def _tiny_sasrec_compare(params: dict, others: list[tuple[str, dict]]) -> tuple[list[dict], str]:
    """A real compare (leave-last-out) of a tiny sasrec (2 epochs, ``params`` over them) and ``others``,
    its progress printed into a pipe: (the events, the printed text)."""
    import pytest

    pytest.importorskip("torch")
    from datagen import make_ratings
    from movierec.cli.compare import _RichProgress
    from movierec.evaluation import compare

    out = io.StringIO()
    events: list[dict] = []
    show = _RichProgress(LineProgress(Console(file=out, force_terminal=False, width=120), every=0.0))
    tiny = {"hidden": 16, "max_len": 10, "n_blocks": 1, "batch_size": 64, "n_threads": 1, "epochs": 2}
    compare(
        make_ratings(),
        [("sasrec", {**tiny, **params}), *others],
        protocols="leave-last-out",
        progress=lambda ev: (events.append(ev), show(ev)),
    )
    return events, out.getvalue()


def test_a_model_that_stops_by_the_clock_says_so_on_its_bar() -> None:
    """compare's sasrec bar counted epochs toward the most it may run (200) while its time budget (180 s)
    ended it: on ml-latest-small it sat at 13% for three minutes ('fitting sasrec loss 5.2123'), then 'training
    stopped (time budget) after 180s, 27 epochs'. The fit-start event now carries the model's time_budget and
    the bar reads 'fitting sasrec (time budget 180 s)'; markov, which has none, reads as before. A real compare
    (leave-last-out, a tiny sasrec) into a pipe."""
    events, text = _tiny_sasrec_compare({"time_budget": 30}, [("markov", {})])
    starts = {ev["model"]: ev for ev in events if ev["event"] == "fit-start"}
    assert starts["sasrec"]["time_budget"] == 30.0 and "time_budget" not in starts["markov"]
    assert re.search(r"\] sasrec · fitting \(time budget 30 s\) · 0/2$", text, flags=re.M), text
    assert "markov · fitting" in text and "markov · fitting (time budget" not in text, text
    # on a terminal the bar says it beside each epoch's figures (in a log the fit's first line says it)
    from rich.progress import Progress

    from movierec.cli.compare import _RichProgress

    bars = Progress(console=Console(file=io.StringIO(), force_terminal=True, width=120))
    show = _RichProgress(bars)
    said = []
    for ev in events:
        show(ev)
        said.append(bars.tasks[show.tasks[ev["model"]]].description if ev["model"] in show.tasks else "")
    assert any(re.fullmatch(r"sasrec · fitting \(time budget 30 s\) · loss [\d.]+ · val .*", d) for d in said)


def test_piped_epoch_lines_keep_within_80_columns() -> None:
    """``compare --models sasrec | cat`` printed 'sasrec · fitting (time budget 180 s) · loss 7.27 · val ndcg@10
    0.0157 · 2/4', 85 columns with its stamp (87 at 2/200, 96 for a fold of --cv 5): each epoch's line
    repeated the time budget its fit's first line had said. A real compare (a tiny sasrec, its default 180 s
    budget) into a pipe: every epoch's line keeps its loss, validation NDCG and epoch count within 80."""
    events, text = _tiny_sasrec_compare({}, [])
    epochs = [ln for ln in text.splitlines() if " · loss " in ln]
    assert len(epochs) == 2 and "(time budget 180 s)" in text, text
    for line, ev in zip(epochs, [ev for ev in events if ev["event"] == "epoch"], strict=True):
        assert len(line) <= 80, line
        assert re.fullmatch(
            r"\[ +\d+\.\ds\] sasrec · fitting · loss [\d.]+ · val ndcg@10 [\d.]+ · \d/2", line
        ), line
        assert line.endswith(f" · {ev['epoch']}/2"), line


def test_a_clock_bound_fit_says_its_time_budget_in_export(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``export --model sasrec`` showed 'training sasrec on 100,836 interactions' for up to three minutes, then
    'checking sasrec's top-N …' for as long again, with nothing to say how long either could take; compare's
    bar said '(time budget 180 s)'. The spinners of export (both fits) and recommend now say it too.

    A piped step prints its line only once it has run 3 s (LineStatus): the default network's epoch on
    ml-latest-small (~12 s, 36 s under the suite's load) was trained for that. ``MOVIEREC_PROGRESS_AFTER=0``
    prints it at once instead, so a small network's epoch (16 units, one block, 64 sampled negatives) shows
    the same real line."""
    from clihelp import run_process
    from movierec.models.registry import create
    from movierec.progress import budget_words

    assert budget_words(create("sasrec")) == " (time budget 180 s)"
    assert budget_words(create("gru4rec")) == ""  # no budget by default: five epochs
    assert budget_words(create("gru4rec", time_budget=90)) == " (time budget 90 s)"
    assert budget_words(create("popularity")) == ""
    small = "epochs=1,hidden=16,max_len=10,n_blocks=1,n_negatives=64,batch_size=128"
    done = run_process(
        "export", "-m", "sasrec", "-p", small, "--no-check", "--out", str(tmp_path / "s"),
        env={"MOVIEREC_PROGRESS_AFTER": "0"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "training sasrec on 100,836 ratings (time budget 180 s)" in done.stderr, done.stderr
    assert any(  # the piped step's own stamped line, not words found elsewhere
        re.fullmatch(r"\[ +\d+\.\ds\] training sasrec on 100,836 ratings \(time budget 180 s\) …", ln)
        for ln in done.stderr.splitlines()
    ), done.stderr
    # its epoch, on a line of its own (the log said nothing between a fit's first and last line), named by
    # the step's verb and the model: with the whole text it was 103 columns wide
    epoch = r"\[ +\d+\.\ds\] training sasrec · epoch 1/1 · loss [\d.]+ · val ndcg@10 [\d.]+"
    (line,) = [ln for ln in done.stderr.splitlines() if re.fullmatch(epoch, ln)]
    assert len(line) <= 80, line


def test_a_piped_steps_epochs_print_at_most_every_few_seconds() -> None:
    """A step's epochs (LineStatus.progress) print after its text once its line is on screen, no more than one
    line every ``after`` seconds (3 s, compare's cadence in a log; every epoch where ``after`` is 0), and its
    'done' line keeps the step's own text. A terminal's spinner shows each epoch beside its text."""
    from movierec.progress import LineStatus, epoch_words, show_epoch

    assert (
        epoch_words(12, 200, {"loss": 5.2131, "val_ndcg@10": 0.08123})
        == "epoch 12/200 · loss 5.21 · val ndcg@10 0.0812"
    )
    assert epoch_words(3, None, {"loss": float("nan")}) == "epoch 3"
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    with LineStatus(console, "training sasrec", after=0) as every:
        for n in (1, 2):
            show_epoch(every, "training sasrec", epoch_words(n, 2, {"loss": 7.0}))
    said = [re.sub(r"^\[\s*[\d.]+s\] | in [\d.]+ s$", "", ln) for ln in out.getvalue().splitlines()]
    assert said == [
        "training sasrec …",
        "training sasrec · epoch 1/2 · loss 7.00",
        "training sasrec · epoch 2/2 · loss 7.00",
        "training sasrec: done",
    ], said
    out = io.StringIO()  # a long text: the epochs' lines say the short one its first line stands for
    text = "training sasrec on 100,836 ratings (time budget 180 s)"
    with LineStatus(Console(file=out, force_terminal=False, width=200), text, after=0) as long:
        show_epoch(long, text, epoch_words(1, 2, {"loss": 7.0}), "training sasrec")
    said = [re.sub(r"^\[\s*[\d.]+s\] | in [\d.]+ s$", "", ln) for ln in out.getvalue().splitlines()]
    assert said == [f"{text} …", "training sasrec · epoch 1/2 · loss 7.00", f"{text}: done"], said
    out = io.StringIO()
    calm = LineStatus(Console(file=out, force_terminal=False, width=200), "training sasrec", after=3600)
    with calm:
        calm._show()  # as its timer would, an hour in: the next line may print an hour after it
        show_epoch(calm, "training sasrec", "epoch 1/2")
    assert "epoch" not in out.getvalue() and out.getvalue().count("\n") == 2, out.getvalue()
    spinner = Console(file=io.StringIO(), force_terminal=True, width=120).status("training sasrec")
    show_epoch(spinner, "training sasrec", "epoch 1/2")
    assert str(spinner.status) == "training sasrec · epoch 1/2"


def test_a_fit_the_clock_ended_says_so_beside_the_figures(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The README's leave-last-out compare on a busy machine ran sasrec 7 of its 200 epochs in its 180 s
    budget and scored 0.022 against markov's 0.050, and nothing under the table said why (a progress line on
    stderr did). A real compare (a tiny sasrec whose budget ends it after its first epoch) now notes it with
    the option that gives more time; a model the clock did not stop (markov, sasrec without a budget) gets
    no such note."""
    import pytest

    pytest.importorskip("torch")
    from clihelp import run_process
    from datagen import make_ratings

    make_ratings().to_csv(tmp_path / "r.csv", index=False)
    tiny = "sasrec.hidden=16,sasrec.max_len=10,sasrec.n_blocks=1,sasrec.batch_size=64,sasrec.n_threads=1"

    def notes(budget: str) -> str:
        done = run_process(
            "compare", "--ratings", str(tmp_path / "r.csv"), "--protocols", "leave-last-out",
            "--models", "markov,sasrec", "--params", f"{tiny},sasrec.epochs=5,sasrec.time_budget={budget}",
            env={"COLUMNS": "80"},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return " ".join(done.stdout.split())

    said = notes("1e-6")  # shorter than any epoch on any machine (1 ms was only a few times shorter)
    assert (
        "note: sasrec stopped at its 1e-06 s time budget after 1 of 5 epochs, before it converged, so its "
        "figures may be low; give it more time: --params sasrec.time_budget=SECONDS"
    ) in said, said  # the CLI's words alone (errors.Doors); Python's notes say ('sasrec', {'time_budget': …})
    assert "markov stopped" not in said
    assert "time budget" not in notes("null")


def test_every_commands_piped_lines_share_one_clock() -> None:
    """``recommend --user 1`` piped read '[0.5s] loading ml-latest-small: done' then '[0.0s] fitting ease …':
    each step counted from its own start, so the log's clock ran backwards (export alone had its steps share
    a clock). ``main`` now starts one clock per command (``progress.command_clock``) and drops it at the end,
    so a notebook's own calls afterwards count from their own start."""
    from clihelp import run_process
    from movierec.progress import clock_origin

    done = run_process("recommend", "--user", "1", "-k", "3", env={"MOVIEREC_PROGRESS_AFTER": "0"})
    assert done.returncode == 0, done.stderr
    steps, stamps, took = _stamped_steps(done.stderr)
    assert steps == [
        "loading ml-latest-small …",
        "loading ml-latest-small: done",
        "fitting ease on ml-latest-small …",
        "fitting ease on ml-latest-small: done",
    ], done.stderr
    assert stamps == sorted(stamps) and stamps[2] >= took[1], done.stderr
    assert clock_origin() is None  # a notebook's own calls after a command count from their own start


def test_an_epochs_loss_keeps_its_three_digits_when_they_end_in_zeros() -> None:
    """A sasrec fit in compare (docs/sequential.md's command, run as written) printed one epoch a line:
    'loss 7.07 · 6/200', 'loss 7 · 7/200', 'loss 6.89 · 8/200': the 7.00 lost its digits and read as a
    jump. Every loss keeps three significant digits, trailing zeros included."""
    from movierec.progress import loss_words

    assert loss_words(7.0) == "loss 7.00"
    assert loss_words(7.07) == "loss 7.07"
    assert loss_words(0.25) == "loss 0.250"
    assert loss_words(0.5123) == "loss 0.512"
    assert loss_words(100.0) == "loss 100" and loss_words(1234.5) == "loss 1.23e+03"
    assert loss_words(float("nan")) == "" and loss_words(None) == ""


def test_a_fit_that_ran_all_its_epochs_is_not_said_to_have_stopped() -> None:
    """new-users.md's ``compare --protocols leave-last-out --models popularity,markov,ease,gru4rec``, run as
    written, printed 'gru4rec · training stopped (epochs) after 165 s, 5 epochs' after all 5 of its 5
    epochs: the fit-end event carried the model's stop_reason_ "epochs" (its count ran out) as a stop. A
    real compare (a tiny sasrec, no time budget, 2 epochs within its patience) now ends its bar with
    'fitted in', and the event's ``stopped`` is None, as for a model that has no early stopping.

    Each epoch's line also shows the validation NDCG@10 sasrec's early stopping follows, as the report's rows
    do: compare's showed the loss alone ('sasrec · fitting · loss 7.20 · 2/3'), so nothing said whether the
    model was still improving or why its patience ended it."""
    from movierec.progress import three_digits

    events, text = _tiny_sasrec_compare({"time_budget": None}, [])
    (end,) = [ev for ev in events if ev["event"] == "fit-end"]
    assert end["epochs_run"] == 2 and end["stopped"] is None, end
    assert "sasrec · fitted in" in text and "training stopped" not in text, text
    epochs = [ev for ev in events if ev["event"] == "epoch"]
    assert len(epochs) == 2, epochs
    for ev in epochs:  # the figure the model recorded, on that epoch's line
        said = f"· val ndcg@10 {three_digits(ev['val_ndcg@10'])} · {ev['epoch']}/2"
        assert re.search(rf"sasrec · fitting · loss [\d.]+ {re.escape(said)}$", text, flags=re.M), text


def test_a_full_rankings_count_of_users_scored_shows_in_compare_and_the_report() -> None:
    """knn-baseline's full ranking (6-8 s on ml-latest-small) read 'evaluating full-ranking' and nothing
    else in compare and in the report; its later evaluate events carry the users scored, which both show
    in the same words, a line every few seconds at most in a log (here every one: ``every=0``)."""
    from movierec.cli.compare import _RichProgress
    from movierec.viz.report import _Progress

    run = [
        {"event": "fit-start", "model": "knn-baseline", "fold": 0, "folds": 1},
        {"event": "fit-end", "model": "knn-baseline", "fold": 0, "seconds": 1.0},
        {"event": "evaluate", "model": "knn-baseline", "protocol": "full-ranking", "fold": 0},
        {
            "event": "evaluate",
            "model": "knn-baseline",
            "protocol": "full-ranking",
            "scored": 64,
            "users": 595,
        },
        {
            "event": "evaluate",
            "model": "knn-baseline",
            "protocol": "full-ranking",
            "scored": 595,
            "users": 595,
        },
    ]
    out = io.StringIO()
    progress = LineProgress(Console(file=out, force_terminal=False, width=80), every=0.0)
    with progress:
        show = _RichProgress(progress)
        for ev in run:
            show(ev)
    compare = out.getvalue()
    out = io.StringIO()
    report = _Progress(Console(file=out, force_terminal=False, width=80), 1)
    report.progress.every = 0.0
    with report:
        on = report.handler({})
        for ev in run:
            on(ev)
    for text in (compare, out.getvalue()):
        assert "knn-baseline · evaluating full-ranking · 64/595 users scored" in text, text
        assert "knn-baseline · evaluating full-ranking · 595/595 users scored" in text, text


#: the parts of a default ensemble's fit, as a log names them (each hold-out figure, at the epochs' cadence,
#: is every one with MOVIEREC_PROGRESS_AFTER=0)
_ENSEMBLE_PARTS = [
    r"fitting ease \(base 1/4\) on the hold-out",
    r"ease \(base 1/4\): hold-out NDCG@10 0\.\d{3}",
    r"fitting slim \(base 2/4\) on the hold-out",
    r"slim \(base 2/4\): hold-out NDCG@10 0\.\d{3}",
    r"fitting ials \(base 3/4\) on the hold-out",
    r"ials \(base 3/4\): hold-out NDCG@10 0\.\d{3}",
    r"fitting rp3beta \(base 4/4\) on the hold-out",
    r"rp3beta \(base 4/4\): hold-out NDCG@10 0\.\d{3}",
    r"searching the blend weights on the hold-out",
    r"blend hold-out NDCG@10 0\.\d{3} with [1-4] of 4 bases",
]


def test_a_piped_ensemble_fit_names_each_part_as_it_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``recommend --user 1 --model ensemble | cat`` printed 'fitting ensemble on ml-latest-small …' and then
    nothing until its 'done' line 28 to 48 s later: the fit's progress showed only models that count epochs,
    and the ensemble's fit is its bases' (four on the hold-out, the weight search, a refit of each weighted
    one). A real recommend and export of a default ensemble on tiny data, piped: between the step's first
    line and its 'done' line, each part as it starts, each base's hold-out figure, the search and its
    outcome, then one refit per weighted base, each line within 80 columns."""
    from clihelp import run_process
    from datagen import make_ratings

    make_ratings().to_csv(tmp_path / "r.csv", index=False)
    for command, step in (
        (["recommend", "--user", "1"], "fitting ensemble"),
        (["export", "--no-check", "--out", str(tmp_path / "e")], "training ensemble"),
    ):
        done = run_process(
            *command, "--ratings", str(tmp_path / "r.csv"), "--model", "ensemble",
            env={"MOVIEREC_PROGRESS_AFTER": "0", "COLUMNS": "80"},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        stamped = [ln for ln in done.stderr.splitlines() if re.match(r"\[ *\d+\.\ds\] ", ln)]
        said = [re.sub(r"^\[ *\d+\.\ds\] ", "", ln) for ln in stamped]
        first = next(i for i, t in enumerate(said) if t.startswith(f"{step} on ") and t.endswith(" …"))
        last = next(i for i, t in enumerate(said) if t.startswith(step) and ": done in " in t)
        parts = [t.removeprefix(f"{step} · ") for t in said[first + 1 : last]]
        assert len(parts) > len(_ENSEMBLE_PARTS), said  # before: none between the first line and 'done'
        assert all(re.fullmatch(want, got) for want, got in zip(_ENSEMBLE_PARTS, parts, strict=False)), parts
        refits = parts[len(_ENSEMBLE_PARTS) :]
        kept = int(re.search(r"with (\d) of 4", parts[len(_ENSEMBLE_PARTS) - 1]).group(1))  # type: ignore[union-attr]
        assert len(refits) == kept and all(
            re.fullmatch(r"refitting (ease|slim|ials|rp3beta) \(base [1-4]/4\) on all the data", r)
            for r in refits
        ), parts
        assert all(len(ln) <= 80 for ln in stamped[first : last + 1]), stamped


def test_an_ensembles_parts_show_beside_the_spinner_and_on_compares_bar() -> None:
    """On a terminal the step's spinner reads the part under way ('fitting ensemble · refitting slim (base
    2/4) on all the data'); compare's bar names each part as recommend's log does, in place of the figures
    its epoch events carry ('step 2 slim hold-out NDCG@10 0.2690')."""
    from datagen import make_ratings
    from movierec.cli.compare import _RichProgress
    from movierec.interactions import Interactions
    from movierec.models.registry import create
    from movierec.models.training import epoch_progress

    train = Interactions.from_frame(make_ratings())
    spinner = Console(file=io.StringIO(), force_terminal=True, width=120).status("fitting ensemble")
    seen: list[str] = []
    model = create("ensemble")
    listener = epoch_progress(spinner, model, "fitting ensemble")["on_epoch"]
    say = listener.say
    listener.say = lambda words, now: (say(words, now), seen.append(str(spinner.status)))  # type: ignore[attr-defined]
    model.fit(train, on_epoch=listener)
    assert seen[0] == "fitting ensemble · fitting ease (base 1/4) on the hold-out", seen
    assert re.fullmatch(r"fitting ensemble · refitting \w+ \(base \d/4\) on all the data", seen[-1]), seen

    out = io.StringIO()
    progress = LineProgress(Console(file=out, force_terminal=False, width=80), every=0.0)
    show = _RichProgress(progress)
    with progress:
        show({"event": "fit-start", "model": "ensemble", "epochs": None})
        show(
            {
                "event": "step",
                "model": "ensemble",
                "words": "fitting slim (base 2/4) on the hold-out",
                "now": True,
            }
        )
        show({"event": "epoch", "model": "ensemble", "epoch": 2, "slim hold-out NDCG@10": 0.269})
    text = out.getvalue()
    assert "ensemble · fitting slim (base 2/4) on the hold-out" in text and "step 2" not in text, text
