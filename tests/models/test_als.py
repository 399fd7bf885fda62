"""ALS through `implicit`: contract, quality on the notebook split, fold-in against implicit's own."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from contract import check_contract
from movierec import metrics as M
from movierec.datasets import Dataset
from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.als import ALS, als_fold_in
from movierec.split import interactions_holdout

pytest.importorskip("implicit")


def test_contract(tiny: Interactions, tmp_path) -> None:
    model = check_contract("als", tiny.to_implicit(3.0), tmp_path, factors=8, iterations=5)
    assert model.user_factors_.dtype == np.float32 and model.item_factors_.shape == (tiny.n_items, 8)
    assert len(model.history_) == 5


def test_learns_and_folds_in_like_implicit(bundled: Dataset) -> None:
    train, test = interactions_holdout(bundled.interactions.to_implicit(4.0), 0.2, 42)
    model = ALS(factors=32, iterations=6, use_cg=False).fit(train)
    rel = sp.csr_matrix((np.ones(test.n_ratings), (test.users, test.items)), shape=test.shape)
    users = np.flatnonzero(np.diff(rel.indptr) > 0)
    recs, _ = model.recommend(users, k=10)
    assert M.precision(recs, rel[users], 10).mean() > 0.12
    # the closed-form fold-in of a known user reproduces that user's exact-ALS vector
    csr = train.csr()
    for u in [0, 5, 17]:
        items = csr.indices[csr.indptr[u] : csr.indptr[u + 1]]
        vec = als_fold_in(model.item_factors_, items, np.ones(len(items)), model.alpha, model.regularization)
        cos = vec @ model.user_factors_[u] / np.linalg.norm(vec) / np.linalg.norm(model.user_factors_[u])
        assert cos > 0.99
    new = model.score_new_user(items)
    np.testing.assert_allclose(new, model.item_factors_ @ vec, rtol=1e-4, atol=1e-5)


def test_bad_parameters(tiny: Interactions) -> None:
    with pytest.raises(ConfigError, match="factors"):
        ALS(factors=0).fit(tiny)
    with pytest.raises(ConfigError, match="use_gpu"):
        ALS(use_gpu="maybe").fit(tiny)


def test_gpu_request_without_cuda_is_a_clear_error(tiny: Interactions) -> None:
    import implicit.gpu

    if implicit.gpu.HAS_CUDA:
        pytest.skip("this implicit build has CUDA")
    with pytest.raises(ConfigError, match="no CUDA support"):
        ALS(use_gpu=True).fit(tiny)
