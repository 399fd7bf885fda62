"""``movierec models``: every registered model, what it learns from, and its hyperparameters with defaults."""

from __future__ import annotations

import inspect
import re
from typing import Any

import typer

from movierec.cli.common import JSON, console, print_json, print_table
from movierec.errors import ConfigError, in_cli, install_hint, localize_install


def _plain(text: str) -> str:
    """A docstring's reST markup dropped for the terminal: ``x`` → x, :func:`~a.b` → b, :class:`a.B` → a.B."""
    text = re.sub(r":\w+:`~[\w.]*?\.?(\w+)`", r"\1", text)
    text = re.sub(r":\w+:`([^`]+)`", r"\1", text)
    return text.replace("``", "")


def model_info(name: str) -> dict[str, Any]:
    """One model's facts: kind, class, the extra it needs, first docstring line, parameters and defaults,
    and where the defaults come from (:mod:`movierec.models.defaults_source`)."""
    from movierec.models.defaults_source import defaults_from
    from movierec.models.registry import MODELS, get_class, missing_module

    module, cls_name, extra = MODELS[name]
    info: dict[str, Any] = {"name": name, "class": f"{module}.{cls_name}", "extra": extra}
    unavailable = {**info, "available": False, "kind": None, "params": {}}
    try:
        cls = get_class(name)
    except (ConfigError, ImportError) as exc:  # an optional dependency is missing
        return {**unavailable, "summary": str(exc), "install": install_hint(extra or "all")}
    missing = missing_module(cls)  # ("torch", "pip install torch==… 'movierec[seq]'")
    if missing:
        module, install = missing[0], localize_install(missing[1])
        return {**unavailable, "summary": f"{name} needs {module}: {install}", "install": install}
    params: dict[str, Any] = {}
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        default = None if p.default is inspect.Parameter.empty else p.default
        params[p.name] = (
            default if isinstance(default, (int, float, str, bool, type(None))) else repr(default)
        )

    from movierec.models.params import acts_when

    doc = inspect.getdoc(cls) or ""
    return {
        **info,
        "available": True,
        "kind": str(getattr(cls, "kind", "implicit")),
        "sequential": bool(getattr(cls, "sequential", False)),
        "summary": _plain(doc.split("\n\n")[0].replace("\n", " ")),
        "params": params,
        # parameter → the switch value it needs to change anything ("similarity 'pearson_baseline'")
        "acts_only_with": {k: c.describe() for k, c in acts_when(cls).items() if k in params},
        # ... and those whose switch takes one other value here, so they never act (ials's half_life_days)
        "never_acts": _never_acts(cls, params),
        # parameter → why it takes one value only here (ials's weighting: "iALS weighs every positive 1; …")
        "only_value": _only_values(cls),
        # parameter → the values it takes, where they are a fixed set (ease's weighting: binary, rating, recency)
        "choices": _choices(cls, params),
        # parameter → the other names that set it (Surprise's n_factors, lr_all…), and the names that set several
        "spellings": {k: v for k, v in _spellings(cls).items() if k in params},
        "compound_names": {k: list(v) for k, v in getattr(cls, "_compounds", {}).items()},
        # a parameter whose default is None → what that None stands for (svd's lr_bias: learning_rate's value)
        "none_means": {k: v for k, v in _none_means(cls).items() if k in params and params[k] is None},
        # a reference library's name with no exact counterpart here → what it is called here (svd's lr_bu)
        "no_counterpart": dict(getattr(cls, "_foreign_names", {})),
        "defaults_from": defaults_from(name),
        "search_space": _search_space(name),
    }


def _spellings(cls: type) -> dict[str, list[str]]:
    """Each hyperparameter → the other names that set it (:meth:`BaseRecommender.spellings`; none for a
    class outside the contract)."""
    getter = getattr(cls, "spellings", None)
    return getter() if callable(getter) else {}


