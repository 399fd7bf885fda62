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
    "LIKED_BY_MOST",
    "MAX_RATED",
    "RATING_TOLERANCE",
    "because",
    "because_note",
    "general_rows",
    "known_because",
    "known_user_refusal",
    "rating_tolerance",
]

#: at most this many liked movies are tried (one fold-in each), the highest-rated first; read on ``terms``
#: (no fold-in) every liked movie is
MAX_RATED = 20

#: a rating predictor's row that is on the list more for what it predicts for anyone than for the movies
#: the person rated (:func:`general_rows`), as the notebook's ``because`` column and the notes say it
LIKED_BY_MOST = "liked by most viewers"

#: a rating predictor's row the model would list for anyone (:func:`general_rows`) names a rated movie only
#: where leaving it out lowers the row at least this many times as much as it lowers the :data:`BEST` movies
#: the person is predicted to rate highest
SPECIFIC = 2.0
BEST = 100

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
    general: list[bool] | None = None,
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

    With ``shared`` (leave-one-out, not ``terms``), a row that is on the list more for what the model
    predicts for anyone than for the person's ratings (:func:`general_rows`) names no movie: svd explained
    Shawshank, Schindler's List and the Godfather "because Toy Story (1995)" for someone who gave Toy Story
    5 and Alien 4, since leaving the 5 out lowers the well-liked movies' predictions most, though they lead
    the list on their item biases. ``general``, where given, gets one bool per target: whether that is why
    its row has none (:data:`LIKED_BY_MOST`, :func:`because_note`'s ``general``).
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
    anyone = np.zeros(len(targets), dtype=bool)
    # whether a movie's drop on a row stands out among the best-predicted movies' (_beyond_shared)
    specific = np.ones((len(liked), len(targets)), dtype=bool)
    if shared is not None and terms is None:
        # the prediction for someone who rated nothing: what the model lists for anyone
        nobody = score_without(np.zeros(len(values), dtype=bool))
        anyone = np.zeros(len(targets), dtype=bool) if nobody is None else general_rows(full, nobody, targets)
    for n, j in enumerate(liked):
        keep = np.arange(len(values)) != j
        if terms is not None:
            contrib[n] = np.asarray(terms, dtype=np.float64)[j]
            continue
        if shared is not None:
            contrib[n], specific[n] = _beyond_shared(full, score_without(keep), targets)
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
        # a row the model would list for anyone keeps only a reason that lifts it well above the best movies
        found = [int(liked[b]) for b in best if contrib[b, c] > tol[c] and (specific[b, c] or not anyone[c])]
        anyone[c] &= not found
        out.append(found)
    if general is not None:
        general.extend(bool(g) for g in anyone)
    return out


def general_rows(full: np.ndarray, nobody: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Which ``targets`` are on a rating predictor's list more for what it predicts for anyone than for the
    person's ratings: ``nobody``, the fold-in of no rating (svd's μ + b_i: how highly viewers rate the movie
    in general), and ``full − nobody``, the part the person's ratings add. A row's lead over the median movie
    splits into the two; where the general part is the larger, the row is :data:`LIKED_BY_MOST`."""
    full = np.asarray(full, dtype=np.float64)
    nobody = np.asarray(nobody, dtype=np.float64)
    ok = np.isfinite(full) & np.isfinite(nobody)
    if not ok.any():
        return np.zeros(len(targets), dtype=bool)
    own = full - nobody
    everyone = nobody[targets] - float(np.median(nobody[ok]))
    theirs = own[targets] - float(np.median(own[ok]))
    return np.asarray(ok[targets] & (everyone > theirs), dtype=bool)


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


def _beyond_shared(
    full: np.ndarray, without: np.ndarray | None, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A rating predictor's contributions to ``targets``: min(drop, drop − median drop over every movie),
    and whether each drop is at least :data:`SPECIFIC` times the median drop over the :data:`BEST` movies
    the person is predicted to rate highest (a movie that lifts every well-liked movie alike, as Toy Story
    at 5 stars lifts Shawshank and the Godfather, is not why one of them is listed; Star Wars IV lifts The
    Empire Strikes Back four times as much as the rest). A movie the fold-in cannot predict (NaN, as
    slope-one's without a co-rated movie) has no drop; no ``without`` at all gives no contribution."""
    if without is None:
        return np.zeros(len(targets)), np.zeros(len(targets), dtype=bool)
    drop = np.asarray(full, dtype=np.float64) - np.asarray(without, dtype=np.float64)
    drop[~np.isfinite(drop)] = 0.0
    rated = np.where(np.isfinite(full), full, -np.inf)
    best = np.argsort(-rated, kind="stable")[:BEST]
    stands_out = drop[targets] > SPECIFIC * max(float(np.median(drop[best])), 0.0)
    return np.minimum(drop[targets], drop[targets] - float(np.median(drop))), stands_out


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


def because_note(
    model: str, explained: list[list[int]] | list[str], *, shares: bool = False, general: int = 0
) -> str | None:
    """Why some rows of a rating predictor's list have no ``because`` (:func:`because` with ``shared``),
    said once for the list; ``None`` when every row has one. ``explained``: each row's reasons. One
    wording for the notebook (a warning), the CLI (a note), the API (``becauseNote``) and the web page.
    ``shares``: the reasons were read on each rated neighbour's share of the prediction (the k-NN family,
    ``because(..., terms=)``), not by leaving movies out, and the note says so. ``general``: how many of
    the rows without one are :data:`LIKED_BY_MOST` (:func:`because`'s ``general``), said first."""
    empty = sum(1 for r in explained if not r) - general
    liked = _liked_by_most_note(model, general, len(explained))
    if not empty:
        return liked
    rest = _unexplained_note(model, explained, empty, shares)
    return rest if liked is None else f"{liked}; {rest}"


def _liked_by_most_note(model: str, general: int, rows: int) -> str | None:
    """``because_note``'s words for the rows that are on the list for how highly viewers rate them."""
    if not general:
        return None
    why = (
        f"more for how highly most viewers rate {{}} ({model}'s prediction for someone who rated nothing) "
        "than for the movies you rated"
    )
    if general == rows:
        return f"every movie on {model}'s list is there {why.format('it')}"
    if general == 1:
        return f"1 of the {rows} movies is on {model}'s list {why.format('it')}: its 'because' names none"
    return f"{general} of the {rows} movies are on {model}'s list {why.format('them')}: their 'because' names none"


def _unexplained_note(model: str, explained: list[list[int]] | list[str], empty: int, shares: bool) -> str:
    """``because_note``'s words for ``empty`` rows that no rated movie explains (and are not liked by most)."""
    if shares:
        # the user's, not "you rated": a known user's list is read by someone else (svd's refusal says "the
        # user's movies"); it was five rows at 80 columns, the parenthesis on what a share is the longest part
        why = (
            "no movie the user liked holds a share over 1% of the rating scale in the predicted rating, or too "
            "few neighbours are rated"
        )
        if empty == len(explained):
            return f"{model}'s list rests on none of the user's movies: {why}; it follows the baseline predictions"
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


#: rating models whose list for given ratings names no reason either: a movie's own score shifted by how
#: high the person rates (baseline, global-mean)
NO_VISITOR_REASONS = ("baseline", "global-mean")


def visitor_reasons(model: str, family: str | None) -> bool:
    """Whether a list for given ratings (``--rated``, ``recommend_for``, POST /recommendations) can name
    reasons for ``model`` of serving ``family``: the fix each door's :func:`known_user_refusal` offers only
    where it works. Popularity's lists ('scores', 'segments': one list for everyone or a segment) and
    :data:`NO_VISITOR_REASONS` name none ("…, or --rated" led to an empty 'because' on every row)."""
    return family not in ("scores", "segments") and model not in NO_VISITOR_REASONS


def known_user_refusal(model: str, instead: str) -> str:
    """Why ``model`` cannot explain a known user's list, then ``instead``, the door's fix (a model that can,
    and the list from given ratings): the one wording the notebook, the artifact, the API and the CLI refuse
    with. One line, short enough for two terminal rows with the CLI's fix; why a factor model's score names
    no one movie, and every model that can, are in docs/serving.md ("A known user's reasons")."""
    return f"explain: {model} cannot say which of the user's movies led to each recommendation; {instead}"
