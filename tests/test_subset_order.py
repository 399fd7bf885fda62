"""Test files given by hand in any order run: pytest 9.1 left a folder's conftest fixtures out for that
folder's files given after another folder's (pytest-dev/pytest#14640, #14997): ``pytest
tests/serving/test_schema_doc.py tests/test_code_shape.py tests/serving/test_probes.py`` errored with
"fixture 'svd_artifact' not found" in both tests of the last file. tests/conftest.py sorts the paths given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_files_of_one_folder_given_apart_still_get_its_fixtures() -> None:
    files = ["tests/serving/test_schema_doc.py", "tests/test_code_shape.py", "tests/serving/test_probes.py"]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "not found" not in out and "7 passed" in out, out[-3000:]
