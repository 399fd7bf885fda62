"""IdMap and Interactions: property tests (hypothesis) and the behaviour models rely on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movierec.errors import DataError, UnknownIdError
from movierec.interactions import LAST_SECOND, IdMap, Interactions

int_ids = st.lists(st.integers(min_value=-(2**62), max_value=2**62), min_size=1, max_size=50, unique=True)
str_ids = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=50, unique=True)


@settings(max_examples=60, deadline=None)
@given(ids=st.one_of(int_ids, str_ids))
def test_idmap_round_trips_any_ids(ids):
    m = IdMap(ids)
    idx = m.index(ids)
    assert idx.dtype == np.int32
    np.testing.assert_array_equal(idx, np.arange(len(ids)))
    assert list(m.to_raw(idx)) == ids
    assert all(m.index(raw) == k for k, raw in enumerate(ids))
    assert all(raw in m for raw in ids)


@settings(max_examples=60, deadline=None)
@given(
    values=st.one_of(
        st.lists(st.integers(0, 30), min_size=1, max_size=80),
        st.lists(st.sampled_from("abcdefg"), min_size=1, max_size=80),
    )
)
def test_idmap_from_values_codes_decode_back(values):
    m, codes = IdMap.from_values(values)
    assert len(m) == len(set(values))
    assert list(m.to_raw(codes)) == values
    assert list(m.ids) == sorted(set(values))  # sorted: the same data always gets the same indices


@st.composite
def ratings_frames(draw):
    string_ids = draw(st.booleans())
    users = draw(
        st.lists(
            st.text(min_size=1, max_size=6) if string_ids else st.integers(0, 10**9),
            min_size=1,
            max_size=8,
            unique=True,
        )
    )
    items = draw(st.lists(st.integers(0, 10**12), min_size=1, max_size=8, unique=True))
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(users), st.sampled_from(items)), min_size=1, max_size=40, unique=True
        )
    )
    n = len(pairs)
    ratings = draw(st.lists(st.integers(1, 10), min_size=n, max_size=n))
    stamps = draw(st.lists(st.integers(0, LAST_SECOND), min_size=n, max_size=n))  # seconds, up to 9999-12-31
    return pd.DataFrame(
        {
            "userId": [u for u, _ in pairs],
            "movieId": [i for _, i in pairs],
            "rating": np.asarray(ratings, dtype=np.float64) / 2,
            "timestamp": np.asarray(stamps, dtype=np.int64),
        }
    )


@settings(max_examples=60, deadline=None)
@given(df=ratings_frames())
def test_interactions_frame_round_trip_is_lossless(df):
    inter = Interactions.from_frame(df, rating_scale=(0.5, 5.0))
    assert inter.dropped_duplicates == 0
    back = inter.to_frame()
    assert list(back.columns) == ["userId", "movieId", "rating", "timestamp"]
    assert back["userId"].tolist() == df["userId"].tolist()
    assert back["movieId"].tolist() == df["movieId"].tolist()
    np.testing.assert_array_equal(back["rating"].to_numpy(np.float64), df["rating"].to_numpy())
    np.testing.assert_array_equal(back["timestamp"].to_numpy(), df["timestamp"].to_numpy())
    # and the dense view holds the same cells
    csr = inter.csr()
    assert csr.nnz == len(df)
    np.testing.assert_array_equal(np.asarray(csr[inter.users, inter.items]).ravel(), inter.ratings)


def frame(rows):
    return pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"])


def test_duplicates_keep_the_latest_by_timestamp():
    df = frame([(1, 10, 1.0, 5), (1, 10, 4.0, 9), (1, 10, 2.0, 7), (2, 10, 3.0, 1)])
    inter = Interactions.from_frame(df)
    out = inter.to_frame()
    assert out.values.tolist() == [[1, 10, 4.0, 9], [2, 10, 3.0, 1]]
    assert inter.dropped_duplicates == 2


def test_scale_errors_name_the_line():
    df = frame([(1, 10, 4.0, 5), (1, 11, 6.0, 9)])
    with pytest.raises(DataError, match=r"r.csv, line 3: rating 6 is outside the declared scale 0.5..5"):
        Interactions.from_frame(df, rating_scale=(0.5, 5.0), source="r.csv", first_line=2)


def test_nonfinite_and_negative_values_are_rejected():
    with pytest.raises(DataError, match=r"line 2: rating inf is not a finite number"):
        Interactions.from_frame(frame([(1, 1, 3.0, 1), (1, 2, np.inf, 1)]))
    with pytest.raises(DataError, match=r"line 1: negative timestamp -1"):
        Interactions.from_frame(frame([(1, 1, 3.0, -1)]))
    with pytest.raises(DataError, match=r"missing column 'rating'"):
        Interactions.from_frame(pd.DataFrame({"userId": [1], "movieId": [1]}))


def test_a_missing_column_names_the_keyword_that_reads_the_frame():
    """A frame of userId, movieId, rating (Surprise's load_from_df shape), mapped as docs/from-lightfm.md
    does with Interactions.from_frame, was refused with "data: missing column 'timestamp' (found: userId,
    movieId, rating)" and no way on; each missing column now names its keyword, and the one named reads it."""
    three = pd.DataFrame({"userId": [1, 2], "movieId": [10, 10], "rating": [4.0, 3.0]})
    with pytest.raises(DataError) as err:
        Interactions.from_frame(three)
    assert str(err.value) == (
        "data: missing column 'timestamp' (found: userId, movieId, rating); "
        "name it with time_col=COLUMN (or time_col=None for none)"
    )
    assert Interactions.from_frame(three, time_col=None).n_ratings == 2
    for renamed, said in (
        ({"userId": "user"}, "name it with user_col=COLUMN$"),
        ({"movieId": "item"}, "name it with item_col=COLUMN$"),
        (
            {"rating": "stars"},
            r"name it with rating_col=COLUMN \(or rating_col=None for a frame without ratings: every row a positive of 1\)$",
        ),
    ):
        with pytest.raises(DataError, match=said):
            Interactions.from_frame(three.rename(columns=renamed), time_col=None)


