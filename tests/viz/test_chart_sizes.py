"""Charts the report shows across its card are drawn wide enough not to be stretched blurry."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import matplotlib.image as mpimg
import numpy as np
import pytest

from movierec.viz.charts import training_curves


def test_one_model_training_chart_is_drawn_at_two_panels_width(tmp_path: Path) -> None:
    """One stopped model's chart was one 4-inch panel (about 440 px at 110 dpi), which the report's
    wide figure stretched to ~1,200 px; it is now at least 7.6 inches (about 800 px) wide."""
    history = [{"epoch": e, "loss": 1.0 / e, "val_ndcg@10": 0.1 + 0.01 * e} for e in range(1, 6)]
    one = training_curves({"warp": history}, tmp_path / "one.png")
    three = training_curves({"warp": history, "bpr": history, "svd": history}, tmp_path / "three.png")
    width_one = mpimg.imread(one).shape[1]
    width_three = mpimg.imread(three).shape[1]
    assert width_one >= 750, width_one
    assert width_three > width_one  # more panels still widen the chart


def _title_box(png: Path) -> tuple[int, int]:
    """Height and width in pixels of a chart's first line of ink from the top, its title (pixels < 100 of 255):
    the ink from its left up to a gap of 20 blank columns (a word space is ~5 px; a key set in the title row,
    as the per-user chart's "mean", lies past such a gap)."""
    dark = mpimg.imread(png)[..., :3].mean(axis=2) < 100 / 255
    rows = dark.any(axis=1)
    top = int(rows.argmax())
    height = int((~rows[top:]).argmax())
    cols = np.flatnonzero(dark[top : top + height].any(axis=0))
    gaps = np.flatnonzero(np.diff(cols) > 20)
    end = cols[gaps[0]] if len(gaps) else cols[-1]
    return height, int(end - cols[0] + 1)


def test_every_chart_title_is_one_size(tmp_path: Path) -> None:
    """One title size (11 pt bold) for every chart: the ranking bars of ``compare --out`` had matplotlib's
    default suptitle, 12 pt and not bold, the one chart title of another size. The same words as each chart's
    title cover the same box of ink (these words: 17 x 337 px in the ranking bars, 17 x 360 in the others)."""
    from movierec.viz.charts import metric_vs_k, per_user_distribution, ranking_bars, rmse_bars

    title = "Ranking quality, full catalogue (K=10)"
    rows = [
        {"model": m, "protocol": p, "k": 10, "rmse": 0.9, "precision@10": 0.1 * i, "recall@10": 0.2}
        for i, m in enumerate(["svd", "bpr"], 1)
        for p in ["full-ranking", "rating"]
    ]
    curves = {"svd": {"ndcg": [0.3, 0.2]}}
    history = {"warp": [{"epoch": 1, "loss": 1.0}, {"epoch": 2, "loss": 0.5}]}
    charts = [
        ranking_bars(rows, tmp_path / "ranking.png", title=title),
        rmse_bars(rows, tmp_path / "rmse.png", title=title),
        metric_vs_k(curves, [1, 2], tmp_path / "k.png", metrics=["ndcg"], title=title),
        per_user_distribution({"svd": np.array([0.1, 0.5])}, tmp_path / "u.png", metric="ndcg", title=title),
        training_curves(history, tmp_path / "t.png", title=title),
    ]
    boxes = {c.name: _title_box(c) for c in charts}
    heights, widths = [b[0] for b in boxes.values()], [b[1] for b in boxes.values()]
    assert max(heights) - min(heights) <= 1 and max(widths) - min(widths) <= 2, boxes


# Seven models (the default report's count) under their longest names, 19 genres as ml-latest-small has.
_MODELS = ["popularity", "svd", "knn-baseline", "bpr", "ease", "als", "warp+genres+tags"]
_GENRES = (
    "Drama Comedy Thriller Action Romance Adventure Crime Sci-Fi Horror Fantasy Children Animation Mystery"
)
_GENRES += " Documentary War Musical Western IMAX Film-Noir"


def _phone_charts(tmp_path: Path) -> dict[str, Path]:
    """The phone version of each chart the report draws twice, on seven models' worth of made-up numbers."""
    from types import SimpleNamespace

    from movierec.viz import charts as C
    from movierec.viz.report_beyond import _curve, _groups, _scatter

    rng = np.random.default_rng(0)
    colours = C.model_colours(_MODELS)
    ranking = [f"{m}@10" for m in ("precision", "recall", "hit_rate", "ndcg")]
    values = {m: {k: float(rng.uniform(0.05, 0.8)) for k in ranking} for m in _MODELS}
    intervals = {m: {k: (v - 0.03, v + 0.03) for k, v in values[m].items()} for m in _MODELS}
    terciles = [f"ndcg@10[activity={g}]" for g in ("low", "mid", "high")]
    rows = [
        SimpleNamespace(
            label=m,
            metrics={"coverage@10": rng.uniform(0, 0.07), "novelty@10": rng.uniform(1.6, 2.7), "ndcg@10": 0.2}
            | {t: float(rng.uniform(0.05, 0.4)) for t in terciles},
            intervals={"ndcg@10": (0.18, 0.22)},
        )
        for m in _MODELS
    ]
    per_user = {m: np.clip(rng.exponential(0.2, 600) - 0.05, 0, 1) for m in _MODELS}
    counts = {g: int(4400 / (i + 1)) for i, g in enumerate(_GENRES.split())}
    popularity = np.sort(rng.zipf(1.4, 9000).astype(float))[::-1]
    ranks, share = np.arange(1, 9001), np.cumsum(popularity) / popularity.sum()
    return {
        "ratings": C.rating_histogram(
            rng.choice(np.arange(0.5, 5.5, 0.5), 100_836), tmp_path / "h.png", narrow=True
        ),
        "years": C.ratings_over_time(
            rng.integers(8 * 10**8, 15 * 10**8, 10**5), tmp_path / "y.png", narrow=True
        ),
        "rmse": C.value_bars(
            {m: 0.9 for m in _MODELS},
            tmp_path / "e.png",
            title="Rating error on held-out ratings (lower is better)",
            ylabel="RMSE",
            narrow=True,
        ),
        "popularity bias": _curve(
            {m: (ranks, share) for m in _MODELS}, (ranks, share), tmp_path / "p.png", colours, True
        ),
        "long tail": C.long_tail(
            rng.zipf(1.5, 610) + 19, rng.zipf(1.6, 9000), tmp_path / "t.png", stacked=True
        ),
        "genres": C.genre_bars(counts, tmp_path / "g.png", narrow=True),
        "ranking": C.grouped_bars(
            values,
            tmp_path / "r.png",
            metrics=ranking,
            title="Ranking quality, full catalogue (K=10, 95% intervals)",
            intervals=intervals,
            colours=colours,
            narrow=True,
        ),
        "violins": C.per_user_distribution(
            per_user,
            tmp_path / "v.png",
            metric="NDCG@10 per user",
            title="Per-user NDCG@10: the spread behind the averages",
            colours=colours,
            narrow=True,
        ),
        "scatter": _scatter(rows, 10, tmp_path / "s.png", colours, True),
        "terciles": _groups(rows, 10, tmp_path / "n.png", colours, True) or tmp_path / "none",
    }


def test_the_phone_versions_fit_a_360_px_phone_at_readable_size(tmp_path: Path) -> None:
    """Each chart's phone version, shown at 0.85 of its drawn width (its 8 pt text, 12 px drawn, then 10 px),
    fits the 310 px card of a 360 px screen: drawn <= 364 px wide. Their other versions (542-1138 px)
    scrolled 151-657 px sideways there. The title, a legend and the names beside the points are what set
    the width (367-447 px in the first draws): each must stay inside."""
    widths = {name: mpimg.imread(png).shape[1] for name, png in _phone_charts(tmp_path).items()}
    assert all(300 <= w <= 364 for w in widths.values()), widths


def _label_overlaps(fig: Any) -> list[tuple[str, str]]:
    """Pairs of point labels whose boxes (in the drawn figure, matplotlib's renderer extents) meet, per panel."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    pairs = []
    for ax in fig.axes:
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts]
        pairs += [
            (a, b) for i, (a, box) in enumerate(boxes) for b, other in boxes[i + 1 :] if box.overlaps(other)
        ]
    return pairs


def test_the_scatters_point_labels_never_overlap(tmp_path: Path) -> None:
    """The report's trade-off scatter printed "als" over "warp+genres+tags" (NDCG 0.241 and 0.233, coverage
    0.066 both, in the default report). Here two such pairs and three models at one point, in the wide and
    the phone chart: no two names' boxes meet, each name is still drawn, and the same rows draw the same
    chart."""
    from types import SimpleNamespace

    import matplotlib.pyplot as plt

    from movierec.viz.charts import model_colours
    from movierec.viz.report_beyond import _scatter, _scatter_figure

    points = {  # model: (coverage, novelty, NDCG)
        "popularity": (0.004, 1.66, 0.164),
        "svd": (0.026, 2.48, 0.099),
        "ease": (0.041, 2.27, 0.306),
        "als": (0.066, 2.62, 0.241),
        "warp+genres+tags": (0.066, 2.58, 0.233),
        "bpr": (0.020, 2.60, 0.236),
        "knn-baseline": (0.020, 2.60, 0.236),
        "itemknn": (0.020, 2.60, 0.236),
    }
    rows = [
        SimpleNamespace(label=m, metrics={"coverage@10": c, "novelty@10": n, "ndcg@10": y}, intervals={})
        for m, (c, n, y) in points.items()
    ]
    colours = model_colours(list(points))
    for stacked in (False, True):
        fig = _scatter_figure(rows, 10, colours, stacked)
        try:
            assert _label_overlaps(fig) == [], stacked
            assert [sorted(t.get_text() for t in ax.texts) for ax in fig.axes] == [sorted(points)] * 2
        finally:
            plt.close(fig)
        first = _scatter(rows, 10, tmp_path / "a.png", colours, stacked).read_bytes()
        assert _scatter(rows, 10, tmp_path / "b.png", colours, stacked).read_bytes() == first


def _labels_on_points(
    fig: Any, points: dict[str, tuple[float, float, float, float, float]]
) -> list[tuple[str, str]]:
    """(label, model) pairs where a point label's box meets another model's marker (a 6 pt circle: matplotlib's
    default marker size) or its error bar's line, per panel (coverage, then novelty on x)."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    r = 3.0 * fig.dpi / 72.0
    hits = []
    for panel, ax in enumerate(fig.axes):
        for text in ax.texts:
            box = text.get_window_extent(renderer)
            for model, (c, n, y, lo, hi) in points.items():
                if model == text.get_text():
                    continue
                x = (c, n)[panel]
                (px, py), (_, y0), (_, y1) = ax.transData.transform([(x, y), (x, lo), (x, hi)])
                on_marker = box.x0 < px + r and px - r < box.x1 and box.y0 < py + r and py - r < box.y1
                on_bar = box.x0 < px < box.x1 and box.y0 < y1 and y0 < box.y1
                if on_marker or on_bar:
                    hits.append((text.get_text(), model))
    return hits


