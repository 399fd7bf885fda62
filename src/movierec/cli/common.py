"""Options and helpers shared by every command: dataset selection, output, JSON printing."""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from movierec.errors import SEED_MAX, ConfigError, DataError, NotEncodedError, in_cli
from movierec.tables import caption_lines
from movierec.titles import id_titled, shorten_title

if TYPE_CHECKING:  # the data layer (pandas) loads when a command runs, not for --help
    from movierec.datasets import Dataset

console = Console(stderr=False, highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False)


def bar_progress(*, disable: bool = False) -> Any:
    """The commands' one-line-per-task display on stderr: description, bar, elapsed time (gone when done);
    plain timestamped lines when stderr is not a terminal (:func:`movierec.progress.make_progress`)."""
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn

    from movierec.progress import make_progress

    return make_progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=disable,
    )


def print_table(table: Table) -> None:
    """Print ``table`` with a title or caption wider than the terminal wrapped at the terminal's width.

    The console soft-wraps (a long path or JSON line stays whole), so rich leaves a long title on one
    line, 97 columns at 80; rendered without soft wrap, it would wrap at the *table's* width, a word per
    line above a narrow table. A long one is printed on its own lines instead, in the title's style."""
    title, caption, width = table.title, table.caption, console.width
    long_title = isinstance(title, str) and cell_len(title) > width
    long_caption = isinstance(caption, str) and cell_len(caption) > width
    if long_title:
        # between its ' · ' parts: word-wrapped, 'top 10 for user 1 · ease trained on ml-latest-small · only
        # movies with ≥ 5' left 'ratings of 4+' alone at 80 columns; a part wider than that is word-wrapped
        for part in caption_lines(str(title), width, split_wide=False):
            _print_wrapped(part, "table.title", width)
        table.title = None
    if long_caption:
        table.caption = None
    console.print(table)
    if long_caption:
        _print_wrapped(str(caption), "table.caption", width)


def _print_wrapped(text: str, style: str, width: int) -> None:
    """``text`` word-wrapped at ``width`` cells, without the trailing spaces rich leaves at each break. A
    title's part as wide as the terminal, with the ' ·' that joins it to the next, wrapped that mark onto a
    line of its own (``recommend --rated "Toy Story=5" --rated Alien --rated "Heat=4.5"`` at 80 columns,
    docs/new-users.md): the word before it goes down with it."""
    lines = [line.plain.rstrip() for line in Text(text).wrap(console, width)]
    if len(lines) > 1 and lines[-1] == "·" and " " in lines[-2]:
        head, last = lines[-2].rsplit(" ", 1)
        lines[-2:] = [head, f"{last} ·"]
    for line in lines:
        console.print(Text(line, style=style))


#: the fewest cells a cut title keeps: below this, rich wraps it instead ('Dr. Strang… (1964)' is the least)
_TITLE_FLOOR = 18


def list_table(
    columns: list[tuple[str, str]],
    rows: list[list[str]],
    *,
    title_column: int | None,
    optional: tuple[int, ...] = (),
    reasons: int | None = None,
    **table_args: Any,
) -> Table:
    """A list of movies (``recommend``, ``similar``) as a table one line per movie at the console's width.

    ``columns`` are (header, justify) pairs and ``rows`` their cells. Where the widest row would not fit,
    the ``optional`` columns go first (the first named first: one that says less than the movie's name),
    then titles longer than the room left are cut with '…', their year kept (:func:`shorten_title`; the
    movieId beside each names it whole, and ``--json`` has every title whole). A terminal too narrow for
    :data:`_TITLE_FLOOR` cells of title wraps them instead, as does ``title_column=None`` (a row of several
    lines anyway, ``--explain``'s). ``reasons``: the column of ``--explain``'s reasons, a movie a line; where
    the rows do not fit it keeps its longest reason's width while the widest other column (the titles,
    wrapping) keeps :data:`_TITLE_FLOOR` cells: split evenly at 80 columns, 'Clockwork Orange, A' over
    '(1971)' read as two reasons. ``table_args`` go to :class:`rich.table.Table`."""
    fixed: int | None = None  # the reasons column's width, once the rows are known not to fit

    def widest(i: int) -> int:  # column i's longest line
        return max((cell_len(line) for row in rows for line in row[i].splitlines()), default=0)

    def build(keep: list[int], cut: int | None) -> Table:
        table = Table(**table_args)
        for i in keep:
            size = fixed if i == reasons else None
            table.add_column(columns[i][0], justify=columns[i][1], width=size)  # type: ignore[arg-type]
        for row in rows:
            cells = [row[i] if i != title_column or cut is None else shorten_title(row[i], cut) for i in keep]
            table.add_row(*cells)
        return table

    def needed(table: Table) -> int:
        return Measurement.get(console, console.options.update_width(10**6), table).maximum

    keep, width = list(range(len(columns))), console.width
    untitled = _id_titles(columns, rows)
    if untitled is not None:  # data without titles: 'movieId tt0114716' beside tt0114716 says it twice
        keep.remove(untitled)
        title_column = None if title_column == untitled else title_column
    table = build(keep, None)
    for drop in optional:
        if needed(table) <= width:
            break
        keep.remove(drop)
        table = build(keep, None)
    over = needed(table) - width
    if (
        over > 0
        and reasons is not None
        and max(widest(i) for i in keep if i != reasons) - over >= _TITLE_FLOOR
    ):
        # its header at least: a list with no reasons (knn-baseline's for user 1, a note says why) had
        # a column 0 cells wide, its 'because' gone
        fixed = max(widest(reasons), *(cell_len(line) for line in columns[reasons][0].splitlines()))
        table = build(keep, None)
    if over > 0 and title_column is not None:
        longest = max(cell_len(row[title_column]) for row in rows)
        table = build(keep, max(longest - over, _TITLE_FLOOR))
    return table


