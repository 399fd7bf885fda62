"""Id maps and the interaction log every model trains on.

Raw user/movie ids are mapped ONCE, when data is loaded, to dense ``int32`` indices; models,
kernels and metrics only ever see those indices (LensKit's ``Vocabulary``, RecTools' ``IdMap``).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movierec.errors import ConfigError, DataError, Doors, UnknownIdError, framed

__all__ = [
    "DEFAULT_THRESHOLD",
    "INT_ID_RULE",
    "BadRowsError",
    "IdMap",
    "IdMapped",
    "Interactions",
    "RowProblem",
    "assumes_threshold",
    "check_distinct_columns",
    "check_rating_scale",
    "datetime_seconds",
    "empty_ids",
    "epoch_seconds",
    "looks_numeric",
    "parse_int_id",
    "rating_levels",
    "rating_model_without_ratings",
    "rating_step",
    "refused_rating",
    "resolve_threshold",
    "scale_threshold_note",
    "threshold_scale_note",
    "tie_key",
    "time_order",
    "without_ratings_note",
]


_INT_ID = re.compile(r"-?(?:0|[1-9][0-9]{0,18})")
INT_ID_RULE = (
    "integer ids are written in ASCII digits only, without sign, spaces, underscores or leading zeros"
)

#: the fix when a relevance threshold leaves nothing, in each door's words (a :class:`Doors`; put it in a
#: message with :func:`movierec.errors.framed`): it named both in one line, "(threshold= in Python,
#: --implicit-threshold in the CLI)"
LOWER_THRESHOLD = Doors("lower the threshold (threshold=)", "lower the threshold (--implicit-threshold)")


def _threshold_doors(said: str, value: str, fix: Callable[[str], str]) -> Doors:
    """``said``, then the fix worded around the threshold to set (``fix(setting)``) in each door's spelling:
    ``threshold=5`` in Python, ``--implicit-threshold 5`` in the CLI. One line named both ("threshold= in
    Python, --implicit-threshold in the CLI"), so each reader had the other's syntax in front of them, and
    the CLI's line took three rows of an 80-column terminal."""
    return Doors(f"{said}; {fix(f'threshold={value}')}", f"{said}; {fix(f'--implicit-threshold {value}')}")


#: the implicit threshold when none is given: MovieLens' 4 stars of 5 (data without ratings: its one value,
#: :func:`resolve_threshold`)
DEFAULT_THRESHOLD = 4.0


def resolve_threshold(inter: Interactions, threshold: float | None) -> float:
    """The implicit threshold to use on ``inter``: ``threshold`` when given (an explicit one always wins,
    even one that leaves no positives), else :data:`DEFAULT_THRESHOLD`, or, on data without ratings
    (:attr:`Interactions.interactions_only`: a log loaded without a rating column is all 1s), its one value,
    so every row is a positive: 4 left such a log with none, and every command failed until told 1."""
    if threshold is not None:
        value = float(threshold)
        if not np.isfinite(value):  # nan compares false with every rating: 'no positives, lower it' misled
            raise ConfigError(
                Doors(
                    f"the implicit threshold must be a finite number, got threshold={threshold!r}",
                    f"the implicit threshold must be a finite number, got --implicit-threshold {threshold}",
                )
            )
        return value
    if inter.interactions_only:
        return float(inter.ratings[0])
    return DEFAULT_THRESHOLD


def assumes_threshold(inter: Interactions) -> bool:
    """Whether data without ratings needs a threshold of its own: its one value lies below the default 4 (a
    log loaded without a rating column is all 1s). Where every rating is 4 or 5 the default already counts
    every row as a positive, so nothing is assumed and nothing is said (a synthetic log rated 4 throughout
    printed the note before every error line)."""
    return inter.interactions_only and float(inter.ratings[0]) < DEFAULT_THRESHOLD


def without_ratings_note(inter: Interactions, option: str = "") -> str:
    """What movierec assumes of data without ratings, said once where it is loaded (``Dataset.notes``; the
    CLI prints it as a note) and by ``compare`` when it picked the threshold itself: each row is a positive,
    at the threshold named with its value. ``option`` is the caller's one spelling (``"--implicit-threshold"``
    from the CLI, whose line fits 80 columns); without it, each door's (a :class:`Doors`: ``threshold=``
    in Python, ``--implicit-threshold`` where the CLI prints it), where one line named both."""
    value = f"{float(inter.ratings[0]):g}"
    if option:
        return f"no ratings: each row is a positive ({option} defaults to {value})"
    return Doors(
        f"no ratings: each row is a positive (threshold= defaults to {value})",
        f"no ratings: each row is a positive (--implicit-threshold defaults to {value})",
    )


def scale_threshold_note(inter: Interactions, what: str = "relevance ≥ 4") -> str | None:
    """The note for the default threshold, 4 (MovieLens' 4 stars of 5), on data whose ratings top out
    elsewhere: on ratings 1-10 it makes 94% of them positives, a 4 of 10 (two stars) a liked movie; ``None``
    on a scale up to 5 and on data without ratings (its own default). ``what`` names the threshold's use."""
    lo, hi = float(inter.ratings.min()), float(inter.ratings.max())
    return threshold_scale_note(lo, hi, float((inter.ratings >= DEFAULT_THRESHOLD).mean()), what)


def threshold_scale_note(
    lo: float, hi: float, share: float, what: str = "relevance ≥ 4", setting: str | None = None
) -> str | None:
    """:func:`scale_threshold_note` from the ratings' ``lo``, ``hi`` and the ``share`` of them ≥ 4, for data
    that is not in memory (Spark's, counted in one pass over the table); ``setting``: how the caller's
    threshold is spelled, else each door's (a :class:`Doors`: ``threshold=`` in Python, ``--implicit-
    threshold`` where the CLI prints it; one line named both, and ran to three rows at 80 columns)."""
    if hi == 5.0 or lo == hi:
        return None
    said = (
        f"{what} is MovieLens' 4 stars of 5; on this data's ratings ({lo:g}–{hi:g}) it counts "
        f"{share:.0%} of them as positives: set a threshold for this scale "
    )
    if setting:  # a Doors setting gives a Doors note (Spark's implicit_threshold= and --implicit-threshold)
        return framed(setting, lambda named: f"{said}({named})")
    return Doors(f"{said}(threshold=)", f"{said}(--implicit-threshold)")


def rating_model_without_ratings(model: str, inter: Interactions) -> str:
    """The warning for a rating model asked for by name on data without ratings: it trains, as asked, but
    predicts the one rating for every movie, so its list ranks by near-constant scores."""
    return (
        f"{model} is a rating model and this data has no ratings (every rating is {float(inter.ratings[0]):g}): "
        f"it learns nothing from it, predicts {float(inter.ratings[0]):g} for every movie and ranks by "
        "near-constant scores; a model that learns from positives (ease, itemknn, als, bpr) suits such data"
    )


def no_positives(threshold: float, ratings: np.ndarray) -> ConfigError:
    """The error for an implicit threshold above every rating. When every rating is one value (a log of
    interactions loaded without a rating column is all 1s) it names that value as the threshold to set: 'lower
    the threshold' left a person with such a file guessing what to lower it to, and that the 1s were movierec's."""
    lo, hi = float(ratings.min()), float(ratings.max())
    if lo == hi:
        said = (
            f"implicit threshold {threshold:g} leaves no positives: every rating is {lo:g} (a file without a "
            "rating column is all 1s)"
        )
        return ConfigError(_threshold_doors(said, f"{lo:g}", lambda setting: f"{setting} counts every row"))
    # 0/1 data (liked or not, clicked or not): 'lower the threshold' gave no value to lower it to
    top = float((ratings >= hi).mean())
    share = f"{top:.0%}" if top >= 0.01 else "under 1%"
    said = f"implicit threshold {threshold:g} leaves no positives (ratings range {lo:g}..{hi:g})"
    return ConfigError(
        _threshold_doors(
            said, f"{hi:g}", lambda s: f"lower it: {s}, the highest rating, counts {share} of them"
        )
    )


#: how many bad rows a :class:`BadRowsError` names by line; its count covers them all
BAD_ROWS_SHOWN = 3


@dataclass(frozen=True)
class RowProblem:
    """One rule some rows of a ratings table break: ``mask`` marks them (one bool per row), ``kind`` is the
    rule in a few words for the count (``"rating not a finite number"``), ``said(row)`` a row's problem in a
    sentence with its value (``"rating 'good' is not a finite number"``), for a message about one row, and
    ``value(row)`` the column and value alone (``"rating 'good'"``), for a list of rows (default: ``said``)."""

    mask: np.ndarray
    kind: str
    said: Callable[[int], str]
    value: Callable[[int], str] | None = None

    def shown(self, row: int) -> str:
        """``row``'s column and value, as a list of bad rows names it."""
        return self.value(row) if self.value is not None else self.said(row)


def _at_line(first_line: int) -> Callable[[int], str]:
    return lambda row: f"line {row + first_line}"


def empty_ids(mask: np.ndarray, col: str) -> RowProblem:
    """The rows ``mask`` marks, whose ``col`` (an id column) is empty."""
    return RowProblem(mask, f"empty {col}", lambda row: f"empty {col}", lambda row: f"{col} empty")


def _with_value(where: str, value: str) -> str:
    """``line 4 (rating 'good')``; a place already in brackets takes the value inside them:
    ``row 3 (index 13, rating empty)``."""
    return f"{where[:-1]}, {value})" if where.endswith(")") else f"{where} ({value})"


class BadRowsError(DataError):
    """Rows of a ratings table that break its rules, all counted in one line: one bad row reads as before
    (``ratings.csv, line 3: rating 'good' is not a finite number``); several give their number, per rule
    when more than one is broken, and the first :data:`BAD_ROWS_SHOWN` by line with their values
    (``ratings.csv: 5 bad rows (rating not a finite number): line 3 (rating 'good'), line 9 (rating empty),
    line 12 (rating 'n/a') and 2 more``; ``(empty userId: 1, rating not a finite number: 4)`` for two rules).
    Only the first bad row was named, so a file with many took a run per row to mend.

    ``where(row)`` names a row (0 = the table's first): ``line N`` of a file by default; :meth:`render`
    words the same rows again, for a DataFrame's positions or a file whose blank lines pyarrow skipped."""

    def __init__(
        self, source: str, problems: Sequence[RowProblem], first_line: int = 1, hint: str = ""
    ) -> None:
        self.source = source
        self.problems = [p for p in problems if p.mask.any()]
        self.hint = hint  # the way forward, after the rows (a Doors: each door's words)
        super().__init__(self.render(_at_line(first_line)))

    def render(self, where: Callable[[int], str]) -> str:
        """The message with each row named by ``where(row)``."""
        bad = np.logical_or.reduce([p.mask for p in self.problems])
        rows = np.flatnonzero(bad)

        def first(row: int) -> RowProblem:
            return next(p for p in self.problems if p.mask[row])

        if len(rows) == 1:
            one = f"{self.source}, {where(int(rows[0]))}: {first(int(rows[0])).said(int(rows[0]))}"
            return framed(self.hint, lambda hint: one + hint) if self.hint else one
        if len(self.problems) == 1:
            kinds = self.problems[0].kind
        else:
            kinds = ", ".join(f"{p.kind}: {int(p.mask.sum()):,}" for p in self.problems)
        shown = ", ".join(
            _with_value(where(int(r)), first(int(r)).shown(int(r))) for r in rows[:BAD_ROWS_SHOWN]
        )
        more = f" and {len(rows) - BAD_ROWS_SHOWN:,} more" if len(rows) > BAD_ROWS_SHOWN else ""
        text = f"{self.source}: {len(rows):,} bad rows ({kinds}): {shown}{more}"
        return framed(self.hint, lambda hint: text + hint) if self.hint else text


def parse_int_id(text: str) -> int | None:
    """The integer an id spelt ``text`` names, or ``None`` unless ``text`` is its one canonical spelling.

    Canonical means what ``str(int)`` writes: ASCII digits, an optional leading ``-``, no ``+``,
    no leading zeros, no ``_``, no whitespace or newline, at most 19 digits within int64. So
    ``"42"`` is 42, while ``"042"``, ``"+42"``, ``" 42"``, ``"42\\n"``, ``"4_2"``, ``"４２"``
    (fullwidth) and ``"٤٢"`` (Arabic-Indic) name nothing: Python's ``int()`` accepts all of
    them, which let look-alike spellings reach real users and be stored as new ids.
    """
    if not _INT_ID.fullmatch(text) or text == "-0":  # fullmatch: "$" would accept a trailing newline
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def looks_numeric(text: str) -> bool:
    """True when Python would read ``text`` as a number (``int()`` or ``float()`` accepts it)."""
    for parse in (int, float):
        try:
            parse(text)
        except (ValueError, OverflowError):
            continue
        return True
    return False


class IdMap:
    """A bijection between raw ids (ints or strings) and dense indices ``0..n-1``.

    Index ``i`` stands for ``ids[i]``. Lookups are vectorised through a pandas ``Index``.
    """

    def __init__(self, ids: Sequence[Any] | np.ndarray | pd.Index, *, kind: str = "id") -> None:
        index = pd.Index(ids)
        if not index.is_unique:
            dup = index[index.duplicated()][0]
            raise DataError(f"duplicate {kind} id {dup!r} in id map")
        self._index = index
        self.kind = kind

    @classmethod
    def from_values(
        cls, values: Sequence[Any] | np.ndarray | pd.Series, *, kind: str = "id"
    ) -> tuple[IdMap, np.ndarray]:
        """Build a map from observed values (sorted unique ids) and return it with the int32 codes."""
        arr = values if isinstance(values, np.ndarray) else None
        if arr is not None and arr.dtype.kind in "iu" and len(arr) > 1 and bool(np.all(arr[1:] >= arr[:-1])):
            # already sorted (MovieLens files are sorted by user): O(n), no hashing; same result
            starts = np.empty(len(arr), dtype=bool)
            starts[0] = True
            np.not_equal(arr[1:], arr[:-1], out=starts[1:])
            codes = np.cumsum(starts, dtype=np.int64) - 1
            return cls(arr[starts], kind=kind), codes.astype(np.int32)
        if arr is not None and arr.dtype.kind in "iu" and len(arr):
            lo, hi = int(arr.min()), int(arr.max())
            if hi - lo < max(1 << 22, 4 * len(arr)) and hi - lo < 1 << 25:
                # integer ids in a modest range (MovieLens: < 300k): a lookup table beats hashing 10x
                present = np.zeros(hi - lo + 1, dtype=bool)
                present[arr - lo] = True
                lookup = np.cumsum(present, dtype=np.int32) - 1
                return cls(np.flatnonzero(present).astype(arr.dtype) + lo, kind=kind), lookup[arr - lo]
        codes, uniques = pd.factorize(pd.Series(values), sort=True)
        return cls(uniques, kind=kind), codes.astype(np.int32, copy=False)

    # --- basic protocol -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, raw: object) -> bool:
        try:
            return self._coerce_one(raw) in self._index
        except (TypeError, ValueError):
            return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdMap) and self._index.equals(other._index)

    def __hash__(self) -> int:  # maps are compared by value but used as identities
        return id(self)

    def __repr__(self) -> str:
        return f"IdMap({self.kind}, n={len(self)})"

    @property
    def ids(self) -> np.ndarray:
        """Raw ids in index order."""
        return self._index.to_numpy()

    # --- lookups --------------------------------------------------------------------------
    def _coerce_one(self, raw: object) -> object:
        """Turn a CLI/HTTP string like ``"42"`` into the map's id type when the map holds integers."""
        if isinstance(raw, str) and self._index.dtype.kind in "iu":
            value = parse_int_id(raw)
            if value is None:
                raise UnknownIdError(f"unknown {self.kind} id {raw!r} ({INT_ID_RULE})")
            return value
        if isinstance(raw, (int, np.integer)) and self._index.dtype.kind not in "iuf":
            return str(raw)  # object or pandas-3 ``str`` dtype: string ids
        return raw

    def canonical(self, raw: object, field: str = "id") -> int | str:
        """``raw`` in this map's id type, known or not (for storing new ids, e.g. a web visitor's).

        Integer maps: an int, or its canonical spelling (:func:`parse_int_id`), is that ``int``; a
        look-alike number (``"007"``, ``"+7"``, ``"７"``, ``" 7"``, ``"7.0"``) raises ``ConfigError``;
        any other text (``"web-3f2a"``) stays a ``str``. String maps: ``str(raw)``.
        """
        if self._index.dtype.kind not in "iu":
            return str(raw)
        if isinstance(raw, (int, np.integer)) and not isinstance(raw, bool):
            return int(raw)
        text = str(raw)
        value = parse_int_id(text)
        if value is not None:
            return value
        if looks_numeric(text):
            raise ConfigError(f"{field}: {text!r} is not a valid {self.kind} id ({INT_ID_RULE})")
        return text

    def index(self, raw: Any) -> Any:
        """Indices of raw ids (scalar in, int out; sequence in, int32 array out); unknown ids raise."""
        if np.ndim(raw) == 0 and not isinstance(raw, (list, tuple, np.ndarray, pd.Series, pd.Index)):
            key = self._coerce_one(raw)
            try:
                pos = self._index.get_loc(key)
            except (KeyError, TypeError) as exc:
                raise UnknownIdError(f"unknown {self.kind} id {raw!r}") from exc
            return int(pos)  # type: ignore[arg-type]
        values = [self._coerce_one(r) for r in raw] if not isinstance(raw, np.ndarray) else raw  # type: ignore[union-attr]
        pos = self._index.get_indexer(pd.Index(values))
        if (pos < 0).any():
            bad = np.asarray(values, dtype=object)[pos < 0][0]
            raise UnknownIdError(f"unknown {self.kind} id {bad!r} ({int((pos < 0).sum())} unknown in all)")
        return pos.astype(np.int32)

    def get(self, raw: object) -> int | None:
        """Index of a raw id, or ``None`` when unknown."""
        try:
            return self.index(raw)
        except UnknownIdError:
            return None

    def to_raw(self, idx: int | np.ndarray) -> Any:
        """Raw ids of indices."""
        return self._index.to_numpy()[idx]


