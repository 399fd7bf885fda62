"""Serving test helpers: a small movie dataset built in code, model fitting, a real ``movierec serve`` subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def mounted_api(artifacts: Mapping[str, Any]) -> Iterator[str]:
    """One real uvicorn on 127.0.0.1 serving each artifact under /<name> (no page, no response cache);
    yields the base URL once the first one answers."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from movierec.serving.app import ServeSettings, create_app

    settings = ServeSettings(static=False, rec_cache_size=0)
    app = Starlette(routes=[Mount(f"/{n}", create_app(a, None, settings)) for n, a in artifacts.items()])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    first = next(iter(artifacts))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/{first}/health", timeout=1.0)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)


def movierec_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "movierec", *args]


class Server:
    """A ``movierec serve`` subprocess on a free loopback port."""

    def __init__(
        self, artifact: Path, db: Path | str, *extra: str, env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if str(db).startswith("sqlite"):
            self.log = Path(os.devnull)
        elif str(db) == "none" or "://" in str(db):  # no folder to log beside: a temp file, removed by stop()
            fd, name = tempfile.mkstemp(prefix=f"movierec-serve-{self.port}-", suffix=".log")
            os.close(fd)
            self.log = Path(name)
        else:
            self.log = Path(str(db) + f".{self.port}.log")
        args = movierec_cmd(
            "serve",
            "--artifact",
            str(artifact),
            "--port",
            str(self.port),
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
        deadline = time.monotonic() + timeout
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
