"""Exceptions for user mistakes; the CLI turns any of them into one line and exit code 2.

A few failures that are not the user's mistake are one line too, with another exit code
(:attr:`MovierecError.exit_code`: a failed Spark job is 1). Bugs are not ``MovierecError`` and keep
their traceback.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from numbers import Integral
from typing import ClassVar, ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")


class MovierecError(Exception):
    """A mistake in what the user asked for or gave us (bad file, unknown id, bad parameter)."""

    exit_code: ClassVar[int] = 2
    """The CLI's exit status after this error's one line: 2, bad input (a subclass for another kind of
    failure, such as a Spark job that failed, says 1)."""

    def __init__(self, *args: object) -> None:
        #: the message in the command line's words, where it was raised with a :class:`Doors` message
        self.cli: str | None = localize_install(args[0].cli) if args and isinstance(args[0], Doors) else None
        if args and isinstance(args[0], str):  # an install hint fits this install (localize_install)
            args = (localize_install(str(args[0])), *args[1:])
        super().__init__(*args)

    def in_cli(self) -> str:
        """The message as the command line says it: its :class:`Doors` message's CLI words (``--implicit-
        threshold 0.5`` where Python's say ``threshold=0.5``), else the one message both doors share."""
        return str(self) if self.cli is None else self.cli

    @property
    def _render_traceback_(self) -> Callable[[], list[str]]:
        """What IPython (Jupyter) shows for this error: its one line, as Python's last line names it, and how
        to see the rest. A notebook printed 8 or 9 frames of movierec's internals above the line that says
        what to change. IPython asks for this once, when the cell fails; after that the attribute is gone
        for this raise (AttributeError, so ``hasattr`` is false), and ``%tb`` shows the real traceback
        (``%debug`` reads it from ``sys.last_traceback`` anyway). Bugs (any other exception) keep IPython's
        full traceback."""
        if self.__traceback__ is not None and getattr(self, "_shown_for", None) == id(self.__traceback__):
            raise AttributeError("_render_traceback_")
        return self._one_line

    def _one_line(self) -> list[str]:
        # raised again later (a new traceback), it is one line again; an id, so the error still pickles
        self._shown_for = id(self.__traceback__)
        return [f"{type(self).__name__}: {self}", "(%tb shows the full traceback)"]


class DataError(MovierecError):
    """A data file is missing, unreadable or malformed; the message names the file and line."""


class NotEncodedError(DataError):
    """A text file that is not in the encoding it was read with (:func:`not_encoded`); ``guess`` is an
    encoding that does decode it (``cp1252``, else ``latin-1``, which decodes any bytes), for a reader that
    can be told the file's encoding to offer (:meth:`naming_encoding`, :meth:`in_flags`)."""

    def __init__(self, message: str, guess: str, plain: str | None = None) -> None:
        super().__init__(message)
        self.guess = guess
        self.plain = message if plain is None else plain  # the advice without a setting named

    def naming_encoding(self) -> NotEncodedError:
        """The same error, its advice also naming the setting that reads the file as it is, in each door's
        words (a :class:`Doors`): ``'…; re-save the file as UTF-8, or read it as it is (encoding='cp1252')'``
        in Python, ``'… with --encoding cp1252'`` where the CLI prints it (:meth:`in_flags`). One line named
        both ('encoding='cp1252' in Python, --encoding cp1252 in the CLI'), and a CLI door that reads a file
        by Python's loader without asking :meth:`in_flags` (an experiment file's [dataset]) printed that."""
        python = f"{self.plain}, or read it as it is (encoding={self.guess!r})"
        return NotEncodedError(Doors(python, self.in_flags(named=True)), self.guess, self.plain)

    def in_flags(self, named: bool = False) -> str:
        """The message as the command line gives it: the advice names ``--encoding`` alone (``named``: as
        the reader that takes an encoding words it, whether or not this error does yet)."""
        if not named and str(self) == self.plain:
            return self.plain
        return f"{self.plain}, or read it as it is with --encoding {self.guess}"


