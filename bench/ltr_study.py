"""Would a learned re-ranker over the default models carry ml-latest-small past 1.8×? (issue 19, validation only)

    PYTHONPATH=src python bench/ltr_study.py [--out FILE]

The bundled ml-latest-small under ``compare``'s default implicit split (positives ≥ 4, 20% held out,
seed 42); only its *training* part T is read. T is split again 80/20 with seeds 1, 2, 3 (the inner
splits of ``validation_study.py --protocol mlls --seeds 1,2,3``) into inner-train A and validation V.
For each: A is split once more 80/20 (seed 100 + s) into A' and a label part H. The bases (ease, slim,
ials, rp3beta, user-ease at their defaults) are fitted on A'; each user's top ``N`` of the default blend
(the ensemble's start weights on max-normalised scores) are candidates, described by each base's
score and rank, the item's popularity, rating mean, era (mean and first timestamp) against the user's
active span, the user's activity, and genre affinity; a gradient-boosted classifier (scikit-learn's
HistGradientBoosting, pointwise: is the candidate in H?) is trained on them. The bases are then refitted
on A, the candidates of V's users described the same way and re-ranked by the classifier; NDCG@10 on V
beside ease and the fixed blend on the same candidates. The test part is never read.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import write_study  # noqa: E402
from movierec import metrics as M  # noqa: E402
from movierec.evaluation import make_split, relevant_matrix  # noqa: E402
from movierec.models.registry import create  # noqa: E402
from movierec.scoring.ensemble import normalise_scores  # noqa: E402
from movierec.split import interactions_holdout  # noqa: E402

BASES = ("ease", "slim", "ials", "rp3beta", "user-ease")
START = {"ease": 1.0, "slim": 0.5, "ials": 0.6, "rp3beta": 0.2, "user-ease": 0.0}
N = 100  # candidates per user: the fixed blend's top N
# The re-rankers tried on every feature subset: two boosted-tree settings, then a logistic regression.
GRID: list[dict[str, Any]] = [
    {"max_iter": 100, "learning_rate": 0.05, "max_leaf_nodes": 15, "min_samples_leaf": 200},
    {"max_iter": 300, "learning_rate": 0.03, "max_leaf_nodes": 7, "min_samples_leaf": 500},
    {"linear": 1.0},
]


def _seen(inter: Any) -> sp.csr_matrix:
    return inter.csr().astype(np.float64).tocsr()


def _base_scores(train: Any, users: np.ndarray) -> dict[str, np.ndarray]:
    out = {}
    seen = _seen(train)[users]
    for name in BASES:
        s = np.asarray(create(name).fit(train).score(users), dtype=np.float64)
        n = normalise_scores(s, seen, "max").astype(np.float64)
        n[seen.nonzero()] = -np.inf  # seen items are never candidates
        out[name] = n
    return out


def _context(train: Any, genres: sp.csr_matrix) -> dict[str, np.ndarray]:
    """Per-item and per-user statistics of a training part."""
    n_u, n_i = train.n_users, train.n_items
    ts = train.timestamps.astype(np.float64) / 86400 / 365.25
    cnt_i = np.bincount(train.items, minlength=n_i).astype(np.float64)
    cnt_u = np.bincount(train.users, minlength=n_u).astype(np.float64)
    mean_r = np.bincount(train.items, train.ratings, n_i) / np.maximum(cnt_i, 1)
    five = np.bincount(train.items, train.ratings >= 5, n_i) / np.maximum(cnt_i, 1)
    its = np.bincount(train.items, ts, n_i) / np.maximum(cnt_i, 1)
    first_i = np.full(n_i, np.inf)
    np.minimum.at(first_i, train.items, ts)
    uts = np.bincount(train.users, ts, n_u) / np.maximum(cnt_u, 1)
    ulo, uhi = np.full(n_u, np.inf), np.full(n_u, -np.inf)
    np.minimum.at(ulo, train.users, ts)
    np.maximum.at(uhi, train.users, ts)
    x = train.csr().astype(np.float64)
    x.data[:] = 1.0
    prof = x @ genres
    prof = sp.csr_matrix(prof.multiply(1.0 / np.maximum(np.asarray(prof.sum(1)), 1)))
    return {"cnt_i": cnt_i, "cnt_u": cnt_u, "mean_r": mean_r, "five": five, "its": its, "first_i": first_i,
            "uts": uts, "ulo": ulo, "uhi": uhi, "prof": prof}  # fmt: skip


def _features(
    scores: dict[str, np.ndarray], users: np.ndarray, ctx: dict[str, np.ndarray], genres: sp.csr_matrix
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates (users × N item indices), their features (rows user-major) and the blend's score."""
    blend = np.sum([START[b] * scores[b] for b in BASES if START[b]], axis=0)
    cand = np.argpartition(-blend, N, axis=1)[:, :N]
    cols = []
    for b in BASES:
        s = scores[b]
        rank = (-s).argsort(1).argsort(1)
        cols += [
            np.take_along_axis(np.where(np.isfinite(s), s, -1.0), cand, 1),
            np.log1p(np.take_along_axis(rank, cand, 1)),
        ]
    bl = np.take_along_axis(blend, cand, 1)
    cols += [bl, np.log1p((-bl).argsort(1).argsort(1))]  # the blend's score and rank
    ci = cand
    u = users[:, None].repeat(N, 1)
    cols += [np.log1p(ctx["cnt_i"][ci]), ctx["mean_r"][ci], ctx["five"][ci], ctx["its"][ci]]
    first = np.where(np.isfinite(ctx["first_i"][ci]), ctx["first_i"][ci], 2100.0)
    cols += [first - ctx["uhi"][u], ctx["its"][ci] - ctx["uts"][u], ctx["uhi"][u] - ctx["ulo"][u]]
    cols += [np.log1p(ctx["cnt_u"][u]), ctx["uts"][u]]
    prof = ctx["prof"][users]
    g = genres[cand.ravel()]
    aff = (
        np.asarray(prof[np.repeat(np.arange(len(users)), N)].multiply(g).sum(1))
        .ravel()
        .reshape(len(users), N)
    )
    cols.append(aff)
    feats = np.nan_to_num(np.stack([c.astype(np.float64).ravel() for c in cols], 1), posinf=1e3, neginf=-1e3)
    return cand, feats, bl


