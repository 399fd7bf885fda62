"""AUC over the full ranking (metrics.auc_full; evaluate/compare auc=True, compare --auc): its definition
against a pair-by-pair count and scikit-learn, LightFM's ``auc_score`` on the same scores, and the opt-in."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp

import movierec
from clihelp import run_process
from movierec import metrics as M
from movierec.datasets import Dataset
from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.split import interactions_holdout


def _pairwise(scores: np.ndarray, rel: np.ndarray, ex: np.ndarray) -> np.ndarray:
    """The definition, pair by pair: over candidates (not excluded), positive above negative 1, tie ½."""
    out = np.full(len(scores), 0.5)
    for u in range(len(scores)):
        pos, neg = rel[u] & ~ex[u], ~rel[u] & ~ex[u]
        if pos.any() and neg.any():
            d = scores[u][pos][:, None] - scores[u][neg][None, :]
            out[u] = ((d > 0) + 0.5 * (d == 0)).mean()
    return out


def test_auc_full_counts_pairs_with_ties_half_and_leaves_excluded_items_out() -> None:
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 6, size=(40, 30)).astype(np.float32)  # few levels: many ties
    rel = rng.random((40, 30)) < 0.2
    ex = rng.random((40, 30)) < 0.3
    scores[ex] = -np.inf  # as the protocol masks training items; they must still not count as negatives
    got = M.auc_full(scores, sp.csr_matrix(rel), sp.csr_matrix(ex))
    np.testing.assert_allclose(got, _pairwise(scores, rel, ex), rtol=0, atol=1e-12)
    # and scikit-learn's ROC AUC of each row's candidates (it counts ties ½ too)
    from sklearn.metrics import roc_auc_score

    for u in np.flatnonzero((rel & ~ex).any(axis=1) & (~rel & ~ex).any(axis=1))[:10]:
        cand = ~ex[u]
        assert got[u] == pytest.approx(roc_auc_score(rel[u][cand], scores[u][cand]), abs=1e-12)


def test_auc_full_edge_rows() -> None:
    scores = np.array([[3.0, 2.0, 1.0], [1.0, 1.0, 1.0], [1.0, 2.0, 3.0], [5.0, 4.0, 3.0]])
    rel = sp.csr_matrix(np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 0, 0]]))
    ex = sp.csr_matrix(np.array([[0, 0, 0], [0, 0, 0], [0, 1, 1], [0, 0, 0]]))
    # perfect; all tied (0.5, LightFM gives 0.0); no negative left (0.5); no positive (0.5)
    np.testing.assert_allclose(M.auc_full(scores, rel, ex), [1.0, 0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="differ in shape"):
        M.auc_full(scores, rel[:2], ex)


@pytest.fixture(scope="module")
def positives_split(bundled: Dataset) -> tuple[Interactions, Interactions]:
    return interactions_holdout(bundled.interactions.to_implicit(4.0), 0.2, 42)


def _coo(inter: Interactions) -> sp.coo_matrix:
    return sp.coo_matrix(
        (np.ones(inter.n_ratings, np.float32), (inter.users, inter.items)), shape=inter.shape
    )


@pytest.mark.reference
def test_auc_equals_lightfm_auc_score_on_the_same_scores(positives_split) -> None:  # type: ignore[no-untyped-def]
    """LightFM's auc_score(model, test, train_interactions=train) and evaluate(auc=True) on one LightFM
    model's weights: the same mean to 1e-6 (LightFM counts a tied negative as above the positive, ours ½;
    float32 scores of a trained model hardly tie). Its all-tied model reads 0.0 there, 0.5 here."""
    pytest.importorskip("lightfm")
    from lightfm import LightFM
    from lightfm.evaluation import auc_score

    from movierec.models.reference.lightfm import LightFMWARP

    train, test = positives_split
    raw = LightFM(loss="warp", no_components=16, learning_rate=0.05, random_state=np.random.RandomState(3))
    raw.fit(_coo(train), epochs=5, num_threads=1)
    theirs = auc_score(raw, _coo(test), train_interactions=_coo(train)).mean()
    ours = LightFMWARP(no_components=16, epochs=1).fit(train)
    ours.user_factors_, ours.item_factors_ = raw.user_embeddings, raw.item_embeddings
    ours.user_bias_, ours.item_bias_ = raw.user_biases, raw.item_biases
    result = movierec.evaluate(ours, train, test, k=10, threshold=None, auc=True)
    assert result.n_users == np.count_nonzero(np.diff(_coo(test).tocsr().indptr))
    print(f"auc: ours {result.metrics['auc']:.9f}, LightFM {theirs:.9f}")
    assert abs(result.metrics["auc"] - theirs) < 1e-6, (result.metrics["auc"], theirs)
    assert 0.8 < theirs < 0.95  # a trained model, not a degenerate one
    lo, hi = result.intervals["auc"]
    assert lo < result.metrics["auc"] < hi

    raw.user_embeddings[:] = 0.0  # every item scored alike
    raw.item_biases[:] = 0.0
    # 0 less a little: LightFM's rank counts tied positives above each other too (measured: −0.0008)
    assert -0.01 < auc_score(raw, _coo(test), train_interactions=_coo(train)).mean() <= 0.0
    ours.user_factors_ = np.zeros_like(ours.user_factors_)
    ours.item_bias_ = np.zeros_like(ours.item_bias_)
    flat = movierec.evaluate(ours, train, test, k=10, threshold=None, auc=True, intervals=False)
    assert flat.metrics["auc"] == pytest.approx(0.5)


def test_auc_is_opt_in_in_evaluate_and_compare(bundled: Dataset, positives_split) -> None:  # type: ignore[no-untyped-def]
    from movierec.models.registry import create

    train, test = positives_split
    model = create("popularity").fit(train)
    assert "auc" not in movierec.evaluate(model, train, test, threshold=None, intervals=False).metrics
    with_auc = movierec.evaluate(model, train, test, threshold=None, intervals=False, auc=True).metrics
    assert 0.85 < with_auc["auc"] < 0.95
    with pytest.raises(ConfigError, match="full ranking"):
        movierec.evaluate(model, train, test, "test-candidates", auc=True)
    comp = movierec.compare(bundled, ["popularity"], protocols=["full-ranking"], auc=True, progress=False)
    row = comp.rows[0]
    assert row.metrics["auc"] == pytest.approx(with_auc["auc"], abs=1e-12)  # the same split and scores
    assert "auc" in row.intervals and "auc" in comp.to_frame().columns
    with pytest.raises(ConfigError, match="add full-ranking to the protocols"):
        movierec.compare(bundled, ["popularity"], protocols=["test-candidates"], auc=True, progress=False)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_process(*args, inherit_columns=True)


def test_compare_auc_flag_in_the_cli() -> None:
    run = _cli(
        "compare",
        "--dataset",
        "ml-latest-small",
        "--models",
        "popularity",
        "--protocols",
        "full-ranking",
        "--auc",
        "--json",
    )
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    rows = rows if isinstance(rows, list) else rows["rows"]
    assert 0.85 < rows[0]["auc"] < 0.95 and len(rows[0]["intervals"]["auc"]) == 2
    plain = _cli(
        "compare",
        "--dataset",
        "ml-latest-small",
        "--models",
        "popularity",
        "--protocols",
        "full-ranking",
        "--json",
    )
    rows = json.loads(plain.stdout)
    rows = rows if isinstance(rows, list) else rows["rows"]
    assert "auc" not in rows[0]
    bad = _cli("compare", "--dataset", "ml-latest-small", "--models", "svd", "--protocols", "rating", "--auc")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1].startswith("movierec: error: AUC")
    assert "Traceback" not in bad.stderr


def test_experiment_files_take_auc() -> None:
    from movierec.experiment import compare_kwargs, parse_experiment

    base = 'protocols = ["full-ranking"]\n[[models]]\nname = "popularity"\n'
    assert compare_kwargs(parse_experiment("auc = true\n" + base))["auc"] is True
    assert compare_kwargs(parse_experiment(base))["auc"] is False
    assert "auc" not in parse_experiment(base).to_toml()  # absent stays absent in best.toml
