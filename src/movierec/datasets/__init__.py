"""Datasets: the bundled MovieLens small set, registered variants in the cache, and custom files.

``load("ml-latest-small")`` works offline out of the box; ``load("path/to/dir")`` reads a
MovieLens-layout folder; ``load_ratings_file(...)`` reads any ratings table, and ``load(frame)``
(:func:`from_frame`) takes a pandas DataFrame already in a notebook. Every loader returns
a :class:`Dataset` whose ``interactions`` use ids mapped once to dense indices.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from movierec.datasets.compression import read_unpacked
from movierec.datasets.parsers import (
    FIRST_LINE,
    HEADER_NOTE,
    TIME_NOTE,
    ColumnOptionsError,
    MissingColumnsError,
    movies_from_frame,
    parse_delimiter,
    ratings_from_frame,
    read_movies,
    read_ratings,
    read_tags,
    row_lines,
)
from movierec.datasets.registry import (
    REGISTRY,
    DatasetSpec,
    bundled_path,
    cache_dir,
    dataset_did_you_mean,
    dataset_name,
    get_spec,
    registered_name,
)
from movierec.datasets.users import USER_FILES, read_users
from movierec.errors import (
    ConfigError,
    DataError,
    Doors,
    NotEncodedError,
    framed,
    some_of,
)
from movierec.interactions import (
    BadRowsError,
    Interactions,
    assumes_threshold,
    check_rating_scale,
    without_ratings_note,
)

__all__ = [
    "REGISTRY",
    "Dataset",
    "DatasetSpec",
    "bundled_path",
    "cache_dir",
    "dataset_name",
    "from_frame",
    "get_spec",
    "load",
    "load_given",
    "load_ratings_file",
    "locate",
    "registered_name",
    "reloadable",
    "sha256_file",
]


_RATINGS_FRAME = (
    "ds.to_frame() is the ratings as a DataFrame (userId, movieId, rating[, timestamp]), ds.interactions "
    "the indexed arrays models train on, ds.movies the titles"
)
#: attribute names other libraries' datasets have (``ds.ratings``; Surprise's ``raw_ratings`` and
#: ``build_full_trainset()``) → where the same thing is here: :class:`Dataset`'s AttributeError names it
FOREIGN_ATTRIBUTES = {
    **dict.fromkeys(("ratings", "raw_ratings", "df"), _RATINGS_FRAME),
    "build_full_trainset": "movierec.Recommender(ds, 'svd').fit() trains on every rating (Surprise's full "
    "trainset is ds.interactions); movierec.make_split(ds) gives a train and a test part",
}


@dataclass(eq=False)
class Dataset:
    """A loaded ratings log with its item metadata (titles, years, genres) and tags."""

    name: str
    interactions: Interactions
    #: ``movieId, title, year, genres`` for the whole catalogue file (rated or not): row ``i`` is NOT
    #: item index ``i``; use :attr:`movies` or :meth:`item_table` to look items up by index.
    catalog: pd.DataFrame | None = None
    tags: pd.DataFrame | None = None  # userId, movieId, tag, timestamp
    sha256: str = ""
    source: str = ""
    notes: list[str] = field(default_factory=list)
    users: pd.DataFrame | None = None  # userId, age, gender, occupation, zip (ml-100k, ml-1m only)
    #: how ``source`` was read when it is a ratings file (column names, movies file): what an experiment
    #: file or a tuning study records so the same data loads again (``load(source, **load_options)``)
    load_options: dict[str, Any] = field(default_factory=dict)
    #: the titles came from a DataFrame (``movies=frame``): the source's path alone would load the
    #: ratings without them, so :meth:`reload_ref` names no way to load this dataset again
    catalog_in_memory: bool = False
    #: the files of a split this dataset joins (:func:`movierec.split_files.load_split_files`): part
    #: (``train``, ``test``, ``valid``) → its ``path`` and ``sha256``, which results' provenance records
    split_files: dict[str, dict[str, str]] = field(default_factory=dict)
    _items: pd.DataFrame | None = field(default=None, init=False, repr=False)

    @property
    def movies(self) -> pd.DataFrame | None:
        """Movie metadata aligned with the dense item indices: row ``i`` is item index ``i``.

        ``ds.movies.title.to_numpy()[items]`` gives the titles of model output; ``None`` when the
        dataset has no metadata. The whole catalogue file, unrated movies included, is :attr:`catalog`.
        A :class:`~movierec.display.MovieTable`: a DataFrame whose ``print`` shows the titles at 80 columns
        (pandas' own showed ``movieId ... genres``, the genre lists taking the room).
        """
        if self.catalog is None:
            return None
        if self._items is None or len(self._items) != self.interactions.n_items:
            from movierec.display import MovieTable

            self._items = MovieTable(self.item_table())
        return self._items

    def reload_ref(self) -> str | None:
        """The name, or the source's absolute path, that loads this dataset again (with
        :attr:`load_options`), as an experiment file or a study records it; ``None`` for data given in
        memory (a DataFrame of ratings, or of titles: ``movies=frame``).

        The name only where ``load(name)`` reads this very copy (the bundled one, or the cache's): a
        MovieLens folder read by path takes its folder's name (``/data/ml-100k`` is ``ml-100k``), and
        ``tune --dataset /data/ml-100k`` wrote ``name = "ml-100k"`` into best.toml, which ``export
        --config`` then refused on a machine whose cache has no ml-100k (or read another copy)."""
        if self.name in REGISTRY and not self._copy_elsewhere():
            return self.name
        if self.catalog_in_memory:
            return None
        return str(Path(self.source).resolve()) if reloadable(self.source) else None

    def _copy_elsewhere(self) -> bool:
        """Whether this registered dataset was read from a folder that ``load(self.name)`` would not read
        (the bundled copy or the cache's): then only that folder's path loads it again."""
        if not self.source or not Path(self.source).exists():
            return False  # built in memory under a registered name, or merged data: the name is all there is
        folder = locate(get_spec(self.name))
        return folder is None or Path(folder).resolve() != Path(self.source).resolve()

    @property
    def has_titles(self) -> bool:
        """Whether the data came with movie titles (a movies file or frame): without, every movie is shown as
        ``movieId 318`` (:func:`movierec.titles.id_title`) and a lookup by title can only fail, so callers
        say so instead of "no title matches"."""
        return self.catalog is not None and len(self.catalog) > 0

    def most_rated_id(self) -> object:
        """The raw id of the movie with the most ratings: an example id for a message that asks for one."""
        counts = self.interactions.item_counts()
        raw = self.interactions.item_map.to_raw(int(np.argmax(counts)))
        return raw.item() if isinstance(raw, np.generic) else raw

    @property
    def n_catalog_items(self) -> int | None:
        """Movies in the metadata (rated or not), when there is metadata."""
        return None if self.catalog is None else len(self.catalog)

    def __repr__(self) -> str:
        from movierec.display import dataset_repr

        return dataset_repr(self)

    def _repr_html_(self) -> str:
        from movierec.display import dataset_html

        return dataset_html(self)

    if not TYPE_CHECKING:  # a type checker keeps flagging misspelt attributes

        def __getattr__(self, name: str) -> Any:
            """Only for names that are not attributes: what Surprise and LightFM users type first to see
            or train on the data (:data:`FOREIGN_ATTRIBUTES`) says where it is, instead of Python's bare
            AttributeError."""
            if name in FOREIGN_ATTRIBUTES:
                raise AttributeError(
                    f"'Dataset' object has no attribute {name!r}; {FOREIGN_ATTRIBUTES[name]}",
                    name=name,
                    obj=self,
                )
            return object.__getattribute__(self, name)  # Python's own error, a property's inner one too

    def to_frame(self) -> pd.DataFrame:
        """The ratings as a DataFrame with raw ids (``userId, movieId, rating[, timestamp]``)."""
        return self.interactions.to_frame(raw_ids=True)

    def item_table(self) -> pd.DataFrame:
        """One row per item index: ``movieId, title, year, genres``; a movie without a title is named by its
        id, ``movieId 318`` (:func:`movierec.titles.id_title`: the words every door says)."""
        ids = self.interactions.item_map.ids
        table = pd.DataFrame({"movieId": ids})
        if self.catalog is not None and len(self.catalog):
            meta = self.catalog.drop_duplicates("movieId").set_index("movieId")
            try:
                aligned = meta.reindex(pd.Index(ids).astype(meta.index.dtype))
            except (TypeError, ValueError):
                aligned = meta.reindex(pd.Index(ids))
            table["title"] = aligned["title"].to_numpy(dtype=object)
            table["year"] = aligned["year"].to_numpy()
            table["genres"] = [
                g if isinstance(g, list) else [] for g in aligned["genres"].to_numpy(dtype=object)
            ]
        else:
            table["title"] = None
            table["year"] = pd.array([None] * len(ids), dtype="Int64")
            table["genres"] = [[] for _ in range(len(ids))]
        missing = table["title"].isna().to_numpy()
        if missing.any():
            from movierec.titles import id_title

            table.loc[missing, "title"] = [id_title(i) for i in ids[missing]]
        table["year"] = pd.array(table["year"], dtype="Int64")
        return table

    def genre_counts(self) -> dict[str, int]:
        """How many rated movies (:meth:`item_table`) each genre has, most first (ties by name); empty for
        data without genres."""
        from movierec.titles import genre_counts

        return genre_counts(self.item_table()["genres"])

    def summary(self) -> dict[str, Any]:
        """The numbers ``movierec data info`` prints (also its ``--json`` output)."""
        inter = self.interactions
        per_user = inter.user_counts()
        per_item = inter.item_counts()
        per_user = per_user[per_user > 0]
        per_item = per_item[per_item > 0]
        q = [0.0, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0]
        out: dict[str, object] = {
            "dataset": self.name,
            "sha256": self.sha256,
            "n_users": len(per_user),
            "n_items": len(per_item),
            "n_catalog_items": self.n_catalog_items,
            "n_ratings": inter.n_ratings,
            "density": inter.density,
            "rating_scale": list(inter.rating_scale),
            "rating_mean": inter.global_mean,
            # counts' quantiles to 2 decimals: np.quantile interpolates in float64 (q90 400.30000000000007)
            "ratings_per_user": {f"q{int(p * 100)}": round(float(np.quantile(per_user, p)), 2) for p in q},
            "ratings_per_item": {f"q{int(p * 100)}": round(float(np.quantile(per_item, p)), 2) for p in q},
            "n_tags": None if self.tags is None else len(self.tags),
            # the users table's columns (ml-100k's, ml-1m's demographics), what cold-users and *+demographics read
            "user_features": None if self.users is None else [c for c in self.users.columns if c != "userId"],
            "dropped_duplicates": inter.dropped_duplicates,
            # movies rated in each genre, most first: the names --genre takes, listed nowhere else in the CLI
            "genres": self.genre_counts() or None,
        }
        if inter.timestamps is not None and inter.n_ratings:
            lo, hi = int(inter.timestamps.min()), int(inter.timestamps.max())
            out["time_span"] = {
                "first": pd.Timestamp(lo, unit="s").isoformat(),
                "last": pd.Timestamp(hi, unit="s").isoformat(),
                "days": round((hi - lo) / 86400, 1),
            }
        return out


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def locate(spec: DatasetSpec) -> Path | None:
    """Folder holding ``spec``'s files (bundled, or in the cache dir), or ``None`` when not present."""
    if spec.bundled:
        return bundled_path()
    root = cache_dir() / spec.name
    for cand in (root, root / spec.folder):
        if (cand / spec.ratings).is_file():
            return cand
    return None


def _layout(folder: Path) -> tuple[str, str, str | None, str, str | None, str]:
    """Detect which MovieLens layout a folder uses: (ratings, fmt, movies, fmt, tags, fmt)."""
    if (folder / "ratings.csv").is_file():
        return ("ratings.csv", "csv", "movies.csv", "csv", "tags.csv", "csv")
    if (folder / "ratings.dat").is_file():
        return ("ratings.dat", "dat", "movies.dat", "dat", "tags.dat", "dat")
    if (folder / "u.data").is_file():
        return ("u.data", "u.data", "u.item", "u.item", None, "csv")
    raise DataError(f"{folder}: no ratings file found (expected ratings.csv, ratings.dat or u.data)")


#: the endings of a ratings file's name: a missing one is "no such file", where load("/data/ratings.csv")
#: said "no such dataset name or folder (known names: ml-latest-small, …)"
_FILE_SUFFIXES = (".csv", ".dat", ".data", ".tsv", ".txt", ".parquet", ".gz", ".bz2", ".xz", ".zip")


def _not_cached(name: str) -> Doors:
    """The refusal of a registered dataset that is not fetched yet, with each door's way to fetch it:
    Python's ``movierec.load(name, download=True)`` (as Surprise's ``Dataset.load_builtin`` offers a
    download), the CLI's ``movierec data fetch``; and for a download made by hand, each door's ``path``.
    The CLI's leaves out the cache's folder (``movierec data list`` names it): with it the line was 186
    characters, three rows of 80 columns."""
    said = f"dataset {name!r} is not in the cache"
    return Doors(
        f"{said} ({cache_dir() / name}); fetch it: movierec.load({name!r}, download=True) (a download made "
        f"by hand: from movierec.datasets.fetch import fetch; fetch({name!r}, path=PATH))",
        f"{said}; fetch it: movierec data fetch {name} (add --path PATH for a download made by hand)",
    )


def load(
    name_or_path: str | Path | pd.DataFrame = "ml-latest-small",
    *,
    rating_scale: tuple[float, float] | None = None,
    with_tags: bool = True,
    download: bool = False,
    **columns: Any,
) -> Dataset:
    """Load a registered dataset by name (bundled or cached), a MovieLens-layout folder or a ratings
    file by path, or a pandas DataFrame of ratings (:func:`from_frame`; ``columns`` name its columns,
    as for a file: ``user_col``, ``item_col``, ``rating_col``, ``time_col``, and ``movies``: a movies
    file or DataFrame for titles, its id column named as ``item_col`` or ``movieId``).

    A registered dataset that is not in the cache is refused unless ``download`` is true: then it is
    fetched first (:func:`movierec.datasets.fetch.fetch`: checksum verified, a bar on a terminal), as
    ``movierec data fetch NAME`` does, so ``movierec.load('ml-100k', download=True)`` is Surprise's
    ``Dataset.load_builtin('ml-100k')`` without its prompt. GroupLens' terms apply to what it fetches."""
    if rating_scale is not None:  # a scale of nan, inf or MIN ≥ MAX is refused before anything is read
        rating_scale = check_rating_scale(rating_scale)
    if isinstance(name_or_path, pd.DataFrame):
        return from_frame(name_or_path, rating_scale=rating_scale, **columns)
    text = dataset_name(str(name_or_path))  # 'ML-100K' is ml-100k, and the dataset is named so
    path = Path(text).expanduser()
    if columns and not path.is_file():
        raise DataError(
            f"column options ({', '.join(sorted(columns))}) apply to a ratings file or a DataFrame, not to {text!r}"
        )
    if text in REGISTRY:
        spec = get_spec(text)
        folder = locate(spec)
        if folder is None and download:
            from movierec.datasets.fetch import fetch

            folder = fetch(spec)
        if folder is None:
            raise DataError(_not_cached(spec.name))
        if spec.bundled and rating_scale not in (None, tuple(spec.rating_scale)):
            # a declared scale is checked as for any folder (it was ignored: ml-latest-small's 0.5 and 5
            # passed a declared 1..3 silently); the cached copy holds the registry's scale
            return _load_folder(folder, spec.name, rating_scale, with_tags)
        if spec.bundled:
            return _load_bundled(with_tags)
        scale = rating_scale or spec.rating_scale
        return _load_folder(folder, spec.name, scale, with_tags)
    if not path.exists():
        if path.suffix.lower() in _FILE_SUFFIXES:  # a file's name: the dataset names were no help
            raise DataError(f"{path}: no such file")
        # a bare name ('ml-100') is answered with the closest registered one, as data fetch answers it
        hint = dataset_did_you_mean(text) if path.name == text.strip() else ""
        # with a guess, the count and where each door lists them: the 8 names after it made 162 columns
        python, cli = (
            some_of(REGISTRY, lister if hint else "", guessed=bool(hint), label="known")
            for lister in ("movierec.datasets.REGISTRY", "movierec data list")
        )
        said = f"{path}: no such dataset name or folder{hint}; "
        raise DataError(Doors(said + python, said + cli))
    if path.is_file():
        try:
            return load_ratings_file(path, rating_scale=rating_scale, **columns)
        except ColumnOptionsError as exc:  # Python's words: user_col='user_id', not --user-col user_id
            raise DataError(exc.in_keywords()) from None
    return _load_folder(path, path.name, rating_scale, with_tags)


def load_given(data: str | Path | pd.DataFrame, caller: str) -> Dataset:
    """:func:`load` for a function that takes data but no column options (``Recommender``, ``compare``): a
    frame or file whose columns need naming said "name them with user_col='user_id'", a keyword ``caller``
    does not take; the fix is to load it first, and the message now writes that line out."""
    try:
        return load(data)
    except DataError as exc:
        text = str(exc)
        named = re.search(r"; name (?:them|it) with (.+?)( \(or .+\))?$", text)
        if named is None or "=" not in named[1]:
            raise
        source = "df" if isinstance(data, pd.DataFrame) else repr(str(data))
        raise DataError(
            f"{text[: named.start()]}; {caller} takes no column names: load the data naming them first, "
            f"ds = movierec.load({source}, {named[1]}){named[2] or ''}, then {caller}(ds, …)"
        ) from None


@lru_cache(maxsize=2)
def _load_bundled_cached(with_tags: bool) -> Dataset:
    spec = REGISTRY["ml-latest-small"]
    return _load_folder(bundled_path(), "ml-latest-small", spec.rating_scale, with_tags)


def _load_bundled(with_tags: bool) -> Dataset:
    ds = _load_bundled_cached(with_tags)
    # hand out a fresh Interactions so callers cannot corrupt the cached copy's arrays
    inter = ds.interactions
    fresh = Interactions(
        inter.users.copy(),
        inter.items.copy(),
        inter.ratings.copy(),
        inter.user_map,
        inter.item_map,
        None if inter.timestamps is None else inter.timestamps.copy(),
        inter.rating_scale,
        inter.dropped_duplicates,
    )
    return Dataset(ds.name, fresh, ds.catalog, ds.tags, ds.sha256, ds.source, list(ds.notes))


class _BackgroundHash:
    """sha256 of a file computed in a thread while the parser runs (hashlib releases the GIL)."""

    def __init__(self, path: Path) -> None:
        self._result: str | None = None
        self._thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        try:
            self._result = sha256_file(path)
        except OSError:
            self._result = ""

    def result(self) -> str:
        self._thread.join()
        return self._result or ""


def _load_folder(
    folder: Path, name: str, rating_scale: tuple[float, float] | None, with_tags: bool
) -> Dataset:
    r_file, r_fmt, m_file, m_fmt, t_file, t_fmt = _layout(folder)
    digest = _BackgroundHash(folder / r_file)
    try:  # a folder of one's own may have no times, as a --ratings file may (MovieLens' own all have them)
        frame = read_ratings(folder / r_file, fmt=r_fmt, time_optional=r_fmt == "csv")
    except MissingColumnsError as exc:
        raise DataError(_folder_columns(exc, folder / r_file)) from None
    inter = Interactions.from_frame(
        frame,
        time_col="timestamp" if "timestamp" in frame.columns else None,
        rating_scale=rating_scale,
        source=str(folder / r_file),
        first_line=int(frame.attrs[FIRST_LINE]),
    )
    movies = read_movies(folder / m_file, fmt=m_fmt) if m_file and (folder / m_file).is_file() else None
    tags = None
    if with_tags and t_file and (folder / t_file).is_file():
        tags = read_tags(folder / t_file, fmt=t_fmt)
    notes = _time_notes(frame)
    if "timestamp" not in frame.columns:
        notes.append(
            f"{NO_TIME_COLUMN}, so time-based splits (temporal, leave-last-out) and time features are unavailable"
        )
    if inter.dropped_duplicates:
        notes.append(f"dropped {inter.dropped_duplicates:,} duplicate (user, movie) ratings, kept the latest")
    users = next((read_users(folder / f, fmt=fmt) for f, fmt in USER_FILES if (folder / f).is_file()), None)
    return Dataset(name, inter, movies, tags, digest.result(), str(folder), notes, users)


def _folder_columns(exc: MissingColumnsError, file: Path) -> Doors:
    """The fix for a dataset folder's ratings file without MovieLens' column names: it named ``--user-col
    user_id``, which ``--dataset`` (and ``load(folder)``) takes no part of; the file read on its own takes it,
    in each door's words (a :class:`Doors`; one line named both, "(movierec.load(...) in Python, --ratings
    ... in the CLI)")."""
    flags = " ".join(f"{MissingColumnsError._FLAGS[role][0]} {col or 'COLUMN'}" for role, col in exc.fixes)
    words = ", ".join(f"{MissingColumnsError._FLAGS[role][1]}={col or 'COLUMN'!r}" for role, col in exc.fixes)
    said = f"{exc.head}; a dataset folder's files take MovieLens' column names: rename them, or read the file on its own"
    return Doors(f"{said}: movierec.load({str(file)!r}, {words})", f"{said}: --ratings {file} {flags}")


def reloadable(ref: str) -> bool:
    """Whether :func:`load` can read ``ref`` again: a registered name or an existing path."""
    return bool(ref) and (registered_name(ref) is not None or Path(ref).exists())


def _time_notes(ratings: pd.DataFrame) -> list[str]:
    """The parser's notes on a ratings frame: a text file read without a header row because its first line
    is all numbers (:data:`~movierec.datasets.parsers.HEADER_NOTE`), timestamps that were milliseconds,
    microseconds or nanoseconds (:func:`movierec.interactions.epoch_seconds`); a list of zero to two notes,
    each as the parser wrote it (``str()`` would drop a :class:`Doors` note's CLI words)."""
    notes = [ratings.attrs.get(key) for key in (HEADER_NOTE, TIME_NOTE)]
    return [note if isinstance(note, str) else str(note) for note in notes if note]


#: how a ratings table's note begins when it was read without times: it has no 'timestamp' column, or
#: (a file without a header row) no timestamp field; the CLI says each in one 80-column line of its own
NO_TIME_COLUMN = "no 'timestamp' column: loaded without times"
NO_TIME_FIELD = "no timestamp field: loaded without times"


def _load_notes(inter: Interactions, auto_time: bool, ratings: pd.DataFrame, time_option: str) -> list[str]:
    """A custom ratings table's notes: no times (and how to name a column: ``time_option``, the words for
    its caller's setting, or a :class:`Doors` of each door's), the unit its times were read in when not
    seconds, duplicates dropped, and what data without ratings is taken for (every row a positive: the
    threshold defaults to its one value)."""
    has_time = "timestamp" in ratings.columns
    notes = _time_notes(ratings)
    if auto_time and not has_time and ratings.attrs.get(HEADER_NOTE):
        # a file without a header row has no column to name: its header note listed the fields it read
        notes.append(
            f"{NO_TIME_FIELD}, so time-based splits (temporal, leave-last-out) and time features are unavailable"
        )
    elif auto_time and not has_time:
        said = f"{NO_TIME_COLUMN}, so time-based splits (temporal, leave-last-out) and time features are unavailable"
        notes.append(framed(time_option, lambda option: f"{said}; name another column {option}"))
    if inter.dropped_duplicates:
        kept = "the latest" if inter.timestamps is not None else "the last row of each in the file (no times)"
        notes.append(f"dropped {inter.dropped_duplicates:,} duplicate (user, item) ratings, kept {kept}")
    if assumes_threshold(inter):
        notes.append(without_ratings_note(inter))
    return notes


def _frame_sha256(frame: pd.DataFrame) -> str:
    """sha256 of a ratings frame's canonical columns (ids, ratings, times), the checksum a result records."""
    h = hashlib.sha256()
    for col in frame.columns:
        values = frame[col].to_numpy()
        h.update(col.encode())
        if values.dtype == object:
            h.update("\x00".join(map(str, values)).encode())
        else:
            h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


#: the messages a ratings file gets, in a DataFrame's words (rows, keyword arguments)
_FRAME_WORDS = (
    (", line ", ", row "),
    ("--user-col", "user_col="),
    ("--item-col", "item_col="),
    ("--rating-col", "rating_col="),
    ("--time-col ''", "time_col=None"),
    ("--time-col", "time_col="),
)


def from_frame(
    frame: pd.DataFrame,
    *,
    name: str = "dataframe",
    rating_scale: tuple[float, float] | None = None,
    movies: str | Path | pd.DataFrame | None = None,
    **columns: Any,
) -> Dataset:
    """A :class:`Dataset` from a pandas DataFrame of ratings, checked as a ratings file is.

    ``columns`` name the frame's columns (``user_col="userId"``, ``item_col="movieId"``,
    ``rating_col="rating"``, ``time_col="timestamp"``; ``rating_col=None`` makes every row a 1, and
    without ``time_col`` a ``timestamp`` column is used when there is one; it holds seconds since 1970,
    ISO dates or datetimes of any unit, a tz-aware one read in UTC; numbers too large to be seconds,
    such as ``df.timestamp.astype("int64")`` of a datetime column, are read as milliseconds,
    microseconds or nanoseconds by their magnitude, :func:`movierec.interactions.epoch_seconds`, and a
    note in the dataset's ``notes`` says which). ``movies``: a movies file
    or a DataFrame with the item ids (a column named as ``item_col`` names the ratings', or
    ``movieId``), ``title`` and optionally ``genres`` (``|``-separated), for titles.
    Errors name the row by its position (0 = first). The frame is not modified; the dataset's
    ``sha256`` is computed over its ratings, so results record which data they came from.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"from_frame needs a pandas DataFrame, got {type(frame).__name__}")
    unknown = set(columns) - {"user_col", "item_col", "rating_col", "time_col"}
    if unknown:
        raise DataError(
            f"unknown option(s) {', '.join(sorted(unknown))}: use user_col, item_col, rating_col, time_col"
        )
    auto_time = "time_col" not in columns
    label = "DataFrame"
    try:
        ratings = ratings_from_frame(frame, label, time_optional=auto_time, line_offset=0, **columns)
        inter = Interactions.from_frame(
            ratings,
            rating_col="rating",
            time_col="timestamp" if "timestamp" in ratings.columns else None,
            rating_scale=rating_scale,
            source=label,
            first_line=0,
        )
        # a movies table may name its ids as the ratings do
        meta, titles_notes = _read_catalog(movies, inter, columns.get("item_col", "movieId"))
    except BadRowsError as exc:  # each bad row by its position, and its label where df.loc differs
        raise DataError(exc.render(functools.partial(_frame_row, frame))) from None
    except DataError as exc:
        text = exc.in_keywords() if isinstance(exc, ColumnOptionsError) else str(exc)
        for old, new in _FRAME_WORDS:
            text = text.replace(old, new)
        row = re.match(r"DataFrame, row (\d+):", text)
        if row and not frame.index.equals(pd.RangeIndex(len(frame))) and int(row[1]) < len(frame):
            # a filtered or re-indexed frame: the position, and the label df.loc takes
            label = frame.index[int(row[1])]
            label = label.item() if isinstance(label, np.generic) else label
            text = text.replace(row[0], f"DataFrame, row {row[1]} (index {label!r}):", 1)
        raise DataError(text) from None
    notes = _load_notes(inter, auto_time, ratings, "with time_col=") + titles_notes
    return Dataset(name, inter, meta, None, _frame_sha256(ratings), f"DataFrame ({len(frame):,} rows)", notes)


def _frame_row(frame: pd.DataFrame, row: int) -> str:
    """``row 7``, a DataFrame's row by position (0 = first), with the label ``df.loc`` takes when the
    frame was filtered or re-indexed: ``row 7 (index 'x')``."""
    if frame.index.equals(pd.RangeIndex(len(frame))) or row >= len(frame):
        return f"row {row}"
    label = frame.index[row]
    label = label.item() if isinstance(label, np.generic) else label
    return f"row {row} (index {label!r})"


def _read_catalog(
    movies: str | Path | pd.DataFrame | None, inter: Interactions, item_col: str, encoding: str | None = None
) -> tuple[pd.DataFrame | None, list[str]]:
    """The titles of ``movies`` (a movies file or a DataFrame with the same columns), keyed by the ratings'
    ``item_col`` or ``movieId``, as text when the ratings' item ids are text; a frame's errors name rows;
    and the notes for the dataset (:func:`_titles_notes`).
    ``encoding``: the file's text encoding (default UTF-8), the ratings file's."""
    if movies is None:
        return None, []
    text_ids = inter.item_map.ids.dtype == object  # text item ids: the titles' keys are text too
    if not isinstance(movies, pd.DataFrame):
        meta = read_movies(movies, id_col=item_col, text_ids=text_ids, encoding=encoding)
        label = str(movies)
    else:
        try:
            meta = movies_from_frame(movies, "movies DataFrame", id_col=item_col, text_ids=text_ids)
        except DataError as exc:  # a frame has rows (0 = first), not file lines
            raise DataError(str(exc).replace(", line ", ", row ", 1)) from None
        label = "movies DataFrame"
    _check_titles_join(meta, inter, label)
    return meta, _titles_notes(meta, inter, label)


def _titles_notes(meta: pd.DataFrame, inter: Interactions, label: str) -> list[str]:
    """A note when ``meta`` titles fewer than half the rated movies: a movies file of another version or
    catalogue than the ratings (some ids shared) gave lists of ``movieId 589`` headed by a title column and
    no word why, while one sharing no id at all is refused (:func:`_check_titles_join`)."""
    ids = inter.item_map.ids
    has_title = pd.Index(ids).isin(meta["movieId"])
    titled = int(has_title.sum())
    if not len(ids) or titled * 2 >= len(ids):
        return []
    return [
        f"{label} titles {titled:,} of the {len(ids):,} rated movies; the others are named by their id "
        f"(movieId {ids[~has_title][0]}): check that its ids are the ratings' own"
    ]


def _check_titles_join(meta: pd.DataFrame, inter: Interactions, label: str) -> None:
    """Refuse titles none of whose ids is a rated movie: a movies file keyed by other ids than the ratings
    (MovieLens' 1, 2, 3 beside IMDb's tt0114709) loaded without a word, and every list then named its movies
    ``item tt0114709``, as if no titles had been given."""
    ids = inter.item_map.ids
    if not len(meta) or not len(ids) or pd.Index(meta["movieId"]).isin(ids).any():
        return

    def some(values: Any) -> str:
        return ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in values[:3])

    raise DataError(
        f"{label}: none of its {len(meta):,} movie ids is a rated movie (its ids: {some(meta['movieId'])} …; "
        f"the ratings': {some(ids)} …): give titles keyed by the ratings' own item ids"
    )


def load_ratings_file(
    path: str | Path,
    *,
    rating_scale: tuple[float, float] | None = None,
    movies: str | Path | pd.DataFrame | None = None,
    encoding: str | None = None,
    **columns: Any,
) -> Dataset:
    """Load a custom ratings table (csv, tsv or parquet; ids may be strings or integers).

    ``columns`` are :func:`~movierec.datasets.parsers.read_ratings`'s (``user_col="userId"``,
    ``item_col="movieId"``, ``rating_col="rating"``, ``time_col="timestamp"``, ``delimiter`` (a character,
    ``"::"`` or a name such as ``"tab"``: :func:`~movierec.datasets.parsers.parse_delimiter`; default from
    the file's name, a tab for ``.tsv``, else a comma), ``header``; a ``None`` column is absent), passed
    through: the one list of a ratings file's column options. Without ``time_col`` a ``timestamp`` column
    is read when the file has one; a file without it loads without times, and the dataset's notes say so
    (a ``time_col`` named on purpose must exist).
    Timestamps are seconds since 1970, ISO dates or datetimes; integers too large to be seconds are
    milliseconds, microseconds or nanoseconds by their magnitude
    (:func:`movierec.interactions.epoch_seconds`), and a note says which unit was taken.

    ``movies``: titles for the lists, a movies file (``movies.csv``'s columns) or a pandas DataFrame with
    the same columns (``movieId``, or the ratings' ``item_col``, ``title`` and optionally ``|``-separated
    ``genres``), checked alike (a frame's errors name its row, 0 = first). A dataset whose titles came
    from a DataFrame cannot be loaded again from its path alone (:meth:`Dataset.reload_ref` is None).

    ``encoding``: the text encoding of the ratings file and the movies file (default UTF-8), a name Python
    knows (``"cp1252"`` for a file Excel saved on Windows, ``"latin-1"``); recorded with the other options
    so an experiment file loads the same text. Parquet files carry their own.
    """
    unknown = sorted(set(columns) - set(_FILE_OPTIONS))
    if unknown:  # was read_ratings()'s TypeError, naming a function the caller never called
        pandas = " (pandas' sep is delimiter=)" if "sep" in unknown else ""
        raise DataError(f"unknown option(s) {', '.join(unknown)}: use {', '.join(_FILE_OPTIONS)}{pandas}")
    path = Path(path).expanduser()
    encoding = check_encoding(encoding)
    if encoding is not None:
        columns["encoding"] = encoding
    suffix = path.suffix.lower()
    if (
        suffix in (".gz", ".bz2", ".xz", ".zip") and len(path.suffixes) > 1
    ):  # ratings.csv.gz: format from .csv
        suffix = path.suffixes[-2].lower()
    fmt = {".parquet": "parquet", ".pq": "parquet", ".tsv": "tsv", ".dat": "dat", ".data": "u.data"}.get(
        suffix, "csv"
    )
    if columns.get("delimiter") is not None:  # recorded as the character, whatever name it was given by
        columns["delimiter"] = parse_delimiter(columns["delimiter"])
    digest = _BackgroundHash(path) if path.is_file() else None
    auto_time = "time_col" not in columns
    try:
        frame = read_ratings(path, fmt=fmt, time_optional=auto_time, **columns)
    except ColumnOptionsError as exc:  # Python's words here; the CLI asks exc.in_flags() for its own
        exc.args = (exc.in_keywords(),)
        raise
    except NotEncodedError as exc:  # this reader takes an encoding: the advice names it
        raise exc.naming_encoding() from None
    first_line = int(frame.attrs.get(FIRST_LINE, 1))
    try:
        inter = Interactions.from_frame(
            frame,
            rating_col="rating",
            time_col="timestamp" if "timestamp" in frame.columns else None,
            rating_scale=rating_scale,
            source=str(path),
            first_line=first_line,
        )
    except BadRowsError as exc:  # ratings outside the declared scale: the file's own lines
        if fmt == "parquet":
            raise
        unpacked = read_unpacked(path)
        raise DataError(
            exc.render(row_lines(path if unpacked is None else unpacked, first_line == 2))
        ) from None
    try:
        meta, titles_notes = _read_catalog(movies, inter, columns.get("item_col", "movieId"), encoding)
    except NotEncodedError as exc:
        raise exc.naming_encoding() from None
    # a file is read from both doors: each one's setting (the CLI shortens the note, cli.common._in_one_line)
    notes = _load_notes(inter, auto_time, frame, Doors("with time_col=", "with --time-col")) + titles_notes
    options = {k: v for k, v in columns.items() if k in _RECORDED and v != _DEFAULT_COLUMNS.get(k)}
    if movies is not None and not isinstance(movies, pd.DataFrame):
        options["movies"] = str(Path(movies).expanduser().resolve())
    return Dataset(
        path.stem,
        inter,
        meta,
        None,
        digest.result() if digest else "",
        str(path),
        notes,
        load_options=options,
        catalog_in_memory=isinstance(movies, pd.DataFrame),
    )


#: a ratings file's options a dataset records (defaults left out) and their defaults
_RECORDED = ("user_col", "item_col", "rating_col", "time_col", "header", "delimiter", "encoding")
#: the column options a ratings file takes beside load_ratings_file's own keywords (read_ratings' own)
_FILE_OPTIONS = ("user_col", "item_col", "rating_col", "time_col", "delimiter", "header")
_DEFAULT_COLUMNS: dict[str, Any] = {
    "user_col": "userId",
    "item_col": "movieId",
    "rating_col": "rating",
    "encoding": "utf-8",
}


def check_encoding(encoding: str | None) -> str | None:
    """``encoding`` in Python's own spelling (``"CP-1252"`` → ``"cp1252"``), or ``None`` for UTF-8's default;
    a name Python does not know is one :class:`ConfigError` naming ``encoding=`` (``--encoding`` where the
    CLI prints it: a :class:`Doors`)."""
    if encoding is None:
        return None
    import codecs

    try:
        name = codecs.lookup(str(encoding)).name
    except LookupError:
        known = "give a name Python knows, such as utf-8, cp1252 or latin-1"
        raise ConfigError(
            Doors(
                f"unknown text encoding {encoding!r} (encoding=): {known}",
                f"unknown text encoding {encoding!r} (--encoding): {known}",
            )
        ) from None
    return {"iso8859-1": "latin-1"}.get(name, name)
