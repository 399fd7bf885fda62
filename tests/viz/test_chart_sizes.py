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
