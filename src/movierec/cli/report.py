"""``movierec report`` (the main job: one self-contained HTML report) and ``movierec embed`` (one item map)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import typer

# dup-ok: the option declarations and helpers every command shares, imported from cli.common (alike lists of
# names are the sharing itself, not copied code)
from movierec.cli.common import (
    CONFIG,
    IMPLICIT_THRESHOLD,
    ITEM_FEATURES,
    MODEL_PARAMS,
    SEED,
    USER_FEATURES,
    RatingsSource,
    check_test_size_option,
    console,
    err_console,
    file_unless_typed,
    holdout_size_option,
    ratings_options,
    threshold_for,
    typed,
)
from movierec.errors import ConfigError, in_cli


def _sample(text: str, option: str = "--sample") -> int | None:
    """A map's item count as typed (``option``: embed's ``--sample``, report's ``--map-items``); ``None``: all."""
    t = text.strip().lower()
    if t == "all":
        return None
    try:
        n = int(t)
    except ValueError:
        raise ConfigError(f"{option} {text!r}: give a number of items or 'all'") from None
    if n < 3:
        raise ConfigError(f"{option} {n}: a map needs at least 3 items")
    return n


def _config_specs(config: Path, params: list[str] | None) -> tuple[list, dict]:
    """Report specs and settings from an experiment file; ``--params MODEL.KEY=VALUE`` override its params."""
    from movierec.cli.common import parse_model_params, say
    from movierec.experiment import cutoff_notes, load_experiment
    from movierec.models.registry import merge_params
    from movierec.viz.report import ModelSpec

    exp = load_experiment(config)  # mistakes name the file, line and key
    _refuse_unreportable(exp, config)
    for note in cutoff_notes(config):  # early_stopping = "ndcg": read as ndcg@10, as compare says
        say("note", note)
    features = ",".join(exp.item_features) or None
    keys = list(
        dict.fromkeys([m.name for m in exp.models] + [m.label.lower() for m in exp.models if m.label])
    )
    override = parse_model_params(params, keys) if params else {}  # MODEL or LABEL .KEY=VALUE
    specs = [
        ModelSpec(
            m.name,
            merge_params(
                m.name, m.params, {**override.get(m.name, {}), **override.get((m.label or "").lower(), {})}
            ),
            None,
            m.label,
        )
        for m in exp.models
    ]
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"{config}: the report trains each model once; {labels} repeats one")
    settings = {
        "dataset": exp.dataset,
        "seed": exp.seed,
        "k": exp.k,
        "threshold": exp.threshold,
        # applied as --item-features is: to the models that take them, the others named in a note
        "item_features": features,
        "user_features": exp.user_features,  # tune's best.toml records them; --user-features typed wins
        "split": exp.split.kind,
        "test_size": exp.split.test_size,
        # the model table on the file's protocols (when it names them), with or without the beyond-accuracy
        # metrics and section, with compare's AUC column when asked: the rows compare --config prints
        "protocols": _file_protocols(exp, config),
        "beyond": exp.beyond is not False,  # unset: the report's own section, as before
        "auc": bool(exp.auc),
        # stops the models that can stop, as compare --config does (the chart shows each stopping run)
        "early_stopping": None if exp.early_stopping is None else exp.early_stopping.model_dump(),
        # a split made elsewhere ([split] train/test): the report reads the files (_report_data)
        "experiment": exp if exp.split.files() else None,
    }
    return specs, settings


def _refuse_unreportable(exp: Any, config: Path) -> None:
    """One line naming the file, line and key for what an experiment file asks and the report cannot
    draw (it was ignored before): k folds (``cv``), a re-ranker (``rerank``: the curves, beyond-accuracy
    lists and maps rank by each model's own scores), a protocol outside the model table's three. Each
    says to run compare instead."""
    from movierec.experiment import key_location

    def refuse(key: str, text: str) -> None:
        raise ConfigError(f"{key_location(config, key)}: {text}")

    run = f"run compare --config {config}"
    if exp.cv is not None:  # k folds give k test sets; the report's charts, curves and maps draw one
        refuse("cv", f"the report draws one split's tables and charts, not {exp.cv} folds; remove cv to report "
               f"on the file's [split], or {run} for the k-fold figures")  # fmt: skip
    if exp.rerank is not None:
        refuse("rerank", "the report's curves, beyond-accuracy lists and maps rank by each model's own scores; "
               f"remove rerank to report on them, or {run} for the {exp.rerank} figures")  # fmt: skip
    if "protocols" not in exp.model_fields_set:
        return
    other = ", ".join(p for p in exp.protocols if p not in ("rating", "full-ranking", "test-candidates"))
    if other:
        refuse("protocols", "the report's model table is on rating, full-ranking and test-candidates; remove "
               f"{other} to report on the rest, or {run} for the {other} figures")  # fmt: skip


