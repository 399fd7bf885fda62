"""A LensKit notebook ported to movierec (docs/from-lenskit.md): the steps that needed code of their own.

LensKit is not installed in CI, so its test folds are drawn here as ``crossfold_users(data, 5,
SampleFrac(0.2))`` draws them (users shuffled into five parts, a fifth of each test user's ratings by
pandas' ``sample``, which rounds ``frac·n`` as SampleFrac does), and BiasScorer's damped means are
written out from LensKit's definition. The page's parity figures were measured against LensKit 2025.8.1.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import movierec
from clihelp import run_process
from movierec.errors import ConfigError
from movierec.models.registry import create


def lenskit_fold(ds: movierec.Dataset, fold: int = 0, seed: int = 42) -> pd.DataFrame:
    """One test fold as LensKit's ``split.test.to_df()`` gives it: ``user_id, item_id, rating``."""
    frame = ds.to_frame()
    users = np.random.default_rng(seed).permutation(frame["userId"].unique())
    chosen = frame[frame["userId"].isin(np.array_split(users, 5)[fold])]
    rows = chosen.groupby("userId", group_keys=False).sample(frac=0.2, random_state=seed)
    return rows.rename(columns={"userId": "user_id", "movieId": "item_id"})[["user_id", "item_id", "rating"]]


def pairs(frame: pd.DataFrame, user: str = "userId", item: str = "movieId") -> set[tuple[int, int]]:
    return set(zip(frame[user].tolist(), frame[item].tolist(), strict=True))


def test_make_split_holds_out_the_test_rows_given(bundled: movierec.Dataset) -> None:
    """``make_split(ds, test=frame)`` holds out exactly the frame's (user, movie) ratings and trains on all
    the others: a LensKit fold (a fifth of 122 users' ratings), evaluated here on the same rows. Before,
    "make_split() has no keyword 'test'" and no named split drew a fraction of some users' ratings."""
    fold = lenskit_fold(bundled)
    train, test, about = movierec.make_split(bundled, test=fold)
    assert pairs(test.to_frame()) == pairs(fold, "user_id", "item_id")
    assert test.n_ratings == len(fold) and train.n_ratings == bundled.interactions.n_ratings - len(fold)
    assert not pairs(train.to_frame()) & pairs(test.to_frame())
    n_users = fold["user_id"].nunique()
    assert about == f"given test rows ({len(fold):,} ratings of {n_users} users)"
    # the ratings come from the data, whatever the frame holds besides the ids
    assert np.allclose(np.sort(test.ratings), np.sort(fold["rating"].to_numpy()))
    # LensKit 0.14's column names and ours hold out the same rows
    for names in ({"user_id": "user", "item_id": "item"}, {"user_id": "userId", "item_id": "movieId"}):
        _, again, _ = movierec.make_split(bundled.interactions, test=fold.rename(columns=names))
        assert pairs(again.to_frame()) == pairs(test.to_frame())
    rec = movierec.Recommender(bundled, "popularity", threshold=0.5).fit(train)
    result = movierec.evaluate(rec, train, test, k=10, threshold=None)
    assert result.split == about and result.n_users == n_users  # every test row relevant: each user counts


def test_given_test_rows_that_do_not_fit_are_one_line(bundled: movierec.Dataset) -> None:
    fold = lenskit_fold(bundled)
    with pytest.raises(
        ConfigError,
        match=r"^1 of the 1 test rows are not ratings of the data, the first user_id 1, item_id 2:",
    ):
        movierec.make_split(
            bundled, test=pd.DataFrame({"user_id": [1], "item_id": [2]})
        )  # user 1 never rated 2
    with pytest.raises(
        ConfigError, match=r"its ids are text, the data's numbers: convert them with \.astype\(int\)"
    ):
        movierec.make_split(bundled, test=fold.astype({"user_id": str}))
    with pytest.raises(
        ConfigError, match=r"needs a user and a movie column.*its columns: uid, item_id, rating$"
    ):
        movierec.make_split(bundled, test=fold.rename(columns={"user_id": "uid"}))
    with pytest.raises(ConfigError, match="has no rows"):
        movierec.make_split(bundled, test=fold.iloc[:0])
    with pytest.raises(ConfigError, match=r"takes no split name \('per-user'\): leave the split out"):
        movierec.make_split(bundled, "per-user", test=fold)
    with pytest.raises(ConfigError, match="holds out every rating"):
        movierec.make_split(bundled, test=bundled.to_frame())


