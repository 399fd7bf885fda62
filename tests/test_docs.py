"""The documentation site builds with ``mkdocs build --strict`` (no broken links, no docstring warnings)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mkdocs_builds_strict_with_api_reference_zoo_and_tutorials(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("mkdocs_jupyter")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    api = (site / "api" / "index.html").read_text()
    assert "Recommender" in api and "recommend" in api and "check_indices" in api
    zoo = (site / "models" / "index.html").read_text()
    from movierec.models.registry import MODELS

    for name in MODELS:
        assert f"<code>{name}</code>" in zoo, name
    assert "Koren" in zoo and "factors=80" in zoo
    for nb in ("01_tutorial", "02_tuning", "03_serving"):
        assert (site / "tutorials" / nb / "index.html").is_file(), nb
    # the tutorials run as the site builds: their pages show what each cell printed, not bare code, and
    # the figures as HTML that loads plotly.js (a kernel's plotly JSON left an empty space there)
    tutorial = (site / "tutorials" / "01_tutorial" / "index.html").read_text()
    assert "Toy Story 2 (1999)" in tutorial and "fitted in " in tutorial
    assert "cdn.plot.ly/plotly-" in tutorial
    assert "trial 4/4 complete" in (site / "tutorials" / "02_tuning" / "index.html").read_text()
    assert "full-ranking" in (site / "protocols" / "index.html").read_text()
