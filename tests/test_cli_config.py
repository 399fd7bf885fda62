"""``best.toml`` from a tiny ``movierec tune`` study, read back by ``export --config`` and ``report --config``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("optuna")

from clihelp import run_process
from datagen import make_ratings
from movierec.cli import app
from movierec.experiment import load_experiment
from movierec.tuning import tune

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def best_toml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-trial svd study (3 epochs pinned) on an in-code ratings file; returns its best.toml."""
    folder = tmp_path_factory.mktemp("cfg")
    data = folder / "ratings.csv"
    make_ratings(120, 80, 0.3, seed=3).to_csv(data, index=False)
    tune(
        str(data),
        "svd",
        metric="rmse",
        n_trials=2,
        cv=2,
        seed=5,
        fixed_params={"n_epochs": 3},
        out=folder / "study",
    )
    return folder / "study" / "best.toml"


def _invoke(*args: str) -> None:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)


def test_export_config_uses_the_tuned_params(best_toml: Path, tmp_path: Path) -> None:
    exp = load_experiment(best_toml)
    tuned = exp.models[0].params
    assert set(tuned) == {"factors", "epochs", "learning_rate", "regularization"}
    _invoke("export", "--config", str(best_toml), "--out", str(tmp_path / "art"), "--json")
    manifest = json.loads((tmp_path / "art" / "manifest.json").read_text())
    assert manifest["model"]["name"] == "svd"
    params = manifest["model"]["params"]
    assert {k: params[k] for k in tuned} == pytest.approx(tuned)
    assert params["random_state"] == exp.seed == 5  # the file's seed, not the CLI default 42
    # a --params typed on the command line wins over the file's value; the others stay
    _invoke(
        "export", "--config", str(best_toml), "--out", str(tmp_path / "art2"), "-p", "n_factors=3", "--json"
    )
    params2 = json.loads((tmp_path / "art2" / "manifest.json").read_text())["model"]["params"]
    # the old spelling on the command line overrides the file's canonical name
    assert params2["factors"] == 3 and params2["learning_rate"] == pytest.approx(tuned["learning_rate"])


@pytest.mark.slow
def test_report_config_trains_the_tuned_model(best_toml: Path, tmp_path: Path) -> None:
    tuned = load_experiment(best_toml).models[0].params
    out = tmp_path / "rep"
    _invoke(
        "report", "--config", str(best_toml), "--out", str(out), "--projection", "pca", "--map-items", "20"
    )
    data = json.loads((out / "results.json").read_text())
    fp = data["report"]["fingerprint"]
    assert fp["models"] == ["svd"] and fp["seed"] == 5
    assert fp["params"]["svd"] == pytest.approx(tuned)
    assert fp["dataset"] == "ratings"  # the file's dataset (the CLI default would be ml-latest-small)
    assert [row["model"] for row in data["table"]] == ["svd"]
    assert (out / "index.html").is_file()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_process(*args, cwd=cwd, inherit_columns=True)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["export", "report"])
@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "no such experiment file"),
        ('seed = 1\n[[models]]\nname = "svd"\n[models.params]\nbogus = 3\n', "has no hyperparameter 'bogus'"),
        (
            '[[models]]\nname = "svd"\n[models.params]\nn_factor = 3\n',
            "line 4: [[models]] params.n_factor: svd has no hyperparameter 'n_factor' (did you mean 'n_factors'?)",
        ),
        ("seed = [\n", "not valid TOML"),
        ('[[models]]\nname = "svd"\n[[models]]\nname = "baseline"\n', "holds 2 models"),
    ],
)
def test_bad_config_file_is_one_line_exit_2(
    command: str, content: str | None, needle: str, tmp_path: Path
) -> None:
    if command == "report" and "holds 2" in needle:
        needle = "--models and --config"  # the report trains several models; check its own refusal instead
        args = ["--models", "svd"]
    else:
        args = []
    cfg = tmp_path / "exp.toml"
    if content is not None:
        cfg.write_text(content)
    proc = _cli(command, "--config", str(cfg), "--out", str(tmp_path / "o"), *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()  # refused before anything was trained or written


def test_export_config_prints_the_params_it_trained(best_toml: Path, tmp_path: Path) -> None:
    """``export --config best.toml`` said 'ok svd exported to …' and the hold-out figures, never which
    hyperparameters it trained: the tuned values (and a ``--params`` over them) were nowhere on screen."""
    tuned = load_experiment(best_toml).models[0].params
    proc = run_process("export", "--config", str(best_toml), "--out", "art", "-p", "epochs=2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("params from "))
    head, _, given = line.partition(": ")
    assert head == f"params from {best_toml}", line
    want = {**{k: f"{v:.6g}" if isinstance(v, float) else str(v) for k, v in tuned.items()}, "epochs": "2"}
    assert dict(p.split("=") for p in given.split(", ")) == want, line
