"""BPR and WARP matrix factorisation with item (and user) features: LightFM's hybrid model, our kernels.

An item is the sum of its feature embeddings (its identity feature always included) plus their
biases, likewise a user (identity only unless user features are given) (Kula 2015). Trained
with BPR (Rendle et al. 2009) or WARP (Weston, Bengio & Usunier 2011) by Hogwild SGD with
Adagrad or Adadelta steps in :mod:`movierec.models.kernels.hybrid`. After ``fit`` the
effective item/user vectors and biases are precomputed, so scoring, export and serving need no
features. An item with side features but no training interaction is scored from those features,
its identity's embedding taken as zero (cold start; :func:`feature_rows` says why the row keeps the
identity's share when rows are normalised).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from movierec.errors import ConfigError, DataError, Doors
from movierec.features import side_matrix
from movierec.interactions import Interactions
from movierec.models.base import EpochCallback, Tags, check_indices, check_random_state, whitened_items
from movierec.models.kernels.hybrid import BPR as _BPR_KIND
from movierec.models.kernels.hybrid import LOGISTIC as _LOGISTIC_KIND
from movierec.models.kernels.hybrid import WARP as _WARP_KIND
from movierec.models.kernels.hybrid import WARP_KOS as _WARP_KOS_KIND
from movierec.models.kernels.hybrid import (  # compiled at install (_native.pyx)
    learn_bpr_block,
    logistic_epoch,
    pairwise_epoch,
    pairwise_epoch_identity,
)
from movierec.models.kernels.threads import free_threads, run_blocks, shared_pool
from movierec.models.params import POSITIVE_INT, ActsWhen, Constraint, Interval, Options
from movierec.models.space import EPOCHS, FACTORS, LR, Choice, FloatRange, IntRange, SearchSpace
from movierec.models.training import (
    ModelTrainer,
    check_same_index,
    fit_epochs,
    generator_state,
    restore_generator,
)
from movierec.models.weighting import WeightedRecommender, interaction_weights

__all__ = ["BPR", "WARP", "WARPKOS", "HybridMF", "Logistic", "feature_rows"]

SCHEDULES = ("adagrad", "adadelta", "sgd", "auto")
#: the cap on negatives drawn per positive, which only the WARP losses sample up to
WARP_ONLY = ActsWhen.never("the WARP losses (warp, warp-kos)")
LOSSES = ("bpr", "warp", "logistic", "warp-kos")  # LightFM's four; ``loss`` in tuning picks the model


def feature_rows(
    side: sp.csr_matrix | None, n_rows: int, *, normalize: bool, identity: np.ndarray | None = None
) -> sp.csr_matrix:
    """``[identity | side]`` as float32 CSR, each row scaled to sum 1 when ``normalize``.

    ``identity`` (bool per row, default all True) says which rows keep their identity's weight; the
    others (cold items: side features, no training positive) are their side features alone. A row is
    scaled with its identity counted either way, so with ``normalize`` a cold item's n features weigh
    1/(n+1) each, as in a warm item's row, and its identity's 1/(n+1) is left out: the identity counts
    as an embedding of zeros (one never trained), not as absent, which would give each feature 1/n.
    Measured with genres,tags rows normalised (LightFM's ``Dataset``; 64 components, 30 epochs) on
    validation splits cut from ml-latest-small's positives hold-out (seed 42's training part; seeds
    1, 2, 3): with 1/n, cold items filled 9% of warp's top 10 and 98% of bpr's (at most 0.03% and
    36% with 1/(n+1)), and warp's P@10 was 0.101-0.103 against 0.107-0.112; for movies truly new to
    the catalogue (not columns at fit time) 1/(n+1) recalled more of them than 1/n in all six runs
    (warp at seed 1: 0.126 against 0.110).
    Unnormalised rows are the same either way.
    """
    ident = sp.identity(n_rows, format="csr", dtype=np.float32)
    mat = (
        ident
        if side is None or side.shape[1] == 0
        else sp.hstack([ident, side], format="csr", dtype=np.float32)
    )
    mat.eliminate_zeros()
    if normalize:
        sums = np.asarray(mat.sum(axis=1)).ravel()
        sums[sums == 0] = 1.0
        mat = sp.csr_matrix(sp.diags(1.0 / sums) @ mat, dtype=np.float32)
    if identity is not None and not identity.all():  # after scaling: the identity keeps its share
        keep = np.ones(mat.shape[1], dtype=np.float32)
        keep[:n_rows] = identity
        mat = sp.csr_matrix(mat @ sp.diags(keep), dtype=np.float32)
        mat.eliminate_zeros()
    mat.sort_indices()
    return mat


def _is_identity(rows: sp.csr_matrix) -> bool:
    """True when every row holds only its own identity column with weight 1 (no side features)."""
    n = rows.shape[0]
    return (
        rows.shape[1] == n
        and rows.nnz == n
        and bool(np.array_equal(rows.indices, np.arange(n)))
        and bool((rows.data == 1.0).all())
    )


#: issue 15 (ml-latest-small, ratings hold-out 80/20, seed 42, bpr defaults): NDCG@10 0.191 without features,
#: 0.083 with genres,tags normalised, 0.151 with normalize_features=false; it was 0.017 normalised while
#: a cold item's features weighed 1/n each and such items filled the lists (:func:`feature_rows`)
FEATURES_WARNING = (
    "{name} with item features and normalize_features={value!r}: each item's row is scaled to sum 1, so an "
    "item with n genres/tags keeps 1/(n+1) of its own identity and the shared feature vectors dominate its "
    "score; measured on ml-latest-small (ratings hold-out, seed 42) bpr's NDCG@10 falls from 0.191 "
    "without features to 0.083 with genres,tags, and is 0.151 with normalize_features=false: pass "
    "normalize_features=users (the default) or false"
)
#: ``normalize_features`` values: both sides, neither, or one side's rows only
NORMALIZE_SIDES = (True, False, "users", "items")


class HybridMF(WeightedRecommender):
    """Shared machinery of :class:`BPR` and :class:`WARP` (LightFM's model and hyperparameters).

    ``factors`` latent dimensions; ``learning_schedule`` ``adagrad`` (``learning_rate``)
    or ``adadelta`` (``rho``, ``epsilon``), LightFM's steps with negatives drawn in proportion to
    popularity; ``sgd``: LearnBPR (Rendle et al. 2009; Cornac's BPR), pairs drawn uniformly with
    replacement, negatives uniformly from the catalogue, a constant ``learning_rate`` and
    ``item_alpha``/``user_alpha`` as λ (BPR loss without side features only); ``auto``: ``sgd`` where
    it applies, else ``adagrad`` (the schedule used is ``schedule_``); ``item_alpha``/``user_alpha`` L2 penalties on the
    feature embeddings touched by each step; ``max_sampled`` negatives tried per positive
    (WARP); ``num_threads`` Hogwild threads (1 is deterministic); ``normalize_features`` scales
    each feature row (identity included) to sum 1, like LightFM's ``Dataset``: ``True`` both sides,
    ``False`` neither, ``"users"`` (the default) or ``"items"`` one side only. The default is measured:
    a known item keeps its identity whole (bpr with genres,tags on compare's ml-latest-small split: NDCG@10
    0.134 unnormalised against 0.076 normalised; warp 0.201 against 0.195), while a user's features are
    normalised, which is what a cold user leans on (ml-100k cold users, demographics, 0 ratings revealed:
    warp 0.298 normalised against 0.275).
    """

    item_vectors: ClassVar[bool | None] = True

    name: ClassVar[str] = "hybrid-mf"
    tags: ClassVar[Tags] = Tags(fold_in="factors", serving="factors", uses_features=True)
    uses_user_features: ClassVar[bool] = True  # CLI notes say which models ignore --user-features
    _loss_kind: ClassVar[int] = _BPR_KIND
    _json_state: ClassVar[tuple[str, ...]] = (
        "history_",
        "item_feature_names_",
        "user_feature_names_",
        "training_rng_",  # the seeded stream's state after the last epoch: fit_partial continues it
    )
    #: the trainer class (``None``: :class:`HybridMFTrainer`, our kernels; LightFM's references set theirs)
    _trainer: ClassVar[Callable[..., ModelTrainer] | None] = None
    #: items without training interactions but with side features are scored from those features, the
    #: identity's embedding taken as zero (item cold start, :meth:`_finalise`, Kula 2015); LightFM's
    #: references keep every (trained) identity, as LightFM predicts
    _cold_items_by_features: ClassVar[bool] = True
    _foreign_attributes: ClassVar[dict[str, str]] = {
        "predict": "LightFM's predict(user_ids, item_ids) is score(users, items), a users × items matrix "
        "u·i + b_u + b_i over dense indices (score(u)[0]: one user over every item); for (user, item) pairs "
        "score_pairs(users, items)",
        "predict_rank": "rank with recommend(users, k) (best first), or score a split with movierec.evaluate",
        "get_item_representations": "each item's bias and vector with its features summed in are "
        "item_bias_ and item_factors_ (LightFM's get_item_representations(item_features)); per feature, "
        "identities first: item_feature_biases_ and item_feature_embeddings_",
        "get_user_representations": "each user's bias and vector with their features summed in are "
        "user_bias_ and user_factors_ (LightFM's get_user_representations(user_features))",
        "item_biases": "per feature (identities first) item_feature_biases_; per item item_bias_",
        "user_embeddings": "per user (features summed in) user_factors_; per side feature user_feature_embeddings_",
        "user_biases": "per user (features summed in) user_bias_",
    }
    # LightFM's loss= picks the model here; only tune and experiment files switch models by it (MODEL_SWITCHES)
    _foreign_names: ClassVar[dict[str, str]] = {
        "loss": Doors(
            "LightFM's loss is the model here: LightFM(loss='bpr') is Recommender(ds, 'bpr'), and 'warp', "
            "'logistic', 'warp-kos' likewise (tune searches loss among them)",
            "LightFM's loss is the model here: loss='bpr' is --model bpr (and warp, logistic, warp-kos)",
        )
    }

    factors: int = 40
    learning_rate: float = 0.05
    epochs: int = 25
    learning_schedule: str = "adagrad"
    rho: float = 0.95
    epsilon: float = 1e-6
    item_alpha: float = 0.0
    user_alpha: float = 0.0
    max_sampled: int = 10
    num_threads: int = 1
    normalize_features: bool | str = "users"
    random_state: int | None = 42

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "epochs": [Interval(int, 0, None)],  # 0: the initial factors (LightFM's untrained state)
        "learning_schedule": [Options(*SCHEDULES)],
        "rho": [Interval(float, 0, 1, closed="neither")],
        "epsilon": [Interval(float, 0, None, closed="neither")],
        "item_alpha": [Interval(float, 0, None)],
        "user_alpha": [Interval(float, 0, None)],
        "max_sampled": [Interval(int, 1, None)],
        "num_threads": [Interval(int, 1, None)],
        "normalize_features": [Options(*NORMALIZE_SIDES)],
    }
    # LightFM's adadelta steps by rho and epsilon and never reads the learning rate; the others the reverse
    acts_when: ClassVar[dict[str, ActsWhen]] = {
        "rho": ActsWhen("learning_schedule", ("adadelta",)),
        "epsilon": ActsWhen("learning_schedule", ("adadelta",)),
        "learning_rate": ActsWhen("learning_schedule", ("adagrad", "sgd", "auto")),
    }

    def normalizes(self, side: str) -> bool:
        """Whether ``side``'s (``"users"`` or ``"items"``) feature rows are scaled to sum 1."""
        value = self.normalize_features
        return value == side if isinstance(value, str) else bool(value)

    def _resolve_schedule(self, identity_only: bool) -> str:
        """The schedule this fit uses, stored as ``schedule_``: ``auto`` is LearnBPR's ``sgd`` for BPR
        without side features, else ``adagrad`` (LightFM's)."""
        sgd_ok = self._loss_kind == _BPR_KIND and identity_only
        if self.learning_schedule == "sgd" and not sgd_ok:
            raise ConfigError(
                "learning_schedule='sgd' (LearnBPR) trains the BPR loss without side features only; "
                "use 'adagrad' or 'adadelta' with features or other losses"
            )
        auto = "sgd" if sgd_ok else "adagrad"
        self.schedule_ = auto if self.learning_schedule == "auto" else str(self.learning_schedule)
        return self.schedule_

    # --- training -------------------------------------------------------------------------
    def _fit(
        self,
        train: Interactions,
        *,
        item_features: Any = None,
        user_features: Any = None,
        on_epoch: EpochCallback | None = None,
    ) -> Self:
        """Train for ``epochs`` epochs; ``item_features``/``user_features`` are ItemFeatures or CSR.

        ``on_epoch(epoch, record)`` sees the model as a fit of that many epochs would leave it and may
        return False to stop; the same loop is open as :meth:`trainer` (``models.training``).
        """
        # bpr only: warp with scaled item rows ties the default on validation (+0.05%/-1.0%, ml-100k/mlls)
        # and wins at 64 factors or 30 epochs (bench/results/validation_study.json, warp+genres… studies)
        if item_features is not None and self.normalizes("items") and self._loss_kind == _BPR_KIND:
            import warnings

            warnings.warn(
                FEATURES_WARNING.format(name=self.name, value=self.normalize_features),
                UserWarning,
                stacklevel=3,
            )
        trainer = self.trainer(train, item_features=item_features, user_features=user_features)
        return fit_epochs(trainer, int(self.epochs), on_epoch)

    def trainer(
        self,
        train: Interactions,
        *,
        item_features: Any = None,
        user_features: Any = None,
        resume: bool = False,
    ) -> ModelTrainer:
        """A trainer (:class:`HybridMFTrainer`, or the class's ``_trainer``) for ``train``, no epoch run yet.

        ``resume=True`` continues the fitted model (its weights, Adagrad/Adadelta accumulators and random
        stream; ``train`` indexed as the fit's data, the fit's features): ``fit_partial`` with a loop of
        your own. Without it the run starts from ``random_state``, whatever the model holds.
        """
        self._validate_params()  # a trainer may be asked for without fit
        if train.n_ratings == 0:
            raise DataError(f"{self.name}: no positive interactions to train on")
        if not resume:
            make: Callable[..., ModelTrainer] = self._trainer or HybridMFTrainer
            return make(self, train, item_features, user_features)
        self._check_fitted()
        if self._trainer is not None:
            raise ConfigError(
                f"{self.name} is trained by the reference library, which keeps no state here to continue "
                "from: refit it with fit(train), or continue movierec's own model of the same loss"
            )
        return HybridMFTrainer(self, train, item_features, user_features, resume=True)

    def _fit_partial(
        self,
        train: Interactions,
        epochs: int,
        *,
        item_features: Any = None,
        user_features: Any = None,
        on_epoch: EpochCallback | None = None,
    ) -> None:
        """``epochs`` more epochs from the fitted state (a fresh run if unfitted): ``BaseRecommender.fit_partial``."""
        resume = self._start_partial_fit(train, on_epoch)
        trainer = self.trainer(train, item_features=item_features, user_features=user_features, resume=resume)
        fit_epochs(trainer, epochs, on_epoch)

    def _start_training(
        self, history: list[dict[str, float]], item_names: list[str], user_names: list[str]
    ) -> None:
        """What a trainer records on the model as it starts: its live epoch records and the feature names."""
        self.history_ = history
        self.item_feature_names_ = item_names
        self.user_feature_names_ = user_names

    def _keep_training_state(
        self,
        rng: np.random.Generator | None,
        user_w: np.ndarray,
        acc: tuple[np.ndarray, np.ndarray],
        mom: tuple[np.ndarray, np.ndarray],
    ) -> None:
        """Record on the model what :func:`_saved_training` reads back: the live arrays (no copy) and the
        stream's state after the last epoch; only the schedule's own arrays (LearnBPR's ``sgd`` keeps none, so
        a default bpr costs nothing more); ``rng`` None: training started, the model not continuable yet."""
        for key in _TRAINING_STATE:
            self.__dict__.pop(key, None)
        if rng is None:
            return
        self.training_user_weights_ = user_w
        if self.schedule_ in ("adagrad", "adadelta"):
            self.training_item_acc_, self.training_user_acc_ = acc
        if self.schedule_ == "adadelta":
            self.training_item_mom_, self.training_user_mom_ = mom
        self.training_rng_ = generator_state(rng)

    def _finalise(
        self,
        item_emb: np.ndarray,
        item_bias: np.ndarray,
        user_emb: np.ndarray,
        user_bias: np.ndarray,
        item_side: sp.csr_matrix | None,
        user_side: sp.csr_matrix | None,
        train: Interactions,
    ) -> None:
        """Precompute effective vectors from per-feature ones; a cold item (side features, no training
        interaction) leaves out its identity's embedding, which training never raised (WARP's uniform
        negatives pushed it down; BPR's, drawn from the log, never reach it), but keeps its share of a
        normalised row (:func:`feature_rows`)."""
        identity = None
        if item_side is not None and item_side.shape[1] > 0 and self._cold_items_by_features:
            warm = train.item_counts() > 0
            has_side = np.diff(item_side.indptr) > 0
            identity = warm | ~has_side  # an item with neither keeps its (untrained) identity
        rows = feature_rows(item_side, train.n_items, normalize=self.normalizes("items"), identity=identity)
        self.item_factors_ = np.asarray(rows @ item_emb, dtype=np.float32)
        self.item_bias_ = np.asarray(rows @ item_bias, dtype=np.float32)
        urows = feature_rows(user_side, train.n_users, normalize=self.normalizes("users"))
        self.user_factors_ = np.asarray(urows @ user_emb, dtype=np.float32)
        self.user_bias_ = np.asarray(urows @ user_bias, dtype=np.float32)
        self.item_feature_embeddings_ = np.ascontiguousarray(item_emb, dtype=np.float32)
        self.item_feature_biases_ = np.ascontiguousarray(item_bias, dtype=np.float32)
        # the user side features' own rows (after the identities): a visitor is scored from these
        self.user_feature_embeddings_ = np.ascontiguousarray(user_emb[train.n_users :], dtype=np.float32)

    # --- scoring --------------------------------------------------------------------------
    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """u·i + b_i + b_u with the precomputed effective vectors."""
        self._check_fitted()
        users = self._check_users(users)
        vi = self.item_factors_ if items is None else self.item_factors_[np.asarray(items)]
        bi = self.item_bias_ if items is None else self.item_bias_[np.asarray(items)]
        out = self.user_factors_[users] @ vi.T
        out += bi[None, :]
        out += self.user_bias_[users][:, None]
        return out.astype(np.float32, copy=False)

    def score_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The score of each (``users[j]``, ``items[j]``) pair, u·i + b_u + b_i: LightFM's
        ``predict(user_ids, item_ids)`` on dense indices (a single user broadcasts over the items),
        where :meth:`score` gives every user × every item."""
        self._check_fitted()
        items = check_indices(items, self.n_items_, "item")
        users = self._check_users(users)
        if users.size == 1:
            users = np.full(items.shape, users[0])
        if users.shape != items.shape:
            raise ConfigError(
                f"score_pairs needs as many users as items, got {users.shape} and {items.shape}"
            )
        out = np.einsum("ij,ij->i", self.user_factors_[users], self.item_factors_[items])
        return (out + self.user_bias_[users] + self.item_bias_[items]).astype(np.float32, copy=False)

    def score_new_user(
        self,
        items: np.ndarray | None,
        ratings: np.ndarray | None = None,
        threshold: float = 4.0,
        *,
        features: Any = None,
    ) -> np.ndarray:
        """Cold-start user: scores over all items from a few (item, rating) pairs and/or user features.

        From items alone: the model's fold-in of the liked items (ratings ≥ ``threshold``,
        :meth:`fold_in_spec`): :class:`BPR` solves the BPR criterion for the vector ranking them above the
        rest, the other losses take the mean of their vectors. With ``features``: the mean of the liked
        items' vectors (all given items when none reaches it, weighted by rating). From ``features`` (a visitor mapping such as
        ``{"age": 31, "gender": "F"}`` checked against the demographics the model was trained
        with, or a 1 × n CSR row over ``user_feature_names_``): the normalised sum of those
        features' embeddings, as LightFM represents a user without an identity feature. With
        both, the feature vector counts as one more liked item in the mean.

        Without ``features`` this is the factor family's fold-in (:mod:`movierec.scoring.factors`,
        ``bpr`` or ``mean``), the code an exported artifact runs for a visitor;
        nothing liked gives the popularity ranking.
        """
        if features is None and items is not None:
            return super().score_new_user(items, ratings, threshold=threshold)
        self._check_fitted()
        items = np.zeros(0, dtype=np.int64) if items is None else np.asarray(items, dtype=np.int64)
        parts: list[np.ndarray] = []
        weights: list[float] = []
        if features is not None:
            parts.append(self._feature_vector(features))
            weights.append(1.0)
        if items.size:
            if items.min() < 0 or items.max() >= self.n_items_:
                raise ConfigError(f"item index outside 0..{self.n_items_ - 1}")
            w = np.ones(len(items), dtype=np.float32)
            if ratings is not None:
                ratings = np.asarray(ratings, dtype=np.float32)
                liked = ratings >= threshold
                if liked.any():
                    w = liked.astype(np.float32)
                else:  # nothing liked: the features alone, else every rated item weighted by rating
                    w = np.zeros_like(ratings) if features is not None else np.maximum(ratings, 1e-3)
            if w.sum() > 0:
                parts.append((w[:, None] * self.item_factors_[items]).sum(axis=0))
                weights.append(float(w.sum()))
        if not parts:
            raise ConfigError("score_new_user needs at least one (item, rating) pair or user features")
        vec = np.sum(parts, axis=0) / max(sum(weights), 1e-6)
        return (self.item_factors_ @ vec + self.item_bias_).astype(np.float32)

    def fold_in_spec(self) -> dict[str, object]:
        """A visitor's vector is the mean of their liked items' vectors (see :mod:`movierec.scoring.factors`);
        :class:`BPR` solves its own criterion instead (:meth:`BPR.fold_in_spec`)."""
        return {"method": "mean"}

    def similar_vectors(self) -> np.ndarray | None:
        """Item factors whitened by their second moment over the trained items, z_i = G^{−½}·v_i with
        G = VᵀV / n, so that cosine weighs every learned direction alike (whitening, Su et al. 2021,
        "Whitening sentence representations for better semantics and faster retrieval"; iALS's
        :meth:`~movierec.models.ials.IALS.similar_vectors` whitens by its own normal equations). LightFM's
        losses on positives give often-liked items long vectors along a few shared directions (norm vs log
        likes: correlation 0.8 for logistic, warp and bpr on ml-latest-small), and plain cosine lists the
        films everyone liked: logistic's Toy Story list opened with Shawshank, Forrest Gump, Pulp Fiction.
        ``movierec similar -m MODEL`` over the 200 most-rated films of ml-latest-small (top 10; genre Jaccard
        with the film / median ratings of the listed films), seed 42: logistic 0.257 / 215 → 0.268 / 149,
        warp 0.301 / 192 → 0.312 / 142, warp-kos 0.298 / 188 → 0.305 / 145, bpr 0.308 / 143 → 0.314 / 131
        (ease 0.338 / 131); seeds 1 and 2 agree, except logistic's overlap (+0.005, −0.001): its
        positives-only loss learns mostly popularity, and whitening only stops that crowding its lists."""
        self._check_fitted()

        def second_moment(v: np.ndarray) -> np.ndarray:
            trained = np.bincount(self.seen_.indices, minlength=v.shape[0]) > 0  # untrained rows stay at init
            basis = v[trained] if trained.sum() > v.shape[1] else v
            return basis.T @ basis / max(len(basis), 1)

        # a direction no item uses is not blown up
        return whitened_items(
            self, second_moment, lambda vals: max(float(vals.max(initial=0.0)), 1e-12) * 1e-6
        )

    def _feature_vector(self, features: Any) -> np.ndarray:
        """A visitor's user vector from its side features (see :meth:`score_new_user`)."""
        names = list(getattr(self, "user_feature_names_", []) or [])
        emb = getattr(self, "user_feature_embeddings_", None)
        if not names or emb is None or len(emb) != len(names):
            raise ConfigError(
                f"{self.name} was trained without user features, so it cannot use a visitor's features"
            )
        from movierec.demographics import visitor_feature_row

        row = visitor_feature_row(self.name, features, names)
        total = float(row.sum())
        if total <= 0:
            return np.zeros(emb.shape[1], dtype=np.float32)
        if self.normalizes("users"):
            row = row / total
        return np.asarray(row @ emb, dtype=np.float32).ravel()


