"""Tests for movierec.experiment: TOML experiment files, their errors, and runs with provenance."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from clihelp import run_process
from movierec.errors import ConfigError
from movierec.experiment import (
    Experiment,
    ModelConfig,
    cutoff_notes,
    dump_experiment,
    dumps_toml,
    load_experiment,
    parse_experiment,
    run_experiment,
)

GOOD = """\
name = "svd vs baseline"
seed = 7
protocols = ["rating", "full-ranking"]
k = 5
threshold = 3.5

[dataset]
name = "ml-latest-small"

[split]
kind = "ratings-holdout"
test_size = 0.25

[[models]]
name = "baseline"

[[models]]
name = "svd"
label = "svd “tuned” \\\\ 1"
[models.params]
n_factors = 12
lr = 0.01
biased = true
"""


def test_a_config_file_round_trips(tmp_path: Path) -> None:
    exp = parse_experiment(GOOD)
    assert exp.seed == 7 and exp.k == 5 and exp.threshold == 3.5
    assert exp.split.kind == "ratings-holdout" and exp.split.test_size == 0.25
    # Surprise's spellings in the file load under the canonical names
    assert exp.models[1].params == {"factors": 12, "learning_rate": 0.01, "biased": True}
    assert exp.models[1].label == "svd “tuned” \\ 1"
    path = dump_experiment(exp, tmp_path / "exp.toml")
    again = load_experiment(path)
    assert again == exp
    assert parse_experiment(again.to_toml()) == exp  # load → dump → load is stable
    # what sets nothing is not written: best.toml read 'item_features = []' and a bare '[models.params]'
    text = path.read_text()
    assert "item_features" not in text and "user_features" not in text, text
    assert text.count("[models.params]") == 1 and "factors = 12" in text, text  # svd's, not baseline's
    assert again.model_pairs() == [
        ("baseline", {}),
        ("svd", {"factors": 12, "learning_rate": 0.01, "biased": True}),
    ]


def test_defaults_and_shorthands() -> None:
    exp = parse_experiment('dataset = "ml-100k"\nsplit = "per_user"\n[[models]]\nname = "SVD"\n')
    assert exp.dataset.name == "ml-100k" and exp.split.kind == "per-user"
    assert exp.models == [ModelConfig(name="svd")]
    assert exp.protocols == ["rating", "full-ranking"] and exp.k == 10 and exp.seed == 42
    assert parse_experiment(exp.to_toml()) == exp


def test_dumps_toml_quotes_what_needs_quoting() -> None:
    import tomllib

    data = {
        "a key": 'x"y\n',
        "n": 1,
        "f": 1e-5,
        "flags": [True, False],
        "t": {"dotted.key": 2.5},
        "rows": [{"u": "é"}],
    }
    assert tomllib.loads(dumps_toml(data)) == data


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("seed = 1\nk = 10\nkay = 3\n[[models]]\nname = 'svd'\n", ["line 3", "kay", "unknown key"]),
        (
            "[split]\nkind = 'ratings-holdout'\ntest_sise = 0.2\n[[models]]\nname = 'svd'\n",
            ["line 3", "[split] test_sise: unknown key (did you mean 'test_size'?)"],
        ),
        (
            "k = 'ten'\n[[models]]\nname = 'svd'\n",
            ["line 1", 'k: must be a whole number (no quotes), got "ten"'],
        ),
        ("seed = -1\n[[models]]\nname = 'svd'\n", ["line 1", "seed: must be ≥ 0, got -1"]),
        (
            "[[models]]\nname = 'svd'\n[[models]]\nname = 'svd-plus'\n",
            ["line 4", "[[models]] (2nd) name", "unknown model 'svd-plus'"],
        ),
        (
            "[[models]]\nname = 'svd'\n[models.params]\nn_factor = 3\n",
            ["line 4", "[[models]] params.n_factor", "no hyperparameter"],
        ),
        ("[split]\ntest_size = 1.5\n[[models]]\nname = 'svd'\n", ["line 2", "[split] test_size"]),
        ("protocols = ['rating', 'ndcg']\n[[models]]\nname = 'svd'\n", ["line 1", "unknown protocol 'ndcg'"]),
        (  # docs/protocols.md lists it among the protocols; the file was told it was unknown
            "protocols = ['cold-users']\n[[models]]\nname = 'popularity'\n",
            ["line 1", "'cold-users' is not a compare protocol", "run movierec cold-users"],
        ),
        ("seed = 3\n", ["[[models]]: no model to run: add a [[models]] table"]),
        ("seed = = 3\n", ["not valid TOML", "line 1"]),
    ],
)
def test_bad_files_name_the_key_and_line(text: str, needles: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_experiment(text, source="exp.toml")
    msg = str(info.value)
    assert msg.startswith("exp.toml") and "\n" not in msg
    for needle in needles:
        assert needle in msg, msg


def test_an_unknown_key_with_no_close_one_fits_two_rows_and_says_where_the_keys_are() -> None:
    """A top-level key nothing is close to listed all 15 valid keys: 199 to 205 columns with the CLI's
    'movierec: error: ' and the file's path. Now the first six and where every one is named, docs/tuning.md,
    which this checks does name them all."""
    with pytest.raises(ConfigError) as info:
        parse_experiment("zzz = 1\n[[models]]\nname = 'svd'\n", source="experiments/first_run.toml")
    line = f"movierec: error: {info.value}"
    assert line.endswith(
        "line 1: zzz: unknown key; valid here: name, dataset, split, seed, cv, models, … (16 in all: "
        "docs/tuning.md)"
    )
    assert len(line) <= 160, (len(line), line)
    docs = (Path(__file__).parents[1] / "docs" / "tuning.md").read_text(encoding="utf-8")
    section = docs[docs.index("## Experiment files") :]
    assert len(Experiment.model_fields) == 16
    assert all(f"`{key}`" in section for key in Experiment.model_fields), "docs/tuning.md misses a key"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (  # a missing required key: pydantic's "Field required" at ('models', 0, 'name')
            "[[models]]\nlabel = 'a'\n",
            'exp.toml, line 1: [[models]] name: missing; each [[models]] needs its name (name = "svd"; movierec '
            "models lists them)",
        ),
        (  # a mistyped key: one slip (its missing 'name' is not counted as a second problem)
            "[[models]]\nnme = 'svd'\n",
            "exp.toml, line 2: [[models]] nme: unknown key (did you mean 'name'?); valid here: name, params, label",
        ),
        (  # a wrong type: "Input should be a valid string"
            "[split]\nkind = 3\n[[models]]\nname = 'svd'\n",
            'exp.toml, line 2: [split] kind: must be text in quotes (kind = "…"), got 3',
        ),
        (  # "Input should be a valid list"
            "protocols = 'rating'\n[[models]]\nname = 'svd'\n",
            'exp.toml, line 1: protocols: must be a list in brackets (protocols = ["rating"]), got "rating"',
        ),
        (  # a hyperparameter's value: refused at the run, without the file, before
            "[[models]]\nname = 'svd'\n[models.params]\nepochs = 2\nfactors = 'many'\n",
            "exp.toml, line 5: [[models]] params.factors: svd: factors (n_factors, no_components, embedding_size) "
            "must be a whole number ≥ 1, got 'many'",
        ),
        (  # the second model's key: which [[models]] it is in
            "[[models]]\nname = 'svd'\n[[models]]\nname = 'ease'\n[models.params]\nl3 = 1\n",
            "exp.toml, line 6: [[models]] (2nd) params.l3: ease has no hyperparameter 'l3'",
        ),
        (  # the models as a list of names: the fix is the tables, not models = ["svd"]
            'models = "svd"\n',
            'exp.toml, line 1: [[models]]: must be [[models]] tables: [[models]] on one line, name = "svd" on '
            'the next, for each model, got "svd"',
        ),
        (  # a list's entry by its place, not as the second [[models]]
            "[dataset]\nrating_scale = [1, 'x']\n[[models]]\nname = 'svd'\n",
            'exp.toml, line 2: [dataset] rating_scale (entry 2): must be a number (no quotes), got "x"',
        ),
        (  # TOML syntax: a bare word where a value belongs
            "[split]\nkind = per-user\n",
            "exp.toml, line 2: not valid TOML: invalid value (column 8 of 'kind = per-user'); text needs quotes "
            '(kind = "per-user"), a list brackets (protocols = ["rating"])',
        ),
        (
            "[split]\ntest_size = 0.2 0.3\n",
            "exp.toml, line 2: not valid TOML: expected newline or end of document after a statement (column 17 "
            "of 'test_size = 0.2 0.3'); write one key = value a line, text in quotes (kind = \"per-user\")",
        ),
    ],
)
def test_mistakes_read_as_the_file_writes_them(text: str, line: str) -> None:
    """Each mistake is one line: the file, its line, the key as the TOML writes it (``[split] kind``, not
    ``split.kind``; ``[[models]] params.factors``, not ``models[0].params.factors``), what is wrong and how
    to write it. They read as pydantic's ("Input should be a valid string", "Field required")."""
    with pytest.raises(ConfigError) as info:
        parse_experiment(text, source="exp.toml")
    msg = str(info.value)
    assert msg.startswith(line), msg
    for pydantic in ("Input should", "Field required", "Extra inputs", "Value error", "('"):
        assert pydantic not in msg, msg


