"""``movierec export`` (train and write an artifact folder) and ``movierec serve`` (the HTTP API and web page)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer

from movierec.cli.common import (
    CONFIG,
    DATASET,
    ITEM_COL,
    JSON,
    RATING_COL,
    RATING_SCALE,
    RATINGS,
    SEED,
    TIME_COL,
    USER_COL,
    USER_FEATURES,
    console,
    err_console,
    load_dataset,
    pick_config_model,
    print_json,
    typed,
)
from movierec.errors import ConfigError
from movierec.output_folders import check_artifact_target


def parse_params(items: list[str] | None, model: str | None = None) -> dict[str, Any]:
    """``["n_factors=40", "svd.lr=0.01,reg=0.05"]`` → dict; values parsed as JSON when they can be (numbers, true, null).

    The one ``--params`` syntax of every command, ``[MODEL.]KEY=VALUE``: with ``model`` given the
    ``MODEL.`` prefix may be written and must name it (movierec.cli.compare.parse_model_params).
    """
    if model is not None:
        from movierec.cli.compare import parse_model_params

        name = model.strip().lower()
        return parse_model_params(items, [name])[name]
    out: dict[str, Any] = {}
    for item in items or []:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            if "=" not in part:
                raise ConfigError(f"--params {part!r}: expected key=value")
            key, value = part.split("=", 1)
            key = key.strip().replace("-", "_")
            if not key:
                raise ConfigError(f"--params {part!r}: empty parameter name")
            try:
                out[key] = json.loads(value)
            except json.JSONDecodeError:
                out[key] = value
    return out


def export_cmd(
    ctx: typer.Context,
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Registered model name, e.g. svd, als, itemknn "
        "(with --config: which of the file's models, when it holds several).",
    ),
    params: list[str] = typer.Option(
        [],
        "--params",
        "-p",
        help="Hyperparameters [MODEL.]KEY=VALUE (repeat, or comma-separate), e.g. factors=100.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Artifact folder to write."),
    force: bool = typer.Option(False, "--force", help="Replace an existing artifact folder."),
    holdout: bool = typer.Option(
        False, "--holdout", help="Train on 80% and record test metrics in the manifest."
    ),
    test_size: float = typer.Option(0.2, "--test-size", help="Test share with --holdout."),
    item_features: str | None = typer.Option(
        None, "--item-features", help="Side features for hybrid models: genres,tags,year."
    ),
    user_features: str | None = USER_FEATURES,
    implicit_threshold: float = typer.Option(
        4.0, "--implicit-threshold", help="Ratings ≥ this are positives for implicit models."
    ),
    with_feedback: str | None = typer.Option(
        None, "--with-feedback", help="Include ratings from a feedback database."
    ),
    dataset: str = DATASET,
    ratings: Path | None = RATINGS,
    user_col: str = USER_COL,
    item_col: str = ITEM_COL,
    rating_col: str = RATING_COL,
    time_col: str = TIME_COL,
    rating_scale: tuple[float, float] | None = RATING_SCALE,
    check: bool = typer.Option(
        True,
        "--check/--no-check",
        help="Rank a copy of the model and popularity on a hold-out split first; record both in the manifest.",
    ),
    allow_weak: bool = typer.Option(
        False,
        "--allow-weak",
        help="Export a ranking model even when its hold-out top-N is below popularity's.",
    ),
    min_support: int | None = typer.Option(
        None,
        "--min-support",
        help="Fewest training interactions a movie needs to be served (default: 5, less on small data); "
        "recorded in the manifest.",
    ),
    seed: int = SEED,
    config: Path | None = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Train a model on the whole dataset (implicit models on the positives) and export it for serving."""
    from movierec.models.base import seeded, training_view
    from movierec.models.registry import create, merge_params
    from movierec.serving.artifact import export_artifact, exportable

    hp: dict[str, Any] = {}
    if config is not None:
        from movierec.experiment import load_experiment

        exp = load_experiment(config)  # mistakes name the file, line and key
        chosen = pick_config_model(exp, model, config)
        model, hp = chosen.name, dict(chosen.params)
        if not typed(ctx, "dataset") and ratings is None:
            dataset = exp.dataset.name
            rating_scale = rating_scale or exp.dataset.rating_scale
        seed = seed if typed(ctx, "seed") else exp.seed
        test_size = test_size if typed(ctx, "test_size") else exp.split.test_size
        implicit_threshold = implicit_threshold if typed(ctx, "implicit_threshold") else exp.threshold
        if item_features is None and exp.item_features:
            item_features = ",".join(exp.item_features)
    elif model is None:
        raise ConfigError("--model is required (a registered model name), or --config EXPERIMENT.toml")
    hp = merge_params(
        model, hp, parse_params(params, str(model))
    )  # --params on the command line override the file's
    check_artifact_target(out, force)  # before training: unwritable or foreign --out is one line, exit 2
    exportable(create(model, **hp))  # a model with no serving form is refused before any training
    ds = load_dataset(dataset, ratings, user_col, item_col, rating_col, time_col, rating_scale)
    if with_feedback:
        from movierec.serving.store import merge_feedback

        n_notes = len(ds.notes)
        ds = merge_feedback(ds, with_feedback)
        for note in ds.notes[n_notes:]:
            err_console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    mdl = create(model, **hp)
    seeded(mdl, seed, hp)
    inter = training_view(mdl, ds.interactions, implicit_threshold)
    fit_kwargs: dict[str, Any] = {}
    if item_features:
        from movierec.features import build_item_features

        fit_kwargs["item_features"] = build_item_features(ds, inter.item_map, item_features)
    if user_features:  # issue 20: the exported artifact then serves visitors by their features
        from movierec.demographics import build_user_features

        if getattr(mdl, "uses_user_features", False):
            fit_kwargs["user_features"] = build_user_features(ds, inter.user_map, user_features)
        else:
            err_console.print(f"[yellow]note:[/] {model} ignores user features")
    metrics = None
    if holdout:  # compare's split of the raw ratings, so the manifest's figures equal compare's row
        from movierec.evaluation import holdout_figures, make_split

        raw_train, test, _ = make_split(ds.interactions, "ratings-holdout", seed=seed, test_size=test_size)
        train = training_view(mdl, raw_train, implicit_threshold)
    else:
        raw_train, train, test = inter, inter, None
    _warn_if_too_little(str(model), train)
    with err_console.status(f"training {model} on {train.n_ratings:,} interactions"):
        mdl.fit(train, **fit_kwargs)
    if test is not None:
        metrics = holdout_figures(mdl, raw_train, test, threshold=implicit_threshold, seed=seed)
    metrics, weak_note = _top_n_check(
        mdl, ds, fit_kwargs, metrics, check=check, allow_weak=allow_weak, threshold=implicit_threshold,
        seed=seed, test_size=test_size,
    )  # fmt: skip
    notes = [f"trained on {'an 80% hold-out split' if holdout else 'the full dataset'}"]
    if weak_note:
        notes.append(weak_note)
    if item_features:
        notes.append(f"item features: {item_features}")
    if "user_features" in fit_kwargs:
        notes.append(f"user features: {user_features}")
    path = export_artifact(
        mdl, ds, train, out, metrics=metrics, force=force, implicit_threshold=implicit_threshold, notes=notes,
        min_support=min_support,
    )  # fmt: skip
    manifest = json.loads((path / "manifest.json").read_text())
    if as_json:
        print_json(
            {
                "artifact": str(path),
                "model_version": manifest["model_version"],
                "metrics": manifest["metrics"],
            }
        )
        return
    console.print(
        f"[green]ok[/] {model} exported to {path} (version {manifest['model_version']}, "
        f"{manifest['dataset']['n_users']:,} users × {manifest['dataset']['n_items']:,} items)"
    )
    if metrics:
        shown = {k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)}
        console.print(f"test metrics: {shown}")


