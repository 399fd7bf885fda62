"""Evaluation protocols, result rows, confidence intervals, paired comparison and ``compare``.

A protocol is a named object that decides the candidates, what counts as relevant and which
users count (docs/architecture.md, docs/protocols.md); every :class:`Result` row carries its name.
Metrics themselves are pure functions in :mod:`movierec.metrics`.
"""

from __future__ import annotations

import inspect
import json
import re
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeGuard, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movierec import metrics as M
from movierec import split as S
from movierec.errors import (
    ConfigError,
    Doors,
    NotFittedError,
    did_you_mean,
    framed,
    is_seed,
    refuses_foreign_keywords,
    some_of,
)
from movierec.interactions import (
    LOWER_THRESHOLD,
    IdMap,
    Interactions,
    assumes_threshold,
    distinct_pairs,
    no_positives,
    resolve_threshold,
    scale_threshold_note,
    without_ratings_note,
)
from movierec.jsonsafe import to_jsonable
from movierec.models.base import RatingPredictor, Recommender, fit_options, tags_of, topk, uses_item_features
from movierec.models.training import progress_only
from movierec.titles import outside_movierec

if TYPE_CHECKING:
    from movierec.datasets import Dataset
    from movierec.epoch_validation import EpochValidator

__all__ = [
    "PROTOCOLS",
    "SPLITS",
    "Comparison",
    "DroppedUsersWarning",
    "EvalOutput",
    "Protocol",
    "Result",
    "SampledMetricsWarning",
    "compare",
    "evaluate",
    "get_protocol",
    "make_split",
    "metric_curve",
    "paired_comparison",
    "score_split",
]

Progress = Callable[[dict[str, Any]], None]
"""Receives events ``{"event": "fit-start"|"epoch"|"step"|"fit-end"|"evaluate"|"note", "model": label, …}``;
a model whose fit is parts it names (the ensemble, ``models.training.say_step``) sends a step event as each
starts or ends, with its ``"words"`` ('fitting slim (base 2/4) on the hold-out') and ``"now"`` (a part that
starts: a line of its own in a log); a
fit-start of a model that learns from item features has ``"item_features": "genres+tags"``, so progress
names it as the tables do (:func:`shown_label`: ``ease+genres+tags``). A ranking protocol's evaluate event
(full-ranking, leave-last-out, sampled, test-candidates, next-item-in-session) comes again after each block
of users it scores,
with ``"scored"`` and ``"users"`` (``128`` of ``595``)."""

SPLITS = ("auto", *S.SPLIT_NAMES)  # auto: compare picks the hold-out the models' kinds call for
_BATCH = 1024
_N_BOOT = 1000
#: how the comparison's one early-stopping note begins (``report`` prints that note in the terminal too)
STOPPING_NOTE = "early stopping on validation"


class SampledMetricsWarning(UserWarning):
    """Sampled metrics can rank models differently from full ranking (Krichene & Rendle 2020)."""


class DroppedUsersWarning(UserWarning):
    """:func:`evaluate` scored fewer users than the test part holds: a ranking protocol counts only the
    users with a test rating ≥ the threshold (the same words as the row's note)."""


# --- shared helpers --------------------------------------------------------------------------


def _pairs_csr(inter: Interactions, rows: np.ndarray | None = None) -> sp.csr_matrix:
    """Binary users × items CSR of (some of) the log's pairs."""
    u = inter.users if rows is None else inter.users[rows]
    i = inter.items if rows is None else inter.items[rows]
    m = sp.csr_matrix((np.ones(len(u), dtype=np.float32), (u, i)), shape=inter.shape)
    m.sum_duplicates()
    m.data[:] = 1.0
    m.sort_indices()
    return m


def relevant_matrix(test: Interactions, threshold: float | None) -> sp.csr_matrix:
    """Test positives as a binary users × items CSR: ratings ≥ ``threshold`` (all test rows when ``None``)."""
    rows = None if threshold is None else np.flatnonzero(test.ratings >= threshold)
    return _pairs_csr(test, rows)


def _check_k(k: int, n_items: int) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"k must be a whole number ≥ 1, got {k!r}")
    if k > n_items:
        # each door names its own setting, and the fix: it said only "(5 items)", and "(1 items)"
        larger = f"is larger than the catalogue ({n_items:,} item{'s' * (n_items != 1)})"
        raise ConfigError(
            Doors(
                f"k={k!r} {larger}: use k={n_items} or fewer", f"--k {k} {larger}: use --k {n_items} or fewer"
            )
        )


def _scores(model: Recommender, users: np.ndarray) -> np.ndarray:
    """A writable float32 score block for ``users`` over every item."""
    s = np.asarray(model.score(users), dtype=np.float32)
    return s if s.flags.writeable and s.flags.owndata else s.copy()


#: users in the first block a full ranking scores; each next block is twice the last, up to :data:`_BATCH`
_PROBE = 64
Scored = Callable[[int, int], None]
"""Told ``(users scored so far, users to score)`` after each block of users a ranking protocol scores
(:func:`user_blocks`)."""


def user_blocks(users: np.ndarray, on_scored: Scored | None) -> Iterator[tuple[int, np.ndarray]]:
    """``users`` in blocks to score, telling ``on_scored`` the count after each: :data:`_PROBE` users, then
    twice as many each block up to :data:`_BATCH` (64, 128, 256, …). knn-baseline scores ml-latest-small's
    595 test users in about 8 s, which was one block of :data:`_BATCH` and one silent 'evaluating
    full-ranking' line; now its count moves after about 1, 2 and 3 s. The blocks never depend on timing, so
    a rerun scores the same blocks (a user's scores do not depend on the block: svd, ease, als, itemknn,
    knn-baseline alike, tested), and a fast model's few extra blocks cost little."""
    start, size = 0, _PROBE
    while start < len(users):
        yield start, users[start : start + size]
        start += size
        if on_scored is not None:
            on_scored(min(start, len(users)), len(users))
        size = min(_BATCH, 2 * size)


def _mask_seen(scores: np.ndarray, seen: sp.csr_matrix, users: np.ndarray) -> None:
    """Set the users' training items to −inf in place (they are not candidates)."""
    block = seen[users]
    rows = np.repeat(np.arange(len(users)), np.diff(block.indptr))
    scores[rows, block.indices] = -np.inf


def _is_explicit(model: Recommender) -> TypeGuard[RatingPredictor]:
    return tags_of(model).predicts_ratings and hasattr(model, "predict")


# --- protocol outputs ------------------------------------------------------------------------


@dataclass
class EvalOutput:
    """What a protocol measured: aggregate metrics, per-user values (aligned with ``users``), timing."""

    metrics: dict[str, float]
    per_user: dict[str, np.ndarray] = field(default_factory=dict)
    users: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    score_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    recs: np.ndarray | None = None  # full ranking: the top-K lists of ``users`` (for beyond-accuracy metrics)
    relevant: sp.csr_matrix | None = None  # full ranking: the users' test positives
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)  # intervals not from per_user
    #: pooled over K ≥ 2 folds: how many distinct users ``users``' (user, fold) units are, and each
    #: fold's own metrics (``None`` for one fold: ``len(users)`` users, ``metrics`` is the fold's)
    distinct_users: int | None = None
    fold_metrics: list[dict[str, float]] | None = None
    #: pooled over folds: the user of each unit; the bootstrap resamples users with all their units
    unit_users: np.ndarray | None = None
    #: with per-group metrics (:func:`movierec.beyond.extend_output`): each family's label per user of
    #: ``users``, as that fold's groups had them, so :func:`_pool` can split the pooled units by group
    groups: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def of_users(
        cls, per_user: dict[str, np.ndarray], users: np.ndarray, seconds: float, notes: Sequence[str] = ()
    ) -> EvalOutput:
        """An output whose metrics are the per-user values' means (every protocol but full ranking's)."""
        metrics = {m: float(v.mean()) for m, v in per_user.items()}
        return cls(metrics, per_user, users, seconds, list(notes))


@dataclass(frozen=True)
class EvalOptions:
    """What :meth:`Protocol.evaluate` passes every protocol's ``_evaluate``: cut-off, relevance threshold, seed."""

    k: int = 10
    threshold: float | None = 4.0
    seed: int = 42
    #: a ranking protocol's count of users scored, after each block (compare's and report's progress lines)
    on_scored: Scored | None = None

    @property
    def floor(self) -> float:
        """The lowest relevant rating (``-inf`` without a threshold: every test item is relevant)."""
        return -np.inf if self.threshold is None else self.threshold


class Protocol:
    """Base class: a named evaluation protocol (candidates, relevance, which users count)."""

    name: ClassVar[str] = "protocol"
    ranking: ClassVar[bool] = True
    description: ClassVar[str] = ""

    def skip_reason(self, model: Recommender) -> str | None:
        """Why this protocol does not apply to ``model`` (``None`` when it does)."""
        return None

    def data_skip_reason(self, test: Interactions, threshold: float | None) -> str | None:
        """Why this protocol cannot tell models apart on this test set (``None`` when it can)."""
        return None

    def evaluate(
        self,
        model: Recommender,
        train: Interactions,
        test: Interactions,
        *,
        k: int = 10,
        threshold: float | None = 4.0,
        seed: int = 42,
        on_scored: Scored | None = None,
    ) -> EvalOutput:
        """Measure ``model`` (fitted on ``train``) on ``test``: the protocol's :meth:`_evaluate` with these options.

        The one public signature of every protocol (a template method: subclasses implement ``_evaluate``).
        ``on_scored(n, of)``: how many users a ranking protocol (full-ranking, leave-last-out, sampled,
        test-candidates, next-item-in-session) has scored, told after each block of them."""
        opts = EvalOptions(k=k, threshold=threshold, seed=seed, on_scored=on_scored)
        return self._evaluate(model, train, test, opts)

    def _evaluate(
        self, model: Recommender, train: Interactions, test: Interactions, opts: EvalOptions
    ) -> EvalOutput:
        raise NotImplementedError


class RatingProtocol(Protocol):
    """RMSE, MAE and MSE of predicted ratings over every test rating, and FCP over each user's test
    pairs (explicit models only): Surprise's ``accuracy`` measures, with its definitions.

    No bootstrap intervals, as Surprise gives none: RMSE is not a mean of per-user values, and FCP
    averages concordant and discordant counts over different users (:func:`movierec.metrics.fcp`).
    ``per_user`` keeps each user's mean squared and absolute error and their concordant and
    discordant pair counts (Surprise's tie rule); pooled over folds, every rating metric is the
    mean of the folds' values, as Surprise's ``cross_validate`` reports it.
    """

    name = "rating"
    ranking = False
    description = "RMSE/MAE/MSE over all test ratings, FCP over each user's pairs"

    def skip_reason(self, model: Recommender) -> str | None:
        if not _is_explicit(model):
            return f"{getattr(model, 'name', model)} is an implicit model (no rating predictions), so no RMSE/MAE"
        return None

    def _evaluate(
        self, model: Recommender, train: Interactions, test: Interactions, opts: EvalOptions
    ) -> EvalOutput:
        if test.n_ratings == 0:
            raise ConfigError("the test set is empty, so there is nothing to score")
        if not _is_explicit(model):
            raise ConfigError(f"{model.name} is an implicit model (no rating predictions), so no RMSE/MAE")
        t0 = time.perf_counter()
        pred = predict_ratings(model, test)
        secs = time.perf_counter() - t0
        err = pred - test.ratings.astype(np.float64)
        users, inv = np.unique(test.users, return_inverse=True)
        n = np.bincount(inv).astype(np.float64)
        _, nc, nd = M.concordant_pairs(pred, test.ratings, test.users)  # same sorted users
        per_user = {
            "squared_error": np.bincount(inv, weights=err**2) / n,
            "absolute_error": np.bincount(inv, weights=np.abs(err)) / n,
            "concordant_pairs": nc,
            "discordant_pairs": nd,
        }
        metrics = {
            "rmse": M.rmse(pred, test.ratings),
            "mae": M.mae(pred, test.ratings),
            "mse": M.mse(pred, test.ratings),
            "fcp": M.fcp_from_counts(nc, nd),
        }
        return EvalOutput(metrics, per_user, users.astype(np.int32), secs)


def predict_ratings(model: RatingPredictor, test: Interactions, rows: np.ndarray | None = None) -> np.ndarray:
    """``model.predict`` on the test pairs (``rows`` of them); a model whose predictions use time
    (``predicts_with_time``: bayesian-fm's timeSVD++ features) also gets the ratings' timestamps."""
    users, items = (test.users, test.items) if rows is None else (test.users[rows], test.items[rows])
    if getattr(model, "predicts_with_time", False) and test.timestamps is not None:
        ts = test.timestamps if rows is None else test.timestamps[rows]
        return np.asarray(model.predict(users, items, timestamps=ts), dtype=np.float64)
    return np.asarray(model.predict(users, items), dtype=np.float64)


class TestCandidatesProtocol(Protocol):
    """The reference notebook's protocol: rank each user's own test items by predicted rating.

    Candidates = the user's test items; relevant = those rated ≥ threshold; users without a
    relevant item are skipped; P@K = hits/K, R@K = hits/|relevant|, hit-rate = share with a hit.
    Explicit models rank by ``predict`` (clipped, as Surprise's estimates), others by ``score``;
    ties keep test-set order (a stable sort, as Python's ``sorted`` in the notebook).
    """

    name = "test-candidates"
    description = "candidates = the user's test items (optimistic; the notebook's)"

    def data_skip_reason(self, test: Interactions, threshold: float | None) -> str | None:
        """Every test item relevant (an implicit split holds positives only), or every scored user's (the
        leave-last-out split's one test movie each): every model scores the same. ``compare --split
        leave-last-out`` printed P@10 0.1000, R@10 1.0000, HR@10 1.0000 and a ★ for every model."""
        thr = -np.inf if threshold is None else threshold
        if not test.n_ratings:
            return None
        rel = test.ratings >= thr
        n_items = np.bincount(test.users, minlength=test.n_users)
        n_rel = np.bincount(test.users[rel], minlength=test.n_users)
        scored = n_rel > 0
        if not (scored.any() and np.array_equal(n_rel[scored], n_items[scored])):
            return None
        same = "so ranking a user's own test items gives every model the same figures"
        if int(n_items[scored].max()) == 1:
            return f"each user has one test item on this split, their whole candidate list, {same}"
        if bool(np.all(rel)):
            return f"every test item is relevant (the split holds positives only), {same}"
        return f"every user it scores has only relevant test items, {same}"

    def _evaluate(
        self, model: Recommender, train: Interactions, test: Interactions, opts: EvalOptions
    ) -> EvalOutput:
        k, threshold = opts.k, opts.threshold
        _check_k(k, test.n_items)
        rel = test.ratings >= opts.floor
        n_rel = np.bincount(test.users, weights=rel, minlength=test.n_users)
        users = np.flatnonzero(n_rel > 0).astype(np.int32)
        if len(users) == 0:
            said = f"relevance threshold {threshold} leaves no relevant test items"
            raise ConfigError(framed(LOWER_THRESHOLD, lambda fix: f"{said}; {fix}"))
        keep = n_rel[test.users] > 0
        rows = np.flatnonzero(keep)
        t0 = time.perf_counter()
        est = self._estimates(model, test, rows, opts.on_scored)
        secs = time.perf_counter() - t0
        u = test.users[rows]
        order = np.lexsort((np.arange(len(rows)), -est, u))  # by user, best estimate first, then test order
        u_sorted = u[order]
        starts = np.searchsorted(u_sorted, u_sorted, side="left")
        rank = np.arange(len(order)) - starts
        top = rank < k
        hit_rows = order[top & rel[rows][order]]
        n_hits = np.bincount(u[hit_rows], minlength=test.n_users)[users].astype(np.float64)
        nrel = n_rel[users]
        per_user = {
            f"precision@{k}": n_hits / k,
            f"recall@{k}": n_hits / nrel,
            f"hit_rate@{k}": (n_hits > 0).astype(np.float64),
        }
        return EvalOutput.of_users(per_user, users, secs)

    @staticmethod
    def _estimates(
        model: Recommender, test: Interactions, rows: np.ndarray, on_scored: Scored | None = None
    ) -> np.ndarray:
        """Each test row's estimate: a rating predictor's ``predict`` on every row at once (``on_scored`` told
        once, after it: it takes 0.05 s for knn-baseline's 595 users on ml-latest-small), other models' scores
        a block of users at a time (:func:`user_blocks`, telling ``on_scored`` after each block, as the
        full ranking does)."""
        if _is_explicit(model):
            est = predict_ratings(model, test, rows)
            if on_scored is not None:
                n = len(np.unique(test.users[rows]))
                on_scored(n, n)
            return est
        est = np.empty(len(rows), dtype=np.float64)
        order = np.argsort(test.users[rows], kind="stable")
        su, si = test.users[rows][order], test.items[rows][order]
        for _, batch in user_blocks(np.unique(su), on_scored):
            s = _scores(model, batch)
            lo, hi = np.searchsorted(su, batch[0]), np.searchsorted(su, batch[-1], side="right")
            est[order[lo:hi]] = s[np.searchsorted(batch, su[lo:hi]), si[lo:hi]]
        return est


