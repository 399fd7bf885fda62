"""Artifact export → load round trips (scores equal the model's) and tamper detection."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from servehelp import fit, movies_dataset

from movierec.datasets import Dataset
from movierec.errors import ArtifactError, ConfigError, UnknownIdError
from movierec.interactions import Interactions
from movierec.serving.artifact import FORMAT_VERSION, _manifest_digest, export_artifact, load_artifact


def _all_scores(art, train: Interactions) -> np.ndarray:
    return np.vstack([art.user_scores(u) for u in range(train.n_users)])


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("svd", {"n_factors": 8, "n_epochs": 10, "random_state": 1}),
        ("svdpp", {"n_factors": 4, "n_epochs": 3}),
        ("baseline", {}),
        ("knn-baseline", {"k": 5, "max_neighbours": 20}),
        ("knn-basic", {"k": 5}),
        ("itemknn", {"k": 10}),  # each candidate's own neighbours (the default)
        (
            "itemknn",
            {"k": 10, "neighbourhood": "rated"},
        ),  # each rated movie's (implicit's ItemItemRecommender)
        ("als", {"factors": 8, "iterations": 3, "random_state": 0}),
        ("bpr", {"no_components": 8, "epochs": 3, "random_state": 0}),
        ("popularity", {}),
        ("ease", {"l2": 10.0}),
        ("ease", {"l2": 10.0, "time_window": 5, "time_weight": 1.0}),  # the time-adjacency term: still one B
        ("user-ease", {"l2": 10.0}),
        ("ials", {"factors": 8, "epochs": 5}),
        ("nmf", {"n_factors": 5, "random_state": 1}),
        ("nmf", {"n_factors": 5, "biased": True, "reg_bu": 0.05, "random_state": 1}),  # biases in the table
        ("ensemble", {"bases": {"ease": {"l2": 10.0}, "user-ease": {"l2": 10.0}, "ials": {"factors": 8}}}),
        (
            "blend",
            {"bases": {"svd": {"n_factors": 4, "n_epochs": 5}, "knn-baseline": {"k": 5}, "baseline": {}}},
        ),
    ],
)
def test_round_trip_scores_equal_the_model(name: str, params: dict, movies: Dataset, tmp_path: Path) -> None:
    model, train = fit(name, movies, **params)
    art = load_artifact(export_artifact(model, movies, train, tmp_path / name, min_support=0))
    users = np.arange(train.n_users)
    want = model.score(users)
    np.testing.assert_allclose(_all_scores(art, train), want, rtol=1e-5, atol=1e-5)
    if name.startswith("knn-"):  # the model's own kernel over the same float64 offsets: equal to the bit
        np.testing.assert_array_equal(_all_scores(art, train), want)
    # top-N equals the model's recommend, raw ids and all, less every movie the user rated (an implicit
    # model trains on ratings ≥ 4, and its own list would bring back a movie rated 3)
    top_i, _ = model.recommend(users[:5], k=60)
    rated = movies.interactions.csr()
    for u in users[:5]:
        raw_user = train.user_map.to_raw(int(u))
        got = [r["movieId"] for r in art.recommend_rows(raw_user, 5)]
        mine = set(rated.indices[rated.indptr[u] : rated.indptr[u + 1]].tolist())
        kept = [i for i in top_i[u] if i >= 0 and int(i) not in mine][:5]
        expect = [int(x) for x in train.item_map.to_raw(np.asarray(kept, dtype=np.int64))]
        assert got == expect
    assert art.model_name == name and art.n_items == train.n_items and len(art.model_version) == 12
    # a visitor: the artifact's fold-in is the model's own (same scores, same top-10)
    items, ratings = np.array([0, 3, 7, 11]), np.array([5.0, 4.5, 2.0, 4.0])
    want = model.score_new_user(items, ratings)
    pairs = [(int(train.item_map.to_raw(int(i))), float(r)) for i, r in zip(items, ratings, strict=True)]
    got = art.visitor(pairs, 10)["recommendations"]  # the API's rows
    masked = want.copy()
    masked[items] = -np.inf
    order = np.argsort(-masked, kind="stable")[:10]
    np.testing.assert_allclose([r["score"] for r in got], masked[order], rtol=1e-5, atol=1e-5)
    assert [train.item_map.index(r["movieId"]) for r in got][:3] == order[:3].tolist()


def test_default_lists_respect_the_support_floor(movies: Dataset, tmp_path: Path) -> None:
    model, train = fit("svd", movies, n_factors=8, n_epochs=10, random_state=1)
    art = load_artifact(export_artifact(model, movies, train, tmp_path / "svd"))
    support = train.item_counts()
    assert art.min_support == art.manifest["min_support"] >= 1
    assert (support >= art.min_support).mean() >= 0.2  # the default keeps a fifth of the catalogue at least
    lists = [art.recommend_rows(train.user_map.to_raw(u), 10) for u in range(10)]
    lists.append(art.visitor([(21, 5.0), (31, 4.0)], 10)["recommendations"])
    lists.append(art.similar_rows(21, 10))
    for rows in lists:
        assert rows and all(support[train.item_map.index(r["movieId"])] >= art.min_support for r in rows)
        assert all(r["ratings"] >= art.min_support for r in rows)
    # a call may lower it; export records an explicit choice
    strict = art.recommend_rows(train.user_map.to_raw(0), 60, min_support=15)
    assert len(strict) < len(art.recommend_rows(train.user_map.to_raw(0), 60))
    assert all(r["ratings"] >= 15 for r in strict)
    again = load_artifact(export_artifact(model, movies, train, tmp_path / "svd3", min_support=3))
    assert again.manifest["min_support"] == 3


def test_manifest_records_provenance_and_checksums(svd_artifact) -> None:
    path, model, _train = svd_artifact
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model"] == {
        "name": "svd",
        "params": json.loads(json.dumps(model.get_params())),
        "kind": "explicit",
        "family": "factors",
        "trains_on": "ratings",  # what its counts count (b4027bc: a sequence model's count every rating)
    }
    assert manifest["dataset"]["name"] == "tiny-movies" and manifest["metrics"] == {"rmse": 0.9}
    assert set(manifest["files"]) == {"ids.parquet", "items.parquet", "factors.npz", "seen.npz"}
    assert "numpy" in manifest["packages"] and manifest["created_at"].endswith("+00:00")
    with np.load(path / "factors.npz", allow_pickle=False) as npz:
        assert npz["item_factors"].dtype == np.float32 and npz["user_factors"].shape == (40, 8)
    items = pd.read_parquet(path / "items.parquet")
    assert list(items.columns) == ["index", "movieId", "title", "year", "genres"]
    assert not list(path.parent.glob(".svd.*")), "temporary export folder left behind"


def test_fold_in_matches_the_models_own(svd_artifact) -> None:
    path, model, train = svd_artifact
    art = load_artifact(path)
    raw = train.item_map.to_raw(np.array([0, 3, 7]))
    recs = art.visitor(
        [(int(raw[0]), 5.0), (int(raw[1]), 1.0), (int(raw[2]), 4.0)], k=train.n_items, min_support=0
    )["recommendations"]
    want = model.score_new_user(np.array([0, 3, 7]), np.array([5.0, 1.0, 4.0]))
    rating = model.predict_new_user(np.array([0, 3, 7]), np.array([5.0, 1.0, 4.0]))
    got = {r["movieId"]: r["score"] for r in recs}
    for r in recs:  # the predicted rating travels beside the ranking score, clipped to the scale
        assert r["predictedRating"] == pytest.approx(
            float(rating[train.item_map.index(r["movieId"])]), abs=1e-4
        )
        assert 0.5 <= r["predictedRating"] <= 5.0
    assert set(got) == set(int(x) for x in train.item_map.ids) - set(
        int(x) for x in raw
    )  # rated ones excluded
    for i, mid in enumerate(train.item_map.ids):
        if int(mid) in got:
            assert got[int(mid)] == pytest.approx(float(want[i]), abs=1e-4)


def test_implicit_fold_in_matches_als(movies: Dataset, tmp_path: Path) -> None:
    model, train = fit("als", movies, factors=8, iterations=3, random_state=0)
    art = load_artifact(export_artifact(model, movies, train, tmp_path / "als", min_support=0))
    items = np.array([2, 5, 9])
    want = model.score_new_user(items)
    recs = art.visitor([(int(train.item_map.to_raw(i)), 4.5) for i in items], train.n_items)[
        "recommendations"
    ]
    assert len(recs) == train.n_items - 3
    for r in recs:
        assert r["score"] == pytest.approx(float(want[train.item_map.index(r["movieId"])]), abs=1e-4)


def test_knn_baseline_fold_in_uses_the_models_rule(movies: Dataset, tmp_path: Path) -> None:
    model, train = fit("knn-baseline", movies, k=5, max_neighbours=20)
    art = load_artifact(export_artifact(model, movies, train, tmp_path / "knnb", min_support=0))
    assert art.family == "knn"
    row = train.csr()[4]  # a training user's ratings, folded in as a visitor (user offset re-estimated)
    rated = train.item_map.to_raw(row.indices).tolist()
    recs = art.visitor(list(zip(rated, row.data.tolist(), strict=True)), 5)["recommendations"]
    assert len(recs) == 5 and not set(rated) & {r["movieId"] for r in recs}
    assert all(0.5 <= r["predictedRating"] <= 5.0 for r in recs)  # predicted ratings, not similarity sums
    similar = art.similar_rows(int(train.item_map.to_raw(0)), 3, by="model")
    _assert_shrunk_neighbours(similar, model.neighbours_[0].toarray().ravel(), train, 0)


def _assert_shrunk_neighbours(rows: list, sims: np.ndarray, train: Interactions, item: int) -> None:
    """'similar' = the model's similarity × n/(n + λ), n the users who rated both (co-support shrinkage)."""
    from movierec.scoring.support import SIMILAR_SHRINKAGE, co_support

    co = co_support(train.csr(), item)
    want = sims * co / (co + SIMILAR_SHRINKAGE)
    want[item] = -np.inf
    want[want <= 0] = -np.inf
    top = np.sort(want[np.isfinite(want)])[::-1][: len(rows)]
    np.testing.assert_allclose([r["score"] for r in rows], top, rtol=1e-5)
    for r in rows:
        assert want[train.item_map.index(r["movieId"])] == pytest.approx(r["score"], rel=1e-5)


