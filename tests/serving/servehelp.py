"""Serving test helpers: a small movie dataset built in code, model fitting, a real ``movierec serve`` subprocess."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from movierec.datasets import Dataset
from movierec.interactions import Interactions
from movierec.models.registry import create

GENRES = ["Comedy", "Drama", "Action", "Romance", "Sci-Fi"]
TITLES = {
    1: "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)",
    11: "Léon: The Professional (1994)",
    21: "Toy Story (1995)",
    31: "Toy Story 2 (1999)",
    41: "American President, The (1995)",
}
API_KEY = "test-key-123"


def make_ratings(n_users: int, n_items: int, density: float = 0.3, seed: int = 0) -> pd.DataFrame:
    """Random low-rank half-star ratings where every user and every item has at least one rating."""
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=(n_users, 3)), rng.normal(size=(n_items, 3))
    mask = rng.random((n_users, n_items)) < density
    mask[np.arange(n_users), rng.integers(0, n_items, n_users)] = True
    mask[rng.integers(0, n_users, n_items), np.arange(n_items)] = True
    users, items = np.nonzero(mask)
    ratings = np.clip(np.round((3.0 + (u[users] * v[items]).sum(1)) * 2) / 2, 0.5, 5.0)
    ts = 1_000_000_000 + rng.integers(0, 10_000_000, len(users))
    return pd.DataFrame({"userId": users + 1, "movieId": items * 10 + 1, "rating": ratings, "timestamp": ts})


def movies_dataset(n_users: int = 40, n_items: int = 60, seed: int = 0) -> Dataset:
    """Low-rank random ratings plus a movie table (accented titles, years, genres)."""
    frame = make_ratings(n_users, n_items, density=0.3, seed=seed)
    inter = Interactions.from_frame(frame, rating_scale=(0.5, 5.0))
    rng = np.random.default_rng(seed)
    ids = inter.item_map.ids
    movies = pd.DataFrame(
        {
            "movieId": ids,
            "title": [TITLES.get(int(i), f"Movie {int(i)} ({1950 + int(i) % 60})") for i in ids],
            "year": pd.array([1950 + int(i) % 60 for i in ids], dtype="Int64"),
            "genres": [sorted(set(rng.choice(GENRES, size=2).tolist())) for _ in ids],
        }
    )
    return Dataset("tiny-movies", inter, movies, None, "0" * 64, "in-code", [])


def fit(name: str, ds: Dataset, **params: object):
    """A registry model fitted like ``movierec export`` does (implicit models on the ≥ 4 positives)."""
    model = create(name, **params)
    train = ds.interactions if model.kind == "explicit" else ds.interactions.to_implicit(4.0)
    return model.fit(train), train


def export_each(
    models: Mapping[str, Mapping[str, Any]], ds: Dataset, root: Path, min_support: int = 0
) -> dict[str, tuple]:
    """Fit and export every ``label: params`` (a label is the model's name, optionally with a ``-suffix``
    after a known name: "mult-vae-rating"), each as ``(model, train, loaded artifact, folder)``."""
    from movierec.models.registry import MODELS as KNOWN
    from movierec.serving.artifact import export_artifact, load_artifact

    out = {}
    for label, params in models.items():
        name = label if label in KNOWN else label.rsplit("-", 1)[0]
        model, train = fit(name, ds, **params)
        path = export_artifact(model, ds, train, root / label, min_support=min_support)
        out[label] = (model, train, load_artifact(path), path)
    return out


def assert_own_ratings_fold_in_exactly(
    model: Any, train: Interactions, scorer: Any, atol: float = 1e-5
) -> None:
    """A scorer that keeps nothing per user: folding a training user's own ratings in, in the order the
    training data holds them, gives the model's predictions for that user (first, eighth and last users).
    The order counts for k-NN: among equally similar neighbours the rating that came first wins, a visitor's
    in the order given, a training user's in the training data's (Surprise's rule)."""
    for u in (0, 7, train.n_users - 1):
        rows = np.flatnonzero(train.users == u)
        got = scorer.fold_in(train.items[rows].astype(np.int64), train.ratings[rows])
        np.testing.assert_allclose(got, model.predicted_scores(np.array([u]))[0], rtol=1e-5, atol=atol)


def page_until(page, done: Callable[[], bool], what: str, seconds: float = 30) -> None:  # type: ignore[no-untyped-def]
    """Until ``done()`` holds (a count of requests or answers the page's handlers record), failing with ``what``
    after ``seconds``. A fixed wait guessed how soon a loaded machine's browser and server get there; this
    waits on the thing itself, in steps of Playwright's own wait, which delivers the page's events."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(50)


def search_toy_story(page) -> None:  # type: ignore[no-untyped-def]
    """Type "toy story" into the served page's search box and wait for its answer: Toy Story 2 (id 31) and Toy
    Story (id 21) of :func:`movies_dataset`'s movies (TITLES), the two the page tests rate."""
    page.fill("#search", "toy story")
    page.wait_for_selector("#results li[data-movie-id='31']")


def free_port() -> int:
    """A port nobody listened on a moment ago, only for a port that should stay closed (a refused connection):
    another process can take it before it is used. A server a test starts binds ``--port 0`` (``Server``,
    ``served_url``) or a socket bound here (``mounted_api``), which leave no such gap."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: ``movierec serve``'s banner: the URL it serves on (its first line) and the process id that ``kill -HUP``
#: reloads (the last word of its last line; the lines between are indented)
BANNER = re.compile(r"^serving .* on (http://\S+)\n(?:  .*\n)*?  reload: .*kill -HUP (\d+)$", re.M)


def banner_url(text: str, pid: int) -> str | None:
    """The URL in the "serving … on http://…" banner that process ``pid`` wrote in ``text``, or None yet. The
    pid ties the URL to that process: a banner from another server (a reused log, a shared stream) is not it."""
    for m in BANNER.finditer(text):
        if int(m.group(2)) == pid:
            return m.group(1)
    return None


def served_url(log: Path, proc: subprocess.Popen, timeout: float = 90.0) -> str:
    """The URL a ``movierec serve --port 0`` process writing to ``log`` serves on, from its own banner (the
    socket is bound and listening before the banner is written, so the port is this process's); its log in a
    RuntimeError when it exits first or says nothing in ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(errors="replace")
        url = banner_url(text, proc.pid)
        if url is not None:
            return url
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {text}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no banner within {timeout:g} s: {text}")
        time.sleep(0.1)


@contextmanager
def mounted_api(artifacts: Mapping[str, Any]) -> Iterator[str]:
    """One real uvicorn on 127.0.0.1 serving each artifact under /<name> (no page, no response cache);
    yields the base URL once it has started. uvicorn is handed a socket bound here, so the port is its own."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from movierec.serving.app import ServeSettings, create_app

    settings = ServeSettings(static=False, rec_cache_size=0)
    app = Starlette(routes=[Mount(f"/{n}", create_app(a, None, settings)) for n, a in artifacts.items()])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        if not server.started:
            raise RuntimeError("the mounted API did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def movierec_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "movierec", *args]


class Server:
    """A ``movierec serve --port 0`` subprocess: the system picks a free port when the server binds it, and
    :meth:`wait` reads it from the server's own banner. (A port picked free beforehand could be taken by another
    test run in between: two runs on one machine then each failed, or a test talked to the other's server.)"""

    def __init__(
        self, artifact: Path, db: Path | str, *extra: str, env: dict[str, str] | None = None
    ) -> None:
        self.port = 0  # known once wait() has read the banner
        self.url = ""
        if str(db) == "none" or "://" in str(db):  # no folder to log beside: a temp file, removed by stop()
            fd, name = tempfile.mkstemp(prefix="movierec-serve-", suffix=".log")
        else:  # beside the database, kept; one file per server (two servers may share a database)
            fd, name = tempfile.mkstemp(prefix=Path(db).name + ".", suffix=".log", dir=Path(db).parent)
        os.close(fd)
        self.log = Path(name)
        args = movierec_cmd(
            "serve",
            "--artifact",
            str(artifact),
            "--port",
            "0",
            "--db",
            str(db),
            "--no-access-log",
            "--log-level",
            "warning",
            *extra,
        )
        self._logfh = open(self.log, "wb")
        full_env = {**os.environ, **(env or {})}
        self.proc = subprocess.Popen(args, stdout=self._logfh, stderr=subprocess.STDOUT, env=full_env)

    def wait(self, timeout: float = 90.0) -> Server:
        """Until this process's banner names its URL and its ``/health`` answers 200."""
        deadline = time.monotonic() + timeout
        try:
            self.url = served_url(self.log, self.proc, timeout)
        except RuntimeError:
            self.stop()
            raise
        self.port = int(self.url.rsplit(":", 1)[1])
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.proc.returncode}: {self.log.read_text(errors='replace')}"
                )
            try:
                if httpx.get(self.url + "/health", timeout=2.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._logfh.close()
        if self.log.name.startswith("movierec-serve-"):
            self.log.unlink(missing_ok=True)


@contextmanager
def pool_connections() -> Iterator[list[int]]:
    """Every database connection any SQLAlchemy pool opens (+1) or closes (−1) while the block runs: the
    list's sum is how many are still open."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    counted: list[int] = []
    listeners = [
        ("connect", lambda *_: counted.append(1)),
        ("close", lambda *_: counted.append(-1)),
        ("close_detached", lambda *_: counted.append(-1)),
    ]
    for name, fn in listeners:
        event.listen(Pool, name, fn)
    try:
        yield counted
    finally:
        for name, fn in listeners:
            event.remove(Pool, name, fn)
