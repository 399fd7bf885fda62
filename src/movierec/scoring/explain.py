"""Why a movie is on a visitor's list: the rated movies its score depends on most.

Leave-one-out on the model's own fold-in (the explanation style of Hu, Koren & Volinsky 2008, §5, for
any model that folds a person in): for each liked movie ``j``, the person is folded in again without
``j``, and a recommended movie's drop in score is ``j``'s contribution. The exported artifact
(``POST /recommendations`` with ``explain``) and :meth:`movierec.Recommender.recommend_for` with
``explain=True`` both call :func:`because`, so the API and the notebook give the same reasons.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["MAX_RATED", "because", "known_user_refusal"]

#: at most this many liked movies are tried (one fold-in each), the highest-rated first
MAX_RATED = 20


def because(
    values: np.ndarray,
    threshold: float,
    targets: np.ndarray,
    full: np.ndarray,
    score_without: Callable[[np.ndarray], np.ndarray | None],
    *,
    top: int = 2,
) -> list[list[int]]:
    """For each of ``targets`` (item indices on the list), up to ``top`` positions into the rated
    movies (``values``: their ratings) whose removal lowers its score most, largest drop first.

    ``full``: the scores with every rated movie; ``score_without(keep)``: the scores of the person
    folded in with only the rated movies where ``keep`` is True, or ``None`` when none of them counts
    as liked (then every score is taken as 0). Movies rated ≥ ``threshold`` are the candidates (the
    highest rated one when none reaches it); a movie that does not raise a score (beyond float32
    rounding) never explains it.
    """
    values = np.asarray(values, dtype=np.float64)
    liked = np.flatnonzero(values >= threshold)
    if not len(liked):
        liked = np.argsort(-values, kind="stable")[:1]
    liked = liked[np.argsort(-values[liked], kind="stable")][:MAX_RATED]
    targets = np.asarray(targets, dtype=np.int64)
    if not len(targets):
        return []
    contrib = np.zeros((len(liked), len(targets)))
    for n, j in enumerate(liked):
        keep = np.arange(len(values)) != j
        if not keep.any():
            contrib[n] = 1.0  # the only rated movie explains everything
            continue
        without = score_without(keep)
        contrib[n] = full[targets] - (0.0 if without is None else without[targets])
    # a drop within float32 rounding of the score is no drop: removing a movie whose neighbour list does
    # not hold the target changes only the order of a float sum
    tol = 1e-5 * np.maximum(np.abs(full[targets]), 1e-12)
    out = []
    for c in range(len(targets)):
        best = np.argsort(-contrib[:, c], kind="stable")[:top]
        out.append([int(liked[b]) for b in best if contrib[b, c] > tol[c]])
    return out


def known_user_refusal(model: str, instead: str) -> str:
    """Why ``model`` cannot explain a known user's list, and ``instead`` what can: the one wording the
    notebook, the artifact, the API and the CLI refuse with."""
    return (
        f"explain: {model}'s score of a known user is not a sum over the movies they rated, so leaving one "
        f"out would explain another list; use an item-based model (ease, itemknn, rp3beta, slim), or {instead}"
    )
