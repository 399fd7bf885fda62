"""One results table schema with a long/wide choice (compare --out writes wide, the report long)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from datagen import make_ratings
from movierec.errors import ConfigError
from movierec.evaluation import compare, results_table, write_results_csv
from movierec.interactions import Interactions


def test_long_and_wide_hold_the_same_numbers(tmp_path: Path) -> None:
    inter = Interactions.from_frame(make_ratings(80, 60, 0.3, seed=4), rating_scale=(0.5, 5.0))
    from movierec.datasets import Dataset

    ds = Dataset(name="tiny", interactions=inter)
    comp = compare(ds, ["baseline", "popularity"], protocols="rating,full-ranking", seed=1)
    wide_cols, wide = results_table(comp.rows, "wide", provenance=comp.provenance)
    long_cols, long = results_table(comp.rows, "long")
    assert long_cols[:5] == ["model", "kind", "protocol", "metric", "value"]
    assert {"model", "protocol", "rmse", "ndcg@10", "ndcg@10_lo"} <= set(wide_cols)
    assert len(wide) == len(comp.rows) and len(long) == sum(len(r.metrics) for r in comp.rows)
    for row in long:
        match = [w for w in wide if w["model"] == row["model"] and w["protocol"] == row["protocol"]]
        assert len(match) == 1
        if row["value"]:
            assert float(row["value"]) == pytest.approx(float(match[0][row["metric"]]))
    path = write_results_csv(tmp_path / "r.csv", comp.rows, "long")
    assert next(csv.reader(path.open())) == long_cols
    with pytest.raises(ConfigError, match="unknown results layout"):
        results_table(comp.rows, "tall")


def test_wide_lists_each_column_once_whichever_row_comes_first(tmp_path: Path) -> None:
    """The identity columns were read off the first row: when it had intervals (an implicit-only compare,
    or cross-validation's METRIC_std), results.csv had every METRIC_lo/_hi column twice."""
    inter = Interactions.from_frame(make_ratings(80, 60, 0.3, seed=4), rating_scale=(0.5, 5.0))
    from movierec.datasets import Dataset

    ds = Dataset(name="tiny", interactions=inter)
    for comp in (
        compare(ds, ["popularity"], protocols="full-ranking", seed=1),
        compare(ds, ["baseline"], protocols="rating,full-ranking", seed=1, cv=2),
    ):
        cols, _ = results_table(comp.rows, "wide")
        assert len(cols) == len(set(cols)), cols
        head = next(csv.reader(write_results_csv(tmp_path / "r.csv", comp.rows, "wide").open()))
        assert head == cols and "ndcg@10_lo" in cols
        assert cols.index("ndcg@10") < cols.index("ndcg@10_lo")  # a metric before its interval
    assert {"rmse_std", "ndcg@10_std"} <= set(cols)


def test_one_spelling_for_the_interval_bounds_in_every_table(tmp_path: Path) -> None:
    """A Result's to_frame() named its interval ``ci_low``/``ci_high`` and so did the report's long CSV,
    where Comparison.to_frame(), compare's results.csv and the paired tests say ``lo``/``hi``
    (``ndcg@10_lo``): one name per bound now, with the same numbers in each table."""
    inter = Interactions.from_frame(make_ratings(80, 60, 0.3, seed=4), rating_scale=(0.5, 5.0))
    from movierec.datasets import Dataset

    ds = Dataset(name="tiny", interactions=inter)
    comp = compare(ds, ["popularity"], protocols="full-ranking", seed=1)
    (row,) = comp.rows
    one = row.to_frame().set_index("metric")
    assert list(one.columns) == ["value", "lo", "hi"]
    wide = comp.to_frame()
    _, long = results_table(comp.rows, "long")
    long_head = next(csv.reader(write_results_csv(tmp_path / "long.csv", comp.rows, "long").open()))
    wide_head = next(csv.reader(write_results_csv(tmp_path / "wide.csv", comp.rows, "wide").open()))
    assert {"lo", "hi"} <= set(long_head) and not any("ci_" in c for c in long_head + wide_head)
    for bound in ("lo", "hi"):
        assert f"ndcg@10_{bound}" in wide.columns and f"ndcg@10_{bound}" in wide_head
        value = one.loc["ndcg@10", bound]
        assert wide.loc[0, f"ndcg@10_{bound}"] == pytest.approx(value)
        (cell,) = [r[bound] for r in long if r["metric"] == "ndcg@10"]
        assert float(cell) == pytest.approx(value)


def test_a_result_frames_interval_columns_are_float_nan_where_there_is_none() -> None:
    """A rating row's to_frame() held None in ``lo``/``hi`` (object dtype) while a ranking row's coverage,
    which has no interval either, read NaN: one float column and NaN for none in both now, so
    ``frame["lo"].isna()`` and arithmetic read them alike."""
    from movierec.datasets import Dataset

    inter = Interactions.from_frame(make_ratings(80, 60, 0.3, seed=4), rating_scale=(0.5, 5.0))
    comp = compare(Dataset(name="tiny", interactions=inter), ["baseline"], protocols=["rating", "full-ranking"], seed=1)  # fmt: skip
    for row in comp.rows:
        frame = row.to_frame()
        assert {str(frame[c].dtype) for c in ("lo", "hi")} == {"float64"}, (row.protocol, frame.dtypes)
        assert not frame[["lo", "hi"]].map(lambda v: v is None).any().any()
    rating = next(r for r in comp.rows if r.protocol == "rating").to_frame().set_index("metric")
    assert rating.loc["rmse", ["lo", "hi"]].isna().all()
    ranking = next(r for r in comp.rows if r.protocol == "full-ranking").to_frame().set_index("metric")
    assert ranking.loc["coverage@10", ["lo", "hi"]].isna().all() and ranking.loc["ndcg@10", "lo"] > 0
