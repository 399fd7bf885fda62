"""Weighted tuning objectives (``ndcg@10-0.1*arp@10``) and the Pareto front of two metrics."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")

from datagen import make_ratings  # noqa: E402
from movierec.errors import ConfigError  # noqa: E402
from movierec.interactions import Interactions  # noqa: E402
from movierec.objective import Objective, pareto_front, parse_objective, with_terms  # noqa: E402
from movierec.tuning import parse_metric, score_split, tune, validation_folds  # noqa: E402


def test_parse_objective_terms_label_and_errors() -> None:
    obj = parse_objective("NDCG@10 - 0.1*arp@10")
    assert obj.terms == ((1.0, "ndcg@10"), (-0.1, "arp@10")) and obj.k == 10
    assert obj.label == "ndcg@10-0.1*arp@10" and parse_objective(obj.label) == obj
    assert isinstance(parse_metric("0.5*recall@5+0.5*ild_genres@5"), Objective)
    assert parse_metric("ndcg@10").name == "ndcg"  # a plain metric stays a Metric
    assert with_terms("ndcg@10", ["ndcg@10", "arp@10"]) == "ndcg@10+0*arp@10"
    for bad, needle in [
        ("ndcg@10-arp@5", "same cut-off"),
        ("ndcg@10+bogus@10", "unknown metric 'bogus'"),
        ("ndcg@10 arp@10", "join terms"),
        ("ndcg@10+ndcg@10", "twice"),
        ("ndcg@10-*arp@10", "cannot read"),
    ]:
        with pytest.raises(ConfigError, match=needle):
            parse_objective(bad)


def test_an_objectives_terms_take_the_names_metric_takes() -> None:
    """The terms knew hit rate only as 'hr' while --metric reads 'hr@10' as 'hit_rate@10', so an objective
    of hit_rate was refused and a --pareto pair of hr@10 never met --metric's hit_rate@10. One reading of
    the name (movierec.metrics.metric_name) serves both: hit_rate@K, its aliases read as it."""
    assert parse_metric("hr@10").label == "hit_rate@10"
    for typed in ("ndcg@10+0.5*hit_rate@10", "ndcg@10+0.5*hr@10", "NDCG@10 + 0.5*HitRate@10"):
        assert parse_objective(typed).label == "ndcg@10+0.5*hit_rate@10", typed
    assert with_terms("hit_rate@5", ["hr@5", "arp@5"]) == "hit_rate@5+0*arp@5"  # hr@5 is the same term
    with pytest.raises(
        ConfigError, match="mrr cannot be a term of an objective"
    ):  # a ranking metric, no term
        parse_objective("ndcg@10+mrr@10")


def test_an_objective_refusal_in_the_cli_is_one_line_of_two_rows() -> None:
    """--metric's objective refusals listed all twelve terms (223 columns for 'ndcg@10-0.1*arpp@10', 257
    for 'ndcg@10--arp@10'): the CLI's words name the wrong piece and send to --help, within 160 columns
    with 'movierec: error: ' for a typo of every term at a three-digit K, a rating or whole-ranking
    metric, and a long piece it cannot read; Python's words keep the list."""
    from movierec.objective import ACCURACY, BEYOND

    bad = [f"ndcg@100-0.1*{name}x@100" for name in (*ACCURACY, *BEYOND)]
    bad += [
        "ndcg@10-0.1*rmse@10",
        "ndcg@10+auc@10",
        "ndcg@10-" + "calibration_kl" * 5,
        "ndcg@10-0.1*ild_genres",
    ]
    for text in bad:
        with pytest.raises(ConfigError) as exc:
            parse_objective(text)
        line = "movierec: error: " + exc.value.in_cli()
        assert len(line) <= 160 and "\n" not in line and "unexpectedness@K" not in line, (len(line), line)
        assert str(exc.value).startswith(f"objective {text!r}: ") and "unexpectedness@K" in str(exc.value), (
            text
        )
    with pytest.raises(ConfigError, match="rmse is a rating metric"):
        parse_objective("ndcg@10-0.1*rmse@10")
    with pytest.raises(ConfigError, match=r"'-0.1\*arp' has no cut-off"):
        parse_objective("ndcg@10-0.1*arp")


