"""``movierec tune``: an Optuna study over one model's hyperparameters, with a live progress display."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from movierec.cli.common import (
    EARLY_STOPPING,
    ITEM_FEATURES,
    JSON,
    MODEL_PARAMS,
    PATIENCE,
    SEED,
    STOP_EVERY,
    USER_FEATURES,
    RatingsSource,
    SplitFilesGiven,
    console,
    err_console,
    holdout_size_option,
    parse_model_params,
    print_json,
    print_prose,
    print_table,
    ratings_options,
    say,
    split_file_options,
    stopping_option,
    threshold_for,
    typed,
)
from movierec.errors import ConfigError, did_you_mean, interrupted_by

# the help names a few; the full list (every registered model with a search space) is computed on demand,
# since importing every model class would slow every command's start
TUNABLE_EXAMPLES = ("svd", "bayesian-fm", "blend", "bpr", "ials", "ease", "ensemble")
# what an objective's term and a --pareto metric can be (movierec.objective's ACCURACY and BEYOND, written
# out for the same reason; test_cli_tune holds the two equal), which the --pareto refusal sends the reader to
PARETO_TERMS = (
    "ndcg, recall, precision, map, hit_rate (or hr), ild_genres, ild_vectors, arp, aplt, calibration_kl, "
    "unexpectedness, serendipity"
)

_THRESHOLD = typer.Option(
    None,
    "--implicit-threshold",
    "--threshold",
    help="Ratings ≥ this are positives (implicit models) and relevant (ranking metrics), as in compare "
    "(--threshold: tune's older name for it). Default: 4; on data without ratings (--rating-col ''), its "
    "one value: every row a positive.",
    show_default=False,
)

_PARETO = typer.Option(
    None,
    "--pareto",
    help=f"Two metrics at one cut-off, e.g. ndcg@10,arp@10, each one of {PARETO_TERMS}: record both on "
    "every trial and report the trials no other beats on both (pareto.csv). --metric may be a weighted "
    "objective of them such as 'ndcg@10-0.1*arp@10'.",
)

_OUTER_FOLDS = typer.Option(
    None,
    "--outer-folds",
    min=2,
    help="Nested cross-validation: K outer folds, a study on each fold's training part, its best "
    "params scored once on the fold's test part; prints the mean ± std. It estimates the procedure, "
    "so it writes no best.toml (run without --outer-folds for params to use).",
    show_default=False,
)


_STORAGE = typer.Option(
    None,
    "--storage",
    help="Study database URL (default sqlite:///OUT/study.db); "
    "postgresql://… lets workers on several machines share a study.",
)

_WORKER = typer.Option(
    0,
    "--worker",
    help="This worker's number when several processes share one study "
    "(each needs its own; --seed must be the same).",
)

_SPLIT = typer.Option(
    None,
    "--split",
    help="Tune on a canonical split instead of a random --test-size hold-out: ml100k-u1 … ml100k-u5, "
    "ml100k-ua, ml100k-ub (--dataset PATH/ml-100k), ml1m-90-10. The --cv folds are cut from its training "
    "part (u1.base); its test part (u1.test) is scored once, and best.toml records it as the split's kind.",
    metavar="NAME",
    show_default=False,
)


@ratings_options
@split_file_options
def tune_cmd(
    ctx: typer.Context,
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help=f"Model to tune, e.g. {', '.join(TUNABLE_EXAMPLES)}: any model with a search space "
        "(`movierec models NAME` shows it; optional with --resume).",
    ),
    source: RatingsSource = RatingsSource(),  # --dataset, --ratings, --user-col … --rating-scale
    files: SplitFilesGiven = SplitFilesGiven(),  # --train, --test, --valid: a split made elsewhere
    metric: str | None = typer.Option(
        None,
        "--metric",
        help="rmse | mae | mse | fcp | ndcg@K | recall@K | precision@K | map@K | hit_rate@K (or hr@K) | mrr@K "
        "| mrr (the whole ranking) | auc (default: rmse for rating models, ndcg@10 for implicit ones), or an "
        "objective weighing metrics --pareto lists, at one K: 'ndcg@10-0.1*arp@10'.",
    ),
    trials: int = typer.Option(
        50, "--trials", "-n", help="Trials to run in this session (they add to an existing study)."
    ),
    cv: int = typer.Option(
        3, "--cv", help="Inner folds cut from the training split (1 = one 20% validation split)."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", help="Stop starting new trials after this many seconds."
    ),
    storage: str | None = _STORAGE,
    study: str | None = typer.Option(None, "--study", help="Study name (default MODEL-METRIC)."),
    n_jobs: int = typer.Option(1, "--n-jobs", help="Parallel trials in this process (threads)."),
    resume: bool = typer.Option(
        False, "--resume", help="Continue an existing study with the settings it was created with."
    ),
    seed: int = SEED,
    worker: int = _WORKER,
    test_size: float = holdout_size_option(
        0.2,
        "Ratings held out as the test split (never used for tuning): a fraction (0.2), or a number of "
        "them (1000). The inner validation folds (--cv) are cut from the rest.",
    ),
    split: str | None = _SPLIT,
    threshold: float | None = _THRESHOLD,
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (default tuning/STUDY)."),
    force: bool = typer.Option(False, "--force", help="Replace another study's results in --out."),
    pareto: str | None = _PARETO,
    as_json: bool = JSON,
    user_features: str | None = USER_FEATURES,
    item_features: str | None = ITEM_FEATURES,
    params: list[str] = MODEL_PARAMS,
    early_stopping: str | None = EARLY_STOPPING,
    patience: int | None = PATIENCE,
    stop_every: int | None = STOP_EVERY,
    outer_folds: int | None = _OUTER_FOLDS,
) -> None:
    """Search hyperparameters with seeded TPE and median pruning, on training folds only; write best.toml."""
    from movierec.tuning import check_request

    _check_counts(trials, cv, n_jobs, timeout)
    if outer_folds is not None:  # nested cross-validation: one in-memory study per outer fold
        _check_nested(ctx, files, pareto)
        nested = dict(n_trials=trials, cv=cv, timeout=timeout, n_jobs=n_jobs, threshold=threshold, seed=seed,
                      item_features=item_features, early_stopping=stopping_option(early_stopping, patience, stop_every))  # fmt: skip
        return _run_nested(
            source, (model, metric, params), outer_folds, nested, user_features, out, as_json, force=force
        )
    cv = _files_cv(ctx, files, source, cv, split)
    model_name, label, front_of = _model_and_metric(model, metric, pareto, resume, storage, study, out)
    fixed = _fixed_params(model_name, params, resume)
    study_name = study or _default_study(model_name, label, metric, storage, out)  # metric: as typed
    _check_resumable(storage, study_name, out, resume=resume, model_given=model is not None)
    # a failure or Ctrl-C: the study database is kept when it holds finished trials, else removed
    with _study_guard(out, storage, study_name, force) as (out_dir, storage):
        options: dict[str, Any] = dict(
            metric=label, n_trials=trials, cv=cv, timeout=timeout, n_jobs=n_jobs, test_size=test_size,
            threshold=threshold, seed=seed, storage=storage, study_name=study_name, resume=resume,
            item_features=item_features, early_stopping=stopping_option(early_stopping, patience, stop_every),
            split=split,
        )  # fmt: skip
        # tune() checks the same options again (it is callable from Python); checking here first reports a
        # mistake as one line, without the data, before the progress display starts
        check_request(model_name, **options, fixed_params=fixed, user_features=user_features)
        dataset, given = _tuning_data(ctx, source, files, options)
        result = _run_study(
            dataset, model_name, options, out_dir, worker=worker, user_features=user_features, quiet=as_json,
            fixed=fixed, force=force,
        )  # fmt: skip
        front = _pareto(storage, result.study_name, front_of, out_dir) if front_of else None
        check = _ranking_check(result, dataset, out_dir, seed=seed, threshold=options["threshold"],
                               test_size=test_size, given=given)  # fmt: skip
    _show(result, front, front_of, out_dir, check, as_json)


#: options of tune that mean nothing with --outer-folds, and why (each refused in one line, exit 2)
_NOT_NESTED = {
    "resume": "nested studies are kept in memory, one per outer fold, so there is none to resume",
    "storage": "nested studies are kept in memory, one per outer fold (a stored one could not be resumed)",
    "study": "each outer fold's study is named MODEL-METRIC-foldF, in memory",
    "worker": "nested studies are kept in memory, so no other process can share them",
    "test_size": "each of K outer folds holds out 1/K of the ratings",
    "pareto": "the Pareto front is one study's; nested CV runs one per outer fold",
    "split": "the outer folds are the held-out parts (a canonical split is one hold-out: tune without "
    "--outer-folds)",
}


def _check_nested(ctx: typer.Context, files: SplitFilesGiven, pareto: str | None) -> None:
    """``--outer-folds`` beside an option that makes no sense with it: one line, before any data is read."""
    flags = {"test_size": "--test-size", "study": "--study"}
    for name, why in _NOT_NESTED.items():
        if typed(ctx, name) and (name != "pareto" or pareto is not None):
            raise ConfigError(f"--outer-folds with {flags.get(name, '--' + name)}: {why}")
    if files:
        raise ConfigError(
            "--outer-folds with --train/--test: the outer folds are cut from one ratings file "
            "(--dataset or --ratings); a given split is one hold-out, tune it without --outer-folds"
        )


@contextmanager
def _said_on_interrupt(out_dir: Path, named: bool) -> Iterator[None]:
    """Ctrl-C during nested cross-validation: the line says what is left, as plain tune's does (it said
    'movierec: interrupted' alone, where tune says its finished trials are kept): nothing, since the
    studies live in memory. An interrupt while the files move into place has its own line already.
    ``named``: --out was given; the default tuning/MODEL-METRIC-nested is not quoted (as tune's study)."""
    existed = out_dir.exists()
    try:
        yield
    except KeyboardInterrupt as exc:  # SIGTERM's Terminated is one too
        if not getattr(exc, "__notes__", None):
            from movierec.output_folders import nothing_written, record_outcome

            record_outcome(
                exc,
                f"{nothing_written(out_dir, existed, named=named)}; nested studies are kept in memory, "
                "none to continue",
            )
        raise


def _run_nested(
    source: RatingsSource,
    typed_model: tuple[str | None, str | None, list[str]],
    outer_folds: int,
    options: dict[str, Any],
    user_features: str | None,
    out: Path | None,
    as_json: bool,
    force: bool = False,
) -> None:
    """:func:`movierec.nested_tuning.nested_tune` with the plan line first, a progress bar per outer fold
    (plain lines in a pipe), then the per-fold table, the mean ± std line and the files. ``typed_model``:
    ``--model``, ``--metric`` and ``--params`` as typed. An --out holding another nested run's results is
    refused before fold 1's study, once the run's settings are known (the data read), unless ``force``."""
    from movierec.nested_tuning import check_nested_folder, nested_tune, plan_words, write_nested_outputs
    from movierec.progress import LineProgress, make_progress
    from movierec.tuning import check_request

    model_name, label, _ = _model_and_metric(
        typed_model[0], typed_model[1], None, False, None, None, out, resumable=False
    )
    fixed = _fixed_params(model_name, typed_model[2], False)

    out_dir = out if out is not None else Path("tuning") / _slug(f"{model_name}-{label}-nested")
    check_nested_folder(out_dir)  # someone else's files of our names: refused before the data is read
    # so is any other mistake, and item features the model built with --params would not learn from
    check_request(model_name, metric=label, test_size=None, fixed_params=fixed, user_features=user_features,
                  **options)  # fmt: skip
    dataset = source.load()
    options["threshold"] = threshold_for(dataset, options["threshold"])
    columns = _trial_columns()
    with make_progress(*columns, console=err_console, transient=False, disable=as_json) as bar:
        lines = isinstance(bar, LineProgress)
        tasks: dict[int, Any] = {}

        def start(info: dict[str, Any]) -> None:
            if info["fold"] == 1:  # another run's nested.json there: refused before the plan and a trial
                check_nested_folder(out_dir, run=(model_name, label, info["settings"]), force=force)
            if not as_json:
                if info["fold"] == 1:
                    plan = {**options, "outer_folds": info["n_folds"]}
                    # wrapped as a sentence: rich's own wrap of the README's run at 80 columns ended a
                    # line in a space ('… 20 trials, 3 inner ' / 'folds')
                    print_prose(
                        escape(f"nested cross-validation of {model_name} for {label}: {plan_words(plan)}"),
                        err=True,
                    )
                    print_prose(escape(f"outer folds: {info['outer']}"), err=True)
                err_console.print(
                    f"outer fold {info['fold']}/{info['n_folds']}: {info['n_train']:,} training ratings, "
                    f"{info['n_test']:,} held out (seed {info['seed']})"  # folds cut here: n_test is known
                )
            tasks[info["fold"]] = bar.add_task(
                f"fold {info['fold']}/{info['n_folds']} {model_name} ({label})",
                total=options["n_trials"], last="–", best="–",
            )  # fmt: skip

        def progress(event: dict) -> None:
            last = _last_trial(event)
            best = "–" if event["best_value"] is None else f"{event['best_value']:.4f}"
            if lines:
                last, best = f"last {last}", ("–" if best == "–" else f"best {best}")
            bar.update(tasks[event["fold"]], advance=1, best=best, last=last)

        with _said_on_interrupt(out_dir, named=out is not None):  # the files written here, as named
            result = nested_tune(
                dataset, model_name, outer_folds=outer_folds, metric=label, fixed_params=fixed or None,
                user_features=user_features, progress=progress, on_fold=start, **options,
            )  # fmt: skip
            result.files = write_nested_outputs(result, out_dir, named=out is not None)
    if as_json:
        print_json(result.to_dict())
        return
    _print_nested(result)


def _print_nested(result: Any) -> None:
    """The per-fold table, each fold's best params, the mean ± std line, what it estimates, the files."""
    from movierec.nested_tuning import params_lines

    table = Table(title=f"{result.model}: nested cross-validation, {result.metric}")
    # two-line headers, as the lists' 'ratings' / 'of 4+': on one line the six were 81 columns wide with
    # README's 'tune --model svd --outer-folds 5 --trials 20', so at 80 every '16 (+4 pruned)' wrapped over
    # two lines, and a trade-off metric's name was cut ('ndcg@10-0.1*arp…')
    for name in ("fold", "train\nratings", "test\nratings", "validation", f"test\n{result.metric}", "trials"):
        table.add_column(name, justify="right")
    for r in result.folds:
        shown = [f"{v:.4f}" if v is not None else "–" for v in (r["validation"], r["test"])]
        trials = f"{r['n_complete']}" + (f" (+{r['n_pruned']} pruned)" if r["n_pruned"] else "")
        table.add_row(str(r["fold"]), f"{r['n_train']:,}", f"{r['n_test']:,}", *shown, trials)
    print_table(table)
    for line in params_lines(result.folds):
        console.print(line, soft_wrap=True)
    for what, value in _feature_rows(result.settings):  # every fold's trials and refit were fitted with them
        print_prose(escape(f"{what} in every fold: {value}"))
    print_prose(result.summary())
    print_prose(
        "this estimates the tuning procedure, not one set of parameters (each fold chose its own), so no "
        "best.toml is written; for parameters to use, run the same command without --outer-folds"
    )
    for key, path in result.files.items():
        console.print(f"  {key:15s} {escape(str(path))}", soft_wrap=True)


def _files_cv(
    ctx: typer.Context, files: SplitFilesGiven, source: RatingsSource, cv: int, split: str | None = None
) -> int:
    """``--train``/``--test`` checked (``--test-size`` and ``--split`` draw a split of their own, so the two
    of them exclude each other too); with ``--valid``, RecBole's validation file, every trial is scored on
    it (tune's ``validation=``), so ``--cv`` is 1."""
    files.check(ctx, source, excludes=("--test-size", "--split"))
    if split is not None and typed(ctx, "test_size"):
        raise ConfigError(
            f"--split and --test-size exclude each other: {split} is a hold-out already drawn "
            "(its training part is tuned on, its test part scored once)"
        )
    if files.valid is None:
        return cv
    if typed(ctx, "cv") and cv != 1:
        raise ConfigError(
            "--valid is the one part every trial is scored on, so --cv has no folds to cut; leave --cv out"
        )
    return 1


def _tuning_data(
    ctx: typer.Context, source: RatingsSource, files: SplitFilesGiven, options: dict[str, Any]
) -> tuple[Any, Any]:
    """The dataset (a dataset that does not load fails before any word about the study) and, with
    ``--train``/``--test``, the split its files give: ``options`` then hand tune() the parts (``holdout=``,
    ``validation=``), so trials see the training part (and ``--valid``) only. ``options["threshold"]``
    resolved: 4, or on data without ratings its one value."""
    given = source.load_split(files, typed(ctx, "dataset")) if files else None
    dataset = source.load() if given is None else given.dataset
    options["threshold"] = threshold_for(dataset, options["threshold"])
    if given is not None:
        options.update(holdout=(given.train, given.test), validation=given.valid)
    if given is not None or options.get("split") is not None:  # the split is drawn: no --test-size
        options.pop("test_size")
    return dataset, given


def _check_counts(trials: int, cv: int, n_jobs: int, timeout: float | None) -> None:
    """tune's counts, refused in the CLI's flags before anything is opened: tune() checks them again for
    Python in its keywords ('n_jobs must be ≥ 1'), which named no option of this command."""
    if trials <= 0:
        raise ConfigError(f"--trials must be ≥ 1, got {trials}")
    if cv < 1:
        raise ConfigError(f"--cv must be ≥ 1 (1 = one 20% validation split), got {cv}")
    if n_jobs == 0 or n_jobs < -1:
        raise ConfigError(f"--n-jobs must be ≥ 1 (or -1 for one per CPU), got {n_jobs}")
    if timeout is not None and not timeout > 0:
        raise ConfigError(f"--timeout must be > 0 seconds, got {timeout:g}")


@contextmanager
def _study_guard(
    out: Path | None, storage: str | None, study_name: str, force: bool = False
) -> Iterator[tuple[Path, str]]:
    """The output folder and storage (:func:`_output`), and what a failed or interrupted run leaves there.

    The study database is the run's record: trials are saved as they finish, and ``--resume`` continues
    from them, so one with a finished trial is kept (after Ctrl-C, a line says where and how to go on).
    One this run created that holds no finished trial (the data failed to load, or the first trial was
    interrupted) is removed, with the folders created for it: it was only a leftover, and the next run
    into that folder was refused ("tuned on other data; choose another --study"). With ``--storage``, or a
    study.db that was there before the run (``--out o --study b`` beside o's study), a run in which no trial
    finished ends by saying what is true of the study there (:func:`_storage_outcome`): it said nothing,
    where the same refusal into a study.db of its own ends 'nothing was written'. Whatever raised, the
    SQLite connections the run opened are closed first, so no -wal or -shm file is left beside the file.
    Another study's results in the folder are refused before anything is opened, unless ``force``.
    """
    from movierec.output_folders import missing_folders, nothing_written, record_outcome, remove_empty_folders
    from movierec.tuning import check_output_folder, close_engines

    out_dir = out if out is not None else Path("tuning") / _slug(study_name)
    db = out_dir / "study.db"
    url = storage or f"sqlite:///{db}"
    # a folder of someone else's files (trials.csv, best.toml, a study.db of theirs) or of another study's
    # results (study 'a' in o/study.db, beside which --study b would replace a's best.toml): refused, untouched
    check_output_folder(out_dir, study_db=storage is None, study=(url, study_name), force=force)
    own_db = storage is None and not db.exists()
    existed = out_dir.exists()
    created = missing_folders(out_dir)
    kept = db if storage is None else "the --storage database"  # where a stopped run's trials stay
    before = None if own_db else _storage_state(url, study_name)
    try:
        yield _output(out, storage, study_name)
    except BaseException as exc:
        close_engines()  # check_request's, refused before tune's study was opened: its -wal and -shm go
        interrupted = interrupted_by(exc)  # Optuna may raise its own error while unwinding Ctrl-C
        counts = _trial_counts(url, study_name)
        finished = None if counts is None else counts[0] + counts[1]  # another worker's running trial: keep
        if own_db and finished == 0:
            _remove_sqlite(db)
            remove_empty_folders(created)
            record_outcome(exc, nothing_written(out_dir, existed, named=out is not None))
        elif finished == 0:  # a database that was there: what is true of the study (tune() drops its own)
            if said := _storage_outcome(url, study_name, before):
                record_outcome(exc, said)
        elif counts is None and interrupted:  # stopped mid-write (the database busy): it stays, and says so
            record_outcome(
                exc,
                f"the study is kept in {kept} (its trials could not be counted as the run stopped): "
                "run the same command again to continue",
            )
        elif counts is not None and counts[0] and interrupted:
            done = counts[0]
            # the same command continues the study (its settings match); adding --resume to it was refused
            # whenever it held --params ("a resumed study keeps the fixed parameters it was created with")
            record_outcome(
                exc,
                f"the study's {done} finished trial{' is' if done == 1 else 's are'} kept in {kept}: "
                "run the same command again to continue (its trials add to these)",
            )
        raise


def _say_continued(info: dict[str, Any], out_dir: Path, storage: str) -> None:
    """A rerun into the same folder adds its trials to the study there: say so before the first trial
    (:func:`movierec.tuning.tune`'s ``on_start``, called once the data and every other input are checked),
    counting finished trials only, and how many trials dead processes had left running were closed. With
    ``--storage`` the study is in that database, whatever ``--out``: the note named the (new, empty) --out
    folder as holding the trials and said another --out would start a new study, which it does not."""
    from movierec.provenance import shown_url
    from movierec.tuning import closed_note

    before, closed = info["finished"], info["closed"]
    own = storage == f"sqlite:///{out_dir / 'study.db'}"  # the folder's study.db, not --storage
    where, fresh = (out_dir, "--study NAME or another --out") if own else (shown_url(storage), "--study NAME")
    if before or closed:
        say(
            "note",
            f"continuing study {info['study_name']!r} in {where}: {before} finished "
            f"trial{'s' if before != 1 else ''} there already"
            f"{closed_note(closed)}; this run adds {info['n_trials']} ({fresh} starts a new one)",
        )


def _default_study(model: str, metric: str, typed: str | None, storage: str | None, out: Path | None) -> str:
    """``MODEL-METRIC`` with the metric's canonical name (``svd-ndcg@10`` for ``--metric ndcg``), unless only
    a study under the name the metric was typed with (``svd-ndcg``, as earlier versions named it) exists:
    that one is continued, so no study is lost to the rename."""
    name = f"{model}-{metric}"
    if typed is None or typed.strip().lower() == metric:
        return name
    alias = f"{model}-{typed.strip().lower()}"
    if _study_exists(_study_url(storage, name, out), name):
        return name
    return alias if _study_exists(_study_url(storage, alias, out), alias) else name


def _study_url(storage: str | None, study: str, out: Path | None) -> str:
    """The storage a study of this name is in: ``--storage``, else ``study.db`` in ``--out`` or tuning/STUDY."""
    return storage or f"sqlite:///{(out if out is not None else Path('tuning') / _slug(study)) / 'study.db'}"


def _study_exists(storage: str, study_name: str) -> bool:
    """Whether ``storage`` holds a study of that name (a SQLite file that is not there is not created)."""
    from movierec.provenance import sqlite_file

    file = sqlite_file(storage)  # the file without the URL's query (sqlite:///s.db?timeout=30 is s.db)
    if file is not None and not file.is_file():
        return False
    try:
        import optuna

        store = optuna.storages.RDBStorage(storage)
    except Exception:  # not a study database, or unreachable: the run's own checks say so
        return False
    try:
        return study_name in optuna.study.get_all_study_names(storage=store)
    except Exception:
        return False
    finally:
        store.engine.dispose()  # a SQLite file keeps no -wal or -shm file for this look


def _remove_sqlite(db: Path) -> None:
    """Remove a SQLite file and the journal and write-ahead files beside it."""
    for path in (db, *(db.with_name(db.name + end) for end in ("-journal", "-wal", "-shm"))):
        path.unlink(missing_ok=True)


#: a study as ``--storage`` holds it: its trial count and its user attributes (movierec's settings)
_Held = tuple[int, dict[str, Any]]


def _storage_state(storage: str, study_name: str) -> tuple[bool, _Held | None, int] | None:
    """``--storage`` as it stands: whether it is there (a SQLite file that is not is not created), the study
    (None: no such study) and how many studies it holds; None when it cannot be read (an unreachable
    server, a file that is no study database)."""
    from movierec.provenance import sqlite_file

    file = sqlite_file(storage)
    if file is not None and not file.is_file():
        return False, None, 0
    try:
        import optuna

        store = optuna.storages.RDBStorage(storage, skip_compatibility_check=True, skip_table_creation=True)
    except Exception:
        return None
    try:
        names = {s.study_name for s in store.get_all_studies()}
        if study_name not in names:
            return True, None, len(names)
        sid = store.get_study_id_from_name(study_name)
        held = len(store.get_all_trials(sid, deepcopy=False)), store.get_study_user_attrs(sid)
        return True, held, len(names)
    except Exception:
        return None
    finally:
        store.engine.dispose()  # a file this run may remove next holds no open connection


def _storage_outcome(
    storage: str, study_name: str, before: tuple[bool, _Held | None, int] | None
) -> str | None:
    """The ending of a refused or stopped run with ``--storage`` in which no trial finished: what is true of
    the study there (tune() deletes a study it created that no trial finished; one that was there before
    may have gained tune's settings, its ``movierec`` user attribute, and the failed trial), or of a SQLite
    file this run created, removed when it holds no study, as the default study.db is. None where it
    cannot be told (16748fc0 and 859c9395: the ending is said only where it is true)."""
    from movierec.output_folders import nothing_written
    from movierec.provenance import sqlite_file

    after = _storage_state(storage, study_name)
    if before is None or after is None:
        return None
    file = sqlite_file(storage)
    if file is not None and not before[0]:  # the file is this run's
        if after[2]:  # another worker's study: the file stays
            return None
        _remove_sqlite(file)
        return nothing_written(file, False)
    was, now = before[1], after[1]
    if now is None:  # one that was there before and is gone since was not this run's doing
        return "nothing was written (the study was not created)" if was is None else None
    if was is None:  # made here and not deleted (tune() could not): nothing true to add
        return None
    added = now[0] - was[0]
    gained = [
        *(["tune's settings"] if now[1] != was[1] else []),
        *([f"{added} failed trial{'s' * (added > 1)}"] if added > 0 else []),
    ]
    if not gained:
        return "nothing was written (the study is as it was)"
    return f"the study gained {' and '.join(gained)}"


def _trial_counts(storage: str, study_name: str) -> tuple[int, int] | None:
    """The study's finished trials (complete or pruned) and its running ones (another worker's: a run
    stopped by Ctrl-C or SIGTERM has closed its own, :func:`movierec.tuning._optimize`): (0, 0) when the
    database or the study does not exist, None when that cannot be told (an unreachable server)."""
    from movierec.provenance import sqlite_file

    file = sqlite_file(storage)
    if file is not None and not file.exists():
        return 0, 0
    try:
        import optuna

        store = optuna.storages.RDBStorage(storage)
    except Exception:  # cannot tell: keep whatever is there
        return None
    try:
        study = optuna.load_study(study_name=study_name, storage=store)
        states = [t.state for t in study.get_trials(deepcopy=False)]
        done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        return sum(s in done for s in states), states.count(optuna.trial.TrialState.RUNNING)
    except KeyError:  # the study was never created: nothing in the database belongs to it
        return 0, 0
    except Exception:  # cannot tell: keep whatever is there
        return None
    finally:
        store.engine.dispose()  # a file this run may remove next holds no open connection


def _show(
    result: Any, front: list[dict] | None, front_of: list[str], out_dir: Path, check: Any, as_json: bool
) -> None:
    """The study's outcome: one JSON document (result, Pareto front, ranking check), or the tables."""
    if as_json:
        extra = {"ranking_check": check} if check is not None else {}
        print_json({**result.to_dict(), **({"pareto": front} if front is not None else {}), **extra})
        return
    _print_result(result)
    if front:
        _print_front(front, front_of, out_dir)


def _last_trial(event: dict[str, Any]) -> str:
    """The progress bar's 'last' value: a finished trial's score, else its state. A pruned trial's value is
    the score it reported when it was stopped (its first inner fold's, or an early epoch's), which is not
    comparable to 'best', a mean over every fold: tuning svd for rmse read 'last 0.8693 · best 0.8714', a
    last trial that looked better than the best yet was not taken; now it reads 'last pruned'."""
    if event["value"] is None or event["state"] != "complete":
        return str(event["state"])
    return f"{event['value']:.4f}"


def _trial_columns() -> tuple[Any, ...]:
    """The progress bar's columns of a study, one step per trial, best and last values (tune and each
    outer fold of ``--outer-folds`` draw the same bar)."""
    return (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("best {task.fields[best]}  last {task.fields[last]}"),
        TimeElapsedColumn(),
    )


def _model_and_metric(
    model: str | None,
    metric: str | None,
    pareto: str | None,
    resume: bool,
    storage: str | None,
    study: str | None,
    out: Path | None,
    *,
    resumable: bool = True,
) -> tuple[str, str, list[str]]:
    """The model and metric to tune (a resumed study's own when not given) and the Pareto pair, if any."""
    from movierec.metrics import cutoff_note
    from movierec.models.registry import check_requirements, model_kind
    from movierec.tuning import parse_metric

    if model is None and not resume:
        from movierec.tuning import tunable_names

        # --resume is no way out for a nested run, which refuses it: named only where it applies
        unless = " unless --resume names a --study" if resumable else ""
        raise ConfigError(f"--model is required (one of {', '.join(tunable_names())}){unless}")
    if model is None:
        if study is None:
            raise ConfigError("--resume without --model needs --study NAME")
        model_name = _stored_model(storage, study, out)
        metric = metric or _stored_metric(storage, study, out)
    else:
        from movierec.tuning import resolve_space

        model_name = model.strip().lower()
        resolve_space(model_name)  # a model without a search space fails before the output folder exists
    check_requirements(model_name)  # and one whose library is missing, before any trial
    if metric is not None and model is not None and (note := cutoff_note(metric, "--metric")) is not None:
        say("note", note)  # ndcg → ndcg@10 said, not only seen in the study's name
    front_of = _pareto_names(pareto) if pareto is not None else []
    if metric is None and front_of and model_kind(model_name) == "explicit":
        k = next((name.split("@")[1] for name in front_of if "@" in name), "10")
        front_of = [name if "@" in name else f"{name}@{k}" for name in front_of]
        metric = front_of[0]
        say("note", f"--pareto without --metric: {model_name} is tuned on {metric} and records {front_of[1]} "
            "(its default, rmse, is no ranking metric)")  # fmt: skip
    metric = metric or ("rmse" if model_kind(model_name) == "explicit" else "ndcg@10")
    # the canonical name (ndcg → ndcg@10, the K it uses) in the progress line, the study name and best.json,
    # and before --pareto's terms join it (with_terms read a bare 'ndcg' as an objective and refused it)
    metric = parse_metric(metric, model_kind=model_kind(model_name)).label
    if front_of:
        from movierec.objective import parse_objective, with_terms

        try:
            parse_objective(metric)
        except ConfigError:
            # --pareto's metrics join --metric's as terms of one objective: mrr@10 has a cut-off, but no
            # objective scores it (it read 'needs a --metric at a cut-off', which mrr@10 is)
            if parse_metric(metric).kind == "rating":  # each one line of <= 160 columns
                why = f"--pareto needs a --metric at a cut-off (ndcg@10, recall@20…) or an objective, not {metric}"
            else:  # mrr, mrr@K, auc
                why = f"--pareto records its metrics as terms of an objective with --metric's; {metric} cannot be one"
            raise ConfigError(f"{why}: give --metric ndcg@10, or leave --pareto out") from None
        front_of = _pareto_cut(front_of, metric, pareto or "")
        metric = parse_metric(with_terms(metric, front_of)).label
    return model_name, metric, front_of


def _pareto_names(pareto: str) -> list[str]:
    """``--pareto``'s two metrics, each a term an objective can have (``ndcg``, ``arp@10``…), named as
    :func:`movierec.metrics.metric_name` reads them, as ``--metric`` and the objective's terms are
    (``hr@10`` is ``hit_rate@10``: the front's columns match the study's terms). A rating metric or an
    unknown name is one line of <= 160 columns sending the reader to ``--help``'s list (it read "objective
    'rmse': cannot read it at 'rmse'", then listed all twelve names in 242 columns and more)."""
    from movierec.metrics import ERROR_METRICS, metric_name
    from movierec.objective import ACCURACY, BEYOND

    names = [metric_name(m) for m in pareto.split(",") if m.strip()]
    if len(names) != 2:
        raise ConfigError(f"--pareto {pareto!r}: give exactly two metrics, e.g. ndcg@10,arp@10")
    valid = [*ACCURACY, *BEYOND]
    for name in names:
        base, _, k = name.partition("@")
        if base not in valid or (k and not k.isdigit()):
            if base in (*ERROR_METRICS, "fcp"):
                what = "is a rating metric"
            elif base in ("mrr", "auc"):  # ranking metrics, but no objective scores them at K
                what = "cannot be a term of an objective"
            elif base in valid:  # ndcg@x
                what = "needs a whole number after @"
            else:
                what = f"is unknown{did_you_mean(base, valid)}"
            # the name alone, not the pair typed: 'calibration_kll@10' with its suggestion still fits
            raise ConfigError(
                f"--pareto: {name} {what}; a front is of two metrics --help lists, at one K (ndcg@10,arp@10)"
            )
    return names


def _pareto_cut(names: list[str], metric: str, typed: str) -> list[str]:
    """``--pareto``'s metrics at ``--metric``'s cut-off where typed without one (``ndcg,arp`` beside
    ndcg@10: ndcg@10,arp@10), said in a note: every term of the recorded objective needs the same K, and
    'ndcg' alone was refused as "objective 'ndcg': cannot read it", which named no option typed."""
    if all("@" in name for name in names):
        return names
    from movierec.metrics import parse_metric
    from movierec.objective import is_objective, parse_objective

    k = parse_objective(metric).k if is_objective(metric) else (parse_metric(metric).k or 10)
    cut = [name if "@" in name else f"{name}@{k}" for name in names]
    say(
        "note",
        f"--pareto {typed.strip()} is read as {','.join(cut)}, at the cut-off of --metric {metric}; give "
        "both with @K and --metric at the same K for another",
    )
    return cut


def _output(out: Path | None, storage: str | None, study_name: str) -> tuple[Path, str]:
    """The output folder (``--out``, default tuning/STUDY) and the study's storage URL (default: a SQLite
    file in that folder, which is then created)."""
    out_dir = out if out is not None else Path("tuning") / _slug(study_name)
    if storage is None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--out {out_dir}: cannot create the folder ({exc.strerror})") from exc
        storage = f"sqlite:///{out_dir / 'study.db'}"
    return out_dir, storage


def _fixed_params(model_name: str, params: list[str], resume: bool) -> dict[str, Any]:
    """``--params``: hyperparameters held fixed in every trial (not searched) and in best.toml, checked
    against the model's constructor before anything is written."""
    if not params:
        return {}
    if resume:
        raise ConfigError(
            "--params with --resume: a resumed study keeps the fixed parameters it was created with"
        )
    from movierec.models.registry import create

    fixed = parse_model_params(params, [model_name], option="--model")[model_name]
    create(model_name, **fixed)  # an unknown name or a bad value fails here, in one line
    return fixed


def _run_study(
    dataset: Any,
    model_name: str,
    options: dict[str, Any],
    out_dir: Path,
    *,
    worker: int,
    user_features: str | None,
    quiet: bool,
    fixed: dict[str, Any] | None = None,
    force: bool = False,
) -> Any:
    """:func:`movierec.tuning.tune` under a progress bar (one step per trial, best and last values); in a
    pipe or a log, compare's plain lines (:func:`movierec.progress.make_progress`): one per finished trial,
    at most one every few seconds, and the last, ``[  4.2s] tuning svd (rmse) · last 0.8812 · best 0.8790 · 3/6``."""
    from movierec.progress import LineProgress, make_progress
    from movierec.tuning import tune

    columns = _trial_columns()
    with make_progress(*columns, console=err_console, transient=False, disable=quiet) as bar:
        lines = isinstance(bar, LineProgress)  # its fields are printed bare: they carry their names
        task: list[Any] = []  # the bar starts once every input is checked, after the note on the study

        def start(info: dict[str, Any]) -> None:
            if not quiet:
                _say_continued(info, out_dir, options["storage"])
                # what is about to run: the bar's 'tuning svd (rmse)' named neither the data nor the folds;
                # a sentence, as the nested run's (rich's wrap ended '… split of 80,668 training ' in a space)
                print_prose(escape(f"tuning {model_name} for {options['metric']}: {info['plan']}"), err=True)
            description = f"tuning {model_name} ({options['metric']})"
            task.append(bar.add_task(description, total=options["n_trials"], last="–", best="–"))

        def progress(event: dict) -> None:
            last = _last_trial(event)
            best = "–" if event["best_value"] is None else f"{event['best_value']:.4f}"
            if lines:
                last, best = f"last {last}", ("–" if best == "–" else f"best {best}")
            bar.update(task[0], advance=1, best=best, last=last)

        return tune(
            dataset,
            model_name,
            progress=progress,
            out=out_dir,
            worker=worker,
            user_features=user_features,
            fixed_params=fixed or None,
            on_start=start,
            force=force,
            **options,
        )


def _shown(value: Any) -> str:
    """A hyperparameter as it would be typed: floats to 6 significant digits, dicts and lists as JSON."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _feature_rows(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``("item features", "genres, tags")`` and ``("user features", "demographics, extra.csv")``, for the
    side features a study (or every outer fold's study) fitted each trial with; a file by its name."""
    rows = []
    if items := settings.get("item_features"):  # names, or as nested_tune was given them ("genres,tags")
        names = items.split(",") if isinstance(items, str) else items
        rows.append(("item features", ", ".join(str(n).strip() for n in names)))
    if users := settings.get("user_features"):
        from movierec.demographics import user_features_words

        rows.append(("user features", user_features_words(str(users))))
    return rows


def _print_result(result: Any) -> None:
    """The best hyperparameters, the validation and test figures, and the files written."""
    states = list(result.trials["state"]) if result.trials is not None and "state" in result.trials else []
    failed = f"{states.count('fail')} failed, " if "fail" in states else ""  # a killed run's, closed since
    table = Table(
        title=f"{result.study_name}: best of {result.n_complete} complete trial{'s' if result.n_complete != 1 else ''} "
        f"({result.n_pruned} pruned, {failed}{result.n_trials} in the study)"
    )
    table.add_column("hyperparameter")
    table.add_column("value", justify="right")
    for key, value in result.best_params.items():
        table.add_row(key, _shown(value))
    for key, value in (result.settings.get("fixed_params") or {}).items():
        if key not in result.best_params:  # --params: held in every trial
            table.add_row(f"{key} (fixed)", _shown(value))
    for row in _feature_rows(result.settings):  # given to every trial's fit; best.toml writes them
        table.add_row(*row)
    print_table(table)
    files = result.settings.get("split_files") or {}
    named = {part: Path(str(files[part]["path"])).name for part in ("train", "valid") if part in files}
    # --valid: trials were scored on that file and the refit trained on both files (tune's validation=)
    cv = int(result.settings["cv"])
    scored = (
        f"on {named['valid']}"
        if "valid" in named
        else "one 20% validation split of the training split"  # --cv 1 read "1-fold"
        if cv == 1
        else f"{cv}-fold on the training split"
    )
    refit = f"{named['train']} + {named['valid']}" if "valid" in named else "the training split"
    # word-wrapped at the width: a compound metric ('ndcg@10-0.1*arp@10') made these 81-86 columns
    if result.best_value is not None:
        print_prose(escape(f"validation {result.metric} ({scored}): {result.best_value:.4f}"))
    if result.defaults_value is not None:  # what tuning gained over not tuning, on the same folds
        best = ", the best" if result.defaults_value == result.best_value else ""
        # the trial that ran them, by its own number: #0 in a study this command started, but a worker
        # sharing the study can take #0 first (the line said 'trial 1, Optuna's #0' whatever the number)
        number = result.defaults_trial
        which = f" (trial {number + 1}, Optuna's #{number})" if number is not None else ""
        print_prose(
            escape(
                f"validation {result.metric} of the model's defaults{which}: {result.defaults_value:.4f}{best}"
            )
        )
    if result.test_score is not None:
        print_prose(escape(f"test {result.metric} (best params refit on {refit}): {result.test_score:.4f}"))
        if result.best_value is not None:  # ease read 0.2041 validation, 0.3136 test: no leak, less data
            print_prose(escape(_data_gap_note(result.settings, named)))
    for note in _conditional_notes(result):
        print_prose(escape(note))
    print_prose(escape(f"storage {result.storage}, study {result.study_name!r}"))
    for key, path in result.files.items():
        console.print(f"  {key:15s} {escape(str(path))}")
    if "best_toml" in result.files:
        console.print(f"next: movierec compare --config {escape(str(result.files['best_toml']))}")


def _data_gap_note(settings: dict[str, Any], named: dict[str, str]) -> str:
    """Why the validation and test figures differ: the validation folds' fits see less data than the test
    refit (and score fewer ratings), so a ranking metric reads lower there (ease, ndcg@10 on
    ml-latest-small: validation 0.2041, test 0.3136) without any leak. With a fractional ``--test-size``
    the shares are of all the ratings (0.2 and --cv 1: 64% and 16%, against 80% and 20%)."""
    lead = "validation vs test: not comparable, "
    if "valid" in named:
        return f"{lead}the trials train on {named['train']} alone, the test refit on {named['train']} + {named['valid']}"
    cv = int(settings["cv"])
    fit, scored = (0.8, 0.2) if cv == 1 else ((cv - 1) / cv, 1 / cv)  # shares of the training split
    test_size = settings.get("test_size")
    if isinstance(test_size, float) and 0 < test_size < 1:
        kept = 1 - test_size
        return (
            f"{lead}each validation fold trains on {fit * kept:.0%} of the ratings and scores {scored * kept:.0%}, "
            f"the test refit trains on {kept:.0%} and scores {test_size:.0%}"
        )
    return (
        f"{lead}each validation fold trains on {fit:.0%} of the training split, the test refit on all of it"
    )


def _conditional_notes(result: Any) -> list[str]:
    """A line for each parameter the importances leave out because not every trial drew it (best.json's
    ``conditional_importances``; :func:`movierec.tuning.conditional_words`), so the summary says what
    importance.png shows apart: ``importances over all trials leave out alpha: drawn in 2 of 12 trials
    (acts only with similarity 'asymmetric'); too few for a share of its own (under 5)``."""
    from movierec.tuning import conditional_words

    path = result.files.get("best_json")
    try:
        apart = (
            json.loads(Path(path).read_text(encoding="utf-8")).get("conditional_importances")
            if path
            else None
        )
    except (OSError, ValueError):
        return []
    return [
        f"importances over all trials leave out {conditional_words(k, v)}" for k, v in (apart or {}).items()
    ]


def _print_front(front: list[dict], front_of: list[str], out_dir: Path) -> None:
    """The Pareto front of the two ``--pareto`` metrics as a table."""
    from movierec.objective import maximise

    a, b = front_of
    ptable = Table(title=f"Pareto front of {a} and {b} (validation; no other trial is better on both)")
    ptable.add_column("trial", justify="right")
    for name in (a, b):  # which way is better: arp@10 0.15 says nothing by itself (lower: less popular lists)
        ptable.add_column(f"{name} {'↑' if maximise(name) else '↓'}", justify="right")
    ptable.add_column("hyperparameters", justify="left")
    for row in front:
        params = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row["params"].items()
        )
        ptable.add_row(str(row["number"]), f"{row[a]:.4f}", f"{row[b]:.4f}", params)
    print_table(ptable)  # its title (81 columns for ndcg@10 and arp@10) wrapped at the width
    console.print("↑ higher is better, ↓ lower is better")
    console.print(f"  {'pareto':15s} {escape(str(out_dir / 'pareto.csv'))}")