def _file_protocols(exp: Any, config: Path) -> list[str] | None:
    """The model table's protocols from the file (None: unset, the report's three). Without full-ranking
    (tune's best.toml of a rating model says ["rating"]) full-ranking is added, said in a note naming the
    line: the curves, charts and maps rank every movie."""
    from movierec.cli.common import say
    from movierec.experiment import key_location

    if "protocols" not in exp.model_fields_set:
        return None
    if "full-ranking" not in exp.protocols:
        say("note", f"{key_location(config, 'protocols')}: the report adds full-ranking to "
            f"{', '.join(exp.protocols)}: its curves, charts and maps rank every movie")  # fmt: skip
        return [*exp.protocols, "full-ranking"]
    return list(exp.protocols)


_PROJECTION = typer.Option("tsne", "--projection", help="Embedding projection: tsne, umap or pca.")
_SPLIT = typer.Option(
    "auto",
    "--split",
    help="The split every table and chart is on: auto (ratings-holdout; interactions-holdout when every "
    "model is implicit), ratings-holdout, interactions-holdout, per-user, temporal, or a canonical split: "
    "ml100k-u1 … ml100k-u5, ml100k-ua, ml100k-ub, ml1m-90-10. With --config: the file's \\[split].",
)
_TEST_SIZE = holdout_size_option(
    0.2,
    "Part held out for testing: a fraction of the ratings (0.2), or a number of them (1000); per-user takes "
    "a fraction only. With --config: typed, it wins over the file's \\[split] test_size.",
)


@ratings_options
def report_cmd(
    ctx: typer.Context,
    source: RatingsSource = RatingsSource(),  # --dataset, --ratings, --user-col … --rating-scale
    models: str | None = typer.Option(
        None,
        "--models",
        "-m",
        help="Comma-separated models; NAME+genres+tags gives one model item features (--item-features: every "
        "model that uses them). Default: svd,knn-baseline,bpr,ease,als,warp+genres+tags.",
    ),
    params: list[str] = MODEL_PARAMS,
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output folder (default reports/<UTC timestamp>)."
    ),
    projection: str = _PROJECTION,
    seed: int = SEED,
    force: bool = typer.Option(False, "--force", help="Replace a different report already in --out."),
    k: int = typer.Option(10, "--k", "-k", help="Cut-off K of the ranking metrics."),
    threshold: float | None = IMPLICIT_THRESHOLD,
    map_items: str = typer.Option(
        "1500", "--map-items", help="Items per embedding map (the most-rated), or 'all'."
    ),
    png_maps: bool = typer.Option(
        False, "--png-maps", help="Also draw each embedding map as a labelled PNG (adds ~0.3 MB per map)."
    ),
    config: Path | None = CONFIG,
    user_features: str | None = USER_FEATURES,
    item_features: str | None = ITEM_FEATURES,
    split: str = _SPLIT,
    test_size: float = _TEST_SIZE,
) -> None:
    """Train the notebook's models and the strongest implicit ones, compare them, map their item spaces, write one HTML page."""
    from movierec.viz.report import build_report, check_installed

    if config is not None and models is not None:
        raise ConfigError("--models and --config exclude each other: the experiment file names the models")
    if config is not None and item_features:
        raise ConfigError(
            "--item-features and --config exclude each other: the experiment file names its item features"
        )
    if config is not None and typed(ctx, "split"):  # as compare: the file's [split] is the experiment's
        raise ConfigError(
            f"--split and --config exclude each other: the experiment file sets it (edit {config.name})"
        )
    specs, settings = _report_specs(config, models, params)
    run: dict[str, Any] = {"seed": seed, "k": k, "threshold": threshold, "test_size": test_size}
    why = ""
    if config is not None:  # the experiment file's settings, unless typed on the command line
        if not typed(ctx, "dataset") and source.ratings is None:
            source = RatingsSource.of_config(settings["dataset"], source.rating_scale).with_typed_columns(
                ctx, source
            )
        run = file_unless_typed(ctx, run, settings)
        item_features = settings["item_features"]
        user_features = user_features if typed(ctx, "user_features") else settings["user_features"]
        split, why = settings["split"], f"; {config.name} sets that split"
    maps = _sample(map_items, "--map-items")  # a bad --map-items: before the data loads
    check_installed(specs, projection.strip().lower())  # every module missing here in one line, one install
    ds, split = _report_data(ctx, source, settings, split, run["test_size"], why)
    run["threshold"] = threshold_for(ds, run["threshold"])  # on data without ratings its one value, said
    rep = build_report(
        ds,
        specs,
        out,
        **run,
        projection=projection.strip().lower(),
        force=force,
        map_items=maps,
        png_maps=png_maps,
        console=err_console,
        user_features=user_features,
        item_features=item_features,
        split=split,
        protocols=settings.get("protocols"),
        beyond=settings.get("beyond", True),
        auc=settings.get("auc", False),
        early_stopping=settings.get("early_stopping"),
        params=settings.get("params"),
    )
    _print_report(rep)


