"""The bundled ml-latest-small loads offline with GroupLens' published counts; the registry is sane."""

from __future__ import annotations

import re

import numpy as np
import pytest

from movierec.datasets import REGISTRY, bundled_path, cache_dir, get_spec, load, locate, sha256_file
from movierec.errors import ConfigError, DataError


def test_bundled_counts(bundled):
    inter = bundled.interactions
    assert inter.n_ratings == 100_836
    assert len(np.unique(inter.users)) == 610
    assert len(np.unique(inter.items)) == 9_724
    assert bundled.n_catalog_items == 9_742
    assert len(bundled.tags) == 3_683
    assert inter.rating_scale == (0.5, 5.0)
    assert inter.dropped_duplicates == 0
    s = bundled.summary()
    assert (s["n_users"], s["n_items"], s["n_catalog_items"], s["n_ratings"]) == (610, 9_724, 9_742, 100_836)
    assert s["density"] == pytest.approx(100_836 / (610 * 9_724))


def test_bundled_matches_the_shared_copy():
    # sha256 published in ../shared/data/README.md for the unmodified GroupLens file
    assert (
        sha256_file(bundled_path() / "ratings.csv")
        == "80da8b3393dae325bbba5a31f291a6ba55d8d4f4396de3c456f2c1635b1b70e8"
    )


def test_bundled_copies_are_independent():
    a = load("ml-latest-small")
    a.interactions.ratings[:] = 0
    assert load("ml-latest-small").interactions.ratings.max() == 5.0


def test_item_table_aligns_titles(bundled):
    table = bundled.item_table()
    assert len(table) == bundled.interactions.n_items
    toy = table[table["movieId"] == 1].iloc[0]
    assert toy["title"] == "Toy Story (1995)" and toy["year"] == 1995 and "Animation" in toy["genres"]


def test_registry_entries_are_consistent():
    assert set(REGISTRY) == {
        "ml-latest-small",
        "ml-100k",
        "ml-1m",
        "ml-10m",
        "ml-20m",
        "ml-25m",
        "ml-32m",
        "ml-latest",
    }
    for spec in REGISTRY.values():
        assert spec.url == f"https://files.grouplens.org/datasets/movielens/{spec.name}.zip"
        assert spec.md5 is None or re.fullmatch(r"[0-9a-f]{32}", spec.md5)
        assert spec.ratings_format in ("csv", "dat", "u.data")
        assert spec.n_ratings > 0
        # `data list` shows the status in its own column; the description repeated "bundled" beside it
        assert not re.search(r"\b(bundled|cached)\b", spec.description), spec.description
    assert REGISTRY["ml-10m"].folder == "ml-10M100K"  # the archive's folder is not named after the file
    assert sum(s.bundled for s in REGISTRY.values()) == 1 and REGISTRY["ml-latest-small"].redistributable
    assert REGISTRY["ml-latest"].md5 is None  # regenerated over time


def test_unknown_and_uncached_names(tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIEREC_DATA", str(tmp_path))
    assert cache_dir() == tmp_path
    with pytest.raises(ConfigError, match="unknown dataset 'nope'; known: ml-latest-small"):
        get_spec("nope")
    with pytest.raises(ConfigError, match=r"^unknown dataset 'ml-100' \(did you mean 'ml-100k'\?\); known: "):
        get_spec("ml-100")
    assert locate(REGISTRY["ml-1m"]) is None
    with pytest.raises(
        DataError,
        match=r"'ml-1m' is not in the cache.*; fetch it: movierec.load\('ml-1m', download=True\)",
    ):
        load("ml-1m")


def test_real_ml100k_when_available(ml100k):
    """The ml-100k files in ../shared/data (never committed) parse with the published counts."""
    inter = ml100k.interactions
    assert (inter.n_users, inter.n_items, inter.n_ratings) == (943, 1_682, 100_000)
    assert inter.rating_scale == (1.0, 5.0)
    movies = ml100k.movies.set_index("movieId")
    assert len(movies) == 1_682 and movies.loc[1, "title"] == "Toy Story (1995)"
    assert movies.loc[1, "genres"] == ["Animation", "Children", "Comedy"]


def test_a_scale_declared_for_the_bundled_data_is_checked() -> None:
    """``load("ml-latest-small", rating_scale=(1, 3))`` (``--rating-scale 1 3``) returned the data on its
    own 0.5..5 scale, the declared one ignored; a declared scale is now checked as for any folder: ratings
    outside it are one DataError counting them. A wider scale is taken, the data unchanged."""
    with pytest.raises(DataError, match=r"63,086 bad rows \(rating outside the declared scale 1\.\.3\)"):
        load("ml-latest-small", rating_scale=(1, 3))
    wide = load("ml-latest-small", rating_scale=(0, 5))
    assert wide.interactions.rating_scale == (0.0, 5.0) and wide.interactions.n_ratings == 100_836
    assert wide.sha256 == load("ml-latest-small").sha256
    assert load("ml-latest-small", rating_scale=(0.5, 5)).interactions.rating_scale == (0.5, 5.0)


def test_the_names_other_libraries_give_the_ratings_say_where_they_are(bundled):
    """A Surprise or LightFM user's first look at the loaded data, ``ds.ratings`` (or Surprise's
    ``data.raw_ratings``), and Surprise's ``data.build_full_trainset()`` were Python's bare AttributeError.
    Each now names what it is here; any other missing attribute reads as Python's own, and a Dataset still
    pickles (pickle looks attributes up on the object)."""
    import pickle

    for name in ("ratings", "raw_ratings", "df"):
        with pytest.raises(
            AttributeError, match=rf"^'Dataset' object has no attribute '{name}'; ds\.to_frame\(\) is"
        ):
            getattr(bundled, name)
        assert not hasattr(bundled, name)
    with pytest.raises(
        AttributeError, match=r"'build_full_trainset'; movierec\.Recommender\(ds, 'svd'\)\.fit\(\)"
    ):
        bundled.build_full_trainset()
    with pytest.raises(AttributeError, match=r"^'Dataset' object has no attribute 'nosuch'$"):
        bundled.nosuch  # noqa: B018
    columns = list(bundled.to_frame().columns)
    assert columns == ["userId", "movieId", "rating", "timestamp"]  # as the line says
    assert pickle.loads(pickle.dumps(bundled)).interactions.n_ratings == 100_836
