"""The splits papers report on (their splitter is :class:`movierec.split.CanonicalSplit`): ml-100k's ``u1``…``u5``, ``ua``, ``ub`` and ml-1m's random 90/10.

ml-100k's archive ships ``uK.base``/``uK.test`` made by its ``mku.sh`` from ``u.data``; GroupLens'
terms forbid bundling the files, so they are regenerated here from ``u.data`` read in file order
(``load`` keeps file order, row ``r`` of the interactions is line ``r + 1`` of ``u.data``):

- ``ml100k-uK`` (K = 1…5): test = lines 20,000·(K−1)+1 … 20,000·K, train = the other lines; the
  five test sets are disjoint (5-fold cross-validation; papers report u1 alone or the u1–u5 mean);
- ``ml100k-ua`` / ``ml100k-ub`` (``allbut.pl``): counting each user's ratings in file order, the
  1st–10th (ua) or 11th–20th (ub) go to test, the rest to train: 10 test ratings per user.

mku.sh also sorts each file by user and item; the rows, not their order, are what matter, so the
figures match any model that does not depend on row order.

``ml1m-90-10`` is the random 90/10 hold-out of ml-1m's ratings that AutoRec (Sedhain et al. 2015),
GC-MC and GLocal-K report on; there is no published file, so it is Surprise-style
``ratings_holdout(test_size=0.1, seed)`` and figures are comparable in protocol, not row for row.
"""

from __future__ import annotations

import numpy as np

from movierec.errors import ConfigError, Doors
from movierec.interactions import Interactions

__all__ = ["CANONICAL_SPLITS", "check_ml1m_shape", "ml100k_rows"]

CANONICAL_SPLITS: dict[str, str] = {
    **{
        f"ml100k-u{k}": f"ml-100k u{k}.base/u{k}.test (test = lines {20_000 * (k - 1) + 1}–{20_000 * k} of u.data)"
        for k in range(1, 6)
    },
    "ml100k-ua": "ml-100k ua.base/ua.test (each user's 1st–10th ratings in u.data order test)",
    "ml100k-ub": "ml-100k ub.base/ub.test (each user's 11th–20th ratings in u.data order test)",
    "ml1m-90-10": "ml-1m random 90/10 ratings hold-out (AutoRec/GLocal-K protocol, no published file)",
}

_ML100K = (100_000, 943, 1682)
_ML1M = (1_000_209, 6040, 3706)


def _check_shape(inter: Interactions, name: str, expected: tuple[int, int, int], dataset: str) -> None:
    got = (inter.n_ratings, inter.n_users, inter.n_items)
    if got != expected:
        said = (
            f"split {name} is defined on {dataset} ({expected[0]:,} ratings, {expected[1]:,} users, "
            f"{expected[2]:,} items, in file order); this dataset has {got[0]:,} ratings, {got[1]:,} users, "
            f"{got[2]:,} items: use the {dataset} dataset"
        )  # each door's way to name it (one line named both: "('ml-100k' in Python, --dataset ml-100k in the CLI)")
        raise ConfigError(
            Doors(
                f"{said} (movierec.load({dataset!r})) or another split",
                f"{said} (--dataset {dataset}) or another split",
            )
        )


def ml100k_rows(inter: Interactions, name: str) -> np.ndarray:
    """Boolean mask of the test rows of canonical split ``name`` (``ml100k-u1`` … ``ml100k-ub``)."""
    _check_shape(inter, name, _ML100K, "ml-100k")
    n = inter.n_ratings
    part = name.removeprefix("ml100k-")
    if part in ("u1", "u2", "u3", "u4", "u5"):
        k = int(part[1])
        mask = np.zeros(n, dtype=bool)
        mask[20_000 * (k - 1) : 20_000 * k] = True
        return mask
    lo, hi = {"ua": (1, 10), "ub": (11, 20)}[part]
    # each row's 1-based position among its user's rows, in file order
    order = np.argsort(inter.users, kind="stable")
    counts = np.bincount(inter.users, minlength=inter.n_users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n) - starts[inter.users[order]] + 1
    return (position >= lo) & (position <= hi)


def check_ml1m_shape(inter: Interactions, name: str) -> None:
    """Raise unless ``inter`` is ml-1m in file order (the dataset ``ml1m-90-10`` is defined on)."""
    _check_shape(inter, name, _ML1M, "ml-1m")