def test_neighbour_similar_and_fold_in(movies: Dataset, tmp_path: Path) -> None:
    model, train = fit("itemknn", movies, k=10)
    art = load_artifact(export_artifact(model, movies, train, tmp_path / "knn", min_support=0))
    got = art.similar_rows(int(train.item_map.to_raw(2)), 5, by="model")
    _assert_shrunk_neighbours(got, model.neighbours_[2].toarray().ravel(), train, 2)
    # a visitor who liked two movies: the sum of their neighbour rows (implicit item-kNN)
    items = np.array([1, 4])
    want = model.score_new_user(items)
    recs = art.visitor([(int(train.item_map.to_raw(i)), 5.0) for i in items], 3)["recommendations"]
    assert recs[0]["score"] == pytest.approx(float(np.max(np.delete(want, items))), rel=1e-6)


def test_similar_on_factors_is_cosine(svd_artifact) -> None:
    path, model, train = svd_artifact
    art = load_artifact(path)
    unit = model.item_factors_ / np.linalg.norm(model.item_factors_, axis=1)[:, None]
    _assert_shrunk_neighbours(
        art.similar_rows(int(train.item_map.to_raw(0)), 4, min_support=0, by="model"),
        unit @ unit[0],
        train,
        0,
    )


def test_search_movie_and_genres(svd_artifact) -> None:
    art = load_artifact(svd_artifact[0])
    assert [m["movieId"] for m in art.search("AMELIE")] == [1]  # accents and case ignored
    assert [m["movieId"] for m in art.search("léon")] == [11]
    assert {m["movieId"] for m in art.search("toy story")} == {21, 31}
    assert art.search("the american president")[0]["movieId"] == 41  # trailing article understood
    assert art.search("no such title zzz") == []
    assert len(art.search("", limit=7)) == 7
    assert art.movie(21)["title"] == "Toy Story (1995)" and art.movie("21")["year"] == 1950 + 21 % 60
    with pytest.raises(UnknownIdError, match="unknown movie id"):
        art.movie(99999)
    with pytest.raises(UnknownIdError, match="unknown user id"):
        art.recommend_rows(12345, 3)
    recs = art.recommend_rows(1, 10, genres=["comedy"])
    assert recs and all("Comedy" in r["genres"] for r in recs)
    with pytest.raises(ConfigError, match="unknown genre 'Western'"):
        art.recommend_rows(1, 3, genres=["Western"])


