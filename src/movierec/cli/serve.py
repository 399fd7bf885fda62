"""``movierec export`` (train and write an artifact folder) and ``movierec serve`` (the HTTP API and web page)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

# dup-ok: the option declarations and helpers every command shares, imported from cli.common (alike lists of
# names are the sharing itself, not copied code)
from movierec.cli.common import (
    CONFIG,
    IMPLICIT_THRESHOLD,
    ITEM_FEATURES,
    JSON,
    MODEL_PARAMS,
    SEED,
    USER_FEATURES,
    RatingsSource,
    err_console,
    file_unless_typed,
    holdout_size_option,
    parse_params,
    pick_config_model,
    print_json,
    print_prose,
    ratings_options,
    say,
    threshold_for,
    typed,
)
from movierec.errors import ConfigError, in_cli

# dup-ok: typer option declarations (default, flags, help) alike in shape; each declares a different option
# export's longer options, named here so the command reads as parse → train_and_export() → print
_EXPORT_MODEL = typer.Option(
    None,
    "--model",
    "-m",
    help="Registered model name, e.g. svd, als, itemknn "
    "(with --config: which of the file's models, when it holds several).",
)
_EXPORT_HOLDOUT = typer.Option(
    False,
    "--holdout",
    help="Hold out --test-size of the ratings (20% by default, or a number of them), train on the rest and record the hold-out metrics in the manifest.",
)
_EXPORT_TEST_SIZE = holdout_size_option(
    0.2,
    "Ratings held out by --holdout and by the --check against popularity: a fraction (0.2), or a number "
    "of them (1000).",
)
_EXPORT_WITH_FEEDBACK = typer.Option(
    None, "--with-feedback", help="Include ratings from a feedback database."
)
_EXPORT_CHECK = typer.Option(
    True,
    "--check/--no-check",
    help="Rank a copy of the model and popularity on a hold-out split first; record both in the manifest.",
)
_EXPORT_ALLOW_WEAK = typer.Option(
    False,
    "--allow-weak",
    help="Export a ranking model even when its hold-out top-N is below popularity's.",
)
_EXPORT_MIN_SUPPORT = typer.Option(
    None,
    "--min-support",
    min=0,  # a negative floor is one line before any training
    help="Fewest training interactions a movie needs to be served (default: 5, less on small data); "
    "recorded in the manifest.",
)


@ratings_options
def export_cmd(
    ctx: typer.Context,
    model: str | None = _EXPORT_MODEL,
    params: list[str] = MODEL_PARAMS,
    out: Path = typer.Option(..., "--out", "-o", help="Artifact folder to write."),
    force: bool = typer.Option(False, "--force", help="Replace an existing artifact folder."),
    holdout: bool = _EXPORT_HOLDOUT,
    test_size: float = _EXPORT_TEST_SIZE,
    item_features: str | None = ITEM_FEATURES,
    user_features: str | None = USER_FEATURES,
    implicit_threshold: float | None = IMPLICIT_THRESHOLD,
    with_feedback: str | None = _EXPORT_WITH_FEEDBACK,
    source: RatingsSource = RatingsSource(),  # --dataset, --ratings, --user-col … --rating-scale
    check: bool = _EXPORT_CHECK,
    allow_weak: bool = _EXPORT_ALLOW_WEAK,
    min_support: int | None = _EXPORT_MIN_SUPPORT,
    seed: int = SEED,
    config: Path | None = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Train a model on the whole dataset (implicit models on the positives) and export it for serving."""

    from movierec.models.registry import merge_params
    from movierec.serving.pipeline import train_and_export, with_feedback_merged

    hp: dict[str, Any] = {}
    files: _FilesSource | None = None
    run: dict[str, Any] = {"seed": seed, "test_size": test_size, "implicit_threshold": implicit_threshold}
    if config is not None:
        from movierec.experiment import load_experiment

        exp = load_experiment(config)  # mistakes name the file, line and key
        chosen = pick_config_model(exp, model, config)
        model, hp = chosen.name, dict(chosen.params)
        files = _all_files(ctx, exp, config, holdout)  # [split] train/test: trains on every file given
        if files is None and not typed(ctx, "dataset") and source.ratings is None:
            source = RatingsSource.of_config(exp.dataset, source.rating_scale).with_typed_columns(ctx, source)
        from_file = {"seed": exp.seed, "test_size": exp.split.test_size, "implicit_threshold": exp.threshold}
        run = file_unless_typed(ctx, run, from_file)
        if item_features is None and exp.item_features:
            item_features = ",".join(exp.item_features)
        if user_features is None and exp.user_features:  # tune's best.toml records them, as item features
            user_features = exp.user_features
    elif model is None:
        raise ConfigError("--model is required (a registered model name), or --config EXPERIMENT.toml")
    hp = merge_params(model, hp, parse_params(params, str(model)))  # --params override the file's
    from movierec.progress import status as step_status

    def load() -> Any:  # on data without ratings, a note says the threshold it takes (unless typed)
        ds = (files or source).load()
        threshold_for(ds, run["implicit_threshold"])
        if with_feedback:  # merged here, so its messages name --with-feedback alone (not with_feedback=)
            ds = with_feedback_merged(ds, with_feedback, say, option="--with-feedback")
        return ds

    result = train_and_export(
        load,
        model,
        hp,
        out,
        force=force,
        holdout=holdout,
        item_features=item_features,
        user_features=user_features,
        check=check,
        allow_weak=allow_weak,
        min_support=min_support,
        **run,
        say=say,
        status=lambda text: step_status(err_console, text),  # stamped from the command's start (main)
    )
    manifest, metrics = result.manifest, result.metrics
    if as_json:
        print_json(
            {
                "artifact": str(result.path),
                "model_version": manifest["model_version"],
                "metrics": manifest["metrics"],
            }
        )
        return
    from rich.markup import escape  # the --out path and --config file are the user's: '[1]' is no style tag

    print_prose(
        f"[green]ok[/] {escape(str(model))} exported to {escape(str(result.path))} "
        f"(version {manifest['model_version']}, "
        f"{manifest['dataset']['n_users']:,} users × {manifest['dataset']['n_items']:,} items)"
    )
    if hp:  # what was trained: best.toml's tuned values (and --params over them) were nowhere on screen
        given = ", ".join(f"{k}={_param_text(v)}" for k, v in hp.items())
        print_prose(escape(f"params{f' from {config}' if config is not None else ''}: {given}"))
    if metrics:
        print_prose(metrics_line(metrics, run["test_size"], run["seed"]))


