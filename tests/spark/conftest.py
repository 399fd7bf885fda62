"""One real local Spark session for the Spark test modules that use it, one after another; skipped (with the
reason) only when Java is absent."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sparkmarks import FAST_JVM_OPTION, java_missing_reason

from movierec.spark.session import spark_session

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'movierec[spark]')")

HERE = Path(__file__).parent


class _Shared:
    """The session the ``spark`` fixture hands out, and the modules whose tests use it (found at collection).

    Why: each module started its own JVM, six in all, and each start (with the first job's class loading)
    cost about 10 CPU seconds of the two cores. The modules that use it now run one after another (see
    :func:`pytest_collection_modifyitems`) on one session, stopped as soon as the next test is not theirs,
    so no test outside them runs beside a live session (its signal handlers, a second JVM). The tests of a
    module shared their session already; nothing of a run stays in it but a cached frame's storage, which
    each run unpersists, and the checkpoint folder, which every run may share (``ensure_checkpoint_dir``).
    """

    stack = ExitStack()
    session: Any = None
    users: frozenset[Path] = frozenset()

    @classmethod
    def stop(cls) -> None:
        cls.session = None
        cls.stack.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the Spark test modules that use the ``spark`` fixture before the others of this folder, each
    module's tests kept together and in their order, so that one session serves them all. One xdist group
    ('spark', :data:`sparkmarks.SPARK_JOB`) runs them on one worker in this order."""
    places = [n for n, item in enumerate(items) if HERE in item.path.parents]
    ours = [items[n] for n in places]
    _Shared.users = frozenset(item.path for item in ours if "spark" in item.fixturenames)
    ours.sort(key=lambda item: item.path not in _Shared.users)  # stable: file order, then test order
    for n, item in zip(places, ours, strict=True):
        items[n] = item


@pytest.fixture(scope="module")
def spark() -> object:
    """The shared ``local[2]`` session (UI and console progress off to keep test logs readable; the JIT's
    first tier only, :data:`sparkmarks.FAST_JVM_OPTION`), started by the first module that asks for it."""
    reason = java_missing_reason()
    if reason:
        pytest.skip(reason)
    if _Shared.session is None:
        conf = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"}
        conf["spark.driver.extraJavaOptions"] = FAST_JVM_OPTION
        session = spark_session("local[2]", conf, app_name="movierec tests", quiet=True)
        _Shared.session = _Shared.stack.enter_context(session)
    return _Shared.session


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
    """Stop the shared session after the last test of the modules that use it (their module fixtures, torn
    down before this, may still have used it)."""
    result = yield
    if _Shared.session is not None and (nextitem is None or nextitem.path not in _Shared.users):
        _Shared.stop()
    return result


def pytest_sessionfinish() -> None:
    """A run stopped early (``-x``, Ctrl-C) still stops the session."""
    _Shared.stop()