@pytest.mark.parametrize(
    ("written", "line"),
    [
        ('k = "10"', 'exp.toml, line 1: k: must be a whole number (no quotes), got "10"'),
        ('threshold = "3.5"', 'exp.toml, line 1: threshold: must be a number (no quotes), got "3.5"'),
        ('beyond = "yes"', 'exp.toml, line 1: beyond: must be true or false (no quotes), got "yes"'),
        ('auc = "true"', 'exp.toml, line 1: auc: must be true or false (no quotes), got "true"'),
        ("auc = 1", "exp.toml, line 1: auc: must be true or false, got 1"),
        ("k = 10.0", "exp.toml, line 1: k: must be a whole number (no decimal point), got 10.0"),
        ("k = true", "exp.toml, line 1: k: must be a whole number, got true"),
        (
            '[split]\ntest_size = "0.2"',
            'exp.toml, line 2: [split] test_size: must be a number (no quotes), got "0.2"',
        ),
        (
            '[dataset]\nheader = "false"',
            'exp.toml, line 2: [dataset] header: must be true or false (no quotes), got "false"',
        ),
        (
            '[early_stopping]\npatience = "3"',
            'exp.toml, line 2: [early_stopping] patience: must be a whole number (no quotes), got "3"',
        ),
    ],
)
def test_a_quoted_number_or_boolean_is_refused(written: str, line: str) -> None:
    """TOML has numbers and booleans of its own, so ``k = "10"`` or ``beyond = "yes"`` is a slip to hear
    about, as ``k = "ten"`` is; pydantic's lax mode read them as 10 and true without a word (and
    ``test_size = "0.2"`` as 0.2). ``"true"`` is refused too: the same rule, one way to write it."""
    with pytest.raises(ConfigError) as info:
        parse_experiment(f"{written}\n[[models]]\nname = 'svd'\n", source="exp.toml")
    assert str(info.value) == line


