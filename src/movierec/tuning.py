"""Hyperparameter search with Optuna (Akiba et al. 2019, KDD): seeded TPE sampling (Bergstra et al.
2011, NeurIPS), median pruning on per-epoch validation scores, studies in any RDB storage.

Tuning never sees the test data: :func:`tune` builds the outer train/test split first and hands
the objective ONLY the training :class:`~movierec.interactions.Interactions`; validation folds are
cut from it. The test set is read once, after the study, to score the best parameters.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import logging
import math
import re
import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from movierec.errors import ConfigError, Doors, MovierecError, NotFittedError, did_you_mean, framed
from movierec.interactions import Interactions
from movierec.jsonsafe import to_jsonable
from movierec.metrics import Metric
from movierec.metrics import parse_metric as _parse_single_metric
from movierec.models.base import Recommender, fit_options
from movierec.models.memory import MemoryLimitError
from movierec.models.registry import MODEL_SWITCHES, split_model_params
from movierec.models.space import Choice, FloatRange, IntRange, Param
from movierec.output_folders import OUT, Staged, staged_output
from movierec.provenance import shown_url, sqlite_file

__all__ = [
    "Choice",
    "FloatRange",
    "IntRange",
    "Metric",
    "TuneResult",
    "check_request",
    "close_engines",
    "parse_metric",
    "resolve_space",
    "score_split",
    "search_spaces",
    "split_model_params",
    "study_settings",
    "tunable_names",
    "tune",
    "validation_folds",
]

log = logging.getLogger(__name__)

#: how tune's study is named in its messages, each door's own (a :class:`Doors`, put in a message by
#: :func:`framed`; one line named both): tune(study_name=...) and the CLI's --study
_STUDY = Doors("study_name=", "--study")


# --- search spaces -------------------------------------------------------------------------------


def search_spaces() -> dict[str, dict[str, Param]]:
    """Every registered model that declares a ``search_space`` (next to its defaults), resolved to its own names.

    Models whose optional extra is missing are left out. Spaces live on the model classes
    (:mod:`movierec.models.space` types), so adding a model adds its space in the same file.
    """
    from movierec.models.registry import MODELS

    out: dict[str, dict[str, Param]] = {}
    for name in MODELS:
        try:
            out[name] = resolve_space(name)
        except ConfigError:
            continue
    return out


def _canonical_params(model: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` under the model's canonical hyperparameter names (reference-library aliases renamed)."""
    from movierec.models.registry import get_class

    try:
        cls = get_class(split_model_params(model, params)[0])
    except ConfigError:
        return dict(params)
    canon = getattr(cls, "canonical_params", None)
    return canon(params) if callable(canon) else dict(params)


def _model_params(cls: type) -> set[str]:
    names = getattr(cls, "_param_names", None)
    if callable(names):
        return set(names())
    sig = inspect.signature(cls)
    return {p for p in sig.parameters if p != "self"}


def tunable_names() -> list[str]:
    """Registered models whose class declares a non-empty ``search_space`` (classes that cannot import are skipped)."""
    from movierec.models.registry import MODELS, get_class

    names = []
    for name in MODELS:
        try:
            if getattr(get_class(name), "search_space", None):
                names.append(name)
        except (ConfigError, ImportError):
            continue
    return sorted(names)


def active_space(model: str, with_features: bool, fixed: dict[str, Any]) -> dict[str, Param]:
    """The model's search space less what would act on nothing in this study: parameters that act only on item
    features without them (``feature_params``: ease's ``feature_weight``), and parameters with a switch that
    is not searched and is left off by the fixed parameters or the defaults (``acts_when``: ease's
    ``time_weight`` needs a ``time_window``, baseline's ``reg_i`` the ALS method, knn-basic's ``reg_i`` the
    ``pearson_baseline`` similarity as well), so no trial is spent on, and no best point reports, a value
    that changed nothing."""
    from movierec.models.params import acts_when
    from movierec.models.registry import get_class

    cls = get_class(model)
    space = resolve_space(model)
    params = {**cls().get_params(), **fixed}
    dropped = set() if with_features else set(getattr(cls, "feature_params", ()))
    dropped |= {k for k, c in acts_when(cls).items() if c.left_off(cls, params, space)}
    return {k: v for k, v in space.items() if k not in dropped}


def draw_acting(
    model: str, space: Mapping[str, Param], fixed: Mapping[str, Any], draw: Callable[[str, Param], Any]
) -> dict[str, Any]:
    """A trial's searched parameters, define-by-run: each one not in ``fixed`` is drawn (``draw(name,
    param)``, a ``trial.suggest_*``) only when it acts under what was drawn before it, ``fixed`` and the
    model's defaults (``acts_when``: warp's ``learning_rate`` not with the ``adadelta`` schedule, itemknn's
    ``alpha`` only with the ``asymmetric`` similarity). A switch is drawn before what it turns on, a model
    switch (bpr's ``loss``) first of all, since it picks the class whose ``acts_when`` applies (``max_sampled``
    acts in warp, not in bpr). A parameter that does not act is left out of the trial's params, so no best
    point lists a value that changed nothing and TPE models only the dimensions that matter."""
    from movierec.models.params import acts_when
    from movierec.models.registry import get_class

    pending = sorted((k for k in space if k not in fixed), key=lambda k: k not in MODEL_SWITCHES)
    drawn: dict[str, Any] = {}
    defaults: dict[type, dict[str, Any]] = {}
    while pending:
        cls = get_class(split_model_params(model, {**fixed, **drawn})[0])
        conditions = acts_when(cls)
        waits = {
            k
            for k in pending
            if k in conditions and any(c.switch in pending for c in conditions[k].conditions)
        }
        name = next((k for k in pending if k not in waits), pending[0])  # pending[0]: a cycle, none declared
        pending.remove(name)
        if name in conditions:
            if cls not in defaults:
                defaults[cls] = cls().get_params()
            if not conditions[name].holds(cls, {**defaults[cls], **fixed, **drawn}):
                continue
        drawn[name] = draw(name, space[name])
    return drawn


def resolve_space(model: str) -> dict[str, Param]:
    """The search space of a registered model, keyed by the model's own constructor-argument names.

    The space is the class's ``search_space`` attribute (declared next to the model); declared
    names the class does not accept are dropped. A model with nothing to tune raises ConfigError.
    """
    from movierec.models.registry import get_class

    cls = get_class(model)
    accepted = _model_params(cls)
    declared = getattr(cls, "search_space", None) or {}
    space: dict[str, Param] = {}
    for names, param in declared.items():
        names = (names,) if isinstance(names, str) else tuple(names)
        chosen = next((n for n in names if n in accepted), None)
        if (
            chosen is None
            and names[0] in MODEL_SWITCHES
            and model.strip().lower() in MODEL_SWITCHES[names[0]].values()
        ):
            chosen = names[0]
        if chosen is not None:
            space[chosen] = param
    if not space:
        raise ConfigError(_no_space(model))
    return space


def _no_space(model: str) -> str:
    """The refusal to tune a model without a search space: how many models have one, a few that learn
    what it learns from, and where each door shows them (:class:`~movierec.errors.Doors`). The 24 names
    made a 298-character line."""
    from movierec.models.registry import model_kind

    tunable = tunable_names()
    kind = model_kind(model)
    known = ("svd", "ease", "als", "itemknn", "bpr", "baseline", "knn-baseline", "slim")
    picks = [n for n in known if n in tunable and model_kind(n) == kind][:3] or tunable[:3]
    said = f"model {model!r} has no search space to tune; {len(tunable)} models have one, e.g. {', '.join(picks)}"
    return Doors(
        f"{said} (movierec.tuning.search_spaces() holds them)", f"{said} (movierec models NAME shows it)"
    )


# --- metrics -------------------------------------------------------------------------------------
# The metric vocabulary (Metric) lives in movierec.metrics, shared with evaluation and experiment
# files; tuning adds weighted objectives on top.


def parse_metric(text: str, *, model_kind: str | None = None) -> Metric:
    """``"rmse"``, ``"ndcg@10"``, ``"hr@10"``… → :class:`Metric` (:func:`movierec.metrics.parse_metric`).

    A weighted objective such as ``"ndcg@10-0.1*arp@10"`` → :class:`movierec.objective.Objective`.
    """
    from movierec.objective import is_objective, parse_objective

    if is_objective(text):
        return parse_objective(text)  # type: ignore[return-value]
    return _parse_single_metric(text, model_kind=model_kind)


def score_split(
    model: Recommender,
    fit_train: Interactions,
    valid: Interactions,
    metric: Metric,
    *,
    threshold: float | None = 4.0,
) -> float:
    """Score a fitted model on held-out ratings with ``metric``: :func:`movierec.evaluation.score_split`,
    where it lives so that compare's early stopping scores the same way without importing tuning."""
    from movierec.evaluation import score_split as score

    return score(model, fit_train, valid, metric, threshold=threshold)


# --- folds ---------------------------------------------------------------------------------------


def validation_folds(
    train: Interactions, cv: int = 3, *, seed: int = 42, valid_size: float = 0.2
) -> list[tuple[Interactions, Interactions]]:
    """Inner (fit, validation) pairs cut from the TRAINING ratings only: ``cv`` folds with Surprise's
    KFold semantics (:func:`movierec.split.kfold`), or one ``valid_size`` random hold-out when ``cv == 1``."""
    from movierec.split import kfold, ratings_holdout

    if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv < 1:
        raise ConfigError(f"cv must be a whole number ≥ 1 (1 = a single validation split), got {cv!r}")
    if cv == 1:
        return [ratings_holdout(train, valid_size, seed)]
    return kfold(train, int(cv), seed)


WARMUP_EPOCHS = 2
"""Per-epoch pruning starts after this many epochs (early epochs say little about slow learning rates)."""

PRUNE_PATIENCE = 2
"""Per-epoch pruning only stops a trial whose validation value has not improved (by more than
:data:`PRUNE_MIN_DELTA`) for this many epochs. Without it the median rule kills every slow
learning rate while it is still improving: on ml-100k the tuned svd's nested 5-fold RMSE went from
0.9117 (no pruning) to 0.9170 (median rule alone), the inner validation optima got worse too."""

PRUNE_MIN_DELTA = 1e-4
"""An epoch improves the validation value when it beats the trial's best so far by more than this."""

# --- the study -----------------------------------------------------------------------------------


@dataclass
class TuneResult:
    """What a study found: best params and value, trial counts, and the held-out test score."""

    study_name: str
    storage: str
    model: str
    metric: str
    direction: str
    best_params: dict[str, Any]
    best_value: float | None
    best_trial: int | None
    n_trials: int
    n_complete: int
    n_pruned: int
    test_score: float | None = None
    #: the validation value of the trial of the model's defaults (None: not run, or pruned)
    defaults_value: float | None = None
    #: that trial's Optuna number (counted from 0): the study's first, #0, unless another worker sharing
    #: the study took #0 between this one's look at the empty study and its queueing of the defaults
    defaults_trial: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    #: one row per trial (:func:`trials_table`): what ``to_frame()`` and ``plot()`` show
    trials: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({k: v for k, v in asdict(self).items() if k != "trials"})

    def __repr__(self) -> str:
        from movierec.display import tune_repr

        return tune_repr(self)

    def _repr_html_(self) -> str:
        from movierec.display import tune_html

        return tune_html(self)

    def to_frame(self) -> Any:
        """One row per trial: ``trial, number, state, value, seconds, params_*``, fold scores (a DataFrame).
        ``trial`` counts from 1, as the progress lines, the repr and :meth:`plot` do; ``number`` is Optuna's
        own (from 0), kept to join Optuna's frames (``study.trials_dataframe()``)."""
        import pandas as pd

        return pd.DataFrame() if self.trials is None else self.trials.copy()

    def plot(self) -> Any:
        """The search as a plotly chart: each trial's validation value and the best so far (pruned
        trials at their last reported value). Needs the ``viz`` extra."""
        from movierec.viz.comparison import tuning_figure

        return tuning_figure(self)


_jsonable = to_jsonable  # the one sanitiser (movierec.jsonsafe)


def _optuna() -> Any:
    try:
        from movierec.progress import quiet_tqdm_import

        with quiet_tqdm_import():  # optuna imports tqdm.auto; tune never draws optuna's bars
            import optuna
    except ModuleNotFoundError as exc:
        raise ConfigError("tuning needs optuna: pip install 'movierec[tune]'") from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _write_ahead(storage: Any) -> None:
    """Put a SQLite study file in write-ahead-log mode (``PRAGMA journal_mode=WAL``, kept in the file), so a
    reader never blocks a writer. Ctrl-C lands mid-query as often as not (Optuna reads and writes the file at
    every reported epoch): the interrupted SELECT's statement stays alive in the exception's traceback, its
    connection keeps a shared lock, and in SQLite's default rollback-journal mode the trial's closing write
    then waited out the whole lock timeout (60 s) and failed, so tune took a minute to stop (seen under load
    by test_ctrl_c_during_tune_keeps_the_finished_trials; 22 of 120 interrupts of a bare Optuna study here
    hung, 0 of 300 in WAL mode). A file system that cannot hold a WAL (some network mounts) keeps the default;
    the file's -wal and -shm companions go when the last connection closes."""
    _SQLITE_ENGINES.add(storage.engine)
    try:
        with storage.engine.connect() as conn:
            wal = conn.exec_driver_sql("PRAGMA journal_mode=WAL").scalar() == "wal"  # the mode it is now in
    except Exception:  # locked by another process's transaction, or no shared memory here: as before
        return
    if wal:
        from sqlalchemy import event

        event.listen(storage.engine, "connect", _sync_at_checkpoints)
        storage.engine.dispose()  # the pooled connections were opened before the listener: open anew


