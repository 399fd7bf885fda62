"""The table serving family: models whose scores have no compact form (Slope One, NMF, co-clustering,
user-based k-NN) export every training user's scores, so ``movierec recommend`` and the API serve
exactly the model's lists. Each places a visitor by its own rule (the same code as ``score_new_user``);
an artifact written before those rules gives a visitor popularity with the reason; what cannot be served
at all (normal-predictor) is refused before any training."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import scipy.sparse as sp
from servehelp import assert_own_ratings_fold_in_exactly, export_each, mounted_api

from clihelp import run_process
from movierec.datasets import Dataset
from movierec.errors import ArtifactError, ConfigError
from movierec.models.registry import create
from movierec.serving.artifact import export_artifact, load_artifact
from movierec.split import ratings_holdout

MODELS = {
    "slope-one": {},
    "nmf": {"factors": 4, "epochs": 10},
    "co-clustering": {"n_cltr_u": 2, "n_cltr_i": 2, "epochs": 5},
    "knn-zscore": {"k": 5, "user_based": True},  # item-based k-NN with z-scores is the knn family's
    # a composite with a table base serves its known users exactly too, and cannot fold a visitor in
    "blend": {"bases": {"nmf": {"factors": 4, "epochs": 10}, "baseline": {}}},
}
VISITOR = [(21, 5.0), (31, 4.5), (101, 2.0)]


@pytest.fixture(scope="module")
def fitted(movies: Dataset, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    return export_each(MODELS, movies, tmp_path_factory.mktemp("table"))


@pytest.fixture(scope="module")
def api(fitted: dict[str, tuple]) -> Iterator[str]:
    """One real uvicorn on 127.0.0.1 serving every artifact under /<model name>."""
    with mounted_api({n: a for n, (_, _, a, _) in fitted.items()}) as url:
        yield url


@pytest.mark.parametrize("name", list(MODELS))
def test_known_users_get_the_models_own_top10_over_http(name: str, fitted, api: str, movies: Dataset) -> None:
    model, train, art, _ = fitted[name]
    family = art.manifest["model"]["family"]
    assert family == ("blend" if name == "blend" else "table")
    seen = movies.interactions.csr()  # every rated movie is left out (an implicit model trained on fewer)
    for u in (0, 7, train.n_users - 1):
        want = np.array(model.score(np.array([u]))[0], dtype=np.float64)
        want[seen.indices[seen.indptr[u] : seen.indptr[u + 1]]] = -np.inf
        order = np.argsort(-want, kind="stable")[:10]
        raw = train.user_map.to_raw(u)
        resp = httpx.get(f"{api}/{name}/users/{raw}/recommendations?k=10", timeout=30)
        assert resp.status_code == 200, resp.text
        got = resp.json()["recommendations"]
        np.testing.assert_allclose([r["score"] for r in got], want[order], rtol=1e-5, atol=1e-5)
        got_idx = [train.item_map.index(r["movieId"]) for r in got]
        assert np.allclose(want[got_idx], want[order], rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["slope-one", "nmf", "co-clustering", "knn-zscore", "blend"])
def test_a_visitor_gets_the_models_own_fold_in_over_http(name: str, fitted, api: str) -> None:
    """Slope One, NMF and co-clustering place a visitor by their rule (a blend of such bases too): the
    API's top-10 is the Python model's ``score_new_user`` ranking, scores and all, with no fallback."""
    model, train, art, _ = fitted[name]
    assert art.scorer.folds_in
    items = np.array([train.item_map.index(m) for m, _ in VISITOR])
    want = np.array(model.score_new_user(items, np.array([r for _, r in VISITOR])), dtype=np.float64)
    want[items] = -np.inf
    order = np.argsort(-want, kind="stable")[:10]
    body = {"ratings": [{"movieId": m, "rating": r} for m, r in VISITOR], "k": 10}
    out = httpx.post(f"{api}/{name}/recommendations", json=body, timeout=30).json()
    assert out.get("fallback") is None, out
    np.testing.assert_allclose(
        [r["score"] for r in out["recommendations"]], want[order], rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("name", ["slope-one", "co-clustering"])
def test_a_training_users_own_ratings_fold_in_to_the_models_predictions(name: str, fitted) -> None:
    """Slope One's and co-clustering's visitor rules are the model's prediction rule: given a training
    user's ratings, they predict what the model predicts for that user (μ_u, the deviations, the
    cluster: nothing else is learned per user)."""
    model, train, art, _ = fitted[name]
    assert_own_ratings_fold_in_exactly(model, train, art.scorer, atol=1e-4)


def test_nmf_folds_a_visitor_in_by_the_exact_non_negative_solve(fitted) -> None:
    """The visitor's p ≥ 0 minimises Σ (r − p·q)² + n·λ·|p|² with q fixed: given a training user's ratings,
    its objective is no higher than the trained p_u's (which the multiplicative updates only approach)."""
    model, train, art, _ = fitted["nmf"]
    q = model.item_factors_.astype(np.float64)
    ratings = train.csr()
    for u in (0, 7):
        lo, hi = ratings.indptr[u], ratings.indptr[u + 1]
        items, r = ratings.indices[lo:hi], ratings.data[lo:hi].astype(np.float64)
        got = np.asarray(art.scorer.fold_in(items, r), dtype=np.float64)
        p, *_ = np.linalg.lstsq(q, got, rcond=None)  # the visitor's factors, read back from p·q
        assert (p > -1e-6).all() and (got > -1e-6).all()

        def loss(v: np.ndarray, items=items, r=r) -> float:
            return float(((r - q[items] @ v) ** 2).sum() + len(items) * model.reg_pu * (v**2).sum())

        assert loss(p) <= loss(model.user_factors_[u].astype(np.float64)) + 1e-6


