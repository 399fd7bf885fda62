"""A top-N ensemble: a weighted sum of complementary rankers' per-user normalised scores, the weights
chosen at fit time on a hold-out cut from the training interactions.

Linear combinations of ranking models' scores are the oldest strong trick of top-N recommendation
(the Netflix Prize blends, Töscher, Jahrer & Bell 2009; for item ranking, Bar, Koenigstein,
Paquet & Cox 2013, "Ensemble recommender systems"): rankers that make different mistakes (item
co-occurrence in EASE's dense and SLIM's sparse item weights, random walks in RP3beta, low-rank
factors in iALS, similar users in user-based EASE) average out each other's errors. Scores live on
different scales, so each base's scores are normalised per user (z-scores over the items the user has
not seen, or division by the largest) before they are summed.

The weights, and, with ``tune_bases``, one key hyperparameter of each base, are chosen like
scikit-learn's ``RidgeCV`` chooses its penalty: ``fit`` holds out a share of every user's training
interactions, fits the bases on the rest, picks what scores the best NDCG@10 on the held-out part
(a coordinate ascent over a fixed weight grid), then refits the bases on all the training
interactions. The search starts from given weights (the default bases: weights validated on
ml-latest-small) or from the best single base, and moves only on a gain beyond the hold-out's noise
(a standard-error rule), so a noisy hold-out cannot talk it out of a validated blend. The model's
defaults are therefore a procedure; no test data is ever involved.
"""

from __future__ import annotations

from dataclasses import KW_ONLY
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from movierec.errors import ArtifactError, ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import BaseRecommender, EpochCallback, Tags, fit_options, tags_of, topk
from movierec.models.params import Boolean, Constraint, Interval, Options, RandomState
from movierec.models.space import Choice, FloatRange, SearchSpace
from movierec.models.training import say_step
from movierec.scoring.base import positive_mask
from movierec.scoring.ensemble import normalise_scores

__all__ = [
    "BASE_GRIDS",
    "DEFAULT_BASES",
    "DEFAULT_START_WEIGHTS",
    "WEIGHT_GRID",
    "Ensemble",
    "normalise_scores",
]

#: default bases: item-based EASE, SLIM's sparse item weights, iALS's low-rank factors and RP3beta's random
#: walk, each at its class defaults but ease's ``popularity_shrink``, 0 (a fixed γ): the start weights below
#: were found with that ease, and on the same three validation splits the ensemble reads NDCG@10 0.1879 with
#: it against 0.1867 with ease's default κ 20 (−0.6%, past the 0.3% that ``bench/visitor_gamma_study.py``'s
#: rule lets known users lose), while ease alone gains (0.1812 → 0.1826)
DEFAULT_BASES: dict[str, dict[str, Any]] = {
    "ease": {"popularity_shrink": 0.0},
    "slim": {},
    "ials": {},
    "rp3beta": {},
}
#: where the weight search starts with the default bases: the best fixed blend of the default models'
#: max-normalised scores on three validation splits of ml-latest-small's training part
#: (``bench/frontier_study.py --protocol mlls``; user-ease got weight 0 there, so it is not a default base)
DEFAULT_START_WEIGHTS: dict[str, float] = {"ease": 1.0, "slim": 0.5, "ials": 0.6, "rp3beta": 0.2}
#: base → (hyperparameter, multipliers of its given value) tried on the hold-out when ``tune_bases``
BASE_GRIDS: dict[str, tuple[str, tuple[float, ...]]] = {
    "ease": ("l2", (0.5, 1.0, 2.0)),
    "user-ease": ("l2", (1 / 3, 1.0, 3.0)),
    "rp3beta": ("beta", (0.6, 1.0, 1.4)),
}
#: the weights a base may get (relative to the best single base's weight 1)
WEIGHT_GRID: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0)
_K = 10  # the hold-out metric: NDCG@10