def test_real_numbers_where_a_float_or_either_goes_still_load() -> None:
    """The strict fields keep what TOML writes plainly: a whole number where a float goes (threshold = 4,
    rating_scale = [1, 5], valid_size = 1 is StopSpec's to judge), a count or a fraction for test_size."""
    exp = parse_experiment(
        "threshold = 4\nk = 5\nbeyond = true\n[dataset]\nrating_scale = [1, 5]\nheader = false\n"
        "[split]\ntest_size = 1000\n[[models]]\nname = 'svd'\n[models.params]\nfactors = 8\nlr = 0.01\n"
    )
    assert (exp.threshold, exp.k, exp.beyond) == (4.0, 5, True)
    assert exp.dataset.rating_scale == (1.0, 5.0) and exp.dataset.header is False
    assert exp.split.test_size == 1000 and isinstance(exp.split.test_size, int)
    assert parse_experiment("[split]\ntest_size = 0.25\n[[models]]\nname = 'svd'\n").split.test_size == 0.25


def test_tuning_md_quotes_the_unknown_key_line_as_it_reads() -> None:
    """docs/tuning.md quotes the line for a mistyped top-level key; its list of valid keys lacked auc, rank_by
    and early_stopping after they were added: the page's line is the one parse_experiment raises."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "tuning.md").read_text()
    shown = next(line for line in page.splitlines() if line.startswith("exp.toml, line 1: kay:"))
    with pytest.raises(ConfigError) as info:
        parse_experiment("kay = 1\n[[models]]\nname = 'svd'\n", source="exp.toml")
    assert str(info.value) == shown


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such experiment file"):
        load_experiment(tmp_path / "nope.toml")


def test_run_experiment_stores_results_config_and_provenance(tmp_path: Path, bundled) -> None:
    exp = Experiment.model_validate(
        {
            "name": "small run",
            "seed": 3,
            "protocols": ["rating", "full-ranking"],
            "k": 5,
            "split": {"kind": "ratings-holdout", "test_size": 0.2},
            "models": [{"name": "baseline"}, {"name": "popularity"}],
        }
    )
    events: list[dict] = []
    run = run_experiment(exp, runs_dir=tmp_path / "runs", progress=events.append)
    folder = Path(run)
    assert folder.parent == tmp_path / "runs" and folder.is_dir()
    assert {p.name for p in folder.iterdir()} >= {"results.json", "config.toml", "provenance.json"}
    # the resolved experiment: defaults filled in, the threshold the run used (unset in exp: 4 on rated data)
    assert exp.threshold is None and load_experiment(folder / "config.toml") == exp.model_copy(
        update={"threshold": 4.0}
    )
    rows = json.loads((folder / "results.json").read_text())
    by = {(r["model"], r["protocol"]): r for r in rows}
    assert 0.5 < by[("baseline", "rating")]["rmse"] < 1.2
    assert ("popularity", "full-ranking") in by and (
        "popularity",
        "rating",
    ) not in by  # RMSE skipped for implicit
    assert all(r["seed"] == 3 and r["k"] == 5 and r["dataset_sha256"] == bundled.sha256 for r in rows)
    prov = json.loads((folder / "provenance.json").read_text())
    assert prov["dataset_sha256"] == bundled.sha256 and prov["dataset"] == "ml-latest-small"
    assert prov["git_commit"] and "numpy" in prov["packages"] and prov["machine"]["cpu_count"] >= 1
    assert prov["run_id"] == folder.name
    assert any(e.get("event") == "fit-start" for e in events)
    assert run.comparison.rows


def test_mlflow_is_skipped_silently_when_absent(tmp_path: Path) -> None:
    pytest.importorskip("movierec.evaluation")
    try:
        import mlflow  # noqa: F401
    except ModuleNotFoundError:
        pass
    else:
        pytest.skip("mlflow is installed here; the absent case cannot be shown")
    exp = parse_experiment('protocols = ["rating"]\n[[models]]\nname = "baseline"\n')
    run = run_experiment(exp, runs_dir=tmp_path, mlflow_uri=f"file://{tmp_path / 'mlruns'}")
    assert (Path(run) / "results.json").is_file()
    assert not (tmp_path / "mlruns").exists()


def _movierec(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_process(*args, cwd=cwd, inherit_columns=True)


@pytest.mark.slow
def test_compare_runs_an_experiment_file(tmp_path: Path) -> None:
    (tmp_path / "exp.toml").write_text(
        'seed = 5\nprotocols = ["rating"]\n[split]\nkind = "ratings-holdout"\n'
        '[[models]]\nname = "baseline"\n[models.params]\nreg_i = 5.0\n'
    )
    proc = _movierec("compare", "--config", "exp.toml", "--out", "runs", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert rows[0]["model"] == "baseline" and rows[0]["params"]["reg_i"] == 5.0 and rows[0]["seed"] == 5
    (run,) = (tmp_path / "runs").iterdir()
    assert {"results.json", "results.csv", "config.toml", "provenance.json"} <= {
        p.name for p in run.iterdir()
    }
    # as the run resolved it (the file gives no threshold: 4 on rated data)
    ran = load_experiment(tmp_path / "exp.toml").model_copy(update={"threshold": 4.0})
    assert load_experiment(run / "config.toml") == ran


def test_surprise_spellings_in_an_experiment_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``compare --config``: Surprise's lr_all/reg_all load under our names, in the results and the run's
    config.toml; one with no exact counterpart (lr_bu) is one line naming the file's line, exit 2."""
    from clihelp import run_cli
    from datagen import make_ratings

    make_ratings(60, 40, 0.3, seed=1).to_csv(tmp_path / "r.csv", index=False)
    head = f'dataset = "{tmp_path / "r.csv"}"\nprotocols = ["rating"]\n[[models]]\nname = "svd"\n[models.params]\n'
    (tmp_path / "exp.toml").write_text(head + "lr_all = 0.02\nreg_all = 0.05\nreg_bias = 0.1\nn_epochs = 2\n")
    runs = tmp_path / "runs"
    code, out, err = run_cli(
        ["compare", "--config", str(tmp_path / "exp.toml"), "--out", str(runs), "--json"], capsys
    )
    assert code == 0, err
    want = {"learning_rate": 0.02, "lr_bias": 0.02, "regularization": 0.05, "reg_bias": 0.1, "epochs": 2}
    params = json.loads(out)[0]["params"]
    assert {k: params[k] for k in want} == want and not {"lr_all", "reg_all"} & set(params)
    (run,) = runs.iterdir()
    recorded = (run / "config.toml").read_text()
    assert load_experiment(run / "config.toml").models[0].params == want
    assert "lr_all" not in recorded and "learning_rate = 0.02" in recorded
    (tmp_path / "bad.toml").write_text(head + "lr_all = 0.02\nreg_bu = 0.1\n")
    code, out, err = run_cli(["compare", "--config", str(tmp_path / "bad.toml")], capsys)
    assert code == 2
    (line,) = err.strip().splitlines()
    assert "bad.toml, line 7: [[models]] params.reg_bu: svd has no 'reg_bu': " in line
    assert line.endswith("Surprise's per-bias regularisation terms are one here, reg_bias")


