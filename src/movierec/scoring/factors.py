"""The factor family: score = μ + b_u + b_i + p_u·q_i (SVD, SVD++, baseline, ALS, BPR/WARP, Spark ALS).

A visitor is folded in with the model's own rule (``spec["method"]``):

- ``ridge`` (rating predictors): minimise Σ (r − μ − b_i − b_u − q_i·p)² + bias_reg·b_u² + reg·‖p‖² over
  the visitor's ratings with the item side fixed (Koren, Bell & Volinsky 2009, eq. 2 for one user);
  ``bias_reg`` is :data:`RIDGE_BIAS_REG` and ``reg`` :data:`RIDGE_REG`, chosen by
  ``bench/foldin_study.py`` (an artifact whose spec has no ``bias_reg`` uses ``reg`` for both, as
  written).
- ``confidence`` (ALS): x = (YᵀY + Yᵢᵀ(C − I)Yᵢ + λI)⁻¹ YᵢᵀC·1 with c = α·w on the visitor's
  positives (Hu, Koren & Volinsky 2008, eq. 4, with implicit's confidence: its ALS trains on α times
  the matrix it is given, and its ``recalculate_user`` solves this system).
- ``ials`` (iALS, Rendle et al. 2022): x = (Y_uᵀY_u + α₀YᵀY + λ_u I)⁻¹ Y_uᵀ1 over the visitor's positives,
  λ_u = λ·(n_u + α₀·n_items)^ν, the exact solve of the model's own user half-step.
- ``bpr`` (BPR): the user vector maximising the BPR criterion (Rendle et
  al. 2009, "BPR: Bayesian Personalized Ranking from Implicit Feedback", eq. 4) over the visitor's
  positives P against every other item with the item side fixed, mean_{i∈P, j∉P} ln σ(x_ui − x_uj)
  − λ‖u‖², x_ui = u·v_i + b_i: concave in u, solved full batch by L-BFGS (:func:`bpr_fold_in`);
  λ is ``spec["reg"]``, set per model by :func:`bpr_stationary_reg` so that folded-in users sit
  where training put them.
- ``mean`` (WARP and LightFM's other losses; bpr artifacts written before ``bpr``): the mean of the liked
  items' vectors, LightFM's usual cold-start vector. Its scores spread far less than the item biases, so
  a bpr visitor got the popularity list (Toy Story and Finding Nemo liked: popularity's top 6).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError
from movierec.scoring import base
from movierec.scoring.base import Exported, positive_mask, visitor_weights

__all__ = [
    "RIDGE_BIAS_REG",
    "RIDGE_REG",
    "Scorer",
    "bpr_fold_in",
    "bpr_stationary_reg",
    "confidence_fold_in",
    "export",
    "ials_fold_in",
    "ridge_fold_in",
]

#: ridge penalties of an explicit visitor's solve: ``RIDGE_REG`` on p_u, ``RIDGE_BIAS_REG`` on b_u. The first
#: build used 1 on both, and a visitor who gave two films 5 stars got a bias so large that every prediction
#: read 5.0. ``bench/foldin_study.py`` (ml-latest-small, svd and svdpp at their defaults, 20% of users held
#: out as visitors with 1–10 of their ratings given, five seeds) chose 3 on the bias, 1 on the factors: the
#: lowest RMSE on the rest of their ratings (svd 0.9724 against 0.9823, svdpp 0.9716 against 0.9904) among
#: points where neither model's lists lose NDCG@10 (svd 0.1818 vs 0.1789, svdpp 0.1585 vs 0.1531)
RIDGE_REG = 1.0
RIDGE_BIAS_REG = 3.0


def _arr(model: Any, name: str) -> np.ndarray | None:
    value = getattr(model, name, None)
    return None if value is None else np.asarray(value)


def export(model: Any, n_users: int, n_items: int, threshold: float) -> Exported:
    """Factors and biases as float32 (a bias-only baseline has zero factors) and the fold-in rule."""
    ifac, ibias, ufac = _arr(model, "item_factors_"), _arr(model, "item_bias_"), _arr(model, "user_factors_")
    if ifac is None:
        ifac, ufac = np.zeros((n_items, 0), np.float32), np.zeros((n_users, 0), np.float32)
    if ufac is None or ufac.shape[0] != n_users or ifac.shape[0] != n_items:
        raise ConfigError(
            f"cannot export {model.name!r}: user/item factor shapes do not match the training data"
        )
    biased = getattr(model, "biased", True) is not False
    gm = float(np.asarray(getattr(model, "global_mean_", 0.0) or 0.0)) if biased else 0.0
    ub = _arr(model, "user_bias_")
    arrays = {
        "user_factors": np.ascontiguousarray(ufac, dtype=np.float32),
        "item_factors": np.ascontiguousarray(ifac, dtype=np.float32),
        "user_bias": np.zeros(n_users, np.float32) if ub is None else ub.astype(np.float32).ravel(),
        "item_bias": np.zeros(n_items, np.float32) if ibias is None else ibias.astype(np.float32).ravel(),
        "global_mean": np.float32(gm),
    }
    from movierec.models.base import BaseRecommender

    own = getattr(type(model), "similar_vectors", None)
    if own is not None and own is not BaseRecommender.similar_vectors:  # a 'similar' space of its own (iALS)
        sim = model.similar_vectors()
        if sim is not None and np.shape(sim) == ifac.shape:
            arrays["similar_vectors"] = np.ascontiguousarray(sim, dtype=np.float32)
    return arrays, fold_in_spec(model, threshold, biased)


def fold_in_spec(model: Any, threshold: float, biased: bool = True) -> dict[str, Any]:
    """How a visitor joins this model: the model's own ``fold_in_spec()`` when it declares one."""
    own = getattr(model, "fold_in_spec", None)
    if callable(own):
        spec = dict(own())
    elif getattr(model, "kind", "implicit") == "explicit":
        spec = {"method": "ridge", "reg": RIDGE_REG, "bias_reg": RIDGE_BIAS_REG}
    else:
        spec = {"method": "mean"}
    spec.setdefault("biased", bool(biased))
    scale = getattr(model, "rating_scale_", None)
    if scale is not None:
        spec.setdefault("top", float(scale[1]))  # a visitor's unrated 'liked' items count as the top rating
    spec["threshold"] = float(threshold)
    return spec


