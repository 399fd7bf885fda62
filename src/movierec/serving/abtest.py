"""Compare model versions on the live feedback they collected (``movierec feedback report``).

Every feedback row records the artifact version that was serving the user when they rated (the
version router assigns each user one version, so a user's ratings all belong to one arm). Per version:
the number of ratings and users, the mean rating with a 95% interval, and the share of ratings ≥ 4
("liked") with a Wilson interval. Each later version is compared with the first (the baseline): the
difference in mean rating with a Welch interval and in liked share with a Newcombe interval.

Intervals treat ratings as independent; a user who rates much weighs more. For a per-user view, the
report also gives the mean of per-user mean ratings. These figures describe the ratings people gave
through the API while each version served them: a proxy for list quality, not an offline metric.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["LIKED", "compare_versions", "wilson"]

LIKED = 4.0
_Z = 1.959963984540054  # two-sided 95%


def wilson(successes: int, n: int, z: float = _Z) -> tuple[float, float]:
    """Wilson score interval for a proportion (Wilson 1927); (nan, nan) for n = 0."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # exactly 0 and 1 at the ends, as the formula gives in exact arithmetic: in floats a version whose every
    # rating was liked read 0.9999999999999999 in --json, and one with none liked a lower bound of -3.5e-18,
    # printed as "-0.0%" (84 ratings)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def _mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if n == 1:
        return m, math.nan, math.nan
    half = _Z * float(x.std(ddof=1)) / math.sqrt(n)
    return m, m - half, m + half


def compare_versions(frame: pd.DataFrame, *, liked: float = LIKED) -> pd.DataFrame:
    """One row per model version (first-seen order): counts, mean rating, liked share, differences.

    ``frame`` needs ``userId``, ``rating`` and ``modelVersion`` (``FeedbackStore.frame(with_version=True)``);
    rows without a version (written before versions were recorded) are grouped under ``"unknown"``.
    """
    if frame.empty:
        return pd.DataFrame(
            columns=["modelVersion", "ratings", "users", "meanRating", "meanLow", "meanHigh", "likedShare"]
        )
    versions = frame["modelVersion"].fillna("unknown").astype(str)
    order = list(dict.fromkeys(versions))
    rows: list[dict[str, Any]] = []
    base: dict[str, Any] | None = None
    for v in order:
        part = frame[versions == v]
        r = part["rating"].to_numpy(dtype=np.float64)
        good = int((r >= liked).sum())
        mean, lo, hi = _mean_ci(r)
        plo, phi = wilson(good, len(r))
        row: dict[str, Any] = {
            "modelVersion": v,
            "ratings": len(r),
            "users": int(part["userId"].nunique()),
            "meanRating": mean,
            "meanLow": lo,
            "meanHigh": hi,
            "userMeanRating": float(part.groupby("userId")["rating"].mean().mean()),
            "likedShare": good / len(r),
            "likedLow": plo,
            "likedHigh": phi,
        }
        if base is None:
            base = {"r": r, "good": good, **row}
        else:
            rb = base["r"]
            diff = mean - base["meanRating"]
            se = (
                math.sqrt(r.var(ddof=1) / len(r) + rb.var(ddof=1) / len(rb))
                if min(len(r), len(rb)) > 1
                else math.nan
            )
            row["meanDiff"], row["meanDiffLow"], row["meanDiffHigh"] = diff, diff - _Z * se, diff + _Z * se
            # Newcombe's hybrid score interval for a difference of two proportions (Newcombe 1998, method 10)
            p1, p0 = row["likedShare"], base["likedShare"]
            l1, u1 = plo, phi
            l0, u0 = base["likedLow"], base["likedHigh"]
            d = p1 - p0
            row["likedDiff"] = d
            row["likedDiffLow"] = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
            row["likedDiffHigh"] = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
        rows.append(row)
    return pd.DataFrame(rows)
