"""``movierec spark train``'s summary in an 80-column terminal: every line of it fits.

The hold-out line was one line of 177 columns on the bundled data ('hold-out: rmse 0.9438, mae 0.7233
over 19,437 of 20,258 test ratings (the others have a user or movie not in training), predictions clipped
to 0.5..5 as the artifact serves them'), which the terminal broke mid-word. It is prose now, wrapped at
spaces to the terminal's width as export's result lines are (piped it stays one line, for grep). The real
CLI runs on ``local[2]`` on a pseudo-terminal 80 columns wide.
"""

from __future__ import annotations

from pathlib import Path

from rich.cells import cell_len
from sparkmarks import SPARK_JOB, small_ratings

from test_cli_display import _in_terminal

pytestmark = SPARK_JOB


def test_the_summary_fits_an_80_column_terminal(tmp_path: Path) -> None:
    ratings = small_ratings(tmp_path)
    args = ["spark", "train", "--ratings", str(ratings), "--out", "art", "--rank", "4", "--iterations", "2"]
    quiet = ["--conf", "spark.ui.enabled=false", "--conf", "spark.ui.showConsoleProgress=false"]
    text = _in_terminal([*args, "--master", "local[2]", *quiet], tmp_path)
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Spark ALS ("))
    end = next(i for i, line in enumerate(lines) if "movierec serve --artifact" in line)
    summary = lines[start : end + 1]
    assert any(line.startswith("hold-out: rmse") for line in summary), text
    assert all(cell_len(line) <= 80 for line in summary), [line for line in summary if cell_len(line) > 80]
    flowing = " ".join(" ".join(summary).split())
    assert "predictions clipped to" in flowing and "test ratings" in flowing, flowing
    assert (tmp_path / "art" / "manifest.json").is_file()
