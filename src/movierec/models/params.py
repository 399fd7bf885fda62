"""Declared hyperparameter constraints, checked when a model is fitted (scikit-learn's ``_parameter_constraints``).

A model lists, per constructor argument, the values it accepts::

    _parameter_constraints = {
        "factors": [Interval(int, 1, None)],
        "learning_rate": [Interval(float, 0, None, closed="neither")],
        "weighting": [Options("binary", "log", "time-decay")],
        "lr_bias": [Interval(float, 0, None, closed="neither"), None],
    }

:meth:`BaseRecommender.fit <movierec.models.base.BaseRecommender.fit>` checks them before
``_fit`` runs, never in ``__init__`` (scikit-learn's rule: constructing a model never fails, so
``set_params`` and configs can build one and change it), and raises one
:class:`~movierec.errors.ConfigError` naming the model, the hyperparameter and what it accepts.
"""

from __future__ import annotations

import math
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, replace
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np

from movierec.errors import ConfigError, is_seed

__all__ = [
    "NON_NEGATIVE",
    "NON_NEGATIVE_INT",
    "POSITIVE",
    "POSITIVE_INT",
    "SHARED_CONSTRAINTS",
    "ActsWhen",
    "Boolean",
    "Constraint",
    "Interval",
    "Options",
    "RandomState",
    "acts_when",
    "idle_params",
    "validate_params",
]


@dataclass(frozen=True)
class Interval:
    """A number in ``[low, high]``; ``closed`` says which ends are included; ``None`` is unbounded.

    ``kind=int`` accepts whole numbers only (bools never count as numbers).
    """

    kind: type
    low: float | None
    high: float | None
    closed: Literal["both", "left", "right", "neither"] = "both"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        if self.kind is int:
            if not isinstance(value, Integral):
                return False
        elif not isinstance(value, Real) or not math.isfinite(float(value)):
            return False
        v = float(value)
        if self.low is not None and (v < self.low or (v == self.low and self.closed in ("right", "neither"))):
            return False
        return not (
            self.high is not None
            and (v > self.high or (v == self.high and self.closed in ("left", "neither")))
        )

    def describe(self) -> str:
        what = "a whole number" if self.kind is int else "a number"
        lo_op = "≥" if self.closed in ("both", "left") else ">"
        hi_op = "≤" if self.closed in ("both", "right") else "<"
        if self.low is not None and self.high is not None:
            lo_b = "[" if lo_op == "≥" else "("
            hi_b = "]" if hi_op == "≤" else ")"
            return f"{what} in {lo_b}{self.low:g}, {self.high:g}{hi_b}"
        if self.low is not None:
            return f"{what} {lo_op} {self.low:g}"
        if self.high is not None:
            return f"{what} {hi_op} {self.high:g}"
        return what


@dataclass(frozen=True, init=False)
class Options:
    """One of a fixed set of values (strings compared case-sensitively, as the code reads them)."""

    values: tuple[Any, ...]
    because: str = ""  # why the set is narrower than the name's usual one, said in the error

    def __init__(self, *values: Any, because: str = "") -> None:
        object.__setattr__(self, "values", tuple(values))
        object.__setattr__(self, "because", because)

    def accepts(self, value: Any) -> bool:
        try:
            return value in self.values
        except TypeError:
            return False

    def describe(self) -> str:
        what = (
            repr(self.values[0]) if len(self.values) == 1 else "one of " + ", ".join(map(repr, self.values))
        )
        return f"{what} ({self.because})" if self.because else what


