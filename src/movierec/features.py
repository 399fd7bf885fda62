"""Side information for hybrid models: item (and optional user) feature matrices aligned to an id map.

Feature families built from a :class:`~movierec.datasets.Dataset`: ``genres`` (multi-hot),
``tags`` (the top-N normalised tags from tags.csv with a minimum count) and ``year`` (release
decade buckets). A features file (CSV ``movieId,feature[,weight]``, or ``userId,…`` for users; or
a table with a column per field, ``userId,country,age``) adds any other side information. Hybrid
models (LightFM's model, Kula 2015) add an identity feature per item themselves, so these matrices
hold only the side features.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movierec.errors import ConfigError, DataError, not_encoded
from movierec.interactions import IdMap, Interactions, parse_int_id

if TYPE_CHECKING:
    from movierec.datasets import Dataset

__all__ = [
    "FEATURE_FAMILIES",
    "ItemFeatures",
    "build_item_features",
    "canonical_names",
    "normalise_tag",
    "pairs_in",
    "read_features_file",
    "side_matrix",
]

FEATURE_FAMILIES = ("genres", "tags", "year")
_SPACES = re.compile(r"\s+")


@dataclass(eq=False)
class ItemFeatures:
    """A sparse ``rows × features`` matrix (float32 CSR) aligned to an id map, with feature names.

    Rows follow the :class:`~movierec.interactions.IdMap` the matrix was built for (items, or
    users for user features); the identity feature is NOT included (models add it).
    ``held_out_tags``: the tag applications left out because their (user, movie) pair is held out
    (:func:`build_item_features`'s ``held_out``), for the run's notes.
    """

    matrix: sp.csr_matrix
    names: list[str]
    held_out_tags: int = 0

    def __post_init__(self) -> None:
        self.matrix = sp.csr_matrix(self.matrix, dtype=np.float32)
        self.matrix.sort_indices()
        if self.matrix.shape[1] != len(self.names):
            raise ValueError(f"{self.matrix.shape[1]} feature columns but {len(self.names)} names")

    @property
    def n_rows(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.matrix.shape[1])

    def hstack(self, other: ItemFeatures) -> ItemFeatures:
        """Columns of both (same rows), e.g. built-in families plus a features file."""
        if other.n_rows != self.n_rows:
            raise ConfigError(f"cannot combine feature matrices with {self.n_rows} and {other.n_rows} rows")
        return ItemFeatures(
            sp.hstack([self.matrix, other.matrix], format="csr"),
            [*self.names, *other.names],
            self.held_out_tags + other.held_out_tags,
        )

    def __repr__(self) -> str:
        return f"ItemFeatures(n_rows={self.n_rows}, n_features={self.n_features}, nnz={self.matrix.nnz})"


def normalise_tag(tag: object) -> str:
    """Lowercase, strip and collapse inner whitespace (``"  Dark  Comedy "`` → ``"dark comedy"``)."""
    return _SPACES.sub(" ", str(tag).strip().lower())


def parse_names(names: str | Sequence[str] | None) -> list[str]:
    """Feature family names from ``"genres,tags"`` or a list; unknown names raise ConfigError."""
    if names is None:
        return []
    parts = [p.strip().lower() for p in (names.split(",") if isinstance(names, str) else names)]
    parts = [p for p in parts if p]
    for p in parts:
        if p not in FEATURE_FAMILIES:
            raise ConfigError(f"unknown item feature {p!r}; valid: {', '.join(FEATURE_FAMILIES)}")
    return list(dict.fromkeys(parts))


def canonical_names(names: str | Sequence[str]) -> str:
    """The one spelling of a feature list that labels, experiment files and ``NAME+feature`` compare equal
    in: :func:`parse_names`'s families, lower case, first occurrence kept, joined by commas."""
    return ",".join(parse_names(names))


def side_matrix(features: Any, n_rows: int, what: str) -> tuple[sp.csr_matrix | None, list[str]]:
    """A model's side features as float32 CSR with their names: an ItemFeatures, a scipy matrix (or
    array) or None; the row count and the weights (finite, ≥ 0) are checked."""
    if features is None:
        return None, []
    names: list[str] = list(getattr(features, "names", []))
    mat = getattr(features, "matrix", features)
    if not sp.issparse(mat) and not isinstance(mat, np.ndarray):
        raise ConfigError(f"{what} must be an ItemFeatures or a sparse matrix, got {type(features).__name__}")
    mat = sp.csr_matrix(mat, dtype=np.float32)
    if mat.shape[0] != n_rows:
        raise ConfigError(f"{what} has {mat.shape[0]} rows but the training data has {n_rows}")
    if mat.nnz and (not np.isfinite(mat.data).all() or (mat.data < 0).any()):
        raise DataError(f"{what} holds negative or non-finite weights")
    return mat, names or [f"f{i}" for i in range(mat.shape[1])]


def available_families(dataset: Dataset) -> set[str]:
    """The feature families ``dataset`` can give: ``genres`` and ``year`` with movie metadata, ``tags``
    with a non-empty tags file (what :func:`build_item_features` would refuse, asked beforehand)."""
    out = {"genres", "year"} if dataset.catalog is not None else set()
    if dataset.tags is not None and len(dataset.tags) > 0:
        out.add("tags")
    return out


def build_item_features(
    dataset: Dataset,
    item_map: IdMap | None = None,
    names: str | Sequence[str] = "genres,tags,year",
    *,
    top_tags: int = 200,
    min_tag_count: int = 3,
    year_bucket: int = 10,
    features_file: str | Path | None = None,
    held_out: Interactions | Sequence[Interactions] | None = None,
) -> ItemFeatures:
    """Item side features aligned to ``item_map`` (default: the dataset's interactions' item map).

    ``names`` picks families from ``genres``, ``tags``, ``year``; ``top_tags`` keeps the most
    frequent normalised tags applied at least ``min_tag_count`` times; ``year_bucket`` is the
    bucket width in years. ``features_file`` appends features read by :func:`read_features_file`.
    ``held_out``: the part(s) a model is evaluated on (a split's test part, a fold's validation part).
    A tag row is (userId, movieId, tag): a user's tag on a movie they rated in the test part tells the
    model that pair, so those rows are left out before tags are counted and chosen (the count is the
    result's ``held_out_tags``); tags on other pairs, and by users without ratings, stay. ``None``
    (a fit on all the data): every tag row.
    """
    families = parse_names(names)
    item_map = item_map if item_map is not None else dataset.interactions.item_map
    blocks: list[ItemFeatures] = []
    if families and dataset.catalog is None and set(families) & {"genres", "year"}:
        raise DataError(
            f"dataset {dataset.name!r} has no movie metadata, so genres/year features are unavailable"
        )
    meta = _aligned_movies(dataset, item_map) if dataset.catalog is not None else None
    for family in families:
        if family == "genres":
            assert meta is not None
            blocks.append(
                _multi_hot(meta["genres"], "genre:", lambda g: [x for x in g if x and not x.startswith("(")])
            )
        elif family == "year":
            assert meta is not None
            check_bucket = int(year_bucket)
            if check_bucket < 1:
                raise ConfigError(f"year_bucket must be ≥ 1, got {year_bucket!r}")
            years = pd.array(meta["year"], dtype="Int64")
            labels = [[] if pd.isna(y) else [f"{(int(y) // check_bucket) * check_bucket}s"] for y in years]
            blocks.append(_multi_hot(pd.Series(labels), "year:", lambda x: x))
        elif family == "tags":
            blocks.append(_tag_features(dataset, item_map, top_tags, min_tag_count, held_out))
    out = ItemFeatures(sp.csr_matrix((len(item_map), 0), dtype=np.float32), [])
    for block in blocks:
        out = out.hstack(block)
    if features_file is not None:
        out = out.hstack(read_features_file(features_file, item_map))
    return out


WEIGHT_COLUMN = "weight"
# a numeric field of a wide table with more distinct values than this is cut into quantile bins
_MAX_LEVELS = 10
_BINS = 5


def read_features_file(path: str | Path, id_map: IdMap) -> ItemFeatures:
    """Features from a CSV in either of two layouts; unknown ids are a DataError.

    One feature a row, ``movieId,feature[,weight]`` (or ``userId,…``): rows repeat an id with several
    features, weights default to 1. A table with a column per field, ``userId,country,age``, the way a
    users table is kept: one row per id, each column a field; text becomes one-hot ``country:DE``, a
    number with more than ten distinct values five quantile bins ``age:25-34``, an empty cell nothing.
    The file is the first layout when its third column is named ``weight`` or an id repeats, the
    second otherwise (two columns read the same either way, bar the bins).
    """
    path = Path(path)
    frame = _read_features_csv(path)
    id_col = frame.columns[0]
    if frame.shape[1] < 2:
        raise DataError(
            f"{path}: expected columns id,feature[,weight] or id,field,field…, found "
            f"{', '.join(map(str, frame.columns))}"
        )
    ids = frame[id_col].to_numpy()
    repeats = frame[id_col].duplicated().to_numpy()
    weighted = frame.shape[1] == 3 and str(frame.columns[2]).strip().lower() == WEIGHT_COLUMN
    if weighted or repeats.any():
        if frame.shape[1] > 3:
            row = int(np.flatnonzero(repeats)[0])
            raise DataError(  # one line of <= 160 columns for a short file name (it was 202)
                f"{path}, line {row + 2}: {id_col} {ids[row]!r} repeats, but a table of fields has one row per "
                f"{id_col} (one feature a row: {id_col},feature[,weight])"
            )
        weights = _long_weights(path, frame)
        fields = [_one_hot(frame[frame.columns[1]], np.arange(len(frame)))]
    else:
        weights = None
        fields = [_wide_field(frame[col]) for col in frame.columns[1:]]
    rows = _known_rows(path, id_map, ids, id_col)
    return _assemble(fields, rows, weights, len(id_map))


def _read_features_csv(path: Path) -> pd.DataFrame:
    """The file as text columns: ids as written ('007' names the ratings' '007', not 7)."""
    if not path.is_file():
        raise DataError(f"{path}: features file not found")
    try:
        return pd.read_csv(path, dtype=str)
    except UnicodeDecodeError:
        raise not_encoded(str(path), path.read_bytes()) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: cannot read features CSV ({str(exc).splitlines()[0]})") from exc


def _long_weights(path: Path, frame: pd.DataFrame) -> np.ndarray:
    """The weights of a one-feature-a-row file (1 without a third column); an empty feature or a weight
    that is not a finite number is a DataError naming the line."""
    id_col, feat_col = frame.columns[0], frame.columns[1]
    if frame[feat_col].isna().any():
        row = int(np.flatnonzero(frame[feat_col].isna().to_numpy())[0])
        raise DataError(f"{path}, line {row + 2}: empty feature")
    if frame.shape[1] < 3:
        return np.ones(len(frame), dtype=np.float32)
    w = pd.to_numeric(frame[frame.columns[2]], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(w).all():
        row = int(np.flatnonzero(~np.isfinite(w))[0])
        raise DataError(  # one line of <= 160 columns for a short file name (it was 226)
            f"{path}, line {row + 2}: weight {frame.iloc[row, 2]!r} is not a number; repeated {id_col}s make "
            f"rows {id_col},feature[,weight] (a wide table: one row per {id_col})"
        )
    return w.astype(np.float32)


_Field = tuple[np.ndarray, np.ndarray, list[str]]  # file rows, their feature codes, the features' names


def _one_hot(values: pd.Series, at: np.ndarray) -> _Field:
    """Each distinct (stripped) value a feature ``field:value``, names sorted."""
    codes, uniques = pd.factorize(values.astype(str).str.strip(), sort=True)
    return at, codes, [f"{values.name}:{u}" for u in uniques]


def _wide_field(column: pd.Series) -> _Field:
    """One field of a table with a column per field: the rows with a value and their features.

    Text is one-hot (``country:DE``); a number with more than ``_MAX_LEVELS`` distinct values falls in
    one of ``_BINS`` quantile bins, named by the lowest and highest value in it (``age:25-34``), so
    that 31 and 32 share a feature as ml-100k's ages share an age group (:mod:`movierec.demographics`).
    """
    stripped = column.str.strip()
    present = np.flatnonzero(stripped.notna().to_numpy() & (stripped != "").to_numpy())
    values = stripped.iloc[present]
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not (len(present) and np.isfinite(numbers).all() and len(np.unique(numbers)) > _MAX_LEVELS):
        return _one_hot(values, present)
    edges = np.unique(np.quantile(numbers, np.linspace(0.0, 1.0, _BINS + 1)))
    bins = np.clip(np.searchsorted(edges, numbers, side="right") - 1, 0, len(edges) - 2)
    used, codes = np.unique(bins, return_inverse=True)
    names = []
    for b in used:
        lo, hi = numbers[bins == b].min(), numbers[bins == b].max()
        names.append(f"{column.name}:{lo:g}" if lo == hi else f"{column.name}:{lo:g}-{hi:g}")
    return present, codes, names


def _known_rows(path: Path, id_map: IdMap, ids: np.ndarray, id_col: object) -> np.ndarray:
    """The id map's rows of ``ids``; the first unknown id is a DataError naming its line."""
    known = np.array([_known(id_map, raw) for raw in ids], dtype=bool)
    if not known.all():
        row = int(np.flatnonzero(~known)[0])
        raw = ids[row]
        shown = raw if id_map.ids.dtype.kind in "iu" and parse_int_id(str(raw)) is not None else repr(raw)
        raise DataError(
            f"{path}, line {row + 2}: unknown {id_map.kind} id {shown} in column {id_col!r} "
            f"({int((~known).sum())} rows name ids not in the data)"
        )
    return np.asarray(id_map.index(list(ids)))


def _assemble(
    fields: list[_Field], rows: np.ndarray, weights: np.ndarray | None, n_rows: int
) -> ItemFeatures:
    """One sparse matrix from the fields' (file rows, codes, names): columns field by field, in the
    file's column order; a repeated (id, feature) pair sums its weights."""
    names: list[str] = []
    mat_rows, mat_cols, mat_w = [], [], []
    for at, codes, field_names in fields:
        mat_rows.append(rows[at])
        mat_cols.append(np.asarray(codes) + len(names))
        mat_w.append(np.ones(len(at), np.float32) if weights is None else weights[at])
        names.extend(field_names)
    mat = sp.csr_matrix(
        (np.concatenate(mat_w), (np.concatenate(mat_rows), np.concatenate(mat_cols))),
        shape=(n_rows, len(names)),
        dtype=np.float32,
    )
    mat.sum_duplicates()
    return ItemFeatures(mat, names)


def _known(id_map: IdMap, raw: object) -> bool:
    """Whether ``raw``, an id as a features file spells it, names one of ``id_map``'s (``'042'`` names no
    integer id: the map's lookup refuses it as unknown rather than answering False)."""
    try:
        return raw in id_map
    except KeyError:
        return False


def _aligned_movies(dataset: Dataset, item_map: IdMap) -> pd.DataFrame:
    meta = dataset.catalog.drop_duplicates("movieId").set_index("movieId")  # type: ignore[union-attr]
    ids = pd.Index(item_map.ids)
    try:
        aligned = meta.reindex(ids.astype(meta.index.dtype))
    except (TypeError, ValueError):
        aligned = meta.reindex(ids)
    genres = [g if isinstance(g, list) else [] for g in aligned["genres"].to_numpy(dtype=object)]
    return pd.DataFrame({"genres": genres, "year": pd.array(aligned["year"], dtype="Int64")})


def _multi_hot(values: pd.Series, prefix: str, clean) -> ItemFeatures:  # type: ignore[no-untyped-def]
    rows: list[int] = []
    labels: list[str] = []
    for row, entry in enumerate(values):
        for label in clean(entry if isinstance(entry, list) else []):
            rows.append(row)
            labels.append(label)
    codes, uniques = pd.factorize(pd.Series(labels, dtype=object), sort=True)
    mat = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (np.asarray(rows, dtype=np.int64), codes)),
        shape=(len(values), len(uniques)),
    )
    mat.data[:] = 1.0  # multi-hot even if a label repeats
    return ItemFeatures(mat, [f"{prefix}{u}" for u in uniques])


