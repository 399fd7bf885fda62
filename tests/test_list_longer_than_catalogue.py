"""A list is at most ``k`` long at every door: Python, the CLI, the artifact and the API.

``movierec recommend --ratings toy.csv --user 1`` on a 6-movie file said "error: -k 10 is larger than the
catalogue (6 movies)" though no ``-k`` was typed, and Python's ``recommend(1)`` refused too, while a loaded
artifact's ``recommend(1, k=20000)`` and the API gave every movie there was. Now each gives every movie
that qualifies (the CLI adds a note naming the catalogue's size), and the four answers are the same list."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest

import movierec
from clihelp import run_cli
from movierec.serving.artifact import Artifact

#: 5 users, 6 movies: user 1 rated movies 1 and 2, so a list for them holds at most the other 4
ROWS = [
    (1, 1, 5), (1, 2, 4),
    (2, 1, 4), (2, 3, 5), (2, 4, 4), (2, 5, 2),
    (3, 2, 5), (3, 3, 4), (3, 6, 4),
    (4, 1, 5), (4, 4, 5), (4, 6, 3),
    (5, 3, 4), (5, 5, 4), (5, 2, 4),
]  # fmt: skip


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("toy") / "toy.csv"
    path.write_text("userId,movieId,rating\n" + "".join(f"{u},{i},{r}\n" for u, i, r in ROWS))
    return path


@pytest.fixture(scope="module")
def fitted(toy: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[movierec.Recommender, Artifact]:
    rec = movierec.Recommender(movierec.load(toy), "ease").fit()
    return rec, rec.export(tmp_path_factory.mktemp("art") / "ease")


def test_python_and_the_artifact_give_every_movie_for_a_k_past_the_catalogue(
    fitted: tuple[movierec.Recommender, Artifact],
) -> None:
    rec, art = fitted
    every = rec.recommend(1, min_support=0).movieId.tolist()  # the default k=10, on a 6-movie catalogue
    assert sorted(every) == [3, 4, 5, 6]  # every movie user 1 has not rated
    for k in (4, 50, 10**9):
        assert rec.recommend(1, k=k, min_support=0).movieId.tolist() == every
        assert art.recommend(1, k=k, min_support=0).movieId.tolist() == every
    assert len(rec.recommend_for({1: 5}, k=10**9, min_support=0)) == 5  # every movie but the one rated
    assert len(rec.similar(1, k=10**9, min_support=0)) == len(rec.similar(1, k=5, min_support=0))


def test_both_python_doors_give_a_short_list_without_a_warning(
    fitted: tuple[movierec.Recommender, Artifact],
) -> None:
    """Decided: a list longer than the catalogue is not warned about in Python, at either door. The artifact
    never warned; a list is shorter than ``k`` for other reasons too (the rated movies, the support floor,
    ``genres``), none warned about; ``len(frame)`` says it. The CLI's note stays: its table is read, not
    measured. A warning from one door alone would make the two disagree."""
    rec, art = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        trained = rec.recommend(1, k=50, min_support=0)
        served = art.recommend(1, k=50, min_support=0)
    assert trained.movieId.tolist() == served.movieId.tolist() and len(trained) == 4


def test_the_api_gives_the_same_list(fitted: tuple[movierec.Recommender, Artifact], tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from movierec.serving.app import ServeSettings
    from movierec.serving.server import build_server
    from movierec.serving.store import FeedbackStore

    rec, art = fitted
    asgi, _ = build_server([art.path], FeedbackStore(tmp_path / "fb.db"), ServeSettings(static=False))
    r = TestClient(asgi).get("/users/1/recommendations", params={"k": 50})
    assert r.status_code == 200, r.text
    body = r.json()
    rows = body["recommendations"] if isinstance(body, dict) else body
    listed = [row["movieId"] for row in rows]  # the artifact's support floor, as Python's default
    assert listed == rec.recommend(1, k=50).movieId.tolist() == art.recommend(1, k=50).movieId.tolist()
    assert listed == rec.recommend(1).movieId.tolist()


@pytest.mark.parametrize(
    ("k", "said"), [([], "fewer than the default -k 10"), (["-k", "50"], "fewer than -k 50")]
)
def test_the_cli_lists_them_with_a_note_rather_than_refusing_a_k_nobody_typed(
    toy: Path, fitted: tuple[movierec.Recommender, Artifact], capsys: pytest.CaptureFixture[str],
    k: list[str], said: str,
) -> None:  # fmt: skip
    code, out, err = run_cli(
        ["recommend", "--ratings", str(toy), "--user", "1", "-m", "ease", "--min-support", "0", "--json", *k],
        capsys,
    )
    assert code == 0, err
    assert f"the catalogue holds 6 movies, {said}" in " ".join(err.split())
    expected = fitted[0].recommend(1, min_support=0).movieId.tolist()
    assert [row["movieId"] for row in json.loads(out)] == expected


def test_the_cli_table_is_headed_by_the_length_it_has(toy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The 6-movie file's user 1 has rated some of them: the table's heading said "top 10 for user 1" over
    the few left; it names the rows it shows."""
    code, out, err = run_cli(
        ["recommend", "--ratings", str(toy), "--user", "1", "-m", "ease", "--min-support", "0"], capsys
    )
    assert code == 0, err
    n = len(re.findall(r"^│ +\d+ │", out, flags=re.M))
    assert 0 < n < 10 and f"top {n} for user 1 · ease" in out and "top 10" not in out, out


def test_compare_past_a_small_catalogue_names_the_k_that_fits(
    toy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``compare --k 10`` on a 5-movie file said "--k 10 is larger than the catalogue (5 items)" with no fix,
    a 1-movie one "(1 items)", and ``recommend`` on it "note: the catalogue holds 1 movies": the refusal
    now names the k that fits, and one movie is one."""
    from movierec.cli.compare import _note_whole_catalogue
    from movierec.errors import ConfigError
    from movierec.evaluation import _check_k

    five = tmp_path / "five.csv"
    five.write_text("userId,movieId,rating\n" + "".join(f"{u},{i},{r}\n" for u, i, r in ROWS if i != 6))
    code, _out, err = run_cli(["compare", "--ratings", str(five), "-m", "popularity", "--k", "10"], capsys)
    line = " ".join(err.split())
    assert code == 2 and "--k 10 is larger than the catalogue (5 items): use --k 5 or fewer" in line, err
    with pytest.raises(ConfigError) as one:
        _check_k(10, 1)
    assert str(one.value) == "k=10 is larger than the catalogue (1 item): use k=1 or fewer"
    _note_whole_catalogue(10, 1, True)
    _note_whole_catalogue(10, 1, False, "other movies")
    said = " ".join(capsys.readouterr().err.split())
    assert "the catalogue holds 1 movie, fewer than -k 10" in said, said
    assert "the catalogue holds 1 other movie, fewer than the default -k 10" in said, said
