"""What the API's ``ratings`` field counts, said where a client reads it: the OpenAPI schema (and /docs), and
GET /health's ``likedFrom``, which must name the rule each served model's counts follow."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from servehelp import fit, mounted_api, movies_dataset

from movierec.datasets import Dataset
from movierec.models import create
from movierec.serving.artifact import export_artifact, load_artifact


@pytest.fixture(scope="module")
def three_kinds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Dataset]]:
    """svd (a rating model), ease (learned from ratings ≥ 4) and markov (a sequence model: every rating in
    time order, as ``movierec export`` trains it) on the serving fixture's half-star movies, served by one
    real uvicorn on 127.0.0.1 under /svd, /ease and /markov."""
    ds = movies_dataset()
    root = tmp_path_factory.mktemp("kinds")
    arts = {}
    for name, params in (("svd", {"n_factors": 4, "n_epochs": 5, "random_state": 0}), ("ease", {})):
        model, train = fit(name, ds, **params)
        arts[name] = load_artifact(export_artifact(model, ds, train, root / name))
    markov = create("markov", alpha=0.5).fit(ds.interactions)
    arts["markov"] = load_artifact(export_artifact(markov, ds, ds.interactions, root / "markov"))
    with mounted_api(arts) as url:
        yield url, ds


@pytest.mark.parametrize(("name", "liked_from"), [("svd", None), ("ease", 4.0), ("markov", None)])
def test_liked_from_names_what_ratings_counts(three_kinds, name: str, liked_from: float | None) -> None:
    """Every movie's ``ratings`` (GET /movies/{id}) is its count of training ratings at or above /health's
    likedFrom, or of every rating when it is null, as the schema says. markov counts every rating (the CLI's
    column says 'ratings'), but /health said likedFrom 4, and the page read 'liked by 12 people (rated 4+)'
    for a movie 12 people rated, whatever they gave it."""
    url, ds = three_kinds
    health = httpx.get(f"{url}/{name}/health", timeout=10).json()
    assert health["likedFrom"] == liked_from, health
    frame = ds.interactions.to_frame(raw_ids=True)
    every = frame.groupby("movieId").size()
    liked = frame[frame["rating"] >= 4.0].groupby("movieId").size().reindex(every.index, fill_value=0)
    assert (liked != every).any()  # the two rules give other counts on this data
    want = every if liked_from is None else liked
    with httpx.Client(base_url=f"{url}/{name}", timeout=10) as client:
        got = {int(m): client.get(f"/movies/{int(m)}").json()["ratings"] for m in frame["movieId"].unique()}
    assert got == {int(m): int(n) for m, n in want.items()}


@pytest.mark.parametrize(("name", "counted"), [("svd", "ratings"), ("ease", "likes"), ("markov", "ratings")])
def test_the_movie_answers_say_what_ratings_counts(three_kinds, name: str, counted: str) -> None:
    """GET /movies?q= and GET /movies/{id} gave ease's Toy Story '"ratings": 147' (its ratings of 4+; it has
    215 on ml-latest-small) with no word of it, where Python's frame names the column n_liked and every
    list's answer carries ratingsCounted. Both now carry ratingsCounted and likedFrom, as a list does (the
    field keeps its name: the page and existing clients read it), and /openapi.json describes them."""
    url, ds = three_kinds
    with httpx.Client(base_url=f"{url}/{name}", timeout=10) as client:
        health = client.get("/health").json()
        movie = int(ds.interactions.to_frame(raw_ids=True)["movieId"].iloc[0])
        listed = client.get(f"/movies/{movie}/similar", params={"k": 1}).json()
        for body in (client.get("/movies", params={"q": ""}).json(), client.get(f"/movies/{movie}").json()):
            assert body["ratingsCounted"] == counted == listed["ratingsCounted"], body
            assert body["likedFrom"] == health["likedFrom"] == listed["likedFrom"], body
        schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for schema in ("MovieList", "MovieDetail"):
        assert (
            "'likes' (the ratings at or above likedFrom"
            in schemas[schema]["properties"]["ratingsCounted"]["description"]
        )


@pytest.mark.browser
def test_docs_say_what_ratings_counts(browser, server) -> None:
    """Swagger UI at /docs shows the rule under the Recommendation schema's ``ratings``: every rating for
    rating and sequence models, the ratings at or above likedFrom for models that learned from liked movies,
    every interaction on data without ratings. It said 'How many training interactions the movie has', with
    sequence models beside rating models but no word of data without ratings."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(server.url + "/docs")
    page.wait_for_selector(".swagger-ui .opblock-summary-path", timeout=30_000)
    # the Schemas section (Swagger UI 5's JSON Schema 2020-12 view): Recommendation, "Expand all", then `ratings`
    title = ".json-schema-2020-12__title:text-is('{}')"
    level = "article[data-json-schema-level='{}']"
    schema = page.locator("section.models " + level.format(0)).filter(
        has=page.locator(title.format("Recommendation"))
    )
    schema.locator(".json-schema-2020-12-expand-deep-button").first.click()
    ratings = schema.locator(level.format(1)).filter(has=page.locator(title.format("ratings")))
    description = ratings.locator(".json-schema-2020-12-keyword--description").first
    description.wait_for(state="visible")  # the click renders the properties
    text = description.inner_text()
    for said in (
        "Rating models (kind explicit) and sequence models count every rating (likedFrom null)",
        "count only the ratings at or above GET /health's likedFrom",
        "--implicit-threshold, 4 by default",
        "every interaction counts",
    ):
        assert said in text, text
    page.close()


