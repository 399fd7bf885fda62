"""Item features built for a split leave out the tags on its held-out pairs.

A tags.csv row is (userId, movieId, tag): a user's tag on a movie of their own test part says they
watched it, so features built from it would hand the model the answer (collective EASE, LightFM's
hybrids tie the movie to the user's other movies tagged the same). Features for a fit on all the
data keep every tag.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from movierec.datasets import Dataset
from movierec.evaluation import compare, make_split
from movierec.features import build_item_features
from movierec.interactions import Interactions

EVERY_TAG = {"top_tags": 100_000, "min_tag_count": 1}  # every tag a column: one row makes one


def _pairs(part: Interactions) -> set[tuple[int, int]]:
    """A part's (userId, movieId) pairs, raw, as plain Python ints."""
    users, items = part.user_map.to_raw(part.users), part.item_map.to_raw(part.items)
    return {(int(u), int(m)) for u, m in zip(users, items, strict=True)}


def _tags_on(ds: Dataset, pairs: set[tuple[int, int]]) -> int:
    return sum((int(u), int(m)) in pairs for u, m in zip(ds.tags["userId"], ds.tags["movieId"], strict=True))


def _with_tags(ds: Dataset, rows: list[tuple[int, int, str]]) -> Dataset:
    extra = pd.DataFrame(rows, columns=["userId", "movieId", "tag"]).assign(timestamp=0)
    assert ds.tags is not None
    return replace(ds, tags=pd.concat([ds.tags, extra], ignore_index=True))


def test_a_tag_only_on_a_held_out_pair_is_left_out(bundled: Dataset) -> None:
    """A tag applied once, by a test user on their own test movie, is a column without ``held_out``
    and none with it; the same movie's tag by someone without ratings stays; the count says how many
    tag rows went (ml-latest-small's on the test pairs, plus the one added)."""
    train, test, _ = make_split(bundled.interactions, "interactions-holdout", seed=42, threshold=4.0)
    user, movie = int(test.user_map.to_raw(test.users[0])), int(test.item_map.to_raw(test.items[0]))
    stranger = int(bundled.interactions.user_map.ids.max()) + 1  # tagged, never rated
    ds = _with_tags(bundled, [(user, movie, "zz only on a test pair"), (stranger, movie, "zz by a stranger")])
    row = train.item_map.index(movie)

    leaky = build_item_features(ds, train.item_map, "tags", **EVERY_TAG)
    clean = build_item_features(ds, train.item_map, "tags", held_out=test, **EVERY_TAG)

    assert "tag:zz only on a test pair" in leaky.names
    assert leaky.matrix[row, leaky.names.index("tag:zz only on a test pair")] == 1.0
    assert "tag:zz only on a test pair" not in clean.names
    assert clean.matrix[row, clean.names.index("tag:zz by a stranger")] == 1.0
    assert leaky.held_out_tags == 0
    assert clean.held_out_tags == _tags_on(ds, _pairs(test)) == _tags_on(bundled, _pairs(test)) + 1


def test_tags_are_counted_and_chosen_without_the_held_out_rows(bundled: Dataset) -> None:
    """min_tag_count counts the rows left: a tag applied three times, once on a test pair, falls
    under a minimum of three; and every other part of a list of held-out parts counts too."""
    train, test, _ = make_split(bundled.interactions, "ratings-holdout", seed=42)
    user, movie = int(test.user_map.to_raw(test.users[0])), int(test.item_map.to_raw(test.items[0]))
    other, seen = int(train.user_map.to_raw(train.users[0])), int(train.item_map.to_raw(train.items[0]))
    ds = _with_tags(
        bundled, [(user, movie, "zz thrice"), (other, movie, "zz thrice"), (other, seen, "zz thrice")]
    )
    three = {"top_tags": 100_000, "min_tag_count": 3}
    assert "tag:zz thrice" in build_item_features(ds, train.item_map, "tags", **three).names
    assert (
        "tag:zz thrice" not in build_item_features(ds, train.item_map, "tags", held_out=test, **three).names
    )
    first, last = test.subset(np.arange(1)), test.subset(np.arange(1, test.n_ratings))
    both = build_item_features(ds, train.item_map, "tags", held_out=[first, last], **three)
    assert both.held_out_tags == build_item_features(ds, train.item_map, "tags", held_out=test).held_out_tags


