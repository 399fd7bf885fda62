"""Parsers for every MovieLens file format and for custom ratings files.

Each reader returns a plain pandas frame with canonical columns
(ratings: ``userId, movieId, rating, timestamp``; movies: ``movieId, title, year, genres``;
tags: ``userId, movieId, tag, timestamp``) and raises :class:`DataError` naming the file and
line on bad input. Large ratings files go through pyarrow's multi-threaded CSV reader.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from movierec.datasets.compression import read_unpacked
from movierec.errors import ConfigError, DataError, Doors, framed, not_encoded
from movierec.interactions import (
    BadRowsError,
    RowProblem,
    check_distinct_columns,
    datetime_seconds,
    empty_ids,
    epoch_seconds,
)

__all__ = [
    "FIRST_LINE",
    "HEADER_NOTE",
    "ML100K_GENRES",
    "TIME_NOTE",
    "ColumnOptionsError",
    "MissingColumnsError",
    "canonical_movies",
    "first_line_is_data",
    "headerless_columns",
    "movies_from_frame",
    "parse_delimiter",
    "parse_year",
    "ratings_from_frame",
    "read_movies",
    "read_ratings",
    "read_tags",
]

ML100K_GENRES = [
    "(no genres listed)", "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War",
    "Western",
]  # fmt: skip

#: the key of a ratings frame's ``attrs`` holding the note that its timestamps were read in a finer unit
#: than seconds (:func:`~movierec.interactions.epoch_seconds`); the loaders add it to the dataset's notes
TIME_NOTE = "movierec_time_note"
#: the key of a ratings frame's ``attrs`` holding the note that a text file was read without a header row
#: because its first line is all numbers (the loaders add it to the dataset's notes)
HEADER_NOTE = "movierec_header_note"
#: the key of a ratings frame's ``attrs`` holding the file line of its first row (2 below a header, else 1)
FIRST_LINE = "movierec_first_line"
_YEAR_RE = re.compile(r"\((\d{4})(?:[-–]\d{0,4})?\)\s*$")
_NO_GENRES = "(no genres listed)"
#: IMDb's empty field (``\\N``) in its ``.tsv`` files: a movie without genres
_NO_VALUE = "\\N"
_DAT_SEP = "\x1f"  # '::' files are rewritten to a one-character delimiter pyarrow accepts
_BLOCK_SIZE = 1 << 24
# Arrow's threaded reader pays off on large files only; on a parse error it can leave a worker that aborts
# the process at exit ("terminate called without an active exception", pyarrow 26: 1 exit in 4 in the
# CLI's bad-file path), so files below this size are read on one thread.
_THREADED_BYTES = 64 << 20  # bytes pyarrow parses at a time (types are inferred from the first block)


def parse_year(title: str) -> int | None:
    """Release year from a MovieLens title such as ``"Toy Story (1995)"``; ``None`` when absent."""
    m = _YEAR_RE.search(title.strip()) if isinstance(title, str) else None
    return int(m.group(1)) if m else None


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a folder, expected a file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty")


def _check_not_a_movielens_folder(path: Path) -> None:
    """A folder in a MovieLens layout given as a ratings file (``--ratings ml-32m``) said only 'is a folder,
    expected a file'; it loads whole, titles included, as a dataset, and the message says how."""
    found = (
        [n for n in ("ratings.csv", "ratings.dat", "u.data") if (path / n).is_file()] if path.is_dir() else []
    )
    if found:
        how = Doors(f"movierec.load({str(path)!r})", f"--dataset {path}")  # each door's (one line said both)
        raise DataError(
            framed(
                how,
                lambda it: (
                    f"{path}: is a folder, expected a file; it holds {found[0]}: load the folder as a "
                    f"dataset, its titles included ({it}), or name the file: {path / found[0]}"
                ),
            )
        )


#: delimiters by name, for those a shell makes awkward to type (a tab; ';' and '|' need quotes)
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}


def parse_delimiter(value: str) -> str:
    """A ratings file's delimiter as a person gives it (Python's ``delimiter=``, the CLI's ``--sep``): one
    character (``,`` ``;`` ``|``, a tab), ``::`` (ml-1m's ``.dat`` layout), or a name: ``tab`` (also
    ``\\t`` as typed in a shell, a backslash and a t), ``comma``, ``semicolon``, ``pipe``, ``space``.
    Anything else (two characters, a quote, a line break) is a :class:`~movierec.errors.ConfigError`."""
    sep = _DELIMITER_NAMES.get(value.lower(), value)  # as given: ', ' is two characters, not a comma
    if sep == "::" or (len(sep) == 1 and sep not in '"\r\n'):
        return sep
    said = f"delimiter {value!r} cannot separate fields: give one character (',', ';', '|'), tab (or '\\t'), or '::'"
    raise ConfigError(Doors(f"{said} (delimiter=)", f"{said} (--sep)"))  # each door's (one line said both)


def _sep_shown(sep: str) -> str:
    """``sep`` quoted for a message: ``'::'`` for the one-character stand-in pyarrow reads (:data:`_DAT_SEP`)."""
    return "'::'" if sep == _DAT_SEP else repr(sep)


def _sep_flag(sep: str) -> str:
    """How the CLI's ``--sep`` is typed for ``sep`` in a shell: ``--sep tab``, ``--sep ';'``."""
    import shlex

    return "--sep tab" if sep == "\t" else f"--sep {shlex.quote(sep)}"


def _sniff_delimiter(first_line: str, expected: str) -> str | None:
    """A likelier delimiter than ``expected`` seen in the header line, for the error hint."""
    for cand in ["::", ",", "\t", ";", "|"]:
        if cand != expected and cand in first_line and expected not in first_line:
            return cand
    return None


def _first_line(path: Path | bytes, encoding: str) -> str:
    if isinstance(path, bytes):
        raw = path.split(b"\n", 1)[0]
    else:
        with open(path, "rb") as fh:
            raw = fh.readline()
    return raw.decode(encoding, errors="replace").lstrip("\ufeff").rstrip("\r\n")


def _source_bytes(source: Path | bytes) -> bytes:
    return source if isinstance(source, bytes) else Path(source).read_bytes()


def _bad_field_count_line(source: Path | bytes, delimiter: str, expected: int) -> tuple[int, int] | None:
    """(line, fields) of the first line whose field count differs from ``expected`` (error path only)."""
    import csv

    text = _source_bytes(source).decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"')
    for n, row in enumerate(reader, start=1):
        if row and len(row) != expected:
            return n, len(row)
    return None


