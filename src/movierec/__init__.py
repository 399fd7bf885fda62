"""movierec: train, compare, inspect and serve movie recommenders on MovieLens-shaped ratings."""

from __future__ import annotations

from movierec.errors import (
    ArtifactError,
    ConfigError,
    DataError,
    DownloadError,
    MovierecError,
    NotFittedError,
    UnknownIdError,
)
from movierec.interactions import IdMap, Interactions

__version__ = "0.1.0"

__all__ = [
    "ArtifactError",
    "ConfigError",
    "DataError",
    "DownloadError",
    "IdMap",
    "Interactions",
    "MovierecError",
    "NotFittedError",
    "UnknownIdError",
    "__version__",
]