def test_features_for_a_fit_on_all_the_data_keep_every_tag(bundled: Dataset) -> None:
    """No held-out part (a final fit, an export): the features are what they always were, every tag row
    counted; an empty part changes nothing either."""
    every = build_item_features(bundled, names="genres,tags,year")
    none = build_item_features(bundled, names="genres,tags,year", held_out=None)
    empty = build_item_features(
        bundled, names="genres,tags,year", held_out=bundled.interactions.subset(np.arange(0))
    )
    for feats in (none, empty):
        assert feats.names == every.names and feats.held_out_tags == 0
        assert (feats.matrix != every.matrix).nnz == 0
    assert bundled.tags is not None
    tagged = {int(m) for m in bundled.tags["movieId"] if m in bundled.interactions.item_map}
    columns = [j for j, n in enumerate(every.names) if n.startswith("tag:")]
    rows = np.flatnonzero(np.diff(every.matrix[:, columns].tocsr().indptr) > 0)
    assert set(bundled.interactions.item_map.to_raw(rows).tolist()) <= tagged


def test_compare_leaves_out_the_tags_on_its_test_pairs_and_says_so(bundled: Dataset) -> None:
    """compare builds each fold's features without its test pairs' tags, and one note gives the count."""
    comp = compare(bundled, ["ease"], protocols="full-ranking", item_features="genres,tags", progress=False)
    n = _tags_on(bundled, _pairs(comp.test))
    assert n > 0
    assert f"tags: {n:,} tag applications on test pairs left out of the item features" in comp.notes
    plain = compare(bundled, ["ease"], protocols="full-ranking", item_features="genres", progress=False)
    assert not [note for note in plain.notes if note.startswith("tags:")]


@pytest.mark.slow
def test_each_fold_leaves_out_its_own_test_pairs_tags(bundled: Dataset) -> None:
    comp = compare(bundled, ["ease"], protocols="full-ranking", item_features="tags", cv=2, progress=False)
    n = _tags_on(bundled, _pairs(bundled.interactions.to_implicit(4.0)))  # the folds hold every positive
    said = [note for note in comp.notes if note.startswith("tags:")]
    assert said == [
        f"tags: {n:,} tag applications on test pairs left out of the item features (each fold its own)"
    ]


def test_tune_leaves_out_the_test_and_each_validation_parts_tags(bundled: Dataset) -> None:
    """tune's refit features leave out the test pairs' tags; an inner fold's, its validation pairs' too."""
    from movierec.split import interactions_holdout
    from movierec.tuning import _item_features

    train, test, _ = make_split(bundled.interactions, "ratings-holdout", seed=42)
    refit, for_fold = _item_features(["tags"], bundled, train, test)
    assert for_fold is not None
    _, valid = interactions_holdout(train, 0.2, 1)
    fold = for_fold(valid)
    assert refit.held_out_tags == _tags_on(bundled, _pairs(test)) > 0
    assert fold.held_out_tags == _tags_on(bundled, _pairs(test) | _pairs(valid)) > refit.held_out_tags


def test_a_recommender_fitted_on_a_split_leaves_out_the_rest_of_the_datas_tags(bundled: Dataset) -> None:
    """Recommender.fit(train): the dataset's ratings train does not hold are its test part, and their
    tags stay out of the features; fit() on every rating keeps them all."""
    from movierec import Recommender
    from movierec.models.registry import create

    train, test, _ = make_split(bundled.interactions, "ratings-holdout", seed=42)
    rec = Recommender(bundled, "ease", item_features="tags").fit(train)
    users = np.arange(20)
    positives = train.to_implicit(4.0)
    for held_out, same in ((test, True), (None, False)):
        feats = build_item_features(bundled, positives.item_map, "tags", held_out=held_out)
        direct = create("ease").fit(positives, item_features=feats)
        assert np.allclose(rec.model.score(users), direct.score(users)) is same


