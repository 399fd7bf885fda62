"""Parsers on the tiny hand-written fixtures in every MovieLens format and on custom files."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movierec.datasets import load, load_ratings_file
from movierec.datasets.parsers import parse_year, read_movies, read_ratings, read_tags
from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions

FIX = Path(__file__).resolve().parents[1] / "fixtures"

# ml-100k's layout (u.data tab-separated; u.item latin-1, '|' with 19 genre flags), written at test
# time with invented values: files named u.data/u.item are never committed (GroupLens' ml-100k terms).
_U_DATA = (
    "1\t1\t5\t881000001\n1\t2\t3\t881000002\n2\t1\t4\t881000003\n3\t2\t1\t881000004\n3\t3\t2\t881000005\n"
)
_FLAGS = {1: [3, 4, 5], 2: [5, 8, 14], 3: [0]}
_U_ITEM_TITLES = {1: "Toy Story (1995)", 2: "Cin\u00e9ma Paradiso (1988)", 3: "unknown"}


@pytest.fixture
def ml_u(tmp_path: Path) -> Path:
    """A five-rating folder in ml-100k's layout."""
    folder = tmp_path / "ml-u"
    folder.mkdir()
    (folder / "u.data").write_text(_U_DATA)
    lines = []
    for movie, title in _U_ITEM_TITLES.items():
        flags = ["1" if g in _FLAGS[movie] else "0" for g in range(19)]
        date = "" if title == "unknown" else f"01-Jan-{title[-5:-1]}"
        lines.append("|".join([str(movie), title, date, "", "http://example.org", *flags]))
    (folder / "u.item").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return folder


# --- MovieLens csv layout (latest, 20m, 25m, 32m) -------------------------------------------


def test_ratings_csv():
    df = read_ratings(FIX / "ml-csv" / "ratings.csv")
    assert list(df.columns) == ["userId", "movieId", "rating", "timestamp"]
    assert len(df) == 8
    assert df["rating"].dtype == np.float32 and df["timestamp"].dtype == np.int64
    assert df.iloc[1].tolist() == [1, 3, 4.5, 964981247]
    assert df["rating"].min() == 0.5


def test_movies_csv_years_genres_and_quoted_titles():
    m = read_movies(FIX / "ml-csv" / "movies.csv")
    assert m["movieId"].tolist() == [1, 3, 6, 50, 99]
    row = m.set_index("movieId").loc[50]
    assert row["title"] == "Usual Suspects, The (1995)" and row["year"] == 1995
    assert row["genres"] == ["Crime", "Mystery", "Thriller"]
    unrated = m.set_index("movieId").loc[99]
    assert unrated["genres"] == [] and pd.isna(unrated["year"])


def test_tags_csv_kept_per_user_and_movie():
    t = read_tags(FIX / "ml-csv" / "tags.csv")
    assert t[["userId", "movieId", "tag"]].values.tolist() == [
        [1, 1, "pixar"],
        [1, 1, "fun"],
        [3, 50, "twist ending, great"],
    ]


def test_links_csv_is_readable_and_load_uses_the_folder():
    links = pd.read_csv(FIX / "ml-csv" / "links.csv", dtype={"imdbId": str})
    assert links["imdbId"].tolist()[0] == "0114709"  # leading zeros kept when read as text
    ds = load(FIX / "ml-csv")
    assert ds.interactions.n_ratings == 8 and ds.n_catalog_items == 5 and len(ds.tags) == 3
    assert ds.summary()["n_items"] == 4  # movie 99 has no rating
    table = ds.item_table()
    assert table.set_index("movieId").loc[1, "title"] == "Toy Story (1995)"


# --- ml-1m / ml-10m '::' layout -------------------------------------------------------------


def test_dat_layout_with_latin1_titles():
    ds = load(FIX / "ml-dat")
    assert ds.interactions.n_ratings == 5 and ds.interactions.n_users == 3
    movies = ds.movies.set_index("movieId")
    assert movies.loc[2, "title"] == "Misérables, Les (1995)"  # latin-1 byte 0xE9 decoded
    assert movies.loc[1, "genres"] == ["Animation", "Children's", "Comedy"]
    assert ds.tags["tag"].tolist() == ["pixar", "long"]
    df = read_ratings(FIX / "ml-dat" / "ratings.dat", fmt="dat")
    assert df.iloc[0].tolist() == [1, 1, 5.0, 978300760]


# --- ml-100k layout -------------------------------------------------------------------------


def test_u_data_and_u_item_genre_flags(ml_u: Path):
    ds = load(ml_u, rating_scale=(1.0, 5.0))
    assert ds.interactions.n_ratings == 5 and ds.interactions.rating_scale == (1.0, 5.0)
    movies = ds.movies.set_index("movieId")
    assert movies.loc[1, "genres"] == ["Animation", "Children", "Comedy"]
    assert movies.loc[2, "title"] == "Cinéma Paradiso (1988)"
    assert movies.loc[2, "genres"] == ["Comedy", "Drama", "Romance"]
    assert movies.loc[3, "genres"] == []  # only the 'unknown' flag
    assert ds.tags is None


@pytest.mark.parametrize(
    ("title", "year"),
    [
        ("Toy Story (1995)", 1995),
        ("Babylon 5 (1994-1998)", 1994),
        ("Cosmos", None),
        ("Heat (1995) ", 1995),
        (None, None),
    ],
)
def test_parse_year(title, year):
    assert parse_year(title) == year


# --- custom files ---------------------------------------------------------------------------


def test_custom_csv_with_string_ids_and_iso_dates():
    ds = load_ratings_file(
        FIX / "custom" / "ratings_strings.csv",
        user_col="user",
        item_col="item",
        rating_col="score",
        time_col="when",
    )
    inter = ds.interactions
    assert sorted(inter.user_map.ids.tolist()) == ["alice", "bob", "carol"]
    assert inter.item_map.index("tt0114709") >= 0
    frame = inter.to_frame()
    alice = frame[frame["userId"] == "alice"].set_index("movieId")
    assert alice.loc["tt0113228", "rating"] == 2.5
    assert alice.loc["tt0113228", "timestamp"] == int(pd.Timestamp("2019-11-22T10:00:00Z").timestamp())
    assert alice.loc["tt0114709", "timestamp"] == int(pd.Timestamp("2019-11-21", tz="UTC").timestamp())


def test_custom_tsv_and_parquet_agree(tmp_path):
    kw = {"user_col": "uid", "item_col": "iid", "rating_col": "stars", "time_col": "ts"}
    tsv = load_ratings_file(FIX / "custom" / "ratings.tsv", **kw).interactions.to_frame()
    pq = tmp_path / "ratings.parquet"
    pd.read_csv(FIX / "custom" / "ratings.tsv", sep="\t").to_parquet(pq)
    parquet = load_ratings_file(pq, **kw).interactions.to_frame()
    pd.testing.assert_frame_equal(tsv, parquet)
    assert tsv["userId"].tolist() == [10, 10, 20]


def test_custom_without_timestamps():
    ds = load_ratings_file(FIX / "custom" / "ratings_nots.csv", time_col=None)
    assert ds.interactions.timestamps is None and ds.interactions.n_ratings == 3


def test_custom_dat_and_u_data_by_suffix(tmp_path, ml_u: Path):
    assert load_ratings_file(FIX / "ml-dat" / "ratings.dat").interactions.n_ratings == 5
    assert load_ratings_file(ml_u / "u.data").interactions.n_ratings == 5