def _ranking_check(
    result: Any,
    dataset: Any,
    out_dir: Path,
    *,
    seed: int,
    threshold: float,
    test_size: float,
    given: Any = None,
) -> dict[str, Any] | None:
    """A rating-metric study's best trial, ranked against popularity (movierec.serving.quality): written
    to ``ranking_check.json`` and a warning when its top-N falls below popularity's. The model is the one
    tune's test refit fits: the best params over the ``--params`` held fixed (early stopping's best epoch
    among the best params), fitted on the files' train (+ valid) part with that epoch count, as compare
    refits a model it stopped on the valid file."""
    from movierec.metrics import Metric
    from movierec.models.base import seeded
    from movierec.models.registry import create, split_model_params
    from movierec.serving.quality import ranking_check, weak_message

    if Metric(str(result.metric).lower()).kind != "rating" or not result.best_params:
        return None
    name, params = split_model_params(
        result.model, {**(result.settings.get("fixed_params") or {}), **result.best_params}
    )
    model = seeded(create(name, **params), seed, params)
    from movierec.progress import status as step_status

    checked, checked_name = _checked_split(result, dataset, given)
    with step_status(err_console, "ranking the best trial's model against popularity"):
        check = ranking_check(
            model,
            dataset,
            threshold=threshold,
            seed=seed,
            test_size=test_size,
            split=checked,  # files or --split: the parts tuned and tested on
            split_name=checked_name,
        )
    from movierec.output_folders import write_atomically

    path = write_atomically(out_dir / "ranking_check.json", json.dumps(check, indent=2, default=float) + "\n")
    result.files["ranking_check"] = str(path)
    if check.get("weak"):
        say(
            "warning",
            f"tuned for {result.metric}: {weak_message(result.model, check)}; "
            "tune for ndcg@10 or export a ranking model for top-N",
        )
    return check


