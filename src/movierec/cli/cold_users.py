"""``movierec cold-users``: the new-user warm-up curve (movierec.cold_users) as a table and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from movierec.cli.common import (
    IMPLICIT_THRESHOLD,
    JSON,
    SEED,
    USER_FEATURES,
    RatingsSource,
    console,
    err_console,
    print_json,
    ratings_options,
    say,
    threshold_for,
)
from movierec.errors import ConfigError

if TYPE_CHECKING:
    from movierec.datasets import Dataset


DEFAULT_MODELS = "popularity,segment-popularity,warp"


def default_setup(
    ds: Dataset, models: str | None, user_features: str | None
) -> tuple[str, str | None, str | None]:
    """``(models, user_features, note)`` for what was left out: the dataset's demographics when it has
    them and no features were given; without them, the default models lose segment-popularity (which
    needs them) and say so, so a bare ``movierec cold-users`` on the bundled data runs instead of failing."""
    if user_features:
        return models or DEFAULT_MODELS, user_features, None
    if ds.users is not None:
        return (
            models or DEFAULT_MODELS,
            "demographics",
            f"user features: {ds.name}'s demographics (age bucket, gender, occupation, zip region; "
            "segment-popularity's segments are age × gender)",
        )
    if models is not None:
        return models, None, None
    return (
        "popularity,warp",
        None,
        f"{ds.name} has no user demographics, so segment-popularity is left out and warp is scored once ratings are revealed; "
        "--dataset ml-100k has them, or pass --user-features FILE.csv (userId,feature[,weight])",
    )


def curve_caption(report: Any) -> str:
    """What the curve table's columns and second rows mean: 'revealed' is not a word a newcomer knows here."""
    last = report.meta["reveal"][-1]
    later = f" after the {_ordinal(last)}" if last else ""
    return (
        "N revealed: ranked after seeing the user's first N ratings in time order (0: from side "
        "information only); every column is scored on the same movies, the user's ratings "
        f"≥ {report.meta['threshold']:g}{later}; below each value: its 95% bootstrap interval over users"
    )


def curve_table(report: Any, metric: str, name: str, width: int) -> Table:
    """One column per reveal level; each model a row of values with its 95% interval on the row below
    (compare's layout), the model names broken before '+', so the table fits 80 columns."""
    levels = report.meta["reveal"]
    table = Table(
        title=f"new users on {name}: {report.meta['n_evaluated']} held-out users, {metric}",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        title_justify="left",
    )
    table.add_column("model", overflow="fold", max_width=max(12, width - 13 * len(levels) - 4))
    for lvl in levels:
        table.add_column(f"{lvl} revealed", justify="right", no_wrap=True)
    for label in dict.fromkeys(r["model"] for r in report.rows):
        rows = [
            next(x for x in report.rows if x["model"] == label and x["revealed"] == lvl) for lvl in levels
        ]
        table.add_row(
            label.replace("+", "\n+"), *("–" if metric not in r else f"{r[metric]:.3f}" for r in rows)
        )
        table.add_row(
            "",
            *(
                "" if metric not in r else f"[dim]{r[metric + ' lo']:.3f}–{r[metric + ' hi']:.3f}[/]"
                for r in rows
            ),
        )
    return table


