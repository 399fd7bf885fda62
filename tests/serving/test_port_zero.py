"""``movierec serve --port 0``: the system picks a free port as the server binds it, and the banner (and uvicorn's
"Uvicorn running on" line) says which. Tests started servers on a port picked free beforehand, which another
process could take in between: two ``make test`` runs on one machine each failed a serving test that passed
alone (one server could not bind, or a test's readiness check accepted the other run's server)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
from servehelp import Server, movierec_cmd, served_url

from movierec.serving.artifact import load_artifact


def test_port_0_serves_on_the_port_its_banner_names(svd_artifact, tmp_path: Path) -> None:
    """The banner's URL answers /health with the served artifact's model and version, and uvicorn's own line
    names the same port (handed a bound socket, uvicorn would have printed none; bound by uvicorn on port 0,
    the banner said ':0')."""
    log = tmp_path / "serve.log"
    cmd = movierec_cmd("serve", "--artifact", str(svd_artifact[0]), "--port", "0", "--db", "none")
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
        try:
            url = served_url(log, proc)
            port = int(url.rsplit(":", 1)[1])
            assert url == f"http://127.0.0.1:{port}" and port > 0, log.read_text()
            # the socket listens before the banner: a request sent on the banner alone waits, is not refused
            health = httpx.get(f"{url}/health", timeout=60).json()
            art = load_artifact(svd_artifact[0])
            assert (health["model"], health["modelVersion"]) == ("svd", art.model_version), health
        finally:
            proc.terminate()
            proc.wait(30)
    text = log.read_text()
    assert re.search(rf"^INFO: +Uvicorn running on http://127\.0\.0\.1:{port} ", text, re.M), text
    # piped, the banner reads at 80 columns: the URL first, the pid last, the rest indented (one 125-wide line)
    banner = [line for line in text.splitlines() if line.startswith(("serving ", "  "))]
    assert banner == [
        f"serving svd@{art.model_version} on {url}",
        "  docs /docs · metrics /metrics · feedback off",
        f"  reload: kill -HUP {proc.pid}",
    ], text
    assert ":0 " not in text and ":0)" not in text, text


def test_servers_started_at_once_on_port_0_each_serve_on_their_own(svd_artifact, tmp_path: Path) -> None:
    """Three servers started together get three ports, and each URL is its own process's: stopping one stops
    the answers on its URL alone (a readiness check that accepted whichever server answered could not tell)."""
    servers = [Server(svd_artifact[0], "none") for _ in range(3)]
    try:
        for srv in servers:
            srv.wait()
        assert len({srv.port for srv in servers}) == 3 and all(srv.port > 0 for srv in servers)
        servers[0].stop()
        try:
            httpx.get(servers[0].url + "/health", timeout=5)
            raise AssertionError(f"{servers[0].url} still answers after its server stopped")
        except httpx.ConnectError:
            pass
        for srv in servers[1:]:
            assert httpx.get(srv.url + "/health", timeout=10).json()["model"] == "svd"
    finally:
        for srv in servers:
            srv.stop()
