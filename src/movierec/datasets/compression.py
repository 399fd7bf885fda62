"""Compressed ratings files read transparently, whatever their name: gzip, bzip2, xz or a one-file zip.

The format is recognised by its magic bytes, not the suffix, so ``ratings.csv`` that is really
gzip reads like ``ratings.csv.gz`` (before, it ended in a message quoting raw gzip bytes). Other
binary data (a spreadsheet, an image) is named as such instead of being parsed as text.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from pathlib import Path
from typing import Any

from movierec.errors import DataError

__all__ = ["COMPRESSED_SUFFIXES", "MAX_UNPACKED_BYTES", "compression_of", "read_unpacked"]

MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
}
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zip")
MAX_UNPACKED_BYTES = 8 << 30
"""Refuse to unpack more than this (8 GiB, as for downloads): a small bomb must not fill memory."""
_OPEN: dict[str, Any] = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}
_BINARY = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office file",
}


def compression_of(path: Path) -> str | None:
    """``"gzip"``, ``"bzip2"``, ``"xz"`` or ``"zip"`` when the file starts with that format's magic bytes."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    return next((name for magic, name in MAGIC.items() if head.startswith(magic)), None)


def _limited(read: object, label: str, what: str) -> bytes:
    data = read(MAX_UNPACKED_BYTES + 1)  # type: ignore[operator]
    if len(data) > MAX_UNPACKED_BYTES:
        raise DataError(
            f"{label}: {what} unpacks to more than {MAX_UNPACKED_BYTES >> 30} GiB; unpack it yourself"
        )
    return data


def read_unpacked(path: Path, what: str = "a text ratings file") -> bytes | None:
    """The unpacked bytes of a compressed file, or ``None`` for a plain one; ``DataError`` for a broken archive
    or binary data, which says it is not ``what`` (a movies file's: not "a text ratings file")."""
    label = str(path)
    if path.suffix.lower() in (".xlsx", ".xls", ".ods", ".numbers"):
        raise DataError(
            f"{label}: this is a spreadsheet ({path.suffix}), not a text file; save it as CSV (UTF-8)"
        )
    kind = compression_of(path)
    if kind is None:
        with open(path, "rb") as fh:
            head = fh.read(4096)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise DataError(f"{label}: this is UTF-16 text, not UTF-8; re-save the file as UTF-8")
        found = next((w for magic, w in _BINARY.items() if head.startswith(magic)), None)
        if found is None and b"\x00" in head:
            found = "binary data (it holds NUL bytes)"
        if found is not None:
            raise DataError(f"{label}: this is {found}, not {what}")
        return None
    try:
        if kind == "zip":
            with zipfile.ZipFile(path) as zf:
                members = [i for i in zf.infolist() if not i.is_dir()]
                if len(members) != 1:
                    names = ", ".join(i.filename for i in members[:5])
                    raise DataError(
                        f"{label}: a zip archive holding {len(members)} files ({names}); expected one"
                    )
                with zf.open(members[0]) as fh:
                    return _limited(fh.read, label, "the zip archive")
        with _OPEN[kind](path, "rb") as fh:
            return _limited(fh.read, label, f"the {kind} file")
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, ValueError) as exc:
        raise DataError(f"{label}: this file is {kind}-compressed but cannot be unpacked ({exc})") from None
