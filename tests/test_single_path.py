"""One evaluation path: tuning's objective, export's manifest figures and compare all score through evaluate()."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("optuna")

from datagen import make_ratings
from movierec.evaluation import compare, evaluate, holdout_figures, make_split
from movierec.interactions import Interactions
from movierec.models.base import training_view
from movierec.models.registry import create
from movierec.tuning import parse_metric, score_split, tune, validation_folds


@pytest.fixture
def small() -> Interactions:
    return Interactions.from_frame(make_ratings(120, 80, 0.3, seed=3), rating_scale=(0.5, 5.0))


def test_hr_is_an_alias_of_hit_rate() -> None:
    assert parse_metric("hr@5") == parse_metric("hit_rate@5")
    assert parse_metric("hr@5").result_key == "hit_rate@5"
    assert parse_metric("mrr").result_key == "mrr" and parse_metric("rmse").result_key == "rmse"


@pytest.mark.parametrize("metric", ["ndcg@10", "hr@5", "precision@10", "recall@10", "map@10", "mrr", "rmse"])
def test_score_split_is_evaluate(small: Interactions, metric: str) -> None:
    train, valid = validation_folds(small, cv=1, seed=1)[0]
    name = "baseline" if metric == "rmse" else "itemknn"
    model = create(name).fit(training_view(create(name), train))
    m = parse_metric(metric)
    protocol = "rating" if m.kind == "rating" else "full-ranking"
    want = evaluate(model, train, valid, protocol, k=m.k or 10, threshold=4.0).metrics[m.result_key]
    assert score_split(model, train, valid, m, threshold=4.0) == pytest.approx(want, rel=1e-12)


def test_tunings_objective_for_a_trial_equals_evaluate_on_the_same_folds(small: Interactions) -> None:
    holdout = make_split(small, "ratings-holdout", seed=5)[:2]
    res = tune(
        small, "ease", metric="ndcg@10", n_trials=1, cv=2, seed=5, holdout=holdout, evaluate_test=False
    )
    params = res.best_params
    recomputed = []
    for fit, valid in validation_folds(holdout[0], 2, seed=5):
        model = create("ease", **params).fit(training_view(create("ease"), fit))
        recomputed.append(evaluate(model, fit, valid, "full-ranking", k=10).metrics["ndcg@10"])
    assert res.best_value == pytest.approx(float(np.mean(recomputed)), rel=1e-9)


@pytest.mark.slow
def test_the_manifests_holdout_figures_equal_compares_row(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from movierec.cli import app
    from movierec.serving.artifact import load_artifact

    out = tmp_path / "art"
    got = CliRunner().invoke(
        app, ["export", "-m", "itemknn", "--holdout", "--seed", "7", "--out", str(out), "--json"]
    )
    assert got.exit_code == 0, got.output
    figures = load_artifact(out).manifest["metrics"]
    comp = compare("ml-latest-small", ["itemknn"], split="ratings-holdout", protocols="full-ranking", seed=7)
    row = comp.rows[0]
    assert figures["n_users"] == row.n_users
    for key in ("precision@10", "recall@10", "hit_rate@10", "ndcg@10", "mrr"):
        assert figures[key] == pytest.approx(row.metrics[key], rel=1e-9), key
    json.dumps(figures)  # the manifest stays plain JSON


def test_holdout_figures_for_a_rating_model(small: Interactions) -> None:
    train, test, _ = make_split(small, "ratings-holdout", seed=2)
    model = create("baseline").fit(train)
    figures = holdout_figures(model, train, test, seed=2)
    assert figures["rmse"] == pytest.approx(evaluate(model, train, test, "rating").metrics["rmse"])
    assert figures["protocol"] == "full-ranking" and 0 <= figures["ndcg@10"] <= 1
