"""A throw-away PostgreSQL cluster for the tests: ``initdb`` in a temp folder, a free loopback port, stopped after.

PostgreSQL refuses to run as root, so when the tests run as root (CI here does) the cluster's folder is
handed to the ``postgres`` system user and its programs run through ``runuser``. Nothing is mocked: the
feedback store talks to a real server over TCP on 127.0.0.1 with psycopg 3.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["PostgresCluster", "find_pg_bin", "pg_unavailable_reason"]


def find_pg_bin() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (Debian puts them under /usr/lib/postgresql/N/bin)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def pg_unavailable_reason() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None when they can."""
    if find_pg_bin() is None:
        return "PostgreSQL is not installed (make test installs Debian's postgresql when it can)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'movierec[postgres]')"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: PostgreSQL refuses to run as root"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return None


def _free_port() -> int:
    """A port nobody listened on a moment ago; another process can take it before PostgreSQL binds it, so
    ``PostgresCluster`` retries on a port in use and checks that the server on the port is its own."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: tries at starting the cluster when the port picked free was taken before PostgreSQL bound it
START_TRIES = 5


class PostgresCluster:
    """``initdb`` + ``pg_ctl start`` on a free port; ``url`` for SQLAlchemy; ``stop()`` removes everything."""

    def __init__(self, user: str = "movierec", dbname: str = "movierec") -> None:
        bindir = find_pg_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed")
        self.bin = bindir
        self.root = Path(tempfile.mkdtemp(prefix="movierec-pg-"))
        self.data = self.root / "data"
        self.port = 0  # chosen by _start()
        self.user = user
        self.dbname = dbname
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            import pwd

            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            os.chmod(self.root, 0o700)
        self._run("initdb", "-D", str(self.data), "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync")
        self._start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", user, dbname)
        self.url = f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{dbname}"

    def _start(self) -> None:
        """``pg_ctl start`` on a free loopback port, again on another one when the port was taken between
        choosing it and PostgreSQL binding it (two test runs on one machine); then checks that the server
        listening there is this cluster's (its postmaster.pid names the port and says ready), so ``createdb``
        and the tests never talk to another run's server."""
        log = self.root / "server.log"
        for _ in range(START_TRIES):
            self.port = _free_port()
            opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200"
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-t", "60", "-o", opts, "start"
                )
            except RuntimeError:
                if "already in use" not in log.read_text(errors="replace"):
                    raise
                log.unlink()  # the next try's log says only its own start
                continue
            pid_file = (self.data / "postmaster.pid").read_text().splitlines()
            if len(pid_file) < 8 or pid_file[3].strip() != str(self.port) or pid_file[7].strip() != "ready":
                raise RuntimeError(f"postmaster.pid does not name port {self.port} ready: {pid_file}")
            return
        raise RuntimeError(f"no free port in {START_TRIES} tries: {log.read_text(errors='replace')}")

    def _run(self, prog: str, *args: str) -> None:
        cmd = [str(self.bin / prog), *args]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"{prog} failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")

    def fresh_database(self, name: str) -> str:
        """A new empty database in this cluster; returns its SQLAlchemy URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        for _ in range(20):
            try:
                shutil.rmtree(self.root)
                return
            except OSError:
                time.sleep(0.1)


@contextmanager
def running_cluster() -> Iterator[PostgresCluster]:
    """A started :class:`PostgresCluster`, stopped at the end; skips the test (with the reason) where
    PostgreSQL's binaries are absent. The serving conftest's session cluster and a test that stops its
    own cluster both start theirs here."""
    import pytest

    reason = pg_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    cluster = PostgresCluster()
    try:
        yield cluster
    finally:
        cluster.stop()
