"""Error bodies of the HTTP API, one shape per status, as the OpenAPI schema declares them.

Every 422 is ``{"detail": [{"type", "loc", "msg", "input"?}]}`` (FastAPI's ``HTTPValidationError``);
every other 4xx is ``{"detail": "one sentence"}`` (:class:`~movierec.serving.schemas.ErrorMessage`).
The one exception is a refused ``POST /admin/reload`` (answered by the version router, not here): its 422
is the reload's result, :class:`~movierec.serving.schemas.ReloadResult`, as the schema declares.
Three things the framework gets wrong are fixed here:

- a JSON body holding ``NaN``, ``Infinity``, ``-Infinity`` or ``1e400`` (Python's ``json`` accepts
  them) fails validation, and FastAPI's default handler then cannot serialise ``"input": nan`` and
  answers 500. :func:`json_safe` writes such numbers as the strings ``"NaN"``, ``"Infinity"`` and
  ``"-Infinity"`` in the echoed input.
- a body sent without ``Content-Type: application/json`` (``curl -d`` alone sends a form) or no body at
  all got FastAPI's words for the schema ("Input should be a valid dictionary or object to extract
  fields from", "Field required"); :func:`_said_plainly` says what to send instead.
- a body that is not JSON at all for reasons other than syntax (not UTF-8, nested thousands deep,
  an integer of thousands of digits) gets FastAPI's 400 "There was an error parsing the body";
  here it is a 422 ``json_invalid`` naming the reason, like a syntax error.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from movierec.errors import MovierecError, UnknownIdError

__all__ = ["ERROR_RESPONSES", "install_error_handlers", "json_safe"]

_MAX_DEPTH = 64  # deeper echoed inputs are summarised (bounded work for a hostile body)


def json_safe(obj: Any, _depth: int = 0) -> Any:
    """``obj`` with non-finite floats as ``"NaN"``/``"Infinity"``/``"-Infinity"`` and bytes as text (JSON-serialisable)."""
    if isinstance(obj, float):
        if math.isnan(obj):
            return "NaN"
        if math.isinf(obj):
            return "Infinity" if obj > 0 else "-Infinity"
        return obj
    if _depth > _MAX_DEPTH:
        return "…"
    if isinstance(obj, dict):
        return {str(k): json_safe(v, _depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v, _depth + 1) for v in obj]
    if isinstance(obj, (bytes, bytearray)):
        return bytes(obj[:200]).decode("utf-8", errors="replace")
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return str(obj)


def _reply(status: int, detail: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps({"detail": json_safe(detail)}, separators=(",", ":"), allow_nan=False)
    return Response(body.encode(), status_code=status, media_type="application/json", headers=headers)


#: an echoed list longer than this shows its first :data:`_ECHO_HEAD` entries and a count; a text longer than
#: :data:`_ECHO_CHARS` its start and its length. 1,001 ratings (one past the limit) were echoed whole: 27 KB
#: of the client's own body around the one sentence that mattered
_ECHO_ITEMS, _ECHO_HEAD, _ECHO_CHARS = 10, 3, 1000


def _cut(value: Any) -> Any:
    """An echoed ``input`` short enough to read: a long list's first entries then ``"… and 998 more (1,001 in
    all)"``, a long text's first characters then ``"… (65,000 characters)"``, at any depth (a body's
    ``ratings`` inside it too). The schema's ``input`` takes any JSON, so the body still matches it."""
    if isinstance(value, list):
        if len(value) > _ECHO_ITEMS:
            more = len(value) - _ECHO_HEAD
            return [*map(_cut, value[:_ECHO_HEAD]), f"… and {more:,} more ({len(value):,} in all)"]
        return [_cut(v) for v in value]
    if isinstance(value, dict):
        return {k: _cut(v) for k, v in value.items()}
    if isinstance(value, str) and len(value) > _ECHO_CHARS:
        return f"{value[: _ECHO_CHARS // 5]}… ({len(value):,} characters)"
    return value