def test_lenskit_bias_scorer_is_baseline_with_one_damped_sweep(bundled: movierec.Dataset) -> None:
    """BiasScorer(damping=d) (LensKit's BiasModel: b_i = Σ(r − μ) / (n_i + d), then b_u = Σ(r − μ − b_i) /
    (n_u + d)) is baseline(reg_i=d, reg_u=d, epochs=1), as the baseline's 'damping' line says: its
    unclipped predictions equal the formula to float32 precision (6e-7 against LensKit itself on a
    crossfold_users fold of ml-latest-small and of ml-100k)."""
    train, test, _ = movierec.make_split(bundled, test=lenskit_fold(bundled))
    d = 5.0
    mu = train.ratings.mean(dtype=np.float64)
    n_i = np.bincount(train.items, minlength=train.n_items)
    b_i = np.bincount(train.items, train.ratings - mu, train.n_items) / (n_i + d)
    n_u = np.bincount(train.users, minlength=train.n_users)
    b_u = np.bincount(train.users, train.ratings - mu - b_i[train.items], train.n_users) / (n_u + d)
    model = create("baseline", reg_i=d, reg_u=d, epochs=1).fit(train)
    ours = model.predict(test.users, test.items, clip=False)
    assert np.abs(ours - (mu + b_u[test.users] + b_i[test.items])).max() < 1e-5


