"""Early stopping where people train: ``compare(..., early_stopping=…)``, ``compare --early-stopping``,
an experiment file's ``early_stopping`` and ``tune(..., early_stopping=…)``.

Real fits on the first 150 users of the bundled ml-latest-small (22,303 ratings) with small epoch budgets,
so each run takes about a second; the refusals are ConfigErrors (exit 2 in the CLI) before any training.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import movierec
from clihelp import one_error_line, run_process
from movierec import ConfigError
from movierec import stopping as ST
from movierec.early_stopping import EarlyStopping, StopSpec, cut_validation
from movierec.evaluation import compare, evaluate, make_split
from movierec.interactions import Interactions
from movierec.metrics import parse_metric
from movierec.models import create
from movierec.tuning import score_split

BUNDLED = Path(movierec.__file__).parent / "datasets" / "bundled" / "ml-latest-small" / "ratings.csv"
SPEC = {"metric": "ndcg@10", "patience": 2, "every": 1}


@pytest.fixture(scope="module")
def ratings() -> pd.DataFrame:
    frame = pd.read_csv(BUNDLED)
    return frame[frame.userId <= 150].reset_index(drop=True)


@pytest.fixture(scope="module")
def ds(ratings: pd.DataFrame) -> movierec.Dataset:
    return movierec.load(ratings)


def _pairs(inter: Interactions) -> set[tuple[int, int]]:
    return set(zip(inter.users.tolist(), inter.items.tolist(), strict=True))


def test_a_row_is_a_manual_early_stopping_run_on_the_same_split(ds: movierec.Dataset) -> None:
    """bpr (at most 40 epochs) stopped on NDCG@10: the row's best epoch and validation score are those of
    EarlyStopping on the validation part cut the same way, and its test figures those of bpr refit on the
    whole training part with that epoch count."""
    comp = compare(ds, [("bpr", {"epochs": 40})], protocols="full-ranking", seed=3, early_stopping=SPEC)
    row = comp.row("bpr", "full-ranking")
    assert row.best_epoch is not None and 1 <= row.best_epoch <= 40
    assert "refit on the whole training part with epochs=" in row.stopping

    train, test = comp.train, comp.test
    rest, valid = cut_validation(train, 0.1, seed=3)  # fold 0: the run's seed
    stopper = EarlyStopping(valid, "ndcg@10", every=1, patience=2, known=rest, threshold=4.0)
    create("bpr", epochs=40, random_state=3).fit(rest.to_implicit(4.0), on_epoch=stopper)
    assert row.best_epoch == stopper.best_epoch_ and row.valid_score == stopper.best_score_
    assert stopper.stopped_epoch_ < 40  # it did stop early on this subset (best at 1, stopped at 3)

    refit = create("bpr", epochs=stopper.best_epoch_, random_state=3).fit(train.to_implicit(4.0))
    manual = evaluate(refit, train, test, "full-ranking", k=10, threshold=4.0, intervals=False)
    for m in ("ndcg@10", "precision@10", "recall@10", "map@10"):
        assert row.metrics[m] == pytest.approx(manual.metrics[m], abs=1e-12)
    assert comp.models["bpr"].epochs == stopper.best_epoch_  # the fitted model is the refit
    record = comp.records()[0]
    assert record["best_epoch"] == row.best_epoch and record["valid_score"] == pytest.approx(row.valid_score)


def test_the_validation_part_comes_from_the_training_part_never_the_test(
    ds: movierec.Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Instrumented: every validation part compare builds an EarlyStopping on (two folds of a 2-fold cv) is
    recorded; each lies inside its fold's training part and shares no (user, movie) with its test part."""
    built: list[Interactions] = []
    real_init = ST.Stopper.__init__

    def recording_init(self: ST.Stopper, valid: Interactions, *args: Any, **kwargs: Any) -> None:
        built.append(valid)
        real_init(self, valid, *args, **kwargs)

    monkeypatch.setattr(ST.Stopper, "__init__", recording_init)
    comp = compare(ds, [("warp", {"epochs": 6})], protocols="full-ranking", cv=2, early_stopping=SPEC)
    assert len(built) == 2  # one per fold
    splitter = movierec.split.get_splitter(
        "interactions-holdout", seed=42, threshold=4.0, test_size=0.2, cv=2
    )
    folds = list(splitter.split(ds.interactions))
    for valid, (train, test) in zip(built, folds, strict=True):
        assert valid.n_ratings > 0
        assert _pairs(valid) <= _pairs(train)
        assert not _pairs(valid) & _pairs(test)
    row = comp.row("warp", "full-ranking")
    assert row.best_epoch is not None and row.best_epoch <= 6 and "/" in row.stopping  # each fold's epochs


