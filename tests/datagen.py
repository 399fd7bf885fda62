"""Tiny synthetic ratings for tests (a plain module: conftest.py files are not importable by name)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["make_ratings"]


def make_ratings(n_users: int = 30, n_items: int = 40, density: float = 0.3, seed: int = 0) -> pd.DataFrame:
    """A small random ratings frame with low-rank structure, half-star ratings and timestamps."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n_users, 3))
    v = rng.normal(size=(n_items, 3))
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True  # every user rates something
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True  # every item is rated
    users, items = np.nonzero(mask)
    raw = (u[users] * v[items]).sum(1)
    ratings = np.clip(np.round((3.0 + raw) * 2) / 2, 0.5, 5.0)
    return pd.DataFrame(
        {
            "userId": users + 1,
            "movieId": items * 10 + 1,
            "rating": ratings,
            "timestamp": 1_000_000_000 + rng.integers(0, 10_000_000, len(users)),
        }
    )
