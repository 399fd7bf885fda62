"""More ways past ease, on validation only (issue 19): are they worth building?

    PYTHONPATH=src python bench/frontier_study.py [--protocol ml100k|mlls] [--dataset PATH] [--out FILE]
                                                  [--only bspm,linkprop,session,ensemble-session,uknn,inf-ae,transitions,combined,...]

ml-100k, every rating a positive; only the *training* part of the per-user 75/25 split (seed 42) is
read, split again per user 75/25 with seeds 1, 2 and 3 (validation_study.py's ``--seeds 1,2,3``). The
reference is ease at its three-split study's point (``ML100K_EASE``: λ 120, γ −0.3, δ 0.25, time term
W 10, c 1, EDLAE dropout 0.85), mean validation NDCG@10 over the three splits.

1. GF-CF's ideal low-pass filter (Shen et al. 2021, "How Powerful is Graph Convolution for
   Recommendation?"): the top-k right singular vectors V of R̃ = D_u^-½ R D_i^-½, the term
   r_u D_i^-½ V Vᵀ D_i^½; alone (GF-CF, α 0.3) and added to ease's per-user z-scores with weight w.
2. The time-adjacency term by seconds, not only positions: ease's pairs d ≤ W positions apart kept only
   within τ seconds ("cut"), weighted exp(−Δt/τ) ("exp"), or half of each ("mix"), τ 1 min … 1 h.

``--protocol mlls`` asks the same of issue 19's last open target (ml-latest-small, best default ≥ 1.8×
lightfm:bpr): the bundled data under ``compare``'s default implicit split (positives ≥ 4, 20% held out,
seed 42), its training part split again 80/20 with seeds 1, 2 and 3 (validation_study.py's ``--protocol
mlls --seeds 1,2,3``); the reference is ``ease`` with its class defaults. Rows: GF-CF and ease + low-pass
as above, and fixed-weight blends of the default models' per-user max-normalised scores (the
``ensemble``'s normalisation, without its weight search), a grid over the weights of slim, user-ease,
ials and rp3beta with ease's at 1: the most a blend of what we have can give, read on validation; and
whether *when* a user rated adds anything (:func:`timing`: a mask of movies first rated after the user's
last rating, and the popularity of movies while the user was rating, on ease and on the ensemble's blend),
and EDLAE's dropout on ease (:func:`dropout`). Three more levers on the start blend's bases (:func:`bagging`:
ials averaged over seeds; :func:`rank_fusion`: reciprocal rank fusion instead of score fusion;
:func:`large_ials`: ials at 512 and 1024 factors), each read twice in ``levers``: its best row (an upper
bound) and its setting chosen on two splits and read on the third (all three rotations). Then issue 19's
last three untried levers, each alone and as a fifth max-normalised term of the start blend at weights
0.1–1 (:func:`_fifth`): :func:`bspm`, BSPM (Choi et al. 2023, "Blurring-Sharpening Process Models for
Collaborative Filtering", SIGIR: GF-CF's blur and low-pass, then a sharpening ODE); :func:`linkprop`,
LinkProp and LinkProp-Multi (Fu et al. 2022, "Revisiting Neighborhood-based Link Prediction for
Collaborative Filtering", WWW '22 Companion: degree-normalised 3-hop paths); :func:`session`, items
co-rated within τ seconds by the same users, a base of its own (not ease's time term). BSPM and LinkProp
add little to the start blend's 0.1875 (best rows 0.1885 and 0.1879, upper bounds; chosen on two splits
0.1870 and 0.1863) and alone read below ease (0.1696, 0.1701). The session base (τ 60 s, by row) reads
0.1902 at best and 0.1892 chosen on two splits; in ``ensemble``'s own fit as a fifth base
(:func:`ensemble_session`) 0.1903 from start weight 0.5 against the defaults' 0.1879, 0.1894 with the
start weight chosen on two splits. τ 60 s joined its grid after a first look at all three splits (1 min to
1 day), so these flatter it somewhat; and 80% of the held-out positives were rated within 60 s of one of
the same user's training positives (:func:`_near_training`), which a random hold-out allows.
``--only bspm,linkprop,session,ensemble-session`` runs just these four against the recorded JSON and merges
their rows and levers in, leaving the others as they are (:func:`_merge_only`).

Three more, each read the same way (``--only uknn,popularity-term,sgfcf``, 129 s at load 1.9–3.5):
:func:`uknn`, user-based k-NN on binary positives (Herlocker et al. 1999; cosine, k 50/100/200, shrinkage
0/10, similarity^1/^2), alone at best 0.1658 (k 100, similarity²), chosen on two splits 0.1641, in the blend
at best the start blend itself (0.1875; its best fifth-term row 0.1874), chosen on two splits 0.1864;
:func:`popularity_term`, the start blend plus w · z(log(1 + popularity)), w −0.3 … 0.2: −0.1 reads 0.1859,
+0.1 0.1863, none above the blend's 0.1875, chosen on two splits 0.1860, so the bases already carry as much
popularity as the blend wants (popularity alone 0.1105); :func:`sgfcf`, SGFCF's generalised filter (Peng et
al. 2024, KDD; 24 settings placed after probes on the first split, see :data:`SGFCF_HIGH`), alone at best
0.1757 (k 64, α = β = 0.25, σ², + 0.3 all-frequency), chosen on two splits 0.1711, in the blend at best
0.1878 (weight 0.2), chosen on two splits 0.1869. None reaches stop 46's bar (chosen on two splits, +1.5% over
the start blend's 0.1875): each reads below the start blend and within +0.7% of the blend grid's 0.1857.

One more, the same way (``--only inf-ae``, 162 s at load 4–6): :func:`inf_ae`, ∞-AE (Sachdeva et al. 2022,
NeurIPS), kernel ridge regression over users with an infinitely wide autoencoder's NTK (depth 1 and 2,
ridge 0.3–100 × the kernel's mean diagonal), alone at best 0.1770 (depth 2, ridge 1: below ease's 0.1812),
in the blend at best the start blend itself (0.1875; its best fifth-term row 0.1872), chosen on two splits
0.1858. Since 2026-12-05 ease's class default has κ 20; these rows keep κ 0 (:func:`_create`), as they
were recorded and as ``ensemble``'s own ease base does.

One more, the same way (``--only higher-ease``, 433 s at load 3–6, 6.7 min of CPU; 10 s per setting and
split): :func:`higher_ease`, higher-order EASE (Steck & Liang 2021, RecSys), ease's defaults plus a linear
term in indicator features of the 1000, 4000 or 16000 movie pairs co-rated by the most users (by 19+, 12+,
7+ of the 610), λ_C 300–10⁴ (:data:`HIGHER_EASE_L2`, placed after probes), fitted by alternating exact ridge
solves with the paper's constraint on C kept exactly (:func:`_higher_ease_check`): alone at best 0.1814
(1000 pairs, λ_C 3000) against ease's 0.1812, chosen on two splits 0.1811; in the blend at best the start
blend itself (0.1875; its best fifth-term row 0.1872), chosen on two splits 0.1872. The pair term only
costs as λ_C falls (alone 0.1738 at 16000 pairs, λ_C 300): among 610 users a pair co-rated by 7–20 of
them is likely too thin a feature to learn from (the paper's gains were on ML-20M, Netflix and MSD, 10⁵ users
and more). Like the ∞-AE rows, these keep ease at κ 0; far below stop 46's bar.

One more, the same way (``--only ease-features``, 158 s at load 2.3–4.7): :func:`ease_features`, item side
information, collective EASE (ease's ``feature_weight`` c, item features as extra rows, κ 0 as the ensemble's
base) with features from the inner training part's item map, genres,tags,year / genres,tags / tags at c 1, 2,
3, 5, (a) as a fifth term of the start blend and (b) in place of its ease (weight 1), which is what
``ensemble`` would do were it given item features (its weight search not run). tags.csv's rows carry a
userId: 153, 170 and 166 of each split's 7,773 validation pairs (15–22 users) have a tag by their own user,
and a tag shared with the user's tags on training movies ties the two as the user's own row would, so each
is read also with those tag rows dropped, and with genres,year alone. Against the start blend's 0.1875,
chosen on two splits (best row, an upper bound): (a) 0.1867 (0.1880) with every tag, 0.1866 (0.1876) with
the held-out pairs' tags dropped, 0.1873 (0.1875, the blend itself) with genres,year; (b) 0.1903, +1.5%
(0.1908, genres,tags c 3) with every tag, 0.1892, +0.9% (0.1900) with the held-out pairs' tags dropped,
0.1875, +0.0% (0.1880) with genres,year. Only (b) with the leaking tags reaches stop 46's bar (+1.53%
against +1.5%); without them it does not. Alone, ease+features reads 0.1843 chosen on two splits (0.1849 best;
0.1841 with the tags dropped, genres,year 0.1820) against ease's 0.1812. No default changed.

One more, the same way (``--only transitions``, 30 s at load 1.1–3.6): :func:`transitions`, directed next-item
transitions (first-order Markov, Rendle et al. 2010) read as a cloze on the gaps a random hold-out leaves
(Sun et al. 2019): "sandwich" Σ P(i | a) · P(c | i) and "directional" Σ P(i | a) + P(prev = i | c) over the
user's consecutive training pairs (a, c), windows K 1–5 places (τ none, 600 s, 3600 s). Alone at best 0.1613
(directional, K 5, decay 0.7, within 3600 s); in the blend at best 0.1894 (that base at weight 0.5, an upper
bound), chosen on two splits 0.1863, below the start blend's 0.1875: the order of ratings adds nothing the
blend and the symmetric session base do not already carry. No default changed.

The near misses together (``--only combined``, 1735 s at load 3.3–9.6, 31 s per ensemble fit): :func:`combined`
switches on at once the levers that each came within ~1.5% alone, the session base (60 s, by row),
``weighting="rating"`` on ease, slim and rp3beta (at their defaults' λ and α), ials at 1.2 and ease given
genres and year (c 2; never tags). The start blend over 2 × 2 × 2 × 3 settings (weighting, features, ials 0.6
or 1.2, session 0/0.5/1) reads 0.1927 at best (all four on, session 1), 0.1911 chosen on two splits (+1.9% over
the blend's 0.1875; by split 0.2004, 0.1877, 0.1851). In ``ensemble``'s own fit, its defaults (0.1879, as
recorded) and 16 settings with the session base starting at 0.5 or 1: 0.1919 at best (rating, genres,year,
ials 0.6, session 0.5), 0.1899 chosen on two splits (+1.1% over the defaults; by split 0.1977, 0.1877,
0.1844), far from the 0.1950 (+3.8%) at which a default would have been worth reading on the test split.
Together they give about what the session base gives alone (0.1903, 0.1894 chosen on two splits). No
default changed.

The test part is never read. Until itemitem._topk_rows settled ties (2026-12-04) rp3beta kept its 200 largest weights
by ``np.argpartition``, which broke ties by the SIMD code numpy dispatches: ``--protocol mlls``'s rows were
recorded that way on AVX2 and read otherwise on AVX-512 (rp3beta alone 0.1654 against 0.1653; 6 of the first
106 rows move, by at most 0.00011 on one split), and ``NPY_DISABLE_CPU_FEATURES="AVX512_ICL X86_V4"``
reproduced them there. rp3beta now keeps the lowest columns of a tie on every machine, so a rerun's rows
with rp3beta may differ from the recorded ones by about that much, and no longer with the machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, ClassVar, Self, cast

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.linalg import svds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from movierec import metrics as M  # noqa: E402
from movierec.evaluation import relevant_matrix  # noqa: E402
from movierec.features import build_item_features  # noqa: E402
from movierec.models import ease as E  # noqa: E402
from movierec.models.itemitem import ItemItemModel  # noqa: E402
from movierec.models.registry import create  # noqa: E402
from movierec.models.weighting import weighted_csr  # noqa: E402
from movierec.scoring.ensemble import normalise_scores  # noqa: E402
from movierec.split import interactions_holdout, per_user_holdout  # noqa: E402
from validation_study import ML100K_EASE, ml100k_training_part  # noqa: E402


def _create(name: str, **params: Any) -> Any:
    """:func:`create`, with ease at κ 0 (``popularity_shrink``) unless given: the class default when these rows
    were recorded (κ 20 since 2026-12-05) and what ``ensemble``'s own ease base keeps, so a rerun reads
    the recorded splits and bases."""
    return create(name, **({"popularity_shrink": 0.0, **params} if name == "ease" else params))


def _ndcg(scores: np.ndarray, seen: sp.csr_matrix, rel: sp.csr_matrix) -> float:
    s = scores.astype(np.float64, copy=True)
    s[np.repeat(np.arange(seen.shape[0]), np.diff(seen.indptr)), seen.indices] = -np.inf
    top = np.argpartition(-s, 10, axis=1)[:, :10]
    recs = np.take_along_axis(top, np.take_along_axis(s, top, 1).argsort(1)[:, ::-1], 1)
    return float(M.ndcg(recs, rel, 10).mean())


def _z(scores: np.ndarray, seen: sp.csr_matrix) -> np.ndarray:
    s = scores.astype(np.float64, copy=True)
    s[np.repeat(np.arange(seen.shape[0]), np.diff(seen.indptr)), seen.indices] = np.nan
    s = (s - np.nanmean(s, 1, keepdims=True)) / (np.nanstd(s, 1, keepdims=True) + 1e-12)
    return np.nan_to_num(s, nan=0.0)


def _splits(train: Any, protocol: str = "ml100k") -> list[dict[str, Any]]:
    out = []
    for seed in (1, 2, 3):
        if protocol == "mlls":
            inner, valid = interactions_holdout(train, 0.2, seed)
        else:
            inner, valid = per_user_holdout(train, 0.25, seed=seed)
        inner = inner.to_implicit(1.0)
        rel = relevant_matrix(valid, None)
        users = np.flatnonzero(np.diff(rel.indptr) > 0)
        x = inner.csr().astype(np.float64)
        out.append({"inner": inner, "valid": valid, "users": users, "rel": rel[users], "x": x, "seen": x[users].tocsr()})  # fmt: skip
    return out


def _row(study: str, label: str, values: list[float], base: float) -> dict[str, Any]:
    mean = float(np.mean(values))
    print(f"{study:9s} {label:28s} {mean:.4f} ({mean / base - 1:+.2%})", flush=True)
    return {"study": study, "config": label, "ndcg@10": mean, "by split": values, "gain": mean / base - 1}


def low_pass(
    splits: list[dict[str, Any]], base: float, ease: dict[str, Any], ks: tuple[int, ...] = (64, 128, 256)
) -> list[dict[str, Any]]:
    rows = []
    for p in splits:
        p["ease_z"] = _z(np.asarray(_create("ease", **ease).fit(p["inner"]).score(p["users"])), p["seen"])
    for k in ks:
        gfcf, lps = [], []
        for p in splits:
            x, du, di = p["x"], np.asarray(p["x"].sum(1)).ravel(), np.asarray(p["x"].sum(0)).ravel()
            d_i = np.maximum(di, 1.0)
            rt = sp.diags(1 / np.sqrt(np.maximum(du, 1.0))) @ x @ sp.diags(1 / np.sqrt(d_i))
            _, _, vt = svds(rt, k=k)
            xu = x[p["users"]]
            lp = np.asarray(xu @ sp.diags(1 / np.sqrt(d_i)) @ vt.T) @ (vt * np.sqrt(d_i))
            linear = np.asarray((xu @ (rt.T @ rt)).todense())
            gfcf.append(_ndcg(linear + 0.3 * lp, p["seen"], p["rel"]))
            lps.append(_z(lp, p["seen"]))
        rows.append(_row("low-pass", f"GF-CF alone, k {k}", gfcf, base))
        for w in (0.1, 0.2, 0.3, 0.5):
            values = [
                _ndcg(p["ease_z"] + w * z, p["seen"], p["rel"]) for p, z in zip(splits, lps, strict=True)
            ]
            rows.append(_row("low-pass", f"ease + {w} x low-pass, k {k}", values, base))
    return rows


def _seconds_adjacency(kind: str, tau: float) -> Any:
    """ease's time_adjacency, its 1/d pair weights also weighted by the seconds between the two ratings."""

    def adjacency(users, items, timestamps, n_items, window, user_weights=None):  # type: ignore[no-untyped-def]
        order = np.lexsort((items, timestamps, users))
        u_s, i_s, t_s = users[order], items[order], timestamps[order].astype(np.int64)
        rows, cols, vals = [], [], []
        for d in range(1, int(window) + 1):
            same = u_s[d:] == u_s[:-d]
            dt = (t_s[d:] - t_s[:-d])[same]
            by_time = {"cut": dt <= tau, "exp": np.exp(-dt / tau), "mix": (1.0 + (dt <= tau)) / 2}[kind]
            w = by_time / d * (1.0 if user_weights is None else user_weights[u_s[d:][same]])
            a, b = i_s[:-d][same], i_s[d:][same]
            rows += [a, b]
            cols += [b, a]
            vals += [w, w]
        t = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), (n_items, n_items)
        )
        t.sum_duplicates()
        return t

    return adjacency


