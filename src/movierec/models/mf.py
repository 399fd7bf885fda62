"""Matrix factorisation for ratings: biased SVD (Funk 2006; Koren, Bell & Volinsky 2009) and SVD++ (Koren 2008).

Both reproduce Surprise's algorithms: same initialisation (with an int ``random_state`` the
factors are drawn from ``numpy.random.RandomState(seed)`` in Surprise's order, so ``svd`` and
``surprise:svd`` start from identical factors), same SGD update order (ratings grouped by user
in order of first appearance, no shuffling) and same update rules. Both models' sweeps are compiled
at install time (``kernels.accel``).
One exception by default: ``svd`` sweeps float32 factors over three interleaved parts of that
order (about 2x less CPU, RMSE within 1e-4 of the exact sweep); ``exact=True`` keeps
Surprise's float64 sweep in its exact order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import KW_ONLY
from typing import Any, ClassVar, Self

import numpy as np

from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.models.base import EpochCallback, Tags, check_random_state, pair_dots
from movierec.models.baseline import ExplicitModel, first_appearance, surprise_order
from movierec.models.kernels import accel
from movierec.models.kernels.accel import fast_width, svd_epochs
from movierec.models.params import Boolean, Constraint, Interval, RandomState
from movierec.models.space import EPOCHS, FACTORS, LR, REG, IntRange, SearchSpace
from movierec.models.training import check_same_index, fit_epochs

__all__ = ["SVD", "SVDpp"]


def _normal_rows(
    rng: np.random.RandomState | np.random.Generator,
    blocks: Sequence[tuple[np.ndarray, int]],
    n_factors: int,
    mean: float,
    std: float,
    dtype: type = np.float64,
    width: int | None = None,
) -> list[np.ndarray]:
    """One (n_rows, width) array per ``(present, n_rows)`` block, drawn in order from one stream:
    N(mean, std) in the first ``n_factors`` columns of the ``present`` rows (in that order), zeros
    elsewhere (``width`` defaults to ``n_factors``).

    The draws are float64 (Surprise's) whatever ``dtype`` stores them, and equal those of
    ``rng.normal`` called once per block (:func:`_legacy_normals`). They are made and stored a piece
    at a time (:func:`_legacy_normal_pieces`): no float64 copy of every draw and of its uniforms (15 MB
    for a default ``svd`` on ml-latest-small, fresh pages that the first fit in a process paid for).
    """
    pieces = _legacy_normal_pieces(rng, sum(len(present) for present, _ in blocks) * n_factors, mean, std)
    piece, pos = np.zeros(0), 0

    def take(m: int) -> np.ndarray:
        """The next ``m`` draws of the stream."""
        nonlocal piece, pos
        parts = []
        while m > 0:
            if pos == len(piece):
                piece, pos = next(pieces), 0
            t = min(m, len(piece) - pos)
            parts.append(piece[pos : pos + t])
            pos, m = pos + t, m - t
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    out = []
    rows_per_step = max(1, _NORMAL_PIECE // max(n_factors, 1))
    for present, n_rows in blocks:
        arr = aligned_zeros((n_rows, n_factors if width is None else width), dtype)
        for r in range(0, len(present), rows_per_step):
            rows = present[r : r + rows_per_step]
            arr[rows, :n_factors] = take(len(rows) * n_factors).reshape(len(rows), n_factors)
        out.append(arr)
    return out


def aligned_zeros(shape: tuple[int, int], dtype: type, align: int = 64) -> np.ndarray:
    """Zeros whose first byte sits on an ``align``-byte boundary (a cache line).

    numpy takes large arrays from malloc, whose big blocks start 16 bytes past a page boundary, so
    every padded factor row's vector loads then straddle cache lines; the fast SVD sweep ran ~10%
    slower that way than on 64-byte-aligned rows (ml-latest-small, 25 sweeps, medians of 15, in one process).
    """
    n = int(np.prod(shape))
    size = np.dtype(dtype).itemsize
    buf: np.ndarray = np.zeros(n + align // size, dtype=dtype)
    start = (-buf.ctypes.data % align) // size
    return buf[start : start + n].reshape(shape)


def _legacy_normals(
    rng: np.random.RandomState | np.random.Generator, n: int, mean: float, std: float
) -> np.ndarray:
    """``rng.normal(mean, std, n)``; for a ``RandomState`` with no cached gaussian, the compiled polar
    method over its ``random_sample`` stream (the same values, ~2x faster: 1M draws are a quarter of
    a default ``svd`` fit on ml-latest-small). ``rng`` is left past the draws, not exactly where
    ``normal`` would leave it: callers draw nothing after.
    """
    pieces = list(_legacy_normal_pieces(rng, n, mean, std))
    return np.concatenate(pieces) if pieces else np.zeros(0)


_NORMAL_PIECE = 1 << 16  # draws per piece of _legacy_normal_pieces (512 KiB of float64; even)


def _legacy_normal_pieces(
    rng: np.random.RandomState | np.random.Generator, n: int, mean: float, std: float
) -> Iterator[np.ndarray]:
    """:func:`_legacy_normals`'s ``n`` draws as consecutive new arrays of at most :data:`_NORMAL_PIECE`.

    Every piece but the last has an even length, so each of the polar method's pairs lies within one
    piece (numpy keeps a pair's second value for the next call; cutting a pair would lose it), and the
    uniforms left over from a piece carry into the next: the stream, and the draws, are the same as in
    one call.
    """
    if not isinstance(rng, np.random.RandomState) or rng.get_state(legacy=False)["has_gauss"]:
        for start in range(0, n, _NORMAL_PIECE):  # numpy's own draws continue across calls
            yield rng.normal(mean, std, size=min(_NORMAL_PIECE, n - start))
        return
    fill = accel.legacy_gauss_fill
    uniforms, used = np.zeros(0), 0
    for start in range(0, n, _NORMAL_PIECE):
        out = np.empty(min(_NORMAL_PIECE, n - start))
        done = 0
        while done < len(out):
            if len(uniforms) - used < 2:  # the stream continues where it stopped
                # polar method: ~4/π attempts of 2 uniforms per pair of draws; a margin makes refills rare
                more = rng.random_sample(2 * (int((len(out) - done) / 2 / (np.pi / 4) * 1.01) + 64))
                if len(uniforms) - used == 1:  # the unused uniform pairs with the first new one
                    done, _ = fill(np.array([uniforms[used], more[0]]), out, done, float(mean), float(std))
                    uniforms, used = more, 1
                else:
                    uniforms, used = more, 0
                continue
            done, took = fill(uniforms[used:], out, done, float(mean), float(std))
            used += took
        yield out


def _rng(random_state: int | np.random.Generator | None) -> np.random.RandomState | np.random.Generator:
    """Surprise's RNG for an int seed (legacy RandomState, so factors match it), else a Generator."""
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return np.random.RandomState(int(random_state))
    return check_random_state(random_state)


class _FactorModel(ExplicitModel):
    """Prediction μ + b_u + b_i + p_u·q_i shared by SVD and SVD++ (SVD++ folds its implicit term into p_u)."""

    item_vectors: ClassVar[bool | None] = True

    tags: ClassVar[Tags] = Tags(trains_on="ratings", predicts_ratings=True, serving="factors")

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "factors": [Interval(int, 1, None)],
        "epochs": [Interval(int, 1, None)],
        "learning_rate": [Interval(float, 0, None, closed="neither")],
        "regularization": [Interval(float, 0, None)],
        "init_mean": [Interval(float, None, None)],
        "init_std": [Interval(float, 0, None)],
        "random_state": [RandomState()],
        "biased": [Boolean()],
        "lr_bias": [Interval(float, 0, None, closed="neither"), None],
        "reg_bias": [Interval(float, 0, None), None],
        "exact": [Boolean()],
    }

    def _check_common(self) -> None:
        # SVD and SVD++ have always checked at construction too (a bad config fails before any data loads)
        self._validate_params()

    def _epochs(
        self, step: Any, n_ratings: int, on_epoch: EpochCallback | None, publish: Callable[[], None]
    ) -> None:
        """Run the SGD sweeps; before each ``on_epoch`` call, ``publish`` stores the current factors.

        So a callback can score the model as it stands after that epoch (per-epoch validation,
        Optuna pruning): the published state equals what a fit with ``epochs=epoch`` ends with.
        Without a callback nothing is copied until the end.
        """
        self.history_: list[dict[str, float]] = []
        for epoch in range(1, self.epochs + 1):
            sq = float(step())
            mse = sq / max(n_ratings, 1)
            row = {"epoch": epoch, "loss": mse, "rmse": float(np.sqrt(mse))}
            self.history_.append(row)
            if on_epoch is not None:
                publish()
                if on_epoch(epoch, dict(row)) is False:
                    break

    def _store(self, bu: np.ndarray, bi: np.ndarray, pu: np.ndarray, qi: np.ndarray) -> None:
        self.user_bias_ = bu.astype(np.float32, copy=False)
        self.item_bias_ = bi.astype(np.float32, copy=False)
        self.user_factors_ = pu.astype(np.float32, copy=False)
        self.item_factors_ = qi.astype(np.float32, copy=False)

    def _mu(self) -> float:
        return float(self.global_mean_) if getattr(self, "biased", True) else 0.0

    def _estimate(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dots = pair_dots(self.user_factors_, self.item_factors_, users, items)  # bounded memory
        est = self._mu() + self.user_bias_[users].astype(np.float64) + self.item_bias_[items] + dots
        return est, np.zeros(len(users), dtype=bool)

    def predicted_scores(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Unclipped μ + b_u + b_i + p_u·q_i over the grid (users/items without ratings have zero terms)."""
        self._check_fitted()
        users = self._check_users(users)
        q = self.item_factors_ if items is None else self.item_factors_[np.asarray(items, dtype=np.int64)]
        bi = self.item_bias_ if items is None else self.item_bias_[np.asarray(items, dtype=np.int64)]
        out = self.user_factors_[users] @ q.T
        out += bi[None, :]
        out += (self._mu() + self.user_bias_[users])[:, None]
        if not getattr(self, "biased", True):  # Surprise gives μ where an unbiased SVD cannot predict
            ku, ki = self._known(np.repeat(users, len(bi)), np.tile(np.arange(len(bi)), len(users)))
            out[~(ku & ki).reshape(out.shape)] = float(self.global_mean_)
        return out.astype(np.float32)


class _SGDFactorModel(_FactorModel):
    """The hyperparameters SVD and SVD++ share; each model redeclares the defaults it changes.

    Surprise's names load too: ``n_factors``, ``n_epochs`` and ``init_std_dev`` as aliases, ``lr_all`` and
    ``reg_all`` as compound names setting every learning rate (regularisation term) the model has, a part
    given by its own name winning as in Surprise. Surprise's per-part names (``lr_bu``, ``reg_qi``…) have
    no exact counterpart where ours ties parts together: ``_foreign_names`` says what they are called here.
    """

    # Surprise's spelling; LensKit's (BiasedMFScorer, FunkSVDScorer)
    _aliases: ClassVar[dict[str, str]] = {"init_std_dev": "init_std", "embedding_size": "factors"}
    _compound_aliases: ClassVar[dict[str, tuple[str, ...]]] = {
        "lr_all": ("learning_rate", "lr_bias"),  # svdpp has no lr_bias: there lr_all is learning_rate
        "reg_all": ("regularization", "reg_bias"),
    }

    factors: int = 80
    epochs: int = 25
    learning_rate: float = 0.005
    regularization: float = 0.02
    _: KW_ONLY
    init_mean: float = 0.0
    init_std: float = 0.1
    random_state: int | np.random.Generator | None = 0

    def __post_init__(self) -> None:
        self._check_common()


class SVD(_SGDFactorModel):
    """Biased matrix factorisation by SGD, Surprise's ``SVD`` (Funk 2006; Koren, Bell & Volinsky 2009).

    r̂_ui = μ + b_u + b_i + q_i·p_u; factors start at N(init_mean, init_std); each rating updates
    b_u, b_i then p_u, q_i with learning rate ``lr`` and L2 penalty ``reg`` (``lr_bias``/``reg_bias``
    override them for the biases). ``biased=False`` drops μ and the biases.

    ``exact=True`` sweeps in float64 in exactly Surprise's order (predictions agree with
    ``surprise:svd`` to ~1e-6 from the same seed). The default ``exact=False`` keeps the same
    start and update rules but float32 state and three interleaved parts of that order
    (``kernels.accel.svd_epochs``): about 2x less CPU, RMSE within 1e-4 of the exact sweep on ml-latest-small.
    """

    name: ClassVar[str] = "svd"
    _none_means: ClassVar[dict[str, str]] = {
        "lr_bias": "learning_rate's value",
        "reg_bias": "regularization's value",
    }
    tags: ClassVar[Tags] = Tags(
        trains_on="ratings", predicts_ratings=True, fold_in="factors", serving="factors"
    )
    search_space: ClassVar[SearchSpace] = {
        "factors": FACTORS,
        "epochs": EPOCHS,
        "learning_rate": LR,
        "regularization": REG,
    }

    _foreign_names: ClassVar[dict[str, str]] = {
        **dict.fromkeys(("lr_bu", "lr_bi"), "Surprise's per-bias learning rates are one here, lr_bias"),
        **dict.fromkeys(
            ("reg_bu", "reg_bi"), "Surprise's per-bias regularisation terms are one here, reg_bias"
        ),
        **dict.fromkeys(("lr_pu", "lr_qi"), "Surprise's factor learning rates are one here, learning_rate"),
        **dict.fromkeys(
            ("reg_pu", "reg_qi"), "Surprise's factor regularisation terms are one here, regularization"
        ),
        **dict.fromkeys(("lr_yj", "reg_yj"), "y_j are SVD++'s implicit factors (model svdpp); svd has none"),
    }

    factors: int = 80
    epochs: int = 25
    _: KW_ONLY
    biased: bool = True
    lr_bias: float | None = None
    reg_bias: float | None = None
    exact: bool = False

    def _validate(self) -> None:
        self._check_common()

    def _fit(self, train: Interactions, *, on_epoch: EpochCallback | None = None) -> Self:
        """Run ``epochs`` SGD sweeps; ``on_epoch(epoch, {"loss", "rmse"})`` may return False to stop early.

        ``history_`` records per epoch the mean squared training error seen during the sweep.
        """
        self._validate()
        return fit_epochs(self.trainer(train), int(self.epochs), on_epoch)

    def trainer(self, train: Interactions, *, resume: bool = False) -> SVDTrainer:
        """A :class:`SVDTrainer` for ``train`` (factors drawn, no epoch run yet); see ``models.training``.

        ``resume=True`` continues the fitted model's factors and biases instead (``fit_partial`` with a loop
        of your own): SGD without shuffling has no other state, so the sweeps go on as one fit's would.
        """
        self._validate()
        if resume:
            self._check_fitted()
            check_same_index(self, train)
        return SVDTrainer(self, train, resume=resume)

    def _fit_partial(
        self, train: Interactions, epochs: int, *, on_epoch: EpochCallback | None = None
    ) -> None:
        """``epochs`` more sweeps from the fitted factors (a fresh run if unfitted): ``fit_partial``."""
        resume = self._start_partial_fit(train, on_epoch)
        fit_epochs(self.trainer(train, resume=resume), epochs, on_epoch)


class SVDTrainer:
    """One SVD training run on ``train``, an epoch (or many, in one kernel call) at a time.

    After every epoch the model's factors are views of the live state (the padding columns of the
    fast sweep sliced off), so it can be scored mid-training without a copy; ``finalize`` stores
    contiguous arrays. The model's ``history_`` grows with every epoch.
    """

    def __init__(self, model: SVD, train: Interactions, *, resume: bool = False) -> None:
        self.model = model
        # resumed: the fitted records go on (epoch N + 1…), and the state below is the fitted one
        self.history: list[dict[str, float]] = [dict(r) for r in model.history_] if resume else []
        if resume and model.user_factors_.shape[1] != model.factors:
            raise ConfigError(
                f"svd was fitted with factors={model.user_factors_.shape[1]}, not {model.factors}: "
                f"set factors={model.user_factors_.shape[1]} to continue"
            )
        fitted = (
            (model.user_bias_, model.item_bias_, model.user_factors_, model.item_factors_) if resume else None
        )
        model._remember_train(train)
        model._remember_index(train)
        rng = _rng(model.random_state)
        dtype = np.float64 if model.exact else np.float32  # the kernel picks its sweep from the dtype
        order = surprise_order(train)
        self._users = train.users[order]
        self._items = train.items[order]
        self._ratings = train.ratings[order].astype(dtype)
        f, mean, std = model.factors, model.init_mean, model.init_std
        # the fast sweep runs on rows padded with zero columns (they stay 0 under these updates)
        # to a whole number of SIMD registers: no remainder loop
        width = f if model.exact else fast_width(f)
        self._f = f
        blocks = [
            (first_appearance(train.users), train.n_users),
            (first_appearance(train.items), train.n_items),
        ]
        if fitted is None:
            self._pu, self._qi = _normal_rows(rng, blocks, f, mean, std, dtype, width)
            self._bu = np.zeros(train.n_users, dtype=dtype)
            self._bi = np.zeros(train.n_items, dtype=dtype)
        else:  # exact=True stored its float64 state as float32: it goes on from those values
            self._bu, self._bi = np.array(fitted[0], dtype=dtype), np.array(fitted[1], dtype=dtype)
            self._pu = aligned_zeros((train.n_users, width), dtype)
            self._qi = aligned_zeros((train.n_items, width), dtype)
            self._pu[:, :f], self._qi[:, :f] = fitted[2], fitted[3]
        self._mu = train.global_mean if model.biased else 0.0
        self._lr_b = float(model.learning_rate if model.lr_bias is None else model.lr_bias)
        self._reg_b = float(model.regularization if model.reg_bias is None else model.reg_bias)
        model.history_ = self.history

    def train_epochs(self, n: int) -> list[dict[str, float]]:
        """Run ``n`` sweeps in one kernel call; their records (mean squared error seen during each)."""
        m = self.model
        sq = svd_epochs(
            self._users, self._items, self._ratings, self._mu, self._bu, self._bi, self._pu, self._qi,
            self._lr_b, float(m.learning_rate), self._reg_b, float(m.regularization), bool(m.biased), int(n),
        )  # fmt: skip
        rows = []
        for s in sq:
            mse = float(s) / max(len(self._ratings), 1)
            rows.append({"epoch": len(self.history) + 1, "loss": mse, "rmse": float(np.sqrt(mse))})
            self.history.append(rows[-1])
        f = self._f
        m._store(self._bu, self._bi, self._pu[:, :f], self._qi[:, :f])  # views: no copy
        return rows

    def train_epoch(self) -> dict[str, float]:
        """One sweep; the model is usable (and scores as a fit of this many epochs) afterwards."""
        return self.train_epochs(1)[0]

    def finalize(self) -> SVD:
        """Store contiguous factors without the padding columns; return the fitted model."""
        f = self._f
        pu, qi = self._pu, self._qi
        if pu.shape[1] != f:
            pu, qi = np.ascontiguousarray(pu[:, :f]), np.ascontiguousarray(qi[:, :f])
        self.model._store(self._bu, self._bi, pu, qi)
        return self.model


class SVDpp(_SGDFactorModel):
    """SVD++ (Koren 2008, §4): r̂_ui = μ + b_u + b_i + q_i·(p_u + |I_u|^-½ Σ_{j∈I_u} y_j), Surprise's ``SVDpp``.

    Same SGD as Surprise but with each user's y_j updates applied in closed form once per user
    (exactly equivalent), so an epoch costs O(ratings · factors) instead of O(Σ_u |I_u|² · factors).
    ``user_factors_`` stores p_u + |I_u|^-½ Σ y_j, so scoring is a plain dot product;
    ``implicit_factors_`` stores the y_j.
    """

    name: ClassVar[str] = "svdpp"
    search_space: ClassVar[SearchSpace] = {
        "factors": IntRange(8, 128, log=True),
        "epochs": IntRange(5, 50),
        "learning_rate": LR,
        "regularization": REG,
    }

    _foreign_names: ClassVar[dict[str, str]] = {
        **dict.fromkeys(
            ("lr_bu", "lr_bi", "lr_pu", "lr_qi", "lr_yj"),
            "Surprise's per-part learning rates are one here, learning_rate (or lr_all)",
        ),
        **dict.fromkeys(
            ("reg_bu", "reg_bi", "reg_pu", "reg_qi", "reg_yj"),
            "Surprise's per-part regularisation terms are one here, regularization (or reg_all)",
        ),
    }

    factors: int = 20
    epochs: int = 20
    learning_rate: float = 0.007

    def _fit(self, train: Interactions, *, on_epoch: EpochCallback | None = None) -> Self:
        """Run ``epochs`` SGD sweeps; ``on_epoch`` and ``history_`` as for :class:`SVD`."""
        from movierec.models.kernels.accel import implicit_sums, svdpp_epoch

        self._check_common()
        self._remember_train(train)
        rng = _rng(self.random_state)
        order = surprise_order(train)
        users = train.users[order]
        items = train.items[order]
        ratings = train.ratings[order].astype(np.float64)
        starts = (
            np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
            if len(users)
            else np.zeros(0, dtype=np.int64)
        )
        block_users = users[starts]
        block_ptr = np.r_[starts, len(users)].astype(np.int64)
        present_u = first_appearance(train.users)
        present_i = first_appearance(train.items)
        f = self.factors
        blocks = [(present_u, train.n_users), (present_i, train.n_items), (present_i, train.n_items)]
        pu, qi, yj = _normal_rows(rng, blocks, f, self.init_mean, self.init_std)
        bu = np.zeros(train.n_users)
        bi = np.zeros(train.n_items)
        mu = train.global_mean
        lr, reg = float(self.learning_rate), float(self.regularization)

        def step() -> float:
            return svdpp_epoch(
                items, ratings, block_users, block_ptr, mu, bu, bi, pu, qi, yj, lr, lr, lr, reg, reg, reg
            )

        csr = train.csr()
        indptr = csr.indptr.astype(np.int64)

        def publish() -> None:
            self._store(bu, bi, pu + implicit_sums(indptr, csr.indices, yj), qi)
            self.implicit_factors_ = yj.astype(np.float32)

        self._epochs(step, len(ratings), on_epoch, publish)
        publish()
        return self