def _sync_at_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    """``PRAGMA synchronous=NORMAL`` on each connection to a study file in WAL mode: a commit is no longer
    flushed to disk (fdatasync) on its own, only at the log's checkpoints. Optuna commits every reported
    epoch: a 12-trial svd study made 784 flushes, now 82. Each costs about 0.4 ms on this project's test
    machine's disk (a bare 600-report study 0.79 -> 0.53 s), tens of ms on a slow or network disk. In WAL mode
    a write survives the process being killed (kill -9: it is in the log file); only a power cut or an OS
    crash can lose the last few, the file still whole (SQLite's documented trade-off, see
    https://www.sqlite.org/pragma.html#pragma_synchronous), and a trial lost so is rerun."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


#: the SQLite engines :func:`open_storage` made in this process (a tune run opens several: the settings
#: check's, the study's), each closed by :func:`_close_connections` when a run ends
_SQLITE_ENGINES: weakref.WeakSet[Any] = weakref.WeakSet()


def open_storage(url: str | None) -> Any:
    """An Optuna storage for ``url`` (``None`` = in memory); unreachable or malformed URLs raise ConfigError.

    SQLite files get a generous lock timeout so several processes can share one study file.
    """
    optuna = _optuna()
    if url is None or url == "":
        return optuna.storages.InMemoryStorage()
    shown = shown_url(url)
    if "://" not in url:
        raise ConfigError(
            f"storage {url!r} is not a database URL (try sqlite:///study.db or postgresql://user@host/db)"
        )
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs = {"connect_args": {"timeout": 60}}
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:" and not Path(path).parent.exists():
            raise ConfigError(f"storage {shown} cannot be opened: folder {Path(path).parent} does not exist")
    last: Exception | None = None
    for attempt in range(8):  # processes creating the schema at the same moment race on SQLite
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                storage = optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
            if url.startswith("sqlite"):
                _write_ahead(storage)
            return storage
        except ModuleNotFoundError as exc:
            raise ConfigError(f"storage {shown} needs the database driver {exc.name!r}; install it") from exc
        except Exception as exc:  # sqlalchemy's errors, bad URLs, unreachable servers
            last = exc
            if any(
                t in str(exc) for t in ("locked", "already exists", "UNIQUE constraint", "IntegrityError")
            ):
                time.sleep(0.2 * (attempt + 1))
                continue
            break
    reason = (
        str(last).strip().splitlines()[0] if last is not None and str(last).strip() else type(last).__name__
    )
    raise ConfigError(f"storage {shown} cannot be opened: {reason}")


def study_settings(storage: str, study_name: str) -> dict[str, Any]:
    """The settings (model, metric, cv, …) a movierec study was created with; unknown studies raise ConfigError.
    The storage's connections are closed as it returns (a SQLite file keeps no -wal or -shm file for it)."""
    optuna = _optuna()
    storage_obj = open_storage(storage)
    try:
        names = {
            s.study_name for s in optuna.study.get_all_study_summaries(storage_obj, include_best_trial=False)
        }
        if study_name not in names:
            raise ConfigError(
                f"no study named {study_name!r}{did_you_mean(study_name, names)} in {shown_url(storage)} "
                f"(existing: {', '.join(sorted(names)) or 'none'})"
            )
        stored = optuna.load_study(study_name=study_name, storage=storage_obj).user_attrs.get("movierec")
    finally:
        if (engine := getattr(storage_obj, "engine", None)) is not None:  # none in memory
            engine.dispose()
    if not stored:
        raise ConfigError(f"study {study_name!r} in {shown_url(storage)} was not created by movierec tune")
    return _legacy_mrr(dict(stored))


def _dataset_parts(dataset: Any) -> tuple[Interactions, str, str]:
    """(interactions, reference usable by datasets.load, sha256) for a Dataset, Interactions or name/path."""
    from movierec.datasets import Dataset, load

    if isinstance(dataset, (str, Path)):
        dataset = load(dataset)
    if isinstance(dataset, Dataset):
        # best.toml must load it again from any folder; data given in memory keeps its description
        ref = dataset.reload_ref() or dataset.source or dataset.name
        return dataset.interactions, ref, dataset.sha256
    if isinstance(dataset, Interactions):
        h = hashlib.sha256()
        for arr in (dataset.users, dataset.items, dataset.ratings):
            h.update(np.ascontiguousarray(arr).tobytes())
        return dataset, "<interactions>", h.hexdigest()
    raise ConfigError(
        f"dataset must be a name, a path, a Dataset or Interactions, got {type(dataset).__name__}"
    )


_SETTINGS_KEYS = (
    "model",
    "metric",
    "dataset_sha256",
    "cv",
    "test_size",
    "threshold",
    "split_seed",
    "split",
    "fixed_params",
    "item_features",
    "user_features",
    "early_stopping",
)


def _fits_implicit(model_kind: str) -> bool:
    return model_kind == "implicit"


class _EpochPruner:
    """``on_epoch`` for a trial's first fold: score the model mid-fit, report it, prune a stalled loser.

    The median rule applies only once a trial has stopped improving for ``PRUNE_PATIENCE`` epochs
    after ``WARMUP_EPOCHS`` (a slow learner still improving is kept). A model whose state is not
    usable mid-fit (it lives in ``fit``'s locals until the end) switches the study to per-fold
    reports (``objective.per_epoch = False``).
    """

    def __init__(
        self, objective: _Objective, trial: Any, model: Recommender, seen: Interactions, valid: Interactions
    ):
        self.objective, self.trial, self.model, self.seen, self.valid = objective, trial, model, seen, valid
        self.pruned = False
        self.epoch = 0
        self.best = math.inf
        self.stalled = 0

    def __call__(self, epoch: int, logs: dict[str, float]) -> bool | None:
        self.epoch = int(epoch)
        obj = self.objective
        if not obj.per_epoch:
            return None
        try:
            value = score_split(self.model, self.seen, self.valid, obj.metric, threshold=obj.threshold)
        except (NotFittedError, AttributeError):
            obj.per_epoch = False
            return None
        if not math.isfinite(value):
            return None
        self.trial.report(value, step=int(epoch))
        loss = value if obj.metric.direction == "minimize" else -value
        if loss < self.best - PRUNE_MIN_DELTA:
            self.best, self.stalled = loss, 0
        else:
            self.stalled += 1
        if epoch > WARMUP_EPOCHS and self.stalled >= PRUNE_PATIENCE and self.trial.should_prune():
            self.pruned = True
            return False
        return None


class _Objective:
    """A trial: suggest parameters, fit and score on each inner fold, report to Optuna, prune early.

    It holds the TRAINING interactions only (never the test split). Implicit models train on the
    positives; ranking candidates still exclude every training rating. Per-epoch pruning needs a
    model that can be scored mid-fit (:class:`_EpochPruner`); otherwise trials report after each fold.
    """

    def __init__(
        self,
        train: Interactions,
        model: str,
        space: Mapping[str, Param],
        metric: Metric,
        *,
        cv: int,
        seed: int,
        threshold: float,
        fixed: Mapping[str, Any],
        user_features: Any = None,
        item_features: Callable[[Interactions], Any] | None = None,
        validation: Interactions | None = None,
        stopping: Mapping[str, Any] | None = None,
    ) -> None:
        from movierec.models.registry import get_class, model_kind

        cls = get_class(model)
        implicit = _fits_implicit(model_kind(model))
        self.model, self.space, self.metric, self.seed, self.threshold = model, space, metric, seed, threshold
        self.fixed, self.user_features, self.item_features = fixed, user_features, item_features
        self.accepted = _model_params(cls)
        self.iterative = "on_epoch" in fit_options(cls)
        #: early stopping (tune's early_stopping): each fit stops on its fold's validation part and is scored
        #: as it stood at its best epoch; trials then report per fold (one scorer per epoch is enough)
        self.stopping = dict(stopping) if stopping else None
        self.per_epoch = self.iterative and self.stopping is None
        # the caller's validation part (tune's validation=), or folds cut from the training part
        pairs = [(train, validation)] if validation is not None else validation_folds(train, cv, seed=seed)
        self.folds = [(fit.to_implicit(threshold) if implicit else fit, fit, valid) for fit, valid in pairs]
        #: each fold's item features, without the tags on its validation pairs (None: no item features)
        self.fold_items = [None if item_features is None else item_features(v) for _, _, v in self.folds]

    def _params(self, trial: Any) -> dict[str, Any]:
        params = draw_acting(self.model, self.space, self.fixed, lambda name, p: p.suggest(trial, name))
        params.update(self.fixed)
        if "random_state" in self.accepted and "random_state" not in params:
            params["random_state"] = self.seed
        return params

    def _fit(
        self, trial: Any, m: Any, fold: int, fit: Interactions, seen: Interactions, valid: Interactions
    ) -> tuple[Any, int | None]:
        """Fit ``m`` on one fold: the model to score (``m``, or with early stopping its best epoch's copy)
        and the best epoch (``None`` without early stopping)."""
        kw = _feature_kw(m, self.user_features, self.fold_items[fold])
        if self.stopping is not None:  # EarlyStopping's rule (movierec.stopping), scored as trials are
            from movierec.stopping import Stopper

            spec = self.stopping
            stopper = Stopper(valid, spec["metric"], every=spec["every"], patience=spec["patience"], known=seen,
                              threshold=self.threshold, score=score_split)  # fmt: skip
            m.fit(fit, on_epoch=stopper, **kw)
            best = stopper.best_epoch_ or int(m.epochs)  # no finite score at all: the budget
            return (m if stopper.best_model_ is None else stopper.best_model_), best
        if self.per_epoch and fold == 0:
            pruner = _EpochPruner(self, trial, m, seen, valid)
            m.fit(fit, on_epoch=pruner, **kw)
            if pruner.pruned:
                trial.set_user_attr("pruned_at_epoch", pruner.epoch)
                raise _optuna().TrialPruned()
        elif self.iterative:
            m.fit(fit, on_epoch=None, **kw)
        else:
            m.fit(fit, **kw)
        return m, None

    def _score(self, trial: Any, m: Any, fold: int, seen: Interactions, valid: Interactions) -> float:
        value = score_split(m, seen, valid, self.metric, threshold=self.threshold)
        if not math.isfinite(value) and self.metric.kind == "rating":
            trial.set_user_attr("diverged", True)  # e.g. a learning rate too large: NaN/inf predictions
            raise _optuna().TrialPruned()
        if not math.isfinite(value):
            raise ConfigError(
                f"validation fold {fold + 1} has no rating ≥ the relevance threshold {self.threshold:g}; lower it or use fewer folds"
            )
        return value

    def __call__(self, trial: Any) -> float:
        from movierec.models.registry import create
        from movierec.tuning_trials import process_attrs

        for key, value in process_attrs().items():  # host:pid and start: a killed run's trial is closed later
            trial.set_user_attr(key, value)
        scores: list[float] = []
        terms: list[dict[str, float]] = []  # a weighted objective's term values per fold
        t0 = time.perf_counter()
        trial_model, trial_params = split_model_params(self.model, self._params(trial))
        best_epochs: list[int] = []  # a trial's own (trials may run in threads: n_jobs)
        for f, (fit, seen, valid) in enumerate(self.folds):
            m = create(trial_model, **trial_params)
            try:
                m, best = self._fit(trial, m, f, fit, seen, valid)
                best_epochs += [] if best is None else [best]
            except MemoryLimitError as exc:  # this point would not fit in memory: pruned, with the reason
                trial.set_user_attr("pruned_because", str(exc))
                raise _optuna().TrialPruned(str(exc)) from exc
            scores.append(self._score(trial, m, f, seen, valid))
            if self.metric.name == "objective":
                terms.append(self.metric.last_terms)  # type: ignore[attr-defined]
            if not self.per_epoch:
                trial.report(float(np.mean(scores)), step=f)
                if f + 1 < len(self.folds) and trial.should_prune():
                    trial.set_user_attr("pruned_after_fold", f + 1)
                    raise _optuna().TrialPruned()
        trial.set_user_attr("fold_scores", [float(s) for s in scores])
        if best_epochs:  # early stopping: each fold's best epoch, and the count best.toml gives epochs
            trial.set_user_attr("best_epochs", best_epochs)
            trial.set_user_attr("best_epoch", round(float(np.mean(best_epochs))))
        if terms:
            from movierec.objective import mean_terms

            trial.set_user_attr("terms", mean_terms(terms))
        trial.set_user_attr("fit_seconds", round(time.perf_counter() - t0, 3))
        return float(np.mean(scores))


