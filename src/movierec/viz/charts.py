"""The one charts module (matplotlib, headless): dataset shape, model comparison, curves.

Each function takes plain numbers or JSON result rows (no models) and writes one PNG; the report,
``movierec compare --out`` and ``movierec data`` all draw through here, with one style, one palette
(genres and models share it) and one writer.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from movierec.errors import ConfigError
from movierec.output_folders import image_format, write_atomically

__all__ = [
    "PALETTE",
    "genre_bars",
    "grouped_bars",
    "long_tail",
    "metric_vs_k",
    "per_user_distribution",
    "pyplot",
    "ranking_bars",
    "rating_histogram",
    "ratings_over_time",
    "rmse_bars",
    "save",
    "training_curves",
    "value_bars",
]

#: Colours for the main genres (colour-blind-friendly tableau-like palette); the rest share grey.
PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#17becf",
    "#8c564b",
    "#bcbd22",
]
BLUE = "#3b6ea8"
TITLE_SIZE = 11  # points: every chart's title, one panel's or a multi-panel chart's (:func:`_chart_title`)
MODEL_COLOURS = PALETTE[:9]  # one colour-blind-friendly palette for genres and models


def pyplot() -> Any:
    """matplotlib.pyplot on the headless Agg backend, with the report's quiet style."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError as exc:
        raise ConfigError("charts need matplotlib: pip install 'movierec[viz]'") from exc
    plt.rcParams.update(
        {
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "grid.linewidth": 0.6,
            "axes.titlesize": TITLE_SIZE,
            "axes.titleweight": "bold",
            "axes.labelsize": 9,
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "legend.fontsize": 8,
            "font.family": "DejaVu Sans",
        }
    )
    return plt


def save(fig: Any, path: str | Path) -> Path:
    """Write a figure in the format ``path``'s suffix names (110 dpi, tight) and close it.

    A PNG is a :data:`PNG_COLOURS`-colour palette one (:func:`_palette_png`): the report inlines every chart
    in one HTML file, and flat-colour charts quantised to a palette look the same at a fraction of the bytes.
    It is drawn once where it can be (:func:`_tight_png`). Another suffix (``.pdf``, ``.svg`` …,
    :data:`~movierec.output_folders.IMAGE_FORMATS`) is written in its own format, never PNG bytes under its
    name; an unknown suffix is a ``ConfigError``.
    """
    path = Path(path)
    plt = pyplot()
    try:
        fmt = image_format(path, "chart") if path.suffix else "png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "png":
            data = _palette_png(_tight_png(fig))
        else:
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=DPI, bbox_inches="tight", facecolor="white")
            data = buf.getvalue()
        # through a temporary file: Ctrl-C mid-write leaves the old file (data info --plot), never half a chart
        write_atomically(path, data)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the chart ({exc.strerror})") from exc
    finally:
        plt.close(fig)
    return path


#: Colours in a chart PNG's palette. The default report's 24 charts (ml-latest-small): 1,031 kB as RGB,
#: 409 kB at 256 colours, 300 kB at 64 (index.html 2.90 -> 2.75 MB). At 64 the model colours stay within
#: 21 (|dR|+|dG|+|dB|) of their hex, and side by side at 2-4x zoom the text, error bars, violin tips and
#: crossing lines look as at 256; at 32 the orange and red curves of the popularity-bias chart run together.
PNG_COLOURS = 64


#: The charts' resolution (dots per inch).
DPI = 110
#: White space kept around a chart's drawn parts, in inches (matplotlib's ``savefig.pad_inches``).
PAD_INCHES = 0.1


def _tight_png(fig: Any) -> Any:
    """The figure drawn at :data:`DPI` and cut to its drawn parts plus :data:`PAD_INCHES`, as an RGB image:
    what ``savefig(bbox_inches="tight")`` writes, in one draw where that takes two.

    Why: ``bbox_inches="tight"`` lays the figure out once to find its extent and then draws it again; a report
    saves some 26 charts, and the first pass was about 40% of each one's saving time. Here the figure is drawn
    once and the extent read from that drawing; when everything drawn lies inside the figure the picture is
    cut from it (the padding past the figure's edge is white, as the white figure background ``savefig``
    would stretch there). A chart drawn past its figure's edge (a legend beside the axes, labels below) is
    saved by ``savefig`` with the extent already found, which draws it once more but lays it out no more.
    Same size to the pixel as ``savefig``'s; the pixels differ only in anti-aliasing (the cut falls on whole
    pixels where ``savefig`` shifts the drawing by a fraction of one).
    """
    import numpy as np
    from PIL import Image

    fig.set_dpi(DPI)
    fig.patch.set_facecolor("white")
    canvas = fig.canvas
    canvas.draw()
    drawn = fig.get_tightbbox(canvas.get_renderer())
    width, height = fig.get_size_inches()
    box = drawn.padded(PAD_INCHES)
    if drawn.x0 < 0 or drawn.y0 < 0 or drawn.x1 > width or drawn.y1 > height:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, bbox_inches=box, facecolor="white")
        with Image.open(io.BytesIO(buf.getvalue())) as im:
            return im.convert("RGB")
    pixels = np.asarray(canvas.buffer_rgba())[:, :, :3]
    rows, cols = pixels.shape[:2]
    left, top = round(box.x0 * DPI), round(rows - box.y1 * DPI)
    out = np.full((int(box.height * DPI), int(box.width * DPI), 3), 255, dtype=np.uint8)
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + out.shape[0], rows), min(left + out.shape[1], cols)
    out[r0 - top : r1 - top, c0 - left : c1 - left] = pixels[r0:r1, c0:c1]
    return Image.fromarray(out)


