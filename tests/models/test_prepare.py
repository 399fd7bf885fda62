"""``prepare`` builds every view of the training data a model's fit reads.

compare and the benchmarks call ``prepare`` before a fit's clock starts, so that ``fit_seconds`` times training
on prepared data, ours and the reference libraries' alike (:meth:`BaseRecommender.prepare`). A view a fit builds
itself is then charged to whichever model fits first on a split: knn-baseline's first fit in ``compare`` built
the items-by-column view (CSC) inside its clock, where a bare fit's warm-up had built it outside (bench_coldstart
read compare's knn-baseline at 1.27× its bare fit, stop 60).
"""

from __future__ import annotations

import numpy as np
import pytest

from movierec.datasets import load
from movierec.models.registry import create
from movierec.split import ratings_holdout

# the models whose fits read more than the CSR, and some that read only it (fast settings)
MODELS = [
    ("baseline", {}),
    ("baseline", {"method": "sgd"}),
    ("knn-basic", {"k": 10}),
    ("knn-means", {"k": 10}),
    ("knn-zscore", {"k": 10}),
    ("knn-baseline", {"k": 10}),
    ("knn-baseline", {"k": 10, "user_based": True}),
    ("blend", {"bases": {"baseline": {}, "knn-baseline": {"k": 10}}}),
    ("svd", {"epochs": 2}),
    ("slope-one", {}),
    ("ease", {}),
    ("rp3beta", {}),
    ("itemknn", {}),
]


@pytest.fixture(scope="module")
def ratings():
    train, _ = ratings_holdout(load("ml-latest-small").interactions, 0.2, 42)
    return train.subset(np.flatnonzero(train.users < 60))


@pytest.mark.parametrize(("name", "params"), MODELS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(MODELS)])
def test_a_fit_after_prepare_builds_no_view_of_its_own(name: str, params: dict, ratings) -> None:
    model = create(name, **params)
    data = ratings if model.kind == "explicit" else ratings.to_implicit(4.0)
    data = data.subset(np.arange(data.n_ratings))  # a copy with nothing cached yet
    model.prepare(data)
    prepared = set(data._cache)
    assert "csr" in prepared
    model.fit(data)
    assert set(data._cache) == prepared, f"{name}'s fit built {sorted(set(data._cache) - prepared)} itself"
