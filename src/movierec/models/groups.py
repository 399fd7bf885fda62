"""Hyperparameter groups that several models share, each hyperparameter declared once (issue 17).

A group is a base class that declares hyperparameters with their types and a default; what they
accept is :data:`movierec.models.params.SHARED_CONSTRAINTS` (one meaning per name). A model joins a
group by inheriting it and gives its own default by plain assignment in its body::

    class IALS(FactorParams, FactorRecommender, WeightedRecommender):
        factors = 128          # the group's declaration, this model's default
        alpha0: float = 0.1    # a hyperparameter of this model only

A group's hyperparameters are keyword-only and come after the model's own in its constructor (as
:class:`~movierec.models.weighting.WeightedRecommender`'s), so a positional argument always means
one of the model's own hyperparameters.
"""

from __future__ import annotations

from dataclasses import KW_ONLY
from typing import ClassVar

from movierec.models.base import TORCH_INSTALL, BaseRecommender

__all__ = ["FactorParams", "SGDFactorParams", "SeededParams", "TorchTrainerParams"]


class SeededParams(BaseRecommender):
    """``random_state``: an int seed (the default, 42, so a run is reproducible), a Generator or None."""

    _: KW_ONLY
    random_state: int | None = 42


class FactorParams(SeededParams):
    """The factor-model group: ``factors`` latent dimensions and ``epochs`` passes over the data
    (sweeps, iterations); the reference libraries' ``n_factors``/``no_components``/``k`` and
    ``n_epochs``/``iterations``/``max_iter`` are accepted as aliases. ``regularization`` (λ), where a
    model has one, keeps the shared meaning of its name (``SHARED_CONSTRAINTS``) but is the model's
    own declaration: not every factor model has it (NMF's λ is per side, Bayesian FM learns it)."""

    _: KW_ONLY
    factors: int = 64
    epochs: int = 15


class SGDFactorParams(FactorParams):
    """A factor model trained by a reference library's SGD (implicit's and Cornac's BPR): step
    ``learning_rate``, ``regularization`` λ on the factors, ``num_threads`` Hogwild threads (1 by
    default: with more, the updates race and a seed no longer gives the same model)."""

    _: KW_ONLY
    learning_rate: float = 0.01
    regularization: float = 0.01
    num_threads: int = 1


class TorchTrainerParams(SeededParams):
    """The torch-trainer group: ``epochs`` over the data in mini-batches of ``batch_size`` (users,
    windows or sessions), Adam at ``learning_rate``; ``n_threads`` torch intra-op threads (1 by
    default: torch's threads spin-wait, and on a shared machine two made a tiny fit 25× slower)."""

    requires: ClassVar[dict[str, str]] = {"torch": TORCH_INSTALL}

    _: KW_ONLY
    epochs: int = 100
    batch_size: int = 500
    learning_rate: float = 1e-3
    n_threads: int = 1
