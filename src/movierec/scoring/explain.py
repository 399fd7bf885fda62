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
each neighbour's own term in it (``terms=``). The same terms explain a known user's k-NN list exactly (their
prediction is that sum over their training row): :func:`known_because`, which the notebook and the
artifact both call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "MAX_RATED",
    "RATING_TOLERANCE",
    "because",
    "because_note",
    "known_because",
    "known_user_refusal",
    "rating_tolerance",
]

#: at most this many liked movies are tried (one fold-in each), the highest-rated first; read on ``terms``
#: (no fold-in) every liked movie is
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
    holds it), and a movie that is not among the target's neighbours has none. Every liked movie is
    weighed (no :data:`MAX_RATED` cap: no fold-in is run).
    """
    values = np.asarray(values, dtype=np.float64)
    liked = np.flatnonzero(values >= threshold)
    if not len(liked):
        liked = np.argsort(-values, kind="stable")[:1]
    liked = liked[np.argsort(-values[liked], kind="stable")]
    if terms is None:  # each is one fold-in; terms cost nothing more per movie (a known user likes hundreds)
        liked = liked[:MAX_RATED]
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


def known_because(
    scorer: Any, u: int, order: np.ndarray, targets: np.ndarray, threshold: float, tol: float
) -> list[list[int]]:
    """A training user's reasons under a k-NN rating model (knn-basic, knn-means, knn-zscore,
    knn-baseline): for each of ``targets``, up to two item indices of their training movies, read on each
    movie's share of the prediction, s_ij (r_uj − b_uj) / Σ s over the target's k neighbours among the
    user's training row (``scorer.known_terms``, :class:`movierec.scoring.knn.Scorer`), with the
    visitors' rules (:func:`because` with ``terms=``): a liked movie (rated ≥ ``threshold``) whose share
    exceeds ``tol`` (:func:`rating_tolerance`); a target predicted by its baseline (fewer than min_k rated
    neighbours) has none. The shares of a target add up to its prediction less its baseline, so these
    reasons explain the very list, where a factor model's trained user vector is no sum over the movies.
    ``order``: the user's training movies in the order they are tried (equal shares: the first wins), best
    rated and then most recent first (:func:`movierec.models.base.reason_order`; an older artifact: its
    stored row). The notebook (:meth:`movierec.Recommender.recommend`) and the artifact (``GET
    /users/{id}/recommendations?explain=true``) both call it, so they give the same reasons."""
    items, values, terms = scorer.known_terms(u, targets)
    rank = {int(i): n for n, i in enumerate(np.asarray(order).tolist())}
    tried = np.argsort([rank.get(int(i), len(rank)) for i in items.tolist()], kind="stable")
    items, values, terms = items[tried], values[tried], terms[tried]

    def no_fold_in(keep: np.ndarray) -> np.ndarray | None:  # never called: terms are read instead
        raise AssertionError("known_because reads terms, not a fold-in")

    found = because(values, threshold, targets, np.zeros(0), no_fold_in, shared=tol, terms=terms)
    return [[int(items[b]) for b in r] for r in found]


def _beyond_shared(full: np.ndarray, without: np.ndarray | None, targets: np.ndarray) -> np.ndarray:
    """A rating predictor's contributions to ``targets``: min(drop, drop − median drop over every movie).
    A movie the fold-in cannot predict (NaN, as slope-one's without a co-rated movie) has no drop; no
    ``without`` at all gives no contribution."""
    if without is None:
        return np.zeros(len(targets))
    drop = np.asarray(full, dtype=np.float64) - np.asarray(without, dtype=np.float64)
    drop[~np.isfinite(drop)] = 0.0
    return np.minimum(drop[targets], drop[targets] - float(np.median(drop)))


def sequence_note(model: str) -> str:
    """What a sequence model's (markov, sasrec, gru4rec) ``because`` means, said once for a list: the
    reason on every row is the last movie given, whatever its rating, since the list is what comes next
    after it (a half star counts as much as five). One sentence for the CLI's note, the API's
    ``becauseNote`` (which the web page prints) and ``Recommender.recommend_for``'s warning."""
    return f"{model} lists what people tend to rate next after the last movie in your ratings, whatever its stars"


def one_list_note(model: str, params: Mapping[str, Any]) -> str:
    """Why a model that gives everyone the same list (popularity, sequential-popularity: the ``scores``
    family) names no reason: no movie given changes the list, they are only left out of it. ``params``: the
    model's parameters (sequential-popularity's ``half_life_days`` says how recent its list is). One
    sentence for the API's ``becauseNote``, the CLI's note and ``recommend_for``'s warning, in place of
    empty reasons with nothing to say why."""
    if model == "sequential-popularity":  # every rating, each counting 0.5 ** (age / half-life)
        half = float(params.get("half_life_days", 30.0))
        what = f"the movies rated most lately (a rating counts half as much for every {half:g} days before the newest)"
    else:
        what = "the most popular movies in its training data"
    return f"{model} gives everyone the same list, {what}: the movies you rated are left out of it, not reasons for it"


def because_note(model: str, explained: list[list[int]] | list[str], *, shares: bool = False) -> str | None:
    """Why some rows of a rating predictor's list have no ``because`` (:func:`because` with ``shared``),
    said once for the list; ``None`` when every row has one. ``explained``: each row's reasons. One
    wording for the notebook (a warning), the CLI (a note), the API (``becauseNote``) and the web page.
    ``shares``: the reasons were read on each rated neighbour's share of the prediction (the k-NN family,
    ``because(..., terms=)``), not by leaving movies out, and the note says so."""
    empty = sum(1 for r in explained if not r)
    if not empty:
        return None
    if shares:
        why = (
            "no liked movie you rated holds a share of their predicted rating above 1% of the rating scale "
            "(its similarity-weighted part among up to k rated neighbours), or too few of their neighbours "
            "are rated and their baseline predicts them"
        )
        if empty == len(explained):
            return (
                f"no movie on {model}'s list rests on one movie you rated: {why}; the list follows the "
                "movies' baselines and how generously you rate"
            )
        have = "has" if empty == 1 else "have"
        return f"{empty} of the {len(explained)} movies {have} no reason: {why}"
    # a rating model's leave-one-out (svd, baseline, svdpp…): what 'because' means, then why rows have none
    means = (
        f"{model}'s 'because' names a movie you rated if leaving it out lowers a listed movie's predicted "
        "rating clearly more than other movies'"
    )
    overall = "which changes how high you seem to rate overall, not what you like"
    if empty == len(explained):
        return (
            f"no movie on {model}'s list has a 'because' ({means}): leaving out any one of your ratings moves "
            f"every movie's prediction about alike, {overall}"
        )
    have, it, its = ("has", "it", "its") if empty == 1 else ("have", "them", "their")
    return (
        f"{empty} of the {len(explained)} movies {have} no 'because' ({means}): for {it}, leaving out any one "
        f"of your ratings moves {its} prediction about as much as every other movie's, {overall}"
    )


def known_user_refusal(model: str, instead: str) -> str:
    """Why ``model`` cannot explain a known user's list, and ``instead`` what can: the one wording the
    notebook, the artifact, the API and the CLI refuse with."""
    factor = "svd, a factor model," if model == "svd" else "a factor model such as svd"
    return (
        f"explain: {model} cannot say which of a known user's movies a recommendation comes from: it does not "
        f"score a movie by adding up the movies they rated ({factor} learns one taste profile from all their "
        "ratings at once), so no one movie is the reason; use an item-based model (ease, "
        "itemknn, rp3beta, slim) or a k-NN rating model (knn-basic, knn-means, knn-zscore, knn-baseline), "
        f"whose scores do add up the user's movies, or {instead}"
    )
