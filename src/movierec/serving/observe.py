"""Observability for ``movierec serve``: ``/healthz``, ``/readyz``, Prometheus ``/metrics`` and JSON access logs.

One ASGI middleware, outermost, so it sees every request, including those the fast path answers before
FastAPI routes anything. It labels requests by *route template* (``/users/{id}/recommendations``, never
the raw path, so the number of time series stays bounded) and by the model version that answered, which
every response names in its ``X-Model-Version`` header.

- ``/healthz``: liveness, 200 while the process runs its event loop.
- ``/readyz``: readiness, 200 when an artifact is loaded and the feedback store (if any) answers a query,
  else 503 with the reason; load balancers use it to take a server out of rotation.
- ``/metrics``: Prometheus text format (``prometheus-client``): ``movierec_requests_total`` and the
  ``movierec_request_seconds`` histogram per route, method, status and model version;
  ``movierec_feedback_writes_total``; ``movierec_reloads_total`` per outcome; ``movierec_model_info``.
  Each server process keeps its own registry: with ``--workers N`` scrape each process or run one worker
  per container (the usual Prometheus pattern).
- JSON access logs (``--log-json``): one JSON object per request on stderr with time, method, route,
  path, status, duration in ms, model version and client address.
- The plain access log (``--access-log``, on by default): uvicorn's line with the request's duration
  after it, ``INFO:     127.0.0.1:5 - "GET /health HTTP/1.1" 200 OK 1.4 ms``, written here once the
  response body has gone (uvicorn writes its own line when the response starts, before any duration is
  known, so ``movierec serve`` turns uvicorn's off and logs through ``movierec.access``: see
  :func:`uvicorn_log_config`).
"""

from __future__ import annotations

import copy
import json
import logging
import re
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "ACCESS_LOGGER",
    "DB_DOWN",
    "READY_503",
    "ROUTES",
    "Observability",
    "readiness",
    "route_template",
    "uvicorn_log_config",
]

#: The logger of the plain access line (uvicorn's ``uvicorn.access`` line plus the duration).
ACCESS_LOGGER = "movierec.access"

#: Route templates of the public API, most specific first; anything else is labelled ``other``.
ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"/users/[^/]+/recommendations"), "/users/{id}/recommendations"),
    (re.compile(r"/movies/[^/]+/similar"), "/movies/{id}/similar"),
    (re.compile(r"/movies/[^/]+"), "/movies/{id}"),
]
# dup-ok: a list of route strings, alike in shape to movierec.__all__
_EXACT = {
    "/",
    "/movies",
    "/recommendations",
    "/feedback",
    "/health",
    "/healthz",
    "/readyz",
    "/metrics",
    "/docs",
    "/openapi.json",
    "/admin/reload",
}


def route_template(path: str) -> str:
    """The route template a path belongs to (bounded label cardinality for metrics)."""
    if path in _EXACT:
        return path
    if path.startswith("/static/"):
        return "/static"
    for pattern, name in ROUTES:
        if pattern.fullmatch(path):
            return name
    return "other"


#: ``/readyz``'s reason while the feedback database does not answer a query
DB_DOWN = "the feedback database does not answer"

#: the 503 of ``/readyz``, as /openapi.json describes it
READY_503 = (
    "Not ready (no artifact loaded, or the feedback database does not answer): take it out of rotation."
)


def readiness(reason: str | None, versions: list[str]) -> tuple[int, dict[str, Any]]:
    """``/readyz``'s status and body: 200 ``{"status":"ready","modelVersions":[…]}`` when ``reason`` is
    ``None``, else 503 ``{"status":"not ready","detail":reason}`` (the schemas Ready and NotReady)."""
    if reason is None:
        return 200, {"status": "ready", "modelVersions": versions}
    return 503, {"status": "not ready", "detail": reason}


def _compact(body: dict[str, Any]) -> bytes:
    """JSON without spaces, as every route of the API answers (``/readyz`` answered ``{"status": "ready", …}``)."""
    return json.dumps(body, separators=(",", ":")).encode()


