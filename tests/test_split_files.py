"""A split made elsewhere, read from its files: ``compare --train FILE --test FILE``, ``tune --train --test
[--valid]`` and an experiment file's ``[split] train``/``test`` (movierec.split_files). Real files in
tmp_path, the CLI in a subprocess; the figures are Python's ``compare(ds, models, split=(train, test))``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

import movierec
from clihelp import one_error_line, run_process
from movierec.datasets import Dataset
from movierec.split_files import load_split_files
from movierec.tuning import tune
from test_tuning import RecordingInteractions

MODELS = "popularity,baseline,ease"


def _frames(bundled: Dataset) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """ml-latest-small's first 120 users split 70/10/20 at random, plus one user only in the test part
    (a cold user) and the rows of a movie only there (a cold movie)."""
    df = bundled.to_frame()
    df = df[df.userId <= 120].reset_index(drop=True)
    part = np.random.default_rng(7).choice(3, size=len(df), p=[0.7, 0.1, 0.2])
    cold_user = df.userId == 120
    part[cold_user.to_numpy()] = 2
    return df[part == 0], df[part == 1], df[part == 2]


@pytest.fixture(scope="module")
def files(bundled: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("split")
    train, valid, test = _frames(bundled)
    train.to_csv(folder / "train.csv", index=False)
    valid.to_csv(folder / "valid.csv", index=False)
    test.to_csv(folder / "test.csv", index=False)
    # the same rows headerless and tab-separated, as a paper's .tsv files often are
    train.to_csv(folder / "train.tsv", sep="\t", index=False, header=False)
    test.to_csv(folder / "test.tsv", sep="\t", index=False, header=False)
    return folder


def _figures(records: list[dict]) -> dict[tuple[str, str], dict[str, float]]:
    """Each row's metrics (intervals included), keyed by (model, protocol); timings left out."""
    out = {}
    for r in records:
        keep = {k: v for k, v in r.items() if isinstance(v, float) and "seconds" not in k}
        keep.update({f"{m}_ci": tuple(v) for m, v in (r.get("intervals") or {}).items()})
        out[(r["model"], r["protocol"])] = keep
    return out


def test_compare_on_files_gives_pythons_figures_and_records_the_files(files: Path) -> None:
    """``compare --train --test`` equals Python's ``compare(ds, models, split=(train, test))`` built the way a
    LensKit user builds it (the rows loaded together, ``make_split(ds, test=rows)``): every metric and interval
    of every row. The rows' split names the files, the provenance records each file's sha256, and the cold
    user and movie of the test file are counted in a note, not refused."""
    proc = run_process("compare", "--train", "train.csv", "--test", "test.csv", "--models", MODELS,
                       "--out", "out", cwd=files)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    records = json.loads((files / "out" / "results.json").read_text())
    tr, te = pd.read_csv(files / "train.csv"), pd.read_csv(files / "test.csv")
    ds = movierec.load(pd.concat([tr, te], ignore_index=True))
    train, test, _ = movierec.make_split(ds, test=te)
    comp = movierec.compare(ds, MODELS, split=(train, test), progress=False)
    ours = _figures(records)
    assert ours == _figures(comp.records()) and len(ours) == 7  # 3 ranking rows × 2 + baseline's rating row
    n_train, n_test = len(tr), len(te)
    assert {r["split"] for r in records} == {
        f"given files train.csv / test.csv ({n_train:,} / {n_test:,} ratings)"
    }
    recorded = records[0]["provenance"]["split_files"]
    for part in ("train", "test"):
        digest = hashlib.sha256((files / f"{part}.csv").read_bytes()).hexdigest()
        assert recorded[part] == {"path": str((files / f"{part}.csv").resolve()), "sha256": digest}
    note = " ".join(proc.stdout.split())
    assert "--test test.csv: 1 user (" in note and "without a rating in --train train.csv" in note
    # the same rows, headerless and tab-separated: read by position, the same figures
    proc = run_process("compare", "--train", "train.tsv", "--test", "test.tsv", "--models", MODELS, "--json",
                       cwd=files)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert _figures(json.loads(proc.stdout)) == ours


