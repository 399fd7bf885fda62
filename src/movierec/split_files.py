"""A split someone else made, read from its files: ``train.csv`` and ``test.csv`` (and ``valid.csv``).

A RecBole or LensKit user, or anyone reproducing a paper, has the split as files. Python takes the parts
as they are (``compare(ds, models, split=(train, test))``); the command line and experiment files read
the files here: each file is read as ``--ratings`` reads one (csv, tsv, parquet, headerless, the column
options), the files' rows are joined into ONE :class:`~movierec.datasets.Dataset` (one id space, so a
user of both files is one user), and the parts are the rows each file gave. Mistakes are one line:
a missing file, rows of the test file that are also training rows, files whose columns or ids differ,
a test rating outside the training file's range (another scale). Test users and movies without a
training rating are not an error: a note says how many there are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from movierec.errors import ConfigError, DataError

if TYPE_CHECKING:
    from movierec.datasets import Dataset
    from movierec.interactions import Interactions

__all__ = ["PART_OPTIONS", "SplitFiles", "cold_note", "load_split_files", "split_files_about"]

#: how each part is named to the person: the CLI's options (an experiment file passes its keys)
PART_OPTIONS = {"train": "--train", "test": "--test", "valid": "--valid"}


@dataclass
class SplitFiles:
    """The parts of a split read from files, in one :class:`Dataset` (``dataset``, every file's rows).

    ``train``, ``test`` (and ``valid`` when a validation file was given) are that dataset's interactions,
    sharing its id maps, each holding exactly the rows its file gave; ``about`` is the rows' ``split``
    description, naming the files (``given files train.csv / test.csv (80,668 / 20,168 ratings)``);
    ``notes`` say what the data calls for (test users and movies without a training rating)."""

    dataset: Dataset
    train: Interactions
    test: Interactions
    valid: Interactions | None
    about: str
    notes: list[str] = field(default_factory=list)

    def pair(self) -> tuple[Interactions, Interactions, str]:
        """``(train, test, about)``: a validation file's rows joined to the training part (RecBole's train
        and valid, as its best model is refit on both), for what reads a training and a test part only."""
        train = self.train if self.valid is None else self.train.concat(self.valid)
        return train, self.test, self.about

    def parts(self) -> tuple[Interactions | str, ...]:
        """The split as :func:`movierec.evaluation.compare` takes it: ``(train, test, about)``, or with a
        validation file ``(train, valid, test, about)``, whose valid rows train too and on which early
        stopping scores (RecBole's validation file, as ``tune --valid`` scores every trial on it)."""
        if self.valid is None:
            return self.train, self.test, self.about
        return self.train, self.valid, self.test, self.about


def split_files_about(paths: Mapping[str, Path], counts: Mapping[str, int]) -> str:
    """The rows' split: ``given files train.csv / test.csv (80,668 / 20,168 ratings)``, with a validation
    file ``given files train.csv + valid.csv / test.csv (…)`` (its rows train in compare)."""
    trained = " + ".join(paths[p].name for p in ("train", "valid") if p in paths)
    sizes = " + ".join(f"{counts[p]:,}" for p in ("train", "valid") if p in counts)
    return f"given files {trained} / {paths['test'].name} ({sizes} / {counts['test']:,} ratings)"


def _check_paths(paths: Mapping[str, Path], names: Mapping[str, str]) -> None:
    """Each file exists and is a file; two parts naming one file is a mistake too."""
    for part, path in paths.items():
        if not path.exists():
            raise DataError(f"{names[part]} {path}: no such file")
        if not path.is_file():
            raise DataError(f"{names[part]} {path}: not a file (a ratings file of the {part} part)")
    seen: dict[Path, str] = {}
    for part, path in paths.items():
        if path.resolve() in seen:
            raise ConfigError(
                f"{names[seen[path.resolve()]]} and {names[part]} name the same file ({path}): "
                "each part of the split is its own file"
            )
        seen[path.resolve()] = part


def _read_part(path: Path, rating_scale: tuple[float, float] | None, columns: Mapping[str, Any]) -> Dataset:
    """One file, read as ``--ratings`` reads one (its errors name the file and line)."""
    from movierec.datasets import load_ratings_file

    return load_ratings_file(path, rating_scale=rating_scale, **dict(columns))


def _pairs(inter: Interactions) -> pd.MultiIndex:
    """A part's (user, movie) pairs by their raw ids."""
    return pd.MultiIndex.from_arrays([inter.user_map.to_raw(inter.users), inter.item_map.to_raw(inter.items)])


def _shown(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _check_alike(parts: Mapping[str, Dataset], names: Mapping[str, str], scale_given: bool) -> None:
    """The files are parts of one ratings table: the same kind of ids, the same columns (ratings, times),
    and, unless a scale is declared, the other files' ratings within the training file's range."""
    train = parts["train"].interactions
    first = names["train"]
    for part, ds in parts.items():
        if part == "train":
            continue
        inter, name = ds.interactions, names[part]
        for what, ours, theirs in (
            ("user", train.user_map.ids, inter.user_map.ids),
            ("movie", train.item_map.ids, inter.item_map.ids),
        ):
            if (ours.dtype == object) != (theirs.dtype == object):
                kinds = ["text" if ids.dtype == object else "numbers" for ids in (ours, theirs)]
                raise DataError(
                    f"{name}'s {what} ids are {kinds[1]} and {first}'s {kinds[0]}: the files must "
                    "share one id space (read both with the same column options)"
                )
        if inter.interactions_only != train.interactions_only:
            has, lacks = (first, name) if inter.interactions_only else (name, first)
            raise DataError(
                f"{has} has ratings and {lacks} none: the files must have the same columns "
                "(--rating-col '' reads neither's ratings)"
            )
        if (inter.timestamps is None) != (train.timestamps is None):
            has, lacks = (name, first) if train.timestamps is None else (first, name)
            raise DataError(
                f"{has} has timestamps and {lacks} none: the files must have the same columns "
                "(--time-col '' reads neither's times)"
            )
        lo, hi = float(train.ratings.min()), float(train.ratings.max())
        out = (inter.ratings < lo) | (inter.ratings > hi)
        if not scale_given and not train.interactions_only and out.any():
            row = int(np.flatnonzero(out)[0])
            raise DataError(
                f"{name} has {int(out.sum()):,} ratings outside {first}'s range {lo:g}–{hi:g} (the first "
                f"{float(inter.ratings[row]):g}): files on another scale? --rating-scale MIN MAX declares "
                "the scale both are on"
            )


def _check_disjoint(parts: Mapping[str, Dataset], names: Mapping[str, str]) -> None:
    """No (user, movie) pair is in two parts: a rating is trained on, validated on, or tested, once."""
    said = shared_pairs({p: d.interactions for p, d in parts.items()}, names)
    if said is not None:
        raise DataError(said)


def shared_pairs(parts: Mapping[str, Interactions], names: Mapping[str, str]) -> str | None:
    """Where a (user, movie) pair of ``parts`` ("train", "valid", "test", by their raw ids) is in two of them,
    the line that says so, naming the parts by ``names`` and the first such pair; else ``None``. The files'
    refusal here and that of your own DataFrames in :func:`movierec.evaluation.compare` read it."""
    order = [p for p in ("train", "valid", "test") if p in parts]
    for n, a in enumerate(order):
        for b in order[n + 1 :]:
            ours, theirs = _pairs(parts[a]), _pairs(parts[b])
            both = theirs.isin(ours)
            if both.any():
                u, i = theirs[int(np.flatnonzero(both)[0])]
                return (
                    f"{int(both.sum()):,} of {names[b]}'s {len(theirs):,} rows are also in {names[a]} (the "
                    f"first: user {_shown(u)!r}, movie {_shown(i)!r}): a rating belongs to one part of a split"
                )
    return None


def _recorded(
    paths: Mapping[str, Path], parts: Mapping[str, Dataset], catalogue: Dataset | None
) -> dict[str, dict[str, str]]:
    """What a result's provenance records of the files: each part's path and sha256, and the catalogue
    that gave the titles (its name and sha256), so a run or a study can read the same split again."""
    out = {part: {"path": str(paths[part].resolve()), "sha256": parts[part].sha256} for part in paths}
    if catalogue is not None:
        out["catalogue"] = {"name": catalogue.reload_ref() or catalogue.name, "sha256": catalogue.sha256}
    return out


def cold_note(train: Interactions, test: Interactions, test_name: str, train_name: str) -> str | None:
    """How many of the test part's users and movies have no training rating (``None``: every one has).

    They stay in the test part, as in ``compare(ds, models, split=(train, test))``: every model ranks a
    cold user from no history (its fallback: popularity, the global mean) and cannot have learnt a cold
    movie. RecBole and LensKit score such rows too; the count says how far they weigh. The note names
    only what the test part has (a cold movie's words are not said where every movie trained)."""
    trained_users = np.zeros(train.n_users, dtype=bool)
    trained_users[train.users] = True
    trained_items = np.zeros(train.n_items, dtype=bool)
    trained_items[train.items] = True
    cold_u = ~trained_users[test.users]
    cold_i = ~trained_items[test.items]
    if not cold_u.any() and not cold_i.any():
        return None
    said, why = [], []
    if cold_u.any():
        n = int(np.unique(test.users[cold_u]).size)
        said.append(f"{n:,} user{'s' if n != 1 else ''} ({int(cold_u.sum()):,} rows)")
        why.append("every model ranks a cold user by its fallback")
    if cold_i.any():
        n = int(np.unique(test.items[cold_i]).size)
        said.append(f"{n:,} movie{'s' if n != 1 else ''} ({int(cold_i.sum()):,} rows)")
        why.append("no model has learnt a cold movie")
    return (
        f"{test_name}: {' and '.join(said)} without a rating in {train_name} stay in the test part (of its "
        f"{len(np.unique(test.users)):,} users, {test.n_ratings:,} rows): {', and '.join(why)}"
    )


def _file_notes(
    parts: Mapping[str, Dataset], paths: Mapping[str, Path], shown: Mapping[str, str]
) -> list[str]:
    """Every file's notes from reading it (a header row taken as missing, duplicates dropped, no times…),
    each with the file it is about unless it names it already; one every file gave alike (data without
    ratings, no times) is said once. A count is always the file's own (each file's duplicates)."""
    said: list[str] = []
    for part, ds in parts.items():
        for note in ds.notes:
            alike = not note.startswith("dropped ") and all(note in other.notes for other in parts.values())
            text = note if alike or paths[part].name in note else f"{shown[part]}: {note}"
            if text not in said:
                said.append(text)
    return said


def load_split_files(
    train: str | Path,
    test: str | Path,
    *,
    valid: str | Path | None = None,
    catalogue: Dataset | None = None,
    rating_scale: tuple[float, float] | None = None,
    names: Mapping[str, str] | None = None,
    **columns: Any,
) -> SplitFiles:
    """The split in ``train`` and ``test`` (and ``valid``): each file read as a ratings file
    (:func:`movierec.datasets.load_ratings_file`, with ``columns``: ``user_col``, ``item_col``,
    ``rating_col``, ``time_col``, ``header``, ``delimiter``, ``movies`` for titles), their rows joined
    into one :class:`Dataset` and split back by the rows each file gave.

    ``catalogue``: a dataset whose titles, genres, tags and user table the joined one takes (the files
    of ml-latest-small's split, with ``movierec.load("ml-latest-small")``'s titles). ``names`` say how the
    parts are called in messages (default the CLI's ``--train``, ``--test``, ``--valid``; an experiment
    file passes ``split.train`` …). The dataset records each file's path and sha256 in ``split_files``,
    which every result's provenance carries.
    """
    from movierec.datasets import from_frame

    names = {**PART_OPTIONS, **(names or {})}
    paths = {"train": Path(train).expanduser(), "test": Path(test).expanduser()}
    if valid is not None:
        paths["valid"] = Path(valid).expanduser()
    _check_paths(paths, names)
    # the titles go with the training file, whose catalogue the dataset keeps: a test file of a few ratings
    # need share no movie with them (datasets refuses titles that join no rated movie)
    untitled = {k: v for k, v in columns.items() if k != "movies"}
    parts = {
        part: _read_part(path, rating_scale, columns if part == "train" else untitled)
        for part, path in paths.items()
    }
    shown = {part: f"{names[part]} {paths[part].name}" for part in paths}
    _check_alike(parts, shown, rating_scale is not None)
    _check_disjoint(parts, shown)
    frames = {part: ds.to_frame() for part, ds in parts.items()}
    joined = pd.concat(list(frames.values()), ignore_index=True)
    ds = from_frame(
        joined,
        name=" + ".join(paths[p].name for p in ("train", "valid", "test") if p in paths),
        rating_scale=rating_scale,
        rating_col=None if parts["train"].interactions.interactions_only else "rating",
        time_col="timestamp" if "timestamp" in joined.columns else None,
    )
    own = _pairs(ds.interactions)
    inter = ds.interactions
    split = {part: inter.subset(own.isin(_pairs(parts[part].interactions))) for part in paths}
    source = parts["train"] if catalogue is None else catalogue
    ds = dataclasses.replace(
        ds,
        catalog=source.catalog,
        tags=catalogue.tags if catalogue is not None else None,
        users=catalogue.users if catalogue is not None else None,
        source=" + ".join(str(paths[p]) for p in paths),
        notes=_file_notes(parts, paths, shown),
        load_options=dict(parts["train"].load_options),  # how the files are read, for best.toml
        split_files=_recorded(paths, parts, catalogue),
    )
    about = split_files_about(paths, {p: split[p].n_ratings for p in paths})
    split["test"]._cache["split"] = about  # evaluate() records it, as it does a named split's
    for part in paths:  # early stopping's note names the files it scored on and refit on
        split[part]._cache["part"] = paths[part].name
    trained = split["train"] if "valid" not in split else split["train"].concat(split["valid"])
    trained_name = " or ".join(
        shown[p] for p in ("train", "valid") if p in shown
    )  # a valid file's rows train too
    notes = [n for n in [cold_note(trained, split["test"], shown["test"], trained_name)] if n]
    return SplitFiles(ds, split["train"], split["test"], split.get("valid"), about, notes)
