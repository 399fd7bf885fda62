"""Library messages that a notebook and the CLI both reach name a setting in each door's spelling: a Python
reader of "lower --implicit-threshold" had to guess that ``compare``'s keyword is ``threshold=``.

Each case runs the same mistake twice: ``movierec.compare(...)`` in Python, whose ``ConfigError`` must name
the Python keyword and not the flag, and ``movierec compare ...`` through the CLI, whose one line must name
the flag and not the keyword, and exit 2 (a :class:`movierec.errors.Doors` message; these named both in one
line, ``(cv= in Python, --cv in the CLI)``, by :func:`movierec.errors.spelled`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import movierec
from clihelp import run_cli
from movierec.errors import ConfigError, DataError, labelled, spelled


@pytest.fixture(scope="module")
def ratings_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 users × 30 movies; every 5 is older than every 3 (and a tenth of the ratings), so the latest
    ratings (the temporal split's test part) hold no rating ≥ 5 while the training part does."""
    rows = []
    for u in range(1, 41):
        for i in range(1, 31):
            if (u + i) % 3 == 0:
                continue
            five = i <= 6 and (u + i) % 2 == 1
            rows.append((u, i, 5.0 if five else 3.0, (0 if five else 100_000) + 30 * u + i))
    path = tmp_path_factory.mktemp("spellings") / "r.csv"
    pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"]).to_csv(path, index=False)
    return path


# (the keywords given to compare, the CLI's options, what both lines say, Python's spelling, the CLI's)
CASES = [
    pytest.param(
        {"threshold": 6},
        ["--implicit-threshold", "6"],
        "leaves no positives",
        "lower it: threshold=5, the highest rating",  # each door names its own spelling, and the value
        "lower it: --implicit-threshold 5, the highest rating",
        id="threshold-above-every-rating",
    ),
    pytest.param(
        {"threshold": 5, "split": "temporal", "protocols": "full-ranking"},
        ["--implicit-threshold", "5", "--split", "temporal", "--protocols", "full-ranking"],
        "leaves no test positives, so there is nothing to rank; lower the threshold",
        "lower the threshold (threshold=)",
        "lower the threshold (--implicit-threshold)",
        id="threshold-above-every-test-rating",
    ),
    pytest.param(
        {"protocols": "leave-last-out", "split": "ratings-holdout"},
        ["--protocols", "leave-last-out", "--split", "ratings-holdout"],
        "the leave-last-out protocol needs the leave-last-out split",
        "(split='leave-last-out')",
        "(--split leave-last-out)",
        id="leave-last-out-without-its-split",
    ),
    pytest.param(
        {"protocols": "next-item-in-session", "split": "ratings-holdout"},
        ["--protocols", "next-item-in-session", "--split", "ratings-holdout"],
        "the next-item-in-session protocol and the last-session split go together",
        "(split='last-session')",
        "(--split last-session)",
        id="next-item-in-session-without-its-split",
    ),
    pytest.param(  # the half that is missing: '--split last-session' alone was told '(--split last-session)'
        {"split": "last-session"},
        ["--split", "last-session"],
        "the next-item-in-session protocol and the last-session split go together",
        "(protocols=['next-item-in-session'])",
        "(--protocols next-item-in-session)",
        id="last-session-without-its-protocol",
    ),
    pytest.param(  # in docs/protocols.md's table, a command of its own: compare said 'unknown protocol'
        {"protocols": "cold-users"},
        ["--protocols", "cold-users"],
        "cold-users is not a compare protocol",
        "run movierec.cold_users.cold_users(dataset, models)",
        "run movierec cold-users (docs/new-users.md)",
        id="cold-users-is-a-command-of-its-own",
    ),
    pytest.param(
        {"protocols": "rating", "rerank": "mmr:0.3"},
        ["--protocols", "rating", "--rerank", "mmr:0.3"],
        "re-ranks full-ranking lists; add full-ranking to the protocols",
        "a re-ranker (rerank=)",
        "a re-ranker (--rerank)",
        id="rerank-without-full-ranking",
    ),
    pytest.param(
        {"protocols": "rating", "beyond": True},
        ["--protocols", "rating", "--beyond"],
        "measure full-ranking lists; add full-ranking to the protocols",
        "beyond-accuracy metrics (beyond=True)",
        "beyond-accuracy metrics (--beyond)",
        id="beyond-without-full-ranking",
    ),
    pytest.param(
        {"cv": 3, "split": "temporal", "protocols": "full-ranking"},
        ["--cv", "3", "--split", "temporal", "--protocols", "full-ranking"],
        "works with the ratings or interactions hold-out, or per-user (folds of users), not the temporal split",
        "k-fold cross-validation (cv=)",
        "k-fold cross-validation (--cv)",
        id="cv-on-a-split-without-folds",
    ),
]


