"""Every path an experiment file holds is read relative to the file's folder, as ``[split]``'s were.

Before, a hand-written ``exp/exp.toml`` with ``[dataset] name = "ratings.csv"``, ``movies = "titles.csv"``
or ``user_features = "users.csv"`` beside it ran only from inside ``exp/``: those paths were read from
the working directory (``compare --config exp/exp.toml`` from the project folder: "column options (movies)
apply to a ratings file or a DataFrame, not to 'ratings.csv'", "users.csv: features file not found"),
while ``[split] train``/``test`` were read from the file's folder. tune and report write absolute paths,
so only a file written by hand met it. Each test here runs the real CLI (``main([...])``) from another
folder than the file's."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from clihelp import run_cli
from movierec.datasets import load
from movierec.experiment import load_experiment

MODELS = '\n[[models]]\nname = "popularity"\n'
USERS_MODEL = '\n[[models]]\nname = "segment-popularity"\n'

# each kind of path: the file's body naming one file beside it by a relative path ({abs}: the folder, for
# the other paths the body needs), where the loaded Experiment holds it, and the file's name
KINDS = {
    "dataset-file": ('[dataset]\nname = "ratings.csv"\n', lambda e: e.dataset.name, "ratings.csv"),
    "dataset-folder": ('dataset = "ml"\n', lambda e: e.dataset.name, "ml"),
    "movies": ('[dataset]\nname = "{abs}/ratings.csv"\nmovies = "titles.csv"\n', lambda e: e.dataset.movies, "titles.csv"),
    "split-train": ('[split]\ntrain = "train.csv"\ntest = "{abs}/test.csv"\n', lambda e: e.split.train, "train.csv"),
    "split-test": ('[split]\ntrain = "{abs}/train.csv"\ntest = "test.csv"\n', lambda e: e.split.test, "test.csv"),
    "split-valid": (
        '[split]\ntrain = "{abs}/train.csv"\ntest = "{abs}/test.csv"\nvalid = "valid.csv"\n',
        lambda e: e.split.valid, "valid.csv",
    ),
    "user-features": ('user_features = "users.csv"\n[dataset]\nname = "{abs}/ratings.csv"\n',
                      lambda e: e.user_features, "users.csv"),
}  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``project/exp/``: a ratings file of ml-latest-small's first 40 users, its titles, a MovieLens
    folder ``ml/`` of the same, a split of it into train/valid/test files and a ``userId,age,gender`` file;
    ``project/elsewhere/`` is the folder the commands run from."""
    root = tmp_path_factory.mktemp("project")
    exp = root / "exp"
    (exp / "ml").mkdir(parents=True)
    (root / "elsewhere").mkdir()
    small = load("ml-latest-small")
    frame = small.to_frame()
    frame = frame[frame["userId"] <= 40].drop(columns="timestamp")
    assert small.catalog is not None
    titles = small.catalog[["movieId", "title", "genres"]]
    frame.to_csv(exp / "ratings.csv", index=False)
    titles.to_csv(exp / "titles.csv", index=False)
    frame.to_csv(exp / "ml" / "ratings.csv", index=False)
    titles.to_csv(exp / "ml" / "movies.csv", index=False)
    part = frame.index.to_series().mod(10)
    frame[part >= 3].to_csv(exp / "train.csv", index=False)
    frame[part == 2].to_csv(exp / "valid.csv", index=False)
    frame[part < 2].to_csv(exp / "test.csv", index=False)
    users = pd.DataFrame({"userId": range(1, 41)})
    ages, genders = [20 + u % 5 * 10 for u in users.userId], ["FM"[u % 2] for u in users.userId]
    users.assign(age=ages, gender=genders).to_csv(exp / "users.csv", index=False)  # segment-popularity's
    return root


