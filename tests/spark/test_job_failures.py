"""A Spark job that fails while it runs is one line naming its root cause, exit status 1, with the full
Python and Java stack in a log file the line names (it was Py4J's traceback around hundreds of lines of
Java stack). The failure is real: a Parquet ratings folder whose second part file is corrupt reads fine
(Spark takes the schema from the first) and fails in the first job that scans the rows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from sparkmarks import SPARK_JOB

from movierec.cli import main
from movierec.datasets import bundled_path

pytestmark = SPARK_JOB


@pytest.fixture
def corrupt_ratings(tmp_path: Path) -> Path:
    ratings = pd.read_csv(bundled_path() / "ratings.csv").head(4000)
    folder = tmp_path / "ratings.parquet"
    folder.mkdir()
    ratings.head(2000).to_parquet(folder / "part-00000.parquet", index=False)
    ratings.tail(2000).to_parquet(folder / "part-00001.parquet", index=False)
    good = (folder / "part-00001.parquet").read_bytes()  # its footer's metadata overwritten with zeros
    (folder / "part-00001.parquet").write_bytes(good[: len(good) // 2] + b"\0" * 64 + good[-8:])
    return folder


def test_spark_train_job_failure_is_one_line_naming_the_cause(  # type: ignore[no-untyped-def]
    spark, tmp_path: Path, corrupt_ratings: Path, capsys, monkeypatch
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(logs))
    out = tmp_path / "art"
    with pytest.raises(SystemExit) as stopped:
        main(["spark", "train", "--ratings", str(corrupt_ratings), "--out", str(out), "--rank", "4"])
    assert stopped.value.code == 1  # a failed job, not a mistake in the input (2)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Py4JJavaError" not in err
    (log,) = logs.iterdir()
    lines = [ln for ln in err.splitlines() if ln.startswith("movierec:")]
    assert len(lines) == 1, err[-3000:]
    assert lines[0].startswith(
        "movierec: error: the Spark job failed: Encountered error while reading file "
        f"file://{corrupt_ratings}/part-00001.parquet: "
    )  # the file, from the outer exception, then the cause underneath
    assert lines[0].endswith(f" (full stack in {log}); nothing was written ({out} was not created)")
    full = log.read_text()
    assert "Py4JJavaError" in full and "Caused by: " in full  # the whole Java stack is kept there
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", "ratings.parquet"]
