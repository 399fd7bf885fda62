"""Beyond-accuracy metrics against hand-computed values on a five-item fixture (docs/beyond-accuracy.md)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from movierec import beyond as B

# items: 0 {Action, Comedy}, 1 {Action}, 2 {Drama}, 3 no genre, 4 {Comedy, Drama}
GENRES = [["Action", "Comedy"], ["Action"], ["Drama"], ["(no genres listed)"], ["Comedy", "Drama"]]
VECTORS = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0], [-1.0, 0.0]])
RECS = np.array([[0, 1, 2], [3, 4, 1], [0, -1, -1]])
# training pairs of four users: popularity = [3, 2, 1, 0, 1]
SEEN = sp.csr_matrix(
    (np.ones(7), ([0, 0, 1, 1, 2, 3, 3], [0, 1, 0, 2, 0, 1, 4])), shape=(4, 5), dtype=np.float32
)


def test_genre_matrix_drops_placeholder_and_sorts_names():
    g, names = B.genre_matrix(GENRES)
    assert names == ["Action", "Comedy", "Drama"]
    assert g.toarray().tolist() == [[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 1, 1]]


def test_ild_genres_hand_computed():
    g, _ = B.genre_matrix(GENRES)
    # user 0: d(0,1) = 1 − 1/2, d(0,2) = 1, d(1,2) = 1 → 2.5/3; user 1: every pair disjoint (∅ vs a set: 1)
    np.testing.assert_allclose(B.ild_genres(RECS, g), [2.5 / 3, 1.0, 0.0])
    # two items without genres are identical: J(∅, ∅) = 1
    assert B.ild_genres(np.array([[3, 3]]), g)[0] == 0.0


def test_ild_vectors_hand_computed():
    d = 1 - 1 / np.sqrt(2)
    # user 0: cos(0,1) = 0, cos(0,2) = cos(1,2) = 1/√2; user 1: zero vector → cos 0; cos(4,1) = 0
    np.testing.assert_allclose(B.ild_vectors(RECS, VECTORS), [(1 + 2 * d) / 3, 1.0, 0.0])


def test_popularity_and_long_tail_cut():
    pop = B.item_popularity(SEEN)
    assert pop.tolist() == [3, 2, 1, 0, 1]
    # sorted 3, 2, 1, 1, 0 → cumulative 3, 5, 6: 6 ≥ 0.8·7 = 5.6, so the head is items 0, 1, 2
    assert B.long_tail_mask(pop).tolist() == [False, False, False, True, True]
    assert B.long_tail_mask(pop, 0.4).tolist() == [False, True, True, True, True]


def test_arp_and_aplt_hand_computed():
    pop = B.item_popularity(SEEN)
    np.testing.assert_allclose(B.arp(RECS, pop, 4), [(3 + 2 + 1) / 3 / 4, (0 + 1 + 2) / 3 / 4, 3 / 4])
    np.testing.assert_allclose(B.aplt(RECS, B.long_tail_mask(pop)), [0.0, 2 / 3, 0.0])


def test_gini_entropy_aggregate_diversity_hand_computed():
    # counts 2, 2, 1, 1, 1 (sorted 1, 1, 1, 2, 2): Σ(2j − 6)c = −4 − 2 + 0 + 4 + 8 = 6 → 6 / (5·7)
    assert B.gini(RECS, 5) == pytest.approx(6 / 35)
    p = np.array([2, 2, 1, 1, 1]) / 7
    assert B.entropy(RECS, 5) == pytest.approx(-(p * np.log(p)).sum())
    assert B.aggregate_diversity(RECS, 5) == 5
    assert B.aggregate_diversity(RECS, 8) == 5
    # one item for everyone: maximal concentration over 5 items is (n − 1)/n
    assert B.gini(np.array([[0], [0]]), 5) == pytest.approx(4 / 5)
    assert B.entropy(np.array([[0], [0]]), 5) == 0.0


def test_calibration_kl_hand_computed():
    g, _ = B.genre_matrix(GENRES)
    info = B.ItemInfo(popularity=np.ones(5), n_users=4, genres=g)
    shares = info.genre_shares()
    hist = sp.csr_matrix(np.array([[1, 1, 0, 0, 0]]))
    # p = (0.75, 0.25, 0); q = (0.25, 0.25, 0.5); q̃ = 0.99q + 0.01p = (0.255, 0.25, 0.495)
    kl = B.calibration_kl(np.array([[0, 2]]), hist, shares)
    assert kl[0] == pytest.approx(0.75 * np.log(0.75 / 0.255))
    # a list with the history's exact distribution is perfectly calibrated
    assert B.calibration_kl(np.array([[0, 1]]), hist, shares)[0] == pytest.approx(0.0, abs=1e-12)
    # no genres in the list: q̃ = αp → KL = ln(1/α)
    assert B.calibration_kl(np.array([[3]]), hist, shares)[0] == pytest.approx(np.log(100))


def test_popular_lists_skip_seen_items():
    pop = B.item_popularity(SEEN)
    # popularity order 0, 1, 2, 4, 3 (ties by index)
    assert B.popular_lists(SEEN, pop, 2).tolist() == [[2, 4], [1, 4], [1, 2], [0, 2]]


def test_unexpectedness_and_serendipity_hand_computed():
    primitive = np.array([[2, 4], [1, 2]])
    recs = np.array([[2, 3], [0, 3]])
    np.testing.assert_allclose(B.unexpectedness(recs, primitive, 5), [0.5, 1.0])
    relevant = sp.csr_matrix(np.array([[0, 0, 1, 1, 0], [0, 0, 0, 0, 1]]))
    # user 0: 2 is relevant but expected, 3 relevant and unexpected → 1/2; user 1: nothing relevant
    np.testing.assert_allclose(B.serendipity(recs, primitive, relevant, 5), [0.5, 0.0])


def test_activity_terciles_equal_sized_ties_by_position():
    labels = B.activity_groups(np.array([5, 1, 3, 3, 0, 9]))
    assert labels.tolist() == ["high", "low", "mid", "mid", "low", "high"]
    assert sorted(B.activity_groups(np.arange(7)).tolist()).count("low") == 3  # ⌊3r/7⌋: 3, 2, 2


def test_group_metrics_means_gap_and_intervals():
    ndcg = np.array([1.0, 0.0, 0.5, 0.5, 0.2, 0.8])
    groups = {"activity": B.activity_groups(np.array([5, 1, 3, 3, 0, 9]))}
    vals, ci = B.group_metrics({"ndcg@10": ndcg}, groups, n_boot=200, seed=1)
    assert vals["ndcg@10[activity=low]"] == pytest.approx(0.1)
    assert vals["ndcg@10[activity=mid]"] == pytest.approx(0.5)
    assert vals["ndcg@10[activity=high]"] == pytest.approx(0.9)
    assert vals["ndcg@10[activity gap]"] == pytest.approx(0.8)
    lo, hi = ci["ndcg@10[activity gap]"]
    assert lo <= 0.8 <= hi and hi <= 1.0 and lo >= 0.6  # high ∈ [0.8, 1], low ∈ [0, 0.2]
    assert "ndcg@10[activity=mid]" not in ci  # 2 users: a mean and a size, no interval
    assert vals["users[activity=mid]"] == 2 and "ndcg@10[activity gap]" in ci
    # unlabelled users are left out; a one-user group is skipped (no gap with one group)
    vals2, _ = B.group_metrics({"m": ndcg}, {"gender": np.array(["F", None, "F", "M", "", "F"])})
    assert set(vals2) == {"m[gender=F]", "users[gender=F]"} and vals2["users[gender=F]"] == 3


def test_gap_p_value_holds_its_level_where_the_gap_interval_does_not():
    """With 21 groups and no true difference (labels drawn at random), the gap's interval, which takes
    the best and worst groups as if chosen in advance, excluded 0 in most shuffles (ml-100k's occupations:
    155 of 200); the permutation p of the range is below 0.05 in about 5% of them."""
    rng = np.random.default_rng(7)
    values = rng.exponential(0.2, 420)  # skewed like a user's NDCG
    labels = np.repeat([f"g{i:02d}" for i in range(21)], 20)
    excluded = significant = 0
    for r in range(60):
        vals, ci = B.group_metrics(
            {"m": values}, {"f": rng.permutation(labels)}, n_boot=200, n_perm=200, seed=r
        )
        excluded += ci["m[f gap]"][0] > 0
        significant += vals["m[f gap p]"] < B.GAP_SIGNIFICANCE
        assert 1 / 201 <= vals["m[f gap p]"] <= 1.0
    assert excluded >= 30, excluded  # measured 54 of 60
    assert significant <= 8, significant  # measured 6 of 60; 3 expected
    # a real difference is found: one group's users score twice as much
    shifted = np.where(labels == "g00", 2 * values, values)
    vals, _ = B.group_metrics({"m": shifted}, {"f": labels}, n_perm=200)
    assert vals["m[f gap p]"] < 0.05


def test_gap_p_value_under_cv_shuffles_whole_users():
    """Pooled folds: a user's units move together. With one label per user and each user's units equal,
    the unit-level p is the user-level p (the same shuffles of the same users)."""
    rng = np.random.default_rng(3)
    values = rng.random(90)
    labels = np.array(["a", "b", "c"])[rng.integers(0, 3, 90)]
    plain, _ = B.group_metrics({"m": values}, {"f": labels}, n_boot=50, n_perm=300)
    units = np.repeat(np.arange(90), 2)  # every user in two folds
    pooled, _ = B.group_metrics(
        {"m": values[units]}, {"f": labels[units]}, n_boot=50, n_perm=300, clusters=units
    )
    assert pooled["m[f gap]"] == pytest.approx(plain["m[f gap]"], rel=1e-12)
    assert pooled["m[f gap p]"] == plain["m[f gap p]"]
    # shuffling units instead (no clusters) treats a user's two units as two users: too small a p
    naive, _ = B.group_metrics({"m": values[units]}, {"f": labels[units]}, n_boot=50, n_perm=300)
    assert naive["m[f gap p]"] < 0.8 * pooled["m[f gap p]"]  # measured 0.425 against 0.714


def test_gap_p_value_is_bounded_on_many_users():
    """Above 20,000,000 units × shuffles the draws are bounded: 50,000 users make at most 400 (20M / 50k)
    shuffles instead of 1,000, and a metric stops at its 10th shuffle whose range reaches the gap
    (Besag & Clifford 1991), p = 10 / the shuffles made; one never reached gets 1 / 401. Checked one
    shuffle at a time against the same draws (as _gap_p_reference); on the old code the null metric's p
    was (1 + hits) / 1001. Measured (bench, 100,000 users, 21 groups, 6 metrics): 4.2 s before, 0.18 s
    with no difference and 0.96 s with every metric different."""
    n = 50_000
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 3, n)
    values = np.vstack([rng.random(n), rng.random(n) + 0.05 * (codes == 1)])  # null, then a real shift
    means = np.array([values[:, codes == g].mean(axis=1) for g in range(3)])
    gap = means.max(axis=0) - means.min(axis=0)
    p = B.gap_p_values(values, codes, gap, seed=11)
    draws = 400
    assert B.MIN_PERM <= draws < 1000
    shuffles = np.random.default_rng(11)
    over = []
    for _ in range(draws):
        shuffled = codes[np.argsort(shuffles.random(n))]
        m = np.array([values[:, shuffled == g].mean(axis=1) for g in range(3)])
        over.append(m.max(axis=0) - m.min(axis=0) >= gap - 1e-12)
    hits = np.cumsum(np.array(over), axis=0)  # draws × metrics
    tenth = int(np.flatnonzero(hits[:, 0] >= 10)[0]) + 1
    assert tenth == 22  # a null gap stops early: p = 10 / 22, where 1,000 shuffles ran before
    assert p[0] == 10 / tenth
    assert hits[-1, 1] == 0 and p[1] == 1 / (1 + draws)
    # below the size every shuffle is made, as before: 5,000 users, p from 1,000 shuffles
    small = B.gap_p_values(values[:, :5000], codes[:5000], gap, n_perm=1000, seed=11)
    assert all(round(x * 1001) == pytest.approx(x * 1001) for x in small)


def test_beyond_metrics_names_and_is_beyond():
    g, _ = B.genre_matrix(GENRES)
    info = B.ItemInfo(popularity=B.item_popularity(SEEN), n_users=4, genres=g, vectors=VECTORS)
    per_user, agg = B.beyond_metrics(RECS, seen=SEEN[:3], relevant=SEEN[:3], info=info)
    assert set(per_user) == set(B.PER_USER)
    assert set(agg) == set(B.AGGREGATE)
    assert all(len(v) == 3 for v in per_user.values())
    no_genres = B.ItemInfo(popularity=info.popularity, n_users=4)
    per_user2, _ = B.beyond_metrics(RECS, seen=SEEN[:3], relevant=None, info=no_genres)
    assert set(per_user2) == {"arp", "aplt", "unexpectedness"}
    assert B.is_beyond("arp@10") and B.is_beyond("ndcg@10[activity gap]") and not B.is_beyond("ndcg@10")


def test_bootstrap_cis_equal_bootstrap_ci_per_metric():
    from movierec.metrics import bootstrap_ci, bootstrap_cis

    rng = np.random.default_rng(0)
    per_user = {"a": rng.random(300), "b": rng.random(300) ** 2, "c": rng.random(7), "big": rng.random(5000)}
    per_user["big2"] = per_user["big"] * 2
    got = bootstrap_cis(per_user, n_boot=500, seed=3)
    assert list(got) == list(per_user)
    for m, v in per_user.items():
        assert got[m] == bootstrap_ci(v, n_boot=500, seed=3), m


def test_compare_splits_by_gender_and_age_when_the_dataset_has_users():
    import pandas as pd

    from datagen import make_ratings
    from movierec.datasets import Dataset
    from movierec.evaluation import compare
    from movierec.interactions import Interactions

    inter = Interactions.from_frame(make_ratings(60, 40, 0.4, seed=2), rating_scale=(0.5, 5.0))
    users = pd.DataFrame(
        {
            "userId": np.arange(1, 61),
            "age": np.where(np.arange(60) % 3 == 0, 20, 40),
            "gender": np.where(np.arange(60) % 2 == 0, "F", "M"),
            "occupation": "other",
            "zip": "12345",
        }
    )
    ds = Dataset("tiny-users", inter, users=users)
    groups = B.demographic_groups(ds)
    assert groups["gender"][:2].tolist() == ["F", "M"] and groups["age"][:2].tolist() == ["18-24", "35-44"]
    row = compare(ds, ["popularity"], protocols="full-ranking", k=5, beyond=True).rows[0]
    for key in (
        "ndcg@5[gender=F]",
        "ndcg@5[gender=M]",
        "ndcg@5[gender gap]",
        "ndcg@5[age=18-24]",
        "ndcg@5[age gap]",
    ):
        assert key in row.metrics and key in row.intervals, key
    f_users = row.users[groups["gender"][row.users] == "F"]
    f_mean = row.per_user["ndcg@5"][np.isin(row.users, f_users)].mean()
    assert row.metrics["ndcg@5[gender=F]"] == pytest.approx(f_mean)
    assert B.demographic_groups(Dataset("no-users", inter)) == {}


def _seven_age_groups():
    """A 70-user dataset whose users fall into ml-100k's seven age groups (ten each) and two genders."""
    import pandas as pd

    from datagen import make_ratings
    from movierec.datasets import Dataset
    from movierec.interactions import Interactions

    inter = Interactions.from_frame(make_ratings(70, 40, 0.4, seed=4), rating_scale=(0.5, 5.0))
    ages = np.array([15, 20, 30, 40, 47, 52, 60])[np.arange(70) % 7]
    users = pd.DataFrame(
        {
            "userId": np.arange(1, 71),
            "age": ages,
            "gender": np.where(np.arange(70) % 2 == 0, "F", "M"),
            "occupation": "other",
            "zip": "12345",
        }
    )
    return Dataset("seven-ages", inter, users=users)


