"""Seeded train/test splits that share one id map, as functions and as splitter objects.

``ratings_holdout`` reproduces Surprise's ``train_test_split`` row for row and
``interactions_holdout`` LightFM's ``random_train_test_split``, so parity tests compare
like with like.

A :class:`Splitter` holds a split policy (which rows test, the seed, the description every result
row carries) and yields ``(train, test)`` folds: one for a hold-out, ``n_splits`` for k-fold. The
named splits of ``compare --split``, experiment files and :func:`movierec.evaluation.make_split`
are built by :func:`get_splitter`; ``compare`` is a fold × model loop over one splitter (the shape
of RecTools' ``cross_validate(splitter, models, metrics)``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from numbers import Integral
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from movierec.datasets.canonical import CANONICAL_SPLITS, check_ml1m_shape, ml100k_rows
from movierec.errors import ConfigError, Doors, did_you_mean, is_seed, some_of
from movierec.interactions import Interactions, no_positives, tie_key, time_order

if TYPE_CHECKING:
    from movierec.datasets import Dataset

__all__ = [
    "SPLIT_NAMES",
    "CanonicalSplit",
    "CrossfoldUsers",
    "GivenSplit",
    "InteractionsHoldout",
    "KFold",
    "LastSession",
    "LeaveLastOut",
    "PerUserHoldout",
    "RatingsHoldout",
    "Splitter",
    "TemporalSplit",
    "canonical_split",
    "check_test_size",
    "crossfold_users",
    "fault_in_test_size",
    "get_splitter",
    "held_out_words",
    "interactions_holdout",
    "kfold",
    "leave_last_out",
    "number_as_written",
    "per_user_holdout",
    "per_user_split",
    "ratings_holdout",
    "split_key",
    "temporal_split",
    "tie_key",
]


def _interactions_of(inter: object, func: str) -> Interactions:
    """``inter`` itself, or a :class:`Dataset`'s ``interactions``: the splits take either, as ``make_split``
    does (LensKit's ``crossfold_users(data, …)`` takes the dataset); anything else is one ConfigError."""
    if isinstance(inter, Interactions):
        return inter
    held = getattr(inter, "interactions", None)
    if isinstance(held, Interactions):
        return held
    raise ConfigError(
        f"{func}() splits a dataset or its interactions (movierec.load(...) or .interactions), "
        f"got {type(inter).__name__}"
    )


def _check_fraction(test_size: float) -> None:
    """Refuse a ``test_size`` the per-user split cannot take (:func:`_per_user_fault`), as Python says it."""
    if (fault := _per_user_fault(test_size)) is not None:
        raise ConfigError(f"test_size {fault}")


def _per_user_fault(test_size: object, *, python: bool = True) -> str | None:
    """What is wrong with a ``test_size`` for the per-user split (a fraction of each user's ratings), in
    the words that follow its name (``None``: a fraction in (0, 1)). A count gets the other splits' reading
    of it turned down, with Python's way to hold out n ratings per user when ``python`` (the CLI and
    experiment files have none)."""
    if _is_count(test_size):  # the other splits read an int as a count (_n_held_out); not this one
        how = ", or n of them (movierec.split.per_user_holdout(inter, n=…))" if python else ""
        return (
            f"{test_size!r} is a count; the per-user split holds out a fraction of each user's ratings "
            f"(such as 0.2){how}"
        )
    if not (isinstance(test_size, (int, float)) and 0.0 < float(test_size) < 1.0):
        return f"must be a fraction between 0 and 1, got {test_size!r}"
    return None


def _is_count(test_size: object) -> bool:
    """Whether a ``test_size`` is a number of rows rather than a fraction: an int (numpy's too, never a
    bool), as Surprise's ``train_test_split`` and scikit-learn's read ``test_size=1000``."""
    return isinstance(test_size, Integral) and not isinstance(test_size, bool)


def fault_in_test_size(
    test_size: object, what: str = "ratings", split: str | None = None, *, python: bool = True
) -> str | None:
    """What is wrong with a ``test_size``, in the words that follow its name: ``test_size`` in Python
    (:func:`check_test_size`), ``invalid value for '--test-size':`` in the CLI, ``split.test_size:`` in an
    experiment file; one sentence for all three (``None``: a whole number ≥ 1, a count as Surprise and
    scikit-learn read ``test_size=1000``, or a float strictly between 0 and 1, a fraction). ``1000.0`` is
    neither, and the words say how to write the count. With ``split="per-user"`` only a fraction will do
    (:func:`_per_user_fault`; ``python``: also name Python's way to hold out n ratings per user)."""
    if split is not None and split_key(split) == "per-user":
        return _per_user_fault(test_size, python=python)
    written_as_float = None
    if isinstance(test_size, Integral) and not isinstance(test_size, bool):
        if int(test_size) >= 1:
            return None
    elif isinstance(test_size, (float, np.floating)):
        if 0.0 < float(test_size) < 1.0:
            return None
        if float(test_size) >= 1.0 and float(test_size).is_integer():
            written_as_float = int(test_size)
    fault = f"must be a fraction between 0 and 1 (0.25) or a whole number of {what} (1000), got {test_size!r}"
    if written_as_float is not None:
        fault += f"; a count has no decimal point: {written_as_float}"
    return fault


def number_as_written(value: object) -> object:
    """A number written as text, read as Python reads its literal: ``"1000"`` an int (a count, for a
    ``test_size``), ``"0.2"`` and ``"1000.0"`` floats; other text comes back as it is, for the caller's
    message to quote, and a value that is not text passes through (a default, a TOML number)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if re.fullmatch(r"[+-]?[0-9]+", text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return value


def check_test_size(test_size: float, split: str | None = None, *, what: str = "ratings") -> float:
    """``test_size`` as the splits read it, checked before any data is read (``compare --test-size``, an
    experiment file's ``[split] test_size``, ``tune``): a whole number ≥ 1 is a count and stays an int,
    a float in (0, 1) a fraction; the ``per-user`` split (a fraction of each user's ratings) refuses a
    count in the words :func:`per_user_holdout` uses. Anything else is one ConfigError. Whether a count
    leaves a training rating is known only with the data (:func:`_n_held_out` says it then)."""
    if (fault := fault_in_test_size(test_size, what, split)) is not None:
        raise ConfigError(f"test_size {fault}")
    return int(test_size) if _is_count(test_size) else float(test_size)


def _n_held_out(test_size: float, n: int, what: str) -> int | None:
    """The number of the ``n`` rows a count ``test_size`` holds out (``None`` for a fraction, which the
    caller rounds its own way): ``test_size=1000`` is 1,000 rows, as in Surprise and scikit-learn. ``0``
    or ``-3`` is refused in the words every other bad test size gets (:func:`fault_in_test_size`)."""
    if (fault := fault_in_test_size(test_size, what)) is not None:
        raise ConfigError(f"test_size {fault}")
    if not _is_count(test_size):
        return None
    count = int(test_size)
    if count >= n:
        must = (
            f"must hold out at least 1 and fewer than all {n:,} {what}"  # each door's (one line named both)
        )
        raise ConfigError(Doors(f"test_size={count} {must}", f"--test-size {count} {must}"))
    return count


def _amount(test_size: float) -> str:
    """A test size in a description: ``0.25`` (a fraction) or ``1,000`` (a count)."""
    return f"{int(test_size):,}" if _is_count(test_size) else f"{test_size:g}"


def _share(test_size: float) -> str:
    """A test size of ratings in a description: ``0.25 of ratings``, ``1,000 ratings``, ``1 rating``."""
    if not _is_count(test_size):
        return f"{test_size:g} of ratings"
    return f"{_amount(test_size)} rating{'' if int(test_size) == 1 else 's'}"


def held_out_words(test_size: float, *, rest: bool = False) -> str:
    """A ratings hold-out's size for people, as export prints it: ``20% of ratings`` or ``1,000 ratings``
    (a count); with ``rest``, the training part: ``80% of the ratings``, ``all but 1,000 of the ratings``."""
    if isinstance(test_size, Integral) and not isinstance(test_size, bool):  # _is_count, for the type checker
        count = f"{int(test_size):,}"
        return f"all but {count} of the ratings" if rest else f"{count} rating{'' if count == '1' else 's'}"
    return f"{1.0 - test_size:.0%} of the ratings" if rest else f"{test_size:.0%} of ratings"


def ratings_holdout(
    inter: Interactions, test_size: float = 0.2, seed: int = 42
) -> tuple[Interactions, Interactions]:
    """Random hold-out of ratings with Surprise's semantics (``surprise.model_selection.train_test_split``).

    A ``RandomState(seed)`` permutation of the rows in load order; the last ``ceil(test_size·n)``
    permuted rows are the test set (in permutation order), the first ones the training set. An int
    ``test_size`` is a number of ratings, as Surprise reads it (``test_size=1000``: the last 1,000).
    """
    n = inter.n_ratings
    count = _n_held_out(test_size, n, "ratings")
    n_test = count if count is not None else math.ceil(test_size * n)
    if n_test >= n:
        raise ConfigError(f"test_size {test_size} leaves no training ratings out of {n}")
    perm = np.random.RandomState(seed).permutation(n)
    n_train = n - n_test
    return inter.subset(perm[:n_train]), inter.subset(perm[n_train:])


def _positives_order(inter: Interactions) -> np.ndarray:
    """Row order of the users × items matrix in CSR (row-major, sorted columns) order."""
    return np.lexsort((inter.items, inter.users))


def interactions_holdout(
    inter: Interactions, test_size: float = 0.2, seed: int = 42
) -> tuple[Interactions, Interactions]:
    """Random hold-out of interactions with LightFM's semantics (``lightfm.cross_validation.random_train_test_split``).

    The interactions are taken in the order of the users × items matrix's COO form (row-major,
    as ``csr.tocoo()`` gives), shuffled by ``RandomState(seed).shuffle``; the first
    ``int((1 - test_size)·n)`` shuffled rows train, the rest test (both in shuffled order); an int
    ``test_size`` is a number of interactions to test, as scikit-learn reads it (LightFM takes only a
    fraction). Split the positives view to reproduce the notebook (``compare`` does).
    """
    n = inter.n_ratings
    count = _n_held_out(test_size, n, "interactions")
    order = _positives_order(inter)
    shuffled = np.arange(n)
    np.random.RandomState(seed).shuffle(shuffled)
    rows = order[shuffled]
    cutoff = n - count if count is not None else int((1.0 - test_size) * n)
    if cutoff <= 0 or cutoff >= n:
        raise ConfigError(f"test_size {test_size} leaves an empty train or test set out of {n} interactions")
    return inter.subset(rows[:cutoff]), inter.subset(rows[cutoff:])


def _check_min_per_user(inter: Interactions, minimum: int, what: str) -> np.ndarray:
    counts = inter.user_counts()
    few = (counts > 0) & (counts < minimum)
    if few.any():
        u = int(np.flatnonzero(few)[0])
        raw = inter.user_map.to_raw(u)
        raw = raw.item() if isinstance(raw, np.generic) else raw
        raise ConfigError(
            f"{what} needs at least {minimum} ratings per user, but user {raw!r} has "
            f"{int(counts[u])} ({int(few.sum())} such users); use a ratings hold-out instead"
        )
    return counts


def per_user_holdout(
    inter: Interactions, test_size: float | None = 0.2, *, n: int | None = None, seed: int = 42
) -> tuple[Interactions, Interactions]:
    """Hold out part of every user's ratings, chosen at random (LensKit's ``SampleFrac``/``SampleN``).

    Either a fraction ``test_size`` of each user's ratings (rounded, at least 1) or exactly ``n``
    ratings per user; every user keeps at least one training rating, so users need ≥ 2 ratings.
    """
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"n (test ratings per user) must be a whole number ≥ 1, got {n!r}")
    else:
        if test_size is None:
            raise ConfigError("per-user hold-out needs test_size (a fraction) or n (ratings per user)")
        _check_fraction(test_size)
    counts = _check_min_per_user(inter, 2, "a per-user hold-out")
    if n is not None:
        n_test = np.full(inter.n_users, int(n), dtype=np.int64)
    else:
        assert test_size is not None  # checked above: one of test_size and n is given
        n_test = np.floor(counts * float(test_size) + 0.5).astype(np.int64)
    n_test = np.clip(n_test, 1, np.maximum(counts - 1, 1))
    keys = np.random.default_rng(seed).random(inter.n_ratings)
    order = np.lexsort((keys, inter.users))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(inter.n_ratings) - starts[inter.users[order]]
    test_rows = np.sort(order[rank < n_test[inter.users[order]]])
    mask = np.zeros(inter.n_ratings, dtype=bool)
    mask[test_rows] = True
    return inter.subset(~mask), inter.subset(mask)


def temporal_split(
    inter: Interactions, test_size: float | None = 0.2, *, at: int | None = None
) -> tuple[Interactions, Interactions]:
    """A global time cut: ratings before the cut train, ratings at or after it test.

    The cut is the timestamp ``at`` when given, else the timestamp at which the latest
    ``ceil(test_size·n)`` ratings begin, or the latest ``test_size`` when it is an int (ratings sharing
    that timestamp all go to test).
    """
    if inter.timestamps is None:
        raise ConfigError("a temporal split needs timestamps, and these ratings have none")
    ts = inter.timestamps
    if at is None:
        if test_size is None:
            raise ConfigError("temporal split needs test_size (a fraction) or at (a timestamp)")
        count = _n_held_out(test_size, len(ts), "ratings")
        n_test = count if count is not None else math.ceil(float(test_size) * len(ts))
        at = int(np.sort(ts)[len(ts) - n_test])
    test = ts >= at
    if test.all() or not test.any():
        raise ConfigError(
            f"temporal cut at timestamp {at} leaves an empty {'training' if test.all() else 'test'} set "
            f"(timestamps range {int(ts.min())}..{int(ts.max())})"
        )
    return inter.subset(~test), inter.subset(test)


def leave_last_out(inter: Interactions | Dataset) -> tuple[Interactions, Interactions, Interactions]:
    """Per user, the latest rating is the test item and the one before it the validation item.

    ``inter`` is a dataset or its ``interactions``. Returns ``(train, validation, test)``. Order is by
    timestamp; ratings sharing a timestamp go in a fixed pseudo-random order (:func:`tie_key`), not by
    movie id: MovieLens gives ratings entered together one timestamp, and its higher ids are newer, less
    watched movies, so holding out the highest id (as before) tested mostly unpopular movies. The order
    is the same for the same data every time, whatever the file order, and the sequence models read
    training histories in it (:func:`~movierec.interactions.time_order`). Users need ≥ 2 ratings; users
    with exactly 2 give no validation item.
    """
    inter = _interactions_of(inter, "leave_last_out")
    if inter.timestamps is None:
        raise ConfigError("leave-last-out needs timestamps, and these ratings have none")
    counts = _check_min_per_user(inter, 2, "leave-last-out")
    order = time_order(inter)  # by user, then time, ties by tie_key
    ends = np.cumsum(counts)
    has = counts > 0
    last = order[ends[has] - 1]
    has_valid = has & (counts >= 3)
    valid = order[ends[has_valid] - 2]
    role = np.zeros(inter.n_ratings, dtype=np.int8)
    role[valid] = 1
    role[last] = 2
    return inter.subset(role == 0), inter.subset(role == 1), inter.subset(role == 2)


def tied_latest(inter: Interactions) -> tuple[int, int]:
    """``(tied, users)``: of the ``users`` with ≥ 2 ratings, how many rated another movie at the timestamp
    of their latest rating. For them the data cannot say which movie came last, and :func:`leave_last_out`
    holds out one of the tied movies picked by :func:`tie_key` (fixed, pseudo-random: unrelated to id or
    popularity), another of them the last in training: MovieLens records ratings entered together under
    one timestamp (ml-latest-small 94 of 610 users, ml-100k 415 of 943), so the tie rule shapes the test
    set. ``(0, users)`` without timestamps."""
    counts = inter.user_counts()
    users = int((counts >= 2).sum())
    if inter.timestamps is None or inter.n_ratings < 2:
        return 0, users
    order = time_order(inter)
    ends = np.cumsum(counts)[counts >= 2] - 1  # each user's latest row, in ``order``
    u, t = inter.users[order], inter.timestamps[order]
    tied = (u[ends - 1] == u[ends]) & (t[ends - 1] == t[ends])
    return int(tied.sum()), users


def crossfold_users(
    inter: Interactions | Dataset, n_folds: int = 5, test_size: float = 0.2, *, seed: int = 42
) -> list[tuple[Interactions, Interactions]]:
    """LensKit's ``crossfold_users(data, n_folds, SampleFrac(test_size, rng=seed), rng=seed)``, row for row.

    ``inter`` is a dataset or its ``interactions``; each fold is a ``(train, test)`` pair of them. The users (in id order, as LensKit's vocabulary) are shuffled by numpy's ``default_rng(seed)`` and cut
    into ``n_folds`` parts (``np.array_split``). Fold f holds out ``round(test_size · n)`` of the n ratings
    of each of its users (Python's round, half to even, as SampleFrac), drawn by ``choice(n, …,
    replace=False)`` of a second ``default_rng(seed)`` from the user's ratings in movie-id order, the
    folds' users in turn; every other rating trains, the other users' included. Each user is tested
    in one fold only, so pooled over the folds every user counts once. Checked against LensKit 2025.8.1
    on ml-latest-small and ml-100k: the same test rows in every fold.
    """
    inter = _interactions_of(inter, "crossfold_users")
    _check_fraction(test_size)
    if isinstance(n_folds, bool) or not isinstance(n_folds, Integral) or n_folds < 2:
        raise ConfigError(f"cv folds must be a whole number ≥ 2, got {n_folds!r}")
    if not is_seed(seed):
        raise ConfigError(f"seed must be a whole number in 0 … 2**32 - 1, got {seed!r}")
    counts = inter.user_counts()
    users = np.flatnonzero(counts > 0)  # LensKit's users are those with interactions
    if n_folds > len(users):
        raise ConfigError(f"cv folds ({n_folds}) cannot exceed the number of users ({len(users)})")
    order = np.lexsort((inter.items, inter.users))  # each user's ratings, in movie (id) order
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    shuffled = np.arange(len(users))
    np.random.default_rng(seed).shuffle(shuffled)
    sample = np.random.default_rng(seed)  # SampleFrac's own generator, drawn on through the folds
    folds = []
    for part in np.array_split(shuffled, int(n_folds)):
        test = np.zeros(inter.n_ratings, dtype=bool)
        for u in users[part]:
            n = int(counts[u])
            chosen = sample.choice(n, round(n * float(test_size)), replace=False)
            test[order[starts[u] + chosen]] = True
        folds.append((inter.subset(~test), inter.subset(test)))
    return folds


def per_user_split(
    inter: Interactions | Dataset, ratios: Sequence[float] = (0.8, 0.1, 0.1), *, seed: int = 42
) -> tuple[Interactions, Interactions, Interactions]:
    """Each user's ratings in random order, cut into ``(train, validation, test)`` by ``ratios``: three
    parts of ``inter`` (a dataset or its ``interactions``), with its user and movie indices.

    RecBole's default protocol (``eval_args: {split: {RS: [0.8, 0.1, 0.1]}, group_by: user, order:
    RO}``): choose epochs and hyperparameters on the validation part, read the test part once. The
    parts' sizes per user are RecBole's: ``ratios`` are normalised to sum to 1, validation and test
    get ⌊r·n⌋ of a user's n ratings each (raised to 1 when 0 < r·n < 1, test first, while more
    than one rating stays in training) and training the rest, so a user with 15 ratings gives
    13 / 1 / 1 and one with 5 gives 3 / 1 / 1. A user with a single rating keeps it in training.
    The order is drawn with numpy's ``default_rng(seed)``, not torch's, so the rows differ from
    RecBole's; the sizes do not.
    """
    inter = _interactions_of(inter, "per_user_split")
    r = _split_ratios(ratios)
    if not is_seed(seed):
        raise ConfigError(f"seed must be a whole number in 0 … 2**32 - 1, got {seed!r}")
    n = inter.user_counts()
    share = r[None, :] * n[:, None].astype(np.float64)  # users × parts: r·n, as RecBole computes it
    count = np.floor(share).astype(np.int64)
    count[:, 0] = n - count[:, 1:].sum(axis=1)
    for part in (2, 1):  # RecBole's _calcu_split_ids: the last part first, while training keeps > 1
        lift = (count[:, 0] > 1) & (share[:, part] > 0) & (share[:, part] < 1)
        count[lift, part] += 1
        count[lift, 0] -= 1
    keys = np.random.default_rng(seed).random(inter.n_ratings)
    order = np.lexsort((keys, inter.users))  # each user's rows, in random order
    starts = np.concatenate([[0], np.cumsum(n)[:-1]])
    rank = np.empty(inter.n_ratings, dtype=np.int64)
    rank[order] = np.arange(inter.n_ratings) - starts[inter.users[order]]
    ends = np.cumsum(count, axis=1)[inter.users]  # rank < end of train → train, < end of valid → valid
    role = (rank >= ends[:, 0]).astype(np.int8) + (rank >= ends[:, 1])
    return inter.subset(role == 0), inter.subset(role == 1), inter.subset(role == 2)


def _split_ratios(ratios: object) -> np.ndarray:
    """``ratios`` as three shares summing to 1 (train, validation, test); one ConfigError otherwise."""
    try:
        r = np.asarray(ratios, dtype=np.float64)
    except (TypeError, ValueError):
        r = np.zeros(0)
    if r.shape != (3,) or not np.isfinite(r).all() or (r < 0).any() or r[0] <= 0 or r[2] <= 0:
        raise ConfigError(
            "ratios must be three shares (train, validation, test), each ≥ 0 with train and test above 0, "
            f"such as RecBole's (0.8, 0.1, 0.1); got {ratios!r}"
        )
    return r / r.sum()


def kfold(inter: Interactions, n_splits: int = 5, seed: int = 42) -> list[tuple[Interactions, Interactions]]:
    """K-fold cross-validation folds with Surprise's semantics (``surprise.model_selection.KFold``).

    A ``RandomState(seed)`` shuffle of the rows; fold ``f`` tests on the ``f``-th consecutive
    slice (the first ``n % n_splits`` folds one rating larger) and trains on the rest, in
    shuffled order.
    """
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise ConfigError(f"cv folds must be a whole number ≥ 2, got {n_splits!r}")
    n = inter.n_ratings
    if n_splits > n:
        raise ConfigError(f"cv folds ({n_splits}) cannot exceed the number of ratings ({n})")
    idx = np.arange(n)
    np.random.RandomState(seed).shuffle(idx)
    folds = []
    start = stop = 0
    for f in range(n_splits):
        start = stop
        stop += n // n_splits + (1 if f < n % n_splits else 0)
        folds.append((inter.subset(np.concatenate([idx[:start], idx[stop:]])), inter.subset(idx[start:stop])))
    return folds


# --- splitter objects ------------------------------------------------------------------------


def _positives(inter: Interactions, threshold: float) -> Interactions:
    pos = inter.subset(inter.ratings >= threshold)
    if pos.n_ratings == 0:
        raise no_positives(threshold, inter.ratings)
    return pos


class Splitter:
    """A split policy: ``split(inter)`` yields ``(train, test)`` folds that share ``inter``'s id maps.

    ``name`` is the policy's name in ``--split`` and experiment files, ``description`` the text every
    result row's ``split`` field carries (parameters and seed included), ``n_folds`` how many folds
    ``split`` yields. Each test fold remembers the description, so :func:`~movierec.evaluation.evaluate`
    records it without being told.
    """

    name: ClassVar[str]
    _describe: ClassVar[str]  # the description, formatted with the splitter's fields

    @property
    def n_folds(self) -> int:
        return 1

    @property
    def description(self) -> str:
        values = {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]
        if "test_size" in values:  # a fraction or a count, in words (_amount, _share)
            values["amount"] = _amount(values["test_size"])
            values["share"] = _share(values["test_size"])
        return self._describe.format(**values)

    def _folds(self, inter: Interactions) -> Iterator[tuple[Interactions, Interactions]]:
        raise NotImplementedError

    def split(self, inter: Interactions) -> Iterator[tuple[Interactions, Interactions]]:
        """The ``(train, test)`` folds, one at a time (a k-fold's folds are computed together, lazily)."""
        for train, test in self._folds(inter):
            test._cache["split"] = self.description
            yield train, test

    def holdout(self, inter: Interactions) -> tuple[Interactions, Interactions]:
        """The one ``(train, test)`` pair of a hold-out splitter."""
        if self.n_folds != 1:
            raise ConfigError(f"{self.description} has {self.n_folds} folds, not one hold-out")
        return next(self.split(inter))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"


@dataclass(frozen=True, repr=False)
class RatingsHoldout(Splitter):
    """Random hold-out of ratings, Surprise's ``train_test_split`` (:func:`ratings_holdout`)."""

    test_size: float = 0.2
    seed: int = 42
    name: ClassVar[str] = "ratings-holdout"
    _describe: ClassVar[str] = "ratings-holdout ({share}, Surprise train_test_split, seed {seed})"

    def _folds(self, inter: Interactions) -> Iterator[tuple[Interactions, Interactions]]:
        yield ratings_holdout(inter, self.test_size, self.seed)


@dataclass(frozen=True, repr=False)
class InteractionsHoldout(Splitter):
    """Random hold-out of the positives (ratings ≥ ``threshold``, ratings kept), LightFM's
    ``random_train_test_split`` (:func:`interactions_holdout`), as the notebook's LightFM split."""

    test_size: float = 0.2
    seed: int = 42
    threshold: float = 4.0
    name: ClassVar[str] = "interactions-holdout"
    _describe: ClassVar[str] = (
        "interactions-holdout (positives ≥ {threshold:g}, {amount} held out, "
        "LightFM random_train_test_split, seed {seed})"
    )

    def _folds(self, inter: Interactions) -> Iterator[tuple[Interactions, Interactions]]:
        yield interactions_holdout(_positives(inter, self.threshold), self.test_size, self.seed)


@dataclass(frozen=True, repr=False)
class PerUserHoldout(Splitter):
    """Part of every user's ratings at random, LensKit's ``SampleFrac`` (:func:`per_user_holdout`)."""

    test_size: float = 0.2
    seed: int = 42
    name: ClassVar[str] = "per-user"
    _describe: ClassVar[str] = "per-user ({test_size:g} of each user's ratings, seed {seed})"

    def _folds(self, inter: Interactions) -> Iterator[tuple[Interactions, Interactions]]:
        yield per_user_holdout(inter, self.test_size, seed=self.seed)


@dataclass(frozen=True, repr=False)
class CrossfoldUsers(Splitter):
    """``per-user`` with ``cv``: folds of users, a fraction of each test user's ratings held out, LensKit's
    ``crossfold_users`` with ``SampleFrac`` (:func:`crossfold_users`)."""

    n_splits: int = 5
    test_size: float = 0.2
    seed: int = 42
    name: ClassVar[str] = "per-user"
    _describe: ClassVar[str] = (
        "per-user, {n_splits}-fold cv over users ({test_size:g} of each test user's ratings, "
        "LensKit crossfold_users, seed {seed})"
    )

    @property
    def n_folds(self) -> int:
        return int(self.n_splits)

    def _folds(self, inter: Interactions) -> Iterator[tuple[Interactions, Interactions]]:
        yield from crossfold_users(inter, self.n_splits, self.test_size, seed=self.seed)


@dataclass(frozen=True, repr=False)
class TemporalSplit(Splitter):
    """A global time cut: the latest ``test_size`` of ratings test (:func:`temporal_split`)."""

    test_size: float = 0.2
    name: ClassVar[str] = "temporal"
    _describe: ClassVar[str] = "temporal (latest {share} by time)"

    def _folds(self, inter: Interactions) -> Iterator[tuple[Interactions, Interactions]]:
        yield temporal_split(inter, self.test_size)


@dataclass(frozen=True, repr=False)
class LeaveLastOut(Splitter):
    """Each user's latest rating tests; the validation item stays in training (:func:`leave_last_out`)."""

    name: ClassVar[str] = "leave-last-out"
    _describe: ClassVar[str] = "leave-last-out (each user's latest rating)"

    def _folds(self, inter: Interactions) -> Iterator[tuple[Interactions, Interactions]]:
        train, valid, test = leave_last_out(inter)
        yield (train.concat(valid) if valid.n_ratings else train), test


@dataclass(frozen=True, repr=False)
class LastSession(Splitter):
    """Each user's latest session of ≥ 2 ratings tests (sessions cut where ratings are more than ``gap``
    apart; users need earlier ratings), for the next-item-in-session protocol (:mod:`movierec.session_eval`)."""

    gap: str = "1h"
    name: ClassVar[str] = "last-session"

    @property
    def description(self) -> str:
        return f"last-session (each user's latest session, gap {self.gap})"

    def _folds(self, inter: Interactions) -> Iterator[tuple[Interactions, Interactions]]:
        from movierec.session_eval import last_session

        yield last_session(inter, self.gap)


@dataclass(frozen=True, repr=False, eq=False)
class GivenSplit(Splitter):
    """One ``(train, test)`` pair made elsewhere (``make_split(ds, test=rows)``, :func:`per_user_split`'s
    parts, a fold of :func:`crossfold_users`), yielded as it is: ``compare(ds, models, split=(train,
    test))``. ``about`` is the rows' ``split`` description, saying the split was given.

    ``valid``: RecBole's validation part, given beside them (``split=(train, valid, test)``, a ``--valid``
    file). Its rows train with ``train`` (the fold yields ``train + valid``), as RecBole refits its best
    model on both; early stopping scores on it instead of cutting a part of its own (:meth:`stopping_parts`)."""

    train: Interactions
    test: Interactions
    about: str
    valid: Interactions | None = None
    name: ClassVar[str] = "given"

    @property
    def description(self) -> str:
        return self.about

    def stopping_parts(self) -> tuple[Interactions, Interactions] | None:
        """``(train, valid)`` for early stopping to fit on and score on, or ``None`` without a valid part."""
        return None if self.valid is None else (self.train, self.valid)

    def _folds(self, inter: Interactions) -> Iterator[tuple[Interactions, Interactions]]:
        yield (self.train if self.valid is None else self.train.concat(self.valid)), self.test


@dataclass(frozen=True, repr=False)
class CanonicalSplit(Splitter):
    """A split papers report on: ml-100k's ``u1``…``u5``, ``ua``, ``ub``, ml-1m's 90/10
    (:mod:`movierec.datasets.canonical`); the dataset must be the one the split is defined on."""

    key: str = "ml100k-u1"
    seed: int = 42
    name: ClassVar[str] = "canonical"

    def __post_init__(self) -> None:
        if self.key not in CANONICAL_SPLITS:
            raise ConfigError(f"unknown canonical split {self.key!r}; valid: {', '.join(CANONICAL_SPLITS)}")

    @property
    def description(self) -> str:
        seed = f", seed {self.seed}" if self.key == "ml1m-90-10" else ""
        return f"{self.key}: {CANONICAL_SPLITS[self.key]}{seed}"

    def _folds(self, inter: Interactions) -> Iterator[tuple[Interactions, Interactions]]:
        if self.key == "ml1m-90-10":
            check_ml1m_shape(inter, self.key)
            yield ratings_holdout(inter, 0.1, self.seed)
            return
        mask = ml100k_rows(inter, self.key)
        yield inter.subset(~mask), inter.subset(mask)


@dataclass(frozen=True, repr=False)
class KFold(Splitter):
    """Surprise-style k-fold (:func:`kfold`) over the ratings, or over the positives (ratings ≥
    ``threshold``) when a threshold is given, as the implicit models' hold-out splits them."""

    n_splits: int = 5
    seed: int = 42
    threshold: float | None = None
    name: ClassVar[str] = "kfold"

    @property
    def n_folds(self) -> int:
        return int(self.n_splits)

    @property
    def description(self) -> str:
        over = "ratings" if self.threshold is None else f"positives ≥ {self.threshold:g}"
        return f"{self.n_splits}-fold cv over {over} (Surprise KFold, seed {self.seed})"

    def _folds(self, inter: Interactions) -> Iterator[tuple[Interactions, Interactions]]:
        base = inter if self.threshold is None else inter.subset(inter.ratings >= self.threshold)
        cv = self.n_splits
        if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool) and cv > base.n_ratings:
            what = (
                "ratings"
                if self.threshold is None
                else f"positives (ratings ≥ {self.threshold:g}) the implicit models split"
            )
            raise ConfigError(f"cv folds ({cv}) cannot exceed the number of {what} ({base.n_ratings})")
        yield from kfold(base, cv, self.seed)


