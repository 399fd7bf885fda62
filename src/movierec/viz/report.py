"""``movierec report``: one self-contained HTML page that compares models and maps their item spaces.

The pipeline behind the product's main job: describe the dataset, fit the reference notebook's
models (SVD, KNN-baseline, BPR) plus the strongest implicit ones (EASE, ALS, WARP with genres and
tags) on one seeded split through :func:`movierec.evaluation.compare`, chart the results, project
item vectors to 2-D maps, and write ``index.html`` (images inlined, plotly inlined, no network),
every chart as PNG, ``results.json``, ``results.csv``, ``embeddings.csv`` and ``best.toml`` (the best
ranker as an experiment file, for ``movierec export --config``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movierec.display import count_text, percent
from movierec.errors import ConfigError, Doors, in_cli, labelled
from movierec.interactions import resolve_threshold
from movierec.jsonsafe import to_jsonable
from movierec.models.base import BaseRecommender, Recommender
from movierec.output_folders import OUT, STAGE_PREFIX, missing_folders, staged_output

__all__ = [
    "DEFAULT_MODELS",
    "ModelSpec",
    "Report",
    "build_map",
    "build_report",
    "check_output",
    "parse_models",
    "print_summary",
    "reading",
]

#: Models that read each user's history in time order: asking for one adds the sequence section.
SEQUENCE_MODELS = ("markov", "sasrec", "sequential-popularity", "gru4rec")

#: The notebook's three models plus the strongest implicit ones; ``+genres+tags`` adds item features;
#: popularity is the floor every list must beat (the reading names any model below it).
DEFAULT_MODELS = "popularity,svd,knn-baseline,bpr,ease,als,warp+genres+tags"
REPORT_FORMAT = 1
CURVE_METRICS = ("precision", "recall", "ndcg")
_SPEC = re.compile(r"^\s*([a-z0-9:_\-]+)((?:\+[a-z]+)*)\s*$")


# --- model specs --------------------------------------------------------------------------------


@dataclass
class ModelSpec:
    """A model to train: registry name, hyperparameters and item-feature families (``"genres,tags"``)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    features: str | None = None
    given_label: str | None = None  # an experiment file's ``label``: keys the model's rows instead

    @property
    def label(self) -> str:
        if self.given_label:
            return self.given_label
        return self.name if not self.features else f"{self.name}+" + "+".join(self.features.split(","))


#: settings of build_report and build_map that the report and embed commands pass on, in both spellings
#: (Python's, the CLI's): a message naming it is a Doors, built once in each door's spelling (``Doors(*(… for
#: m in _MODELS))``), so a notebook reads ``models=`` and the command line ``--models``, not both in one line
_MODELS = ("models=", "--models")


def parse_models(
    text: str | Sequence[str], params: dict[str, dict[str, Any]] | None = None
) -> list[ModelSpec]:
    """``"svd,bpr,warp+genres+tags"`` → specs; ``params`` maps a model (its name or full label) to hyperparameters."""
    from movierec.features import canonical_names
    from movierec.models.registry import FOREIGN_MODELS, get_class

    parts = [p for p in (text.split(",") if isinstance(text, str) else text) if str(p).strip()]
    if not parts:
        raise ConfigError(Doors(*(f"give at least one model name ({m})" for m in _MODELS)))
    specs: list[ModelSpec] = []
    for part in parts:
        if str(part).strip().lower() in FOREIGN_MODELS:  # 'svd++': SVD++ is svdpp, not svd with features '+'
            get_class(str(part))
        m = _SPEC.match(str(part).lower())
        if not m:
            said = ": expected NAME or NAME+feature+feature (e.g. warp+genres+tags)"
            raise ConfigError(Doors(f"{labelled('models=', part)}{said}", f"--models {part!r}{said}"))
        name, feats = m.group(1), m.group(2)
        get_class(name)  # unknown names fail here, with the list of valid ones
        features = canonical_names(feats.strip("+").replace("+", ",")) if feats else None
        spec = ModelSpec(name, {}, features or None)
        if params:
            spec.params.update(params.get(name, {}))
            if spec.label != name:
                spec.params.update(params.get(spec.label, {}))
        specs.append(spec)
    labels = [s.label for s in specs]
    dup = next((lab for lab in labels if labels.count(lab) > 1), None)
    if dup:
        raise ConfigError(Doors(*(f"{dup!r} is listed twice ({m})" for m in _MODELS)))
    return specs


def with_item_features(specs: Sequence[ModelSpec], item_features: str, notes: list[str]) -> list[ModelSpec]:
    """``--item-features`` for a list: every model whose ``fit`` takes item features and that has none of
    its own (``NAME+feature`` keeps its own) gets them; the models that ignore them are named in a note."""
    from movierec.features import canonical_names
    from movierec.models.base import uses_item_features
    from movierec.models.registry import create

    features = canonical_names(item_features)
    out, ignored = [], []
    for spec in specs:  # the model with its parameters: an ensemble uses them when one of its bases does
        if spec.features is None and uses_item_features(create(spec.name, **spec.params)):
            spec = replace(spec, features=features)
        elif spec.features is None:
            ignored.append(spec.label)
        out.append(spec)
    if ignored:
        notes.append(f"{', '.join(ignored)} {'ignores' if len(ignored) == 1 else 'ignore'} item features")
    return out


def _default_specs(
    notes: list[str],
    *,
    without_ratings: bool = False,
    families: set[str] | None = None,
    params: dict[str, dict[str, Any]] | None = None,
) -> list[ModelSpec]:
    """The default model list, leaving out (with a note) models whose module or extra is missing here, and on
    data without ratings the rating models (svd, knn-baseline), which would learn nothing from it.
    ``families``: the item-feature families the data has (``features.available_families``); a default
    model's others are dropped with a note (``warp+genres+tags`` trains as ``warp`` on a ratings file
    alone: ``report --ratings my.csv`` trained every model and then stopped at warp's missing metadata).
    ``params``: hyperparameters by model name or label (:func:`parse_models`'), as ``report --params``
    gives them without ``--models``: the defaults are still chosen for the data."""
    from movierec.models.base import tags_of
    from movierec.models.registry import get_class

    out, rating_models = [], []
    for spec in _within(parse_models(DEFAULT_MODELS, params), families, notes):
        try:
            cls = get_class(spec.name)
        except (ConfigError, ModuleNotFoundError) as exc:
            notes.append(f"{spec.label} left out of the default models: {exc}")
            continue
        if without_ratings and tags_of(cls).kind == "explicit":
            rating_models.append(spec.label)
            continue
        out.append(spec)
    if rating_models:
        notes.append(
            f"the data has no ratings: the rating models of the default set ({', '.join(rating_models)}) are "
            "left out, as they would learn nothing from it"
        )
    return out


def _within(specs: list[ModelSpec], families: set[str] | None, notes: list[str]) -> list[ModelSpec]:
    """``specs`` with the item-feature families the data lacks dropped, each change said in ``notes``."""
    if families is None:
        return specs
    out = []
    for spec in specs:
        asked = spec.features.split(",") if spec.features else []
        kept = [f for f in asked if f in families]
        if kept != asked:
            new = replace(spec, features=",".join(kept) or None)
            missing = " or ".join(f for f in asked if f not in kept)
            notes.append(
                f"{spec.label} trains as {new.label}: the data has no {missing} (no movies or tags file)"
            )
            spec = new
        out.append(spec)
    return out


# --- output folder ------------------------------------------------------------------------------


def check_output(out: Path, fingerprint: dict[str, Any], *, force: bool = False) -> dict[str, Any] | None:
    """Make sure ``out`` can take this report: creatable or writable, and empty or holding a report it
    may replace. Returns that old report's record (its ``files`` are what the new report replaces), or None.

    Nothing is created or removed here: the report is written beside ``out`` and put in place only when
    complete (:func:`movierec.output_folders.staged_output`), so a run that fails or is interrupted
    leaves no folder, or the old report whole. A folder with a different report is refused unless
    ``force``. A folder that is not empty and holds no movierec report is refused even with ``force`` (as
    ``compare --out`` refuses it): ``--force`` replaces a report, and the report would write its
    ``results.json``, ``index.html`` and ``charts/`` over files someone else wrote.
    """
    if out.exists() and not out.is_dir():
        raise ConfigError(_at_out(out, lambda _: "is a file, not a folder"))
    missing = missing_folders(out)
    base = missing[-1].parent if missing else out  # the nearest folder that exists
    if not base.is_dir():
        raise ConfigError(
            _at_out(out, lambda _: f"cannot create the folder ({base} is a file, not a folder)")
        )
    probe = base / f".movierec-write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        why = exc.strerror or exc
        if base == out:
            raise ConfigError(_at_out(out, lambda _: f"folder is not writable ({why})")) from exc
        raise ConfigError(
            _at_out(out, lambda _: f"cannot create the folder ({base} is not writable: {why})")
        ) from exc
    if base != out:
        return None
    entries = [p for p in out.iterdir() if not p.name.startswith((".movierec-write-test", STAGE_PREFIX))]
    if not entries:
        return None
    old = _old_report(out)
    if old is None:
        raise ConfigError(_at_out(out, lambda f: _not_a_report(entries, f, force)))
    if old.get("fingerprint") != fingerprint and not force:
        # its settings as text: "models=['warp']" was Python's list; "; " as a list's items take ", "
        what = "; ".join(
            f"{k}={', '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in old.get("fingerprint", {}).items()
            if k in ("dataset", "models", "seed", "projection", "split", "test_size")
        )
        # embed's folder holds a map (fingerprint kind 'map'), which it called "a different report"
        said = f"already holds a different {'map' if old.get('fingerprint', {}).get('kind') == 'map' else 'report'} ({what})"
        raise ConfigError(_at_out(out, lambda f: f"{said}; pass {f} to replace it or choose another folder"))
    return old


def _at_out(out: Path, said: Callable[[str], str]) -> Doors:
    """A refusal of the report's folder, in each door's words: ``out='r': …`` with ``force=True`` in
    Python, ``--out r: …`` with ``--force`` in the CLI (``said`` takes the force setting's spelling). They
    read ``r (out= in Python, --out in the CLI): …``, both spellings in a terminal."""
    return Doors(
        *(f"{labelled(o, out)}: {said(f)}" for o, f in (("out=", "force=True"), ("--out", "--force")))
    )


def _not_a_report(entries: list[Path], force_flag: str, force: bool) -> str:
    """Why a folder of someone's files is refused, naming one of them (a file before a folder): with the
    force setting given, that it never replaces such files (it replaces a movierec report), where the line
    said "force replaces only a movierec report (--force)" to someone who had typed --force."""
    names = [p.name + "/" * p.is_dir() for p in sorted(entries, key=lambda p: (p.is_dir(), p.name))]
    one = names[0] if len(names) == 1 else f"{names[0]}, …"
    why = f", which {force_flag} never replaces" if force else " and no movierec report"
    return (
        f"holds files movierec did not write ({one}){why}; nothing was changed — choose a new or empty folder"
    )


def _old_report(out: Path) -> dict[str, Any] | None:
    path = out / "results.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    rep = data.get("report") if isinstance(data, dict) else None
    return rep if isinstance(rep, dict) and rep.get("format") == REPORT_FORMAT else None


def _replaced_files(old: dict[str, Any] | None) -> list[str]:
    """The files an old report listed: the new one replaces them (those it does not write are removed)."""
    return [str(rel) for rel in (old or {}).get("files", [])]


# --- progress -----------------------------------------------------------------------------------


_STEP_TEXT = {
    "load": "loading the dataset",
    "dataset": "dataset section",
    "train_evaluate": "training and evaluating",
    "sequence": "sequence section",
    "curves": "curves",
    "charts": "charts",
    "beyond": "beyond-accuracy section",
    "embeddings": "embedding maps",
    "write": "writing the report",
}


#: steps of many seconds whose parts are said as they start (:func:`_say`): a spinner shows them on a terminal
_STEPS_IN_PARTS = ("curves", "embeddings")


def _step_line(console: Any, step: str, origin: float, shown: bool = True) -> Any:
    """In a pipe or a log: a line as ``step`` starts and one with its seconds as it ends, stamped from
    ``origin`` like the models' lines (:class:`movierec.progress.LineStatus`); on a terminal nothing (the
    models' bars show there), but a spinner for a step said in parts (:data:`_STEPS_IN_PARTS`)."""
    from movierec.progress import LineStatus, live

    if shown and live(console) and step in _STEPS_IN_PARTS:
        return console.status(_STEP_TEXT.get(step, step))
    if not shown or live(console):
        return nullcontext()

    return LineStatus(console, _STEP_TEXT.get(step, step), after=0, origin=origin)


def _say(status: Any, step: str, words: str) -> None:
    """A part of ``step`` starting (``words``: 'ease · 1/3'), on its ``status`` (:func:`_step_line`'s; ``None``
    without progress): a line of its own in a log ('curves · ease · 1/3'), beside a terminal's spinner. The
    curves and the embedding maps each ran 17 to 28 s on ml-latest-small with only their first line."""
    from movierec.progress import show_epoch

    if status is not None:
        show_epoch(status, _STEP_TEXT.get(step, step), words, now=True)


