"""HTTP routes (FastAPI). The artifact, the feedback store and the settings are injected by ``create_app``.

Read-only endpoints are ``async`` and run numpy directly on the event loop (a top-N over ~10k
items takes well under a millisecond); the feedback endpoint is sync, so the database write runs
in the thread pool. Responses are serialised once with ``json`` (the pydantic models document them).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from movierec.errors import ConfigError, FeatureValueError, MovierecError, UnknownIdError
from movierec.serving.artifact import Artifact
from movierec.serving.dispatch import api_key_ok, served_model
from movierec.serving.docs import install_docs
from movierec.serving.errors import install_error_handlers, responses
from movierec.serving.schemas import (
    Alive,
    FeedbackIn,
    FeedbackOut,
    Health,
    MovieDetail,
    MovieList,
    NotReady,
    Ready,
    RecommendationsResponse,
    RecommendRequest,
    ReloadResult,
)
from movierec.serving.store import FeedbackStore

__all__ = ["ServeSettings", "create_app", "create_app_from_env", "store_from_env"]

STATIC = Path(__file__).resolve().parent / "static"
_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"


@dataclass(frozen=True)
class ServeSettings:
    """Server settings; the defaults are the safe ones (see docs/serving.md)."""

    api_key: str | None = None
    max_body_bytes: int = 64 * 1024
    cors_origins: tuple[str, ...] = ()
    static: bool = True
    rec_cache_size: int = 10_000
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> ServeSettings:
        """What ``movierec serve`` put in the environment for its ``--workers`` processes."""
        return cls(
            api_key=os.environ.get("MOVIEREC_API_KEY") or None,
            max_body_bytes=int(os.environ.get("MOVIEREC_MAX_BODY_BYTES", 64 * 1024)),
            cors_origins=tuple(o for o in os.environ.get("MOVIEREC_CORS_ORIGINS", "").split(",") if o),
            rec_cache_size=int(os.environ.get("MOVIEREC_REC_CACHE", 10_000)),
        )


def store_from_env() -> FeedbackStore | None:
    """The feedback store ``MOVIEREC_DB`` names, or None (POST /feedback is then 503)."""
    db = os.environ.get("MOVIEREC_DB") or None
    return FeedbackStore(db) if db else None


def _json(obj: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(obj, separators=(",", ":")).encode(), status_code=status, media_type="application/json"
    )


class BodyLimit:
    """ASGI middleware refusing request bodies over ``max_bytes`` with 413 (by Content-Length or while streaming)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._refuse(send)
                    return
        seen = 0
        started = refused = False

        async def limited_receive() -> dict:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes and not refused:
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}  # the app stops reading; its reply is dropped below
            return message

        async def guarded_send(message: dict) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _refuse(self, send: Any) -> None:
        body = json.dumps(  # spaced as every other error body (errors._reply): none after ':' or ','
            {"detail": f"request body larger than {self.max_bytes} bytes"}, separators=(",", ":")
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


_K = re.compile(rb"[1-9][0-9]{0,2}")
_USER_RECS = re.compile(r"/users/([^/]{1,128})/recommendations")


class FastRecommendations:
    """ASGI shortcut for the hottest call, ``GET /users/{id}/recommendations`` with at most ``k`` and ``exclude_seen``.

    The response bytes come from ``build(userId, k, exclude_seen)`` (the route's own code) through a
    bounded LRU cache (``cache_size`` bodies, ``k`` ≤ 50), so a repeated request skips FastAPI's parameter parsing, dependency solving and
    the top-N itself. This is exact, not approximate: the artifact is immutable while the process serves
    it and feedback never changes the model, so a cached body equals a freshly computed one. Anything
    unusual (other parameters, ``genres``, non-canonical spellings such as ``k=010`` or ``exclude_seen=1``,
    percent-encoding, repeated keys, unknown users, bad ``k``) falls through to the FastAPI route, which
    keeps the documented validation and error bodies.
    """

    max_cached_k = 50  # bodies for larger k are built per request: bounds the cache to ~6 KB an entry

    def __init__(self, app: Any, build: Callable[[str, int, bool], bytes], cache_size: int) -> None:
        self.app = app
        self.build = build
        self.cached = lru_cache(maxsize=cache_size)(build) if cache_size > 0 else None

    @staticmethod
    def parse_query(qs: bytes) -> tuple[int, bool] | None:
        """``(k, exclude_seen)`` for a query string the shortcut answers exactly, else ``None``."""
        k, exclude = 10, True
        seen: set[bytes] = set()
        for part in qs.split(b"&") if qs else ():
            name, eq, value = part.partition(b"=")
            if not eq or name in seen:
                return None
            seen.add(name)
            if name == b"k" and _K.fullmatch(value) and int(value) <= 500:
                k = int(value)
            elif name == b"exclude_seen" and value in (b"true", b"false"):
                exclude = value == b"true"
            else:
                return None
        return k, exclude

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith("/users/"):
            m = _USER_RECS.fullmatch(scope["path"])
            q = self.parse_query(scope["query_string"]) if m else None
            if q is not None:
                fn = self.cached if self.cached is not None and q[0] <= self.max_cached_k else self.build
                try:
                    body = fn(m.group(1), *q)  # type: ignore[union-attr]
                except MovierecError:
                    body = None  # unknown user: the route answers 404 with its message
                if body is not None:
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 200,
                            "headers": [
                                (b"content-length", str(len(body)).encode()),
                                (b"content-type", b"application/json"),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)


_RERANK = r"^(mmr|calibrated|xquad|pop)(:(0|1|0?\.[0-9]+|1\.0+|0\.[0-9]+))?$"
"""``?rerank=`` values (movierec.rerank.parse_rerank checks them again)."""


def get_artifact(request: Request) -> Artifact:
    """The artifact this app serves (injected by ``create_app``)."""
    return request.app.state.artifact


def get_store(request: Request) -> FeedbackStore:
    """The feedback store, or 503 when the server runs without one."""
    st = request.app.state.store
    if st is None:
        raise HTTPException(503, "this server has no feedback database (start it with --db)")
    return st


def check_key(request: Request, x_api_key: Annotated[str | None, Header()] = None) -> None:
    """401 unless the request carries the configured API key (X-API-Key or a Bearer token)."""
    key = request.app.state.settings.api_key
    if not key:
        return
    if not api_key_ok(x_api_key or "", request.headers.get("authorization", ""), key):
        raise HTTPException(
            401,
            "missing or wrong API key (send it in the X-API-Key header)",
            headers={"WWW-Authenticate": "Bearer"},
        )


Art = Annotated[Artifact, Depends(get_artifact)]


def limit_blas_threads() -> None:
    """One BLAS thread per process: requests (and ``--workers``) already give the parallelism, and
    multi-threaded BLAS on a tiny matrix-vector product only oversubscribes the cores."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with the serve extra
        return
    threadpool_limits(1)


def _unprocessable(loc: list[Any], msg: str, value: Any, kind: str = "value_error") -> HTTPException:
    """A 422 with FastAPI's validation-error body (one entry), as the OpenAPI schema declares."""
    return HTTPException(422, [{"type": kind, "loc": loc, "msg": msg, "input": value}])


def _refuse_a_number_as_id(art: Artifact, movie: object, loc: list[Any] | None = None) -> None:
    """``GET /movies/1.5`` (and its similar list): a number that is no whole one is a malformed movieId, a
    422 at ``loc`` (``["path", "movieId"]``) saying a movieId is a whole number
    (:meth:`Artifact.not_a_movie_id`). It was read as a title: "'1.5' is a title, not a movieId; give Patrik
    Age 1.5 (…)'s movieId". A title in the path stays the 404 naming its movieId (docs/serving.md). A body's
    movieId written so (``"movieId": "1.5"``) is the same 422 at its field: it was a 404 with these words."""
    said = art.not_a_movie_id(movie)
    if said is not None:
        raise _unprocessable(loc or ["path", "movieId"], said, movie)


def _refuse_a_number_as_user(art: Artifact, user: object, loc: list[Any]) -> None:
    """A userId that no userId of the data can be is a 422 at ``loc`` saying what a userId is, its input
    echoed (:meth:`Artifact.not_a_user_id`): a number that is no whole one (``/users/1.5/recommendations``,
    a body's ``"userId": "1.5"``), as ``GET /movies/1.5`` says it of a movieId, and in a body any other
    spelling of a number (``"007"``, ``"+7"``). ``POST /feedback`` and a visitor's ``POST /recommendations``
    take the same userIds by one rule: a list is never made for an id its feedback would refuse."""
    said = art.not_a_user_id(user, visitor=loc[0] == "body")
    if said is not None:
        raise _unprocessable(loc, said, user)


def _refuse_numbers_as_ids(art: Artifact, ratings: list[Any], history: list[Any] | None) -> None:
    """A visitor's rated or seen movieId written as a number that is no whole one (``"1.5"``) is a 422 at
    its entry, as ``GET /movies/1.5`` is (:func:`_refuse_a_number_as_id`); the deny-list says the same at its
    entry already (:func:`_check_denied`)."""
    for n, r in enumerate(ratings):
        _refuse_a_number_as_id(art, r.movieId, ["body", "ratings", n, "movieId"])
    for n, movie in enumerate(history or []):
        _refuse_a_number_as_id(art, movie, ["body", "history", n])


def _refuse_rating(art: Artifact, loc: list[Any], rating: float) -> None:
    """A rating outside the scale, or between two of the data's levels (4.25 or 3.7 on half stars: no rating
    the data holds, nor one a retrain could learn from), is a 422 at ``loc`` naming what is allowed. POST
    /feedback and a visitor's ratings in POST /recommendations refuse the same ratings with the same words:
    the visitor's list took 3.7 and ranked by it while the store refused it."""
    said = art.refused_rating(rating)  # the CLI's --rated refuses the same ratings with these words
    if said is not None:
        raise _unprocessable(loc, said, rating)


def _refuse_repeated_movies(art: Artifact, ratings: list[Any]) -> None:
    """A visitor's ratings naming one movie twice (``21`` and ``"21"`` included) are a 422 at the second,
    naming the movie and both entries: which rating should count is a guess, and the last one was kept
    silently (the CLI's ``--rated`` and ``movierec.Recommender.recommend_for`` refuse it too). An unknown
    movie is still the 404 it was (:meth:`Artifact.repeated_movie` finds it, as the Python API refuses it)."""
    repeated = art.repeated_movie([r.movieId for r in ratings])
    if repeated is not None:
        n, msg = repeated
        raise _unprocessable(["body", "ratings", n, "movieId"], msg, ratings[n].movieId)


def _refuse_repeated_history(art: Artifact, history: list[Any] | None) -> None:
    """A visitor's ``history`` naming one movie twice is a 422 at the second entry, as repeated ratings are:
    it was folded in with the movie counted twice (``[1, 1]`` answered 200), where
    ``movierec.Recommender.recommend_for([1, 1])`` and ``recommend --rated`` refuse it."""
    repeated = art.repeated_movie(history or [], "history")
    if repeated is not None:
        n, msg = repeated
        raise _unprocessable(["body", "history", n], msg, (history or [])[n])


_EXCLUDE = (
    "Comma-separated movieIds never to list (a deny-list, e.g. films not licensed in a region); the list is "
    "filled from the next best. An id the model does not know is a 422 naming it."
)


def _check_denied(art: Artifact, loc: list[Any], movies: list[Any] | None) -> None:
    """A deny-list's movie the artifact does not know is a 422 at its entry (``loc`` + its position), with
    :meth:`Artifact.item_index`'s words: a typo would otherwise leave the movie it meant in the list."""
    for n, movie in enumerate(movies or []):
        try:
            art.item_index(movie)
        except UnknownIdError as exc:
            # an unknown movieId says which ids there are (UnknownMovieError.in_api)
            in_api = getattr(exc, "in_api", None)
            raise _unprocessable([*loc, n], in_api() if callable(in_api) else str(exc), movie) from None


def _known_response(
    art: Artifact, u: int, rows: list[dict[str, Any]], because_note: str | None = None
) -> Response:
    """A training user's list as GET /users/{id}/recommendations answers it, the route's and serve's cached
    shortcut's one builder: with the popularity fallback where the model learned nothing of the user, and
    markov's note on its back-off rows (the shortcut once left the fallback out: 56de3387)."""
    back_off = art.back_off_note(u, rows)  # markov's rows no one rated next after the user's latest movie
    return _rec_response(
        art, art.raw_user(u), rows, art.known_fallback(u), because_note=because_note, note=back_off
    )


def _rec_response(
    art: Artifact,
    user: Any,
    recs: list[dict[str, Any]],
    fallback: str | None = None,
    similar_by: str | None = None,
    because_note: str | None = None,
    note: str | None = None,
) -> Response:
    """The one response shape of every recommending endpoint (:class:`RecommendationsResponse`).

    ``model`` names what ranked the list: the artifact's model, except for 'similar' by lift, whose
    neighbours come from the training data's co-likes whatever the model, so it reads ``"lift"`` there
    (an als artifact answered ``"model": "als"`` beside ``"similarBy": "lift"``, claiming als made them).
    ``ratingsCounted``, ``likedFrom`` and ``sequential`` describe the model of this list: served with several
    artifacts, a visitor's list can come from another model than GET /health's."""
    body = {
        "userId": user,
        "model": "lift" if similar_by == "lift" else art.model_name,
        "modelVersion": art.model_version,
        "recommendations": recs,
        # what each row's `ratings` counts, for this list's model: served with several artifacts, GET /health
        # describes the first only, and the page said "rated by N" of ease's likes
        "ratingsCounted": art.count_kind,
        "likedFrom": None if art.interactions_only else art.liked_from,
        # what a row's `because` is, for this list's model: the page took it from GET /health (the first
        # model's), so markov's list, served after ease, read "Because you liked" of its last movie
        "sequential": art.sequential and similar_by != "lift",
    }
    if fallback:
        body["fallback"] = fallback
    if because_note:
        body["becauseNote"] = because_note
    if similar_by:
        body["similarBy"] = similar_by
    if note:
        body["note"] = note
    return _json(body)


def _counts_said(art: Artifact) -> dict[str, Any]:
    """``ratingsCounted`` and ``likedFrom`` for the movie answers (GET /movies, /movies/{id}), as the lists
    carry them: ease's Toy Story read ``"ratings": 147`` (its likes; it has 215 ratings) with nothing saying
    so outside GET /health; the field keeps its name for the clients and the page that read it."""
    return {"ratingsCounted": art.count_kind, "likedFrom": art.liked_from}


def create_app(
    artifact: Artifact, store: FeedbackStore | None, settings: ServeSettings | None = None
) -> FastAPI:
    """The FastAPI application serving ``artifact``; feedback goes to ``store`` (``None``: POST /feedback is 503).

    The routes come in groups (:func:`_movie_routes`, :func:`_recommendation_routes`,
    :func:`_feedback_route`, the page), then the middleware (:func:`_middleware`)."""
    settings = settings or ServeSettings()
    limit_blas_threads()
    app = FastAPI(
        docs_url=None,  # /docs is served by install_docs: Swagger UI's files locally, not from a CDN
        redoc_url=None,
        title="movierec",
        version=artifact.model_version,
        summary=f"Top-N movie recommendations from a {artifact.model_name!r} model trained on {artifact.dataset_name}.",
    )
    app.state.artifact = artifact
    app.state.store = store
    app.state.settings = settings
    app.state.together_notes = []  # notes on the artifacts served beside this one: the version router sets them
    # GET /health's `models`: this artifact alone, unless the version router sets every served one
    app.state.served_models = [served_model(artifact, Path(artifact.path).name or "model0", 1.0)]

    install_error_handlers(app)  # one body shape per status, as the OpenAPI schema declares
    install_docs(app)
    # the read-only routes use the injected artifact directly (no per-request dependency)
    _movie_routes(app, artifact)
    _recommendation_routes(app, artifact)
    _feedback_route(app)
    _admin_reload_route(app)
    _probe_routes(app, artifact)
    if settings.static and STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")

        @app.get("/", include_in_schema=False)
        async def index() -> FileResponse:
            return FileResponse(
                STATIC / "index.html",
                headers={"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff"},
            )

    _middleware(app, artifact, settings)
    declare_model_choice(app)
    return app


#: ``?model=``, as the version router (:class:`~movierec.serving.dispatch.ModelRouter`) reads it on every path
MODEL_PARAMETER: dict[str, Any] = {
    "name": "model",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "title": "Model"},
    "description": (
        "Which served model answers: a `label` or `modelVersion` of GET /health's `models` (movierec serve "
        "with several --artifact). Without it, a user's request goes to the model their id is hashed to, "
        "any other to the first. One that names no served model is 404, naming those served."
    ),
}


