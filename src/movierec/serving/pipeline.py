"""Train a model and export it for serving: the pipeline behind ``movierec export``, callable from Python.

The steps: check the request before any data is read (a writable ``out``, a model with a serving
form), load the data (feedback merged in when asked), fit on the model's training view (the
positives for an implicit model) with its side features, measure the hold-out figures with the
same split and :func:`~movierec.evaluation.holdout_figures` as ``compare`` (so the manifest's
figures equal ``compare``'s row), rank the model against popularity on a hold-out
(:mod:`movierec.serving.quality`: a ranking model weaker than popularity is refused unless
``allow_weak``), and write the artifact (:func:`~movierec.serving.artifact.export_artifact`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from movierec.errors import Doors
from movierec.interactions import Interactions, rating_model_without_ratings, resolve_threshold
from movierec.output_folders import OUT, check_artifact_target

__all__ = ["ExportResult", "train_and_export"]

Say = Callable[[str, str], None]
"""Receives ``(kind, text)``: ``kind`` is ``"note"``, ``"warning"`` or ``"status"`` (a long step starts)."""


@dataclass
class ExportResult:
    """What :func:`train_and_export` wrote: the artifact folder, its manifest and the hold-out figures."""

    path: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)


def _quiet(kind: str, text: str) -> None:
    """The default ``say``: nothing is printed."""


def train_and_export(
    dataset: Any,
    model: str,
    params: dict[str, Any],
    out: str | Path,
    *,
    force: bool = False,
    holdout: bool = False,
    test_size: float = 0.2,
    item_features: str | None = None,
    user_features: str | None = None,
    implicit_threshold: float | None = None,
    with_feedback: str | None = None,
    check: bool = True,
    allow_weak: bool = False,
    min_support: int | None = None,
    seed: int = 42,
    say: Say = _quiet,
    status: Callable[[str], Any] | None = None,
) -> ExportResult:
    """Train ``model`` with ``params`` on ``dataset`` (a Dataset, or a callable that loads one, called
    after the request is checked) and export it into ``out``; ``holdout`` trains on the
    ``1 - test_size`` split (``test_size`` a fraction, or an int number of ratings) and records its
    figures. ``say`` receives notes and warnings for people; ``status(text)`` is a context manager shown while a long step runs (a spinner in the CLI).
    ``implicit_threshold``: 4 by default; on data without ratings its one value, every row a positive
    (:func:`movierec.interactions.resolve_threshold`); a rating model asked for on such data gets a warning.
    """
    from movierec.models.base import default_threshold_note, seeded, training_view
    from movierec.models.registry import create
    from movierec.models.training import epoch_progress
    from movierec.progress import budget_words, name_step
    from movierec.scoring.table import check_table_before_training
    from movierec.serving.artifact import export_artifact, exportable
    from movierec.split import held_out_words

    status = status or (lambda _text: contextlib.nullcontext())
    out = Path(out)
    check_artifact_target(out, force, OUT)  # before training: unwritable or foreign --out is one line, exit 2
    exportable(create(model, **params))  # a model with no serving form is refused before any training
    ds = _load(dataset, with_feedback, say)
    mdl = seeded(create(model, **params), seed, params)
    given, implicit_threshold = implicit_threshold, resolve_threshold(ds.interactions, implicit_threshold)
    if ds.interactions.interactions_only and getattr(mdl, "kind", "") == "explicit":
        say("warning", rating_model_without_ratings(str(model), ds.interactions))
    inter = training_view(mdl, ds.interactions, implicit_threshold)
    scale = default_threshold_note(mdl, str(model), ds.interactions) if given is None else None
    if scale is not None:  # a 4 of 10 counted as liked (94% of a 1-10 file's ratings), as recommend notes
        say("note", scale)
    if holdout:  # compare's split of the raw ratings, so the manifest's figures equal compare's row
        from movierec.evaluation import make_split

        raw_train, test, _ = make_split(ds.interactions, "ratings-holdout", seed=seed, test_size=test_size)
        train = training_view(mdl, raw_train, implicit_threshold)
    else:
        raw_train, train, test = inter, inter, None
    # trained on the split: its item features leave out the tags on the held-out pairs, as compare's do
    fit_kwargs = _side_features(mdl, model, ds, inter, item_features, user_features, say, held_out=test)
    _warn_if_too_little(model, train, say)
    check_table_before_training(mdl, train)
    # what the count counts: 'training ease on 48,580 interactions' read as half of the 100,836 ratings lost
    training = f"training {model} on {train.n_ratings:,} {_counted(mdl, ds.interactions, implicit_threshold)}"
    training += budget_words(mdl)
    with status(training) as step:  # each epoch beside it (sasrec's three minutes said nothing more)
        name_step(step, f"training {model}")  # a log's later lines: its first said the rest
        mdl.fit(train, **fit_kwargs, **epoch_progress(step, mdl, training))
    from movierec.stopping import time_budget_note

    if (stopped := time_budget_note(mdl, str(model))) is not None:  # the artifact serves an unconverged fit
        say("note", stopped)
    metrics = None
    if test is not None:
        from movierec.evaluation import holdout_figures

        metrics = holdout_figures(mdl, raw_train, test, threshold=implicit_threshold, seed=seed)
    features = item_features if "item_features" in fit_kwargs else None  # names, for the check's own
    metrics, check_notes = _top_n_check(
        mdl, ds, fit_kwargs, metrics, check=check, allow_weak=allow_weak, threshold=implicit_threshold,
        seed=seed, test_size=test_size, say=say, status=status, item_features=features,
    )  # fmt: skip
    trained_on = (
        f"{held_out_words(test_size, rest=True)} (the rest held out)" if holdout else "the full dataset"
    )
    notes = [f"trained on {trained_on}"]
    if features:
        from movierec.evaluation import held_out_tags_note

        notes.append(f"item features: {item_features}")
        said = held_out_tags_note(int(getattr(fit_kwargs["item_features"], "held_out_tags", 0)))
        notes.extend([said] if said else [])  # export --holdout: compare's words for the same split
    notes.extend(check_notes)
    if "user_features" in fit_kwargs:
        notes.append(f"user features: {user_features}")
    path = export_artifact(
        mdl, ds, train, out, metrics=metrics, force=force, implicit_threshold=implicit_threshold, notes=notes,
        min_support=min_support,
    )  # fmt: skip
    import json

    manifest = json.loads((path / "manifest.json").read_text())
    return ExportResult(path=path, manifest=manifest, metrics=metrics, notes=notes)


def _load(dataset: Any, with_feedback: str | None, say: Say) -> Any:
    """The dataset (loaded now when given as a loader), with a feedback database's ratings merged in."""
    ds = dataset() if callable(dataset) else dataset
    return with_feedback_merged(ds, with_feedback, say) if with_feedback else ds


