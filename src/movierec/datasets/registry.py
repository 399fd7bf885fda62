"""The MovieLens variants movierec knows: where they live, what they contain, how to parse them."""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir

from movierec.errors import ConfigError, Doors, closest

__all__ = [
    "REGISTRY",
    "DatasetSpec",
    "cache_dir",
    "closest_datasets",
    "dataset_did_you_mean",
    "dataset_name",
    "get_spec",
    "registered_name",
]

_GROUPLENS = "https://files.grouplens.org/datasets/movielens"
_TERMS = "GroupLens research-use terms: non-commercial, acknowledge in publications, no endorsement"


@dataclass(frozen=True)
class DatasetSpec:
    """One MovieLens variant: archive URL, expected checksum, layout inside the archive, parser formats."""

    name: str
    url: str
    folder: str  # top-level folder inside the archive
    ratings: str  # ratings file name inside ``folder``
    ratings_format: str  # csv | dat | u.data
    movies: str | None
    movies_format: str  # csv | dat | u.item
    tags: str | None = None
    tags_format: str = "csv"
    n_ratings: int = 0
    archive_bytes: int = 0  # 0 when unknown (ml-latest changes)
    md5: str | None = None  # as published by GroupLens next to the archive (``.md5`` files)
    sha256: str | None = None
    rating_scale: tuple[float, float] = (0.5, 5.0)
    licence: str = _TERMS
    redistributable: bool = False
    bundled: bool = False
    description: str = ""
    extra_files: tuple[str, ...] = field(default_factory=tuple)


# The ratings, movies and tags files (name, parser format) of each archive layout GroupLens used.
_FILE_FIELDS = ("ratings", "ratings_format", "movies", "movies_format", "tags", "tags_format")
_LAYOUTS: dict[str, tuple[str, str, str, str, str | None, str]] = {
    "csv": ("ratings.csv", "csv", "movies.csv", "csv", "tags.csv", "csv"),
    "dat": ("ratings.dat", "dat", "movies.dat", "dat", "tags.dat", "dat"),
    "u.data": ("u.data", "u.data", "u.item", "u.item", None, "csv"),
}


def _release(name: str, entry: dict[str, Any]) -> DatasetSpec:
    """A :class:`DatasetSpec` from one ``registry.toml`` table (the layout names the files, the name the URL)."""
    facts: dict[str, Any] = dict(entry)
    files: dict[str, Any] = dict(zip(_FILE_FIELDS, _LAYOUTS[facts.pop("layout")], strict=True))
    if not facts.pop("tags", True):
        files.update(tags=None, tags_format="csv")  # DatasetSpec's defaults: no tags file
    if "rating_scale" in facts:
        facts["rating_scale"] = tuple(facts["rating_scale"])
    if extra := facts.pop("licence_extra", None):
        facts["licence"] = f"{_TERMS}; {extra}"
    folder = facts.pop("folder", name)
    return DatasetSpec(name, f"{_GROUPLENS}/{name}.zip", folder, **files, **facts)


def _registry() -> dict[str, DatasetSpec]:
    with (Path(__file__).parent / "registry.toml").open("rb") as f:
        return {name: _release(name, entry) for name, entry in tomllib.load(f).items()}


# The MovieLens releases (registry.toml: one table per release, with where its sizes and checksums come from).
REGISTRY: dict[str, DatasetSpec] = _registry()


def registered_name(name: object) -> str | None:
    """The registered dataset ``name`` spells, case and surrounding spaces aside (``ML-1M`` is ``ml-1m``:
    GroupLens writes ML-1M, and a name that only differs in case was answered "did you mean 'ml-1m'?"),
    else ``None``."""
    text = str(name)
    if text in REGISTRY:
        return text
    key = text.strip().lower()
    return key if key in REGISTRY else None


#: a MovieLens release named by its size: 'ml-20m', 'ML_100K', 'movielens-1m', 'ml20m', 'ml-10' (no unit)
_SIZED = re.compile(r"^(?:ml|movielens)[-_ ]?(\d+)([km]?)$", re.IGNORECASE)


def _size(digits: str, unit: str) -> int:
    """Ratings a size name counts: '20', 'm' → 20,000,000; no unit is thousands from 100 up ('ml-100'),
    else millions ('ml-10'), as the releases are named."""
    scale = {"k": 1_000, "m": 1_000_000}.get(unit.lower(), 1_000 if int(digits) >= 100 else 1_000_000)
    return int(digits) * scale