def _top_n_check(
    mdl: Any,
    ds: Any,
    fit_kwargs: dict[str, Any],
    metrics: dict[str, Any] | None,
    *,
    check: bool,
    allow_weak: bool,
    threshold: float,
    seed: int,
    test_size: float,
) -> tuple[dict[str, Any] | None, str | None]:
    """The hold-out check (movierec.serving.quality): figures for the manifest, a refusal or a warning."""
    from movierec.serving.quality import WeakModelError, ranking_check, weak_message

    if not check:
        return metrics, None
    with err_console.status(f"checking {mdl.name}'s top-N against popularity on a hold-out split"):
        result = ranking_check(
            mdl, ds, fit_kwargs, threshold=threshold, seed=seed, test_size=test_size, figures=metrics
        )
    if "skipped" in result:
        err_console.print(f"[yellow]note:[/] hold-out check skipped: {result['skipped']}", soft_wrap=True)
        return metrics, None
    out = dict(result["figures"])
    out["popularity"] = {k: v for k, v in result["popularity_figures"].items() if isinstance(v, float)}
    out["weak_for_top_n"] = result["weak"]
    if not result["weak"]:
        return out, None
    line = weak_message(mdl.name, result)
    if not mdl.tags.predicts_ratings and not allow_weak:
        raise WeakModelError(f"{line}; not exported (pass --allow-weak to export it anyway)")
    err_console.print(f"[yellow]warning:[/] {line}", soft_wrap=True)
    return out, f"weak for top-N: {line}"


