"""Request and response models of the HTTP API (pydantic); they also drive the OpenAPI page at ``/docs``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import PydanticCustomError

__all__ = [
    "ErrorMessage",
    "FeedbackIn",
    "FeedbackOut",
    "Health",
    "Movie",
    "MovieList",
    "MovieRef",
    "RatingIn",
    "RecommendRequest",
    "Recommendation",
    "RecommendationsResponse",
    "ReloadResult",
    "ServedModel",
    "UnratedMovie",
]


def _no_nul(value: int | str) -> int | str:
    """``value`` unchanged, or a 422 when it is text holding U+0000 (NUL).

    PostgreSQL's text cannot hold NUL: a ``POST /feedback`` whose ``userId`` held one got past validation
    and failed in the INSERT, a 500 with a traceback in the server's log (SQLite stored it). Other control
    characters are stored as sent; an integer's look-alike spellings (``"1\\n"``) stay 404s and feedback's
    own rule, as before.
    """
    if isinstance(value, int) or "\x00" not in value:
        return value
    raise PydanticCustomError("id_nul_character", "an id may not hold the NUL character (U+0000)")


#: what the API takes as an id: an integer of 64 bits, or text of 1 to 128 characters
ID_MIN, ID_MAX, ID_MAX_CHARS = -(2**63), 2**63 - 1, 128

RawId = Annotated[
    Annotated[int, Field(strict=True, ge=ID_MIN, le=ID_MAX)]
    | Annotated[str, Field(min_length=1, max_length=ID_MAX_CHARS)],
    # on the union, not its text branch, so a 422's loc is the field's own (["body", "userId"])
    AfterValidator(_no_nul),
]
"""A raw user or movie id as the dataset spells it (MovieLens uses integers; custom data may use strings);
text ids hold no NUL (U+0000)."""


def _is_raw_id(value: object) -> bool:
    """Whether ``value`` is of :data:`RawId`'s types and within its bounds (NUL is its own check)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return ID_MIN <= value <= ID_MAX
    return isinstance(value, str) and 1 <= len(value) <= ID_MAX_CHARS


def _one_id_error(field: str) -> Callable[[object, ValidatorFunctionWrapHandler], object]:
    """A validator giving a ``field`` (``movieId``, ``userId``) that no id can be one error at the field,
    ``movie_id_invalid`` or ``user_id_invalid``, which the app words as ``GET /movies/1.5`` words a malformed
    movieId (:meth:`~movierec.serving.artifact.Artifact.not_an_id_value`): a value of neither type (``1.5``,
    ``true``, ``null``), an integer past 64 bits (``99999999999999999999``), text empty or over 128
    characters. Pydantic said each in two errors, one per branch of :data:`RawId` ("Input should be a valid
    integer", "String should have at most 128 characters") at ``[…, field, "constrained-int"]`` and
    ``"constrained-str"``."""
    kind = "movie_id_invalid" if field == "movieId" else "user_id_invalid"

    def check(value: object, handler: ValidatorFunctionWrapHandler) -> object:
        if _is_raw_id(value):
            return handler(value)
        raise PydanticCustomError(
            kind, f"not a {field}: a whole number of 64 bits or text of 1 to 128 characters"
        )

    return check


MovieId = Annotated[RawId, WrapValidator(_one_id_error("movieId"))]
"""A raw movie id in a request body: :data:`RawId` (its schema unchanged), with one readable error for a
value that no movieId can be."""
UserId = Annotated[RawId, WrapValidator(_one_id_error("userId"))]
"""A raw user id in a request body: :data:`RawId` (its schema unchanged), with one readable error for a
value that no userId can be."""