def _check_settings(
    stored: dict[str, Any],
    settings: dict[str, Any],
    fixed: Mapping[str, Any] | None,
    *,
    resume: bool,
    name: str,
    shown: str,
) -> dict[str, Any]:
    """Compare an existing study's recorded settings with the request; ``resume`` adopts the recorded ones.
    ``fixed``: the request's fixed params, which must be the study's (a study of free factors continued with
    ``--params factors=100`` reported the best of both runs, a trial with other factors)."""
    if not stored:
        return settings
    if resume:
        return {**settings, **{k: stored[k] for k in _SETTINGS_KEYS if k in stored and k != "dataset_sha256"}}
    if settings.get("threshold") is None and "threshold" in stored:  # not given: the study's (same data)
        settings = {**settings, "threshold": stored["threshold"]}
    for key in (
        "model",
        "metric",
        "cv",
        "test_size",
        "threshold",
        "split_seed",
        "split",
        "item_features",
        "user_features",
        "early_stopping",
    ):
        if stored.get(key) != settings.get(key):
            flag = {"split_seed": "seed", "test_size": "test size", "item_features": "item features",
                    "user_features": "user features",
                    "early_stopping": "early stopping"}.get(key, key)  # fmt: skip
            _refuse_other_setting(name, shown, flag, repr(stored.get(key)), repr(settings.get(key)))
    if "fixed_params" in stored:  # after the settings above, which say more
        asked = _jsonable(_canonical_params(settings["model"], dict(fixed or {})))
        if asked != stored["fixed_params"]:
            _refuse_other_setting(
                name, shown, "fixed params", _shown_fixed(stored["fixed_params"]), _shown_fixed(asked)
            )
    return settings


def _split_setting(split: Any) -> str:
    """``split=``'s canonical split as the study records it (``"ml100k-u1"``), or a one-line refusal: tune
    takes only the splits papers report on (ml-100k's u1…u5, ua, ub; ml-1m's 90/10), whose test part the
    dataset fixes; a random hold-out is ``test_size``'s, a split of your own ``holdout=``'s."""
    from movierec.datasets.canonical import CANONICAL_SPLITS
    from movierec.split import SPLIT_NAMES, _split_hint

    key = split.strip().lower() if isinstance(split, str) else split
    if key in CANONICAL_SPLITS:
        return str(key)
    keys = list(CANONICAL_SPLITS)  # ml100k-u1 … ml100k-u5, ml100k-ua, ml100k-ub, ml1m-90-10
    names = f"{keys[0]} … {keys[4]}, {', '.join(keys[5:])}"
    if key in (*SPLIT_NAMES, "random"):  # compare's other splits: tune's own is the random ratings hold-out
        said = f"tune's split is a canonical one ({names}), not {key}"
        raise ConfigError(
            Doors(
                f"{said}: test_size= draws a random hold-out", f"{said}: --test-size draws a random hold-out"
            )
        )
    hint = _split_hint(split, list(CANONICAL_SPLITS)) or did_you_mean(split, list(CANONICAL_SPLITS))
    raise ConfigError(f"unknown split {split!r}{hint}; tune takes {names}")


def _named_split(
    req: Request, dataset: Any, holdout: tuple[Interactions, Interactions] | None
) -> tuple[Any, tuple[Interactions, Interactions] | None]:
    """:func:`tune`'s data and outer (train, test) with ``split=`` (or a resumed study that recorded one):
    the canonical split of the dataset, read once (a name or folder loaded here), so the study fingerprints
    and every trial sees its training part only (u1.base), as with ``holdout=``. Otherwise as given."""
    key = req.settings.get("split")
    if key is None or holdout is not None:
        return dataset, holdout
    from movierec.datasets import load
    from movierec.split import CanonicalSplit

    data = load(dataset) if isinstance(dataset, (str, Path)) else dataset
    inter = data if isinstance(data, Interactions) else _dataset_parts(data)[0]
    return data, CanonicalSplit(str(key), int(req.settings["split_seed"])).holdout(inter)


def _shown_fixed(params: Mapping[str, Any]) -> str:
    """A study's fixed params as the refusal names them: ``factors=100, epochs=40``, or ``none``."""
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "none"


def _refuse_other_setting(name: str, shown: str, flag: str, stored: str, asked: str) -> None:
    """The one line that refuses to continue study ``name`` with another setting than it was created with.
    The CLI's is shorter: it was 158 columns for study 'low' in sqlite:///s.db, 191 in tune's own
    tuning/ease-ndcg-10/study.db (142 now), and the ending a study without a finished trial gets ('; nothing
    was written (the study is as it was)') made it 204 (155); --help says what --resume does."""
    said = f"study {name!r} in {shown} exists with {flag} {stored}, not {asked}"
    raise ConfigError(
        Doors(
            f"{said}; choose another study (study_name=), or continue it as it was created (resume=True)",
            f"study {name!r} in {shown} has {flag} {stored}, not {asked}: use another --study or --resume it",
        )
    )


def _stopping_setting(value: Any, model: str, metric: Metric) -> dict[str, Any]:
    """tune's ``early_stopping`` as the study records it (:class:`movierec.stopping.StopSpec`'s fields).
    Each trial's fit then stops on its validation part (``epochs``, fixed or the model's default and no
    longer searched, the maximum) and is scored as it stood at its best epoch; the trial's ``best_epoch``
    (user attrs, beside each fold's ``best_epochs``) becomes the best params' ``epochs``, which the test
    refit and best.toml use; trials report per fold. The setting:
    ``True`` stops on the study's own metric (a weighted objective: on its first term's NDCG@K), a name or
    a dict as compare takes them. Refused in one line for a model that cannot stop between epochs (the
    study has no other model to run) and for a metric the model cannot be scored by (``rmse`` for bpr)."""
    from movierec.models.registry import get_class, model_kind
    from movierec.stopping import StopSpec, can_stop_early, stop_spec

    cls = get_class(model)
    if value is True:
        spec = StopSpec(metric=metric.label if metric.name != "objective" else "ndcg@10")
    else:
        spec = stop_spec(value) or StopSpec()
    if spec.valid_size != StopSpec.valid_size:  # compare cuts a part of that size; a trial has its fold
        raise ConfigError(
            f"early stopping's valid_size={spec.valid_size:g} sizes a part cut from compare's training part, "
            "and tune stops each trial on its own validation fold (cv=, or the validation part given): "
            "leave valid_size out"
        )
    if not (can_stop_early(cls) and "epochs" in _model_params(cls)):
        raise ConfigError(
            f"early stopping: {model} cannot be scored and stopped between epochs, so there is nothing to stop; "
            "tune its epochs instead (leave early stopping out)"
        )
    try:
        _parse_single_metric(spec.metric, model_kind=model_kind(model))
    except ConfigError as exc:
        raise ConfigError(f"early stopping {model} on {spec.metric}: {exc}") from None
    return spec.to_dict()


def _legacy_mrr(stored: dict[str, Any]) -> dict[str, Any]:
    """A study's recorded settings, ``mrr@K`` read as ``mrr`` when the study has no ``mrr_cut``: tune
    used to name the reciprocal rank over the whole ranking ``mrr@10``, so such a study's trials hold
    that number, and continuing it (``resume``, or ``metric="mrr"`` with its name) keeps scoring it.
    An objective is read under its terms' names of now: ``hr@10`` recorded before the terms were named
    as ``--metric`` names them is ``hit_rate@10``, so the same objective continues the study."""
    if re.fullmatch(r"mrr@\d+", str(stored.get("metric", ""))) and not stored.get("mrr_cut"):
        return {**stored, "metric": "mrr"}
    from movierec.objective import is_objective, parse_objective

    if is_objective(metric := str(stored.get("metric", ""))):  # 'ndcg@10+0*hr@10' is 'ndcg@10+0*hit_rate@10'
        try:
            return {**stored, "metric": parse_objective(metric).label}
        except ConfigError:
            return stored  # left as recorded: parse_metric says what is wrong with it where it is read
    return stored


def _held_out(test_size: float) -> float:
    """The outer split's ``test_size`` as the study records it: an int stays a count of ratings (as
    Surprise's ``train_test_split(data, test_size=1000)`` reads it), a fraction a float."""
    from movierec.split import check_test_size

    return check_test_size(test_size)


@dataclass
class Request:
    """A validated tuning request: model, metric, opened storage, study name and the settings to record."""

    model: str
    metric: Metric
    storage: Any
    shown: str
    study_name: str
    settings: dict[str, Any]
    stored: dict[str, Any]
    n_before: int
    n_trials: int = 50  # this session's trials
    timeout: float | None = None
    n_jobs: int = 1
    seed: int = 42
    existed: bool = False  # the study was in the storage before this call


# dup-ok: the one list of tune's request options (tune() forwards them); alike in shape to models' keyword
# signatures (models/baseline.py), with no logic in common
def _one_model(model: Any) -> str:
    """tune's model, checked as one known model name (an unknown one fails here, before anything is opened)
    and lower-cased. ``tune(ds, ["svd"])`` failed with "'list' object has no attribute 'strip'"."""
    from movierec.models.registry import get_class

    if not isinstance(model, str):
        several = isinstance(model, (list, tuple, set))
        raise ConfigError(
            f"tune() tunes one model, given by its name ('svd'), got {model!r}"
            + ("; tune each in turn, or compare(ds, models) to score several side by side" if several else "")
        )
    get_class(model)
    return model.strip().lower()


