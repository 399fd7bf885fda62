"""One path from the model to the API (issue 17): for every exportable model, a visitor's
``POST /recommendations`` over real HTTP returns the Python model's own fold-in top-10, scores and all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from servehelp import assert_own_ratings_fold_in_exactly, fit, mounted_api

from movierec.datasets import Dataset
from movierec.serving.artifact import export_artifact, load_artifact

MODELS = {
    "svd": {"n_factors": 8, "n_epochs": 10, "random_state": 1},
    "svdpp": {"n_factors": 4, "n_epochs": 3},
    "baseline": {},
    "knn-baseline": {"k": 5},
    "knn-basic": {"k": 5},
    "knn-means": {"k": 5},
    "knn-zscore": {"k": 5},
    "itemknn-explicit": {"k": 5},
    "itemknn": {"k": 10},
    "als": {"factors": 8, "iterations": 3, "random_state": 0},
    "bpr": {"no_components": 8, "epochs": 3, "random_state": 0},
    "warp": {"no_components": 8, "epochs": 3, "random_state": 0},
    "ease": {"l2": 10.0},
    "rp3beta": {"k": 20},
    "slim": {"k": 20},
    "popularity": {},
    "markov": {},
    "blend": {"bases": {"svd": {"n_factors": 4, "n_epochs": 5}, "knn-baseline": {"k": 5}, "baseline": {}}},
    "ials": {"factors": 8, "epochs": 5},
    "user-ease": {"l2": 10.0},
    "ensemble": {
        "bases": {
            "ease": {"l2": 10.0},
            "user-ease": {"l2": 10.0},
            "rp3beta": {"k": 20},
            "ials": {"factors": 8},
        },
        "normalize": "std",
    },
}
VISITOR = [(21, 5.0), (31, 4.5), (101, 2.0), (201, 4.0), (301, 3.0)]


@pytest.fixture(scope="module")
def fitted(movies: Dataset, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    out = {}
    root = tmp_path_factory.mktemp("families")
    for name, params in MODELS.items():
        model, train = fit(name, movies, **params) if name != "markov" else _markov(movies)
        if name == "ensemble":
            _weigh_every_base(model, train)
        path = export_artifact(model, movies, train, root / name, min_support=3)
        out[name] = (model, train, load_artifact(path))
    return out


def _weigh_every_base(model, train) -> None:
    """Give every base of a fitted ensemble a weight (refitting those its hold-out dropped), so the artifact
    composes all four families: linear (ease, rp3beta), user-linear (user-ease) and factors (ials)."""
    for n, label in enumerate(model.base_labels_):
        if model.models_[label] is None:
            model.models_[label] = model._make(model.base_names_[n], model.base_params_[n]).fit(train)
    model.weights_ = np.array([1.0, 0.7, 0.5, 0.3])


def _markov(movies: Dataset):
    from movierec.models.registry import create

    return create("markov").fit(movies.interactions), movies.interactions


@pytest.fixture(scope="module")
def api(fitted: dict[str, tuple]) -> Iterator[str]:
    """One real uvicorn on 127.0.0.1 serving every artifact under /<model name>."""
    with mounted_api({n: a for n, (_, _, a) in fitted.items()}) as url:
        yield url


@pytest.mark.parametrize("name", list(MODELS))
def test_visitor_top10_over_http_is_the_python_models_fold_in(name: str, fitted, api: str) -> None:
    model, train, art = fitted[name]
    items = np.array([train.item_map.index(m) for m, _ in VISITOR])
    ratings = np.array([r for _, r in VISITOR])
    want = np.array(model.score_new_user(items, ratings), dtype=np.float64)
    if name == "markov":  # a sequence model reads the ratings' order: what follows the last one
        want = np.array(model.score_new_user(items), dtype=np.float64)
    want[items] = -np.inf
    want[train.item_counts() < art.min_support] = -np.inf
    order = np.argsort(-want, kind="stable")[:10]
    body = {"ratings": [{"movieId": m, "rating": r} for m, r in VISITOR], "k": 10}
    got = httpx.post(f"{api}/{name}/recommendations", json=body, timeout=30).json()["recommendations"]
    np.testing.assert_allclose([r["score"] for r in got], want[order], rtol=1e-5, atol=1e-5)
    got_idx = [train.item_map.index(r["movieId"]) for r in got]
    ties = np.isclose(want[got_idx], want[order], rtol=0, atol=1e-6)
    assert ties.all() and set(got_idx[:5]) <= set(np.flatnonzero(want >= want[order][4] - 1e-6))


@pytest.mark.parametrize("name", ["ials", "user-ease", "ensemble"])
def test_known_user_top10_over_http_is_the_python_models(
    name: str, fitted, api: str, movies: Dataset
) -> None:
    model, train, art = fitted[name]
    seen = movies.interactions.csr()  # every rated movie is left out, not only the positives it trained on
    assert seen.nnz > train.csr().nnz
    for u in (0, 7, 19, train.n_users - 1):
        want = np.array(model.score(np.array([u]))[0], dtype=np.float64)
        want[seen.indices[seen.indptr[u] : seen.indptr[u + 1]]] = -np.inf
        want[train.item_counts() < art.min_support] = -np.inf
        order = np.argsort(-want, kind="stable")[:10]
        raw = train.user_map.to_raw(u)
        got = httpx.get(f"{api}/{name}/users/{raw}/recommendations?k=10", timeout=30).json()[
            "recommendations"
        ]
        np.testing.assert_allclose([r["score"] for r in got], want[order], rtol=1e-5, atol=1e-5)
        got_idx = [train.item_map.index(r["movieId"]) for r in got]
        assert np.allclose(want[got_idx], want[order], rtol=0, atol=1e-6)


def test_knn_zscore_places_a_training_users_own_ratings_where_the_model_does(fitted) -> None:
    """Item-based k-NN with z-scores keeps nothing per user (μ_i, σ_i and the lists are the items'): folding a
    training user's ratings in predicts exactly what the model predicts for them."""
    model, train, art = fitted["knn-zscore"]
    assert art.family == "knn" and "knn_x_scale" in art.scorer.a
    assert_own_ratings_fold_in_exactly(model, train, art.scorer)


def test_itemknn_explicit_places_a_training_users_own_ratings_where_the_model_does(fitted) -> None:
    """LensKit's explicit item k-NN keeps nothing per user but the bias fallback's b_u, which a fold-in
    recomputes undamped from the ratings given: folding a training user's ratings in predicts exactly what
    the model predicts for them (before, its artifact had no visitor rule; the fallback rows are checked on
    ml-latest-small in tests/models/test_itemknn_explicit.py)."""
    model, train, art = fitted["itemknn-explicit"]
    assert art.family == "knn" and int(art.scorer.a["knn_rule"]) == 2
    assert_own_ratings_fold_in_exactly(model, train, art.scorer)


@pytest.mark.parametrize("name", ["knn-basic", "knn-means", "knn-zscore", "knn-baseline", "itemknn-explicit"])
def test_a_knn_artifact_scores_a_known_user_with_the_models_own_numbers(name: str, fitted) -> None:
    """A served k-NN user's deviations come from the kernel the model predicts with (``KnnIndex.scores``
    calls ``accel.predict_dense_items`` as the model does), and its base from the same float64 numbers in the
    same order: every k-NN model scores a training user exactly as its artifact does, and the export's parity
    check reads 0. Before, knn-baseline's base added the model's float32 μ, b_u, b_i where the artifact adds
    its float64 offsets, and itemknn-explicit's bias fallback was the model's float64 μ + b_u + b_i against
    the artifact's float32 copies: up to 4.8e-7 apart. Folded in, a training user's ratings give the model's
    numbers too where nothing per user is kept (knn-basic, knn-means, knn-zscore; itemknn-explicit where its
    neighbours count: its fallback's b_u is recomputed from the ratings given; its fallback rows, which these
    users do not reach, are checked on ml-latest-small in tests/models/test_itemknn_explicit.py). knn-baseline
    re-estimates a visitor's offset, shrunk (``USER_OFFSET_SHRINK``), so its fold-in is no training user's
    prediction."""
    model, train, art = fitted[name]
    users = np.array([0, 7, 19, train.n_users - 1])
    got = np.vstack([art.scorer.known(int(u)) for u in users])
    want = model.predicted_scores(users)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.vstack([art.user_scores(int(u)) for u in users]), model.score(users))
    assert art.manifest["parity_max_abs_diff"] == 0.0
    if name == "knn-baseline":
        return
    folded = np.vstack(
        [art.scorer.fold_in(train.items[train.users == u].astype(np.int64), train.ratings[train.users == u])
         for u in users]
    )  # fmt: skip
    if name == "itemknn-explicit":
        n = train.n_items
        counted = np.vstack([~model._predict(np.full(n, u), np.arange(n))[1] for u in users])
        assert counted.any()
        np.testing.assert_array_equal(folded[counted], want[counted])
        np.testing.assert_allclose(folded, want, rtol=0, atol=1e-6)
        return
    np.testing.assert_array_equal(folded, want)


