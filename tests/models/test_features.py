"""Item features: genres multi-hot, normalised top tags, year buckets, features files, bad names."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.datasets import Dataset
from movierec.errors import ConfigError, DataError
from movierec.features import build_item_features, normalise_tag, read_features_file


def test_genres_are_multi_hot_aligned_to_item_map(bundled: Dataset) -> None:
    feats = build_item_features(bundled, names="genres")
    item_map = bundled.interactions.item_map
    assert feats.matrix.shape == (len(item_map), feats.n_features)
    assert all(n.startswith("genre:") for n in feats.names) and "genre:Comedy" in feats.names
    movies = bundled.movies.set_index("movieId")
    for movie_id in [1, 2, 260, 4993]:
        row = feats.matrix[item_map.index(movie_id)]
        got = {feats.names[j] for j in row.indices}
        assert got == {f"genre:{g}" for g in movies.loc[movie_id, "genres"] if not g.startswith("(")}
        assert set(row.data.tolist()) == {1.0}


def test_tags_are_normalised_top_n_with_min_count(bundled: Dataset) -> None:
    feats = build_item_features(bundled, names="tags", top_tags=20, min_tag_count=5)
    assert len(feats.names) == 20
    tags = [normalise_tag(t) for t in bundled.tags["tag"]]
    counts = {t: tags.count(t) for t in set(tags)}
    kept = [n.removeprefix("tag:") for n in feats.names]
    assert all(counts[t] >= 5 for t in kept)
    assert min(counts[t] for t in kept) >= sorted(counts.values(), reverse=True)[19]
    assert normalise_tag("  Dark   Comedy ") == "dark comedy"
    # an item tagged with a kept tag has that column set
    frame = bundled.tags.assign(norm=tags)
    sample = frame[frame["norm"] == kept[0]].iloc[0]
    row = feats.matrix[bundled.interactions.item_map.index(int(sample["movieId"]))]
    assert 0 in row.indices


def test_year_buckets(bundled: Dataset) -> None:
    feats = build_item_features(bundled, names="year", year_bucket=10)
    item_map = bundled.interactions.item_map
    row = feats.matrix[item_map.index(1)]  # Toy Story (1995)
    assert [feats.names[j] for j in row.indices] == ["year:1990s"]
    assert (np.diff(feats.matrix.indptr) <= 1).all()


def test_all_families_combine(bundled: Dataset) -> None:
    feats = build_item_features(bundled, names="genres,tags,year")
    prefixes = {n.split(":")[0] for n in feats.names}
    assert prefixes == {"genre", "tag", "year"}
    assert len(set(feats.names)) == len(feats.names)


def test_unknown_feature_name_lists_valid_ones(bundled: Dataset) -> None:
    with pytest.raises(ConfigError, match=r"unknown item feature 'actors'; valid: genres, tags, year"):
        build_item_features(bundled, names="genres,actors")


def test_features_file(bundled: Dataset, tmp_path) -> None:
    path = tmp_path / "feats.csv"
    path.write_text("movieId,studio,weight\n1,pixar,1\n2,tristar,0.5\n1,disney,2\n")
    feats = read_features_file(path, bundled.interactions.item_map)
    assert feats.names == ["studio:disney", "studio:pixar", "studio:tristar"]
    row = feats.matrix[bundled.interactions.item_map.index(1)].toarray().ravel()
    np.testing.assert_allclose(row, [2.0, 1.0, 0.0])
    combined = build_item_features(bundled, names="genres", features_file=path)
    assert combined.names[-3:] == feats.names


def test_features_file_with_unknown_items_is_an_error(bundled: Dataset, tmp_path) -> None:
    path = tmp_path / "feats.csv"
    path.write_text("movieId,studio\n1,pixar\n99999999,nowhere\n")
    with pytest.raises(DataError, match=r"feats.csv, line 3: unknown item id 99999999"):
        read_features_file(path, bundled.interactions.item_map)
    with pytest.raises(DataError, match="not found"):
        read_features_file(tmp_path / "missing.csv", bundled.interactions.item_map)


def test_a_features_file_names_text_ids_as_written_and_says_its_layout(tmp_path) -> None:
    """Ids with leading zeros ('0007', as a ratings file keeps them) name those users, not 7; a users table
    with a column per field (customer,age,country) read its third column as weights: one line says the
    layout. Integer maps still read '42' as 42 and name an unknown one without quotes."""
    from movierec.datasets import load_ratings_file

    ratings = tmp_path / "r.csv"
    ratings.write_text("customer,title_id,score\n0007,01,8\n7,01,6\n0042,02,9\n")
    inter = load_ratings_file(
        ratings, user_col="customer", item_col="title_id", rating_col="score", time_col=None
    ).interactions
    users = tmp_path / "users.csv"
    users.write_text("customer,country\n0007,DE\n7,FR\n0042,BR\n")
    feats = read_features_file(users, inter.user_map)
    assert feats.names == ["country:BR", "country:DE", "country:FR"]
    row = {u: feats.names[feats.matrix[inter.user_map.index(u)].indices[0]] for u in ("0007", "7", "0042")}
    assert row == {"0007": "country:DE", "7": "country:FR", "0042": "country:BR"}
    users.write_text("customer,age,country\n0007,31,DE\n0007,33,FR\n")  # a repeated id: one feature a row
    with pytest.raises(DataError) as err:
        read_features_file(users, inter.user_map)
    assert str(err.value) == (  # <= 160 columns in the CLI for a short file name (it was 226)
        f"{users}, line 2: weight 'DE' is not a number; repeated customers make rows customer,feature[,weight] "
        "(a wide table: one row per customer)"
    )
    assert len(f"movierec: error: users.csv{str(err.value).removeprefix(str(users))}") <= 160, err.value
    users.write_text("customer,country\n42,DE\n")
    with pytest.raises(DataError, match=r"line 2: unknown user id '42' in column 'customer'"):
        read_features_file(users, inter.user_map)


def _wide_users(tmp_path):  # type: ignore[no-untyped-def]
    """A ratings file of 40 customers ('0000'…) and their users table, a column per field, both column
    orders: country (text) and age (18…57, 40 distinct values)."""
    ratings = tmp_path / "r.csv"
    ratings.write_text(
        "customer,title_id,score\n"
        + "".join(f"{u:04d},{i:02d},{1 + (u * i) % 9}\n" for u in range(40) for i in range(4))
    )
    country = ["DE", "BR", "FR"]
    by_country = tmp_path / "country_age.csv"
    by_country.write_text(
        "customer,country,age\n" + "".join(f"{u:04d},{country[u % 3]},{18 + u}\n" for u in range(40))
    )
    by_age = tmp_path / "age_country.csv"
    by_age.write_text(
        "customer,age,country\n" + "".join(f"{u:04d},{18 + u},{country[u % 3]}\n" for u in range(40))
    )
    return ratings, by_country, by_age


AGE_BINS = ["age:18-25", "age:26-33", "age:34-41", "age:42-49", "age:50-57"]


def test_a_users_table_with_a_column_per_field_is_read_as_fields(tmp_path) -> None:
    """customer,country,age used to read age as the weights of 'country:DE' (silently: user 0007's row
    was [0, 25, 0]) and customer,age,country stopped on weight 'DE'. One row per customer and no column
    named weight make it a table of fields: each country one-hot, age in five quantile bins, weights 1,
    whichever the column order; a one-feature-a-row file with weights reads as before."""
    from movierec.datasets import load_ratings_file

    ratings, by_country, by_age = _wide_users(tmp_path)
    inter = load_ratings_file(
        ratings, user_col="customer", item_col="title_id", rating_col="score", time_col=None
    ).interactions
    for path, names in (
        (by_country, ["country:BR", "country:DE", "country:FR", *AGE_BINS]),
        (by_age, [*AGE_BINS, "country:BR", "country:DE", "country:FR"]),
    ):
        feats = read_features_file(path, inter.user_map)
        assert feats.names == names
        row = feats.matrix[inter.user_map.index("0007")]
        assert sorted(feats.names[c] for c in row.indices) == ["age:18-25", "country:BR"]
        np.testing.assert_array_equal(row.data, [1.0, 1.0])
        assert feats.matrix.sum() == 80  # every customer one country, one age bin
    long = tmp_path / "long.csv"
    long.write_text("customer,feature,weight\n0007,country=DE,1\n0007,age=25,2\n0031,country=BR,0.5\n")
    feats = read_features_file(long, inter.user_map)
    assert feats.names == ["feature:age=25", "feature:country=BR", "feature:country=DE"]
    np.testing.assert_array_equal(
        feats.matrix[inter.user_map.index("0007")].toarray().ravel(), [2.0, 0.0, 1.0]
    )
    long.write_text("customer,age,country,gender\n0007,31,DE,F\n0007,33,DE,F\n")
    with pytest.raises(DataError) as err:
        read_features_file(long, inter.user_map)
    assert str(err.value) == (  # <= 160 columns in the CLI for a short file name (it was 202)
        f"{long}, line 3: customer '0007' repeats, but a table of fields has one row per customer (one feature "
        "a row: customer,feature[,weight])"
    )
    assert len(f"movierec: error: long.csv{str(err.value).removeprefix(str(long))}") <= 160, err.value


def test_cli_export_keeps_a_wide_users_tables_fields(tmp_path) -> None:
    """The CLI end to end: export bpr with --user-features users.csv (customer,country,age); the
    artifact's manifest names the user features the model was trained on."""
    import json

    from clihelp import run_process

    ratings, by_country, _ = _wide_users(tmp_path)
    cols = ["--user-col", "customer", "--item-col", "title_id", "--rating-col", "score", "--time-col", ""]
    proc = run_process(
        "export", "--ratings", str(ratings), *cols, "-m", "bpr", "--user-features", str(by_country),
        "-o", str(tmp_path / "art"), cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "art" / "manifest.json").read_text())
    assert manifest["user_features"]["names"] == ["country:BR", "country:DE", "country:FR", *AGE_BINS]
