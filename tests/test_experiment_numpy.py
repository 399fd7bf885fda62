"""Experiment(...) from a notebook: numpy numbers and bools (``df.k.max()``, ``np.arange``) are read as the
Python values they hold, while the strict rules of an experiment file still hold for the value; and the
model's own checks of ``[models.params]`` refuse a wrong-typed value in one line, not a TypeError hidden
until the run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from movierec.errors import ConfigError
from movierec.experiment import (
    DatasetConfig,
    EarlyStoppingConfig,
    Experiment,
    SplitConfig,
    dumps_toml,
    load_experiment,
    parse_experiment,
    run_experiment,
)

SVD = [{"name": "svd"}]


def test_numpy_numbers_and_bools_are_stored_as_python_values() -> None:
    """Each strict field takes numpy's kind of its value and stores Python's, so the TOML written from it
    reads ``k = 10``, not numpy's repr; a numpy int where a number goes is that number."""
    exp = Experiment(
        models=[{"name": "svd", "params": {"factors": np.int64(8), "learning_rate": np.float64(0.01)}}],
        seed=np.int64(3),
        cv=np.int32(3),
        k=np.int64(10),
        threshold=np.float64(3.5),
        beyond=np.bool_(True),
        auc=np.bool_(False),
        dataset={"rating_scale": (np.int64(1), np.float32(5.0)), "header": np.bool_(False)},
        split={"test_size": np.float64(0.25)},
        early_stopping={"patience": np.int64(3), "every": np.int16(2), "valid_size": np.float64(0.2)},
    )
    es = exp.early_stopping
    assert es is not None and exp.dataset.rating_scale is not None
    stored = {
        **{key: getattr(exp, key) for key in ("seed", "cv", "k", "threshold", "beyond", "auc")},
        "header": exp.dataset.header,
        "test_size": exp.split.test_size,
        **{key: getattr(es, key) for key in ("patience", "every", "valid_size")},
        **exp.models[0].params,
    }
    assert {key: type(value).__name__ for key, value in stored.items()} == {
        "seed": "int", "cv": "int", "k": "int", "threshold": "float", "beyond": "bool", "auc": "bool",
        "header": "bool", "test_size": "float", "patience": "int", "every": "int", "valid_size": "float",
        "factors": "int", "learning_rate": "float",
    }  # fmt: skip
    assert [type(x) for x in exp.dataset.rating_scale] == [float, float]
    assert (exp.seed, exp.cv, exp.k, exp.threshold, exp.dataset.rating_scale) == (3, 3, 10, 3.5, (1.0, 5.0))
    text = exp.to_toml()
    assert "np." not in text and "k = 10\n" in text and "factors = 8\n" in text
    assert parse_experiment(text) == exp


@pytest.mark.parametrize(
    ("make", "read", "expected"),
    [
        (lambda: Experiment(models=SVD, k=np.int32(7)), lambda c: c.k, 7),
        (lambda: Experiment(models=SVD, threshold=np.int64(4)), lambda c: c.threshold, 4.0),
        (lambda: Experiment(models=SVD, threshold=np.float32(4.5)), lambda c: c.threshold, 4.5),
        # a count, as 1000 is (it was read as 1000.0 and refused: "a count has no decimal point")
        (lambda: SplitConfig(test_size=np.int64(1000)), lambda c: c.test_size, 1000),
    ],
)
def test_a_numpy_int_is_a_whole_number_and_a_number(make: Any, read: Any, expected: float) -> None:
    got = read(make())
    assert type(got) is type(expected) and got == expected