def with_feedback_merged(ds: Any, with_feedback: str, say: Say, option: str | None = None) -> Any:
    """``ds`` with the feedback database ``with_feedback``'s ratings merged in, each note the merge adds said;
    ``option``: how the caller spells the setting in messages (``"--with-feedback"`` from the CLI, whose
    export loads through here; both spellings by default, :func:`~movierec.serving.store.merge_feedback`)."""
    from movierec.serving.store import WITH_FEEDBACK, merge_feedback

    n_notes = len(ds.notes)
    ds = merge_feedback(ds, with_feedback, option or WITH_FEEDBACK)
    for note in ds.notes[n_notes:]:
        say("note", note)
    return ds


def _side_features(
    mdl: Any,
    model: str,
    ds: Any,
    inter: Any,
    item_features: str | None,
    user_features: str | None,
    say: Say,
    held_out: Any = None,
) -> dict[str, Any]:
    """``fit`` keyword arguments for item features (without the tags on ``held_out``'s pairs: the hold-out
    of ``export --holdout``; ``None``, a fit on all the data, keeps every tag) and (for a model that uses
    them) user features."""
    from movierec.models.base import uses_item_features

    fit_kwargs: dict[str, Any] = {}
    if item_features and not uses_item_features(mdl):
        say("note", f"{model} ignores item features")
    elif item_features:
        from movierec.features import build_item_features

        fit_kwargs["item_features"] = build_item_features(
            ds, inter.item_map, item_features, held_out=held_out
        )
    if user_features:  # issue 20: the exported artifact then serves visitors by their features
        from movierec.demographics import build_user_features

        if getattr(mdl, "uses_user_features", False):
            fit_kwargs["user_features"] = build_user_features(ds, inter.user_map, user_features)
        else:
            say("note", f"{model} ignores user features")
    return fit_kwargs