def declare_model_choice(app: FastAPI) -> None:
    """Declare ``?model=`` and its 404 on each operation of ``app``'s /openapi.json once the version router
    serves it (``state.routed``): the router reads the parameter before any app sees the request and answers
    an unknown one 404 on every path, also ``GET /health`` and ``GET /movies``, whose schema declared neither
    the parameter nor a 404. ``POST /admin/reload`` is the router's own and ignores it. An app mounted without
    the router (``create_app`` in Python) ignores ``?model=`` and declares nothing."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema = plain()  # FastAPI's, cached on the app after the first call
        if fresh and getattr(app.state, "routed", False):
            for path, operations in schema.get("paths", {}).items():
                if path == "/admin/reload":
                    continue
                for operation in operations.values():
                    operation.setdefault("parameters", []).append(MODEL_PARAMETER)
                    answers = operation.setdefault("responses", {})
                    known = answers.get("404", {}).get("description", "").rstrip(".")
                    answers["404"] = {
                        "description": (known + ", or " if known else "") + "?model= names no served model.",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ErrorMessage"}}
                        },
                    }
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# What the routes share, declared once (FastAPI builds the OpenAPI schema from these): a raw user or movie id
# in the path, a list length in the query, and what a recommendations route answers.
RawId = Annotated[str, PathParam(max_length=128)]
ListLength = Annotated[int, Query(ge=1, le=500)]
SimilarBy = Annotated[
    Literal["lift", "model"] | None,
    Query(description="lift: liked together more often than chance (the default where the artifact holds it); "
          "model: the model's own similarity."),
]  # fmt: skip
_RECS: dict[str, Any] = {"response_model": RecommendationsResponse, "tags": ["recommendations"]}


def _movie_routes(app: FastAPI, art: Artifact) -> None:
    """GET /health, /movies, /movies/{movieId} and /movies/{movieId}/similar."""

    @app.get("/health", response_model=Health, tags=["service"])
    async def health(request: Request) -> Response:
        """Liveness and what is being served: model, version, dataset, created-at, item count, … of the
        artifact that answered (the first, unless ``?model=`` names another); ``models``, each served
        artifact's own description, in serving order, and how a request reaches it; ``notes`` on the artifacts
        served together (two versions of one dataset, said by serve at start and on a reload)."""
        state = request.app.state
        notes = state.together_notes  # set by the version router (serving.together); [] for one artifact
        body = {"status": "ok", **art.info(), "feedback": state.store is not None, "notes": notes}
        return _json({**body, "models": state.served_models})

    @app.get("/movies", response_model=MovieList, tags=["movies"])
    async def movies(
        search: Annotated[
            str, Query(max_length=200, description="Part of a title; case and accents ignored.")
        ] = "",
        limit: ListLength = 20,
        q: Annotated[
            str, Query(max_length=200, description="The same as search, by the name most search APIs use.")
        ] = "",
    ) -> Response:
        """Movies whose title contains ``search`` (titles, then words, starting with it first; then by popularity);
        empty: the most rated.

        ``unrated`` names the catalogue movies containing it that nobody rated (the model cannot use them).
        When nothing contains it, ``didYouMean`` lists titles spelled like it. ``q`` is another name for
        ``search`` (``?q=toy``).
        """
        search = search or q
        found = art.search(search, limit)
        body: dict[str, Any] = {"query": search, "movies": found, **_counts_said(art)}
        unrated = art.unrated_matches(search, limit)  # in the catalogue, rated by nobody: Niagara (1953)
        if unrated:
            body["unrated"] = unrated
        elif not found and search.strip():
            # titles spelled like it: tens of milliseconds from an index of the titles, but its first query
            # builds the index (0.1 s on ml-latest-small, more on a busy machine). On the event loop the old
            # scan of every title held up every request after it; in the threadpool the loop answers them.
            body["didYouMean"] = await run_in_threadpool(art.suggest, search)
        return _json(body)

    @app.get("/movies/{movieId}", response_model=MovieDetail, tags=["movies"], responses=responses(404))
    async def movie(movieId: RawId) -> Response:
        """One movie: title, year, genres and how many training ratings it has (``ratingsCounted``: all of
        them, or the likes, the ratings at or above ``likedFrom``, that the model learned from)."""
        _refuse_a_number_as_id(art, movieId)
        return _json({**art.movie(movieId), **_counts_said(art)})

    @app.get("/movies/{movieId}/similar", **_RECS, responses=responses(404))
    async def similar(movieId: RawId, k: ListLength = 10, by: SimilarBy = None) -> Response:
        """Movies most like this one, shrunk by how many users rated both; movies under the support floor
        are left out. ``by=lift`` (the default where the artifact holds it): liked together with it more often
        than chance says; ``by=model``: the model's own similarity (cosine of its item vectors, or its
        neighbour list or item weights)."""
        if by == "lift" and art.similar_by() == "model":  # exported before the lift table: no such list
            raise _unprocessable(
                ["query", "by"],
                "this server's artifact was exported before 'similar' by lift and holds no lift table; "
                "ask by=model (its list without by=), or have it exported again",
                by,
            )
        _refuse_a_number_as_id(art, movieId)
        chosen = art.similar_by(by)
        rows = art.similar_rows(movieId, k, by=chosen)
        thin = art.similar_thin_note(movieId, by=chosen) if rows else None  # one or two people's likes
        return _rec_response(art, None, rows, similar_by=chosen, note=thin)


def _recommendation_routes(app: FastAPI, art: Artifact) -> None:
    """GET /users/{userId}/recommendations and POST /recommendations (a visitor)."""

    @app.get("/users/{userId}/recommendations", **_RECS, responses=responses(404))
    async def user_recommendations(
        userId: RawId,
        k: ListLength = 10,
        exclude_seen: bool = True,
        genres: Annotated[
            str | None, Query(max_length=1000, description="Comma-separated, e.g. Comedy,Drama")
        ] = None,
        rerank: Annotated[
            str | None,
            Query(
                max_length=40,
                pattern=_RERANK,
                description="Re-rank the list: mmr:λ (diversity), calibrated:λ (genre calibration), "
                "xquad:λ or pop:λ (long tail); λ in 0..1, e.g. mmr:0.3 (docs/beyond-accuracy.md).",
            ),
        ] = None,
        explain: Annotated[
            bool,
            Query(
                description="Add ``because`` to each movie: the user's movies it depends on most (leave-one-out "
                "on their training row; a k-NN rating model's: each rated neighbour's share of the prediction). "
                "Item-based models (ease, itemknn, rp3beta, slim) and k-NN rating models (knn-basic, knn-means, "
                "knn-zscore, knn-baseline) only; others answer 422.",
            ),
        ] = False,
        exclude: Annotated[str | None, Query(max_length=20000, description=_EXCLUDE)] = None,
    ) -> Response:
        """Top-``k`` movies for a user of the training data."""
        wanted = [g for g in genres.split(",") if g.strip()] if genres else None
        denied = [m.strip() for m in exclude.split(",") if m.strip()] if exclude else None
        _refuse_a_number_as_user(art, userId, ["path", "userId"])
        _check_denied(art, ["query", "exclude"], denied)
        u = art.served_user_index(userId)
        if explain and not art.explains_known_users:
            from movierec.scoring.explain import known_user_refusal
            from movierec.serving.artifact import visitor_explain

            instead = visitor_explain(art.model_name, art.family)
            raise _unprocessable(["query", "explain"], known_user_refusal(art.model_name, instead), True)
        rows = art.recommend_index(
            u, k, exclude_seen=exclude_seen, genres=wanted, rerank=rerank, explain=explain, exclude=denied
        )
        note = art.because_note(rows) if explain else None  # a k-NN rating model's rows may have no reason
        return _known_response(art, u, rows, because_note=note)

    @app.post("/recommendations", **_RECS, responses=responses(404, 413))
    async def visitor_recommendations(body: RecommendRequest) -> Response:
        """Recommendations for someone not in the training data, from a few ratings (fold-in) or an ordered history.

        Sequence models (markov, sasrec) read ``history`` (oldest first), or the ratings in the
        order given; the movies in either are never recommended back.
        """
        if not body.ratings and not body.history and body.features is None:
            msg = "give ratings (at least one) or history (at least one movieId)"
            raise _unprocessable(["body", "ratings"], msg, [], "too_short")
        for n, r in enumerate(body.ratings):
            _refuse_rating(art, ["body", "ratings", n, "rating"], r.rating)
        _refuse_numbers_as_ids(art, body.ratings, body.history)
        _refuse_a_number_as_user(art, body.userId, ["body", "userId"])
        _refuse_repeated_movies(art, body.ratings)
        _refuse_repeated_history(art, body.history)
        _check_denied(art, ["body", "exclude"], body.exclude)
        pairs = [(r.movieId, r.rating) for r in body.ratings]
        if body.features is not None:  # a visitor described by their features (issue 20)
            try:
                recs = art.recommend_for_visitor(
                    body.features, pairs, body.k, genres=body.genres, exclude=body.exclude
                )
            except FeatureValueError as exc:
                loc = ["body", "features"] + ([] if exc.field == "features" else [exc.field])
                value = body.features.get(exc.field) if exc.field != "features" else None
                raise _unprocessable(loc, str(exc), value) from None
            return _rec_response(art, body.userId, recs)
        out = art.visitor(
            pairs,
            body.k,
            history=body.history,
            genres=body.genres,
            explain=body.explain,
            exclude=body.exclude,
        )
        last = body.history[-1] if body.history else body.ratings[-1].movieId if body.ratings else None
        back_off = None if out["fallback"] else art.visitor_back_off_note(last, out["recommendations"])
        return _rec_response(
            art,
            body.userId,
            out["recommendations"],
            out["fallback"],
            because_note=out.get("becauseNote"),
            note=back_off,
        )


def _feedback_route(app: FastAPI) -> None:
    """POST /feedback (behind the API key, when one is set)."""

    @app.post(
        "/feedback",
        response_model=FeedbackOut,
        tags=["feedback"],
        dependencies=[Depends(check_key)],
        responses={
            201: {"model": FeedbackOut, "description": "Stored (a new requestId)."},
            **responses(401, 404, 409, 413, 503),
        },
    )
    def feedback(body: FeedbackIn, art: Art, store: Annotated[FeedbackStore, Depends(get_store)]) -> Response:
        """Store one rating durably; retries with the same ``requestId`` store it once (201 new, 200 repeat)."""
        _refuse_rating(art, ["body", "rating"], body.rating)
        _refuse_a_number_as_id(art, body.movieId, ["body", "movieId"])
        _refuse_a_number_as_user(art, body.userId, ["body", "userId"])
        movie = art.item_map.to_raw(art.item_index(body.movieId))  # unknown movie -> 404; look-alikes too
        user = art.user_map.canonical(body.userId, "userId")  # "7" or 7 is stored as the data spells it: 7
        row, created = store.add(
            body.requestId,
            str(user),
            str(movie),
            body.rating,
            model_version=art.model_version,
            model=art.model_name,
        )
        return _json({"id": row.id, "requestId": row.request_id, "created": created}, 201 if created else 200)


def _admin_reload_route(app: FastAPI) -> None:
    """POST /admin/reload, declared so that /openapi.json holds it with every answer it gives.

    :class:`~movierec.serving.dispatch.ModelRouter` answers this path before any per-version app sees it
    (it reloads every served version at once), so under ``movierec serve`` this handler never runs; it is
    here for the schema. An app built without the router (``create_app`` in a notebook or a test) has
    nothing to reload and answers 403.
    """

    @app.post(
        "/admin/reload",
        response_model=ReloadResult,
        tags=["admin"],
        summary="Reload every served artifact",
        responses={
            200: {
                "model": ReloadResult,
                "description": "Every artifact loaded and verified: they serve now.",
            },
            **responses(401, 403),
            422: {
                "model": ReloadResult,
                "description": "An artifact failed to load or verify (status 'refused', detail says why); the "
                "versions serving before keep serving.",
            },
        },
    )
    def admin_reload(
        x_api_key: Annotated[
            str | None, Header(description="The server's API key (--api-key-file); no key: 401.")
        ] = None,
    ) -> Response:
        """Re-read every ``--artifact`` path (a deploy flips a symlink there), verify the new artifacts completely,
        then swap them in at once; a bad one is refused and the old ones keep serving. Needs the server's API key
        in ``X-API-Key`` or as ``Authorization: Bearer KEY``; a server started without a key answers 403
        (reload it with SIGHUP instead)."""
        raise HTTPException(403, "this app has no version router to reload (start it with movierec serve)")


def _probe_routes(app: FastAPI, art: Artifact) -> None:
    """GET /healthz and /readyz, declared so that /openapi.json holds them with their 200 and 503 bodies.

    Under ``movierec serve`` :class:`~movierec.serving.observe.Observability` answers both before any app sees
    the request (readiness covers every served version), so these handlers run only in an app built without
    it (``create_app`` in a notebook or a test), where they answer the same bodies for their one version.
    """
    from movierec.serving.observe import DB_DOWN, READY_503, readiness

    @app.get("/healthz", response_model=Alive, tags=["service"], summary="Liveness probe")
    async def healthz() -> Response:
        """200 while the process runs its event loop; a load balancer's liveness probe."""
        return _json({"status": "ok"})

    @app.get(
        "/readyz",
        response_model=Ready,
        tags=["service"],
        summary="Readiness probe",
        responses={503: {"model": NotReady, "description": READY_503}},
    )
    def readyz(request: Request) -> Response:
        """200 when an artifact is loaded and the feedback database (if any) answers a query; else 503 with the
        reason, so a load balancer takes the server out of rotation while it is not ready."""
        store = request.app.state.store
        reason = None if store is None or store.ping() else DB_DOWN
        status, body = readiness(reason, [str(art.model_version)])
        return _json(body, status)


def _middleware(app: FastAPI, art: Artifact, settings: ServeSettings) -> None:
    """The fast path for GET /users/{id}/recommendations (innermost), CORS when asked, the body limit (outermost)."""

    def user_recs_body(user_id: str, k: int, exclude_seen: bool) -> bytes:
        u = art.user_index(user_id)
        return bytes(_known_response(art, u, art.recommend_index(u, k, exclude_seen=exclude_seen)).body)

    app.add_middleware(
        FastRecommendations, build=user_recs_body, cache_size=settings.rec_cache_size
    )  # innermost
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key"],
        )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` worker processes: reads what ``movierec serve`` put in the environment."""
    from movierec.serving.artifact import load_artifact

    artifact_dir = os.environ.get("MOVIEREC_ARTIFACT")
    if not artifact_dir:
        raise ConfigError(
            "MOVIEREC_ARTIFACT is not set (start the server with 'movierec serve --artifact DIR')"
        )
    return create_app(load_artifact(artifact_dir), store_from_env(), ServeSettings.from_env())