def _write(project: Path, kind: str, **change: str) -> Path:
    """The experiment file of ``kind`` in ``project/exp/`` (``change``: a file name to write instead)."""
    body = KINDS[kind][0].format(abs=project / "exp")
    for old, new in change.items():
        body = body.replace(f'"{old}"', f'"{new}"')
    models = USERS_MODEL if kind == "user-features" else MODELS
    path = project / "exp" / f"{kind}.toml"
    path.write_text('protocols = ["full-ranking"]\n' + body + models)
    return path


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_path_is_read_from_the_files_folder(kind: str, project: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """``compare --config ../exp/KIND.toml`` from another folder runs, and the run's config.toml holds the
    absolute path of the file beside the experiment file (so it reloads from anywhere). The dataset,
    titles and user-features kinds failed before; ``[split]``'s already passed."""
    _write(project, kind)
    monkeypatch.chdir(project / "elsewhere")
    out = project / "elsewhere" / f"runs-{kind}"
    code, _, err = run_cli(["compare", "--config", f"../exp/{kind}.toml", "--out", str(out)], capsys)
    assert code == 0, err
    (config,) = out.glob("*/config.toml")
    _, value, name = KINDS[kind]
    assert value(load_experiment(config)) == str(project / "exp" / name), config.read_text()


@pytest.mark.parametrize(
    ("kind", "key", "line"),
    [
        ("dataset-file", "[dataset] name", 3),
        ("movies", "[dataset] movies", 4),
        ("split-train", "[split] train", 3),
        ("split-valid", "[split] valid", 5),
        ("user-features", "user_features", 2),
    ],
)
def test_a_missing_path_is_one_line_naming_the_key_the_file_and_the_path_as_read(  # type: ignore[no-untyped-def]
    kind: str, key: str, line: int, project: Path, monkeypatch, capsys
) -> None:
    """A path that is not there is refused before anything runs, exit 2: the file, the line, the key as
    the file writes it and where it was looked for (the file's folder, not the working directory)."""
    name = KINDS[kind][2]
    _write(project, kind, **{name: f"sub/no-{name}"})
    monkeypatch.chdir(project / "elsewhere")
    code, _, err = run_cli(["compare", "--config", f"../exp/{kind}.toml"], capsys)
    what = "file or folder" if key == "[dataset] name" else "file"
    looked = project / "exp" / "sub" / f"no-{name}"
    assert code == 2 and err.strip().splitlines() == [
        f"movierec: error: ../exp/{kind}.toml, line {line}: {key}: no such {what} {looked}"
    ], err


def test_a_bare_dataset_word_that_is_nothing_beside_the_file_is_kept_as_a_name(  # type: ignore[no-untyped-def]
    project: Path, monkeypatch, capsys
) -> None:
    """A word with no folder part and no extension that is nothing beside the file is a dataset's name as
    written: a registered name mistyped hears the closest one, and a best.toml of data tuned in memory
    (``planted``) still loads for its parameters (what nothing could load before stays so)."""
    (project / "exp" / "typo.toml").write_text('dataset = "ml-100"\n' + MODELS)
    monkeypatch.chdir(project / "elsewhere")
    code, _, err = run_cli(["compare", "--config", "../exp/typo.toml"], capsys)
    assert code == 2 and err.startswith(
        "movierec: error: ml-100: no such dataset name or folder (did you mean 'ml-100k'?)"
    ), err
    (project / "exp" / "memory.toml").write_text('dataset = "planted"\n' + MODELS)
    assert load_experiment("../exp/memory.toml").dataset.name == "planted"


def test_export_config_of_a_study_with_user_features_serves_them(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """``tune --user-features FILE`` on the bundled data, ``export --config best.toml`` from another folder,
    then ``recommend --artifact``: the artifact is fitted with the study's user features (its manifest
    names them, and its hold-out NDCG@10 is the study's test figure), and it recommends."""
    pytest.importorskip("optuna")
    users = pd.DataFrame({"userId": range(1, 611)})
    (tmp_path / "data").mkdir()
    users.assign(feature=[f"group:{u % 4}" for u in users.userId]).to_csv(
        tmp_path / "data" / "users.csv", index=False
    )
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(
        ["tune", "-m", "bpr", "--dataset", "ml-latest-small", "--user-features", "data/users.csv",
         "--metric", "ndcg@10", "--trials", "1", "--cv", "1", "--params", "epochs=2,factors=16", "--out", "t"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    best = json.loads((tmp_path / "t" / "best.json").read_text())
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    code, _, err = run_cli(["export", "--config", "../t/best.toml", "--out", "art", "--allow-weak"], capsys)
    assert code == 0, err
    manifest = json.loads((tmp_path / "elsewhere" / "art" / "manifest.json").read_text())
    assert manifest["user_features"]["names"] == [f"feature:group:{g}" for g in range(4)], manifest
    assert round(manifest["metrics"]["ndcg@10"], 4) == round(best["test_score"], 4), manifest["metrics"]
    code, out, err = run_cli(["recommend", "--artifact", "art", "--user", "1", "-k", "5", "--json"], capsys)
    assert code == 0, err
    assert len(json.loads(out)) == 5, out