@pytest.mark.slow
def test_compare_with_a_bad_experiment_file_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('[[models]]\nname = "svd"\nrate = 3\n')
    proc = _movierec("compare", "--config", "bad.toml", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.toml, line 3: [[models]] rate: unknown key" in lines[0], proc.stderr


@pytest.mark.slow
def test_labels_key_the_rows_of_two_configurations_of_one_model(tmp_path: Path) -> None:
    """An experiment file's ``label`` is the row key in compare's table, results.csv/json and the report."""
    from datagen import make_ratings

    make_ratings(80, 60, 0.3, seed=1).to_csv(tmp_path / "ratings.csv", index=False)
    (tmp_path / "exp.toml").write_text(
        'dataset = "ratings.csv"\nseed = 3\nprotocols = ["rating", "full-ranking"]\n'
        '[[models]]\nname = "svd"\nlabel = "svd-5"\n[models.params]\nfactors = 5\nepochs = 3\n'
        '[[models]]\nname = "svd"\nlabel = "svd-20"\n[models.params]\nfactors = 20\nepochs = 3\n'
    )
    proc = _movierec("compare", "--config", "exp.toml", "--out", "runs", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = proc.stdout.splitlines()
    assert any(line.lstrip("│ ").startswith("svd-5 ") for line in table), proc.stdout
    assert any(line.lstrip("│ ").startswith("svd-20 ") for line in table), proc.stdout
    (run,) = (tmp_path / "runs").iterdir()
    csv = pd.read_csv(run / "results.csv")
    assert set(csv["model"]) == {"svd-5", "svd-20"}
    rows = {(r["model"], r["protocol"]): r for r in json.loads((run / "results.json").read_text())}
    assert rows[("svd-5", "rating")]["params"]["factors"] == 5
    assert rows[("svd-20", "rating")]["params"]["factors"] == 20
    assert rows[("svd-20", "rating")]["model_name"] == "svd"
    assert rows[("svd-5", "rating")]["rmse"] != rows[("svd-20", "rating")]["rmse"]
    # the report trains both and keys its table, results and training curves by the labels
    proc = _movierec(
        "report",
        "--config",
        "exp.toml",
        "--out",
        "rep",
        "--projection",
        "pca",
        "--map-items",
        "20",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert [r["model"] for r in data["table"]] == ["svd-5", "svd-20"]
    assert set(pd.read_csv(tmp_path / "rep" / "results.csv")["model"]) == {"svd-5", "svd-20"}
    assert data["report"]["fingerprint"]["params"]["svd-20"]["factors"] == 20
    assert set(data["training"]) == {"svd-5", "svd-20"}


def test_an_early_stopping_metric_without_its_cut_off_is_said_to_be_read_at_10(tmp_path: Path) -> None:
    """``early_stopping = "ndcg"`` stopped models on ndcg@10 without a word, where ``--early-stopping ndcg``
    says so; compare --config now says it too, naming the file's line and the key as written."""
    from datagen import make_ratings

    make_ratings(n_users=60, n_items=50, density=0.4).to_csv(tmp_path / "r.csv", index=False)
    head = 'dataset = "r.csv"\nprotocols = ["full-ranking"]\n'
    model = '[[models]]\nname = "bpr"\n[models.params]\nepochs = 4\n'
    (tmp_path / "short.toml").write_text(head + 'early_stopping = "ndcg"\n' + model)
    (tmp_path / "table.toml").write_text(head + '[early_stopping]\nmetric = "Recall"\nevery = 2\n' + model)
    (tmp_path / "typed.toml").write_text(head + 'early_stopping = "ndcg@10"\n' + model)
    assert cutoff_notes(tmp_path / "table.toml") == [
        f'{tmp_path / "table.toml"}, line 4: metric = "Recall" is read as recall@10, the top 10 of each '
        "list; type recall@5, recall@20… for another cut-off"
    ]
    assert cutoff_notes(tmp_path / "typed.toml") == [] and cutoff_notes(tmp_path / "nosuch.toml") == []
    proc = run_process(
        "compare", "--config", "short.toml", "--out", "runs", cwd=tmp_path, env={"COLUMNS": "80"}
    )
    assert proc.returncode == 0, proc.stderr
    err = " ".join(proc.stderr.split())
    assert (
        'note: short.toml, line 3: early_stopping = "ndcg" is read as ndcg@10, the top 10 of each list' in err
    )


def test_compare_configs_closing_line_of_the_files_it_wrote_fits_80_columns(tmp_path: Path) -> None:
    """``compare --config``'s last line ('run <id>: config.toml, provenance.json, … in runs/<id>') ran to 136
    columns at COLUMNS=80, printed whole while the notes above it wrap at the width; it wraps at words now."""
    from datagen import make_ratings

    make_ratings(n_users=60, n_items=50, density=0.4).to_csv(tmp_path / "r.csv", index=False)
    (tmp_path / "e.toml").write_text(
        'dataset = "r.csv"\nprotocols = ["full-ranking"]\n[[models]]\nname = "ease"\n'
    )
    proc = run_process("compare", "--config", "e.toml", "--out", "runs", cwd=tmp_path, env={"COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 80, [ln for ln in lines if len(ln) > 80]
    (run,) = (tmp_path / "runs").iterdir()
    text = " ".join(proc.stdout.split())
    assert f"run {run.name}: config.toml, provenance.json, " in text and text.endswith(
        f" in runs/{run.name}"
    ), text
