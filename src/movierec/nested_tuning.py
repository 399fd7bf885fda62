"""Nested cross-validation of a tuning procedure: ``K`` outer folds, one :func:`movierec.tuning.tune`
study per fold on that fold's training part only, its best parameters refit there and scored once on
the fold's test part; then the mean, spread and a 95% interval of those test scores.

What it estimates is the *procedure* ("svd tuned by 50 TPE trials on 3 inner folds"), not one set of
parameters: each fold's study may pick other ones. Parameters to use come from one ``tune`` on all the
data (its best.toml). Each fold runs :func:`~movierec.tuning.tune` with ``holdout=(train, test)``, the
one tuning path, so the test part of a fold is never read during that fold's study.
"""

from __future__ import annotations

import hashlib
import json
import math
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from movierec.errors import ConfigError
from movierec.interactions import Interactions
from movierec.jsonsafe import to_jsonable

__all__ = ["NestedTuneResult", "nested_tune", "write_nested_outputs"]

#: the files :func:`write_nested_outputs` puts in an output folder (nested.json last: it marks it complete)
NESTED_FILES = ("nested_folds.csv", "nested_trials.csv", "nested.json")

#: tune()'s keywords that mean nothing under nested cross-validation, and why (one line each)
_NOT_NESTED = {
    "holdout": "the outer folds are the hold-outs; give your own as outer_folds=[(train, test), ...]",
    "validation": "each fold's study cuts its inner folds (cv=) from that fold's training part",
    "test_size": "each of K outer folds holds out 1/K of the data (outer_folds=K)",
    "storage": "each fold's study is kept in memory (a stored study cannot be resumed across folds)",
    "study_name": "each fold's study is named MODEL-METRIC-foldF",
    "resume": "nested studies are not stored, so there is nothing to resume",
    "worker": "nested studies are not stored, so no other process can share them",
    "evaluate_test": "every outer fold's test part is scored once: that is the estimate",
    "on_start": "on_fold= is called before each fold's study",
}


@dataclass
class NestedTuneResult:
    """Per outer fold: the study's best params and validation value, the test score of those params
    refit on the fold's training part; over the folds: the mean, std and a 95% interval of the test score.

    ``std`` is ``np.std`` over the folds (ddof 0, as Surprise's ``cross_validate`` and ``compare``'s
    ``*_std``); ``interval`` is mean ± t(0.975, K-1)·s/√K with the sample std s. The folds' training
    parts overlap, so their scores are not independent and the interval is narrower than the truth
    (Bengio & Grandvalet 2004: no unbiased estimator of K-fold CV's variance exists); read it as a floor.
    """

    model: str
    metric: str
    direction: str
    outer: str  #: how the outer folds were made (the splitter's description)
    settings: dict[str, Any]
    folds: list[dict[str, Any]]  #: one row per outer fold (see :meth:`to_frame`)
    seconds: float = 0.0
    files: dict[str, str] = field(default_factory=dict)
    #: each fold's :class:`~movierec.tuning.TuneResult` (its trials table included)
    studies: list[Any] = field(default_factory=list, repr=False, compare=False)
    #: the outer ``(train, test)`` folds, in fold order: to score something else (the defaults, a
    #: blend of the tuned params, another model) on exactly the folds the estimate was made on
    splits: list[tuple[Interactions, Interactions]] = field(default_factory=list, repr=False, compare=False)

    @property
    def test_scores(self) -> list[float]:
        """The outer folds' test scores (folds whose study completed no trial are left out)."""
        return [float(r["test"]) for r in self.folds if r["test"] is not None]

    @property
    def mean(self) -> float | None:
        scores = self.test_scores
        return float(np.mean(scores)) if scores else None

    @property
    def std(self) -> float | None:
        scores = self.test_scores
        return float(np.std(scores)) if scores else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% t-interval of the mean test score (None with fewer than two scored folds)."""
        scores = self.test_scores
        if len(scores) < 2:
            return None
        from scipy import stats

        half = float(stats.t.ppf(0.975, len(scores) - 1) * np.std(scores, ddof=1) / math.sqrt(len(scores)))
        return self.mean - half, self.mean + half  # type: ignore[operator]

    def summary(self) -> str:
        """``test rmse 0.8712 ± 0.0051 (mean ± std of 5 folds; 95% CI 0.8650–0.8774)``: under 80 columns."""
        if self.mean is None:
            return f"test {self.metric}: no outer fold completed a trial"
        ci = self.interval
        within = f"; 95% CI {ci[0]:.4f}–{ci[1]:.4f}" if ci else ""
        n = len(self.test_scores)
        return f"test {self.metric} {self.mean:.4f} ± {self.std:.4f} (mean ± std of {n} folds{within})"

    def to_frame(self) -> Any:
        """One row per outer fold: ``fold, seed, n_train, n_test, validation, test, n_complete, n_pruned,
        defaults_validation, seconds`` and the fold's best parameters as ``params_*`` (a DataFrame)."""
        import pandas as pd

        rows = []
        for r in self.folds:
            row = {k: v for k, v in r.items() if k != "best_params"}
            row.update({f"params_{k}": v for k, v in r["best_params"].items()})
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        ci = self.interval
        return to_jsonable(
            {
                "model": self.model,
                "metric": self.metric,
                "direction": self.direction,
                "outer": self.outer,
                "test_mean": self.mean,
                "test_std": self.std,
                "test_interval95": list(ci) if ci else None,
                "folds": self.folds,
                "settings": self.settings,
                "seconds": self.seconds,
                "files": self.files,
                "estimates": ESTIMATES,
            }
        )

    def _repr_html_(self) -> str:
        from movierec.display import nested_tune_html

        return nested_tune_html(self, plan_words(self.settings))

    def __repr__(self) -> str:
        from movierec.display import call_text

        # the plan breaks after its comma, under the parenthesis ('one 20%' / 'validation split' split it)
        head = call_text(
            "NestedTuneResult", [f"{self.model!r} for {self.metric}: {plan_words(self.settings)}"]
        )
        lines = [head, *textwrap.wrap(self.summary(), 80), fold_table(self.folds)]
        lines += params_lines(self.folds)
        return "\n".join(lines)


