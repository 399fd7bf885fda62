"""``--test-size 1000`` and an experiment file's ``test_size = 1000`` are a number of ratings, as
``make_split(..., test_size=1000)`` (Surprise's ``train_test_split(data, test_size=1000)``) reads it.

The CLI typed ``--test-size`` as a float and the file's ``test_size`` had to lie in (0, 1), so both still
said "must be a fraction" after Python learned the count. Each test runs the real CLI in a subprocess (or
the real loader on a real file) and fails on the code before this change.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

import movierec
from clihelp import one_error_line
from clihelp import run_process as run
from movierec.errors import ConfigError
from movierec.experiment import load_experiment

FRACTION_OR_COUNT = "must be a fraction between 0 and 1 (0.25) or a whole number of ratings (1000), got "
PER_USER_COUNT = (
    "1000 is a count; the per-user split holds out a fraction of each user's ratings (such as 0.2)"
)
#: what Python adds for a count and the per-user split: its way to hold out n ratings per user
PYTHON_PER_USER = ", or n of them (movierec.split.per_user_holdout(inter, n=…))"


def per_user_words(bundled: movierec.Dataset) -> str:
    """What Python says to a count for the per-user split (the CLI and the files say the same)."""
    with pytest.raises(ConfigError) as info:
        movierec.make_split(bundled, "per-user", test_size=1000)
    return str(info.value)


def test_compare_takes_a_count_of_ratings_as_python_does(bundled: movierec.Dataset, tmp_path: Path) -> None:
    """``compare --test-size 1000`` was "test_size must be a fraction … got 1000.0" (the option was a float);
    it now holds out the 1,000 ratings ``make_split(ds, test_size=1000)`` does: the same description and
    the same RMSE as ``movierec.compare(..., test_size=1000)``. ``1000.0`` and ``1.5`` are one line each,
    read with the option, and a count for the per-user split gets Python's own words."""
    proc = run(
        "compare",
        "--models",
        "baseline",
        "--protocols",
        "rating",
        "--test-size",
        "1000",
        "--json",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    _, test, about = movierec.make_split(bundled, test_size=1000)
    assert about == "ratings-holdout (1,000 ratings, Surprise train_test_split, seed 42)"
    assert row["split"] == about and test.n_ratings == 1000
    python = movierec.compare(bundled, ["baseline"], protocols="rating", test_size=1000, progress=False)
    assert row["rmse"] == pytest.approx(python.to_frame("rating")["rmse"].iloc[0], abs=1e-12)

    line = one_error_line(run("compare", "--models", "baseline", "--test-size", "1000.0", cwd=tmp_path))
    assert line == (
        f"invalid value for '--test-size': {FRACTION_OR_COUNT}1000.0; a count has no decimal point: 1000 "
        "(see 'movierec compare --help')"
    )
    line = one_error_line(run("compare", "--models", "baseline", "--test-size", "1.5", cwd=tmp_path))
    assert line == f"invalid value for '--test-size': {FRACTION_OR_COUNT}1.5 (see 'movierec compare --help')"
    line = one_error_line(
        run("compare", "--models", "baseline", "--split", "per-user", "--test-size", "1000", cwd=tmp_path)
    )
    assert line == f"invalid value for '--test-size': {PER_USER_COUNT} (see 'movierec compare --help')"
    assert per_user_words(bundled) == f"test_size {PER_USER_COUNT}{PYTHON_PER_USER}"


def _experiment(folder: Path, name: str, split: str) -> Path:
    path = folder / name
    path.write_text(
        f'seed = 1\nprotocols = ["rating"]\n\n[dataset]\nname = "ml-latest-small"\n\n[split]\n{split}\n\n'
        '[[models]]\nname = "baseline"\n',
        encoding="utf-8",
    )
    return path


def test_an_experiment_file_takes_a_count_and_its_run_reloads_to_the_same_split(
    bundled: movierec.Dataset, tmp_path: Path
) -> None:
    """``[split] test_size = 1000`` was "split.test_size: Input should be less than 1". It is a count: the
    run holds out 1,000 ratings, its ``config.toml`` records ``test_size = 1000`` (an int, not 1000.0), and
    that file reloads to the same split and the same figures. ``1000.0``, and a count for the per-user
    split, are one line naming the file, the line and the key."""
    exp = _experiment(tmp_path, "exp.toml", 'kind = "ratings-holdout"\ntest_size = 1000')
    assert load_experiment(exp).split.test_size == 1000
    proc = run("compare", "--config", str(exp), "--out", "runs", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    about = "ratings-holdout (1,000 ratings, Surprise train_test_split, seed 1)"
    assert row["split"] == about == movierec.make_split(bundled, test_size=1000, seed=1)[2]
    (folder,) = (tmp_path / "runs").iterdir()
    recorded = tomllib.loads((folder / "config.toml").read_text(encoding="utf-8"))["split"]
    assert recorded == {"kind": "ratings-holdout", "test_size": 1000}
    assert (
        type(recorded["test_size"]) is int
        and type(load_experiment(folder / "config.toml").split.test_size) is int
    )
    assert json.loads((folder / "provenance.json").read_text())["split"] == about
    again = run("compare", "--config", str(folder / "config.toml"), "--out", "again", "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    (row2,) = json.loads(again.stdout)
    assert (row2["split"], row2["rmse"], row2["n_users"]) == (about, row["rmse"], row["n_users"])
    typed = run(
        "compare", "--config", str(exp), "--out", "typed", "--test-size", "500", "--json", cwd=tmp_path
    )
    assert typed.returncode == 0, typed.stderr
    assert json.loads(typed.stdout)[0]["split"].startswith("ratings-holdout (500 ratings,")

    written_as_float = _experiment(tmp_path, "float.toml", "test_size = 1000.0")
    with pytest.raises(ConfigError) as info:
        load_experiment(written_as_float)
    assert str(info.value) == (
        f"{written_as_float}, line 8: [split] test_size: {FRACTION_OR_COUNT}1000.0; a count has no decimal point: "
        "1000"
    )
    per_user = _experiment(tmp_path, "per_user.toml", 'kind = "per-user"\ntest_size = 1000')
    with pytest.raises(ConfigError) as info:
        load_experiment(per_user)
    assert str(info.value) == f"{per_user}, line 9: [split] test_size: {PER_USER_COUNT}"
    fraction = _experiment(tmp_path, "fraction.toml", 'kind = "per-user"\ntest_size = 0.25')
    line = one_error_line(run("compare", "--config", str(fraction), "--test-size", "1000", cwd=tmp_path))
    assert line == (
        f"invalid value for '--test-size': {PER_USER_COUNT}; fraction.toml sets that split "
        "(see 'movierec compare --help')"
    )


def test_tune_and_export_take_a_count(tmp_path: Path) -> None:
    """``tune --test-size 1000`` and ``export --holdout --test-size 1000`` were refused as fractions. tune's
    outer test split is then 1,000 ratings (recorded as the int 1000 in best.json and best.toml, which
    reloads to that split); its inner validation (``--cv``) is cut from the rest as before. export says
    how many ratings it held out, in its line and in the manifest's note."""
    proc = run(
        "tune", "--model", "baseline", "--metric", "rmse", "--trials", "1", "--cv", "1", "--test-size", "1000",
        "--out", "tuned", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    best = json.loads((tmp_path / "tuned" / "best.json").read_text())
    assert best["settings"]["test_size"] == 1000 and type(best["settings"]["test_size"]) is int
    split = load_experiment(tmp_path / "tuned" / "best.toml").split
    assert (split.kind, split.test_size, type(split.test_size)) == ("ratings-holdout", 1000, int)
    line = one_error_line(run("tune", "--model", "baseline", "--test-size", "1000.0", cwd=tmp_path))
    assert line.startswith(f"invalid value for '--test-size': {FRACTION_OR_COUNT}1000.0; a count has no")
    assert not (tmp_path / "tuning").exists()

    proc = run(
        "export", "--model", "baseline", "--out", "art", "--holdout", "--test-size", "1000", "--no-check",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "hold-out (1,000 ratings, seed 42;" in " ".join(proc.stdout.split())
    notes = json.loads((tmp_path / "art" / "manifest.json").read_text())["notes"]
    assert "trained on all but 1,000 of the ratings (the rest held out)" in notes
    line = one_error_line(
        run("export", "--model", "baseline", "--out", "art2", "--test-size", "1.5", cwd=tmp_path)
    )
    assert line == f"invalid value for '--test-size': {FRACTION_OR_COUNT}1.5 (see 'movierec export --help')"


def test_spark_train_refuses_a_count_before_spark_starts(tmp_path: Path) -> None:
    """Spark's randomSplit holds out a share (each row goes to test with that probability), so ``spark
    train --test-size 1000`` cannot hold out 1,000 ratings: it is refused as the option is read, in words
    that say why, before a Spark session starts (it started one and then said "must be in [0, 1), got
    1000.0"). ``0`` (no hold-out) and a fraction are read as before, and Python's ``train`` says the same."""
    line = one_error_line(run("spark", "train", "--out", "sp", "--test-size", "1000", cwd=tmp_path))
    assert line == (
        "invalid value for '--test-size': 1000 is a count, and Spark's randomSplit holds out a share (each "
        "rating goes to the test part with that probability, so no exact number can be held out): give a "
        "fraction such as 0.2, or 0 to train on every rating (see 'movierec spark train --help')"
    )
    assert not (tmp_path / "sp").exists()
    from movierec.cli.spark import _test_share
    from movierec.spark.train import fault_in_test_share

    assert (_test_share("0"), _test_share("0.25"), _test_share(0.2)) == (0.0, 0.25, 0.2)
    assert fault_in_test_share(1000) == line.removeprefix("invalid value for '--test-size': ").removesuffix(
        " (see 'movierec spark train --help')"
    )
    assert "got 1.5" in str(fault_in_test_share(1.5)) and fault_in_test_share(0) is None


@pytest.mark.parametrize(
    ("typed", "value", "toml", "split"),
    [
        ("0", 0, "0", None),
        ("1.5", 1.5, "1.5", None),
        ("1000.0", 1000.0, "1000.0", None),
        ("-3", -3, "-3", None),
        ("abc", "abc", '"abc"', None),
        ("1000", 1000, "1000", "per-user"),
    ],
)
def test_one_wording_for_a_bad_test_size(
    typed: str, value: object, toml: str, split: str | None, bundled: movierec.Dataset, tmp_path: Path
) -> None:
    """Python's ``make_split(..., test_size=…)``, an experiment file's ``test_size`` and the CLI's
    ``--test-size`` (compare and report) refuse each bad test size in one sentence, after its own name:
    ``test_size …``, ``[split] test_size: …``, ``invalid value for '--test-size': …``. They differed: the
    CLI named the keyword for a count with the per-user split ("test_size 1000 is a count"), a file said
    "Input should be a valid number" to text, and make_split said "must hold out at least 1 and fewer than
    all 100,836 ratings" to 0 and -3 where the CLI said "must be a fraction … or a whole number"."""
    with pytest.raises(ConfigError) as info:
        movierec.make_split(bundled, split or "ratings-holdout", test_size=value)  # type: ignore[arg-type]
    hint = "; a count has no decimal point: 1000" if typed == "1000.0" else ""
    words = PER_USER_COUNT if split else f"{FRACTION_OR_COUNT}{value!r}{hint}"
    # Python alone adds its way to hold out n ratings per user (per_user_holdout has no CLI or file form)
    assert str(info.value) == f"test_size {words}{PYTHON_PER_USER if split else ''}"

    kind = f'kind = "{split}"\n' if split else ""
    exp = _experiment(tmp_path, "exp.toml", f"{kind}test_size = {toml}")
    with pytest.raises(ConfigError) as info:
        load_experiment(exp)
    assert str(info.value) == f"{exp}, line {9 if split else 8}: [split] test_size: {words}"

    chosen = ["--split", split] if split else []
    commands = ["compare", "report"] if typed in ("1000", "abc") else ["compare"]  # report: the same option
    for command in commands:
        proc = run(command, "--models", "baseline", *chosen, "--test-size", typed, "--out", "o", cwd=tmp_path)
        assert (
            one_error_line(proc)
            == f"invalid value for '--test-size': {words} (see 'movierec {command} --help')"
        )
    assert not (tmp_path / "o").exists()
