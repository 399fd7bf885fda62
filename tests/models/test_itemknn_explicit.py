"""itemknn-explicit: LensKit's explicit ItemKNNScorer, checked against a plain numpy transcription of its
definition (item-mean-centred ratings, cosine over all users, the 20 most similar of the user's movies with
s > 1e-6, LensKit's BiasScorer() where none is). That transcription matched LensKit 2025.8.1 itself on fold 0
of crossfold_users(ml-latest-small, 5, SampleFrac(0.2, rng=42), rng=42): 3,544 of 3,550 predictions to
5.4e-7, the 6 others ties at the 20th neighbour (LensKit's float32 sums break them), RMSE 0.891574 against
LensKit's 0.891589. LensKit is not installed here: the reference is computed at run time."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import movierec
from datagen import make_ratings
from movierec.errors import ConfigError
from movierec.models.base import BaseRecommender
from movierec.models.itemknn_explicit import (
    centred_cosine_neighbours,
    check_neighbour_table,
    item_means,
    neighbour_count,
)
from movierec.models.memory import MemoryLimitError
from movierec.models.registry import create, load_model
from movierec.split import crossfold_users


def reference(
    train: movierec.Interactions,
    users: np.ndarray,
    items: np.ndarray,
    k: int = 20,
    save_nbrs: int | None = None,
) -> np.ndarray:
    """r̂_ui = m_i + Σ s (r_uj − m_j) / Σ |s| over the k largest s_ij > 1e-6 among the user's movies, s the cosine
    of the mean-centred columns; μ + b_i + b_u (undamped, item bias first) where no neighbour counts. With
    ``save_nbrs``, only j among the save_nbrs largest s_ij of all movies count (LensKit's saved lists)."""
    r = sp.csc_matrix(train.csr().astype(np.float64))
    n = np.diff(r.indptr)
    means = np.divide(np.asarray(r.sum(axis=0)).ravel(), n, out=np.zeros(len(n)), where=n > 0)
    c = r.copy()
    c.data = c.data - np.repeat(means, n)
    norms = np.sqrt(np.asarray(c.multiply(c).sum(axis=0)).ravel())
    c = sp.csc_matrix(c @ sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)))
    mu = train.ratings.astype(np.float64).mean()
    b_i = np.bincount(train.items, train.ratings - mu, train.n_items) / np.maximum(n, 1)
    n_u = np.bincount(train.users, minlength=train.n_users)
    b_u = np.bincount(train.users, train.ratings - mu - b_i[train.items], train.n_users) / np.maximum(n_u, 1)
    rows = train.csr().astype(np.float64)
    # movie i's similarities to every movie, s_i· = c_i^T c, rest on i alone: computed once per movie (the
    # pairs repeat each movie: 12,000 pairs of 150 movies) and read at the user's movies. The same numbers as
    # c_i^T c[:, js] to the last bit: scipy's sparse product sums each entry over c_i's rows in the same order
    # whichever columns stand beside it. So is movie i's save_nbrs list, built from the same row.
    # c as rows once: the product below turned c into CSR on every call (1,900 copies of the matrix, ~1 CPU-s)
    c_rows = c.tocsr()
    sims: dict[int, np.ndarray] = {}
    saved: dict[int, np.ndarray] = {}
    out = np.empty(len(users))
    for t, (u, i) in enumerate(zip(users, items, strict=True)):
        js = rows.indices[rows.indptr[u] : rows.indptr[u + 1]]
        dev = rows.data[rows.indptr[u] : rows.indptr[u + 1]] - means[js]
        if i not in sims:
            sims[i] = np.asarray((c[:, [i]].T @ c_rows).todense()).ravel()
        s = sims[i][js]
        keep = (s > 1e-6) & (js != i)
        if save_nbrs is not None:
            if i not in saved:
                row = sims[i].copy()
                row[i] = 0.0
                cand = np.flatnonzero(row > 1e-6)
                saved[i] = cand[np.lexsort((cand, -row[cand]))][:save_nbrs]
            keep &= np.isin(js, saved[i])
        s, dev = s[keep], dev[keep]
        top = np.argsort(-s, kind="stable")[:k]
        out[t] = (
            means[i] + (s[top] * dev[top]).sum() / np.abs(s[top]).sum() if len(top) else mu + b_i[i] + b_u[u]
        )
    return out