def test_genre_terms_on_data_without_genres_are_refused_before_the_study(tmp_path: Path) -> None:
    """A genre term on data without genres failed in the first trial: the study was created, Optuna's
    'Trial 0 failed' warning came before the refusal, and the refusal quoted the whole objective. It is
    refused before the study now, naming the genre terms alone."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    inter = Interactions.from_frame(make_ratings(60, 40, 0.4, seed=2), rating_scale=(0.5, 5.0))
    url = f"sqlite:///{tmp_path}/s.db"
    for metric, said in [
        ("ndcg@10-0.1*ild_genres@10", "ild_genres@10 needs movie genres, and this data has none: drop it"),
        (
            "ndcg@10-0.1*calibration_kl@10+0.1*ild_genres@10-0.2*arp@10",
            "calibration_kl@10 and ild_genres@10 need movie genres, and this data has none: drop them",
        ),
    ]:
        with pytest.raises(ConfigError) as exc:
            tune(inter, "ease", metric=metric, n_trials=1, cv=1, seed=0, storage=url, study_name="g")
        assert str(exc.value) == said
    assert optuna.get_all_study_names(storage=url) == []  # no study, not one with a failed trial


def test_a_front_reads_trials_recorded_under_hr(tmp_path: Path) -> None:
    """A study tuned before the terms took --metric's names recorded 'ndcg@10+0*hr@10' and each trial's
    'hr@10': asked for hit_rate@10's front, or continued with that objective, it is the same study."""
    old = SimpleNamespace(
        number=0,
        state=SimpleNamespace(name="COMPLETE"),
        params={},
        user_attrs={"terms": {"hr@10": 0.5, "arp@10": 0.2}},
    )
    assert pareto_front([old], "hit_rate@10", "arp@10") == [
        {"number": 0, "hit_rate@10": 0.5, "arp@10": 0.2, "params": {}}
    ]
    inter = Interactions.from_frame(make_ratings(60, 40, 0.4, seed=2), rating_scale=(0.5, 5.0))
    url = f"sqlite:///{tmp_path}/s.db"
    kw = {"n_trials": 1, "cv": 1, "seed": 0, "storage": url, "study_name": "old"}
    assert tune(inter, "ease", metric="hit_rate@10-0.1*arp@10", **kw).metric == "hit_rate@10-0.1*arp@10"
    study = optuna.load_study(study_name="old", storage=url)
    stored = {**study.user_attrs["movierec"], "metric": "hr@10-0.1*arp@10"}  # as such a study recorded it
    study.set_user_attr("movierec", stored)
    again = tune(inter, "ease", metric="hr@10-0.1*arp@10", **kw)  # refused as another metric before
    assert again.metric == "hit_rate@10-0.1*arp@10" and again.n_trials == 2


def test_objective_value_is_the_weighted_sum_of_its_terms() -> None:
    inter = Interactions.from_frame(make_ratings(80, 60, 0.3, seed=5), rating_scale=(0.5, 5.0))
    from movierec.models.registry import create
    from movierec.split import ratings_holdout

    fit, valid = ratings_holdout(inter, 0.2, 0)
    model = create("ease").fit(fit.to_implicit(4.0))
    obj = parse_objective("ndcg@5-0.5*arp@5+0.2*aplt@5")
    value = score_split(model, fit, valid, obj, threshold=4.0)
    t = obj.last_terms
    assert set(t) == {"ndcg@5", "arp@5", "aplt@5"} and 0 < t["arp@5"] < 1
    assert value == pytest.approx(t["ndcg@5"] - 0.5 * t["arp@5"] + 0.2 * t["aplt@5"])
    assert t["ndcg@5"] == pytest.approx(score_split(model, fit, valid, parse_metric("ndcg@5"), threshold=4.0))
    with pytest.raises(ConfigError, match="genres"):
        score_split(model, fit, valid, parse_objective("ndcg@5+0.1*ild_genres@5"), threshold=4.0)


def test_pareto_front_hand_computed() -> None:
    def trial(n: int, ndcg: float, arp: float, state: str = "COMPLETE") -> SimpleNamespace:
        return SimpleNamespace(
            number=n,
            state=SimpleNamespace(name=state),
            params={"x": n},
            user_attrs={"terms": {"ndcg@10": ndcg, "arp@10": arp}},
        )

    trials = [
        trial(0, 0.30, 0.20),
        trial(1, 0.25, 0.10),
        trial(2, 0.24, 0.15),
        trial(3, 0.20, 0.05),
        trial(4, 0.5, 0.0, "PRUNED"),
    ]
    front = pareto_front(trials, "ndcg@10", "arp@10")  # more NDCG, less ARP
    assert [r["number"] for r in front] == [0, 1, 3]  # 2 is beaten by 1 on both
    assert front[0]["ndcg@10"] == 0.30 and front[0]["params"] == {"x": 0}


