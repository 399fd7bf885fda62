"""``movierec compare|recommend|similar`` end to end in a subprocess, and every bad input: exit 2, one line, no traceback."""

from __future__ import annotations

import csv
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clihelp import run_process
from movierec.cli.compare import match_title, parse_model_params
from movierec.errors import ConfigError, UnknownIdError


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_process(*args)


def assert_user_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def mlls150(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ml-latest-small's first 150 users as a MovieLens folder (``--dataset PATH``), written once for the
    tests that only read it: an ease fit on it takes ~0.03 CPU-s against ~0.5 on the whole file (5,017
    movies, not 9,724; one BLAS thread), and the lists, reasons and filters the tests check are the same code
    on either."""
    from datagen import mlls_first_users

    return mlls_first_users(tmp_path_factory.mktemp("mlls") / "mlls-150")


def run_here(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the console entry point in this process (same code path as the command; skips interpreter start-up)."""
    from movierec.cli import main

    capsys.readouterr()
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    cap = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, cap.out, cap.err)


@pytest.mark.slow
def test_compare_end_to_end_writes_results_and_charts(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    proc = run(
        "compare",
        "--models",
        "baseline,popularity",
        "--protocols",
        "rating,test-candidates,full-ranking",
        "--k",
        "10",
        "--out",
        str(out),
        "--params",
        "baseline.method=als",
    )
    assert proc.returncode == 0, proc.stderr
    # the table names the split, the protocols, marks winners, and notes the RMSE skip for popularity
    assert "ratings-holdout" in proc.stdout and "full-ranking" in proc.stdout and "★" in proc.stdout
    assert "rating skipped for popularity" in proc.stdout
    rows = json.loads((out / "results.json").read_text())
    assert {(r["model"], r["protocol"]) for r in rows} == {
        ("baseline", "rating"),
        ("baseline", "test-candidates"),
        ("baseline", "full-ranking"),
        ("popularity", "test-candidates"),
        ("popularity", "full-ranking"),
    }
    rating = next(r for r in rows if r["protocol"] == "rating")
    assert 0.7 < rating["rmse"] < 1.1 and 0.5 < rating["mae"] < rating["rmse"]
    full = next(r for r in rows if r["protocol"] == "full-ranking" and r["model"] == "popularity")
    for key in (
        "precision@10",
        "recall@10",
        "hit_rate@10",
        "ndcg@10",
        "map@10",
        "mrr",
        "coverage@10",
        "fit_seconds",
    ):
        assert isinstance(full[key], float), key
    lo, hi = full["intervals"]["ndcg@10"]
    assert lo <= full["ndcg@10"] <= hi
    assert full["provenance"]["dataset_sha256"] == full["dataset_sha256"] and full["seed"] == 42
    with open(out / "results.csv") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 5 and "ndcg@10_lo" in table[0]
    for png in ("rmse.png", "ranking.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_json_implicit_only(capsys: pytest.CaptureFixture[str]) -> None:
    proc = run_here(
        capsys,
        "compare",
        "--models",
        "popularity",
        "--protocols",
        "full-ranking",
        "--json",
        "--k",
        "5",
        "--seed",
        "3",
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert len(rows) == 1 and rows[0]["split"].startswith("interactions-holdout") and rows[0]["k"] == 5
    # the comparison's notes, which belong to no row, reach stderr as the table's do
    assert "note: interactions-holdout splits ratings ≥ 4 only" in " ".join(proc.stderr.split())


def test_compare_with_tag_features_says_the_test_pairs_tags_were_left_out(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--item-features tags: the tags users put on their own test movies are not features (they would
    name the test pairs), and one note says how many, in 80 columns; genres alone have nothing to say."""
    monkeypatch.setenv("COLUMNS", "80")
    args = ["compare", "--models", "ease", "--protocols", "full-ranking", "--item-features"]
    proc = run_here(capsys, *args, "genres,tags")
    assert proc.returncode == 0, proc.stderr
    said = " ".join((proc.stdout + proc.stderr).split())
    assert "note: tags: 496 tag applications on test pairs left out of the item features" in said
    assert max(len(line) for line in proc.stdout.splitlines() + proc.stderr.splitlines()) <= 80
    proc = run_here(capsys, *args, "genres", "--json")
    assert proc.returncode == 0 and "tag applications" not in proc.stderr


def test_compare_gives_the_ensemble_item_features_for_its_bases_that_take_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, mlls150: Path
) -> None:
    """compare --models ensemble --item-features noted "ensemble ignores item features" while its ease base
    takes them (collective EASE): now the ensemble is fitted with them and its row is named for them (on
    ml-latest-small's first 150 users: which models take the features does not rest on the data's size)."""
    monkeypatch.setenv("COLUMNS", "80")
    bases = 'ensemble.bases={"ease": {}, "rp3beta": {}}'  # two bases keep the fit to seconds
    args = ["compare", "-d", str(mlls150), "--models", "ensemble", "--protocols", "full-ranking"]
    args += ["--params", bases]
    proc = run_here(capsys, *args, "--item-features", "genres,year")
    assert proc.returncode == 0, proc.stderr
    said = " ".join((proc.stdout + proc.stderr).split())
    assert "ignores item features" not in said and "ensemble+genres+year" in said


def test_an_ensemble_whose_bases_take_no_item_features_is_said_to_ignore_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ensemble of slim alone was labelled ensemble+genres with no note: its fit takes item features
    (for the bases that would), but none of its bases learns from them. rp3beta alone is such an ensemble
    as well (Ensemble.uses_item_features asks each base's class, slim's and rp3beta's alike): its fit takes
    a fraction of slim's 7 CPU seconds on the bundled ratings."""
    monkeypatch.setenv("COLUMNS", "80")
    bases = 'ensemble.bases={"rp3beta": {}}'
    args = ["compare", "--models", "ensemble", "--protocols", "full-ranking", "--params", bases]
    proc = run_here(capsys, *args, "--item-features", "genres")
    assert proc.returncode == 0, proc.stderr
    said = " ".join((proc.stdout + proc.stderr).split())
    assert "note: ensemble ignores item features" in said and "ensemble+genres" not in said


def test_compare_json_rows_name_the_item_features_each_model_learned_from(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, mlls150: Path
) -> None:
    """The table said ease+genres,year while the JSON row said "model": "ease" and nothing more: each row
    now records its features by name (null for popularity, which ignores them), in --out's files too (on
    ml-latest-small's first 150 users: what a row records does not rest on the data's size)."""
    args = ["compare", "-d", str(mlls150), "--models", "ease,popularity", "--protocols", "full-ranking"]
    args += ["--item-features"]
    proc = run_here(capsys, *args, "genres,year", "--json", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    rows = {r["model"]: r for r in json.loads(proc.stdout)}
    assert rows["ease"]["item_features"] == "genres,year" and rows["popularity"]["item_features"] is None
    assert json.loads((tmp_path / "results.json").read_text())[0]["item_features"] == "genres,year"
    with open(tmp_path / "results.csv") as fh:
        table = {r["model"]: r for r in csv.DictReader(fh)}
    assert table["ease"]["item_features"] == "genres,year" and table["popularity"]["item_features"] == ""


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["compare", "--models", "svd,nope"], ["unknown model 'nope'", "svd"]),
        (["compare", "--models", "popularity", "--protocols", "auc"], ["unknown protocol 'auc'"]),
        (["compare", "--models", "popularity", "--split", "random"], ["unknown split 'random'"]),
        # Python's keyword in a CLI error ('k=100000 is larger…', 'test_size 200,000 must…', 'k must be…')
        (
            ["compare", "--models", "popularity", "--k", "100000"],
            ["--k 100000 is larger than the catalogue"],
        ),
        (
            ["compare", "--models", "popularity", "--test-size", "200000"],
            ["--test-size 200000 must hold out at least 1"],
        ),
        (["compare", "--models", "svd", "--k", "-1"], ["'--k'", "must be ≥ 1, got -1"]),
        (["compare", "--models", "popularity", "--cv", "1"], ["'--cv'", "must be ≥ 2, got 1"]),
        (["compare", "--models", "gru4rec", "--session-gap", "-1"], ["--session-gap must be seconds"]),
        (
            ["cold-users", "-m", "popularity", "--k", "100000"],
            ["--k 100000 is larger than the catalogue"],
        ),
        (["compare", "--models", "popularity", "--implicit-threshold", "6"], ["leaves no positives"]),
        (["compare", "--models", "svd", "--params", "svd.n_factors=-3"], ["n_factors"]),
        (["compare", "--models", "svd", "--params", "svd.bogus=1"], ["bogus"]),
        (["recommend", "--user", "999999", "--model", "popularity"], ["unknown user id '999999'"]),
        (
            ["recommend", "--user", "1", "--model", "warp", "--item-features", "genres,bogus"],
            ["unknown item feature 'bogus'", "genres, tags, year"],
        ),
        (["similar", "--movie", "zzqx no such film"], ["no movie title matches"]),
        (["similar", "--movie", "Star Wars"], ["matches", "Star Wars: Episode IV"]),
        # numpy takes seeds 0 … 2**32 - 1: -1 was a ValueError traceback from inside the split (exit 1)
        (["compare", "--models", "popularity", "--seed", "-1"], ["--seed", "must be ≥ 0, got -1"]),
        (
            ["recommend", "--user", "1", "--seed", "4294967296"],
            ["--seed", "must be ≤ 4294967295, got 4294967296"],
        ),
        # a negative floor was 'min_support must be …' (Python's name) after the note and the training
        (
            ["recommend", "--user", "1", "--min-support", "-1"],
            ["'--min-support'", "must be ≥ 0, got -1"],
        ),
        (["similar", "Toy Story", "--min-support", "-2"], ["'--min-support'", "must be ≥ 0, got -2"]),
        (
            ["export", "-m", "popularity", "--min-support", "-2"],
            ["'--min-support'", "must be ≥ 0, got -2"],
        ),
        # report's option is --map-items; it said '--sample 2' (embed's name), after loading the data
        (["report", "--map-items", "2"], ["--map-items 2: a map needs at least 3 items"]),
        # each of k folds holds out 1/k: a test size typed beside --cv was silently ignored
        (
            ["compare", "-m", "popularity", "--cv", "2", "--test-size", "0.3"],
            [
                "--test-size 0.3 is unused with --cv 2",
                "1/2 of the positives",
                "or drop --cv for one hold-out",
            ],
        ),
        # nan compared false with every rating: 'leaves no positives … lower the threshold'
        (
            ["compare", "-m", "popularity", "--implicit-threshold", "nan"],
            ["must be a finite number, got --implicit-threshold nan"],
        ),
        # the bundled data ignored a declared scale; now its ratings outside it are counted
        (
            ["data", "info", "--rating-scale", "1", "3"],
            ["63,086 bad rows", "outside the declared scale 1..3"],
        ),
        (["embed", "--sample", "x"], ["--sample 'x': give a number of items or 'all'"]),
    ],
)
def test_bad_inputs_exit_2_with_one_line(
    args: list[str], needles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert_user_error(run_here(capsys, *args), *needles)


def test_bad_input_in_a_real_process() -> None:
    assert_user_error(run("compare", "--models", "svd,nope"), "unknown model 'nope'", "svd")


def test_bad_inputs_on_small_custom_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.csv"
    pd.DataFrame(
        {
            "userId": [1, 1, 2, 3, 3],
            "movieId": [1, 2, 1, 2, 3],
            "rating": [4, 5, 3, 4, 2],
            "timestamp": [1, 2, 3, 4, 5],
        }
    ).to_csv(path, index=False)
    assert_user_error(
        run_here(
            capsys, "compare", "--ratings", str(path), "--models", "popularity", "--cv", "6", "--k", "2"
        ),
        "cv folds (6) cannot exceed the number of positives",
        "(3)",
    )
    assert_user_error(
        run_here(capsys, "compare", "--ratings", str(path), "--models", "baseline", "--cv", "6", "--k", "2"),
        "cv folds (6) cannot exceed the number of ratings (5)",
    )
    assert_user_error(
        run_here(
            capsys,
            "compare",
            "--ratings",
            str(path),
            "--models",
            "popularity",
            "--split",
            "per-user",
            "--k",
            "2",
        ),
        "at least 2 ratings per user",
        "user 2 has 1",
    )


def test_recommend_and_similar_print_titles(capsys: pytest.CaptureFixture[str]) -> None:
    rec = run_here(capsys, "recommend", "--user", "1", "--model", "popularity", "-k", "5", "--json")
    assert rec.returncode == 0, rec.stderr
    rows = json.loads(rec.stdout)
    assert len(rows) == 5 and all(r["title"] for r in rows)
    sim = run_here(capsys, "similar", "--movie", "toy story", "--model", "itemknn", "-k", "5")
    assert sim.returncode == 0, sim.stderr
    assert "Toy Story (1995)" in sim.stdout and "similarity" in sim.stdout


def test_recommend_hybrid_warp_with_item_features_prints_titles(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("recommend", "--user", "1", "--model", "warp", "-k", "5", "--params", "epochs=5")
    rec = run_here(capsys, *args, "--item-features", "genres,tags")
    assert rec.returncode == 0, rec.stderr
    assert "warp with item features genres,tags trained on ml-latest-small" in " ".join(rec.stdout.split())
    rows = json.loads(run_here(capsys, *args, "--item-features", "genres,tags", "--json").stdout)
    assert len(rows) == 5 and all(r["title"] and r["movieId"] for r in rows)
    from movierec.datasets import load

    inter = load("ml-latest-small").interactions.to_implicit(4.0)
    liked = inter.items[inter.users == inter.user_map.index(1)]
    seen = {int(inter.item_map.ids[i]) for i in liked}
    assert not seen & {int(r["movieId"]) for r in rows}
    plain = json.loads(run_here(capsys, *args, "--json").stdout)
    assert [r["score"] for r in plain] != [r["score"] for r in rows]  # the features change the model


def test_match_title_is_case_and_accent_insensitive() -> None:
    titles = [
        "Toy Story (1995)",
        "Toy Story 2 (1999)",
        "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)",
        "Matrix, The (1999)",
        "Star Wars: Episode IV - A New Hope (1977)",
        "Star Wars: Episode V (1980)",
    ]
    assert match_title("toy story", titles) == 0  # exact title without the year wins over 'Toy Story 2'
    assert match_title("TOY STORY 2", titles) == 1
    assert match_title("amelie", titles) == 2
    assert match_title("the matrix", titles) == 3
    assert match_title("Toy Stroy", titles) == 0  # close spelling
    with pytest.raises(ConfigError, match="matches 2 movies"):
        match_title("star wars", titles)
    with pytest.raises(UnknownIdError):
        match_title("Casablanca", titles)


def test_suggestions_skip_only_titles_that_cannot_reach_the_floor() -> None:
    """The suggestions' similarity skips a comparison whose difflib upper bounds are under SUGGEST (2-3x
    faster misses); every title it keeps has the exact similarity, and every one it drops is below SUGGEST."""
    from movierec import load
    from movierec.titles import SUGGEST, _similarity, title_keys

    titles = [str(t) for t in load("ml-latest-small").catalog["title"]][::4]
    for query in ("toy stroyy zq", "matrx", "the godfather part", "zzqqx", "star wars episode"):
        for title in titles:
            bare = title_keys(title)[1]
            full, pruned = _similarity(query, bare), _similarity(query, bare, SUGGEST)
            assert pruned == full if full >= SUGGEST else pruned < SUGGEST, (query, title)


def test_a_number_is_looked_for_in_titles_not_in_their_years() -> None:
    """'1' used to match every title of a year with a 1 in it; a number that is a movie id says so."""
    titles = ["Toy Story (1995)", "Apollo 13 (1995)", "Heat (1995)", "300 (2007)", "Jumanji (1995)"]
    assert match_title("300", titles) == 3  # an exact title that is a number
    assert match_title("13", titles) == 1  # in one title, not in the years 1995 and 2013
    assert match_title("apollo 13 (1995)", titles) == 1 and match_title("heat (19", titles) == 2
    with pytest.raises(UnknownIdError, match=r"did you mean --movie-id 1, Toy Story \(1995\)\?$"):
        match_title("1", titles, ids={"1": 0})  # '1' is a whole number nowhere
    titles.append("Kill Bill: Vol. 1 (2003)")
    assert match_title("1", titles) == 5  # where it is one
    titles.append("Harry Potter and the Deathly Hallows: Part 1 (2010)")
    with pytest.raises(
        ConfigError, match=r"matches 2 movies.*did you mean --movie-id 1, Toy Story \(1995\)\?"
    ):
        match_title("1", titles, ids={"1": 0})
    with pytest.raises(UnknownIdError, match=r"try part of the title or --movie-id$"):
        match_title("999", titles, ids={"1": 0})  # not an id either


def test_titles_that_read_the_same_are_named_by_their_ids() -> None:
    """ml-100k has 'Ice Storm, The (1997)' twice (movieIds 305 and 865): "be more specific" could not
    help, so the two are listed with their ids (', movieId 305': ' [305]' after a title reads as a year) and
    the error names the flag that takes one."""
    from movierec.interactions import IdMap

    titles = ["Ice Storm, The (1997)", "Heat (1995)", "Ice Storm, The (1997)", "Toy Story (1995)"]
    ids = IdMap(np.array([305, 6, 865, 1]))
    with pytest.raises(ConfigError) as err:
        match_title("ice storm", titles, ids=ids)
    assert str(err.value) == (
        "'ice storm' matches 2 movies: Ice Storm, The (1997), movieId 305; "
        "Ice Storm, The (1997), movieId 865; use --movie-id"
    )
    with pytest.raises(ConfigError, match=r"Ice Storm, The \(1997\); Ice Storm.*be more specific or use"):
        match_title("ice storm", titles)  # no id map: nothing to name them by


def test_a_part_of_a_title_that_is_a_whole_word_in_one_title_names_it() -> None:
    """'Episode V' is also in 'Episode VI' and 'VII'; as whole words it is in one title, which it names.
    Where whole words leave several, only those are listed; where none has it as words, every title does."""
    titles = [
        "Star Wars: Episode IV - A New Hope (1977)",
        "Star Wars: Episode V - The Empire Strikes Back (1980)",
        "Star Wars: Episode VI - Return of the Jedi (1983)",
        "Star Wars: Episode VII - The Force Awakens (2015)",
        "Aliens (1986)",
        "Alien³ (a.k.a. Alien 3) (1992)",
        "Alien Nation (1988)",
    ]
    assert match_title("star wars: episode v", titles) == 1
    assert match_title("Episode VI", titles) == 2
    assert match_title("alien 3", titles) == 5
    with pytest.raises(ConfigError, match=r"'star wars' matches 4 movies"):
        match_title("star wars", titles)
    with pytest.raises(
        ConfigError, match=r"'alien' matches 2 movies: Alien³ \(a.k.a. Alien 3\) \(1992\); Alien Nation"
    ):
        match_title("alien", titles)
    with pytest.raises(ConfigError, match=r"'alie' matches 3 movies"):
        match_title("alie", titles)


@pytest.mark.parametrize(
    "command",
    [["recommend", "--user", "1"], ["similar", "--movie-id", "10"], ["export", "--out", "art"], ["embed", "--out", "map"]],
    ids=["recommend", "similar", "export", "embed"],
)  # fmt: skip
def test_params_for_another_model_name_the_one_model_option(tmp_path, monkeypatch, capsys, command) -> None:
    """A one-model command said "is not among --models (ease)", an option it does not have: it names its
    --model now; compare, which takes --models, still says "among --models"."""
    ratings = tmp_path / "r.csv"
    ratings.write_text("userId,movieId,rating,timestamp\n1,10,4,1\n1,20,3,2\n2,10,5,3\n2,30,2,4\n3,20,4,5\n")
    monkeypatch.chdir(tmp_path)  # export and embed would write there, had --params passed
    bad = ["--ratings", str(ratings), "--params", "svd.factors=10"]
    proc = run_here(capsys, *command, "--model", "ease", *bad)
    assert proc.returncode == 2 and proc.stderr.strip() == (
        "movierec: error: --params 'svd.factors=10': model 'svd' is not --model (ease)"
    )
    assert not list(tmp_path.glob("art*")) + list(tmp_path.glob("map*"))
    proc = run_here(capsys, "compare", "--models", "ease,popularity", *bad)
    assert proc.returncode == 2 and "model 'svd' is not among --models (ease, popularity)" in proc.stderr


def test_a_title_asked_of_data_without_titles_says_there_are_none(tmp_path, capsys) -> None:
    """A --ratings file without --movies shows every movie as 'item 318'; --movie "Toy Story" said "no movie
    title matches; try part of the title", sending a person after spellings that cannot match. It says the
    data has no titles, where they come from and which id to give (the most-rated movie's); a movieId is
    that movie; with --movies the same title is found."""
    ratings = tmp_path / "r.csv"
    ratings.write_text(
        "userId,movieId,rating,timestamp\n1,318,4,1\n1,20,3,2\n2,318,5,3\n2,30,2,4\n3,20,4,5\n3,318,4,6\n"
    )
    no_titles = "this data has no movie titles (pass --movies FILE with movieId,title[,genres]); "
    no_titles = f"movierec: error: --movie: {no_titles}"  # each title option names itself (--rated: …)
    proc = run_here(capsys, "similar", "--ratings", str(ratings), "--movie", "Toy Story", "-k", "1")
    assert proc.returncode == 2 and proc.stderr.strip() == no_titles + "give --movie-id 318 instead"
    proc = run_here(capsys, "similar", "--ratings", str(ratings), "--movie", "item 20", "-k", "1")
    assert proc.returncode == 2 and proc.stderr.strip() == no_titles + "give --movie-id 318 instead"
    no_titles = no_titles.replace("--movie: ", "--rated: ")
    # a movieId is that movie, as every door reads it (test_cli_doors_agree); it was this refusal
    proc = run_here(capsys, "similar", "--ratings", str(ratings), "--movie", "20", "-k", "1", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["movieId"] == 20, proc.stderr
    proc = run_here(capsys, "recommend", "--ratings", str(ratings), "--rated", "Toy Story=4", "-k", "1")
    assert proc.returncode == 2 and proc.stderr.strip() == no_titles + "give the movieId 318 instead"
    movies = tmp_path / "movies.csv"
    movies.write_text("movieId,title\n318,Toy Story (1995)\n20,Heat (1995)\n30,Alien (1979)\n")
    proc = run_here(
        capsys,
        "similar",
        "--ratings",
        str(ratings),
        "--movies",
        str(movies),
        "--movie",
        "Toy Story",
        "-k",
        "1",
        "--json",
    )
    assert proc.returncode == 0 and json.loads(proc.stdout)["movie"] == "Toy Story (1995)", proc.stderr


def test_parse_model_params() -> None:
    got = parse_model_params(
        ["svd.n_factors=100,svd.lr=0.01", "knn-baseline.sim=cosine"], ["svd", "knn-baseline"]
    )
    assert got == {"svd": {"n_factors": 100, "lr": 0.01}, "knn-baseline": {"sim": "cosine"}}
    assert parse_model_params(["n_factors=5"], ["svd"]) == {"svd": {"n_factors": 5}}
    with pytest.raises(ConfigError, match="say which model"):
        parse_model_params(["n_factors=5"], ["svd", "baseline"])
    with pytest.raises(ConfigError, match="not among --models"):
        parse_model_params(["als.factors=5"], ["svd"])
    # a JSON value keeps its commas: only commas outside brackets and double quotes separate parameters
    got = parse_model_params(
        ['ensemble.bases={"ease": {"l2": 60}, "ials": {"factors": 64}},ensemble.folds=3', "sasrec.x=[1, 2]"],
        ["ensemble", "sasrec"],
    )
    assert got == {
        "ensemble": {"bases": {"ease": {"l2": 60}, "ials": {"factors": 64}}, "folds": 3},
        "sasrec": {"x": [1, 2]},
    }
    assert parse_model_params(['svd.note="a,b",svd.k=2'], ["svd"]) == {"svd": {"note": "a,b", "k": 2}}


def test_surprise_spellings_in_params_run_under_our_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--params svd.lr_all=…`` trains (results record our names); a Surprise name with no exact counterpart
    here is one line saying what it is called here, exit 2."""
    from clihelp import run_cli
    from datagen import make_ratings

    make_ratings(60, 40, 0.3, seed=1).to_csv(tmp_path / "r.csv", index=False)
    base = ["compare", "--ratings", str(tmp_path / "r.csv"), "--models", "svd", "--protocols", "rating"]
    code, out, err = run_cli(
        [*base, "--params", "svd.lr_all=0.02,svd.reg_all=0.05,svd.n_epochs=2", "--json"], capsys
    )
    assert code == 0, err
    params = json.loads(out)[0]["params"]
    want = {"learning_rate": 0.02, "lr_bias": 0.02, "regularization": 0.05, "reg_bias": 0.05}
    assert {k: params[k] for k in want} == want
    assert params["epochs"] == 2 and not {"lr_all", "reg_all", "n_epochs"} & set(params)
    code, out, err = run_cli([*base, "--params", "svd.lr_bu=0.01"], capsys)
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert line.endswith("svd has no 'lr_bu': Surprise's per-bias learning rates are one here, lr_bias")


def test_recommend_and_similar_from_an_artifact(
    tmp_path: Path, bundled, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pyarrow")
    from movierec.cli import main
    from movierec.models.registry import create
    from movierec.serving.artifact import export_artifact

    train = bundled.interactions.to_implicit(4.0)
    model = create("itemknn").fit(train)
    art = export_artifact(model, bundled, train, tmp_path / "art")
    with pytest.raises(SystemExit) as exc:
        main(["recommend", "--artifact", str(art), "--user", "1", "-k", "3", "--json"])
    assert exc.value.code == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3 and all(r["title"] for r in rows)
    # the artifact ranks exactly as the fitted model does, less every movie user 1 rated (low ratings too)
    u = bundled.interactions.user_map.index(1)
    rated = bundled.interactions.csr()[u].indices
    candidates = np.setdiff1d(np.arange(train.n_items), rated)
    want, _ = model.recommend(np.array([u]), 3, candidates=candidates)
    assert [r["movieId"] for r in rows] == bundled.interactions.item_map.to_raw(want[0]).tolist()
    for who in (["--user", "1"], ["--rated", "Jumanji=5"]):  # the CLI's words, not the artifact's art.genres
        with pytest.raises(SystemExit) as exc:
            main(["recommend", "--artifact", str(art), *who, "--genre", "zzz"])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and "--genre: unknown genre 'zzz' (e.g. Action, " in err, err
        assert err.endswith(f"; all 19 genres: movierec data info --artifact {art}\n"), err
    with pytest.raises(SystemExit) as exc:
        main(["similar", "--artifact", str(art), "--movie", "jumanji", "-k", "4", "--json"])
    assert exc.value.code == 0
    sim = json.loads(capsys.readouterr().out)
    assert sim["movie"] == "Jumanji (1995)" and sim["movieId"] == 2 and len(sim["similar"]) == 4
    # by lift unless asked for the model's own (itemknn cosine here): the artifact's two lists, as the API's
    from movierec.serving.artifact import load_artifact

    loaded = load_artifact(art)
    assert sim["by"] == "lift" and [r["movieId"] for r in sim["similar"]] == [
        r["movieId"] for r in loaded.similar_rows(2, 4, by="lift")
    ]
    with pytest.raises(SystemExit):
        main(["similar", "--artifact", str(art), "--movie", "jumanji", "-k", "4", "--by", "model", "--json"])
    own = json.loads(capsys.readouterr().out)
    assert own["by"] == "model" and [r["movieId"] for r in own["similar"]] == [
        r["movieId"] for r in loaded.similar_rows(2, 4, by="model")
    ]
    assert own["similar"] != sim["similar"]


def test_an_unknown_user_is_one_line_with_the_ids_there_are_before_any_training(
    tmp_path: Path, bundled
) -> None:
    """``recommend --user 99999`` said 'unknown user id' after the model had trained (ensemble: 8 s, its
    'fitting ensemble …' lines on stderr first) and named neither the ids there are nor --rated; from an
    artifact it said 'unknown user id '99999'' alone. Now one line from the loaded data, before training,
    in a real process: the piped 'fitting' lines would make it three."""
    from movierec.models.registry import create
    from movierec.serving.artifact import export_artifact

    hint = ("its 610 users have ids 1 to 610", "for someone not in the data", "--rated TITLE=RATING")
    proc = run("recommend", "--user", "99999", "--model", "ensemble")
    assert_user_error(proc, "unknown user id '99999' in ml-latest-small (its 610 users", *hint)
    assert_user_error(run("recommend", "--user", "abc"), "unknown user id 'abc'", *hint)
    train = bundled.interactions.to_implicit(4.0)
    art = export_artifact(create("popularity").fit(train), bundled, train, tmp_path / "art")
    line = assert_user_error(run("recommend", "--artifact", str(art), "--user", "99999"), *hint)
    assert f"unknown user id '99999' in artifact {art} (its " in line


def test_similar_by_movie_id_and_unknown_id(capsys: pytest.CaptureFixture[str]) -> None:
    ok = run_here(capsys, "similar", "--movie-id", "1", "--model", "itemknn", "-k", "3", "--json")
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    assert out["movie"] == "Toy Story (1995)" and out["movieId"] == 1 and len(out["similar"]) == 3
    assert all(r["movieId"] != 1 for r in out["similar"])
    assert_user_error(run_here(capsys, "similar", "--movie-id", "987654321"), "unknown movie id '987654321'")
    assert_user_error(run_here(capsys, "similar", "--movie", "Heat", "--movie-id", "6"), "exactly one movie")
    assert_user_error(run_here(capsys, "similar"), 'a TITLE (movierec similar "Toy Story") or --movie-id ID')
    assert_user_error(run_here(capsys, "similar", "Heat", "--movie", "Alien"), "give the title once")


def test_similar_takes_the_title_as_its_argument(capsys: pytest.CaptureFixture[str], mlls150: Path) -> None:
    """``movierec similar "Toy Story"`` (what a newcomer types) lists what ``--movie "Toy Story"`` lists.

    On ``mlls150`` (ml-latest-small's first 150 users, with its movies file): the argument is parsed and the
    title matched the same on any data with titles, and each itemknn fit is over 5,017 movies, not 9,724."""
    data = ("-d", str(mlls150))
    positional = run_here(capsys, "similar", *data, "Toy Story", "--model", "itemknn", "-k", "3", "--json")
    option = run_here(
        capsys, "similar", *data, "--movie", "Toy Story", "--model", "itemknn", "-k", "3", "--json"
    )
    assert positional.returncode == 0, positional.stderr
    assert json.loads(positional.stdout) == json.loads(option.stdout)
    assert json.loads(positional.stdout)["movie"] == "Toy Story (1995)"


def test_similar_by_default_lists_toy_story_2_first_for_toy_story(capsys: pytest.CaptureFixture[str]) -> None:
    """The default (itemknn, lift similarity) lists what goes with Toy Story more than chance says: Toy
    Story 2 and other family films, not the most-rated films (itemknn's cosine put Star Wars, Shawshank and
    Forrest Gump in its top 4)."""
    out = run_here(capsys, "similar", "--movie", "Toy Story", "-k", "10", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["similar"]
    assert rows[0]["movieId"] == 3114  # Toy Story 2
    family = sum("Children" in r["genres"] or "Animation" in r["genres"] for r in rows)
    assert family >= 5, [r["title"] for r in rows]
    table = run_here(capsys, "similar", "Toy Story", "-k", "3")
    assert "itemknn (lift) trained on ml-latest-small" in " ".join(table.stdout.split()), table.stdout
    # --params reach the default's itemknn (a stronger shrinkage favours movies liked by more people)
    shrunk = json.loads(
        run_here(capsys, "similar", "Toy Story", "-k", "10", "-p", "shrink=50", "--json").stdout
    )
    assert shrunk["by"] == "lift" and [r["movieId"] for r in shrunk["similar"]] != [
        r["movieId"] for r in rows
    ]


def test_similar_by_default_on_ml100k_lists_family_films_for_toy_story(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ml-100k's Toy Story list opened with Star Wars, Liar Liar and Fargo under ease's weights (they grow
    with popularity); lift lists Disney's animated films first (bench/similar_study.py)."""
    from datagen import ml100k_path

    path = ml100k_path()
    if path is None:
        pytest.skip("ml-100k not found in ../shared/data or $MOVIEREC_DATA (its terms forbid bundling it)")
    out = run_here(capsys, "similar", "Toy Story", "--dataset", str(path), "-k", "5", "--json")
    assert out.returncode == 0, out.stderr
    titles = [r["title"] for r in json.loads(out.stdout)["similar"]]
    assert {"Beauty and the Beast (1991)", "Aladdin (1992)", "Lion King, The (1994)"} <= set(titles), titles
    assert "Star Wars (1977)" not in titles and "Fargo (1996)" not in titles, titles


def test_recommend_keeps_only_the_genres_asked_for(capsys: pytest.CaptureFixture[str], mlls150: Path) -> None:
    """--genre (repeated or A,B) is the API's ?genres=: every listed movie has one of them, for a known
    user and for someone not in the data; a misspelt genre fails before training and names the known ones.
    The three lists read ml-latest-small's first 150 users (``mlls150``): the filter is the same on the whole
    file, where its three ease fits took 2.2 CPU-s against 0.8."""
    data = ("-d", str(mlls150))
    args = ["recommend", *data, *"--user 1 -m ease -g Comedy -g animation -k 8 --json".split()]
    out = run_here(capsys, *args)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 8 and all({"Comedy", "Animation"} & set(r["genres"]) for r in rows), rows
    unfiltered = json.loads(
        run_here(capsys, "recommend", *data, "--user", "1", "-m", "ease", "-k", "8", "--json").stdout
    )
    assert [r["movieId"] for r in rows] != [r["movieId"] for r in unfiltered]
    out = run_here(
        capsys,
        "recommend",
        *data,
        "--rated",
        "Alien=5",
        "-m",
        "ease",
        "-g",
        "Horror,Sci-Fi",
        "-k",
        "5",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    recs = json.loads(out.stdout)["recommendations"]
    assert len(recs) == 5 and all({"Horror", "Sci-Fi"} & set(r["genres"]) for r in recs)
    assert_user_error(
        run_here(capsys, "recommend", "--user", "1", "-g", "Comedie"), "unknown genre 'Comedie'", "Comedy"
    )
    assert_user_error(
        run_here(capsys, "recommend", "--all-users", "-g", "Comedy"), "--genre filters one list"
    )


def test_an_empty_similar_list_says_why(capsys: pytest.CaptureFixture[str], mlls150: Path) -> None:
    """'Toy, The (1982)' has four ratings, all below 4: no one liked it, so lift (the default) lists nothing,
    and ease (trained on positives) knows nothing of it. The command said nothing and printed an empty table;
    now a note names the reason and how to get another list (and --json carries it).

    The five lists read ml-latest-small's first 150 users as a MovieLens folder (``--dataset PATH``): one of
    Toy, The's four raters (user 45, 3 stars) is among them, so it is rated and never liked there too, and
    each lift table or ease fit is over 5k movies, not 9.7k."""
    folder = ("--dataset", str(mlls150))
    out = run_here(capsys, "similar", *folder, "--movie", "Toy, The", "-k", "3")
    assert out.returncode == 0, out.stderr
    err = " ".join(out.stderr.split())
    assert "no movie was liked together with Toy, The (1982) (ratings ≥ 4)" in err
    assert "the model's own list: -m MODEL (a rating model such as svd places every rated movie)" in err
    assert "┃" not in out.stdout  # no empty table
    out = run_here(capsys, "similar", *folder, "--movie", "Toy, The", "-m", "ease", "-k", "3")
    assert "ease learned nothing about Toy, The (1982): none of its ratings reaches 4" in " ".join(
        out.stderr.split()
    )
    data = json.loads(run_here(capsys, "similar", *folder, "--movie", "Toy, The", "-k", "3", "--json").stdout)
    assert data["similar"] == [] and "liked together" in data["note"] and data["by"] == "lift"
    # a support floor above every linked movie says so, and how to lift it
    out = run_here(
        capsys, "similar", *folder, "--movie", "Toy Story", "--min-support", "100000", "-k", "3", "--json"
    )
    assert "fewer than 100000 training ratings; --min-support 0 lists them" in json.loads(out.stdout)["note"]
    ok = json.loads(run_here(capsys, "similar", *folder, "--movie", "Toy Story", "-k", "3", "--json").stdout)
    assert "note" not in ok and len(ok["similar"]) == 3


def _planted_chain_folder(folder: Path) -> Path:
    """Users walk movie i -> i+1; user 1000 watched 3, 9, 5, 7 (in that time order, rows shuffled, the last one disliked)."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(1, 41):
        start = int(rng.integers(1, 15))
        rows += [(u, start + t, 4.0, 1_000_000_000 + 3600 * t) for t in range(6)]
    for t, (movie, rating) in enumerate([(3, 4.0), (9, 5.0), (5, 4.5), (7, 1.0)]):
        rows.append((1000, movie, rating, 1_100_000_000 + 3600 * t))
    df = pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])
    folder.mkdir()
    df.sample(frac=1.0, random_state=1).to_csv(
        folder / "ratings.csv", index=False
    )  # row order is not time order
    return folder


def test_recommend_for_a_sequence_model_follows_the_users_latest_movie(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _planted_chain_folder(tmp_path / "chain")
    rec = run_here(
        capsys,
        "recommend",
        "--user",
        "1000",
        "--model",
        "markov",
        "-k",
        "3",
        "--json",
        "--dataset",
        str(data),
    )
    assert rec.returncode == 0, rec.stderr
    rows = json.loads(rec.stdout)
    # the latest movie is 7 (rated 1.0, so it would vanish from a positives-only history): next is 8
    assert rows[0]["movieId"] == 8, rows
    assert not {r["movieId"] for r in rows} & {3, 5, 7, 9}


def test_compare_leave_last_out_protocol_picks_its_split(capsys: pytest.CaptureFixture[str]) -> None:
    res = run_here(
        capsys, "compare", "--protocols", "leave-last-out", "--models", "popularity,markov", "--json"
    )
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert {r["protocol"] for r in rows} == {"leave-last-out"} and {r["model"] for r in rows} == {
        "popularity",
        "markov",
    }
    ndcg = {r["model"]: r["ndcg@10"] for r in rows}
    assert ndcg["markov"] > ndcg["popularity"]


def test_compare_sampled_flag_adds_sampled_figures_with_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    """``--sampled`` adds sampled-100 HR/NDCG on the same leave-last-out split, warned about on stderr."""
    res = run_here(
        capsys,
        "compare",
        "--protocols",
        "leave-last-out",
        "--sampled",
        "--models",
        "popularity,markov",
        "--json",
    )
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert {r["protocol"] for r in rows} == {"leave-last-out", "sampled"}
    assert "sampled metrics" in res.stderr and "Krichene" in res.stderr
    by = {(r["model"], r["protocol"]): r for r in rows}
    for model in ("popularity", "markov"):
        full, samp = by[(model, "leave-last-out")], by[(model, "sampled")]
        assert samp["threshold"] is None and samp["split"] == full["split"]  # the next item, one split
        # the same test item ranked among 100 negatives instead of the whole catalogue: never harder
        assert samp["hit_rate@10"] >= full["hit_rate@10"] and samp["n_users"] == full["n_users"]


def test_progress_prints_why_a_model_stopped_training() -> None:
    """An early-stopping model's reason (e.g. sasrec's time budget) stays on screen after the bars go."""
    import io

    from rich.console import Console
    from rich.progress import Progress

    from movierec.cli.compare import _RichProgress

    out = io.StringIO()
    with Progress(console=Console(file=out, width=100), transient=True) as progress:
        events = _RichProgress(progress)
        events({"event": "fit-start", "model": "sasrec", "epochs": 200})
        events(
            {
                "event": "fit-end",
                "model": "sasrec",
                "seconds": 181.2,
                "stopped": "time budget",
                "epochs_run": 23,
            }
        )
        events({"event": "fit-start", "model": "svd", "epochs": 25})
        events({"event": "fit-end", "model": "svd", "seconds": 0.05, "stopped": None, "epochs_run": 25})
        events({"event": "fit-start", "model": "gru4rec", "epochs": 200})
        events({"event": "fit-end", "model": "gru4rec", "seconds": 11.0, "stopped": "time budget", "epochs_run": 1})  # fmt: skip
    text = out.getvalue()
    assert "sasrec · training stopped (time budget) after 181 s, 23 epochs" in text
    assert "gru4rec · training stopped (time budget) after 11 s, 1 epoch\n" in text  # not '1 epochs'
    assert "svd · training stopped" not in text


def test_similar_shows_small_weights_to_three_significant_digits(capsys: pytest.CaptureFixture[str]) -> None:
    """ease's 'similar' weights are ~0.004–0.007: the table shows 0.00712-style figures, not ten rows of 0.004."""
    from movierec.tables import score_decimals

    assert score_decimals([4.95, 4.9]) == 3 and score_decimals([0.136, 0.09]) == 3
    assert score_decimals([0.00712, 0.00415]) == 5 and score_decimals([0.0, float("-inf")]) == 3
    sim = run_here(capsys, "similar", "--movie", "toy story", "-m", "ease", "-k", "5")
    assert sim.returncode == 0, sim.stderr
    cells = [
        c.strip()
        for line in sim.stdout.splitlines()
        if "│" in line
        for c in line.split("│")[4:5]
        if c.strip()
    ]
    assert len(cells) == 5 and all(len(c.split(".")[1]) == 5 for c in cells), sim.stdout
    assert len(set(cells)) >= 3  # the figures now tell the rows apart


def test_a_small_score_beside_a_large_one_does_not_read_zero(capsys: pytest.CaptureFixture[str]) -> None:
    """markov's list for user 1 read 0.143, then 0.000 on every other row (0.000449 … 0.000272: movies no
    transition from the user's last movie reaches, still in the model's order), as if it scored them
    nothing. A score the column's decimals would print as zero gets two significant digits, and the column
    those decimals; a column whose every score shows already is unchanged."""
    from movierec.tables import score_decimals

    assert score_decimals([0.142893, 0.000449, 0.000272]) == 5
    assert score_decimals([0.136, 0.0004]) == 5 and score_decimals([0.136, 0.0006]) == 3  # 0.001 shows
    assert score_decimals([28.9, 5.2, 0.0]) == 3  # a zero is a zero
    rec = run_here(capsys, "recommend", "--user", "1", "-m", "markov", "-k", "5")
    assert rec.returncode == 0, rec.stderr
    cells = [c.strip() for line in rec.stdout.splitlines() if "│" in line for c in line.split("│")[4:5]]
    assert len(cells) == 5 and not any(float(c) == 0.0 for c in cells), rec.stdout


def test_a_markov_list_says_which_rows_are_its_popularity_back_off(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """markov's list for user 1 read 0.14289 on row 1, then 0.00045 … 0.00025 on rows 2-10, with nothing to
    say why: row 1 (28 Days) followed user 1's latest movie (20 Dates) in someone's training history, and no
    movie of rows 2-10 ever did, so their scores are the model's popularity back-off, α·p(j) / (C + α), in
    the order of their training ratings. The CLI's table, its --json run (on stderr: the rows carry no
    notes), the Python API and an exported artifact now say so under the list; a slice of the list does not
    (its rows are others), and a list every row of which followed the movie has no such line."""
    import movierec
    from movierec.datasets import load
    from movierec.scoring.markov import back_off_note

    assert back_off_note([True, True], "A (1990)", "user 7's") is None
    assert back_off_note([True, False, False, True, False], "A (1990)", "user 7's") == (
        "rows 2-3, 5: in training no one rated them next after A (1990), user 7's latest movie; their scores "
        "are the popularity back-off (most ratings first)"
    )
    assert back_off_note([True, False], "A (1990)", "u's").startswith("row 2: in training no one rated it ")
    assert back_off_note([False, False], "A (1990)", "u's").startswith("every row: ")  # type: ignore[union-attr]
    said = (
        "rows 2-10: in training no one rated them next after 20 Dates (1998), user 1's latest movie; their "
        "scores are the popularity back-off (most ratings first)"
    )
    rec = run_here(capsys, "recommend", "--user", "1", "-m", "markov")
    assert rec.returncode == 0, rec.stderr
    under = rec.stdout[rec.stdout.rindex("└") :]
    assert said in " ".join(under.split()), rec.stdout
    ratings = [int(line.split("│")[5]) for line in rec.stdout.splitlines() if "│" in line]
    assert ratings[1:] == sorted(ratings[1:], reverse=True), rec.stdout  # most ratings first, as said
    as_json = run_here(capsys, "recommend", "--user", "1", "-m", "markov", "--json")
    assert as_json.returncode == 0 and len(json.loads(as_json.stdout)) == 10, as_json.stderr
    assert said in " ".join(as_json.stderr.split()), as_json.stderr
    rec_py = movierec.Recommender(load("ml-latest-small"), "markov").fit()
    frame = rec_py.recommend(1)
    assert said in " ".join(repr(frame).split()) and said.replace("'", "&#x27;") in frame._repr_html_()
    assert "rows 2-10" not in repr(frame.head(3)) and "score: " in repr(frame.head(3))
    both = rec_py.recommend([1, 2], k=3)  # two lists in one frame: each keeps its score line
    assert "score: on the model's own scale" in repr(both) and "rows 2-10" not in repr(both)
    served = rec_py.export(tmp_path / "markov").recommend(1)  # the artifact's own frame
    assert said in " ".join(repr(served).split()), repr(served)


def test_similar_default_model_falls_back_to_itemknn_above_eases_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With no --model, 'recommend --rated/--explain' uses ease, or itemknn (with a note) where ease would
    refuse the catalogue."""
    from movierec.cli.compare import default_similar_model
    from movierec.datasets import load

    ds = load("ml-latest-small")
    assert default_similar_model(ds, 4.0) == "ease"
    assert default_similar_model(ds, 4.0, limit=100) == "itemknn"
    err = capsys.readouterr().err
    said = " ".join(err.split())  # one note, wrapped at 80 columns when piped
    assert "above ease's max_items (100)" in said and "itemknn" in said and err.count("note:") == 1, err


def test_compare_without_models_runs_a_default_set_and_says_which(capsys: pytest.CaptureFixture[str]) -> None:
    """`movierec compare` alone ended in '--models is required'; it now compares a small default set."""
    from clihelp import run_cli

    code, out, err = run_cli(["compare", "--protocols", "full-ranking", "--json"], capsys)
    assert code == 0, err
    assert "no --models given: comparing popularity,svd,ease (the most popular movies," in " ".join(
        err.split()
    )
    assert {r["model"] for r in json.loads(out)} == {"popularity", "svd", "ease"}
    # a mistake in the data is the only line: the note about models that never ran came first
    code, out, err = run_cli(["compare", "--ratings", "nosuch.csv"], capsys)
    assert code == 2 and err.strip().splitlines() == ["movierec: error: nosuch.csv: no such file"], err


def test_recommend_and_similar_read_a_custom_ratings_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A person with their own file (string ids, other column names, no times) gets lists directly."""
    from clihelp import run_cli
    from movierec.datasets import load

    frame = load("ml-latest-small").to_frame()
    frame = frame[frame["userId"] <= 150]
    custom = pd.DataFrame(
        {
            "who": "u" + frame["userId"].astype(str),
            "what": "m" + frame["movieId"].astype(str),
            "stars": frame["rating"],
        }
    )
    path = tmp_path / "mine.csv"
    custom.to_csv(path, index=False)
    cols = ["--ratings", str(path), "--user-col", "who", "--item-col", "what", "--rating-col", "stars"]
    code, out, err = run_cli(
        ["recommend", *cols, "--user", "u1", "--model", "ease", "-k", "5", "--json"], capsys
    )
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 5 and all(r["movieId"].startswith("m") for r in rows)
    seen = set(custom.loc[custom["who"] == "u1", "what"])
    assert not seen & {r["movieId"] for r in rows}
    code, out, err = run_cli(["similar", *cols, "--movie-id", "m1", "-k", "5", "--json"], capsys)
    assert code == 0, err
    assert len(json.loads(out)["similar"]) == 5
    code, _out, err = run_cli(["recommend", *cols, "--user", "nobody"], capsys)
    assert code == 2 and "unknown user id 'nobody'" in err
    # titles for the file: --movies, keyed by the ratings' own item column ("what")
    movies = load("ml-latest-small").catalog[["movieId", "title", "genres"]].copy()
    movies["genres"] = movies["genres"].map("|".join)
    movies.insert(0, "what", "m" + movies.pop("movieId").astype(str))
    movies.to_csv(tmp_path / "titles.csv", index=False)
    titled = [*cols, "--movies", str(tmp_path / "titles.csv")]
    code, out, err = run_cli(["similar", *titled, "--movie", "Toy Story", "-k", "5", "--json"], capsys)
    assert code == 0, err
    got = json.loads(out)
    assert got["movie"] == "Toy Story (1995)" and len(got["similar"]) == 5
    titles = dict(zip(movies["what"], movies["title"], strict=True))
    assert all(r["title"] == titles[r["movieId"]] for r in got["similar"])  # the file's titles, by text id
    code, _out, err = run_cli(["recommend", "--movies", str(tmp_path / "titles.csv"), "--user", "1"], capsys)
    assert code == 2 and "--movies gives titles to a --ratings file" in err


def test_report_embed_and_cold_users_read_a_custom_ratings_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The main job works on a person's own file too (it took only --dataset), with its column options.

    The file is ml-latest-small's first 50 users (ease still ranks best, so best.toml and the 'next:' command
    name it), and the report maps 50 movies by PCA: its t-SNE of 1,500 movies is not what is checked, and
    200 users with the default maps cost ~4 CPU-s more."""
    from clihelp import run_cli

    # an activated venv, as after README's 'source .venv/bin/activate': the 'next:' command read below has
    # no 'source …/activate' line first (test_report's test_the_next_step_activates_the_venv_…)
    monkeypatch.setenv("PATH", f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    from movierec.datasets import load

    frame = load("ml-latest-small").to_frame()
    frame = frame[frame["userId"] <= 50].rename(columns={"userId": "who", "movieId": "what"})
    frame.to_csv(tmp_path / "mine.csv", index=False)
    cols = ["--ratings", str(tmp_path / "mine.csv"), "--user-col", "who", "--item-col", "what"]
    maps = ["--map-items", "50", "--projection", "pca"]
    code, out, err = run_cli(
        ["report", *cols, "--models", "svd,ease", *maps, "--out", str(tmp_path / "rep")], capsys
    )
    assert code == 0, err
    page = (tmp_path / "rep" / "index.html").read_text()
    assert "mine" in page and "ease" in page
    assert "This data has no genres" in page and "most distinctive genre" not in page  # no movies file
    # best.toml: the best ranker, with the file and its columns, so export --config serves it
    from movierec.experiment import load_experiment

    best = load_experiment(tmp_path / "rep" / "best.toml")
    assert best.models[0].name == "ease" and best.dataset.name == str((tmp_path / "mine.csv").resolve())
    assert (best.dataset.user_col, best.dataset.item_col) == ("who", "what")
    assert "next: serve ease, the best ranker here:" in out
    # one command, a step a line joined by the shell's ' \' continuation, so it pastes whole and runs as one:
    # rich's own newline ran export without its --out value (00bb93a), and on one line (119 columns in a
    # terminal) the terminal broke it mid-word ('artifacts/ea' / 'se')
    # (at 80 columns this long a path puts export's --out on a line of its own: the block runs to serve's)
    rest = out[out.index("next: serve ease") :].splitlines()[1:]
    block = rest[: next(i for i, line in enumerate(rest) if "&& movierec serve" in line) + 1]
    assert block[0].endswith(" \\") and block[-1] == "    && movierec serve --artifact artifacts/ease", block
    pasted = shlex.split("\n".join(block).replace(" \\\n", " "))  # as the shell reads the two lines
    assert pasted == [
        *("movierec", "export", "--config", str(tmp_path / "rep" / "best.toml"), "--out", "artifacts/ease"),
        *("&&", "movierec", "serve", "--artifact", "artifacts/ease"),
    ], block
    code, out, err = run_cli(
        ["export", "--config", str(tmp_path / "rep" / "best.toml"), "--out", str(tmp_path / "a")], capsys
    )
    assert code == 0, err
    assert (tmp_path / "a" / "manifest.json").is_file()
    records = json.loads((tmp_path / "rep" / "results.json").read_text())["results"]
    assert {r["model"] for r in records} == {"svd", "ease"}
    code, out, err = run_cli(
        ["embed", *cols, "-m", "svd", "--sample", "50", "--out", str(tmp_path / "emb")], capsys
    )
    assert code == 0, err
    assert (tmp_path / "emb" / "map.html").is_file()
    # the last line names every file it wrote, not map.html alone
    said = " ".join((out + err).split())
    assert "beside it: embeddings.csv, map.png, neighbours.json, results.json" in said, said
    code, out, err = run_cli(["cold-users", *cols, "-m", "popularity", "--reveal", "0,1", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["meta"]["dataset"] == "mine"


def test_protocol_tables_follow_the_asked_order_whichever_model_comes_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With an implicit model first, the rating table (svd's alone) used to come last."""
    from clihelp import run_cli
    from movierec.datasets import load
    from movierec.evaluation import compare

    code, out, err = run_cli(
        ["compare", "--models", "popularity,svd", "--protocols", "rating,full-ranking"], capsys
    )
    assert code == 0, err
    titles = [ln.strip() for ln in out.splitlines() if ln.strip() in ("rating", "full-ranking")]
    assert titles == ["rating", "full-ranking"]
    comp = compare(load("ml-latest-small"), ["popularity", "svd"], protocols=["full-ranking", "rating"])
    assert comp.protocol_order() == ["full-ranking", "rating"]
    page = comp._repr_html_()
    assert page.index("<p><b>full-ranking</b></p>") < page.index("<p><b>rating</b></p>")


def test_recommend_rated_and_explained_lists(capsys: pytest.CaptureFixture[str], mlls150: Path) -> None:
    """`recommend --rated` is the notebook's recommend_for and the API's visitor list, reasons included.

    The lists read ml-latest-small's first 150 users (``mlls150``): on the whole file its six ease fits
    took 4.3 CPU-s against 2.1, and the CLI and the notebook run the same code on either."""
    import movierec
    from clihelp import run_cli

    data = ["-d", str(mlls150)]
    args = [
        "recommend",
        *data,
        "-m",
        "ease",
        "-k",
        "5",
        "--rated",
        "Toy Story=5",
        "--rated",
        "1214",
        "--rated",
        "Heat=4.5",
    ]
    code, out, err = run_cli([*args, "--explain", "--json"], capsys)
    assert code == 0, err
    got = json.loads(out)
    assert got["fallback"] is None
    rec = movierec.Recommender(movierec.load(mlls150), "ease").fit()
    ours = rec.recommend_for({1: 5.0, 1214: 5.0, 6: 4.5}, k=5, explain=True)  # Alien (1214) liked: the top
    assert [r["movieId"] for r in got["recommendations"]] == list(ours["movieId"])
    assert ["; ".join(b["title"] for b in r["because"]) for r in got["recommendations"]] == list(
        ours["because"]
    )
    code, out, err = run_cli([*args, "--explain"], capsys)
    assert code == 0 and "because" in out and "Alien (1979)" in out and "someone who rated" in out
    for bad, message in [
        (["--rated", "Toy Story=good"], "must be a rating"),
        (["--rated", "Toy Story=9"], "(Toy Story (1995), movieId 1): rating must be within 0.5..5"),
        (["--rated", "Zzqqx"], "no movie title matches 'Zzqqx'"),
        (["--explain"], "--explain explains a --user or --rated list"),
        (["--explain", "--user", "1", "-m", "svd"], "svd cannot say which of the user's movies"),
        (["--rated", "Alien", "--user", "1"], "leave out --user"),
        ([], "give --user ID, --rated MOVIE[=RATING]"),
    ]:
        code, _out, err = run_cli(["recommend", *bad], capsys)
        assert code == 2 and message in err, (bad, err)
        assert "--movie-id" not in err
    # a known user's list, explained (the API's ?explain=true): the notebook's reasons
    code, out, err = run_cli(
        ["recommend", *data, "-m", "ease", "-k", "5", "--user", "1", "--explain", "--json"], capsys
    )
    assert code == 0, err
    mine = rec.recommend(1, k=5, explain=True)
    got = json.loads(out)
    assert [r["movieId"] for r in got] == list(mine["movieId"])
    assert ["; ".join(b["title"] for b in r["because"]) for r in got] == list(mine["because"])
    code, out, err = run_cli(
        ["recommend", *data, "-m", "ease", "-k", "5", "--user", "1", "--explain"], capsys
    )
    assert code == 0 and "because" in out and "top 5 for user 1" in out
    code, out, err = run_cli(["recommend", *data, "-m", "ease", "--rated", "Alien=1"], capsys)
    assert code == 0 and "none of these ratings reaches 4" in " ".join(err.split())
    # the fallback's score is its count, and the table says so (on the whole file it read '274.000', the
    # most-liked movie's count, beside 'only the order means something', the caption of a model's own scale)
    ratings = pd.read_csv(mlls150 / "ratings.csv")
    most_liked = int(ratings[ratings["rating"] >= 4].groupby("movieId").size().max())
    flat = " ".join(out.split())
    assert "score: the movie's ratings of 4+ (the popularity fallback's ranking" in flat
    assert f" {most_liked} " in out and f"{most_liked}.000" not in out, (most_liked, out)
    assert "only the order means something" not in flat


def test_known_user_explain_refusal_offers_rated_only_where_it_gives_reasons(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``recommend --user 1 -m popularity --explain`` said "use -m ease or knn-baseline, or --rated", but
    popularity's --rated list has an empty 'because' on every row (one list for everyone), and baseline's
    too (a movie's own score shifted by how high the person rates): only a route that gives reasons is
    offered. svd, ials and ensemble explain a --rated list, and keep it. Refused before anything trains."""
    from clihelp import run_cli

    for model, rated in [
        ("popularity", False),
        ("baseline", False),
        ("svd", True),
        ("ials", True),
        ("ensemble", True),
    ]:
        code, _out, err = run_cli(["recommend", "--user", "1", "-m", model, "--explain"], capsys)
        line = " ".join(err.split())
        assert code == 2 and f"{model} cannot say which of the user's movies" in line, (model, err)
        assert line.endswith("use -m ease or knn-baseline" + (", or --rated" if rated else "")), (model, line)


def test_popularitys_own_list_prints_its_counts_whole(capsys: pytest.CaptureFixture[str]) -> None:
    """`recommend -m popularity` printed its scores, how many liked each movie, as 274.000, where the fallback's
    list and Python's (``Recommender(ds, "popularity").recommend``) print 274: a whole score shows no decimals."""
    from clihelp import run_cli

    code, out, err = run_cli(["recommend", "-m", "popularity", "--user", "1", "-k", "3"], capsys)
    assert code == 0, err
    row = next(line for line in out.splitlines() if "Shawshank" in line)
    assert row.split("│")[4].strip() == "274" and "274.000" not in out, out
    # its score is the count: one column of it, not 'score 274' beside 'ratings of 4+ 274' (the caption says)
    assert row.count("274") == 1 and " score " not in out.split("Shawshank")[0], out
    assert "score: the ratings of 4+ column" in out, out


def test_popularitys_list_says_its_score_is_a_count_in_the_cli_and_in_python(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under popularity's list (274 for Shawshank) the CLI and Python's note said "score: on the model's own
    scale, not a rating; only the order means something", though the score is how many liked the movie. Both
    now say so, from one sentence (display.score_meaning / score_count); weighted by rating its score is a
    sum of ratings, no count, and the note stays the own-scale one."""
    import movierec
    from clihelp import run_cli
    from movierec.display import SCORE_OF_RANKING_MODEL

    said = "how many ratings of 4+ the movie has in the training data"
    shown = "score: the ratings of 4+ column, how many the movie has in the training data"  # one column
    code, out, err = run_cli(["recommend", "-m", "popularity", "--user", "1", "-k", "3"], capsys)
    assert code == 0, err
    assert shown in out and "only the order means something" not in out, out
    code, out, err = run_cli(["recommend", "-m", "popularity", "--rated", "Toy Story=5", "-k", "3"], capsys)
    assert code == 0 and shown in out, out + err
    rec = movierec.Recommender("ml-latest-small", "popularity").fit()
    for frame in (rec.recommend(1, k=3), rec.export(tmp_path / "pop").recommend(1, 3)):
        assert frame.attrs["about"] == {"score": said}, frame.attrs
        assert list(frame["score"]) == list(frame["n_liked"])  # the count the sentence names
        assert repr(frame).endswith(f"score: {said}"), repr(frame)
    weighted = movierec.Recommender("ml-latest-small", "popularity", weighting="rating").fit()
    assert weighted.recommend(1, k=3).attrs["about"] == {"score": SCORE_OF_RANKING_MODEL}
    code, out, err = run_cli(
        [
            "recommend",
            "-m",
            "popularity",
            "--params",
            "popularity.weighting=rating",
            "--user",
            "1",
            "-k",
            "3",
        ],
        capsys,
    )
    assert code == 0 and "only the order means something" in out and said not in out, out + err
    assert " score " in out.split("Shawshank")[0], out  # a sum of ratings, no count: its own column


def test_recommend_without_a_model_uses_an_item_based_one_for_given_ratings_and_reasons(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """ease for --rated and --explain (svd's list for someone who rated Toy Story and Alien was Shawshank,
    Pulp Fiction, The Godfather…, each "because" of both), and for a known user's list too (see
    test_recommend_for_a_known_user_defaults_to_ease_and_says_why)."""
    from clihelp import run_cli

    code, out, err = run_cli(["recommend", "--rated", "Toy Story=5", "--rated", "Alien", "--explain"], capsys)
    assert code == 0, err
    assert "ease trained on ml-latest-small" in " ".join(out.split()), out  # the title wraps at 80
    assert "Aliens (1986)" in out and "Toy Story 2" in out
    code, out, err = run_cli(["recommend", "--user", "1", "--explain", "-k", "3"], capsys)
    assert code == 0, err  # it used to refuse: svd's score of a known user is not a sum over their movies
    assert "top 3 for user 1 · ease trained on" in out and "because" in out
    # the same list without --explain, `recommend --user 1 -k 3`, is ease's too: test_cli_display's
    # test_a_long_list_title_breaks_between_its_parts runs that command and reads its whole title ('top 3 for
    # user 1 · ease trained on ml-latest-small · …'), and test_recommend_for_a_known_user_defaults_to_ease_… its
    # note (a third ease fit here, ~1-2 CPU-s, read the same title again)


@pytest.mark.slow
def test_recommend_for_a_known_user_defaults_to_ease_and_says_why() -> None:
    """``recommend --user 1`` without --model listed svd's predicted stars: Shawshank, The Godfather, Cuckoo's
    Nest, Godfather II, Kill Bill… (each 5.0), the same classics as for most users; on validation splits
    svd's served lists scored NDCG@10 0.08 where ease's scored 0.21 (bench/recommend_default_study.py).
    Now ease, said on stderr (stdout stays the list, --json clean; why is in --model's help); --model svd
    still lists by predicted stars."""
    proc = run("recommend", "--user", "1", "-k", "5", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["title"] for r in rows][:3] == [
        "Terminator 2: Judgment Day (1991)",
        "Aliens (1986)",
        "Sixth Sense, The (1999)",
    ], rows
    assert all("predictedRating" not in r for r in rows)  # a top-N model: scores, not stars
    # one line of 80 columns, said on every run: which model made the list and how to get predicted stars
    # (the NDCG figures, 160 columns with them, are in --model's help)
    said = "note: no --model given: the list is ease's; --model svd ranks by predicted stars"
    assert said in proc.stderr.splitlines() and len(said) <= 80, proc.stderr
    proc = run("recommend", "--user", "1", "-k", "3", "--model", "svd")
    assert proc.returncode == 0, proc.stderr
    assert "top 3 for user 1 · svd trained on" in proc.stdout and "Shawshank Redemption" in proc.stdout
    assert "no --model given" not in proc.stderr


def test_similar_and_recommend_take_item_features_or_say_they_ignore_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """similar had no --item-features (recommend had); a model that does not use them says so in one note
    and its title does not claim them.

    On ml-latest-small's first 150 users with its movies and tags (a MovieLens folder): the two ease fits
    over 5,017 movies, not 9,724; collective EASE's weights move with the features on either."""
    from clihelp import run_cli
    from datagen import mlls_first_users

    data = ["-d", str(mlls_first_users(tmp_path / "mlls-150", tags=True))]
    base = ["similar", *data, "--movie", "Toy Story", "-m", "ease", "-k", "3", "--json"]
    code, plain, err = run_cli(base, capsys)
    assert code == 0, err
    code, featured, err = run_cli([*base, "--item-features", "genres,tags"], capsys)
    assert code == 0, err
    a, b = json.loads(plain)["similar"], json.loads(featured)["similar"]
    assert [r["score"] for r in a] != [r["score"] for r in b]  # collective EASE's weights
    code, out, err = run_cli(
        ["recommend", *data, "-m", "svd", "--user", "1", "-k", "2", "--item-features", "genres"], capsys
    )
    assert code == 0 and "svd ignores item features" in err and "with item features" not in out


def test_item_features_are_one_option_in_compare_report_and_embed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """report and embed take --item-features as compare, recommend and tune do (NAME+feature stays the report's
    per-model form); compare given the report's form says how to spell it there.

    The data are ml-latest-small's first 50 users with its movies file, read as a MovieLens folder, and the
    maps hold 50 movies: the options' handling is the same on the whole file, where two reports and a warp
    fit cost ~6 s more (150 users and 200-movie maps: ~0.4 CPU-s more a report; ease+genres still ranks
    best, so best.toml still names its features)."""
    from clihelp import run_cli
    from datagen import mlls_first_users
    from movierec.experiment import load_experiment

    data = mlls_first_users(tmp_path / "mlls-50", 50)
    rep = tmp_path / "rep"
    args = ["report", "-d", str(data), "-m", "ease,svd", "--item-features", "genres", "--map-items", "50"]
    args += ["--projection", "pca", "--out", str(rep)]  # pca: the maps' t-SNE is not what is checked
    code, _out, err = run_cli(args, capsys)
    assert code == 0, err
    page = (rep / "index.html").read_text()
    assert "ease+genres" in page and "svd ignores item features" in page  # svd's fit takes none
    assert load_experiment(rep / "best.toml").item_features == ["genres"]  # so export serves what ranked best
    code, _out, err = run_cli(
        ["report", "--config", str(rep / "best.toml"), "--item-features", "tags"], capsys
    )
    assert code == 2 and "--item-features and --config exclude each other" in err
    # an experiment file's item_features follow the same rule: the models that ignore them are named. beyond =
    # false and one protocol: the note is made from the file's models and item features before any step, and
    # the beyond-accuracy section (its charts) and the rating table are not what is checked
    exp = tmp_path / "two.toml"
    exp.write_text(
        f'dataset = "{data}"\nitem_features = ["genres"]\nbeyond = false\nprotocols = ["full-ranking"]\n'
        '[[models]]\nname = "ease"\n[[models]]\nname = "svd"\n'
    )
    rep2 = tmp_path / "rep2"
    code, _out, err = run_cli(
        ["report", "--config", str(exp), "--map-items", "50", "--projection", "pca", "--out", str(rep2)],
        capsys,
    )
    assert code == 0, err
    page = (rep2 / "index.html").read_text()
    assert "ease+genres" in page and "svd ignores item features" in page and "svd+genres" not in page
    code, _out, err = run_cli(["compare", "-m", "warp+genres+tags"], capsys)
    assert (
        code == 2 and "give the model and its features apart, warp with --item-features genres,tags" in err
    ), err
    assert "item_features=" not in err  # the CLI's words only (the Python door's are in test_door_words)
    emb = tmp_path / "emb"
    code, _out, err = run_cli(
        ["embed", "-m", "warp+tags", "--item-features", "genres", "--out", str(emb)], capsys
    )
    assert code == 2 and "name different features" in err and not emb.exists()
    embed = ["embed", "-d", str(data), "-m", "warp", "--item-features", "genres", "--sample", "50"]
    embed += ["--projection", "pca"]
    code, _out, err = run_cli([*embed, "--out", str(emb)], capsys)
    assert code == 0, err
    assert json.loads((emb / "results.json").read_text())["report"]["fingerprint"]["models"] == [
        "warp+genres"
    ]


def test_similar_given_a_movie_id_as_a_title_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    """`similar --movie 1`: '1' is movieId 1 (Toy Story) and only part of 26 titles, so it is Toy Story, as
    ``Recommender.similar("1")``, ``--rated 1`` and the API read it (it was refused, naming --movie-id 1);
    '300', movieId 300 and the whole title of 300 (2007), is refused before any training, naming both."""
    result = run_here(capsys, "similar", "--movie", "1", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["movieId"] == 1, result.stderr
    both = run_here(capsys, "similar", "--movie", "300")
    assert both.returncode == 2 and both.stderr.count("\n") == 1
    assert "'300' is both the movieId 300 (Quiz Show (1994)) and the title 300 (2007)" in both.stderr


def test_similar_misspelt_suggests_only_titles_near_the_closest(tmp_path: Path) -> None:
    """'Matrx' met the three Matrix films (similarity 0.909), and the error went on with Mad Max, Mary and
    Max and Beyond the Mat (0.75), titles a person would call noise; a suggestion now trails the closest
    by at most 0.15, so 'Heta' still offers Heat (0.75 behind 0.857)."""
    from clihelp import one_error_line, run_process

    line = one_error_line(run_process("similar", "Matrx", cwd=tmp_path))
    assert line == (
        "no movie title matches 'Matrx'; did you mean: Matrix, The (1999); Matrix Reloaded, The (2003); "
        "Matrix Revolutions, The (2003)?"
    ), line
    assert "Heat (1995)" in one_error_line(run_process("similar", "Heta", cwd=tmp_path))


def test_a_misspelt_title_suggests_the_best_known_of_equally_close_titles_first() -> None:
    """'Star Warz' offered Rogue One and Solo first: a run of a title's words kept its edge punctuation, so
    'star wars:' (Episode IV-VI) met it at 0.842 and 'star wars' (Rogue One) at 0.889. Edge punctuation
    no longer counts; among equally close titles the most-rated comes first, as a newcomer expects."""
    from movierec import load
    from movierec.titles import suggest_titles

    ds = load("ml-latest-small")
    users = ds.interactions
    titles = [str(t) for t in ds.movies.set_index("movieId").loc[users.item_map.ids, "title"]]

    def first(query: str, n: int) -> list[str]:
        return [titles[i] for i, _ in suggest_titles(query, titles, users.item_counts(), limit=8)][:n]

    assert first("Star Warz", 3) == [
        "Star Wars: Episode IV - A New Hope (1977)",
        "Star Wars: Episode V - The Empire Strikes Back (1980)",
        "Star Wars: Episode VI - Return of the Jedi (1983)",
    ]
    assert first("godfathr", 2) == ["Godfather, The (1972)", "Godfather: Part II, The (1974)"]
    assert first("matrx", 1) == ["Matrix, The (1999)"]


def test_similar_with_a_model_without_item_vectors_names_the_commands_option(tmp_path: Path) -> None:
    """``similar -m popularity`` ended in the artifact's API words, 'by=lift lists what was liked together',
    which this command does not take; it names ``--by lift``, which does list (exit 0)."""
    from clihelp import one_error_line, run_process

    line = one_error_line(run_process("similar", "Toy Story", "-m", "popularity", cwd=tmp_path))
    assert "--by lift works with any model" in line and "by=lift" not in line, line
    assert len(f"movierec: error: {line}") <= 160, line  # two rows of 80 columns (it was 196 characters)
    listed = run_process("similar", "Toy Story", "-m", "popularity", "--by", "lift", "--json", cwd=tmp_path)
    assert listed.returncode == 0 and json.loads(listed.stdout)["by"] == "lift", listed.stderr


@pytest.mark.parametrize(
    "args",
    [["similar", "Toy Story"], ["recommend", "--user", "1"], ["export", "--out", "art"], ["tune"]],
    ids=["similar", "recommend", "export", "tune"],
)
def test_two_models_where_one_goes_say_so(args: list[str], tmp_path: Path) -> None:
    """``-m svd,ease`` to a command that takes one model answered "unknown model 'svd,ease' (did you mean
    'ease'?)" and fifty model names: a guess at one of the two that were meant. It says what happened."""
    from clihelp import one_error_line, run_process

    line = one_error_line(run_process(*args, "-m", "svd,ease", cwd=tmp_path))
    assert line == (
        "'svd,ease' names 2 models where one goes: run it once per model ('svd' and 'ease'), or compare them "
        "side by side (compare --models svd,ease)"
    ), line
    assert not (tmp_path / "art").exists()


def test_a_k_larger_than_the_catalogue_counts_its_movies_with_a_thousands_comma() -> None:
    """``recommend --user 1 -k 100000`` said '(9724 movies)' where every other count reads '9,724'; the
    refusal is now a note over every movie that qualifies (k is at most k at every door,
    tests/test_list_longer_than_catalogue.py), and its count still reads '9,724'."""
    for who in (["--user", "1"], ["--rated", "Toy Story=5"]):
        proc = run("recommend", *who, "--model", "popularity", "-k", "100000", "--json")
        assert proc.returncode == 0, proc.stderr
        note = " ".join(proc.stderr.split())
        assert "the catalogue holds 9,724 movies, fewer than -k 100000" in note and "9724" not in note
        rows = json.loads(proc.stdout)
        assert len(rows["recommendations"] if isinstance(rows, dict) else rows) > 1000


def test_a_known_users_fallback_list_says_its_score_is_a_count(capsys: pytest.CaptureFixture[str]) -> None:
    """User 442 has no rating of 4 or more, so ease's list for them is popularity's (the note says so); the
    caption under it said "score: on the model's own scale, not a rating; only the order means something"
    beside 274, 249, 244: the fallback's counts. It now says what they are, as the --rated fallback's does."""
    from clihelp import run_cli

    code, out, err = run_cli(["recommend", "-m", "ease", "--user", "442", "-k", "3"], capsys)
    assert code == 0, err
    flat = " ".join(out.split())
    said = "score: the movie's ratings of 4+ (the popularity fallback's ranking, not the model's)"
    assert said in flat, out
    assert "only the order means something" not in flat


def test_progress_names_a_model_with_item_features_as_the_table_does() -> None:
    """The progress line said 'ease · fitting' over a table row 'ease+genres'; a model that ignores the
    features (popularity) keeps its own name, and a label that already says them is not said twice."""
    from movierec.evaluation import shown_label

    proc = run(
        "compare", "--models", "popularity,ease", "--item-features", "genres", "--params", "ease.l2=200"
    )
    assert proc.returncode == 0, proc.stderr
    assert "ease+genres · fitting" in proc.stderr and "ease+genres · fitted in" in proc.stderr
    assert "popularity · fitting" in proc.stderr and "popularity+genres" not in proc.stderr
    assert "ease+genres" in proc.stdout  # the table's name, which the progress now matches
    assert shown_label({"model": "warp+genres+tags", "item_features": "genres+tags"}) == "warp+genres+tags"
    assert shown_label({"model": "svd"}) == "svd"


def test_each_option_a_file_sets_is_sent_to_where_the_file_sets_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``compare --config best.toml`` with an option the file sets is refused with where to set it:
    ``--user-features`` is the file's ``user_features`` key now (tune's best.toml writes it), ``--sampled``
    the protocol ``"sampled"`` and ``--session-gap`` a model's ``session_gap`` param (each a shortcut for
    those). Every option refused so is a key or table of the file, or one of those two shortcuts: none is
    sent to a key that does not exist, as '(edit best.toml)' did for --user-features before the key."""
    from clihelp import run_cli
    from movierec.cli.compare import _FILE_FORM, _FILE_ONLY
    from movierec.experiment import Experiment

    held = {"params", "patience", "stop_every", "valid_size"}  # in [[models]] and [early_stopping]
    assert {k for k in _FILE_ONLY if k not in Experiment.model_fields and k not in held} == set(_FILE_FORM)
    exp = tmp_path / "best.toml"
    exp.write_text('dataset = "ml-latest-small"\n[[models]]\nname = "warp"\n')
    for option, value, fix in (
        ("--user-features", "demographics", "edit best.toml"),
        ("--item-features", "genres", "edit best.toml"),
        ("--session-gap", "1h", "set session_gap in the params of each of best.toml's models that takes it"),
        ("--sampled", None, 'add "sampled" to best.toml\'s protocols'),
    ):
        code, _out, err = run_cli(
            ["compare", "--config", str(exp), option, *([value] if value else [])], capsys
        )
        assert code == 2, err
        assert err.strip().endswith(
            f"{option} and --config exclude each other: the experiment file sets it ({fix})"
        ), err
