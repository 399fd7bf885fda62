"""The web page on a phone, in headless Chromium (Debian's /usr/bin/chromium through Playwright; never
``playwright install``): the header's names are never cut across lines, and the keyboard help is not shown
where there is no keyboard."""

from __future__ import annotations

import pytest
from servehelp import search_toy_story

pytestmark = pytest.mark.browser

# The client rectangles of ``needle`` in the text under ``#model-info``: one per line it lies on.
_RECTS = """(needle) => {
  const walker = document.createTreeWalker(document.getElementById("model-info"), NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const at = n.data.indexOf(needle);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(n, at);
    range.setEnd(n, at + needle.length);
    return Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top));
  }
  return null;
}"""


def test_header_names_are_never_cut(browser, server) -> None:
    """At every width from 280 to 520 px the dataset's name ("tiny-movies") and the model's stay on one line:
    the header wraps between its items. As one run of text it was cut at the hyphen ("tiny-" / "movies"),
    as ml-latest-small was at 390 px ("ml-" / "latest-small")."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(server.url + "/")
    page.wait_for_selector("#model-info:has-text('tiny-movies')")
    cut: list[tuple[int, str, list[int]]] = []
    for width in range(280, 522, 2):
        page.set_viewport_size({"width": width, "height": 844})
        for name in ("tiny-movies", "svd"):
            tops = page.evaluate(_RECTS, name)
            assert tops, (width, name, page.locator("#model-info").inner_text())
            if len(set(tops)) > 1:
                cut.append((width, name, tops))
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert not cut, cut
    # the dataset's item is one element one line high (at 390 px: the width that cut ml-latest-small)
    page.set_viewport_size({"width": 390, "height": 844})
    item = page.locator("#model-info .info-item", has_text="tiny-movies")
    line = float(item.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    box = item.bounding_box()
    assert box is not None and abs(box["height"] - line) < 1, (box, line)
    page.close()


@pytest.mark.parametrize(
    ("touch", "shown"),
    [({"has_touch": True, "is_mobile": True}, False), ({"has_touch": False, "is_mobile": False}, True)],
    ids=["phone", "desktop"],
)
def test_keyboard_help_only_where_there_is_a_keyboard(browser, server, touch, shown) -> None:
    """ "Tab moves from movie to movie…" is for a keyboard: a touch-first phone (no hover, coarse pointer) does
    not show it; a desktop with a mouse does. The search still names it in aria-describedby (assistive
    technology reads a description from hidden text too)."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, **touch)
    page = ctx.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#model-info:has-text('svd')")
    assert page.evaluate("matchMedia('(hover: none) and (pointer: coarse)').matches") is not shown
    assert page.locator("#stars-help").is_visible() is shown
    assert page.locator("#search").get_attribute("aria-describedby") == "stars-help"
    ctx.close()


# The tops of the lines each recommendation's "about 4.5 of 5" lies on (one per line), under ``#recs``.
_SCORE_LINES = """() => Array.from(document.querySelectorAll("#recs .plain")).map((span) => {
  const text = span.firstChild, m = /about\\s[\\d.]+\\sof\\s[\\d.]+/.exec(text.data);
  if (!m) return null;
  const range = document.createRange();
  range.setStart(text, m.index);
  range.setEnd(text, m.index + m[0].length);
  return [m[0], [...new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top)))]];
})"""


def test_a_predicted_rating_is_never_parted_from_its_scale(browser, server) -> None:
    """A rating model's "you would rate it about 5.0 of 5" ended a 320 px line with "of" and put the "5" alone on
    the next: from 280 to 420 px "about 5.0 of 5" now stays on one line (the sentence wraps before "about")."""
    ctx = browser.new_context(viewport={"width": 320, "height": 640}, has_touch=True, is_mobile=True)
    page = ctx.new_page()
    page.goto(server.url + "/")
    search_toy_story(page)
    page.click("#results li[data-movie-id='21'] .star[data-stars='5']")
    page.click("#results li[data-movie-id='31'] .star[data-stars='4']")
    page.click("#recommend")
    page.wait_for_selector("#recs li .plain")
    parted: list[tuple[int, str, list[int]]] = []
    for width in range(280, 422, 4):
        page.set_viewport_size({"width": width, "height": 640})
        lines = page.evaluate(_SCORE_LINES)
        assert lines and all(lines), lines  # every row says its predicted rating
        parted += [(width, text, tops) for text, tops in lines if len(tops) > 1]
    assert not parted, parted[:6]
    ctx.close()