class FullRankingProtocol(Protocol):
    """Rank every catalogue item the user did not interact with in training; relevant = test positives.

    The catalogue is the shared item map (as LightFM's evaluator ranks every item); users with no
    test positive are skipped. P@K, R@K, HR@K, NDCG@K, MAP@K, MRR (over the full ranking),
    novelty@K per user; catalogue coverage@K overall; AUC when asked (``auc=True``).
    """

    name = "full-ranking"
    description = "candidates = every item not in the user's training interactions"
    _metrics: ClassVar[tuple[str, ...]] = ("precision", "recall", "hit_rate", "ndcg", "map", "mrr", "novelty")

    def __init__(
        self, reranker: Any = None, item_genres: sp.csr_matrix | None = None, auc: bool = False
    ) -> None:
        """``reranker`` (a :class:`movierec.rerank.Reranker`) rebuilds each top-K list from the model's scores;
        MRR stays the model's own full ranking. ``item_genres``: items × genres, for genre-aware re-rankers.

        ``auc`` adds each user's ROC AUC over the whole candidate ranking (:func:`movierec.metrics.auc_full`:
        LightFM's ``auc_score``, ties counted ½), always the model's own ranking. Opt-in, not a default
        metric: it needs a full sort of every user's scores where the top-K lists need a partition, which
        made ``compare()`` of its three default models on ml-latest-small 10 % slower (41 of 410 ms)."""
        self.reranker = reranker
        self.item_genres = item_genres
        self.auc = auc

    def _relevant(self, test: Interactions, threshold: float | None) -> sp.csr_matrix:
        return relevant_matrix(test, threshold)

    def rank(
        self, model: Recommender, train: Interactions, test: Interactions, *, k: int, threshold: float | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, sp.csr_matrix, float]:
        """Top-``k`` lists and full-ranking reciprocal ranks of the evaluated users (batched scoring + argpartition)."""
        users, recs, rr, _, rel_u, secs = self._rank(model, train, test, k=k, threshold=threshold, auc=False)
        return users, recs, rr, rel_u, secs

    def _rank(
        self,
        model: Recommender,
        train: Interactions,
        test: Interactions,
        *,
        k: int,
        threshold: float | None,
        auc: bool,
        on_scored: Scored | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, sp.csr_matrix, float]:
        """:meth:`rank` and, with ``auc``, each user's AUC over the same scores (``None`` without);
        ``on_scored`` is told the count of users scored after each block (:func:`user_blocks`)."""
        _check_k(k, train.n_items)
        rel = self._relevant(test, threshold)
        users = np.flatnonzero(np.diff(rel.indptr) > 0).astype(np.int32)
        if len(users) == 0:
            said = f"relevance threshold {threshold} leaves no test positives, so there is nothing to rank"
            raise ConfigError(framed(LOWER_THRESHOLD, lambda fix: f"{said}; {fix}"))
        seen = _pairs_csr(train)
        rel_u = rel[users]
        recs = np.empty((len(users), k), dtype=np.int32)
        rr = np.empty(len(users), dtype=np.float64)
        aucs = np.empty(len(users), dtype=np.float64) if auc else None
        info = None
        if self.reranker is not None:
            from movierec.beyond import item_info

            info = item_info(model, train, self.item_genres)
        t0 = time.perf_counter()
        for start, batch in user_blocks(users, on_scored):
            s = _scores(model, batch)
            _mask_seen(s, seen, batch)
            if info is None:
                recs[start : start + len(batch)] = topk(s, k)[0]
            else:
                recs[start : start + len(batch)] = self.reranker.rerank(s, k, seen[batch], info)
            rr[start : start + len(batch)] = M.reciprocal_rank_full(s, rel_u[start : start + len(batch)])
            if aucs is not None:
                aucs[start : start + len(batch)] = M.auc_full(
                    s, rel_u[start : start + len(batch)], seen[batch]
                )
        return users, recs, rr, aucs, rel_u, time.perf_counter() - t0

    def _evaluate(
        self, model: Recommender, train: Interactions, test: Interactions, opts: EvalOptions
    ) -> EvalOutput:
        k = opts.k
        users, recs, rr, aucs, rel_u, secs = self._rank(
            model, train, test, k=k, threshold=opts.threshold, auc=self.auc, on_scored=opts.on_scored
        )
        per_user = M.ranking_metrics(recs, rel_u)
        per_user = {f"{m}@{k}": v for m, v in per_user.items() if m in self._metrics and m != "mrr"}
        per_user["mrr"] = rr
        if aucs is not None:
            per_user["auc"] = aucs
        metrics = {m: float(v.mean()) for m, v in per_user.items()}
        if "novelty" in self._metrics:
            # users per item, each (user, item) pair once: a log that repeats a pair (plays) counts it once
            pairs = distinct_pairs(train.users, train.items, train.n_items)
            pop = np.bincount(pairs % train.n_items, minlength=train.n_items)
            per_user[f"novelty@{k}"] = M.novelty(recs, pop, int((train.user_counts() > 0).sum()))
            metrics[f"novelty@{k}"] = float(per_user[f"novelty@{k}"].mean())
            metrics[f"coverage@{k}"] = M.catalog_coverage(recs, train.n_items)
        return EvalOutput(metrics, per_user, users, secs, recs=recs, relevant=rel_u)


#: the split a protocol needs, as a notebook (``compare(split=...)``) and the CLI (``--split``) name it, each
#: door its own (a :class:`Doors`, put in a message by :func:`framed`; one line named both)
_LEAVE_LAST_OUT_SPLIT = Doors("split='leave-last-out'", "--split leave-last-out")
_LAST_SESSION_SPLIT = Doors("split='last-session'", "--split last-session")
_SESSION_PROTOCOL = Doors("protocols=['next-item-in-session']", "--protocols next-item-in-session")
#: a validation part given beside the training and test parts (RecBole's valid), as each door spells it
_GIVEN_VALID = Doors("split=(train, valid, test)", "--valid FILE")


class LeaveLastOutProtocol(FullRankingProtocol):
    """Sequence-model protocol: each user's latest interaction is the single test item; HR@K, NDCG@K, MRR over the full ranking.

    Needs the ``leave-last-out`` split (one test item per user); the threshold does not apply.
    """

    name = "leave-last-out"
    description = "the user's last interaction, ranked against every unseen item"
    _metrics = ("hit_rate", "ndcg", "mrr")

    def _evaluate(
        self, model: Recommender, train: Interactions, test: Interactions, opts: EvalOptions
    ) -> EvalOutput:
        counts = test.user_counts()
        if counts.max(initial=0) > 1:
            needs = "the leave-last-out protocol needs the leave-last-out split, one test item per user"
            raise ConfigError(framed(_LEAVE_LAST_OUT_SPLIT, lambda split: f"{needs} ({split})"))
        return super()._evaluate(model, train, test, replace(opts, threshold=None))


def _threshold(protocol: str, split: str, threshold: float | None) -> float | None:
    """The relevance threshold a protocol applies: none under leave-last-out, where the next item is relevant.

    The leave-last-out split's ranking rows too (the caption's 'relevance the next item', and its note's 'the
    test item whatever its value'): its full-ranking rows counted only the users whose latest rating was ≥ 4
    (ml-latest-small: 362 of 610), with nothing on screen to say so."""
    if protocol in ("leave-last-out", "next-item-in-session") or (
        split == "leave-last-out" and protocol in ("sampled", "full-ranking", "test-candidates")
    ):
        return None
    return threshold


class SampledProtocol(Protocol):
    """Rank each test positive against 100 sampled unseen negatives (HR@K, NDCG@K; He et al. 2017's NCF protocol).

    Only for comparison with papers that use it: sampled metrics can rank models wrongly
    (Krichene & Rendle 2020, "On Sampled Metrics for Item Recommendation").
    """

    name = "sampled"
    description = "100 sampled negatives per positive (can mislead: Krichene & Rendle 2020)"
    n_negatives: int = 100

    @property
    def caution(self) -> str:
        """The SampledMetricsWarning's text: evaluating under this protocol warns it once."""
        return (
            f"sampled metrics ({self.n_negatives} negatives per positive) can rank models differently from "
            "full ranking (Krichene & Rendle 2020); use full-ranking for decisions"
        )

    def _evaluate(
        self, model: Recommender, train: Interactions, test: Interactions, opts: EvalOptions
    ) -> EvalOutput:
        n_items, k, threshold = train.n_items, opts.k, opts.threshold
        _check_k(k, self.n_negatives + 1)
        warnings.warn(self.caution, SampledMetricsWarning, stacklevel=outside_movierec())
        pos_rows = np.flatnonzero(test.ratings >= opts.floor)
        if len(pos_rows) == 0:
            said = f"relevance threshold {threshold} leaves no test positives"
            raise ConfigError(framed(LOWER_THRESHOLD, lambda fix: f"{said}; {fix}"))
        order = pos_rows[np.argsort(test.users[pos_rows], kind="stable")]
        pu, pi = test.users[order].astype(np.int64), test.items[order].astype(np.int64)
        excluded = (_pairs_csr(train) + relevant_matrix(test, threshold)).tocsr()
        excluded.sort_indices()
        ex_keys = (
            np.repeat(np.arange(excluded.shape[0], dtype=np.int64), np.diff(excluded.indptr)) * n_items
            + excluded.indices
        )
        free = n_items - np.diff(excluded.indptr)[pu]
        if (free < self.n_negatives).any():
            raise ConfigError(
                f"some users have fewer than {self.n_negatives} unseen items to sample negatives from"
            )
        rng = np.random.default_rng(opts.seed)
        negs = rng.integers(0, n_items, size=(len(pu), self.n_negatives))
        for _ in range(1000):  # resample clashes with the user's known items (vectorised rejection)
            keys = pu[:, None] * n_items + negs
            pos = np.searchsorted(ex_keys, keys)
            bad = ex_keys[np.minimum(pos, len(ex_keys) - 1)] == keys
            if not bad.any():
                break
            negs[bad] = rng.integers(0, n_items, size=int(bad.sum()))
        users = np.unique(pu).astype(np.int32)
        rank = np.empty(len(pu), dtype=np.float64)
        t0 = time.perf_counter()
        for _, batch in user_blocks(users, opts.on_scored):  # knn-baseline: about 7 s on ml-latest-small
            s = _scores(model, batch)
            lo, hi = np.searchsorted(pu, batch[0]), np.searchsorted(pu, batch[-1], side="right")
            row = np.searchsorted(batch, pu[lo:hi])
            target = s[row, pi[lo:hi]]
            neg_scores = s[row[:, None], negs[lo:hi]]
            # ties as every list settles them (score, then movie index): a negative tied with the
            # positive at a lower index ranks above it, so a constant model does not hit every time
            ahead = (neg_scores == target[:, None]) & (negs[lo:hi] < pi[lo:hi, None])
            rank[lo:hi] = ((neg_scores > target[:, None]) | ahead).sum(axis=1)
        secs = time.perf_counter() - t0
        hit = (rank < k).astype(np.float64)
        gain = np.where(rank < k, 1.0 / np.log2(rank + 2.0), 0.0)
        inv = np.searchsorted(users, pu)
        cnt = np.bincount(inv).astype(np.float64)
        per_user = {
            f"hit_rate@{k}": np.bincount(inv, weights=hit) / cnt,
            f"ndcg@{k}": np.bincount(inv, weights=gain) / cnt,
        }
        return EvalOutput.of_users(per_user, users, secs, [self.caution])


class NextItemInSessionProtocol(Protocol):
    """Session-based protocol (Hidasi et al. 2016): every next item of each user's latest session,
    predicted from the session so far (the model's own fold-in of the prefix); HR@K, NDCG@K, MRR@K
    per event, averaged per user. Needs the ``last-session`` split; see :mod:`movierec.session_eval`.
    """

    name = "next-item-in-session"
    description = "each next item of the user's latest session, from the session so far"

    def skip_reason(self, model: Recommender) -> str | None:
        if not callable(getattr(model, "score_new_user", None)):
            return f"{getattr(model, 'name', model)} cannot score a session it was not trained on"
        return None

    def _evaluate(
        self, model: Recommender, train: Interactions, test: Interactions, opts: EvalOptions
    ) -> EvalOutput:
        from movierec.session_eval import MAX_EVENTS, session_cases, session_events

        cases = session_cases(test)
        if not cases:
            raise ConfigError(
                framed(
                    _LAST_SESSION_SPLIT, lambda s: f"next-item-in-session needs the last-session split ({s})"
                )
            )
        t0 = time.perf_counter()
        # each user's session scored alone (a fold-in per event: 2,904 prefixes of 277 users on
        # ml-latest-small, 17-21 s for gru4rec), counted in the full ranking's blocks of 64, 128, 256, …
        # users (:func:`user_blocks`): compare's line read 'evaluating next-item-in-session' and no count
        parts = [
            session_events(model, [cases[i] for i in block], k=opts.k, max_events=MAX_EVENTS)
            for _, block in user_blocks(np.arange(len(cases)), opts.on_scored)
        ]
        per_user = {m: np.concatenate([part[0][m] for part in parts]) for m in parts[0][0]}
        users = np.concatenate([part[1] for part in parts])
        n_events = sum(part[2] for part in parts)
        note = f"next-item-in-session: {n_events} events in {len(users)} sessions (first {MAX_EVENTS} each)"
        return EvalOutput.of_users(per_user, users, time.perf_counter() - t0, [note])


PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        RatingProtocol(),
        TestCandidatesProtocol(),
        FullRankingProtocol(),
        SampledProtocol(),
        LeaveLastOutProtocol(),
        NextItemInSessionProtocol(),
    )
}


#: metrics typed where a protocol goes (``--protocols rmse``), by the protocol that reports them
_METRIC_PROTOCOL = {
    **dict.fromkeys(("rmse", "mae", "mse", "fcp"), "rating"),
    **dict.fromkeys("ndcg precision p recall r hit-rate hr map mrr coverage novelty".split(), "full-ranking"),
}


def _protocol_hint(key: str) -> str:
    """What a name that is no protocol most likely meant, where spelling distance guesses wrong: 'ranking'
    is nearest 'rating' by difflib, but it is the word full-ranking is named by; a metric ('rmse',
    'ndcg@10') names the protocol that reports it. ``""`` for anything else (:func:`did_you_mean`'s turn)."""
    if key == "ranking":
        return " (did you mean 'full-ranking'?)"
    metric = key.split("@", 1)[0]
    if metric in _METRIC_PROTOCOL:
        return f" (a metric, not a protocol: {_METRIC_PROTOCOL[metric]!r} reports it)"
    return ""


def get_protocol(name: str | Protocol) -> Protocol:
    """A protocol by name (``rating``, ``test-candidates``, ``full-ranking``, ``sampled``, ``leave-last-out``,
    ``next-item-in-session``)."""
    if isinstance(name, Protocol):
        return name
    # full_ranking reads as full-ranking, as an experiment file's protocols do
    key = str(name).strip().lower().replace("_", "-")
    if key == "cold-users":  # in docs/protocols.md's table, yet a run of its own: compare called it unknown
        said = (
            "cold-users is not a compare protocol: it holds users out whole and reveals their ratings; run "
        )
        raise ConfigError(
            Doors(
                said + "movierec.cold_users.cold_users(dataset, models) (docs/new-users.md)",
                said + "movierec cold-users (docs/new-users.md)",
            )
        )
    if key not in PROTOCOLS:
        hint = _protocol_hint(key) or did_you_mean(name, PROTOCOLS)
        said = f"unknown protocol {name!r}{hint}; "
        raise ConfigError(
            Doors(  # where each door lists them: a notebook has no --help to read
                said + some_of(PROTOCOLS, "movierec.evaluation.PROTOCOLS", guessed=bool(hint)),
                said + some_of(PROTOCOLS, "movierec compare --help", guessed=bool(hint)),
            )
        )
    return PROTOCOLS[key]


# --- result rows -----------------------------------------------------------------------------


