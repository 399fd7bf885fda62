"""The rest of Surprise's rating models, so a Surprise user finds every algorithm they know:
``normal-predictor``, ``slope-one`` (Lemire & Maclachlan 2005), ``nmf`` (Luo et al. 2014) and
``co-clustering`` (George & Merugu 2005). ``knn-zscore`` lives with the other neighbourhood models.

Each follows Surprise's definitions (and, where Surprise draws random numbers, its inner-id order, so
a seed gives Surprise's starting point); every step is vectorised numpy over sparse matrices instead
of Surprise's per-rating Python/Cython loops. Pairs with an unknown user or item get the global mean,
as Surprise's ``default_prediction``.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.base import Tags, check_indices, pair_dots
from movierec.models.baseline import ExplicitModel, first_appearance, surprise_order
from movierec.models.groups import FactorParams, SeededParams
from movierec.models.kernels.accel import nmf_bias_sweep
from movierec.models.params import NON_NEGATIVE, POSITIVE_INT, ActsWhen, Boolean, Constraint
from movierec.models.space import FloatRange, IntRange, SearchSpace

__all__ = ["NMF", "CoClustering", "NormalPredictor", "SlopeOne"]


class _Classic(ExplicitModel):
    item_vectors: ClassVar[bool | None] = False
    # served as a table of the trained users' predictions (movierec.scoring.table); Slope One, NMF and
    # co-clustering place a visitor by their own rule (``visitor_rule``, run by the table family)
    tags: ClassVar[Tags] = Tags(trains_on="ratings", predicts_ratings=True, serving="table")
    has_biases: ClassVar[bool] = False
    #: the table family's rule for a person not in training (movierec.scoring.table.VISITOR_RULES)
    visitor_rule: ClassVar[str | None] = None

    def visitor_arrays(self) -> dict[str, np.ndarray]:
        """The arrays :attr:`visitor_rule` reads (stored in the artifact as ``visitor_<name>``)."""
        return {}


class NormalPredictor(SeededParams, _Classic):
    """A random rating from N(μ̂, σ̂²) fitted to the training ratings by maximum likelihood (Surprise's
    baseline of baselines). Draws are seeded by ``random_state``: the same call gives the same numbers."""

    name: ClassVar[str] = "normal-predictor"
    search_space: ClassVar[SearchSpace] = {}
    #: why export, and the CLI's recommend and similar (which list from its export), refuse it before
    #: training: the clause after its name in :func:`movierec.serving.artifact.exportable`'s refusal
    unservable: ClassVar[str] = "draws random ratings"

    def _fit(self, train: Interactions) -> Self:
        self._remember_train(train)
        self.sigma_ = float(np.sqrt(np.mean((train.ratings - train.global_mean) ** 2)))
        return self

    def _predict(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        users = np.asarray(users)
        rng = np.random.default_rng(self.random_state)
        return rng.normal(float(self.global_mean_), self.sigma_, len(users)), np.zeros(len(users), dtype=bool)


def _antisymmetric(m: np.ndarray, block: int = 1024) -> np.ndarray:
    """``m − mᵀ`` in place, a block pair at a time: Σ_u r_ui − r_uj is (rᵀb)_ij − (bᵀr)_ij, and bᵀr is (rᵀb)ᵀ,
    so slope-one's fit needs one sparse product where it made two, and no second dense items × items
    matrix. Its sums of half stars are exact in float32: the same deviations. ml-latest-small's fit (9,724
    items) took 15-17 s, with 'slope-one · fitting' and nothing else on screen; now 3-7 s (a loaded machine)."""
    n = m.shape[0]
    for i in range(0, n, block):
        for j in range(i, n, block):
            d = m[i : i + block, j : j + block] - m[j : j + block, i : i + block].T
            m[i : i + block, j : j + block] = d
            m[j : j + block, i : i + block] = -d.T
    return m


class SlopeOne(_Classic):
    """Slope One (Lemire & Maclachlan 2005): r̂_ui = μ_u + mean over the user's items j co-rated with i
    of dev(i, j), the average difference r_i − r_j among users who rated both. Dense items × items
    deviations (float32), guarded by ``max_items``. Surprise's Cython keeps r_ui as ``int``, truncating half
    stars; we do not, so on half-star data the two differ (equal on whole stars: tests/models/test_classic.py)."""

    name: ClassVar[str] = "slope-one"
    tags: ClassVar[Tags] = Tags(
        trains_on="ratings", predicts_ratings=True, fold_in="neighbours", serving="table"
    )
    search_space: ClassVar[SearchSpace] = {}
    visitor_rule: ClassVar[str | None] = "slope-one"

    max_items: int = 12_000

    def visitor_arrays(self) -> dict[str, np.ndarray]:
        """The training ratings (CSR): a visitor's deviations are computed for their few movies from them."""
        from movierec.scoring.neighbours import csr_arrays

        return csr_arrays("ratings", self.ratings_)

    def _fit(self, train: Interactions) -> Self:
        if train.n_items > self.max_items:
            raise ConfigError(
                f"slope-one: {train.n_items} items exceed max_items={self.max_items} (two dense items × items "
                f"matrices of {train.n_items**2 * 4 / 2**30:.1f} GiB each)"
            )
        self._remember_train(train)
        r = train.csr().astype(np.float32)  # float32 products: half of Surprise's float64 memory
        b = r.copy()
        b.data[:] = 1.0
        # C order (a CSC product's toarray is Fortran-ordered by default): predicted_scores' sparse × dense
        # products copied both 378 MB matrices into C order on every call, 9 s for ml-latest-small's 610 users
        freq = np.asarray((b.T @ b).toarray(order="C"), dtype=np.float32)
        self.dev_ = _antisymmetric((r.T @ b).toarray(order="C"))  # Σ_u r_ui − r_uj over co-raters
        self.co_rated_ = (freq > 0).astype(np.float32)
        # no co-rater: a zero sum over a zero count; dividing by 1 there gives the 0 a mask gave, seconds sooner
        np.divide(self.dev_, np.maximum(freq, 1.0, out=freq), out=self.dev_)
        self.ratings_ = sp.csr_matrix(r)  # what a visitor's deviations are computed from
        counts = np.diff(r.indptr)
        self.user_mean_ = np.divide(
            np.asarray(r.sum(axis=1)).ravel(), counts, out=np.zeros(r.shape[0]), where=counts > 0
        )
        return self

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        seen = sp.csr_matrix(self.seen_)
        est = self.user_mean_[users].astype(np.float64)
        for start in range(0, len(users), 4096):
            u = users[start : start + 4096]
            i = items[start : start + 4096]
            rows = seen[u]
            total = np.asarray(rows.multiply(self.dev_[i]).sum(axis=1)).ravel()
            n = np.asarray(rows.multiply(self.co_rated_[i]).sum(axis=1)).ravel()
            est[start : start + 4096] += np.divide(total, n, out=np.zeros(len(u)), where=n > 0)
        return est, np.zeros(len(users), dtype=bool)

    def predicted_scores(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """μ_u + (X_u·Devᵀ)/(X_u·[co-rated]ᵀ) over the grid, as matrix products (unclipped; ``score`` ranks
        them by the support-shrunk rating like every rating predictor), far faster than ``predict`` pair by
        pair over the grid (ml-latest-small's 610 × 9,724: under a second instead of a quarter of an hour).
        Dev is antisymmetric and [co-rated] symmetric, so X·Devᵀ = −X·Dev and no transposed copy is made."""
        self._check_fitted()
        users = self._check_users(users)
        cols = (
            np.arange(self.n_items_)
            if items is None
            else check_indices(items, self.n_items_, "item").astype(np.int64)
        )
        rows = sp.csr_matrix(self.seen_)[users]
        dev = self.dev_ if items is None else self.dev_[:, cols]
        co = self.co_rated_ if items is None else self.co_rated_[:, cols]
        total = -np.asarray(rows @ dev)
        n = np.asarray(rows @ co)
        est = self.user_mean_[users][:, None] + np.divide(total, n, out=np.zeros_like(total), where=n > 0)
        unknown = ~(self.user_known_[users][:, None] & self.item_known_[cols][None, :])
        est[unknown] = float(self.global_mean_)
        return est.astype(np.float32)


class NMF(FactorParams, _Classic):
    """Non-negative matrix factorisation by Luo et al. (2014)'s regularised multiplicative updates, as
    Surprise's ``NMF``: ``factors`` (Surprise's ``n_factors``), ``epochs`` (``n_epochs``), ``reg_pu``/``reg_qi``,
    factors initialised U(``init_low``, ``init_high``) in Surprise's order, so a seed reproduces Surprise's run.

    ``biased=True`` is Surprise's biased variant, r̂_ui = μ + b_u + b_i + q_i·p_u: each epoch sweeps the ratings
    in Surprise's order, the biases taking an SGD step on r − r̂ (``lr_bu``/``lr_bi``, ``reg_bu``/``reg_bi``,
    Surprise's 0.005 and 0.02; they act only then), and the factors' multiplicative updates read that
    sweep's r̂, as Surprise's code does (numerators Σ q·r, denominators Σ q·r̂ + n·λ·p, factors fixed within
    the epoch); a pair with one side unknown gets μ plus the known side's bias (Surprise's estimate). Seeded,
    it gives Surprise's predictions (ml-latest-small 80/20 seed 42, 5 factors: RMSE 0.8792 both). Surprise
    warns that it overfits easily; worse, from Surprise's defaults (15 factors from U(0, 1)) its updates
    diverge there, in Surprise as here (factors turn negative and pass 10³ within ten epochs; RMSE ~1.2,
    worse than the global mean): take fewer factors or a smaller ``init_high`` (15 factors from U(0, 0.1):
    0.8739)."""

    item_vectors: ClassVar[bool | None] = True

    name: ClassVar[str] = "nmf"
    tags: ClassVar[Tags] = Tags(
        trains_on="ratings", predicts_ratings=True, fold_in="factors", serving="table"
    )
    visitor_rule: ClassVar[str | None] = "nmf"
    search_space: ClassVar[SearchSpace] = {
        "factors": IntRange(5, 100, log=True),
        "epochs": IntRange(10, 100),
        "reg_pu": FloatRange(1e-3, 1.0, log=True),
        "reg_qi": FloatRange(1e-3, 1.0, log=True),
    }

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "biased": [Boolean()],
        "reg_pu": [NON_NEGATIVE],
        "reg_qi": [NON_NEGATIVE],
        "reg_bu": [NON_NEGATIVE],
        "reg_bi": [NON_NEGATIVE],
        "lr_bu": [NON_NEGATIVE],
        "lr_bi": [NON_NEGATIVE],
        # numbers before the rule between them (0 ≤ init_low < init_high), which compared "many" in a TypeError
        "init_low": [NON_NEGATIVE],
        "init_high": [NON_NEGATIVE],
    }
    # Surprise reads its bias terms only in the biased variant
    acts_when: ClassVar[dict[str, ActsWhen]] = dict.fromkeys(
        ("reg_bu", "reg_bi", "lr_bu", "lr_bi"), ActsWhen("biased", (True,))
    )

    # dup-ok: a model's defaults and own hyperparameters alike in shape to iALS's (name: type = value),
    # not in meaning; what is shared (factors, epochs, random_state) is declared once in FactorParams
    factors = 15
    epochs = 50
    biased: bool = False
    reg_pu: float = 0.06
    reg_qi: float = 0.06
    reg_bu: float = 0.02
    reg_bi: float = 0.02
    lr_bu: float = 0.005
    lr_bi: float = 0.005
    init_low: float = 0.0
    init_high: float = 1.0

    def _validate_params(self) -> None:
        super()._validate_params()
        if not 0 <= self.init_low < self.init_high:
            raise ConfigError(f"need 0 ≤ init_low < init_high, got {self.init_low!r}, {self.init_high!r}")

    def _fit(self, train: Interactions) -> Self:
        """``epochs`` multiplicative updates of P then Q from the same epoch's estimates (as Surprise);
        biased, each epoch's estimates come from the sweep that moves the biases (``nmf_bias_sweep``)."""
        self._remember_train(train)
        f = int(self.factors)
        rng = np.random.RandomState(self.random_state)  # Surprise's get_rng
        pu = np.zeros((train.n_users, f))
        qi = np.zeros((train.n_items, f))
        pu[first_appearance(train.users)] = rng.uniform(
            self.init_low, self.init_high, (len(first_appearance(train.users)), f)
        )
        qi[first_appearance(train.items)] = rng.uniform(
            self.init_low, self.init_high, (len(first_appearance(train.items)), f)
        )
        u, i, r = train.users, train.items, train.ratings.astype(np.float64)
        if self.biased:  # the biases' SGD visits the ratings in Surprise's order
            order = surprise_order(train)
            u, i, r = u[order], i[order], r[order]
        bu, bi = np.zeros(train.n_users), np.zeros(train.n_items)
        lr, reg = (float(self.lr_bu), float(self.lr_bi)), (float(self.reg_bu), float(self.reg_bi))
        shape = train.shape
        rmat = sp.csr_matrix((r, (u, i)), shape=shape)
        n_u = np.bincount(u, minlength=train.n_users)[:, None]
        n_i = np.bincount(i, minlength=train.n_items)[:, None]
        for _ in range(int(self.epochs)):
            est = np.einsum("ij,ij->i", pu[u], qi[i])
            if self.biased:
                est = nmf_bias_sweep(u, i, r, est, train.global_mean, lr, reg, bu, bi)
            emat = sp.csr_matrix((est, (u, i)), shape=shape)
            user_num, user_den = rmat @ qi, emat @ qi + n_u * self.reg_pu * pu
            item_num, item_den = rmat.T @ pu, emat.T @ pu + n_i * self.reg_qi * qi
            pu = pu * np.divide(user_num, user_den, out=np.zeros_like(pu), where=user_den != 0)
            qi = qi * np.divide(item_num, item_den, out=np.zeros_like(qi), where=item_den != 0)
        self.user_factors_ = pu.astype(np.float32)
        self.item_factors_ = qi.astype(np.float32)
        if self.biased:
            self.user_bias_ = bu.astype(np.float32)
            self.item_bias_ = bi.astype(np.float32)
        else:  # a refit without biases keeps none from an earlier biased fit (save writes what is there)
            self.__dict__.pop("user_bias_", None)
            self.__dict__.pop("item_bias_", None)
        return self

    def visitor_arrays(self) -> dict[str, np.ndarray]:
        """The item factors and λ_pu; biased, also the item biases and λ_bu (their presence is the rule's
        switch, so an artifact of the unbiased model reads as before)."""
        out: dict[str, np.ndarray] = {
            "item_factors": self.item_factors_,
            "reg_pu": np.asarray(self.reg_pu, dtype=np.float64),
        }
        if self.biased:
            out["item_bias"] = self.item_bias_
            out["reg_bu"] = np.asarray(self.reg_bu, dtype=np.float64)
        return out

    def _fallback(self, users: np.ndarray, items: np.ndarray, ku: np.ndarray, ki: np.ndarray) -> np.ndarray:
        """μ; biased, plus the bias of whichever side is known (Surprise's estimate)."""
        est = super()._fallback(users, items, ku, ki)
        if self.biased:
            est += np.where(ku, self.user_bias_[np.where(ku, users, 0)], 0.0)
            est += np.where(ki, self.item_bias_[np.where(ki, items, 0)], 0.0)
        return est

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        est = pair_dots(self.user_factors_, self.item_factors_, users, items)  # bounded memory
        if self.biased:
            est += (
                float(self.global_mean_) + self.user_bias_[users].astype(np.float64) + self.item_bias_[items]
            )
        return est, np.zeros(len(users), dtype=bool)

    def predicted_scores(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """p_u·q_i (biased: μ + b_u + b_i + p_u·q_i) over the grid, where a side is unknown the global mean
        (biased: plus the known side's bias), unclipped; ``score`` ranks them by the support-shrunk rating
        like every rating predictor."""
        self._check_fitted()
        users = self._check_users(users)
        cols = (
            np.arange(self.n_items_)
            if items is None
            else check_indices(items, self.n_items_, "item").astype(np.int64)
        )
        est = (self.user_factors_[users] @ self.item_factors_[cols].T).astype(np.float64)
        ku, ki = self.user_known_[users], self.item_known_[cols]
        unknown = ~(ku[:, None] & ki[None, :])
        if self.biased:  # a side without ratings has no bias (Surprise adds only the known side's)
            est[unknown] = 0.0
            est += float(self.global_mean_) + np.where(ku, self.user_bias_[users], 0.0)[:, None]
            est += np.where(ki, self.item_bias_[cols], 0.0)[None, :]
        else:
            est[unknown] = float(self.global_mean_)
        return est.astype(np.float32)


class CoClustering(SeededParams, _Classic):
    """Co-clustering (George & Merugu 2005), Surprise's ``CoClustering``: users in ``n_cltr_u`` and items in
    ``n_cltr_i`` clusters, r̂_ui = C̄_uc,ic + (μ_u − C̄_uc) + (μ_i − C̄_ic); ``epochs`` (Surprise's ``n_epochs``) of reassigning each
    user, then each item, to the cluster with the least squared error. Initial clusters are drawn in
    Surprise's order, so a seed reproduces Surprise's run (on whole-star ratings: Surprise sums ratings
    as integers, truncating half stars; we do not)."""

    name: ClassVar[str] = "co-clustering"
    tags: ClassVar[Tags] = Tags(
        trains_on="ratings", predicts_ratings=True, fold_in="factors", serving="table"
    )
    visitor_rule: ClassVar[str | None] = "co-clustering"
    search_space: ClassVar[SearchSpace] = {
        "n_cltr_u": IntRange(1, 20),
        "n_cltr_i": IntRange(1, 20),
        "epochs": IntRange(5, 50),
    }

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "n_cltr_u": [POSITIVE_INT],
        "n_cltr_i": [POSITIVE_INT],
    }

    n_cltr_u: int = 3
    n_cltr_i: int = 3
    epochs: int = 20

    def _averages(self, cu: np.ndarray, ci: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mu = float(self.global_mean_)
        kc, lc = int(self.n_cltr_u), int(self.n_cltr_i)
        uc, ic = cu[self._u], ci[self._i]

        def avg(keys: np.ndarray, n: int) -> np.ndarray:
            s = np.bincount(keys, weights=self._r, minlength=n)
            c = np.bincount(keys, minlength=n)
            return np.divide(s, c, out=np.full(n, mu), where=c > 0)

        return avg(uc, kc), avg(ic, lc), avg(uc * lc + ic, kc * lc).reshape(kc, lc)

    def _fit(self, train: Interactions) -> Self:
        """Alternate user and item reassignments for ``epochs`` epochs; cluster means recomputed each time."""
        self._remember_train(train)
        rng = np.random.RandomState(self.random_state)
        kc, lc = int(self.n_cltr_u), int(self.n_cltr_i)
        cu = np.zeros(train.n_users, dtype=np.int64)
        ci = np.zeros(train.n_items, dtype=np.int64)
        cu[first_appearance(train.users)] = rng.randint(kc, size=len(first_appearance(train.users)))
        ci[first_appearance(train.items)] = rng.randint(lc, size=len(first_appearance(train.items)))
        self._u, self._i, self._r = train.users, train.items, train.ratings.astype(np.float64)
        u, i, r = self._u, self._i, self._r
        cnt_u = np.bincount(u, minlength=train.n_users)
        cnt_i = np.bincount(i, minlength=train.n_items)
        mean_u = np.divide(
            np.bincount(u, weights=r, minlength=train.n_users),
            cnt_u,
            out=np.zeros(train.n_users),
            where=cnt_u > 0,
        )
        mean_i = np.divide(
            np.bincount(i, weights=r, minlength=train.n_items),
            cnt_i,
            out=np.zeros(train.n_items),
            where=cnt_i > 0,
        )
        for _ in range(int(self.epochs)):
            avg_u, avg_i, avg_co = self._averages(cu, ci)
            # every user's squared error under each candidate cluster, then each item's
            base = r - mean_u[u] - mean_i[i] + avg_i[ci[i]]
            err_u = np.stack(
                [
                    np.bincount(u, weights=(base - avg_co[c, ci[i]] + avg_u[c]) ** 2, minlength=train.n_users)
                    for c in range(kc)
                ],
                axis=1,
            )
            cu = np.where(cnt_u > 0, np.argmin(err_u, axis=1), cu)
            base = r - mean_u[u] - mean_i[i] + avg_u[cu[u]]
            err_i = np.stack(
                [
                    np.bincount(i, weights=(base - avg_co[cu[u], c] + avg_i[c]) ** 2, minlength=train.n_items)
                    for c in range(lc)
                ],
                axis=1,
            )
            ci = np.where(cnt_i > 0, np.argmin(err_i, axis=1), ci)
        avg_u, avg_i, avg_co = self._averages(cu, ci)
        del self._u, self._i, self._r
        self.user_cluster_, self.item_cluster_ = cu, ci
        self.user_mean_, self.item_mean_ = mean_u, mean_i
        self.cluster_user_mean_, self.cluster_item_mean_, self.cocluster_mean_ = avg_u, avg_i, avg_co
        return self

    def visitor_arrays(self) -> dict[str, np.ndarray]:
        return {
            "item_cluster": self.item_cluster_,
            "item_mean": self.item_mean_,
            "cluster_user_mean": self.cluster_user_mean_,
            "cluster_item_mean": self.cluster_item_mean_,
            "cocluster_mean": self.cocluster_mean_,
        }

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        uc, ic = self.user_cluster_[users], self.item_cluster_[items]
        est = (
            self.cocluster_mean_[uc, ic]
            + self.user_mean_[users] - self.cluster_user_mean_[uc]
            + self.item_mean_[items] - self.cluster_item_mean_[ic]
        )  # fmt: skip
        return est, np.zeros(len(users), dtype=bool)