def _read_table(
    source: Path | bytes,
    *,
    label: str,
    delimiter: str,
    header: bool,
    names: list[str] | None,
    encoding: str,
    column_types: dict[str, pa.DataType] | None = None,
    id_cols: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Read delimited text into a frame, turning pyarrow's errors into DataErrors about ``label``.

    ``id_cols`` are read as text and become integers only when every id is one without a leading zero
    (:func:`_id_chunk`): pyarrow alone reads ``007`` as 7, which lost the id and merged it with ``7``."""
    column_types = {**(column_types or {}), **{c: pa.string() for c in id_cols}}
    read_opts = pacsv.ReadOptions(
        encoding=encoding if encoding.lower() not in ("utf-8", "utf8") else "utf8",
        column_names=None if header else names,
        autogenerate_column_names=False,
        block_size=_BLOCK_SIZE,
        use_threads=_size(source) >= _THREADED_BYTES,
    )
    parse_opts = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False, quote_char='"')
    conv = pacsv.ConvertOptions(column_types=column_types, strings_can_be_null=False)
    stream = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    reader = None
    try:
        # streamed block by block: peak memory stays near the size of the result, not ~3x it
        reader = pacsv.open_csv(
            stream, read_options=read_opts, parse_options=parse_opts, convert_options=conv
        )
        if encoding.lower() in ("utf-8", "utf8") and any(pa.types.is_binary(f.type) for f in reader.schema):
            raise _encoding_error(source, label)  # pyarrow falls back to bytes for undeclared columns
        names_ = reader.schema.names
        parts: dict[str, list[pa.Array]] = {n: [] for n in names_}
        text_ids: set[str] = set()
        for batch in reader:
            for n, col in zip(names_, batch.columns, strict=True):
                parts[n].append(_id_chunk(col, n in text_ids) if n in id_cols else col)
                if n in id_cols and pa.types.is_string(parts[n][-1].type):
                    text_ids.add(n)
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "Empty CSV file" in msg:
            raise DataError(f"{label}: file is empty") from None
        if "UTF8" in msg and "invalid" in msg:
            raise _encoding_error(source, label) from None
        m = re.search(r"Expected (\d+) columns, got (\d+)", msg)
        if m:
            where = _bad_field_count_line(source, delimiter, int(m.group(1)))
            line, got = where if where is not None else (None, int(m.group(2)))
            at = f", line {line}" if line is not None else ""
            said = f"{label}{at}: expected {m.group(1)} {_sep_shown(delimiter)}-separated fields, found {got}"
            rest = "a truncated line or broken quoting?)"
            raise DataError(
                Doors(
                    f"{said} (wrong delimiter (delimiter=), {rest}",
                    f"{said} (wrong delimiter (--sep), {rest}",
                )
            ) from None
        raise _ConversionFailed(msg) from None
    finally:
        # A reader left open after an error keeps its read-ahead thread running; if the process then
        # exits, Arrow's thread pool aborts it ("terminate called without an active exception").
        if reader is not None:
            reader.close()
    schema = reader.schema
    for n in id_cols:
        if n in text_ids:  # text after all: the blocks read as integers go back to their (canonical) text
            parts[n] = [c if pa.types.is_string(c.type) else c.cast(pa.string()) for c in parts[n]]
        elif n in parts:
            schema = schema.set(schema.get_field_index(n), pa.field(n, pa.int64()))
    return _columns_to_frame(parts, schema)


#: an id with a leading zero (``007``, ``-01``): text, never the integer it would parse as
_LEADING_ZERO = r"^[+-]?0[0-9]"


def _id_chunk(col: pa.Array, text: bool) -> pa.Array:
    """One block of an id column read as text: int64 when every id in it is an integer without a leading
    zero and the column is not ``text`` already, else the text as it is (the caller then keeps it all as
    text, as a column holding ``alice`` or ``007`` must be: ids are mapped, never computed with)."""
    if text or col.null_count or pc.any(pc.match_substring_regex(col, _LEADING_ZERO)).as_py():
        return col
    try:
        return col.cast(pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return col


def _size(source: Path | bytes) -> int:
    """Bytes in ``source`` (a path or the bytes themselves); 0 when the file cannot be stat'ed."""
    if isinstance(source, bytes):
        return len(source)
    try:
        return Path(source).stat().st_size
    except OSError:
        return 0


def _columns_to_frame(parts: dict[str, list[pa.Array]], schema: pa.Schema) -> pd.DataFrame:
    """A frame from per-column Arrow chunks, one column at a time (numeric columns become numpy arrays)."""
    cols: dict[str, object] = {}
    for name in list(parts):
        chunks = parts.pop(name)
        typ = schema.field(name).type
        nulls = sum(c.null_count for c in chunks)
        if nulls == 0 and (pa.types.is_integer(typ) or pa.types.is_floating(typ)):
            if chunks:
                cols[name] = np.concatenate([c.to_numpy(zero_copy_only=False) for c in chunks])
            else:
                cols[name] = np.empty(0, dtype=typ.to_pandas_dtype())
        else:
            cols[name] = pa.chunked_array(chunks, type=typ).to_pandas()
        del chunks
    pa.default_memory_pool().release_unused()
    return pd.DataFrame(cols, copy=False)


def _encoding_error(source: Path | bytes, label: str) -> DataError:
    return not_encoded(label, _source_bytes(source))  # one wording for every file (errors.not_encoded)


class _ConversionFailed(Exception):
    """A typed read failed; the caller re-reads those columns as text to name the bad line."""


def read_ratings(
    path: str | Path,
    *,
    fmt: str = "csv",
    user_col: str = "userId",
    item_col: str = "movieId",
    rating_col: str | None = "rating",
    time_col: str | None = "timestamp",
    delimiter: str | None = None,
    encoding: str = "utf-8",
    time_optional: bool = False,
    header: bool | None = None,
) -> pd.DataFrame:
    """Read a ratings file into a frame with columns ``userId, movieId, rating[, timestamp]``.

    ``time_optional``: a file without the ``time_col`` column is read without timestamps instead of
    refused (the default column of :func:`movierec.datasets.load_ratings_file`; a column named on
    purpose stays required).

    ``fmt`` is ``csv`` (header row, MovieLens latest/20m/25m/32m and custom files), ``tsv``,
    ``dat`` (``::`` separated, no header: ml-1m/ml-10m), ``u.data`` (tab separated, no header:
    ml-100k) or ``parquet``. Values are checked: ratings finite numbers; timestamps whole
    seconds ≥ 0 or ISO-8601 dates (custom files). Bad input raises :class:`DataError` naming the
    file and line; bad rows are counted, the first few named (:class:`~movierec.interactions.BadRowsError`).

    ``header``: whether the first line names the columns. ``None`` (csv, tsv) reads a first line of
    numbers (and ISO dates) only as data, with a note in the frame's ``attrs`` (:data:`HEADER_NOTE`);
    ``dat`` and ``u.data`` have none unless ``header=True``. Without a header the columns are taken by
    position as user, item, rating and timestamp (the rating left out for ``rating_col=None``, the
    timestamp for ``time_col=None`` or, when optional, a file of one field fewer); a column option that
    is a number picks that column instead (1 = the first), and the others take the columns left, in order.
    """
    path = Path(path)
    _check_not_a_movielens_folder(path)
    _check_file(path)
    label = str(path)
    if delimiter is not None:
        delimiter = parse_delimiter(delimiter)
    if fmt == "parquet":
        if delimiter is not None:
            raise DataError(
                f"{label}: a delimiter applies to text files (csv, tsv, dat, u.data), not to Parquet"
            )
        if header is not None:
            raise DataError(f"{label}: header applies to text files (csv, tsv, dat, u.data), not to Parquet")
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types for a broken file
            raise DataError(f"{label}: not a readable Parquet file ({type(exc).__name__})") from None
        return ratings_from_frame(
            df, label, user_col=user_col, item_col=item_col, rating_col=rating_col, time_col=time_col,
            time_optional=time_optional, line_offset=1,
        )  # fmt: skip

    source, sep = _text_source(path, fmt, delimiter)
    first = _first_line(source, encoding)
    cols = _header_cells(first, sep)
    guessed = header is None and fmt in ("csv", "tsv") and first_line_is_data(first, sep)
    given = header is not None
    if header is None:  # csv and tsv: a first line of numbers is data; ml-100k's and ml-1m's files have none
        header = fmt in ("csv", "tsv") and not guessed
    names, note = None, None
    if header:
        if "\ufffd" in first and encoding.lower() in ("utf-8", "utf8"):
            raise _encoding_error(source, label)  # say "not UTF-8" in words, never quote the raw bytes
        if time_optional and time_col not in cols and user_col in cols:  # (a wrong delimiter still fails)
            time_col = None
        _check_columns(
            cols, label, user_col, item_col, rating_col, time_col, first, sep, time_optional=time_optional,
            header_guessed=not given,
        )  # fmt: skip
    else:
        names = [str(n) for n in range(1, len(cols) + 1)]
        user_col, item_col, rating_col, time_col = _positions(
            label, first, sep, (user_col, item_col, rating_col, time_col), time_optional=time_optional
        )
        note = _headerless_note(label, first, (user_col, item_col, rating_col, time_col)) if guessed else None
    kw = {"label": label, "delimiter": sep, "header": header, "names": names, "encoding": encoding,
          "id_cols": (user_col, item_col)}  # fmt: skip
    try:
        df = _read_table(source, column_types=_value_types(rating_col, time_col), **kw)  # type: ignore[arg-type]
    except _ConversionFailed:
        # a value that is not a plain number (an ISO date as timestamp, a string id after many
        # integer ones): read every wanted column as text, then check and convert row by row
        text_cols = [c for c in (user_col, item_col, rating_col, time_col) if c is not None]
        df = _read_table(source, column_types={c: pa.string() for c in text_cols}, **kw)  # type: ignore[arg-type]
    if len(df) == 0:
        raise DataError(f"{label}: no ratings (header only)")
    first_line = 2 if header else 1
    try:
        out = _canonical_ratings(df, label, user_col, item_col, rating_col, time_col, line_offset=first_line)
    except BadRowsError as exc:  # pyarrow skips blank lines: name the file's own lines when it has them
        raise DataError(exc.render(row_lines(source, header))) from None
    out.attrs[FIRST_LINE] = first_line
    if note is not None:
        out.attrs[HEADER_NOTE] = note
    return out


def _value_types(rating_col: str | None, time_col: str | None) -> dict[str, pa.DataType]:
    """The types a ratings file's value columns are read as first (a value that does not fit re-reads them
    as text): float32 ratings (MovieLens ratings are exact in float32; half the memory), int64 seconds."""
    types: dict[str, pa.DataType] = {}
    if rating_col is not None:
        types[rating_col] = pa.float32()
    if time_col is not None:
        types[time_col] = pa.int64()
    return types


def _text_source(path: Path, fmt: str, delimiter: str | None) -> tuple[Path | bytes, str]:
    """``(source, delimiter)`` of a text ratings file: its path, or its bytes when it is compressed or a
    ``::`` file (rewritten to a one-character delimiter pyarrow accepts)."""
    label = str(path)
    unpacked = read_unpacked(path)  # gzip/bzip2/xz/zip read transparently, whatever the file's name
    plain: Path | bytes = unpacked if unpacked is not None else path
    if fmt == "dat" and delimiter in (None, "::"):
        source: Path | bytes = _source_bytes(plain).replace(b"::", _DAT_SEP.encode())
        sep = _DAT_SEP
    elif fmt == "u.data" and delimiter is None:
        source, sep = plain, "\t"
    elif fmt in ("csv", "tsv", "dat", "u.data"):  # a delimiter given wins over the name's
        source = plain
        tsv = fmt == "tsv" or ".tsv" in [x.lower() for x in path.suffixes[-2:]]
        sep = delimiter or ("\t" if tsv else ",")
        if sep == "::":  # pyarrow reads one-character delimiters: '::' becomes one, as in .dat files
            source, sep = _source_bytes(plain).replace(b"::", _DAT_SEP.encode()), _DAT_SEP
    else:
        raise DataError(f"{label}: unknown ratings format {fmt!r} (use csv, tsv, dat, u.data or parquet)")
    if sep == _DAT_SEP and _DAT_SEP.encode() not in source[:4096] and source[:4096].strip():  # type: ignore[index,operator]
        first = source[: source.find(b"\n") if b"\n" in source else 200].decode("latin-1")  # type: ignore[union-attr,index,operator]
        other = _sniff_delimiter(first, "::")
        said = f"{label}, line 1: expected '::'-separated fields"
        looks = f" (it looks {other!r}-separated: " if other else ""
        raise DataError(  # each door's setting (one line named both)
            Doors(f"{said}{looks}delimiter={other!r})", f"{said}{looks}{_sep_flag(other)})")
            if other
            else said
        )
    return source, sep


def row_lines(source: Path | bytes, header: bool) -> Callable[[int], str]:
    """``where(row)`` for a :class:`~movierec.interactions.BadRowsError` from a text file: ``line N``, the
    file's own line (1-based, the header counted) of data row ``row``. pyarrow skips empty lines, so in a
    file with any row ``k`` is not line ``k + 2``: the lines are counted in the file (error path only)."""
    data = _source_bytes(source)
    first = 2 if header else 1
    if not (data.startswith((b"\n", b"\r\n")) or b"\n\n" in data or b"\n\r\n" in data):
        return lambda row: f"line {row + first}"
    lines = [n for n, text in enumerate(data.split(b"\n"), start=1) if text.rstrip(b"\r")]
    lines = lines[1:] if header else lines
    return lambda row: f"line {lines[row]}" if row < len(lines) else f"line {row + first}"


#: the roles a headerless file's columns take by position, with the option naming each and its default
_ROLES = (("user", "userId"), ("item", "movieId"), ("rating", "rating"), ("timestamp", "timestamp"))


def _header_cells(first: str, sep: str) -> list[str]:
    return [c.strip().strip('"') for c in first.split(sep)]


def first_line_is_data(first: str, sep: str) -> bool:
    """Whether a text file's first line is data, not column names: every field that holds anything a number
    or an ISO date (no column is named so). :func:`read_ratings` reads such a file without a header unless
    told otherwise, and so does Spark's reader in ``spark train``. An empty field is judged by the others:
    ``1,31,,1260759144`` (a rating left out) was taken for a header and refused as "missing columns
    'userId', 'movieId', 'rating'", where the reader says "line 1: rating is missing"."""
    filled = [c for c in _header_cells(first, sep) if c]
    return bool(filled) and all(_looks_like_value(c) for c in filled)


def headerless_columns(
    label: str, first: str, sep: str, user_col: str, item_col: str, rating_col: str, *, guessed: bool
) -> tuple[str, str, str, str | None]:
    """The columns of a file without a header row, for a reader other than :func:`read_ratings` (Spark's):
    the 1-based numbers, as text, of the user, item and rating columns by :func:`read_ratings`' rule (a
    number given for a role picks that column, the roles left take the columns left in order, a fourth
    field is the timestamp; fields the roles do not fit are a :class:`ColumnOptionsError`), and the note
    :func:`read_ratings` gives when the header was ``guessed`` away (``None`` when said outright)."""
    given = (user_col, item_col, rating_col, "timestamp")
    user, item, rating, time = _positions(label, first, sep, given, time_optional=True, time_option=False)
    note = _headerless_note(label, first, (user, item, rating, time)) if guessed else None
    return user, item, rating or "", note


def _headerless_note(label: str, first: str, placed: tuple[str | None, ...]) -> str:
    """The note for a text file read without a header row because its first line is all values: which
    column was read as what, and how to say the first line is a header after all, in each door's words (a
    :class:`Doors`; Spark's reader named both in one line, and prints the door's own now,
    :func:`movierec.spark.session.print_note`)."""
    roles = ", ".join(
        f"{col} the {role}" for (role, _), col in zip(_ROLES, placed, strict=True) if col is not None
    )
    what = "numbers and dates" if re.search(r"\d{4}-\d{2}-\d{2}", first) else "numbers"
    shown = first.strip().replace(_DAT_SEP, "::")[:60]  # the file's '::', not the reader's stand-in
    said = (
        f"{label} has no header row (its first line, {shown!r}, is all {what}): columns read "
        f"by position, {roles}; if that line names the columns, say so"
    )
    return Doors(f"{said} (header=True)", f"{said} (--header)")  # each door's (one line named both)


def _option(role: str, value: object, *, flags: bool) -> str:
    """``--user-col 2`` (flags) or ``user_col=2`` (keywords): how a message names a column option."""
    flag, keyword = MissingColumnsError._FLAGS[role]
    if flags:
        return f"{flag} {value}"
    return f"{keyword}={value!r}" if isinstance(value, str) else f"{keyword}={value}"


def _positions(
    label: str,
    first: str,
    sep: str,
    given: tuple[str | None, str | None, str | None, str | None],
    *,
    time_optional: bool,
    time_option: bool = True,
) -> tuple[str, str, str | None, str | None]:
    """The column names ``"1"``, ``"2"`` … of a headerless file that hold the user, item, rating and
    timestamp (``None``: not read): a number given for a role picks that column; each role left at its
    default takes the first column not taken, in that order, the timestamp only while one is left when
    it is optional. A name that is not a number, or a field count that the roles do not use up when
    not every role was placed, is a :class:`ColumnOptionsError` saying how to place them (``time_option``:
    whether the reader has a timestamp option to name in it; Spark's reader has none)."""
    n_fields = len(first.split(sep))
    roles = [(role, col) for (role, _), col in zip(_ROLES, given, strict=True)]
    optional = time_optional and given[3] == "timestamp"  # the default timestamp: read when there is one
    placed: dict[str, int] = {}
    for (role, default), col in zip(_ROLES, given, strict=True):
        if col is None or col == default:
            continue
        text = str(col).strip()
        if not text.isdigit() or not 1 <= int(text) <= n_fields:
            raise _headerless_error(
                label, n_fields, roles, optional, bad=(role, col), time_option=time_option
            )
        if int(text) in placed.values():
            other = next(r for r, p in placed.items() if p == int(text))
            raise DataError(f"{label}: column {text} is named for both the {other} and the {role}")
        placed[role] = int(text)
    explicit = len(placed) == sum(col is not None for _, col in roles)
    free = (n for n in range(1, n_fields + 1) if n not in placed.values())
    for role, col in roles:
        if col is None or role in placed:
            continue
        pos = next(free, None)
        if pos is None and role == "timestamp" and optional:
            continue
        if pos is None:
            raise _headerless_error(label, n_fields, roles, optional, time_option=time_option)
        placed[role] = pos
    if len(placed) < n_fields and not explicit:
        raise _headerless_error(label, n_fields, roles, optional, time_option=time_option)
    user, item, rating, time = (str(placed[r]) if r in placed else None for r, _ in _ROLES)
    return user, item, rating, time  # type: ignore[return-value]


def _headerless_error(
    label: str,
    n_fields: int,
    roles: list[tuple[str, str | None]],
    optional: bool,
    *,
    bad: tuple[str, object] | None = None,
    time_option: bool = True,
) -> ColumnOptionsError:
    """A headerless file whose columns the roles cannot take: a column option that names no column
    (``bad``), or a field count other than the roles' (``optional``: the timestamp may be absent). Says
    what was expected and how to place the columns, in the CLI's flags or Python's keywords."""
    wanted = [role for role, col in roles if col is not None]
    needed = [role for role in wanted if not (optional and role == "timestamp")]
    fields = ", ".join(needed) + (f" and optionally timestamp: {len(needed)} or" if optional else ":")
    fields += f" {len(needed)} fields" if not optional else f" {len(needed) + 1} fields"

    def words(flags: bool) -> str:
        join = " " if flags else ", "
        named = enumerate(wanted, start=1)
        place = join.join(_option(r, n, flags=flags) for n, r in named if time_option or r != "timestamp")
        header = "--header" if flags else "header=True"
        if bad is not None:
            return (
                f"{label} has no header row, so {_option(bad[0], bad[1], flags=flags)} names no column: name "
                f"columns by position, 1 to {n_fields} ({place}), or read the first line as the header ({header})"
            )
        return (
            f"{label} has no header row, so its columns are taken by position as {fields}, but its first "
            f"line has {n_fields}: name each column by position ({place}), or add a header row"
        )

    return ColumnOptionsError(words(True), words(False))


def ratings_from_frame(
    df: pd.DataFrame,
    label: str,
    *,
    user_col: str = "userId",
    item_col: str = "movieId",
    rating_col: str | None = "rating",
    time_col: str | None = "timestamp",
    time_optional: bool = False,
    line_offset: int = 1,
) -> pd.DataFrame:
    """:func:`read_ratings`'s checks and canonical columns for a table already in memory (a Parquet
    file's, or a person's DataFrame): ``userId, movieId, rating[, timestamp]``. As for a text file, a
    missing default time column is dropped only once the user column is found: while columns are being
    named, a likely one (``ts``) is named with the rest, so the fix given loads the times too."""
    cols = list(map(str, df.columns))
    if time_optional and time_col not in cols and user_col in cols:
        time_col = None
    _check_columns(
        cols, label, user_col, item_col, rating_col, time_col, None, None, time_optional=time_optional
    )
    return _canonical_ratings(df, label, user_col, item_col, rating_col, time_col, line_offset=line_offset)


def _check_columns(
    cols: list[str],
    label: str,
    user_col: str,
    item_col: str,
    rating_col: str | None,
    time_col: str | None,
    first: str | None,
    sep: str | None,
    *,
    time_optional: bool = False,
    header_guessed: bool = False,
) -> None:
    """Name every wanted column the header lacks at once, with the one fix: another delimiter, a header
    row for a file whose first line is data, or the whole flag line with the likely columns filled in
    (:class:`MissingColumnsError`; ``header_guessed``, a text file's first line taken for a header
    unasked: where a found column is a number, it adds ``--no-header`` for a first line of data with text
    ids, ``u1,m10,4``). Refuse one column named for two roles
    (:func:`~movierec.interactions.check_distinct_columns`). ``time_optional``: the timestamp column is
    the default one, which a file may lack: it is named only when a found column looks like it."""
    check_distinct_columns(label, user_col, item_col, rating_col)
    wanted = [
        (c, role)
        for c, role in (
            (user_col, "user"),
            (item_col, "item"),
            (rating_col, "rating"),
            (time_col, "timestamp"),
        )
        if c is not None
    ]
    missing = [(c, role) for c, role in wanted if c not in cols]
    if not missing:
        return
    shown = ", ".join(cols) if len(cols) <= 12 else ", ".join(cols[:12]) + ", ..."
    other = _sniff_delimiter(first, sep) if first is not None and sep is not None else None
    if other is not None and first is not None and all(_looks_like_value(f) for f in first.split(other)):
        # no header at all: a first line of values in another delimiter ('1\t10\t4' in a .csv) read as
        # one column's name; 'missing column userId' and 'the header looks…' sent the reader looking for one
        said = f"{label}: its first line, {first.strip()[:60]!r}, looks like {other!r}-separated data, "
        said += f"not {_sep_shown(sep or ',')}-separated (wrong delimiter?): read it with "
        raise ColumnOptionsError(said + _sep_flag(other), f"{said}delimiter={other!r}")
    if other is not None:
        said = f"{label}: missing column {missing[0][0]!r} (found: {shown}); the header looks {other!r}-separated, "
        said += f"not {_sep_shown(sep or ',')} (wrong delimiter?): read it with "
        raise ColumnOptionsError(said + _sep_flag(other), f"{said}delimiter={other!r}")
    if first is not None and sep is not None and all(_looks_like_value(c) for c in cols):
        names = [c for c, _ in wanted]
        if len(cols) < len(names) and wanted[-1][1] == "timestamp":
            names = names[:-1]  # a file of three fields: no timestamp to name
        header = (
            ", ".join(names) + " (tab-separated)" if sep == "\t" else sep.replace(_DAT_SEP, "::").join(names)
        )
        said = (
            f"{label}: the first line looks like data, not a header ({first.strip()[:60]!r}): "
            f"add a header row such as {header}, or read the file without one, its columns by position"
        )
        raise DataError(Doors(f"{said} (header=False)", f"{said} (--no-header)"))  # each door's
    present = {c for c, _ in wanted if c in cols}
    guesses = _guess_columns([role for _, role in missing], [c for c in cols if c not in present])
    if time_optional:  # without a likely column the file loads without times: nothing to name
        missing = [(c, role) for c, role in missing if role != "timestamp" or guesses.get("timestamp")]
        if not missing:
            return
    spare = [c for c in cols if c not in present and c not in guesses.values()]
    raise MissingColumnsError(
        label, [c for c, _ in missing], shown, [(r, guesses.get(r)) for _, r in missing], spare=bool(spare),
        maybe_data=header_guessed and any(_looks_like_value(c) for c in cols),
    )  # fmt: skip


#: a found column's name (lower case, letters and digits only) that surely holds a role's values; a name
#: starting with the role's word (``user_id``, ``movie_id``, ``rating_value``) counts too
_ROLE_NAMES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "user": (("user",), frozenset({"uid", "customer", "customerid", "member", "memberid", "reviewer", "reviewerid", "visitor", "visitorid"})),
    "item": (("item", "movie"), frozenset({"iid", "mid", "film", "filmid", "product", "productid", "sku", "asin", "book", "bookid", "song", "songid", "track", "trackid"})),
    "rating": (("rating",), frozenset({"score", "stars", "star", "rate", "rated", "grade", "value", "preference", "pref", "overall"})),
    "timestamp": (("timestamp", "time", "date"), frozenset({"ts", "when", "epoch", "unixtime", "created", "createdat", "ratedat"})),
}  # fmt: skip