def pairs_in(inter: Interactions, users: Any, items: Any) -> np.ndarray:
    """Which of the raw (user, movie) pairs ``users[j], items[j]`` ``inter`` holds: a boolean mask. Ids
    are matched through ``inter``'s own id maps, so a user or movie it does not know is simply False."""
    u = _positions(inter.user_map, np.asarray(users))
    i = _positions(inter.item_map, np.asarray(items))
    known = (u >= 0) & (i >= 0)
    n_items = np.int64(max(inter.n_items, 1))
    keys = u.astype(np.int64) * n_items + i
    held = inter.users.astype(np.int64) * n_items + inter.items.astype(np.int64)
    return known & np.isin(keys, held)


def _positions(id_map: IdMap, raw: np.ndarray) -> np.ndarray:
    """Dense indices of raw ids, -1 where ``id_map`` does not hold one (string maps match ``str(id)``)."""
    index = pd.Index(id_map.ids)
    if index.dtype.kind not in "iuf" and raw.dtype.kind in "iuf":
        raw = raw.astype(str)
    try:
        return np.asarray(index.get_indexer(pd.Index(raw)), dtype=np.int64)
    except (TypeError, ValueError):
        return np.full(len(raw), -1, dtype=np.int64)


def _tag_features(
    dataset: Dataset,
    item_map: IdMap,
    top_tags: int,
    min_count: int,
    held_out: Interactions | Sequence[Interactions] | None = None,
) -> ItemFeatures:
    """Binary item × tag for the ``top_tags`` most used normalised tags applied ≥ ``min_count`` times,
    counted without the tag rows on ``held_out``'s (user, movie) pairs."""
    if dataset.tags is None or len(dataset.tags) == 0:
        raise DataError(f"dataset {dataset.name!r} has no tags file, so 'tags' features are unavailable")
    if int(top_tags) < 1 or int(min_count) < 1:
        raise ConfigError(f"top_tags and min_tag_count must be ≥ 1, got {top_tags!r} and {min_count!r}")
    tags = dataset.tags
    parts = [] if held_out is None else [held_out] if isinstance(held_out, Interactions) else list(held_out)
    dropped = np.zeros(len(tags), dtype=bool)
    for part in parts:
        dropped |= pairs_in(part, tags["userId"].to_numpy(), tags["movieId"].to_numpy())
    tags = tags[~dropped]
    frame = pd.DataFrame(
        {"movieId": tags["movieId"].to_numpy(), "tag": [normalise_tag(t) for t in tags["tag"]]}
    )
    frame = frame[frame["tag"] != ""]
    known = np.array([m in item_map for m in frame["movieId"].to_numpy()], dtype=bool)
    frame = frame[known]
    counts = frame["tag"].value_counts()
    counts = counts[counts >= min_count]
    # most used first, ties alphabetical, so the selection is deterministic
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: int(top_tags)]
    vocab = sorted(t for t, _ in order)
    frame = frame[frame["tag"].isin(vocab)]
    rows = item_map.index(list(frame["movieId"].to_numpy())) if len(frame) else np.zeros(0, dtype=np.int32)
    cols = pd.Index(vocab).get_indexer(frame["tag"])
    mat = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(item_map), len(vocab))
    )
    mat.sum_duplicates()
    mat.data[:] = 1.0
    return ItemFeatures(mat, [f"tag:{t}" for t in vocab], int(dropped.sum()))
