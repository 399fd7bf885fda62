"""Ctrl-C or SIGTERM in the moments after ``serve``'s banner, before uvicorn has installed its own signal
handlers: the CLI's interrupt (130 / 143 and its one line), not uvicorn.run's silent exit 3, which says
the app failed to start. A real ``movierec serve`` subprocess; the signal is sent while uvicorn's
``Server.serve`` has been entered but has not yet installed its handlers (the child holds it there)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from clihelp import signal_when_ready

CHILD = """
import asyncio, sys, time
from pathlib import Path
import uvicorn
from movierec.cli import run

ready, serve = Path(sys.argv[1]), uvicorn.Server.serve

async def held(self, sockets=None):
    ready.write_text("uvicorn is starting")
    end = time.monotonic() + 60
    while time.monotonic() < end:  # the signal lands here, before uvicorn's own handlers
        await asyncio.sleep(0.01)
    await serve(self, sockets)

uvicorn.Server.serve = held
sys.argv = ["movierec", *sys.argv[2:]]
run()
"""


@pytest.mark.parametrize(
    ("sig", "code", "line"),
    [(signal.SIGTERM, 143, "movierec: terminated"), (signal.SIGINT, 130, "movierec: interrupted")],
    ids=["sigterm", "ctrl-c"],
)
def test_signal_before_uvicorn_takes_over_is_the_clis_interrupt(
    svd_artifact: tuple[Path, object, object], tmp_path: Path, sig: int, code: int, line: str
) -> None:
    args = [
        "serve",
        "--artifact",
        str(svd_artifact[0]),
        "--port",
        "0",
        "--db",
        f"sqlite:///{tmp_path / 'fb.db'}",
    ]
    returncode, err = signal_when_ready(CHILD, args, tmp_path, sig, what="serve", timeout=30)
    assert returncode == code, err[-3000:]
    assert err.splitlines()[-1] == line, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
