"""Projections, genre colouring, label placement and neighbour tables of the item-embedding maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movierec.errors import ConfigError
from movierec.viz.embeddings import (
    item_frame,
    liked_together,
    main_genre,
    nearest_neighbours,
    project,
    static_map,
)


def _clustered(n_per: int = 30, dims: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated clusters of vectors."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, dims)) * 6
    labels = np.repeat(np.arange(3), n_per)
    return centres[labels] + rng.normal(size=(len(labels), dims)), labels


def _frame(n: int, titles: list[str] | None = None) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "movieId": np.arange(n) * 10 + 1,
            "title": titles or [f"Movie {i}" for i in range(n)],
            "year": pd.array([1990 + i % 20 for i in range(n)], dtype="Int64"),
            "genres": [["Comedy", "Drama"] if i % 3 else ["Animation", "Comedy"] for i in range(n)],
        }
    )
    return item_frame(table, np.arange(n)[::-1] + 1)


@pytest.mark.parametrize("method", ["pca", pytest.param("tsne", marks=pytest.mark.slow)])
def test_projection_is_deterministic_given_the_seed(method: str) -> None:
    x, _ = _clustered()
    a = project(x, method, seed=3, sample=None)
    b = project(x, method, seed=3, sample=None)
    assert a.coords.shape == (len(x), 2)
    np.testing.assert_array_equal(a.coords, b.coords)
    np.testing.assert_array_equal(a.items, np.arange(len(x)))


@pytest.mark.slow
def test_umap_projection_is_deterministic_given_the_seed() -> None:
    x, _ = _clustered()
    a = project(x, "umap", seed=3, sample=None)
    b = project(x, "umap", seed=3, sample=None)
    np.testing.assert_allclose(a.coords, b.coords)
    # umap-learn's kernels are kept on disk (they took ~10 CPU-s to compile in every process that drew a
    # map, this test's whole cost); a later process loads them, and the map above is the same either way
    from numba.core.caching import FunctionCache
    from umap import umap_, utils

    assert isinstance(umap_.smooth_knn_dist._cache, FunctionCache)
    assert isinstance(utils.fast_knn_indices._cache, FunctionCache)


@pytest.mark.slow
def test_tsne_keeps_clusters_apart() -> None:
    x, labels = _clustered()
    coords = project(x, "tsne", seed=1, sample=None).coords
    centroids = np.array([coords[labels == c].mean(axis=0) for c in range(3)])
    within = max(np.linalg.norm(coords[labels == c] - centroids[c], axis=1).mean() for c in range(3))
    between = min(np.linalg.norm(centroids[i] - centroids[j]) for i in range(3) for j in range(i + 1, 3))
    assert between > 2 * within


def test_sample_is_seeded_and_skips_zero_vectors() -> None:
    x, _ = _clustered()
    x[5] = 0.0
    a = project(x, "pca", seed=1, sample=20)
    b = project(x, "pca", seed=1, sample=20)
    c = project(x, "pca", seed=2, sample=20)
    assert len(a.items) == 20 and 5 not in a.items
    np.testing.assert_array_equal(a.items, b.items)
    assert not np.array_equal(a.items, c.items)
    assert 5 not in project(x, "pca", seed=1, sample=None).items


def test_projection_rejects_bad_input() -> None:
    with pytest.raises(ConfigError, match="projection"):
        project(np.ones((5, 3)), "mds")
    with pytest.raises(ConfigError, match="at least 3"):
        project(np.zeros((5, 3)), "pca")
    with pytest.raises(ConfigError, match="2-D"):
        project(np.ones(5), "pca")


def test_main_genre_is_the_rarest_of_a_movies_genres() -> None:
    genres = [
        ["Adventure", "Animation", "Comedy"],
        ["Adventure", "Comedy"],
        ["Comedy"],
        [],
        ["(no genres listed)"],
        ["Action", "IMAX"],
    ]
    # IMAX is a format, not a genre, so it never wins even though it is the rarest
    assert main_genre(genres) == ["Animation", "Adventure", "Comedy", "(none)", "(none)", "Action"]


def test_neighbours_find_the_famous_titles_and_the_nearest_vectors() -> None:
    titles = ["Toy Story (1995)", "Toy Story 2 (1999)", "Matrix, The (1999)", "Heat (1995)"] + [
        f"Movie {i}" for i in range(4, 40)
    ]
    frame = _frame(40, titles)
    rng = np.random.default_rng(0)
    vec = rng.normal(size=(40, 8))
    vec[1] = vec[0] + 0.01 * rng.normal(size=8)  # Toy Story 2 sits next to Toy Story
    out = nearest_neighbours(vec, frame, k=3, min_ratings=1)
    assert out[0]["title"] == "Toy Story (1995)"
    assert out[0]["neighbours"][0]["title"] == "Toy Story 2 (1999)"
    assert out[0]["neighbours"][0]["similarity"] > 0.99
    assert [q["title"] for q in out[:2]] == ["Toy Story (1995)", "Matrix, The (1999)"]
    assert len(out) == 6  # missing famous titles are replaced by the most-rated items
    sims = [nb["similarity"] for nb in out[1]["neighbours"]]
    assert sims == sorted(sims, reverse=True)
    assert all(nb["title"] != q["title"] for q in out for nb in q["neighbours"])


def test_liked_together_is_what_movierec_similar_lists() -> None:
    """The report's 'similar movies' table is ``movierec similar``'s default list (by lift, shrunk by
    co-support, above the floor), row for row: on ml-latest-small Toy Story's opens with Toy Story 2, where
    svd's own space put The Incredibles, Die Hard and Fight Club beside it."""
    import warnings

    import movierec

    ds = movierec.load("ml-latest-small")
    frame = item_frame(ds.item_table(), np.zeros(ds.interactions.n_items, dtype=np.int64))
    out = liked_together(ds.interactions, 4.0, frame)
    assert [q["title"] for q in out][:3] == ["Toy Story (1995)", "Matrix, The (1999)", "Pulp Fiction (1994)"]
    assert len(out) == 6 and all(len(q["neighbours"]) == 5 for q in out)
    assert out[0]["neighbours"][0]["title"] == "Toy Story 2 (1999)"
    star_wars = next(q for q in out if q["title"].startswith("Star Wars: Episode IV"))
    assert star_wars["neighbours"][0]["title"].startswith("Star Wars: Episode V")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = movierec.Recommender(ds, "popularity").fit()  # by lift, the list is the same whatever the model
    for q in out:
        listed = rec.similar(q["movieId"], k=5)
        assert list(listed["title"]) == [nb["title"] for nb in q["neighbours"]], q["title"]
        assert list(listed["similarity"]) == pytest.approx(
            [nb["similarity"] for nb in q["neighbours"]], abs=1e-4
        )