def test_models_that_cannot_stop_train_as_before_with_one_note(ds: movierec.Dataset) -> None:
    plain = compare(ds, ["ease", "popularity"], protocols="full-ranking")
    comp = compare(
        ds, ["ease", "popularity", ("warp", {"epochs": 4})], protocols="full-ranking", early_stopping=SPEC
    )
    for label in ("ease", "popularity"):
        assert comp.row(label, "full-ranking").metrics == plain.row(label, "full-ranking").metrics
        assert comp.row(label, "full-ranking").best_epoch is None
        assert "best_epoch" not in next(r for r in comp.records() if r["model"] == label)
    notes = [n for n in comp.notes if n.startswith("early stopping")]
    assert len(notes) == 1
    assert "warp " in notes[0] and "ease, popularity cannot stop between epochs" in notes[0]


def test_refusals_are_one_line_before_training(ds: movierec.Dataset) -> None:
    with pytest.raises(ConfigError, match=r"early stopping bpr on rmse: .*"):
        compare(ds, ["svd", "bpr"], early_stopping="rmse")
    with pytest.raises(ConfigError, match="use one"):
        compare(ds, ["bpr"], early_stopping="ndcg@10", monitor=movierec.EpochValidator())
    with pytest.raises(ConfigError, match="leave-last-out split's sequences"):
        compare(ds, ["bpr"], protocols="leave-last-out", early_stopping="ndcg@10")
    with pytest.raises(ConfigError, match="no setting 'patient'"):
        compare(ds, ["bpr"], early_stopping={"metric": "ndcg@10", "patient": 3})
    with pytest.raises(ConfigError, match="patience must be a whole number ≥ 1"):
        StopSpec(patience=0)
    with pytest.raises(ConfigError, match="valid_size"):
        StopSpec(valid_size=1.0)
    with pytest.raises(ConfigError, match="ndgc@10"):
        compare(ds, ["bpr"], early_stopping="ndgc@10")
    train, _test, _about = make_split(ds, "ratings-holdout")
    valid = cut_validation(train, 0.1, seed=0)[1]
    with pytest.raises(ConfigError, match="takes the settings, not an EarlyStopping"):
        compare(ds, ["bpr"], early_stopping=EarlyStopping(valid))


def test_svd_stops_on_rmse_under_the_ratings_holdout(ds: movierec.Dataset) -> None:
    comp = compare(
        ds, [("svd", {"epochs": 30})], protocols="rating", early_stopping={"metric": "rmse", "patience": 2}
    )
    row = comp.row("svd", "rating")
    assert row.best_epoch is not None and row.best_epoch < 30
    train = comp.train
    rest, valid = cut_validation(train, 0.1, seed=42)
    stopper = EarlyStopping(valid, "rmse", every=5, patience=2, known=rest)
    create("svd", epochs=30, random_state=42).fit(rest, on_epoch=stopper)
    assert (row.best_epoch, row.valid_score) == (stopper.best_epoch_, stopper.best_score_)
    assert row.valid_score == pytest.approx(
        score_split(stopper.best_model_, rest, valid, parse_metric("rmse"))
    )