def test_rating_scale_inferred_or_declared():
    inferred = load_ratings_file(FIX / "ml-csv" / "ratings.csv").interactions.rating_scale
    assert inferred == (0.5, 5.0)
    with pytest.raises(
        DataError,
        match=r"ratings.csv: 6 bad rows \(rating outside the declared scale 1..3\): line 2 \(rating 4\), "
        r"line 3 \(rating 4.5\), line 5 \(rating 5\) and 3 more$",
    ):
        load_ratings_file(FIX / "ml-csv" / "ratings.csv", rating_scale=(1.0, 3.0))


@pytest.mark.parametrize(
    ("scale", "needle"),
    [
        ((float("nan"), 5.0), "rating scale nan 5: MIN and MAX must be finite numbers"),
        ((1.0, float("inf")), "rating scale 1 inf: MIN and MAX must be finite numbers"),
        ((5.0, 1.0), "rating scale 5 1 is empty: MIN must be below MAX"),
        ((3.0, 3.0), "rating scale 3 3 is empty: MIN must be below MAX"),
        (("one", 5), "give two numbers, MIN and MAX"),
    ],
)
def test_a_rating_scale_that_is_no_scale_is_refused(scale, needle):
    """``load(path, rating_scale=(nan, 5))`` was accepted (nan compares false, so no rating was out of it)
    and the dataset reported a scale of "nan – 5"."""
    frame = pd.DataFrame({"userId": [1, 1, 2], "movieId": [1, 2, 1], "rating": [4.0, 3.0, 5.0]})
    for source in (FIX / "ml-csv" / "ratings.csv", FIX / "ml-csv", frame):
        with pytest.raises(ConfigError, match=re.escape(needle)):
            load(source, rating_scale=scale)
    with pytest.raises(ConfigError, match=re.escape(needle)):
        load_ratings_file(FIX / "ml-csv" / "ratings.csv", rating_scale=scale)


def test_one_column_named_for_two_roles_is_refused(tmp_path):
    """``load("good.csv", user_col="movieId")`` read movieId as user and item alike and collapsed the ratings."""
    good = tmp_path / "good.csv"
    good.write_text("userId,movieId,rating\n1,1,4\n1,2,3\n2,1,5\n2,3,2\n3,2,4\n")
    both = "user, item and rating columns must be different: 'movieId' is both the user and the item column"
    with pytest.raises(DataError, match=re.escape(f"good.csv: {both}")):
        load(good, user_col="movieId")
    with pytest.raises(DataError, match=re.escape(f"DataFrame: {both}")):
        load(pd.read_csv(good), user_col="movieId")
    with pytest.raises(DataError, match="'rating' is both the user and the rating column"):
        load_ratings_file(good, user_col="rating", rating_col="rating")
    with pytest.raises(DataError, match="'userId' is both the user and the item column"):
        Interactions.from_frame(pd.read_csv(good), item_col="userId", time_col=None)


def test_duplicates_keep_latest_and_are_counted():
    ds = load_ratings_file(FIX / "bad" / "duplicates.csv")
    frame = ds.interactions.to_frame().set_index(["userId", "movieId"])
    assert frame.loc[(1, 1), "rating"] == 2.0  # timestamp 300 is the latest of 100/300/200
    assert frame.loc[(2, 1), "rating"] == 3.0  # timestamp 100 beats 50
    assert ds.interactions.dropped_duplicates == 3
    assert ds.summary()["dropped_duplicates"] == 3 and "dropped 3 duplicate" in ds.notes[0]


def test_a_count_of_duplicates_is_written_as_every_other_count(tmp_path):
    """A 1M-row export said 'note: dropped 71681 duplicate (user, item) ratings' above a table and a
    repr that write '71,681': the note groups its thousands too."""
    path = tmp_path / "clicks.csv"
    path.write_text(
        "userId,movieId,rating,timestamp\n" + "".join(f"1,1,4,{t}\n" for t in range(1_201)) + "2,1,3,5\n"
    )
    ds = load(path)
    assert ds.interactions.dropped_duplicates == 1_200
    assert ds.notes == ["dropped 1,200 duplicate (user, item) ratings, kept the latest"]
    assert "1,200 duplicates dropped" in repr(ds)


# --- bad input: one readable line naming file and line --------------------------------------

BAD = [
    ("empty.csv", r"empty.csv: file is empty"),
    ("header_only.csv", r"header_only.csv: no ratings \(header only\)"),
    ("missing_column.csv", r"missing column 'rating' \(found: userId, movieId, timestamp\).*rating_col="),
    (
        "misnamed_column.csv",
        r"missing columns 'userId', 'movieId' \(found: user, movie, rating, timestamp\); name them with user_col='user', item_col='movie'$",
    ),
    ("nonnumeric_rating.csv", r"nonnumeric_rating.csv, line 3: rating 'good' is not a finite number"),
    ("nan_rating.csv", r"nan_rating.csv, line 4: rating is missing"),
    ("inf_rating.csv", r"inf_rating.csv, line 3: rating inf is not a finite number"),
    ("negative_timestamp.csv", r"negative_timestamp.csv, line 3: timestamp -5 is negative"),
    (
        "bad_timestamp.csv",
        r"bad_timestamp.csv, line 3: timestamp 'yesterday' is neither a number nor an ISO date",
    ),
    ("semicolon.csv", r"semicolon.csv: missing column 'userId'.*looks ';'-separated.*delimiter=';'$"),
    ("latin1.csv", r"latin1.csv, line 3: text is not valid UTF-8"),
    (
        "tabs.dat",
        r"tabs.dat, line 1: expected '::'-separated fields "
        r"\(it looks '\\t'-separated: delimiter='\\t'\)$",
    ),
    ("short_line.dat", r"short_line.dat, line 2: expected 4 '::'-separated fields, found 3"),
]


