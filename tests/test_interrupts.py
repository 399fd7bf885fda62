"""Interrupting ``data fetch`` mid-download and ``export`` mid-way (SIGTERM / SIGKILL a real subprocess):
no partial file is ever taken for complete, and running the command again succeeds."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from clihelp import run_process
from movierec.errors import ArtifactError
from movierec.serving.artifact import load_artifact

FIXTURES = Path(__file__).parent / "fixtures" / "ml-csv"


def _archive() -> bytes:
    """An ml-latest-shaped zip, stored uncompressed and padded so streaming it slowly takes seconds."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name in ("ratings.csv", "movies.csv", "tags.csv", "links.csv"):
            zf.write(FIXTURES / name, f"ml-latest/{name}")
        zf.writestr("ml-latest/README.txt", "x" * 400_000)
    return buf.getvalue()


class _Slow(BaseHTTPRequestHandler):
    body = b""
    delay = 0.05  # seconds per 8 KiB block: ~160 KiB/s while ``slow`` is set
    slow = threading.Event()
    requests: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        rng = self.headers.get("Range")
        type(self).requests.append(rng)
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        data = self.body[start:]
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{len(self.body) - 1}/{len(self.body)}")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            for i in range(0, len(data), 8192):
                self.wfile.write(data[i : i + 8192])
                if self.slow.is_set():
                    time.sleep(self.delay)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_server() -> Iterator[str]:
    _Slow.body = _archive()
    _Slow.requests = []
    _Slow.slow.set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/ml-latest.zip"
    httpd.shutdown()
    httpd.server_close()


def _movierec(*args: str, cache: Path) -> list[str]:
    return [sys.executable, "-m", "movierec", *args]


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "MOVIEREC_DATA": str(cache), "COLUMNS": "200"}


def _status(cache: Path, name: str) -> str:
    """``name``'s status in ``movierec data list --json`` with ``cache`` as $MOVIEREC_DATA (in this process:
    it reads the folder and the variable when it runs)."""
    proc = run_process("data", "list", "--json", env={"MOVIEREC_DATA": str(cache)})
    assert proc.returncode == 0, proc.stderr
    return next(r["status"] for r in json.loads(proc.stdout) if r["name"] == name)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_fetch_killed_mid_download_is_not_cached_and_resumes(
    slow_server: str, tmp_path: Path, sig: int
) -> None:
    cache = tmp_path / "cache"
    proc = subprocess.Popen(
        _movierec("data", "fetch", "ml-latest", "--url", slow_server, cache=cache),
        env=_env(cache),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    part = cache / "ml-latest.zip.part"
    deadline = time.monotonic() + 60
    while not (part.exists() and part.stat().st_size > 64 * 1024):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "download never started"
        time.sleep(0.05)
    proc.send_signal(sig)
    proc.wait(30)
    assert proc.returncode != 0
    partial = part.stat().st_size if part.exists() else 0
    assert partial < len(_Slow.body)  # really interrupted mid-way
    if sig == signal.SIGTERM:  # the line says the part is kept and how to go on (it said 'terminated')
        said = " ".join((proc.stderr.read().decode() if proc.stderr else "").split())
        assert re.search(
            rf"movierec: terminated; the \d+\.\d of {len(_Slow.body) / 1e6:.1f} MB downloaded are kept in "
            rf"\S*ml-latest\.zip\.part: run the same command again to resume",
            said,
        ), said
    # a partial download is never taken for the dataset
    assert not (cache / "ml-latest").exists()
    assert _status(cache, "ml-latest") == "not cached"
    # the same command again completes (resuming with Range from the partial file) and verifies
    _Slow.slow.clear()
    done = run_process("data", "fetch", "ml-latest", "--url", slow_server, env={"MOVIEREC_DATA": str(cache)})
    assert done.returncode == 0, done.stderr
    assert _status(cache, "ml-latest") == "cached"
    assert (cache / "ml-latest" / "ratings.csv").read_bytes() == (FIXTURES / "ratings.csv").read_bytes()
    assert not part.exists()
    if partial:
        assert _Slow.requests[-1] == f"bytes={partial}-"  # resumed, not restarted


@pytest.mark.slow
def test_export_killed_mid_way_leaves_no_artifact(tmp_path: Path) -> None:
    """Kill ``export`` at several moments; each time the folder is either absent or a complete, loadable artifact.

    A run that ends before its moment is not waited out: the folder is then the finished artifact, as it was
    after a kill that landed too late, without the idle seconds (the 3.0 and 4.5 s kills often land so)."""
    cache = tmp_path / "cache"
    seen_absent = 0
    for i, delay in enumerate((0.5, 1.5, 3.0, 4.5)):
        out = tmp_path / f"art{i}"
        proc = subprocess.Popen(
            _movierec(
                "export", "--model", "baseline", "--dataset", str(FIXTURES), "--out", str(out), cache=cache
            ),
            env=_env(cache),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:  # kill it ``delay`` s in, or find it finished sooner (a kill then would find nothing to stop)
            proc.wait(delay)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)
        if out.exists():
            load_artifact(out)  # complete: the rename is the last step
        else:
            seen_absent += 1
            with pytest.raises(ArtifactError):
                load_artifact(out)
        # leftovers are hidden temp siblings only, never a folder a reader could take for the artifact
        for p in tmp_path.iterdir():
            assert p.name in {"cache"} or p.name.startswith(".") or (p / "manifest.json").exists(), p
        # running it again succeeds (or says it exists when the killed run had finished)
        again = run_process(
            "export", "--model", "baseline", "--dataset", str(FIXTURES), "--out", str(out), "--force",
            env={"MOVIEREC_DATA": str(cache)},
        )  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert load_artifact(out).model_name == "baseline"
    assert seen_absent >= 1  # at least one kill landed before the artifact was complete