def not_encoded(label: str, data: bytes, encoding: str = "utf-8") -> NotEncodedError:
    """The one error for a text file (ratings, movies, tags, features) that is not in its encoding:
    ``'FILE, line N: text is not valid UTF-8 (Windows-1252 or latin-1?); re-save the file as UTF-8'``,
    the line of the first bad byte counted in ``data`` (the file's bytes; read on this error path only).
    The readers had three spellings: 'UTF-8 (latin-1?)' for ratings, 'utf-8' for movies, and Python's
    'codec can't decode byte 0xe9 in position 1' for a features file. A reader that takes an encoding adds
    it to the advice (:meth:`NotEncodedError.naming_encoding`)."""
    name = "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        data.decode(encoding)
        at = ""
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        at = f", line {line}"
    except LookupError:  # an encoding Python does not know: the reader said so before this
        at = ""
    try:
        data.decode("cp1252")
        guess = "cp1252"
    except UnicodeDecodeError:  # bytes cp1252 leaves undefined (0x81, 0x8d, …): latin-1 reads any byte
        guess = "latin-1"
    hint = " (Windows-1252 or latin-1?)" if name == "UTF-8" else ""
    return NotEncodedError(f"{label}{at}: text is not valid {name}{hint}; re-save the file as {name}", guess)


class ConfigError(MovierecError, ValueError):
    """A parameter, option or configuration value is invalid; the message names it and says why."""


class FeatureValueError(ConfigError):
    """A user feature value the schema does not know; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownIdError(MovierecError, KeyError):
    """A user or item id that the data or model does not know."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else "unknown id"


class NotFittedError(MovierecError, RuntimeError):
    """A model was asked to score or recommend before ``fit``."""


class ArtifactError(MovierecError):
    """An exported artifact folder is missing, tampered with, or of an unknown format version."""


class DownloadError(MovierecError):
    """A dataset download failed (offline, server error, checksum mismatch, bad archive)."""


class Spelled(str):
    """A setting's name in both spellings (:func:`spelled`), told apart from one spelling (``"--out"``)
    where a message labels a value with its setting (:func:`labelled`)."""

    __slots__ = ()


class Doors(str):
    """A refusal whose fix each door spells its own way: the string is Python's words (``Recommender(ds,
    'popularity', threshold=0.5)``), ``cli`` the command line's (``--implicit-threshold 0.5``).
    A :class:`MovierecError` raised with one keeps both, and the CLI prints :meth:`MovierecError.in_cli`,
    so neither reader is handed the other door's syntax. A note or a warning can be one too: Python shows
    the string (``warnings.warn``, a result's ``notes``), the CLI prints :func:`in_cli`. For a message that cannot tell whose it is, where
    it is built, :func:`spelled` names both in one line instead."""

    cli: str

    def __new__(cls, python: str, cli: str) -> Doors:
        self = super().__new__(cls, python)
        self.cli = cli
        return self

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]  # copy and pickle keep both
        return str(self), self.cli


def in_cli(text: object) -> str:
    """``text`` as the command line says it: a :class:`Doors` text's CLI words, else ``text`` itself. Where
    the CLI prints a note or a warning the library wrote (:func:`movierec.cli.common.say`, compare's notes,
    a ``warnings.warn`` raised during a command), so a note that is a :class:`Doors` names the flag in the
    terminal while a notebook's warning and a result's ``notes`` name the keyword."""
    cli = getattr(text, "cli", None)
    return cli if isinstance(cli, str) else str(text)


def framed(text: str, frame: Callable[[str], str]) -> str:
    """``frame(text)`` (a message put around ``text``: ``lambda t: f"{key}: {t}"``), and around a
    :class:`Doors` text's CLI words too, so a message built on another keeps each door's words."""
    cli = getattr(text, "cli", None)
    return frame(text) if cli is None else Doors(frame(text), frame(cli))