@pytest.mark.parametrize(("name", "pattern"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_file_and_line(name, pattern):
    with pytest.raises(DataError, match=pattern) as err:
        load_ratings_file(FIX / "bad" / name)
    assert "\n" not in str(err.value)


def test_a_rating_column_with_no_value_names_the_load_without_ratings(tmp_path, capsys):
    """An export of who watched what with an empty ``rating`` column was refused as every row bad ('4 bad
    rows (rating not a finite number): line 2 (rating empty), …'), which never said such data loads as
    interactions; now one line says so, in each caller's spelling, and the load it names works."""
    from clihelp import run_cli

    path = tmp_path / "watched.csv"
    path.write_text("userId,movieId,rating,timestamp\n1,10,,5\n1,20,,6\n2,10,,7\n2,30, ,8\n")
    said = (
        "watched.csv: every rating is empty (column 'rating', 4 rows): for data without ratings, read it with"
    )
    with pytest.raises(DataError) as err:
        load(path)
    assert str(err.value).endswith(
        f"{said} rating_col=None (every row a positive of 1), or name the column of ratings with rating_col='COLUMN'"
    )
    with pytest.raises(DataError) as err:
        load(pd.read_csv(path))
    assert str(err.value).startswith("DataFrame: every rating is empty (column 'rating', 4 rows)")
    assert "rating_col=None" in str(err.value) and "--rating-col" not in str(err.value)
    code, _, stderr = run_cli(["data", "info", "--ratings", str(path)], capsys)
    assert code == 2 and "Traceback" not in stderr
    assert " ".join(stderr.split()).endswith(
        f"{said} --rating-col '' (every row a positive of 1), or name the column of ratings with --rating-col COLUMN"
    )
    assert load(path, rating_col=None).interactions.n_ratings == 4
    path.write_text("userId,movieId,rating,timestamp\n1,10,,5\n1,20,good,6\n2,10,,7\n")  # one value: bad rows
    with pytest.raises(DataError, match=r"watched.csv: 3 bad rows \(rating not a number\)"):
        load(path)


def test_timestamps_a_file_cannot_read_name_the_load_without_times(tmp_path, capsys):
    """A spreadsheet's dd/mm/yyyy dates stopped with '3 bad rows (timestamp neither a number nor an ISO
    date): line 2 (timestamp '21/11/2019'), …' and nothing after: no word of the forms a time takes nor of
    loading the ratings without them. Now the line says both, in each door's spelling, and that load works;
    a file with a bad rating as well is told only its rows (leaving out the times would not mend it)."""
    from clihelp import run_cli

    path = tmp_path / "export.csv"
    path.write_text("userId,movieId,rating,timestamp\n1,10,4,21/11/2019\n1,20,3,22/11/2019\n2,10,5,\n")
    rows = (
        "export.csv: 3 bad rows (timestamp neither a number nor an ISO date): "
        "line 2 (timestamp '21/11/2019'), line 3 (timestamp '22/11/2019'), line 4 (timestamp empty)"
    )
    forms = "; a timestamp is seconds since 1970 or an ISO date (2019-11-21), or load without times: "
    with pytest.raises(DataError) as err:
        load(path)
    assert str(err.value) == f"{path.parent}/{rows}{forms}time_col=None"
    code, _, stderr = run_cli(["data", "info", "--ratings", str(path)], capsys)
    assert (
        code == 2 and " ".join(stderr.split()) == f"movierec: error: {path.parent}/{rows}{forms}--time-col ''"
    )
    assert load(path, time_col=None).interactions.n_ratings == 3
    both = tmp_path / "both.csv"
    both.write_text("userId,movieId,rating,timestamp\n1,10,good,5\n1,20,3,21/11/2019\n")
    with pytest.raises(DataError) as err:
        load(both)
    assert str(err.value).endswith("line 2 (rating 'good'), line 3 (timestamp '21/11/2019')")


def test_a_movies_file_that_titles_few_rated_movies_says_so(tmp_path, capsys):
    """A movies file of another catalogue version titling 164 of 5,017 rated movies loaded without a word,
    and every list showed 'movieId 589' under a title column; a file sharing no id at all is refused. Now
    one note says how many it titles and names an untitled one; half or more titled says nothing."""
    from clihelp import run_cli

    ratings = tmp_path / "r.csv"
    ratings.write_text(
        "userId,movieId,rating\n"
        + "".join(f"{u},{m},{1 + (u + m) % 5}\n" for u in (1, 2) for m in range(1, 11))
    )
    few = tmp_path / "few.csv"
    few.write_text("movieId,title\n1,One (1999)\n2,Two (1999)\n3,Three (1999)\n99,Unrated (1999)\n")
    said = "titles 3 of the 10 rated movies; the others are named by their id (movieId 4): check that its ids are"
    assert f"{few} {said} the ratings' own" in load(ratings, movies=few).notes
    frame = pd.read_csv(few)
    assert f"movies DataFrame {said} the ratings' own" in load(pd.read_csv(ratings), movies=frame).notes
    code, _, stderr = run_cli(["data", "info", "--ratings", str(ratings), "--movies", str(few)], capsys)
    assert code == 0 and f"note: {few} {said} the ratings' own" in " ".join(stderr.split())
    half = tmp_path / "half.csv"
    half.write_text("movieId,title\n" + "".join(f"{m},M{m} (1999)\n" for m in range(1, 6)))
    assert not [n for n in load(ratings, movies=half).notes if "titles" in n]


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match=r"nope.csv: no such file"):
        load_ratings_file(tmp_path / "nope.csv")
    with pytest.raises(DataError, match=r"no such dataset name or folder"):
        load(tmp_path / "nope")
    with pytest.raises(DataError, match=r"no ratings file found"):
        load(tmp_path)


def test_a_movielens_folder_given_as_the_ratings_file_says_how_it_loads(tmp_path, capsys):
    """``--ratings ml-folder`` said only 'is a folder, expected a file'; a folder holding ratings.csv loads
    whole as a dataset (titles included), and the line says so, and names the file inside."""
    from clihelp import run_cli

    folder = tmp_path / "export"
    folder.mkdir()
    with pytest.raises(DataError) as err:  # a folder of anything else: as before
        load_ratings_file(folder)
    assert str(err.value) == f"{folder}: is a folder, expected a file"
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,10,4,5\n2,10,3,6\n")
    said = (
        f"{folder}: is a folder, expected a file; it holds ratings.csv: load the folder as a dataset, its "
        "titles included ({}), or name the file: " + str(folder / "ratings.csv")
    )  # each door's way to load it (one line named both)
    with pytest.raises(DataError) as err:
        load_ratings_file(folder)
    assert str(err.value) == said.format(f"movierec.load({str(folder)!r})")
    code, _, stderr = run_cli(["data", "info", "--ratings", str(folder)], capsys)
    assert code == 2 and " ".join(stderr.split()) == f"movierec: error: {said.format(f'--dataset {folder}')}"
    assert load(folder).interactions.n_ratings == 2  # what it says works


def test_a_dataset_folder_of_ones_own_loads_without_times_and_names_a_fix_that_applies(tmp_path, capsys):
    """docs/data.md: 'Any folder in one of the MovieLens layouts (ratings.csv, …) works with --dataset'. One
    whose ratings.csv had no timestamp column stopped with "name it with --time-col COLUMN (or --time-col ''
    for none)", from Python too, and --time-col applies to no folder (load(folder, time_col=None) is refused);
    other column names got '--user-col user_id', which --dataset takes no part of either. A folder now loads
    without times, as a --ratings file does, with a note; other names say how to read the file on its own."""
    from clihelp import run_cli

    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "ratings.csv").write_text("userId,movieId,rating\n1,10,4\n2,10,3\n2,20,5\n")
    ds = load(folder)
    assert ds.interactions.n_ratings == 3 and ds.interactions.timestamps is None
    assert ds.notes == [
        "no 'timestamp' column: loaded without times, so time-based splits (temporal, leave-last-out) and time "
        "features are unavailable"
    ]
    code, _, stderr = run_cli(["data", "info", "--dataset", str(folder)], capsys)
    assert code == 0 and stderr.splitlines() == [
        "note: no 'timestamp' column: loaded without times, so no time-based splits"
    ]
    (folder / "ratings.csv").write_text("user_id,item_id,rating,ts\n1,10,4,5\n2,10,3,6\n")
    file = folder / "ratings.csv"
    head = (
        f"{file}: missing columns 'userId', 'movieId', 'timestamp' (found: user_id, item_id, rating, ts); a "
        "dataset folder's files take MovieLens' column names: rename them, or read the file on its own: "
    )
    with pytest.raises(DataError) as err:
        load(folder)
    assert str(err.value) == (
        f"{head}movierec.load({str(file)!r}, user_col='user_id', item_col='item_id', time_col='ts')"
    )
    code, _, stderr = run_cli(["data", "info", "--dataset", str(folder)], capsys)  # the CLI's own words
    assert code == 2 and " ".join(stderr.split()) == (
        f"movierec: error: {head}--ratings {file} --user-col user_id --item-col item_id --time-col ts"
    )
    assert load(str(file), user_col="user_id", item_col="item_id", time_col="ts").interactions.n_ratings == 2
    assert load("ml-latest-small").notes == []  # MovieLens' own folders have their times


