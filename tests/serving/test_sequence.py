"""Sequence models served: markov and sasrec artifacts, and POST /recommendations with an ordered history."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from servehelp import Server

from clihelp import run_process
from movierec.datasets import Dataset
from movierec.errors import UnknownIdError
from movierec.interactions import Interactions
from movierec.models.registry import create
from movierec.recommender import Recommender
from movierec.scoring.explain import one_list_note, sequence_note
from movierec.serving.artifact import export_artifact, load_artifact

N_ITEMS = 20


def chain_dataset(n_users: int = 60, length: int = 8, seed: int = 0) -> Dataset:
    """Every user walks movie i -> i+1 (mod N_ITEMS, movieIds 10, 20, …), one step an hour; ratings vary."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        start = int(rng.integers(0, N_ITEMS))
        for t in range(length):
            rows.append(
                (
                    u + 1,
                    ((start + t) % N_ITEMS + 1) * 10,
                    float(rng.choice([2.0, 3.5, 5.0])),
                    10**9 + 3600 * t + u,
                )
            )
    frame = pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"]).sample(
        frac=1.0, random_state=seed
    )
    inter = Interactions.from_frame(frame, rating_scale=(0.5, 5.0))
    ids = inter.item_map.ids
    movies = pd.DataFrame(
        {
            "movieId": ids,
            "title": [f"Movie {int(i)} (1999)" for i in ids],
            "year": pd.array([1999] * len(ids), dtype="Int64"),
            "genres": [["Drama"] if int(i) % 20 else ["Comedy"] for i in ids],
        }
    )
    return Dataset("chain", inter, movies, None, "1" * 64, "in-code", [])


def nxt(movie: int) -> int:
    return movie % (N_ITEMS * 10) + 10


@pytest.fixture(scope="module")
def chain() -> Dataset:
    return chain_dataset()


