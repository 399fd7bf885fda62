"""A list, an export or a notebook's fit from a model its time budget stopped says so (stopping.time_budget_note).

``recommend --user 1 --model sasrec`` on a busy machine (load 7) trained 4 of its 200 epochs in the 180 s
budget (validation NDCG@10 0.017) and printed the list with only 'done in 187.6 s' on stderr; compare already
notes such a stop beside its figures (test_cli_progress). A tiny sasrec whose budget (1e-6 s, shorter than any
epoch) ends it after its first epoch stands in for the busy machine here; the same run without a budget
gets no note.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

pytest.importorskip("torch")

#: a network small enough for a few seconds' epoch on the suite's generated ratings
TINY = "hidden=16,max_len=10,n_blocks=1,batch_size=64,n_threads=1,epochs=5"

CLI_NOTE = (
    "note: sasrec stopped at its 1e-06 s time budget after 1 of 5 epochs, before it converged, so its "
    "lists may be weak; give it more time: --params time_budget=SECONDS"
)


@pytest.fixture(scope="module")
def ratings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from datagen import make_ratings

    path = tmp_path_factory.mktemp("budget") / "r.csv"
    make_ratings().to_csv(path, index=False)
    return path


def _said(*args: str) -> str:
    from clihelp import run_process

    done = run_process(*args, env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    return " ".join(done.stderr.split())  # the note's words, whatever the 80 columns' line breaks


def test_recommend_says_the_clock_ended_its_models_training(ratings: Path) -> None:
    said = _said(
        "recommend", "--ratings", str(ratings), "--user", "1", "-m", "sasrec", "-k", "3",
        "--params", f"{TINY},time_budget=1e-6",
    )  # fmt: skip
    assert CLI_NOTE in said, said
    unbounded = _said(
        "recommend", "--ratings", str(ratings), "--user", "1", "-m", "sasrec", "-k", "3",
        "--params", f"{TINY},epochs=1,time_budget=null",
    )  # fmt: skip
    assert "stopped at its" not in unbounded, unbounded


def test_export_says_the_clock_ended_its_models_training(ratings: Path, tmp_path: Path) -> None:
    said = _said(
        "export", "--ratings", str(ratings), "-m", "sasrec", "--no-check", "--out", str(tmp_path / "s"),
        "--params", f"{TINY},time_budget=1e-6",
    )  # fmt: skip
    assert CLI_NOTE in said, said


def test_a_notebooks_fit_warns_in_pythons_words(ratings: Path) -> None:
    import pandas as pd

    import movierec

    ds = movierec.load(pd.read_csv(ratings))
    params = {k: int(v) for k, v in (kv.split("=") for kv in TINY.split(","))}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = movierec.Recommender(ds, "sasrec", **params, time_budget=1e-6).fit()
    said = [str(w.message) for w in caught if "time budget" in str(w.message)]
    assert said == [
        "sasrec stopped at its 1e-06 s time budget after 1 of 5 epochs, before it converged, so its lists may "
        "be weak; give it more time: Recommender(ds, 'sasrec', time_budget=SECONDS)"
    ], [str(w.message) for w in caught]
    assert rec.model.stop_reason_ == "time budget" and len(rec.model.history_) == 1