# shared by the four losses (Rendle et al. 2009; Weston et al. 2011; LightFM's per-feature alphas)
_HYBRID_SPACE: SearchSpace = {
    "factors": FACTORS,
    "learning_rate": LR,
    "epochs": EPOCHS,
    "item_alpha": FloatRange(1e-8, 1e-2, log=True),
    "user_alpha": FloatRange(1e-8, 1e-2, log=True),
    "learning_schedule": Choice(("adagrad", "adadelta")),
}


#: what a hybrid model keeps to continue training (``fit_partial``), beside its per-feature item
#: embeddings and biases (``item_feature_embeddings_``, ``item_feature_biases_``: the item weights, exactly)
#: and ``schedule_``: every user feature's weights (identities first, the bias in the last column; the
#: user vectors alone lose the identities' part when users have side features), the Adagrad/Adadelta
#: accumulators (LightFM's ``*_gradients``) and Adadelta's ``*_momentum``, and the random stream's state
_TRAINING_STATE = (
    "training_user_weights_",
    "training_item_acc_",
    "training_user_acc_",
    "training_item_mom_",
    "training_user_mom_",
    "training_rng_",
)


def _saved_training(
    model: HybridMF, train: Interactions, names: tuple[list[str], list[str]], identity_only: bool
) -> tuple[np.random.Generator, np.ndarray, np.ndarray, tuple[Any, Any], tuple[Any, Any]]:
    """The random stream, item weights, user weights, accumulators and momenta ``model`` continues from
    (copies), after checking (one sentence each) that ``train`` and the features fit the fitted state."""
    name = model.name
    rng = restore_generator(getattr(model, "training_rng_", None), name)
    check_same_index(model, train)
    if names != (list(model.item_feature_names_), list(model.user_feature_names_)):
        raise ConfigError(
            f"{name} was fitted with {len(model.item_feature_names_)} item and {len(model.user_feature_names_)} "
            f"user side features and these are {len(names[0])} and {len(names[1])} (or named otherwise): pass "
            "fit_partial the item_features and user_features of the fit"
        )
    d, fitted = int(model.factors), model.item_feature_embeddings_.shape[1]
    if d != fitted:
        raise ConfigError(
            f"{name} was fitted with factors={fitted}, not {d}: set factors={fitted} to continue"
        )
    was = model.schedule_
    if model._resolve_schedule(identity_only) != was:
        now, model.schedule_ = model.schedule_, was
        raise ConfigError(
            f"{name} was trained with the {was!r} schedule and learning_schedule={model.learning_schedule!r} "
            f"gives {now!r} here: continue with the fit's learning_schedule"
        )
    item_w = np.empty((model.item_feature_embeddings_.shape[0], d + 1), dtype=np.float32)
    item_w[:, :d], item_w[:, d] = model.item_feature_embeddings_, model.item_feature_biases_
    user_w = np.array(model.training_user_weights_, dtype=np.float32, order="C")
    start = 0.0 if was == "adadelta" else 1.0
    acc: tuple[Any, Any] = (np.full_like(item_w, start), np.full_like(user_w, start))
    mom: tuple[Any, Any] = (np.zeros_like(item_w), np.zeros_like(user_w))
    if was in ("adagrad", "adadelta"):
        acc = (np.array(model.training_item_acc_, np.float32), np.array(model.training_user_acc_, np.float32))
    if was == "adadelta":
        mom = (np.array(model.training_item_mom_, np.float32), np.array(model.training_user_mom_, np.float32))
    return rng, item_w, user_w, acc, mom


