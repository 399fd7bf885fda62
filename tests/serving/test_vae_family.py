"""The vae serving family: Mult-VAE and RecVAE export their network's weights and serve every user, known
or not, by the model's own numpy forward pass. A visitor is one more row through the encoder, so ``POST
/recommendations``, ``movierec recommend --rated`` and ``score_new_user`` give the model's list (before,
the artifact held a table of the trained users' scores and answered a visitor with popularity, while
``score_new_user`` counted a 2-star rating as liked)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import scipy.sparse as sp
from servehelp import export_each, fit, mounted_api

from clihelp import run_process
from movierec.datasets import Dataset
from movierec.errors import ArtifactError
from movierec.scoring.base import relative_ratings
from movierec.serving.artifact import export_artifact, load_artifact

MODELS = {
    "mult-vae": {"epochs": 3, "random_state": 0},
    "recvae": {"epochs": 2, "random_state": 0},
    "mult-vae-rating": {"epochs": 3, "random_state": 0, "weighting": "rating"},
}
VISITOR = [(21, 5.0), (31, 4.5), (101, 2.0), (201, 4.0), (301, 3.0)]


@pytest.fixture(scope="module")
def fitted(movies: Dataset, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    pytest.importorskip("torch")
    return export_each(MODELS, movies, tmp_path_factory.mktemp("vae"))


@pytest.fixture(scope="module")
def api(fitted: dict[str, tuple]) -> Iterator[str]:
    """One real uvicorn on 127.0.0.1 serving every artifact under /<label>."""
    with mounted_api({n: a for n, (_, _, a, _) in fitted.items()}) as url:
        yield url


def _forward(model, items: list[int], weights: list[float]) -> np.ndarray:
    """The network on one row, computed here from the model's own layers (not through the scorer)."""
    row = sp.csr_matrix(
        (np.asarray(weights, np.float32), ([0] * len(items), items)), shape=(1, model.n_items_)
    )
    return np.asarray(model._forward_rows(row)[0], dtype=np.float64)