def _none_means(cls: type) -> dict[str, str]:
    """:meth:`BaseRecommender.none_means` (none for a class outside the contract)."""
    getter = getattr(cls, "none_means", None)
    return dict(getter()) if callable(getter) else {}


def _only_values(cls: type) -> dict[str, str]:
    """Each single-value hyperparameter with why it has one value here (ials's weighting)."""
    from movierec.models.params import single_values

    return {key: because for key, (_, because) in single_values(cls).items() if because}


def _choices(cls: type, params: dict[str, Any]) -> dict[str, list[Any]]:
    """Each hyperparameter that takes one of a fixed set of values (two or more), with the set."""
    from movierec.models.params import Options

    getter = getattr(cls, "parameter_constraints", None)
    constraints = getter() if getter is not None else {}
    return {
        key: list(c.values)
        for key, allowed in constraints.items()
        for c in allowed
        if key in params and isinstance(c, Options) and len(c.values) > 1
    }


def _never_acts(cls: type, params: dict[str, Any]) -> dict[str, str]:
    """The idle-unless parameters whose switch takes a single value here, not theirs: they never act
    (ials's ``half_life_days``, which acts with recency weighting, when its weighting is 'binary' only)."""
    from movierec.models.params import never_acts

    return {key: f"never acts here: {why}" for key, why in never_acts(cls).items() if key in params}


def _search_space(name: str) -> dict[str, str]:
    """What ``movierec tune`` searches for this model, one readable range per parameter (empty: not tunable)."""
    from movierec.models.registry import get_class
    from movierec.models.space import Choice, FloatRange, IntRange
    from movierec.tuning import resolve_space

    try:
        space = resolve_space(name)
    except ConfigError:
        return {}
    from movierec.models.params import acts_when

    cls = get_class(name)
    with_features = set(getattr(cls, "feature_params", ()))
    # searched only when --params turns on a switch the defaults leave off (ease's time_window), as tune does
    defaults = cls().get_params()
    needs = {k: c for k, c in acts_when(cls).items() if c.left_off(cls, defaults, space)}
    out: dict[str, str] = {}
    for key, p in space.items():
        if isinstance(p, Choice):
            out[key] = " | ".join(str(c) for c in p.choices)
        elif isinstance(p, (FloatRange, IntRange)):
            out[key] = f"{p.low:g} to {p.high:g}" + (", log scale" if p.log else "")
        else:
            out[key] = str(p)
        if key in with_features:
            out[key] += " (searched with --item-features)"
        if key in needs:
            out[key] += f" (searched when --params sets {needs[key].describe()})"
        elif drawn := _drawn_when(name, key, space):
            out[key] += f" (drawn only with {drawn})"
    return out


def _drawn_when(name: str, key: str, space: dict[str, Any]) -> str:
    """When tune draws ``key`` in a trial, if not always: its ``acts_when`` switch is searched too (warp's
    ``learning_rate`` acts without the ``adadelta`` schedule), or a searched model switch picks a class it
    does nothing in (``max_sampled`` under bpr's or logistic's loss), as :func:`movierec.tuning.draw_acting`
    draws; ``"learning_schedule 'adagrad'"``, the searched values only. Empty: drawn in every trial."""
    from movierec.models.params import acts_when
    from movierec.models.registry import MODEL_SWITCHES, get_class, split_model_params
    from movierec.models.space import Choice

    cls = get_class(name)
    words = []
    cond = acts_when(cls).get(key)
    for c in cond.conditions if cond is not None and not cond.elsewhere else ():
        switch = space.get(c.switch)
        if isinstance(switch, Choice) and c.values:
            words.append(
                f"{c.switch} " + " or ".join(repr(v) for v in switch.choices if c.holds(cls, {c.switch: v}))
            )
        elif switch is not None:
            words.append(c.describe())
    for model_switch in MODEL_SWITCHES:
        if isinstance(choice := space.get(model_switch), Choice) and key != model_switch:
            acting = [
                v for v in choice.choices if _acts_in(split_model_params(name, {model_switch: v})[0], key)
            ]
            if len(acting) < len(choice.choices):
                words.append(f"{model_switch} " + " or ".join(repr(v) for v in acting))
    return " and ".join(words)


