"""Hyperparameter search-space declarations that models carry as their ``search_space`` class attribute.

Plain frozen dataclasses (no Optuna import: ``movierec tune`` turns them into ``trial.suggest_*``
calls), so every model module can declare its ranges next to its defaults. Ranges come from the
literature: Koren 2008/2009 and Surprise's grid-search docs (factors, lr, reg, epochs), Sarwar et
al. 2001 / Koren 2010 (neighbourhood size, shrinkage), Steck 2019 (EASE λ), Hu, Koren & Volinsky
2008 (ALS α), Rendle et al. 2009 (BPR), Weston et al. 2011 (WARP) and LightFM's docs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["EPOCHS", "FACTORS", "LR", "REG", "Choice", "FloatRange", "IntRange", "Param", "SearchSpace"]


@dataclass(frozen=True)
class FloatRange:
    """A real hyperparameter drawn from ``[low, high]`` (log-uniform when ``log``)."""

    low: float
    high: float
    log: bool = False

    def suggest(self, trial: Any, name: str) -> float:
        return float(trial.suggest_float(name, self.low, self.high, log=self.log))

    def describe(self) -> str:
        return f"{self.low:g}–{self.high:g}{' log' if self.log else ''}"


@dataclass(frozen=True)
class IntRange:
    """A whole-number hyperparameter drawn from ``[low, high]`` (log-uniform when ``log``)."""

    low: int
    high: int
    log: bool = False
    step: int = 1

    def suggest(self, trial: Any, name: str) -> int:
        return int(trial.suggest_int(name, self.low, self.high, log=self.log, step=self.step))

    def describe(self) -> str:
        return f"{self.low}–{self.high}{' log' if self.log else ''}"


@dataclass(frozen=True)
class Choice:
    """A categorical hyperparameter (e.g. a loss or a similarity)."""

    choices: tuple[Any, ...]

    def suggest(self, trial: Any, name: str) -> Any:
        return trial.suggest_categorical(name, list(self.choices))

    def describe(self) -> str:
        return " | ".join(map(str, self.choices))


Param = FloatRange | IntRange | Choice
# constructor-argument name (or a tuple of candidate names, the first the class accepts wins) → range
SearchSpace = dict[str | tuple[str, ...], Param]

# the ranges most factor models share (issue 7: factors 8–256 log, lr 1e-4–0.1 log, reg 1e-4–1 log, epochs 5–100)
FACTORS = IntRange(8, 256, log=True)
LR = FloatRange(1e-4, 0.1, log=True)
REG = FloatRange(1e-4, 1.0, log=True)
EPOCHS = IntRange(5, 100)