#: what the estimate means, in best.json's and the output's words
ESTIMATES = (
    "the tuning procedure (model, trials, inner folds), not one set of parameters: "
    "each outer fold's study chose its own; for parameters to use, tune on all the data"
)


def plan_words(settings: Mapping[str, Any]) -> str:
    """``5 outer folds × 10 trials, 3 inner folds``: the plan line's words."""
    k, n, cv = settings["outer_folds"], settings["n_trials"], settings["cv"]
    inner = "one 20% validation split" if cv == 1 else f"{cv} inner folds"
    return f"{k} outer folds × {n} trial{'s' if n != 1 else ''}, {inner}"


def _num(value: Any) -> str:
    return "–" if value is None else f"{value:.4f}"


def fold_table(folds: Sequence[Mapping[str, Any]]) -> str:
    """The per-fold table as text, 80 columns at most: fold, ratings, validation and test, trials. Its
    headers are :meth:`NestedTuneResult.to_frame`'s column names, one each: ``n_test`` is the test part's
    size and ``test`` its score."""
    head = (
        f"{'fold':>4}  {'n_train':>9}  {'n_test':>8}  {'validation':>10}  {'test':>8}  {'n_complete':>10}  "
        f"{'n_pruned':>8}"
    )
    rows = [head]
    for r in folds:
        rows.append(
            f"{r['fold']:>4}  {r['n_train']:>9,}  {r['n_test']:>8,}  {_num(r['validation']):>10}  "
            f"{_num(r['test']):>8}  {r['n_complete']:>10}  {r['n_pruned']:>8}"
        )
    return "\n".join(rows)


def params_lines(folds: Sequence[Mapping[str, Any]]) -> list[str]:
    """``fold 1: factors=64, lr=0.0081`` per fold, wrapped at 80 columns."""
    out: list[str] = []
    for r in folds:
        shown = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in r["best_params"].items()
        )
        out += textwrap.wrap(f"fold {r['fold']}: {shown or 'no complete trial'}", 80, subsequent_indent="  ")
    return out


def _refuse(other: Mapping[str, Any]) -> None:
    """A keyword nested_tune does not take, in one line: tune's own that mean nothing here say why."""
    for key in other:
        if key in _NOT_NESTED:
            raise ConfigError(f"nested_tune() takes no {key}=: {_NOT_NESTED[key]}")
        from movierec.errors import did_you_mean
        from movierec.tuning import keyword_names

        valid = [k for k in [*keyword_names(), "outer_folds", "on_fold"] if k not in _NOT_NESTED]
        raise ConfigError(
            f"nested_tune() has no keyword {key!r}{did_you_mean(key, valid)}; valid: {', '.join(valid)}"
        )


