"""Bad input to ``movierec.Recommender``'s lists and to ``movierec recommend``/``similar``/``compare``: a
clear movierec error (one line and exit 2 in the terminal), never a numpy traceback or a silently
different answer; Python and the CLI agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import movierec
from clihelp import run_cli
from movierec.errors import ConfigError


def _one_line_exit_2(args: list[str], capsys: pytest.CaptureFixture[str], needle: str) -> str:
    code, _, err = run_cli(args, capsys)
    assert code == 2 and err.count("\n") == 1 and needle in err and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def ease() -> movierec.Recommender:
    return movierec.Recommender("ml-latest-small", "ease").fit()


@pytest.mark.parametrize("k", [-1, 0, 2.5, True])
def test_similar_checks_k_as_recommend_does(ease: movierec.Recommender, k: object) -> None:
    with pytest.raises(ConfigError) as from_recommend:
        ease.recommend(1, k=k)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as from_similar:
        ease.similar("Toy Story", k=k)  # type: ignore[arg-type]
    assert str(from_similar.value) == str(from_recommend.value)
    assert str(from_similar.value).startswith("k must be")


def test_a_list_longer_than_the_catalogue_is_every_movie_as_the_artifact_gives_it(
    ease: movierec.Recommender,
) -> None:
    """k is at most k at every door (tests/test_list_longer_than_catalogue.py): Python refused k past the
    catalogue ("k 1000000000 is larger than the catalogue (9,724 movies)") where the artifact and the API
    listed every movie; a huge k is cut to the catalogue before the rankers allocate k places."""
    n = ease.train_.n_items  # type: ignore[union-attr]
    assert len(ease.recommend(1, k=10**9)) == len(ease.recommend(1, k=n)) > 1000
    assert len(ease.recommend_for({"Alien": 5}, k=10**9)) == len(ease.recommend_for({"Alien": 5}, k=n))
    assert len(ease.similar("Toy Story", k=n)) == len(ease.similar("Toy Story", k=n - 1)) > 0


@pytest.mark.parametrize("model", [None, 3, object()])
def test_a_model_that_is_no_name_and_no_model_is_refused_at_construction(model: object) -> None:
    with pytest.raises(ConfigError, match=r"model must be a registry name .* or a model instance"):
        movierec.Recommender("ml-latest-small", model)  # type: ignore[arg-type]


def test_a_model_class_is_refused_with_the_instance_it_wants() -> None:
    from movierec.models.popularity import Popularity

    with pytest.raises(ConfigError, match=r"pass an instance \(Popularity\(\)\)"):
        movierec.Recommender("ml-latest-small", Popularity)  # type: ignore[arg-type]
    assert movierec.Recommender("ml-latest-small", Popularity()).fit().recommend(1, k=3).shape[0] == 3


def _largest_floor(said: str, option: str) -> int:
    """The largest usable floor a "leaves nothing to list" message names."""
    return int(said.split(f"({option}")[1].split()[0].strip("="))


@pytest.mark.parametrize("name", ["ease", "popularity"])
def test_a_floor_above_every_movie_warns_with_the_largest_that_lists_some(name: str) -> None:
    rec = movierec.Recommender("ml-latest-small", name).fit()
    with pytest.warns(UserWarning, match=r"min_support=10000000 leaves nothing to list for user 1") as said:
        assert rec.recommend(1, min_support=10**7).empty  # it was an IndexError in models/base.py
    largest = _largest_floor(str(said[0].message), "min_support=")
    assert len(rec.recommend(1, k=3, min_support=largest)) >= 1  # the movies that reach it
    with pytest.warns(UserWarning, match=f"min_support={largest + 1} leaves nothing"):
        rec.recommend(1, k=3, min_support=largest + 1)
    with pytest.warns(UserWarning, match=r"min_support=10000000 leaves nothing to list for this person"):
        assert rec.recommend_for({"Alien": 5}, min_support=10**7).empty


def test_a_user_who_rated_every_movie_gets_an_empty_list_and_a_warning() -> None:
    """The model API's candidates= takes an empty set too (it raised IndexError at base.py's recommend)."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {"userId": [1, 1, 1, 2, 2, 3], "movieId": [10, 20, 30, 10, 20, 10], "rating": [5.0, 4, 4, 5, 4, 5]}
    )
    rec = movierec.Recommender(frame, "popularity").fit()
    with pytest.warns(UserWarning, match="user 1 rated every movie there is"):
        assert rec.recommend(1, k=2, min_support=0).empty
    idx, scores = rec.model.recommend(np.array([0]), 2, candidates=np.zeros(0, dtype=np.int64))
    assert (idx == -1).all() and np.isneginf(scores).all()