def test_biased_nmf_folds_a_visitor_in_with_their_own_bias(movies: Dataset) -> None:
    """Biased NMF's visitor: p ≥ 0 and b_v minimise Σ (r − μ − b_i − b_v − p·q)² + n·λ_pu·|p|² + n·λ_bu·b_v²
    with q and b_i fixed; given a training user's ratings, no higher than the trained p_u and b_u's."""
    from servehelp import fit

    from movierec.scoring import visitor_scorer

    model, train = fit("nmf", movies, biased=True, factors=4, epochs=10, reg_bu=0.1, random_state=0)
    scorer = visitor_scorer(model, train.csr())
    assert "visitor_item_bias" in scorer.a
    q, bi = model.item_factors_.astype(np.float64), model.item_bias_.astype(np.float64)
    mu, known = float(model.global_mean_), model.item_known_
    ratings = train.csr()
    for u in (0, 7):
        lo, hi = ratings.indptr[u], ratings.indptr[u + 1]
        items, r = ratings.indices[lo:hi], ratings.data[lo:hi].astype(np.float64)
        got = np.asarray(scorer.fold_in(items, r), dtype=np.float64)
        design = np.c_[q[known], np.ones(int(known.sum()))]
        x, *_ = np.linalg.lstsq(design, got[known] - mu - bi[known], rcond=None)  # p and b_v, read back
        assert (x[:-1] > -1e-6).all()

        def loss(p: np.ndarray, b: float, items=items, r=r) -> float:
            fit_term = ((r - mu - bi[items] - b - q[items] @ p) ** 2).sum()
            return float(fit_term + len(items) * (model.reg_pu * (p**2).sum() + model.reg_bu * b**2))

        trained = loss(model.user_factors_[u].astype(np.float64), float(model.user_bias_[u]))
        assert loss(x[:-1], float(x[-1])) <= trained + 1e-6


# ml-latest-small movieIds a visitor rates (Toy Story, Star Wars, Pulp Fiction, The Matrix): all rated in training
ML_VISITOR = [(1, 5.0), (260, 4.5), (296, 2.0), (2571, 4.0)]


