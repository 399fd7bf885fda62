"""``exclude=`` on ``Recommender.recommend`` and ``recommend_for``: a deny-list of raw movieIds (implicit's
``filter_items``), left out of the list, which fills from the next best; an unknown movie is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

import movierec
from movierec.datasets import Dataset
from movierec.errors import ConfigError, UnknownIdError


@pytest.fixture(scope="module")
def rec(bundled: Dataset) -> movierec.Recommender:
    return movierec.Recommender(bundled, "ease").fit()


def test_recommend_leaves_the_denied_movies_out(rec: movierec.Recommender) -> None:
    plain = rec.recommend(1, k=8).movieId.tolist()
    denied = [plain[0], plain[4]]
    assert rec.recommend(1, k=6, exclude=denied).movieId.tolist() == [m for m in plain if m not in denied][:6]
    assert rec.recommend(1, k=3, exclude=plain[0]).movieId.tolist() == plain[1:4]  # one id alone
    assert rec.recommend(1, k=3, exclude=[]).movieId.tolist() == plain[:3]
    reranked = rec.recommend(1, k=5, rerank="mmr:0.5", exclude=plain[:3]).movieId.tolist()
    assert reranked and not set(reranked) & set(plain[:3])
    many = rec.recommend([1, 2], k=3, exclude=denied)
    assert not set(many.movieId) & set(denied) and len(many) == 6


def test_recommend_for_leaves_the_denied_movies_out(rec: movierec.Recommender) -> None:
    liked = {1: 5.0, 2571: 5.0}  # Toy Story, The Matrix
    plain = rec.recommend_for(liked, k=6).movieId.tolist()
    assert rec.recommend_for(liked, k=4, exclude=plain[1:3]).movieId.tolist() == [plain[0], *plain[3:6]]


def test_a_bad_deny_list_is_refused(rec: movierec.Recommender) -> None:
    with pytest.raises(UnknownIdError, match="987654"):
        rec.recommend(1, exclude=[1, 987654])
    with pytest.raises(UnknownIdError, match="987654"):
        rec.recommend_for({1: 5.0}, exclude=[987654])
    with pytest.raises(ConfigError, match="exclude: give the movies never to list"):
        rec.recommend(1, exclude={1: True})


def test_the_clis_exclude_leaves_movies_out_of_a_user_and_a_visitor_list(tmp_path: Path) -> None:
    """``movierec recommend --exclude MOVIE`` (a title or an id, repeated): the list the API's ?exclude= gives,
    in a real subprocess; a misspelt movie is one line before any training, with --all-users too.

    Each list trains ease on ml-latest-small's first 150 users with its movies file (a MovieLens folder,
    ``--dataset PATH``): 5k movies, not 9.7k, in each of the five fits; --exclude is read the same way."""
    import json

    from clihelp import run_process
    from datagen import mlls_first_users

    data = mlls_first_users(tmp_path / "mlls-150")

    def listed(*args: str) -> list[int]:
        done = run_process("recommend", "-k", "6", "--json", "--dataset", str(data), *args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        rows = json.loads(done.stdout)
        rows = rows["recommendations"] if isinstance(rows, dict) else rows
        return [int(r["movieId"]) for r in rows]

    plain = listed("--user", "1", "--model", "ease")
    denied = [plain[0], plain[2]]
    title = "Toy Story 2"  # not in user 1's list: a title that names a movie resolves and changes nothing
    kept = listed("--user", "1", "--model", "ease", "--exclude", str(denied[0]), "--exclude", str(denied[1]))
    assert kept[:4] == [m for m in plain if m not in denied][:4] and not set(kept) & set(denied)
    assert listed("--user", "1", "--model", "ease", "--exclude", title) == plain
    visitor = listed("--rated", "Alien=5", "--model", "ease")
    assert listed("--rated", "Alien=5", "--model", "ease", "--exclude", str(visitor[0]))[:3] == visitor[1:4]

    misspelt = ("--exclude", "Termnator 9")
    typo = run_process(
        "recommend", "-d", str(data), "--user", "1", "--model", "ease", *misspelt, cwd=tmp_path
    )
    assert typo.returncode == 2
    (line,) = typo.stderr.strip().splitlines()  # no 'fitting' line or model note: refused before training
    assert line.startswith("movierec: error: --exclude: no movie title matches 'Termnator 9'")
    typo = run_process(
        "recommend", "-d", str(data), "--all-users", "--out", "x.parquet", *misspelt, cwd=tmp_path
    )
    (line,) = typo.stderr.strip().splitlines()  # refused before training, as for one list
    assert typo.returncode == 2 and line.startswith("movierec: error: --exclude: no movie title matches")
    assert not (tmp_path / "x.parquet").exists()


def test_all_users_leaves_the_deny_list_out_of_every_list(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``recommend --all-users --exclude MOVIE``: was 'leaves movies out of one --user or --rated list';
    now every user's list leaves the movies out and fills from the next best, each list the one
    ``recommend --user U --exclude`` prints (a real subprocess, with an exported artifact).

    The artifact is popularity's on the whole bundled file: the deny-list is ruled out in
    ``Artifact.top_indices`` and ``recommend_index`` whatever the scorer, and popularity's export and
    batch cost about half of ease's (ease's 9.7k-movie fit and its scores for 610 users)."""
    import json

    import pandas as pd

    from clihelp import run_process

    art = tmp_path / "art"
    done = run_process("export", "--model", "popularity", "--out", str(art), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    plain = run_process(
        "recommend", "--all-users", "-a", str(art), "-k", "5", "--out", "plain.csv", cwd=tmp_path
    )
    assert plain.returncode == 0, plain.stderr
    before = pd.read_csv(tmp_path / "plain.csv")
    top = before["movieId"].value_counts().index[:2].tolist()  # the two most listed movies
    args = ("--exclude", str(top[0]), "--exclude", str(top[1]))
    done = run_process(
        "recommend", "--all-users", "-a", str(art), "-k", "5", "--out", "x.csv", *args, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    after = pd.read_csv(tmp_path / "x.csv")
    assert before["movieId"].isin(top).sum() > 100 and not after["movieId"].isin(top).any()
    assert len(after) == len(before)  # each list filled from the next best
    for user in (1, 414):
        one = run_process(
            "recommend", "-a", str(art), "--user", str(user), "-k", "5", "--json", *args, cwd=tmp_path
        )
        rows = json.loads(one.stdout)
        rows = rows["recommendations"] if isinstance(rows, dict) else rows
        assert after[after.userId == user].sort_values("rank")["movieId"].tolist() == [
            int(r["movieId"]) for r in rows
        ]