@pytest.fixture(scope="module")
def fold() -> tuple[movierec.Interactions, movierec.Interactions]:
    ds = movierec.load("ml-latest-small")
    return crossfold_users(ds.interactions, 5, 0.2, seed=42)[0]


@pytest.fixture(scope="module")
def fitted(fold) -> BaseRecommender:
    """The default itemknn-explicit on fold 0's training part (10.2 million neighbours, ~3.5 s), fitted once for
    the two tests that read it (they share an xdist group, so one worker fits it); neither changes it."""
    return create("itemknn-explicit").fit(fold[0])


#: the tests reading the ``fitted`` model run on one xdist worker, which fits it once
_ONE_FIT = pytest.mark.xdist_group("itemknn-explicit-fold0")


@_ONE_FIT
def test_predictions_are_lenskits_explicit_item_knn(fold, fitted, tmp_path) -> None:
    """Every test rating of LensKit's fold 0 (3,550) against the reference: equal to 1e-5 but where the 20th
    and 21st neighbours tie (a handful of rows: which of equal similarities counts is either library's choice);
    the rows without a neighbour take the bias fallback and are flagged. Saved and loaded, the same."""
    train, test = fold
    model = fitted
    ours, flags = model._predict(test.users, test.items)
    ref = reference(train, test.users, test.items)
    diff = np.abs(ours - ref)
    assert (diff < 1e-5).mean() > 0.995 and np.median(diff) < 1e-6
    assert 150 < flags.sum() < 220  # LensKit scored 3,368 of the 3,550, its BiasScorer the 182 others
    rmse = np.sqrt(np.mean((ours - test.ratings) ** 2))
    assert rmse == pytest.approx(0.891574, abs=2e-4)  # LensKit 2025.8.1: 0.891589 (the ties)
    again = load_model(model.save(tmp_path / "m"))
    np.testing.assert_array_equal(again.predict(test.users, test.items, clip=False), ours)
    grid = model.predicted_scores(test.users[:5])
    np.testing.assert_allclose(grid[np.arange(5), test.items[:5]], ours[:5], rtol=1e-6)


def test_lenskit_names_and_settings() -> None:
    """LensKit's names set ours. On 100 people and 600 movies, a tenth rated (it was fold 0's 9,700 movies: a
    2 CPU-s fit, 0.1 here): every movie has more than 50 neighbours, so every list is cut at 50, and the cut
    moves 68 of 200 pairs' predictions by more than 0.001 stars (the largest by 1.0)."""
    train = movierec.Interactions.from_frame(make_ratings(100, 600, 0.1, seed=2), rating_scale=(0.5, 5.0))
    users, items = np.random.default_rng(0).integers(0, (train.n_users, train.n_items), (200, 2)).T
    model = create("itemknn-explicit", max_nbrs=5, min_nbrs=2, save_nbrs=50)
    assert (model.k, model.min_k, model.max_neighbours) == (5, 2, 50)
    model.fit(train)
    assert np.diff(model.neighbours_.indptr).max() == 50
    ref = reference(train, users, items, k=5)
    ours, flags = model._predict(users, items)
    # save_nbrs cuts the lists: not the untruncated reference (by more than float noise)
    assert np.abs(ours - ref)[~flags].max() > 1e-3
    with pytest.raises(ConfigError, match="itemknn-explicit is LensKit's feedback='explicit'"):
        create("itemknn-explicit", feedback="explicit")
    with pytest.raises(ConfigError, match="min_sim"):
        create("itemknn-explicit", min_sim=0)
    idx, sims = model.similar_items(0, 3)
    assert len(idx) == 3 and (np.diff(sims) <= 0).all()