def _guess_columns(roles: list[str], found: list[str]) -> dict[str, str]:
    """``{role: column}`` for each role of ``roles`` that exactly one of the ``found`` columns (none taken
    by another role) is obviously named for: ``user_id`` for the user, ``score`` for the rating, ``ts`` for
    the timestamp. A role with no such column or several is left out: a guess would be a coin toss."""
    out: dict[str, str] = {}
    for role in roles:
        prefixes, names = _ROLE_NAMES[role]
        hits = []
        for c in found:
            key = re.sub(r"[^a-z0-9]", "", c.lower())
            if c not in out.values() and (key in names or key.startswith(prefixes)):
                hits.append(c)
        if len(hits) == 1:
            out[role] = hits[0]
    return out


def _looks_like_value(cell: str) -> bool:
    """Whether a header cell is a number or a date, as a data row's fields are (no column is named so)."""
    text = cell.strip()
    if not text:
        return False
    try:
        float(text)
    except ValueError:
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?", text) is not None
    return True


class ColumnOptionsError(DataError):
    """A ratings table's columns cannot be read as named: the message in the CLI's flags (``--user-col 2``)
    and, from :meth:`in_keywords`, in Python's keywords (``user_col=2``), so each caller is told what it
    can type (:func:`movierec.datasets.load_ratings_file` raises it in Python's words, and the CLI asks
    :meth:`in_flags` for its own)."""

    def __init__(self, flags_message: str, keywords_message: str) -> None:
        super().__init__(flags_message)
        self.flags_message, self.keywords_message = flags_message, keywords_message

    def in_flags(self) -> str:
        """The message naming the CLI's flags."""
        return self.flags_message

    def in_keywords(self) -> str:
        """The message naming Python's keyword arguments."""
        return self.keywords_message