def test_load_of_a_missing_ratings_file_says_no_such_file(tmp_path):
    """movierec.load("/data/ratings.csv") with a wrong path said "no such dataset name or folder (known
    names: ml-latest-small, ml-100k, …)": the registry's names are no help for a file; load_ratings_file and
    the CLI's --ratings say "no such file"."""
    for name in ("ratings.csv", "u.data", "ratings.dat.gz"):
        with pytest.raises(DataError) as err:
            load(tmp_path / name)
        assert str(err.value) == f"{tmp_path / name}: no such file"


def test_bad_value_in_a_later_block_is_named(tmp_path):
    rows = [f"{u},{i},3.5,{1000 + u}" for u in range(300) for i in range(10)]
    rows[2500] = "7,7,abc,1"
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"line 2502: rating 'abc'"):
        load_ratings_file(path)


def test_movies_with_bad_id_and_bad_encoding(tmp_path):
    bad = tmp_path / "movies.csv"
    bad.write_text("movieId,title,genres\n1,A (2000),Drama\nx,B (2001),Comedy\n")
    with pytest.raises(DataError, match=r"movies.csv, line 3: movieId 'x' is not a number"):
        read_movies(bad)
    bad.write_bytes(b"movieId,title,genres\n1,Caf\xe9 (2000),Drama\n")
    with pytest.raises(DataError, match=r"movies.csv, line 2: text is not valid UTF-8"):
        read_movies(bad)


def test_folder_with_broken_movies_file_names_it(tmp_path):
    folder = tmp_path / "ml"
    shutil.copytree(FIX / "ml-csv", folder)
    (folder / "movies.csv").write_text("")
    with pytest.raises(DataError, match=r"movies.csv: file is empty"):
        load(folder)


def test_many_small_blocks_give_the_same_frame(tmp_path, monkeypatch):
    from movierec.datasets import parsers

    whole = read_ratings(FIX / "ml-csv" / "ratings.csv")
    monkeypatch.setattr(parsers, "_BLOCK_SIZE", 64)  # one or two rows per block
    pd.testing.assert_frame_equal(read_ratings(FIX / "ml-csv" / "ratings.csv"), whole)
    rows = [f"{u},{u % 7},4.0,{1000 + u}" for u in range(200)]
    rows[150] = "150,7,4.0,-3"
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"line 152: timestamp -3 is negative"):
        read_ratings(path)


def test_string_id_after_integer_blocks_becomes_text_ids(tmp_path, monkeypatch):
    from movierec.datasets import parsers

    monkeypatch.setattr(parsers, "_BLOCK_SIZE", 64)  # the first block holds integers only
    rows = [f"{u},{u % 5},3.0,{1000 + u}" for u in range(50)] + ["alice,1,5.0,2000"]
    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n" + "\n".join(rows) + "\n")
    inter = load_ratings_file(path).interactions
    assert inter.n_users == 51 and "alice" in inter.user_map and "7" in inter.user_map
    assert inter.to_frame().iloc[-1].tolist() == ["alice", 1, 5.0, 2000]


def test_a_file_without_a_timestamp_column_loads_without_times_unless_one_was_named(tmp_path):
    """The default 'timestamp' column is optional (a ratings file without times is common); a column
    named on purpose (time_col="ts") must exist, and a parquet file follows the same rule."""
    ds = load_ratings_file(FIX / "custom" / "ratings_nots.csv")
    assert ds.interactions.timestamps is None and ds.interactions.n_ratings == 3
    assert any(n.startswith("no 'timestamp' column: loaded without times") for n in ds.notes)
    with pytest.raises(DataError, match=r"missing column 'ts'"):
        load_ratings_file(FIX / "custom" / "ratings_nots.csv", time_col="ts")
    pq = tmp_path / "nots.parquet"
    pd.read_csv(FIX / "custom" / "ratings_nots.csv").to_parquet(pq)
    assert load_ratings_file(pq).interactions.timestamps is None
    with_times = load_ratings_file(FIX / "ml-csv" / "ratings.csv")
    assert with_times.interactions.timestamps is not None and not with_times.notes


def test_cli_reads_a_ratings_file_without_times_and_says_so(capsys) -> None:
    from clihelp import run_cli

    code, out, err = run_cli(
        ["data", "info", "--ratings", str(FIX / "custom" / "ratings_nots.csv"), "--json"], capsys
    )
    assert code == 0, err
    assert json.loads(out)["n_ratings"] == 3
    # one line within 80 columns, the CLI's flag only: it was 190 columns, three lines at 80, naming the
    # lost splits and 'time_col= in Python'. ds.notes keeps the lost splits, in Python's words ('name another
    # column with time_col='; the note's CLI words say 'with --time-col': test_message_spellings)
    line = "note: no 'timestamp' column: loaded without times (--time-col names another)"
    assert line in err.splitlines() and len(line) <= 80, err
    assert err.count("no 'timestamp' column") == 1, err  # once, not once per printer (it was twice)
    code, _out, err = run_cli(
        ["data", "info", "--ratings", str(FIX / "custom" / "ratings_nots.csv"), "--time-col", "when"], capsys
    )
    assert code == 2 and "missing column 'when'" in err


def test_other_column_names_are_named_all_at_once_with_the_fix_in_each_callers_words(
    tmp_path, capsys
) -> None:
    """A file headed user_id,item_id,score,ts took four tries, one column per error: now one line names every
    missing column and the whole fix, the found columns filled in where they are obvious; the CLI's flags
    for the CLI, keyword arguments for Python's load(path). The line it gives loads the file."""
    from clihelp import run_cli

    path = tmp_path / "my.csv"
    path.write_text("user_id,item_id,score,ts\n1,10,4.0,100\n2,10,5.0,101\n2,20,3.0,102\n")
    code, _out, err = run_cli(["data", "info", "--ratings", str(path)], capsys)
    fix = "--user-col user_id --item-col item_id --rating-col score --time-col ts"
    assert code == 2 and err.count("\n") == 1, err
    assert err.strip() == (
        f"movierec: error: {path}: missing columns 'userId', 'movieId', 'rating', 'timestamp' "
        f"(found: user_id, item_id, score, ts); name them with {fix}"
    )
    code, out, err = run_cli(["data", "info", "--ratings", str(path), *fix.split(), "--json"], capsys)
    assert code == 0 and json.loads(out)["n_ratings"] == 3, err

    with pytest.raises(DataError) as exc:
        load(path)
    assert str(exc.value) == (
        f"{path}: missing columns 'userId', 'movieId', 'rating', 'timestamp' (found: user_id, item_id, score, ts); "
        "name them with user_col='user_id', item_col='item_id', rating_col='score', time_col='ts'"
    )
    ds = load(path, user_col="user_id", item_col="item_id", rating_col="score", time_col="ts")
    assert ds.interactions.n_ratings == 3 and ds.interactions.timestamps is not None


