"""Serving families: the numpy scoring each family of models shares with its exported artifact.

A *family* is how a fitted model turns a user (or a visitor's few ratings) into scores over the
catalogue: ``factors`` (u·v + biases; SVD, SVD++, baseline, ALS, BPR/WARP, SASRec's known users),
``neighbours`` (item × item lists; ItemKNN), ``knn`` (Surprise's kNN rules), ``linear`` (EASE's
dense item × item B), ``user-linear`` (user-based EASE's users × users B, an exact visitor fold-in), ``markov`` (transition counts), ``scores`` (one score per item; popularity),
``sasrec`` (factors plus the network for visitors), ``vae`` (a user's item row through Mult-VAE's or
RecVAE's encoder and decoder, in numpy), ``segments`` (one popularity list per user
segment, picked by a visitor's features; segment-popularity) and ``blend`` (several explicit families
combined by ridge weights), ``ensemble`` (several implicit families summed with weights after a per-user
normalisation). Each module offers ``export(model, train, threshold)`` → ``(arrays,
spec)`` and a ``Scorer`` over those arrays; the model's own ``score_new_user`` and the artifact
call the same ``Scorer``, so the Python API and ``POST /recommendations`` cannot disagree
(implicit's ``recalculate_user`` idea: the model is the serving object).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError
from movierec.scoring.base import Scorer

__all__ = ["FAMILIES", "Scorer", "export_family", "family_of", "make_scorer", "visitor_scorer"]

#: family name → module under movierec.scoring
FAMILIES: dict[str, str] = {
    "factors": "factors",
    "sasrec": "sasrec",
    "neighbours": "neighbours",
    "knn": "knn",
    "linear": "linear",
    "user-linear": "user_linear",
    "markov": "markov",
    "scores": "scores",
    "blend": "blend",
    "ensemble": "ensemble",
    "segments": "segments",
    "table": "table",
    "vae": "vae",
}


def family_of(model: Any) -> str:
    """The serving family of a fitted model, read from what it learned (duck-typed, so outside
    models such as Spark's ALS export too)."""
    if getattr(model, "user_based", False) is True:  # user-based k-NN: no item neighbours to serve from
        return "table"
    declared = getattr(getattr(model, "tags", None), "serving", None)
    if declared in FAMILIES:
        return str(declared)
    name = getattr(model, "name", None)
    if name in ("markov", "blend"):
        return str(name)
    if name in ("sasrec", "gru4rec"):  # network sequence models share one family
        return "sasrec"
    if getattr(model, "weights_", None) is not None and getattr(model, "active_items_", None) is not None:
        return "linear"
    if getattr(model, "neighbours_", None) is not None:
        return "knn" if hasattr(model, "x_offset_") else "neighbours"
    if getattr(model, "item_factors_", None) is not None or getattr(model, "item_bias_", None) is not None:
        return "factors"
    return "scores"


def _module(family: str) -> Any:
    if family not in FAMILIES:
        raise ConfigError(f"unknown serving family {family!r}; known: {', '.join(FAMILIES)}")
    return importlib.import_module(f"movierec.scoring.{FAMILIES[family]}")


def export_family(
    model: Any, n_users: int, n_items: int, threshold: float = 4.0
) -> tuple[str, dict[str, np.ndarray], dict[str, Any]]:
    """``(family, arrays, spec)``: the model's serving representation (plain arrays) and how it folds a visitor in."""
    family = family_of(model)
    arrays, spec = _module(family).export(model, n_users, n_items, threshold)
    return family, arrays, spec


def visitor_scorer(model: Any, seen: sp.csr_matrix) -> Scorer:
    """A table model's scorer for people not in training only: its visitor rule's arrays, without the
    table of every training user's scores (seconds and MBs to build, and no use to a visitor). Its
    ``folds_in`` is False for a model without a rule."""
    arrays, spec = _module("table").visitor_part(model)
    return make_scorer("table", arrays, seen, spec)


def make_scorer(
    family: str, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]
) -> Scorer:
    """The family's scorer over exported arrays; ``seen`` is the training users × items matrix (ratings)."""
    return _module(family).Scorer(arrays, seen, spec)
