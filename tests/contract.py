"""The shared model contract check every model's tests call (LensKit's ``lenskit.testing`` idea)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from movierec.interactions import Interactions
from movierec.models.registry import create


def check_contract(name: str, train: Interactions, tmp_path: Path, **params: Any) -> Any:
    """Fit, score shape, recommend excludes seen, save/load round-trip, determinism under a seed."""
    model = create(name, **params).fit(train)
    users = np.arange(min(train.n_users, 7), dtype=np.int32)
    scores = model.score(users)
    assert scores.shape == (len(users), train.n_items)
    assert np.isfinite(scores).all() or getattr(model, "allows_nonfinite", False)
    items, top = model.recommend(users, k=5)
    assert items.shape == (len(users), 5) and top.shape == (len(users), 5)
    seen = train.csr()
    for row, u in enumerate(users):
        rated = set(seen.indices[seen.indptr[u] : seen.indptr[u + 1]].tolist())
        assert not rated & set(items[row][items[row] >= 0].tolist()), "recommend returned a seen item"
        assert (np.diff(top[row][np.isfinite(top[row])]) <= 1e-6).all(), "scores not sorted best first"
    model.save(tmp_path / name.replace(":", "_"))
    again = type(model).load(tmp_path / name.replace(":", "_"))
    np.testing.assert_allclose(again.score(users), scores, rtol=1e-5, atol=1e-6)
    if "random_state" in model.get_params():
        twin = create(name, **params).fit(train)
        np.testing.assert_allclose(twin.score(users), scores, rtol=1e-5, atol=1e-6)
    return model