Rating = Annotated[
    float,
    Field(
        strict=True,
        allow_inf_nan=False,
        description="A rating on the model's scale (GET /health's ratingScale) and on the data's step (its "
        "ratingStep: 0.5, 1, …, 5 on half stars); 4.25 or 3.7 on half stars is a 422 naming the steps.",
    ),
]
K = Annotated[int, Field(strict=True, ge=1, le=500, description="How many recommendations (1..500).")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MovieRef(BaseModel):
    movieId: int | str
    title: str


# what a movie's `ratings` counts, as the CLI's lists head the column ('ratings', 'ratings of 4+', 'interactions':
# display.counted, from display.count_kind: the rule ratingsCounted is) and /health's likedFrom says it
_SUPPORT = (
    "How many training ratings the movie has, counted as the model learned from them. Rating models (kind "
    "explicit) and sequence models count every rating (likedFrom null). Models that learned from liked movies "
    "(kind implicit: ease, als, bpr, …) count only the ratings at or above GET /health's likedFrom (export's "
    "--implicit-threshold, 4 by default): on ml-latest-small Toy Story has 215 ratings, 147 of them 4 or more. "
    "On data without ratings (a log of who watched what, every row a 1) likedFrom is 1: every interaction counts."
)


class Recommendation(BaseModel):
    movieId: int | str
    title: str
    year: int | None
    genres: list[str]
    score: float = Field(
        description="The ranking score of what made the list (higher is better). For a user's or a visitor's "
        "list, the model's: for rating models the predicted rating shrunk towards the mean by how many ratings "
        "the movie has, the same number the Python model's score() gives; under a popularity fallback, the "
        "movie's count. On GET /movies/{movieId}/similar, the similarity (lift or the model's own, see "
        "similarBy) shrunk by how many users rated both."
    )
    ratings: int | None = Field(default=None, description=_SUPPORT)
    predictedRating: float | None = Field(
        default=None, description="Rating models only: the predicted rating, clipped to the rating scale."
    )
    because: list[MovieRef] | None = Field(
        default=None,
        description="With explain=true: the (up to two) rated movies this recommendation depends on most, "
        "by leaving each out of the fold-in. A rating model's count only what they raise this movie's predicted "
        "rating beyond what they raise every movie's (a shift of how generously the person rates explains "
        "nothing); a k-NN rating model's are the rated neighbours with the largest shares of the prediction "
        "(s_ij (r_uj - b_uj) / sum of s over the neighbours used). So a row can have none: becauseNote then "
        "says why. A sequence model's (the response's sequential: markov, sasrec, gru4rec) is the latest movie "
        "given, the last of `history` or else of the ratings in the order given, for every row and whatever "
        "its rating: the list is what comes next after it, and the ratings' values play no part.",
    )
    imdbId: str | None = Field(
        default=None, description="IMDb id (digits, without 'tt') when links.csv had one."
    )
    tmdbId: str | None = Field(default=None, description="TMDb id when links.csv had one.")


class RecommendationsResponse(BaseModel):
    """The one shape every recommending endpoint returns."""

    userId: int | str | None = Field(description="The user the list is for (null for an anonymous visitor).")
    model: str = Field(
        description="What ranked the list: the served model's name (GET /health's model), or 'lift' on "
        "GET /movies/{movieId}/similar listed by lift (similarBy 'lift': co-likes in the training data, not the "
        "model's own similarity). With fallback set, the model could not use the input: the list is the ranking "
        "fallback names."
    )
    modelVersion: str = Field(description="Content hash of the artifact that produced the list.")
    recommendations: list[Recommendation]
    fallback: str | None = Field(
        default=None, description="Set when the model could not use the input and another ranking was served."
    )
    becauseNote: str | None = Field(
        default=None,
        description="With explain=true, set when some recommendations of a rating model have an empty because: "
        "why, once for the list (leaving out any one rated movie moved their predicted rating no more than "
        "every movie's, or, for a k-NN model, no rated neighbour holds a share above 1% of the scale; "
        "baseline's list never depends on which movies were rated, only on how generously). For a sequence "
        "model (sequential) it is always set with explain=true: every row's because is the last "
        "movie given, whatever its rating; for a model with one list for everyone (sameForEveryone) too: no "
        "movie given is a reason.",
    )
    ratingsCounted: Literal["ratings", "likes", "interactions"] = Field(
        description="What each recommendation's `ratings` counts, for the model that made this list (served with "
        "several artifacts, a visitor's list can come from another model than GET /health's top level describes; "
        "its `models` has each one's): "
        "'ratings' (every training rating: rating models and sequence models), 'likes' (the ratings at or above "
        "likedFrom: models that learned from liked movies, ease, als, bpr, …) or 'interactions' (data without "
        "ratings: the people in whose history the movie is). The web page words its counts from it: 'rated by "
        "N people', 'liked by N people (rated 4+)', 'in N people's history'."
    )
    likedFrom: float | None = Field(
        default=None,
        description="With ratingsCounted 'likes': the rating from which a rating counted as a like (4 by "
        "default); null otherwise.",
    )
    sequential: bool = Field(
        description="Whether the model that made this list is a sequence model (markov, sasrec, gru4rec): each "
        "recommendation's `because` is then the latest movie given, whatever its rating (the list is what comes "
        "next after it), not a movie the visitor liked. Served with several artifacts, a visitor's list can come "
        "from another model than GET /health's top-level `sequential` describes (its `models` has each one's): "
        "the web page words a reason from this "
        "field, 'After Toy Story (1995), the last of your ratings' for true, 'Because you liked Toy Story "
        "(1995)' for false. False on GET /movies/{movieId}/similar by lift (the training data's co-likes, no "
        "model's history)."
    )
    similarBy: Literal["lift", "model"] | None = Field(
        default=None,
        description="GET /movies/{movieId}/similar only: 'lift' (movies liked together with this one more "
        "often than chance says, from the training data, whatever the model) or 'model' (the model's own "
        "similarity: cosine of its item vectors, or its neighbour list or item weights).",
    )
    note: str | None = Field(
        default=None,
        description="GET /users/{userId}/recommendations from markov: which rows no one rated right after the "
        "user's latest movie in training, so their scores are the popularity back-off ('rows 2-10: in training no "
        "one rated them next after 20 Dates (1998), user 1's latest movie; their scores are the popularity "
        "back-off (most ratings first)'), the line under `movierec recommend --user 1 -m markov`'s table; "
        "POST /recommendations from markov: the same of the visitor's latest movie (the last of history, else "
        "of ratings). "
        "GET /movies/{movieId}/similar: set when the list by lift rests on one or two people "
        "(the movie has one or two training likes, ratings ≥ GET /health's likedFrom), so it is their other "
        "likes, not a pattern across many people: 'only one person liked Tokyo Story (Tôkyô monogatari) "
        "(1953) in training (ratings ≥ 4): the list is the other movies they liked, not a pattern across "
        "many people'. The words of `movierec similar`'s note and its --json `note`.",
    )


class Movie(BaseModel):
    movieId: int | str
    title: str
    year: int | None
    genres: list[str]
    ratings: int = Field(description=_SUPPORT)
    imdbId: str | None = Field(
        default=None, description="IMDb id (digits, without 'tt') when links.csv had one."
    )
    tmdbId: str | None = Field(default=None, description="TMDb id when links.csv had one.")


class UnratedMovie(BaseModel):
    """A movie of the training data's catalogue (its movies file) that nobody rated."""

    movieId: int | str
    title: str


_COUNTED = (
    "What each movie's `ratings` counts under this artifact's model, as a list's ratingsCounted: 'ratings' "
    "(every training rating), 'likes' (the ratings at or above likedFrom: ease, als, bpr, …; Toy Story's 147 "
    "of its 215 ratings on ml-latest-small) or 'interactions' (data without ratings: the people in whose "
    "history the movie is)."
)
_LIKED_FROM = "With ratingsCounted 'likes': the rating from which a rating counts as a like; null otherwise."


class MovieDetail(Movie):
    """GET /movies/{movieId}: the movie, with what its ``ratings`` counts."""

    ratingsCounted: Literal["ratings", "likes", "interactions"] = Field(description=_COUNTED)
    likedFrom: float | None = Field(default=None, description=_LIKED_FROM)


class MovieList(BaseModel):
    query: str
    movies: list[Movie]
    ratingsCounted: Literal["ratings", "likes", "interactions"] = Field(description=_COUNTED)
    likedFrom: float | None = Field(default=None, description=_LIKED_FROM)
    didYouMean: list[Movie] | None = Field(
        default=None, description="When nothing contains the query: titles spelled like it, closest first."
    )
    unrated: list[UnratedMovie] | None = Field(
        default=None,
        description="Movies of the training data's catalogue whose title contains the query but that nobody "
        "rated: the model learned nothing about them, so they are not in `movies` and cannot be rated, "
        "recommended or asked for similar movies (their movieId is a 404 that says so). Set only when there "
        "are some; when `movies` is empty too, didYouMean is not sent (the query named a real movie).",
    )


class RatingIn(_Strict):
    movieId: MovieId
    rating: Rating


class RecommendRequest(_Strict):
    """Ratings, or an ordered history, from a person the model has not seen (fold-in)."""

    ratings: list[RatingIn] = Field(
        default_factory=list,
        max_length=1000,
        description="(movieId, rating) pairs, each movie once (a movie given twice is a 422); at least one "
        "unless history is given.",
    )
    history: list[MovieId] | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="Movies in the order the person saw them, oldest first: what sequence models (markov, sasrec) "
        "read. Other models take each as a liked movie (or use ratings when both are given). Each movie once: a "
        "movie given twice is a 422 at its second entry, as in ratings.",
    )
    # any JSON number reaches the one check that names the field (demographics.validate): as int | str, an age
    # of 2.5 was pydantic's two errors at features.age.int and .str ("Input should be a valid integer, got a
    # number with a fractional part"), which the page showed as it was
    features: dict[str, int | float | str | None] | None = Field(
        default=None,
        max_length=8,
        description="The visitor's own details for models exported with --user-features demographics: "
        'any of age (years), gender (M/F), occupation, zip, e.g. {"age": 31, "gender": "F", "occupation": '
        '"writer", "zip": "94043"}; with or without ratings. Unknown fields or values are a 422 naming the field.',
    )
    k: K = 10
    genres: list[str] | None = Field(default=None, description="Only movies with any of these genres.")
    exclude: list[MovieId] | None = Field(
        default=None,
        max_length=10000,
        description="movieIds never to list (a deny-list, e.g. films not licensed in a region); the list is "
        "filled from the next best. An id the model does not know is a 422 at its entry.",
    )
    explain: bool = Field(
        default=False,
        description="Add 'because' to each recommendation: the rated movies it depends on most.",
    )
    userId: UserId | None = Field(default=None, description="Echoed back; e.g. the web page's visitor id.")


