"""SLIM and iALS beside a reference implementation of the same objective, on the same data (issue 19).

    PYTHONPATH=src python bench/bench_references.py [--repeat 3] [--models slim ials]

- ``slim``: our fit against scikit-learn's ``ElasticNet(alpha, l1_ratio, positive=True,
  fit_intercept=False)`` run once per item with that item's column zeroed in X, its ``k`` largest weights
  kept: the recipe of Dacrema et al.'s SLIMElasticNet code, at our defaults (α 0.1, l1_ratio 0.01, k 200)
  and the same ``max_iter`` (100) and ``tol`` (1e-4). scikit-learn stops on a duality gap, we on the largest
  weight change, so the two solutions differ by their tolerances; NDCG@10 of both is in the row.
- ``ials``: seconds per epoch of ours (each row by a few conjugate-gradient steps in the native kernel)
  against a plain numpy loop of the same loss (Rendle et al. 2022): every user's and item's vector solved
  exactly, ``np.linalg.solve`` of α₀·HᵀH + Σ_{i∈I_u} h_i h_iᵀ + λ·ν_u·I, from the same initial factors, at
  our defaults (256 factors, α₀ 0.2, λ 0.01, 8 epochs); NDCG@10 of both after the same epochs.

RP3beta has no row: no library that installs here implements it, and ours is itself the plain scipy
product of its definition, computed in row blocks. Data: the bundled ml-latest-small under ``compare``'s
default split (positives ≥ 4, 20% held out, seed 42); quality is NDCG@10 on its test part (full ranking,
seen items excluded), read only to check the pairs agree. Times: median of ``--repeat`` runs, ours and the
reference alternated, with the load average in the notes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import make_row, parse_mode, write_some_results  # noqa: E402

MODELS = ("slim", "ials")


def _data() -> tuple[Any, Any, Any]:
    from movierec.datasets import load
    from movierec.evaluation import make_split

    ds = load("ml-latest-small")
    train, test, _ = make_split(ds.interactions, "interactions-holdout", seed=42, threshold=4.0)
    return ds, train.to_implicit(4.0), test


def _ndcg_of_scores(scores: np.ndarray, train: Any, test: Any) -> float:
    """NDCG@10 of a users × items score matrix on ``test`` (training items excluded), as ``compare`` reads it."""
    from movierec import metrics as M
    from movierec.beyond import train_pairs
    from movierec.evaluation import relevant_matrix
    from movierec.models.base import topk

    rel = relevant_matrix(test, None)
    users = np.flatnonzero(np.diff(rel.indptr) > 0)
    s = np.array(scores[users], dtype=np.float64)
    s[train_pairs(train)[users].nonzero()] = -np.inf
    return float(M.ndcg(topk(s, 10)[0], rel[users], 10).mean())


def _sklearn_slim(x: sp.csr_matrix, alpha: float, l1_ratio: float, k: int) -> sp.csr_matrix:
    """Dacrema et al.'s recipe: one scikit-learn ElasticNet per item, its own column zeroed, top-k kept."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import ElasticNet

    xc = sp.csc_matrix(x, dtype=np.float64, copy=True)
    net = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=True, fit_intercept=False, copy_X=False,
                     max_iter=100, tol=1e-4)  # fmt: skip
    rows, cols, vals = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for j in range(xc.shape[1]):
            lo, hi = xc.indptr[j], xc.indptr[j + 1]
            if lo == hi:
                continue
            y = xc[:, j].toarray().ravel()
            saved = xc.data[lo:hi].copy()
            xc.data[lo:hi] = 0.0
            net.fit(xc, y)
            xc.data[lo:hi] = saved
            nz = np.flatnonzero(net.coef_ > 0)
            keep = nz[np.argsort(-net.coef_[nz])[:k]]
            rows.append(keep)
            cols.append(np.full(len(keep), j))
            vals.append(net.coef_[keep])
    n = x.shape[1]
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


def slim_row(repeat: int) -> dict[str, Any]:
    from movierec.models.itemitem import SLIM
    from movierec.models.weighting import weighted_csr

    ds, train, test = _data()
    model = SLIM()
    x = weighted_csr(train)
    load_before = os.getloadavg()
    ours, ref = [], []
    for _ in range(repeat):  # alternated, so a change of load touches both
        tic = time.perf_counter()
        model.fit(train)
        ours.append(time.perf_counter() - tic)
        tic = time.perf_counter()
        w_ref = _sklearn_slim(x, model.alpha, model.l1_ratio, model.k)
        ref.append(time.perf_counter() - tic)
        print("slim ours", round(ours[-1], 2), "scikit-learn", round(ref[-1], 2), flush=True)
    nd_ours = _ndcg_of_scores(model.score(np.arange(train.n_users)), train, test)
    nd_ref = _ndcg_of_scores(np.asarray((x @ w_ref).toarray()), train, test)
    o, r = statistics.median(ours), statistics.median(ref)
    return make_row(
        "references", "slim fit (α 0.1, l1_ratio 0.01, k 200)", o,
        "scikit-learn ElasticNet per item (Dacrema et al.'s recipe)", r,
        quality={"ndcg@10_ours": nd_ours, "ndcg@10_reference": nd_ref, "ndcg_gap": nd_ours - nd_ref,
                 "speedup": r / o},
        notes=f"ml-latest-small compare train split ({train.n_users} users × {train.n_items} items, "
        f"{train.n_ratings} positives); whole fit, median of {repeat} runs alternated; ours on "
        f"{os.cpu_count()} threads, scikit-learn on one; load average {load_before[0]:.1f} → {os.getloadavg()[0]:.1f}",
        dataset_sha256=ds.sha256, ours_runs=[round(t, 2) for t in ours], reference_runs=[round(t, 2) for t in ref],
    )  # fmt: skip