def test_contract_and_knn_artifact(tiny, tmp_path) -> None:
    """The shared contract; exported, the knn family serves it (rule 2) and a training user gets the model's
    own ranking scores there."""
    from contract import check_contract
    from movierec.serving.artifact import export_artifact, load_artifact

    model = check_contract("itemknn-explicit", tiny, tmp_path)
    ds = movierec.load(tiny.to_frame())
    art = load_artifact(export_artifact(model, ds, tiny, tmp_path / "art", min_support=0))
    assert art.family == "knn" and int(art.scorer.a["knn_rule"]) == 2
    for u in (0, tiny.n_users - 1):
        np.testing.assert_allclose(art.user_scores(u), model.score(np.array([u]))[0], rtol=1e-5, atol=1e-5)


@_ONE_FIT
def test_a_visitor_is_placed_as_lenskit_places_a_query_user(fold, fitted, tmp_path) -> None:
    """A person not in training, from the artifact and from ``raw_new_user``: m_i + Σ s (r_j − m_j) / Σ s over
    the 20 most similar of the movies they rated, and where none counts BiasScorer()'s μ + b_i + b_u, b_u the
    plain mean of their r − μ − b_i (LensKit's query-time user bias, undamped). Before, the model served a
    table and a visitor got the popularity ranking; ``score_new_user`` raised."""
    from movierec.serving.artifact import export_artifact, load_artifact

    train, _ = fold
    model = fitted
    ds = movierec.load("ml-latest-small")
    art = load_artifact(export_artifact(model, ds, train, tmp_path / "art", min_support=0))
    items = np.array([train.item_map.index(m) for m in (1, 260, 2571, 318, 4306, 7153)])
    ratings = np.array([5.0, 4.5, 2.0, 4.0, 3.0, 1.5], dtype=np.float32)
    means, nb = model.x_offset_, sp.csr_matrix(model.neighbours_)
    mu, b_i = float(model.global_mean_), model.item_bias_
    b_u = np.mean(ratings - mu - b_i[items])
    want = mu + b_i + b_u
    rated = dict(zip(items.tolist(), (ratings - means[items]).tolist(), strict=True))
    visited = np.isin(nb.indices, items)  # each neighbour in the table the visitor rated: once, not per row
    for i in range(train.n_items):
        js, ss = nb.indices[nb.indptr[i] : nb.indptr[i + 1]], nb.data[nb.indptr[i] : nb.indptr[i + 1]]
        among = visited[
            nb.indptr[i] : nb.indptr[i + 1]
        ]  # the row's neighbours the visitor rated, in its order
        row = list(zip(js[among], ss[among], strict=True))[:20]
        if row:
            want[i] = means[i] + sum(s * rated[j] for j, s in row) / sum(abs(s) for _, s in row)
    got = np.asarray(art.scorer.fold_in(items, ratings), dtype=np.float64)
    for u in (0, 5):  # a training user's own ratings, folded in, give the model's predictions, fallbacks too
        rows = np.flatnonzero(train.users == u)
        _, flags = model._predict(np.full(train.n_items, u), np.arange(train.n_items))
        own = art.scorer.fold_in(train.items[rows].astype(np.int64), train.ratings[rows])
        assert flags.sum() > 0
        mine = model.predicted_scores(np.array([u]))[0]
        np.testing.assert_allclose(own, mine, rtol=1e-5, atol=1e-5)
        # as a known user, to the bit, fallback rows too: the artifact holds the fallback's μ, b_u, b_i in
        # float64 as the model does (its float32 copies were up to 4.8e-7 off)
        np.testing.assert_array_equal(art.scorer.known(u), mine)
        np.testing.assert_array_equal(art.user_scores(u), model.score(np.array([u]))[0])
    assert 0 < np.sum(np.isclose(want, mu + b_i + b_u)) < train.n_items  # both kinds of rows
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.raw_new_user(items, ratings), want, rtol=1e-5, atol=1e-5)
    out = art.visitor(
        [(int(train.item_map.to_raw(i)), float(r)) for i, r in zip(items, ratings, strict=True)], 10
    )
    assert out["fallback"] is None  # before: "popularity", the table family had no rule
    shrunk = model.score_new_user(items, ratings).astype(np.float64)
    shrunk[items] = -np.inf
    got_idx = [train.item_map.index(r["movieId"]) for r in out["recommendations"]]
    np.testing.assert_allclose(
        [r["score"] for r in out["recommendations"]], np.sort(shrunk)[::-1][:10], rtol=1e-5
    )
    np.testing.assert_allclose(shrunk[got_idx], np.sort(shrunk)[::-1][:10], rtol=1e-5)