def test_exclude_seen(svd_artifact) -> None:
    path, _model, train = svd_artifact
    art = load_artifact(path)
    seen = set(int(x) for x in train.item_map.to_raw(train.csr()[0].indices))
    ranked_all = [r["movieId"] for r in art.recommend_rows(1, train.n_items, exclude_seen=False)]
    ranked = [r["movieId"] for r in art.recommend_rows(1, train.n_items)]
    assert len(ranked_all) == train.n_items and not seen & set(ranked)
    assert ranked == [m for m in ranked_all if m not in seen]


def test_recommend_is_a_dataframe_like_the_recommenders(svd_artifact) -> None:
    """Python readers get a DataFrame (the Recommender's shape); the API's rows stay recommend_rows."""
    art = load_artifact(svd_artifact[0])
    rows = art.recommend_rows(1, 5)
    frame = art.recommend(1, 5)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns[:6]) == ["movieId", "title", "year", "genres", "score", "n_ratings"]
    assert list(frame.index) == [1, 2, 3, 4, 5] and frame.index.name == "rank"
    assert frame["movieId"].tolist() == [r["movieId"] for r in rows]
    assert frame["score"].tolist() == pytest.approx([r["score"] for r in rows])
    assert frame["genres"].tolist() == ["|".join(r["genres"]) for r in rows]
    assert frame["n_ratings"].tolist() == [r["ratings"] for r in rows]
    assert frame["predicted_rating"].tolist() == pytest.approx([r["predictedRating"] for r in rows])
    assert frame["score"].is_monotonic_decreasing
    comedy = art.recommend(1, 3, genres=["comedy"])
    assert len(comedy) == 3 and comedy["genres"].str.contains("Comedy").all()
    # blank genres filter nothing, as Recommender.recommend, --genre and ?genres= (it filtered everything)
    assert art.recommend(1, 3, genres=[" "])["movieId"].tolist() == frame["movieId"].tolist()[:3]
    like = art.similar(21, 4)  # similar movies too: the Recommender's shape, "similarity" as its column
    assert list(like.columns[:6]) == ["movieId", "title", "year", "genres", "similarity", "n_ratings"]
    assert like["movieId"].tolist() == [r["movieId"] for r in art.similar_rows(21, 4)]
    assert like["similarity"].is_monotonic_decreasing and 21 not in like["movieId"].tolist()