def test_a_catalogue_gives_the_files_titles(files: Path, bundled: Dataset) -> None:
    """``--dataset ml-latest-small`` beside the files (``catalogue=`` here) gives their movies its titles;
    without it they have none. The ids are the files', one space for both."""
    plain = load_split_files(files / "train.csv", files / "test.csv")
    titled = load_split_files(files / "train.csv", files / "test.csv", catalogue=bundled)
    assert not plain.dataset.has_titles
    toy = int(np.flatnonzero(titled.dataset.interactions.item_map.ids == 1)[0])
    assert titled.dataset.movies.title[toy] == "Toy Story (1995)"
    assert titled.dataset.split_files["catalogue"]["name"] == "ml-latest-small"
    assert plain.train.user_map is plain.test.user_map is plain.dataset.interactions.user_map


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--train", "train.csv"], "--train is one part of a split made elsewhere: give the other with --test FILE"),
        (["--train", "nosuch.csv", "--test", "test.csv"], "--train nosuch.csv: no such file"),
        (["--train", "train.csv", "--test", "test.csv", "--split", "per-user"],
         "--split and --train/--test exclude each other: the files are the split already drawn"),
        (["--train", "train.csv", "--test", "test.csv", "--cv", "3"],
         "--cv and --train/--test exclude each other: the files are the split already drawn"),
        (["--train", "train.csv", "--test", "test.csv", "--test-size", "0.1"],
         "--test-size and --train/--test exclude each other: the files are the split already drawn"),
        (["--train", "train.csv", "--test", "overlap.csv"],
         "2 of --test overlap.csv's 5 rows are also in --train train.csv (the first: user "),
        (["--train", "train.csv", "--test", "scale10.csv"],
         "--test scale10.csv has 5 ratings outside --train train.csv's range 0.5–5 (the first "),
        (["--train", "train.csv", "--test", "notime.csv"],
         "--train train.csv has timestamps and --test notime.csv none: the files must have the same columns"),
    ],
)  # fmt: skip
def test_a_split_of_files_that_cannot_be_is_one_line(files: Path, args: list[str], says: str) -> None:
    te = pd.read_csv(files / "test.csv").head(5)
    tr = pd.read_csv(files / "train.csv")
    pd.concat([te.head(3), tr.head(2)]).to_csv(files / "overlap.csv", index=False)
    te.assign(rating=te.rating * 2 + 5).to_csv(files / "scale10.csv", index=False)
    te.drop(columns="timestamp").to_csv(files / "notime.csv", index=False)
    assert one_error_line(run_process("compare", "--models", "popularity", *args, cwd=files)).startswith(says)


def test_tune_on_files_never_reads_the_test_part_and_best_toml_runs_it_again(files: Path) -> None:
    """``tune --train --test --valid``: trials fit on train and are scored on valid; the test part, wrapped
    to log every read, is not touched before the last trial finished (the path the CLI takes, tune's
    holdout= and validation= from load_split_files). In a subprocess the study's best.toml names the files,
    and ``compare --config best.toml`` reads the test score tune reported."""
    sf = load_split_files(files / "train.csv", files / "test.csv", valid=files / "valid.csv")
    spy = RecordingInteractions(sf.test)
    url = f"sqlite:///{files / 'spy.db'}"
    tune(sf.dataset, "baseline", n_trials=3, holdout=(sf.train, spy), validation=sf.valid, storage=url,
         study_name="spy", seed=3)  # fmt: skip
    last_done = max(t.datetime_complete for t in optuna.load_study(study_name="spy", storage=url).trials)
    assert spy.reads and min(when for _, when in spy.reads) >= last_done
    proc = run_process("tune", "--model", "baseline", "--trials", "3", "--train", "train.csv", "--test",
                       "test.csv", "--valid", "valid.csv", "--out", "tuned", "--json", cwd=files)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["settings"]["cv"] == 1 and set(result["settings"]["split_files"]) == {
        "train",
        "test",
        "valid",
    }
    best = (files / "tuned" / "best.toml").read_text()
    assert 'valid = "../valid.csv"' in best and "kind" not in best  # relative to best.toml, as read
    proc = run_process("compare", "--config", "tuned/best.toml", "--out", "runs", "--json", cwd=files)
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)[0]
    assert row["rmse"] == pytest.approx(result["test_score"], abs=1e-12)
    assert row["split"].startswith("given files train.csv + valid.csv / test.csv (")


