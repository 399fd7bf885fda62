"""A piped compare's log reads in the order things happened: a model's last count of users scored is said
before the next model starts, not at the end of the run.

``movierec compare --models svd,knn-baseline,baseline ... | cat`` on ml-latest-small ended its log with
'[ 12.9s] svd · evaluating full-ranking · 595/595 users scored · 25/25' after baseline's lines, though svd
had finished scoring ten seconds before: LineProgress holds back a line within 3 s of the task's last one,
and printed the held-back ones only when the whole run ended, stamped then.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from movierec.progress import LineProgress


def _said(out: io.StringIO) -> list[str]:
    return [re.sub(r"^\[\s*[\d.]+s\] ", "", ln) for ln in out.getvalue().splitlines()]


def test_a_tasks_held_back_line_is_said_before_the_next_task_starts() -> None:
    out = io.StringIO()
    with LineProgress(Console(file=out, force_terminal=False, width=200)) as bars:
        first = bars.add_task("svd · evaluating full-ranking", total=None)
        bars.update(first, description="svd · evaluating full-ranking · 595/595 users scored")  # held back
        bars.add_task("baseline · fitting", total=None)
    assert _said(out) == [
        "svd · evaluating full-ranking",
        "svd · evaluating full-ranking · 595/595 users scored",
        "baseline · fitting",
    ]
    out = io.StringIO()  # a task started again (compare's next fold) says the other's held-back line first
    with LineProgress(Console(file=out, force_terminal=False, width=200)) as bars:
        a = bars.add_task("svd · fitting", total=None)
        b = bars.add_task("ease · evaluating full-ranking", total=None)
        bars.update(b, description="ease · evaluating full-ranking · 30/30 users scored")
        bars.reset(a, description="svd fold 2/2 · fitting")
    assert _said(out) == [
        "svd · fitting",
        "ease · evaluating full-ranking",
        "ease · evaluating full-ranking · 30/30 users scored",
        "svd fold 2/2 · fitting",
    ]


def test_a_piped_compares_lines_of_one_model_come_before_the_next_models(tmp_path: Path) -> None:
    """A real compare, piped: every line of popularity's (its last count of users scored among them) comes
    before ease's first. Its scoring takes well under the 3 s a held-back line waits, so the count is held
    back; on a machine slow enough to print it at once the order is the same."""
    from clihelp import run_process
    from datagen import make_ratings

    make_ratings().to_csv(tmp_path / "r.csv", index=False)
    done = run_process(
        "compare", "--ratings", str(tmp_path / "r.csv"), "--models", "popularity,ease",
        "--protocols", "full-ranking", env={"COLUMNS": "80", "MOVIEREC_PROGRESS_AFTER": None},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [re.sub(r"^\[\s*[\d.]+s\] ", "", ln) for ln in done.stderr.splitlines() if ln.startswith("[")]
    models = [ln.split(" · ", 1)[0] for ln in lines]
    assert "popularity" in models and "ease" in models, lines
    assert max(i for i, m in enumerate(models) if m == "popularity") < models.index("ease"), lines
    assert re.search(r"popularity · evaluating full-ranking · (\d+)/\1 users scored", "\n".join(lines)), lines
