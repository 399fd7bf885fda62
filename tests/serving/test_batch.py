"""``movierec recommend --all-users --out``: every user's top-K on one machine, equal to what serve returns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from movierec.cli import app
from movierec.serving.artifact import load_artifact


def test_all_users_parquet_equals_the_artifact(svd_artifact, tmp_path: Path) -> None:
    path, _, _ = svd_artifact
    out = tmp_path / "recs.parquet"
    runner = CliRunner()
    result = runner.invoke(
        app, ["recommend", "--all-users", "--artifact", str(path), "--out", str(out), "-k", "4", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    art = load_artifact(path)
    recs = pd.read_parquet(out)
    assert list(recs.columns) == ["userId", "rank", "movieId", "score"]
    assert summary["n_rows"] == len(recs) == 4 * art.n_users and summary["n_users"] == art.n_users
    assert recs["userId"].dtype.kind == "i" and recs["movieId"].dtype.kind == "i"
    for user in (1, 7, 40):
        want = art.recommend_rows(user, k=4)
        got = recs[recs.userId == user].sort_values("rank")
        assert got["movieId"].tolist() == [r["movieId"] for r in want]
        assert got["score"].to_numpy() == pytest.approx([r["score"] for r in want], abs=1e-5)
    again = runner.invoke(app, ["recommend", "--all-users", "--artifact", str(path), "--out", str(out)])
    assert again.exit_code != 0 and "already exists" in str(again.exception) + again.output
    csv = tmp_path / "recs.csv"
    assert (
        runner.invoke(
            app, ["recommend", "--all-users", "-a", str(path), "--out", str(csv), "-k", "2"]
        ).exit_code
        == 0
    )
    assert len(pd.read_csv(csv)) == 2 * art.n_users


def test_all_users_needs_out_and_user_needs_id(svd_artifact) -> None:
    path, _, _ = svd_artifact
    runner = CliRunner()
    r = runner.invoke(app, ["recommend", "--all-users", "--artifact", str(path)])
    assert r.exit_code != 0 and "--all-users needs --out" in str(r.exception) + r.output
    r = runner.invoke(app, ["recommend", "--artifact", str(path)])
    assert r.exit_code != 0 and "--user" in str(r.exception) + r.output


@pytest.fixture(scope="module")
def families(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    """A rating model (svd), a neighbour model whose lists hold many ties (itemknn) and an implicit one that
    leaves out movies rated below its threshold too (ials), on 120 users × 400 movies."""
    from servehelp import export_each, movies_dataset

    ds = movies_dataset(n_users=120, n_items=400, seed=5)
    models = {
        "svd": {"n_factors": 8, "n_epochs": 10, "random_state": 0},
        "itemknn": {},
        "ials": {"factors": 8},
    }
    return export_each(models, ds, tmp_path_factory.mktemp("families"))


def _served(art: object, k: int, exclude_seen: bool) -> pd.DataFrame:
    """Every user's list as the API serves it (``recommend_index``, one user at a time), as batch columns."""
    rows = [
        (art.raw_user(u), rank, row["movieId"], row["score"])  # type: ignore[attr-defined]
        for u in range(art.n_users)  # type: ignore[attr-defined]
        for rank, row in enumerate(art.recommend_index(u, k, exclude_seen=exclude_seen), start=1)  # type: ignore[attr-defined]
    ]
    frame = pd.DataFrame(rows, columns=["userId", "rank", "movieId", "score"])
    return frame.astype({"userId": "int64", "rank": "int32", "movieId": "int64", "score": "float32"})


@pytest.mark.parametrize("family", ["svd", "itemknn", "ials"])
@pytest.mark.parametrize(("k", "exclude_seen"), [(10, True), (300, True), (7, False)])
def test_batch_lists_are_the_served_lists_ties_and_all(
    families, family: str, k: int, exclude_seen: bool
) -> None:  # type: ignore[no-untyped-def]
    """Blocks of users ranked at once give each user exactly the list ``recommend_index`` serves: the same
    movies in the same order (ties by movie index), the same float32 scores, the same rows left out; k 300
    goes past the compiled selection (k ≤ 256) to numpy's partition."""
    from movierec.serving.batch import recommend_all_users

    art = families[family][2]
    want = _served(art, k, exclude_seen)
    got = recommend_all_users(art, k, exclude_seen=exclude_seen)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    if family == "itemknn":  # the case the tie rule decides: equal scores within one user's list
        assert want.duplicated(["userId", "score"]).any()


@pytest.mark.parametrize("family", ["svd", "itemknn"])
def test_a_deny_list_leaves_the_same_movies_out_of_every_batch_list(families, family: str) -> None:  # type: ignore[no-untyped-def]
    """``exclude`` (a deny-list of raw movieIds) rules the movies out of every user's batch list, each list
    filled from the next best: exactly what ``recommend_index(u, k, exclude=…)`` serves one user at a time.
    The deny-list is each family's three most listed movies, so most lists change; an id the artifact does
    not know is one UnknownIdError before any list is ranked."""
    from movierec.errors import UnknownIdError
    from movierec.serving.batch import recommend_all_users

    art = families[family][2]
    plain = recommend_all_users(art, 5)
    denied = plain["movieId"].value_counts().index[:3].tolist()
    got = recommend_all_users(art, 5, exclude=denied)
    assert not got["movieId"].isin(denied).any()
    assert (got.groupby("userId").size() == plain.groupby("userId").size()).all()  # filled from the next best
    for u in range(art.n_users):
        want = art.recommend_index(u, 5, exclude=denied)
        rows = got[got.userId == art.raw_user(u)]
        assert rows["movieId"].tolist() == [r["movieId"] for r in want]
        # the served JSON writes a float32 score as its shortest decimal: the same float32 as the batch's
        served = np.array([r["score"] for r in want], dtype=np.float32)
        np.testing.assert_array_equal(rows["score"].to_numpy(dtype=np.float32), served)
    with pytest.raises(UnknownIdError, match="987654"):
        recommend_all_users(art, 5, exclude=[denied[0], 987654])