def seconds(splits: list[dict[str, Any]], base: float) -> list[dict[str, Any]]:
    rows, plain = [], E.time_adjacency
    try:
        for kind, taus in (("cut", (60, 600, 3600)), ("exp", (60, 600, 3600)), ("mix", (60, 600))):
            for tau in taus:
                E.time_adjacency = _seconds_adjacency(kind, tau)  # what EASE._fit calls for its time term
                for window, c in ((10, 1.0), (10, 2.0), (20, 1.0), (20, 2.0)):
                    params = {**ML100K_EASE, "time_window": window, "time_weight": c}
                    values = []
                    for p in splits:
                        model = _create("ease", **params).fit(p["inner"])
                        values.append(_ndcg(np.asarray(model.score(p["users"])), p["seen"], p["rel"]))
                    rows.append(_row("seconds", f"{kind} tau {tau}s, W {window}, c {c}", values, base))
    finally:
        E.time_adjacency = plain
    return rows


#: the default models a fixed blend may weigh (each at its class defaults), ease first at weight 1
BLEND_BASES = ("ease", "slim", "user-ease", "ials", "rp3beta")
BLEND_GRID = {
    "slim": (0.0, 0.5, 1.0),
    "user-ease": (0.0, 0.3, 0.6),
    "ials": (0.0, 0.3, 0.6),
    "rp3beta": (0.0, 0.2),
}


def blends(splits: list[dict[str, Any]], base: float) -> list[dict[str, Any]]:
    """Every weight combination of :data:`BLEND_GRID` (ease at 1) over max-normalised default scores."""
    for p in splits:
        p["norm"] = {
            name: normalise_scores(
                np.asarray(_create(name).fit(p["inner"]).score(p["users"])), p["seen"], "max"
            )
            for name in BLEND_BASES
        }
    rows = [_row("single", name, [_ndcg(p["norm"][name], p["seen"], p["rel"]) for p in splits], base)
            for name in BLEND_BASES[1:]]  # fmt: skip
    names = list(BLEND_GRID)
    for weights in itertools.product(*(BLEND_GRID[n] for n in names)):
        if not any(weights):
            continue
        w = dict(zip(names, weights, strict=True))
        values = [
            _ndcg(p["norm"]["ease"] + sum(w[n] * p["norm"][n] for n in names if w[n]), p["seen"], p["rel"])
            for p in splits
        ]
        label = "ease 1 + " + ", ".join(f"{n} {v:g}" for n, v in w.items() if v)
        rows.append(_row("blend", label, values, base))
    return rows


YEAR = 365.25 * 86400.0
#: the default ensemble's start weights (models.ensemble.DEFAULT_START_WEIGHTS), over max-normalised scores
ENSEMBLE_START = {"ease": 1.0, "slim": 0.5, "ials": 0.6, "rp3beta": 0.2}


def _era_popularity(inner: Any, users: np.ndarray, width: float, bins: int = 120) -> np.ndarray:
    """log(1 + Σ_t K(t) · ratings of i in time bin t), K the user's own activity over time smoothed by a
    Gaussian of ``width`` years: how popular each movie was while the user was rating."""
    ts = inner.timestamps.astype(np.float64) / YEAR
    lo, hi = ts.min(), ts.max() + 1e-9
    b = np.clip(((ts - lo) / (hi - lo) * bins).astype(int), 0, bins - 1)
    by_bin = np.zeros((bins, inner.n_items))
    np.add.at(by_bin, (b, inner.items), 1.0)
    activity = np.zeros((inner.n_users, bins))
    np.add.at(activity, (inner.users, b), 1.0)
    centre = np.arange(bins) * (hi - lo) / bins
    kernel = np.exp(-0.5 * ((centre[:, None] - centre[None, :]) / width) ** 2)
    return np.log1p((activity @ kernel)[users] @ by_bin)


def timing(splits: list[dict[str, Any]], base: float) -> list[dict[str, Any]]:
    """Does *when* a user rated add to what they rated (ml-latest-small spans 1996–2018)?

    1. A feasibility mask: a movie whose first training rating (by anyone) comes more than ``slack``
       years after the user's last training rating is left out of their list.
    2. Era popularity (:func:`_era_popularity`) added to ease's per-user z-scores with weight w.
    3. The same added to the default ensemble's start blend (max-normalised, :data:`ENSEMBLE_START`;
       needs :func:`blends` first, which fits the bases).
    """
    rows = []
    for p in splits:
        inner = p["inner"]
        first = np.full(inner.n_items, np.iinfo(np.int64).max)
        np.minimum.at(first, inner.items, inner.timestamps)
        last = np.full(inner.n_users, np.iinfo(np.int64).min)
        np.maximum.at(last, inner.users, inner.timestamps)
        p["late"] = lambda slack, first=first, last=last, users=p["users"]: (
            first[None, :] > last[users][:, None] + slack * YEAR
        )
        p["ease_raw"] = np.asarray(_create("ease").fit(inner).score(p["users"]), dtype=np.float64)
        p["ease_z"] = _z(p["ease_raw"], p["seen"])
    for slack in (0.0, 0.25, 1.0, 2.0, 5.0):
        values = [_ndcg(np.where(p["late"](slack), -1e9, p["ease_raw"]), p["seen"], p["rel"]) for p in splits]
        rows.append(_row("timing", f"ease, movies first rated > {slack:g} y after the user's last left out", values, base))  # fmt: skip
    for width in (0.25, 1.0, 3.0):
        eras = [_z(_era_popularity(p["inner"], p["users"], width), p["seen"]) for p in splits]
        for w in (0.05, 0.1, 0.2, 0.3):
            values = [
                _ndcg(p["ease_z"] + w * e, p["seen"], p["rel"]) for p, e in zip(splits, eras, strict=True)
            ]
            rows.append(_row("timing", f"ease + {w} x era popularity ({width:g} y)", values, base))
    start = [sum(v * p["norm"][n] for n, v in ENSEMBLE_START.items()) for p in splits]
    rows.append(_row("timing", "ensemble start blend", [_ndcg(b, p["seen"], p["rel"]) for p, b in zip(splits, start, strict=True)], base))  # fmt: skip
    eras = [normalise_scores(_era_popularity(p["inner"], p["users"], 0.25), p["seen"], "max") for p in splits]
    for w in (0.05, 0.1, 0.2, 0.3, 0.5):
        values = [_ndcg(b + w * e, p["seen"], p["rel"]) for p, b, e in zip(splits, start, eras, strict=True)]
        rows.append(_row("timing", f"ensemble start blend + {w} x era popularity (0.25 y)", values, base))
    return rows


