"""Data without titles (a ratings file of one's own, IMDb-like ids, no movies file) names a movie one way
through every door: ``movieId tt0100003``, the id column's name and the id.

The CLI's headings, notes and ``--explain`` reasons said ``movieId tt0100003`` while the API's ``title``
fields (GET /movies, /movies/{id}, /movies/{id}/similar, /users/{id}/recommendations and POST
/recommendations with their ``because``), the page, an export's items.parquet and ``movierec embed``'s
embeddings.csv said ``item tt0100003``, the item table's placeholder. The item table now holds the CLI's
words (``movierec.titles.id_title``), and an artifact exported with the old placeholder serves the new
words too. Each door is read for real: ``movierec export`` and ``movierec embed`` as a person runs them, a
``movierec serve`` process, the page in headless Chromium.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from servehelp import Server
from test_validate import reseal

from clihelp import run_process, write_ratings

MOVIES = [f"tt010000{n}" for n in range(8)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the ratings file, an ease artifact ``movierec export`` wrote of it, every movie served)."""
    root = tmp_path_factory.mktemp("untitled")
    ratings = write_ratings(root / "mine.csv", list(MOVIES))
    art = root / "art"
    proc = run_process(
        "export", "--model", "ease", "--ratings", str(ratings), "--out", str(art), "--min-support", "0",
        cwd=root,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return ratings, art


@pytest.fixture(scope="module")
def served(exported: tuple[Path, Path]) -> Iterator[Server]:
    server = Server(exported[1], "none").wait()
    yield server
    server.stop()


def _titles(body: Any) -> list[tuple[str, str]]:
    """Every ``(movieId, title)`` pair in a JSON answer (lists, their ``because``, a search's rows)."""
    if isinstance(body, list):
        return [pair for item in body for pair in _titles(item)]
    if not isinstance(body, dict):
        return []
    own = [(str(body["movieId"]), str(body["title"]))] if "title" in body and "movieId" in body else []
    return own + [pair for value in body.values() for pair in _titles(value)]


def _api_titles(url: str) -> dict[str, list[tuple[str, str]]]:
    """Each title-bearing answer of the API served at ``url``, by door."""
    visitor = {"ratings": [{"movieId": "tt0100003", "rating": 5}, {"movieId": "tt0100001", "rating": 4}]}
    answers = {
        "GET /movies/tt0100003": httpx.get(f"{url}/movies/tt0100003"),
        "GET /movies?q=tt01": httpx.get(f"{url}/movies", params={"q": "tt01"}),
        "GET /movies/tt0100003/similar": httpx.get(f"{url}/movies/tt0100003/similar", params={"k": 3}),
        "GET /users/1/recommendations": httpx.get(
            f"{url}/users/1/recommendations", params={"k": 3, "explain": "true"}
        ),
        "POST /recommendations": httpx.post(
            f"{url}/recommendations", json={**visitor, "k": 3, "explain": True}
        ),
    }
    for door, answer in answers.items():
        assert answer.status_code == 200, (door, answer.text)
    return {door: _titles(answer.json()) for door, answer in answers.items()}


def test_every_door_names_a_movie_of_data_without_titles_by_its_movieid(
    exported: tuple[Path, Path], served: Server, tmp_path: Path
) -> None:
    """items.parquet, the API's every ``title`` (``because`` included), ``similar --json`` (on the training
    data and on the artifact) and embeddings.csv all say ``movieId tt0100003``, as the CLI's heading does;
    each said ``item tt0100003`` before."""
    ratings, art = exported
    items = pd.read_parquet(art / "items.parquet")
    assert items["title"].tolist() == [f"movieId {m}" for m in MOVIES]
    said = _api_titles(served.url)
    assert all(said.values()), said  # every door answered with movies
    assert any(door_pairs for door_pairs in said.values() if len(door_pairs) > 3), said  # 'because' read too
    for door, pairs in said.items():
        assert all(title == f"movieId {mid}" for mid, title in pairs), (door, pairs)
    for where in (["--ratings", str(ratings)], ["--artifact", str(art)]):
        listed = run_process("similar", "--movie-id", "tt0100003", *where, "-k", "3", "--json", cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        pairs = _titles(json.loads(listed.stdout)["similar"])
        assert pairs and all(title == f"movieId {mid}" for mid, title in pairs), listed.stdout
        shown = run_process("similar", "--movie-id", "tt0100003", *where, "-k", "3", cwd=tmp_path)
        assert shown.stdout.startswith("movies like movieId tt0100003 · "), shown.stdout
        assert "item tt" not in listed.stdout + shown.stdout + shown.stderr
    emb = tmp_path / "emb"
    proc = run_process(
        "embed", "--model", "svd", "--ratings", str(ratings), "--out", str(emb), "--projection", "pca",
        "--sample", "all", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(emb / "embeddings.csv", dtype={"movieId": str})
    assert sorted(table["title"]) == [f"movieId {m}" for m in MOVIES]
    assert (table["title"] == "movieId " + table["movieId"]).all()


def test_an_artifact_exported_with_the_old_item_placeholder_serves_the_movieid_names(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    """An artifact exported before this change holds 'item tt0100003' in items.parquet. It still loads,
    still knows its data has no titles (a title asked of it says so), and its API and CLI say 'movieId
    tt0100003' as a new export's do, not the placeholder it was written with."""
    old = tmp_path / "old"
    shutil.copytree(exported[1], old)
    items = pd.read_parquet(old / "items.parquet")
    items["title"] = "item " + items["movieId"].astype(str)
    items.to_parquet(old / "items.parquet", index=False)
    reseal(old)
    server = Server(old, "none").wait()
    try:
        said = _api_titles(server.url)
    finally:
        server.stop()
    assert all(said.values()), said
    for door, pairs in said.items():
        assert all(title == f"movieId {mid}" for mid, title in pairs), (door, pairs)
    explained = run_process(
        "recommend", "--rated", "tt0100003=5", "--artifact", str(old), "-k", "3", "--explain", cwd=tmp_path
    )
    assert explained.returncode == 0 and "movieId tt0100003" in explained.stdout, explained.stderr
    assert "item tt" not in explained.stdout and " title " not in explained.stdout.splitlines()[1]
    asked = run_process("similar", "Toy Story", "--artifact", str(old), cwd=tmp_path)
    assert asked.returncode == 2 and "this data has no movie titles" in asked.stderr, asked.stderr


@pytest.mark.browser
def test_the_page_names_a_movie_of_data_without_titles_by_its_movieid(browser, served: Server) -> None:  # type: ignore[no-untyped-def]
    """The page shows the API's titles: a search, the list a rating gives and the similar panel read
    'movieId tt0100003' (they read 'item tt0100003')."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(served.url + "/")
    page.fill("#search", "tt0100003")
    page.wait_for_function(
        "() => document.querySelectorAll('#results li').length === 1"
    )  # the search's answer
    assert page.locator("#results li .title").all_inner_texts() == ["movieId tt0100003"]
    page.click("#results li[data-movie-id='tt0100003'] .star[data-stars='5']")
    page.click("#recommend")
    page.wait_for_selector("#recs li")
    recs = page.locator("#recs li")
    ids = [recs.nth(n).get_attribute("data-movie-id") for n in range(recs.count())]
    assert ids and page.locator("#recs li .title").all_inner_texts() == [f"movieId {m}" for m in ids]
    page.locator("#recs li .title").first.click()
    page.wait_for_selector("#similar-title:has-text('Similar to')")
    assert page.locator("#similar-title").inner_text() == f"Similar to movieId {ids[0]}"
    assert "item tt" not in page.locator("body").inner_text()
    assert not errors, errors
    page.close()


def test_the_name_a_door_shows_typed_back_is_answered_with_its_movieid(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    """'movieId tt0100003' copied from a list or the page and given as a movie: data without titles takes no
    title, and each door's refusal named another movie's id ('give --movie-id tt0100000 instead', the
    most-rated movie's); it names the one typed."""
    import movierec
    from movierec.serving.artifact import load_artifact

    ratings, art = exported
    for where in (["--ratings", str(ratings)], ["--artifact", str(art)]):
        asked = run_process("similar", "movieId tt0100003", *where, "-k", "2", cwd=tmp_path)
        assert asked.returncode == 2, asked.stdout
        assert " ".join(asked.stderr.split()).endswith("give --movie-id tt0100003 instead"), asked.stderr
    with pytest.raises(movierec.errors.UnknownIdError, match=r"give the movieId tt0100003 instead$"):
        load_artifact(art).movie_id("movieId tt0100003")
    rec = movierec.Recommender(movierec.load(ratings), "ease").fit()
    with pytest.raises(movierec.errors.UnknownIdError, match=r"give the raw movie id tt0100003 instead$"):
        rec.movie_index("movieId tt0100003")


def test_a_body_movieid_of_neither_type_says_what_this_datas_movieids_are(served: Server) -> None:
    """A JSON ``1.5`` or ``true`` where a body takes a movieId is one 422 at the field saying what a movieId
    is (pydantic said it in two lines, one per type an id may have); on data whose movieIds are text it
    says so, not that a movieId is a whole number. ``"1.5"`` is text here, so it is an unknown id, a 404."""
    for value, shown in ((1.5, "1.5"), (True, "true")):
        resp = httpx.post(
            f"{served.url}/recommendations", json={"ratings": [{"movieId": value, "rating": 4}]}
        )
        assert resp.status_code == 422, resp.text
        assert resp.json()["detail"] == [
            {
                "type": "value_error",
                "loc": ["body", "ratings", 0, "movieId"],
                "msg": f"{shown} is not a movieId: this data's movieIds are text, such as 'tt0100000'; "
                "GET /movies?q=TITLE finds a movie's movieId",
                "input": value,
            }
        ]
    resp = httpx.post(f"{served.url}/recommendations", json={"history": ["1.5"]})
    assert resp.status_code == 404 and resp.json()["detail"].startswith("unknown movie id '1.5'"), resp.text