def test_ensemble_artifact_composes_the_bases_families(fitted) -> None:
    model, train, art = fitted["ensemble"]
    spec = art.manifest["fold_in"]
    assert art.family == "ensemble" and spec["normalize"] == "std"
    assert [(b["label"], b["family"], b["weight"]) for b in spec["bases"]] == [
        ("ease", "linear", 1.0), ("user-ease", "user-linear", 0.7), ("rp3beta", "linear", 0.5),
        ("ials", "factors", 0.3),
    ]  # fmt: skip
    assert any("MiB" in n for n in art.manifest["notes"])
    users = np.arange(train.n_users)
    got = np.vstack([art.user_scores(int(u)) for u in users])
    np.testing.assert_allclose(got, model.score(users), rtol=1e-5, atol=1e-5)
    assert (
        len(art.similar_rows(train.item_map.to_raw(0), 5, by="model")) == 5
    )  # from the heaviest base with item weights
    _, _, user_art = fitted["user-ease"]
    n = len(user_art.scorer.active)
    assert user_art.family == "user-linear" and user_art.manifest["fold_in"]["memory_bytes"] == 4 * n * n


def test_an_ensembles_similar_is_titled_by_the_base_whose_numbers_it_lists(fitted, capsys) -> None:  # type: ignore[no-untyped-def]
    """An ensemble's own 'similar' is its heaviest base's with a similarity (ease here): ``similar --by model``
    titled it "ensemble" over ease's movies and numbers, to the digit. The title now names the base; a
    lift list says nothing more."""
    from clihelp import run_cli

    _, train, art = fitted["ensemble"]
    _, _, ease = fitted["ease"]  # the same data and parameters as the ensemble's ease base
    movie = train.item_map.to_raw(0)
    assert art.scorer.similar_label() == "ease"
    assert art.similar_rows(movie, 5, by="model") == ease.similar_rows(movie, 5, by="model")
    args = ["similar", "--movie-id", str(movie), "-k", "5", "--artifact", str(art.path)]
    code, out, err = run_cli([*args, "--by", "model"], capsys)
    assert code == 0, err
    assert "· by its ease base ·" in " ".join(out.split()), out
    code, out, err = run_cli([*args, "--by", "lift"], capsys)
    assert code == 0, err
    assert "by its" not in out, out