@pytest.mark.slow
def test_tune_a_weighted_objective_records_terms_for_the_front(tmp_path: Path) -> None:
    inter = Interactions.from_frame(make_ratings(120, 80, 0.3, seed=3), rating_scale=(0.5, 5.0))
    url = f"sqlite:///{tmp_path}/s.db"
    res = tune(
        inter, "ease", metric="ndcg@5-0.1*arp@5", n_trials=4, cv=2, seed=0, storage=url, study_name="w"
    )
    assert res.metric == "ndcg@5-0.1*arp@5" and res.direction == "maximize"
    assert res.best_value is not None and np.isfinite(res.test_score)
    complete = [
        t for t in optuna.load_study(study_name="w", storage=url).get_trials() if t.state.name == "COMPLETE"
    ]
    assert complete
    for t in complete:
        terms = t.user_attrs["terms"]
        assert t.value == pytest.approx(terms["ndcg@5"] - 0.1 * terms["arp@5"])
    assert pareto_front(complete, "ndcg@5", "arp@5")


@pytest.mark.slow
def test_tune_cli_pareto_writes_the_front(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from test_cli_compare import assert_user_error, run_here

    data = tmp_path / "tiny"
    data.mkdir()
    make_ratings(120, 80, 0.3, seed=3).to_csv(data / "ratings.csv", index=False)
    out = tmp_path / "t"
    args = ["tune", "-m", "ease", "--metric", "ndcg@10", "--pareto", "ndcg@10,arp@10", "--trials", "3"]
    proc = run_here(capsys, *args, "--cv", "1", "--out", str(out), "--dataset", str(data))
    assert proc.returncode == 0, proc.stderr
    assert "Pareto front of ndcg@10 and arp@10" in proc.stdout
    # each column says which way is better (ARP, the lists' mean popularity: lower is better)
    assert "ndcg@10 ↑" in proc.stdout and "arp@10 ↓" in proc.stdout
    assert "↑ higher is better, ↓ lower is better" in proc.stdout
    rows = (out / "pareto.csv").read_text().splitlines()
    assert rows[0] == "trial,ndcg@10,arp@10,params" and len(rows) >= 2
    assert_user_error(run_here(capsys, "tune", "-m", "ease", "--pareto", "ndcg@10"), "exactly two metrics")
    assert_user_error(
        run_here(capsys, "tune", "-m", "ease", "--metric", "ndcg@10-x@10"), "--metric: x@10 is unknown"
    )


def test_ild_vectors_of_a_model_without_item_vectors_is_refused_before_the_study(tmp_path: Path) -> None:
    """ild_vectors of rp3beta failed in trial 0, after the study was created (Optuna's warning and
    traceback first, then a line quoting the whole objective). A model whose class declares no item vectors
    is refused before the study (real SQLite: none is created); one with them passes; one only its fit tells
    about is still refused by the score, which names the term and the model, not the whole objective."""
    from movierec.models.registry import create
    from movierec.objective import check_vectors

    inter = Interactions.from_frame(make_ratings(60, 40, 0.4, seed=2), rating_scale=(0.5, 5.0))
    url = f"sqlite:///{tmp_path}/s.db"
    with pytest.raises(
        ConfigError, match=r"^ild_vectors@10 needs item vectors, which rp3beta lacks: drop it"
    ):
        tune(
            inter,
            "rp3beta",
            metric="ndcg@10-0.1*ild_vectors@10",
            n_trials=1,
            cv=1,
            storage=url,
            study_name="v",
        )
    assert optuna.get_all_study_names(storage=url) == []
    for model in ("als", "svd", "ease"):  # with vectors, or an objective without the term: no refusal
        check_vectors(
            parse_objective("ndcg@10-0.1*ild_vectors@10" if model != "ease" else "ndcg@10-arp@10"), model
        )
    objective = parse_objective("ndcg@10+0.5*hit_rate@10-0.1*arp@10-0.1*ild_vectors@10")
    (fit, valid), *_ = validation_folds(inter, 1, seed=0)
    model = create("popularity").fit(fit.to_implicit(4.0))
    with pytest.raises(ConfigError) as exc:
        objective.score(model, fit, valid, 4.0)
    assert str(exc.value) == "ild_vectors@10 is not available for popularity: drop it"
