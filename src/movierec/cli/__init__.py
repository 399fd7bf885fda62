"""The ``movierec`` command line: thin typer commands over the library.

Each command parses options, calls one library function and prints. Any
:class:`~movierec.errors.MovierecError` becomes one line on stderr and exit code 2 (or the error's
``exit_code``: a Spark job that failed is 1, with its full stack in a log file the line names); bugs
keep their traceback.
"""

from __future__ import annotations

import errno
import importlib
import logging
import sys
from pathlib import Path
from typing import Any

import typer

from movierec import __version__, interrupts
from movierec.errors import MovierecError, in_cli, interrupted_by


def _tidy_help() -> None:
    """Help that reads like a man page: no ``<bool>`` after flags, ``fetch NAME`` rather than ``fetch {name}``.

    typer ≥ 0.16 prints a type after every option, flags included, and wraps required arguments in
    braces in usage lines; both confuse readers (a flag takes no value). Number ranges stay out of the
    type column (the help text says them), and long words fold instead of being cut. Guarded, so
    another typer version only loses the tidying.
    """
    from typer import core

    option = getattr(core, "TyperOption", None)
    if option is not None and hasattr(option, "display_type_rich"):
        shown = option.display_type_rich

        def display_type_rich(self: Any, ctx: Any) -> str | None:
            return None if getattr(self, "is_flag", False) else shown(self, ctx)

        option.display_type_rich = display_type_rich
    if option is not None and hasattr(option, "_get_number_range_help_str"):
        # --seed's "[0<=x<=4294967295]" widened the type column of every options table by 12 characters,
        # squeezing the help beside it at 80 columns; its help says "(0…2³²−1)" instead
        option._get_number_range_help_str = lambda self: None
    argument = getattr(core, "TyperArgument", None)
    if argument is not None and hasattr(argument, "_usage_display_name"):

        def _usage_display_name(self: Any) -> str:
            name = str(self.metavar or self.name).upper()
            name = name if self.required else f"[{name}]"
            return name + ("..." if self.nargs != 1 else "")

        argument._usage_display_name = _usage_display_name
    _fold_help_cells()
    _one_name_column()


def _one_name_column() -> None:
    """An options table's names in one column, ``--model, -m`` and ``--check/--no-check``, and its help taking
    the rest of the width. typer lays names out in four columns (long, short, negative long, negative short),
    each as wide as its widest cell: at 80 columns they took 57 of them, the help beside them was 20 wide
    (a line of help every two or three words, 'bpr/warp/logistic/wa' 'rp-kos' folded mid-word) and
    ``--implicit-threshold`` was cut to ``--implicit-thresho…``. Merged, the names take 20 and the help about
    40. Only a row of typer's options layout (six cells, or seven with the required mark, the names as Text)
    is merged; the commands table and any other layout are left as they are."""
    from rich.table import Table
    from rich.text import Text
    from typer import rich_utils

    if getattr(rich_utils, "Table", None) is not Table:  # another typer layout, or already done
        return

    class OptionsTable(Table):
        def add_row(self, *cells: Any, **options: Any) -> None:
            names = cells[-6:-2]
            if len(cells) not in (6, 7) or not all(isinstance(c, Text) for c in names):
                return super().add_row(*cells, **options)
            long, short, negative, negative_short = names  # an argument's name is in the short column
            first, *aliases = long.split(",") if long.plain else [long]  # '--implicit-threshold,--threshold'
            name = Text()
            # '--access-log/--no-access-log' (28) breaks after its slash rather than widen the column for all
            slash = "/\n" if len(first) + len(negative) > 22 else "/"
            for joiner, part in (("", first), (slash, negative), (", ", short), (", ", negative_short)):
                if part.plain:
                    name.append(joiner if name.plain else "")
                    name.append_text(part)
            for alias in aliases:  # a line each, so one long alias does not widen the column for all
                name.append(",\n")
                name.append_text(alias)
            super().add_row(*cells[:-6], name, *cells[-2:], **options)
            if len(self.rows) == 1:  # the names and types as wide as they are, the help all the rest
                for column in self.columns[:-1]:
                    column.no_wrap = True
                self.columns[-1].ratio = 1

    rich_utils.Table = OptionsTable  # type: ignore[misc]


