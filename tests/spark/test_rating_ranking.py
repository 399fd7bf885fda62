"""An explicit ``spark train`` artifact serves as a local svd/als export does: its lists rank by the
predicted rating clipped to the scale and shrunk by the movie's support, rows carry ``predictedRating``
and the bundled data's IMDb/TMDb ids, and ``spark recommend`` writes the rows ``movierec serve`` answers.
An artifact written before the ``ranking`` spec (resealed without it) still ranks by ALS's raw dot
products, as it did."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sparkmarks import SPARK_JOB

from movierec.cli import main
from movierec.datasets import bundled_path
from movierec.serving.artifact import DATA_FILES, _manifest_digest, _sha256, load_artifact
from serving.servehelp import Server  # the serving engineer's real-uvicorn helper

pytestmark = SPARK_JOB

USERS = (1, 414, 599)  # a generous rater (user 1), the most active one, and another
K = 10


def _cli(args: list[str], capsys: Any) -> dict[str, Any]:
    """``movierec ARGS --json`` in this process (on the module's Spark session); its JSON summary."""
    with pytest.raises(SystemExit) as exc:
        main([*args, "--json"])
    assert exc.value.code in (0, None)
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


@pytest.fixture(scope="module")
def trained(spark, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """``movierec spark train`` on the bundled ratings, as the walk ran it (smaller rank and fewer iterations)."""
    out = tmp_path_factory.mktemp("spark-rating") / "als"
    with pytest.raises(SystemExit) as exc:
        main(["spark", "train", "--rank", "10", "--iterations", "6", "--out", str(out), "--json"])
    assert exc.value.code in (0, None)
    return out


def _arrays(root: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    with (
        np.load(root / "factors.npz", allow_pickle=False) as f,
        np.load(root / "seen.npz", allow_pickle=False) as s,
    ):
        return {k: f[k] for k in f.files}, {k: s[k] for k in s.files}


def _expected_scores(root: Path, u: int) -> tuple[np.ndarray, np.ndarray]:
    """User index ``u``'s ranking score over every movie, worked out here from the stored factors and
    training rows alone: (n·clip(u·v) + 10·m) / (n + 10), m = min(μ, (Σr + 5μ)/(n_u + 5)); and u·v."""
    fac, seen = _arrays(root)
    ratings, indptr, indices = seen["ratings"].astype(np.float64), seen["indptr"], seen["indices"]
    mu = ratings.mean()
    n_item = np.bincount(indices, minlength=fac["item_factors"].shape[0]).astype(np.float64)
    mine = ratings[indptr[u] : indptr[u + 1]]
    m = min(mu, (mine.sum() + 5 * mu) / (len(mine) + 5))
    raw = fac["item_factors"].astype(np.float64) @ fac["user_factors"][u].astype(np.float64)
    return (n_item * np.clip(raw, 0.5, 5.0) + 10 * m) / (n_item + 10), raw


def test_manifest_carries_the_rating_models_ranking(trained) -> None:  # type: ignore[no-untyped-def]
    manifest = json.loads((trained / "manifest.json").read_text())
    assert manifest["model"]["name"] == "spark-als" and manifest["model"]["kind"] == "explicit"
    ranking = manifest["ranking"]
    assert ranking is not None
    _, seen = _arrays(trained)
    assert ranking["scale"] == [0.5, 5.0]
    assert ranking["shrinkage"] == 10.0 and ranking["user_prior_shrinkage"] == 5.0
    assert ranking["global_mean"] == pytest.approx(float(seen["ratings"].astype(np.float64).mean()), abs=1e-6)
    assert manifest["score_clip"] is None  # as a local export: the ranking clips
    fac, _ = _arrays(trained)
    assert float(fac["global_mean"]) == 0.0  # ALS predicts u·v: no mean term is added to it


def test_served_lists_keep_the_rating_models_rules(trained, tmp_path) -> None:  # type: ignore[no-untyped-def]
    art = load_artifact(trained)
    links = pd.read_csv(bundled_path() / "links.csv", dtype=str).set_index("movieId")
    srv = Server(trained, "none").wait()
    try:
        health = httpx.get(srv.url + "/health", timeout=10).json()
        bodies = {
            user: httpx.get(f"{srv.url}/users/{user}/recommendations", params={"k": K}, timeout=10).json()
            for user in USERS
        }
    finally:
        srv.stop()
    assert health["kind"] == "explicit"
    for user, body in bodies.items():
        rows = body["recommendations"]
        assert len(rows) == K
        want, raw = _expected_scores(trained, art.user_index(user))
        for row in rows:
            i = art.item_index(row["movieId"])
            assert row["ratings"] >= art.min_support  # nothing below the support floor
            assert 0.5 <= row["score"] <= 5.0
            assert row["predictedRating"] == pytest.approx(float(np.clip(raw[i], 0.5, 5.0)), abs=1e-4)
            assert row["score"] == pytest.approx(float(want[i]), abs=1e-4)
            assert row["imdbId"] == links.loc[str(row["movieId"]), "imdbId"]
            assert row["tmdbId"] == links.loc[str(row["movieId"]), "tmdbId"]
        scores = [r["score"] for r in rows]
        assert scores == sorted(scores, reverse=True)
        # the best-scored unseen movie above the floor is the list's first
        _, seen = _arrays(trained)
        u = art.user_index(user)
        ok = art.support >= art.min_support
        ok[seen["indices"][seen["indptr"][u] : seen["indptr"][u + 1]]] = False
        assert art.item_map.ids[np.flatnonzero(ok)[np.argmax(want[ok])]] == rows[0]["movieId"]


def test_spark_recommend_writes_the_served_rows(trained, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    spark_out, local_out = tmp_path / "spark.parquet", tmp_path / "local.parquet"
    summary = _cli(
        ["spark", "recommend", "--artifact", str(trained), "--out", str(spark_out), "--k", str(K)], capsys
    )
    local = _cli(["recommend", "--all-users", "--artifact", str(trained), "--out", str(local_out), "-k", str(K)], capsys)  # fmt: skip
    got = pd.read_parquet(spark_out).sort_values(["userId", "rank"]).reset_index(drop=True)
    want = pd.read_parquet(local_out).sort_values(["userId", "rank"]).reset_index(drop=True)
    assert summary["n_rows"] == len(got) == local["n_rows"] == len(want)
    pd.testing.assert_frame_equal(got[["userId", "rank", "movieId"]], want[["userId", "rank", "movieId"]])
    assert (abs(got["score"] - want["score"]) < 1e-5).all()
    assert got["score"].between(0.5, 5.0).all()
    # every user's rows are the list the API serves that user (recommend_index, one user at a time): the
    # same movies in the same order, ties by movie index, the same float32 scores
    art = load_artifact(trained)
    served = [
        (art.raw_user(u), rank, row["movieId"], row["score"])
        for u in range(art.n_users)
        for rank, row in enumerate(art.recommend_index(u, K), start=1)
    ]
    served_frame = pd.DataFrame(served, columns=["userId", "rank", "movieId", "score"]).astype(
        {"userId": "int64", "rank": "int32", "movieId": "int64", "score": "float32"}
    )
    pd.testing.assert_frame_equal(got, served_frame, check_exact=True)


def test_an_artifact_without_the_ranking_serves_as_before(trained, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """What HEAD's ``spark train`` wrote: no ``ranking`` and no IMDb/TMDb columns; it ranks by u·v, unclipped."""
    old = tmp_path / "old"
    shutil.copytree(trained, old)
    items = pd.read_parquet(old / "items.parquet")
    items.drop(columns=["imdbId", "tmdbId"]).to_parquet(old / "items.parquet", index=False)
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["ranking"] = None
    manifest["files"] = {name: _sha256(old / name) for name in DATA_FILES}  # resealed, as export seals
    manifest["manifest_sha256"] = _manifest_digest(manifest)
    (old / "manifest.json").write_text(json.dumps(manifest))
    art = load_artifact(old)
    _, seen = _arrays(old)
    for user in USERS:
        u = art.user_index(user)
        rows = art.recommend_rows(user, k=K)
        _, raw = _expected_scores(old, u)
        ok = art.support >= art.min_support
        ok[seen["indices"][seen["indptr"][u] : seen["indptr"][u + 1]]] = False
        best = np.flatnonzero(ok)[np.argsort(-raw[ok], kind="stable")[:K]]
        assert [r["movieId"] for r in rows] == art.item_map.ids[best].tolist()
        assert [r["score"] for r in rows] == pytest.approx(raw[best].tolist(), abs=1e-4)
        assert all("predictedRating" not in r and "imdbId" not in r for r in rows)
    out = tmp_path / "old.parquet"
    _cli(["spark", "recommend", "--artifact", str(old), "--out", str(out), "--k", str(K)], capsys)
    got = pd.read_parquet(out)
    first = got[(got["userId"] == 1)].sort_values("rank")
    assert first["movieId"].tolist() == [r["movieId"] for r in art.recommend_rows(1, k=K)]
