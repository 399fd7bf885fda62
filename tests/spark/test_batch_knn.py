"""``spark recommend`` for a neighbour (item-kNN) artifact: the artifact's own ranking in each Spark task,
identical to ``movierec recommend --all-users`` on one machine and to what the artifact serves."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sparkmarks import SPARK_JOB

from movierec.cli import main
from movierec.models.registry import create
from movierec.serving.artifact import export_artifact, load_artifact

pytestmark = SPARK_JOB


def test_knn_artifact_batch_in_spark_equals_single_machine(spark, bundled, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    train = bundled.interactions.to_implicit(4.0)
    model = create("itemknn").fit(train)
    path = export_artifact(model, bundled, train, tmp_path / "knn")
    art = load_artifact(path)
    assert art.family not in ("factors", "scores")
    spark_out, local_out = tmp_path / "spark.parquet", tmp_path / "local.parquet"
    with pytest.raises(SystemExit) as exc:
        main(["spark", "recommend", "--artifact", str(path), "--out", str(spark_out), "--k", "5", "--json"])
    assert exc.value.code in (0, None)
    summary = json.loads(capsys.readouterr().out)
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "recommend",
                "--all-users",
                "--artifact",
                str(path),
                "--out",
                str(local_out),
                "-k",
                "5",
                "--json",
            ]
        )
    assert exc.value.code in (0, None)
    local_summary = json.loads(capsys.readouterr().out)
    got = pd.read_parquet(spark_out).sort_values(["userId", "rank"]).reset_index(drop=True)
    want = pd.read_parquet(local_out).sort_values(["userId", "rank"]).reset_index(drop=True)
    assert summary["n_rows"] == len(got) == local_summary["n_rows"] == len(want)
    assert list(got.columns) == list(want.columns) == ["userId", "rank", "movieId", "score"]
    pd.testing.assert_frame_equal(got[["userId", "rank", "movieId"]], want[["userId", "rank", "movieId"]])
    assert (abs(got["score"] - want["score"]) < 1e-5).all()
    for user in (1, 414):
        rows = art.recommend_rows(user, k=5)
        assert got[got.userId == user]["movieId"].tolist() == [r["movieId"] for r in rows]