def test_no_positive_rating_falls_back_to_popularity_and_says_so(fitted, api: str) -> None:
    body = {"ratings": [{"movieId": 21, "rating": 1.0}, {"movieId": 31, "rating": 2.0}], "k": 5}
    out = httpx.post(f"{api}/als/recommendations", json=body, timeout=30).json()
    assert out["fallback"] and "popularity" in out["fallback"]
    support = fitted["als"][2].support
    scores = [r["score"] for r in out["recommendations"]]
    assert scores == sorted(scores, reverse=True) and scores[0] == support.max()
    model, train, _ = fitted["als"]
    items = np.array([train.item_map.index(21), train.item_map.index(31)])
    np.testing.assert_array_equal(model.score_new_user(items, np.array([1.0, 2.0])), train.item_counts())
    rated = httpx.post(f"{api}/svd/recommendations", json=body, timeout=30).json()
    assert "fallback" not in rated  # a rating model uses low ratings too


def test_explanations_name_rated_movies_the_score_depends_on(fitted, api: str) -> None:
    body = {"ratings": [{"movieId": m, "rating": r} for m, r in VISITOR], "k": 8, "explain": True}
    for name in ("itemknn", "svd", "ease", "markov"):
        got = httpx.post(f"{api}/{name}/recommendations", json=body, timeout=30).json()
        recs = got["recommendations"]
        rated = {m for m, _ in VISITOR}
        # svd's rows may all be there for how highly everyone rates them: then no movie, and the note says so
        liked_by_most = "how highly most viewers rate" in got.get("becauseNote", "")
        assert any(r["because"] for r in recs) or (name == "svd" and liked_by_most), name
        for r in recs:
            assert {b["movieId"] for b in r["because"]} <= rated and len(r["because"]) <= 2
    # item-kNN is additive: the first 'because' is the liked movie with the largest similarity term
    model, train, _ = fitted["itemknn"]
    recs = httpx.post(f"{api}/itemknn/recommendations", json=body, timeout=30).json()["recommendations"]
    liked = [train.item_map.index(m) for m, r in VISITOR if r >= 4.0]
    for r in recs:
        j = train.item_map.index(r["movieId"])
        terms = model.scoring_matrix()[liked][:, j].toarray().ravel()
        if r["because"]:
            assert train.item_map.index(r["because"][0]["movieId"]) == liked[int(np.argmax(terms))]


