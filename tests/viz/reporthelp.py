"""Report test helpers: a tiny MovieLens-layout folder (ratings, titles, genres, tags) written in code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def make_ratings(n_users: int, n_items: int, density: float, seed: int) -> pd.DataFrame:
    """Random half-star ratings with low-rank structure; every user and item has at least one rating."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n_users, 3))
    v = rng.normal(size=(n_items, 3))
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    users, items = np.nonzero(mask)
    ratings = np.clip(np.round((3.0 + (u[users] * v[items]).sum(1)) * 2) / 2, 0.5, 5.0)
    return pd.DataFrame(
        {
            "userId": users + 1,
            "movieId": items * 10 + 1,
            "rating": ratings,
            "timestamp": 1_000_000_000 + rng.integers(0, 60_000_000, len(users)),
        }
    )


GENRES = [
    "Action",
    "Adventure",
    "Animation",
    "Children",
    "Comedy",
    "Crime",
    "Drama",
    "Horror",
    "Romance",
    "Sci-Fi",
    "Thriller",
]
FAMOUS = ["Toy Story (1995)", "Matrix, The (1999)", "Pulp Fiction (1994)"]

#: small models so a whole report takes seconds: two explicit, two implicit (one with features), one without vectors
SMALL_MODELS = "svd,bpr,ease,warp+genres+tags"
SMALL_PARAMS = [
    "svd.n_epochs=4",
    "svd.n_factors=8",
    "bpr.epochs=4",
    "bpr.no_components=8",
    "warp+genres+tags.epochs=4",
    "warp+genres+tags.no_components=8",
]


def make_movielens(
    folder: Path, *, titles: bool = True, n_users: int = 50, n_items: int = 60, seed: int = 3
) -> Path:
    """Write ratings.csv (and, with ``titles``, movies.csv and tags.csv) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ratings = make_ratings(n_users, n_items, density=0.3, seed=seed)
    ratings.to_csv(folder / "ratings.csv", index=False)
    if titles:
        ids = np.sort(ratings["movieId"].unique())
        rng = np.random.default_rng(seed)
        names = FAMOUS + [f"Movie {i} ({1950 + int(i) % 60})" for i in ids[len(FAMOUS) :]]
        genres = [
            "|".join(sorted(rng.choice(GENRES, size=int(rng.integers(1, 4)), replace=False))) for _ in ids
        ]
        pd.DataFrame({"movieId": ids, "title": names, "genres": genres}).to_csv(
            folder / "movies.csv", index=False
        )
        n = min(150, len(ratings))
        pd.DataFrame(
            {
                "userId": ratings["userId"].to_numpy()[:n],
                "movieId": ratings["movieId"].to_numpy()[:n],
                "tag": rng.choice(["funny", "dark", "classic", "twist ending"], n),
                "timestamp": ratings["timestamp"].to_numpy()[:n],
            }
        ).to_csv(folder / "tags.csv", index=False)
    return folder