def test_group_sizes_are_reported_and_sum_to_the_evaluated_users():
    from movierec.evaluation import compare

    row = compare(_seven_age_groups(), ["popularity"], protocols="full-ranking", k=5, beyond=True).rows[0]
    for family in ("activity", "gender", "age"):
        sizes = {k: v for k, v in row.metrics.items() if k.startswith(f"users[{family}=")}
        assert sum(sizes.values()) == row.n_users == len(row.users), (family, sizes)
    ages = [k[len("users[age=") : -1] for k in row.metrics if k.startswith("users[age=")]
    assert ages[0] == "under 18" and len(ages) == 7  # the youngest first, not sorted after "56+"
    assert "users[age=under 18]" not in row.intervals  # a size, not an estimate


def test_print_comparison_shows_beyond_and_group_tables_within_80_columns():
    """print(comparison) with beyond=True: the accuracy table keeps accuracy (rich's markup once ate the
    brackets of ndcg@5[activity gap], printing three columns headed NDCG@5), and the group tables keep
    every model's name when a family has more groups than 80 columns hold."""
    from movierec.display import comparison_text
    from movierec.evaluation import compare

    comp = compare(_seven_age_groups(), ["popularity", "itemknn"], protocols="full-ranking", k=5, beyond=True)
    text = comparison_text(comp, width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    accuracy = text[: text.index("beyond accuracy")]
    header = next(line for line in accuracy.splitlines() if line.startswith("model"))
    assert header.split().count("NDCG@5") == 1, header
    assert "novelty ↑" in text and "ARP ↓" in text
    # one legend under the beyond tables, before the group tables: where the definitions are not RecBole's
    legend = (
        "unlike RecBole: entropy in nats over recommended items, not ÷ their count;\n"
        "Gini over the whole catalogue; novelty +1-smoothed; ARP a share of users"
    )
    plain = "\n".join(line.rstrip() for line in text.splitlines())
    assert plain.count(legend) == 1 and plain.index(legend) < plain.index("by user group")
    assert plain.index("unexpectedness and concentration") < plain.index(legend)
    age_tables = text.split("by user group (age")[1:]
    assert len(age_tables) >= 2  # seven groups and the gap do not fit one 80-column table
    # a table's body: its title's end to its footnotes (a line of the table itself may be empty, as piped
    # output has no trailing spaces since a91f67d)
    bodies = [table.split("\np under")[0].split("\n– under")[0] for table in age_tables]
    for body in bodies:
        assert "popularity" in body and "itemknn" in body, body
    sizes = [int(w[2:]) for body in bodies for w in body.split() if w.startswith("n=")]
    assert sum(sizes) == comp.rows[0].n_users
    first_body = bodies[0].split("\n", 1)[1]  # below the title, which names the gap
    assert "under 18" in first_body and "gap" not in first_body  # the gap column only in the last table
    assert "gap ↓" in age_tables[-1]  # lower is better: the groups are served alike
    # the gap's permutation p under its interval, and the legend that says what it is
    p = comp.rows[0].metrics["ndcg@5[age gap p]"]
    assert f"p={p:.3f}" in age_tables[-1] and f"p={p:.3f}" not in age_tables[0]
    assert "p under the gap: permutation p that the groups differ (< 0.05: they do)" in text
    # ml-100k's smallest groups hold 2-9 users, whose "95%" intervals covered 52-90%: a dash, and why
    row = comp.rows[0]
    assert row.metrics["users[age=25-34]"] == 4 and "ndcg@5[age=25-34]" not in row.intervals
    lines = bodies[0].splitlines()
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("popularity"))
    assert lines[at + 1].split() == ["–"] * 4, lines[at + 1]  # under each of the four groups' means
    assert "– under a group's mean: no interval under 10 users (too few to trust)" in text
    gender = text.split("by user group (gender")[1].split("by user group")[0]
    assert "no interval under" not in gender  # 20 and 21 users: intervals, no such line


