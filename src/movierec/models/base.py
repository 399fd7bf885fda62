"""The model contract (docs/architecture.md) and the shared machinery every recommender inherits.

A model follows scikit-learn's estimator conventions: hyperparameters are keyword constructor
arguments stored unchanged, learned state ends in ``_``, ``fit`` returns ``self``; it never
sees raw ids, only dense indices from :class:`~movierec.interactions.Interactions`.

The contract is code, not prose (RecTools' ``ModelBase``, scikit-learn's ``BaseEstimator``):

- ``fit`` is final: it checks the class's declared ``_parameter_constraints``
  (:mod:`movierec.models.params`) and then calls the model's ``_fit``.
- ``tags`` (one :class:`Tags` per class) says what the model trains on, whether it predicts
  ratings, how it folds in a new user and how it is served; callers read tags instead of
  probing attributes.
- One name per hyperparameter across models (``factors``, ``epochs``, ``learning_rate``,
  ``regularization``); ``_aliases`` maps the reference libraries' spellings (Surprise's
  ``n_factors``/``n_epochs``/``lr``/``reg``, LightFM's ``no_components``, implicit's
  ``iterations``) to them, so old configs, TOML files and ``--params`` keep loading;
  ``_compound_aliases`` are names that set several at once (Surprise's ``lr_all``: every learning rate,
  a part given by its own name winning), and ``_foreign_names`` the library names with no exact
  counterpart, each with what it is called here (svd's ``lr_bu``: ``lr_bias``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, Self, TypeVar, dataclass_transform, runtime_checkable

import numpy as np
import scipy.sparse as sp

from movierec.errors import (
    ArtifactError,
    ConfigError,
    DataError,
    Doors,
    NotFittedError,
    did_you_mean,
    framed,
    some_of,
)
from movierec.interactions import Interactions, distinct_pairs
from movierec.jsonsafe import to_jsonable
from movierec.models.memory import check_memory
from movierec.models.params import SHARED_CONSTRAINTS, Constraint, validate_params
from movierec.scoring.support import explicit_rank_score, no_similar_reason, user_priors

__all__ = [
    "HYPERPARAMETER_ALIASES",
    "REFERENCE_INSTALL",
    "TORCH_INSTALL",
    "BaseRecommender",
    "EpochCallback",
    "ExplicitRecommender",
    "FactorRecommender",
    "NoFoldIn",
    "Recommender",
    "Tags",
    "check_indices",
    "check_positive",
    "check_random_state",
    "fit_options",
    "rated_beyond_training",
    "read_npz",
    "reason_order",
    "require_interactions",
    "saved_model_meta",
    "seeded",
    "tags_of",
    "topk",
    "training_view",
    "uses_item_features",
]

MODEL_FORMAT_VERSION = 1

_M = TypeVar("_M")  # seeded returns the model it was given

EpochCallback = Callable[[int, dict[str, float]], bool | None]
"""Called after each epoch of an iterative model with ``(epoch, {"loss": …, …})``; return ``False`` to stop.

Iterative models take ``on_epoch: EpochCallback | None = None`` as a keyword of ``fit`` (used for
progress bars, training curves and Optuna pruning) and keep ``history_``, a list of per-epoch
dicts (``{"epoch": 1, "loss": …}``), which ``save`` stores as JSON.
"""

#: install commands named in :attr:`BaseRecommender.requires`
TORCH_INSTALL = "pip install torch==2.13.0 'movierec[seq]'"
REFERENCE_INSTALL = "pip install 'movierec[reference]'"


TrainsOn = Literal["ratings", "interactions", "sequences"]
FoldIn = Literal["factors", "neighbours", "sequence", "popularity", "none"]


@dataclass(frozen=True)
class Tags:
    """What a model class is, read by evaluation, export and the report instead of ad-hoc attributes.

    - ``trains_on``: ``"ratings"`` (explicit ratings as given), ``"interactions"`` (positives after
      the implicit threshold) or ``"sequences"`` (positives in time order; evaluated leave-last-out).
    - ``predicts_ratings``: ``predict`` returns ratings on the training scale (RMSE/MAE apply).
    - ``fold_in``: how ``score_new_user`` places a person not in training: ``"factors"`` (solve a
      user vector against fixed item factors), ``"neighbours"`` (sum item similarities),
      ``"sequence"`` (read the history in order), ``"popularity"`` (the same list for everyone) or
      ``"none"`` (cannot).
    - ``serving``: the serving family an exported artifact uses (:mod:`movierec.scoring`:
      ``"factors"``, ``"neighbours"``, ``"knn"``, ``"linear"``, ``"markov"``, ``"sasrec"``, ``"vae"``,
      ``"scores"``, ``"blend"``), or ``None`` when not declared (export then reads the fitted state).
    - ``uses_features``: ``fit`` takes ``item_features``/``user_features``.
    """

    trains_on: TrainsOn = "interactions"
    predicts_ratings: bool = False
    fold_in: FoldIn = "none"
    serving: str | None = None
    uses_features: bool = False

    @property
    def kind(self) -> str:
        """``"explicit"`` for rating predictors, else ``"implicit"`` (the older one-word tag)."""
        return "explicit" if self.predicts_ratings else "implicit"

    @property
    def sequential(self) -> bool:
        return self.trains_on == "sequences"


# One name per idea across models; the reference libraries' names load as aliases (lkpy's
# ``AliasChoices("embedding_size", "features")``). A class lists the ones it accepts in ``_aliases``.
HYPERPARAMETER_ALIASES: dict[str, str] = {
    "n_factors": "factors",  # Surprise
    "no_components": "factors",  # LightFM
    "n_epochs": "epochs",  # Surprise
    "iterations": "epochs",  # implicit
    "lr": "learning_rate",  # Surprise
    "reg": "regularization",  # Surprise
}


# Reference libraries' constructor options that are about the run, not the model: a model here takes none of
# them, so each gets the line that says where the setting lives instead of a guess among the model's names
# (``cache_ratings`` was told "did you mean 'iterations'?").
RUN_OPTIONS: dict[str, str] = {
    "verbose": "progress is the caller's here (compare(..., progress=False) silences it)",
    "show_progress": "progress is the caller's here (compare(..., progress=False) silences it)",
    "cache_ratings": "Surprise's SVD++ memory switch; the ratings are always held as arrays here",
    "num_threads": "threads are set for the process by $MOVIEREC_THREADS (default: the idle cores)",
}


def tags_of(model_or_class: object) -> Tags:
    """The :class:`Tags` of a model instance or class (a plain default for objects outside the contract)."""
    tags = getattr(model_or_class, "tags", None)
    if isinstance(tags, Tags):
        return tags
    explicit = getattr(model_or_class, "kind", "implicit") == "explicit"
    sequential = bool(getattr(model_or_class, "sequential", False))
    return Tags(
        trains_on="sequences" if sequential else ("ratings" if explicit else "interactions"),
        predicts_ratings=explicit,
    )


def fit_options(model_or_class: Any) -> set[str]:
    """Keyword arguments a model's ``fit`` takes, for objects inside or outside the contract."""
    options = getattr(model_or_class, "fit_options", None)
    if callable(options):
        return set(options())
    sig = inspect.signature(model_or_class.fit)
    return {p.name for p in sig.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY}


def uses_item_features(model_or_class: Any) -> bool:
    """Whether fitting a model with item features changes it: its own ``uses_item_features`` (an ensemble
    asks its bases), else whether its ``fit`` takes them. compare, report, recommend and export name the
    models that ignore them, and label the others' rows ``NAME+genres``, by this."""
    said = getattr(model_or_class, "uses_item_features", None)
    return said if isinstance(said, bool) else "item_features" in fit_options(model_or_class)


