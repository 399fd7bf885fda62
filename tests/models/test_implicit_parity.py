"""An ``implicit`` user's confidence matrix through movierec: the same ALS, the same fold-in.

An implicit user holds a scipy users × items matrix of confidences (``bm25_weight(counts)``,
``α·counts``) and calls ``AlternatingLeastSquares(...).fit(user_items)`` and, for a new user,
``recommend(..., recalculate_user=True)``. ``Interactions.from_csr`` takes that matrix and
``weighting="values"`` trains on its values; before, every value was read as 1 (``binary``), so
``α·counts`` and plain counts gave one model. implicit's ALS trains with confidence α·value, and its
``recalculate_user`` solves for a user with it; our fold-in used 1 + α·value, so a visitor (and
``score_new_user``) got a different vector than implicit gives the same row.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from movierec.datasets import Dataset
from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import check_random_state
from movierec.models.registry import create

implicit_als = pytest.importorskip("implicit.cpu.als")
implicit_nn = pytest.importorskip("implicit.nearest_neighbours")


@pytest.fixture(scope="module")
def confidences(bundled: Dataset) -> sp.csr_matrix:
    """ml-latest-small's positives as an implicit user weighs them: BM25 (implicit's own function)."""
    pos = bundled.interactions.to_implicit(4.0).csr()
    return implicit_nn.bm25_weight(pos, K1=100, B=0.8).tocsr().astype(np.float32)


def _implicit_model(seed: int, **params: float) -> implicit_als.AlternatingLeastSquares:
    # ALS hands implicit the seed its random_state draws first (models.als._fit)
    drawn = int(check_random_state(seed).integers(0, 2**31 - 1))
    return implicit_als.AlternatingLeastSquares(random_state=drawn, num_threads=1, **params)


def test_als_on_a_confidence_matrix_trains_implicits_model(confidences: sp.csr_matrix) -> None:
    inter = Interactions.from_csr(confidences)
    params = {"factors": 16, "regularization": 0.05, "iterations": 3, "alpha": 1.0}
    ours = create("als", weighting="values", random_state=7, num_threads=1, **params).fit(inter)
    theirs = _implicit_model(7, **params)
    theirs.fit(confidences, show_progress=False)
    np.testing.assert_allclose(ours.item_factors_, theirs.item_factors, atol=1e-6)
    np.testing.assert_allclose(ours.user_factors_, theirs.user_factors, atol=1e-6)
    # binary reads every value as 1: another model
    binary = create("als", random_state=7, num_threads=1, **params).fit(inter)
    assert np.abs(binary.item_factors_ - theirs.item_factors).max() > 0.1


@pytest.mark.parametrize(("weighting", "alpha"), [("binary", 2.0), ("values", 1.0), ("values", 3.0)])
def test_a_new_user_is_folded_in_as_implicits_recalculate_user(
    confidences: sp.csr_matrix, weighting: str, alpha: float
) -> None:
    inter = Interactions.from_csr(confidences)
    model = create("als", factors=16, iterations=3, alpha=alpha, weighting=weighting, num_threads=1).fit(
        inter
    )
    exact = implicit_als.AlternatingLeastSquares(
        factors=16, regularization=model.regularization, alpha=alpha, use_cg=False, num_threads=1
    )
    exact.user_factors, exact.item_factors = model.user_factors_, model.item_factors_
    for u in (0, 5, 17):
        row = confidences[u]
        if weighting == "binary":
            row = sp.csr_matrix((np.ones(row.nnz, np.float32), row.indices, [0, row.nnz]), shape=row.shape)
        vec = exact.recalculate_user(0, row)
        ours = model.score_new_user(row.indices, row.data, threshold=0.0)
        np.testing.assert_allclose(ours, model.item_factors_ @ vec, atol=2e-4, err_msg=f"user {u}")


def test_from_csr_keeps_the_matrix_indices_ids_and_values() -> None:
    # row 1 stores a zero at column 2: not an interaction
    data = np.array([2.5, 1.0, 0.0, 4.0, 0.5], dtype=np.float32)
    m = sp.csr_matrix((data, [1, 0, 2, 1, 2], [0, 1, 3, 3, 5]), shape=(4, 3))
    inter = Interactions.from_csr(m, user_ids=["a", "b", "c", "d"], item_ids=[10, 20, 30])
    assert inter.shape == (4, 3) and inter.n_ratings == 4
    np.testing.assert_array_equal(inter.csr().toarray(), m.toarray())
    assert inter.user_map.index("d") == 3 and inter.item_map.to_raw(1) == 20
    assert inter.rating_scale == (0.5, 4.0)
    plain = Interactions.from_csr(m)
    assert plain.user_map.index(3) == 3 and plain.n_users == 4
    with pytest.raises(ConfigError, match=r"item_ids has 2 ids but the matrix has 3 columns \(items\)"):
        Interactions.from_csr(m, item_ids=[1, 2])
    with pytest.raises(ConfigError, match="user_ids holds the same id twice"):
        Interactions.from_csr(m, user_ids=["a", "a", "c", "d"])
    with pytest.raises(ConfigError, match=r"2-d scipy\.sparse"):
        Interactions.from_csr(m.toarray())  # type: ignore[arg-type]
    bad = m.copy()
    bad.data[0] = np.nan
    with pytest.raises(ConfigError, match="1 NaN or infinite"):
        Interactions.from_csr(bad)


def test_values_weighting_refuses_what_is_not_a_confidence(tiny: Interactions) -> None:
    m = sp.csr_matrix(np.array([[1.0, -2.0], [3.0, 0.0]], dtype=np.float32))
    with pytest.raises(DataError, match=r"weighting='values' needs a positive, finite confidence.*found -2"):
        create("ease", weighting="values").fit(Interactions.from_csr(m))
    # models that read which items a user has, not weights, say so
    with pytest.raises(ConfigError, match="weighting"):
        create("ials", weighting="values").fit(tiny.to_implicit(3.0))