def _fold_help_cells() -> None:
    """Options tables fold a word too long for its column instead of cutting it: at 80 columns the help of
    ``compare --models`` ended ``svd,knn-baseline,base…`` and ``--protocols``' default
    ``rating,test-candidate…`` (rich cuts a cell's text with an ellipsis unless the text says to fold)."""
    from rich.columns import Columns
    from rich.text import Text
    from typer import rich_utils

    helper = getattr(rich_utils, "_get_parameter_help", None)
    if helper is None:  # another typer layout: leave it as it is
        return

    def _get_parameter_help(*args: Any, **kwargs: Any) -> Any:
        cell = helper(*args, **kwargs)
        for item in getattr(cell, "renderables", []) if isinstance(cell, Columns) else [cell]:
            if isinstance(item, Text):
                item.overflow = "fold"
        return cell

    rich_utils._get_parameter_help = _get_parameter_help


_tidy_help()

app = typer.Typer(
    name="movierec",
    help="Train, compare, inspect and serve movie recommenders on MovieLens-shaped ratings.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
    # -h as well as --help, at every level (click's child contexts inherit it): 'movierec -h' and
    # 'movierec recommend -h' said "no such option -h"; no command has a -h of its own
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Each module defines ``register(app)``; modules of optional features may be absent.
_COMMAND_MODULES = ["data", "compare", "report", "serve", "feedback", "tune", "spark", "cold_users", "models"]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"movierec {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """movierec: a recommender-systems workbench for MovieLens-shaped data."""


for _name in _COMMAND_MODULES:
    try:
        _mod = importlib.import_module(f"movierec.cli.{_name}")
    except ModuleNotFoundError as _exc:  # a command module not written yet
        if _exc.name != f"movierec.cli.{_name}":
            raise
        continue
    _mod.register(app)


def _reflow_help(typer_app: typer.Typer) -> None:
    """Each command's docstring as its help, paragraphs re-flowed: the docstring's line breaks (at ~100
    characters) are not the terminal's, and rich mode keeps them, so an 80-column help printed ragged
    half-lines; reST's ````code```` reads as `code`."""
    import inspect

    for info in typer_app.registered_commands:
        doc = info.help or (inspect.getdoc(info.callback) if info.callback else None)
        if doc and "\n" in doc:
            paragraphs = [" ".join(p.split()) for p in doc.split("\n\n")]
            info.help = "\n\n".join(paragraphs).replace("``", "`")
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _reflow_help(group.typer_instance)


_reflow_help(app)


#: optional top-level modules → the extra that installs them: a command that imports one this install
#: lacks ends in one line naming the extra (``movierec serve`` without the serve extra was a traceback)
OPTIONAL_MODULES = {
    **dict.fromkeys(["fastapi", "uvicorn", "sqlalchemy", "httptools", "fastapi_offline", "uvloop"], "serve"),
    **dict.fromkeys(["matplotlib", "seaborn", "plotly", "openTSNE", "umap", "jinja2", "sklearn"], "viz"),
    **dict.fromkeys(["surprise", "lightfm", "implicit", "cornac", "myfm"], "reference"),
    "optuna": "tune",
    "psycopg": "postgres",
    "pyspark": "spark",
    "torch": "seq",
}


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """``"this command needs uvicorn, which is not installed: pip install 'movierec[serve]'"`` when
    ``exc`` is an optional module of ours going missing, else ``None`` (a bug keeps its traceback)."""
    from movierec.errors import install_hint

    top = (exc.name or "").split(".")[0]
    extra = OPTIONAL_MODULES.get(top)
    return (
        None if extra is None else f"this command needs {top}, which is not installed: {install_hint(extra)}"
    )


def fail(message: str, outcome: list[str] | None = None, code: int = 2) -> None:
    """Print one readable error line to stderr and exit with ``code`` (2: bad input).

    ``outcome``: what a command that failed after it began writing its output left on disk, added to the
    same line (``…; nothing was written (r was not created)``): still one line to read.
    """
    line = " ".join(str(message).split())
    print(_fitted(f"movierec: error: {line}{_outcome_tail(outcome)}"), file=sys.stderr)
    raise SystemExit(code)


def _fitted(line: str) -> str:
    """The error line as the reader's terminal shows it: wrapped at spaces to its width, so a long line
    does not break mid-word ('create one wit' / 'h movierec export'); never inside a path, a flag or a
    URL. Piped or logged it stays one line (grep, scripts and tests read it whole)."""
    if not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return line
    import shutil
    import textwrap

    width = shutil.get_terminal_size((80, 24)).columns
    if len(line) <= width:
        return line
    return "\n".join(textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False))


def _outcome_tail(lines: list[str] | None) -> str:
    return "".join(f"; {' '.join(line.split())}" for line in lines or ())


