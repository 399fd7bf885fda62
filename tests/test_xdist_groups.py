"""``make test`` runs ``pytest -n 3 --dist loadgroup``: tests marked ``xdist_group`` share one worker.

pytest-xdist does it by appending ``@group`` to each marked test's id. pytest 9.2 reads the id from a new
field, so with it (pytest-xdist 3.8 being the newest release) the marks silently did nothing: the Spark
tests ran two JVMs at once and both workers compiled the numba reference kernels (found by timing a
``make test``; pyproject.toml now pins ``pytest<9.2``). This test fails if the marks stop working again.
"""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("groups-work")
def test_a_grouped_tests_id_carries_its_group_under_loadgroup(request: pytest.FixtureRequest) -> None:
    # xdist sets option.loadgroup on its workers under --dist loadgroup
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not a `pytest -n N --dist loadgroup` worker (make test runs one)")
    assert request.node.nodeid.endswith("@groups-work"), (
        f"pytest {pytest.__version__} with this pytest-xdist ignores xdist_group: {request.node.nodeid}"
    )