def _acts_in(name: str, key: str) -> bool:
    """Whether ``key`` can act in the model ``name`` (it does not declare it as acting elsewhere only)."""
    from movierec.models.params import acts_when
    from movierec.models.registry import get_class

    cond = acts_when(get_class(name)).get(key)
    return cond is None or not cond.elsewhere


GROUPS = (
    ("rating predictors", "learn from ratings: RMSE/MAE, and top-N by predicted rating"),
    ("top-N from positives", "learn from ratings ≥ the threshold, 4 by default"),
    ("sequences", "read each user's history in time order: what comes next"),
    (
        "reference libraries",
        "Surprise, LightFM, implicit, Cornac, myfm: the same algorithms, side by side in compare (recommend, similar and export use movierec's own)",
    ),
)


def _group(info: dict[str, Any]) -> str:
    if ":" in info["name"]:
        return "reference libraries"
    if info["sequential"]:
        return "sequences"
    return "rating predictors" if info["kind"] == "explicit" else "top-N from positives"


def _print_overview(infos: list[dict[str, Any]]) -> None:
    """Every model's name, grouped by what it learns from, wrapped to the terminal: the list a newcomer
    reads first (the parameters of all of them ran to 230 lines at 80 columns; ``--defaults`` keeps them)."""
    import textwrap

    from movierec.cli.compare import DEFAULT_MODELS

    defaults = set(DEFAULT_MODELS.split(","))
    width = max(40, min(console.width, 100))

    def para(text: str, indent: str = "") -> None:
        wrapped = textwrap.fill(
            text, width, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False
        )
        console.print(wrapped, markup=False, highlight=False, soft_wrap=True)

    para("models · movierec models NAME shows one in full · --defaults lists every default")
    for title, what in GROUPS:
        names = [i["name"] for i in infos if i["available"] and _group(i) == title]
        if not names:
            continue
        console.print()
        para(f"{title} · {what}")
        para("  ".join(f"{n}★" if n in defaults else n for n in names), "  ")
    missing: dict[str, list[str]] = {}
    for info in infos:
        if not info["available"]:
            missing.setdefault(info["install"], []).append(info["name"])
    for install, names in missing.items():  # the command on a line of its own, never wrapped: at 80 columns
        console.print()  # '(pip install torch==2.13.0' ended a line and '-e …[seq]')' began the next
        para(f"not installed here: {', '.join(names)}; to add them:")
        console.print(f"  {install}", markup=False, highlight=False, soft_wrap=True)
    console.print()
    para("★ what compare runs without --models")


def _entry(text: str) -> None:
    """An indented line of :func:`_print_one` ('  reg_bu, reg_bi: …'), wrapped at the console's width with
    its continuation indented under it: wrapped by rich, the rest began at column 0 and read as an entry
    of its own ('reg_bias', 'regularization' alone under 'lr_pu, lr_qi: …' at 80 columns)."""
    import textwrap

    wrapped = textwrap.fill(
        text,
        max(40, console.width),
        initial_indent="  ",
        subsequent_indent="    ",
        break_on_hyphens=False,
        break_long_words=False,
    )
    console.print(wrapped, markup=False, highlight=False, soft_wrap=True)


def _para(text: str) -> None:
    """A sentence of :func:`_print_one` (a summary, where defaults come from), literal, word-wrapped at the
    console's width with no line ending in a space: printed by rich with ``soft_wrap=False``, each wrapped
    line kept the space it broke at (piped, 'movierec models ease' ended 10 of its lines in one)."""
    from rich.text import Text

    from movierec.tables import print_lines

    print_lines(console, Text(text))


#: what a model's ``random_state`` is in use: the class's own default (svd's 0) is only the bare class's
_SEEDED = "the bare class's; Recommender, compare and the commands that fit give it their seed, 42 unless seed= or --seed"