def _param_text(value: Any) -> str:
    """A hyperparameter as it would be typed in --params: floats to 6 significant digits, dicts as JSON."""
    import json

    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


class _FilesSource:
    """An experiment file's split of files as export's data: every file's rows in one dataset (the
    training, validation and test files joined), its notes said as ``--ratings`` says a file's."""

    def __init__(self, exp: Any) -> None:
        self.exp = exp

    def load(self) -> Any:
        from movierec.experiment import experiment_data
        from movierec.progress import status as step_status

        split = self.exp.split
        with step_status(err_console, f"loading {split.train} and {split.test}", after=5.0):
            ds, _, _ = experiment_data(self.exp)
        for note in ds.notes:
            say("note", " ".join(in_cli(note).split()))
        return ds


def _all_files(ctx: typer.Context, exp: Any, config: Path, holdout: bool) -> _FilesSource | None:
    """For an experiment file with ``[split] train``/``test`` (a report's best.toml on a split of files), the
    data export trains on: all the files given, joined, the test file's rows too, as export trains on a
    whole dataset; ``None`` for a named split. ``--holdout`` (a random hold-out of the joined rows) and a
    typed ``--dataset``/``--ratings`` beside the files are one line each."""
    if not exp.split.files():
        return None
    if holdout:
        raise ConfigError(  # one line of <= 160 columns for a path of 20 or so (it was 174 for exp.toml)
            "--holdout and [split] train/test exclude each other: export trains on every file; "
            f"compare --config {config} scores the test file"
        )
    for name, flag in (("dataset", "--dataset"), ("ratings", "--ratings")):
        if typed(ctx, name):
            raise ConfigError(
                f"{flag} and {config.name}'s [split] train and test exclude each other: the files are the data "
                "(a [dataset] name in the file gives their titles)"
            )
    return _FilesSource(exp)


