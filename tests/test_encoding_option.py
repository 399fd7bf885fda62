"""A ratings file that is not UTF-8 (Excel on Windows saves cp1252) is read with ``encoding=`` in Python and
``--encoding`` in the CLI, for the ratings and the --movies file alike, and an experiment file records it so
a run loads the same text again. Before, the CLI had no way to read such a file: the error said to re-save
it, and a Python ``encoding=`` was not recorded, so the run's config.toml could not load its own data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from clihelp import run_process
from movierec.datasets import load_ratings_file
from movierec.errors import ConfigError, NotEncodedError
from movierec.experiment import DatasetConfig

ROWS = [
    ("Zoë", 1, 5.0, 964982703),
    ("Zoë", 2, 4.0, 964982704),
    ("Zoë", 3, 2.0, 964982705),
    ("André", 1, 4.5, 964982706),
    ("André", 3, 5.0, 964982707),
    ("Brontë", 2, 3.0, 964982708),
    ("Brontë", 3, 4.0, 964982709),
]
MOVIES = [
    (1, "Amélie (2001)", "Comedy|Romance"),
    (2, "Léon (1994)", "Action|Crime"),
    (3, "Heat (1995)", "Crime"),
]


@pytest.fixture
def cp1252_files(tmp_path: Path) -> tuple[Path, Path]:
    ratings = tmp_path / "ratings.csv"
    pd.DataFrame(ROWS, columns=["userId", "movieId", "rating", "timestamp"]).to_csv(
        ratings, index=False, encoding="cp1252"
    )
    movies = tmp_path / "movies.csv"
    pd.DataFrame(MOVIES, columns=["movieId", "title", "genres"]).to_csv(
        movies, index=False, encoding="cp1252"
    )
    return ratings, movies


def test_python_reads_a_cp1252_file_with_encoding_and_records_it(cp1252_files: tuple[Path, Path]) -> None:
    ratings, movies = cp1252_files
    with pytest.raises(NotEncodedError) as caught:
        load_ratings_file(ratings)
    msg = str(caught.value)
    assert "line 2: text is not valid UTF-8" in msg
    assert msg.endswith("or read it as it is (encoding='cp1252')"), msg  # Python's keyword alone
    assert "--encoding" not in msg and "in Python" not in msg, msg

    ds = load_ratings_file(ratings, encoding="Windows-1252", movies=movies)
    assert set(ds.interactions.user_map.ids) == {"Zoë", "André", "Brontë"}
    assert set(ds.movies["title"]) == {"Amélie (2001)", "Léon (1994)", "Heat (1995)"}
    assert ds.load_options["encoding"] == "cp1252"  # Python's own name for it

    again = DatasetConfig.of(str(ratings), ds.load_options).load()  # what an experiment file does
    assert set(again.interactions.user_map.ids) == {"Zoë", "André", "Brontë"}
    assert set(again.movies["title"]) == set(ds.movies["title"])

    utf8 = load_ratings_file(ratings, encoding="latin-1")
    assert "encoding" in utf8.load_options and utf8.load_options["encoding"] == "latin-1"


def test_python_refuses_an_unknown_encoding_and_a_movies_file_in_another(
    cp1252_files: tuple[Path, Path], tmp_path: Path
) -> None:
    ratings, movies = cp1252_files
    with pytest.raises(ConfigError, match="unknown text encoding 'klingon'"):
        load_ratings_file(ratings, encoding="klingon")
    utf8_ratings = tmp_path / "utf8.csv"
    utf8_ratings.write_text(ratings.read_bytes().decode("cp1252"), encoding="utf-8")
    with pytest.raises(NotEncodedError, match=r"movies.csv, line 2: .*\(encoding='cp1252'\)$"):
        load_ratings_file(utf8_ratings, movies=movies)  # the movies file is cp1252, the ratings UTF-8


def test_bytes_cp1252_cannot_read_suggest_latin1(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(b"userId,movieId,rating\nu\x81,1,4\nv,2,5\n")  # 0x81 is undefined in cp1252
    with pytest.raises(NotEncodedError, match=r"\(encoding='latin-1'\)$"):
        load_ratings_file(path)
    assert set(load_ratings_file(path, encoding="latin-1").interactions.user_map.ids) == {"u\x81", "v"}


def test_cli_reads_it_with_encoding_and_says_how_when_not_given(
    cp1252_files: tuple[Path, Path], tmp_path: Path
) -> None:
    ratings, movies = cp1252_files
    bad = run_process("data", "info", "--ratings", str(ratings), "--json", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1, bad.stderr
    assert "not valid UTF-8" in bad.stderr and "read it as it is with --encoding cp1252" in bad.stderr
    assert "in Python" not in bad.stderr and "encoding=" not in bad.stderr  # the command line's spelling only

    good = run_process(
        "data", "info", "--ratings", str(ratings), "--encoding", "cp1252", "--movies", str(movies), "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
    info = json.loads(good.stdout)
    assert info["n_users"] == 3 and info["n_ratings"] == 7 and info["n_catalog_items"] == 3

    for args, words in (
        (["--encoding", "cp1252"], "--encoding is a --ratings file's text encoding"),
        (["--ratings", str(ratings), "--encoding", "klingon"], "--encoding 'klingon': not a text encoding"),
    ):
        out = run_process("data", "info", *args, cwd=tmp_path)
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and words in out.stderr, out.stderr


def test_an_experiment_file_records_and_reloads_the_encoding(
    cp1252_files: tuple[Path, Path], tmp_path: Path
) -> None:
    ratings, movies = cp1252_files
    config = tmp_path / "exp.toml"
    config.write_text(
        f'k = 2\n\n[dataset]\nname = "{ratings}"\nencoding = "windows-1252"\nmovies = "{movies}"\n\n'
        '[[models]]\nname = "popularity"\n'
    )
    run = run_process("compare", "--config", str(config), "--out", str(tmp_path / "runs"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    (written,) = (tmp_path / "runs").glob("*/config.toml")
    assert 'encoding = "cp1252"' in written.read_text()
    rerun = run_process("compare", "--config", str(written), "--out", str(tmp_path / "again"), cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr

    config.write_text(config.read_text().replace("windows-1252", "klingon"))
    bad = run_process("compare", "--config", str(config), cwd=tmp_path)
    assert bad.returncode == 2 and "[dataset] encoding: unknown text encoding 'klingon'" in bad.stderr


def test_a_cli_door_reading_by_pythons_loader_names_no_keyword(
    cp1252_files: tuple[Path, Path], tmp_path: Path
) -> None:
    """An experiment file's [dataset] is read by Python's loader, whose refusal the CLI printed as it was:
    'or read it as it is (encoding='cp1252' in Python, --encoding cp1252 in the CLI)'. The refusal is a
    :class:`movierec.errors.Doors` now, so the command line prints its own words only (which flag, if any,
    fits a --config run is not pinned here: the file's ``encoding = "cp1252"`` is what reads it)."""
    ratings, _ = cp1252_files
    exp = tmp_path / "exp.toml"
    exp.write_text(f'[dataset]\nname = "{ratings.name}"\n\n[[models]]\nname = "popularity"\n')
    out = run_process("compare", "--config", str(exp), cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "not valid UTF-8" in out.stderr and "cp1252" in out.stderr, out.stderr
    assert "in Python" not in out.stderr and "encoding=" not in out.stderr, out.stderr


def test_the_encoding_typed_over_an_experiment_file_reads_its_files(
    cp1252_files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    """The refusal above tells the command line 'read it as it is with --encoding cp1252'; typed beside
    ``--config``, ``--encoding`` was dropped at compare, export and report alike (the file's [dataset] was
    read as UTF-8 again, the same refusal), and so were the other column options. Each door now reads the
    file's data with the typed options over the file's own, and a run records what it read with."""
    from clihelp import run_cli

    ratings, movies = cp1252_files
    monkeypatch.chdir(tmp_path)
    exp = tmp_path / "exp.toml"
    exp.write_text(f'k = 2\n\n[dataset]\nname = "{ratings.name}"\n\n[[models]]\nname = "popularity"\n')
    code, _, err = run_cli(["compare", "--config", str(exp), "--encoding", "cp1252", "--out", "runs"], capsys)
    assert code == 0, err
    (written,) = (tmp_path / "runs").glob("*/config.toml")
    assert 'encoding = "cp1252"' in written.read_text()
    code, _, err = run_cli(
        ["compare", "--config", str(exp), "--movies", str(movies), "--encoding", "cp1252", "--out", "r2"],
        capsys,
    )
    assert code == 0, err
    (written,) = (tmp_path / "r2").glob("*/config.toml")
    assert f'movies = "{movies.resolve()}"' in written.read_text()
    args = ["--config", str(exp), "--movies", str(movies), "--encoding", "cp1252"]
    code, _, err = run_cli(["export", *args, "--out", "art", "--no-check"], capsys)
    assert code == 0, err
    assert "Amélie (2001)" in set(pd.read_parquet(tmp_path / "art" / "items.parquet")["title"])
    code, _, err = run_cli(["report", *args, "--out", "rep", "--projection", "pca"], capsys)
    assert code == 0, err
    assert (tmp_path / "rep" / "index.html").is_file()


def test_a_column_option_beside_config_and_a_dataset_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``compare --config exp.toml --dataset ml-latest-small --encoding latin-1`` ran the experiment on the
    dataset and dropped ``--encoding`` (and any column option) without a word; a file whose [dataset] names
    a dataset answered in Python's words ("column options (encoding) apply to a ratings file or a
    DataFrame, not to 'ml-latest-small'"). Both now say what the option is about, as without --config, and
    as report and export do, before anything is read."""
    from clihelp import run_cli

    exp = tmp_path / "exp.toml"
    exp.write_text('[dataset]\nname = "ml-latest-small"\n\n[[models]]\nname = "popularity"\n')
    dataset = ["--dataset", "ml-latest-small"]
    reads = "; a --dataset reads its own files"
    for args, said in (
        ([*dataset, "--encoding", "latin-1"], f"--encoding is a --ratings file's text encoding{reads}"),
        ([*dataset, "--user-col", "u"], f"--user-col names a --ratings file's user column{reads}"),
        (
            [*dataset, "--movies", "m.csv"],
            "--movies gives titles to a --ratings file; a --dataset brings its own",
        ),
        (["--encoding", "latin-1"], f"--encoding is a --ratings file's text encoding{reads}"),  # the file's
    ):
        for command in ("compare", "export", "report"):
            out = ["--out", str(tmp_path / command)]
            code, stdout, err = run_cli([command, "--config", str(exp), *args, *out], capsys)
            assert (code, stdout, err) == (2, "", f"movierec: error: {said}\n"), (command, args)
    assert not any(tmp_path.glob("*/*")), list(tmp_path.glob("*/*"))  # nothing ran
    # without --config a column name typed beside a --dataset was dropped too (only the four others were said)
    code, _, err = run_cli(["recommend", "--user", "1", "--time-col", "ts"], capsys)
    assert (code, err) == (2, f"movierec: error: --time-col names a --ratings file's time column{reads}\n")
