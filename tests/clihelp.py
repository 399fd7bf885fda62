"""Run ``movierec`` the way a person does, for tests that read its output: in this process as the console
script does (:func:`run_cli`), or in a fresh interpreter (:func:`run_process`)."""

from __future__ import annotations

import os
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


def run_process(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``movierec ARGS`` in a fresh interpreter in ``cwd``, at 200 columns (a table's rows on one line each)."""
    return subprocess.run(
        [sys.executable, "-m", "movierec", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        cwd=cwd,
        timeout=timeout,
    )


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
