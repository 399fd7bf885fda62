"""Checks on the folders commands write into, done before any work starts: nothing is deleted that
movierec did not write, and an unwritable ``--out`` is one line and exit 2 before training, not a
traceback after it. Then the writing itself: :func:`staged_output` and :func:`write_atomically` put
a command's output in place only once it is complete, so a run that fails or is interrupted partway
leaves no half-written folder or file (and an older one it would have replaced intact).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from movierec.errors import ConfigError, Doors, Spelled, labelled, spelled

T = TypeVar("T")

__all__ = [
    "ARTIFACT_FILES",
    "IMAGE_FORMATS",
    "STAGE_PREFIX",
    "Staged",
    "check_artifact_target",
    "check_image_target",
    "check_parquet_target",
    "check_results_target",
    "check_writable",
    "earlier_results",
    "image_format",
    "is_artifact",
    "is_image",
    "missing_folders",
    "move_aside",
    "nothing_written",
    "record_outcome",
    "remove_dead_leftovers",
    "remove_empty_folders",
    "staged_output",
    "staged_parquet",
    "take_outcomes",
    "temporary_file",
    "temporary_folder",
    "unwritable",
    "write_atomically",
]

ARTIFACT_FILES = frozenset({"manifest.json", "ids.parquet", "items.parquet", "factors.npz", "seen.npz"})
"""What ``export`` writes into an artifact folder (``manifest.json`` plus its data files); a
signature file (``manifest.sig``) may sit beside them."""
_ARTIFACT_EXTRA = frozenset({"manifest.sig"})
RESULT_FILES = ("results.json", "results.csv", "rmse.png", "ranking.png")


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


#: the output folder of a pipeline that a notebook and the CLI both call (export, report, tune): its
#: messages name both spellings; the CLI's own commands pass ``"--out"``, Python-only callers ``"out="``
OUT = spelled("out=", "--out")


def force_words(option: str) -> str:
    """How the caller whose output setting is spelled ``option`` replaces what is there: "pass --force to
    replace it" for a CLI flag (``--out``), ``force=True`` for Python's spellings (``out=``, ``""``), both
    where both reach the message (:func:`~movierec.errors.spelled`)."""
    if isinstance(option, Spelled):
        return f"replace it ({spelled('force=True', '--force')})"
    return f"pass {'--force' if option.startswith('-') else 'force=True'} to replace it"


def another(option: str) -> str:
    """What to choose instead, in the caller's words: ``--out`` (or ``out=``), or ``folder`` where the
    message's label already names the setting both ways or no keyword at all."""
    return "folder" if isinstance(option, Spelled) or not option else option


def check_writable(out: Path, option: str = "--out") -> None:
    """Refuse (``ConfigError``) a destination that cannot be created or written, without creating anything.

    The nearest existing ancestor must be a folder in which a file can be created (probed with
    a temporary file that is removed at once): ``/proc/x``, ``afile/sub`` (``afile`` a file) and
    read-only folders fail here, before a minute of training.
    """
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{labelled(option, out)}: is a file, not a folder")
    base = _nearest_existing(out.parent if not out.exists() else out)
    if not base.is_dir():
        raise ConfigError(f"{labelled(option, out)}: cannot create it, {base} is a file and not a folder")
    why = unwritable(base)
    if why is not None:
        raise ConfigError(f"{labelled(option, out)}: {base} is not writable ({why})")


