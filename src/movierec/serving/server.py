"""Assemble what ``movierec serve`` runs: per-version FastAPI apps, the version router, observability.

``build_server`` is the one place that wires them, used by the single-process server and by each
``--workers`` process (``server_from_env``), so both behave the same. The layers, outermost first:
:class:`~movierec.serving.observe.Observability` (``/healthz``, ``/readyz``, ``/metrics``, JSON logs) →
:class:`~movierec.serving.dispatch.ModelRouter` (version choice, ``X-Model-Version``, hot reload) →
one :func:`~movierec.serving.app.create_app` app per served artifact.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from movierec.serving.dispatch import ModelRouter, parse_weights
from movierec.serving.observe import DB_DOWN, Observability

__all__ = ["build_server", "install_sighup", "server_from_env"]


def build_server(
    artifacts: Sequence[str | Path],
    store: Any,
    settings: Any,
    *,
    weights: str | None = None,
    metrics: bool = True,
    json_log: bool = False,
    access_log: bool = False,
) -> tuple[Observability, ModelRouter]:
    """The ASGI app serving ``artifacts`` (validated before anything binds a port) and its router;
    ``access_log``: the plain access line with its duration (run uvicorn with ``access_log=False`` and
    :func:`~movierec.serving.observe.uvicorn_log_config`)."""
    from movierec.serving.app import create_app
    from movierec.serving.artifact import load_artifact

    router = ModelRouter(
        list(artifacts),
        build=lambda art: create_app(art, store, settings),
        load=load_artifact,
        weights=parse_weights(weights, len(artifacts)),
        api_key=settings.api_key,
        max_body_bytes=settings.max_body_bytes,
        on_shutdown=None if store is None else store.close,  # each worker closes its own connections
    )

    def ready() -> str | None:
        if not router.served:
            return "no artifact loaded"
        if store is not None and not store.ping():
            return DB_DOWN
        return None

    outer = Observability(
        router,
        versions=router.versions,
        ready=ready,
        metrics=metrics,
        json_log=json_log,
        access_log=access_log,
    )
    router.on_reload = outer.count_reload
    return outer, router


def install_sighup(router: ModelRouter, log: Any = None) -> None:
    """Reload on SIGHUP, in a background thread so the event loop keeps answering while it loads. Logs one
    line (``reloaded: …`` or ``warning: reload refused …``), then after a reload one ``note: …`` line per note
    on the artifacts now served together (two versions of one dataset), as ``serve`` says them at start."""
    if not hasattr(signal, "SIGHUP"):  # pragma: no cover - Windows has no SIGHUP
        return
    stream = log or sys.stderr

    def run() -> None:
        ok, message = router.reload()
        notes = [f"note: {note}" for note in router.notes] if ok else []  # refused: said when that set loaded
        print("\n".join([("" if ok else "warning: ") + message, *notes]), file=stream, flush=True)

    def handler(_signum: int, _frame: Any) -> None:
        threading.Thread(target=run, name="movierec-reload", daemon=True).start()

    signal.signal(signal.SIGHUP, handler)


def server_from_env() -> Observability:
    """Factory for ``uvicorn --factory`` worker processes: what ``movierec serve`` put in the environment."""
    from movierec.errors import ConfigError
    from movierec.serving.app import ServeSettings, store_from_env

    paths = [p for p in os.environ.get("MOVIEREC_ARTIFACTS", "").split(os.pathsep) if p]
    if not paths:
        raise ConfigError(
            "MOVIEREC_ARTIFACTS is not set (start the server with 'movierec serve --artifact DIR')"
        )
    store, settings = store_from_env(), ServeSettings.from_env()
    outer, router = build_server(
        paths,
        store,
        settings,
        weights=os.environ.get("MOVIEREC_WEIGHTS") or None,
        metrics=os.environ.get("MOVIEREC_METRICS", "1") == "1",
        json_log=os.environ.get("MOVIEREC_LOG_JSON", "0") == "1",
        access_log=os.environ.get("MOVIEREC_ACCESS_LOG", "0") == "1",
    )
    install_sighup(router)
    supervisor = int(os.environ.get("MOVIEREC_SUPERVISOR") or 0)
    if supervisor and supervisor == os.getppid() and hasattr(signal, "SIGHUP"):
        # POST /admin/reload reaches one worker: with --workers 2 it answered "reloaded" while the other worker
        # served the old artifact on, half the requests; uvicorn's supervisor replaces every worker on SIGHUP
        router.reload_others = lambda: os.kill(supervisor, signal.SIGHUP)
    return outer