def _print_one(info: dict[str, Any]) -> None:
    """One model in full: its parameters with defaults, the other names each accepts and what each acts
    with, the reference library's names it has no counterpart for, where the defaults come from, the search space."""
    # wrapped at the width (the console soft-wraps by default, and 'surprise:normal-predictor (explicit) ·
    # movierec.models.reference.surprise.SurpriseNormalPredictor' is 95 columns)
    from movierec.tables import print_lines

    head = f"[bold]{info['name']}[/] ({info['kind'] or 'not installed'}) · {info['class']}"
    print_lines(console, head)
    _para(info["summary"])
    if not info["available"]:  # the summary says what to install; the rest needs the class
        return
    idle, never, fixed = info["acts_only_with"], info["never_acts"], info["only_value"]
    choices, spelled, means = info["choices"], info.get("spellings", {}), info.get("none_means", {})
    for key, value in info["params"].items():
        note = f"  (one of {', '.join(map(repr, choices[key]))})" if key in choices else ""
        note = f"  (acts only with {idle[key]})" if key in idle else note
        note = f"  ({never[key]})" if key in never else note
        note = f"  (the only value: {fixed[key]})" if key in fixed else note
        also = f"  (also {', '.join(spelled[key])})" if spelled.get(key) else ""
        shown = f"None (means {means[key]})" if key in means else repr(value)
        if key == "random_state" and not note:  # svd's class says 0, and every run here seeds it 42
            note = f"  ({_SEEDED})"
        _entry(f"{key} = {shown}{also}{note}")
    compounds = info.get("compound_names") or {}
    if compounds:
        sets = "; ".join(f"{c} sets {' and '.join(parts)}" for c, parts in compounds.items())
        _para(f"{sets} (a part given by its own name wins, as in Surprise)")
    by_reason: dict[str, list[str]] = {}
    for foreign, why in (info.get("no_counterpart") or {}).items():
        by_reason.setdefault(in_cli(why), []).append(foreign)  # the CLI's words where a reason has both
    if by_reason:
        console.print("reference libraries' names with no exact counterpart here:")
        for why, names in by_reason.items():
            _entry(f"{', '.join(names)}: {why}")
    if info.get("defaults_from"):
        _para(f"defaults from: {info['defaults_from']}")
    space = info.get("search_space") or {}
    if space:
        console.print(f"search space (movierec tune --model {info['name']}):")
        for key, text in space.items():
            _entry(f"{key}: {text}")
    elif info["available"]:
        console.print("no search space: movierec tune does not tune this model")


def models_cmd(
    name: str | None = typer.Argument(None, metavar="NAME", help="Show one model in full."),
    defaults: bool = typer.Option(False, "--defaults", help="Every model with its parameters and defaults."),
    as_json: bool = JSON,
) -> None:
    """List the models by what they learn from (ratings, positives, sequences; the reference libraries
    apart); ``movierec models NAME`` shows one with its parameters, defaults and search space."""
    from rich.table import Table

    from movierec.models.registry import MODELS, registered_name

    names = list(MODELS) if name is None else [registered_name(name)]  # Python's message for a bad name
    infos = [model_info(n) for n in names]
    if as_json:
        print_json(infos)
        return
    if name is not None:
        _print_one(infos[0])
        return
    if not defaults:
        _print_overview(infos)
        return
    table = Table(title="models (movierec models NAME for one in full)", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("learns from", no_wrap=True)
    table.add_column("parameters (defaults)")
    for info in infos:
        if not info["available"]:
            learns, params = "–", f"needs {info['install']}"
        else:
            learns = (
                "sequences"
                if info["sequential"]
                else ("ratings" if info["kind"] == "explicit" else "positives")
            )
            params = ", ".join(f"{k}={v}" for k, v in info["params"].items() if k != "random_state")
        table.add_row(info["name"], learns, params)
    print_table(table)


def register(app: typer.Typer) -> None:
    app.command("models")(models_cmd)