def _ndcg_rank(cand: np.ndarray, key: np.ndarray, rel: sp.csr_matrix) -> float:
    order = np.argsort(-key, 1)[:, :10]
    recs = np.take_along_axis(cand, order, 1)
    return float(M.ndcg(recs, rel, 10).mean())


def _labels(cand: np.ndarray, rel: sp.csr_matrix) -> np.ndarray:
    return np.asarray(rel[np.repeat(np.arange(cand.shape[0]), cand.shape[1]), cand.ravel()]).ravel() > 0


def prepare(train: Any, seed: int, genres: sp.csr_matrix) -> dict[str, Any]:
    """One inner split's re-ranker training rows (from A', labelled by H) and validation rows (from A)."""
    inner, valid = interactions_holdout(train, 0.2, seed)
    a2, h = interactions_holdout(inner, 0.2, 100 + seed)
    rel_h = relevant_matrix(h, None)
    uh = np.flatnonzero(np.diff(rel_h.indptr) > 0)
    cand, X, _ = _features(_base_scores(a2, uh), uh, _context(a2, genres), genres)
    y = _labels(cand, rel_h[uh])
    rel_v = relevant_matrix(valid, None)
    uv = np.flatnonzero(np.diff(rel_v.indptr) > 0)
    sc = _base_scores(inner, uv)
    cand_v, X_v, bl = _features(sc, uv, _context(inner, genres), genres)
    rv = rel_v[uv]
    ease = float(M.ndcg(np.argsort(-sc["ease"], 1)[:, :10], rv, 10).mean())
    return {"X": X, "y": y, "n_train_users": len(uh), "cand_v": cand_v, "X_v": X_v, "rv": rv, "ease": ease,
            "blend": _ndcg_rank(cand_v, bl, rv), "seen_v": _seen(inner)[uv]}  # fmt: skip


def score_config(p: dict[str, Any], cols: list[int], params: dict[str, Any]) -> float:
    """Validation NDCG@10 of the candidates re-ranked by a classifier fitted on the training rows:
    boosted trees, or with ``{"linear": C}`` a standardised logistic regression."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if "linear" in params:
        clf: Any = make_pipeline(StandardScaler(), LogisticRegression(C=params["linear"], max_iter=2000))
    else:
        clf = HistGradientBoostingClassifier(random_state=0, **params)
    clf.fit(p["X"][:, cols], p["y"])
    prob = clf.predict_proba(p["X_v"][:, cols])[:, 1].reshape(p["cand_v"].shape)
    return _ndcg_rank(p["cand_v"], prob, p["rv"])


def genre_matrix(ds: Any, train: Any) -> sp.csr_matrix:
    """Items × genres (0/1) of the training part's items; no columns where the data has no movie table."""
    movies = getattr(ds, "movies", None)
    ids = train.item_map.ids
    if movies is None:
        return sp.csr_matrix((len(ids), 1))
    mv = movies.set_index("movieId")["genres"]
    col = {g: j for j, g in enumerate(sorted({g for gs in mv for g in gs}))}
    pairs = [(i, col[g]) for i, mid in enumerate(ids) for g in mv.get(mid, [])]
    rows, cols = zip(*pairs, strict=True) if pairs else ((), ())
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(ids), max(len(col), 1)))


def study(ds: Any) -> dict[str, Any]:
    """Every configuration on the three inner splits of compare's default split's training part."""
    train, _test, _ = make_split(ds.interactions, "interactions-holdout", seed=42, threshold=4.0)
    genres = genre_matrix(ds, train)
    preps = [prepare(train, s, genres) for s in (1, 2, 3)]
    ease = float(np.mean([p["ease"] for p in preps]))
    blend = float(np.mean([p["blend"] for p in preps]))
    print(f"ease {ease:.4f} blend {blend:.4f}", flush=True)
    nf = preps[0]["X"].shape[1]
    subsets = {"all": list(range(nf)), "scores": list(range(12)), "ranks": [1, 3, 5, 7, 9, 11],
               "scores+pop": [*range(12), 12], "scores+pop+era": [*range(12), 12, 15, 16, 17],
               "no-genre": list(range(nf - 1))}  # fmt: skip
    rows: list[dict[str, Any]] = []
    for name, cols in subsets.items():
        for params in GRID:
            vals = [score_config(p, cols, params) for p in preps]
            m = float(np.mean(vals))
            print(f"{name:16s} {params} {m:.4f} ({m / blend - 1:+.2%} vs blend)", flush=True)
            rows.append({"features": name, "params": params, "by split": vals, "ndcg@10": m})
    best = max(rows, key=lambda r: r["ndcg@10"])
    print(f"best: {best['features']} {best['params']} {best['ndcg@10']:.4f} ({best['ndcg@10'] / blend - 1:+.2%} vs blend)")  # fmt: skip
    return {"ease": ease, "blend": blend, "rows": rows, "best": best}


def main() -> None:
    write_study("ltr_study", __doc__.splitlines()[0], study)


if __name__ == "__main__":
    main()
