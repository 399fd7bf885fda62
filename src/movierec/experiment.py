"""Experiment files: TOML validated by pydantic models, run into ``runs/<id>/`` with full provenance.

An experiment names a dataset, a split, a seed, the models with their hyperparameters, the
protocols, K and the relevance threshold: everything a results table depends on (docs/protocols.md,
'Every table states dataset, split, seed, protocol, K and relevance threshold'). ``movierec tune``
writes its best parameters as one (``best.toml``), and ``compare``/``report``/``export`` read them
with ``--config``. Example::

    seed = 42
    protocols = ["rating", "full-ranking"]
    k = 10
    threshold = 4.0

    [dataset]
    name = "ml-latest-small"

    [split]
    kind = "ratings-holdout"
    test_size = 0.2

    [[models]]
    name = "svd"
    [models.params]
    n_factors = 120

``early_stopping = "ndcg@10"`` (``true``: the defaults; or an ``[early_stopping]`` table of ``metric``,
``patience``, ``every``, ``valid_size``) stops the models that can stop on a validation part of each
fold's training part, as ``compare --early-stopping`` does (:class:`movierec.early_stopping.StopSpec`).
``rank_by = "prediction"`` ranks the rating models' ranking rows by the unclipped predicted rating, as
LensKit ranks a rating scorer (``compare --rank-by prediction``); ``"shrunk"``, the default, by the
support-shrunk score ``recommend`` and the API rank by. ``user_features = "demographics"`` (ml-100k,
ml-1m; or a ``userId,feature`` CSV, or both) gives the models that take user features them, as
``compare --user-features`` does; tune's best.toml writes what the study was tuned with.

Every path a file holds (``[dataset] name`` when it is a ratings file or folder, ``[dataset] movies``,
``[split] train``/``test``/``valid``, ``user_features``' file) is read relative to the file's folder
(:func:`placed_paths`), so the file runs the same from any working directory.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
import secrets
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from movierec.errors import SEED_MAX, ConfigError, did_you_mean, framed, some_of
from movierec.jsonsafe import to_jsonable

__all__ = [
    "DatasetConfig",
    "EarlyStoppingConfig",
    "Experiment",
    "ExperimentRun",
    "ModelConfig",
    "SplitConfig",
    "cutoff_notes",
    "dump_experiment",
    "dumps_toml",
    "experiment_from_tuning",
    "key_location",
    "load_experiment",
    "parse_experiment",
    "run_experiment",
]

_Strict = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=True)


def _python_scalar(v: Any) -> Any:
    """A numpy number or bool (``np.int64(10)`` from ``df.k.max()``, ``np.bool_(True)``) as the Python value
    it holds, so a notebook's values are judged as that value is and stored as it (a config.toml writes
    ``k = 10``): a numpy int is a whole number, a numpy int or float a number, ``np.bool_`` true or false.
    The strict rules still apply to the value: ``np.float64(10.0)`` is refused for a whole number as 10.0 is
    (and as TOML's ``k = 10.0`` is), and ``np.bool_`` for a number as ``True`` is. Anything else is untouched."""
    return v.item() if isinstance(v, (np.number, np.bool_)) else v


# TOML has real numbers and booleans, so a quoted one (k = "10", beyond = "true") is a slip the file's
# writer hears about, as k = "ten" is: these fields take no text, and no true/false for a number (pydantic's
# lax mode read "10" as 10 and "yes" as true). A float field takes a whole number (threshold = 4); a whole
# number takes no decimal point (k = 10.0). Not ConfigDict(strict=True): it refuses a TOML list for
# rating_scale's tuple. [models.params] values stay the model's own checks (ModelConfig._known_params).
# From Python, a numpy number or bool (np.int64(10)) is first read as the Python value it holds.
_Int = Annotated[int, Strict(), BeforeValidator(_python_scalar)]
_Float = Annotated[float, Strict(), BeforeValidator(_python_scalar)]
_Bool = Annotated[bool, Strict(), BeforeValidator(_python_scalar)]


class _Worded(BaseModel):
    """An experiment or one of its tables built from Python (``Experiment(k="ten", …)``,
    ``DatasetConfig(nme="x")``): a mistake raises :class:`ConfigError` in an experiment file's words,
    without its file and line (``k: must be a whole number (no quotes), got "ten"``,
    ``[dataset] nme: unknown key (did you mean 'name'?); …``), not pydantic's ValidationError, whose
    "Input should be a valid integer" and errors.pydantic.dev links a notebook cannot act on.
    ``model_validate`` keeps pydantic's error, which :func:`parse_experiment` words with the line."""

    #: where the table sits in an experiment file, so its keys are named as the file writes them
    _place: ClassVar[tuple[str | int, ...]] = ()

    if not TYPE_CHECKING:  # type checkers and editors keep pydantic's signature of the fields

        def __init__(self, /, **data: Any) -> None:
            try:
                super().__init__(**data)
            except ValidationError as exc:
                raise ConfigError(_first_mistake(exc, self._place, python=True)[1]) from None

        # pydantic's mark of its own __init__: model_validate and a nested table's validation do not call
        # this one (pydantic's RootModel marks its __init__ so); a call from Python, DatasetConfig(...), does
        __init__.__pydantic_base_init__ = True


class DatasetConfig(_Worded):
    """Which ratings: a registered name (``ml-100k``) or a MovieLens-layout folder / ratings file path;
    for a ratings file, its column names (``time_col = ""``: no times), a ``movies`` titles file and
    ``header`` (``false``: the first line is data, columns by position; unset: guessed from that line) and
    ``delimiter`` (``","``, ``";"``, ``"|"``, ``"tab"``, ``"::"``; unset: a tab for .tsv, else a comma) and
    ``encoding`` (``"cp1252"``, ``"latin-1"``; unset: UTF-8)."""

    model_config = _Strict
    _place = ("dataset",)
    name: str = "ml-latest-small"
    rating_scale: tuple[_Float, _Float] | None = None
    user_col: str | None = None
    item_col: str | None = None
    rating_col: str | None = None
    time_col: str | None = None
    movies: str | None = None
    header: _Bool | None = None  # whether the file's first line names its columns (None: guessed)
    delimiter: str | None = None  # its field separator: a character, "::" or "tab" (None: from its name)
    encoding: str | None = None  # its text encoding and its movies file's (None: UTF-8)

    def file_options(self) -> dict[str, Any]:
        """The ratings-file options given (for :func:`movierec.datasets.load`); ``time_col=""`` is none, and
        so is ``rating_col=""`` (a file without ratings: every row a positive of 1)."""
        opts: dict[str, Any] = {
            k: getattr(self, k) for k in ("user_col", "item_col", "movies") if getattr(self, k)
        }
        for key in ("rating_col", "time_col"):
            if getattr(self, key) is not None:
                opts[key] = getattr(self, key) or None
        if self.header is not None:
            opts["header"] = self.header
        if self.delimiter is not None:
            opts["delimiter"] = self.delimiter
        if self.encoding is not None:
            opts["encoding"] = self.encoding
        return opts

    def load(self) -> Any:
        """The :class:`~movierec.datasets.Dataset` this names."""
        from movierec.datasets import load

        return load(self.name, rating_scale=self.rating_scale, **self.file_options())

    @classmethod
    def of(cls, name: str, options: Mapping[str, Any] | None = None, **extra: Any) -> DatasetConfig:
        """The config that loads a dataset again: its name or source and the file options it recorded
        (:attr:`movierec.datasets.Dataset.load_options`; a ``time_col`` or ``rating_col`` of None is written
        as "": a best.toml tuned on data without ratings dropped its ``rating_col=None`` and could not load it)."""
        opts = dict(options or {})
        for key in ("rating_col", "time_col"):
            if key in opts and opts[key] is None:
                opts[key] = ""
        return cls(name=name, **opts, **extra)

    @field_validator("encoding", mode="before")
    @classmethod
    def _encoding(cls, v: Any) -> Any:
        """A name Python knows, in its own spelling (as the loader checks it)."""
        if v is None:
            return v
        from movierec.datasets import check_encoding

        try:
            return check_encoding(str(v))
        except ConfigError as exc:
            raise ValueError(str(exc).replace(" (encoding=)", "")) from None  # the file's key names it

    @field_validator("delimiter", mode="before")
    @classmethod
    def _delimiter(cls, v: Any) -> Any:
        """Checked as the loader checks it; a tab or a space is kept by name ("tab"), which reads plainly in
        TOML and survives the whitespace stripping every string here gets."""
        if v is None:
            return v
        from movierec.datasets.parsers import parse_delimiter  # only when a delimiter is given

        try:
            sep = parse_delimiter(str(v))
        except ConfigError as exc:
            raise ValueError(str(exc).replace(" (delimiter=)", "")) from None  # the file's key names it
        return {"\t": "tab", " ": "space"}.get(sep, sep)

    @field_validator("name")
    @classmethod
    def _nonempty(cls, v: str) -> str:
        """Not empty; a registered name in any case is that name (``ML-100K`` is ml-100k)."""
        if not v:
            raise ValueError("must not be empty")
        from movierec.datasets import dataset_name

        return dataset_name(v)


class SplitConfig(_Worded):
    """How test ratings are held out (a split of :func:`movierec.evaluation.make_split`), seeded by the experiment."""

    model_config = _Strict
    _place = ("split",)
    kind: str = "auto"
    #: a fraction in (0, 1), or a whole number of ratings (``test_size = 1000``, as Surprise reads an int);
    #: an int stays one, so a run's config.toml reloads to the same split
    test_size: int | float = 0.2
    #: a split made elsewhere, as files (paths relative to the experiment file): ``train`` and ``test``, and
    #: ``valid`` (its rows train too), read with ``[dataset]``'s column options
    #: (:func:`movierec.split_files.load_split_files`); ``[dataset] name``, when set, gives the titles
    train: str | None = None
    test: str | None = None
    valid: str | None = None

    @model_validator(mode="after")
    def _files_or_named(self) -> SplitConfig:
        """``train`` and ``test`` go together, and name the split alone (no ``kind``, no ``test_size``)."""
        if self.train is None and self.test is None:
            if self.valid is not None:
                raise ValueError("valid is a part beside train and test: give those files too")
            return self
        if self.train is None or self.test is None:
            given, missing = ("train", "test") if self.test is None else ("test", "train")
            raise ValueError(f'{given} is one part of a split made elsewhere: give {missing} = "FILE" too')
        fields = self.model_fields_set
        if ("kind" in fields and self.kind != "auto") or ("test_size" in fields and self.test_size != 0.2):
            raise ValueError("train and test are the split already drawn: leave kind and test_size out")
        return self

    def files(self) -> dict[str, str]:
        """The split's files by part (empty for a named split)."""
        return {p: v for p, v in (("train", self.train), ("test", self.test), ("valid", self.valid)) if v}

    @field_validator("kind")
    @classmethod
    def _known(cls, v: str) -> str:
        from movierec.evaluation import SPLITS  # the one list of split names (split.SPLIT_NAMES + auto)
        from movierec.split import unknown_split

        v = v.strip().lower().replace("_", "-")
        if v not in SPLITS:
            raise ValueError(unknown_split(v, SPLITS))
        return v

    @field_validator("test_size", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        """A number as TOML writes it: a quoted one (``"0.2"``, ``"1000"``) is refused as ``k = "10"`` is,
        in the words :func:`_plain_error` gives it (it was read as the number); other text, and true/false,
        is refused in the words Python and the CLI use."""
        from movierec.split import fault_in_test_size, number_as_written

        v = _python_scalar(v)  # np.int64(1000) is a count, as 1000 is (it was read as 1000.0 and refused)
        if isinstance(v, str) and not isinstance(number_as_written(v), str):
            raise ValueError(f"must be a number (no quotes), got {_toml_value(v)}")
        if isinstance(v, (str, bool)):
            raise ValueError(fault_in_test_size(v))
        return v

    @field_validator("test_size")
    @classmethod
    def _size(cls, v: int | float, info: ValidationInfo) -> int | float:
        """As :func:`movierec.split.check_test_size` reads it, in its words after the key: a count for the
        per-user split, ``1000.0`` or ``1.5`` is one line naming the file, line and key
        (``exp.toml, line 6: split.test_size: must be a fraction between 0 and 1 …``)."""
        from movierec.split import check_test_size, fault_in_test_size

        if (fault := fault_in_test_size(v, split=info.data.get("kind"), python=False)) is not None:
            raise ValueError(fault)
        return check_test_size(v, info.data.get("kind"))


class EarlyStoppingConfig(_Worded):
    """``[early_stopping]``: :class:`movierec.early_stopping.StopSpec`'s fields, checked as it checks them."""

    model_config = _Strict
    _place = ("early_stopping",)
    metric: str = "ndcg@10"
    patience: _Int = 10
    every: _Int = 5
    valid_size: _Float = 0.1

    @model_validator(mode="after")
    def _spec(self) -> EarlyStoppingConfig:
        from movierec.stopping import StopSpec

        try:
            spec = StopSpec(**self.model_dump())
        except ConfigError as exc:
            raise ValueError(str(exc)) from exc
        self.metric = spec.metric  # the normalised name (ndcg@10 for NDCG@10)
        return self


class ModelConfig(_Worded):
    """One model: its registry name, hyperparameters (constructor arguments) and an optional label."""

    model_config = _Strict
    _place = ("models",)
    name: str
    params: dict[str, Any] = Field(default_factory=dict)
    label: str | None = None

    @field_validator("name")
    @classmethod
    def _registered(cls, v: str) -> str:
        from movierec.models.registry import MODELS, unknown_model

        key = v.strip().lower()
        if key not in MODELS:  # the registry's words: the guess and where each door lists them, not 52 names
            raise ValueError(unknown_model(v, list(MODELS)))
        return key

    @field_validator("params", mode="before")
    @classmethod
    def _python_params(cls, v: Any) -> Any:
        """numpy numbers and bools among the values (a notebook's ``factors=np.int64(64)``, a tuned row's
        ``df.iloc[0].to_dict()``), in lists too, as the Python values they hold: the model takes either,
        and a run's config.toml can write only these (its dump refused np.int64 mid-run)."""
        return _python_values(v) if isinstance(v, dict) else v

    @field_validator("params")
    @classmethod
    def _known_params(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        import inspect

        from movierec.models.registry import get_class

        name = info.data.get("name")
        if name is None:
            return v
        try:
            model_cls = get_class(name)
        except ConfigError:  # an optional extra is missing: the run will say so
            return v
        accepted = [  # not *args/**kwargs: global-mean's (self, *args, **kwargs) takes no hyperparameter
            p.name
            for p in inspect.signature(model_cls.__init__).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        canon = getattr(model_cls, "canonical_params", None)
        if callable(canon):  # reference-library spellings (n_factors, lr…) load under the canonical names
            try:
                v = canon(v)
            except ConfigError as exc:
                raise ValueError(str(exc)) from exc
        unknown = getattr(model_cls, "unknown_param_error", None)
        for key in v:
            if key not in accepted:
                # what a reference library's name is called here (svd's lr_bu), or the closest name it takes
                why = unknown(key) if callable(unknown) else None
                raise ValueError(why or f"{name} has no hyperparameter {key!r}; valid: {', '.join(accepted)}")
        try:  # a value its constraints refuse (factors = "many"), named with the file's line, not at the run
            model_cls(**v)._validate_params()
        except ConfigError as exc:  # what a model's checks raise (movierec.models.params); anything else is
            raise ValueError(str(exc)) from exc  # a fault of ours, raised as itself, not the file's mistake
        return v


def _python_values(v: Any) -> Any:
    """``v`` with each numpy number or bool in it, in dicts and lists too, as the Python value it holds."""
    if isinstance(v, dict):
        return {k: _python_values(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_python_values(x) for x in v]
    if isinstance(v, tuple):
        return tuple(_python_values(x) for x in v)
    return _python_scalar(v)


class Experiment(_Worded):
    """A whole experiment file (see the module docstring for the layout), or the same built from Python
    (``Experiment(models=[{"name": "svd"}], k=10)``; its mistakes: :class:`_Worded`)."""

    model_config = _Strict
    name: str | None = None
    dataset: DatasetConfig = Field(default_factory=DatasetConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    seed: _Int = Field(default=42, ge=0, le=SEED_MAX)
    # _Int's parts with the bound before the numpy step: Field(ge=2) on "_Int | None" left the JSON schema
    # "ge": 2 (pydantic cannot push it through a before-validator in a union) where a reader expects minimum
    cv: Annotated[int, Strict(), Field(ge=2), BeforeValidator(_python_scalar)] | None = Field(
        default=None, description="k-fold cross-validation instead of one split"
    )
    models: list[ModelConfig] = Field(min_length=1)
    protocols: list[str] = Field(default_factory=lambda: ["rating", "full-ranking"], min_length=1)
    k: _Int = Field(default=10, ge=1)
    threshold: _Float | None = Field(
        default=None,
        description="relevance threshold (ratings >= it are positives); unset: 4, or on data without ratings "
        "its one value so every row is a positive (movierec.interactions.resolve_threshold), as the CLI does",
    )
    item_features: list[str] = Field(
        default_factory=list, description="side features for hybrid models: genres, tags, year"
    )
    user_features: str | None = Field(
        default=None,
        description="user side features for the models that take them (bpr, warp, logistic, warp-kos, "
        "segment-popularity): 'demographics' (ml-100k, ml-1m), a userId,feature[,weight] CSV, or "
        "'demographics,FILE.csv'",
    )
    beyond: _Bool | None = Field(
        default=None, description="full ranking: also the beyond-accuracy metrics (docs/beyond-accuracy.md)"
    )
    rerank: str | None = Field(default=None, description="re-rank full-ranking lists, e.g. 'mmr:0.3'")
    auc: _Bool | None = Field(
        default=None, description="full ranking: also AUC over the whole ranking (LightFM's auc_score)"
    )
    rank_by: str | None = Field(
        default=None,
        description="what the rating models' ranking rows rank by: 'shrunk' (unset: the support-shrunk score "
        "recommend ranks by) or 'prediction' (the unclipped predicted rating, as LensKit ranks)",
    )
    early_stopping: EarlyStoppingConfig | None = Field(
        default=None,
        description="stop the models that can stop on a validation part of each fold's training part "
        "(a metric name, or metric/patience/every/valid_size)",
    )

    @field_validator("early_stopping", mode="before")
    @classmethod
    def _stopping_shorthand(cls, v: Any) -> Any:
        """A metric name, ``true`` (StopSpec's defaults, as ``compare(early_stopping=True)``), ``false`` (off)
        or a table; anything else is one sentence (pydantic's read "a valid dictionary or instance of
        EarlyStoppingConfig")."""
        if isinstance(v, bool):
            return {} if v else None
        if v is None or isinstance(v, (str, dict, EarlyStoppingConfig)):
            return {"metric": v} if isinstance(v, str) else v
        raise ValueError(
            'a metric name (early_stopping = "ndcg@10"), true (ndcg@10, patience 10, every 5) or a table '
            f"[early_stopping] of metric, patience, every, valid_size; got {v!r}"
        )

    @field_validator("rank_by")
    @classmethod
    def _rank_by(cls, v: str | None) -> str | None:
        from movierec.evaluation import RANK_BY  # imported here: parsing a file stays light until it runs

        if v is not None and v.lower() not in RANK_BY:
            raise ValueError(f"rank_by must be one of {', '.join(map(repr, RANK_BY))}, got {v!r}")
        return None if v is None else v.lower()

    @field_validator("rerank")
    @classmethod
    def _rerank_spec(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from movierec.rerank import parse_rerank

        try:
            r = parse_rerank(v)
        except ConfigError as exc:
            raise ValueError(str(exc)) from exc
        return None if r is None else r.spec

    @field_validator("item_features", mode="before")
    @classmethod
    def _no_features(cls, v: Any) -> Any:
        return [] if v is False or v is None else ([v] if isinstance(v, str) else v)

    @field_validator("user_features")
    @classmethod
    def _user_spec(cls, v: str | None) -> str | None:
        """``"demographics"``, a file, or both (``parse_user_features``); ``""`` is none. A file is read
        when the run starts; in an experiment file its path is relative to the file's folder
        (:func:`load_experiment`), from Python to the working directory, as ``[dataset] name``'s is."""
        from movierec.demographics import parse_user_features

        if not v:
            return None
        try:
            demo, path = parse_user_features(v)
        except ConfigError:
            raise ValueError(
                f"one features file at most: 'demographics', a userId,feature[,weight] CSV, or "
                f"'demographics,FILE.csv'; got {v!r}"
            ) from None
        return ",".join([*(["demographics"] if demo else []), *([] if path is None else [str(path)])])

    @field_validator("dataset", mode="before")
    @classmethod
    def _dataset_shorthand(cls, v: Any) -> Any:
        return {"name": v} if isinstance(v, str) else v

    @field_validator("split", mode="before")
    @classmethod
    def _split_shorthand(cls, v: Any) -> Any:
        return {"kind": v} if isinstance(v, str) else v

    @field_validator("protocols")
    @classmethod
    def _protocol_names(cls, v: list[str]) -> list[str]:
        from movierec.evaluation import PROTOCOLS  # imported here: parsing a file stays light until it runs

        out = [p.strip().lower().replace("_", "-") for p in v]
        for p in out:
            if p == "cold-users":  # docs/protocols.md lists it; it is a command of its own
                raise ValueError(
                    "'cold-users' is not a compare protocol: it holds users out whole and reveals their ratings; "
                    "run movierec cold-users (docs/new-users.md)"
                )
            if p not in PROTOCOLS:
                raise ValueError(
                    f"unknown protocol {p!r}{did_you_mean(p, PROTOCOLS)}; valid: {', '.join(PROTOCOLS)}"
                )
        return out

    @model_validator(mode="after")
    def _unique_labels(self) -> Experiment:
        seen: set[str] = set()
        for m in self.models:
            label = m.label or m.name
            if label in seen:
                raise ValueError(f"two models are labelled {label!r}; give them distinct 'label's")
            seen.add(label)
        return self

    def model_pairs(self) -> list[tuple[str, dict[str, Any]]]:
        """``[(name, params), …]`` (without the labels; :meth:`model_specs` keeps them)."""
        return [(m.name, dict(m.params)) for m in self.models]

    def model_specs(self) -> list[tuple[str, dict[str, Any], str | None]]:
        """``[(name, params, label), …]`` as :func:`movierec.evaluation.compare` takes them: a model's
        ``label`` (when given) keys its rows in tables, ``results.csv`` and reports, so two
        configurations of one model sit side by side."""
        return [(m.name, dict(m.params), m.label) for m in self.models]

    def to_toml(self) -> str:
        return dumps_toml(self.to_data())

    def to_data(self) -> dict[str, Any]:
        """Plain data in file order, ``None`` fields left out (TOML has no null), and so are an empty
        ``item_features`` and a model's empty ``params``: best.toml read ``item_features = []`` and a bare
        ``[models.params]`` line, two settings a reader looks up to find they set nothing (both are the
        defaults, so the file reads back equal). A split of files has no ``kind`` or ``test_size`` (its
        files are the split), nor has a canonical one a ``test_size`` (``ml100k-u1``'s test is u1.test)."""
        from movierec.datasets.canonical import CANONICAL_SPLITS

        data = _drop_none(self.model_dump(mode="json"))
        if not data["item_features"]:
            del data["item_features"]
        for model in data["models"]:
            if not model["params"]:
                del model["params"]
        if self.split.files():  # and no [dataset] name unless it was given: the files' titles, if any
            data["split"] = {k: v for k, v in data["split"].items() if k not in ("kind", "test_size")}
            if "name" not in self.dataset.model_fields_set:
                data["dataset"].pop("name", None)
            if not data["dataset"]:  # a bare "[dataset]" line in best.toml: nothing to set there
                del data["dataset"]
        elif self.split.kind in CANONICAL_SPLITS and "test_size" not in self.split.model_fields_set:
            del data["split"]["test_size"]
        return data


# --- reading -------------------------------------------------------------------------------------


def parse_experiment(text: str, *, source: str = "<experiment>") -> Experiment:
    """Validate TOML text; syntax errors, unknown keys, missing keys and wrong types raise ConfigError in one
    line naming the file, the line, the key as the file writes it (``[split] test_size``) and the fix:
    pydantic's own words ("Input should be a valid integer", "Field required", a location tuple) are not
    what a person who wrote a TOML file can act on."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_toml_syntax(text, source, exc)) from exc
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        loc, said = _first_mistake(exc)
        line = _find_line(text, loc)
        raise ConfigError(framed(said, lambda s: f"{source}{f', line {line}' if line else ''}: {s}")) from exc


def _first_mistake(
    exc: ValidationError, place: Sequence[str | int] = (), *, python: bool = False
) -> tuple[tuple[Any, ...], str]:
    """The mistake of an experiment's validation to name, as ``(location, words)``: the words are the key as
    a file writes it, what is wrong and the fix, and how many other problems there are
    (``k: must be a whole number (no quotes), got "ten" (and 1 more problem)``). The one wording of both
    doors: :func:`parse_experiment` puts the file and line first, ``Experiment(...)`` from Python says it
    as it is. ``place``: where the validated table sits in a file (``("dataset",)`` for DatasetConfig);
    ``python``: a fix that is TOML syntax (a ``[[models]]`` table, ``true``) is said as Python writes it
    (``models=[{"name": "svd"}]``, ``True``), the keys still as the file names them."""
    errors = exc.errors()
    # a mistyped key ('nme') also leaves the key it meant missing: the typo is the one to fix
    err = next((e for e in errors if e.get("type") == "extra_forbidden"), errors[0])
    loc = (*place, *err.get("loc", ()))
    if loc and loc[-1] == "params":  # the hyperparameter the model's words name: its own line
        loc = (*loc, *_named_param(str(err.get("msg", "")), err.get("input")))
    rest = [e for e in errors if e is not err and not _same_slip(err, e)]
    more = f" (and {len(rest)} more problem{'s' if len(rest) > 1 else ''})" if rest else ""
    where = _as_written(loc)
    if python and loc[:1] == ("models",):  # Python passes a list: models (entry 2) params.factrs
        keys = ".".join(str(p) for p in loc[1:] if not isinstance(p, int))
        if len(loc) > 1 and isinstance(loc[1], int):
            where = f"models (entry {loc[1] + 1}) {keys}".rstrip()
        else:  # ModelConfig(...) alone: its own key
            where = keys or "models"
    return loc, framed(_plain_error(err, loc, python=python), lambda said: f"{where}: {said}{more}")


def _named_param(msg: str, params: Any) -> tuple[str, ...]:
    """The key of ``[models.params]`` a model's refusal names (``svd has no hyperparameter 'factrs'``,
    ``svd: factors (n_factors…) must be a whole number``), as a location's last part; empty if none."""
    bad = re.search(r"has no (?:hyperparameter )?'([^']+)'", msg)
    if bad:
        return (bad.group(1),)
    keys = params if isinstance(params, dict) else {}
    return next(
        ((str(k),) for k in keys if re.search(rf"(?:'{re.escape(str(k))}'|: {re.escape(str(k))}\b)", msg)), ()
    )


def _same_slip(typo: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """Whether ``other`` is the missing key a mistyped one (``nme`` for ``name``) leaves in the same table:
    one slip, not two problems to count."""
    return (
        typo.get("type") == "extra_forbidden"
        and other.get("type") == "missing"
        and tuple(typo.get("loc", ()))[:-1] == tuple(other.get("loc", ()))[:-1]
    )


def _toml_syntax(text: str, source: str, exc: tomllib.TOMLDecodeError) -> str:
    """A TOML syntax error as one line: the file and line, what the parser expected (its words, which say
    it), the line as written, and for a bare word where a value belongs the quotes it needs."""
    msg = str(exc)
    at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", msg)
    what = (msg[: at.start()] if at else re.sub(r"\s*\(at end of document\)$", "", msg)).strip()
    what = what[:1].lower() + what[1:]
    if at is None:
        return f"{source}: not valid TOML: {what} at the end of the file"
    no, col = int(at.group(1)), int(at.group(2))
    lines = text.splitlines()
    shown = lines[no - 1].strip() if 0 < no <= len(lines) else ""
    fix = ""
    if what == "invalid value":  # kind = per-user: text needs quotes, a list brackets
        fix = '; text needs quotes (kind = "per-user"), a list brackets (protocols = ["rating"])'
    elif what.startswith("expected newline"):  # test_size = 0.2 0.3, or two keys on one line
        fix = '; write one key = value a line, text in quotes (kind = "per-user")'
    return f"{source}, line {no}: not valid TOML: {what} (column {col} of {shown!r}){fix}"


def _as_written(loc: Sequence[Any]) -> str:
    """The key at a pydantic location as the file writes it: ``k`` at the top, ``[split] test_size`` in a
    table, ``[[models]] params.factors`` in the first model (``[[models]] (2nd) name`` in the second), and
    a list's entry by its place (``protocols (entry 2)``, ``[dataset] rating_scale (entry 2)``)."""
    loc = list(loc)
    if not loc:
        return "(top level)"
    entry = ""
    which_model = loc[0] == "models" and len(loc) == 2  # ('models', 1): the 2nd [[models]], not an entry
    if len(loc) > 1 and isinstance(loc[-1], int) and not which_model:
        entry = f" (entry {loc.pop() + 1})"
    if loc[0] == "models":
        which = f" ({_ordinal(loc[1] + 1)})" if len(loc) > 1 and isinstance(loc[1], int) and loc[1] else ""
        rest = [str(p) for p in loc[1:] if not isinstance(p, int)]
        return f"[[models]]{which}{' ' + '.'.join(rest) if rest else ''}{entry}"
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if len(parts) == 1:
        return f"{parts[0]}{entry}"
    return f"[{parts[0]}] {'.'.join(parts[1:])}{entry}"


def _ordinal(n: int) -> str:
    """``2nd``, ``3rd``, ``11th``: which ``[[models]]`` a key is in."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _plain_error(err: Mapping[str, Any], loc: Sequence[Any], *, python: bool = False) -> str:
    """What was wrong with a key and how to write it, for pydantic's error types a file can cause; the
    model validators' own messages (``unknown model 'svd-plus' …``) are already sentences and pass through.
    ``python``: said to ``Experiment(...)`` (:func:`_python_fix`)."""
    kind, value, ctx = err.get("type", ""), err.get("input"), err.get("ctx") or {}
    key = str(loc[-1]) if loc else ""
    got = f", got {_python_value(value) if python else _toml_value(value)}" if kind != "missing" else ""
    if python and (fix := _python_fix(kind, loc)) is not None:
        return fix + got
    if kind == "extra_forbidden":
        valid = _valid_keys(loc[:-1])
        hint = did_you_mean(key, valid)
        where = "" if hint else _keys_listed_in(loc[:-1], python=python)  # the guess is the fix
        listed = some_of(valid, where, guessed=bool(hint), label="valid here", width=_KEYS_WIDTH)
        return f"unknown key{hint}; {listed}"
    if kind == "missing":
        if tuple(loc) == ("models",):
            return 'no model to run: add a [[models]] table with its name (name = "svd") for each model'
        if key == "name" and "models" in loc:
            return 'missing; each [[models]] needs its name (name = "svd"; movierec models lists them)'
        return f"missing; add {key} = … to this table"
    quoted = " (no quotes)" if isinstance(value, str) else ""
    whole = " (no decimal point)" if isinstance(value, float) else quoted  # k = 10.0 is a float in TOML
    table = "[" + ".".join(str(p) for p in loc if not isinstance(p, int)) + "]"  # [models.params]
    table = "[[models]]" if table == "[models]" else table
    text = '"…"' if isinstance(loc[-1], int) else f'{key} = "…"'  # a list's entry has no key of its own
    listed = f"{key} = [{_toml_value(value)}]"
    one_model = tuple(loc[:1]) == ("models",) and len(loc) <= 2  # models = "svd", models = ["svd"]
    if one_model and kind in ("list_type", "model_type", "dict_type"):  # the fix: [[models]] tables
        return f'must be [[models]] tables: [[models]] on one line, name = "svd" on the next, for each model{got}'
    if key == "rating_scale":
        listed = "rating_scale = [1, 5]: its lowest and highest rating"
    words = {
        "int_type": f"must be a whole number{whole}",
        "int_parsing": f"must be a whole number{quoted}",
        "int_from_float": "must be a whole number (no decimal point)",
        "float_type": f"must be a number{quoted}",
        "float_parsing": f"must be a number{quoted}",
        "bool_type": f"must be true or false{quoted}",
        "bool_parsing": f"must be true or false{quoted}",
        "string_type": f"must be text in quotes ({text})",
        "list_type": f"must be a list in brackets ({listed})",
        "tuple_type": f"must be a list in brackets ({listed})",
        "dict_type": f"must be a table ({table} with its keys on the lines below)",
        "model_type": f"must be a table ({table} with its keys on the lines below)",
        "greater_than_equal": f"must be ≥ {ctx.get('ge')}",
        "greater_than": f"must be > {ctx.get('gt')}",
        "less_than_equal": f"must be ≤ {ctx.get('le')}",
        "less_than": f"must be < {ctx.get('lt')}",
        "too_short": f"needs at least {ctx.get('min_length')} entr{'y' if ctx.get('min_length') == 1 else 'ies'}",
    }
    if kind in words:
        return words[kind] + got
    raised = ctx.get("error")  # a validator's own sentence: a Doors one keeps the CLI's words (--config)
    said = raised.args[0] if isinstance(raised, ValueError) and raised.args else None
    return said if isinstance(said, str) else str(err.get("msg", "invalid")).removeprefix("Value error, ")


def _python_fix(kind: str, loc: Sequence[Any]) -> str | None:
    """The words of :func:`_plain_error` whose fix is TOML syntax, as ``Experiment(...)`` from Python
    needs them: the models as a list of dicts, a table as a dict, ``True``/``False``; ``None`` where the
    file's words serve both (``must be a whole number (no quotes), got "ten"``)."""
    if tuple(loc) == ("models",) and kind in ("missing", "list_type", "model_type", "dict_type"):
        return (
            'no model to run: give models=[{"name": "svd"}], a dict per model'
            if kind == "missing"
            else ('must be a list of dicts, models=[{"name": "svd"}], a dict per model')
        )
    if kind in ("dict_type", "model_type"):
        return 'must be a dict, {"name": "svd"}' if len(loc) == 2 and loc[0] == "models" else "must be a dict"
    if kind == "missing" and loc[:1] == ("models",) and loc[-1] == "name":
        return 'missing; each model\'s dict needs its name, {"name": "svd"}'

    if kind in ("bool_type", "bool_parsing"):
        return "must be True or False"
    return None


def _python_value(v: Any) -> str:
    """A refused value for ``Experiment(...)``'s words: as the file's (``"ten"``, ``3`` for ``np.int64(3)``,
    both Python too), but a bool as Python writes it (``True``, not TOML's ``true``)."""
    v = v.item() if isinstance(v, np.generic) else v
    return repr(v) if isinstance(v, bool) else _toml_value(v)


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file (``movierec compare --config FILE``). Every path it holds is
    read relative to the file's folder (:func:`placed_paths`) and kept absolute, so the run's config.toml
    loads it from anywhere; one that is not there is refused naming its line, its key and the path as read."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such experiment file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the experiment file ({exc})") from exc
    exp = parse_experiment(text, source=str(path))
    if exp.split.files() and exp.cv is not None:
        raise ConfigError(
            f"{key_location(path, 'cv')}: [split] train and test are one split, so cv has no folds"
        )
    return placed_paths(exp, path)


def place_path(name: str, folder: Path) -> str:
    """A path an experiment file holds, read as its writer means it: a relative one (``ratings.csv``,
    ``../data/train.csv``) from ``folder``, the file's own; an absolute one (or ``~/…``) unchanged."""
    given = Path(name).expanduser()
    return str(given if given.is_absolute() else (folder.resolve() / given).resolve())


def placed_paths(exp: Experiment, path: Path) -> Experiment:
    """``exp`` read from the file at ``path``, with each path it holds placed by :func:`place_path`:
    ``[dataset] name`` when it is no registered name, ``[dataset] movies``, ``[split] train``/``test``/
    ``valid`` and ``user_features``' file. Only ``[split]``'s were: ``name = "ratings.csv"`` and
    ``user_features = "users.csv"`` beside the file were looked for in the working directory, so
    ``compare --config exp/exp.toml`` failed from any other folder. Each must be there (a dataset's may
    be a folder), else one line names the file, the line, the key and the path as read."""
    from movierec.demographics import FAMILY, parse_user_features

    folder, data = path.parent, exp.dataset
    dataset = {} if (name := _placed_dataset(data.name, path)) is None else {"name": name}
    if data.movies:
        dataset["movies"] = _present(place_path(data.movies, folder), path, ("dataset", "movies"))
    parts = {p: _present(place_path(f, folder), path, ("split", p)) for p, f in exp.split.files().items()}
    update: dict[str, Any] = {
        "dataset": data.model_copy(update=dataset),
        "split": exp.split.model_copy(update=parts),
    }
    demo, users = parse_user_features(exp.user_features)
    if users is not None:
        placed = _present(place_path(str(users), folder), path, ("user_features",))
        update["user_features"] = ",".join([*([FAMILY] if demo else []), placed])
    return exp.model_copy(update=update)


def _placed_dataset(name: str, path: Path) -> str | None:
    """``[dataset] name`` of the file at ``path`` as a path from the file's folder (a ratings file or a
    MovieLens folder), or None to keep it as written: a registered name, or a bare word that is nothing
    beside the file (no folder part, no extension): a registered name mistyped (``ml-100``), which the
    loader answers with the closest one, or a study's data given in memory (``planted``,
    ``<interactions>``), which a best.toml records by its description and nothing loads."""
    from movierec.datasets.registry import REGISTRY

    if name in REGISTRY:
        return None
    placed = place_path(name, path.parent)
    if not Path(placed).exists() and Path(name).name == name and not Path(name).suffix:
        return None
    return _present(placed, path, ("dataset", "name"), folder_too=True)


def _present(placed: str, path: Path, key: tuple[str, ...], *, folder_too: bool = False) -> str:
    """``placed``, where the experiment file at ``path`` says ``key`` is, when a file is there (or a folder,
    with ``folder_too``); else one :class:`ConfigError` line: ``exp.toml, line 7: [dataset] movies: no such
    file /home/me/exp/titles.csv``."""
    if Path(placed).is_file() or (folder_too and Path(placed).is_dir()):
        return placed
    what = "file or folder" if folder_too else "file"
    raise ConfigError(f"{key_location(path, *key)}: no such {what} {placed}")


def cutoff_notes(path: str | Path) -> list[str]:
    """A note for each metric the file names without its cut-off (``early_stopping = "ndcg"``, or its
    table's ``metric``): read as ndcg@10, as ``--early-stopping ndcg`` is, which the person should be told
    (:func:`movierec.metrics.cutoff_note`). Empty for a file that cannot be read (the loader says why)."""
    from movierec.metrics import cutoff_note

    path = Path(path)
    try:
        value = tomllib.loads(path.read_text(encoding="utf-8")).get("early_stopping")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    typed = value.get("metric") if isinstance(value, dict) else value
    if not isinstance(typed, str):
        return []
    table = isinstance(value, dict)
    written = f"{'metric' if table else 'early_stopping'} = {json.dumps(typed)}"
    note = cutoff_note(typed, "early_stopping", typed=written)
    if note is None:
        return []
    line = _find_line(
        path.read_text(encoding="utf-8"), ("early_stopping", "metric") if table else ("early_stopping",)
    )
    return [f"{path}{f', line {line}' if line else ''}: {note}"]


def key_location(path: str | Path, *loc: str | int) -> str:
    """``exp.toml, line 3: cv``: where a key of an experiment file sits, worded as the loader's own
    mistakes are, for a command that refuses a valid value it cannot use (``report --config`` and ``cv``).
    The line is left out when it cannot be found (a key given by a default, or the file unreadable)."""
    path = Path(path)
    try:
        line = _find_line(path.read_text(encoding="utf-8"), loc)
    except (OSError, UnicodeDecodeError):
        line = None
    return f"{path}{f', line {line}' if line else ''}: {_as_written(loc)}"


#: the characters an unknown key's list of valid ones takes (:func:`movierec.errors.some_of`): six of the
#: 15 top-level keys and where the rest are, so the CLI's line, file path and line number first, fits two
#: rows at 80 columns for a path of up to ~35 characters
_KEYS_WIDTH = 56


def _keys_listed_in(loc: Sequence[Any], *, python: bool) -> str:
    """Where every key of the table at ``loc`` is listed, for a refusal that names only the first: the
    experiment's 15 top-level keys made a 199 to 205-column line. A file's keys are in docs/tuning.md
    (Experiment files); Python's are the table's ``model_fields`` (``Experiment.model_fields``)."""
    if not python:
        return "docs/tuning.md"
    model = _table_model(loc)
    return f"{model.__name__}.model_fields" if model is not None else ""


def _valid_keys(loc: Sequence[Any]) -> list[str]:
    return list(getattr(_table_model(loc), "model_fields", {}))


def _table_model(loc: Sequence[Any]) -> type[BaseModel] | None:
    """The pydantic model of the experiment's table at ``loc`` (``()``: :class:`Experiment`), else None."""
    model: Any = Experiment
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        ann = field.annotation
        inner = [
            a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not inner:
            return None
        model = inner[0]
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _find_line(text: str, loc: Sequence[Any]) -> int | None:
    """Best-effort line number of the key at ``loc`` (tomllib keeps no positions): walk the table headers."""
    keys = [p for p in loc]
    if not keys:
        return None
    table: list[Any] = []
    counters: dict[str, int] = {}
    header_line: dict[tuple[Any, ...], int] = {}
    best: int | None = None
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"\[\[\s*([^\]]+?)\s*\]\](\s*#.*)?", line)
        if m:
            name = m.group(1).strip().strip('"')
            counters[name] = counters.get(name, -1) + 1
            table = [name, counters[name]]
            header_line[tuple(table)] = no
            continue
        m = re.fullmatch(r"\[\s*([^\]]+?)\s*\](\s*#.*)?", line)
        if m:
            parts = [p.strip().strip('"') for p in m.group(1).split(".")]
            if parts and parts[0] in counters:  # [models.params] belongs to the latest [[models]]
                table = [parts[0], counters[parts[0]], *parts[1:]]
            else:
                table = parts
            header_line[tuple(table)] = no
            continue
        m = re.match(r'\s*"?([A-Za-z0-9_\-]+)"?\s*=', raw)
        if m:
            path = (*table, m.group(1))
            if tuple(path) == tuple(keys):
                return no
            # a key whose value holds the error (e.g. an inline table or list element)
            if len(keys) > len(path) and tuple(keys[: len(path)]) == tuple(path):
                best = no
    if best is not None:
        return best
    for n in range(len(keys), 0, -1):  # the nearest enclosing table header
        if tuple(keys[:n]) in header_line:
            return header_line[tuple(keys[:n])]
    return None


# --- writing -------------------------------------------------------------------------------------


def _drop_none(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _drop_none(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_drop_none(v) for v in obj]
    return obj


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _toml_value(v: Any) -> str:
    if isinstance(v, np.generic):  # first: np.float64 is a float whose repr is "np.float64(0.1)", not TOML
        return _toml_value(v.item())
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise ConfigError(f"cannot write {type(v).__name__} value {v!r} to TOML")


def dumps_toml(data: Mapping[str, Any]) -> str:
    """TOML text for nested plain data (scalars, lists, tables, arrays of tables). No extra dependency."""
    lines: list[str] = []

    def is_table_array(v: Any) -> bool:
        return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)

    def emit(table: Mapping[str, Any], prefix: str) -> None:
        for k, v in table.items():
            if not isinstance(v, dict) and not is_table_array(v):
                lines.append(f"{_toml_key(str(k))} = {_toml_value(v)}")
        for k, v in table.items():
            name = f"{prefix}.{_toml_key(str(k))}" if prefix else _toml_key(str(k))
            if isinstance(v, dict):
                lines.append("")
                lines.append(f"[{name}]")
                emit(v, name)
            elif is_table_array(v):
                for item in v:
                    lines.append("")
                    lines.append(f"[[{name}]]")
                    emit(item, name)

    emit(data, "")
    return "\n".join(lines).lstrip("\n") + "\n"


def dump_experiment(
    exp: Experiment, path: str | Path, *, header: str | None = None, read_from: str | Path | None = None
) -> Path:
    """Write an experiment as TOML (``load_experiment`` reads it back equal). With ``read_from`` (the
    folder the file will be read from, where a staged file is moved to), a ``[split]``'s files are
    written relative to it (:func:`portable_split`), as ``load_experiment`` reads them; without it
    they stay as given (a run's config.toml keeps them absolute)."""
    path = Path(path)
    if read_from is not None:
        exp, moved = portable_split(exp, Path(read_from))
        if moved:
            said = "[split]'s files are read relative to this file's folder"
            header = f"{header}\n{said}" if header else said
    text = exp.to_toml()
    if header:
        text = "".join(f"# {line}\n" for line in header.splitlines()) + "\n" + text
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the experiment file ({exc.strerror})") from exc
    return path


def portable_split(exp: Experiment, folder: Path) -> tuple[Experiment, bool]:
    """``exp`` with each ``[split]`` file that lies under the working directory, as ``folder`` does,
    written relative to ``folder`` (``../data/train.csv`` for ``tune --train data/train.csv --out
    tuning``), and whether any was. An experiment file's split paths are read relative to its folder
    (:func:`load_experiment`), so ``compare --config tuning/best.toml`` finds them from any folder and
    after the project is moved or cloned; a file elsewhere (``/data/u1.base``) keeps its absolute path.
    best.toml wrote every path absolute (``/home/me/project/data/train.csv``)."""
    here = Path.cwd().resolve()
    folder = folder.resolve()
    files = exp.split.files()
    if not files or not folder.is_relative_to(here):
        return exp, False
    placed = {p: Path(f).resolve() for p, f in files.items()}
    near = {
        p: Path(os.path.relpath(f, folder)).as_posix() for p, f in placed.items() if f.is_relative_to(here)
    }
    if not near:
        return exp, False
    return exp.model_copy(update={"split": exp.split.model_copy(update=near)}), True


def experiment_from_tuning(result: Any) -> Experiment:
    """The experiment a finished study suggests: its dataset and outer split, the best params, its metric's protocol."""
    from movierec.metrics import parse_metric
    from movierec.models.registry import split_model_params
    from movierec.objective import is_objective

    settings = result.settings
    name, params = split_model_params(  # early stopping's best epochs win over the maximum fixed
        result.model, {**(settings.get("fixed_params") or {}), **result.best_params}
    )
    text = str(result.metric)
    if is_objective(text):  # a weighted objective ranks; its cut-off is its first term's
        ranking, cut = True, re.search(r"@(\d+)", text)
        k = int(cut.group(1)) if cut else 10
    else:
        metric = parse_metric(text)
        ranking, k = metric.kind != "rating", int(metric.k or 10)
    dataset = settings.get("dataset") or "<unknown>"  # "<interactions>" when tuned on in-memory data
    data, split = _tuned_data(settings, str(dataset))
    return Experiment(
        name=f"{result.model} tuned ({result.study_name})",
        dataset=data,
        split=split,
        seed=int(settings.get("split_seed", 42)),
        models=[ModelConfig(name=name, params=params)],
        protocols=["full-ranking"] if ranking else ["rating"],
        k=k,
        threshold=float(settings.get("threshold", 4.0)),
        item_features=list(settings.get("item_features") or []),
        user_features=settings.get("user_features"),
    )


def _tuned_data(settings: Mapping[str, Any], dataset: str) -> tuple[DatasetConfig, SplitConfig]:
    """A study's data as best.toml writes it: the dataset and its outer ratings hold-out (or the canonical
    split it was tuned on: ``[split] kind``), or for a study on a split read from files (``tune --train
    --test``) those files, read with the same column options, and the catalogue that gave their titles (no
    ``[dataset] name`` without one)."""
    files = settings.get("split_files")
    if settings.get("split"):  # tune split="ml100k-u1": compare reruns that split (its seed: ml1m-90-10's)
        return DatasetConfig.of(dataset, settings.get("dataset_options")), SplitConfig(kind=settings["split"])
    if not files:
        split = SplitConfig(kind="ratings-holdout", test_size=settings.get("test_size") or 0.2)
        return DatasetConfig.of(dataset, settings.get("dataset_options")), split
    return split_files_config(files, settings.get("dataset_options"))


def split_files_config(
    files: Mapping[str, Mapping[str, str]], options: Mapping[str, Any] | None
) -> tuple[DatasetConfig, SplitConfig]:
    """``[dataset]`` and ``[split]`` that read a split of files again: each part's path as a dataset's
    ``split_files`` records it (:func:`movierec.split_files.load_split_files`), the column options the files
    were read with, and the catalogue that gave their titles (no ``[dataset] name`` without one). tune's
    best.toml and the report's write it."""
    parts = {part: files[part]["path"] for part in ("train", "test", "valid") if part in files}
    opts = dict(options or {})
    for key in ("rating_col", "time_col"):
        if key in opts and opts[key] is None:
            opts[key] = ""
    if "catalogue" in files:
        opts["name"] = files["catalogue"]["name"]
    return DatasetConfig(**opts), SplitConfig(
        train=parts["train"], test=parts["test"], valid=parts.get("valid")
    )


# --- running -------------------------------------------------------------------------------------


def _new_run_id(exp: Experiment) -> str:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    slug = re.sub(
        r"[^a-z0-9]+", "-", (exp.name or "-".join(m.label or m.name for m in exp.models)).lower()
    ).strip("-")[:40]
    return f"{stamp}-{slug or 'run'}-{secrets.token_hex(3)}"


def provenance_info(dataset: Any | None = None) -> dict[str, Any]:
    """Package versions, git commit, machine info and the dataset's name, source and sha256 (:mod:`movierec.provenance`)."""
    from movierec.provenance import provenance

    if dataset is None:
        return provenance()
    info = provenance(dataset.name, dataset.sha256)
    info["dataset_source"] = dataset.source
    if getattr(dataset, "split_files", None):  # a split read from files: each one's path and sha256
        info["split_files"] = dataset.split_files
    return info


@dataclass
class ExperimentRun:
    """A finished run: its folder (``runs/<id>/``) and the :class:`~movierec.evaluation.Comparison` it produced."""

    path: Path
    comparison: Any

    def __fspath__(self) -> str:
        return str(self.path)


def run_experiment(
    config: Experiment | str | Path,
    *,
    runs_dir: str | Path = "runs",
    run_id: str | None = None,
    mlflow_uri: str | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> ExperimentRun:
    """Run every model of an experiment through :func:`movierec.evaluation.compare` and store ``runs/<id>/``.

    The folder holds ``results.json`` (the result rows, as ``compare --out`` writes them),
    ``config.toml`` (the resolved experiment, defaults filled in) and ``provenance.json`` (dataset
    name and sha256, package versions, git commit, machine, start/end times). With ``mlflow_uri``
    and MLflow installed, params, metrics and the folder are logged there too (skipped silently
    without MLflow). The folder appears only once the run is complete: a run that fails or is
    interrupted leaves no ``runs/<id>/``.
    """
    from movierec import evaluation

    exp = config if isinstance(config, Experiment) else load_experiment(config)
    ds, split, notes = experiment_data(exp)
    _check_user_features(exp, ds)  # before any model fits, in the file's words
    from movierec.interactions import resolve_threshold

    # config.toml and MLflow record the threshold the run used; compare gets the file's own (None: it
    # resolves it and says so in its notes on data without ratings, where 4 would leave no positives)
    ran = exp.model_copy(update={"threshold": resolve_threshold(ds.interactions, exp.threshold)})
    from movierec.output_folders import staged_output

    run_dir = Path(runs_dir) / (run_id or _new_run_id(exp))
    if run_dir.exists():
        raise ConfigError(f"{run_dir}: a run with this id already exists")
    # the run is written beside runs/<id> and renamed into place when complete: a model that fails, or
    # Ctrl-C, left runs/<id>/ holding only config.toml, a run that looked started but had no results
    with staged_output(run_dir, option="run folder") as staged:
        folder = staged.path
        started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        dump_experiment(ran, folder / "config.toml", header=f"resolved experiment of run {run_dir.name}")
        kwargs = compare_kwargs(exp) | ({} if split is None else {"split": split, "test_size": 0.2})
        comparison = evaluation.compare(ds, **kwargs, progress=progress)
        comparison.notes.extend(notes)  # a given split's: test users or movies without a training rating
        prov = provenance_info(ds)
        prov.update(
            {
                "run_id": run_dir.name,
                "started_at": started,
                "split": comparison.split,
                "notes": list(comparison.notes),
            }
        )
        prov["finished_at"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        records = comparison.records()
        (folder / "results.json").write_text(
            json.dumps(_json_safe(records), indent=2, allow_nan=False) + "\n"
        )
        (folder / "provenance.json").write_text(
            json.dumps(_json_safe(prov), indent=2, allow_nan=False) + "\n"
        )
    if mlflow_uri:
        log_to_mlflow(mlflow_uri, ran, records, run_dir)
    return ExperimentRun(run_dir, comparison)


def experiment_data(exp: Experiment) -> tuple[Any, tuple[Any, ...] | None, list[str]]:
    """The experiment's dataset, and with ``[split] train``/``test`` the split its files give (what
    :func:`movierec.evaluation.compare` takes as ``split``) and their notes; ``None`` and no notes for a
    named split. The files are read with ``[dataset]``'s column options; a ``[dataset] name`` set in the
    file gives the titles (the dataset's catalogue), as ``--dataset`` does beside ``--train``."""
    files = exp.split.files()
    if not files:
        return exp.dataset.load(), None, []
    from movierec.split_files import load_split_files

    cfg = exp.dataset
    catalogue = None
    if "name" in cfg.model_fields_set:
        from movierec.datasets import load

        catalogue = load(cfg.name)
    given = load_split_files(
        files["train"],
        files["test"],
        valid=files.get("valid"),
        catalogue=catalogue,
        rating_scale=cfg.rating_scale,
        names={part: f"split.{part}" for part in files},
        **cfg.file_options(),
    )
    return given.dataset, given.parts(), list(given.notes)


def _check_user_features(exp: Experiment, ds: Any) -> None:
    """``user_features = "demographics"`` on data without a users file (ml-latest-small) is one line naming
    the key and what it can be instead, before any model fits (the run would stop at its first featured
    fit with the CLI's and Python's spellings of the fix, neither of them the file's)."""
    from movierec.demographics import parse_user_features

    if exp.user_features and parse_user_features(exp.user_features)[0] and ds.users is None:
        raise ConfigError(
            f'user_features = "{exp.user_features}": dataset {ds.name!r} has no user demographics (only '
            "ml-100k's u.user and ml-1m's users.dat do); set it to a userId,feature[,weight] CSV, or remove it"
        )


def compare_kwargs(exp: Experiment) -> dict[str, Any]:
    """Keyword arguments for :func:`movierec.evaluation.compare` from an experiment (besides dataset/progress)."""
    return {
        "models": exp.model_specs(),
        "split": exp.split.kind,
        "test_size": exp.split.test_size,
        "protocols": list(exp.protocols),
        "k": exp.k,
        "threshold": exp.threshold,
        "seed": exp.seed,
        "cv": exp.cv,
        "item_features": list(exp.item_features) or None,
        "user_features": exp.user_features,
        "beyond": bool(exp.beyond),
        "rerank": exp.rerank,
        "auc": bool(exp.auc),
        "rank_by": exp.rank_by or "shrunk",
        "early_stopping": None if exp.early_stopping is None else exp.early_stopping.model_dump(),
    }


_json_safe = to_jsonable  # the one sanitiser (movierec.jsonsafe)


_NOT_METRICS = frozenset({"seed", "k", "threshold", "folds", "n_users"})


def log_to_mlflow(uri: str, exp: Experiment, rows: list[dict[str, Any]], run_dir: Path) -> bool:
    """Log params, final metrics and the run folder to MLflow; returns False (silently) without MLflow."""
    try:
        import mlflow
    except ModuleNotFoundError:
        return False
    mlflow.set_tracking_uri(uri)
    with mlflow.start_run(run_name=run_dir.name):
        params = {
            "dataset": exp.dataset.name,
            "split": exp.split.kind,
            "seed": exp.seed,
            "k": exp.k,
            "threshold": exp.threshold,
        }
        for m in exp.models:
            for key, value in m.params.items():
                params[f"{m.label or m.name}.{key}"] = value
        mlflow.log_params(params)
        for row in rows:
            label = str(row.get("model") or row.get("label") or "model")
            proto = str(row.get("protocol") or "")
            for key, value in row.items():
                if key in _NOT_METRICS:
                    continue
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    mlflow.log_metric(
                        re.sub(r"[^A-Za-z0-9_./ -]", "_", f"{label}.{proto}.{key}"), float(value)
                    )
        mlflow.log_artifacts(str(run_dir))
    return True
