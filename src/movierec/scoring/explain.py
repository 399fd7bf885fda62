"""Why a movie is on a visitor's list: the rated movies its score depends on most.

Leave-one-out on the model's own fold-in (the explanation style of Hu, Koren & Volinsky 2008, §5, for
any model that folds a person in): for each liked movie ``j``, the person is folded in again without
``j``, and a recommended movie's drop in score is ``j``'s contribution. The exported artifact
(``POST /recommendations`` with ``explain``) and :meth:`movierec.Recommender.recommend_for` with
``explain=True`` both call :func:`because`, so the API and the notebook give the same reasons.

Rating predictors (``shared=``) are read on the raw predicted rating and count only what a movie gains
beyond the drop every movie shares. Their fold-in estimates a user bias b_u from the ratings given, so
leaving out a 5-star movie lowers every prediction alike, and the ranking score (support-shrunk and
clipped, :mod:`movierec.scoring.support`) turned that uniform drop into a larger drop for well-supported
movies: baseline, whose visitor fold-in is b_u alone, gave "Toy Story (1995); Finding Nemo (2003)" to
every row of a list Toy Story and Finding Nemo did nothing to choose, and svd gave them to most rows.
A pure bias shift now explains nothing, and a row no rated movie explains has no reason (:func:`because_note`
says why once per list). The k-NN family's prediction is a similarity-weighted mean over the rated
neighbours, which leave-one-out misreads (the left-out weight goes to the others), so their reasons are
each neighbour's own term in it (``terms=``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "MAX_RATED",
    "RATING_TOLERANCE",
    "because",
    "because_note",
    "known_user_refusal",
    "rating_tolerance",
]

#: at most this many liked movies are tried (one fold-in each), the highest-rated first
MAX_RATED = 20

#: a rating predictor's reason must raise the movie's predicted rating by at least this share of the rating
#: scale (0.045 stars on 0.5–5) more than it raises movies in general (:func:`rating_tolerance`)
RATING_TOLERANCE = 0.01


def rating_tolerance(scale: tuple[float, float]) -> float:
    """The smallest gain, in rating points, that explains a rating predictor's row: :data:`RATING_TOLERANCE`
    of the scale's width (0.045 on 0.5–5; 1.0 where the scale is one value)."""
    lo, hi = float(scale[0]), float(scale[1])
    return RATING_TOLERANCE * (hi - lo) if hi > lo else 1.0


def because(
    values: np.ndarray,
    threshold: float,
    targets: np.ndarray,
    full: np.ndarray,
    score_without: Callable[[np.ndarray], np.ndarray | None],
    *,
    top: int = 2,
    shared: float | None = None,
    terms: np.ndarray | None = None,
) -> list[list[int]]:
    """For each of ``targets`` (item indices on the list), up to ``top`` positions into the rated
    movies (``values``: their ratings) whose removal lowers its score most, largest drop first.

    ``full``: the scores with every rated movie; ``score_without(keep)``: the scores of the person
    folded in with only the rated movies where ``keep`` is True, or ``None`` when none of them counts
    as liked (then every score is taken as 0). Movies rated ≥ ``threshold`` are the candidates (the
    highest rated one when none reaches it); a movie that does not raise a score (beyond float32
    rounding) never explains it.

    ``shared``: for a rating predictor, whose ``full`` and ``score_without`` are raw predicted ratings
    (unclipped, unshrunk), the tolerance in rating points (:func:`rating_tolerance`). A movie's
    contribution is then the smaller of its drop and its drop beyond the median drop over every movie
    (the part every movie shares, a shift of the user bias), and must exceed ``shared``: leaving it out
    must lower this movie's prediction, and lower it more than it lowers movies in general. The only
    rated movie is weighed against the fold-in of nothing (``score_without`` gets an all-False ``keep``).

    ``terms``: for a rating predictor whose prediction is a sum over the rated movies (the k-NN family),
    each rated movie's term in each target's predicted rating, ``(len(values), len(targets))``, read
    instead of leave-one-out (``score_without`` is not called), against the same ``shared`` tolerance.
    k-NN's prediction is a similarity-weighted mean, so leaving the nearest neighbour out hands its weight
    to the farther ones: where those were rated further above their baselines, the prediction rises and
    leave-one-out names no reason, or a far one. A term is already beyond the user bias (the baseline
    holds it), and a movie that is not among the target's neighbours has none.
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
        if terms is not None:
            contrib[n] = np.asarray(terms, dtype=np.float64)[j]
            continue
        if shared is not None:
            contrib[n] = _beyond_shared(full, score_without(keep), targets)
            continue
        if not keep.any():
            contrib[n] = 1.0  # the only rated movie explains everything
            continue
        without = score_without(keep)
        contrib[n] = full[targets] - (0.0 if without is None else without[targets])
    if shared is not None or terms is not None:
        tol = np.full(len(targets), float(shared if shared is not None else 0.0))
    else:
        # a drop within float32 rounding of the score is no drop: removing a movie whose neighbour list
        # does not hold the target changes only the order of a float sum
        tol = 1e-5 * np.maximum(np.abs(full[targets]), 1e-12)
    out = []
    for c in range(len(targets)):
        best = np.argsort(-contrib[:, c], kind="stable")[:top]
        out.append([int(liked[b]) for b in best if contrib[b, c] > tol[c]])
    return out


def _beyond_shared(full: np.ndarray, without: np.ndarray | None, targets: np.ndarray) -> np.ndarray:
    """A rating predictor's contributions to ``targets``: min(drop, drop − median drop over every movie).
    A movie the fold-in cannot predict (NaN, as slope-one's without a co-rated movie) has no drop; no
    ``without`` at all gives no contribution."""
    if without is None:
        return np.zeros(len(targets))
    drop = np.asarray(full, dtype=np.float64) - np.asarray(without, dtype=np.float64)
    drop[~np.isfinite(drop)] = 0.0
    return np.minimum(drop[targets], drop[targets] - float(np.median(drop)))


def because_note(model: str, explained: list[list[int]] | list[str]) -> str | None:
    """Why some rows of a rating predictor's list have no ``because`` (:func:`because` with ``shared``),
    said once for the list; ``None`` when every row has one. ``explained``: each row's reasons. One
    wording for the notebook (a warning), the CLI (a note), the API (``becauseNote``) and the web page."""
    empty = sum(1 for r in explained if not r)
    if not empty:
        return None
    if empty == len(explained):
        return (
            f"no movie on {model}'s list rests on which movies you rated: leaving any one of them out moves "
            "every movie's predicted rating about alike, so the list follows how generously you rate"
        )
    have = "has" if empty == 1 else "have"
    return (
        f"{empty} of the {len(explained)} movies {have} no reason: leaving any one movie you rated out moves "
        "their predicted rating no more than every movie's (how generously you rate, not which movies)"
    )


def known_user_refusal(model: str, instead: str) -> str:
    """Why ``model`` cannot explain a known user's list, and ``instead`` what can: the one wording the
    notebook, the artifact, the API and the CLI refuse with."""
    return (
        f"explain: {model}'s score of a known user is not a sum over the movies they rated, so leaving one "
        f"out would explain another list; use an item-based model (ease, itemknn, rp3beta, slim), or {instead}"
    )