class _Progress:
    """One bar per model (epochs when the model is iterative); in a pipe or a log, plain lines instead
    (:func:`movierec.progress.make_progress`), stamped from ``origin`` like the steps' lines."""

    def __init__(self, console: Any, total_models: int, origin: float | None = None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        from movierec.progress import LineProgress, make_progress

        self.progress = make_progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[model]:<18}"),
            BarColumn(bar_width=28 if getattr(console, "width", 80) >= 110 else 10),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        if isinstance(self.progress, LineProgress) and origin is not None:
            self.progress.started = origin
        self.tasks: dict[str, Any] = {}
        self.labels: dict[str, str] = {}
        self.last_val: dict[str, str] = {}  # label -> "val_rmse 0.94" (epoch_validation scores some epochs)
        # label -> "fitted in 0.5 s": what its bar reads again once the model is evaluated
        self.fitted: dict[str, str] = {}
        self.says: set[str] = set()  # labels whose fits name their parts (step events): the ensemble's
        self.total_models = total_models
        self.bars = not isinstance(self.progress, LineProgress)

    def __enter__(self) -> _Progress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._evaluated()
        self.progress.__exit__(*exc)  # type: ignore[arg-type]

    def _evaluated(self) -> None:
        """Every bar still reading 'evaluating PROTOCOL' reads its fit time again: a model's evaluation ends
        when the next model starts or the run does, and no event says so. The terminal kept all seven of
        make demo's bars at 'evaluating test-candidates' above the finished report. A log's lines are events,
        not states: it gets no line for this."""
        if not self.bars:
            return
        for label, task in self.tasks.items():
            if str(self.progress.tasks[task].fields.get("status", "")).startswith("evaluating"):
                self.progress.update(task, status=self.fitted.get(label, "done"))

    def handler(self, rename: dict[str, str]) -> Callable[[dict[str, Any]], None]:
        from movierec.evaluation import shown_label
        from movierec.progress import (
            epochs_done,
            fitted_words,
            loss_words,
            model_step,
            scored_words,
            stopped_words,
            val_words,
        )

        def on_event(ev: dict[str, Any]) -> None:
            label = rename.get(ev.get("model", ""), ev.get("model", ""))
            kind = ev.get("event")
            if kind == "fit-start":
                self._evaluated()  # the models before this one are done
                epochs = ev.get("epochs")
                total = int(epochs) if isinstance(epochs, (int, np.integer)) and epochs > 0 else 1
                shown = shown_label({**ev, "model": label})  # as the tables name it: 'ease+genres+tags'
                self.tasks[label] = self.progress.add_task("", total=total, model=shown, status="fitting")
            elif kind == "step" and label in self.tasks:  # a part of an ensemble's fit, as compare shows it
                self.says.add(label)  # its epoch events ('ease hold-out NDCG@10') then say nothing more
                self.progress.update(self.tasks[label], status=str(ev["words"]), refresh=bool(ev.get("now")))
            elif kind == "epoch" and label in self.tasks and label not in self.says:
                loss = ev.get("loss")
                task = self.tasks[label]
                if int(ev.get("epoch", 0)) > (self.progress.tasks[task].total or 0):
                    self.progress.update(task, total=int(ev.get("epoch", 0)))
                # the epoch is in the n/total column; three digits keep a row within 80 columns
                parts = [loss_words(loss)] if loss_words(loss) else []
                val = val_words(ev)
                if val is not None:
                    self.last_val[label] = val
                if label in self.last_val:  # the latest validation score (some epochs are not scored)
                    parts.append(self.last_val[label])
                status = " · ".join(parts) or f"epoch {ev.get('epoch')}"
                self.progress.update(self.tasks[label], completed=int(ev.get("epoch", 0)), status=status)
            elif kind == "fit-end" and label in self.tasks:
                task = self.tasks[label]
                most, done = epochs_done(self.progress.tasks[task].total, ev)
                if ev.get("stopped"):  # as compare says it, above the bars: the row reads its fit time
                    said = stopped_words(ev["stopped"], ev.get("seconds", 0), ev.get("epochs_run"))
                    self.progress.console.print(model_step(label, said), markup=False, highlight=False)
                self.fitted[label] = fitted_words(ev.get("seconds", 0))
                self.progress.update(
                    task, total=most, completed=done, status=self.fitted[label], refresh=True
                )
            elif kind == "evaluate" and label in self.tasks:
                # refresh: a line of its own in a log even right after the fit's (as compare's); held back, it
                # came at the end, stamped then: '[ 24.0s] popularity · evaluating test-candidates' after warp
                # its count of users scored (a full ranking's later events) at most every few seconds
                self.progress.update(
                    self.tasks[label],
                    status=f"evaluating {ev.get('protocol')}{scored_words(ev)}",
                    refresh="scored" not in ev,
                )

        return on_event

    def done(self, label: str, status: str) -> None:
        if label in self.tasks:
            self.progress.update(self.tasks[label], status=status)


# --- the report -----------------------------------------------------------------------------------


@dataclass
class Report:
    """What :func:`build_report` produced: the folder, the table rows, timings and the written files."""

    out: Path
    table: list[dict[str, Any]]
    results: list[dict[str, Any]]
    timings: dict[str, float]
    files: list[str]
    notes: list[str]
    reading: str
    comparison: Any = None
    k: int = 10
    winners: dict[str, str] = field(default_factory=dict)
    #: ``best.toml``: the experiment file of the model that ranks best (``export --config`` serves it)
    best_config: Path | None = None
    best_label: str | None = None
    #: on a split of files, what ``export --config best.toml`` trains on (every file given), said in "next:"
    trains_on: str | None = None
    #: the user features a model learned from (``"demographics"``), for the terminal's caption; ``None``: none did
    user_features: str | None = None


def step_label(key: str) -> str:
    """A timed step's name as the summary line and the page's timing table print it: ``train_evaluate`` is
    two steps in one ("train + evaluate"), every other key one step of two words ("new users", not the
    "new + users" that replacing each underscore with " + " gave)."""
    return "train + evaluate" if key == "train_evaluate" else key.replace("_", " ")


def timing_lines(timings: dict[str, float], width: int) -> list[str]:
    """``movierec report``'s closing line, '118.4 s in all: load 0.0 s, dataset 2.4 s, …', broken between its
    steps at ``width``: word-wrapped, it split a step's seconds from their unit ('curves 14.4' / 's, charts')."""
    from rich.cells import cell_len

    steps = [f"{step_label(key)} {v:.1f} s" for key, v in timings.items()]
    lines = [f"{sum(timings.values()):.1f} s in all:"]
    for n, step in enumerate(steps):
        piece = step + ("," if n + 1 < len(steps) else "")
        if cell_len(f"{lines[-1]} {piece}") <= width:
            lines[-1] += f" {piece}"
        else:
            lines.append(piece)
    return lines


def _fmt(v: Any, digits: int = 3) -> str:
    return "—" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.{digits}f}"


