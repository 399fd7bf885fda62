"""Splitter objects: each named split's splitter yields the function's folds and the description rows carry;
``compare`` is a fold × model loop over the splitter its ``--split``/``--cv`` name."""

from __future__ import annotations

import re

import numpy as np
import pytest

from datagen import make_ratings
from movierec.errors import ConfigError
from movierec.evaluation import SPLITS, compare, make_split
from movierec.interactions import Interactions
from movierec.split import (
    SPLIT_NAMES,
    CanonicalSplit,
    InteractionsHoldout,
    KFold,
    LeaveLastOut,
    PerUserHoldout,
    RatingsHoldout,
    TemporalSplit,
    get_splitter,
    interactions_holdout,
    kfold,
    leave_last_out,
    per_user_holdout,
    ratings_holdout,
    temporal_split,
)


def _inter(seed: int = 3) -> Interactions:
    return Interactions.from_frame(make_ratings(30, 25, 0.4, seed), rating_scale=(0.5, 5.0))


def _same(a: Interactions, b: Interactions) -> None:
    for field in ("users", "items", "ratings"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_named_splits_build_the_splitters_of_the_split_functions() -> None:
    inter = _inter()
    pos = inter.subset(inter.ratings >= 3.5)
    llo_tr, llo_va, llo_te = leave_last_out(inter)
    expected = {
        "ratings-holdout": (RatingsHoldout, ratings_holdout(inter, 0.3, 9)),
        "interactions-holdout": (InteractionsHoldout, interactions_holdout(pos, 0.3, 9)),
        "per-user": (PerUserHoldout, per_user_holdout(inter, 0.3, seed=9)),
        "temporal": (TemporalSplit, temporal_split(inter, 0.3)),
        "leave-last-out": (LeaveLastOut, (llo_tr.concat(llo_va), llo_te)),
    }
    others = {n for n in SPLIT_NAMES if n.startswith(("ml100k", "ml1m"))} | {"last-session"}  # own tests
    assert set(SPLIT_NAMES) - set(expected) == others
    assert SPLITS == ("auto", *SPLIT_NAMES)
    for name, (cls, (train, test)) in expected.items():
        splitter = get_splitter(name, seed=9, threshold=3.5, test_size=0.3)
        assert type(splitter) is cls and splitter.name == name and splitter.n_folds == 1
        folds = list(splitter.split(inter))
        assert len(folds) == 1
        _same(folds[0][0], train)
        _same(folds[0][1], test)
        assert folds[0][1]._cache["split"] == splitter.description  # evaluate() records it
        tr, te, desc = make_split(inter, name, seed=9, threshold=3.5, test_size=0.3)
        _same(tr, train)
        _same(te, test)
        assert desc == splitter.description and name in desc


def test_descriptions_name_parameters_and_seed() -> None:
    assert RatingsHoldout(0.2, 5).description == (
        "ratings-holdout (0.2 of ratings, Surprise train_test_split, seed 5)"
    )
    assert KFold(3, 5).description == "3-fold cv over ratings (Surprise KFold, seed 5)"
    assert KFold(3, 5, 4.0).description == "3-fold cv over positives ≥ 4 (Surprise KFold, seed 5)"
    assert CanonicalSplit("ml1m-90-10", 5).description.endswith(", seed 5")
    assert "seed" not in CanonicalSplit("ml100k-u2").description
    assert "KFold" in repr(KFold(3, 5))


def test_kfold_splitter_yields_surprise_folds_over_ratings_or_positives() -> None:
    inter = _inter(5)
    splitter = get_splitter("ratings-holdout", seed=4, cv=3)
    assert isinstance(splitter, KFold) and splitter.n_folds == 3
    for (tr, te), (tr2, te2) in zip(splitter.split(inter), kfold(inter, 3, 4), strict=True):
        _same(tr, tr2)
        _same(te, te2)
    pos = inter.subset(inter.ratings >= 4.0)
    positives = list(get_splitter("interactions-holdout", seed=4, threshold=4.0, cv=3).split(inter))
    assert sum(te.n_ratings for _, te in positives) == pos.n_ratings
    for (tr, te), (tr2, te2) in zip(positives, kfold(pos, 3, 4), strict=True):
        _same(tr, tr2)
        _same(te, te2)
    with pytest.raises(ConfigError, match="has 3 folds, not one hold-out"):
        splitter.holdout(inter)


def test_bad_split_names_and_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown split 'nope'; valid: auto, ratings-holdout"):
        get_splitter("nope")
    with pytest.raises(
        ConfigError,
        match=r"^k-fold cross-validation \(cv=\) works with the ratings or interactions hold-out, or "
        r"per-user \(folds of users\), not the temporal split",
    ):
        get_splitter("temporal", cv=3)
    with pytest.raises(ConfigError, match="unknown canonical split"):
        CanonicalSplit("ml100k-u9")
    with pytest.raises(ConfigError, match=r"cv folds \(999\) cannot exceed the number of positives"):
        next(KFold(999, 1, 4.0).split(_inter()))


def test_compare_is_a_fold_by_model_loop_over_the_splitter(bundled) -> None:
    events: list[tuple[str, str, int]] = []

    def progress(ev: dict) -> None:
        if ev["event"] == "fit-start":
            events.append((ev["event"], ev["model"], ev["fold"]))

    result = compare(
        bundled,
        ["popularity", "itemknn"],
        split="interactions-holdout",
        cv=2,
        protocols="full-ranking",
        seed=3,
        progress=progress,
    )
    assert events == [
        ("fit-start", "popularity", 0),
        ("fit-start", "itemknn", 0),
        ("fit-start", "popularity", 1),
        ("fit-start", "itemknn", 1),
    ]
    splitter = get_splitter("interactions-holdout", seed=3, threshold=4.0, cv=2)
    *_, (last_train, last_test) = splitter.split(bundled.interactions)
    _same(result.train, last_train)  # the comparison keeps the last fold, as the models it returns
    _same(result.test, last_test)
    assert result.split == splitter.description
    assert [r.split for r in result.rows] == [splitter.description] * 2
    assert [r.folds for r in result.rows] == [2, 2]
    # pooled over both folds: every user with a test positive in a fold is one (user, fold) unit of the
    # per-user values; n_users counts each user once
    folds = [np.flatnonzero(te.user_counts() > 0) for _, te in splitter.split(bundled.interactions)]
    assert len(result.rows[0].users) == sum(len(f) for f in folds)
    assert result.rows[0].n_users == len(np.union1d(*folds))


def test_compare_rows_are_the_per_fold_evaluations_pooled(bundled) -> None:
    """Same rows per fold, same seeds: compare's cv row is each fold's evaluate() with the run's seed, pooled."""
    from movierec.evaluation import evaluate
    from movierec.models.base import training_view
    from movierec.models.registry import create

    result = compare(
        bundled,
        ["baseline", "itemknn"],
        split="ratings-holdout",
        cv=2,
        protocols="rating,full-ranking",
        seed=5,
    )
    splitter = get_splitter("ratings-holdout", seed=5, cv=2)
    folds = list(splitter.split(bundled.interactions))
    for row in result.rows:
        per_fold = []
        for train, test in folds:
            model = create(row.model, **row.params).fit(training_view(create(row.model), train, 4.0))
            per_fold.append(evaluate(model, train, test, row.protocol, k=10, threshold=4.0, seed=5))
        checked = [m for m in row.metrics if row.protocol == "rating" or m in per_fold[0].per_user]
        assert checked
        for metric in checked:
            value = row.metrics[metric]
            if row.protocol == "rating":  # RMSE/MAE: the mean over folds
                expected = np.mean([r.metrics[metric] for r in per_fold])
            else:  # ranking metrics: pooled over every (user, fold)
                expected = np.concatenate([r.per_user[metric] for r in per_fold]).mean()
            assert value == pytest.approx(expected, rel=1e-9, abs=1e-12), (row.label, metric)


def test_a_split_name_with_an_underscore_gets_the_likely_fix(bundled) -> None:  # type: ignore[no-untyped-def]
    """compare(ds, ..., split="per_user") and get_splitter("per_user") listed the 15 names without the one
    meant; make_split already put "(did you mean 'per-user'?)" first."""
    said = r"^unknown split 'per_user' \(did you mean 'per-user'\?\); all 15: movierec\.evaluation\.SPLITS$"
    with pytest.raises(ConfigError, match=said) as listed:
        get_splitter("per_user")
    assert listed.value.in_cli().endswith("(did you mean 'per-user'?); all 15: movierec compare --help")
    with pytest.raises(ConfigError, match=said):
        compare(bundled, ["popularity"], split="per_user", progress=False)


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("u1", "(did you mean 'ml100k-u1'?)"),  # was no guess: too short for difflib
        ("ML-100K-ua", "(did you mean 'ml100k-ua'?)"),
        ("ml100k-u6", "(ml-100k's canonical folds are ml100k-u1 … u5, ua and ub; there is no u6)"),  # was ub
        ("u0", "(ml-100k's canonical folds are ml100k-u1 … u5, ua and ub; there is no u0)"),
        ("random", "(the random hold-outs: ratings-holdout, interactions-holdout, per-user)"),  # was no guess
        ("holdout", "(the random hold-outs: ratings-holdout, interactions-holdout, per-user)"),
    ],
)
def test_a_split_name_gets_what_it_most_likely_meant(typed: str, hint: str) -> None:
    """``--split u1`` and ``--split random`` listed the first names with no guess, and ``--split ml100k-u6``
    guessed 'ml100k-ub' (one letter off, another fold): u1 is ml-100k's u1, a fold the family lacks names the
    family, 'random' the splits that hold out a random part."""
    with pytest.raises(ConfigError) as refused:
        get_splitter(typed)
    assert str(refused.value) == f"unknown split {typed!r} {hint}; all 15: movierec.evaluation.SPLITS"
    assert refused.value.in_cli() == f"unknown split {typed!r} {hint}; all 15: movierec compare --help"


def test_every_split_name_is_on_the_protocols_page() -> None:
    """docs/protocols.md's Splits section described the hold-outs in words and never gave ``--split``'s names:
    ``ratings-holdout``, ``interactions-holdout`` and the canonical ``ml100k-u1`` … ``ml1m-90-10`` (which
    ``compare --help`` lists) were on no page a newcomer reads for splits. Each is in its table now."""
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "protocols.md").read_text(encoding="utf-8")
    section = page[page.index("## Splits") :]
    table = section[: section.index("\n\n", section.index("| name |"))]
    shown = set(re.findall(r"`([a-z0-9-]+)`", table))
    named = {s for s in SPLITS if not s.startswith("ml100k-u") or s[-1] not in "234"}  # u1 … u5 as a range
    assert named <= shown, sorted(named - shown)