def _holdouts(
    train: Interactions, share: float, folds: int, seed: int
) -> list[tuple[Interactions, Interactions]]:
    """``(inner, held)`` pairs cut from every user's interactions in a random order.

    ``folds`` = 1: a random ``share`` of each user's interactions held out (at least one, never all);
    ``folds`` = K ≥ 2: K disjoint folds, the k-th holding each user's interactions at positions ≡ k
    (mod K) of that order (so every held-out fold leaves the user something to train on). Users with
    a single interaction are never held out.
    """
    rng = np.random.default_rng(seed)
    counts = np.bincount(train.users, minlength=train.n_users)
    order = np.lexsort((rng.random(train.n_ratings), train.users))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(train.n_ratings, dtype=np.int64)
    rank[order] = np.arange(train.n_ratings) - starts[train.users[order]]
    many = counts[train.users] >= 2
    if folds == 1:
        n_out = np.clip(np.floor(counts * share + 0.5), 1, np.maximum(counts - 1, 1)).astype(np.int64)
        masks = [many & (rank < n_out[train.users])]
    else:
        masks = [many & (rank % folds == k) for k in range(folds)]
    return [(train.subset(~m), train.subset(m)) for m in masks]


class _HoldoutScorer:
    """NDCG@10 of stacked score blocks (one per hold-out, users × items) on the held-out interactions.

    Rows are (hold-out, user) pairs of users with held-out and inner interactions; seen items excluded.
    """

    def __init__(self, pairs: list[tuple[Interactions, Interactions]]) -> None:
        self.users: list[np.ndarray] = []
        self.seen: list[sp.csr_matrix] = []
        relevant = []
        for inner, held in pairs:
            rel = sp.csr_matrix(
                (np.ones(held.n_ratings, dtype=np.float32), (held.users, held.items)), shape=held.shape
            )
            rel.sum_duplicates()
            seen = inner.csr()
            users = np.flatnonzero((np.diff(rel.indptr) > 0) & (np.diff(seen.indptr) > 0)).astype(np.int32)
            self.users.append(users)
            self.seen.append(sp.csr_matrix(seen[users]))
            relevant.append(rel[users])
        self.relevant = sp.csr_matrix(sp.vstack(relevant))
        self.mask = np.asarray(sp.vstack(self.seen).toarray(), dtype=bool)

    def per_user(self, scores: np.ndarray) -> np.ndarray:
        """NDCG@10 of every (hold-out, user) row."""
        from movierec import metrics

        s = np.where(self.mask, -np.inf, scores)
        recs, _ = topk(s, _K)
        return np.asarray(metrics.ndcg(recs, self.relevant, _K), dtype=np.float64)

    def __call__(self, scores: np.ndarray) -> float:
        return float(self.per_user(scores).mean())


def _not_a_base(cls: type) -> str | None:
    """Why ``cls`` cannot be an ensemble base (not an implicit top-N model), or ``None``."""
    tags = tags_of(cls)
    if tags.predicts_ratings or tags.trains_on != "interactions":
        return "is not an implicit top-N model (use blend for ratings)"
    return None


