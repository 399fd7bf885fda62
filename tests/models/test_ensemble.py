"""user-ease against a direct solve; the ensemble's contract, its weights chosen on training data only
(instrumented: the test split is never read while it fits, and its hold-out is made of training
pairs), and its sanity: never below its best base on the hold-out it chose its weights on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from contract import check_contract
from datagen import make_ratings
from movierec.errors import ConfigError
from movierec.interactions import IdMap, Interactions
from movierec.models import ensemble as E
from movierec.models.ease import UserEASE
from movierec.models.registry import create
from movierec.split import ratings_holdout

SMALL_BASES = {"ease": {"l2": 10.0}, "user-ease": {"l2": 10.0}, "rp3beta": {"k": 20}}


@pytest.fixture(scope="module")
def implicit() -> Interactions:
    """80 users × 60 items with low-rank structure, positives only."""
    return Interactions.from_frame(make_ratings(80, 60, 0.3, seed=3), rating_scale=(0.5, 5.0)).to_implicit(
        3.0
    )


def test_user_ease_contract(tiny: Interactions, tmp_path: Path) -> None:
    check_contract("user-ease", tiny.to_implicit(3.0), tmp_path, l2=10.0)


def test_ensemble_contract(tiny: Interactions, tmp_path: Path) -> None:
    model = check_contract("ensemble", tiny.to_implicit(3.0), tmp_path, bases=SMALL_BASES)
    again = type(model).load(tmp_path / "ensemble")
    assert again.base_weights() == model.base_weights()
    assert again.base_params_ == model.base_params_


def test_user_ease_is_the_closed_form_on_the_user_gram_matrix() -> None:
    rng = np.random.default_rng(4)
    x = (rng.random((25, 40)) < 0.3).astype(np.float64)
    x[7] = 0.0  # a user without interactions scores 0 and stays out of the solve
    u, i = np.nonzero(x)
    train = Interactions(u, i, np.ones(len(u)), IdMap(np.arange(25)), IdMap(np.arange(40)))
    keep = np.flatnonzero(x.sum(axis=1) > 0)
    xa = x[keep]
    p = np.linalg.inv(xa @ xa.T + 5.0 * np.eye(len(keep)))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    want = np.zeros_like(x)
    want[keep] = b.T @ xa  # X ≈ BᵀX: each user rebuilt from the other users' rows
    got = UserEASE(l2=5.0).fit(train).score(np.arange(25))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def _with_user(train: Interactions, items: np.ndarray, ratings: np.ndarray) -> Interactions:
    """``train`` plus one more user (the last index) holding ``items`` with ``ratings``, rated at the newest
    training timestamp (a visitor rates now: recency weight 1, and nobody else's weight changes)."""
    n = train.n_users
    given = train.ratings if train.source_ratings is None else train.source_ratings  # what weighting reads
    stamps = None
    if train.timestamps is not None:
        stamps = np.concatenate([train.timestamps, np.full(len(items), train.timestamps.max())])
    return Interactions(
        np.concatenate([train.users, np.full(len(items), n)]), np.concatenate([train.items, items]),
        np.concatenate([given, ratings]), IdMap(np.arange(n + 1)), train.item_map, stamps,
        rating_scale=train.rating_scale,
    )  # fmt: skip


@pytest.mark.parametrize("weighting", ["binary", "rating", "recency"])
def test_user_ease_fold_in_equals_refitting_with_the_user_added(
    weighting: str, implicit: Interactions
) -> None:
    """The bordered Gram matrix's block inverse: a visitor's scores are what a refit with them added gives them
    (user-ease has no user exponent; of its weightings, a visitor's row holds 1 per positive, their rating with
    ``rating``, and 1 with ``recency``: the weight of an interaction at the newest time)."""
    model = UserEASE(l2=20.0, weighting=weighting, half_life_days=30.0).fit(implicit)
    rng = np.random.default_rng(8)
    items = rng.choice(implicit.n_items, 12, replace=False)
    ratings = rng.choice([2.0, 3.0, 4.0, 4.5, 5.0], 12)  # below 4 is not a positive: left out of the row
    got = model.score_new_user(items, ratings, threshold=4.0)
    liked = ratings >= 4.0
    refit = UserEASE(l2=20.0, weighting=weighting, half_life_days=30.0)
    refit.fit(_with_user(implicit, items[liked], ratings[liked]))
    want = refit.score(np.array([implicit.n_users]))[0]
    assert np.abs(want).max() > 0.1
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    # no positive: the popularity ranking, as every implicit model
    pop = model.score_new_user(items[:2], np.array([1.0, 2.0]))
    np.testing.assert_array_equal(pop, np.bincount(implicit.items, minlength=implicit.n_items))


def test_user_ease_fold_in_survives_save_and_load(implicit: Interactions, tmp_path: Path) -> None:
    model = UserEASE(l2=20.0).fit(implicit)
    items = np.array([1, 5, 9, 30])
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(
        UserEASE.load(tmp_path / "m").score_new_user(items), model.score_new_user(items)
    )
    with np.load(
        tmp_path / "m" / "arrays.npz"
    ) as npz:  # saved before the fold-in kept diag P: rebuilt on load
        arrays = {k: npz[k] for k in npz.files if k != "inverse_diag_"}
    np.savez(tmp_path / "m" / "arrays.npz", **arrays)
    np.testing.assert_allclose(
        UserEASE.load(tmp_path / "m").score_new_user(items), model.score_new_user(items), rtol=1e-6, atol=1e-6
    )


def test_normalised_scores_are_z_scores_over_the_unseen_items() -> None:
    rng = np.random.default_rng(5)
    s = rng.normal(3.0, 2.0, (6, 20)).astype(np.float32)
    seen = sp.csr_matrix((rng.random((6, 20)) < 0.3).astype(np.float32))
    z = E.normalise_scores(s, seen, "std")
    for row in range(6):
        free = seen[row].toarray().ravel() == 0
        assert abs(z[row, free].mean()) < 1e-5 and abs(z[row, free].std() - 1.0) < 1e-4
    m = E.normalise_scores(s, seen, "max")
    assert np.allclose(np.abs(np.where(seen.toarray() > 0, 0, m)).max(axis=1), 1.0)


class _Spy(Interactions):
    """The test split, instrumented: once armed, every attribute read is logged with the time."""

    def __init__(self, inner: Interactions) -> None:
        super().__init__(
            inner.users, inner.items, inner.ratings, inner.user_map, inner.item_map, inner.timestamps,
            inner.rating_scale,
        )  # fmt: skip
        self.__dict__["reads"] = []
        self.__dict__["armed"] = True

    def __getattribute__(self, name: str) -> Any:
        d = object.__getattribute__(self, "__dict__")
        if d.get("armed") and not name.startswith("__") and name not in ("reads", "armed"):
            d["reads"].append((name, dt.datetime.now()))
        return object.__getattribute__(self, name)


def test_weights_are_chosen_on_training_pairs_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from movierec.evaluation import evaluate

    ratings = Interactions.from_frame(make_ratings(80, 60, 0.3, seed=6), rating_scale=(0.5, 5.0))
    train, test = ratings_holdout(ratings, 0.2, seed=1)
    spy = _Spy(test)
    held_pairs: list[set[tuple[int, int]]] = []
    chosen_at: list[dt.datetime] = []
    search = E.Ensemble._search_weights

    def recording(self: Any, blocks: Any, single: Any, scorer: Any, start: Any = None) -> Any:
        rel = scorer.relevant.tocoo()
        users = np.concatenate(scorer.users)
        held_pairs.append({(int(users[r]), int(c)) for r, c in zip(rel.row, rel.col, strict=True)})
        out = search(self, blocks, single, scorer, start)
        chosen_at.append(dt.datetime.now())
        return out

    monkeypatch.setattr(E.Ensemble, "_search_weights", recording)
    fit_on = train.to_implicit(3.0)
    model = create("ensemble", bases=SMALL_BASES).fit(fit_on)
    assert spy.reads == []  # not one attribute of the test split was touched while the weights were chosen
    result = evaluate(model, fit_on, spy, "full-ranking", threshold=3.0)
    assert spy.reads and min(when for _, when in spy.reads) > chosen_at[-1]  # read only to score, afterwards
    assert result.metrics
    train_pairs = set(zip(fit_on.users.tolist(), fit_on.items.tolist(), strict=True))
    test_pairs = set(zip(test.users.tolist(), test.items.tolist(), strict=True))
    assert held_pairs[0] and held_pairs[0] <= train_pairs and not held_pairs[0] & test_pairs


def test_never_below_its_best_base_on_the_hold_out(implicit: Interactions) -> None:
    bases = {**SMALL_BASES, "popularity": {}}
    model = create("ensemble", bases=bases).fit(implicit)
    assert model.blend_ndcg_ >= max(model.holdout_ndcg_.values()) - 1e-12
    best = max(model.holdout_ndcg_, key=model.holdout_ndcg_.get)
    assert model.base_weights()[best] == 1.0
    assert set(model.base_weights()) == set(bases)
    for label, w in model.base_weights().items():  # a base with weight 0 is not refitted
        assert (model.models_[label] is None) == (w == 0)
    # the same hold-out scores the blend: recomputing it from the fitted procedure's own pieces agrees
    twin = create("ensemble", bases=bases).fit(implicit)
    assert twin.blend_ndcg_ == model.blend_ndcg_ and twin.base_weights() == model.base_weights()


def test_the_default_bases_start_from_the_validated_weights(implicit: Interactions) -> None:
    # with the standard-error rule out of reach nothing moves: the weights are the validated start
    model = create("ensemble", min_gain_se=1e9).fit(implicit)
    assert model.base_labels_ == list(E.DEFAULT_BASES) == ["ease", "slim", "ials", "rp3beta"]
    assert model.base_weights() == E.DEFAULT_START_WEIGHTS
    # given bases start from the hold-out's best single base, as before
    given = create("ensemble", bases=SMALL_BASES, min_gain_se=1e9).fit(implicit)
    best = max(given.holdout_ndcg_, key=given.holdout_ndcg_.get)
    assert given.base_weights() == {label: float(label == best) for label in SMALL_BASES}


def test_a_start_is_left_only_for_a_gain_on_the_hold_out(implicit: Interactions) -> None:
    bases = {**SMALL_BASES, "popularity": {}}
    start = {"popularity": 1.0}  # the weakest base alone
    kept = create("ensemble", bases=bases, start_weights=start, min_gain_se=1e9).fit(implicit)
    assert kept.base_weights() == {"ease": 0.0, "user-ease": 0.0, "rp3beta": 0.0, "popularity": 1.0}
    moved = create("ensemble", bases=bases, start_weights=start, min_gain_se=0.0).fit(implicit)
    assert moved.base_weights() != kept.base_weights()
    assert (
        moved.blend_ndcg_ > kept.blend_ndcg_
        and moved.blend_ndcg_ >= max(moved.holdout_ndcg_.values()) - 1e-12
    )
    # a start on the grid's scale: weights are relative to the heaviest start weight
    scaled = create(
        "ensemble", bases=SMALL_BASES, start_weights={"ease": 4.0, "rp3beta": 2.0}, min_gain_se=1e9
    )
    assert scaled.fit(implicit).base_weights() == {"ease": 1.0, "user-ease": 0.0, "rp3beta": 0.5}


@pytest.mark.parametrize(
    ("start", "message"),
    [
        (
            {"svd": 1.0},
            "start_weights names 'svd', which is not a base \\(bases: ease, user-ease, rp3beta\\)",
        ),
        ({"ease": -1.0}, "numbers ≥ 0, at least one above 0"),
        ({"ease": 0.0}, "numbers ≥ 0, at least one above 0"),
        ({"ease": "1"}, "numbers ≥ 0"),
        ([1.0, 0.5], "must be a table of base label → weight"),
    ],
)
def test_start_weights_are_checked(implicit: Interactions, start: Any, message: str) -> None:
    fitted: list[str] = []
    model = create("ensemble", bases=SMALL_BASES, start_weights=start)
    with pytest.raises(ConfigError, match=message):
        model.fit(implicit, on_epoch=lambda step, info: fitted.append(str(step)))
    assert fitted == []  # refused before any base was fitted


def test_tune_bases_tries_each_bases_grid_and_keeps_the_best(implicit: Interactions) -> None:
    seen: list[tuple[str, float]] = []
    model = create("ensemble", bases={"ease": {"l2": 10.0}, "user-ease": {"l2": 30.0}}, tune_bases=True)
    model.fit(implicit, on_epoch=lambda step, info: seen.append((str(step), *info)))
    assert len(seen) == 3 + 3 + 2  # three settings of each base, then one refit per base
    refits = [f"{'refitted' if w > 0 else 'dropped'} {b}; blend hold-out NDCG@10" for b, w in zip(["ease", "user-ease"], model.weights_, strict=True)]  # fmt: skip
    assert [key for _, key in seen] == ["ease hold-out NDCG@10"] * 3 + [
        "user-ease hold-out NDCG@10"
    ] * 3 + refits
    assert "dropped" in refits[0] + refits[1]  # one base's weight is 0 here: it is named, not refitted
    assert model.base_params_[0]["l2"] in (5.0, 10.0, 20.0)
    assert min(abs(model.base_params_[1]["l2"] - v) for v in (10.0, 30.0, 90.0)) < 1e-9


def test_bases_are_checked(implicit: Interactions) -> None:
    with pytest.raises(ConfigError, match="not an implicit top-N model"):
        create("ensemble", bases={"svd": {}}).fit(implicit)
    with pytest.raises(ConfigError, match="cannot contain another ensemble"):
        create("ensemble", bases={"ensemble": {}}).fit(implicit)
    with pytest.raises(ConfigError, match="non-empty table"):
        create("ensemble", bases={}).fit(implicit)
    with pytest.raises(ConfigError, match="normalize"):
        create("ensemble", bases=SMALL_BASES, normalize="rank").fit(implicit)


ALL_BASES = {**SMALL_BASES, "ials": {"factors": 8, "epochs": 8}}


def _every_base_weighted(implicit: Interactions, normalize: str, bases: dict[str, dict[str, Any]]) -> Any:
    """An ensemble fitted on ``implicit`` whose every base has a weight (bases the hold-out dropped are refitted)."""
    model = create("ensemble", bases=bases, normalize=normalize).fit(implicit)
    for n, label in enumerate(model.base_labels_):
        if model.models_[label] is None:
            model.models_[label] = model._make(model.base_names_[n], model.base_params_[n]).fit(implicit)
    model.weights_ = np.linspace(1.0, 0.4, len(model.base_labels_))
    return model


@pytest.mark.parametrize("normalize", ["std", "max"])
def test_ensemble_fold_in_is_the_weighted_normalised_sum_of_the_bases(
    implicit: Interactions, normalize: str
) -> None:
    model = _every_base_weighted(implicit, normalize, ALL_BASES)
    items = np.array([2, 7, 11, 19, 23, 40])
    ratings = np.array([5.0, 4.0, 2.0, 4.5, 3.0, 4.0])
    liked = ratings >= 4.0
    mask = np.zeros((1, implicit.n_items), dtype=bool)
    mask[0, items[liked]] = True
    want = np.zeros(implicit.n_items)
    for label, w in zip(model.base_labels_, model.weights_, strict=True):
        raw = model.models_[label].score_new_user(items, ratings)
        want += w * E.normalise_scores(raw[None, :], mask, normalize)[0]
    np.testing.assert_allclose(model.score_new_user(items, ratings), want, rtol=1e-5, atol=1e-5)
    only_low = model.score_new_user(items[~liked], ratings[~liked])  # nothing liked: popularity
    np.testing.assert_array_equal(only_low, np.bincount(implicit.items, minlength=implicit.n_items))


def _unseen(model: Any, u: int) -> tuple[np.ndarray, np.ndarray]:
    """(training user u's positives, the items they have not seen)."""
    row = model.seen_[u]
    free = np.ones(model.n_items_, dtype=bool)
    free[row.indices] = False
    return row.indices.astype(np.int64), np.flatnonzero(free)


@pytest.mark.parametrize("normalize", ["std", "max"])
def test_a_visitor_rating_like_a_training_user_gets_that_users_list(
    implicit: Interactions, normalize: str
) -> None:
    """Exact fold-ins (ease, rp3beta: x·B; user-ease: on the unseen items λ·P_uu times the user's own
    leave-self-out scores, the same list) give the user's own normalised scores, and so does an ensemble of
    them; iALS's exact solve differs from the CG-trained user vector a little, so with it the list nearly agrees."""
    exact = _every_base_weighted(implicit, normalize, SMALL_BASES)
    full = _every_base_weighted(implicit, normalize, ALL_BASES)
    for u in (0, 13, 42):
        items, free = _unseen(exact, u)
        for label, base in exact.models_.items():
            visitor = E.normalise_scores(base.score_new_user(items)[None, :], exact.seen_[u], normalize)[0]
            own = E.normalise_scores(base.score(np.array([u])), exact.seen_[u], normalize)[0]
            np.testing.assert_allclose(visitor[free], own[free], rtol=1e-4, atol=1e-4, err_msg=label)
        np.testing.assert_allclose(
            exact.score_new_user(items)[free], exact.score(np.array([u]))[0, free], rtol=1e-4, atol=1e-4
        )
        visitor, own = full.score_new_user(items)[free], full.score(np.array([u]))[0, free]
        top_v, top_o = free[np.argsort(-visitor)[:10]], free[np.argsort(-own)[:10]]
        assert len(set(top_v) & set(top_o)) >= 8 and np.corrcoef(visitor, own)[0, 1] > 0.98


def test_folds_are_disjoint_per_user_and_leave_every_user_something(implicit: Interactions) -> None:
    pairs = E._holdouts(implicit, 0.2, 3, seed=1)
    held = [set(zip(h.users.tolist(), h.items.tolist(), strict=True)) for _, h in pairs]
    assert not (held[0] & held[1]) and not (held[0] & held[2]) and not (held[1] & held[2])
    counts = implicit.user_counts()
    assert set().union(*held) == {
        (u, i)
        for u, i in zip(implicit.users.tolist(), implicit.items.tolist(), strict=True)
        if counts[u] >= 2
    }
    for inner, _ in pairs:  # every user keeps training interactions in every fold
        assert (inner.user_counts() > 0).sum() == (counts > 0).sum()
    ((inner, one),) = E._holdouts(implicit, 0.2, 1, seed=1)
    share = one.n_ratings / implicit.n_ratings
    assert 0.15 < share < 0.25 and inner.n_ratings + one.n_ratings == implicit.n_ratings


def _item_features(n_items: int) -> Any:
    """Eight random binary item features (about a quarter of the items have each)."""
    from movierec.features import ItemFeatures

    rng = np.random.default_rng(11)
    matrix = sp.csr_matrix((rng.random((n_items, 8)) < 0.25).astype(np.float32))
    return ItemFeatures(matrix, [f"f{j}" for j in range(8)])


#: ease (whose fit takes item features) and rp3beta (whose fit does not), both kept at weight 1
FEATURE_BASES = {"ease": {"l2": 10.0}, "rp3beta": {"k": 20}}


def _kept_both(implicit: Interactions, **fit: Any) -> Any:
    model = create("ensemble", bases=FEATURE_BASES, start_weights={"ease": 1, "rp3beta": 1}, min_gain_se=1e9)
    return model.fit(implicit, **fit)


def test_item_features_reach_the_bases_whose_fit_takes_them(
    implicit: Interactions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ensemble's fit takes item features (compare passes them: it noted 'ensemble ignores item features') and
    hands them to ease, in its hold-out fit and its refit, so ease's feature_weight acts; rp3beta fits as without."""
    from movierec.models.base import fit_options
    from movierec.models.ease import EASE

    assert "item_features" in fit_options(E.Ensemble)
    features = _item_features(implicit.n_items)
    given: list[bool] = []
    ease_fit = EASE._fit

    def recording(self: Any, train: Interactions, *, item_features: Any = None) -> Any:
        given.append(item_features is features)
        return ease_fit(self, train, item_features=item_features)

    monkeypatch.setattr(EASE, "_fit", recording)
    plain = _kept_both(implicit)
    assert given == [False, False]  # the hold-out fit and the refit, without features
    featured = _kept_both(implicit, item_features=features)
    assert given[2:] == [True, True]  # both with them
    assert featured.base_weights() == plain.base_weights() == {"ease": 1.0, "rp3beta": 1.0}
    users = np.arange(implicit.n_users)
    collective = create("ease", l2=10.0).fit(implicit, item_features=features).score(users)
    np.testing.assert_allclose(featured.models_["ease"].score(users), collective, rtol=1e-5, atol=1e-6)
    assert not np.allclose(
        featured.models_["ease"].score(users), plain.models_["ease"].score(users), atol=1e-4
    )
    np.testing.assert_array_equal(
        featured.models_["rp3beta"].score(users), plain.models_["rp3beta"].score(users)
    )
    assert not np.allclose(featured.score(users), plain.score(users), atol=1e-4)
    assert featured.holdout_ndcg_["rp3beta"] == plain.holdout_ndcg_["rp3beta"]


def test_an_ensemble_fitted_with_item_features_saves_and_loads_its_scores(
    implicit: Interactions, tmp_path: Path
) -> None:
    """The features are in ease's item weights, so the saved ensemble needs nothing more to score as fitted."""
    model = _kept_both(implicit, item_features=_item_features(implicit.n_items))
    again = E.Ensemble.load(model.save(tmp_path / "ensemble"))
    users = np.arange(implicit.n_users)
    np.testing.assert_array_equal(again.score(users), model.score(users))
    assert not np.allclose(again.score(users), _kept_both(implicit).score(users), atol=1e-4)  # features kept
    items = np.array([0, 5, 9])
    np.testing.assert_array_equal(again.score_new_user(items), model.score_new_user(items))


def test_an_ensemble_uses_item_features_when_one_of_its_bases_does() -> None:
    """Its fit takes them for every ensemble (a class-level fact), so compare, report, recommend and export
    ask the instance: the default bases (ease) use them; slim, ials and rp3beta alone do not."""
    from movierec.models.base import uses_item_features

    assert uses_item_features(create("ensemble"))
    assert uses_item_features(create("ensemble", bases=FEATURE_BASES))
    alone = create("ensemble", bases={"slim": {}, "rp3beta": {}})
    assert alone.uses_item_features is False and uses_item_features(alone) is False
    assert uses_item_features(create("ease")) and not uses_item_features(create("slim"))
    assert uses_item_features(E.Ensemble)  # a class: whether its fit takes them
