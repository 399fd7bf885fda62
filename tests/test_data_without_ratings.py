"""Data without ratings (a log of who watched what: user, item, timestamp) works without being told a threshold.

Loaded with ``--rating-col ''`` / ``rating_col=None`` every row is a 1. The default implicit threshold, 4
(MovieLens' 4 stars of 5), left such a log with no positives, so every command failed until given
``--implicit-threshold 1``; recommend's default model, svd, then listed every movie at a predicted 1.00
with no word; and lists counted 'ratings of 1+'. Now the threshold defaults to the one value (said once),
the commands whose default is a rating model use one that learns from positives (said), a rating model
asked for by name trains with a warning, and lists count interactions. A threshold given always wins.
"""

from __future__ import annotations

import json
import re
import subprocess
import warnings
from pathlib import Path

import pytest

import movierec
from clihelp import run_process
from movierec.errors import ConfigError

THRESHOLD_NOTE = "no ratings: each row is a positive"
CLI_THRESHOLD_NOTE = "note: no ratings: each row is a positive (--implicit-threshold defaults to 1)"
RATING_MODEL = "svd is a rating model and this data has no ratings (every rating is 1)"
DEFAULT_MODEL_NOTE = "note: no --model and no ratings: the list is ease's (svd would learn nothing)"


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``user,item,timestamp``: 60 users in two tastes over 40 items, each user 12 to 17 rows."""
    path = tmp_path_factory.mktemp("watched") / "watched.csv"
    lines = ["user,item,timestamp"]
    for u in range(1, 61):
        first = 1 if u % 2 else 21  # odd users watch items 1-20, even users 21-40, and a few across
        items = [first + (u * 7 + j * 3) % 20 for j in range(12 + u % 6)]
        items += [(first + 19 + u) % 40 + 1]
        for n, i in enumerate(dict.fromkeys(items)):
            lines.append(f"{u},{i},{1_600_000_000 + 3600 * (u * 50 + n)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_process(*args, cwd=cwd, timeout=300)


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, (proc.stdout, proc.stderr)
    return " ".join(proc.stderr.split())  # notes, unwrapped


def test_cli_commands_work_without_a_threshold_and_say_what_they_assumed(log: Path) -> None:
    data = ["--ratings", str(log), "--user-col", "user", "--item-col", "item", "--rating-col", ""]
    cwd = log.parent
    info = _run("data", "info", *data, cwd=cwd)
    assert "none: every row is 1 (interactions only)" in info.stdout and THRESHOLD_NOTE not in _ok(info)

    proc = _run("compare", *data, "--json", cwd=cwd)
    err = _ok(proc)
    assert err.count(THRESHOLD_NOTE) == 1 and "(--implicit-threshold defaults to 1)" in err, err
    assert "no --models given and the data has no ratings: comparing popularity,als,ease" in err, err
    rows = json.loads(proc.stdout)
    assert {r["model"] for r in rows} == {"popularity", "als", "ease"}
    assert {r["threshold"] for r in rows} == {1.0} and all(r["ndcg@10"] > 0 for r in rows)

    proc = _run("recommend", *data, "--user", "3", "-k", "3", cwd=cwd)
    err = _ok(proc)
    assert err.count(THRESHOLD_NOTE) == 1 and DEFAULT_MODEL_NOTE in err, err
    assert "ease trained on watched" in proc.stdout and "interactions" in proc.stdout, proc.stdout
    assert "ratings of 1+" not in proc.stdout and "predicted" not in proc.stdout, proc.stdout

    proc = _run("recommend", *data, "--user", "3", "-k", "3", "--model", "svd", cwd=cwd)
    assert RATING_MODEL in _ok(proc) and "svd trained on watched" in proc.stdout  # asked for: warned, run

    proc = _run("similar", *data, "--movie-id", "5", "-k", "3", cwd=cwd)
    assert THRESHOLD_NOTE in _ok(proc)
    assert "chosen together" in proc.stdout and "ratings of 1+" not in proc.stdout, proc.stdout

    art = cwd / "art"
    proc = _run("export", *data, "--model", "ease", "--out", str(art), "--force", cwd=cwd)
    assert THRESHOLD_NOTE in _ok(proc) and "ok ease exported" in proc.stdout
    assert json.loads((art / "manifest.json").read_text())["implicit_threshold"] == 1.0
    proc = _run("recommend", "--artifact", str(art), "--user", "3", "-k", "3", cwd=cwd)
    _ok(proc)
    assert "movies with ≥" in proc.stdout and "interactions" in proc.stdout, proc.stdout
    assert "ratings of 1+" not in proc.stdout, proc.stdout
    proc = _run("export", *data, "-m", "svd", "-o", str(cwd / "svd"), "--no-check", cwd=cwd)
    assert RATING_MODEL in _ok(proc)


def test_data_info_counts_interactions_not_ratings(log: Path) -> None:
    """``data info`` on a log without ratings names its rows interactions: 'ratings 94,318' and 'items
    (rated)' described a file of plays as if each play were a rating. A rated file keeps its words."""
    data = ["--ratings", str(log), "--user-col", "user", "--item-col", "item", "--rating-col", ""]
    info = _run("data", "info", *data, cwd=log.parent)
    labels = [line.strip("│ ").split("│")[0].strip() for line in info.stdout.splitlines() if "│" in line]
    assert info.returncode == 0 and labels[:3] == ["users", "items (in the log)", "interactions"], info.stdout
    assert "interactions per user" in labels and "interactions per item" in labels, labels
    assert not [label for label in labels if "rated" in label or label.startswith("ratings")], labels
    plain = _run("data", "info", cwd=log.parent)
    assert "items (rated)" in plain.stdout and "ratings per user" in plain.stdout, plain.stdout


