"""Run ``movierec`` the way a person does, for tests that read its output: in this process as the console
script does (:func:`run_cli`), or in a fresh interpreter (:func:`run_process`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

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


def run_process(
    *args: str,
    cwd: Path | None = None,
    timeout: float = 300,
    fresh: bool = False,
    env: dict[str, str | None] | None = None,
    inherit_columns: bool = False,
) -> subprocess.CompletedProcess[str]:
    """``movierec ARGS`` run in ``cwd`` at 200 columns (a table's rows on one line each), as a
    ``CompletedProcess`` (exit status, stdout, stderr).

    By default it runs in this process (:func:`run_here`): a fresh interpreter spends 2-4 CPU-s importing
    pandas, scipy, typer and the rest before the command starts, and the suite ran about 170 of them, a
    quarter of its CPU time. ``fresh=True``, or ``MOVIEREC_TEST_FRESH=1`` in the environment for the whole
    suite, runs ``python -m movierec ARGS`` in a new interpreter instead: for what only a process shows (its
    start-up, its exit, output written below Python's ``sys.stdout``). ``env`` sets variables for the run
    (``None`` removes one; ``COLUMNS`` replaces the 200); ``cwd`` defaults to the current folder.
    ``inherit_columns=True`` runs it at this process's ``$COLUMNS`` instead of 200 (none if it has none), the
    width a test's ``movierec`` subprocess inherited before such runs moved into this process."""
    argv = [sys.executable, "-m", "movierec", *args]
    changes = {"COLUMNS": os.environ.get("COLUMNS") if inherit_columns else "200", **(env or {})}
    if not (fresh or os.environ.get("MOVIEREC_TEST_FRESH")):
        return run_here(argv, list(args), Path(cwd or os.getcwd()), changes)
    environ = {k: v for k, v in {**os.environ, **changes}.items() if v is not None}
    return subprocess.run(argv, capture_output=True, text=True, env=environ, cwd=cwd, timeout=timeout)


#: the warning filters of a fresh interpreter started without -W or PYTHONWARNINGS (``warnings.filters``
#: there): a run in this process shows the warnings a person's would, not pytest's own choice of them
_FRESH_FILTERS = [
    ("default", None, DeprecationWarning, "__main__", 0),
    ("ignore", None, DeprecationWarning, None, 0),
    ("ignore", None, PendingDeprecationWarning, None, 0),
    ("ignore", None, ImportWarning, None, 0),
    ("ignore", None, ResourceWarning, None, 0),
]

#: the buffers earlier in-process runs wrote to, by id: a logging handler a library created during one
#: (Optuna's, on its first import) holds that run's stderr and is pointed at the current one's
_OUR_STREAMS: set[int] = set()


def run_here(
    argv: list[str], args: list[str], cwd: Path, env: dict[str, str | None]
) -> subprocess.CompletedProcess[str]:
    """``movierec ARGS`` through :func:`movierec.cli.main` in this process, as a fresh one would run it:
    in ``cwd``, with ``env``'s variables (``$COLUMNS`` read by the CLI's consoles), its own stdout and stderr (``sys.stdout``/``sys.stderr``, and the logging
    handlers that wrote to the ones it replaces), a fresh interpreter's warning filters and an empty
    once-only registry, and an exception it lets escape printed as a traceback with exit status 1."""
    import contextlib
    import io
    import logging
    import traceback
    import warnings

    from movierec.cli import common

    out, err = io.StringIO(), io.StringIO()
    _OUR_STREAMS.update((id(out), id(err)))
    old = {id(sys.stdout): out, id(sys.stderr): err, id(sys.__stdout__): out, id(sys.__stderr__): err}
    moved: list[tuple[logging.StreamHandler[Any], Any]] = []
    loggers = [
        logging.getLogger(),
        *(x for x in logging.Logger.manager.loggerDict.values() if isinstance(x, logging.Logger)),
    ]
    for handler in {h for lg in loggers for h in lg.handlers if type(h) is logging.StreamHandler}:
        stream = handler.stream
        if id(stream) in old or id(stream) in _OUR_STREAMS:
            moved.append((handler, stream))
            handler.setStream(old.get(id(stream), err))
    saved = {k: os.environ.get(k) for k in env}
    consoles = [(c, c._width) for c in (common.console, common.err_console)]
    for c, _ in consoles:  # read $COLUMNS now, as a new process's consoles would (an xdist worker has 80)
        c._width = None
    here = os.getcwd()
    _set_environ(env)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.resetwarnings()  # catch_warnings cleared every once-only registry
            for action, _msg, category, module, _line in reversed(_FRESH_FILTERS):
                warnings.filterwarnings(action, category=category, module=module or "")  # type: ignore[arg-type]
            try:
                main(args)
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if exc.code is not None and not isinstance(exc.code, int):
                    print(exc.code, file=err)
            except Exception:
                traceback.print_exc(file=err)
                code = 1
    finally:
        os.chdir(here)
        _set_environ(saved)
        for handler, stream in moved:
            handler.setStream(stream)
        for c, width in consoles:
            c._width = width
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def _set_environ(values: dict[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


#: how every CLI error line begins
ERROR = "movierec: error: "


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a refused command (exit 2), without its ``movierec: error: `` prefix."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR), proc.stderr
    return lines[0].removeprefix(ERROR)


def fail_with_stacks(proc: subprocess.Popen[str], message: str) -> NoReturn:
    """Fail the test with ``message`` and the stack of every thread of ``proc``, a child that did not stop:
    SIGABRT, which its ``PYTHONFAULTHANDLER=1`` turns into those stacks on its (piped, text) stderr."""
    import signal

    proc.send_signal(signal.SIGABRT)
    _out, err = proc.communicate(timeout=30)
    raise AssertionError(f"{message}; its threads when aborted:\n{err[-6000:]}") from None


#: the first lines of a held child: SIGINT and SIGTERM as a shell's foreground command has them. A test run
#: started in the background (``make test &``: SIGINT ignored), or one whose thread blocked them, passes
#: that on to the processes it starts, and the child would not see the signal it is sent
AS_FROM_A_TERMINAL = """
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
"""


def as_from_a_terminal() -> None:
    """``preexec_fn`` of a ``movierec`` child a test sends Ctrl-C: SIGINT and SIGTERM as a shell's foreground
    command has them (:data:`AS_FROM_A_TERMINAL`'s lines, run in the child before it starts Python). A test run
    started in the background hands its children SIGINT ignored, and Python then installs no Ctrl-C handler:
    the fresh-clone ``make test`` of 1fcc9c8 saw ``tune`` still running 60 s after the test's SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Python puts its own handler on a default SIGINT at start
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})


def signal_when_ready(
    child: str, args: list[str], cwd: Path, sig: int, *, what: str, timeout: float = 20
) -> tuple[int, str]:
    """Run ``python -c CHILD READY ARGS`` (a real movierec command held at a known moment by ``child``, which
    writes the file READY once there), send ``sig`` then, and return its exit status and stderr.

    A child still running ``timeout`` s after the signal is sent SIGABRT (``PYTHONFAULTHANDLER``: every
    thread's stack) and the test fails with that stack: a command that does not stop says where it was."""
    import time

    ready = cwd / "ready"

    proc = subprocess.Popen(
        [sys.executable, "-c", AS_FROM_A_TERMINAL + child, str(ready), *args],
        cwd=cwd,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, f"{what} never reached the moment"
            time.sleep(0.02)
        proc.send_signal(sig)
        try:
            _out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            fail_with_stacks(proc, f"{what} still running {timeout:g} s after signal {sig}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def write_ratings(path: Path, movies: list[object]) -> Path:
    """Eight users, each rating most of ``movies`` 1 to 5 (enough 4s and 5s for ease's positives): a ratings
    file without titles for the doors' tests (ids as given: ints, or text such as IMDb's tt ids)."""
    rows = [
        f"{u},{m},{1 + (u * 3 + n * 2) % 5},{1000 * u + n}"
        for u in range(1, 9)
        for n, m in enumerate(movies)
        if (u + n) % 4 != 0
    ]
    path.write_text("userId,movieId,rating,timestamp\n" + "\n".join(rows) + "\n")
    return path