#: (key, label, format) of the hold-out figures export prints, in this order
_SHOWN = (("rmse", "RMSE", ".3f"), ("mae", "MAE", ".3f"), ("ndcg@10", "NDCG@10", ".3f"),
          ("precision@10", "P@10", ".3f"), ("recall@10", "R@10", ".3f"), ("hit_rate@10", "HR@10", ".3f"),
          ("map@10", "MAP@10", ".3f"), ("mrr", "MRR", ".3f"), ("coverage@10", "coverage@10", ".1%"))  # fmt: skip


def metrics_line(metrics: dict[str, Any], test_size: float, seed: int) -> str:
    """export's hold-out figures as one readable line (the manifest and ``--json`` keep every key):
    which split, the metrics that are there, and popularity's NDCG@10 beside the model's. ``n_users`` counts
    the users the ranking metrics score (those with a test rating ≥ the threshold: 595 of ml-latest-small's
    610), not RMSE's, which is over every test rating: '595 users' before 'RMSE 0.854' read as RMSE's."""
    from movierec.split import held_out_words

    shown = " · ".join(f"{label} {metrics[key]:{fmt}}" for key, label, fmt in _SHOWN if key in metrics)
    users = f"; ranking over {metrics['n_users']:,} users" if "n_users" in metrics else ""
    held = (
        "each user's latest rating" if metrics.get("split") == "leave-last-out" else held_out_words(test_size)
    )
    line = f"hold-out ({held}, seed {seed}{users}): {shown}"
    pop = metrics.get("popularity")
    if isinstance(pop, dict) and "ndcg@10" in pop:
        line += f" (popularity: NDCG@10 {pop['ndcg@10']:.3f})"
    return line


# dup-ok: typer option declarations (default, flags, help) alike in shape; each declares a different option
# serve's longer options, named here so the command reads as check → build_server() → run
_SERVE_ARTIFACT = typer.Option(
    ...,
    "--artifact",
    "-a",
    metavar="FOLDER",
    help="Artifact folder written by 'movierec export'. Repeat to serve several versions side by side.",
)
_SERVE_WEIGHTS = typer.Option(
    None,
    "--weights",
    help="Traffic split over several --artifact, e.g. 90,10 (by a hash of the user id; default equal).",
)
_SERVE_DB = typer.Option(
    "sqlite:///feedback.db",
    "--db",
    envvar="MOVIEREC_DB",
    help="Feedback database URL (or a SQLite file path); 'none' disables POST /feedback. A URL with a "
    "password belongs in MOVIEREC_DB (or PGPASSWORD): on the command line 'ps' shows it.",
)
_SERVE_API_KEY = typer.Option(
    None,
    "--api-key",
    envvar="MOVIEREC_API_KEY",
    help="Key POST /feedback requires (X-API-Key header). Prefer MOVIEREC_API_KEY or --api-key-file: "
    "a key on the command line is visible to other users in 'ps'.",
)
_SERVE_API_KEY_FILE = typer.Option(
    None, "--api-key-file", help="Read the API key from this file (first line)."
)
_SERVE_CORS_ORIGIN = typer.Option(
    [],
    "--cors-origin",
    metavar="ORIGIN",
    help="Allow this browser origin (repeatable); CORS is off by default.",
)
_SERVE_MAX_BODY_KB = typer.Option(64, "--max-body-kb", help="Refuse request bodies larger than this (413).")
_SERVE_REC_CACHE = typer.Option(
    10_000,
    "--rec-cache",
    help="Cached GET /users/{id}/recommendations bodies per worker, k ≤ 50 (0: off).",
)
_SERVE_CHECK = typer.Option(
    False,
    "--check",
    help="Load and verify every --artifact, the --weights and the --db store exactly as serve does before it "
    "binds, print an 'ok:' line for each and exit 0 (2 and the error line otherwise); never binds a port.",
)
_SERVE_LOG_JSON = typer.Option(
    False,
    "--log-json",
    help="Structured access logs: one JSON object per request on stderr, in place of the plain access line "
    "(type --access-log too to keep both).",
)