@dataclass
class Result:
    """One row of a comparison: a model evaluated under one protocol, with everything needed to trust it.

    ``per_user`` (metric → values aligned with ``users``) stays in memory for paired
    comparisons and is not serialised.
    """

    model: str
    kind: str
    protocol: str
    dataset: str
    dataset_sha256: str
    split: str
    seed: int
    k: int
    threshold: float | None
    params: dict[str, Any]
    metrics: dict[str, float]
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    n_users: int = 0
    fit_seconds: float = 0.0
    score_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    label: str = ""
    folds: int | None = None
    #: with K ≥ 2 folds, each fold's own metrics (``by_fold`` in :meth:`to_dict`, ``*_std`` in
    #: :meth:`Comparison.frame`, as Surprise's ``cross_validate`` reports a mean and std per measure)
    fold_metrics: list[dict[str, float]] = field(default_factory=list, repr=False)
    per_user: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    users: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: pooled over K ≥ 2 folds: the user of each (user, fold) unit in ``users`` (``None`` for one
    #: split); intervals and :func:`paired_comparison` resample these users with all of their units
    unit_users: np.ndarray | None = field(default=None, repr=False, compare=False)
    # full ranking: the top-K lists of ``users`` (for the report's charts; not serialised)
    recs: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: the raw userId of each entry of ``per_user`` and, pooled over folds, its fold (``per_user_frame``)
    user_ids: np.ndarray | None = field(default=None, repr=False, compare=False)
    user_folds: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: early stopping (``compare(..., early_stopping=…)``): the epoch count chosen on the validation part
    #: (the mean over folds, rounded, under ``cv``), the stopping metric's best validation score there (mean
    #: over folds) and what was done (``stopping``: the setting, each fold's epochs, the refit); ``None``/
    #: empty for a model that did not stop early
    best_epoch: int | None = None
    valid_score: float | None = None
    stopping: str = ""
    #: the item features the model learned from, by name (``"genres,tags"``; ``"features"`` for a matrix
    #: given in Python); ``None`` when it learned from none (none given, or a model that ignores them)
    item_features: str | None = None

    @classmethod
    def measured(cls, out: EvalOutput, bootstrap: bool, user_map: IdMap | None = None, **row: Any) -> Result:
        """The row of a protocol's output (one fold's, or pooled over folds): its metrics, per-user values,
        notes and timing, 95% bootstrap intervals over users when ``bootstrap`` (plus the output's own), and
        ``row``'s identity and provenance fields. ``user_map`` (the split's) names each per-user value's user."""
        cis = _intervals(out.per_user, row["seed"], True, clusters=out.unit_users) if bootstrap else {}
        ids = folds = None
        owners = out.users if out.unit_users is None else out.unit_users
        if user_map is not None and len(owners) and int(np.max(owners)) < len(user_map):
            ids = user_map.to_raw(np.asarray(owners, dtype=np.int64))
            if out.unit_users is not None:  # pooled units are keyed fold·n_users + user (_pool)
                folds = (np.asarray(out.users, dtype=np.int64) - out.unit_users) // len(user_map)
        return cls(
            **row,
            metrics=out.metrics,
            intervals=cis | out.intervals,
            # distinct users: pooled folds count each (user, fold) once in ``users`` and the per-user values
            n_users=len(out.users) if out.distinct_users is None else out.distinct_users,
            fold_metrics=list(out.fold_metrics or []),
            score_seconds=out.score_seconds,
            notes=list(out.notes),
            per_user=out.per_user,
            users=out.users,
            unit_users=out.unit_users,
            recs=out.recs,
            user_ids=ids,
            user_folds=folds,
        )

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.model

    def __repr__(self) -> str:
        from movierec.display import result_repr

        return result_repr(self)

    def _repr_html_(self) -> str:
        from movierec.display import result_html

        return result_html(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per metric: ``metric, value, lo, hi`` (the 95% interval, named as in
        :meth:`Comparison.to_frame`'s ``METRIC_lo``/``METRIC_hi``)."""
        from movierec.display import result_frame

        return result_frame(self)

    def per_user_frame(self) -> pd.DataFrame:
        """Every per-user value as a DataFrame indexed by raw ``userId`` (LensKit's
        ``RunAnalysisResult.list_metrics()``): one row per evaluated user, or per user and fold when pooled
        over folds (a ``fold`` column first; a ratings k-fold tests a user in several folds: ids repeat).

        Under a ranking protocol each column is a per-user metric and its mean is that metric in
        ``metrics`` (coverage, diversity and per-group figures are over all the lists: no column). Under
        ``rating`` the columns are each user's mean ``squared_error`` and ``absolute_error`` and their
        ``concordant_pairs`` and ``discordant_pairs``; ``metrics``' rmse and mae pool every test rating
        instead, so ``np.sqrt(frame["squared_error"]).mean()`` is LensKit's per-user RMSE, not ``rmse``.
        A row read from results.json has no per-user values (ConfigError)."""
        if self.user_ids is None:
            raise ConfigError(
                "this row has no per-user values by user (a row made before per_user_frame, or read from "
                "results.json, keeps only the aggregates)"
            )
        frame = pd.DataFrame(self.per_user, index=pd.Index(self.user_ids, name="userId"))
        if self.user_folds is not None:
            frame.insert(0, "fold", self.user_folds)
        return frame

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-ready row: identity fields, one key per metric, ``intervals`` and timings."""
        row: dict[str, Any] = {
            "model": self.label,
            "model_name": self.model,
            "item_features": self.item_features,
            "kind": self.kind,
            "protocol": self.protocol,
            "dataset": self.dataset,
            "dataset_sha256": self.dataset_sha256,
            "split": self.split,
            "seed": self.seed,
            "k": self.k,
            "threshold": self.threshold,
            "folds": self.folds,
        }
        row.update({m: _finite(v) for m, v in self.metrics.items()})
        row["intervals"] = {m: [_finite(lo), _finite(hi)] for m, (lo, hi) in self.intervals.items()}
        row.update(
            {
                "n_users": self.n_users,
                "fit_seconds": round(self.fit_seconds, 6),
                "score_seconds": round(self.score_seconds, 6),
                "params": _jsonable(self.params),
                "notes": list(self.notes),
            }
        )
        if len(self.fold_metrics) > 1:
            row["by_fold"] = {m: [_finite(f.get(m, np.nan)) for f in self.fold_metrics] for m in self.metrics}
        if self.stopping:  # only rows of a run that stopped models early carry these keys
            row["best_epoch"] = self.best_epoch
            row["valid_score"] = None if self.valid_score is None else _finite(self.valid_score)
            row["stopping"] = self.stopping
        return row

    def fold_std(self) -> dict[str, float]:
        """Each metric's standard deviation over the folds (``np.std``, as Surprise's ``cross_validate``
        prints it); empty with one fold."""
        if len(self.fold_metrics) < 2:
            return {}
        return {
            m: float(np.std([f[m] for f in self.fold_metrics]))
            for m in self.metrics
            if all(m in f for f in self.fold_metrics)
        }


def _finite(v: float) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


_jsonable = to_jsonable  # the one sanitiser (movierec.jsonsafe)


def _intervals(
    per_user: dict[str, np.ndarray], seed: int, ranking: bool, clusters: np.ndarray | None = None
) -> dict[str, tuple[float, float]]:
    if not ranking:
        return {}
    if clusters is not None:
        return _cluster_cis(per_user, clusters, seed)
    return M.bootstrap_cis(dict(per_user), n_boot=_N_BOOT, seed=seed)  # equal to bootstrap_ci per metric


def _cluster_cis(
    per_user: dict[str, np.ndarray], clusters: np.ndarray, seed: int, level: float = 0.95
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap of pooled means that resamples users, each with all of their (user, fold) units.

    Under k-fold CV a user is evaluated in up to k folds and those values move together; resampling
    the units as if independent made the interval too narrow (ml-latest-small, 5 folds, ease NDCG@10:
    0.0166 wide over units against 0.0274 over users). Each draw is Σ sums / Σ counts of the drawn users,
    so the point estimate stays the pooled mean over units.
    """
    ids, inv = np.unique(np.asarray(clusters), return_inverse=True)
    n = len(ids)
    names = [m for m, v in per_user.items() if len(v) == len(inv)]
    if not names:
        return {}
    # per user: the sum of each metric over their units, and their number of units
    sums = np.vstack(
        [np.bincount(inv, weights=np.asarray(per_user[m], dtype=np.float64), minlength=n) for m in names]
    )
    counts = np.bincount(inv, minlength=n).astype(np.float64)
    means = M.cluster_bootstrap_means(sums, counts, n_boot=_N_BOOT, rng=np.random.default_rng(seed))
    alpha = (1.0 - level) / 2.0
    out: dict[str, tuple[float, float]] = {}
    for j, m in enumerate(names):
        lo, hi = np.quantile(means[j], [alpha, 1.0 - alpha])
        vals = np.asarray(per_user[m], dtype=np.float64)
        point = float(vals.mean())
        out[m] = (float(min(lo, point)), float(max(hi, point)))
    return out


@refuses_foreign_keywords(
    {
        "measures": "evaluate reports every metric of its protocol (rating: rmse, mae, mse, fcp) in result.metrics",
        "metrics": "evaluate reports every metric of its protocol (rating: rmse, mae, mse, fcp) in result.metrics",
        "verbose": "evaluate prints nothing; print(result.metrics) shows the numbers",
    }
)
def evaluate(
    model: Recommender,
    train: Interactions,
    test: Interactions,
    protocol: str | Protocol = "full-ranking",
    *,
    k: int = 10,
    threshold: float | None = 4.0,
    seed: int = 42,
    dataset: Dataset | str = "",
    dataset_sha256: str = "",
    split: str = "",
    fit_seconds: float = 0.0,
    label: str | None = None,
    beyond: bool = False,
    item_genres: sp.csr_matrix | None = None,
    rerank: Any = None,
    user_groups: dict[str, np.ndarray] | None = None,
    intervals: bool = True,
    auc: bool = False,
    warn: bool = True,
    rank_by: str = "shrunk",
) -> Result:
    """Evaluate a fitted model on ``test`` under one protocol and return a :class:`Result` row (with bootstrap CIs).

    The one scoring path: compare, tune's objective, export's hold-out figures, the report and the
    benchmarks' quality checks all call this. ``intervals=False`` skips the bootstrap (a tuning
    trial needs the point value only). ``threshold``: a test rating at or above it is relevant (4.0, for
    star ratings); ``None`` makes every test row relevant, as ``implicit``'s ``ranking_metrics_at_k``
    reads a test matrix of confidences.

    ``train`` is not fitted on here (the model is scored as it was fitted). It says which movies each
    user already has: under ``full-ranking`` they are left out of the user's ranking (``sampled`` draws
    its negatives among the others), and novelty@K reads the movies' counts in it; ``rating`` and
    ``test-candidates`` do not read it. Give the ratings the model was fitted on (all of them, not
    only the positives an implicit model trained on, so a movie rated 2 is not recommended back).

    The ranking protocols (``full-ranking``, ``test-candidates``, ``sampled``) score only the users who
    have a relevant test rating: with the default threshold 4.0 a test user whose test ratings are all
    below 4 is left out (LensKit's fold 0 of ml-latest-small: 118 of its 122 users are scored). When
    some are, the row's ``notes`` say how many (the words of :func:`compare`'s note) and a
    :class:`DroppedUsersWarning` says it too (``warn=False``: the note only; tune's trials and export's
    figures score so); ``threshold=None`` scores every test user.

    Full ranking only: ``beyond`` adds the beyond-accuracy and per-group metrics
    (:func:`movierec.beyond.extend_output`), ``rerank`` (``"mmr:0.3"`` or a
    :class:`movierec.rerank.Reranker`) re-ranks each list; ``item_genres`` (items × genres) feeds both;
    ``auc`` adds ``auc``, each user's ROC AUC over the whole ranking (:func:`movierec.metrics.auc_full`,
    LightFM's ``auc_score``), opt-in because it sorts every user's scores.

    The row's provenance is always filled: ``dataset`` may be the :class:`Dataset` itself (name and
    checksum) and ``split`` defaults to the description :func:`make_split` gave these arrays.

    ``model`` is a fitted model or a fitted :class:`movierec.Recommender` (``rec.fit(train)``), whose
    model is scored and whose dataset names the row when ``dataset`` is not given (and reads DataFrame parts' raw ids: :func:`frame_part`). ``rank_by="prediction"`` ranks a rating predictor by its unclipped predicted rating (LensKit's way),
    not the support-shrunk score ``recommend`` ranks by (``"shrunk"``, :mod:`movierec.scoring.support`).
    """
    model, front_door_dataset, train, test = _given_model(model, train, test, warn)
    scored, ranked_by_prediction = _ranked(model, rank_by)
    if isinstance(dataset, str) and not dataset and front_door_dataset is not None:
        dataset = front_door_dataset
    where = _where(dataset, dataset_sha256, split, train, test)
    proto = _evaluated_protocol(model, protocol, rerank, item_genres, auc)
    out = _protocol_output(proto, scored, train, test, k=k, threshold=threshold, seed=seed)
    out.notes += [RANKED_BY_PREDICTION] if ranked_by_prediction and proto.ranking else []
    if beyond and proto.name == "full-ranking":
        from movierec.beyond import extend_output

        extend_output(
            out, model=model, train=train, k=k, seed=seed, genres=item_genres, user_groups=user_groups
        )
    if (dropped := _dropped_users_note(proto, test, threshold, out)) is not None:
        out.notes.append(dropped)
        if warn:
            warnings.warn(dropped, DroppedUsersWarning, stacklevel=outside_movierec())
    name = str(getattr(model, "name", type(model).__name__))
    params = model.get_params() if hasattr(model, "get_params") else {}
    return Result.measured(
        out,
        proto.ranking and intervals,
        train.user_map,
        model=name,
        kind=str(getattr(model, "kind", "implicit")),
        protocol=proto.name,
        **where,
        seed=seed,
        k=k,
        threshold=None if isinstance(proto, LeaveLastOutProtocol) else threshold,
        params=params,
        fit_seconds=fit_seconds,
        label=label
        or (f"{name}+{reranker.spec}" if (reranker := getattr(proto, "reranker", None)) else name),
    )


#: what a rating predictor's ranking protocols rank by (:func:`evaluate`'s ``rank_by``)
RANK_BY = ("shrunk", "prediction")
RANKED_BY_PREDICTION = (
    "ranked by the unclipped predicted rating (rank_by='prediction'), as LensKit ranks a rating scorer"
)


#: :func:`compare`'s note when some of its rows are ranked so, in each door's words (a :class:`Doors`)
RANKED_ROWS_NOTE = Doors(
    "the rating models' ranking rows are ranked by the unclipped predicted rating (rank_by='prediction'), "
    "as LensKit ranks a rating scorer, not by the support-shrunk score recommend and the API rank by",
    "the rating models' ranking rows are ranked by the unclipped predicted rating (--rank-by prediction), "
    "as LensKit ranks a rating scorer, not by the support-shrunk score recommend and the API rank by",
)


def _check_rank_by(rank_by: str) -> str:
    """``rank_by`` when it is one of :data:`RANK_BY`; else one :class:`ConfigError` naming them."""
    if rank_by not in RANK_BY:
        raise ConfigError(f"rank_by must be one of {', '.join(map(repr, RANK_BY))}, got {rank_by!r}")
    return rank_by


def _ranked(model: Recommender, rank_by: str) -> tuple[Recommender, bool]:
    """The model as ``rank_by`` ranks it, and whether that is a rating predictor's raw prediction."""
    if _check_rank_by(rank_by) == "prediction" and _is_explicit(model):
        return cast(Recommender, _RankedByPrediction(model)), True
    return model, False


class _RankedByPrediction:
    """A rating predictor whose ``score`` is its raw predicted rating (``predicted_scores``: unclipped, not
    shrunk by support); everything else is the model's own."""

    def __init__(self, model: Recommender) -> None:
        self._model = model

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        return np.asarray(self._model.predicted_scores(users, items), dtype=np.float32)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def score_split(
    model: Recommender,
    fit_train: Interactions,
    valid: Interactions,
    metric: M.Metric,
    *,
    threshold: float | None = 4.0,
) -> float:
    """Score a fitted model on held-out ratings with ``metric``: one call to :func:`movierec.evaluation.evaluate`.

    Rating metrics use the ``rating`` protocol; ranking metrics the ``full-ranking`` protocol
    (candidates = items the user did not rate in ``fit_train``, relevant = validation ratings ≥
    ``threshold``, every validation row when it is ``None``, users without a relevant item skipped). NaN when no validation rating is relevant,
    so one empty fold does not end a study. Tuning, compare (its early stopping), export and the report all
    score here; :func:`movierec.tuning.score_split` is this function.
    """
    if metric.name == "objective":  # a weighted objective (movierec.objective) scores itself
        return float(metric.score(model, fit_train, valid, threshold))  # type: ignore[attr-defined]

    if metric.kind == "rating":
        return float(evaluate(model, fit_train, valid, "rating", intervals=False).metrics[metric.name])
    if threshold is not None and not (valid.ratings >= threshold).any():
        return float("nan")
    k = int(metric.k or 10)
    result = evaluate(
        model,
        fit_train,
        valid,
        "full-ranking",
        k=k,
        threshold=threshold,
        intervals=False,
        auc=metric.name == "auc",  # opt-in: it sorts every user's scores
        warn=False,  # a validation fold's users without a positive are left out in every trial alike
    )
    if metric.name == "mrr" and metric.k is not None:  # MRR@K: the first hit within the top K, else 0
        assert result.recs is not None and result.users is not None  # full ranking keeps its lists
        return float(
            M.ranking_metrics(result.recs, relevant_matrix(valid, threshold)[result.users])["mrr"].mean()
        )
    return float(result.metrics[metric.result_key])


def _protocol_output(
    proto: Protocol, model: Recommender, train: Interactions, test: Interactions, **options: Any
) -> EvalOutput:
    """``proto.evaluate`` for :func:`evaluate`, the sampled protocol's warning raised at evaluate's caller's
    line: raised inside the protocol, it named a line of evaluate's own in the user's notebook."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SampledMetricsWarning)
        out = proto.evaluate(model, train, test, **options)
    if isinstance(proto, SampledProtocol):
        warnings.warn(proto.caution, SampledMetricsWarning, stacklevel=outside_movierec())
    return out


def _evaluated_protocol(
    model: Recommender, protocol: str | Protocol, rerank: Any, item_genres: sp.csr_matrix | None, auc: bool
) -> Protocol:
    """:func:`evaluate`'s protocol: refused where it does not apply to ``model``; full ranking re-built
    with the re-ranker, genres and AUC asked for."""
    proto = get_protocol(protocol)
    reason = proto.skip_reason(model)
    if reason:
        raise ConfigError(f"protocol {proto.name!r} does not apply: {reason}")
    if auc and proto.name != "full-ranking":
        raise ConfigError(f"auc=True measures the full ranking; protocol {proto.name!r} has no AUC")
    if (rerank is not None or auc) and proto.name == "full-ranking":
        from movierec.rerank import parse_rerank

        reranker = parse_rerank(rerank) if rerank is not None else getattr(proto, "reranker", None)
        genres = item_genres if item_genres is not None else getattr(proto, "item_genres", None)
        proto = FullRankingProtocol(reranker, genres, auc=auc or bool(getattr(proto, "auc", False)))
    return proto


def _dropped_users_note(
    proto: Protocol, test: Interactions, threshold: float | None, out: EvalOutput
) -> str | None:
    """What :func:`evaluate` says when a ranking protocol scored fewer users than ``test`` holds: those
    without a test rating ≥ ``threshold`` (118 of LensKit's fold 0's 122 users were scored, with nothing
    to say so). ``None`` when every test user counts, or the protocol counts by its own rules (rating,
    leave-last-out, next-item-in-session)."""
    if proto.name not in ("full-ranking", "test-candidates", "sampled") or threshold is None:
        return None
    tested = int(np.unique(test.users).size)
    without = tested - len(out.users)
    if without <= 0:
        return None
    return (
        f"users: {proto.name} {len(out.users):,} of the {tested:,} test users: a ranking protocol counts only "
        f"users with a test rating ≥ {threshold:g} ({without:,} {'has' if without == 1 else 'have'} none; "
        "threshold=None counts every test row)"
    )


def _frame_parts(model: Any, train: Any, test: Any) -> tuple[Any, Any]:
    """:func:`evaluate`'s parts, a DataFrame among them read with the Recommender's dataset's ids
    (:func:`frame_part`); a bare model, which keeps no dataset to read raw ids by, is refused so. It said
    "'DataFrame' object has no attribute 'n_ratings'"."""
    if not any(isinstance(p, pd.DataFrame) for p in (train, test)):
        return train, test
    data = getattr(getattr(model, "dataset", None), "interactions", None)
    if not isinstance(data, Interactions):
        raise ConfigError(
            f"evaluate() reads a DataFrame's raw ids by a Recommender's dataset; a bare "
            f"{type(model).__name__} has none: give it a Recommender, or Interactions: {S.FRAME_AS_PART}"
        )
    read = _read_frames(data, (train, test))
    return read[0], read[1]


def _given_model(
    model: Any, train: Any, test: Any, warn: bool
) -> tuple[Recommender, Dataset | None, Interactions, Interactions]:
    """:func:`evaluate`'s model to score and its Recommender's dataset (:func:`_scored_model`), once what it
    was given is checked: a Dataset in a part's place is refused in one line (``evaluate(rec, ds, ds)`` said
    "no attribute 'n_ratings'"), and a Recommender fitted on the test part's ratings is warned about
    (:func:`_test_in_fitted_data`); with the parts, a DataFrame among them read by :func:`_frame_parts`."""
    train, test = _frame_parts(model, train, test)
    for part, given in (("train", train), ("test", test)):
        if isinstance(getattr(given, "interactions", None), Interactions):
            raise ConfigError(
                f"evaluate() takes a split's {part} part, not the Dataset: train, test, _ = "
                "movierec.make_split(ds), then evaluate(model, train, test) with the model fitted on train"
            )
    leak = _test_in_fitted_data(model, test, train)
    scored, dataset = _scored_model(model)
    if leak is not None and warn:
        warnings.warn(leak, UserWarning, stacklevel=outside_movierec())
    return scored, dataset, train, test


def _scored_model(model: Any) -> tuple[Recommender, Dataset | None]:
    """The model to score and, for a :class:`movierec.Recommender` (the front door, which wraps one), its
    dataset. Without this the wrapper itself was scored: it has no ``kind``, so ``evaluate(rec, train,
    test, "rating")`` on a fitted svd said "svd is an implicit model (no rating predictions)"."""
    inner = getattr(model, "model", None)
    if inner is None or not hasattr(model, "dataset") or not hasattr(model, "train_"):
        return model, None
    if model.train_ is None:
        raise NotFittedError(f"{model.name} is not fitted yet: call .fit(train) before evaluate()")
    return inner, model.dataset


def _pair_keys(inter: Interactions, n_items: int | np.int64) -> np.ndarray:
    """One int64 per (user, movie) pair of ``inter``, ``user · n_items + movie``: pairs compared with np.isin."""
    return inter.users.astype(np.int64) * n_items + inter.items


def _same_ids(part: Interactions, fitted: Interactions) -> bool:
    """Whether ``part``'s dense user and movie indices mean the same ids as ``fitted``'s."""
    return all(
        mine is theirs or np.array_equal(np.asarray(mine.ids), np.asarray(theirs.ids))
        for mine, theirs in ((fitted.user_map, part.user_map), (fitted.item_map, part.item_map))
    )


def _same_pairs(part: Any, fitted: Interactions) -> bool:
    """Whether ``part`` holds exactly the (user, movie) pairs of ``fitted``, under the same ids."""
    if part is fitted:
        return True
    if not isinstance(part, Interactions) or part.n_ratings != fitted.n_ratings:
        return False
    if not _same_ids(part, fitted):
        return False
    n_items = np.int64(max(fitted.n_items, 1))
    return bool(np.isin(_pair_keys(part, n_items), _pair_keys(fitted, n_items)).all())


def _test_in_fitted_data(model: Any, test: Interactions, train: Any = None) -> str | None:
    """The warning for a :class:`movierec.Recommender` fitted on data that holds the test part's ratings,
    else ``None``. ``rec = Recommender(ds, "svd").fit()`` (every rating) then ``evaluate(rec, train, test,
    "rating")`` read RMSE 0.590 on ml-latest-small where the model fitted on ``train`` reads 0.867, without
    a word: the test ratings were learned. A bare model keeps no record of what it was fitted on."""
    fitted = getattr(model, "train_", None)
    if not isinstance(fitted, Interactions) or not isinstance(test, Interactions) or test.n_ratings == 0:
        return None
    if not _same_ids(test, fitted):
        return None
    n_items = np.int64(max(fitted.n_items, 1))
    shared = int(np.isin(_pair_keys(test, n_items), _pair_keys(fitted, n_items)).sum())
    if shared * 4 <= test.n_ratings:  # a log with repeats (the same movie again later) shares a few
        return None
    if shared == fitted.n_ratings == test.n_ratings and _same_pairs(train, fitted):  # (rec, train, train)
        return (
            f"{model.name} is scored on the ratings it was fitted on (the test part given is the training "
            "part): these figures say how well it fits them, not how it predicts; give the held-out part as "
            "test, evaluate(rec, train, test)"
        )
    if shared == fitted.n_ratings:  # all it learned is in the test part: evaluate(rec, test, train)
        return (
            f"{model.name} was fitted on ratings that are all in the test part ({shared:,} of its "
            f"{test.n_ratings:,}): are the parts swapped? evaluate(rec, train, test) takes the training part first"
        )
    return (
        f"{model.name} was fitted on data holding {shared:,} of the test part's {test.n_ratings:,} ratings "
        "(Recommender.fit() with no argument trains on every rating), so these figures score what it "
        "learned, not what it predicts: fit it on the training part, rec.fit(train), before evaluate"
    )


def _where(
    dataset: Dataset | str, dataset_sha256: str, split: str, train: Interactions, test: Interactions
) -> dict[str, str]:
    """A row's ``dataset``, ``dataset_sha256`` and ``split``, always filled: a :class:`Dataset` gives its name
    and checksum, a split its description (:func:`make_split` records it on the arrays)."""
    if not isinstance(dataset, str):
        dataset_sha256 = dataset_sha256 or dataset.sha256
        dataset = dataset.name
    dataset = dataset or f"unnamed ({train.n_users:,} users × {train.n_items:,} items)"
    given = f"given train/test ({train.n_ratings:,} / {test.n_ratings:,} ratings)"
    split = split or str(test._cache.get("split", given))
    return {"dataset": dataset, "dataset_sha256": dataset_sha256, "split": split}


def holdout_figures(
    model: Recommender,
    train: Interactions,
    test: Interactions,
    *,
    k: int = 10,
    threshold: float = 4.0,
    seed: int = 42,
    split: str = "ratings-holdout",
) -> dict[str, Any]:
    """The hold-out figures an exported artifact's manifest records, from :func:`evaluate`.

    ``train``/``test`` are the raw split (as :func:`compare` splits; the model was fitted on its
    :func:`~movierec.models.base.training_view` of ``train``), so these numbers equal compare's row
    for the same split, seed and threshold: RMSE/MAE for rating predictors, full-ranking metrics at
    ``k`` for every model; ``split="leave-last-out"``: HR@K, NDCG@K and MRR of that protocol.
    """
    figures: dict[str, Any] = {"split": split, "n_test": int(test.n_ratings), "seed": seed}
    if split == "leave-last-out":  # one test item per user, relevant whatever its rating: compare's row
        res = evaluate(model, train, test, "leave-last-out", k=k, seed=seed, intervals=False, warn=False)
        figures.update({"protocol": "leave-last-out", "k": k, "n_users": res.n_users})
        figures.update({m: v for m, v in res.metrics.items() if np.isfinite(v)})
        return figures
    if RatingProtocol().skip_reason(model) is None:
        figures.update(evaluate(model, train, test, "rating", seed=seed, intervals=False).metrics)
    if (test.ratings >= threshold).any():
        res = evaluate(
            model,
            train,
            test,
            "full-ranking",
            k=k,
            threshold=threshold,
            seed=seed,
            intervals=False,
            warn=False,  # the figures' n_users says how many were scored
        )
        figures.update(
            {"protocol": "full-ranking", "k": k, "relevance_threshold": threshold, "n_users": res.n_users}
        )
        figures.update({m: v for m, v in res.metrics.items() if np.isfinite(v)})
    return figures


def paired_comparison(a: Result, b: Result, metric: str, *, seed: int = 42) -> dict[str, Any]:
    """Is ``a`` better than ``b`` on ``metric``? Paired bootstrap interval of the difference and a sign-flip permutation p-value.

    Uses the users both rows evaluated (same split and protocol), matched by user index. Pooled over
    k-fold CV (``cv=``), the matched values are (user, fold) units and one user's folds move together,
    so the bootstrap resamples *users* with all of their units (each draw's mean is Σ differences /
    Σ units, as the rows' own intervals are drawn, so the point estimate stays the mean over units that
    the tables show; averaging each user's units first would weigh users, not units, and move it) and
    the permutation test flips each user's units together. The result then also says how many
    ``n_units`` were paired; ``n_users`` counts distinct users. On one split nothing is clustered.
    """
    if a.protocol != b.protocol or a.split != b.split or a.k != b.k:
        raise ConfigError("paired comparison needs two rows from the same split, protocol and K")
    if metric not in a.per_user or metric not in b.per_user or a.users is None or b.users is None:
        raise ConfigError(f"metric {metric!r} has no per-user values in both rows")
    common, ia, ib = np.intersect1d(a.users, b.users, return_indices=True)
    if len(common) == 0:
        raise ConfigError("the two rows share no evaluated users")
    va, vb = a.per_user[metric][ia], b.per_user[metric][ib]
    if a.unit_users is None:
        out: dict[str, Any] = {"a": a.label, "b": b.label, "metric": metric, "n_users": len(common)}
        out.update(M.paired_bootstrap(va, vb, seed=seed))
        out["permutation_p"] = M.permutation_test(va, vb, seed=seed)
        return out
    owners = np.asarray(a.unit_users)[ia]  # matched units share their key, hence their user
    out = {"a": a.label, "b": b.label, "metric": metric, "n_users": int(np.unique(owners).size)}
    out["n_units"] = len(common)
    out["resampled"] = "users"
    out.update(M.cluster_paired_bootstrap(va, vb, owners, seed=seed))
    out["permutation_p"] = M.cluster_permutation_test(va, vb, owners, seed=seed)
    return out


def metric_curve(
    model: Recommender,
    train: Interactions,
    test: Interactions,
    ks: Sequence[int] | range = range(1, 51),
    *,
    threshold: float | None = 4.0,
) -> pd.DataFrame:
    """Full-ranking precision, recall, hit rate, NDCG and MAP for every K in ``ks`` (one scoring pass), for metric-vs-K charts."""
    ks = [int(x) for x in ks]
    if not ks or min(ks) < 1:
        raise ConfigError("ks must be whole numbers ≥ 1")
    kmax = max(ks)
    _, recs, _, rel_u, _ = FullRankingProtocol().rank(model, train, test, k=kmax, threshold=threshold)
    h = M.hits(recs, rel_u)
    n_rel = np.diff(rel_u.indptr).astype(np.float64)
    rows = []
    for kk in ks:
        per = M.ranking_metrics_from_hits(h[:, :kk], n_rel)
        rows.append({"k": kk, **{m: float(v.mean()) for m, v in per.items() if m != "mrr"}})
    return pd.DataFrame(rows)


# --- splits ----------------------------------------------------------------------------------

_K_FOLDS = "make_split builds one hold-out; for K folds, compare(..., cv=K) or movierec.split.kfold(inter, K)"
#: keywords of Surprise's train_test_split, scikit-learn's and LightFM's that make_split spells
#: otherwise: each gets the line saying where that setting lives (errors.refuses_foreign_keywords)
MAKE_SPLIT_MISNAMED = {
    "random_state": "seed= seeds the split (Surprise's and scikit-learn's random_state)",
    "test_percentage": "test_size= is the part held out (LightFM's test_percentage)",
    "train_size": "test_size= sets the part held out (a fraction, or a number of ratings); the rest trains",
    "shuffle": "the hold-outs always shuffle (seed= fixes how); split='temporal' holds out the latest ratings",
    "n_splits": _K_FOLDS,
    "cv": _K_FOLDS,
}


@refuses_foreign_keywords(MAKE_SPLIT_MISNAMED)
def make_split(
    inter: Interactions | Dataset,
    split: str = "ratings-holdout",
    *,
    seed: int = 42,
    threshold: float = 4.0,
    test_size: float = 0.2,
    test: pd.DataFrame | None = None,
) -> tuple[Interactions, Interactions, str]:
    """Build a named split; returns ``(train, test, description)`` (its splitter: :func:`movierec.split.get_splitter`).

    ``inter`` is a dataset's interactions or the :class:`Dataset` itself (its ``interactions`` are
    split), as Surprise's ``train_test_split(data)`` takes the dataset. ``make_split(ds)`` is
    ``ratings-holdout`` with ``test_size=0.2``: Surprise's ``train_test_split(data)`` (its default
    ``test_size=.2``) row for row, and the split ``compare`` picks for rating models. ``test_size`` is a
    fraction, or an int number of ratings as Surprise and scikit-learn read it (``ratings-holdout``,
    ``interactions-holdout``, ``temporal``). ``interactions-holdout`` splits
    only the positives (ratings ≥ threshold, ratings kept) as the notebook's LightFM split does;
    ``leave-last-out`` trains on everything but each user's last rating (the validation item stays in
    training). Surprise's and scikit-learn's keywords (``random_state``) are one ConfigError naming ours.

    ``test`` (a DataFrame of ``userId, movieId`` rows, or LensKit's ``user_id, item_id``) holds out those
    ratings and trains on the rest, in place of a named split: a split drawn elsewhere (one fold of
    LensKit's ``crossfold_users``) evaluated here on the same rows (:func:`given_test_split`).
    """
    if test is not None:
        if split != "ratings-holdout":
            raise ConfigError(
                f"make_split(test=...) holds out the rows given, so it takes no split name ({split!r}): "
                "leave the split out"
            )
        return given_test_split(_interactions_of(inter), test)
    key = S.split_key(split, S.SPLIT_NAMES)
    if key == "auto":
        raise ConfigError(
            "split 'auto' is compare's pick by its models' kind (ratings-holdout for rating models, "
            "interactions-holdout for implicit ones); make_split has no models: name the split "
            "(ratings-holdout when none is given)"
        )
    if key not in S.SPLIT_NAMES:  # get_splitter's list has compare's 'auto' too
        raise ConfigError(S.unknown_split(split, S.SPLIT_NAMES))
    splitter = S.get_splitter(split, seed=seed, threshold=threshold, test_size=test_size)
    tr, te = splitter.holdout(
        _interactions_of(inter)
    )  # the test fold remembers the description for evaluate()
    return tr, te, splitter.description


def _interactions_of(inter: Interactions | Dataset) -> Interactions:
    """What :func:`make_split` splits: the interactions given, or a :class:`Dataset`'s."""
    if isinstance(inter, Interactions):
        return inter
    ratings = getattr(inter, "interactions", None)
    if not isinstance(ratings, Interactions):
        raise ConfigError(
            f"make_split splits a Dataset or its interactions (ds.interactions), not {type(inter).__name__}"
        )
    return ratings


#: the column pairs a frame of test rows may name its users and movies by: ours, LensKit 2025's
#: (``ItemListCollection.to_df()``), LensKit 0.14's
TEST_ROW_COLUMNS = (("userId", "movieId"), ("user_id", "item_id"), ("user", "item"))


def given_test_split(inter: Interactions, rows: pd.DataFrame) -> tuple[Interactions, Interactions, str]:
    """``(train, test, description)`` holding out the ratings whose (user, movie) pair is a row of ``rows``.

    For a split drawn elsewhere: LensKit's ``crossfold_users`` picks a fraction of some users' ratings
    (``SampleFrac``), which no named split here draws, so its test frame (``split.test.to_df()``) is
    given as it is and the models here are scored on the same rows. Every row must be a rating of
    ``inter`` (one that is not is refused, naming it: a frame of another dataset, or ids read as text,
    would otherwise hold out less than it says); its other columns (a rating, a time) are not read.
    """
    if not isinstance(rows, pd.DataFrame):
        raise ConfigError(
            f"test= takes a DataFrame of test rows (userId, movieId), not {type(rows).__name__}"
        )
    cols = next(((u, i) for u, i in TEST_ROW_COLUMNS if u in rows.columns and i in rows.columns), None)
    if cols is None:
        found = ", ".join(map(str, rows.columns)) or "none"
        raise ConfigError(
            "test= needs a user and a movie column: userId and movieId (LensKit's user_id and item_id, "
            f"or user and item, work too); its columns: {found}"
        )
    if rows.empty:
        raise ConfigError("test= has no rows: there is nothing to hold out")
    ours = pd.MultiIndex.from_arrays([inter.user_map.to_raw(inter.users), inter.item_map.to_raw(inter.items)])
    theirs = pd.MultiIndex.from_arrays([rows[cols[0]].to_numpy(), rows[cols[1]].to_numpy()])
    known = theirs.isin(ours)
    if not known.all():
        first = int(np.flatnonzero(~known)[0])
        u, i = (v.item() if isinstance(v, np.generic) else v for v in rows[[*cols]].iloc[first])
        as_text = isinstance(u, str) and not isinstance(inter.user_map.to_raw(0), str)
        text = " (its ids are text, the data's numbers: convert them with .astype(int))" if as_text else ""
        raise ConfigError(
            f"{int((~known).sum()):,} of the {len(rows):,} test rows are not ratings of the data, the first "
            f"{cols[0]} {u!r}, {cols[1]} {i!r}{text}: the test rows must come from the same ratings"
        )
    mask = ours.isin(theirs)
    if mask.all():
        raise ConfigError("test= holds out every rating: nothing is left to train on")
    train, test = inter.subset(~mask), inter.subset(mask)
    about = f"given test rows ({test.n_ratings:,} ratings of {len(np.unique(test.users)):,} users)"
    test._cache["split"] = about  # evaluate() records it, as it does a named split's
    return train, test, about


#: how many unknown ids a frame's refusal names
_UNKNOWN_SHOWN = 3


def frame_part(inter: Interactions, frame: pd.DataFrame, part: str) -> Interactions:
    """A split's ``part`` given as a DataFrame of raw ids, read with ``inter``'s id maps, so a userId or
    movieId means in it what it means in the dataset (a Surprise user's own train and test frames).

    Its columns are the dataset's, as ``ds.to_frame()`` and ``load(frame)`` name them: ``userId, movieId,
    rating`` and, if it has one, ``timestamp`` (LensKit's ``user_id, item_id``, or ``user, item``, work
    too); ``rating`` may be left out only where the dataset has none. Its ratings are its own, on the
    dataset's scale; duplicate (user, movie) rows keep the latest, as :func:`movierec.load` does. An id the
    dataset does not have is refused, naming a few (the frame's rows would otherwise be dropped or
    mean another user); a user or movie of the dataset without a training rating is a cold one, as in
    any split."""
    cols = next(((u, i) for u, i in TEST_ROW_COLUMNS if u in frame.columns and i in frame.columns), None)
    found = ", ".join(map(str, frame.columns)) or "none"
    if cols is None:
        raise ConfigError(
            f"the {part} frame needs a user and a movie column: userId and movieId (LensKit's user_id and "
            f"item_id, or user and item, work too); its columns: {found}"
        )
    if frame.empty:
        raise ConfigError(f"the {part} frame has no rows")
    rated = "rating" in frame.columns
    if not rated and not inter.interactions_only:
        raise ConfigError(
            f"the {part} frame has no rating column and the dataset has ratings: name them 'rating' "
            f"(its columns: {found})"
        )
    for col, ids in ((cols[0], inter.user_map), (cols[1], inter.item_map)):
        values = pd.Index(frame[col].to_numpy())
        unknown = ~values.isin(ids.ids)
        if unknown.any():
            names = pd.unique(values[unknown])
            shown = ", ".join(
                repr(v.item() if isinstance(v, np.generic) else v) for v in names[:_UNKNOWN_SHOWN]
            )
            more = f" … {len(names):,} in all" if len(names) > _UNKNOWN_SHOWN else ""
            as_text = isinstance(names[0], str) and ids.ids.dtype.kind in "iu"
            text = (
                " (its ids are text, the data's numbers: convert them with .astype(int))" if as_text else ""
            )
            raise ConfigError(
                f"{int(unknown.sum()):,} of the {part} frame's {len(frame):,} rows have a {col} the dataset "
                f"does not have ({shown}{more}){text}: its ids are read as the dataset's; drop those rows, "
                "or use the dataset the frames come from"
            )
    read = Interactions.from_frame(
        frame,
        user_col=cols[0],
        item_col=cols[1],
        rating_col="rating" if rated else None,
        time_col="timestamp" if "timestamp" in frame.columns else None,
        rating_scale=None if not rated else inter.rating_scale,
        user_map=inter.user_map,
        item_map=inter.item_map,
        source=f"the {part} frame",
    )
    # in the dataset's row order (pairs it lacks after, as given): a model trained by SGD (svd) reads its
    # rows in order, so a train frame sorted by time scored RMSE 1.0105 where make_split(ds, test=frame)'s
    # part of the same rows scored 1.0103; the same rows now give the same figures, whatever their order
    n_items = np.int64(max(inter.n_items, 1))
    ours, first = np.unique(_pair_keys(inter, n_items), return_index=True)  # a log may repeat a pair
    theirs = _pair_keys(read, n_items)
    pos = np.searchsorted(ours, theirs).clip(max=len(ours) - 1)
    at = np.where(ours[pos] == theirs, first[pos], len(inter.users) + np.arange(len(theirs)))
    return read.subset(np.argsort(at, kind="stable"))


def _read_frames(inter: Interactions, parts: Sequence[Any]) -> list[Any]:
    """A split's parts, ``(train, test)`` or ``(train, valid, test)``, with each DataFrame among them
    read by :func:`frame_part` (the others as they are). A test row that is also a training row is
    refused when a frame was given: Surprise scores such a row (its model learned it), a given file
    here is refused so (:mod:`movierec.split_files`), and ``make_split(ds, test=frame)`` trains on the
    other ratings."""
    names = ("train", "test") if len(parts) == 2 else ("train", "valid", "test")
    read = [
        frame_part(inter, p, n) if isinstance(p, pd.DataFrame) else p
        for p, n in zip(parts, names, strict=True)
    ]
    if not any(isinstance(p, pd.DataFrame) for p in parts):
        return read
    train, test = read[0], read[-1]
    if isinstance(train, Interactions) and isinstance(test, Interactions) and train.item_map == test.item_map:
        from movierec.split_files import shared_pairs

        said = shared_pairs(
            {"train": train, "test": test}, {"train": "the train part", "test": "the test part"}
        )
        if said is not None:
            raise ConfigError(
                f"{said}; drop them from train (make_split(ds, test=test_frame) trains on every other rating)"
            )
    return read


# --- compare ---------------------------------------------------------------------------------


@dataclass
class Comparison:
    """Rows of a comparison plus what produced them: fitted models (by label), the split, notes, provenance."""

    rows: list[Result]
    models: dict[str, Any]
    train: Interactions
    test: Interactions
    split: str
    dataset: str
    dataset_sha256: str
    k: int
    threshold: float
    seed: int
    notes: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    fit_train: dict[str, Interactions] = field(default_factory=dict, repr=False)
    #: the protocols in the order they were asked for (tables follow it)
    protocols: list[str] = field(default_factory=list)
    #: label -> the item features that model learned from ('genres+tags'; 'features' for a matrix given in
    #: Python), for the tables' model cells ('ease+genres+tags'); the labels, the rows' keys, stay as they are
    item_features: dict[str, str] = field(default_factory=dict)
    #: the user features the models that take them learned from, as a person reads them (``"demographics"``,
    #: ``"demographics, extra.csv"``; ``"features"`` for a matrix given in Python), for the caption (no model's
    #: label names them); ``None`` when none did (none given, or only models that ignore them)
    user_features: str | None = None

    def protocol_order(self) -> list[str]:
        """The protocols that have rows, in the order they were asked for: ``rating, test-candidates,
        full-ranking`` by default, whichever model comes first (a first implicit model put rating last)."""
        present = list(dict.fromkeys(r.protocol for r in self.rows))
        return [p for p in self.protocols if p in present] + [p for p in present if p not in self.protocols]

    def records(self) -> list[dict[str, Any]]:
        """JSON-ready rows (each with the provenance) as written to ``results.json``."""
        names = self.metric_names()
        out = []
        for r in self.rows:
            row = r.to_dict()
            for m in names:  # every row has every metric key (null where the protocol has none)
                row.setdefault(m, None)
            out.append({**row, "provenance": self.provenance})
        return out

    def __repr__(self) -> str:
        from movierec.display import comparison_repr

        return comparison_repr(self)

    def __str__(self) -> str:
        """The tables ``movierec compare`` prints, fitted to the terminal (``print(comparison)``)."""
        from movierec.display import comparison_text

        return comparison_text(self)

    def _repr_html_(self) -> str:
        from movierec.display import comparison_html

        return comparison_html(self)

    def plot(self, metric: str | None = None, protocol: str | None = None) -> Any:
        """One metric of every model as an interactive plotly chart, best first, with its 95% interval
        (default: NDCG@K of the first ranking protocol, else RMSE); ``fig.write_html(path)`` saves it.
        Needs the ``viz`` extra (plotly)."""
        from movierec.viz.comparison import comparison_figure

        return comparison_figure(self, metric, protocol)

    def to_frame(self, protocol: str | None = None) -> pd.DataFrame:
        """One row per (model, protocol) with every metric as a column; ``protocol`` keeps one protocol's rows
        (a protocol with none is a ConfigError naming those there are: ``to_frame("full-rank")`` was an empty
        frame, "Columns: []", with no word on why)."""
        frame = self.frame()
        if protocol is None:
            return frame
        scored = list(dict.fromkeys(r.protocol for r in self.rows))
        if protocol not in scored:
            raise ConfigError(
                f"to_frame({protocol!r}): no row under protocol {protocol!r}{did_you_mean(protocol, scored)}; "
                f"the protocols here: {', '.join(scored) or 'none'}"
            )
        return frame[frame["protocol"] == protocol].dropna(axis=1, how="all").reset_index(drop=True)

    def frame(self) -> pd.DataFrame:
        """One row per (model, protocol): ``model``, ``protocol``, every metric, its 95% interval as
        ``METRIC_lo``/``METRIC_hi`` (the CSV's names) and, with cross-validation, its std over the folds as
        ``METRIC_std``; then users, timings and where the numbers come from (kind, dataset, split, seed…;
        ``item_features``: what the model learned from, ``None`` where nothing, in every frame alike).
        The metrics come first so that pandas' shortened print of a wide frame still shows them."""
        fields, flat = results_table(self.rows, "wide")  # the CSV's one flattening of a row
        if not flat:
            return pd.DataFrame()
        names = self.metric_names()
        extra = [f for f in fields if f.endswith(("_lo", "_hi", "_std")) and f.rsplit("_", 1)[0] in names]
        first = ("model", "protocol", *names, *extra, "n_users", "fit_seconds", "score_seconds")
        left_out = ("params", "notes", "git_commit", "created_at")  # the CSV's text and provenance columns
        rest = [f for f in fields if f not in first and f not in left_out]
        frame = pd.DataFrame(flat, columns=[*first, *rest])
        if "item_features" in frame.columns:  # None for a model that learned from none, in every frame
            # pandas 3 read a column of strings and None as its str dtype, whose missing value is NaN, but a
            # column of None alone as object: 01's summary (a concat of both) showed None and NaN in one
            # column for the same thing. Object dtype with None, as Result.item_features and the JSON's null
            said = [r.get("item_features") for r in flat]
            frame["item_features"] = pd.Series(
                [v if isinstance(v, str) else None for v in said], dtype=object
            )
        return frame

    def metric_names(self) -> list[str]:
        """The metrics its rows report, each once, in the order first met: ``['rmse', 'mae', 'mse', 'fcp']``
        under the rating protocol, ``['precision@10', 'recall@10', …]`` under full ranking (the metric columns
        of :meth:`to_frame`)."""
        names: list[str] = []
        for r in self.rows:
            names.extend(m for m in r.metrics if m not in names)
        return names

    def winners(self) -> dict[tuple[str, str], str]:
        """Best model label per (protocol, metric): lowest for errors, highest otherwise."""
        best: dict[tuple[str, str], tuple[float, str]] = {}
        for r in self.rows:
            for m, v in r.metrics.items():
                if v is None or not np.isfinite(v) or m.startswith(("novelty", "coverage")) or _is_beyond(m):
                    continue
                score = -v if m in M.ERROR_METRICS else v
                key = (r.protocol, m)
                if key not in best or score > best[key][0]:
                    best[key] = (score, r.label)
        return {key: label for key, (_, label) in best.items()}

    def row(self, label: str, protocol: str) -> Result:
        """The result of model ``label`` (its row label, as printed) under ``protocol``.

        A label or protocol that has no row says which it was and what there is (it said only
        "no row for model 'svdd' under protocol 'full-ranking'")."""
        for r in self.rows:
            if r.label == label and r.protocol == protocol:
                return r
        labels = list(dict.fromkeys(r.label for r in self.rows))
        protocols = list(dict.fromkeys(r.protocol for r in self.rows))
        if label not in labels:
            why = f"no model is labelled {label!r}{did_you_mean(label, labels)}; the labels: {', '.join(labels)}"
        elif protocol not in protocols:
            why = f"no protocol {protocol!r} was scored{did_you_mean(protocol, protocols)}; the protocols: {', '.join(protocols)}"
        else:
            has = ", ".join(r.protocol for r in self.rows if r.label == label)
            skipped = [n for n in self.notes if n.startswith(f"{protocol} skipped for ") and label in n]
            why = skipped[0] if skipped else f"{label} has rows under {has} only"
        raise ConfigError(f"no row for model {label!r} under protocol {protocol!r}: {why}")

    def paired(self, a: str, b: str, protocol: str, metric: str) -> dict[str, Any]:
        """Paired bootstrap and permutation test of model ``a`` against ``b`` on one metric.

        Returns a dict: ``a``, ``b``, ``metric``; ``diff`` (mean of a − b over the users both rows
        evaluated, the difference of the table's values), ``lo``/``hi`` (its 95% paired bootstrap interval),
        ``p_value`` (the bootstrap's two-sided p, each tail counted as (count+1)/(draws+1), so never
        below 2/(draws+1), about 0.001) and ``permutation_p`` (a two-sided sign-flip test, never below
        1/(draws+1)); ``n_users``, the users paired. Under ``cv=`` a user is paired once per fold: the
        result adds ``n_units`` (the (user, fold) pairs) and
        ``resampled: "users"``, since the bootstrap draws users with all of their units and the
        permutation test flips a user's units together (:func:`paired_comparison`, docs/protocols.md).
        """
        return paired_comparison(self.row(a, protocol), self.row(b, protocol), metric, seed=self.seed)


def _is_beyond(metric: str) -> bool:
    from movierec.beyond import is_beyond

    return is_beyond(metric)


def _given_labels(models: Sequence[Any]) -> list[str | None]:
    """The labels passed as a third element, ``(name, params, label)`` (an experiment file's ``label``)."""
    out: list[str | None] = []
    for m in models:
        label = m[2] if not isinstance(m, str) and len(m) > 2 else None
        if label is not None and (not isinstance(label, str) or not label.strip()):
            raise ConfigError(f"model label {label!r}: give a non-empty string")
        out.append(label.strip() if label else None)
    dup = next((lab for lab in out if lab is not None and out.count(lab) > 1), None)
    if dup is not None:
        raise ConfigError(f"two models are labelled {dup!r}; give them distinct labels")
    return out


def _labels(models: Sequence[tuple[str, dict[str, Any]]], given: Sequence[str | None] = ()) -> list[str]:
    """Row keys: a given label as is; else the name, with its parameters when the name repeats."""
    given = list(given) or [None] * len(models)
    names = [n for (n, _), g in zip(models, given, strict=True) if g is None]
    out = []
    for (name, params), label in zip(models, given, strict=True):
        if label is not None:
            out.append(label)
        elif names.count(name) > 1 and params:
            out.append(f"{name}(" + ",".join(f"{k}={v}" for k, v in sorted(params.items())) + ")")
        else:
            out.append(name)
    seen: dict[str, int] = {lab: 1 for lab in given if lab is not None}  # a given label is never renamed
    for i, lab in enumerate(out):
        if given[i] is not None:
            continue
        if lab in seen:
            seen[lab] += 1
            out[i] = f"{lab}#{seen[lab]}"
        else:
            seen[lab] = 1
    return out


def features_words(item_features: Any, sep: str = "+") -> str:
    """Item features as a table's model cell adds them, in the report's NAME+feature form: ``"genres,tags"``
    or ``["genres", "tags"]`` → ``genres+tags`` (``sep=","``: ``genres,tags``, as a result row records
    them); a matrix or ItemFeatures given in Python → ``features``."""
    if isinstance(item_features, str):
        item_features = item_features.split(",")
    if isinstance(item_features, (list, tuple)) and all(isinstance(f, str) for f in item_features):
        return sep.join(f.strip() for f in item_features if f.strip())
    return "features"


def _user_features_words(user_features: Any) -> str:
    """User features as the caption names them: a spec as a person reads it (``"demographics, extra.csv"``,
    :func:`movierec.demographics.user_features_words`); a matrix given in Python → ``features``."""
    from movierec.demographics import user_features_words

    return user_features_words(user_features) if isinstance(user_features, str) else "features"


def resolve_item_features(
    item_features: Any, dataset: Dataset | None, train: Interactions, held_out: Any = None
) -> Any:
    """Item features for ``train``'s items: names (``"genres,tags"``) built from ``dataset``'s movie
    metadata, without the tag rows on ``held_out``'s (user, movie) pairs (the part the fit is scored on:
    :func:`movierec.features.build_item_features`), or a matrix / ItemFeatures as given (``None`` or
    empty: none)."""
    if item_features is None or (isinstance(item_features, str) and not item_features.strip()):
        return None
    if isinstance(item_features, (str, list, tuple)):
        if dataset is None:
            raise ConfigError("item features by name need a dataset with movie metadata")
        from movierec.features import build_item_features

        return build_item_features(dataset, train.item_map, item_features, held_out=held_out)
    return item_features


def held_out_tags_note(n_tags: int, folds: int = 1, lead: str = "tags") -> str | None:
    """The run's one line on the tag rows its item features left out (``None`` when none were); ``lead``
    begins it (export's hold-out check: ``"hold-out check"``)."""
    if n_tags <= 0:
        return None
    each = " (each fold its own)" if folds > 1 else ""
    rows = f"{n_tags:,} tag application{'s' if n_tags != 1 else ''}"
    return f"{lead}: {rows} on test pairs left out of the item features{each}"


def shown_label(event: Mapping[str, Any]) -> str:
    """A fit-start event's model as the tables name it: ``ease+genres+tags`` where it learns from item
    features, its label otherwise (the progress line said ``ease · fitting`` over a row ``ease+genres+tags``)."""
    model, feats = str(event["model"]), event.get("item_features")
    # a label that already says them (the report's 'warp+genres+tags') is not said twice
    return f"{model}+{feats}" if feats and not model.endswith(f"+{feats}") else model


class _LineProgress:
    """``compare``'s progress in a notebook or a terminal when none is given, in the CLI's words with the
    model's number: ``svd (2/3) · fitting`` then ``svd (2/3) · fitted in 1.4 s``, so a run of minutes is
    not silent: on stderr in a terminal, in one output of the cell in Jupyter, where the fitted line takes
    the fitting line's place (:func:`movierec.progress.watch_step`). No per-epoch callback.

    An evaluation that scores its users in blocks (the ranking protocols) says how many it has scored, as
    the CLI's bar does (``knn-baseline (2/3) · evaluating full-ranking · 192/595 users scored``), once it
    has run ``after`` seconds or its pace says it will (:meth:`_scored`): knn-baseline's 6-8 s of scoring
    on ml-latest-small showed 'knn-baseline (2/3) · fitted in 1.1 s' and nothing more, as if hung, while a
    fast model's evaluation (ease's 0.2 s) still prints no line."""

    wants_epochs = False

    def __init__(self, n_models: int, *, after: float = 3.0) -> None:
        self.n_models = n_models
        self.after = after  # seconds an evaluation may take before its count of users scored shows
        self.index: dict[str, int] = {}  # model label -> its number (folds may run fold by fold)
        self.head = ""  # the fit under way: 'svd (2/3, fold 1/5)'
        # the evaluation under way: when it began, its latest count and when, whether its line shows, when
        # that line last printed
        self.began, self.count, self.shown, self.printed = 0.0, (0, 0.0), False, 0.0

    def __call__(self, event: dict[str, Any]) -> None:
        from movierec.progress import fitted_words, model_step, watch_step

        if event["event"] == "fit-start":
            fold = f"fold {event['fold'] + 1}/{event['folds']}" if event.get("folds", 1) > 1 else ""
            number = self.index.setdefault(event["model"], len(self.index) + 1)
            count = f"{number}/{self.n_models}" if self.n_models > 1 else ""  # how far along
            where = ", ".join(x for x in (count, fold) if x)
            self.head = (
                f"{shown_label(event)}{f' ({where})' if where else ''}"  # the fit-end event has no folds
            )
            watch_step(model_step(self.head, "fitting"), done=False)
        elif event["event"] == "fit-end":
            watch_step(model_step(self.head or event["model"], fitted_words(event["seconds"])), done=True)
        elif event["event"] == "evaluate":
            self._evaluate(event)

    def _evaluate(self, event: dict[str, Any]) -> None:
        from movierec.progress import kernel_shell, model_step, scored_words, watch_step

        now = time.monotonic()
        n, of = event.get("scored"), event.get("users")
        if not isinstance(n, int) or not isinstance(of, int):  # the step's start: a line only once it is slow
            self.began, self.count, self.shown = now, (0, now), False
            return
        show = self._scored(n, of, now)
        last = n >= of
        # in a terminal's log a line every ``after`` seconds at most, and the last; in a cell, updated in place
        if show and (kernel_shell() is not None or last or now - self.printed >= self.after):
            self.printed = now
            words = f"evaluating {event['protocol']}{scored_words(event)}"
            watch_step(model_step(self.head or str(event["model"]), words), done=last)

    def _scored(self, n: int, of: int, now: float) -> bool:
        """Whether the evaluation's count of users scored shows, told ``n`` of ``of`` now: once it has run
        ``after`` seconds, or its pace since the last count says it will have before it ends (a protocol's
        work before its first block, such as sampling negatives, does not count towards that pace)."""
        (was, then), self.count = self.count, (n, now)
        if not self.shown and was > 0:
            rest = (of - n) * (now - then) / max(n - was, 1)
            self.shown = now - self.began + rest >= self.after
        self.shown = self.shown or now - self.began >= self.after
        return self.shown


def default_progress(n_models: int) -> _LineProgress | None:
    """Lines when a person watches (a Jupyter kernel, or stderr a terminal); silence in scripts and tests."""
    import sys

    from movierec.progress import kernel_shell

    watched = kernel_shell() is not None or (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())
    return _LineProgress(n_models) if watched else None


def _stop_reason(model: Any) -> str | None:
    """Why a model's training ended before its last epoch ("patience", "time budget", "listener"), for the
    fit-end event; None when it ran every epoch it was given (sasrec's and gru4rec's ``stop_reason_``
    "epochs": compare printed 'gru4rec · training stopped (epochs) after 165 s, 5 epochs' of 5) or has no
    early stopping."""
    reason = getattr(model, "stop_reason_", None)
    return None if reason == "epochs" else reason


def _fit(
    model: Recommender,
    train: Interactions,
    features: Any,
    label: str,
    progress: Progress | None,
    user_features: Any = None,
    listener: Callable[[int, dict[str, float]], bool | None] | None = None,
) -> float:
    """Fit ``model``; seconds of training (a ``listener``'s per-epoch work, e.g. validation scoring, left out).
    A listener that returns ``False`` (:class:`movierec.early_stopping.EarlyStopping`) stops the fit."""
    kwargs: dict[str, Any] = {}
    spent = [0.0]
    sig = fit_options(model)
    if features is not None:
        kwargs["item_features"] = features
    if user_features is not None and getattr(model, "uses_user_features", False):
        kwargs["user_features"] = user_features
    if progress is not None and not getattr(progress, "wants_epochs", True):
        progress = None  # a per-model line needs no per-epoch callback (svd runs its epochs in one call)
    if (progress is not None or listener is not None) and "on_epoch" in sig:

        def on_epoch(epoch: int, info: dict[str, float]) -> bool | None:
            verdict = None
            if listener is not None:  # adds its values (val_rmse…) to the epoch's record first
                t = time.perf_counter()
                verdict = listener(epoch, info)
                spent[0] += time.perf_counter() - t
            if progress is not None:
                progress({"event": "epoch", "model": label, "epoch": epoch, **info})
            return verdict

        def say(words: str, now: bool) -> None:  # a part of a fit without epochs (training.say_step)
            if progress is not None:
                progress({"event": "step", "model": label, "words": words, "now": now})

        on_epoch.say = say  # type: ignore[attr-defined]
        # a bare progress bar needs no per-epoch model: epochs may run in chunks (training.fit_epochs)
        kwargs["on_epoch"] = on_epoch if listener is not None else progress_only(on_epoch)
    t0 = time.perf_counter()
    model.fit(train, **kwargs)
    return time.perf_counter() - t0 - spent[0]


_MEASURES = (
    "each protocol reports all of its metrics (rating: rmse, mae, mse, fcp); protocols='rating' runs "
    "Surprise's cross_validate measures alone, and comp.to_frame('rating') holds them"
)
_FOLDS = "cv=K runs K-fold cross-validation (Surprise's KFold(n_splits=K))"
#: keywords of Surprise's cross_validate and GridSearchCV (and scikit-learn's) that compare spells
#: otherwise: each gets the line saying where that setting lives (errors.refuses_foreign_keywords)
COMPARE_MISNAMED = {
    "measures": _MEASURES,
    "metrics": _MEASURES,
    "random_state": "seed= seeds the split and every model (Surprise's and scikit-learn's random_state)",
    "verbose": "progress=True prints a line per model fit, progress=False nothing",
    "n_splits": _FOLDS,
    "n_folds": _FOLDS,
    "folds": _FOLDS,
    "test_percentage": "test_size= is the part held out (LightFM's test_percentage)",
}


#: what :func:`compare` takes as ``models``: names or one comma-separated string, ``(name, params)`` and
#: ``(name, params, label)`` tuples, or a ``{name: params}`` dict
ModelsGiven = (
    Sequence[tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], str | None] | str]
    | str
    | Mapping[str, Mapping[str, Any] | None]
)


