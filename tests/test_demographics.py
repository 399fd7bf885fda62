"""The demographics user-feature family, the cold-users protocol and segment popularity, on data built
in code with a planted demographic preference (plus ml-100k when it is present)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from clihelp import run_cli
from datagen import planted_demographics
from movierec.cold_users import cold_users
from movierec.datasets import Dataset
from movierec.datasets.users import read_users
from movierec.demographics import (
    DemographicSchema,
    FeatureValueError,
    build_user_features,
    parse_user_features,
)
from movierec.errors import ConfigError, DataError
from movierec.models.registry import create

N_USERS, N_ITEMS = 120, 40


def planted(seed: int = 0) -> Dataset:
    return planted_demographics(N_USERS, seed)


def test_features_are_one_hot_and_named() -> None:
    ds = planted()
    feats = build_user_features(ds, spec="demographics")
    assert feats.names == [
        "age:25-34", "age:50-55", "gender:F", "gender:M", "occupation:other", "occupation:writer",
        "region:0", "region:9",
    ]  # fmt: skip
    dense = feats.matrix.toarray()
    assert dense.shape == (N_USERS, 8) and (dense.sum(axis=1) == 4).all()
    first = dict(zip(feats.names, dense[0], strict=True))  # user 1: 30, F, other, 02139
    assert first["age:25-34"] == first["gender:F"] == first["occupation:other"] == first["region:0"] == 1


def test_dataset_without_users_is_refused() -> None:
    ds = planted()
    ds.users = None
    with pytest.raises(DataError, match="has no user demographics"):
        build_user_features(ds, spec="demographics")


def test_spec_parsing() -> None:
    assert parse_user_features("demographics,extra.csv") == (True, __import__("pathlib").Path("extra.csv"))
    assert parse_user_features("demographics") == (True, None)
    with pytest.raises(ConfigError):
        parse_user_features("a.csv,b.csv")


@pytest.mark.parametrize(
    ("features", "field"),
    [
        ({"age": "old"}, "age"),
        ({"age": 300}, "age"),
        ({"age": True}, "age"),
        ({"gender": "X"}, "gender"),
        ({"occupation": "astronaut"}, "occupation"),
        ({"zip": "!!"}, "zip"),
        ({"height": 180}, "height"),
    ],
)
def test_bad_visitor_values_name_the_field(features: dict, field: str) -> None:
    schema = DemographicSchema.from_names(build_user_features(planted()).names)
    assert schema is not None
    with pytest.raises(FeatureValueError, match=field) as info:
        schema.encode(features)
    assert info.value.field == field


def test_visitor_encoding_matches_the_users_rows() -> None:
    feats = build_user_features(planted())
    schema = DemographicSchema.from_names(feats.names)
    row = schema.encode({"age": "31", "gender": "female", "occupation": "Writer", "zip": 94043})
    assert [feats.names[c] for c in row.indices] == ["age:25-34", "gender:F", "occupation:writer", "region:9"]


@pytest.mark.parametrize("name", ["warp", "segment-popularity"])
def test_planted_preference_is_recovered_for_a_cold_visitor(name: str) -> None:
    """A visitor from the segment that likes genre X gets X first, from features alone."""
    ds = planted()
    train = ds.interactions.to_implicit(4.0)
    feats = build_user_features(ds)
    params = {"epochs": 15, "no_components": 8, "random_state": 0} if name == "warp" else {}
    model = create(name, **params).fit(train, user_features=feats)
    x_items = ds.interactions.item_map.index(list(range(1, 21)))
    for visitor, liked in [({"age": 28, "gender": "F"}, True), ({"age": 51, "gender": "M"}, False)]:
        scores = model.score_new_user(None, features=visitor)
        top = np.argsort(-scores)[:10]
        in_x = np.isin(top, x_items).mean()
        assert in_x == (1.0 if liked else 0.0), f"{visitor}: {in_x:.0%} of the top 10 in genre X"


def test_model_without_user_features_says_so() -> None:
    ds = planted()
    model = create("warp", epochs=1, no_components=4).fit(ds.interactions.to_implicit(4.0))
    with pytest.raises(ConfigError, match="without user features"):
        model.score_new_user(None, features={"age": 30})
    with pytest.raises(ConfigError, match="needs user features") as err:
        create("segment-popularity").fit(ds.interactions.to_implicit(4.0))
    assert "build_user_features(" in str(err.value)  # the Python way, not only the CLI flag


def test_cold_users_protocol_warm_up_curve() -> None:
    ds = planted()
    report = cold_users(
        ds,
        [
            ("popularity", {}),
            ("segment-popularity", {}),
            ("warp", {"epochs": 10, "no_components": 8}),
            ("ease", {}),
        ],
        reveal=(0, 1, 5),
        seed=3,
    )
    assert report.meta["n_held_out"] == round(0.2 * N_USERS)
    rows = {(r["model"], r["revealed"]): r for r in report.rows}
    assert rows[("ease", 0)]["note"] == "needs ratings" and "ndcg@10" in rows[("ease", 5)]
    pop = rows[("popularity", 0)]["ndcg@10"]
    seg = rows[("segment-popularity+demographics", 0)]["ndcg@10"]
    warp = rows[("warp+demographics", 0)]["ndcg@10"]
    assert seg > pop + 0.2 and warp > pop + 0.2  # the planted segments make demographics decisive
    r = rows[("warp+demographics", 0)]
    assert r["ndcg@10 lo"] <= warp <= r["ndcg@10 hi"]
    assert {(p["baseline"], p["revealed"]) for p in report.paired} >= {("popularity", 0), ("popularity", 5)}
    assert all(0 <= p["p_permutation"] <= 1 for p in report.paired)


def test_users_files_parse(tmp_path) -> None:
    (tmp_path / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|T8H1N\n")
    (tmp_path / "users.dat").write_text("1::F::1::10::48067\n2::M::56::16::70072\n")
    a = read_users(tmp_path / "u.user", fmt="u.user")
    assert a.to_dict("records")[1] == {
        "userId": 2,
        "age": 53,
        "gender": "F",
        "occupation": "other",
        "zip": "T8H1N",
    }
    b = read_users(tmp_path / "users.dat", fmt="dat")
    assert list(b["occupation"]) == ["K-12 student", "self-employed"] and list(b["age"]) == [1, 56]
    (tmp_path / "bad.user").write_text("1|24|M|technician|85711\n2|x|F|other\n")
    with pytest.raises(DataError, match=r"bad.user, line 2"):
        read_users(tmp_path / "bad.user", fmt="u.user")


def test_ml100k_demographics(ml100k: Dataset) -> None:
    feats = build_user_features(ml100k)
    assert feats.n_rows == 943 and (np.asarray(feats.matrix.sum(axis=1)).ravel() == 4).all()
    assert "occupation:writer" in feats.names and "region:other" in feats.names


def _write_ml100k_layout(ds: Dataset, folder) -> None:  # type: ignore[no-untyped-def]
    folder.mkdir()
    frame = ds.interactions.to_frame()
    frame[["userId", "movieId", "rating", "timestamp"]].astype({"rating": int}).to_csv(
        folder / "u.data", sep="\t", header=False, index=False
    )
    ds.users.to_csv(folder / "u.user", sep="|", header=False, index=False)  # type: ignore[union-attr]


def test_cli_cold_users_and_refusal(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from movierec.cli import main

    _write_ml100k_layout(planted(), tmp_path / "planted")
    argv = ["cold-users", "--dataset", str(tmp_path / "planted"), "--reveal", "0,1", "--models"]
    try:
        main([*argv, "popularity,segment-popularity", "--user-features", "demographics", "--json"])
    except SystemExit as ok:  # typer may exit 0 after a command
        assert ok.code in (0, None)
    out = json.loads(capsys.readouterr().out)
    assert {(r["model"], r["revealed"]) for r in out["rows"]} == {
        ("popularity", 0), ("popularity", 1), ("segment-popularity+demographics", 0),
        ("segment-popularity+demographics", 1),
    }  # fmt: skip
    with pytest.raises(SystemExit) as info:
        main(["cold-users", "--dataset", "ml-latest-small", "--user-features", "demographics"])
    assert info.value.code == 2
    assert "has no user demographics" in capsys.readouterr().err


def test_compare_passes_user_features_and_notes_who_ignores_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from movierec.evaluation import compare

    comp = compare(
        planted(),
        [("segment-popularity", {}), ("popularity", {})],
        protocols=["full-ranking"],
        user_features="demographics",
    )
    assert "popularity ignores user features" in comp.notes
    seg = comp.row("segment-popularity", "full-ranking").metrics["ndcg@10"]
    pop = comp.row("popularity", "full-ranking").metrics["ndcg@10"]
    assert seg > pop


def test_tune_passes_user_features_to_every_trial() -> None:
    """A tuned warp with demographics on the planted data: trials and the refit see the features."""
    pytest.importorskip("optuna")
    from movierec.tuning import tune

    result = tune(
        planted(),
        "warp",
        metric="ndcg@10",
        n_trials=2,
        cv=1,
        seed=0,
        fixed_params={"epochs": 3, "loss": "warp"},
        user_features="demographics",
    )
    assert result.best_value is not None and result.test_score is not None
    with pytest.raises(DataError, match="no user demographics"):
        ds = planted()
        ds.users = None
        tune(ds, "warp", metric="ndcg@10", n_trials=1, cv=1, user_features="demographics")


def test_a_study_records_its_user_features_and_best_toml_writes_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """tune's best.toml dropped the user features every trial was fitted with (compare --config then
    trained without them): the study records the spec (a file by its absolute path, so best.toml reads it
    from any folder), best.toml writes it, a resumed study keeps it, and a study is not continued with
    other features; a matrix from Python, which no file can hold, is not recorded."""
    pytest.importorskip("optuna")
    from movierec.errors import ConfigError
    from movierec.experiment import load_experiment
    from movierec.tuning import _user_features_setting, tune

    args: dict = dict(metric="ndcg@10", n_trials=1, cv=1, seed=0, fixed_params={"epochs": 2})
    url = f"sqlite:///{tmp_path / 's.db'}"
    res = tune(planted(), "warp", **args, user_features="Demographics", storage=url, out=tmp_path / "t")
    assert res.settings["user_features"] == "demographics"
    assert load_experiment(tmp_path / "t" / "best.toml").user_features == "demographics"
    with pytest.raises(ConfigError, match=r"exists with user features 'demographics', not None"):
        tune(planted(), "warp", **args, storage=url, study_name=res.study_name)
    resumed = tune(planted(), "warp", **args, storage=url, study_name=res.study_name, resume=True)
    assert resumed.settings["user_features"] == "demographics" and resumed.test_score is not None
    matrix = build_user_features(planted())
    assert "user_features" not in tune(planted(), "warp", **args, user_features=matrix).settings
    spec = _user_features_setting("demographics,extra.csv")
    assert spec == f"demographics,{__import__('pathlib').Path('extra.csv').resolve()}"


def test_bare_cold_users_runs_on_the_bundled_data_and_says_what_it_left_out(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`movierec cold-users` with no options failed on the default dataset (segment-popularity needs
    demographics, which ml-latest-small lacks; the error then suggested an option that failed too)."""
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run_cli(["cold-users", "--reveal", "0,1,5,10"], capsys)
    assert code == 0, err
    assert "has no user demographics, so segment-popularity is left out" in " ".join(err.split())
    lines = out.splitlines()
    assert any(ln.strip().startswith("popularity") for ln in lines) and any(
        ln.strip().startswith("warp") for ln in lines
    )
    assert "segment-popularity" not in out
    assert max(len(ln) for ln in lines) <= 80, (
        out
    )  # values, and their intervals on the row below, fit 80 columns
    interval = next(
        ln
        for ln in lines[lines.index(next(ln for ln in lines if ln.strip().startswith("popularity"))) + 1 :]
        if ln.strip()
    )
    assert re.fullmatch(r"\s*(\d\.\d{3}–\d\.\d{3}\s*){4}", interval), interval
    # asking for segment-popularity outright still needs features, and says so in one line
    code, _out, err = run_cli(["cold-users", "--models", "popularity,segment-popularity"], capsys)
    assert code == 2 and "segment-popularity needs user features" in err


