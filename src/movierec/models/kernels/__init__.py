"""The hot loops under the models, called with plain numpy arrays: compiled ahead of time (``_native.pyx``,
through ``accel`` and ``hybrid``), except ``bayesian-fm``'s, which is numba."""