def dropout(splits: list[dict[str, Any]], base: float) -> list[dict[str, Any]]:
    """ease with EDLAE's emphasised dropout (Steck 2020, "Autoencoders that don't overfit towards the
    Identity"; it helped on ml-100k, ``ML100K_EASE``), p 0.1–0.75 with λ 5–50 (its penalty adds
    p/(1−p)·diag(XᵀX), so λ moves down with it)."""
    rows = []
    for p_drop in (0.1, 0.25, 0.5, 0.75):
        for l2 in (5, 15, 30, 50):
            values = [
                _ndcg(np.asarray(_create("ease", dropout=p_drop, l2=l2).fit(p["inner"]).score(p["users"])), p["seen"], p["rel"])
                for p in splits
            ]  # fmt: skip
            rows.append(_row("dropout", f"ease dropout {p_drop}, l2 {l2}", values, base))
    return rows


def _cross_fit(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A lever's setting read honestly: each split scored by the row best on the other splits (as
    bench_results.cross_fitted reads the blend grid); the mean, the per-split values and the picks."""
    n = len(rows[0]["by split"])
    picks = [max(rows, key=lambda r: float(np.mean([r["by split"][i] for i in range(n) if i != s])))
             for s in range(n)]  # fmt: skip
    values = [pick["by split"][s] for s, pick in enumerate(picks)]
    return {"ndcg@10": float(np.mean(values)), "by split": values, "picked": [p["config"] for p in picks]}


def _lever(name: str, rows: list[dict[str, Any]], grid: list[dict[str, Any]], base: float) -> dict[str, Any]:
    """A lever's two figures: its best row (an upper bound: chosen on the splits it is read on) and its
    setting chosen on two splits and read on the third, among its own rows and, beside them, among the blend
    grid's rows (``grid``: blend, single and ease, whose cross-fitted reading is the reference 0.1857)."""
    best = max(rows, key=lambda r: r["ndcg@10"])
    own, menu = _cross_fit(rows), _cross_fit(grid + rows)
    print(f"lever     {name:28s} best {best['ndcg@10']:.4f} ({best['config']}); chosen on two splits "
          f"{own['ndcg@10']:.4f} ({own['ndcg@10'] / base - 1:+.2%}), with the blend grid {menu['ndcg@10']:.4f}",
          flush=True)  # fmt: skip
    return {
        "lever": name,
        "rows": [r["config"] for r in rows],
        "best": {k: best[k] for k in ("config", "ndcg@10", "by split", "gain")},
        "chosen on two splits": {**own, "gain": own["ndcg@10"] / base - 1},
        "with the blend grid, chosen on two splits": {**menu, "gain": menu["ndcg@10"] / base - 1},
    }


def _start_blend(p: dict[str, Any], ials: np.ndarray | None = None, weight: float = 0.6) -> np.ndarray:
    """The default ensemble's start blend (:data:`ENSEMBLE_START`, max-normalised) on split ``p``, with
    ``ials`` (max-normalised scores) at ``weight`` in place of the default ials when given."""
    w = {**ENSEMBLE_START, "ials": weight}  # summed in timing's order, so the default reads bit for bit alike
    return sum(w[n] * (p["norm"][n] if n != "ials" or ials is None else ials) for n in ENSEMBLE_START)  # type: ignore[return-value]


#: ials seeds bagged (the default's own, 42, first): a bag of k is the mean raw score of the first k
BAG_SEEDS = (42, 1, 2, 3, 4)


def bagging(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """ials averaged over 3 and 5 seeds, alone and in the start blend (needs :func:`blends`). slim has no
    seed (coordinate descent in a fixed order): two fits of it are compared to say so."""
    again = normalise_scores(np.asarray(_create("slim").fit(splits[0]["inner"]).score(splits[0]["users"])), splits[0]["seen"], "max")  # fmt: skip
    slim_diff = float(np.abs(again - splits[0]["norm"]["slim"]).max())
    print(f"bagging   slim refitted on split 1: max |difference| of its scores {slim_diff:g}", flush=True)
    raw: list[list[np.ndarray]] = []
    for p in splits:
        raw.append([np.asarray(_create("ials", random_state=s).fit(p["inner"]).score(p["users"]), dtype=np.float64) for s in BAG_SEEDS])  # fmt: skip
        assert np.array_equal(
            normalise_scores(raw[-1][0], p["seen"], "max"), p["norm"]["ials"]
        )  # seed 42 is the default
    rows = [_row("bagging", f"ials, seed {s}", [_ndcg(r[j], p["seen"], p["rel"]) for p, r in zip(splits, raw, strict=True)], base)
            for j, s in enumerate(BAG_SEEDS)]  # fmt: skip
    alone, blended = [rows[0]], [_row("bagging", "start blend", [_ndcg(_start_blend(p), p["seen"], p["rel"]) for p in splits], base)]  # fmt: skip
    for k in (1, 3, 5):  # k 1: the default ials at a higher weight, the control for the bags' weights
        bags = [np.mean(r[:k], axis=0) for r in raw]
        if k > 1:
            alone.append(_row("bagging", f"ials, mean of {k} seeds", [_ndcg(b, p["seen"], p["rel"]) for p, b in zip(splits, bags, strict=True)], base))  # fmt: skip
        norms = [normalise_scores(b, p["seen"], "max") for p, b in zip(splits, bags, strict=True)]
        for w in (0.6, 0.8, 1.0, 1.2)[k == 1 :]:
            values = [_ndcg(_start_blend(p, nb, w), p["seen"], p["rel"]) for p, nb in zip(splits, norms, strict=True)]  # fmt: skip
            what = "ials seed 42" if k == 1 else f"ials mean of {k} seeds"
            blended.append(_row("bagging", f"start blend, {what} at {w:g}", values, base))
    levers = [{**_lever("ials bagged, alone", alone, grid, base), "slim max |difference| between two fits": slim_diff},
              _lever("ials weight, in the start blend", blended[:4], grid, base),
              _lever("ials bagged, in the start blend", blended, grid, base)]  # fmt: skip
    return rows[1:] + alone[1:] + blended, levers


def _ranks(scores: np.ndarray, seen: sp.csr_matrix) -> np.ndarray:
    """1-based rank of every item in each user's list, the user's seen items last (ties: item order)."""
    s = scores.astype(np.float64, copy=True)
    s[np.repeat(np.arange(seen.shape[0]), np.diff(seen.indptr)), seen.indices] = -np.inf
    order = np.argsort(-s, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1, s.shape[1] + 1), order.shape), axis=1)
    return ranks


