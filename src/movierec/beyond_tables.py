"""``compare --beyond`` tables: diversity and calibration, popularity bias, accuracy per user group.

Kept apart from the accuracy table so each fits 80 columns; values carry their 95% bootstrap
interval underneath, as in the accuracy table. ``movierec compare --beyond`` and ``print(comparison)``
both print them (so this sits beside :mod:`movierec.tables`, not under the CLI). Definitions:
docs/beyond-accuracy.md.
"""

from __future__ import annotations

import math
from typing import Any

from rich import box
from rich.table import Table

from movierec.beyond_names import MIN_INTERVAL_USERS

__all__ = [
    "GAP_P_LEGEND",
    "RECBOLE_LEGEND",
    "SMALL_GROUP_LEGEND",
    "beyond_tables",
    "group_families",
    "group_tables",
]

_DIVERSITY = (
    ("ild_genres", "ILD genre ↑"),
    ("ild_vectors", "ILD vector ↑"),
    ("calibration_kl", "calib. KL ↓"),
)
_POPULARITY = (
    ("arp", "ARP ↓"),
    ("novelty", "novelty ↑"),
    ("aplt", "APLT ↑"),
    ("gini", "Gini ↓"),
    ("aggregate_diversity", "distinct ↑"),
)
_SURPRISE = (
    ("unexpectedness", "unexpected ↑"),
    ("serendipity", "serendipity ↑"),
    ("entropy", "entropy ↑"),
)


def _cell(r: Any, key: str) -> str:
    v = r.metrics.get(key)
    if v is None or not math.isfinite(v):
        return "–"
    text = f"{int(v)}" if key.startswith("aggregate_diversity") else f"{v:.4f}"
    ci = r.intervals.get(key)
    if ci and all(math.isfinite(c) for c in ci):
        text += f"\n[dim]\\[{_short(ci[0])},{_short(ci[1])}][/]"
    return text


def _short(x: float) -> str:
    """``0.783`` → ``.783`` (intervals stay narrow enough for 80 columns)."""
    text = f"{x:.3f}"
    return text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text


def _metric_table(rows: list[Any], k: int, columns: tuple[tuple[str, str], ...], title: str) -> Table | None:
    cols = [(f"{m}@{k}", head) for m, head in columns if any(f"{m}@{k}" in r.metrics for r in rows)]
    if not cols:
        return None
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("model", overflow="fold", max_width=22)
    for _, head in cols:
        table.add_column(head, justify="right", no_wrap=True)
    for r in rows:
        table.add_row(r.label, *(_cell(r, key) for key, _ in cols))
    return table


def group_families(rows: list[Any], metric: str) -> dict[str, list[str]]:
    """``{"activity": ["low", "mid", "high"], "gender": [...]}``: the groups ``metric`` was split by, in order."""
    out: dict[str, list[str]] = {}
    prefix = f"{metric}["
    for r in rows:
        for key in r.metrics:
            if key.startswith(prefix) and "=" in key:
                family, label = key[len(prefix) : -1].split("=", 1)
                out.setdefault(family, [])
                if label not in out[family]:
                    out[family].append(label)
    return out


_CELL_W = 14  # an interval "[.228,.255]" plus padding and rule
_GROUPS_MIN = 2
GAP_P_LEGEND = "p under the gap: permutation p that the groups differ (< 0.05: they do)"
"""The line under each group table that says what the gap's ``p=`` is (its interval is no such test)."""
SMALL_GROUP_LEGEND = (
    f"– under a group's mean: no interval under {MIN_INTERVAL_USERS} users (too few to trust)"
)
"""The legend line under a group table with a group too small for an interval."""