def _checked_split(result: Any, dataset: Any, given: Any) -> tuple[tuple[Any, Any] | None, str | None]:
    """The (train, test) :func:`_ranking_check` ranks on, and its name for ``ranking_check.json``: the files'
    parts (``--train``/``--test``, named as compare names them), the canonical split the study recorded
    (``--split``), or ``(None, None)`` for the seeded ratings hold-out."""
    if given is not None:
        train, test, about = given.pair()
        return (train, test), about
    if result.settings.get("split"):
        from movierec.split import canonical_split

        seed = int(result.settings["split_seed"])
        name = str(result.settings["split"])
        return canonical_split(dataset.interactions, name, seed=seed)[:2], name
    return None, None


def _pareto(storage: str, study: str, metrics: list[str], out_dir: Path) -> list[dict]:
    """The study's Pareto front of two recorded metrics, also written to ``out_dir/pareto.csv``."""
    import csv
    import io

    import optuna

    from movierec.objective import pareto_front
    from movierec.output_folders import write_atomically

    a, b = metrics
    front = pareto_front(optuna.load_study(study_name=study, storage=storage).get_trials(), a, b)
    text = io.StringIO(newline="")
    w = csv.writer(text)
    w.writerow(["trial", a, b, "params"])
    for row in front:
        w.writerow([row["number"], row[a], row[b], json.dumps(row["params"], sort_keys=True)])
    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(out_dir / "pareto.csv", text.getvalue())  # whole or not at all
    return front


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "study"