def _id_titles(columns: list[tuple[str, str]], rows: list[list[str]]) -> int | None:
    """The index of a list's ``title`` column when every title is only its movie's id (``movieId 318``
    beside 318: data loaded without a movies file, :func:`movierec.titles.is_id_title`), else ``None``: at
    80 columns that column took 16 cells for a list of ``tt`` ids and said nothing the movieId column does
    not."""
    names = [name for name, _ in columns]
    if not rows or "title" not in names or "movieId" not in names:
        return None
    title, movie = names.index("title"), names.index("movieId")
    return title if id_titled((row[title] for row in rows), (row[movie] for row in rows)) else None


# Reused option declarations (typer reads these defaults).
def _dataset_name(value: str | None) -> str | None:
    """``--dataset ML-100K`` is ml-100k (any case; :func:`movierec.datasets.dataset_name`), so every line
    after it names the dataset as the registry does; a folder's path is kept as typed."""
    if value is None or value == value.strip().lower():  # nothing to change: the loader not imported
        return value
    from movierec.datasets import dataset_name

    return dataset_name(value)


DATASET = typer.Option(
    "ml-latest-small",
    "--dataset",
    "-d",
    callback=_dataset_name,
    help="Registered dataset name (any case: ml-100k, ML-100K) or a MovieLens-layout folder.",
)
RATINGS = typer.Option(
    None, "--ratings", help="A custom ratings file (csv, tsv or parquet); overrides --dataset."
)
HEADER = typer.Option(
    None,
    "--header/--no-header",
    help="Whether the first line of --ratings names its columns (default: no header when that line is all "
    "numbers; without one, columns are user, item, rating[, timestamp] by position, or by number with "
    "--user-col 2 and the other column options).",
    show_default=False,
)
SEP = typer.Option(
    None,
    "--sep",
    help="Field delimiter of --ratings: one character (',', ';', '|'), tab (or '\\t'), or '::' as in "
    "ml-1m's .dat (default: a tab for .tsv, '::' for .dat, else a comma).",
    show_default=False,
)
USER_COL = typer.Option("userId", "--user-col", help="User id column of --ratings.")
ITEM_COL = typer.Option("movieId", "--item-col", help="Item id column of --ratings.")
RATING_COL = typer.Option(
    "rating",
    "--rating-col",
    help="Rating column of --ratings ('' for a file without ratings: every row is read as 1, a positive).",
)
TIME_COL = typer.Option(
    None,
    "--time-col",
    help="Timestamp column of --ratings (default: timestamp, when the file has one; '' for none).",
)
MOVIES = typer.Option(
    None,
    "--movies",
    help="Titles for --ratings: a CSV with the item id column (movieId or --item-col), title (or "
    "primaryTitle, movie_title, movie_name, name) and optionally genres (A|B or A;B) and year.",
)
ENCODING = typer.Option(
    None,
    "--encoding",
    help="Text encoding of --ratings and --movies (default utf-8): cp1252 for a file Excel saved on Windows, "
    "latin-1, any name Python knows.",
    show_default=False,
)
RATING_SCALE = typer.Option(
    None,
    "--rating-scale",
    metavar="MIN MAX",
    help="Declared rating scale, two numbers: --rating-scale 1 5; values outside are errors.",
)
SEED = typer.Option(42, "--seed", min=0, max=SEED_MAX, help="Seed for every random step (0…2³²−1).")
JSON = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")
# DATASET … RATING_SCALE reach the commands through ratings_options (below), as one RatingsSource.
# options several commands share, defined once (a command whose help says more keeps its own)
MODEL_PARAMS = typer.Option(
    [],
    "--params",
    "-p",
    metavar="KEY=VALUE",
    help="Hyperparameters [MODEL.]KEY=VALUE (repeat, or comma-separate), e.g. factors=100.",
)
ITEM_FEATURES = typer.Option(
    None,
    "--item-features",
    help="Item side features, genres,tags,year, for the models that use them: bpr and warp (hybrid), "
    "ease (collective EASE), lightfm:*.",
)
IMPLICIT_THRESHOLD = typer.Option(
    None,
    "--implicit-threshold",
    help="Ratings ≥ this are positives (implicit models) and relevant (ranking metrics). Default: 4; on data "
    "without ratings (--rating-col ''), its one value: every row a positive.",
    show_default=False,
)
ARTIFACT = typer.Option(None, "--artifact", "-a", help="Use an exported artifact folder instead of training.")


