"""Compare model versions on the live feedback they collected (``movierec feedback report``).

Every feedback row records the artifact that was serving the user when they rated: its version hash and,
since schema 3, its model's name (svd, ease, …). Per version: the number of ratings and users, the mean
rating and the share of ratings ≥ 4 ("liked"), each with a 95% interval; each later version is compared
with the first (the baseline) by the difference in mean rating and in liked share, with 95% intervals.

**Users, not ratings, are the independent units.** One user gives several ratings, and their ratings
share that user's taste and habits (someone who gives 5s gives many), so intervals that treat every
rating as independent are too narrow: 321 ratings from 107 users read 3.70 [3.64, 3.76] as if they were
321 people. Every interval here is a percentile cluster bootstrap (2,000 seeded draws): users are drawn
with replacement, each with all of their ratings, and each draw's figure is Σ of the drawn users' ratings
/ Σ of their counts, so the point estimate it brackets stays the mean over ratings (the same resampling
as the cross-validated metrics' intervals, :func:`movierec.metrics.cluster_bootstrap_means`).

**Differences pair the users who rated under both versions.** The version router gives each user one
version, but a reload or a change of ``--weights`` moves users, so a user may have rated under the
baseline and under a later version. The difference is bootstrapped stratified by what each user rated
under: users of the baseline only, users of the later version only, and users of both are each drawn
with replacement within their group, and a user of both brings their ratings under each version into
the same draw. Their two means move together, as they do in the data, and neither arm's size changes
from draw to draw (as in a two-sample bootstrap). No p-value is given: the interval says what the data
allow, and a bootstrap p of 0 "when no draw crosses zero" would read as certainty.

Where a bootstrap has nothing to vary (every rating liked, or none, so every draw gives 100% or 0%), the
liked share's interval is Wilson's (1927) on the number of users, as if each user were one rating, the
widest honest reading; a difference of two such shares is Newcombe's (1998) from those intervals. With
fewer than two users an interval is not estimated (NaN). ``userMeanRating`` (the mean of per-user
means) is given beside the mean over ratings. These figures describe the ratings people gave through
the API while each version served them: a proxy for list quality, not an offline metric.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from movierec.metrics import cluster_bootstrap_means, resample_counts

__all__ = ["LIKED", "N_BOOT", "compare_versions", "wilson"]

LIKED = 4.0
N_BOOT = 2000
_Z = 1.959963984540054  # two-sided 95%
_LEVEL = 0.95


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


def _percentile(draws: np.ndarray) -> tuple[float, float]:
    alpha = (1.0 - _LEVEL) / 2.0
    lo, hi = np.quantile(draws, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def _per_user(part: pd.DataFrame, liked: float) -> pd.DataFrame:
    """Each user's rating sum, liked count and number of ratings (index: userId, sorted)."""
    r = part["rating"].to_numpy(dtype=np.float64)
    users = part["userId"].astype(str).to_numpy()
    frame = pd.DataFrame({"userId": users, "sum": r, "liked": (r >= liked).astype(np.float64), "n": 1.0})
    return frame.groupby("userId", sort=True)[["sum", "liked", "n"]].sum()


def _version_row(
    version: str, model: str | None, part: pd.DataFrame, liked: float, n_boot: int, seed: int
) -> tuple[dict[str, Any], pd.DataFrame]:
    """One version's figures, and its per-user sums (what the differences resample)."""
    users = _per_user(part, liked)
    n, good = int(users["n"].sum()), int(users["liked"].sum())
    row: dict[str, Any] = {
        "modelVersion": version,
        "model": model,
        "ratings": n,
        "users": len(users),
        "meanRating": float(users["sum"].sum() / n),
        "meanLow": math.nan,
        "meanHigh": math.nan,
        "userMeanRating": float((users["sum"] / users["n"]).mean()),
        "likedShare": good / n,
        "likedLow": math.nan,
        "likedHigh": math.nan,
    }
    if len(users) >= 2:
        sums = users[["sum", "liked"]].to_numpy().T  # 2 × users
        means = cluster_bootstrap_means(
            sums, users["n"].to_numpy(), n_boot=n_boot, rng=np.random.default_rng(seed)
        )
        row["meanLow"], row["meanHigh"] = _percentile(means[0])
        row["likedLow"], row["likedHigh"] = _percentile(means[1])
        if good in (0, n):  # nothing to vary: Wilson on the users, each as one rating
            row["likedLow"], row["likedHigh"] = wilson(len(users) if good else 0, len(users))
    return row, users