@refuses_foreign_keywords(COMPARE_MISNAMED)
def compare(
    dataset: Dataset | str | Path | pd.DataFrame,
    models: ModelsGiven,
    *,
    split: str | tuple[Interactions | str, ...] = "auto",
    protocols: Sequence[str] | str = ("rating", "test-candidates", "full-ranking"),
    k: int = 10,
    threshold: float | None = None,
    seed: int = 42,
    cv: int | None = None,
    item_features: Any = None,
    user_features: Any = None,
    test_size: float = 0.2,
    progress: Progress | bool | None = None,
    beyond: bool = False,
    rerank: str | None = None,
    user_groups: dict[str, np.ndarray] | None = None,
    monitor: EpochValidator | None = None,
    auc: bool = False,
    early_stopping: Any = None,
    rank_by: str = "shrunk",
) -> Comparison:
    """Fit every model on one split and evaluate each under every protocol (docs/architecture.md; issues 3 and 4).

    ``dataset``: a :class:`Dataset`, a dataset name or path, or a ratings DataFrame (``movierec.load``'s
    inputs). ``models``: names (or one comma-separated string), ``(name, params)``, ``(name, params, label)`` (label = row key), a dict ``{name: params}``, or model objects (``EASE(l2=100)``: its name and the hyperparameters given; a fresh one is fitted). ``split="auto"``:
    explicit-only runs use the ratings hold-out (Surprise semantics), implicit-only runs the interaction
    hold-out of positives (LightFM semantics), mixed runs one ratings hold-out whose test positives are test
    ratings ≥ ``threshold`` (default 4, MovieLens' 4 stars of 5; on data without ratings its one value, every
    row a positive, said in the notes); the ``leave-last-out`` protocol takes the leave-last-out split. ``split``
    may also be a split made elsewhere: what :func:`make_split` returns (``make_split(ds, test=rows)``, a
    LensKit fold) or a ``(train, test)`` pair of the dataset's interactions (``per_user_split``'s parts, a
    ``crossfold_users`` fold) or of DataFrames (:func:`frame_part`); every model fits on that train part and
    every protocol scores its test part, the rows' split saying "given …" (no ``cv``: one pair); RecBole's
    ``(train, valid, test)`` trains on train + valid. Implicit models train on ``train.to_implicit(threshold)``.
    ``beyond`` adds diversity, popularity-bias, calibration, unexpectedness and per-user-group metrics to the full-ranking rows
    (:mod:`movierec.beyond`; ``user_groups``: extra families such as gender, a label per user); ``rerank`` (``"mmr:0.3"``…,
    :mod:`movierec.rerank`) re-ranks every full-ranking list and labels those rows ``model+mmr:0.3``; ``auc``
    adds AUC to them (:func:`movierec.metrics.auc_full`; opt-in, it sorts every user's scores). ``cv`` runs
    Surprise-style k-fold instead and reports means over folds (ranking metrics pooled over every (user,
    fold)). Protocols that do not apply to a model (RMSE of an implicit model) are skipped with a note.
    ``user_features`` (``"demographics"``, a ``userId,feature`` CSV, or both comma-separated) go to the models
    that use them (bpr, warp, logistic, warp-kos, segment-popularity); the others get a note.
    ``progress``: a callable receiving the events of :data:`Progress`; by default (``None``) a line per
    model fit (and a count of users scored for an evaluation of 3 s or more) on stderr when a person watches
    (a Jupyter kernel, a terminal), silence otherwise; ``True`` always prints those lines, ``False`` never does.
    Surprise's ``measures=`` is refused, naming ours. ``early_stopping`` (``"ndcg@10"``, :class:`movierec.stopping.StopSpec`'s fields as a dict): each model that can stop
    does on a part of its fold's training part (``valid`` where given), then is refit (:meth:`_FoldRun.stop_and_refit`).
    ``rank_by="prediction"``: rating models' ranking rows rank by the unclipped prediction, as LensKit's (:func:`evaluate`'s)."""
    from movierec.datasets import Dataset, load_given
    from movierec.models.registry import create, get_class

    # a name, a path or a DataFrame loads (columns to name: the message says to load it first)
    ds = dataset if isinstance(dataset, Dataset) else load_given(dataset, "compare")
    inter = ds.interactions
    models = _model_list(models)
    specs = _seeded_specs(models, seed)
    protos, genres, groups, reranker = _compare_protocols(protocols, ds, beyond, rerank, user_groups, auc)
    kinds = [tags_of(get_class(name)).kind for name, _ in specs]
    _check_k(k, inter.n_items)
    for name, params in specs:  # validate hyperparameters up front so a typo fails before any training
        create(name, **params)
    splitter, key, threshold, notes = _compare_split(
        inter, split, protos, specs, kinds, threshold, seed=seed, cv=cv, test_size=test_size, rank_by=rank_by
    )
    progress = _compare_progress(progress, len(specs))
    run = _FoldRun(ds, protos, key, k, threshold, seed, item_features, user_features, progress, notes)
    run.beyond, run.genres, run.user_groups, run.monitor = beyond, genres, groups, monitor
    run.rank_by = rank_by  # checked by _compare_split: a bad value is one line before any training
    run.stopping = _check_stopping(early_stopping, specs, key, monitor, _has_valid(splitter))  # pre-fit
    run.given_stop = _given_stopping(run.stopping, splitter)  # split=(train, valid, test): stop on valid
    labels = _labels(specs, _given_labels(models))
    outs: dict[str, dict[str, list[EvalOutput]]] = {lab: {p.name: [] for p in protos} for lab in labels}
    fit_secs: dict[str, list[float]] = {lab: [] for lab in labels}
    fitted: dict[str, Any] = {}
    train = test = inter
    # the fold × model loop (RecTools' cross_validate shape): split, fit every model, score every protocol
    for fold, (train, test) in enumerate(splitter.split(inter)):
        for (name, params), label, kind in zip(specs, labels, kinds, strict=True):
            fitted[label], secs = run.fit(name, params, label, kind, (train, test), fold, splitter.n_folds)
            fit_secs[label].append(secs)
            for p in protos:
                out = run.evaluate(p, fitted[label], train, test, label, fold)
                if out is not None:
                    outs[label][p.name].append(out)
    run.splitter, run.cv, run.reranker = splitter, cv, reranker
    rows = [  # one row per model and protocol, its folds pooled
        run.row(p, outs[label][p.name], fitted[label], name, params, label, kind, fit_secs[label])
        for (name, params), label, kind in zip(specs, labels, kinds, strict=True)
        for p in protos
        if outs[label][p.name]
    ]
    fit_train = {label: run.fit_view(train, kind) for label, kind in zip(labels, kinds, strict=True)}
    _note_rows(rows, protos, threshold, cv, notes)
    _note_session_users(rows, splitter, inter, notes)
    if any(p.name == "sampled" for p in protos):
        notes.append("sampled metrics can rank models differently from full ranking (Krichene & Rendle 2020)")
        warnings.warn(notes[-1], SampledMetricsWarning, stacklevel=outside_movierec())
    return run.comparison(rows, fitted, train, test, fit_train)


