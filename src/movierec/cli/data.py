"""``movierec data list|fetch|info``: what datasets exist, download them, describe them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from movierec.cli.common import (
    JSON,
    RatingsSource,
    console,
    print_json,
    print_prose,
    print_table,
    ratings_options,
    say,
)

data_app = typer.Typer(help="List, fetch and describe datasets.", no_args_is_help=True)


@data_app.command("list")
def list_cmd(as_json: bool = JSON) -> None:
    """Show the MovieLens variants movierec knows and which are available offline."""
    from movierec.datasets import REGISTRY, cache_dir, locate

    rows: list[dict[str, Any]] = []
    for spec in REGISTRY.values():
        folder = locate(spec)
        rows.append(
            {
                "name": spec.name,
                "ratings": spec.n_ratings,
                "archive_mb": round(spec.archive_bytes / 1e6, 1) if spec.archive_bytes else None,
                "status": "bundled" if spec.bundled else ("cached" if folder else "not cached"),
                "path": str(folder) if folder else None,
                "description": spec.description,
                "licence": spec.licence,
            }
        )
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"MovieLens datasets (cache: {cache_dir()})")
    for col in ("name", "ratings", "archive MB", "status", "description"):
        table.add_column(col, justify="right" if col in ("ratings", "archive MB") else "left")
    for r in rows:
        style = "green" if r["status"] != "not cached" else "dim"
        table.add_row(
            r["name"],
            f"{r['ratings']:,}",
            "?" if r["archive_mb"] is None else f"{r['archive_mb']:.1f}",  # one decimal, so they line up
            f"[{style}]{r['status']}[/]",
            r["description"],
        )
    print_table(table)
    print_prose(
        "Terms: GroupLens research-use terms apply to every MovieLens set; only ml-latest-small is bundled."
    )


@data_app.command("fetch")
def fetch_cmd(
    name: str = typer.Argument(..., help="Dataset name, e.g. ml-1m."),
    path: Path | None = typer.Option(
        None, "--path", help="Use an archive (.zip) or folder you downloaded by hand."
    ),
    url: str | None = typer.Option(
        None, "--url", help="Download from this URL instead of the registry's (a mirror)."
    ),
    force: bool = typer.Option(False, "--force", help="Download again even if cached."),
) -> None:
    """Download a dataset into the cache, verify its checksum and extract it atomically."""
    from movierec.datasets import dataset_name, get_spec, locate
    from movierec.datasets.fetch import fetch

    name = dataset_name(name)  # 'ml-1M' is ml-1m, named so in what follows
    _check_fetch_name(name)
    spec = get_spec(name)
    cached = None if force or spec.bundled else locate(spec)  # what fetch finds and returns untouched
    # progress=True: a bar on a terminal, and piped (a log, CI) a line every few seconds of a long download
    folder = fetch(name, path=path, url=url, force=force, progress=True)
    if spec.bundled and path is None and url is None:
        print_prose(f"{name} is bundled with movierec (nothing to download): {escape(str(folder))}")
        return
    if cached is not None:  # it said 'ok ml-1m ready in …' as after a download: had it downloaded again?
        print_prose(
            f"{name} is already in the cache (nothing downloaded; --force fetches it again): {escape(str(folder))}"
        )
        return
    print_prose(f"[green]ok[/] {name} ready in {escape(str(folder))}")
    print_prose(escape(f"Terms: {spec.licence}."))  # 97 columns: wrapped at words, not by the terminal


def _check_fetch_name(name: str) -> None:
    """A NAME that is not a registered dataset, in fetch's words: an existing file or folder (the archive
    or folder a newcomer downloaded, typed where the name goes) gets the command that takes it, ``--path``,
    and a folder the option that reads it in place; any other name the closest one and the list.
    get_spec's own line ends 'or give a folder by its path (--dataset FOLDER) or a ratings file (--ratings
    FILE)', options fetch has not."""
    from movierec.datasets import REGISTRY
    from movierec.datasets.registry import dataset_did_you_mean
    from movierec.errors import ConfigError, closest

    if name in REGISTRY:
        return
    given = Path(name).expanduser()
    if not given.exists():  # 'ml-100k.zip', 'movielens': a name mistyped
        raise ConfigError(
            f"unknown dataset {name!r}{dataset_did_you_mean(name)}; known: {', '.join(REGISTRY)}"
        )
    zipped = given.suffix.lower() == ".zip"
    guess = closest(given.stem if zipped else given.name, REGISTRY) or "NAME"
    fetch_it = f"movierec data fetch {guess} --path {name}"
    if given.is_dir():
        raise ConfigError(
            f"{name!r} is a folder, not a dataset name: read it where it is with --dataset {name} (in any "
            f"command), or copy it into the cache with {fetch_it}"
        )
    raise ConfigError(
        f"{name!r} is a file, not a dataset name: fetch takes the name, and a download as --path: {fetch_it}"
    )