def test_the_schema_says_it(three_kinds) -> None:
    """The same words in /openapi.json, for both models that carry ``ratings`` (Recommendation, Movie)."""
    url, _ = three_kinds
    schemas = httpx.get(f"{url}/ease/openapi.json", timeout=10).json()["components"]["schemas"]
    texts = {
        name: schemas[name]["properties"]["ratings"]["description"] for name in ("Recommendation", "Movie")
    }
    assert texts["Recommendation"] == texts["Movie"]
    assert "sequence models count every rating (likedFrom null)" in texts["Movie"], texts


#: words that tell how an answer changed rather than what a field means: a client reading /docs has only
#: the API as it is ("The movie answers said '"ratings": 147' with no word of it", "?q=toy was ignored",
#: "as before `models` was added", "artifacts exported since movierec stored it")
HISTORY = ("said '", "with no word", "was ignored", "as before", "used to", "no longer", "exported since")


def _descriptions(node: object, where: str = "") -> Iterator[tuple[str, str]]:
    """Every ``description`` and ``summary`` in an OpenAPI document, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary") and isinstance(value, str):
                yield f"{where}/{key}", value
            else:
                yield from _descriptions(value, f"{where}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _descriptions(value, f"{where}/{n}")


def test_the_schema_says_what_each_field_means_not_its_history(three_kinds) -> None:
    """ratingsCounted's description (MovieList, MovieDetail) told the change that added it: "The movie
    answers said '"ratings": 147' with no word of it; the name `ratings` stays for the clients that read
    it". It says what each value means, as the lists' ratingsCounted does, and no description of the served
    /openapi.json tells a history."""
    url, _ = three_kinds
    spec = httpx.get(f"{url}/ease/openapi.json", timeout=10).json()
    told = [(where, text) for where, text in _descriptions(spec) if any(w in text for w in HISTORY)]
    assert not told, told
    for name in ("MovieList", "MovieDetail"):
        counted = spec["components"]["schemas"][name]["properties"]["ratingsCounted"]["description"]
        for means in (
            "'ratings' (every training rating)",
            "'likes' (the ratings at or above likedFrom",
            ("'interactions' (data without ratings: the people in whose history the movie is)"),
        ):
            assert means in counted, (name, counted)
