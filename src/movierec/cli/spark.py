"""``movierec spark train|recommend``: Spark ALS on ratings of any size, exported as a servable artifact."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from movierec.cli.common import HEADER, JSON, err_console, option_group, print_json, print_prose
from movierec.errors import SEED_MAX

spark_app = typer.Typer(
    help="Train ALS in Spark and batch-score users (needs the spark extra and Java 17).", no_args_is_help=True
)

MASTER = typer.Option(
    "local[*]", "--master", help="local[*], local[N], spark://HOST:PORT, yarn or k8s://https://HOST:PORT."
)
CONF = typer.Option(
    None,
    "--conf",
    metavar="KEY=VALUE",
    help="Spark setting key=value (repeatable), e.g. spark.executor.memory=4g.",
)
CONNECT_TIMEOUT = typer.Option(
    10.0, "--connect-timeout", help="Seconds to wait for a spark:// or k8s:// master before failing."
)


@dataclass(frozen=True)
class SparkCluster:
    """Where a spark command runs: ``--master`` and ``--conf`` (checked at once, so a master Spark does not
    read or a bad pair fails before any work) and ``--connect-timeout``; :meth:`session` starts Spark there."""

    master: str = "local[*]"
    conf: Sequence[str] = ()
    connect_timeout: float = 10.0
    settings: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        from movierec.spark.session import check_master_form, parse_conf

        check_master_form(self.master)
        object.__setattr__(self, "settings", parse_conf(self.conf))

    @contextmanager
    def session(self, app_name: str) -> Iterator[Any]:
        """The command's SparkSession (movierec.spark.session.spark_session). A Spark job that fails in the
        block is one line, ``the Spark job failed: <root cause> (full stack in ….log)``, exit status 1
        (movierec.spark.failures.job_failures), not Py4J's Python and Java traceback."""
        from movierec.spark.failures import job_failures
        from movierec.spark.session import spark_session

        with (
            spark_session(
                self.master, self.settings, app_name=app_name, connect_timeout=self.connect_timeout
            ) as spark,
            job_failures(),  # inside: the causes are read from the JVM before the session stops it
        ):
            yield spark


#: ``--master``, ``--conf``, ``--connect-timeout`` for a ``cluster: SparkCluster`` parameter
cluster_options = option_group(
    "cluster",
    SparkCluster,
    {"master": (str, MASTER), "conf": (list[str], CONF), "connect_timeout": (float, CONNECT_TIMEOUT)},
)


# spark train's longer options, named here so the command reads as check → train() → print
_TRAIN_OUT = typer.Option(
    ..., "--out", "-o", help="Artifact folder to write (what 'movierec serve --artifact' reads)."
)
_TRAIN_RATINGS = typer.Option(
    None,
    "--ratings",
    help="Ratings URI Spark reads (path, hdfs://, s3a://); default: bundled ml-latest-small.",
)


def _one_of(*names: str) -> Any:
    """A ``parser=`` for an option that takes one of ``names``: anything else is refused as the option is
    read, before Spark starts, in the CLI's words (``train`` said ``'foo' (id_mapping= in Python,
    --id-mapping in the CLI): expected index or direct`` after the JVM's start, 9 to 15 s later)."""

    def parse(value: object) -> str:
        text = str(value).strip().lower()
        if text not in names:
            raise typer.BadParameter(f"{value!r}: expected {' or '.join(names)}")
        return text

    return parse


def _delimiter(value: object) -> str:
    """``--sep`` as typed (``tab``, ``';'``, ``::``), checked as the option is read (the loader's rule,
    :func:`movierec.datasets.parsers.parse_delimiter`), in the CLI's words; passed on as typed."""
    from movierec.datasets.parsers import parse_delimiter
    from movierec.errors import ConfigError

    try:
        parse_delimiter(str(value))
    except ConfigError:
        raise typer.BadParameter(
            f"{value!r} cannot separate fields: give one character (',', ';', '|'), tab (or '\\t'), or '::'"
        ) from None
    return str(value)


def _bad_share(value: object) -> float:
    """``--max-bad-share``: a share in [0, 1), checked as the option is read (not after Spark's start)."""
    try:
        share = float(str(value))
    except ValueError:
        share = float("nan")
    if not 0.0 <= share < 1.0:
        raise typer.BadParameter(f"must be a share of the rows in [0, 1) such as 0.01, got {value!r}")
    return share


_TRAIN_SEP = typer.Option(
    None,
    "--sep",
    parser=_delimiter,
    help="CSV field delimiter: one character (',', ';', '|'), tab (or '\\t'), or '::' (default: a tab for "
    ".tsv, else a comma).",
    show_default=False,
)
_TRAIN_MOVIES = typer.Option(
    None, "--movies", help="movies.csv (movieId,title,genres) for titles in the artifact."
)
_TRAIN_REG = typer.Option(
    0.05, "--reg", min=0.0, help="Regularisation (Spark's regParam, scaled by each user's/item's count)."
)
_TRAIN_IMPLICIT = typer.Option(False, "--implicit", help="Implicit-feedback ALS (Hu, Koren & Volinsky 2008).")
_TRAIN_IMPLICIT_THRESHOLD = typer.Option(
    4.0,
    "--implicit-threshold",
    help="Implicit: ratings ≥ this become positives of weight 1; 0 keeps raw values as confidence.",
)