def serve_cmd(
    ctx: typer.Context,
    artifact: list[Path] = _SERVE_ARTIFACT,
    weights: str | None = _SERVE_WEIGHTS,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (default: loopback only)."),
    port: int = typer.Option(
        8000, "--port", help="TCP port; 0 binds any free one, and the banner says which."
    ),
    db: str = _SERVE_DB,
    workers: int = typer.Option(1, "--workers", help="Worker processes."),
    api_key: str | None = _SERVE_API_KEY,
    api_key_file: Path | None = _SERVE_API_KEY_FILE,
    cors_origin: list[str] = _SERVE_CORS_ORIGIN,
    max_body_kb: int = _SERVE_MAX_BODY_KB,
    rec_cache: int = _SERVE_REC_CACHE,
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="Log every request."),
    log_json: bool = _SERVE_LOG_JSON,
    metrics: bool = typer.Option(True, "--metrics/--no-metrics", help="Prometheus metrics at /metrics."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
    check: bool = _SERVE_CHECK,
) -> None:
    """Serve an artifact over HTTP: JSON API (docs at /docs), the web page at /, feedback into a database."""
    import uvicorn  # noqa: F401  (first: a missing serve extra is said before the artifact is looked at)

    from movierec.serving.app import ServeSettings
    from movierec.serving.dispatch import parse_weights
    from movierec.serving.observe import uvicorn_log_config
    from movierec.serving.server import build_server, install_sighup
    from movierec.serving.store import FeedbackStore, normalise_url, shown_url

    # --log-json's object is the access log: uvicorn's plain line beside it logged each request twice in one
    # container log (the object on stderr, "GET … HTTP/1.1" 200 on stdout), unless --access-log is typed too
    access_log = access_log and (not log_json or typed(ctx, "access_log"))
    _check_counts(workers=workers, port=port, max_body_kb=max_body_kb, rec_cache=rec_cache)
    api_key = _api_key(ctx, api_key, api_key_file)
    _warn_typed_password(ctx, db)
    parse_weights(weights, len(artifact))  # a bad --weights is refused before anything loads
    db_url = None if db.strip().lower() in ("", "none") else normalise_url(db, _db_option(ctx))
    # the URL is checked now; the database and its tables are created once the artifacts have loaded
    store = FeedbackStore(db_url, create=False, option=_db_option(ctx)) if db_url else None
    settings = ServeSettings(
        api_key=api_key or None,
        max_body_bytes=max_body_kb * 1024,
        cors_origins=tuple(cors_origin),
        rec_cache_size=rec_cache,
    )
    socks: list[Any] = []
    try:  # every artifact is loaded and verified here, before the port is bound: a bad one never serves
        asgi, router = build_server(
            artifact,
            store,
            settings,
            weights=weights,
            metrics=metrics,
            json_log=log_json,
            access_log=access_log,
        )
        if check:  # what serve would have served, said; nothing bound
            _say_checked(artifact, router, store)
            return
        # bound here, kept and handed to uvicorn: a port in use is one line; the banner names the bound port
        socks = listen_sockets(host, port)
        if store is not None:
            store.create_tables()
    except BaseException:
        for resource in (*socks, store):
            if resource is not None:
                resource.close()
        raise
    finally:
        if check and store is not None:
            store.close()
    _say_other_code(artifact, router)
    if host not in ("127.0.0.1", "localhost", "::1") and not api_key:
        say("warning", f"binding {host} without --api-key: anyone who can reach it may POST /feedback")
    feedback = "off" if store is None else shown_url(str(db_url))
    for line in banner_lines(
        router.describe(), host, socks, metrics=metrics, feedback=feedback, api_key=bool(api_key)
    ):
        err_console.print(line, soft_wrap=True, markup=False, highlight=False)
    common: dict[str, Any] = {
        "host": host,
        "log_level": log_level,
        # the plain access line is movierec's (serving.observe): uvicorn's, written when the response starts,
        # has no duration; this one, written when the body has gone, ends with it ("200 OK 1.4 ms")
        "access_log": False,
        "log_config": uvicorn_log_config(log_level),
        "server_header": False,
    }
    if workers == 1:
        install_sighup(router)
    else:  # each worker process builds its own app from the environment
        if store is not None:
            store.close()
        _worker_environment(artifact, weights, metrics, log_json, db_url, settings, access_log=access_log)
    app = asgi if workers == 1 else "movierec.serving.server:server_from_env"
    run_on_socket(app, socks, factory=workers > 1, workers=workers, **common)


def _check_counts(*, workers: int, port: int, max_body_kb: int, rec_cache: int) -> None:
    """serve's numeric options, each refused in one line before anything loads."""
    if workers < 1:
        raise ConfigError(f"--workers must be ≥ 1, got {workers}")
    if not 0 <= port < 65536:
        raise ConfigError(f"--port must be 0..65535 (0: any free port), got {port}")
    if max_body_kb < 1:
        raise ConfigError(f"--max-body-kb must be ≥ 1, got {max_body_kb}")
    if rec_cache < 0:
        raise ConfigError(f"--rec-cache must be ≥ 0, got {rec_cache}")


