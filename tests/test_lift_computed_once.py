"""The lift table is computed once per training positives in a process: a notebook that exports a model and
then asks ``similar`` (or exports twice) reuses the table ``export`` built (:func:`movierec.models.itemknn.lift_table`
keeps its last one), and the lists read from the reused table are those of a fresh computation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import movierec.models.itemknn as itemknn
from datagen import mlls_first_users
from movierec.recommender import Recommender


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the lift tables actually computed (the real :func:`_items_csr` that ends each computation,
    not reached by a table taken from the kept one), starting with none kept."""
    calls: list[int] = []
    real = itemknn._items_csr

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(itemknn, "_LAST_LIFT", [])
    monkeypatch.setattr(itemknn, "_items_csr", counted)
    return calls


def test_export_then_similar_computes_the_lift_table_once(built: list[int], tmp_path: Path) -> None:
    rec = Recommender(str(mlls_first_users(tmp_path / "data", 60)), model="popularity").fit()
    assert built == []
    rec.export(tmp_path / "a")
    assert len(built) == 1  # export stores every movie's lift neighbours
    reused = rec.similar("Toy Story (1995)", k=10)
    rec.export(tmp_path / "b")
    assert len(built) == 1  # similar and the second export took the kept table
    table, _ = rec._lift_table(rec._check_fitted())
    with np.load(tmp_path / "b" / "seen.npz") as seen:  # what the artifact stored is that table
        assert np.array_equal(seen["similar_indptr"], table.indptr)
        assert np.array_equal(seen["similar_indices"], table.indices)
        assert np.array_equal(seen["similar_values"], table.data)
    # the same lists and table as a fresh computation, nothing kept
    itemknn._LAST_LIFT.clear()
    fresh_rec = Recommender(str(tmp_path / "data"), model="popularity").fit()
    fresh = fresh_rec.similar("Toy Story (1995)", k=10)
    assert len(built) == 2
    assert len(reused) == 10
    pd.testing.assert_frame_equal(reused, fresh)
    fresh_table, _ = fresh_rec._lift_table(fresh_rec._check_fitted())
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(table, name), getattr(fresh_table, name))
