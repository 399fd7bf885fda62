"""``spark recommend`` for a neighbour (item-kNN) artifact: the artifact's own ranking in each Spark task,
identical to ``movierec recommend --all-users`` on one machine and to what the artifact serves; and for an
implicit factor artifact (broadcast factors), the served lists too, rated movies below the threshold left out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sparkmarks import SPARK_JOB

from movierec.cli import main
from movierec.models.registry import create
from movierec.serving.artifact import export_artifact, load_artifact
from movierec.serving.batch import recommend_all_users

pytestmark = SPARK_JOB

#: the two Spark scoring paths: an item-kNN artifact (its own ranking code in each task) and an implicit
#: factor artifact (broadcast factors)
MODELS = {"itemknn": {}, "ials": {"factors": 16, "random_state": 0}}


@pytest.fixture(scope="module")
def exported(bundled, tmp_path_factory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    """Each of :data:`MODELS` fitted on the bundled ratings ≥ 4 and exported, once for the module: the
    tests only read the artifacts (and write their Spark output elsewhere)."""
    train = bundled.interactions.to_implicit(4.0)
    folder = tmp_path_factory.mktemp("batch")
    return {
        name: export_artifact(create(name, **params).fit(train), bundled, train, folder / name)
        for name, params in MODELS.items()
    }


def test_knn_artifact_batch_in_spark_equals_single_machine(spark, exported, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = exported["itemknn"]
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


def test_implicit_factor_batch_in_spark_leaves_out_every_rated_movie(
    spark, bundled, exported, tmp_path, capsys
) -> None:  # type: ignore[no-untyped-def]
    """An ials export trains on the ratings ≥ 4 only; served lists also leave out the movies a user rated
    lower. Spark's factor path left out only the training rows: 1,531 of these 6,100 rows were movies the
    user had rated (user 1's list held Men in Black, 1580), which serve and ``recommend --all-users`` never list."""
    path = exported["ials"]
    art = load_artifact(path)
    assert art.family == "factors" and (np.diff(art.rated[0]) > np.diff(art.seen.indptr)).any()
    out = tmp_path / "spark.parquet"
    with pytest.raises(SystemExit) as exc:
        main(["spark", "recommend", "--artifact", str(path), "--out", str(out), "--k", "10", "--json"])
    assert exc.value.code in (0, None)
    capsys.readouterr()
    got = pd.read_parquet(out).sort_values(["userId", "rank"]).reset_index(drop=True)
    full = bundled.interactions
    rated = set(
        zip(full.user_map.ids[full.users].tolist(), full.item_map.ids[full.items].tolist(), strict=True)
    )
    listed_rated = [
        (u, i)
        for u, i in zip(got["userId"].tolist(), got["movieId"].tolist(), strict=True)
        if (u, i) in rated
    ]
    assert listed_rated == []
    # the served lists, rank by rank: the same scores (float32 sums in another order), and the same movie
    # wherever the next score is not within 1e-5 (a near tie may fall either way between the two products)
    want = recommend_all_users(art, 10)
    assert len(got) == len(want)
    assert np.allclose(got["score"], want["score"], atol=1e-5)
    differ = got["movieId"].to_numpy() != want["movieId"].to_numpy()
    near = np.abs(np.diff(want["score"].to_numpy(), prepend=np.inf)) < 1e-5
    near |= np.abs(np.diff(want["score"].to_numpy(), append=-np.inf)) < 1e-5
    assert not (differ & ~near).any(), got[differ & ~near].head()


def test_a_deny_list_leaves_the_movies_out_of_every_spark_list(spark, exported, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """``spark recommend --exclude`` (a title or a movieId, repeated) leaves the movies out of every user's
    list, on both Spark paths: an item-kNN artifact ranked by its own code in each task, and an ials
    artifact scored with broadcast factors. The lists equal ``recommend_all_users(art, k, exclude=…)``
    (each filled from the next best); a misspelt movie is one line and exit 2 before the JVM is asked
    for anything."""
    denied = [318, 356, 296]  # Shawshank, Forrest Gump, Pulp Fiction: in most users' lists
    for name, path in exported.items():
        art = load_artifact(path)
        out = tmp_path / f"{name}.parquet"
        args = ["--exclude", "Shawshank Redemption, The (1994)", "--exclude", "356", "--exclude", "296"]
        with pytest.raises(SystemExit) as exc:
            main(["spark", "recommend", "-a", str(path), "--out", str(out), "--k", "5", *args])
        assert exc.value.code in (0, None)
        capsys.readouterr()
        got = pd.read_parquet(out).sort_values(["userId", "rank"]).reset_index(drop=True)
        assert not got["movieId"].isin(denied).any()
        plain = recommend_all_users(art, 5)
        assert plain["movieId"].isin(denied).sum() > 100  # the deny-list changes many lists
        want = recommend_all_users(art, 5, exclude=denied)
        assert len(got) == len(want) == 5 * art.n_users
        assert np.allclose(got["score"], want["score"], atol=1e-5)
        if name == "itemknn":  # the artifact's own code in each task: the very lists
            assert got["movieId"].tolist() == want["movieId"].tolist()
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "spark",
                "recommend",
                "-a",
                str(path),
                "--out",
                str(tmp_path / "x"),
                "--exclude",
                "Qwxz Nonesuch",
            ]
        )
    assert exc.value.code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("movierec: error: --exclude: ") and "Qwxz Nonesuch" in err[0]
    assert not (tmp_path / "x").exists()
