"""The web page end to end in headless Chromium (Debian's /usr/bin/chromium driven by Playwright's Python API).

Never runs ``playwright install``: it uses the system browser through ``executable_path``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def test_search_rate_recommend_similar(browser, server, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})  # phone width
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/")
    page.wait_for_selector("#model-info:has-text('svd')")
    assert page.locator("#recommend").is_disabled()
    # search (accent-insensitive) and rate three movies with the stars, one of them by keyboard only
    page.fill("#search", "toy story")
    page.wait_for_selector("#results li[data-movie-id='31']")
    page.click("#results li[data-movie-id='21'] .star[data-stars='5']")
    page.click("#results li[data-movie-id='31'] .star[data-stars='4']")
    page.fill("#search", "amelie")
    page.wait_for_selector("#results li[data-movie-id='1']")
    page.focus("#results li[data-movie-id='1'] .star[data-stars='2']")
    page.keyboard.press("Enter")
    page.locator("#rated li").nth(2).wait_for()  # not wait_for_function: the page's CSP forbids eval
    assert page.locator("#rated li").count() == 3
    pressed = page.locator("#rated li[data-movie-id='21'] .star[aria-pressed='true']")
    assert pressed.get_attribute("data-stars") == "5"
    # recommendations appear, with titles, years and genres, none of the rated movies
    page.click("#recommend")
    page.wait_for_selector("#recs li")
    recs = page.locator("#recs li")
    assert recs.count() == 12
    first = recs.nth(0)
    assert first.locator(".title").inner_text().strip() and first.locator(".meta").inner_text().strip()
    for i in range(recs.count()):  # a year the title already shows is not repeated under it
        shown, meta = recs.nth(i).locator(".title").inner_text(), recs.nth(i).locator(".meta").inner_text()
        year = re.search(r"\((\d{4})\)\s*$", shown)
        assert year is None or not meta.startswith(year.group(1)), (shown, meta)
    ids = {recs.nth(i).get_attribute("data-movie-id") for i in range(recs.count())}
    assert not ids & {"21", "31", "1"}
    # click a recommendation: the similar list appears
    title = first.locator(".title").inner_text().strip()
    first.locator("button.title").click()
    page.wait_for_selector("#similar li")
    assert page.locator("#similar-panel").is_visible()
    assert title in page.locator("#similar-title").inner_text()
    assert page.locator("#similar li").count() == 10
    # readable at phone width: nothing wider than the viewport
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # a list number sits beside the first line of its title, also when the title wraps (the number follows the
    # line's baseline, which for a default inline-block button is its last line)
    assert all(recs.nth(i).locator("button.title").evaluate("b => getComputedStyle(b).verticalAlign") == "top"
               for i in range(recs.count()))  # fmt: skip
    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert not errors, errors
    page.close()


def test_docs_render_without_the_network(browser, server) -> None:
    """Swagger UI at /docs renders every operation with only this server reachable (any other host is blocked)."""
    page = browser.new_page()
    outside: list[str] = []

    def only_this_server(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(server.url + "/docs")
    page.wait_for_selector(".swagger-ui .opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/recommendations" in p for p in paths) and any("/feedback" in p for p in paths), paths
    assert not outside, outside
    page.close()