class IdMapped:
    """Something indexed by one user :class:`IdMap` and one item :class:`IdMap` (interactions, an artifact)."""

    user_map: IdMap
    item_map: IdMap

    @property
    def n_users(self) -> int:
        """How many distinct users it has ids for (its user index runs 0 … n_users − 1)."""
        return len(self.user_map)

    @property
    def n_items(self) -> int:
        """How many distinct movies it has ids for (its item index runs 0 … n_items − 1)."""
        return len(self.item_map)


@dataclass(eq=False)
class Interactions(IdMapped):
    """A ratings log on dense indices: parallel COO arrays plus cached CSR/CSC views.

    ``user_map``/``item_map`` are shared by every split of the same data, so indices mean the
    same thing in train and test. ``n_items`` counts the whole item map (items may have no
    interactions in a given split).
    """

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    user_map: IdMap
    item_map: IdMap
    timestamps: np.ndarray | None = None
    rating_scale: tuple[float, float] = (0.5, 5.0)
    dropped_duplicates: int = 0
    #: an implicit view's ratings before :meth:`to_implicit` set each to 1 (``None`` elsewhere): what a
    #: model's ``weighting="rating"`` weighs by, as rating confidence (Hu et al. 2008)
    source_ratings: np.ndarray | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.users = np.ascontiguousarray(self.users, dtype=np.int32)
        self.items = np.ascontiguousarray(self.items, dtype=np.int32)
        self.ratings = np.ascontiguousarray(self.ratings, dtype=np.float32)
        if self.timestamps is not None:
            self.timestamps = np.ascontiguousarray(self.timestamps, dtype=np.int64)
        if self.source_ratings is not None:
            self.source_ratings = np.ascontiguousarray(self.source_ratings, dtype=np.float32)
        n = len(self.users)
        if (
            len(self.items) != n
            or len(self.ratings) != n
            or (self.timestamps is not None and len(self.timestamps) != n)
            or (self.source_ratings is not None and len(self.source_ratings) != n)
        ):
            raise ValueError("users, items, ratings, timestamps and source ratings must have the same length")
        lo, hi = self.rating_scale
        self.rating_scale = (float(lo), float(hi))

    # --- construction ---------------------------------------------------------------------
    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        user_col: str = "userId",
        item_col: str = "movieId",
        rating_col: str | None = "rating",
        time_col: str | None = "timestamp",
        rating_scale: tuple[float, float] | None = None,
        user_map: IdMap | None = None,
        item_map: IdMap | None = None,
        source: str = "data",
        first_line: int = 1,
    ) -> Interactions:
        """Map a ratings frame to indices (once), validate ratings, keep the latest of duplicate pairs.

        ``rating_col=None`` makes every row a positive with rating 1. When ``rating_scale`` is
        given, ratings outside it are an error; otherwise the scale is the observed min/max.
        ``user_map``/``item_map`` reuse existing maps (unknown ids then raise). ``first_line`` is
        the file line of row 0, so errors name the right line (2 for a file with a header).
        Timestamps are stored as whole seconds since 1970: a datetime column of any unit is converted
        (:func:`datetime_seconds`), and a numeric column too large to be seconds is read as
        milliseconds, microseconds or nanoseconds by :func:`epoch_seconds`'s rule, with a
        ``UserWarning`` saying which unit it took.
        """
        check_distinct_columns(source, user_col, item_col, rating_col)
        # each refusal names its keyword: a frame of three columns (Surprise's load_from_df) met the default
        # time_col with "missing column 'timestamp' (found: userId, movieId, rating)" and no way on
        unnamed = {
            "rating_col": " (or rating_col=None for a frame without ratings: every row a positive of 1)",
            "time_col": " (or time_col=None for none)",  # the words of load()'s refusal
        }
        for key, col in (
            ("user_col", user_col),
            ("item_col", item_col),
            ("rating_col", rating_col),
            ("time_col", time_col),
        ):
            if col is not None and col not in df.columns:
                raise DataError(
                    f"{source}: missing column {col!r} (found: {', '.join(map(str, df.columns))}); "
                    f"name it with {key}=COLUMN{unnamed.get(key, '')}"
                )
        if len(df) == 0:
            raise DataError(f"{source}: no ratings")
        if rating_col is None:
            ratings = np.ones(len(df), dtype=np.float32)
        else:
            ratings = _numeric(df[rating_col], "rating", source, first_line).astype(np.float32, copy=False)
        timestamps = None
        if time_col is not None:
            ts = _numeric(df[time_col], "timestamp", source, first_line)
            if df[time_col].dtype.kind != "M":  # numbers: seconds, or ms/µs/ns told by their magnitude
                ts, note = epoch_seconds(ts, source, first_line)
                if note is not None:  # no notes list here: a notebook hears it as the loaders' note
                    warnings.warn(note, UserWarning, stacklevel=2)
            if (ts < 0).any():
                neg = RowProblem(
                    ts < 0,
                    "negative timestamp",
                    lambda row: f"negative timestamp {ts[row]:g}",
                    lambda row: f"timestamp {ts[row]:g}",
                )
                raise BadRowsError(source, [neg], first_line)
            timestamps = ts.astype(np.int64, copy=False)
        ratings = _check_scale(ratings, rating_scale, source, first_line)
        # own writable arrays, never read-only views of the caller's frame (pandas copy-on-write)
        if not ratings.flags.writeable:
            ratings = ratings.copy()
        if timestamps is not None and not timestamps.flags.writeable:
            timestamps = timestamps.copy()
        empty = [empty_ids(df[col].isna().to_numpy(), col) for col in (user_col, item_col)]
        if any(p.mask.any() for p in empty):
            raise BadRowsError(source, empty, first_line)
        if user_map is None:
            user_map, u = IdMap.from_values(df[user_col].to_numpy(), kind="user")
        else:
            u = user_map.index(df[user_col].to_numpy())
        if item_map is None:
            item_map, i = IdMap.from_values(df[item_col].to_numpy(), kind="item")
        else:
            i = item_map.index(df[item_col].to_numpy())
        scale = rating_scale if rating_scale is not None else (float(ratings.min()), float(ratings.max()))
        u, i, ratings, timestamps, dropped = _drop_duplicates(u, i, ratings, timestamps, len(item_map))
        return cls(u, i, ratings, user_map, item_map, timestamps, scale, dropped)

    @classmethod
    def from_csr(
        cls,
        matrix: sp.spmatrix | sp.sparray,
        *,
        user_ids: Sequence[Any] | np.ndarray | None = None,
        item_ids: Sequence[Any] | np.ndarray | None = None,
    ) -> Interactions:
        """A users × items sparse matrix (what ``implicit`` and scipy users hold) as interactions.

        Row ``u`` is user index ``u`` and column ``i`` item index ``i``, so the matrix's indices mean
        the same here; ``user_ids``/``item_ids`` name them (default: the indices themselves). Each
        stored nonzero is one interaction whose value is kept as its rating: models read it with
        ``weighting="values"`` (a confidence such as ``α·counts`` or BM25 weights; the default
        ``binary`` counts each as 1). Stored zeros are dropped; NaN or infinite values are refused.
        The rating scale is the values' min..max.
        """
        if not sp.issparse(matrix) or len(matrix.shape) != 2:
            raise ConfigError(
                f"from_csr takes a 2-d scipy.sparse users × items matrix, got {type(matrix).__name__}"
            )
        coo = sp.coo_matrix(matrix)
        coo.sum_duplicates()
        coo.eliminate_zeros()
        n_users, n_items = coo.shape
        maps = []
        for ids, n, kind, axis in (
            (user_ids, n_users, "user", "rows"),
            (item_ids, n_items, "item", "columns"),
        ):
            ids = np.arange(n) if ids is None else np.asarray(ids)
            if len(ids) != n:
                raise ConfigError(f"{kind}_ids has {len(ids)} ids but the matrix has {n} {axis} ({kind}s)")
            if len(pd.unique(ids)) != n:
                raise ConfigError(f"{kind}_ids holds the same id twice: each {kind} needs its own")
            maps.append(IdMap(ids, kind=kind))
        values = np.asarray(coo.data, dtype=np.float32)
        if not np.isfinite(values).all():
            raise ConfigError(f"the matrix holds {int((~np.isfinite(values)).sum())} NaN or infinite values")
        if coo.nnz == 0:
            raise DataError("the matrix has no nonzero values: no interactions")
        scale = (float(values.min()), float(values.max()))
        return cls(coo.row, coo.col, values, maps[0], maps[1], rating_scale=scale)

    # --- shape (n_users, n_items from IdMapped) ----------------------------------------------
    @property
    def n_ratings(self) -> int:
        """How many rows (ratings, or interactions in data without ratings) the log holds; ``len()`` too."""
        return len(self.users)

    def __len__(self) -> int:
        return self.n_ratings

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_users, n_items)``: the shape of the user × item matrix its ratings fill (:meth:`csr`)."""
        return (self.n_users, self.n_items)

    @property
    def density(self) -> float:
        """Share of observed (user, item) cells among users and items that have interactions."""
        nu = len(np.unique(self.users))
        ni = len(np.unique(self.items))
        return self.n_ratings / float(nu * ni) if nu and ni else 0.0

    @property
    def interactions_only(self) -> bool:
        """True for data without ratings: every rating one value (``rating_col=None`` makes each row a 1), so
        there is nothing for a rating model to learn and every row is a positive. An implicit view
        (:meth:`to_implicit`, whose 1s replace ratings it keeps in ``source_ratings``) is not such data."""
        if self.source_ratings is not None or not self.n_ratings:
            return False
        return bool(self.ratings.min() == self.ratings.max())

    @property
    def global_mean(self) -> float:
        """The mean of all its ratings (0.0 when it has none), on the data's scale: 3.5 on ml-latest-small."""
        return float(self.ratings.mean(dtype=np.float64)) if self.n_ratings else 0.0

    def __repr__(self) -> str:
        return f"Interactions(n_users={self.n_users}, n_items={self.n_items}, n_ratings={self.n_ratings})"

    # --- views ----------------------------------------------------------------------------
    def csr(self) -> sp.csr_matrix:
        """Users × items matrix of ratings (float32, sorted indices), cached."""
        if "csr" not in self._cache:
            m = sp.csr_matrix((self.ratings, (self.users, self.items)), shape=self.shape, dtype=np.float32)
            m.sort_indices()
            self._cache["csr"] = m
        return self._cache["csr"]

    def csc(self) -> sp.csc_matrix:
        """Items-by-column view of :meth:`csr`, cached."""
        if "csc" not in self._cache:
            m = self.csr().tocsc()
            m.sort_indices()
            self._cache["csc"] = m
        return self._cache["csc"]

    def user_counts(self) -> np.ndarray:
        """How many ratings each user has, indexed by user index (length :attr:`n_users`, zeros included)."""
        return np.bincount(self.users, minlength=self.n_users)

    def item_counts(self) -> np.ndarray:
        """How many ratings each movie has, indexed by item index (length :attr:`n_items`, zeros included)."""
        return np.bincount(self.items, minlength=self.n_items)

    # --- derived logs ---------------------------------------------------------------------
    def subset(self, rows: np.ndarray) -> Interactions:
        """Rows selected by a boolean mask or index array, sharing the id maps."""
        ts = None if self.timestamps is None else self.timestamps[rows]
        source = None if self.source_ratings is None else self.source_ratings[rows]
        return Interactions(
            self.users[rows],
            self.items[rows],
            self.ratings[rows],
            self.user_map,
            self.item_map,
            ts,
            self.rating_scale,
            source_ratings=source,
        )

    def to_implicit(self, threshold: float = 4.0) -> Interactions:
        """Positives only: rows with rating ≥ ``threshold``, each with weight 1 (the notebook's view).

        Their ratings stay in ``source_ratings``, for a model that weighs positives by them
        (``weighting="rating"``); the view of a view keeps the first ratings."""
        mask = self.ratings >= threshold
        if not mask.any():
            raise no_positives(threshold, self.ratings)
        out = self.subset(mask)
        if out.source_ratings is None:
            out.source_ratings = out.ratings
        out.ratings = np.ones(out.n_ratings, dtype=np.float32)
        out.rating_scale = (1.0, 1.0)
        return out

    def concat(self, other: Interactions) -> Interactions:
        """Append another log that shares the same id maps (duplicates keep the later row)."""
        if other.user_map is not self.user_map and other.user_map != self.user_map:
            raise ValueError("cannot concat interactions with different user maps")
        if other.item_map is not self.item_map and other.item_map != self.item_map:
            raise ValueError("cannot concat interactions with different item maps")
        ts = None
        if self.timestamps is not None and other.timestamps is not None:
            ts = np.concatenate([self.timestamps, other.timestamps])
        u, i, rows, ts, dropped = _drop_duplicates(  # rows: which of the joined rows are kept
            np.concatenate([self.users, other.users]),
            np.concatenate([self.items, other.items]),
            np.arange(self.n_ratings + other.n_ratings),
            ts,
            self.n_items,
            keep="last-row" if ts is None else "latest",
        )
        r = np.concatenate([self.ratings, other.ratings])[rows]
        source = None
        if self.source_ratings is not None and other.source_ratings is not None:
            source = np.concatenate([self.source_ratings, other.source_ratings])[rows]
        return Interactions(
            u, i, r, self.user_map, self.item_map, ts, self.rating_scale, dropped, source_ratings=source
        )

    def to_frame(self, *, raw_ids: bool = True) -> pd.DataFrame:
        """Back to a frame (raw ids by default) with columns userId, movieId, rating[, timestamp]."""
        data: dict[str, Any] = {
            "userId": self.user_map.to_raw(self.users) if raw_ids else self.users,
            "movieId": self.item_map.to_raw(self.items) if raw_ids else self.items,
            "rating": self.ratings,
        }
        if self.timestamps is not None:
            data["timestamp"] = self.timestamps
        return pd.DataFrame(data)