def test_an_experiment_file_names_the_files_relative_to_itself(files: Path) -> None:
    """``[split] train``/``test`` are paths beside the TOML file: ``compare --config`` from another folder
    gives the figures of ``compare --train --test``, and records the files in provenance.json; a missing
    file is one line naming the key's line, a kind beside the files too, and the report refuses them."""
    folder = files / "exp"
    folder.mkdir(exist_ok=True)
    body = 'protocols = ["rating", "full-ranking"]\n\n[split]\ntrain = "../train.csv"\ntest = "../test.csv"\n'
    models = '\n[[models]]\nname = "popularity"\n\n[[models]]\nname = "baseline"\n'
    (folder / "exp.toml").write_text(body + models)
    proc = run_process(
        "compare", "--config", str(folder / "exp.toml"), "--out", "runs", "--json", cwd=files.parent
    )
    assert proc.returncode == 0, proc.stderr
    direct = run_process("compare", "--train", "train.csv", "--test", "test.csv", "--models", "popularity,baseline",
                         "--protocols", "rating,full-ranking", "--json", cwd=files)  # fmt: skip
    assert _figures(json.loads(proc.stdout)) == _figures(json.loads(direct.stdout))
    (run,) = (files.parent / "runs").iterdir()
    prov = json.loads((run / "provenance.json").read_text())
    assert (
        prov["split_files"]["test"]["sha256"] == hashlib.sha256((files / "test.csv").read_bytes()).hexdigest()
    )
    (folder / "bad.toml").write_text(body.replace("../test.csv", "../nosuch.csv") + models)
    line = one_error_line(run_process("compare", "--config", "exp/bad.toml", cwd=files))
    assert line == f"exp/bad.toml, line 5: [split] test: no such file {(files / 'nosuch.csv').resolve()}"
    (folder / "kind.toml").write_text(body.replace("[split]\n", '[split]\nkind = "per-user"\n') + models)
    line = one_error_line(run_process("compare", "--config", "exp/kind.toml", cwd=files))
    assert line.endswith("split: train and test are the split already drawn: leave kind and test_size out")
    # the report takes the files (tests/viz/test_report_split_files.py); a typed --test-size beside them is one line
    line = one_error_line(run_process("report", "--config", "exp/exp.toml", "--test-size", "0.3", cwd=files))
    assert line.startswith(
        "--test-size and the experiment's [split] train/test exclude each other: the files"
    )


def test_each_files_notes_are_said_with_the_file_and_the_cold_note_names_what_there_is(files: Path) -> None:
    """A test or validation file's reading notes reach the person as the training file's do, naming the
    file (duplicates dropped from test.csv were dropped silently before: only the training file's notes
    were kept). The cold note names the parts that train (a validation file's rows train too) and says
    only what the test part has: no word on cold users where every test user trained."""
    te = pd.read_csv(files / "test.csv")
    pd.concat([te, te.head(4)]).to_csv(files / "dup_test.csv", index=False)
    sf = load_split_files(files / "train.csv", files / "dup_test.csv", valid=files / "valid.csv")
    assert (
        "--test dup_test.csv: dropped 4 duplicate (user, item) ratings, kept the latest" in sf.dataset.notes
    )
    assert sf.test.n_ratings == len(te)
    (cold,) = sf.notes
    assert (
        cold.startswith("--test dup_test.csv: 1 user (")
        and "in --train train.csv or --valid valid.csv" in cold
    )
    warm_users = te[te.userId != 120]
    warm_users.to_csv(files / "warm_test.csv", index=False)
    (cold,) = load_split_files(files / "train.csv", files / "warm_test.csv").notes
    assert " movies (" in cold and "user" not in cold.split("(of its")[0] and "cold user" not in cold
    assert cold.endswith("no model has learnt a cold movie")


