"""``movierec compare`` (fit models on one split, evaluate named protocols, write results and charts),
``movierec recommend`` (top-K titles for a user) and ``movierec similar`` (nearest movies to a title)."""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

# dup-ok: the option declarations and helpers every command shares, imported from cli.common (alike lists of
# names are the sharing itself, not copied code)
from movierec.cli.common import (
    ARTIFACT,
    COLUMN_OPTIONS,
    EARLY_STOPPING,
    IMPLICIT_THRESHOLD,
    ITEM_FEATURES,
    JSON,
    K_MOVIES,
    MODEL_PARAMS,
    PATIENCE,
    SEED,
    STOP_EVERY,
    USER_FEATURES,
    VALID_SIZE,
    RatingsSource,
    SplitFilesGiven,
    bar_progress,
    check_test_size_option,
    console,
    err_console,
    file_option_refusal,
    holdout_size_option,
    list_table,
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
    warn_rating_model,
)
from movierec.errors import ConfigError, UnknownIdError, in_cli
from movierec.tables import score_decimals, shown_decimals

# --- option parsing --------------------------------------------------------------------------


def _split_list(text: str, what: str) -> list[str]:
    items = [t.strip().lower() for t in text.split(",") if t.strip()]
    if not items:
        raise ConfigError(f"--{what}: give at least one name")
    return list(dict.fromkeys(items))


# --- output ----------------------------------------------------------------------------------


def _print_table(comp: Any) -> None:
    """One table per protocol within the terminal's width (80 columns included); see movierec.tables."""
    from movierec.beyond import is_beyond
    from movierec.tables import print_comparison

    print_comparison(console, comp, keep=lambda m: not m.startswith("novelty") and not is_beyond(m))


def write_results(comp: Any, out: Path) -> list[Path]:
    """Write ``results.json``, ``results.csv``, ``rmse.png`` (when there are rating rows) and ``ranking.png`` into ``out``.

    They are written beside ``out`` first and moved in together once all are written (results.json
    last): Ctrl-C while the charts were drawn left a new results.json beside an older results.csv.

    A rerun into a folder of an earlier run's results replaces them as a whole: a chart the earlier run drew
    and this one does not (``rmse.png`` after a run without the rating protocol) is removed, so the folder
    never mixes two runs (:func:`_earlier_charts`); files compare did not write stay.
    """
    from movierec.output_folders import staged_output

    with staged_output(out, last=("results.json",)) as staged:
        staged.obsolete = _earlier_charts(out)
        written = _write_results_into(comp, staged.path)
    return [staged.final(p) for p in written]


def _charts_for(records: list[dict[str, Any]]) -> list[str]:
    """The charts compare draws for these result rows: ``rmse.png`` for rating rows, ``ranking.png`` for the rest."""
    wanted = {
        "rmse.png": any(r.get("protocol") == "rating" for r in records),
        "ranking.png": any(r.get("protocol") != "rating" for r in records),
    }
    return [name for name, drawn in wanted.items() if drawn]


def _earlier_charts(out: Path) -> list[str]:
    """The charts an earlier ``compare --out`` drew into ``out``, by its ``results.json`` (and only those that
    still are PNG images): the ones this run does not draw again go once its files are in place."""
    from movierec.output_folders import earlier_results, is_image

    records = earlier_results(out) if out.is_dir() else None
    return [] if records is None else [n for n in _charts_for(records) if is_image(out / n, "png")]


def _write_results_into(comp: Any, out: Path) -> list[Path]:
    """:func:`write_results`'s files, written into the staging folder ``out``."""
    from movierec.jsonsafe import to_jsonable

    records = comp.records()
    written = [out / "results.json"]
    (out / "results.json").write_text(json.dumps(to_jsonable(records), indent=2, allow_nan=False) + "\n")
    from movierec.evaluation import write_results_csv

    write_results_csv(out / "results.csv", comp.rows, "wide", provenance=comp.provenance)
    written.append(out / "results.csv")
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        from movierec.errors import install_hint

        say("note", f"charts skipped (matplotlib missing): {install_hint('viz')}")
        return written
    from movierec.viz.charts import ranking_bars, rmse_bars

    draw = {"rmse.png": rmse_bars, "ranking.png": ranking_bars}
    written += [draw[name](records, out / name) for name in _charts_for(records)]
    return written


_EVENT_KEYS = frozenset({"event", "model", "epoch", "fold", "folds", "seconds", "epochs", "time_budget"})