def serve_cmd(
    ctx: typer.Context,
    artifact: list[Path] = typer.Option(
        ...,
        "--artifact",
        "-a",
        help="Artifact folder written by 'movierec export'. Repeat to serve several versions side by side.",
    ),
    weights: str | None = typer.Option(
        None,
        "--weights",
        help="Traffic split over several --artifact, e.g. 90,10 (by a hash of the user id; default equal).",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (default: loopback only)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    db: str = typer.Option(
        "sqlite:///feedback.db",
        "--db",
        help="Feedback database URL (or a SQLite file path); 'none' disables POST /feedback.",
    ),
    workers: int = typer.Option(1, "--workers", help="Worker processes."),
    api_key: str | None = typer.Option(
        None,
        "--api-key",
        envvar="MOVIEREC_API_KEY",
        help="Key POST /feedback requires (X-API-Key header). Prefer MOVIEREC_API_KEY or --api-key-file: "
        "a key on the command line is visible to other users in 'ps'.",
    ),
    api_key_file: Path | None = typer.Option(
        None, "--api-key-file", help="Read the API key from this file (first line)."
    ),
    cors_origin: list[str] = typer.Option(
        [], "--cors-origin", help="Allow this browser origin (repeatable); CORS is off by default."
    ),
    max_body_kb: int = typer.Option(
        64, "--max-body-kb", help="Refuse request bodies larger than this (413)."
    ),
    rec_cache: int = typer.Option(
        10_000,
        "--rec-cache",
        help="Cached GET /users/{id}/recommendations bodies per worker, k ≤ 50 (0: off).",
    ),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="Log every request."),
    log_json: bool = typer.Option(
        False, "--log-json", help="Structured access logs: one JSON object per request on stderr."
    ),
    metrics: bool = typer.Option(True, "--metrics/--no-metrics", help="Prometheus metrics at /metrics."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve an artifact over HTTP: JSON API (docs at /docs), the web page at /, feedback into a database."""
    import uvicorn

    from movierec.serving.app import ServeSettings
    from movierec.serving.dispatch import parse_weights
    from movierec.serving.server import build_server, install_sighup
    from movierec.serving.store import FeedbackStore, normalise_url

    if workers < 1:
        raise ConfigError(f"--workers must be ≥ 1, got {workers}")
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be 1..65535, got {port}")
    if max_body_kb < 1:
        raise ConfigError(f"--max-body-kb must be ≥ 1, got {max_body_kb}")
    if rec_cache < 0:
        raise ConfigError(f"--rec-cache must be ≥ 0, got {rec_cache}")
    api_key = _api_key(ctx, api_key, api_key_file)
    parse_weights(weights, len(artifact))  # a bad --weights is refused before anything loads
    db_url = None if db.strip().lower() in ("", "none") else normalise_url(db)
    store = FeedbackStore(db_url) if db_url else None
    settings = ServeSettings(
        api_key=api_key or None,
        max_body_bytes=max_body_kb * 1024,
        cors_origins=tuple(cors_origin),
        rec_cache_size=rec_cache,
    )
    # every artifact is loaded and verified here, before the port is bound: a bad one never serves
    asgi, router = build_server(
        artifact, store, settings, weights=weights, metrics=metrics, json_log=log_json
    )
    if host not in ("127.0.0.1", "localhost", "::1") and not api_key:
        err_console.print(
            f"[yellow]warning:[/] binding {host} without --api-key: anyone who can reach it may POST /feedback"
        )
    err_console.print(
        f"serving {router.describe()} on http://{host}:{port} "
        f"· docs /docs · metrics {'/metrics' if metrics else 'off'} · feedback {'off' if store is None else db_url}"
        f" · reload: kill -HUP {os.getpid()}" + (" or POST /admin/reload" if api_key else "")
    )
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": access_log,
        "server_header": False,
    }
    if workers == 1:
        install_sighup(router)
        uvicorn.run(asgi, **common)
        return
    if store is not None:
        store.close()
    os.environ.update(
        {
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",  # set before workers import numpy
            "MOVIEREC_ARTIFACTS": os.pathsep.join(str(Path(a).expanduser().absolute()) for a in artifact),
            "MOVIEREC_WEIGHTS": weights or "",
            "MOVIEREC_METRICS": "1" if metrics else "0",
            "MOVIEREC_LOG_JSON": "1" if log_json else "0",
            "MOVIEREC_DB": db_url or "",
            "MOVIEREC_API_KEY": api_key or "",
            "MOVIEREC_MAX_BODY_BYTES": str(settings.max_body_bytes),
            "MOVIEREC_CORS_ORIGINS": ",".join(cors_origin),
            "MOVIEREC_REC_CACHE": str(rec_cache),
        }
    )
    uvicorn.run("movierec.serving.server:server_from_env", factory=True, workers=workers, **common)


def _api_key(ctx: typer.Context, api_key: str | None, api_key_file: Path | None) -> str | None:
    """The API key from ``--api-key-file``, the environment or ``--api-key`` (which warns: ``ps`` shows it)."""
    source = ctx.get_parameter_source("api_key")
    on_command_line = source is not None and source.name == "COMMANDLINE"
    if api_key_file is not None:
        if on_command_line:
            raise ConfigError("give the API key once: --api-key-file or --api-key, not both")
        try:
            lines = api_key_file.expanduser().read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--api-key-file {api_key_file}: cannot read it ({exc})") from exc
        key = lines[0].strip() if lines else ""
        if not key:
            raise ConfigError(f"--api-key-file {api_key_file}: the first line is empty")
        return key
    if api_key and on_command_line:
        err_console.print(
            "[yellow]warning:[/] --api-key on the command line is visible to other users of this machine "
            "(ps, /proc); use --api-key-file FILE or the MOVIEREC_API_KEY environment variable",
            soft_wrap=True,
        )
    return api_key or None


def _warn_if_too_little(model: str, train: Any) -> None:
    """One warning line when the training data is too small for a model to mean anything."""
    if train.n_ratings < 100 or train.n_users < 2 or train.n_items < 2:
        err_console.print(
            f"[yellow]warning:[/] training {model} on only {train.n_ratings} interactions "
            f"({train.n_users} users × {train.n_items} items): too little data for the model to learn "
            "anything beyond averages",
            soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
    app.command("serve")(serve_cmd)