def test_a_known_users_list_is_explained_over_http(fitted, api: str) -> None:
    """GET /users/{id}/recommendations?explain=true: each movie's ``because`` names the user's own training
    movies; for item-kNN (additive) the first is the one with the largest similarity term; the list is the
    unexplained one. A factor model answers 422 with the OpenAPI's validation body, naming the parameter."""
    for name in ("itemknn", "ease", "rp3beta", "slim"):
        model, train, _ = fitted[name]
        for u in (0, 7):
            raw = train.user_map.to_raw(u)
            url = f"{api}/{name}/users/{raw}/recommendations?k=8"
            plain = httpx.get(url, timeout=30).json()["recommendations"]
            recs = httpx.get(url + "&explain=true", timeout=30).json()["recommendations"]
            assert [r["movieId"] for r in recs] == [r["movieId"] for r in plain], name
            mine = set(train.item_map.ids[train.csr()[u].indices])
            assert any(r["because"] for r in recs), name
            assert all({b["movieId"] for b in r["because"]} <= mine and len(r["because"]) <= 2 for r in recs)
            if name == "itemknn" and len(mine) <= 20:  # every movie of theirs is tried
                liked = train.csr()[u].indices
                for r in recs:
                    terms = (
                        model.scoring_matrix()[liked][:, train.item_map.index(r["movieId"])].toarray().ravel()
                    )
                    if r["because"]:  # the largest term (ties: any of them)
                        first = list(liked).index(train.item_map.index(r["because"][0]["movieId"]))
                        assert terms[first] == pytest.approx(terms.max(), rel=1e-6)
    resp = httpx.get(f"{api}/svd/users/{fitted['svd'][1].user_map.to_raw(0)}/recommendations?explain=true")
    assert resp.status_code == 422
    (detail,) = resp.json()["detail"]
    assert (
        detail["loc"] == ["query", "explain"] and "use an artifact of ease or knn-baseline" in detail["msg"]
    )


def test_ease_manifest_records_its_memory(fitted) -> None:
    _, _, art = fitted["ease"]
    assert (
        art.family == "linear" and art.manifest["fold_in"]["memory_bytes"] == 4 * len(art.scorer.active) ** 2
    )
    assert any("MiB" in n for n in art.manifest["notes"])


def test_blend_artifact_holds_every_base(fitted, tmp_path: Path) -> None:
    model, _, art = fitted["blend"]
    assert art.family == "blend" and [b["family"] for b in art.manifest["fold_in"]["bases"]] == [
        "factors",
        "knn",
        "factors",
    ]
    np.testing.assert_allclose(art.user_scores(3), model.score(np.array([3]))[0], rtol=1e-5, atol=1e-5)


def test_an_ensemble_fitted_with_item_features_exports_what_it_scores(
    movies: Dataset, tmp_path: Path
) -> None:
    """Given item features, ensemble's ease base is collective EASE; its item weights hold them, so the
    artifact (ease's linear family in the ensemble's) ranks known users and folds visitors in as the model."""
    from movierec.features import build_item_features

    params = {
        "bases": {"ease": {"l2": 10.0}, "rp3beta": {"k": 20}},
        "start_weights": {"ease": 1, "rp3beta": 1},
    }
    plain, train = fit("ensemble", movies, **params, min_gain_se=1e9)
    features = build_item_features(movies, train.item_map, "genres,year")
    model = type(plain)(**params, min_gain_se=1e9).fit(train, item_features=features)
    assert model.base_weights() == {"ease": 1.0, "rp3beta": 1.0}
    art = load_artifact(export_artifact(model, movies, train, tmp_path / "ensemble"))
    users = np.arange(train.n_users)
    got = np.vstack([art.user_scores(int(u)) for u in users])
    np.testing.assert_allclose(got, model.score(users), rtol=1e-5, atol=1e-5)
    assert not np.allclose(got, plain.score(users), atol=1e-4)  # the features acted
    items = np.array([train.item_map.index(m) for m, _ in VISITOR])
    ratings = np.array([r for _, r in VISITOR])
    np.testing.assert_allclose(
        art.scorer.fold_in(items, ratings), model.score_new_user(items, ratings), rtol=1e-5, atol=1e-5
    )