def ridge_fold_in(
    item_factors: np.ndarray,
    item_bias: np.ndarray,
    global_mean: float,
    items: np.ndarray,
    ratings: np.ndarray,
    reg: float = RIDGE_REG,
    biased: bool = True,
    bias_reg: float | None = RIDGE_BIAS_REG,
) -> np.ndarray:
    """Unclipped predicted ratings for a visitor after the ridge solve of (b_u, p_u): penalty ``reg`` on
    p_u and ``bias_reg`` on b_u (``None``: ``reg`` on both, as artifacts written before it had)."""
    q = item_factors[items].astype(np.float64)
    target = ratings.astype(np.float64) - global_mean - item_bias[items]
    design = np.hstack([np.ones((len(items), 1)), q]) if biased else q
    penalty = np.full(design.shape[1], reg)
    if biased and bias_reg is not None:
        penalty[0] = bias_reg
    gram = design.T @ design + np.diag(penalty)
    sol = np.linalg.solve(gram, design.T @ target)
    bu, pu = (sol[0], sol[1:]) if biased else (0.0, sol)
    out = global_mean + bu + item_bias + item_factors @ pu.astype(np.float32)
    return np.asarray(out, dtype=np.float32)


def confidence_fold_in(
    item_factors: np.ndarray, items: np.ndarray, weights: np.ndarray, alpha: float, reg: float,
    gram: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """The user vector minimising Σ c_ui (p_ui − x·y_i)² + λ‖x‖² for fixed item factors Y (Hu et al. 2008, eq. 4).

    x = (YᵀY + Yᵀ(C − I)Y + λI)⁻¹ YᵀC p with c = α·w on the given items, the confidence ``implicit``'s ALS
    trains with (it multiplies the matrix it is given by α, and its ``recalculate_user`` solves this same
    system; 1 + α·w, the paper's form, folded a visitor in with more confidence than training users had);
    ``gram`` is YᵀY when precomputed.
    """
    y = item_factors.astype(np.float64)
    yi = y[items]
    conf = alpha * np.asarray(weights, dtype=np.float64)
    base = y.T @ y if gram is None else gram
    a = base + (yi.T * (conf - 1.0)) @ yi + reg * np.eye(y.shape[1])
    b = (yi * conf[:, None]).sum(axis=0)
    return np.linalg.solve(a, b).astype(np.float32)


def ials_fold_in(
    item_factors: np.ndarray, items: np.ndarray, alpha0: float, reg: float, gram: np.ndarray | None = None
) -> np.ndarray:
    """The exact iALS user vector for fixed item factors H: (H_uᵀH_u + α₀HᵀH + λ_u I)⁻¹ H_uᵀ1
    (``gram`` is HᵀH when precomputed)."""
    h = item_factors.astype(np.float64)
    hu = h[items]
    base = h.T @ h if gram is None else gram
    a = hu.T @ hu + alpha0 * base + reg * np.eye(h.shape[1])
    return np.linalg.solve(a, hu.sum(axis=0)).astype(np.float32)


def _bpr_pairs(pos: np.ndarray, neg: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Over every pair (i, j) of ``pos`` × ``neg`` scores: the mean of −ln σ(x_i − x_j), and the sums of
    σ(x_j − x_i) (each pair's gradient weight) over each positive's row and each negative's column."""
    diff = pos[:, None] - neg[None, :]
    soft = np.logaddexp(0.0, -diff)  # −ln σ(d)
    weight = np.exp(-diff - soft)  # σ(−d) = e^(−d)·σ(d)
    return float(soft.mean()), weight.sum(axis=1), weight.sum(axis=0)


#: threadpoolctl's controller of this process's BLAS libraries, made on the first fold-in (empty until then)
_BLAS: list[Any] = []


def _one_blas_thread() -> AbstractContextManager[object]:
    """BLAS held to one thread where threadpoolctl is installed (the ``serve`` extra), else nothing.

    The controller is made once: ``threadpool_limits`` made a new one each call, listing every loaded
    shared library again (1.6 ms a call on a bare interpreter, 5.5 ms with a test run's libraries loaded:
    a sixth of a 3-movie visitor's bpr fold-in, measured); ``limit`` on a kept one is 0.02 ms. The libraries
    it holds are those loaded at the first fold-in, numpy's BLAS among them (loaded with numpy), which is
    the only one the fold-in's products run on."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - a core install without serve's extra
        return nullcontext()
    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


def bpr_fold_in(
    item_factors: np.ndarray, item_bias: np.ndarray, items: np.ndarray, reg: float, max_iter: int = 50
) -> np.ndarray:
    """The user vector u maximising mean_{i∈P, j∉P} ln σ(u·(v_i − v_j) + b_i − b_j) − reg·‖u‖², P = ``items``.

    BPR-Opt (Rendle et al. 2009, eq. 4) for one user with the item side fixed, every pair counted once
    (no sampling): concave in u, so L-BFGS from u = 0 reaches the one optimum, deterministically. The
    mean over pairs matches LearnBPR's training, whose penalty acts once per sampled pair, so ``reg`` means
    the same for a visitor with 2 positives as for a user with 200. Measured on ml-latest-small (bpr
    defaults, 200 factors; 5-7 function evaluations; one BLAS thread), median CPU time of 21 visitors: 5 ms
    for a visitor with 2 liked movies, 12 ms with 10, 24 ms with 20, 43 ms with 50 (the pairs grow as liked ×
    catalogue; 9/24/37/84 ms before the BLAS controller was kept, 2bce77a3).
    """
    from scipy.optimize import minimize

    v = np.asarray(item_factors, dtype=np.float32)  # the products in float32: no copy of the factors
    b = np.asarray(item_bias, dtype=np.float32)
    pos = np.unique(np.asarray(items, dtype=np.int64))
    rest = np.ones(len(b), dtype=bool)
    rest[pos] = False
    neg = np.flatnonzero(rest)
    if not len(neg) or not len(pos):
        return np.zeros(v.shape[1], dtype=np.float32)
    scale = 1.0 / (len(pos) * len(neg))

    def loss(u: np.ndarray) -> tuple[float, np.ndarray]:
        x = v @ u.astype(np.float32) + b
        value, row, col = _bpr_pairs(x[pos], x[neg])
        coef = np.zeros(len(b), dtype=np.float32)
        coef[pos], coef[neg] = row, -col
        return value + reg * float(u @ u), -(coef @ v).astype(np.float64) * scale + 2.0 * reg * u

    # one BLAS thread: the products are small, and threads that wait on a busy machine cost 10× (measured)
    with _one_blas_thread():
        start = np.zeros(v.shape[1])
        found = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    return np.asarray(found.x, dtype=np.float32)


def bpr_stationary_reg(
    item_factors: np.ndarray,
    item_bias: np.ndarray,
    user_factors: np.ndarray,
    seen: sp.csr_matrix,
    *,
    users: int = 100,
    negatives: int = 1000,
    positives: int = 50,
    seed: int = 0,
) -> float:
    """The λ of :func:`bpr_fold_in` at which the model's trained user vectors are (in the median) optima.

    At the optimum the criterion's gradient g(u) equals 2λu, so a trained user u* is one for
    λ_u = u*·g(u*) / (2‖u*‖²); the median over up to ``users`` training users with positives (seeded),
    g estimated on up to ``positives`` of each one's positives against ``negatives`` items drawn once,
    is the model's λ (1 where no trained vector is nonzero). Training's own penalty cannot serve: bpr's
    default ``user_alpha`` is 0, so the trained vectors' size is set by the epochs run. Measured on
    ml-latest-small's per-user 80/20 split (positives ≥ 4, seed 42), 89 ms of CPU: bpr's λ 0.0194 folds
    all 609 training users in from their positives with a median norm of 0.86 against 0.74 trained
    (median ratio 1.09, correlation 0.71); warp's λ (0.0073; 0.008 folds 100 users in at a median 2.32
    against 2.38).
    """
    v = np.asarray(item_factors, dtype=np.float64)
    b = np.asarray(item_bias, dtype=np.float64)
    counts = np.diff(seen.indptr)
    rng = np.random.default_rng(seed)
    who = np.flatnonzero(counts > 0)
    who = np.sort(rng.choice(who, min(users, len(who)), replace=False))
    pool = rng.choice(len(b), min(negatives, len(b)), replace=False)
    v_pool, b_pool = v[pool], b[pool]
    found: list[float] = []
    for user in who:
        u = np.asarray(user_factors[user], dtype=np.float64)
        liked = seen.indices[seen.indptr[user] : seen.indptr[user + 1]]
        neg = ~np.isin(pool, liked)
        pos = rng.choice(liked, positives, replace=False) if len(liked) > positives else liked
        norm2 = float(u @ u)
        if norm2 <= 0 or not neg.any():
            continue
        _, row, col = _bpr_pairs(v[pos] @ u + b[pos], (v_pool @ u + b_pool)[neg])
        grad = (row @ v[pos] - col @ v_pool[neg]) / (len(pos) * int(neg.sum()))
        found.append(float(u @ grad) / (2.0 * norm2))
    return max(float(np.median(found)), 1e-6) if found else 1.0


class Scorer(base.Scorer):
    """Dot products plus biases for known users; the spec's fold-in for visitors; cosine for 'similar'."""

    family: ClassVar[str] = "factors"

    def __init__(self, arrays: dict[str, np.ndarray], seen: sp.csr_matrix, spec: dict[str, Any]) -> None:
        super().__init__(arrays, seen, spec)
        self._gram: np.ndarray | None = None

    def known(self, u: int) -> np.ndarray:
        a = self.a
        s = a["item_factors"] @ a["user_factors"][u]
        s += a["item_bias"]
        s += a["user_bias"][u] + a["global_mean"]
        return np.asarray(s, dtype=np.float32)

    def fold_in(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray | None:
        a, spec = self.a, self.spec
        q = a["item_factors"]
        method = spec.get("method", "mean")
        if method == "ridge":
            r = np.full(len(items), float(spec.get("top", 5.0))) if ratings is None else ratings
            return ridge_fold_in(
                q, a["item_bias"], float(a["global_mean"]), items, np.asarray(r, np.float64),
                float(spec.get("reg", RIDGE_REG)), bool(spec.get("biased", True)),
                None if spec.get("bias_reg") is None else float(spec["bias_reg"]),
            )  # fmt: skip
        liked = positive_mask(ratings, len(items), self.threshold)
        if not liked.any() or q.shape[1] == 0:
            return None
        if self._gram is None and method in ("confidence", "ials"):
            self._gram = q.astype(np.float64).T @ q.astype(np.float64)
        if method == "ials":
            a0 = float(spec["alpha0"])
            reg = float(spec["reg"]) * (int(liked.sum()) + a0 * self.n_items) ** float(spec["reg_exponent"])
            vec = ials_fold_in(q, items[liked], a0, reg, self._gram)
        elif method == "confidence":
            w = visitor_weights(spec, ratings, liked)
            vec = confidence_fold_in(q, items[liked], w, float(spec["alpha"]), float(spec["reg"]), self._gram)
        elif method == "bpr":
            vec = bpr_fold_in(q, a["item_bias"], items[liked], float(spec["reg"]))
        else:  # "mean": warp and the other losses, and bpr artifacts written before "bpr"
            vec = q[items[liked]].astype(np.float64).mean(axis=0).astype(np.float32)
        return np.asarray(q @ vec + a["item_bias"], dtype=np.float32)

    def item_vectors(self) -> np.ndarray | None:
        """The model's own 'similar' space where it exported one (iALS), else its item factors."""
        f = self.a.get("similar_vectors")
        if f is None:
            f = self.a["item_factors"]
        return f if f.shape[1] > 0 else None
