"""Bad ratings sources read by a real Spark: each is one readable line and exit code 2 from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sparkmarks import SPARK_JOB

from clihelp import run_process
from movierec.cli import main
from movierec.errors import ConfigError, DataError
from movierec.spark.train import index_ids, read_ratings, train

pytestmark = SPARK_JOB


def _csv(path: Path, n: int = 200, bad_ratings: int = 0, users: list[object] | None = None) -> Path:
    rng = np.random.default_rng(0)
    ratings: list[object] = list(np.round(rng.uniform(0.5, 5.0, n) * 2) / 2)
    for j in range(bad_ratings):
        ratings[j * 7] = "n/a" if j % 2 else "four"
    frame = pd.DataFrame(
        {
            "userId": users if users is not None else rng.integers(1, 30, n),
            "movieId": rng.integers(1, 50, n),
            "rating": ratings,
            "timestamp": 0,
        }
    )
    frame.to_csv(path, index=False)
    return path


def _cli_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main(["spark", "train", *args])
    assert exc.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("movierec: error: ")
    return lines[0]


def test_missing_columns_are_named(spark, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "r.csv"
    pd.DataFrame({"user": [1, 2], "movieId": [3, 4], "stars": [4.0, 3.0]}).to_csv(path, index=False)
    line = _cli_error(capsys, "--ratings", str(path), "--out", str(tmp_path / "a"))
    assert "missing columns 'userId', 'rating'" in line
    assert "found: user, movieId, stars" in line
    assert not (tmp_path / "a").exists()
    # the CLI's flags alone (it said 'name them (user_col=, item_col=, rating_col= in Python, --user-col/…
    # in the CLI)'); Python's train() names its keywords
    assert line.endswith("name them with --user-col/--item-col/--rating-col") and "Python" not in line, line
    with pytest.raises(DataError, match=r"name them with user_col=, item_col=, rating_col=$"):
        train(spark, path, out=tmp_path / "b")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    line = _cli_error(capsys, "--ratings", str(empty), "--out", str(tmp_path / "c"))
    assert "(found: no columns, the file is empty)" in line, line


def test_renamed_columns_are_accepted(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "r.csv"
    pd.DataFrame({"u": ["a", "b", "a"], "m": [3, 4, 4], "stars": [4.0, 3.0, 5.0]}).to_csv(path, index=False)
    src = read_ratings(spark, str(path), user_col="u", item_col="m", rating_col="stars")
    assert src.n_kept == 3 and not src.user_is_int and src.item_is_int
    indexed, users, items = index_ids(spark, src.frame)
    assert users.tolist() == ["a", "b"] and items.tolist() == [3, 4]  # sorted, as IdMap sorts
    got = indexed.toPandas().sort_values(["user", "item"])
    assert got[["user", "item"]].to_numpy().tolist() == [[0, 0], [0, 1], [1, 1]]


def test_non_numeric_ratings_over_the_share_fail_with_counts(spark, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = _csv(tmp_path / "r.csv", n=200, bad_ratings=10)
    line = _cli_error(capsys, "--ratings", str(path), "--out", str(tmp_path / "a"))
    assert "10 of 200 rows (5.00%) are malformed" in line
    assert "10 with a non-numeric rating" in line and "--max-bad-share 0.01" in line


def test_non_numeric_ratings_under_the_share_are_dropped_and_reported(spark, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = _csv(tmp_path / "r.csv", n=200, bad_ratings=10)
    src = read_ratings(spark, str(path), max_bad_share=0.1)
    assert (src.n_rows, src.n_kept, src.dropped["non_numeric_rating"]) == (200, 190, 10)
    assert src.frame.count() == 190
    assert "dropped 10 of 200 rows (5.00%)" in capsys.readouterr().err


def test_out_of_range_ids_with_direct_mapping(spark, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    users: list[object] = [1] * 200
    users[3], users[5] = -4, 3_000_000_000
    path = _csv(tmp_path / "r.csv", users=users)
    line = _cli_error(capsys, "--ratings", str(path), "--id-mapping", "direct", "--out", str(tmp_path / "a"))
    assert "2 userId values are outside 0..2147483647" in line
    # the default mapping accepts any id, including those
    src = read_ratings(spark, str(path))
    assert src.n_kept == 200


def test_non_integer_ids_with_direct_mapping(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _csv(tmp_path / "r.csv", users=["u1"] * 200)
    with pytest.raises(DataError, match="200 userId values are not whole numbers"):
        read_ratings(spark, str(path), direct_ids=True)


def test_unreadable_source_is_one_line(spark, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A local file that is not there is named before Spark reads (b17810f); a source Spark cannot read (a
    filesystem it has no connector for) is one line with the hint, as before."""
    line = _cli_error(capsys, "--ratings", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "a"))
    assert line.endswith(f"nope.csv: no such file or folder (looked in {tmp_path})"), line
    line = _cli_error(capsys, "--ratings", "nosuchfs://bucket/nope.csv", "--out", str(tmp_path / "b"))
    assert "nosuchfs://bucket/nope.csv: cannot read as csv" in line and "spark.jars.packages" in line
    # the CLI's flag alone (it said 'conf= in Python, --conf in the CLI'); Python's read names its keyword
    assert "spark.jars.packages=org.apache.hadoop:hadoop-aws:<hadoop version>: --conf; see" in line, line
    assert "conf=" not in line.replace("--conf", ""), line
    with pytest.raises(DataError, match=r"<hadoop version>: conf=; see docs/spark.md\)$") as exc:
        read_ratings(spark, "nosuchfs://bucket/nope.csv")
    assert "--conf" not in str(exc.value)