#: compare's and tune's early stopping (movierec.stopping.StopSpec): the metric, its patience and how often it
#: scores, named as an experiment file's [early_stopping] keys are (patience, every) with the prefix that keeps
#: ``every`` readable among a command's other options; compare's validation part's size is --valid-size
EARLY_STOPPING = typer.Option(
    None,
    "--early-stopping",
    help="Stop each model that can (bpr, warp, svd, ials…) on this validation metric (ndcg@10, mrr@10, rmse…), "
    "scored every 5 epochs (--stop-every) on its validation part (compare: 10% of each user's training ratings, "
    "--valid-size; tune: each trial's fold), its epochs the maximum; compare then refits on the whole training "
    "part with the best epoch count, tune gives it to best.toml (docs/protocols.md).",
)
PATIENCE = typer.Option(
    None, "--patience", min=1, help="With --early-stopping: stop after this many scores without a gain (10)."
)
STOP_EVERY = typer.Option(
    None,
    "--stop-every",
    min=1,
    metavar="N",
    help="With --early-stopping: score the model after every N-th epoch (5; RecBole's eval_step).",
)


def _valid_size(value: float | None) -> float | None:
    """``--valid-size`` checked as :class:`movierec.stopping.StopSpec` checks ``valid_size``, in its words."""
    from movierec.stopping import valid_size_fault

    if value is not None and (fault := valid_size_fault(value)) is not None:
        raise typer.BadParameter(fault)
    return value


VALID_SIZE = typer.Option(
    None,
    "--valid-size",
    metavar="SHARE",
    callback=_valid_size,
    help="With --early-stopping: the share of each user's training ratings cut as the validation part (0.1); "
    "not with --valid, which is the validation part.",
)


def stopping_option(
    metric: str | None, patience: int | None, every: int | None = None, valid_size: float | None = None
) -> Any:
    """``--early-stopping METRIC [--patience N] [--stop-every N] [--valid-size SHARE]`` as compare's and
    tune's ``early_stopping`` (a StopSpec, or None), checked before the data loads as an experiment file's
    ``[early_stopping]`` is (StopSpec's checks); one of the others without ``--early-stopping`` is one line."""
    from movierec.metrics import cutoff_note
    from movierec.stopping import StopSpec

    given: dict[str, Any] = {"patience": patience, "every": every, "valid_size": valid_size}
    if metric is None:
        what = {
            "patience": "--patience sets early stopping's patience",
            "every": "--stop-every sets how often early stopping scores the model",
            "valid_size": "--valid-size sizes early stopping's validation part",
        }
        for name, value in given.items():
            if value is not None:
                raise ConfigError(f"{what[name]}: give --early-stopping METRIC with it")
        return None
    spec = StopSpec(metric=metric, **{name: value for name, value in given.items() if value is not None})
    if (note := cutoff_note(metric, "--early-stopping")) is not None:
        say("note", note)
    return spec


def parse_test_size(value: object) -> float:
    """``--test-size`` read as Python reads ``test_size`` (:func:`movierec.split.fault_in_test_size`):
    ``1000`` is a number of ratings (an int, as Surprise's ``train_test_split(data, test_size=1000)``),
    ``0.2`` a fraction. ``1000.0``, ``1.5`` or ``0`` is one line at parse time, before any data is read
    (it was typed as a float, so ``--test-size 1000`` reached the split as 1000.0 and was refused there)."""
    from movierec.split import fault_in_test_size, number_as_written

    number = number_as_written(value)
    if (fault := fault_in_test_size(number)) is not None:
        raise typer.BadParameter(fault)
    return number  # type: ignore[return-value]  # an int (a count) or a float in (0, 1), as checked


def check_test_size_option(test_size: float, split: str, *, why: str = "") -> None:
    """``--test-size`` against the split it is for, refused as a value the option cannot read is
    (:func:`parse_test_size`) and in Python's words for ``test_size`` (:func:`movierec.split.check_test_size`):
    ``invalid value for '--test-size': 1000 is a count; the per-user split holds out a fraction …``.
    ``why`` follows those words (where the split came from: an experiment file)."""
    from movierec.split import fault_in_test_size

    if (fault := fault_in_test_size(test_size, split=split, python=False)) is not None:
        raise typer.BadParameter(fault + why, param_hint="'--test-size'")