def rank_fusion(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """Reciprocal rank fusion (Cormack, Clarke & Büttcher 2009): Σ_b w_b / (k + rank_b(i)) over the start
    blend's four bases, equal weights or the start weights, k 10 and 60, against the start blend's
    max-normalised score fusion (needs :func:`blends`)."""
    ranks = [{n: _ranks(p["norm"][n], p["seen"]) for n in ENSEMBLE_START} for p in splits]
    rows = [_row("rrf", "start blend (max-normalised scores)", [_ndcg(_start_blend(p), p["seen"], p["rel"]) for p in splits], base)]  # fmt: skip
    for weighted in (False, True):
        for k in (10, 60):
            values = [
                _ndcg(cast(np.ndarray, sum((v if weighted else 1.0) / (k + r[n]) for n, v in ENSEMBLE_START.items())), p["seen"], p["rel"])
                for p, r in zip(splits, ranks, strict=True)
            ]  # fmt: skip
            label = f"{'weighted RRF (start weights)' if weighted else 'RRF'}, k {k}"
            rows.append(_row("rrf", label, values, base))
    return rows, [_lever("rank fusion", rows, grid, base)]


#: iALS past the validation grid's 256 factors (Rendle et al. 2022: larger d, λ and α₀ retuned with it):
#: (factors, α₀, λ), each fitted 16 epochs and read at 8 and 16; 256 (the default point) anchors the grid.
#: λ was placed by probes on the first split: at 512 and 16 epochs, λ 0.015, 0.02, 0.03 read 0.171, 0.155, 0.125 there
LARGE_IALS = ((256, 0.2, 0.01), (512, 0.2, 0.006), (512, 0.2, 0.008), (512, 0.2, 0.01), (512, 0.2, 0.012),
              (512, 0.15, 0.01), (1024, 0.2, 0.006), (1024, 0.2, 0.008), (1024, 0.2, 0.01))  # fmt: skip
LARGE_EPOCHS = (8, 16)


def large_ials(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """ials at 512 and 1024 factors (:data:`LARGE_IALS`), alone and in place of the default ials in the start
    blend (needs :func:`blends`); each fit is read during training (``on_epoch``) at :data:`LARGE_EPOCHS`."""
    alone: list[dict[str, Any]] = []
    blended: list[dict[str, Any]] = []
    for factors, a0, lam in LARGE_IALS:
        got: dict[int, list[tuple[float, float]]] = {e: [] for e in LARGE_EPOCHS}
        for j, p in enumerate(splits):
            tic = time.perf_counter()
            model = _create("ials", factors=factors, alpha0=a0, regularization=lam, epochs=max(LARGE_EPOCHS))

            def read(
                epoch: int,
                _record: dict[str, float],
                p: dict[str, Any] = p,
                model: Any = model,
                got: Any = got,
            ) -> None:
                if epoch in got:
                    s = np.asarray(model.score(p["users"]), dtype=np.float64)
                    blend = _start_blend(p, normalise_scores(s, p["seen"], "max"))
                    got[epoch].append((_ndcg(s, p["seen"], p["rel"]), _ndcg(blend, p["seen"], p["rel"])))

            model.fit(p["inner"], on_epoch=read)
            print(f"ials-large fit {factors} factors, α0 {a0:g}, λ {lam:g}, split {j + 1}: {time.perf_counter() - tic:.0f} s", flush=True)  # fmt: skip
        for e, pairs in got.items():
            label = f"ials {factors} factors, α0 {a0:g}, λ {lam:g}, {e} epochs"
            alone.append(_row("ials-large", label, [a for a, _ in pairs], base))
            blended.append(_row("ials-large", f"start blend, {label}", [b for _, b in pairs], base))
    default = next(r for r in grid if r["config"] == "ials")
    assert alone[0]["by split"] == default["by split"], (
        "the grid's anchor (256, 8 epochs) is the default ials"
    )
    return alone + blended, [_lever("ials larger, alone", alone, grid, base),
                             _lever("ials larger, in the start blend", blended, grid, base)]  # fmt: skip


#: the weights a fifth base gets beside the start blend's four (max-normalised like them)
FIFTH_WEIGHTS = (0.1, 0.2, 0.3, 0.5, 1.0)


def _fifth(study: str, name: str, settings: Any, splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """A candidate base read alone and as a fifth term of the start blend (needs the bases' ``norm``).

    ``settings`` yields ``(label, scores)``, ``scores`` one raw users × items array per split, made lazily
    so that only one setting's arrays are held at a time; every setting is read alone and at each of
    :data:`FIFTH_WEIGHTS` over its max-normalised scores. Two levers: alone, and in the blend beside the
    start blend itself (weight 0). The mean seconds a setting took per split are kept with them."""
    alone: list[dict[str, Any]] = []
    starts = [_start_blend(p) for p in splits]
    blended = [_row(study, "start blend", [_ndcg(s, p["seen"], p["rel"]) for p, s in zip(splits, starts, strict=True)], base)]  # fmt: skip
    seconds: list[float] = []
    tic = time.perf_counter()
    for label, scores in settings:
        seconds.append((time.perf_counter() - tic) / len(splits))
        alone.append(_row(study, label, [_ndcg(s, p["seen"], p["rel"]) for p, s in zip(splits, scores, strict=True)], base))  # fmt: skip
        norms = [normalise_scores(s, p["seen"], "max") for p, s in zip(splits, scores, strict=True)]
        for w in FIFTH_WEIGHTS:
            values = [
                _ndcg(b + w * n, p["seen"], p["rel"]) for p, b, n in zip(splits, starts, norms, strict=True)
            ]
            blended.append(_row(study, f"start blend + {w:g} x {label}", values, base))
        tic = time.perf_counter()
    per_fit = round(float(np.mean(seconds)), 3)
    print(f"{study:9s} {per_fit} s per setting and split", flush=True)
    levers = [{**_lever(f"{name}, alone", alone, grid, base), "study": study, "seconds per fit": per_fit},
              {**_lever(f"{name}, in the start blend", blended, grid, base), "study": study, "seconds per fit": per_fit}]  # fmt: skip
    return alone + blended, levers


def _inverse_power(degree: np.ndarray, exponent: float) -> np.ndarray:
    """degree^-exponent, 0 where the degree is 0 (an item nobody has, a user with nothing)."""
    out = np.zeros(degree.shape, dtype=np.float64)
    out[degree > 0] = degree[degree > 0] ** -exponent
    return out


#: BSPM's grid: (factors of the ideal low-pass, its weight β) × (sharpening time T, steps K, solver, early
#: merge); T 0 is no sharpening, i.e. GF-CF with weight β (the blur's one Euler step is R̃ᵀR̃ itself)
BSPM_FILTERS = ((64, 0.2), (64, 0.3), (256, 0.2), (256, 0.3))
BSPM_SOLVES = ((0.0, 1, "euler", False), (1.0, 1, "euler", False), (1.0, 1, "euler", True),
               (2.5, 5, "euler", False), (2.5, 5, "euler", True), (2.5, 1, "rk4", False), (2.5, 1, "rk4", True))  # fmt: skip


def _bspm_settings(splits: list[dict[str, Any]]) -> Any:
    """BSPM's scores (Choi, Hong, Lee, Choi & Park 2023, "Blurring-Sharpening Process Models for
    Collaborative Filtering", SIGIR) for every point of :data:`BSPM_FILTERS` × :data:`BSPM_SOLVES`.

    R̃ = D_u^-½ R D_i^-½ and P̃ = R̃ᵀR̃. Blurring: one Euler step of dr/dt = r(P̃ − I) from a user's row r,
    which is r P̃, plus the ideal low-pass β r D_i^-½ V Vᵀ D_i^½ (V: R̃'s top right singular vectors).
    Sharpening: dr/dt = −r P̃ from that sum over time T, in K Euler steps or one classical Runge-Kutta step
    (the authors' solver); the early merge averages the blurred r P̃ with every sharpened state past t 0.
    P̃ is never formed: r P̃ is (r R̃ᵀ) R̃, two products with the sparse R̃."""
    pre = []
    for p in splits:
        x, users = p["x"], p["users"]
        d_i = np.asarray(x.sum(0)).ravel()
        rt = (sp.diags(_inverse_power(np.asarray(x.sum(1)).ravel(), 0.5)) @ x @ sp.diags(_inverse_power(d_i, 0.5))).tocsr()  # fmt: skip
        xu = x[users]
        low = {}
        for k in sorted({k for k, _ in BSPM_FILTERS}):
            _, _, vt = svds(rt, k=k)
            low[k] = np.asarray(xu @ sp.diags(_inverse_power(d_i, 0.5)) @ vt.T) @ (vt * np.sqrt(d_i))
        pre.append((rt, np.asarray((rt.T @ (rt @ xu.T)).T.todense()), low))

    def filtered(rt: sp.csr_matrix, r: np.ndarray) -> np.ndarray:
        return np.asarray(rt.T @ np.asarray(rt @ r.T)).T

    for (k, beta), (horizon, steps, solver, merge) in itertools.product(BSPM_FILTERS, BSPM_SOLVES):
        if horizon == 0 and merge:
            continue
        scores = []
        for rt, blurred, low in pre:
            r, states, h = blurred + beta * low[k], [], horizon / steps
            for _ in range(steps if horizon else 0):
                if solver == "euler":
                    r = r - h * filtered(rt, r)
                else:  # dr/dt = −r P̃ is linear: one RK4 step is r (I − hP̃ + (hP̃)²/2 − (hP̃)³/6 + (hP̃)⁴/24)
                    a1 = filtered(rt, r)
                    a2 = filtered(rt, a1)
                    a3 = filtered(rt, a2)
                    r = r - h * a1 + h**2 / 2 * a2 - h**3 / 6 * a3 + h**4 / 24 * filtered(rt, a3)
                states.append(r)
            scores.append(np.mean([blurred, *states], axis=0) if merge else r)
        what = "GF-CF (no sharpening)" if horizon == 0 else f"T {horizon:g} in {steps} {solver} step{'s' * (steps > 1)}{', early merge' * merge}"  # fmt: skip
        yield f"BSPM k {k}, beta {beta:g}, {what}", scores


def bspm(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """BSPM (:func:`_bspm_settings`) alone and as a fifth base of the start blend (:func:`_fifth`)."""
    return _fifth("bspm", "BSPM", _bspm_settings(splits), splits, base, grid)


#: LinkProp's exponents (β, γ, δ); α scales a user's whole row, which neither a ranking nor the blend's
#: per-user max-normalisation sees. LinkProp-Multi at (0.5, 0.5, 0.5): degrees updated once with the top
#: n predicted links of every user, n in LINKPROP_MULTI
LINKPROP_GRID = tuple(itertools.product((0.25, 0.5, 0.75), (0.25, 0.5, 0.75), (0.25, 0.5)))
LINKPROP_MULTI = (1, 3, 10)


def _linkprop_settings(splits: list[dict[str, Any]]) -> Any:
    """LinkProp's scores (Fu, Poirson, Lee & Wang 2022, "Revisiting Neighborhood-based Link Prediction for
    Collaborative Filtering", WWW '22 Companion): the sum over every path u → i' → u' → i of
    1 / (d_i'^β d_u'^γ d_i^δ), i.e. r_u D_i^-β Rᵀ D_u^-γ R D_i^-δ (through the small users × users
    product). LinkProp-Multi's iterative degree update, one round: every user's top n new links from the
    first pass are added to the degrees (not to the paths), and the score is computed again with them."""

    def propagate(x: sp.csr_matrix, rows: sp.csr_matrix, d_u: np.ndarray, d_i: np.ndarray, b: float, g: float, d: float) -> np.ndarray:  # fmt: skip
        via = np.asarray((rows @ sp.diags(_inverse_power(d_i, b)) @ x.T).todense()) * _inverse_power(d_u, g)
        return np.asarray(x.T @ via.T).T * _inverse_power(d_i, d)

    degrees = [(np.asarray(p["x"].sum(1)).ravel(), np.asarray(p["x"].sum(0)).ravel()) for p in splits]
    for b, g, d in LINKPROP_GRID:
        scores = [propagate(p["x"], p["x"][p["users"]], du, di, b, g, d) for p, (du, di) in zip(splits, degrees, strict=True)]  # fmt: skip
        yield f"LinkProp beta {b:g}, gamma {g:g}, delta {d:g}", scores
    for n in LINKPROP_MULTI:
        scores = []
        for p, (du, di) in zip(splits, degrees, strict=True):
            every = propagate(p["x"], p["x"], du, di, 0.5, 0.5, 0.5)
            every[p["x"].nonzero()] = -np.inf
            top = np.argpartition(-every, n, axis=1)[:, :n]
            new = np.take_along_axis(every, top, 1) > 0
            scores.append(propagate(p["x"], p["x"][p["users"]], du + new.sum(1), di + np.bincount(top[new], minlength=di.size), 0.5, 0.5, 0.5))  # fmt: skip
        yield f"LinkProp-Multi (0.5, 0.5, 0.5), top {n} new links per user", scores


def linkprop(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """LinkProp and LinkProp-Multi (:func:`_linkprop_settings`) alone and as a fifth base (:func:`_fifth`)."""
    return _fifth("linkprop", "LinkProp", _linkprop_settings(splits), splits, base, grid)


#: the session base's grid: τ, the most seconds between two ratings of a pair, × the normalisation
SESSION_TAUS = (60, 300, 600, 3600, 86400)
SESSION_NORMS: tuple[str | float, ...] = ("cosine", 0.0, 0.25)


def _co_rated(inner: Any, tau: float) -> sp.csr_matrix:
    """Items × items: how many users rated both items within ``tau`` seconds of each other (diagonal 0)."""
    order = np.lexsort((inner.items, inner.timestamps, inner.users))
    users, items, ts = inner.users[order], inner.items[order], inner.timestamps[order].astype(np.int64)
    rows, cols, d = [], [], 1
    while (near := (users[d:] == users[:-d]) & (ts[d:] - ts[:-d] <= tau)).any():  # d places apart in time
        rows += [items[:-d][near], items[d:][near]]
        cols += [items[d:][near], items[:-d][near]]
        d += 1
    r, c = np.concatenate(rows), np.concatenate(cols)
    pairs = sp.csr_matrix((np.ones(r.size), (r, c)), shape=(inner.n_items, inner.n_items))
    pairs.sum_duplicates()
    return pairs


def _session_settings(splits: list[dict[str, Any]]) -> Any:
    """A session co-occurrence base: C_ij counts the users who rated i and j within τ seconds of each other
    (item-to-item co-occurrence within a session, as in session-based kNN: Ludewig & Jannach 2018,
    "Evaluation of session-based recommendation algorithms"), normalised by cosine C_ij / √(n_i n_j) (n:
    the item's positives) or by row, C_ij / Σ_k C_ik · n_j^-ρ (ρ the popularity exponent); a user's
    scores are x_u S. Unlike ease's time term, which adds such pairs into EASE's Gram matrix, this is a
    base of its own."""
    for tau in SESSION_TAUS:
        pairs = [_co_rated(p["inner"], tau) for p in splits]
        for norm in SESSION_NORMS:
            scores = []
            for p, c in zip(splits, pairs, strict=True):
                n = np.asarray(p["x"].sum(0)).ravel()
                if norm == "cosine":
                    s = sp.diags(_inverse_power(n, 0.5)) @ c @ sp.diags(_inverse_power(n, 0.5))
                else:
                    s = sp.diags(_inverse_power(np.asarray(c.sum(1)).ravel(), 1.0)) @ c @ sp.diags(_inverse_power(n, float(norm)))  # fmt: skip
                scores.append(np.asarray((p["x"][p["users"]] @ s).todense()))
            how = "cosine" if norm == "cosine" else f"by row, popularity^-{norm:g}"
            yield f"co-rated within {tau} s, {how}", scores


def _near_training(p: dict[str, Any], tau: float) -> float:
    """The share of split ``p``'s held-out positives rated within ``tau`` seconds of one of the same user's
    training positives: what a random hold-out leaves for a session base to find."""
    inner, valid = p["inner"], p["valid"]
    order = np.lexsort((inner.timestamps, inner.users))
    users, ts = inner.users[order].astype(np.int64), inner.timestamps[order].astype(np.int64)
    span = int(max(ts.max(), valid.timestamps.max())) + 1
    key = users * span + ts  # one sorted key: user first, then time
    probe = valid.users.astype(np.int64) * span + valid.timestamps.astype(np.int64)
    at = np.searchsorted(key, probe)
    gap = np.full(probe.size, np.inf)
    for side in (at - 1, at):
        ok = (side >= 0) & (side < key.size)
        same = np.zeros(probe.size, dtype=bool)
        same[ok] = users[side[ok]] == valid.users[ok]
        gap[same] = np.minimum(gap[same], np.abs(ts[side[same]] - valid.timestamps[same].astype(np.int64)))
    return float(np.mean(gap <= tau))


def session(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """The session co-occurrence base (:func:`_session_settings`) alone and as a fifth base (:func:`_fifth`),
    with the share of held-out positives rated within 60 s of a training positive (:func:`_near_training`)."""
    rows, levers = _fifth("session", "session co-occurrence", _session_settings(splits), splits, base, grid)
    near = [_near_training(p, 60) for p in splits]
    print(f"session   held-out positives within 60 s of a training positive: {[round(v, 3) for v in near]}", flush=True)  # fmt: skip
    return rows, [{**lv, "held-out positives within 60 s of a training positive": near} for lv in levers]


class SessionCooccurrence(ItemItemModel):
    """:func:`_session_settings`' base as an implicit model (scores X_u S over the active items), so that
    ``ensemble``'s own fit can take it as a fifth base; registered by :func:`ensemble_session` for the
    length of that study only, never in the package."""

    name: ClassVar[str] = "session-cooc"
    tau: float = 60.0
    rho: float = 0.0
    norm: str = "row"

    def _fit(self, train: Any) -> Self:
        x = weighted_csr(train, self.weighting, self.half_life_days)
        active = np.flatnonzero(np.diff(x.tocsc().indptr) > 0)
        pairs, n = _co_rated(train, self.tau), np.asarray(x.sum(0)).ravel()
        if self.norm == "cosine":
            s = sp.diags(_inverse_power(n, 0.5)) @ pairs @ sp.diags(_inverse_power(n, 0.5))
        else:
            s = sp.diags(_inverse_power(np.asarray(pairs.sum(1)).ravel(), 1.0)) @ pairs @ sp.diags(_inverse_power(n, self.rho))  # fmt: skip
        self._remember_train(train)
        self.user_items_ = sp.csr_matrix(x, dtype=np.float32)
        self.active_items_ = active
        self.weights_ = sp.csr_matrix(sp.csr_matrix(s)[active][:, active], dtype=np.float32)
        return self


#: the fifth base's start weights tried in ``ensemble``'s own fit (0: only its weight search may add it)
ENSEMBLE_SESSION_STARTS = (0.0, 0.3, 0.5, 1.0)


def ensemble_session(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """``ensemble`` itself (its hold-out weight search inside fit, then the refit), at its defaults and with
    the session base (60 s, by row, the best of :func:`session`'s blend rows) as a fifth base starting at
    each of :data:`ENSEMBLE_SESSION_STARTS`, the other four at :data:`ENSEMBLE_START`; read on each split.
    The lever's "chosen on two splits" picks the start weight (or the defaults) on two splits."""
    from movierec.models import registry
    from movierec.models.ensemble import DEFAULT_BASES

    registry.MODELS["session-cooc"] = (__name__, "SessionCooccurrence", None)
    # the default bases' own parameters (ease at κ 0), as its "defaults" row has them: a rerun reads the recorded rows
    fifth: dict[str, dict[str, Any]] = {
        **{n: dict(DEFAULT_BASES.get(n, {})) for n in ENSEMBLE_START},
        "session-cooc": {},
    }
    variants: dict[str, dict[str, Any]] = {"ensemble (defaults)": {}}
    for w in ENSEMBLE_SESSION_STARTS:
        label = f"ensemble + session co-occurrence (60 s, by row), start weight {w:g}"
        variants[label] = {"bases": fifth, "start_weights": {**ENSEMBLE_START, "session-cooc": w}}
    try:
        rows, per_fit = _ensemble_fits(
            "ensemble-session", {k: (v, None) for k, v in variants.items()}, splits, base
        )
    finally:
        del registry.MODELS["session-cooc"]
    print(f"ensemble-session {per_fit} s per ensemble fit", flush=True)
    lever = _lever("session co-occurrence, in ensemble's own fit", rows, grid, base)
    return rows, [{**lever, "study": "ensemble-session", "seconds per fit": per_fit}]


#: user k-NN's grid: neighbours k × shrinkage (added to the cosine's denominator) × exponent on the similarity
UKNN_KS = (50, 100, 200)
UKNN_SHRINKS = (0.0, 10.0)
UKNN_POWERS = (1.0, 2.0)


def _uknn_settings(splits: list[dict[str, Any]]) -> Any:
    """User-based k-NN on binary positives (Herlocker, Konstan, Borchers & Riedl 1999, "An Algorithmic
    Framework for Performing Collaborative Filtering", SIGIR; Sarwar et al. 2001 for the item-based twin):
    s_uv = x_u·x_v / (|x_u| |x_v| + shrink), the user's own row excluded; a user's score for i is
    Σ_v s_uv^p x_vi over their k most similar users. The users × users product is small (610 users)."""
    sims = []
    for p in splits:
        x = p["x"]
        norms = np.sqrt(np.asarray(x.sum(1)).ravel())
        dots = np.asarray((x[p["users"]] @ x.T).todense())
        dots[np.arange(p["users"].size), p["users"]] = 0.0  # not one's own neighbour
        sims.append((dots, norms[p["users"]][:, None] * norms[None, :]))
    for k, shrink, power in itertools.product(UKNN_KS, UKNN_SHRINKS, UKNN_POWERS):
        scores = []
        for p, (dots, denominator) in zip(splits, sims, strict=True):
            s = np.divide(dots, denominator + shrink, out=np.zeros_like(dots), where=denominator + shrink > 0)
            keep = np.argpartition(-s, k, axis=1)[:, :k]
            top = np.zeros_like(s)
            np.put_along_axis(top, keep, np.take_along_axis(s, keep, 1) ** power, axis=1)
            scores.append(np.asarray(p["x"].T @ top.T).T)
        yield f"user k-NN, k {k}, shrink {shrink:g}, similarity^{power:g}", scores


def uknn(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """User k-NN (:func:`_uknn_settings`) alone and as a fifth base of the start blend (:func:`_fifth`)."""
    return _fifth("uknn", "user k-NN", _uknn_settings(splits), splits, base, grid)


#: the popularity term's weights: negative asks for less popularity than the bases give, positive more
POPULARITY_WEIGHTS = (-0.3, -0.2, -0.1, 0.1, 0.2)


def popularity_term(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """Does the blend want more or less popularity than its bases give? The start blend plus w times the
    per-user z-score (over the user's unseen movies, :func:`_z`) of log(1 + positives of the movie in the
    inner training part), w in :data:`POPULARITY_WEIGHTS`; popularity alone beside it."""
    pops = [np.broadcast_to(np.log1p(np.asarray(p["x"].sum(0)).ravel()), (p["users"].size, p["x"].shape[1])) for p in splits]  # fmt: skip
    alone = [_row("popularity-term", "popularity alone, log(1 + positives)", [_ndcg(s, p["seen"], p["rel"]) for p, s in zip(splits, pops, strict=True)], base)]  # fmt: skip
    starts = [_start_blend(p) for p in splits]
    zs = [_z(s, p["seen"]) for p, s in zip(splits, pops, strict=True)]
    blended = [_row("popularity-term", "start blend", [_ndcg(s, p["seen"], p["rel"]) for p, s in zip(splits, starts, strict=True)], base)]  # fmt: skip
    for w in POPULARITY_WEIGHTS:
        values = [_ndcg(b + w * z, p["seen"], p["rel"]) for p, b, z in zip(splits, starts, zs, strict=True)]
        blended.append(_row("popularity-term", f"start blend + {w:g} x z(log(1 + popularity))", values, base))
    levers = [{**_lever("popularity, alone", alone, grid, base), "study": "popularity-term"},
              {**_lever("popularity term, in the start blend", blended, grid, base), "study": "popularity-term"}]  # fmt: skip
    return alone + blended, levers


#: SGFCF's grid: factors k × the degree exponents (α users, β items) × the weight exponent γ on σ/σ_max ×
#: the weight of the all-frequency term R̃ R̃ᵀ R̃ (row-normalised like the low-rank term). Placed after probes on the
#: first split alone: there α = β = 0.5 read 0.04-0.11, γ 1 at most 0.145, γ 4 at most 0.166, no all-frequency
#: term at most 0.173, against 0.18 for the grid's best and 0.195 for ease
SGFCF_KS = (64, 256)
SGFCF_NORMS = ((0.5, 0.25), (0.35, 0.35), (0.25, 0.25))
SGFCF_GAMMAS = (2.0, 3.0)
SGFCF_HIGH = (0.3, 1.0)


def _row_normalised(a: np.ndarray) -> np.ndarray:
    total = a.sum(1, keepdims=True)
    return np.divide(a, total, out=np.zeros_like(a), where=total != 0)


def _sgfcf_settings(splits: list[dict[str, Any]]) -> Any:
    """SGFCF's generalised graph filter without its individualised (per-user homophily) exponent (Peng, Liu,
    Hou, Hu, Chen, Li & Li 2024, "How Powerful is Graph Filtering for Recommendation", KDD): R̃ =
    D_u^-α R D_i^-β, its thin SVD U Σ Vᵀ, the user's row of U_k diag((σ/σ_max)^γ) V_kᵀ (γ 1: the rank-k
    reconstruction; SGFCF's β is γ/2), row-normalised, plus c times the row-normalised R̃ R̃ᵀ R̃. The
    authors' final sigmoid is dropped: monotone, it orders each user's list alike. R̃ is dense
    (610 × 8,000 or so), so the full SVD is exact and takes seconds."""
    pre: dict[tuple[float, float], list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]] = {}
    for a, b in SGFCF_NORMS:
        pre[(a, b)] = []
        for p in splits:
            x = p["x"]
            rt = (sp.diags(_inverse_power(np.asarray(x.sum(1)).ravel(), a)) @ x @ sp.diags(_inverse_power(np.asarray(x.sum(0)).ravel(), b))).toarray()  # fmt: skip
            u, sigma, vt = np.linalg.svd(rt, full_matrices=False)
            high = _row_normalised((rt[p["users"]] @ rt.T) @ rt)
            top = max(SGFCF_KS)  # only the leading factors are read: keep those
            pre[(a, b)].append((u[p["users"], :top], sigma[:top] / sigma.max(), vt[:top], high))
    for k, (a, b), gamma, c in itertools.product(SGFCF_KS, SGFCF_NORMS, SGFCF_GAMMAS, SGFCF_HIGH):
        scores = [_row_normalised((u[:, :k] * sigma[:k] ** gamma) @ vt[:k]) + c * high for u, sigma, vt, high in pre[(a, b)]]  # fmt: skip
        yield f"SGFCF k {k}, alpha {a:g}, beta {b:g}, sigma^{gamma:g}, + {c:g} x all-frequency", scores


def sgfcf(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """SGFCF's filter (:func:`_sgfcf_settings`) alone and as a fifth base of the start blend (:func:`_fifth`)."""
    return _fifth("sgfcf", "SGFCF", _sgfcf_settings(splits), splits, base, grid)


#: ∞-AE's network depths and ridge terms (a multiple of the kernel's mean diagonal)
INF_AE_DEPTHS = (1, 2)
INF_AE_RIDGES = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


def _ntk(x: sp.csr_matrix, depth: int) -> np.ndarray:
    """The users × users neural tangent kernel of a ``depth``-hidden-layer ReLU network without biases on
    the users' binary rows (Jacot et al. 2018; Arora et al. 2019's recursion with the arc-cosine kernels of
    Cho & Saul 2009): Σ⁰ = XXᵀ, Σʰ = ‖‖/(2π)·(sin θ + (π − θ) cos θ), Θʰ = Σʰ + Θʰ⁻¹·(π − θ)/(2π)."""
    sigma = np.asarray((x @ x.T).todense(), dtype=np.float64)
    theta = sigma.copy()
    for _ in range(depth):
        d = np.sqrt(np.diag(sigma))
        scale = np.outer(d, d) + 1e-12
        cos = np.clip(sigma / scale, -1.0, 1.0)
        angle = np.arccos(cos)
        sigma = scale / (2 * np.pi) * (np.sin(angle) + (np.pi - angle) * cos)
        theta = sigma + theta * (np.pi - angle) / (2 * np.pi)
    return theta


def _inf_ae_settings(splits: list[dict[str, Any]]) -> Any:
    """∞-AE (Sachdeva, Dhaliwal, Wu & McAuley 2022, "Infinite Recommendation Networks: A Data-Centric
    Approach", NeurIPS): an autoencoder of infinite width trained to convergence is kernel ridge regression
    with its NTK over users (:func:`_ntk`), scores K (K + λI)⁻¹ X; λ is a multiple of K's mean diagonal. The
    users × users kernel is small here (610 users)."""
    for depth in INF_AE_DEPTHS:
        kernels = [_ntk(p["x"], depth) for p in splits]
        for ridge in INF_AE_RIDGES:
            scores = []
            for p, k in zip(splits, kernels, strict=True):
                lam = ridge * float(np.mean(np.diag(k)))
                a = np.linalg.solve(k + lam * np.eye(k.shape[0]), p["x"].toarray())
                scores.append(k[p["users"]] @ a)
            yield f"inf-AE, depth {depth}, ridge {ridge:g} x mean diagonal", scores


def inf_ae(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """∞-AE (:func:`_inf_ae_settings`) alone and as a fifth base of the start blend (:func:`_fifth`)."""
    return _fifth("inf-ae", "inf-AE", _inf_ae_settings(splits), splits, base, grid)


#: higher-order EASE's grid: the number of item pairs kept (those co-rated by the most users) and λ_C, the
#: pair weights' L2 penalty; B's λ, γ and δ are ease's defaults. λ_C was placed after probes on the first
#: split (alone, 4000 pairs: λ_C 300, 1000, 3000, 1e4, 1e5 read 0.1902, 0.1931, 0.1948, 0.1950, 0.1951 against
#: ease's 0.1950) and a first run over λ_C 20, 100, 500, 2500 (all three splits, stopped after 8 of 12
#: settings: alone 0.1240–0.1755 at 20 and 100, 0.1790–0.1813 at 500 and 2500; in the blend at most 0.1874,
#: below the start blend's 0.1875)
HIGHER_EASE_PAIRS = (1000, 4000, 16000)
HIGHER_EASE_L2 = (300.0, 1000.0, 3000.0, 10000.0)
#: alternations of C given B and B given C after B starts as ease's (C = 0)
HIGHER_EASE_STEPS = 3


def _pair_features(x: sp.csr_matrix, m: int) -> tuple[np.ndarray, sp.csr_matrix, int]:
    """The ``m`` item pairs (i < j) co-rated by the most users (ties by index), Z (users × pairs,
    Z_u,(i,j) = X_ui · X_uj) and the fewest users who co-rated a kept pair (the threshold ``m`` amounts to)."""
    co = sp.triu(sp.csr_matrix(x.T @ x), k=1).tocoo()
    order = np.lexsort((co.col, co.row, -co.data))[:m]
    pairs = np.stack([co.row[order], co.col[order]], axis=1).astype(np.int64)
    xc = sp.csc_matrix(x)
    z = sp.csr_matrix(xc[:, pairs[:, 0]].multiply(xc[:, pairs[:, 1]]))
    return pairs, z, int(co.data[order].min()) if m else 0


def _ease_given(x: np.ndarray, xw: np.ndarray, target_w: np.ndarray, l2: float) -> np.ndarray:
    """X·B for B = argmin ‖Tw − Xw·B‖² + λ‖B‖² with diag(B) = 0 (Tw, Xw: the target and X with rows weighted),
    never forming B: with P = (XwᵀXw + λI)⁻¹ and B̃ = P·XwᵀTw the unconstrained solution, the constrained one
    is B̃ − P·diag(B̃_jj / P_jj) (Steck 2019's Lagrangian, for any target), and by the push-through identity
    P·Xwᵀ = Xwᵀ(XwXwᵀ + λI)⁻¹ every term is users × items (610 users here)."""
    k = xw @ xw.T
    k[np.diag_indices_from(k)] += l2
    k_inv = sla.cho_solve(sla.cho_factor(k), np.eye(len(k)))
    m, kx, x_xw = k_inv @ target_w, k_inv @ xw, x @ xw.T
    p_diag = (1.0 - np.einsum("uj,uj->j", xw, kx)) / l2
    b_diag = np.einsum("uj,uj->j", xw, m)
    return x_xw @ m - (x - x_xw @ kx) / l2 * (b_diag / p_diag)[None, :]


def _pairs_given(z: sp.csr_matrix, w: np.ndarray, residual: np.ndarray, pairs: np.ndarray, l2: float) -> np.ndarray:  # fmt: skip
    """Z·C for C = argmin ‖W(R − Z·C)‖² + λ_C‖C‖² with C_(i,j),k = 0 for k ∈ {i, j} (Steck & Liang 2021's
    constraint: a pair may not predict its own items), exactly and never forming C (pairs × items). Per item
    k, with S the pairs holding k, Q = (ZwᵀZw + λ_C I)⁻¹ and c̃ the unconstrained column, the constrained
    column is c̃ − Q·E_S (E_SᵀQE_S)⁻¹ c̃_S (a Lagrangian); Woodbury with L = ZwZwᵀ + λ_C I (users × users)
    turns Q·Zwᵀ, Z·Q·E_S and E_SᵀQE_S into users × |S| terms: c̃ = ZwᵀL⁻¹Rw, λ_C·Z·Q·E_S = Z_S − ZZwᵀL⁻¹Zw_S,
    λ_C·E_SᵀQE_S = I − Zw_SᵀL⁻¹Zw_S."""
    zw = sp.csr_matrix(sp.diags(w) @ z)
    lk = np.asarray((zw @ zw.T).todense())
    lk[np.diag_indices_from(lk)] += l2
    l_inv = sla.cho_solve(sla.cho_factor(lk), np.eye(len(lk)))
    h = l_inv @ (w[:, None] * residual)
    z_zw = np.asarray((z @ zw.T).todense())
    out = z_zw @ h
    zw_d = zw.toarray()
    g, zq = l_inv @ zw_d, z.toarray() - (z_zw @ l_inv) @ zw_d
    holding = sp.csr_matrix((np.ones(2 * len(pairs)), (pairs.T.ravel(), np.tile(np.arange(len(pairs)), 2))), shape=(residual.shape[1], len(pairs)))  # fmt: skip
    for k in np.flatnonzero(np.diff(holding.indptr)):
        s = holding.indices[holding.indptr[k] : holding.indptr[k + 1]]
        gram = np.eye(len(s)) - zw_d[:, s].T @ g[:, s]
        out[:, k] -= zq[:, s] @ np.linalg.solve(gram, zw_d[:, s].T @ h[:, k])
    return out


def _higher_ease(x: sp.csr_matrix, m: int, l2_c: float, steps: int = HIGHER_EASE_STEPS) -> tuple[np.ndarray, int]:  # fmt: skip
    """Higher-order EASE's scores S = X·B + Z·C for every user (0 on items without training positives) and
    the pair threshold (:func:`_pair_features`): ease's defaults (λ, rows weighted |I_u|^−δ in the fit,
    columns scaled by count^γ, κ 0 as :func:`_create`), B started as ease's and then ``steps`` alternations
    of C given B (:func:`_pairs_given`) and B given C on the target X − Z·C (:func:`_ease_given`)."""
    d = E.EASE()
    counts = np.diff(sp.csc_matrix(x).indptr)
    active = np.flatnonzero(counts > 0)
    xa = sp.csr_matrix(x[:, active])
    xd = xa.toarray()
    w = np.maximum(np.diff(xa.indptr), 1).astype(np.float64) ** -float(d.user_exponent)
    xw = w[:, None] * xd
    pairs, z, threshold = _pair_features(xa, m)
    xb, zc = _ease_given(xd, xw, xw, float(d.l2)), np.zeros_like(xd)
    for _ in range(steps if m else 0):
        zc = _pairs_given(z, w, xd - xb, pairs, l2_c)
        xb = _ease_given(xd, xw, w[:, None] * (xd - zc), float(d.l2))
    scores = np.zeros(x.shape)
    scores[:, active] = (xb + zc) * counts[active].astype(np.float64)[None, :] ** float(d.popularity_exponent)
    return scores, threshold


def _higher_ease_check(p: dict[str, Any]) -> float:
    """Two checks before the grid: on a small random case :func:`_pairs_given` matches the constrained ridge
    solved column by column without the pairs holding the column's item (so C_(i,j),k = 0 for k ∈ {i, j}),
    and with no pairs :func:`_higher_ease` scores split ``p`` as ease does (κ 0). Returns the largest
    difference from ease's scores."""
    rng = np.random.default_rng(0)
    x = sp.csr_matrix((rng.random((40, 15)) < 0.35).astype(np.float64))
    pairs, z = _pair_features(x, 12)[:2]
    w, r = rng.random(40) + 0.5, rng.standard_normal((40, 15))
    zd = z.toarray()
    want = np.zeros_like(r)
    for k in range(15):
        a = w[:, None] * zd[:, ~(pairs == k).any(axis=1)]
        want[:, k] = zd[:, ~(pairs == k).any(axis=1)] @ np.linalg.solve(a.T @ a + 3.0 * np.eye(a.shape[1]), a.T @ (w * r[:, k]))  # fmt: skip
    assert np.allclose(_pairs_given(z, w, r, pairs, 3.0), want, rtol=0, atol=1e-10), "Z·C is not the constrained ridge"  # fmt: skip
    users = np.arange(p["x"].shape[0])
    ease = np.asarray(_create("ease").fit(p["inner"]).score(users), dtype=np.float64)
    gap = float(np.abs(_higher_ease(p["x"], 0, 1.0)[0] - ease).max())
    assert gap < 1e-5, f"higher-order EASE without pairs is {gap:g} from ease's scores"
    return gap


def _higher_ease_settings(splits: list[dict[str, Any]]) -> Any:
    """Higher-order EASE (Steck & Liang 2021, "Negative Interactions for Improved Collaborative Filtering:
    Don't go Deeper, go Higher", RecSys): ease plus a linear term in indicator features of item pairs
    (:func:`_higher_ease`) over :data:`HIGHER_EASE_PAIRS` × :data:`HIGHER_EASE_L2`. The paper fits B and C
    by ADMM; alternating exact ridge solves reach the same optimum (on the first split NDCG@10 moves by
    under 0.0005 from 1 to 12 alternations, pairs 4000, λ_C 1000)."""
    for m in HIGHER_EASE_PAIRS:
        for l2_c in HIGHER_EASE_L2:
            fitted = [_higher_ease(p["x"], m, l2_c) for p in splits]
            scores = [s[p["users"]] for p, (s, _) in zip(splits, fitted, strict=True)]
            low = min(t for _, t in fitted)
            yield f"higher-order EASE, {m} pairs (co-rated by {low}+), λ_C {l2_c:g}", scores


def higher_ease(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """Higher-order EASE (:func:`_higher_ease_settings`) alone and as a fifth base of the start blend
    (:func:`_fifth`), after :func:`_higher_ease_check`."""
    gap = _higher_ease_check(splits[0])
    print(f"higher-ease checks passed (without pairs {gap:.1g} from ease's scores)", flush=True)
    rows, levers = _fifth(
        "higher-ease", "higher-order EASE", _higher_ease_settings(splits), splits, base, grid
    )
    return rows, [{**lv, "largest difference from ease's scores without pairs": gap} for lv in levers]


#: collective EASE's feature families (features.build_item_features) and weights c (ease's feature_weight)
EASE_FEATURE_SETS = ("genres,tags,year", "genres,tags", "tags")
EASE_FEATURE_WEIGHTS = (1.0, 2.0, 3.0, 5.0)


def _held_out_tagged(ds: Any, p: dict[str, Any]) -> tuple[np.ndarray, int, int]:
    """Which rows of tags.csv tag a validation pair of split ``p`` (the same user, the same movie): the
    mask over the tag rows, and how many held-out pairs and users carry such a tag. Collective EASE makes
    items that share a tag co-occur, so a user's tag on a held-out movie, shared with a tag of theirs on a
    training movie, can tie the two as the user's own row would."""
    v = p["valid"]
    held = {(int(u), int(i)) for u, i in zip(v.user_map.to_raw(v.users), v.item_map.to_raw(v.items), strict=True)}  # fmt: skip
    pairs = list(zip(ds.tags["userId"].astype(int), ds.tags["movieId"].astype(int), strict=True))
    mask = np.fromiter((pair in held for pair in pairs), dtype=bool, count=len(pairs))
    tagged = set(itertools.compress(pairs, mask))
    return mask, len(tagged), len({u for u, _ in tagged})


def _ease_given_features(p: dict[str, Any], features: Any, c: float) -> np.ndarray:
    """ease at κ 0 (:func:`_create`) fitted on split ``p`` with item ``features`` at weight c: its scores."""
    return np.asarray(_create("ease", feature_weight=c).fit(p["inner"], item_features=features).score(p["users"]))  # fmt: skip


def _ease_features_settings(ds: Any, splits: list[dict[str, Any]], families: tuple[str, ...], held_out_tags: bool, replaced: list[dict[str, Any]], base: float) -> Any:  # fmt: skip
    """ease (κ 0, as ``ensemble``'s base) given item features, collective EASE, over ``families`` ×
    :data:`EASE_FEATURE_WEIGHTS`, for :func:`_fifth`. Features come from the inner training part's item
    map; without ``held_out_tags`` the tag rows of each split's validation pairs are dropped first
    (:func:`_held_out_tagged`). Each setting's scores also take ease's place in the start blend (weight 1,
    max-normalised): those rows are appended to ``replaced``."""
    from dataclasses import replace

    data = [ds if held_out_tags else replace(ds, tags=ds.tags[~_held_out_tagged(ds, p)[0]]) for p in splits]
    less = "" if held_out_tags else ", tags less held-out pairs"
    for names in families:
        features = [build_item_features(d, p["inner"].item_map, names) for d, p in zip(data, splits, strict=True)]  # fmt: skip
        for c in EASE_FEATURE_WEIGHTS:
            label = f"ease + {names}{less if 'tags' in names else ''}, c {c:g}"
            scores = [_ease_given_features(p, f, c) for p, f in zip(splits, features, strict=True)]
            values = []
            for p, s in zip(splits, scores, strict=True):
                swapped = {**p["norm"], "ease": normalise_scores(s, p["seen"], "max")}
                blend = sum(v * swapped[n] for n, v in ENSEMBLE_START.items())  # the start blend's order
                values.append(_ndcg(cast(np.ndarray, blend), p["seen"], p["rel"]))
            replaced.append(_row("ease-features", f"start blend, ease -> {label}", values, base))
            yield label, scores


def ease_features(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """Item side information in the start blend: collective EASE (:func:`_ease_features_settings`) alone,
    (a) as a fifth base of the start blend (:func:`_fifth`) and (b) in place of its ease, which is what
    ``ensemble`` would do were it given the data's item features. Three ways, each its own levers: every
    tag (:data:`EASE_FEATURE_SETS`); the same with each split's validation pairs' tags dropped; genres,year
    alone. Each lever's choice includes the start blend itself."""
    from movierec.datasets import load

    ds = load("ml-latest-small")
    leak = [_held_out_tagged(ds, p)[1:] for p in splits]
    print(f"ease-features validation pairs tagged by their own user (pairs, users): {leak}", flush=True)
    start = _row("ease-features", "start blend", [_ndcg(_start_blend(p), p["seen"], p["rel"]) for p in splits], base)  # fmt: skip
    rows, levers = [start], []
    ways = (("all tags", EASE_FEATURE_SETS, True), ("tags less held-out pairs", EASE_FEATURE_SETS, False),
            ("genres,year", ("genres,year",), True))  # fmt: skip
    for way, families, held_out_tags in ways:
        replaced: list[dict[str, Any]] = []
        settings = _ease_features_settings(ds, splits, families, held_out_tags, replaced, base)
        new, found = _fifth("ease-features", f"ease + features ({way})", settings, splits, base, grid)
        new = [r for r in new if r["config"] != "start blend"]  # one start blend row for the study
        name = f"ease + features ({way}), in place of ease"
        found.append({**_lever(name, [start, *replaced], grid, base), "study": "ease-features"})
        rows += new + replaced
        levers += found
    held = {"validation pairs tagged by their own user (pairs, users), by split": leak}
    return rows, [{**lv, **held} for lv in levers]


#: the transitions study's grid: (K, the most positions apart; decay a step; τ, the most seconds apart or None)
TRANSITION_WINDOWS: tuple[tuple[int, float, int | None], ...] = ((1, 1.0, None), (3, 0.5, None), (3, 0.5, 600), (5, 0.7, 3600))  # fmt: skip


def _transition_settings(splits: list[dict[str, Any]]) -> Any:
    """Directed next-item transitions, two ways to score with them. F_ab sums decay^(d-1) over the users who
    rated b d ≤ K places after a (within τ seconds), P = F row-normalised: P(next = b | a), as a first-order
    Markov chain (Rendle et al. 2010, "Factorizing Personalized Markov Chains for Next-Basket
    Recommendation", WWW, without the factorisation). A random hold-out leaves a gap where each held-out
    positive was, between two of the user's consecutive training positives a, c, so the question is a cloze
    (BERT4Rec's, Sun et al. 2019, CIKM): "sandwich" scores i by Σ over the user's consecutive pairs of
    P(i | a) · P(c | i); "directional" by Σ P(i | a) + P(prev = i | c), which, unlike :func:`session`'s
    symmetric pairs, knows which came first."""
    for k, decay, tau in TRANSITION_WINDOWS:
        sandwich, directional = [], []
        for p in splits:
            inner = p["inner"]
            order = np.lexsort((inner.items, inner.timestamps, inner.users))
            users, items, ts = (
                inner.users[order],
                inner.items[order],
                inner.timestamps[order].astype(np.int64),
            )
            rows, cols, vals = [], [], []
            for d in range(1, k + 1):
                ok = (users[:-d] == users[d:]) & (True if tau is None else ts[d:] - ts[:-d] <= tau)
                rows.append(items[:-d][ok])
                cols.append(items[d:][ok])
                vals.append(np.full(int(ok.sum()), decay ** (d - 1)))
            f = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(inner.n_items, inner.n_items))  # fmt: skip
            forward = (sp.diags(_inverse_power(np.asarray(f.sum(1)).ravel(), 1.0)) @ f).tocsr()
            backward = (sp.diags(_inverse_power(np.asarray(f.sum(0)).ravel(), 1.0)) @ f.T).tocsr()
            pair = users[:-1] == users[1:]
            a, c, owner = items[:-1][pair], items[1:][pair], users[:-1][pair]
            to_users = sp.csr_matrix((np.ones(owner.size), (owner, np.arange(owner.size))), shape=(inner.n_users, owner.size))  # fmt: skip
            sandwich.append((to_users @ forward[a].multiply(forward.T.tocsr()[c]))[p["users"]].toarray())
            directional.append((to_users @ (forward[a] + backward[c]))[p["users"]].toarray())
        where = f"K {k}, decay {decay:g}" + ("" if tau is None else f", within {tau} s")
        yield f"transitions sandwich ({where})", sandwich
        yield f"transitions directional ({where})", directional


def transitions(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """The next-item transition bases (:func:`_transition_settings`) alone and as a fifth base (:func:`_fifth`)."""
    return _fifth("transitions", "next-item transitions", _transition_settings(splits), splits, base, grid)


#: the near-miss levers switched on together (``--only combined``): how ease, slim and rp3beta weigh a
#: positive (``weighting``, at their defaults' λ and α), whether ease is given genres and year (collective
#: EASE at its default c 2; never tags, which leak the hold-out), ials's weight, the session base's weight
COMBINED_WEIGHTINGS = ("binary", "rating")
COMBINED_FEATURES = ("", "genres,year")
COMBINED_IALS = (0.6, 1.2)
COMBINED_SESSION = (0.0, 0.5, 1.0)
#: the session base's start weights in ``ensemble``'s own fit (the grid's other axes as above)
COMBINED_ENSEMBLE_SESSION = (0.5, 1.0)


def _combined_params(name: str, weighting: str) -> dict[str, Any]:
    """A base's parameters in the combined study: ``ensemble``'s defaults (ease at κ 0), ``weighting="rating"``
    for ease, slim and rp3beta when asked (ials refuses weights; the session base counts users)."""
    from movierec.models.ensemble import DEFAULT_BASES

    weighted = weighting == "rating" and name in ("ease", "slim", "rp3beta")
    return {**DEFAULT_BASES.get(name, {}), **({"weighting": "rating"} if weighted else {})}


def _combined_norms(splits: list[dict[str, Any]], features: list[dict[str, Any]]) -> None:
    """Each split's max-normalised scores of every base the combined grid reads, in ``p["combined"]`` keyed
    (name, weighting, features): ease four ways, slim and rp3beta two, ials and the session base one."""
    for p, f in zip(splits, features, strict=True):
        norm: dict[tuple[str, str, str], np.ndarray] = {}
        for weighting in COMBINED_WEIGHTINGS:
            for names in COMBINED_FEATURES:
                model = _create("ease", **_combined_params("ease", weighting)).fit(p["inner"], item_features=f[names])  # fmt: skip
                norm["ease", weighting, names] = normalise_scores(np.asarray(model.score(p["users"])), p["seen"], "max")  # fmt: skip
            for name in ("slim", "rp3beta"):
                scores = np.asarray(_create(name, **_combined_params(name, weighting)).fit(p["inner"]).score(p["users"]))  # fmt: skip
                norm[name, weighting, ""] = normalise_scores(scores, p["seen"], "max")
        norm["ials", "binary", ""] = p["norm"]["ials"]
        session = np.asarray(SessionCooccurrence().fit(p["inner"]).score(p["users"]))
        norm["session-cooc", "binary", ""] = normalise_scores(session, p["seen"], "max")
        p["combined"] = norm


def _combined_blends(splits: list[dict[str, Any]], base: float) -> list[dict[str, Any]]:
    """The start blend with every setting of the combined grid: weighting × features × ials × session."""
    rows = []
    for weighting, names, ials, session in itertools.product(COMBINED_WEIGHTINGS, COMBINED_FEATURES, COMBINED_IALS, COMBINED_SESSION):  # fmt: skip
        values = []
        for p in splits:
            n = p["combined"]
            blend = (n["ease", weighting, names] + 0.5 * n["slim", weighting, ""] + ials * n["ials", "binary", ""]
                     + 0.2 * n["rp3beta", weighting, ""])  # fmt: skip
            values.append(_ndcg(blend + session * n["session-cooc", "binary", ""] if session else blend, p["seen"], p["rel"]))  # fmt: skip
        label = f"start blend, {weighting}, ease{' + ' + names if names else ''}, ials {ials:g}, session {session:g}"
        rows.append(_row("combined", label, values, base))
    return rows


def _combined_ensembles(splits: list[dict[str, Any]], features: list[dict[str, Any]], base: float) -> tuple[list[dict[str, Any]], float]:  # fmt: skip
    """``ensemble`` itself (its hold-out weight search, then the refit) at its defaults and over the combined
    grid with the session base as a fifth base (:data:`COMBINED_ENSEMBLE_SESSION`); rows and seconds a fit."""
    from movierec.models import registry

    registry.MODELS["session-cooc"] = (__name__, "SessionCooccurrence", None)
    variants: dict[str, tuple[dict[str, Any], str | None]] = {"ensemble (defaults)": ({}, "")}
    for weighting, names, ials, session in itertools.product(COMBINED_WEIGHTINGS, COMBINED_FEATURES, COMBINED_IALS, COMBINED_ENSEMBLE_SESSION):  # fmt: skip
        bases = {n: _combined_params(n, weighting) for n in (*ENSEMBLE_START, "session-cooc")}
        start = {**ENSEMBLE_START, "ials": ials, "session-cooc": session}
        label = f"ensemble, {weighting}, ease{' + ' + names if names else ''}, start ials {ials:g}, session {session:g}"  # fmt: skip
        variants[label] = ({"bases": bases, "start_weights": start}, names)
    try:
        return _ensemble_fits("combined", variants, splits, base, features)
    finally:
        del registry.MODELS["session-cooc"]


def _ensemble_fits(
    study: str,
    variants: dict[str, tuple[dict[str, Any], str | None]],
    splits: list[dict[str, Any]],
    base: float,
    features: list[dict[str, Any]] | None = None,
) -> tuple[list[dict[str, Any]], float]:
    """``ensemble`` fitted on each split's inner part for each variant (label → (params, the item-feature
    set of ``features`` its ease takes, or None)); its rows (with the weights its fit chose) and the mean
    seconds a fit. The caller registers any study-only base (``session-cooc``) around the call."""
    rows, seconds = [], []
    for label, (params, names) in variants.items():
        values, weights = [], []
        for i, p in enumerate(splits):
            given = {} if names is None or features is None else {"item_features": features[i][names]}
            tic = time.perf_counter()
            model = _create("ensemble", **params).fit(p["inner"], **given)
            seconds.append(time.perf_counter() - tic)
            values.append(_ndcg(np.asarray(model.score(p["users"])), p["seen"], p["rel"]))
            weights.append({n: round(float(w), 3) for n, w in zip(model.base_labels_, model.weights_, strict=True)})  # fmt: skip
        rows.append({**_row(study, label, values, base), "weights chosen in fit": weights})
    return rows, round(float(np.mean(seconds)), 1)


def combined(splits: list[dict[str, Any]], base: float, grid: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """Do the near misses add up? The levers that each came within ~1.5% of stop 46's bar, one at a time,
    switched on together: the session base (:func:`session`, 60 s by row), ``weighting="rating"``
    (``bench/weighting_study.py``), ials at 1.2 (:func:`bagging`) and ease given genres and year
    (:func:`ease_features`). Two levers: the start blend over :data:`COMBINED_WEIGHTINGS` ×
    :data:`COMBINED_FEATURES` × :data:`COMBINED_IALS` × :data:`COMBINED_SESSION` (its first row is the start
    blend itself), and ``ensemble``'s own fit over the same grid with the session base's start weight in
    :data:`COMBINED_ENSEMBLE_SESSION`, beside its defaults; each read on every split and chosen on two."""
    from movierec.datasets import load

    ds = load("ml-latest-small")
    features = [{"": None, "genres,year": build_item_features(ds, p["inner"].item_map, "genres,year")} for p in splits]  # fmt: skip
    tic = time.perf_counter()
    _combined_norms(splits, features)
    per_split = round((time.perf_counter() - tic) / len(splits), 1)
    blended = _combined_blends(splits, base)
    fitted, per_fit = _combined_ensembles(splits, features, base)
    print(f"combined  {per_split} s of base fits per split, {per_fit} s per ensemble fit", flush=True)
    for p in splits:
        del p["combined"]
    in_blend = _lever("the near misses together, in the start blend", blended, grid, base)
    in_fit = _lever("the near misses together, in ensemble's own fit", fitted, grid, base)
    levers = [{**in_blend, "study": "combined", "seconds of base fits per split": per_split},
              {**in_fit, "study": "combined", "seconds per fit": per_fit}]  # fmt: skip
    return blended + fitted, levers


#: the studies ``--only`` runs by name, each in place of its rows and levers in an existing JSON
NEW_STUDIES = {"bspm": bspm, "linkprop": linkprop, "session": session, "ensemble-session": ensemble_session,
               "uknn": uknn, "popularity-term": popularity_term, "sgfcf": sgfcf, "inf-ae": inf_ae,
               "higher-ease": higher_ease, "ease-features": ease_features,
               "transitions": transitions, "combined": combined}  # fmt: skip


def _merge_only(
    out: Path, names: list[str], splits: list[dict[str, Any]], tic: float, load_before: Any
) -> None:
    """``--only``: the named studies run against the recorded JSON ``out`` and merged into it. The bases of
    the start blend are fitted again; the blend grid (``levers``' reference) and ease are read from the file,
    ease refitted to check that this code reads the same splits. Earlier rows are kept as they are, the
    named studies' rows and levers replaced or appended, the overall best recomputed, and each run noted
    under ``"only"`` with its seconds and load."""
    result = json.loads(out.read_text())
    ease = [_ndcg(np.asarray(_create("ease").fit(p["inner"]).score(p["users"])), p["seen"], p["rel"]) for p in splits]  # fmt: skip
    if not np.allclose(ease, result["ease"]["by split"], rtol=0, atol=1e-9):
        raise SystemExit(
            f"ease reads {ease} here, {result['ease']['by split']} in {out}: not the same splits or code"
        )
    base = result["ease"]["ndcg@10"]
    for p in splits:
        p["norm"] = {n: normalise_scores(np.asarray(_create(n).fit(p["inner"]).score(p["users"])), p["seen"], "max") for n in ENSEMBLE_START}  # fmt: skip
    grid = [r for r in result["rows"] if r["study"] in ("blend", "single")]
    grid.append({"study": "ease", "config": "ease", "ndcg@10": base, "by split": result["ease"]["by split"]})
    recorded = next(r["by split"] for r in result["rows"] if r["config"] == "ensemble start blend")
    now = [_ndcg(_start_blend(p), p["seen"], p["rel"]) for p in splits]
    print(
        f"start blend now {[round(v, 6) for v in now]}, recorded {[round(v, 6) for v in recorded]}",
        flush=True,
    )
    for name in names:
        rows, levers = NEW_STUDIES[name](splits, base, grid)
        result["rows"] = [r for r in result["rows"] if r["study"] != name] + rows
        result["levers"] = [lv for lv in result["levers"] if lv.get("study") != name] + levers
    result["best"] = max(result["rows"], key=lambda r: r["ndcg@10"])
    run = {"command": f"PYTHONPATH=src python bench/frontier_study.py --protocol mlls --only {','.join(names)}",
           "start blend now": now, "seconds": round(time.perf_counter() - tic, 1),
           "loadavg": [round(x, 2) for x in (*load_before, *os.getloadavg())]}  # fmt: skip
    result["only"] = [o for o in result.get("only", []) if o["command"] != run["command"]] + [run]
    print(f"best: {result['best']['study']} {result['best']['config']} {result['best']['ndcg@10']:.4f}")
    out.write_text(json.dumps(result, indent=1) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocol", choices=["ml100k", "mlls"], default="ml100k")
    ap.add_argument(
        "--dataset", default=os.environ.get("MOVIEREC_ML100K", str(ROOT.parent / "shared/data/ml-100k"))
    )
    ap.add_argument("--out", default=None, help="default: bench/results/frontier_study[_mlls].json")
    ap.add_argument("--only", default=None, help=f"mlls: run only these of {', '.join(NEW_STUDIES)} (comma-separated) and merge them into --out")  # fmt: skip
    args = ap.parse_args()
    only = [] if args.only is None else [n.strip() for n in args.only.split(",") if n.strip()]
    if only and (args.protocol != "mlls" or set(only) - set(NEW_STUDIES)):
        ap.error(f"--only takes {', '.join(NEW_STUDIES)} (comma-separated), with --protocol mlls")
    tic, load_before = time.perf_counter(), os.getloadavg()
    if args.protocol == "mlls":
        from movierec.datasets import load
        from movierec.evaluation import make_split

        ds = load("ml-latest-small")
        train, _test, _ = make_split(ds.interactions, "interactions-holdout", seed=42, threshold=4.0)
        ease_params: dict[str, Any] = {}  # the class defaults, which the target is about
        out = args.out or str(ROOT / "bench/results/frontier_study_mlls.json")
    else:
        ds, train = ml100k_training_part(args.dataset)  # the test part is never read
        ease_params = ML100K_EASE
        out = args.out or str(ROOT / "bench/results/frontier_study.json")
    splits = _splits(train, args.protocol)
    if only:
        _merge_only(Path(out), only, splits, tic, load_before)
        return
    levers: list[dict[str, Any]] = []
    ease = [_ndcg(np.asarray(_create("ease", **ease_params).fit(p["inner"]).score(p["users"])), p["seen"], p["rel"]) for p in splits]  # fmt: skip
    base = float(np.mean(ease))
    print(f"ease at its {'default' if args.protocol == 'mlls' else 'tuned'} point: {base:.4f} {[round(v, 4) for v in ease]}", flush=True)  # fmt: skip
    if args.protocol == "mlls":
        rows = low_pass(splits, base, ease_params, ks=(64, 256)) + blends(splits, base)
        rows += timing(splits, base) + dropout(splits, base)
        grid = [r for r in rows if r["study"] in ("blend", "single")]
        grid.append({"study": "ease", "config": "ease", "ndcg@10": base, "by split": ease})
        for study in (bagging, rank_fusion, large_ials, *NEW_STUDIES.values()):
            new, found = study(splits, base, grid)
            rows, levers = rows + new, levers + found
        levers.insert(0, {"lever": "the blend grid (reference)", "chosen on two splits": _cross_fit(grid)})
    else:
        rows = low_pass(splits, base, ease_params) + seconds(splits, base)
    best = max(rows, key=lambda r: r["ndcg@10"])
    result = {
        "command": "PYTHONPATH=src python bench/frontier_study.py"
        + (" --protocol mlls" if args.protocol == "mlls" else ""),
        "dataset_sha256": ds.sha256,
        "ease": {"params": ease_params, "ndcg@10": base, "by split": ease},
        "rows": rows,
        "best": best,
        **({"levers": levers} if levers else {}),
        "seconds": round(time.perf_counter() - tic, 1),
        # rp3beta keeps each row's 200 largest by argpartition, whose order among ties follows the SIMD
        # code numpy dispatches: mlls's rows were recorded with AVX-512's disabled (see the docstring)
        "numpy": {
            "version": np.__version__,
            "NPY_DISABLE_CPU_FEATURES": os.environ.get("NPY_DISABLE_CPU_FEATURES", ""),
        },
        "loadavg": [round(x, 2) for x in (*load_before, *os.getloadavg())],
    }
    print(f"best: {best['study']} {best['config']} {best['ndcg@10']:.4f} ({best['gain']:+.2%} over ease)")
    Path(out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
