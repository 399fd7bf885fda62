"""``movierec feedback report``: compare the served model versions on the feedback they collected."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from movierec.cli.common import JSON, console, print_json, print_table

# bare 'movierec feedback' shows its commands, as 'movierec data' and 'movierec spark' do (it said
# 'missing command (see …)', the one group that did)
#: serve's --db default (cli/serve.py), so that 'feedback report' run beside serve reads what it wrote
_DEFAULT_DB = "sqlite:///feedback.db"

feedback_app = typer.Typer(
    help="Inspect the feedback store: compare model versions on live ratings.", no_args_is_help=True
)


@feedback_app.command("report")
def report_cmd(
    db: str = typer.Option(
        _DEFAULT_DB,  # serve's default and variable: 'serve' then 'feedback report' read the same store
        "--db",
        envvar="MOVIEREC_DB",
        help="Feedback database URL (or a SQLite file path) that serve wrote; serve's default, the "
        "working folder's feedback.db, when not given.",
    ),
    liked: float = typer.Option(4.0, "--liked", help="A rating at or above this counts as liked."),
    artifacts: list[Path] = typer.Option(
        [],
        "--artifact",
        metavar="FOLDER",  # as serve's --artifact: typer wrote the type, '<list[Path]>'
        help="An artifact folder that was served (repeatable): names the model of its version where the "
        "store's rows do not (rows stored before movierec recorded it).",
    ),
    as_json: bool = JSON,
) -> None:
    """Per model version and its model: ratings, users, mean rating and liked share with 95% intervals (users
    resampled with all their ratings), and each version's difference from the first."""
    from movierec.provenance import sqlite_file
    from movierec.serving.abtest import compare_versions
    from movierec.serving.store import normalise_url, read_feedback, shown_url

    url = shown_url(normalise_url(db))  # printed and in --json: never the password
    named = _models_of(artifacts)
    default = sqlite_file(normalise_url(_DEFAULT_DB))
    if db == _DEFAULT_DB and default is not None and not default.is_file():  # said "missing option '--db'"
        from movierec.errors import DataError

        raise DataError(
            f"no feedback database at {_DEFAULT_DB} ({default.absolute()}), serve's default --db; run "
            "this where serve ran, or give --db with the database serve wrote (its banner names it)"
        )
    frame = read_feedback(db, "--db", with_version=True)
    if len(frame) and liked > float(frame["rating"].max()):  # every share 0% [0%, 9%]: a table of nothing
        from movierec.errors import ConfigError

        raise ConfigError(
            f"--liked {liked:g} is above every stored rating (the highest is {float(frame['rating'].max()):g}), "
            "so none counts as liked; give a rating on the store's scale (the default is 4)"  # <= 160 columns
        )
    table = compare_versions(frame, liked=liked)
    if not table.empty:
        table["model"] = [
            # a version without a stored model is NaN beside versions with one (truthy: it printed 'nan')
            m if isinstance(m, str) and m else named.get(str(v))
            for m, v in zip(table["model"], table["modelVersion"], strict=True)
        ]
    if as_json:
        print_json(
            {
                "db": url,
                "liked": liked,
                "versions": [
                    {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
                    for row in table.to_dict(orient="records")
                ],
            }
        )
        return
    if table.empty:
        console.print(f"no feedback in {escape(str(url))} yet")
        return

    print_table(_version_table(table, url, liked))


def _interval_cell(row: dict[str, Any], m: str, lo: str, hi: str, fmt: str, unit: str = "") -> str:
    """The value (``unit`` after it), its interval on the line below as compare prints one, ``[lo,hi]``;
    ``fmt`` 'pp': a difference of two shares in percentage points ('+17.1 pp', not '+17.1%', which reads as
    a relative gain)."""
    v = row.get(m)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"

    def shown(x: float) -> str:
        return format(100 * x, "+.1f") if fmt == "pp" else format(x, fmt)

    if math.isnan(row[lo]):
        return shown(v) + unit
    return f"{shown(v)}{unit}\n[{shown(row[lo])},{shown(row[hi])}]"


def _version_table(table: Any, url: str, liked: float) -> Any:
    """The versions side by side within 80 columns, each interval on one line under its value: the two
    counts share a column (ratings over users, as version over model), and the columns are set apart as
    compare's tables are (no outer frame, two spaces between). Seven framed columns of intervals such as
    '[50.0%, 83.3%]' took about 100 columns, so at 80 every interval broke over two lines ('[50.0%,' /
    '83.3%]'). A wider value than any seen still fits: the columns after the version may then fold."""
    from rich import box
    from rich.table import Table

    out = Table(
        title=f"feedback by model version ({url})",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    # whole on one line: it is what /health, X-Model-Version and /metrics name and an operator copies (at 80
    # columns a fold split serve's 12-hex versions as "7596d1bc65" / "03")
    out.add_column("version\nmodel", no_wrap=True)
    out.add_column("ratings\nusers", justify="right", no_wrap=True)
    for col in ("mean rating", f"liked (≥{liked:g})", "Δ mean", "Δ liked"):
        out.add_column(col, justify="right")
    for i, row in enumerate(table.to_dict(orient="records")):
        first = i == 0
        out.add_row(
            f"{row['modelVersion']}\n{row['model'] if isinstance(row.get('model'), str) else '?'}",
            f"{row['ratings']:,}\n{row['users']:,}",
            _interval_cell(row, "meanRating", "meanLow", "meanHigh", ".2f"),
            _interval_cell(row, "likedShare", "likedLow", "likedHigh", ".1%"),
            "baseline" if first else _interval_cell(row, "meanDiff", "meanDiffLow", "meanDiffHigh", "+.2f"),
            "" if first else _interval_cell(row, "likedDiff", "likedDiffLow", "likedDiffHigh", "pp", " pp"),
        )
    out.caption = (
        "brackets: 95% intervals, users resampled with all their ratings; Δ: the difference from the first "
        "version (the baseline), Δ liked in percentage points (pp) of the liked shares"
    )
    if table["model"].isna().any():
        out.caption += "; model ?: rows stored before the model was recorded (name it with --artifact DIR)"
    return out


def _models_of(artifacts: list[Path]) -> dict[str, str]:
    """``{version: model name}`` from the manifests of ``--artifact`` folders (only manifest.json is read)."""
    import json

    from movierec.errors import DataError

    out: dict[str, str] = {}
    for folder in artifacts:
        mpath = folder / "manifest.json"
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
            out[str(manifest["model_version"])] = str(manifest["model"]["name"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            why = (
                "no manifest.json"
                if isinstance(exc, FileNotFoundError)
                else f"unreadable manifest.json ({exc})"
            )
            raise DataError(
                f"--artifact {folder}: {why}; give an artifact folder that movierec export wrote"
            ) from None
    return out


def register(app: typer.Typer) -> None:
    app.add_typer(feedback_app, name="feedback")