class MissingColumnsError(ColumnOptionsError):
    """A ratings table lacks columns: all of them named in one line, with the fix as the CLI's flags
    (``--user-col user_id --item-col item_id``); :meth:`in_keywords` words it for Python's
    ``movierec.load(path, user_col=…)`` instead, so each caller is told what it can type
    (:func:`movierec.datasets.load_ratings_file` raises it in Python's words, and the CLI asks
    :meth:`in_flags` for its own)."""

    _FLAGS: ClassVar[dict[str, tuple[str, str]]] = {
        "user": ("--user-col", "user_col"),
        "item": ("--item-col", "item_col"),
        "rating": ("--rating-col", "rating_col"),
        "timestamp": ("--time-col", "time_col"),
    }

    def __init__(
        self,
        label: str,
        columns: list[str],
        found: str,
        fixes: list[tuple[str, str | None]],
        *,
        spare: bool = True,
        maybe_data: bool = False,
    ) -> None:
        plural = len(columns) > 1
        self.maybe_data = maybe_data  # a found column is a number: the first line may be data
        self.head = (
            f"{label}: missing column{'s' if plural else ''} {', '.join(map(repr, columns))} (found: {found})"
        )
        self.them = "them" if plural else "it"
        self.fixes = fixes
        self.spare = spare  # some found column is left unnamed (one of them may hold the ratings)
        flags = " ".join(f"{self._FLAGS[role][0]} {col or 'COLUMN'}" for role, col in fixes)
        super().__init__(f"{self.head}; name {self.them} with {flags}{self._or_none(flags=True)}", "")

    def in_flags(self) -> str:
        """The message naming the CLI's flags (``--user-col user_id --item-col item_id``)."""
        return self.flags_message

    def in_keywords(self) -> str:
        """The message naming the keyword arguments (``user_col='user_id', item_col='item_id'``)."""
        kw = ", ".join(
            f"{self._FLAGS[role][1]}={col!r}" if col else f"{self._FLAGS[role][1]}=COLUMN"
            for role, col in self.fixes
        )
        return f"{self.head}; name {self.them} with {kw}{self._or_none(flags=False)}"

    def _or_none(self, *, flags: bool) -> str:
        """How to go without a wanted column no found column looks like: the timestamp (no times) or the
        rating (interactions only, every row a positive of 1: an implicit log of who bought or watched
        what, which otherwise met 'name it with --rating-col COLUMN' and nothing it could name; said only
        when no found column is left that could hold ratings)."""
        unknown = {role for role, col in self.fixes if col is None and (role != "rating" or not self.spare)}
        words = {"rating": "a file without ratings: every row a positive of 1", "timestamp": "none"}
        parts = [
            (f"{self._FLAGS[role][0]} ''" if flags else f"{self._FLAGS[role][1]}=None")
            + f" for {words[role]}"
            for role in ("rating", "timestamp")
            if role in unknown
        ]
        if self.maybe_data:
            parts.append(
                f"{'--no-header' if flags else 'header=False'} if the first line is data, not column names"
            )
        return f" (or {'; or '.join(parts)})" if parts else ""


