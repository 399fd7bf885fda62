"""Matplotlib charts written as PNG files (headless, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from movierec.errors import ConfigError
from movierec.interactions import Interactions


def _pyplot():  # type: ignore[no-untyped-def]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError as exc:
        raise ConfigError("charts need matplotlib: pip install 'movierec[viz]'") from exc
    return plt


def _save(fig, path: str | Path) -> Path:  # type: ignore[no-untyped-def]
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(path, dpi=110, bbox_inches="tight")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the chart ({exc.strerror})") from exc
    finally:
        fig.clf()
        _pyplot().close(fig)
    return path


def rating_histogram(inter: Interactions, path: str | Path, *, title: str = "Rating distribution") -> Path:
    """Bar chart of how many ratings take each value."""
    plt = _pyplot()
    values, counts = np.unique(inter.ratings, return_counts=True)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    width = float(np.min(np.diff(values))) * 0.8 if len(values) > 1 else 0.4
    ax.bar(values, counts, width=width, color="#3b6ea8")
    ax.set_xlabel("rating")
    ax.set_ylabel("number of ratings")
    ax.set_title(title)
    ax.set_xticks(values)
    return _save(fig, path)


def rmse_bars(
    rows: list[dict], path: str | Path, *, title: str = "Rating error by model (lower is better)"
) -> Path:
    """The notebook's RMSE/MAE bar chart: one group per model, from result rows of the ``rating`` protocol."""
    plt = _pyplot()
    rows = [r for r in rows if r.get("protocol") == "rating" and r.get("rmse") is not None]
    if not rows:
        raise ConfigError("no rating-protocol rows (rmse) to chart")
    labels = [str(r["model"]) for r in rows]
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(labels) + 2), 3.8))
    width = 0.38
    for j, (metric, color) in enumerate((("rmse", "#3b6ea8"), ("mae", "#e08a3c"))):
        vals = [float(r.get(metric) or 0.0) for r in rows]
        bars = ax.bar(x + (j - 0.5) * width, vals, width, label=metric.upper(), color=color)
        ax.bar_label(bars, fmt="%.3f", fontsize=8, padding=2)
    ax.set_xticks(x, labels, rotation=20 if len(labels) > 4 else 0)
    ax.set_ylabel("error (rating points)")
    ax.set_title(title)
    top = max(float(r.get("rmse") or 0.0) for r in rows)
    ax.set_ylim(0, top * 1.3 if top > 0 else 1.0)
    ax.legend(loc="upper right", ncols=2)
    return _save(fig, path)


def _ci_err(row: dict, metric: str, value: float) -> tuple[float, float]:
    """Error-bar lengths (below, above) from a row's ``intervals``; zero when there is no interval."""
    ci = (row.get("intervals") or {}).get(metric)
    if not ci or ci[0] is None or ci[1] is None:
        return (0.0, 0.0)
    return (max(0.0, value - float(ci[0])), max(0.0, float(ci[1]) - value))


def ranking_bars(
    rows: list[dict],
    path: str | Path,
    *,
    metrics: tuple[str, ...] | None = None,
    title: str | None = None,
) -> Path:
    """Grouped bars of ranking metrics per model (one panel per protocol), with 95% bootstrap error bars.

    ``rows`` are JSON result rows (``model``, ``protocol``, metric keys, ``intervals``); by default
    the metrics shown are precision, recall, hit rate and NDCG at the rows' K.
    """
    plt = _pyplot()
    rows = [r for r in rows if r.get("protocol") != "rating"]
    if not rows:
        raise ConfigError("no ranking rows to chart")
    k = rows[0].get("k", 10)
    wanted = metrics or (f"precision@{k}", f"recall@{k}", f"hit_rate@{k}", f"ndcg@{k}")
    protocols = list(dict.fromkeys(str(r["protocol"]) for r in rows))
    fig, axes = plt.subplots(1, len(protocols), figsize=(max(6.0, 5.5 * len(protocols)), 4.0), squeeze=False)
    colors = plt.get_cmap("tab10")
    for ax, proto in zip(axes[0], protocols, strict=True):
        prow = [r for r in rows if r["protocol"] == proto]
        shown = [m for m in wanted if any(r.get(m) is not None for r in prow)]
        models = [str(r["model"]) for r in prow]
        x = np.arange(len(shown))
        width = 0.8 / max(len(models), 1)
        for j, r in enumerate(prow):
            vals = np.array([float(r.get(m) or 0.0) for m in shown])
            err = np.array([_ci_err(r, m, v) for m, v in zip(shown, vals, strict=True)]).T.reshape(
                2, len(shown)
            )
            ax.bar(
                x + (j - (len(models) - 1) / 2) * width,
                vals,
                width,
                yerr=err,
                capsize=3,
                label=models[j],
                color=colors(j % 10),
            )
        ax.set_xticks(x, shown)
        ax.set_title(f"protocol: {proto}")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    fig.suptitle(title or f"Ranking quality at K={k} (95% bootstrap intervals over users)")
    return _save(fig, path)