def _note_rows(
    rows: list[Result], protos: Sequence[Protocol], threshold: float, cv: int | None, notes: list[str]
) -> None:
    """:func:`compare`'s notes on its rows: users counted, cross-validation groups, and the ranking rows
    ranked by the unclipped prediction (``rank_by="prediction"``)."""
    _note_user_counts(rows, protos, threshold, notes)
    _note_cv_groups(rows, cv, notes)
    notes += [RANKED_ROWS_NOTE] if any(RANKED_BY_PREDICTION in r.notes for r in rows) else []


def _compare_progress(progress: Progress | bool | None, n_models: int) -> Progress | None:
    """:func:`compare`'s ``progress``: None a line per model fit where a person watches, True always,
    False never, a callable as it is."""
    from movierec.progress import step_line_after

    if progress is None:
        line = default_progress(n_models)
    elif progress is False or progress is True:
        line = _LineProgress(n_models) if progress else None
    else:
        return progress
    if line is not None:  # MOVIEREC_PROGRESS_AFTER=0 shows every evaluation's count (a bad value: one line)
        line.after = step_line_after(line.after)
    return line


def _compare_split(
    inter: Interactions,
    split: Any,
    protos: Sequence[Protocol],
    specs: Sequence[tuple[str, dict[str, Any]]],
    kinds: Sequence[str],
    threshold: float | None,
    *,
    seed: int,
    cv: int | None,
    test_size: float,
    rank_by: str = "shrunk",
) -> tuple[S.Splitter, str, float, list[str]]:
    """:func:`compare`'s splitter (named, or the pair given), its key, the threshold it resolved and the
    notes the split and the data call for (what rating models rank by: ``rank_by``)."""
    notes: list[str] = []
    rank_by = _check_rank_by(rank_by)
    if threshold is None and assumes_threshold(inter):  # every row a positive: 4 would leave none
        notes.append(without_ratings_note(inter))
    threshold = resolve_threshold(inter, threshold)
    given = _given_split(split, inter, cv, test_size) if isinstance(split, (tuple, list)) else None
    if given is not None:  # the key the protocols need; the pair is split as it came
        _check_given_last_out(given, protos)
        _check_given_session(given, protos)
        split = next(
            (n for n in _SPLIT_BOUND if any(p.name == _SPLIT_BOUND[n] for p in protos)), "ratings-holdout"
        )
    key = _split_key(split, protos, kinds, threshold, notes, rank_by=rank_by)
    _check_positives(inter, protos, kinds, threshold)
    _note_scale(inter, specs, protos, kinds, threshold, notes)
    _note_low_rated_candidates(inter, key, protos, threshold, notes)
    if given is None:  # a given pair's test part was drawn elsewhere, by its own rule
        _note_tied_latest(inter, key, notes)
    if cv and cv > 1:  # the notes name the hold-out; with --cv the same kind of split comes in folds
        notes[:] = [_folds_wording(n, cv) for n in notes]
    splitter = given or S.get_splitter(key, seed=seed, threshold=threshold, test_size=test_size, cv=cv)
    return splitter, key, threshold, notes