class FeedbackIn(_Strict):
    userId: UserId
    movieId: MovieId
    rating: Rating
    requestId: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:\-]+$",
        description="An id the client chooses for each rating (a UUID, say): sending the same rating again "
        "with the same requestId stores it once, so a retry after a timeout or a 503 is safe.",
    )


class ErrorMessage(BaseModel):
    """The body of every 4xx except 422 (whose ``detail`` is a list of field errors)."""

    detail: str = Field(description="One sentence saying what was wrong.")


class FeedbackOut(BaseModel):
    id: int
    requestId: str
    created: bool = Field(description="False when this requestId was already stored (an idempotent retry).")


class CodeIdentity(BaseModel):
    """Which movierec code: its version, git commit and a digest of its Python sources."""

    movierec: str | None = Field(description="The movierec version (null: not recorded).")
    commit: str | None = Field(
        default=None,
        description="The git commit of the source tree, '+dirty' with uncommitted changes; null outside a git "
        "checkout (an installed wheel) or, for an artifact, when its export did not record it.",
    )
    source_sha256: str | None = Field(
        default=None,
        description="sha256 of the package's Python sources: equal digests run the same code whatever the "
        "commits; null when an artifact's export did not record it.",
    )


class ReloadResult(BaseModel):
    """What ``POST /admin/reload`` answers: 200 when every artifact loaded and verified, 422 when one did not."""

    status: Literal["reloaded", "refused"] = Field(
        description="reloaded: the new artifacts serve from now on; refused: one failed to load or verify, "
        "and the versions serving before keep serving."
    )
    modelVersions: list[str] = Field(description="The versions serving after the call, in --artifact order.")
    detail: str = Field(
        description="One sentence: the versions before and after, or why the reload was refused."
    )
    notes: list[str] = Field(
        default_factory=list,
        description="Notes on the artifacts serving after the call, as GET /health's `notes`: served together "
        "though they learned from two versions of one dataset (another checksum, a few movies retitled); "
        "empty when there is nothing to note.",
    )