def test_an_unknown_user_in_a_notebook_says_what_to_do(svd_artifact) -> None:
    """loaded.recommend(99999) said only "unknown user id 99999" where Recommender.recommend names the ids
    there are and the call for someone new; recommend_rows (user_index) keeps the bare words, and the
    API's 404 has its own (served_user_index)."""
    art = load_artifact(svd_artifact[0])
    said = (
        "unknown user id 99999: the artifact has no ratings from that user ({}); for someone not in the "
        "data, give their ratings to recommend_for_ratings({{movie: rating, …}})"
    )
    from movierec.titles import known_users

    for call in (lambda: art.recommend(99999, 3), lambda: art.predict(99999, 21)):
        with pytest.raises(UnknownIdError) as err:
            call()
        assert str(err.value) == said.format(known_users(art.user_map.ids))
    with pytest.raises(UnknownIdError) as err:
        art.recommend_rows(99999, 3)
    assert str(err.value) == "unknown user id 99999"
    assert len(art.recommend_for_ratings({21: 5.0}, 3)) == 3  # the call the message names works


def test_recommend_for_on_an_artifact_names_its_call(svd_artifact) -> None:
    """The README's ranker.recommend_for({"Alien": 5, …}), typed on the artifact the notebook exported and
    loaded back, was Python's bare "'Artifact' object has no attribute 'recommend_for'": the artifact's
    call is recommend_for_ratings. The error names it (and the visitor and history calls); any other
    missing attribute is Python's own."""
    import pickle

    art = load_artifact(svd_artifact[0])
    with pytest.raises(AttributeError) as err:
        art.recommend_for({21: 5.0})
    assert str(err.value).startswith(
        "'Artifact' object has no attribute 'recommend_for'; art.recommend_for_ratings({movie: rating, …}) is "
        "Recommender.recommend_for's list from an artifact"
    ), str(err.value)
    assert "recommend_for_visitor(features" in str(err.value) and "recommend_for_history(" in str(err.value)
    assert not hasattr(art, "recommend_for")
    with pytest.raises(AttributeError, match=r"^'Artifact' object has no attribute 'nosuch'$"):
        art.nosuch  # noqa: B018
    assert len(art.recommend_for_ratings({21: 5.0}, 3)) == 3  # the call the message names works
    assert pickle.loads(pickle.dumps(art)).n_items == art.n_items


