"""docs/results.md: our models beside published figures on the same protocols (issue 19).

    PYTHONPATH=src python bench/bench_results.py [--only GROUP ...] [--models NAME ...] [--render-only]

Groups (each measured row is stored in ``bench/results/results19.json`` with the load average, the
dataset checksum, the parameters and the seconds, so a rerun of one group keeps the others):

- ``u1``: RMSE on ml-100k's canonical u1.base/u1.test (``--split ml100k-u1``), the split GC-MC,
  Sparse FC and GLocal-K report on; defaults only, nothing tuned on u1.test.
- ``cv5``: RMSE, Surprise's protocol: 5-fold KFold (seed 42) over ml-100k, mean of the folds; Surprise's
  README table is the published reference (its folds are random too: comparable in protocol).
- ``topn``: NDCG@10 on ml-100k, per-user 75/25 split (seed 42), every rating a positive, full ranking,
  seen items excluded, with each model's defaults (chosen by ``bench/validation_study.py`` on
  validation folds cut from the training part).
- ``topn-tuned``: the same protocol, each model with the best point of its ml-100k study in
  ``bench/results/validation_study.json`` (``bench/validation_study.py MODEL``: validation folds inside
  the training part, never the test part).
- ``mlls``: the bundled ml-latest-small, ``compare``'s default implicit split (positives ≥ 4, 20% of
  them held out, seed 42), full ranking, each model with its **defaults** (set by
  ``bench/validation_study.py MODEL --protocol mlls``), and the ratio to ``lightfm:bpr`` with its defaults.
- ``mlls-seeds``: the same protocol and defaults on five splits (seeds 42…46, ``compare --seed``), so the
  ratio to ``lightfm:bpr`` is read on more than one draw of the held-out 20% (one split of 610 users
  measures NDCG@10 to about ±0.019). Nothing is chosen on these splits: the defaults are fixed before.

``--models`` remeasures only those models of a group and keeps the group's other stored rows.

Published figures are quoted with their source; a figure measured under a different protocol is
labelled "not comparable" rather than left out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from common import canonical_params, ratios_over_draws  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "results19.json"
DOC = ROOT / "docs" / "results.md"
# bayesian-fm's nested validation study (bench/bfm_study.py) and its side-by-side runs with myfm (bench_bfm.py)
BFM_STUDY = ROOT / "bench" / "results" / "bfm_study.json"
BFM_BENCH = ROOT / "bench" / "results" / "bfm.json"
ML100K = Path(os.environ.get("MOVIEREC_ML100K", str(ROOT.parent / "shared" / "data" / "ml-100k")))

# the blend's bayesian-fm is bfm_study's u1 choice (timesvdpp-flipped, rank 10, 300 sweeps: chosen on a
# hold-out inside u1.base); its ridge weights are fitted on the blend's own hold-out inside u1.base
U1_BLEND = {"bayesian-fm": {"features": "timesvdpp-flipped", "factors": 10, "epochs": 300}, "svdpp": {},
            "knn-baseline": {}, "baseline": {}}  # fmt: skip
U1_MODELS = ["baseline", "svd", "svdpp", "knn-baseline", "knn-zscore", "slope-one", "nmf", "co-clustering",
             ("bayesian-fm", {"features": "mf", "epochs": 100}), ("blend", {"bases": U1_BLEND})]  # fmt: skip
CV5_MODELS = ["normal-predictor", "baseline", "svd", "knn-zscore", "slope-one", "nmf", "co-clustering"]
# cornac:bivae with its README's 500 epochs (at 100 it scored popularity's 0.2517 here, 64 s at load 7.3); not in
# MLLS_MODELS: ~5 s an epoch on ml-latest-small's 9,724 items here, 40 minutes a fit
TOPN_MODELS = [
    "popularity",
    "bpr",
    "ials",
    "slim",
    "rp3beta",
    "ease",
    "mult-vae",
    "recvae",
    "cornac:bpr",
    "cornac:bivae",
    "user-ease",
    "ensemble",
]
# the best point of each one's ml-100k validation study (the ensemble's: its bases at their best points)
TUNED_MODELS = ["ease", "ials", "rp3beta", "slim", "user-ease", "ensemble"]
MLLS_MODELS = ["lightfm:bpr", "popularity", "bpr", "ials", "slim", "rp3beta", "ease", "user-ease", "ensemble"]
# the mlls rows read again on five draws of compare's split (its --seed); 42 is the table's own
MLLS_SEEDS = [42, 43, 44, 45, 46]
MLLS_SEED_MODELS = ["lightfm:bpr", "slim", "ease", "ials", "user-ease", "ensemble"]
STUDY = ROOT / "bench" / "results" / "validation_study.json"

# (protocol, model, metric value, source, comparable?)
PUBLISHED: list[tuple[str, str, float, str, bool]] = [
    ("u1", "GLocal-K", 0.8889, "Han et al. 2021 (CIKM), Table 2, ML-100K u1", True),
    ("u1", "GC-MC", 0.910, "Berg, Kipf & Welling 2017, Table 3 (0.905 with side features)", True),
    (
        "u1",
        "myfm Bayesian timeSVD++ flipped (rank 10)",
        0.8855,
        "issue 19: myfm on u1 here, relational blocks",
        True,
    ),
    ("cv5", "Surprise SVD", 0.934, "Surprise README benchmark, ml-100k 5-fold", True),
    ("cv5", "Surprise SVD++", 0.92, "Surprise README benchmark, ml-100k 5-fold", True),
    ("cv5", "Surprise SlopeOne", 0.946, "Surprise README benchmark", True),
    ("cv5", "Surprise NMF", 0.963, "Surprise README benchmark", True),
    ("cv5", "Surprise CoClustering", 0.963, "Surprise README benchmark", True),
    ("cv5", "Surprise KNNWithMeans (centered k-NN)", 0.951, "Surprise README benchmark", True),
    ("cv5", "Surprise BaselineOnly", 0.944, "Surprise README benchmark", True),
    ("cv5", "Surprise NormalPredictor", 1.514, "Surprise README benchmark", True),
    (
        "cv5",
        "Bayesian timeSVD++ flipped",
        0.7485,
        "Rendle, Zhang & Koren 2019, ML-10M 90/10: other data",
        False,
    ),
    (
        "topn",
        "Cornac BPR (k 200, 100 epochs, lr 0.01, λ 0.001)",
        0.404,
        "issue 19: Cornac on exactly this split",
        True,
    ),
    ("topn", "Mult-VAE", 0.426, "Liang et al. 2018, ML-20M NDCG@100 on held-out users", False),
    ("topn-tuned", "Mult-VAE", 0.426, "Liang et al. 2018, ML-20M NDCG@100 on held-out users", False),
    ("topn-tuned", "RecVAE", 0.442, "Shenbin et al. 2020, ML-20M NDCG@100 on held-out users", False),
    ("topn-tuned", "EASE", 0.420, "Steck 2019, ML-20M NDCG@100 on held-out users", False),
]


def _load() -> Any:
    from movierec.datasets import load

    return load(str(ML100K), rating_scale=(1.0, 5.0))


def _spec(m: Any) -> tuple[str, dict[str, Any]]:
    return (m, {}) if isinstance(m, str) else (m[0], dict(m[1]))


def _rmse(name: str, params: dict[str, Any], train: Any, test: Any) -> tuple[float, float]:
    from movierec.evaluation import predict_ratings
    from movierec.models.registry import create

    tic = time.perf_counter()
    model = create(name, **params).fit(train)
    secs = time.perf_counter() - tic
    pred = predict_ratings(model, test)  # with the test ratings' timestamps for a model that uses time
    return float(np.sqrt(np.mean((pred - test.ratings) ** 2))), secs


def _tuned_params() -> list[tuple[str, dict[str, Any]]]:
    """The best validation point of each TUNED_MODELS study (ml-100k protocol)."""
    from validation_study import best_point

    studies = json.loads(STUDY.read_text())["studies"]
    best = {m: best_point(studies, m) for m in TUNED_MODELS}
    return [(m, _fixed_gamma(m, dict(row["params"]))) for m, row in best.items() if row is not None]


def _fixed_gamma(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """A study point as it was tuned: ease's γ fixed for every user (``popularity_shrink=0``), as it was before
    the history-aware γ(n) (``bench/visitor_gamma_study.py``) became ease's default; the ensemble's ease
    base likewise. The studies' rows record no ``popularity_shrink``, so the default would move them."""
    if name == "ease":
        params.setdefault("popularity_shrink", 0.0)
    elif name == "ensemble" and isinstance(params.get("bases"), dict) and "ease" in params["bases"]:
        params["bases"] = {**params["bases"], "ease": {"popularity_shrink": 0.0, **params["bases"]["ease"]}}
    return params


