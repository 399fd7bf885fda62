"""The web page used with a finger, in headless Chromium (Debian's /usr/bin/chromium through Playwright; never
``playwright install``): targets a finger can hit, stars one can see, and every outcome shown where a phone's
screen is (helper-153 looked at the page at 390 × 844 and 320 × 640)."""

from __future__ import annotations

import pytest
from servehelp import search_toy_story

pytestmark = pytest.mark.browser

PHONE = {"has_touch": True, "is_mobile": True}

# Every control a visitor taps, with its box, its text and how wide it must be (a word-long title is narrow:
# height is what a finger misses on a list; stars and IMDb/TMDb sit side by side, so width counts too).
_TARGETS = """() => Array.from(document.querySelectorAll("main button, main a, main input")).filter((e) => {
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== "hidden";
}).map((e) => {
  const r = e.getBoundingClientRect();
  const side = e.classList.contains("star") || e.closest(".links") !== null;
  return { what: (e.id || e.className || e.tagName) + " " + (e.textContent || "").trim().slice(0, 30),
           width: r.width, height: r.height, side };
})"""


def _luminance(rgb: str) -> float:
    parts = [float(x) / 255 for x in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _color(page, selector: str, prop: str = "color") -> str:  # type: ignore[no-untyped-def]
    return str(page.locator(selector).first.evaluate(f"e => getComputedStyle(e).{prop}"))


@pytest.mark.parametrize("width", [320, 390])
def test_every_tap_target_is_44_px_and_an_empty_star_can_be_seen(browser, server, width: int) -> None:
    """Stars were 35 px (2.2rem) and their empty grey 1.9:1 on white; titles, IMDb/TMDb, "Did you mean", Undo and
    the two buttons were 20 to 41 px high. Through a whole visit (search, a misspelling, rate, recommend, similar,
    clear) every visible control is at least 44 px high (stars and links also 44 px wide), the stars 3:1 on white,
    the greyed-out button's words 4.5:1, and the page never scrolls sideways."""
    ctx = browser.new_context(viewport={"width": width, "height": 640}, **PHONE)
    page = ctx.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#model-info:has-text('svd')")
    small: list[dict] = []

    def check(moment: str) -> None:
        for t in page.evaluate(_TARGETS):
            if t["height"] < 43.5 or (t["side"] and t["width"] < 43.5):
                small.append({"at": moment, **t})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, moment

    check("start")
    disabled = _contrast(_color(page, "#recommend"), _color(page, "#recommend", "backgroundColor"))
    assert disabled >= 4.5, disabled
    assert _contrast(_color(page, "#results .star:not(.on)"), "rgb(255, 255, 255)") >= 3
    page.fill("#search", "toy sotry")
    page.locator("#did-you-mean button").first.wait_for()
    check("did you mean")
    search_toy_story(page)
    page.click("#results li[data-movie-id='21'] .star[data-stars='5']")
    page.click("#results li[data-movie-id='31'] .star[data-stars='4']")
    assert _contrast(_color(page, "#rated .star.on"), "rgb(255, 255, 255)") >= 3
    page.click("#recommend")
    page.wait_for_selector("#recs li")
    check("recommendations")
    page.locator("#recs li button.title").first.click()
    page.wait_for_selector("#similar li")
    check("similar")
    page.click("#clear")
    page.wait_for_selector("#undo-button")
    check("undo")
    assert not small, small
    ctx.close()


def test_a_bigger_target_does_not_move_the_text(browser, server) -> None:
    """The titles' and links' extra height is padding given back by a negative margin: a list's lines sit where
    they did: a title's text one line above its genres, not 44 px apart."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, **PHONE)
    page = ctx.new_page()
    page.goto(server.url + "/")
    search_toy_story(page)
    title = page.locator("#results li[data-movie-id='31'] button.title").bounding_box()
    meta = page.locator("#results li[data-movie-id='31'] .meta").bounding_box()
    assert title is not None and meta is not None
    pad = float(page.locator("#results li[data-movie-id='31'] button.title").evaluate(
        "e => parseFloat(getComputedStyle(e).paddingTop)"))  # fmt: skip
    # the title's text begins one line (23 px) above the genres, as before; its padding reaches into the genres
    # line (nothing to tap there)
    assert pad >= 10 and 20 <= meta["y"] - (title["y"] + pad) <= 25, (pad, title, meta)
    assert title["y"] + title["height"] > meta["y"]
    ctx.close()


def test_a_failed_press_is_said_on_the_screen_and_a_notice_goes(browser, svd_artifact) -> None:  # type: ignore[no-untyped-def]
    """The status line was at the page's end, under the lists: on a phone, "Get recommendations" with the server
    stopped did nothing one could see. Now the notice is over the bottom of the screen, inside the viewport; a
    failure stays, a plain notice ("No ratings to clear.") goes after its seconds (the browser's clock is run
    forward), and one the page shows where it happened ("Rated …": the stars; the list of recommendations) is not
    put over the screen. A real server is stopped; nothing is intercepted."""
    from servehelp import Server

    srv = Server(svd_artifact[0], "none").wait()
    ctx = browser.new_context(viewport={"width": 320, "height": 640}, **PHONE)
    page = ctx.new_page()
    page.clock.install()
    try:
        page.goto(srv.url + "/")
        page.wait_for_selector("#model-info:has-text('svd')")
        page.fill("#search", "toy story")
        page.clock.run_for(500)  # the search waits 200 ms after typing
        page.wait_for_selector("#results li[data-movie-id='31']")
        status = page.locator("#status")
        page.click("#clear")
        assert status.inner_text() == "No ratings to clear."
        assert status.is_visible() and "gone" not in (status.get_attribute("class") or "")
        page.clock.run_for(7_000)
        assert "gone" in (status.get_attribute("class") or "")
        page.click("#results li[data-movie-id='31'] .star[data-stars='4']")
        assert "Rated" in status.inner_text() and "gone" in (status.get_attribute("class") or "")
        page.click("#recommend")  # the list shows what happened: the notice over it hid its first movie
        page.wait_for_selector("#recs li")
        assert "recommendations from svd" in status.inner_text()
        assert "gone" in (status.get_attribute("class") or "")
        srv.stop()
        page.click("#recommend")
        status.filter(has_text="Could not get recommendations").wait_for()
        box = status.bounding_box()
        assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 640, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320, box
        page.clock.run_for(60_000)  # a failure stays until the next notice
        assert "gone" not in (status.get_attribute("class") or "")
        assert "is movierec serve still running?" in status.inner_text()
    finally:
        ctx.close()
        srv.stop()


def test_no_match_is_said_under_the_search_box_and_goes_with_the_next_search(browser, server) -> None:
    """ "No title matches …" was only in the status line (off a phone's screen) and stayed there after the next
    search found movies. It is now under the box, with the "Did you mean" titles when there are some, and the
    next search that finds movies takes it away."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, **PHONE)
    page = ctx.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#model-info:has-text('svd')")
    page.fill("#search", "zzzzqqq")
    said = page.locator("#did-you-mean", has_text="No title matches “zzzzqqq”.")
    said.wait_for()
    assert page.locator("#results li").count() == 0
    assert "gone" in (page.locator("#status").get_attribute("class") or "")  # not said twice on the screen
    search_toy_story(page)
    assert page.locator("#did-you-mean").is_hidden()
    assert page.locator("#status").inner_text() == ""
    ctx.close()


def _slow_fetch(part: str, ms: int) -> str:
    """An init script holding back the page's requests whose URL contains ``part`` by ``ms`` before the real
    server's answer is read (the server itself is the real one)."""
    return f"""(() => {{
  const real = window.fetch.bind(window);
  window.fetch = (url, opts) => String(url).includes({part!r})
    ? new Promise((ok) => setTimeout(ok, {ms})).then(() => real(url, opts))
    : real(url, opts);
}})();"""


# Holds back this page's answer to a search for "zz" by 800 ms: a misspelling's answer (titles spelled like it)
# is the slow one, and typing goes on meanwhile.
_SLOW_ZZ = _slow_fetch("search=zz", 800)


def test_an_older_search_answer_does_not_replace_a_newer_one(browser, server) -> None:
    """Typed on while a slow search was answered, the older answer came last and took the screen: "toy story" in
    the box, nothing under it but "No title matches". The page keeps the newest search's answer."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, **PHONE)
    ctx.add_init_script(_SLOW_ZZ)
    page = ctx.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#model-info:has-text('svd')")
    page.fill("#search", "zz")
    page.press("#search", "Enter")  # asked now, answered in 800 ms
    page.fill("#search", "toy story")
    page.press("#search", "Enter")
    page.wait_for_selector("#results li[data-movie-id='31']")
    page.wait_for_timeout(1_200)  # the "zz" answer has come back by now
    assert page.locator("#results li[data-movie-id='31']").count() == 1
    assert page.locator("#did-you-mean").is_hidden()
    ctx.close()


# /health answered late, as from a busy server: the page's script attaches the search box's listeners after it
_SLOW_HEALTH = _slow_fetch("/health", 1500)


def test_what_is_typed_before_the_page_is_ready_is_searched(browser, server) -> None:
    """Typed while the page still waited for /health (a fresh clone's busy machine, a slow server), "toy story" was
    lost: the box's listeners did not exist yet, and the page then searched "" and listed the default movies
    under the words. The page searches what the box holds once it is ready."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, **PHONE)
    ctx.add_init_script(_SLOW_HEALTH)
    page = ctx.new_page()
    page.goto(server.url + "/")
    page.fill("#search", "toy story")  # /health answers 1.5 s later
    page.wait_for_selector("#results li[data-movie-id='31']", timeout=15_000)
    assert page.input_value("#search") == "toy story"
    assert page.locator("#model-info").inner_text() != ""  # the page did get ready
    ctx.close()


@pytest.fixture(scope="module")
def two_model_server(svd_artifact, movies, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """svd first (GET /health and the header name it), ease second, every visitor shared out to ease."""
    from servehelp import Server, fit

    from movierec.serving.artifact import export_artifact

    model, train = fit("ease", movies)
    ease = export_artifact(model, movies, train, tmp_path_factory.mktemp("art") / "ease", min_support=0)
    srv = Server(svd_artifact[0], "none", "--artifact", str(ease), "--weights", "0,1").wait()
    yield srv
    srv.stop()


def test_a_list_from_another_model_than_the_header_says_which(browser, two_model_server) -> None:
    """Served with two artifacts, the header names the first (svd) while a visitor's list came from the one their
    id is shared out to (ease), with nothing on the screen to say so. The line under the heading names it."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, **PHONE)
    page = ctx.new_page()
    page.goto(two_model_server.url + "/")
    page.wait_for_selector("#model-info:has-text('svd')")
    assert page.locator("#recs-from").is_hidden()
    search_toy_story(page)
    page.click("#results li[data-movie-id='31'] .star[data-stars='5']")
    page.click("#recommend")
    page.wait_for_selector("#recs li")
    line = page.locator("#recs-from")
    assert line.is_visible()
    text = line.inner_text()
    assert text.startswith("This list comes from ease (version ") and "not svd" in text, text
    ctx.close()


def test_did_you_mean_is_one_title_a_line_and_a_search_stops_at_200_characters(browser, server) -> None:
    """At 320 px "Did you mean A, B or C?" wrapped with a comma and the "?" alone at a line's start; the titles are
    now a list, one full-width row each. A search box took any length and the server refused past 200 characters
    ("Search failed: String should have at most 200 characters"): the box now stops at 200."""
    ctx = browser.new_context(viewport={"width": 320, "height": 640}, **PHONE)
    page = ctx.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#model-info:has-text('svd')")
    page.fill("#search", "toy sotry")
    page.locator("#did-you-mean button").first.wait_for()
    assert page.locator("#did-you-mean p").inner_text() == "No title matches “toy sotry”. Did you mean:"
    rows = page.locator("#did-you-mean li")
    assert rows.count() >= 1
    width = page.locator("#did-you-mean").bounding_box()["width"]
    for i in range(rows.count()):
        button = rows.nth(i).locator("button")
        assert rows.nth(i).inner_text() == button.inner_text()  # no ", " or "?" beside the title
        box = button.bounding_box()
        assert box is not None and box["width"] >= width - 1 and box["height"] >= 43.5, box
    rows.first.locator("button").click()
    page.wait_for_selector("#results li")
    assert page.locator("#did-you-mean").is_hidden()
    page.fill("#search", "x" * 250)
    assert len(page.locator("#search").input_value()) == 200
    # the search waits 200 ms after typing, then asks the server: its answer is waited for (a fixed 600 ms
    # guessed how soon a loaded machine answers), the refusal it once was as much as the miss it is now
    page.wait_for_function(
        "() => !document.getElementById('did-you-mean').hidden"
        " || document.getElementById('status').innerText.includes('Search failed')"
    )
    assert "Search failed" not in page.locator("#status").inner_text()
    assert page.locator("#did-you-mean", has_text="No title matches").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320  # the 200 x's wrap
    ctx.close()


def test_a_movie_with_no_similar_movies_says_so_in_the_panel(browser, server) -> None:
    """Movie 71 of the fixture has no movie above the support floor: the panel opened with its heading over an empty
    list, and "No movie is similar enough to …" was put in the status line and replaced by the next line at once.
    The panel says it now."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, **PHONE)
    page = ctx.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#model-info:has-text('svd')")
    page.fill("#search", "movie 71")
    page.wait_for_selector("#results li[data-movie-id='71']")
    page.click("#results li[data-movie-id='71'] button.title")
    page.wait_for_selector("#similar-panel:not([hidden])")
    assert page.locator("#similar li").count() == 0
    note = page.locator("#similar-note")
    assert note.is_visible() and note.inner_text().startswith(
        "No movie is similar enough to Movie 71 (1961)."
    ), note.inner_text()
    ctx.close()