def _png_data(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _png_width(path: Path) -> int:
    """A PNG's width in pixels, from its header (0 for a file that is not a PNG): the page keeps each chart
    at no less than 0.85 of the width it was drawn at, and gives one too wide to share a row a row of its own."""
    with path.open("rb") as f:
        head = f.read(24)
    return int.from_bytes(head[16:20], "big") if head[:8] == b"\x89PNG\r\n\x1a\n" else 0


#: A chart drawn wider than this (px) takes a row of the page's grid to itself: two charts a row from 1216 px
#: leave each card >= 534 px, in which a chart drawn <= 628 px keeps 0.85 of its size (the CSS's figure rules).
SHARES_A_ROW = 628


def grid_classes(charts: Sequence[tuple[Any, bool]]) -> list[str]:
    """The class of each chart's figure in a grid of two charts a row (the template's ``.grid``), in order:
    ``"wide"`` for one drawn too wide to share a row (or said to be ``wide`` by the pair's bool), ``"lone"``
    for one that would sit alone in its row between full ones (an odd run of sharing charts' last: the RMSE
    bars before the ranking bars' row), taking the row too, ``""`` for the others and for a chart absent
    (its path ``None`` or Jinja's undefined). A class from the page, not CSS's ``:has()``, which
    Firefox before 121 ignores (the rule left a lone chart in half a row there)."""
    classes = [
        "wide" if png and (wide or _png_width(Path(png)) > SHARES_A_ROW) else "" for png, wide in charts
    ]
    runs: list[list[int]] = [[]]  # the present charts that share rows, split at each wide one
    for i, (png, _) in enumerate(charts):
        if png and classes[i] == "wide":
            runs.append([])
        elif png:
            runs[-1].append(i)
    for run in runs:
        if len(run) % 2:
            classes[run[-1]] = "lone"
    return classes


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def default_out() -> Path:
    """``reports/<UTC timestamp>`` under the working folder."""
    return Path("reports") / _timestamp()


def _resolve_split(specs: Sequence[ModelSpec], split: str = "auto") -> str:
    """``split`` by name, or for ``"auto"`` the split ``compare(split="auto")`` would pick for the whole
    model list: one split for all, though the report runs one comparison per feature set."""
    from movierec.models.registry import model_kind
    from movierec.split import split_key

    if split_key(split) != "auto":
        return split_key(split)
    kinds = {model_kind(s.name) for s in specs}
    return "interactions-holdout" if kinds == {"implicit"} else "ratings-holdout"


def _dataset_section(ds: Any, charts_dir: Path) -> tuple[dict[str, Any], dict[str, Path]]:
    from movierec.viz import charts as C

    inter = ds.interactions
    summary = ds.summary()
    genres = (summary.pop("genres", None) or {}).items()  # '(no genres listed)' is no genre on the page
    summary["genre_counts"] = {g: n for g, n in genres if not g.startswith("(")}
    summary["has_titles"] = ds.movies is not None
    values, value_counts = np.unique(inter.ratings, return_counts=True)
    summary["rating_mode"] = float(values[np.argmax(value_counts)]) if len(values) else None
    # data without ratings (a log of plays, --rating-col ''): its rows are interactions, one bar of 1s is
    # no rating histogram, and the page counts interactions per user and per movie instead
    only = summary["interactions_only"] = bool(inter.interactions_only)
    rows = "interactions" if only else "ratings"
    charts: dict[str, Path] = {}
    per_user, per_item = inter.user_counts(), inter.item_counts()
    timed = inter.timestamps is not None and inter.n_ratings
    # each chart twice: for a wide screen, and narrow for a phone (the page's <picture>, <= 700 px)
    for suffix, narrow in C.SCREENS:
        if not only:
            charts[f"ratings{suffix}"] = C.rating_histogram(
                inter.ratings, charts_dir / f"dataset_ratings{suffix}.png", narrow=narrow
            )
        if timed:
            charts[f"time{suffix}"] = C.ratings_over_time(
                inter.timestamps, charts_dir / f"dataset_time{suffix}.png", rows=rows, narrow=narrow
            )
        charts[f"long_tail{suffix}"] = C.long_tail(
            per_user, per_item, charts_dir / f"dataset_long_tail{suffix}.png", rows=rows, stacked=narrow
        )
        if summary["genre_counts"]:
            charts[f"genres{suffix}"] = C.genre_bars(
                summary["genre_counts"], charts_dir / f"dataset_genres{suffix}.png", narrow=narrow
            )
    summary["median_per_user"] = float(np.median(per_user[per_user > 0])) if per_user.any() else 0.0
    summary["median_per_item"] = float(np.median(per_item[per_item > 0])) if per_item.any() else 0.0
    return summary, charts


def _sequence_section(
    ds: Any,
    specs: Sequence[ModelSpec],
    *,
    k: int,
    seed: int,
    notes: list[str],
    progress: Callable[[dict[str, Any]], None] | bool = False,
) -> dict[str, Any]:
    """Leave-last-out (each user's latest rating is the test item) for every asked model, full ranking.

    Models with item features are left out of this table (they are compared in the main one). ``progress``:
    compare's events go there (the report's :class:`_Progress` handler), or none with ``False``.
    """
    from movierec.evaluation import compare

    plain = [s for s in specs if not s.features]
    for s in specs:
        if s.features:
            notes.append(f"{s.label} is left out of the sequence section (item features are not used there)")
    comp = compare(
        ds,
        [(s.name, dict(s.params)) for s in plain],
        protocols=("leave-last-out",),
        k=k,
        seed=seed,
        progress=progress,  # the report draws its own progress
    )
    rows: list[dict[str, Any]] = []
    for r in comp.rows:
        rows.append(
            {
                "model": r.label,
                "name": r.model,
                "sequence": r.model in SEQUENCE_MODELS,
                "fit_seconds": r.fit_seconds,
                "n_users": r.n_users,
                "values": {m: r.metrics.get(m) for m in (f"hit_rate@{k}", f"ndcg@{k}", "mrr")},
                "intervals": {
                    m: list(r.intervals[m]) for m in (f"hit_rate@{k}", f"ndcg@{k}", "mrr") if m in r.intervals
                },
            }
        )
    best = max(rows, key=lambda row: row["values"][f"ndcg@{k}"] or 0.0)["model"] if rows else None
    for n in comp.notes:
        if n not in notes:
            notes.append(n)
    return {
        "split": comp.split,
        "protocol": "leave-last-out",
        "k": k,
        "rows": rows,
        "best": best,
        "results": [r.to_dict() for r in comp.rows],
    }


def _table_rows(rows: Sequence[Any], k: int, specs: Sequence[ModelSpec]) -> list[dict[str, Any]]:
    """One line per model: rating errors, full-ranking metrics with intervals, test-candidates figures."""
    by: dict[str, dict[str, Any]] = {}
    for s in specs:
        by[s.label] = {
            "model": s.label,
            "name": s.name,
            "features": s.features,
            "kind": None,
            "values": {},
            "intervals": {},
            "fit_seconds": None,
        }
    for r in rows:
        row = by.setdefault(
            r.label, {"model": r.label, "name": r.model, "features": None, "values": {}, "intervals": {}}
        )
        row["kind"] = r.kind
        row["fit_seconds"] = r.fit_seconds
        if getattr(r, "stopping", ""):  # early stopping: the epochs chosen on validation, as compare's rows
            row.update(best_epoch=r.best_epoch, valid_score=r.valid_score, stopping=r.stopping)
        prefix = {"rating": "", "full-ranking": "", "test-candidates": "tc:"}.get(r.protocol)
        if prefix is None:
            continue
        for m, v in r.metrics.items():
            row["values"][prefix + m] = v
            if m in r.intervals:
                row["intervals"][prefix + m] = list(r.intervals[m])
    return [by[s.label] for s in specs if by[s.label]["kind"] is not None]


def table_groups(k: int, auc: bool = False) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    """The model table's column groups: (title, [(key, header, lower is better), …]).

    The rating group carries Surprise's FCP beside RMSE and MAE (MSE is RMSE squared, so it is left
    out); the HTML header's group spans and separators come from these lists. ``auc``: the full-ranking
    group ends with AUC, compare's opt-in column (an experiment file's ``auc = true``)."""
    groups = [
        ("rating prediction", [("rmse", "RMSE", True), ("mae", "MAE", True), ("fcp", "FCP", False)]),
        (
            "full-ranking (headline)",
            [
                (f"precision@{k}", f"P@{k}", False),
                (f"recall@{k}", f"R@{k}", False),
                (f"hit_rate@{k}", f"HR@{k}", False),
                (f"ndcg@{k}", f"NDCG@{k}", False),
                (f"novelty@{k}", "novelty", False),
                (f"coverage@{k}", "coverage", False),
            ],
        ),
        (
            "test-candidates (notebook)",
            [(f"tc:precision@{k}", f"P@{k}", False), (f"tc:recall@{k}", f"R@{k}", False)],
        ),
    ]
    if auc:
        groups[1][1].append(("auc", "AUC", False))
    return groups


def table_columns(k: int, auc: bool = False) -> list[tuple[str, str, bool]]:
    """(key, header, lower is better) for the model table, in :func:`table_groups` order."""
    return [col for _, cols in table_groups(k, auc) for col in cols]


def _has_auc(table: Sequence[dict[str, Any]]) -> bool:
    """Whether the table's rows carry AUC (a report asked for it): the model table then shows its column."""
    return any("auc" in r["values"] for r in table)


def _write_best_config(
    run: Any, label: str | None, path: Path, final: Path | None = None, rows: Sequence[Any] = ()
) -> Path | None:
    """``best.toml``: an experiment file with the report's data, seed, K and threshold and the one model
    that ranks best (NDCG@K; RMSE when no model ranks), its parameters and item features, so
    ``movierec export --config best.toml`` serves the model the report recommends. None when the data
    cannot be loaded again by name or path (a DataFrame) or no model won. Written to ``path``; ``final``
    is where it will be once the report is in place (its comment and the returned path name that).

    On a split of files it names the files again (``compare --config best.toml`` gives the report's row;
    ``export --config`` trains on every file). A model stopped early is written with ``epochs`` = its best
    epoch (``rows``' ``best_epoch``): its row is that refit, as tune's best.toml writes a stopped trial."""
    from movierec.experiment import (
        DatasetConfig,
        Experiment,
        ModelConfig,
        SplitConfig,
        dump_experiment,
        split_files_config,
    )
    from movierec.models.registry import model_kind

    spec = next((s for s in run.specs if s.label == label), None)
    ds = run.ds
    ref = ds.reload_ref()
    if spec is None or (ref is None and not (run.given is not None and ds.split_files)):
        return None
    if run.given is not None and ds.split_files:
        data, split = split_files_config(ds.split_files, ds.load_options)
    else:
        data = DatasetConfig.of(str(ref), ds.load_options)
        split = SplitConfig(kind=_resolve_split(run.specs, run.split), test_size=run.test_size)
    params = dict(spec.params)
    stopped = next((r.best_epoch for r in rows if r.label == label and getattr(r, "stopping", "")), None)
    if stopped is not None:
        params["epochs"] = int(stopped)
    exp = Experiment(
        name=f"{label}: the report's best ranker",
        dataset=data,
        split=split,
        seed=run.seed,
        models=[ModelConfig(name=spec.name, params=params)],
        protocols=["full-ranking"] if model_kind(spec.name) != "explicit" else ["rating", "full-ranking"],
        k=run.k,
        threshold=run.threshold,
        item_features=[f for f in (spec.features or "").split(",") if f],
        user_features=_best_user_features(run, spec.name),
    )
    shown = final or path
    header = f"the model {shown.parent}/index.html ranks best; serve it with\n"
    header += f"movierec export --config {shown} --out artifacts/{label}"
    if stopped is not None:
        header += (
            f"\nepochs = {stopped}: the best epoch early stopping chose on validation (the report's row)"
        )
    if run.given is not None and ds.split_files:
        header += f"\nexport trains it on {_files_words(ds)}, all the data given; compare --config scores the test file"
    header += _slice_words(run, label, rows, stopped is not None)
    dump_experiment(exp, path, header=header, read_from=shown.parent)
    return shown


def _best_user_features(run: Any, name: str) -> str | None:
    """The report's user features as best.toml writes them (a file by its absolute path, as tune's), when
    the model it names learns from them: best.toml left them out, so ``compare --config best.toml`` and
    ``export --config`` trained warp without the demographics its report row had. A model that ignores them
    (ease, popularity) gets none, which compare would only note it ignores."""
    from movierec.demographics import recorded_user_features
    from movierec.models.registry import get_class

    if not getattr(get_class(name), "uses_user_features", False):
        return None
    return recorded_user_features(run.user_features)


def _slice_words(run: Any, label: str | None, rows: Sequence[Any], stopped: bool) -> str:
    """best.toml's line on the report's validation slice: with training curves every model of the report
    trained without a small slice of its training part (the note "validation slice: …"), so the report's row
    reads a little lower than ``compare --config`` and export's hold-out check, which train on all of it
    (ease on ml-latest-small: 0.311 in the report, 0.317 at export, and nothing said why). Empty without a
    slice, or for a model stopped early (its row is already the refit on the whole training part)."""
    held = next((n for n in run.notes if str(n).startswith("validation slice:")), None)
    if held is None or stopped:
        return ""
    count = str(held).split(" training interactions")[0].rsplit(" ", 1)[-1]
    metric = f"ndcg@{run.k}"
    value = next(
        (r.metrics.get(metric) for r in rows if r.label == label and r.protocol == "full-ranking"), None
    )
    shown = f" (NDCG@{run.k} {value:.3f})" if isinstance(value, float) else ""
    return (
        f"\nthe report's row{shown} trained without the {count} ratings of its training curves' validation "
        "slice; compare --config and export's hold-out check train on the whole training part and read a "
        "little higher"
    )


def _header_meta(run: _Run) -> dict[str, Any]:
    """What the page's header says beyond the split, seed, K and threshold: the user features every model
    that takes them was fitted with (``user_features``: the page said nothing of them), and on a split of
    files each file and its sha256 (``split_files``)."""
    meta: dict[str, Any] = {}
    if isinstance(run.user_features, str) and run.user_features:
        meta["user_features"] = run.user_features
    if run.given is not None and run.ds.split_files:
        meta["split_files"] = run.ds.split_files
    return meta


def _stopping_meta(early_stopping: Any, given: tuple[Any, ...] | None) -> dict[str, Any]:
    """The page's early-stopping setting (``early_stopping``: StopSpec's fields) and where it scored
    (``stopped_on``: :func:`_stopped_on`)."""
    from movierec.stopping import stop_spec

    spec = stop_spec(early_stopping)
    assert spec is not None  # the caller checked early_stopping is set
    return {"early_stopping": spec.to_dict(), "stopped_on": _stopped_on(given)}


def _stopped_on(given: tuple[Any, ...] | None) -> dict[str, str] | None:
    """Where early stopping scored and what the stopped models were refit on, for the model table's note
    and the stopping chart's caption, when the split brings its own validation part (``(train, valid,
    test, about)``: a ``[split] valid`` file): ``{"part": "valid.csv", "refit": "train.csv + valid.csv"}``,
    as compare's rows say it. ``None``: a part is cut from each user's training ratings (the page's words)."""
    parts = [p for p in given or () if not isinstance(p, str)]
    if len(parts) != 3:
        return None
    train, valid = parts[0]._cache.get("part"), parts[1]._cache.get("part")
    return {
        "part": valid or "the given valid part",
        "refit": f"{train} + {valid}" if train and valid else "the given train + valid parts",
    }


def _files_words(ds: Any) -> str:
    """``every file given (train.csv + test.csv)``: what export trains on for a report on a split of files."""
    names = [Path(ds.split_files[p]["path"]).name for p in ("train", "valid", "test") if p in ds.split_files]
    return f"every file given ({' + '.join(names)})"


def _winners(table: Sequence[dict[str, Any]], k: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, _h, lower in table_columns(k, _has_auc(table)):
        if key.startswith(("novelty", "coverage")):  # descriptive: more is not simply better
            continue
        vals = [(r["values"].get(key), r["model"]) for r in table]
        vals = [(v, m) for v, m in vals if v is not None and np.isfinite(v)]
        if len(vals) > 1:
            out[key] = (min(vals) if lower else max(vals))[1]
    return out


def reading(table: Sequence[dict[str, Any]], k: int) -> str:
    """A plain-English sentence or three saying who wins what, and whether the lead is beyond noise."""
    parts: list[str] = []
    rated = sorted((r["values"]["rmse"], r["model"]) for r in table if r["values"].get("rmse") is not None)
    if rated:
        v, m = rated[0]
        if len(rated) > 1:
            parts.append(
                f"{m} predicts held-out ratings best (RMSE {v:.3f}, next {rated[1][1]} at {rated[1][0]:.3f})."
            )
        else:
            parts.append(f"{m} predicts held-out ratings with RMSE {v:.3f}.")
    key = f"ndcg@{k}"
    ranked = sorted(
        (
            (r["values"][key], r["model"], r["intervals"].get(key))
            for r in table
            if r["values"].get(key) is not None
        ),
        key=lambda t: -t[0],
    )
    if ranked:
        v, m, ci = ranked[0]
        if len(ranked) > 1:
            v2, m2, ci2 = ranked[1]
            clear = ci is not None and ci2 is not None and ci[0] > ci2[1]
            verdict = (
                "the 95% intervals do not overlap, so the lead is clear"
                if clear
                else "their 95% intervals overlap, so the lead is within noise"
            )
            ratio = f", {v / v2:.1f}× the runner-up" if v2 > 0 and v / v2 >= 1.15 else ""
            parts.append(
                f"{m} ranks best over the full catalogue (NDCG@{k} {v:.3f} against {v2:.3f} for {m2}{ratio}); {verdict}."
            )
        else:
            parts.append(f"{m} reaches NDCG@{k} {v:.3f} over the full catalogue.")
        worst = ranked[-1]
        explicit_only = [r for r in table if r["kind"] == "explicit" and r["values"].get(key) is not None]
        if explicit_only and len(ranked) > 2:
            best_exp = max(explicit_only, key=lambda r: r["values"][key])
            if best_exp["model"] != m:
                parts.append(
                    f"Rating predictors rank poorly (best {best_exp['model']} at {best_exp['values'][key]:.3f}): "
                    "a low RMSE does not make a good top-10 list."
                )
        del worst
        pop = next(
            (r for r in table if r["model"] == "popularity" and r["values"].get(key) is not None), None
        )
        if pop is not None:
            below = [name for val, name, _ in ranked if name != "popularity" and val < pop["values"][key]]
            if below:
                parts.append(
                    f"Below popularity (NDCG@{k} {pop['values'][key]:.3f}): {', '.join(below)}; their lists "
                    "are worse than showing everyone the most popular movies (the most liked)."
                )
    tc = [
        r["values"].get(f"tc:precision@{k}")
        for r in table
        if r["values"].get(f"tc:precision@{k}") is not None
    ]
    if tc:
        parts.append(
            f"The notebook's test-candidates P@{k} ({min(tc):.2f}–{max(tc):.2f}) is far higher because each user's candidates are only "
            "their own test items: easy and optimistic, kept for comparison, not the headline."
        )
    return " ".join(parts)


def _print_table(console: Any, table: Sequence[dict[str, Any]], k: int, winners: dict[str, str]) -> None:
    from rich.table import Table

    t = Table(
        title=f"model comparison (K={k}; full-ranking unless marked tc = test-candidates)",
        title_justify="left",
    )
    t.add_column("model", no_wrap=True)
    t.add_column("type")
    columns = table_columns(k, _has_auc(table))
    for key, head, _ in columns:
        t.add_column(("tc " if key.startswith("tc:") else "") + head, justify="right", no_wrap=True)
    t.add_column("fit s", justify="right")
    for r in table:
        cells = []
        for key, _h, _ in columns:
            v = r["values"].get(key)
            text = _fmt(v)
            if winners.get(key) == r["model"]:
                text = f"[bold green]★{text}[/]"
            cells.append(text)
        t.add_row(r["model"], r["kind"] or "", *cells, _fmt(r.get("fit_seconds"), 1))
    if not getattr(console, "is_terminal", False):  # piped: do not squeeze the table into 80 columns
        from rich.console import Console

        console = Console(file=console.file, width=170, highlight=False, no_color=console.no_color)
    console.print(t)


def _map_inputs(
    label: str, model: Recommender, train_counts: np.ndarray, map_items: int | None, data: str = ""
) -> dict[str, Any]:
    """A model's item vectors and the items its map shows, or a ``note`` when it has no vectors (``data``:
    the options that name the report's data, for the command the note prints, :func:`data_flags`)."""

    emb = model.item_embeddings() if hasattr(model, "item_embeddings") else None
    if emb is None:
        why, hint = _no_vectors(type(model), getattr(model, "name", label), model, data)
        # plain text: the page and results.json show notes as written (backticks read as backticks)
        return {"model": label, "note": f"{label} {why}, so it has no embedding map{in_cli(hint)}."}
    emb = np.asarray(emb, dtype=np.float64)
    norms = np.linalg.norm(emb, axis=1)
    usable = np.flatnonzero((train_counts > 0) & np.isfinite(norms) & (norms > 0))
    if len(usable) < 3:
        return {"model": label, "note": f"{label}: fewer than 3 items with vectors, so no map."}
    if map_items is not None and len(usable) > map_items:
        order = np.argsort(-train_counts[usable], kind="stable")
        usable = np.sort(usable[order[:map_items]])
    return {"model": label, "emb": emb, "items": usable}


def _no_vectors(cls: type, name: str, model: Any = None, data: str = "") -> tuple[str, Doors]:
    """Why a model of ``cls`` has no item vectors (``keeps neighbour lists, not item vectors``) and, when it
    has a 'similar' of its own, the hint that names it, in each door's words (a :class:`Doors`); the report's
    note (the command, which the page's reader copies) and embed's refusal both say it. ``data``: the
    options that name the data (:func:`data_flags`), which the command carries: on ``--dataset ml-100k``
    it said ``movierec similar TITLE --model ease``, which lists ml-latest-small's movies."""
    from movierec.models.ease import LinearItemModel

    if hasattr(model, "neighbours_") or "knn" in name:
        why = "keeps neighbour lists, not item vectors"
    elif issubclass(cls, LinearItemModel):  # ease, rp3beta, slim
        why = "learns item-to-item weights, not item vectors"
    else:
        why = "learns no item vectors"
    own = getattr(cls, "similar_items", None)  # a 'similar' of its own (weights, neighbours)
    lists = own is not None and own is not BaseRecommender.similar_items
    # the title is the command's argument: 'movierec similar --model ease' as written (the report's note said
    # so) is refused with 'give exactly one movie: a TITLE … or --movie-id ID'
    if not lists:
        return why, Doors("", "")
    python = f"; movierec.Recommender(ds, {name!r}).fit().similar(TITLE) lists its nearest movies"
    return why, Doors(python, f"; 'movierec similar TITLE --model {name}{data}' lists its nearest movies")


#: a Dataset's ``load_options`` (an experiment file's ``[dataset]`` keys) → the CLI option that says the same
_FILE_FLAGS = {
    "user_col": "--user-col",
    "item_col": "--item-col",
    "rating_col": "--rating-col",
    "time_col": "--time-col",
    "delimiter": "--sep",
    "encoding": "--encoding",
    "movies": "--movies",
}


def data_flags(ref: str | None, options: dict[str, Any] | None = None, *, file: bool = False) -> str:
    """The options a printed command needs to read the data ``ref`` names again (:meth:`Dataset.reload_ref
    <movierec.datasets.Dataset.reload_ref>`, with its ``load_options``): ``" --dataset ml-100k"``, ``"
    --ratings /data/r.csv --sep ';'"``; empty for ml-latest-small (every command's default) and for data
    given in memory, which no command reads. ``file``: ``ref`` is a ratings file (typed as ``--ratings``)
    whether or not it is there now."""
    import shlex

    if ref is None or ref == "ml-latest-small":
        return ""
    options = options or {}
    if not (options or file or Path(ref).is_file()):
        return f" --dataset {shlex.quote(ref)}"
    flags = [f"--ratings {shlex.quote(ref)}"]
    for key, value in options.items():
        if key == "header":
            flags.append("--header" if value else "--no-header")
        elif key in _FILE_FLAGS:  # None (no rating or time column) is typed ''
            text = "tab" if value == "\t" else "" if value is None else str(value)
            flags.append(f"{_FILE_FLAGS[key]} {shlex.quote(text)}")
    return " " + " ".join(flags)


def vector_models() -> list[str]:
    """The registered models (reference libraries' aside) whose fitted form has item vectors, as each class
    declares (``item_vectors``): the ones ``embed`` can map."""
    from movierec.models.registry import MODELS, get_class

    return [n for n in MODELS if ":" not in n and get_class(n).item_vectors]


def no_map_error(label: str, cls: type, name: str, data: str = "") -> ConfigError:
    """The one line for a model with no item vectors to map: why, which models have them, and where its own
    nearest movies are listed (``data``: the options naming the data, :func:`data_flags`)."""
    why, hint = _no_vectors(cls, name, data=data)
    said = f"{why}, so there is no map"
    every = vector_models()
    # the command line names three (its line listed all 14: 300 characters, four rows of 80 columns)
    few = [m for m in ("als", "svd", "bpr") if m in every] or every[:3]
    cli = (
        f"{', '.join(few)} and {len(every) - len(few)} more have item vectors"
        if len(every) > 3
        else ", ".join(every)
    )
    return ConfigError(
        Doors(
            f"{labelled('model=', label)}: {said}; the models with item vectors are {', '.join(every)}{hint}",
            f"{labelled('--model', label)}: {said}; {cli}{hint.cli}",
        )
    )


def check_mappable(model: str, data: str = "") -> None:
    """Refuse, before any data is read or model fitted, a map of a model whose class declares it has no item
    vectors (``item_vectors`` False): ``embed -m ease`` fitted EASE and only then said it had none. ``data``:
    the options that name the data, for the 'movierec similar' command the refusal prints."""
    from movierec.models.registry import get_class

    spec = parse_models([model])[0]
    cls = get_class(spec.name)
    if cls.item_vectors is False:
        raise no_map_error(spec.label, cls, spec.name, data)


def _project_all(inputs: list[dict[str, Any]], projection: str, seed: int, status: Any = None) -> list[Any]:
    """Project every map, two at a time on separate threads (openTSNE's gradient loops release the GIL);
    each projection is seeded on its own, so the result does not depend on the scheduling. Each model's
    layout is said on ``status`` as it starts (:func:`_say`: 'ease · fitting its 2-D layout (pca) · 1/3')."""
    from concurrent.futures import ThreadPoolExecutor

    from movierec.viz.embeddings import project

    todo = [m for m in inputs if "emb" in m]
    workers = max(1, min(2, os.cpu_count() or 1, len(todo)))

    def layout(n: int, m: dict[str, Any], **kw: Any) -> Any:
        _say(status, "embeddings", f"{m['model']} · fitting its 2-D layout ({projection}) · {n}/{len(todo)}")
        return project(m["emb"], projection, seed, None, items=m["items"], **kw)

    if projection == "umap" or workers == 1:  # umap's numba code is not known to be thread-safe
        return [layout(n, m) for n, m in enumerate(todo, start=1)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(layout, n, m, n_jobs=1) for n, m in enumerate(todo, start=1)]
        return [f.result() for f in futures]


def _map_for_model(
    label: str,
    emb: np.ndarray,
    proj: Any,
    frame: pd.DataFrame,
    train_counts: np.ndarray,
    *,
    seen: Any,
    projection: str,
    charts_dir: Path,
    div_id: str,
    png: bool = False,
) -> dict[str, Any]:
    """Draw one model's projected item vectors: interactive map, neighbour table, coordinates (static PNG on request)."""
    from movierec.viz.embeddings import map_figure, map_spec_html, nearest_neighbours, static_map

    usable = proj.items
    title = f"{label}: item vectors, {projection.upper() if projection != 'tsne' else 't-SNE'} of the {len(usable):,} most popular items"
    fr = frame.copy()
    fr["n_ratings"] = train_counts
    png_path = static_map(fr, proj, charts_dir / f"map_{_slug(label)}.png", title=title) if png else None
    div = map_spec_html(map_figure(fr, proj), div_id)
    neighbours = nearest_neighbours(emb, fr, seen=seen)
    coords = fr.iloc[proj.items][["movieId", "title", "genre"]].copy()
    coords.insert(0, "model", label)
    coords["x"] = np.round(proj.coords[:, 0], 4)
    coords["y"] = np.round(proj.coords[:, 1], 4)
    coords["n_ratings"] = train_counts[proj.items]
    return {
        "model": label,
        "title": title,
        "png": png_path,
        "div": div,
        "neighbours": neighbours,
        "coords": coords,
        "seconds": proj.seconds,
        "n_items": len(proj.items),
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass
class _Run:
    """One report run: its options and what the steps share (dataset, models, folder, notes, timings).

    ``out`` is the report's folder; the steps write into ``work``, the staging folder that becomes ``out``
    when the report is complete. ``replaces``: the files of the old report in ``out`` (``--force``, or the
    same report run again), removed then unless the new report writes them again.
    """

    ds: Any
    specs: list[ModelSpec]
    out: Path
    fingerprint: dict[str, Any]
    console: Any
    show_progress: bool
    k: int
    threshold: float
    seed: int
    projection: str
    map_items: int | None
    png_maps: bool
    curve_k: int
    user_features: str | None
    split: str = "auto"
    test_size: float = 0.2
    #: a split made elsewhere, ``(train, test, about)`` as compare takes it (``report --config`` with
    #: ``[split] train``/``test``): the table, curves, charts, beyond-accuracy lists and maps are on it
    given: tuple[Any, ...] | None = None
    protocols: tuple[str, ...] = ("rating", "full-ranking", "test-candidates")
    beyond: bool = True
    auc: bool = False
    early_stopping: Any = None  # compare's early_stopping (a StopSpec's fields), or None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    replaces: list[str] = field(default_factory=list)
    work: Path | None = None
    started: float = field(default_factory=time.monotonic)  # progress lines are stamped from here

    @property
    def charts_dir(self) -> Path:
        return self.folder / "charts"

    @property
    def folder(self) -> Path:
        """Where the steps write: the staging folder (``out`` itself only outside :func:`build_report`)."""
        return self.out if self.work is None else self.work

    @contextmanager
    def timed(self, step: str) -> Iterator[Any]:
        """Record how long ``step`` took in ``timings`` (the page and results.json report them); gives the
        step's status for :func:`_say` (``None`` where it shows nothing)."""
        tic = time.perf_counter()
        with _step_line(self.console, step, self.started, self.show_progress) as status:
            yield status
        self.timings[step] = time.perf_counter() - tic


@dataclass
class _Trained:
    """The comparison's outcome: result rows in the specs' order, fitted models and their training data."""

    rows: list[Any]
    fitted: dict[str, Any]
    fit_train: dict[str, Any]
    base: Any  # the first Comparison: split, test set and provenance the page reports
    #: the user features a model learned from, as the comparisons' captions name them (``None``: none did)
    user_features: str | None = None


_PROTOCOLS = ("rating", "full-ranking", "test-candidates")


def _report_protocols(protocols: Sequence[str] | None) -> tuple[str, ...]:
    """The protocols of the model table, in the report's order: ``None`` all three of :data:`_PROTOCOLS`;
    others, or a list without full-ranking (the curves, charts and maps rank every movie), are refused."""
    if protocols is None:
        return _PROTOCOLS
    given = [str(p).strip().lower().replace("_", "-") for p in protocols]
    other = [p for p in given if p not in _PROTOCOLS]
    if other:
        raise ConfigError(
            f"protocols {other}: the report's model table is on {', '.join(_PROTOCOLS)}; compare takes the others"
        )
    if "full-ranking" not in given:
        raise ConfigError(
            f"protocols {given}: the report ranks every movie for its curves, charts and maps; add 'full-ranking'"
        )
    return tuple(p for p in _PROTOCOLS if p in given)


def build_report(
    dataset: Any = "ml-latest-small",
    models: Sequence[ModelSpec] | str | None = None,
    out: str | Path | None = None,
    *,
    projection: str = "tsne",
    seed: int = 42,
    force: bool = False,
    k: int = 10,
    threshold: float | None = None,
    map_items: int | None = 1500,
    png_maps: bool = False,
    curve_k: int = 50,
    console: Any = None,
    show_progress: bool = True,
    user_features: str | None = None,
    item_features: str | None = None,
    split: str | tuple[Any, ...] = "auto",
    test_size: float = 0.2,
    protocols: Sequence[str] | None = None,
    beyond: bool = True,
    auc: bool = False,
    early_stopping: Any = None,
    params: dict[str, dict[str, Any]] | None = None,
) -> Report:
    """Run the whole report and write it into ``out`` (default ``reports/<timestamp>``); returns what it wrote.

    ``models`` defaults to :data:`DEFAULT_MODELS` (less its rating models, with a note, on data without
    ratings, whose ``threshold`` then defaults to the one value: every row a positive); ``map_items`` caps each embedding map to the
    most-rated items (``None``: every item with a vector). ``item_features`` (``"genres,tags"``) go to every
    model that takes them and names none of its own (:func:`with_item_features`). ``user_features`` (``demographics``
    and/or a CSV) go to the models that use them; a dataset with demographics adds the "new users"
    section either way. ``split`` and ``test_size`` are :func:`~movierec.evaluation.compare`'s (``"auto"``:
    the ratings hold-out, or the interactions hold-out when every model is implicit): the model table, its
    charts, the curves, the beyond-accuracy and similar-movies sections and the maps all come from that one
    split (the sequence and new-users sections keep their own protocols). ``protocols`` (default: rating,
    full-ranking and test-candidates) narrows the model table to some of those three; full-ranking is
    one of them always, since the curves, charts and maps rank every movie. ``beyond=False`` leaves out the
    beyond-accuracy metrics and section; ``auc=True`` adds compare's AUC column to the model table (an
    experiment file's ``protocols``, ``beyond`` and ``auc``, as ``report --config`` reads them).
    ``split`` may also be a split made elsewhere, ``(train, test, about)`` of ``dataset``'s interactions as
    compare takes it, or ``(train, valid, test, about)`` with a validation file
    (:meth:`movierec.split_files.SplitFiles.parts`; its rows train, and early stopping scores on them
    as compare's does): every section that reads a split reads
    that one (the validation slice of the training curves is cut from its training part, never the test
    part); the sequence and new-users sections, which draw their own split of the whole data, are left
    out with a note, and ``best.toml`` names the files again.
    ``early_stopping`` is compare's (an experiment file's ``early_stopping``): the models that can stop are
    stopped on a validation part and refit with their best epochs; the training chart then shows each
    stopping run's loss and its validation score on that part (no second slice is cut). ``params`` maps a
    model's name or label to hyperparameters for ``models`` given by name or left to the defaults
    (``{"svd": {"epochs": 5}}``; ``report --params``), the default set still chosen for the data. The steps,
    in order: :func:`_start` (load, check the folder), the dataset section, :func:`_train_evaluate`, the sequence
    and new-users sections, :func:`_curves`, :func:`_model_charts`, the beyond-accuracy section,
    :func:`_embedding_maps`, :func:`_write`.

    The report is written beside ``out`` and moved into place only when every step has succeeded: when
    one fails (or on Ctrl-C) nothing is written, and a report already in ``out`` is left as it was.
    """
    if params and models is not None and not isinstance(models, str):
        raise ConfigError(
            "params= goes with models given by name, or none: a ModelSpec carries its own params"
        )
    run = _start(
        dataset,
        models,
        out,
        force=force,
        console=console,
        show_progress=show_progress,
        k=k,
        threshold=threshold,
        seed=seed,
        projection=projection,
        map_items=map_items,
        png_maps=png_maps,
        curve_k=curve_k,
        user_features=user_features,
        item_features=item_features,
        split=split,
        test_size=test_size,
        protocols=_report_protocols(protocols),
        beyond=beyond,
        auc=auc,
        early_stopping=early_stopping,
        params=params,
    )
    # written beside --out and moved into place when complete: a model that fails, or Ctrl-C, leaves
    # no half report (some charts, no index.html) and an old report it would replace (--force) intact
    with staged_output(run.out, last=("index.html", "results.json"), option=OUT) as staged:
        staged.obsolete = run.replaces
        run.work = staged.path
        report = _steps(run)
    run.work = None
    return report


def _steps(run: _Run) -> Report:
    """The report's steps after :func:`_start`, writing into ``run.work``: the dataset section,
    :func:`_train_evaluate`, the sequence and new-users sections, :func:`_curves`, :func:`_model_charts`,
    the beyond-accuracy section, :func:`_embedding_maps`, :func:`_write`."""
    from movierec.viz import charts as C

    k, threshold = run.k, run.threshold
    run.charts_dir.mkdir(exist_ok=True)
    with run.timed("dataset"):  # 1. dataset
        summary, data_charts = _dataset_section(run.ds, run.charts_dir)
        if run.ds.movies is None:
            run.notes.append(
                f"{run.ds.name} has no movie titles or genres: items are shown by id and maps have one colour"
            )
    with run.timed("train_evaluate"):  # 2. train and evaluate
        trained = _train_evaluate(run)
    table = _table_rows(trained.rows, k, run.specs)
    sections = _extra_sections(run)  # 2b, 2c: sequence and new users, when they apply
    labels = [r["model"] for r in table]  # 3. curves and charts
    colours = C.model_colours(labels)
    with run.timed("curves") as status:
        ks, curves = _curves(run, trained, labels, status)
    with run.timed("charts"):
        model_charts = _model_charts(run, trained, table, labels, colours, ks, curves)
    beyond = None
    if run.beyond:  # beyond = false in an experiment file: no beyond-accuracy metrics, no section
        with run.timed("beyond"):
            beyond = _beyond(
                trained.rows,
                k,
                run.charts_dir,
                colours,
                trained.fitted,
                trained.fit_train,
                trained.base,
                threshold,
            )
    with run.timed("embeddings") as status:  # 4. similar movies (lift), then embedding maps
        _say(status, "embeddings", "similar movies by lift")
        similar = _liked_together(run, trained)
        maps = _embedding_maps(run, trained, labels, status)
    with _step_line(run.console, "write", run.started, run.show_progress):
        return _write(  # 5. write (timed inside)
            run,
            trained,
            table,
            summary=summary,
            data_charts=data_charts,
            model_charts=model_charts,
            ks=ks,
            curves=curves,
            maps=maps,
            sections={**sections, "beyond": beyond, "similar": similar},
        )


#: modules the report imports beyond the core install (the viz extra, which the report extra holds), and
#: those of each projection of its maps
_REPORT_MODULES = ("matplotlib", "plotly", "jinja2")
_PROJECTION_MODULES = {"tsne": ("openTSNE", "sklearn"), "umap": ("umap",), "pca": ("sklearn",)}
_PACKAGES = {"umap": "umap-learn", "sklearn": "scikit-learn"}  # the names pip knows them by


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported here, asked with ``find_spec`` (nothing is imported)."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module marked missing
        return False


def check_installed(models: Sequence[ModelSpec] | str | None = None, projection: str = "tsne") -> None:
    """Refuse (one :class:`ConfigError`) a report this install cannot finish, before any data loads: every
    module the report needs that is missing, in one sentence with the one install that brings them all.

    With only the serve extra, ``movierec report`` said "charts need matplotlib: pip install …[viz]" once the
    data had loaded, and after that install "model 'als' needs implicit: pip install …[report]": two
    rounds for what the report extra installs at once (viz and implicit). A model whose library another
    extra installs (sasrec's torch) is named after it, with its own install. ``models``: as build_report
    takes them (``None``: the default set, als included)."""
    from movierec.errors import install_hint
    from movierec.models.registry import get_class, missing_module

    if models is None or isinstance(models, str):
        specs = parse_models(DEFAULT_MODELS if models is None else models)
    else:
        specs = list(models)
    modules = (*_REPORT_MODULES, *_PROJECTION_MODULES.get(projection, ()))
    needed = [_PACKAGES.get(m, m) for m in modules if not _installed(m)]
    others: list[str] = []
    for name in dict.fromkeys(spec.name for spec in specs):
        missing = missing_module(get_class(name))
        if missing is None:
            continue
        if "'movierec[report]'" in missing[1]:
            needed.append(f"{missing[0]} (for {name})")
        else:
            others.append(f"model {name!r} needs {missing[0]}: {missing[1]}")
    parts = []
    if needed:
        listed = ", ".join(needed[:-1]) + f" and {needed[-1]}" if len(needed) > 1 else needed[0]
        verb = "is" if len(needed) == 1 else "are"
        parts.append(f"the report needs {listed}, which {verb} not installed here: {install_hint('report')}")
    if parts or others:
        raise ConfigError("; ".join(parts + others))


def _start(
    dataset: Any,
    models: Sequence[ModelSpec] | str | None,
    out: str | Path | None,
    *,
    force: bool,
    item_features: str | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    **opts: Any,
) -> _Run:
    """Check the options, load the dataset, resolve the model specs and check the output folder."""
    from rich.console import Console

    from movierec.viz.embeddings import METHODS

    if opts["projection"] not in METHODS:
        fix = _projection_fix(opts["projection"])
        shown = opts["projection"]
        raise ConfigError(Doors(f"{labelled('projection=', shown)}: {fix}", f"--projection {shown!r}: {fix}"))
    if not 1 <= opts["k"] <= opts["curve_k"]:
        said = f"must be between 1 and {opts['curve_k']}"
        raise ConfigError(Doors(*(f"{labelled(k, opts['k'])}: {said}" for k in ("k=", "--k"))))
    given = tuple(opts["split"]) if isinstance(opts["split"], (tuple, list)) else None
    if given is None:
        opts["split"], opts["test_size"] = check_split(opts["split"], opts["test_size"])
    else:  # compare checks the pair (its parts, no test_size) as it checks one given to it
        opts["split"] = "given"
    check_installed(models, opts["projection"])  # every missing module at once, before the data loads
    opts["console"] = opts["console"] or Console(stderr=True, highlight=False)
    from movierec.progress import clock_origin

    # piped lines are stamped from the command's start where there is one (the CLI's loading line came first)
    tic, origin = time.perf_counter(), clock_origin() or time.monotonic()
    if isinstance(dataset, (str, Path)):
        from movierec.datasets import load

        with _step_line(opts["console"], "load", origin, opts["show_progress"]):
            ds = load(dataset)
    else:
        ds = dataset
    notes = list(ds.notes)
    opts["threshold"] = resolve_threshold(ds.interactions, opts["threshold"])
    if models is None:
        from movierec.features import available_families

        specs = _default_specs(
            notes,
            without_ratings=ds.interactions.interactions_only,
            families=available_families(ds),
            params=params,
        )
    elif isinstance(models, str):
        specs = parse_models(models, params)
    else:
        specs = list(models)
    if not specs:
        raise ConfigError(f"no model to train ({_MODELS})")
    if item_features:
        specs = with_item_features(specs, item_features, notes)
    folder = Path(out) if out is not None else default_out()
    fingerprint = {
        "dataset": ds.name,
        "sha256": ds.sha256,
        "models": [s.label for s in specs],
        "params": {s.label: s.params for s in specs},
        "seed": opts["seed"],
        "projection": opts["projection"],
        "k": opts["k"],
        "threshold": opts["threshold"],
        "map_items": opts["map_items"],
    }
    if opts["user_features"]:
        fingerprint["user_features"] = opts["user_features"]
    if (opts["split"], opts["test_size"]) != ("auto", 0.2):  # a report from before --split matches still
        fingerprint.update(split=opts["split"], test_size=opts["test_size"])
    if given is not None:  # the files (each one's sha256) are the split: another pair is another report
        about = given[-1] if isinstance(given[-1], str) else "given"  # (train, [valid,] test, about)
        files = {p: f["sha256"] for p, f in (ds.split_files or {}).items() if p != "catalogue"}
        fingerprint.update(split=str(about), **({"split_files": files} if files else {}))
    if opts["protocols"] != _PROTOCOLS:  # an experiment file's protocols, beyond = false, auc = true
        fingerprint["protocols"] = list(opts["protocols"])
    fingerprint.update({key: opts[key] for key in ("beyond", "auc") if opts[key] != (key == "beyond")})
    fingerprint = json.loads(json.dumps(fingerprint, default=str))
    old = check_output(folder, fingerprint, force=force)
    run = _Run(
        ds=ds,
        specs=specs,
        out=folder,
        fingerprint=fingerprint,
        notes=notes,
        started=origin,
        given=given,
        **opts,
    )
    run.replaces = _replaced_files(old)
    run.timings["load"] = time.perf_counter() - tic
    return run


def check_split(split: str, test_size: float) -> tuple[str, float]:
    """``(split, test_size)`` as the report runs them (the split's canonical name, the test size as read:
    an int a count), checked before any data loads, in compare's and ``make_split``'s words: an unknown
    split, a count for the per-user split, ``test_size=1.5``."""
    from movierec.evaluation import SPLITS
    from movierec.split import check_test_size, split_key, unknown_split

    key = split_key(split)  # a number in its place says where a test share goes
    if key not in SPLITS:
        raise ConfigError(unknown_split(split, SPLITS))
    return key, check_test_size(test_size, key)


def _train_evaluate(run: _Run) -> _Trained:
    """One :func:`~movierec.evaluation.compare` per feature set, all on the same named split."""
    from rich.console import Console

    from movierec.epoch_validation import EpochValidator
    from movierec.evaluation import compare
    from movierec.models.registry import create

    split = run.given if run.given is not None else _resolve_split(run.specs, run.split)
    groups: dict[str | None, list[ModelSpec]] = {}
    for s in run.specs:
        groups.setdefault(s.features, []).append(s)
    trained = _Trained(rows=[], fitted={}, fit_train={}, base=None)
    console = run.console if run.show_progress else Console(quiet=True)
    # validation curves of svd, bpr, warp…; a list without such a model (popularity, ease) keeps the slice
    # in training, so its figures are compare's on the same split
    followed = not run.early_stopping and any(
        EpochValidator.follows(create(s.name, **s.params)) for s in run.specs
    )
    monitor = EpochValidator(k=run.k, seed=run.seed) if followed else None
    with _Progress(console, len(run.specs), run.started) as prog:
        for features, group in groups.items():
            rename: dict[str, str] = {}  # compare keys the rows by the specs' own labels
            comp = compare(
                run.ds,
                [(g.name, dict(g.params), g.label) for g in group],
                split=split,
                test_size=run.test_size,
                protocols=run.protocols,
                k=run.k,
                threshold=run.threshold,
                seed=run.seed,
                item_features=features,
                user_features=run.user_features,
                progress=prog.handler(rename),
                beyond=run.beyond,
                auc=run.auc,
                monitor=monitor,
                early_stopping=run.early_stopping,
            )
            if trained.base is None:
                trained.base = comp
            _collect(trained, comp, rename, run.notes)
    if monitor is not None and monitor.note():
        run.notes.append(str(monitor.note()))
    order = {s.label: i for i, s in enumerate(run.specs)}  # rows in the order the specs were given
    trained.rows.sort(
        key=lambda r: (
            order.get(r.label, 99),
            _PROTOCOLS.index(r.protocol) if r.protocol in _PROTOCOLS else 9,
        )
    )
    return trained


def _collect(trained: _Trained, comp: Any, rename: dict[str, str], notes: list[str]) -> None:
    """Add one comparison's rows, models and notes under the specs' labels (``warp+genres``, not ``warp``)."""
    for r in comp.rows:
        r.label = rename.get(r.label, r.label)
    trained.rows.extend(comp.rows)
    trained.user_features = trained.user_features or getattr(comp, "user_features", None)
    for lab, model in comp.models.items():
        trained.fitted[rename.get(lab, lab)] = model
        trained.fit_train[rename.get(lab, lab)] = comp.fit_train[lab]
    for n in comp.notes:
        for old, new in rename.items():
            n = re.sub(rf"\b{re.escape(old)}\b(?!\+)", new, n) if old != new else n
        if n not in notes and not _joined_skip(notes, n):
            notes.append(n)


#: a comparison's note on models a protocol skipped: 'rating skipped for bpr, ease: implicit models (…)'
_SKIP_NOTE = re.compile(r"^(?P<protocol>[\w-]+) skipped for (?P<labels>.+?): (?P<why>.+)$", re.S)


def _joined_skip(notes: list[str], note: str) -> bool:
    """Whether ``note``, a protocol's skip of models trained in another group, was joined to the note of an
    earlier group that skipped models for the same reason. Each comparison groups its own models' skips into
    one note, but the report trains models with item features in a group of their own, so the notes read
    'rating skipped for bpr, ease: implicit models (no rating predictions), so no RMSE/MAE' and then
    'rating skipped for warp+genres+tags: warp is an implicit model (no rating predictions), so no RMSE/MAE'
    (h207's reading of the bundled data's report); now one note names all three."""
    new = _SKIP_NOTE.match(note)
    if new is None:
        return False
    protocol, why = new["protocol"], _shared_why(new["why"])
    for at, old in enumerate(notes):
        seen = _SKIP_NOTE.match(old)
        if seen and seen["protocol"] == protocol and _shared_why(seen["why"]) == why:
            notes[at] = f"{protocol} skipped for {seen['labels']}, {new['labels']}: {why}"
            return True
    return False


def _shared_why(why: str) -> str:
    """A skip's reason with no model as its subject: 'warp is an implicit model (…)' → 'implicit models (…)'
    (as a comparison words the reason it gives for several models)."""
    return re.sub(r"^\S+ is an? (\w+) model\b", r"\1 models", why)


def _extra_sections(run: _Run) -> dict[str, Any]:
    """The sequence section (every model again under leave-last-out, when a sequence model is asked
    for) and the new-users section (issue 20: the warm-up curve, when the dataset has demographics)."""
    from rich.console import Console

    from movierec.viz.report_new_users import new_users_section

    if run.given is not None:  # both draw their own split of the whole data: the test file's rows would train
        _note_given_leaves_out(run)
        return {"sequence": None, "new_users": None}
    sequence: dict[str, Any] | None = None
    if any(s.name in SEQUENCE_MODELS for s in run.specs):
        console = run.console if run.show_progress else Console(quiet=True)
        # every model is fitted again here (sasrec: its time budget again): bars or lines as the main table's
        with run.timed("sequence"), _Progress(console, len(run.specs), run.started) as prog:
            sequence = _sequence_section(
                run.ds, run.specs, k=run.k, seed=run.seed, notes=run.notes, progress=prog.handler({})
            )
    tic = time.perf_counter()
    new_users = new_users_section(run.ds, k=run.k, threshold=run.threshold, seed=run.seed, notes=run.notes)
    if new_users is not None:
        run.timings["new_users"] = time.perf_counter() - tic
    return {"sequence": sequence, "new_users": new_users}


def _note_given_leaves_out(run: _Run) -> None:
    """One sentence for each section a split of files leaves out that the report would otherwise draw: the
    sequence section (a sequence model asked for) and the new-users section (data with demographics)."""
    if any(s.name in SEQUENCE_MODELS for s in run.specs):
        run.notes.append(
            "sequence section left out: it holds out each user's latest rating of the whole data, which would "
            "train on the test file's rows; the model table is on the given files"
        )
    if getattr(run.ds, "users", None) is not None:
        run.notes.append(
            "new-users section left out: it draws its own new users from the whole data, which would train on "
            "the test file's rows; the model table is on the given files"
        )


def _curves(
    run: _Run, trained: _Trained, labels: list[str], status: Any = None
) -> tuple[list[int], dict[str, dict[str, list[float]]]]:
    """Each model's metrics at K = 1 … ``curve_k`` on the full-ranking test set, each model said on
    ``status`` as it starts (:func:`_say`)."""
    from movierec.evaluation import metric_curve

    # up to the catalogue's size: a log of 40 movies stopped the report at K = 41 ("larger than the catalogue")
    ks = list(range(1, min(run.curve_k, int(trained.base.test.n_items)) + 1))
    curves: dict[str, dict[str, list[float]]] = {}
    for n, lab in enumerate(labels, start=1):
        _say(status, "curves", f"{lab} · {n}/{len(labels)}")
        df = metric_curve(
            trained.fitted[lab], trained.fit_train[lab], trained.base.test, ks, threshold=run.threshold
        )
        curves[lab] = {c: [float(x) for x in df[c]] for c in df.columns if c != "k"}
    return ks, curves


def _model_charts(
    run: _Run,
    trained: _Trained,
    table: Sequence[dict[str, Any]],
    labels: list[str],
    colours: dict[str, str],
    ks: list[int],
    curves: dict[str, dict[str, list[float]]],
) -> dict[str, Path]:
    """RMSE bars, ranking bars with intervals, per-user NDCG, metric vs K and training curves (PNG files)."""
    from movierec.viz import charts as C

    k, charts_dir = run.k, run.charts_dir
    charts: dict[str, Path] = {}
    rmse = {r["model"]: r["values"]["rmse"] for r in table if r["values"].get("rmse") is not None}
    for suffix, narrow in C.SCREENS if rmse else ():  # as the charts below
        charts[f"rmse{suffix}"] = C.value_bars(
            rmse,
            charts_dir / f"rmse{suffix}.png",
            title="Rating error on held-out ratings (lower is better)",
            ylabel="RMSE",
            colours=colours,
            narrow=narrow,
        )
    rank_metrics = [f"precision@{k}", f"recall@{k}", f"hit_rate@{k}", f"ndcg@{k}"]
    full = {r.label: r for r in trained.rows if r.protocol == "full-ranking"}
    # the ranking bars and the violins twice: for a wide screen, and narrow for a phone (<picture>, <= 700 px)
    for suffix, narrow in C.SCREENS if full else ():
        charts[f"ranking{suffix}"] = C.grouped_bars(
            {lab: {m: full[lab].metrics.get(m, np.nan) for m in rank_metrics} for lab in full},
            charts_dir / f"ranking{suffix}.png",
            metrics=rank_metrics,
            title=f"Ranking quality, full catalogue (K={k}, 95% intervals)",
            intervals={lab: dict(full[lab].intervals) for lab in full},
            colours=colours,
            narrow=narrow,
        )
        charts[f"per_user{suffix}"] = C.per_user_distribution(
            {lab: full[lab].per_user.get(f"ndcg@{k}") for lab in full},
            charts_dir / f"per_user_ndcg{suffix}.png",
            metric=f"NDCG@{k} per user",
            title=f"Per-user NDCG@{k}: the spread behind the averages",
            colours=colours,
            narrow=narrow,
        )
    histories = _histories(trained, labels)
    # each multi-panel chart twice: side by side, and stacked for a phone (the page's <picture>, <= 700 px)
    for suffix, stacked in C.SCREENS:
        charts[f"metric_vs_k{suffix}"] = C.metric_vs_k(
            curves,
            ks,
            charts_dir / f"metric_vs_k{suffix}.png",
            metrics=CURVE_METRICS,
            title="Metric vs K (full ranking)",
            colours=colours,
            stacked=stacked,
        )
        if histories:
            charts[f"training{suffix}"] = C.training_curves(
                histories, charts_dir / f"training_curves{suffix}.png", colours=colours, stacked=stacked
            )
    return charts


def _histories(trained: _Trained, labels: Sequence[str] | None = None) -> dict[str, list[dict[str, float]]]:
    """Per-epoch records (loss; ``val_…`` where validated) of the models that have a training loss; for a
    model stopped early, those of its stopping run (scored on the validation part it cut)."""
    labels = list(trained.fitted) if labels is None else labels
    # a model stopped early: its stopping run's epochs (val_<metric> on the part it cut), not the refit's
    histories = {
        lab: list(
            getattr(trained.fitted[lab], "stopping_history_", None)
            or getattr(trained.fitted[lab], "history_", [])
            or []
        )
        for lab in labels
    }
    return {lab: h for lab, h in histories.items() if h and any("loss" in e for e in h)}


def _liked_together(run: _Run, trained: _Trained) -> list[dict[str, Any]]:
    """The page's 'similar movies' table: each famous movie's neighbours by lift on the training part's
    positives, ``movierec similar``'s default list (:func:`movierec.viz.embeddings.liked_together`). Its
    section comes before the maps; each model's own nearest neighbours follow under its map, labelled so."""
    from movierec.viz.embeddings import item_frame, liked_together

    base = trained.base
    frame = item_frame(run.ds.item_table(), np.zeros(run.ds.interactions.n_items, dtype=np.int64))
    return liked_together(base.train, base.threshold, frame)


def _embedding_maps(
    run: _Run, trained: _Trained, labels: list[str], status: Any = None
) -> list[dict[str, Any]]:
    """Each model's item vectors projected to 2-D (a note instead for a model without vectors), each stage
    said on ``status`` (:func:`_say`): every model's 2-D layout as it is fitted, then each map drawn."""
    from movierec.beyond import train_pairs
    from movierec.viz.embeddings import item_frame

    ds, fit_train = run.ds, trained.fit_train
    frame = item_frame(ds.item_table(), np.zeros(ds.interactions.n_items, dtype=np.int64))
    counts_of = {
        lab: np.asarray(fit_train[lab].item_counts() if lab in fit_train else ds.interactions.item_counts())
        for lab in labels
    }
    data = data_flags(ds.reload_ref(), ds.load_options)  # the note's 'movierec similar' reads the same data
    inputs = [_map_inputs(lab, trained.fitted[lab], counts_of[lab], run.map_items, data) for lab in labels]
    projections = iter(_project_all(inputs, run.projection, run.seed, status))
    maps = []
    drawn, to_draw = 0, sum("emb" in m for m in inputs)
    for i, m in enumerate(inputs):
        if "note" in m:
            maps.append(m)
            continue
        drawn += 1
        _say(status, "embeddings", f"{m['model']} · drawing its map · {drawn}/{to_draw}")
        maps.append(
            _map_for_model(
                m["model"],
                m["emb"],
                next(projections),
                frame,
                counts_of[m["model"]],
                seen=train_pairs(fit_train.get(m["model"], ds.interactions)),
                projection=run.projection,
                charts_dir=run.charts_dir,
                div_id=f"map-{i}",
                png=run.png_maps,
            )
        )
    run.notes.extend(m["note"] for m in maps if "note" in m)
    return maps


def _write(
    run: _Run,
    trained: _Trained,
    table: list[dict[str, Any]],
    *,
    summary: dict[str, Any],
    data_charts: dict[str, Path],
    model_charts: dict[str, Path],
    ks: list[int],
    curves: dict[str, dict[str, list[float]]],
    maps: list[dict[str, Any]],
    sections: dict[str, Any],
) -> Report:
    """Write embeddings.csv, results.csv, index.html and results.json (timings last, so they are complete)."""
    from movierec.viz.embeddings import plotly_js_gzip_base64

    tic = time.perf_counter()
    out, rows, base, k = run.folder, trained.rows, trained.base, run.k  # out: the staging folder
    winners = _winners(table, k)
    text = reading(table, k)
    files = [p for p in sorted(run.charts_dir.glob("*.png"))]
    results = [r.to_dict() for r in rows]
    _write_embeddings_csv(out / "embeddings.csv", maps)
    _write_results_csv(out / "results.csv", rows)
    best_label = winners.get(f"ndcg@{k}") or winners.get("rmse")
    best_config = _write_best_config(run, best_label, out / "best.toml", run.out / "best.toml", rows)
    written = [
        *(str(p.relative_to(out)) for p in files),
        "results.csv",
        "embeddings.csv",
        "results.json",
        "index.html",
        *(["best.toml"] if best_config is not None else []),
    ]
    run.timings["write"] = time.perf_counter() - tic  # provisional; fixed after the page is written
    meta = {
        "format": REPORT_FORMAT,
        "fingerprint": run.fingerprint,
        "files": written,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "split": base.split,
        "protocols": list(run.protocols),
        # the header names those that ran (rating skips implicit models; test-candidates a split of positives)
        "protocols_run": [p for p in run.protocols if any(r.protocol == p for r in rows)],
        "k": k,
        "threshold": run.threshold,
        "seed": run.seed,
        "projection": run.projection,
        # a ratings file without a movies file: the maps have one colour and ids for titles
        "has_genres": bool(run.ds.catalog is not None and run.ds.catalog["genres"].map(len).any()),
    }
    meta.update(_header_meta(run))
    if run.early_stopping:  # the model table's best-epoch column and the stopping runs' chart
        meta.update(_stopping_meta(run.early_stopping, run.given))
    payload = _payload(run, meta, summary, table, winners, text, results, ks, curves, maps, base)
    payload["training"] = _histories(trained)  # the training-curve chart's data: loss, val_… per epoch
    for key in ("sequence", "new_users"):
        if sections[key] is not None:
            payload[key] = sections[key]
    payload["similar"] = sections["similar"]  # by lift; "neighbours" keeps each model's own
    if sections["beyond"] is not None:
        payload["beyond"] = {key: v for key, v in sections["beyond"].items() if key != "charts"}
    report = Report(
        out=run.out,
        table=table,
        results=results,
        timings=run.timings,
        files=written,
        notes=run.notes,
        reading=text,
        comparison=rows,
        k=k,
        winners=winners,
        best_config=best_config,
        best_label=best_label if best_config is not None else None,
        trains_on=_files_words(run.ds) if run.given is not None and run.ds.split_files else None,
        user_features=trained.user_features,
    )
    html = _render(  # the page shows the report record, with the charts and sections around it
        report,
        ds=run.ds,
        summary=summary,
        data_charts=data_charts,
        model_charts=model_charts,
        maps=maps,
        meta=meta,
        plotly=plotly_js_gzip_base64() if any("div" in m for m in maps) else "",
        provenance=base.provenance,
        curve_k=run.curve_k,
        has_stops=any(r.get("best_epoch") is not None for r in table),
        **sections,
    )
    (out / "index.html").write_text(html, encoding="utf-8")
    run.timings["write"] = time.perf_counter() - tic
    meta["timings"] = {key: round(v, 3) for key, v in run.timings.items()}
    meta["total_seconds"] = round(sum(run.timings.values()), 3)
    (out / "results.json").write_text(
        json.dumps(_clean(payload), indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    return report


def _write_embeddings_csv(path: Path, maps: list[dict[str, Any]]) -> None:
    """Every map's 2-D coordinates, one row per (model, movie)."""
    coords = [m["coords"] for m in maps if "coords" in m]
    emb_rows = (
        pd.concat(coords, ignore_index=True)
        if coords
        else pd.DataFrame(columns=["model", "movieId", "title", "genre", "x", "y", "n_ratings"])
    )
    emb_rows[["model", "movieId", "title", "x", "y", "genre", "n_ratings"]].to_csv(path, index=False)


def _payload(
    run: _Run,
    meta: dict[str, Any],
    summary: dict[str, Any],
    table: list[dict[str, Any]],
    winners: dict[str, str],
    text: str,
    results: list[dict[str, Any]],
    ks: list[int],
    curves: dict[str, dict[str, list[float]]],
    maps: list[dict[str, Any]],
    base: Any,
) -> dict[str, Any]:
    """The body of results.json (the optional sections are added by the caller)."""
    return {
        "report": meta,
        "dataset": summary,
        "table": [
            {**r, "winner_of": [key for key, lab in winners.items() if lab == r["model"]]} for r in table
        ],
        "reading": text,
        "results": results,
        "curves": {"k": ks, **curves},
        "neighbours": {m["model"]: m["neighbours"] for m in maps if "neighbours" in m},
        "maps": {
            m["model"]: (
                {"note": m["note"]}
                if "note" in m
                else {"n_items": m["n_items"], "seconds": round(m["seconds"], 3)}
            )
            for m in maps
        },
        "notes": run.notes,
        "provenance": base.provenance,
    }


def _beyond(
    rows: Sequence[Any],
    k: int,
    charts_dir: Path,
    colours: dict[str, str],
    fitted: dict[str, Any],
    fit_train: dict[str, Any],
    base: Any,
    threshold: float,
) -> dict[str, Any] | None:
    """The "beyond accuracy" section (movierec.viz.report_beyond): each model's top-K lists ranked once more."""
    from movierec.beyond import item_popularity, train_pairs
    from movierec.evaluation import FullRankingProtocol
    from movierec.viz.report_beyond import beyond_section

    lists = {}
    for r in rows:
        if r.protocol == "full-ranking" and getattr(r, "recs", None) is not None:
            lists[r.label] = r.recs  # the lists compare evaluated
        elif r.protocol == "full-ranking" and r.label in fitted:
            _, recs, _, _, _ = FullRankingProtocol().rank(
                fitted[r.label], base.train, base.test, k=k, threshold=threshold
            )
            lists[r.label] = recs
    popularity = item_popularity(train_pairs(base.train))
    return beyond_section(rows, k, charts_dir, colours, lists, popularity)


def print_summary(console: Any, report: Report, *, table: bool = True) -> None:
    """Print the model table (``table=False``: the caller printed its own), the reading, the time each step
    took and where the report is (what ``movierec report`` shows at the end)."""
    from rich.text import Text

    from movierec.tables import print_lines  # wrapped lines without the trailing spaces rich leaves

    if table:
        _print_table(console, report.table, report.k, report.winners)
    print_lines(console, report.reading)
    for line in timing_lines(report.timings, console.width):
        print_lines(console, f"[dim]{line}[/]")
    print_lines(console, f"[green]report written to[/] {(report.out / 'index.html').resolve()}")
    if report.best_config is not None:
        label = report.best_label or "the best model"
        on = getattr(report, "trains_on", None)  # a split of files: export trains on every file
        trains = f"; export trains it on {on}, all the data you gave" if on else ""
        # wrapped without the trailing space rich leaves ('… on every file given ' at 80 columns)
        print_lines(console, Text(f"next: serve {label}, the best ranker here{trains}:"))
        # serve needs its extra, which make demo leaves out: the command installs it first where it is missing
        import importlib.util

        from movierec.errors import install_hint

        ready = all(importlib.util.find_spec(m) is not None for m in ("fastapi", "uvicorn"))
        commands = [] if ready else [install_hint("serve")]
        activate = _activate_command()
        commands = [activate, *commands] if activate else commands
        commands += serve_commands(report.best_config, label)
        # one command, a step a line joined by ' \' (the shell's continuation), so it pastes whole and
        # runs as one: printed on one line (119 columns) the terminal broke it mid-word ('artifacts/ea' /
        # 'se'), and a newline rich put in ran export without its --out value (00bb93a)
        lines = [f"  {commands[0]}", *(f"    && {command}" for command in commands[1:])]
        # a line past the width puts its --out on the next: report's default folder (reports/20261206-220236)
        # made the export line 83 columns, which an 80-column terminal broke mid-path
        lines = [part for line in lines for part in _out_apart(line, console.width)]
        console.print(" \\\n".join(lines), soft_wrap=True, markup=False, highlight=False)


def _out_apart(line: str, width: int) -> list[str]:
    """``line`` of the "next:" command, or, where it and its trailing ``' \\'`` are wider than ``width``, the
    line up to its ``--out`` and ``--out …`` indented under its command: two lines the shell reads as one."""
    head, out, tail = line.partition(" --out ")
    if len(line) + 2 <= width or not out:
        return [line]
    indent = len(line) - len(line.lstrip(" &")) + 4  # under 'movierec', and in from it
    return [head, f"{' ' * indent}--out {tail}"]


def serve_commands(best_config: Path, label: str) -> list[str]:
    """The two commands that serve the report's best ranker: export its best.toml into ``artifacts/LABEL``,
    then serve that folder. One source for the terminal's "next:" and the page's "Serve it" box: the page
    alone printed ``movierec export --config best.toml`` and said it "serves it", which ran as printed ends
    in "missing option '--out'" (exit 2), and export writes an artifact, it does not serve (h128's walk)."""
    import shlex

    artifact = shlex.quote(f"artifacts/{label}")  # quoted where the shell would split it
    return [
        f"movierec export --config {shlex.quote(str(best_config))} --out {artifact}",
        f"movierec serve --artifact {artifact}",
    ]


def _serve_box(report: Report) -> dict[str, str] | None:
    """The page's "Serve it" box: the commands of :func:`serve_commands` as one pasteable block (a step a
    line joined by ``' \\'``, as the terminal prints them), the folder to run them from where best.toml's
    path is relative (the report's ``--out`` as given, e.g. ``make demo``'s ``reports/demo``), and the serve
    extra's install command. None without a best.toml."""
    from movierec.errors import install_hint

    if report.best_config is None:
        return None
    path = Path(report.best_config)
    # the page is read later, in a fresh terminal: make demo's .venv is not active there either
    activate = _activate_command(absolute=path.is_absolute())
    first, *rest = [*([activate] if activate else []), *serve_commands(path, report.best_label or "best")]
    return {
        "commands": " \\\n".join([first, *(f"    && {c}" for c in rest)]),
        "where": _run_from(path),
        "install": install_hint("serve"),
    }


def _run_from(best_config: Path) -> str:
    """Where the serve box's commands run, as words: best.toml's path is the report's ``--out`` as given,
    so a relative one works from the folder that holds that folder (``reports/demo``: where ``make demo``
    ran), or from the report's own folder for ``--out .`` ("the folder that holds ." said nothing); an
    absolute one from anywhere (empty)."""
    if best_config.is_absolute():
        return ""
    if best_config.parent == Path("."):
        return "this report's own folder"
    return f"the folder that holds {best_config.parent}"


def _activate_command(absolute: bool = False) -> str | None:
    """``source .venv/bin/activate`` where this movierec runs from a virtual environment that the shell's
    PATH does not reach, else ``None``. ``make demo`` runs ``.venv/bin/movierec report`` from a shell with
    nothing activated: the 'next:' command's ``pip install …`` then went to whatever ``pip`` the PATH held
    (another Python's) and ``movierec export`` was not found (helper-89's fresh-clone walk). The path is
    relative to the working folder where it lies under it, absolute where it does not or ``absolute`` asks
    (the page's box for a report whose --out was absolute: its commands run from anywhere)."""
    import shlex
    import shutil
    import sys

    bin_dir = Path(sys.prefix) / "bin"
    activate = bin_dir / "activate"
    # not a venv (or not a POSIX one): the PATH's movierec is this one, or the user's own choice
    if sys.prefix == sys.base_prefix or not activate.is_file():
        return None
    found = shutil.which("movierec")
    if found is not None and Path(found).resolve().parent == bin_dir.resolve():
        return None
    try:
        shown = str(activate) if absolute else str(activate.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = str(activate)
    return f"source {shlex.quote(shown)}"


_clean = to_jsonable  # the one sanitiser (movierec.jsonsafe)


def _write_results_csv(path: Path, rows: Sequence[Any]) -> None:
    """Long format: one line per (model, protocol, metric) with its 95% interval (evaluation.results_table)."""
    from movierec.evaluation import write_results_csv

    write_results_csv(path, rows, "long")


def _csv_num(v: Any) -> str:
    if v is None:
        return ""
    v = float(v)
    return repr(v) if np.isfinite(v) else ""


def _dataset_stats(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The dataset section's cards, (label, value): ratings and their mean, or for data without ratings
    (``interactions_only``) interactions and the median per user and per movie, where '1.00 mean rating'
    described a log of plays by the 1s movierec gave its rows."""
    if summary.get("interactions_only"):
        stats = [
            ("users", f"{summary['n_users']:,}"),
            ("movies with interactions", f"{summary['n_items']:,}"),
            ("interactions (no ratings)", f"{summary['n_ratings']:,}"),
            ("density", percent(summary["density"])),
            ("per user, median", count_text(summary["median_per_user"])),
            ("per movie, median", count_text(summary["median_per_item"])),
        ]
    else:
        stats = [
            ("users", f"{summary['n_users']:,}"),
            ("movies rated", f"{summary['n_items']:,}"),
            ("ratings", f"{summary['n_ratings']:,}"),
            ("density", percent(summary["density"])),
            ("mean rating", f"{summary['rating_mean']:.2f}"),
        ]
    if summary.get("n_catalog_items"):
        stats.insert(2, ("movies in catalogue", f"{summary['n_catalog_items']:,}"))
    if summary.get("time_span"):
        span = summary["time_span"]
        stats.append(("time span", f"{span['first'][:7]} → {span['last'][:7]}"))
    if summary.get("n_tags"):
        stats.append(("tags", f"{summary['n_tags']:,}"))
    return stats


def _render(report: Report, **ctx: Any) -> str:
    """index.html: the template over ``report``'s fields (``reading`` as ``text``) and the page's other parts."""
    try:
        import jinja2
    except ModuleNotFoundError as exc:
        raise ConfigError("the HTML report needs jinja2: pip install 'movierec[viz]'") from exc
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("movierec.viz", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["png"] = _png_data
    env.filters["png_width"] = _png_width
    env.globals["grid_classes"] = grid_classes
    env.filters["num"] = _fmt
    env.filters["step_label"] = step_label
    env.filters["thousands"] = lambda v: "—" if v is None else f"{v:,}"
    from movierec.demographics import user_features_words

    env.filters["user_features"] = user_features_words  # 'demographics, extra.csv': a file by its name
    # the column groups of the protocols that ran: a skipped one (rating with implicit models only,
    # test-candidates on positives only) was a group of dashes under a header that said it ran
    ran = set(ctx["meta"].get("protocols_run", _PROTOCOLS))
    every = table_groups(report.k, _has_auc(report.table))
    groups = [g for g, proto in zip(every, _PROTOCOLS, strict=True) if proto in ran] or every
    columns = [col for _, cols in groups for col in cols]
    group_starts = {cols[0][0] for _, cols in groups}  # each group's first column draws a separator
    # the headline metric (full-ranking NDCG@k), shown again beside the model's name on a phone; None
    # when full-ranking did not run
    headline = next((col for col in columns if col[0] == f"ndcg@{report.k}"), None)
    summary = ctx["summary"]
    stats = _dataset_stats(summary)
    total = sum(report.timings.values())
    record = {f.name: getattr(report, f.name) for f in fields(report)}
    template = env.get_template("report.html.j2")
    return template.render(
        columns=columns,
        groups=groups,
        group_starts=group_starts,
        headline=headline,
        stats=stats,
        total_seconds=total,
        text=report.reading,
        serve_box=_serve_box(report),
        **record,
        **ctx,
    )


# --- the map alone (movierec embed) -------------------------------------------------------------------


def _projection_fix(given: str) -> str:
    """'did you mean 'tsne'? choose one of tsne, umap, pca' for ``--projection tnse`` (it listed the three
    and left the reader to spot the swapped letters)."""
    from movierec.errors import closest
    from movierec.viz.embeddings import METHODS

    near = closest(given, METHODS)
    return f"{'' if near is None else f'did you mean {near!r}? '}choose one of {', '.join(METHODS)}"


def build_map(
    dataset: Any = "ml-latest-small",
    model: str = "warp+genres+tags",
    out: str | Path = "embedding",
    *,
    params: dict[str, Any] | None = None,
    projection: str = "tsne",
    sample: int | None = 500,
    seed: int = 42,
    threshold: float = 4.0,
    force: bool = False,
    console: Any = None,
) -> dict[str, Any]:
    """Fit one model on the whole dataset and write its item map: ``map.html`` (standalone), ``map.png``,
    ``embeddings.csv`` and ``neighbours.json``. ``sample`` items are drawn with ``seed`` (``None``: all).
    The files appear in ``out`` only once all are written: a failure leaves ``out`` as it was."""
    from rich.console import Console

    from movierec.viz.embeddings import METHODS

    console = console or Console(stderr=True, highlight=False)
    if projection not in METHODS:
        fix = _projection_fix(projection)
        raise ConfigError(
            Doors(f"{labelled('projection=', projection)}: {fix}", f"--projection {projection!r}: {fix}")
        )
    check_mappable(model)  # before the data is read and the model fitted
    if isinstance(dataset, (str, Path)):
        from movierec.datasets import load

        ds = load(dataset)
    else:
        ds = dataset
    spec = parse_models(model, {model.split("+")[0]: params or {}})[0]
    out = Path(out)
    fingerprint = json.loads(
        json.dumps(
            {
                "dataset": ds.name,
                "sha256": ds.sha256,
                "models": [spec.label],
                "params": spec.params,
                "seed": seed,
                "projection": projection,
                "sample": sample,
                "kind": "map",
            },
            default=str,
        )
    )
    old = check_output(out, fingerprint, force=force)
    # the model's vectors are known only after the fit, and drawing the map takes a while: the map is
    # written beside --out and moved into place when complete, so a failure or Ctrl-C leaves no folder
    # (``embed -m popularity --out e2`` left an empty e2/) and an older map in --out as it was
    with staged_output(out, last=("results.json",), option=OUT) as staged:
        staged.obsolete = _replaced_files(old)
        made = _map_into(staged.path, ds, spec, fingerprint, threshold, projection, seed, sample, console)
    beside = sorted(p.name for p in out.iterdir() if p.is_file() and p.name != "map.html")
    where = str((out / "map.html").resolve())
    _say_done(
        console,
        f"map written to {where} ({made['n_items']:,} items, projection {made['timings']['projection']:.1f} s); "
        f"beside it: {', '.join(beside)}",
    )
    return {"out": out, **made}


def _say_done(console: Any, text: str) -> None:
    """embed's closing sentence (literal) word-wrapped at the console's width with no line ending in a space,
    'map written to' in green on a terminal; piped or logged, a word wider than the width (a path) stays
    whole on a line of its own, so it can be copied, as the CLI's sentences are (``cli.common.print_prose``)."""
    from rich.text import Text

    from movierec.progress import live, prose_lines
    from movierec.tables import print_lines

    if live(console):
        shown = Text(text)
        shown.stylize("green", 0, len("map written to"))
        print_lines(console, shown)
        return
    for line in prose_lines(text, console.width):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _map_into(
    folder: Path,
    ds: Any,
    spec: ModelSpec,
    fingerprint: dict[str, Any],
    threshold: float,
    projection: str,
    seed: int,
    sample: int | None,
    console: Any,
) -> dict[str, Any]:
    """Fit ``spec``, project its item vectors and write the map's files into ``folder`` (:func:`build_map`)."""
    from movierec.viz.embeddings import item_frame, project

    timings: dict[str, float] = {}
    tic = time.perf_counter()
    from movierec.progress import clock_origin

    # the steps' plain lines (piped) are stamped from the command's start (or here), so they read in order
    started = clock_origin() or time.monotonic()
    est, train = _fit_for_map(ds, spec, threshold, console, origin=started)
    timings["fit"] = time.perf_counter() - tic
    emb = est.item_embeddings()
    if emb is None:  # a model that declares no vectors was refused before its fit (check_mappable)
        raise no_map_error(spec.label, type(est), spec.name)
    counts = train.item_counts()
    frame = item_frame(ds.item_table(), counts)
    emb = np.asarray(emb, dtype=np.float64)
    norms = np.linalg.norm(emb, axis=1)
    usable = np.flatnonzero((counts > 0) & (norms > 0))
    tic = time.perf_counter()
    from movierec.progress import status as step_status  # a spinner on a terminal, lines in a pipe or log

    with step_status(
        console,
        f"projecting {len(usable) if sample is None else min(sample, len(usable)):,} items ({projection})",
        origin=started,
    ):
        proj = project(emb, projection, seed, sample=sample, items=usable)
    timings["projection"] = time.perf_counter() - tic
    tic = time.perf_counter()
    name = "t-SNE" if projection == "tsne" else projection.upper()
    title = f"{spec.label} item vectors on {ds.name}: {name} of {len(proj.items):,} items"
    # map.html and map.png: 2-4 s on the bundled data with nothing said; a step as the ones before it
    with step_status(console, "drawing the map (map.html, map.png)", origin=started):
        neighbours = _write_map(folder, frame, proj, emb, title, train)
    timings["write"] = time.perf_counter() - tic
    files = ["map.html", "map.png", "embeddings.csv", "neighbours.json", "results.json"]
    (folder / "neighbours.json").write_text(json.dumps(_clean(neighbours), indent=2) + "\n", encoding="utf-8")
    meta = {
        "format": REPORT_FORMAT,
        "fingerprint": fingerprint,
        "files": files,
        "timings": {key: round(v, 3) for key, v in timings.items()},
        "n_items": len(proj.items),
    }
    (folder / "results.json").write_text(
        json.dumps(_clean({"report": meta}), indent=2) + "\n", encoding="utf-8"
    )
    return {"files": files, "timings": timings, "n_items": len(proj.items), "neighbours": neighbours}


def _fit_for_map(
    ds: Any, spec: ModelSpec, threshold: float, console: Any, *, origin: float | None = None
) -> tuple[Any, Any]:
    """Fit ``spec`` on the whole dataset (positives for an implicit model, with its item features)."""
    from movierec.models.registry import create

    est = create(spec.name, **spec.params)
    inter = ds.interactions
    train = inter if getattr(est, "kind", "implicit") == "explicit" else inter.to_implicit(threshold)
    kwargs: dict[str, Any] = {}
    if spec.features:
        from movierec.features import build_item_features

        kwargs["item_features"] = build_item_features(ds, train.item_map, spec.features)
    # piped, console.status printed nothing: a long fit looked hung
    from movierec.progress import status as step_status

    with step_status(console, f"fitting {spec.label} on {ds.name}", origin=origin):
        est.fit(train, **kwargs)
    return est, train


def _write_map(out: Path, frame: pd.DataFrame, proj: Any, emb: np.ndarray, title: str, train: Any) -> Any:
    """Write map.html, map.png and embeddings.csv; return the items' nearest neighbours."""
    from movierec.beyond import train_pairs
    from movierec.viz.embeddings import interactive_map, nearest_neighbours, static_map

    interactive_map(frame, proj, title=title, path=out / "map.html")
    static_map(frame, proj, out / "map.png", title=title)
    coords = frame.iloc[proj.items][["movieId", "title"]].copy()
    coords["x"] = np.round(proj.coords[:, 0], 4)
    coords["y"] = np.round(proj.coords[:, 1], 4)
    coords["genre"] = frame["genre"].iloc[proj.items].to_numpy()
    coords.to_csv(out / "embeddings.csv", index=False)
    return nearest_neighbours(emb, frame, seen=train_pairs(train))
