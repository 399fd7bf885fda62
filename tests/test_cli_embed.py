"""``movierec embed`` read where it runs: its closing line within 80 columns, its long steps shown in a log."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clihelp import run_process


def test_embed_says_where_its_map_is_within_80_columns(tmp_path: Path) -> None:
    """'map written to PATH (500 items, projection 3.3 s); beside it: …' was printed through rich's own wrap,
    so piped each wrapped line but the last ended in a space. A quick fit and projection print no step
    line: only the closing sentence, on stderr, its path whole (it can be copied from a log)."""
    proc = run_process(
        "embed", "-m", "als", "--params", "factors=8,iterations=2", "--projection", "pca", "--sample", "50",
        "--out", "emb", cwd=tmp_path, env={"COLUMNS": "80"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    # a path wider than the line (pytest's tmp folders under xdist) stays whole on a line of its own
    assert lines and all((len(ln) <= 80 or " " not in ln) and ln == ln.rstrip() for ln in lines), lines
    text = " ".join(lines)
    assert re.search(r"map written to .*/emb/map\.html \(50 items, projection \d+\.\d s\); beside it:", text)
    assert "embeddings.csv, map.png, neighbours.json, results.json" in text, text
    assert (tmp_path / "emb" / "map.html").is_file()


@pytest.mark.slow
def test_embed_piped_shows_a_long_fit_as_lines(tmp_path: Path) -> None:
    """Piped (a log, ``| tee``), embed's steps were rich spinners, which draw nothing there: a fit of minutes
    (sasrec, a large dataset) printed not a line until the map was written. A step running past 3 s now
    prints a stamped line and how long it took, both steps stamped from one clock. ``MOVIEREC_PROGRESS_AFTER=0``
    prints every step however quick (a 0.2 s threshold once stood in for it here, and a fit of about a second
    on a calm machine could beat it); the lines printed are the real ones (``LineStatus``'s own timing is
    tested in test_cli_progress)."""
    proc = run_process(
        "embed", "-m", "bpr", "--params", "epochs=100", "--projection", "pca", "--sample", "50",
        "--out", "emb", cwd=tmp_path, env={"COLUMNS": "80", "MOVIEREC_PROGRESS_AFTER": "0"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if not re.match(r"\[ +\d+\.\ds\] loading ", ln)]
    assert re.fullmatch(r"\[ +\d+\.\ds\] fitting bpr on ml-latest-small …", lines[0]), lines
    assert re.fullmatch(r"\[ +\d+\.\ds\] fitting bpr on ml-latest-small: done in \d+\.\d s", lines[1]), lines
    assert any(ln.startswith("map written to") for ln in lines[2:]), lines


@pytest.mark.parametrize("command", ["embed", "report"])
def test_a_misspelt_projection_is_answered_with_the_closest_one(command: str, tmp_path: Path) -> None:
    """'--projection tnse' listed 'choose one of tsne, umap, pca' and left the swapped letters to the reader;
    the closest name comes first now, in one line, before any data is read or a folder made."""
    proc = run_process(command, "--projection", "tnse", "--out", "o", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        "movierec: error: --projection 'tnse': did you mean 'tsne'? choose one of tsne, umap, pca"
    )
    assert not (tmp_path / "o").exists()
