"""The ``next-item-in-session`` protocol: predict each next item inside a user's latest session.

Session-based evaluation as in GRU4Rec (Hidasi et al. 2016): a user's time-ordered ratings are
cut into sessions where two consecutive ratings are more than ``gap`` apart; each user's latest
session with at least two items is the test session and every earlier rating is training data.
For every prefix i₁…i_t of a test session the model scores all items (its own fold-in,
``score_new_user`` on the prefix; sequence models read it in order) and the next item i_{t+1}
is the one relevant item: HR@k (recall@k) and MRR@k per event, averaged over events, with a
bootstrap interval over users (events of one user are not independent). Items already in the
prefix are not excluded, as in the GRU4Rec papers (a session may revisit an item).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from movierec import metrics as M
from movierec.errors import ConfigError, DataError
from movierec.interactions import Interactions

__all__ = ["next_item_in_session", "session_split"]


def session_split(inter: Interactions, gap: float | str) -> tuple[Interactions, list[tuple[int, np.ndarray]]]:
    """(training interactions, [(user, test session items in order)]) for ``gap`` (seconds or ``"1h"``)."""
    from movierec.models.gru4rec import parse_gap, sessions
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
        if len(rows) < 3:
            continue
        sess = sessions(np.arange(len(rows)), inter.timestamps[rows], seconds)
        last = next((s for s in reversed(sess) if len(s) >= 2), None)
        if last is None or last[0] == 0:  # keep users with training history before the test session
            continue
        test_rows.append(rows[last[0] :])
        cases.append((u, inter.items[rows[last[0] :]].astype(np.int64)))
    if not cases:
        raise DataError(f"no user has a session of ≥ 2 ratings after earlier ones with gap {gap!r}")
    held = np.zeros(inter.n_ratings, dtype=bool)
    held[np.concatenate(test_rows)] = True
    return inter.subset(np.flatnonzero(~held)), cases


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
    from movierec.models.registry import create

    inter: Interactions = getattr(dataset, "interactions", dataset)
    train, cases = session_split(inter, gap)
    out = []
    for name, params in models:
        model = create(name, **params)
        fit_on = train if getattr(model, "sequential", False) else train.to_implicit(4.0)
        tic = time.perf_counter()
        model.fit(fit_on)
        fit_s = time.perf_counter() - tic
        hr_u, mrr_u, n_events = [], [], 0
        for _u, items in cases:
            hits, rr = [], []
            steps = range(1, len(items) if max_events is None else min(len(items), max_events + 1))
            for t in steps:
                scores = np.asarray(model.score_new_user(items[:t]), dtype=np.float64)
                rank = int((scores > scores[items[t]]).sum())
                hits.append(rank < k)
                rr.append(1.0 / (rank + 1) if rank < k else 0.0)
            n_events += len(hits)
            hr_u.append(np.mean(hits))
            mrr_u.append(np.mean(rr))
        hr, mrr = np.asarray(hr_u), np.asarray(mrr_u)
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
