"""One line for a mistake in how ``movierec`` was called: an unknown command or option, a missing
argument, a value of the wrong type.

click words these for its own usage box ("No such command 'frobnicate'.", "Option '-k' requires an
argument."), and the CLI's one-line form put the command path in front of them after its own
``movierec: error:``, which read ``movierec: error: movierec: No such command …``. Here the message
starts lower-case without click's closing full stop, names the likely fix where a name was mistyped
("no such command 'comapre'; did you mean 'compare'?", "no such option --ratd; did you mean
--rated?"), and ends with the help of the command that was being called ("(see 'movierec recommend
--help')"), found from the arguments where click's error carries no context (an option missing its
value).
"""

from __future__ import annotations

import re
import sys
from typing import Any

from typer.core import TyperGroup, _click  # typer's own copy of click: its classes are not click's

from movierec.errors import closest

__all__ = ["usage_line"]

_NO_COMMAND = re.compile(r"^No such command '(?P<name>.*)'\.")


def usage_line(exc: Any, argv: list[str] | None, app: Any) -> str:
    """The one line (without ``movierec: error:``) for click's usage error ``exc`` raised while running
    ``app`` (the typer app) on ``argv`` (``None``: ``sys.argv[1:]``)."""
    ctx = exc.ctx
    where = (
        ctx.command_path if ctx is not None else _command_path(app, sys.argv[1:] if argv is None else argv)
    )
    return f"{_message(exc, sys.argv[1:] if argv is None else argv)} (see '{where} --help')"


def _message(exc: Any, argv: list[str]) -> str:
    """click's message in the CLI's form: lower-case first word, no closing full stop, the closest name."""
    text = exc.format_message()
    plain = _plain_value_error(exc)
    if plain is not None:  # 'Input should be greater than or equal to 2' → 'must be ≥ 2, got 1'
        text = text.replace(str(exc.message), plain)
    ctx = exc.ctx
    found = _NO_COMMAND.match(text)
    if found is not None and ctx is not None and isinstance(ctx.command, TyperGroup):
        name = found.group("name")
        group = ctx.command
        commands = [
            c for c in group.list_commands(ctx) if not getattr(group.get_command(ctx, c), "hidden", False)
        ]
        hint = _closest(name, commands) or _nested(name, group, ctx, commands) or _help_word(name, ctx, argv)
        return f"no such command {name!r}{hint}"
    if isinstance(exc, _click.exceptions.NoSuchOption) and ctx is not None:
        return f"no such option {exc.option_name}{_closest_option(exc.option_name, ctx)}"
    text = " ".join(text.split()).removesuffix(".")
    if re.match(r"^[A-Z][a-z]", text):  # 'Missing', 'Invalid', 'Got'; not an acronym
        text = text[0].lower() + text[1:]
    extra = _EXTRA.match(text)
    if extra is not None and ctx is not None:
        text += _extra_hint(ctx.command_path.split()[-1], extra.group("args"))
    return text


#: pydantic's checks of an option's value (typer reads values with pydantic), in the words the commands'
#: own checks use ('--trials must be ≥ 1, got 0'): ``{bound}`` is the limit, ``{got}`` the value typed
_PLAIN = {
    "int_parsing": "must be a whole number, got {got}",
    "int_from_float": "must be a whole number, got {got}",
    "float_parsing": "must be a number, got {got}",
    "greater_than_equal": "must be ≥ {bound}, got {got}",
    "greater_than": "must be > {bound}, got {got}",
    "less_than_equal": "must be ≤ {bound}, got {got}",
    "less_than": "must be < {bound}, got {got}",
}


def _plain_value_error(exc: Any) -> str | None:
    """A bad option value in the commands' words, or ``None`` to keep click's: typer checks a value with
    pydantic, whose sentence named neither the value nor the form ('invalid value for '--outer-folds': Input
    should be greater than or equal to 2' beside tune's own '--trials must be ≥ 1, got 0'; '-k x': 'Input
    should be a valid integer, unable to parse string as an integer')."""
    if not isinstance(exc, _click.exceptions.BadParameter):
        return None
    errors = getattr(exc.__cause__, "errors", None)
    if not callable(errors):
        return None
    try:
        (first,) = errors()
        template = _PLAIN[first["type"]]
    except (KeyError, TypeError, ValueError):  # several errors, or a check without a plain form
        return None
    bound = next(iter((first.get("ctx") or {}).values()), "")
    given = first.get("input")
    got = repr(given) if "parsing" in first["type"] or "from_float" in first["type"] else given
    return template.format(bound=bound, got=got)


_EXTRA = re.compile(r"^got unexpected extra argument(?:\(s\)|s)? \((?P<args>.*)\)$")


def _extra_hint(command: str, args: str) -> str:
    """``"; did you mean --user 1?"`` for a value typed where a command takes options only, where the
    command and the value say which option it was meant for (``recommend 1``, ``recommend "Toy Story"``,
    ``compare svd,ease``), else ``""``."""
    if command == "recommend":
        if re.fullmatch(r"\d+", args):
            return f"; did you mean --user {args}?"
        if re.fullmatch(r"[\d ]+", args):  # several numbers: users? movies? no guess
            return ""
        return f"; did you mean --rated {_quoted(args)} (someone who liked it) or similar {_quoted(args)}?"
    if command == "compare" and " " not in args:
        return f"; did you mean --models {args}?"
    if command in ("export", "embed", "tune") and " " not in args and not args.startswith("-"):
        return f"; did you mean --model {args}?"
    return ""


