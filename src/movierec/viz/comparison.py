"""``Comparison.plot()``: one metric per model as an interactive chart with its 95% interval.

A notebook compares models by one number and wants to see whether the gaps are larger than the
noise; the tables print the intervals, a chart makes the overlap visible at a glance. Bars are
horizontal (long model labels stay readable, also on a narrow screen), the best model first, the
axis starting at zero (a cut axis makes 0.87 look twice 0.85).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from movierec.errors import ConfigError, did_you_mean
from movierec.metrics import ERROR_METRICS, metric_name

__all__ = ["LOWER_IS_BETTER", "comparison_figure", "default_metric", "tuning_figure"]

#: metrics where smaller is better (the best bar is the shortest)
LOWER_IS_BETTER = frozenset(ERROR_METRICS)
_BEST, _REST = "#3b6ea8", "#a7bcd6"


def default_metric(c: Any, protocol: str | None = None) -> tuple[str, str]:
    """``(metric, protocol)`` a chart shows when no metric is asked: NDCG@K of the first ranking
    protocol asked for (of ``protocol`` when one is given), else the first protocol's headline (RMSE
    for ``rating``)."""
    from movierec.tables import metric_order

    order = [protocol] if protocol is not None else c.protocol_order()
    names = {
        p: metric_order(list(dict.fromkeys(m for r in c.rows if r.protocol == p for m in r.metrics)))
        for p in order
    }
    for proto in order:
        ndcg = [m for m in names[proto] if m.startswith("ndcg@")] if proto != "rating" else []
        if ndcg:
            return ndcg[0], proto
    for proto in order:
        if names[proto]:
            return names[proto][0], proto
    raise ConfigError("this comparison has no rows to plot")


def comparison_figure(c: Any, metric: str | None = None, protocol: str | None = None) -> Any:
    """A plotly ``Figure``: ``metric`` of every model under ``protocol`` (defaults: :func:`default_metric`;
    a metric alone takes the first protocol that has it), best first, 95% bootstrap intervals as error
    bars where the protocol has them. A notebook shows it inline; ``fig.write_html(path)`` exports it."""
    try:
        import plotly.graph_objects as go
    except ModuleNotFoundError as exc:
        raise ConfigError("charts need plotly: pip install 'movierec[viz]'") from exc
    order = c.protocol_order()
    if protocol is not None and protocol not in order:
        raise ConfigError(
            f"no rows for protocol {protocol!r}{did_you_mean(protocol, order)}; this comparison has {', '.join(order)}"
        )
    if metric is None:
        metric, protocol = default_metric(c, protocol)
    elif metric not in c.metric_names() and metric_name(metric) in c.metric_names():
        metric = metric_name(metric)  # a printed table's header, 'NDCG@10' or 'P@10' (was refused)
    if protocol is None:
        having = [p for p in order if any(r.protocol == p and metric in r.metrics for r in c.rows)]
        if not having:
            names = c.metric_names()  # plot("ndgc@10") or plot("ndcg@5") at k=10: the likely fix first
            raise ConfigError(
                f"no row has {metric!r}{did_you_mean(metric_name(metric), names)}; metrics here: {', '.join(names)}"
            )
        protocol = having[0]
    rows = [r for r in c.rows if r.protocol == protocol and r.metrics.get(metric) is not None]
    rows = [r for r in rows if np.isfinite(r.metrics[metric])]
    if not rows:
        names = sorted({m for r in c.rows if r.protocol == protocol for m in r.metrics})
        raise ConfigError(f"no row of {protocol} has {metric!r}; its metrics: {', '.join(names)}")
    lower = metric.split("@")[0] in LOWER_IS_BETTER
    rows.sort(key=lambda r: r.metrics[metric], reverse=not lower)
    values = np.array([r.metrics[metric] for r in rows], dtype=np.float64)
    lo = np.array([r.intervals.get(metric, (v, v))[0] for r, v in zip(rows, values, strict=True)])
    hi = np.array([r.intervals.get(metric, (v, v))[1] for r, v in zip(rows, values, strict=True)])
    has_ci = any(metric in r.intervals for r in rows)
    from movierec.tables import model_cells

    named = model_cells(c)  # 'warp+genres+tags', as the tables name it (the bar said 'warp')
    labels = [named.get(r.label, r.label) for r in rows]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker_color=[_BEST] + [_REST] * (len(rows) - 1),
            error_x={
                "type": "data",
                "symmetric": False,
                "array": np.clip(hi - values, 0, None),
                "arrayminus": np.clip(values - lo, 0, None),
                "visible": has_ci,
                "thickness": 1.2,
            },
            text=[f"{v:.4f}" for v in values],
            textposition="inside",
            insidetextanchor="start",
            customdata=np.column_stack([lo, hi, [r.n_users for r in rows]]),
            hovertemplate=(
                "<b>%{y}</b><br>"
                + metric
                + " %{x:.4f}"
                + ("<br>95% interval %{customdata[0]:.4f}–%{customdata[1]:.4f}" if has_ci else "")
                + "<br>%{customdata[2]:,} users<extra></extra>"
            ),
        )
    )
    better = "lower is better" if lower else "higher is better"
    interval = (
        "<br><sup>bars: 95% bootstrap interval over users</sup>" if has_ci else ""
    )  # 2 short lines: a phone
    split = c.split.split(" (")[0]
    fig.update_layout(
        title={
            "text": f"{metric} ({better}) · {protocol}<br><sup>{c.dataset} · {split} · seed {c.seed}</sup>{interval}"
        },
        xaxis={"title": metric, "rangemode": "tozero"},
        yaxis={"autorange": "reversed", "automargin": True},
        height=160 + 32 * len(rows),
        margin={"l": 10, "r": 20, "t": 90, "b": 40},
        template="plotly_white",
        showlegend=False,
    )
    return fig


def tuning_figure(t: Any) -> Any:
    """A :class:`~movierec.tuning.TuneResult`'s search as a plotly ``Figure``: each complete trial's
    validation value (pruned ones at their last reported value, hollow), and the best so far as a line."""
    try:
        import plotly.graph_objects as go
    except ModuleNotFoundError as exc:
        raise ConfigError("charts need plotly: pip install 'movierec[viz]'") from exc
    table = t.to_frame()
    if table.empty:
        raise ConfigError("this study has no trials to plot")
    done = table[table["state"] == "complete"]
    pruned = table[(table["state"] == "pruned") & table["last_reported"].notna()]
    lower = t.direction == "minimize"
    best = done["value"].cummin() if lower else done["value"].cummax()
    # trials are counted from 1 on the axis, as the progress lines ('trial 1/4 complete') and the repr
    # ('trial 1 of 4 (Optuna's #0)') count them; the hover names Optuna's own number (to_frame()'s)
    hover = (
        f"trial %{{x}} (Optuna's #%{{customdata}})<br>{t.metric} %{{y:.4f}}<extra>%{{fullData.name}}</extra>"
    )
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=done["number"] + 1,
            y=done["value"],
            customdata=done["number"],
            hovertemplate=hover,
            mode="markers",
            name="complete trial",
        )
    )
    if len(pruned):
        fig.add_trace(
            go.Scatter(
                x=pruned["number"] + 1,
                y=pruned["last_reported"],
                customdata=pruned["number"],
                hovertemplate=hover,
                mode="markers",
                marker={"symbol": "circle-open"},
                name="pruned (last reported)",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=done["number"] + 1,
            y=best,
            customdata=done["number"],
            hovertemplate=hover,
            mode="lines",
            line={"shape": "hv"},
            name="best so far",
        )
    )
    better = "lower is better" if lower else "higher is better"
    fig.update_layout(
        title={"text": f"tuning {t.model}: validation {t.metric} ({better})"},
        # whole trials only: plotly's automatic ticks put 0.5, 1.5, 2.5 between four trials
        xaxis={"title": "trial", "tick0": 0, "dtick": _trial_step(len(table))},
        yaxis={"title": t.metric},
        template="plotly_white",
        height=360,
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def _trial_step(n_trials: int) -> int:
    """The trial axis's tick step: a whole number from 1, 2, 5, 10, 20, 50… giving at most ten ticks."""
    step = 1
    while n_trials / step > 10:
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    return step
