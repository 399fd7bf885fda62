"""Synthetic MovieLens-shaped ``ratings.csv`` files (1M / 5M / 25M rows) for scale benchmarks.

The shape follows ml-25m: ``userId,movieId,rating,timestamp``, sorted by user then movie, every
user with at least 20 ratings, power-law user activity and item popularity, sparse movie ids,
half-star ratings from a latent-factor model (so models have something to learn) and
timestamps from 1995 to 2019. Vectorised numpy, seeded, written with pyarrow; files are cached
under ``bench/data/`` (git-ignored) and regenerated only when missing.

    python bench/synthetic.py 1000000 5000000     # writes bench/data/synthetic-1M/ratings.csv ...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA_DIR

ML25M = {"users": 162_541, "items": 59_047, "ratings": 25_000_095}
_T0, _T1 = 789_652_009, 1_574_327_703  # first and last ml-25m timestamps (1995-01-09, 2019-11-21)
_FACTORS = 8
_CHUNK_ROWS = 2_000_000


def label(n: int) -> str:
    """``1M``, ``25M``, ``250k``: the folder name of a size."""
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def shape_for(n_ratings: int) -> tuple[int, int]:
    """(users, items) for ``n_ratings``: users scale linearly, items sub-linearly, as in the MovieLens family."""
    frac = n_ratings / ML25M["ratings"]
    n_users = max(200, round(ML25M["users"] * frac))
    n_items = max(1000, round(ML25M["items"] * frac**0.5))
    return n_users, n_items


def _user_counts(rng: np.random.Generator, n_users: int, n_items: int, n_ratings: int) -> np.ndarray:
    """Ratings per user: at least 20, a Pareto tail, summing exactly to ``n_ratings``."""
    cap = max(20, n_items // 4)
    base = np.full(n_users, 20, dtype=np.int64)
    rest = n_ratings - base.sum()
    if rest < 0:
        raise ValueError(f"{n_ratings} ratings cannot give {n_users} users 20 each")
    w = rng.lognormal(0.0, 1.3, n_users)  # median ~ 75, mean ~ 150, long tail (ml-25m: 71 / 154)
    extra = np.floor(w / w.sum() * rest).astype(np.int64)
    counts = np.minimum(base + extra, cap)
    # hand out what is left (rounding and the cap) to users still below the cap
    short = n_ratings - int(counts.sum())
    while short > 0:
        room = cap - counts
        idx = np.flatnonzero(room > 0)
        if len(idx) == 0:
            raise ValueError("not enough items for that many ratings")
        give = np.minimum(room[idx], max(1, short // len(idx)))
        cum = np.cumsum(give)
        k = int(np.searchsorted(cum, short))  # stop exactly at the total
        if k < len(give):
            give[k] -= cum[k] - short
            give[k + 1 :] = 0
        counts[idx] += give
        short = n_ratings - int(counts.sum())
    return counts


def _sample_items(
    rng: np.random.Generator, counts: np.ndarray, cdf: np.ndarray, n_items: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct items for each user (popularity-weighted), as parallel (local user, item) arrays."""
    users = np.repeat(np.arange(len(counts)), counts)
    items = np.searchsorted(cdf, rng.random(len(users)), side="right").clip(0, n_items - 1)
    for attempt in range(50):
        key = users.astype(np.int64) * n_items + items
        key, first = np.unique(key, return_index=True)
        users, items = users[first], items[first]
        have = np.bincount(users, minlength=len(counts))
        need = counts - have
        if not need.any():
            break
        more_u = np.repeat(np.arange(len(counts)), need)
        # later draws favour the tail a little more, so heavy users finish quickly
        more_i = (
            rng.integers(0, n_items, len(more_u))
            if attempt > 5
            else np.searchsorted(cdf, rng.random(len(more_u)), side="right").clip(0, n_items - 1)
        )
        users = np.concatenate([users, more_u])
        items = np.concatenate([items, more_i])
    order = np.lexsort((items, users))
    return users[order], items[order]


