"""Serving a visitor by their features: artifact parity with the model, and the real HTTP API (422s name the field)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from servehelp import Server

from datagen import planted_demographics
from movierec.demographics import FeatureValueError, build_user_features
from movierec.models.registry import create
from movierec.serving.artifact import export_artifact, load_artifact

VISITOR = {"age": 31, "gender": "F", "occupation": "writer", "zip": "94043"}


@pytest.fixture(scope="module")
def warp_demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    ds = planted_demographics()
    train = ds.interactions.to_implicit(4.0)
    model = create("warp", epochs=15, no_components=8, random_state=0)
    model.fit(train, user_features=build_user_features(ds, train.user_map))
    path = export_artifact(model, ds, train, tmp_path_factory.mktemp("art") / "warp")
    return path, model, ds


def test_artifact_visitor_scores_equal_the_models(warp_demo) -> None:  # type: ignore[no-untyped-def]
    path, model, ds = warp_demo
    art = load_artifact(path)
    assert art.manifest["user_features"]["names"][:2] == ["age:25-34", "age:50-55"]
    for ratings in ([], [(21, 5.0), (3, 4.0), (5, 2.0)]):
        recs = art.recommend_for_visitor(VISITOR, ratings, k=40)
        items = ds.interactions.item_map.index([m for m, _ in ratings]) if ratings else None
        want = model.score_new_user(
            items, np.array([r for _, r in ratings]) if ratings else None, features=VISITOR
        )
        got = {r["movieId"]: r["score"] for r in recs}
        for mid, score in got.items():
            assert abs(score - want[ds.interactions.item_map.index(mid)]) < 1e-4
        assert not {m for m, _ in ratings} & set(got)
    top = [r["movieId"] for r in art.recommend_for_visitor(VISITOR, k=10)]
    assert all(1 <= m <= 20 for m in top), top  # the planted segment's genre
    with pytest.raises(FeatureValueError, match="occupation"):
        art.recommend_for_visitor({"occupation": "astronaut"})


@pytest.fixture(scope="module")
def visitor_server(warp_demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    srv = Server(warp_demo[0], tmp_path_factory.mktemp("db") / "fb.db").wait()
    yield srv
    srv.stop()


def test_post_features_with_and_without_ratings(visitor_server: Server) -> None:
    with httpx.Client(base_url=visitor_server.url, timeout=10.0) as c:
        r = c.post("/recommendations", json={"features": VISITOR, "k": 5})
        assert r.status_code == 200, r.text
        assert all(1 <= x["movieId"] <= 20 for x in r.json()["recommendations"])
        r = c.post(
            "/recommendations",
            json={"features": {"age": 52, "gender": "M"}, "ratings": [{"movieId": 21, "rating": 5}]},
        )
        assert r.status_code == 200 and 21 not in [x["movieId"] for x in r.json()["recommendations"]]
        assert all(21 <= x["movieId"] <= 40 for x in r.json()["recommendations"])


@pytest.mark.parametrize(
    ("features", "field"),
    [({"occupation": "astronaut"}, "occupation"), ({"age": 400}, "age"), ({"age": 2.5}, "age"),
     ({"gender": "X"}, "gender"), ({"zip": "??"}, "zip"), ({"shoe": 42}, "shoe")],
)  # fmt: skip
def test_bad_feature_values_are_422_naming_the_field(
    visitor_server: Server, features: dict, field: str
) -> None:
    """One error at the field, in words that name it (an age of 2.5 was pydantic's two, at features.age.int and
    .str: "Input should be a valid integer, got a number with a fractional part")."""
    r = httpx.post(visitor_server.url + "/recommendations", json={"features": features}, timeout=10.0)
    assert r.status_code == 422 and len(r.json()["detail"]) == 1, r.text
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["body", "features", field] and field in detail["msg"]


def test_features_on_an_artifact_without_them_is_422(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.post(server.url + "/recommendations", json={"features": VISITOR}, timeout=10.0)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "features"]
    assert "without user features" in r.json()["detail"][0]["msg"]


@pytest.mark.browser
def test_page_asks_for_features_and_recommends_without_ratings(
    browser, visitor_server: Server, server
) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 390, "height": 844})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(visitor_server.url + "/")
    page.wait_for_selector("#about:not([hidden])")
    page.fill("#f-age", "31")
    page.select_option("#f-gender", "F")
    page.select_option("#f-occupation", "writer")
    page.click("#recommend")
    page.wait_for_selector("#recs li")
    ids = [int(page.locator("#recs li").nth(i).get_attribute("data-movie-id")) for i in range(10)]
    assert all(1 <= m <= 20 for m in ids), ids  # the planted segment's genre
    page.fill("#f-age", "400")
    page.click("#recommend")
    # a selector wait, not wait_for_function: the page's CSP (script-src 'self') forbids the eval a string predicate needs
    page.wait_for_selector("#status:has-text('age')")
    page.fill(
        "#f-age", "2.5"
    )  # the page said "Input should be a valid integer, got a number with a fractional part"
    page.click("#recommend")
    page.wait_for_selector("#status:has-text('2.5')")
    assert page.locator("#status").inner_text() == (
        "Could not get recommendations: age must be a whole number between 1 and 120, got 2.5"
    )
    assert not errors, errors
    page.goto(server.url + "/")  # a model exported without user features: no form
    page.wait_for_selector("#model-info:has-text('svd')")
    assert page.locator("#about").is_hidden()
    page.close()


# --- segment-popularity: the segments family (issue 20) ---------------------------------------


@pytest.fixture(scope="module")
def segment_demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    ds = planted_demographics()
    train = ds.interactions.to_implicit(4.0)
    model = create("segment-popularity").fit(train, user_features=build_user_features(ds, train.user_map))
    path = export_artifact(model, ds, train, tmp_path_factory.mktemp("art") / "segments")
    return path, model, ds


def test_segment_popularity_exports_and_serves_the_segments_list(segment_demo) -> None:  # type: ignore[no-untyped-def]
    path, model, ds = segment_demo
    art = load_artifact(path)
    assert art.manifest["model"]["family"] == "segments"
    imap = ds.interactions.item_map
    for features, liked in ((VISITOR, range(1, 21)), ({"age": 52, "gender": "M"}, range(21, 41))):
        want = model.score_new_user(features=features)
        recs = art.recommend_for_visitor(features, k=10)
        assert {r["movieId"] for r in recs} <= set(liked)  # the planted segment's genre
        for r in recs:
            assert abs(r["score"] - want[imap.index(r["movieId"])]) < 1e-6
    # a known user keeps their segment's list; a segment nobody trained in gets global popularity
    assert np.allclose(art.scorer.known(0), model.score(np.array([0]))[0])
    lonely = model.score_new_user(features={"age": 70, "gender": "F"})
    assert np.allclose(lonely, model.score_new_user())
    with pytest.raises(FeatureValueError, match="gender"):
        art.recommend_for_visitor({"gender": "X"})


def test_segment_popularity_over_http(segment_demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    srv = Server(segment_demo[0], tmp_path / "fb.db").wait()
    try:
        with httpx.Client(base_url=srv.url, timeout=10.0) as c:
            assert c.get("/health").json()["userFeatures"]["gender"] == ["F", "M"]
            r = c.post("/recommendations", json={"features": VISITOR, "k": 5})
            assert r.status_code == 200, r.text
            assert all(1 <= x["movieId"] <= 20 for x in r.json()["recommendations"])
            r = c.post(
                "/recommendations",
                json={"features": {"age": 52, "gender": "M"}, "ratings": [{"movieId": 21, "rating": 5}]},
            )
            ids = [x["movieId"] for x in r.json()["recommendations"]]
            assert r.status_code == 200 and 21 not in ids and all(21 <= m <= 40 for m in ids), ids
            r = c.post("/recommendations", json={"features": {"age": 400}})
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "features", "age"]
    finally:
        srv.stop()