@pytest.mark.parametrize(
    ("model", "says"),
    [
        (
            "BiasScorer",
            r"^unknown model 'BiasScorer': LensKit's BiasScorer is baseline here: BiasScorer\(damping=d\) is baseline\(reg_i=d, reg_u=d, epochs=1\)$",
        ),
        (
            "bias",
            r"^unknown model 'bias': LensKit's BiasScorer is baseline here",
        ),  # was "did you mean 'ials'?"
        ("PopScorer", r"is popularity here.*threshold=0\.5\) counts every rating"),
        (
            "ItemKNNScorer",
            r"closest to itemknn.*feedback='explicit', is itemknn-explicit \(the same predictions",
        ),
        ("ImplicitMFScorer", r"is ials here"),
        ("BiasedMFScorer", r"closest to svd here"),
        ("UserKNNScorer", r"knn-means with user_based=True"),
    ],
)
def test_lenskit_model_names_say_where_the_model_is(bundled: movierec.Dataset, model: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        movierec.Recommender(bundled, model)


def test_lenskit_hyperparameter_names_say_what_they_are_called_here() -> None:
    assert create("ials", embedding_size=8).factors == 8  # LensKit's name for the factors
    assert create("svd", embedding_size=8).factors == 8
    with pytest.raises(
        ConfigError,
        match=r"^baseline has no 'damping': LensKit's BiasScorer\(damping=d\) is baseline\(reg_i=d, reg_u=d, epochs=1\)",
    ):
        create("baseline", damping=5)
    with pytest.raises(ConfigError, match=r"^itemknn has no 'max_nbrs': .*no setting gives LensKit's lists"):
        create("itemknn", max_nbrs=20)
    with pytest.raises(
        ConfigError, match=r"^itemknn has no 'feedback': itemknn is LensKit's feedback='implicit'"
    ):
        create("itemknn", feedback="explicit")
    with pytest.raises(ConfigError, match=r"^knn-means has no 'max_nbrs': k= is the number of neighbours"):
        create("knn-means", max_nbrs=20)
    with pytest.raises(ConfigError, match=r"^popularity has no 'score': LensKit's PopScorer"):
        create("popularity", score="count")


#: LensKit 2025.8.1's crossfold_users(load_movielens(ml-latest-small), 5, SampleFrac(0.2, rng=42),
#: rng=42): each fold's test rows, users and Σ(userId·10⁶ + movieId) over them
LENSKIT_FOLDS = [
    (3550, 122, 1159768723067),
    (4778, 122, 1643680850715),
    (5014, 122, 1687213851761),
    (3555, 122, 1063941075721),
    (3267, 122, 1022057394529),
]


def test_per_user_folds_are_lenskits_crossfold_users(bundled: movierec.Dataset) -> None:
    """``crossfold_users(inter, 5, 0.2, seed=42)`` draws LensKit's folds row for row (the figures above were
    read from LensKit itself; ml-100k's five folds and a 3-fold 0.25 split at seed 7 matched too), and
    ``compare(split="per-user", cv=5)`` runs on them, each user tested once, so 610 users pooled. Before,
    "k-fold cross-validation (cv= in Python, --cv in the CLI) works with the ratings or interactions
    hold-out, not the per-user split", and no function drew folds of users."""
    from movierec.split import crossfold_users

    inter = bundled.interactions
    folds = crossfold_users(inter, 5, 0.2, seed=42)
    tested: list[int] = []
    for (train, test), (n_rows, n_users, checksum) in zip(folds, LENSKIT_FOLDS, strict=True):
        frame = test.to_frame()
        assert (len(frame), frame["userId"].nunique()) == (n_rows, n_users)
        assert int((frame["userId"].astype("int64") * 1_000_000 + frame["movieId"]).sum()) == checksum
        assert train.n_ratings + test.n_ratings == inter.n_ratings
        held = frame.groupby("userId").size()
        every = inter.user_counts()[inter.user_map.index(held.index.to_numpy())]
        assert (held.to_numpy() == [round(0.2 * n) for n in every]).all()  # SampleFrac's round
        tested += frame["userId"].unique().tolist()
    assert sorted(tested) == sorted(inter.user_map.ids.tolist())  # every user tested in one fold
    comp = movierec.compare(  # threshold 0.5: every rating a positive, as LensKit counts every test item
        bundled,
        ["popularity"],
        split="per-user",
        cv=5,
        protocols="full-ranking",
        threshold=0.5,
        progress=False,
    )
    row = comp.row("popularity", "full-ranking")
    assert row.folds == 5 and row.n_users == 610
    assert (
        row.split
        == "per-user, 5-fold cv over users (0.2 of each test user's ratings, LensKit crossfold_users, seed 42)"
    )
    with pytest.raises(ConfigError, match=r"cv folds \(611\) cannot exceed the number of users \(610\)"):
        crossfold_users(inter, 611)


def test_recommends_length_is_k_and_lenskits_n_says_so(bundled: movierec.Dataset) -> None:
    """``rec.recommend(1, n=10)``, LensKit's ``recommend(pipe, users, n=10)``, was Python's "TypeError:
    Recommender.recommend() got an unexpected keyword argument 'n'"; it is one ConfigError naming ``k=``,
    as make_split, compare and evaluate word theirs (the valid names leave out ``self``)."""
    pop = movierec.Recommender(bundled, "popularity", threshold=0.5).fit()
    with pytest.raises(
        ConfigError,
        match=r"^recommend\(\) has no keyword 'n': k= is the list's length \(LensKit's n=\); "
        r"valid: user_id, k, exclude_seen, genres, rerank, min_support, explain, exclude$",
    ):
        pop.recommend(1, n=10)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match=r"'items': an allow-list is the model's: rec\.model\.recommend"):
        pop.recommend(1, items=[1, 2])  # type: ignore[call-arg]
    assert len(pop.recommend([1, 2], k=3, min_support=0)) == 6  # k and the other options still work


