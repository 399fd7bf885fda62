"""bench/validation_study.py, instrumented: the outer test split it cuts is never read while the grids
(the ensemble's included, whose own weights are chosen inside fit) are scored."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from datagen import make_ratings
from movierec.datasets import Dataset
from movierec.interactions import Interactions

BENCH = Path(__file__).resolve().parents[1] / "bench" / "validation_study.py"


class _Spy(Interactions):
    """A split, instrumented: every attribute read is logged."""

    def __init__(self, inner: Interactions) -> None:
        super().__init__(
            inner.users, inner.items, inner.ratings, inner.user_map, inner.item_map, inner.timestamps,
            inner.rating_scale,
        )  # fmt: skip
        self.__dict__["reads"] = []

    def __getattribute__(self, name: str) -> Any:
        d = object.__getattribute__(self, "__dict__")
        if "reads" in d and not name.startswith("__") and name != "reads":
            d["reads"].append((name, dt.datetime.now()))
        return object.__getattribute__(self, name)


def _bench_module(name: str) -> Any:
    """``bench/NAME.py`` loaded as a module (the bench folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, BENCH.parent / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _spy_on_the_test_part(study: Any, monkeypatch: pytest.MonkeyPatch) -> list[_Spy]:
    """``study.make_split`` handing out its test part as a :class:`_Spy`; the spies, one per split made."""
    spies: list[_Spy] = []
    make_split = study.make_split

    def recording(*args: Any, **kwargs: Any) -> Any:
        train, test, info = make_split(*args, **kwargs)
        spies.append(_Spy(test))
        return train, spies[-1], info

    monkeypatch.setattr(study, "make_split", recording)
    return spies


#: the study's --dataset when its load is the synthetic one: any existing folder, so a clone without
#: ../shared/data/ml-100k runs these tests too (they read no ml-100k: a fresh clone in a temporary folder
#: failed both with 'ml-100k not found')
_SYNTHETIC = ("--dataset", str(Path(__file__).resolve().parent))


def _study_on_synthetic_data(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[_Spy], list[int]]:
    """bench/validation_study.py as a module on a small synthetic dataset instead of ml-100k, its
    splitter recording every seed and handing out the outer (seed 42) test part as a :class:`_Spy`."""
    vs = _bench_module("validation_study")
    inter = Interactions.from_frame(make_ratings(60, 50, 0.35, seed=8), rating_scale=(0.5, 5.0))
    monkeypatch.setattr(vs, "load", lambda *a, **k: Dataset(name="synthetic", interactions=inter))
    seeds: list[int] = []
    return vs, _spy_on_the_per_user_test_part(vs, monkeypatch, seeds), seeds


def _spy_on_the_per_user_test_part(
    study: Any, monkeypatch: pytest.MonkeyPatch, seeds: list[int] | None = None
) -> list[_Spy]:
    """``study.per_user_holdout`` recording each seed in ``seeds`` and handing out the outer (seed 42)
    split's test part as a :class:`_Spy`; the spies."""
    spies: list[_Spy] = []
    split = study.per_user_holdout

    def recording(data: Interactions, share: float, seed: int) -> tuple[Interactions, Interactions]:
        if seeds is not None:
            seeds.append(seed)
        train, test = split(data, share, seed=seed)
        if seed == 42:  # the outer split: its test part must stay untouched
            spies.append(_Spy(test))
            return train, spies[-1]
        return train, test

    monkeypatch.setattr(study, "per_user_holdout", recording)
    return spies


def test_the_study_never_reads_the_outer_test_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vs, spies, _seeds = _study_on_synthetic_data(monkeypatch)
    monkeypatch.setattr(vs, "ENSEMBLE_BASES", ["ease", "user-ease"])
    monkeypatch.setitem(vs.GRIDS, "ease", ({"l2": [5.0, 20.0]}, None))
    monkeypatch.setitem(vs.GRIDS, "user-ease", ({"l2": [5.0, 20.0]}, None))
    monkeypatch.setitem(vs.GRIDS, "ensemble", ({"normalize": ["max"], "min_gain_se": [0.0]}, None))
    out = tmp_path / "study.json"
    monkeypatch.setattr(
        sys, "argv", ["validation_study.py", "ease", "user-ease", "ensemble", "--out", str(out), *_SYNTHETIC]
    )
    vs.main()
    assert len(spies) == 1 and spies[0].reads == []
    studies = json.loads(out.read_text())["studies"]
    bases = studies["ensemble"]["best"]["params"]["bases"]
    assert bases == {
        "ease": studies["ease"]["best"]["params"],
        "user-ease": studies["user-ease"]["best"]["params"],
    }
    assert spies[0].n_ratings > 0 and spies[0].reads  # the instrument does see a read


def test_a_study_over_several_splits_is_stored_apart_and_preferred(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--seeds 1,2,3`` scores each point on three inner splits (still never the outer test part) and
    ranks by their mean; the bench's tuned rows then take that study's best point over the one-split one."""
    vs, spies, seeds = _study_on_synthetic_data(monkeypatch)
    monkeypatch.setitem(vs.GRIDS, "ease", ({"l2": [5.0, 20.0, 80.0]}, None))
    out = tmp_path / "study.json"
    for extra in ([], ["--seeds", "1,2,3"]):
        monkeypatch.setattr(
            sys, "argv", ["validation_study.py", "ease", "--out", str(out), *extra, *_SYNTHETIC]
        )
        vs.main()
    assert seeds == [42, 1, 42, 1, 2, 3] and all(spy.reads == [] for spy in spies)
    studies = json.loads(out.read_text())["studies"]
    many = studies["ease@seeds1-2-3"]
    assert many["seeds"] == [1, 2, 3] and "--seeds 1,2,3" in many["command"]
    for row in many["rows"]:
        assert len(row["by split"]) == 3 and abs(row["ndcg@10"] - sum(row["by split"]) / 3) < 1e-12
        # P@10 is kept beside NDCG@10 (it ranks nothing), per split too
        assert len(row["p@10 by split"]) == 3 and abs(row["p@10"] - sum(row["p@10 by split"]) / 3) < 1e-12
        assert 0 < row["p@10"] <= 1
    assert vs.best_point(studies, "ease") == many["best"]
    assert studies["ease"]["rows"][0]["ndcg@10"] == many["rows"][0]["by split"][0]  # split 1 is the same


def test_the_frontier_blend_is_read_cross_fitted_on_the_split_it_did_not_choose_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/results.md quotes the best blend's validation score two ways: on the splits that chose it (an upper
    bound) and cross-fitted (each split scored by the row best on the other splits): the honest one."""
    monkeypatch.syspath_prepend(str(BENCH.parent))  # bench_results imports bench/common.py
    module = _bench_module("bench_results")
    study = {
        "ease": {"by split": [0.20, 0.20, 0.20]},
        "rows": [
            # best on the mean (0.2167) because of split 0 alone: a split that chose it flatters it
            {"study": "blend", "config": "lucky", "by split": [0.30, 0.18, 0.17]},
            {"study": "blend", "config": "steady", "by split": [0.21, 0.21, 0.21]},
            {"study": "low-pass", "config": "ignored", "by split": [0.9, 0.9, 0.9]},
        ],
    }
    # split 0: steady (best on 1, 2) → 0.21; split 1: lucky (0.235 on 0, 2) → 0.18; split 2: lucky → 0.17
    assert module.cross_fitted(study) == pytest.approx((0.21 + 0.18 + 0.17) / 3)


def test_the_reranker_study_never_reads_the_outer_test_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """bench/ltr_study.py trains and scores its re-rankers on cuts of the training part only; its candidates
    never hold an item the user was seen with, and every feature is finite (a classifier would refuse)."""
    ltr = _bench_module("ltr_study")
    inter = Interactions.from_frame(make_ratings(60, 50, 0.35, seed=8), rating_scale=(0.5, 5.0))
    spies = _spy_on_the_test_part(ltr, monkeypatch)
    monkeypatch.setattr(ltr, "N", 10)
    grid = [{"max_iter": 10, "max_leaf_nodes": 7, "min_samples_leaf": 20}, {"max_iter": 5}, {"linear": 1.0}]
    monkeypatch.setattr(ltr, "GRID", grid)  # the study's shape (two boosted trees, one linear), cheap trees
    prepared: list[dict[str, Any]] = []
    prepare = ltr.prepare
    monkeypatch.setattr(ltr, "prepare", lambda *a: prepared.append(prepare(*a)) or prepared[-1])
    import sklearn.ensemble  # noqa: F401  (its OpenMP runtime loaded, so that the limit below reaches it)
    from threadpoolctl import threadpool_limits

    # one thread: the boosted trees' OpenMP threads, spinning on a loaded machine (make test's three
    # workers on two cores), made this 8-16 s against 2.5 s, for fits of a few hundred rows
    with threadpool_limits(limits=1):
        result = ltr.study(Dataset(name="synthetic", interactions=inter))
    assert len(spies) == 1 and spies[0].reads == []
    assert len(prepared) == 3 and len(result["rows"]) == 18 and result["best"] in result["rows"]
    assert [r["params"] for r in result["rows"]] == grid * 6  # six feature subsets × the grid, in order
    assert all(len(r["by split"]) == 3 for r in result["rows"])
    for p in prepared:
        assert np.isfinite(p["X"]).all() and np.isfinite(p["X_v"]).all()
        assert p["X"].shape[0] == p["y"].size and 0 < p["y"].sum() < p["y"].size
        seen = p["seen_v"]
        assert not any(set(p["cand_v"][r]) & set(seen.indices[seen.indptr[r] : seen.indptr[r + 1]]) for r in range(seen.shape[0]))  # fmt: skip
    assert all(0.0 <= r["ndcg@10"] <= 1.0 for r in result["rows"])


def test_the_weighting_study_never_reads_the_outer_test_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """bench/weighting_study.py fits on cuts of the training part only, and its weighted fits see the
    positives' own ratings (the implicit view's ``source_ratings``), not the 1s that made it a no-op."""
    ws = _bench_module("weighting_study")
    inter = Interactions.from_frame(make_ratings(60, 50, 0.35, seed=8), rating_scale=(0.5, 5.0))
    spies = _spy_on_the_test_part(ws, monkeypatch)
    splits, inner = ws._splits, []
    monkeypatch.setattr(ws, "_splits", lambda t: inner.extend(splits(t)) or inner)
    monkeypatch.setattr(ws, "GRID", {"ease": [{"l2": 100}], "slim": [{"alpha": 1.0}], "rp3beta": [{}]})
    result = ws.study(Dataset(name="synthetic", interactions=inter))
    assert len(spies) == 1 and spies[0].reads == []
    assert len(inner) == 3 and all(p["inner"].source_ratings.min() >= 4.0 for p in inner)
    assert len({float(r) for p in inner for r in p["inner"].source_ratings}) > 1  # weights to read, not 1s
    assert len(result["rows"]) == 6 and set(result["best_weighted"]) == {"ease", "slim", "rp3beta"}
    assert all(0.0 <= r["ndcg@10"] <= 1.0 for r in result["rows"])
    assert set(result["blend"]) == {"binary", "rating"}


def test_the_weighting_studys_ml100k_part_never_reads_the_outer_test_split(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its ml-100k part (every rating a positive, per-user 75/25) fits on cuts of the training part only,
    and the weighted fits see each rating, 1-star ones included."""
    ws = _bench_module("weighting_study")
    inter = Interactions.from_frame(make_ratings(60, 50, 0.35, seed=8), rating_scale=(0.5, 5.0))
    spies, inner = _spy_on_the_per_user_test_part(ws, monkeypatch), []
    part = ws._part
    monkeypatch.setattr(ws, "_part", lambda *a: inner.append(part(*a)) or inner[-1])
    result = ws.study_ml100k(Dataset(name="synthetic", interactions=inter))
    assert len(spies) == 1 and spies[0].reads == []
    assert len(inner) == 3 and all(p["inner"].source_ratings.min() == inter.ratings.min() for p in inner)
    assert [(r["model"], r["params"]) for r in result["rows"]][:2] == [
        ("ml-100k ease", {}),
        ("ml-100k ease", {"weighting": "rating"}),
    ]
    assert len(result["rows"]) == 6 and all(0.0 <= r["ndcg@10"] <= 1.0 for r in result["rows"])


def test_the_bases_study_never_reads_the_outer_test_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """bench/bases_study.py blends a fifth base into the start blend on cuts of the training part only."""
    bs = _bench_module("bases_study")
    inter = Interactions.from_frame(make_ratings(60, 50, 0.35, seed=8), rating_scale=(0.5, 5.0))
    spies = _spy_on_the_test_part(bs, monkeypatch)
    monkeypatch.setattr(bs, "EXTRA", {"ease, λ 300": ("ease", {"l2": 300})})
    result = bs.study(Dataset(name="synthetic", interactions=inter))
    assert len(spies) == 1 and spies[0].reads == []
    assert [(r["base"], r["weight"]) for r in result["rows"]] == [("ease, λ 300", w) for w in bs.WEIGHTS]
    assert result["rows"][0]["params"] == {**bs.BLEND, "ease, λ 300": 0.2}
    assert result["best"] in result["rows"] and 0.0 <= result["start"]["ndcg@10"] <= 1.0


def test_a_studys_record_names_its_command_data_time_and_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bench/common.write_study, every validation study's main: the JSON it writes is the study's rows plus
    what makes them reproducible (the command, the dataset checksum, the seconds, the load average)."""
    common = _bench_module("common")
    out = tmp_path / "study.json"
    monkeypatch.setattr(sys, "argv", ["some_study.py", "--out", str(out)])
    seen = []
    common.write_study("some_study", "a study", lambda ds: seen.append(ds.name) or {"rows": [1, 2]})
    got = json.loads(out.read_text())
    assert seen == ["ml-latest-small"] and got["rows"] == [1, 2]
    assert got["command"] == "PYTHONPATH=src python bench/some_study.py"
    assert len(got["dataset_sha256"]) == 64 and got["seconds"] >= 0 and len(got["loadavg"]) == 6


def test_the_near_misses_together_are_quoted_chosen_on_two_splits_against_what_the_target_asks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/results.md's sentence on ``frontier_study.py --only combined`` quotes each lever's cross-fitted
    figure (not its best row) and its gain over ``ensemble``'s defaults against the gain 1.8× asks."""
    monkeypatch.syspath_prepend(str(BENCH.parent))  # bench_results imports bench/common.py
    module = _bench_module("bench_results")
    rows = [
        {"study": "combined", "config": "start", "ndcg@10": 0.2},
        {"study": "combined", "config": "ensemble (defaults)", "ndcg@10": 0.2},
    ]
    levers = [
        {"lever": "the near misses together, in the start blend", "rows": ["start", "b"],
         "best": {"ndcg@10": 0.23}, "chosen on two splits": {"ndcg@10": 0.21}},
        {"lever": "the near misses together, in ensemble's own fit", "rows": ["ensemble (defaults)", "e"],
         "best": {"ndcg@10": 0.22}, "chosen on two splits": {"ndcg@10": 0.204}},
    ]  # fmt: skip
    study = {"rows": rows, "levers": levers}
    short = module._combined_sentence(study, 0.04)
    assert "0.2300 at best and 0.2100 chosen on two splits (+5.0% over the blend's 0.2000)" in short
    assert "0.2200 at best and 0.2040 chosen on two splits, +2.0% over its defaults' 0.2000" in short
    assert "2 settings of the start blend" in short and "its defaults and 1 of those settings" in short
    assert short.endswith("short of the +4.0% that 1.8× asks on the default split.")
    assert module._combined_sentence(study, 0.01).endswith(
        "past the +1.0% that 1.8× asks on the default split."
    )
    assert module._combined_sentence({"rows": rows, "levers": levers[:1]}, 0.04) == ""
