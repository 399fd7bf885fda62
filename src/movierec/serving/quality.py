"""Is a model's top-N better than the most-rated movies? The hold-out check ``movierec export`` runs.

A rating predictor tuned for RMSE can rank obscure movies first (issue 15: RMSE 0.881 → 0.858,
NDCG@10 0.048 → 0.001), and nothing in an artifact said so. Before exporting, a fresh copy of the
model (same hyperparameters, same seed) and :class:`~movierec.models.popularity.Popularity` are fitted
on compare's ratings hold-out split and ranked by :func:`movierec.evaluation.holdout_figures`, the
one evaluation path; the manifest records both. A sequence model (markov, sasrec, gru4rec, what
comes next) is checked on compare's leave-last-out split instead, popularity fitted on every rating
as compare fits it there: on a random hold-out markov read NDCG@10 0.066 against popularity's 0.165
and was refused, where it predicts each user's next movie better (0.047 against 0.019). A model
whose NDCG@10 falls below popularity's is *weak for top-N*: ``export`` refuses a ranking model then
(``--allow-weak`` overrides) and flags a rating predictor (it may be exported for its ratings) with a
warning and ``weak_for_top_n``.
"""

from __future__ import annotations

from typing import Any

from movierec.errors import ConfigError, MovierecError

__all__ = ["CHECK_METRIC", "WeakModelError", "ranking_check", "weak_message", "weak_refusal"]

CHECK_METRIC = "ndcg@10"


class WeakModelError(ConfigError):
    """A model's hold-out top-N falls below popularity's and the export was not told to allow it."""


def check_split(model: Any, split: object = None, figures: object = None) -> str:
    """The split :func:`ranking_check` judges ``model`` on: ``"leave-last-out"`` for a sequence model (judged
    on what it predicts, each user's next movie: compare's protocol for them) when neither a split nor hold-out
    figures are given, else ``"ratings-holdout"``. Export's status line names it from here."""
    from movierec.models.base import tags_of

    if split is None and figures is None and tags_of(model).trains_on == "sequences":
        return "leave-last-out"
    return "ratings-holdout"


def ranking_check(
    model: Any,
    dataset: Any,
    fit_kwargs: dict[str, Any] | None = None,
    *,
    threshold: float = 4.0,
    seed: int = 42,
    test_size: float = 0.2,
    figures: dict[str, Any] | None = None,
    split: tuple[Any, Any] | None = None,
    split_name: str | None = None,
    item_features: str | None = None,
) -> dict[str, Any]:
    """Hold-out figures of ``model`` (a fresh copy, unless ``figures`` already holds them) and of popularity.

    On ``dataset``'s seeded ratings hold-out, or on ``split`` (``(train, test)`` of its interactions) when
    given: the split read from files that ``tune --train --test`` tuned on, or ``tune --split``'s canonical
    one, which ``split_name`` names in the figures (they said "ratings-holdout" for any given split). ``item_features`` (names,
    ``"genres,tags"``): the copy's, built here without the tags on the hold-out's test pairs (a user's tag on
    a movie tells the model that pair, :func:`movierec.features.build_item_features`); they replace
    ``fit_kwargs``' own, built for a fit on all the data.

    Returns ``{"metric", "model", "popularity", "weak", "figures", "popularity_figures"}`` (with
    ``item_features``, ``"held_out_tags"`` too: the tag rows left out), or ``{"skipped": reason}`` when the
    data cannot be split.
    """
    from movierec.evaluation import holdout_figures, make_split
    from movierec.models.base import training_view
    from movierec.models.popularity import Popularity

    name = check_split(model, split, figures)
    last_out = name == "leave-last-out"
    label = split_name if split is not None and split_name else name
    held_out_tags: dict[str, int] = {}
    try:
        raw_train, test = (
            split
            if split is not None
            else make_split(dataset.interactions, name, seed=seed, test_size=test_size)[:2]
        )
        if figures is None:
            twin = type(model)(**model.get_params())
            fit_kwargs = dict(fit_kwargs or {})
            if item_features:
                from movierec.features import build_item_features

                built = build_item_features(dataset, raw_train.item_map, item_features, held_out=test)
                fit_kwargs["item_features"], held_out_tags["held_out_tags"] = built, built.held_out_tags
            twin.fit(training_view(twin, raw_train, threshold), **fit_kwargs)
            figures = holdout_figures(twin, raw_train, test, threshold=threshold, seed=seed, split=label)
        pop = Popularity()  # under leave-last-out every rating is an event, as compare fits it there
        pop.fit(raw_train if last_out else training_view(pop, raw_train, threshold))
        base = holdout_figures(pop, raw_train, test, threshold=threshold, seed=seed, split=label)
    except MovierecError as exc:
        return {"skipped": str(exc)}
    mine, theirs = figures.get(CHECK_METRIC), base.get(CHECK_METRIC)
    if mine is None or theirs is None:
        return {"skipped": "no positive rating in the hold-out split", "figures": figures}
    return {
        "metric": CHECK_METRIC,
        "model": float(mine),
        "popularity": float(theirs),
        "weak": bool(mine < theirs),
        "figures": figures,
        "popularity_figures": base,
        **held_out_tags,
    }


def weak_message(name: str, check: dict[str, Any], *, why: bool = True) -> str:
    """One line saying how far below popularity the model ranks; ``why``: and what that means for its lists
    (the warning's and the manifest's words; export's refusal leaves it out, see :func:`weak_refusal`)."""
    last_out = check.get("figures", {}).get("split") == "leave-last-out"
    said = (
        f"{name} ranks below popularity on the {'leave-last-out' if last_out else 'hold-out'} split "
        f"({check['metric']} {check['model']:.3f} vs {check['popularity']:.3f})"
    )
    return (
        f"{said}: its top-N lists would be worse than the most popular movies (most liked)" if why else said
    )


def weak_refusal(name: str, check: dict[str, Any], allow: str) -> str:
    """export's refusal of a ranking model below popularity, naming the door's override ``allow``
    (``--allow-weak``, ``allow_weak=True``): 'bpr ranks below popularity on the hold-out split (ndcg@10
    0.120 vs 0.165): not exported; --allow-weak exports it anyway'. With the warning's 'its top-N lists
    would be worse than …' it was 220 columns in the CLI, three rows of a terminal for its one line; now 160
    at most (sequential-popularity, the longest name of a ranking model, on leave-last-out)."""
    return f"{weak_message(name, check, why=False)}: not exported; {allow} exports it anyway"