def test_tune_with_a_validation_file_names_it_in_its_summary(files: Path) -> None:
    """``tune --valid``: the trials were scored on the validation file and the test refit trained on both
    files, and the summary says so (it read "validation rmse (1-fold on the training split)" and "refit on
    the training split", as a run that cut its own fold)."""
    proc = run_process("tune", "--model", "baseline", "--trials", "2", "--train", "train.csv", "--test",
                       "test.csv", "--valid", "valid.csv", "--out", "tuned-valid", cwd=files)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "validation rmse (on valid.csv): " in text
    assert "test rmse (best params refit on train.csv + valid.csv): " in text and "1-fold" not in text
    assert (
        "not comparable, the trials train on train.csv alone, the test refit on train.csv + valid.csv" in text
    )


STOP = {"metric": "ndcg@10", "patience": 2, "every": 1}


def test_early_stopping_scores_on_the_given_valid_part_and_refits_on_train_and_valid(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``compare(ds, models, split=(train, valid, test), early_stopping=…)``: bpr stops on the validation
    file's rows themselves (the Stopper is built on that very part, which shares no row with the test
    part), its row is EarlyStopping on it by hand (fit on the training file) and bpr refit on train +
    valid with the best epoch (to 1e-12); popularity, which cannot stop, trains on train + valid as
    without early stopping. Before, the valid rows were joined to training and 10% of it cut instead."""
    from movierec.early_stopping import EarlyStopping
    from movierec.evaluation import compare, evaluate
    from movierec.models import create
    from movierec.stopping import Stopper

    sf = load_split_files(files / "train.csv", files / "test.csv", valid=files / "valid.csv")
    built: list[object] = []
    real_init = Stopper.__init__

    def recording_init(self: Stopper, valid: object, *args: object, **kwargs: object) -> None:
        built.append(valid)
        real_init(self, valid, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Stopper, "__init__", recording_init)
    models = [("bpr", {"epochs": 40}), "popularity"]
    comp = compare(sf.dataset, models, split=sf.parts(), protocols="full-ranking", seed=3,
                   early_stopping=STOP, progress=False)  # fmt: skip
    monkeypatch.undo()
    assert len(built) == 1 and built[0] is sf.valid  # exactly the file's rows, never a part cut or the test's
    pairs = set(zip(sf.valid.users.tolist(), sf.valid.items.tolist(), strict=True))
    assert not pairs & set(zip(sf.test.users.tolist(), sf.test.items.tolist(), strict=True))

    stopper = EarlyStopping(sf.valid, "ndcg@10", every=1, patience=2, known=sf.train, threshold=4.0)
    create("bpr", epochs=40, random_state=3).fit(sf.train.to_implicit(4.0), on_epoch=stopper)
    row = comp.row("bpr", "full-ranking")
    assert row.best_epoch == stopper.best_epoch_ and row.valid_score == stopper.best_score_
    both = sf.train.concat(sf.valid)
    refit = create("bpr", epochs=stopper.best_epoch_, random_state=3).fit(both.to_implicit(4.0))
    manual = evaluate(refit, both, sf.test, "full-ranking", k=10, threshold=4.0, intervals=False)
    for m in ("ndcg@10", "precision@10", "recall@10", "map@10"):
        assert row.metrics[m] == pytest.approx(manual.metrics[m], abs=1e-12)
    n_valid = sf.valid.n_ratings
    assert f"ndcg@10 on valid.csv ({n_valid:,} ratings), patience 2, every 1" in row.stopping
    assert row.stopping.endswith(f"refit on train.csv + valid.csv with epochs={stopper.best_epoch_}")
    plain = compare(sf.dataset, ["popularity"], split=sf.pair(), protocols="full-ranking", progress=False)
    assert comp.row("popularity", "full-ranking").metrics == plain.row("popularity", "full-ranking").metrics
    # without early stopping the valid rows simply train: the three parts give the pair's figures
    three = compare(sf.dataset, ["popularity"], split=sf.parts(), protocols="full-ranking", progress=False)
    assert three.row("popularity", "full-ranking").metrics == plain.row("popularity", "full-ranking").metrics
    assert three.split == plain.split == sf.about


def test_a_given_valid_part_is_refused_where_it_cannot_be_one(files: Path) -> None:
    """Validation rows that are test rows, and a ``valid_size`` that would size nothing, are one
    ConfigError before any training; ``cv`` stays refused with a given split."""
    from movierec import ConfigError
    from movierec.evaluation import compare

    sf = load_split_files(files / "train.csv", files / "test.csv", valid=files / "valid.csv")
    with pytest.raises(ConfigError, match=r"of the given valid part's [\d,]+ rows are test rows"):
        compare(sf.dataset, ["bpr"], split=(sf.train, sf.test, sf.test), early_stopping=STOP)
    with pytest.raises(ConfigError, match=r"valid_size=0.2 sizes a validation part cut from the training"):
        compare(sf.dataset, ["bpr"], split=sf.parts(), early_stopping={**STOP, "valid_size": 0.2})
    with pytest.raises(ConfigError, match="cv= has nothing to fold"):
        compare(sf.dataset, ["bpr"], split=sf.parts(), cv=2)


def test_cli_compare_with_a_valid_file_stops_on_it_and_says_so(files: Path) -> None:
    """``compare --train --valid --test --early-stopping``: the note and the row's stopping text name
    valid.csv (they said "on 10% of each user's training ratings"), and an experiment file's ``[split]
    valid`` gives the same row to the last digit; ``--cv`` beside the files stays one line."""
    n_valid = len(pd.read_csv(files / "valid.csv"))
    args = ["--models", "bpr", "--params", "bpr.epochs=40", "--protocols", "full-ranking",
            "--early-stopping", "ndcg@10", "--patience", "2"]  # fmt: skip
    proc = run_process("compare", "--train", "train.csv", "--valid", "valid.csv", "--test", "test.csv",
                       *args, "--json", cwd=files)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    said = f"ndcg@10 on valid.csv ({n_valid:,} ratings), patience 2, every 5"
    assert said in row["stopping"] and "each user's training ratings" not in row["stopping"]
    assert f"refit on train.csv + valid.csv with epochs={row['best_epoch']}" in row["stopping"]
    note = " ".join(proc.stderr.split())
    assert f"note: early stopping on validation {said}: best epochs bpr {row['best_epoch']}" in note
    (files / "stop.toml").write_text(
        'protocols = ["full-ranking"]\nearly_stopping = {metric = "ndcg@10", patience = 2}\n\n'
        '[split]\ntrain = "train.csv"\nvalid = "valid.csv"\ntest = "test.csv"\n\n'
        '[[models]]\nname = "bpr"\nparams = {epochs = 40}\n'
    )
    exp = run_process("compare", "--config", "stop.toml", "--out", "stop-runs", "--json", cwd=files)
    assert exp.returncode == 0, exp.stderr
    (again,) = json.loads(exp.stdout)
    assert _figures([again]) == _figures([row]) and again["stopping"] == row["stopping"]
    cv = run_process("compare", "--train", "train.csv", "--valid", "valid.csv", "--test", "test.csv",
                     *args, "--cv", "2", cwd=files)  # fmt: skip
    assert (
        one_error_line(cv)
        == "--cv and --train/--test exclude each other: the files are the split already drawn"
    )


def test_leave_last_out_on_given_files_says_what_can_be_done(files: Path) -> None:
    """The leave-last-out protocol on a test file with several ratings per user: one line saying to give
    a test file of each user's latest rating or to use --split without the files (it named --split
    alone, which is refused beside --train); Python's words name make_split and split=."""
    from movierec import ConfigError
    from movierec.evaluation import compare

    proc = run_process("compare", "--train", "train.csv", "--test", "test.csv", "--protocols",
                       "leave-last-out", "--models", "popularity", cwd=files)  # fmt: skip
    users = pd.read_csv(files / "test.csv").userId.value_counts()
    line = one_error_line(proc)  # one line of <= 160 columns with its prefix (it was ~230)
    assert line == (
        f"leave-last-out tests one rating a user; the test file has 2+ for {int((users > 1).sum()):,} users: "
        "give their latest, or drop the files for --split leave-last-out"
    )
    assert len("movierec: error: " + line) <= 160, line
    sf = load_split_files(files / "train.csv", files / "test.csv")
    train, test, _ = movierec.make_split(sf.dataset, "ratings-holdout")  # a pair made in Python
    with pytest.raises(ConfigError, match=r"given test part has .* draws one\), or split='leave-last-out'$"):
        compare(sf.dataset, ["popularity"], split=(train, test), protocols="leave-last-out")
    # a given test part of one rating per user runs as before
    last = movierec.make_split(sf.dataset, "leave-last-out")
    comp = compare(sf.dataset, ["popularity"], split=last, protocols="leave-last-out", progress=False)
    assert comp.rows and comp.split.startswith("given split: leave-last-out")


