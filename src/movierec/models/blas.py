"""Large dense solves on one BLAS thread where OpenBLAS's multithreaded AVX-512 kernels crash.

The OpenBLAS that numpy and scipy wheels bundle (0.3.30/0.3.31 here) dies with a segmentation fault in its
SkylakeX GEMM packing routine (``dgemm_oncopy_SKYLAKEX``) when a level-3 call on two or more threads
writes a matrix of about 15,500 rows and columns or more: ``np.full((4096, 16000), .001)`` transposed times
itself, or LAPACK's ``dpotrf`` of a 16,000 × 16,000 matrix, kill the process (measured on an AMD EPYC
with AVX-512 at 2, 4 and 8 threads; 15,000 passed every time; numpy/numpy#19685, OpenMathLib/OpenBLAS#2821).
EASE factors an items × items (or users × users) matrix, so a ratings file with ~16,000 items and as many
users ended ``compare`` in "Segmentation fault" with nothing else said. On one thread the same calls
finish (a 16,000 × 16,000 product 7.2 s where two threads would take about half), so :func:`safe_blas`
runs a solve of ``n`` ≥ :data:`LARGE` on one BLAS thread, on OpenBLAS builds whose kernels are the
SkylakeX family only: every other build and every smaller solve keep all their threads.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LARGE", "affected", "safe_blas"]

#: the smallest matrix side run on one thread: the crashes began between 15,000 and 16,000 (at 20,000 with
#: a short inner dimension), so a fifth below that
LARGE = 12_000
#: OpenBLAS's names (threadpoolctl's ``architecture``, lower-cased) of the cores that use the SkylakeX kernels
_SKYLAKEX_KERNELS = frozenset({"skylakex", "cooperlake", "sapphirerapids"})


def affected() -> bool:
    """Whether a loaded BLAS is an OpenBLAS running its SkylakeX-family kernels (the crashing ones)."""
    from threadpoolctl import threadpool_info

    return any(
        info.get("internal_api") == "openblas"
        and str(info.get("architecture", "")).lower() in _SKYLAKEX_KERNELS
        for info in threadpool_info()
    )


@contextmanager
def safe_blas(n: int) -> Iterator[None]:
    """Run the block on one BLAS thread when it solves or multiplies matrices of side ``n`` ≥ :data:`LARGE`
    on an :func:`affected` OpenBLAS, else as it is. numpy and scipy must be imported first (their BLAS is
    found among the loaded libraries); the threads come back when the block ends, an error included. A
    ``RuntimeWarning`` says why the solve is slow (the CLI shows it as one ``warning:`` line)."""
    if n < LARGE or not affected():
        yield
        return
    from threadpoolctl import threadpool_limits

    # said, since such a fit runs minutes with nothing else on screen (94 s at 16,500 on 2 cores)
    warnings.warn(
        f"a {n:,} × {n:,} solve runs on one BLAS thread: OpenBLAS's multithreaded AVX-512 kernels crash "
        "on matrices this large (numpy issue 19685); it may take minutes",
        RuntimeWarning,
        stacklevel=3,
    )
    with threadpool_limits(limits=1, user_api="blas"):
        yield