def outer_splits(
    outer_folds: int | Sequence[tuple[Interactions, Interactions]],
    inter: Interactions,
    *,
    seed: int,
    threshold: float,
    positives: bool,
) -> tuple[str, list[tuple[Interactions, Interactions]]]:
    """The outer ``(train, test)`` folds and their description: :class:`movierec.split.KFold`, compare's
    ``--cv`` splitter, over the ratings, or over the positives (ratings ≥ ``threshold``) when
    ``positives`` (a model that trains on positives, scored by a ranking metric: compare's
    interactions-holdout); or the caller's own pairs."""
    from movierec.split import KFold

    if isinstance(outer_folds, bool) or not isinstance(outer_folds, (int, np.integer, list, tuple)):
        raise ConfigError(
            f"outer_folds must be a whole number ≥ 2 or a list of (train, test) pairs, got {outer_folds!r}"
        )
    if isinstance(outer_folds, (int, np.integer)):
        if outer_folds < 2:
            raise ConfigError(f"outer_folds must be ≥ 2 (one hold-out is tune() itself), got {outer_folds}")
        splitter = KFold(int(outer_folds), seed, threshold if positives else None)
        return splitter.description, list(splitter.split(inter))
    pairs = list(outer_folds)
    ok = all(
        isinstance(p, tuple) and len(p) == 2 and all(isinstance(x, Interactions) for x in p) for p in pairs
    )
    if not ok or len(pairs) < 2:
        raise ConfigError("outer_folds: give at least two (train, test) pairs of Interactions, or a number")
    return f"{len(pairs)} given folds", pairs