@pytest.mark.parametrize(("keywords", "options", "says", "python", "cli"), CASES)
def test_compare_names_the_python_keyword_and_the_cli_flag(
    ratings_csv: Path,
    capsys: pytest.CaptureFixture[str],
    keywords: dict[str, object],
    options: list[str],
    says: str,
    python: str,
    cli: str,
) -> None:
    ds = movierec.load(ratings_csv)
    with pytest.raises(ConfigError) as exc:
        movierec.compare(ds, ["popularity"], progress=False, **keywords)
    text = str(exc.value)
    assert says in text and python in text and cli not in text, text  # Python's keyword alone
    assert "\n" not in text and " in the CLI" not in text, text

    code, _out, err = run_cli(
        ["compare", "--ratings", str(ratings_csv), "-m", "popularity", *options], capsys
    )
    assert code == 2, err
    line = err.splitlines()[-1]  # after any progress lines of the models fitted before the mistake showed
    assert line.startswith("movierec: error: ") and err.count("movierec: error:") == 1, err
    assert says in line and cli in line and python not in line and " in Python" not in line, err


def test_the_fix_for_a_threshold_reached_in_training_names_the_keyword(ratings_csv: Path) -> None:
    """``Recommender(..., threshold=6).fit()`` reaches ``Interactions.to_implicit``, not compare's check."""
    rec = movierec.Recommender(movierec.load(ratings_csv), "popularity", threshold=6)
    with pytest.raises(
        ConfigError,
        match=r"lower it: threshold=5, the highest rating, counts \d+% of them$",
    ):
        rec.fit()