class Ensemble(BaseRecommender):
    """Weighted sum of per-user normalised scores of implicit top-N ``bases`` (Bar, Koenigstein, Paquet &
    Cox 2013, "Ensemble recommender systems"), the weights chosen at fit time on a hold-out of the
    training interactions (as ``RidgeCV`` chooses its penalty), then every base refitted on all of them.

    The weights (and, with ``tune_bases``, one hyperparameter per base from :data:`BASE_GRIDS`) are
    chosen on a hold-out of ``holdout`` of each user's training interactions (``folds`` = 1) or, with
    ``folds`` = K ≥ 2, on K disjoint per-user folds scored together (K times the fits, less noise).
    ``bases`` maps registered implicit model names to hyperparameters (``"name#label"`` lets a model
    appear twice); ``None`` is :data:`DEFAULT_BASES` (ease with a fixed γ, slim, ials, rp3beta, each else at its defaults).
    The search is a coordinate ascent over :data:`WEIGHT_GRID` (``rounds`` passes) that starts from
    ``start_weights`` (base label → weight, scaled so the heaviest is 1; ``None``:
    :data:`DEFAULT_START_WEIGHTS` with the default bases, else the hold-out's best single base alone).
    Every move, the first being from a given start to the best single base, is taken only when its
    gain in the hold-out's mean NDCG@10 exceeds ``min_gain_se`` standard errors of the paired per-user
    differences. ``normalize`` is ``"std"`` (per-user z-scores) or ``"max"``; ``random_state`` seeds the
    hold-out and every base that takes a seed. After ``fit``: ``weights_`` (one per base, in
    ``base_labels_`` order), ``base_params_`` (the parameters each base was refitted with),
    ``holdout_ndcg_`` (each base's NDCG@10 on the hold-out) and ``blend_ndcg_`` (the chosen combination's;
    from the best single base it is never below that base's, from a given start never below the start's).
    Progress: ``on_epoch`` is called after every fit of a base, naming it: ``{"ials hold-out NDCG@10": …}``
    while the bases are scored, ``{"refitted ials; blend hold-out NDCG@10": …}`` (``dropped ials`` at weight
    0) while they are refitted.
    A person not in training is folded into every weighted base by that base's own ``score_new_user``
    and the normalised scores summed with the same weights (:meth:`score_new_user`); ``movierec export``
    writes the ``ensemble`` serving family, which composes the bases' families the same way.

    Item features (``fit(train, item_features=…)``, ``compare --item-features``) go to every base whose
    ``fit`` takes them (ease becomes collective EASE, its ``feature_weight`` acting), in the hold-out fits
    and in the refit alike; the other bases (slim, ials, rp3beta) fit as without them. On ml-latest-small's
    validation splits collective EASE in place of the start blend's ease read 0.1892 against 0.1875 (the
    features and c chosen on two splits, read on the third, the start weights kept, tags on the validation
    pairs left out; ``bench/frontier_study.py --only ease-features``). The features come built for all of
    ``train`` and cannot be rebuilt here (the tag rows are not passed in), so a user's tag on a movie of the
    inner hold-out stays in them and collective EASE may read a little better there than on new pairs:
    that hold-out only chooses the weights, and the caller's own held-out part (a split's test part) is
    left out of the features by ``build_item_features(held_out=…)``. User features are not passed on (no
    default base takes them, and the exported ensemble would have to serve visitors by them).

    Defaults from ``bench/validation_study.py ensemble --protocol mlls --seeds 1,2,3`` (ml-latest-small,
    ``compare``'s default split, three validation splits cut from its training part). The start is
    the best fixed blend of the default models' max-normalised scores there (``bench/frontier_study.py
    --protocol mlls``: ease 1, slim 0.5, ials 0.6, rp3beta 0.2, mean validation NDCG@10 0.1875; chosen on
    two of the splits and read on the third, 0.1857), against 0.1812 for ``ease`` and 0.1844 for ``ials``
    at their defaults. From that start the one-hold-out search left for ials alone on one split at
    ``min_gain_se=1`` (0.1841); at 2 it keeps the start unless the hold-out's evidence is strong (0.1879;
    3: 0.1875). The earlier defaults (ease, user-ease, rp3beta, ials from the best single base,
    ``min_gain_se=1``: 0.1846) mostly kept ials alone, and on the test part of that split read below
    ease. On ml-100k's validation splits (every rating a positive, three splits) the defaults score
    0.2722 against 0.2716 for the earlier ones and 0.2650 for ``ease``'s defaults. With seven bases at
    their ml-100k points (ease, user-ease, rp3beta, ials, slim, mult-vae, recvae; ``normalize="std"``,
    ``min_gain_se=0``) it scores 0.2827 against ease's 0.2803 over three splits, and 0.4906 on that
    split's test part, read once after (docs/results.md).
    """

    item_vectors: ClassVar[bool | None] = False

    name: ClassVar[str] = "ensemble"
    can_stop_early: ClassVar[bool] = False  # on_epoch reports each base's fit, not epochs
    #: its fit is parts it names to a listener as each starts (models.training.say_step): each base on the
    #: hold-out, the weight search, each refit; recommend's and export's progress show them
    reports_steps: ClassVar[bool] = True
    _none_means: ClassVar[dict[str, str]] = {
        "bases": "ease, slim, ials and rp3beta, each with its defaults",
        "start_weights": "ease 1, slim 0.5, ials 0.6, rp3beta 0.2 with the default bases, else the best single base",
    }
    tags: ClassVar[Tags] = Tags(fold_in="neighbours", serving="ensemble")
    search_space: ClassVar[SearchSpace] = {
        "holdout": FloatRange(0.1, 0.3),
        "normalize": Choice(("std", "max")),
        "tune_bases": Choice((True, False)),
        # the weight search's standard-error rule (0: any gain moves a weight)
        "min_gain_se": FloatRange(0.0, 3.0),
    }
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "holdout": [Interval(float, 0, 1, closed="neither")],
        "normalize": [Options("std", "max")],
        "tune_bases": [Boolean()],
        "rounds": [Interval(int, 1, None)],
        "folds": [Interval(int, 1, None)],
        "min_gain_se": [Interval(float, 0, None)],
        "random_state": [RandomState()],
    }
    _json_state: ClassVar[tuple[str, ...]] = (
        "base_labels_",
        "base_names_",
        "base_params_",
        "holdout_ndcg_",
        "blend_ndcg_",
    )

    bases: dict[str, dict[str, Any]] | None = None
    _: KW_ONLY
    start_weights: dict[str, float] | None = None
    holdout: float = 0.2
    folds: int = 1
    normalize: str = "max"
    tune_bases: bool = False
    rounds: int = 2
    min_gain_se: float = 2.0
    random_state: int | None = 42

    # --- bases ----------------------------------------------------------------------------
    def _base_specs(self) -> list[tuple[str, str, dict[str, Any]]]:
        """``[(label, registered name, params), …]``, every base checked to be an implicit top-N model."""
        from movierec.models.registry import base_specs

        return base_specs(self.name, self.bases, DEFAULT_BASES, example="{ease = {}}", refuse=_not_a_base)

    @property
    def uses_item_features(self) -> bool:
        """Whether a base learns from item features (ease does); with slim, ials and rp3beta alone the
        ensemble ignores them, though its ``fit`` takes them for the bases that would."""
        from movierec.models.registry import get_class

        return any("item_features" in fit_options(get_class(name)) for _, name, _ in self._base_specs())

    def unused_item_features(self) -> str | None:
        """Why item features would go unused, and the fix, for a caller that refuses them rather than fit
        without them (``tune --item-features``): ``none of its bases (slim) learns from them; add one that
        does to bases (ease, …)``. ``None`` when a base learns from them."""
        if self.uses_item_features:
            return None
        from movierec.models.registry import get_class, item_feature_models

        # movierec's own implicit models whose fit takes them, ease first (the usual): not lib:*, not itself
        shown = ", ".join(
            n
            for n in item_feature_models()
            if ":" not in n and n != self.name and _not_a_base(get_class(n)) is None
        )
        labels = ", ".join(label for label, _, _ in self._base_specs())
        return f"none of its bases ({labels}) learns from them; add one that does to its bases ({shown})"

    def _make(self, name: str, params: dict[str, Any]) -> Any:
        from movierec.models.registry import create

        model = create(name, **params)
        if "random_state" in model.get_params() and "random_state" not in params:
            model.set_params(random_state=self.random_state)
        return model

    def _fit_base(self, name: str, params: dict[str, Any], train: Interactions, item_features: Any) -> Any:
        """Base ``name`` with ``params`` fitted on ``train``, given ``item_features`` when its ``fit`` takes them."""
        model = self._make(name, params)
        if item_features is not None and "item_features" in fit_options(model):
            return model.fit(train, item_features=item_features)
        return model.fit(train)

    def _candidates(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The settings of a base tried on the hold-out: as given, or its :data:`BASE_GRIDS` line."""
        if not self.tune_bases or name not in BASE_GRIDS:
            return [params]
        from movierec.models.registry import get_class

        key, factors = BASE_GRIDS[name]
        value = float(params.get(key, get_class(name)().get_params()[key]))
        return [{**params, key: value * f} for f in factors]

    # --- fitting --------------------------------------------------------------------------
    def _fit(
        self, train: Interactions, *, item_features: Any = None, on_epoch: EpochCallback | None = None
    ) -> Self:
        """Choose each base's setting and the weights on a hold-out of ``train``; refit the bases on all of it.

        ``item_features`` (rows aligned to ``train``'s item map, which the hold-out keeps) go to every base
        whose ``fit`` takes them, in the hold-out fits and in the refit alike; the others fit without."""
        specs = self._base_specs()
        start = self._start(specs)  # a bad start is refused before any base is fitted
        if train.n_ratings == 0:
            raise DataError("ensemble: no interactions to train on")
        seed = 0 if self.random_state is None else int(self.random_state)
        pairs = _holdouts(train, float(self.holdout), int(self.folds), seed)
        if any(held.n_ratings == 0 for _, held in pairs):
            raise DataError(
                "ensemble: every user has a single interaction, nothing to hold out for the weights"
            )
        scorer = _HoldoutScorer(pairs)
        step = [0]
        n = len(specs)
        on = "on the hold-out" if len(pairs) == 1 else f"on {len(pairs)} hold-out folds"

        def report(what: str, value: float) -> None:
            step[0] += 1
            if on_epoch is not None:  # the key names the base, so a progress line says what is being fitted
                on_epoch(step[0], {f"{what} hold-out NDCG@10": value})

        chosen, blocks, single = [], [], []
        for b, (label, name, params) in enumerate(specs, start=1):
            best: tuple[float, dict[str, Any], np.ndarray] | None = None
            candidates = self._candidates(name, params)
            for c, cand in enumerate(candidates, start=1):
                setting = f", setting {c}/{len(candidates)}" if len(candidates) > 1 else ""
                say_step(on_epoch, f"fitting {label} (base {b}/{n}{setting}) {on}")
                # a generator: each hold-out fit is scored and dropped before the next
                fits = (self._fit_base(name, cand, inner, item_features) for inner, _ in pairs)
                z = np.vstack([
                    normalise_scores(m.score(users), seen, self.normalize)
                    for m, users, seen in zip(fits, scorer.users, scorer.seen, strict=True)
                ])  # fmt: skip
                value = scorer(z)
                report(label, value)
                say_step(
                    on_epoch, f"{label} (base {b}/{n}{setting}): hold-out NDCG@10 {value:.3f}", now=False
                )
                if best is None or value > best[0]:
                    best = (value, cand, z)
            assert best is not None
            single.append(best[0])
            chosen.append(best[1])
            blocks.append(best[2])
        say_step(on_epoch, "searching the blend weights on the hold-out")
        weights, blend = self._search_weights(blocks, single, scorer, start)
        kept = sum(w > 0 for w in weights)
        say_step(on_epoch, f"blend hold-out NDCG@10 {blend:.3f} with {kept} of {n} bases")
        self.weights_ = np.asarray(weights, dtype=np.float64)
        self.holdout_ndcg_ = {label: float(v) for (label, _, _), v in zip(specs, single, strict=True)}
        self.blend_ndcg_ = float(blend)
        self.base_labels_ = [label for label, _, _ in specs]
        self.base_names_ = [name for _, name, _ in specs]
        self.base_params_ = chosen
        self.models_ = {}
        for b, ((label, name, _), params, w) in enumerate(zip(specs, chosen, weights, strict=True), start=1):
            if w > 0:
                say_step(on_epoch, f"refitting {label} (base {b}/{n}) on all the data")
            self.models_[label] = self._fit_base(name, params, train, item_features) if w > 0 else None
            report(f"{'refitted' if w > 0 else 'dropped'} {label}; blend", blend)
        self._remember_train(train)
        return self

    def _start(self, specs: list[tuple[str, str, dict[str, Any]]]) -> list[float] | None:
        """The weights the search starts from, in ``specs`` order: ``start_weights``, or
        :data:`DEFAULT_START_WEIGHTS` with the default bases; ``None``: from the best single base."""
        table = self.start_weights
        if table is None:
            table = DEFAULT_START_WEIGHTS if self.bases is None else None
        if table is None:
            return None
        labels = [label for label, _, _ in specs]
        if not isinstance(table, dict):
            raise ConfigError(
                f"{self.name}: start_weights must be a table of base label → weight, e.g. {{ease = 1}}"
            )
        unknown = [str(k) for k in table if k not in labels]
        if unknown:
            raise ConfigError(
                f"{self.name}: start_weights names {', '.join(map(repr, unknown))}, which "
                f"{'is not a base' if len(unknown) == 1 else 'are not bases'} (bases: {', '.join(labels)})"
            )
        bad = [
            k for k, v in table.items() if isinstance(v, bool) or not isinstance(v, int | float) or not v >= 0
        ]
        if bad or not any(float(v) > 0 for v in table.values()):
            raise ConfigError(
                f"{self.name}: start_weights must be numbers ≥ 0, at least one above 0; got {table!r}"
            )
        return [float(table.get(label, 0.0)) for label in labels]

    def _search_weights(
        self,
        blocks: list[np.ndarray],
        single: list[float],
        scorer: _HoldoutScorer,
        start: list[float] | None = None,
    ) -> tuple[list[float], float]:
        """Coordinate ascent over :data:`WEIGHT_GRID`, from ``start`` or the best single base (weight 1, the
        rest 0).

        Each move, from the start to the best single base and then for each base in turn to the best
        weight on the grid, is taken only when its gain in mean NDCG@10 exceeds ``min_gain_se`` standard
        errors of the paired per-user differences (the one-standard-error rule: a gain within the
        hold-out's noise keeps what it has: the simpler ensemble, or the validated start).
        """
        first = int(np.argmax(single))
        weights = [1.0 if b == first else 0.0 for b in range(len(blocks))]
        current = scorer.per_user(blocks[first])
        if start is not None:
            at_start = scorer.per_user(self._blend(blocks, start))
            if not self._moves(current - at_start):
                first = int(np.argmax(start))
                weights, current = [w / start[first] for w in start], at_start
        for _ in range(int(self.rounds)):
            moved = False
            for b in range(len(blocks)):
                if b == first:
                    continue
                rest = self._blend(blocks, [0.0 if j == b else w for j, w in enumerate(weights)])
                found: tuple[float, float, np.ndarray] | None = None
                for g in WEIGHT_GRID:
                    if g == weights[b]:
                        continue
                    vec = scorer.per_user(rest + np.float32(g) * blocks[b] if g else rest)
                    gain = float((vec - current).mean())
                    if self._moves(vec - current) and (found is None or gain > found[0]):
                        found = (gain, g, vec)
                if found is not None:
                    weights[b], current, moved = found[1], found[2], True
            if not moved:
                break
        best = float(current.mean())
        return weights, best

    def _moves(self, diff: np.ndarray) -> bool:
        """Whether paired per-user NDCG@10 differences ``diff`` are a gain above ``min_gain_se`` standard errors."""
        gain = float(diff.mean())
        se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
        return gain > 1e-12 and gain > float(self.min_gain_se) * se

    @staticmethod
    def _blend(blocks: list[np.ndarray], weights: list[float]) -> np.ndarray:
        """Σ_b w_b · block_b over the stacked hold-out score blocks (bases with weight 0 skipped)."""
        out = np.zeros_like(blocks[0])
        for w, z in zip(weights, blocks, strict=True):
            if w:
                out += np.float32(w) * z
        return out

    # --- scoring --------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        super()._check_fitted()
        if not hasattr(self, "models_"):
            raise ConfigError(f"{self.name}: the base models are missing (not fitted or not loaded)")

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Σ_b w_b · normalised score_b over every item (seen items included; ``recommend`` drops them)."""
        self._check_fitted()
        users = self._check_users(users)
        seen = self.seen_[users]
        out = np.zeros((len(users), self.n_items_), dtype=np.float32)
        for label, w in zip(self.base_labels_, self.weights_, strict=True):
            model = self.models_.get(label)
            if w > 0 and model is not None:
                out += np.float32(w) * normalise_scores(model.score(users), seen, self.normalize)
        return out if items is None else out[:, np.asarray(items)]

    def score_new_user(
        self, items: np.ndarray, ratings: np.ndarray | None = None, *, threshold: float = 4.0
    ) -> np.ndarray:
        """A person not in training: Σ_b w_b · normalised ``score_new_user`` of base b, normalised over the items
        outside their positives (ratings ≥ ``threshold``; ``ratings=None``: all liked), as :meth:`score` does over a
        training user's unseen items; no positive rating gives the popularity ranking. The exported artifact
        composes the bases' serving families the same way (:mod:`movierec.scoring.ensemble`)."""
        items, ratings = self._check_new_user(items, ratings)
        liked = positive_mask(ratings, len(items), threshold)
        if not liked.any():
            return np.bincount(self.seen_.indices, minlength=self.n_items_).astype(np.float32)
        mask = np.zeros((1, self.n_items_), dtype=bool)
        mask[0, items[liked]] = True
        out = np.zeros(self.n_items_, dtype=np.float32)
        for label, w in zip(self.base_labels_, self.weights_, strict=True):
            model = self.models_.get(label)
            if w > 0 and model is not None:
                raw = model.score_new_user(items, ratings, threshold=threshold)
                out += np.float32(w) * normalise_scores(np.asarray(raw)[None, :], mask, self.normalize)[0]
        return out

    def similar_items(self, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The 'similar' of the heaviest base that has one (item vectors, or item weights or neighbour lists
        of its own): a sum of unrelated similarity scales would mean nothing. The exported artifact picks
        the same base (:mod:`movierec.scoring.ensemble`), so ``Recommender.similar`` and the API agree."""
        self._check_fitted()
        for n in np.argsort(-np.asarray(self.weights_), kind="stable"):
            model = self.models_.get(self.base_labels_[int(n)])
            if model is None:
                continue
            if (
                type(model).similar_items is not BaseRecommender.similar_items
                or model.item_embeddings() is not None
            ):
                return model.similar_items(item, k)
        raise ConfigError(
            f"{self.name}: none of its weighted bases ({', '.join(self.base_labels_)}) has item vectors or item "
            "weights, so it has no 'similar'"
        )

    def base_weights(self) -> dict[str, float]:
        """Each base's weight, by label."""
        self._check_fitted()
        return {label: float(w) for label, w in zip(self.base_labels_, self.weights_, strict=True)}

    # --- persistence: the ensemble's own state plus one saved folder per base with a weight --------
    def save(self, path: str | Path) -> Path:
        """Write the ensemble (``model.json``, ``arrays.npz``) and each weighted base into ``bases/<n>/``."""
        path = super().save(path)
        for n, label in enumerate(self.base_labels_):
            model = self.models_.get(label)
            if model is not None:
                model.save(path / "bases" / str(n))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Rebuild an ensemble saved by :meth:`save`, bases included."""
        from movierec.models.registry import get_class

        path = Path(path)
        model = super().load(path)
        labels = list(getattr(model, "base_labels_", None) or [])
        names = list(getattr(model, "base_names_", None) or [])
        if len(labels) != len(names) or len(labels) != len(model.weights_):
            raise ArtifactError(f"{path / 'model.json'}: the saved bases do not match the weights")
        model.models_ = {}
        for n, (label, name, w) in enumerate(zip(labels, names, model.weights_, strict=True)):
            folder = path / "bases" / str(n)
            if w > 0 and not folder.is_dir():
                raise ArtifactError(f"{folder}: base {label!r} is missing")
            model.models_[label] = get_class(name).load(folder) if w > 0 else None
        return model
