"""Nested cross-validation of tuning (movierec.nested_tuning.nested_tune, ``movierec tune --outer-folds``):
real studies on the bundled ml-latest-small and on in-code data, the CLI as a subprocess. The check that
no outer fold's test part is read during its study is beside tune's in test_tuning.py."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from rich.cells import cell_len

pytest.importorskip("optuna")

from clihelp import run_process
from datagen import make_ratings
from movierec.datasets import Dataset
from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.registry import create
from movierec.nested_tuning import nested_tune
from movierec.split import kfold
from movierec.tuning import parse_metric, score_split, tune

ROOT = Path(__file__).resolve().parents[1]
SVD_FAST = {"epochs": 5}


def test_two_outer_folds_on_ml_latest_small_score_each_folds_refit_on_its_test_part(bundled: Dataset) -> None:
    """Each outer fold is Surprise's KFold over the ratings, its study seeded seed + f; its test score is
    the fold's best params refit on its training part and scored on its test part (checked by hand);
    the summary is their mean, np.std and a t-interval; repr and to_frame show the folds."""
    import movierec

    res = movierec.nested_tune(bundled, "svd", outer_folds=2, n_trials=2, cv=2, fixed_params=SVD_FAST, seed=7)
    inter = bundled.interactions
    assert [r["seed"] for r in res.folds] == [7, 8] and res.outer.startswith("2-fold cv over ratings")
    assert [s.settings["split_seed"] for s in res.studies] == [7, 8]
    assert sum(r["n_test"] for r in res.folds) == inter.n_ratings
    assert all(r["n_train"] + r["n_test"] == inter.n_ratings for r in res.folds)
    for r, (train, test) in zip(res.folds, kfold(inter, 2, 7), strict=True):
        model = create("svd", **{**r["best_params"], **SVD_FAST, "random_state": r["seed"]}).fit(train)
        assert r["test"] == pytest.approx(score_split(model, train, test, parse_metric("rmse")))
        assert r["n_complete"] == 2 and r["validation"] is not None
    scores = [r["test"] for r in res.folds]
    assert res.mean == pytest.approx(np.mean(scores)) and res.std == pytest.approx(np.std(scores))
    lo, hi = res.interval  # type: ignore[misc]
    assert lo < res.mean < hi
    frame = res.to_frame()
    assert list(frame["fold"]) == [1, 2] and {"validation", "test", "params_factors"} <= set(frame.columns)
    text = repr(res)
    assert "2 outer folds × 2 trials, 2 inner folds" in text and "mean ± std of 2 folds" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    # one name per column, to_frame's (a count and a score were both "test")
    head = text.splitlines()[2].split()
    assert head == ["fold", "n_train", "n_test", "validation", "test", "n_complete", "n_pruned"]
    assert set(head) <= set(frame.columns)
    again = nested_tune(bundled, "svd", outer_folds=2, n_trials=2, cv=2, fixed_params=SVD_FAST, seed=7)
    assert [r["test"] for r in again.folds] == scores  # deterministic from the seed


def test_a_model_trained_on_positives_is_ranked_on_folds_of_positives() -> None:
    """ease for ndcg@10: folds of the positives (compare's interactions-holdout with cv); svd for
    ndcg@10 keeps every rating (it learns from its low ones too)."""
    small = Interactions.from_frame(make_ratings(120, 80, 0.3, seed=3), rating_scale=(0.5, 5.0))
    positives = int((small.ratings >= 4).sum())
    res = nested_tune(small, "ease", metric="ndcg@10", outer_folds=2, n_trials=1, cv=2)
    assert res.outer.startswith("2-fold cv over positives ≥ 4")
    assert sum(r["n_test"] for r in res.folds) == positives and all(r["test"] for r in res.folds)
    svd = nested_tune(small, "svd", metric="ndcg@10", outer_folds=2, n_trials=1, cv=2, fixed_params=SVD_FAST)
    assert svd.outer.startswith("2-fold cv over ratings")
    assert sum(r["n_test"] for r in svd.folds) == small.n_ratings


def test_the_result_keeps_the_outer_folds_so_others_are_scored_on_the_same_ones() -> None:
    """res.splits are the outer folds the studies ran on (Surprise's KFold, seed 42, the same rows in
    the same order), so bench_tuning scores the defaults and the blend on them instead of cutting
    the folds again; given folds come back as given."""
    small = Interactions.from_frame(make_ratings(60, 50, 0.3, seed=5), rating_scale=(0.5, 5.0))
    res = nested_tune(small, "baseline", outer_folds=3, n_trials=1, cv=1, seed=42)
    assert len(res.splits) == 3
    for r, (train, test), (k_train, k_test) in zip(res.folds, res.splits, kfold(small, 3, 42), strict=True):
        assert (r["n_train"], r["n_test"]) == (train.n_ratings, test.n_ratings)
        for got, want in ((train, k_train), (test, k_test)):
            for a in ("users", "items", "ratings"):
                assert np.array_equal(getattr(got, a), getattr(want, a))
    model = create("baseline").fit(res.splits[0][0])  # the defaults, on fold 1's own parts
    assert score_split(model, *res.splits[0], parse_metric("rmse")) > 0
    given = kfold(small, 2, 7)
    mine = nested_tune(None, "baseline", outer_folds=given, n_trials=1, cv=1)
    assert all(a[0] is b[0] and a[1] is b[1] for a, b in zip(mine.splits, given, strict=True))


def test_the_python_plan_line_wraps_at_the_terminals_width_with_no_word_alone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """nested_tune(progress=True)'s first line was printed whole: 85 columns here, past a terminal of 80,
    which broke it mid-word. It wraps as tune's start line does, in balanced lines."""
    monkeypatch.setenv("COLUMNS", "80")
    small = Interactions.from_frame(make_ratings(60, 50, 0.3, seed=5), rating_scale=(0.5, 5.0))
    nested_tune(small, "baseline", metric="rmse", outer_folds=2, n_trials=2, cv=2, seed=42, progress=True)
    err = capsys.readouterr().err.splitlines()
    plan = "nested cross-validation of baseline for rmse: 2 outer folds × 2 trials, 2 inner folds"
    assert len(plan) == 85 and " ".join(err[:2]) == plan, err
    assert max(len(line) for line in err[:2]) <= 80 and " " in err[1], err


def test_a_nested_result_shows_itself_as_a_card_in_a_notebook() -> None:
    """02's nested cell showed the repr's text where the study a cell above shows a card (TuneResult's
    _repr_html_). Its card says what was searched (the plan), the folds' test scores as mean ± std, and a
    row per outer fold with its scores and the parameters its study chose, as the repr's lines do."""
    import re
    from html import escape

    small = Interactions.from_frame(make_ratings(60, 50, 0.3, seed=5), rating_scale=(0.5, 5.0))
    res = nested_tune(small, "baseline", metric="rmse", outer_folds=3, n_trials=2, cv=1, seed=42)
    page = res._repr_html_()
    assert "<h4>Nested tuning of baseline for rmse</h4>" in page
    said = re.findall(r'<p class="mr-note">([^<]*)</p>', page)
    assert said[0] == "baseline for rmse: 3 outer folds × 2 trials, one 20% validation split", said
    assert said[1] == escape(f"{res.summary()} (lower is better)") and " ± " in said[1], said
    assert f"{res.mean:.4f} ± {res.std:.4f}" in said[1] and escape(res.outer) in said[-1], said
    head = re.findall(r"<th>([^<]+)</th>", page)
    assert head == ["fold", "n_train", "n_test", "validation", "test", "reg_i", "reg_u", "epochs"], head
    rows = [re.findall(r"<td>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)]
    rows = [row for row in rows if row]  # the body's rows
    assert [row[0] for row in rows] == ["1", "2", "3"], rows
    for row, fold in zip(rows, res.folds, strict=True):
        assert row[4] == f"{fold['test']:.4f}" and row[3] == f"{fold['validation']:.4f}", (row, fold)
        assert row[5:] == [
            f"{v:.4g}" if isinstance(v, float) else str(v) for v in fold["best_params"].values()
        ]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"storage": "sqlite:///x.db"}, r"^nested_tune\(\) takes no storage=: each fold's study is kept in"),
        ({"test_size": 0.1}, r"^nested_tune\(\) takes no test_size=: each of K outer folds holds out 1/K"),
        ({"resume": True}, r"takes no resume=: nested studies are not stored"),
        (
            {"n_trial": 2},
            r"^nested_tune\(\) has no keyword 'n_trial' \(did you mean 'n_trials'\?\); valid: metric",
        ),
        ({"outer_folds": 1}, r"^outer_folds must be ≥ 2 \(one hold-out is tune\(\) itself\), got 1$"),
        ({"outer_folds": "3"}, r"^outer_folds must be a whole number ≥ 2 or a list of \(train, test\) pairs"),
    ],
)
def test_options_that_mean_nothing_nested_are_refused_in_one_line(tiny: Interactions, kwargs, needle) -> None:
    with pytest.raises(ConfigError, match=needle):
        nested_tune(tiny, "baseline", n_trials=1, **kwargs)