def test_per_user_frame_is_lenskits_list_metrics(bundled: movierec.Dataset) -> None:
    """``result.per_user_frame()``: one row per user, raw userIds as the index, a column per metric, the
    columns' means the row's metrics (LensKit's ``list_metrics()``); pooled over ``crossfold_users``' folds
    every user once, with its fold. Before, ``per_user`` was a dict of arrays aligned with dense indices,
    and a notebook mapped them back through ``train.user_map`` itself."""
    train, test = movierec.split.crossfold_users(bundled.interactions, 5, 0.2, seed=42)[0]
    pop = movierec.Recommender(bundled, "popularity", threshold=0.5).fit(train)
    result = movierec.evaluate(pop, train, test, k=10, threshold=None)
    frame = result.per_user_frame()
    assert frame.index.name == "userId" and sorted(frame.index) == sorted(test.to_frame()["userId"].unique())
    assert frame["ndcg@10"].mean() == pytest.approx(result.metrics["ndcg@10"])
    assert "fold" not in frame
    comp = movierec.compare(
        bundled,
        ["popularity"],
        split="per-user",
        cv=5,
        threshold=0.5,
        protocols="full-ranking",
        progress=False,
    )
    pooled = comp.row("popularity", "full-ranking").per_user_frame()
    assert len(pooled) == 610 and pooled.index.is_unique and pooled.columns[0] == "fold"
    assert pooled.loc[frame.index, "fold"].eq(0).all()  # fold 0's users, as evaluate scored them
    np.testing.assert_allclose(pooled.loc[frame.index, "ndcg@10"], frame["ndcg@10"])