def _check_given_last_out(given: S.GivenSplit, protos: Sequence[Protocol]) -> None:
    """The leave-last-out protocol on a given split: its test part must hold one rating per user (each
    user's latest). One that holds more is refused before any training, saying what the person can do
    with the split they gave: ``--split`` is refused beside ``--train``/``--test``, so naming it alone
    (as the protocol's own message does) pointed to an option that fails."""
    if not any(p.name == "leave-last-out" for p in protos):
        return
    counts = given.test.user_counts()
    more = int((counts > 1).sum())
    if not more:
        return
    # one line of at most 160 columns with 'movierec: error: ' up to 999,999 users (it was ~230): the
    # protocol's need, the count, and the two fixes; --help and docs say why --split is refused beside files
    head = f"leave-last-out tests one rating a user; the {{}} has 2+ for {more:,} users: "
    if given.about.startswith("given files"):  # --train/--test, an experiment's [split] train/test
        raise ConfigError(
            head.format("test file") + "give their latest, or drop the files for --split leave-last-out"
        )
    raise ConfigError(
        head.format("given test part")
        + "pass such a part (make_split(ds, 'leave-last-out') draws one), or split='leave-last-out'"
    )


def _check_given_session(given: S.GivenSplit, protos: Sequence[Protocol]) -> None:
    """The next-item-in-session protocol on a given split: its test part must hold a session, two or more
    events of a user, to predict each next one from. One without is refused before any training, saying
    what to do with the split given, as :func:`_check_given_last_out` does (the protocol's own message,
    after fitting, named ``--split last-session``, which is refused beside ``--train``/``--test``)."""
    if not any(p.name == "next-item-in-session" for p in protos):
        return
    if int((given.test.user_counts() > 1).sum()):
        return
    head = "next-item-in-session tests sessions; the {} has one event a user: "  # <= 160 columns, as above
    if given.about.startswith("given files"):  # --train/--test, an experiment's [split] train/test
        raise ConfigError(
            head.format("test file")
            + "give their latest sessions, or drop the files for --split last-session"
        )
    raise ConfigError(
        head.format("given test part")
        + "pass such a part (make_split(ds, 'last-session') draws one), or split='last-session'"
    )


#: the splits a protocol is bound to (its name → the protocol's): a given pair is read under that key
_SPLIT_BOUND = {"leave-last-out": "leave-last-out", "last-session": "next-item-in-session"}


def _given_split(split: Any, inter: Interactions, cv: int | None, test_size: float) -> S.GivenSplit:
    """``compare``'s ``split`` made elsewhere: ``(train, test, description)`` from :func:`make_split`, a
    ``(train, test)`` pair of ``inter``'s users and movies (the rows' per-user values are keyed by them),
    or RecBole's three parts ``(train, valid, test)`` (a description may follow them): the validation
    rows train too, and early stopping scores on them. Anything else, a part of another dataset,
    validation rows that are test rows, ``cv`` or ``test_size`` with it, is one ConfigError."""
    parts = tuple(split)
    about = parts[-1] if parts and isinstance(parts[-1], str) else None
    data = parts[:-1] if about is not None else parts
    if len(data) in (2, 3):  # your own train and test DataFrames, read with the dataset's ids
        data = tuple(_read_frames(inter, data))
    if not (len(data) in (2, 3) and all(isinstance(p, Interactions) for p in data)):
        found = ", ".join(type(p).__name__ for p in parts) or "nothing"
        raise ConfigError(
            "split is a name such as 'ratings-holdout', what make_split returns (train, test, description), "
            "a (train, test) pair of Interactions or DataFrames, or RecBole's (train, valid, test); "
            f"got a {type(split).__name__} of {found}"
        )
    train, valid, test = (data[0], None, data[1]) if len(data) == 2 else data
    for part, what in ((train, "train"), (valid, "valid"), (test, "test")):
        if part is not None and (part.user_map != inter.user_map or part.item_map != inter.item_map):
            raise ConfigError(
                f"the given split's {what} part has other users or movies than the dataset compared: "
                "split the dataset's own interactions (make_split(ds, ...), movierec.split on ds.interactions)"
            )
    if valid is not None:
        _check_valid_apart(valid, test, inter.n_items)
    if cv and cv > 1:
        raise ConfigError(
            "a given split is one (train, test) pair, so cv= has nothing to fold; "
            "split='per-user', cv=5 runs LensKit's crossfold_users"
        )
    if test_size != 0.2:
        raise ConfigError("test_size= sizes a named split; the given split's test part is already drawn")
    about = str(about or test._cache.get("split") or "")
    if not about:
        sizes = f"{train.n_ratings:,}" + ("" if valid is None else f" + {valid.n_ratings:,}")
        named = "train/test" if valid is None else "train + valid / test"
        about = f"given {named} ({sizes} / {test.n_ratings:,} ratings)"
    about = about if about.startswith("given") else f"given split: {about}"
    return S.GivenSplit(train, test, about, valid)


def _check_valid_apart(valid: Interactions, test: Interactions, n_items: int) -> None:
    """A given validation part shares no (user, movie) pair with the test part: a model stopped on test
    ratings would be chosen on what it is then scored on."""
    if valid.n_ratings == 0:
        raise ConfigError("the given split's valid part has no rows; pass (train, test) without it")
    both = np.isin(_pair_keys(valid, n_items), _pair_keys(test, n_items))
    if both.any():
        raise ConfigError(
            f"{int(both.sum()):,} of the given valid part's {valid.n_ratings:,} rows are test rows: a model "
            "stopped on them would be chosen on what it is scored on; split the validation part from training"
        )


