"""Ctrl-C or SIGTERM in the moments after ``serve``'s banner, before uvicorn has installed its own signal
handlers: the CLI's interrupt (130 / 143 and its one line), not uvicorn.run's silent exit 3, which says
the app failed to start. A real ``movierec serve`` subprocess; the signal is sent while uvicorn's
``Server.serve`` has been entered but has not yet installed its handlers (the child holds it there)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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
    ready = tmp_path / "ready"
    args = [
        "serve",
        "--artifact",
        str(svd_artifact[0]),
        "--port",
        "0",
        "--db",
        f"sqlite:///{tmp_path / 'fb.db'}",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ready), *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "serve never started uvicorn"
            time.sleep(0.02)
        proc.send_signal(sig)
        try:
            _out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # once in a loaded make test (ctrl-c): say where it was
            proc.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: every thread's stack
            _out, err = proc.communicate(timeout=30)
            raise AssertionError(f"serve still running 30 s after signal {sig}:\n{err[-6000:]}") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, err[-3000:]
    assert err.splitlines()[-1] == line, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