def _top_n_check(
    mdl: Any,
    ds: Any,
    fit_kwargs: dict[str, Any],
    metrics: dict[str, Any] | None,
    *,
    check: bool,
    allow_weak: bool,
    threshold: float,
    seed: int,
    test_size: float,
    say: Say,
    status: Callable[[str], Any],
    item_features: str | None = None,
) -> tuple[dict[str, Any] | None, list[str]]:
    """The hold-out check (movierec.serving.quality): figures for the manifest, a refusal or a warning, and
    the manifest's notes on it. ``item_features`` (names): the check's copy gets them built for its own
    training part, without the tags on its test pairs (``fit_kwargs``' keep every tag: the export's fit)."""
    from movierec.evaluation import held_out_tags_note
    from movierec.serving.quality import (
        WeakModelError,
        check_split,
        ranking_check,
        weak_message,
        weak_refusal,
    )

    if not check:
        return metrics, []
    from movierec.models.training import epoch_progress
    from movierec.progress import budget_words, name_step

    # a second fit of the model: as long again for one trained to a time budget. A sequence model is checked on
    # what it predicts, each user's next movie (quality.check_split), not on a random ratings hold-out
    on = {"leave-last-out": "leave-last-out (each user's latest rating)"}.get(
        check_split(mdl, figures=metrics), "a hold-out split"
    )
    checking = f"checking {mdl.name}'s top-N against popularity on {on}{budget_words(mdl)}"
    with status(checking) as step:  # the second fit's epochs beside it, as the first's
        name_step(step, f"checking {mdl.name}")
        fitting = {**fit_kwargs, **epoch_progress(step, mdl, checking)}
        result = ranking_check(
            mdl, ds, fitting, threshold=threshold, seed=seed, test_size=test_size, figures=metrics,
            item_features=item_features,
        )  # fmt: skip
    if "skipped" in result:
        say("note", f"hold-out check skipped: {result['skipped']}")
        return metrics, []
    out = dict(result["figures"])
    out["popularity"] = {k: v for k, v in result["popularity_figures"].items() if isinstance(v, float)}
    out["weak_for_top_n"] = result["weak"]
    said = held_out_tags_note(int(result.get("held_out_tags", 0)), lead="hold-out check")
    notes = [said] if said else []
    if not result["weak"]:
        return out, notes
    line = weak_message(mdl.name, result)
    if not mdl.tags.predicts_ratings and not allow_weak:
        python, cli = (weak_refusal(mdl.name, result, allow) for allow in ("allow_weak=True", "--allow-weak"))
        raise WeakModelError(Doors(python, cli))
    say("warning", line)
    return out, [f"weak for top-N: {line}", *notes]


def _warn_if_too_little(model: str, train: Any, say: Say) -> None:
    """One warning when the training data is too small for a model to mean anything."""
    if train.n_ratings < 100 or train.n_users < 2 or train.n_items < 2:
        say(
            "warning",
            f"training {model} on only {train.n_ratings} interactions "
            f"({train.n_users} users × {train.n_items} items): too little data for the model to learn "
            "anything beyond averages",
        )


def _counted(model: object, interactions: Interactions, threshold: float) -> str:
    """What the training count counts, in the words of the lists' columns (:func:`movierec.display.counted`):
    ``ratings of 4+`` for a model that learns from the positives (ease's 48,580 of ml-latest-small's 100,836
    ratings), ``ratings`` for a rating or sequence model, which reads every one, ``interactions`` for data
    without ratings. The artifact it exports says the same (:attr:`Artifact.counted`)."""
    from movierec.display import counted
    from movierec.models.base import learns_from_positives

    liked_from = threshold if learns_from_positives(model) else None
    return counted(liked_from, interactions.interactions_only)
