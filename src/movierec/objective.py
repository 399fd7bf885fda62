"""Weighted tuning objectives over accuracy and beyond-accuracy metrics, and the Pareto front of two of them.

``tune --metric 'ndcg@10-0.1*arp@10'`` maximises NDCG@10 − 0.1 × ARP@10 on validation folds (ARP as
a share of users, docs/beyond-accuracy.md); every term's validation value is kept on the trial, so
``tune --pareto ndcg@10,arp@10`` can report the trials no other trial beats on both.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from movierec import beyond as B
from movierec.errors import ConfigError, Doors, did_you_mean
from movierec.metrics import ERROR_METRICS, metric_name
from movierec.models.base import Recommender

__all__ = [
    "Objective",
    "attach_genres",
    "check_vectors",
    "is_objective",
    "maximise",
    "pareto_front",
    "parse_objective",
]

#: the accuracy metrics a term can be, named as :func:`movierec.metrics.metric_name` reads them (``hr@10`` is
#: ``hit_rate@10`` here as in ``--metric``), each the key of the full-ranking protocol's result at K
ACCURACY = ("ndcg", "recall", "precision", "map", "hit_rate")
BEYOND = ("ild_genres", "ild_vectors", "arp", "aplt", "calibration_kl", "unexpectedness", "serendipity")
_NEEDS_GENRES = ("ild_genres", "calibration_kl")
_TERM = re.compile(r"\s*([+-])?\s*(?:(\d*\.?\d+(?:e-?\d+)?)\s*\*\s*)?([a-z_]+)@(\d+)\s*")


def is_objective(text: str) -> bool:
    """Whether a ``--metric`` text is a weighted objective (it has ``+``, ``-`` or ``*``)."""
    return any(c in str(text) for c in "+-*")


def maximise(metric: str) -> bool:
    """Whether more is better for a term name (``ndcg@10`` yes, ``arp@10`` no)."""
    return metric.split("@", 1)[0] not in B.LOWER_IS_BETTER


@dataclass
class Objective:
    """Σ weight × metric@K over full-ranking validation lists; maximised.

    ``terms``: ``(weight, "ndcg@10")`` pairs, all at the same K; ``genres`` (items × genres) is
    attached by ``tune`` for genre terms.
    """

    terms: tuple[tuple[float, str], ...]
    k: int
    genres: Any = field(default=None, repr=False, compare=False)
    name: str = "objective"
    _local: threading.local = field(default_factory=threading.local, repr=False, compare=False)

    @property
    def kind(self) -> str:
        return "ranking"

    @property
    def direction(self) -> str:
        return "maximize"

    @property
    def label(self) -> str:
        text = ""
        for w, m in self.terms:
            sign = "-" if w < 0 else "+"
            mag = abs(w)
            part = m if mag == 1 else f"{mag:g}*{m}"
            text += (("-" if sign == "-" else "") + part) if not text else f"{sign}{part}"
        return text

    @property
    def needs_genres(self) -> bool:
        return any(m.split("@")[0] in _NEEDS_GENRES for _, m in self.terms)

    @property
    def last_terms(self) -> dict[str, float]:
        """The term values of this thread's latest :meth:`score` (kept on each trial by ``tune``)."""
        return dict(getattr(self._local, "terms", {}))

    def score(self, model: Recommender, fit_train: Any, valid: Any, threshold: float) -> float:
        """The objective on one validation fold: full ranking of ``valid``'s positives, unseen candidates."""
        from movierec.evaluation import FullRankingProtocol

        if self.needs_genres and self.genres is None:  # tune refuses it before the study (attach_genres)
            raise ConfigError(_no_genres(self))
        try:
            out = FullRankingProtocol().evaluate(model, fit_train, valid, k=self.k, threshold=threshold)
        except ConfigError:
            self._local.terms = {}
            return float("nan")
        names = {m.split("@")[0] for _, m in self.terms}
        values: dict[str, float] = {}
        if names & set(BEYOND):
            info = B.item_info(model, fit_train, self.genres)
            assert out.recs is not None  # the full-ranking protocol always returns its top-K lists
            per_user, _ = B.beyond_metrics(
                out.recs, seen=B.train_pairs(fit_train)[out.users], relevant=out.relevant, info=info
            )
            values.update({f"{m}@{self.k}": float(v.mean()) for m, v in per_user.items()})
        for name in ACCURACY:
            key = f"{name}@{self.k}"
            if key in out.metrics:
                values[key] = out.metrics[key]
        missing = [m for _, m in self.terms if m not in values]
        if missing:  # ild_vectors of a model that has no item vectors once fitted (tune: check_vectors)
            one = len(missing) == 1
            raise ConfigError(  # the terms named, not the whole objective: one short line in the CLI
                f"{' and '.join(missing)} {'is' if one else 'are'} not available for "
                f"{getattr(model, 'name', None) or 'this model'}: drop {'it' if one else 'them'}"
            )
        self._local.terms = {m: values[m] for _, m in self.terms}
        return float(sum(w * values[m] for w, m in self.terms))