def _group_chunks(labels: list[str], label_w: int, width: int) -> list[list[str]]:
    """``labels`` cut into runs whose columns (each ``_CELL_W`` wide, beside the model column) fit ``width``.

    Only the last run carries the gap column, so it holds one group fewer than the others at most.
    """
    cap = max(_GROUPS_MIN, (width - label_w - 2) // _CELL_W)
    chunks = [labels[i : i + cap] for i in range(0, len(labels), cap)] or [[]]
    if len(chunks[-1]) == cap:  # no room left for the gap: its last group moves to a table of its own
        chunks[-1:] = [chunks[-1][:-1], chunks[-1][-1:]]
    return chunks


def _gap_cell(r: Any, key: str) -> str:
    """The gap, its interval and, under them, its permutation p (``p=0.001``: the least 1,000 shuffles give)."""
    text = _cell(r, key)
    p = r.metrics.get(f"{key[:-1]} p]")
    if p is not None and math.isfinite(p) and text != "–":
        text += f"\n[dim]p={p:.3f}[/]"
    return text


def _small(r: Any, family: str, label: str) -> bool:
    n = r.metrics.get(f"users[{family}={label}]")
    return n is not None and math.isfinite(n) and n < MIN_INTERVAL_USERS


def _group_cell(r: Any, metric: str, family: str, label: str) -> str:
    """A group's mean over its interval, or over a dim ``–`` for a group under ``MIN_INTERVAL_USERS`` users."""
    text = _cell(r, f"{metric}[{family}={label}]")
    if text != "–" and _small(r, family, label) and f"{metric}[{family}={label}]" not in r.intervals:
        text += "\n[dim]–[/]"
    return text


def _legend(rows: list[Any], family: str, chunk: list[str], last: bool) -> str | None:
    """The dim lines under a group table: what the gap's p is (last part), why a small group has no interval."""
    lines = [GAP_P_LEGEND] if last else []
    if any(_small(r, family, lab) for r in rows for lab in chunk):
        lines.append(SMALL_GROUP_LEGEND)
    return "\n".join(lines) or None


def _group_header(rows: list[Any], family: str, label: str) -> str:
    """The group's name over its size (``F`` / ``n=273``), the size read from ``users[family=label]``."""
    sizes = {r.metrics.get(f"users[{family}={label}]") for r in rows}
    sizes.discard(None)
    if len(sizes) == 1:
        (n,) = sizes
        if n is not None and math.isfinite(n):
            return f"{label}\nn={n:,.0f}"
    return label


def group_tables(rows: list[Any], metric: str, width: int = 80) -> list[Table]:
    """One table per user-group family (activity, gender, age…): the group means, their sizes and the gap.

    A family with more groups than ``width`` holds (age on ml-100k has seven) is split over several
    tables, each keeping the model column, so no row loses its name.
    """
    tables: list[Table] = []
    label_w = min(22, max([5, *(len(r.label) for r in rows)]))
    for family, labels in group_families(rows, metric).items():
        chunks = _group_chunks(labels, label_w, width)
        for i, chunk in enumerate(chunks):
            part = f", {i + 1}/{len(chunks)}" if len(chunks) > 1 else ""
            last = i == len(chunks) - 1
            table = Table(
                title=f"{metric} by user group ({family}{part}); gap = best − worst group",
                title_justify="left",
                caption=_legend(rows, family, chunk, last),
                caption_justify="left",
                caption_style="dim",
                box=box.SIMPLE_HEAD,
                pad_edge=False,
            )
            table.add_column("model", overflow="fold", min_width=label_w, max_width=22)
            for lab in chunk:
                table.add_column(_group_header(rows, family, lab), justify="right", no_wrap=True)
            if last:
                table.add_column("gap ↓", justify="right", no_wrap=True)  # smaller: groups served alike
            for r in rows:
                cells = [_group_cell(r, metric, family, lab) for lab in chunk]
                if last:
                    cells.append(_gap_cell(r, f"{metric}[{family} gap]"))
                table.add_row(r.label, *cells)
            tables.append(table)
    return tables


def beyond_tables(comp: Any, metric: str | None = None, width: int = 80) -> list[Table]:
    """Rich tables of the beyond-accuracy metrics of a comparison's full-ranking rows (empty when there are none)."""
    k = comp.k
    rows = [r for r in comp.rows if r.protocol == "full-ranking" and f"arp@{k}" in r.metrics]
    if not rows:
        return []
    tables = [
        _metric_table(rows, k, _DIVERSITY, f"beyond accuracy · diversity and calibration @{k}"),
        _metric_table(rows, k, _POPULARITY, f"beyond accuracy · popularity bias @{k}"),
        _metric_table(rows, k, _SURPRISE, f"beyond accuracy · unexpectedness and concentration @{k}"),
    ]
    out = [t for t in tables if t is not None]
    return [*out, _recbole_legend(), *group_tables(rows, metric or f"ndcg@{k}", width)]


RECBOLE_LEGEND = (
    "unlike RecBole: entropy in nats over recommended items, not ÷ their count;",
    "Gini over the whole catalogue; novelty +1-smoothed; ARP a share of users",
)
"""The dim lines under the beyond tables: the definitions that differ from RecBole's, which a reader
comparing figures would otherwise trip on (ease on ml-latest-small: entropy 5.2198 here, RecBole's
0.009255 = 5.2198 / 564 items recommended; ARP here a share of training users, RecBole's a count).
Each line fits 80 columns; docs/beyond-accuracy.md has the details."""


def _recbole_legend() -> Table:
    """:data:`RECBOLE_LEGEND` as a borderless one-column table, so it prints wherever the tables do."""
    grid = Table.grid()
    grid.add_column(no_wrap=True)
    grid.add_row("[dim]" + "\n".join(RECBOLE_LEGEND) + "[/]")
    return grid