def holdout_size_option(default: float, help: str) -> Any:
    """A command's ``--test-size``: a fraction, or a whole number of ratings (:func:`parse_test_size`)."""
    return typer.Option(default, "--test-size", parser=parse_test_size, metavar="SIZE", help=help)


K_MOVIES = typer.Option(10, "-k", "--k", help="How many movies.")
USER_FEATURES = typer.Option(
    None,
    "--user-features",
    help="User side features for bpr, warp, logistic, warp-kos and segment-popularity: demographics "
    "(ml-100k, ml-1m), a userId,feature[,weight] CSV, or demographics,FILE.csv.",
)


@dataclass(frozen=True)
class RatingsSource:
    """The ratings a command works on: ``--ratings FILE`` (read with the column options) when given, else
    ``--dataset NAME|PATH``. Commands declare it with :func:`ratings_options`; :meth:`load` reads it."""

    dataset: str = "ml-latest-small"
    ratings: Path | None = None
    user_col: str = "userId"
    item_col: str = "movieId"
    rating_col: str = "rating"
    time_col: str | None = None  # None: "timestamp" when the file has it; "": none
    rating_scale: tuple[float, float] | None = None
    movies: Path | None = None
    header: bool | None = None  # None: guessed (no header when the first line is all numbers)
    sep: str | None = None  # the delimiter as typed ("tab", ";", "::"); None: from the file's name
    encoding: str | None = None  # the files' text encoding; None: UTF-8

    @classmethod
    def of_config(cls, cfg: Any, rating_scale: tuple[float, float] | None = None) -> RatingsSource:
        """An experiment file's ``[dataset]`` (:class:`movierec.experiment.DatasetConfig`): a name or
        folder, or a ratings file with its column names and titles file; ``rating_scale`` overrides."""
        scale = rating_scale or cfg.rating_scale
        if not cfg.file_options():
            return cls(dataset=cfg.name, rating_scale=scale)
        return cls(
            ratings=Path(cfg.name),
            user_col=cfg.user_col or "userId",
            item_col=cfg.item_col or "movieId",
            rating_col="rating" if cfg.rating_col is None else cfg.rating_col,  # "": none
            time_col=cfg.time_col,
            rating_scale=scale,
            movies=Path(cfg.movies) if cfg.movies else None,
            header=cfg.header,
            sep=cfg.delimiter,
            encoding=cfg.encoding,
        )

    def with_typed_columns(self, ctx: typer.Context, typed_source: RatingsSource) -> RatingsSource:
        """This source (an experiment file's ``[dataset]``, :meth:`of_config`) with the column options
        typed on the command line over the file's own: ``--config exp.toml --encoding cp1252`` read the
        file's ratings as UTF-8 whatever was typed, and the refusal it met said to add ``--encoding
        cp1252``, which changed nothing. On a file naming a dataset (no ratings file) a typed column option
        meets :meth:`load`'s refusal, as it does without ``--config``."""
        from dataclasses import replace

        over: dict[str, Any] = {
            name: getattr(typed_source, name) for name in COLUMN_OPTIONS if typed(ctx, name)
        }
        if over and self.ratings is None and Path(self.dataset).expanduser().is_file():
            over["ratings"] = Path(self.dataset)  # a file named with no options of its own is a ratings file
        return replace(self, **over) if over else self

    def load(self) -> Dataset:
        """The dataset (a status line on stderr while loading; its notes printed after)."""
        from movierec.datasets import ColumnOptionsError, load, load_ratings_file
        from movierec.interactions import check_rating_scale

        scale = self.rating_scale
        if scale is not None:  # nan, inf and MIN ≥ MAX refused before the data is read
            scale = check_rating_scale(scale, "--rating-scale")
        # a --dataset reads its own files: a column option not at its default was typed beside it by mistake
        # (--user-col u was dropped without a word)
        for name in _FILE_ONLY if self.ratings is None else ():
            if getattr(self, name) != getattr(RatingsSource, name):
                raise file_option_refusal(name, self.header)
        self._check_encoding()
        from movierec.progress import status as step_status

        if self.ratings is not None:
            with step_status(err_console, f"loading {self.ratings}", after=5.0):
                times: dict[str, Any] = {} if self.time_col is None else {"time_col": self.time_col or None}
                if self.header is not None:
                    times["header"] = self.header
                if self.sep is not None:
                    times["delimiter"] = self.sep
                if self.encoding is not None:
                    times["encoding"] = self.encoding
                try:
                    ds = load_ratings_file(
                        self.ratings,
                        user_col=self.user_col,
                        item_col=self.item_col,
                        rating_col=self.rating_col or None,
                        rating_scale=scale,
                        movies=self.movies,
                        **times,
                    )
                except ColumnOptionsError as exc:  # the fix in the CLI's flags, not Python's keywords
                    raise DataError(exc.in_flags()) from None
                except NotEncodedError as exc:
                    raise DataError(exc.in_flags()) from None
        else:
            with step_status(err_console, f"loading {self.dataset}", after=5.0):
                ds = load(self.dataset, rating_scale=scale)
        from movierec.interactions import assumes_threshold, without_ratings_note

        # the data's note on the threshold it needs, by the rule that wrote it (datasets.load's notes)
        assumed = without_ratings_note(ds.interactions) if assumes_threshold(ds.interactions) else None
        for note in ds.notes:
            if note != assumed:  # said where the threshold is applied (threshold_for), not where none is
                say("note", _in_one_line(note))
        return ds

    def _check_encoding(self) -> None:
        """``--encoding``: a name Python knows, checked before any file is read."""
        if self.encoding is None:
            return
        from movierec.datasets import check_encoding  # the loader's own check, worded for the flag

        try:
            check_encoding(self.encoding)
        except ConfigError:
            raise ConfigError(
                f"--encoding {self.encoding!r}: not a text encoding Python knows; try utf-8, cp1252 or latin-1"
            ) from None

    def load_split(self, files: SplitFilesGiven, catalogue: bool) -> Any:
        """``--train``/``--test`` (``--valid``) read as ``--ratings`` reads a file, joined into one dataset
        (:func:`movierec.split_files.load_split_files`); ``catalogue``: ``--dataset`` was typed, so its titles
        (and tags, user table) go with the files' movies. A status line while loading; the notes after."""
        from movierec.datasets import ColumnOptionsError
        from movierec.progress import status as step_status
        from movierec.split_files import load_split_files

        self._check_encoding()
        scale = self.rating_scale
        if scale is not None:
            from movierec.interactions import check_rating_scale

            scale = check_rating_scale(scale, "--rating-scale")
        columns: dict[str, Any] = {"user_col": self.user_col, "item_col": self.item_col}
        columns["rating_col"] = self.rating_col or None
        if self.time_col is not None:
            columns["time_col"] = self.time_col or None
        options = (
            ("header", self.header),
            ("delimiter", self.sep),
            ("movies", self.movies),
            ("encoding", self.encoding),
        )
        for key, value in options:
            if value is not None:
                columns[key] = value
        base = None
        if catalogue:
            from movierec.datasets import load

            with step_status(err_console, f"loading {self.dataset}", after=5.0):
                base = load(self.dataset)
        with step_status(err_console, f"loading {files.train} and {files.test}", after=5.0):
            try:
                split = load_split_files(
                    files.train,  # type: ignore[arg-type]  # checked: both given (SplitFilesGiven.check)
                    files.test,  # type: ignore[arg-type]
                    valid=files.valid,
                    catalogue=base,
                    rating_scale=scale,
                    **columns,
                )
            except ColumnOptionsError as exc:  # the fix in the CLI's flags, not Python's keywords
                raise DataError(exc.in_flags()) from None
            except NotEncodedError as exc:
                raise DataError(exc.in_flags()) from None
        for note in split.dataset.notes:
            say("note", _in_one_line(note))
        return split


