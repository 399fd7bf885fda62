"""The report's "new users" section on planted demographic data: numbers, and the HTML it renders."""

from __future__ import annotations

import jinja2

from datagen import planted_demographics
from movierec.viz.report import _fmt
from movierec.viz.report_new_users import new_users_section


def test_new_users_section_and_its_html() -> None:
    notes: list[str] = []
    section = new_users_section(planted_demographics(), k=10, threshold=4.0, seed=1, notes=notes)
    assert section is not None and not notes
    models = [r["model"] for r in section["rows"]]
    assert models == ["popularity", "segment-popularity+demographics", "warp+demographics"]
    assert section["levels"] == [0, 1, 5, 10]
    assert section["best"][0] != "popularity"  # the planted segments make demographics decisive
    env = jinja2.Environment(loader=jinja2.PackageLoader("movierec.viz", "templates"), autoescape=True)
    env.filters["num"] = _fmt
    html = env.get_template("new_users.html.j2").render(new_users=section, meta={"threshold": 4.0})
    assert (
        'id="new-users"' in html
        and "NDCG@10, 0 revealed" in html
        and "segment-popularity+demographics" in html
    )
    assert "vs popularity with no ratings" in html


def test_no_section_without_demographics(bundled) -> None:  # type: ignore[no-untyped-def]
    assert new_users_section(bundled, k=10, threshold=4.0, seed=1, notes=[]) is None