def _test_share(value: object) -> float:
    """``--test-size`` of ``spark train``: a share in [0, 1) (0: no hold-out); a count such as 1000, which
    the local commands take, is refused at parse time, before Spark starts (randomSplit takes shares)."""
    from movierec.spark.train import fault_in_test_share
    from movierec.split import number_as_written

    if (fault := fault_in_test_share(value)) is not None:
        raise typer.BadParameter(fault)
    return float(number_as_written(value))  # type: ignore[arg-type]  # a number, as checked


_TRAIN_TEST_SIZE = typer.Option(
    0.2,
    "--test-size",
    parser=_test_share,
    metavar="SHARE",
    help="Hold-out share (0: no evaluation, train on everything); a share only, since Spark's randomSplit "
    "cannot hold out an exact number of ratings.",
)
_TRAIN_MAX_BAD_SHARE = typer.Option(
    0.01,
    "--max-bad-share",
    parser=_bad_share,
    metavar="SHARE",
    help="Fail when more than this share of rows is malformed.",
)
_TRAIN_ID_MAPPING = typer.Option(
    "index",
    "--id-mapping",
    parser=_one_of("index", "direct"),
    help="index (any ids, mapped by a Spark join) or direct (int32 ids as they are).",
)
_TRAIN_NUM_BLOCKS = typer.Option(
    None,
    "--num-blocks",
    min=1,
    help="ALS user and item blocks (default: Spark's 10; the core count on local masters).",
)


@spark_app.command("train")
@cluster_options
def train_cmd(
    out: Path = _TRAIN_OUT,
    ratings: str = _TRAIN_RATINGS,
    fmt: str = typer.Option(
        None,
        "--format",
        parser=_one_of("csv", "parquet"),
        help="csv or parquet (default: from the file name).",
    ),
    user_col: str = typer.Option("userId", "--user-col", help="User id column."),
    item_col: str = typer.Option("movieId", "--item-col", help="Item id column."),
    rating_col: str = typer.Option("rating", "--rating-col", help="Rating (or interaction strength) column."),
    sep: str | None = _TRAIN_SEP,
    header: bool | None = HEADER,
    movies: str = _TRAIN_MOVIES,
    rank: int = typer.Option(64, "--rank", min=1, help="Number of latent factors."),
    reg: float = _TRAIN_REG,
    iterations: int = typer.Option(15, "--iterations", min=1, help="ALS sweeps."),
    implicit: bool = _TRAIN_IMPLICIT,
    alpha: float = typer.Option(10.0, "--alpha", min=0.0, help="Implicit confidence: c = 1 + alpha·r."),
    implicit_threshold: float = _TRAIN_IMPLICIT_THRESHOLD,
    test_size: float = _TRAIN_TEST_SIZE,
    seed: int = typer.Option(
        42, "--seed", min=0, max=SEED_MAX, help="Seed for the split and ALS initialisation (0…2³²−1)."
    ),
    k: int = typer.Option(10, "--k", "-k", min=1, help="K for the implicit ranking metrics."),
    max_bad_share: float = _TRAIN_MAX_BAD_SHARE,
    id_mapping: str = _TRAIN_ID_MAPPING,
    num_blocks: int = _TRAIN_NUM_BLOCKS,
    cluster: SparkCluster = SparkCluster(),  # --master, --conf, --connect-timeout
    force: bool = typer.Option(False, "--force", help="Replace an existing --out folder."),
    as_json: bool = JSON,
) -> None:
    """Train Spark ALS, evaluate on a seeded hold-out and write the same artifact as 'movierec export'."""
    from movierec.datasets.parsers import ColumnOptionsError
    from movierec.errors import DataError
    from movierec.output_folders import check_artifact_target, nothing_written, record_outcome
    from movierec.spark.failures import SparkJobError
    from movierec.spark.train import check_local_input, check_local_movies, train

    check_artifact_target(out, force)  # before Spark starts: exists, foreign or unwritable costs milliseconds
    check_local_input(ratings, "--ratings", fmt)  # and a local file that is not there, or a folder of no CSV
    check_local_movies(movies, "--movies", item_col=item_col)  # and a titles file without its columns
    existed = out.exists()
    try:
        with cluster.session("movierec spark train") as spark:
            result = train(
                spark,
                ratings,
                out=out,
                fmt=fmt,
                user_col=user_col,
                item_col=item_col,
                rating_col=rating_col,
                sep=sep,
                header=header,
                rank=rank,
                reg=reg,
                iterations=iterations,
                implicit=implicit,
                alpha=alpha,
                implicit_threshold=implicit_threshold,
                test_size=test_size,
                seed=seed,
                k=k,
                max_bad_share=max_bad_share,
                id_mapping=id_mapping,
                num_blocks=num_blocks,
                movies=movies,
                force=force,
            )
    except SparkJobError as exc:  # Spark fails before export, which renames a finished folder into place
        record_outcome(exc, nothing_written(out, existed))
        raise
    except ColumnOptionsError as exc:  # a headerless file's columns: the fix in the CLI's flags
        raise DataError(exc.in_flags()) from None
    if as_json:
        print_json(result.summary())
        return
    # prose, wrapped at spaces to a terminal's width (the hold-out line was 177 columns on the bundled data,
    # which an 80-column terminal broke mid-word); piped or logged each stays one line, as in export
    print_prose(
        f"Spark ALS ({'implicit' if implicit else 'explicit'}, rank {rank}): {result.n_users:,} users × "
        f"{result.n_items:,} items, {result.n_train:,} training ratings"
    )
    print_prose(_holdout_line(result.metrics))
    print_prose(escape(f"artifact written to {result.artifact}"))
    # the command on a line of its own, as tune's and report's 'next:' lines (it read 'artifact: PATH  (serve
    # it: movierec serve --artifact PATH)', with a double space, wrapped inside the parenthesis)
    print_prose(escape(f"next: movierec serve --artifact {result.artifact}"))
    err_console.print(f"timings (s): {', '.join(f'{key} {v:.1f}' for key, v in result.seconds.items())}")


