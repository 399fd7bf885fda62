"""The web page on a phone, in headless Chromium (Debian's /usr/bin/chromium through Playwright; never
``playwright install``): the header's names are never cut across lines, and the keyboard help is not shown
where there is no keyboard."""

from __future__ import annotations

import pytest

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