@dataclass(frozen=True)
class Boolean:
    """``True`` or ``False`` (numpy bools too)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    def describe(self) -> str:
        return "true or false"


@dataclass(frozen=True)
class RandomState:
    """An int seed, a numpy ``Generator`` or ``None`` (scikit-learn's ``random_state`` convention)."""

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        if isinstance(value, Integral):
            return is_seed(value)
        return value is None or isinstance(value, (np.random.Generator, np.random.RandomState))

    def describe(self) -> str:
        return "an int seed in 0 … 2**32 - 1, a numpy Generator or None"


Constraint = Interval | Options | Boolean | RandomState | None
"""One accepted shape of value; ``None`` in a constraint list means ``None`` itself is accepted."""


POSITIVE_INT = Interval(int, 1, None)
NON_NEGATIVE_INT = Interval(int, 0, None)
POSITIVE = Interval(float, 0, None, closed="neither")
NON_NEGATIVE = Interval(float, 0, None)


#: One meaning per hyperparameter name across models (issue 17): a model that takes a parameter of
#: one of these names accepts what is listed here unless its own ``_parameter_constraints`` says
#: otherwise (a model whose meaning differs declares its own, e.g. ``epochs=None`` in ``baseline``).
#: Names whose meaning varies between models (``num_threads``: 0 = "all free cores" in ``als``) are
#: left to each model.
@dataclass(frozen=True)
class ActsWhen:
    """A hyperparameter that changes the model only while another one, its ``switch``, has one of
    ``values`` (none given: while the switch is truthy, a window above 0). Surprise's k-NN shrinks only the
    ``pearson_baseline`` similarity; a recency half-life acts only under recency weighting. A class declares
    these in ``acts_when``; :func:`idle_params` names the ones a person set that change nothing, ``tune``
    does not search them, and ``movierec models`` marks them. A switch left at ``None`` reads as the class's
    ``default_<switch>`` when it has one (k-NN's ``default_similarity``).

    Conditions that must all hold join with ``&``: knn-basic's ``reg_i`` sets the ALS baselines only its
    ``pearson_baseline`` similarity reads, so it acts only with ``ActsWhen("similarity",
    ("pearson_baseline",)) & ActsWhen("bsl_method", ("als",))``. The result is one ``ActsWhen`` whose
    ``switch``/``values`` are the first condition's and whose ``also`` holds the others; read
    :attr:`conditions` for all of them."""

    switch: str
    values: tuple[Any, ...] = ()
    elsewhere: str = ""  # set: the parameter acts in other models only ("the WARP losses"), never here
    also: tuple[ActsWhen, ...] = ()  # further conditions that must hold too (``a & b``), each a single one

    @classmethod
    def never(cls, where: str) -> ActsWhen:
        """A parameter a model family shares that this model never reads (BPR's ``max_sampled``)."""
        return cls("", (), where)

    def __and__(self, other: ActsWhen) -> ActsWhen:
        """Both conditions must hold (in this order: the first one's switch is named first)."""
        if self.elsewhere or other.elsewhere:
            raise ValueError("ActsWhen.never(...) acts nowhere here; it does not join other conditions")
        first, *rest = (*self.conditions, *other.conditions)
        return replace(first, also=tuple(rest))

    @property
    def conditions(self) -> tuple[ActsWhen, ...]:
        """Every single condition that must hold, the first one's own first."""
        return (replace(self, also=()), *self.also) if self.also else (self,)

    def holds(self, cls: type, params: Mapping[str, Any]) -> bool:
        if self.elsewhere:
            return False
        return all(c._holds_alone(cls, params) for c in self.conditions)

    def _holds_alone(self, cls: type, params: Mapping[str, Any]) -> bool:
        value = self.current(cls, params)
        return bool(value) if not self.values else value in self.values

    def current(self, cls: type, params: Mapping[str, Any]) -> Any:
        """The value of the (first condition's) switch under ``params``."""
        value = params.get(self.switch)
        return getattr(cls, f"default_{self.switch}", None) if value is None else value

    def failing(self, cls: type, params: Mapping[str, Any]) -> tuple[ActsWhen, ...]:
        """The single conditions that do not hold under ``params`` (all of them for :meth:`never`)."""
        return tuple(c for c in self.conditions if self.elsewhere or not c._holds_alone(cls, params))

    def left_off(self, cls: type, params: Mapping[str, Any], searched: Container[str]) -> bool:
        """Whether a study whose search space is ``searched`` never makes this act: some condition's switch
        is not searched and ``params`` (fixed parameters over the defaults) leave it off."""
        return any(c.switch not in searched for c in self.failing(cls, params))

    def here(self, cls: type, params: Mapping[str, Any]) -> str:
        """What the failing switches are under ``params``, for the idle note: ``'msd'`` for one condition,
        ``similarity 'msd', bsl_method 'sgd'`` (the failing ones, named) for several."""
        if self.elsewhere:
            return ""
        if not self.also:
            return repr(self.current(cls, params))
        return ", ".join(f"{c.switch} {c.current(cls, params)!r}" for c in self.failing(cls, params))

    def describe(self) -> str:
        if self.elsewhere:
            return self.elsewhere
        return " and ".join(c._describe_alone() for c in self.conditions)

    def _describe_alone(self) -> str:
        if not self.values:
            return f"{self.switch} > 0"
        return f"{self.switch} " + " or ".join(repr(v) for v in self.values)


def acts_when(cls: type) -> dict[str, ActsWhen]:
    """Every ``acts_when`` a class and its bases declare (nearest class last, as constraints)."""
    out: dict[str, ActsWhen] = {}
    for klass in reversed(cls.__mro__):
        out.update(klass.__dict__.get("acts_when", {}))
    return out


def single_values(cls: type) -> dict[str, tuple[Any, str]]:
    """The hyperparameters a model accepts one value of (a shared name narrowed, as ials's weighting):
    that value and why."""
    getter = getattr(cls, "parameter_constraints", None)
    constraints: dict[str, list[Constraint]] = getter() if getter is not None else {}
    return {
        key: (c.values[0], c.because)
        for key, allowed in constraints.items()
        for c in allowed
        if isinstance(c, Options) and len(c.values) == 1
    }


def never_acts(cls: type) -> dict[str, str]:
    """The idle-unless hyperparameters one of whose switches takes one value here, not theirs, so they never
    act, each with why: ``{"half_life_days": "weighting takes only 'binary'"}`` for ials."""
    single = single_values(cls)
    out: dict[str, str] = {}
    for key, cond in acts_when(cls).items():
        for c in cond.conditions:
            if c.values and c.switch in single and single[c.switch][0] not in c.values:
                out[key] = f"{c.switch} takes only {single[c.switch][0]!r}"
                break
    return out


def idle_params(cls: type, given: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, str]:
    """Of the ``given`` hyperparameters, those that change nothing under ``params`` (the model's full
    parameters), each with why: ``{"shrinkage": "acts only with similarity 'pearson_baseline' (here 'msd')"}``;
    under several conditions the note names the switches that are off: ``"acts only with similarity
    'pearson_baseline' and bsl_method 'sgd' (here bsl_method 'als')"``."""
    out, never = {}, never_acts(cls)
    for key, cond in acts_when(cls).items():
        if key in given and not cond.holds(cls, params):
            here = "" if cond.elsewhere else f" (here {cond.here(cls, params)})"
            here = f", and {never[key]} here" if key in never else here
            out[key] = f"acts only with {cond.describe()}{here}"
    return out


SHARED_CONSTRAINTS: dict[str, list[Constraint]] = {
    # the factor-model group
    "factors": [POSITIVE_INT],
    "epochs": [POSITIVE_INT],
    "learning_rate": [POSITIVE],
    "regularization": [NON_NEGATIVE],
    "random_state": [RandomState()],
    # the torch-trainer group (VAEs, SASRec, GRU4Rec, BiVAE)
    "batch_size": [POSITIVE_INT],
    "n_threads": [POSITIVE_INT],
    "dropout": [Interval(float, 0, 1, closed="left")],
    "hidden": [POSITIVE_INT],
    "latent": [POSITIVE_INT],
    "max_len": [POSITIVE_INT],
    "patience": [NON_NEGATIVE_INT],
    "n_negatives": [NON_NEGATIVE_INT],
    "time_budget": [POSITIVE, None],
    # initialisation; recency decay (weighting="recency", sequential popularity); the guard on dense
    # items × items matrices (ease, slim, rp3beta, slope-one)
    "init_std": [NON_NEGATIVE],
    "half_life_days": [POSITIVE],
    "max_items": [POSITIVE_INT],
}


def validate_params(
    owner: str,
    params: Mapping[str, Any],
    constraints: Mapping[str, Sequence[Constraint]],
    spellings: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Raise a ConfigError for the first parameter that matches none of its declared constraints.

    ``spellings`` (canonical name → the other names that set it: aliases, compound names such as
    Surprise's ``lr_all``) are named in the message too, so a config that says ``n_factors = 0`` reads
    ``factors (n_factors) must be …``.
    """
    for key, allowed in constraints.items():
        if key not in params:
            continue
        value = params[key]
        if any((c is None and value is None) or (c is not None and c.accepts(value)) for c in allowed):
            continue
        shapes = [c.describe() if c is not None else "None" for c in allowed]
        also = list((spellings or {}).get(key, ()))
        label = f"{key} ({', '.join(also)})" if also else key
        raise ConfigError(f"{owner}: {label} must be {' or '.join(shapes)}, got {value!r}")