def test_a_threshold_given_still_wins_and_still_refuses_as_before(log: Path) -> None:
    data = ["--ratings", str(log), "--user-col", "user", "--item-col", "item", "--rating-col", ""]
    fix = "implicit threshold 4 leaves no positives: every rating is 1"
    for args in (["compare", "--models", "popularity"], ["similar", "--movie-id", "5"]):
        proc = _run(*args, *data, "--implicit-threshold", "4", cwd=log.parent)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and fix in proc.stderr, proc.stderr


def test_recommends_notes_are_one_line_each_at_80_columns(log: Path) -> None:
    """recommend without --model on data without ratings said 'note: no --model given and the data has no
    ratings: the list comes from ease, which learns from the interactions (a rating model such as svd would
    learn nothing from them)', 160 columns: three lines at 80; and the threshold's note before it, 'no
    ratings (every rating is 1): each row is an interaction and counts as a positive, the implicit threshold
    defaults to 1 (threshold= in Python, --implicit-threshold in the CLI)', 190. Now the facts that matter
    (each row a positive, the threshold and the option that sets it) fit one line each."""
    data = ["--ratings", str(log), "--user-col", "user", "--item-col", "item", "--rating-col", ""]
    proc = run_process("recommend", *data, "--user", "3", "-k", "3", cwd=log.parent, env={"COLUMNS": "80"})
    _ok(proc)
    lines = proc.stderr.splitlines()
    for note in (CLI_THRESHOLD_NOTE, DEFAULT_MODEL_NOTE):
        assert note in lines, proc.stderr  # one line of its own, whole
        assert len(note) <= 80
    assert not any(
        "which learns" in line or "would learn nothing" in line or "counts as a positive" in line
        for line in lines
        if line != DEFAULT_MODEL_NOTE
    )


def test_python_compare_and_recommender_work_without_a_threshold(log: Path) -> None:
    ds = movierec.load(log, user_col="user", item_col="item", rating_col=None)
    assert any(n.startswith(THRESHOLD_NOTE) for n in ds.notes), ds.notes
    comp = movierec.compare(ds, ["popularity", "ease"], protocols="full-ranking", progress=False)
    assert comp.threshold == 1.0 and any(n.startswith(THRESHOLD_NOTE) for n in comp.notes), comp.notes
    assert all(r.metrics["ndcg@10"] > 0 for r in comp.rows)
    with pytest.warns(UserWarning, match=r"no model given: ease, which learns from positives"):
        rec = movierec.Recommender(ds)
    assert (rec.name, rec.threshold) == ("ease", 1.0)
    assert len(rec.fit().recommend(3, k=3)) == 3
    with pytest.warns(UserWarning, match=re.escape(RATING_MODEL)):
        movierec.Recommender(ds, "svd")
    with pytest.raises(ConfigError, match="implicit threshold 4 leaves no positives"):
        movierec.Recommender(ds, "ease", threshold=4).fit()
    with pytest.raises(ConfigError, match="implicit threshold 4 leaves no positives"):
        movierec.compare(ds, ["popularity"], threshold=4, progress=False)


def test_rated_data_keeps_its_defaults_without_a_word() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = movierec.Recommender("ml-latest-small")
    assert (rec.name, rec.threshold) == ("svd", 4.0)
    ds = movierec.load("ml-latest-small")
    assert not ds.interactions.interactions_only and not any("no ratings" in n for n in ds.notes)
    assert not ds.interactions.to_implicit(4.0).interactions_only  # an implicit view is not such data


