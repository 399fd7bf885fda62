"""The ``movierec`` command line: thin typer commands over the library.

Each command parses options, calls one library function and prints. Any
:class:`~movierec.errors.MovierecError` becomes one line on stderr and exit code 2; bugs keep
their traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer

from movierec import __version__
from movierec.errors import MovierecError

app = typer.Typer(
    name="movierec",
    help="Train, compare, inspect and serve movie recommenders on MovieLens-shaped ratings.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    add_completion=False,
)

# Each module defines ``register(app)``; modules of optional features may be absent.
_COMMAND_MODULES = ["data", "compare", "report", "serve", "tune", "spark", "cold_users"]


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


def fail(message: str) -> None:
    """Print one readable error line to stderr and exit with code 2."""
    line = " ".join(str(message).split())
    print(f"movierec: error: {line}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app, turning user mistakes into one line and exit code 2."""
    try:
        app(args=argv, prog_name="movierec")
    except MovierecError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        print("movierec: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