def test_bad_options_fail_before_reading(spark, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert "--max-bad-share" in _cli_error(capsys, "--max-bad-share", "1.5", "--out", str(tmp_path / "a"))
    line = _cli_error(capsys, "--id-mapping", "dense", "--out", str(tmp_path / "b"))
    assert "invalid value for '--id-mapping': 'dense': expected index or direct" in line, line
    line = _cli_error(capsys, "--format", "orc", "--out", str(tmp_path / "c"))
    assert "invalid value for '--format': 'orc': expected csv or parquet" in line, line
    with pytest.raises(ConfigError, match=r"^id_mapping='dense': expected index or direct$"):
        train(spark, out=tmp_path / "d", id_mapping="dense")  # Python's keyword alone (it named both)
    with pytest.raises(ConfigError, match=r"^the malformed-row share \(max_bad_share=\) must be in \[0, 1\)"):
        train(spark, out=tmp_path / "e", max_bad_share=1.5)


# (flags, what the line says): each was checked only inside train(), after Spark's start (9 to 28 s on
# ml-latest-small), in Python's or Spark's names: 'spark-als: rank must be …', 'reg (regParam) must be …',
# 'K (k= in Python, --k in the CLI)', "'foo' (id_mapping= in Python, --id-mapping in the CLI)"
_BAD_FLAGS = [
    (["--rank", "0"], "invalid value for '--rank'"),
    (["--iterations", "0"], "invalid value for '--iterations'"),
    (["--reg", "-1"], "invalid value for '--reg'"),
    (["--alpha", "-1", "--implicit"], "invalid value for '--alpha'"),
    (["--k", "0"], "invalid value for '--k'"),
    (["--num-blocks", "0"], "invalid value for '--num-blocks'"),
    (["--max-bad-share", "2"], "invalid value for '--max-bad-share': must be a share of the rows in [0, 1)"),
    (["--id-mapping", "foo"], "invalid value for '--id-mapping': 'foo': expected index or direct"),
    (["--format", "xml"], "invalid value for '--format': 'xml': expected csv or parquet"),
    (["--sep", "@@"], "invalid value for '--sep': '@@' cannot separate fields"),
    (["--movies", "MOVIES"], "movies.csv: missing column 'movieId' (found: a, b)"),
]


def test_bad_flags_are_refused_in_the_clis_words_before_spark_starts(tmp_path: Path) -> None:
    """Each bad flag of ``spark train`` (and ``spark recommend --partitions 0``, which ran with the default)
    is one line in the CLI's own words and exit 2 before Spark starts: the run has a JAVA_HOME without Java,
    so a check left until after the start would end in 'Java not found' instead. ``--movies`` is read then
    too (it was read after Spark had read and indexed every rating)."""
    bad_movies = tmp_path / "movies.csv"
    bad_movies.write_text("a,b\n1,2\n", encoding="utf-8")
    # no bin/java under JAVA_HOME: starting Spark fails with 'Java not found' (spark_session checks Java
    # before it starts or reuses a session, so the module's own session cannot hide a late check)
    env: dict[str, str | None] = {"SPARK_HOME": None, "COLUMNS": None, "JAVA_HOME": str(tmp_path)}

    def run(*args: str) -> str:
        done = run_process("spark", *args, env=env, cwd=tmp_path)  # in this process: no JVM starts
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode == 2 and len(lines) == 1, (args, done.stderr)
        assert "Java" not in lines[0] and "Python" not in lines[0], lines[0]
        return lines[0]

    for flags, says in _BAD_FLAGS:
        flags = [str(bad_movies) if f == "MOVIES" else f for f in flags]
        line = run("train", "--out", str(tmp_path / "art"), *flags)
        assert says in line, (flags, line)
    assert not (tmp_path / "art").exists()
    (tmp_path / "artifact").mkdir()
    (tmp_path / "artifact" / "manifest.json").write_text("{}", encoding="utf-8")
    line = run("recommend", "--artifact", str(tmp_path / "artifact"), "--out", "r", "--partitions", "0")
    assert "invalid value for '--partitions'" in line, line


def test_a_headerless_csv_reads_as_the_local_loader_reads_it(spark, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """spark train read every CSV with header=true, so ml-100k's u.data saved as a .csv (or any export without
    column names) was refused: 'missing columns 'userId', 'movieId', 'rating' (found: 10, 11, 5.0, …)' (Spark
    renames the repeated '1'). Now it reads as the local loader does: a first line of numbers is data, the
    columns by position (user, item, rating[, timestamp]) with the same note, --no-header/--header say so,
    --sep takes the same delimiters, and fields the roles do not fit are one line naming spark train's flags."""
    import movierec

    path = tmp_path / "u.csv"
    path.write_text("196,242,3,881250949\n186,302,3.5,891717742\n22,377,1,878887116\n196,302,5,881250950\n")
    src = read_ratings(spark, str(path))
    local = movierec.load(path).interactions  # the local loader, the reference
    got = src.frame.toPandas().sort_values(["user_raw", "item_raw"])
    want = local.to_frame(raw_ids=True).sort_values(["userId", "movieId"])
    assert got["user_raw"].tolist() == want["userId"].tolist() and src.user_is_int
    assert got["rating"].tolist() == want["rating"].tolist() == [1.0, 3.5, 3.0, 5.0]
    err = " ".join(capsys.readouterr().err.split())
    assert (
        "u.csv has no header row (its first line, '196,242,3,881250949', is all numbers): columns read by"
        in err
    )
    assert "1 the user, 2 the item, 3 the rating, 4 the timestamp" in err
    # Python's keyword alone (the note named both: '(header=True in Python, --header in the CLI)')
    assert err.endswith("say so (header=True)") and "--header" not in err, err
    with pytest.raises(SystemExit) as exc:  # and the command line's flag alone
        main(["spark", "train", "--ratings", str(path), "--out", str(tmp_path / "art"), "--test-size", "0",
              "--rank", "2", "--iterations", "1", "--id-mapping", "direct"])  # fmt: skip
    err = " ".join(capsys.readouterr().err.split())
    assert exc.value.code == 0 and "if that line names the columns, say so (--header)" in err, err
    assert "header=" not in err, err

    tsv = tmp_path / "odd.tsv"  # user, item, time, rating: placed by number, read without the guess's note
    tsv.write_text("u1\tm1\t881250949\t4\nu2\tm1\t881250950\t2.5\n")
    src = read_ratings(spark, str(tsv), header=False, rating_col="4")
    assert sorted(src.frame.toPandas()["rating"].tolist()) == [2.5, 4.0] and not src.user_is_int
    assert "no header row" not in capsys.readouterr().err
    semi = tmp_path / "semi.csv"
    semi.write_text("userId;movieId;rating\n1;10;4\n2;10;3\n")
    assert read_ratings(spark, str(semi), sep="semicolon").n_kept == 2

    with pytest.raises(
        DataError, match=r"missing columns 'userId', 'movieId', 'rating' \(found: 196, 242, 3, "
    ):
        read_ratings(spark, str(path), header=True)  # said outright: the first line names the columns
    five = tmp_path / "five.csv"
    five.write_text("1,10,4,964982703,7\n2,10,3,964982704,7\n")
    line = _cli_error(capsys, "--ratings", str(five), "--out", str(tmp_path / "a"))
    assert line.endswith(
        "five.csv has no header row, so its columns are taken by position as user, item, rating and optionally "
        "timestamp: 3 or 4 fields, but its first line has 5: name each column by position (--user-col 1 "
        "--item-col 2 --rating-col 3), or add a header row"
    ), line
    assert not (tmp_path / "a").exists()


def test_u_data_and_dat_names_read_with_the_local_loaders_delimiter(spark, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """spark train read every file but a .tsv as comma-separated, so ml-100k's u.data, which --dataset and
    data info --ratings read as it is, came back as one column: "missing columns 'userId', 'movieId',
    'rating' (found: 196	242	3	881250949)", with no word of the delimiter. A .data name is now read
    tab-separated and a .dat name '::'-separated, as the local loader reads them; a file in another
    delimiter than its name says is one line that names --sep."""
    rows = [(196, 242, 3, 881250949), (186, 302, 4, 891717742), (22, 377, 1, 878887116)]
    data = tmp_path / "u.data"
    data.write_text("".join("\t".join(map(str, r)) + "\n" for r in rows))
    dat = tmp_path / "ratings.dat"
    dat.write_text("".join("::".join(map(str, r)) + "\n" for r in rows))
    for path in (data, dat):
        capsys.readouterr()
        got = read_ratings(spark, str(path)).frame.toPandas().sort_values("user_raw")
        assert got["user_raw"].tolist() == [22, 186, 196] and got["rating"].tolist() == [1.0, 4.0, 3.0]
        # headerless by their layout, as the local loader reads them: no 'no header row' note
        assert "header" not in capsys.readouterr().err
    capsys.readouterr()
    tab = tmp_path / "export.csv"
    tab.write_text("userId\tmovieId\trating\n1\t10\t4\n2\t10\t3\n")
    line = _cli_error(capsys, "--ratings", str(tab), "--out", str(tmp_path / "a"))
    assert "it looks '\\t'-separated, not ',' (wrong delimiter?): read it with --sep tab" in line, line
    assert not (tmp_path / "a").exists()


def test_text_ids_take_titles_keyed_by_the_item_column(spark, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """--movies for ratings with text item ids gave no titles: a file keyed by the item column ('sku', as the
    local --movies reads one) failed with "titles.csv: missing column 'movieId' (found: sku, title, genres)",
    and one keyed by movieId with "movieId 'sku-1' is not a number". Both now give the artifact its titles."""
    ratings = tmp_path / "r.csv"
    pd.DataFrame(
        {
            "customer": ["c1", "c1", "c2", "c2", "c3"],
            "sku": ["s-1", "s-2", "s-1", "s-3", "s-2"],
            "stars": [8, 6, 9, 2, 7],
        }
    ).to_csv(ratings, index=False)
    titles = pd.DataFrame(
        {"sku": ["s-1", "s-2", "s-3"], "title": ["One (2001)", "Two (2002)", "Three (2003)"]}
    )
    for i, column in enumerate(("sku", "movieId")):
        movies = tmp_path / f"titles{i}.csv"
        titles.rename(columns={"sku": column}).to_csv(movies, index=False)
        out = tmp_path / f"a{i}"
        args = ["--ratings", str(ratings), "--movies", str(movies), "--out", str(out)]
        args += "--user-col customer --item-col sku --rating-col stars --test-size 0 --rank 2 --iterations 1".split()
        with pytest.raises(SystemExit) as exc:
            main(["spark", "train", *args])
        assert exc.value.code == 0, capsys.readouterr().err
        items = pd.read_parquet(out / "items.parquet").set_index("movieId")
        assert items.loc["s-3", "title"] == "Three (2003)" and items.loc["s-1", "year"] == 2001


def test_implicit_on_a_1_to_10_scale_says_what_the_default_threshold_counts(spark, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """spark train --implicit kept ratings ≥ 4 as positives on any scale without a word: on ratings 1-10
    (ml-latest-small's doubled) that made 94.7% of them liked, a 4 of 10 among them, where compare, report and
    recommend say so in a note. It now says so too, on stderr and in the artifact's notes; a scale up to 5,
    or a threshold given, says nothing."""
    ratings = tmp_path / "r.csv"
    stars = [8, 6, 9, 2, 7, 10, 1, 4]
    pd.DataFrame(
        {"userId": [1, 1, 2, 2, 3, 3, 4, 4], "movieId": [1, 2, 1, 3, 2, 3, 1, 2], "rating": stars}
    ).to_csv(ratings, index=False)
    runs = {"default": [], "given": ["--implicit-threshold", "8"]}
    for name, extra in runs.items():
        out = tmp_path / name
        args = ["spark", "train", "--ratings", str(ratings), "--out", str(out), "--implicit", *extra]
        with pytest.raises(SystemExit) as exc:
            main([*args, *"--test-size 0 --rank 2 --iterations 1".split()])
        err = " ".join(capsys.readouterr().err.split())
        assert exc.value.code == 0, err
        notes = json.loads((out / "manifest.json").read_text())["notes"]
        said = [n for n in notes if "MovieLens' 4 stars of 5" in n]
        if name == "given":
            assert not said and "4 stars of 5" not in err
            continue
        assert said == [
            "implicit ALS learns from ratings ≥ 4, which is MovieLens' 4 stars of 5; on this data's ratings "
            "(1–10) it counts 75% of them as positives: set a threshold for this scale (implicit_threshold= in Python, "
            "--implicit-threshold in the CLI)"
        ]
        # the terminal's note names the flag alone (one line named both doors); the manifest, read later
        # from either door, keeps both
        assert "(--implicit-threshold)" in err and "implicit_threshold=" not in err, err
        assert said[0].removesuffix("(implicit_threshold= in Python, --implicit-threshold in the CLI)") in err
    # Python's train says its keyword alone
    train(spark, ratings, out=tmp_path / "python", test_size=0, implicit=True, rank=2, iterations=1)
    err = " ".join(capsys.readouterr().err.split())
    assert "set a threshold for this scale (implicit_threshold=)" in err and "--implicit" not in err, err
