"""Integer timestamps that are not seconds, and a movies DataFrame beside a ratings file.

A notebook's ``df.timestamp.astype("int64")`` of a datetime column gives nanoseconds, a JavaScript or
Kafka export gives milliseconds: those loaded as seconds (year 32,000 in ``data info``, an
OutOfBoundsDatetime traceback for µs and ns, a one-hour session cut at 3.6 seconds). They are read by
their magnitude now (:func:`movierec.interactions.epoch_seconds`), with a note naming the unit.
"""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import movierec
from clihelp import run_process
from movierec.datasets import bundled_path, load, load_ratings_file
from movierec.errors import DataError
from movierec.interactions import Interactions
from movierec.session_eval import last_session
from movierec.split import leave_last_out, temporal_split

PER_SECOND = {"milliseconds": 1_000, "microseconds": 1_000_000, "nanoseconds": 1_000_000_000}


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """ml-latest-small's first 3,000 ratings, timestamps in seconds as the file has them."""
    return pd.read_csv(bundled_path() / "ratings.csv").iloc[:3000].reset_index(drop=True)


def _in(frame: pd.DataFrame, unit: str) -> pd.DataFrame:
    return frame.assign(timestamp=frame["timestamp"] * PER_SECOND[unit])


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_process(*args, cwd=cwd, timeout=120)


@pytest.mark.parametrize("unit", list(PER_SECOND))
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_ratings_file_in_a_finer_unit_loads_as_its_seconds_with_a_note(raw, tmp_path, unit, suffix):
    seconds_file = tmp_path / f"seconds{suffix}"
    finer_file = tmp_path / f"{unit}{suffix}"
    for frame, path in ((raw, seconds_file), (_in(raw, unit), finer_file)):
        if suffix == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
    plain, finer = load_ratings_file(seconds_file), load_ratings_file(finer_file)
    assert np.array_equal(finer.interactions.timestamps, plain.interactions.timestamps)
    assert plain.notes == []
    first = raw["timestamp"].iloc[0] * PER_SECOND[unit]
    assert finer.notes == [
        f"timestamps read as {unit} since 1970 (too large for seconds; the first, {first}, is "
        "2000-07-30 18:45:03 UTC) and stored as whole seconds"
    ]
    # the dates data info shows: 1996 … 2018, not year 28444 (ms) or OutOfBoundsDatetime (µs, ns)
    assert finer.summary()["time_span"] == plain.summary()["time_span"]
    assert finer.summary()["time_span"]["first"].startswith("1996-")


def test_a_datetime_column_as_int64_nanoseconds_loads_from_a_dataframe(raw):
    """``df.timestamp.astype("int64")`` of a datetime column: what a notebook user most often hands over."""
    dates = pd.to_datetime(raw["timestamp"], unit="s").astype("datetime64[ns]")
    ds = load(raw.assign(timestamp=dates.astype("int64")))
    assert np.array_equal(ds.interactions.timestamps, load(raw).interactions.timestamps)
    assert [n.split(" (")[0] for n in ds.notes] == ["timestamps read as nanoseconds since 1970"]
    # a datetime column itself still loads without a note (a287ba1)
    assert load(raw.assign(timestamp=dates)).notes == []


def test_fractional_milliseconds_are_floored_to_whole_seconds(raw):
    frame = raw.assign(timestamp=raw["timestamp"] * 1000.0 + 999.5)
    assert np.array_equal(load(frame).interactions.timestamps, load(raw).interactions.timestamps)


def test_interactions_from_frame_reads_milliseconds_and_warns_once(raw):
    with pytest.warns(UserWarning, match=r"^timestamps read as milliseconds since 1970") as caught:
        inter = Interactions.from_frame(_in(raw, "milliseconds"))
    assert len(caught) == 1
    assert np.array_equal(inter.timestamps, Interactions.from_frame(raw).timestamps)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # seconds: no warning
        Interactions.from_frame(raw)


def test_time_based_splits_of_a_milliseconds_file_equal_the_seconds_file(raw, tmp_path):
    """Temporal and leave-last-out splits order by time, so they agreed already; the last-session split cuts
    sessions at a gap in seconds, and cut milliseconds every 3.6 s (ml-latest-small's first 2,000 ratings: 195
    test ratings instead of 99)."""
    (tmp_path / "s.csv").write_text(raw.to_csv(index=False))
    (tmp_path / "ms.csv").write_text(_in(raw, "milliseconds").to_csv(index=False))
    plain = load_ratings_file(tmp_path / "s.csv").interactions
    finer = load_ratings_file(tmp_path / "ms.csv").interactions
    for split in (lambda i: temporal_split(i, 0.2), leave_last_out, lambda i: last_session(i, "1h")):
        for a, b in zip(split(plain), split(finer), strict=True):
            assert np.array_equal(a.timestamps, b.timestamps) and np.array_equal(a.users, b.users)
    assert temporal_split(finer, at=int(raw["timestamp"].median()))[1].n_ratings > 0  # a cut in seconds