def _items(errors: Any) -> list[dict[str, Any]]:
    """Validation errors as the schema's items: ``type``, ``loc``, ``msg`` and, when present, ``input``."""
    out = []
    for e in jsonable_encoder(json_safe(list(errors))):
        item = {
            "type": str(e.get("type", "value_error")),
            "loc": list(e.get("loc", [])),
            "msg": str(e["msg"]),
        }
        if "input" in e:
            item["input"] = _cut(e["input"])
        if isinstance(e.get("ctx"), dict):
            item["ctx"] = e["ctx"]
        out.append(item)
    return out


def _undecodable(cause: BaseException | None) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return f"the body is not UTF-8 text (byte {cause.start} cannot be decoded); send UTF-8 JSON"
    if isinstance(cause, RecursionError):
        return "the JSON body is nested too deeply"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "the JSON body holds an integer with too many digits"
    return "the body is not valid JSON"


_JSON_TYPES = ("application/json", "+json")


def _said_plainly(request: Request, item: dict[str, Any]) -> dict[str, Any]:
    """A 422 on the whole body said as what to send: the two mistakes a first ``curl`` makes.

    ``curl -d '{…}'`` without ``-H 'content-type: application/json'`` sends a form
    (``application/x-www-form-urlencoded``); FastAPI then reads the body as text and said "Input should be a
    valid dictionary or object to extract fields from", echoing the very JSON that was meant. A POST with
    no body said "Field required". The type, loc and input stay FastAPI's; only ``msg`` changes.
    """
    if item["loc"] != ["body"]:
        return item
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if item["type"] == "model_attributes_type" and isinstance(item.get("input"), str):
        if not ctype.endswith(_JSON_TYPES):
            sent = f"Content-Type {ctype}" if ctype else "no Content-Type"
            msg = (
                f"the body was sent with {sent}, so it was not read as JSON; send it with the header "
                "Content-Type: application/json (curl: -H 'content-type: application/json')"
            )
            return {**item, "msg": msg}
    if item["type"] == "missing":
        return {
            **item,
            "msg": "the body is empty; send a JSON object with the header Content-Type: application/json",
        }
    return item


#: what a field with a pattern takes, said in words: pydantic's own message quoted the regular expression
#: ("String should match pattern '^(mmr|calibrated|xquad|pop)(:(0|1|0?\\.[0-9]+|…'")
_PATTERN_WORDS = {
    "rerank": "expected mmr, calibrated, xquad or pop, with an optional λ between 0 and 1 after a colon "
    "(e.g. mmr:0.3)",
    "requestId": "use only letters, digits and . _ : - (1 to 128 characters)",
}


#: what a required field is, where its name alone does not say it: pydantic's "Field required" left a client
#: to guess what a requestId is and where it comes from
_MISSING_WORDS = {
    "requestId": "Field required: requestId is an id the client chooses for each rating (a UUID, say; letters, "
    "digits and . _ : -, 1 to 128 characters); sending a rating again with the same requestId stores it once, "
    "so a retry is safe",
}


def _missing_in_words(item: dict[str, Any]) -> dict[str, Any]:
    """A missing body field said as what it is (:data:`_MISSING_WORDS`); type, loc and input stay pydantic's."""
    words = _MISSING_WORDS.get(str(item["loc"][-1])) if item["loc"][:1] == ["body"] else None
    if item["type"] != "missing" or words is None:
        return item
    return {**item, "msg": words}


def _pattern_in_words(item: dict[str, Any]) -> dict[str, Any]:
    """A value that misses its field's pattern, said as what the field takes (:data:`_PATTERN_WORDS`); the
    type, loc, input and ctx (the pattern itself) stay pydantic's."""
    words = _PATTERN_WORDS.get(str(item["loc"][-1])) if item["loc"] else None
    if item["type"] != "string_pattern_mismatch" or words is None:
        return item
    return {**item, "msg": words}


#: the errors of a body's id that no id can be (schemas.MovieId, schemas.UserId): the field each is about
_ID_ERRORS = {"movie_id_invalid": "movieId", "user_id_invalid": "userId"}