def test_predict_equals_the_models_predicted_rating(svd_artifact, movies: Dataset, tmp_path: Path) -> None:
    """A notebook that exported a rating model reads its predictions back from the artifact (raw ids), as
    it read them from the model; a ranking model's artifact refuses, naming recommend."""
    art = load_artifact(svd_artifact[0])
    model, train = svd_artifact[1], svd_artifact[2]
    lo, hi = train.rating_scale
    listed = 0
    for u, i in [(0, 0), (0, 7), (3, 20), (5, train.n_items - 1)]:
        user, movie = train.user_map.to_raw(u), train.item_map.to_raw(i)
        expected = float(np.clip(model.predict(np.array([u]), np.array([i]))[0], lo, hi))
        assert art.predict(user, movie) == pytest.approx(expected, abs=1e-5)
        row = next((r for r in art.recommend_rows(user, train.n_items) if r["movieId"] == movie), None)
        if row is not None:  # a movie the user has not rated: the list's own predicted rating
            assert art.predict(user, movie) == pytest.approx(row["predictedRating"], abs=1e-6)
            listed += 1
    assert listed >= 1
    with pytest.raises(UnknownIdError):
        art.predict(999_999, 1)
    ranker, itrain = fit("ease", movies)
    ease = load_artifact(export_artifact(ranker, movies, itrain, tmp_path / "ease"))
    with pytest.raises(ConfigError, match="ease is a ranking model: it predicts no ratings; recommend"):
        ease.predict(1, 1)


def test_an_artifact_of_data_without_titles_says_so_for_a_title(tmp_path: Path) -> None:
    """Every movie of a ratings file loaded without a movies file is 'item 318': a title asked of its
    artifact said "no movie title matches", sending a person hunting for a spelling (as the trained
    model's lookup did before it named the cause)."""
    import movierec

    data = tmp_path / "r.csv"
    data.write_text("userId,movieId,rating\n1,1,4\n1,3,4\n2,1,3\n2,3,5\n3,1,4\n3,3,2\n3,5,4\n")
    art = movierec.Recommender(movierec.load(data), "ease").fit().export(tmp_path / "art")
    with pytest.raises(UnknownIdError, match=r"^this data has no movie titles \(pass a movies file") as err:
        art.find_title("Toy Story")
    assert "movies= in Python, --movies FILE in the CLI" in str(err.value)  # both spellings (bc4ef16)
    assert str(err.value).endswith("give the movieId 1 instead")  # the most-rated movie
    assert art.find_title("3") == art.item_index(3)  # a movieId still names its movie


def test_string_ids_are_preserved(tmp_path: Path) -> None:
    base = movies_dataset(12, 15, seed=3)
    frame = base.interactions.to_frame()
    frame["userId"] = "u" + frame["userId"].astype(str)
    inter = Interactions.from_frame(frame, rating_scale=(0.5, 5.0))
    ds = Dataset("str-ids", inter, base.catalog, None, "", "", [])
    model = fit("baseline", ds)[0]
    art = load_artifact(export_artifact(model, ds, inter, tmp_path / "a"))
    assert art.raw_user(art.user_index("u3")) == "u3"
    assert isinstance(art.recommend_rows("u3", 2)[0]["movieId"], int)


