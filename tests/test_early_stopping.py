"""movierec.EarlyStopping: RecBole's valid_metric / eval_step / stopping_step as a built-in on_epoch callback.

Real fits on the bundled ml-latest-small (bpr about a second, svd a quarter of one), cut with
per_user_split as RecBole cuts it; the refusals are ConfigErrors raised before any training.
"""

from __future__ import annotations

import numpy as np
import pytest

import movierec
from movierec import ConfigError
from movierec.interactions import Interactions
from movierec.metrics import parse_metric
from movierec.models import create
from movierec.split import per_user_split
from movierec.tuning import score_split


@pytest.fixture(scope="module")
def parts() -> tuple[movierec.Dataset, Interactions, Interactions]:
    ds = movierec.load("ml-latest-small")
    train, valid, _test = per_user_split(ds.interactions, (0.8, 0.1, 0.1), seed=2020)
    return ds, train, valid


def test_bpr_stops_before_its_budget_and_keeps_the_best_epochs_model(
    parts: tuple[movierec.Dataset, Interactions, Interactions],
) -> None:
    _ds, train, valid = parts
    positives = train.to_implicit(4.0)
    stopper = movierec.EarlyStopping(valid, "ndcg@10", every=2, patience=3, known=train)
    bpr = create("bpr", factors=32, epochs=300, random_state=0)
    bpr.fit(positives, on_epoch=stopper)

    stopped = stopper.stopped_epoch_
    assert stopped < 300 and len(bpr.history_) == stopped  # it stopped, well before the budget
    assert list(stopper.history_) == list(range(2, stopped + 1, 2))  # every 2nd epoch was scored
    assert stopped == stopper.best_epoch_ + 3 * 2  # three scores without a gain after the best
    assert stopper.best_epoch_ > 2  # the score climbed before it stalled (10 on this split)
    assert stopper.best_score_ == max(stopper.history_.values())
    assert stopper.history_[stopper.best_epoch_] == stopper.best_score_

    ndcg = parse_metric("ndcg@10")
    kept = score_split(stopper.best_model_, train, valid, ndcg)
    assert kept == stopper.best_score_  # the copy is the model that was scored
    last = score_split(bpr, train, valid, ndcg)
    assert last == stopper.history_[stopped] != stopper.best_score_  # the fitted model is the last epoch's
    assert len(stopper.best_model_.history_) == stopper.best_epoch_

    refit = create("bpr", factors=32, epochs=stopper.best_epoch_, random_state=0).fit(positives)
    # the copy equals a refit with that epoch count
    assert score_split(refit, train, valid, ndcg) == stopper.best_score_
    users = np.arange(20)
    np.testing.assert_array_equal(
        refit.recommend(users, k=10)[0], stopper.best_model_.recommend(users, k=10)[0]
    )


def test_svd_stops_on_validation_rmse_lower_being_better(
    parts: tuple[movierec.Dataset, Interactions, Interactions],
) -> None:
    _ds, train, valid = parts
    stopper = movierec.EarlyStopping(valid, "rmse", patience=2)
    svd = create("svd", epochs=60, random_state=1)
    svd.fit(train, on_epoch=stopper)

    assert stopper.stopped_epoch_ < 60 and stopper.stopped_epoch_ == stopper.best_epoch_ + 2
    assert list(stopper.history_) == list(range(1, stopper.stopped_epoch_ + 1))
    assert stopper.best_score_ == min(stopper.history_.values())
    assert stopper.history_[1] > stopper.best_score_  # it fell before it rose: RMSE is minimised
    assert score_split(stopper.best_model_, train, valid, parse_metric("rmse")) == stopper.best_score_


def test_recommender_fit_takes_the_stopper(
    parts: tuple[movierec.Dataset, Interactions, Interactions],
) -> None:
    ds, train, valid = parts
    stopper = movierec.EarlyStopping(valid, "mrr@10", every=2, patience=2, known=train)
    rec = movierec.Recommender(ds, "bpr", factors=32, epochs=300, random_state=0).fit(train, on_epoch=stopper)
    assert stopper.stopped_epoch_ < 300 and len(rec.model.history_) == stopper.stopped_epoch_
    assert stopper.best_model_ is not rec.model and stopper.best_epoch_ in stopper.history_
    mrr10 = score_split(stopper.best_model_, train, valid, parse_metric("mrr@10"))
    assert mrr10 == stopper.best_score_


def test_threshold_none_counts_every_validation_row(
    parts: tuple[movierec.Dataset, Interactions, Interactions],
) -> None:
    _ds, train, valid = parts
    low = valid.subset(valid.ratings < 3.0)  # no row ≥ 4: relevant only when every row counts
    stopper = movierec.EarlyStopping(low, "recall@20", every=5, patience=1, threshold=None)
    create("bpr", factors=16, epochs=10, random_state=0).fit(train, on_epoch=stopper)
    assert set(stopper.history_) <= {5, 10} and stopper.best_score_ > 0


def _refusal(call: object) -> str:
    with pytest.raises(ConfigError) as err:
        call()  # type: ignore[operator]
    text = str(err.value)
    assert "\n" not in text and ("EarlyStopping" in text or "metric" in text)
    return text


def test_refusals_are_one_sentence_before_any_training(
    parts: tuple[movierec.Dataset, Interactions, Interactions],
) -> None:
    ds, train, valid = parts
    stopper = movierec.EarlyStopping(valid, "ndcg@10")

    ease = create("ease")
    assert "without epochs" in _refusal(lambda: ease.fit(train, on_epoch=stopper))
    assert not hasattr(ease, "n_items_")  # refused before it trained
    als = create("als", epochs=3)
    assert "cannot be scored and stopped" in _refusal(lambda: als.fit(train, on_epoch=stopper))
    assert not hasattr(als, "n_items_")
    bfm = create("bayesian-fm")  # honours False, but its model is only set after the last sweep
    assert "cannot be scored and stopped" in _refusal(lambda: bfm.fit(train, on_epoch=stopper))

    rmse = movierec.EarlyStopping(valid, "rmse")
    assert "implicit" in _refusal(lambda: create("bpr").fit(train, on_epoch=rmse))

    low = valid.subset(valid.ratings < 4.0)
    assert "relevance threshold 4" in _refusal(lambda: movierec.EarlyStopping(low, "ndcg@10"))
    assert "no rows" in _refusal(lambda: movierec.EarlyStopping(valid.subset(valid.ratings > 9), "rmse"))
    assert "unknown metric" in _refusal(lambda: movierec.EarlyStopping(valid, "ndgc@10"))
    assert "patience" in _refusal(lambda: movierec.EarlyStopping(valid, patience=0))
    assert "fit" in _refusal(lambda: movierec.EarlyStopping(valid)(1, {}))  # called outside a fit
    rec = movierec.Recommender(ds, "ease")
    with pytest.raises(ConfigError, match="on_epoch"):
        rec.fit(train, on_epoch=stopper)