def unwritable(folder: Path) -> str | None:
    """Why no file can be created in the existing ``folder`` (the OS's reason: "Read-only file system"),
    or None when one can: probed with a temporary file that is removed at once. ``export --out``'s check
    and the feedback store's SQLite folder share it."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".movierec-write-test-"):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


def is_artifact(path: Path) -> bool:
    """True when ``path`` is a folder holding a movierec manifest (a JSON object with ``format_version``)."""
    manifest = path / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and "format_version" in data and "model" in data


def check_artifact_target(out: Path, force: bool, option: str = "--out") -> None:
    """``out`` may take a new artifact: absent, or (with ``force``) an artifact folder holding only export's files.

    ``--force`` replaces the folder as a whole, so it is only allowed on what ``export`` wrote:
    a folder without a movierec manifest, or one where someone put other files, is refused and
    nothing is deleted.
    """
    if out.exists():
        if not out.is_dir():
            raise ConfigError(f"{labelled(option, out)}: is a file, not a folder; nothing was changed")
        if not force:  # export reached from both doors (OUT): each says only its own spelling of force
            said = f"{out} already exists; "
            words = Doors(said + force_words("out="), said + force_words("--out"))
            raise ConfigError(words if isinstance(option, Spelled) else said + force_words(option))
        if not is_artifact(out):
            raise ConfigError(
                f"{labelled(option, out)}: refusing to replace a folder movierec did not write (no movierec manifest.json); "
                f"nothing was deleted — choose another {another(option)}"
            )
        foreign = sorted(p.name for p in out.iterdir() if p.name not in ARTIFACT_FILES | _ARTIFACT_EXTRA)
        if foreign:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise ConfigError(
                f"{labelled(option, out)}: refusing to replace it, it holds files export did not write ({shown}); "
                "nothing was deleted"
            )
    check_writable(out, option)


def earlier_results(out: Path) -> list[dict[str, Any]] | None:
    """The records of the ``results.json`` an earlier ``compare --out`` wrote into ``out`` (a JSON list of
    objects that each name a ``model``), or ``None`` when ``out`` holds no such file."""
    try:
        data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if isinstance(data, list) and all(isinstance(r, dict) and "model" in r for r in data):
        return data
    return None


def check_results_target(out: Path, option: str = "--out") -> str | None:
    """``compare --out``: refuse to overwrite files of the same names that compare did not write; return a
    warning (or ``None``) when the folder already holds other things."""
    check_writable(out, option)
    if not out.is_dir():
        return None
    entries = [p for p in out.iterdir() if not p.name.startswith(".")]
    if not entries:
        return None
    ours = earlier_results(out) is not None
    clash = [n for n in RESULT_FILES if (out / n).exists()]
    if clash and not ours:
        raise ConfigError(
            f"{labelled(option, out)}: would overwrite {', '.join(clash)}, which compare did not write; "
            f"nothing was changed — choose another {another(option)}"
        )
    others = [p.name for p in entries if p.name not in RESULT_FILES]
    if others:
        return f"{labelled(option, out)} is not empty ({len(others)} other entries, e.g. {others[0]}): writing results beside them"
    return None


def _spark_file(name: str) -> bool:
    return name.startswith(("part-", "_SUCCESS", "_committed_", "_started_", "._SUCCESS")) or (
        name.startswith(".part-") and name.endswith(".crc")
    )


def check_parquet_target(out: Path, force: bool, option: str = "--out") -> None:
    """A Spark Parquet output folder may be overwritten (``--force``) only when it holds nothing but Spark's files.

    The new output replaces the old one as a whole (:func:`staged_parquet`); a folder with anything else
    in it (or a file) is refused and left as it is. A hidden staging folder of ours inside it (what a run
    killed outright leaves) is not anything else.
    """
    if out.exists():
        if not force:
            raise ConfigError(f"{out} already exists; {force_words(option)}")
        if not out.is_dir():
            raise ConfigError(
                f"{labelled(option, out)}: is a file, not a Parquet folder; nothing was changed"
            )
        foreign = sorted(
            p.name for p in out.iterdir() if not (_spark_file(p.name) or p.name.startswith(STAGE_PREFIX))
        )
        if foreign:
            raise ConfigError(
                f"{labelled(option, out)}: refusing to overwrite a folder Spark did not write (it holds {foreign[0]}"
                f"{f' and {len(foreign) - 1} more' if len(foreign) > 1 else ''}); nothing was deleted"
            )
    check_writable(out, option)


IMAGE_FORMATS: dict[str, tuple[bytes, ...]] = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "pdf": (b"%PDF-",),
    "svg": (b"<svg",),  # anywhere in the first 2 KB: an XML declaration and doctype come first
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "tif": (b"II*\x00", b"MM\x00*"),
    "tiff": (b"II*\x00", b"MM\x00*"),
    "webp": (b"RIFF",),
}
"""The chart formats a file name's suffix may ask for (matplotlib writes each), with the first bytes a
file of that format starts with: a file that starts so may be replaced by a new chart of its format."""


def image_format(path: Path, option: str = "--plot") -> str:
    """The chart format ``path``'s suffix names (``"png"``, ``"pdf"`` …), or ``ConfigError`` for another suffix.

    The suffix decides what is written, so ``--plot out.pdf`` is a PDF and never PNG bytes under a
    ``.pdf`` name; a suffix matplotlib cannot write (``keep.csv``) is refused rather than guessed.
    """
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in IMAGE_FORMATS:
        why = f"{path.suffix} is not a chart format" if path.suffix else "no suffix to tell the chart format"
        raise ConfigError(
            f"{labelled(option, path)}: {why}; end the name in " + ", ".join(f".{f}" for f in IMAGE_FORMATS)
        )
    return fmt


def is_image(path: Path, fmt: str) -> bool:
    """True when ``path`` is a file that starts like an image of format ``fmt`` (a key of :data:`IMAGE_FORMATS`)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(2048)
    except OSError:
        return False
    if fmt == "svg":
        return any(magic in head for magic in IMAGE_FORMATS[fmt])
    return head.startswith(IMAGE_FORMATS[fmt])


