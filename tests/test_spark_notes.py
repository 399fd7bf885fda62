"""The Spark library's notes on stderr fit 80 columns when piped, paths whole (as the checkpoint note,
tests/test_spark_checkpoint_note.py).

They were bare ``print()`` calls, one line however long; they go through
:func:`movierec.spark.session.print_note` now (``movierec.progress.prose_lines``). No JVM is needed for
the three checked here: each is a real interpreter, stderr piped, calling the function that prints with
what it reads from Spark stood in (a session whose ``stop()`` fails as a gone JVM's does; a reader that
returns a file's first line; the row counts of a table with bad rows). The notes that only a running
JVM reaches (fit_als's checkpoint note, the implicit threshold's scale note, the session's opening line)
use the same function.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: a folder name long enough that every note naming it is over 80 columns on one line
FOLDER = "/data/exports/movielens/2026-12-05/ratings-with-bad-rows"

_STOP = """
from movierec.spark.session import _stop

class GoneJVM:  # a SparkSession whose gateway has gone: stop() fails as py4j's does
    def stop(self):
        raise ConnectionError(
            "An error occurred while trying to connect to the Java server (127.0.0.1:41235)"
        )

_stop(GoneJVM())
"""

_DROPPED = f"""
from movierec.spark.train import _report_dropped

stats = {{"bad_example": "four and a half"}}
dropped = {{"non_numeric_rating": 3, "empty_user": 1, "empty_item": 2}}
_report_dropped(stats, dropped, 6, 1000, "{FOLDER}/part-0.csv", ("userId", "movieId", "rating"), 0.1)
"""

_HEADERLESS = f"""
from movierec.spark.train import _header_and_columns

class Text:
    def first(self):
        return ("1,31,2.5,1260759144",)

class Reader:
    def text(self, uri):
        return Text()

class Session:  # what _header_and_columns asks Spark: the file's first line
    read = Reader()

print(_header_and_columns(Session(), "{FOLDER}/u.csv", "csv", ",", None, ("userId", "movieId", "rating")))
"""


def _stderr(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = str(ROOT / "src")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stderr


@pytest.mark.parametrize(
    ("code", "start", "words"),
    [
        pytest.param(
            _STOP,
            "note: Spark did not stop cleanly (ConnectionError: An error occurred",
            "127.0.0.1:41235)",
            id="did-not-stop",
        ),
        pytest.param(
            _DROPPED,
            "movierec: dropped 6 of 1000 rows (0.60%) from",
            f"{FOLDER}/part-0.csv: 3 with a non-numeric rating",
            id="dropped-rows",
        ),
        pytest.param(_HEADERLESS, "note:", f"{FOLDER}/u.csv", id="headerless"),
    ],
)
def test_a_spark_note_wraps_at_80_columns_when_piped(code: str, start: str, words: str) -> None:
    """Each note was one line of 100-200 columns; fails on the old code."""
    err = _stderr(code)
    lines = err.splitlines()
    assert lines and all(len(line) <= 80 for line in lines), lines
    flowing = " ".join(err.split())
    assert flowing.startswith(start) and words in flowing, lines
    assert any(words.split()[0] in line for line in lines), lines  # wrapped at spaces: the path whole