class Alive(BaseModel):
    """What ``GET /healthz`` answers while the process runs its event loop (liveness)."""

    status: Literal["ok"]


class Ready(BaseModel):
    """What ``GET /readyz`` answers when an artifact is loaded and the feedback database (if any) answers."""

    status: Literal["ready"]
    modelVersions: list[str] = Field(description="The versions served, in --artifact order.")


class NotReady(BaseModel):
    """What ``GET /readyz`` answers with 503: the server is alive but should take no traffic yet."""

    status: Literal["not ready"]
    detail: str = Field(description="Why: no artifact loaded, or the feedback database does not answer.")


class _Described(BaseModel):
    """What one artifact is and how to read its answers: GET /health's top level (the artifact that answered)
    and each entry of its ``models`` (every artifact served together)."""

    model: str = Field(description="The model's name (svd, ease, markov, …): the `model` of its lists.")
    modelVersion: str = Field(
        description="Content hash of the artifact: the `modelVersion` of its lists and their X-Model-Version "
        "header; `?model=` takes it too."
    )
    kind: str = Field(
        description="explicit (a rating model: it predicts ratings) or implicit (it learned which movies were "
        "liked or seen, and ranks them)."
    )
    dataset: str = Field(description="The name of the data the model learned from.")
    createdAt: str = Field(description="When the artifact was exported (ISO 8601, UTC).")
    nItems: int = Field(description="How many movies the model knows.")
    nUsers: int = Field(description="How many training users the model knows.")
    ratingScale: list[float] = Field(
        description="The lowest and highest rating of the data, e.g. [0.5, 5.0]."
    )
    ratingStep: float | None = Field(
        default=None,
        description="The step between the ratings of the data the model learned from (0.5 on half stars: "
        "0.5, 1, …, 5); POST /feedback and a visitor's ratings in POST /recommendations refuse a rating between "
        "two steps (a 422). Null when the ratings lie on no grid, or when the artifact records no step (an "
        "export by an older movierec): then any rating in the scale is taken.",
    )
    minSupport: int | None = Field(
        default=None,
        description="Fewest training ratings a movie needs to be recommended (the support floor).",
    )
    likedFrom: float | None = Field(
        default=None,
        description="Models that learned from liked movies (kind implicit): the rating from which a rating counted "
        "as liked, so a movie's `ratings` counts its ratings at or above it; null for models that learned from "
        "every rating (rating models, and sequence models, which read every rating in time order).",
    )
    interactionsOnly: bool = Field(
        default=False,
        description="True when the model learned from data without ratings (a log of who watched what, every "
        "row a 1): a movie's `ratings` then counts the people in whose history it is.",
    )
    sequential: bool = Field(
        default=False,
        description="True for a sequence model (markov, sasrec, gru4rec): it reads a visitor's `history`, or "
        "their ratings in the order given, as what they saw, oldest first, and lists what comes next after the "
        "latest movie whatever its rating (a 0.5 counts as much as a 5), so a recommendation's `because` is "
        "that latest movie, not a liked one.",
    )
    sameForEveryone: bool = Field(
        default=False,
        description="True for a model that gives everyone the same list (popularity; sequential-popularity, "
        "the movies rated most lately, every rating counting, is not sequential: it reads no history): a "
        "visitor's ratings only leave their movies out, so an explained list's `because` is empty and "
        "`becauseNote` says why.",
    )
    similarBy: Literal["lift", "model"] | None = Field(
        default=None,
        description="What GET /movies/{movieId}/similar lists by when not asked: 'lift' (movies liked together "
        "with it more often than chance says) when the artifact holds that table; 'model' (the model's own "
        "similarity) when it holds none: an export by an older movierec, or of data where no movie was liked.",
    )
    userFeatures: dict[str, list[str]] | None = Field(
        default=None,
        description="Visitor features POST /recommendations accepts (fields, and the known genders and "
        "occupations); null when the model was exported without user features.",
    )