# --- tampering -------------------------------------------------------------------------------


@pytest.fixture
def copy(svd_artifact, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(svd_artifact[0], dst)
    return dst


@pytest.mark.parametrize("name", ["ids.parquet", "items.parquet", "factors.npz", "seen.npz"])
def test_flipped_byte_is_detected(copy: Path, name: str) -> None:
    data = bytearray((copy / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (copy / name).write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=f"{name}: sha256 mismatch"):
        load_artifact(copy)


@pytest.mark.parametrize("name", ["factors.npz", "manifest.json"])
def test_missing_file_is_detected(copy: Path, name: str) -> None:
    (copy / name).unlink()
    with pytest.raises(ArtifactError, match=f"missing {'file ' if name != 'manifest.json' else ''}{name}"):
        load_artifact(copy)


def test_a_missing_data_file_says_how_to_make_the_folder_whole(copy: Path) -> None:
    """It said "…/copy: missing file seen.npz" and no more; each door now says to re-export it, in its own
    words (the CLI's command names the manifest's model and the folder)."""
    from clihelp import run_process

    (copy / "seen.npz").unlink()
    with pytest.raises(ArtifactError) as exc:
        load_artifact(copy)
    assert (
        str(exc.value)
        == f"{copy}: missing file seen.npz; re-export it (rec.export({str(copy)!r}, force=True))"
    )
    done = run_process("serve", "--check", "--artifact", str(copy), "--db", "none")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    want = f"missing file seen.npz; re-export it (movierec export --model svd --out {copy} --force)"
    assert want in done.stderr and "rec.export" not in done.stderr, done.stderr


def test_newer_format_version_is_refused(copy: Path) -> None:
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    manifest["manifest_sha256"] = _manifest_digest(manifest)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(
        ArtifactError, match=f"format version {FORMAT_VERSION + 1} is newer .* upgrade movierec"
    ):
        load_artifact(copy)


def test_edited_manifest_is_detected(copy: Path) -> None:
    text = (copy / "manifest.json").read_text().replace('"svd"', '"bpr"', 1)
    (copy / "manifest.json").write_text(text)
    with pytest.raises(ArtifactError, match="manifest checksum mismatch"):
        load_artifact(copy)
    (copy / "manifest.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="corrupt manifest"):
        load_artifact(copy)


def test_missing_folder_and_existing_output(svd_artifact, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no such artifact folder"):
        load_artifact(tmp_path / "nope")
    path, model, train = svd_artifact
    with pytest.raises(ConfigError, match=r"already exists; pass force=True to replace it$"):
        export_artifact(model, None, train, path)


def test_near_miss_paths_name_the_artifact_folder_to_give(svd_artifact, tmp_path: Path) -> None:
    """A file inside an artifact said "no such artifact folder" although it exists, and the folder holding
    the artifacts said only "missing manifest.json": each now names the folder to give instead."""
    import shutil

    path = svd_artifact[0]
    for inside in ("manifest.json", "factors.npz"):
        with pytest.raises(
            ArtifactError, match=f"{inside}: a file of the artifact; give its folder, {path}$"
        ):
            load_artifact(path / inside)
    shelf = tmp_path / "artifacts"
    for name in ("svd-2", "svd-1"):
        shutil.copytree(path, shelf / name)
    (shelf / "notes").mkdir()
    (shelf / "README.txt").write_text("deploy notes")
    with pytest.raises(ArtifactError, match=r"a folder of them \(svd-1, svd-2\); give one, e\.g\. .*svd-1$"):
        load_artifact(shelf)
    with pytest.raises(ArtifactError, match=r"README\.txt: a file, not an artifact folder"):
        load_artifact(shelf / "README.txt")
    with pytest.raises(ArtifactError, match=r"notes: not an artifact \(missing manifest\.json\)$"):
        load_artifact(shelf / "notes")
    assert sorted(p.name for p in shelf.iterdir()) == ["README.txt", "notes", "svd-1", "svd-2"]  # all kept
    assert load_artifact(shelf / "svd-1").model_version == load_artifact(path).model_version


def test_force_replaces_atomically(movies: Dataset, tmp_path: Path) -> None:
    model, train = fit("popularity", movies)
    out = tmp_path / "pop"
    first = load_artifact(export_artifact(model, movies, train, out)).manifest["created_at"]
    export_artifact(model, movies, train, out, force=True, metrics={"x": 1.0})
    again = load_artifact(out)
    assert again.manifest["metrics"] == {"x": 1.0} and first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pop"]


def test_models_without_a_serving_form_are_refused(movies: Dataset, tmp_path: Path) -> None:
    from movierec.models.registry import create
    from movierec.serving.artifact import exportable

    with pytest.raises(
        ConfigError, match="normal-predictor draws random ratings, so it has nothing to export"
    ):
        exportable(create("normal-predictor"))  # before any training
    model, train = fit("normal-predictor", movies)
    with pytest.raises(ConfigError, match="nothing to export: export Recommender"):
        export_artifact(model, movies, train, tmp_path / "np")
    assert not (tmp_path / "np").exists()


def test_a_reference_backend_is_refused_naming_the_movierec_model_it_stands_beside() -> None:
    """Export named the part after the colon, 'bfm' and 'bivae', which are no models; the CLI's refusal to
    serve lists from one knew better. Both now ask :func:`registry.own_model`, which names a registered
    model for every reference backend."""
    from movierec.models.registry import MODELS, create, own_model
    from movierec.serving.artifact import exportable

    for reference in (n for n in MODELS if ":" in n):
        assert own_model(reference).split()[0] in MODELS, reference
    for reference, own in (("myfm:bfm", "bayesian-fm"), ("cornac:bivae", "recvae (or mult-vae)")):
        with pytest.raises(ConfigError) as refused:
            exportable(create(reference))
        assert str(refused.value) == (
            f"cannot export {reference!r}: reference backends are for parity checks; export the movierec "
            f"model instead ({own})"
        )
    with pytest.raises(
        ConfigError, match=r"base 'myfm:bfm': .*use the movierec model instead \(bayesian-fm\)$"
    ):
        exportable(create("blend", bases={"svd": {}, "myfm:bfm": {}}))


def test_user_based_knn_is_served_from_its_table(movies: Dataset, tmp_path: Path) -> None:
    """No item neighbours to serve from: the table of its predictions, known users' lists exactly the model's."""
    model, train = fit("knn-means", movies, k=5, user_based=True)
    art = load_artifact(export_artifact(model, movies, train, tmp_path / "knn", min_support=0))
    assert art.manifest["model"]["family"] == "table"
    for u in (0, 5):
        want = np.array(model.score(np.array([u]))[0], dtype=np.float64)
        row = train.csr()[u]
        want[row.indices] = -np.inf
        rows = art.recommend_rows(train.user_map.to_raw(u), k=5)
        np.testing.assert_allclose([r["score"] for r in rows], np.sort(want)[::-1][:5], rtol=1e-5)


def test_an_ensemble_with_a_base_that_cannot_serve_is_refused(movies: Dataset, tmp_path: Path) -> None:
    from movierec.models.registry import create
    from movierec.serving.artifact import exportable

    with pytest.raises(ConfigError, match="cannot export ensemble base 'implicit:bpr': reference backends"):
        exportable(create("ensemble", bases={"ease": {}, "implicit:bpr": {}}))  # before any training
    model, train = fit("ensemble", movies, bases={"ease": {"l2": 10.0}, "user-ease": {"l2": 10.0}})

    class UserDependent:  # scores that differ per user, without factors, neighbours or item weights
        name = "stub"

        def score(self, users: np.ndarray) -> np.ndarray:
            return np.outer(np.asarray(users) + 1.0, np.arange(train.n_items, dtype=np.float32))

    model.models_["ease"] = UserDependent()
    model.weights_ = np.array([1.0, 0.5])
    with pytest.raises(ConfigError, match="cannot export 'ensemble': its base 'ease' has no serving form"):
        export_artifact(model, movies, train, tmp_path / "ens")
    assert not (tmp_path / "ens").exists()
