"""docs/serving.md states the feedback schema version the store writes; it said "now 2" after schema 3 (the
model's name per row) shipped, so an engineer checking ``SELECT version FROM movierec_schema`` read 3
against the docs' 2 and wondered which movierec wrote the database."""

from __future__ import annotations

import re
from pathlib import Path

from movierec.serving.store import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]


def test_the_documented_schema_version_is_the_one_the_store_writes() -> None:
    text = (ROOT / "docs/serving.md").read_text(encoding="utf-8")
    stated = re.findall(r"holds the version\s+this movierec wrote \(now (\d+)\)", text)
    assert stated == [str(SCHEMA_VERSION)], stated