def _topn_rows(
    group: str, specs: list[Any], train: Any, test: Any, models: list[str] | None
) -> list[dict[str, Any]]:
    from movierec import metrics as M
    from movierec.evaluation import relevant_matrix
    from movierec.models.registry import create

    rel = relevant_matrix(test, None)
    users = np.flatnonzero(np.diff(rel.indptr) > 0)
    rows = []
    for m in specs:
        name, params = _spec(m)
        if models and name not in models:
            continue
        tic = time.perf_counter()
        model = create(name, **params).fit(train)
        secs = time.perf_counter() - tic
        recs, _ = model.recommend(users, k=10)
        per_user = M.ndcg(recs, rel[users], 10)
        rows.append({"group": group, "model": name, "params": params, "ndcg@10": float(per_user.mean()),
                     "ndcg@10 ci95": list(M.bootstrap_ci(per_user)), "fit_seconds": secs,
                     "loadavg": [round(x, 2) for x in os.getloadavg()]})  # fmt: skip
        print(rows[-1], flush=True)
    return rows


def measure(group: str, models: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows of one group (see the module docstring)."""
    from movierec.evaluation import make_split
    from movierec.split import kfold, per_user_holdout

    ds: Any = _load() if group not in ("mlls", "mlls-seeds") else None  # those load ml-latest-small below
    rows = []
    if group == "u1":
        train, test, _ = make_split(ds.interactions, "ml100k-u1")
        for m in U1_MODELS:
            name, params = _spec(m)
            if models and name not in models:
                continue
            rmse, secs = _rmse(name, params, train, test)
            rows.append({"group": group, "model": name, "params": params, "rmse": rmse, "fit_seconds": secs})
            print(rows[-1], flush=True)
    elif group == "cv5":
        folds = kfold(ds.interactions, 5, 42)
        for m in CV5_MODELS:
            name, params = _spec(m)
            if models and name not in models:
                continue
            got = [_rmse(name, params, tr, te) for tr, te in folds]
            rows.append({"group": group, "model": name, "params": params, "rmse": float(np.mean([g[0] for g in got])),
                         "fit_seconds": float(np.mean([g[1] for g in got]))})  # fmt: skip
            print(rows[-1], flush=True)
    elif group in ("topn", "topn-tuned"):
        train, test = per_user_holdout(ds.interactions, 0.25, seed=42)
        specs = TOPN_MODELS if group == "topn" else _tuned_params()
        rows = _topn_rows(group, specs, train.to_implicit(1.0), test, models)
    elif group == "mlls":
        from movierec.datasets import load

        ds = load("ml-latest-small")
        train, test, _ = make_split(ds.interactions, "interactions-holdout", seed=42, threshold=4.0)
        rows = _topn_rows(group, MLLS_MODELS, train.to_implicit(4.0), test, models)
    elif group == "mlls-seeds":
        from movierec.datasets import load

        ds = load("ml-latest-small")
        for seed in MLLS_SEEDS:
            train, test, _ = make_split(ds.interactions, "interactions-holdout", seed=seed, threshold=4.0)
            for r in _topn_rows(group, MLLS_SEED_MODELS, train.to_implicit(4.0), test, models):
                rows.append({**r, "seed": seed})
    for r in rows:
        r.setdefault("loadavg", [round(x, 2) for x in os.getloadavg()])
        r["dataset_sha256"] = ds.sha256
    return rows


TITLES = {
    "u1": ("ml-100k u1.base / u1.test, RMSE (lower is better)", "rmse"),
    "cv5": ("ml-100k, Surprise's 5-fold protocol, mean RMSE (lower is better)", "rmse"),
    "topn": (
        "ml-100k per-user 75/25, every rating a positive, full ranking, NDCG@10 (higher is better)",
        "ndcg@10",
    ),
    "topn-tuned": (
        "ml-100k per-user 75/25, every rating a positive, full ranking, NDCG@10, tuned on validation folds "
        "inside the training part (higher is better)",
        "ndcg@10",
    ),
    "mlls": (
        "ml-latest-small, compare's default implicit split (positives ≥ 4, 20% held out, seed 42), full "
        "ranking, NDCG@10 with defaults (higher is better)",
        "ndcg@10",
    ),
    "mlls-seeds": (
        "ml-latest-small, compare's default implicit split drawn five times (seeds 42…46), NDCG@10 with defaults",
        "ndcg@10",
    ),
}


def study_rows() -> list[dict[str, Any]]:
    """Rows of ``bench/bfm_study.py`` (tuned on training data only) and ``bench/bench_bfm.py`` (ours and
    myfm at equal rank and sweeps, same run), in this page's row format."""
    rows: list[dict[str, Any]] = []
    if BFM_STUDY.is_file():
        stored = json.loads(BFM_STUDY.read_text())
        for group, rec in (stored.get("studies") or stored).items():
            tests = [r for r in rec["rows"] if r["stage"] == "test"]
            chosen = [canonical_params("bayesian-fm", {k: v for k, v in r["params"].items() if k != "random_state"})
                      for r in tests]  # fmt: skip
            label = (
                chosen[0]
                if all(c == chosen[0] for c in chosen)
                else "chosen per fold: " + "; ".join(f"{c['features']} r{c['factors']}" for c in chosen)
            )
            if len(chosen) > 1 and all(c == chosen[0] for c in chosen):
                label = f"{chosen[0]} (chosen in each of the {len(chosen)} folds)"
            rows.append({"group": group, "model": "bayesian-fm", "params": label, "rmse": rec["rmse"],
                         "fit_seconds": float(np.mean([r["fit_seconds"] for r in tests])),
                         "loadavg": [float(str(tests[-1]["loadavg"]).split()[0])],
                         "source": f"tuned on a validation split of the training part (`{rec['command']}`)"})  # fmt: skip
    if BFM_BENCH.is_file():
        for r in json.loads(BFM_BENCH.read_text()):
            q, prm = r["quality"], canonical_params("bayesian-fm", r["params"])
            load = [float(np.median(q["loadavg_during"]))]
            for who, key, secs in (("bayesian-fm", "rmse_u1_ours", r["ours_seconds"]),
                                   ("myfm:bfm", "rmse_u1_myfm", r["reference_seconds"])):  # fmt: skip
                rows.append({"group": "u1", "model": who, "params": prm, "rmse": q[key], "fit_seconds": secs,
                             "loadavg": load, "source": "side by side (`bench/bench_bfm.py`)"})  # fmt: skip
    return rows


def render_seeds(rows: list[dict[str, Any]]) -> list[str]:
    """The ``mlls-seeds`` section: NDCG@10 per split seed and model, and each model's ratio to lightfm:bpr."""
    if not rows:
        return []
    seeds = sorted({r["seed"] for r in rows})
    at = {(r["model"], r["seed"]): r["ndcg@10"] for r in rows}
    over_draws = ratios_over_draws(rows)  # best first; lightfm:bpr (1.00×) goes last
    lines = [f"## {TITLES['mlls-seeds'][0]}", "",
             "| model | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | mean ratio to lightfm:bpr |",
             "|---|" + "---|" * (len(seeds) + 2)]  # fmt: skip
    for m, ratios in [*over_draws.items(), ("lightfm:bpr", [1.0])]:
        vals = [at.get((m, s)) for s in seeds]
        cells = " | ".join("–" if v is None else f"{v:.4f}" for v in vals)
        mean = np.mean([v for v in vals if v is not None])
        lines.append(f"| movierec `{m}` | {cells} | {mean:.4f} | {np.mean(ratios):.2f}× |")
    best, per_seed = next(iter(over_draws.items()))
    lines += ["", f"Each column is one draw of the held-out 20% (the split `compare --seed S` makes; the models keep "
              f"their own seeds); every model keeps its defaults "
              f"(chosen on validation cut from seed 42's training part). Seeds 43–46 hold out other ratings, some of "
              f"which that study saw, which can only flatter our rows on them, not lightfm:bpr's. `{best}`'s ratio "
              f"ranges {min(per_seed):.2f}×–{max(per_seed):.2f}× over the draws (issue 19's target: ≥ 1.8×).", ""]  # fmt: skip
    return lines + render_frontier(rows, best)


def render_frontier(rows: list[dict[str, Any]], best: str) -> list[str]:
    """What blends and filters of our models could give on validation (``frontier_study.py --protocol mlls``),
    against the gain the 1.8× target asks of the best default over the draws; nothing without that study."""
    path = ROOT / "bench/results/frontier_study_mlls.json"
    if not path.exists():
        return []
    study = json.loads(path.read_text())
    mean = {m: np.mean([r["ndcg@10"] for r in rows if r["model"] == m]) for m in (best, "lightfm:bpr")}
    needed = 1.8 * mean["lightfm:bpr"] / mean[best] - 1
    at = {r["model"]: r["ndcg@10"] for r in rows if r["seed"] == 42}  # compare's default split
    asks = 1.8 * at["lightfm:bpr"] / at[best] - 1 if {best, "lightfm:bpr"} <= set(at) else None
    return [
        *_frontier_paragraph(study, best, needed, asks),
        *render_ltr(),
        *render_weighting(),
        *render_bases(),
    ]


def _frontier_paragraph(study: dict[str, Any], best: str, needed: float, asks: float | None = None) -> list[str]:  # fmt: skip
    """The frontier study's paragraph: ease, the best blend (as chosen and cross-fitted), the gain asked
    (``needed`` over the draws; ``asks`` on the default split, where the levers together are read against it)."""
    ease = study["ease"]["ndcg@10"]
    # the best of the weight grid (the study's own "best" may be a row of another study, e.g. era popularity)
    top = max((r for r in study["rows"] if r["study"] == "blend"), key=lambda r: r["ndcg@10"])
    by = {r["config"]: r for r in study["rows"]}
    low_pass = max((r for r in study["rows"] if r["study"] == "low-pass"), key=lambda r: r["ndcg@10"])
    crossfit = cross_fitted(study)
    return [f"How far blending can go, on validation only (`{study['command']}`; the three inner splits of seed 42's "
            f"training part, rows in `bench/results/frontier_study_mlls.json`): `ease`'s defaults read {ease:.4f}; "
            f"the best fixed-weight blend of the default models' max-normalised scores ({top['config']}) reads "
            f"{top['ndcg@10']:.4f} ({top['gain']:+.1%}), `ials` alone {by['ials']['ndcg@10']:.4f} "
            f"({by['ials']['gain']:+.1%}), ease with GF-CF's low-pass term (Shen et al. 2021) at best "
            f"{low_pass['ndcg@10']:.4f} ({low_pass['gain']:+.1%}). Those defaults and that blend were chosen on "
            f"these same splits, so each gain is an upper bound; chosen on two splits and read on the third, the "
            f"best blend reads {crossfit:.4f} ({crossfit / ease - 1:+.1%}). `ensemble`'s defaults start from that "
            f"blend.{_levers_sentences(study, crossfit)}{_fifth_base_sentences(study)}{_three_more_sentences(study)}{_two_more_sentences(study)}{_side_information_sentence(study)}{_transitions_sentence(study)}{_combined_sentence(study, asks)} A mean of 1.8× `lightfm:bpr` over the draws asks "
            f"{needed:+.1%} of `{best}`.", ""]  # fmt: skip


def _levers_sentences(study: dict[str, Any], crossfit: float) -> str:
    """The three later levers of the frontier study (bagged ials, rank fusion, ials past 256 factors), each
    read at its best row and chosen on two splits against the blend grid's cross-fitted ``crossfit``."""
    if "levers" not in study:
        return ""
    lever = {lv["lever"]: lv for lv in study["levers"]}

    def top(name: str, *prefixes: str) -> dict[str, Any]:
        return max((r for r in study["rows"] if r["study"] == name and r["config"].startswith(prefixes)),
                   key=lambda r: r["ndcg@10"])  # fmt: skip

    weight, bag = lever["ials weight, in the start blend"], top("bagging", "start blend, ials mean")
    rrf, start = top("rrf", "RRF", "weighted RRF"), top("rrf", "start blend")
    wide, wide_blend = top("ials-large", "ials 512", "ials 1024"), top("ials-large", "start blend, ials 512", "start blend, ials 1024")  # fmt: skip

    def honest(name: str) -> str:
        return f"{lever[name]['with the blend grid, chosen on two splits']['ndcg@10']:.4f}"

    return (f" Three more levers add nothing that a higher ials weight does not (rows and `levers` in the same JSON): ials "
            f"averaged over 3 or 5 seeds reads at best {top('bagging', 'ials, mean')['ndcg@10']:.4f} alone and "
            f"{bag['ndcg@10']:.4f} in the blend ({bag['config'].removeprefix('start blend, ')}), one seed past the "
            f"grid's ials weight of 0.6 {weight['best']['ndcg@10']:.4f} ({weight['best']['config'].removeprefix('start blend, ')}); "
            f"reciprocal rank fusion of the four bases (Cormack et al. 2009; k 10 or 60, equal or the start weights) "
            f"at best {rrf['ndcg@10']:.4f}, below the score blend's {start['ndcg@10']:.4f}; ials at 512 and 1024 "
            f"factors (Rendle et al. 2022) at best {wide['ndcg@10']:.4f} alone and {wide_blend['ndcg@10']:.4f} in "
            f"the blend (each an upper bound). Each added to the weight grid, chosen on two splits and read on the "
            f"third: ials's weight {honest('ials weight, in the start blend')}, "
            f"the bags {honest('ials bagged, in the start blend')}, rank fusion {honest('rank fusion')}, the wider "
            f"ials {honest('ials larger, in the start blend')}, against the grid's {crossfit:.4f}.")  # fmt: skip


def _fifth_base_sentences(study: dict[str, Any]) -> str:
    """Issue 19's last three levers (BSPM, LinkProp, a session co-occurrence base), each a fifth term of the
    start blend chosen on two splits, and the session base in ``ensemble``'s own fit; nothing without them."""
    lever = {lv["lever"]: lv for lv in study.get("levers", [])}
    names = (
        "BSPM, in the start blend",
        "LinkProp, in the start blend",
        "session co-occurrence, in the start blend",
    )
    if not all(n in lever for n in (*names, "session co-occurrence, in ensemble's own fit")):
        return ""
    honest = {n: lever[n]["with the blend grid, chosen on two splits"]["ndcg@10"] for n in names}
    session, ens = lever[names[2]], lever["session co-occurrence, in ensemble's own fit"]
    default = next(
        r for r in study["rows"] if r["study"] == "ensemble-session" and r["config"] == "ensemble (defaults)"
    )
    share = float(np.mean(session["held-out positives within 60 s of a training positive"]))
    return (f" Issue 19's last three levers, each a fifth max-normalised term of the start blend at weight 0.1–1, "
            f"chosen on two splits and read on the third: BSPM (Choi et al. 2023) {honest[names[0]]:.4f}, LinkProp "
            f"(Fu et al. 2022) {honest[names[1]]:.4f}, a base of movies co-rated within τ seconds by the same users "
            f"{honest[names[2]]:.4f} (best {session['best']['ndcg@10']:.4f}, τ 60 s, which joined the grid after a "
            f"look at all three splits); that base in `ensemble`'s own fit as a fifth base reads "
            f"{ens['best']['ndcg@10']:.4f} ({ens['best']['config'].rsplit(', ', 1)[-1]}) against the defaults' "
            f"{default['ndcg@10']:.4f}, {ens['chosen on two splits']['ndcg@10']:.4f} with the start weight chosen on "
            f"two splits. It feeds on what a random hold-out leaves: {share:.0%} of the held-out positives were rated "
            f"within 60 s of one of the same user's training positives.")  # fmt: skip


def _three_more_sentences(study: dict[str, Any]) -> str:
    """User k-NN, a blend-level popularity term and SGFCF (``--only uknn,popularity-term,sgfcf``), each alone
    and as a fifth term of the start blend; nothing without them."""
    lever = {lv["lever"]: lv for lv in study.get("levers", [])}
    names = (
        "user k-NN, alone",
        "user k-NN, in the start blend",
        "popularity term, in the start blend",
        "SGFCF, alone",
        "SGFCF, in the start blend",
    )
    if not all(n in lever for n in names):
        return ""
    best = {n: lever[n]["best"]["ndcg@10"] for n in names}
    chosen = {n: lever[n]["chosen on two splits"]["ndcg@10"] for n in names}
    return (f" Three more, read the same way (`--only uknn,popularity-term,sgfcf`), none adopted: user-based k-NN "
            f"on binary positives (Herlocker et al. 1999; cosine, k 50–200, shrinkage 0 or 10) reads "
            f"{best[names[0]]:.4f} alone at best and adds nothing to the start blend (best {best[names[1]]:.4f}, the "
            f"blend itself; {chosen[names[1]]:.4f} chosen on two splits); a popularity term at the blend level, start "
            f"blend + w · z(log(1 + popularity)) with w −0.3 to 0.2, reads {chosen[names[2]]:.4f} chosen on two "
            f"splits, so the bases already carry the popularity the blend wants; SGFCF's generalised graph filter "
            f"(Peng et al. 2024; D_u^-α R D_i^-β, top 64 or 256 singular vectors weighted by σ^γ, 24 settings placed "
            f"after probes on the first split) reads {best[names[3]]:.4f} alone at best and {best[names[4]]:.4f} in "
            f"the blend, {chosen[names[4]]:.4f} chosen on two splits.")  # fmt: skip


def _two_more_sentences(study: dict[str, Any]) -> str:
    """∞-AE and higher-order EASE (``--only inf-ae``, ``--only higher-ease``), each alone and as a fifth term of
    the start blend; nothing without them."""
    lever = {lv["lever"]: lv for lv in study.get("levers", [])}
    names = ("inf-AE, alone", "inf-AE, in the start blend", "higher-order EASE, alone", "higher-order EASE, in the start blend")  # fmt: skip
    if not all(n in lever for n in names):
        return ""
    start = next(r for r in study["rows"] if r["study"] == "higher-ease" and r["config"] == "start blend")

    def read(alone: str, blended: str) -> str:
        best, chosen = lever[blended]["best"], lever[blended]["chosen on two splits"]["ndcg@10"]
        added = "adds nothing to the start blend (its best row is the blend itself)" if best["config"] == "start blend" else f"reads {best['ndcg@10']:.4f} in the blend at best"  # fmt: skip
        return f"reads {lever[alone]['best']['ndcg@10']:.4f} alone at best and {added}, {chosen:.4f} chosen on two splits"  # fmt: skip

    return (f" Two more, read the same way (`--only inf-ae`, `--only higher-ease`), none adopted, against the start "
            f"blend's {start['ndcg@10']:.4f}: ∞-AE (Sachdeva et al. 2022; kernel ridge regression over users with an "
            f"infinitely wide autoencoder's NTK) {read(*names[:2])}; higher-order EASE (Steck & Liang 2021; ease "
            f"plus a term in indicator features of the 1000–16000 movie pairs co-rated by the most users, λ_C "
            f"300–10⁴) {read(*names[2:])}.")  # fmt: skip


def _side_information_sentence(study: dict[str, Any]) -> str:
    """Item side information (``--only ease-features``): collective EASE in place of the start blend's ease, with
    and without the tags of held-out pairs; nothing without it."""
    lever = {lv["lever"]: lv for lv in study.get("levers", [])}
    ways = ("all tags", "tags less held-out pairs", "genres,year")
    names = [f"ease + features ({way}), in place of ease" for way in ways]
    if not all(n in lever for n in names):
        return ""
    chosen = [lever[n]["chosen on two splits"]["ndcg@10"] for n in names]
    start = next(r for r in study["rows"] if r["study"] == "ease-features" and r["config"] == "start blend")
    return (f" Item side information (`--only ease-features`): collective EASE (genres, tags, year as extra rows) "
            f"in place of the start blend's ease reads {chosen[1]:.4f} chosen on two splits against the blend's "
            f"{start['ndcg@10']:.4f} ({chosen[1] / start['ndcg@10'] - 1:+.1%}; the bar is +1.5%), {chosen[2]:.4f} with "
            f"genres and year alone; {chosen[0]:.4f} with every tag, but a tag by a user on one of their own held-out "
            f"movies tells the model of the hold-out (150–170 validation pairs a split), so that figure does not "
            f"count.")  # fmt: skip


def _transitions_sentence(study: dict[str, Any]) -> str:
    """Next-item transitions (``--only transitions``) alone and in the start blend; nothing without them."""
    lever = {lv["lever"]: lv for lv in study.get("levers", [])}
    names = ("next-item transitions, alone", "next-item transitions, in the start blend")
    if not all(n in lever for n in names):
        return ""
    start = next(r for r in study["rows"] if r["study"] == "transitions" and r["config"] == "start blend")
    alone, blended = lever[names[0]]["best"]["ndcg@10"], lever[names[1]]
    chosen = blended["chosen on two splits"]["ndcg@10"]
    return (f" Next-item transitions (`--only transitions`), read as a cloze on the gaps a random hold-out leaves "
            f"(first-order Markov, Rendle et al. 2010; Σ P(i | a) · P(c | i) or Σ P(i | a) + P(prev = i | c) over a "
            f"user's consecutive training positives a, c): at best {alone:.4f} alone and "
            f"{blended['best']['ndcg@10']:.4f} in the blend, {chosen:.4f} chosen on two splits, "
            f"{'below' if chosen < start['ndcg@10'] else 'against'} the blend's {start['ndcg@10']:.4f}.")  # fmt: skip


def _combined_sentence(study: dict[str, Any], asks: float | None) -> str:
    """The near misses switched on together (``--only combined``), in the start blend and in ``ensemble``'s
    own fit, each chosen on two splits and read on the third, against ``asks``, the gain 1.8× asks of the
    best default on the default split's test part; nothing without them."""
    lever = {lv["lever"]: lv for lv in study.get("levers", [])}
    names = (
        "the near misses together, in the start blend",
        "the near misses together, in ensemble's own fit",
    )
    if not all(n in lever for n in names):
        return ""
    rows = {r["config"]: r for r in study["rows"] if r["study"] == "combined"}
    start, defaults = rows[lever[names[0]]["rows"][0]]["ndcg@10"], rows["ensemble (defaults)"]["ndcg@10"]
    blend, fit = lever[names[0]], lever[names[1]]
    chosen, fitted = blend["chosen on two splits"]["ndcg@10"], fit["chosen on two splits"]["ndcg@10"]
    bar = "" if asks is None else f", {'short of' if fitted / defaults - 1 < asks else 'past'} the {asks:+.1%} that 1.8× asks on the default split"  # fmt: skip
    return (f" Nor do the near misses add up (`--only combined`): the session base (60 s, by row) at 0, 0.5 or 1, "
            f"`weighting=\"rating\"` on ease, slim and rp3beta, ials at 0.6 or 1.2, and ease with or without "
            f"genres and year, {len(blend['rows'])} settings of the start blend, read {blend['best']['ndcg@10']:.4f} "
            f"at best and {chosen:.4f} chosen on two splits ({chosen / start - 1:+.1%} over the blend's "
            f"{start:.4f}); in `ensemble`'s own fit, its defaults and {len(fit['rows']) - 1} of those settings with "
            f"the session base starting at 0.5 or 1 read {fit['best']['ndcg@10']:.4f} at best and {fitted:.4f} "
            f"chosen on two splits, {fitted / defaults - 1:+.1%} over its defaults' {defaults:.4f}{bar}.")  # fmt: skip


def render_ltr() -> list[str]:
    """The learned re-ranker's result on the same validation splits (``ltr_study.py``); nothing without it."""
    path = ROOT / "bench/results/ltr_study.json"
    if not path.exists():
        return []
    study = json.loads(path.read_text())
    best, blend = study["best"], study["blend"]
    below = sum(r["ndcg@10"] < blend for r in study["rows"])
    return [f"A learned re-ranker does not get there either (`{study['command']}`, rows in "
            f"`bench/results/ltr_study.json`): on each inner split, a classifier trained on a further 80/20 cut of "
            f"inner-train (gradient-boosted trees or logistic regression, on each base's score and rank, the item's "
            f"popularity, rating mean and era against the user's active span, and genre affinity) re-ranks the "
            f"fixed blend's top 100. Its best configuration ({best['features']} features, "
            f"{_ltr_params(best['params'])}) reads {best['ndcg@10']:.4f}, {best['ndcg@10'] / blend - 1:+.1%} against "
            f"the blend's {blend:.4f} on the same candidates; {below} of the {len(study['rows'])} configurations read "
            f"below the blend.", ""]  # fmt: skip


def render_weighting() -> list[str]:
    """Weighing positives by their rating, on the same validation splits (``weighting_study.py``)."""
    path = ROOT / "bench/results/weighting_study.json"
    if not path.exists():
        return []
    study = json.loads(path.read_text())
    plain = {r["model"]: r["ndcg@10"] for r in study["rows"] if not r["params"]}
    gains = ", ".join(
        f"{name} {row['ndcg@10']:.4f} against {plain[name]:.4f}"
        + (
            f" ({', '.join(f'{k} {v:g}' for k, v in row['params'].items() if k != 'weighting')})"
            if len(row["params"]) > 1
            else ""
        )
        for name, row in study["best_weighted"].items()
    )
    blend = study["blend"]
    out = (f"Nor does weighing each positive by its rating (`{study['command']}`, rows in "
           f"`bench/results/weighting_study.json`; `weighting=\"rating\"`: each positive weighs its rating over "
           f"its user's mean, so the binary defaults' λ and α keep their meaning): at their best points, {gains}; "
           f"the start blend of those bases reads {blend['rating']['ndcg@10']:.4f} against "
           f"{blend['binary']['ndcg@10']:.4f} ({blend['rating']['ndcg@10'] / blend['binary']['ndcg@10'] - 1:+.1%}), "
           f"each point chosen on the splits it is read on.")  # fmt: skip
    ml100k = study.get("ml100k")
    if ml100k:
        pairs: dict[str, dict[str, Any]] = {}
        for r in ml100k["rows"]:
            pairs.setdefault(r["model"].removeprefix("ml-100k "), {})[
                r["params"].get("weighting", "binary")
            ] = r
        read = ", ".join(f"{m} {v['rating']['ndcg@10']:.4f} against {v['binary']['ndcg@10']:.4f}"
                         for m, v in pairs.items())  # fmt: skip
        out += (f" On ml-100k with every rating a positive (per-user 75/25, three inner splits of the training "
                f"part) the same weighting at the defaults loses: {read}.")  # fmt: skip
    return [out + " The defaults stay binary (docs/models.md, Weighting).", ""]


def render_bases() -> list[str]:
    """A fifth base beside the start blend, on the same validation splits (``bases_study.py``)."""
    path = ROOT / "bench/results/bases_study.json"
    if not path.exists():
        return []
    study = json.loads(path.read_text())
    start = study["start"]["ndcg@10"]
    best_of: dict[str, dict[str, Any]] = {}
    for r in study["rows"]:
        if r["base"] not in best_of or r["ndcg@10"] > best_of[r["base"]]["ndcg@10"]:
            best_of[r["base"]] = r
    read = "; ".join(
        f"{base} {r['ndcg@10'] / start - 1:+.1%} (weight {r['weight']:g}; alone {r['alone']:.4f})"
        for base, r in best_of.items()
    )
    skipped = study.get("skipped (no torch)") or []
    tail = f" ({', '.join(skipped)} left out: torch is not installed)" if skipped else ""
    return [f"Nor does a fifth base (`{study['command']}`, rows in `bench/results/bases_study.json`): beside the "
            f"start blend ({start:.4f}), each at its best weight of {', '.join(f'{w:g}' for w in (0.2, 0.5, 1))}: "
            f"{read}{tail}. Each weight is chosen on the splits it is read on.", ""]  # fmt: skip


def _ltr_params(params: dict[str, Any]) -> str:
    if "linear" in params:
        return f"logistic regression, C {params['linear']:g}"
    return f"trees: {params['max_iter']} iterations, {params['max_leaf_nodes']} leaves"


def cross_fitted(study: dict[str, Any]) -> float:
    """The frontier study's blend choice read honestly: for each split, the blend (or single model, or ease)
    best on the other splits, scored on that one; the mean over the splits."""
    rows = [r for r in study["rows"] if r["study"] in ("blend", "single")] + [study["ease"]]
    n = len(study["ease"]["by split"])
    picked = []
    for s in range(n):
        others = [i for i in range(n) if i != s]
        pick = max(rows, key=lambda r: float(np.mean([r["by split"][i] for i in others])))
        picked.append(pick["by split"][s])
    return float(np.mean(picked))


def render(rows: list[dict[str, Any]]) -> str:
    """The markdown page."""
    lines = [
        "# Results beside published figures",
        "",
        "Generated by `PYTHONPATH=src python bench/bench_results.py` (do not edit by hand); rows from",
        "`bench/results/results19.json`. Our rows use each model's **defaults**; defaults come from",
        "`bench/validation_study.py` (validation folds cut from training data only, never a test split;",
        "rows and commands in `bench/results/validation_study.json`). Timings were taken on a shared 2-core",
        "machine; the load average of each row is in the JSON. One table's rows again: `--only u1` (or `cv5`,",
        "`topn`, `topn-tuned`, `mlls`, `mlls-seeds`), one model's: `--only u1 --models svd`.",
        "",
    ]
    for group, (title, metric) in TITLES.items():
        if group == "mlls-seeds":
            lines += render_seeds([r for r in rows if r["group"] == group])
            continue
        lines += [f"## {title}", "", f"| model | {metric} | fit s | source |", "|---|---|---|---|"]
        ours = [r for r in rows if r["group"] == group]
        pub = [p for p in PUBLISHED if p[0] == group]
        ci: dict[int, Any] = {id(r): r.get(f"{metric} ci95") for r in ours}
        entries = [(r[metric], f"movierec `{r['model']}`" + (f" {canonical_params(r['model'], r['params'])}" if r["params"] else ""),
                    f"{r['fit_seconds']:.1f}", r.get("source", "measured") + " (load " + f"{r['loadavg'][0]:.1f})",
                    f" [{ci[id(r)][0]:.4f}, {ci[id(r)][1]:.4f}]" if ci[id(r)] else "")
                   for r in ours]  # fmt: skip
        entries += [(v, m, "–", s if ok else f"**not comparable**: {s}", "") for _g, m, v, s, ok in pub]
        rev = metric != "rmse"
        entries.sort(key=lambda e: -e[0] if rev else e[0])
        lines += [f"| {m} | {v:.4f}{c} | {t} | {s} |" for v, m, t, s, c in entries]
        lines.append("")
        if any(ci.values()):
            lines += ["Brackets: 95% bootstrap interval of the mean over the test users (1,000 resamples, seed "
                      "42), where the row recorded it.", ""]  # fmt: skip
        if group == "mlls" and ours:
            ref = [r[metric] for r in ours if r["model"] == "lightfm:bpr"]
            best = max(ours, key=lambda r: r[metric])
            if ref:
                band = best.get(f"{metric} ci95")
                inside = (f" 1.8× is {1.8 * ref[0]:.4f}; the best row's 95% interval reaches {band[1]:.4f}."
                          if band else "")  # fmt: skip
                lines += [f"Best: `{best['model']}` at {best[metric] / ref[0]:.2f}× `lightfm:bpr`'s NDCG@10 "
                          f"(issue 19's target: ≥ 1.8×, moonshot 2×).{inside}", ""]  # fmt: skip
        if group == "topn" and ours:
            lines += ["`ease`, `rp3beta`, `ials` and `slim` defaults come from their ml-latest-small study "
                      "(`--protocol mlls`, the data `compare` runs on); their ml-100k validation points are in the "
                      "tuned table below (ials at its ml-100k point: 0.4662; at the ml-latest-small defaults: the "
                      "row above; slim 0.4748 at its ml-100k point, 0.4754 at the defaults). "
                      "`cornac:bivae`: Cornac's README settings (k 50, encoder [100], 500 epochs).", ""]  # fmt: skip
        if group == "topn-tuned":
            lines += ["Commands of the studies: `PYTHONPATH=src python bench/validation_study.py MODEL` "
                      "(`--protocol mlls` for the defaults); every grid point and its validation NDCG@10 are in "
                      "`bench/results/validation_study.json`. `ease`'s point comes from `--seeds 1,2,3`: each "
                      "point's NDCG@10 is its mean over three inner splits (0.2803 at this point; the one-split "
                      "study's point, λ 60, γ −0.1, no dropout, reads 0.2753 there and 0.4825 on the test part, "
                      "this one 0.4813: a better choice on validation that the one test split does not confirm). "
                      "Issue 19's target for this table, 0.49, lies inside tuned ease's own 95% interval: one "
                      "split of 943 users measures NDCG@10 to about ±0.017. The seven-base ensemble above it was "
                      "chosen on validation alone (+0.9% over ease there) and its test row read once after; "
                      "that it gains +1.9% here is partly this split's luck.",
                      ""]  # fmt: skip
        if group in ("topn-tuned", "mlls") and any(r["model"] == "ensemble" for r in ours):
            lines += ["`ensemble` chooses its base weights itself, inside `fit`, on a 20% per-user hold-out of the "
                      "training part (docs/models.md), then refits its bases on the whole training part; "
                      + ("its bases here are ease, user-ease, rp3beta, ials, slim, mult-vae and recvae at the "
                         "best points of their own ml-100k studies, and its own options come from its study "
                         "(`--seeds 1,2,3`: 0.2827 on validation against ease's 0.2803)."
                         if group == "topn-tuned" else "with its defaults (ease, slim, ials, rp3beta at their "
                         "defaults; seed 42, as `compare` seeds it) that is the whole procedure: its search starts "
                         "from the best fixed blend on validation below (ease 1, slim 0.5, ials 0.6, rp3beta 0.2) "
                         "and moves only on a hold-out gain above 2 standard errors."), ""]  # fmt: skip
    lines += [
        "`bayesian-fm` rows marked *tuned* come from `bench/bfm_study.py`: a random 20% of the training part",
        "(u1.base, or each 5-fold training fold) is held out, a fixed grid (features flipped | timesvdpp-flipped",
        "× rank 10 | 32, 300 sweeps) is scored on it, and the best point is refitted on the whole training part",
        "before the test part is read (`bench/results/bfm_study.json`). `myfm:bfm` rows: myfm on exactly our",
        "design, same rank and sweeps, fitted in the same run as ours (`bench/results/bfm.json`).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=list(TITLES), default=list(TITLES))
    ap.add_argument("--quick", "--scale", action="store_true", help=argparse.SUPPRESS)  # bench/run.py's flags
    ap.add_argument("--models", nargs="*", default=None, help="Remeasure only these models of the groups.")
    ap.add_argument(
        "--render-only", action="store_true", help="Rewrite docs/results.md from the stored rows."
    )
    args = ap.parse_args()
    stored = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"rows": []}
    if not args.render_only:
        for group in args.only:
            new = measure(group, args.models)
            fresh = {r["model"] for r in new}
            stored["rows"] = [
                r for r in stored["rows"] if r["group"] != group or (args.models and r["model"] not in fresh)
            ] + new
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(json.dumps(stored, indent=1))
    DOC.write_text(render(stored["rows"] + study_rows()))
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