class ServedModel(_Described):
    """One artifact of those ``movierec serve -a A -a B`` serves together, described by itself."""

    label: str = Field(
        description="What ?model= takes to send a request to this artifact (its --artifact folder's name; its "
        "modelVersion works too), whoever the user is."
    )
    weight: float = Field(
        description="The share of users sent here without ?model= (serve's --weights, summing to 1): a user's id "
        "is hashed onto the weights, so a user always gets the same artifact. Requests without a user "
        "(GET /movies…, /movies/{movieId}/similar, /health) go to the first entry."
    )


class Health(_Described):
    """Liveness and what is served. The top-level fields describe the artifact that answered: the first of
    those served, the default, unless ?model= names another. Served with several artifacts
    (movierec serve -a A -a B), a list may come from any of them: `models` describes each."""

    status: str
    feedback: bool
    exportedBy: CodeIdentity | None = Field(
        default=None, description="The movierec that exported the artifact, as its manifest records it."
    )
    servedBy: CodeIdentity | None = Field(default=None, description="The movierec serving it now.")
    versionNote: str | None = Field(
        default=None,
        description="A sentence when the artifact was exported by other movierec code (another version or "
        "other sources) than serves it, so lists and reasons may differ from a fresh export; null when the "
        "code is the same. Only a note: the artifact is served either way.",
    )
    notes: list[str] = Field(
        default_factory=list,
        description="Notes on the artifacts served together (movierec serve -a A -a B): one sentence each where "
        "two learned from two versions of one dataset (another checksum) or name a few movies by other titles; "
        "they are served, and serve said the same at start or on a reload. Empty with one artifact, or nothing "
        "to note.",
    )
    models: list[ServedModel] = Field(
        description="Every artifact served, in serve's --artifact order, the first the default, each described "
        "by itself, with how a request reaches it (label, weight): served beside ease, markov's lists count "
        "every rating and give the last movie as the reason (likedFrom null, sequential true), where the top "
        "level says ease's likedFrom 4 and sequential false. One entry, equal to the top level, with one "
        "artifact."
    )