def check_image_target(path: Path, force: bool, option: str = "--plot") -> str:
    """``path`` may take a chart: a known image suffix, a writable folder, and no file of ours overwritten.

    An existing file is replaced only when it already is an image of the format its suffix names (a chart
    written before; re-running a command keeps working) or with ``force``: ``data info --plot keep.csv``
    wrote PNG bytes over an unrelated file. Returns the format (:func:`image_format`). Nothing is created.
    """
    fmt = image_format(path, option)
    if path.is_dir():
        raise ConfigError(f"{labelled(option, path)}: is a folder; give a file name such as ratings.{fmt}")
    if path.exists() and not force and not is_image(path, fmt):
        raise ConfigError(
            f"{labelled(option, path)} already exists and is not a {fmt.upper()} image; "
            "nothing was changed — pass --force to replace it or choose another name"
        )
    check_writable(path.parent, option)
    return fmt


# --- writing: output appears only when complete ------------------------------------------------------

STAGE_PREFIX = ".movierec-partial-"
"""Name start of the staging folder a run writes inside an existing output folder (hidden, so neither a
reader nor :func:`check_results_target` takes it for output): ``.movierec-partial-PID@HOST``; a new folder
is staged as the hidden sibling ``.NAME.partial-PID@HOST``. The process id and host name let a later run
prove a stage left by a killed run (SIGKILL) is its own and remove it (:func:`_new_stage`)."""

_OUTCOMES: list[str] = []


def record_outcome(exc: BaseException, line: str) -> None:
    """Say what a failed or interrupted run left on disk (``nothing was written (out was not created)``).

    The line is added to ``exc``'s notes, so a traceback shows it, and kept for the CLI, which prints it
    after its error or ``interrupted`` line (typer turns Ctrl-C into an exit code, losing the exception).
    """
    exc.add_note(line)
    _OUTCOMES.append(line)