TRAIN_FILE = typer.Option(
    None,
    "--train",
    help="The training part of a split made elsewhere (csv, tsv or parquet, read as --ratings is, with its "
    "column options); with --test. --dataset, when typed, gives the titles.",
)
TEST_FILE = typer.Option(None, "--test", help="The test part of a split made elsewhere; with --train.")
VALID_FILE = typer.Option(
    None, "--valid", help="A validation part beside --train and --test (RecBole's valid file)."
)


@dataclass(frozen=True)
class SplitFilesGiven:
    """``--train FILE --test FILE [--valid FILE]``: a split someone else made, read by
    :meth:`RatingsSource.load_split` with the ratings options (columns, header, delimiter, scale, titles)."""

    train: Path | None = None
    test: Path | None = None
    valid: Path | None = None

    def __bool__(self) -> bool:
        return self.train is not None or self.test is not None or self.valid is not None

    def check(self, ctx: typer.Context, source: RatingsSource, *, excludes: tuple[str, ...] = ()) -> None:
        """One line before any data is read: ``--train`` without ``--test`` (or the reverse), ``--valid``
        alone, or beside an option that draws a split of its own (``excludes``: ``--split``, ``--cv``,
        ``--test-size`` where the command has them), or ``--ratings``."""
        if not self:
            return
        if self.train is None or self.test is None:
            given, missing = ("--train", "--test") if self.test is None else ("--test", "--train")
            if self.train is None and self.test is None:
                raise ConfigError(
                    "--valid is one part of a split made elsewhere: give --train FILE --test FILE"
                )
            raise ConfigError(
                f"{given} is one part of a split made elsewhere: give the other with {missing} FILE"
            )
        if source.ratings is not None:
            raise ConfigError(
                "--ratings and --train/--test exclude each other: the split's files are the ratings "
                "(--dataset may name a catalogue for the titles)"
            )
        for name in excludes:
            if typed(ctx, name.removeprefix("--").replace("-", "_")):
                raise ConfigError(
                    f"{name} and --train/--test exclude each other: the files are the split already drawn"
                )
        if source.movies is not None and typed(ctx, "dataset"):
            raise ConfigError("--movies and --dataset both give titles to --train/--test: keep one")