def _palette_png(image: Any) -> bytes:
    """An RGB image (Pillow's) as a :data:`PNG_COLOURS`-colour palette PNG, the same bytes for the same input.

    Median cut with two k-means passes (they pull each palette colour to the mean of its pixels, so a model's
    flat colour keeps its hex: 63 off without them, 21 with), no dithering (lines and text stay crisp),
    then zlib at level 9 and the palette trimmed to the colours used (Pillow's ``optimize``).
    """
    from PIL import Image

    q = image.quantize(
        colors=PNG_COLOURS, method=Image.Quantize.MEDIANCUT, kmeans=2, dither=Image.Dither.NONE
    )
    out = io.BytesIO()
    q.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _chart_title(fig: Any, title: str) -> Any:
    """A multi-panel chart's title, as a one-panel chart's (axes.titlesize 11, bold, on the left): the ranking
    bars' centred 12 pt title (matplotlib's default) was the one chart title of another size. Returns its Text."""
    return fig.suptitle(title, x=0.01, ha="left", fontsize=TITLE_SIZE, fontweight="bold")


def model_colours(models: Sequence[str]) -> dict[str, str]:
    """A fixed colour per model name, the same in every chart."""
    return {m: MODEL_COLOURS[i % len(MODEL_COLOURS)] for i, m in enumerate(models)}


# --- dataset ---------------------------------------------------------------------------------


#: A chart's size in inches for the report on a phone, drawn about 360 px wide (at 110 dpi, with its labels):
#: shown at 0.85x (its 8 pt text 10 px) it fits the 310 px card of a 360 px screen.
PHONE_SIZE = (3.0, 2.6)
#: The two drawings of a report chart: (file-name suffix, narrow): for a wide screen, and about 360 px wide for a
#: phone (the page's ``<picture>`` shows that one up to 700 px; its key in the report's charts ends ``_narrow``).
SCREENS: tuple[tuple[str, bool], ...] = (("", False), ("_narrow", True))


def rating_histogram(
    ratings: Any, path: str | Path, *, title: str = "Rating distribution", narrow: bool = False
) -> Path:
    """How many ratings take each value (``ratings``: an array, or Interactions); ``narrow``: about 360 px
    wide for the report on a phone (561 px at 0.85x scrolled 167 px sideways in a 360 px phone's card)."""
    plt = pyplot()
    values, counts = np.unique(np.asarray(getattr(ratings, "ratings", ratings)), return_counts=True)
    fig, ax = plt.subplots(figsize=PHONE_SIZE if narrow else (5.5, 3.3))
    width = float(np.min(np.diff(values))) * 0.8 if len(values) > 1 else 0.4
    ax.bar(values, counts, width=width, color=BLUE)
    ax.set_xlabel("rating")
    ax.set_ylabel("ratings")
    ax.set_title(title, loc="left")
    ax.set_xticks(values)
    ax.tick_params(axis="x", labelrotation=0)
    ax.grid(axis="x", visible=False)
    return save(fig, path)


