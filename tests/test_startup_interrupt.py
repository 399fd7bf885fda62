"""Ctrl-C or SIGTERM while ``movierec`` is still loading its CLI ends in the same one line and exit status
as at any later moment (a real process, signalled while it imports typer).

Before, the signal handling began only in ``movierec.cli.main``, after 0.1–0.5 s of imports: Ctrl-C in
that time printed the import's traceback ending in ``KeyboardInterrupt`` (exit 1), SIGTERM killed the
process without a word (exit -15).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: a fresh interpreter that stops for a minute when it comes to import typer (the CLI's first heavy
#: import) and says so on stderr, then starts ``movierec --version`` the way {launch} says
CHILD = """
import importlib.abc, sys, time

class SlowTyper(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "typer":
            print("importing typer", file=sys.stderr, flush=True)
            time.sleep(60)
        return None

sys.meta_path.insert(0, SlowTyper())
sys.argv = ["movierec", "--version"]
{launch}
"""

#: ``python -m movierec``
AS_MODULE = "import runpy; runpy.run_module('movierec', run_name='__main__', alter_sys=True)"


def _as_script() -> str:
    """What the ``movierec`` script pip writes from pyproject.toml does: import the entry point, call it."""
    entry = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, name = entry["movierec"].partition(":")
    return f"from {module} import {name}; sys.exit({name}())"


@pytest.mark.parametrize("launch", ["python -m movierec", "movierec script"])
@pytest.mark.parametrize(
    ("signum", "code", "line"),
    [
        pytest.param(signal.SIGINT, 130, "movierec: interrupted", id="ctrl-c"),
        pytest.param(signal.SIGTERM, 143, "movierec: terminated", id="sigterm"),
    ],
)
def test_a_signal_while_the_cli_loads_is_one_line(launch: str, signum: int, code: int, line: str) -> None:
    from clihelp import AS_FROM_A_TERMINAL  # a run started in the background hands SIGINT on ignored

    child = AS_FROM_A_TERMINAL + CHILD.format(
        launch=AS_MODULE if launch == "python -m movierec" else _as_script()
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", child], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert proc.stderr is not None
        assert proc.stderr.readline() == "importing typer\n"  # it is inside the CLI's imports now
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert (proc.returncode, err) == (code, line + "\n"), err[-2000:]
    assert out == ""