def check_request(
    model: str,
    *,
    metric: str = "rmse",
    n_trials: int = 50,
    cv: int = 3,
    timeout: float | None = None,
    n_jobs: int = 1,
    test_size: float | None = 0.2,
    threshold: float | None = None,
    seed: int = 42,
    storage: str | None = None,
    study_name: str | None = None,
    resume: bool = False,
    has_holdout: bool = False,
    split: str | None = None,
    item_features: str | list[str] | None = None,
    user_features: Any = None,
    early_stopping: Any = None,
    fixed_params: Mapping[str, Any] | None = None,
) -> Request:
    """Validate a request before any data is loaded: trials, metric for the model's kind, storage URL,
    an existing study's model and metric, item feature names. Mistakes raise ConfigError (one line).
    ``threshold`` ``None``: the data's default, set once it is read (:func:`_open_study`). ``fixed_params``
    (tune's own keyword, the CLI's ``--params``): with item features, the model they build must learn
    from them (:func:`_check_features_used`). ``user_features``: a spec is recorded (a file by its
    absolute path), a matrix given from Python is not (:func:`_user_features_setting`). ``split``: a
    canonical split's name (:func:`_split_setting`), recorded, and no ``test_size`` then."""
    optuna = _optuna()
    from movierec.models.registry import model_kind

    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials <= 0:
        raise ConfigError(f"trials must be a whole number ≥ 1, got {n_trials!r}")
    if timeout is not None and not timeout > 0:
        raise ConfigError(f"timeout must be > 0 seconds, got {timeout!r}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0 or n_jobs < -1:
        raise ConfigError(f"n_jobs must be ≥ 1 (or -1 for one per CPU), got {n_jobs!r}")
    if isinstance(cv, bool) or not isinstance(cv, (int, np.integer)) or cv < 1:
        raise ConfigError(f"cv must be a whole number ≥ 1 (1 = a single validation split), got {cv!r}")
    if test_size is not None and not has_holdout:  # the outer split: a fraction, or a number of ratings
        from movierec.split import fault_in_test_size

        if (fault := fault_in_test_size(test_size)) is not None:
            raise ConfigError(f"test_size {fault} (or None for no test split)")
    model = _one_model(model)
    resolve_space(model)  # so does a model without a search space (the message lists the tunable ones)
    parsed = parse_metric(metric, model_kind=model_kind(model))
    storage_obj = open_storage(storage)
    shown = shown_url(storage) if storage else "memory"
    settings: dict[str, Any] = {
        "model": model,
        "metric": parsed.label,
        "cv": int(cv),
        "test_size": None if has_holdout or test_size is None else _held_out(test_size),
        "threshold": None if threshold is None else float(threshold),
        "split_seed": int(seed),
    }
    settings |= _given_settings(
        model, parsed, split, item_features, user_features, early_stopping, fixed_params
    )
    # does the study exist, and for the same model and metric?
    name = study_name or f"{model}-{parsed.label}"
    existing = {
        s.study_name for s in optuna.study.get_all_study_summaries(storage_obj, include_best_trial=False)
    }
    if resume and name not in existing:
        raise ConfigError(
            f"no study named {name!r}{did_you_mean(name, existing)} in {shown} to resume "  # 'svd-rmze'
            f"(existing: {', '.join(sorted(existing)) or 'none'})"
        )
    stored: dict[str, Any] = {}
    if name in existing:
        loaded = optuna.load_study(study_name=name, storage=storage_obj)
        stored = _legacy_mrr(dict(loaded.user_attrs.get("movierec") or {}))
        if not stored and loaded.trials:
            said = f"study {name!r} in {shown} was not created by movierec tune; choose another study"
            raise ConfigError(framed(_STUDY, lambda study: f"{said} ({study})"))
        settings = _check_settings(stored, settings, fixed_params, resume=resume, name=name, shown=shown)
        model, parsed = settings["model"], parse_metric(settings["metric"])
        n_before = len(loaded.trials)
    else:
        n_before = 0

    # what tune() runs in this session
    return Request(
        model, parsed, storage_obj, shown, name, settings, stored, n_before,
        n_trials=int(n_trials), timeout=timeout, n_jobs=n_jobs, seed=seed, existed=name in existing,
    )  # fmt: skip


def _given_settings(
    model: str,
    parsed: Metric,
    split: Any,
    item_features: Any,
    user_features: Any,
    early_stopping: Any,
    fixed_params: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """:func:`check_request`'s settings recorded only when given, so studies from before each option
    compare equal: the canonical ``split`` (and then no ``test_size``), the item features' names, the
    user features' spec, early stopping, and mrr@K's cut at K."""
    settings: dict[str, Any] = {}
    if split is not None:
        settings.update(split=_split_setting(split), test_size=None)
    if item_features is not None and not isinstance(item_features, (str, list, tuple)):
        raise ConfigError("item_features: give feature names such as 'genres,tags,year'")
    from movierec.features import parse_names

    names = parse_names(item_features)
    if names:
        _check_features_used(model, fixed_params)
        settings["item_features"] = names
    if user_features is not None and not (isinstance(user_features, str) and not user_features.strip()):
        _check_user_features_used(model)
    if (spec := _user_features_setting(user_features)) is not None:
        settings["user_features"] = spec
    if early_stopping is not None and early_stopping is not False:
        settings["early_stopping"] = _stopping_setting(early_stopping, model, parsed)
    if parsed.name == "mrr" and parsed.k is not None:  # which older studies lack
        settings["mrr_cut"] = True
    return settings


def _check_features_used(model: str, fixed_params: Mapping[str, Any] | None) -> None:
    """Refuse item features the model would not learn from, so a study is not tuned, and its best.toml
    written, with features no trial read: a model whose ``fit`` takes none (svd), or one built with the
    fixed parameters that ignores them though its class takes them (an ensemble of slim alone, which
    compare notes as "ensemble ignores item features": :func:`movierec.models.base.uses_item_features`
    of the built model, as compare asks it). A model that can say why names its fix
    (:meth:`movierec.models.ensemble.Ensemble.unused_item_features`)."""
    from movierec.models.base import uses_item_features
    from movierec.models.registry import create, get_class, item_feature_models

    leave = Doors("or leave them out (item_features=)", "or leave them out (--item-features)")  # not both
    if "item_features" not in fit_options(get_class(model)):
        takers = ", ".join(item_feature_models())
        said = f"{model} does not use item features; give them to a model that does ({takers})"
        raise ConfigError(framed(leave, lambda out: f"{said}, {out}"))
    name, params = split_model_params(model, _canonical_params(model, dict(fixed_params or {})))
    built = create(name, **params)
    if uses_item_features(built):
        return
    why = getattr(built, "unused_item_features", None)
    fix = why() if callable(why) else None
    said = f"{model} does not use item features with these parameters"
    if fix:  # the model's own words, for both doors
        raise ConfigError(framed(leave, lambda out: f"{said}: {fix}, {out}"))
    raise ConfigError(
        Doors(f"{said}: change them (fixed_params=), {leave}", f"{said}: change them (--params), {leave.cli}")
    )


def _check_user_features_used(model: str) -> None:
    """Refuse user features a model never learns from, as item features are (:func:`_check_features_used`):
    ``tune -m svd --user-features demographics`` tuned svd without them, recorded them, and wrote them into
    best.toml, where ``compare --config`` then noted "svd ignores user features". A model switch (warp's
    ``loss``) stays in the bpr family, all of which take them."""
    from movierec.models.registry import get_class, user_feature_models

    if getattr(get_class(model), "uses_user_features", False):
        return
    takers = list(dict.fromkeys(f"{n.split(':')[0]}:*" if ":" in n else n for n in user_feature_models()))
    said = f"{model} does not use user features; give them to a model that does ({', '.join(takers)})"
    raise ConfigError(
        Doors(f"{said}, or leave them out (user_features=)", f"{said}, or leave them out (--user-features)")
    )


#: keywords people reach for that ``tune`` spells otherwise or has no use for: each gets the line saying
#: where that setting lives instead of a guess among the valid names
_PROGRESS = "progress=True prints a line per trial, progress=False nothing"
_FOLDS = "cv=K sets the inner validation folds (1 = one 20% split)"
MISNAMED_KEYWORDS: dict[str, str] = {
    "params": "hyperparameters held fixed in every trial go in fixed_params={...} (the CLI's --params)",
    "search_space": "each model declares its own (movierec.tuning.resolve_space(model) shows it); "
    "fixed_params={...} holds some of it out of the search",
    "space": "each model declares its own search space (movierec.tuning.resolve_space(model) shows it); "
    "fixed_params={...} holds some of it out of the search",
    "verbose": _PROGRESS,
    "show_progress": _PROGRESS,
    "random_state": "seed=... fixes the splits and the sampler",
    "folds": _FOLDS,
    "n_folds": _FOLDS,
    "n_iter": "n_trials=N sets the trials (scikit-learn's n_iter)",
    "direction": "the metric sets it (rmse is minimised, ndcg@10 maximised)",
    "outer_folds": "nested cross-validation (K outer folds, a study on each) is "
    "movierec.nested_tuning.nested_tune(dataset, model, outer_folds=K, ...)",
    "nested": "nested cross-validation (K outer folds, a study on each) is "
    "movierec.nested_tuning.nested_tune(dataset, model, outer_folds=K, ...)",
}


def keyword_names() -> list[str]:
    """Every keyword :func:`tune` takes: :func:`check_request`'s request options, then its own."""
    request = [
        p.name
        for p in inspect.signature(check_request).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in ("has_holdout", "fixed_params")
    ]
    own = [
        p.name
        for p in inspect.signature(tune).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    return [*request, *own]


def check_keywords(request: Mapping[str, Any], model: str) -> None:
    """Refuse a keyword :func:`tune` does not take, in one line (ConfigError, as a model's unknown
    hyperparameter is): where a natural guess's setting lives (``params`` → ``fixed_params``), a model
    hyperparameter given bare (``factors=64`` → ``fixed_params={'factors': 64}``), else the closest
    valid name (``trials`` → ``n_trials``), then the valid names. Python's own TypeError came from
    ``check_request()``, a name the caller never used."""
    from movierec.errors import did_you_mean

    valid = keyword_names()
    for key in request:
        if key in valid:
            continue
        if key in MISNAMED_KEYWORDS:
            why = f": {MISNAMED_KEYWORDS[key]}"
        elif key in _hyperparameters(model):
            why = f": a hyperparameter of {model}; hold it fixed with fixed_params={{{key!r}: {request[key]!r}}}"
        else:
            why = did_you_mean(key, valid)
        raise ConfigError(f"tune() has no keyword {key!r}{why}; valid: {', '.join(valid)}")


def _hyperparameters(model: str) -> set[str]:
    """The model's hyperparameter names and their aliases (``n_factors``), or none for an unknown model
    (whose own error comes next, from :func:`check_request`)."""
    from movierec.models.registry import get_class

    try:
        cls = get_class(model)
    except (ConfigError, ImportError, AttributeError, TypeError):  # a model name that is not one
        return set()
    return _model_params(cls) | set(getattr(cls, "_aliases", ())) | set(getattr(cls, "_compounds", ()))


def tune(
    dataset: Any,
    model: str,
    *,
    progress: Callable[[dict[str, Any]], None] | bool | None = None,
    holdout: tuple[Interactions, Interactions] | None = None,
    validation: Interactions | None = None,
    evaluate_test: bool = True,
    out: str | Path | None = None,
    fixed_params: Mapping[str, Any] | None = None,
    worker: int = 0,
    user_features: Any = None,
    on_start: Callable[[dict[str, Any]], None] | None = None,
    force: bool = False,
    **request: Any,
) -> TuneResult:
    """Search ``model``'s hyperparameters with seeded TPE and median pruning, on training folds only.

    ``request`` holds :func:`check_request`'s options, the one list of them with their defaults:
    ``metric`` (``"rmse"``), ``n_trials`` (50), ``cv`` (3), ``timeout``, ``n_jobs`` (1), ``test_size``
    (0.2), ``threshold`` (4, or on data without ratings its one value, so every row is a positive:
    :func:`movierec.interactions.resolve_threshold`), ``seed`` (42), ``storage``, ``study_name``, ``resume``,
    ``early_stopping`` (:func:`_stopping_setting`). ``dataset`` is a name, folder, Dataset or Interactions.
    The outer test split (``test_size`` of the ratings, or an int number of them as Surprise's
    ``train_test_split`` reads it; Surprise's random hold-out with ``seed``; ``holdout=(train, test)``;
    ``split="ml100k-u1"``, a canonical split: u1.base tuned on; ``test_size=None``: none) is built first and
    never read during the study; afterwards the best params are refit on the training split and scored on it
    (``test_score``). With ``validation`` (a part of the ratings beside ``holdout=(train, test)``, such as
    :func:`movierec.split.per_user_split`'s middle part, RecBole's validation set) no folds are cut: every
    trial fits on ``train`` and is scored on ``validation``, and the best params are refit on ``train`` and
    ``validation`` together (``train.concat(validation)``, the movies each user has in either left out of the
    ranking) and scored once on ``test``; ``cv`` is 1
    (any other is refused). ``cv`` inner folds (1 = one 20 % validation split, a share of however
    many training ratings the outer split left) are cut from the training split. ``storage`` is an
    SQLAlchemy URL (``sqlite:///study.db``, ``postgresql://…``; ``None`` = in memory): several
    processes that pass the same URL and ``study_name`` share the study (give each a different
    ``worker`` number so their samplers draw different points; ``seed`` fixes the splits and must be
    the same). An existing study of another model or metric is refused unless ``resume``, which
    continues it with its recorded settings; more trials continue its trial numbering.
    ``fixed_params`` holds hyperparameters out of the search (the CLI's ``--params``). With ``out``, writes
    trials.csv, best.json, best.toml and the charts there (other files, or another study's: refused unless
    ``force``, :func:`check_output_folder`).

    ``progress`` works as in :func:`movierec.evaluation.compare`: by default (``None``) lines when
    a person watches (on stderr in a terminal; in a Jupyter kernel, one output of the cell updated in
    place), so 50 trials are not a silent minute, and nothing in scripts and tests: one as the study
    starts, one per trial (``trial 3/50 complete: 0.8812 (best 0.8790), 12.3 s``: value, best so far,
    seconds since the first trial began) and one for the test refit. ``True`` always prints them,
    ``False`` never; a callable receives a dict after every trial instead (``number``, ``state``,
    ``value``, ``params``, ``best_value``, ``done``, ``total``, ``elapsed``).

    ``user_features`` (``"demographics"``, a ``userId,feature`` CSV, or both) go to the models that
    use them (bpr, warp, logistic, warp-kos) in every trial and the final refit; so do the request's
    ``item_features`` (``"genres,tags,year"``: the hybrid models and ease). The study records both
    (best.toml carries them; a stored study is not continued with other ones), but not a matrix of user
    features given from Python, which no file can hold. Any other keyword is a ConfigError naming the
    closest valid one (``trials`` → ``n_trials``), as a model's unknown hyperparameter is.
    Dead processes' RUNNING trials are closed, and ``on_start`` told, before the first trial (:func:`_started`).

    Two quick trials in a notebook (svd with 5 epochs, not searched)::

        from movierec.tuning import tune

        res = tune("ml-latest-small", "svd", n_trials=2, cv=2, fixed_params={"epochs": 5})
        res.best_params, res.best_value, res.test_score
    """
    check_keywords(request, model)  # a misspelt option is one line before any work
    _optuna()  # the missing-extra error before any work
    report = trial_progress(progress)
    request = _with_validation(request, holdout, validation)
    with _closed_if_refused():  # a refusal before the study runs leaves no SQLite file open (-wal, -shm)
        req = check_request(model, **request, has_holdout=holdout is not None, fixed_params=fixed_params, user_features=user_features)  # fmt: skip
        check_output_folder(out, option="out=", study=(req.shown, req.study_name), force=force)  # before it
        model, parsed, shown, name = req.model, req.metric, req.shown, req.study_name
        dataset, holdout = _named_split(req, dataset, holdout)  # split=: its training part, as holdout=
        parts = holdout, validation
        inter, settings, study = _open_study(req, dataset, parts, fixed_params, seed=req.seed, worker=worker, n_trials=req.n_trials)  # fmt: skip
    with _connections_closed(study), _unfinished_removed(study, req):  # the study made here, if no trial ends
        train, test = _outer_split(inter, holdout, settings)  # built first, never handed to the objective
        named = user_features is None or isinstance(user_features, str)  # a spec: as the study records it
        ufeats = _user_features(settings.get("user_features") if named else user_features, dataset, train)
        ifeats, fold_feats = _item_features(settings.get("item_features"), dataset, train, test)
        objective = _objective(train, model, parsed, settings, ufeats, fold_feats, validation)  # not the test
        _check_fixed_memory(model, settings["fixed_params"], train)  # every trial would be refused: now
        lines = report is print_trial  # the start and refit lines go with the trial lines, not a callable
        plan = _plan(req.n_trials, settings["cv"], validation, train)  # '10 trials, 3 inner folds of …'
        _started(study, req.storage, name, req.n_trials, on_start, lines, plan, (objective, worker))
        t0 = time.perf_counter()
        _say(lines, _wrapped(f"tuning {model} for {parsed.label}: {plan}"))
        _optimize(study, objective, n_trials=req.n_trials, timeout=req.timeout, n_jobs=req.n_jobs, progress=report, storage=req.storage)  # fmt: skip
        result = _study_result(study, name, shown, model, parsed, settings)
        if result.n_complete > 0 and test is not None and evaluate_test:  # the test part, read once
            refit = _refit_part(train, validation)
            result.test_score = _final_test(lines, result, refit, test, parsed, settings, ufeats, ifeats)
        result.seconds = round(time.perf_counter() - t0, 3)
        if out is not None:
            result.files = write_outputs(study, result, Path(out), searched=objective.space)
    return result


def _refit_part(train: Interactions, validation: Interactions | None) -> tuple[Interactions, str]:
    """What :func:`tune`'s best params are refit on before the one test score, and its name in the progress
    line: the training split, or with ``validation=`` the training and validation parts together."""
    if validation is None:
        return train, "training split"
    return train.concat(validation), "training and validation parts"


@contextlib.contextmanager
def _unfinished_removed(study: Any, req: Request) -> Iterator[None]:
    """Run the block; when it raises (a refusal inside a trial, a later check, Ctrl-C), delete the study
    if this call created it and no trial finished (complete or pruned) or runs (another worker's).

    ``tune(ds, "ease", storage="sqlite:///s.db")`` refused in its first trial ('validation fold 1 has no
    rating ≥ the relevance threshold 4') left the study it had just created, holding that one failed
    trial and the settings of the refused call, so the next call with the threshold lowered was refused
    ("study 'low' in sqlite:///s.db exists with threshold 4.0, not 3.0; choose another study …") until
    the study was deleted by hand; the CLI removed only a study.db file of its own, not a --storage one.
    A study that existed before the call keeps everything, the failed trial too: nothing is deleted that
    this call did not write. A study in memory goes with the call anyway."""
    try:
        yield
    except BaseException:
        if not req.existed:
            _delete_if_unfinished(study)
        raise


def _delete_if_unfinished(study: Any) -> None:
    """Delete ``study`` when its trials are all failed or queued (none complete, pruned or running)."""
    optuna = _optuna()
    state = optuna.trial.TrialState
    try:
        if all(t.state in (state.FAIL, state.WAITING) for t in study.get_trials(deepcopy=False)):
            optuna.delete_study(study_name=study.study_name, storage=study._storage)
    except Exception:  # the storage cannot be read or written (a server gone): the study stays as it is
        pass


@contextlib.contextmanager
def _connections_closed(study: Any) -> Iterator[None]:
    """Run the block, then close the study database's pooled connections however it ended: a SQLite file's
    write-ahead log (:func:`_write_ahead`) is folded back into it and its -wal and -shm files removed when
    the last connection closes, so the folder tune leaves holds what it wrote (a notebook's process lives on
    after tune returns). Reading the study later opens a connection again."""
    try:
        yield
    finally:
        _close_connections(study)


def close_engines() -> None:
    """Close the pooled connections of every SQLite engine :func:`open_storage` made in this process (the
    request check's, the study's, :func:`study_settings`'): the file's -wal and -shm go with the last one.
    Each engine opens a connection again when next used, so closing one another call still holds is safe."""
    for engine in list(_SQLITE_ENGINES):
        engine.dispose()


@contextlib.contextmanager
def _closed_if_refused() -> Iterator[None]:
    """Run the block (:func:`tune`'s checks up to its study); when it raises, close the SQLite connections
    it opened (:func:`close_engines`). A refusal there ('study … exists with threshold 4.0, not 3.0') left
    :func:`check_request`'s connection open, so the study file kept its -wal and -shm files beside it as
    long as the process lived (a notebook's lives on), and a CLI run left them behind."""
    try:
        yield
    except BaseException:
        close_engines()
        raise


def _close_connections(study: Any) -> None:
    """Close the pooled connections of every SQLite study engine this process opened, then put ``study``'s
    file back in rollback-journal mode (which folds the log in and removes -wal and -shm at once), so a later
    read in the same process (the CLI's summary, a notebook) leaves no -wal file beside it. Where another
    process still has the file open the switch is refused and the file stays in WAL mode, its log removed
    by the last connection to close. A study in memory has nothing to close."""
    close_engines()
    backend = getattr(study._storage, "_backend", study._storage)
    engine = getattr(backend, "engine", None)
    if engine is None:
        return
    if engine in _SQLITE_ENGINES:
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
        except Exception:  # another process holds it: WAL stays, as the next run would set it anyway
            pass
    engine.dispose()


def _objective(
    train: Interactions,
    model: str,
    metric: Metric,
    settings: Mapping[str, Any],
    user_features: Any,
    item_features: Callable[[Interactions], Any] | None,
    validation: Interactions | None = None,
) -> _Objective:
    """:func:`tune`'s trial function over the model's active search space; it holds the TRAINING
    interactions and the caller's validation part, if any (never the test split). ``item_features``
    builds a fold's item features from its validation part (:func:`_item_features`' second value)."""
    space = active_space(model, item_features is not None, settings["fixed_params"])
    stopping = settings.get("early_stopping")
    if stopping:  # epochs is each trial's maximum (fixed or the default), the stopper picks the count
        space = {k: v for k, v in space.items() if k != "epochs"}
    return _Objective(
        train,
        model,
        space,
        metric,
        cv=settings["cv"],
        seed=settings["split_seed"],
        threshold=settings["threshold"],
        fixed=dict(settings["fixed_params"]),
        user_features=user_features,
        item_features=item_features,
        validation=validation,
        stopping=stopping,
    )


def _final_test(
    lines: bool,
    result: TuneResult,
    refit: tuple[Interactions, str],
    test: Interactions,
    metric: Metric,
    settings: Mapping[str, Any],
    user_features: Any,
    item_features: Any,
) -> float:
    """:func:`tune`'s test score: the best params refit on ``refit``'s interactions (the training split,
    joined with the given validation part when there is one: RecBole's train and valid), scored on
    ``test``; a progress line of its own, as the refit is one more fit, as long as a trial's."""
    tic = time.perf_counter()
    _say(lines, f"test {metric.label} of the best parameters, refit on the {refit[1]}: ", end="")
    score = _test_score(
        result.model,
        result.best_params,
        refit[0],
        test,
        metric,
        settings,
        settings["fixed_params"],
        user_features,
        item_features,
    )
    _say(lines, f"{score:.4f} ({time.perf_counter() - tic:.1f} s)")
    return score


def _with_validation(
    request: dict[str, Any], holdout: tuple[Interactions, Interactions] | None, validation: Any
) -> dict[str, Any]:
    """:func:`tune`'s request with a caller's validation part: one validation "fold" (``cv`` 1, the study
    records it so). Refused in one line without ``holdout`` (the part is beside a train part the caller
    drew), with another ``cv``, or as anything but interactions of ``holdout``'s users and movies. ``split``
    (a canonical split: its own test part) is refused beside ``holdout``, ``validation`` and ``test_size``."""
    if request.get("split") is not None:
        given = [k for k, v in (("holdout", holdout), ("validation", validation)) if v is not None]
        given += ["test_size"] if "test_size" in request else []
        if given:
            raise ConfigError(
                f"split= and {'= and '.join(given)}= exclude each other: split={request['split']!r} is a "
                "hold-out already drawn (its training part is tuned on, its test part scored once)"
            )
    if validation is None:
        return request
    if holdout is None:
        raise ConfigError(
            "validation= is scored beside a training part you drew: give holdout=(train, test) with it "
            "(movierec.split.per_user_split gives all three parts)"
        )
    if not isinstance(validation, Interactions):
        raise ConfigError(f"validation= takes Interactions (a split's part), not {type(validation).__name__}")
    train = holdout[0]
    if validation.user_map != train.user_map or validation.item_map != train.item_map:
        raise ConfigError(
            "validation= has other users or movies than holdout's train part: split the same data"
        )
    if request.get("cv", 1) != 1:
        raise ConfigError(
            f"validation= is the one part trials are scored on, so cv={request['cv']!r} has no folds to cut; "
            "leave cv out"
        )
    return {**request, "cv": 1}


def _check_fixed_memory(model: str, fixed: Mapping[str, Any], train: Interactions) -> None:
    """Refuse, before the study's first trial, fixed parameters (``--params factors=100000``) whose model
    needs more memory than is available (:func:`movierec.models.memory.check_memory`, the check every
    ``fit`` makes), rather than failing every trial with it. A searched size parameter is not checked
    here: a sampled point too large prunes its own trial."""
    from movierec.models.memory import check_memory, estimate
    from movierec.models.registry import create

    name, params = split_model_params(model, dict(fixed))
    built = create(name, **params)
    found = estimate(built, train.n_users, train.n_items, train.n_ratings)
    if found is not None and found[0].param in _canonical_params(model, params):  # searched: each trial's own
        check_memory(built, train.n_users, train.n_items, train.n_ratings)


def _started(
    study: Any,
    storage: Any,
    name: str,
    n_trials: int,
    on_start: Callable[[dict[str, Any]], None] | None,
    lines: bool,
    plan: str = "",
    defaults: tuple[_Objective, int] | None = None,
) -> None:
    """Before the first trial, once every input is checked (the data, the study's settings, the side
    features): mark FAIL the trials left RUNNING by processes gone from this host (killed, out of memory;
    :mod:`movierec.tuning_trials`), then call ``on_start`` with ``study_name``, ``finished`` (complete and
    pruned trials already there), ``closed`` (those just marked FAIL), ``n_trials`` and ``plan`` (the trials,
    folds and training ratings in words: ``10 trials, 3 inner folds of 80,000 training ratings``): the CLI's
    "continuing study" note and its first line. Without ``on_start`` the progress lines (when on) say the same.
    With ``defaults`` (the objective and this worker's number), a new study's first trial is queued: the
    model's defaults (:func:`_enqueue_defaults`)."""
    from movierec.tuning_trials import close_dead_trials

    if defaults is not None:
        _enqueue_defaults(study, *defaults)
    closed = close_dead_trials(storage, name)
    states = ("COMPLETE", "PRUNED")
    finished = sum(t.state.name in states for t in study.get_trials(deepcopy=False))
    info = {
        "study_name": name,
        "finished": finished,
        "closed": closed,
        "n_trials": int(n_trials),
        "plan": plan,
    }
    if on_start is not None:
        on_start(info)
    elif lines and (finished or closed):
        _say(
            True,
            f"continuing study {name!r}: {finished} finished {_trials(finished).split(' ', 1)[1]}{closed_note(closed)}",
        )


def closed_note(closed: int) -> str:
    """``"; closed 1 trial left running by a process that no longer exists"`` (empty for none)."""
    from movierec.tuning_trials import DEAD_REASON

    return f"; closed {closed} trial{'s' if closed != 1 else ''} {DEAD_REASON}" if closed else ""


def _outer_split(
    inter: Interactions, holdout: tuple[Interactions, Interactions] | None, settings: Mapping[str, Any]
) -> tuple[Interactions, Interactions | None]:
    """:func:`tune`'s (train, test): the caller's ``holdout``, all of ``inter`` and no test with
    ``test_size=None``, else Surprise's random hold-out of ``test_size`` with the split seed."""
    from movierec.split import ratings_holdout

    if holdout is not None:
        return holdout
    if settings["test_size"] is None:
        return inter, None
    return ratings_holdout(inter, test_size=settings["test_size"], seed=settings["split_seed"])


def _wrapped(text: str) -> str:
    """``text`` in balanced lines of the terminal's width: the start line with one validation split
    ('tuning baseline for rmse: 4 trials, one 20% validation split of 80,668 training ratings') ran to 87
    columns, which a terminal broke mid-word, and wrapped greedily it left 'ratings' alone on a line. In a
    Jupyter kernel it stays one line: a cell has no terminal width (it was cut at 80 where the cell was
    wider), and the cell's output wraps a long line itself."""
    from movierec.progress import kernel_shell, prose_lines

    if kernel_shell() is not None:
        return text
    return "\n".join(prose_lines(text, balanced=True))


def _say(on: bool, text: str, end: str = "\n") -> None:
    """One of :func:`tune`'s progress lines (:func:`movierec.progress.watch_print`: stderr, or the cell in
    Jupyter; a line ended later with ``end=""``), when ``on``."""
    if on:
        from movierec.progress import watch_print

        watch_print(text, end=end)


def _optimize(
    study: Any,
    objective: Callable[[Any], float],
    *,
    n_trials: int,
    timeout: float | None,
    n_jobs: int,
    progress: Callable[[dict[str, Any]], None] | None,
    storage: Any,
) -> None:
    """Run the trials (Optuna's experimental-feature warnings silenced; ``progress`` after each).

    Stopped by Ctrl-C or SIGTERM, the trials this process left RUNNING in ``storage`` are marked FAIL
    (:func:`movierec.tuning_trials.close_own_trials`): an interrupt in Optuna's own bookkeeping after the
    objective returned left one RUNNING, which a notebook's kernel (alive, so never "gone") kept for good and
    the CLI's "N finished trials are kept" line counted."""
    optuna = _optuna()
    quiet = _InterruptedTrialFilter()
    optuna_log = logging.getLogger("optuna.study._optimize")  # a parent's filter never sees a child's records
    optuna_log.addFilter(quiet)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
            study.optimize(
                objective,
                n_trials=int(n_trials),
                timeout=timeout,
                n_jobs=int(n_jobs),
                callbacks=[_progress_callback(progress, n_trials)],
            )
    except BaseException as exc:
        from movierec.errors import interrupted_by
        from movierec.tuning_trials import close_own_trials

        if interrupted_by(exc):  # Optuna may raise its own error while unwinding Ctrl-C
            try:
                close_own_trials(storage, study.study_name)
            except Exception:  # the database is unreachable: the next run closes them as a gone process's
                pass
        raise
    finally:
        optuna_log.removeFilter(quiet)


class _InterruptedTrialFilter(logging.Filter):
    """Drop Optuna's two warnings for a trial stopped by Ctrl-C ("Trial 3 failed … KeyboardInterrupt()" with a
    full traceback, then "Trial 3 failed with value None."): the person pressed it, and the CLI says in one
    line that it was interrupted and what was kept. So for a trial that movierec refused
    (:class:`movierec.errors.MovierecError`: 'validation fold 1 has no rating ≥ the relevance threshold 4'):
    the refusal ends the study and is raised to the caller, and the CLI's one line says it, where Optuna's
    warning and traceback came first (12 lines before it). A trial that fails on its own (a bug, a library's
    error) keeps its warnings."""

    def __init__(self) -> None:
        super().__init__()
        self.stopped: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        number = message.split(" ", 2)[1] if message.startswith("Trial ") else ""
        if (
            record.exc_info
            and record.exc_info[0] is not None
            and issubclass(record.exc_info[0], (KeyboardInterrupt, MovierecError))
        ):
            self.stopped.add(number)
            return False
        return not (number in self.stopped and " failed with value " in message)


def _open_study(
    req: Request,
    dataset: Any,
    parts: tuple[tuple[Interactions, Interactions] | None, Interactions | None],
    fixed_params: Mapping[str, Any] | None,
    *,
    seed: int,
    worker: int,
    n_trials: int,
) -> tuple[Any, dict[str, Any], Any]:
    """Phase 2 of :func:`tune`: read the data and its fingerprint (a study never mixes trials from
    different data), then create or load the study; ``(interactions, settings, study)``."""
    optuna = _optuna()
    parsed, shown, name, stored = req.metric, req.shown, req.study_name, req.stored
    from movierec.objective import attach_genres, check_vectors

    check_vectors(parsed, req.model)  # ild_vectors of a model without item vectors: before the data is read
    holdout, valid = parts  # the caller's (train, test) and validation part, when given
    inter, ref, sha = _data_fingerprint(dataset, holdout, valid)
    if stored.get("dataset_sha256") not in (None, sha):
        said = (
            f"study {name!r} in {shown} was tuned on other data (sha256 {stored['dataset_sha256'][:12]}…, "
            f"this data {sha[:12]}…); choose another study"
        )
        raise ConfigError(framed(_STUDY, lambda study: f"{said} ({study})"))
    settings = {**req.settings, "dataset": stored.get("dataset", ref), "dataset_sha256": sha}
    if settings["threshold"] is None:  # not given: 4, or on data without ratings its one value
        from movierec.interactions import resolve_threshold

        settings["threshold"] = resolve_threshold(inter if inter is not None else holdout[0], None)  # type: ignore[index]
    if getattr(dataset, "split_files", None):  # a split read from files: best.toml names them again
        settings["split_files"] = stored.get("split_files", dataset.split_files)
    options = stored.get("dataset_options", getattr(dataset, "load_options", None))
    if options:  # a ratings file's column names and titles file: best.toml loads the same data again
        settings["dataset_options"] = _jsonable(dict(options))
    attach_genres(parsed, dataset)  # genre terms of a weighted objective
    if "fixed_params" not in settings:
        settings["fixed_params"] = _jsonable(dict(fixed_params or {}))
    settings["fixed_params"] = _canonical_params(req.model, settings["fixed_params"])  # n_epochs → epochs
    # a fresh sampler seed per session, so a resumed study does not replay its first random trials
    sampler_seed = int(np.random.SeedSequence([int(seed), req.n_before, int(worker)]).generate_state(1)[0])
    study = _create_study(optuna, req.storage, name, parsed.direction, sampler_seed, n_trials)
    if study.direction.name.lower() != parsed.direction:
        raise ConfigError(
            f"study {name!r} in {shown} {study.direction.name.lower()}s, but {parsed.label} must be {parsed.direction}d"
        )
    if "movierec" not in study.user_attrs:
        study.set_user_attr("movierec", settings)
    return inter, settings, study


def _data_fingerprint(
    dataset: Any, holdout: tuple[Interactions, Interactions] | None, valid: Interactions | None = None
) -> tuple[Any, str, str]:
    """``(interactions or None, dataset reference, sha256)``; with a caller's hold-out only its TRAINING part
    is read, and the validation part given beside it (so a study is not continued on another one)."""
    if holdout is None:
        return _dataset_parts(dataset)
    ref = "<holdout>" if dataset is None else _dataset_parts(dataset)[1]
    h = hashlib.sha256()
    parts = [holdout[0]] if valid is None else [holdout[0], valid]
    for arr in (a for part in parts for a in (part.users, part.items, part.ratings)):
        h.update(np.ascontiguousarray(arr).tobytes())
    return None, ref, h.hexdigest()


def _create_study(
    optuna: Any, storage: Any, name: str, direction: str, sampler_seed: int, n_trials: int
) -> Any:
    """An Optuna study (created or loaded) with seeded multivariate TPE and the median pruner."""
    # multivariate TPE models the joint density, so interacting knobs (lr × epochs, factors × reg) are
    # searched together (Falkner et al. 2018; Optuna's benchmarks favour it over independent TPE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sampler = optuna.samplers.TPESampler(
            seed=sampler_seed,
            n_startup_trials=min(10, max(3, n_trials // 4)),
            multivariate=True,
            # a parameter drawn only where it acts (draw_acting) is modelled with the trials that drew it
            group=True,
        )
    # no warm-up in the pruner: fold-level reports start at step 0; per-epoch ones skip the first epochs themselves
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)
    return optuna.create_study(
        storage=storage,
        sampler=sampler,
        pruner=pruner,
        study_name=name,
        direction=direction,
        load_if_exists=True,
    )


def print_trial(info: dict[str, Any]) -> None:
    """``tune(progress=True)``'s line per finished trial (on stderr, or the cell's output in Jupyter:
    :func:`movierec.progress.watch_print`), with the seconds since the first trial began:
    ``trial 3/40 complete: 0.8812 (best 0.8790), 12.3 s``."""
    value = "–" if info["value"] is None else f"{info['value']:.4f}"
    best = "" if info["best_value"] is None else f" (best {info['best_value']:.4f})"
    elapsed = f", {info['elapsed']:.1f} s" if "elapsed" in info else ""
    from movierec.progress import watch_print

    watch_print(f"trial {info['done']}/{info['total']} {info['state']}: {value}{best}{elapsed}")


def trial_progress(progress: Any) -> Callable[[dict[str, Any]], None] | None:
    """What :func:`tune` reports each trial to, by ``compare``'s rule for ``progress``: ``None`` → the
    lines (:func:`print_trial`) when a person watches, else nothing; ``True`` → the lines; ``False`` →
    nothing; a callable → itself. Anything else is a ConfigError (a string was called after trial 1)."""
    if progress is None:
        from movierec.evaluation import default_progress

        # compare's and Recommender.fit's one test of "a person watches" (a Jupyter kernel, or a terminal)
        progress = default_progress(1) is not None
    if progress is True:
        return print_trial
    if progress is False:
        return None
    if callable(progress):
        return progress  # type: ignore[no-any-return]
    raise ConfigError(
        f"progress must be True, False, None (lines when a person watches) or a callable, got {progress!r}"
    )


def _trials(n: int) -> str:
    return f"{n} trial{'s' if n != 1 else ''}"


def _plan(n_trials: int, cv: int, validation: Interactions | None, train: Interactions) -> str:
    """The start line's words after the model and metric: ``10 trials, 3 inner folds of 80,000 training
    ratings`` (tune()'s progress line, and the CLI's first line through ``on_start``)."""
    return f"{_trials(n_trials)}, {_folds(cv, validation)} {train.n_ratings:,} training ratings"


def _folds(cv: int, validation: Interactions | None = None) -> str:
    """The start line's words for the validation: ``3 inner folds of``, ``the given validation part (…) beside``."""
    if validation is not None:
        return f"scored on the given validation part ({validation.n_ratings:,} ratings), fitted on"
    return ("one 20% validation split" if cv == 1 else f"{cv} inner folds") + " of"


def _progress_callback(
    progress: Callable[[dict[str, Any]], None] | None, n_trials: int
) -> Callable[..., None]:
    """An Optuna callback that reports every finished trial (number, state, value, best so far, and the
    seconds since the study's first trial began)."""
    done = {"n": 0}
    t0 = time.perf_counter()

    def callback(study_: Any, trial: Any) -> None:
        done["n"] += 1
        if progress is None:
            return
        try:
            best = study_.best_value
        except ValueError:
            best = None
        progress(
            {
                "number": trial.number,
                "state": trial.state.name.lower(),
                "value": trial.value,
                "params": dict(trial.params),
                "best_value": best,
                "done": done["n"],
                "total": n_trials,
                "elapsed": time.perf_counter() - t0,
            }
        )

    return callback


def _study_result(
    study: Any, name: str, shown: str, model: str, parsed: Metric, settings: dict[str, Any]
) -> TuneResult:
    """The :class:`TuneResult` of a study's trials so far (best trial, counts, settings)."""
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    result = TuneResult(
        study_name=name,
        storage=shown,
        model=model,
        metric=parsed.label,
        direction=parsed.direction,
        best_params={},
        best_value=None,
        best_trial=None,
        n_trials=len(trials),
        n_complete=len(complete),
        n_pruned=sum(t.state.name == "PRUNED" for t in trials),
        settings=settings,
    )
    if complete:
        best = study.best_trial
        result.best_params = dict(best.params)
        if "best_epoch" in best.user_attrs:  # early stopping: the epochs to use (best.toml, the test refit)
            result.best_params["epochs"] = int(best.user_attrs["best_epoch"])
        result.best_value = float(best.value)
        result.best_trial = int(best.number)
    ran = next((t for t in complete if t.user_attrs.get("defaults")), None)
    result.defaults_value = None if ran is None else float(ran.value)
    result.defaults_trial = None if ran is None else int(ran.number)
    result.trials = trials_table(study)
    return result


def _enqueue_defaults(study: Any, objective: _Objective, worker: int) -> None:
    """A new study's first trial is the model's defaults (the ``--params`` held fixed over them), when each
    searched parameter's default lies in its range: the first trials are random draws, and on ml-100k 10
    of them left svd at a test RMSE of 0.9487 where its defaults give 0.9343, and ease at NDCG@10 0.3785
    against 0.3818; with the defaults tried first, the best on validation is never worse than not tuning.
    Worker 0 only, so workers sharing a study do not each run it. The trial carries ``defaults = True``."""
    if worker != 0 or study.get_trials(deepcopy=False):
        return
    from movierec.models.registry import get_class

    defaults = {**get_class(objective.model)().get_params(), **objective.fixed}
    off: list[str] = []  # searched parameters whose default lies off the space

    def default(name: str, param: Param) -> Any:
        value = defaults.get(name)
        if name in MODEL_SWITCHES and name not in defaults:  # bpr's loss: the model's own value
            value = next((v for v, m in MODEL_SWITCHES[name].items() if m == objective.model), None)
        if not _inside(param, value):
            off.append(name)
        return value

    # the defaults' own draw: a parameter they leave idle is no part of the point, as in any trial
    point = draw_acting(objective.model, objective.space, objective.fixed, default)
    if off:
        return  # a default off the space (warp's alphas 0 on a log range): no trial is the defaults
    if point:
        study.enqueue_trial(point, user_attrs={"defaults": True}, skip_if_exists=True)


def _inside(param: Param, value: Any) -> bool:
    """Whether ``value`` is a point of ``param``'s range (a whole number for an IntRange)."""
    if isinstance(param, Choice):
        return value in param.choices
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(param, IntRange) and not isinstance(value, int):
        return False
    return bool(param.low <= value <= param.high)


def _feature_kw(model: Recommender, user_features: Any, item_features: Any = None) -> dict[str, Any]:
    """``fit`` keywords for side features, for the models that use them (user features: issue 20; item
    features: the hybrid models and ease, whatever ``fit`` declares)."""
    kw: dict[str, Any] = {}
    if user_features is not None and getattr(model, "uses_user_features", False):
        kw["user_features"] = user_features
    if item_features is not None and "item_features" in fit_options(model):
        kw["item_features"] = item_features
    return kw


def _item_features(
    names: list[str] | None, dataset: Any, train: Interactions, test: Interactions | None
) -> tuple[Any, Callable[[Interactions], Any] | None]:
    """``--item-features`` for ``train``'s items (folds and the refit share its item map): the refit's,
    without the tags on ``test``'s pairs (:func:`movierec.features.build_item_features`), and what
    builds an inner fold's from its validation part, without the tags on those pairs too (a trial is
    scored on them). The names need the dataset's movie metadata."""
    if not names:
        return None, None
    from movierec.evaluation import resolve_item_features

    dataset = _dataset_for(dataset, "item features by name need a dataset with movie metadata")
    parts = [] if test is None else [test]

    def for_fold(valid: Interactions) -> Any:
        return resolve_item_features(names, dataset, train, held_out=[*parts, valid])

    return resolve_item_features(names, dataset, train, held_out=parts), for_fold


def _user_features_setting(spec: Any) -> str | None:
    """A ``user_features`` spec as a study and best.toml record it: ``"demographics"``, the features
    file's absolute path (best.toml reads it from any folder), or both; ``None`` for none or for a
    matrix given from Python, which no file can hold."""
    from movierec.demographics import recorded_user_features

    return recorded_user_features(spec)


def _user_features(spec: Any, dataset: Any, train: Interactions) -> Any:
    """``--user-features`` built for ``train``'s users (folds and the refit share its user map)."""
    if spec is None:
        return None
    from movierec.demographics import resolve_user_features

    if isinstance(spec, str):
        dataset = _dataset_for(dataset, "user features by name need a dataset")
    return resolve_user_features(spec, dataset, train)


def _dataset_for(dataset: Any, need: str) -> Any:
    """The Dataset side features are built from: ``dataset`` itself, or loaded by its name or path;
    bare interactions have no metadata, so ``need`` (one line) says what is missing."""
    if hasattr(dataset, "interactions"):
        return dataset
    if not isinstance(dataset, (str, Path)):
        raise ConfigError(f"{need}, not bare interactions")
    from movierec.datasets import load

    return load(dataset)


def _test_score(
    model: str,
    params: Mapping[str, Any],
    train: Interactions,
    test: Interactions,
    metric: Metric,
    settings: Mapping[str, Any],
    fixed: Mapping[str, Any] | None,
    user_features: Any = None,
    item_features: Any = None,
) -> float:
    """Refit the best params on the whole training split and score the outer test split (read here only)."""
    from movierec.models.registry import create, get_class, model_kind

    model, full = split_model_params(model, {**(fixed or {}), **params})  # early stopping's epochs win
    if "random_state" in _model_params(get_class(model)) and "random_state" not in full:
        full["random_state"] = settings["split_seed"]
    fit = train.to_implicit(settings["threshold"]) if _fits_implicit(model_kind(model)) else train
    m = create(model, **full)
    m.fit(fit, **_feature_kw(m, user_features, item_features))
    return score_split(m, train, test, metric, threshold=settings["threshold"])


def result_json(result: TuneResult) -> str:
    """The result as pretty JSON (NaN/inf as null)."""
    return json.dumps(result.to_dict(), indent=2)


# --- outputs -------------------------------------------------------------------------------------


def write_outputs(
    study: Any, result: TuneResult, out: Path, *, searched: Iterable[str] = ()
) -> dict[str, str]:
    """Write trials.csv, best.json, best.toml (an experiment file) and the history/importance charts.
    ``searched`` names the study's searched parameters (its active space; those held fixed are left out), so
    the importances can name a conditional one that no complete trial drew (:func:`conditional_importances`).

    They are written into a staging folder and moved into ``out`` together once all are written
    (best.json last), so Ctrl-C while the charts are drawn cannot leave a new trials.csv beside the
    best.toml of an earlier run; the study database in ``out`` is not touched here. Then the files of
    :data:`OUTPUT_FILES` this run did not write are removed (:attr:`Staged.obsolete`): an earlier run's
    pareto.csv, ranking_check.json or importance chart stayed beside the new results, describing another
    run (a rerun without --pareto, another study under --force); the CLI writes its own two after this.
    Only those names go: anything else in ``out`` (the user's notes, study.db) stays.
    """
    with staged_output(Path(out), last=("best.json",), option=OUT) as staged:
        staged.obsolete = list(OUTPUT_FILES)  # those written now are kept (_commit), the rest are stale
        return _write_outputs_into(study, result, staged, searched)


#: the files :func:`write_outputs` (and the CLI's Pareto front and ranking check) put in an output folder
OUTPUT_FILES = (
    "trials.csv",
    "best.json",
    "best.toml",
    "history.png",
    "history.html",
    "importance.png",
    "importance.html",
    "plotly.min.js",
    "ranking_check.json",
    "pareto.csv",
)


def _written_by_tune(best_json: Path) -> bool:
    """True when ``best_json`` is the summary an earlier :func:`write_outputs` wrote (a JSON object naming
    the study, its storage and the best parameters)."""
    try:
        data = json.loads(best_json.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and {"study_name", "storage", "best_params"} <= set(data)


def _sqlite_tables(db: Path) -> list[str] | None:
    """The table names of the SQLite file ``db``, read without changing it; None when it is not a database."""
    import sqlite3

    try:
        with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as conn:
            return sorted(
                row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            )
    except sqlite3.Error:
        return None


def _results_study(out: Path, storage: str, study_name: str) -> tuple[str, str] | None:
    """The study (name, storage as best.json shows it) whose results ``out``'s best.json holds, when it is
    not ``study_name`` in ``storage`` (``"memory"`` or a URL); None when it is (a rerun or ``--resume``).

    A SQLite file named by a relative path is read as the earlier run read it: relative to the folder it
    ran in, which is where its trials.csv's path (recorded under ``files``) puts ``out``, so ``--out o``
    run from the folder above o and ``--out /abs/o`` run from elsewhere are the same study.db."""
    data = json.loads((out / "best.json").read_text(encoding="utf-8"))  # tune's (_written_by_tune)
    name, held = str(data["study_name"]), str(data["storage"])
    shown = shown_url(storage) if storage != "memory" else storage
    if name != study_name:
        return name, held
    if held == shown:
        return None
    old, new = sqlite_file(held), sqlite_file(shown)
    if old is not None and new is not None and not old.is_absolute():
        ran = Path(str((data.get("files") or {}).get("trials") or "")).parent  # out as that run named it
        if ran.parts and not ran.is_absolute() and ".." not in ran.parts:  # else: from here, as a guess
            old = out / Path(*[".."] * len(ran.parts)) / old
    if old is not None and new is not None and old.resolve() == new.resolve():
        return None
    return name, held


def other_results(out: str | Path, held: str, option: str = "--out") -> ConfigError:
    """The refusal of an output folder that holds another run's results (``held``: whose, in words), which
    this run would replace: ``--out o: holds results of study 'a' in sqlite:///o/study.db; pass --force to
    replace them or choose another --out``. Plain tune's (:func:`check_output_folder`) and nested tune's
    (:func:`movierec.nested_tuning.check_nested_folder`); ``option`` ``out=`` says ``force=True``."""
    force = "--force" if option.startswith("-") else "force=True"
    return ConfigError(
        f"{option} {out}: holds results of {held}; pass {force} to replace them or choose another {option}"
    )


def check_output_folder(
    out: str | Path | None,
    *,
    study_db: bool = False,
    option: str = "--out",
    study: tuple[str, str] | None = None,
    force: bool = False,
) -> None:
    """Refuse an output folder whose files tune would overwrite but did not write, before any trial runs.

    A rerun of the same study into its folder replaces that study's trials.csv, best.toml and charts (they
    are ours: its best.json says so), but ``--out ~/project`` whose own ``trials.csv`` or ``best.toml``
    share a name with ours was overwritten without a word at the end of the study. So were the results of
    another study (``study``: this run's storage URL and study name): ``--out o --study b`` beside study
    a's files, or ``--study low`` into the tuning/low a ``--storage`` run of another 'low' wrote, replaced
    a's best.toml and test score with b's; that is refused unless ``force`` (:func:`_results_study`). With
    ``study_db`` (the CLI's default storage, ``OUT/study.db``) a ``study.db`` there must be an Optuna
    database: Optuna wrote its tables into any other SQLite file of that name. ``out`` None: nothing to check.
    """
    if out is None or not Path(out).is_dir():
        return  # none, absent (created later) or a file (creating the folder fails in one line)
    out = Path(out)
    clash = [name for name in OUTPUT_FILES if (out / name).exists()]
    if clash and not _written_by_tune(out / "best.json"):
        raise ConfigError(
            f"{option} {out}: would overwrite {', '.join(clash)}, which tune did not write; "
            f"nothing was changed — choose another {option}"
        )
    if clash and study is not None and not force and (held := _results_study(out, *study)) is not None:
        name, storage = held
        cli = option.startswith("-")
        # the same name in another storage (--storage forgotten): its way on, without a second copy of the URL
        where = (
            f" ({'--storage' if cli else 'storage='} continues it)"
            if name == study[1] and storage != "memory"
            else ""
        )
        raise other_results(out, f"study {name!r} in {storage}{where}", option)
    db = out / "study.db"
    if study_db and db.exists() and (not db.is_file() or db.stat().st_size > 0):
        tables = _sqlite_tables(db) if db.is_file() else None
        if tables is None or "studies" not in tables:
            what = "not a database" if tables is None else f"tables: {', '.join(tables) or 'none'}"
            raise ConfigError(
                f"{option} {out}: its study.db is not an Optuna study database ({what}); nothing was changed — "
                f"choose another {option}, or --storage sqlite:///OTHER.db"
            )


def _write_outputs_into(
    study: Any, result: TuneResult, staged: Staged, searched: Iterable[str] = ()
) -> dict[str, str]:
    """:func:`write_outputs`'s files, written into ``staged.path``; the paths returned (and recorded in
    best.json) are where they will be in ``out``."""
    from movierec.experiment import dump_experiment, experiment_from_tuning

    out = staged.path
    files: dict[str, str] = {}
    if result.trials is None:
        result.trials = trials_table(study)
    table = result.trials
    table.to_csv(out / "trials.csv", index=False)
    files["trials"] = str(out / "trials.csv")
    if result.best_params:
        from movierec.datasets import reloadable

        header = (
            None
            if reloadable(str(result.settings.get("dataset") or "")) or result.settings.get("split_files")
            else "the data was given in memory (a DataFrame or Interactions), so this file cannot load it:\n"
            "set [dataset] name to a dataset name or a ratings file before using it with --config"
        )
        exp = experiment_from_tuning(result)
        toml = out / "best.toml"  # its split files relative to where it is moved to, as compare reads them
        files["best_toml"] = str(
            dump_experiment(exp, toml, header=header, read_from=staged.final(toml).parent)
        )
    seed = int(result.settings.get("split_seed", 0))
    importances = param_importances(study, seed=seed)
    fixed = result.settings.get("fixed_params") or {}
    # the parameters not every trial drew (conditional ones), which the shares above leave out
    apart = (
        conditional_importances(study, result.model, searched=searched, fixed=fixed, seed=seed)
        if importances
        else {}
    )
    files.update(_charts(table, importances, result, out, apart=apart))
    files = {key: str(staged.final(path)) for key, path in files.items()}
    from movierec.provenance import package_versions, provenance

    prov = provenance(str(result.settings.get("dataset")), str(result.settings.get("dataset_sha256")))
    prov["packages"].update(package_versions(("optuna", "sqlalchemy", "pydantic")))
    if result.settings.get("split_files"):  # tune --train --test: each file's path and sha256
        prov["split_files"] = result.settings["split_files"]
    summary = {
        **result.to_dict(),
        "param_importances": importances,
        "conditional_importances": apart,
        "files": files,
        "provenance": prov,
    }
    (out / "best.json").write_text(json.dumps(_jsonable(summary), indent=2) + "\n")
    files["best_json"] = str(staged.final(out / "best.json"))
    return files


def trials_table(study: Any) -> Any:
    """One row per trial (``to_frame()``, trials.csv): ``trial``, counted from 1 as the progress lines
    ('trial 1/4'), the repr ('best trial 1 of 4') and the charts' axis count; ``number``, Optuna's own
    (``trial - 1``), kept as it is so that a row joins Optuna's ``study.trials_dataframe()`` and its
    dashboard; then state, value, seconds, params (``params_*``) and fold scores."""
    import pandas as pd

    rows = []
    for t in study.get_trials(deepcopy=False):
        dur = (
            (t.datetime_complete - t.datetime_start).total_seconds()
            if t.datetime_complete and t.datetime_start
            else None
        )
        row: dict[str, Any] = {
            "trial": t.number + 1,
            "number": t.number,
            "state": t.state.name.lower(),
            "value": t.value,
            "seconds": dur,
        }
        row.update({f"params_{k}": v for k, v in t.params.items()})
        row["fold_scores"] = (
            json.dumps(t.user_attrs.get("fold_scores")) if "fold_scores" in t.user_attrs else None
        )
        row["last_step"] = max(t.intermediate_values) if t.intermediate_values else None
        row["last_reported"] = (
            t.intermediate_values[max(t.intermediate_values)] if t.intermediate_values else None
        )
        rows.append(row)
    return pd.DataFrame(rows)


def param_importances(study: Any, *, seed: int = 0) -> dict[str, float]:
    """fANOVA importances (Hutter et al. 2014) of the completed trials; empty when too few to tell."""
    optuna = _optuna()
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if len(complete) < 2:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
            imp = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except (RuntimeError, ValueError, ImportError, ZeroDivisionError) as exc:
        log.info("no parameter importances: %s", exc)
        return {}
    return {k: float(v) for k, v in imp.items()}


#: a conditional parameter drawn in fewer complete trials than this gets no share of variance of its own:
#: fANOVA's forest of a handful of points attributes noise (the shares over all trials need 2, where every
#: parameter varies in every trial)
CONDITIONAL_FLOOR = 5


def conditional_importances(
    study: Any,
    model: str,
    *,
    searched: Iterable[str] = (),
    fixed: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """The searched parameters :func:`param_importances` leaves out, each with what a reader needs instead.

    Optuna's fANOVA shares are over the parameters every complete trial has, and tune draws a parameter
    only where it acts (:func:`draw_acting`: itemknn's ``alpha`` only with the ``asymmetric`` similarity),
    so such a parameter vanished from importance.png and best.json without a word. Each one here (a name in
    ``searched``, the study's active space less ``fixed``, or drawn by some complete trial, that not every
    complete trial drew) maps to ``trials`` (how many complete trials drew it), ``of`` (how many complete
    trials there are), ``acts_only_with`` (its ``acts_when`` condition, as ``movierec models`` words it:
    ``"similarity 'asymmetric'"``; empty when the model declares none) and ``importance``: its fANOVA share
    of the variance among the trials that drew it (over the parameters all of those have), or None under
    :data:`CONDITIONAL_FLOOR` of them. That share is of another population than the shares over all the
    trials, so it is shown beside them, never among them."""
    from movierec.models.params import acts_when
    from movierec.models.registry import get_class

    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if len(complete) < 2:
        return {}
    fixed = dict(fixed or {})
    common = set.intersection(*(set(t.params) for t in complete))
    drawn = set().union(*(t.params for t in complete))
    names = [k for k in dict.fromkeys([*searched, *sorted(drawn)]) if k not in common and k not in fixed]
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        have = [t for t in complete if name in t.params]
        without = next(t for t in complete if name not in t.params)
        cls = get_class(split_model_params(model, {**fixed, **without.params})[0])
        cond = acts_when(cls).get(name)
        out[name] = {
            "trials": len(have),
            "of": len(complete),
            "acts_only_with": cond.describe() if cond is not None else "",
            "importance": _share_where_drawn(study, name, have, seed)
            if len(have) >= CONDITIONAL_FLOOR
            else None,
        }
    return out


def _share_where_drawn(study: Any, name: str, have: list[Any], seed: int) -> float | None:
    """``name``'s fANOVA share among the complete trials ``have`` that drew it: Optuna's importances over
    the parameters they all have keep exactly those trials (its ``params=`` filter)."""
    optuna = _optuna()
    params = sorted(set.intersection(*(set(t.params) for t in have)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
            imp = optuna.importance.get_param_importances(study, evaluator=evaluator, params=params)
    except (RuntimeError, ValueError, ImportError, ZeroDivisionError) as exc:
        log.info("no importance for %s among the trials that drew it: %s", name, exc)
        return None
    return float(imp[name]) if name in imp else None


def conditional_words(name: str, info: Mapping[str, Any]) -> str:
    """One line for a parameter :func:`conditional_importances` describes: ``"alpha: drawn in 3 of 12
    trials (acts only with similarity 'asymmetric'); too few for a share of its own (under 5)"``, or
    ``"…; 0.41 of the variance among those 7"``."""
    why = f" (acts only with {info['acts_only_with']})" if info["acts_only_with"] else ""
    n = int(info["trials"])
    if info["importance"] is not None:
        share = f"{info['importance']:.2f} of the variance among those {n}"
    elif n >= CONDITIONAL_FLOOR:
        share = "no share of its own could be computed"
    else:
        share = f"too few for a share of its own (under {CONDITIONAL_FLOOR})"
    return f"{name}: drawn in {n} of {_trials(int(info['of']))}{why}; {share}"


def _history_figure(table: Any, result: TuneResult, title: str) -> Any:
    """history.png's matplotlib Figure: each complete trial's validation value, pruned ones at their last
    reported value, and the best so far. Trials are counted from 1, as the progress line ('4/50'), the
    repr ('trial 1 of 4') and history.html (:func:`movierec.viz.comparison.tuning_figure`) count them;
    trials.csv's ``trial`` column; its ``number`` is Optuna's, one less. Needs matplotlib (the caller checks)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    done = table[table["state"] == "complete"] if len(table) else table
    pruned = table[(table["state"] == "pruned") & table["last_reported"].notna()] if len(table) else table
    xs = done["number"].to_numpy() + 1 if len(done) else np.array([])
    ys = done["value"].to_numpy(dtype=float) if len(done) else np.array([])
    minimise = result.direction == "minimize"
    best = (np.minimum.accumulate(ys) if minimise else np.maximum.accumulate(ys)) if len(ys) else ys
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(xs, ys, s=18, alpha=0.7, label="complete trial")
    if len(pruned):
        ax.scatter(
            pruned["number"] + 1,
            pruned["last_reported"],
            s=18,
            marker="x",
            color="0.6",
            label="pruned (last reported value)",
        )
    ax.step(xs, best, where="post", color="C3", label="best so far")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("trial")
    ax.set_ylabel(f"{result.metric} (validation, mean over folds)")
    ax.set_title(title)
    ax.legend()
    return fig


def _importance_bars(
    importances: Mapping[str, float], apart: Mapping[str, Mapping[str, Any]]
) -> tuple[list[tuple[str, float, bool]], list[str]]:
    """The importance chart's bars, bottom to top (label, share, whether it is a share among the trials
    that drew a conditional parameter), and its notes, one per conditional parameter
    (:func:`conditional_words`)."""
    shared = [(name, value, False) for name, value in importances.items()]
    own = [
        (f"{name} (in {info['trials']} of {info['of']})", float(info["importance"]), True)
        for name, info in apart.items()
        if info["importance"] is not None
    ]
    return (shared + own)[::-1], [conditional_words(name, info) for name, info in apart.items()]


def _importance_png(
    importances: Mapping[str, float], apart: Mapping[str, Mapping[str, Any]], result: TuneResult, out: Path
) -> None:
    """importance.png: the shares over all complete trials, a conditional parameter's share among the trials
    that drew it apart (hatched, another colour), and a note under the chart for each conditional one."""
    import textwrap

    import matplotlib.pyplot as plt

    bars, notes = _importance_bars(importances, apart)
    fig, ax = plt.subplots(figsize=(6, 0.5 * len(bars) + 1.5))
    for own, label in (
        (False, f"share of the variance over all {_trials(result.n_complete)}"),
        (True, "share among only the trials that drew it"),
    ):  # by position, bottom to top: a conditional parameter's bar below the shares over all trials
        picked = [(y, value) for y, (_, value, is_own) in enumerate(bars) if is_own == own]
        if picked:
            ax.barh(
                [y for y, _ in picked],
                [value for _, value in picked],
                color="C1" if own else "C0",
                hatch="//" if own else None,
                label=label,
            )
    ax.set_yticks(range(len(bars)), [name for name, _, _ in bars])
    ax.set_xlabel("importance (fANOVA, share of variance)")
    ax.set_title(f"{result.model}: hyperparameter importance")
    if notes:
        ax.legend(loc="lower right", fontsize=8)
        text = "\n".join(textwrap.fill(note, 95, subsequent_indent="    ") for note in notes)
        fig.text(
            0.0,
            -0.02,
            f"not drawn in every trial, so not among the shares over all trials:\n{text}",
            ha="left",
            va="top",
            fontsize=8,
        )
    from movierec.viz.charts import save

    save(fig, out / "importance.png")  # the report's charts' way: palette PNG, drawn once, written atomically


def _importance_html(
    importances: Mapping[str, float], apart: Mapping[str, Mapping[str, Any]], result: TuneResult, out: Path
) -> None:
    """importance.html: :func:`_importance_png`'s bars and notes as a plotly chart."""
    import html

    import plotly.graph_objects as go

    bars, notes = _importance_bars(importances, apart)
    fig = go.Figure()
    for own, label in (
        (False, f"share of the variance over all {_trials(result.n_complete)}"),
        (True, "share among only the trials that drew it"),
    ):
        picked = [(name, value) for name, value, is_own in bars if is_own == own]
        if picked:
            fig.add_trace(
                go.Bar(
                    x=[value for _, value in picked],
                    y=[name for name, _ in picked],
                    orientation="h",
                    name=label,
                    marker_pattern_shape="/" if own else "",
                )
            )
    fig.update_layout(
        title=f"{result.model}: hyperparameter importance (fANOVA)",
        xaxis_title="importance",
        showlegend=bool(notes),
        yaxis={"categoryorder": "array", "categoryarray": [name for name, _, _ in bars]},
    )
    if notes:
        lines = ["not drawn in every trial, so not among the shares over all trials:", *notes]
        fig.add_annotation(
            text="<br>".join(html.escape(line, quote=False) for line in lines),
            xref="paper",
            yref="paper",
            x=0,
            y=-0.25,
            xanchor="left",
            yanchor="top",
            align="left",
            showarrow=False,
        )
        fig.update_layout(margin={"b": 120 + 18 * len(lines)})
    fig.write_html(out / "importance.html", include_plotlyjs="directory", full_html=True)


def _charts(
    table: Any,
    importances: dict[str, float],
    result: TuneResult,
    out: Path,
    *,
    apart: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, str]:
    """Optimisation history and parameter importances as PNG (matplotlib) and offline HTML (plotly);
    ``apart``: the conditional parameters' notes and shares (:func:`conditional_importances`)."""
    apart = apart or {}
    files: dict[str, str] = {}
    title = f"{result.model}: {result.metric} by trial ({result.study_name})"
    from movierec.viz.charts import pyplot, save

    try:  # the report's chart style (and Agg) before either figure is made, so both are drawn alike
        plt = pyplot()
    except ConfigError:
        plt = None  # matplotlib is an extra: the plot is skipped without it
    if plt is not None:
        save(_history_figure(table, result, title), out / "history.png")
        files["history_png"] = str(out / "history.png")
        if importances:
            _importance_png(importances, apart, result, out)
            files["importance_png"] = str(out / "importance.png")
    try:
        import plotly.graph_objects  # noqa: F401  # the extra: without it, no HTML charts

        from movierec.viz.comparison import tuning_figure

        fig = tuning_figure(result)  # the chart TuneResult.plot() shows in a notebook
    except (ModuleNotFoundError, ConfigError):  # plotly is an extra; no trial, no chart
        return files
    fig.update_layout(title={"text": title})
    fig.write_html(out / "history.html", include_plotlyjs="directory", full_html=True)
    files["history_html"] = str(out / "history.html")
    if importances:
        _importance_html(importances, apart, result, out)
        files["importance_html"] = str(out / "importance.html")
    return files
