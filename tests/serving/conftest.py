"""Serving fixtures: an in-code movie dataset, an exported svd artifact, and a real ``movierec serve``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from servehelp import API_KEY, Server, fit, movies_dataset

from movierec.datasets import Dataset
from movierec.interactions import Interactions
from movierec.serving.artifact import export_artifact


@pytest.fixture(scope="session")
def movies() -> Dataset:
    return movies_dataset()


@pytest.fixture(scope="session")
def svd_artifact(
    movies: Dataset, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, object, Interactions]:
    model, train = fit("svd", movies, n_factors=8, n_epochs=15, random_state=0)
    path = export_artifact(
        model, movies, train, tmp_path_factory.mktemp("art") / "svd", metrics={"rmse": 0.9}
    )
    return path, model, train


@pytest.fixture(scope="session")
def server(
    svd_artifact: tuple[Path, object, Interactions], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A real uvicorn serving the svd artifact, feedback in a SQLite file, POST /feedback behind an API key."""
    db = tmp_path_factory.mktemp("db") / "feedback.db"
    srv = Server(svd_artifact[0], db, env={"MOVIEREC_API_KEY": API_KEY}).wait()
    srv.db = db  # type: ignore[attr-defined]
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    """A real PostgreSQL server in a temp folder on a free loopback port (skipped, with the reason, if absent)."""
    from pghelp import running_cluster

    with running_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty feedback database URL: a SQLite file, then a new database in the PostgreSQL cluster."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fb.db'}"
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.fresh_database(f"t_{uuid.uuid4().hex[:12]}")  # type: ignore[attr-defined]