class HybridTrainerBase:
    """What every trainer of a hybrid model shares (ours, LightFM's): the model, its epoch records,
    the side features, and publishing the learned vectors on the model (``HybridMF._finalise``).

    A trainer implements ``_sweep`` (one epoch, its record appended to ``history``) and ``_vectors``
    (item embeddings, item biases, user embeddings, user biases of the live state).
    """

    model: HybridMF
    history: list[dict[str, float]]
    _train: Interactions
    _item_side: sp.csr_matrix | None
    _user_side: sp.csr_matrix | None

    def _sweep(self) -> dict[str, float]:
        raise NotImplementedError

    def _vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _publish(self) -> None:
        self.model._finalise(*self._vectors(), self._item_side, self._user_side, self._train)

    def train_epochs(self, n: int) -> list[dict[str, float]]:
        """``n`` epochs, the model's vectors computed once at the end."""
        records = [self._sweep() for _ in range(int(n))]
        self._publish()
        return records


class HybridMFTrainer(HybridTrainerBase):
    """One LightFM-style training run, an epoch at a time (``train_epoch``) or many (``train_epochs``).

    The model is usable after every ``train_epoch``: its vectors are recomputed from the live
    weights then (a view for identity features, a sparse product with side features), while
    ``train_epochs`` only publishes after its last epoch. Epochs draw from the model's seeded
    generator in the same order whichever way they are run, so both give the same weights.
    """

    def __init__(
        self,
        model: HybridMF,
        train: Interactions,
        item_features: Any,
        user_features: Any,
        *,
        resume: bool = False,
    ) -> None:
        self.model = model
        self._train = train
        item_side, item_names = side_matrix(item_features, train.n_items, "item_features")
        user_side, user_names = side_matrix(user_features, train.n_users, "user_features")
        self._item_side, self._user_side = item_side, user_side
        item_rows = feature_rows(item_side, train.n_items, normalize=model.normalizes("items"))
        user_rows = feature_rows(user_side, train.n_users, normalize=model.normalizes("users"))
        d = self._d = int(model.factors)
        identity_only = _is_identity(item_rows) and _is_identity(user_rows)
        if resume:  # every check before anything on the model changes
            saved = _saved_training(model, train, (item_names, user_names), identity_only)
            rng, self._item_w, self._user_w, self._acc, self._mom = saved
            self.history: list[dict[str, float]] = [dict(row) for row in model.history_]
        else:
            rng = check_random_state(model.random_state)
            # LightFM's initialisation: U(-0.5, 0.5) / d for embeddings, zero biases; the bias rides
            # in the last column so a feature's whole contribution is one contiguous row
            self._item_w = item_w = np.zeros((item_rows.shape[1], d + 1), dtype=np.float32)
            item_w[:, :d] = (rng.random((item_rows.shape[1], d)) - 0.5) / d
            self._user_w = user_w = np.zeros((user_rows.shape[1], d + 1), dtype=np.float32)
            user_w[:, :d] = (rng.random((user_rows.shape[1], d)) - 0.5) / d
            start = 0.0 if model._resolve_schedule(identity_only) == "adadelta" else 1.0
            self._acc = (np.full_like(item_w, start), np.full_like(user_w, start))
            self._mom = (np.zeros_like(item_w), np.zeros_like(user_w))
            self.history = []
        adadelta = model.schedule_ == "adadelta"
        self._rng = rng
        self._weights = interaction_weights(train, model.weighting, model.half_life_days)
        model._remember_train(train)
        model._remember_index(train)
        positives = sp.csr_matrix(
            (np.ones(train.n_ratings, np.float32), (train.users, train.items)), shape=train.shape
        )
        positives.sum_duplicates()
        positives.sort_indices()
        self._positives = positives
        if model._loss_kind == _LOGISTIC_KIND:  # pointwise: its own kernel, identity rows included
            self._kernel: Any = logistic_epoch
            self._features: tuple[Any, ...] = (item_rows.indptr, item_rows.indices, item_rows.data)
            self._features += (user_rows.indptr, user_rows.indices, user_rows.data)
        elif identity_only:  # representation = embedding row: the fused kernel
            self._kernel, self._features = pairwise_epoch_identity, ()
        else:
            self._kernel = pairwise_epoch
            self._features = (item_rows.indptr, item_rows.indices, item_rows.data)
            self._features += (user_rows.indptr, user_rows.indices, user_rows.data)
        # never more threads than cores others leave free: a descheduled Hogwild thread only adds waiting
        self._threads = free_threads(limit=int(model.num_threads)) if int(model.num_threads) > 1 else 1
        self._blocks = (
            1 if self._threads == 1 else 16 * self._threads
        )  # small blocks, handed out one at a time
        self._hyper = (
            adadelta,
            np.float32(model.learning_rate),
            np.float32(model.rho),
            np.float32(model.epsilon),
            np.float32(model.item_alpha),
            np.float32(model.user_alpha),
            int(model.max_sampled),
            int(getattr(model, "k", 1)),  # k-OS WARP's k and n (WARPKOS only)
            int(getattr(model, "n", 1)),
        )
        model._start_training(self.history, item_names, user_names)
        model._keep_training_state(None, self._user_w, self._acc, self._mom)  # none until an epoch shows

    def _sweep(self) -> dict[str, float]:
        """One epoch of the kernel over every training interaction (blocks claimed by free threads)."""
        m, train, rng, blocks, threads = self.model, self._train, self._rng, self._blocks, self._threads
        pool = shared_pool(threads - 1) if threads > 1 else None
        positives, item_w, user_w, hyper = self._positives, self._item_w, self._user_w, self._hyper
        epoch = len(self.history) + 1
        tic = time.perf_counter()
        order = rng.permutation(train.n_ratings).astype(np.int64)
        state = np.zeros(8 * blocks, dtype=np.uint64)  # one xorshift state per block, 64 bytes apart
        state[::8] = rng.integers(1, 2**63 - 1, size=blocks, dtype=np.int64).astype(np.uint64)
        losses = np.zeros(blocks, dtype=np.float64)
        args: tuple[Any, ...]
        kernel: Any  # the LearnBPR block or the pairwise/logistic epoch, each with its own argument list
        if m.schedule_ == "sgd":  # LearnBPR: bootstrap sampling, uniform negatives, constant step
            kernel = learn_bpr_block
            args = (train.users, train.items, self._weights, positives.indptr, positives.indices, item_w)
            args += (user_w, hyper[1], hyper[4], hyper[5], state, losses, np.zeros(blocks, np.int64))
        else:
            kernel = self._kernel
            args = (m._loss_kind, order, train.users, train.items, self._weights, positives.indptr)
            args += (positives.indices, *self._features, item_w, user_w, *self._acc, *self._mom)
            args += (*hyper, state, losses)
        run_blocks(lambda first, last: kernel(*args, first, last), blocks, pool, threads - 1)
        loss = losses.sum() / train.n_ratings
        if not np.isfinite(loss):
            raise ConfigError(
                f"{m.name}: training diverged at epoch {epoch} (loss {loss}); lower learning_rate"
            )
        record = {"epoch": epoch, "loss": float(loss), "seconds": time.perf_counter() - tic}
        self.history.append(record)
        return record

    def _vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        d, item_w, user_w = self._d, self._item_w, self._user_w
        return item_w[:, :d], item_w[:, d], user_w[:, :d], user_w[:, d]

    def train_epoch(self) -> dict[str, float]:
        """One epoch; the model scores as a fit of this many epochs would leave it (:meth:`_show`)."""
        record = self._sweep()
        self._show()
        return record

    def train_epochs(self, n: int) -> list[dict[str, float]]:
        """``n`` epochs; the model scores as a fit of that many epochs would leave it (:meth:`_show`).

        Without side features that costs nothing, so a progress-only listener's chunks
        (``training.fit_epochs``) no longer each pay a full publish (measured: 14 of them were ~0.17 s,
        8%, of a default bpr fit in ``compare``); :meth:`finalize` publishes once at the end.
        """
        records = [self._sweep() for _ in range(int(n))]
        self._show()
        return records

    def _show(self) -> None:
        """Point the model at the live weights: without side features its vectors are views of them
        (no copy: measured, copying 200-factor vectors after each of 150 epochs added 30% CPU to a
        fit with a listener); with them, the feature sums are recomputed (``_publish``)."""
        self.model._keep_training_state(self._rng, self._user_w, self._acc, self._mom)
        if self._item_side is None and self._user_side is None:
            d, m = self._d, self.model
            m.item_factors_, m.item_bias_ = self._item_w[:, :d], self._item_w[:, d]
            m.user_factors_, m.user_bias_ = self._user_w[:, :d], self._user_w[:, d]
            m.item_feature_embeddings_, m.item_feature_biases_ = m.item_factors_, m.item_bias_
            m.user_feature_embeddings_ = self._user_w[self._train.n_users :, :d]
            self._views = True
        else:
            self._publish()

    def finalize(self) -> HybridMF:
        """The fitted model (its vectors are those of the last epoch run, as contiguous arrays)."""
        if getattr(self, "_views", False) or not hasattr(self.model, "item_factors_") or not self.history:
            self._publish()
            self._views = False
        return self.model