def test_the_cli_names_the_same_largest_floor_as_python(capsys: pytest.CaptureFixture[str]) -> None:
    rec = movierec.Recommender("ml-latest-small", "popularity").fit()
    with pytest.warns(UserWarning) as said:
        rec.recommend(1, min_support=10**7)
    largest = _largest_floor(str(said[0].message), "min_support=")
    base = ["recommend", "-m", "popularity", "--min-support", "10000000"]
    code, out, err = run_cli([*base, "--user", "1"], capsys)
    assert code == 0 and "leaves nothing to list for user 1" in err and not out  # a note, no empty table
    assert _largest_floor(" ".join(err.split()), "--min-support ") == largest
    code, out, err = run_cli([*base, "--rated", "Alien=5", "--json"], capsys)
    assert code == 0 and "leaves nothing to list for this person" in " ".join(err.split())
    assert json.loads(out)["recommendations"] == []


def test_a_movie_given_twice_is_refused_in_python_and_the_cli(
    ease: movierec.Recommender, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ConfigError, match=r"Toy Story \(1995\) is given twice \(as 1 and 'Toy Story'\)"):
        ease.recommend_for({1: 5, "Toy Story": 1})
    args = ["recommend", "-m", "popularity", "--rated", "Toy Story=5", "--rated", "toy story (1995)=3"]
    _one_line_exit_2(args, capsys, "--rated: Toy Story (1995) is given twice ('Toy Story=5' and")
    _one_line_exit_2(
        ["recommend", "-m", "popularity", "--rated", "1=5", "--rated", "Toy Story"], capsys, "twice"
    )


