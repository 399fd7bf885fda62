"""``movierec recommend --all-users --out``: every user's top-K on one machine, equal to what serve returns."""

from __future__ import annotations

import json
from pathlib import Path

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