def _say_checked(paths: list[Path], router: Any, store: Any) -> None:
    """``serve --check``'s report, once every artifact has loaded and verified as serve loads them (format
    version, manifest and file checksums, the arrays' structure, the signature when MOVIEREC_ARTIFACT_KEY is
    set) and the feedback store has opened: one ``ok:`` record per artifact, one for the store, on stdout.
    A failure before this is serve's own one line on stderr and exit 2 (CI steps, ``ExecStartPre=``, a
    container's health check before traffic)."""
    from movierec.serving.validate import KEY_ENV

    signed = " · signature verified" if os.environ.get(KEY_ENV) else ""
    # the store first, then the notes on artifacts from other code: serve's order, so a failure reads the same
    feedback = store.check() if store is not None else "feedback off (--db none)"
    _say_other_code(paths, router)
    for path, served in zip(paths, router.served, strict=True):
        art = served.app.state.artifact
        _say_ok(
            f"ok: {path} · {art.model_name} {art.model_version} · format {art.manifest['format_version']} · "
            f"{art.n_items:,} movies · {art.n_users:,} users · checksums verified{signed}"
        )
    _say_ok(f"ok: {feedback}")


def _say_ok(text: str, width: int = 80) -> None:
    """One ``ok:`` record of ``serve --check`` on stdout, broken between its ' · ' parts within ``width``
    columns, its later lines indented (``ok: artifacts/ease · ease 456a2e46fe4c · format 1 · 9,724 movies ·
    610 users · checksums verified`` was one 96-column line, 113 for knn-baseline): a script counts the
    lines that start ``ok:``."""
    from movierec.tables import caption_lines

    first, *rest = caption_lines(text, width - 4)
    print("\n".join([first, *(f"    {line}" for line in rest)]), flush=True)


def banner_lines(
    served: str, host: str, socks: list[Any], *, metrics: bool, feedback: str, api_key: bool, width: int = 80
) -> list[str]:
    """serve's banner, within ``width`` columns: ``serving MODEL@VERSION on URL``, then, indented, ``docs /docs
    · metrics /metrics · feedback URL`` (and ``localhost: 127.0.0.1 and [::1]`` where ``--host localhost``
    bound both loopback addresses) broken between its parts, and last ``reload: kill -HUP PID`` (``reload:
    POST /admin/reload or kill -HUP PID`` with an API key). Scripts read the URL after "serving … on" and the
    pid as the banner's last word. It was one line of 120-140 characters, which an 80-column terminal or log
    broke mid-word ('/metric' / 's')."""
    from movierec.tables import caption_lines

    port = socks[0].getsockname()[1]
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    parts = ["docs /docs", f"metrics {'/metrics' if metrics else 'off'}", f"feedback {feedback}"]
    if len(socks) > 1:
        parts.append("localhost: 127.0.0.1 and [::1]")
    details = caption_lines(" · ".join(parts), width - 2)
    reload = f"reload: {'POST /admin/reload or ' if api_key else ''}kill -HUP {os.getpid()}"
    return [f"serving {served} on {url}", *(f"  {line}" for line in details), f"  {reload}"]


