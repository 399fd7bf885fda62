"""Test-side reference implementations of the compiled kernels (``movierec.models.kernels._native``).

The package runs only the Cython kernels; these straightforward numba versions (the originals the
kernels were ported from) are what ``tests/models/test_kernels_native.py`` proves them equal to, on
the same inputs and, for the sampled losses, the same random streams. They are not shipped.

They are compiled with ``parallel=False``: each ``prange`` runs as a plain loop over the same chunks,
with the same per-row arithmetic, so the results are the ones the threaded originals gave (rows are
independent), and a fresh clone compiles them in ~20 s instead of ~45 s (numba's parallel pass).
"""