def _one_fold_group_reference(per_user, groups, n_boot=1000, seed=42):
    """group_metrics' one-split bootstrap as it stood before pooled folds had their own (c0945b4), kept
    here to pin it: users resampled within each group, one draw matrix per group, shared by every metric."""
    names = list(per_user)
    values = np.vstack([np.asarray(per_user[m], dtype=np.float64) for m in names])
    rng = np.random.default_rng(seed)
    out, ci = {}, {}
    for family, labels in groups.items():
        lab = np.asarray(labels, dtype=object)
        present = sorted({g for g in lab.tolist() if g is not None}, key=lambda g: _ORDER.get(g, (3, g)))
        for g in present:
            members = np.flatnonzero(lab == g)
            n = len(members)
            v = values[:, members]
            draw = rng.integers(0, n, size=(n_boot, n))
            w = np.bincount((np.arange(n_boot)[:, None] * n + draw).ravel(), minlength=n_boot * n)
            b = v @ w.reshape(n_boot, n).T.astype(np.float64) / n
            out[f"users[{family}={g}]"] = float(n)
            for j, m in enumerate(names):
                point = v.mean(axis=1)[j]
                out[f"{m}[{family}={g}]"] = float(point)
                lo, hi = np.quantile(b[j], [_ALPHA, 1.0 - _ALPHA])
                if n >= 10:  # under 10 users no interval (since h117), the draws are still made
                    ci[f"{m}[{family}={g}]"] = (float(min(lo, point)), float(max(hi, point)))
        out.update(_gap_p_reference(names, values, family, lab, present, seed))
    return out, ci


