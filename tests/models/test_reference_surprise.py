"""Surprise behind our model contract: same parameters, same answers as our models, not exportable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.registry import create, model_kind
from movierec.split import ratings_holdout

pytest.importorskip("surprise")
pytestmark = pytest.mark.reference

# svd pairs use exact=True: the float64 sweep in Surprise's order (the default sweep is a reordering, see test_mf)
PAIRS = [
    ("baseline", "surprise:baseline", {}),
    ("baseline", "surprise:baseline", {"method": "sgd"}),
    ("svd", "surprise:svd", {"n_factors": 10, "n_epochs": 5, "random_state": 2, "exact": True}),
    ("svd", "surprise:svd", {"n_factors": 4, "n_epochs": 3, "biased": False, "exact": True}),
    ("svdpp", "surprise:svdpp", {"n_factors": 5, "n_epochs": 4}),
    ("knn-baseline", "surprise:knn-baseline", {}),
    ("knn-baseline", "surprise:knn-baseline", {"user_based": True, "k": 5}),
    # msd similarities tie often on half stars, and ties are broken differently: keep k above |I_u|
    ("knn-baseline", "surprise:knn-baseline", {"user_based": True, "similarity": "msd"}),
]


@pytest.mark.parametrize(("ours", "theirs", "params"), PAIRS)
def test_reference_agrees_with_ours(ours: str, theirs: str, params: dict, tiny: Interactions) -> None:
    train, test = ratings_holdout(tiny, 0.2, 11)
    mine = create(ours, **params).fit(train)
    ref = create(theirs, **params).fit(train)
    assert model_kind(theirs) == "explicit"
    p1, f1 = mine.predict_with_flags(test.users, test.items)
    p2, f2 = ref.predict_with_flags(test.users, test.items)
    np.testing.assert_allclose(p1, p2, atol=1e-5)
    np.testing.assert_array_equal(f1, f2)
    # ranking works through the same contract (seen items aside: Surprise counts an item as its own neighbour)
    users = np.arange(5, dtype=np.int32)
    s1, s2 = mine.score(users), ref.score(users)
    assert s2.shape == (5, tiny.n_items)
    unseen = train.csr()[users].toarray() == 0
    np.testing.assert_allclose(s1[unseen], s2[unseen], atol=1e-4)
    items, _ = ref.recommend(users, k=5)
    seen = train.csr()
    for row, u in enumerate(users):
        assert not set(items[row].tolist()) & set(seen.indices[seen.indptr[u] : seen.indptr[u + 1]].tolist())


def test_unknown_pairs_are_flagged_like_ours(tiny: Interactions) -> None:
    train = tiny.subset(tiny.users != 0)
    ref = create("surprise:svd", n_factors=4, n_epochs=2).fit(train)
    pred, flags = ref.predict_with_flags(np.array([0, -1, 1]), np.array([2, 2, 2]))
    assert flags.tolist() == [True, True, False]
    assert pred[0] == pytest.approx(float(ref.global_mean_) + ref.item_bias_[2], abs=1e-6)


def test_reference_models_are_not_exportable(tiny: Interactions, tmp_path: Path) -> None:
    model = create("surprise:baseline").fit(tiny)
    with pytest.raises(ConfigError, match="not exportable"):
        model.save(tmp_path / "m")


def test_reference_parameters_are_checked() -> None:
    with pytest.raises(ConfigError, match="n_factors"):
        create("surprise:svd", n_factors=-1)
    with pytest.raises(ConfigError, match="k"):
        create("surprise:knn-baseline", k=0)


def test_a_prepared_trainset_fits_the_same_model() -> None:
    """prepare() caches Surprise's Trainset on the data (compare builds it before the clock); a fit on it
    predicts exactly as a fit that builds its own, and two models share the one Trainset."""
    from movierec.datasets import load
    from movierec.evaluation import make_split
    from movierec.models.registry import create

    train, test, _ = make_split(load("ml-latest-small").interactions, "ratings-holdout", seed=42)
    plain = create("surprise:svd", epochs=3, random_state=0).fit(train.subset(np.arange(train.n_ratings)))
    first = create("surprise:svd", epochs=3, random_state=0)
    first.prepare(train)
    shared = train._cache["surprise_trainset"]
    first.fit(train)
    second = create("surprise:baseline").fit(train)
    assert first.trainset_ is shared and second.trainset_ is shared
    u, i = test.users[:500], test.items[:500]
    np.testing.assert_array_equal(first.predict(u, i), plain.predict(u, i))
