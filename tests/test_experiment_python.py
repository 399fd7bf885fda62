"""``Experiment(...)`` built from Python refuses a mistake as an experiment file does: one ConfigError in the
file's words without its file and line (``k: must be a whole number (no quotes), got "ten"``), not pydantic's
ValidationError ("Input should be a valid integer", "Extra inputs are not permitted", errors.pydantic.dev
links). ``Experiment.model_validate`` keeps pydantic's error, which the file reader words with the line."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from movierec.errors import ConfigError
from movierec.experiment import DatasetConfig, Experiment, ModelConfig, parse_experiment

SVD = [{"name": "svd"}]


#: the file's words for where a model sits and for the fix ``Experiment(...)`` writes otherwise
MODELS_AT = ("[[models]] ", "models (entry 1) ")


@pytest.mark.parametrize(
    ("given", "toml", "said", "swap"),
    [
        ({"k": "ten", "models": SVD}, 'k = "ten"', 'k: must be a whole number (no quotes), got "ten"', None),
        (
            {"seed": 1.5, "models": SVD},
            "seed = 1.5",
            "seed: must be a whole number (no decimal point), got 1.5",
            None,
        ),
        ({"k": 0, "models": SVD}, "k = 0", "k: must be ≥ 1, got 0", None),
        (
            {"kk": 10, "models": SVD},
            "kk = 10",
            "kk: unknown key (did you mean 'k'?); valid here: name, dataset,",
            None,
        ),
        (  # no close key: the first few and where the rest are, in each door's words (205 columns in the CLI)
            {"zzz": 1, "models": SVD},
            "zzz = 1",
            "zzz: unknown key; valid here: name, dataset, split, seed, cv, models, … (16 in all: "
            "Experiment.model_fields)",
            ("docs/tuning.md", "Experiment.model_fields"),
        ),
        (
            {"models": [{"name": "eas"}]},
            "",  # the file's [[models]] table below names eas
            "models (entry 1) name: unknown model 'eas' (did you mean 'ease'?); all 52 models: ",
            MODELS_AT,
        ),
        (
            {"models": [{"name": "svd", "params": {"factrs": 8}}]},
            "",
            "models (entry 1) params.factrs: svd has no hyperparameter 'factrs' (did you mean 'factors'?)",
            MODELS_AT,
        ),
        (
            {"models": SVD, "dataset": {"nme": "ml-100k"}},
            "",
            "[dataset] nme: unknown key (did you mean 'name'?); valid here: name, rating_scale,",
            None,
        ),
        (
            {"k": 10},
            "k = 10",
            'models: no model to run: give models=[{"name": "svd"}], a dict per model',
            (
                '[[models]]: no model to run: add a [[models]] table with its name (name = "svd") for each model',
                "",
            ),
        ),
        ({"k": "ten", "seed": -1, "models": SVD}, 'k = "ten"\nseed = -1', "(and 1 more problem)", None),
    ],
)
def test_a_mistake_from_python_reads_as_the_files_line_without_its_place(
    given: dict[str, Any], toml: str, said: str, swap: tuple[str, str] | None
) -> None:
    """The words are the file reader's, from the one rule: the file's line less 'exp.toml, line N: ', but
    for a model's place and a fix in TOML syntax (``swap``: the file's words and Python's)."""
    with pytest.raises(ConfigError) as info:
        Experiment(**given)
    message = str(info.value)
    assert said in message and "\n" not in message
    assert "pydantic" not in message and "Input should" not in message and "Extra inputs" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no pydantic traceback above it
    models = "".join(
        f'[[models]]\nname = "{m.get("name", "")}"\n'
        + "".join(f"[models.params]\n{k} = {v}\n" for k, v in m.get("params", {}).items())
        for m in given.get("models", [])
    )
    tables = "".join(f'[{t}]\n{k} = "{v}"\n' for t in ("dataset",) for k, v in given.get(t, {}).items())
    with pytest.raises(ConfigError) as from_file:
        parse_experiment(f"{toml}\n{models}{tables}", source="exp.toml")
    expected = str(from_file.value).split(": ", 1)[1]
    if swap is not None:  # the file says swap[0] where Python says swap[1] (all of ``said`` when empty)
        assert swap[0] in expected
        expected = expected.replace(swap[0], swap[1]) if swap[1] else said
    assert expected == message


def test_numpy_values_are_still_taken() -> None:
    exp = Experiment(
        k=np.int64(10), seed=np.int32(3), models=[{"name": "svd", "params": {"factors": np.int64(8)}}]
    )
    assert (exp.k, exp.seed, exp.models[0].params["factors"]) == (10, 3, 8)
    assert type(exp.k) is int


def test_a_table_built_alone_is_named_as_the_file_writes_it() -> None:
    with pytest.raises(ConfigError, match=r"^\[dataset\] name: must not be empty$"):
        DatasetConfig(name="")
    with pytest.raises(ConfigError, match=r"^name: unknown model 'eas'"):  # ModelConfig's own key
        ModelConfig(name="eas")


def test_model_validate_keeps_pydantics_error() -> None:
    """The file reader and compare's typed-over-the-file check read pydantic's errors from model_validate."""
    with pytest.raises(ValidationError) as info:
        Experiment.model_validate({"k": "ten", "models": SVD})
    assert info.value.errors()[0]["type"] == "int_type"


def test_a_valid_experiment_builds_and_round_trips() -> None:
    exp = Experiment(
        models=[ModelConfig(name="svd", params={"factors": 8})], dataset=DatasetConfig(name="ml-100k")
    )
    assert parse_experiment(exp.to_toml()) == exp


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (
            {"models": "svd"},
            'models: must be a list of dicts, models=[{"name": "svd"}], a dict per model, got "svd"',
        ),
        ({"models": ["svd"]}, 'models (entry 1): must be a dict, {"name": "svd"}, got "svd"'),
        (
            {"models": [*SVD, {}]},
            'models (entry 2) name: missing; each model\'s dict needs its name, {"name": "svd"}',
        ),
        ({"models": SVD, "auc": "yes"}, 'auc: must be True or False, got "yes"'),
        ({"models": SVD, "k": True}, "k: must be a whole number, got True"),
        ({"models": SVD, "split": 3}, "split: must be a dict, got 3"),
    ],
)
def test_a_fix_in_toml_syntax_is_said_as_python_writes_it(given: dict[str, Any], said: str) -> None:
    """A file's fix (a [[models]] table, a table with its keys on the lines below, ``true``) means nothing in
    a notebook: Python's words (a list of dicts, a dict, ``True``), the keys still named as a file does."""
    with pytest.raises(ConfigError) as info:
        Experiment(**given)
    assert str(info.value) == said