def test_the_monitors_slice_keeps_its_pairs_tags_out_too(bundled: Dataset) -> None:
    """With ``monitor=`` every model trains without a validation slice and the curves are scored on it,
    so the slice's pairs' tags stay out of the features as the test pairs' do: a tag applied on every
    slice pair and nowhere else (so among the 200 most used) is no column of the fitted model (it was
    one before)."""
    import movierec
    from movierec.epoch_validation import validation_slice

    train, _, _ = make_split(bundled.interactions, "interactions-holdout", seed=42, threshold=4.0)
    _, valid = validation_slice(train, n_users=40, per_user=3, seed=5)
    rows = [(int(u), int(m), "zz on the slice") for u, m in sorted(_pairs(valid))]
    ds = _with_tags(bundled, rows)
    monitor = movierec.EpochValidator(n_users=40, per_user=3, seed=5)
    comp = compare(ds, [("bpr", {"epochs": 2, "factors": 4})], protocols="full-ranking",
                   item_features="tags", monitor=monitor, progress=False)  # fmt: skip
    assert monitor.held[0] == valid.n_ratings  # the slice this test tagged
    assert set(monitor.curves) == {"bpr"}
    names = comp.models["bpr"].item_feature_names_
    assert any(n.startswith("tag:") for n in names) and "tag:zz on the slice" not in names


def test_exports_hold_out_check_leaves_out_its_test_pairs_tags(bundled: Dataset, tmp_path) -> None:
    """export's hold-out check refits a copy of the model on its own split: that copy's features leave out
    the tags on the check's test pairs (they were built from every tag row, for the export's fit on all
    the data), and the manifest says how many. A tag applied on every check-test pair and nowhere else
    makes the difference plain: the check's figures are bpr's fitted without it, not with it. export
    --holdout, trained on the same split, leaves them out of the exported model's features and agrees."""
    from movierec.evaluation import holdout_figures
    from movierec.models.base import seeded
    from movierec.models.registry import create
    from movierec.serving.pipeline import train_and_export

    train, test, _ = make_split(bundled.interactions, "ratings-holdout", seed=42, test_size=0.2)
    ds = _with_tags(bundled, [(u, m, "zz on the check's test pairs") for u, m in sorted(_pairs(test))])
    params = {"epochs": 2, "factors": 4}

    def figures(held_out: Interactions | None) -> float:
        feats = build_item_features(ds, train.item_map, "tags", held_out=held_out)
        model = seeded(create("bpr", **params), 42, params).fit(train.to_implicit(4.0), item_features=feats)
        return holdout_figures(model, train, test, threshold=4.0, seed=42)["ndcg@10"]

    n = _tags_on(ds, _pairs(test))
    said = f"{n:,} tag applications on test pairs left out of the item features"
    checked = train_and_export(ds, "bpr", params, tmp_path / "all", item_features="tags", allow_weak=True)
    assert f"hold-out check: {said}" in checked.manifest["notes"]
    assert checked.metrics is not None and checked.metrics["ndcg@10"] == figures(test) != figures(None)
    held = train_and_export(
        ds, "bpr", params, tmp_path / "held", holdout=True, item_features="tags", allow_weak=True
    )
    assert f"tags: {said}" in held.manifest["notes"] and held.metrics is not None
    assert held.metrics["ndcg@10"] == checked.metrics["ndcg@10"]


def test_early_stoppings_fit_leaves_out_its_validation_pairs_tags(
    bundled: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Early stopping fits on the training part less a validation cut and scores each epoch on that cut,
    so that fit's features leave out the cut's pairs' tags as well as the test pairs'. A spy on
    ``resolve_item_features`` reads what the stopping fit was given (the refit's model cannot show it)."""
    import movierec.evaluation as E

    calls: list[tuple[Any, Any]] = []
    real = E.resolve_item_features

    def spy(*args: Any, held_out: Any = None, **kwargs: Any) -> Any:
        out = real(*args, held_out=held_out, **kwargs)
        calls.append((held_out, out))
        return out

    monkeypatch.setattr(E, "resolve_item_features", spy)
    comp = compare(bundled, [("bpr", {"epochs": 3, "factors": 4})], protocols="full-ranking",
                   item_features="tags", early_stopping="ndcg@10", progress=False)  # fmt: skip
    cut = [(parts, out) for parts, out in calls if isinstance(parts, list) and len(parts) == 2]
    assert len(cut) == 1, calls
    (test, valid), out = cut[0]
    assert test is comp.test and not _pairs(valid) & _pairs(test)
    only_test = _tags_on(bundled, _pairs(test))
    assert out.held_out_tags == _tags_on(bundled, _pairs(test) | _pairs(valid)) > only_test