# --- helpers -------------------------------------------------------------------------------


def distinct_pairs(users: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    """Each (user index, item index) pair's key ``user · n_items + item``, once, sorted (what ``np.unique`` of
    the keys gives): a log that repeats a pair (plays) holds it once here.

    A sort and a neighbour compare, not ``np.unique``: numpy 2.x's hash-based unique took ~20 ms on
    ml-latest-small's 81k training pairs, this ~3 ms, and every full-ranking evaluation (each scored epoch of
    an early-stopped fit included) asks for them (novelty's users per item)."""
    keys = np.sort(np.asarray(users).astype(np.int64) * np.int64(n_items) + items)
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys


def tie_key(users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random uint64 per (user index, item index): the order of ratings that share a timestamp.

    MovieLens records ratings entered together under one timestamp (ml-100k: 415 of 943 users' latest
    timestamp holds several), so time alone cannot say which came last. Ordering such ties by movie id
    put the highest id last, and in MovieLens higher ids are newer, less watched movies: leave-last-out
    then tested the less rated of the tied movies (ml-100k popularity HR@10 0.050, 0.112 with the lowest id
    last, 0.091 with this key). The splitmix64 finaliser (Steele et al. 2014) of ``user << 32 | item`` orders each user's tied
    movies at random, unrelated to id or popularity, yet the same for the same data every time: no seed,
    whatever the file order (indices follow sorted ids), and the split and the training sequences agree."""
    z = (np.asarray(users).astype(np.uint64) << np.uint64(32)) | np.asarray(items).astype(np.uint64)
    z = z + np.uint64(0x9E3779B97F4A7C15)  # uint64 arrays wrap around, as the hash wants
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def time_order(inter: Interactions) -> np.ndarray:
    """Row indices by user, then timestamp, ties by :func:`tie_key` (the row order stands in for time
    without timestamps): each user's history oldest first, the order in which leave-last-out holds out
    the last rating and the sequence models (markov, sequential-popularity, gru4rec, sasrec) read it."""
    if inter.timestamps is None:
        return np.lexsort((np.arange(inter.n_ratings), inter.users))
    return np.lexsort((tie_key(inter.users, inter.items), inter.timestamps, inter.users))


def datetime_seconds(col: pd.Series) -> np.ndarray | None:
    """Whole seconds since 1970-01-01 UTC (floored, float64, NaN for NaT) of a datetime column; None for
    any other dtype.

    Every resolution (``datetime64[s]`` … ``[ns]``, pyarrow timestamps) counts the same: read as a plain
    number, a ``datetime64[ns]`` value is nanoseconds, which a seconds column takes for a date past
    year 9999. A tz-aware column is converted to UTC first; a naive one is taken as UTC, as an ISO date
    without an offset is (:func:`movierec.datasets.parsers.read_ratings`)."""
    if col.dtype.kind != "M":
        return None
    if col.dt.tz is not None:
        col = col.dt.tz_convert("UTC").dt.tz_localize(None)
    if isinstance(col.dtype, pd.ArrowDtype):
        col = col.astype(col.dtype.numpy_dtype)
    # numpy floors to the coarser unit (a time before 1970 stays negative), with no overflow from any unit
    values = col.to_numpy().astype("datetime64[s]")
    seconds = values.astype(np.int64).astype(np.float64)
    seconds[np.isnat(values)] = np.nan
    return seconds


#: 9999-12-31T23:59:59 UTC in seconds since 1970: no timestamp is later (and int64 seconds far past it overflow)
LAST_SECOND = 253_402_300_799
#: the units a numeric timestamp column may count in, coarsest first: (name, how many make one second)
EPOCH_UNITS: tuple[tuple[str, int], ...] = (
    ("seconds", 1),
    ("milliseconds", 1_000),
    ("microseconds", 1_000_000),
    ("nanoseconds", 1_000_000_000),
)


def epoch_seconds(
    values: np.ndarray, source: str, first_line: int = 1, shown: Callable[[int], str] | None = None
) -> tuple[np.ndarray, str | None]:
    """``(seconds, note)``: numeric timestamps (int64, or finite float64) as seconds since 1970, and the
    one-line note saying which unit they were read in (``None`` for seconds).

    The rule, by magnitude: a value up to :data:`LAST_SECOND` (9999-12-31) is seconds, as every
    MovieLens file counts; a larger one cannot be seconds, so it is the coarsest of milliseconds,
    microseconds and nanoseconds in which it falls before the year 10000 (964982703000 is
    milliseconds: 2000-07-30). Every value of the column must fall in the same unit: a column
    mixing magnitudes (seconds and milliseconds side by side) is refused with a ``DataError``
    naming the first row that differs from the unit most rows have, and a float beyond the year
    9999 even as nanoseconds names its row (an int64 always fits: its largest is 2262 in
    nanoseconds). Values in a finer unit are floored to whole seconds (int64 in, int64 out; floats
    stay floats for the caller to floor).
    ``shown(row)`` spells a row's value as the caller's input had it (default: the number).
    """
    if not len(values):
        return values, None
    # min and max, not abs(): no copy of a 25M-row column (200 MB) on the common path, seconds
    low = float(values.min())
    peak = max(float(values.max()), -low)
    if peak <= LAST_SECOND:
        return values, None
    show = shown or (lambda row: f"{values[row]:g}" if values.dtype.kind == "f" else str(values[row]))
    bounds = np.array([LAST_SECOND * per for _, per in EPOCH_UNITS], dtype=np.float64)
    # the unit a value falls in: 0 seconds … 3 nanoseconds, 4 past the year 9999 even as nanoseconds;
    # values grow with their unit, so the smallest and the largest in one unit put every value in it
    unit = int(np.searchsorted(bounds, peak, side="left"))
    if low < 0 or unit >= len(EPOCH_UNITS) or int(np.searchsorted(bounds, low, side="left")) != unit:
        unit = _one_unit(values, bounds, source, first_line, show)  # or say which row differs
    name, per = EPOCH_UNITS[unit]
    seconds = values // per if values.dtype.kind in "iu" else np.floor(values / per)
    note = (
        f"timestamps read as {name} since 1970 (too large for seconds; the first, {show(0)}, is "
        f"{_date_of(values[0], per)} UTC) and stored as whole seconds"
    )
    return seconds, note


def _one_unit(
    values: np.ndarray, bounds: np.ndarray, source: str, first_line: int, show: Callable[[int], str]
) -> int:
    """The unit (an index into :data:`EPOCH_UNITS`) every one of ``values`` falls in, or the
    ``DataError`` naming the first row past the year 9999 even as nanoseconds or in another unit than
    most rows (:func:`epoch_seconds`'s rule; a value per row, so only when the smallest and largest
    values differ in unit, or one is negative)."""
    kinds = np.searchsorted(bounds, np.abs(values.astype(np.float64)), side="left")
    beyond = np.flatnonzero(kinds >= len(EPOCH_UNITS))
    if len(beyond):
        row = int(beyond[0])
        raise DataError(
            f"{source}, line {row + first_line}: timestamp {show(row)} is out of range "
            "(after year 9999 even as nanoseconds since 1970)"
        )
    counts = np.bincount(kinds, minlength=len(EPOCH_UNITS))
    unit = int(np.argmax(counts))
    odd = np.flatnonzero(kinds != unit)
    if len(odd):
        row = int(odd[0])
        name, per = EPOCH_UNITS[int(kinds[row])]
        raise DataError(  # one line of <= 160 columns for a short file name (it was 256)
            f"{source}, line {row + first_line}: timestamp {show(row)} is {name} since 1970 "
            f"({_date_of(values[row], per)[:10]}), but {counts[unit]:,} of {len(values):,} are in "
            f"{EPOCH_UNITS[unit][0]}: give every timestamp in one unit"
        )
    return unit


def _date_of(value: Any, per: int) -> str:
    """``value`` counted in units ``per`` second as a UTC date and time (``2000-07-30 18:45:03``)."""
    return str(np.datetime64(int(value // per), "s")).replace("T", " ")


def _numeric(col: pd.Series, what: str, source: str, first_line: int = 1) -> np.ndarray:
    """Column as float64/int64, naming the first non-numeric, NaN or infinite row; a datetime timestamp
    column becomes its seconds since the epoch (:func:`datetime_seconds`)."""
    if col.dtype.kind in "iu":  # integers are always finite: no float copy (25M rows = 200 MB)
        return col.to_numpy(dtype=np.int64) if what == "timestamp" else col.to_numpy()
    seconds = datetime_seconds(col) if what == "timestamp" else None
    if seconds is not None:
        missing = np.isnan(seconds)
        if missing.any():
            nat = RowProblem(
                missing,
                f"{what} missing (NaT)",
                lambda row: f"{what} is missing (NaT)",
                lambda row: f"{what} NaT",
            )
            raise BadRowsError(source, [nat], first_line)
        return seconds
    if col.dtype.kind == "f" and col.dtype.itemsize <= 8:
        arr = col.to_numpy()
        values = col
    else:
        values = pd.to_numeric(col, errors="coerce")
        arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(arr)
    if bad.any():

        def value(row: int) -> str:
            got = col.iloc[row]
            got = got.item() if isinstance(got, np.generic) else got
            return f"{what} {got!r}" if isinstance(got, str) else f"{what} {got}"

        def said(row: int) -> str:
            return f"{value(row)} is not a finite number"

        raise BadRowsError(source, [RowProblem(bad, f"{what} not a finite number", said, value)], first_line)
    if what == "timestamp" and values.dtype.kind in "iu":
        return values.to_numpy(dtype=np.int64)
    return arr


def check_distinct_columns(source: str, user_col: Any, item_col: Any, rating_col: Any) -> None:
    """``DataError`` when one column is named for two of the user, item and rating roles (``None``: absent).

    ``--user-col movieId`` read movieId as both the user and the item: every pair became (m, m) and the
    ratings collapsed silently; ``--user-col rating --rating-col rating`` made the ratings the users.
    """
    seen: dict[Any, str] = {}
    for col, role in ((user_col, "user"), (item_col, "item"), (rating_col, "rating")):
        if col is None:
            continue
        if col in seen:
            raise DataError(
                f"{source}: user, item and rating columns must be different: "
                f"{col!r} is both the {seen[col]} and the {role} column"
            )
        seen[col] = role


def check_rating_scale(scale: Any, what: str = "rating scale") -> tuple[float, float]:
    """A declared rating scale as ``(MIN, MAX)`` floats, or ``ConfigError``: two finite numbers, MIN < MAX.

    ``nan`` compares false with everything, so ``(nan, 5)`` passed the MIN < MAX test and every rating
    then passed the range test: the dataset reported a scale of "nan – 5". ``inf`` is no scale either.
    ``what`` names the setting in the message (``--rating-scale`` on the command line).
    """
    try:
        lo, hi = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} {scale!r}: give two numbers, MIN and MAX") from None
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ConfigError(f"{what} {lo:g} {hi:g}: MIN and MAX must be finite numbers")
    if lo >= hi:
        raise ConfigError(f"{what} {lo:g} {hi:g} is empty: MIN must be below MAX")
    return lo, hi


#: most rating levels a scale may have to count as stepped: finer grids (0.01 on 1..10) are read as continuous
MAX_RATING_LEVELS = 100


def rating_step(ratings: np.ndarray, scale: tuple[float, float]) -> float | None:
    """The step of the grid ``MIN, MIN + step, …, MAX`` every rating lies on, or ``None`` when there is none.

    ml-latest-small's half stars (0.5..5) give 0.5, ml-100k's whole stars (1..5) give 1: the largest step
    such that MIN, MAX and every distinct rating are MIN plus a whole number of steps. Each offset from MIN
    is read as a fraction with a denominator ≤ 1000 (ratings are float32: 3.7 is 3.7000000477); ratings
    that are no such fraction, a grid of more than :data:`MAX_RATING_LEVELS` levels, or a scale without
    width (implicit data: every rating 1) have no step. Export records it (``rating_step`` in the
    manifest) so ``POST /feedback`` can refuse a rating between two levels, such as 4.25 on half stars.
    """
    from fractions import Fraction
    from math import gcd

    lo, hi = float(scale[0]), float(scale[1])
    if not hi > lo:
        return None
    offsets = np.append(pd.unique(np.asarray(ratings, dtype=np.float64)) - lo, hi - lo)
    num, den = 0, 1  # the step so far as num/den (0: none yet)
    for x in offsets:
        f = Fraction(float(x)).limit_denominator(1000)
        if abs(float(f) - x) > 1e-6 * max(1.0, abs(x)):
            return None
        if f:  # gcd(a/b, c/d) = gcd(a·d, c·b) / (b·d)
            num, den = gcd(num * f.denominator, abs(f.numerator) * den), den * f.denominator
            common = gcd(num, den)
            num, den = num // common, den // common
    step = num / den
    if (hi - lo) / step > MAX_RATING_LEVELS + 1e-9:
        return None
    return step


def rating_levels(scale: tuple[float, float], step: float | None) -> str:
    """The ratings a scale takes, in words: ``"0.5, 1, 1.5, …, 5 (steps of 0.5)"``; the range alone
    (``"0.5..5"``) without a step."""
    lo, hi = float(scale[0]), float(scale[1])
    if step is None:
        return f"{lo:g}..{hi:g}"
    levels = [lo + k * step for k in range(round((hi - lo) / step) + 1)]
    shown = (
        ", ".join(f"{v:g}" for v in levels)
        if len(levels) <= 6
        else (f"{levels[0]:g}, {levels[1]:g}, {levels[2]:g}, …, {levels[-1]:g}")
    )
    return f"{shown} (steps of {step:g})"


def refused_rating(rating: float, scale: tuple[float, float], step: float | None) -> str | None:
    """Why a rating a person gives is refused, or ``None`` when the data could hold it: outside the scale
    (NaN too) ``"rating must be within 0.5..5"``; between two of the data's levels (4.25 or 3.7 on half
    stars: no rating the data holds, nor one a retrain could learn from) ``"rating must be one of 0.5, 1,
    1.5, …, 5 (steps of 0.5)"``. ``step`` is :func:`rating_step`'s (``None``: any rating on the scale). The
    one check and wording of POST /feedback, a visitor's ratings in POST /recommendations and the CLI's
    ``recommend --rated`` (an artifact's scale and step, or the data's when it trains)."""
    lo, hi = float(scale[0]), float(scale[1])
    if not lo <= float(rating) <= hi:
        return f"rating must be within {lo:g}..{hi:g}"
    if step is not None:
        k = (float(rating) - lo) / step
        if abs(k - round(k)) > 1e-6:
            return f"rating must be one of {rating_levels(scale, step)}"
    return None


def _check_scale(
    ratings: np.ndarray, scale: tuple[float, float] | None, source: str, first_line: int = 1
) -> np.ndarray:
    if scale is None:
        return ratings
    lo, hi = check_rating_scale(scale)
    out = (ratings < lo) | (ratings > hi)
    if out.any():
        outside = RowProblem(
            out,
            f"rating outside the declared scale {lo:g}..{hi:g}",
            lambda row: f"rating {ratings[row]:g} is outside the declared scale {lo:g}..{hi:g}",
            lambda row: f"rating {ratings[row]:g}",
        )
        raise BadRowsError(source, [outside], first_line)
    return ratings


def _drop_duplicates(
    u: np.ndarray,
    i: np.ndarray,
    r: np.ndarray,
    ts: np.ndarray | None,
    n_items: int,
    keep: str = "latest",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, int]:
    """Keep one row per (user, item): the latest by timestamp (ties and no timestamps: the last row)."""
    key = u.astype(np.int64) * max(n_items, 1) + i.astype(np.int64)
    # MovieLens files come sorted by (user, item): an O(n) check settles them. Otherwise sort;
    # numpy 2's hash-based np.unique is far slower than a sort on these keys (5 s vs 0.1 s per 1M).
    if len(key) < 2 or bool(np.all(key[1:] > key[:-1])):
        return u, i, r, ts, 0
    ks = np.sort(key)
    if not bool(np.any(ks[1:] == ks[:-1])):
        return u, i, r, ts, 0
    del ks
    order = np.arange(len(key))
    if ts is not None and keep == "latest":
        sort = np.lexsort((order, ts, key))  # by key, then time, then row
    else:
        sort = np.lexsort((order, key))
    last = np.ones(len(sort), dtype=bool)
    ks = key[sort]
    last[:-1] = ks[:-1] != ks[1:]
    keep_rows = np.sort(sort[last])
    dropped = len(key) - len(keep_rows)
    return u[keep_rows], i[keep_rows], r[keep_rows], None if ts is None else ts[keep_rows], dropped