SPLIT_NAMES = (
    "ratings-holdout",
    "interactions-holdout",
    "per-user",
    "temporal",
    "leave-last-out",
    "last-session",
    *CANONICAL_SPLITS,  # ml100k-u1 … ml100k-ub, ml1m-90-10 (datasets/canonical.py)
)
"""The named splits :func:`get_splitter` builds (``compare`` adds ``auto``, a choice among them)."""


def split_choices(choices: Iterable[str]) -> str:
    """The split names for a refusal, the seven canonical MovieLens-100K folds said once, as
    ``compare --help`` says them ("…, last-session, ml100k-u1 … ub, ml1m-90-10"): the fifteen names
    in full made a 238-character line, three rows at 80 columns."""
    names = list(choices)
    folds = [c for c in names if c.startswith("ml100k-")]
    if len(folds) > 2:
        first = names.index(folds[0])
        rest = [c for c in names if c not in folds]
        names = [*rest[:first], f"{folds[0]} … {folds[-1].removeprefix('ml100k-')}", *rest[first:]]
    return ", ".join(names)


#: what a person who types ``random`` (or ``holdout``) means: the splits that hold out a random part
_RANDOM_WORDS = re.compile(r"(random|rand)([-_ ]?(hold-?out|split))?|hold-?out|random[-_ ]?ratings")
#: a fold of ml-100k's canonical family, with or without its prefix: ``u1``, ``ml-100k-u6``, ``ml100k_ua``
_ML100K_FOLD = re.compile(r"(?:ml[-_]?100k[-_ ]?)?(u[0-9a-z])")


