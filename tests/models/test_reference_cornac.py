"""Cornac's BPR behind our contract, and our LearnBPR schedule against it on the same split."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from contract import check_contract
from movierec import metrics as M
from movierec.interactions import IdMap, Interactions
from movierec.models.bpr import BPR
from movierec.models.registry import create
from movierec.split import per_user_holdout

pytest.importorskip("cornac")


def test_contract(tiny: Interactions, tmp_path) -> None:
    model = check_contract("cornac:bpr", tiny.to_implicit(3.0), tmp_path, k=8, max_iter=5)
    assert model.item_factors_.shape == (tiny.n_items, 8)


def _ndcg(model, train: Interactions, test: Interactions) -> float:  # type: ignore[no-untyped-def]
    rel = sp.csr_matrix((np.ones(test.n_ratings), (test.users, test.items)), shape=test.shape)
    users = np.flatnonzero(np.diff(rel.indptr) > 0)
    recs, _ = model.fit(train).recommend(users, k=10)
    return float(M.ndcg(recs, rel[users], 10).mean())


def test_learnbpr_matches_cornac_quality() -> None:
    """Same sampling, steps and λ as Cornac: NDCG@10 agrees (seeds differ, so not to the digit)."""
    rng = np.random.default_rng(3)  # 4 communities of users, each mostly into its own quarter of the items
    like = np.where((np.arange(200) % 4)[:, None] == (np.arange(120) % 4)[None, :], 0.3, 0.02)
    u, i = np.nonzero(rng.random((200, 120)) < like * (1 + np.arange(120) / 60)[None, :])
    inter = Interactions(u, i, np.ones(len(u)), IdMap(np.arange(200)), IdMap(np.arange(120)))
    train, test = per_user_holdout(inter, 0.25, seed=42)
    ours = _ndcg(BPR(factors=16, epochs=40, learning_rate=0.05, item_alpha=1e-3, user_alpha=1e-3,
                     learning_schedule="sgd"), train, test)  # fmt: skip
    ref = _ndcg(create("cornac:bpr", k=16, max_iter=40, learning_rate=0.05, lambda_reg=1e-3), train, test)
    pop = _ndcg(create("popularity"), train, test)
    assert abs(ours - ref) < 0.03, (ours, ref)
    assert ours > pop, (ours, pop)


def test_bivae_contract(tiny: Interactions, tmp_path) -> None:
    pytest.importorskip("torch")
    model = check_contract(
        "cornac:bivae", tiny.to_implicit(3.0), tmp_path, k=4, encoder_structure=[8], n_epochs=3, batch_size=16
    )
    assert model.item_factors_.shape == (tiny.n_items, 4)
    assert np.abs(model.user_factors_).sum() > 0


def test_bivae_learns_communities() -> None:
    """Cornac's BiVAE behind our contract beats popularity on planted communities (a sanity check that
    the id mapping back to our indices is right: a scrambled mapping would score at chance)."""
    pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    like = np.where((np.arange(120) % 3)[:, None] == (np.arange(60) % 3)[None, :], 0.4, 0.03)
    u, i = np.nonzero(rng.random((120, 60)) < like)
    inter = Interactions(u, i, np.ones(len(u)), IdMap(np.arange(120)), IdMap(np.arange(60)))
    train, test = per_user_holdout(inter, 0.25, seed=42)
    got = _ndcg(
        create("cornac:bivae", k=8, encoder_structure=[20], n_epochs=60, batch_size=32, learning_rate=0.01),
        train,
        test,
    )
    pop = _ndcg(create("popularity"), train, test)
    assert got > pop + 0.1, (got, pop)