def _report_data(
    ctx: typer.Context,
    source: RatingsSource,
    settings: dict[str, Any],
    split: str,
    test_size: float,
    why: str,
) -> tuple[Any, Any]:
    """The report's dataset and split: by name (checked before the data loads), or with an experiment
    file's ``[split] train``/``test`` the files' one dataset and their ``(train, [valid,] test, about)``, the
    files' notes (a cold test user, duplicates dropped) among the dataset's. The files are the data: a
    typed ``--dataset``, ``--ratings`` or ``--test-size`` beside them is one line."""
    from movierec.viz.report import check_split

    exp = settings.get("experiment")
    if exp is None:
        check_test_size_option(test_size, split, why=why)  # a count for per-user, in the option's words
        check_split(split, test_size)  # an unknown split: before the data loads
        return source.load(), split
    from dataclasses import replace as replaced

    from movierec.experiment import experiment_data
    from movierec.progress import status as step_status

    typed_flag = next(
        (flag for name, flag in (("dataset", "--dataset"), ("ratings", "--ratings"), ("test_size", "--test-size"))
         if typed(ctx, name)), None,
    )  # fmt: skip
    if typed_flag is not None:
        raise ConfigError(  # one line of <= 160 columns (it was 198 for --test-size)
            f"{typed_flag} and the experiment's [split] train/test exclude each other: the files are the "
            "data, already split (a [dataset] name gives titles)"
        )
    from movierec.cli.common import say

    with step_status(err_console, f"loading {exp.split.train} and {exp.split.test}", after=5.0):
        ds, pair, notes = experiment_data(exp)
    for note in ds.notes:  # as compare --train --test says each file's notes when it loads them
        say("note", " ".join(in_cli(note).split()))
    return replaced(ds, notes=[*ds.notes, *notes]), pair


@ratings_options
def embed_cmd(
    model: str = typer.Option(
        "warp",
        "--model",
        "-m",
        help="A model with item vectors (svd, als, ials, bpr, warp, mult-vae, sasrec…); NAME+genres+tags "
        "adds features.",
    ),
    item_features: str | None = ITEM_FEATURES,
    params: list[str] = MODEL_PARAMS,
    projection: str = _PROJECTION,
    sample: str = typer.Option("500", "--sample", help="Number of items drawn at random (seeded), or 'all'."),
    out: Path = typer.Option(Path("embedding"), "--out", "-o", help="Output folder."),
    source: RatingsSource = RatingsSource(),  # --dataset, --ratings, --user-col … --rating-scale
    seed: int = SEED,
    force: bool = typer.Option(False, "--force", help="Replace what is already in --out."),
) -> None:
    """Fit one model on the whole dataset and write its interactive item map (map.html), map.png,
    embeddings.csv, neighbours.json and results.json."""
    from movierec.cli.common import parse_model_params
    from movierec.features import canonical_names
    from movierec.viz.report import build_map, check_mappable, parse_models

    parts = [p.strip() for p in model.split(",") if p.strip()]
    if len(parts) > 1:  # parse_models reads a comma list as the report's --models, and would name that flag
        raise ConfigError(
            f"--model {model!r} names {len(parts)} models where one goes: embed draws one map, so run it once "
            f"per model ({' and '.join(repr(p) for p in parts)}) with its own --out"
        )
    spec = parse_models([model])[0]  # the report's own reading of NAME+feature
    if item_features:  # the same as NAME+feature+feature, the form every other command's option takes
        given = canonical_names(item_features)
        if spec.features not in (None, given):
            raise ConfigError(
                f"--model {model!r} and --item-features {item_features!r} name different features"
            )
        spec = replace(spec, features=given)
    base = spec.name
    pm = parse_model_params(params, [base], option="--model").get(base, {})
    # a model without item vectors: one line before the data loads and it fits
    check_mappable(spec.label, _data_flags(source))
    ds = source.load()
    build_map(
        ds,
        spec.label,
        out,
        params=pm,
        projection=projection.strip().lower(),
        sample=_sample(sample),
        seed=seed,
        force=force,
        console=err_console,
    )


