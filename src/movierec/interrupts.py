"""SIGTERM as an interrupt, and the CLI's exit statuses after Ctrl-C and SIGTERM.

A module of its own, with nothing heavy to import, because two places need it: the process entry point
(:mod:`movierec.__main__`), which catches SIGTERM before it loads the CLI (typer, rich and the command
modules: 0.1–0.5 s), and :func:`movierec.cli.main`, which catches it for each command it runs.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

EXIT_INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT)."""
EXIT_TERMINATED = 143
"""Exit status after SIGTERM (128 + SIGTERM, what a shell reports for a process the signal ended)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a job scheduler stopping the run), raised in the main thread as an
    interrupt so that everything Ctrl-C cleans up is cleaned up too: a staged output's hidden folder is
    removed and an older output it would have replaced stays as it was."""


#: the signals :func:`on_sigterm` received during this run (the CLI's exit status and line depend on it)
TERMINATED: list[int] = []


def on_sigterm(signum: int, _frame: object) -> None:
    """The SIGTERM handler: note the signal, raise :class:`Terminated` where the main thread is."""
    TERMINATED.append(signum)
    raise Terminated


def catch_sigterm() -> Any:
    """Turn SIGTERM into :class:`Terminated`; return the handler to put back afterwards (``None``: none was
    installed: not the main thread, or someone else's handler is already there and is kept). Ours, put
    there by the entry point before the CLI loaded, counts as no handler: it is installed again and put
    back as it was."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL and previous is not on_sigterm:
        return None
    signal.signal(signal.SIGTERM, on_sigterm)
    return previous


def stop_word() -> tuple[str, int]:
    """How this run was stopped, as its line says it and its exit status: ``("terminated", 143)`` after
    SIGTERM, ``("interrupted", 130)`` after Ctrl-C. The entry point and :func:`movierec.cli.main` both end
    a stopped run with it."""
    if TERMINATED:
        return "terminated", EXIT_TERMINATED
    return "interrupted", EXIT_INTERRUPTED
