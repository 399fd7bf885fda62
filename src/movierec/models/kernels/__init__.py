"""The hot loops under the models, called with plain numpy arrays: compiled ahead of time (``_native.pyx``,
through ``accel`` and ``hybrid``), except ``slim``'s and ``bayesian-fm``'s, which are numba."""
