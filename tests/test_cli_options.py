"""cli.common.option_group: a group of options declared once, reaching the command as one object."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import typer
from typer.testing import CliRunner

from clihelp import run_cli
from movierec.cli.common import RatingsSource, option_group, ratings_options, typed


@dataclass
class Pair:
    left: int = 1
    right: str = "r"


pair_options = option_group(
    "pair",
    Pair,
    {
        "left": (int, typer.Option(1, "--left", help="The left one.")),
        "right": (str, typer.Option("r", "--right", help="The right one.")),
    },
)


def test_a_group_is_listed_in_place_and_arrives_as_one_object() -> None:
    got: list[object] = []

    @pair_options
    def cmd(
        ctx: typer.Context, first: int = typer.Option(0, "--first"), pair: Pair = Pair(), last: bool = False
    ) -> None:
        got.append((first, pair, last, typed(ctx, "left"), typed(ctx, "right")))

    app = typer.Typer()
    app.command()(cmd)
    app.command("other")(lambda: None)  # two commands, so typer keeps the command name
    runner = CliRunner()
    res = runner.invoke(app, ["cmd", "--left", "5", "--first", "2"])
    assert res.exit_code == 0, res.output
    assert got == [(2, Pair(5, "r"), False, True, False)]
    help_text = runner.invoke(app, ["cmd", "--help"]).output
    assert (
        help_text.index("--first")
        < help_text.index("--left")
        < help_text.index("--right")
        < help_text.index("--last")
    )


def test_ratings_options_build_a_ratings_source() -> None:
    got: list[RatingsSource] = []

    @ratings_options
    def cmd(source: RatingsSource = RatingsSource()) -> None:
        got.append(source)

    app = typer.Typer()
    app.command()(cmd)
    app.command("other")(lambda: None)
    res = CliRunner().invoke(
        app, ["cmd", "--dataset", "ml-100k", "--rating-scale", "1", "5", "--time-col", ""]
    )
    assert res.exit_code == 0, res.output
    assert got == [RatingsSource("ml-100k", time_col="", rating_scale=(1.0, 5.0))]


#: an option's name → the short flag every command that takes it gives it (the same meaning everywhere)
SHORT_FLAGS = {
    "k": "-k",
    "model": "-m",
    "models": "-m",
    "dataset": "-d",
    "out": "-o",
    "artifact": "-a",
    "params": "-p",
    "config": "-c",
}


def test_an_option_has_the_same_short_flag_in_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    """``movierec report`` took ``--k`` but not ``-k`` (``report -k 5``: "no such option -k"), where
    recommend, similar, compare and cold-users take both; spark train and spark recommend too. Every command
    that takes one of these options takes its short flag as well (and the long one, as before)."""
    from movierec.cli import app

    def walk(command: object, path: list[str]) -> list[tuple[str, str, list[str]]]:
        found = [
            (" ".join(path), p.name, [*p.opts, *p.secondary_opts])
            for p in getattr(command, "params", [])
            if p.param_type_name == "option" and p.name in SHORT_FLAGS
        ]
        for name, sub in getattr(command, "commands", {}).items():
            found += walk(sub, [*path, name])
        return found

    options = walk(typer.main.get_command(app), [])
    assert ("report", "k", ["--k", "-k"]) in options and len(options) >= 40, options
    missing = [(cmd, name, flags) for cmd, name, flags in options if SHORT_FLAGS[name] not in flags]
    assert not missing, missing
    long_ones = [(cmd, name) for cmd, name, flags in options if f"--{name}" not in flags]
    assert not long_ones, long_ones
    assert run_cli(["report", "-k", "0"], capsys) == (
        2,
        "",
        "movierec: error: --k 0: must be between 1 and 50\n",
    )