def spelled(python: str, cli: str) -> Spelled:
    """``threshold= in Python, --implicit-threshold in the CLI``: how a library message names a setting
    that a notebook and the command line both reach, so neither reader has to guess the other's spelling.

    The one rule for such messages: the fix in plain words, then this in parentheses ("lower the
    threshold (threshold= in Python, --implicit-threshold in the CLI)"). A function that is told its
    caller's spelling (an ``option=`` parameter: ``"--out"`` from the CLI, ``"out="`` from Python) names
    only that one instead."""
    return Spelled(f"{python} in Python, {cli} in the CLI")


def labelled(option: str, value: object) -> str:
    """A value labelled with the setting it came from, at the head of a message: ``--out r`` for one
    spelling (the CLI's flag, or a plain word such as ``run folder``), ``out='r'`` for a Python keyword
    (``out=``), ``r`` alone for ``""`` (a Python argument whose keyword differs between the functions that
    pass it), ``r (out= in Python, --out in the CLI)`` for both (:func:`spelled`)."""
    if isinstance(option, Spelled):
        return f"{value} ({option})"
    if option.endswith("="):
        return f"{option}{str(value)!r}"
    return f"{option} {value}" if option else str(value)


def did_you_mean(name: object, choices: Iterable[str]) -> str:
    """`` (did you mean 'ease'?)`` for the closest of ``choices`` to a mistyped ``name``, else ``""``:
    the valid list after it is long (30 models), the likely fix should come first."""
    best = closest(name, choices)
    return f" (did you mean {best!r}?)" if best is not None else ""


#: how many characters of names a refusal lists before it shortens them (:func:`some_of`): with the
#: message's own words, such a line stays within two rows of an 80-column terminal
LIST_WIDTH = 72


def some_of(
    names: Iterable[str],
    where: str = "",
    *,
    guessed: bool = False,
    label: str = "valid",
    width: int = LIST_WIDTH,
) -> str:
    """The valid ``names`` for a refusal, after its ``; ``: all of them when they fit in ``width``
    characters ("valid: a, b, c"), or when nothing else says them (no ``where``, no guess); else, with a
    did-you-mean already said (``guessed``) and a command that lists them (``where``), only how many and
    that command ("all 11: movierec models svd"); else the first that fit and how many ("valid: a, b, c,
    … (16 in all: movierec models sasrec)"). The whole list made lines of 200 to 700 characters, three
    to ten rows at 80 columns, that buried the guess."""
    names = list(names)
    joined = ", ".join(names)
    if len(joined) <= width or not (where or guessed):
        return f"{label}: {joined}"
    place = f": {where}" if where else ""
    if guessed and where:
        return f"all {len(names)}{place}"
    shown: list[str] = []
    for n in names:
        if shown and len(", ".join([*shown, n])) > width - 12:
            break
        shown.append(n)
    return f"{label}: {', '.join(shown)}, … ({len(names)} in all{place})"


def closest(name: object, choices: Iterable[str]) -> str | None:
    """The one of ``choices`` a mistyped ``name`` most likely meant, case and ``_``/``-`` aside, else
    ``None``: :func:`did_you_mean`'s pick, for a caller that words it itself.

    A name of three or more characters that begins exactly one choice is that choice ('full' is
    'full-ranking', 'pop' 'popularity'): difflib's ratio of a short start to a long name is under its 0.6
    cut-off (0.5 for 'full'), so the most natural shortening got no suggestion where 'fullranking' got
    one. Otherwise difflib's closest with a ratio ≥ 0.6."""
    import difflib

    def norm(s: object) -> str:  # 'knn_baseline' meets 'knn-baseline'; 'n_factor' meets 'n_factors'
        return str(s).strip().lower().replace("_", "-")

    table = {norm(c): c for c in choices}
    typed = norm(name)
    starting = [c for c in table if c.startswith(typed)]
    if len(typed) >= 3 and len(starting) == 1:
        return table[starting[0]]
    close = difflib.get_close_matches(typed, list(table), n=1, cutoff=0.6)
    return table[close[0]] if close else None