def generate(n_ratings: int, path: Path, *, seed: int = 42) -> Path:
    """Write ``n_ratings`` synthetic ratings to ``path`` (via a temp file and an atomic rename)."""
    rng = np.random.default_rng(seed)
    n_users, n_items = shape_for(n_ratings)
    counts = _user_counts(rng, n_users, n_items, n_ratings)
    # item popularity: Zipf-like over a random order of items
    pop = 1.0 / np.arange(1, n_items + 1) ** 1.05
    pop = pop[rng.permutation(n_items)]
    cdf = np.cumsum(pop / pop.sum())
    movie_ids = np.sort(rng.choice(np.arange(1, 4 * n_items), size=n_items, replace=False))
    # latent-factor ratings: global mean + biases + dot product + noise, popular items a bit better
    user_f = rng.normal(0, 0.45, (n_users, _FACTORS)).astype(np.float32)
    item_f = rng.normal(0, 0.45, (n_items, _FACTORS)).astype(np.float32)
    user_b = rng.normal(0, 0.4, n_users).astype(np.float32)
    item_b = (rng.normal(0, 0.45, n_items) + 0.15 * np.log(pop / pop.mean())).astype(np.float32)
    start = rng.integers(_T0, _T1 - 86_400, n_users)
    span = np.minimum(rng.exponential(200 * 86_400, n_users), _T1 - start).astype(np.int64) + 1

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    schema = pa.schema(
        [("userId", pa.int64()), ("movieId", pa.int64()), ("rating", pa.float64()), ("timestamp", pa.int64())]
    )
    ends = np.cumsum(counts)
    written = 0
    with open(tmp, "wb") as sink:
        sink.write(b"userId,movieId,rating,timestamp\n")  # unquoted, like GroupLens' files
        opts = pacsv.WriteOptions(include_header=False)
        with pacsv.CSVWriter(sink, schema, write_options=opts) as writer:
            lo = 0
            while lo < n_users:
                # a block of whole users with about _CHUNK_ROWS ratings
                hi = int(np.searchsorted(ends, written + _CHUNK_ROWS, side="right")) + 1
                hi = min(max(hi, lo + 1), n_users)
                block = counts[lo:hi]
                lu, it = _sample_items(rng, block, cdf, n_items)
                u = lu + lo
                score = (
                    3.53
                    + user_b[u]
                    + item_b[it]
                    + np.einsum("ij,ij->i", user_f[u], item_f[it])
                    + rng.normal(0, 0.6, len(u))
                )
                # people pick whole stars more often than half stars (as in MovieLens)
                half = rng.random(len(u)) < 0.35
                rating = np.clip(np.where(half, np.round(score * 2) / 2, np.round(score)), 0.5, 5.0)
                ts = start[u] + (rng.random(len(u)) * span[u]).astype(np.int64)
                table = pa.table(
                    {
                        "userId": u + 1,
                        "movieId": movie_ids[it],
                        "rating": rating.astype(np.float64),
                        "timestamp": ts,
                    },
                    schema=schema,
                )
                writer.write_table(table)
                written += len(u)
                lo = hi
    os.replace(tmp, path)
    meta = {
        "n_ratings": written,
        "n_users": n_users,
        "n_items_max": n_items,
        "seed": seed,
        "generator": "bench/synthetic.py",
    }
    path.with_name("meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return path


def ensure(n_ratings: int, *, seed: int = 42) -> Path:
    """Path of the cached synthetic ``ratings.csv`` with ``n_ratings`` rows, generating it when missing."""
    path = DATA_DIR / f"synthetic-{label(n_ratings)}" / "ratings.csv"
    meta = path.with_name("meta.json")
    if path.is_file() and meta.is_file():
        m = json.loads(meta.read_text())
        if m.get("n_ratings") == n_ratings and m.get("seed") == seed:
            return path
    return generate(n_ratings, path, seed=seed)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sizes", nargs="*", type=int, default=[1_000_000], help="row counts (default 1000000)")
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args(argv)
    for n in args.sizes:
        t0 = time.perf_counter()
        path = ensure(n, seed=args.seed)
        print(f"{path}  ({path.stat().st_size / 1e6:.0f} MB, {time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
