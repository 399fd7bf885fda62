"""``tune split="ml100k-u1"`` / ``movierec tune --split NAME``: tuning on a canonical split's training part.

Issue 19 asks for "on u1.base/u1.test: every hyperparameter chosen on u1.base alone". The study's folds are
cut from u1.base, u1.test is read only for the one test score after the last trial, the study records the
split, and best.toml's ``[split] kind`` makes ``compare --config`` rerun the same split and score.
The refusals need no data; the runs need ml-100k (skipped, saying so, where it is not found)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import optuna
import pytest

from clihelp import one_error_line, run_process
from datagen import ml100k_path
from movierec.datasets import Dataset
from movierec.errors import ConfigError
from movierec.split import CanonicalSplit
from movierec.tuning import tune
from test_tuning import RecordingInteractions


def test_python_split_is_tuned_on_its_training_part_and_reads_its_test_part_last(
    ml100k: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The split tune draws is the real one (u1.base: 80,000 ratings, u1.test: the first 20,000 rows); its
    test part, wrapped to log every read, is not touched before the last trial finished, and the study
    records the split, not a test_size. Another split on the same stored study is refused by name."""
    drawn: list[Any] = []
    real = CanonicalSplit.holdout

    def spied(self: CanonicalSplit, inter: Any) -> Any:  # the real split, its test part instrumented
        train, test = real(self, inter)
        drawn.append((train, RecordingInteractions(test)))
        return drawn[-1]

    monkeypatch.setattr(CanonicalSplit, "holdout", spied)
    url = f"sqlite:///{tmp_path / 's.db'}"
    res = tune(ml100k, "baseline", split="ML100K-U1 ", n_trials=3, cv=2, storage=url, study_name="u1", seed=3)
    ((train, spy),) = drawn
    assert train.n_ratings == 80_000 and spy.n_ratings == 20_000
    last_done = max(t.datetime_complete for t in optuna.load_study(study_name="u1", storage=url).trials)
    reads = [when for _, when in spy.reads]
    assert res.test_score is not None and reads and min(reads) >= last_done
    assert res.settings["split"] == "ml100k-u1" and res.settings["test_size"] is None
    with pytest.raises(ConfigError, match=r"exists with split 'ml100k-u1', not 'ml100k-u2'"):
        tune(ml100k, "baseline", split="ml100k-u2", n_trials=1, cv=2, storage=url, study_name="u1", seed=3)


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        (
            {"split": "u1"},
            "unknown split 'u1' (did you mean 'ml100k-u1'?); tune takes ml100k-u1 … ml100k-u5, ml100k-ua, ",
        ),
        ({"split": "per-user"}, "tune's split is a canonical one (ml100k-u1 … ml100k-u5, "),
        ({"split": "ml100k-u1", "test_size": 0.1}, "split= and test_size= exclude each other: "),
    ],
)
def test_python_split_refusals_are_one_line_before_any_data(kwargs: dict[str, Any], said: str) -> None:
    with pytest.raises(ConfigError) as err:
        tune("no/such/folder", "baseline", n_trials=1, **kwargs)  # refused before the folder is looked at
    assert str(err.value).startswith(said)
    assert "per-user" not in kwargs.values() or str(err.value).endswith(
        "not per-user: test_size= draws a random hold-out"
    )


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (
            ["--split", "u1"],
            "unknown split 'u1' (did you mean 'ml100k-u1'?); tune takes ml100k-u1 … ml100k-u5, ml100k-ua, ",
        ),
        (["--split", "temporal"], "tune's split is a canonical one (ml100k-u1 … ml100k-u5, "),
        (["--split", "ml100k-u1", "--test-size", "0.1"], "--split and --test-size exclude each other: "),
        (
            ["--split", "ml100k-u1", "--train", "a.csv", "--test", "b.csv"],
            "--split and --train/--test exclude",
        ),
        (["--split", "ml100k-u1", "--outer-folds", "3"], "--outer-folds with --split: the outer folds are"),
    ],
)
def test_cli_split_refusals(extra: list[str], said: str, tmp_path: Path) -> None:
    line = one_error_line(run_process("tune", "-m", "baseline", "--trials", "1", *extra, cwd=tmp_path))
    assert line.startswith(said), line
    assert extra[1] != "temporal" or "not temporal: --test-size draws a random hold-out" in line, line


def test_cli_split_writes_a_best_toml_that_compare_reruns_on_the_same_split(tmp_path: Path) -> None:
    """``tune --split ml100k-u1``: 80,000 training ratings cut into the folds; best.toml's [split] is
    ``kind = "ml100k-u1"`` alone (no test_size: u1.test is the test part), and ``compare --config`` on it
    scores the test RMSE tune reported, on the u1 split."""
    data = ml100k_path()
    if data is None:
        pytest.skip("ml-100k not found in ../shared/data or $MOVIEREC_DATA (its terms forbid bundling it)")
    proc = run_process("tune", "-m", "baseline", "--dataset", str(data), "--split", "ml100k-u1", "--trials", "2",
                       "--cv", "2", "--out", "tuned", "--json", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["settings"]["split"] == "ml100k-u1" and result["settings"]["test_size"] is None
    best = tomllib.loads((tmp_path / "tuned" / "best.toml").read_text())
    assert best["split"] == {"kind": "ml100k-u1"}
    name = best["dataset"]["name"]  # the folder, or its cache name where $MOVIEREC_DATA holds it
    assert name == "ml-100k" or Path(name).resolve() == data.resolve(), name
    proc = run_process("compare", "--config", "tuned/best.toml", "--out", "runs", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert row["rmse"] == pytest.approx(result["test_score"], abs=1e-12)
    assert row["split"].startswith("ml100k-u1")
    figures = json.loads((tmp_path / "tuned" / "ranking_check.json").read_text())["figures"]
    assert figures["n_test"] == 20_000 and figures["rmse"] == pytest.approx(row["rmse"], abs=1e-12)  # on u1
    # named as the split tuned on: it said "ratings-holdout" for any given split
    assert figures["split"] == "ml100k-u1"
