"""tune refuses item features the model it would build never learns from: ``tune -m ensemble --params
'bases={"slim": {}}' --item-features genres`` was accepted (the ensemble's class takes item features, for
the bases that would), tuned, and wrote a best.toml with features no trial read, while compare says
"ensemble ignores item features" of the same model (``uses_item_features`` of the built model, which tune
now asks too). One line, exit 2, before any data is read; a model class that takes none (svd) as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from clihelp import run_process
from movierec.errors import ConfigError
from movierec.nested_tuning import nested_tune
from movierec.tuning import check_request, keyword_names, tune

SLIM_ONLY = 'bases={"slim": {}}'
REFUSED = (
    "ensemble does not use item features with these parameters: none of its bases (slim) learns from them; "
    "add one that does to its bases (ease, "
)


def test_the_cli_refuses_an_ensemble_of_bases_that_take_no_features(tmp_path: Path) -> None:
    args = ["tune", "-m", "ensemble", "--params", SLIM_ONLY, "--item-features", "genres", "--trials", "1"]
    proc = run_process(*args, "--out", "t", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"movierec: error: {REFUSED}"), proc.stderr
    assert "or leave them out (--item-features);" in proc.stderr, proc.stderr  # the flag alone
    assert "item_features=" not in proc.stderr and " in Python" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""  # one line, nothing else
    assert not (tmp_path / "t").exists()  # refused before any study or file


def test_the_cli_refuses_it_under_nested_cross_validation_too(tmp_path: Path) -> None:
    args = [
        "tune",
        "-m",
        "ensemble",
        "--params",
        SLIM_ONLY,
        "--item-features",
        "genres",
        "--outer-folds",
        "2",
    ]
    proc = run_process(*args, "--trials", "1", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"movierec: error: {REFUSED}"), proc.stderr


def test_a_model_class_that_takes_no_features_is_refused_as_before(tmp_path: Path) -> None:
    proc = run_process("tune", "-m", "svd", "--item-features", "genres", "--trials", "1", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("movierec: error: svd does not use item features; give them to a model")
    # the registry's list, not a written one: segment-popularity's fit takes them too
    assert (
        "does (ease, segment-popularity, ensemble, bpr, warp, logistic, warp-kos, lightfm:*)" in proc.stderr
    )


def test_python_tune_and_nested_tune_refuse_it_before_reading_the_data() -> None:
    """The dataset named does not exist: the refusal comes first, so no data was read."""
    fixed = {"bases": {"slim": {}, "rp3beta": {}}}
    with pytest.raises(ConfigError, match=r"none of its bases \(slim, rp3beta\) learns from them") as exc:
        tune(
            "no-such-data",
            "ensemble",
            metric="ndcg@10",
            n_trials=1,
            item_features="genres",
            fixed_params=fixed,
        )
    # Python's keyword alone (one line named both: '(item_features= in Python, --item-features in the CLI)')
    assert str(exc.value).endswith("or leave them out (item_features=)") and "--item" not in str(exc.value)
    with pytest.raises(ConfigError, match=r"none of its bases \(slim, rp3beta\) learns from them"):
        nested_tune(
            "no-such-data",
            "ensemble",
            outer_folds=2,
            metric="ndcg@10",
            n_trials=1,
            item_features="genres",
            fixed_params=fixed,
        )


@pytest.mark.parametrize(
    "fixed",
    [None, {"bases": {"ease": {}, "slim": {}}}, {"bases": {"bpr": {"factors": 4}}}],
)
def test_an_ensemble_with_a_base_that_learns_from_them_is_taken(fixed: dict | None) -> None:
    """The default bases hold ease; so does any table with ease or another base whose fit takes them."""
    req = check_request("ensemble", metric="ndcg@10", item_features="genres", fixed_params=fixed)
    assert req.settings["item_features"] == ["genres"]


def test_fixed_params_is_not_listed_twice_among_tunes_keywords() -> None:
    assert keyword_names().count("fixed_params") == 1


def test_user_features_a_model_never_reads_are_refused_in_each_doors_words(tmp_path: Path) -> None:
    """'or leave them out (user_features= in Python, --user-features in the CLI)' named both doors in one
    line; Python's refusal names the keyword, the command line's the flag."""
    with pytest.raises(
        ConfigError, match=r"^svd does not use user features; .*leave them out \(user_features=\)$"
    ):
        check_request("svd", metric="ndcg@10", user_features="demographics")
    proc = run_process("tune", "-m", "svd", "--user-features", "demographics", "--trials", "1", cwd=tmp_path)
    assert proc.returncode == 2 and "or leave them out (--user-features)" in proc.stderr, proc.stderr
    assert "user_features=" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