def _stopped(word: str) -> None:
    """``movierec: interrupted`` (or ``aborted``) and what the run left on disk, on one line, wrapped at
    spaces on a terminal as an error line is: tune's 'the study's 3 finished trials are kept in …' ran to
    153 columns with its --out, broken by an 80-column terminal inside the path ('…/tcc/s' / 'tudy.db')."""
    from movierec.output_folders import take_outcomes

    print(_fitted(f"movierec: {word}{_outcome_tail(take_outcomes())}"), file=sys.stderr)


#: SIGTERM is raised as an interrupt (:class:`Terminated`); the signals received during this run decide the
#: CLI's line and exit status. In :mod:`movierec.interrupts`, which the entry point loads before this module
Terminated = interrupts.Terminated
_TERMINATED = interrupts.TERMINATED
EXIT_INTERRUPTED = interrupts.EXIT_INTERRUPTED
"""Exit status after Ctrl-C (128 + SIGINT)."""
EXIT_TERMINATED = interrupts.EXIT_TERMINATED
"""Exit status after SIGTERM (128 + SIGTERM, what a shell reports for a process the signal ended)."""
_on_sigterm = interrupts.on_sigterm
_catch_sigterm = interrupts.catch_sigterm


#: set while :func:`main` runs a command: a lost interrupt is raised again only then (tests call main in-process)
_RUNNING: list[bool] = []


def _keep_interrupts() -> Any:
    """Raise again a Ctrl-C or SIGTERM that Python dropped; return the ``sys.unraisablehook`` to put back.

    Python raises a signal's exception (KeyboardInterrupt, :class:`Terminated`) in whatever Python code the
    main thread runs when the signal arrives. When that is a finalizer (a ``__del__``, a weak reference's
    callback such as SQLAlchemy's ``InstanceState._cleanup``, which tune's trials run thousands of times,
    a garbage collector callback), Python cannot raise it there: it prints "Exception ignored in …
    KeyboardInterrupt" and goes on, and the signal is lost: ``tune`` ran on through all its trials (minutes)
    after such a Ctrl-C, and ``serve`` would keep serving after a SIGTERM lost before uvicorn takes the
    signals over. Here such a dropped interrupt is raised again, as the same signal, from a helper thread a
    moment later, so it lands in the main thread's next ordinary line (or, in another finalizer, is
    dropped and raised again).
    """
    import _thread
    import signal
    import time

    previous = sys.unraisablehook

    def again(signum: signal.Signals) -> None:
        time.sleep(0.05)  # after the main thread has left the hook: raised in it, it is dropped too
        if _RUNNING:  # the command is still running (not a later one, nor the test that called main)
            _thread.interrupt_main(signum)

    def hook(unraisable: Any) -> None:
        kind = unraisable.exc_type
        if _RUNNING and kind is not None and issubclass(kind, KeyboardInterrupt):
            signum = signal.SIGTERM if issubclass(kind, Terminated) else signal.SIGINT
            # the bare thread call: threading.Thread.start() waits in Python code for the thread to start
            _thread.start_new_thread(again, (signum,))
            return
        previous(unraisable)

    sys.unraisablehook = hook
    return previous