def test_evaluate_says_how_many_test_users_it_left_out(bundled: movierec.Dataset) -> None:
    """``evaluate(rec, train, test)`` on LensKit's fold 0 scores 118 of its 122 test users under the default
    threshold 4: the other 4 rated nothing in their test part ≥ 4. Before, nothing said so (a LensKit
    user reads 118 against LensKit's 122); now the row's notes say it in compare's words, and a
    DroppedUsersWarning points at the caller's line. ``threshold=None`` scores all 122 and says nothing."""
    from movierec.evaluation import DroppedUsersWarning

    train, test = movierec.split.crossfold_users(bundled.interactions, 5, 0.2, seed=42)[0]
    pop = movierec.Recommender(bundled, "popularity").fit(train)
    with pytest.warns(DroppedUsersWarning) as caught:
        result = movierec.evaluate(pop, train, test, k=10)
    said = (
        "users: full-ranking 118 of the 122 test users: a ranking protocol counts only users with a test "
        "rating ≥ 4 (4 have none; threshold=None counts every test row)"
    )
    assert result.n_users == 118 and result.notes == [said]
    assert [str(w.message) for w in caught] == [said] and caught[0].filename == __file__
    assert result.to_dict()["notes"] == [said]
    with pytest.warns(DroppedUsersWarning, match=r"test-candidates 118 of the 122 test users"):
        movierec.evaluate(pop, train, test, "test-candidates", k=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not a word when every test user is scored, or when told not to
        every = movierec.evaluate(pop, train, test, k=10, threshold=None)
        quiet = movierec.evaluate(pop, train, test, k=10, warn=False)
    assert every.n_users == 122 and every.notes == []
    assert quiet.notes == [said]


def test_compare_runs_on_a_given_split(bundled: movierec.Dataset) -> None:
    """``compare(ds, models, split=make_split(ds, test=rows))``: every model fitted on the fold's training
    part and every protocol scored on its test rows, with intervals and tables as a named split's, the
    rows' split saying "given …"; a ``(train, test)`` pair (a crossfold_users fold, per_user_split's
    parts) works too. Before, "the split is a name such as 'ratings-holdout', not (…)": a LensKit fold
    went through evaluate one model at a time."""
    from movierec.split import crossfold_users, per_user_split

    train, test = crossfold_users(bundled.interactions, 5, 0.2, seed=42)[0]
    rows = test.to_frame().rename(columns={"userId": "user_id", "movieId": "item_id"})
    given = movierec.make_split(bundled, test=rows)
    comp = movierec.compare(bundled, ["popularity", "baseline"], split=given, progress=False)
    about = "given test rows (3,550 ratings of 122 users)"
    assert comp.split == about and {r.split for r in comp.rows} == {about}
    assert {(r.label, r.protocol, r.n_users) for r in comp.rows} == {
        ("popularity", "test-candidates", 118),
        ("popularity", "full-ranking", 118),
        ("baseline", "rating", 122),
        ("baseline", "test-candidates", 118),
        ("baseline", "full-ranking", 118),
    }
    assert any(n.endswith("(4 have none)") for n in comp.notes)
    row = comp.row("popularity", "full-ranking")
    assert "ndcg@10" in row.intervals and about in " ".join(str(comp).split())  # wrapped at the width
    alone = movierec.evaluate(comp.models["popularity"], given[0], given[1], k=10, warn=False)
    assert row.metrics == pytest.approx(alone.metrics)  # the same fit and scoring as evaluate's
    pair = movierec.compare(bundled.name, ["popularity"], split=(train, test), protocols="full-ranking")
    assert pair.split == "given train/test (97,286 / 3,550 ratings)"
    assert pair.row("popularity", "full-ranking").metrics == pytest.approx(alone.metrics)
    fit, _, held = per_user_split(bundled.interactions, seed=1)
    named = movierec.make_split(bundled, "per-user")
    assert movierec.compare(bundled, ["popularity"], split=named[:2], protocols="full-ranking").split == (
        f"given split: {named[2]}"
    )
    assert movierec.compare(bundled, ["popularity"], split=(fit, held), protocols="full-ranking").rows
    with pytest.raises(ConfigError, match=r"so cv= has nothing to fold; split='per-user', cv=5 runs"):
        movierec.compare(bundled, ["popularity"], split=given, cv=5)
    with pytest.raises(ConfigError, match=r"^test_size= sizes a named split"):
        movierec.compare(bundled, ["popularity"], split=given, test_size=0.1)
    framed = movierec.compare(bundled, ["popularity"], split=(train, rows), protocols="full-ranking")
    assert framed.row("popularity", "full-ranking").metrics == pytest.approx(alone.metrics)  # LensKit's frame
    with pytest.raises(ConfigError, match=r"got a tuple of Interactions, str, str$"):
        movierec.compare(bundled, ["popularity"], split=(train, "a", "b"))
    with pytest.raises(ConfigError, match=r"train part has other users or movies than the dataset compared"):
        movierec.compare(bundled.to_frame().iloc[:5000], ["popularity"], split=(train, test))


def test_rank_by_prediction_ranks_a_rating_model_as_lenskit_does(bundled: movierec.Dataset) -> None:
    """``evaluate(..., rank_by="prediction")`` ranks Bias by its unclipped predicted rating, as LensKit's
    topn_pipeline(BiasScorer(damping=5)) does: on fold 0 its lists were LensKit 2025.8.1's at every position
    (NDCG@10 0.0448 in both; 0.1028 by the default support-shrunk score). Before, no option did."""
    train, test = movierec.split.crossfold_users(bundled.interactions, 5, 0.2, seed=42)[0]
    bias = movierec.Recommender(bundled, "baseline", reg_i=5, reg_u=5, epochs=1).fit(train)
    raw = movierec.evaluate(bias, train, test, k=10, threshold=None, rank_by="prediction")
    shrunk = movierec.evaluate(bias, train, test, k=10, threshold=None)
    assert raw.metrics["ndcg@10"] == pytest.approx(0.0448, abs=1e-4)
    assert shrunk.metrics["ndcg@10"] == pytest.approx(0.1028, abs=1e-4) and shrunk.notes == []
    assert any("rank_by='prediction'" in n for n in raw.notes)
    scores = bias.model.predicted_scores(raw.users[:3])
    seen = train.csr()[raw.users[:3]].toarray() > 0
    scores[seen] = -np.inf
    assert (np.take_along_axis(scores, raw.recs[:3], 1) == np.sort(scores, 1)[:, ::-1][:, :10]).all()
    with pytest.raises(ConfigError, match=r"^rank_by must be one of 'shrunk', 'prediction', got 'raw'"):
        movierec.evaluate(bias, train, test, rank_by="raw")


def test_compare_ranks_by_prediction_as_evaluate_does(bundled: movierec.Dataset, tmp_path) -> None:
    """``compare(..., rank_by="prediction")`` and ``movierec compare --rank-by prediction`` give evaluate's
    row on LensKit's fold 0: Bias(damping=5) NDCG@10 0.0448 (LensKit's lists), the row's and the comparison's
    notes saying so; popularity, an implicit model, ranks as before; the default stays the shrunk score
    (0.1028). A bad value is one line (exit 2 in the CLI). Before, compare had no rank_by."""
    import json
    import subprocess

    train, test = movierec.split.crossfold_users(bundled.interactions, 5, 0.2, seed=42)[0]
    bias = ("baseline", {"reg_i": 5, "reg_u": 5, "epochs": 1})
    models = [bias, ("popularity", {})]
    kw = {"split": (train, test), "protocols": "full-ranking", "threshold": 0.5, "progress": False}
    comp = movierec.compare(bundled, models, rank_by="prediction", **kw)
    shrunk = movierec.compare(bundled, models, **kw)
    rec = movierec.Recommender(bundled, *bias[:1], **bias[1]).fit(train)
    want = movierec.evaluate(rec, train, test, k=10, threshold=0.5, rank_by="prediction")
    row = comp.row("baseline", "full-ranking")
    assert row.metrics == pytest.approx(want.metrics) and row.metrics["ndcg@10"] == pytest.approx(
        0.0448, abs=1e-4
    )
    assert (row.recs == want.recs).all() and row.notes == want.notes
    assert shrunk.row("baseline", "full-ranking").metrics["ndcg@10"] == pytest.approx(0.1028, abs=1e-4)
    assert comp.row("popularity", "full-ranking").metrics == shrunk.row("popularity", "full-ranking").metrics
    assert any("(rank_by='prediction')" in n for n in comp.notes) and not any(
        "rank_by" in n for n in shrunk.notes
    )
    with pytest.raises(ConfigError, match=r"^rank_by must be one of 'shrunk', 'prediction', got 'raw'$"):
        movierec.compare(bundled, models, rank_by="raw", **kw)
    train.to_frame().to_csv(tmp_path / "train.csv", index=False)
    test.to_frame().to_csv(tmp_path / "test.csv", index=False)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_process(
            "compare", "--dataset", "ml-latest-small", "--train", "train.csv", "--test", "test.csv", "--models",
            "baseline", "-p", "reg_i=5,reg_u=5,epochs=1", "--protocols", "full-ranking", "--implicit-threshold",
            "0.5", *args, cwd=tmp_path,
        )  # fmt: skip

    proc = cli("--rank-by", "prediction", "--json")
    assert proc.returncode == 0, proc.stderr
    (got,) = json.loads(proc.stdout)
    assert got["ndcg@10"] == pytest.approx(want.metrics["ndcg@10"], abs=1e-12)
    assert got["notes"] == want.notes and "--rank-by prediction" in " ".join(proc.stderr.split())
    bad = cli("--rank-by", "raw")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "movierec: error: --rank-by must be one of shrunk, prediction, got 'raw'"
    ], bad.stderr


