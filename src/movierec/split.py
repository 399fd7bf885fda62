"""Seeded train/test splits that share one id map (DESIGN.md, 'split').

``ratings_holdout`` reproduces Surprise's ``train_test_split`` row for row and
``interactions_holdout`` LightFM's ``random_train_test_split``, so parity tests compare
like with like.
"""

from __future__ import annotations

import math

import numpy as np

from movierec.errors import ConfigError
from movierec.interactions import Interactions

__all__ = ["ratings_holdout"]


def _check_fraction(test_size: float) -> None:
    if not (isinstance(test_size, (int, float)) and 0.0 < float(test_size) < 1.0):
        raise ConfigError(f"test_size must be a fraction between 0 and 1, got {test_size!r}")


def ratings_holdout(inter: Interactions, test_size: float = 0.2, seed: int = 42) -> tuple[Interactions, Interactions]:
    """Random hold-out of ratings with Surprise's semantics (``surprise.model_selection.train_test_split``).

    A ``RandomState(seed)`` permutation of the rows in load order; the last ``ceil(test_size·n)``
    permuted rows are the test set (in permutation order), the first ones the training set.
    """
    _check_fraction(test_size)
    n = inter.n_ratings
    n_test = int(math.ceil(test_size * n))
    if n_test >= n:
        raise ConfigError(f"test_size {test_size} leaves no training ratings out of {n}")
    perm = np.random.RandomState(seed).permutation(n)
    n_train = n - n_test
    return inter.subset(perm[:n_train]), inter.subset(perm[n_train:])