def _holdout_line(metrics: dict[str, Any]) -> str:
    """What the hold-out figures are and what they were measured on: the summary said only
    ``rmse 0.9297, mae 0.7154``, leaving out that the rows of a user or movie not in training (821 of 20,258
    on ml-latest-small) are not scored, and over how many users the ranking metrics are averaged. A rating
    hold-out names the scale its predictions were clipped to (``evaluate_explicit``)."""
    shown = ", ".join(f"{key} {v:.4f}" for key, v in metrics.items() if isinstance(v, float))
    if metrics.get("protocol") == "rating":
        n_eval, n_test = metrics.get("n_test_evaluated"), metrics.get("n_test")
        over = f" over {n_eval:,} of {n_test:,} test ratings" if n_eval is not None and n_test else ""
        rest = " (the others have a user or movie not in training)" if over and n_eval != n_test else ""
        clip = metrics.get("prediction_clip")
        clipped = (
            f", predictions clipped to {clip[0]:g}..{clip[1]:g} as the artifact serves them" if clip else ""
        )
        return f"hold-out: {shown}{over}{rest}{clipped}"
    if metrics.get("protocol") == "full-ranking":
        users = metrics.get("n_test_users")
        over = f" over {users:,} test users" if users is not None else ""
        return f"hold-out, full ranking of every movie not rated in training: {shown}{over}"
    return "no hold-out (--test-size 0: trained on every rating)"


@spark_app.command("recommend")
@cluster_options
def recommend_cmd(
    artifact: Path = typer.Option(
        ..., "--artifact", "-a", help="Artifact folder (from 'spark train' or 'movierec export')."
    ),
    out: str = typer.Option(
        ..., "--out", "-o", help="Parquet output (a folder of part files; any URI Spark writes)."
    ),
    k: int = typer.Option(100, "--k", "-k", help="Recommendations per user."),
    include_seen: bool = typer.Option(False, "--include-seen", help="Keep items the user rated in training."),
    exclude: list[str] = typer.Option(
        None,
        "--exclude",
        metavar="MOVIE",
        help="A movie no list may show, TITLE or ID (say, one not licensed here); repeat the option for "
        "each. Each list fills from the next best, as 'movierec recommend --exclude' does.",
    ),
    partitions: int = typer.Option(
        None, "--partitions", min=1, help="User partitions (default: 2 × Spark's default parallelism)."
    ),
    cluster: SparkCluster = SparkCluster(),  # --master, --conf, --connect-timeout
    force: bool = typer.Option(False, "--force", help="Replace an existing --out."),
    as_json: bool = JSON,
) -> None:
    """Batch-score every user of an artifact in Spark: top-K unseen movies per user, written as Parquet."""
    from movierec.cli.compare import _excluded  # --exclude resolved as `movierec recommend` resolves it
    from movierec.models.base import check_positive
    from movierec.serving.artifact import load_artifact
    from movierec.spark.recommend import check_output, recommend_all

    check_positive("--k", k, integer=True)
    art = load_artifact(artifact)  # verify before the JVM starts
    denied = _excluded(art, exclude)  # raw movieIds; a misspelt movie: one line before the JVM starts
    check_output(out, force)  # and an existing --out without --force, or one Spark did not write
    with cluster.session("movierec spark recommend") as spark:
        result = recommend_all(
            spark,
            artifact,
            out,
            k=k,
            exclude_seen=not include_seen,
            exclude=denied or None,
            partitions=partitions,
            force=force,
        )
    if as_json:
        print_json(result.summary())
        return
    print_prose(  # --out is the user's: a folder named 'recs[1]' is no style tag
        escape(
            f"wrote {result.n_rows:,} recommendations for {result.n_users:,} users to {result.out} "
            f"({result.seconds:.1f} s)"
        )
    )


def register(app: typer.Typer) -> None:
    """Add the ``spark`` sub-app to the main CLI."""
    app.add_typer(spark_app, name="spark")
