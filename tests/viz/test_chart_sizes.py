"""Charts the report shows across its card are drawn wide enough not to be stretched blurry."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg

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
