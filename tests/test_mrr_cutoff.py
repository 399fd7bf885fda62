"""``mrr@K`` is MRR cut at K (RecBole's ``MRR@10``, its default valid_metric); ``mrr`` is the whole ranking's.

Before, ``tune(metric="mrr@10")`` optimised the whole ranking's reciprocal rank and called it mrr@10, and
``metric="mrr"`` was shown as ``mrr@10`` too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("optuna")

from datagen import make_ratings
from movierec import metrics as M
from movierec.errors import ConfigError
from movierec.evaluation import evaluate, relevant_matrix
from movierec.interactions import Interactions
from movierec.models.base import training_view
from movierec.models.registry import create
from movierec.tuning import parse_metric, score_split, tune, validation_folds


@pytest.fixture
def small() -> Interactions:
    return Interactions.from_frame(make_ratings(120, 80, 0.3, seed=3), rating_scale=(0.5, 5.0))


def test_mrr_is_the_whole_ranking_and_mrr_at_k_is_cut_at_k() -> None:
    assert parse_metric("mrr").label == "mrr" and parse_metric("mrr").result_key == "mrr"
    assert parse_metric("MRR@10").label == "mrr@10" and parse_metric("mrr@5").k == 5
    assert parse_metric("mrr@5") != parse_metric("mrr")


def test_score_split_of_mrr_at_k_counts_only_the_first_hit_within_k(small: Interactions) -> None:
    fit, valid = validation_folds(small, cv=1, seed=1)[0]
    model = create("popularity").fit(training_view(create("popularity"), fit))
    whole = evaluate(model, fit, valid, "full-ranking", k=3, threshold=4.0, intervals=False)
    rel = relevant_matrix(valid, 4.0)[whole.users]
    assert whole.recs is not None
    want = float(M.ranking_metrics(whole.recs, rel)["mrr"].mean())  # 1/rank of the first hit in the top 3
    got = score_split(model, fit, valid, parse_metric("mrr@3"), threshold=4.0)
    assert got == pytest.approx(want, rel=1e-12)
    full = score_split(model, fit, valid, parse_metric("mrr"), threshold=4.0)
    assert full == pytest.approx(whole.metrics["mrr"], rel=1e-12)
    assert got < full  # some users' first hit lies past rank 3: 0 there, 1/rank in the whole ranking


def test_a_study_made_when_mrr_at_10_meant_the_whole_ranking_goes_on_as_mrr(
    small: Interactions, tmp_path: Path
) -> None:
    import optuna

    url = f"sqlite:///{tmp_path / 'study.db'}"
    first = tune(small, "itemknn", metric="mrr", n_trials=2, cv=1, storage=url, study_name="old", seed=1)
    assert first.metric == "mrr"
    study = optuna.load_study(study_name="old", storage=url)
    attrs = dict(study.user_attrs["movierec"])
    attrs["metric"] = "mrr@10"  # what the earlier tune recorded for the whole ranking's reciprocal rank
    study.set_user_attr("movierec", attrs)
    with pytest.raises(ConfigError, match=r"exists with metric 'mrr', not 'mrr@10'"):
        tune(small, "itemknn", metric="mrr@10", n_trials=1, cv=1, storage=url, study_name="old", seed=1)
    again = tune(  # resume adopts the study's own settings: the whole ranking's mrr, as its trials hold
        small,
        "itemknn",
        metric="mrr@10",
        n_trials=1,
        cv=1,
        storage=url,
        study_name="old",
        seed=1,
        resume=True,
    )
    assert again.metric == "mrr"
    values = [t.value for t in optuna.load_study(study_name="old", storage=url).trials]
    assert len(values) == 3 and np.isfinite(values).all()
    cut = tune(small, "itemknn", metric="mrr@10", n_trials=1, cv=1, storage=url, study_name="new", seed=1)
    assert cut.metric == "mrr@10"
    stored = optuna.load_study(study_name="new", storage=url).user_attrs["movierec"]
    assert stored["metric"] == "mrr@10" and stored["mrr_cut"] is True
    resumed = tune(
        small,
        "itemknn",
        metric="ndcg@10",
        n_trials=1,
        cv=1,
        storage=url,
        study_name="new",
        seed=1,
        resume=True,
    )
    assert resumed.metric == "mrr@10"