def test_a_column_with_no_obvious_match_is_left_for_the_person_to_name(tmp_path) -> None:
    """Only an obvious name is filled in (u, i, r could be anything): COLUMN stands for the rest. A file
    without the default timestamp column is not asked for one (it loads without times); a time column named
    on purpose and not there is, with how to go without."""
    path = tmp_path / "short.csv"
    path.write_text("u,movie_id,r\n1,10,4\n")
    with pytest.raises(DataError) as exc:
        load_ratings_file(path)
    assert str(exc.value).endswith(  # Python's keywords: load_ratings_file is a Python call
        "missing columns 'userId', 'movieId', 'rating' (found: u, movie_id, r); "
        "name them with user_col=COLUMN, item_col='movie_id', rating_col=COLUMN"
    )
    one = tmp_path / "stars.csv"
    one.write_text("userId,movieId,stars\n1,10,4\n")
    with pytest.raises(
        DataError,
        match=r"missing column 'rating' \(found: userId, movieId, stars\); name it with rating_col='stars'$",
    ):
        load_ratings_file(one)
    with pytest.raises(
        DataError, match=r"name them with rating_col='stars', time_col=COLUMN \(or time_col=None for none\)$"
    ):
        load(one, time_col="when")


@pytest.mark.parametrize(
    ("first", "header", "roles"),
    [("1,1,4.0,964982703", "userId,movieId,rating,timestamp", "1 the user, 2 the item, 3 the rating, 4 the timestamp"),
     ("1,1,4.0", "userId,movieId,rating", "1 the user, 2 the item, 3 the rating"),
     ("7,31,2.5,2019-11-21", "userId,movieId,rating,timestamp", "1 the user, 2 the item, 3 the rating, 4 the timestamp")],
)  # fmt: skip
def test_a_file_without_a_header_row_is_read_by_position_and_told_so(
    tmp_path, capsys, first, header, roles
) -> None:
    """A file whose first line is data was refused ("the first line looks like data, not a header"): ml-100k's
    u.data renamed ratings.tsv, or any export without column names, needed a header row added by hand. Now
    such a line is read as data, the columns by position, with a note; header=True (--header) insists on a
    header and gets the old refusal, which now names header=False as the other way out."""
    from clihelp import run_cli

    path = tmp_path / "noheader.csv"
    second = "1,3,4.0,964981247" if first.count(",") == 3 else "1,3,4.0"
    path.write_text(f"{first}\n{second}\n")
    ds = load(path)
    assert ds.interactions.n_ratings == 2 and set(ds.interactions.user_map.ids) == {1, int(first[0])}
    note = (
        f"{path} has no header row (its first line, {first!r}, is all "
        f"{'numbers and dates' if '-' in first else 'numbers'}): columns read by position, "
        f"{roles}; if that line names the columns, say so (header=True)"
    )
    assert ds.notes[0] == note
    assert note not in load(path, header=False).notes  # asked for: nothing to say
    want = (
        f"{path}: the first line looks like data, not a header ({first!r}): add a header row such as {header}, "
        "or read the file without one, its columns by position (header=False)"
    )
    with pytest.raises(DataError) as exc:
        load(path, header=True)
    assert str(exc.value) == want
    code, _out, err = run_cli(["data", "info", "--ratings", str(path), "--header"], capsys)
    assert code == 2 and err.strip() == f"movierec: error: {want.replace('(header=False)', '(--no-header)')}"
    path.write_text(f"{header}\n{first}\n")  # a header row: read as before, without a note
    named = load(path)
    assert named.interactions.n_ratings == 1 and not any("header" in n for n in named.notes)


# --- a DataFrame already in a notebook (movierec.load(frame) / datasets.from_frame) ------------------


def test_a_dataframe_loads_like_the_file_it_came_from():
    from movierec.datasets import from_frame

    ds = load("ml-latest-small")
    frame = ds.to_frame()
    before = frame.copy()
    got = load(frame)
    assert frame.equals(before)  # the caller's frame is not modified
    a, b = ds.interactions, got.interactions
    assert (a.n_users, a.n_items, a.n_ratings) == (b.n_users, b.n_items, b.n_ratings)
    assert np.array_equal(a.user_map.ids, b.user_map.ids) and np.array_equal(a.item_map.ids, b.item_map.ids)
    assert np.array_equal(a.ratings, b.ratings) and np.array_equal(a.timestamps, b.timestamps)
    # a checksum over the ratings, so results record which data they came from; another frame, another sum
    assert len(got.sha256) == 64 and got.sha256 == load(frame.copy()).sha256
    assert got.sha256 != load(frame.iloc[:-1]).sha256
    renamed = frame.rename(columns={"userId": "user", "movieId": "item", "timestamp": "ts"})
    other = from_frame(renamed, user_col="user", item_col="item", time_col="ts", name="mine")
    assert other.name == "mine" and other.interactions.n_ratings == a.n_ratings and other.notes == []


def test_a_dataframe_with_string_ids_no_times_and_a_movies_frame():
    frame = pd.DataFrame(
        {"user": ["ann", "bob", "ann", "cy"], "movie": [10, 10, 20, 30], "stars": [5, 3, 4, 2]}
    )
    movies = pd.DataFrame({"movieId": [10, 20, 30], "title": ["Up (2009)", "Heat (1995)", "Jaws (1975)"],
                           "genres": ["Animation|Comedy", "Crime", "Horror"]})  # fmt: skip
    ds = load(frame, user_col="user", item_col="movie", rating_col="stars", movies=movies)
    assert list(ds.interactions.user_map.ids) == ["ann", "bob", "cy"]
    assert (
        ds.interactions.timestamps is None and "time_col" in ds.notes[0] and "--time-col" not in ds.notes[0]
    )
    table = ds.item_table()
    assert list(table["title"]) == ["Up (2009)", "Heat (1995)", "Jaws (1975)"]
    assert list(table["year"]) == [2009, 1995, 1975] and table["genres"].iloc[0] == ["Animation", "Comedy"]


def test_a_movies_frame_may_name_its_ids_as_the_ratings_item_col_does(tmp_path):
    """``movies=`` with the ids under the ratings' ``item_col`` name (``sku``), as a ``--movies`` file may
    have them: it was refused as "missing column 'movieId'" unless renamed first."""
    frame = pd.DataFrame(
        {"uid": ["ann", "bob", "ann", "cy"], "sku": ["m1", "m1", "m2", "m3"], "stars": [5, 3, 4, 2]}
    )
    titles = pd.DataFrame({"sku": ["m3", "m1", "m2"], "title": ["Jaws (1975)", "Up (2009)", "Heat (1995)"],
                           "genres": ["Horror", "Animation|Comedy", "Crime"]})  # fmt: skip
    ds = load(frame, user_col="uid", item_col="sku", rating_col="stars", movies=titles)
    table = ds.item_table()
    assert list(table["movieId"]) == ["m1", "m2", "m3"] and list(table["title"]) == [
        "Up (2009)",
        "Heat (1995)",
        "Jaws (1975)",
    ]
    assert table["genres"].iloc[0] == ["Animation", "Comedy"]
    renamed = load(
        frame,
        user_col="uid",
        item_col="sku",
        rating_col="stars",
        movies=titles.rename(columns={"sku": "movieId"}),
    )
    assert renamed.item_table().equals(table)  # movieId still works
    titles.to_csv(tmp_path / "titles.csv", index=False)  # the file takes the same columns
    assert (
        load(frame, user_col="uid", item_col="sku", rating_col="stars", movies=tmp_path / "titles.csv")
        .item_table()
        .equals(table)
    )
    with pytest.raises(
        DataError,
        match=r"^movies DataFrame: missing column 'sku' \(the ratings' item column\) or 'movieId' \(found: id, title, genres\); name its column of movie ids 'sku', as the ratings' item column is named$",
    ):
        load(
            frame,
            user_col="uid",
            item_col="sku",
            rating_col="stars",
            movies=titles.rename(columns={"sku": "id"}),
        )


