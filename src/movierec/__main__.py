"""The process entry point: ``python -m movierec`` and the ``movierec`` script (``movierec.__main__:run``).

Ctrl-C and SIGTERM end in one line from the first moment. Loading the CLI (typer, rich, every command
module) takes 0.1–0.5 s, and :func:`movierec.cli.main` sets up its signal handling only after that: a
Ctrl-C while it loaded printed a traceback of the import ending in ``KeyboardInterrupt``, and a SIGTERM
killed the process without a word. Here SIGTERM is turned into an interrupt before the CLI loads (only
the ``movierec`` package and this small module come first), and an interrupt while it loads ends as
every later one does: ``movierec: interrupted`` and exit status 130, ``movierec: terminated`` and 143.
"""

from __future__ import annotations

import os
import signal
import sys

from movierec import interrupts


def run() -> None:
    """Catch SIGTERM, load the CLI and run it (:func:`movierec.cli.run`); an interrupt that lands outside
    the command itself (while the CLI loads, before :func:`~movierec.cli.main` sets up) is one line too."""
    previous = interrupts.catch_sigterm()
    loaded = False
    try:
        from movierec.cli import run as run_cli

        loaded = True
        run_cli()
    except KeyboardInterrupt:
        word, code = interrupts.stop_word()
        print(f"movierec: {word}", file=sys.stderr)
        if not loaded:
            # Nothing ran yet, so there is nothing to finalise, and exiting at once keeps the status: an
            # interrupt inside a compiled module's import can leave CPython set to end the process with
            # SIGINT at exit whatever status it is given (exit -2 after the line, 1 run in 15 here)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        raise SystemExit(code) from None
    finally:
        if previous is not None:  # the process is ending: SIGTERM ends it as it would any program
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    run()
