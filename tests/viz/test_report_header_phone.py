"""The report's header on a phone: the dataset's name, each protocol's and the creation time are never cut
at a hyphen. As one run of text a 375 px viewport showed "movierec report — ml-latest-" / "small",
"protocols rating, full-" / "ranking" and "created 2026-12-" / "05T18:21:09" (h128's walk of ``make demo``),
where the served page keeps its names whole (tests/serving/test_page_phone.py); nor is a protocol parted from
its comma (at 320 px a line began ", full-ranking"). Debian's headless Chromium through Playwright (never
``playwright install``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The tops of the lines that ``needle`` lies on in the text under ``selector`` (one per line), or null.
_LINES = """([selector, needle]) => {
  const root = document.querySelector(selector);
  const text = root.textContent;
  const at = text.indexOf(needle);
  if (at < 0) return null;
  const range = document.createRange();
  let seen = 0, started = false;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const end = seen + n.data.length;
    if (!started && at < end) { range.setStart(n, at - seen); started = true; }
    if (started && at + needle.length <= end) { range.setEnd(n, at + needle.length - seen); break; }
    seen = end;
  }
  return [...new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0)
    .map((r) => Math.round(r.top)))];
}"""


def test_header_names_are_never_cut(browser, report_dir: Path) -> None:  # type: ignore[no-untyped-def]
    meta = json.loads((report_dir / "results.json").read_text())["report"]
    dataset = meta["fingerprint"]["dataset"]
    protocols = meta["protocols_run"]
    assert "-" in dataset and "full-ranking" in protocols  # the names a hyphen could cut
    needles = [("header.top h1", dataset)]
    needles += [("header.top .meta", name) for name in protocols]
    needles += [("header.top .meta", name + ",") for name in protocols[:-1]]  # the comma stays with its name
    needles += [("header.top .meta", meta["created_at"])]
    page = browser.new_page(viewport={"width": 375, "height": 812}, device_scale_factor=1)
    page.goto((report_dir / "index.html").resolve().as_uri())
    cut: list[tuple[int, str, list[int]]] = []
    for width in range(280, 522, 4):
        page.set_viewport_size({"width": width, "height": 812})
        for selector, needle in needles:
            tops = page.evaluate(_LINES, [selector, needle])
            assert tops, (width, needle, page.locator(selector).inner_text())
            if len(tops) > 1:
                cut.append((width, needle, tops))
        assert page.evaluate("document.documentElement.scrollWidth") <= width, width
    page.close()
    assert not cut, cut[:8]