def test_a_movies_file_in_imdbs_tab_layout_or_with_semicolons_gives_its_titles(tmp_path, capsys):
    """IMDb's ``title.basics.tsv`` layout (tabs, ``primaryTitle``, ``startYear``, genres ``Crime,Drama``,
    ``\\N`` for none) and a spreadsheet's ``;``-separated export were read as comma-separated and stopped
    with 'malformed row (broken quoting or wrong delimiter)', which no option could change (``--sep`` is
    the ratings file's). Each now gives the lists their titles, years and genres."""
    from clihelp import run_cli

    ratings = tmp_path / "ratings.csv"
    ratings.write_text(
        "userId,movieId,rating\nu1,tt0114709,5\nu1,tt0113497,3\nu2,tt0114709,4\nu2,tt0113228,2\n"
    )
    tsv = tmp_path / "title.basics.tsv"
    tsv.write_text(
        "movieId\ttitleType\tprimaryTitle\tstartYear\tgenres\n"
        "tt0114709\tmovie\tToy Story\t1995\tAdventure,Animation,Comedy\n"
        "tt0113497\tmovie\tJumanji\t1995\tAdventure, Family\n"
        "tt0113228\tmovie\tGrumpier Old Men\t\\N\t\\N\n"
    )
    movies = load(ratings, movies=tsv).movies.set_index("movieId")
    assert movies.loc["tt0114709", "title"] == "Toy Story" and movies.loc["tt0114709", "year"] == 1995
    assert movies.loc["tt0114709", "genres"] == ["Adventure", "Animation", "Comedy"]
    assert movies.loc["tt0113497", "genres"] == ["Adventure", "Family"]
    assert movies.loc["tt0113228", "genres"] == [] and pd.isna(movies.loc["tt0113228", "year"])
    semi = tmp_path / "titles.csv"  # named .csv, separated by ';' (a spreadsheet in a comma-decimal locale)
    semi.write_text(
        "movieId;title;genres\ntt0114709;Toy Story (1995);Animation|Comedy\ntt0113497;Jumanji (1995);\n"
    )
    movies = load(ratings, movies=semi).movies.set_index("movieId")
    assert movies.loc["tt0113497", "title"] == "Jumanji (1995)"
    assert movies.loc["tt0114709", "genres"] == ["Animation", "Comedy"]
    code, _out, err = run_cli(["data", "info", "--ratings", str(ratings), "--movies", str(tsv)], capsys)
    assert code == 0, err
    # gzipped, as a ratings file may be: it was 'line 1: text is not valid UTF-8 …; --encoding latin-1'
    packed = tmp_path / "title.basics.tsv.gz"
    packed.write_bytes(gzip.compress(tsv.read_bytes()))
    movies = load(ratings, movies=packed).movies.set_index("movieId")
    assert movies.loc["tt0114709", "title"] == "Toy Story" and movies.loc["tt0113497", "year"] == 1995


def test_a_movies_file_without_the_ratings_id_column_or_ids_says_which_to_give(tmp_path, capsys):
    """A movies file keyed by IMDb's ``tconst`` stopped with "missing column 'movieId' (found: tconst, …)" and
    no fix; one keyed by other ids than the ratings' (MovieLens' 1, 2 beside tt0114709) loaded without a
    word, and every list then named its movies 'item tt0114709' as if no titles had been given."""
    from clihelp import run_cli

    ratings = tmp_path / "ratings.csv"
    ratings.write_text("userId,movieId,rating\nu1,tt0114709,5\nu1,tt0113497,3\nu2,tt0114709,4\n")
    imdb = tmp_path / "imdb.csv"
    imdb.write_text("tconst,primaryTitle\ntt0114709,Toy Story\ntt0113497,Jumanji\n")
    with pytest.raises(DataError) as err:
        load(ratings, movies=imdb)
    assert str(err.value) == (
        f"{imdb}: missing column 'movieId' (found: tconst, primaryTitle); name its column of movie ids "
        "'movieId', as the ratings' item column is named"
    )
    other = tmp_path / "movies.csv"
    other.write_text("movieId,title\n1,Toy Story (1995)\n2,Jumanji (1995)\n")
    said = (
        "none of its 2 movie ids is a rated movie (its ids: '1', '2' …; the ratings': 'tt0113497', "
        "'tt0114709' …): give titles keyed by the ratings' own item ids"
    )
    with pytest.raises(DataError) as err:
        load(ratings, movies=other)
    assert str(err.value) == f"{other}: {said}"
    with pytest.raises(DataError) as err:
        load(pd.read_csv(ratings), movies=pd.read_csv(other, dtype=str))
    assert str(err.value) == f"movies DataFrame: {said}"
    code, _, stderr = run_cli(["data", "info", "--ratings", str(ratings), "--movies", str(other)], capsys)
    assert code == 2 and " ".join(stderr.split()) == f"movierec: error: {other}: {said}"
    other.write_text("movieId,title\n1,Toy Story (1995)\ntt0114709,Toy Story (1995)\n")  # one joins: enough
    assert load(ratings, movies=other).movies["title"].tolist() == ["movieId tt0113497", "Toy Story (1995)"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="userId"), r"^DataFrame: missing column 'userId' .*user_col=COLUMN$"),
        (lambda f: f.assign(rating=f.rating.where(f.index != 5)), r"^DataFrame, row 5: rating is missing"),
        (lambda f: f.assign(userId=f.userId.astype(object).where(f.index != 7, "")), r"^DataFrame, row 7: empty userId"),
        (lambda f: f.assign(timestamp=-f.timestamp),
         r"^DataFrame: 50 bad rows \(negative timestamp\): row 0 \(timestamp -\d+\), row 1 \(timestamp -\d+\), "
         r"row 2 \(timestamp -\d+\) and 47 more$"),
        # a filtered frame: the position, and the label df.loc takes
        (lambda f: f.iloc[10:].assign(rating=lambda g: g.rating.where(g.index != 13)),
         r"^DataFrame, row 3 \(index 13\): rating is missing"),
    ],
)  # fmt: skip
def test_a_bad_dataframe_gets_one_line_in_its_own_words(change, message):
    frame = load("ml-latest-small").to_frame().iloc[:50]
    with pytest.raises(DataError, match=message) as err:
        load(change(frame))
    assert "\n" not in str(err.value) and ", line " not in str(err.value)


def test_dataframe_options_are_checked():
    frame = load("ml-latest-small").to_frame().iloc[:50]
    with pytest.raises(DataError, match=r"unknown option.*usr_col"):
        load(frame, usr_col="x")
    with pytest.raises(DataError, match=r"missing column 'ts'.*name it with time_col='timestamp'$"):
        load(frame, time_col="ts")  # a column named on purpose must exist
    with pytest.raises(DataError, match="apply to a ratings file or a DataFrame"):
        load("ml-latest-small", user_col="userId")
    with pytest.raises(DataError, match="movies DataFrame: missing column 'title'"):
        load(frame, movies=pd.DataFrame({"movieId": [1]}))


def test_a_ratings_files_options_are_checked(tmp_path):
    """A misspelt option to ``load(path)`` was ``TypeError: read_ratings() got an unexpected keyword argument
    'user_column'``, naming a function the caller never called; now the one line a frame's gets, with the
    options a file takes (and pandas' ``sep``, the name a notebook reaches for, said to be ``delimiter``)."""
    path = tmp_path / "semi.csv"
    path.write_text("uid;sku;stars\n1;10;4\n2;10;3\n")
    with pytest.raises(
        DataError, match=r"^unknown option\(s\) user_column: use user_col, item_col, .*header$"
    ):
        load(path, user_column="uid")
    with pytest.raises(DataError, match=r"^unknown option\(s\) sep: .* \(pandas' sep is delimiter=\)$"):
        load_ratings_file(path, sep=";")
    ds = load(path, delimiter=";", user_col="uid", item_col="sku", rating_col="stars")
    assert ds.interactions.n_ratings == 2


