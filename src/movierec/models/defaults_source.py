"""Where each registered model's default hyperparameters come from, in one place.

``movierec models NAME`` prints the entry and the model zoo (docs/models.md) shows it, so a person can
tell a default chosen by a validation study (rerun with the command given; every grid point is in
``bench/results/validation_study.json`` or the study's own file) from one kept for parity with a
reference library or from the notebook the project started from. The studies choose on validation
splits cut from the training part only, never on a test split (docs/results.md). A model without
hyperparameters needs no entry; a test checks every other registered model has one.
"""

from __future__ import annotations

_STUDY = "bench/validation_study.py"
_NOTEBOOK = "the reference notebook's settings, so its numbers reproduce; no study"
_KNN = (
    "Surprise's k-NN (k 40, min_k 1, MSD similarity), item-based like the notebook's knn-baseline; no study"
)
_LIGHTFM = _NOTEBOOK + " (LightFM with 40 components, lr 0.05, 25 epochs, adagrad)"
_MIRROR = "the same parameters and defaults as movierec's {ours}, so both fit the same settings side by side"

DEFAULTS_FROM: dict[str, str] = {
    "baseline": "Surprise's BaselineOnly (ALS: reg_i 10, reg_u 15, 10 epochs; SGD: lr 0.005, reg 0.02), "
    "so it matches surprise:baseline as given; no study",
    "svd": _NOTEBOOK + " (80 factors, 25 epochs; Surprise's lr 0.005 and reg 0.02); movierec tune "
    "--model svd searches them on a dataset's own validation folds",
    "svdpp": "Surprise's SVDpp (20 factors, 20 epochs, lr 0.007, reg 0.02); no study",
    "knn-basic": _KNN,
    "knn-means": _KNN,
    "knn-baseline": _NOTEBOOK + " (item-based, pearson_baseline with shrinkage 100, k 40, min_k 2)",
    "knn-zscore": _KNN,
    "itemknn-explicit": "LensKit 2025's ItemKNNScorer (max_nbrs 20, min_nbrs 1, min_sim 1e-6, every neighbour "
    "saved), so its predictions are LensKit's; no study",
    "nmf": "Surprise's NMF (15 factors, 50 epochs, reg 0.06); no study",
    "co-clustering": "Surprise's CoClustering (3 × 3 clusters, 20 epochs); no study",
    "bayesian-fm": "the first build's (rank 10, 200 sweeps, 5 burn-in, flipped features); "
    "bench/bfm_study.py chose timeSVD++-flipped with 300 sweeps on ml-100k's validation splits, which "
    "needs timestamps, so the default stays on the features every ratings file has",
    "blend": "a procedure: ridge weights (alpha 1) chosen inside fit on a 20% hold-out of the training "
    "ratings, over svd, svdpp, knn-baseline and baseline at their defaults",
    "popularity": "every interaction counted, no time window",
    "segment-popularity": "the first build's (age and gender, shrinkage 10); no study",
    "itemknn": "the first build's (cosine, k 100), no study; neighbourhood 'candidate' from bench/itemknn_study.py "
    "(validation splits, NDCG@10: 0.147 against 0.122 for 'rated' on ml-latest-small, 0.246 against 0.227 on ml-100k)",
    "ease": f"{_STUDY} ease --protocol mlls (ml-latest-small, compare's default split): λ 50, γ −0.3, "
    "δ 0.25; "
    "popularity_shrink κ 20 from bench/visitor_gamma_study.py (people who give n ≤ 5 of their positives, "
    "NDCG@10 0.348 against 0.284 for the fixed γ on ml-latest-small, 0.423 against 0.363 on ml-100k)",
    "user-ease": f"{_STUDY} user-ease --protocol mlls: λ 300",
    "ensemble": f"{_STUDY} ensemble --protocol mlls --seeds 1,2,3: ease, slim, ials and rp3beta at their "
    "defaults, max-normalised, the weight search starting from ease 1, slim 0.5, ials 0.6, rp3beta 0.2 (the "
    "best fixed blend of bench/frontier_study.py --protocol mlls) and moving only on a gain above 2 standard "
    "errors of a hold-out cut inside fit",
    "als": "the first build's (64 factors, λ 0.05, α 2, 15 epochs); ials is the studied model; no study",
    "rp3beta": f"{_STUDY} rp3beta --protocol mlls: α 0.8, β 0.35, k 200",
    "slim": f"{_STUDY} slim --protocol mlls --seeds 1,2,3: α 0.1, l1_ratio 0.01, k 200",
    "ials": f"{_STUDY} ials --protocol mlls --seeds 1,2,3: 256 factors, α₀ 0.2, λ 0.01, 8 epochs",
    "mult-vae": f"the paper's (Liang et al. 2018); {_STUDY} mult-vae [--protocol mlls] kept them, with 100 epochs",
    "recvae": f"the paper's sizes; {_STUDY} recvae --protocol mlls chose Adam at 2e-3 for 10 epochs",
    "bpr": f"{_STUDY} bpr (ml-100k's validation splits): 200 factors, lr 0.01, item λ 0.001, 150 epochs, "
    f"LearnBPR's uniform sampling; {_STUDY} bpr --protocol mlls --seeds 1,2,3 prefers lr 0.05, λ 0.01, 600 "
    "epochs on ml-latest-small (0.1564 vs 0.1173), which lose on ml-100k's (0.2458 vs 0.2573)",
    "warp": _LIGHTFM
    + f"; normalize_features 'users' (item rows unscaled) kept after a validation study, {_STUDY} warp --protocol "
    "mlls --seeds 1,2,3 --item-features genres,tags and warp --seeds 1,2,3 --item-features genres (validation "
    "NDCG@10 at these defaults 0.1379 vs 0.1364 normalised on ml-latest-small, 0.2570 vs 0.2571 on ml-100k; "
    "at 64 components and 25 epochs normalised rows win: 0.1424 vs 0.1358, 0.2624 vs 0.2416)",
    "logistic": _LIGHTFM,
    "warp-kos": _NOTEBOOK + " (LightFM with 40 components, lr 0.05, 25 epochs, adagrad; LightFM's k 5, n 10)",
    "sequential-popularity": "a 30-day half-life; no study",
    "markov": "additive smoothing with α 1 towards popularity; no study",
    "sasrec": "the configuration that beat markov and ease on ml-latest-small's leave-last-out split in "
    "bench/bench_sequential.py; training stops on validation NDCG@10 inside the training part",
    "gru4rec": "bench/gru4rec_study.py (ml-latest-small leave-last-out, validation on each user's latest "
    "training item): BPR-max loss, 5 epochs, patience 1",
    "surprise:baseline": _MIRROR.format(ours="baseline"),
    "surprise:svd": _MIRROR.format(ours="svd"),
    "surprise:svdpp": _MIRROR.format(ours="svdpp"),
    "surprise:knn-baseline": _MIRROR.format(ours="knn-baseline"),
    "surprise:knn-zscore": _MIRROR.format(ours="knn-zscore"),
    "surprise:nmf": _MIRROR.format(ours="nmf"),
    "surprise:co-clustering": _MIRROR.format(ours="co-clustering"),
    "lightfm:bpr": _NOTEBOOK + " (40 components, lr 0.05, 25 epochs, adagrad)",
    "lightfm:warp": _MIRROR.format(ours="warp"),
    "lightfm:logistic": _MIRROR.format(ours="logistic"),
    "lightfm:warp-kos": _MIRROR.format(ours="warp-kos"),
    "implicit:bpr": "implicit's own (lr 0.01, λ 0.01, 100 epochs) with the notebook's 40 factors",
    "cornac:bpr": "Cornac's BPR at issue 19's comparison point (k 200, 100 epochs, lr 0.01, λ 0.001)",
    "cornac:bivae": "Cornac's README example (k 50, encoder [100], tanh, Poisson, 500 epochs)",
    "myfm:bfm": _MIRROR.format(ours="bayesian-fm"),
}


def defaults_from(name: str) -> str:
    """Where ``name``'s defaults come from ("" for a model without hyperparameters or an unknown name)."""
    return DEFAULTS_FROM.get(name, "")