def test_compare_notes_say_only_what_its_rating_rows_rank_by(
    bundled: movierec.Dataset, capsys: pytest.CaptureFixture[str], tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compare's notes say one thing a rating model's ranking rows are ranked by: the shrunk score by default,
    the unclipped prediction under ``rank_by="prediction"`` (``--rank-by prediction``). With it, compare said
    both, "explicit models are ranked by predicted rating, shrunk for rarely rated movies" beside "... ranked
    by the unclipped predicted rating ..., not by the support-shrunk score"."""
    from clihelp import run_cli
    from movierec.errors import in_cli
    from movierec.evaluation import RANKED_ROWS_NOTE

    shrunk_note = "explicit models are ranked by predicted rating, shrunk for rarely rated movies, in the ranking protocols"
    train, test = movierec.split.crossfold_users(bundled.interactions, 5, 0.2, seed=42)[0]
    models = [("baseline", {"epochs": 1}), ("popularity", {})]
    kw = {"split": (train, test), "protocols": "full-ranking", "progress": False}
    by_prediction = movierec.compare(bundled, models, rank_by="prediction", **kw).notes
    assert RANKED_ROWS_NOTE in by_prediction and shrunk_note not in by_prediction, by_prediction
    shrunk = movierec.compare(bundled, models, **kw).notes
    assert shrunk_note in shrunk and not any("unclipped" in n for n in shrunk), shrunk

    monkeypatch.chdir(tmp_path)
    args = ["compare", "-m", "baseline,popularity", "-p", "baseline.epochs=1", "--protocols", "full-ranking"]
    for extra, said, unsaid in [
        (["--rank-by", "prediction"], in_cli(RANKED_ROWS_NOTE), shrunk_note),
        ([], shrunk_note, "unclipped"),
    ]:
        code, out, err = run_cli([*args, *extra], capsys)
        printed = " ".join((out + err).split())
        assert code == 0, err
        assert f"note: {said}" in printed and unsaid not in printed, printed


def test_an_experiment_file_ranks_by_prediction(bundled: movierec.Dataset, tmp_path) -> None:
    """``rank_by = "prediction"`` in an experiment file is compare's ``rank_by`` (``compare --config``: the
    row LensKit's lists give, NDCG@10 0.0448); unset, the default; a bad value names the key, and
    ``--rank-by`` beside ``--config`` is refused (the file sets it)."""
    import json
    import subprocess

    from movierec.experiment import compare_kwargs, parse_experiment

    train, test = movierec.split.crossfold_users(bundled.interactions, 5, 0.2, seed=42)[0]
    train.to_frame().to_csv(tmp_path / "train.csv", index=False)
    test.to_frame().to_csv(tmp_path / "test.csv", index=False)
    body = (
        'protocols = ["full-ranking"]\nthreshold = 0.5\n[dataset]\nname = "ml-latest-small"\n'
        '[split]\ntrain = "train.csv"\ntest = "test.csv"\n'
        '[[models]]\nname = "baseline"\n[models.params]\nreg_i = 5\nreg_u = 5\nepochs = 1\n'
    )
    (tmp_path / "exp.toml").write_text('rank_by = "prediction"\n' + body)
    assert compare_kwargs(parse_experiment(body))["rank_by"] == "shrunk"
    assert 'rank_by = "prediction"' in parse_experiment('rank_by = "prediction"\n' + body).to_toml()
    with pytest.raises(
        ConfigError, match=r"rank_by.*rank_by must be one of 'shrunk', 'prediction', got 'raw'"
    ):
        parse_experiment('rank_by = "raw"\n' + body)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_process("compare", "--config", "exp.toml", "--out", "runs", *args, cwd=tmp_path)

    proc = cli("--json")
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert row["ndcg@10"] == pytest.approx(0.0448, abs=1e-4) and any(
        "rank_by='prediction'" in n for n in row["notes"]
    )
    bad = cli("--rank-by", "prediction")
    assert bad.returncode == 2 and "--rank-by and --config exclude each other" in bad.stderr, bad.stderr