def test_the_scatters_point_labels_stay_off_the_other_points(tmp_path: Path) -> None:
    """The default report's scatter (ml-latest-small, these NDCG@10 values and intervals) printed
    "warp+genres+tags" over als's marker in the novelty panel (2.58 and 2.65 bits) and, on a phone, "popularity"
    over bpr's error bar: each name now takes the first free place around its point. No name on another
    model's marker or error bar, no two names overlapping, in the wide and the phone chart."""
    from types import SimpleNamespace

    import matplotlib.pyplot as plt

    from movierec.viz.charts import model_colours
    from movierec.viz.report_beyond import _scatter_figure

    points = {  # model: (coverage, novelty, NDCG, interval low, high)
        "popularity": (0.00504, 1.672, 0.1643, 0.1467, 0.1822),
        "svd": (0.0258, 2.469, 0.0994, 0.0871, 0.1131),
        "knn-baseline": (0.0437, 2.528, 0.1267, 0.1125, 0.1416),
        "bpr": (0.0256, 1.880, 0.1883, 0.1697, 0.2070),
        "ease": (0.0412, 2.271, 0.3065, 0.2835, 0.3274),
        "als": (0.0667, 2.650, 0.2392, 0.2200, 0.2564),
        "warp+genres+tags": (0.0661, 2.580, 0.2322, 0.2133, 0.2504),
    }
    rows = [
        SimpleNamespace(
            label=m,
            metrics={"coverage@10": c, "novelty@10": n, "ndcg@10": y},
            intervals={"ndcg@10": (lo, hi)},
        )
        for m, (c, n, y, lo, hi) in points.items()
    ]
    for stacked in (False, True):
        fig = _scatter_figure(rows, 10, model_colours(list(points)), stacked)
        try:
            assert _labels_on_points(fig, points) == [], stacked
            assert _label_overlaps(fig) == [], stacked
        finally:
            plt.close(fig)