def _gap_p_reference(names, values, family, lab, present, seed, n_perm=1000):
    """Each metric's gap (best − worst group mean) and its permutation p, one shuffle at a time: the k-th
    shuffle gives user i the label of user argsort(k-th row of default_rng(seed).random)[i]; p = (1 + shuffles
    whose range of group means ≥ the gap) / (1 + n_perm)."""
    kept = np.isin(lab, present)
    v, lab = values[:, kept], lab[kept]
    gap = np.array([max(v[:, lab == g].mean(axis=1)[j] for g in present) for j in range(len(names))])
    gap -= np.array([min(v[:, lab == g].mean(axis=1)[j] for g in present) for j in range(len(names))])
    rng = np.random.default_rng(seed)
    over = np.zeros(len(names))
    for _ in range(n_perm):
        shuffled = lab[np.argsort(rng.random(len(lab)))]
        means = np.array([v[:, shuffled == g].mean(axis=1) for g in present])  # groups × metrics
        over += means.max(axis=0) - means.min(axis=0) >= gap - 1e-12
    out = {f"{m}[{family} gap]": float(gap[j]) for j, m in enumerate(names)}
    out.update({f"{m}[{family} gap p]": (1.0 + over[j]) / (1.0 + n_perm) for j, m in enumerate(names)})
    return out