def test_recommender_and_compare_take_a_dataframe():
    import movierec

    frame = load("ml-latest-small").to_frame()
    rec = movierec.Recommender(frame, "popularity").fit()
    top = rec.recommend(1, k=3)
    assert len(top) == 3 and 318 in set(top["movieId"])  # Shawshank, the most rated film user 1 has not rated
    comp = movierec.compare(frame, ["popularity"], protocols=["full-ranking"])
    assert comp.dataset == "dataframe" and comp.dataset_sha256 == load(frame).sha256


# --- datetime timestamp columns (a notebook's pd.to_datetime, a Parquet timestamp) ------------------


def _bundled_ratings() -> pd.DataFrame:
    from movierec.datasets import bundled_path

    return pd.read_csv(bundled_path() / "ratings.csv")


def _by_pair(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["userId", "movieId"]).reset_index(drop=True)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_a_datetime_timestamp_column_loads_as_its_seconds_whatever_its_unit(unit):
    # datetime64[ns] read as a number is nanoseconds: 2000-07-30 was refused as "after year 9999"
    raw = _bundled_ratings()
    frame = raw.assign(timestamp=pd.to_datetime(raw["timestamp"], unit="s").astype(f"datetime64[{unit}]"))
    got = _by_pair(load(frame).to_frame())
    assert got["timestamp"].dtype == np.int64
    assert np.array_equal(got["timestamp"].to_numpy(), _by_pair(raw)["timestamp"].to_numpy())


def test_a_tz_aware_timestamp_column_gives_utc_seconds():
    raw = _bundled_ratings().iloc[:500]
    utc = pd.to_datetime(raw["timestamp"], unit="s", utc=True)
    expected = _by_pair(raw)["timestamp"].to_numpy()
    # the same instants in New York's time, and Tokyo wall-clock times (UTC+9) labelled as Tokyo's
    new_york = raw.assign(timestamp=utc.dt.tz_convert("America/New_York"))
    tokyo = raw.assign(
        timestamp=(utc.dt.tz_localize(None) + pd.Timedelta(hours=9)).dt.tz_localize("Asia/Tokyo")
    )
    for frame in (new_york, tokyo):
        got = _by_pair(load(frame).to_frame())["timestamp"].to_numpy()
        assert np.array_equal(got, expected)


def test_a_parquet_file_with_a_timestamp_column_loads_its_seconds(tmp_path):
    raw = _bundled_ratings().iloc[:500]
    path = tmp_path / "ratings.parquet"
    stamps = pd.to_datetime(raw["timestamp"], unit="s", utc=True).astype("datetime64[ms, UTC]")
    raw.assign(timestamp=stamps).to_parquet(path, index=False)
    got = _by_pair(load(path).to_frame())["timestamp"].to_numpy()
    assert np.array_equal(got, _by_pair(raw)["timestamp"].to_numpy())


def test_interactions_from_frame_reads_a_datetime_column_as_seconds():
    raw = _bundled_ratings().iloc[:500]
    frame = raw.assign(timestamp=pd.to_datetime(raw["timestamp"], unit="s"))  # pandas' default unit
    inter = Interactions.from_frame(frame)
    assert np.array_equal(inter.timestamps, Interactions.from_frame(raw).timestamps)
    with pytest.raises(DataError, match=r"^data, line 4: timestamp is missing \(NaT\)$"):
        Interactions.from_frame(frame.assign(timestamp=frame["timestamp"].where(frame.index != 3)))


@pytest.mark.parametrize(
    ("row", "value", "message"),
    [
        (4, "NaT", r"^DataFrame, row 4: timestamp is missing"),
        (2, "10000-01-01", r"^DataFrame, row 2: timestamp 10000-01-01 00:00:00 is out of range \(after year 9999\)$"),
        (6, "1969-12-31T23:59:59", r"^DataFrame, row 6: timestamp 1969-12-31 23:59:59 is negative$"),
    ],
)  # fmt: skip
def test_a_datetime_timestamp_out_of_range_is_still_refused_by_row(row, value, message):
    frame = _bundled_ratings().iloc[:50]
    stamps = pd.to_datetime(frame["timestamp"], unit="s").astype("datetime64[s]").to_numpy().copy()
    stamps[row] = np.datetime64(value, "s")
    with pytest.raises(DataError, match=message):
        load(frame.assign(timestamp=stamps))


def test_a_parquet_file_and_a_frame_get_the_csv_s_whole_fix_timestamp_included(tmp_path, capsys) -> None:
    """The same columns in Parquet got a fix without their time column ('name them with --user-col user
    --item-col item --rating-col stars', while the CSV's adds '--time-col ts'), and that line loaded the
    file without times. Parquet and a DataFrame now name the likely time column as the CSV does."""
    from clihelp import run_cli

    frame = pd.DataFrame(
        {"user": ["u_1", "u_2"], "item": ["SKU-1", "SKU-1"], "stars": [4.0, 5.0], "ts": [100, 101]}
    )
    path = tmp_path / "shop.parquet"
    frame.to_parquet(path)
    fix = "--user-col user --item-col item --rating-col stars --time-col ts"
    code, _out, err = run_cli(["data", "info", "--ratings", str(path)], capsys)
    assert code == 2 and err.strip() == (
        f"movierec: error: {path}: missing columns 'userId', 'movieId', 'rating', 'timestamp' "
        f"(found: user, item, stars, ts); name them with {fix}"
    ), err
    code, out, err = run_cli(["data", "info", "--ratings", str(path), *fix.split(), "--json"], capsys)
    assert code == 0 and json.loads(out)["time_span"] is not None, err
    with pytest.raises(
        DataError,
        match=r"name them with user_col='user', item_col='item', rating_col='stars', time_col='ts'$",
    ):
        load(frame)
    no_time = tmp_path / "no_time.parquet"
    frame.drop(columns="ts").rename(
        columns={"user": "userId", "item": "movieId", "stars": "rating"}
    ).to_parquet(no_time)
    assert load(no_time).interactions.timestamps is None  # the default time column stays optional


