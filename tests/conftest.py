"""Shared fixtures: tiny datasets built in code, and the bundled ml-latest-small (loaded once)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from datagen import make_ratings
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


@pytest.fixture
def tiny() -> Interactions:
    """30 users × 40 items, ~30% dense."""
    return Interactions.from_frame(make_ratings(), rating_scale=(0.5, 5.0))
