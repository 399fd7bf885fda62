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


def _top(page, selector: str) -> float:  # type: ignore[no-untyped-def]
    return float(page.locator(selector).first.bounding_box()["y"])  # relative to the viewport


def test_similar_opens_in_view_and_a_rated_star_keeps_the_focus(browser, server) -> None:
    """At phone width a click on a title scrolled only as far as the "Similar to …" heading, which sat on the
    screen's bottom edge with the whole list below it: the click seemed to do nothing. And a star pressed with
    the keyboard lost the focus (both lists are rebuilt), so the next Tab started again at the top of the page."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(server.url + "/")
    page.wait_for_selector("#model-info:has-text('svd')")
    page.fill("#search", "toy story")
    page.wait_for_selector("#results li[data-movie-id='31']")
    star = "#results li[data-movie-id='21'] .star[data-stars='4']"
    page.focus(star)
    page.keyboard.press("Enter")
    page.locator("#rated li[data-movie-id='21']").wait_for()
    focused = page.evaluate(
        "[document.activeElement.dataset.stars, document.activeElement.closest('li')?.dataset.movieId,"
        " document.activeElement.closest('ul')?.id, document.activeElement.getAttribute('aria-pressed')]"
    )
    assert focused == ["4", "21", "results", "true"], focused
    page.keyboard.press("Tab")  # on to the fifth star of the same movie, not back to the top of the page
    assert page.evaluate("document.activeElement.dataset.stars") == "5"
    page.click("#results li[data-movie-id='31'] .star[data-stars='5']")
    page.click("#recommend")
    page.wait_for_selector("#recs li")
    page.locator("#recs li button.title").nth(0).press("Enter")  # the keyboard's click
    page.wait_for_selector("#similar li")
    page.wait_for_timeout(100)  # let the scroll settle
    assert 0 <= _top(page, "#similar-title") < 60, _top(page, "#similar-title")
    assert _top(page, "#similar li") < 844 - 100  # the first similar movie is on screen
    assert page.evaluate("document.activeElement.id") == "similar-title"
    page.keyboard.press("Tab")  # into the similar list
    assert page.evaluate("!!document.activeElement.closest('#similar')")
    page.close()


def test_desktop_keeps_your_ratings_under_the_search(browser, server) -> None:
    """At 1280 × 800 the list of twelve recommendations (the right column, spanning two rows) spread its height
    over both rows, which pushed "Your ratings" and its button half a screen down, below the fold."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(server.url + "/")
    page.wait_for_selector("#model-info:has-text('svd')")
    page.fill("#search", "toy story")
    page.wait_for_selector("#results li[data-movie-id='31']")
    page.click("#results li[data-movie-id='21'] .star[data-stars='5']")
    page.click("#recommend")
    page.wait_for_selector("#recs li")
    page.evaluate("scrollTo(0, 0)")
    find, rated = page.locator("#find-panel").bounding_box(), page.locator("#rated-panel").bounding_box()
    assert rated["y"] - (find["y"] + find["height"]) < 40, (find, rated)  # the grid's gap, 1rem
    assert page.locator("#recs-panel").bounding_box()["height"] > rated["height"] + find["height"]
    button = page.locator("#recommend").bounding_box()
    assert button["y"] + button["height"] <= 800, button  # above the fold
    page.close()


@pytest.fixture(scope="module")
def implicit_server(movies, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """ease (it learns from ratings ≥ 4) served without a feedback database."""
    from servehelp import Server, fit

    from movierec.serving.artifact import export_artifact

    model, train = fit("ease", movies)
    path = export_artifact(model, movies, train, tmp_path_factory.mktemp("art") / "ease", min_support=0)
    srv = Server(path, "none").wait()
    yield srv
    srv.stop()


def test_an_implicit_model_says_liked_by_and_sends_no_feedback_to_none(browser, implicit_server) -> None:
    """ease's ``ratings`` counts a movie's ratings ≥ 4 (what it learned from), which the page called "rated by N
    people"; and with ``--db none`` every star sent a POST /feedback the server could only answer 503."""
    import httpx

    health = httpx.get(implicit_server.url + "/health").json()
    assert health["likedFrom"] == 4.0 and health["feedback"] is False
    page = browser.new_page(viewport={"width": 360, "height": 740})
    posts: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(implicit_server.url + "/")
    page.wait_for_selector("#model-info:has-text('ease')")
    page.fill("#search", "toy story")
    page.wait_for_selector("#results li[data-movie-id='31']")
    page.click("#results li[data-movie-id='21'] .star[data-stars='5']")
    page.click("#results li[data-movie-id='31'] .star[data-stars='4']")
    page.click("#recommend")
    page.wait_for_selector("#recs li")
    first = page.locator("#recs li").nth(0)
    movie = httpx.get(f"{implicit_server.url}/movies/{first.get_attribute('data-movie-id')}").json()
    people = f"{movie['ratings']} {'person' if movie['ratings'] == 1 else 'people'}"
    assert first.locator(".plain").inner_text() == f"liked by {people} (rated 4+)"
    assert [u for u in posts if u.endswith("/feedback")] == [] and posts  # only POST /recommendations
    assert not errors, errors  # no 503s, and no 404 for a favicon either
    page.close()