def test_a_column_mixing_seconds_and_milliseconds_is_refused_naming_the_row(raw, tmp_path):
    frame = _in(raw.iloc[:40], "milliseconds")
    frame.loc[7, "timestamp"] = raw["timestamp"].iloc[7]  # one row left in seconds
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    said = (  # the whole message, one line of <= 160 columns with a short file name (it was 256)
        r"timestamp 964982176 is seconds since 1970 \(2000-07-30\), but 39 of 40 are in milliseconds: give "
        r"every timestamp in one unit$"
    )
    with pytest.raises(DataError, match=rf"^{path}, line 9: {said}"):
        load_ratings_file(path)
    with pytest.raises(DataError, match=rf"^DataFrame, row 7: {said}"):
        load(frame)
    with pytest.raises(DataError, match=rf"^data, line 8: {said}"):
        Interactions.from_frame(frame)


def test_a_value_past_year_9999_even_as_nanoseconds_is_refused(raw):
    frame = raw.iloc[:20].assign(timestamp=raw["timestamp"].iloc[:20] * 1e9)
    frame.loc[3, "timestamp"] = 1e21
    with pytest.raises(
        DataError, match=r"^DataFrame, row 3: timestamp 1e\+21 is out of range \(after year 9999 even"
    ):
        load(frame)


def test_the_cli_prints_the_unit_note_and_refuses_a_mixed_file_in_one_line(raw, tmp_path):
    _in(raw, "milliseconds").to_csv(tmp_path / "ms.csv", index=False)
    proc = _cli("data", "info", "--ratings", "ms.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "note: timestamps read as milliseconds since 1970" in proc.stderr + proc.stdout
    assert "1996-06-22 → 2018-08-20" in proc.stdout  # the time span: the dates of the seconds
    mixed = _in(raw.iloc[:40], "milliseconds")
    mixed.loc[7, "timestamp"] = raw["timestamp"].iloc[7]
    mixed.to_csv(tmp_path / "mixed.csv", index=False)
    proc = _cli("data", "info", "--ratings", "mixed.csv", cwd=tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith("movierec: error: mixed.csv, line 9: timestamp 964982176 is seconds")
    assert len(lines[0]) <= 160, lines[0]  # the CLI's one line (it was 255)


# --- load_ratings_file(path, movies=DataFrame) ---------------------------------------------------------


def test_a_movies_dataframe_gives_a_ratings_file_the_titles_a_movies_file_gives(raw, tmp_path):
    raw.to_csv(tmp_path / "ratings.csv", index=False)
    movies_file = bundled_path() / "movies.csv"
    by_file = load_ratings_file(tmp_path / "ratings.csv", movies=movies_file)
    by_frame = load_ratings_file(tmp_path / "ratings.csv", movies=pd.read_csv(movies_file))
    pd.testing.assert_frame_equal(by_frame.movies, by_file.movies)
    assert by_frame.has_titles and by_frame.movies["title"].iloc[0] == "Toy Story (1995)"
    assert movierec.load(tmp_path / "ratings.csv", movies=pd.read_csv(movies_file)).has_titles
    # the path alone would load it without titles: nothing names it as loadable again
    assert by_frame.reload_ref() is None and "movies" not in by_frame.load_options
    assert by_file.reload_ref() == str((tmp_path / "ratings.csv").resolve())


def test_a_movies_dataframe_keyed_by_the_item_column_with_text_ids(tmp_path):
    (tmp_path / "r.csv").write_text("uid,sku,score\nu1,m1,4\nu1,m2,3\nu2,m1,5\nu2,m3,2\n")
    titles = pd.DataFrame(
        {"sku": ["m1", "m2", "m3"], "title": ["A (2001)", "B", "C"], "genres": ["Drama", "", "X|Y"]}
    )
    ds = load_ratings_file(
        tmp_path / "r.csv", user_col="uid", item_col="sku", rating_col="score", movies=titles
    )
    assert ds.movies[["movieId", "title"]].values.tolist() == [["m1", "A (2001)"], ["m2", "B"], ["m3", "C"]]
    assert ds.movies["genres"].tolist() == [["Drama"], [], ["X", "Y"]]


@pytest.mark.parametrize(
    ("movies", "message"),
    [
        (pd.DataFrame({"movieId": [1, 2]}), r"^movies DataFrame: missing column 'title' \(found: movieId\); name the column of titles 'title' \(or primaryTitle, movie_title, movie_name or name\)$"),
        (pd.DataFrame({"movieId": [1, "x"], "title": ["A", "B"]}), r"^movies DataFrame, row 1: movieId 'x' is not a number$"),
        (pd.DataFrame({"id": [1], "title": ["A"]}), r"^movies DataFrame: missing column 'movieId' \(found: id, title\); name its column of movie ids 'movieId', as the ratings' item column is named$"),
    ],
)  # fmt: skip
def test_a_bad_movies_dataframe_is_refused_as_a_file_is_naming_its_row(raw, tmp_path, movies, message):
    raw.to_csv(tmp_path / "ratings.csv", index=False)
    with pytest.raises(DataError, match=message):
        load_ratings_file(tmp_path / "ratings.csv", movies=movies)