def _split_hint(name: object, choices: list[str]) -> str:
    """What a split name that is no choice most likely meant, where difflib's guess is wrong or absent:
    ``u1`` is ``ml100k-u1`` (no guess: too short), ``ml100k-u6`` a fold the family lacks (the guess was
    ``ml100k-ub``, one letter off), ``random`` one of the random hold-outs (no guess)."""
    typed = str(name).strip().lower()
    folds = [c for c in choices if c.startswith("ml100k-")]
    if folds and (m := _ML100K_FOLD.fullmatch(typed)):
        meant = f"ml100k-{m.group(1)}"
        if meant in folds:
            return f" (did you mean {meant!r}?)"
        tails = [f.removeprefix("ml100k-") for f in folds]
        family = (
            f"{folds[0]} … {tails[-3]}, {tails[-2]} and {tails[-1]}" if len(folds) > 3 else ", ".join(folds)
        )
        return f" (ml-100k's canonical folds are {family}; there is no {m.group(1)})"
    randoms = [c for c in ("ratings-holdout", "interactions-holdout", "per-user") if c in choices]
    if randoms and _RANDOM_WORDS.fullmatch(typed):
        return f" (the random hold-outs: {', '.join(randoms)})"
    return ""


def unknown_split(name: object, choices: Iterable[str]) -> str:
    """The one line for a split name not among ``choices``: the closest, and where they are all listed;
    with none close, the first names and where the rest are (:func:`movierec.errors.some_of`; 197
    characters with the guess and the names, 166 with the names alone)."""
    choices = list(choices)
    hint = _split_hint(name, choices) or did_you_mean(name, choices)
    python = "movierec.evaluation.SPLITS" if "auto" in choices else "movierec.split.SPLIT_NAMES"
    return Doors(  # where each door lists them: a notebook has no --help to read
        f"unknown split {name!r}{hint}; {some_of(choices, python, guessed=bool(hint))}",
        f"unknown split {name!r}{hint}; {some_of(choices, 'movierec compare --help', guessed=bool(hint))}",
    )