def test_cli_compare_early_stopping_in_a_subprocess(ratings: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    ratings.to_csv(path, index=False)
    proc = run_process(
        "compare", "--ratings", str(path), "--models", "warp,ease", "--params", "warp.epochs=6",
        "--protocols", "full-ranking", "--early-stopping", "ndcg@10", "--patience", "2", "--json", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = {r["model"]: r for r in json.loads(proc.stdout)}
    assert (
        1 <= rows["warp"]["best_epoch"] <= 6
        and rows["warp"]["params"]["epochs"] == rows["warp"]["best_epoch"]
    )
    assert "patience 2, every 5" in rows["warp"]["stopping"] and "best_epoch" not in rows["ease"]
    assert "ease cannot stop between epochs" in " ".join(proc.stderr.split())

    alone = run_process(
        "compare", "--ratings", str(path), "--models", "warp", "--patience", "2", cwd=tmp_path
    )
    assert (
        one_error_line(alone)
        == "--patience sets early stopping's patience: give --early-stopping METRIC with it"
    )
    rmse = run_process(
        "compare", "--ratings", str(path), "--models", "bpr", "--early-stopping", "rmse", cwd=tmp_path
    )
    assert one_error_line(rmse).startswith("early stopping bpr on rmse: ")


def test_experiment_file_early_stopping_key(ratings: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    ratings.to_csv(path, index=False)
    exp = tmp_path / "exp.toml"
    exp.write_text(
        f'protocols = ["full-ranking"]\n\n[dataset]\nname = "{path}"\n\n[early_stopping]\nmetric = "ndcg@10"\n'
        'patience = 2\nevery = 1\n\n[[models]]\nname = "warp"\n[models.params]\nepochs = 5\n'
    )
    proc = run_process(
        "compare", "--config", str(exp), "--out", str(tmp_path / "runs"), "--json", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert 1 <= row["best_epoch"] <= 5 and "patience 2, every 1" in row["stopping"]
    (run,) = (tmp_path / "runs").iterdir()
    assert "[early_stopping]" in (run / "config.toml").read_text()  # the run records it

    exp.write_text(exp.read_text().replace("patience = 2", "patience = 0"))
    bad = run_process("compare", "--config", str(exp), cwd=tmp_path)
    line = one_error_line(bad)
    assert "exp.toml" in line and "patience must be a whole number ≥ 1" in line
    flag = run_process("compare", "--config", str(exp), "--early-stopping", "rmse", cwd=tmp_path)
    assert one_error_line(flag).startswith("--early-stopping and --config exclude each other")


def test_report_takes_the_experiment_files_early_stopping(ratings: pd.DataFrame, tmp_path: Path) -> None:
    """``report --config`` hands the file's early_stopping to build_report: its rows carry the best epoch,
    its notes say which models stopped."""
    from movierec.viz.report import build_report

    rep = build_report(
        movierec.load(ratings), "warp", tmp_path / "rep", map_items=200, show_progress=False,
        protocols=["full-ranking"], beyond=False, early_stopping={"metric": "ndcg@10", "patience": 2, "every": 1},
    )  # fmt: skip
    written = json.loads((tmp_path / "rep" / "results.json").read_text())
    (row,) = written["results"]
    assert rep is not None and 1 <= row["best_epoch"] <= 25 and row["params"]["epochs"] == row["best_epoch"]
    assert any(n.startswith("early stopping on validation ndcg@10") for n in written["notes"])


def test_tune_stops_each_trial_early_and_never_reads_the_test_part(
    ds: movierec.Dataset, tmp_path: Path
) -> None:
    """tune(..., early_stopping=...) on RecBole's three parts: every trial of bpr (at most 12 epochs) stops
    on the validation part, its value is EarlyStopping's best score there with the trial's parameters, its
    best epoch is in the trial's user attrs and becomes the best params' epochs (best.toml); the test part,
    instrumented, is not read during the study, and is read by the refit afterwards."""
    import optuna

    from movierec.experiment import load_experiment
    from movierec.models.registry import split_model_params
    from movierec.split import per_user_split
    from movierec.tuning import tune
    from test_tuning import RecordingInteractions

    train, valid, test = per_user_split(ds.interactions, (0.8, 0.1, 0.1), seed=5)
    spy = RecordingInteractions(test)
    url = f"sqlite:///{tmp_path / 's.db'}"
    res = tune(None, "bpr", metric="ndcg@10", n_trials=2, holdout=(train, spy), validation=valid, seed=7,
               fixed_params={"epochs": 12}, early_stopping={"metric": "ndcg@10", "patience": 2, "every": 1},
               evaluate_test=False, storage=url, study_name="es")  # fmt: skip
    assert spy.reads == [] and res.n_complete == 2
    study = optuna.load_study(study_name="es", storage=url)
    for t in study.trials:
        assert 1 <= t.user_attrs["best_epoch"] <= 12 and t.user_attrs["best_epochs"] == [
            t.user_attrs["best_epoch"]
        ]
        assert "epochs" not in t.params  # the maximum is fixed, not searched
    best = study.best_trial
    assert res.best_params["epochs"] == best.user_attrs["best_epoch"]
    assert res.settings["early_stopping"] == {
        "metric": "ndcg@10",
        "patience": 2,
        "every": 1,
        "valid_size": 0.1,
    }

    stopper = EarlyStopping(valid, "ndcg@10", every=1, patience=2, known=train, threshold=4.0)
    name, params = split_model_params(
        "bpr", {**best.params, "epochs": 12, "random_state": 7}
    )  # loss: bpr/warp
    create(name, **params).fit(train.to_implicit(4.0), on_epoch=stopper)
    assert (stopper.best_epoch_, stopper.best_score_) == (best.user_attrs["best_epoch"], res.best_value)

    res = tune(None, "bpr", metric="ndcg@10", n_trials=1, holdout=(train, spy), validation=valid, seed=7,
               fixed_params={"epochs": 12}, early_stopping={"metric": "ndcg@10", "patience": 2, "every": 1},
               out=tmp_path / "out", storage=url, study_name="es")  # fmt: skip
    assert spy.reads and res.test_score is not None  # read once, for the refit with the best epochs
    exp = load_experiment(tmp_path / "out" / "best.toml")
    assert exp.models[0].params["epochs"] == res.best_params["epochs"] <= 12


def test_tune_refuses_early_stopping_where_it_cannot_apply(ds: movierec.Dataset) -> None:
    from movierec.tuning import tune

    with pytest.raises(ConfigError, match="ease cannot be scored and stopped between epochs"):
        tune(ds, "ease", metric="ndcg@10", n_trials=1, early_stopping=True)
    with pytest.raises(ConfigError, match="early stopping bpr on rmse: "):
        tune(ds, "bpr", metric="ndcg@10", n_trials=1, early_stopping="rmse")
    with pytest.raises(ConfigError, match="no setting 'patient'"):
        tune(ds, "bpr", metric="ndcg@10", n_trials=1, early_stopping={"patient": 2})
    with pytest.raises(ConfigError, match="tune stops each trial on its own validation fold"):
        tune(ds, "bpr", metric="ndcg@10", n_trials=1, early_stopping={"metric": "ndcg@10", "valid_size": 0.3})


def test_cli_tune_early_stopping_in_a_subprocess(ratings: pd.DataFrame, tmp_path: Path) -> None:
    """``movierec tune --early-stopping ndcg@10 --patience 2``: the trial's best epoch (at most the fixed 8)
    is best.toml's epochs; --patience alone and a model that cannot stop are one line each."""
    from movierec.experiment import load_experiment

    path = tmp_path / "r.csv"
    ratings.to_csv(path, index=False)
    proc = run_process(
        "tune", "--ratings", str(path), "--model", "bpr", "--metric", "ndcg@10", "--trials", "1", "--cv", "1",
        "--params", "epochs=8", "--early-stopping", "ndcg@10", "--patience", "2", "--out", "out", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    best = json.loads((tmp_path / "out" / "best.json").read_text())
    epochs = best["best_params"]["epochs"]
    assert 1 <= epochs <= 8 and best["settings"]["early_stopping"]["patience"] == 2
    assert load_experiment(tmp_path / "out" / "best.toml").models[0].params["epochs"] == epochs

    alone = run_process("tune", "--ratings", str(path), "--model", "bpr", "--patience", "2", cwd=tmp_path)
    assert one_error_line(alone).startswith("--patience sets early stopping's patience")
    ease = run_process(
        "tune", "--ratings", str(path), "--model", "ease", "--early-stopping", "ndcg@10", cwd=tmp_path
    )
    assert one_error_line(ease).startswith("early stopping: ease cannot be scored and stopped between epochs")


def test_a_run_that_never_stopped_says_so(
    ds: movierec.Dataset, ratings: pd.DataFrame, tmp_path: Path
) -> None:
    """A model whose patience was not spent ran all its epochs: its row says "ran all 6", not "(stopped at
    6)", and the command line prints no "training stopped" line for it (it printed "warp: training stopped
    (early stopping) after 0s, 25 epochs" for a warp that ran its 25). One that did stop says where."""
    ran = compare(ds, [("warp", {"epochs": 6})], protocols="full-ranking", seed=3,
                  early_stopping={"metric": "ndcg@10", "patience": 2, "every": 5})  # fmt: skip
    text = ran.row("warp", "full-ranking").stopping
    assert "(ran all 6: patience 2 not spent)" in text and "stopped at" not in text
    assert text.startswith("early stopping on validation ndcg@10 on 10% of each user's training ratings")
    stopped = compare(ds, [("bpr", {"epochs": 40})], protocols="full-ranking", seed=3, early_stopping=SPEC)
    row = stopped.row("bpr", "full-ranking")
    assert f"of at most 40 (stopped at {row.best_epoch + 2}); refit" in row.stopping  # patience 2, every 1

    path = tmp_path / "r.csv"
    ratings.to_csv(path, index=False)
    proc = run_process(
        "compare", "--ratings", str(path), "--models", "warp", "--params", "warp.epochs=6",
        "--protocols", "full-ranking", "--early-stopping", "ndcg@10", "--patience", "2", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "training stopped" not in proc.stderr and "warp · fitting · loss" in proc.stderr


def test_an_experiment_files_early_stopping_true_is_the_defaults_and_a_number_one_sentence(
    ratings: pd.DataFrame, tmp_path: Path
) -> None:
    """``early_stopping = true`` is StopSpec's defaults, as ``compare(early_stopping=True)`` is (it was
    refused with pydantic's "Input should be a valid dictionary or instance of EarlyStoppingConfig");
    ``false`` is off; another value is one line saying what the key takes."""
    from movierec.experiment import parse_experiment

    body = 'protocols = ["full-ranking"]\nearly_stopping = {}\n\n[[models]]\nname = "warp"\n'
    on = parse_experiment(body.format("true")).early_stopping
    assert on is not None and on.model_dump() == StopSpec().to_dict()
    assert parse_experiment(body.format("false")).early_stopping is None
    path = tmp_path / "r.csv"
    ratings.to_csv(path, index=False)
    exp = tmp_path / "exp.toml"
    exp.write_text(body.format("3") + f'\n[dataset]\nname = "{path}"\n')
    line = one_error_line(run_process("compare", "--config", "exp.toml", cwd=tmp_path))
    assert line == (
        'exp.toml, line 2: early_stopping: a metric name (early_stopping = "ndcg@10"), true (ndcg@10, patience '
        "10, every 5) or a table [early_stopping] of metric, patience, every, valid_size; got 3"
    )


def _same_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row without what differs between two runs of the same fit (its clocks, and when it was made)."""
    same = {key: value for key, value in row.items() if "second" not in key and not key.endswith("_s")}
    same["provenance"] = {key: value for key, value in row["provenance"].items() if key != "created_at"}
    return same


def test_stop_every_and_valid_size_on_the_command_line_are_the_files_keys(
    ratings: pd.DataFrame, tmp_path: Path
) -> None:
    """``compare --stop-every 3 --valid-size 0.2`` is ``[early_stopping] every = 3, valid_size = 0.2``: the
    best epoch is a multiple of 3, the stopping text names the 20 % part, and the file gives the same row."""
    path = tmp_path / "r.csv"
    ratings.to_csv(path, index=False)
    proc = run_process(
        "compare", "--ratings", str(path), "--models", "bpr", "--params", "bpr.epochs=12", "--protocols",
        "full-ranking", "--early-stopping", "ndcg@10", "--patience", "2", "--stop-every", "3", "--valid-size",
        "0.2", "--json", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert row["best_epoch"] in (3, 6, 9, 12), row["best_epoch"]
    assert "20% of each user's training ratings, patience 2, every 3" in row["stopping"]
    exp = tmp_path / "exp.toml"
    exp.write_text(
        f'protocols = ["full-ranking"]\n\n[dataset]\nname = "{path}"\n\n[early_stopping]\nmetric = "ndcg@10"\n'
        'patience = 2\nevery = 3\nvalid_size = 0.2\n\n[[models]]\nname = "bpr"\n[models.params]\nepochs = 12\n'
    )
    from_file = run_process("compare", "--config", str(exp), "--json", cwd=tmp_path)
    assert from_file.returncode == 0, from_file.stderr
    (file_row,) = json.loads(from_file.stdout)
    assert _same_row(file_row) == _same_row(row)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--early-stopping", "ndcg@10", "--stop-every", "0"], "invalid value for '--stop-every': must be ≥ 1, "
         "got 0 (see 'movierec compare --help')"),
        (["--early-stopping", "ndcg@10", "--valid-size", "1.5"], "invalid value for '--valid-size': the share of "
         "each user's training ratings to validate on, between 0 and 1 exclusive (0.1), got 1.5 (see 'movierec "
         "compare --help')"),
        (["--stop-every", "3"], "--stop-every sets how often early stopping scores the model: give "
         "--early-stopping METRIC with it"),
        (["--valid-size", "0.2"], "--valid-size sizes early stopping's validation part: give --early-stopping "
         "METRIC with it"),
        (["--config", "exp.toml", "--stop-every", "3"], "--stop-every and --config exclude each other: the "
         "experiment file sets it (edit exp.toml)"),
        (["--config", "exp.toml", "--valid-size", "0.2"], "--valid-size and --config exclude each other: the "
         "experiment file sets it (edit exp.toml)"),
        (["--train", "r.csv", "--test", "r.csv", "--valid", "r.csv", "--early-stopping", "ndcg@10", "--valid-size",
          "0.2"], "--valid-size and --valid exclude each other: early stopping scores on the --valid file and "
         "cuts no validation part"),
    ],
)  # fmt: skip
def test_stop_every_and_valid_size_refusals_are_one_line(
    ratings: pd.DataFrame, tmp_path: Path, args: list[str], line: str
) -> None:
    (tmp_path / "r.csv").write_text("userId,movieId,rating\n1,1,4\n")
    (tmp_path / "exp.toml").write_text('[[models]]\nname = "bpr"\n')
    models = [] if "--config" in args else ["--models", "bpr"]
    assert one_error_line(run_process("compare", *models, *args, cwd=tmp_path)) == line


def test_cli_tune_stop_every(ratings: pd.DataFrame, tmp_path: Path) -> None:
    """``tune --stop-every 2``: each trial is scored after every 2nd epoch, so best.toml's epochs is even, and
    the study records every 2; tune takes no --valid-size (a trial stops on its own fold)."""
    path = tmp_path / "r.csv"
    ratings.to_csv(path, index=False)
    proc = run_process(
        "tune", "--ratings", str(path), "--model", "bpr", "--metric", "ndcg@10", "--trials", "1", "--cv", "1",
        "--params", "epochs=8", "--early-stopping", "ndcg@10", "--patience", "2", "--stop-every", "2", "--out",
        "out", "--json", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    best = json.loads((tmp_path / "out" / "best.json").read_text())
    assert best["best_params"]["epochs"] in (2, 4, 6, 8)
    assert best["settings"]["early_stopping"]["every"] == 2
    alone = run_process("tune", "--ratings", str(path), "--model", "bpr", "--stop-every", "2", cwd=tmp_path)
    assert one_error_line(alone).startswith("--stop-every sets how often early stopping scores the model")