def _plain_ials_half(
    x: sp.csr_matrix, fixed: np.ndarray, solve: np.ndarray, a0: float, reg: np.ndarray
) -> None:
    """Every row of ``solve`` (in place) by an exact solve against ``fixed`` (iALS's normal equations)."""
    gram = a0 * (fixed.T.astype(np.float64) @ fixed)
    eye = np.eye(fixed.shape[1])
    for u in range(solve.shape[0]):
        idx = x.indices[x.indptr[u] : x.indptr[u + 1]]
        if len(idx) == 0:
            solve[u] = 0.0
            continue
        h = fixed[idx].astype(np.float64)
        solve[u] = np.linalg.solve(gram + h.T @ h + reg[u] * eye, h.sum(axis=0))


def ials_row(repeat: int) -> dict[str, Any]:
    from movierec.models.ials import IALS
    from movierec.models.weighting import weighted_csr

    ds, train, test = _data()
    model = IALS()
    x = sp.csr_matrix(weighted_csr(train), dtype=np.float32)
    xt = sp.csr_matrix(x.T)
    n_users, n_items = x.shape
    d, a0, lam, nu, epochs = (
        model.factors,
        model.alpha0,
        model.regularization,
        model.reg_exponent,
        model.epochs,
    )
    reg_u = lam * (np.diff(x.indptr) + a0 * n_items).astype(np.float64) ** nu
    reg_i = lam * (np.diff(xt.indptr) + a0 * n_users).astype(np.float64) ** nu
    load_before = os.getloadavg()
    ours, ref = [], []
    for _ in range(repeat):
        model.fit(train)
        ours.append(statistics.median(h["seconds"] for h in model.history_))
        rng = np.random.default_rng(model.random_state)  # the same initial factors as ours
        scale = float(model.init_std) / np.sqrt(d)
        users = (rng.standard_normal((n_users, d)) * scale).astype(np.float32)
        items = (rng.standard_normal((n_items, d)) * scale).astype(np.float32)
        secs = []
        for _epoch in range(epochs):
            tic = time.perf_counter()
            _plain_ials_half(x, items, users, a0, reg_u)
            _plain_ials_half(xt, users, items, a0, reg_i)
            secs.append(time.perf_counter() - tic)
        ref.append(statistics.median(secs))
        print("ials epoch ours", round(ours[-1], 3), "plain", round(ref[-1], 3), flush=True)
    nd_ours = _ndcg_of_scores(model.score(np.arange(n_users)), train, test)
    nd_ref = _ndcg_of_scores(users.astype(np.float64) @ items.T, train, test)
    o, r = statistics.median(ours), statistics.median(ref)
    return make_row(
        "references", f"ials epoch ({d} factors, α₀ {a0:g}, λ {lam:g}, {epochs} epochs)", o,
        "plain numpy loop, exact solves (same loss, same start)", r,
        quality={"ndcg@10_ours": nd_ours, "ndcg@10_reference": nd_ref, "ndcg_gap": nd_ours - nd_ref,
                 "speedup": r / o},
        notes=f"seconds per epoch (median over {epochs} epochs, median of {repeat} runs alternated), "
        f"ml-latest-small compare train split ({n_users} users × {n_items} items); ours {model.cg_steps} CG "
        f"steps a row on {os.cpu_count()} threads, numpy's LAPACK on its own threads; load average "
        f"{load_before[0]:.1f} → {os.getloadavg()[0]:.1f}",
        dataset_sha256=ds.sha256,
    )  # fmt: skip


def main() -> None:
    pick = argparse.ArgumentParser(add_help=False)
    pick.add_argument("--models", nargs="*", default=list(MODELS), choices=list(MODELS))
    chosen, rest = pick.parse_known_args()
    args = parse_mode(__doc__.splitlines()[0], rest)
    rows = [{"slim": slim_row, "ials": ials_row}[m](args.repeat) for m in chosen.models]
    for r in rows:
        print(r, flush=True)
    print(
        write_some_results("references", rows, mode=args.mode)
    )  # a run of some models keeps the others' rows


if __name__ == "__main__":
    main()
