"""One movie, one user, one answer: ``movierec.Recommender`` and the artifact exported from it give the
same columns, in the same order, with the same values (ml-latest-small, the bundled data with links.csv).

Before, ``Recommender.recommend`` gave ``movieId, title, genres, score`` where ``Artifact.recommend`` gave
``movieId, title, year, genres, score, n_ratings, imdbId, tmdbId``, and the count was called
``n_ratings`` while for ease it counts ratings of 4 or more only (Terminator 2: 150 of its 224)."""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from servehelp import Server

import movierec
from clihelp import run_process
from movierec.errors import ConfigError, UnknownIdError
from movierec.serving.artifact import Artifact

#: one xdist worker for the module (make test: -n 2 --dist loadgroup): its tests share the bundled data,
#: the ease and svd fits and exports and the server (module fixtures), which a second worker built again
pytestmark = pytest.mark.xdist_group("test_doors_agree")


@pytest.fixture(scope="module")
def mlls() -> movierec.Dataset:
    return movierec.load("ml-latest-small")


@pytest.fixture(scope="module")
def ease(
    mlls: movierec.Dataset, tmp_path_factory: pytest.TempPathFactory
) -> tuple[movierec.Recommender, Artifact]:
    rec = movierec.Recommender(mlls, "ease").fit()
    return rec, rec.export(tmp_path_factory.mktemp("doors") / "ease")


@pytest.fixture(scope="module")
def svd(
    mlls: movierec.Dataset, tmp_path_factory: pytest.TempPathFactory
) -> tuple[movierec.Recommender, Artifact]:
    rec = movierec.Recommender(mlls, "svd", factors=8, epochs=5).fit()
    return rec, rec.export(tmp_path_factory.mktemp("doors") / "svd")


def _same(ours: pd.DataFrame, theirs: pd.DataFrame, score: str) -> None:
    assert list(ours.columns) == list(theirs.columns)
    for col in ours.columns:
        if col in (score, "predicted_rating"):
            assert ours[col].tolist() == pytest.approx(theirs[col].tolist(), rel=1e-4, abs=1e-5), col
        else:
            assert ours[col].astype(object).tolist() == theirs[col].astype(object).tolist(), col


def test_an_implicit_models_lists_carry_the_same_columns_and_count_what_they_say(
    ease: tuple[movierec.Recommender, Artifact], mlls: movierec.Dataset
) -> None:
    rec, art = ease
    ours, theirs = rec.recommend(1, k=5), art.recommend(1, k=5)
    cols = ["movieId", "title", "year", "genres", "score", "n_liked", "imdbId", "tmdbId"]
    assert list(ours.columns) == cols
    _same(ours, theirs, "score")
    t2 = mlls.to_frame().query("movieId == 589")["rating"]
    row = ours.set_index("movieId").loc[589]
    assert row["n_liked"] == (t2 >= 4).sum() == 150 and len(t2) == 224  # liked by 150, rated by 224
    assert (row["imdbId"], row["tmdbId"], row["year"]) == ("0103064", "280", 1991)
    visitor = art.recommend_for_ratings([(1, 5), (260, 4)], k=5)  # a DataFrame, as recommend_for's
    _same(rec.recommend_for({1: 5, 260: 4}, k=5), visitor, "score")
    _same(rec.similar(1, k=5), art.similar(1, k=5), "similarity")
    explained = rec.recommend(1, k=3, explain=True)
    assert list(explained.columns) == [*cols, "because"]
    assert list(art.recommend(1, k=3, explain=True).columns) == [*cols, "because"]


def test_an_artifact_takes_a_list_of_users_as_the_recommender_does(
    ease: tuple[movierec.Recommender, Artifact],
) -> None:
    """``art.recommend([1, 442])`` raised "only 0-dimensional arrays can be converted to Python scalars" where
    ``rec.recommend([1, 442])`` gave one frame, each user's list in turn after a userId column."""
    rec, art = ease
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # user 442 has no liked movie: both lists fall back (a warning)
        ours, theirs = rec.recommend([1, 442], k=3), art.recommend([1, 442], k=3)
    assert theirs["userId"].tolist() == [1, 1, 1, 442, 442, 442] and theirs.index.tolist() == [1, 2, 3] * 2
    _same(ours, theirs, "score")
    assert theirs.equals(art.recommend(np.array([1, 442]), k=3))  # any sequence, as the Recommender's
    with pytest.raises(UnknownIdError, match="unknown user id 99999: the artifact has no ratings"):
        art.recommend([1, 99999])  # checked before any list is ranked
    with pytest.raises(ConfigError, match="an empty list"):
        art.recommend([])