#: how a frame of raw ids becomes a split's part, for the refusals of a DataFrame where one goes (evaluate,
#: compare's and make_split's ``split``): ``evaluate(rec, train_df, test_df)`` said "'DataFrame' object has no
#: attribute 'n_ratings'", and ``compare(..., split=(train_df, test_df))`` named Interactions but not how
FRAME_AS_PART = (
    "train, test, _ = movierec.make_split(ds, test=test_frame) holds out a frame's rows "
    "(raw userId, movieId) and trains on the rest"
)


def split_key(name: object, choices: tuple[str, ...] = ("auto", *SPLIT_NAMES)) -> str:
    """A split's name as the splitters look it up (trimmed, lower case); a number in its place is one
    ConfigError saying where a test share goes, then the valid ``choices``: ``make_split(ds, 0.25)`` is
    Surprise's ``train_test_split(data, .25)``, whose second argument is the test size, ours the split."""
    if isinstance(name, str):
        return name.strip().lower()
    if isinstance(name, (tuple, list)):  # make_split(ds, (train_df, test_df)) printed both frames, 40 lines
        parts = ", ".join(type(p).__name__ for p in name) or "nothing"
        raise ConfigError(
            f"the split is a name such as 'ratings-holdout', not a {type(name).__name__} of {parts}; {FRAME_AS_PART}"
        )
    share = isinstance(name, (int, float, np.integer, np.floating)) and not isinstance(name, bool)
    why = f": give the part held out as test_size={name!r}" if share else ""
    raise ConfigError(
        f"the split is a name such as 'ratings-holdout', not {name!r}{why}; valid: {split_choices(choices)}"
    )


