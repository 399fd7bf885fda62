"""``movierec cold-users``: the new-user warm-up curve (movierec.cold_users) as a table and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from movierec.cli.common import (
    DATASET,
    IMPLICIT_THRESHOLD,
    JSON,
    RATINGS,
    SEED,
    USER_FEATURES,
    RatingsSource,
    console,
    err_console,
    print_json,
)
from movierec.errors import ConfigError


def cold_users_cmd(
    models: str = typer.Option(
        "popularity,segment-popularity,warp", "--models", "-m", help="Comma-separated implicit models."
    ),
    user_features: str | None = USER_FEATURES,
    reveal: str = typer.Option(
        "0,1,5,10", "--reveal", help="Revealed ratings per held-out user (time order)."
    ),
    fraction: float = typer.Option(0.2, "--fraction", help="Share of users held out entirely."),
    k: int = typer.Option(10, "--k", "-k", help="Cut-off of the ranking metrics."),
    implicit_threshold: float = IMPLICIT_THRESHOLD,
    out: Path | None = typer.Option(None, "--out", "-o", help="Write cold_users.json here."),
    dataset: str = DATASET,
    ratings: Path | None = RATINGS,
    seed: int = SEED,
    as_json: bool = JSON,
) -> None:
    """Hold out a seeded share of users; score them from side information, then after 1, 5, 10 ratings."""
    from movierec.cold_users import cold_users

    try:
        levels = [int(x) for x in reveal.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"--reveal takes whole numbers such as 0,1,5,10, got {reveal!r}") from None
    ds = RatingsSource(dataset, ratings).load()
    with err_console.status("cold-users: training on the kept users") as status:
        report = cold_users(
            ds,
            models,
            user_features=user_features or None,
            fraction=fraction,
            reveal=levels,
            k=k,
            threshold=implicit_threshold,
            seed=seed,
            progress=lambda msg: status.update(msg),
        )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "cold_users.json").write_text(json.dumps(report.to_dict(), indent=2, default=str))
    if as_json:
        print_json(report.to_dict())
        return
    metric = f"ndcg@{k}"
    table = Table(
        title=f"new users on {ds.name}: {report.meta['n_evaluated']} held-out users, {metric} [95% CI]"
    )
    table.add_column("model")
    for r in report.meta["reveal"]:
        table.add_column(f"{r} revealed", justify="right")
    for label in dict.fromkeys(r["model"] for r in report.rows):
        cells = []
        for lvl in report.meta["reveal"]:
            row = next(x for x in report.rows if x["model"] == label and x["revealed"] == lvl)
            cells.append(
                "–"
                if metric not in row
                else f"{row[metric]:.3f} [{row[metric + ' lo']:.3f}, {row[metric + ' hi']:.3f}]"
            )
        table.add_row(label, *cells)
    console.print(table)
    for p in report.paired:
        console.print(
            f"{p['model']} vs {p['baseline']} at {p['revealed']} revealed: {p['relative_gain']:+.1%} "
            f"(diff {p['diff']:+.4f} [{p['diff_lo']:+.4f}, {p['diff_hi']:+.4f}], permutation p = {p['p_permutation']:.3g})"
        )
    if out is not None:
        console.print(f"wrote {out / 'cold_users.json'}")


def register(app: typer.Typer) -> None:
    app.command("cold-users")(cold_users_cmd)