class _RichProgress:
    """Turns ``compare`` progress events into a rich progress bar per model (on stderr)."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}
        self.folds: dict[str, int] = {}  # each model's fold count, which only its fit-start event carries
        # ' (time budget 180 s)' for a model that stops by the clock (sasrec): its bar counts epochs toward the
        # most it may run, 13% full when the 180 s ran out after 27 of 200, with nothing saying so
        self.budget: dict[str, str] = {}
        # label -> as the table names it, with the item features it learns from ('ease+genres+tags')
        self.shown: dict[str, str] = {}
        # label -> its latest validation score ('val ndcg@10 0.0812', progress.val_words), as the report's
        # rows keep it: sasrec's early stopping follows it, and the bar showed the loss alone
        self.last_val: dict[str, str] = {}
        self.says: set[str] = set()  # labels whose fits name their parts (step events), as the ensemble's do

    def __call__(self, ev: dict[str, Any]) -> None:
        from movierec.evaluation import shown_label
        from movierec.progress import (
            LineProgress,
            epochs_done,
            fitted_words,
            model_step,
            scored_words,
            stopped_words,
        )

        label = ev.get("model", "")
        kind = ev.get("event")
        if "folds" in ev:
            self.folds[label] = int(ev["folds"])
        folds = self.folds.get(label, 1)
        fold = f" fold {int(ev.get('fold', 0)) + 1}/{folds}" if folds > 1 else ""
        # each step as the report's progress says it (model_step): 'ease · fitting', 'ease · fitted in 1.5 s'
        if kind == "fit-start":  # named as the table names it: 'ease+genres+tags'
            self.shown[label] = shown_label(ev)
        who = f"{self.shown.get(label, label)}{fold}"
        if kind == "fit-start":
            epochs = ev.get("epochs") if isinstance(ev.get("epochs"), int) else None
            budget = ev.get("time_budget")
            self.budget[label] = f" (time budget {budget:g} s)" if isinstance(budget, (int, float)) else ""
            fitting = model_step(who, f"fitting{self.budget[label]}")
            if label in self.tasks:
                self.progress.reset(self.tasks[label], total=epochs, description=fitting)
            else:
                self.tasks[label] = self.progress.add_task(fitting, total=epochs)
        elif kind == "step" and label in self.tasks:
            # a part of a fit without epochs, named by the model (the ensemble's 'fitting slim (base 2/4) on the
            # hold-out'): its epoch events then say nothing more ('step 2 slim hold-out NDCG@10 0.2690')
            self.says.add(label)
            self.progress.update(
                self.tasks[label], description=model_step(who, str(ev["words"])), refresh=bool(ev.get("now"))
            )
        elif kind == "epoch" and label in self.tasks and label not in self.says:
            extra = self._epoch_words(label, ev)
            # a log's epoch lines leave the time budget to the fit's first line: 'sasrec · fitting (time budget
            # 180 s) · loss 7.27 · val ndcg@10 0.0157 · 2/200' was 87 columns with its stamp; a bar keeps it
            budget = "" if isinstance(self.progress, LineProgress) else self.budget.get(label, "")
            words = f"fitting{budget}" + (f" · {extra}" if extra else "")
            self.progress.update(self.tasks[label], advance=1, description=model_step(who, words))
        elif kind == "fit-end" and label in self.tasks:
            if ev.get("stopped"):  # printed above the (transient) bars, so it stays on screen
                said = stopped_words(ev["stopped"], ev["seconds"], ev.get("epochs_run"))
                self.progress.console.print(model_step(who, said))
            task = self.tasks[label]
            total, done = epochs_done(self.progress.tasks[task].total, ev)
            self.progress.update(  # refresh: a line of its own in a log, even within seconds of the last
                task, description=model_step(who, fitted_words(ev["seconds"])), total=total, completed=done,
                refresh=True,
            )  # fmt: skip
        elif kind == "evaluate" and label in self.tasks:
            # a step of its own: a line in a log even right after the fit's; its count of users scored
            # (evaluation.user_blocks) a line every few seconds at most, as epochs are
            self.progress.update(
                self.tasks[label],
                description=model_step(who, f"evaluating {ev['protocol']}{scored_words(ev)}"),
                refresh="scored" not in ev,
            )

    def _epoch_words(self, label: str, ev: dict[str, Any]) -> str:
        """An epoch's figures on its bar: the loss and the latest validation score ('loss 7.20 · val ndcg@10
        0.0123', the score sasrec's early stopping follows, as the report's rows show it), or for a model
        without either its own figure per step (the ensemble's 'step 1 slim hold-out NDCG@10 0.1200')."""
        from movierec.progress import loss_words, val_words

        val = val_words(ev)
        if val is not None:
            self.last_val[label] = val
        said = [words for words in (loss_words(ev.get("loss")), self.last_val.get(label, "")) if words]
        if said:
            return " · ".join(said)
        shown = [
            (k, v)
            for k, v in ev.items()
            if k not in _EVENT_KEYS and isinstance(v, (int, float)) and math.isfinite(v)
        ]
        return f"step {ev.get('epoch')}" + "".join(f" {k} {v:.4f}" for k, v in shown[:1]) if shown else ""


# --- commands --------------------------------------------------------------------------------


DEFAULT_MODELS = (
    "popularity,svd,ease"  # compare without --models: a baseline, a rating predictor, top-N's best
)
#: compare's default on data without ratings, where svd learns nothing: als, the factor model of positives
DEFAULT_MODELS_WITHOUT_RATINGS = "popularity,als,ease"


# dup-ok: typer option declarations (default, flags, help) alike in shape; each declares a different option
# compare's longer options, named here so the command reads as parse → compare() → print
_CMP_MODELS = typer.Option(
    None,
    "--models",
    "-m",
    help=f"Comma-separated model names, e.g. svd,knn-baseline,baseline (default: {DEFAULT_MODELS}; or --config).",
)
_CMP_PROTOCOLS = typer.Option(
    "rating,test-candidates,full-ranking",
    "--protocols",
    help="rating, test-candidates, full-ranking, sampled, leave-last-out, next-item-in-session.",
)
_CMP_SAMPLED = typer.Option(
    False,
    "--sampled",
    help="Also report sampled-100 figures (HR@K, NDCG@K against 100 sampled negatives), with a warning: "
    "only to compare with papers that use them.",
)
_CMP_OUT = typer.Option(
    None, "--out", "-o", help="Write results.json, results.csv, rmse.png, ranking.png here."
)
_CMP_SPLIT = typer.Option(
    "auto",
    "--split",
    help="auto, ratings-holdout, interactions-holdout, per-user, temporal, leave-last-out, last-session, "
    "or a canonical split: ml100k-u1 … ml100k-u5, ml100k-ua, ml100k-ub, ml1m-90-10.",
)
_CMP_CV = typer.Option(
    None, "--cv", min=2, help="K-fold cross-validation with this many folds (Surprise's KFold)."
)
_CMP_SESSION_GAP = typer.Option(
    None,
    "--session-gap",
    help="Cut histories into sessions at this gap for session models (gru4rec), e.g. 30min, 1h, 2d.",
)
_CMP_BEYOND = typer.Option(
    False,
    "--beyond",
    help="Full ranking: also diversity, popularity bias, calibration, unexpectedness and "
    "NDCG per user group (own tables; docs/beyond-accuracy.md).",
)
_CMP_AUC = typer.Option(
    False,
    "--auc",
    help="Full ranking: also AUC, the share of (test positive, other candidate) pairs ranked right "
    "(LightFM's auc_score; sorts every user's scores, so not on by default).",
)
_CMP_RANK_BY = typer.Option(
    "shrunk",
    "--rank-by",
    help="What rating models' lists rank by: shrunk (the support-shrunk score recommend and the API rank by) "
    "or prediction (the unclipped predicted rating, as LensKit ranks a rating scorer).",
)
_CMP_RERANK = typer.Option(
    None,
    "--rerank",
    help="Re-rank every full-ranking list: mmr:λ, calibrated:λ, xquad:λ or pop:λ (λ in 0..1), e.g. mmr:0.3.",
)
_CMP_CONFIG = typer.Option(
    None,
    "--config",
    "-c",
    help="Run an experiment file (TOML, e.g. tune's best.toml) into --out (default runs)/<id>/.",
)
_CMP_TEST_SIZE = holdout_size_option(
    0.2,
    "Part held out for testing: a fraction of the ratings (0.2), or a number of them (1000), as Surprise's "
    "test_size reads an int; per-user takes a fraction only.",
)
_CMP_MLFLOW = typer.Option(
    None,
    "--mlflow",
    help="With --config: also log the run to this MLflow tracking URI (when MLflow is installed).",
)


@ratings_options
@split_file_options
def compare_cmd(
    ctx: typer.Context,
    models: str | None = _CMP_MODELS,
    protocols: str = _CMP_PROTOCOLS,
    k: int = typer.Option(10, "--k", "-k", min=1, help="Length of each recommendation list (K)."),
    sampled: bool = _CMP_SAMPLED,
    out: Path | None = _CMP_OUT,
    split: str = _CMP_SPLIT,
    cv: int | None = _CMP_CV,
    implicit_threshold: float | None = IMPLICIT_THRESHOLD,
    item_features: str | None = ITEM_FEATURES,
    user_features: str | None = USER_FEATURES,
    session_gap: str | None = _CMP_SESSION_GAP,
    params: list[str] = MODEL_PARAMS,
    test_size: float = _CMP_TEST_SIZE,
    beyond: bool = _CMP_BEYOND,
    auc: bool = _CMP_AUC,
    rank_by: str = _CMP_RANK_BY,
    rerank: str | None = _CMP_RERANK,
    early_stopping: str | None = EARLY_STOPPING,
    patience: int | None = PATIENCE,
    stop_every: int | None = STOP_EVERY,
    valid_size: float | None = VALID_SIZE,
    seed: int = SEED,
    as_json: bool = JSON,
    source: RatingsSource = RatingsSource(),  # --dataset, --ratings, --user-col … --rating-scale
    files: SplitFilesGiven = SplitFilesGiven(),  # --train, --test, --valid: a split made elsewhere
    config: Path | None = _CMP_CONFIG,
    mlflow: str | None = _CMP_MLFLOW,
) -> None:
    """Fit models on one split and compare them under named protocols, with 95% bootstrap intervals."""
    from movierec.evaluation import SampledMetricsWarning, compare

    if config is not None:
        if files:
            raise ConfigError(
                "--train/--test and --config exclude each other: the experiment file's [split] train and "
                f"test name the files (edit {config.name})"
            )
        exp = _config_experiment(
            ctx, config, source, seed=seed, k=k, threshold=implicit_threshold, test_size=test_size
        )
        _compare_config(exp, out, mlflow, as_json)
        return
    names, proto_names, per_model = _compare_request(models, protocols, sampled, split, params, session_gap)
    stopping = stopping_option(early_stopping, patience, stop_every, valid_size)
    rank_by = _rank_by_option(rank_by)
    files.check(ctx, source, excludes=("--split", "--cv", "--test-size"))
    if valid_size is not None and files.valid is not None:
        raise ConfigError(
            "--valid-size and --valid exclude each other: early stopping scores on the --valid file and "
            "cuts no validation part"
        )
    check_test_size_option(test_size, split)  # a count for per-user: one line before the data loads
    if rerank is not None:
        from movierec.rerank import parse_rerank

        parse_rerank(rerank)  # a bad spec fails before loading anything
    if out is not None:  # before the work: unwritable, or foreign files of the same names, is one line
        from movierec.output_folders import check_results_target

        if warning := check_results_target(out):
            say("warning", warning)
    given = source.load_split(files, typed(ctx, "dataset")) if files else None
    ds = source.load() if given is None else given.dataset
    if models is None:
        names, per_model = _default_models(ds, params)
    with bar_progress(disable=as_json) as progress, warnings.catch_warnings():
        warnings.simplefilter("ignore", SampledMetricsWarning)  # printed once by _compare_request
        comp = compare(
            ds,
            [(n, per_model[n]) for n in names],
            split=split if given is None else given.parts(),  # --valid: stopping scores on it
            protocols=proto_names,
            k=k,
            threshold=threshold_for(ds, implicit_threshold),
            seed=seed,
            cv=cv,
            item_features=item_features,
            user_features=user_features,
            test_size=test_size,
            progress=_RichProgress(progress),
            beyond=beyond,
            rerank=rerank,
            auc=auc,
            early_stopping=stopping,
            rank_by=rank_by,
        )
    if given is not None:  # test users or movies without a training rating: how many, beside the tables
        comp.notes.extend(given.notes)
    written = write_results(comp, out) if out is not None else []
    if as_json:
        _print_json_rows(comp)
        return
    _print_comparison(comp, beyond_tables=True)
    for path in written:
        console.print(f"wrote {escape(str(path))}")


def _rank_by_option(value: str) -> str:
    """``--rank-by``'s value (case aside), or one line naming the two it takes, before any data loads."""
    from movierec.evaluation import RANK_BY

    if value.strip().lower() not in RANK_BY:
        raise ConfigError(f"--rank-by must be one of {', '.join(RANK_BY)}, got {value!r}")
    return value.strip().lower()


def _default_models(ds: Any, params: list[str]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """What ``compare`` without ``--models`` compares, said after the data loaded, so that a mistake in
    the data (``--ratings nosuch.csv``) is the only line, not a note about models that never ran. On data
    without ratings svd, a rating predictor, learns nothing (RMSE 0 by construction, lists by near-constant
    predictions): als, which learns from the positives, stands in its place."""
    if not ds.interactions.interactions_only:
        say(
            "note",
            f"no --models given: comparing {DEFAULT_MODELS} (the most popular movies, a rating predictor and "
            "the strongest default top-N model); `movierec models` lists them all",
        )
        names = _split_list(DEFAULT_MODELS, "models")
    else:
        say(
            "note",
            f"no --models given and the data has no ratings: comparing {DEFAULT_MODELS_WITHOUT_RATINGS} (the "
            "movies with the most interactions, a factor model of the positives in svd's place, which would "
            "learn nothing, and the strongest default top-N model); `movierec models` lists them all",
        )
        names = _split_list(DEFAULT_MODELS_WITHOUT_RATINGS, "models")
    return names, parse_model_params(params, names)


def _compare_request(
    models: str | None,
    protocols: str,
    sampled: bool,
    split: str,
    params: list[str],
    session_gap: str | None,
) -> tuple[list[str], list[str], dict[str, dict[str, Any]]]:
    """Model names, protocol names and per-model parameters, checked before any data is loaded."""
    from movierec.evaluation import SPLITS, get_protocol
    from movierec.models.registry import get_class

    if models is None:  # said once the data has loaded (_note_default_models): a missing file comes first
        models = DEFAULT_MODELS
    names = _split_list(models, "models")
    for name in names:
        get_class(name)  # unknown names fail before loading anything
    proto_names = _split_list(protocols, "protocols")
    for p in proto_names:
        get_protocol(p)
    if sampled and "sampled" not in proto_names:
        proto_names.append("sampled")
    if "sampled" in proto_names:
        say(
            "warning",
            "sampled metrics (100 negatives per positive) can rank models differently from "
            "full ranking (Krichene & Rendle 2020): use them only to compare with papers that report them",
        )
    if split.strip().lower() not in SPLITS:
        from movierec.split import unknown_split

        raise ConfigError(unknown_split(split, SPLITS))
    per_model = parse_model_params(params, names)
    if session_gap is not None:  # issue 20: a shortcut for MODEL.session_gap on every model that has one
        from movierec.models.gru4rec import parse_gap

        parse_gap(session_gap, "--session-gap")
        takers = [n for n in names if "session_gap" in get_class(n)().get_params()]
        if not takers:
            raise ConfigError(f"--session-gap: none of {', '.join(names)} reads sessions (gru4rec does)")
        for n in takers:
            per_model[n].setdefault("session_gap", session_gap)
    return names, proto_names, per_model


def _print_comparison(comp: Any, *, beyond_tables: bool = False) -> None:
    """The comparison's tables (and the beyond-accuracy ones), then its notes (no line ending in spaces)."""
    from rich.markup import escape

    from movierec.tables import Rstripped, print_lines

    _print_table(comp)
    if beyond_tables:
        from movierec.beyond_tables import beyond_tables as tables

        for extra in tables(comp, width=console.width):
            console.print(Rstripped(extra))  # the console's soft wrap: a group table's title on one line
    for note in comp.notes:
        print_lines(console, f"[yellow]note:[/] {escape(in_cli(note))}")


def _print_json_rows(comp: Any) -> None:
    """``--json``: the rows on stdout (a list, as results.json holds them) and the comparison's notes on
    stderr, one ``note:`` line each, as the table prints them: they belong to no row (why a protocol was
    skipped, why the users' counts differ) and a script reading the list would choke on them there."""
    print_json(comp.records())
    for note in comp.notes:
        say("note", note)


# compare's options an experiment file sets itself: refused with --config (report refuses --models alike)
_FILE_ONLY = {
    "models": "--models",
    "protocols": "--protocols",
    "params": "--params",
    "split": "--split",
    "cv": "--cv",
    "item_features": "--item-features",
    "user_features": "--user-features",
    "session_gap": "--session-gap",
    "sampled": "--sampled",
    "beyond": "--beyond",
    "auc": "--auc",
    "rank_by": "--rank-by",
    "rerank": "--rerank",
    "early_stopping": "--early-stopping",
    "patience": "--patience",
    "stop_every": "--stop-every",
    "valid_size": "--valid-size",
}

# of those, the two a file holds in another form: where to set each (--sampled and --session-gap are
# shortcuts, for a protocol and for a parameter of each model that takes it)
_FILE_FORM = {
    "sampled": 'add "sampled" to {file}\'s protocols',
    "session_gap": "set session_gap in the params of each of {file}'s models that takes it",
}


def _config_experiment(ctx: typer.Context, config: Path, source: RatingsSource, **typed_values: Any) -> Any:
    """``compare --config FILE``'s experiment: the file, with the options typed on the command line winning
    (``--dataset``/``--ratings`` and its column options, ``--seed``, ``-k``, ``--implicit-threshold``,
    ``--test-size``, as in report and export; docs/tuning.md), and the resolved run recorded as such in
    ``config.toml``. An option the file sets itself (``--models``, ``--protocols``, …) is refused in one
    line rather than ignored."""
    from movierec.experiment import Experiment, cutoff_notes, load_experiment

    for name, flag in _FILE_ONLY.items():
        if typed(ctx, name):
            edit = _FILE_FORM.get(name, "edit {file}").format(file=config.name)
            raise ConfigError(f"{flag} and --config exclude each other: the experiment file sets it ({edit})")
    exp = load_experiment(config)  # mistakes name the file, line and key
    for note in cutoff_notes(config):  # early_stopping = "ndcg": read as ndcg@10, said
        say("note", note)
    data = exp.to_data()
    keys = {"seed": "seed", "k": "k", "threshold": "implicit_threshold"}
    data.update({key: typed_values[key] for key, option in keys.items() if typed(ctx, option)})
    if typed(ctx, "test_size"):  # a count over the file's per-user split: the option's one line
        if exp.split.files():
            raise ConfigError(
                f"--test-size and {config.name}'s [split] train and test exclude each other: the files are "
                "the split already drawn"
            )
        kind = data.get("split", {}).get("kind", "auto")
        check_test_size_option(typed_values["test_size"], kind, why=f"; {config.name} sets that split")
        data["split"] = {**data.get("split", {}), "test_size": typed_values["test_size"]}
    data["dataset"] = _config_dataset(ctx, source, data.get("dataset", {}))
    if data == exp.to_data():
        return exp
    from pydantic import ValidationError

    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:  # a typed value the file would not take (--test-size 1.5)
        err = exc.errors()[0]
        key = ".".join(str(part) for part in err.get("loc", ()))
        flags = {
            "seed": "--seed",
            "k": "-k",
            "threshold": "--implicit-threshold",
            "split.test_size": "--test-size",
        }
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        raise ConfigError(f"{flags.get(key, key)}: {msg} (typed over {config.name})") from None


#: a column option's key in an experiment file's ``[dataset]`` where the two differ
_DATASET_KEYS = {"sep": "delimiter"}


def _config_dataset(ctx: typer.Context, source: RatingsSource, in_file: dict[str, Any]) -> dict[str, Any]:
    """The experiment's ``[dataset]`` with ``--ratings`` (and its column options) or ``--dataset`` typed on
    the command line in its place, and ``--rating-scale`` over the file's scale."""
    dataset: dict[str, Any]
    if source.ratings is not None:
        given = {
            "name": str(source.ratings.resolve()),  # config.toml loads the same file from anywhere
            "user_col": source.user_col,
            "item_col": source.item_col,
            "rating_col": source.rating_col,
            "time_col": source.time_col,
            "movies": None if source.movies is None else str(source.movies.resolve()),
            "header": source.header,
            "delimiter": source.sep,
            "encoding": source.encoding,
        }
        dataset = {k: v for k, v in given.items() if v is not None}
    else:  # the file's (or a typed --dataset), with the column options typed over its own
        dataset = {"name": source.dataset} if typed(ctx, "dataset") else dict(in_file)
        options = [n for n in COLUMN_OPTIONS if typed(ctx, n)]
        # a --dataset, or a file's [dataset] naming one, reads its own files: said as without --config (a typed
        # --dataset dropped them without a word; the file's was Python's "apply to a ratings file or a DataFrame")
        if options and (
            typed(ctx, "dataset") or not Path(dataset.get("name", source.dataset)).expanduser().is_file()
        ):
            raise file_option_refusal(options[0], source.header)
        typed_over = {_DATASET_KEYS.get(n, n): getattr(source, n) for n in options}
        if typed_over.get("movies") is not None:
            typed_over["movies"] = str(Path(typed_over["movies"]).resolve())
        dataset.update(typed_over)
    if source.rating_scale is not None:
        dataset["rating_scale"] = list(source.rating_scale)
    elif dataset.get("name") == in_file.get("name") and "rating_scale" in in_file:
        dataset["rating_scale"] = in_file["rating_scale"]  # the same data: the file's scale still holds
    return dataset


def _compare_config(exp: Any, out: Path | None, mlflow: str | None, as_json: bool) -> None:
    """``compare --config FILE``: run the experiment (:func:`_config_experiment`) into ``runs/<id>/``
    (movierec.experiment) and print it."""
    from movierec.experiment import run_experiment

    with bar_progress(disable=as_json) as progress:
        run = run_experiment(
            exp,
            runs_dir=out if out is not None else Path("runs"),
            mlflow_uri=mlflow,
            progress=_RichProgress(progress),
        )
    comp = run.comparison
    written = write_results(comp, run.path)
    if as_json:
        _print_json_rows(comp)
        return
    _print_comparison(comp)
    # word-wrapped at the width as the notes above it are (it ran to 136 columns, one line at COLUMNS=80)
    names = ", ".join(p.name for p in sorted({*written, *run.path.iterdir()}))
    print_prose(escape(f"run {run.path.name}: {names} in {run.path}"))


def _model_and_data(
    model: str,
    params: list[str],
    source: RatingsSource,
    item_features: str | None,
    threshold: float | None,
    seed: int,
    ds: Any = None,
) -> tuple[Any, Any, Any]:
    """Fit ``model`` on the whole dataset; returns (model, dataset, train).

    Implicit models train on ratings ≥ threshold (None: the data's default, :func:`threshold_for`); sequence
    models (markov, sasrec, …) on every rating, each user's history in time order, so the recommendation
    follows their latest movie. A rating model on data without ratings gets a warning (it was asked for).
    Every caller serves the model through its artifact form, so a model without one is refused first.
    ``ds``: the data ``source`` names, when the caller has loaded it already.
    """
    from movierec.models.base import default_threshold_note, seeded, training_view
    from movierec.models.registry import MODELS, create, own_model
    from movierec.scoring.table import check_table_before_training
    from movierec.serving.artifact import exportable

    name = model.strip().lower()
    kw = parse_model_params(params, [name], option="--model")[name]
    if ":" in name and name in MODELS:  # lightfm:warp, surprise:svd: compare's parity references, which
        # serve no lists; another name with a colon ('surprise:svdd', 'implicit:als') is create's unknown model
        raise ConfigError(
            f"{name!r} is a reference backend: it runs only in compare, beside movierec's own models, "
            f"for parity checks; for lists use --model {own_model(name)}"
        )
    m = seeded(create(name, **kw), seed, kw)
    exportable(m, lists=True)  # before loading and training: the lists come from the serving form
    _refuse_segments(m, name)
    ds = source.load() if ds is None else ds
    warn_rating_model(m, ds)
    train = training_view(m, ds.interactions, threshold_for(ds, threshold))
    scale = default_threshold_note(m, name, ds.interactions) if threshold is None else None
    if scale is not None:  # trained on positives ≥ the default 4 on another scale
        say("note", scale)
    fit_kw: dict[str, Any] = {}
    if item_features and not _uses(m, item_features):
        say("note", f"{name} ignores item features")
    elif item_features:
        from movierec.features import build_item_features

        fit_kw["item_features"] = build_item_features(ds, train.item_map, item_features)
    check_table_before_training(m, train)
    from movierec.models.training import epoch_progress
    from movierec.progress import budget_words
    from movierec.progress import status as step_status

    fitting = f"fitting {name} on {ds.name}{budget_words(m)}"
    with step_status(err_console, fitting) as step:  # each epoch beside it, as export's
        m.fit(train, **fit_kw, **epoch_progress(step, m, fitting))
    from movierec.stopping import time_budget_note

    if (stopped := time_budget_note(m, name)) is not None:  # a list from 4 of 200 epochs said nothing
        say("note", stopped)
    return m, ds, train


def _refuse_segments(m: Any, name: str) -> None:
    """A segments model (segment-popularity) picks each person's list by their user features, which
    ``recommend`` and ``similar`` never build: refused before any loading or training, naming the door that
    does. The model's own refusal ("in the CLI --user-features demographics") named an option these
    commands do not have."""
    if str(getattr(getattr(m, "tags", None), "serving", "")) != "segments":
        return
    raise ConfigError(  # 159 columns in the CLI (301 with the whole export command and the fields)
        f"{name} lists by user features, which only export takes: export it with --user-features demographics "
        "(ml-100k), then --artifact DIR"
    )


def _uses(m: Any, item_features: str | None) -> bool:
    """Whether ``m`` was fitted with ``item_features`` (a model that does not learn from them, such as an
    ensemble of bases none of which takes them, ignores them: models.base.uses_item_features)."""
    from movierec.models.base import uses_item_features

    return bool(item_features) and uses_item_features(m)


def _serving_view(m: Any, ds: Any, train: Any, threshold: float | None, min_support: int | None) -> Any:
    """The fitted model as an in-memory artifact, so the CLI's lists are the API's (guardrails, scores)."""
    from movierec.serving.artifact import serving_view

    return serving_view(
        m, ds, train, implicit_threshold=threshold_for(ds, threshold), min_support=min_support
    )


MIN_SUPPORT = typer.Option(
    None,
    "--min-support",
    min=0,  # a negative floor is one line before any training
    help="Fewest training ratings a movie needs to be listed (default: the artifact's, else 5 or less on small data).",
)


def _recommend_all_users(
    artifact: Path | None,
    out: Path | None,
    force: bool,
    k: int,
    trained: Callable[[], tuple[Any, Any, Any]],
    as_json: bool,
    exclude: list[str] | None = None,
) -> None:
    """``recommend --all-users``: batch top-K through the artifact's own ranking (see serving.batch);
    ``exclude``: the ``--exclude`` movies, left out of every list (:func:`_excluded`).

    A model trained here is exported to a temporary folder ``movierec-batch-PID@HOST`` in the system
    temporary folder, removed when the run ends; one a run killed outright (SIGKILL) left is removed by
    the next batch run on this machine (:func:`movierec.output_folders.temporary_folder`).
    """
    import shutil
    import tempfile
    import time

    from movierec.serving.artifact import export_artifact, load_artifact
    from movierec.serving.batch import recommend_all_users, write_recommendations

    if out is None:
        raise ConfigError("--all-users needs --out FILE (e.g. recs.parquet)")
    if out.exists() and not force:
        raise ConfigError(f"--out {out} already exists; pass --force to replace it")
    if not out.expanduser().parent.is_dir():
        raise ConfigError(f"--out {out}: folder {out.expanduser().parent} does not exist")
    from movierec.output_folders import check_writable, temporary_folder

    check_writable(out.expanduser().parent)  # /proc, a read-only folder: one line before any training
    t0 = time.perf_counter()
    tmp = temporary_folder(tempfile.gettempdir(), "movierec-batch-", "")  # dead runs' leftovers go first
    try:
        if artifact is None:
            m, ds, train = trained()
            artifact = export_artifact(m, ds, train, tmp / "artifact")
        art = load_artifact(artifact)
        frame = recommend_all_users(art, min(k, art.n_items), exclude=_excluded(art, exclude))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    path = write_recommendations(frame, out, force=force)
    summary = {
        "out": str(path),
        "n_users": int(frame["userId"].nunique()),
        "n_rows": len(frame),
        "k": k,
        "seconds": round(time.perf_counter() - t0, 3),
    }
    if as_json:
        print_json(summary)
        return
    console.print(
        f"wrote {summary['n_rows']:,} recommendations for {summary['n_users']:,} users to {path} "
        f"({summary['seconds']:.1f} s)"
    )


RECOMMEND_MODEL = typer.Option(
    None,
    "--model",
    "-m",
    help="Registered model name. Default: ease (itemknn past ease's size), a top-N model: on validation "
    "splits of ml-latest-small its lists found the movies people went on to like far more often than svd's "
    "(NDCG@10 0.21 against 0.08), and its item weights say which rated movie each one comes from. --model "
    "svd ranks by predicted stars. With --artifact: the artifact's own model (another name is refused).",
)


def _recommend_model(
    model: str | None, from_movies: bool, loaded: Any, source: RatingsSource, threshold: float | None
) -> tuple[str, Any]:
    """``recommend``'s model and the data if loaded: ``--model``, else an item-based top-N model
    (:func:`default_similar_model`: ease, or itemknn past ease's size), said in a note.

    svd was the default for a known user's list before: it ranks by predicted stars, and its served top
    10 scored NDCG@10 0.08 on validation splits where ease's scored 0.21 (popularity's 0.12, ensemble's
    0.21 at 20× the fit time; docs/models.md, "Which model recommend uses", bench/recommend_default_study.py:
    each model trained on 80% of ml-latest-small's ratings less compare's test positives and served as
    recommend serves it, the other 20%'s ratings ≥ 4 scoring its top 10, mean of three validation splits).
    The note, shown on every run without --model, names the model and the way to predicted stars in one
    line of 80 columns; the figures are in --model's help, where the reader asks why. A list from given
    ratings or with reasons (``from_movies``) used ease already: its lists follow the movies given. On data
    without ratings a rating model would learn nothing, and that note too is one line of 80 columns (it was
    160: 'the list comes from ease, which learns from the interactions (a rating model such as svd …)')."""
    if model is not None:
        return model, loaded
    ds = loaded if loaded is not None else source.load()
    chosen = default_similar_model(ds, threshold)
    if ds.interactions.interactions_only:
        say("note", f"no --model and no ratings: the list is {chosen}'s (svd would learn nothing)")
    elif not from_movies:
        say("note", f"no --model given: the list is {chosen}'s; --model svd ranks by predicted stars")
    return chosen, ds


EXCLUDE_MOVIES = typer.Option(
    None,
    "--exclude",
    metavar="MOVIE",
    help="A movie never to list, TITLE or ID (say, one not licensed here); repeat the option for each. "
    "The list fills from the next best, as the API's ?exclude= does; with --all-users, every user's.",
)


@ratings_options
def recommend_cmd(
    ctx: typer.Context,
    user: str | None = typer.Option(None, "--user", "-u", help="Raw user id as in the ratings file."),
    all_users: bool = typer.Option(
        False, "--all-users", help="Top-K for every user, written to --out (Parquet, or CSV by extension)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="With --all-users: the output file (columns userId, rank, movieId, score)."
    ),
    force: bool = typer.Option(False, "--force", help="With --all-users: replace an existing --out file."),
    model: str | None = RECOMMEND_MODEL,
    k: int = K_MOVIES,
    artifact: Path | None = ARTIFACT,
    params: list[str] = MODEL_PARAMS,
    item_features: str | None = ITEM_FEATURES,
    implicit_threshold: float | None = IMPLICIT_THRESHOLD,
    rerank: str | None = typer.Option(
        None, "--rerank", help="Re-rank the list: mmr:λ, calibrated:λ, xquad:λ or pop:λ (λ in 0..1)."
    ),
    min_support: int | None = MIN_SUPPORT,
    genre: list[str] | None = typer.Option(
        None,
        "--genre",
        "-g",
        metavar="GENRE",
        help="Only movies of this genre (repeat the option, or A,B: any of them), as the API's ?genres=.",
    ),
    rated: list[str] | None = typer.Option(
        None,
        "--rated",
        metavar="MOVIE[=RATING]",
        help="Someone not in the data: a movie they rated, TITLE or ID, with =RATING (else liked); repeat "
        "the option for each movie.",
    ),
    explain: bool = typer.Option(
        False,
        "--explain",
        help="Say which rated movies each one comes from: with --rated, or with --user for an item-based "
        "model (ease, itemknn, rp3beta, slim) or a k-NN rating model (knn-basic, knn-means, knn-zscore, "
        "knn-baseline).",
    ),
    exclude: list[str] | None = EXCLUDE_MOVIES,
    seed: int = SEED,
    as_json: bool = JSON,
    source: RatingsSource = RatingsSource(),  # --dataset, --ratings, --user-col … --rating-scale
) -> None:
    """Top-K unseen movies for a user: the model's ranking score, and the predicted rating for rating models.

    The list is the one the API serves: movies under the support floor are left out and rating
    models rank by their support-shrunk score (docs/serving.md). With ``--rated "Toy Story=5"
    --rated Alien``: a list for someone who is not in the data, folded in as ``POST
    /recommendations`` does (``--explain`` adds why; for a known user too, with an item-based or k-NN rating model).
    With ``--all-users --out recs.parquet``: every
    user's top-K in one file, ranked by the same code as ``movierec serve`` (from ``--artifact``, or
    from ``--model`` trained and exported on the fly).
    """
    if k < 1:
        raise ConfigError(f"-k must be ≥ 1, got {k}")
    k_typed = typed(ctx, "k")
    _check_recommend_mode(user, all_users, bool(rated), out, force, rerank)
    _refuse_training_options(ctx, artifact, params, item_features, model)
    if explain and not rated and user is None:
        raise ConfigError("--explain explains a --user or --rated list; add one of them")
    if explain and user is not None and artifact is None and model is not None:
        _check_explains_known_users(model)  # before any training
    genres, loaded = _genre_option(genre, all_users, artifact, source)

    def trained(ds: Any = None) -> tuple[Any, Any, Any]:  # (model, dataset, train): --model fitted on ds
        ds = loaded if ds is None else ds
        name, ds = _recommend_model(model, bool(rated or explain), ds, source, implicit_threshold)
        return _model_and_data(name, params, source, item_features, implicit_threshold, seed, ds)

    def serving(m: Any, ds: Any, train: Any) -> Any:
        return _serving_view(m, ds, train, implicit_threshold, min_support)

    data = lambda: source.load() if loaded is None else loaded  # noqa: E731
    if rated:
        if user is not None or all_users:
            raise ConfigError("--rated is for someone not in the data: leave out --user and --all-users")
        _recommend_visitor(
            rated, explain, artifact, k, trained, serving, min_support, as_json, genres, data, exclude, k_typed
        )  # fmt: skip
        return
    if exclude and artifact is None:
        _excluded(_DataMovies(data()), exclude)  # a misspelt movie fails before any training
    if all_users:
        _recommend_all_users(artifact, out, force, k, trained, as_json, exclude)
        return
    if user is None:
        raise ConfigError(
            "give --user ID, --rated MOVIE[=RATING] (repeated) for someone not in the data, "
            "or --all-users --out FILE for every user"
        )
    if rerank is not None:
        from movierec.rerank import parse_rerank

        parse_rerank(rerank)  # a bad spec fails before any training
    art, title = _known_user_artifact(user, k, artifact, data, trained, serving, item_features)
    _recommend_user(art, title, user, k, genres, min_support, rerank, explain, as_json, exclude, k_typed)


def _check_recommend_mode(
    user: str | None,
    all_users: bool,
    rated: bool,
    out: Path | None,
    force: bool,
    rerank: str | None,
) -> None:
    """Options that belong to another of ``recommend``'s modes (one --user list, a --rated list, every user
    into a file) are refused in one line, before any work, instead of being silently ignored."""
    if all_users:
        if user is not None:
            raise ConfigError("--user and --all-users exclude each other: --all-users lists every user")
        if rerank is not None:
            raise ConfigError("--rerank re-ranks one --user list, not --all-users")
    else:
        if out is not None:
            raise ConfigError(
                "--out is for --all-users (every user's list in one file); one list prints here"
            )
        if force:
            raise ConfigError("--force is for --all-users (it replaces its --out file); one list prints here")
    if rated and rerank is not None:
        raise ConfigError("--rerank re-ranks a known --user's list, not a --rated one")


def _refuse_training_options(
    ctx: typer.Context,
    artifact: Path | None,
    params: list[str],
    item_features: str | None,
    model: str | None = None,
) -> None:
    """With ``--artifact`` nothing is trained, so the options that choose the training data and the model's
    settings would change nothing: one line naming the first given, not a list from other data than asked.
    ``--model`` naming another model than the artifact holds is refused too (:func:`_refuse_other_model`)."""
    if artifact is None:
        return
    _refuse_other_model(model, artifact)
    from dataclasses import fields

    given = ["--params"] if params else []
    given += ["--item-features"] if item_features else []
    trains = [f.name for f in fields(RatingsSource)] + ["implicit_threshold", "seed"]
    given += ["--" + name.replace("_", "-") for name in trains if typed(ctx, name)]
    if given:
        raise ConfigError(
            f"{given[0]} chooses what a model is trained on; --artifact serves one already trained "
            f"(leave out {given[0]}, or leave out --artifact to train)"
        )


def _refuse_other_model(model: str | None, artifact: Path) -> None:
    """``--model`` with ``--artifact``: the artifact's own model name is accepted (it says what the caller
    expects), another is one line, where it was silently ignored and the artifact's list was shown as if it
    came from the model asked for. Read from the manifest alone (loading ease's weights twice costs seconds);
    a folder without a readable manifest is left to ``load_artifact``, which says what is wrong with it."""
    if model is None:
        return
    from movierec.serving.artifact import MANIFEST

    try:
        held = json.loads((artifact.expanduser() / MANIFEST).read_text(encoding="utf-8"))["model"]["name"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    asked = model.strip()
    if asked.lower() != str(held).strip().lower():  # 'EASE' names ease, as the registry reads it
        raise ConfigError(
            f"--model {asked}: --artifact {artifact} holds a trained {held} model and serves only that "
            f"(leave out --model, or leave out --artifact to train {asked})"
        )


def _note_whole_catalogue(k: int, n_items: int, k_typed: bool, movies: str = "movies") -> None:
    """A list longer than the catalogue is every movie there is to list, as in Python, the artifact and the
    API (``k`` is at most ``k`` at every door: the movies already rated, the support floor and ``--genre``
    shorten a list too). ``recommend --user 1`` on a 3-movie file said "-k 10 is larger than the catalogue
    (3 movies)" though no ``-k`` was typed; it now lists the movies with this note (``k_typed``: ``-k`` was
    given, else it is the default; ``movies``: what the list draws from, ``similar``'s "other movies")."""
    if k <= n_items:
        return
    asked = f"-k {k}" if k_typed else f"the default -k {k}"
    movies = movies.removesuffix("s") if n_items == 1 else movies  # "holds 1 movies" read wrong
    say("note", f"the catalogue holds {n_items:,} {movies}, fewer than {asked}: the list is all that qualify")


def _recommend_user(
    art: Any,
    title: str,
    user: str,
    k: int,
    genres: list[str] | None,
    min_support: int | None,
    rerank: str | None,
    explain: bool,
    as_json: bool,
    exclude: list[str] | None = None,
    k_typed: bool = True,
) -> None:
    """``recommend --user``: the known user's list from ``art`` (the API's), printed or as JSON rows;
    ``exclude``: the ``--exclude`` movies, left out (:func:`_excluded`); ``k_typed``: whether ``-k`` was
    typed (:func:`_note_whole_catalogue`)."""
    _note_whole_catalogue(k, art.n_items, k_typed)
    if explain and not art.explains_known_users:
        raise _cannot_explain(art.model_name)
    u = art.user_index(user)
    denied = _excluded(art, exclude)
    rows = art.recommend_index(
        u, k, genres=genres, min_support=min_support, rerank=rerank, explain=explain, exclude=denied
    )
    floor = art.min_support if min_support is None else min_support
    if not rows:  # a note, not an empty table
        unfloored = lambda: art.recommend_index(u, art.n_items, min_support=0, genres=genres)  # noqa: E731
        say("note", _why_empty(floor, f"user {user}", unfloored))
        if as_json:
            print_json(rows)
        return
    counted = art.counted
    title += f" · {_floor_text(floor, counted)}"
    if genres:
        title += f" · {' or '.join(art.genre_names(genres))}"
    if rerank:
        title += f" · re-ranked by {rerank}"
    if denied:
        title += f" · {len(denied)} excluded"
    note = art.because_note(rows) if explain and not as_json else None
    if note:  # why some rows of a k-NN rating model's list have no reason, once (as for --rated)
        say("note", note)
    fallback = art.known_fallback(u)
    if fallback:  # the model learned nothing of this user: popularity's list, and why
        say("note", fallback)
    # the fallback's scores are counts, and its caption says so (it said "on the model's own scale")
    fell = bool(fallback)
    # markov's rows the last movie never led to: 0.14289 then 0.00045 … with no word of the back-off
    back_off = art.back_off_note(u, rows)
    if back_off and as_json:  # JSON rows carry no notes: stderr, as the fallback's note
        say("note", back_off)
    _print_user_list(
        rows, title, art.kind, as_json, _because_column(rows, explain, bool(note or fell)),
        counted=counted, fallback=fell, score_count=art.score_count, reranked=rerank, back_off=back_off,
    )  # fmt: skip


def _because_column(rows: list[dict[str, Any]], explain: bool, said: bool) -> bool:
    """Whether an explained list's table has a 'because' column: not where no row has a reason and a note
    has said why (``said``; knn-baseline's list for user 1 spent 10 columns on a blank 'because')."""
    return explain and (any(r.get("because") for r in rows) or not said)


def _unknown_user(user: str, where: str, users: Any) -> UnknownIdError:
    """The one line for a ``--user`` that ``where`` has no ratings from, with the ids it has (a typo, or an
    id from another file, shows at once) and the option for someone who is not in the data."""
    from movierec.titles import unknown_user

    return UnknownIdError(unknown_user(user, where, users.ids, "use --rated TITLE=RATING"))


def _known_user_artifact(
    user: str,
    k: int,
    artifact: Path | None,
    data: Callable[[], Any],
    trained: Callable[..., tuple[Any, Any, Any]],
    serving: Callable[..., Any],
    item_features: str | None,
) -> tuple[Any, str]:
    """``recommend --user``'s artifact (``--artifact``, or ``--model`` trained and viewed in memory) and
    the list's title; an unknown user fails before anything is trained or shown (ensemble trained for 8 s
    before 'unknown user id')."""
    if artifact is not None:
        from movierec.serving.artifact import load_artifact

        art = load_artifact(artifact)
        if art.user_map.get(user) is None:
            raise _unknown_user(user, f"artifact {artifact}", art.user_map)
        return art, f"top {k} for user {user} · {art.model_name} (artifact {artifact})"
    ds = data()
    if ds.interactions.user_map.get(user) is None:
        raise _unknown_user(user, ds.name, ds.interactions.user_map)
    m, ds, train = trained(ds)
    if train.user_map.get(user) is None:
        raise _unknown_user(user, ds.name, train.user_map)
    with_features = f" with item features {item_features}" if _uses(m, item_features) else ""
    return serving(m, ds, train), f"top {k} for user {user} · {m.name}{with_features} trained on {ds.name}"


def _check_explains_known_users(model: str) -> None:
    """``--user --explain`` needs an item-based or k-NN rating model (its known-user score is a sum over the
    user's movies)."""
    from movierec.models.registry import get_class
    from movierec.serving.artifact import explains_known_users

    cls = get_class(model)
    if not explains_known_users(cls.kind, str(getattr(cls.tags, "serving", None))):
        raise _cannot_explain(model)


def _cannot_explain(model: str) -> ConfigError:
    """The refusal for ``--user --explain``, offering ``--rated`` only where a list for given ratings has
    reasons: popularity's read "…, or --rated", where every row's 'because' is empty."""
    from movierec.models.registry import get_class
    from movierec.scoring.explain import known_user_refusal, visitor_reasons

    try:
        family = str(getattr(get_class(model).tags, "serving", None))
    except ConfigError:  # an artifact of a model outside the registry
        family = ""
    rated = visitor_reasons(model, family)
    return ConfigError(
        known_user_refusal(model, "use -m ease or knn-baseline" + (", or --rated" if rated else ""))
    )


def _print_user_list(
    rows: list[dict[str, Any]],
    title: str,
    kind: str,
    as_json: bool,
    because: bool = False,
    *,
    counted: str = "ratings",
    fallback: bool = False,
    score_count: str | None = None,
    reranked: str | None = None,
    back_off: str | None = None,
) -> None:
    """A known user's list: JSON rows, or a table with the predicted rating for rating models (or
    ``because`` for an explained list). ``fallback``: the rows are the popularity fallback's;
    ``score_count``: what the model's score counts (the artifact's :attr:`score_count`); ``reranked``:
    the ``--rerank`` spec that ordered the rows; ``back_off``: a line under the table on the rows whose
    scores are a markov chain's popularity back-off (the artifact's :meth:`back_off_note`)."""
    if as_json:
        print_json(rows)
        return
    with_rating = kind == "explicit" and any("predictedRating" in r for r in rows)
    _print_list(
        rows,
        title,
        with_rating=with_rating,
        because=because,
        rates=kind == "explicit",
        counted=counted,
        fallback=fallback,
        score_count=score_count,
        reranked=reranked,
        back_off=back_off,
    )


def _print_list(
    rows: list[dict[str, Any]],
    title: str,
    *,
    with_rating: bool = False,
    because: bool = False,
    rates: bool = False,
    counted: str = "ratings",
    fallback: bool = False,
    score_count: str | None = None,
    reranked: str | None = None,
    back_off: str | None = None,
) -> None:
    """A recommendation list as a table: rank, movieId, title, score (three significant digits), the
    predicted rating for rating models, and the training ratings, or ``because`` for an explained list.
    ``rates``: the model predicts ratings (a re-ranked list shows no predicted-rating column; its score
    is still the shrunk prediction). ``counted``: what the last column counts
    (:attr:`~movierec.serving.artifact.Artifact.counted`).
    ``fallback``: the popularity fallback's list, whose score is that count; ``score_count``: the model's
    score is a count too (popularity's, :func:`movierec.display.score_count`), said so. ``reranked``: the
    ``--rerank`` spec that ordered the rows, whose scores stay the model's (out of order), said so.
    ``back_off``: a second line under the table (which rows a markov chain scored by its back-off)."""
    # a rating model's score is not its predicted rating: say why the two columns differ; a ranking
    # model's score (ease 0.136, itemknn 28.9) is on its own scale, which a reader would take for a rating
    from movierec.display import fallback_score, score_meaning  # the sentences a DataFrame's list prints too

    # fallback: 274.000 beside "only the order means something" read as a model's score; a re-ranked
    # list drops the predicted rating, but its score is still the shrunk prediction
    meaning = score_meaning(with_rating or rates, score_count, reranked)  # popularity's 274: ratings of 4+
    caption = "score: " + (fallback_score(counted) if fallback else meaning)
    # popularity's score is the count beside it (274 | 274): one column, the count's, said to be the score
    shared = _score_is_the_count(rows, because)
    if shared:
        said = f", before {reranked} re-ordered the list" if reranked else ""
        own = f"score: the {counted} column, how many the movie has in the training data{said}"
        caption = caption if fallback else own  # the fallback's already names the count
    caption += f"\n{back_off}" if back_off else ""
    cols = [("#", "right"), ("movieId", "right"), ("title", "left")]
    cols += [] if shared else [("score", "right")]
    cols += [("predicted\nrating", "right")] if with_rating else []  # two lines: 9 columns wide, not 16
    cols += [("because", "left")] if because else [(counted.replace(" of ", "\nof ", 1), "right")]
    # a count: 274, not 274.000 (the fallback's, or popularity's own list: Python's list prints it so too)
    digits = 0 if fallback else shown_decimals([r["score"] for r in rows])
    cells: list[list[str]] = []
    # data without titles (every title 'movieId tt0100003'): a reason is named as the heading names a movie
    # (the table drops such a title column: list_table)
    titled = not rows or not id_titled([r["title"] for r in rows], [r["movieId"] for r in rows])
    for n, r in enumerate(rows, 1):
        row = [str(n), str(r["movieId"]), str(r["title"])] + ([] if shared else [f"{r['score']:.{digits}f}"])
        row += [f"{r['predictedRating']:.2f}"] if with_rating else []
        # one reason a line: joined by '; ' the terminal broke them anywhere ('Back to the Future' / '(1985)')
        reasons = [movie_named(b["title"], b["movieId"], titled=titled) for b in r.get("because") or []]
        cells.append([*row, "\n".join(reasons) if because else str(r.get("ratings", ""))])
    # the clipped predicted rating goes first where titles would wrap: 5.00 on most rows of a top 10, it
    # tells less than the title, and the score beside it is that rating shrunk (the caption says so)
    table = list_table(
        cols, cells, title_column=None if because else 2, optional=(len(cols) - 2,) if with_rating else (),
        reasons=len(cols) - 1 if because else None,
        title=_as_long_as(title, len(rows)), title_justify="left", caption=caption, caption_justify="left",
    )  # fmt: skip
    print_table(table)


def _as_long_as(title: str, n: int) -> str:
    """A list's heading with the length it has: "top 10 for user 1" over the 3 movies a small catalogue
    (or a genre, or the rated movies left out) leaves read as a list cut short; it says "top 3" then."""
    asked = re.match(r"top (\d+) ", title)
    return f"top {n} {title[asked.end() :]}" if asked and n < int(asked.group(1)) else title


def _score_is_the_count(rows: list[dict[str, Any]], because: bool) -> bool:
    """Whether every row's score is its count column's number: popularity's list (and the fallback's) showed
    'score 274' beside 'ratings of 4+ 274', the same numbers twice; :func:`_print_list` then shows one."""
    if because or not rows:
        return False
    return all(isinstance(r.get("ratings"), (int, float)) and float(r["score"]) == r["ratings"] for r in rows)


def _excluded(movies: Any, texts: list[str] | None) -> list[object] | None:
    """``--exclude`` values (a TITLE or a movieId each) as raw movieIds, resolved as ``--rated``'s movies
    are: an id first, else a title; a movie nobody rated, or no match, is one line naming it (a typo would
    otherwise leave the movie it meant in the list)."""
    if not texts:
        return None
    ids: list[object] = []
    for text in texts:
        movie = text.strip()
        if not movie:
            raise ConfigError("--exclude: name a movie (a title or a movieId)")
        ids.append(
            movies.movie_row(_movie_index(movies, movie, "--exclude: ", id_form="--exclude {}"))["movieId"]
        )
    return ids


def _movie_index(
    movies: Any, movie: str, said: str = "", id_hint: str = "the movieId", id_form: str = ""
) -> int:
    """The item index a movie given as text names (``--rated``, ``--exclude``, similar's TITLE), on an artifact
    or :class:`_DataMovies`, by :func:`movierec.titles.movie_from_text`: the rules ``movierec.Recommender``
    and an artifact's Python methods read text by (tests/test_cli_doors_agree.py), in the CLI's words. A
    text id the data has is that movie; a number is the movieId unless it is also another movie's whole
    title ('300': refused naming both); else the one title that matches. Data without titles takes a movieId
    and nothing else. ``said`` goes before an error ('--exclude: '); ``id_hint`` is how a title's error
    names the movieId to give instead (similar's ``--movie-id``; recommend has no such flag), and ``id_form``
    the option with ``{}`` for it, which an ambiguous title's fix shows with an id ('--rated {}=5')."""
    from movierec.titles import movie_from_text

    try:
        return movie_from_text(
            movie,
            movies.titles,
            movies.item_map,
            movies.support,
            titled=movies.has_titles,
            no_titles=lambda text: _no_titles(movies, text, id_hint),
            unrated=movies.unrated_movie,
            unknown=lambda text: _unknown_movie(movies, text),
            id_hint=id_hint,
            text_only=True,  # '300' typed is text either way: the refusal asks for a title with its year
            warn=False,  # the list's heading names the movie read ("someone who rated Toy Story (1995) 5")
            said=said,  # the titles a refusal names leave room for it: two rows at 80 columns in all
            id_form=id_form,
        )
    except (ConfigError, UnknownIdError) as exc:
        if not said:
            raise
        raise type(exc)(f"{said}{exc}") from None


def _unknown_movie(movies: Any, text: str) -> str:
    """The line for a number that is neither a movieId nor a title, in the artifact's Python words
    (:func:`movierec.titles.unknown_movie_id`): "unknown movie id '999999' in r (its 8 movies have ids 1 to
    51662, with gaps); give a movieId or a title ('Toy Story')". With titles it read "no movie title
    matches '999999'; try part of the title or the movieId", as if the number were a misspelt title, where
    Python said the id is unknown."""
    from movierec.titles import unknown_movie_id

    where = movies.ds.name if isinstance(movies, _DataMovies) else "the artifact"
    return unknown_movie_id(text, where, movies.item_map.ids, titled=movies.has_titles)


def _visitor_pairs(art: Any, rated: list[str]) -> list[tuple[object, float]]:
    """``--rated`` values (``TITLE_OR_ID[=RATING]``) as (raw movieId, rating) pairs; no rating: the top of
    the scale (liked). A rating off the scale or between two of the data's levels (3.7 on half stars) is
    refused as POST /recommendations refuses it (:func:`movierec.interactions.refused_rating`). A
    catalogue movie nobody rated is named as such (``art.unrated_movie``: an artifact holds only the rated
    movies, and its manifest lists the others)."""
    pairs: list[tuple[object, float]] = []
    given: dict[int, str] = {}  # item index → the --rated text that named it
    for text in rated:
        movie, rating = text.strip(), art.rating_scale[1]
        _one_movie_each(text)
        head, sep, tail = movie.rpartition("=")
        if sep:
            try:
                movie, rating = head.strip(), float(tail)
            except ValueError:
                raise ConfigError(
                    f"--rated {text!r}: the part after '=' must be a rating, e.g. 'Alien=4.5'"
                ) from None
            if "=" in movie and _is_number(movie.rpartition("=")[2]):  # 'Toy Story=5=3': not a title with '='
                raise ConfigError(f"--rated {text!r}: give one rating per movie, e.g. 'Alien=4.5'")
        if not movie:
            raise ConfigError(f"--rated {text!r}: name a movie (a title or a movieId)")
        typed = f"={tail.strip()}" if sep else ""  # an ambiguous title's fix keeps the rating given
        idx = _movie_index(art, movie, "--rated: ", id_form=f"--rated {{}}{typed}")
        if idx in given:  # which rating should count is a guess (movierec.Recommender refuses it too)
            raise ConfigError(
                f"--rated: {art.named(idx)} is given twice ({given[idx]!r} and {text!r}); "
                "give each movie once"
            )
        given[idx] = text
        row = art.movie_row(idx)
        said = art.refused_rating(rating)  # off the scale (NaN too) or between two levels: the API's words
        if said is not None:
            about = f"{row['title']}, movieId {row['movieId']}" if art.has_titles else art.named(idx)
            raise ConfigError(f"--rated {text!r} ({about}): {said}")
        pairs.append((row["movieId"], rating))
    return pairs


#: a rating followed by a comma inside one --rated value: 'Toy Story=5,Alien=4' (a title may hold a comma)
_RATED_LIST = re.compile(r"(=\s*\d+(?:\.\d+)?)\s*,\s*")


def _one_movie_each(text: str) -> None:
    """Refuse several movies in one ``--rated`` value, 'Toy Story=5,Alien=4', with the options to type:
    --genre, --models and --params take commas, and this read as "no movie title matches 'Toy Story=5,Alien'"
    (or, ending in a title without a rating, "the part after '=' must be a rating"). Only a rating followed by
    a comma counts, so 'Matrix, The=4.5' is still one movie."""
    pieces = _RATED_LIST.split(text.strip())
    if len(pieces) == 1:
        return
    movies = [pieces[i] + pieces[i + 1].replace(" ", "") for i in range(0, len(pieces) - 1, 2)] + [pieces[-1]]
    typed = " ".join(f"--rated {m.strip()!r}" for m in movies if m.strip())
    raise ConfigError(f"--rated {text!r}: one movie per --rated (a title may hold a comma): {typed}")


class _DataMovies:
    """What ``--rated`` is checked against before any training: the data's rated movies, with what of an
    artifact :func:`_visitor_pairs` and :func:`_movie_index` read (``item_index``, ``titles``, ``has_titles``,
    ``support``, ``raw_item``, ``movie_row``, ``unrated_movie``, ``rating_scale``, ``refused_rating``,
    ``n_items``). The trained model's items are these same movies (an implicit model's view keeps the id
    maps), so a misspelt title, a movie given twice or a rating off the scale or its steps is one line in
    about a second, not after a fit of minutes (knn-baseline, slim)."""

    def __init__(self, ds: Any) -> None:
        self.ds = ds
        self.item_map = ds.interactions.item_map
        self.n_items = int(ds.interactions.n_items)
        lo, hi = ds.interactions.rating_scale
        self.rating_scale = (float(lo), float(hi))
        self.titles = [str(t) for t in ds.item_table()["title"]]
        self.has_titles = bool(ds.has_titles)
        self.support = ds.interactions.item_counts()

    def refused_rating(self, rating: float) -> str | None:
        """Why a ``--rated`` rating is refused on this data (its scale and step, as export records them)."""
        from movierec.interactions import rating_step, refused_rating

        return refused_rating(
            rating, self.rating_scale, rating_step(self.ds.interactions.ratings, self.rating_scale)
        )

    def item_index(self, movie: object) -> int:
        return int(self.item_map.index(movie))

    def raw_item(self, i: int) -> object:
        return _jsonid(self.item_map.to_raw(i))

    def movie_row(self, i: int) -> dict[str, Any]:
        return {"movieId": self.raw_item(i), "title": self.titles[i]}

    def named(self, i: int) -> str:
        """How a heading or a sentence names movie ``i``, as :meth:`Artifact.named` does: its title, or
        ``movieId tt0100000`` where the data has no titles (:func:`movierec.titles.movie_named`)."""
        return movie_named(self.titles[i], self.raw_item(i), titled=self.has_titles)

    def unrated_movie(self, text: str) -> str | None:
        from movierec.titles import unrated_movie

        return unrated_movie(text, self.ds.catalog, self.item_map, self.ds.name)


def _no_titles(movies: Any, query: str, id_hint: str) -> UnknownIdError:
    """A title asked of data without titles (``--ratings`` without ``--movies``, or an artifact exported
    from such data): say so, where titles come from, and name the movie by id instead (``id_hint``: the
    movieId, or similar's --movie-id; :func:`movierec.titles.no_titles`)."""
    import numpy as np

    from movierec.titles import no_titles

    hint = "--movies FILE with movieId,title[,genres]"
    hint += "" if isinstance(movies, _DataMovies) else " to movierec export"
    most_rated = movies.raw_item(int(np.argmax(movies.support)))
    return no_titles(query, movies.item_map, most_rated, movies_hint=hint, id_hint=id_hint)


def _refuse_unrated(movies: Any, movie: str) -> None:
    """A title or movieId of the catalogue that nobody rated: say so (``movierec.Recommender`` says the
    same), not "no movie title matches" with unrelated suggestions. ``movies``: an artifact (its manifest
    lists the catalogue movies nobody rated) or :class:`_DataMovies`, the same sentence either way."""
    said = movies.unrated_movie(movie)
    if said is not None:
        raise UnknownIdError(said) from None


def _artifact_movie(art: Any, movie: str | None, movie_id: str | None, said: str = "") -> int:
    """``similar --artifact``'s movie, by ``--movie-id`` or as TITLE, read as ``--rated`` reads it
    (:func:`_movie_index`): "1" is movieId 1, "300" (also a whole title) refused naming both, as
    ``movierec.Recommender.similar`` reads them. A catalogue movie nobody rated is named as such, not
    "unknown movie id" or "no movie title matches" with unrelated suggestions. ``said``: '--movie: ' where
    the title came by that option, put before a refusal of it."""
    if movie_id is None:
        return _movie_index(art, str(movie), said, id_hint="--movie-id", id_form="--movie-id {}")
    try:
        return int(art.item_index(movie_id))
    except UnknownIdError:
        _refuse_unrated(art, movie_id)
        # the artifact's own "unknown movie id '999999'" said nothing of the ids it has, where the data's did
        raise UnknownIdError(_unknown_movie(art, movie_id)) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _recommend_visitor(
    rated: list[str],
    explain: bool,
    artifact: Path | None,
    k: int,
    trained: Callable[[Any], tuple[Any, Any, Any]],
    serving: Callable[..., Any],
    min_support: int | None,
    as_json: bool,
    genres: list[str] | None,
    data: Callable[[], Any],
    exclude: list[str] | None = None,
    k_typed: bool = True,
) -> None:
    """``recommend --rated …``: the artifact's visitor list (the API's ``POST /recommendations``). Every
    ``--rated`` and ``--exclude`` movie is checked before any training (``data``: the training data, loaded
    once); ``k_typed``: whether ``-k`` was typed (:func:`_note_whole_catalogue`)."""
    from movierec.serving.artifact import load_artifact

    movies: Any = load_artifact(artifact) if artifact is not None else _DataMovies(data())
    _note_whole_catalogue(k, movies.n_items, k_typed)
    pairs = _visitor_pairs(movies, rated)
    denied = _excluded(movies, exclude)
    if artifact is not None:
        art, where = movies, f"{movies.model_name} (artifact {artifact})"
    else:
        m, ds, train = trained(movies.ds)
        art, where = serving(m, ds, train), f"{m.name} trained on {ds.name}"
    out = art.visitor(pairs, k, min_support=min_support, explain=explain, genres=genres, exclude=denied)
    rows = out["recommendations"]
    # markov's rows the last --rated movie never led to, as a known user's list says them
    back_off = None if out["fallback"] else art.visitor_back_off_note(pairs[-1][0], rows)
    if as_json:
        print_json(out)
        if back_off:  # JSON rows carry no notes: stderr, as a known user's
            say("note", back_off)
    if not rows:  # a note, not an empty table
        floor = art.min_support if min_support is None else min_support
        every = lambda: art.visitor(pairs, art.n_items, min_support=0, genres=genres)["recommendations"]  # noqa: E731
        say("note", _why_empty(floor, "this person", every))
    if as_json or not rows:
        return
    if out["fallback"]:
        say("note", out["fallback"])
    if out.get("becauseNote"):  # why some rows of a rating model's list have no reason (--explain)
        say("note", out["becauseNote"])
    shown = _rated_shown(art, pairs, rated)
    # the support floor holds here as in a known user's list, and its title says so there
    floor = art.min_support if min_support is None else min_support
    only = f" · {_floor_text(floor, art.counted)}"
    only += f" · {' or '.join(art.genre_names(genres))}" if genres else ""
    only += f" · {len(denied)} excluded" if denied else ""
    title = f"top {k} for someone who rated {shown} · {where}{only}"
    _print_user_list(
        rows,
        title,
        art.kind,
        False,
        _because_column(rows, explain, bool(out["fallback"] or out.get("becauseNote"))),
        counted=art.counted,
        fallback=bool(out["fallback"]),
        score_count=art.score_count,
        back_off=back_off,
    )


#: the most ``--rated`` movies a visitor list's heading names: thirty filled ten lines at 80 columns
_RATED_NAMED = 5


def _rated_shown(art: Any, pairs: list[tuple[object, float]], rated: list[str]) -> str:
    """The rated movies a visitor list's heading names, each with its rating: all of them up to
    :data:`_RATED_NAMED`; past that, how many, the first three, every one read from a near spelling (the
    heading is where a misspelt title shows the movie it was read as: :func:`_movie_index` warns of none)
    and how many more. Thirty well-known movies had filled ten lines above the table at 80 columns."""
    from movierec.titles import respelled

    named = [f"{art.named(art.item_index(mid))} {r:g}" for mid, r in pairs]
    if len(named) <= _RATED_NAMED:
        return ", ".join(named)
    kept = []
    for n, ((mid, _), text) in enumerate(zip(pairs, rated, strict=True)):
        head, sep, _tail = text.strip().rpartition("=")
        movie = head.strip() if sep else text.strip()  # as _visitor_pairs read it
        title = str(art.movie_row(art.item_index(mid))["title"])
        if n < 3 or (art.has_titles and movie != str(mid) and respelled(movie, title)):
            kept.append(named[n])
    more = f" and {len(named) - len(kept)} more" if len(kept) < len(named) else ""
    return f"{len(named)} movies: {', '.join(kept)}{more}"


def _floor_text(floor: int, counted: str) -> str:
    """The support floor in a list's title, as a newcomer reads it: '≥ 5 ratings of 4+' alone, after 'top 10
    for user 1 · svd trained on ml-latest-small', read as if it were the user's ratings."""
    return f"only movies with ≥ {floor} {counted}"


def _why_empty(floor: int, whom: str, unfloored: Callable[[], list[dict[str, Any]]]) -> str:
    """Why a list came out empty, for a note in place of an empty table (``similar`` says its own the same
    way): the support floor hid every movie left, and the largest ``--min-support`` that lists some
    (``movierec.Recommender`` warns the same), or nothing was left to list at all (``unfloored``, the list
    with no floor, is empty too)."""
    every = unfloored() if floor > 0 else []
    if not every:
        return f"nothing left to list: {whom} rated every movie there is, or the model scores none"
    largest = max(int(r["ratings"]) for r in every)
    return (
        f"--min-support {floor} leaves nothing to list for {whom}: the most-rated movie it could list has "
        f"{largest} training ratings (--min-support {largest} or lower lists movies)"
    )


def _genre_option(
    genre: list[str] | None, all_users: bool, artifact: Path | None, source: RatingsSource
) -> tuple[list[str] | None, Any]:
    """``recommend --genre``'s genres (repeated or A,B) and, where they are checked before any training
    (no ``--artifact``), the dataset loaded to check them: a misspelt genre names the closest known ones
    and the ``data info`` that lists them all (:func:`~movierec.titles.genre_refusal`)."""
    genres = [g.strip() for text in genre or [] for g in text.split(",") if g.strip()] or None
    if genres and all_users:
        raise ConfigError("--genre filters one list (--user or --rated), not --all-users")
    if not genres or artifact is not None:  # the artifact checks them, naming data info --artifact
        return genres, None
    from movierec.titles import check_genres, genre_spellings

    ds = source.load()
    check_genres(genres, genre_spellings(ds.item_table()["genres"]), _info_command(source))
    return genres, ds


def _info_command(source: RatingsSource) -> str:
    """The command that lists ``source``'s genres (``movierec data info``, with its ``--dataset``)."""
    if source.ratings is not None:
        return "movierec data info with the same --ratings options"
    if source.dataset != RatingsSource.dataset:
        import shlex

        return f"movierec data info --dataset {shlex.quote(source.dataset)}"
    return "movierec data info"


def _jsonid(v: Any) -> Any:
    import numpy as np

    return int(v) if isinstance(v, (int, np.integer)) else str(v)


# --- fuzzy title lookup (movierec.titles; re-exported for older imports) ----------------------

from movierec.titles import fold_title, id_titled, match_title, movie_named  # noqa: E402

__all__ = ["fold_title", "match_title"]


def similar_default_params() -> list[str]:
    """``similar``'s model when none is named: itemknn with these parameters, which keep exactly an artifact's
    lift table. Lift (co-likes over chance, shrunk by co-support) lists Beauty and the Beast, Aladdin and The
    Lion King for Toy Story on ml-100k, where ease's weights listed Star Wars, Liar Liar and Fargo; its lists
    share more genres with the movie on both datasets and hold 25-80% more distinct movies
    (``bench/similar_study.py``: shrink 5 of 0, 5, 10, 20)."""
    from movierec.models.itemknn import LIFT_K, LIFT_SHRINK

    return ["similarity=lift", f"shrink={LIFT_SHRINK:g}", f"k={LIFT_K}"]


def default_similar_model(ds: Any, threshold: float | None, limit: int | None = None) -> str:
    """``recommend``'s item-based model for a list from given ratings or with reasons: ease (its lists
    follow the movies given and its item weights say which movie each comes from), or itemknn, with a
    note, when the movies with positives (ratings ≥ ``threshold``) exceed ease's ``max_items``
    (``limit``), whose dense items × items solve would be refused."""
    import numpy as np

    from movierec.models.ease import EASE

    limit = EASE().max_items if limit is None else limit
    inter, threshold = ds.interactions, threshold_for(ds, threshold)
    active = int(np.unique(inter.items[inter.ratings >= threshold]).size)
    if active <= limit:
        return "ease"
    say("note", f"{active:,} movies have ratings ≥ {threshold:g}, above ease's max_items ({limit:,}): "
        "the list comes from itemknn (choose with --model)")  # fmt: skip
    return "itemknn"


def _data_movie(ds: Any, movie: str | None, movie_id: str | None, said: str = "") -> int:
    """``similar``'s movie in ``ds`` by raw id or by title: its dense index, or the error that says why not
    (``said``, '--movie: ' where the title came by that option, before it)."""
    if movie_id is not None:
        found = ds.interactions.item_map.get(movie_id)
        if found is None:
            movies = _DataMovies(ds)
            _refuse_unrated(movies, movie_id)
            # "(it has no ratings)" read as if 'abc' or 999999 were a movie of the data nobody rated
            raise UnknownIdError(_unknown_movie(movies, movie_id))
        return int(found)
    movies = _DataMovies(ds)
    return _movie_index(movies, str(movie), said, id_hint="--movie-id", id_form="--movie-id {}")  # as --rated


SIMILAR_BY = typer.Option(
    None,
    "--by",
    help="lift: the movies liked together with this one more often than chance says (the default, and an "
    "artifact's where it holds one); model: the model's own similarity (the default with --model).",
    show_default=False,
)


@ratings_options
def similar_cmd(
    ctx: typer.Context,
    title: str | None = typer.Argument(
        None,
        metavar="TITLE",
        help='Part of a title, as --movie gives it: movierec similar "Toy Story".',
        show_default=False,
    ),
    movie: str | None = typer.Option(None, "--movie", help="Part of a title (case- and accent-insensitive)."),
    movie_id: str | None = typer.Option(None, "--movie-id", help="Raw movieId instead of a title."),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="A model with item vectors, neighbour lists or item weights (ease, itemknn, svd, als, bpr…): "
        "its own notion of alike. Default: itemknn with lift similarity, the movies liked together with this "
        "one more often than chance says (popular films do not crowd the list). With --artifact: the "
        "artifact's own model (another name is refused).",
        show_default=False,
    ),
    by: str | None = SIMILAR_BY,
    k: int = K_MOVIES,
    artifact: Path | None = ARTIFACT,
    params: list[str] = MODEL_PARAMS,
    item_features: str | None = ITEM_FEATURES,
    implicit_threshold: float | None = IMPLICIT_THRESHOLD,
    min_support: int | None = MIN_SUPPORT,
    seed: int = SEED,
    as_json: bool = JSON,
    source: RatingsSource = RatingsSource(),  # --dataset, --ratings, --user-col … --rating-scale
) -> None:
    """Movies like one movie: liked together with it more often than chance says (lift), or by a model's
    own similarity (--model, --by model), shrunk by co-support.

    A title that matches nothing closely enough is never guessed: the error asks "did you mean …?".
    """
    said = "--movie: " if movie is not None else ""  # its refusals name it, as --rated's and --exclude's do
    if title is not None:
        if movie is not None:
            raise ConfigError(f"give the title once: {title!r} as TITLE or {movie!r} as --movie, not both")
        movie = title
    if (movie is None) == (movie_id is None):
        raise ConfigError('give exactly one movie: a TITLE (movierec similar "Toy Story") or --movie-id ID')
    if k < 1:
        raise ConfigError(f"-k must be ≥ 1, got {k}")
    if by not in (None, "lift", "model"):
        raise ConfigError(f"--by {by!r}: expected lift or model")
    _refuse_training_options(ctx, artifact, params, item_features, model)
    if artifact is not None:
        from movierec.serving.artifact import load_artifact

        art = load_artifact(artifact)
        idx = _artifact_movie(art, movie, movie_id, said)
        try:
            by = art.similar_by(by)
        except ConfigError as exc:  # the artifact's words are the API's (by=model): say the CLI's
            raise ConfigError(str(exc).replace("by=model", "--by model")) from None
        described = (
            f"{art.model_name} (artifact {artifact})" if by == "model" else f"lift · artifact {artifact}"
        )
    else:
        ds = source.load()
        idx = _data_movie(ds, movie, movie_id, said)  # resolved before training: a misspelling costs nothing
        if by == "model" and model is None:
            raise ConfigError(
                "--by model lists by a model's own similarity: name it with --model (e.g. -m ease)"
            )
        lift = model is None  # what goes with this movie more than with others (bench/similar_study.py)
        if lift:
            model, params = "itemknn", [*similar_default_params(), *params]  # --params still override
        assert model is not None
        m, _, train = _model_and_data(model, params, source, item_features, implicit_threshold, seed, ds)
        art = _serving_view(m, ds, train, implicit_threshold, min_support)
        with_features = f" with item features {item_features}" if _uses(m, item_features) else ""
        by = by or ("lift" if lift else "model")
        if lift and m.similarity == "lift":  # the lift table with --params' k and shrink, as an artifact's
            from movierec.models.itemknn import lift_neighbours

            thr = art.implicit_threshold  # itemknn's own k neighbours were the best by lift before the
            art.defer_lift(  # co-support shrinkage and the floor: Stalker's 50 all had under 5 likes
                lambda: lift_neighbours(train, thr, k=int(m.k), shrink=float(m.shrink))
            )
            by = "lift"
        kind = f" ({m.similarity})" if lift else ""
        described = f"{m.name}{kind}{with_features} trained on {ds.name}"
        if by == "lift" and not lift:
            described = f"lift on {ds.name}"
    described += _similar_base_words(art, by)
    _note_whole_catalogue(k, art.n_items - 1, typed(ctx, "k"), "other movies")
    # how to ask for the model's own list, where the note on an empty list names it
    by_model = (
        "--by model"
        if artifact is not None
        else "-m MODEL (a rating model such as svd places every rated movie)"
    )
    _print_similar(art, int(idx), k, min_support, (by, by), described, as_json, by_model)


def _similar_base_words(art: Any, by: str | None) -> str:
    """' · by its ease base' for an ensemble's own 'similar', which is its heaviest base's with a similarity
    (a sum of unrelated scales would mean nothing): the title named the ensemble over ease's list, the
    same movies and numbers as ``similar -m ease``. Empty for every other list."""
    label = getattr(getattr(art, "scorer", None), "similar_label", None)
    said = label() if by == "model" and callable(label) else None
    return f" · by its {said} base" if said else ""


def _print_similar(
    art: Any,
    idx: int,
    k: int,
    min_support: int | None,
    by: tuple[str, str],
    described: str,
    as_json: bool,
    by_model: str,
) -> None:
    """``similar``'s output: the list (JSON or a table titled by ``described``), or the note saying why
    it is empty (``by``: what the list is called, lift or model, and what the artifact reads it by;
    ``by_model``: how this command asks for the model's own list)."""
    target = art.named(idx)
    raw = art.item_map.to_raw(idx)
    try:
        rows = art.similar_rows(raw, k, min_support=min_support, by=by[1])
    except ConfigError as exc:  # the artifact speaks the API's by=lift; this command's option is --by lift
        raise ConfigError(re.sub(r"\bby=(lift|model)\b", r"--by \1", str(exc))) from None
    note = art.similar_empty_reason(raw, min_support, "--min-support 0", by=by[0]) if not rows else None
    note = note and note.replace("by=model", by_model)
    thin = art.similar_thin_note(raw, by=by[1]) if rows else None  # a list resting on one or two people
    if as_json:
        # the id beside the title: a script joins on ids, and a shop's titles need not be unique.
        # ``movie`` is the title as every title field names it, 'movieId tt0100003' on data without titles,
        # as its rows' ``title``, the heading, the API and ``recommend --json``'s ``because`` say it (it
        # was the bare id, 'tt0100003', a second spelling of ``movieId`` in a field that names the movie)
        head = {"movie": art.movie_row(idx)["title"], "movieId": raw, "by": by[0]}
        said = note or thin
        print_json({**head, "similar": rows, **({"note": said} if said else {})})
        return
    if note:  # an empty table would say nothing
        say("note", note)
        return
    if thin:
        say("note", thin)
    floor = art.min_support if min_support is None else min_support
    counted = art.counted
    from movierec.display import similarity_meaning

    columns = [("#", "right"), ("movieId", "right"), ("title", "left"), ("similarity", "right")]
    columns.append((counted.replace(" of ", "\nof ", 1), "right"))
    digits = score_decimals([r["score"] for r in rows])
    cells = [
        [str(n), str(r["movieId"]), str(r["title"]), f"{r['score']:.{digits}f}", str(r["ratings"])]
        for n, r in enumerate(rows, 1)
    ]
    table = list_table(
        columns,
        cells,
        title_column=2,
        title=f"movies like {target} · {described} · {_floor_text(floor, counted)}",
        title_justify="left",
        # lift is a ratio to chance; ease's 0.0067 a regression weight, svd's a cosine; data without
        # ratings: movies are chosen together (watched, bought), not liked or rated
        caption="similarity: " + similarity_meaning(by[0], interactions_only=counted == "interactions"),
        caption_justify="left",
    )
    print_table(table)


def register(app: typer.Typer) -> None:
    app.command("compare")(compare_cmd)
    app.command("recommend")(recommend_cmd)
    app.command("similar")(similar_cmd)