def _last_out_files(files: Path) -> Path:
    """The fixture's rows re-cut as RecBole's leave-one-out: each user's latest rating the test file, the
    one before it the valid file, the rest train (users with fewer than three ratings keep them in train)."""
    df = pd.concat(pd.read_csv(files / f"{p}.csv") for p in ("train", "valid", "test"))
    df = df.sort_values(["userId", "timestamp", "movieId"], kind="stable")
    back = df.groupby("userId").cumcount(ascending=False).to_numpy()
    many = (df.groupby("userId").userId.transform("size") >= 3).to_numpy()
    folder = files / "last-out"
    folder.mkdir(exist_ok=True)
    df[~many | (back >= 2)].to_csv(folder / "train.csv", index=False)
    df[many & (back == 1)].to_csv(folder / "valid.csv", index=False)
    df[many & (back == 0)].to_csv(folder / "test.csv", index=False)
    return folder


def test_leave_last_out_stops_on_a_given_valid_part(files: Path) -> None:
    """RecBole's leave-one-out with early stopping: a given valid part of each user's next-latest rating
    is what bpr stops on (every valid row counts, as under the protocol the threshold does not apply), then
    bpr is refit on train + valid. It was refused, saying early stopping "cuts a random validation part",
    which a given part does not; without a valid part the refusal now says how to give one."""
    from movierec import ConfigError
    from movierec.early_stopping import EarlyStopping
    from movierec.evaluation import compare
    from movierec.models import create

    folder = _last_out_files(files)
    sf = load_split_files(folder / "train.csv", folder / "test.csv", valid=folder / "valid.csv")
    comp = compare(sf.dataset, [("bpr", {"epochs": 20}), "popularity"], split=sf.parts(), seed=3,
                   protocols="leave-last-out", early_stopping=STOP, progress=False)  # fmt: skip
    row = comp.row("bpr", "leave-last-out")
    stopper = EarlyStopping(sf.valid, "ndcg@10", every=1, patience=2, known=sf.train, threshold=None)
    create("bpr", epochs=20, random_state=3).fit(sf.train, on_epoch=stopper)
    assert row.best_epoch == stopper.best_epoch_ and row.valid_score == stopper.best_score_
    assert f"on valid.csv ({sf.valid.n_ratings:,} ratings)" in row.stopping
    assert row.stopping.endswith(f"refit on train.csv + valid.csv with epochs={stopper.best_epoch_}")
    with pytest.raises(
        ConfigError, match=r"give a validation part .* \(split=\(train, valid, test\)\)$"
    ) as exc:
        compare(sf.dataset, ["bpr"], split=sf.pair(), protocols="leave-last-out", early_stopping=STOP)
    assert "--valid" not in str(
        exc.value
    )  # Python's keyword alone (one line named both); the CLI: --valid FILE
    assert getattr(exc.value, "cli", "").endswith("(--valid FILE)")


