"""``movierec feedback report``: model versions compared on stored feedback, with hand-checked intervals."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from sqlite3 import connect as sqlite3_connect

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from clihelp import run_process
from movierec.cli import app
from movierec.serving.abtest import compare_versions, wilson
from movierec.serving.store import FeedbackStore


def test_wilson_matches_hand_values() -> None:
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)  # textbook values
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_compare_versions_by_hand() -> None:
    frame = pd.DataFrame(
        {
            "userId": ["1", "1", "2", "3", "3", "4"],
            "rating": [5.0, 4.0, 3.0, 2.0, 4.0, 1.0],
            "modelVersion": ["a", "a", "a", "b", "b", "b"],
        }
    )
    table = compare_versions(frame).set_index("modelVersion")
    assert table.loc["a", "ratings"] == 3 and table.loc["a", "users"] == 2
    assert table.loc["a", "meanRating"] == pytest.approx(4.0)
    assert table.loc["a", "likedShare"] == pytest.approx(2 / 3)
    assert table.loc["a", "userMeanRating"] == pytest.approx((4.5 + 3.0) / 2)
    # two users: a draw takes user 1 twice (4.5), user 2 twice (3.0) or each once (4.0), so the interval spans
    # the per-user means' range
    assert (table.loc["a", "meanLow"], table.loc["a", "meanHigh"]) == (pytest.approx(3.0), pytest.approx(4.5))
    assert table.loc["b", "meanDiff"] == pytest.approx(7 / 3 - 4.0)
    assert table.loc["b", "meanDiffLow"] < table.loc["b", "meanDiff"] < table.loc["b", "meanDiffHigh"]
    assert table.loc["b", "likedDiff"] == pytest.approx(1 / 3 - 2 / 3)
    assert table.loc["b", "likedDiffLow"] < table.loc["b", "likedDiff"] < table.loc["b", "likedDiffHigh"]


def _skewed_store(seed: int, n_users: int = 107, n_ratings: int = 321, version: str = "v1") -> pd.DataFrame:
    """Half-star ratings from ``n_users`` users with their own level (sd 0.7), a few of whom give most of the
    ``n_ratings`` ratings (Pareto counts), as a live store looks."""
    rng = np.random.default_rng(seed)
    weight = rng.pareto(1.2, n_users) + 1
    counts = np.maximum(1, np.floor(weight / weight.sum() * n_ratings)).astype(int)
    counts[np.argmax(counts)] += n_ratings - counts.sum()
    level = rng.normal(3.6, 0.7, n_users)
    users = np.repeat(np.arange(n_users), counts)
    ratings = np.clip(np.round((level[users] + rng.normal(0, 0.8, len(users))) * 2) / 2, 0.5, 5.0)
    return pd.DataFrame({"userId": [f"u{u}" for u in users], "rating": ratings, "modelVersion": version})


def _naive_cluster_interval(frame: pd.DataFrame, n_boot: int, seed: int) -> tuple[float, float]:
    """A plain loop: draw users with replacement, pool all their ratings, take the mean; 2.5 and 97.5 percentiles."""
    rng = np.random.default_rng(seed)
    by_user = [g.to_numpy() for _, g in frame.groupby("userId")["rating"]]
    means = []
    for _ in range(n_boot):
        drawn = [by_user[i] for i in rng.integers(0, len(by_user), len(by_user))]
        means.append(np.concatenate(drawn).mean())
    lo, hi = np.quantile(means, [0.025, 0.975])
    return float(lo), float(hi)


def test_intervals_resample_users_with_all_their_ratings() -> None:
    """321 ratings from 107 users, a few giving most: the interval treated every rating as independent and
    was about half as wide as resampling users gives (a plain loop over users agrees). Doubling every user's
    ratings leaves it as it is: more ratings from the same people are not more people."""
    frame = _skewed_store(0)
    row = compare_versions(frame).iloc[0]
    lo, hi = _naive_cluster_interval(frame, 4000, seed=7)
    assert row["meanLow"] == pytest.approx(lo, abs=0.03) and row["meanHigh"] == pytest.approx(hi, abs=0.03)
    r = frame["rating"].to_numpy()
    iid_width = 2 * 1.959963984540054 * r.std(ddof=1) / math.sqrt(len(r))  # the old interval's width
    assert row["meanHigh"] - row["meanLow"] > 1.5 * iid_width
    doubled = compare_versions(pd.concat([frame, frame], ignore_index=True)).iloc[0]
    for col in ("meanLow", "meanHigh", "likedLow", "likedHigh"):
        assert doubled[col] == pytest.approx(row[col]), col


def test_a_user_who_rated_under_both_versions_is_paired() -> None:
    """After a reload users move to the new version, so one user rates under both. Their ratings under each
    share their level (here sd 1 between users, +0.5 under version b): resampled together, the difference
    is read within ±0.1; the same ratings as if from different users give an interval over twice as wide."""
    rng = np.random.default_rng(3)
    level = rng.normal(3.0, 1.0, 60)
    rows = []
    for u in range(60):
        for version, shift in (("a", 0.0), ("b", 0.5)):
            rows += [(f"u{u}", level[u] + shift + rng.normal(0, 0.2), version) for _ in range(3)]
    frame = pd.DataFrame(rows, columns=["userId", "rating", "modelVersion"])
    paired = compare_versions(frame).iloc[1]
    assert paired["meanDiffLow"] < 0.5 < paired["meanDiffHigh"]
    assert paired["meanDiffHigh"] - paired["meanDiffLow"] < 0.2
    apart = frame.assign(userId=frame["userId"] + frame["modelVersion"])  # no user in both
    unpaired = compare_versions(apart).iloc[1]
    assert unpaired["meanDiff"] == pytest.approx(paired["meanDiff"])
    assert unpaired["meanDiffHigh"] - unpaired["meanDiffLow"] > 2 * (
        paired["meanDiffHigh"] - paired["meanDiffLow"]
    )


def test_one_user_gives_no_interval_and_the_table_names_the_model() -> None:
    frame = pd.DataFrame(
        {
            "userId": ["1", "1", "2", "3"],
            "rating": [4.0, 5.0, 3.0, 2.0],
            "modelVersion": ["a", "a", "b", "b"],
            "model": ["svd", "svd", "ease", None],
        }
    )
    table = compare_versions(frame)
    assert table["model"].tolist() == ["svd", "ease"]
    assert math.isnan(table.loc[0, "meanLow"]) and math.isnan(table.loc[1, "meanDiffLow"])  # one user in a
    assert table.loc[1, "meanLow"] == pytest.approx(2.0) and table.loc[1, "meanHigh"] == pytest.approx(3.0)


def test_feedback_report_cli(db_url: str) -> None:
    store = FeedbackStore(db_url)
    for i in range(20):
        store.add(f"a{i}", str(i), "21", 5.0 if i % 4 else 2.0, model_version="v-old")
        store.add(f"b{i}", str(100 + i), "21", 3.0, model_version="v-new")
    store.close()
    runner = CliRunner()
    result = runner.invoke(app, ["feedback", "report", "--db", db_url, "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)["versions"]
    assert [v["modelVersion"] for v in got] == ["v-old", "v-new"]
    assert got[0]["ratings"] == 20 and got[0]["likedShare"] == pytest.approx(0.75)
    assert got[1]["meanDiff"] == pytest.approx(3.0 - (15 * 5 + 5 * 2) / 20)
    table = runner.invoke(app, ["feedback", "report", "--db", db_url], env={"COLUMNS": "80"})
    assert table.exit_code == 0 and "v-old" in table.output and "baseline" in table.output
    assert "brackets: 95% intervals" in table.output
    wide = runner.invoke(app, ["feedback", "report", "--db", db_url], env={"COLUMNS": "120"}).output
    lines = wide.splitlines()
    rows = lines[next(i for i, line in enumerate(lines) if line.startswith("─")) + 1 :]
    assert "4.25" in rows[0] and "[" not in rows[0]  # a value, then its interval on the line below
    assert rows[1].count("[") == 2 and "v-old" not in rows[1]


def test_the_liked_difference_is_in_percentage_points(tmp_path: Path) -> None:
    """Shares of 75% and 0% differ by 75 points; the table printed '-75.0%' under 'Δ liked', which a reader
    takes for a relative change (a 75% drop of 75% is 18.75%). It prints '-75.0 pp', its interval in points,
    and the caption says so; --json keeps the fractions."""
    db = f"sqlite:///{tmp_path / 'fb.db'}"
    store = FeedbackStore(db)
    for i in range(20):
        store.add(f"a{i}", str(i), "21", 5.0 if i % 4 else 2.0, model_version="v-old")
        store.add(f"b{i}", str(100 + i), "21", 3.0, model_version="v-new")
    store.close()
    result = CliRunner().invoke(app, ["feedback", "report", "--db", db], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "v-new" in line)
    assert row.rstrip().endswith("  -75.0 pp"), row
    assert "-75.0%" not in result.output
    text = " ".join(result.output.split())
    assert "Δ liked in percentage points (pp) of the liked shares" in text, text
    got = json.loads(CliRunner().invoke(app, ["feedback", "report", "--db", db, "--json"]).output)
    assert got["versions"][1]["likedDiff"] == pytest.approx(-0.75)


def test_a_liked_threshold_above_every_rating_is_refused(tmp_path: Path) -> None:
    """'--liked 7' on a store of ratings up to 5 printed a table of 0.0% shares with intervals [0.0%, 9.0%]:
    no rating could count as liked, and nothing said why. It is one line, exit 2, naming the highest."""
    db = f"sqlite:///{tmp_path / 'fb.db'}"
    store = FeedbackStore(db)
    for i in range(5):
        store.add(f"a{i}", str(i), "21", 4.5, model_version="v1")
    store.close()
    result = run_process("feedback", "report", "--db", db, "--liked", "7")
    assert result.returncode == 2 and result.stdout == "", result.stdout
    assert result.stderr.strip() == (
        "movierec: error: --liked 7 is above every stored rating (the highest is 4.5), so none counts as "
        "liked; give a rating on the store's scale (the default is 4)"
    )
    assert len(result.stderr.strip()) <= 160  # the CLI's one line (it was 166)
    assert (
        run_process("feedback", "report", "--db", db, "--liked", "4.5").returncode == 0
    )  # the top one is fine


def test_a_served_version_stays_whole_at_80_columns(tmp_path: Path) -> None:
    """The version is what /health, X-Model-Version and /metrics name and what an operator copies: at 80
    columns the table folded serve's 12-hex versions over two lines ('7596d1bc65' / '03')."""
    db = f"sqlite:///{tmp_path / 'fb.db'}"
    store = FeedbackStore(db)
    for i in range(30):
        store.add(f"a{i}", str(i), "21", 3.5 + (i % 3) / 2, model_version="7596d1bc6503")
        store.add(f"b{i}", str(100 + i), "21", 4.0 + (i % 3) / 2, model_version="456a2e46fe4c")
    store.close()
    result = CliRunner().invoke(app, ["feedback", "report", "--db", db], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80, result.output
    assert any("7596d1bc6503" in line for line in lines), result.output
    assert any("456a2e46fe4c" in line for line in lines), result.output


def test_every_interval_stays_on_one_line_at_80_columns(tmp_path: Path) -> None:
    """At 80 columns each interval broke over two lines ('[50.0%,' / '83.3%]', '[-0.62,' / '+0.35]'): seven
    framed columns of '[a, b]' intervals needed about 100. Every value and interval is now whole on its own
    line within 80, ratings over users in one column as version over model."""
    from rich.cells import cell_len

    db = f"sqlite:///{tmp_path / 'fb.db'}"
    store = FeedbackStore(db)
    for i in range(30):
        store.add(f"a{i}", str(i), "21", 3.5 + (i % 3) / 2, model_version="7596d1bc6503", model="svd")
        low = 3.0 if i % 5 == 0 else 0.0  # some dislikes: intervals of both signs in the Δ columns
        store.add(
            f"b{i}", str(100 + i), "21", 4.0 + (i % 3) / 2 - low, model_version="456a2e46fe4c", model="ease"
        )
    for i in range(20):  # a version stored before the model was recorded: '?', not 'nan'
        store.add(f"c{i}", str(200 + i), "21", 5.0, model_version="0000aaaa1111")
    store.close()
    result = CliRunner().invoke(app, ["feedback", "report", "--db", db], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(cell_len(line) for line in lines) <= 80, result.output
    body = "\n".join(lines[: next(i for i, line in enumerate(lines) if line.startswith("brackets"))])
    # two intervals for the baseline, four for each other version: each '[' closes on its own line
    assert len(re.findall(r"\[[-+]?\d[^\]\n]*\]", body)) == 10, result.output
    assert body.count("[") == body.count("]") == 10, result.output
    unknown = next(i for i, line in enumerate(lines) if line.startswith("0000aaaa1111"))
    assert lines[unknown + 1].split()[0] == "?" and "nan" not in result.output, result.output
    ease = next(i for i, line in enumerate(lines) if line.startswith("456a2e46fe4c"))
    assert lines[ease + 1].split()[:3] == ["ease", "30", "[3.42,4.32]"], lines[ease + 1]
    assert lines[ease].split()[1:] == ["30", "3.90", "80.0%", "-0.10", "+13.3", "pp"], lines[ease]


def test_bare_feedback_lists_its_command_as_data_and_spark_do() -> None:
    """``movierec feedback`` alone said 'missing command (see 'movierec feedback --help')', where ``movierec
    data`` and ``movierec spark`` show their commands; it shows ``report`` and what it does."""
    bare = run_process("feedback", env={"COLUMNS": "80"})
    assert "missing command" not in bare.stderr, bare.stderr
    text = " ".join((bare.stdout + bare.stderr).split())
    assert "Usage: movierec feedback" in text and "report Per model version and its model" in text, text
    assert bare.returncode == run_process("data", env={"COLUMNS": "80"}).returncode
    helped = run_process("feedback", "report", "--help", env={"COLUMNS": "80"}).stdout
    assert "--artifact  FOLDER" in helped and "list[" not in helped, helped  # serve's metavar, not the type


def test_feedback_report_bad_db(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["feedback", "report", "--db", str(tmp_path / "none.db")])
    assert result.exit_code != 0
    assert "no such feedback database" in str(result.exception) + result.output


def test_a_database_that_does_not_answer_is_named_without_its_password() -> None:
    """'feedback report --db' and '--with-feedback' with a PostgreSQL URL whose server refuses the connection
    (a free loopback port): one line, exit 2, the URL's password as ***. It printed
    'postgresql://u:s3cret@127.0.0.1:…' in the 'not a movierec feedback database' line."""
    pytest.importorskip("psycopg")
    from servehelp import free_port

    url = f"postgresql://u:s3cret@127.0.0.1:{free_port()}/feedback"
    for args in (["feedback", "report", "--db", url], ["data", "info", "--with-feedback", url]):
        done = run_process(*args, inherit_columns=True)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "s3cret" not in done.stderr + done.stdout and "u:***@127.0.0.1" in done.stderr, done.stderr


def test_a_proportion_interval_ends_at_exactly_0_and_1() -> None:
    """A version whose every rating was liked, or none: the Wilson interval ends at 1 and 0 exactly. In floats
    84 of 84 gave an upper bound of 0.9999999999999999 (in --json) and 0 of 84 a lower bound of -3.5e-18,
    which the table printed as '-0.0%'."""
    for n in (1, 3, 10, 84, 100, 279, 1000):
        assert wilson(n, n)[1] == 1.0 and wilson(0, n)[0] == 0.0
        assert 0.0 <= wilson(n, n)[0] < 1.0 and 0.0 < wilson(0, n)[1] <= 1.0
    frame = pd.DataFrame(
        {"userId": [str(i) for i in range(84)], "rating": [2.0] * 84, "modelVersion": ["a"] * 84}
    )
    row = compare_versions(frame).iloc[0]
    assert row["likedShare"] == 0.0 and row["likedLow"] == 0.0 and f"{row['likedLow']:.1%}" == "0.0%"


def test_the_report_names_each_version_s_model(svd_artifact, movies, tmp_path: Path) -> None:
    """helper-61's walk: the report's rows named only the version hash (7596d1bc6503), never the model, so
    comparing svd with ease meant looking elsewhere. A real server serving svd and ease 50/50 stores each
    rating with its model, and the report names it; rows stored before (no model) are named from the
    artifacts given with --artifact; a folder without a manifest is one line, exit 2."""
    import httpx
    from servehelp import Server, fit

    from movierec.serving.artifact import export_artifact, load_artifact

    model, train = fit("ease", movies)
    ease = export_artifact(model, movies, train, tmp_path / "ease", min_support=0)
    db = tmp_path / "fb.db"
    srv = Server(svd_artifact[0], db, "--artifact", str(ease), "--weights", "50,50").wait()
    try:
        for user in range(1, 21):
            body = {"userId": user, "movieId": 21, "rating": 4.0, "requestId": f"r-{user}"}
            assert httpx.post(srv.url + "/feedback", json=body).status_code == 201
    finally:
        srv.stop()
    versions = {
        load_artifact(p).model_version: name for p, name in ((svd_artifact[0], "svd"), (ease, "ease"))
    }
    out = run_process("feedback", "report", "--db", str(db), "--json", inherit_columns=True)
    assert out.returncode == 0, out.stderr
    got = {v["modelVersion"]: v["model"] for v in json.loads(out.stdout)["versions"]}
    assert got == versions  # both served, each named
    with sqlite3_connect(db) as conn:  # rows as a store written before schema 3 holds them
        conn.execute("UPDATE feedback SET model = NULL")
    table = run_process("feedback", "report", "--db", str(db), env={"COLUMNS": "80"})
    assert "model ?: rows stored before the model was recorded" in " ".join(table.stdout.split()), (
        table.stdout
    )
    named = run_process(
        "feedback", "report", "--db", str(db), "--json", "--artifact", str(ease), inherit_columns=True
    )
    got = {v["modelVersion"]: v["model"] for v in json.loads(named.stdout)["versions"]}
    assert got == {v: ("ease" if n == "ease" else None) for v, n in versions.items()}
    bad = run_process(
        "feedback", "report", "--db", str(db), "--artifact", str(tmp_path), inherit_columns=True
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert f"--artifact {tmp_path}: no manifest.json" in bad.stderr, bad.stderr


def test_report_reads_serve_s_default_database_without_db(tmp_path: Path) -> None:
    """'movierec serve' writes sqlite:///feedback.db when no --db is given; 'feedback report' without --db said
    "missing option '--db'". It reads the same default (and MOVIEREC_DB, as serve does), names it, and where
    there is none says so in one line, naming serve's default."""
    env: dict[str, str | None] = {"MOVIEREC_DB": None}
    done = run_process("feedback", "report", cwd=tmp_path, env=env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "missing option" not in done.stderr
    assert "sqlite:///feedback.db" in done.stderr and "serve's default --db" in done.stderr, done.stderr
    store = FeedbackStore(f"sqlite:///{tmp_path / 'feedback.db'}")
    store.add("r1", "7", "21", 5.0, model_version="v1")
    store.close()
    done = run_process("feedback", "report", "--json", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["db"] == "sqlite:///feedback.db" and got["versions"][0]["ratings"] == 1
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    via_env = run_process(
        "feedback", "report", "--json", cwd=elsewhere, env={"MOVIEREC_DB": str(tmp_path / "feedback.db")}
    )
    assert via_env.returncode == 0 and json.loads(via_env.stdout)["versions"][0]["ratings"] == 1, (
        via_env.stderr
    )


def test_a_copy_of_a_live_store_without_its_wal_says_why_it_is_empty(tmp_path: Path) -> None:
    """'cp feedback.db copy.db' while serve runs: the rows, and the table, are still in feedback.db-wal, so the
    copy read as "not a movierec feedback database (no table 'feedback')" with no word of the cause. It now
    says the likely one and how to copy the store whole; the copy made that way reads."""
    import shutil

    live = tmp_path / "feedback.db"
    store = FeedbackStore(f"sqlite:///{live}")  # open, as a running server's: nothing checkpointed yet
    try:
        store.add("r1", "7", "21", 5.0, model_version="v1")
        assert (tmp_path / "feedback.db-wal").stat().st_size > 0
        shutil.copy(live, tmp_path / "copy.db")
        done = run_process("feedback", "report", "--db", str(tmp_path / "copy.db"), cwd=tmp_path)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "no table 'feedback'" in done.stderr and "WAL mode" in done.stderr, done.stderr
        assert 'sqlite3 feedback.db ".backup copy.db"' in done.stderr, done.stderr
        src = sqlite3_connect(live)  # what the sqlite3 shell's .backup does
        dst = sqlite3_connect(tmp_path / "whole.db")
        src.backup(dst)
        src.close()
        dst.close()
    finally:
        store.close()
    done = run_process("feedback", "report", "--db", str(tmp_path / "whole.db"), "--json", cwd=tmp_path)
    assert done.returncode == 0 and json.loads(done.stdout)["versions"][0]["ratings"] == 1, done.stderr
    other = tmp_path / "other.db"  # another program's database (no WAL) keeps the plain words
    conn = sqlite3_connect(other)
    conn.execute("create table t (x)")
    conn.commit()
    conn.close()
    done = run_process("feedback", "report", "--db", str(other), cwd=tmp_path)
    assert "no table 'feedback'" in done.stderr and "WAL" not in done.stderr, done.stderr