def test_a_log_rated_4_throughout_needs_no_threshold_of_its_own_and_says_nothing(tmp_path: Path) -> None:
    """Every rating 4 (a synthetic session log): the default threshold already counts every row, so no
    threshold is assumed and no note is printed (it came before every error line, e.g. a protocol's split
    mismatch, which is one line)."""
    frame = movierec.load("ml-latest-small").to_frame()
    frame = frame[frame["userId"] <= 40].assign(rating=4.0)
    frame.to_csv(tmp_path / "fours.csv", index=False)
    ds = movierec.load(tmp_path / "fours.csv")
    assert ds.interactions.interactions_only and not any(n.startswith(THRESHOLD_NOTE) for n in ds.notes)
    comp = movierec.compare(ds, ["popularity"], protocols="full-ranking", progress=False)
    assert comp.threshold == 4.0 and not any(n.startswith(THRESHOLD_NOTE) for n in comp.notes)
    proc = _run("compare", "--ratings", str(tmp_path / "fours.csv"), "--models", "popularity",
                "--protocols", "leave-last-out", "--split", "ratings-holdout", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr


def test_tune_and_python_cold_users_default_to_the_datas_threshold(log: Path, tmp_path: Path) -> None:
    """tune and Python's cold_users() kept the threshold at 4 on data without ratings, so a log of who watched
    what was told 'implicit threshold 4 leaves no positives' (tune) or failed the same way (cold_users()),
    while compare, report and export already took its one value. Now they follow the same rule, a threshold
    given still wins, and the best.toml tune writes loads the log again (its rating_col=None was dropped)."""
    from movierec.cold_users import cold_users
    from movierec.experiment import load_experiment
    from movierec.tuning import tune

    data = ["--ratings", str(log), "--user-col", "user", "--item-col", "item", "--rating-col", ""]
    out = tmp_path / "study"
    proc = _run(
        "tune",
        *data,
        "-m",
        "ease",
        "--metric",
        "ndcg@10",
        "-n",
        "1",
        "--cv",
        "1",
        "-o",
        str(out),
        cwd=tmp_path,
    )
    assert _ok(proc).count(THRESHOLD_NOTE) == 1
    exp = load_experiment(out / "best.toml")
    assert exp.threshold == 1.0 and exp.dataset.rating_col == ""
    assert exp.dataset.load().interactions.interactions_only

    ds = movierec.load(log, user_col="user", item_col="item", rating_col=None)
    res = tune(ds, "ease", metric="ndcg@10", n_trials=1, cv=1, progress=False)
    assert res.settings["threshold"] == 1.0 and res.best_value is not None and res.best_value > 0

    report = cold_users(ds, "popularity", user_features=None)
    assert report.meta["threshold"] == 1.0 and report.meta["n_evaluated"] > 0
    assert all(r["ndcg@10"] > 0 for r in report.rows)
    with pytest.raises(ConfigError, match="implicit threshold 4 leaves no positives"):
        cold_users(ds, "popularity", user_features=None, threshold=4)
    rated = cold_users(movierec.load("ml-latest-small"), "popularity", user_features=None, reveal=(1,))
    assert rated.meta["threshold"] == 4.0  # rated data: 4, as before


def test_experiment_file_without_a_threshold_takes_the_datas(log: Path, tmp_path: Path) -> None:
    """An experiment file's threshold defaulted to 4, so a hand-written exp.toml over a log without ratings
    (``rating_col = ""``, no ``threshold``) stopped 'implicit threshold 4 leaves no positives' in compare
    --config and export --config, while the same data typed on the command line ran. Now the file follows
    the CLI's rule: its one value, said in the note, recorded in the run's config.toml (which loads again);
    a threshold the file gives still wins."""
    from movierec.experiment import load_experiment

    head = f'protocols = ["full-ranking"]\nk = 5\n[dataset]\nname = "{log}"\n'
    head += 'user_col = "user"\nitem_col = "item"\nrating_col = ""\n'
    (tmp_path / "exp.toml").write_text(head + '[[models]]\nname = "popularity"\n')
    proc = _run("compare", "--config", "exp.toml", "--out", "runs", cwd=tmp_path)
    _ok(proc)
    said = " ".join(proc.stdout.split())  # compare prints its notes under the table
    assert THRESHOLD_NOTE in said and "relevance ≥ 1" in said
    (run,) = (tmp_path / "runs").iterdir()
    ran = load_experiment(run / "config.toml")
    assert ran.threshold == 1.0 and ran.dataset.load().interactions.interactions_only
    exported = _run("export", "--config", "exp.toml", "--out", "art", cwd=tmp_path)
    assert THRESHOLD_NOTE in _ok(exported)
    manifest = json.loads((tmp_path / "art" / "manifest.json").read_text())
    assert manifest["implicit_threshold"] == 1.0

    (tmp_path / "four.toml").write_text("threshold = 4.0\n" + head + '[[models]]\nname = "popularity"\n')
    refused = _run("compare", "--config", "four.toml", "--out", "runs4", cwd=tmp_path)
    assert refused.returncode == 2 and "implicit threshold 4 leaves no positives" in refused.stderr
    assert not (tmp_path / "runs4").exists() or not any((tmp_path / "runs4").iterdir())


@pytest.fixture(scope="module")
def log_report(log: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``report --models popularity,ease`` on the 40-movie log (PCA maps), the folder it wrote: the two report
    tests read it. (The description test ran a report of its own on an 80-user, 60-movie log so that the
    curves could reach K=50; they now stop at the catalogue, which the other test checks on this one.)"""
    out = tmp_path_factory.mktemp("log-report") / "report"
    data = ["--ratings", str(log), "--user-col", "user", "--item-col", "item", "--rating-col", ""]
    models = ["--models", "popularity,ease", "--projection", "pca"]
    _ok(_run("report", *data, *models, "--out", str(out), cwd=out.parent))
    return out


def test_report_on_a_log_without_ratings_describes_interactions(log_report: Path) -> None:
    """``report`` on a log without ratings says what it did: the header read 'relevant = rating ≥ 1.0 ·
    protocols rating, full-ranking, test-candidates' although rating and test-candidates were skipped,
    the dataset section '1.00 mean rating' over a histogram of 1s ('How often each rating is given'), and
    the model table kept two groups of dashes. Now the header names the protocol that ran and relevance in
    words, the cards count interactions (median per user and per movie), no rating histogram is drawn."""
    import html as htmllib

    out = log_report
    page = (out / "index.html").read_text()
    header = re.search(r'<div class="meta">(.*?)</div>', page, re.S)
    assert header is not None
    words = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", header.group(1))).split())
    assert "relevant = every interaction (the data has no ratings) · protocols full-ranking ·" in words, words
    assert "rating ≥" not in words and "test-candidates" not in words, words
    cards = dict(re.findall(r'<div class="v">([^<]*)</div><div class="l">([^<]*)</div>', page))
    labels = set(cards.values())
    assert {"interactions (no ratings)", "movies with interactions", "per user, median"} <= labels, labels
    assert "mean rating" not in labels and "ratings" not in labels, labels
    assert (
        "How often each rating is given" not in page and not (out / "charts" / "dataset_ratings.png").exists()
    )
    assert "a few users and movies hold most interactions" in page
    assert ">full-ranking (headline)</th>" in page and ">rating prediction</th>" not in page
    assert ">test-candidates (notebook)</th>" not in page
    meta = json.loads((out / "results.json").read_text())["report"]
    assert meta["protocols_run"] == ["full-ranking"], meta
    # the table's legend and the beyond reading spoke of ratings the data does not have
    text = " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert "share of training users with the movie in their history" in text
    assert "who rated the movie" not in text and "implicit models predict no ratings" not in text
    assert "was rated by" not in text


def test_a_report_on_a_catalogue_under_50_movies_draws_its_curves_to_the_catalogue(log_report: Path) -> None:
    """The metric-vs-K curves went to K = 50 whatever the data: on this 40-movie log the report stopped with
    "50 (k= in Python, --k in the CLI) is larger than the catalogue (40 items); nothing was written"."""
    curves = json.loads((log_report / "results.json").read_text())["curves"]
    assert curves["k"] == list(range(1, 41))
    assert len(curves["ease"]["ndcg"]) == 40


def test_data_info_plot_draws_interactions_per_user_and_item_not_one_rating_bar(log: Path) -> None:
    """``data info --plot`` on a log without ratings drew the rating histogram: one bar of 1s, 'histogram
    written to'. It now draws what the report draws for such data since 6ac6dc0, interactions per user and
    per item on log-log axes (the long tail), and says so; a rated file keeps its histogram."""
    data = ["--ratings", str(log), "--user-col", "user", "--item-col", "item", "--rating-col", ""]
    chart = log.parent / "tail.svg"
    proc = _run("data", "info", *data, "--plot", str(chart), cwd=log.parent)
    _ok(proc)
    said = " ".join(proc.stdout.split())
    assert "interactions per user and per item (the data has no ratings to histogram) written to" in said, (
        said
    )
    svg = chart.read_text()  # matplotlib's SVG keeps each text as a comment beside its glyphs
    assert "Interactions per user: median" in svg and "Interactions per item: median" in svg
    assert "Rating distribution" not in svg
    rated = log.parent / "rated.svg"
    plain = _run("data", "info", "--plot", str(rated), cwd=log.parent)
    assert "histogram written to" in plain.stdout and "Rating distribution" in rated.read_text(), plain.stdout
