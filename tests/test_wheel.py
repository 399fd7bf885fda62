"""The wheel ``pip install movierec`` (not ``-e``) would install holds everything the package reads at run time.

Every other test runs the editable checkout, which finds the bundled data, the web page, the report
templates and the compiled kernels in ``src/`` whether or not the build ships them; a person who runs
``pip install .`` or installs a built wheel gets only what the wheel holds. So the tracked files are
copied aside, a wheel is built from them (setuptools compiles ``_native.pyx``, about 12 s), and its
contents are read: every non-Python file under ``src/movierec`` (the compiled extension in place of
``_native.pyx``) and the licence text. Then the unpacked wheel, alone on ``PYTHONPATH`` ahead of the
checkout, runs ``movierec compare`` on the bundled data in a subprocess.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tracked() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the wheel is built from the tracked files")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [p for p in out.stdout.decode().split("\0") if p]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for rel in _tracked():
        if (ROOT / rel).is_file() and not rel.startswith(("tests/", "docs/", "bench/")):
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    dist = tmp_path_factory.mktemp("dist")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        str(src),
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        str(dist),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = dist.glob("movierec-*.whl")
    return built


def test_the_wheel_holds_the_data_the_page_the_templates_and_the_kernels(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = [
        "movierec/" + rel.removeprefix("src/movierec/")
        for rel in _tracked()
        if rel.startswith("src/movierec/") and not rel.endswith((".py", ".pyx"))
    ]
    assert "movierec/datasets/bundled/ml-latest-small/ratings.csv" in wanted  # the list is the real one
    missing = [n for n in wanted if n not in names]
    assert not missing, f"not in the wheel: {missing}"
    assert any(n.startswith("movierec/models/kernels/_native.") and n.endswith(".so") for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in names)


def test_the_unpacked_wheel_runs_compare_on_the_bundled_data(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "80"}
    probe = [sys.executable, "-c", "import movierec; print(movierec.__file__)"]
    where = subprocess.run(probe, capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    assert where.stdout.strip().startswith(str(site))  # the wheel's package, not the checkout's
    cmd = [
        sys.executable,
        "-m",
        "movierec",
        "compare",
        "--models",
        "popularity",
        "--protocols",
        "full-ranking",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "popularity" in done.stdout and "ml-latest-small" in done.stdout