def test_ids_with_leading_zeros_stay_text_and_distinct(tmp_path, monkeypatch):
    """'007' is not user 7: a file whose ids carry leading zeros keeps every id as the text it holds (two
    users '007' and '7' stay two), in a csv, whatever block the first such id falls in, in Parquet and in
    a DataFrame; a file of plain integers still loads integer ids."""
    from movierec.datasets import parsers

    rows = "userId,movieId,rating,timestamp\n007,0042,4,1000\n7,42,3,1001\n0007,00042,5,1002\n12,42,2,1003\n"
    path = tmp_path / "ratings.csv"
    path.write_text(rows)
    inter = load_ratings_file(path).interactions
    assert inter.n_users == 4 and inter.n_items == 3
    assert sorted(inter.user_map.to_raw(np.arange(4)).tolist()) == ["0007", "007", "12", "7"]
    assert sorted(inter.item_map.to_raw(np.arange(3)).tolist()) == ["00042", "0042", "42"]
    assert inter.to_frame().iloc[0].tolist() == ["007", "0042", 4.0, 1000]
    # the first leading zero in a later block than the integers (64-byte blocks): every id is text
    monkeypatch.setattr(parsers, "_BLOCK_SIZE", 64)
    late = [f"{u},{u % 5 + 1},3,{1000 + u}" for u in range(1, 40)] + ["0040,1,5,2000"]
    path.write_text("userId,movieId,rating,timestamp\n" + "\n".join(late) + "\n")
    users = load_ratings_file(path).interactions.user_map
    raw = users.to_raw(np.arange(40)).tolist()
    assert "0040" in raw and "7" in raw and all(isinstance(u, str) for u in raw) and "40" not in raw
    # ISO dates take the text path (every column re-read as text): the zeros survive there too
    path.write_text("u,i,r,t\n007,01,4,2019-11-21\n7,1,3,2019-11-22T10:00:00Z\n")
    frame = load_ratings_file(path, user_col="u", item_col="i", rating_col="r", time_col="t").interactions
    assert sorted(frame.user_map.to_raw(np.arange(2)).tolist()) == ["007", "7"]
    pq = tmp_path / "ratings.parquet"
    pd.DataFrame({"userId": ["007", "7"], "movieId": ["1", "01"], "rating": [4.0, 3.0]}).to_parquet(pq)
    assert sorted(load_ratings_file(pq).interactions.item_map.to_raw(np.arange(2)).tolist()) == ["01", "1"]
    df = pd.DataFrame({"userId": ["007", "7"], "movieId": ["5", "6"], "rating": [4.0, 3.0]})
    assert load(df).interactions.n_users == 2
    # plain integers: integer ids, as before
    path.write_text("userId,movieId,rating\n10,20,4\n7,0,3\n")
    assert load_ratings_file(path).interactions.user_map.to_raw(np.arange(2)).dtype.kind == "i"


def test_a_movies_file_keeps_the_leading_zeros_of_text_ids(tmp_path):
    """Titles join ratings whose item ids are '0042': the movies file's ids are read as the text they are."""
    ratings = tmp_path / "r.csv"
    ratings.write_text("u,sku,stars\n1,0042,4\n2,42,3\n")
    movies = tmp_path / "m.csv"
    movies.write_text("sku,title,genres\n0042,Zero Forty-Two (2001),Drama\n42,Forty-Two (2002),Comedy\n")
    ds = load_ratings_file(
        ratings, user_col="u", item_col="sku", rating_col="stars", time_col=None, movies=movies
    )
    titles = dict(zip(ds.movies["movieId"], ds.movies["title"], strict=True))
    assert titles == {"0042": "Zero Forty-Two (2001)", "42": "Forty-Two (2002)"}


def test_a_catalogue_with_its_own_column_names_semicolon_genres_and_a_year_column(tmp_path):
    """A streaming catalogue (``title_id,name,year,genres`` with ``;`` between genres): its ``name`` column
    holds the titles (it stopped with "missing column 'title'"; TITLE_COLUMNS' rule); a file with none of
    those names gets the error naming its own columns and the names read; genres split on ``;`` (they were
    one genre 'Adventure;Children') and the year column gives the year the titles do not carry."""
    ratings = tmp_path / "r.csv"
    ratings.write_text("customer,title_id,score\nu_1,tt0114709,8\nu_2,tt0113497,6\nu_2,tt0000001,9\n")
    movies = tmp_path / "items.csv"
    movies.write_text(
        "title_id,name,year,genres\ntt0114709,Toy Story,1995,Adventure;Children\n"
        "tt0113497,Jumanji (1995),2001,Fantasy\ntt0000001,Untitled,,\n"
    )
    kw = {"user_col": "customer", "item_col": "title_id", "rating_col": "score", "time_col": None}
    cat = load_ratings_file(ratings, movies=movies, **kw).movies.set_index("movieId")
    assert cat.loc["tt0114709", "title"] == "Toy Story"  # 'name' read as the titles
    labelled = tmp_path / "labelled.csv"
    labelled.write_text(movies.read_text().replace(",name,", ",label,", 1))
    with pytest.raises(DataError) as err:
        load_ratings_file(ratings, movies=labelled, **kw)
    assert str(err.value) == (
        f"{labelled}: missing column 'title' (found: title_id, label, year, genres); "
        "name the column of titles 'title' (or primaryTitle, movie_title, movie_name or name)"
    )
    # IMDb's title.basics: primaryTitle, matched ignoring case, wins over originalTitle and a later 'name'
    imdb = tmp_path / "imdb.csv"
    imdb.write_text("title_id,originalTitle,PrimaryTitle,name\ntt0114709,Toy Story (orig),Toy Story,x\n")
    cat = load_ratings_file(ratings, movies=imdb, **kw).movies.set_index("movieId")
    assert cat.loc["tt0114709", "title"] == "Toy Story"
    # through the CLI (a subprocess): the list names the movie by its 'name'
    from clihelp import run_process

    cli = ["--user-col", "customer", "--item-col", "title_id", "--rating-col", "score", "--time-col", ""]
    proc = run_process("similar", "--ratings", str(ratings), *cli, "--movies", str(movies), "--movie-id", "tt0113497",
                       "-k", "1", "--min-support", "1", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0 and "movies like Jumanji (1995)" in proc.stdout, (proc.stdout, proc.stderr)
    movies.write_text(movies.read_text().replace(",name,", ",title,", 1))
    cat = load_ratings_file(ratings, movies=movies, **kw).movies.set_index("movieId")
    assert cat.loc["tt0114709", "genres"] == ["Adventure", "Children"]
    assert cat.loc["tt0114709", "year"] == 1995  # from the year column
    assert cat.loc["tt0113497", "year"] == 1995  # the title's own year wins over the column's 2001
    assert pd.isna(cat.loc["tt0000001", "year"])
    # '|' anywhere: the MovieLens separator, ';' left inside a genre's name
    movies.write_text("title_id,title,genres\ntt0114709,Toy Story,A|B\ntt0113497,Jumanji,C;D\n")
    cat = load_ratings_file(ratings, movies=movies, **kw).movies.set_index("movieId")
    assert cat.loc["tt0113497", "genres"] == ["C;D"]


def test_bad_rating_rows_never_call_a_nan_cell_empty(tmp_path: Path) -> None:
    """A file whose bad ratings were 'NaN', 'nan' or empty said "3 bad rows (rating not a number): line 3
    (rating empty), line 4 (rating empty), line 5 (rating empty)": pyarrow reads the three alike as null, and
    two of the cells were not empty. Such a row now says "rating empty or NaN", as one bad row alone says
    "rating is missing (empty or NaN)"; a file read as text (a word among the ratings) still tells an empty
    cell ('empty') from 'NaN'."""
    path = tmp_path / "nan.csv"
    path.write_text("userId,movieId,rating\n1,1,5\n1,2,\n2,3,NaN\n3,2,nan\n3,1,4\n")
    with pytest.raises(DataError) as err:
        load(path)
    assert str(err.value).replace(f"{tmp_path}/", "") == (
        "nan.csv: 3 bad rows (rating not a number): line 3 (rating empty or NaN), line 4 (rating empty or NaN), "
        "line 5 (rating empty or NaN)"
    )
    path.write_text("userId,movieId,rating\n1,1,5\n1,2,\n2,3,NaN\n3,2,abc\n")
    with pytest.raises(DataError) as err:
        load(path)
    assert str(err.value).endswith(": line 3 (rating empty), line 4 (rating 'NaN'), line 5 (rating 'abc')")
