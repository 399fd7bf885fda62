"""Batch top-K for every user of an artifact, on one machine: ``movierec recommend --all-users --out``.

It ranks with the artifact's own code (:meth:`Artifact.recommend_index`), so every family that
``movierec serve`` serves — factors, neighbour lists, EASE, popularity, sequence models — gives in
batch exactly what the API gives one user at a time. The output has the columns of
``movierec spark recommend``: ``userId, rank (1 = best), movieId, score``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movierec.errors import ConfigError, labelled
from movierec.output_folders import OUT, force_words, temporary_file

__all__ = ["BATCH_COLUMNS", "recommend_all_users", "write_recommendations"]

BATCH_COLUMNS = ["userId", "rank", "movieId", "score"]


def recommend_all_users(
    art: Any,
    k: int,
    *,
    exclude_seen: bool = True,
    users: Iterable[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Top-``k`` rows per user index in ``users`` (default: every user of the artifact), raw ids out."""
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1:
        raise ConfigError(f"-k must be a whole number ≥ 1, got {k!r}")
    idx = np.arange(art.n_users) if users is None else np.asarray(list(users), dtype=np.int64)
    user_col: list[Any] = []
    rank_col: list[int] = []
    movie_col: list[Any] = []
    score_col: list[float] = []
    for n, u in enumerate(idx):
        rows = art.recommend_index(int(u), k, exclude_seen=exclude_seen)
        raw = art.raw_user(int(u))
        for r, row in enumerate(rows, start=1):
            user_col.append(raw)
            rank_col.append(r)
            movie_col.append(row["movieId"])
            score_col.append(float(row["score"]))
        if progress is not None and (n % 500 == 0 or n == len(idx) - 1):
            progress(n + 1, len(idx))
    frame = pd.DataFrame({"userId": user_col, "rank": rank_col, "movieId": movie_col, "score": score_col})
    frame["rank"] = frame["rank"].astype(np.int32)
    frame["score"] = frame["score"].astype(np.float32)
    for col in ("userId", "movieId"):
        if len(frame) and all(isinstance(v, int | np.integer) for v in frame[col].head(1000)):
            frame[col] = frame[col].astype(np.int64)
    return frame


def write_recommendations(frame: pd.DataFrame, out: str | Path, *, force: bool = False) -> Path:
    """Write ``frame`` as one Parquet file (or CSV when ``out`` ends in .csv); refuse to overwrite without ``force``."""
    path = Path(out).expanduser()
    if path.exists() and path.is_dir():
        raise ConfigError(f"{labelled(OUT, path)} is a folder; give a file name such as recs.parquet")
    if path.exists() and not force:
        raise ConfigError(f"{labelled(OUT, path)} already exists; {force_words(OUT)}")
    if not path.parent.is_dir():
        raise ConfigError(f"{labelled(OUT, path)}: folder {path.parent} does not exist")
    tmp = temporary_file(path)  # .NAME.PID@HOST.tmp: a killed run's is removed by the next write of path
    try:  # renamed over --out when complete; a failure or Ctrl-C mid-write removes the temporary file
        if path.suffix.lower() == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
