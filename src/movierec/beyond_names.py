"""Which result columns are beyond-accuracy metrics, kept apart from :mod:`movierec.beyond`.

The tables (:mod:`movierec.display`, :mod:`movierec.tables`) need these names to keep beyond-accuracy
and per-group columns out of the accuracy tables; :mod:`movierec.beyond` pulls in the dataset and
model layers, which import :mod:`movierec.display` themselves, so the names live here, below both.
"""

from __future__ import annotations

__all__ = ["AGGREGATE", "LOWER_IS_BETTER", "MIN_INTERVAL_USERS", "PER_USER", "is_beyond"]

PER_USER = ("ild_genres", "ild_vectors", "arp", "aplt", "calibration_kl", "unexpectedness", "serendipity")
"""Beyond-accuracy metrics with one value per user (they get bootstrap intervals)."""
AGGREGATE = ("gini", "entropy", "aggregate_diversity")
"""Metrics of the whole set of lists (no per-user value, no interval)."""
LOWER_IS_BETTER = ("arp", "calibration_kl", "gini")
"""Where less is the usual goal (less popularity bias, closer calibration, fairer exposure)."""
MIN_INTERVAL_USERS = 10
"""A user group of fewer users gets its mean and size but no interval: a percentile bootstrap over n
users is too narrow when n is small (drawing n of ml-100k's 921 users' NDCG@10, the "95%" interval held
the true mean in 52% of draws at n = 2, 87% at n = 7, 90% at n = 10)."""


def is_beyond(metric: str) -> bool:
    """Whether a result column (``arp@10``, ``ndcg@10[activity=low]``…) is a beyond-accuracy metric."""
    base = metric.split("@", 1)[0]
    return base in PER_USER or base in AGGREGATE or "[" in metric
