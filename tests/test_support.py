"""The ranking score of rating predictors (movierec.scoring.support): what each person's scores shrink towards."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.models.registry import create
from movierec.scoring.support import explicit_rank_score, user_priors


def test_user_prior_is_the_lower_of_the_global_mean_and_the_persons_shrunk_mean() -> None:
    # μ 3.5, k 5: a harsh rater (2 × 1.0) → (2 + 17.5) / 7; a generous one keeps μ; no ratings → μ
    got = user_priors(np.array([2.0, 10.0, 0.0]), np.array([2, 2, 0]), 3.5, 5.0)
    np.testing.assert_allclose(got, [19.5 / 7, 3.5, 3.5], rtol=1e-6)


def test_rank_score_shrinks_each_row_towards_its_own_prior() -> None:
    pred = np.array([[2.0, 6.0, 3.0], [4.0, 4.5, 0.0]], dtype=np.float32)
    n = np.array([1, 9, 30])
    prior = np.array([2.5, 3.5], dtype=np.float32)
    got = explicit_rank_score(pred, n, 3.5, (1.0, 5.0), 10.0, prior)
    clipped = np.clip(pred, 1.0, 5.0)
    want = (n * clipped + 10.0 * prior[:, None]) / (n + 10.0)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    # no prior: the global mean, as models and artifacts saved before m_u rank
    np.testing.assert_allclose(
        explicit_rank_score(pred, n, 3.5, (1.0, 5.0), 10.0), (n * clipped + 35.0) / (n + 10.0), rtol=1e-6
    )


def test_a_model_saved_before_user_priors_still_ranks_towards_the_global_mean(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from movierec.datasets import load

    train = load("ml-latest-small").interactions
    model = create("baseline").fit(train)
    users = np.array([0, 138])
    assert model.user_priors(users) is not None and model.user_priors(users)[1] < model.train_mean()
    now = model.score(users)
    del model.user_prior_  # what a model saved by an earlier release loads as
    before = model.score(users)
    assert np.allclose(now[0], before[0])  # user 1 rates above μ: m_u = μ, nothing changes
    assert not np.allclose(now[1], before[1])  # user 139 rates below μ: their ranking changes
    saved = type(model).load(create("baseline").fit(train).save(tmp_path / "m"))
    np.testing.assert_allclose(saved.score(users), now, rtol=1e-6)  # m_u is saved with the model


def test_a_constant_predictor_lists_in_movie_id_order_the_same_in_every_process(
    tmp_path,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    """global-mean predicts μ for every movie: a generous rater's (m_u = μ) scores are all exactly μ, so the
    list is the tie rule of every list, item index (movieId) order, not float32 rounding noise (which listed
    Broken Arrow, Crimson Tide, Interview with the Vampire, ...); a harsh rater's stays by support."""
    import pandas as pd

    from clihelp import run_cli, run_process
    from movierec.datasets import load

    args = ["recommend", "--all-users", "-m", "global-mean", "-k", "10", "--out"]
    fresh = run_process(*args, str(tmp_path / "fresh.csv"), fresh=True)
    assert fresh.returncode == 0, fresh.stderr
    code, _, err = run_cli([*args, str(tmp_path / "here.csv")], capsys)
    assert code == 0, err
    lists = pd.read_csv(tmp_path / "fresh.csv")
    pd.testing.assert_frame_equal(lists, pd.read_csv(tmp_path / "here.csv"))  # two processes, two fits
    ratings = load("ml-latest-small").to_frame()
    support = ratings.groupby("movieId").size()
    one = lists[lists.userId == 1]
    assert one.score.nunique() == 1 and one.score.iloc[0] == pytest.approx(ratings.rating.mean(), abs=1e-5)
    listable = support.index[(support >= 5) & ~support.index.isin(ratings.movieId[ratings.userId == 1])]
    assert one.movieId.tolist() == sorted(listable)[:10]  # 2, 4, 5, 7, 8, ...: user 1 rated 1, 3 and 6
    harsh = lists[lists.userId == 139]  # mean rating 2.1: m_u < μ, so more ratings score higher
    assert harsh.movieId.iloc[0] == 356 and support[harsh.movieId].is_monotonic_decreasing
