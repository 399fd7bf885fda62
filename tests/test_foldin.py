"""The rating models' fold-in of a person not in training: the ridge solve of (b_u, p_u) with the item side
fixed, its two penalties (bench/foldin_study.py chose them), and artifacts written before the bias had
its own penalty."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

import movierec
from movierec.scoring.factors import RIDGE_BIAS_REG, RIDGE_REG, Scorer, ridge_fold_in


def _problem(seed: int = 0) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(30, 4)).astype(np.float32)
    return q, rng.normal(0, 0.3, 30).astype(np.float32), 3.5, np.array([2, 7, 11]), np.array([5.0, 4.0, 4.5])


def test_the_ridge_solve_minimises_its_objective_with_one_penalty_on_the_bias_and_one_on_the_factors() -> (
    None
):
    q, bi, mu, items, r = _problem()
    pred = ridge_fold_in(q, bi, mu, items, r, reg=3.0, bias_reg=5.0)
    # the same minimiser by least squares on the augmented system [X; √Λ] x = [y; 0]
    x = np.hstack([np.ones((3, 1)), q[items]]).astype(np.float64)
    y = r - mu - bi[items]
    root = np.sqrt(np.diag([5.0, 3.0, 3.0, 3.0, 3.0]))
    sol = np.linalg.lstsq(np.vstack([x, root]), np.concatenate([y, np.zeros(5)]), rcond=None)[0]
    np.testing.assert_allclose(pred, mu + sol[0] + bi + q @ sol[1:], rtol=1e-5, atol=1e-5)
    legacy = ridge_fold_in(q, bi, mu, items, r, reg=3.0, bias_reg=None)  # reg on both
    assert not np.allclose(pred, legacy)
    np.testing.assert_allclose(legacy, ridge_fold_in(q, bi, mu, items, r, reg=3.0, bias_reg=3.0), rtol=1e-6)


def test_an_artifact_spec_without_a_bias_penalty_scores_as_it_was_written() -> None:
    """Artifacts exported before ``bias_reg`` existed store ``reg`` alone: it keeps applying to both."""
    q, bi, mu, items, r = _problem(1)
    arrays = {"item_factors": q, "item_bias": bi, "global_mean": np.float32(mu),
              "user_factors": np.zeros((1, 4), np.float32), "user_bias": np.zeros(1, np.float32)}  # fmt: skip
    seen = sp.csr_matrix((1, 30))
    old = Scorer(arrays, seen, {"method": "ridge", "reg": 1.0}).fold_in(items, r)
    np.testing.assert_allclose(old, ridge_fold_in(q, bi, mu, items, r, reg=1.0, bias_reg=None), rtol=1e-6)
    new = Scorer(arrays, seen, {"method": "ridge", "reg": RIDGE_REG, "bias_reg": RIDGE_BIAS_REG}).fold_in(
        items, r
    )
    np.testing.assert_allclose(new, ridge_fold_in(q, bi, mu, items, r), rtol=1e-6)


def test_two_five_star_ratings_do_not_predict_five_stars_for_everything() -> None:
    """The web page's visitor who gives Toy Story and Alien 5 stars: with the first build's penalty (1 on
    both) svd predicted ≥ 4.95 for its whole top 10, so the page read "about 5.0 of 5" twelve times."""
    rec = movierec.Recommender("ml-latest-small", "svd").fit()
    top = rec.recommend_for({1: 5.0, 1214: 5.0}, k=10)["predicted_rating"].to_numpy(dtype=float)
    assert top.max() < 4.9 and top.max() - top.min() > 0.1, top