def test_cold_users_tells_how_many_held_out_users_it_has_scored(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """cold-users scores each held-out user alone (a fold-in of their first ratings) for every model and
    count of revealed ratings, and its spinner and log said only 'fitting warp on …' meanwhile, where
    compare's ranking protocols count the users they have scored. It counts them now in the same blocks,
    64, 128, 256, …, telling ``on_scored`` after each; the per-user values are those of a run told nothing
    (and, measured, of the commit before: 30 arrays equal for popularity, ease and warp)."""
    from movierec.datasets import load

    ds = load("ml-latest-small")
    told: list[str] = []
    specs = [("popularity", {}), ("ease", {})]
    rep = cold_users(ds, specs, user_features=None, reveal=(0, 1), on_scored=told.append)
    assert told == [  # ease scores no one from nothing (no 0-revealed row)
        f"scoring {name}, {r} revealed · {n}/122 users scored"
        for name, r in (("popularity", 0), ("popularity", 1), ("ease", 1))
        for n in (64, 122)
    ], told
    quiet = cold_users(ds, specs, user_features=None, reveal=(0, 1))
    assert rep.per_user.keys() == quiet.per_user.keys() == {("popularity", 0), ("popularity", 1), ("ease", 1)}
    for key, values in quiet.per_user.items():
        assert all(np.array_equal(rep.per_user[key][m], v) for m, v in values.items()), key
    # the CLI's log: a line of the count at most every few seconds (every one with the setting at 0)
    monkeypatch.setenv("MOVIEREC_PROGRESS_AFTER", "0")
    code, _out, err = run_cli(["cold-users", "-m", "popularity", "--reveal", "0,1"], capsys)
    assert code == 0, err
    counts = [re.sub(r"^\[ *\d+\.\ds\] ", "", ln) for ln in err.splitlines() if "users scored" in ln]
    assert counts == [
        f"cold-users · scoring popularity, {r} revealed · {n}/122 users scored"
        for r in (0, 1)
        for n in (64, 122)
    ], err


def test_cold_users_uses_the_datasets_demographics_when_no_features_are_given(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    _write_ml100k_layout(planted(), tmp_path / "planted")
    code, out, err = run_cli(
        ["cold-users", "--dataset", str(tmp_path / "planted"), "--reveal", "0,1", "--json"], capsys
    )
    assert code == 0, err
    report = json.loads(out)
    models = {r["model"] for r in report["rows"]}
    assert models == {"popularity", "segment-popularity+demographics", "warp+demographics"}
    # the provenance names the data it ran on (it read "dataset": null, "dataset_sha256": null)
    meta = report["meta"]
    assert meta["provenance"]["dataset"] == meta["dataset"] == "planted"
    assert (
        meta["provenance"]["dataset_sha256"] == meta["dataset_sha256"] and len(meta["dataset_sha256"]) == 64
    )


def test_cold_users_note_names_every_demographic_field_the_models_read(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The note said "demographics (age, gender)" while warp+demographics reads age bucket, gender,
    occupation and zip region (segment-popularity alone segments by age × gender)."""
    _write_ml100k_layout(planted(), tmp_path / "planted")
    code, _out, err = run_cli(
        ["cold-users", "--dataset", str(tmp_path / "planted"), "--reveal", "0,1", "-m", "popularity,warp"],
        capsys,
    )
    assert code == 0, err
    note = " ".join(err.split())
    assert "demographics (age bucket, gender, occupation, zip region;" in note, note
    assert "segment-popularity's segments are age × gender" in note, note
    prefixes = {n.split(":")[0] for n in build_user_features(planted(), spec="demographics").names}
    assert prefixes == {"age", "gender", "occupation", "region"}  # what the note names


def test_cold_users_text_says_what_revealed_means_and_its_paired_tests_fit_80_columns(
    tmp_path, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The paired tests were lines of ~110 characters ("… permutation p = 0.0322)") that an 80-column
    terminal broke mid-word, their interval unlabelled, and nothing said what "N revealed" meant."""
    monkeypatch.setenv("COLUMNS", "80")
    _write_ml100k_layout(planted(), tmp_path / "planted")
    code, out, err = run_cli(
        ["cold-users", "--dataset", str(tmp_path / "planted"), "--reveal", "0,1,5"], capsys
    )
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(ln) for ln in lines) <= 80, out
    text = " ".join(out.split())
    assert "N revealed: ranked after seeing the user's first N ratings in time order" in text, text
    assert "the user's ratings ≥ 4 after the 5th" in text, text
    assert "warp+demographics against each baseline, paired on the same" in text, text
    assert "p: sign-flip permutation test (two-sided)" in text and "permutation p =" not in text, text
    header = next(ln for ln in lines if "95% interval" in ln).split()
    assert header == ["baseline", "revealed", "gain", "diff.", "95%", "interval", "p"], header
    row = re.compile(r"\s*(popularity|segment-popularity)\s+(0|1|5)\s+[+-]\d+\.\d%\s+[+-]0\.\d{3}"
                     r"\s+\[[+-]0\.\d{3}, [+-]0\.\d{3}\]\s+(<0\.001|[01]\.\d{3})\s*")  # fmt: skip
    rows = [ln for ln in lines if row.fullmatch(ln)]
    assert len(rows) == 6, out  # two baselines × three reveal levels


def test_cold_users_text_ends_no_line_in_spaces(tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Piped (a log, ``| less``), every row of the curve table ended in two padding spaces, its blank
    first and last lines were all spaces, and each wrapped line of the two captions ended in one; compare
    has printed none since a91f67d. The words and the 80 columns stay as they were."""
    monkeypatch.setenv("COLUMNS", "80")
    _write_ml100k_layout(planted(), tmp_path / "planted")
    code, out, err = run_cli(
        ["cold-users", "--dataset", str(tmp_path / "planted"), "--reveal", "0,1"], capsys
    )
    assert code == 0, err
    lines = out.splitlines()
    assert [ln for ln in lines if ln != ln.rstrip()] == [], out
    assert max(len(ln) for ln in lines) <= 80, out
    text = " ".join(out.split())
    assert "below each value: its 95% bootstrap interval over users" in text, text
    assert "p: sign-flip permutation test (two-sided)" in text, text
    assert any(re.fullmatch(r"\s*popularity\s+0\.\d{3}\s+0\.\d{3}", ln) for ln in lines), out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["--fraction", "1.5"],
            "movierec: error: --fraction 1.5: the share of users held out",  # the flag alone
        ),
        (["-m", "popularity,svd"], "'svd' predicts ratings and cold-users ranks: use popularity, warp, bpr"),
    ],
)
def test_cold_users_refuses_a_bad_fraction_or_model_before_the_data_loads(args, needle, capsys) -> None:  # type: ignore[no-untyped-def]
    """``--fraction 1.5`` was refused after the data loaded and its note was printed, as 'fraction of
    held-out users must be between 0 and 1', no option named; ``-m svd`` said it was a rating predictor
    and not what to use instead. Both are one line now, before the data loads (no note above them)."""
    code, out, err = run_cli(["cold-users", *args], capsys)
    assert code == 2 and out == "", (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("movierec: error: "), err
    assert needle in lines[0] and "fraction=" not in lines[0], lines[0]
    with pytest.raises(ConfigError, match=r"^fraction=0\.0: the share .* between 0 and 1 exclusive") as exc:
        cold_users(planted(), "popularity", user_features=None, fraction=0.0)
    assert "--fraction" not in str(exc.value)  # Python's keyword alone (one line named both)


def test_cold_users_paired_table_shows_a_gain_without_a_baseline_value_and_tiny_p() -> None:
    """A baseline scoring 0 has no relative gain (None in the JSON); the text printed it with
    ``{None:+.1%}``, a TypeError. A p-value under 0.001 reads ``<0.001``."""
    from rich.console import Console

    from movierec.cli.cold_users import paired_table
    from movierec.cold_users import ColdUsersReport

    pair = {"model": "warp+demographics", "baseline": "popularity", "revealed": 0, "relative_gain": None,
            "diff": 0.01, "diff_lo": 0.005, "diff_hi": 0.02, "p_permutation": 0.0002}  # fmt: skip
    report = ColdUsersReport([], [pair], {"n_evaluated": 12})
    console = Console(width=80, record=True)
    console.print(paired_table(report, "ndcg@10"))
    line = next(ln for ln in console.export_text().splitlines() if ln.strip().startswith("popularity"))
    assert line.split() == ["popularity", "0", "–", "+0.010", "[+0.005,", "+0.020]", "<0.001"], line