def nested_tune(
    dataset: Any,
    model: str,
    *,
    outer_folds: int | Sequence[tuple[Interactions, Interactions]] = 5,
    metric: str = "rmse",
    n_trials: int = 50,
    cv: int = 3,
    seed: int = 42,
    threshold: float | None = None,
    timeout: float | None = None,
    n_jobs: int = 1,
    fixed_params: Mapping[str, Any] | None = None,
    item_features: str | list[str] | None = None,
    user_features: Any = None,
    early_stopping: Any = None,
    progress: Callable[[dict[str, Any]], None] | bool | None = None,
    on_fold: Callable[[dict[str, Any]], None] | None = None,
    out: str | Path | None = None,
    force: bool = False,
    **other: Any,
) -> NestedTuneResult:
    """Nested cross-validation of ``tune(dataset, model, ...)``: an honest estimate of how well the model
    does when tuned this way, on data the tuning never saw.

    ``outer_folds=K`` cuts K folds with Surprise's KFold (seed ``seed``): over the ratings, or over the
    positives (ratings ≥ ``threshold``) for a model that trains on positives scored by a ranking metric,
    as compare's ``cv`` does (an explicit model keeps every rating: svd ranked by ndcg@10 still learns
    from its 1-star ratings). A list of ``(train, test)`` pairs gives the folds instead. For each fold
    ``f`` (counted from 0) one study runs :func:`movierec.tuning.tune` on its training part with
    ``holdout=(train, test)`` and ``seed + f`` (its inner folds and sampler: deterministic, and not the
    same draws in every fold); its best params are refit on the training part and scored once on the
    test part. Every other keyword is tune's (``metric``, ``n_trials``, ``cv``, ``threshold``,
    ``timeout`` per study, ``n_jobs``, ``fixed_params``, ``item_features``, ``user_features``,
    ``early_stopping``); tune's ``holdout``, ``test_size``, ``storage``, ``resume`` … are refused with
    the reason. ``progress`` as in tune (lines: one per outer fold, then tune's own); a callable gets
    tune's dict with ``fold`` added. ``on_fold`` is called before each study (``fold``, ``n_folds``,
    ``n_train``, ``n_test``, ``seed``, ``outer``, ``settings``). With ``out``: nested.json, nested_folds.csv
    and nested_trials.csv (:func:`write_nested_outputs`), no best.toml: no one parameter set is the answer;
    another nested run's results there are refused before a study unless ``force`` (:func:`check_nested_folder`).
    The result keeps the outer folds (``splits``), so a comparison (the defaults, a blend of each fold's
    tuned params) is scored on the same folds, not on folds cut again by hand.

    Two outer folds of two quick trials::

        from movierec.nested_tuning import nested_tune

        res = nested_tune("ml-latest-small", "svd", outer_folds=2, n_trials=2, cv=2,
                          fixed_params={"epochs": 5})
        res.mean, res.std, res.to_frame()
    """
    from movierec.tuning import check_request

    _refuse(other)
    req = check_request(model, metric=metric, n_trials=n_trials, cv=cv, timeout=timeout, n_jobs=n_jobs,
                        test_size=None, threshold=threshold, seed=seed, item_features=item_features,
                        user_features=user_features, early_stopping=early_stopping,
                        fixed_params=fixed_params)  # fmt: skip  # every option, before the data
    if out is not None:
        check_nested_folder(out, option="out=")
    given = not isinstance(outer_folds, (int, np.integer))
    data, inter, ref, sha = _data(dataset, list(outer_folds) if given else None)  # type: ignore[arg-type]
    _check_user_features(user_features, data, inter)
    from movierec.interactions import resolve_threshold
    from movierec.models.registry import model_kind

    threshold = resolve_threshold(inter, threshold)
    positives = req.metric.kind != "rating" and model_kind(req.model) == "implicit"
    outer, pairs = outer_splits(outer_folds, inter, seed=seed, threshold=threshold, positives=positives)
    base = inter.n_ratings if not positives else int((inter.ratings >= threshold).sum())
    settings: dict[str, Any] = {
        "dataset": ref, "dataset_sha256": sha, "outer_folds": len(pairs), "outer": outer,
        "n_trials": int(n_trials), "cv": int(cv), "seed": int(seed), "threshold": threshold,
        "fixed_params": to_jsonable(dict(fixed_params or {})), "timeout": timeout,
        **_features(req.settings, item_features=item_features, early_stopping=early_stopping),
    }  # fmt: skip
    if out is not None:  # another run's results there: refused before the plan line, its settings now known
        check_nested_folder(out, option="out=", run=(req.model, req.metric.label, settings), force=force)
    from movierec.tuning import _say, _wrapped, print_trial, trial_progress

    report = trial_progress(progress)
    lines = report is print_trial  # tune's own lines then, with one per outer fold before them
    # wrapped as tune's start line is (balanced on a terminal, whole in a notebook): 81 columns and more
    # ran past a terminal of 80, which broke it mid-word
    plan = f"nested cross-validation of {req.model} for {req.metric.label}: {plan_words(settings)}"
    _say(lines, _wrapped(plan))
    _say(lines, f"outer folds: {outer}")
    result = NestedTuneResult(req.model, req.metric.label, req.metric.direction, outer, settings, [])
    result.splits = pairs
    t0 = time.perf_counter()
    tune_kw = dict(fixed_params=fixed_params, user_features=user_features, metric=req.metric.label,
                   n_trials=n_trials, cv=cv, timeout=timeout, n_jobs=n_jobs, threshold=threshold,
                   item_features=item_features, early_stopping=early_stopping)  # fmt: skip
    sizes = None if given else base  # a given fold's test part is not touched before its study ends
    _run_folds(result, data, pairs, sizes, report if not lines else True, on_fold, tune_kw)
    result.seconds = round(time.perf_counter() - t0, 3)
    _say(lines, result.summary())
    if out is not None:
        result.files = write_nested_outputs(result, Path(out))
    return result


def _features(study: Mapping[str, Any], **given: Any) -> dict[str, Any]:
    """The side settings nested.json records: ``given`` ones that are set (item features, early stopping),
    and the user features as each fold's study records them (``study``: its settings; a file by its
    absolute path)."""
    shown = {key: to_jsonable(value) for key, value in given.items() if value is not None}
    return {**shown, "user_features": study["user_features"]} if "user_features" in study else shown


