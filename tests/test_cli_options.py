"""cli.common.option_group: a group of options declared once, reaching the command as one object."""

from __future__ import annotations

from dataclasses import dataclass

import typer
from typer.testing import CliRunner

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