class BPR(HybridMF):
    """Bayesian Personalised Ranking (Rendle et al. 2009) on LightFM's hybrid model.

    Defaults are LearnBPR's (``learning_schedule="auto"``: uniform sampling, constant step, Cornac's
    recipe) with the settings ``bench/validation_study.py bpr`` chose on validation folds cut from the
    training part of ml-100k's per-user 75/25 split (the test part never read): 200 components, learning
    rate 0.01, λ_item 0.001, 150 epochs (validation NDCG@10 0.2568; LightFM-style adagrad with
    popularity-sampled negatives, the old defaults, was far lower). With side features ``auto`` falls
    back to LightFM's adagrad; there ``learning_rate=0.05, epochs=25`` (LightFM's defaults) train faster.

    ml-latest-small wants other settings, and the class keeps ml-100k's: ``bench/validation_study.py bpr
    --protocol mlls --seeds 1,2,3`` (four stages, three validation splits) prefers ``learning_rate=0.05,
    item_alpha=user_alpha=0.01, epochs=600`` (mean validation NDCG@10 0.1564 against 0.1173 for these
    defaults; 1,200 epochs at λ 0.005 add 0.003), but on ml-100k's validation split that point scores 0.2458
    against 0.2573, and issue 19 asks default bpr to reach 0.42 on ml-100k. On data like ml-latest-small
    (9,724 items, 610 users) pass them: ``compare -m bpr -p bpr.learning_rate=0.05,bpr.item_alpha=0.01,
    bpr.user_alpha=0.01,bpr.epochs=600``.

    Side features lower BPR's ranking here: on ml-latest-small (``compare``'s default split, validation cut
    from its training part, seed 1) genres and tags take validation NDCG@10 from 0.1158 to 0.0921 at the
    defaults and from 0.1093 to 0.0881 at LightFM's settings, while WARP gains from them (0.1325 to 0.1380),
    so ``warp`` is the hybrid model to give features to.
    """

    name: ClassVar[str] = "bpr"
    acts_when: ClassVar[dict[str, ActsWhen]] = {"max_sampled": WARP_ONLY}
    # "loss" picks the registered model (tuning.MODEL_SWITCHES): BPR vs WARP is itself tuned
    search_space: ClassVar[SearchSpace] = {
        **_HYBRID_SPACE,
        "learning_schedule": Choice(("auto", "adagrad", "adadelta")),
        "loss": Choice(LOSSES),
    }
    _loss_kind: ClassVar[int] = _BPR_KIND

    # LearnBPR's recipe, chosen on validation folds (above): new defaults for HybridMF's declarations
    factors = 200
    learning_rate = 0.01
    epochs = 150
    learning_schedule = "auto"
    item_alpha = 0.001

    def fold_in_spec(self) -> dict[str, object]:
        """A visitor's vector maximises the BPR criterion over their liked items (Rendle et al. 2009), with the
        λ at which this model's trained users are optima (:func:`movierec.scoring.factors.bpr_fold_in`,
        :func:`~movierec.scoring.factors.bpr_stationary_reg`; computed once per fitted state, ~0.1 s of CPU).

        Measured on ml-latest-small's per-user 80/20 split (positives ≥ 4, seed 42), 100 seeded test users
        folded in from their training positives, NDCG@10 of their test positives: 0.175 (their trained
        vectors 0.171, the mean of liked vectors that bpr folded in with before 0.151, popularity 0.136);
        given 10 of their positives 0.163 (mean 0.150), given 3 0.161 (mean 0.158; another draw of the
        3, 0.166 against 0.154). WARP keeps the mean: the same solve at its own λ scores 0.213 against
        0.185 from whole histories and 0.198 against 0.188 from 10 positives, but from 3 one draw gave
        0.188 against 0.183 and another 0.150 against 0.174, and a visitor gives a few.
        """
        from movierec.scoring.factors import bpr_stationary_reg

        cache = getattr(self, "_fold_in_reg", None)
        if cache is None or cache[0] is not self.item_factors_ or cache[1] is not self.user_factors_:
            reg = bpr_stationary_reg(self.item_factors_, self.item_bias_, self.user_factors_, self.seen_)
            cache = self._fold_in_reg = (self.item_factors_, self.user_factors_, reg)
        return {"method": "bpr", "reg": cache[2]}