def _data_flags(source: RatingsSource) -> str:
    """The options that name ``source``'s data in a command embed's refusal prints ('movierec similar TITLE
    --model ease --dataset ml-100k'), as :func:`movierec.viz.report.data_flags` writes a loaded dataset's."""
    from movierec.viz.report import data_flags

    if source.ratings is None:
        return data_flags(source.dataset)
    given: dict[str, Any] = {"header": source.header, "delimiter": source.sep, "encoding": source.encoding}
    given["movies"] = None if source.movies is None else str(source.movies)
    options = {k: v for k, v in given.items() if v is not None}  # None: not typed
    columns = (("user_col", "userId"), ("item_col", "movieId"), ("rating_col", "rating"), ("time_col", None))
    for key, default in columns:
        value = getattr(source, key)
        if value != default:
            options[key] = value or None  # '': no such column, as load_options records it
    return data_flags(str(source.ratings), options, file=True)


def _report_specs(
    config: Path | None, models: str | None, params: list[str] | None
) -> tuple[Any, dict[str, Any]]:
    """The report's model specs (None: the defaults) and, with ``--config``, the experiment's settings.
    ``--params`` without ``--models`` are checked against the default models' names and go to build_report
    with the specs left None (settings' ``params``), so the defaults are still chosen for the data: the
    default list spelled out here trained warp+genres+tags on a ratings file with no movies file (refused
    at its features), and rating models on data without ratings."""
    from movierec.cli.common import parse_model_params
    from movierec.viz.report import DEFAULT_MODELS, parse_models

    if config is not None:
        return _config_specs(config, params)
    text = models or DEFAULT_MODELS
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    if models is None and not params:
        return None, {}
    pm = parse_model_params(params, list(dict.fromkeys(names + [n.split("+")[0] for n in names])))
    if models is None:
        return None, {"params": pm}
    return parse_models(text, pm), {}


def register(app: typer.Typer) -> None:
    """Add the ``report`` and ``embed`` commands to the app."""
    app.command("report")(report_cmd)
    app.command("embed")(embed_cmd)


_CAPTION = ("dataset", "dataset_sha256", "split", "k", "threshold", "seed")


def _slice_note(note: str) -> str:
    """The report's validation-slice note cut to what a reader of the terminal needs: the models trained
    on a little less than ``compare`` does on the same split, so the figures differ a little."""
    import re

    found = re.search(r"without ([\d,]+) training interactions of ([\d,]+) sampled users", note)
    held = f"{found.group(1)} training interactions of {found.group(2)} users" if found else "a slice"
    return (
        f"note: every model trained without {held} (the validation slice of the training curves), "
        "so these figures differ a little from compare's on the same split"
    )


def _print_report(rep: Any) -> None:
    """The report's model table as one table per protocol within the terminal's width, then its summary."""
    from types import SimpleNamespace

    from rich.markup import escape

    from movierec.beyond import is_beyond
    from movierec.evaluation import STOPPING_NOTE, Comparison
    from movierec.tables import Rstripped, caption, comparison_tables, print_caption, print_lines
    from movierec.viz.report import print_summary

    view = SimpleNamespace(rows=list(rep.comparison or []), protocols=[])  # the rows' own protocol order
    view.winners = lambda: Comparison.winners(view)  # type: ignore[arg-type]
    view.protocol_order = lambda: Comparison.protocol_order(view)  # type: ignore[arg-type]
    tables, notes = comparison_tables(
        view, console.width, keep=lambda m: not m.startswith("novelty") and not is_beyond(m)
    )
    if view.rows:  # compare's provenance line, and why the report's figures differ a little from compare's
        first = view.rows[0]
        said = {f: getattr(first, f) for f in _CAPTION}  # and the user features, which no row records
        print_caption(console, caption(SimpleNamespace(**said, user_features=rep.user_features)))
        held = next((n for n in rep.notes if n.startswith("validation slice:")), None)
        if held is not None:
            print_lines(console, f"[dim]{_slice_note(held)}[/]")
    # as compare prints them: no line ends in spaces (piped, the interval rows and wrapped notes did)
    for table in tables:
        console.print()
        console.print(Rstripped(table, console.width))
    for note in notes:
        print_lines(console, f"[dim]{note}[/]")
    # with [early_stopping], the best epochs and the refit, as compare's note says them (the page says it too)
    stopped = next((n for n in rep.notes if n.startswith(STOPPING_NOTE)), None)
    if stopped is not None:
        print_lines(console, f"[dim]note: {escape(stopped)}[/]")
    print_summary(console, rep, table=False)