def _stratified_weights(sizes: list[int], n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` × Σ sizes: how often each user is drawn, users drawn with replacement within each stratum
    (consecutive blocks of ``sizes`` users), each stratum keeping its size."""
    return np.hstack([resample_counts(n_boot, size, rng) for size in sizes if size])


def _differences(
    base: pd.DataFrame, other: pd.DataFrame, n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrapped (mean rating, liked share) of ``other`` minus ``base``: per-user sums of each arm,
    resampled by stratum (users of the base only, of the other only, of both: see the module's notes)."""
    both = base.index.intersection(other.index)
    strata = [base.index.difference(both), other.index.difference(both), both]
    order = strata[0].append(strata[1]).append(strata[2])
    a = base.reindex(order, fill_value=0.0)
    b = other.reindex(order, fill_value=0.0)
    rng = np.random.default_rng(seed)
    step = max(1, 2_000_000 // max(len(order), 1))  # draws per block: a block's weights stay ~16 MB
    mean_diff, liked_diff = np.empty(n_boot), np.empty(n_boot)
    for s in range(0, n_boot, step):
        k = min(step, n_boot - s)
        w = _stratified_weights([len(x) for x in strata], k, rng)
        na, nb = w @ a["n"].to_numpy(), w @ b["n"].to_numpy()
        mean_diff[s : s + k] = w @ b["sum"].to_numpy() / nb - w @ a["sum"].to_numpy() / na
        liked_diff[s : s + k] = w @ b["liked"].to_numpy() / nb - w @ a["liked"].to_numpy() / na
    return mean_diff, liked_diff


def _compare(
    row: dict[str, Any],
    users: pd.DataFrame,
    base: dict[str, Any],
    base_users: pd.DataFrame,
    n_boot: int,
    seed: int,
) -> None:
    """Add the differences from the baseline to ``row``: point, and bootstrap interval where both arms have
    at least two users."""
    row["meanDiff"] = row["meanRating"] - base["meanRating"]
    row["likedDiff"] = row["likedShare"] - base["likedShare"]
    row["meanDiffLow"] = row["meanDiffHigh"] = row["likedDiffLow"] = row["likedDiffHigh"] = math.nan
    if min(len(users), len(base_users)) < 2:
        return
    mean_draws, liked_draws = _differences(base_users, users, n_boot, seed)
    row["meanDiffLow"], row["meanDiffHigh"] = _percentile(mean_draws)
    row["likedDiffLow"], row["likedDiffHigh"] = _percentile(liked_draws)
    edges = (0.0, 1.0)
    if row["likedShare"] in edges and base["likedShare"] in edges:  # nothing to vary: Newcombe (1998)
        p1, p0, d = row["likedShare"], base["likedShare"], row["likedDiff"]
        row["likedDiffLow"] = d - math.sqrt((p1 - row["likedLow"]) ** 2 + (base["likedHigh"] - p0) ** 2)
        row["likedDiffHigh"] = d + math.sqrt((row["likedHigh"] - p1) ** 2 + (p0 - base["likedLow"]) ** 2)


def _model_of(part: pd.DataFrame) -> str | None:
    """The model name a version's rows recorded (the most frequent; ``None`` before schema 3 recorded it)."""
    if "model" not in part.columns:
        return None
    names = part["model"].dropna().astype(str)
    return None if names.empty else str(names.value_counts().index[0])


def compare_versions(
    frame: pd.DataFrame, *, liked: float = LIKED, n_boot: int = N_BOOT, seed: int = 42
) -> pd.DataFrame:
    """One row per model version (first-seen order): counts, mean rating, liked share, differences.

    ``frame`` needs ``userId``, ``rating`` and ``modelVersion`` (``FeedbackStore.frame(with_version=True)``),
    optionally ``model``; rows without a version (written before versions were recorded) are grouped under
    ``"unknown"``. Intervals resample users with all their ratings (the module's notes say how and why);
    ``seed`` makes them reproducible.
    """
    if frame.empty:
        return pd.DataFrame(
            columns=[
                "modelVersion",
                "model",
                "ratings",
                "users",
                "meanRating",
                "meanLow",
                "meanHigh",
                "likedShare",
            ]
        )
    versions = frame["modelVersion"].fillna("unknown").astype(str)
    rows: list[dict[str, Any]] = []
    base: tuple[dict[str, Any], pd.DataFrame] | None = None
    for v in dict.fromkeys(versions):
        part = frame[versions == v]
        row, users = _version_row(v, _model_of(part), part, liked, n_boot, seed)
        if base is None:
            base = (row, users)
        else:
            _compare(row, users, base[0], base[1], n_boot, seed)
        rows.append(row)
    return pd.DataFrame(rows)