def test_a_rating_models_lists_carry_the_same_columns(svd: tuple[movierec.Recommender, Artifact]) -> None:
    rec, art = svd
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = rec.recommend(1, k=5), art.recommend(1, k=5)
    assert list(ours.columns) == [
        "movieId", "title", "year", "genres", "score", "n_ratings", "predicted_rating", "imdbId", "tmdbId"
    ]  # fmt: skip
    _same(ours, theirs, "score")
    assert rec.count_column == art.count_column == "n_ratings"


def test_a_dataset_without_links_has_no_link_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"userId": [1, 1, 2, 2, 3, 3], "movieId": [10, 20, 10, 30, 20, 30], "rating": [5.0, 4, 4, 5, 5, 4]}
    )
    rec = movierec.Recommender(movierec.load(frame), "popularity").fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        top = rec.recommend(1, k=1, min_support=0)
    assert list(top.columns) == ["movieId", "title", "year", "genres", "score", "n_liked"]


# --- the HTTP door: a real movierec serve on the loopback ------------------------------------------------


@pytest.fixture(scope="module")
def served(
    ease: tuple[movierec.Recommender, Artifact], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``movierec serve --host localhost`` of the ease artifact: both loopback addresses on one port where this
    machine has IPv6 (test_serve_on_localhost_answers_on_both_loopback_addresses reads that; it started a
    second server of its own for it, 2.6 CPU-s), 127.0.0.1 alone where not. The other tests ask it at
    ``srv.url``, http://localhost:PORT, whichever address their resolver gives first."""
    srv = Server(ease[1].path, "none", "--host", "localhost").wait()
    yield srv
    srv.stop()


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(
        url, json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_similar_says_when_its_list_rests_on_one_or_two_people_as_the_cli_does(
    served: Server, ease: tuple[movierec.Recommender, Artifact], tmp_path: Path
) -> None:
    """GET /movies/{id}/similar and ``Recommender.similar`` carried no word that Tokyo Story's list (one
    like) is one person's other likes; `movierec similar --json` said it as `note`. The API's `note` and
    Python's warning are the same sentence."""
    for movie in (6643, 13):  # Tokyo Story: one like; Balto: two
        cli = run_process(
            "similar",
            "--artifact",
            str(ease[1].path),
            "--movie-id",
            str(movie),
            "-k",
            "3",
            "--json",
            cwd=tmp_path,
        )
        assert cli.returncode == 0, cli.stderr
        said = json.loads(cli.stdout)["note"]
        api = _get(f"{served.url}/movies/{movie}/similar?k=3")
        assert api["recommendations"] and api["note"] == said
        with warnings.catch_warnings(record=True) as got:  # Python says it too, at the caller's line
            warnings.simplefilter("always")
            ease[0].similar(movie, k=3)
        assert [str(w.message) for w in got] == [said] and got[0].filename == __file__
        assert said.startswith(("only one person liked Tokyo Story", "only 2 people liked Balto"))
    assert "note" not in _get(f"{served.url}/movies/1/similar?k=3")  # Toy Story: many likes
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        ease[0].similar(1, k=3)  # nothing to say
        ease[0].similar(6643, k=3, by="model")  # the model learned Tokyo Story from one like: said alike
    model = _get(f"{served.url}/movies/6643/similar?k=3&by=model")["note"]
    assert [str(w.message) for w in got] == [model] and got[0].filename == __file__
    assert model == (
        "only one person liked Tokyo Story (Tôkyô monogatari) (1953) in training (ratings ≥ 4): ease learned "
        "next to nothing about it, so the list says little"
    )


def test_a_movie_twice_in_a_visitors_history_is_refused_as_in_python(
    served: Server, ease: tuple[movierec.Recommender, Artifact]
) -> None:
    """POST /recommendations took ``history: [1, 1]`` (200, Toy Story folded in twice) where
    ``Recommender.recommend_for([1, 1])`` and repeated ratings are refused: now a 422 at the second entry."""
    status, body = _post(f"{served.url}/recommendations", {"history": [1, 260, "1"], "k": 3})
    assert status == 422, body
    (err,) = body["detail"]
    assert err["loc"] == ["body", "history", 2]
    assert err["msg"] == "Toy Story (1995) is given twice (history 0 and 2); give each movie once"
    with pytest.raises(movierec.ConfigError, match=r"Toy Story \(1995\) is given twice"):
        ease[0].recommend_for([1, 260, 1], k=3)
    with pytest.raises(movierec.ConfigError, match=r"Toy Story \(1995\) is given twice \(history 0 and 2\)"):
        ease[1].visitor([], 3, history=[1, 260, 1])
    assert _post(f"{served.url}/recommendations", {"history": [1, 260], "k": 3})[0] == 200


def test_serve_on_localhost_answers_on_both_loopback_addresses(served: Server) -> None:
    """``serve --host localhost`` bound 127.0.0.1 only, so a client whose resolver gives ::1 for localhost
    first was refused at the URL the banner printed; both loopback addresses now answer on one port. The
    module's server is that serve (``served``)."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    port = urllib.parse.urlsplit(served.url).port
    assert served.url == f"http://localhost:{port}"
    for address in ("127.0.0.1", "[::1]"):
        assert _get(f"http://{address}:{port}/health")["model"] == "ease"
    assert "localhost: 127.0.0.1 and [::1]" in served.log.read_text()


def test_a_movie_given_as_text_means_one_thing_through_every_door(
    served: Server, ease: tuple[movierec.Recommender, Artifact], tmp_path: Path
) -> None:
    """Text ids: "1" was movieId 1 (Toy Story) to the artifact, the API and ``--rated``, and an error in
    Python ("'1' matches 26 movies: Kill Bill: Vol. 1 …"); "300", movieId 300 (Quiz Show) and the whole title
    of 300 (2007), was Quiz Show to ``--rated`` and an error naming both in Python; a title where only a
    movieId is taken (the API) said "unknown movie id" without the id it names."""
    rec, art = ease
    toy = rec.similar(1, k=3)["movieId"].tolist()
    assert rec.similar("1", k=3)["movieId"].tolist() == art.similar("1", k=3)["movieId"].tolist() == toy
    assert (
        rec.recommend_for({"1": 5}, k=3)["movieId"].tolist()
        == rec.recommend_for({1: 5}, k=3)["movieId"].tolist()
    )
    both = (
        r"'300' is both the movieId 300 \(Quiz Show \(1994\)\) and the title 300 \(2007\) \(movieId 51662\)"
    )
    with pytest.raises(movierec.ConfigError, match=both):
        rec.recommend_for({"300": 5}, k=3)
    cli = run_process("recommend", "--artifact", str(art.path), "--rated", "300=5", "-k", "3", cwd=tmp_path)
    assert cli.returncode == 2 and len(cli.stderr.strip().splitlines()) == 1, (cli.stdout, cli.stderr)
    assert re.search(
        both + r": give the title with its year \('Quiz Show \(1994\)' or '300 \(2007\)'\)", cli.stderr
    )
    one = run_process(
        "recommend", "--artifact", str(art.path), "--rated", "1=5", "-k", "3", "--json", cwd=tmp_path
    )
    assert one.returncode == 0, one.stderr
    assert [r["movieId"] for r in json.loads(one.stdout)["recommendations"]] == rec.recommend_for(
        {1: 5}, k=3
    )["movieId"].tolist()
    # similar's TITLE reads a number so too (it said "'1' matches 26 movies", and '300' was the film)
    for how in ([], ["--artifact", str(art.path)]):
        sim = run_process("similar", "1", *how, "-k", "3", "--json", cwd=tmp_path)
        assert sim.returncode == 0 and [r["movieId"] for r in json.loads(sim.stdout)["similar"]] == toy, (
            sim.stderr
        )
        assert run_process("similar", "300", *how, "-k", "3", cwd=tmp_path).returncode == 2
    # the API takes only a movieId: a title is one sentence naming the movieId to give (it was "unknown movie
    # id 'Toy Story' (integer ids are written in ASCII digits only, …); 'Toy Story' is the title of …")
    for text, said in (
        ("Toy Story", "'Toy Story' is a title, not a movieId; give Toy Story (1995)'s movieId, 1"),
        (
            "Toy Stroy",
            "'Toy Stroy' is not a movieId, and the nearest title is Toy Story (1995); give its movieId, 1",
        ),
    ):
        with pytest.raises(urllib.error.HTTPError) as got:
            _get(f"{served.url}/movies/{urllib.parse.quote(text)}/similar?k=3")
        assert got.value.code == 404 and json.load(got.value) == {"detail": said}
        status, body = _post(f"{served.url}/recommendations", {"ratings": [{"movieId": text, "rating": 5}]})
        assert (status, body) == (404, {"detail": said})


def test_a_notebook_gives_the_exported_artifact_titles_as_it_gives_the_recommender(
    ease: tuple[movierec.Recommender, Artifact], svd: tuple[movierec.Recommender, Artifact]
) -> None:
    """``rec.similar("Toy Story")`` worked and ``rec.export(path).similar("Toy Story")``, the same notebook's
    next cell, raised "unknown movie id 'Toy Story' (integer ids are written in ASCII digits only, …)"; a
    misspelling was called "the title of Toy Story"; ``recommend_for_ratings({"Toy Story": 5})``, the mapping
    ``recommend_for`` takes, raised "too many values to unpack"; ``similar(999999)`` said only "unknown movie
    id 999999". The artifact's Python methods now read a movie as the Recommender does."""
    rec, art = ease
    assert (
        art.similar("Toy Story", k=5)["movieId"].tolist() == rec.similar("Toy Story", k=5)["movieId"].tolist()
    )
    warned = []
    for door in (rec, art):
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            listed = door.similar("Toy Stroy", k=5)["movieId"].tolist()
        assert listed == rec.similar(1, k=5)["movieId"].tolist()
        assert [w.filename for w in got] == [__file__]  # the caller's line, not movierec's
        warned.append([str(w.message) for w in got])
    assert (
        warned[0]
        == warned[1]
        == [
            "'Toy Stroy' read as Toy Story (1995) (the nearest spelling); give the exact title or its movieId to be sure"
        ]
    )
    visitor = art.recommend_for_ratings({"Toy Story": 5, "Star Wars: Episode IV": 4}, k=5)
    _same(rec.recommend_for({1: 5, 260: 4}, k=5), visitor, "score")
    assert art.recommend_for_ratings([("1", 5), (260, 4)], k=5).equals(visitor)  # "1" is movieId 1 in both
    plain = art.recommend(1, k=4)["movieId"].tolist()
    title = rec.recommend(1, k=1)["title"].iloc[0]
    assert art.recommend(1, k=3, exclude=title)["movieId"].tolist() == plain[1:4]
    both = r"'300' is both the movieId 300 \(Quiz Show \(1994\)\) and the title 300 \(2007\)"
    for door in (rec, art):
        with pytest.raises(movierec.ConfigError, match=both):
            door.similar("300", k=3)
    svd_rec, svd_art = svd
    assert svd_art.predict(1, "Heat") == pytest.approx(svd_rec.predict(1, "Heat"), abs=1e-5)
    # an unknown movieId names the ids there are and what to give, as an unknown user's line does
    ids = "its 9,724 movies have ids 1 to 193609, with gaps"
    for call in (lambda: art.similar(999999), lambda: art.recommend_for_ratings({999999: 5})):
        with pytest.raises(movierec.UnknownIdError) as err:
            call()
        assert str(err.value) == (
            f"unknown movie id 999999 in the artifact ({ids}); give a movieId or a title ('Toy Story')"
        )
    with pytest.raises(
        movierec.UnknownIdError,
        match=r"^unknown movie id '999999' in the artifact \(its 9,724 movies",
    ):
        art.similar("999999")
    with pytest.raises(movierec.UnknownIdError, match=r"^Niagara \(1953\) has no ratings in ml-latest-small"):
        art.similar("Niagara")
    with pytest.raises(
        movierec.UnknownIdError,
        match=r"no movie title matches 'xyzzy qq'; try part of the "
        r"title or the movieId$",
    ):  # Python's words, not the CLI's --movie-id
        art.similar("xyzzy qq")
    # a person none of whose ratings ease counts as liked: popularity's list, and a warning says so, in both
    for door, given in ((rec, rec.recommend_for), (art, art.recommend_for_ratings)):
        with warnings.catch_warnings(record=True) as got:
            warnings.simplefilter("always")
            low = given({"Toy Story": 2}, k=5)
        assert isinstance(low, pd.DataFrame) and [w.filename for w in got] == [__file__], door
        assert str(got[0].message).startswith(
            "none of these ratings reaches 4, the rating ease counts as liked"
        )
        assert "the most-liked movies (the most ratings ≥ 4)" in str(got[0].message)
        warned.append(low["movieId"].tolist())
    assert warned[-1] == warned[-2]
    with pytest.raises(movierec.ConfigError, match=r"^ratings: 5 is not a \(movie, rating\) pair"):
        art.recommend_for_ratings([5])  # type: ignore[list-item]


@pytest.mark.browser
def test_the_page_shows_the_thin_list_note_under_similar(browser, served: Server) -> None:  # type: ignore[no-untyped-def]
    """The page's similar panel said only "Liked together with it more often than chance says." for Tokyo
    Story, whose list is one person's other likes; it now shows the API's note (and none for Toy Story)."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(served.url + "/")
    page.wait_for_selector("#model-info:has-text('ease')")
    for search, movie, title, said in (
        ("tokyo story", 6643, "Tokyo Story", "only one person liked Tokyo Story"),
        ("toy story", 1, "Toy Story (1995)", ""),
    ):
        page.fill("#search", search)
        page.locator(f"#results li[data-movie-id='{movie}'] button.title").click()
        page.locator(f"#similar-title:has-text('{title}')").wait_for()
        note = page.locator("#similar-note")
        assert (note.is_visible() and note.inner_text().startswith(said)) if said else note.is_hidden()


def test_a_movie_given_as_text_to_data_without_titles_means_one_thing_through_both_doors(
    tmp_path: Path,
) -> None:
    """Data loaded without titles: every movie is 'item 3'. The two Python doors read text by two copies
    of the rules, which differed here: an unknown movieId in text was "this data has no movie titles
    (…); give the raw movie id 3 instead" from the Recommender and "unknown movie id '99'" from its
    artifact, and 'item 3' (the name the lists show) was movie 3 to the artifact, which matched it as a
    title, and no title to the Recommender. One function (titles.movie_from_text) now serves both."""
    data = tmp_path / "r.csv"
    data.write_text("userId,movieId,rating\n1,1,4\n1,3,4\n2,1,3\n2,3,5\n3,1,4\n3,3,2\n3,5,4\n")
    rec = movierec.Recommender(movierec.load(data), "ease").fit()
    art = rec.export(tmp_path / "art")
    raw = rec.dataset.interactions.item_map.to_raw
    assert (
        raw(rec.movie_index("3")) == art.movie_id("3") == raw(rec.movie_index(" 3 ")) == art.movie_id(" 3 ")
    )
    said = []
    for door in (lambda m: rec.movie_index(m), lambda m: art.movie_id(m)):
        with pytest.raises(UnknownIdError) as unknown:
            door("99")
        with pytest.raises(UnknownIdError) as untitled:
            door("item 3")
        said.append((str(unknown.value), str(untitled.value)))
    for (unknown_said, untitled_said), where in zip(said, ("in r", "in the artifact"), strict=True):
        assert unknown_said.startswith(f"unknown movie id '99' {where} (its 3 movies"), unknown_said
        assert untitled_said.startswith("this data has no movie titles (pass "), untitled_said
        assert re.search(r"give the (raw movie id|movieId) [135] instead$", untitled_said), untitled_said


def test_a_misspelt_search_does_not_hold_up_the_requests_after_it(
    ease: tuple[movierec.Recommender, Artifact],
) -> None:
    """GET /movies answers a search that finds nothing with the titles spelled like it, and that work ran on
    the server's event loop: every request after it waited (difflib then took seconds on a busy machine, and
    at 360 x 740 the page's next searches sat behind it). It runs in the threadpool now. The suggestion itself
    now takes milliseconds (the title index), so racing a /health against a real one could no longer tell the
    two apart (it failed on a calm machine): the served artifact's ``suggest`` is held here until /health has
    answered. On the old code /health could not answer while it was held, and its 15 s timeout failed."""
    import threading

    from servehelp import mounted_api

    from movierec.serving.artifact import load_artifact

    art = load_artifact(ease[1].path)  # its own copy: the module's artifact keeps its own suggest
    entered, release = threading.Event(), threading.Event()
    real = art.suggest

    def held(text: str) -> list[dict[str, Any]]:
        entered.set()
        release.wait(60)
        return real(text)

    art.suggest = held  # type: ignore[method-assign]
    said: list[str] = []
    with mounted_api({"a": art}) as base:

        def misspelt() -> None:
            body = _get(base + "/a/movies?search=" + urllib.parse.quote("shawshank redemtion"))
            said.extend(m["title"] for m in body["didYouMean"])

        worker = threading.Thread(target=misspelt)
        worker.start()
        try:
            assert entered.wait(30), "the misspelt search never reached the suggestion"
            with urllib.request.urlopen(base + "/a/health", timeout=15) as r:
                assert json.load(r)["status"] == "ok"
        finally:
            release.set()
            worker.join(60)
    assert said[:1] == ["Shawshank Redemption, The (1994)"], said
