"""Fixtures for the report tests: a tiny MovieLens folder and one report run through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from reporthelp import SMALL_MODELS, SMALL_PARAMS, make_movielens


@pytest.fixture(scope="session")
def movielens_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny MovieLens-layout folder with titles, genres and tags."""
    return make_movielens(tmp_path_factory.mktemp("ml-tiny") / "ml-tiny")


@pytest.fixture(scope="session")
def report_dir(movielens_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``movierec report`` run once through the CLI on the tiny folder (PCA maps, small models)."""
    from typer.testing import CliRunner

    from movierec.cli import app

    out = tmp_path_factory.mktemp("report") / "out"
    args = [
        "report",
        "--dataset",
        str(movielens_dir),
        "--models",
        SMALL_MODELS,
        "--out",
        str(out),
        "--projection",
        "pca",
        "--seed",
        "7",
        "--map-items",
        "all",
    ]
    for p in SMALL_PARAMS:
        args += ["--params", p]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    return out
