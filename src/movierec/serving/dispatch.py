"""Several model versions behind one server, swapped without dropping a request.

:class:`ModelRouter` is the ASGI application ``movierec serve`` runs. It holds one FastAPI app per
served artifact (each built by :func:`movierec.serving.app.create_app`, so every version answers with
the same routes and validation) and sends each request to one of them:

- an explicit ``model`` query parameter (an artifact's version or its label) picks that version;
- otherwise the user id (the path of ``GET /users/{id}/recommendations``, the ``userId`` of a POST
  body) is hashed (SHA-256, so every process and host agrees) onto the configured weights: a user
  always sees the same version, and their feedback is stored with the version that served them;
- requests without a user (``/movies``, ``/movies/{id}/similar``) go to the first artifact.

Every response carries ``X-Model-Version``. **Hot reload**: :meth:`ModelRouter.reload` re-reads each
``--artifact`` path it was started with (a deploy flips a symlink there), verifies the new artifacts
completely (checksums and structure, through ``load_artifact``) and only then swaps the apps in one
assignment. Requests already running finish on the old app; new ones go to the new app; a bad artifact
is refused and the old one keeps serving. ``movierec serve`` calls it on SIGHUP and on an authenticated
``POST /admin/reload``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from movierec.errors import ConfigError, MovierecError

__all__ = [
    "ModelRouter",
    "Served",
    "bucket",
    "parse_weights",
    "served_labels",
    "served_model",
    "unknown_model",
]


def api_key_ok(x_api_key: str, authorization: str, key: str) -> bool:
    """Whether a request presents ``key``: in ``X-API-Key``, else as ``Authorization: Bearer KEY``
    (compared in constant time). POST /feedback (app.check_key) and POST /admin/reload both ask it."""
    given = x_api_key
    if not given and authorization.lower().startswith("bearer "):
        given = authorization[7:].strip()
    return hmac.compare_digest(given.encode(), key.encode())


def parse_weights(text: str | None, n: int) -> list[float]:
    """Traffic weights for ``n`` artifacts from ``"80,20"`` (any positive numbers; normalised to sum 1)."""
    if n < 1:
        raise ConfigError("serve needs at least one --artifact")
    if not text:
        return [1.0 / n] * n
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ConfigError(f"--weights {text!r}: expected numbers separated by commas, e.g. 80,20") from None
    if len(values) != n:
        example = ",".join([str(100 - 10 * (n - 1)), *["10"] * (n - 1)] if n < 10 else ["1"] * n)
        raise ConfigError(
            f"--weights {text!r}: {len(values)} weight{'s' * (len(values) != 1)} for {n} artifacts; give one "
            f"per --artifact, in their order, e.g. --weights {example}"
        )
    if any(not v >= 0 or v == float("inf") for v in values) or sum(values) <= 0:
        raise ConfigError(f"--weights {text!r}: weights must be finite, ≥ 0 and not all 0")
    total = sum(values)
    return [v / total for v in values]


def bucket(user_id: str, weights: Sequence[float]) -> int:
    """The version index a user is assigned to: SHA-256 of the id, as a fraction in [0, 1), on the weights."""
    digest = hashlib.sha256(str(user_id).encode("utf-8")).digest()
    x = int.from_bytes(digest[:8], "big") / 2**64
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if x < acc:
            return i
    return len(weights) - 1


def served_model(art: Any, label: str, weight: float) -> dict[str, Any]:
    """One entry of ``GET /health``'s ``models``: the artifact's own description (its model, kind, scale,
    likedFrom, sequential, …: :meth:`~movierec.serving.artifact.Artifact.description`), the ``label`` that
    ``?model=`` takes for it and its ``weight``, the share of users hashed onto it. Served beside others, a
    list may come from any of them, and /health's top level describes the first only."""
    return {"label": label, "weight": weight, **art.description()}


@dataclass(frozen=True)
class Served:
    """One served artifact: where it was loaded from, its label, version and the app answering for it."""

    path: Path
    label: str
    version: str
    model: str
    app: Any


class _Replay:
    """A ``receive`` that first replays the body chunks already read, then reads on."""

    def __init__(self, messages: list[dict], receive: Any) -> None:
        self.messages = messages
        self.receive = receive

    async def __call__(self) -> dict:
        if self.messages:
            return self.messages.pop(0)
        return await self.receive()


