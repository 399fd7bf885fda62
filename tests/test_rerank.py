"""Re-rankers: λ = 0 is the model's own top-K, hand-worked greedy steps, the goals they move, bad specs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from movierec import beyond as B
from movierec.errors import ConfigError
from movierec.models.base import topk
from movierec.rerank import MMR, Calibrated, XQuAD, parse_rerank

# items 0 {A}, 1 {A}, 2 {B}, 3 {A}, 4 {B}
GENRES, _ = B.genre_matrix([["A"], ["A"], ["B"], ["A"], ["B"]])
SCORES = np.array([[4.0, 3.0, 2.0, 1.0, -np.inf]], dtype=np.float32)  # item 4 excluded (seen)
HISTORY = sp.csr_matrix(np.array([[0, 0, 0, 0, 1]]))  # the user saw item 4 (genre B)


def info(**kw):
    return B.ItemInfo(popularity=np.array([10.0, 6.0, 1.0, 1.0, 2.0]), n_users=10, genres=GENRES, **kw)


@pytest.mark.parametrize("spec", ["mmr:0", "calibrated:0", "xquad:0", "pop:0"])
def test_lambda_zero_is_the_models_own_top_k(spec):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(7, 5)).astype(np.float32)
    scores[0, 2] = -np.inf
    hist = sp.csr_matrix(np.eye(7, 5))
    out = parse_rerank(spec).rerank(scores, 3, hist, info())
    np.testing.assert_array_equal(out, topk(scores, 3)[0])


def test_mmr_hand_computed():
    # rel = (1, 2/3, 1/3, 0); step 1 picks 0; step 2: item 1 → ½·⅔ − ½·1, item 2 → ½·⅓ − 0: picks 2
    assert MMR(0.5).rerank(SCORES, 2, HISTORY, info()).tolist() == [[0, 2]]
    assert MMR(0.1).rerank(SCORES, 2, HISTORY, info()).tolist() == [[0, 1]]
    # without genres it uses the model's vectors: 0 and 1 point the same way, 2 orthogonal
    vec = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [0.0, 1.0]])
    plain = B.ItemInfo(popularity=np.ones(5), n_users=10, vectors=vec)
    assert MMR(0.5).rerank(SCORES, 2, HISTORY, plain).tolist() == [[0, 2]]


def test_calibrated_follows_the_history():
    # history is all B; with weight on calibration the B item (2) comes first, then the top A item
    assert Calibrated(0.9).rerank(SCORES, 2, HISTORY, info()).tolist() == [[2, 0]]
    kl_plain = B.calibration_kl(np.array([[0, 1]]), HISTORY, info().genre_shares())[0]
    kl_cal = B.calibration_kl(np.array([[2, 0]]), HISTORY, info().genre_shares())[0]
    assert kl_cal < kl_plain


def test_xquad_promotes_the_tail_for_tail_users():
    inf = info()
    assert inf.tail.tolist() == [False, False, True, True, True]  # head: 10 + 6 ≥ 0.8 · 20
    # history 100% tail: the first slot goes to the best tail item; once the list has a tail share of
    # 1, the tail aspect is covered (smooth xQuAD: 1 − |S ∩ T|/|S| = 0) and relevance decides
    out = XQuAD(0.9).rerank(SCORES, 2, HISTORY, inf)
    assert out.tolist() == [[2, 0]]
    assert B.aplt(out, inf.tail)[0] > B.aplt(np.array([[0, 1]]), inf.tail)[0]


def test_short_candidate_lists_are_padded_and_seen_items_never_return():
    out = MMR(0.5).rerank(SCORES, 5, HISTORY, info())
    assert out[0, -1] == -1 and 4 not in out[0]
    assert sorted(out[0, :4].tolist()) == [0, 1, 2, 3]


def test_parse_rerank_specs_and_errors():
    r = parse_rerank("MMR:0.25")
    assert isinstance(r, MMR) and r.lam == 0.25 and r.spec == "mmr:0.25"
    assert parse_rerank("xquad").lam == 0.3
    assert parse_rerank(None) is None and parse_rerank("none") is None
    for bad in ("mmr:1.5", "shuffle:0.2", "mmr:x", "mmr:-0.1"):
        with pytest.raises(ConfigError):
            parse_rerank(bad)
    with pytest.raises(ConfigError, match="genres"):
        Calibrated(0.5).rerank(SCORES, 2, HISTORY, B.ItemInfo(popularity=np.ones(5), n_users=1))


def test_rerankers_move_their_target_on_the_bundled_data(bundled):
    """MMR raises genre ILD and calibration lowers KL for a real model, through evaluate(rerank=...)."""
    from movierec.evaluation import _genre_matrix, evaluate, make_split
    from movierec.models.registry import create

    train, test, _ = make_split(bundled.interactions, "interactions-holdout", seed=1)
    model = create("popularity").fit(train)
    genres = _genre_matrix(bundled)
    rows = {
        spec: evaluate(model, train, test, beyond=True, item_genres=genres, rerank=spec, k=5)
        for spec in (None, "mmr:0.5", "calibrated:0.5", "xquad:0.8")
    }
    base = rows[None].metrics
    assert rows["mmr:0.5"].label == "popularity+mmr:0.5"
    assert rows["mmr:0.5"].metrics["ild_genres@5"] > base["ild_genres@5"]
    assert rows["calibrated:0.5"].metrics["calibration_kl@5"] < base["calibration_kl@5"]
    assert rows["xquad:0.8"].metrics["aplt@5"] > base["aplt@5"]
    assert rows["mmr:0.5"].metrics["mrr"] == base["mrr"]  # MRR stays the model's full ranking


def test_recommender_front_door_reranks_with_raw_ids(bundled):
    import movierec

    rec = movierec.Recommender(bundled, "popularity").fit()
    plain = rec.recommend(1, k=6)
    same = rec.recommend(1, k=6, rerank="mmr:0")
    diverse = rec.recommend(1, k=6, rerank="mmr:0.8")
    assert same["movieId"].tolist() == plain["movieId"].tolist()
    assert diverse["movieId"].tolist() != plain["movieId"].tolist() and len(diverse) == 6
    assert len(set("|".join(diverse["genres"]).split("|"))) >= len(set("|".join(plain["genres"]).split("|")))
    comedies = rec.recommend(1, k=4, genres=["Comedy"], rerank="xquad:0.5")
    assert all("Comedy" in g for g in comedies["genres"])
