"""Numba kernels: the hot loops under the models, called with plain numpy arrays."""