def nothing_written(out: str | Path, existed: bool, *, named: bool = True) -> str:
    """The outcome of a run that wrote nothing: ``nothing was written (r is as it was)``, or ``(r was not
    created)`` for an output that was not there before.

    ``named``: whether the person named ``out`` (``--out``). A folder a command names for itself (tune's
    tuning/STUDY, which spells out the whole objective) is left out: ``nothing was written`` alone, as the
    folder is none the reader chose; it pushed tune's genre refusal to 177 columns.
    """
    if not named:
        return "nothing was written"
    return f"nothing was written ({out} {'is as it was' if existed else 'was not created'})"


def take_outcomes() -> list[str]:
    """The lines :func:`record_outcome` kept since the last call, oldest first; the list is emptied."""
    lines = list(_OUTCOMES)
    _OUTCOMES.clear()
    return lines


@contextmanager
def _sigint_deferred(*, redeliver: bool) -> Iterator[None]:
    """Hold Ctrl-C back while a few renames run (moving a finished output into place, or removing a
    staging folder), so it cannot leave them half done; ``redeliver`` raises it once they are.

    SIGTERM is held back the same way when a Python handler catches it (the CLI's, which turns it into
    an interrupt like Ctrl-C); left at its default, SIGTERM still ends the process at once.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if previous is None:  # a handler set outside Python: it cannot be put back, so leave it alone
            continue
        if sig != signal.SIGINT and not callable(previous):  # SIGTERM's default (or SIG_IGN): as it is
            continue
        held[sig] = previous
    got: list[int] = []
    for sig in held:
        signal.signal(sig, lambda signum, frame: got.append(signum))
    try:
        yield
    finally:
        for sig, previous in held.items():
            signal.signal(sig, previous)
        if got and redeliver:
            signal.raise_signal(got[0])


@dataclass
class Staged:
    """An output being written by :func:`staged_output`: write into ``path``; it becomes ``out`` on success.

    ``obsolete``: paths relative to ``out`` of an older output this one replaces (a report's file list),
    removed once the new files are in place when the new output has no file of that name; only files
    inside ``out`` are removed. ``last``: names moved into an existing ``out`` after every other file (the
    file that marks the output complete, such as a report's ``results.json``).
    """

    out: Path
    path: Path
    existed: bool
    obsolete: list[str] = field(default_factory=list)
    last: tuple[str, ...] = ()

    def final(self, written: str | Path) -> Path:
        """Where ``written`` (a path under :attr:`path`) will be once the output is in place."""
        return self.out / Path(written).relative_to(self.path)


def _host() -> str:
    """This machine's name as it goes into a stage folder's name (letters, digits, ``.`` and ``-`` only)."""
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "localhost"


def _pid_alive(pid: int) -> bool:
    """True unless process ``pid`` certainly does not exist on this machine (another user's counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, OSError):  # PermissionError: it runs, as another user
        return True
    return True


def _owner_pattern() -> str:
    """The regex of the ``PID[-N]@HOST`` part of a name :func:`_claim` gives, HOST this machine, PID captured."""
    return rf"(\d+)(?:-\d+)?@{re.escape(_host())}"


def remove_dead_leftovers(folder: Path, prefix: str, suffix: str = "") -> None:
    """Remove what runs killed outright (SIGKILL, a power cut) left in ``folder`` under the names
    :func:`_claim` gives: ``PREFIX`` + ``PID[-N]@HOST`` + ``SUFFIX``, HOST this machine, PID no longer
    running here. A temporary of a live run, of a run on another machine or container sharing the folder,
    or of an older name pattern, is left alone; so is a symbolic link.
    """
    pattern = re.compile(re.escape(prefix) + _owner_pattern() + re.escape(suffix))
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        found = pattern.fullmatch(entry.name)
        if not found or entry.is_symlink() or _pid_alive(int(found[1])):
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with suppress(OSError):
                entry.unlink()


def _claim(folder: Path, prefix: str, suffix: str, create: Callable[[Path], T]) -> tuple[Path, T]:
    """Create ``folder/PREFIX PID@HOST SUFFIX`` with ``create`` (``mkdir``, an exclusive ``open``), after
    removing those of this name that dead processes of this machine left (:func:`remove_dead_leftovers`).

    The name says whose it is, so a later run can prove a leftover is no live run's; ``PID-N@HOST`` when
    the plain name is taken (this pid's, from a killed run before a reboot or in a container: never reused).
    Returns the path and what ``create`` returned.
    """
    remove_dead_leftovers(folder, prefix, suffix)
    pid, host = os.getpid(), _host()
    for n in range(1000):
        path = folder / f"{prefix}{pid}{f'-{n}' if n else ''}@{host}{suffix}"
        try:
            return path, create(path)
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder / prefix}{pid}@{host}{suffix}: too many temporaries left behind")


def temporary_folder(parent: str | Path, prefix: str, suffix: str = ".tmp") -> Path:
    """A new empty folder in ``parent`` named ``PREFIX PID@HOST SUFFIX`` (``.art.4242@host.tmp``), for output
    that is renamed into place when complete. What a killed run of this machine left under such a name
    is removed first; the caller removes this one when its run fails."""
    path, _ = _claim(Path(parent), prefix, suffix, lambda p: p.mkdir())
    return path


def temporary_file(path: str | Path) -> Path:
    """A new empty file beside ``path`` named ``.NAME.PID@HOST.tmp``, to write and then rename over
    ``path``; what a killed run of this machine left for ``path`` is removed first (:func:`temporary_folder`)."""
    path = Path(path)
    tmp, fd = _claim(path.parent, f".{path.name}.", ".tmp", _open_new)
    os.close(fd)
    return tmp


def move_aside(folder: str | Path) -> Path:
    """Rename ``folder`` to a new hidden sibling ``.NAME.old-PID@HOST`` and return it: the older copy a
    finished one replaces, removed by the caller once the new one is in place. A copy a run killed
    between the two renames left there is removed by the next call for ``folder`` on this machine."""
    folder = Path(folder)
    old = temporary_folder(folder.parent, f".{folder.name}.old-", "")
    try:
        os.replace(folder, old)  # a folder renamed over an empty one
    except BaseException:
        with suppress(OSError):
            old.rmdir()
        raise
    return old


def _open_new(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)


def _new_stage(out: Path, existed: bool) -> Path:
    """Create this run's empty staging folder: inside ``out`` when it exists, else its hidden sibling.

    Stages that killed runs of this machine left for ``out`` are removed first, in both places
    (:func:`remove_dead_leftovers`; :func:`_claim` clears the one it creates in).
    """
    beside = f".{out.name}.partial-"
    if existed:
        remove_dead_leftovers(out.parent, beside)  # from a killed run before out existed
        stage, _ = _claim(out, STAGE_PREFIX, "", lambda p: p.mkdir())
    else:
        stage, _ = _claim(out.parent, beside, "", lambda p: p.mkdir())
    return stage


def missing_folders(folder: Path) -> list[Path]:
    """``folder`` and the folders above it that do not exist yet, innermost first: what a run that creates
    ``folder`` removes again (:func:`remove_empty_folders`) when it fails."""
    missing: list[Path] = []
    p = Path(folder)
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    return missing


def _commit(st: Staged) -> None:
    """Put the staged output in place: one rename for a new folder; for an existing one, each file
    moved over its old version (``last`` ones last), then the ``obsolete`` files removed."""
    if not st.existed and not st.out.exists():
        os.rename(st.path, st.out)
        return
    files = [p for p in st.path.rglob("*") if not p.is_dir()]
    files.sort(key=lambda p: (p.relative_to(st.path).as_posix() in st.last, p.relative_to(st.path).parts))
    for src in files:
        dst = st.final(src)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)
    new = {p.relative_to(st.path).as_posix() for p in files}
    root = st.out.resolve()
    for rel in st.obsolete:
        path = (st.out / rel).resolve()
        if str(rel) in new or root not in path.parents or not path.is_file():
            continue
        path.unlink()
        for folder in path.parents:  # a subfolder (charts/) the old output alone used, now empty
            if folder == root or not folder.is_relative_to(root):
                break
            with suppress(OSError):
                folder.rmdir()
    shutil.rmtree(st.path, ignore_errors=True)


@contextmanager
def staged_output(
    out: str | Path, *, last: Iterable[str] = (), option: str = "--out", named: bool = True
) -> Iterator[Staged]:
    """Write a command's output folder ``out`` through a staging folder; it is put in place only on success.

    ``movierec report --out r`` that failed at a model's fit, or was stopped with Ctrl-C, left ``r/`` with
    the dataset charts and no ``index.html`` (or, with ``--force``, an old report half deleted). Here the
    block writes into :attr:`Staged.path` (on the same file system as ``out``); when it ends normally the
    files move into place (:func:`_commit`, Ctrl-C held back for those renames). When it raises, the
    staging folder and the folders above ``out`` this run created are removed, ``out`` is exactly as it
    was, and :func:`record_outcome` says so (``nothing was written (r is as it was)``).
    SIGTERM does the same when the CLI runs the block (it turns SIGTERM into an interrupt). A run killed
    outright (SIGKILL) leaves only the hidden staging folder, which the next run into ``out`` on this
    machine removes (:func:`_new_stage`). ``named``: whether the person named ``out``, as in
    :func:`nothing_written` (nested tune's own tuning/MODEL-METRIC-nested is left out of the line).
    """
    out = Path(out)
    created = missing_folders(out.parent)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        existed = out.is_dir()
        st = Staged(out=out, path=_new_stage(out, existed), existed=existed, last=tuple(last))
    except OSError as exc:
        remove_empty_folders(created)
        raise ConfigError(
            f"{labelled(option, out)}: cannot create the folder ({exc.strerror or exc})"
        ) from exc
    try:
        yield st
    except BaseException as exc:
        with _sigint_deferred(redeliver=False):  # a second Ctrl-C must not stop the clean-up halfway
            shutil.rmtree(st.path, ignore_errors=True)
            remove_empty_folders(created)
        record_outcome(exc, nothing_written(out, existed, named=named))
        raise
    with _sigint_deferred(redeliver=True):
        try:
            _commit(st)
        except BaseException:
            shutil.rmtree(st.path, ignore_errors=True)
            raise


@contextmanager
def staged_parquet(out: Path) -> Iterator[Staged]:
    """:func:`staged_output` for a Spark Parquet folder: Spark writes into :attr:`Staged.path` (give it
    ``mode("overwrite")``, the folder is this run's), and only when the write succeeded do the new part
    files replace the old folder's, ``_SUCCESS`` last, the old part files removed after.

    Spark's own ``mode("overwrite")`` on ``out`` deleted the old output before writing the new one, so a
    job that failed or was killed partway lost both. Run :func:`check_parquet_target` first: the old
    folder's Spark files are all that is removed, anything else in it stays.
    """
    with staged_output(out, last=("_SUCCESS",)) as staged:
        if staged.existed:
            staged.obsolete = [p.name for p in out.iterdir() if _spark_file(p.name) and p.is_file()]
        yield staged


def remove_empty_folders(folders: list[Path]) -> None:
    """Remove ``folders`` (innermost first) while they are empty; stop at the first that is not."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            break


def write_atomically(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file beside it, renamed over ``path`` when complete.

    A chart or JSON file interrupted mid-write was a truncated file under the final name (and an older
    file of that name was already gone); now ``path`` is either the old file or the whole new one, and
    the temporary file is removed on failure. The file gets the permissions the umask gives a new file.
    The temporary file is named ``.NAME.PID@HOST.tmp``: one that a run killed outright (SIGKILL) left is
    removed by the next write of ``path`` on this machine.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp, fd = _claim(path.parent, f".{path.name}.", ".tmp", _open_new)  # .NAME.PID@HOST.tmp
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    return path
