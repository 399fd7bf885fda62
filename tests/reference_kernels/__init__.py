"""Test-side reference implementations of the compiled kernels (``movierec.models.kernels._native``).

The package runs only the Cython kernels; these straightforward numba versions (the originals the
kernels were ported from) are what ``tests/models/test_kernels_native.py`` proves them equal to, on
the same inputs and, for the sampled losses, the same random streams. They are not shipped.
"""
