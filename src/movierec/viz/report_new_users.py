"""The report's "new users" section: the cold-users warm-up curve (movierec.cold_users) as a small table.

Runs only when the dataset carries user demographics (ml-100k, ml-1m): popularity, segment
popularity and warp with the ``demographics`` user features, scored for held-out users from
their features alone and after 1, 5, 10 revealed ratings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["NEW_USER_MODELS", "new_users_section"]

NEW_USER_MODELS: list[tuple[str, dict[str, Any]]] = [
    ("popularity", {}),
    ("segment-popularity", {}),
    ("warp", {}),
]


def new_users_section(
    ds: Any, *, k: int, threshold: float, seed: int, notes: list[str]
) -> dict[str, Any] | None:
    """The section's data (rows of NDCG@k with intervals per revealed count, paired tests), or None."""
    from movierec.cold_users import cold_users
    from movierec.errors import MovierecError

    if getattr(ds, "users", None) is None:
        return None
    try:
        rep = cold_users(
            ds,
            [(n, {"random_state": seed} if n == "warp" else {}) for n, _ in NEW_USER_MODELS],
            user_features="demographics",
            k=k,
            threshold=threshold,
            seed=seed,
        )
    except MovierecError as exc:
        notes.append(f"new-users section skipped: {exc}")
        return None
    metric = f"ndcg@{k}"
    levels = list(rep.meta["reveal"])
    rows = []
    for label in dict.fromkeys(r["model"] for r in rep.rows):
        cells = []
        for lvl in levels:
            r = next(x for x in rep.rows if x["model"] == label and x["revealed"] == lvl)
            cells.append(None if metric not in r else [r[metric], r[f"{metric} lo"], r[f"{metric} hi"]])
        rows.append({"model": label, "cells": cells})
    best = {
        lvl: max((r for r in rows if r["cells"][j]), key=_cell_value(j))["model"]
        for j, lvl in enumerate(levels)
    }
    return {
        "k": k,
        "levels": levels,
        "rows": rows,
        "best": best,
        "paired": rep.paired,
        "n_users": rep.meta["n_evaluated"],
        "fraction": rep.meta["fraction"],
    }


def _cell_value(j: int) -> Callable[[dict[str, Any]], float]:
    """Sort key of a row by its ``j``-th cell's value (the NDCG at that revealed count)."""
    return lambda row: float(row["cells"][j][0])