def parse_objective(text: str) -> Objective:
    """``"ndcg@10-0.1*arp@10"`` → :class:`Objective` (terms ``weight*metric@K`` joined by ``+``/``-``; one K).

    A term it cannot read or a metric no term can be is refused as a :class:`movierec.errors.Doors`
    message: Python's words list every term, the CLI's (``--metric``, the one option that takes an
    objective) name the wrong piece alone and send to ``tune --help``, where ``--pareto`` lists them, so
    the line stays within 160 columns (it listed all twelve in 223 for ``'ndcg@10-0.1*arpp@10'``).
    """
    raw = str(text).strip().lower().replace(" ", "")
    valid = ", ".join([*(f"{n}@K" for n in ACCURACY), *(f"{n}@K" for n in BEYOND)])
    terms: list[tuple[float, str]] = []
    pos = 0
    while pos < len(raw):
        m = _TERM.match(raw, pos)
        if not m or m.end() == pos:
            raise ConfigError(_unreadable(text, raw[pos:], valid))
        if terms and not m.group(1):
            raise ConfigError(f"objective {text!r}: join terms with + or -")
        name = metric_name(m.group(3))  # hr → hit_rate, as --metric reads it
        if name not in ACCURACY and name not in BEYOND:
            raise ConfigError(_no_term(text, name, f"{name}@{m.group(4)}", valid))
        weight = float(m.group(2)) if m.group(2) else 1.0
        terms.append((-weight if m.group(1) == "-" else weight, f"{name}@{int(m.group(4))}"))
        pos = m.end()
    if not terms:
        raise ConfigError(f"objective {text!r} has no terms")
    ks = {int(m.split("@")[1]) for _, m in terms}
    if len(ks) != 1 or min(ks) < 1:
        raise ConfigError(
            f"objective {text!r}: every term needs the same cut-off K ≥ 1, e.g. ndcg@10-0.1*arp@10"
        )
    if len({m for _, m in terms}) != len(terms):
        raise ConfigError(f"objective {text!r} names a metric twice")
    return Objective(tuple(terms), ks.pop())


#: where the CLI's refusal of a term sends the reader: ``tune --help`` lists the terms (under ``--pareto``;
#: ``--metric``'s help sends there); the one-K rule has its own refusal, so the line leaves it out
_TERMS_IN_HELP = "an objective weighs metrics --help lists (ndcg@10-0.1*arp@10)"


def _no_term(text: str, name: str, term: str, valid: str) -> Doors:
    """The refusal of a metric no term can be: a rating metric, a ranking metric of the whole list or cut
    elsewhere (``mrr``, ``auc``: no objective scores them at K), or an unknown name with the likely one."""
    if name in (*ERROR_METRICS, "fcp"):
        python, cli = f"{name} is a rating metric", f"{term} is a rating metric"
    elif name in ("mrr", "auc"):
        python, cli = f"{name} cannot be a term of an objective", f"{term} cannot be a term of an objective"
    else:
        near = did_you_mean(name, [*ACCURACY, *BEYOND])
        python, cli = f"unknown metric {name!r}{near}", f"{term} is unknown{near}"
    return Doors(f"objective {text!r}: {python}; valid: {valid}", f"--metric: {cli}; {_TERMS_IN_HELP}")


def _unreadable(text: str, rest: str, valid: str) -> Doors:
    """The refusal of an objective read up to ``rest``: a term without its cut-off (``-0.1*arp``) is said
    so; anything else quotes the piece it stopped at (up to the next term, not the rest of the line)."""
    piece = re.match(r"[+-]*[^+-]*", rest)
    shown = piece.group(0) if piece and piece.group(0) else rest
    shown = shown if len(shown) <= 30 else shown[:29] + "…"  # the CLI's line stays <= 160 columns
    bare = re.fullmatch(r"[+-]?(?:\d*\.?\d+(?:e-?\d+)?\*)?([a-z_]+)", shown)
    if bare:  # 'ndcg@10-0.1*arp': every term is metric@K
        why = f"{shown!r} has no cut-off: every term is metric@K, all at one K"
        return Doors(
            f"objective {text!r}: {why}; write terms like ndcg@10-0.1*arp@10 ({valid})",
            f"--metric: {why} (ndcg@10-0.1*arp@10)",
        )
    return Doors(
        f"objective {text!r}: cannot read it at {rest!r}; write terms like ndcg@10-0.1*arp@10 ({valid})",
        f"--metric: cannot read {shown!r} in the objective; write terms like ndcg@10-0.1*arp@10, of metrics "
        "--help lists",
    )


