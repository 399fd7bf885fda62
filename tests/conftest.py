"""Shared fixtures: tiny datasets built in code, and the bundled ml-latest-small (loaded once)."""

from __future__ import annotations

import functools
import re
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

#: browser-window parts a headless test never shows, which Chromium builds for every window, and each Playwright
#: context is a window: Chromium 156 loads the address bar's two WebUI popups (chrome://omnibox-popup.top-chrome/
#: and its AI-mode page) in a renderer of their own. A context that opened the served page, searched, rated and
#: got a list cost 1.65-1.95 CPU-s of Chromium with them and 0.75-0.86 without (six contexts, one browser); what
#: the page draws is the same (no page sees the address bar)
CHROMIUM_FEATURES_OFF = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup")


@functools.cache
def _playwright_features_off() -> tuple[str, ...] | None:
    """The features Playwright's driver turns off with its own ``--disable-features`` (its chromiumSwitches:
    MediaRouter, PaintHolding, HttpsUpgrades, …), read from the driver's JavaScript; None where they cannot be
    read (another driver layout). Chromium keeps only the last ``--disable-features`` it is given, and
    Playwright puts ours after its own, so ours has to name Playwright's too or would turn them back on."""
    import playwright

    lib = Path(playwright.__file__).parent / "driver" / "package" / "lib"
    for js in (lib / "coreBundle.js", lib / "server" / "chromium" / "chromiumSwitches.js"):
        if not js.is_file():
            continue
        text = js.read_text(encoding="utf-8", errors="replace")
        listed = re.search(r"\bdisabledFeatures = \[(.*?)\]", text, re.S)
        if listed:  # Playwright 1.49 and later: a list, with comments, some entries conditional
            names = re.findall(r"[\"']([A-Za-z0-9_]+)[\"']", re.sub(r"//[^\n]*", "", listed.group(1)))
            return tuple(names) if names else None
        inline = re.search(r"[\"']--disable-features=([A-Za-z0-9_,]+)[\"']", text)
        if inline:  # earlier releases: one string
            return tuple(inline.group(1).split(","))
    return None


def chromium_args() -> list[str]:
    """:data:`CHROMIUM_ARGS` and one ``--disable-features`` with Playwright's features and
    :data:`CHROMIUM_FEATURES_OFF`; :data:`CHROMIUM_ARGS` alone where Playwright's cannot be read (slower, and
    Playwright's switches stay as it sets them)."""
    theirs = _playwright_features_off()
    if theirs is None:
        return list(CHROMIUM_ARGS)
    off = list(dict.fromkeys([*theirs, *CHROMIUM_FEATURES_OFF]))
    return [*CHROMIUM_ARGS, "--disable-features=" + ",".join(off)]


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
        b = p.chromium.launch(executable_path=CHROMIUM, args=chromium_args(), headless=True)
        yield b
        b.close()
