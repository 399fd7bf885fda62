"""``movierec feedback report``: model versions compared on stored feedback, with hand-checked intervals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

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
    half = 1.959963984540054 * 1.0 / math.sqrt(3)  # sd of (5, 4, 3) is 1
    assert table.loc["a", "meanLow"] == pytest.approx(4.0 - half)
    assert table.loc["b", "meanDiff"] == pytest.approx(7 / 3 - 4.0)
    se = math.sqrt(pd.Series([2.0, 4, 1]).var() / 3 + 1.0 / 3)
    assert table.loc["b", "meanDiffHigh"] == pytest.approx(7 / 3 - 4.0 + 1.959963984540054 * se)
    assert table.loc["b", "likedDiff"] == pytest.approx(1 / 3 - 2 / 3)
    assert table.loc["b", "likedDiffLow"] < table.loc["b", "likedDiff"] < table.loc["b", "likedDiffHigh"]


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
    rows = [line for line in wide.splitlines() if "│" in line]
    assert "4.25" in rows[0] and "[" not in rows[0]  # a value, then its interval on the line below
    assert rows[1].count("[") == 2 and "v-old" not in rows[1]


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


def test_feedback_report_bad_db(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["feedback", "report", "--db", str(tmp_path / "none.db")])
    assert result.exit_code != 0
    assert "no such feedback database" in str(result.exception) + result.output


def test_a_database_that_does_not_answer_is_named_without_its_password() -> None:
    """'feedback report --db' and '--with-feedback' with a PostgreSQL URL whose server refuses the connection
    (a free loopback port): one line, exit 2, the URL's password as ***. It printed
    'postgresql://u:s3cret@127.0.0.1:…' in the 'not a movierec feedback database' line."""
    import subprocess

    pytest.importorskip("psycopg")
    from servehelp import free_port, movierec_cmd

    url = f"postgresql://u:s3cret@127.0.0.1:{free_port()}/feedback"
    for args in (["feedback", "report", "--db", url], ["data", "info", "--with-feedback", url]):
        done = subprocess.run(movierec_cmd(*args), capture_output=True, text=True, timeout=120)
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
