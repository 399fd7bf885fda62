"""Tests for movierec.tuning and ``movierec tune``: tiny real studies on in-code data, real SQLite files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

optuna = pytest.importorskip("optuna")

from clihelp import run_process  # noqa: E402
from datagen import make_ratings  # noqa: E402
from movierec.errors import ConfigError  # noqa: E402
from movierec.experiment import load_experiment  # noqa: E402
from movierec.interactions import Interactions  # noqa: E402
from movierec.models.base import ExplicitRecommender  # noqa: E402
from movierec.models.registry import MODELS  # noqa: E402
from movierec.split import ratings_holdout  # noqa: E402
from movierec.tuning import (  # noqa: E402
    PRUNE_MIN_DELTA,
    PRUNE_PATIENCE,
    FloatRange,
    IntRange,
    parse_metric,
    resolve_space,
    tune,
    validation_folds,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def small() -> Interactions:
    """120 users × 80 items, ~30% dense: big enough for 2-fold CV, small enough for sub-second fits."""
    return Interactions.from_frame(make_ratings(120, 80, 0.3, seed=3), rating_scale=(0.5, 5.0))


# --- an iterative model that can be scored mid-fit (registered for the per-epoch pruning test) ---


class GradientBiases(ExplicitRecommender):
    """μ + b_u + b_i fitted by full-batch gradient steps: a tiny iterative model for the pruning test."""

    name: ClassVar[str] = "test-gradient-biases"
    search_space: ClassVar[dict] = {("lr",): FloatRange(1e-4, 1.0, log=True), ("n_epochs",): IntRange(10, 12)}

    def __init__(self, lr: float = 0.1, n_epochs: int = 10) -> None:
        self.lr = lr
        self.n_epochs = n_epochs

    def fit(
        self,
        train: Interactions,
        *,
        item_features: Any = None,
        user_features: Any = None,
        on_epoch: Any = None,
    ):
        self._remember_train(train)
        self.global_mean_ = train.global_mean
        self.user_bias_ = np.zeros(train.n_users)
        self.item_bias_ = np.zeros(train.n_items)
        nu = np.maximum(train.user_counts(), 1)
        ni = np.maximum(train.item_counts(), 1)
        self.history_ = []
        for epoch in range(1, self.n_epochs + 1):
            err = train.ratings - (
                self.global_mean_ + self.user_bias_[train.users] + self.item_bias_[train.items]
            )
            self.user_bias_ += self.lr * np.bincount(train.users, err, train.n_users) / nu
            self.item_bias_ += self.lr * np.bincount(train.items, err, train.n_items) / ni
            self.history_.append({"epoch": epoch, "loss": float(np.mean(err**2))})
            if on_epoch is not None and on_epoch(epoch, dict(self.history_[-1])) is False:
                break
        return self

    def predict(self, users: np.ndarray, items: np.ndarray, *, clip: bool = True) -> np.ndarray:
        est = self.global_mean_ + self.user_bias_[users] + self.item_bias_[items]
        return self._clip(est) if clip else est


@pytest.fixture
def gradient_model(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(MODELS, "test-gradient-biases", ("test_tuning", "GradientBiases", None))
    return "test-gradient-biases"


# --- metric and space checks -----------------------------------------------------------------------


def test_parse_metric_directions_and_kind_checks() -> None:
    assert parse_metric("RMSE").direction == "minimize"
    assert parse_metric("mse").direction == "minimize" and parse_metric("FCP").direction == "maximize"
    assert parse_metric("fcp").kind == "rating" and parse_metric("fcp").result_key == "fcp"
    m = parse_metric("ndcg@10")
    assert (m.name, m.k, m.direction, m.label) == ("ndcg", 10, "maximize", "ndcg@10")
    assert parse_metric("recall").k == 10
    with pytest.raises(ConfigError, match="implicit"):
        parse_metric("rmse", model_kind="implicit")
    auc = parse_metric("AUC")  # LightFM's auc_score: the whole ranking, no cut-off, higher is better
    assert (auc.name, auc.kind, auc.direction, auc.label, auc.result_key) == (
        "auc", "ranking", "maximize", "auc", "auc",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="takes no cut-off"):
        parse_metric("auc@10")
    with pytest.raises(ConfigError, match=r"unknown metric 'roc'.*ndcg@K.*mrr, auc"):
        parse_metric("roc")
    with pytest.raises(ConfigError, match="cut-off"):
        parse_metric("rmse@10")


def test_spaces_follow_the_model_constructor_names() -> None:
    assert set(resolve_space("ease")) == {
        "l2",
        "popularity_exponent",
        "user_exponent",
        "time_weight",  # acts with a time_window fixed > 0 (the window itself is off by default)
        "feature_weight",  # acts with item features (tune drops it without them)
    }  # the EASE module calls λ ``l2``
    svd = resolve_space("svd")
    assert set(svd) == {"factors", "epochs", "learning_rate", "regularization"}  # one name across models
    assert svd["factors"].low == 8 and svd["factors"].high == 256 and svd["factors"].log
    assert "shrink" in resolve_space("itemknn")
    with pytest.raises(ConfigError, match="no search space"):
        resolve_space("popularity")


def test_validation_folds_partition_the_training_ratings(small: Interactions) -> None:
    folds = validation_folds(small, 3, seed=1)
    assert len(folds) == 3
    keys = lambda x: set(zip(x.users.tolist(), x.items.tolist(), strict=True))  # noqa: E731
    all_keys = keys(small)
    valid_union = set()
    for fit, valid in folds:
        assert keys(fit) | keys(valid) == all_keys
        assert not keys(fit) & keys(valid)
        valid_union |= keys(valid)
    assert valid_union == all_keys
    ((fit, valid),) = validation_folds(small, 1, seed=1)
    assert len(valid) == int(np.ceil(0.2 * len(small)))


# --- studies ----------------------------------------------------------------------------------------


def test_tiny_study_end_to_end(small: Interactions, tmp_path: Path) -> None:
    out = tmp_path / "out"
    url = f"sqlite:///{tmp_path / 'study.db'}"
    events: list[dict] = []
    res = tune(
        small,
        "baseline",
        metric="rmse",
        n_trials=4,
        cv=2,
        storage=url,
        study_name="e2e",
        seed=3,
        out=out,
        progress=events.append,
    )
    assert res.n_trials == 4 and res.n_complete + res.n_pruned == 4 and res.n_complete >= 3
    assert [e["done"] for e in events] == [1, 2, 3, 4]
    table = pd.read_csv(out / "trials.csv")
    assert len(table) == 4 and set(table["state"]) <= {"complete", "pruned"}
    assert list(table.columns[:2]) == ["trial", "number"] and list(table["trial"]) == [
        1,
        2,
        3,
        4,
    ]  # docs/tuning.md
    assert list(table["number"]) == [
        t.number for t in optuna.load_study(study_name="e2e", storage=url).trials
    ]
    assert res.best_value == pytest.approx(table.loc[table["state"] == "complete", "value"].min())
    assert res.test_score is not None and 0.0 < res.test_score < 2.5
    assert set(res.best_params) == {"reg_i", "reg_u", "epochs"}
    for name in ("history.png", "importance.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("history.html", "importance.html"):
        assert "plotly" in (out / name).read_text()
    assert (out / "plotly.min.js").is_file()  # offline: the HTML charts need no network
    summary = json.loads((out / "best.json").read_text())
    assert summary["best_params"] == pytest.approx(res.best_params) and summary[
        "test_score"
    ] == pytest.approx(res.test_score)
    assert summary["provenance"]["git_commit"] and "optuna" in summary["provenance"]["packages"]
    # best.toml is an experiment file that compare/report/export accept with --config
    exp = load_experiment(out / "best.toml")
    assert (out / "best.toml").read_text().startswith("# the data was given in memory")  # Interactions
    assert exp.models[0].name == "baseline"
    assert exp.models[0].params == pytest.approx(res.best_params)
    assert exp.protocols == ["rating"] and exp.seed == 3 and exp.split.test_size == 0.2


def test_a_studys_repr_says_what_tuning_gained_and_where_its_files_are(
    small: Interactions, tmp_path: Path
) -> None:
    """``movierec.tune(ds, "svd", n_trials=5, out="runs/tune-svd")`` printed the best value alone ('best rmse
    0.8830 on validation'), where ``movierec tune`` says the defaults' value on the same folds too (0.8856):
    a notebook could not tell what five trials gained; and it named no file, where the CLI lists them and
    ends 'next: movierec compare --config …/best.toml'. A real study (svd's defaults are its first
    trial), then a study whose best is not the defaults, as its fields would hold it."""
    from movierec.tuning import TuneResult

    res = tune(small, "svd", metric="rmse", n_trials=2, cv=2, seed=3, out=tmp_path / "svd")
    assert res.defaults_value is not None and res.files, res
    lines = repr(res).splitlines()
    best = f"best trial {res.best_trial + 1} of 2 (Optuna's #{res.best_trial})"  # type: ignore[operator]
    (trial,) = [line for line in lines if best in line]
    said = ": the model's defaults" if res.defaults_value == res.best_value else "; the defaults: "
    assert said in trial, lines
    folder = tmp_path / "svd"  # a path is never cut, however long (xdist's tmp_path wrapped it mid-word)
    assert lines[-2:] == [
        f"  files in {folder} (.files)",
        f"  next: movierec compare --config {folder}/best.toml",
    ]
    tuned = TuneResult(
        "svd-rmse", "memory", "svd", "rmse", "minimize", {"factors": 215}, 0.88303, 3, 5, 5, 0,
        test_score=0.8828, defaults_value=0.88557,
    )  # fmt: skip
    shown = repr(tuned).splitlines()
    assert shown[2] == "  best trial 4 of 5 (Optuna's #3); the defaults: 0.8856", shown
    assert shown[-1].startswith("  best_params {factors=215")  # no files: none written


def test_a_study_shows_itself_in_a_notebook(small: Interactions) -> None:
    """A short repr with the best value and the test score (it was the dataclass's 600-character dump, then
    one line of about 195 characters; now lines within 80 columns, as NestedTuneResult's), an HTML card,
    every trial as a frame and the search as a chart."""
    res = tune(small, "baseline", metric="rmse", n_trials=4, cv=2, seed=3)
    text = repr(res)
    lines = text.splitlines()
    head = f"TuneResult('baseline' for rmse: 4 trials, {res.n_complete} complete, {res.n_pruned} pruned)"
    assert lines[0] == head and res.n_complete + res.n_pruned == 4, lines
    assert lines[-1].startswith("  best_params {reg_i=") and max(len(line) for line in lines) <= 80, text
    assert f"best rmse {res.best_value:.4f} on validation, test {res.test_score:.4f}" in text
    assert "lower is better" in text and f"of {res.n_trials}" in text
    # counted from 1, as the progress lines count ('trial 1/4 complete'), with Optuna's own number beside it
    assert f"trial {res.best_trial + 1} of {res.n_trials} (Optuna's #{res.best_trial})" in text, text
    frame = res.to_frame()
    assert len(frame) == res.n_trials and {"number", "state", "value", "params_reg_i"} <= set(frame.columns)
    # its rows count trials from 1 as the lines above do (it showed Optuna's 0…3 alone beside 'trial 1 of
    # 4'); Optuna's number stays beside it, unchanged, to join Optuna's own frames
    assert list(frame.columns[:3]) == ["trial", "number", "state"], list(frame.columns)
    assert list(frame["trial"]) == [1, 2, 3, 4] and list(frame["number"]) == [0, 1, 2, 3]
    assert frame.loc[frame["state"] == "complete", "value"].min() == pytest.approx(res.best_value)
    page = res._repr_html_()
    assert "<table" in page and "reg_i" in page and "Tuning baseline for rmse" in page
    # the card says what the repr says, a sentence a paragraph (it ran '… (Optuna's #0) (4 complete, 0
    # pruned)' together), and names the validation as the progress line does, not 'cv 2'
    from html import escape

    said = re.findall(r'<p class="mr-note">([^<]*)</p>', page)
    lines = [escape(line.strip()) for line in text.splitlines()[1:3]]
    assert said[:3] == [*lines, f"4 trials: {res.n_complete} complete, {res.n_pruned} pruned"], said
    assert "· 2 inner folds ·" in said[-1] and "cv 2" not in page, said
    assert "trials" not in res.to_dict()  # the JSON summary keeps its shape
    pytest.importorskip("plotly")
    fig = res.plot()
    best = next(t for t in fig.data if t.name == "best so far")
    assert list(best.y) == list(frame.loc[frame["state"] == "complete", "value"].cummin())
    # the axis counts trials as the repr does (from 1), in whole steps: it read Optuna's 0…3 with ticks at
    # 0.5, 1.5 and 2.5, so the repr's 'trial 1 of 4' was the chart's trial 0; the hover gives Optuna's number
    done = frame.loc[frame["state"] == "complete", "number"]
    assert list(best.x) == list(done + 1) and list(best.customdata) == list(done)
    assert fig.layout.xaxis.dtick == 1 and "Optuna's #%{customdata}" in best.hovertemplate
    # the CLI's history.png, beside that chart's history.html, counts them alike (it read 0 … 48 for 50 trials)
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from movierec.tuning import _history_figure

    png = _history_figure(frame, res, "t")
    try:
        (dots,) = [c for c in png.axes[0].collections if c.get_label() == "complete trial"]
        assert list(dots.get_offsets()[:, 0]) == list(done + 1)
    finally:
        plt.close(png)


def test_progress_is_a_switch_as_in_compare(
    small: Interactions, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tune(progress=False)`` was a TypeError ('bool' object is not callable) after the first trial;
    ``compare`` takes ``progress=False``, so a notebook passes it to both. ``True``: a line when the study
    starts, one per trial (n/N, value, best so far, seconds) and one for the test refit."""
    tune(small, "baseline", metric="rmse", n_trials=2, cv=2, seed=3, progress=False)
    assert capsys.readouterr().err == ""
    res = tune(small, "baseline", metric="rmse", n_trials=2, cv=2, seed=3, progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("tuning baseline for rmse: 2 trials, 2 inner folds of ")
    assert re.fullmatch(r"trial 1/2 complete: \d\.\d{4} \(best \d\.\d{4}\), \d+\.\d s", lines[1])
    assert lines[2].startswith("trial 2/2 complete: ")
    assert f"(best {res.best_value:.4f}), " in lines[2] and lines[2].endswith(" s")
    assert lines[3].startswith(
        f"test rmse of the best parameters, refit on the training split: {res.test_score:.4f} ("
    )
    # with one validation split the start line ran to 87 columns at a terminal of 80: it wraps at a space,
    # in lines of a length (greedily it left 'ratings' alone on the second line: 02_tuning's first cell)
    monkeypatch.setenv("COLUMNS", "80")
    tune(small, "baseline", metric="rmse", n_trials=1, cv=1, seed=3, progress=True)
    said = capsys.readouterr().err.splitlines()
    assert max(len(line) for line in said) <= 80, said
    start = f"tuning baseline for rmse: 1 trial, one 20% validation split of {int(0.8 * small.n_ratings):,}"
    assert " ".join(said[:2]) == f"{start} training ratings" and len(" ".join(said[:2])) > 80, said
    assert " " in said[1] and abs(len(said[0]) - len(said[1])) <= 10, said  # no word left alone


def test_prose_lines_balanced_leaves_no_word_alone() -> None:
    """``prose_lines(..., balanced=True)`` (tune's start line): the lines greedy wrapping makes, in as many
    lines of a length; a paragraph whose last line holds several words, or that fits, is as before."""
    from movierec.progress import prose_lines

    text = "tuning baseline for rmse: 4 trials, one 20% validation split of 80,668 training ratings"
    assert prose_lines(text, 80)[1] == "ratings"  # greedy: the word alone
    assert prose_lines(text, 80, balanced=True) == [
        "tuning baseline for rmse: 4 trials, one 20%",
        "validation split of 80,668 training ratings",
    ]
    assert prose_lines(text, 100, balanced=True) == [text]
    several = "one two three four five six seven eight nine ten eleven twelve"
    assert prose_lines(several, 50, balanced=True) == prose_lines(several, 50)
    path = "see /" + "x" * 90  # a word wider than the line stays whole, on its own line
    assert prose_lines(path, 80, balanced=True) == ["see", "/" + "x" * 90]


class _Terminal(io.StringIO):
    """stderr as a terminal: where ``compare`` prints its lines by default."""

    def isatty(self) -> bool:
        return True


def test_progress_is_on_by_default_where_a_person_watches(
    small: Interactions, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``tune(ds, "svd")`` printed nothing for 80 s on a terminal; by default it now prints compare's way:
    lines on a terminal (or in a Jupyter kernel), nothing in a script or under pytest."""
    fixed = {"epochs": 3}  # svd, a real iterative model, kept quick
    tune(small, "svd", n_trials=2, cv=2, seed=3, fixed_params=fixed)
    assert capsys.readouterr().err == ""  # stderr is not a terminal here: quiet, as compare is
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    res = tune(small, "svd", n_trials=3, cv=2, seed=3, fixed_params=fixed)
    lines = terminal.getvalue().splitlines()
    assert lines[0].startswith("tuning svd for rmse: 3 trials, 2 inner folds of ")
    trials = [line for line in lines if line.startswith("trial ")]
    assert [line.split(" ")[1] for line in trials] == ["1/3", "2/3", "3/3"]
    assert f"(best {res.best_value:.4f})" in trials[-1]
    assert lines[-1].startswith("test rmse of the best parameters")
    terminal.seek(0)
    terminal.truncate()
    tune(small, "svd", n_trials=2, cv=2, seed=3, fixed_params=fixed, progress=False)
    assert terminal.getvalue() == ""  # False is silent even on a terminal
    seen: list[dict[str, Any]] = []
    tune(small, "svd", n_trials=2, cv=2, seed=3, fixed_params=fixed, progress=seen.append)
    assert terminal.getvalue() == "" and [e["done"] for e in seen] == [1, 2]  # a callable instead of lines
    assert seen[1]["elapsed"] >= seen[0]["elapsed"] > 0
    with pytest.raises(ConfigError, match="progress must be True, False, None"):
        tune(small, "svd", n_trials=2, progress="yes")


def test_a_list_of_models_says_tune_takes_one(small: Interactions) -> None:
    """tune(ds, ["svd"]) failed with "AttributeError: 'list' object has no attribute 'strip'"."""
    with pytest.raises(ConfigError) as err:
        tune(small, ["baseline"], metric="rmse", n_trials=1)
    assert str(err.value) == (
        "tune() tunes one model, given by its name ('svd'), got ['baseline']; tune each in turn, or "
        "compare(ds, models) to score several side by side"
    )


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"trials": 2}, "tune() has no keyword 'trials' (did you mean 'n_trials'?); valid: metric, n_trials, cv"),
        ({"study": "x"}, "tune() has no keyword 'study' (did you mean 'study_name'?); valid: "),
        ({"params": {"epochs": 5}}, "tune() has no keyword 'params': hyperparameters held fixed in every "
         "trial go in fixed_params={...} (the CLI's --params); valid: "),
        ({"search_space": {}}, "tune() has no keyword 'search_space': each model declares its own "
         "(movierec.tuning.resolve_space(model) shows it)"),
        ({"factors": 10}, "tune() has no keyword 'factors': a hyperparameter of svd; hold it fixed with "
         "fixed_params={'factors': 10}; valid: "),
        ({"has_holdout": True}, "tune() has no keyword 'has_holdout' (did you mean 'holdout'?)"),
    ],
)  # fmt: skip
def test_an_unknown_keyword_is_one_line_naming_the_likely_one(given: dict[str, Any], says: str) -> None:
    """``tune(ds, "svd", trials=2)`` was Python's "check_request() got an unexpected keyword argument
    'trials'", naming a function the caller never called; now it is a ConfigError as a model's unknown
    hyperparameter is, before any data is read (the dataset here does not exist)."""
    with pytest.raises(ConfigError) as err:
        tune("no-such-dataset", "svd", **given)
    message = str(err.value)
    assert message.startswith(says) and "\n" not in message
    assert message.endswith(
        "fixed_params, worker, user_features, on_start, force"
    )  # every valid name, tune's own included


def test_ranking_study_for_an_implicit_model(small: Interactions, tmp_path: Path) -> None:
    res = tune(small, "ease", metric="ndcg@5", n_trials=3, cv=2, seed=0, out=tmp_path)
    assert res.direction == "maximize" and 0.0 < res.best_value <= 1.0
    exp = load_experiment(tmp_path / "best.toml")
    assert exp.protocols == ["full-ranking"] and exp.k == 5


class RecordingInteractions(Interactions):
    """The test split, instrumented: once armed, every attribute read is logged with the time."""

    def __init__(self, inner: Interactions) -> None:
        super().__init__(
            inner.users,
            inner.items,
            inner.ratings,
            inner.user_map,
            inner.item_map,
            inner.timestamps,
            inner.rating_scale,
        )
        self.__dict__["reads"] = []
        self.__dict__["armed"] = True

    def __getattribute__(self, name: str) -> Any:
        d = object.__getattribute__(self, "__dict__")
        if d.get("armed") and not name.startswith("__") and name not in ("reads", "armed"):
            d["reads"].append((name, dt.datetime.now()))
        return object.__getattribute__(self, name)


def test_test_split_is_never_read_during_tuning(small: Interactions) -> None:
    train, test = ratings_holdout(small, 0.2, seed=5)
    spy = RecordingInteractions(test)
    res = tune(None, "baseline", metric="rmse", n_trials=3, cv=2, holdout=(train, spy), evaluate_test=False)
    assert res.n_complete == 3
    assert spy.reads == []  # not one attribute of the test split was touched by the study

    res = tune(
        None, "svd", metric="rmse", n_trials=2, cv=2, holdout=(train, spy), fixed_params={"n_epochs": 3}
    )
    assert res.test_score is not None
    assert spy.reads  # ... and it is read for the final score, after the study


def test_test_split_reads_happen_after_the_last_trial(small: Interactions, tmp_path: Path) -> None:
    train, test = ratings_holdout(small, 0.2, seed=5)
    spy = RecordingInteractions(test)
    url = f"sqlite:///{tmp_path / 's.db'}"
    tune(None, "baseline", n_trials=3, cv=2, holdout=(train, spy), storage=url, study_name="spy")
    study = optuna.load_study(study_name="spy", storage=url)
    last_done = max(t.datetime_complete for t in study.trials)
    assert spy.reads and min(when for _, when in spy.reads) >= last_done


def test_each_outer_folds_test_part_is_read_only_after_its_own_study(small: Interactions) -> None:
    """Nested cross-validation (movierec.nested_tuning.nested_tune) runs one study per outer fold: each
    fold's test part is wrapped in the recording spy, and none is touched before its own study's last
    trial has finished; each is read afterwards, for that fold's test score."""
    from movierec.nested_tuning import nested_tune
    from movierec.split import kfold

    pairs = [(train, RecordingInteractions(test)) for train, test in kfold(small, 3, seed=5)]
    finished: dict[int, list[dt.datetime]] = {}

    def progress(event: dict[str, Any]) -> None:
        finished.setdefault(event["fold"], []).append(dt.datetime.now())

    res = nested_tune(None, "svd", outer_folds=pairs, n_trials=2, cv=2, fixed_params={"n_epochs": 3},
                      progress=progress)  # fmt: skip
    assert [r["n_complete"] for r in res.folds] == [2, 2, 2] and sorted(finished) == [1, 2, 3]
    for f, (_, spy) in enumerate(pairs, start=1):
        assert spy.reads, f"fold {f}'s test part was never scored"
        assert min(when for _, when in spy.reads) >= max(finished[f]), f"fold {f}'s test read mid-study"


def test_a_given_validation_part_scores_the_trials_and_the_test_is_read_once_after(
    small: Interactions, tmp_path: Path
) -> None:
    """``tune(..., holdout=(train, test), validation=valid)``, RecBole's three parts: every trial fits on
    ``train`` and is scored on ``valid`` (no folds cut: its value is the model's score there), the test
    part is not read during the study, and afterwards the best params are refit on train + valid and
    scored on it once. Before, "tune() has no keyword 'validation'": tune cut its own folds out of
    the training part and a RecBole user's validation part went unused."""
    from movierec.models.registry import create
    from movierec.split import per_user_split
    from movierec.tuning import score_split

    train, valid, test = per_user_split(small, (0.7, 0.15, 0.15), seed=3)
    spy = RecordingInteractions(test)
    rmse = parse_metric("rmse")
    res = tune(None, "svd", n_trials=3, holdout=(train, spy), validation=valid, evaluate_test=False,
               fixed_params={"n_epochs": 3}, seed=4)  # fmt: skip
    assert res.n_complete == 3 and res.settings["cv"] == 1
    assert spy.reads == []  # not one attribute of the test part was touched by the study
    params = {**res.best_params, "n_epochs": 3, "random_state": 4}
    on_valid = create("svd", **params).fit(train)
    assert res.best_value == pytest.approx(score_split(on_valid, train, valid, rmse))
    url = f"sqlite:///{tmp_path / 'v.db'}"
    res = tune(None, "svd", n_trials=2, holdout=(train, spy), validation=valid, storage=url, study_name="v",
               fixed_params={"n_epochs": 3}, seed=4)  # fmt: skip
    last_done = max(t.datetime_complete for t in optuna.load_study(study_name="v", storage=url).trials)
    assert spy.reads and min(when for _, when in spy.reads) >= last_done  # read after the last trial
    both = train.concat(valid)
    refit = create("svd", **{**res.best_params, "n_epochs": 3, "random_state": 4}).fit(both)
    assert res.test_score == pytest.approx(score_split(refit, both, test, rmse))  # refit on train + valid
    with pytest.raises(ConfigError, match=r"^validation= is scored beside a training part you drew"):
        tune(small, "svd", n_trials=1, validation=valid)
    with pytest.raises(ConfigError, match=r"so cv=3 has no folds to cut; leave cv out$"):
        tune(None, "svd", n_trials=1, cv=3, holdout=(train, test), validation=valid)
    other = Interactions.from_frame(make_ratings(60, 50, 0.3, seed=9), rating_scale=(0.5, 5.0))
    with pytest.raises(ConfigError, match="validation= has other users or movies than holdout's train part"):
        tune(None, "svd", n_trials=1, holdout=(train, test), validation=other)


def test_resume_continues_the_trial_count(small: Interactions, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    first = tune(small, "baseline", n_trials=3, cv=2, storage=url, study_name="s", seed=1)
    assert first.n_trials == 3
    again = tune(
        small, "svd", metric="mae", n_trials=2, cv=2, storage=url, study_name="s", seed=1, resume=True
    )
    assert again.model == "baseline" and again.metric == "rmse"  # resumed as created
    assert again.n_trials == 5
    study = optuna.load_study(study_name="s", storage=url)
    assert sorted(t.number for t in study.trials) == [0, 1, 2, 3, 4]
    # the resumed session draws fresh points rather than replaying the first ones
    params = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(set(params)) == 5


def test_existing_study_of_another_model_is_refused(small: Interactions, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    tune(small, "baseline", n_trials=1, cv=2, storage=url, study_name="s")
    # Python's keywords alone (one line named both: '(study_name= in Python, --study in the CLI)')
    with pytest.raises(
        ConfigError,
        match=r"exists with model 'baseline', not 'svd'; choose another study \(study_name=\), or continue it as "
        r"it was created \(resume=True\)$",
    ):
        tune(small, "svd", n_trials=1, cv=2, storage=url, study_name="s")
    # the check's connection is closed: it kept study.db-wal and -shm beside the file (a notebook lives on)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.db"]
    with pytest.raises(ConfigError, match=r"other data .*; choose another study \(study_name=\)$"):
        other = Interactions.from_frame(make_ratings(60, 50, 0.3, seed=9), rating_scale=(0.5, 5.0))
        tune(other, "baseline", n_trials=1, cv=2, storage=url, study_name="s")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.db"]  # refused in _open_study, as closed
    with pytest.raises(ConfigError, match="no study named 'nope'"):
        tune(small, "baseline", n_trials=1, storage=url, study_name="nope", resume=True)


def test_a_study_is_not_continued_with_other_fixed_params(small: Interactions, tmp_path: Path) -> None:
    """tuning.md's quick start, typed in order, runs ``tune --model svd --trials 50`` and then ``tune --model
    svd --params factors=100,epochs=40 --trials 30``: both default to study svd-rmse, so the second continued
    the first. Its 30 trials held factors and epochs fixed, and the result, best of the 120 in the study, was a
    trial of the first run (factors=231, epochs=97): the fixed params asked for were silently not those
    reported. A study now remembers its fixed params as it does its model and metric: other ones are refused
    in one line naming both (the same ones, or --resume, continue it)."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    tune(small, "baseline", n_trials=1, cv=2, storage=url, study_name="s")
    with pytest.raises(
        ConfigError,
        match=r"exists with fixed params none, not epochs=5; choose another study \(study_name=\), or continue "
        r"it as it was created \(resume=True\)$",
    ):
        tune(small, "baseline", n_trials=1, cv=2, storage=url, study_name="s", fixed_params={"n_epochs": 5})
    tune(small, "baseline", n_trials=1, cv=2, storage=url, study_name="f", fixed_params={"n_epochs": 5})
    again = tune(
        small, "baseline", n_trials=1, cv=2, storage=url, study_name="f", fixed_params={"n_epochs": 5}
    )
    assert again.n_trials == 2  # the same ones continue it
    with pytest.raises(ConfigError, match=r"exists with fixed params epochs=5, not none; "):
        tune(small, "baseline", n_trials=1, cv=2, storage=url, study_name="f")
    resumed = tune(small, "baseline", n_trials=1, cv=2, storage=url, study_name="f", resume=True)
    assert resumed.n_trials == 3  # as it was created, epochs=5


def test_bad_requests_raise_config_errors(small: Interactions, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="trials"):
        tune(small, "baseline", n_trials=0)
    with pytest.raises(ConfigError, match="needs predicted ratings"):
        tune(small, "ease", metric="rmse", n_trials=1)
    with pytest.raises(ConfigError, match="cannot be opened"):
        tune(small, "baseline", n_trials=1, storage=f"sqlite:///{tmp_path}/missing/dir/x.db")
    with pytest.raises(ConfigError, match="unknown model"):
        tune(small, "svd-but-better", n_trials=1)


def test_per_epoch_pruning_uses_the_on_epoch_callback(small: Interactions, gradient_model: str) -> None:
    res = tune(small, gradient_model, metric="rmse", n_trials=14, cv=2, seed=2, test_size=None)
    assert res.test_score is None  # no outer test split was asked for
    assert res.n_trials == 14
    assert res.n_pruned >= 1, "slow learning rates should be pruned by the median rule"


def test_intermediate_values_are_per_epoch(small: Interactions, gradient_model: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    tune(small, gradient_model, metric="rmse", n_trials=8, cv=2, seed=2, storage=url, study_name="p")
    trials = optuna.load_study(study_name="p", storage=url).trials
    done = [t for t in trials if t.state.name == "COMPLETE"]
    assert done
    for t in done:
        assert sorted(t.intermediate_values) == list(range(1, t.params["n_epochs"] + 1))
    for t in trials:
        if t.state.name == "PRUNED":  # stopped through on_epoch returning False, before its last epoch
            assert t.user_attrs["pruned_at_epoch"] == max(t.intermediate_values) < t.params["n_epochs"]


def test_fold_level_reports_for_models_not_scorable_mid_fit(small: Interactions, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    res = tune(
        small,
        "baseline",
        metric="rmse",
        n_trials=2,
        cv=2,
        seed=2,
        storage=url,
        study_name="f",
        fixed_params={"n_epochs": 3},
        out=tmp_path / "out",
    )
    for t in optuna.load_study(study_name="f", storage=url).trials:
        assert sorted(t.intermediate_values) == [0, 1]  # baseline has no on_epoch: one report per fold
        assert len(t.user_attrs["fold_scores"]) == 2
        assert "n_epochs" not in t.params  # pinned, not searched
    params = load_experiment(tmp_path / "out" / "best.toml").models[0].params
    assert params["epochs"] == 3 and params["reg_i"] == res.best_params["reg_i"]


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("svd", {"n_factors": 6, "n_epochs": 7}),
        ("svdpp", {"n_factors": 4, "n_epochs": 7}),
        ("bpr", {"no_components": 6, "epochs": 7}),
        ("warp", {"no_components": 6, "epochs": 7}),
    ],
)
def test_on_epoch_sees_the_model_a_shorter_fit_would_give(
    small: Interactions, model: str, params: dict
) -> None:
    """What on_epoch can score after epoch 3 of 7 is exactly a 3-epoch fit; the 7-epoch result is unchanged."""
    from movierec.models.registry import create

    epochs_key = "n_epochs" if "n_epochs" in params else "epochs"
    train = small if model in ("svd", "svdpp") else small.to_implicit(4.0)
    users = np.arange(train.n_users)
    seen: dict[int, np.ndarray] = {}

    def on_epoch(epoch: int, logs: dict) -> None:
        seen[epoch] = m.score(users).copy()

    m = create(model, **params)
    m.fit(train, on_epoch=on_epoch)
    assert sorted(seen) == list(range(1, 8))
    short = create(model, **{**params, epochs_key: 3}).fit(train)
    np.testing.assert_array_equal(seen[3], short.score(users))
    plain = create(model, **params).fit(train)  # no callback: the same model as with one
    np.testing.assert_array_equal(m.score(users), plain.score(users))
    np.testing.assert_array_equal(seen[7], plain.score(users))
    assert not np.array_equal(seen[3], seen[7])


def test_svd_study_prunes_per_epoch(small: Interactions, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    res = tune(
        small,
        "svd",
        metric="rmse",
        n_trials=10,
        cv=2,
        seed=3,
        storage=url,
        study_name="s",
        fixed_params={"n_epochs": 10, "n_factors": 8},
        test_size=None,
    )
    trials = optuna.load_study(study_name="s", storage=url).trials
    pruned = [t for t in trials if t.state.name == "PRUNED"]
    assert res.n_pruned == len(pruned) >= 1
    for t in trials:  # svd reports its validation RMSE after every epoch of the first fold
        assert min(t.intermediate_values) == 1
    for t in pruned:
        at = t.user_attrs["pruned_at_epoch"]
        assert at == max(t.intermediate_values) and 2 < at <= 10
        assert "fold_scores" not in t.user_attrs  # stopped inside the first fold, the second never ran
        values = [t.intermediate_values[e] for e in sorted(t.intermediate_values)]
        # only a trial that had stopped improving is pruned (a slow learner still improving is kept)
        assert min(values[-PRUNE_PATIENCE:]) >= min(values[:-PRUNE_PATIENCE]) - PRUNE_MIN_DELTA
    done = [t for t in trials if t.state.name == "COMPLETE"]
    assert all(sorted(t.intermediate_values) == list(range(1, 11)) for t in done)


# --- several processes, one SQLite study ------------------------------------------------------------


def _write_csv(path: Path) -> None:
    frame = make_ratings(120, 80, 0.3, seed=3)
    frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)


@pytest.mark.slow
def test_two_processes_share_one_sqlite_study(tmp_path: Path) -> None:
    data = tmp_path / "ratings.csv"
    _write_csv(data)
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    script = textwrap.dedent(
        f"""
        import sys
        from movierec.datasets import load_ratings_file
        from movierec.tuning import tune
        ds = load_ratings_file({str(data)!r}, rating_scale=(0.5, 5.0))
        tune(ds, "baseline", n_trials=3, cv=2, storage={url!r}, study_name="shared", seed=7,
             worker=int(sys.argv[1]))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(worker)], env=env, stderr=subprocess.PIPE, text=True
        )
        for worker in (0, 1)
    ]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
    study = optuna.load_study(study_name="shared", storage=url)
    assert len(study.trials) == 6
    per_worker = Counter(t.user_attrs["worker"] for t in study.trials)
    assert sorted(per_worker.values()) == [3, 3]  # both processes contributed their trials
    assert sorted(t.number for t in study.trials) == list(range(6))
    assert (
        len({tuple(sorted(t.params.items())) for t in study.trials}) == 6
    )  # different workers, different draws


# --- the CLI: bad input is one line and exit code 2 -------------------------------------------------


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_process("tune", *args, cwd=cwd, inherit_columns=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--model", "ease", "--metric", "rmse"], "needs predicted ratings"),
        (["--model", "svd", "--trials", "0"], "--trials must be ≥ 1"),
        # tune() said 'cv must be …', 'n_jobs must be …', 'timeout must be …': Python's keywords
        (["--model", "svd", "--cv", "0"], "--cv must be ≥ 1"),
        (["--model", "svd", "--n-jobs", "0"], "--n-jobs must be ≥ 1 (or -1 for one per CPU), got 0"),
        (["--model", "svd", "--timeout", "-1"], "--timeout must be > 0 seconds, got -1"),
        (["--model", "svd", "--cv", "1", "--test-size", "200000"], "--test-size 200000 must hold out"),
        (["--model", "svd", "--storage", "sqlite:////nonexistent-dir/sub/x.db"], "cannot be opened"),
        (
            ["--model", "svd", "--storage", "STORAGE", "--study", "taken"],
            "has model 'baseline', not 'svd': use another --study or --resume it",  # the flags alone, short
        ),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(
    args: list[str], needle: str, tmp_path: Path, small: Interactions
) -> None:
    if "STORAGE" in args:
        url = f"sqlite:///{tmp_path / 'taken.db'}"
        tune(small, "baseline", n_trials=1, cv=2, storage=url, study_name="taken")
        args = [url if a == "STORAGE" else a for a in args]
    proc = _cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_cli_tune_prints_plain_progress_lines_in_a_pipe(tmp_path: Path) -> None:
    """Piped, ``movierec tune`` printed nothing until the end and then only the finished bar: it now prints
    compare's plain stamped lines (the study's start, finished trials at most one every few seconds, and
    the last with its value and the best so far), and no bar's control characters."""
    data = tmp_path / "ratings.csv"
    _write_csv(data)
    proc = _cli("--model", "baseline", "--dataset", str(data), "--trials", "3", "--out", "o", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr and "\x1b[" not in proc.stderr, repr(proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if "] tuning baseline (rmse)" in line]
    assert re.fullmatch(r"\[ +\d+\.\ds\] tuning baseline \(rmse\) · 0/3", lines[0]), lines
    last = r"\[ +\d+\.\ds\] tuning baseline \(rmse\) · last \d\.\d{4} · best \d\.\d{4} · 3/3"
    assert re.fullmatch(last, lines[-1]), lines
    done = [int(line.rsplit(" ", 1)[1].split("/")[0]) for line in lines]
    assert done == sorted(done) and len(lines) <= 4, lines
    assert "━" not in proc.stderr  # no bar drawn at the end either


def test_cli_tune_into_the_same_folder_says_it_continues_the_study(tmp_path: Path) -> None:
    """A second run into the same --out added its trials to the first's study ('4 in the study') without a
    word; it now says so before it runs, with how to start a new one."""
    data = tmp_path / "ratings.csv"
    _write_csv(data)
    args = ("--model", "baseline", "--dataset", str(data), "--trials", "2", "--out", "o")
    first = _cli(*args, cwd=tmp_path)
    assert first.returncode == 0 and "continuing study" not in first.stderr, first.stderr
    again = _cli(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    note = "note: continuing study 'baseline-rmse' in o: 2 finished trials there already; this run adds 2"
    assert note in " ".join(again.stderr.split()), again.stderr
    # a folder an earlier study wrote is ours (test_cli_tune_refuses_a_folder_of_someone_elses_files): the
    # rerun continues it and replaces its files, trials.csv with all four trials
    assert len(pd.read_csv(tmp_path / "o" / "trials.csv")) == 4


def test_cli_tune_with_storage_says_the_study_continues_in_the_database(tmp_path: Path) -> None:
    """With --storage, a second run into a new --out said 'continuing study 'baseline-rmse' in o2: 2 finished
    trials there already; … (--study NAME or another --out starts a new one)': o2 was new and empty, the
    trials were in s.db, and another --out had just continued the study. It names the database now."""
    data = tmp_path / "ratings.csv"
    _write_csv(data)
    args = ("--model", "baseline", "--dataset", str(data), "--trials", "2", "--storage", "sqlite:///s.db")
    first = _cli(*args, "--out", "o1", cwd=tmp_path)
    assert first.returncode == 0 and "continuing study" not in first.stderr, first.stderr
    again = _cli(*args, "--out", "o2", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    said = " ".join(again.stderr.split())
    assert (
        "note: continuing study 'baseline-rmse' in sqlite:///s.db: 2 finished trials there already; this run "
        "adds 2 (--study NAME starts a new one)"
    ) in said, said
    assert len(pd.read_csv(tmp_path / "o2" / "trials.csv")) == 4  # the one study, in s.db


def test_cli_tune_refuses_a_folder_of_someone_elses_files(tmp_path: Path) -> None:
    """``--out`` on a folder with the person's own trials.csv and best.toml overwrote both at the end of the
    study, and Optuna wrote its tables into an unrelated SQLite file named study.db: each is now one line
    and exit 2 before any trial, the folder byte for byte as it was."""
    data = tmp_path / "ratings.csv"
    _write_csv(data)
    mine = tmp_path / "mine"
    mine.mkdir()
    own = {"trials.csv": "run,score\n1,0.5\n", "best.toml": 'name = "my experiment"\n', "notes.txt": "x\n"}
    for name, text in own.items():
        (mine / name).write_text(text)
    proc = _cli("--model", "baseline", "--dataset", str(data), "--trials", "1", "--out", "mine", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "movierec: error: --out mine: would overwrite trials.csv, best.toml, which tune did not write; "
        "nothing was changed — choose another --out"
    ]
    assert {p.name: p.read_text() for p in mine.iterdir()} == own

    other = tmp_path / "other"
    other.mkdir()
    import sqlite3

    with sqlite3.connect(other / "study.db") as conn:
        conn.execute("CREATE TABLE songs (title TEXT)")
    before = (other / "study.db").read_bytes()
    proc = _cli(
        "--model", "baseline", "--dataset", str(data), "--trials", "1", "--out", "other", cwd=tmp_path
    )
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert line.startswith("movierec: error: --out other: its study.db is not an Optuna study database")
    assert "(tables: songs)" in line and "\n" not in line
    assert (other / "study.db").read_bytes() == before and sorted(p.name for p in other.iterdir()) == [
        "study.db"
    ]
    # that a folder an earlier study wrote is ours (a rerun continues it and replaces its files) is checked
    # in test_cli_tune_into_the_same_folder_says_it_continues_the_study, on the two runs it makes anyway


def test_tune_from_python_refuses_an_out_with_files_it_did_not_write(
    small: Interactions, tmp_path: Path
) -> None:
    """``tune(..., out=folder)`` overwrote a trials.csv it did not write once the study was over; now it is
    refused before the first trial."""
    (tmp_path / "trials.csv").write_text("mine\n")
    with pytest.raises(ConfigError, match=r"out= .*: would overwrite trials.csv, which tune did not write"):
        tune(small, "baseline", n_trials=1, cv=2, out=tmp_path)
    assert (tmp_path / "trials.csv").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trials.csv"]


@pytest.mark.slow
def test_cli_runs_a_small_study(tmp_path: Path) -> None:
    data = tmp_path / "ratings.csv"
    _write_csv(data)
    proc = _cli(
        "--model",
        "baseline",
        "--dataset",
        str(data),
        "--trials",
        "2",
        "--cv",
        "2",
        "--out",
        "o",
        "--json",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["n_trials"] == 2 and payload["model"] == "baseline"
    assert (tmp_path / "o" / "study.db").is_file() and (tmp_path / "o" / "best.toml").is_file()
    # --resume needs only the study: model, metric and folds come from what the study recorded
    again = _cli(
        "--study",
        "baseline-rmse",
        "--resume",
        "--dataset",
        str(data),
        "--trials",
        "1",
        "--out",
        "o",
        "--json",
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    resumed = json.loads(again.stdout)
    assert resumed["n_trials"] == 3 and resumed["model"] == "baseline" and resumed["settings"]["cv"] == 2


def test_a_custom_ratings_file_tunes_and_its_best_toml_loads_it_again(tmp_path: Path, capsys) -> None:
    """tune took only --dataset; with --ratings and its column names, best.toml records the file (an
    absolute path), the columns and the titles file, so compare/export --config read the same data."""
    from clihelp import run_cli
    from movierec.datasets import load

    frame = load("ml-latest-small").to_frame()
    # 50 users (2,892 movies), not 120 (4,727): ease's item-item solve, cubic in the movies, runs in each
    # trial, the refit, export and compare; what is checked is the file's path, columns and sha256
    frame = frame[frame["userId"] <= 50].rename(
        columns={"userId": "who", "movieId": "what", "rating": "stars"}
    )
    frame.drop(columns="timestamp").to_csv(tmp_path / "mine.csv", index=False)
    titles = load("ml-latest-small").catalog[["movieId", "title"]].rename(columns={"movieId": "what"})
    titles.to_csv(tmp_path / "titles.csv", index=False)
    cols = ["--ratings", "mine.csv", "--user-col", "who", "--item-col", "what", "--rating-col", "stars"]
    # one trial (it was 2): best.toml records the data the same way whichever trial is best
    args = ["tune", "-m", "ease", *cols, "--movies", "titles.csv", "--trials", "1", "--cv", "1", "--out", "o"]
    import os

    here = Path.cwd()
    os.chdir(tmp_path)  # relative paths, as a person types them
    try:
        code, out, err = run_cli([*args, "--json"], capsys)
    finally:
        os.chdir(here)
    assert code == 0, err
    sha = json.loads(out)["settings"]["dataset_sha256"]
    exp = load_experiment(tmp_path / "o" / "best.toml")
    assert exp.dataset.name == str((tmp_path / "mine.csv").resolve())
    assert (exp.dataset.user_col, exp.dataset.item_col, exp.dataset.rating_col) == ("who", "what", "stars")
    assert exp.dataset.movies == str((tmp_path / "titles.csv").resolve()) and exp.dataset.time_col is None
    ds = exp.dataset.load()
    assert ds.sha256 == sha and ds.interactions.timestamps is None and ds.catalog is not None
    # from another folder: the experiment file alone brings the data back
    code, out, err = run_cli(
        ["export", "--config", str(tmp_path / "o" / "best.toml"), "--out", str(tmp_path / "art")], capsys
    )
    assert code == 0, err
    code, out, err = run_cli(
        ["compare", "--config", str(tmp_path / "o" / "best.toml"), "--out", str(tmp_path / "runs"), "--json"],
        capsys,
    )
    assert code == 0, err
    assert json.loads(out)[0]["dataset_sha256"] == sha


def test_parallel_trials_in_one_process(small: Interactions, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    res = tune(small, "baseline", n_trials=4, cv=2, n_jobs=2, storage=url, study_name="j")
    assert res.n_trials == 4
    trials = optuna.load_study(study_name="j", storage=url).trials
    assert sorted(t.number for t in trials) == [0, 1, 2, 3]
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)


def test_search_spaces_live_on_the_model_classes():
    """Every model issue 7 names declares its space next to itself, in its own constructor names."""
    import inspect

    from movierec.models.registry import get_class
    from movierec.tuning import MODEL_SWITCHES, search_spaces

    spaces = search_spaces()
    for name in ("svd", "svdpp", "knn-baseline", "bpr", "warp", "als", "ease", "itemknn"):
        cls = get_class(name)
        declared = cls.__dict__.get("search_space")
        assert declared, f"{name}: no search_space on {cls.__name__}"
        accepted = set(inspect.signature(cls.__init__).parameters) - {"self"}
        for key in declared:
            assert key in accepted or key in MODEL_SWITCHES, (name, key)
        assert set(spaces[name]) == set(declared), name


@pytest.mark.parametrize(
    ("model", "fixed"),
    [
        ("user-ease", {}),
        (
            "ensemble",
            {"bases": {"ease": {"l2": 10.0}, "user-ease": {"l2": 10.0}, "ials": {"factors": 8, "epochs": 4}}},
        ),
    ],
)
def test_user_ease_and_the_ensemble_tune_end_to_end(
    small: Interactions, tmp_path: Path, model: str, fixed
) -> None:
    """Two trials over their search spaces (the ensemble's own: hold-out share, normalisation, the standard-error
    rule, base tuning; its bases fixed and small), then the refit on the whole training split and its test score."""
    res = tune(small, model, metric="ndcg@5", n_trials=2, cv=1, seed=0, fixed_params=fixed, out=tmp_path)
    assert res.n_complete == 2 and 0.0 < res.best_value <= 1.0 and res.test_score is not None
    assert set(res.best_params) == set(resolve_space(model))
    exp = load_experiment(tmp_path / "best.toml")
    assert exp.protocols == ["full-ranking"]


def test_a_study_with_item_features_gives_them_to_every_fit(tmp_path: Path) -> None:
    """tune --item-features: every trial, the final refit and best.toml get them (ease is collective EASE
    with them); a stored study is not continued with other features.

    The data are ml-latest-small's first 50 users (7.4k ratings, 2.9k movies, 887 of them tagged) with its
    movies and tags files, read as a MovieLens folder: the same feature path as the whole file, whose five
    9.7k-movie EASE studies took 21 s here (150 users' 5k movies: 5.5 s; an EASE fit is cubic in them)."""
    from datagen import mlls_first_users
    from movierec.datasets import load

    ds = load(str(mlls_first_users(tmp_path / "mlls-50", 50, tags=True)))
    assert ds.tags is not None and len(ds.tags) > 0  # the tags feature has something to build from
    args: dict[str, Any] = dict(metric="ndcg@10", n_trials=2, cv=1, seed=3)
    plain = tune(ds, "ease", **args)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    featured = tune(
        ds, "ease", **args, item_features="genres,tags", out=tmp_path / "t", storage=url,
        fixed_params={"feature_weight": 2.0},
    )  # fmt: skip
    a, b = plain.to_frame(), featured.to_frame()
    params = [c for c in a.columns if c.startswith("params_")]
    assert "params_feature_weight" not in a.columns  # without features it acts on nothing: not searched
    assert params and a[params].equals(b[params])  # the same seeded points ...
    assert (a["value"] != b["value"]).all()  # ... scored differently: the features reached each fit
    searched = tune(ds, "ease", **{**args, "n_trials": 1}, item_features="genres").to_frame()
    assert "params_feature_weight" in searched.columns  # with features, their weight is searched too
    # time_weight weighs a time-adjacency term that is off unless a time_window is set: searched only then
    # (trials spent on it and a best point reporting it, while it changed nothing, misled)
    assert "params_time_weight" not in a.columns
    timed = tune(ds, "ease", **{**args, "n_trials": 1}, fixed_params={"time_window": 10}).to_frame()
    assert "params_time_weight" in timed.columns
    assert featured.test_score != plain.test_score
    assert load_experiment(tmp_path / "t" / "best.toml").item_features == ["genres", "tags"]
    assert featured.settings["item_features"] == ["genres", "tags"] and "item_features" not in plain.settings
    with pytest.raises(ConfigError, match=r"exists with item features \['genres', 'tags'\], not None"):
        tune(ds, "ease", **args, storage=url, study_name=featured.study_name)
    with pytest.raises(ConfigError, match="unknown item feature 'colour'"):
        tune(ds, "ease", **args, item_features="genres,colour")
    with pytest.raises(ConfigError, match="svd does not use item features"):  # not silently ignored
        tune(ds, "svd", metric="rmse", n_trials=1, item_features="genres")


def test_a_movielens_folder_given_by_path_is_named_by_its_path_in_best_toml(
    tmp_path: Path, monkeypatch
) -> None:
    """A MovieLens folder read by path takes its folder's name: ``tune --dataset /data/ml-100k`` wrote
    ``name = "ml-100k"`` into best.toml, and ``export --config`` then failed on a machine whose cache holds
    no ml-100k ("dataset 'ml-100k' is not in the cache"). best.toml names the folder, so it loads again."""
    from clihelp import run_process
    from movierec.datasets import load

    bundled = load("ml-latest-small")
    folder = tmp_path / "ml-100k"  # a registered name, but not the cache's copy
    folder.mkdir()
    frame = bundled.to_frame()
    frame[frame["userId"] <= 60].to_csv(folder / "ratings.csv", index=False)
    bundled.catalog[["movieId", "title", "genres"]].to_csv(folder / "movies.csv", index=False)
    monkeypatch.setenv("MOVIEREC_DATA", str(tmp_path / "empty-cache"))
    args = ("--dataset", str(folder), "--trials", "1", "--cv", "1", "--out", "o")
    proc = run_process("tune", "-m", "baseline", *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert load_experiment(tmp_path / "o" / "best.toml").dataset.name == str(folder.resolve())
    proc = run_process("export", "--config", "o/best.toml", "--out", "art", "--no-check", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "art" / "manifest.json").read_text())
    assert (
        manifest["dataset"]["sha256"]
        == json.loads((tmp_path / "o" / "best.json").read_text())["settings"]["dataset_sha256"]
    )


def test_a_new_study_tries_the_models_defaults_first_and_says_what_they_scored(tmp_path: Path) -> None:
    """A short study was random draws: on ml-100k ``tune -m ease --trials 10`` ended at a test NDCG@10 of
    0.3785 where ease's defaults give 0.3818, and nothing said so. Trial 0 is now the defaults (``--params``
    over them), and the summary and best.json give their validation value beside the best."""
    from clihelp import run_process
    from movierec.datasets import load
    from movierec.models.registry import create

    frame = load("ml-latest-small").to_frame()
    frame[frame["userId"] <= 120].to_csv(tmp_path / "r.csv", index=False)
    # two trials a run (it was 3): trial 0 is the defaults in any study, and the rerun adds no second one
    args = ("--ratings", "r.csv", "--trials", "2", "--cv", "1", "--params", "epochs=5", "--out", "o")
    proc = run_process("tune", "-m", "svd", *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    first = next(csv.DictReader(io.StringIO((tmp_path / "o" / "trials.csv").read_text())))
    defaults = create("svd").get_params()
    searched = {k: v for k, v in first.items() if k.startswith("params_")}
    assert searched and all(
        float(v) == float(defaults[k.removeprefix("params_")]) for k, v in searched.items()
    )
    best = json.loads((tmp_path / "o" / "best.json").read_text())
    assert best["defaults_value"] == pytest.approx(float(first["value"]))
    # counted from 1, as the progress lines ('1/3') and the repr ('best trial 1 of 3 (Optuna's #0)'): it said
    # 'trial 0' beside a bar that counted 1/3, 2/3, 3/3; trials.csv's number column is Optuna's
    line = f"validation rmse of the model's defaults (trial 1, Optuna's #0): {float(first['value']):.4f}"
    assert line in proc.stdout, proc.stdout
    # a second run into the same folder continues the study: no second defaults trial, and the line still
    # names the first one, which ran them (the trial's own number, not a fixed 'trial 1')
    again = run_process("tune", "-m", "svd", *args, cwd=tmp_path)
    assert again.returncode == 0 and "continuing study" in again.stderr, again.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "o" / "trials.csv").read_text())))
    assert len(rows) == 4 and json.loads((tmp_path / "o" / "best.json").read_text())["defaults_trial"] == 0
    assert line in " ".join(again.stdout.split()), again.stdout


def test_the_defaults_line_names_the_trial_that_ran_them(capsys: pytest.CaptureFixture[str]) -> None:
    """Worker 0 queues the defaults when it finds the study empty; a worker sharing the study can take
    Optuna's #0 between that look and the queueing, and the summary still said 'trial 1, Optuna's #0'.
    A real study as those two workers leave it: another worker's trial #0, then the defaults' #1."""
    from movierec.cli.tune import _print_result
    from movierec.tuning import _study_result

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.RandomSampler(seed=0))
    other = study.ask()  # the other worker's trial
    other.suggest_float("reg_i", 0.1, 50.0, log=True)
    study.tell(other, 0.97)
    study.enqueue_trial({"reg_i": 15.0}, user_attrs={"defaults": True})
    study.optimize(lambda t: t.suggest_float("reg_i", 0.1, 50.0, log=True) / 100 + 0.8, n_trials=1)
    res = _study_result(study, "shared", "memory", "baseline", parse_metric("rmse"), {"cv": 2})
    assert res.defaults_trial == 1 and res.defaults_value == pytest.approx(0.95)
    _print_result(res)
    text = " ".join(capsys.readouterr().out.split())
    assert "validation rmse of the model's defaults (trial 2, Optuna's #1): 0.9500, the best" in text, text


def test_the_cli_says_what_it_tunes_on_before_the_first_trial(tmp_path: Path) -> None:
    """``movierec tune`` opened with its bar, 'tuning svd (rmse) · 0/3', which named neither the data's size
    nor the folds until the summary (tune() from Python said both); its first line now does."""
    from clihelp import run_process
    from movierec.datasets import load

    frame = load("ml-latest-small").to_frame()
    frame = frame[frame["userId"] <= 60]
    frame.to_csv(tmp_path / "r.csv", index=False)
    args = ("--ratings", "r.csv", "--trials", "1", "--cv", "2", "--params", "epochs=2", "--out", "o")
    proc = run_process("tune", "-m", "svd", *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    first = re.fullmatch(
        r"tuning svd for rmse: 1 trial, 2 inner folds of ([\d,]+) training ratings",
        proc.stderr.splitlines()[0],
    )
    assert first is not None, proc.stderr
    assert abs(int(first.group(1).replace(",", "")) - 0.8 * len(frame)) <= 1, first.group(0)  # the outer 80%


def test_a_misspelt_metric_names_the_likely_one(tmp_path: Path) -> None:
    """``tune --metric ndgc@10`` answered 'unknown metric' and the list of every metric; the likely one,
    with the cut-off typed, comes first, as a misspelt command or model does."""
    from clihelp import one_error_line, run_process

    line = one_error_line(run_process("tune", "-m", "svd", "--metric", "ndgc@10", cwd=tmp_path))
    assert line.startswith("unknown metric 'ndgc@10' (did you mean 'ndcg@10'?); valid: rmse, "), line
    line = one_error_line(run_process("tune", "-m", "svd", "--metric", "rsme", cwd=tmp_path))
    assert line.startswith("unknown metric 'rsme' (did you mean 'rmse'?); "), line
    assert not (tmp_path / "tuning").exists()


KILLED_STUDY = """
import sys, time
from pathlib import Path
import optuna
from movierec.tuning import open_storage

storage = open_storage("sqlite:///study.db")
with storage.engine.connect() as conn:  # every connection of the study: WAL, commits flushed at checkpoints
    print(conn.exec_driver_sql("PRAGMA journal_mode").scalar(), conn.exec_driver_sql("PRAGMA synchronous").scalar())
    sys.stdout.flush()
study = optuna.create_study(study_name="s", storage=storage)

def objective(trial):
    for epoch in range(30):
        trial.report(float(trial.number * 100 + epoch), epoch)
    return float(trial.number)

study.optimize(objective, n_trials=3)
Path("told").write_text("3 trials")
time.sleep(60)  # killed here, with no clean-up: the file is as the last commit left it
"""


def test_a_study_killed_outright_keeps_every_reported_value(tmp_path: Path) -> None:
    """open_storage's SQLite studies commit without a flush to disk per commit (WAL, ``synchronous=NORMAL``:
    784 -> 82 fdatasync calls in a 12-trial svd study, whose every reported epoch is a commit). A write is
    then in the log file when the commit returns, so a process killed outright (SIGKILL) loses none of it:
    only a power cut could. Here a real SIGKILL after three trials of 30 reported epochs each."""
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_STUDY], cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "told").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the study did not finish its trials"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert out.split() == ["wal", "1"]  # synchronous 1: NORMAL (FULL, 2, is SQLite's default)
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'study.db'}")
    trials = study.get_trials(deepcopy=False)
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3
    assert [t.value for t in trials] == [0.0, 1.0, 2.0]
    for t in trials:
        assert t.intermediate_values == {e: float(t.number * 100 + e) for e in range(30)}