def test_next_item_in_session_on_given_files_says_what_can_be_done(files: Path) -> None:
    """next-item-in-session on a test file without a session (one rating per user): one line before any
    training saying to give a test file of each user's latest session or to use --split last-session
    without the files; it said "(split='last-session' in Python, --split last-session in the CLI)" after
    fitting, and --split is refused beside --train. Python's words name make_split and split=."""
    from movierec import ConfigError
    from movierec.evaluation import compare

    folder = _last_out_files(files)
    proc = run_process("compare", "--train", "train.csv", "--test", "test.csv", "--protocols",
                       "next-item-in-session", "--models", "sequential-popularity", cwd=folder)  # fmt: skip
    line = one_error_line(proc)  # one line of <= 160 columns with its prefix (it was 277)
    assert line == (
        "next-item-in-session tests sessions; the test file has one event a user: give their latest "
        "sessions, or drop the files for --split last-session"
    )
    assert len("movierec: error: " + line) <= 160, line
    assert "fitting" not in proc.stderr  # refused before any model trained
    sf = load_split_files(folder / "train.csv", folder / "test.csv")
    train, test, _ = movierec.make_split(sf.dataset, "leave-last-out")  # a pair made in Python
    with pytest.raises(ConfigError, match=r"given test part has .* draws one\), or split='last-session'$"):
        compare(sf.dataset, ["sequential-popularity"], split=(train, test), protocols="next-item-in-session")
    session = movierec.make_split(sf.dataset, "last-session")  # a test part of sessions runs as before
    comp = compare(sf.dataset, ["sequential-popularity"], split=session, protocols="next-item-in-session",
                   progress=False)  # fmt: skip
    assert comp.rows