_ALPHA = (1.0 - 0.95) / 2.0  # 0.025000000000000022, as group_metrics computes it
_ORDER = {"under 18": (-1, "under 18"), "low": (0, "low"), "mid": (1, "mid"), "high": (2, "high")}


def test_one_split_group_figures_are_unchanged_by_pooled_folds():
    """Pooling folds by user group left one split alone: a row's group values, sizes and brackets equal,
    to the last bit, the one-split bootstrap as it was (the reference above), from the row's own per-user
    values and each user's training activity and demographics."""
    from movierec.beyond import activity_groups, demographic_groups, train_pairs
    from movierec.evaluation import compare

    ds = _seven_age_groups()
    comp = compare(ds, ["popularity"], protocols="full-ranking", k=5, beyond=True)
    row = comp.rows[0]
    users = np.asarray(row.users, dtype=np.int64)
    demo = demographic_groups(ds)
    groups = {
        "activity": activity_groups(np.diff(train_pairs(comp.train).indptr)[users]),
        "gender": demo["gender"][users],
        "age": demo["age"][users],
    }
    accuracy = {m: v for m, v in row.per_user.items() if f"{m}[activity=low]" in row.metrics}
    assert "ndcg@5" in accuracy and "recall@5" in accuracy
    want, want_ci = _one_fold_group_reference(accuracy, groups)
    got = {m: v for m, v in row.metrics.items() if m in want}
    assert got == want  # exactly: the same floats, not approximately
    assert {m: row.intervals[m] for m in want_ci} == want_ci
    # and as printed at c0945b4, before this change (results.json of this comparison)
    assert row.metrics["ndcg@5[age gap]"] == pytest.approx(0.33629709346766656, rel=1e-12)
    assert row.intervals["ndcg@5[age gap]"] == pytest.approx(
        (0.0644754678724236, 0.6696304268009999), rel=1e-12
    )


