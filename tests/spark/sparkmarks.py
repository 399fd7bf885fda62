"""The marks every Spark job test carries: Spark, slow, one xdist group (one JVM at a time on two cores),
and pandas-on-Spark's version warnings, which say nothing about movierec."""

from __future__ import annotations

import pytest

SPARK_JOB = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.xdist_group("spark"),
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]