def _run_folds(
    result: NestedTuneResult,
    data: Any,
    pairs: list[tuple[Interactions, Interactions]],
    base: int | None,
    report: Callable[[dict[str, Any]], None] | bool | None,
    on_fold: Callable[[dict[str, Any]], None] | None,
    tune_kw: dict[str, Any],
) -> None:
    """One :func:`movierec.tuning.tune` study per outer fold, seeded ``seed + f``, its row and result kept
    in ``result``. ``base``: the ratings the folds were cut from (the held-out count said before each
    study), None for given folds, whose test parts are not read, not even for their size, before their
    study ends. ``report`` True: the lines (one per fold, then tune's)."""
    from movierec.tuning import _say, tune

    lines = report is True
    for f, (train, test) in enumerate(pairs):
        fold_seed = (int(result.settings["seed"]) + f) % 2**32
        n_test = None if base is None else base - train.n_ratings
        info = {"fold": f + 1, "n_folds": len(pairs), "n_train": train.n_ratings, "n_test": n_test,
                "seed": fold_seed}  # fmt: skip
        if on_fold is not None:
            on_fold({**info, "outer": result.outer, "settings": result.settings})
        held = "" if n_test is None else f", {n_test:,} held out"
        _say(
            lines,
            f"outer fold {f + 1}/{len(pairs)}: {train.n_ratings:,} training ratings{held} (seed {fold_seed})",
        )
        progress = True if lines else _with_fold(report, f + 1)  # type: ignore[arg-type]
        res = tune(data, result.model, holdout=(train, test), progress=progress, seed=fold_seed,
                   study_name=f"{result.model}-{result.metric}-fold{f + 1}", **tune_kw)  # fmt: skip
        result.studies.append(res)
        result.folds.append(_fold_row({**info, "n_test": test.n_ratings}, res))


def _data(
    dataset: Any, given: list[tuple[Interactions, Interactions]] | None
) -> tuple[Any, Interactions, str, str]:
    """``(dataset to hand each study, interactions, reference, sha256)``; a name or path is loaded once
    here, not once per fold. With given folds and no dataset, the folds' training parts stand for it
    (their test parts are not read before their studies)."""
    from movierec.tuning import _dataset_parts

    if isinstance(dataset, (str, Path)):
        from movierec.datasets import load

        dataset = load(dataset)
    if dataset is None and given:
        if not all(isinstance(p, tuple) and p and isinstance(p[0], Interactions) for p in given):
            raise ConfigError(
                "outer_folds: give at least two (train, test) pairs of Interactions, or a number"
            )
        h = hashlib.sha256()
        for arr in (a for train, _ in given for a in (train.users, train.items, train.ratings)):
            h.update(np.ascontiguousarray(arr).tobytes())
        return None, given[0][0], "<folds>", h.hexdigest()
    if dataset is None:
        raise ConfigError(
            "nested_tune() needs a dataset, or its own folds as outer_folds=[(train, test), ...]"
        )
    inter, ref, sha = _dataset_parts(dataset)
    return dataset, inter, ref, sha


def _check_user_features(spec: Any, data: Any, inter: Interactions) -> None:
    """A ``user_features`` spec the data cannot give (``"demographics"`` on ml-latest-small, which has no
    users file; a features file that does not read) is one line before the plan is said, not after it and
    fold 1's first lines, where each fold's :func:`~movierec.tuning.tune` would find it. Built once for
    the whole data here (cheap: a users table or a small CSV) and thrown away; each study builds its own."""
    if isinstance(spec, str) and spec.strip():
        from movierec.demographics import resolve_user_features

        resolve_user_features(spec, data, inter)


def _with_fold(
    report: Callable[[dict[str, Any]], None] | None, fold: int
) -> Callable[[dict[str, Any]], None] | bool:
    """tune's progress for fold ``fold``: the caller's callable, told which fold each trial is of."""
    if report is None:
        return False
    return lambda event: report({**event, "fold": fold})


def _fold_row(info: Mapping[str, Any], res: Any) -> dict[str, Any]:
    return {
        **info,
        "validation": res.best_value,
        "test": res.test_score,
        "n_complete": res.n_complete,
        "n_pruned": res.n_pruned,
        "defaults_validation": res.defaults_value,
        "seconds": res.seconds,
        "best_params": dict(res.best_params),
    }


def check_nested_folder(
    out: str | Path,
    *,
    option: str = "--out",
    run: tuple[str, str, Mapping[str, Any]] | None = None,
    force: bool = False,
) -> None:
    """Refuse an output folder with files of our names that an earlier nested run did not write; with
    ``run`` (this run's model, metric and settings, before its first study), also one holding another
    nested run's results.

    Nested runs are not resumed: each writes its three files anew, so ``--outer-folds 2 --out o`` of
    baseline for rmse followed by one of ease for ndcg@10 (or the same model with another seed, trial
    count or data, as into the default tuning/MODEL-METRIC-nested) replaced the first estimate without a
    word. Now that is refused unless ``force``, in plain tune's words (:func:`movierec.tuning.other_results`);
    the same run again (every setting of :data:`_SAME_RUN` equal) reproduces its results and goes on.
    Plain tune's files in the same folder have other names and are neither read nor touched here."""
    out = Path(out)
    if not out.is_dir():
        return
    clash = [name for name in NESTED_FILES if (out / name).exists()]
    held = _ours(out / "nested.json") if clash else None
    if clash and held is None:
        raise ConfigError(
            f"{option} {out}: would overwrite {', '.join(clash)}, which tune did not write; "
            f"nothing was changed — choose another {option}"
        )
    if held is not None and run is not None and not force and (differ := _differs(held, run)) is not None:
        from movierec.tuning import other_results

        whose = f"nested tuning of {held.get('model')} for {held.get('metric')}"  # the card's title
        line = other_results(out, f"{whose}{differ}", option)
        raise line if len(f"movierec: error: {line}") <= 160 else other_results(out, whose, option)