@pytest.mark.parametrize(
    ("given", "said"),
    [
        # a float for a whole number, whatever its value: as Python's 10.0 and TOML's k = 10.0 are
        ({"k": np.float64(10.0)}, "k: must be a whole number (no decimal point), got 10.0"),
        ({"seed": np.float32(3.0)}, "seed: must be a whole number (no decimal point), got 3.0"),
        # a bool for a number, numpy's as Python's (np.bool_ was taken as 1.0 for a float)
        ({"k": np.bool_(True)}, "k: must be a whole number, got True"),
        ({"threshold": np.bool_(True)}, "threshold: must be a number, got True"),
        # a number for a bool, and text for either
        ({"beyond": np.int64(1)}, "beyond: must be True or False, got 1"),
        ({"k": "10"}, 'k: must be a whole number (no quotes), got "10"'),
        ({"threshold": "4"}, 'threshold: must be a number (no quotes), got "4"'),
        ({"auc": "true"}, 'auc: must be True or False, got "true"'),
        ({"cv": np.int64(1)}, "cv: must be ≥ 2, got 1"),
    ],
)
def test_what_the_strict_fields_refuse_numpy_does_not_bring_back(given: dict[str, Any], said: str) -> None:
    """Experiment(...) refuses in the words of an experiment file, without its file and line."""
    with pytest.raises(ConfigError) as info:
        Experiment(models=SVD, **given)
    assert str(info.value) == said


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda: EarlyStoppingConfig(patience=np.float64(3.0)), "[early_stopping] patience: must be a whole"),
        (
            lambda: DatasetConfig(rating_scale=(np.bool_(False), 5)),
            "[dataset] rating_scale (entry 1): must be a",
        ),
        (
            lambda: SplitConfig(test_size=np.bool_(True)),
            "[split] test_size: must be a fraction between 0 and 1",
        ),
    ],
)
def test_what_a_table_of_an_experiment_refuses_numpy_does_not_bring_back(make: Any, said: str) -> None:
    """A table built alone refuses in its words too, named as the file writes its key."""
    with pytest.raises(ConfigError, match=re.escape(said)):
        make()


def test_dumps_toml_writes_a_numpy_float_as_a_number() -> None:
    """np.float64 is a Python float whose repr is ``np.float64(0.1)`` (numpy 2): dumps_toml wrote that."""
    assert dumps_toml({"lr": np.float64(0.1), "n": np.int64(3), "on": np.bool_(True)}) == (
        "lr = 0.1\nn = 3\non = true\n"
    )


def test_a_run_of_an_experiment_built_from_numpy_values_writes_a_config_that_loads(tmp_path: Path) -> None:
    """run_experiment's config.toml from numpy values: a params value of np.int64 failed its dump
    ("Unable to serialize unknown type") after the data had loaded."""
    exp = Experiment(
        models=[{"name": "svd", "params": {"factors": np.int64(4), "epochs": np.int64(2)}}],
        protocols=["rating"],
        seed=np.int64(5),
        k=np.int64(5),
        threshold=np.float64(4.0),
    )
    folder = Path(run_experiment(exp, runs_dir=tmp_path / "runs"))
    text = (folder / "config.toml").read_text()
    assert "np." not in text and "seed = 5\n" in text and "factors = 4\n" in text
    assert load_experiment(folder / "config.toml") == exp
    rows = json.loads((folder / "results.json").read_text())
    assert rows and all(r["seed"] == 5 and r["k"] == 5 for r in rows)


@pytest.mark.parametrize(
    ("model", "param", "needs", "why"),
    [
        ("nmf", 'init_low = "many"', None, "nmf: init_low must be a number ≥ 0, got 'many'"),
        ("global-mean", "args = 1", None, "global-mean has no hyperparameter 'args': it takes none"),
        ("surprise:knn-baseline", 'k = "many"', "surprise", "k must be a whole number ≥ 1, got 'many'"),
        (
            "cornac:bivae",
            "encoder_structure = 8",
            "cornac",
            "cornac:bivae: encoder_structure must be a list of layer sizes ([100]), got 8",
        ),
    ],
)
def test_a_hyperparameter_its_model_cannot_take_is_one_line(
    model: str, param: str, needs: str | None, why: str
) -> None:
    """These raised a TypeError in the model's own checks, which the file's check let through (``except
    Exception``: read as "needs what a run has") and the run raised as a traceback."""
    if needs:
        pytest.importorskip(needs)
    with pytest.raises(ConfigError) as info:
        parse_experiment(f'[[models]]\nname = "{model}"\n[models.params]\n{param}\n', source="exp.toml")
    name = param.split(" =")[0]
    assert str(info.value).startswith(f"exp.toml, line 4: [[models]] params.{name}: ")
    assert str(info.value).endswith(why)


def test_a_fault_in_a_models_own_check_is_not_read_as_a_valid_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a ConfigError is the file's mistake; any other exception from the check is ours, raised as itself
    (it was caught with ``except Exception`` and the file accepted). The fault is put in by hand: the
    models' checks have none known."""
    from movierec.models.classic import NMF

    def broken(self: Any) -> None:
        raise KeyError("a bug in our check")

    monkeypatch.setattr(NMF, "_validate_params", broken)
    with pytest.raises(KeyError, match="a bug in our check"):
        Experiment(models=[{"name": "nmf", "params": {"factors": 4}}])