def _ordinal(n: int) -> str:
    """``1`` → ``1st``, ``10`` → ``10th``, ``22`` → ``22nd``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _p(value: float) -> str:
    """A p-value to three decimals; below 0.001 as ``<0.001`` (a permutation test's floor is 1/(draws+1))."""
    return "<0.001" if value < 0.001 else f"{value:.3f}"


PAIRED_CAPTION = (
    "gain: relative to the baseline; diff.: model − baseline with its 95% paired bootstrap interval; "
    "p: sign-flip permutation test (two-sided)"
)


def paired_table(report: Any, metric: str) -> Table:
    """The paired tests as a table that fits 80 columns: per baseline and reveal level, the relative gain,
    the paired difference with its 95% bootstrap interval, and the sign-flip permutation p-value (one
    line each of 110 characters wrapped mid-word on an 80-column terminal, the interval unlabelled)."""
    model = report.paired[0]["model"]
    table = Table(
        title=f"{model} against each baseline, paired on the same {report.meta['n_evaluated']} users, {metric}",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        title_justify="left",
        pad_edge=False,
    )
    table.add_column("baseline", overflow="fold", max_width=18)  # folds only if a wide gain or p needs it
    table.add_column("revealed", justify="right", no_wrap=True)
    table.add_column("gain", justify="right", no_wrap=True)
    table.add_column("diff.", justify="right", no_wrap=True)
    table.add_column("95% interval", justify="right", no_wrap=True)
    table.add_column("p", justify="right", no_wrap=True)
    for p in report.paired:
        gain = p["relative_gain"]
        table.add_row(
            p["baseline"].replace("+", "\n+"),
            str(p["revealed"]),
            "–" if gain is None else f"{gain:+.1%}",
            f"{p['diff']:+.3f}",
            f"[{p['diff_lo']:+.3f}, {p['diff_hi']:+.3f}]",
            _p(p["p_permutation"]),
        )
    return table


@ratings_options
def cold_users_cmd(
    models: str | None = typer.Option(
        None,
        "--models",
        "-m",
        help=f"Comma-separated implicit models (default: {DEFAULT_MODELS}; popularity,warp on data without "
        "demographics).",
    ),
    user_features: str | None = USER_FEATURES,
    reveal: str = typer.Option(
        "0,1,5,10",
        "--reveal",
        help="Reveal levels: rank each held-out user after showing the model their first N ratings "
        "(time order), for each N; 0 = from side information only.",
    ),
    fraction: float = typer.Option(0.2, "--fraction", help="Share of users held out entirely."),
    k: int = typer.Option(10, "--k", "-k", help="Cut-off of the ranking metrics."),
    implicit_threshold: float | None = IMPLICIT_THRESHOLD,
    out: Path | None = typer.Option(None, "--out", "-o", help="Write cold_users.json here."),
    source: RatingsSource = RatingsSource(),  # --dataset, --ratings, --user-col … --rating-scale
    seed: int = SEED,
    as_json: bool = JSON,
) -> None:
    """Hold out a seeded share of users; score them from side information, then after 1, 5, 10 ratings."""
    from movierec.cold_users import check_fraction, check_models, cold_users

    try:
        levels = [int(x) for x in reveal.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--reveal takes whole numbers such as 0,1,5,10, got {reveal!r}") from None
    check_fraction(fraction)  # these two before the data loads: one line, no note before it
    if models is not None:
        check_models([m.strip() for m in models.split(",") if m.strip()])
    if out is not None:  # an --out that cannot be written is one line now, not a traceback after training
        from movierec.output_folders import check_writable

        check_writable(out)
    ds = source.load()
    models, user_features, note = default_setup(ds, models, user_features)
    if note and not as_json:
        say("note", note)
    from movierec.progress import show_epoch
    from movierec.progress import status as step

    with step(err_console, "cold-users: training on the kept users") as status:
        report = cold_users(
            ds,
            models,
            user_features=user_features or None,
            fraction=fraction,
            reveal=levels,
            k=k,
            threshold=threshold_for(ds, implicit_threshold),
            seed=seed,
            progress=lambda msg: status.update(msg),
            # how far the held-out users' scoring has got, at most a line every 3 s in a log
            on_scored=lambda words: show_epoch(status, "cold-users", words, "cold-users"),
        )
    if out is not None:  # whole or not at all: a file cut short by Ctrl-C would still parse as nothing
        from movierec.output_folders import write_atomically

        out.mkdir(parents=True, exist_ok=True)
        write_atomically(out / "cold_users.json", json.dumps(report.to_dict(), indent=2, default=str))
    if as_json:
        print_json(report.to_dict())
        return
    # the captions are printed under their tables at the terminal's width (a table's own caption wraps
    # at the table's width); no line ends in spaces (piped, every row of the curve table ended in two and
    # each wrapped caption line in one), as compare prints since a91f67d
    from movierec.tables import Rstripped, print_lines

    console.print(Rstripped(curve_table(report, f"ndcg@{k}", ds.name, console.width), console.width))
    print_lines(console, escape(curve_caption(report)))
    if report.paired:
        console.print()
        console.print(Rstripped(paired_table(report, f"ndcg@{k}"), console.width))
        print_lines(console, escape(PAIRED_CAPTION))
    if out is not None:
        console.print(f"wrote {escape(str(out / 'cold_users.json'))}")


def register(app: typer.Typer) -> None:
    app.command("cold-users")(cold_users_cmd)