def _visitor_bias(model, items: np.ndarray, r: np.ndarray, got: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    """The visitor's b_v, found outside the rule's code: biased NMF's is read back from its predictions on
    the rated movies (they are μ + b_v + b_i + p·q_i, linear in p and b_v); knn-baseline's is the knn
    family's shrunk mean deviation; a model without biases has none."""
    from movierec.scoring.knn import USER_OFFSET_SHRINK

    mu, known = float(model.global_mean_), model.item_known_
    if model.name == "knn-baseline":
        return float(np.sum(r - mu - model.item_bias_[items]) / (len(items) + USER_OFFSET_SHRINK))
    if not getattr(model, "biased", False):
        return 0.0
    design = np.c_[model.item_factors_[known], np.ones(int(known.sum()))].astype(np.float64)
    x, *_ = np.linalg.lstsq(design, got[known] - mu - model.item_bias_[known], rcond=None)
    return float(x[-1])


@pytest.mark.parametrize(
    ("name", "params"),
    [
        # 10 epochs (of the default 50): the fallback rule reads the fitted biases whatever their values
        ("nmf", {"biased": True, "factors": 5, "epochs": 10, "random_state": 3}),
        ("nmf", {"factors": 5, "epochs": 10, "random_state": 3}),
        ("knn-baseline", {"k": 20, "user_based": True}),  # the table family's other biased rule
    ],
    ids=["nmf-biased", "nmf", "knn-baseline-user"],
)
def test_a_movie_without_training_ratings_gets_the_same_fallback_from_the_model_and_its_artifact(
    name: str, params: dict, bundled: Dataset, tmp_path: Path
) -> None:
    """ml-latest-small 80/20 (seed 42) leaves 796 movies in the item map without a training rating. There
    the model gives a known user Surprise's estimate for an unknown item, μ + b_u (μ without biases), and a
    visitor the same with their own fitted bias, μ + b_v (the artifact gave μ, dropping b_v). Through what
    the API runs (``visitor``, ``recommend_index``), every movie's predicted rating and score equal the
    Python model's (``predict_new_user``, ``score_new_user``, ``predict``, ``score``) to 1e-5."""
    train, _ = ratings_holdout(bundled.interactions, 0.2, 42)
    unrated = np.flatnonzero(train.item_counts() == 0)
    assert len(unrated) == 796
    model = create(name, **params).fit(train)
    art = load_artifact(export_artifact(model, bundled, train, tmp_path / name))
    mu, lo, hi, every = float(model.global_mean_), *train.rating_scale, train.n_items

    items = np.array([train.item_map.index(m) for m, _ in ML_VISITOR])
    r = np.array([v for _, v in ML_VISITOR])
    rows = art.visitor(ML_VISITOR, k=every, min_support=0)["recommendations"]
    listed = np.array([train.item_map.index(row["movieId"]) for row in rows])
    assert len(listed) == every - len(items) and not np.isin(items, listed).any()
    predicted = model.predict_new_user(items, r)
    np.testing.assert_allclose([row["predictedRating"] for row in rows], predicted[listed], rtol=0, atol=1e-5)
    np.testing.assert_allclose(
        [row["score"] for row in rows], model.score_new_user(items, r)[listed], atol=1e-5
    )
    raw = np.asarray(art.scorer.fold_in(items, r), dtype=np.float64)
    b_v = _visitor_bias(model, items, r, raw)
    assert (b_v != 0) == (name == "knn-baseline" or bool(params.get("biased"))), b_v
    np.testing.assert_allclose(raw[unrated], mu + b_v, rtol=0, atol=1e-5)
    np.testing.assert_allclose(predicted[unrated], np.clip(mu + b_v, lo, hi), rtol=0, atol=1e-5)

    for u in (0, 7):
        rows = art.recommend_index(u, k=every, exclude_seen=False, min_support=0)
        listed = np.array([train.item_map.index(row["movieId"]) for row in rows])
        assert len(listed) == every
        own = model.predict(np.full(every, u), np.arange(every))
        np.testing.assert_allclose([row["predictedRating"] for row in rows], own[listed], rtol=0, atol=1e-5)
        scores = model.score(np.array([u]))[0]
        np.testing.assert_allclose([row["score"] for row in rows], scores[listed], rtol=0, atol=1e-5)
        b_u = float(model.user_bias_[u]) if hasattr(model, "user_bias_") else 0.0
        on_unrated = model.predict(np.full(len(unrated), u), unrated, clip=False)
        np.testing.assert_allclose(on_unrated, mu + b_u, rtol=0, atol=1e-5)
        np.testing.assert_allclose(art.scorer.known(u)[unrated], mu + b_u, rtol=0, atol=1e-5)


def test_an_artifact_written_before_visitor_rules_gives_a_visitor_popularity_and_the_reason(
    fitted, tmp_path: Path
) -> None:
    """A table artifact whose manifest names no visitor rule (as every one written before them did)
    answers a visitor with the most-rated movies and says why, instead of failing."""
    import shutil

    from test_validate import reseal

    old = tmp_path / "old"
    shutil.copytree(fitted["slope-one"][3], old)
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["fold_in"]["visitors"] = "popularity"
    (old / "manifest.json").write_text(json.dumps(manifest))
    reseal(old)
    art = load_artifact(old)
    got = art.visitor(VISITOR, k=5)
    assert "cannot place a person who is not in its training data" in got["fallback"]
    assert got["fallback"].endswith("so the most-rated movies are shown")  # slope-one: every rating counts
    rows = got["recommendations"]
    assert len(rows) == 5 and not {r["movieId"] for r in rows} & {m for m, _ in VISITOR}
    support = {art.item_map.to_raw(i): int(n) for i, n in enumerate(art.support)}
    assert [r["ratings"] for r in rows] == sorted(
        (n for m, n in support.items() if m not in {v for v, _ in VISITOR}), reverse=True
    )[:5]  # the most-rated movies


@pytest.mark.parametrize("name", ["knn-basic", "knn-means", "knn-zscore"])
@pytest.mark.parametrize("similarity", ["msd", "pearson", "cosine"])
def test_user_based_knn_places_a_left_out_user_where_the_full_model_does(
    name: str, similarity: str, movies: Dataset
) -> None:
    """User-based k-NN keeps nothing per user but their ratings: fitted without user u, folding u's ratings
    in predicts exactly what the model fitted with u predicts for u (the same neighbours, ties included,
    as k = 3 picks among equal MSD similarities), on every movie someone else rated."""
    from movierec.models.registry import create

    inter, u = movies.interactions, 5
    ratings = inter.csr()
    lo, hi = ratings.indptr[u], ratings.indptr[u + 1]
    items, r = ratings.indices[lo:hi], ratings.data[lo:hi].astype(np.float64)
    params = {"k": 3, "user_based": True, "similarity": similarity}
    full = create(name, **params).fit(inter)
    without = inter.subset(np.flatnonzero(inter.users != u))
    part = create(name, **params).fit(without)
    got = np.asarray(part.predict_new_user(items, r), dtype=np.float64)
    want = np.clip(full.predicted_scores(np.array([u]))[0], *inter.rating_scale)
    others = np.setdiff1d(np.flatnonzero(without.item_counts() > 0), items)
    np.testing.assert_allclose(got[others], want[others], rtol=1e-6, atol=1e-6)


def test_the_table_is_the_models_raw_scores_and_its_size_is_recorded(fitted) -> None:
    model, train, art, path = fitted["slope-one"]
    with np.load(path / "factors.npz") as npz:
        table = npz["table_scores"]
    assert table.shape == (train.n_users, train.n_items) and table.dtype == np.float32
    np.testing.assert_allclose(table[:5], model.predicted_scores(np.arange(5)), rtol=1e-6)
    assert art.manifest["fold_in"]["memory_bytes"] == 4 * train.n_users * train.n_items
    assert any("every training user's scores" in n for n in art.manifest["notes"])


def test_a_table_of_the_wrong_shape_is_a_broken_artifact(fitted, tmp_path: Path) -> None:
    import shutil

    from test_validate import reseal

    _, _, _, path = fitted["nmf"]
    bad = tmp_path / "nmf"
    shutil.copytree(path, bad)
    with np.load(bad / "factors.npz") as npz:
        arrays = dict(npz)
    arrays["table_scores"] = arrays["table_scores"][:, :-1]
    np.savez(bad / "factors.npz", **arrays)
    reseal(bad)  # checksums recomputed: the shape check itself must catch it
    with pytest.raises(ArtifactError, match="table_scores"):
        load_artifact(bad)


def test_a_table_too_large_is_refused_in_one_line() -> None:
    from movierec.scoring.table import check_size

    check_size("slope-one", 16_000, 16_000)  # 0.95 GiB: served
    with pytest.raises(ConfigError, match=r"162,541 users × 59,047 items.*35\.8 GiB.*svd, ease"):
        check_size("slope-one", 162_541, 59_047)


def test_recommend_cli_serves_a_table_model_and_refuses_normal_predictor_before_training(
    tmp_path: Path,
) -> None:
    # in this process (clihelp.run_process, the inherited $COLUMNS): recommend starts no server
    args = ["recommend", "--user", "1", "--model", "co-clustering", "-k", "5", "--json"]
    ok = run_process(*args, cwd=tmp_path, inherit_columns=True)
    assert ok.returncode == 0, ok.stderr
    rows = json.loads(ok.stdout)
    assert len(rows) == 5 and all("predictedRating" in r for r in rows)
    tic = time.perf_counter()
    bad = run_process(
        "recommend", "--user", "1", "--model", "normal-predictor", cwd=tmp_path, inherit_columns=True
    )
    assert bad.returncode == 2
    lines = bad.stderr.strip().splitlines()
    assert lines == [  # recommend's words, not export's 'cannot export' (tests/test_door_words.py: <= 160)
        "movierec: error: normal-predictor draws random ratings, so it has no list: use -m svd, or score it "
        "with compare -m normal-predictor --protocols rating"
    ]
    assert time.perf_counter() - tic < 60  # refused before loading and training, not after


def test_similar_ranks_by_the_models_item_vectors(fitted) -> None:
    model, train, art, _ = fitted["nmf"]
    vectors = np.asarray(model.item_embeddings(), dtype=np.float64)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    cos = unit @ unit[3]
    # the cosine of the model's vectors, shrunk by co-support as for every family with vectors
    from movierec.scoring.support import shrunk_similarities

    seen = sp.csr_matrix(train.csr())
    want = np.asarray(shrunk_similarities(cos.astype(np.float32), seen, 3), dtype=np.float64)
    want[3] = -np.inf
    rows = art.similar_rows(train.item_map.to_raw(3), k=5, by="model")
    got = [train.item_map.index(r["movieId"]) for r in rows]
    np.testing.assert_allclose(want[got], np.sort(want)[::-1][:5], rtol=1e-4, atol=1e-5)
    assert got[0] != 3 and len(set(got)) == 5


def test_a_table_model_without_item_vectors_has_no_similar(fitted) -> None:
    _, train, art, _ = fitted["slope-one"]
    # the one line also says which models have a 'similar'
    with pytest.raises(ConfigError, match=r"no item vectors or neighbour lists.*; ease, itemknn"):
        art.similar_rows(train.item_map.to_raw(3), k=5, by="model")


def test_a_table_too_large_for_the_data_is_refused_before_training(
    movies: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """export (and recommend) check the table's size against the data before fitting: a model that
    would be refused after training is refused first (the limit lowered so that 40 × 60 is too large)."""
    from movierec.scoring import table
    from movierec.serving.pipeline import train_and_export

    monkeypatch.setattr(table, "MAX_BYTES", 1024)
    from movierec.models.classic import SlopeOne

    fitted: list[str] = []
    real_fit = SlopeOne._fit
    # a spy, not a stand-in: it records the call and trains for real
    monkeypatch.setattr(SlopeOne, "_fit", lambda self, train: fitted.append("fit") or real_fit(self, train))
    with pytest.raises(ConfigError, match=r"cannot export 'slope-one' for \d+ users × \d+ items"):
        train_and_export(movies, "slope-one", {}, tmp_path / "so", check=False)
    assert fitted == [] and not (tmp_path / "so").exists()
    with pytest.raises(ConfigError, match="cannot export 'knn-means'"):  # user-based k-NN: a table too
        train_and_export(movies, "knn-means", {"user_based": True, "k": 5}, tmp_path / "knn", check=False)
    path = train_and_export(movies, "svd", {"n_epochs": 2}, tmp_path / "svd", check=False).path
    assert path.is_dir()  # a compact family is not concerned