def test_save_nbrs_keeps_at_most_n_and_predicts_as_lenskit_with_those_lists() -> None:
    """save_nbrs=N keeps each movie's N most similar (LensKit's save_nbrs): its predictions are the reference's
    over those lists, and where the user rated at least k of the N they are the full table's to the last digit
    (the k best of the user's movies are then among the N); elsewhere the cut can change them, N ≥ k or not."""
    train = movierec.Interactions.from_frame(make_ratings(80, 150, 0.4, seed=2), rating_scale=(0.5, 5.0))
    users, items = np.divmod(np.arange(train.n_users * train.n_items), train.n_items)
    full = create("itemknn-explicit", k=5).fit(train)
    cut = create("itemknn-explicit", k=5, save_nbrs=25).fit(train)
    lengths = np.diff(cut.neighbours_.indptr)
    assert lengths.max() == 25 and np.diff(full.neighbours_.indptr).max() > 25
    ours, flags = cut._predict(users, items)
    diff = np.abs(ours - reference(train, users, items, k=5, save_nbrs=25))
    assert (diff < 1e-5).mean() > 0.99 and np.median(diff) < 1e-6
    nb, rated = cut.neighbours_, train.csr()
    enough = np.array([
        len(np.intersect1d(nb.indices[nb.indptr[i]:nb.indptr[i + 1]], rated.indices[rated.indptr[u]:rated.indptr[u + 1]])) >= 5
        for u, i in zip(users, items, strict=True)
    ])  # fmt: skip
    whole, _ = full._predict(users, items)
    assert enough.sum() > 1000
    np.testing.assert_array_equal(ours[enough], whole[enough])
    assert np.abs(ours - whole)[~enough & ~flags].max() > 1e-3  # the cut does change the others


def test_the_table_is_estimated_and_refused_in_one_sentence() -> None:
    """The sampled estimate is near the table built, and a table too large for the memory given is a
    MemoryLimitError (a ConfigError) naming its size, the memory and the save_nbrs to set; None: unknown."""
    train = movierec.Interactions.from_frame(make_ratings(60, 1500, 0.5, seed=1), rating_scale=(0.5, 5.0))
    means = item_means(train)
    built = centred_cosine_neighbours(train, means, 1e-6, None).nnz
    assert abs(neighbour_count(train, means, 1e-6, None) / built - 1) < 0.1
    assert neighbour_count(train, means, 1e-6, 40) == 40 * train.n_items  # every movie has more than 40
    with pytest.raises(MemoryLimitError) as err:
        check_neighbour_table(59_047, 1.25e9, 10_000_000_000)
    assert str(err.value) == (
        "itemknn-explicit would keep about 1,250,000,000 neighbours for 59,047 movies (every similarity above "
        "min_sim: 10.0 GB, about 12.7 GB while it is built) and 10.0 GB is available: set save_nbrs "
        "(max_neighbours) to keep only the most similar per movie, as LensKit's save_nbrs does, e.g. save_nbrs=5000"
    )
    check_neighbour_table(59_047, 1.25e9, 30_000_000_000)
    check_neighbour_table(59_047, 1.25e9, None)