def closest_datasets(name: object) -> list[str]:
    """The registered names a mistyped ``name`` most likely meant, the likelier first (at most two).

    A size name ('ml-2m') is read as a size, not as letters: difflib's ratio ties 'ml-2m' with 'ml-20m' and
    'ml-32m' (0.91 each) and the tie went to the later string, so ``data fetch ml-2m`` suggested the largest
    release. By size instead: the same digits with another unit or none ('ml-10' is ml-10m, 'ml-100m'
    ml-100k) alone; else the smallest release whose digits begin with those typed (a digit left out:
    'ml-2m' is ml-20m, 'ml-3m' ml-32m), then the release nearest in size on a log scale ('ml-2m', twice
    ml-1m and a fifth of ml-10m, is ml-1m; 'ml-200k' ml-100k; 'ml-50m' ml-32m). Any other name: the
    closest by spelling (:func:`movierec.errors.closest`: 'ml-latest-smal', 'ml-100k.zip')."""
    typed = _SIZED.match(str(name).strip())
    if typed is None:
        best = closest(name, REGISTRY)
        return [best] if best is not None else []
    digits, unit = typed.group(1).lstrip("0") or "0", typed.group(2).lower()
    sized = {n: (m.group(1), m.group(2)) for n in REGISTRY if (m := _SIZED.match(n)) is not None}
    same = [n for n, (d, _) in sized.items() if d == digits]
    if same:  # only the unit differs (a registered name in any case never reaches here)
        return same[:1]
    left_out = sorted(
        (n for n, (d, u) in sized.items() if d.startswith(digits) and (not unit or u == unit)),
        key=lambda n: _size(*sized[n]),
    )
    wanted = _size(digits, unit) if int(digits) else 1
    nearest = min(sized, key=lambda n: (abs(math.log(_size(*sized[n]) / wanted)), _size(*sized[n])))
    return list(dict.fromkeys([*left_out[:1], nearest]))


def dataset_did_you_mean(name: object) -> str:
    """`` (did you mean 'ml-20m' or 'ml-1m'?)`` for a mistyped dataset name (:func:`closest_datasets`),
    else ``""``: the words every refusal of an unknown dataset name puts after the name."""
    names = closest_datasets(name)
    return f" (did you mean {' or '.join(repr(n) for n in names)}?)" if names else ""


def dataset_name(text: str) -> str:
    """A dataset argument as the loaders read it: the registered name it spells case aside (``ML-100K`` →
    ``ml-100k``), unless a file or folder of exactly that name is there (a path is read as one); anything
    else unchanged."""
    canon = registered_name(text)
    if canon is None or canon == text:
        return text
    return text if Path(text).expanduser().exists() else canon


def get_spec(name: str) -> DatasetSpec:
    """The registry entry for ``name`` (any case: ``ML-1M`` is ``ml-1m``); an unknown name is answered with
    the closest known one first ("did you mean 'ml-100k'?" for ``ml-100``), then the whole list."""
    canon = registered_name(name)
    if canon is None:
        said = f"unknown dataset {name!r}{dataset_did_you_mean(name)}; known: {', '.join(REGISTRY)}; or give"
        raise ConfigError(  # each door's way (one line named both: "(movierec.load(PATH) in Python, ...)")
            Doors(
                f"{said} a folder or ratings file by its path: movierec.load(PATH)",
                f"{said} a folder by its path (--dataset FOLDER) or a ratings file (--ratings FILE)",
            )
        )
    return REGISTRY[canon]


def bundled_path() -> Path:
    """Folder of the ``ml-latest-small`` copy shipped inside the package (here, not in the package's
    ``__init__``, so :mod:`movierec.datasets.fetch` reads it without importing the package it serves)."""
    return Path(str(resources.files("movierec.datasets").joinpath("bundled", "ml-latest-small")))


def cache_dir() -> Path:
    """Where downloaded datasets live: ``$MOVIEREC_DATA``, else the user cache dir."""
    env = os.environ.get("MOVIEREC_DATA")
    return Path(env).expanduser() if env else Path(user_cache_dir("movierec")) / "datasets"