class _Metrics:
    """The Prometheus collectors of one server process (a registry of its own, not the global one)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

        # no `…_created` sample beside each counter and histogram series: the server's start time, once
        # per label set, which doubled the series a scraper stores (process-wide; this process serves)
        disable_created_metrics()
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "movierec_requests",
            "HTTP requests answered, by route template, method, status and model version.",
            ["route", "method", "status", "model_version"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "movierec_request_seconds",
            "Time from request to the end of the response body, by route template and model version.",
            ["route", "model_version"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.feedback = Counter(
            "movierec_feedback_writes",
            "POST /feedback answered 201 (created) or 200 (a retry of a stored requestId).",
            ["created", "model_version"],
            registry=self.registry,
        )
        self.reloads = Counter(
            "movierec_reloads",
            "Artifact reloads by outcome (ok, refused).",
            ["outcome"],
            registry=self.registry,
        )
        self.model_info = Gauge(
            "movierec_model_info",
            "1 for each artifact version being served.",
            ["model_version"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return bytes(generate_latest(self.registry))


class Observability:
    """ASGI middleware: health/readiness/metrics endpoints, per-request metrics, optional JSON access logs.

    ``versions()`` returns the model versions currently served; ``ready()`` returns ``None`` when ready or
    the reason it is not. Both are called per probe, so a hot reload is reflected at once.
    """

    def __init__(
        self,
        app: Any,
        *,
        versions: Callable[[], list[str]],
        ready: Callable[[], str | None],
        metrics: bool = True,
        json_log: bool = False,
        log_stream: Any = None,
        access_log: bool = False,
    ) -> None:
        self.app = app
        self.access_log = access_log
        self._access = logging.getLogger(ACCESS_LOGGER)
        self.versions = versions
        self.ready = ready
        self.json_log = json_log
        self.log_stream = log_stream or sys.stderr
        self.metrics: _Metrics | None = None
        if metrics:
            try:
                self.metrics = _Metrics()
            except ImportError:  # prometheus-client ships with the serve extra; without it /metrics says so
                self.metrics = None
        self._shown: set[str] = set()

    def count_reload(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.reloads.labels(outcome).inc()

    async def _reply(self, send: Any, status: int, body: bytes, content_type: bytes) -> None:
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        served = self.versions()
        if served:  # as every routed answer: the version a request without a user goes to, the first
            headers.append((b"x-model-version", served[0].encode("latin-1", "replace")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _probe(self, path: str, send: Any) -> bool:
        if path == "/healthz":
            await self._reply(send, 200, _compact({"status": "ok"}), b"application/json")
            return True
        if path == "/readyz":
            status, body = readiness(self.ready(), self.versions())
            await self._reply(send, status, _compact(body), b"application/json")
            return True
        if path == "/metrics":
            if self.metrics is None:
                msg = b"prometheus-client is not installed (pip install 'movierec[serve]')\n"
                await self._reply(send, 501, msg, b"text/plain; charset=utf-8")
                return True
            current = set(self.versions())
            for v in self._shown - current:
                self.metrics.model_info.labels(v).set(0)
            for v in current:
                self.metrics.model_info.labels(v).set(1)
            self._shown |= current
            await self._reply(send, 200, self.metrics.render(), b"text/plain; version=0.0.4; charset=utf-8")
            return True
        return False

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        start = time.perf_counter()
        seen: dict[str, Any] = {"status": 500, "version": ""}
        inner = scope
        if scope["method"] == "HEAD":  # answered as GET without its body (RFC 9110 9.3.2); logged as HEAD
            inner, send = {**scope, "method": "GET"}, _without_body(send)

        async def observed_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                for name, value in message.get("headers", ()):
                    if name.lower() == b"x-model-version":
                        seen["version"] = value.decode("latin-1")
            await send(message)

        if inner["method"] == "GET" and await self._probe(path, observed_send):
            self._log_plain(scope, int(seen["status"]), time.perf_counter() - start)
            return
        try:
            await self.app(inner, receive, observed_send)
        finally:
            seconds = time.perf_counter() - start
            self._record(scope, seen, seconds)
            self._log_plain(scope, int(seen["status"]), seconds)

    def _log_plain(self, scope: dict, status: int, seconds: float) -> None:
        """The plain access line, uvicorn's (client, request line, status) and the duration in ms."""
        if not self.access_log or not self._access.isEnabledFor(logging.INFO):
            return
        from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

        self._access.info(
            '%s - "%s %s HTTP/%s" %d',
            get_client_addr(scope),  # type: ignore[arg-type]
            scope["method"],
            get_path_with_query_string(scope),  # type: ignore[arg-type]
            scope.get("http_version", "1.1"),
            status,
            extra={"ms": f"{seconds * 1000:.1f}"},
        )

    def _record(self, scope: dict, seen: dict[str, Any], seconds: float) -> None:
        route = route_template(scope["path"])
        status, version = int(seen["status"]), str(seen["version"])
        if self.metrics is not None:
            self.metrics.requests.labels(route, scope["method"], str(status), version).inc()
            self.metrics.latency.labels(route, version).observe(seconds)
            if route == "/feedback" and status in (200, 201):
                self.metrics.feedback.labels("true" if status == 201 else "false", version).inc()
        if self.json_log:
            client = scope.get("client") or ("", 0)
            line = {
                "ts": round(time.time(), 3),
                "method": scope["method"],
                "route": route,
                "path": scope["path"],
                "status": status,
                "ms": round(seconds * 1000, 3),
                "modelVersion": version,
                "client": f"{client[0]}:{client[1]}" if client[0] else "",
            }
            print(json.dumps(line, separators=(",", ":")), file=self.log_stream, flush=True)


def _without_body(send: Any) -> Any:
    """``send`` for a HEAD request answered as its GET: the status and headers (``Content-Length`` the GET's),
    no body bytes. FastAPI's routes take GET only, so ``curl -I /health``, ``HEAD /healthz`` (an uptime
    monitor's probe) and ``HEAD /`` were 405 Method Not Allowed, where HTTP asks every GET to answer HEAD."""

    async def headless(message: dict) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return headless


def uvicorn_log_config(log_level: str) -> dict[str, Any]:
    """uvicorn's logging configuration plus :data:`ACCESS_LOGGER`, which writes the plain access line with
    its duration (``… "GET /health HTTP/1.1" 200 OK 1.4 ms``) to stdout, where uvicorn's line went, in
    uvicorn's format and colours, at ``log_level`` as uvicorn's access logger is. Pass it with
    ``access_log=False`` (uvicorn's own line, which has no duration, off) and ``Observability(access_log=True)``."""
    from uvicorn.config import LOG_LEVELS, LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["movierec_access"] = {
        "()": "uvicorn.logging.AccessFormatter",
        "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s %(ms)s ms',
    }
    config["handlers"]["movierec_access"] = {
        "formatter": "movierec_access",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
    }
    level = LOG_LEVELS.get(log_level.lower(), logging.INFO)
    config["loggers"][ACCESS_LOGGER] = {"handlers": ["movierec_access"], "level": level, "propagate": False}
    return config
