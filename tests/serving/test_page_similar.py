"""The Similar panel of the served page, in headless Chromium (Debian's /usr/bin/chromium through Playwright;
never ``playwright install``) against a real ``movierec serve`` (conftest's ``server``: svd on servehelp's movies):

- after "Similar" on a recommendation the page scrolled to the panel and the movie clicked went out of view, with
  no way back but scrolling: the panel has a "Back to …" button (and Escape) that closes it and puts the focus
  and the screen back on that movie;
- a movie the visitor had rated on the page was shown in a similar list like any other: it says "you rated it".
"""

from __future__ import annotations

import httpx
import pytest
from servehelp import search_toy_story

pytestmark = pytest.mark.browser

PHONE = {"has_touch": True, "is_mobile": True}
WIDTH, HEIGHT = 390, 844


def _phone_with_a_list(browser, url: str):  # type: ignore[no-untyped-def]
    """A phone's page with Toy Story (21) and Toy Story 2 (31) rated and twelve recommendations shown."""
    ctx = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, **PHONE)
    page = ctx.new_page()
    page.goto(url + "/")
    page.wait_for_selector("#model-info:has-text('svd')")
    search_toy_story(page)
    page.click("#results li[data-movie-id='21'] .star[data-stars='5']")
    page.click("#results li[data-movie-id='31'] .star[data-stars='4']")
    page.click("#recommend")
    page.wait_for_selector("#recs li")
    return ctx, page


def _on_screen(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    """The element lies inside the screen, above the phone's action bar."""
    box = page.locator(selector).bounding_box()
    bar = page.locator("#actions").bounding_box()
    assert box is not None and bar is not None
    return bool(0 <= box["y"] and box["y"] + box["height"] <= bar["y"] + 0.5)


def _focused_movie(page) -> list:  # type: ignore[no-untyped-def]
    return page.evaluate(  # type: ignore[no-any-return]
        "() => [document.activeElement.className, document.activeElement.closest('li')?.dataset.movieId,"
        " document.activeElement.closest('ol, ul')?.id]"
    )


def test_the_similar_panel_leads_back_to_the_movie_it_was_opened_from(browser, server) -> None:
    """At 390 × 844, "Similar" on the eighth recommendation scrolled to the panel, the eighth recommendation out
    of view, and only scrolling led back. The panel's "Back to your recommendations" button (44 px, the next Tab
    stop after its heading) closes it and puts the focus on that movie's title, on the screen; Escape does the
    same from the keyboard, also after a second "Similar" inside the panel (back to where it all began)."""
    ctx, page = _phone_with_a_list(browser, server.url)
    rec = page.locator("#recs li").nth(7)
    movie = rec.get_attribute("data-movie-id")
    origin = f"#recs li[data-movie-id='{movie}'] button.title"
    page.locator(origin).click()
    page.wait_for_selector("#similar li")
    page.wait_for_timeout(100)  # let the scroll settle
    assert not _on_screen(page, origin)  # the movie clicked is out of view: the way back is needed
    back = page.locator("#similar-back")
    assert back.is_visible() and back.inner_text().strip() == "← Back to your recommendations"
    box = back.bounding_box()
    assert box is not None and box["height"] >= 43.5 and box["width"] >= 43.5, box
    assert _on_screen(page, "#similar-back")  # beside the heading the page scrolled to
    page.keyboard.press("Tab")  # from the heading (focused on opening), the next stop is the way back
    assert page.evaluate("() => document.activeElement.id") == "similar-back"
    back.click()
    assert page.locator("#similar-panel").is_hidden()
    assert _focused_movie(page) == ["linkish title", movie, "recs"]
    assert page.locator(f"#recs li[data-movie-id='{movie}'].returned").count() == 1  # shaded for a moment
    page.wait_for_timeout(100)
    assert _on_screen(page, origin)

    # the keyboard: Enter opens, a second "Similar" inside the panel, Escape goes back to the first movie
    page.locator(origin).press("Enter")
    page.wait_for_selector("#similar-panel:not([hidden]) #similar li")
    page.locator("#similar li button.title").first.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'similar-title'")
    page.keyboard.press("Escape")
    assert page.locator("#similar-panel").is_hidden()
    assert _focused_movie(page) == ["linkish title", movie, "recs"]
    page.wait_for_timeout(100)
    assert _on_screen(page, origin)

    # from the ratings the button says so and leads there
    page.locator("#rated li[data-movie-id='21'] button.title").click()
    page.wait_for_selector("#similar-panel:not([hidden]) #similar li")
    assert back.inner_text().strip() == "← Back to your ratings"
    back.click()
    assert _focused_movie(page) == ["linkish title", "21", "rated"]
    # a movie gone from its list meanwhile (a new search): its list's heading, not the search box (a phone's keyboard)
    search_toy_story(page)
    page.locator("#results li[data-movie-id='31'] button.title").click()
    page.wait_for_selector("#similar-panel:not([hidden]) #similar li")
    assert back.inner_text().strip() == "← Back to the search results"
    page.fill("#search", "amelie")
    page.wait_for_selector("#results li[data-movie-id='1']")
    back.click()
    assert page.evaluate("() => document.activeElement.id") == "find-title"
    ctx.close()


def _similar_ids(url: str, movie: int) -> list[str]:
    body = httpx.get(f"{url}/movies/{movie}/similar?k=10").json()
    return [str(m["movieId"]) for m in body["recommendations"]]


def test_a_movie_you_rated_says_so_in_a_similar_list(browser, server) -> None:
    """A movie rated on the page showed in a similar list like any other (recommendations leave rated movies out;
    a similar list keeps them, a known movie tells what the list is about). It now says "you rated it 4 of 5",
    and a movie rated while the list is open says so at once; one not rated says nothing of the kind."""
    # Toy Story's similar movies: open Toy Story's list, rate one of them
    listed = _similar_ids(server.url, 21)
    fresh = [m for m in listed if m not in ("21", "31")]  # not rated by _phone_with_a_list
    assert len(fresh) >= 2, listed
    ctx, page = _phone_with_a_list(browser, server.url)
    page.locator("#results li[data-movie-id='21'] button.title").click()
    page.wait_for_selector("#similar li")
    mine, other = fresh[0], fresh[1]
    before = page.locator("#similar .yours").count()
    assert before == ("31" in listed), listed  # Toy Story 2, rated, if it is in the list
    title = page.locator(f"#similar li[data-movie-id='{mine}'] .title").inner_text().strip()
    page.fill("#search", title.rsplit(" (", 1)[0])
    page.wait_for_selector(f"#results li[data-movie-id='{mine}']")
    page.click(f"#results li[data-movie-id='{mine}'] .star[data-stars='4']")
    mark = page.locator(f"#similar li[data-movie-id='{mine}'] .yours")
    mark.wait_for()  # Playwright's 30 s (5 s could be short under load)
    assert mark.inner_text().strip() == "★ you rated it 4 of 5", mark.inner_text()
    assert mark.locator("[aria-hidden='true']").inner_text() == "★"  # read out as words, not "black star"
    assert page.locator(f"#similar li[data-movie-id='{other}'] .yours").count() == 0
    assert page.locator("#similar .yours").count() == before + 1
    # opened again (a fresh list), the mark is there from the start
    page.click("#similar-back")
    page.locator("#rated li[data-movie-id='21'] button.title").click()
    page.wait_for_selector(f"#similar li[data-movie-id='{mine}'] .yours")
    assert page.locator("#similar .yours").count() == before + 1
    ctx.close()