def run_on_socket(app: Any, socks: list[Any], **options: Any) -> None:
    """Run uvicorn with ``options`` (one process, or ``workers`` processes under uvicorn's supervisor) on
    ``socks``, the sockets serve bound and listens on (:func:`listen_sockets`), rather than letting uvicorn bind a port itself: the port
    the banner printed is the one served, ``--port 0`` included, and nothing else can take it in between.
    Says uvicorn's own "Uvicorn running on …" line, which uvicorn leaves out when given a socket."""
    import inspect
    import logging
    import sys

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    host, port = socks[0].getsockname()[:2]
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:
        # a worker that replaces another on SIGHUP (a reload) gets 5 s to start, else uvicorn keeps the old one
        # and says so only in its log: loading an artifact on a busy machine took longer, and a reload left a
        # worker serving the old artifact
        options = {"timeout_worker_healthcheck": 120, **options}
    config = uvicorn.Config(app, port=port, **options)
    address = f"[{host}]" if ":" in host else host
    logging.getLogger("uvicorn.error").info(
        "Uvicorn running on http://%s:%d (Press CTRL+C to quit)", address, port
    )
    server = uvicorn.Server(config)
    try:
        if config.workers > 1:
            # uvicorn 0.29-0.3x's supervisor takes the worker's target; later ones make it themselves
            takes_target = "target" in inspect.signature(Multiprocess).parameters
            extra = {"target": server.run} if takes_target else {}
            Multiprocess(config, sockets=socks, **extra).run()
            return
        server.run(sockets=socks)
    except KeyboardInterrupt:
        # after a graceful stop uvicorn raises the signal it caught again, once our handlers are back: the
        # server stopped as asked, exit 0 (uvicorn.run's status). Before uvicorn had installed its handlers
        # (the moments after the banner), it is the CLI's interrupt: 130 or 143 and its line, not uvicorn.run's
        # silent 3 ("the app failed to start"), which said a Ctrl-C there was a start-up failure
        if not server.started:
            raise
    finally:
        for sock in socks:
            sock.close()
    if not server.started:  # uvicorn.run's exit code when the app failed to start
        sys.exit(3)


def _say_other_code(paths: list[Path], router: Any) -> None:
    """One note per served artifact that other movierec code exported (another version or other sources):
    an artifact from two days ago gave other ``explain`` reasons than a fresh export, without a word. Only a
    note; the artifact is served (``GET /health`` carries the same sentence as ``versionNote``). Then the
    router's notes on artifacts served together (two versions of one dataset: serving.together)."""
    from movierec.serving.origin import version_note

    for path, served in zip(paths, router.served, strict=True):
        note = version_note(served.app.state.artifact.manifest, str(path))
        if note:
            say("note", note)
    for note in router.notes:  # artifacts served together: two versions of one dataset (serving.together)
        say("note", note)


def listen_sockets(host: str, port: int) -> list[Any]:
    """The sockets serve listens on: :func:`listen_socket`'s one, and for ``--host localhost`` both loopback
    addresses on one port, 127.0.0.1 and ::1. It bound 127.0.0.1 only and printed http://localhost:8000, and a
    client whose resolver gives ::1 for localhost first (curl, browsers and Python's urllib on a machine whose
    /etc/hosts lists ``::1 localhost``) was refused. Where this machine has no IPv6 loopback, 127.0.0.1 alone;
    ::1's port taken by another program is refused in one line (a client reaching ::1 would get that one),
    and with ``--port 0`` another free port is tried."""
    import errno
    import socket

    if host.lower() != "localhost":
        return [listen_socket(host, port)]
    for _ in range(5 if port == 0 else 1):
        first = listen_socket("127.0.0.1", port)
        try:
            return [first, _listening("::1", socket.AF_INET6, first.getsockname()[1])]
        except OSError as exc:
            if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or not socket.has_ipv6:
                return [first]  # no IPv6 loopback here: localhost can only be 127.0.0.1
            first.close()
            if exc.errno != errno.EADDRINUSE or port:
                raise ConfigError(  # one line of <= 160 columns (it was 185 for port 8000 in use)
                    f"--host localhost: port {port} is free on 127.0.0.1, not on ::1 ({exc.strerror}); choose "
                    "another --port, or --host 127.0.0.1"
                ) from None
    raise ConfigError("--host localhost: found no port free on both 127.0.0.1 and ::1; give --port")


