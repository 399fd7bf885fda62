"""Progress that shows up wherever the command runs: bars on a terminal, plain lines in logs and pipes.

rich draws its bars only on a terminal; piped into a file, a CI log or a notebook ``!`` cell it
prints nothing until the end, so a 15-minute sasrec run looked hung. :func:`make_progress` returns
rich's ``Progress`` on a terminal and :class:`LineProgress` (same methods, one line per change, at
most one line every few seconds per task) elsewhere.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LineProgress",
    "LineStatus",
    "budget_words",
    "epoch_words",
    "epochs_done",
    "fitted_words",
    "kernel_shell",
    "live",
    "loss_words",
    "make_progress",
    "model_step",
    "name_step",
    "scored_words",
    "show_epoch",
    "status",
    "stopped_words",
    "three_digits",
    "val_words",
    "watch_print",
]


@dataclass
class _Task:
    id: int
    description: str
    total: float | None
    completed: float = 0.0
    fields: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    printed: str = ""
    printed_at: float = 0.0

    @property
    def finished(self) -> bool:
        return self.total is not None and self.completed >= self.total


class LineProgress:
    """The part of ``rich.progress.Progress`` movierec uses, printing plain timestamped lines.

    Each line is stamped with the seconds since the command's progress began (not since its task
    began: with per-task stamps, a log of several models read out of order).
    """

    def __init__(self, console: Any, *, disable: bool = False, every: float = 3.0) -> None:
        self.console = console
        # every line's stamp counts from the command's start (or from here outside one), so a log reads in order
        self.started = clock_origin() or time.monotonic()
        self.disable = disable
        self.every = every
        self._tasks: list[_Task] = []

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        for task in self._tasks:  # the last state of every task, if not printed yet
            self._emit(task, force=True)

    @property
    def tasks(self) -> list[_Task]:
        return self._tasks

    @property
    def task_ids(self) -> list[int]:
        return [t.id for t in self._tasks]

    def add_task(self, description: str, total: float | None = 100.0, **fields: Any) -> int:
        self._say_held_back()
        task = _Task(len(self._tasks), description, total, fields=dict(fields))
        self._tasks.append(task)
        self._emit(task, force=True)
        return task.id

    def update(
        self,
        task_id: int,
        *,
        total: float | None = None,
        completed: float | None = None,
        advance: float | None = None,
        description: str | None = None,
        visible: bool | None = None,
        refresh: bool = False,
        **fields: Any,
    ) -> None:
        task = self._tasks[task_id]
        was_finished = task.finished
        if total is not None:
            task.total = total
        if completed is not None:
            task.completed = completed
        if advance is not None:
            task.completed += advance
        if description is not None:
            task.description = description
        task.fields.update(fields)
        # refresh=True (rich: redraw now) marks a step worth its own line even within ``every`` seconds
        self._emit(task, force=refresh or (task.finished and not was_finished))

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def reset(
        self, task_id: int, *, total: float | None = None, description: str | None = None, **kw: Any
    ) -> None:
        self._say_held_back()
        task = self._tasks[task_id]
        task.completed = 0.0
        task.started = time.monotonic()
        task.printed_at = 0.0  # a task started again (compare's next fold) is a line of its own
        self.update(task_id, total=total, description=description, **kw)

    def remove_task(self, task_id: int) -> None:
        self._emit(self._tasks[task_id], force=True)

    def stop(self) -> None:
        """Nothing to tear down (rich's Progress has this too)."""

    def _say_held_back(self) -> None:
        """Every task's latest line that ``every`` held back, before a task starts (again): compare's piped
        log ended with '[ 12.9s] svd · evaluating full-ranking · 595/595 users scored', said after the two
        models that followed svd, ten seconds after its scoring had ended, when the run's end printed it."""
        for task in self._tasks:
            self._emit(task, force=True)

    def _line(self, task: _Task) -> str:
        parts = [task.description.strip()]
        parts += [str(v) for v in task.fields.values() if str(v).strip() and str(v) != "–"]
        if task.total and task.total > 1:
            parts.append(f"{task.completed:g}/{task.total:g}")
        text = " · ".join(p for p in parts if p)
        return text

    def _emit(self, task: _Task, *, force: bool = False) -> None:
        if self.disable:
            return
        line = self._line(task)
        now = time.monotonic()
        if not line or line == task.printed:
            return
        if not force and now - task.printed_at < self.every:
            return
        task.printed, task.printed_at = line, now
        _LAST_STAMP[0] = max(_LAST_STAMP[0], now)
        self.console.print(
            f"[{now - self.started:6.1f}s] {line}", markup=False, highlight=False, soft_wrap=True
        )


def live(console: Any) -> bool:
    """Whether ``console`` shows rich's live displays (a terminal or Jupyter); elsewhere (pipes, logs,
    notebooks' ``!`` cells) progress is plain lines. The one test every progress display makes."""
    return bool(console.is_terminal or getattr(console, "is_jupyter", False))


#: when the running ``movierec`` command began (``time.monotonic()``), set by :func:`command_clock`: every
#: piped step line and progress line of the command is stamped from it, so a log's clock never restarts
#: ('[0.5s] loading …: done' then '[0.0s] fitting ease …' read as if the fit came first)
_COMMAND_START: list[float] = []


@contextlib.contextmanager
def command_clock() -> Iterator[None]:
    """Stamp the piped lines of everything run inside from this moment (the CLI's ``main`` wraps a command in
    it); outside one (a notebook's own calls) each step and bar counts from its own start, as before."""
    _COMMAND_START.append(time.monotonic())
    try:
        yield
    finally:
        _COMMAND_START.pop()


#: the moment (``time.monotonic()``) the latest stamped progress line reads, of any :class:`LineStatus` or
#: :class:`LineProgress`: a step's first line, stamped at the step's start though printed later, is never
#: stamped before it
_LAST_STAMP: list[float] = [0.0]


def clock_origin() -> float | None:
    """The running command's start (:func:`command_clock`), or ``None`` outside a command."""
    return _COMMAND_START[-1] if _COMMAND_START else None


def make_progress(*columns: Any, console: Any, disable: bool = False, **kwargs: Any) -> Any:
    """rich's ``Progress`` on a terminal, :class:`LineProgress` anywhere else (pipes, logs, notebooks' ``!``)."""
    if live(console):
        from rich.progress import Progress

        return Progress(*columns, console=console, disable=disable, **kwargs)
    return LineProgress(console, disable=disable)


class LineStatus:
    """rich's ``console.status`` spinner for pipes and logs, where rich shows nothing: a step still running
    after ``after`` seconds prints one timestamped line (and one per later :meth:`update`), and its end
    prints how long it took. A step shorter than ``after`` prints nothing, so a quick command, or a
    mistake found while its data loads, stays one line on stderr; its first line, printed late, is stamped
    with the step's start, so its stamp and its 'done' line's stamp differ by the 'done in' time. ``after=0``
    prints the step's line at once (a command of several named steps, the report, shows each). ``origin`` (a ``time.monotonic()``)
    stamps the lines from there rather than from the step's start, so several steps' lines read in order
    beside a :class:`LineProgress` given the same origin.

    A line wider than the console (80 columns in a pipe) goes on in lines of its own under the text, broken
    before its details in parentheses (:func:`_step_lines`); ``short`` ('checking sasrec', set by
    :func:`name_step`) names the step on its later lines, its progress and its 'done' line, since its first
    line has said the whole text. export's check read '[  49.2s] checking sasrec's top-N against popularity
    on leave-last-out (each user's latest rating) (time budget 180 s): done in 20.9 s' (134 columns)."""

    def __init__(self, console: Any, text: str, *, after: float = 3.0, origin: float | None = None) -> None:
        self.console = console
        self.text = text
        self.short: str | None = None  # the step's name on its later lines (name_step)
        self.after = after
        self.origin = origin
        self.started = time.monotonic()
        self.on_screen = False  # the step's line is printed
        self.closed = False  # the step ended (a timer that fires late prints nothing)
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._printed_at = 0.0  # when its latest line printed (time.monotonic())
        self._held: str | None = None  # a part started before the step's line printed (progress(now=True))

    def __enter__(self) -> LineStatus:
        self.started = time.monotonic()
        if self.after <= 0:
            self._show()
            return self
        self._timer = threading.Timer(self.after, self._show)
        self._timer.daemon = True  # never holds the process open
        self._timer.start()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self.on_screen and exc_type is None:
                self._print(f"{self.short or self.text}: done in {time.monotonic() - self.started:.1f} s")
            self.closed = True

    def update(self, text: str) -> None:
        """A new text (rich's ``status.update``): printed at once when the step is already on screen."""
        with self._lock:
            self.text = text
            if self.on_screen and not self.closed:
                self._print(text)

    def progress(self, words: str, short: str | None = None, *, now: bool = False) -> None:
        """How far the step has got ('epoch 12/200 · loss 5.21 · val ndcg@10 0.0812'), printed after its text
        once its line is on screen, at most one line every ``after`` seconds (3 s by default, as
        :class:`LineProgress` prints a model's epochs in compare; every one where ``after`` is 0); its text,
        and so its 'done' line, stay as they were. ``export --model sasrec`` into a log read 'training sasrec
        …' and then nothing for its three minutes.

        ``short`` ('training sasrec') stands for the text on these lines, which the step's first line has
        said in full: 'training sasrec on 100,836 ratings (time budget 180 s) · epoch 1/2 · loss 7.31 · val
        ndcg@10 0.0132' was 103 columns with its stamp, and the top-N check's 148.

        ``now``: a line whatever the cadence, for a step that starts a part of the work (an ensemble's
        'fitting slim (base 2/4) on the hold-out'): held back, the log would name the part before it while
        this one runs. Such a line said before the step's own line prints follows that line (the part then
        running), so the log names it from the step's first seconds."""
        with self._lock:
            line = f"{short or self.short or self.text} · {words}"
            due = now or time.monotonic() - self._printed_at >= self.after
            if now and not self.on_screen:
                self._held = line
            elif self.on_screen and not self.closed and due:
                self._print(line)

    def _show(self) -> None:
        with self._lock:
            if not self.closed and not self.on_screen:
                self.on_screen = True
                self._print(f"{self.text} …", at=self.started)
                if self._held is not None:
                    self._print(self._held)

    def _print(self, line: str, *, at: float | None = None) -> None:
        """``line``, stamped now, or at ``at`` (the step's start, for its first line: printed ``after`` seconds
        late, it read '[5.8s] training ease …' then '[7.5s] …: done in 4.7 s', the two stamps 1.7 s apart),
        though never before a line already printed (:data:`_LAST_STAMP`), so a log still reads in order."""
        since = self.origin or clock_origin() or self.started
        self._printed_at = now = time.monotonic()
        moment = now if at is None else min(now, max(at, _LAST_STAMP[0]))
        _LAST_STAMP[0] = max(_LAST_STAMP[0], moment)
        stamp = f"[{moment - since:6.1f}s] "
        width = getattr(self.console, "width", 80)
        lines = _step_lines(line, max(width - len(stamp), 20) if isinstance(width, int) else 70)
        said = "\n".join([stamp + lines[0], *(" " * len(stamp) + more for more in lines[1:])])
        self.console.print(said, markup=False, highlight=False, soft_wrap=True)


def _step_lines(text: str, width: int) -> list[str]:
    """A piped step's ``text`` in lines of at most ``width`` columns: whole where it fits, else broken before
    its details in parentheses where they fit on a line ('checking sasrec's top-N against popularity on
    leave-last-out' / '(each user's latest rating) (time budget 180 s) …'), else at spaces
    (:func:`prose_lines`: a word wider than ``width``, a path, stays whole)."""
    if len(text) <= width:
        return [text]
    lines: list[str] = []
    for chunk in re.split(r" (?=\()", text):
        if lines and len(lines[-1]) + 1 + len(chunk) <= width:
            lines[-1] += " " + chunk
        else:
            lines += prose_lines(chunk, width)
    return lines


def name_step(step: Any, short: str) -> None:
    """Name a running :func:`status` step ``short`` ('training sasrec', 'checking ease') on its lines after
    the first in a log (:class:`LineStatus`): its 'done' line and progress. The first line says the whole
    text; its repetition made export's 'done' lines 84 to 134 columns. A terminal's spinner, or a caller's
    own status, is left as it is."""
    if isinstance(step, LineStatus):
        step.short = short


def status(console: Any, text: str, *, after: float = 3.0, origin: float | None = None) -> Any:
    """rich's spinner (``console.status``) on a terminal; :class:`LineStatus` in pipes, logs and notebooks'
    ``!`` cells, where a long step (``export --model ensemble`` trains for about a minute) printed nothing.
    ``origin``: the command's start (``time.monotonic()``), so the lines of its several steps are stamped
    from one clock (see :class:`LineStatus`)."""
    if live(console):
        return console.status(text)
    return LineStatus(console, text, after=step_line_after(after), origin=origin)


def epoch_words(epoch: int, total: object, record: dict[str, Any]) -> str:
    """``"epoch 12/200 · loss 5.21 · val ndcg@10 0.0812"``: one epoch of a fit (``total``: the most it may
    run, where known), with the loss and validation score its record carries (:func:`val_words`)."""
    most = f"/{total}" if isinstance(total, int) and not isinstance(total, bool) and total > 0 else ""
    said = [f"epoch {epoch}{most}", loss_words(record.get("loss")), val_words(record) or ""]
    return " · ".join(words for words in said if words)


def show_epoch(step: Any, text: str, words: str, short: str | None = None, *, now: bool = False) -> None:
    """``words`` (:func:`epoch_words`) on a running :func:`status` step whose text is ``text``: beside the
    spinner on a terminal, a line now and then in a pipe (:meth:`LineStatus.progress`; ``now``: a line
    at once, for the start of a part of the work), after ``short`` where given ('training sasrec'), so the
    line keeps within 80 columns."""
    if isinstance(step, LineStatus):
        step.progress(words, short, now=now)
    elif callable(getattr(step, "update", None)):  # rich's Status (a caller's own status may have none)
        step.update(f"{text} · {words}")


def step_line_after(after: float) -> float:
    """How long a piped step runs before its line prints: ``after``, or ``MOVIEREC_PROGRESS_AFTER`` seconds
    where that is set (``0`` logs every step, the short ones too, as a CI log or a test that reads the steps'
    order wants, whatever the machine's speed). A value that is not a number of seconds is refused in one
    line, as any other bad setting."""
    raw = os.environ.get("MOVIEREC_PROGRESS_AFTER", "").strip()
    if not raw:
        return after
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also NaN
        from movierec.errors import ConfigError

        raise ConfigError(
            f"MOVIEREC_PROGRESS_AFTER={raw!r} is not a number of seconds: give one ≥ 0 (0 prints every step's "
            "line), or unset it (steps then print after 3 s, loading after 5 s)"
        )
    return seconds


def budget_words(model: object) -> str:
    """``" (time budget 180 s)"`` for a model that stops training by the clock (sasrec by default, gru4rec
    when given one), else ``""``: the words compare's bar carries, for the spinners of export and recommend,
    which showed 'training sasrec on 100,836 interactions' for three minutes with nothing to say how long
    it could take."""
    budget = getattr(model, "time_budget", None)
    if isinstance(budget, bool) or not isinstance(budget, (int, float)):
        return ""
    return f" (time budget {budget:g} s)"


def model_step(label: str, words: str) -> str:
    """``"ease · fitted in 1.5 s"``: one step of one model's training, as ``compare`` and ``report`` both
    print it (the report's bar shows the label and the words in columns of their own, joined so in a log).
    compare wrote 'fitting ease' and 'ease: fitted in 1.53s' where the report wrote 'ease · fitting' and
    'ease · fitted in 2.0 s' for the same steps."""
    return f"{label} · {words}"


def scored_words(event: dict[str, Any]) -> str:
    """``" · 128/595 users scored"``: how many users a full ranking's evaluate event (``scored`` of ``users``) has
    scored, for compare's and the report's progress; ``""`` for an event without the count (the step's
    start). knn-baseline's full ranking read 'evaluating full-ranking' alone for its 8 s on ml-latest-small."""
    n, of = event.get("scored"), event.get("users")
    return f" · {n}/{of} users scored" if isinstance(n, int) and isinstance(of, int) else ""


def fitted_words(seconds: float) -> str:
    """``"fitted in 1.5 s"``: a model's fit time as its progress line ends it (:func:`model_step`)."""
    return f"fitted in {seconds:.1f} s"


def loss_words(loss: object) -> str:
    """``"loss 0.512"`` for an epoch's training loss, three significant digits kept even when they end in
    zeros (``"loss 7.00"``, not ``"loss 7"`` between 7.07 and 6.89; a report row keeps within 80 columns);
    ``""`` for none or a loss the library does not report (LightFM's epochs carry nan)."""
    if isinstance(loss, bool) or not isinstance(loss, (int, float)) or not math.isfinite(loss):
        return ""
    return f"loss {three_digits(loss)}"


def val_words(event: dict[str, Any]) -> str | None:
    """``"val ndcg@10 0.0812"``: the validation score an epoch's record carries (a ``val_…`` key: sasrec's and
    gru4rec's NDCG@10 on each user's latest training movie, which their early stopping follows; an
    ``epoch_validation`` curve's ``val_rmse``), or ``None`` where it has none. compare's and report's
    progress lines both show it; compare's showed the loss alone, so nothing said why sasrec kept training
    or stopped at its patience."""
    return next(
        (
            f"val {k[4:]} {three_digits(v)}"
            for k, v in event.items()
            if k.startswith("val_") and isinstance(v, (int, float)) and math.isfinite(v)
        ),
        None,
    )


def three_digits(value: float) -> str:
    """``value`` to three significant digits, its trailing zeros kept (``7.00``, ``0.0190``), as a loss or a
    validation score shows on a progress line: ``:.3g`` wrote 0.019 right after 0.0175, as if it had lost a
    digit. ``#`` keeps the zeros, and writes 100 as ``100.``, whose point goes."""
    return f"{value:#.3g}".removesuffix(".")


def epochs_done(total: float | None, event: dict[str, Any]) -> tuple[float, float]:
    """``(total, completed)`` of a model's bar once its fit ends (``event``: the fit-end event): full, or
    the epochs it ran of its most when its training stopped early ('23/200' for a sasrec its time budget
    stopped, not '200/200'); a bar without epochs (``total`` None) is 1 of 1."""
    most = float(total) if total else 1.0
    ran = event.get("epochs_run")
    if event.get("stopped") and isinstance(ran, int) and 0 < ran < most:
        return most, float(ran)
    return most, most


def stopped_words(reason: str, seconds: float, epochs: object) -> str:
    """``"training stopped (time budget) after 181 s, 23 epochs"``: why a model's training ended before its
    last epoch, printed above the bars (which a terminal clears) so it stays on screen."""
    ran = f", {epochs} epoch{'s' if epochs != 1 else ''}" if isinstance(epochs, int) and epochs else ""
    return f"training stopped ({reason}) after {seconds:.0f} s{ran}"


def kernel_shell() -> Any | None:
    """The running Jupyter kernel's IPython shell, or ``None`` (a terminal, a script, IPython merely
    imported): where the Python API's progress lines go to the cell rather than to stderr."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell if getattr(shell, "kernel", None) is not None else None


class _CellLines:
    """Progress lines in a Jupyter kernel: one plain-text output per cell, updated in place (an IPython
    display handle). On stderr each line was a red block in JupyterLab, most of them 'fitting… 0.0 s',
    and nbconvert's HTML split 'svd (2/3): fitting…' from its seconds, since a stream's pieces are
    separate outputs there."""

    def __init__(self) -> None:
        self.cell: object = None  # the execution count the lines belong to: a new cell starts a new block
        self.lines: list[str] = [""]
        self.handle: Any = None
        self._lock = threading.Lock()  # tune's trials may report from several threads

    def write(self, shell: Any, text: str, end: str, *, replace: bool = False) -> None:
        """Add ``text`` to the open line (``replace``: in its place), then ``end``."""
        from IPython.display import Pretty, display

        with self._lock:
            cell = getattr(shell, "execution_count", None)
            if cell != self.cell or self.handle is None:
                self.cell, self.lines, self.handle = cell, [""], None
            self.lines[-1] = text if replace else self.lines[-1] + text
            for piece in end.split("\n")[1:]:  # end="\n" closes the line, end="" leaves it open
                self.lines.append(piece)
            shown = Pretty("\n".join(self.lines).rstrip("\n"))
            if self.handle is None:
                self.handle = display(shown, display_id=True)
            else:
                self.handle.update(shown)


_CELL_LINES = _CellLines()


def watch_print(text: str, *, end: str = "\n") -> None:
    """A progress line of the Python API (``compare``'s fits, ``Recommender.fit``, ``tune``'s trials) for
    the person watching: on stderr in a terminal, in the cell's one updated output in a Jupyter kernel.
    ``end=""`` leaves the line open for its ending (the fit's seconds)."""
    shell = kernel_shell()
    if shell is not None:
        _CELL_LINES.write(shell, text, end)
    else:
        print(text, end=end, file=sys.stderr, flush=True)


def watch_step(text: str, *, done: bool) -> None:
    """One step of a model's fit for the person watching, in the CLI's words (:func:`model_step`):
    ``"svd (2/3) · fitting"``, then ``done``: ``"svd (2/3) · fitted in 1.4 s"``. On stderr each is its own
    line, as the CLI's log prints them (a warning the fit prints falls between them, not inside a line); in
    a Jupyter kernel the fitted line takes the fitting line's place, one line per fit in the cell."""
    shell = kernel_shell()
    if shell is not None:
        _CELL_LINES.write(shell, text, "\n" if done else "", replace=True)
    else:
        print(text, file=sys.stderr, flush=True)


def prose_lines(text: str, width: int | None = None, *, balanced: bool = False) -> list[str]:
    """``text`` wrapped at spaces to ``width`` columns (by default the terminal's, from ``$COLUMNS`` or
    stdout, else 80): prose where no terminal wraps it, the CLI's piped notes and sentences
    (``cli.common.print_prose``, ``say``) and the library's notes on stderr. A word wider than ``width``
    (a path, a URL) stays whole on its own line, so it can still be copied or grepped; lines in ``text``
    stay lines.

    ``balanced``: a line whose wrap would leave one word alone on its last line is wrapped, in as many
    lines, at the narrowest width that still takes (CSS's ``text-wrap: balance``), so its lines are of a
    length: tune's 87-column start line read 'tuning baseline for rmse: … of 80,668 training' / 'ratings'
    at 80 columns, and reads as two lines of 43 and 43."""
    import shutil

    width = width or shutil.get_terminal_size((80, 24)).columns
    lines: list[str] = []
    for part in text.split("\n"):
        lines += _wrap(part, width, balanced) or [""]
    return lines


def _wrap(part: str, width: int, balanced: bool) -> list[str]:
    """One line of :func:`prose_lines`' ``text`` wrapped; ``balanced``, narrowed while its count of lines
    holds when greedy wrapping leaves its last word alone."""
    import textwrap

    def wrap(at: int) -> list[str]:
        return textwrap.wrap(part, at, break_long_words=False, break_on_hyphens=False)

    lines = wrap(width)
    if not balanced or len(lines) < 2 or " " in lines[-1]:
        return lines
    for at in range(width - 1, 0, -1):  # the line count only grows as the width shrinks
        narrower = wrap(at)
        if len(narrower) > len(lines):
            break
        lines = narrower
    return lines


@contextlib.contextmanager
def quiet_tqdm_import() -> Iterator[None]:
    """Import a library that loads ``tqdm.auto`` (optuna, implicit, cornac) inside this block.

    In a Jupyter kernel without ipywidgets that import warns "TqdmWarning: IProgress not found. Please
    update jupyter and ipywidgets", pointing at tqdm/auto.py, in the first cell that fits such a model
    (``als``) or tunes: movierec never draws their tqdm bars, so the warning only tells a newcomer to fix
    something that is not broken. Only that message is hidden, and only during the import."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        yield