def test_tune_points_to_nested_tune_for_outer_folds(tiny: Interactions) -> None:
    with pytest.raises(
        ConfigError, match=r"movierec\.nested_tuning\.nested_tune\(dataset, model, outer_folds=K"
    ):
        tune(tiny, "baseline", n_trials=1, outer_folds=3)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_process("tune", *args, cwd=cwd, env={"COLUMNS": "80"})


def test_cli_outer_folds_prints_the_plan_the_folds_and_the_mean_and_writes_no_best_toml(
    tmp_path: Path,
) -> None:
    out = tmp_path / "nested"
    run = _cli("--model", "svd", "--outer-folds", "2", "--trials", "2", "--cv", "2", "--params", "epochs=5",
               "--seed", "3", "--out", str(out), cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    err = run.stderr.splitlines()
    assert err[0] == "nested cross-validation of svd for rmse: 2 outer folds × 2 trials, 2 inner folds"
    assert err[1] == "outer folds: 2-fold cv over ratings (Surprise KFold, seed 3)"
    assert err[2].startswith("outer fold 1/2: 50,418 training ratings, 50,418 held out (seed 3)")
    assert any("fold 2/2 svd (rmse)" in line and "2/2" in line for line in err)  # a line per trial, per fold
    doc = json.loads((out / "nested.json").read_text())
    tests = [f["test"] for f in doc["folds"]]
    assert doc["test_mean"] == pytest.approx(np.mean(tests)) and len(doc["studies"]) == 2
    assert doc["provenance"]["dataset_sha256"] and "not one set of parameters" in doc["estimates"]
    shown = f"test rmse {doc['test_mean']:.4f} ± {doc['test_std']:.4f} (mean ± std of 2 folds; 95% CI"
    assert shown in run.stdout and "no best.toml is written" in run.stdout
    table = [line for line in run.stdout.splitlines() if line.startswith(("┃", "│", "┏", "└"))]
    assert len(table) >= 4 and max(len(line) for line in table) <= 80
    # one name per column (the test part's size was "test", like its score), on two header lines
    names = ["fold", "train ratings", "test ratings", "validation", "test rmse", "trials"]
    assert headers(table) == names, table
    with (out / "nested_folds.csv").open() as fh:
        assert [row["fold"] for row in csv.DictReader(fh)] == ["1", "2"]
    with (out / "nested_trials.csv").open() as fh:
        assert sorted(row["fold"] for row in csv.DictReader(fh)) == ["1", "1", "2", "2"]
    assert sorted(p.name for p in out.iterdir()) == ["nested.json", "nested_folds.csv", "nested_trials.csv"]


def headers(table: list[str]) -> list[str]:
    """The column names of a printed table's lines, a name on two header lines (``┃``) joined."""
    lines = [[cell.strip() for cell in line.strip("┃").split("┃")] for line in table if line.startswith("┃")]
    return [" ".join(part for part in column if part) for column in zip(*lines, strict=True)]


def test_cli_outer_folds_table_fits_80_columns_with_every_name_whole(tmp_path: Path) -> None:
    """The per-fold table's six one-line headers were 81 columns wide with the README's ``tune --model svd
    --outer-folds 5 --trials 20``: at 80 each fold's '16 (+4 pruned)' wrapped over two lines, and a
    trade-off metric's header was cut ('test ndcg@10-0.1*arp…'). The counts' and the score's headers take
    two lines now, as the lists' 'ratings' / 'of 4+' do."""
    run = _cli("--model", "svd", "--outer-folds", "2", "--trials", "2", "--cv", "2", "--params", "epochs=5",
               "--metric", "ndcg@10-0.1*arp@10", "--out", str(tmp_path / "nested"), cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    table = [line for line in run.stdout.splitlines() if line.startswith(("┃", "│", "┏", "└"))]
    assert all(cell_len(line) <= 80 for line in table), run.stdout
    assert headers(table) == [
        "fold", "train ratings", "test ratings", "validation", "test ndcg@10-0.1*arp@10", "trials"
    ], run.stdout  # fmt: skip
    rows = [line for line in table if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == ["1", "2"], run.stdout  # a line per fold


def test_cli_outer_folds_plan_wider_than_80_columns_is_wrapped_with_no_line_ending_in_a_space(
    tmp_path: Path,
) -> None:
    """The README's ``tune --model svd --outer-folds 5 --trials 20`` printed its 81-column plan through rich's
    own wrap, which left the space it broke at: 'nested cross-validation … 20 trials, 3 inner ' / 'folds'.
    It is wrapped as compare's notes are. Ten trials make the same 81 columns here."""
    run = _cli("--model", "svd", "--outer-folds", "2", "--trials", "10", "--cv", "2", "--params",
               "epochs=2,factors=4", "--out", str(tmp_path / "nested"), cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    err = run.stderr.splitlines()
    plan = "nested cross-validation of svd for rmse: 2 outer folds × 10 trials, 2 inner folds"
    assert len(plan) == 81 and " ".join(err[:2]) == plan, run.stderr
    assert not [line for line in err if line.endswith(" ") or len(line) > 80], run.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--resume"], "--outer-folds with --resume: nested studies are kept in memory"),
        (["--storage", "sqlite:///s.db"], "--outer-folds with --storage: nested studies are kept in memory"),
        (["--test-size", "0.1"], "--outer-folds with --test-size: each of K outer folds holds out 1/K"),
    ],
)
def test_cli_outer_folds_refuses_what_makes_no_sense_in_one_line(tmp_path: Path, args, needle) -> None:
    run = _cli("--model", "svd", "--outer-folds", "2", *args, cwd=tmp_path)
    assert run.returncode == 2 and needle in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_cli_outer_folds_without_a_model_does_not_offer_resume(tmp_path: Path) -> None:
    """``tune --outer-folds 2`` without --model said '--model is required (…) unless --resume names a
    --study', a way out that the nested run refuses in its next line; plain ``tune`` still offers it."""
    nested = _cli("--outer-folds", "2", cwd=tmp_path)
    assert nested.returncode == 2 and "--model is required (one of " in nested.stderr
    assert "--resume" not in nested.stderr, nested.stderr
    plain = _cli(cwd=tmp_path)
    assert plain.returncode == 2 and "unless --resume names a --study" in plain.stderr


def test_cli_outer_folds_records_and_says_the_user_features_and_refuses_those_it_cannot_use(
    tmp_path: Path,
) -> None:
    """``tune warp --user-features demographics --outer-folds 2`` fitted every fold with them, but nested.json's
    settings left them out (each study's own settings had them) and nothing printed said so; a spec the data
    cannot give ('demographics' on ml-latest-small, a second file) was refused only after the plan and fold
    1's lines, by fold 1's study. Now the settings record the spec, the output names it, and those mistakes
    are one line before anything else, as is a model that ignores user features (svd: it tuned without them
    and recorded them)."""
    from datagen import planted_movielens_folder

    folder = planted_movielens_folder(tmp_path / "planted")
    args = ["-m", "warp", "--metric", "ndcg@10", "--params", "epochs=3", "--trials", "2", "--cv", "1"]
    run = _cli(*args, "--dataset", str(folder), "--user-features", "demographics", "--outer-folds", "2",
               "--out", "n", cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "user features in every fold: demographics" in run.stdout.splitlines(), run.stdout
    doc = json.loads((tmp_path / "n" / "nested.json").read_text())
    assert doc["settings"]["user_features"] == "demographics"
    assert [s["settings"]["user_features"] for s in doc["studies"]] == ["demographics", "demographics"]
    refused = [
        (["--user-features", "demographics"], "dataset 'ml-latest-small' has no user demographics"),
        (["--dataset", str(folder), "--user-features", "a.csv,b.csv"], "take 'demographics', a file, or"),
        (["--dataset", str(folder), "--user-features", "gone.csv"], "gone.csv: features file not found"),
    ]
    for extra, needle in refused:
        run = _cli(*args, *extra, "--outer-folds", "2", "--out", "m", cwd=tmp_path)
        assert run.returncode == 2 and needle in run.stderr, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1 and not run.stdout, run.stderr  # no plan line first
    svd = ["-m", "svd", "--dataset", str(folder), "--user-features", "demographics", "--trials", "1"]
    for nested in ([], ["--outer-folds", "2"]):
        run = _cli(*svd, *nested, "--out", "m", cwd=tmp_path)
        assert run.returncode == 2, run.stderr
        assert run.stderr.startswith("movierec: error: svd does not use user features; give them to a model "
                                     "that does (segment-popularity, bpr, warp, "), run.stderr  # fmt: skip
        assert len(run.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()


def test_another_nested_runs_results_in_out_are_refused_before_a_fold_and_kept(tmp_path: Path) -> None:
    """``tune --outer-folds 2 --out o`` of baseline for rmse, then one of ease for ndcg@10 (or baseline with
    another seed and trial count, or other params, or other data) into the same o: exit 0, and o's
    nested.json, nested_folds.csv and nested_trials.csv were all the second run's, the first estimate gone.
    Each is refused now in plain tune's words (one line, exit 2, no plan line), the files byte for byte as
    they were; the same run again goes on (its results again), --force replaces them, and plain tune's
    files in the same folder (other names) and nested tune's are left to each other."""
    make_ratings(60, 50, 0.4, seed=2).to_csv(tmp_path / "r.csv", index=False)
    head = (tmp_path / "r.csv").read_text().splitlines()
    (tmp_path / "r2.csv").write_text("\n".join(head[:-40]) + "\n")
    base = ["--ratings", "r.csv", "--outer-folds", "2", "--trials", "1", "--cv", "1", "--out", "o"]
    out = tmp_path / "o"

    def files() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(out.iterdir())}

    first = _cli("-m", "baseline", *base, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = files()
    assert sorted(before) == ["nested.json", "nested_folds.csv", "nested_trials.csv"]
    tests = [f["test"] for f in json.loads(before["nested.json"])["folds"]]
    tail = "; pass --force to replace them or choose another --out"
    refusals = [
        (["-m", "ease", "--metric", "ndcg@10", "--seed", "7"], "baseline for rmse"),
        (["-m", "baseline", "--seed", "7", "--trials", "2"], "baseline for rmse with trials 1, seed 42"),
        (["-m", "baseline", "--params", "reg_u=3"], "baseline for rmse with no params"),
        (["-m", "baseline", "--ratings", "r2.csv"], "baseline for rmse on other data"),
    ]
    for extra, whose in refusals:
        run = _cli(*base, *extra, cwd=tmp_path)  # a later --ratings or --trials is the one typer keeps
        line = f"movierec: error: --out o: holds results of nested tuning of {whose}{tail}"
        assert (run.returncode, run.stderr.splitlines(), run.stdout) == (2, [line], ""), run.stderr
        assert len(line) <= 160 and files() == before
    again = _cli("-m", "baseline", *base, cwd=tmp_path)  # the same run: its results again, nothing lost
    assert again.returncode == 0, again.stderr
    assert [f["test"] for f in json.loads((out / "nested.json").read_text())["folds"]] == tests
    # plain tune's results beside them: other names, each run leaves the other's files as they were
    nested = files()
    plain = _cli(
        "-m", "baseline", "--ratings", "r.csv", "--trials", "1", "--cv", "1", "--out", "o", cwd=tmp_path
    )
    assert plain.returncode == 0, plain.stderr
    assert {"best.json", "best.toml", "trials.csv", "study.db"} <= set(files())
    assert {k: v for k, v in files().items() if k in nested} == nested
    theirs = {k: v for k, v in files().items() if k not in nested}
    forced = _cli(*base, "-m", "ease", "--metric", "ndcg@10", "--seed", "7", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    doc = json.loads((out / "nested.json").read_text())
    assert (doc["model"], doc["metric"], doc["settings"]["seed"]) == ("ease", "ndcg@10", 7)
    assert {k: v for k, v in files().items() if k not in nested} == theirs  # plain tune's, untouched
    assert sorted(files()) == sorted([*nested, *theirs])
    # from Python: the same refusal with force=True, before the plan line; force=True replaces them
    ratings = Interactions.from_frame(make_ratings(60, 50, 0.4, seed=2), rating_scale=(0.5, 5.0))
    kw = dict(outer_folds=2, n_trials=1, cv=1, out=out, progress=False)
    with pytest.raises(ConfigError) as refused:
        nested_tune(ratings, "baseline", **kw)  # type: ignore[arg-type]
    assert str(refused.value) == (
        f"out= {out}: holds results of nested tuning of ease for ndcg@10; pass force=True to replace them or "
        "choose another out="
    )
    assert json.loads((out / "nested.json").read_text()) == doc
    res = nested_tune(ratings, "baseline", force=True, **kw)  # type: ignore[arg-type]
    assert json.loads((out / "nested.json").read_text())["test_mean"] == pytest.approx(res.mean)