def long_tail(
    per_user: np.ndarray,
    per_item: np.ndarray,
    path: str | Path,
    *,
    rows: str = "ratings",
    stacked: bool = False,
) -> Path:
    """Histograms of ratings per user and per item on log-log axes (the long tail). ``rows`` names what
    is counted: ``"interactions"`` for data without ratings (a log of plays is no ratings).

    ``stacked``: the two panels one above the other, about 360 px wide, each title on two lines, for the
    report on a phone (as :func:`metric_vs_k`'s): side by side (977 px) kept at 0.85x it scrolled 520 px
    sideways in a 360 px phone's card, one panel a screen."""
    plt = pyplot()
    fig, axes = plt.subplots(*((2, 1) if stacked else (1, 2)), figsize=(3.28, 5.4) if stacked else (9, 3.3))
    sep = "\n" if stacked else " "  # stacked, each title on two lines: on one (~390 px) it set the width
    for ax, counts, what, colour in (
        (axes[0], per_user, "user", BLUE),
        (axes[1], per_item, "item", "#e15759"),
    ):
        counts = np.asarray(counts)
        counts = counts[counts > 0]
        if len(counts) == 0:
            continue
        hi = max(float(counts.max()), 2.0)
        bins = np.unique(np.round(np.logspace(0, np.log10(hi + 1), 30)))
        ax.hist(counts, bins=bins, color=colour, alpha=0.85)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"{rows} per {what} (log)")
        ax.set_ylabel(f"{what}s (log)")
        ax.set_title(
            f"{rows.capitalize()} per {what}:{sep}median {np.median(counts):g}, max {counts.max():,}",
            loc="left",
        )
    fig.tight_layout()
    return save(fig, path)


def ratings_over_time(
    timestamps: np.ndarray, path: str | Path, *, rows: str = "ratings", narrow: bool = False
) -> Path:
    """Ratings (or ``rows``: interactions) per year (the time span of the log); ``narrow``: about 360 px wide
    for the report on a phone (567 px at 0.85x scrolled 172 px sideways in a 360 px phone's card)."""
    plt = pyplot()
    years = (np.asarray(timestamps, dtype="datetime64[s]").astype("datetime64[Y]").astype(int) + 1970).astype(
        int
    )
    ys, counts = np.unique(years, return_counts=True)
    fig, ax = plt.subplots(figsize=PHONE_SIZE if narrow else (5.5, 3.3))
    ax.bar(ys, counts, color=BLUE, width=0.8)
    ax.set_xlabel("year")
    ax.set_ylabel(rows)
    title = f"{rows.capitalize()} per year, {ys.min()}–{ys.max()}"
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", visible=False)
    if not narrow:
        ax.set_title(title, loc="left")
        return save(fig, path)
    _chart_title(fig, title)  # from the chart's left edge: after the counts' labels it set the width (367 px)
    fig.tight_layout()
    return save(fig, path)


def genre_bars(genre_counts: Mapping[str, int], path: str | Path, *, narrow: bool = False) -> Path:
    """Movies per genre, most frequent first (a wide chart: one bar per genre).

    ``narrow``: one bar a row, the most frequent at the top, about 360 px wide, for the report on a phone:
    20 columns side by side (1103 px) kept at 0.85x scrolled 628 px sideways in a 360 px phone's card, and
    names written across rows need no slant."""
    plt = pyplot()
    items = sorted(genre_counts.items(), key=lambda kv: -kv[1])
    names, counts = [k for k, _ in items], [v for _, v in items]
    title = "Genre frequencies (a movie may have several)"
    if narrow:
        fig, ax = plt.subplots(figsize=(3.28, 0.19 * len(items) + 1.0))
        if items:
            ax.barh(names, counts, color=BLUE, height=0.7)
            ax.invert_yaxis()
            ax.margins(y=0.01)
        ax.set_xlabel("movies")
        ax.grid(axis="y", visible=False)
        # the title from the chart's left edge, not the axes' (after the names: it set the width, 394 px)
        _chart_title(fig, title.replace(" (", "\n("))
        fig.tight_layout()
        return save(fig, path)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(items) + 1.5), 2.7))
    if items:
        ax.bar(names, counts, color=BLUE)
        ax.tick_params(axis="x", labelrotation=40)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    ax.set_ylabel("movies")
    ax.set_title(title, loc="left")
    ax.grid(axis="x", visible=False)
    return save(fig, path)


# --- models ----------------------------------------------------------------------------------