class WARP(HybridMF):
    """Weighted Approximate-Rank Pairwise loss (Weston, Bengio & Usunier 2011) on LightFM's hybrid model."""

    name: ClassVar[str] = "warp"
    search_space: ClassVar[SearchSpace] = {
        **_HYBRID_SPACE,
        "max_sampled": IntRange(10, 200, log=True),
        "loss": Choice(("warp", "bpr", "logistic", "warp-kos")),
    }
    _loss_kind: ClassVar[int] = _WARP_KIND


class Logistic(HybridMF):
    """LightFM's logistic loss on the hybrid model: every interaction a positive, σ(u·i + b_u + b_i) → 1.

    With positives only it mostly learns popularity through the biases; it is here for parity
    with ``lightfm:logistic`` and for tuning ``loss`` over LightFM's four losses (Kula 2015).
    """

    name: ClassVar[str] = "logistic"
    search_space: ClassVar[SearchSpace] = {
        **_HYBRID_SPACE,
        "loss": Choice(("logistic", "bpr", "warp", "warp-kos")),
    }
    _loss_kind: ClassVar[int] = _LOGISTIC_KIND
    acts_when: ClassVar[dict[str, ActsWhen]] = {"max_sampled": WARP_ONLY}


class WARPKOS(HybridMF):
    """k-order statistic WARP (Weston, Yee & Weiss 2013, "Learning to rank recommendations with the
    k-order statistic loss"): per interaction, draw ``n`` of the user's positives, take the k-th
    highest scored as the positive and make a WARP step against a sampled violating negative.

    ``k=1`` pushes a user's best positive up (precision at the top); larger ``k`` spreads the
    effort over more of the user's tastes. Defaults k=5, n=10 as in LightFM.
    """

    name: ClassVar[str] = "warp-kos"
    search_space: ClassVar[SearchSpace] = {
        **_HYBRID_SPACE,
        "max_sampled": IntRange(10, 200, log=True),
        "loss": Choice(("warp-kos", "warp", "bpr", "logistic")),
    }
    _loss_kind: ClassVar[int] = _WARP_KOS_KIND

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {"k": [POSITIVE_INT], "n": [POSITIVE_INT]}

    k: int = 5
    n: int = 10

    def _validate_params(self) -> None:
        super()._validate_params()
        if int(self.k) > int(self.n):
            raise ConfigError(
                f"k must be ≤ n (the k-th of n sampled positives), got k={self.k!r}, n={self.n!r}"
            )
