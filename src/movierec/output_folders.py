"""Checks on the folders commands write into, done before any work starts: nothing is deleted that
movierec did not write, and an unwritable ``--out`` is one line and exit 2 before training, not a
traceback after it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from movierec.errors import ConfigError

__all__ = [
    "ARTIFACT_FILES",
    "IMAGE_FORMATS",
    "check_artifact_target",
    "check_image_target",
    "check_parquet_target",
    "check_results_target",
    "check_writable",
    "image_format",
    "is_artifact",
    "removed_if_left_empty",
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


def check_writable(out: Path, option: str = "--out") -> None:
    """Refuse (``ConfigError``) a destination that cannot be created or written, without creating anything.

    The nearest existing ancestor must be a folder in which a file can be created (probed with
    a temporary file that is removed at once): ``/proc/x``, ``afile/sub`` (``afile`` a file) and
    read-only folders fail here, before a minute of training.
    """
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{option} {out}: is a file, not a folder")
    base = _nearest_existing(out.parent if not out.exists() else out)
    if not base.is_dir():
        raise ConfigError(f"{option} {out}: cannot create it, {base} is a file and not a folder")
    try:
        with tempfile.TemporaryFile(dir=base, prefix=".movierec-write-test-"):
            pass
    except OSError as exc:
        raise ConfigError(f"{option} {out}: {base} is not writable ({exc.strerror or exc})") from exc


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
            raise ConfigError(f"{option} {out}: is a file, not a folder; nothing was changed")
        if not force:
            raise ConfigError(f"{out} already exists; pass --force to replace it")
        if not is_artifact(out):
            raise ConfigError(
                f"{option} {out}: refusing to replace a folder movierec did not write (no movierec manifest.json); "
                "nothing was deleted — choose another --out"
            )
        foreign = sorted(p.name for p in out.iterdir() if p.name not in ARTIFACT_FILES | _ARTIFACT_EXTRA)
        if foreign:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise ConfigError(
                f"{option} {out}: refusing to replace it, it holds files export did not write ({shown}); "
                "nothing was deleted"
            )
    check_writable(out, option)


def _is_results(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, list) and all(isinstance(r, dict) and "model" in r for r in data)


def check_results_target(out: Path, option: str = "--out") -> str | None:
    """``compare --out``: refuse to overwrite files of the same names that compare did not write; return a
    warning (or ``None``) when the folder already holds other things."""
    check_writable(out, option)
    if not out.is_dir():
        return None
    entries = [p for p in out.iterdir() if not p.name.startswith(".")]
    if not entries:
        return None
    ours = (out / "results.json").is_file() and _is_results(out / "results.json")
    clash = [n for n in RESULT_FILES if (out / n).exists()]
    if clash and not ours:
        raise ConfigError(
            f"{option} {out}: would overwrite {', '.join(clash)}, which compare did not write; "
            "nothing was changed — choose another --out"
        )
    others = [p.name for p in entries if p.name not in RESULT_FILES]
    if others:
        return f"{option} {out} is not empty ({len(others)} other entries, e.g. {others[0]}): writing results beside them"
    return None


def _spark_file(name: str) -> bool:
    return name.startswith(("part-", "_SUCCESS", "_committed_", "_started_", "._SUCCESS")) or (
        name.startswith(".part-") and name.endswith(".crc")
    )


def check_parquet_target(out: Path, force: bool, option: str = "--out") -> None:
    """A Spark Parquet output folder may be overwritten (``--force``) only when it holds nothing but Spark's files.

    Spark's ``mode("overwrite")`` deletes the whole folder first; a folder with anything else in it
    (or a file) is refused and left as it is.
    """
    if out.exists():
        if not force:
            raise ConfigError(f"{out} already exists; pass --force to replace it")
        if not out.is_dir():
            raise ConfigError(f"{option} {out}: is a file, not a Parquet folder; nothing was changed")
        foreign = sorted(p.name for p in out.iterdir() if not _spark_file(p.name))
        if foreign:
            raise ConfigError(
                f"{option} {out}: refusing to overwrite a folder Spark did not write (it holds {foreign[0]}"
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
            f"{option} {path}: {why}; end the name in " + ", ".join(f".{f}" for f in IMAGE_FORMATS)
        )
    return fmt


def _is_image(path: Path, fmt: str) -> bool:
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
        raise ConfigError(f"{option} {path}: is a folder; give a file name such as ratings.{fmt}")
    if path.exists() and not force and not _is_image(path, fmt):
        raise ConfigError(
            f"{option} {path} already exists and is not a {fmt.upper()} image; "
            "nothing was changed — pass --force to replace it or choose another name"
        )
    check_writable(path.parent, option)
    return fmt


@contextmanager
def removed_if_left_empty(out: Path) -> Iterator[None]:
    """Run a command that writes into the folder ``out``; when it fails, remove the folders it created
    there (``out`` and any missing parents) and left empty.

    ``embed -m popularity --out e2`` found only after fitting that the model has no item vectors, and left
    an empty ``e2/``. Only folders that did not exist when the block started are removed, only when
    empty (after removing their empty subfolders, such as a report's ``charts/``): a file written
    before the failure keeps its folder, and nothing that was there before is touched.
    """
    created: list[Path] = []  # innermost first
    p = Path(out)
    while not p.exists() and p != p.parent:
        created.append(p)
        p = p.parent
    try:
        yield
    except BaseException:
        for folder in created:
            if not folder.is_dir() or folder.is_symlink():
                break
            subfolders = [d for d in folder.rglob("*") if d.is_dir() and not d.is_symlink()]
            for sub in sorted(subfolders, key=lambda d: len(d.parts), reverse=True):
                with suppress(OSError):  # not empty: something was written there, keep it
                    sub.rmdir()
            try:
                folder.rmdir()
            except OSError:
                break
        raise
