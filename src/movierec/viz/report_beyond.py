"""The report's "beyond accuracy" section: trade-off scatter, popularity-bias curve, per-group NDCG, a plain reading.

Self-contained: :func:`beyond_section` takes the comparison's full-ranking rows (computed with
``compare(..., beyond=True)``) and each model's top-K lists, writes three PNGs and returns what the
template ``beyond.html.j2`` shows. Definitions: docs/beyond-accuracy.md.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from movierec import beyond as B
from movierec.viz import charts as C

__all__ = ["COLUMNS", "beyond_reading", "beyond_section", "popularity_curve"]

COLUMNS = (
    ("coverage", "coverage", True),
    ("novelty", "novelty", True),
    ("ild_genres", "genre ILD", True),
    ("arp", "ARP", False),
    ("aplt", "APLT", True),
    ("gini", "Gini", False),
    ("calibration_kl", "calib. KL", False),
    ("unexpectedness", "unexpected", True),
)
"""(metric, header, higher is better) for the section's table."""


def popularity_curve(recs: np.ndarray, popularity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative share of recommendations going to the top-r most popular items, for r = 1..n (items by training popularity)."""
    order = np.argsort(-np.asarray(popularity, dtype=np.float64), kind="stable")
    counts = B.recommendation_counts(recs, len(popularity))[order]
    total = counts.sum()
    share = np.cumsum(counts) / total if total else np.zeros(len(counts))
    return np.arange(1, len(order) + 1), share


def _scatter(
    rows: Sequence[Any], k: int, path: Path, colours: Mapping[str, str], stacked: bool = False
) -> Path:
    """NDCG against coverage and against novelty, one point per model; ``stacked``: the two panels one above
    the other, about 360 px wide, for a phone (side by side, 972 px at 0.85x scrolled 516 px in its card)."""
    return C.save(_scatter_figure(rows, k, colours, stacked), path)


def _scatter_figure(rows: Sequence[Any], k: int, colours: Mapping[str, str], stacked: bool) -> Any:
    """:func:`_scatter`'s figure, laid out, its point labels apart (not saved: a test measures them)."""
    plt = C.pyplot()
    fig, axes = plt.subplots(*((2, 1) if stacked else (1, 2)), figsize=(3.28, 6.0) if stacked else (9.5, 3.6))
    names: list[list[Any]] = [[], []]  # each panel's point labels
    marks: list[list[tuple[float, float, float, float]]] = [[], []]  # and its points, with their intervals
    for ax, names_here, marks_here, (metric, label) in zip(
        axes,
        names,
        marks,
        ((f"coverage@{k}", "catalogue coverage (share of items)"), (f"novelty@{k}", "novelty (bits)")),
        strict=True,
    ):
        for r in rows:
            x, y = r.metrics.get(metric), r.metrics.get(f"ndcg@{k}")
            if x is None or y is None:
                continue
            lo, hi = r.intervals.get(f"ndcg@{k}", (y, y))
            ax.errorbar(
                x, y, yerr=[[y - lo], [hi - y]], fmt="o", color=colours.get(r.label, C.BLUE), capsize=2.5
            )
            names_here.append(
                ax.annotate(r.label, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
            )
            marks_here.append((x, y, lo, hi))
        ax.set_xlabel(label)
        ax.set_ylabel(f"NDCG@{k}")
        # room on the right for the names beside the points: past the axes they set the phone chart's width,
        # and in the wide one "warp+genres+tags" ran under the next panel's "NDCG@10"
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo, hi + (0.6 if stacked else 0.4) * (hi - lo))
    axes[0].set_title("Accuracy vs coverage" if stacked else "Accuracy vs catalogue coverage", loc="left")
    axes[1].set_title("Accuracy vs novelty", loc="left")
    if stacked:
        fig.tight_layout(h_pad=1.5)
    for names_here, marks_here in zip(names, marks, strict=True):  # names apart, and off the points
        C.separate_labels(names_here, points=marks_here)
    return fig


def _curve(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    data: tuple[np.ndarray, np.ndarray],
    path: Path,
    colours: Mapping[str, str],
    narrow: bool = False,
) -> Path:
    """Each model's cumulative share of recommendations by item popularity rank, beside the data's; ``narrow``:
    about 360 px wide, labels on two lines and the legend under the axes, for a phone (712 px at 0.85x
    scrolled 295 px sideways in a 360 px phone's card)."""
    plt = C.pyplot()
    fig, ax = plt.subplots(figsize=(3.1, 3.6) if narrow else (7.5, 3.8))
    ax.plot(*data, color="#888888", lw=1.5, ls="--", label="training interactions")
    for lab, (x, y) in curves.items():
        ax.plot(x, y, color=colours.get(lab, C.BLUE), lw=1.6, label=lab)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    sep = "\n" if narrow else " "
    ax.set_xlabel(f"items by training popularity{sep}(rank, log scale)")
    ax.set_ylabel(f"cumulative share{sep}of recommendations")
    title = "Popularity bias: where the recommendations go"
    ax.set_title(textwrap.fill(title, 24) if narrow else title, loc="left")  # on one line, 445 px
    if narrow:
        C.narrow_legend(ax)
    else:
        ax.legend(frameon=False, loc="lower right")
    return C.save(fig, path)


def _groups(
    rows: Sequence[Any], k: int, path: Path, colours: Mapping[str, str], narrow: bool = False
) -> Path | None:
    """NDCG@K per activity tercile, one bar per model with its 95% interval; the legend sits under the axes.

    ``narrow``: about 360 px wide, the legend in two columns, for a phone: 1044 px with 7 models, at 0.85x it
    scrolled 577 px sideways in a 360 px phone's card."""
    metric = f"ndcg@{k}"
    keys = [f"{metric}[activity={g}]" for g in ("low", "mid", "high")]
    if not any(np.isfinite(r.metrics.get(key, np.nan)) for r in rows for key in keys):
        return None
    plt = C.pyplot()
    size = (3.28, 2.9) if narrow else (max(6.5, 1.2 * len(rows) + 3), 3.8)
    fig, ax = plt.subplots(figsize=size)
    values = {r.label: r.metrics for r in rows}
    x = C.bars_on(ax, values, keys, {r.label: r.intervals for r in rows}, colours)
    sep = "\n" if narrow else " "
    ax.set_xticks(x, [f"light users{sep}(low)", "middle", f"heavy users{sep}(high)"])
    ax.set_ylabel(f"NDCG@{k}")
    title = f"NDCG@{k} by user activity tercile, 95% intervals"
    ax.set_title(textwrap.fill(title, 26) if narrow else title, loc="left")
    ax.grid(axis="x", visible=False)
    if narrow:
        C.narrow_legend(ax)
    else:
        ax.legend(ncols=min(len(rows), 6), loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    return C.save(fig, path)


def _heavy_over_light(row: Any, k: int) -> bool:
    """Whether heavy users are shown to be served better than light ones: the gap is high − low (heavy
    users the best-served tercile, light users the worst) and its permutation p is below
    :data:`~movierec.beyond.GAP_SIGNIFICANCE`. The range's permutation test allows for the best and
    worst terciles being picked after the fact, which the gap's interval does not (with three groups it
    excluded 0 in 29 of 200 label shuffles on ml-100k, against 10 of 200 for p < 0.05). When ``mid``
    is the worst, the gap is high − mid and says nothing about light users."""
    high = row.metrics.get(f"ndcg@{k}[activity=high]")
    low = row.metrics.get(f"ndcg@{k}[activity=low]")
    gap = row.metrics.get(f"ndcg@{k}[activity gap]")
    p = row.metrics.get(f"ndcg@{k}[activity gap p]")
    if high is None or low is None or gap is None or p is None or not high > low:
        return False
    if not np.isclose(gap, high - low, rtol=1e-9, atol=1e-12):
        return False
    return bool(p < B.GAP_SIGNIFICANCE)


def beyond_reading(rows: Sequence[Any], k: int) -> list[str]:
    """Plain-English sentences on the trade-offs between accuracy and the beyond-accuracy metrics."""
    if not rows:
        return []
    m = {r.label: r.metrics for r in rows}

    def best(metric: str, high: bool = True) -> str | None:
        have = [lab for lab in m if m[lab].get(metric) is not None and np.isfinite(m[lab][metric])]
        if not have:
            return None
        return (max if high else min)(have, key=lambda lab: m[lab][metric])

    out: list[str] = []
    acc = best(f"ndcg@{k}")
    if acc is None:
        return out
    a = m[acc]
    out.append(f"{acc} is the most accurate (NDCG@{k} {a[f'ndcg@{k}']:.3f}).")
    cov = best(f"coverage@{k}")
    if cov and cov != acc:
        c = m[cov]
        out.append(
            f"{cov} spreads its lists over more of the catalogue (coverage {c[f'coverage@{k}']:.3f}, "
            f"{c[f'coverage@{k}']:.1%} of items, vs {a.get(f'coverage@{k}', 0):.3f} for {acc}) at NDCG@{k} "
            f"{c[f'ndcg@{k}']:.3f}: more variety, fewer hits."
        )
    elif cov == acc:
        out.append(f"{acc} also covers the most of the catalogue: here accuracy and variety do not conflict.")
    arp = f"arp@{k}"
    if a.get(arp) is not None:
        low = best(arp, high=False)
        text = (
            f"The average movie {acc} recommends is in the training history of {a[arp]:.0%} of users"
            + (f"; {low}'s by {m[low][arp]:.0%}" if low and low != acc else "")
            + "."
        )
        if a.get(f"aplt@{k}") is not None:
            text += f" {a[f'aplt@{k}']:.1%} of {acc}'s slots go to long-tail movies (outside the 80% head)."
        out.append(text)
    cal = best(f"calibration_kl@{k}", high=False)
    if cal:
        out.append(
            f"{cal}'s lists mirror users' genre mix best (calibration KL {m[cal][f'calibration_kl@{k}']:.2f}"
            + (f" vs {a[f'calibration_kl@{k}']:.2f} for {acc}" if cal != acc else "")
            + "); a re-ranker (calibrated:λ) lowers it further."
        )
    gap_key = f"ndcg@{k}[activity gap]"
    gaps = {lab: r for lab, r in ((r.label, r) for r in rows) if gap_key in r.metrics}
    if gaps:
        favoured = [lab for lab, r in gaps.items() if _heavy_over_light(r, k)]
        small = min(gaps, key=lambda lab: gaps[lab].metrics[gap_key])
        if favoured:
            ps = ", ".join(f"{lab} p = {gaps[lab].metrics[f'{gap_key[:-1]} p]']:.3f}" for lab in favoured)
            out.append(
                f"Heavy users get clearly better lists than light users from {', '.join(favoured)} "
                f"(permutation test that the activity terciles differ: {ps}): light users have less "
                "history to learn from."
            )
        out.append(f"{small} has the smallest gap between its best- and worst-served activity groups.")
    return out


def beyond_section(
    rows: Sequence[Any],
    k: int,
    charts_dir: Path,
    colours: Mapping[str, str],
    lists: Mapping[str, np.ndarray],
    popularity: np.ndarray,
) -> dict[str, Any] | None:
    """Charts, table and reading for the report (``None`` when no row has beyond-accuracy metrics).

    ``lists`` maps a model label to its full-ranking top-K lists; ``popularity`` is the training
    popularity per item (for the popularity-bias curve).
    """
    full = [r for r in rows if r.protocol == "full-ranking" and f"arp@{k}" in r.metrics]
    if not full:
        return None
    # the scatter and the tercile bars twice: for a wide screen, and narrow for a phone (<picture>, <= 700 px)
    charts: dict[str, Path] = {}
    for suffix, narrow in C.SCREENS:
        charts[f"scatter{suffix}"] = _scatter(
            full, k, charts_dir / f"beyond_tradeoff{suffix}.png", colours, narrow
        )
        groups = _groups(full, k, charts_dir / f"ndcg_by_group{suffix}.png", colours, narrow)
        if groups is not None:
            charts[f"groups{suffix}"] = groups
    curves = {lab: popularity_curve(recs, popularity) for lab, recs in lists.items()}
    if curves:
        order = np.sort(np.asarray(popularity, dtype=np.float64))[::-1]
        total = order.sum()
        data = (np.arange(1, len(order) + 1), np.cumsum(order) / total if total else np.zeros(len(order)))
        for suffix, narrow in C.SCREENS:
            charts[f"curve{suffix}"] = _curve(
                curves, data, charts_dir / f"popularity_bias{suffix}.png", colours, narrow
            )
    table = []
    for r in full:
        cells = []
        for metric, _, _ in COLUMNS:
            key = f"{metric}@{k}"
            cells.append({"value": r.metrics.get(key), "ci": r.intervals.get(key)})
        gap = f"ndcg@{k}[activity gap]"
        cells.append({"value": r.metrics.get(gap), "ci": r.intervals.get(gap)})
        cells.append({"value": r.metrics.get(f"ndcg@{k}[activity gap p]"), "ci": None})
        table.append({"model": r.label, "cells": cells})
    headers = [h for _, h, _ in COLUMNS] + ["NDCG gap", "gap p"]
    return {
        "charts": charts,
        "headers": headers,
        "table": table,
        "reading": beyond_reading(full, k),
        "k": k,
        "head_share": B.HEAD_SHARE,
    }