def _above_the_plot(png: Path) -> tuple[int, list[tuple[int, int, int, int]]]:
    """The plot's top row (where the longest vertical line of ink, the left spine, starts) and the blocks of
    ink rows above it, each as (top, bottom, left, right) in pixels."""
    dark = mpimg.imread(png)[..., :3].mean(axis=2) < 100 / 255
    runs = []  # per column: (longest run of ink, the row it starts at)
    for col in dark.T:
        edges = np.flatnonzero(np.diff(np.concatenate(([0], col.astype(int), [0]))))
        starts, ends = edges[::2], edges[1::2]
        i = int(np.argmax(ends - starts)) if len(starts) else 0
        runs.append((int(ends[i] - starts[i]), int(starts[i])) if len(starts) else (0, 0))
    top = max(runs)[1]
    rows = np.flatnonzero(dark[:top].any(axis=1))
    blocks = []
    for block in np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1):
        cols = np.flatnonzero(dark[block[0] : block[-1] + 1].any(axis=0))
        blocks.append((int(block[0]), int(block[-1]), int(cols[0]), int(cols[-1])))
    return top, blocks


def test_the_phone_violins_legend_sits_in_the_title_row(tmp_path: Path) -> None:
    """The phone violins' "mean" legend sat over the axes' right corner, a row of ink of its own (81-91 px)
    between the two-line title (12-48) and the plot (99): a gap the genres chart, the same title under the
    same pen, does not have (its plot at 74). It is now on the title's second line, right-aligned with the
    plot: above the plot only the title's two lines, the second reaching the right edge, and the plot starts
    where the genres chart's does."""
    from movierec.viz import charts as C

    rng = np.random.default_rng(0)
    per_user = {m: np.clip(rng.exponential(0.2, 600) - 0.05, 0, 1) for m in _MODELS}
    violins = C.per_user_distribution(
        per_user,
        tmp_path / "v.png",
        metric="NDCG@10 per user",
        title="Per-user NDCG@10: the spread behind the averages",
        colours=C.model_colours(_MODELS),
        narrow=True,
    )
    genres = C.genre_bars(
        {g: 100 - i for i, g in enumerate(_GENRES.split())}, tmp_path / "g.png", narrow=True
    )
    top, blocks = _above_the_plot(violins)
    assert len(blocks) == 2, blocks  # two title lines, no row for the legend
    assert blocks[1][3] >= 0.9 * mpimg.imread(violins).shape[1], blocks  # the legend, after the title's words
    assert abs(top - _above_the_plot(genres)[0]) <= 2, (top, _above_the_plot(genres))


