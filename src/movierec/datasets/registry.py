"""The MovieLens variants movierec knows: where they live, what they contain, how to parse them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_cache_dir

from movierec.errors import ConfigError

__all__ = ["REGISTRY", "DatasetSpec", "cache_dir", "get_spec"]

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


# Checked 2026-11 against public copies of GroupLens' ``<name>.zip.md5`` files and download logs
# (``Length:`` lines of wget): md5 of ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m; sizes of
# ml-latest-small, ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m. ml-latest is regenerated from
# time to time, so it has neither a fixed checksum nor a fixed size (its rating count is the
# July 2023 release's). ml-latest-small's md5 could not be confirmed; it is bundled anyway.
# fmt: off
# dup-ok: one DatasetSpec per MovieLens release; the entries are data, alike by design
REGISTRY: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in [
        DatasetSpec(
            "ml-latest-small", f"{_GROUPLENS}/ml-latest-small.zip", "ml-latest-small", "ratings.csv", "csv",
            "movies.csv", "csv", "tags.csv", "csv", n_ratings=100_836, archive_bytes=978_202,
            licence=_TERMS + "; redistribution allowed under the same terms", redistributable=True, bundled=True,
            description="100k ratings, 3.7k tags, 610 users, 9.7k movies (2018); bundled",
        ),
        DatasetSpec(
            "ml-100k", f"{_GROUPLENS}/ml-100k.zip", "ml-100k", "u.data", "u.data", "u.item", "u.item",
            n_ratings=100_000, archive_bytes=4_924_029, md5="0e33842e24a9c977be4e0107933c0723",
            rating_scale=(1.0, 5.0), description="100k ratings, 943 users, 1.7k movies (1998)",
        ),
        DatasetSpec(
            "ml-1m", f"{_GROUPLENS}/ml-1m.zip", "ml-1m", "ratings.dat", "dat", "movies.dat", "dat",
            n_ratings=1_000_209, archive_bytes=5_917_549, md5="c4d9eecfca2ab87c1945afe126590906",
            rating_scale=(1.0, 5.0), description="1M ratings, 6k users, 3.9k movies (2003)",
        ),
        DatasetSpec(
            "ml-10m", f"{_GROUPLENS}/ml-10m.zip", "ml-10M100K", "ratings.dat", "dat", "movies.dat", "dat",
            "tags.dat", "dat", n_ratings=10_000_054, archive_bytes=65_566_137, md5="ce571fd55effeba0271552578f2648bd",
            description="10M ratings, 100k tags, 72k users, 10k movies (2009)",
        ),
        DatasetSpec(
            "ml-20m", f"{_GROUPLENS}/ml-20m.zip", "ml-20m", "ratings.csv", "csv", "movies.csv", "csv",
            "tags.csv", "csv", n_ratings=20_000_263, archive_bytes=198_702_078, md5="cd245b17a1ae2cc31bb14903e1204af3",
            description="20M ratings, 465k tags, 138k users, 27k movies (2015)",
        ),
        DatasetSpec(
            "ml-25m", f"{_GROUPLENS}/ml-25m.zip", "ml-25m", "ratings.csv", "csv", "movies.csv", "csv",
            "tags.csv", "csv", n_ratings=25_000_095, archive_bytes=261_978_986, md5="6b51fb2759a8657d3bfcbfc42b592ada",
            description="25M ratings, 1M tags, 162k users, 62k movies (2019)",
        ),
        DatasetSpec(
            "ml-32m", f"{_GROUPLENS}/ml-32m.zip", "ml-32m", "ratings.csv", "csv", "movies.csv", "csv",
            "tags.csv", "csv", n_ratings=32_000_204, archive_bytes=238_950_008, md5="d472be332d4daa821edc399621853b57",
            description="32M ratings, 2M tags, 201k users, 87k movies (2023)",
        ),
        DatasetSpec(
            "ml-latest", f"{_GROUPLENS}/ml-latest.zip", "ml-latest", "ratings.csv", "csv", "movies.csv", "csv",
            "tags.csv", "csv", n_ratings=33_832_162, archive_bytes=0,
            description="the full latest set (33.8M ratings in 2023); changes over time, no fixed checksum",
        ),
    ]
}


# fmt: on


def get_spec(name: str) -> DatasetSpec:
    """The registry entry for ``name``; unknown names list the known ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown dataset {name!r}; known: {', '.join(REGISTRY)} (or pass a folder or --ratings FILE)"
        ) from None


def cache_dir() -> Path:
    """Where downloaded datasets live: ``$MOVIEREC_DATA``, else the user cache dir."""
    env = os.environ.get("MOVIEREC_DATA")
    return Path(env).expanduser() if env else Path(user_cache_dir("movierec")) / "datasets"