_INFO_ARTIFACT = typer.Option(
    None,
    "--artifact",
    "-a",
    help="Describe an exported artifact instead: its model, data, users, items and the genres "
    "recommend --artifact --genre takes.",
)


@data_app.command("info")
@ratings_options
def info_cmd(
    source: RatingsSource = RatingsSource(),  # --dataset, --ratings, --user-col … --rating-scale
    plot: Path | None = typer.Option(
        None,
        "--plot",
        help="Write the rating histogram to this file, in the format its suffix names (.png, .pdf, .svg …); "
        "for data without ratings, interactions per user and per item (the long tail), as the report draws.",
    ),
    force: bool = typer.Option(
        False, "--force", help="Let --plot replace an existing file that is not already such an image."
    ),
    with_feedback: str | None = typer.Option(
        None, "--with-feedback", help="Include ratings from a feedback database URL or file."
    ),
    artifact: Path | None = _INFO_ARTIFACT,
    as_json: bool = JSON,
) -> None:
    """Describe a dataset: users, items, ratings, density, scale, per-user/item quantiles, time span (an
    artifact's model, data and genres with --artifact)."""
    if artifact is not None:
        given = {
            "--plot": plot,
            "--with-feedback": with_feedback,
            "--dataset/--ratings": source != RatingsSource(),
        }
        return _artifact_info(artifact, [name for name, value in given.items() if value], as_json)
    if plot is not None:  # before the data loads: a name that cannot take the chart is one line at once
        from movierec.output_folders import check_image_target

        check_image_target(plot, force)
    ds = source.load()  # prints the dataset's notes
    checksum_of = _checksum_of(ds.source)
    if with_feedback:
        from movierec.serving.store import merge_feedback, normalise_url, shown_url

        merged = merge_feedback(ds, with_feedback, "--with-feedback")
        # what the store added, as export says it: the totals alone did not tell (100,838 ratings, 611 users)
        for note in merged.notes[len(ds.notes) :]:
            say("note", note)
        if merged is ds:
            say(
                "note",
                f"no feedback ratings in {shown_url(normalise_url(with_feedback))} yet; the data alone",
            )
        if merged is not ds:
            checksum_of += " and the feedback rows"
        ds = merged
    info = ds.summary()
    info["sha256_of"] = checksum_of
    drawn = None if plot is None else _plot(ds.interactions, plot)
    if plot is not None:
        info["plot"] = str(plot)
    if as_json:
        print_json(info)
        return
    lo, hi = info["rating_scale"]
    # a log loaded without ratings (--rating-col ''): its rows are plays, purchases or clicks, not ratings
    rows = "interactions" if lo == hi else "ratings"
    table = Table(title=f"{info['dataset']}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    table.add_row("users", f"{info['n_users']:,}")
    table.add_row("items (in the log)" if lo == hi else "items (rated)", f"{info['n_items']:,}")
    if info["n_catalog_items"] is not None:
        table.add_row("items (catalogue)", f"{info['n_catalog_items']:,}")
    table.add_row(rows, f"{info['n_ratings']:,}")
    if info.get("dropped_duplicates"):
        kept = f"latest {rows[:-1]}" if "time_span" in info else "last row in the file"
        table.add_row(
            "duplicates dropped", f"{info['dropped_duplicates']:,} (each (user, item) keeps its {kept})"
        )
    from movierec.display import count_text, percent

    table.add_row("density", percent(info["density"]))
    if lo == hi:  # a log loaded without ratings (--rating-col ''): '1 – 1 (mean 1.000)' read as a scale
        table.add_row("rating scale", f"none: every row is {lo:g} (interactions only)")
    else:
        table.add_row("rating scale", f"{lo:g} – {hi:g} (mean {info['rating_mean']:.3f})")
    for what in ("ratings_per_user", "ratings_per_item"):
        q = info[what]
        table.add_row(
            what.replace("_", " ").replace("ratings", rows),
            " · ".join(f"{name} {count_text(q[key])}" for name, key in _QUANTILES),
        )
    if "time_span" in info:
        ts = info["time_span"]
        span = _span_text(ts["first"], ts["last"])  # '33 minutes' where '0.0 days' said nothing
        table.add_row("time span", f"{ts['first'][:10]} → {ts['last'][:10]} ({span})")
    if info.get("n_tags") is not None:
        table.add_row("tags", f"{info['n_tags']:,}")
    if info.get("user_features"):  # what cold-users and warp+demographics can use
        table.add_row("user features", ", ".join(info["user_features"]))
    table.add_row("sha256", f"{str(info['sha256'])[:16]}… of {checksum_of}")
    print_table(table)
    if info.get("genres"):
        _print_genres(info["genres"])
    if drawn is not None:
        console.print(f"{drawn} written to {escape(str(plot))}")


def _artifact_info(artifact: Path, others: list[str], as_json: bool) -> None:
    """``data info --artifact A``: the model an exported artifact serves, the data it was trained on, its
    users and items, and the genres ``recommend --artifact A --genre`` takes, with the items of each, as
    ``data info`` counts a dataset's (:func:`_print_genres`). The CLI listed an artifact's genres nowhere,
    so a misspelt ``--genre`` had no command to point to. ``others``: the options given beside it, which
    describe a dataset (refused)."""
    from movierec.errors import ConfigError
    from movierec.serving.artifact import load_artifact
    from movierec.titles import genre_counts

    if others:
        raise ConfigError(f"--artifact describes the artifact's own data: leave out {', '.join(others)}")
    art = load_artifact(artifact)
    counts = genre_counts(art.to_frame()["genres"])  # most first, as a dataset's
    info = {
        "artifact": str(artifact),
        "model": art.model_name,
        "dataset": art.dataset_name,
        "n_users": art.n_users,
        "n_items": art.n_items,
        "genres": counts,
    }
    if as_json:
        print_json(info)
        return
    table = Table(title=f"artifact {artifact}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for what, value in [("model", art.model_name), ("trained on", art.dataset_name)]:
        table.add_row(what, escape(str(value)))
    table.add_row("users", f"{art.n_users:,}")
    table.add_row("items", f"{art.n_items:,}")
    print_table(table)
    if counts:
        _print_genres(counts)
    else:
        print_prose("Its items have no genres: --genre has nothing to filter by.")


def _print_genres(counts: dict[str, int]) -> None:
    """The genres ``--genre`` takes, with the movies rated in each, most first, as prose under the table,
    wrapped at the console's width (at most 80) with each 'Drama 4,361' kept whole: the CLI listed them
    nowhere but in a refusal of 220 columns."""
    width = min(max(40, console.width), 80)
    lines = [f"{len(counts)} genres (movies rated in each), as --genre takes them:", ""]
    for item in (f"{g} {n:,}" for g, n in counts.items()):
        if lines[-1] and len(lines[-1]) + 3 + len(item) > width:
            lines.append("")
        lines[-1] = f"{lines[-1]} · {item}" if lines[-1] else item
    console.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)


def _span_text(first: str, last: str) -> str:
    """How long a log spans (ISO times), in the unit that says it: '22.5 years' (ml-latest-small read
    '8,213.8 days', a number nobody reads as a span), '3 months' from two months on, '12 days' (a whole
    number shows no decimals, as a count does elsewhere), and under a day in hours or minutes ('5.5 hours',
    '33 minutes', 'under a minute'): a log of one afternoon read '(0.0 days)'. ``--json``'s ``days`` stays
    the count of days."""
    import pandas as pd

    seconds = (pd.Timestamp(last) - pd.Timestamp(first)).total_seconds()
    day = 86400.0
    units = (  # (unit, said from, size, decimals)
        ("year", 365.25 * day, 365.25 * day, 1),
        ("month", 61 * day, 30.4375 * day, 1),
        ("day", day, day, 1),
        ("hour", 3600.0, 3600.0, 1),
        ("minute", 60.0, 60.0, 0),
    )
    for unit, start, size, digits in units:
        if seconds >= start:
            n = round(seconds / size, digits)
            shown = f"{n:,.0f}" if float(n).is_integer() else f"{n:,.{digits}f}"
            return f"{shown} {unit}{'' if n == 1 else 's'}"
    return "under a minute"


def _checksum_of(source: str) -> str:
    """What ``data info``'s sha256 is a checksum of: the ratings file's bytes, as read (a folder's ratings
    file, named). Results and studies record it to name the data they came from, so it is of the bytes,
    not of the ratings read: the same ratings saved with a BOM or CRLF line ends are another file, with
    another checksum. The table said "sha256 (ratings)", which read as a checksum of the ratings."""
    from movierec.datasets import _layout
    from movierec.errors import DataError

    folder = Path(source)
    if folder.is_dir():
        try:
            return f"{_layout(folder)[0]}'s bytes"
        except DataError:
            pass
    return "the file's bytes"


def _plot(inter: Any, plot: Path) -> str:
    """Draw ``data info --plot``'s chart and say what it shows: the rating histogram, or, for data without
    ratings (``--rating-col ''``, every row a 1), interactions per user and per item on log-log axes, the
    report's long tail (since 6ac6dc0): a histogram of one bar of 1s described nothing."""
    from movierec.viz.charts import long_tail, rating_histogram

    if not inter.interactions_only:
        rating_histogram(inter, plot)
        return "histogram"
    long_tail(inter.user_counts(), inter.item_counts(), plot, rows="interactions")
    return "interactions per user and per item (the data has no ratings to histogram)"


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")


_QUANTILES = (("min", "q0"), ("median", "q50"), ("p90", "q90"), ("max", "q100"))