def listen_socket(host: str, port: int) -> Any:
    """The listening TCP socket serve hands to uvicorn, bound to ``host:port`` (``port`` 0: any free port, the
    socket's name says which); refuses (``ConfigError``, one line) a ``--host``/``--port`` it cannot bind.

    uvicorn bound only after the app had started, and a port in use then printed its log lines
    (``ERROR: [Errno 98] … address already in use``) after the "serving … on http://…" banner and
    exited with 3. A check that bound and let go before the banner left a gap in which another process
    could take the port (two test runs on one machine picked the same free port). This binds as uvicorn
    does (``SO_REUSEADDR``, IPv6 when the host has a colon) and keeps the socket, so the common mistakes
    are said before anything is announced: a port in use (with a free one to try), a privileged port, a
    host that is not an address of this machine.
    """
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return _listening(host, family, port)
    except socket.gaierror as exc:
        raise ConfigError(
            f"--host {host}: not a name or address this machine knows ({exc.strerror})"
        ) from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            free = _free_port_near(host, family, port)
            hint = f"; try --port {free}, which is free" if free else "; choose another --port"
            raise ConfigError(
                f"port {port} on {host} is already in use (another server, perhaps an earlier movierec serve){hint}"
            ) from None
        if exc.errno == errno.EACCES:
            raise ConfigError(
                f"--port {port}: binding a port below 1024 needs administrator rights; use one from 1024 up, "
                "e.g. the default 8000"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(
                f"--host {host}: not an address of this machine (127.0.0.1 for this machine only, "
                "0.0.0.0 for every interface)"
            ) from None
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None


def _listening(host: str, family: int, port: int) -> Any:
    """A socket bound to ``host:port`` as uvicorn binds (``SO_REUSEADDR``) and listening; the OSError when it
    cannot bind (the socket closed)."""
    import socket

    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)  # uvicorn's default backlog: a client that comes before the app has started waits
    except BaseException:
        sock.close()
        raise
    return sock


def _free_port_near(host: str, family: int, port: int) -> int | None:
    """The first port after ``port`` (up to 20 further) that ``host`` can bind now, or None."""
    for candidate in range(port + 1, min(port + 21, 65536)):
        try:
            _listening(host, family, candidate).close()  # bindable now; let go at once
        except OSError:
            continue
        return candidate
    return None


def _worker_environment(
    artifact: list[Path],
    weights: str | None,
    metrics: bool,
    log_json: bool,
    db_url: str | None,
    settings: Any,
    *,
    access_log: bool,
) -> None:
    """What each ``--workers`` process reads back (serving.server.server_from_env, ServeSettings.from_env)."""
    os.environ.update(
        {
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",  # set before workers import numpy
            "MOVIEREC_ARTIFACTS": os.pathsep.join(str(Path(a).expanduser().absolute()) for a in artifact),
            "MOVIEREC_WEIGHTS": weights or "",
            "MOVIEREC_METRICS": "1" if metrics else "0",
            "MOVIEREC_LOG_JSON": "1" if log_json else "0",
            "MOVIEREC_ACCESS_LOG": "1" if access_log else "0",
            "MOVIEREC_DB": db_url or "",
            "MOVIEREC_API_KEY": settings.api_key or "",
            "MOVIEREC_MAX_BODY_BYTES": str(settings.max_body_bytes),
            "MOVIEREC_CORS_ORIGINS": ",".join(settings.cors_origins),
            "MOVIEREC_REC_CACHE": str(settings.rec_cache_size),
            # uvicorn's supervisor runs in this process: a worker's POST /admin/reload signals it
            "MOVIEREC_SUPERVISOR": str(os.getpid()),
        }
    )


def _db_option(ctx: typer.Context) -> str:
    """How serve's messages name the feedback database's setting: ``MOVIEREC_DB=`` when the URL came from
    that environment variable (a message said ``--db '…'`` to someone who never typed ``--db``), else
    ``--db`` (typed, or the default ``sqlite:///feedback.db``)."""
    source = ctx.get_parameter_source("db")
    return "MOVIEREC_DB=" if source is not None and source.name == "ENVIRONMENT" else "--db"


def _warn_typed_password(ctx: typer.Context, db: str) -> None:
    """One warning when ``--db`` was typed with a password in it: ``ps`` and ``/proc`` show a running server's
    command line to every user of the machine, as ``--api-key`` warns. Never the password itself."""
    source = ctx.get_parameter_source("db")
    if source is None or source.name != "COMMANDLINE" or "://" not in db:
        return
    try:
        from sqlalchemy.engine import make_url

        password = make_url(db.strip()).password
    except Exception:  # a URL SQLAlchemy cannot read is refused with its own line further on
        return
    if password:
        say(
            "warning",
            "--db on the command line: its password is visible to other users of this machine (ps, /proc); "
            "put the URL in the MOVIEREC_DB environment variable, or leave the password out of it and set "
            "PGPASSWORD or ~/.pgpass",
        )


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
        say(
            "warning",
            "--api-key on the command line is visible to other users of this machine "
            "(ps, /proc); use --api-key-file FILE or the MOVIEREC_API_KEY environment variable",
        )
    return api_key or None


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
    app.command("serve")(serve_cmd)