class ModelRouter:
    """ASGI app: route requests to one of several served artifacts; reload them atomically."""

    def __init__(
        self,
        paths: Sequence[str | Path],
        build: Callable[[Any], Any],
        load: Callable[[Path], Any],
        *,
        weights: Sequence[float] | None = None,
        api_key: str | None = None,
        max_body_bytes: int = 64 * 1024,
        on_reload: Callable[[str], None] | None = None,
        on_shutdown: Callable[[], None] | None = None,
    ) -> None:
        self.paths = [Path(p).expanduser() for p in paths]
        self.weights = list(weights) if weights is not None else [1.0 / len(self.paths)] * len(self.paths)
        self._build = build
        self._load = load
        self.api_key = api_key
        self.max_body_bytes = max_body_bytes
        self.on_reload = on_reload
        self.on_shutdown = on_shutdown  # the server is stopping: close what it opened (the feedback store)
        #: the other ``--workers`` processes, told after POST /admin/reload succeeded in this one (which alone
        #: got the request): serve's supervisor replaces every worker (server.server_from_env sets it)
        self.reload_others: Callable[[], None] | None = None
        self._lock = threading.Lock()
        # raises on a bad artifact, or artifacts of different data (serving.together): the server never starts
        self.served: tuple[Served, ...]
        #: notes on the artifacts served together (two versions of one file, a few retitled movies): serve says
        #: them at start, a reload in its answer and log line, and GET /health in ``notes``
        self.notes: list[str]
        self.served, self.notes = self._load_all()

    # -- loading -----------------------------------------------------------------------------------
    def _load_all(self) -> tuple[tuple[Served, ...], list[str]]:
        """Load every path; refuse a version served twice and artifacts that did not learn from the same data
        (:func:`~movierec.serving.together.check_together`). Returns the served set and the notes on it, which
        each built app also holds as ``state.together_notes``, beside ``state.served_models`` (one
        :func:`served_model` per artifact, in serving order): its ``GET /health`` answers both, so a request
        sees those of the set it is served by, before a reload or after."""
        from movierec.serving.together import check_together

        loaded = []
        for path in self.paths:
            resolved = path.resolve()  # a symlink flipped during the load cannot mix two versions' files
            # no symlink on the way: load the path as typed, so a refusal names it as typed
            # ('artifacts/svd/manifest.json: a file of the artifact', not the whole absolute path)
            loaded.append((path, resolved, self._load(path if resolved == path.absolute() else resolved)))
        versions = [str(art.model_version) for _, _, art in loaded]
        if len(set(versions)) != len(versions):
            raise ConfigError(f"the same artifact version is served twice ({', '.join(versions)})")
        notes = check_together([(str(path), art) for path, _, art in loaded]) if len(loaded) > 1 else []
        labels = served_labels([path for path, _, _ in loaded])
        out = tuple(
            Served(resolved, label, str(art.model_version), str(art.model_name), self._build(art))
            for label, (path, resolved, art) in zip(labels, loaded, strict=True)
        )
        # GET /health's `models`: every served artifact, described by itself, with how a request reaches it
        models = [
            served_model(art, s.label, w) for (_, _, art), s, w in zip(loaded, out, self.weights, strict=True)
        ]
        for served in out:
            state = getattr(served.app, "state", None)  # a create_app app; a test may build something else
            if state is not None:
                state.together_notes = list(notes)
                state.served_models = models
                state.routed = True  # its /openapi.json declares ?model= (app.declare_model_choice)
        return out, notes

    def reload(self) -> tuple[bool, str]:
        """Re-read every artifact path; swap only when all load and verify. Returns ``(ok, message)``; the
        notes on the set serving afterwards are :attr:`notes` (SIGHUP logs them, POST /admin/reload answers them)."""
        with self._lock:  # one reload at a time; requests never wait on this lock
            try:
                fresh, notes = self._load_all()
            except MovierecError as exc:
                if self.on_reload:
                    self.on_reload("refused")
                # movierec serve's reader is at a shell: the CLI's words ('movierec export', not rec.export)
                return False, f"reload refused, still serving {self.describe()}: {exc.in_cli()}"
            old = self.describe()
            self.served = fresh  # one assignment: a request sees either the old set or the new one
            self.notes = notes
            if self.on_reload:
                self.on_reload("ok")
            return True, f"reloaded: {old} -> {self.describe()}"

    def versions(self) -> list[str]:
        return [s.version for s in self.served]

    def describe(self) -> str:
        return ", ".join(f"{s.model}@{s.version}" for s in self.served)

    # -- routing -----------------------------------------------------------------------------------
    def pick(self, served: tuple[Served, ...], user_id: str | None, model: str | None) -> Served | None:
        """The served artifact for a request (``None``: an explicit ``model`` names no served version)."""
        if model is not None:
            for s in served:
                if model in (s.version, s.label):
                    return s
            return None
        if user_id is None or len(served) == 1:
            return served[0]
        return served[bucket(user_id, self.weights)]

    @staticmethod
    def _query_model(qs: bytes) -> str | None:
        for part in qs.split(b"&") if qs else ():
            name, _, value = part.partition(b"=")
            if name == b"model":
                from urllib.parse import unquote

                return unquote(value.decode("latin-1"))
        return None

    async def _read_body(self, receive: Any) -> tuple[list[dict], bytes | None]:
        """Read up to ``max_body_bytes`` + 1 of the body; the bytes, or ``None`` when it is larger."""
        messages, size, chunks = [], 0, []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages, None
            chunk = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            if size > self.max_body_bytes:
                return messages, None  # the chosen app's body limit answers 413
            if not message.get("more_body", False):
                return messages, b"".join(chunks)

    async def _user_of(self, scope: dict, receive: Any) -> tuple[str | None, Any]:
        path = scope["path"]
        if path.startswith("/users/"):
            parts = path.split("/")
            return (parts[2] if len(parts) > 2 else None), receive
        if scope["method"] == "POST" and len(self.served) > 1:
            messages, body = await self._read_body(receive)
            user = None
            if body:
                try:
                    obj = json.loads(body)
                    if isinstance(obj, dict) and isinstance(obj.get("userId"), str | int):
                        user = str(obj["userId"])
                except (ValueError, RecursionError):
                    user = None  # the app answers the bad body with its own 4xx
            return user, _Replay(messages, receive)
        return None, receive

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            await self.served[0].app(scope, receive, send)
            return
        if scope["path"] == "/admin/reload":
            await self._admin_reload(scope, receive, send)
            return
        served = self.served  # one snapshot per request: a reload mid-request does not change its app
        model = self._query_model(scope.get("query_string", b""))
        user, receive = await self._user_of(scope, receive)
        chosen = self.pick(served, user, model)
        if chosen is None:  # pick() finds every artifact unless ?model= names none of them
            await _send_json(send, 404, {"detail": unknown_model(str(model), served)})
            return
        version_header = (b"x-model-version", chosen.version.encode("latin-1", "replace"))

        async def tagged_send(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), version_header]}
            await send(message)

        await chosen.app(scope, receive, tagged_send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.on_shutdown is not None:
                    self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _admin_reload(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["method"] != "POST":
            await _send_json(send, 405, {"detail": "use POST /admin/reload"})
            return
        if not self.api_key:
            await _send_json(
                send, 403, {"detail": "reloading over HTTP needs the server started with an API key"}
            )
            return
        headers = dict(scope.get("headers", []))
        given, auth = (headers.get(h, b"").decode("latin-1") for h in (b"x-api-key", b"authorization"))
        if not api_key_ok(given, auth, self.api_key):
            await _send_json(send, 401, {"detail": "missing or wrong API key (X-API-Key or a Bearer token)"})
            return
        ok, message = await asyncio.get_running_loop().run_in_executor(None, self.reload)
        if ok and self.reload_others is not None:  # one process of several reloaded: the others served on
            self.reload_others()
            message += "; every worker process restarts on it"
        body = {"modelVersions": self.versions(), "detail": message, "notes": list(self.notes)}
        if ok:
            await _send_json(send, 200, {"status": "reloaded", **body})
        else:
            await _send_json(send, 422, {"status": "refused", **body})


def served_labels(paths: Sequence[Path]) -> list[str]:
    """What ``?model=`` and GET /health's ``label`` call each served artifact: its folder's name, or, where two
    folders share it (``-a runs/v1/svd -a runs/v2/svd``), as many of the last parts of its path as tell them
    apart (``v1/svd``, ``v2/svd``). Both were 'svd', and ``?model=svd`` reached the first only."""
    parts = [Path(p).absolute().parts for p in paths]
    labels = [p.name or f"model{i}" for i, p in enumerate(paths)]
    for depth in range(2, max((len(x) for x in parts), default=1) + 1):
        twice = {label for label in labels if labels.count(label) > 1}
        if not twice:
            break
        labels = [
            "/".join(x[-depth:]) if label in twice else label for label, x in zip(labels, parts, strict=True)
        ]
    return labels


def unknown_model(model: str, served: Sequence[Served]) -> str:
    """The 404 of a ``?model=`` that names no served artifact, in the API's words: what the parameter takes
    (a ``label`` or ``modelVersion`` of ``GET /health``'s ``models``) and each served one's pair. It said
    "model 'zzz' is not served here; served: ease (28a9b21a250f)", which left a reader to guess that the
    name and the hash in brackets were the two spellings ``?model=`` takes."""
    pairs = ", ".join(f"{s.label} or {s.version}" for s in served)
    return (
        f"model {model!r} is not served here; ?model= takes a served model's label or modelVersion "
        f"({pairs}), as GET /health lists them in models"
    )


async def _send_json(send: Any, status: int, obj: Any) -> None:
    body = json.dumps(obj, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
