"""Ratings files a person brings, read without surprises: no header row, and bad rows counted.

A file whose first line is all numbers (ml-100k's u.data saved as ratings.tsv, an export without column
names) was refused: "the first line looks like data, not a header ... add a header row". Now it is read
without one, its columns by position (user, item, rating[, timestamp]; ``--user-col 2`` … picks others), with
a note saying so and how to say otherwise (``--header``; ``--no-header`` / ``header=False`` forces it). Bad
rows (a rating that is no number, an empty id, …) were named one at a time, the first only: now the message
counts them all and names the first three by their line in the file, blank lines counted.

The files here are written by the tests with invented values (ml-100k's rows are never committed).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer

import movierec
from clihelp import run_process
from movierec.cli import app
from movierec.errors import DataError
from movierec.experiment import DatasetConfig


def _u_data(path: Path, users: int = 40) -> Path:
    """ml-100k's u.data layout, tab-separated ``user item rating timestamp`` without a header: each user
    rates 12 of 30 items, two tastes, invented ratings and times."""
    rows = []
    for u in range(1, users + 1):
        for j in range(12):
            item = (u * 3 + j * 7) % 30 + 1  # 7 is prime to 30: 12 distinct items
            rating = 5 if (item % 2) == (u % 2) else 2
            rows.append(f"{u}\t{item}\t{rating}\t{881_250_000 + u * 1000 + j}")
    path.write_text("\n".join(dict.fromkeys(rows)) + "\n")
    return path


@pytest.fixture(scope="module")
def tsv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _u_data(tmp_path_factory.mktemp("headerless") / "ratings.tsv")


def _one_line(proc) -> str:  # type: ignore[no-untyped-def]
    """The single error line of a failed run (exit 2, no traceback)."""
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0].removeprefix("movierec: error: ")


def test_a_headerless_file_loads_by_position_with_one_note_and_header_overrides(tsv: Path) -> None:
    first = tsv.read_text().splitlines()[0]
    note = (
        f"note: {tsv.name} has no header row (its first line, {first!r}, is all numbers): columns read by "
        "position, 1 the user, 2 the item, 3 the rating, 4 the timestamp; if that line names the columns, "
        "say so (--header)"
    )  # the CLI's own setting (one line named both doors'; Python's notes say header=True)
    proc = run_process("data", "info", "--ratings", tsv.name, "--json", cwd=tsv.parent)
    assert proc.returncode == 0, proc.stderr
    assert " ".join(proc.stderr.split()) == note  # one note, the only thing on stderr
    info = json.loads(proc.stdout)
    assert (info["n_users"], info["n_items"], info["n_ratings"]) == (40, 30, 480)
    assert info["rating_scale"] == [2.0, 5.0] and info["time_span"] is not None

    quiet = run_process("data", "info", "--ratings", tsv.name, "--json", "--no-header", cwd=tsv.parent)
    assert quiet.returncode == 0 and quiet.stderr == "" and json.loads(quiet.stdout) == info  # asked: no note

    refused = _one_line(run_process("data", "info", "--ratings", tsv.name, "--header", cwd=tsv.parent))
    assert refused.startswith(f"{tsv.name}: the first line looks like data, not a header"), refused
    assert refused.endswith("its columns by position (--no-header)"), refused

    # the same file through a command that trains: the note once, the threshold as on any rated data
    proc = run_process("compare", "--ratings", tsv.name, "--models", "popularity", "--json", cwd=tsv.parent)
    assert proc.returncode == 0, proc.stderr
    assert " ".join(proc.stderr.split()).count("has no header row") == 1, proc.stderr
    rows = json.loads(proc.stdout)
    assert rows and all(r["threshold"] == 4.0 for r in rows)

    # Python: header=None guesses, False forces (and is recorded, so best.toml loads it the same way)
    ds = movierec.load(tsv)
    assert ds.notes[0] == note.removeprefix("note: ").replace(tsv.name, str(tsv), 1).replace(
        "(--header)", "(header=True)"
    )
    forced = movierec.load(tsv, header=False)
    assert forced.load_options == {"header": False} and forced.sha256 == ds.sha256
    again = DatasetConfig.of(str(tsv), forced.load_options).load()
    assert again.interactions.n_ratings == 480 and not any("header" in n for n in again.notes)
    assert ds.load_options == {}  # guessed: nothing to record, the next load guesses the same


def test_every_command_that_reads_a_ratings_file_takes_header_from_the_one_place() -> None:
    """--header/--no-header and --sep are RatingsSource options (cli.common.ratings_options), so each
    command that takes --ratings has them; spark train, which reads its --ratings with Spark (URIs), declares
    the same two and reads them by the same rule (datasets.parsers.headerless_columns, parse_delimiter)."""
    found: dict[str, bool] = {}

    def walk(cmd: object, path: list[str]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
            return
        opts = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}  # type: ignore[attr-defined]
        if "--ratings" in opts:
            found[" ".join(path)] = {"--header", "--no-header", "--sep"} <= opts

    walk(typer.main.get_command(app), [])
    assert {"compare", "report", "tune", "export", "recommend", "cold-users", "data info"} <= set(found)
    assert "spark train" in found  # registered whether or not pyspark is installed
    assert [name for name, has in found.items() if not has] == [], found


def test_columns_by_position_and_field_counts_that_do_not_fit_are_one_line(tmp_path: Path) -> None:
    # user, item, timestamp, rating: --rating-col 4 places the rating, the timestamp takes what is left
    odd = tmp_path / "odd.csv"
    odd.write_text("1,10,964982703,4.5\n1,20,964982704,3\n2,10,964982705,1\n")
    ds = movierec.load(odd, rating_col="4")
    assert list(ds.interactions.ratings) == [4.5, 3.0, 1.0]
    assert list(ds.interactions.timestamps) == [964982703, 964982704, 964982705]
    assert "columns read by position, 1 the user, 2 the item, 4 the rating, 3 the timestamp" in ds.notes[0]

    pairs = tmp_path / "pairs.csv"  # who watched what: user, item only, every row a positive
    pairs.write_text("1,10\n1,20\n2,10\n")
    assert movierec.load(pairs, rating_col=None).interactions.interactions_only

    five = tmp_path / "five.csv"
    five.write_text("1,10,4,964982703,7\n2,10,3,964982704,7\n")
    want = (
        "five.csv has no header row, so its columns are taken by position as user, item, rating and optionally "
        "timestamp: 3 or 4 fields, but its first line has 5: name each column by position "
    )
    msg = _one_line(run_process("data", "info", "--ratings", five.name, cwd=tmp_path))
    assert msg == want + "(--user-col 1 --item-col 2 --rating-col 3 --time-col 4), or add a header row"
    with pytest.raises(DataError) as exc:  # Python's words
        movierec.load(five)
    assert str(exc.value) == (
        f"{tmp_path}/{want}(user_col=1, item_col=2, rating_col=3, time_col=4), or add a header row"
    )
    named = _one_line(run_process("data", "info", "--ratings", five.name, "--user-col", "user", cwd=tmp_path))
    assert named.startswith(
        "five.csv has no header row, so --user-col user names no column: name columns by "
    )
    ok = run_process(
        "data", "info", "--ratings", five.name, "--json", "--user-col", "1", "--item-col", "2",
        "--rating-col", "3", "--time-col", "4", cwd=tmp_path,
    )  # fmt: skip
    assert ok.returncode == 0 and json.loads(ok.stdout)["n_ratings"] == 2, ok.stderr  # all placed: 5 unused

    text_ids = tmp_path / "text_ids.csv"  # text ids look like names: the refusal names --no-header too
    text_ids.write_text("u1,m10,4\nu1,m20,3\nu2,m10,5\n")
    msg = _one_line(run_process("data", "info", "--ratings", text_ids.name, cwd=tmp_path))
    assert msg.endswith("(or --no-header if the first line is data, not column names)"), msg
    assert movierec.load(text_ids, header=False).interactions.n_ratings == 3

    short = tmp_path / "short.tsv"  # a later line with a field fewer: its line, as for any file
    short.write_text("1\t10\t4\t964982703\n2\t10\t3\t964982704\n3\t10\t5\n")
    msg = _one_line(run_process("data", "info", "--ratings", short.name, cwd=tmp_path))
    assert msg.startswith("short.tsv, line 3: expected 4 '\\t'-separated fields, found 3"), msg


def test_a_headerless_file_in_another_delimiter_says_what_it_is(tmp_path: Path) -> None:
    """Three things a newcomer met with a file of data and no header row, each misleading before:

    * u.data's tab-separated rows saved as ratings.csv (comma by its name) read as one column whose name was
      the first line: "missing column 'userId' (found: 1 10 4 964982703); the header looks '\\t'-separated",
      sending the reader looking for a header the file does not have; now it says the first line is data
      in another delimiter, and --sep tab (delimiter='\\t' in Python) reads it;
    * with --sep '::' the note quoted the first line with the reader's one-character stand-in for '::'
      ('1\\x1f10\\x1f4…');
    * a file of three fields got a second note telling it to "name another column" for the times, a
      column it cannot name (it has no header and no timestamp field)."""
    tabs = tmp_path / "ratings.csv"
    tabs.write_text("1\t10\t4\t964982703\n1\t20\t3\t964982704\n2\t10\t5\t964982705\n")
    msg = _one_line(run_process("data", "info", "--ratings", tabs.name, cwd=tmp_path))
    assert msg == (
        "ratings.csv: its first line, '1\\t10\\t4\\t964982703', looks like '\\t'-separated data, not "
        "','-separated (wrong delimiter?): read it with --sep tab"
    ), msg
    with pytest.raises(DataError, match=r"looks like '\\t'-separated data.*read it with delimiter='\\t'$"):
        movierec.load(tabs)
    ok = run_process("data", "info", "--ratings", tabs.name, "--sep", "tab", "--json", cwd=tmp_path)
    assert ok.returncode == 0 and json.loads(ok.stdout)["n_ratings"] == 3, ok.stderr
    assert "has no header row" in ok.stderr

    dat = tmp_path / "ml1m.csv"  # ml-1m's layout under another name
    dat.write_text("1::10::4::964982703\n2::10::3::964982704\n")
    proc = run_process("data", "info", "--ratings", dat.name, "--sep", "::", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    note = " ".join(proc.stderr.split())
    assert "its first line, '1::10::4::964982703', is all numbers" in note and "x1f" not in note, note

    three = tmp_path / "three.csv"
    three.write_text("1,10,4\n1,20,3\n2,10,5\n")
    proc = run_process("data", "info", "--ratings", three.name, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    notes = " ".join(proc.stderr.split())
    assert "1 the user, 2 the item, 3 the rating;" in notes
    assert "no timestamp field: loaded without times" in notes and "name another column" not in notes, notes
    line = "note: no timestamp field: loaded without times, so no time-based splits"  # one line at 80 columns
    assert line in proc.stderr.splitlines() and len(line) <= 80, proc.stderr
    assert movierec.load(three).notes[1].startswith("no timestamp field: loaded without times, so time-based")
    pairs = tmp_path / "pairs.csv"  # who watched what: two fields, the same note
    pairs.write_text("1,10\n1,20\n2,10\n")
    assert movierec.load(pairs, rating_col=None).notes[1].startswith("no timestamp field: loaded without")


def test_bad_rows_are_counted_and_the_first_three_named_by_their_own_lines(tmp_path: Path) -> None:
    """One bad row named, the first only: a file with six took six runs. Line numbers are the file's own,
    1-based with the header counted, and a blank line (which the reader skips) does not shift them."""
    path = tmp_path / "bad.csv"
    lines = ["userId,movieId,rating", "1,10,4", "", "1,20,good", "2,10,5", ",30,3", "2,30,", "3,10,n/a"]
    lines += ["3,20,4", "4,10,x", "4,20,y"]
    path.write_text("\n".join(lines) + "\n")
    want = (
        "bad.csv: 6 bad rows (empty userId: 1, rating not a number: 5): line 4 (rating 'good'), "
        "line 6 (userId empty), line 7 (rating empty) and 3 more"
    )
    assert _one_line(run_process("data", "info", "--ratings", path.name, cwd=tmp_path)) == want
    # one line of <= 160 columns with 'movierec: error: ' (docs/data.md quotes it): 'not a finite number' made 166
    assert len(f"movierec: error: {want}") <= 160
    with pytest.raises(DataError) as exc:
        movierec.load(path)
    assert str(exc.value) == f"{tmp_path}/{want}"

    # without a header, line 1 is the first row; one bad row reads as before
    plain = tmp_path / "plain.tsv"
    plain.write_text("1\t10\t4\n1\t20\tgood\n2\t10\t5\n")
    msg = _one_line(run_process("data", "info", "--ratings", plain.name, cwd=tmp_path))
    assert msg == "plain.tsv, line 2: rating 'good' is not a finite number"

    # outside a declared scale: counted too, the file's lines
    scale = _one_line(
        run_process("data", "info", "--ratings", path.name, "--rating-scale", "1", "3", cwd=tmp_path)
    )
    assert scale.startswith("bad.csv: 6 bad rows"), scale  # the unreadable rows come first
    path.write_text("userId,movieId,rating\n1,10,4\n\n1,20,2\n2,10,5\n")
    scale = _one_line(
        run_process("data", "info", "--ratings", path.name, "--rating-scale", "1", "3", cwd=tmp_path)
    )
    assert (
        scale
        == "bad.csv: 2 bad rows (rating outside the declared scale 1..3): line 2 (rating 4), line 5 (rating 5)"
    )


def test_a_dataframe_names_its_bad_rows_by_position_and_label() -> None:
    frame = pd.DataFrame(
        {
            "userId": [1, 1, 2, 2, 3],
            "movieId": [10, 20, 10, 20, 10],
            "rating": [4.0, np.nan, 3.0, np.inf, -np.inf],
        },
        index=[100, 101, 102, 103, 104],
    )
    with pytest.raises(DataError) as exc:
        movierec.load(frame, time_col=None)
    assert str(exc.value) == (
        "DataFrame: 3 bad rows (rating not a finite number): row 1 (index 101, rating empty or NaN), "
        "row 3 (index 103, rating inf), row 4 (index 104, rating -inf)"
    )
    with pytest.raises(DataError) as exc:  # a plain index: positions alone
        movierec.load(frame.reset_index(drop=True), time_col=None)
    assert str(exc.value).endswith("row 1 (rating empty or NaN), row 3 (rating inf), row 4 (rating -inf)")


def test_a_headerless_file_whose_first_line_has_an_empty_field_is_still_headerless(tmp_path: Path) -> None:
    """``1,31,,1260759144`` (a rating left out of the first row) was taken for a header, as its empty field
    is no number, and refused as "missing columns 'userId', 'movieId', 'rating' (found: 1, 31, ,
    1260759144)". The first line is judged by the fields that hold something: the file is headerless, and
    the empty rating is refused as a headered file's is, naming its line."""
    from movierec.datasets.parsers import first_line_is_data

    rows = "1,1029,3.0,1260759179\n2,10,4.0,835355493\n"
    no_times = "; a timestamp is seconds since 1970 or an ISO date (2019-11-21), or load without times: "
    for name, first, said, python, cli in (
        ("rating.csv", "1,31,,1260759144", "rating.csv, line 1: rating is missing (empty or NaN)", "", ""),
        (
            "time.csv",
            "1,31,2.5,",
            "time.csv, line 1: timestamp is missing (empty or NaN)",
            f"{no_times}time_col=None",
            f"{no_times}--time-col ''",
        ),
    ):
        (tmp_path / name).write_text(f"{first}\n{rows}")
        assert _one_line(run_process("data", "info", "--ratings", name, cwd=tmp_path)) == said + cli
        with pytest.raises(DataError) as exc:
            movierec.load(tmp_path / name)
        assert str(exc.value) == f"{tmp_path}/{said}{python}"
        headed = tmp_path / f"headed-{name}"  # the same row under a header: the same words, a line on
        headed.write_text(f"userId,movieId,rating,timestamp\n{first}\n{rows}")
        assert (
            _one_line(run_process("data", "info", "--ratings", headed.name, cwd=tmp_path))
            == said.replace(name, headed.name).replace("line 1", "line 2") + cli
        )
    assert first_line_is_data("1,31,,1260759144", ",") and first_line_is_data("1\t31\t\t", "\t")
    assert not first_line_is_data("userId,movieId,,", ",")  # names with a blank: still a header
    assert not first_line_is_data(",,,", ",") and not first_line_is_data("", ",")  # nothing to judge by