def _palette_entries(png: Path) -> int:
    """Entries in a PNG's PLTE chunk (0 without one)."""
    data, pos = png.read_bytes(), 8
    while pos < len(data):
        size, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        if kind == b"PLTE":
            return size // 3
        pos += 12 + size
    return 0


def test_the_charts_are_64_colour_palette_pngs_that_keep_the_model_colours(tmp_path: Path) -> None:
    """The report inlines every chart (24 in the default one) in index.html, under 3 MB: each PNG is a palette
    one of at most 64 colours (the default report's charts: 409 kB at 256 colours, 300 kB at 64), the same
    bytes when drawn again (the report's files are compared across runs), and the quantising keeps each
    model's colour: the ranking bars still hold every model's hex to within 6 (|dR|+|dG|+|dB|)."""
    from PIL import Image

    from movierec.viz.charts import model_colours

    charts = {name: png for name, png in _phone_charts(tmp_path / "one").items() if png.is_file()}
    assert len(charts) == 10, sorted(charts)
    for name, png in charts.items():
        with Image.open(png) as im:
            assert im.mode == "P", (name, im.mode)
            used = im.getcolors(256)
        assert used is not None and len(used) <= 64, (name, used and len(used))
        assert 0 < _palette_entries(png) <= 64, (name, _palette_entries(png))
    again = _phone_charts(tmp_path / "two")
    assert [n for n in charts if again[n].read_bytes() != charts[n].read_bytes()] == []
    with Image.open(charts["ranking"]) as im:
        pixels = np.asarray(im.convert("RGB")).reshape(-1, 3).astype(int)
    for model, hexcode in model_colours(_MODELS).items():
        target = np.array([int(hexcode[i : i + 2], 16) for i in (1, 3, 5)])
        assert int(np.abs(pixels - target).sum(axis=1).min()) <= 6, (model, hexcode)