@pytest.mark.slow
def test_static_map_labels_do_not_overlap(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from movierec.viz import embeddings as E

    x, _ = _clustered(n_per=40)
    proj = project(x, "pca", seed=0, sample=None)
    frame = _frame(len(x), [f"A rather long movie title {i} (2001)" for i in range(len(x))])
    boxes: list = []
    original = E._place_labels

    def spy(ax, xs, ys, labels):  # type: ignore[no-untyped-def]
        n = original(ax, xs, ys, labels)
        from matplotlib.text import Text

        ax.figure.canvas.draw()
        renderer = ax.figure.canvas.get_renderer()

        # the text's own box (an Annotation's extent would include its leader line)
        boxes.extend(Text.get_window_extent(t, renderer) for t in ax.texts)
        return n

    E._place_labels = spy
    try:
        path = static_map(frame, proj, tmp_path / "map.png", title="test", n_labels=25)
    finally:
        E._place_labels = original
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert len(boxes) >= 10
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            assert not (a.x0 < b.x1 and a.x1 > b.x0 and a.y0 < b.y1 and a.y1 > b.y0), (i, j)


@pytest.mark.slow
def test_maps_projected_on_threads_equal_one_by_one() -> None:
    from movierec.viz.report import _project_all

    x1, _ = _clustered(seed=1)
    x2, _ = _clustered(seed=2)
    inputs = [
        {"model": "a", "emb": x1, "items": np.arange(len(x1))},
        {"model": "n", "note": "no vectors"},
        {"model": "b", "emb": x2, "items": np.arange(0, len(x2), 2)},
    ]
    threaded = _project_all(inputs, "tsne", 5)
    assert len(threaded) == 2
    np.testing.assert_array_equal(
        threaded[0].coords, project(x1, "tsne", 5, sample=None, items=np.arange(len(x1))).coords
    )
    np.testing.assert_array_equal(
        threaded[1].coords, project(x2, "tsne", 5, sample=None, items=np.arange(0, len(x2), 2)).coords
    )


def test_embed_of_a_few_items_prints_only_its_own_lines(tmp_path: Path) -> None:
    """``embed --sample 3`` printed openTSNE's 'Perplexity value 2 is too high. Using perplexity 0.67
    instead' above its own line: the perplexity's floor of 2 lay above (n - 1) / 3 for fewer than 7 items."""
    from clihelp import run_process

    proc = run_process("embed", "-m", "svd", "--sample", "3", "--out", "m", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    said = (proc.stdout + proc.stderr).strip().splitlines()
    assert said and said[0].startswith("map written to ") and "Perplexity" not in proc.stdout + proc.stderr, (
        said
    )
    assert len(pd.read_csv(tmp_path / "m" / "embeddings.csv")) == 3


def test_embed_of_two_models_names_its_own_option(tmp_path: Path) -> None:
    """``embed -m svd,ease`` answered "'svd,ease' (models= in Python, --models in the CLI): expected NAME or
    NAME+feature+feature": the report's reading of a comma list, naming a flag embed does not have."""
    from clihelp import ERROR, run_process

    proc = run_process("embed", "-m", "svd,ease", "--out", "m", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == (
        f"{ERROR}--model 'svd,ease' names 2 models where one goes: embed draws one map, so run it once per "
        "model ('svd' and 'ease') with its own --out\n"
    )
    assert not (tmp_path / "m").exists()


def test_embed_of_a_model_without_item_vectors_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    """``embed -m ease`` (or slim, itemknn, popularity) loaded the data, fitted the model (slim: 43 s on the
    bundled data) and only then said 'this model has no item vectors …; pick svd, bpr, warp or als', four
    of the fourteen models that have them. A model whose class declares it has none is refused at once
    now: the ratings file here does not exist, so a refusal after loading would name that instead."""
    from clihelp import ERROR, run_process

    proc = run_process(
        "embed", "-m", "slim", "--ratings", str(tmp_path / "missing.csv"), "--out", "m", cwd=tmp_path
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(ERROR), proc.stderr
    assert "--model slim: learns item-to-item weights, not item vectors" in (proc.stderr)
    from movierec.viz.report import vector_models  # after the run: the old code had none

    assert f"; als, svd, bpr and {len(vector_models()) - 3} more have item vectors;" in proc.stderr
    assert {"svd", "als", "ials", "mult-vae", "sasrec"} <= set(vector_models())
    # the command reads the data embed was given (it said 'movierec similar TITLE --model slim', the bundled data's)
    similar = (
        f"'movierec similar TITLE --model slim --ratings {tmp_path / 'missing.csv'}' lists its nearest movies"
    )
    assert similar in proc.stderr, proc.stderr
    assert not (tmp_path / "m").exists()


# small settings so that every model fits the tiny data in a second or two
_QUICK = {"epochs": 2, "burn_in": 1, "time_budget": 5, "factors": 8}


def test_item_vectors_declared_by_each_model_class_hold_after_a_fit() -> None:
    """``item_vectors`` is what embed reads before fitting: True must give vectors after the fit, False
    none, for every registered model that declares it (segment-popularity needs user features: skipped)."""
    from datagen import make_ratings
    from movierec.interactions import Interactions
    from movierec.models.registry import MODELS, create, get_class

    inter = Interactions.from_frame(make_ratings(60, 40, 0.3, seed=4), rating_scale=(0.5, 5.0))
    checked = []
    for name in MODELS:
        declared = get_class(name).item_vectors
        if declared is None or name == "segment-popularity":
            continue
        est = create(name)
        est.set_params(**{k: v for k, v in _QUICK.items() if k in est.get_params()})
        est.fit(inter if est.kind == "explicit" else inter.to_implicit(4.0))
        assert (est.item_embeddings() is not None) is declared, name
        checked.append(name)
    assert {"svd", "ease", "itemknn", "popularity", "bpr", "sasrec"} <= set(checked)


def test_embed_into_a_folder_with_another_map_calls_it_a_map_and_says_its_models_as_text(
    tmp_path: Path,
) -> None:
    """``embed --out m`` where m holds warp's map said "--out m: already holds a different report
    (dataset=ml-latest-small, models=['warp'], …)": a Python list, and a map called a report. And writing
    map.html and map.png (2-4 s) showed no step, where the fit and the projection before it do."""
    from clihelp import run_process

    made = run_process(
        "embed",
        "-m",
        "svd",
        "--sample",
        "3",
        "--out",
        "m",
        cwd=tmp_path,
        env={"MOVIEREC_PROGRESS_AFTER": "0"},
    )
    assert made.returncode == 0, made.stderr
    said = made.stdout + made.stderr
    assert "drawing the map (map.html, map.png): done in" in said, said
    again = run_process("embed", "-m", "svd", "--sample", "4", "--out", "m", cwd=tmp_path)
    line = " ".join(again.stderr.split())
    assert again.returncode == 2, again.stderr
    assert "--out m: already holds a different map (dataset=ml-latest-small; models=svd; seed=42;" in line, (
        line
    )
    assert "['" not in line and "report" not in line, line