@pytest.mark.parametrize("flag", ["--implicit-threshold", "--threshold"])
def test_tune_takes_the_flag_its_threshold_message_names(
    ratings_csv: Path, tmp_path: Path, flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """tune's threshold was only --threshold, while the message that says how to fix it (and every other
    command) names --implicit-threshold: a person following the line got 'No such option'. Both are taken."""
    args = ["tune", "--model", "ease", "--ratings", str(ratings_csv), flag, "6", "--trials", "1"]
    code, _, err = run_cli([*args, "--out", str(tmp_path / "t")], capsys)
    assert code == 2 and "leaves no positives" in err and "No such option" not in err, err
    assert (
        "lower it: --implicit-threshold 5," in err
        and "threshold=" not in err
        and not (tmp_path / "t").exists()
    )


def test_load_ratings_file_names_keywords_and_the_cli_names_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``movierec.datasets.load_ratings_file`` is a Python call: its missing-column fix is the keywords it
    takes (it said ``--rating-col stars``); the CLI, which reads through it, still says its flags."""
    path = tmp_path / "stars.csv"
    path.write_text("userId,movieId,stars\n1,10,4\n")
    with pytest.raises(DataError) as exc:
        movierec.datasets.load_ratings_file(path)
    assert str(exc.value).endswith("name it with rating_col='stars'"), exc.value
    code, _out, err = run_cli(["data", "info", "--ratings", str(path)], capsys)
    assert code == 2 and err.count("\n") == 1 and err.rstrip().endswith("name it with --rating-col stars"), (
        err
    )


def test_a_file_without_times_says_how_to_name_one_in_each_doors_spelling(tmp_path: Path) -> None:
    """A file is read from both doors: its note is a :class:`movierec.errors.Doors`, Python's words in
    ``notes`` (it named both in one line, "(time_col= in Python, --time-col in the CLI)"), the CLI's where
    the CLI says it (tests/datasets/test_parsers.py pins that line)."""
    path = tmp_path / "r.csv"
    path.write_text("userId,movieId,rating\n1,10,4\n2,10,5\n")
    [note] = movierec.datasets.load_ratings_file(path).notes
    assert note.endswith("are unavailable; name another column with time_col="), note
    assert getattr(note, "cli", "").endswith("are unavailable; name another column with --time-col"), note
    frame_notes = " ".join(movierec.load(pd.read_csv(path)).notes)
    assert "name another column with time_col=" in frame_notes and "--time-col" not in frame_notes


def test_the_report_form_of_a_model_name_names_item_features_in_each_doors_words() -> None:
    """The refusal knows both spellings where it is raised (a :class:`movierec.errors.Doors`): Python's
    keyword in the ConfigError, the flag in the line the CLI prints (``in_cli``)."""
    with pytest.raises(ConfigError) as exc:
        movierec.compare("ml-latest-small", ["warp+genres+tags"], progress=False)
    said = "unknown model 'warp+genres+tags': give the model and its features apart, "
    assert (
        str(exc.value) == said + "'warp' with item_features='genres,tags' (NAME+feature is the report's form)"
    )
    assert (
        exc.value.in_cli()
        == said + "warp with --item-features genres,tags (NAME+feature is the report's form)"
    )


def test_an_export_folder_is_named_in_the_callers_words(tmp_path: Path) -> None:
    """Recommender.export (Python only) names the folder and force=True; the export pipeline, which the CLI
    runs too, names both spellings."""
    from movierec.serving.pipeline import train_and_export

    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep\n")
    rec = movierec.Recommender("ml-latest-small", "popularity").fit()
    with pytest.raises(ConfigError) as exc:
        rec.export(taken)
    assert str(exc.value) == f"{taken} already exists; pass force=True to replace it"
    with pytest.raises(ConfigError) as exc:
        train_and_export(lambda: movierec.load("ml-latest-small"), "popularity", {}, taken, force=True)
    assert str(exc.value).startswith(f"{taken} (out= in Python, --out in the CLI): refusing to replace"), (
        exc.value
    )
    assert "choose another folder" in str(exc.value) and (taken / "mine.txt").exists()


def test_labelled_words_one_spelling_a_keyword_or_both() -> None:
    assert labelled("--out", "r") == "--out r"
    assert labelled("out=", "r") == "out='r'"
    assert labelled("", "r") == "r"
    assert labelled(spelled("out=", "--out"), "r") == "r (out= in Python, --out in the CLI)"


def test_report_build_and_batch_files_name_both_spellings(tmp_path: Path) -> None:
    """build_report (the report command's pipeline, callable from Python) names its setting Python's way
    (its refusal is a Doors: test_door_words' report cases read both doors), and write_recommendations
    (recommend --all-users' writer, whose out= rule serving shares) names its settings both ways."""
    from movierec.serving.batch import write_recommendations
    from movierec.viz.report import build_report

    with pytest.raises(ConfigError) as exc:
        build_report("ml-latest-small", "popularity", tmp_path / "r", projection="nope", show_progress=False)
    assert str(exc.value).startswith("projection='nope': choose one of")
    taken = tmp_path / "recs.csv"
    taken.write_text("mine\n")
    with pytest.raises(ConfigError) as exc:
        write_recommendations(pd.DataFrame({"userId": [1]}), taken)
    assert str(exc.value) == (
        f"{taken} (out= in Python, --out in the CLI) already exists; "
        "replace it (force=True in Python, --force in the CLI)"
    )
    assert taken.read_text() == "mine\n"


def test_a_malformed_spark_master_names_each_doors_spelling() -> None:
    """It named both in one line ("'locall[2]' (master= in Python, --master in the CLI): …"); Python's
    error names the keyword, its CLI words the flag (tests/spark/test_session runs the CLI)."""
    pytest.importorskip("pyspark")
    from movierec.spark.session import check_master

    with pytest.raises(ConfigError) as exc:
        check_master("locall[2]")
    assert str(exc.value).startswith("master='locall[2]': expected local, local[N], local[*]")
    assert exc.value.in_cli().startswith("--master locall[2]: expected local, local[N], local[*]")


def test_a_file_not_in_utf8_is_one_sentence_for_ratings_movies_and_features(tmp_path: Path) -> None:
    """A Windows-1252 file stops with the same words, its name and the bad byte's line, whichever file it
    is: the ratings reader said 'not valid UTF-8 (latin-1?)', the movies reader 'not valid utf-8', and a
    features file Python's "'utf-8' codec can't decode byte 0xe9 in position 1" (CLI in a subprocess)."""
    from clihelp import ERROR, run_process

    good = tmp_path / "r.csv"
    good.write_text(
        "".join(
            ["customer,title_id,score\n", *(f"u{u},t{i},{u + i}\n" for u in range(20) for i in range(15))]
        )
    )
    bad_ratings = tmp_path / "r_1252.csv"
    bad_ratings.write_bytes("customer,title_id,score\nu0,t0,5\nusuário,t1,7\n".encode("cp1252"))
    bad_movies = tmp_path / "m_1252.csv"
    bad_movies.write_bytes(
        "title_id,title,genres\nt0,Toy Story,Comedy\nt1,Édition Spéciale,Drama\n".encode("cp1252")
    )
    bad_features = tmp_path / "f_1252.csv"
    bad_features.write_bytes("customer,feature\nu0,country:BR\nu1,country:Perú\n".encode("cp1252"))
    cols = ["--user-col", "customer", "--item-col", "title_id", "--rating-col", "score", "--time-col", ""]
    runs = {
        bad_ratings: ["data", "info", "--ratings", str(bad_ratings), *cols],
        bad_movies: ["data", "info", "--ratings", str(good), *cols, "--movies", str(bad_movies)],
        bad_features: [
            "compare",
            "--ratings",
            str(good),
            *cols,
            "-m",
            "warp",
            "--user-features",
            str(bad_features),
        ],
    }
    for path, args in runs.items():
        proc = run_process(*args, cwd=tmp_path)
        want = f"{ERROR}{path}, line 3: text is not valid UTF-8 (Windows-1252 or latin-1?); re-save the file as UTF-8"
        # the ratings and --movies readers take --encoding, and say so; a features file is UTF-8 only
        want += "\n" if path == bad_features else ", or read it as it is with --encoding cp1252\n"
        assert proc.returncode == 2 and proc.stderr == want, (args, proc.stderr)
