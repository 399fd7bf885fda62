"""The ``next-item-in-session`` protocol: predict each next item inside a user's latest session.

Session-based evaluation as in GRU4Rec (Hidasi et al. 2016): a user's time-ordered ratings are
cut into sessions where two consecutive ratings are more than ``gap`` apart; each user's latest
session with at least two items is the test session and every earlier rating is training data.
For every prefix i₁…i_t of a test session the model scores all items (its own fold-in,
``score_new_user`` on the prefix; sequence models read it in order) and the next item i_{t+1}
is the one relevant item: HR@k (recall@k), MRR@k and NDCG@k per event, averaged over each user's
events, then over users, with a bootstrap interval over users (events of one user are not
independent). Items already in the prefix are not excluded, as in the GRU4Rec papers (a session may
revisit an item). Rating models fold the prefix in with its ratings, the others as liked items.

In ``compare`` this is the ``next-item-in-session`` protocol on the ``last-session`` split (gap
:data:`DEFAULT_GAP`, each test session's first :data:`MAX_EVENTS` events, to bound the run time);
:func:`next_item_in_session` runs it alone with any gap.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from movierec import metrics as M
from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions
from movierec.models.base import Recommender

__all__ = [
    "DEFAULT_GAP",
    "MAX_EVENTS",
    "last_session",
    "next_item_in_session",
    "session_cases",
    "session_events",
    "session_split",
    "users_left_out",
]

#: the session gap of the ``last-session`` split in ``compare``
DEFAULT_GAP = "1h"
#: events scored per test session in ``compare`` (its first ones)
MAX_EVENTS = 20


def session_split(inter: Interactions, gap: float | str) -> tuple[Interactions, list[tuple[int, np.ndarray]]]:
    """(training interactions, [(user, test session items in order)]) for ``gap`` (seconds or ``"1h"``)."""
    train, cases, _held = _split(inter, gap)
    return train, cases


def _split(
    inter: Interactions, gap: float | str
) -> tuple[Interactions, list[tuple[int, np.ndarray]], np.ndarray]:
    from movierec.models.gru4rec import parse_gap
    from movierec.models.sequential import time_order

    seconds = parse_gap(gap)
    if seconds is None or inter.timestamps is None:
        raise ConfigError("next-item-in-session needs timestamps and a session gap such as '1h'")
    order = time_order(inter)
    counts = np.bincount(inter.users, minlength=inter.n_users)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    test_rows: list[np.ndarray] = []
    cases: list[tuple[int, np.ndarray]] = []
    for u in range(inter.n_users):
        rows = order[bounds[u] : bounds[u + 1]]
        start = _test_start(inter.timestamps[rows], seconds)
        if isinstance(start, str):  # no test session: keep users with training history before it
            continue
        test_rows.append(rows[start:])
        cases.append((u, inter.items[rows[start:]].astype(np.int64)))
    if not cases:
        raise DataError(f"no user has a session of ≥ 2 ratings after earlier ones with gap {gap!r}")
    held = np.zeros(inter.n_ratings, dtype=bool)
    held[np.concatenate(test_rows)] = True
    return inter.subset(np.flatnonzero(~held)), cases, held


def _test_start(times: np.ndarray, seconds: float) -> int | str:
    """Where a user's test session starts among their ratings in time order (``times``): their latest session
    of ≥ 2 ratings (cut where ratings are more than ``seconds`` apart), when ratings come before it. Else why
    they have none: ``"few"`` (under 3 ratings), ``"none"`` (no two ratings within the gap), ``"first"`` (that
    session is their first: nothing before it to train on)."""
    from movierec.models.gru4rec import sessions

    if len(times) < 3:
        return "few"
    last = next((s for s in reversed(sessions(np.arange(len(times)), times, seconds)) if len(s) >= 2), None)
    if last is None:
        return "none"
    return "first" if last[0] == 0 else int(last[0])


def users_left_out(inter: Interactions, gap: float | str = DEFAULT_GAP) -> dict[str, int]:
    """How many users the ``last-session`` split leaves without a test session, by reason (``"few"``,
    ``"none"``, ``"first"``: see :func:`_test_start`): what compare's note on next-item-in-session's users
    says (ml-latest-small, gap 1h: 333 of 610, each with their latest session their first)."""
    from movierec.models.gru4rec import parse_gap
    from movierec.models.sequential import time_order

    seconds = parse_gap(gap)
    if seconds is None or inter.timestamps is None:
        return {}
    order = time_order(inter)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(inter.users, minlength=inter.n_users))])
    out = {"few": 0, "none": 0, "first": 0}
    for u in range(inter.n_users):
        start = _test_start(inter.timestamps[order[bounds[u] : bounds[u + 1]]], seconds)
        if isinstance(start, str):
            out[start] += 1
    return out


def last_session(inter: Interactions, gap: float | str = DEFAULT_GAP) -> tuple[Interactions, Interactions]:
    """The ``last-session`` split: ``(train, test)`` where test holds each user's latest session of ≥ 2
    ratings that follows earlier ratings (see :func:`session_split`)."""
    train, _cases, held = _split(inter, gap)
    return train, inter.subset(np.flatnonzero(held))


def next_item_in_session(
    dataset: Any,
    models: Sequence[tuple[str, dict[str, Any]]],
    *,
    gap: float | str = "1h",
    k: int = 20,
    seed: int = 42,
    max_events: int | None = None,
) -> list[dict[str, Any]]:
    """One row per model: HR@k and MRR@k over every next-item event of the test sessions, with intervals.

    ``max_events`` caps each test session's events (its first ones) to bound the run time.
    """
    from movierec.models.base import training_view
    from movierec.models.registry import create

    inter: Interactions = getattr(dataset, "interactions", dataset)
    train, cases = session_split(inter, gap)
    out = []
    for name, params in models:
        model = create(name, **params)
        fit_on = training_view(model, train)  # as compare does: sequence models read every rating
        tic = time.perf_counter()
        model.fit(fit_on)
        fit_s = time.perf_counter() - tic
        per_user, _users, n_events = session_events(model, cases, k=k, max_events=max_events)
        hr, mrr = per_user[f"hit_rate@{k}"], per_user[f"mrr@{k}"]
        out.append(
            {
                "model": name,
                "protocol": "next-item-in-session",
                "gap": gap,
                f"hr@{k}": float(hr.mean()),
                f"hr@{k} ci": M.bootstrap_ci(hr, seed=seed),
                f"mrr@{k}": float(mrr.mean()),
                f"mrr@{k} ci": M.bootstrap_ci(mrr, seed=seed),
                "n_users": len(cases),
                "n_events": n_events,
                "fit_seconds": round(fit_s, 2),
            }
        )
    return out


def session_cases(test: Interactions) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """``[(user, items in time order, their ratings)]`` of a ``last-session`` test fold."""
    from movierec.models.sequential import time_order

    order = time_order(test)
    users = test.users[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    ends = np.r_[starts[1:], len(order)]
    return [
        (int(users[a]), test.items[order[a:b]].astype(np.int64), test.ratings[order[a:b]])
        for a, b in zip(starts, ends, strict=True)
        if b - a >= 2
    ]


def session_events(
    model: Recommender,
    cases: Sequence[tuple[Any, ...]],
    *,
    k: int = 20,
    max_events: int | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
    """Score every next-item event of ``cases`` (``(user, items[, ratings])``, items in order) with
    ``model.score_new_user`` on the prefix: per-user HR@k, MRR@k, NDCG@k (aligned with the returned
    users) and the number of events."""
    explicit = str(getattr(model, "kind", "implicit")) == "explicit"
    hr_u, mrr_u, ndcg_u, users, n_events = [], [], [], [], 0
    for case in cases:
        u, items = case[0], case[1]
        ratings = case[2] if len(case) > 2 else None
        last = len(items) if max_events is None else min(len(items), max_events + 1)
        ranks = np.empty(max(last - 1, 0), dtype=np.int64)
        for t in range(1, last):
            if explicit and ratings is not None:
                scores = model.score_new_user(items[:t], np.asarray(ratings[:t], dtype=np.float64))
            else:
                scores = model.score_new_user(items[:t])
            scores = np.asarray(scores, dtype=np.float64)
            ranks[t - 1] = int((scores > scores[items[t]]).sum())
        if not len(ranks):
            continue
        hit = ranks < k
        n_events += len(ranks)
        users.append(u)
        hr_u.append(hit.mean())
        mrr_u.append(np.where(hit, 1.0 / (ranks + 1.0), 0.0).mean())
        ndcg_u.append(np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0).mean())
    per_user = {
        f"hit_rate@{k}": np.asarray(hr_u, dtype=np.float64),
        f"ndcg@{k}": np.asarray(ndcg_u, dtype=np.float64),
        f"mrr@{k}": np.asarray(mrr_u, dtype=np.float64),
    }
    return per_user, np.asarray(users, dtype=np.int32), n_events