def test_training_panels_count_whole_epochs_and_their_legend_sits_over_the_lines_in_the_freest_corner() -> (
    None
):
    """A two-epoch fit's panel read 1.0, 1.2 … 2.0 under 'epoch'; and the legend, on the loss axis, was drawn
    under the validation axis's dashed line, which crossed its box (the report's svd panel), in the corner
    loc="best" chose from the loss line alone. Now: whole epochs only, the legend on the validation axis
    (drawn last), in the corner the two lines cross least."""
    from movierec.viz.charts import pyplot, training_figure

    histories = {
        # loss falls from the upper left to the lower right (loc="best" on it alone: upper right); the score,
        # scored from epoch 2, climbs through the lower right into the upper right: the lower left is free
        "svd": [
            {"epoch": 1, "loss": 2.0},
            {"epoch": 2, "loss": 1.5, "val_rmse": 1.0},
            {"epoch": 3, "loss": 1.0, "val_rmse": 1.1},
        ],
        # a loss that climbs to the upper right and a flat score (mid-height): upper left and lower right are
        # free, and a tie goes to the upper left
        "bpr": [{"epoch": e, "loss": float(e), "val_ndcg@10": 0.1} for e in range(1, 9)],
    }
    fig = training_figure(histories)
    try:
        fig.canvas.draw()
        panels = [ax for ax in fig.axes if ax.get_title(loc="left") in histories]
        twins = [ax for ax in fig.axes if ax not in panels and ax.get_visible() and ax.get_ylabel()]
        assert len(panels) == 2 and len(twins) == 2
        for ax in panels:
            ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
            assert ticks and all(float(t).is_integer() for t in ticks), ticks
            assert ax.get_legend() is None  # under the twin's lines: not there any more
        corners = {}
        for twin in twins:
            legend = twin.get_legend()
            assert legend is not None
            assert [t.get_text() for t in legend.get_texts()] == ["training loss", twin.get_ylabel()]
            corners[twin.get_ylabel()] = (
                legend._loc
            )  # matplotlib's codes: 1 upper right, 2 upper left, 3 lower left
        assert corners == {"validation rmse": 3, "validation ndcg@10": 2}, corners
    finally:
        pyplot().close(fig)


@pytest.mark.parametrize("stacked", [False, True], ids=["wide", "phone"])
def test_a_long_fits_epoch_labels_never_run_together(stacked: bool) -> None:
    """The report's phone chart (one ~360 px panel a row) labelled bpr's 150 epochs 0, 20 … 140, eight
    labels where three digits each fit five: '80100120140' read as one number under 'epoch'. The epoch
    axis now takes as many whole-epoch ticks as its width holds; no two labels touch, wide or stacked."""
    from movierec.viz.charts import pyplot, training_figure

    history = [
        {"epoch": e, "loss": 1.0 / e, **({"val_ndcg@10": 0.06} if e % 5 == 0 else {})} for e in range(1, 151)
    ]
    fig = training_figure({"bpr": history, "svd": history[:25]}, stacked=stacked)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        panels = [ax for ax in fig.axes if ax.get_title(loc="left") in ("bpr", "svd")]
        assert len(panels) == 2
        for ax in panels:
            lo, hi = ax.get_xlim()
            labels = [t for t in ax.get_xticklabels() if t.get_text() and lo <= t.get_position()[0] <= hi]
            boxes = sorted((b.x0, b.x1) for b in (t.get_window_extent(renderer) for t in labels))
            assert len(boxes) >= 3, [t.get_text() for t in labels]
            gaps = [right[0] - left[1] for left, right in pairwise(boxes)]
            assert min(gaps) >= 4, (ax.get_title(loc="left"), [t.get_text() for t in labels], gaps)
    finally:
        pyplot().close(fig)


@pytest.mark.parametrize("narrow", [False, True], ids=["wide", "phone"])
@pytest.mark.parametrize("n_models", [1, 7])
def test_the_per_user_violins_mean_key_stays_off_the_plot(narrow: bool, n_models: int) -> None:
    """The wide per-user chart put its "mean" key in the axes' upper right, on the last model's violin (the
    default report's warp+genres+tags reaches NDCG 1.0 there); the phone chart already set it in the title
    row. Both now do, and the key lies outside the plot, one or seven models."""
    import matplotlib.pyplot as plt

    from movierec.viz.charts import per_user_figure

    rng = np.random.default_rng(0)
    models = ["popularity", "svd", "knn-baseline", "bpr", "ease", "als", "warp+genres+tags"][:n_models]
    per_user = {m: np.r_[rng.beta(1.2, 3.0, 300), 1.0] for m in models}
    fig = per_user_figure(per_user, metric="NDCG@10 per user", title="Per-user NDCG@10: the spread behind the averages", narrow=narrow)  # fmt: skip
    try:
        fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        (ax,) = fig.axes
        keys = [*fig.legends, *([ax.get_legend()] if ax.get_legend() else [])]
        assert len(keys) == 1 and [t.get_text() for t in keys[0].get_texts()] == ["mean"]
        assert not keys[0].get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
    finally:
        plt.close(fig)
