"""The wheel ``pip install movierec`` (not ``-e``) would install holds everything the package reads at run time.

Every other test runs the editable checkout, which finds the bundled data, the web page, the report
templates and the compiled kernels in ``src/`` whether or not the build ships them; a person who runs
``pip install .`` or installs a built wheel gets only what the wheel holds. So the tracked files are
copied aside, a wheel is built from them, and its contents are read: every non-Python file under
``src/movierec`` (the compiled extension in place of ``_native.pyx``) and the licence text. Then the
unpacked wheel, alone on ``PYTHONPATH`` ahead of the checkout, runs ``movierec compare`` on the bundled
data in a subprocess.

Compiling ``_native.pyx`` was nine tenths of the build (22 of 25 CPU seconds; 124 s of a suite run at
load 9), and it compiled what the checkout's own build had already compiled: every other test imports
that extension. Where the checkout's ``_native.cpp`` and extension are newer than ``_native.pyx`` and
``setup.py`` (so the editable build is current), they are handed to the build as its up-to-date outputs
and setuptools packs them without compiling; the wheel must still be platform-tagged (only a
build that declares an extension is) and nothing else compiled, so the extension packed is the one
``setup.py`` declares. A stale or missing checkout build is compiled afresh, as before.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
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
    reused = _reuse_the_checkouts_extension(src)
    dist = tmp_path_factory.mktemp("dist")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        str(src),
        "--no-deps",
        "--no-build-isolation",
        "-v",  # setuptools' "building 'NAME' extension" lines
        "-w",
        str(dist),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = dist.glob("movierec-*.whl")
    assert not built.name.endswith("-none-any.whl"), built.name  # a build with an extension is tagged
    assert "running build_ext" in done.stderr, done.stderr[-3000:]  # setuptools' lines, -v, are read here
    if reused:
        assert "building '" not in done.stderr, done.stderr[-3000:]
    return built


def _reuse_the_checkouts_extension(src: Path) -> bool:
    """Put the checkout's generated ``_native.cpp`` and compiled extension into the copy at ``src`` as its
    build's up-to-date outputs (so setuptools packs them rather than compiling for ~22 CPU seconds), where
    they are newer than ``_native.pyx`` and ``setup.py``; False (the build compiles) where they are not."""
    kernels = Path("src/movierec/models/kernels")
    cpp = ROOT / kernels / "_native.cpp"
    ext = ROOT / kernels / ("_native" + sysconfig.get_config_var("EXT_SUFFIX"))
    if not (cpp.is_file() and ext.is_file()):
        return False
    sources = max((ROOT / kernels / "_native.pyx").stat().st_mtime, (ROOT / "setup.py").stat().st_mtime)
    if not sources < cpp.stat().st_mtime <= ext.stat().st_mtime:
        return False
    # copied without their times, in this order: the .cpp newer than every .pxd Cython reads (cythonize
    # skips it), the extension no older than the .cpp (build_ext skips it)
    shutil.copyfile(cpp, src / kernels / cpp.name)
    from setuptools import Distribution

    build = Distribution().get_command_obj("build")  # where this setuptools puts a build's extensions
    build.finalize_options()
    lib = src / build.build_platlib / "movierec"
    (lib / "models" / "kernels").mkdir(parents=True)
    shutil.copyfile(ext, lib / "models" / "kernels" / ext.name)
    return True


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