#: the settings that make two nested runs the same run (``dataset`` is a name or path; its sha256 decides)
_SAME_RUN = {
    "dataset_sha256": "",
    "outer_folds": "outer folds",
    "n_trials": "trials",
    "cv": "cv",
    "seed": "seed",
    "threshold": "threshold",
    "fixed_params": "params",
    "timeout": "timeout",
    "item_features": "item features",
    "early_stopping": "early stopping",
    "user_features": "user features",
}


def _differs(held: Mapping[str, Any], run: tuple[str, str, Mapping[str, Any]]) -> str | None:
    """None when ``held`` (an earlier nested.json) is ``run``'s results (its model, metric and every setting
    of :data:`_SAME_RUN`); else how the earlier run differed, in words: ``""`` for another model or metric
    (the refusal names them), `` on other data``, `` with seed 42, trials 2`` (the earlier values)."""
    old = held.get("settings") or {}
    new = to_jsonable(dict(run[2]))
    changed = [key for key in _SAME_RUN if old.get(key) != new.get(key)]
    if (held.get("model"), held.get("metric")) != run[:2]:
        return ""
    if not changed:
        return None
    data = " on other data" if "dataset_sha256" in changed else ""
    shown = [_value(_SAME_RUN[key], old.get(key)) for key in changed if key != "dataset_sha256"]
    return data + (f" with {', '.join(shown)}" if shown else "")


def _value(name: str, value: Any) -> str:
    """A setting as the refusal shows it: ``seed 42``, ``params epochs=5,factors=8``, ``no timeout``."""
    if isinstance(value, Mapping):
        value = ",".join(f"{k}={v}" for k, v in value.items())
    return f"no {name}" if value is None or value == "" else f"{name} {value}"


def _ours(path: Path) -> dict[str, Any] | None:
    """An earlier nested run's nested.json, read; None when the file is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) and {"outer", "folds", "estimates"} <= set(data) else None


def write_nested_outputs(result: NestedTuneResult, out: Path, *, named: bool = True) -> dict[str, str]:
    """nested_folds.csv (one row per outer fold), nested_trials.csv (every study's trials, with a
    ``fold`` column) and nested.json (the result, each fold's study, provenance), staged and moved into
    ``out`` together (nested.json last). No best.toml: nested CV estimates the procedure. ``named``:
    whether the person named ``out`` (the CLI's --out), else a failed write's line does not quote it."""
    import pandas as pd

    from movierec.output_folders import OUT, staged_output
    from movierec.provenance import package_versions, provenance

    with staged_output(Path(out), last=("nested.json",), option=OUT, named=named) as staged:
        files = {"folds": staged.path / "nested_folds.csv", "trials": staged.path / "nested_trials.csv"}
        result.to_frame().to_csv(files["folds"], index=False)
        tables = [t.trials.assign(fold=i + 1) for i, t in enumerate(result.studies) if t.trials is not None]
        trials = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
        trials = trials[["fold", *[c for c in trials.columns if c != "fold"]]] if len(trials) else trials
        trials.to_csv(files["trials"], index=False)
        shown = {k: str(staged.final(p)) for k, p in files.items()}
        shown["json"] = str(staged.final(staged.path / "nested.json"))
        result.files = shown
        prov = provenance(str(result.settings.get("dataset")), str(result.settings.get("dataset_sha256")))
        prov["packages"].update(package_versions(("optuna", "sqlalchemy")))
        studies = [{k: v for k, v in s.to_dict().items() if k != "files"} for s in result.studies]
        doc = {**result.to_dict(), "studies": studies, "provenance": prov}
        (staged.path / "nested.json").write_text(json.dumps(to_jsonable(doc), indent=2) + "\n")
    return shown