def test_tune_ranking_check_is_the_model_tune_refit(files: Path) -> None:
    """tune --valid on a rating metric: ranking_check.json's model is the one tune's test refit scored (the
    best params over the --params held fixed, on train + valid), so its RMSE is best.json's test score.
    It was created from the searched params alone: svd with its default factors and epochs."""
    proc = run_process("tune", "--model", "svd", "--metric", "rmse", "--trials", "1", "--train", "train.csv",
                       "--valid", "valid.csv", "--test", "test.csv", "--params", "factors=2",
                       "--params", "epochs=2", "--out", "tuned-check", cwd=files)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    best = json.loads((files / "tuned-check" / "best.json").read_text())
    check = json.loads((files / "tuned-check" / "ranking_check.json").read_text())
    assert best["settings"]["fixed_params"] == {"factors": 2, "epochs": 2}
    assert check["figures"]["rmse"] == pytest.approx(best["test_score"], abs=1e-12)
    # named as compare names the files' split, not "ratings-holdout" (a seeded hold-out it never ran)
    assert check["figures"]["split"].startswith("given files train.csv + valid.csv / test.csv")


def test_titles_for_the_files_need_not_name_a_movie_of_the_test_file(tmp_path: Path) -> None:
    """movies= goes with the training file, whose catalogue the joined dataset keeps; each part was read with
    it, so a test file whose few movies the titles file does not list stopped with 'none of its movie ids is
    a rated movie' (the check for titles keyed by other ids), though the training file's movies have them."""
    train = tmp_path / "train.csv"
    test = tmp_path / "test.csv"
    rows = [(u, i, 1 + (u + i) % 5) for u in range(1, 11) for i in range(2, 9) if (u + i) % 3]
    train.write_text("userId,movieId,rating\n" + "".join(f"{u},{i},{r}\n" for u, i, r in rows))
    test.write_text("userId,movieId,rating\n1,1,5\n2,1,4\n")
    titles = tmp_path / "titles.csv"
    titles.write_text("movieId,title\n" + "".join(f"{i},Film {i} (2001)\n" for i in range(2, 9)))
    split = load_split_files(train, test, movies=titles)
    titled = split.dataset.movies.set_index("movieId")["title"]
    assert titled[2] == "Film 2 (2001)" and titled[1] == "movieId 1"
    other = tmp_path / "other.csv"  # titles keyed by other ids still stop, at the training file
    other.write_text("movieId,title\n100,Elsewhere (2001)\n")
    with pytest.raises(
        movierec.errors.DataError, match=r"other.csv: none of its 1 movie ids is a rated movie"
    ):
        load_split_files(train, test, movies=other)
