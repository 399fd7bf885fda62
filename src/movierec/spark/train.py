"""Spark ALS training that ends in the same artifact folder as ``movierec export``.

Reads ratings from any URI Spark reads (local, HDFS, S3 with the user's Hadoop config), drops
and counts malformed rows, maps raw ids to dense int32 indices with a Spark join (sorted like
:class:`~movierec.interactions.IdMap`), trains :class:`pyspark.ml.recommendation.ALS`
(explicit: Zhou et al. 2008, "Large-scale parallel collaborative filtering for the Netflix
Prize"; implicit: Hu, Koren & Volinsky 2008), evaluates on a seeded hold-out and writes the
factors through :func:`movierec.serving.artifact.export_artifact`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from movierec.datasets import Dataset, bundled_path, sha256_file
from movierec.errors import ConfigError, DataError, Doors, framed, spelled
from movierec.interactions import IdMap, Interactions, threshold_scale_note
from movierec.models.base import BaseRecommender, ExplicitRecommender, Tags, check_positive
from movierec.models.params import NON_NEGATIVE, POSITIVE_INT, Boolean, Constraint, Interval
from movierec.spark.results import JobResult
from movierec.spark.session import ensure_checkpoint_dir, print_note, raise_if_interrupted

if TYPE_CHECKING:
    from pyspark.ml.recommendation import ALSModel
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "INT32_MAX",
    "RatingsSource",
    "SparkALSModel",
    "SparkExplicitALSModel",
    "SparkTrainResult",
    "collect_factors",
    "evaluate_explicit",
    "evaluate_implicit",
    "fit_als",
    "index_ids",
    "rating_range",
    "read_ratings",
    "spark_als_model",
    "train",
    "train_on_frames",
]

INT32_MAX = 2**31 - 1
USER, ITEM, RATING = "user", "item", "rating"  # internal column names (dense indices)
USER_RAW, ITEM_RAW = "user_raw", "item_raw"


# --- the fitted model as movierec sees it ---------------------------------------------------


class SparkALSModel(BaseRecommender):
    """Factors learned by Spark's ALS, collected to the driver: score = user_factors · item_factors.

    Spark's ALS has no biases, so scores are raw dot products (unclipped, as ``ALSModel.transform``
    returns them): implicit ALS's preference scores. Explicit ALS is :class:`SparkExplicitALSModel`, which
    ranks as every rating model does. Train either with :func:`train`; ``fit`` is not offered because
    fitting needs Spark.
    """

    name = "spark-als"
    #: the ALS hyperparameters, declared once: ``train``, ``train_on_frames`` and ``fit_als`` take them
    #: as keywords (``rank=64, reg=0.05``) and check them here; the CLI's options carry the same names
    _aliases: ClassVar[dict[str, str]] = {  # Spark's spellings
        "maxIter": "iterations",
        "regParam": "reg",
        "implicitPrefs": "implicit",
    }
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "rank": [POSITIVE_INT],
        "reg": [NON_NEGATIVE],
        "iterations": [POSITIVE_INT],
        "implicit": [Boolean()],
        "alpha": [NON_NEGATIVE],
        "implicit_threshold": [Interval(float, None, None)],
        "seed": [Interval(int, None, None)],
    }

    # dup-ok: Spark ALS's hyperparameters, alike in shape to GRU4Rec's list (name: type = value), not in
    # meaning; kept under Spark's CLI names (--rank, --reg, --iterations) that the manifest records
    rank: int = 64
    reg: float = 0.05
    iterations: int = 15
    implicit: bool = False
    alpha: float = 10.0
    implicit_threshold: float = 4.0
    seed: int = 42

    def checked(self) -> SparkALSModel:
        """These hyperparameters, checked against their declared constraints (a ConfigError names the first bad one)."""
        self._validate_params()
        return self

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "implicit" if self.implicit else "explicit"

    def fit(self, train: Interactions, **kwargs: Any) -> SparkALSModel:
        raise ConfigError("spark-als trains in Spark: use movierec.spark.train() or 'movierec spark train'")

    def set_factors(
        self, user_factors: np.ndarray, item_factors: np.ndarray, train: Interactions
    ) -> SparkALSModel:
        """Adopt factors collected from an ``ALSModel`` (rows in ``train``'s index order)."""
        if user_factors.shape[0] != train.n_users or item_factors.shape[0] != train.n_items:
            raise ValueError("factor rows must match the training id maps")
        self._remember_train(train)
        self.user_factors_ = np.ascontiguousarray(user_factors, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(item_factors, dtype=np.float32)
        return self

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        users = self._check_users(users)
        return self._dots(users, items)

    def _dots(self, users: np.ndarray, items: np.ndarray | None) -> np.ndarray:
        """ALS's prediction u·v over ``(len(users), n_items or len(items))``, as ``ALSModel.transform`` gives it."""
        q = self.item_factors_ if items is None else self.item_factors_[np.asarray(items, dtype=np.int64)]
        return np.asarray(self.user_factors_[users] @ q.T, dtype=np.float32)


class SparkExplicitALSModel(SparkALSModel, ExplicitRecommender):
    """Spark's explicit ALS as the rating predictor it is: u·v predicts a rating, and lists rank by the
    support-shrunk predicted rating every rating model ranks by (:meth:`ExplicitRecommender.score`).

    So its artifact carries the same ``ranking`` spec as a local svd/als export
    (:func:`~movierec.serving.artifact.ranking_spec`: scale, μ, shrinkage, m_u), and serving clips its
    predictions to the scale, shows ``predictedRating`` and keeps a movie with 13 ratings from topping a
    list on an extrapolated 5.38. :func:`spark_als_model` picks this class when ``implicit`` is False.
    """

    tags: ClassVar[Tags] = Tags(trains_on="ratings", predicts_ratings=True)

    def _remember_train(self, train: Interactions) -> None:
        super()._remember_train(train)
        # ALS has no mean term: the exported factors family adds ``global_mean_`` to u·v, so it stays 0 there;
        # μ of the ranking score is ``rating_mean_`` (ExplicitRecommender.train_mean)
        self.global_mean_ = np.asarray(0.0, dtype=np.float32)

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        return ExplicitRecommender.score(self, users, items)

    def predicted_scores(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        return self._dots(self._check_users(users), items)

    def predict(self, users: np.ndarray, items: np.ndarray, *, clip: bool = True) -> np.ndarray:
        """u·v per (user, item) index pair; a pair with an unknown index (-1) gets the mean training rating."""
        self._check_fitted()
        u, i = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
        known = (u >= 0) & (u < self.n_users_) & (i >= 0) & (i < self.n_items_)
        out = np.full(u.shape, self.train_mean(), dtype=np.float64)
        out[known] = np.einsum("ij,ij->i", self.user_factors_[u[known]], self.item_factors_[i[known]])
        return self._clip(out) if clip else out


def spark_als_model(**als: Any) -> SparkALSModel:
    """The model for these ALS hyperparameters, checked: :class:`SparkExplicitALSModel` for ratings
    (``implicit=False``), :class:`SparkALSModel` (raw u·v scores) for implicit feedback."""
    settings = SparkALSModel(**als).checked()
    return settings if settings.implicit else SparkExplicitALSModel(**settings.get_params())


# --- reading ---------------------------------------------------------------------------------


@dataclass
class RatingsSource:
    """Cleaned ratings in Spark (``user_raw, item_raw, rating``) and what was dropped on the way."""

    frame: DataFrame
    uri: str
    n_rows: int
    n_kept: int
    dropped: dict[str, int]
    user_is_int: bool
    item_is_int: bool
    rating_range: tuple[float, float] = (0.0, 0.0)
    """The kept ratings' minimum and maximum."""
    share_at_least_4: float = 0.0
    """The share of the kept ratings ≥ 4 (MovieLens' 4 stars of 5, the default implicit threshold)."""

    @property
    def n_dropped(self) -> int:
        return self.n_rows - self.n_kept


#: settings of :func:`train` that the ``spark train`` command passes on, in both spellings
_TEST_SIZE = Doors("test_size=", "--test-size")
_INDEX_MAPPING = Doors("id_mapping='index'", "--id-mapping index")


def fault_in_test_share(test_size: object) -> str | None:
    """What is wrong with :func:`train`'s ``test_size`` (``None``: a share in [0, 1), 0 for no hold-out).

    A whole number ≥ 1 is a count of ratings to the local splits (Surprise's ``test_size=1000``), but
    Spark's ``randomSplit`` puts each row in the test part with a probability, so no exact number can be
    held out: a count is refused in words that say so, rather than turned into a share that would hold out
    about that many (a count of a file Spark has not read yet, and a figure the run would not keep)."""
    from movierec.split import number_as_written

    value = number_as_written(test_size)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return f"must be a share of the ratings in [0, 1) such as 0.2 (0: no hold-out), got {value!r}"
    if isinstance(value, (int, np.integer)) and value >= 1:
        return (
            f"{value} is a count, and Spark's randomSplit holds out a share (each rating goes to the test part "
            "with that probability, so no exact number can be held out): give a fraction such as 0.2, or 0 to "
            "train on every rating"
        )
    if not 0.0 <= float(value) < 1.0:
        return f"must be a share of the ratings in [0, 1) such as 0.2 (0: no hold-out), got {value!r}"
    return None


def guess_format(uri: str) -> str:
    """``parquet`` for ``.parquet``/``.pq`` paths (or folders named so), else ``csv``."""
    tail = uri.rstrip("/").lower()
    return "parquet" if tail.endswith((".parquet", ".pq")) else "csv"


def _pandas(frame: DataFrame) -> pd.DataFrame:
    """``frame.toPandas()`` typed as what it returns (pyspark annotates a protocol the checker cannot index)."""
    out: pd.DataFrame = frame.toPandas()
    return out


#: file endings of formats Spark's CSV reader would read as text (and then report their bytes as columns)
_NOT_CSV = (".parquet", ".pq", ".orc", ".avro", ".json", ".jsonl", ".xlsx", ".zip")


def check_local_input(uri: str | Path | None, option: str, fmt: str | None = None) -> None:
    """A local ``--ratings``/``--movies`` path (no scheme, or ``file://``) that does not exist is a ConfigError
    before Spark starts: Spark's ``[PATH_NOT_FOUND] … SQLSTATE: 42K03`` came after the JVM's 20 s start.
    Glob patterns (``ratings/*.csv``, which Spark expands) and other schemes are left to Spark.

    A local folder read as ``fmt`` (default: :func:`guess_format` of its name) is checked too: one with no
    data file (Spark skips names starting with ``_`` or ``.``) is refused, and so is a CSV read of a folder
    holding Parquet or other binary files, which Spark read as text and refused with their bytes as
    column names (``missing columns … (found: PAR1…)``)."""
    if uri is None:
        return
    text = str(uri)
    if "://" in text.removeprefix("file://") or any(ch in text for ch in "*?[{"):
        return
    path = Path(text.removeprefix("file://")).expanduser()
    if not path.exists():
        where = path.parent if str(path.parent) not in ("", ".") else Path.cwd()
        raise ConfigError(f"{option} {text}: no such file or folder (looked in {where.resolve()})")
    if path.is_dir():
        _check_input_folder(path, text, option, fmt or guess_format(text))


def check_local_movies(movies: str | Path | None, option: str, *, item_col: str = "movieId") -> None:
    """A local ``--movies``/``movies=`` file, read now, before Spark starts and reads the ratings: a file
    that is not there, or one without the id, title and genres columns, is one line at once. It was read
    only after Spark had started and read and indexed every rating (``spark train --movies bad.csv`` said
    ``bad.csv: missing column 'movieId' (found: a, b)`` 19 s in on ml-latest-small). The ids are read as
    text here (whether they must be numbers depends on the ratings' ids, known once Spark has read them);
    the titles are read again for the artifact after the ratings. A URI Spark reads (``hdfs://``) or a
    glob is left to Spark."""
    from movierec.datasets.parsers import read_movies

    check_local_input(movies, option)
    if movies is None:
        return
    text = str(movies)
    if "://" in text.removeprefix("file://") or any(ch in text for ch in "*?[{"):
        return
    read_movies(Path(text.removeprefix("file://")).expanduser(), id_col=item_col, text_ids=True)


def _check_input_folder(path: Path, text: str, option: str, fmt: str) -> None:
    """:func:`check_local_input` for a folder: it must hold data files Spark can read as ``fmt``."""
    files = sorted(p.name for p in path.rglob("*") if p.is_file() and not p.name.startswith(("_", ".")))
    if not files:
        raise ConfigError(
            f"{option} {text}: the folder holds no data files (names starting _ or . are skipped)"
        )
    if fmt != "csv":
        return
    binary = [name for name in files if name.lower().endswith(_NOT_CSV)]
    if binary:
        shown = ", ".join(binary[:3]) + (f" and {len(binary) - 3} more" if len(binary) > 3 else "")
        fix = "--format parquet" if option.startswith("-") else "fmt='parquet'"  # the caller's spelling
        hint = f" (pass {fix})" if all(n.lower().endswith((".parquet", ".pq")) for n in binary) else ""
        raise ConfigError(
            f"{option} {text}: read as CSV, but the folder holds {shown}, "
            f"which {'is' if len(binary) == 1 else 'are'} not CSV{hint}; "
            "point it at a folder of CSV files only"
        )


def _spark_error_line(exc: BaseException) -> str:
    """The first meaningful line of a Spark/Py4J error (no JVM stack)."""
    text = str(exc).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("An error occurred while calling", "at ", "JVM stacktrace")):
            if ": " in line and line.split(": ", 1)[0].startswith(("java.", "org.apache")):
                line = line.split(": ", 1)[1]
            return line[:300]
    return type(exc).__name__


def read_ratings(
    spark: SparkSession,
    uri: str | Path | None = None,
    *,
    fmt: str | None = None,
    user_col: str = "userId",
    item_col: str = "movieId",
    rating_col: str = "rating",
    sep: str | None = None,
    header: bool | None = None,
    max_bad_share: float = 0.01,
    direct_ids: bool = False,
) -> RatingsSource:
    """Read a ratings table, drop rows whose rating is not a finite number or whose id is empty.

    The drop is reported; more than ``max_bad_share`` of the rows dropped is a DataError. With
    ``direct_ids`` the ids must be whole numbers in ``0..2³¹−1`` (Spark ALS's id type) and any
    other id is an error. Default ``uri``: the bundled ml-latest-small ``ratings.csv``.

    A CSV is read as the local loader reads one (:func:`movierec.datasets.parsers.read_ratings`): ``sep``
    a character, ``"::"`` or a name such as ``"tab"`` (default: a tab for ``.tsv``, else a comma);
    ``header`` None reads a file whose first line is all numbers (or dates) without a header, its columns
    by position (user, item, rating[, timestamp]; a column option that is a number picks that column),
    with a note on stderr; ``False``/``True`` say so outright.
    """
    from pyspark.sql import functions as F

    if not (0.0 <= max_bad_share < 1.0):
        said = "the malformed-row share ({}) must be in [0, 1), got " + str(max_bad_share)
        raise ConfigError(Doors(said.format("max_bad_share="), said.format("--max-bad-share")))
    uri = str(bundled_path() / "ratings.csv") if uri is None else str(uri)
    fmt = (fmt or guess_format(uri)).lower()
    if fmt not in ("csv", "parquet"):
        raise ConfigError(
            Doors(f"fmt={fmt!r}: expected csv or parquet", f"--format {fmt}: expected csv or parquet")
        )
    sep = _delimiter(uri, sep)
    header, (user_col, item_col, rating_col) = _header_and_columns(
        spark, uri, fmt, sep, header, (user_col, item_col, rating_col)
    )
    df = _read_table(spark, uri, fmt, sep, header)
    missing = [c for c in (user_col, item_col, rating_col) if c not in df.columns]
    if missing:
        from movierec.datasets.parsers import ColumnOptionsError, _sep_flag, _sniff_delimiter

        names = ", ".join(repr(c) for c in missing)
        found = ", ".join(df.columns)
        other = _sniff_delimiter(found, sep) if fmt == "csv" and len(df.columns) == 1 else None
        if other is not None:  # one column whose name holds another delimiter: the fix is --sep, not names
            said = (
                f"{uri}: missing column{'s' if len(missing) > 1 else ''} {names} (found one column, "
                f"{found[:60]!r}); it looks {other!r}-separated, not {sep!r} (wrong delimiter?): read it with "
            )
            error = ColumnOptionsError(said + _sep_flag(other), f"{said}sep={other!r}")
            error.args = (error.in_keywords(),)  # Python's words; the CLI asks in_flags() for its own
            raise error
        # each caller's own words: 'spark train' printed '(user_col=, item_col=, rating_col= in Python,
        # --user-col/--item-col/--rating-col in the CLI)', and '(found: )' for an empty file
        said = (
            f"{uri}: missing column{'s' if len(missing) > 1 else ''} {names} "
            f"(found: {found or 'no columns, the file is empty'}); name them with "
        )
        error = ColumnOptionsError(
            f"{said}--user-col/--item-col/--rating-col", f"{said}user_col=, item_col=, rating_col="
        )
        error.args = (error.in_keywords(),)  # Python's words; the CLI asks in_flags() for its own
        raise error
    rating = F.col(rating_col).try_cast("double")
    ok_rating = rating.isNotNull() & ~F.isnan(rating) & (F.abs(rating) != float("inf"))
    keep = ok_rating & F.col(user_col).isNotNull() & F.col(item_col).isNotNull()
    stats = _row_stats(df, keep, ok_rating, user_col, item_col, rating_col)
    n = int(stats["n"])
    if n == 0:
        raise DataError(f"{uri}: no ratings")
    if direct_ids:
        _check_direct_ids(stats, uri, user_col, item_col)
    dropped = {
        "non_numeric_rating": int(stats["bad_rating"] or 0),
        "empty_user": int(stats["null_user"] or 0),
        "empty_item": int(stats["null_item"] or 0),
    }
    n_bad = int(stats["n_bad"] or 0)
    if n_bad:
        _report_dropped(stats, dropped, n_bad, n, uri, (user_col, item_col, rating_col), max_bad_share)
    user_is_int = int(stats["nonint_user"] or 0) == 0
    item_is_int = int(stats["nonint_item"] or 0) == 0
    frame = df.filter(keep).select(
        F.col(user_col).cast("long" if user_is_int else "string").alias(USER_RAW),
        F.col(item_col).cast("long" if item_is_int else "string").alias(ITEM_RAW),
        rating.cast("float").alias(RATING),
    )
    kept = n - n_bad
    rating_range = (float(stats["rating_min"] or 0.0), float(stats["rating_max"] or 0.0))
    at_least_4 = int(stats["at_least_4"] or 0) / kept if kept else 0.0
    return RatingsSource(frame, uri, n, kept, dropped, user_is_int, item_is_int, rating_range, at_least_4)


def _delimiter(uri: str, sep: str | None) -> str:
    """``sep`` as the local loader takes it (:func:`movierec.datasets.parsers.parse_delimiter`: ``tab``,
    ``';'``, ``'::'`` …), else the one the local loader reads the file's name with: a tab for ``.tsv`` and
    ``.data`` (ml-100k's ``u.data``), ``::`` for ``.dat`` (ml-1m's ``ratings.dat``), a comma otherwise.
    Before, only ``.tsv`` was known, so the ``u.data`` that ``--dataset``/``data info --ratings`` read as
    it is came back as one column: ``missing columns 'userId', 'movieId', 'rating' (found: 196	242	3 …)``.
    """
    from movierec.datasets.parsers import parse_delimiter

    if sep is not None:
        return parse_delimiter(sep)
    tail = uri.rstrip("/").lower()
    for suffix in ("", ".gz", ".bz2"):
        if tail.endswith((f".tsv{suffix}", f".data{suffix}")):
            return "\t"
        if tail.endswith(f".dat{suffix}"):
            return "::"
    return ","


def _header_and_columns(
    spark: SparkSession, uri: str, fmt: str, sep: str, header: bool | None, cols: tuple[str, str, str]
) -> tuple[bool, tuple[str, str, str]]:
    """Whether a CSV's first line names its columns, and the user, item and rating columns to read: as
    given under a header; without one (``header=False``, or ``None`` and a first line of numbers) the
    positions ``"1"``, ``"2"`` … by the local loader's rule, the guess said in a note on stderr."""
    if fmt != "csv" or header is True:
        if fmt != "csv" and header is not None:
            said = f"{uri}: {{}} applies to CSV, not {fmt}"
            raise ConfigError(Doors(said.format("header="), said.format("--header/--no-header")))
        return True, cols
    from movierec.datasets.parsers import ColumnOptionsError, first_line_is_data, headerless_columns

    first = _first_line(spark, uri)
    if first is None:  # unreadable: _read_table says why, in the words (and hints) it has for that
        return header is not False, cols
    if header is None and (not first or not first_line_is_data(first, sep)):
        return True, cols
    try:
        # ml-100k's u.data and ml-1m's .dat have no header by their layout: no note (the local loader gives none)
        layout = uri.rstrip("/").lower().removesuffix(".gz").removesuffix(".bz2").endswith((".data", ".dat"))
        user, item, rating, note = headerless_columns(
            uri, first, sep, *cols, guessed=header is None and not layout
        )
    except ColumnOptionsError as exc:  # Python's keywords here; the CLI asks exc.in_flags() for its own
        exc.args = (exc.in_keywords(),)
        raise
    if note is not None:  # each door's words (a Doors): header=True in Python, --header in the CLI
        print_note(framed(note, lambda text: f"note: {text}"))
    return False, (user, item, rating)


def _first_line(spark: SparkSession, uri: str) -> str | None:
    """The first line Spark reads from ``uri`` (a file, or a folder's first part), ``""`` when empty,
    ``None`` when Spark cannot read it."""
    try:
        row = spark.read.text(uri).first()
    except Exception:
        raise_if_interrupted()  # Ctrl-C, not an unreadable file (py4j's clean-up can fail in its stead)
        return None
    return "" if row is None else str(row[0]).lstrip("\ufeff").rstrip("\r")


def _read_table(spark: SparkSession, uri: str, fmt: str, sep: str, header: bool = True) -> DataFrame:
    """The raw table (CSV: every column as text, so one bad rating cannot change a column's type); a CSV
    without a header has its columns named by position, ``"1"``, ``"2"`` …, as the local loader names them."""
    try:
        if fmt == "csv":
            reader = spark.read.option("header", str(header).lower()).option("sep", sep)
            df = reader.option("inferSchema", "false").csv(uri)
            return df if header else df.toDF(*[str(n) for n in range(1, len(df.columns) + 1)])
        return spark.read.parquet(uri)
    except Exception as exc:
        line = _spark_error_line(exc)
        hint = ""
        if "No FileSystem for scheme" in line:
            hint = (
                " (add the connector, e.g. spark.jars.packages=org.apache.hadoop:hadoop-aws:<hadoop version>: "
                "{}; see docs/spark.md)"
            )
        said = f"{uri}: cannot read as {fmt}: {line}{{}}"
        raise DataError(Doors(said.format(hint.format("conf=")), said.format(hint.format("--conf")))) from exc


def _row_stats(
    df: DataFrame, keep: Any, ok_rating: Any, user_col: str, item_col: str, rating_col: str
) -> Any:
    """One pass over the table: row count, malformed rows by kind, non-integer and out-of-int32 ids."""
    from pyspark.sql import functions as F

    def int_like(c: str) -> Any:
        as_long = F.col(c).try_cast("long")
        return as_long.isNotNull() & (as_long.cast("double") == F.col(c).try_cast("double"))

    kept_rating = F.when(keep, F.col(rating_col).try_cast("double"))
    stats = df.agg(
        F.count(F.lit(1)).alias("n"),
        F.min(kept_rating).alias("rating_min"),
        F.max(kept_rating).alias("rating_max"),
        F.sum((kept_rating >= 4.0).cast("long")).alias("at_least_4"),
        F.sum((~keep).cast("long")).alias("n_bad"),
        F.sum((~ok_rating).cast("long")).alias("bad_rating"),
        F.first(F.when(~ok_rating, F.col(rating_col).cast("string")), ignorenulls=True).alias("bad_example"),
        F.sum(F.col(user_col).isNull().cast("long")).alias("null_user"),
        F.sum(F.col(item_col).isNull().cast("long")).alias("null_item"),
        F.sum((F.col(user_col).isNotNull() & ~int_like(user_col)).cast("long")).alias("nonint_user"),
        F.sum((F.col(item_col).isNotNull() & ~int_like(item_col)).cast("long")).alias("nonint_item"),
        F.sum(_out_of_range(user_col).cast("long")).alias("range_user"),
        F.sum(_out_of_range(item_col).cast("long")).alias("range_item"),
        F.first(F.when(_out_of_range(user_col), F.col(user_col).cast("string")), ignorenulls=True).alias(
            "range_user_ex"
        ),
        F.first(F.when(_out_of_range(item_col), F.col(item_col).cast("string")), ignorenulls=True).alias(
            "range_item_ex"
        ),
    ).first()
    assert stats is not None
    return stats


def _check_direct_ids(stats: Any, uri: str, user_col: str, item_col: str) -> None:
    """``--id-mapping direct``: every id a whole number in Spark ALS's int32 range, or a DataError."""
    for col, nonint, rng, ex in (
        (user_col, "nonint_user", "range_user", "range_user_ex"),
        (item_col, "nonint_item", "range_item", "range_item_ex"),
    ):
        if stats[nonint]:
            said = (
                f"{uri}: {stats[nonint]} {col} values are not whole numbers; the direct id mapping needs integer "
                "ids: use the index mapping"
            )
            raise DataError(Doors(f"{said} ({_INDEX_MAPPING})", f"{said} ({_INDEX_MAPPING.cli})"))
        if stats[rng]:
            said = (
                f"{uri}: {stats[rng]} {col} values are outside 0..{INT32_MAX} (e.g. {stats[ex]}); Spark ALS needs "
                "non-negative int32 ids with the direct id mapping: use the index mapping"
            )
            raise DataError(Doors(f"{said} ({_INDEX_MAPPING})", f"{said} ({_INDEX_MAPPING.cli})"))


def _report_dropped(
    stats: Any,
    dropped: dict[str, int],
    n_bad: int,
    n: int,
    uri: str,
    cols: tuple[str, str, str],
    max_bad_share: float,
) -> None:
    """One line on stderr about the dropped rows, or a DataError when more than ``max_bad_share`` are bad."""
    user_col, item_col, rating_col = cols
    share = n_bad / n
    example = f" (e.g. {stats['bad_example']!r})" if stats["bad_example"] is not None else ""
    detail = (
        f"{dropped['non_numeric_rating']} with a non-numeric {rating_col}{example}, "
        f"{dropped['empty_user']} with an empty {user_col}, {dropped['empty_item']} with an empty {item_col}"
    )
    if share > max_bad_share:
        said = (
            f"{uri}: {n_bad} of {n} rows ({share:.2%}) are malformed ({detail}), more than the share allowed "
        )
        said += "({}); fix the file or raise it"
        allowed = (f"max_bad_share={max_bad_share:g}", f"--max-bad-share {max_bad_share:g}")
        raise DataError(Doors(said.format(allowed[0]), said.format(allowed[1])))
    print_note(f"movierec: dropped {n_bad} of {n} rows ({share:.2%}) from {uri}: {detail}")


def _out_of_range(c: str) -> Any:
    from pyspark.sql import functions as F

    v = F.col(c).try_cast("double")
    return v.isNotNull() & ((v < 0) | (v > INT32_MAX))


# --- id mapping --------------------------------------------------------------------------------


def index_ids(
    spark: SparkSession, frame: DataFrame, *, direct: bool = False
) -> tuple[DataFrame, np.ndarray, np.ndarray]:
    """Add dense int ``user``/``item`` columns; return the frame and the raw ids of each index.

    ``direct=False``: the distinct raw ids are sorted on the driver (as :class:`IdMap` sorts them)
    and joined back (broadcast when small), so indices match ``Interactions.from_frame``'s.
    ``direct=True``: integer ids are used as ALS ids as they are (no join; ids must be int32).
    """
    from pyspark.sql import functions as F

    if direct:
        out = frame.withColumn(USER, F.col(USER_RAW).cast("int")).withColumn(
            ITEM, F.col(ITEM_RAW).cast("int")
        )
        return out, np.empty(0, np.int64), np.empty(0, np.int64)
    maps = []
    for raw_col, idx_col in ((USER_RAW, USER), (ITEM_RAW, ITEM)):
        raw = _pandas(frame.select(raw_col).distinct())[raw_col].to_numpy()
        raw = np.sort(raw.astype(np.int64) if raw.dtype.kind in "iuf" else raw.astype(object))
        if len(raw) > INT32_MAX:
            raise DataError(
                f"{len(raw)} distinct {raw_col[:-4]} ids: more than Spark ALS's int32 ids can hold"
            )
        pdf = pd.DataFrame({raw_col: raw, idx_col: np.arange(len(raw), dtype=np.int32)})
        mapping = spark.createDataFrame(pdf)
        maps.append((raw, F.broadcast(mapping) if len(raw) <= 2_000_000 else mapping, raw_col))
    out = frame
    for _, mapping, raw_col in maps:
        out = out.join(mapping, on=raw_col, how="inner")
    return out, maps[0][0], maps[1][0]


# --- training and evaluation -------------------------------------------------------------------


def fit_als(train_df: DataFrame, *, num_blocks: int | None = None, **als: Any) -> ALSModel:
    """Fit ``pyspark.ml.recommendation.ALS`` on ``user, item, rating`` with ``coldStartStrategy="drop"``.

    ``als``: the hyperparameters of :class:`SparkALSModel` (``rank``, ``reg``, ``iterations``,
    ``implicit``, ``alpha``, ``seed``; ``implicit_threshold`` is accepted and not used here).
    """
    from pyspark.ml.recommendation import ALS

    p = SparkALSModel(**als).checked()
    params = p.library_params("rank", "iterations", "reg", "implicit", "alpha", "seed")
    estimator = ALS(**params, userCol=USER, itemCol=ITEM, ratingCol=RATING, coldStartStrategy="drop")
    if (
        ensure_checkpoint_dir(train_df.sparkSession) is None
        and p.iterations > estimator.getCheckpointInterval()
    ):
        print_note(
            f"note: Spark has no checkpoint folder, so ALS's {p.iterations} iterations build one long "
            "lineage, which can end in a StackOverflowError; give one every executor reads, e.g. "
            "--conf spark.checkpoint.dir=hdfs:///tmp/movierec-checkpoints"
        )
    if num_blocks is not None:
        blocks = Doors("the block count (num_blocks=)", "the block count (--num-blocks)")
        check_positive(blocks, num_blocks, integer=True)
        estimator = estimator.setNumUserBlocks(num_blocks).setNumItemBlocks(num_blocks)
    return estimator.fit(train_df)


def evaluate_explicit(
    model: ALSModel, test_df: DataFrame, scale: tuple[float, float] | None = None
) -> dict[str, Any]:
    """RMSE and MAE (``RegressionEvaluator``) over test ratings whose user and item were trained on, with
    each prediction clipped to ``scale`` (the training ratings' min..max) first.

    The clip is what the exported artifact does (``predict``, ``predictedRating``) and what every local
    model's hold-out RMSE does, so the printed figure is the one a user gets from the artifact on the same
    rows; ``ALSModel.transform``'s raw u·v runs past the scale (5.38 on a 0.5..5 scale) and its RMSE was
    higher. ``scale=None`` leaves predictions raw (Spark's own figure). The metrics record the clip.
    """
    from pyspark.ml.evaluation import RegressionEvaluator
    from pyspark.sql import functions as F

    pred = model.transform(test_df)
    if scale is not None:
        lo, hi = float(scale[0]), float(scale[1])
        clipped = F.least(F.greatest(F.col("prediction"), F.lit(lo)), F.lit(hi))
        pred = pred.withColumn("prediction", clipped.cast("float"))
    pred = pred.cache()
    n_eval = pred.count()
    if n_eval == 0:
        pred.unpersist()
        said = "no test rating has a user and an item seen in training; use more data or a smaller test share"
        raise DataError(framed(_TEST_SIZE, lambda size: f"{said} ({size})"))
    ev = RegressionEvaluator(labelCol=RATING, predictionCol="prediction")
    out: dict[str, Any] = {
        "protocol": "rating",
        "rmse": ev.setMetricName("rmse").evaluate(pred),
        "mae": ev.setMetricName("mae").evaluate(pred),
        "n_test_evaluated": int(n_eval),
    }
    if scale is not None:
        out["prediction_clip"] = [float(scale[0]), float(scale[1])]
    pred.unpersist()
    return out


def rating_range(train_df: DataFrame) -> tuple[float, float]:
    """The training ratings' min..max: the scale the artifact clips predictions to (``_driver_interactions``
    takes the same two values from the same rows on the driver)."""
    from pyspark.sql import functions as F

    row = train_df.agg(F.min(RATING).alias("lo"), F.max(RATING).alias("hi")).first()
    if row is None or row["lo"] is None:
        raise DataError("no training ratings left after the split")
    return float(row["lo"]), float(row["hi"])


def evaluate_implicit(
    model: ALSModel, train_df: DataFrame, test_df: DataFrame, *, k: int = 10
) -> dict[str, Any]:
    """Full ranking over every trained item the user has not seen in training (docs/protocols.md, 'full ranking').

    Relevant = the user's test rows; users without factors (cold) or without test rows are
    skipped. Precision@K, NDCG@K, MAP@K and MAP come from Spark's ``RankingEvaluator``.
    """
    from pyspark.ml.evaluation import RankingEvaluator
    from pyspark.sql import functions as F

    from movierec.spark.recommend import top_k_unseen

    spark = train_df.sparkSession
    item_f = _pandas(model.itemFactors)
    item_ids = item_f["id"].to_numpy(dtype=np.int64)
    item_mat = (
        np.stack(item_f["features"].to_numpy()).astype(np.float32)
        if len(item_f)
        else np.zeros((0, 0), np.float32)
    )
    seen = train_df.groupBy(USER).agg(F.collect_list(ITEM).alias("seen"))
    relevant = test_df.groupBy(USER).agg(F.collect_list(F.col(ITEM).cast("double")).alias("label"))
    users = (
        model.userFactors.withColumnRenamed("id", USER)
        .join(relevant.select(USER), on=USER, how="inner")
        .join(seen, on=USER, how="left")
    )
    recs = top_k_unseen(spark, users, item_ids, item_mat, k=k)
    joined = (
        recs.select(USER, F.transform("items", lambda x: x.cast("double")).alias("prediction"))
        .join(relevant, on=USER, how="inner")
        .cache()
    )
    n_users = joined.count()
    if n_users == 0:
        joined.unpersist()
        said = "no test user has training interactions; use more data or a smaller test share"
        raise DataError(framed(_TEST_SIZE, lambda size: f"{said} ({size})"))
    ev = RankingEvaluator(predictionCol="prediction", labelCol="label", k=k)
    out = {
        "protocol": "full-ranking",
        "k": k,
        f"precision@{k}": ev.setMetricName("precisionAtK").evaluate(joined),
        f"recall@{k}": ev.setMetricName("recallAtK").evaluate(joined),
        f"ndcg@{k}": ev.setMetricName("ndcgAtK").evaluate(joined),
        f"map@{k}": ev.setMetricName("meanAveragePrecisionAtK").evaluate(joined),
        "map": ev.setMetricName("meanAveragePrecision").evaluate(joined),
        "n_test_users": int(n_users),
    }
    joined.unpersist()
    return out


def collect_factors(factors: DataFrame, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """An ``ALSModel``'s ``userFactors``/``itemFactors`` on the driver: sorted ids and a float32 matrix."""
    pdf = _pandas(factors)
    ids = pdf["id"].to_numpy(dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    mat = (
        np.stack(pdf["features"].to_numpy()[order]).astype(np.float32)
        if len(pdf)
        else np.zeros((0, rank), np.float32)
    )
    return ids[order], mat


# --- the whole job -----------------------------------------------------------------------------


@dataclass
class SparkTrainResult(JobResult):
    """What ``spark train`` did: where the artifact went, the hold-out metrics, sizes and timings."""

    _hidden: ClassVar[tuple[str, ...]] = ("model",)
    _shown_as: ClassVar[dict[str, str]] = {"ui_url": "spark_ui"}

    artifact: Path
    metrics: dict[str, Any]
    n_users: int
    n_items: int
    n_train: int
    n_test: int
    seconds: dict[str, float] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    ui_url: str | None = None
    model: SparkALSModel | None = None


def _load_movies(
    spark: SparkSession,
    movies: str | Path | None,
    default_bundled: bool,
    *,
    item_col: str = "movieId",
    text_ids: bool = False,
) -> pd.DataFrame | None:
    """Item metadata for the artifact's titles: a local movies.csv, a URI read by Spark, or the bundled one.

    Read as the local ``--movies`` is (:func:`movierec.datasets.parsers.movies_from_frame`): the ids in a
    ``movieId`` column or in one named as the ratings' ``item_col`` (``sku``), kept as text when the
    ratings' item ids are text (``text_ids``). Before, only a numeric ``movieId`` was read, so ratings with
    text ids (``sku-1``) could have no titles at all: ``titles.csv: missing column 'movieId' (found: sku,
    title, genres)``, or, with the column renamed, ``movieId 'sku-1' is not a number``.
    """
    from movierec.datasets.parsers import movies_from_frame, read_movies

    if movies is None:
        return read_movies(bundled_path() / "movies.csv") if default_bundled else None
    text = str(movies)
    if "://" not in text or text.startswith("file://"):
        local = Path(text.removeprefix("file://")).expanduser()
        return read_movies(local, id_col=item_col, text_ids=text_ids)
    try:
        pdf = _pandas(spark.read.option("header", "true").csv(text))
    except Exception as exc:
        raise DataError(f"{text}: cannot read movies: {_spark_error_line(exc)}") from exc
    return movies_from_frame(pdf.fillna(""), text, id_col=item_col, text_ids=text_ids, line_offset=2)


def _links_folder(movies: str | Path | None, default_bundled: bool) -> Path | None:
    """Where a ``links.csv`` may lie beside the titles: the bundled data's folder, or a local movies file's
    folder (MovieLens ships ``movies.csv`` and ``links.csv`` together); ``None`` for a movies file Spark
    reads from elsewhere (``hdfs://``, ``s3a://``) or no titles at all."""
    if movies is None:
        return bundled_path() if default_bundled else None
    text = str(movies)
    if "://" in text.removeprefix("file://"):
        return None
    return Path(text.removeprefix("file://")).expanduser().parent


def train_on_frames(
    spark: SparkSession,
    train_df: DataFrame,
    test_df: DataFrame | None,
    *,
    user_ids: np.ndarray | None,
    item_ids: np.ndarray | None,
    out: str | Path,
    k: int = 10,
    num_blocks: int | None = None,
    dataset_name: str = "data",
    dataset_sha256: str = "",
    movies: pd.DataFrame | None = None,
    links_folder: str | Path | None = None,
    split_note: str = "",
    force: bool = False,
    notes: list[str] | None = None,
    **als: Any,
) -> SparkTrainResult:
    """Train, evaluate and export from already split Spark frames with int ``user, item`` and float ``rating``.

    ``user_ids``/``item_ids`` give the raw id of each index (``None``: the indices are the raw ids).
    Use this to hand Spark exactly the rows of a split made elsewhere (e.g. ``ratings_holdout``).
    ``links_folder``: a folder holding MovieLens' ``links.csv``, whose IMDb and TMDb ids the artifact's
    rows then carry (``imdbId``, ``tmdbId``), as a local export of a MovieLens folder does.
    ``als``: the ALS hyperparameters of :class:`SparkALSModel` (``rank``, ``reg``, ``iterations``,
    ``implicit``, ``alpha``, ``implicit_threshold``, ``seed``), declared and checked there.
    """
    from movierec.serving.artifact import export_artifact

    fitted = spark_als_model(**als)

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    train_df = train_df.select(USER, ITEM, RATING).cache()
    n_train = train_df.count()
    if n_train == 0:
        raise DataError("no training ratings left after the split")
    seconds["prepare"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if num_blocks is None and str(spark.sparkContext.master).startswith("local"):
        num_blocks = spark.sparkContext.defaultParallelism  # one block per core: Spark's 10 only adds tasks
    model = fit_als(train_df, num_blocks=num_blocks, **fitted.get_params())
    # ALS is lazy about its factor tables: materialise them inside the timed fit
    u_idx, u_mat = collect_factors(model.userFactors, fitted.rank)
    i_idx, i_mat = collect_factors(model.itemFactors, fitted.rank)
    seconds["fit"] = time.perf_counter() - t0
    metrics: dict[str, Any] = {}
    n_test = 0
    if test_df is not None:
        t0 = time.perf_counter()
        test_df = test_df.select(USER, ITEM, RATING)
        n_test = test_df.count()
        metrics = (
            evaluate_implicit(model, train_df, test_df, k=k)
            if fitted.implicit
            else evaluate_explicit(model, test_df, rating_range(train_df))
        )
        metrics.update({"n_test": n_test, "seed": fitted.seed, "split": split_note})
        seconds["evaluate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    inter = _driver_interactions(train_df, u_idx, i_idx, user_ids, item_ids)
    fitted.set_factors(u_mat, i_mat, inter)
    source = "" if links_folder is None else str(links_folder)  # where export reads links.csv
    dataset = Dataset(dataset_name, inter, catalog=movies, sha256=dataset_sha256, source=source)
    ui = spark.sparkContext.uiWebUrl
    all_notes = [f"trained with Spark {spark.version} ALS on {spark.sparkContext.master}", *(notes or [])]
    path = export_artifact(
        fitted,
        dataset,
        inter,
        out,
        metrics=metrics,
        force=force,
        implicit_threshold=fitted.implicit_threshold if fitted.implicit else 4.0,
        notes=all_notes,
    )
    seconds["export"] = time.perf_counter() - t0
    train_df.unpersist()
    return SparkTrainResult(
        path, metrics, inter.n_users, inter.n_items, int(n_train), int(n_test), seconds, {}, ui, fitted
    )


def _driver_interactions(
    train_df: DataFrame,
    u_idx: np.ndarray,
    i_idx: np.ndarray,
    user_ids: np.ndarray | None,
    item_ids: np.ndarray | None,
) -> Interactions:
    """The training rows on the driver, indexed like the collected factor tables (what the artifact stores)."""
    rows = _pandas(train_df)
    u = np.searchsorted(u_idx, rows[USER].to_numpy(dtype=np.int64)).astype(np.int32)
    i = np.searchsorted(i_idx, rows[ITEM].to_numpy(dtype=np.int64)).astype(np.int32)
    raw_users = u_idx if user_ids is None else np.asarray(user_ids)[u_idx]
    raw_items = i_idx if item_ids is None else np.asarray(item_ids)[i_idx]
    r = rows[RATING].to_numpy(dtype=np.float32)
    scale = (float(r.min()), float(r.max()))
    return Interactions(
        u, i, r, IdMap(raw_users, kind="user"), IdMap(raw_items, kind="item"), rating_scale=scale
    )


def _threshold_note(rating_range: tuple[float, float], share: float) -> list[str]:
    """The note that the default implicit threshold (4) counts ``share`` of ratings on a scale other than
    1-5, printed now in the words of the door that runs (a :class:`Doors`: ``implicit_threshold=`` in
    Python, ``--implicit-threshold`` in the CLI; one line named both), and returned for the artifact's
    notes with both named (:func:`spelled`): a manifest is read later, from either door."""
    what = "implicit ALS learns from ratings ≥ 4, which"
    setting = Doors("implicit_threshold=", "--implicit-threshold")
    said = threshold_scale_note(*rating_range, share, what, setting)
    if said is None:
        return []
    print_note(framed(said, lambda text: f"note: {text}"))
    stored = threshold_scale_note(
        *rating_range, share, what, spelled("implicit_threshold=", "--implicit-threshold")
    )
    return [str(stored)]


def train(
    spark: SparkSession,
    ratings: str | Path | None = None,
    *,
    out: str | Path,
    test_size: float = 0.2,
    k: int = 10,
    id_mapping: str = "index",
    num_blocks: int | None = None,
    movies: str | Path | None = None,
    force: bool = False,
    **options: Any,
) -> SparkTrainResult:
    """Read ``ratings`` (default: bundled ml-latest-small), map ids, split with a seed, train, evaluate, export.

    ``options`` go to the step that declares them: the ALS hyperparameters to
    :class:`SparkALSModel` (``rank=64``, ``reg=0.05``, ``iterations=15``, ``implicit=False``,
    ``alpha=10.0``, ``implicit_threshold=4.0``, ``seed=42``; checked before Spark reads anything,
    ``seed`` also seeds the split), the table's format to :func:`read_ratings` (``fmt``,
    ``user_col``, ``item_col``, ``rating_col``, ``sep``, ``header``, ``max_bad_share``).
    The hold-out is Spark's seeded ``randomSplit`` (scales; not row-for-row ``ratings_holdout``).
    Implicit mode keeps rows with rating ≥ ``implicit_threshold`` as positives of weight 1
    (MovieLens semantics); ``implicit_threshold=0`` keeps every row and its value as the confidence
    (play counts, clicks).
    """
    from pyspark.sql import functions as F

    if id_mapping not in ("index", "direct"):
        said = "{}: expected index or direct"  # each door's (one line named both)
        raise ConfigError(
            Doors(said.format(f"id_mapping={id_mapping!r}"), said.format(f"--id-mapping {id_mapping}"))
        )
    if (fault := fault_in_test_share(test_size)) is not None:
        raise ConfigError(framed(_TEST_SIZE, lambda size: f"the test share ({size}): {fault}"))
    check_positive(Doors("K (k=)", "K (--k)"), k, integer=True)
    als_names = set(SparkALSModel().get_params()) | set(SparkALSModel._aliases)
    settings = SparkALSModel(**{n: v for n, v in options.items() if n in als_names}).checked()
    implicit, implicit_threshold, seed = settings.implicit, settings.implicit_threshold, settings.seed
    check_local_input(ratings, "ratings=", options.get("fmt"))
    check_local_movies(movies, "movies=", item_col=str(options.get("item_col", "movieId")))
    t_start = time.perf_counter()
    read_options = {n: v for n, v in options.items() if n not in als_names}
    src = read_ratings(spark, ratings, direct_ids=id_mapping == "direct", **read_options)
    frame = src.frame
    if implicit and implicit_threshold > 0:
        frame = frame.filter(F.col(RATING) >= implicit_threshold).withColumn(RATING, F.lit(1.0).cast("float"))
    indexed, user_ids, item_ids = index_ids(spark, frame, direct=id_mapping == "direct")
    indexed = indexed.select(USER, ITEM, RATING)
    if test_size > 0:
        train_df, test_df = indexed.randomSplit([1.0 - test_size, test_size], seed=seed)
        split_note = f"Spark randomSplit test_size={test_size:g} seed={seed}"
    else:
        train_df, test_df, split_note = indexed, None, "none (trained on every row)"
    bundled = ratings is None
    uri = src.uri
    local = Path(uri.removeprefix("file://")).expanduser()
    sha = sha256_file(local) if "://" not in uri.removeprefix("file://") and local.is_file() else ""
    name = "ml-latest-small" if bundled else (Path(uri.rstrip("/")).stem or uri)
    notes = []
    if src.n_dropped:
        notes.append(f"dropped {src.n_dropped} of {src.n_rows} malformed rows: {src.dropped}")
    if implicit and implicit_threshold == 4.0:  # as the local commands say it: on 1-10, a 4 of 10 liked
        notes.extend(_threshold_note(src.rating_range, src.share_at_least_4))
    result = train_on_frames(
        spark,
        train_df,
        test_df,
        user_ids=None if id_mapping == "direct" else user_ids,
        item_ids=None if id_mapping == "direct" else item_ids,
        out=out,
        k=k,
        num_blocks=num_blocks,
        dataset_name=name,
        dataset_sha256=sha,
        movies=_load_movies(
            spark,
            movies,
            default_bundled=bundled,
            item_col=str(read_options.get("item_col", "movieId")),
            text_ids=id_mapping == "index" and not src.item_is_int,
        ),
        links_folder=_links_folder(movies, default_bundled=bundled),
        split_note=split_note,
        force=force,
        notes=notes,
        **settings.get_params(),
    )
    result.dropped = dict(src.dropped)
    result.seconds["total"] = time.perf_counter() - t_start
    return result