@pytest.mark.parametrize("label", list(MODELS))
def test_known_users_get_the_models_own_top10_over_http(
    label: str, fitted, api: str, movies: Dataset
) -> None:
    model, train, art, _ = fitted[label]
    assert art.family == "vae"
    seen = movies.interactions.csr()
    for u in (0, 7, train.n_users - 1):
        want = np.array(model.score(np.array([u]))[0], dtype=np.float64)
        want[seen.indices[seen.indptr[u] : seen.indptr[u + 1]]] = -np.inf
        order = np.argsort(-want, kind="stable")[:10]
        resp = httpx.get(f"{api}/{label}/users/{train.user_map.to_raw(u)}/recommendations?k=10", timeout=30)
        assert resp.status_code == 200, resp.text
        got = resp.json()["recommendations"]
        np.testing.assert_allclose([r["score"] for r in got], want[order], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("label", list(MODELS))
def test_a_visitor_is_one_row_through_the_network_over_http(label: str, fitted, api: str) -> None:
    """The list is the model's fold-in; only ratings ≥ 4 enter the row (1 each, or each over the
    visitor's own mean under weighting='rating'), so the 2- and 3-star movies change nothing."""
    model, train, _, _ = fitted[label]
    items = np.array([train.item_map.index(m) for m, _ in VISITOR])
    ratings = np.array([r for _, r in VISITOR])
    liked = ratings >= 4.0
    weights = relative_ratings(ratings[liked]) if label.endswith("-rating") else np.ones(int(liked.sum()))
    want = _forward(model, list(items[liked]), list(weights))
    np.testing.assert_allclose(model.score_new_user(items, ratings), want, rtol=1e-5, atol=1e-5)
    want[items] = -np.inf
    order = np.argsort(-want, kind="stable")[:10]
    body = {"ratings": [{"movieId": m, "rating": r} for m, r in VISITOR], "k": 10, "explain": True}
    out = httpx.post(f"{api}/{label}/recommendations", json=body, timeout=30).json()
    assert out.get("fallback") is None, out
    got = out["recommendations"]
    np.testing.assert_allclose([r["score"] for r in got], want[order], rtol=1e-5, atol=1e-5)
    assert any(r["because"] for r in got)  # leave-one-out on the same fold-in
    assert all({b["movieId"] for b in r["because"]} <= {m for m, r in VISITOR if r >= 4.0} for r in got)


def test_no_positive_rating_falls_back_to_popularity_with_the_threshold_reason(fitted, api: str) -> None:
    body = {"ratings": [{"movieId": 21, "rating": 1.0}, {"movieId": 31, "rating": 2.0}], "k": 5}
    out = httpx.post(f"{api}/mult-vae/recommendations", json=body, timeout=30).json()
    assert "none of these ratings reaches 4" in out["fallback"]
    # its scores count the movies' ratings ≥ 4, and it says so ('the most-rated' named another count)
    assert out["fallback"].endswith("so the most-liked movies (the most ratings ≥ 4) are shown"), out
    model, train, _, _ = fitted["mult-vae"]
    items = np.array([train.item_map.index(21), train.item_map.index(31)])
    np.testing.assert_array_equal(model.score_new_user(items, np.array([1.0, 2.0])), train.item_counts())


def test_a_known_users_list_is_not_explained(fitted, api: str) -> None:
    """The network is not a sum over the user's movies: leaving one out would explain another list."""
    _, train, _, _ = fitted["recvae"]
    resp = httpx.get(f"{api}/recvae/users/{train.user_map.to_raw(0)}/recommendations?explain=true")
    assert resp.status_code == 422
    assert (
        "use an artifact of ease or knn-baseline, or POST /recommendations" in resp.json()["detail"][0]["msg"]
    )


def test_the_artifact_holds_the_network_not_a_table(fitted) -> None:
    model, _, art, path = fitted["mult-vae"]
    with np.load(path / "factors.npz") as npz:
        names = set(npz.files)
        np.testing.assert_array_equal(npz["net:dec2.weight_"], getattr(model, "net.dec2.weight_"))
    assert "table_scores" not in names and {"weights_indptr", "net:enc1.weight_"} <= names
    assert any("the network's weights held dense" in n for n in art.manifest["notes"])


@pytest.mark.parametrize("label", ["mult-vae", "recvae"])
def test_similar_ranks_by_the_decoders_item_vectors(label: str, fitted) -> None:
    from movierec.scoring.support import shrunk_similarities

    model, train, art, _ = fitted[label]
    vectors = np.asarray(model.item_embeddings(), dtype=np.float64)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    want = np.asarray(shrunk_similarities((unit @ unit[3]).astype(np.float32), train.csr(), 3), np.float64)
    want[3] = -np.inf
    got = [
        train.item_map.index(r["movieId"])
        for r in art.similar_rows(train.item_map.to_raw(3), k=5, by="model")
    ]
    np.testing.assert_allclose(want[got], np.sort(want)[::-1][:5], rtol=1e-4, atol=1e-5)


def test_a_network_that_does_not_fit_the_catalogue_is_a_broken_artifact(fitted, tmp_path: Path) -> None:
    from test_validate import reseal

    bad = tmp_path / "vae"
    shutil.copytree(fitted["mult-vae"][3], bad)
    with np.load(bad / "factors.npz") as npz:
        arrays = dict(npz)
    arrays["net:dec2.bias_"] = arrays["net:dec2.bias_"][:-1]
    np.savez(bad / "factors.npz", **arrays)
    reseal(bad)  # checksums recomputed: the scorer's own check must catch it
    with pytest.raises(ArtifactError, match="mult-vae network"):
        load_artifact(bad)


def test_an_ensemble_with_a_vae_base_folds_a_visitor_in(movies: Dataset, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    model, train = fit("ensemble", movies, bases={"ease": {"l2": 10.0}, "mult-vae": {"epochs": 2}})
    for n, label in enumerate(model.base_labels_):  # both bases weighed, whatever the hold-out chose
        if model.models_[label] is None:
            model.models_[label] = model._make(model.base_names_[n], model.base_params_[n]).fit(train)
    model.weights_ = np.array([1.0, 0.5])
    art = load_artifact(export_artifact(model, movies, train, tmp_path / "ens", min_support=0))
    assert [b["family"] for b in art.manifest["fold_in"]["bases"]] == ["linear", "vae"]
    items = np.array([train.item_map.index(m) for m, _ in VISITOR])
    ratings = np.array([r for _, r in VISITOR])
    out = art.visitor([(m, r) for m, r in VISITOR], k=5)
    assert out["fallback"] is None and len(out["recommendations"]) == 5
    np.testing.assert_allclose(
        art.scorer.fold_in(items, ratings), model.score_new_user(items, ratings), atol=1e-5
    )


def test_recommend_rated_with_a_vae_lists_the_models_picks(tmp_path: Path) -> None:
    """The CLI on the bundled data: a list from the network (no popularity note), the 1-star movie left out."""
    pytest.importorskip("torch")
    args = ["recommend", "--rated", "Toy Story=5", "--rated", "Alien=5", "--rated", "Titanic (1997)=1"]
    args += ["--model", "mult-vae", "--params", "epochs=2", "-k", "5", "--json"]
    out = run_process(*args, cwd=tmp_path, inherit_columns=True)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got.get("fallback") is None and "most-rated" not in out.stderr
    assert len(got["recommendations"]) == 5
    assert {r["movieId"] for r in got["recommendations"]}.isdisjoint({1, 1214, 1721})


def test_the_artifact_serves_a_visitor_where_torch_is_not_installed(fitted) -> None:
    """Serving needs numpy only: in an interpreter where importing torch fails, the artifact loads and
    folds a visitor in, with the same scores as here."""
    import sys

    _, _, art, path = fitted["mult-vae"]
    want = [r["score"] for r in art.visitor(VISITOR, k=5)["recommendations"]]
    code = (
        "import json, sys; sys.modules['torch'] = None; "
        "from movierec.serving.artifact import load_artifact; "
        f"out = load_artifact({str(path)!r}).visitor({VISITOR!r}, k=5); "
        "print(json.dumps([out['fallback'], [r['score'] for r in out['recommendations']]]))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    fallback, scores = json.loads(run.stdout)
    assert fallback is None
    np.testing.assert_allclose(scores, want, rtol=1e-6)
