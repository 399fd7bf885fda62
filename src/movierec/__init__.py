"""movierec: train, compare, inspect and serve movie recommenders on MovieLens-shaped ratings.

The front door for a notebook::

    import movierec
    ds = movierec.load("ml-latest-small")
    rec = movierec.Recommender(ds, "svd").fit()
    rec.recommend(1, k=5)

Heavy modules (pandas, numba, the models) load on first use, so ``import movierec`` and
``movierec --help`` start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from movierec.errors import (
    ArtifactError,
    ConfigError,
    DataError,
    DownloadError,
    MovierecError,
    NotFittedError,
    UnknownIdError,
)

if TYPE_CHECKING:  # pragma: no cover
    from movierec.datasets import Dataset, load
    from movierec.early_stopping import EarlyStopping
    from movierec.epoch_validation import EpochValidator
    from movierec.evaluation import Comparison, Result, compare, evaluate, make_split
    from movierec.interactions import IdMap, Interactions
    from movierec.nested_tuning import nested_tune
    from movierec.recommender import Recommender
    from movierec.serving.artifact import Artifact, load_artifact
    from movierec.tuning import tune

__version__ = "0.1.0"

#: public name -> module it lives in (imported on first access, PEP 562)
_LAZY = {
    "IdMap": "movierec.interactions",
    "Interactions": "movierec.interactions",
    "Dataset": "movierec.datasets",
    "load": "movierec.datasets",
    "Recommender": "movierec.recommender",
    "Comparison": "movierec.evaluation",
    "Result": "movierec.evaluation",
    "compare": "movierec.evaluation",
    "evaluate": "movierec.evaluation",
    "make_split": "movierec.evaluation",
    "EpochValidator": "movierec.epoch_validation",
    "EarlyStopping": "movierec.early_stopping",
    "Artifact": "movierec.serving.artifact",
    "load_artifact": "movierec.serving.artifact",
    "tune": "movierec.tuning",
    "nested_tune": "movierec.nested_tuning",
}

#: names a notebook reaches for on ``movierec`` that live one level down (docs/data.md names them there):
#: the AttributeError says where, instead of only that they are not here
_ONE_DOWN = {
    "load_ratings_file": "movierec.datasets.load_ratings_file (or movierec.load(path, ...))",
    "from_frame": "movierec.datasets.from_frame (or movierec.load(frame, ...))",
    "bundled_path": "movierec.datasets.bundled_path",
}

#: submodules reachable as attributes without importing them first
_SUBPACKAGES = frozenset(
    {"datasets", "evaluation", "metrics", "models", "split", "tuning", "beyond", "rerank"}
)

# dup-ok: a list of names, alike in shape to serving.observe's set of route paths
__all__ = [
    "Artifact",
    "ArtifactError",
    "Comparison",
    "ConfigError",
    "DataError",
    "Dataset",
    "DownloadError",
    "EarlyStopping",
    "EpochValidator",
    "IdMap",
    "Interactions",
    "MovierecError",
    "NotFittedError",
    "Recommender",
    "Result",
    "UnknownIdError",
    "__version__",
    "compare",
    "evaluate",
    "load",
    "load_artifact",
    "make_split",
    "nested_tune",
    "tune",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:  # movierec.datasets.from_frame after a bare `import movierec`
        import importlib

        return importlib.import_module(f"movierec.{name}")
    where = f"; it is {_ONE_DOWN[name]}" if name in _ONE_DOWN else _model_hint(name)
    raise AttributeError(f"module 'movierec' has no attribute {name!r}{where}")


def _model_hint(name: str) -> str:
    """``"; a model is picked by its name: movierec.Recommender(ds, 'svd') …"`` for a model's name typed as
    the package's attribute (``movierec.SVD()``, Surprise's ``SVD()``), else ``""``. ``_``-names are what
    tools probe (IPython's ``_repr_html_``, ``__wrapped__``): they stay Python's plain error, without the
    registry's import. So are the package's own modules: ``from movierec import interrupts`` asks for the
    attribute before it imports the module, and the registry's import (numpy, pandas, scipy) made every
    ``movierec --help`` load them."""
    if name.startswith("_") or _is_module(name):
        return ""
    from movierec.models.registry import model_attribute_hint

    hint = model_attribute_hint(name)
    return f"; {hint}" if hint else ""


def _is_module(name: str) -> bool:
    """Whether ``movierec.<name>`` is a module of the package (found on its path, not imported)."""
    from importlib.util import find_spec

    try:
        return find_spec(f"movierec.{name}") is not None
    except (ImportError, ValueError):
        return False


def __dir__() -> list[str]:
    # the public names (tab completion in a notebook), not typing helpers imported for annotations
    return sorted(set(__all__) | _SUBPACKAGES | {"errors"})
