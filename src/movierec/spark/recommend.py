"""Batch top-K scoring in Spark: every user of an artifact (or of an ALS model), seen items excluded.

Item vectors are broadcast once; each task scores a block of users with one matrix product and
keeps the top K by ``argpartition`` (the blocked approach of implicit's ``recommend_all``), so
the work spreads over executors and no users × items table is ever materialised in Spark.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from movierec.models.base import check_positive
from movierec.spark.results import JobResult

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["BatchResult", "recommend_all", "top_k_unseen"]

_BLOCK_CELLS = 1 << 24  # users × items scores per block (64 MiB of float32)


def _spark_type(values: np.ndarray) -> str:
    return "long" if values.dtype.kind in "iu" else "string"


def top_k_unseen(
    spark: SparkSession,
    users: DataFrame,
    item_ids: np.ndarray,
    item_factors: np.ndarray,
    *,
    k: int,
    item_bias: np.ndarray | None = None,
    item_labels: np.ndarray | None = None,
    clip: tuple[float, float] | None = None,
) -> DataFrame:
    """Top-``k`` items per row of ``users`` (columns ``user``, ``features`` array, optional ``seen`` array, ``offset``).

    ``item_ids`` name the rows of ``item_factors`` (the ids ``seen`` uses); the output ``items``
    are those ids, or ``item_labels`` of the same positions when given. Scores are
    ``offset + item_bias + features · item_factors`` (``clip`` applies to reported scores only).
    Returns ``user, items array, scores array<float>``, best first.
    """
    order = np.argsort(item_ids, kind="stable")
    ids = np.asarray(item_ids, dtype=np.int64)[order]
    mat = np.ascontiguousarray(np.asarray(item_factors, dtype=np.float32)[order])
    bias = None if item_bias is None else np.asarray(item_bias, dtype=np.float32)[order]
    labels = ids if item_labels is None else np.asarray(item_labels)[order]
    bc = spark.sparkContext.broadcast((ids, mat, bias, labels))
    user_type = users.schema["user"].dataType.simpleString()
    item_type = "int" if item_labels is None else _spark_type(labels)
    cols = set(users.columns)
    has_seen, has_offset = "seen" in cols, "offset" in cols
    schema = f"user {user_type}, items array<{item_type}>, scores array<float>"

    def score_blocks(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        b_ids, b_mat, b_bias, b_labels = bc.value
        n_items = len(b_ids)
        kk = min(k, n_items)
        step = max(1, _BLOCK_CELLS // max(n_items, 1))
        for pdf in batches:
            for start in range(0, len(pdf), step):
                part = pdf.iloc[start : start + step]
                if part.empty or kk == 0:
                    continue
                u = np.stack([np.asarray(f, dtype=np.float32) for f in part["features"]])
                s = u @ b_mat.T
                if b_bias is not None:
                    s += b_bias
                if has_offset:
                    s += part["offset"].to_numpy(dtype=np.float32)[:, None]
                if has_seen:
                    for r, seen in enumerate(part["seen"]):
                        if seen is None or len(seen) == 0:
                            continue
                        seen = np.asarray(seen, dtype=np.int64)
                        pos = np.minimum(np.searchsorted(b_ids, seen), n_items - 1)
                        s[r, pos[b_ids[pos] == seen]] = -np.inf  # seen ids without factors are skipped
                top = (
                    np.argpartition(-s, kk - 1, axis=1)[:, :kk]
                    if kk < n_items
                    else np.tile(np.arange(n_items), (len(s), 1))
                )
                vals = np.take_along_axis(s, top, axis=1)
                best = np.argsort(-vals, axis=1, kind="stable")
                top = np.take_along_axis(top, best, axis=1)
                vals = np.take_along_axis(vals, best, axis=1)
                items_out, scores_out = [], []
                for r in range(len(s)):
                    ok = np.isfinite(vals[r])
                    v = vals[r][ok]
                    if clip is not None:
                        v = np.clip(v, clip[0], clip[1])
                    items_out.append(b_labels[top[r][ok]])
                    scores_out.append(v.astype(np.float32))
                yield pd.DataFrame(
                    {"user": part["user"].to_numpy(), "items": items_out, "scores": scores_out}
                )

    return users.mapInPandas(score_blocks, schema=schema)


@dataclass
class BatchResult(JobResult):
    """What ``spark recommend`` wrote: the Parquet path, how many users and rows, and the time taken."""

    out: Path
    n_users: int
    n_rows: int
    k: int
    seconds: float


def _users_frame(
    spark: SparkSession,
    raw_users: np.ndarray,
    factors: np.ndarray,
    offset: np.ndarray,
    seen: dict[str, np.ndarray] | None,
    partitions: int,
) -> DataFrame:
    n = len(raw_users)
    pdf = pd.DataFrame(
        {
            "user": raw_users.astype(np.int64) if raw_users.dtype.kind in "iu" else raw_users.astype(str),
            "features": list(np.asarray(factors, dtype=np.float32)),
            "offset": np.asarray(offset, dtype=np.float32),
        }
    )
    user_type = "long" if raw_users.dtype.kind in "iu" else "string"
    schema = f"user {user_type}, features array<float>, offset float"
    if seen is not None:
        indptr, indices = seen["indptr"], seen["indices"].astype(np.int64)
        pdf["seen"] = [indices[indptr[u] : indptr[u + 1]] for u in range(n)]
        schema += ", seen array<long>"
    frame = spark.createDataFrame(pdf, schema=schema)
    return frame.repartition(partitions)


def recommend_all(
    spark: SparkSession,
    artifact: str | Path,
    out: str | Path,
    *,
    k: int = 100,
    exclude_seen: bool = True,
    exclude: Sequence[object] | None = None,
    partitions: int | None = None,
    force: bool = False,
) -> BatchResult:
    """Top-``k`` movies for every user of an exported artifact, written as Parquet; ``exclude``: raw
    movieIds no list shows (a deny-list, each list filled from the next best as the API's ``?exclude=``
    does; an id the artifact does not know is an ``UnknownIdError`` before Spark does any work).

    Factor and score artifacts are scored with broadcast matrices (:func:`top_k_unseen`); every other
    family (item-kNN neighbour lists, EASE, sequence models) is ranked by the artifact's own code in
    each task (:func:`_recommend_with_artifact`), the code ``movierec serve`` runs.

    Output rows: ``userId, rank (1 = best), movieId, score`` (raw ids); a user gets fewer than
    ``k`` rows only when fewer unseen items exist. The artifact is verified first
    (:func:`~movierec.serving.artifact.load_artifact`), so scores equal what ``movierec serve`` returns.
    """
    from pyspark.sql import functions as F

    from movierec.serving.artifact import load_artifact

    check_positive("k", k, integer=True)  # the CLI checks its --k and --out before Spark starts
    check_output(out, force, "out=")
    t0 = time.perf_counter()
    art = load_artifact(artifact)
    denied = art.denied(exclude) if exclude is not None else np.zeros(0, dtype=np.int64)
    parts = partitions or max(2, spark.sparkContext.defaultParallelism * 2)
    if art.family not in ("factors", "scores") or art.manifest.get("ranking"):
        # neighbour lists, EASE, sequence models, rating models' shrunk score: the artifact's own code
        return _recommend_with_artifact(
            spark,
            art,
            out,
            k=k,
            exclude_seen=exclude_seen,
            exclude=art.item_map.ids[denied].tolist(),
            partitions=parts,
            force=force,
            t0=t0,
        )
    arrays = art.arrays  # read and validated by load_artifact: not read a second time
    # every movie the user rated, as served lists leave out: an implicit model's artifact (ials, bpr) trained on
    # ratings ≥ its threshold, and its seen rows alone let a movie the user rated 2 back into their list
    rated_ptr, rated_idx = art.rated
    seen = {"indptr": rated_ptr, "indices": rated_idx} if exclude_seen else None
    n_users, n_items = art.n_users, art.n_items
    if art.family == "factors":
        ufac, ifac = arrays["user_factors"], arrays["item_factors"]
        offset = arrays["user_bias"].astype(np.float32) + np.float32(arrays["global_mean"])
        ibias = arrays["item_bias"]
    else:  # user-independent scores (popularity): a zero-rank factorisation plus the scores as item bias
        ufac, ifac = np.zeros((n_users, 0), np.float32), np.zeros((n_items, 0), np.float32)
        offset, ibias = np.zeros(n_users, np.float32), arrays["item_scores"]
    clip = art.manifest.get("score_clip")
    users = _users_frame(spark, art.user_map.ids, ufac, offset, seen, parts)
    # a user the model learned nothing of (no training row: an implicit model's user without a rating ≥ its
    # threshold) gets the most-liked movies from the artifact's own code, as serve and recommend_all_users
    # give them (Artifact.known_fallback), not a product with an untrained vector
    blank = art.untrained_users
    if len(blank):
        users = users.where(~F.col("user").isin(art.user_map.ids[blank].tolist()))
    keep = np.setdiff1d(
        np.flatnonzero(art.support >= art.min_support), denied
    )  # the support floor, the deny-list
    recs = top_k_unseen(
        spark,
        users,
        keep,
        ifac[keep],
        k=k,
        item_bias=ibias[keep],
        item_labels=art.item_map.ids[keep],
        clip=None if clip is None else (float(clip[0]), float(clip[1])),
    )
    long = recs.select(
        F.col("user").alias("userId"),
        F.posexplode(F.arrays_zip("items", "scores")).alias("pos", "rec"),
    ).select(
        "userId",
        (F.col("pos") + 1).cast("int").alias("rank"),
        F.col("rec.items").alias("movieId"),
        F.col("rec.scores").alias("score"),
    )
    if len(blank):
        long = long.unionByName(_fallback_rows(spark, art, blank, k, denied, exclude_seen, long.schema))
    n_rows = _write_parquet(long, out, force=force)
    return BatchResult(Path(str(out)), n_users, n_rows, k, time.perf_counter() - t0)


def _fallback_rows(
    spark: SparkSession,
    art: Any,
    users: np.ndarray,
    k: int,
    denied: np.ndarray,
    exclude_seen: bool,
    schema: Any,
) -> DataFrame:
    """The lists of ``users`` (dense indices) as the artifact ranks them (:meth:`Artifact.top_indices`: the
    popularity fallback for a user without training rows), as rows ``userId, rank, movieId, score``."""
    idx, vals = art.top_indices(users, k, exclude_seen=exclude_seen, exclude=denied)
    r, c = np.nonzero(idx >= 0)
    pdf = pd.DataFrame(
        {
            "userId": art.user_map.ids[users[r]],
            "rank": (c + 1).astype(np.int32),
            "movieId": art.item_map.ids[idx[r, c]],
            "score": vals[r, c].astype(np.float32),
        }
    )
    return spark.createDataFrame(pdf, schema=schema)


def check_output(out: str | Path, force: bool, option: str = "--out") -> None:
    """A local ``out`` may be written: absent, or with ``force`` a folder of Spark's own part files only
    (nothing else is deleted). Cheap, so the CLI runs it before Spark starts: an existing ``--out`` without
    ``--force`` was refused only after the JVM's 10-20 s start. A URI Spark writes elsewhere is Spark's."""
    outp = _local_path(out)
    if outp is not None:
        from movierec.output_folders import check_parquet_target

        check_parquet_target(outp, force, option)


def _local_path(out: str | Path) -> Path | None:
    """``out`` as a path on this machine (``file://`` stripped), or ``None`` for a URI Spark writes elsewhere."""
    text = str(out).removeprefix("file://")
    return None if "://" in text else Path(text).expanduser()


def _write_parquet(frame: DataFrame, out: str | Path, *, force: bool) -> int:
    """Write ``frame`` as Parquet to ``out`` and return its row count, read back from what was written.

    A local ``out`` is written through a staging folder (:func:`~movierec.output_folders.staged_parquet`):
    with ``--force`` the old output is replaced only once the new one is complete, so a job that fails or
    is stopped partway leaves it as it was. Another URI (``hdfs://``, ``s3a://``) is written by Spark's
    own ``mode("overwrite")``, which deletes the old output first.
    """
    spark = frame.sparkSession
    local = _local_path(out)
    if local is None:
        frame.write.mode("overwrite" if force else "errorifexists").parquet(str(out))
    else:
        from movierec.output_folders import staged_parquet

        with staged_parquet(local) as staged:
            # this machine's disk whatever Spark's default file system; not Path.as_uri(): Hadoop does not
            # decode its %-escapes (the stage's name holds an @)
            frame.write.mode("overwrite").parquet(f"file://{staged.path.resolve()}")  # the stage is ours
    # read back once in place: Spark skips a hidden folder (the stage) as input
    return int(spark.read.parquet(str(out)).count())


def _recommend_with_artifact(
    spark: SparkSession,
    art: Any,
    out: str | Path,
    *,
    k: int,
    exclude_seen: bool,
    exclude: list[object],
    partitions: int,
    force: bool,
    t0: float,
) -> BatchResult:
    """Spark tasks that each open the artifact and rank a block of users with :func:`recommend_all_users`.

    On a cluster the artifact folder is shipped to executors with ``SparkContext.addFile``; in local
    mode tasks read it where it is. Each task verifies it again (``load_artifact``) before scoring.
    """
    from movierec.serving.batch import recommend_all_users

    root = Path(art.path).resolve()
    sc = spark.sparkContext
    local = str(sc.master).startswith("local")
    if not local:
        sc.addFile(str(root), recursive=True)
    name, kk = root.name, min(k, art.n_items)
    user_type = _spark_type(art.user_map.ids)
    item_type = _spark_type(art.item_map.ids)
    schema = f"userId {user_type}, rank int, movieId {item_type}, score float"
    users = spark.createDataFrame(pd.DataFrame({"u": np.arange(art.n_users, dtype=np.int64)}), "u long")

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from movierec.serving.artifact import load_artifact

        if local:
            path = str(root)
        else:  # pragma: no cover - needs a cluster
            from pyspark import SparkFiles

            path = SparkFiles.get(name)
        task_art = load_artifact(path)
        for pdf in batches:
            frame = recommend_all_users(  # users by raw id, as the function takes them
                task_art,
                kk,
                exclude_seen=exclude_seen,
                exclude=exclude or None,
                users=task_art.user_map.ids[pdf["u"].to_numpy()],
            )
            if user_type == "string":
                frame["userId"] = frame["userId"].astype(str)
            if item_type == "string":
                frame["movieId"] = frame["movieId"].astype(str)
            yield frame

    recs = users.repartition(partitions).mapInPandas(score, schema=schema)
    n_rows = _write_parquet(recs, out, force=force)
    return BatchResult(Path(str(out)), art.n_users, n_rows, k, time.perf_counter() - t0)