def test_two_ratings_for_one_movie_are_refused_not_read_as_a_title(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["recommend", "-m", "popularity", "--rated", "Toy Story=5=3"]
    _one_line_exit_2(args, capsys, "--rated 'Toy Story=5=3': give one rating per movie")
    code, out, _ = run_cli(
        ["recommend", "-m", "popularity", "--rated", "1=5", "--rated", "Alien", "--json"], capsys
    )
    assert code == 0 and len(json.loads(out)["recommendations"]) == 10  # a movieId with a rating still works


def test_several_movies_in_one_rated_are_refused_with_the_repeated_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--genre, --models and --params take commas; --rated cannot (titles hold them: 'Matrix, The'), and
    'Toy Story=5,Alien=4' was refused as "no movie title matches 'Toy Story=5,Alien'; try part of the
    title or the movieId". The line now says one movie goes in each --rated and gives the options to type;
    a title with a comma and its rating still works."""
    args = ["recommend", "-m", "popularity", "--rated", "Toy Story=5, Alien=4,Heat"]
    err = _one_line_exit_2(args, capsys, "--rated 'Toy Story=5, Alien=4,Heat': one movie per --rated")
    assert err.endswith(": --rated 'Toy Story=5' --rated 'Alien=4' --rated 'Heat'\n"), err
    code, out, _ = run_cli(["recommend", "-m", "popularity", "--rated", "Matrix, The=4.5", "--json"], capsys)
    assert code == 0 and len(json.loads(out)["recommendations"]) == 10


def test_a_catalogue_movie_nobody_rated_is_named_not_guessed_at(
    ease: movierec.Recommender, capsys: pytest.CaptureFixture[str]
) -> None:
    """Niagara (1953), movieId 2939, is in movies.csv but has no ratings in ml-latest-small."""
    from movierec.errors import UnknownIdError

    no_ratings = "Niagara (1953) has no ratings in ml-latest-small, so no model has learned anything about it"
    by_id = "movieId 2939 is Niagara (1953), which has no ratings in ml-latest-small"
    for movie, said in [("Niagara", no_ratings), (2939, by_id), ("2939", by_id)]:
        with pytest.raises(UnknownIdError, match=said.replace("(", r"\(").replace(")", r"\)")):
            ease.similar(movie)
        with pytest.raises(UnknownIdError, match="no ratings in ml-latest-small"):
            ease.recommend_for({movie: 5})
    for args, said in [
        (["similar", "--movie", "Niagara"], no_ratings),
        (["similar", "--movie-id", "2939"], by_id),
        (["recommend", "-m", "popularity", "--rated", "Niagara=5"], no_ratings),
        (["recommend", "-m", "popularity", "--rated", "2939=5"], by_id),  # TITLE or ID, as --help says
    ]:
        assert "did you mean" not in _one_line_exit_2(args, capsys, said)
    _one_line_exit_2(["similar", "--movie", "Zzqqx"], capsys, "no movie title matches 'Zzqqx'")


@pytest.mark.parametrize(
    "rated, said",
    [
        (["Zzqqx=5"], "no movie title matches 'Zzqqx'"),
        (
            ["Alien=5", "Toy Story", "alien=3"],
            "--rated: Alien (1979) is given twice ('Alien=5' and 'alien=3')",
        ),
        (["Alien=7"], "--rated 'Alien=7' (Alien (1979), movieId 1214): rating must be within 0.5..5"),
        (["Alien=nan"], "--rated 'Alien=nan' (Alien (1979), movieId 1214): rating must be within 0.5..5"),
        (  # between two half stars: refused as POST /recommendations refuses it (it was ranked by)
            ["Alien=3.7"],
            "--rated 'Alien=3.7' (Alien (1979), movieId 1214): rating must be one of 0.5, 1, 1.5, …, 5 "
            "(steps of 0.5)",
        ),
        (["Niagara"], "Niagara (1953) has no ratings in ml-latest-small"),
    ],
)
def test_every_rated_movie_is_checked_before_any_training(
    rated: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt --rated title was reported after the fit (seconds for knn-baseline or slim, minutes on
    larger data). ease with max_items=10 refuses to train on ml-latest-small, so each mistake being what
    the command says proves it was found before training began."""
    base = ["recommend", "-m", "ease", "-p", "max_items=10"]
    for movie in rated:
        base += ["--rated", movie]
    assert "max_items" not in _one_line_exit_2(base, capsys, said)
    good = ["recommend", "-m", "ease", "-p", "max_items=10", "--rated", "Alien=5"]
    _one_line_exit_2(good, capsys, "exceed max_items=10")  # well-formed: the fit is reached, and refuses


@pytest.mark.parametrize(
    "args, said",
    [
        (["--all-users", "--out", "{tmp}/a.csv", "--rerank", "mmr:0.3"], "--rerank re-ranks one --user list"),
        (["--all-users", "--out", "{tmp}/a.csv", "--user", "1"], "--user and --all-users exclude each other"),
        (["--user", "1", "--out", "{tmp}/a.csv"], "--out is for --all-users"),
        (["--user", "1", "--force"], "--force is for --all-users"),
        (["--rated", "Alien", "--rerank", "mmr:0.3"], "--rerank re-ranks a known --user's list"),
        (["--all-users", "--out", "/proc/x.csv"], "--out /proc: /proc is not writable"),
    ],
)
def test_recommend_refuses_options_its_mode_would_ignore(
    args: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = ["recommend", "-m", "popularity", *(a.replace("{tmp}", str(tmp_path)) for a in args)]
    _one_line_exit_2(full, capsys, said)
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.fixture(scope="module")
def popularity_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    art = tmp_path_factory.mktemp("artifact") / "popularity"
    movierec.Recommender("ml-latest-small", "popularity").fit().export(art)
    return art


@pytest.mark.parametrize(
    "given, flag",
    [
        (["--ratings", "r.csv"], "--ratings"),
        (["--dataset", "ml-100k"], "--dataset"),
        (["-p", "k=3"], "--params"),
        (["--item-features", "genres"], "--item-features"),
        (["--seed", "3"], "--seed"),
        (["--implicit-threshold", "3.5"], "--implicit-threshold"),
    ],
)
def test_an_artifact_refuses_the_options_that_choose_training(
    given: list[str], flag: str, popularity_artifact: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    art = popularity_artifact
    for command in (["recommend", "--user", "1"], ["similar", "--movie", "Alien"]):
        said = f"{flag} chooses what a model is trained on; --artifact serves one already trained"
        _one_line_exit_2([*command, "--artifact", str(art), *given], capsys, said)
    code, out, _ = run_cli(["recommend", "--user", "1", "--artifact", str(art), "-k", "2", "--json"], capsys)
    assert code == 0 and len(json.loads(out)) == 2


def test_an_artifact_names_a_catalogue_movie_nobody_rated(
    popularity_artifact: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An artifact holds the rated movies only; its manifest lists the catalogue's others, so --artifact says
    what the trained model says of Niagara (1953), movieId 2939, not "no movie title matches … did you mean"."""
    from movierec.serving.artifact import load_artifact

    art = str(popularity_artifact)
    no_ratings = "Niagara (1953) has no ratings in ml-latest-small, so no model has learned anything about it"
    by_id = "movieId 2939 is Niagara (1953), which has no ratings in ml-latest-small"
    for args, said in [
        (["recommend", "--rated", "Niagara=5"], no_ratings),
        (["recommend", "--rated", "2939=5"], by_id),
        (["similar", "--movie", "Niagara"], no_ratings),
        (["similar", "--movie-id", "2939"], by_id),
    ]:
        assert "did you mean" not in _one_line_exit_2([*args, "--artifact", art], capsys, said)
    _one_line_exit_2(["recommend", "--artifact", art, "--rated", "Zzqqx"], capsys, "no movie title matches")
    loaded = load_artifact(art)
    assert loaded.unrated_movie("Toy Story") is None and loaded.unrated_movie("1") is None  # rated ones


def test_an_artifact_refuses_another_model_and_takes_its_own(
    popularity_artifact: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--model with --artifact was silently ignored: the artifact's list was shown as if it came from the
    model asked for. Another name is one line; the artifact's own name (any case) is accepted."""
    art = str(popularity_artifact)
    for command in (["recommend", "--user", "1"], ["similar", "--movie", "Alien"]):
        said = f"--model svd: --artifact {art} holds a trained popularity model and serves only that"
        err = _one_line_exit_2([*command, "--artifact", art, "--model", "svd"], capsys, said)
        assert "leave out --artifact to train svd" in err
    code, out, _ = run_cli(
        ["recommend", "--user", "1", "--artifact", art, "-m", "Popularity", "--json"], capsys
    )
    assert code == 0 and len(json.loads(out)) == 10


def test_compare_config_takes_typed_overrides_and_refuses_what_the_file_sets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/tuning.md: options typed on the command line win over the file (--dataset/--ratings, --seed,
    -k, --implicit-threshold, --test-size); an option the file sets itself is refused, as report does."""
    from movierec.experiment import load_experiment

    cfg = tmp_path / "ok.toml"
    cfg.write_text(
        'seed = 1\nprotocols = ["full-ranking"]\nk = 10\n[dataset]\nname = "ml-latest-small"\n'
        '[split]\nkind = "ratings-holdout"\ntest_size = 0.2\n[[models]]\nname = "popularity"\n'
    )
    good = tmp_path / "good.csv"
    movierec.load("ml-latest-small").to_frame().head(3000).to_csv(good, index=False)
    base = ["compare", "--config", str(cfg), "--out", str(tmp_path / "runs")]
    for flag in (
        ["--models", "svd"],
        ["--protocols", "rating"],
        ["--params", "popularity.x=1"],
        ["--cv", "3"],
    ):
        _one_line_exit_2([*base, *flag], capsys, f"{flag[0]} and --config exclude each other")
    assert not (tmp_path / "runs").exists()  # refused before anything ran
    typed = ["--ratings", str(good), "-k", "5", "--test-size", "0.5", "--seed", "7"]
    code, out, _ = run_cli([*base, *typed, "--implicit-threshold", "3.5", "--json"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert {r["k"] for r in rows} == {5} and {r["seed"] for r in rows} == {7}
    (run,) = (tmp_path / "runs").iterdir()
    resolved = load_experiment(run / "config.toml")  # the run as it ran, not as the file said
    assert (resolved.seed, resolved.k, resolved.threshold, resolved.split.test_size) == (7, 5, 3.5, 0.5)
    assert resolved.dataset.name == str(good.resolve())
    _one_line_exit_2(  # refused as the option is read (it takes a fraction or a count), before the file
        [*base, "--test-size", "1.5"],
        capsys,
        "invalid value for '--test-size': must be a fraction between 0 and 1 (0.25) or a whole number of "
        "ratings (1000), got 1.5",
    )


def test_a_text_movie_id_where_a_title_goes_is_that_movie(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shop's ratings with SKU ids: ``similar SKU-000318`` without titles said "give --movie-id SKU-000020
    instead" (the most-rated movie, not the one typed: only digit ids were echoed), and then "give --movie-id
    SKU-000318 instead", refusing the very id it named; with titles, "no movie title matches 'SKU-000318';
    did you mean --movie-id SKU-000318, …?", where ``similar 318`` lists movies like movieId 318. A text id
    the data has is now that movie with titles or without, as ``--rated``, ``movierec.Recommender`` and an
    artifact's methods read it (titles.movie_from_text); a title asked of data without titles still names
    the most-rated movie's id. ' SKU-000318 ' is that movie too, as ' 318 ' is movieId 318 (it was read as a
    title)."""
    ratings = tmp_path / "shop.csv"
    rows = [("u_1", "SKU-000318"), ("u_1", "SKU-000020"), ("u_2", "SKU-000020"), ("u_2", "SKU-000030")]
    rows += [("u_3", "SKU-000020"), ("u_3", "SKU-000318")]
    ratings.write_text("user,item,stars\n" + "".join(f"{u},{i},4\n" for u, i in rows))
    cols = ["--ratings", str(ratings), "--user-col", "user", "--item-col", "item", "--rating-col", "stars"]
    cols += ["--time-col", ""]
    code, out, err = run_cli(["similar", *cols, "SKU-000318", "-k", "1", "--json"], capsys)
    assert code == 0 and json.loads(out)["movieId"] == "SKU-000318", err
    _one_line_exit_2(["similar", *cols, "Toy Story"], capsys, "give --movie-id SKU-000020 instead")
    movies = tmp_path / "titles.csv"
    movies.write_text(
        "item,title\nSKU-000318,Toy Story (1995)\nSKU-000020,Heat (1995)\nSKU-000030,Alien (1979)\n"
    )
    for how in (["SKU-000318"], [" SKU-000318 "], ["--movie-id", "SKU-000318"]):  # spaces: as ' 318 '
        code, out, err = run_cli(
            ["similar", *cols, "--movies", str(movies), *how, "-k", "1", "--json"], capsys
        )
        assert code == 0 and json.loads(out)["movie"] == "Toy Story (1995)", (how, err)


def test_a_log_without_ratings_is_led_to_a_working_command_one_line_at_a_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A log of who watched what (userId, movieId, timestamp) met 'name it with --rating-col COLUMN', with no
    column to name and no word of --rating-col '' (undocumented in the CLI); given that, every command said
    'implicit threshold 4 leaves no positives (ratings range 1..1); lower the threshold', leaving the person
    to guess to what, and that the 1s were movierec's. Each line now names the next step, and the last works.
    """
    log = tmp_path / "watched.csv"
    rows = [(u, i, 1000 * u + i) for u in range(1, 9) for i in range(1, 13) if (u + i) % 3 != 0]
    log.write_text("userId,movieId,timestamp\n" + "".join(f"{u},{i},{t}\n" for u, i, t in rows))
    data = ["--ratings", str(log)]
    _one_line_exit_2(
        ["data", "info", *data],
        capsys,
        "name it with --rating-col COLUMN (or --rating-col '' for a file without ratings: every row a positive of 1)",
    )
    data += ["--rating-col", ""]
    # without a threshold every row is a positive (test_data_without_ratings); one typed that leaves none
    # still names the one that works
    fix = "every rating is 1 (a file without a rating column is all 1s); --implicit-threshold 1 counts every row"
    four = ["--implicit-threshold", "4"]
    _one_line_exit_2(["compare", *data, *four, "--models", "popularity"], capsys, fix)
    _one_line_exit_2(["similar", *data, *four, "--movie-id", "1", "-k", "2"], capsys, fix)
    code, out, err = run_cli(["similar", *data, "--movie-id", "1", "-k", "2", "--json"], capsys)
    assert code == 0 and len(json.loads(out)["similar"]) == 2, err
    ds = movierec.load(log, rating_col=None)
    with pytest.raises(ConfigError, match=r"every rating is 1 .*all 1s\); threshold=1 counts every row$"):
        movierec.Recommender(ds, "ease", threshold=4).fit()
    assert len(movierec.Recommender(ds, "ease").fit().recommend(1, k=2)) == 2


@pytest.mark.parametrize("args", [["--rated", "Star Wars=5"], ["--user", "1", "--exclude", "Star Wars"]])
def test_an_ambiguous_rated_or_excluded_title_points_to_the_movieid_not_movie_id(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """'Star Wars' names 13 movies: the error ended 'be more specific or use --movie-id', an option
    recommend does not have (similar's), so the next try was 'no such option --movie-id'. A movieId goes
    where the title went (``--rated 260=5``), as a title with no match already says; the fix shows it, in
    the option's own form with the most-rated one's id and the rating given. ' [260]' after the title read
    as a year beside it ('Dune (1984) [2021]'): the id is named as one."""
    err = _one_line_exit_2(["recommend", *args], capsys, "'Star Wars' matches 13 movies")
    form = "--rated 260=5" if "--rated" in args else "--exclude 260"
    assert err.rstrip().endswith(f"add the year or use {form}"), err  # 'Star Wars 1977' is Episode IV
    assert "Star Wars: Episode IV - A New Hope (1977), movieId 260 and 12 more" in err, (
        err
    )  # most-rated, whole
    assert "--movie-id" not in err, err
    # which it takes: -m popularity, since the id is read before any model trains, the same for every model
    # (the default, ease, is a ~1-2 CPU-s fit on the whole file that the check does not read)
    assert run_cli(["recommend", "--rated", "260=5", "-k", "1", "-m", "popularity"], capsys)[0] == 0


def test_an_ambiguous_titles_ids_cannot_be_read_as_years(
    ease: movierec.Recommender, capsys: pytest.CaptureFixture[str]
) -> None:
    """``recommend --rated Dune=5`` said "Dune (1984) [2021]; Dune (2000) [7842]; add the year or the
    movieId": the [2021] after a year read as the 2021 film, and 'the movieId' did not say where it goes.
    Each id is named as one, and the fix is the option's form with the first one's id and the rating
    given; the notebook's refusal (the same code, movierec.titles) names the ids alike. Both fixes work."""
    ids = "Dune (1984), movieId 2021; Dune (2000), movieId 7842"
    for args, said, fix in [
        (["--rated", "Dune=5"], "--rated: ", "use --rated 2021=5"),
        (["--rated", " Dune = 4.5 "], "--rated: ", "use --rated 2021=4.5"),
        (["--rated", "Dune"], "--rated: ", "use --rated 2021"),
        (["--user", "1", "--exclude", "Dune"], "--exclude: ", "use --exclude 2021"),
    ]:
        err = _one_line_exit_2(["recommend", *args], capsys, "movies: ")
        assert err == f"movierec: error: {said}'Dune' matches 2 movies: {ids}; add the year or {fix}\n", err
    with pytest.raises(ConfigError) as exc:
        ease.recommend_for({"Dune": 5})
    assert f"'Dune' matches 2 movies: {ids}; add the year or the movieId" in str(exc.value), exc.value
    for fix in ("2021=5", "Dune 1984=5"):  # popularity: the title is read before any model trains (above)
        code, out, err = run_cli(["recommend", "--rated", fix, "-k", "1", "-m", "popularity"], capsys)
        assert code == 0 and "Dune (1984)" in out, (fix, err)


def test_ratings_of_0_and_1_are_told_the_threshold_that_counts_the_1s(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file rated 0 or 1 (liked or not, clicked or not) met 'implicit threshold 4 leaves no positives (ratings
    range 0..1); lower the threshold', with no value to lower it to. The line names the highest rating and the
    share of ratings it counts, and that threshold works."""
    path = tmp_path / "liked.csv"
    rows = [(u, i, int((u * i) % 4 == 0)) for u in range(1, 9) for i in range(1, 13) if (u + i) % 3]
    path.write_text(
        "userId,movieId,rating,timestamp\n" + "".join(f"{u},{i},{r},{u * 99 + i}\n" for u, i, r in rows)
    )
    said = "implicit threshold 4 leaves no positives (ratings range 0..1); lower it:"
    fix = "1, the highest rating, counts 50% of them"
    _one_line_exit_2(
        ["compare", "--ratings", str(path), "--models", "popularity"],
        capsys,
        f"{said} --implicit-threshold {fix}",
    )
    ds = movierec.load(path)
    with pytest.raises(ConfigError) as err:
        movierec.Recommender(ds, "ease").fit()
    assert str(err.value) == f"{said} threshold={fix}"
    assert len(movierec.Recommender(ds, "ease", threshold=1).fit().recommend(1, k=2)) == 2


def test_an_unknown_movie_id_says_which_ids_there_are_with_or_without_an_artifact(
    popularity_artifact: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    """``similar --movie-id abc`` said "unknown movie id 'abc' in ml-latest-small (it has no ratings)", as if
    'abc' were a movie nobody rated, and with ``--artifact`` only "unknown movie id '999999'". Both now say
    what the data or artifact has and what to give, in the words ``similar 999999`` already used. The
    artifact is the module's popularity export of ml-latest-small (this test exported the same one itself)."""
    art = popularity_artifact
    has = "(its 9,724 movies have ids 1 to 193609, with gaps); give a movieId or a title ('Toy Story')"
    for where, extra in (("ml-latest-small", []), ("the artifact", ["--artifact", str(art)])):
        for movie_id in ("abc", "999999"):
            err = _one_line_exit_2(["similar", *extra, "--movie-id", movie_id], capsys, has)
            assert err == f"movierec: error: unknown movie id '{movie_id}' in {where} {has}\n"


@pytest.mark.parametrize(
    "args",
    [["recommend", "--user", "1"], ["similar", "Toy Story"], ["recommend", "--rated", "Toy Story"]],
)
def test_segment_popularity_is_refused_with_a_fix_this_command_has(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``recommend --model segment-popularity`` said "in the CLI --user-features demographics", an option
    recommend and similar do not have (typing it: "no such option --user-features"). Its lists are chosen by
    user features, which these commands never build; the refusal names the door that does (export with
    them, then --artifact) and comes before any data is loaded or any model trained."""
    err = _one_line_exit_2([*args, "--model", "segment-popularity"], capsys, "which only export takes")
    assert "in the CLI --user-features" not in err
    assert err == (  # two rows at most (it was 301 columns: the whole export command, the segment's fields)
        "movierec: error: segment-popularity lists by user features, which only export takes: export it with "
        "--user-features demographics (ml-100k), then --artifact DIR\n"
    )
    assert len(err) - 1 <= 160