def _quoted(text: str) -> str:
    """``text`` as a shell word: quoted when it holds a space."""
    return f'"{text}"' if " " in text else text


#: words people reach for that no spelling distance finds: the command each means, where that command exists
#: ('data describe' for 'data info', whose group help says "describe datasets"; 'train' for export …)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "describe": ("info",),
    "stats": ("info",),
    "show": ("info",),
    "download": ("fetch",),
    "get": ("fetch",),
    "ls": ("list",),
    "train": ("export",),
    "fit": ("export", "train"),
    "evaluate": ("compare",),
    "eval": ("compare",),
    "benchmark": ("compare",),
    "recommendations": ("recommend",),
    "recs": ("recommend",),
    "predict": ("recommend",),
    "score": ("recommend",),
    "neighbours": ("similar",),
    "neighbors": ("similar",),
    "tuning": ("tune",),
    "search": ("tune",),
    "server": ("serve",),
    "api": ("serve",),
    "map": ("embed",),
}


def _closest(name: str, choices: list[str]) -> str:
    """``"; did you mean 'compare'?"`` for the one choice close to ``name`` (or that :data:`SYNONYMS` names
    for it), else ``""``."""
    best = closest(name, choices)
    if best is None:
        best = next((c for c in SYNONYMS.get(name.lower(), ()) if c in choices), None)
    return "" if best is None else f"; did you mean {best!r}?"


def _nested(name: str, group: Any, ctx: Any, commands: list[str]) -> str:
    """``"; did you mean 'data info'?"`` where ``name`` is, or :data:`SYNONYMS` maps it to, a command of
    exactly one of ``group``'s subgroups (``movierec info``, ``movierec download``: the README's ``data info``
    and ``data fetch``), else ``""``. Names only, no spelling distance: a near miss one level down guesses."""
    wanted = (name.lower(), *SYNONYMS.get(name.lower(), ()))
    found = [
        f"{sub} {c}"
        for sub in commands
        if isinstance(child := group.get_command(ctx, sub), TyperGroup)
        for c in child.list_commands(ctx)
        if c in wanted and not getattr(child.get_command(ctx, c), "hidden", False)
    ]
    return f"; did you mean {found[0]!r}?" if len(found) == 1 else ""


#: option words from the libraries newcomers know that no spelling distance finds: the options each means,
#: the first the command has wins (Surprise's get_top_n(n=), implicit's N=, the papers' top-k: the list's
#: length is -k, as every command that takes it spells it too; Surprise's algo: --model, or compare's --models)
OPTION_SYNONYMS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("n", "num", "top", "topk", "top-k", "top_k", "topn", "top-n", "top_n"), ("-k", "--k")),
    **dict.fromkeys(("algo", "algos", "algorithm", "algorithms"), ("--model", "--models")),
}


def _help_word(name: str, ctx: Any, argv: list[str]) -> str:
    """``"; did you mean 'movierec recommend --help'?"`` for git's and pip's ``help COMMAND`` (the commands
    after 'help' in ``argv`` that the group ``ctx`` runs have, named), and ``'movierec --version'`` for a
    ``version`` command where the group has that option; else ``""`` (a bare 'help': the line's own '(see
    'movierec --help')' is the fix)."""
    group = ctx.command
    if name.lower() == "version" and any("--version" in p.opts for p in group.get_params(ctx)):
        return f"; did you mean '{ctx.command_path} --version'?"
    if name.lower() != "help" or name not in argv:
        return ""
    path, command = [ctx.command_path], group
    for word in argv[argv.index(name) + 1 :]:
        sub = command.get_command(ctx, word) if isinstance(command, TyperGroup) else None
        if sub is None or getattr(sub, "hidden", False):
            break
        path, command = [*path, word], sub
    return f"; did you mean '{' '.join(path)} --help'?" if len(path) > 1 else ""


def _closest_option(option: str, ctx: Any) -> str:
    """``"; did you mean --rated?"`` for the command's one long option spelled like ``option``, compared
    without the dashes ('--bogus' is not like '--out' for sharing them), or the one :data:`OPTION_SYNONYMS`
    names for it ('--top', '-n': -k)."""
    opts = [o for p in ctx.command.get_params(ctx) for o in (*p.opts, *p.secondary_opts)]
    table = {o.lstrip("-"): o for o in opts if o.startswith("--")}
    best = closest(option.lstrip("-"), list(table))
    if best is not None:
        return f"; did you mean {table[best]}?"
    meant = next((o for o in OPTION_SYNONYMS.get(option.lstrip("-").lower(), ()) if o in opts), None)
    return "" if meant is None else f"; did you mean {meant}?"


def _command_path(app: Any, argv: list[str]) -> str:
    """``movierec data fetch`` for ``argv`` = ``['data', 'fetch', …]``: the deepest command its leading words
    name (click's error for an option missing its value has no context to ask)."""
    import typer

    command = typer.main.get_command(app)
    path = ["movierec"]
    ctx = _click.Context(command, info_name="movierec")
    for word in argv:
        if word.startswith("-") or not isinstance(command, TyperGroup):
            break
        sub = command.get_command(ctx, word)
        if sub is None:
            break
        command, path = sub, [*path, word]
    return " ".join(path)