def get_splitter(
    name: str, *, seed: int = 42, threshold: float = 4.0, test_size: float = 0.2, cv: int | None = None
) -> Splitter:
    """The splitter behind a split name (``--split``); ``cv`` folds instead of one hold-out.

    ``cv`` k-folds the ratings (``ratings-holdout``) or the positives (``interactions-holdout``),
    with Surprise's ``KFold`` semantics; other splits have no k-fold form.
    """
    key = split_key(name)
    if not is_seed(seed):
        raise ConfigError(f"seed must be a whole number in 0 … 2**32 - 1, got {seed!r}")
    if cv is not None:
        if key == "per-user":  # folds of users: LensKit's crossfold_users
            return CrossfoldUsers(cv, test_size, seed)
        if key not in ("ratings-holdout", "interactions-holdout"):
            works = f"works with the ratings or interactions hold-out, or per-user (folds of users), not the {key} split"
            raise ConfigError(
                Doors(f"k-fold cross-validation (cv=) {works}", f"k-fold cross-validation (--cv) {works}")
            )
        if test_size != 0.2:  # each of k folds holds out 1/k: a share typed beside cv was silently ignored
            held = (
                f"each fold holds out 1/{cv} of the {'ratings' if key == 'ratings-holdout' else 'positives'}"
            )

            def said(size: str, folds: str) -> str:  # 190 characters were three rows of 80 columns
                return (
                    f"{size}{test_size:g} is unused with {folds}{cv}: {held}; drop {size.strip(' =')}, "
                    f"or drop {folds.strip(' =')} for one hold-out of {test_size:g}"
                )

            raise ConfigError(Doors(said("test_size=", "cv="), said("--test-size ", "--cv ")))
        return KFold(cv, seed, None if key == "ratings-holdout" else threshold)
    if key == "ratings-holdout":
        return RatingsHoldout(test_size, seed)
    if key == "interactions-holdout":
        return InteractionsHoldout(test_size, seed, threshold)
    if key == "per-user":
        return PerUserHoldout(test_size, seed)
    if key == "temporal":
        return TemporalSplit(test_size)
    if key == "leave-last-out":
        return LeaveLastOut()
    if key == "last-session":
        return LastSession()
    if key in CANONICAL_SPLITS:
        return CanonicalSplit(key, seed)
    raise ConfigError(unknown_split(name, ["auto", *SPLIT_NAMES]))


def canonical_split(
    inter: Interactions, name: str, *, seed: int = 42
) -> tuple[Interactions, Interactions, str]:
    """``(train, test, description)`` of a named canonical split; the dataset must be the one it is defined on."""
    splitter = CanonicalSplit(name.strip().lower(), seed)
    train, test = splitter.holdout(inter)
    return train, test, splitter.description
