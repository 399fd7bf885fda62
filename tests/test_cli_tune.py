"""``movierec tune`` as a newcomer reads it: what it writes is what docs/tuning.md says it writes."""

from __future__ import annotations

import re
from pathlib import Path

from pytest import TempPathFactory

from clihelp import run_process

DOCS = Path(__file__).resolve().parents[1] / "docs" / "tuning.md"


def test_every_file_tune_writes_is_in_the_docs_table(tmp_path: Path) -> None:
    """docs/tuning.md's 'Output folder' table is where a reader looks up a file: ``ranking_check.json``,
    which a rating-metric study writes beside best.json (and its summary names), was missing from it."""
    from datagen import make_ratings

    # 60 users' ratings, not ml-latest-small: the files a study writes are the same on any data (its ranking
    # check ranked ml-latest-small's 9,000 movies for its 610 users)
    make_ratings(n_users=60, n_items=50, density=0.4).to_csv(tmp_path / "r.csv", index=False)
    proc = run_process(
        "tune", "-m", "svd", "--ratings", "r.csv", "--params", "factors=4,epochs=2", "--trials", "1",
        "--cv", "1", "--out", "t", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert "ranking_check.json" in written and "best.toml" in written, written
    text = DOCS.read_text(encoding="utf-8")
    table = text[text.index("Output folder (`--out`") :]
    table = table[: table.index("\n\n", table.index("| file | what |"))]
    documented = set(re.findall(r"`([\w.]+\.\w+)`", table))
    assert set(written) <= documented, sorted(set(written) - documented)


def test_a_compound_metrics_summary_and_pareto_front_fit_80_columns(tmp_path: Path) -> None:
    """With 'ndcg@10-0.1*arp@10' the summary's validation lines ran to 86 and 81 columns and the Pareto
    table's title to 81, printed whole (an 80-column terminal broke them mid-word). They are wrapped at
    words now, the numbers unchanged."""
    from datagen import make_ratings

    make_ratings(n_users=60, n_items=50, density=0.4).to_csv(tmp_path / "r.csv", index=False)
    proc = run_process(
        "tune", "-m", "ease", "--ratings", "r.csv", "--metric", "ndcg@10-0.1*arp@10",
        "--pareto", "ndcg@10,arp@10", "--trials", "2", "--cv", "1", "--out", "t",
        cwd=tmp_path, env={"COLUMNS": "80"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 80, [ln for ln in lines if len(ln) > 80]
    # the plan on stderr ('tuning ease for …: 2 trials, one 20% validation split of N training ratings'),
    # wrapped by rich, ended its first line in a space (docs/tuning.md's commands, run at 80 columns)
    plan = proc.stderr.splitlines()
    assert plan[0].startswith("tuning ease for ") and plan[0] == plan[0].rstrip(), plan[:2]
    text = " ".join(proc.stdout.split())
    assert re.search(r"validation ndcg@10-0\.1\*arp@10 \(one 20% validation split of the training split\): "
                     r"-?\d\.\d{4}", text), text  # fmt: skip
    assert "Pareto front of ndcg@10 and arp@10 (validation; no other trial is better on both)" in text, text


def test_the_summary_says_the_validation_folds_train_on_less_than_the_test_refit(tmp_path: Path) -> None:
    """ease on ml-latest-small read 'validation ndcg@10 …: 0.2041' over 'test ndcg@10 …: 0.3136', which a
    newcomer reads as a leak; the validation folds' fits saw 64% of the ratings, the test refit 80%. The
    summary says so, with the shares of this run's --test-size and --cv (0.25 and 3: 50% and 25%)."""
    from datagen import make_ratings

    make_ratings(n_users=60, n_items=50, density=0.4).to_csv(tmp_path / "r.csv", index=False)
    proc = run_process(
        "tune", "-m", "ease", "--ratings", "r.csv", "--metric", "ndcg@10", "--trials", "1", "--cv", "3",
        "--test-size", "0.25", "--out", "t", cwd=tmp_path, env={"COLUMNS": "80"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert max(len(ln) for ln in proc.stdout.splitlines()) <= 80, proc.stdout
    text = " ".join(proc.stdout.split())
    assert (
        "validation vs test: not comparable, each validation fold trains on 50% of the ratings and scores "
        "25%, the test refit trains on 75% and scores 25%"
    ) in text, text


def test_resuming_a_misspelt_study_is_answered_with_the_closest_name(tmp_path: Path) -> None:
    """'--study svd-rmze --resume' said 'no study named 'svd-rmze' in … (existing: svd-rmse)', the one slip
    left for the reader to spot, where every other name the CLI takes suggests the closest."""
    from datagen import make_ratings

    make_ratings(n_users=40, n_items=30).to_csv(tmp_path / "r.csv", index=False)
    made = run_process(
        "tune", "-m", "svd", "--ratings", "r.csv", "--params", "factors=4,epochs=2", "--trials", "1",
        "--cv", "1", "--out", "t", cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    typo = run_process("tune", "--study", "svd-rmze", "--resume", "--out", "t", cwd=tmp_path)
    assert typo.returncode == 2, typo.stderr
    assert typo.stderr.startswith(
        "movierec: error: no study named 'svd-rmze' (did you mean 'svd-rmse'?) in sqlite:///"
    ), typo.stderr
    assert typo.stderr.rstrip().endswith("(existing: svd-rmse)"), typo.stderr


def test_resuming_where_no_study_was_made_says_there_is_none(tmp_path: Path) -> None:
    """'tune --resume --study ease-ndcg@10' where no run had made tuning/ease-ndcg-10/ said 'storage
    sqlite:///tuning/ease-ndcg-10/study.db cannot be opened: folder tuning/ease-ndcg-10 does not exist', as if
    a database were broken; it says there is no study to resume there, and how to start one."""
    file = Path("tuning") / "ease-ndcg-10" / "study.db"
    for args, start in (
        (["--resume", "--study", "ease-ndcg@10"], "give -m MODEL and drop --resume"),
        (["-m", "ease", "--resume"], "drop --resume"),
        (
            ["-m", "ease", "--resume", "--storage", f"sqlite:///{file}"],
            "drop --resume",
        ),  # said 'cannot be opened'
    ):
        proc = run_process("tune", *args, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr == (
            f"movierec: error: no study 'ease-ndcg@10' to resume: {file} does not exist; {start} to start it "
            "(nothing was written)\n"
        ), proc.stderr
        assert list(tmp_path.iterdir()) == []


def test_a_metric_typed_without_its_cut_off_is_said_to_be_read_at_10(tmp_path: Path) -> None:
    """'--metric ndcg' was tuned as ndcg@10 without a word (the reader found the @10 only in the study's
    name); '--early-stopping recall' the same. Each is now said once, with the way to another cut-off."""
    from datagen import make_ratings

    make_ratings(n_users=40, n_items=30).to_csv(tmp_path / "r.csv", index=False)
    proc = run_process(
        "tune", "-m", "svd", "--ratings", "r.csv", "--params", "factors=4,epochs=4", "--metric", "ndcg",
        "--early-stopping", "Recall", "--stop-every", "2", "--trials", "1", "--cv", "1", "--out", "t",
        cwd=tmp_path, env={"COLUMNS": "80"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    err = " ".join(proc.stderr.split())
    assert "note: --metric ndcg is read as ndcg@10, the top 10 of each list; type ndcg@5, ndcg@20… for " \
           "another cut-off" in err, err  # fmt: skip
    assert "note: --early-stopping Recall is read as recall@10" in err, err
    assert max(len(ln) for ln in proc.stderr.splitlines()) <= 80, proc.stderr
    typed = run_process(
        "tune", "-m", "svd", "--ratings", "r.csv", "--params", "factors=4,epochs=2", "--metric", "ndcg@10",
        "--trials", "1", "--cv", "1", "--out", "t2", cwd=tmp_path,
    )  # fmt: skip
    assert typed.returncode == 0 and "is read as" not in typed.stderr, typed.stderr


def test_pareto_metrics_typed_without_a_cut_off_are_read_at_the_metrics(tmp_path: Path) -> None:
    """'--metric ndcg --pareto ndcg,arp' was refused as "objective 'ndcg': cannot read it", naming an
    objective nobody typed (and '--metric ndcg' refused any --pareto the same way). Both are read at
    --metric's cut-off, 10 here, and a note says so; the front is of ndcg@10 and arp@10."""
    from datagen import make_ratings

    make_ratings(n_users=60, n_items=50, density=0.4).to_csv(tmp_path / "r.csv", index=False)
    proc = run_process(
        "tune", "-m", "ease", "--ratings", "r.csv", "--metric", "ndcg", "--pareto", "ndcg,arp",
        "--trials", "1", "--cv", "1", "--out", "t", cwd=tmp_path, env={"COLUMNS": "80"},
    )  # fmt: skip  # one trial: the note and the front's names are said the same
    assert proc.returncode == 0, proc.stderr
    err = " ".join(proc.stderr.split())
    assert "note: --pareto ndcg,arp is read as ndcg@10,arp@10, at the cut-off of --metric ndcg@10" in err, err
    assert "Pareto front of ndcg@10 and arp@10" in " ".join(proc.stdout.split()), proc.stdout


def test_pareto_beside_a_rating_model_or_metric_says_what_a_front_is_of(tmp_path: Path) -> None:
    """'tune -m svd --pareto ndcg,arp' read the pair at '--metric rmse's cut-off' and was refused as "objective
    'rmse': cannot read it at 'rmse'"; '--pareto rmse,coverage' the same way. Without --metric, a rating model
    is tuned on the first of the two, said in a note; a rating metric in either place is one line naming the
    option and what a front can be of."""
    from clihelp import one_error_line
    from datagen import make_ratings

    # 60 users' ratings, not ml-latest-small: what is said of the front and the metrics is so on any data
    make_ratings(n_users=60, n_items=50, density=0.4).to_csv(tmp_path / "r.csv", index=False)
    base = ("tune", "-m", "svd", "--ratings", "r.csv", "--params", "factors=4,epochs=2", "--trials", "1",
            "--cv", "1", "--out", "t")  # fmt: skip
    proc = run_process(*base, "--pareto", "ndcg,arp", cwd=tmp_path, env={"COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    err = " ".join(proc.stderr.split())
    assert "note: --pareto without --metric: svd is tuned on ndcg@10 and records arp@10" in err, err
    assert "Pareto front of ndcg@10 and arp@10" in " ".join(proc.stdout.split()), proc.stdout
    refused = {
        ("--metric", "rmse", "--pareto", "ndcg,arp"): "or an objective, not rmse: give --metric ndcg@10",
        ("--pareto", "rmse,arp"): "--pareto: rmse is a rating metric; a front is of two metrics --help lists",
        ("--pareto", "ndgc,arp"): "--pareto: ndgc is unknown (did you mean 'ndcg'?)",
    }
    for args, needle in refused.items():
        line = one_error_line(run_process(*base[:-2], *args, "--out", "u", cwd=tmp_path))
        assert needle in line and "cannot read it" not in line, (args, line)
        # one line of <= 160 columns (the --metric one was 222, the --pareto ones 242 and 266)
        assert len("movierec: error: " + line) <= 160, line
        assert not (tmp_path / "u").exists(), args


def test_hit_rate_is_one_name_in_metric_pareto_and_an_objective(tmp_path: Path) -> None:
    """'--metric hit_rate@10 --pareto hit_rate@10,arp@10' was refused twice over: --metric reads hr@10 as
    hit_rate@10 and the objective's terms knew only 'hr' (so even '--metric hr@10 --pareto hr@10,arp@10' was
    refused as "needs a --metric at a cut-off ... not hit_rate@10"), and --pareto called hit_rate@10 "not a
    ranking metric". Every spelling --metric takes (hit_rate, hr, HitRate) is one metric in all three
    places now, named hit_rate@10 in the front's table and pareto.csv."""
    from datagen import make_ratings

    make_ratings(n_users=60, n_items=50, density=0.4).to_csv(tmp_path / "r.csv", index=False)
    # one trial each (it was 2): the front's names and pareto.csv's header are the same for a front of one
    # point, and a second trial cost each run its importances (about 0.35 CPU-s)
    base = ("tune", "-m", "ease", "--ratings", "r.csv", "--trials", "1", "--cv", "1")
    for n, (metric, pair) in enumerate(
        [
            ("hit_rate@10", "hit_rate@10,arp@10"),
            ("hr@10", "HR@10,arp@10"),
            ("ndcg@10-0.1*hr@10", "hitrate,arp"),
        ]
    ):
        proc = run_process(*base, "--metric", metric, "--pareto", pair, "--out", f"t{n}", cwd=tmp_path)
        assert proc.returncode == 0, (metric, pair, proc.stderr)
        assert "Pareto front of hit_rate@10 and arp@10" in " ".join(proc.stdout.split()), proc.stdout
        head = (tmp_path / f"t{n}" / "pareto.csv").read_text().splitlines()[0]
        assert head == "trial,hit_rate@10,arp@10,params", head


def test_the_pareto_help_lists_every_term_an_objective_takes() -> None:
    """The --pareto refusal sends the reader to --help for the metrics a front can be of: the help's list
    is written out (importing movierec.objective would slow every command's start), so it is held equal to
    the objective's own, each alias (hr) beside its name, here."""
    from movierec.cli.tune import PARETO_TERMS
    from movierec.objective import ACCURACY, BEYOND

    listed = [re.sub(r" \(or \w+\)$", "", name) for name in PARETO_TERMS.split(", ")]
    assert listed == [*ACCURACY, *BEYOND], listed


def test_a_pruned_trial_reads_pruned_not_a_score_better_than_the_best(tmp_path: Path) -> None:
    """A pruned trial's value is the one fold's score it reported when stopped, not a mean over the folds:
    'tune --model svd --metric rmse --trials 50' on ml-latest-small printed 'last 0.8693 · best 0.8714', a
    last trial that looked better than the best yet was not taken. Each progress line's 'last' is now the
    trial's mean when it completed and 'pruned' when it was pruned, as trials.csv records it."""
    import pandas as pd

    from datagen import make_ratings

    make_ratings(n_users=60, n_items=50, density=0.4).to_csv(tmp_path / "r.csv", index=False)
    # 6 trials of 5 epochs (it was 12 with epochs left to the study: 3.5 CPU-s here, now 1.3-1.5): seeded, the
    # sixth is pruned after five that completed, and each line's 'last' is read against trials.csv the same way
    proc = run_process(
        "tune", "-m", "svd", "--ratings", "r.csv", "--params", "factors=4,epochs=5", "--trials", "6",
        "--out", "t", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    trials = pd.read_csv(tmp_path / "t" / "trials.csv").set_index("number")
    shown = re.findall(r"· last (\S+) · best \S+ · (\d+)/6$", proc.stderr, flags=re.M)
    assert shown and shown[-1][1] == "6", proc.stderr  # the last trial's line is always printed
    for last, done in shown:  # one trial at a time: the n-th finished trial is trial n - 1
        trial = trials.loc[int(done) - 1]
        assert last == ("pruned" if trial.state == "pruned" else f"{trial.value:.4f}"), (done, proc.stderr)
    assert trials.loc[5].state == "pruned", trials.state.tolist()  # the case this test is for: seeded


def test_best_toml_keeps_the_user_features_tune_ran_with(tmp_path: Path) -> None:
    """``tune warp --user-features demographics`` (docs/new-users.md) wrote a best.toml without them, and
    ``compare --config best.toml`` trained without them: ml-100k's test NDCG@10 read 0.2705 in tune and
    0.2215 in compare. best.toml (and the study's settings) now record them, and compare --config gives
    tune's test figure to the last digit. The data: a MovieLens folder whose u.user plants who likes what
    (datagen.planted_demographics), so the test runs without ml-100k; the same file on data without a
    users file is refused in one line before any fit."""
    import json

    from datagen import planted_movielens_folder

    folder = planted_movielens_folder(tmp_path / "planted")
    proc = run_process(
        "tune", "-m", "warp", "--dataset", str(folder), "--user-features", "demographics",
        "--metric", "ndcg@10", "--params", "epochs=5", "--trials", "1", "--cv", "1", "--out", "t",
        cwd=tmp_path,
    )  # fmt: skip  # one trial (it was 2): best.toml and compare are checked on the best trial's point, any
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"user features\W+demographics", proc.stdout), proc.stdout  # the summary says so
    best = json.loads((tmp_path / "t" / "best.json").read_text())
    assert best["settings"]["user_features"] == "demographics"  # the study's recorded settings
    toml = (tmp_path / "t" / "best.toml").read_text()
    assert 'user_features = "demographics"' in toml, toml
    proc = run_process("compare", "--config", "t/best.toml", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (row,) = [r for r in json.loads(proc.stdout) if r["protocol"] == "full-ranking"]
    assert round(row["ndcg@10"], 4) == round(best["test_score"], 4), (row, best["test_score"])
    # the same file without the key: another figure (the features reached compare's fit)
    (tmp_path / "plain.toml").write_text(toml.replace('user_features = "demographics"\n', ""))
    proc = run_process("compare", "--config", "plain.toml", "--json", cwd=tmp_path)
    (plain,) = [r for r in json.loads(proc.stdout) if r["protocol"] == "full-ranking"]
    assert plain["ndcg@10"] != row["ndcg@10"]
    # ml-latest-small has no users file: one line naming the key, before any model fits
    (tmp_path / "mlls.toml").write_text(
        'dataset = "ml-latest-small"\nuser_features = "demographics"\n[[models]]\nname = "warp"\n'
    )
    proc = run_process("compare", "--config", "mlls.toml", cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert (
        "user_features = \"demographics\": dataset 'ml-latest-small' has no user demographics" in proc.stderr
    )


def test_best_toml_writes_no_empty_feature_keys_and_compare_runs_it_as_written(tmp_path: Path) -> None:
    """best.toml of a study without side features read ``item_features = []``, a key a newcomer looks up
    (docs/tuning.md) to learn it sets nothing. Keys that set nothing are left out; the file still gives
    tune's test figure in compare --config, and the run's config.toml is the same experiment."""
    import json

    from datagen import planted_movielens_folder
    from movierec.experiment import load_experiment

    folder = planted_movielens_folder(tmp_path / "planted")
    proc = run_process(
        "tune", "-m", "warp", "--dataset", str(folder), "--metric", "ndcg@10", "--params", "epochs=3",
        "--trials", "1", "--cv", "1", "--out", "t", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    toml = (tmp_path / "t" / "best.toml").read_text()
    assert "features" not in toml and "= []" not in toml, toml
    assert "[models.params]\n" in toml and "epochs = 3" in toml  # the params it does set
    proc = run_process("compare", "--config", "t/best.toml", "--out", "runs", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (row,) = [r for r in json.loads(proc.stdout) if r["protocol"] == "full-ranking"]
    best = json.loads((tmp_path / "t" / "best.json").read_text())
    assert round(row["ndcg@10"], 4) == round(best["test_score"], 4), (row, best["test_score"])
    (ran,) = (tmp_path / "runs").glob("*/config.toml")
    assert load_experiment(ran) == load_experiment(tmp_path / "t" / "best.toml")
    assert "features" not in ran.read_text()


def test_best_toml_of_given_files_names_them_relative_to_itself_and_moves_with_them(tmp_path: Path) -> None:
    """``tune --train data/train.csv --test data/test.csv`` (docs/protocols.md) wrote best.toml with each
    file's absolute path (``/home/me/project/data/train.csv``, broken once the project is moved or cloned)
    and a bare ``[dataset]`` line. An experiment file's split paths are read relative to the file, so
    best.toml now writes them relative to its folder (``../data/train.csv``): ``compare --config
    t/best.toml`` from where tune ran, ``--config best.toml`` from inside t/, and the same files after the
    whole folder is moved all give tune's test figure. A file outside the working directory keeps its
    absolute path."""
    import json
    import shutil

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = [
        (u, int(i), float(rng.integers(1, 6)))
        for u in range(1, 41)
        for i in rng.choice(60, 15, replace=False)
    ]
    frame = pd.DataFrame(rows, columns=["userId", "movieId", "rating"])
    held = rng.random(len(frame)) < 0.2
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    frame[~held].to_csv(project / "data" / "train.csv", index=False)
    frame[held].to_csv(project / "data" / "test.csv", index=False)
    # one trial a run (it was 2): the paths best.toml writes, and the test figure it gives again, are the best
    # trial's whichever it is; a second trial only added its importances to each run
    proc = run_process(
        "tune", "-m", "svd", "--train", "data/train.csv", "--test", "data/test.csv", "--trials", "1",
        "--cv", "1", "--out", "t", cwd=project,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    tuned = json.loads((project / "t" / "best.json").read_text())["test_score"]
    toml = (project / "t" / "best.toml").read_text()
    assert 'train = "../data/train.csv"' in toml and 'test = "../data/test.csv"' in toml, toml
    assert str(tmp_path) not in toml and "[dataset]" not in toml, toml

    def rmse(config: str, cwd: Path) -> float:
        proc = run_process("compare", "--config", config, "--json", cwd=cwd)
        assert proc.returncode == 0, proc.stderr
        (row,) = [r for r in json.loads(proc.stdout) if r["protocol"] == "rating"]
        return round(row["rmse"], 4)

    assert rmse("t/best.toml", project) == round(tuned, 4)
    assert rmse("best.toml", project / "t") == round(tuned, 4)
    moved = shutil.move(project, tmp_path / "elsewhere")
    assert rmse("t/best.toml", Path(moved)) == round(tuned, 4)
    # files outside the folder tune ran in: their absolute paths, which load from anywhere
    proc = run_process(
        "tune", "-m", "svd", "--train", f"{moved}/data/train.csv", "--test", f"{moved}/data/test.csv",
        "--trials", "1", "--cv", "1", "--out", "t2", cwd=tmp_path / "elsewhere" / "t",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f'train = "{moved}/data/train.csv"' in (Path(moved) / "t" / "t2" / "best.toml").read_text()


def test_the_summary_names_a_parameter_the_importances_leave_out(tmp_path: Path) -> None:
    """itemknn draws alpha only with the asymmetric similarity, so the fANOVA importances over all trials
    leave it out; the printed summary says so (with the count, the condition and why there is no share),
    as importance.png and best.json do."""
    import csv
    import io

    from datagen import make_ratings

    make_ratings(n_users=120, n_items=80, density=0.3, seed=3).to_csv(tmp_path / "r.csv", index=False)
    proc = run_process(
        "tune", "-m", "itemknn", "--ratings", "r.csv", "--metric", "ndcg@10", "--trials", "10", "--cv", "1",
        "--seed", "4", "--out", "t", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "t" / "trials.csv").read_text())))
    drew = sum(bool(row.get("params_alpha")) for row in rows if row["state"] == "complete")
    done = sum(row["state"] == "complete" for row in rows)
    assert drew < done, rows
    line = (
        f"importances over all trials leave out alpha: drawn in {drew} of {done} trials (acts only with "
        "similarity 'asymmetric')"
    )
    assert line in " ".join(proc.stdout.split()), proc.stdout


def _low_ratings(path: Path) -> None:
    """60 users × 15 ratings of 1-3 stars (two users also 4.5): a validation fold holds no rating ≥ 4."""
    import numpy as np

    rng = np.random.default_rng(0)
    rows = ["userId,movieId,rating"]
    for u in range(1, 61):
        stars = [1.0, 2.0, 3.0, 4.5] if u < 3 else [1.0, 2.0, 3.0]
        rows += [f"{u},{i},{rng.choice(stars)}" for i in rng.choice(np.arange(1, 41), 15, replace=False)]
    path.write_text("\n".join(rows) + "\n")


def test_a_refusal_inside_a_trial_is_the_one_line_and_leaves_no_study(tmp_path: Path) -> None:
    """A refusal raised in a trial ('validation fold 1 has no rating ≥ the relevance threshold 4') came after
    Optuna's 'Trial 0 failed with parameters …' warning, its traceback and 'Trial 0 failed with
    value None.': the one line is all now (in a fresh process, where Optuna's handler writes to stderr).
    Its ending names no folder tune named for itself (tuning/ease-ndcg-10); nothing is left there."""
    _low_ratings(tmp_path / "low.csv")
    proc = run_process(
        "tune", "-m", "ease", "--ratings", "low.csv", "--metric", "ndcg@10", "--trials", "2", "--cv", "1",
        cwd=tmp_path, fresh=True,
    )  # fmt: skip
    errors = [
        ln for ln in proc.stderr.splitlines() if "error" in ln.lower() or "Trial" in ln or "Trace" in ln
    ]
    line = (
        "movierec: error: validation fold 1 has no rating ≥ the relevance threshold 4; lower it or use fewer "
        "folds; nothing was written"
    )
    assert proc.returncode == 2 and errors == [line], proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["low.csv"]  # no tuning/ folder, no study.db


def test_optuna_keeps_its_warning_for_a_trial_that_crashes(tmp_path: Path) -> None:
    """Only movierec's refusals lose Optuna's 'Trial N failed' warnings (the refusal is raised to the caller,
    which says it once): a trial that crashes on anything else keeps both, with the traceback. Real SQLite;
    the refused call's study, which it created and in which no trial finished, is deleted again."""
    import logging

    import optuna
    import pandas as pd
    import pytest

    from movierec.errors import ConfigError
    from movierec.interactions import Interactions
    from movierec.tuning import _InterruptedTrialFilter, tune

    _low_ratings(tmp_path / "low.csv")
    inter = Interactions.from_frame(pd.read_csv(tmp_path / "low.csv"), time_col=None, rating_scale=(0.5, 5.0))
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    logging.getLogger("optuna").addHandler(keep)
    url = f"sqlite:///{tmp_path}/s.db"
    try:
        with pytest.raises(ConfigError, match="no rating ≥ the relevance threshold 4"):
            tune(inter, "ease", metric="ndcg@10", n_trials=1, cv=1, storage=url, study_name="low")
    finally:
        logging.getLogger("optuna").removeHandler(keep)
    assert [r.getMessage() for r in records if "Trial" in r.getMessage()] == []
    assert optuna.get_all_study_names(storage=url) == []  # created by that call, no trial finished: gone

    crash = optuna.create_study(storage=url, study_name="crash")
    quiet = _InterruptedTrialFilter()
    logging.getLogger("optuna.study._optimize").addFilter(quiet)
    logging.getLogger("optuna").addHandler(keep)
    try:
        with pytest.raises(ZeroDivisionError):
            crash.optimize(lambda trial: 1 / 0, n_trials=1)
    finally:
        logging.getLogger("optuna").removeHandler(keep)
        logging.getLogger("optuna.study._optimize").removeFilter(quiet)
    said = [r.getMessage() for r in records]
    assert any(m.startswith("Trial 0 failed with parameters") and "ZeroDivisionError" in m for m in said), (
        said
    )
    assert "Trial 0 failed with value None." in said


def test_tune_deletes_only_a_study_it_created_that_no_trial_finished(tmp_path: Path) -> None:
    """tune() from Python refused in its first trial left the study it had created, with that one FAIL
    trial and the refused call's settings: the call again with the threshold lowered was refused ('exists
    with threshold 4.0, not 3.0'). Now that study is deleted (real SQLite) and the second call runs; a
    study that was there before the call keeps its failed trial, as one with finished trials keeps all."""
    import optuna
    import pandas as pd
    import pytest

    from movierec.errors import ConfigError
    from movierec.interactions import Interactions
    from movierec.tuning import tune

    _low_ratings(tmp_path / "low.csv")
    inter = Interactions.from_frame(pd.read_csv(tmp_path / "low.csv"), time_col=None, rating_scale=(0.5, 5.0))
    url = f"sqlite:///{tmp_path}/s.db"
    run = {"metric": "ndcg@10", "n_trials": 1, "cv": 1, "storage": url, "progress": False}
    with pytest.raises(ConfigError, match="no rating ≥ the relevance threshold 4"):
        tune(inter, "ease", study_name="new", **run)
    assert optuna.get_all_study_names(storage=url) == []
    assert tune(inter, "ease", study_name="new", threshold=3, **run).n_complete == 1  # was refused

    optuna.create_study(storage=url, study_name="before", direction="maximize")  # empty, not this call's
    with pytest.raises(ConfigError, match="no rating ≥ the relevance threshold 4"):
        tune(inter, "ease", study_name="before", **run)
    states = {
        n: [t.state.name for t in optuna.load_study(study_name=n, storage=url).trials]
        for n in ("before", "new")
    }
    assert states == {"before": ["FAIL"], "new": ["COMPLETE"]}


def test_a_refusal_with_storage_says_what_is_true_of_the_study(tmp_path: Path) -> None:
    """tune --storage refused printed no ending, where tune without it says 'nothing was written': each line
    now says what is true there, on a real SQLite file. A file this run created that holds no study is
    removed (tune() deleted the study it made), as the default study.db is; in a file that was there,
    the study was not created, or one that was there before is as it was, or gained the refused run's
    settings and failed trial (tune() never deletes a study it did not create). Each line <= 160."""
    import optuna

    _low_ratings(tmp_path / "low.csv")
    refused = (
        "movierec: error: validation fold 1 has no rating ≥ the relevance threshold 4; lower it or use fewer "
        "folds; "
    )
    genres = "movierec: error: ild_genres@10 needs movie genres, and this data has none: drop it; "

    def last_line(*extra: str, metric: str = "ndcg@10") -> str:
        args = ["-m", "ease", "--ratings", "low.csv", "--metric", metric, "--trials", "2", "--cv", "1"]
        proc = run_process("tune", *args, *extra, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        line = proc.stderr.strip().splitlines()[-1]
        assert len(line) <= 160, (len(line), line)
        return line

    assert last_line("--storage", "sqlite:///s.db") == refused + "nothing was written (s.db was not created)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["low.csv"]  # no s.db, no tuning/ folder

    url = f"sqlite:///{tmp_path / 'e.db'}"
    optuna.create_study(storage=url, study_name="other")
    optuna.create_study(storage=url, study_name="mine", direction="maximize")  # empty, made by hand
    assert last_line("--storage", url) == refused + "nothing was written (the study was not created)"
    assert sorted(optuna.get_all_study_names(storage=url)) == ["mine", "other"]
    metric = "ndcg@10-0.1*ild_genres@10"  # refused before the study is opened
    mine = ("--storage", url, "--study", "mine")
    assert last_line(*mine, metric=metric) == genres + "nothing was written (the study is as it was)"
    assert last_line(*mine) == refused + "the study gained tune's settings and 1 failed trial"
    assert last_line(*mine) == refused + "the study gained 1 failed trial"
    study = optuna.load_study(study_name="mine", storage=url)
    assert [t.state.name for t in study.trials] == ["FAIL", "FAIL"] and "movierec" in study.user_attrs
    assert optuna.load_study(study_name="other", storage=url).trials == []


def test_the_other_settings_refusal_is_short_and_a_refused_run_leaves_no_wal_file(tmp_path: Path) -> None:
    """'study … exists with threshold 4.0, not 3.0; choose another study (--study), or continue it as it was
    created (--resume)' was 159 columns for study 'mine' in sqlite:///e.db, and 205 with --storage's ending
    '; nothing was written (the study is as it was)'; it is one line <= 160 now, with and without --storage
    (real SQLite). A refusal before tune's study was opened left the early check's connection open, so the
    file kept -wal and -shm beside it after the run; none is left now, on a file that was there or on one
    the run created and removed. A study.db in --out that was there before, holding another study, gets the
    ending --storage gets ('the study was not created'), where it said nothing."""
    import optuna

    _low_ratings(tmp_path / "low.csv")
    base = ["-m", "ease", "--ratings", "low.csv", "--trials", "1", "--cv", "1"]
    fix = ": use another --study or --resume it"

    def last_line(*extra: str, code: int = 2, metric: str = "ndcg@10") -> str:
        proc = run_process("tune", *base, "--metric", metric, *extra, cwd=tmp_path)
        assert proc.returncode == code, proc.stderr
        line = proc.stderr.strip().splitlines()[-1]
        assert len(line) <= 160, (len(line), line)
        return line

    def wal_files() -> list[str]:
        return sorted(p.name for p in tmp_path.rglob("*") if p.name.endswith(("-wal", "-shm", "-journal")))

    # --storage: a study with a finished trial (said nothing more, as before), then one with only a failed one
    last_line("--storage", "sqlite:///s.db", "--study", "low", "--threshold", "2", code=0)
    assert last_line("--storage", "sqlite:///s.db", "--study", "low", "--threshold", "3") == (
        "movierec: error: study 'low' in sqlite:///s.db has threshold 2.0, not 3.0" + fix
    )
    # a URL with a query (SQLite's busy timeout) names the same file: its finished trial is counted, so the
    # refusal says no more than without one (the query was read as part of the file's name, the study as
    # empty, and '; nothing was written (the study is as it was)' was added). The study is the one just
    # made in s.db (a study of its own made in q.db cost a run: the file is read through the URL either way)
    q = "sqlite:///s.db?timeout=30"
    assert last_line("--storage", q, "--study", "low", "--threshold", "3") == (
        f"movierec: error: study 'low' in {q} has threshold 2.0, not 3.0" + fix
    )
    assert wal_files() == []
    optuna.create_study(
        storage="sqlite:///" + str(tmp_path / "e.db"), study_name="mine", direction="maximize"
    )
    mine = ("--storage", "sqlite:///e.db", "--study", "mine")
    assert last_line(*mine).endswith("; the study gained tune's settings and 1 failed trial")  # threshold 4
    assert last_line(*mine, "--threshold", "3") == (
        "movierec: error: study 'mine' in sqlite:///e.db has threshold 4.0, not 3.0"
        + fix
        + "; nothing was written (the study is as it was)"
    )
    assert wal_files() == []
    # refused before the study is opened, in a file this run created: removed with its -wal and -shm
    genres = "ndcg@10-0.1*ild_genres@10"
    assert last_line("--storage", "sqlite:///n.db", metric=genres).endswith(
        "drop it; nothing was written (n.db was not created)"
    )
    assert not (tmp_path / "n.db").exists() and wal_files() == []

    # without --storage: tune's own study.db in --out o
    last_line("--out", "o", "--threshold", "2", code=0)
    assert last_line("--out", "o", "--threshold", "3") == (
        "movierec: error: study 'ease-ndcg@10' in sqlite:///o/study.db has threshold 2.0, not 3.0" + fix
    )
    assert wal_files() == []
    refused = "movierec: error: validation fold 1 has no rating ≥ the relevance threshold 4; lower it or use fewer folds"
    assert (  # --force: o holds study ease-ndcg@10's results, which b may replace once it runs
        last_line("--out", "o", "--study", "b", "--force")
        == refused + "; nothing was written (the study was not created)"
    )
    assert wal_files() == []
    assert optuna.get_all_study_names(storage="sqlite:///" + str(tmp_path / "o" / "study.db")) == [
        "ease-ndcg@10"
    ]


#: ``movierec ARGS`` (:func:`movierec.cli.main`, as the console script runs it) once in each folder given
#: before ``--``, with ``--out n`` added in the second; each run's stderr ends in a line 'exit: N', its status
NESTED_IN_EACH = """
import os, sys
from movierec.cli import main

cut = sys.argv.index("--")
for n, folder in enumerate(sys.argv[1:cut]):
    os.chdir(folder)
    try:
        main([*sys.argv[cut + 1 :], *(["--out", "n"] if n else [])])
        code = 0
    except SystemExit as exc:
        code = exc.code
    print(f"exit: {code}", file=sys.stderr, flush=True)
"""


def _nested_lines(*folders: Path) -> list[tuple[list[str], list[str]]]:
    """Nested tune of ease on 60 users, in each of ``folders`` (the second with ``--out n``), in one fresh
    process whose files may not exceed 2,000 bytes (RLIMIT_FSIZE: nested.json, about 4 kB, fails with 'File
    too large' as a full disk would): per folder, its run's stderr lines and what is left in the folder
    after it. The CLI says so in one line (exit 1), no longer OSError's traceback. The two runs share one
    process (a fresh interpreter's start is 2-3 CPU-s) as two commands run one after the other in a
    notebook do: each is a new :func:`main` call, in its own folder, after the other has ended."""
    import resource
    import subprocess
    import sys

    from datagen import make_ratings

    for folder in folders:
        make_ratings(60, 40, 0.4, seed=2).to_csv(folder / "r.csv", index=False)

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))

    args = ["tune", "-m", "ease", "--ratings", "r.csv", "--metric", "ndcg@10", "--outer-folds", "2",
            "--trials", "1", "--cv", "1"]  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", NESTED_IN_EACH, *map(str, folders), "--", *args],
                          capture_output=True, text=True, preexec_fn=small_files, timeout=300)  # fmt: skip
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]  # not OSError's
    said = re.split(r"^exit: (\S+)\n", proc.stderr, flags=re.M)  # run 1's lines, its status, run 2's, …
    assert said[1::2] == ["1"] * len(folders) and said[-1] == "", proc.stderr[-2000:]  # each: exit 1
    runs = zip(said[:-1:2], folders, strict=True)
    return [(text.splitlines(), sorted(p.name for p in folder.iterdir())) for text, folder in runs]


def test_nested_tune_does_not_quote_its_own_folder(tmp_path: Path, tmp_path_factory: TempPathFactory) -> None:
    """Nested tune named its default folder in what it said it left: after Ctrl-C (136 columns with
    tuning/svd-rmse-nested, 150 with 'ndcg@10-0.1*arp@10') and after a failed write of its files
    ('nothing was written (tuning/svd-rmse-nested was not created)' under the traceback). As plain tune's
    refusals, the folder is named only when --out named it."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from datagen import make_ratings
    from test_partial_output import A_TRIAL_DONE, _interrupt_when

    # 60 users' ratings (outside tmp_path, which must stay empty), not ml-latest-small's 100k: the interrupt
    # comes after the first trial either way, and what is said of the folder does not depend on the data
    ratings = tmp_path_factory.mktemp("nested-ratings") / "r.csv"
    make_ratings(60, 40, 0.4, seed=2).to_csv(ratings, index=False)
    args = ["tune", "--model", "svd", "--ratings", str(ratings), "--params", "factors=8", "--outer-folds", "2",
            "--trials", "200", "--cv", "1", "--metric", "ndcg@10-0.1*arp@10"]  # fmt: skip
    code, lines, text = _interrupt_when(args, A_TRIAL_DONE, tmp_path)
    said = "movierec: interrupted; nothing was written; nested studies are kept in memory, none to continue"
    assert code == 130 and lines == [said] and len(said) <= 160, text[-2000:]
    assert list(tmp_path.iterdir()) == []

    (default := tmp_path / "default").mkdir()
    (named := tmp_path / "named").mkdir()
    (lines, left), (named_lines, named_left) = _nested_lines(default, named)
    failed = "movierec: error: could not write the output: File too large"
    assert lines[-1] == f"{failed}; nothing was written" and left == ["r.csv"], lines[
        -3:
    ]  # no tuning/ folder
    lines, left = named_lines, named_left  # --out n
    assert lines[-1] == f"{failed}; nothing was written (n was not created)" and left == ["r.csv"], lines[-3:]


def test_another_studys_results_in_out_are_refused_before_a_trial_and_kept(tmp_path: Path) -> None:
    """A successful ``tune --out o --study b`` beside study a (o/study.db, o/best.toml, o/trials.csv) replaced
    a's best.toml, trials.csv, best.json (its test score) and charts with b's, and ``tune --study low`` into
    the tuning/low that a ``--storage`` run of another 'low' wrote did the same (with a new study.db beside
    them). Each is refused now in one line, exit 2, before a trial, every file byte for byte as it was; the
    same study continues (a rerun, --resume, --storage again), and --force replaces them (a's trials stay)."""
    import optuna
    import pytest

    from datagen import make_ratings
    from movierec.errors import ConfigError
    from movierec.tuning import tune

    # 60 users' ratings, not ml-latest-small's 100k: the refusals are of the --out folder's files and studies,
    # read before the data is, and the runs that succeed only need a study to finish
    make_ratings(n_users=60, n_items=50, density=0.4).to_csv(tmp_path / "r.csv", index=False)
    base = ["-m", "baseline", "--ratings", "r.csv", "--trials", "1", "--cv", "1"]

    def run(*extra: str, code: int = 0) -> str:
        proc = run_process("tune", *base, *extra, cwd=tmp_path)
        assert proc.returncode == code, proc.stderr
        return proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""

    def files(folder: str) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted((tmp_path / folder).iterdir())}

    def studies(folder: str) -> list[str]:
        return sorted(optuna.get_all_study_names(storage=f"sqlite:///{tmp_path / folder / 'study.db'}"))

    run("--out", "o", "--study", "a")
    before = files("o")
    line = run("--out", "o", "--study", "b", "--seed", "7", code=2)
    assert line == (
        "movierec: error: --out o: holds results of study 'a' in sqlite:///o/study.db; pass --force to "
        "replace them or choose another --out"
    )
    assert files("o") == before and studies("o") == ["a"]  # no study b created beside a either

    run("--storage", "sqlite:///s.db", "--study", "low")  # writes tuning/low: no study.db there
    low = files("tuning/low")
    line = run("--study", "low", "--seed", "7", code=2)
    assert line == (
        "movierec: error: --out tuning/low: holds results of study 'low' in sqlite:///s.db (--storage continues "
        "it); pass --force to replace them or choose another --out"
    )
    assert len(line) <= 160 and files("tuning/low") == low and "study.db" not in low

    # the same study goes on as before: a rerun, --resume, --storage again (their results replace its own)
    assert (
        "best of 2 complete trials"
        in run_process("tune", *base, "--out", "o", "--study", "a", cwd=tmp_path).stdout
    )
    assert run_process("tune", "--resume", "--study", "a", "--ratings", "r.csv", "--trials", "1", "--cv", "1", "--out", "o", cwd=tmp_path).returncode == 0  # fmt: skip
    run("--storage", "sqlite:///s.db", "--study", "low")
    assert '"study_name": "low"' in (tmp_path / "tuning/low/best.json").read_text()

    run("--out", "o", "--study", "b", "--seed", "7", "--force")  # asked for: b's results, a's trials kept
    assert '"study_name": "b"' in (tmp_path / "o" / "best.json").read_text() and studies("o") == ["a", "b"]

    with pytest.raises(ConfigError) as refused:  # Python's out= says it in its own words
        tune("ml-latest-small", "baseline", n_trials=1, cv=1, out=tmp_path / "o", progress=False)
    assert str(refused.value) == (
        f"out= {tmp_path / 'o'}: holds results of study 'b' in sqlite:///o/study.db; pass force=True to "
        "replace them or choose another out="
    )


def test_result_files_an_earlier_run_wrote_and_this_one_did_not_are_removed_the_users_stay(
    tmp_path: Path,
) -> None:
    """A run into an --out holding earlier results replaced the files it wrote and left the rest: after
    '--force' over a rating study, its ranking_check.json (another model's check) stayed beside the new
    study's results, and a --resume without --pareto left the pareto.csv of the trials before it. Now the
    result files tune names (tuning.OUTPUT_FILES) that a run does not write are removed when its results
    are in place; nothing else in the folder is touched (the user's notes.txt, the study.db)."""
    import json

    from datagen import make_ratings
    from movierec.tuning import OUTPUT_FILES

    make_ratings(n_users=60, n_items=50, density=0.4).to_csv(tmp_path / "r.csv", index=False)
    out = tmp_path / "o"

    def run(*args: str) -> list[str]:
        # one trial a run (it was 2): ranking_check.json and pareto.csv come of the options, not the trial count
        proc = run_process("tune", *args, "--ratings", "r.csv", "--trials", "1", "--cv", "1", "--out", "o", cwd=tmp_path)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return sorted(p.name for p in out.iterdir())

    assert "ranking_check.json" in run("-m", "baseline", "--study", "a")  # a rating metric: the check
    (out / "notes.txt").write_text("mine\n")
    names = run("-m", "ease", "--metric", "ndcg@10", "--pareto", "ndcg@10,arp@10", "--study", "b", "--force")
    assert "pareto.csv" in names and "ranking_check.json" not in names, names  # a's check is gone
    names = run("--resume", "--study", "b")  # no --pareto: the front of b's first trial is gone
    assert "pareto.csv" not in names and "ranking_check.json" not in names, names
    # every result file left is one this run wrote (best.json lists them; plotly.min.js beside the charts)
    written = {Path(p).name for p in json.loads((out / "best.json").read_text())["files"].values()}
    assert {n for n in names if n in OUTPUT_FILES} == written | {"best.json", "plotly.min.js"}, names
    assert (out / "notes.txt").read_text() == "mine\n" and "study.db" in names