@pytest.fixture(scope="module")
def markov_artifact(chain: Dataset, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    model = create("markov", alpha=0.5).fit(
        chain.interactions
    )  # every rating, as `movierec export` trains it
    return export_artifact(model, chain, chain.interactions, tmp_path_factory.mktemp("art") / "markov"), model


@pytest.fixture(scope="module")
def markov_server(markov_artifact: tuple[Path, object]) -> Iterator[Server]:
    """One real ``movierec serve`` of the markov artifact without a feedback store, for the tests that only
    ask it for lists (the API's and the page's)."""
    srv = Server(markov_artifact[0], "none").wait()
    yield srv
    srv.stop()


def test_markov_artifact_reproduces_the_model(markov_artifact, chain: Dataset) -> None:
    path, model = markov_artifact
    art = load_artifact(path)
    assert art.family == "markov" and art.sequential
    np.testing.assert_allclose(
        np.vstack([art.user_scores(u) for u in range(art.n_users)]),
        model.score(np.arange(art.n_users)),
        atol=1e-6,
    )
    hist = [50, 130, 70]
    want = model.score_new_user(np.array([chain.interactions.item_map.index(m) for m in hist]))
    recs = art.recommend_for_history(hist, k=5).to_dict("records")
    assert recs[0]["movieId"] == nxt(70) and recs[0]["score"] == pytest.approx(float(want.max()))
    assert not {r["movieId"] for r in recs} & set(hist)
    # ratings in the order given are the history for a sequence model
    assert art.recommend_for_ratings([(130, 4.0), (70, 2.0), (50, 5.0)], k=1)["movieId"].iloc[0] == nxt(50)
    with pytest.raises(UnknownIdError, match="31337"):
        art.recommend_for_history([31337])


def test_a_markov_list_says_its_back_off_rows_over_http(markov_server: Server, chain: Dataset) -> None:
    """`movierec recommend --user 1 -m markov` says under its table which rows no one rated right after the user's
    latest movie (their scores are the popularity back-off), as the notebook and an artifact's frame do; the API's
    list for the same user said nothing, its scores read 0.14 then 0.0005 … without a word. Its ``note`` says it
    now, from the shortcut (the plain request) and the route alike."""
    from movierec.scoring.markov import back_off_note

    frame = chain.to_frame()
    latest = int(frame[frame["userId"] == 1].sort_values("timestamp")["movieId"].iloc[-1])
    url = markov_server.url + "/users/1/recommendations"
    plain = httpx.get(url + "?k=5", timeout=30)
    routed = httpx.get(url + "?k=05&exclude_seen=True", timeout=30)
    assert plain.status_code == routed.status_code == 200 and plain.content == routed.content
    body = plain.json()
    assert body["recommendations"][0]["movieId"] == nxt(latest)  # the one movie that ever followed it
    assert body["note"] == back_off_note([True] + [False] * 4, f"Movie {latest} (1999)", "user 1's")
    assert body["note"].startswith(
        f"rows 2-5: in training no one rated them next after Movie {latest} (1999)"
    )
    other = httpx.get(url + f"?k=3&exclude={nxt(latest)}", timeout=30).json()  # only back-off rows left
    assert other["note"].startswith("every row: in training no one rated them next after"), other


def test_a_visitor_s_markov_list_says_its_back_off_rows(markov_server: Server, markov_artifact) -> None:
    """A known user's markov list says which rows are the popularity back-off (8bf9db45); a visitor's, the same
    scores after their latest movie (the last of history, else of the ratings), said nothing, over HTTP and
    under 'recommend --rated'. Both say it now; a list every row of which followed it has no note."""
    from movierec.scoring.markov import back_off_note

    want = back_off_note([True] + [False] * 4, "Movie 150 (1999)", "the visitor's")
    assert want is not None and want.startswith(
        "rows 2-5: in training no one rated them next after Movie 150"
    )
    with httpx.Client(base_url=markov_server.url, timeout=10.0) as c:
        body = c.post("/recommendations", json={"history": [110, 30, 150], "k": 5}).json()
        assert body["recommendations"][0]["movieId"] == nxt(150) and body["note"] == want, body
        rated = [{"movieId": 110, "rating": 5}, {"movieId": 150, "rating": 2}]
        assert c.post("/recommendations", json={"ratings": rated, "k": 5}).json()["note"] == want
        one = c.post("/recommendations", json={"history": [110, 30, 150], "k": 1}).json()
        assert one["recommendations"][0]["movieId"] == nxt(150) and one.get("note") is None, one
    done = run_process(
        "recommend", "--artifact", str(markov_artifact[0]), "--rated", "110=5", "--rated", "150=2", "-k", "5"
    )
    assert done.returncode == 0, done.stderr
    assert want in " ".join(done.stdout.split()), done.stdout


def test_post_recommendations_with_an_ordered_history(markov_server: Server) -> None:
    with httpx.Client(base_url=markov_server.url, timeout=10.0) as c:
        body = c.post("/recommendations", json={"history": [110, 30, 150], "k": 3, "userId": "v1"}).json()
        assert body["model"] == "markov" and body["userId"] == "v1"
        assert body["recommendations"][0]["movieId"] == nxt(150)
        # the order matters: the same movies, another last one
        again = c.post("/recommendations", json={"history": [150, 30, 110], "k": 3}).json()
        assert again["recommendations"][0]["movieId"] == nxt(110)
        # a history with ratings: both excluded, the history drives the model (5: the data rates on
        # 0.5, 2, 3.5, 5, so 4 is between two steps, a 422)
        both = c.post(
            "/recommendations", json={"history": [10, 20], "ratings": [{"movieId": 40, "rating": 5}]}
        )
        ids = [r["movieId"] for r in both.json()["recommendations"]]
        assert both.status_code == 200 and ids[0] == nxt(20) and not {10, 20, 40} & set(ids)
        for bad, loc in [
            ({"history": []}, ["body", "history"]),
            ({"k": 3}, ["body", "ratings"]),
            ({"history": [[1]]}, ["body", "history", 0]),
            ({"history": "10,20"}, ["body", "history"]),
            ({"history": [10], "k": 0}, ["body", "k"]),
        ]:
            resp = c.post("/recommendations", json=bad)
            assert resp.status_code == 422, (bad, resp.text)
            assert any(d["loc"][: len(loc)] == loc for d in resp.json()["detail"]), (bad, resp.json())
        resp = c.post("/recommendations", json={"history": [10, 31337]})
        assert resp.status_code == 404 and "31337" in resp.json()["detail"]


@pytest.mark.slow
def test_sasrec_artifact_scores_known_users_without_torch_and_a_visitor_with_it(
    chain: Dataset, tmp_path: Path
) -> None:
    pytest.importorskip("torch")
    model = create(
        "sasrec",
        hidden=16,
        max_len=10,
        n_blocks=1,
        epochs=25,
        lr=5e-3,
        dropout=0.1,
        patience=25,
        n_threads=1,
        random_state=0,
    ).fit(chain.interactions)
    path = export_artifact(model, chain, chain.interactions, tmp_path / "sasrec")
    art = load_artifact(path)
    assert art.family == "sasrec" and art.sequential
    users = np.arange(art.n_users)
    np.testing.assert_allclose(
        np.vstack([art.user_scores(u) for u in users]), model.score(users), rtol=1e-4, atol=1e-4
    )
    assert art.scorer._net is None  # known users never built the network
    hist = [40, 50, 60, 70]
    idx = np.array([chain.interactions.item_map.index(m) for m in hist])
    want = model.score_new_user(idx)
    want[idx] = -np.inf
    recs = art.recommend_for_history(hist, k=3).to_dict("records")
    assert [r["movieId"] for r in recs] == [
        int(chain.interactions.item_map.ids[i]) for i in np.argsort(-want)[:3]
    ]
    assert recs[0]["movieId"] == nxt(70)
    assert not any(p.suffix in (".pt", ".pkl") for p in path.iterdir())
    srv = Server(path, tmp_path / "feedback.db").wait()
    try:
        body = httpx.post(srv.url + "/recommendations", json={"history": hist, "k": 3}, timeout=30.0).json()
        assert [r["movieId"] for r in body["recommendations"]] == [r["movieId"] for r in recs]
    finally:
        srv.stop()


@pytest.mark.browser
def test_the_page_says_a_sequence_models_reason_is_the_last_movie_not_a_liked_one(
    browser,  # type: ignore[no-untyped-def]
    markov_server: Server,
) -> None:
    """markov lists what comes next after the last movie given, whatever its rating, and names that movie as
    ``because``; the page printed "Because you liked Movie 130 (1999)" for a movie the visitor gave one star.
    /health now says ``sequential`` and the page says "After …, the last of your ratings"."""
    srv = markov_server
    health = httpx.get(srv.url + "/health").json()
    assert health["sequential"] is True
    schema = httpx.get(srv.url + "/openapi.json").json()["components"]["schemas"]
    assert "sequential" in schema["Health"]["properties"]
    assert "latest movie given" in schema["Recommendation"]["properties"]["because"]["description"]
    page = browser.new_page(viewport={"width": 390, "height": 844})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(srv.url + "/")
    page.wait_for_selector("#model-info:has-text('markov')")
    for movie, stars in ((50, 5), (130, 1)):  # the last one rated lowest
        page.fill("#search", f"Movie {movie} ")
        page.wait_for_selector(f"#results li[data-movie-id='{movie}']")
        page.click(f"#results li[data-movie-id='{movie}'] .star[data-stars='{stars}']")
    page.locator("#rated li").nth(1).wait_for()
    page.click("#recommend")
    page.wait_for_selector("#recs li")
    first = page.locator("#recs li").nth(0)
    assert first.get_attribute("data-movie-id") == str(nxt(130))
    reason = first.locator(".because").inner_text()
    assert reason == "After Movie 130 (1999), the last of your ratings", reason
    assert "liked" not in page.locator("#recs").inner_text()
    note = page.locator("#recs-about")
    assert note.is_visible() and "whatever its stars" in note.inner_text(), note.inner_text()
    assert not errors, errors
    page.close()


def test_health_says_sequential_only_for_a_sequence_model(markov_artifact, svd_artifact) -> None:
    assert load_artifact(markov_artifact[0]).info()["sequential"] is True
    assert load_artifact(svd_artifact[0]).info()["sequential"] is False


def test_the_cli_and_recommend_for_say_a_sequence_models_reason_is_the_last_movie(
    markov_artifact, chain: Dataset, tmp_path: Path
) -> None:
    """``recommend --rated 50=5 --rated 130=0.5 --explain`` printed a ``because`` column of Movie 130 on
    every row, a half-star movie, with nothing to say it is the last movie given rather than a liked one;
    the page said so (855879f) in words of its own. One sentence (``sequence_note``) now serves the API's
    ``becauseNote``, which the page prints, the CLI's note and ``recommend_for``'s warning."""
    sentence = sequence_note("markov")
    assert "whatever its stars" in sentence
    art = load_artifact(markov_artifact[0])
    assert art.visitor([(50, 5.0), (130, 0.5)], 3, explain=True)["becauseNote"] == sentence
    assert "becauseNote" not in art.visitor([(50, 5.0), (130, 0.5)], 3)
    done = run_process(
        "recommend", "--artifact", str(markov_artifact[0]), "--rated", "50=5", "--rated", "130=0.5",
        "--explain", "-k", "3", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"note: {sentence}" in " ".join(done.stderr.split()), done.stderr  # wrapped at the width, piped
    rec = Recommender(chain, "markov").fit()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = rec.recommend_for([(50, 5.0), (130, 0.5)], k=3, explain=True)
    assert set(frame["because"]) == {"Movie 130 (1999)"}
    assert [str(w.message) for w in caught] == [f"explain: {sentence}"]
    assert caught[0].filename == __file__  # the warning points at the caller's line


def test_sequential_popularity_says_it_is_one_list_counting_every_rating(
    chain: Dataset, markov_artifact, tmp_path: Path
) -> None:
    """sequential-popularity is a fixed list (every rating, each counting half as much per 30 days of age),
    not a sequence model: /health said sequential false but likedFrom 4, the CLI's title 'only movies with
    ≥ 5 ratings of 4+' over counts of every rating (Inception's 143 on ml-latest-small, 107 of them 4+),
    and an explained list had empty reasons with no word why (recommend_for's named the last movie given,
    as for markov). Now /health says sameForEveryone and likedFrom null, the title 'ratings', and the note
    (API, CLI, recommend_for) says it is one list for everyone."""
    model = create("sequential-popularity").fit(chain.interactions)  # every rating, as export trains it
    path = export_artifact(model, chain, chain.interactions, tmp_path / "seqpop")
    art = load_artifact(path)
    info = art.info()
    assert (info["sequential"], info["sameForEveryone"], info["likedFrom"]) == (False, True, None)
    assert load_artifact(markov_artifact[0]).info()["sameForEveryone"] is False
    sentence = one_list_note("sequential-popularity", {"half_life_days": 30.0})
    assert "the same list" in sentence and "30 days" in sentence
    out = art.visitor([(50, 5.0), (130, 0.5)], 3, explain=True)
    assert out["becauseNote"] == sentence
    assert [r["because"] for r in out["recommendations"]] == [[], [], []]
    del art.manifest["model"]["trains_on"]  # an artifact exported before it was recorded: the class says
    assert art.counts_every_rating and art.liked_from is None
    done = run_process(
        "recommend", "--artifact", str(path), "--rated", "50=5", "--rated", "130=0.5", "--explain", "-k", "3",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"note: {sentence}" in " ".join(done.stderr.split()), done.stderr  # wrapped at the width, piped
    title = " ".join(done.stdout.split("┏")[0].split())  # the title, however it wraps
    assert title.endswith(f"only movies with ≥ {art.min_support} ratings"), title
    rec = Recommender(chain, "sequential-popularity").fit()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = rec.recommend_for([(50, 5.0), (130, 0.5)], k=3, explain=True)
    assert list(frame["because"]) == ["", "", ""]
    assert [str(w.message) for w in caught] == [f"explain: {sentence}"]
