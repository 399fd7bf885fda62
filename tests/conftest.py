"""Shared fixtures: tiny datasets built in code, and the bundled ml-latest-small (loaded once)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from datagen import make_ratings, ml100k_path
from movierec.datasets import Dataset, load
from movierec.interactions import Interactions


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


def pytest_configure(config: pytest.Config) -> None:
    """Test files given out of order (``tests/serving/a.py tests/test_b.py tests/serving/c.py``) are run
    sorted by path: pytest 9.1 leaves a folder's conftest fixtures out for the files given after another
    folder's ("fixture 'movies' not found"; pytest-dev/pytest#14640, #14997), and a subset run by hand is
    given in any order. Sorted, each folder's files are contiguous. ``make test`` gives no paths."""
    config.args[:] = sorted(config.args)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """Debian's headless Chromium through Playwright's Python API (never ``playwright install``)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium package to run browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install 'movierec[dev]'); browser tests skipped")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
