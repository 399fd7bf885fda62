"""Reference backends (LightFM, implicit) through the contract, metric parity with LightFM's
evaluator, and our BPR/WARP within 0.01 Precision@10 of LightFM on the notebook split."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from contract import check_contract
from movierec import metrics as M
from movierec.datasets import Dataset
from movierec.interactions import Interactions
from movierec.models.bpr import BPR, WARP, WARPKOS, Logistic
from movierec.models.reference.lightfm import LightFMBPR, LightFMLogistic, LightFMWARP, LightFMWARPKOS
from movierec.split import interactions_holdout

lightfm = pytest.importorskip("lightfm")
pytestmark = pytest.mark.reference


@pytest.mark.parametrize(
    "name", ["lightfm:bpr", "lightfm:warp", "lightfm:logistic", "lightfm:warp-kos", "implicit:bpr"]
)
def test_contract(tiny: Interactions, tmp_path, name: str) -> None:
    params = (
        {"epochs": 3, "no_components": 8} if name.startswith("lightfm") else {"iterations": 5, "factors": 8}
    )
    check_contract(name, tiny.to_implicit(3.0), tmp_path, **params)


@pytest.fixture(scope="module")
def notebook_split(bundled: Dataset) -> tuple[Interactions, Interactions]:
    return interactions_holdout(bundled.interactions.to_implicit(4.0), 0.2, 42)


def _coo(inter: Interactions) -> sp.coo_matrix:
    return sp.coo_matrix(
        (np.ones(inter.n_ratings, np.float32), (inter.users, inter.items)), shape=inter.shape
    )


def _p_r_at_10(model, test: Interactions) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    rel = sp.csr_matrix((np.ones(test.n_ratings), (test.users, test.items)), shape=test.shape)
    users = np.flatnonzero(np.diff(rel.indptr) > 0)
    recs, _ = model.recommend(users, k=10)
    return float(M.precision(recs, rel[users], 10).mean()), float(M.recall(recs, rel[users], 10).mean())


def test_our_metrics_equal_lightfm_evaluation(notebook_split) -> None:  # type: ignore[no-untyped-def]
    """Full-ranking P@10/R@10 from our metrics equal lightfm.evaluation's for the same model's scores."""
    from lightfm import LightFM
    from lightfm.evaluation import precision_at_k, recall_at_k

    train, test = notebook_split
    raw = LightFM(loss="warp", no_components=16, learning_rate=0.05, random_state=np.random.RandomState(3))
    raw.fit(_coo(train), epochs=5, num_threads=1)
    ref_p = precision_at_k(raw, _coo(test), train_interactions=_coo(train), k=10).mean()
    ref_r = recall_at_k(raw, _coo(test), train_interactions=_coo(train), k=10).mean()
    ours = LightFMWARP(no_components=16, epochs=1).fit(train)  # borrow the contract's recommend()
    ours.user_factors_, ours.item_factors_ = raw.user_embeddings, raw.item_embeddings
    ours.user_bias_, ours.item_bias_ = raw.user_biases, raw.item_biases
    p, r = _p_r_at_10(ours, test)
    assert abs(p - ref_p) < 1e-6 and abs(r - ref_r) < 1e-6


#: the parity fits' epochs: 12 of the notebook's 25 (LightFM's fits were ~16 of this test's 23 CPU-s). Parity
#: holds as closely there (mean P@10 of seeds 0-2, ours vs LightFM, measured with LightFM 1 thread, load ~4):
#: bpr 0.1296 vs 0.1282, warp 0.1497 vs 0.1517, logistic 0.1054 vs 0.1054, warp-kos 0.1438 vs 0.1426; at 25
#: epochs 0.1220 vs 0.1180, 0.1536 vs 0.1504, 0.1056 vs 0.1053, 0.1496 vs 0.1488. The same code runs each
#: epoch; what the test compares is the two implementations after the same training, not the P@10 at 25.
PARITY_EPOCHS = 12

LIGHTFM_BPR = {
    "factors": 40,
    "learning_rate": 0.05,
    "epochs": PARITY_EPOCHS,
    "learning_schedule": "adagrad",
    "item_alpha": 0.0,
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("ours", "ref", "expected"),
    [
        # LightFM's own mean P@10 at PARITY_EPOCHS (seeds 0-2; deterministic with one thread)
        (BPR, LightFMBPR, 0.128),
        (WARP, LightFMWARP, 0.152),
        (Logistic, LightFMLogistic, 0.105),
        (WARPKOS, LightFMWARPKOS, 0.143),
    ],
)
def test_our_bpr_warp_match_lightfm(notebook_split, ours, ref, expected) -> None:  # type: ignore[no-untyped-def]
    """Same hyperparameters (the notebook's, for PARITY_EPOCHS epochs), mean of 3 seeds: within 0.01
    Precision@10."""
    train, test = notebook_split
    # bpr's own defaults are LearnBPR's (issue 19); here it takes LightFM's schedule and settings
    same = LIGHTFM_BPR if ours is BPR else {"epochs": PARITY_EPOCHS}
    mine = np.mean([_p_r_at_10(ours(random_state=s, **same).fit(train), test)[0] for s in (0, 1, 2)])
    theirs = np.mean(
        [_p_r_at_10(ref(random_state=s, epochs=PARITY_EPOCHS).fit(train), test)[0] for s in (0, 1, 2)]
    )
    assert abs(theirs - expected) < 0.015, f"LightFM itself moved: {theirs:.4f}"
    assert abs(mine - theirs) < 0.01, f"ours {mine:.4f} vs LightFM {theirs:.4f}"


def test_lightfm_accepts_item_features(bundled: Dataset, notebook_split) -> None:  # type: ignore[no-untyped-def]
    from movierec.features import build_item_features

    train, test = notebook_split
    feats = build_item_features(bundled, train.item_map, "genres")
    model = LightFMWARP(epochs=3).fit(train, item_features=feats)
    assert model.item_feature_embeddings_.shape[0] == train.n_items + feats.n_features
    assert _p_r_at_10(model, test)[0] > 0.05


def test_a_lightfm_model_that_diverges_is_a_data_error_not_a_traceback() -> None:
    """LightFM's own k-OS WARP diverges on two positives and raised a bare ValueError (a traceback in the
    CLI); it is now a DataError, the CLI's one line with exit 2."""
    import pandas as pd

    from movierec.errors import DataError

    frame = pd.DataFrame(
        {"userId": [2, 1, 1], "movieId": [1, 1, 3], "rating": [5.0, 4.0, 3.0], "timestamp": [0, 1, 2]}
    )
    train = Interactions.from_frame(frame, rating_scale=(1.0, 5.0)).to_implicit(4.0)
    with pytest.raises(
        DataError, match=r"lightfm:warp-kos diverged in epoch \d+ \(LightFM: Not all estimated"
    ):
        LightFMWARPKOS().fit(train)