def test_views_counts_and_implicit(tiny):
    assert tiny.csr().shape == tiny.shape and tiny.csc().nnz == tiny.n_ratings
    assert tiny.user_counts().sum() == tiny.n_ratings and tiny.item_counts().sum() == tiny.n_ratings
    pos = tiny.to_implicit(4.0)
    assert pos.n_ratings == int((tiny.ratings >= 4.0).sum())
    assert set(np.unique(pos.ratings)) == {1.0}
    assert pos.user_map is tiny.user_map  # splits and views share one id map


def test_an_implicit_view_keeps_its_positives_ratings_through_subsets_views_and_concat(tiny):
    """``to_implicit`` sets each rating to 1 but keeps the ratings in ``source_ratings``: without them a
    model's weighting="rating" weighed every positive 1 in compare, recommend and tune (the implicit view is
    what they train on)."""
    pos = tiny.to_implicit(4.0)
    np.testing.assert_array_equal(pos.source_ratings, tiny.ratings[tiny.ratings >= 4.0])
    half = pos.subset(np.arange(pos.n_ratings) % 2 == 0)
    np.testing.assert_array_equal(half.source_ratings, pos.source_ratings[::2])
    np.testing.assert_array_equal(pos.to_implicit(1.0).source_ratings, pos.source_ratings)  # not the 1s
    rest = pos.subset(np.arange(pos.n_ratings) % 2 == 1)
    both = rest.concat(half)

    def by_pair(x: Interactions) -> dict[tuple[int, int], float]:
        pairs = zip(x.users.tolist(), x.items.tolist(), strict=True)
        return dict(zip(pairs, x.source_ratings.tolist(), strict=True))

    assert by_pair(both) == by_pair(pos)
    assert tiny.source_ratings is None and tiny.subset(np.arange(3)).source_ratings is None
    with pytest.raises(ValueError, match="same length"):
        Interactions(pos.users, pos.items, pos.ratings, pos.user_map, pos.item_map, source_ratings=np.ones(1))


def test_unknown_ids_and_cli_strings():
    m = IdMap([5, 7, 9], kind="user")
    assert m.index("7") == 1  # ids typed on a command line arrive as text
    assert m.get(8) is None
    with pytest.raises(UnknownIdError, match="unknown user id 8"):
        m.index(8)
    with pytest.raises(UnknownIdError, match=r"1 unknown in all"):
        m.index([5, 8])


def test_concat_shares_maps_and_keeps_later_rows(tiny):
    a = tiny.subset(np.arange(tiny.n_ratings) % 2 == 0)
    b = tiny.subset(np.arange(tiny.n_ratings) % 2 == 1)
    both = a.concat(b)
    assert both.n_ratings == tiny.n_ratings and both.dropped_duplicates == 0
    again = both.concat(a)
    assert again.n_ratings == tiny.n_ratings and again.dropped_duplicates == a.n_ratings


def test_arrays_are_writable_and_not_views_of_the_frame():
    df = frame([(1, 10, 4.0, 5), (2, 11, 3.0, 9)])
    inter = Interactions.from_frame(df)
    for arr in (inter.users, inter.items, inter.ratings, inter.timestamps):
        assert arr.flags.writeable
    inter.ratings[:] = 1.0
    assert df["rating"].tolist() == [4.0, 3.0]