def _note_user_counts(
    rows: Sequence[Result], protos: Sequence[Protocol], threshold: float, notes: list[str]
) -> None:
    """Why the tables' users column differs between protocols (610 under rating, 595 under the ranking
    protocols on ml-latest-small's default split, with nothing to say why): a ranking protocol counts only
    the users with a test positive. Said once, when the rating protocol counts more users than one of the
    ranking protocols in which a user needs a positive (the session and leave-last-out protocols count by
    their own rules and say nothing here)."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.protocol] = max(counts.get(r.protocol, 0), r.n_users)
    rated = counts.get("rating")
    if rated is None:
        return
    fewer = [
        p.name
        for p in protos
        if p.name in ("test-candidates", "full-ranking", "sampled") and counts.get(p.name, rated) < rated
    ]
    if not fewer:
        return
    shown = ", ".join(f"{name} {counts[name]:,}" for name in fewer)
    without = rated - min(counts[name] for name in fewer)  # compare --cv 3 on ml-latest-small: 1, 'has'
    notes.append(
        f"users: rating {rated:,}, {shown}: a ranking protocol counts only users with a test rating ≥ "
        f"{threshold:g} ({without:,} {'has' if without == 1 else 'have'} none)"
    )


def _note_session_users(rows: Sequence[Result], splitter: Any, inter: Interactions, notes: list[str]) -> None:
    """Why next-item-in-session counts fewer users than the data has (277 of 610 on ml-latest-small, with
    nothing on screen to say why): the last-session split tests each user's latest session of ≥ 2 ratings
    after earlier ones, and the others have none (:func:`movierec.session_eval.users_left_out`, by reason).
    Said once, on the last-session split, when a next-item-in-session row counts fewer users than the data."""
    from movierec.session_eval import users_left_out
    from movierec.split import LastSession

    counted = [r.n_users for r in rows if r.protocol == "next-item-in-session"]
    if not isinstance(splitter, LastSession) or not counted or max(counted) >= inter.n_users:
        return
    left = users_left_out(inter, splitter.gap)
    why = {
        "first": "for {n} it is their first (no rating before it to train on)",
        "none": f"{{n}} have no two ratings within {splitter.gap}",
        "few": "{n} have fewer than 3 ratings",
    }
    said = "; ".join(why[k].format(n=f"{n:,}") for k, n in left.items() if n)
    notes.append(
        f"users: next-item-in-session {max(counted):,} of {inter.n_users:,}: it tests each user's latest "
        f"session of ≥ 2 ratings (a session ends where ratings are over {splitter.gap} apart) after earlier "
        f"ratings" + (f"; {said}" if said else "")
    )


def _note_cv_groups(rows: Sequence[Result], cv: int | None, notes: list[str]) -> None:
    """Under K-fold CV a group's ``n`` counts its distinct users (:func:`_pool`), and a (user, fold) unit
    counts in the group it had in its fold: activity terciles come from each fold's training counts, so a
    user can be ``low`` in one fold and ``mid`` in the next, and a family's sizes then sum to more than
    the row's users (ml-latest-small, 5 folds, ease: 244 + 242 + 211 = 697 for 609 users). Said once,
    with the first such row's figures, where a family's sizes overshoot."""
    if not cv or cv < 2:
        return
    for r in rows:
        sizes: dict[str, float] = {}
        for m, v in r.metrics.items():
            if m.startswith("users[") and "=" in m:
                family = m[len("users[") : m.index("=")]
                sizes[family] = sizes.get(family, 0.0) + v
        over = {f: n for f, n in sizes.items() if n > r.n_users}
        if over:
            shown = ", ".join(f"{f} {n:,.0f}" for f, n in over.items())
            notes.append(
                f"user groups under {cv}-fold cv: each (user, fold) counts in the group it had in that fold "
                f"and n counts distinct users, so users who changed group between folds count in each "
                f"({shown} for {r.n_users:,} users)"
            )
            return


def _check_positives(
    inter: Interactions, protos: Sequence[Protocol], kinds: Sequence[str], threshold: float
) -> None:
    """A ranking protocol or an implicit model needs ratings ≥ ``threshold``; none at all is a ConfigError."""
    needs_positives = any(p.ranking for p in protos) or any(kd != "explicit" for kd in kinds)
    if needs_positives and not (inter.ratings >= threshold).any():
        raise no_positives(threshold, inter.ratings)


def _note_scale(
    inter: Interactions,
    specs: Sequence[tuple[str, dict[str, Any]]],
    protos: Sequence[Protocol],
    kinds: Sequence[str],
    threshold: float,
    notes: list[str],
) -> None:
    """The default threshold, 4, is MovieLens' 4 stars of 5. On another scale it was applied silently: on
    ratings 1-10 the header read 'relevance ≥ 4' while 96% of the ratings counted as positives (a 4 of 10
    is two stars). Said, with the share, where the scale's top is not 5; the figures stay as asked. Data
    whose every rating is one value (a log loaded without ratings) gets a note for its rating models."""
    needs_positives = any(p.ranking for p in protos) or any(kd != "explicit" for kd in kinds)
    lo, hi = float(inter.ratings.min()), float(inter.ratings.max())
    explicit = [name for (name, _), kd in zip(specs, kinds, strict=True) if kd == "explicit"]
    if lo == hi and explicit:  # a log without ratings: RMSE 0.0000 read as a perfect rating model
        notes.append(
            f"every rating is {lo:g} (data without ratings): rating models ({', '.join(explicit)}) learn "
            "nothing from it; their RMSE/MAE are 0 by construction and their lists rank by near-constant predictions"
        )
    scale = scale_threshold_note(inter) if needs_positives and threshold == 4.0 else None
    if scale is not None:
        notes.append(scale)


def _model_list(models: Any) -> list[Any]:
    """compare's ``models`` as a list of names and ``(name, params[, label])``: one comma-separated string
    split as the CLI's --models ("svd,ease": iterating it gave model 's'), model objects read as their
    name and params (:func:`_instance_spec`), and a dict ``{name: params}`` as its ``(name, params)`` pairs
    (iterating it gave the names alone: ``{"svd": {"epochs": 3}}`` trained svd's 25 epochs without a word)."""
    if isinstance(models, Mapping):
        bad = next(((n, p) for n, p in models.items() if p is not None and not isinstance(p, Mapping)), None)
        if bad is not None:
            raise ConfigError(
                f"models: a dict maps each model name to its hyperparameters ({{'svd': {{'epochs': 10}}}}); "
                f"{bad[0]!r} maps to {bad[1]!r}"
            )
        models = [(name, dict(params or {})) for name, params in models.items()]
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    return [_instance_spec(m) for m in models]


def _instance_spec(model: Any) -> Any:
    """A model object (``EASE(l2=100)``, what Surprise's ``cross_validate(algo, …)`` takes) as ``(name,
    params)``: its registered name and the hyperparameters it was given that differ from its class's
    defaults (so the run's seed still seeds it, and its row is labelled as ``("ease", {"l2": 100})``'s);
    compare fits a fresh one per fold, whatever the object's own state. Anything else passes unchanged.
    ``compare(ds, [EASE()])`` used to fail with "TypeError: 'EASE' object is not subscriptable"."""
    from movierec.models.base import BaseRecommender

    if not isinstance(model, BaseRecommender):
        pair = isinstance(model, (tuple, list)) and len(model) in (2, 3) and isinstance(model[0], str)
        if not isinstance(model, str) and not pair:
            raise ConfigError(
                f"models: {model!r} is not a model; give a name ('ease'), (name, params), (name, params, label) "
                "or a model object (movierec.models.ease.EASE(l2=100))"
            )
        return model
    defaults = type(model)().get_params()
    given = {k: v for k, v in model.get_params().items() if k not in defaults or defaults[k] != v}
    return (type(model).name, given)


def _seeded_specs(models: Sequence[Any], seed: int) -> list[tuple[str, dict[str, Any]]]:
    """``(name, params)`` pairs; the run's seed seeds every model unless the model was given its own."""
    from movierec.models.registry import get_class

    specs = [(m, {}) if isinstance(m, str) else (m[0], dict(m[1])) for m in models]
    if not specs:
        raise ConfigError("no models to compare; pass at least one model name")
    if not is_seed(seed):  # compare(..., seed="1") said "svd: random_state must be …", a keyword not passed
        raise ConfigError(f"seed must be a whole number in 0 … 2**32 - 1, got {seed!r}")
    for name, params in specs:
        if (
            "random_state" not in params
            and "random_state" in inspect.signature(get_class(name).__init__).parameters
        ):
            params["random_state"] = seed
    return specs


def _params_of(model: Any) -> dict[str, Any]:
    """A model's hyperparameters (``get_params``), or none for an object without them."""
    get = getattr(model, "get_params", None)
    return dict(get()) if callable(get) else {}


def _check_stopping(
    value: Any, specs: Sequence[tuple[str, dict[str, Any]]], key: str, monitor: Any, given_valid: bool = False
) -> Any:
    """``compare``'s ``early_stopping`` as a :class:`movierec.early_stopping.StopSpec` (or ``None``),
    refused in one line before any training where it cannot apply: beside ``monitor`` (both cut a
    validation part out of the training data), on a sequence split without a given valid part (the part
    it would cut is drawn at random, not each user's latest events; ``given_valid``: the split brings its
    own, RecBole's leave-one-out valid, and nothing is cut), or with a metric a model that would stop
    cannot be scored by (``rmse`` for bpr). Models that cannot stop are not refused: they train as
    before, with a note."""
    from movierec.metrics import parse_metric as parse
    from movierec.models.registry import create
    from movierec.stopping import can_stop_early, stop_spec

    spec = stop_spec(value)
    if spec is None:
        return None
    if monitor is not None:
        raise ConfigError(
            "early stopping and monitor= each move a validation part out of the training data; use one"
        )
    if key in ("leave-last-out", "last-session") and not given_valid:
        cuts = (
            f"early stopping cuts a random validation part from each user's training ratings, which the {key} "
            "split's sequences cannot spare; leave early stopping out, use a ratings split, or give a "
            "validation part of each user's next-latest events"
        )
        raise ConfigError(framed(_GIVEN_VALID, lambda valid: f"{cuts} ({valid})"))
    for name, params in specs:
        model = create(name, **params)
        if can_stop_early(model) and hasattr(model, "epochs"):
            try:
                parse(spec.metric, model_kind=tags_of(model).kind)
            except ConfigError as exc:
                raise ConfigError(f"early stopping {name} on {spec.metric}: {exc}") from None
    return spec


def _has_valid(splitter: S.Splitter) -> bool:
    """Whether ``splitter`` is a given split with its own validation part (early stopping scores on it)."""
    return isinstance(splitter, S.GivenSplit) and splitter.stopping_parts() is not None


def _given_stopping(spec: Any, splitter: S.Splitter) -> tuple[Interactions, Interactions] | None:
    """A given split's ``(train, valid)`` for early stopping to fit and score on (``None``: no valid part,
    a part is cut per fold). Scoring on that part cuts nothing: a ``valid_size`` other than the default
    is refused (it would size nothing), in one line before any training."""
    given = splitter.stopping_parts() if isinstance(splitter, S.GivenSplit) else None
    if spec is not None and given is not None and spec.valid_size != 0.1:
        raise ConfigError(
            f"early stopping's valid_size={spec.valid_size:g} sizes a validation part cut from the training "
            "part, and the given split has its own valid part: leave valid_size out"
        )
    return given


def _compare_protocols(
    protocols: Sequence[str] | str,
    ds: Dataset,
    beyond: bool,
    rerank: str | None,
    user_groups: dict[str, np.ndarray] | None,
    auc: bool = False,
) -> tuple[list[Protocol], sp.csr_matrix | None, dict[str, np.ndarray] | None, Any]:
    """The protocol objects of a comparison (re-ranked full ranking when asked), the genre matrix and groups."""
    if isinstance(protocols, str):
        protocols = [p for p in protocols.split(",") if p.strip()]
    protos = [get_protocol(p) for p in protocols]
    if not protos:
        raise ConfigError("no protocols given")
    genres = _genre_matrix(ds) if beyond or rerank else None
    if beyond and user_groups is None:  # gender and age where the dataset has a user file
        from movierec.beyond import demographic_groups

        user_groups = demographic_groups(ds) or None
    reranker = None
    if rerank:
        from movierec.rerank import parse_rerank

        reranker = parse_rerank(rerank)
        if not any(p.name == "full-ranking" for p in protos):
            raise ConfigError(
                _needs_full_ranking("a re-ranker ({}) re-ranks full-ranking lists", "rerank=", "--rerank")
            )
        if reranker is not None and reranker.name == "calibrated" and genres is None:
            raise ConfigError(f"re-ranker {rerank!r} needs movie genres, and {ds.name} has none")
    if reranker is not None or auc:
        protos = [
            FullRankingProtocol(reranker, genres, auc) if p.name == "full-ranking" else p for p in protos
        ]
    if auc and not any(p.name == "full-ranking" for p in protos):
        raise ConfigError(_needs_full_ranking("AUC ({}) measures the full ranking", "auc=True", "--auc"))
    if beyond and not any(p.name == "full-ranking" for p in protos):
        raise ConfigError(
            _needs_full_ranking(
                "beyond-accuracy metrics ({}) measure full-ranking lists", "beyond=True", "--beyond"
            )
        )
    return protos, genres, user_groups, reranker


def _needs_full_ranking(what: str, python: str, cli: str) -> Doors:
    """The refusal of a setting that only the full-ranking protocol measures, ``what`` naming it at ``{}`` in
    each door's words ('AUC (auc=True) …' in Python, 'AUC (--auc) …' in the CLI; one line named both)."""
    fix = "; add full-ranking to the protocols"
    return Doors(f"{what.format(python)}{fix}", f"{what.format(cli)}{fix}")


def _folds_wording(note: str, cv: int) -> str:
    """A split note reworded for ``cv`` folds: "one ratings hold-out" is a K-fold split of the ratings,
    "interactions-holdout splits ratings ≥ 4 only" holds for the folds of positives too."""
    return framed(
        note,
        lambda text: text.replace(
            "share one ratings hold-out", f"share one {cv}-fold split of the ratings"
        ).replace("interactions-holdout splits ratings", f"the {cv} folds split ratings"),
    )


def _note_low_rated_candidates(
    inter: Interactions, key: str, protos: Sequence[Protocol], threshold: float, notes: list[str]
) -> None:
    """The positives hold-out splits only ratings ≥ ``threshold``: a movie a user rated below it is in
    neither part, so full ranking keeps it among their candidates, while ``recommend`` leaves every rated
    movie out. Said once, where the data has such ratings (docs/protocols.md)."""
    if key == "interactions-holdout" and any(p.name == "full-ranking" for p in protos):
        if bool((inter.ratings < threshold).any()):
            notes.append(
                f"interactions-holdout splits ratings ≥ {threshold:g} only: a movie a user rated below "
                f"{threshold:g} stays a full-ranking candidate, where recommend leaves it out "
                "(the ratings-holdout split excludes it)"
            )


def _note_tied_latest(inter: Interactions, key: str, notes: list[str]) -> None:
    """Leave-last-out holds out each user's latest rating, and MovieLens gives several ratings one timestamp
    (ml-100k: 415 of 943 users' latest). The data does not say which tied rating came last; the split
    picks one by a fixed hash (:func:`movierec.split.tie_key`), not by movie id, whose highest held out
    (as it did) moved ml-100k's popularity HR@10 to 0.050 from 0.112 (lowest id) or 0.069 (a random one).
    Said, with the count, where any user's latest rating is tied: it still shapes the test set. Two lines
    at 80 columns (a users count of ml-20m's size included)."""
    if key != "leave-last-out":
        return
    tied, users = S.tied_latest(inter)
    if tied:
        notes.append(
            f"leave-last-out: {tied:,} of {users:,} users ({tied / users:.0%}) rated other movies at the "
            "timestamp of their latest rating; the test item is a fixed random pick of those"
        )


def _split_key(
    split: str,
    protos: Sequence[Protocol],
    kinds: Sequence[str],
    threshold: float,
    notes: list[str],
    *,
    rank_by: str = "shrunk",
) -> str:
    """The split policy: ``auto`` picks the hold-out the models' kinds call for; notes say what that means,
    and what the explicit models' ranking rows rank by where that is the shrunk score (under
    ``rank_by="prediction"`` :data:`RANKED_ROWS_NOTE` says so instead: the two notes said both)."""
    key = S.split_key(split)
    if key not in SPLITS:
        raise ConfigError(S.unknown_split(split, SPLITS))
    if key == "auto" and any(p.name == "leave-last-out" for p in protos):
        key = "leave-last-out"  # the protocol has exactly one split it can run on; its note below
    if key == "auto" and any(p.name == "next-item-in-session" for p in protos):
        key = "last-session"
    elif key == "auto":
        if all(kd == "explicit" for kd in kinds):
            key = "ratings-holdout"
        elif all(kd != "explicit" for kd in kinds):
            key = "interactions-holdout"
        else:
            key = "ratings-holdout"
            notes.append(
                f"explicit and implicit models share one ratings hold-out; test positives = test ratings ≥ {threshold:g}, "
                f"implicit models train on training ratings ≥ {threshold:g}"
            )
    elif key == "leave-last-out":  # fit_view and the protocol: the threshold does not apply
        notes.append(
            "leave-last-out: every model trains on every training rating, and each user's latest rating is "
            "the test item whatever its value"
        )
    elif key != "interactions-holdout" and any(kd != "explicit" for kd in kinds):
        notes.append(
            f"implicit models train on training ratings ≥ {threshold:g}; test positives = test ratings ≥ {threshold:g}"
        )
    if rank_by == "shrunk" and any(kd == "explicit" for kd in kinds) and any(p.ranking for p in protos):
        notes.append(
            "explicit models are ranked by predicted rating, shrunk for rarely rated movies, in the ranking protocols"
        )
    if key == "interactions-holdout" and any(kd == "explicit" for kd in kinds):
        notes.append(
            f"interactions-holdout: explicit models train on positives only (ratings ≥ {threshold:g})"
        )
    if any(p.name == "leave-last-out" for p in protos) and key != "leave-last-out":
        raise ConfigError(
            framed(
                _LEAVE_LAST_OUT_SPLIT,
                lambda s: f"the leave-last-out protocol needs the leave-last-out split ({s})",
            )
        )
    if any(p.name == "next-item-in-session" for p in protos) != (key == "last-session"):
        together = "the next-item-in-session protocol and the last-session split go together"
        # the fix is the half that is missing: ``--split last-session`` alone was told '(--split last-session)'
        missing = _LAST_SESSION_SPLIT if key != "last-session" else _SESSION_PROTOCOL
        raise ConfigError(framed(missing, lambda fix: f"{together} ({fix})"))
    return key


class _FoldRun:
    """Fits a model on a fold and evaluates it under every protocol (features built once per id map)."""

    beyond: bool = False
    genres: sp.csr_matrix | None = None
    user_groups: dict[str, np.ndarray] | None = None
    splitter: S.Splitter
    cv: int | None = None
    reranker: Any = None
    monitor: Any = None  # an EpochValidator (movierec.epoch_validation), or None
    stopping: Any = None  # a StopSpec (movierec.early_stopping), or None
    rank_by: str = "shrunk"  # what a rating model's ranking protocols rank by (evaluate's rank_by)
    #: a given split's (train, valid) parts (``split=(train, valid, test)``, ``--valid``): early stopping
    #: fits on train and scores on valid instead of cutting a validation part; None otherwise
    given_stop: tuple[Interactions, Interactions] | None = None

    def __init__(
        self,
        ds: Dataset,
        protos: list[Protocol],
        key: str,
        k: int,
        threshold: float,
        seed: int,
        item_features: Any,
        user_features: Any,
        progress: Progress | None,
        notes: list[str],
    ) -> None:
        self.ds, self.protos, self.key = ds, protos, key
        self.k, self.threshold, self.seed = k, threshold, seed
        self.item_features, self.user_features = item_features, user_features
        self.progress, self.notes = progress, notes
        self.features: dict[int, Any] = {}  # id(user map) -> user features
        self.fold_items: tuple[int, Any] | None = None  # (fold, its item features)
        self.skipped: set[tuple[str, str]] = set()
        # (protocol, reason with the model's name blanked) -> (index in notes, labels): models skipped
        # for the same reason share one note ("rating skipped for ease, bpr: implicit models …")
        self._skip_notes: dict[tuple[str, str], tuple[int, list[str]]] = {}
        #: label -> one record per fold of early stopping: best_epoch, valid_score, stopped_epoch, max_epochs
        self.stops: dict[str, list[dict[str, Any]]] = {}
        #: label -> the item features its model learned from, as its table row names them ('genres+tags')
        self.featured: dict[str, str] = {}
        #: whether a model learned from the user features (the caption names them then)
        self.user_featured = False
        #: fold -> the tag rows on its test pairs left out of its item features (ItemFeatures.held_out_tags)
        self.held_out_tags: dict[int, int] = {}

    def comparison(
        self,
        rows: list[Result],
        fitted: dict[str, Any],
        train: Interactions,
        test: Interactions,
        fit_train: dict[str, Interactions],
    ) -> Comparison:
        """The finished comparison: its rows and models with the run's settings and provenance."""
        from movierec.provenance import provenance

        self.note_stopping(fitted)  # every model, in the order given
        if self.featured:  # a model learned from item features: the tag rows they left out, once
            said = held_out_tags_note(sum(self.held_out_tags.values()), len(self.held_out_tags))
            self.notes.extend([said] if said else [])

        ds = self.ds
        return Comparison(
            rows=rows,
            models=fitted,
            train=train,
            test=test,
            split=self.splitter.description,
            dataset=ds.name,
            dataset_sha256=ds.sha256,
            k=self.k,
            threshold=self.threshold,
            seed=self.seed,
            notes=self.notes,
            # a split read from files (movierec.split_files) records each file's path and sha256
            provenance=provenance(ds.name, ds.sha256)
            | ({"split_files": ds.split_files} if ds.split_files else {}),
            fit_train=fit_train,
            protocols=[p.name for p in self.protos],
            item_features=dict(self.featured),
            user_features=_user_features_words(self.user_features) if self.user_featured else None,
        )

    def fit_view(self, train: Interactions, kind: str) -> Interactions:
        # leave-last-out: every interaction is an event in the sequence (the threshold does not apply)
        return (
            train if kind == "explicit" or self.key == "leave-last-out" else train.to_implicit(self.threshold)
        )

    def _emit(self, event: dict[str, Any]) -> None:
        if self.progress:
            self.progress(event)

    def _side_features(self, train: Interactions, test: Interactions, fold: int) -> tuple[Any, Any]:
        """The fold's item features (built once per fold: without the tag rows on its test pairs) and
        user features (once per user map: folds share it)."""
        if self.fold_items is None or self.fold_items[0] != fold:
            built = resolve_item_features(self.item_features, self.ds, train, held_out=test)
            self.fold_items = (fold, built)
            self.held_out_tags[fold] = int(getattr(built, "held_out_tags", 0))
        items = self.fold_items[1]
        if self.user_features is None:
            return items, None
        if id(train.user_map) not in self.features:  # issue 20
            from movierec.demographics import resolve_user_features

            self.features[id(train.user_map)] = resolve_user_features(self.user_features, self.ds, train)
        return items, self.features[id(train.user_map)]

    def _items_for_cut(self, items: Any, rest: Interactions, held_out: list[Interactions]) -> Any:
        """The fold's item features ``items`` for a fit on ``rest``, a cut of its training data whose other
        part scores the fit (early stopping's validation part, ``monitor=``'s slice): by name, built again
        without the tag rows on ``held_out``'s pairs (the test part and that other part); a matrix given in
        Python, or none, as it is."""
        if items is None or not isinstance(self.item_features, (str, list, tuple)):
            return items
        return resolve_item_features(self.item_features, self.ds, rest, held_out=held_out)

    def fit(
        self,
        name: str,
        params: dict[str, Any],
        label: str,
        kind: str,
        split: tuple[Interactions, Interactions],
        fold: int,
        folds: int,
    ) -> tuple[Any, float]:
        """A fresh ``name`` fitted on fold ``fold``'s training data (``split``: the fold's train and test
        parts; the test part only keeps its pairs' tags out of the item features); the model and its fit
        seconds."""
        from movierec.models.memory import check_memory
        from movierec.models.registry import create
        from movierec.stopping import can_stop_early

        train, test = split
        model = create(name, **params)
        item_feats, user_feats = self._side_features(train, test, fold)
        if self.user_features is not None and not getattr(model, "uses_user_features", False) and fold == 0:
            self._note_ignored("user features", label)
        if user_feats is not None and getattr(model, "uses_user_features", False):
            self.user_featured = True  # the caption names them
        if item_feats is not None and not uses_item_features(model) and fold == 0:
            self._note_ignored("item features", label)
        elif item_feats is not None:
            self.featured[label] = features_words(self.item_features)
        epochs = getattr(model, "epochs", None)
        # a size the machine cannot hold is refused before its progress line starts (fit checks it too)
        check_memory(model, train.n_users, train.n_items, train.n_ratings)
        # and a size the data sets (itemknn-explicit's neighbour table), asked of the model with the data
        data_check = getattr(model, "check_fit_memory", None)
        if callable(data_check):
            data_check(train)
        budget = getattr(model, "time_budget", None)  # sasrec, gru4rec: the fit may end by the clock
        self._emit(
            {"event": "fit-start", "model": label, "fold": fold, "folds": folds, "epochs": epochs}
            | ({"time_budget": float(budget)} if isinstance(budget, (int, float)) else {})
            | ({"item_features": self.featured[label]} if label in self.featured else {})
        )
        if self.stopping is not None and can_stop_early(model) and getattr(model, "epochs", None):
            model, secs = self.stop_and_refit(model, label, kind, split, fold, (item_feats, user_feats))
            stop = self.stops[label][-1]  # "training stopped" only where patience ran out, not at the maximum
            self._emit({"event": "fit-end", "model": label, "fold": fold, "seconds": secs,
                        "stopped": "early stopping" if stop["stopped"] else None, "epochs_run": stop["stopped_epoch"]})  # fmt: skip
            return model, secs
        data, listener = self.fit_view(train, kind), None
        if self.monitor is not None and self.key not in ("leave-last-out", "last-session"):
            # every model fits without the validation slice (sequences keep every event); curves for some
            rest, valid = self.monitor.split(train)
            data = self.fit_view(rest, kind)
            item_feats = self._items_for_cut(item_feats, rest, [test, valid])  # the curves read valid
            listener = self.monitor.attach(
                label, model, data, valid, None if kind == "explicit" else self.threshold
            )
        # the views fitting reads (our CSR, Surprise's Trainset), cached on the data and shared by the models
        # fitted on it, are the split's preparation, not a model's training: built before the clock for every
        # model, ours and the reference libraries' alike (BaseRecommender.prepare)
        prepare = getattr(model, "prepare", None)
        if callable(prepare):
            prepare(data)
        secs = _fit(model, data, item_feats, label, self.progress, user_feats, listener)
        self._note_time_budget(model, name, label, fold, folds)
        self._emit(
            {
                "event": "fit-end",
                "model": label,
                "fold": fold,
                "seconds": secs,
                "stopped": _stop_reason(model),  # why an early-stopping model ended before its last epoch
                "epochs_run": len(getattr(model, "history_", None) or []),
            }
        )
        return model, secs

    def stop_and_refit(
        self,
        model: Any,
        label: str,
        kind: str,
        split: tuple[Interactions, Interactions],
        fold: int,
        feats: tuple[Any, Any],
    ) -> tuple[Any, float]:
        """Early stopping on one fold: cut ``valid_size`` of each user's ``train`` ratings (seeded with the
        run's seed plus the fold; never the test part), fit ``model`` on the rest with
        :class:`~movierec.early_stopping.EarlyStopping` (its ``epochs`` the maximum), then refit a fresh copy
        on the whole of ``train`` with ``epochs`` = the best epoch. The refit, not RecBole's kept best model:
        the other rows of the table train on the whole training part, and the kept copy would have seen
        ``valid_size`` less of it, so the test figures would mix the epoch count with the data size; the refit
        row is exactly ``compare`` with ``epochs=best_epoch`` (reusable as such, as tune's best.toml), and
        for bpr and svd the model after epoch e is the model ``epochs=e`` returns (tests/test_tuning.py), so
        only the data differs from the copy. It costs a second fit of at most the best epochs; the seconds
        are both fits' training (validation scoring left out). Item features by name are built again for
        the stopping fit, without the tags on the validation pairs as well as the test pairs'."""
        from movierec.models.registry import create
        from movierec.stopping import Stopper, cut_validation

        spec, (train, test) = self.stopping, split
        if self.given_stop is not None:  # the split's own validation part: train is train + valid
            rest, valid = self.given_stop
        else:
            rest, valid = cut_validation(train, spec.valid_size, seed=self.seed + fold)
        stopper = Stopper(  # EarlyStopping's rule and scores, with score_split given (no import cycle)
            valid, spec.metric, every=spec.every, patience=spec.patience, known=rest,
            threshold=None if self.key == "leave-last-out" else self.threshold,  # every held-out event counts
            score=score_split,
        )  # fmt: skip
        data = self.fit_view(rest, kind)
        stopper.start_fit(model, data)  # _fit wraps the callback: tell the stopper its model here
        model.prepare(data)
        items = self._items_for_cut(feats[0], rest, [test, valid])
        secs = _fit(model, data, items, label, self.progress, feats[1], stopper)
        budget = int(model.epochs)
        best = stopper.best_epoch_ or budget  # no finite score at all (a diverged fit): the budget
        refit = create(model.name, **{**model.get_params(), "epochs": best})
        whole = self.fit_view(train, kind)
        refit.prepare(whole)
        secs += _fit(refit, whole, feats[0], label, self.progress, feats[1])
        # the stopping run's epochs, each scored one with its val_<metric>: the report's validation chart
        scored = {epoch: {f"val_{spec.metric}": value} for epoch, value in stopper.history_.items()}
        refit.stopping_history_ = [  # type: ignore[attr-defined]
            {**e, **scored.get(int(e.get("epoch", 0)), {})} for e in getattr(model, "history_", None) or []
        ]
        self.stops.setdefault(label, []).append(
            {
                "best_epoch": best,
                "valid_score": stopper.best_score_,
                "stopped_epoch": stopper.stopped_epoch_,
                "stopped": stopper.stopped_,
                "max_epochs": budget,
            }
        )
        return refit, secs

    def stop_fields(self, label: str) -> dict[str, Any]:
        """A row's ``best_epoch``, ``valid_score`` and ``stopping`` (none for a model that did not stop)."""
        stops = self.stops.get(label)
        if not stops or self.stopping is None:
            return {}
        epochs = [s["best_epoch"] for s in stops]
        shown = "/".join(str(e) for e in epochs)
        most = stops[0]["max_epochs"]
        if not any(s["stopped"] for s in stops):  # no fold stopped: "(stopped at 25)" of 25 read as a stop
            ended = f"ran all {most}: patience {self.stopping.patience} not spent"
        else:
            ended = "stopped at " + "/".join(str(s["stopped_epoch"]) if s["stopped"] else "–" for s in stops)
            ended += "" if all(s["stopped"] for s in stops) else f"; – ran all {most}"
        return {
            "best_epoch": round(float(np.mean(epochs))),
            "valid_score": float(np.mean([s["valid_score"] for s in stops])),
            "stopping": (
                f"early stopping on validation {self.stop_words()}: best epoch {shown} of at most {most} "
                f"({ended}); refit on {self.refit_words()} with epochs={shown}"
            ),
        }

    def stop_words(self) -> str:
        """The stopping setting as the note and rows say it: the share cut from each user's training
        ratings, or the validation part given (its file's name, or ``the given valid part``)."""
        if self.given_stop is None:
            return str(self.stopping)
        valid = self.given_stop[1]
        name = valid._cache.get("part") or "the given valid part"
        return self.stopping.describe(f"{name} ({valid.n_ratings:,} ratings)")

    def refit_words(self) -> str:
        """What a stopped model is refit on: the whole training part, or the given train and valid parts."""
        if self.given_stop is None:
            return "the whole training part"
        train, valid = self.given_stop
        if train._cache.get("part") and valid._cache.get("part"):
            return f"{train._cache['part']} + {valid._cache['part']}"
        return "the given train + valid parts"

    def note_stopping(self, fitted: Mapping[str, Any]) -> None:
        """The comparison's one early-stopping note: each stopped model's epochs, the refit, the models
        that stop by themselves (sasrec, gru4rec: on each user's latest training item, by ``patience``;
        their ``time_budget`` ends their one fit, noted apart), and the models that could not stop
        (trained with their own epochs, as without early stopping). ``fitted``: label → model, in the
        order given. sasrec and gru4rec were said to have "no epochs, or a loop another library runs"."""
        if self.stopping is None:
            return
        labels = list(fitted)
        done = [f"{lab} {self.stop_fields(lab)['best_epoch']}" for lab in labels if lab in self.stops]
        own = [lab for lab in labels if lab not in self.stops and "patience" in _params_of(fitted[lab])]
        rest = [lab for lab in labels if lab not in self.stops and lab not in own]
        text = f"{STOPPING_NOTE} {self.stop_words()}"
        if done:
            text += f": best epochs {', '.join(done)}, each refit on {self.refit_words()} with them"
        for lab in own:
            text += (
                f"; {lab} stops by itself (on each user's latest training item; "
                f"patience={_params_of(fitted[lab])['patience']}) and trained once, as without it"
            )
        if rest:
            text += (
                f"; {', '.join(rest)} cannot stop between epochs (no epochs, or a loop another library runs) "
                "and trained as without it"
            )
        self.notes.append(text)

    def row(
        self,
        p: Protocol,
        outs: list[EvalOutput],
        model: Recommender,
        name: str,
        params: dict[str, Any],
        label: str,
        kind: str,
        fit_secs: list[float],
    ) -> Result:
        """One result row: a protocol's outputs pooled over the folds, with intervals and provenance."""
        return Result.measured(
            _pool(outs, self.ds.interactions.n_users, self.seed),
            p.ranking,
            self.ds.interactions.user_map,
            model=name,
            kind=kind,
            protocol=p.name,
            dataset=self.ds.name,
            dataset_sha256=self.ds.sha256,
            split=self.splitter.description,
            seed=self.seed,
            k=self.k,
            threshold=_threshold(p.name, self.key, self.threshold),
            params=model.get_params() if hasattr(model, "get_params") else dict(params),
            fit_seconds=float(np.mean(fit_secs)),
            label=f"{label}+{self.reranker.spec}" if self.reranker and p.name == "full-ranking" else label,
            folds=self.cv,
            item_features=features_words(self.item_features, ",") if label in self.featured else None,
            **self.stop_fields(label),
        )

    def _note_grouped(self, key: tuple[str, str], label: str, one: str, many: Callable[[str], str]) -> None:
        """One note per ``key`` naming every model it concerns: ``one`` for the first model, then
        ``many(joined labels)`` in its place."""
        if key not in self._skip_notes:
            self._skip_notes[key] = (len(self.notes), [label])
            self.notes.append(one)
            return
        at, labels = self._skip_notes[key]
        labels.append(label)
        self.notes[at] = many(", ".join(labels))

    def _note_time_budget(self, model: Any, name: str, label: str, fold: int, folds: int) -> None:
        """A note beside the figures when a time budget, not training, ended ``model``'s fit (sasrec's 180 s by
        default): 'sasrec stopped at its 180 s time budget after 7 of 200 epochs, ...'. On a busy machine the
        README's leave-last-out run scored sasrec 0.022 against markov's 0.050 after 7 epochs, and only a
        progress line on stderr said why. Once per model, for the first fold it happened on."""
        if getattr(model, "stop_reason_", None) != "time budget":
            return
        if any(n.startswith(f"{label} stopped at its ") for n in self.notes):
            return
        ran, most = len(getattr(model, "history_", None) or []), getattr(model, "epochs", None)
        where = f" on fold {fold + 1} of {folds}" if folds > 1 else ""
        said = (
            f"{label} stopped at its {float(model.time_budget):g} s time budget after {ran} of {most} "
            f"epochs{where}, before it converged, so its figures may be low; give it more time: "
        )
        more = Doors(f"({name!r}, {{'time_budget': SECONDS}})", f"--params {name}.time_budget=SECONDS")
        self.notes.append(framed(more, lambda fix: said + fix))

    def _note_ignored(self, what: str, label: str) -> None:
        """One note per kind of side features, naming every model that ignores them."""
        self._note_grouped(
            ("ignored", what), label, f"{label} ignores {what}", lambda ls: f"{ls} ignore {what}"
        )

    def _note_skip(self, protocol: str, label: str, name: str, reason: str) -> None:
        """One note per protocol and reason, naming every model it skipped."""
        # the reason without its subject: "ease is an implicit model (…)" → "implicit models (…)"
        shared = re.sub(rf"^{re.escape(name)} is an? (\w+) model\b", r"\1 models", reason)
        shared = shared.removeprefix(f"{name} ")
        self._note_grouped(
            (protocol, reason.replace(name, "\0")),
            label,
            f"{protocol} skipped for {label}: {reason}",
            lambda ls: f"{protocol} skipped for {ls}: {shared}",
        )

    def evaluate(
        self, p: Protocol, model: Recommender, train: Interactions, test: Interactions, label: str, fold: int
    ) -> EvalOutput | None:
        """``model``'s output under ``p`` on one fold, or None (with one note) where ``p`` does not apply."""
        data_reason = p.data_skip_reason(test, _threshold(p.name, self.key, self.threshold))
        if data_reason:  # one note for the whole comparison, not one per model
            if ("*", p.name) not in self.skipped:
                self.skipped.add(("*", p.name))
                self.notes.append(f"{p.name} skipped: {data_reason}")
            return None
        reason = p.skip_reason(model)
        if reason:
            if (label, p.name) not in self.skipped:
                self.skipped.add((label, p.name))
                self._note_skip(p.name, label, str(getattr(model, "name", label)), reason)
            return None
        event = {"event": "evaluate", "model": label, "protocol": p.name, "fold": fold}
        self._emit(event)

        def told(n: int, of: int) -> None:  # the same step, how far it has got: '128/595 users scored'
            self._emit({**event, "scored": n, "users": of})

        threshold = _threshold(p.name, self.key, self.threshold)
        scored, by_prediction = _ranked(model, self.rank_by) if p.ranking else (model, False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SampledMetricsWarning)
            out = p.evaluate(
                scored, train, test, k=self.k, threshold=threshold, seed=self.seed, on_scored=told
            )
        out.notes += [RANKED_BY_PREDICTION] if by_prediction else []
        if self.beyond and p.name == "full-ranking":
            from movierec.beyond import extend_output

            extend_output(
                out,
                model=model,
                train=train,
                k=self.k,
                seed=self.seed,
                genres=self.genres,
                user_groups=self.user_groups,
            )
        return out


_LONG_COLUMNS = (
    "model", "kind", "protocol", "metric", "value", "lo", "hi",
    "n_users", "fit_seconds", "split", "seed", "k", "threshold", "item_features",
)  # fmt: skip


def results_table(
    rows: Sequence[Result], layout: str = "wide", *, provenance: dict[str, Any] | None = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """The one results table schema: ``(columns, rows)`` of a comparison, ``long`` or ``wide``.

    ``wide`` (``compare --out``): one row per (model, protocol), every metric a column with
    ``METRIC_lo``/``METRIC_hi`` interval columns, params as JSON, notes and provenance.
    ``long`` (the report): one row per (model, protocol, metric) with ``value``, ``lo``, ``hi``: the interval
    named as in ``wide`` and :meth:`Result.to_frame` (the report's CSV said ``ci_low``/``ci_high``).
    """
    if layout == "long":
        long_rows = []
        for r in rows:
            for m, v in r.metrics.items():
                lo, hi = r.intervals.get(m, (None, None))
                values: tuple[Any, ...] = (
                    r.label, r.kind, r.protocol, m, _csv_num(v), _csv_num(lo), _csv_num(hi), r.n_users,
                    f"{r.fit_seconds:.4f}", r.split, r.seed, r.k, r.threshold, r.item_features or "",
                )  # fmt: skip
                long_rows.append(dict(zip(_LONG_COLUMNS, values, strict=True)))
        return list(_LONG_COLUMNS), long_rows
    if layout != "wide":
        raise ConfigError(f"unknown results layout {layout!r}; valid: long, wide")
    names: list[str] = []
    for r in rows:
        names.extend(m for m in r.metrics if m not in names)
    records = []
    for r in rows:  # as Comparison.records(): every row has every metric key (null where it has none)
        rec = r.to_dict()
        for m in names:
            rec.setdefault(m, None)
        records.append({**rec, "provenance": dict(provenance or {})})
    flat = []
    for r, rec in zip(rows, records, strict=True):
        skip = ("intervals", "provenance", "params", "notes", "by_fold")
        row = {k: v for k, v in rec.items() if k not in skip}
        for m, (lo, hi) in rec["intervals"].items():
            row[f"{m}_lo"], row[f"{m}_hi"] = lo, hi
        row.update({f"{m}_std": v for m, v in r.fold_std().items()})  # cross-validation: std over folds
        row["params"] = json.dumps(rec["params"], sort_keys=True)
        row["notes"] = " | ".join(rec["notes"])
        row["git_commit"] = rec["provenance"].get("git_commit")
        row["created_at"] = rec["provenance"].get("created_at")
        flat.append(row)
    trailing = ("n_users", "fit_seconds", "score_seconds", "params", "notes", "git_commit", "created_at")
    extra = [f"{m}_{b}" for m in names for b in ("lo", "hi", "std") if any(f"{m}_{b}" in r for r in flat)]
    # the identity columns lead: not a metric, its interval or std (a first row with intervals listed them
    # here too, and the CSV had every METRIC_lo/_hi column twice), nor a trailing one
    fields = [f for f in flat[0] if f not in names and f not in extra and f not in trailing] if flat else []
    fields += list(names) + extra
    for row in flat:
        fields.extend(f for f in row if f not in fields)
    return fields, flat


def write_results_csv(
    path: str | Path,
    rows: Sequence[Result],
    layout: str = "wide",
    *,
    provenance: dict[str, Any] | None = None,
) -> Path:
    """Write :func:`results_table` as CSV (``results.csv``: wide from ``compare --out``, long in the report)."""
    import csv

    fields, table = results_table(rows, layout, provenance=provenance)
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(table)
    return path


def _csv_num(v: Any) -> str:
    if v is None:
        return ""
    v = float(v)
    return repr(v) if np.isfinite(v) else ""


def _genre_matrix(ds: Any) -> sp.csr_matrix | None:
    """Items × genres of a dataset's catalogue (``None`` without movie metadata)."""
    if ds is None or getattr(ds, "movies", None) is None:
        return None
    from movierec.beyond import genre_matrix

    g, names = genre_matrix(list(ds.item_table()["genres"]))
    return g if names else None


def _pool(outs: list[EvalOutput], n_users: int, seed: int = 42) -> EvalOutput:
    """Combine folds: ranking metrics pooled over (user, fold); rating metrics and coverage as means of fold values.

    Pooled units are keyed ``fold·n_users + user`` so paired comparisons match (user, fold) pairs;
    ``unit_users`` keeps each unit's user, so the intervals and paired comparisons resample users.
    User groups are split again over the pooled units, each with the label of its own fold
    (:func:`movierec.beyond.pool_groups`: means over units, intervals resampling users, ``seed``'s
    draws); top-K lists only with one fold.
    """
    if len(outs) == 1:
        return replace(outs[0], metrics=dict(outs[0].metrics), notes=list(outs[0].notes))
    per_user = {m: np.concatenate([o.per_user[m] for o in outs]) for m in outs[0].per_user}
    users = np.concatenate([o.users.astype(np.int64) + f * n_users for f, o in enumerate(outs)])
    unit_users = users % n_users if n_users else None
    groups, intervals = _pool_groups(outs, per_user, unit_users, seed)
    metrics: dict[str, float] = {}
    for m in outs[0].metrics:
        if m in per_user:
            metrics[m] = float(per_user[m].mean())
        elif not (groups and _is_group_key(m)):
            metrics[m] = float(np.mean([o.metrics[m] for o in outs]))
    metrics.update(groups)
    notes = list(dict.fromkeys(n for o in outs for n in o.notes))
    secs = float(np.mean([o.score_seconds for o in outs]))
    return EvalOutput(
        metrics,
        per_user,
        users,
        secs,
        notes,
        intervals=intervals,
        distinct_users=int(np.unique(unit_users).size) if unit_users is not None else None,
        fold_metrics=[dict(o.metrics) for o in outs],
        unit_users=unit_users,
    )


def _pool_groups(
    outs: list[EvalOutput], per_user: dict[str, np.ndarray], unit_users: np.ndarray | None, seed: int
) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
    """The pooled folds' per-group figures and intervals; none where a fold has no group labels."""
    families = list(outs[0].groups)
    if not families or unit_users is None or any(list(o.groups) != families for o in outs):
        return {}, {}
    from movierec.beyond import pool_groups

    labels = {f: np.concatenate([np.asarray(o.groups[f], dtype=object) for o in outs]) for f in families}
    return pool_groups(per_user, labels, unit_users, seed=seed)


def _is_group_key(metric: str) -> bool:
    """Whether a metric is a per-group figure (``ndcg@10[activity=low]``, ``…[gender gap]``, ``users[…]``)."""
    return metric.endswith("]") and "[" in metric