def _cv_units(ds, row, cv, seed=42, threshold=4.0):
    """Each pooled (user, fold) unit's labels, recomputed from the folds themselves: the activity tercile
    of that fold's training counts among that fold's evaluated users, and the user's gender and age."""
    from movierec.beyond import activity_groups, demographic_groups, train_pairs
    from movierec.split import KFold

    n = ds.interactions.n_users
    keys = np.asarray(row.users, dtype=np.int64)
    fold, user = keys // n, keys % n
    activity = np.empty(len(keys), dtype=object)
    for f, (train, _test) in enumerate(KFold(cv, seed, threshold).split(ds.interactions)):
        at = np.flatnonzero(fold == f)
        activity[at] = activity_groups(np.diff(train_pairs(train).indptr)[user[at]])
    demo = demographic_groups(ds)
    return user, {"activity": activity, "gender": demo["gender"][user], "age": demo["age"][user]}


def _cluster_reference(values, owners, rng, n_boot=1000):
    """Resampled means of one group's units: its distinct users drawn with replacement, each with all of
    their units in the group (Σ drawn sums / Σ drawn unit counts)."""
    ids, inv = np.unique(owners, return_inverse=True)
    sums = np.zeros(len(ids))
    counts = np.zeros(len(ids))
    np.add.at(sums, inv, values)
    np.add.at(counts, inv, 1.0)
    draw = rng.integers(0, len(ids), size=(n_boot, len(ids)))
    return len(ids), sums[draw].sum(axis=1) / counts[draw].sum(axis=1)


