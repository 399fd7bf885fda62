"""Shared fixtures: tiny datasets built in code, and the bundled ml-latest-small (loaded once)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movierec.datasets import Dataset, load
from movierec.interactions import Interactions

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def ml100k_path() -> Path | None:
    """Folder with ml-100k files (../shared/data or $MOVIEREC_DATA), or None."""
    cands = []
    if os.environ.get("MOVIEREC_DATA"):
        cands.append(Path(os.environ["MOVIEREC_DATA"]) / "ml-100k")
    cands.append(SHARED_DATA / "ml-100k")
    for c in cands:
        if (c / "u.data").is_file():
            return c
    return None


@pytest.fixture(scope="session")
def bundled() -> Dataset:
    """The bundled ml-latest-small (do not mutate its arrays)."""
    return load("ml-latest-small")


@pytest.fixture(scope="session")
def ml100k() -> Dataset:
    path = ml100k_path()
    if path is None:
        pytest.skip("ml-100k not found in ../shared/data or $MOVIEREC_DATA (its terms forbid bundling it)")
    return load(path, rating_scale=(1.0, 5.0))


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


@pytest.fixture
def tiny() -> Interactions:
    """30 users × 40 items, ~30% dense."""
    return Interactions.from_frame(make_ratings(), rating_scale=(0.5, 5.0))