def _in_one_line(note: str) -> str:
    """A loader's note in the CLI's words where its Python wording runs past 80 columns: 'no 'timestamp'
    column: loaded without times, so time-based splits (temporal, leave-last-out) and time features are
    unavailable; name another column (time_col= in Python, --time-col in the CLI)' was 190 columns, the
    first note on every file without times. A split that needs them says so when asked for."""
    from movierec.datasets import NO_TIME_COLUMN, NO_TIME_FIELD

    if note.startswith(NO_TIME_COLUMN) and "name another column" in note:
        return f"{NO_TIME_COLUMN} (--time-col names another)"
    if note.startswith(NO_TIME_COLUMN):  # a --dataset folder's ratings.csv: --time-col reads no folder
        return f"{NO_TIME_COLUMN}, so no time-based splits"
    if note.startswith(NO_TIME_FIELD):
        return f"{NO_TIME_FIELD}, so no time-based splits"
    return note


#: the options that say how a ratings file is read (RatingsSource's fields): typed with ``--config``, they
#: go over the file's ``[dataset]`` (:meth:`RatingsSource.with_typed_columns`)
COLUMN_OPTIONS = ("header", "sep", "user_col", "item_col", "rating_col", "time_col", "movies", "encoding")

#: what each of :data:`COLUMN_OPTIONS` is about, for the line that refuses it where no ratings file is read
_FILE_ONLY = {
    "movies": "--movies gives titles to a --ratings file",
    "header": "{flag} is about a --ratings file's first line",
    "sep": "--sep is a --ratings file's delimiter",
    "encoding": "--encoding is a --ratings file's text encoding",
    "user_col": "--user-col names a --ratings file's user column",
    "item_col": "--item-col names a --ratings file's movie column",
    "rating_col": "--rating-col names a --ratings file's rating column",
    "time_col": "--time-col names a --ratings file's time column",
}


def file_option_refusal(name: str, header: bool | None = None) -> ConfigError:
    """The one line for column option ``name`` (one of :data:`COLUMN_OPTIONS`; ``header``: the value of
    ``--header``/``--no-header``) given where no ratings file is read, a ``--dataset`` (or an experiment
    file's ``[dataset]`` naming one): what the option is about and why it does not apply. ``compare
    --config exp.toml --dataset ml-latest-small --encoding latin-1`` dropped the option without a word."""
    about = _FILE_ONLY[name].format(flag="--header" if header else "--no-header")
    return ConfigError(
        f"{about}; a --dataset {'brings its own' if name == 'movies' else 'reads its own files'}"
    )


# RatingsSource's fields as typer options: (annotation, declaration), in the order --help lists them
_SOURCE_OPTIONS: dict[str, tuple[Any, Any]] = {
    "dataset": (str, DATASET),
    "ratings": (Path | None, RATINGS),
    "header": (bool | None, HEADER),
    "sep": (str | None, SEP),
    "user_col": (str, USER_COL),
    "item_col": (str, ITEM_COL),
    "rating_col": (str, RATING_COL),
    "time_col": (str | None, TIME_COL),
    "rating_scale": (tuple[float, float] | None, RATING_SCALE),
    "movies": (Path | None, MOVIES),
    "encoding": (str | None, ENCODING),
}


