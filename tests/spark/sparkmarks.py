"""The marks every Spark job test carries: Spark, slow, one xdist group (one JVM at a time on two cores),
and pandas-on-Spark's version warnings, which say nothing about movierec."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SPARK_JOB = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.xdist_group("spark"),
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

#: the driver JVM option the Spark tests give (``spark.driver.extraJavaOptions``): the JIT's first tier
#: only. A test's Spark job lasts seconds, and HotSpot's second tier spent a third of them compiling Spark's
#: start-up code: one ``spark train`` of :func:`small_ratings` (2 shared cores, load ~4) took 44 and 34 s,
#: and 29 and 26 s with it. Java runs the same program either way, with larger stack frames: a tighter
#: stack, which test_checkpoints' 50 iterations use (they overflowed Java's default 1 MiB thread stack
#: with it, before movierec gave the driver 4 MiB). A test setting, not movierec's: a long job needs the
#: second tier.
FAST_JVM_OPTION = "-XX:TieredStopAtLevel=1"

#: :data:`FAST_JVM_OPTION` as the CLI takes it
FAST_JVM = ["--conf", f"spark.driver.extraJavaOptions={FAST_JVM_OPTION}"]


#: a line Spark's log4j writes (with or without its default layout's date)
LOG4J_LINE = re.compile(r"^(\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} )?(TRACE|DEBUG|INFO|WARN|ERROR|FATAL) ")
#: the lines Spark's default log4j profile opens a run with
SPARK_NOTICES = (
    "Using Spark's default log4j profile",
    "Setting default log level",
    "To adjust logging level",
)


def spark_log_lines(stderr: str) -> list[str]:
    """The lines of a run's stderr that Spark's own logging wrote (movierec's log4j2 configuration lets
    only ERROR and above through): test_driver_log's rule, also read in test_recommend_force's failed run."""
    return [ln for ln in stderr.splitlines() if LOG4J_LINE.match(ln) or ln.startswith(SPARK_NOTICES)]


def java_missing_reason() -> str | None:
    """Why Spark cannot run here, or None when Java is present."""
    from movierec.spark.session import SparkUnavailableError, check_java

    try:
        check_java()
    except SparkUnavailableError as exc:
        return f"Spark tests need Java 17: {exc}"
    return None


def small_ratings(folder: Path) -> Path:
    """``folder/ratings.csv``, 60 users × 80 movies (datagen, seed 3), for a real ``spark train`` run of a
    few seconds; the test is skipped, with the reason, where Java is absent."""
    from datagen import make_ratings

    if (reason := java_missing_reason()) is not None:
        pytest.skip(reason)
    ratings = folder / "ratings.csv"
    make_ratings(n_users=60, n_items=80, seed=3).to_csv(ratings, index=False)
    return ratings
