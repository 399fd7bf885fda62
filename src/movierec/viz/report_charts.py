"""Kept so ``from movierec.viz import report_charts`` still works: the charts live in :mod:`movierec.viz.charts`."""

from movierec.viz.charts import *  # noqa: F403
from movierec.viz.charts import BLUE, MODEL_COLOURS, PALETTE, model_colours, pyplot, save  # noqa: F401