def with_terms(text: str, extra: Sequence[str]) -> str:
    """``text`` with zero-weight terms added for each name in ``extra`` it lacks (to record them for a Pareto front)."""
    base = parse_objective(text) if is_objective(text) else parse_objective(text.strip().lower())
    have = {m for _, m in base.terms}
    add = [metric_name(m) for m in extra if metric_name(m) not in have]
    return base.label + "".join(f"+0*{m}" for m in add)


def attach_genres(objective: Any, dataset: Any) -> None:
    """Give an :class:`Objective` with genre terms the dataset's items × genres matrix, or refuse it when
    the data has no genres: before the study starts, not in its first trial (where Optuna's warning put a
    second line before the refusal, which quoted the whole objective: 163 columns for --metric
    'ndcg@10-0.1*ild_genres@10' --out o, 208 for four terms)."""
    if not isinstance(objective, Objective) or not objective.needs_genres or objective.genres is not None:
        return
    from movierec.datasets import Dataset
    from movierec.evaluation import _genre_matrix

    if isinstance(dataset, str):
        from movierec.datasets import load

        dataset = load(dataset)
    if isinstance(dataset, Dataset):
        objective.genres = _genre_matrix(dataset)
    if objective.genres is None:
        raise ConfigError(_no_genres(objective))


def _no_genres(objective: Objective) -> str:
    """``ild_genres@10 needs movie genres, and this data has none: drop it`` (the genre terms named, not
    the whole objective, so the CLI's line stays short however many terms it has)."""
    named = [m for _, m in objective.terms if m.split("@")[0] in _NEEDS_GENRES]
    one = len(named) == 1
    return f"{' and '.join(named)} {'needs' if one else 'need'} movie genres, and this data has none: drop {'it' if one else 'them'}"


def check_vectors(objective: Any, model: str) -> None:
    """Refuse an objective's ``ild_vectors`` term for a model whose class declares it has no item vectors
    (``item_vectors`` False: ease, rp3beta, itemknn …) before any data is read or study created: it failed
    in the first trial, after the study was made, with Optuna's 'Trial 0 failed' warning and its traceback
    before the refusal (``tune -m rp3beta --metric 'ndcg@10-0.1*ild_vectors@10'``). A model that only its
    fit tells (``None``: a reference library's) is still refused by :meth:`Objective.score`."""
    if not isinstance(objective, Objective):
        return
    named = [m for _, m in objective.terms if m.split("@")[0] == "ild_vectors"]
    if not named:
        return
    from movierec.models.registry import MODELS, get_class

    if get_class(model).item_vectors is not False:
        return
    every = [n for n in MODELS if ":" not in n and get_class(n).item_vectors]
    few = [n for n in ("als", "svd", "bpr") if n in every] or every[:3]
    said = f"{named[0]} needs item vectors, which {model} lacks: drop it, or tune"
    # the CLI names three (its line stays <= 160 columns with --out's ending); Python's names them all
    raise ConfigError(
        Doors(
            f"{said} a model that has them: {', '.join(every)}", f"{said} {', '.join(few[:-1])} or {few[-1]}"
        )
    )


def pareto_front(trials: Iterable[Any], a: str, b: str) -> list[dict[str, Any]]:
    """Complete trials that no other trial beats on both ``a`` and ``b`` (directions from the metric names).

    Each trial needs the user attribute ``terms`` with both values (``tune`` records it for
    objectives). Rows: ``number``, ``a``, ``b``, ``params``, sorted by ``a`` best first.
    """
    points = []
    a, b = metric_name(a), metric_name(b)
    for t in trials:
        recorded: Mapping[str, float] = (getattr(t, "user_attrs", {}) or {}).get("terms", {})
        terms = {metric_name(k): v for k, v in recorded.items()}  # a study from before hit_rate: 'hr@10'
        if (
            getattr(getattr(t, "state", None), "name", "COMPLETE") != "COMPLETE"
            or a not in terms
            or b not in terms
        ):
            continue
        points.append((t.number, float(terms[a]), float(terms[b]), dict(getattr(t, "params", {}))))
    sa = 1.0 if maximise(a) else -1.0
    sb = 1.0 if maximise(b) else -1.0
    front = []
    for n, x, y, params in points:
        dominated = any(
            (sa * x2 >= sa * x and sb * y2 >= sb * y) and (sa * x2 > sa * x or sb * y2 > sb * y)
            for _, x2, y2, _ in points
        )
        if not dominated:
            front.append({"number": n, a: x, b: y, "params": params})
    return sorted(front, key=lambda r: -sa * r[a])


def mean_terms(per_fold: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Mean of each term over the folds that recorded it."""
    keys = {k for d in per_fold for k in d}
    return {k: float(np.mean([d[k] for d in per_fold if k in d])) for k in sorted(keys)}