def option_group(
    param: str, make: Callable[..., Any], options: Mapping[str, tuple[Any, Any]]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator declaring a group of options once for every command that takes them.

    The command takes one parameter ``param``; typer sees ``options`` (name → (annotation, typer option))
    in its place, in that order (same names, so ``typed(ctx, name)`` works), and the command receives
    ``make(**their values)``.
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(command)
        params: list[inspect.Parameter] = []
        for p in sig.parameters.values():
            if p.name != param:
                params.append(p)
                continue
            params += [
                inspect.Parameter(name, p.kind, default=option, annotation=ann)
                for name, (ann, option) in options.items()
            ]

        @functools.wraps(command)
        def with_group(*args: Any, **kwargs: Any) -> Any:
            group = make(**{name: kwargs.pop(name) for name in options})
            return command(*args, **{param: group}, **kwargs)

        with_group.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        hints = {k: v for k, v in command.__annotations__.items() if k != param}
        with_group.__annotations__ = hints | {name: ann for name, (ann, _) in options.items()}
        return with_group

    return decorate


#: ``--dataset``, ``--ratings``, ``--user-col`` … ``--rating-scale`` for a ``source: RatingsSource`` parameter
ratings_options = option_group("source", RatingsSource, _SOURCE_OPTIONS)

#: ``--train``, ``--test``, ``--valid`` for a ``files: SplitFilesGiven`` parameter (compare, tune)
split_file_options = option_group(
    "files",
    SplitFilesGiven,
    {
        "train": (Path | None, TRAIN_FILE),
        "test": (Path | None, TEST_FILE),
        "valid": (Path | None, VALID_FILE),
    },
)


def _top_level_parts(item: str) -> list[str]:
    """``item`` split at the commas outside brackets and quotes, so a JSON value keeps its own commas:
    ``bases={"ease": {}, "ials": {}},folds=3`` → ``['bases={"ease": {}, "ials": {}}', 'folds=3']``."""
    parts, depth, quote, start = [], 0, "", 0
    for n, ch in enumerate(item):
        if quote:
            quote = "" if ch == quote and item[n - 1] != "\\" else quote
        elif ch == '"':  # JSON's quotes (an apostrophe in a text value is just a character)
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(item[start:n])
            start = n + 1
    parts.append(item[start:])
    return parts


def _param_pairs(items: list[str] | None) -> Iterator[tuple[str, str, Any]]:
    """``(part, key, value)`` of each ``KEY=VALUE`` in ``items`` (repeated options, each comma-separated
    outside brackets and quotes); values parsed as JSON when they can be (numbers, true, null, lists,
    objects), else kept as text."""
    for item in items or []:
        for part in _top_level_parts(item):
            part = part.strip()
            if not part:
                continue
            if "=" not in part:
                raise ConfigError(f"--params {part!r}: expected key=value (or model.key=value)")
            key, text = part.split("=", 1)
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = text
            yield part, key.strip(), value


def _param_name(part: str, name: str) -> str:
    name = name.strip().replace("-", "_")
    if not name:
        raise ConfigError(f"--params {part!r}: empty parameter name")
    return name


def parse_params(items: list[str] | None, model: str | None = None) -> dict[str, Any]:
    """``["n_factors=40", "svd.lr=0.01,reg=0.05"]`` → dict; values parsed as JSON when they can be (numbers, true, null).

    The one ``--params`` syntax of every command, ``[MODEL.]KEY=VALUE``: with ``model`` given the
    ``MODEL.`` prefix may be written and must name it (:func:`parse_model_params`; a prefix naming
    another model is refused as "is not --model (ease)": the commands that pass ``model`` take one).
    """
    if model is not None:
        name = model.strip().lower()
        return parse_model_params(items, [name], option="--model")[name]
    return {_param_name(part, key): value for part, key, value in _param_pairs(items)}


def parse_model_params(
    items: list[str] | None, models: list[str], *, option: str = "--models"
) -> dict[str, dict[str, Any]]:
    """``["svd.n_factors=100", "knn-baseline.k=20,svd.lr=0.01"]`` → ``{"svd": {"n_factors": 100}, …}`` (values as JSON when they parse).

    A parameter without a ``model.`` prefix applies when exactly one model is compared. ``option``: the
    command's option that names ``models``, for the error on a prefix naming another model: ``--models``
    says "is not among --models (ease, svd)"; a one-model command's ``--model`` says "is not --model
    (ease)", not a plural option it does not have.
    """
    out: dict[str, dict[str, Any]] = {m: {} for m in models}
    for part, key, value in _param_pairs(items):
        if "." in key:
            model, name = key.rsplit(".", 1)
        elif len(models) == 1:
            model, name = models[0], key
        else:
            raise ConfigError(
                f"--params {part!r}: say which model it is for, e.g. {models[0]}.{part.strip()}"
            )
        model = model.strip().lower()
        if model not in out:
            among = "among " if option == "--models" else ""
            raise ConfigError(
                f"--params {part!r}: model {model!r} is not {among}{option} ({', '.join(models)})"
            )
        out[model][_param_name(part, name)] = value
    _say_idle(out)
    return out


_SAID: set[str] = set()  # commands that parse --params twice say each note once


def forget_notes() -> None:
    """Start a command afresh: the notes of an earlier run in this process are said again."""
    _SAID.clear()


def _say_idle(per_model: dict[str, dict[str, Any]]) -> None:
    """A note for each given parameter that changes nothing (``registry.idle_notes``); labels such as
    ``svd+genres`` are looked up by their model."""
    if not any(per_model.values()):
        return
    from movierec.models.registry import idle_notes

    for label, given in per_model.items():
        for text in idle_notes(label.split("+")[0], given) if given else []:
            if text not in _SAID:
                _SAID.add(text)
                say("note", text)


def threshold_for(ds: Dataset, given: float | None) -> float:
    """``--implicit-threshold`` as typed, else its default for ``ds``: 4, or on data without ratings its one
    value (:func:`movierec.interactions.resolve_threshold`), said once in a note (the data's own note, which
    :meth:`RatingsSource.load` leaves to this, so a typed threshold that fails is one line)."""
    from movierec.interactions import assumes_threshold, resolve_threshold, without_ratings_note

    if given is None and assumes_threshold(ds.interactions):
        text = without_ratings_note(ds.interactions, "--implicit-threshold")  # one line at 80 columns
        if text not in _SAID:
            _SAID.add(text)
            say("note", text)
    return resolve_threshold(ds.interactions, given)


def warn_rating_model(model: Any, ds: Dataset) -> None:
    """A warning, not a refusal (it was asked for), when a rating model is to learn from data without ratings."""
    if getattr(model, "kind", "") == "explicit" and ds.interactions.interactions_only:
        from movierec.interactions import rating_model_without_ratings

        say("warning", rating_model_without_ratings(str(getattr(model, "name", model)), ds.interactions))


def say(kind: str, text: str) -> None:
    """A note or a warning for the person at the terminal, on stderr, ``kind:`` in yellow (also what library
    pipelines call to report, e.g. serving.pipeline.train_and_export's ``say``); wrapped as
    :func:`print_prose` wraps. ``text`` is literal, not rich markup: an install hint's extra,
    ``'movierec[viz]'``, read as a style tag, was printed ``'movierec'``. A library's note that names its
    fix in each door's words (:class:`movierec.errors.Doors`) is said in the CLI's."""
    from rich.markup import escape

    _prose(err_console, f"[yellow]{kind}:[/] {escape(in_cli(text))}")


def print_prose(text: str, *, err: bool = False) -> None:
    """A sentence for the reader on stdout (``err``: stderr, beside the progress), word-wrapped at the
    console's width: the window's in a terminal, 80 columns when piped or logged (``$COLUMNS`` if set), as
    compare's notes are.

    A line wider than the terminal is broken by the terminal wherever the column runs out, mid-word or
    mid-number (at 80 columns: 'ndcg@' / '10', '0.16' / '5', 'item' / 's'); rich wraps it at spaces
    instead. Piped (a log, a CI page) it wraps at 80 too: left whole, export's hold-out line was 193
    columns there and tune's ranking warning 226."""
    _prose(err_console if err else console, text)


def _prose(target: Console, text: str) -> None:
    """``text`` (rich markup) on ``target``, wrapped at spaces to its width. In a terminal rich wraps it
    (a word wider than the window is folded, as the terminal would); piped, :func:`movierec.progress.prose_lines`
    does, which keeps a word wider than the width (a long path, a URL) whole on its own line."""
    if target.is_terminal:
        target.print(text, soft_wrap=False)
        return
    from movierec.progress import prose_lines

    for line in prose_lines(Text.from_markup(text).plain, target.width):  # piped: no colours to keep
        target.print(line, markup=False, emoji=False, soft_wrap=True)


def print_json(obj: Any) -> None:
    """Write JSON to stdout, made JSON-safe by the one sanitiser (numpy to Python, NaN to null; movierec.jsonsafe)."""
    from movierec.jsonsafe import to_jsonable  # numpy loads when a command prints, not for --help

    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n")


CONFIG = typer.Option(
    None,
    "--config",
    "-c",
    help="An experiment file (TOML, e.g. tune's best.toml): dataset, seed, models and params come from it; "
    "options typed on the command line win.",
)


def typed(ctx: typer.Context, name: str) -> bool:
    """True when option ``name`` was given on the command line (or by env var), not left at its default."""
    source = ctx.get_parameter_source(name)  # typer vendors its own click: compare the enum by name
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def file_unless_typed(
    ctx: typer.Context, given: dict[str, Any], from_file: Mapping[str, Any]
) -> dict[str, Any]:
    """``given`` (option name → value) with the experiment file's value for every option not typed on the
    command line: typed options win over ``--config``, the file over the defaults."""
    return {name: value if typed(ctx, name) else from_file[name] for name, value in given.items()}


def pick_config_model(exp: Any, model: str | None, path: Path) -> Any:
    """The one model of an experiment file a single-model command uses: the only one, or the one ``--model`` names."""
    if model is None:
        if len(exp.models) == 1:
            return exp.models[0]
        names = ", ".join(m.label or m.name for m in exp.models)
        raise ConfigError(f"{path}: holds {len(exp.models)} models ({names}); pick one with --model")
    key = model.strip().lower()
    for m in exp.models:
        if key in ((m.label or "").lower(), m.name):
            return m
    names = ", ".join(m.label or m.name for m in exp.models)
    raise ConfigError(f"--model {model!r} is not in {path} (it holds {names})")