_UNDER_A_LIMIT = """
import json, resource, sys
import movierec
from datagen import make_ratings
from movierec.interactions import Interactions
from movierec.models.registry import create
train = Interactions.from_frame(make_ratings(60, 6000, 0.5, seed=1), rating_scale=(0.5, 5.0))
size = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (size + 150 * 2**20, resource.RLIM_INFINITY))  # ulimit -v: 150 MB more
out = {"events": []}
try:
    movierec.compare(movierec.load(train.to_frame()), ["itemknn-explicit"], protocols="rating",
                     progress=lambda event: out["events"].append(event["event"]))
except Exception as exc:
    out["compare"] = type(exc).__name__
try:
    create("itemknn-explicit").fit(train)
except Exception as exc:
    out["error"] = [type(exc).__name__, str(exc)]
    n = int(str(exc).rsplit("save_nbrs=", 1)[1])
    out["kept"] = int(create("itemknn-explicit", save_nbrs=n).fit(train).neighbours_.nnz)
print(json.dumps(out))
"""


def test_a_table_larger_than_the_memory_left_is_refused_before_it_is_built(tmp_path) -> None:
    """Under ``ulimit -v`` (150 MB above the interpreter), 6,000 movies' 18 million neighbours (144 MB, about
    200 MB while built) are refused in one sentence before the table is built, not a MemoryError from inside
    it, by compare before its progress line too, and the save_nbrs the sentence suggests fits under the same
    limit. (The CLI under ``ulimit -v 1900000`` on these ratings: one line, exit 2; at 1950000 it fits.)"""
    tests = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-c", _UNDER_A_LIMIT], capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": f"{tests}:{tests.parent / 'src'}"}, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    kind, message = out["error"]
    assert kind == "MemoryLimitError", message
    assert re.fullmatch(
        r"itemknn-explicit would keep about 1\d,\d{3},\d{3} neighbours for 6,000 movies \(every similarity above "
        r"min_sim: 1\d\d MB, about [23]\d\d MB while it is built\) and 1\d\d MB is available: set save_nbrs "
        r"\(max_neighbours\) to keep only the most similar per movie, as LensKit's save_nbrs does, e\.g\. "
        r"save_nbrs=\d+",
        message,
    ), message
    n = int(message.rsplit("=", 1)[1])
    assert 0 < out["kept"] <= n * 6000
    # compare refuses it before the fit's progress line, so the command's one line is the refusal
    assert out["compare"] == "MemoryLimitError" and "fit-start" not in out["events"], out


def test_both_block_products_and_the_key_sort_give_lexsorts_rows() -> None:
    """The table's rows are the float32 cosines above min_sim, best first and the lowest column among equal
    values, whichever way a block is computed (sparse × sparse, or the sparse columns times a dense copy of
    the block's) and sorted (one 64-bit key per entry, or np.lexsort where the block is too wide for the key):
    checked against a direct computation on ratings with many exact ties (whole-star ratings, 12 users)."""
    from movierec.models import itemknn_explicit as ke

    frame = make_ratings(12, 300, 0.6, seed=3)
    frame["rating"] = frame["rating"].round().clip(1, 5)
    train = movierec.Interactions.from_frame(frame, rating_scale=(0.5, 5.0))
    c, ct = ke._centred_columns(train, item_means(train))
    full = (ct @ c).toarray().astype(np.float32)
    rows = np.arange(40, 120)
    block = full[rows]
    block[np.arange(len(rows)), rows] = 0.0
    r_idx, c_idx = np.nonzero(block > 0.05)
    v = block[r_idx, c_idx]
    order = np.lexsort((c_idx, -v, r_idx))
    want = r_idx[order], c_idx[order], v[order]
    assert len(v) > 1000 and len(v) - len(np.unique(np.c_[r_idx, v], axis=0)) > 100  # many ties within rows
    for dense in (False, True):
        got = ke._positive(ct, c, rows, 0.05, dense)
        for w, g in zip(want, got, strict=True):
            assert np.array_equal(w, g), dense
    ke._COLUMN_BITS, old = 8, ke._COLUMN_BITS  # 300 columns do not fit 8 bits: the np.lexsort branch
    try:
        got = ke._positive(ct, c, rows, 0.05, True)
    finally:
        ke._COLUMN_BITS = old
    for w, g in zip(want, got, strict=True):
        assert np.array_equal(w, g)
