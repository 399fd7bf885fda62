"""models/blas.py: large dense solves run on one BLAS thread on the OpenBLAS builds that crash."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg  # noqa: F401  # scipy's OpenBLAS loaded, as in EASE's solve
from threadpoolctl import threadpool_info, threadpool_limits

from movierec.models.blas import LARGE, affected, safe_blas


def _threads() -> set[int]:
    return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}


def test_a_large_solve_runs_on_one_thread_on_skylakex_openblas_and_the_threads_come_back() -> None:
    arch = {
        str(i.get("architecture", "")).lower() for i in threadpool_info() if i["internal_api"] == "openblas"
    }
    assert affected() == bool(arch & {"skylakex", "cooperlake", "sapphirerapids"})
    with threadpool_limits(limits=2, user_api="blas"):
        with safe_blas(LARGE - 1):
            assert _threads() == {2}  # below the size that crashed: every thread kept
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            with safe_blas(LARGE):
                assert _threads() == ({1} if affected() else {2})
            with pytest.raises(np.linalg.LinAlgError), safe_blas(LARGE):
                raise np.linalg.LinAlgError("a solve that failed")
        expected = (
            "a 12,000 × 12,000 solve runs on one BLAS thread: OpenBLAS's multithreaded AVX-512 kernels crash"
        )
        assert [str(w.message)[: len(expected)] for w in said] == ([expected] * 2 if affected() else [])
        assert _threads() == {2}  # given back after the block, an error included


def test_ease_solve_gives_the_same_weights_under_the_guard() -> None:
    """The guard changes threads, not arithmetic: a solve under it equals the plain one to rounding."""
    import scipy.sparse as sp

    from movierec.models import ease

    rng = np.random.default_rng(0)
    x = sp.random(300, 200, density=0.05, random_state=rng, format="csr")
    x.data[:] = 1.0
    plain, diag = ease.ease_solve(x, 50.0)
    with threadpool_limits(limits=1, user_api="blas"):
        one, diag1 = ease.ease_solve(x, 50.0)
    np.testing.assert_allclose(one, plain, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(diag1, diag, rtol=1e-10)