def refuses_foreign_keywords(
    misnamed: Mapping[str, str],
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Wrap a public function so that a keyword it does not take is one :class:`ConfigError` where
    Python's own was ``TypeError: make_split() got an unexpected keyword argument 'random_state'``.

    A name another library uses for one of our settings (``misnamed``: ``random_state`` → ``seed=``,
    Surprise's ``measures``) gets the line saying where that setting lives; any other name the closest
    valid one (:func:`did_you_mean`); then the valid keywords, as :func:`movierec.tuning.check_keywords`
    words ``tune``'s. The signature stays the function's own (``inspect.signature``, type checkers), and
    what Python checks besides (a missing or surplus positional argument) is left to Python."""

    def wrap(func: Callable[_P, _R]) -> Callable[_P, _R]:
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        params = inspect.signature(func).parameters.values()
        valid = [p.name for p in params if p.kind in kinds and p.name != "self"]  # a method's too

        @functools.wraps(func)
        def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            for key in kwargs:
                if key not in valid:
                    why = f": {misnamed[key]}" if key in misnamed else did_you_mean(key, valid)
                    raise ConfigError(
                        f"{func.__name__}() has no keyword {key!r}{why}; valid: {', '.join(valid)}"
                    )
            return func(*args, **kwargs)

        return checked

    return wrap


#: the largest int seed numpy's generators take (``RandomState``, ``default_rng``)
SEED_MAX = 2**32 - 1


def is_seed(value: object) -> bool:
    """Whether ``value`` is an int seed numpy takes, 0 … :data:`SEED_MAX` (a bool is not one): checked where
    a seed comes in, so -1 is one readable error instead of numpy's ValueError deep inside a fit."""
    return isinstance(value, Integral) and not isinstance(value, bool) and 0 <= int(value) <= SEED_MAX


_EXTRA = re.compile(r"'movierec\[([\w,-]+)\]'")


def install_hint(extra: str) -> str:
    """The command that adds an optional extra to *this* install (:func:`localize_install`)."""
    return localize_install(f"pip install 'movierec[{extra}]'")


def localize_install(text: str) -> str:
    """``text`` with each ``'movierec[EXTRA]'`` of an install command made to fit this install: as
    written for an install from the index, ``-e '/path/to/checkout[EXTRA]'`` where movierec is an
    editable install of a checkout (the README's ``make demo``). There ``pip install 'movierec[serve]'``
    would fetch a package named movierec from the index in place of the checkout, if one exists there,
    or fail to find it. Every :class:`MovierecError`'s message passes through here."""
    if "'movierec[" not in text:
        return text
    where = _editable_checkout()
    return _EXTRA.sub(lambda m: f"-e '{where}[{m.group(1)}]'", text) if where else text


@cache
def _editable_checkout() -> str | None:
    """The folder movierec is installed from in editable mode (pip's direct_url.json), else ``None``."""
    import json
    from importlib import metadata
    from urllib.parse import unquote, urlparse

    for dist in metadata.distributions(name="movierec"):  # a checkout's src/*.egg-info may come first
        try:
            url = json.loads(dist.read_text("direct_url.json") or "{}")
        except ValueError:
            continue
        if url.get("dir_info", {}).get("editable") and str(url.get("url", "")).startswith("file:"):
            return unquote(urlparse(str(url["url"])).path) or None
    return None


def interrupted_by(exc: BaseException | None) -> bool:
    """Whether ``exc`` is a Ctrl-C / SIGTERM interrupt or an error raised while one was being handled.

    A library interrupted mid-call may replace the interrupt with an error of its own: Optuna's trial loop
    raises ``UnboundLocalError`` from its ``finally`` when Ctrl-C lands in its bookkeeping after a trial,
    and SQLAlchemy logs "Error closing cursor" (``sqlite3.ProgrammingError``) while it unwinds one. Both
    carry the interrupt as their ``__context__``; read as errors they printed a traceback and exit 1 where
    Ctrl-C ends in one line and exit 130."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