def test_cv_group_figures_are_pooled_over_units_and_resample_users():
    """Under cv a group's value was the mean of the folds' group means while its bracket was the last
    fold's own interval, so the bracket need not hold the value (ml-latest-small, 5 folds, ease NDCG@10
    for low-activity users: 0.1978 [.187,.254], fold 5's bracket around its 0.2206). Now each (user,
    fold) unit counts in the group it had in its fold, the value is the mean over those units, n its
    distinct users, and the bracket a cluster bootstrap over them: all recomputed here from the folds."""
    from movierec.evaluation import compare

    ds = _seven_age_groups()
    row = compare(ds, ["popularity"], protocols="full-ranking", k=5, beyond=True, cv=3).rows[0]
    assert row.split.startswith("3-fold cv over")
    owner, labels = _cv_units(ds, row, 3)
    assert np.array_equal(owner, row.unit_users)
    values = np.asarray(row.per_user["ndcg@5"], dtype=np.float64)
    rng = np.random.default_rng(42)  # one generator: families, then groups in their order, as compare draws
    for family, lab in labels.items():
        order = sorted(set(lab.tolist()), key=lambda g: _ORDER.get(g, (3, g)))
        points, boots = {}, {}
        for g in order:
            members = np.flatnonzero(lab == g)
            n, boots[g] = _cluster_reference(values[members], owner[members], rng)
            points[g] = float(values[members].mean())
            key = f"ndcg@5[{family}={g}]"
            assert row.metrics[f"users[{family}={g}]"] == n, key
            assert row.metrics[key] == pytest.approx(points[g], rel=1e-12), key
            if n < 10:  # too few users to trust a percentile interval: none
                assert key not in row.intervals, key
                continue
            lo, hi = row.intervals[key]
            assert lo <= row.metrics[key] <= hi, key  # the bracket holds its value
            want = np.quantile(boots[g], [_ALPHA, 1.0 - _ALPHA])
            assert (lo, hi) == pytest.approx((min(want[0], points[g]), max(want[1], points[g])), rel=1e-9), (
                key
            )
        best, worst = max(points, key=points.__getitem__), min(points, key=points.__getitem__)
        gap = points[best] - points[worst]
        lo, hi = row.intervals[f"ndcg@5[{family} gap]"]
        want = np.quantile(boots[best] - boots[worst], [_ALPHA, 1.0 - _ALPHA])
        assert row.metrics[f"ndcg@5[{family} gap]"] == pytest.approx(gap, rel=1e-12)
        assert (lo, hi) == pytest.approx((min(want[0], gap), max(want[1], gap)), rel=1e-9, abs=1e-12)
    sizes = {f: sum(v for m, v in row.metrics.items() if m.startswith(f"users[{f}=")) for f in labels}
    assert sizes["gender"] == sizes["age"] == row.n_users  # demographics do not change between folds
    assert sizes["activity"] > row.n_users  # some users changed tercile: they count in each
    assert len(row.fold_metrics) == 3 and "ndcg@5[activity=low]" in row.to_dict()["by_fold"]


def test_cv_note_says_why_group_sizes_sum_to_more_than_the_users():
    """The note that said the brackets were the last fold's is gone; what it says now is why a family's
    sizes overshoot the users under cv. One split has no such note."""
    from movierec.display import comparison_text
    from movierec.evaluation import compare

    comp = compare(_seven_age_groups(), ["popularity"], protocols="full-ranking", k=5, beyond=True, cv=3)
    row = comp.rows[0]
    assert not any("last fold" in n for n in comp.notes)
    note = next(n for n in comp.notes if n.startswith("user groups under 3-fold cv"))
    activity = sum(v for m, v in row.metrics.items() if m.startswith("users[activity="))
    assert note.endswith(f"(activity {activity:,.0f} for {row.n_users:,} users)"), note
    assert "gender" not in note and "age" not in note  # families whose sizes sum to the users
    assert note in " ".join(comparison_text(comp, width=80).split())  # print(comparison) shows it
    one = compare(_seven_age_groups(), ["popularity"], protocols="full-ranking", k=5, beyond=True)
    assert not any(n.startswith("user groups under") for n in one.notes)