def _id_in_words(request: Request, error: dict[str, Any]) -> dict[str, Any]:
    """A movieId or userId that no id can be, said as ``GET /movies/1.5`` says a malformed movieId: one
    ``value_error`` at the field in the served artifact's words
    (:meth:`~movierec.serving.artifact.Artifact.not_an_id_value`), "1.5 is not a movieId: a movieId is a
    whole number written in digits (1, 296, 2571); …", "a userId has at most 128 characters (this one has
    129)". A body's (the schema's ``movie_id_invalid``, ``user_id_invalid``: ``1.5``, ``true``, ``null``, an
    integer past 64 bits, text empty or too long) was pydantic's two lines; a path's text over 128 characters
    its "String should have at most 128 characters"."""
    art = getattr(request.app.state, "artifact", None)
    loc = list(error.get("loc", ()))
    field = _ID_ERRORS.get(str(error.get("type")))
    if (
        error.get("type") == "string_too_long"
        and loc[:1] == ["path"]
        and loc[-1:] in (["movieId"], ["userId"])
    ):
        field = str(loc[-1])
    if field is None or art is None:
        return error
    words = {"type": "value_error", "msg": art.not_an_id_value(field, error.get("input"))}
    return {k: v for k, v in {**error, **words}.items() if k != "ctx"}


def _loc_of(request: Request, message: str) -> list[str]:
    """Where a library error points: ``["query"|"path"|"body", field]`` when the message starts with a field name."""
    field, sep, _ = message.partition(":")
    where = "body" if request.method == "POST" else "query"
    return [where, field] if sep and field.isidentifier() else [where]


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the body the OpenAPI schema declares."""

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [_id_in_words(request, e) for e in exc.errors()]
        items = [_missing_in_words(_pattern_in_words(_said_plainly(request, i))) for i in _items(errors)]
        return _reply(422, items)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and exc.__cause__ is not None:  # FastAPI could not parse the body
            msg = _undecodable(exc.__cause__)
            return _reply(422, [{"type": "json_invalid", "loc": ["body"], "msg": msg}])
        detail: Any = exc.detail
        if exc.status_code == 404 and detail == "Not Found":  # the router's: no route at this path
            detail = f"Not Found: no endpoint at {request.url.path[:200]}; see /docs for the endpoints"
        if exc.status_code == 422 and not isinstance(detail, list):
            detail = [{"type": "value_error", "loc": ["body"], "msg": str(detail)}]
        elif exc.status_code == 422:
            detail = _items(detail)
        return _reply(exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(MovierecError)
    async def _movierec(request: Request, exc: MovierecError) -> Response:
        from movierec.serving.store import FeedbackConflict, FeedbackUnavailable
        from movierec.titles import UnknownGenreError

        if isinstance(exc, UnknownIdError):  # an unknown movie says which ids there are (UnknownMovieError)
            in_api = getattr(exc, "in_api", None)
            return _reply(404, in_api() if callable(in_api) else str(exc))
        if isinstance(exc, FeedbackConflict):
            return _reply(409, str(exc))
        if isinstance(exc, FeedbackUnavailable):  # down or restarting: the client retries, the log says why
            print(f"warning: {request.url.path}: {exc} ({exc.cause})", file=sys.stderr, flush=True)
            return _reply(503, str(exc), {"Retry-After": "1"})
        item: dict[str, Any] = {"type": "value_error", "loc": _loc_of(request, str(exc)), "msg": str(exc)}
        if isinstance(exc, UnknownGenreError):  # no endpoint lists the genres: the 422 carries them
            item.update(msg=exc.in_api(), input=exc.genre, ctx={"known": exc.known})
        return _reply(422, [item])


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "model": _message_model()}


def _message_model() -> Any:
    from movierec.serving.schemas import ErrorMessage

    return ErrorMessage


ERROR_RESPONSES: dict[int, dict[str, Any]] = {
    401: _error("Missing or wrong API key."),
    403: _error("POST /admin/reload on a server started without an API key."),
    404: _error("Unknown user or movie id."),
    409: _error("The requestId was already used for a different rating."),
    413: _error("Request body larger than --max-body-kb."),
    503: _error(
        "This server has no feedback database, or its feedback database does not answer (down or restarting: "
        "retry, with the same requestId)."
    ),
}
"""``responses=`` entries for route decorators: pick the statuses a route can answer."""


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The declared error responses of a route (422 is added by FastAPI for routes with parameters)."""
    return {c: ERROR_RESPONSES[c] for c in codes}