def _value_problem(
    bad: np.ndarray, values: pd.Series, field: str, rule: str, kind: str | None = None
) -> RowProblem:
    """The rows ``bad`` marks, whose ``field`` is missing or breaks ``rule`` (each said with its value);
    ``kind``: the rule in the count of bad rows, where shorter words than ``rule``'s fit (default: ``rule``)."""

    def said(row: int) -> str:
        what = _describe(values.iloc[row])
        return f"{field} is missing (empty or NaN)" if what == "is empty" else f"{field} {what} {rule}"

    def value(row: int) -> str:
        cell = values.iloc[row]
        what = _describe(cell)
        if what != "is empty":
            return f"{field} {what}"
        # a blank cell read as text is empty; a null one may have said 'NaN' (pyarrow reads '', 'NaN', 'nan'
        # and 'NA' alike as null), where "line 4 (rating empty)" named a cell that held 'NaN'
        return f"{field} empty" if isinstance(cell, str) else f"{field} empty or NaN"

    return RowProblem(bad, kind or f"{field} {rule.removeprefix('is ')}", said, value)


def _describe(value: object) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if (
        value is None
        or value is pd.NaT
        or (isinstance(value, float) and np.isnan(value))
        or (isinstance(value, str) and not value.strip())
    ):
        return "is empty"
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def _parse_timestamps(
    t: pd.Series, label: str, line_offset: int
) -> tuple[np.ndarray, str | None, list[RowProblem]]:
    """``(seconds, note, problems)``: whole seconds since the epoch from integers, floats, ISO-8601 strings
    or datetimes (any unit, a tz-aware one in UTC: :func:`~movierec.interactions.datetime_seconds`), and
    the rows that are none of these, negative or past the year 9999, each rule with the rows it marks (the
    caller counts them with the other columns' bad rows; their seconds are placeholders). Numbers too
    large to be seconds are milliseconds, microseconds or nanoseconds by
    :func:`~movierec.interactions.epoch_seconds`'s rule, and ``note`` says which (else ``None``)."""
    seconds = datetime_seconds(t)
    note = None
    problems: list[RowProblem] = []

    def shown(row: int) -> str:
        return _describe(t.iloc[row])

    if t.dtype.kind in "iu":
        arr, note = epoch_seconds(t.to_numpy(dtype=np.int64), label, line_offset, shown)
    elif seconds is not None:  # a DataFrame's or a Parquet file's datetime column
        bad = np.isnan(seconds)
        if bad.any():
            problems.append(_value_problem(bad, t, "timestamp", "is missing"))
            seconds = _filled(seconds, bad)
        arr = _whole_seconds(seconds, t, problems)
    else:
        num = pd.to_numeric(t, errors="coerce")
        vals = num.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(vals)
        if bad.any() and (t.dtype.kind in "OSU" or pd.api.types.is_string_dtype(t.dtype)):
            # not all numbers: try dates ("2019-11-21", "2019-11-21T10:00:00Z") for the non-numbers
            text = t.astype(str).str.strip()
            dates = pd.to_datetime(text.where(bad), errors="coerce", format="ISO8601", utc=True)
            ok = bad & dates.notna().to_numpy()
            if ok.any():
                epoch = pd.Timestamp(0, tz="UTC")  # resolution-independent (pandas 3 may parse to us, not ns)
                secs = ((dates[ok] - epoch) // pd.Timedelta(seconds=1)).to_numpy(dtype=np.float64)
                vals = vals.copy()
                vals[ok] = secs
                bad = bad & ~ok
        if bad.any():
            problems.append(_value_problem(bad, t, "timestamp", "is neither a number nor an ISO date"))
            vals = _filled(vals, bad)
        vals, note = epoch_seconds(vals, label, line_offset, shown)
        arr = _whole_seconds(vals, t, problems)
    neg = arr < 0
    for earlier in problems:  # a row already counted is not negative as well
        neg &= ~earlier.mask
    if neg.any():
        problems.append(
            RowProblem(
                neg,
                "negative timestamp",
                lambda row: f"timestamp {shown(row)} is negative",
                lambda row: f"timestamp {shown(row)}",
            )
        )
    return arr, note, problems


#: the kinds of bad row :func:`_parse_timestamps` counts for a time it cannot read (a negative one or one past
#: 9999 is read, and wrong as a time: its line says so)
_TIME_KINDS = ("timestamp neither a number nor an ISO date", "timestamp missing")
#: what a ratings table whose only bad rows are times it cannot read is told after them: the forms a time
#: takes, and how to load the ratings without times (a dd/mm/yyyy export stopped with no way on)
_TIMES_HINT = Doors(
    "; a timestamp is seconds since 1970 or an ISO date (2019-11-21), or load without times: time_col=None",
    "; a timestamp is seconds since 1970 or an ISO date (2019-11-21), or load without times: --time-col ''",
)


def _filled(vals: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """``vals`` with the ``bad`` rows set to a good row's value (0 when none is good), so a unit is read
    from the good rows alone while the bad ones are counted."""
    good = np.flatnonzero(~bad)
    out = vals.copy()
    out[bad] = vals[good[0]] if len(good) else 0.0
    return out


def _whole_seconds(vals: np.ndarray, t: pd.Series, problems: list[RowProblem]) -> np.ndarray:
    """Finite seconds ``vals`` (read from column ``t``) floored to int64; a value past 9999-12-31 is a bad
    row added to ``problems`` (no real rating is dated there, and far enough out int64 seconds overflow)."""
    frac = vals != np.floor(vals)
    if frac.any():
        vals = np.floor(vals)
    huge = np.abs(vals) > 253_402_300_799  # past 9999-12-31: would overflow int64 seconds
    if huge.any():
        problems.append(
            RowProblem(
                huge,
                "timestamp out of range (after year 9999)",
                lambda row: f"timestamp {_describe(t.iloc[row])} is out of range (after year 9999)",
                lambda row: f"timestamp {_describe(t.iloc[row])}",
            )
        )
        vals = np.where(huge, 0.0, vals)
    return vals.astype(np.int64)


def _id_column(s: pd.Series, col: str) -> tuple[np.ndarray, RowProblem | None]:
    """An id column as integers when every id is one (else as text), and its empty rows (``None``: none)."""
    if s.dtype.kind in "iu":  # the common case: integer ids, nothing to check, no copy
        return s.to_numpy(), None
    empty = s.isna().to_numpy()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        empty = empty | (s.astype(str).str.strip() == "").to_numpy()
    if empty.any():
        return s.to_numpy(), empty_ids(empty, col)
    if s.dtype.kind == "f":
        whole = np.all(s.to_numpy() == np.round(s.to_numpy()))
        return (s.to_numpy().astype(np.int64) if whole else s.astype(str).to_numpy(dtype=object)), None
    if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
        num = pd.to_numeric(s, errors="coerce")
        # ids read as text that are all integers, none spelt with a leading zero ('007' is not 7)
        if (
            num.notna().all()
            and num.dtype.kind in "iu"
            and not s.astype(str).str.contains(_LEADING_ZERO).any()
        ):
            return num.to_numpy(dtype=np.int64), None
        return s.to_numpy(dtype=object), None
    return s.to_numpy(), None


def _canonical_ratings(
    df: pd.DataFrame,
    label: str,
    user_col: str,
    item_col: str,
    rating_col: str | None,
    time_col: str | None,
    *,
    line_offset: int,
) -> pd.DataFrame:
    """The canonical frame of a ratings table, every bad row of every column counted in one
    :class:`~movierec.interactions.BadRowsError` (empty ids, ratings that are no finite number, timestamps
    that are no number or date, negative or past 9999): the first bad row alone left a file with many to be
    mended one run at a time."""
    for col in (user_col, item_col, rating_col, time_col):
        if col is not None and col not in df.columns:
            raise DataError(f"{label}: missing column {col!r} (found: {', '.join(map(str, df.columns))})")
    if len(df) == 0:
        raise DataError(f"{label}: no ratings")
    cols: dict[str, object] = {}
    problems: list[RowProblem] = []
    for col, src in (("userId", user_col), ("movieId", item_col)):
        cols[col], empty = _id_column(df[src], col)
        problems += [empty] if empty is not None else []
    if rating_col is None:
        cols["rating"] = np.ones(len(df), dtype=np.float32)
    else:
        raw = df[rating_col]
        if raw.dtype.kind == "f":
            r = raw.to_numpy()
        else:
            r = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(r)
        if bad.all():
            _check_not_all_empty(raw, label, rating_col)
        if bad.any():
            # counted as 'rating not a number' unless an inf is among them (rare in a file, a number but not
            # finite): 'bad.csv: 6 bad rows (empty userId: 1, rating not a finite number: 5): …' was 166 columns
            kind = "rating not a finite number" if np.isinf(r[bad]).any() else "rating not a number"
            problems.append(_value_problem(bad, raw, "rating", "is not a finite number", kind))
        del bad
        cols["rating"] = r.astype(np.float32, copy=False)
    note = None
    if time_col is not None:
        cols["timestamp"], note, bad_times = _parse_timestamps(df[time_col], label, line_offset)
        problems += bad_times
    if problems:
        # only timestamps are wrong ('21/11/2019', empty): the rows, and the way on without mending them
        hint = _TIMES_HINT if all(p.kind in _TIME_KINDS for p in problems) else ""
        raise BadRowsError(label, problems, line_offset, hint)
    out = pd.DataFrame(cols, copy=False)
    if note is not None:  # timestamps in ms/µs/ns: the loader adds this to the dataset's notes
        out.attrs[TIME_NOTE] = note
    return out


def _check_not_all_empty(raw: pd.Series, label: str, rating_col: str) -> None:
    """Refuse a rating column with no value at all in words that name the fix: an export of who watched
    what often keeps an empty ``rating`` column, which was counted as every row bad ('2,275 bad rows (rating
    not a finite number): line 2 (rating empty), …') without saying that such data loads as interactions."""
    empty = raw.isna() | raw.astype(str).str.strip().eq("")
    if not empty.all():
        return
    head = f"{label}: every rating is empty (column {rating_col!r}, {len(raw):,} rows)"

    def fix(none: str, named: str) -> str:
        return (
            f"{head}: for data without ratings, read it with {none} (every row a positive of 1), or {named}"
        )

    raise ColumnOptionsError(
        fix("--rating-col ''", "name the column of ratings with --rating-col COLUMN"),
        fix("rating_col=None", "name the column of ratings with rating_col='COLUMN'"),
    )


def _read_formatted(
    path: str | Path,
    fmt: str,
    encoding: str | None,
    what: str,
    readers: dict[str, tuple[str, Callable[[Any], pd.DataFrame]]],
) -> tuple[pd.DataFrame, str]:
    """``(frame, label)`` of a catalogue file read by its format's reader (``fmt`` → default encoding, reader)."""
    path = Path(path)
    _check_file(path)
    label = str(path)
    if fmt not in readers:
        names = list(readers)
        choices = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
        raise DataError(f"{label}: unknown {what} format {fmt!r} (use {choices})")
    default_encoding, reader = readers[fmt]
    return _read_text_frame(path, label, encoding or default_encoding, reader), label


def read_movies(
    path: str | Path,
    *,
    fmt: str = "csv",
    encoding: str | None = None,
    id_col: str = "movieId",
    text_ids: bool = False,
) -> pd.DataFrame:
    """Read a movies file into ``movieId, title, year, genres`` (genres as a list of strings).

    ``fmt``: ``csv`` (movies.csv), ``dat`` (movies.dat, ``::``) or ``u.item`` (ml-100k, latin-1,
    pipe separated with 19 genre flags). ``id_col``: a csv's id column when it is not ``movieId``
    (the ratings file's item column, e.g. ``sku``). ``text_ids``: ids are text, as the ratings' are
    (``m1``, ``tt0114709``); otherwise an id that is not a number is an error naming its line.
    """
    df, label = _read_formatted(
        path,
        fmt,
        encoding,
        "movies",
        {
            "csv": (
                "utf-8",
                # the ids as text: pandas read '007' as 7, which no longer named the ratings' text id '007'
                lambda buf: pd.read_csv(
                    buf,
                    sep=_movies_delimiter(Path(path), buf),
                    dtype={"title": str, "genres": str, "movieId": str, id_col: str},
                    keep_default_na=False,
                ),
            ),
            "dat": ("utf-8|latin-1", _dat_reader(["movieId", "title", "genres"])),
            "u.item": (
                "latin-1",
                lambda buf: pd.read_csv(
                    buf, sep="|", header=None, dtype=str, keep_default_na=False, quoting=3
                ),
            ),
        },
    )
    if fmt == "csv":
        return movies_from_frame(df, label, id_col=id_col, text_ids=text_ids, line_offset=2)
    if fmt == "dat":
        genres = df["genres"]
    else:  # u.item
        if df.shape[1] < 5 + len(ML100K_GENRES):
            raise DataError(
                f"{label}: expected {5 + len(ML100K_GENRES)} '|'-separated fields, found {df.shape[1]}"
            )
        flags = df.iloc[:, 5 : 5 + len(ML100K_GENRES)].to_numpy() == "1"
        df = pd.DataFrame({"movieId": df.iloc[:, 0], "title": df.iloc[:, 1]})
        genres = pd.Series(
            ["|".join(g for g, f in zip(ML100K_GENRES, row, strict=True) if f) for row in flags]
        )
    return canonical_movies(df, genres, label, line_offset=2 if fmt == "csv" else 1, text_ids=text_ids)


def _movies_delimiter(path: Path, buf: io.StringIO) -> str:
    """A movies file's field delimiter: a tab for ``.tsv`` (IMDb's ``title.basics.tsv``), else the one its
    header row uses when that row has no comma but a tab, ``;`` or ``|`` (a spreadsheet's export), else a
    comma. Each was read as comma-separated and stopped with 'malformed row (broken quoting or wrong
    delimiter)', with no option to say otherwise (``--sep`` is the ratings file's)."""
    suffixes = [x.lower() for x in path.suffixes]
    if suffixes[-1:] == [".tsv"] or (
        suffixes[-2:-1] == [".tsv"] and suffixes[-1] in (".gz", ".bz2", ".xz", ".zip")
    ):
        return "\t"
    header = buf.getvalue().split("\n", 1)[0]
    if "," in header:
        return ","
    return next((sep for sep in ("\t", ";", "|") if sep in header), ",")


#: the names a movies table's column of titles goes by, in the order one is taken when several are there:
#: MovieLens' ``title``, IMDb's ``primaryTitle``, then ``movie_title``, ``movie_name`` and ``name`` (a
#: catalogue ``title_id,name,year,genres`` stopped with "missing column 'title'"); matched ignoring case
TITLE_COLUMNS = ("title", "primaryTitle", "movie_title", "movie_name", "name")


def _title_column(columns: Any) -> Any:
    """The column of titles among ``columns`` by :data:`TITLE_COLUMNS`' rule, or ``None``."""
    by_name = {str(c).lower(): c for c in reversed(list(columns))}  # the first of a name that repeats
    return next((by_name[n.lower()] for n in TITLE_COLUMNS if n.lower() in by_name), None)


def movies_from_frame(
    df: pd.DataFrame, label: str, *, id_col: str = "movieId", text_ids: bool = False, line_offset: int = 0
) -> pd.DataFrame:
    """A movies table with ``movieId`` (or ``id_col``, the ratings' item column: ``sku``), ``title`` and
    optionally ``|``-separated ``genres``, as a movies.csv or a person's DataFrame holds it, checked and
    made canonical; a ``movieId`` column wins over ``id_col`` when both are there.

    Genres no row separates with ``|`` but some with ``;`` are read as ``;``-separated (``Drama;Crime``
    was one genre of that name), else with ``,`` as IMDb's (``Crime,Drama``), whose ``\\N`` is no genre; a
    ``year`` (or IMDb's ``startYear``) column gives the year of a title that does not end in one.
    The titles are the first column named (ignoring case) as :data:`TITLE_COLUMNS` lists."""
    found = ", ".join(map(str, df.columns))  # the file's own names, before id_col is renamed
    if id_col != "movieId" and id_col in df.columns and "movieId" not in df.columns:
        df = df.rename(columns={id_col: "movieId"})
    if "movieId" not in df.columns:
        want = "'movieId'" if id_col == "movieId" else f"{id_col!r} (the ratings' item column) or 'movieId'"
        # IMDb's tconst, a shop's id: the one fix is a column name, and the message said none
        raise DataError(
            f"{label}: missing column {want} (found: {found}); name its column of movie ids {id_col!r}, "
            f"as the ratings' item column is named"
        )
    title = _title_column(df.columns)
    if title is None:
        raise DataError(
            f"{label}: missing column 'title' (found: {found}); name the column of titles 'title' "
            f"(or {', '.join(TITLE_COLUMNS[1:-1])} or {TITLE_COLUMNS[-1]})"
        )
    if title != "title":
        df = df.drop(columns=[c for c in df.columns if c == "title"]).rename(columns={title: "title"})
    df = df.reset_index(drop=True)
    genres = df["genres"].fillna("").astype(str) if "genres" in df.columns else pd.Series([""] * len(df))
    genres = genres.mask(genres.str.strip() == _NO_VALUE, "")
    if not genres.str.contains("|", regex=False).any():  # 'Drama;Crime', IMDb's 'Crime,Drama'
        sep = next((s for s in (";", ",") if genres.str.contains(s, regex=False).any()), None)
        genres = genres if sep is None else genres.str.replace(rf"\s*{sep}\s*", "|", regex=True)
    year = next((c for c in df.columns if str(c).lower() in ("year", "startyear")), None)
    year_col = pd.to_numeric(df[year], errors="coerce") if year is not None else None
    return canonical_movies(df, genres, label, line_offset=line_offset, text_ids=text_ids, year_col=year_col)


def canonical_movies(
    df: pd.DataFrame,
    genres: pd.Series,
    label: str,
    *,
    line_offset: int,
    text_ids: bool = False,
    year_col: pd.Series | None = None,
) -> pd.DataFrame:
    """``movieId, title, year, genres`` (genres a list) from a frame with ``movieId`` and ``title`` and
    its ``|``-separated genre strings; the first row of a repeated movieId wins. ``text_ids``: keep
    the ids as text (a ratings file with text item ids); else they must be numbers. ``year_col``: years
    aligned with ``df`` for the titles that end in none (a whole number 1-9999, else no year)."""
    ids = pd.to_numeric(df["movieId"], errors="coerce")
    id_values: np.ndarray
    if text_ids:
        id_values = np.asarray(df["movieId"].astype(str).str.strip().tolist(), dtype=object)
    elif ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise DataError(
            f"{label}, line {row + line_offset}: movieId {df['movieId'].iloc[row]!r} is not a number"
        )
    else:
        id_values = ids.to_numpy(dtype=np.int64)
    titles = df["title"].astype(str).str.strip()
    years = pd.to_numeric(
        titles.str.extract(_YEAR_RE, expand=False), errors="coerce"
    )  # vectorised parse_year
    if year_col is not None:  # a year column, aligned with df: for the titles that do not end in one
        given = np.array(year_col.to_numpy(dtype=float, na_value=np.nan))  # a copy: set below
        given[~((given >= 1) & (given <= 9999) & (given == np.round(given)))] = np.nan
        years = years.fillna(pd.Series(given, index=years.index))
    out = pd.DataFrame(
        {
            "movieId": id_values,
            "title": np.asarray(titles.tolist(), dtype=object),
            "year": pd.array(years, dtype="Int64"),
            # .tolist() first: iterating an arrow-backed string column item by item is slow
            "genres": [
                [x for x in g.split("|") if x and x != _NO_GENRES]
                for g in genres.fillna("").astype(str).tolist()
            ],
        }
    )
    return out.drop_duplicates("movieId", keep="first").reset_index(drop=True)


def read_tags(path: str | Path, *, fmt: str = "csv", encoding: str | None = None) -> pd.DataFrame:
    """Read a tags file into ``userId, movieId, tag, timestamp`` (tags kept per (user, movie))."""
    df, label = _read_formatted(
        path,
        fmt,
        encoding,
        "tags",
        {
            "csv": ("utf-8", lambda buf: pd.read_csv(buf, dtype={"tag": str}, keep_default_na=False)),
            "dat": ("utf-8|latin-1", _dat_reader(["userId", "movieId", "tag", "timestamp"])),
        },
    )
    for col in ("userId", "movieId", "tag"):
        if col not in df.columns:
            raise DataError(f"{label}: missing column {col!r} (found: {', '.join(map(str, df.columns))})")
    out = pd.DataFrame(
        {
            "userId": pd.to_numeric(df["userId"], errors="coerce"),
            "movieId": pd.to_numeric(df["movieId"], errors="coerce"),
            "tag": df["tag"].astype(str),
            "timestamp": pd.to_numeric(df.get("timestamp", pd.Series([0] * len(df))), errors="coerce"),
        }
    )
    bad = out[["userId", "movieId"]].isna().any(axis=1).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"{label}, line {row + (2 if fmt == 'csv' else 1)}: userId/movieId is not a number")
    out["userId"] = out["userId"].astype(np.int64)
    out["movieId"] = out["movieId"].astype(np.int64)
    out["timestamp"] = out["timestamp"].fillna(0).astype(np.int64)
    return out


def _dat_reader(names: list[str]):  # type: ignore[no-untyped-def]
    """A pandas reader for MovieLens ``::``-separated files (1m/10m): every field a string, no quoting."""
    return lambda buf: pd.read_csv(
        buf, sep="::", engine="python", header=None, names=names, dtype=str, keep_default_na=False, quoting=3
    )


def _read_text_frame(path: Path, label: str, encoding: str, reader) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Decode a small text file strictly (naming the line of a bad byte) and hand it to a pandas reader. A
    gzip, bzip2, xz or one-file zip archive is unpacked first, as a ratings file is (a gzipped --movies file
    was refused as 'line 1: text is not valid UTF-8 …; read it with --encoding latin-1')."""
    unpacked = read_unpacked(path, "a text file (CSV or TSV, UTF-8)")  # a movies file is no ratings file
    data = path.read_bytes() if unpacked is None else unpacked
    *first_choices, last = encoding.split("|")  # "utf-8|latin-1": try each in turn
    for enc in first_choices:
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        try:
            text = data.decode(last)
        except UnicodeDecodeError:
            raise not_encoded(label, data, last) from None
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise DataError(f"{label}: file is empty")
    try:
        return reader(io.StringIO(text))
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+)", str(exc))
        where = f", line {m.group(1)}" if m else ""
        raise DataError(f"{label}{where}: malformed row (broken quoting or wrong delimiter)") from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{label}: file is empty") from exc