class _InterruptLogFilter(logging.Filter):
    """Drop a library's log record about a call that Ctrl-C or SIGTERM interrupted (SQLAlchemy's "Error
    closing cursor" with a two-part traceback when Ctrl-C lands in a query of tune's study database): the
    person stopped the run, and the CLI says so in one line. On ``logging.lastResort``, the handler that
    shows a library's warnings when nothing configured logging; a record of any other error still shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and interrupted_by(record.exc_info[1]))


def _show_warning(message: Warning | str, category: type[Warning], *_args: Any, **_kwargs: Any) -> None:
    """A Python warning raised during a command, as the CLI's own warnings read: ``warning: <text>`` on
    one stderr line, not the file path, line number and source line of the library call that raised it;
    one raised with a :class:`movierec.errors.Doors` text in the CLI's words (Python's show its string)."""
    from movierec.cli.common import say

    text = message.args[0] if isinstance(message, Warning) and len(message.args) == 1 else message
    say("warning", " ".join(in_cli(text).split()))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, turning user mistakes into one line and exit code 2.

    Option mistakes (``--seed abc``, an unknown option, a missing ``--out``) are one line too,
    naming the command and pointing at its ``--help``, instead of typer's framed usage box.
    Ctrl-C ends in ``movierec: interrupted`` and exit status 130; SIGTERM (``kill``, ``timeout``) is
    raised as an interrupt too (:class:`Terminated`), so it cleans up the same way, and ends in
    ``movierec: terminated`` and exit status 143. A write the machine refuses (a full disk, a quota, a
    file-size limit, a read-only or forbidden folder) is one line too, with exit status 1.
    """
    import warnings

    from typer.core import _click  # typer's own copy of click: its exceptions are not click's

    from movierec.cli.common import forget_notes
    from movierec.output_folders import take_outcomes
    from movierec.progress import command_clock

    forget_notes()  # each run says its notes (a process may run several: a notebook, the tests)
    take_outcomes()  # and what it left on disk when it fails, not what an earlier run left
    _TERMINATED.clear()
    shown = warnings.showwarning
    warnings.showwarning = _show_warning
    sigterm = _catch_sigterm()  # SIGTERM cleans up like Ctrl-C: no hidden staging folder is left behind
    unraisable = _keep_interrupts()  # and neither it nor Ctrl-C is lost in a finalizer
    quiet = _InterruptLogFilter()  # a library's log of its interrupted call is not shown: one line says it
    if logging.lastResort is not None:
        logging.lastResort.addFilter(quiet)
    _RUNNING.append(True)
    try:
        with command_clock():  # every piped progress line of the command is stamped from its start
            code = app(args=argv, prog_name="movierec", standalone_mode=False)
    except _click.exceptions.NoArgsIsHelpError as exc:  # bare ``movierec`` or ``movierec data``: the help
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except _click.exceptions.UsageError as exc:
        from movierec.cli.usage import usage_line

        fail(usage_line(exc, argv, app))  # 'no such command 'comapre'; did you mean 'compare'? (see …)'
    except _click.exceptions.ClickException as exc:
        fail(exc.format_message(), take_outcomes())
    except typer.Abort:
        _stopped("aborted")
        raise SystemExit(1) from None
    except MovierecError as exc:  # exit 2, or the error's own status (a failed Spark job: 1)
        fail(exc.in_cli(), take_outcomes(), exc.exit_code)
    except ModuleNotFoundError as exc:
        why = missing_extra(exc)
        if why is None:
            raise
        fail(why, take_outcomes())
    except KeyboardInterrupt:
        raise SystemExit(_interrupted()) from None
    except OSError as exc:  # a full disk, a file-size limit, a read-only or forbidden folder
        if exc.errno not in _WRITE_FAILURES:
            raise
        fail(_write_failure(exc), take_outcomes(), 1)
    except Exception as exc:  # a library's own error raised while it unwound a Ctrl-C (Optuna's trial loop)
        if not interrupted_by(exc):
            raise
        raise SystemExit(_interrupted()) from None
    finally:
        _RUNNING.clear()
        sys.unraisablehook = unraisable
        if logging.lastResort is not None:
            logging.lastResort.removeFilter(quiet)
        warnings.showwarning = shown
        if sigterm is not None:
            import signal

            signal.signal(signal.SIGTERM, sigterm)
    code = code if isinstance(code, int) and not isinstance(code, bool) else 0
    if code == EXIT_INTERRUPTED:  # Ctrl-C or SIGTERM: typer turns the KeyboardInterrupt into this exit code
        code = _interrupted()
    raise SystemExit(code)  # like typer's standalone mode: callers (and tests) see SystemExit(0) on success


#: the errors a write meets from the machine, not from a mistake in the code: a full disk or quota, a
#: file-size limit, a read-only file system, a folder the user may not write
_WRITE_FAILURES = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM})


def _write_failure(exc: OSError) -> str:
    """One line for an output the machine would not take (exit 1: not bad input): ``could not write
    nested.json: File too large``. The file is named by its own name: its folder is often the hidden
    staging one, which the outcome after it (``nothing was written``) already accounts for. It was a
    traceback whose last line said what was left."""
    what = f"could not write {Path(str(exc.filename)).name}" if exc.filename else "could not write the output"
    return f"{what}: {exc.strerror or exc}"


def _interrupted() -> int:
    """Say the run was stopped (``movierec: interrupted`` after Ctrl-C, ``movierec: terminated`` after
    SIGTERM, with what it left on disk) and return the exit status: 130 or 143."""
    word, code = interrupts.stop_word()
    _stopped(word)
    return code


def run() -> None:
    """Process entry point (the ``movierec`` script, ``python -m movierec``): :func:`main`, then exit.

    A user mistake (exit 2) leaves the process at once, after flushing its one line, without the
    interpreter's finalisation: after a failed parse, Arrow's worker threads could abort the process
    during that finalisation ("terminate called without an active exception", exit 134 in about one
    run in ten with pyarrow 26), which turned a clean exit 2 into a crash. Everything the command
    wrote was already closed by the ``with`` blocks and ``finally`` clauses the error unwound through.
    """
    import os

    try:
        main()
    except SystemExit as exc:
        if exc.code == 2:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(2)
        raise
