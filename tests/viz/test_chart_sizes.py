"""Charts the report shows across its card are drawn wide enough not to be stretched blurry."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np

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
    """Height and width in pixels of a chart's first line of ink from the top, its title (pixels < 100 of 255)."""
    dark = mpimg.imread(png)[..., :3].mean(axis=2) < 100 / 255
    rows = dark.any(axis=1)
    top = int(rows.argmax())
    height = int((~rows[top:]).argmax())
    cols = np.flatnonzero(dark[top : top + height].any(axis=0))
    return height, int(cols[-1] - cols[0] + 1)


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