def pair_dots(left: np.ndarray, right: np.ndarray, users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """``left[users[i]] · right[items[i]]`` for every pair, in float64, gathered a block of pairs at a time so
    the gathered rows stay near 32 MB: gathering all of them at once took 2 × pairs × factors × 4 bytes
    (svd's 26,900 validation ratings at factors=100000: 21.5 GB, the out-of-memory kill in tune)."""
    users, items = np.asarray(users), np.asarray(items)
    width = max(int(left.shape[1]) if left.ndim == 2 else 1, 1)
    block = max(1, (32 << 20) // (2 * width * left.itemsize))
    out = np.empty(len(users), dtype=np.float64)
    for start in range(0, len(users), block):
        end = start + block
        out[start:end] = np.einsum(
            "ij,ij->i", left[users[start:end]], right[items[start:end]], dtype=np.float64
        )
    return out


def whitened_items(
    model: Any,
    gram: Callable[[np.ndarray], np.ndarray],
    floor: Callable[[np.ndarray], float] = lambda eigenvalues: 1e-12,
) -> np.ndarray:
    """``model.item_factors_`` whitened, z_i = G^{−½}·v_i with G = ``gram(V)`` (V in float64) and G's
    eigenvalues held at ``floor(eigenvalues)`` or above, as float32: the ``similar_vectors`` of iALS (its
    normal equations) and of the LightFM-style models (the factors' second moment). Kept on the model with
    the factors it was computed from ('similar' asks often); not saved (no trailing underscore)."""
    cached = getattr(model, "_whitened", None)
    if cached is not None and cached[0] is model.item_factors_:
        return np.asarray(cached[1])
    v = np.asarray(model.item_factors_, dtype=np.float64)
    vals, vecs = np.linalg.eigh(gram(v))
    z = np.asarray(v @ ((vecs * np.maximum(vals, floor(vals)) ** -0.5) @ vecs.T), dtype=np.float32)
    model._whitened = (model.item_factors_, z)
    return z


def training_view(model_or_class: object, interactions: Interactions, threshold: float = 4.0) -> Interactions:
    """The interactions a model trains on, from its tags: the one place this rule is written.

    Rating predictors and sequence models get every rating (sequences in time order); the
    rest get the positives, ratings ≥ ``threshold`` (``Interactions.to_implicit``).
    """
    if not learns_from_positives(model_or_class):
        return interactions
    return interactions.to_implicit(threshold)


def learns_from_positives(model_or_class: object) -> bool:
    """Whether the model trains on the positives (ratings ≥ a threshold) rather than every rating: not a
    rating predictor, not a sequence model (:func:`training_view`'s rule)."""
    return tags_of(model_or_class).trains_on not in ("ratings", "sequences")


def default_threshold_note(model_or_class: object, name: str, interactions: Interactions) -> str | None:
    """The note for a model that learns from positives under the default threshold 4 on ratings that do not
    top out at 5 (:func:`movierec.interactions.scale_threshold_note`: a 4 of 10 counted as liked); ``None``
    for a model that reads every rating, and on a 5-star scale. recommend, export and the Recommender say it."""
    from movierec.interactions import scale_threshold_note

    if not learns_from_positives(model_or_class):
        return None
    return scale_threshold_note(interactions, f"{name} learns from ratings ≥ 4, which")


def rated_beyond_training(interactions: Interactions, train: Interactions) -> sp.csr_matrix | None:
    """Every rating of ``interactions`` as a users × items CSR, when ``train`` (a model's
    :func:`training_view` of it) holds fewer: an implicit model trains on ratings ≥ the threshold, and
    the lists a person reads must still leave out a movie they rated 3. ``None`` when ``train`` is all of
    it, or is not a view of it (other id maps)."""
    if (
        interactions.user_map is not train.user_map
        or interactions.item_map is not train.item_map
        or interactions.n_ratings <= train.n_ratings
    ):
        return None
    return interactions.csr()


def reason_order(
    train: Interactions, interactions: Interactions | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each user's training movies in the order they are tried as reasons for that user's list
    (:func:`movierec.scoring.explain.because`): best rated first, then most recent, then as stored.

    Ratings and times come from ``interactions`` (the data ``train`` is a view of: an implicit model
    trains on 1s) when it shares ``train``'s id maps, else from ``train``. Returns ``(indptr, indices)``,
    a CSR layout over ``train``'s users whose rows hold item indices in that order. The notebook
    (:meth:`movierec.Recommender.recommend` with ``explain``) and the artifact's ``seen.npz`` both use
    it, so the API gives a known user the notebook's reasons."""
    src = train
    if (
        interactions is not None
        and (interactions.user_map is train.user_map)
        and (interactions.item_map is train.item_map)
    ):
        src = interactions
    n_items = np.int64(train.n_items)
    in_train = distinct_pairs(train.users, train.items, train.n_items)
    rows = np.flatnonzero(np.isin(src.users.astype(np.int64) * n_items + src.items, in_train))
    users, items = src.users[rows], src.items[rows]
    when = src.timestamps[rows] if src.timestamps is not None else np.zeros(len(rows), dtype=np.int64)
    order = np.lexsort((-when, -src.ratings[rows], users))  # stable: ties keep the stored order
    indptr = np.zeros(train.n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(users, minlength=train.n_users), out=indptr[1:])
    return indptr, items[order].astype(np.int32)


def seeded(model: _M, seed: int | None, given: Mapping[str, Any] | None = None) -> _M:
    """Give ``model`` the run's ``seed`` as ``random_state`` unless the caller set one (returns the model).

    The one place "seed every model with the run's seed" is written (compare, tune, export, report).
    """
    if seed is None or "random_state" in (given or {}):
        return model
    params = model.get_params() if hasattr(model, "get_params") else {}
    if "random_state" in params:
        model.set_params(random_state=seed)  # type: ignore[attr-defined]  # get_params above says it has
    return model


@runtime_checkable
class Recommender(Protocol):
    """What every model offers (docs/architecture.md, "Adding a model"); the type of ``model`` in
    evaluation (``evaluate``, ``compare``'s folds, the protocols)."""

    name: ClassVar[str]

    def fit(self, train: Interactions, *, item_features: Any = None, user_features: Any = None) -> Self: ...

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray: ...

    def recommend(
        self,
        users: np.ndarray,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        candidates: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def item_embeddings(self) -> np.ndarray | None: ...

    def score_new_user(
        self, items: np.ndarray, ratings: np.ndarray | None = None, *, threshold: float = 4.0
    ) -> np.ndarray: ...


@runtime_checkable
class RatingPredictor(Recommender, Protocol):
    """A model that also predicts ratings (the explicit models: RMSE/MAE and the test-candidates protocol)."""

    def predict(self, users: np.ndarray, items: np.ndarray, **kwargs: Any) -> np.ndarray: ...


def check_random_state(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from an int seed, an existing Generator, or ``None`` (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (int, np.integer)):
        return np.random.default_rng(seed)
    raise ConfigError(f"random_state must be an int, a numpy Generator or None, got {type(seed).__name__}")


def index_digest(train: Interactions) -> str:
    """A fingerprint of ``train``'s users and movies (their raw ids, in index order): a model continues
    training only on data indexed as the data it was fitted on (``fit_partial``)."""
    digest = hashlib.sha256()
    for side in (train.user_map, train.item_map):
        digest.update("\x1f".join(map(str, side.ids.tolist())).encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


def check_positive(name: str, value: float, *, integer: bool = False, allow_zero: bool = False) -> None:
    """Raise a ConfigError naming the hyperparameter when it is not a positive (or non-negative) number;
    ``name`` may be a :class:`movierec.errors.Doors` (each door's spelling of the setting), kept by the error."""
    ok_type = isinstance(value, (int, np.integer)) if integer else isinstance(value, (int, float, np.number))
    if isinstance(value, bool) or not ok_type:
        kind = "a whole number" if integer else "a number"
        raise ConfigError(framed(name, lambda named: f"{named} must be {kind}, got {value!r}"))
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "≥ 0" if allow_zero else "> 0"
        raise ConfigError(framed(name, lambda named: f"{named} must be {bound}, got {value!r}"))


def require_interactions(train: Interactions) -> None:
    """A DataError when there is nothing to train on (one message for every model)."""
    if train.n_ratings == 0:
        raise DataError("no interactions to train on (the training set is empty)")


def refuse_non_interactions(train: object, call: str, implicit: bool = False) -> None:
    """A ConfigError naming what to pass when ``call`` (``warp.fit``) is given the dataset, a ratings
    DataFrame, LightFM's sparse matrix or a dense numpy array instead of :class:`Interactions`: each failed
    deep inside with "AttributeError: 'Dataset' object has no attribute 'n_users'". Other objects pass
    unchanged."""
    if isinstance(train, Interactions):
        return
    import pandas as pd

    if isinstance(getattr(train, "interactions", None), Interactions):  # a movierec.Dataset
        data = (
            "ds.interactions.to_implicit(4.0)), the ratings ≥ 4,"
            if implicit
            else "ds.interactions), every rating,"
        )
        fix = f"{call}({data} or a split's train part (movierec.make_split(ds))"
    elif isinstance(train, pd.DataFrame):
        fix = f"{call}(movierec.load(frame).interactions)"
    elif sp.issparse(train):  # LightFM's fit(interactions) and implicit's fit(user_items)
        fix = f"{call}(movierec.Interactions.from_csr(matrix)) for a users × items matrix"
    elif isinstance(train, np.ndarray):  # a dense users × items array: "no attribute 'n_users'" deep inside
        fix = f"{call}(movierec.Interactions.from_csr(scipy.sparse.csr_matrix(array))) for a users × items matrix"
    else:
        return
    given = "numpy array" if isinstance(train, np.ndarray) else type(train).__name__  # not 'a ndarray'
    raise ConfigError(f"{call}() takes Interactions, not a {given}: {fix}")


#: registered models whose fitted state holds one vector per training user (``user_factors_``), so they have
#: :meth:`BaseRecommender.similar_users` (tests/test_similar_users.py fits each and checks)
USER_VECTOR_MODELS = (
    "als", "ials", "bpr", "warp", "logistic", "warp-kos", "svd", "svdpp", "nmf",
    "implicit:bpr", "lightfm:bpr", "lightfm:warp", "lightfm:logistic", "lightfm:warp-kos",
    "surprise:svd", "surprise:svdpp", "cornac:bpr", "cornac:bivae",
)  # fmt: skip


def check_indices(values: Any, n: int, what: str, *, allow_unknown: bool = False) -> np.ndarray:
    """Dense indices as an int64 array, or a ConfigError naming ``what`` (``user``/``item``).

    The model API takes dense indices ``0..n-1`` (``-1`` = unknown where ``allow_unknown``); a
    string, float or bool, or an index out of range, is almost always a raw id passed by mistake,
    so it is refused rather than cast (``movierec.Recommender`` takes raw ids).
    """
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu":
        if arr.size == 0 and arr.dtype.kind == "f":
            return arr.astype(np.int64).ravel()
        sample = arr.ravel()[0] if arr.size else values
        sample = sample.item() if isinstance(sample, np.generic) else sample
        raise ConfigError(
            f"{what} indices must be integers 0..{n - 1}, got {type(sample).__name__} {sample!r}; "
            f"for raw ids (userId/movieId) use movierec.Recommender or the dataset's id maps"
        )
    arr = arr.astype(np.int64, copy=False).ravel()
    lo = -1 if allow_unknown else 0
    bad = (arr < lo) | (arr >= n)
    if bad.any():
        raise ConfigError(
            f"{what} index {int(arr[bad][0])} is outside 0..{n - 1} (dense indices, not raw ids; "
            f"for raw ids use movierec.Recommender or the dataset's id maps)"
        )
    return arr


def saved_model_meta(path: str | Path) -> dict[str, Any]:
    """``model.json`` of a folder written by :meth:`BaseRecommender.save`, checked: both files present,
    valid JSON, this movierec's format version. Its ``model`` names the class that loads it."""
    path = Path(path)
    meta_file = path / "model.json"
    if not meta_file.is_file() or not (path / "arrays.npz").is_file():
        raise ArtifactError(f"{path}: not a saved model (model.json and arrays.npz expected)")
    try:
        meta = json.loads(meta_file.read_text())
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{meta_file}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(meta, dict) or meta.get("format_version") != MODEL_FORMAT_VERSION:
        version = meta.get("format_version") if isinstance(meta, dict) else None
        raise ArtifactError(
            f"{meta_file}: format version {version!r}, this movierec reads {MODEL_FORMAT_VERSION}"
        )
    return meta


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` (a saved model's, an artifact's), pickles refused. The file is opened here,
    not by ``np.load``: on a broken archive (cut short) np.load raises before closing the file it opened, so a
    server reloading a bad artifact leaked a file handle each time."""
    with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def topk(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest scores per row, best first.

    The order is score descending, then item index ascending, so every list that ranks the same
    scores (a model, :class:`movierec.Recommender`, the artifact and the API) is the same list. Rows
    with fewer than ``k`` scores above ``-inf`` are padded with index ``-1`` and score ``-inf``.
    Float rows and ``k`` up to 256 go through the compiled one-pass selection (``accel.largest_k``,
    which also settles ties at the ``k``-th place by index); otherwise numpy's argpartition and a sort
    by (score, index), where which of several items tied at the ``k``-th place makes the cut is
    argpartition's choice.
    """
    n, m = scores.shape
    k_eff = min(k, m)
    if k_eff <= 0:
        return np.full((n, k), -1, dtype=np.int32), np.full((n, k), -np.inf, dtype=np.float32)
    if k_eff < m and k_eff <= 256 and scores.dtype in (np.float32, np.float64):
        from movierec.models.kernels.accel import largest_k

        return largest_k(scores, k_eff)
    if k_eff < m:
        part = np.argpartition(-scores, k_eff - 1, axis=1)[:, :k_eff]
    else:
        part = np.broadcast_to(np.arange(m), (n, m)).copy()
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -vals), axis=1)  # best first, ties by item index
    idx = np.take_along_axis(part, order, axis=1).astype(np.int32)
    vals = np.take_along_axis(vals, order, axis=1).astype(np.float32)
    invalid = ~np.isfinite(vals) & (vals < 0)
    idx[invalid] = -1
    if k_eff < k:
        idx = np.hstack([idx, np.full((n, k - k_eff), -1, dtype=np.int32)])
        vals = np.hstack([vals, np.full((n, k - k_eff), -np.inf, dtype=np.float32)])
    return idx, vals


def _translate_aliases(
    owner: str,
    aliases: Mapping[str, str],
    params: dict[str, Any],
    compounds: Mapping[str, tuple[str, ...]] | None = None,
) -> dict[str, Any]:
    """``params`` with alias keys renamed to their canonical names (both given at once is an error),
    and each compound name (Surprise's ``lr_all``) spread over its parts (``learning_rate``, ``lr_bias``).

    A part given by its own name, and not ``None``, keeps its value: Surprise's rule
    (``self.lr_bu = lr_bu if lr_bu is not None else lr_all``), so ``lr_all=0.01, lr_bias=0.02`` is
    what a Surprise user means by ``lr_all=.01, lr_bu=lr_bi=.02``.
    """
    compounds = compounds or {}
    if not any(k in aliases or k in compounds for k in params):
        return params
    out = dict(params)
    for old, new in aliases.items():
        if old in out:
            if new in out:
                raise ConfigError(f"{owner}: give {new!r} or its alias {old!r}, not both")
            out[new] = out.pop(old)
    for name, parts in compounds.items():
        if name in out:
            value = out.pop(name)
            for part in parts:
                if out.get(part) is None:
                    out[part] = value
    return out


def _declares_hyperparameters(cls: type) -> bool:
    """Whether ``cls``'s own body annotates a hyperparameter (any class-level annotation but ``ClassVar``).

    Every such annotation needs a default: a hyperparameter always has one, and learned state
    (``…_``) is set by ``fit``, never declared in the class body.
    """
    own = {
        name: hint
        for name, hint in inspect.get_annotations(cls).items()
        if not str(hint).startswith(("ClassVar", "typing.ClassVar"))
    }
    missing = [name for name, hint in own.items() if name not in cls.__dict__ and "KW_ONLY" not in str(hint)]
    if missing:
        raise TypeError(
            f"{cls.__name__}: class-level annotations declare hyperparameters and need a default "
            f"({', '.join(missing)}); mark class constants ClassVar and set learned state in fit"
        )
    return bool(own)


def _same_value(value: Any, default: Any) -> bool:
    """Whether a hyperparameter still holds its default (for the repr): equal values (numpy's 80 is
    80; True is not 1); arrays and other values whose ``==`` is not one bool count as changed."""
    if value is default:
        return True
    if default is inspect.Parameter.empty or isinstance(value, bool) != isinstance(default, bool):
        return False
    try:
        return bool(value == default)
    except (TypeError, ValueError):
        return False


def _redeclare_new_defaults(cls: type) -> None:
    """``factors = 128`` in a class body: the class's default for a hyperparameter a base declares.

    The hyperparameter keeps its type, constraint, place in the constructor and keyword-only status
    from its one declaration (a parameter group in :mod:`movierec.models.groups`); the class only
    gives its value. It becomes a field of the class so the generated constructor takes it.
    """
    inherited: dict[str, dataclasses.Field[Any]] = getattr(cls, "__dataclass_fields__", {})
    own = cls.__dict__
    declared = own.get("__annotations__", {})
    changed = [
        name
        for name in inherited
        if name in own
        and name not in declared
        and not callable(own[name])
        and not isinstance(own[name], (property, classmethod, staticmethod))
    ]
    if not changed:
        return
    annotations = dict(declared)
    for name in changed:
        field = inherited[name]
        annotations[name] = field.type
        setattr(cls, name, dataclasses.field(default=own[name], kw_only=field.kw_only is True))
    cls.__annotations__ = annotations


@dataclass_transform(eq_default=False)
class BaseRecommender:
    """Shared behaviour: params, fitted checks, batched top-N with seen-item filtering, npz/JSON save.

    Subclasses set ``name``, ``tags`` and ``_parameter_constraints``, declare their hyperparameters
    once as annotated class attributes with defaults (``factors: int = 64``), and implement ``_fit``
    and ``score`` (see docs/architecture.md, "Adding a model"). The keyword constructor that stores
    them unchanged (scikit-learn's rule) is generated from those declarations, in order, as a
    dataclass's is; a class may still write its own ``__init__``. A hyperparameter a base declares (a
    group in :mod:`movierec.models.groups`) gets a class's own default by plain assignment
    (``factors = 128``), keeping its declared type and place.
    """

    name: ClassVar[str] = "base"
    tags: ClassVar[Tags] = Tags()
    kind: ClassVar[str] = "implicit"  # == tags.kind; kept for code that reads the one-word tag
    sequential: ClassVar[bool] = False  # == tags.sequential
    #: an iterative model stops when ``on_epoch`` returns False and is usable after each epoch; False where
    #: a library runs the loop (implicit's als and bpr), the model is only set at the end (bayesian-fm,
    #: sasrec, gru4rec) or ``on_epoch`` only reports progress (ensemble): EarlyStopping refuses those
    can_stop_early: ClassVar[bool] = True
    #: whether a fitted model has item vectors (:meth:`item_embeddings`), known before any fit: True for the
    #: factor, VAE and sequence models, False for those that keep neighbour lists, item-to-item weights or
    #: one list, ``None`` where only the fit tells (a reference library's model). ``movierec embed`` refuses
    #: a False model before fitting it and names the True ones (``embed -m ease`` fitted EASE, then failed)
    item_vectors: ClassVar[bool | None] = None
    #: constructor argument → accepted values, checked by :meth:`fit` before :meth:`_fit`
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {}
    #: alias → canonical hyperparameter name accepted by the constructor and ``set_params``
    _aliases: ClassVar[dict[str, str]] = {}
    #: the aliases a class body itself declared (its ``_aliases`` before the shared ones were added)
    _declared_aliases: ClassVar[dict[str, str]] = {}
    #: a reference library's name that sets several hyperparameters at once → them, as declared
    #: (Surprise's ``lr_all`` on svd → ``learning_rate`` and ``lr_bias``); a part given by its own name wins
    _compound_aliases: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: the compound names with the parts this constructor takes (set from ``_compound_aliases``)
    _compounds: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: a reference library's name with no exact counterpart here → what it is called here, the one line
    #: ``registry.create`` gives instead of Python's "unexpected keyword argument" (svd's ``lr_bu``)
    _foreign_names: ClassVar[dict[str, str]] = {}
    #: a reference library's method or attribute this class has under another name → the line that says
    #: which, added to the AttributeError (LightFM's ``fit_partial`` or ``predict`` on warp)
    _foreign_attributes: ClassVar[dict[str, str]] = {}
    #: what a hyperparameter whose default is ``None`` stands for (svd's ``lr_bias``: learning_rate's value),
    #: shown by ``movierec models NAME``: ``lr_bias = None`` alone told a reader nothing
    _none_means: ClassVar[dict[str, str]] = {}
    #: attributes (besides ndarray attributes ending in ``_``) that ``save`` keeps as JSON
    _json_state: ClassVar[tuple[str, ...]] = ()
    #: optional modules the model imports when it trains → the install command that provides them;
    #: :func:`movierec.models.registry.create` checks them (without importing) so a missing one stops
    #: ``compare``, ``export`` or ``tune`` before any model trains, not after the others have
    requires: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _redeclare_new_defaults(cls)
        if _declares_hyperparameters(cls):
            # the constructor from the declared hyperparameters (kept when the class writes its own)
            dataclasses.dataclass(eq=False, repr=False, match_args=False)(cls)
        own = cls.__dict__
        # tags and the older one-word attributes always agree
        if "tags" in own:
            cls.kind = cls.tags.kind
            cls.sequential = cls.tags.sequential
        elif "kind" in own or "sequential" in own:
            explicit = cls.kind == "explicit"
            trains_on: TrainsOn = (
                "sequences" if cls.sequential else ("ratings" if explicit else "interactions")
            )
            cls.tags = replace(cls.tags, predicts_ratings=explicit, trains_on=trains_on)
        # a class written against the older contract (its own ``fit``) gets the final fit too
        if "fit" in own and own["fit"] is not BaseRecommender.fit:
            cls._fit = own["fit"]  # type: ignore[method-assign]
            cls.fit = BaseRecommender.fit  # type: ignore[method-assign]
        # the shared spellings (HYPERPARAMETER_ALIASES) of the canonical names this constructor takes
        params = set(cls._param_names())
        found = {a: c for a, c in HYPERPARAMETER_ALIASES.items() if c in params and a not in params}
        # a base's own aliases (a parameter group's library names) hold for its subclasses too
        if "_aliases" in own:
            cls._declared_aliases = own["_aliases"]
        declared = cls._declared_aliases_all()
        cls._aliases = {**found, **{a: c for a, c in declared.items() if c in params and a not in params}}
        cls._compounds = {
            name: kept
            for name, parts in cls._compound_aliases.items()
            if name not in params and (kept := tuple(p for p in parts if p in params))
        }
        if (cls._aliases or cls._compounds) and not getattr(cls.__init__, "_accepts_aliases", False):
            cls.__init__ = _accept_aliases(cls.__init__)  # type: ignore[method-assign]

    # --- params ---------------------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        return [p.name for p in sig.parameters.values() if p.name != "self" and p.kind in kinds]

    @classmethod
    def canonical_params(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` with the class's aliases (e.g. Surprise's ``n_factors``) renamed to its own names and
        its compound names (Surprise's ``lr_all``) spread over the parameters they set."""
        return _translate_aliases(cls.name, cls._aliases, dict(params), cls._compounds)

    @classmethod
    def spellings(cls) -> dict[str, list[str]]:
        """Each hyperparameter → the other names that set it: its aliases (``factors``: ``n_factors``…),
        then the compound names among whose parts it is (``learning_rate``: … ``lr_all``)."""
        out: dict[str, list[str]] = {}
        for alias, canonical in cls._aliases.items():
            out.setdefault(canonical, []).append(alias)
        for name, parts in cls._compounds.items():
            for part in parts:
                out.setdefault(part, []).append(name)
        return out

    @classmethod
    def foreign_name_error(cls, key: str) -> str | None:
        """The one line for ``key`` when it is a reference library's name this class has no exact counterpart
        for (``_foreign_names``): ``svd has no 'lr_bu': Surprise's per-bias learning rates are one here,
        lr_bias``; else None. A :class:`~movierec.errors.Doors` reason keeps its CLI words."""
        why = cls._foreign_names.get(key)
        return None if why is None else framed(why, lambda w: f"{cls.name} has no {key!r}: {w}")

    @classmethod
    def none_means(cls) -> dict[str, str]:
        """Each hyperparameter whose default is ``None`` → what that ``None`` stands for, merged along the
        class's bases (a subclass's entry wins)."""
        out: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            out.update(klass.__dict__.get("_none_means", {}))
        return out

    @classmethod
    def unknown_param_error(cls, key: str) -> str:
        """The one line for a hyperparameter name ``key`` this class does not take: what a reference library's
        name is called here (:meth:`foreign_name_error`), else the closest name it takes, its own or another
        spelling (``n_factor`` → ``n_factors``), then the valid names, and where each door lists them
        (:class:`~movierec.errors.Doors`): ``movierec models svd`` in the CLI, ``get_params()`` in Python."""
        foreign = cls.foreign_name_error(key)
        if foreign:
            return foreign
        valid = cls._param_names()
        if key in RUN_OPTIONS and key not in valid:
            return f"{cls.name} has no {key!r}: {RUN_OPTIONS[key]}"
        if not valid:  # global-mean: "valid: " and nothing after it
            return f"{cls.name} has no hyperparameter {key!r}: it takes none"
        hint = did_you_mean(key, [*valid, *cls._aliases, *cls._compounds])
        said = f"{cls.name} has no hyperparameter {key!r}{hint}; "
        python = f'movierec.models.create("{cls.name}").get_params()'  # "('" reads as pydantic's tuples
        return Doors(
            said + some_of(valid, python, guessed=bool(hint)),
            said + some_of(valid, f"movierec models {cls.name}", guessed=bool(hint)),
        )

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters as given to the constructor (scikit-learn style), under their canonical names."""
        return {name: getattr(self, name) for name in self._param_names() if hasattr(self, name)}

    def set_params(self, **params: Any) -> Self:
        params = self.canonical_params(params)
        valid = set(self._param_names())
        for key, value in params.items():
            if key not in valid:
                raise ConfigError(self.unknown_param_error(key))
            setattr(self, key, value)
        return self

    def library_params(self, *names: str) -> dict[str, Any]:
        """Hyperparameters ``names`` as keywords of the library this model wraps or mirrors.

        The class's declared aliases are that library's spellings (``_aliases = {"k": "factors"}``:
        Cornac's ``k`` is our ``factors``), so read backwards they name each keyword; a parameter
        without one keeps its name. Values go as their declared type (``int``/``float``).
        """
        spelled = {canonical: alias for alias, canonical in self._declared_aliases_all().items()}
        kinds: dict[str, Any] = (
            {f.name: f.type for f in dataclasses.fields(self)} if dataclasses.is_dataclass(self) else {}
        )
        cast: dict[Any, Callable[[Any], Any]] = {"int": int, "float": float, int: int, float: float}
        out: dict[str, Any] = {}
        for name in names:
            value = getattr(self, name)
            convert = cast.get(kinds.get(name))
            out[spelled.get(name, name)] = convert(value) if convert is not None else value
        return out

    @classmethod
    def _declared_aliases_all(cls) -> dict[str, str]:
        """The aliases the class and its bases declared themselves (a wrapped library's spellings)."""
        return {
            a: c for k in reversed(cls.__mro__) for a, c in k.__dict__.get("_declared_aliases", {}).items()
        }

    def __getattr__(self, name: str) -> Any:
        # reading a hyperparameter by its alias (``svd.n_factors``) gives the canonical value
        aliases = type(self)._aliases
        if name in aliases:
            return getattr(self, aliases[name])
        hint = type(self)._foreign_attributes.get(name)
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}" + (f": {hint}" if hint else "")
        )

    @classmethod
    def parameter_constraints(cls) -> dict[str, list[Constraint]]:
        """What each hyperparameter accepts: the shared meaning of its name (``SHARED_CONSTRAINTS``),
        then what the class and its bases declare (``_parameter_constraints``, nearest class last)."""
        names = cls._param_names()
        out = {name: SHARED_CONSTRAINTS[name] for name in names if name in SHARED_CONSTRAINTS}
        for klass in reversed(cls.__mro__):
            out.update(klass.__dict__.get("_parameter_constraints", {}))
        return {name: allowed for name, allowed in out.items() if name in names}

    def _validate_params(self) -> None:
        """Check every declared constraint (:mod:`movierec.models.params`); one ConfigError names the first bad one.

        A model with a rule between hyperparameters (``burn_in < n_iter``) extends this, calling
        ``super()._validate_params()`` first; :meth:`fit` runs it before ``_fit``.
        """
        validate_params(self.name, self.get_params(), self.parameter_constraints(), self.spellings())

    def __repr__(self) -> str:
        """The class and the hyperparameters that differ from its defaults, as scikit-learn prints an
        estimator: ``SVD(factors=100, random_state=0)``, ``EASE()``. Every value made one 200-250 character
        line (``repr(Recommender(ds, "ease").fit())`` in a notebook); ``get_params()`` has them all."""
        try:  # a fresh instance's values: a default resolved in __post_init__ (knn's similarity) too
            defaults = type(self)().get_params()
        except Exception:  # a repr never fails; a class that needs arguments compares with its signature
            defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        args = ", ".join(
            f"{k}={v!r}"
            for k, v in self.get_params().items()
            if not _same_value(v, defaults.get(k, inspect.Parameter.empty))
        )
        return f"{type(self).__name__}({args})"

    # --- fitting --------------------------------------------------------------------------
    def fit(self, train: Interactions, **kwargs: Any) -> Self:
        """Check the declared hyperparameter constraints and that the size parameters fit in the memory
        available (:mod:`movierec.models.memory`), then train (``_fit``); returns ``self``.

        Keyword arguments (``item_features``, ``user_features``, ``on_epoch``, ``valid``…) go to
        the model's ``_fit`` unchanged; side features are dropped for a model whose ``_fit`` does
        not take them (they are ignored by it). An ``on_epoch`` with a ``start_fit(model, train)``
        method (:class:`movierec.early_stopping.EarlyStopping`) is called with them first, so it
        can refuse the model before any training. Subclasses implement ``_fit``, never ``fit``.
        """
        refuse_non_interactions(train, f"{self.name}.fit", implicit=self.tags.trains_on == "interactions")
        self._validate_params()
        # size parameters the machine cannot hold (factors=100000): one line, not the kernel's OOM kill
        check_memory(self, train.n_users, train.n_items, train.n_ratings)
        if _FEATURE_KEYWORDS & kwargs.keys() and not _takes_any_keyword(self._fit):
            kwargs = {
                k: v for k, v in kwargs.items() if k not in _FEATURE_KEYWORDS or k in self.fit_options()
            }
        start = getattr(kwargs.get("on_epoch"), "start_fit", None)
        if callable(start):  # a listener that scores the model it follows (EarlyStopping) is told which
            start(self, train)
        self._fit(train, **kwargs)
        return self

    def prepare(self, train: Interactions) -> None:
        """Build the views of ``train`` that fitting reads, cached on ``train`` itself (so shared by every
        model fitted on the same data): its CSR here, a reference library's own data structure in an
        adapter (Surprise's Trainset). ``compare`` and the benchmarks call it before starting a fit's
        clock, for our models and the reference libraries alike, so ``fit_seconds`` times training on
        prepared data on both sides; ``fit`` works without it (it builds what it needs)."""
        train.csr()

    def _fit(self, train: Interactions, *args: Any, **kwargs: Any) -> Any:
        # (*args: Any, **kwargs: Any): each model declares its own keyword options (item_features, on_epoch…)
        raise NotImplementedError(f"{type(self).__name__} must implement _fit")

    def fit_partial(self, train: Interactions, epochs: int = 1, **kwargs: Any) -> Self:
        """Train ``epochs`` more epochs on ``train``, from where the fitted model left off (LightFM's
        ``fit_partial``); an unfitted model starts a fresh run of ``epochs`` epochs, as LightFM's does.

        A fitted model continues from its learned weights, its optimiser's accumulators and its seeded
        random stream, so ``fit`` with ``epochs=N`` then ``fit_partial(train, M)`` gives the weights of a
        fit with ``epochs=N + M`` (one thread); a model saved with ``save`` and loaded again continues as
        the one in memory would. ``train`` must have the fitted model's users and movies (the same id
        maps, e.g. grown with ``Interactions.from_frame(df, user_map=…, item_map=…)``); keyword arguments
        (``item_features``, ``user_features``, ``on_epoch``) are those of ``fit``, the features the fit's.
        Models without epochs to add (ease, als, ials, slim…) raise a :class:`ConfigError` (refit them);
        subclasses that can continue implement ``_fit_partial``.
        """
        if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 1:
            raise ConfigError(f"fit_partial: epochs must be a whole number ≥ 1, got {epochs!r}")
        self._fit_partial(train, int(epochs), **kwargs)
        return self

    def _fit_partial(self, train: Interactions, *args: Any, **kwargs: Any) -> None:
        """Train ``epochs`` (the first of ``args``) epochs, from the fitted state if any
        (:meth:`_start_partial_fit`); here: refuse. (``*args, **kwargs``: each model declares its own.)"""
        fold = "" if tags_of(self).fold_in == "none" else ", or place a new user by fold-in (score_new_user)"
        raise ConfigError(
            f"{self.name} cannot train further from its fitted state (only the epoch-trained bpr, warp, "
            f"logistic, warp-kos and svd can): refit with fit(train) on the grown data{fold}"
        )

    def _start_partial_fit(self, train: Interactions, on_epoch: Any) -> bool:
        """What ``fit`` checks before training, for ``_fit_partial``: the hyperparameters, the memory and an
        ``on_epoch`` listener's ``start_fit``; returns whether the model is fitted (so continues)."""
        self._validate_params()
        check_memory(self, train.n_users, train.n_items, train.n_ratings)
        start = getattr(on_epoch, "start_fit", None)
        if callable(start):
            start(self, train)
        return hasattr(self, "n_items_")

    @classmethod
    def fit_options(cls) -> set[str]:
        """Keyword arguments this model's training takes (``item_features``, ``on_epoch``, ``valid``…)."""
        sig = inspect.signature(cls._fit)
        return {p.name for p in sig.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY}

    @property
    def uses_item_features(self) -> bool:
        """Whether this model learns from item features: its ``fit`` takes them (an ensemble's does for its
        bases, and says whether any of them does)."""
        return "item_features" in self.fit_options()

    def _remember_train(self, train: Interactions) -> None:
        """Store what every model needs after fit: shape, the seen-items CSR, the rating scale."""
        self.n_users_ = train.n_users
        self.n_items_ = train.n_items
        seen = train.csr().copy()
        seen.data = np.ones_like(seen.data, dtype=np.float32)
        self.seen_ = seen
        self.rating_scale_ = tuple(train.rating_scale)

    def _remember_index(self, train: Interactions) -> None:
        """Keep :func:`index_digest` of ``train`` (``training_index_``): a model that can continue training
        checks with it, after a load too, that later data index the same users and movies."""
        self.training_index_ = index_digest(train)

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_items_"):
            raise NotFittedError(f"{self.name} is not fitted yet: call fit() first")

    # --- scoring --------------------------------------------------------------------------
    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Scores ``(len(users), n_items or len(items))``; higher is better."""
        raise NotImplementedError

    def _check_users(self, users: np.ndarray | int) -> np.ndarray:
        return check_indices(users, self.n_users_, "user").astype(np.int32)

    def recommend(
        self,
        users: np.ndarray | int,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        candidates: np.ndarray | None = None,
        batch_size: int = 2048,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` item indices and scores per user, shape ``(n_users, k)``; best first.

        ``exclude_seen`` drops items the user interacted with in training; ``candidates`` (item
        indices) restricts the ranking to those items. Missing slots are ``-1`` / ``-inf``.
        """
        self._check_fitted()
        check_positive("k", k, integer=True)
        users = self._check_users(users)
        out_i = np.empty((len(users), k), dtype=np.int32)
        out_s = np.empty((len(users), k), dtype=np.float32)
        cand = (
            None if candidates is None else check_indices(candidates, self.n_items_, "item").astype(np.int32)
        )
        for start in range(0, len(users), batch_size):
            batch = users[start : start + batch_size]
            scores = np.asarray(self.score(batch, cand), dtype=np.float32)
            if exclude_seen:
                seen = self.seen_[batch]
                if cand is not None:
                    seen = seen[:, cand]
                rows, cols = seen.nonzero()
                scores[rows, cols] = -np.inf
            idx, vals = topk(scores, k)
            if cand is not None:  # no candidates at all: every slot stays empty (-1), nothing to index
                picked = cand[np.maximum(idx, 0)] if len(cand) else np.full_like(idx, -1)
                idx = np.where(idx >= 0, picked, -1).astype(np.int32)
            out_i[start : start + len(batch)] = idx
            out_s[start : start + len(batch)] = vals
        return out_i, out_s

    def item_embeddings(self) -> np.ndarray | None:
        """Item vectors in the model's space (``None`` for models without them).

        Factor models store ``user_factors_``/``item_factors_`` (float32) and, when they have
        them, ``user_bias_``/``item_bias_``/``global_mean_``; the default returns ``item_factors_``.
        Neighbour models store ``neighbours_`` (items × items sparse top-k similarities).
        """
        emb = getattr(self, "item_factors_", None)
        return None if emb is None else np.asarray(emb)

    def score_new_user(
        self, items: np.ndarray, ratings: np.ndarray | None = None, *, threshold: float = 4.0
    ) -> np.ndarray:
        """Cold start: scores over all items for a person not in training, from a few (item, rating) pairs.

        The fold-in is the model's serving family's (:mod:`movierec.scoring`), the very code an
        exported artifact runs for ``POST /recommendations``: factor models solve for a user vector
        with item factors fixed (ridge for rating predictors, Hu et al.'s confidence solve for ALS,
        BPR's own criterion for BPR, the mean liked vector for WARP), neighbour models and EASE weigh
        the liked items' rows.
        Implicit models count ratings ≥ ``threshold`` as liked (``ratings=None``: all liked) and
        return popularity when none is. Rating predictors return their ranking score (see
        :meth:`ExplicitRecommender.score`).
        """
        items, ratings = self._check_new_user(items, ratings)
        raw = self._visitor_scorer(threshold).fold_in(items, ratings)
        if raw is None:  # no liked item: the popularity ranking
            return np.bincount(self.seen_.indices, minlength=self.n_items_).astype(np.float32)
        return self._rank_scores(raw[None, :], None, self._visitor_prior(ratings))[0]

    def _visitor_prior(self, ratings: np.ndarray | None) -> np.ndarray | None:
        """What a new person's ranking scores shrink towards (rating predictors: m_u); ``None`` here."""
        return None

    def _visitor_scorer(self, threshold: float = 4.0) -> Any:
        """The serving family's scorer, which folds a new person in (the artifact's own code)."""
        from movierec.scoring import export_family, family_of, make_scorer

        if family_of(self) == "table":
            from movierec.scoring import visitor_scorer

            # its serving form holds the trained users' scores, which a visitor does not need: the scorer is
            # built from the model's visitor arrays alone, or refused where it has no rule (the artifact
            # answers with popularity and says so as its `fallback`)
            scorer = visitor_scorer(self, self.seen_)
            if not scorer.folds_in:
                raise ConfigError(
                    f"{self.name} cannot place a person who is not in its training data (it serves the "
                    "trained users' scores only); refit with their ratings, or use a model that folds a "
                    "person in (svd, slope-one, knn-baseline, ease, ials…)"
                )
            return scorer
        family, arrays, spec = export_family(self, self.n_users_, self.n_items_, threshold)
        return make_scorer(family, arrays, self.seen_, spec)

    def _check_new_user(
        self, items: np.ndarray, ratings: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """A new person's (item indices as int64, ratings as float32 or None), checked against the fitted model."""
        self._check_fitted()
        items = np.asarray(items, dtype=np.int64).ravel()
        if items.size == 0:
            raise ConfigError("score_new_user needs at least one (item, rating) pair")
        if items.min() < 0 or items.max() >= self.n_items_:
            raise ConfigError(f"item index outside 0..{self.n_items_ - 1} in score_new_user")
        if ratings is not None:
            ratings = np.asarray(ratings, dtype=np.float32).ravel()
            if ratings.shape != items.shape:
                raise ConfigError(f"score_new_user got {len(items)} items but {len(ratings)} ratings")
        return items, ratings

    def _rank_scores(
        self, raw: np.ndarray, items: np.ndarray | None, priors: np.ndarray | None = None
    ) -> np.ndarray:
        """Raw family scores → ranking scores (identity; rating predictors shrink, see ExplicitRecommender)."""
        return np.asarray(raw, dtype=np.float32)

    def similar_vectors(self) -> np.ndarray | None:
        """The item vectors whose cosine is this model's 'similar' (and the re-rankers' item distance): its
        :meth:`item_embeddings` unless a model knows better (iALS and the LightFM-style models, bpr, warp,
        logistic, warp-kos, whiten their factors); ``None`` without."""
        return self.item_embeddings()

    def similar_items(self, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Nearest items by cosine similarity of :meth:`similar_vectors` (override for neighbour models)."""
        emb = self.similar_vectors()
        if emb is None:
            # Recommender.similar(by='model') reaches this: the words of movierec similar -m MODEL
            raise ConfigError(no_similar_reason(self.name, "by='lift'"))
        item = int(check_indices(item, len(emb), "item")[0])
        norm = np.linalg.norm(emb, axis=1)
        norm[norm == 0] = 1.0
        unit = emb / norm[:, None]
        sims = unit @ unit[item]
        sims[item] = -np.inf
        idx, vals = topk(sims[None, :], k)
        return idx[0], vals[0]

    def similar_users(self, user: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` users nearest ``user`` (dense indices) by cosine of ``user_factors_``, best first, with
        their similarities: implicit's ``similar_users``, except that the user is left out (implicit lists
        it first, at similarity 1). A user whose vector is all zeros (an implicit model's user without a
        positive) is like no one: every similarity is −inf (implicit answers arbitrary users at 0); other
        all-zero users are at 0 to everyone.

        Only models with one learned vector per training user have it (:data:`USER_VECTOR_MODELS`); the
        others (neighbour, linear, popularity, sequence models…) raise a ``ConfigError`` naming those."""
        self._check_fitted()
        vecs = getattr(self, "user_factors_", None)
        if vecs is None or np.ndim(vecs) != 2:
            raise ConfigError(
                f"{self.name} learns no vector per user, so it has no similar users; models that do: "
                f"{', '.join(USER_VECTOR_MODELS)}"
            )
        vecs = np.asarray(vecs)
        user = int(check_indices(user, len(vecs), "user")[0])
        norm = np.linalg.norm(vecs, axis=1)
        if norm[user] == 0:
            sims = np.full(len(vecs), -np.inf, dtype=np.float32)
        else:
            norm[norm == 0] = 1.0
            sims = (vecs @ vecs[user]) / (norm * norm[user])
        sims[user] = -np.inf
        idx, vals = topk(sims[None, :].astype(np.float32), min(int(k), len(vecs) - 1))
        return idx[0], vals[0]

    # --- persistence (npz + JSON; never pickle) -------------------------------------------
    def _array_state(self) -> dict[str, np.ndarray]:
        state: dict[str, np.ndarray] = {}
        for key, value in vars(self).items():
            if key.endswith("_") and isinstance(value, np.ndarray):
                state[key] = value
            elif key.endswith("_") and sp.issparse(value):
                csr = sp.csr_matrix(value)
                state[f"{key}__data"] = csr.data
                state[f"{key}__indices"] = csr.indices
                state[f"{key}__indptr"] = csr.indptr
                state[f"{key}__shape"] = np.asarray(csr.shape, dtype=np.int64)
        return state

    def save(self, path: str | Path) -> Path:
        """Write ``model.json`` (name, params, scalar state) and ``arrays.npz`` into folder ``path``."""
        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        scalars = {
            key: value
            for key, value in vars(self).items()
            if key.endswith("_")
            and isinstance(value, (int, float, str, bool, tuple, list))
            and not isinstance(value, np.ndarray)
        }
        extra = {key: getattr(self, key) for key in self._json_state if hasattr(self, key)}
        meta = {
            "format_version": MODEL_FORMAT_VERSION,
            "model": self.name,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "params": _jsonable(self.get_params()),
            "state": _jsonable({**scalars, **extra}),
        }
        arrays: dict[str, Any] = self._array_state()
        np.savez(path / "arrays.npz", **arrays)
        (path / "model.json").write_text(json.dumps(meta, indent=2))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Rebuild a model saved by :meth:`save` (checks the name and format version).

        Called on the model's class (``ALS.load``, ``type(model).load``);
        :func:`movierec.models.load_model` reads which model a folder holds and loads it."""
        path = Path(path)
        meta_file = path / "model.json"
        meta = saved_model_meta(path)
        if meta.get("model") != cls.name:
            raise ArtifactError(
                f"{meta_file}: holds a {meta.get('model')!r} model, not {cls.name!r}; "
                f"movierec.models.load_model({str(path)!r}) loads whichever model a folder holds"
            )
        model = cls(**meta["params"])
        for key, value in meta["state"].items():
            setattr(model, key, tuple(value) if key == "rating_scale_" else value)
        try:
            arrays = read_npz(path / "arrays.npz")
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ArtifactError(f"{path / 'arrays.npz'}: unreadable saved arrays ({exc})") from exc
        sparse_keys = {k.rsplit("__", 1)[0] for k in arrays if "__" in k}
        for key in sparse_keys:
            shape = tuple(int(x) for x in arrays.pop(f"{key}__shape"))
            data = arrays.pop(f"{key}__data")
            indices = arrays.pop(f"{key}__indices")
            indptr = arrays.pop(f"{key}__indptr")
            setattr(model, key, sp.csr_matrix((data, indices, indptr), shape=shape))
        for key, value in arrays.items():
            setattr(model, key, value)
        model._after_load()
        return model

    def _after_load(self) -> None:
        """Hook for models that rebuild derived state after :meth:`load`."""


class NoFoldIn(BaseRecommender):
    """A model that cannot place a person not in training (``tags.fold_in == "none"``): refit instead."""

    tags: ClassVar[Tags] = Tags(fold_in="none")
    #: what to use instead, said in the error (``", or use ease"``)
    _no_fold_in_instead: ClassVar[str] = ""

    def score_new_user(
        self, items: np.ndarray, ratings: np.ndarray | None = None, *, threshold: float = 4.0
    ) -> np.ndarray:
        """Not available: a new person enters this model only by refitting with their interactions."""
        raise ConfigError(
            f"{self.name} cannot score a person not in training (no fold-in); refit{self._no_fold_in_instead}"
        )


class FactorRecommender(BaseRecommender):
    """A model whose score is the inner product of learned vectors: ``user_factors_[u] · item_factors_[i]``.

    The one place the ranking product of the implicit factor models (ALS, iALS, implicit's BPR) is
    written; biases, where a model has them, ride in a factor column.
    """

    item_vectors: ClassVar[bool | None] = True

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """``U[users] · V[items]ᵀ`` as float32."""
        self._check_fitted()
        users = self._check_users(users)
        vi = self.item_factors_ if items is None else self.item_factors_[np.asarray(items)]
        return np.asarray(self.user_factors_[users] @ vi.T).astype(np.float32, copy=False)


class ExplicitRecommender(BaseRecommender):
    """A rating predictor: ``predict`` returns ratings clipped to the training scale.

    ``score`` (what ``recommend`` and every ranking protocol use) is the support-shrunk predicted
    rating, one definition shown the same way by the CLI, Python, the artifact and the API.
    """

    tags: ClassVar[Tags] = Tags(trains_on="ratings", predicts_ratings=True)
    #: β of the ranking score: pseudo-ratings at the global mean added to every item
    rank_shrinkage: ClassVar[float] = 10.0

    def predict(self, users: np.ndarray, items: np.ndarray, *, clip: bool = True) -> np.ndarray:
        """Predicted ratings for (user, item) index pairs; unknown indices (-1) fall back to the baseline."""
        raise NotImplementedError

    def _remember_train(self, train: Interactions) -> None:
        super()._remember_train(train)
        self.global_mean_ = np.asarray(train.global_mean, dtype=np.float32)
        self.rating_mean_ = float(train.global_mean)
        self.item_support_ = train.item_counts().astype(np.int32)
        sums = np.bincount(train.users, weights=train.ratings, minlength=train.n_users)
        self.user_prior_ = user_priors(sums, train.user_counts(), float(train.global_mean))

    def user_priors(self, users: np.ndarray) -> np.ndarray | None:
        """m_u of training users ``users``, what their ranking scores shrink towards
        (:func:`movierec.scoring.support.user_priors`); ``None`` for models saved before it (then μ)."""
        prior = getattr(self, "user_prior_", None)
        return None if prior is None else np.asarray(prior)[np.asarray(users, dtype=np.int64)]

    def _visitor_prior(self, ratings: np.ndarray | None) -> np.ndarray | None:
        """A new person's m_u from the ratings they gave (none given: every item liked, so μ)."""
        if ratings is None or getattr(self, "user_prior_", None) is None:
            return None
        r = np.asarray(ratings, dtype=np.float64)
        return user_priors(np.array([r.sum()]), np.array([len(r)]), self.train_mean())

    def train_mean(self) -> float:
        """The mean training rating μ (what the ranking score shrinks towards, whatever the model's own μ)."""
        return float(np.asarray(getattr(self, "rating_mean_", getattr(self, "global_mean_", 0.0))))

    def item_support(self) -> np.ndarray:
        """Training ratings per item (from the seen matrix for models saved before this was stored)."""
        support = getattr(self, "item_support_", None)
        if support is None:
            support = np.bincount(self.seen_.indices, minlength=self.n_items_).astype(np.int32)
            self.item_support_ = support
        return np.asarray(support)

    def score(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """The ranking score over ``(len(users), n_items or len(items))``: the support-shrunk predicted rating.

        ``(n_i·clip(r̂_ui) + β·m_u) / (n_i + β)`` with ``n_i`` the item's training ratings, β =
        ``rank_shrinkage`` and m_u the lower of μ and the user's own mean rating
        (:func:`movierec.scoring.support.explicit_rank_score`): rating predictors rank by it everywhere
        (``recommend``, evaluation, the artifact, the API), so an item with one rating and an
        extrapolated 5.7 cannot top a list, nor one with five ratings a harsh rater's. The predicted
        rating itself is ``predict`` (clipped). Subclasses override :meth:`predicted_scores`, not this.
        """
        self._check_fitted()
        users = self._check_users(users)
        return self._rank_scores(self.predicted_scores(users, items), items, self.user_priors(users))

    def _rank_scores(
        self, raw: np.ndarray, items: np.ndarray | None, priors: np.ndarray | None = None
    ) -> np.ndarray:
        support = self.item_support()
        if items is not None:
            support = support[np.asarray(items, dtype=np.int64)]
        lo, hi = self.rating_scale_
        return explicit_rank_score(raw, support, self.train_mean(), (lo, hi), self.rank_shrinkage, priors)

    def predicted_scores(self, users: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Unclipped predicted ratings over ``(len(users), n_items or len(items))``, float32.

        One ``predict(clip=False)`` call over the whole users × items grid; factor models override
        this with a matrix product.
        """
        self._check_fitted()
        users = self._check_users(users)
        cols = (
            np.arange(self.n_items_, dtype=np.int64)
            if items is None
            else check_indices(items, self.n_items_, "item")
        )
        grid_u = np.repeat(users.astype(np.int64), len(cols))
        grid_i = np.tile(cols, len(users))
        return self.predict(grid_u, grid_i, clip=False).reshape(len(users), len(cols)).astype(np.float32)

    def predict_new_user(self, items: np.ndarray, ratings: np.ndarray | None = None) -> np.ndarray:
        """A new person's predicted ratings over all items (clipped), from the same fold-in as :meth:`score_new_user`."""
        self._check_fitted()
        items = np.asarray(items, dtype=np.int64).ravel()
        if items.size == 0 or items.min() < 0 or items.max() >= self.n_items_:
            raise ConfigError(f"predict_new_user needs item indices within 0..{self.n_items_ - 1}")
        raw = self._visitor_scorer().fold_in(items, ratings)
        return self._clip(np.asarray(raw, dtype=np.float64)).astype(np.float32)

    def raw_new_user(
        self, items: np.ndarray, ratings: np.ndarray | None = None, *, threshold: float = 4.0
    ) -> np.ndarray | None:
        """A new person's raw predicted ratings over all items (unclipped, not support-shrunk): the fold-in's
        own numbers, which :func:`movierec.scoring.explain.because` reads a rating predictor's reasons on (a
        shift of the user bias moves them all alike, where the ranking score moves well-supported movies
        more). ``items`` may be empty: the model's prediction for someone who rated nothing. The fold-in is
        :meth:`score_new_user`'s (``threshold`` as there)."""
        if np.size(items):
            items, ratings = self._check_new_user(items, ratings)
        else:
            self._check_fitted()
            items = np.zeros(0, dtype=np.int64)
            ratings = None if ratings is None else np.zeros(0, dtype=np.float32)
        raw = self._visitor_scorer(threshold).fold_in(items, ratings)
        return None if raw is None else np.asarray(raw, dtype=np.float64)

    def new_user_terms(
        self,
        items: np.ndarray,
        ratings: np.ndarray | None,
        targets: np.ndarray,
        *,
        threshold: float = 4.0,
    ) -> np.ndarray | None:
        """Where a new person's predicted rating is a sum over the movies they rated (the k-NN family's
        similarity-weighted deviations), each rated movie's term in each of ``targets``' predictions,
        ``(len(items), len(targets))``: what :func:`movierec.scoring.explain.because` reads its reasons on
        (``terms=``) instead of leave-one-out. ``None`` for every other rating model."""
        scorer = self._visitor_scorer(threshold)
        if not hasattr(scorer, "fold_in_terms"):
            return None
        items, ratings = self._check_new_user(items, ratings)
        return np.asarray(scorer.fold_in_terms(items, ratings, np.asarray(targets, dtype=np.int64)))

    def predict_with_flags(self, users: np.ndarray, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predictions plus a boolean flag per pair: True where the model fell back (Surprise's ``was_impossible``)."""
        users = np.asarray(users)
        items = np.asarray(items)
        known = (users >= 0) & (users < self.n_users_) & (items >= 0) & (items < self.n_items_)
        return self.predict(users, items), ~known

    def _clip(self, values: np.ndarray) -> np.ndarray:
        lo, hi = self.rating_scale_
        return np.clip(values, lo, hi)


_FEATURE_KEYWORDS = frozenset({"item_features", "user_features"})


def _takes_any_keyword(function: Callable[..., Any]) -> bool:
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(function).parameters.values()
    )


def _accept_aliases(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap a constructor so keyword aliases (``n_factors=``) arrive under canonical names (``factors=``)."""

    @functools.wraps(init)
    def wrapper(self: BaseRecommender, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **type(self).canonical_params(kwargs))

    wrapper._accepts_aliases = True  # type: ignore[attr-defined]
    return wrapper


_jsonable = to_jsonable  # the one sanitiser (movierec.jsonsafe)