def _stored(storage: str | None, study: str, out: Path | None) -> dict:
    from movierec.tuning import study_settings

    _check_resumable(storage, study, out, resume=True, model_given=False)
    return study_settings(_study_url(storage, study, out), study)


def _check_resumable(
    storage: str | None, study: str, out: Path | None, *, resume: bool, model_given: bool
) -> None:
    """With ``resume``, a study whose SQLite file is not there: there is no study to resume, and how to start
    one. It read 'storage sqlite:///tuning/ease-ndcg-10/study.db cannot be opened: folder
    tuning/ease-ndcg-10 does not exist', as if the database were broken rather than never made."""
    from movierec.provenance import sqlite_file

    file = sqlite_file(_study_url(storage, study, out)) if resume else None
    if file is None or file.is_file():
        return
    start = "drop --resume" if model_given else "give -m MODEL and drop --resume"
    raise ConfigError(
        f"no study {study!r} to resume: {file} does not exist; {start} to start it (nothing was written)"
    )


def _stored_model(storage: str | None, study: str, out: Path | None) -> str:
    return str(_stored(storage, study, out)["model"])


def _stored_metric(storage: str | None, study: str, out: Path | None) -> str:
    return str(_stored(storage, study, out)["metric"])


def register(app: typer.Typer) -> None:
    """Add ``movierec tune`` to the app."""
    app.command("tune")(tune_cmd)