def value_bars(
    values: Mapping[str, float],
    path: str | Path,
    *,
    title: str,
    ylabel: str,
    intervals: Mapping[str, tuple[float, float]] | None = None,
    lower_is_better: bool = True,
    colours: Mapping[str, str] | None = None,
    narrow: bool = False,
) -> Path:
    """One bar per model (e.g. RMSE), the best one outlined, values printed on the bars.

    ``narrow``: about 360 px wide, the title on two lines, the names slanted past three models, for the
    report on a phone (the RMSE bars, 542 px with two models, at 0.85x scrolled 151 px in a 360 px card)."""
    plt = pyplot()
    names = list(values)
    vals = np.array([values[n] for n in names], dtype=np.float64)
    fig, ax = plt.subplots(figsize=(3.1, 3.0) if narrow else (max(4.0, 1.1 * len(names) + 1.5), 3.4))
    colours = colours or model_colours(names)
    err = None
    if intervals:
        err = np.array(
            [
                [vals[i] - intervals[n][0], intervals[n][1] - vals[i]] if n in intervals else [0, 0]
                for i, n in enumerate(names)
            ]
        ).T
    bars = ax.bar(names, vals, color=[colours.get(n, BLUE) for n in names], yerr=err, capsize=4)
    if len(vals):
        best = int(np.argmin(vals) if lower_is_better else np.argmax(vals))
        bars[best].set_edgecolor("black")
        bars[best].set_linewidth(1.6)
        lo = float(np.min(vals))
        hi = float(np.max(vals))
        # bars start at zero (a cut axis makes 0.87 look twice 0.85); the values are printed on the bars
        ax.set_ylim(0.0, max(hi, lo, 0.0) * 1.15 or 1.0)
        for b, v in zip(bars, vals, strict=True):
            ax.annotate(
                f"{v:.3f}",
                (b.get_x() + b.get_width() / 2, v),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
    ax.set_ylabel(ylabel)
    ax.set_title(textwrap.fill(title, 26) if narrow else title, loc="left")
    if narrow and len(names) > 3:
        ax.tick_params(axis="x", labelrotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    ax.grid(axis="x", visible=False)
    return save(fig, path)


def grouped_bars(
    values: Mapping[str, Mapping[str, float]],
    path: str | Path,
    *,
    metrics: Sequence[str],
    title: str,
    intervals: Mapping[str, Mapping[str, tuple[float, float]]] | None = None,
    colours: Mapping[str, str] | None = None,
    narrow: bool = False,
) -> Path:
    """Ranking metrics side by side: one group per metric, one bar per model, 95% intervals as error bars.

    ``narrow``: about 360 px wide, for the report on a phone (:func:`narrow_legend`): drawn for a row
    of its own (777 px with 7 models) and kept at 0.85x, it scrolled 350 px sideways in a 360 px phone's
    card, its legend cut after the fourth model."""
    plt = pyplot()
    size = (3.28, 3.0) if narrow else (max(6.5, 1.5 * len(metrics) + 2.5), 3.8)  # narrow: the legend under it
    fig, ax = plt.subplots(figsize=size)
    ax.set_title(textwrap.fill(title, 34) if narrow else title, loc="left")
    _grouped_on(ax, values, metrics, intervals, colours, narrow=narrow)
    return save(fig, path)


def bars_on(
    ax: Any,
    values: Mapping[str, Mapping[str, float]],
    keys: Sequence[str],
    intervals: Mapping[str, Mapping[str, tuple[float, float]]] | None = None,
    colours: Mapping[str, str] | None = None,
) -> np.ndarray:
    """One group of bars per key, one bar per series (``values[series][key]``, missing: no bar), each
    series' 95% intervals as error bars; returns the groups' x positions (for the caller's tick labels)."""
    series = list(values)
    colours = colours or model_colours(series)
    width = 0.8 / max(len(series), 1)
    x = np.arange(len(keys))
    for j, m in enumerate(series):
        vals = np.array([values[m].get(k, np.nan) for k in keys], dtype=np.float64)
        err = None
        if intervals and m in intervals:
            lo = np.array([intervals[m].get(k, (np.nan, np.nan))[0] for k in keys], dtype=np.float64)
            hi = np.array([intervals[m].get(k, (np.nan, np.nan))[1] for k in keys], dtype=np.float64)
            err = np.nan_to_num(np.vstack([vals - lo, hi - vals]), nan=0.0).clip(min=0)
        ax.bar(
            x + (j - (len(series) - 1) / 2) * width,
            np.nan_to_num(vals),
            width,
            yerr=err,
            capsize=2.5,
            color=colours.get(m, BLUE),
            label=m,
            error_kw={"lw": 0.8},
        )
    return x


def _grouped_on(
    ax: Any,
    values: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str],
    *bars: Any,
    narrow: bool = False,
) -> None:
    """Draw grouped bars (one group per metric, one bar per model; ``bars``: :func:`bars_on`'s intervals and
    colours) on ``ax``, with the metric names under the groups and the models' legend above them (``narrow``:
    under the axes, :func:`narrow_legend`)."""
    x = bars_on(ax, values, metrics, *bars)
    ax.set_xticks(x, [m.replace("@", "\n@") for m in metrics] if narrow else list(metrics))
    if narrow:
        narrow_legend(ax)
    else:
        ax.legend(ncols=min(len(values), 6), loc="upper right", frameon=False)
        ax.set_ylim(0, ax.get_ylim()[1] * 1.15)
    ax.grid(axis="x", visible=False)


def narrow_legend(ax: Any) -> None:
    """Lay out a chart for the report on a phone, then put its legend under it in two columns, from the chart's
    left edge (from the axes', after the tick labels, it set the width: 410 px). In one row above the bars,
    seven models' names were 700 px wide; inside a line chart's axes, eight lay over a third of its lines."""
    fig = ax.figure
    fig.tight_layout()
    fig.legend(
        *ax.get_legend_handles_labels(),
        ncols=2,
        loc="upper left",
        bbox_to_anchor=(0.0, 0.0),  # the figure's lower left corner: the saved chart grows to hold it
        frameon=False,
        columnspacing=1.0,  # matplotlib's 2 em and 2 em handles: with warp+genres+tags the legend set the width
        handlelength=1.5,
    )


def separate_labels(
    labels: Sequence[Any], gap: float = 1.0, points: Sequence[tuple[float, float, float, float]] = ()
) -> None:
    """Place text labels (``ax.annotate(..., textcoords="offset points")``, all in one axes) so that no two
    boxes overlap and none lies on a point's marker or error bar.

    ``points``: ``(x, y, low, high)`` in data coordinates, each point drawn with a marker at ``(x, y)`` and an
    error bar from ``low`` to ``high``. Call it when the layout is final (after ``tight_layout``): it measures
    each box with the figure's renderer. From the lowest label to the highest (ties by x, then text: the same
    input gives the same chart), each takes the first free place of: its own (up and right of its point),
    down-right, up-left, down-left, above, below, inside the axes. Where none is free it keeps its own place
    and moves up past what it meets, ``gap`` points apart (labels only move up, so the loop ends). The
    report's scatter had "als" printed over "warp+genres+tags" (two models with nearly the same NDCG and
    coverage), and then "warp+genres+tags" over als's marker (novelty 2.58 and 2.65)."""
    if not labels:
        return
    fig = labels[0].figure
    fig.draw_without_rendering()  # autoscaling waits for a draw, and the boxes depend on the axes' limits
    renderer = fig.canvas.get_renderer()
    px_per_point = fig.dpi / 72.0
    marks = _point_boxes(labels[0].axes, points, px_per_point)
    inside = labels[0].axes.get_window_extent(renderer)
    order = sorted(labels, key=lambda t: (t.get_window_extent(renderer).y0, t.xy[0], t.get_text()))
    placed: list[Any] = []
    for label in order:
        own = label.xyann
        box = label.get_window_extent(renderer)
        w, h = box.width / px_per_point, box.height / px_per_point
        dx, dy = own
        for candidate in (
            own,
            (dx, -dy - h),
            (-dx - w, dy),
            (-dx - w, -dy - h),
            (-w / 2, 2 * dy),
            (-w / 2, -2 * dy - h),
        ):
            label.xyann = candidate
            box = label.get_window_extent(renderer)
            if _contains(inside, box) and not any(box.overlaps(b) for b in (*placed, *marks)):
                break
        else:
            label.xyann = own
            moved = True
            while moved:
                moved = False
                box = label.get_window_extent(renderer)
                for other in (*placed, *marks):
                    if box.overlaps(other):
                        label.xyann = (
                            label.xyann[0],
                            label.xyann[1] + (other.y1 - box.y0) / px_per_point + gap,
                        )
                        moved = True
                        break
        placed.append(label.get_window_extent(renderer))


#: a scatter point's marker radius and its error bar's half cap width, in points (matplotlib's default
#: marker size 6, the scatter's capsize 2.5), and what is kept clear around both
_MARK_POINTS, _CAP_POINTS, _CLEAR_POINTS = 3.0, 2.5, 1.0


def _point_boxes(
    ax: Any, points: Sequence[tuple[float, float, float, float]], px_per_point: float
) -> list[Any]:
    """Display-space boxes of each point's marker and its error bar (:func:`separate_labels`)."""
    from matplotlib.transforms import Bbox

    boxes = []
    to_display = ax.transData.transform
    for x, y, low, high in points:
        (cx, cy), (_, y0), (_, y1) = to_display([(x, y), (x, low), (x, high)])
        r = (_MARK_POINTS + _CLEAR_POINTS) * px_per_point
        c = (_CAP_POINTS + _CLEAR_POINTS) * px_per_point
        boxes.append(Bbox([[cx - r, cy - r], [cx + r, cy + r]]))
        if y1 - y0 > 0:
            boxes.append(Bbox([[cx - c, min(y0, y1)], [cx + c, max(y0, y1)]]))
    return boxes


def _contains(outer: Any, inner: Any) -> bool:
    """Whether the box ``inner`` lies within ``outer`` (display coordinates)."""
    return bool(
        outer.x0 <= inner.x0 and inner.x1 <= outer.x1 and outer.y0 <= inner.y0 and inner.y1 <= outer.y1
    )


# --- result rows (compare --out) -------------------------------------------------------------


def _row_values(rows: Sequence[Mapping[str, Any]], metrics: Sequence[str]) -> dict[str, dict[str, float]]:
    return {str(r["model"]): {m: float(r[m]) for m in metrics if r.get(m) is not None} for r in rows}


def _row_intervals(
    rows: Sequence[Mapping[str, Any]], metrics: Sequence[str]
) -> dict[str, dict[str, tuple[float, float]]]:
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for r in rows:
        for m in metrics:
            ci = (r.get("intervals") or {}).get(m)
            if ci and ci[0] is not None and ci[1] is not None:
                out.setdefault(str(r["model"]), {})[m] = (float(ci[0]), float(ci[1]))
    return out


def rmse_bars(
    rows: Sequence[Mapping[str, Any]],
    path: str | Path,
    *,
    title: str = "Rating error by model (lower is better)",
) -> Path:
    """RMSE and MAE per model from JSON result rows of the ``rating`` protocol (``compare --out``)."""
    rows = [r for r in rows if r.get("protocol") == "rating" and r.get("rmse") is not None]
    if not rows:
        raise ConfigError("no rating-protocol rows (rmse) to chart")
    metrics = ("rmse", "mae")
    return grouped_bars(
        _row_values(rows, metrics),
        path,
        metrics=metrics,
        title=title,
        intervals=_row_intervals(rows, metrics),
    )


def ranking_bars(
    rows: Sequence[Mapping[str, Any]],
    path: str | Path,
    *,
    metrics: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Grouped ranking-metric bars per model, one panel per protocol, with 95% bootstrap error bars.

    ``rows`` are JSON result rows (``model``, ``protocol``, metric keys, ``intervals``); by default
    the metrics shown are precision, recall, hit rate and NDCG at the rows' K.
    """
    rows = [r for r in rows if r.get("protocol") != "rating"]
    if not rows:
        raise ConfigError("no ranking rows to chart")
    k = rows[0].get("k", 10)
    wanted = list(metrics or (f"precision@{k}", f"recall@{k}", f"hit_rate@{k}", f"ndcg@{k}"))
    protocols = list(dict.fromkeys(str(r["protocol"]) for r in rows))
    plt = pyplot()
    fig, axes = plt.subplots(1, len(protocols), figsize=(max(6.5, 5.5 * len(protocols)), 4.0), squeeze=False)
    colours = model_colours(list(dict.fromkeys(str(r["model"]) for r in rows)))
    for ax, proto in zip(axes[0], protocols, strict=True):
        prow = [r for r in rows if r["protocol"] == proto]
        shown = [m for m in wanted if any(r.get(m) is not None for r in prow)]
        _grouped_on(ax, _row_values(prow, shown), shown, _row_intervals(prow, shown), colours)
        ax.set_title(f"protocol: {proto}", loc="left")
    _chart_title(fig, title or f"Ranking quality at K={k} (95% bootstrap intervals over users)")
    fig.tight_layout()
    return save(fig, path)


def per_user_distribution(
    per_user: Mapping[str, np.ndarray],
    path: str | Path,
    *,
    metric: str,
    title: str,
    colours: Mapping[str, str] | None = None,
    narrow: bool = False,
) -> Path:
    """Distribution of a per-user metric (box plot with the mean marked): who the average hides.

    ``narrow``: one model a row (the violins lie along the metric's axis), about 360 px wide, for the report
    on a phone: a column per model (1138 px with 7 models) kept at 0.85x scrolled 657 px sideways in a
    360 px phone's card."""
    return save(per_user_figure(per_user, metric=metric, title=title, colours=colours, narrow=narrow), path)


def per_user_figure(
    per_user: Mapping[str, np.ndarray],
    *,
    metric: str,
    title: str,
    colours: Mapping[str, str] | None = None,
    narrow: bool = False,
) -> Any:
    """:func:`per_user_distribution`'s figure, laid out (not saved: a test reads where its legend lies)."""
    plt = pyplot()
    models = [m for m, v in per_user.items() if v is not None and len(v)]
    colours = colours or model_colours(list(per_user))
    orientation = "horizontal" if narrow else "vertical"
    size = (3.2, 0.42 * len(models) + 1.3) if narrow else (max(7.0, 1.5 * len(models) + 2), 3.6)
    fig, ax = plt.subplots(figsize=size)
    if models:
        data = [np.asarray(per_user[m], dtype=np.float64) for m in models]
        parts = ax.violinplot(data, showextrema=False, widths=0.8, orientation=orientation)
        for body, m in zip(parts["bodies"], models, strict=True):
            body.set_facecolor(colours.get(m, BLUE))
            body.set_alpha(0.35)
        ax.boxplot(
            data,
            widths=0.18,
            showfliers=False,
            medianprops={"color": "black"},
            tick_labels=models,
            orientation=orientation,
        )
        at, means = np.arange(1, len(models) + 1), [d.mean() for d in data]
        ax.scatter(
            *((means, at) if narrow else (at, means)), marker="D", color="black", s=18, zorder=3, label="mean"
        )
        if narrow:  # the first model on top
            ax.invert_yaxis()
    (ax.set_xlabel if narrow else ax.set_ylabel)(metric)
    ax.grid(axis="y" if narrow else "x", visible=False)
    if not narrow:
        heading = ax.set_title(title, loc="left")
        if models:  # in the title row: in the axes' upper right it lay on the last model's violin
            fig.draw_without_rendering()  # the title's place is settled at a draw
            _legend_beside_title(ax, heading)
        return fig
    # the title from the chart's left edge, on two lines: after the models' names it set the width (447 px)
    heading = _chart_title(fig, textwrap.fill(title, 34))
    fig.tight_layout()
    if models:
        _legend_beside_title(ax, heading)
    return fig


def _legend_beside_title(ax: Any, heading: Any) -> None:
    """Put an axes' legend in the title row, right-aligned on the figure title's last line, or under the chart
    (:func:`narrow_legend`) where it would touch that line. Over the axes' right corner (the phone violins'
    'mean'), it took a row of its own between the title and the plot; inside, it lay on a whisker."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    last = fig.text(0, 0, heading.get_text().splitlines()[-1], fontproperties=heading.get_fontproperties())
    line = last.get_window_extent(renderer)  # the last line alone: the heading's box is its widest line's
    last.remove()
    box = heading.get_window_extent(renderer)
    centre = fig.transFigure.inverted().transform((0, box.y0 + line.height / 2))[1]
    legend = fig.legend(
        *ax.get_legend_handles_labels(),
        loc="center right",
        bbox_to_anchor=(ax.get_position().x1, centre),
        frameon=False,
        borderaxespad=0.0,
        handlelength=1.0,
    )
    if legend.get_window_extent(renderer).x0 < box.x0 + line.width + 12:  # 12 px apart at least
        legend.remove()
        narrow_legend(ax)


def metric_vs_k(
    curves: Mapping[str, Mapping[str, Sequence[float]]],
    ks: Sequence[int],
    path: str | Path,
    *,
    metrics: Sequence[str],
    title: str,
    colours: Mapping[str, str] | None = None,
    stacked: bool = False,
) -> Path:
    """One panel per metric, one line per model, K on the x axis.

    ``stacked`` puts the panels in one column, about 360 px wide (at 0.85x it fits a 360 px phone's card,
    310 px): the report shows it on a phone, where the three panels side by side (1236 px) were shown at
    0.55x (text 7 px) or, kept at 0.85x, one panel a screen.
    """
    plt = pyplot()
    models = list(curves)
    colours = colours or model_colours(models)
    shape, size = (
        ((len(metrics), 1), (3.28, 2.3 * len(metrics) + 0.4))
        if stacked
        else ((1, len(metrics)), (3.6 * len(metrics) + 0.5, 3.4))
    )
    fig, axes = plt.subplots(*shape, figsize=size, squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=True):
        for m in models:
            ys = curves[m].get(metric)
            if ys is not None:
                ax.plot(list(ks), list(ys), color=colours.get(m, BLUE), label=m, lw=1.6)
        ax.set_xlabel("K")
        ax.set_title(metric, loc="left")
    axes[0][0].legend(frameon=False)
    _chart_title(fig, title)
    fig.tight_layout()
    return save(fig, path)


def _freest_corner(*axes: Any) -> str:
    """The corner of the panel (``"upper right"`` … ``"lower left"``) that the lines of ``axes`` (one panel and
    its twin, each on its own scale) cross least: each line sampled at 200 points along x in the panel's
    0–1 coordinates, counted in each corner's box (the right or left 45%, the top or bottom 40%). Ties go
    to the first of upper right, upper left, lower right, lower left."""
    counts = {"upper right": 0, "upper left": 0, "lower right": 0, "lower left": 0}
    for ax in axes:
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        for line in ax.get_lines():
            x, y = (np.asarray(v, dtype=np.float64) for v in line.get_data())
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.sum() == 0 or x1 == x0 or y1 == y0:
                continue
            x, y = x[ok], y[ok]
            grid = np.linspace(x.min(), x.max(), 200) if len(x) > 1 else x
            order = np.argsort(x, kind="stable")
            u, v = (grid - x0) / (x1 - x0), (np.interp(grid, x[order], y[order]) - y0) / (y1 - y0)
            for corner in counts:
                across = u > 0.55 if "right" in corner else u < 0.45
                up = v > 0.6 if "upper" in corner else v < 0.4
                counts[corner] += int((across & up).sum())
    return min(counts, key=lambda c: counts[c])  # min keeps the first of equals


def training_curves(
    histories: Mapping[str, Sequence[Mapping[str, float]]],
    path: str | Path,
    *,
    title: str | None = None,
    colours: Mapping[str, str] | None = None,
    stacked: bool = False,
) -> Path:
    """Loss per epoch, one small panel per iterative model (their losses are on different scales),
    with the validation score (``val_…`` keys: :mod:`movierec.epoch_validation`, sasrec's own) dashed
    on a second axis where the model has one.

    ``stacked``: one panel a row, about 360 px wide, for the report on a phone (as :func:`metric_vs_k`'s):
    three a row (1225 px) were shown at 0.55x there, or at 0.85x one panel a screen."""
    return save(training_figure(histories, title=title, colours=colours, stacked=stacked), path)


def training_figure(
    histories: Mapping[str, Sequence[Mapping[str, float]]],
    *,
    title: str | None = None,
    colours: Mapping[str, str] | None = None,
    stacked: bool = False,
) -> Any:
    """:func:`training_curves`' figure, not yet saved (the caller closes it). The epoch axis has whole
    epochs only (a two-epoch fit read 1.0, 1.2 … 2.0), and a panel's legend sits on its validation axis,
    drawn over both lines, in the corner they leave freest (:func:`_freest_corner`)."""
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    if title is None:
        validated = any(k.startswith("val") for h in histories.values() for row in h for k in row)
        title = "Training loss and validation score per epoch" if validated else "Training loss per epoch"
    models = [m for m, h in histories.items() if h]
    colours = colours or model_colours(list(histories))
    n = max(len(models), 1)
    cols = 1 if stacked else min(n, 3)
    rows = int(np.ceil(n / cols))
    # at least two panels' width: the report shows this chart across its card (figure.wide), and one 4-inch
    # panel (440 px at 110 dpi) stretched to ~1,200 px read blurry
    width = 3.25 if stacked else max(3.6 * cols + 0.4, 7.6)  # stacked: ~360 px with the right axis's labels
    fig, axes = plt.subplots(rows, cols, figsize=(width, 2.8 * rows + 0.4), squeeze=False)
    for ax in axes.flat[len(models) :]:
        ax.set_visible(False)
    for ax, m in zip(axes.flat, models, strict=False):
        hist = histories[m]
        epochs = [h.get("epoch", i + 1) for i, h in enumerate(hist)]
        loss = [h.get("loss", np.nan) for h in hist]
        ax.plot(epochs, loss, marker="o", ms=2.5, lw=1.5, color=colours.get(m, BLUE), label="training loss")
        ax.set_title(m, loc="left")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        val_keys = sorted({k for h in hist for k in h if k.startswith("val")})
        if val_keys:  # the validation metric the model tracked while training, on its own axis
            twin = ax.twinx()
            for key in val_keys:  # scored epochs only (long runs are scored every few epochs)
                pts = [(e, h[key]) for e, h in zip(epochs, hist, strict=True) if key in h]
                twin.plot(
                    [p[0] for p in pts],
                    [p[1] for p in pts],
                    ls="--",
                    marker=".",
                    ms=3,
                    lw=1.4,
                    color="#444444",
                    label=key.replace("val_", "validation "),
                )
            twin.set_ylabel(val_keys[0].replace("val_", "validation "))
            lines = ax.get_lines() + twin.get_lines()
            # on the twin, drawn after the dashed line (on ax, the line crossed the legend's box), in the
            # corner both curves leave freest (loc="best" would see only the twin's own line)
            twin.legend(
                lines,
                [line.get_label() for line in lines],
                fontsize=8,
                loc=_freest_corner(ax, twin),
                framealpha=0.9,
            )
        # whole epochs (1, 2, not 1.2, 1.4 …), as many as the panel's width holds: ten on a ~360 px phone
        # panel ran 150 epochs' labels together ('80100120140')
        ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", integer=True))
    if not models:
        axes[0][0].text(0.5, 0.5, "no iterative model in this report", ha="center", va="center")
    # stacked, the title on two lines: on one (445 px) it set the chart's width
    _chart_title(fig, textwrap.fill(title, 30) if stacked else title)
    fig.tight_layout()
    return fig
