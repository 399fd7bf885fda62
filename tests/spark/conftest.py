"""One real local Spark session per test module; skipped (with the reason) only when Java is absent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sparkmarks import FAST_JVM_OPTION, java_missing_reason

from movierec.spark.session import spark_session

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'movierec[spark]')")


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    """A ``local[2]`` session for the module (UI and console progress off to keep test logs readable; the
    JIT's first tier only, :data:`sparkmarks.FAST_JVM_OPTION`)."""
    reason = java_missing_reason()
    if reason:
        pytest.skip(reason)
    conf = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"}
    conf["spark.driver.extraJavaOptions"] = FAST_JVM_OPTION
    with spark_session("local[2]", conf, app_name="movierec tests", quiet=True) as session:
        yield session
