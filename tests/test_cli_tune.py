"""``movierec tune`` as a newcomer reads it: what it writes is what docs/tuning.md says it writes."""

from __future__ import annotations

import re
from pathlib import Path

from clihelp import run_process

DOCS = Path(__file__).resolve().parents[1] / "docs" / "tuning.md"


def test_every_file_tune_writes_is_in_the_docs_table(tmp_path: Path) -> None:
    """docs/tuning.md's 'Output folder' table is where a reader looks up a file: ``ranking_check.json``,
    which a rating-metric study writes beside best.json (and its summary names), was missing from it."""
    proc = run_process(
        "tune", "-m", "svd", "--params", "factors=4,epochs=2", "--trials", "1", "--cv", "1", "--out", "t",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert "ranking_check.json" in written and "best.toml" in written, written
    text = DOCS.read_text(encoding="utf-8")
    table = text[text.index("Output folder (`--out`") :]
    table = table[: table.index("\n\n", table.index("| file | what |"))]
    documented = set(re.findall(r"`([\w.]+\.\w+)`", table))
    assert set(written) <= documented, sorted(set(written) - documented)
