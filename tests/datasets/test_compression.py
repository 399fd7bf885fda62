"""Compressed ratings files (issue 23): gzip/bzip2/xz/zip read transparently whatever the name; broken archives,
binary files and non-UTF-8 text are one readable line, never raw bytes."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from pathlib import Path

import numpy as np
import pytest

from movierec.cli import main
from movierec.datasets import load_ratings_file
from movierec.errors import DataError

CSV = b"userId,movieId,rating,timestamp\n" + b"".join(
    f"{u},{m},{(u * m) % 10 / 2 + 0.5},{1000 + u + m}\n".encode() for u in range(1, 8) for m in (1, 2, 5, 9)
)


def _zip(data: bytes) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ratings.csv", data)
    return buf.getvalue()


PACKERS = {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress, "zip": _zip}


@pytest.mark.parametrize("kind", sorted(PACKERS))
@pytest.mark.parametrize("name", ["ratings.csv", "ratings.csv.gz"])
def test_compressed_csv_reads_like_the_plain_file(tmp_path: Path, kind: str, name: str) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_bytes(CSV)
    packed = tmp_path / name
    packed.write_bytes(PACKERS[kind](CSV))
    a, b = load_ratings_file(plain).interactions, load_ratings_file(packed).interactions
    assert a.n_ratings == b.n_ratings == 28
    assert np.array_equal(a.ratings, b.ratings) and np.array_equal(a.item_map.ids, b.item_map.ids)


def _err(path: Path) -> str:
    with pytest.raises(DataError) as info:
        load_ratings_file(path)
    msg = str(info.value)
    said = msg.replace(str(path), "")  # the words, whatever length the test's temp path has
    assert "\n" not in msg and len(said) < 200 and "\\x" not in msg, msg
    return msg


def test_broken_or_odd_files_are_named_in_words(tmp_path: Path) -> None:
    cut = tmp_path / "cut.csv"
    cut.write_bytes(gzip.compress(CSV)[:30])
    assert "gzip-compressed but cannot be unpacked" in _err(cut)
    two = tmp_path / "two.csv"
    with zipfile.ZipFile(two, "w") as zf:
        zf.writestr("a.csv", CSV)
        zf.writestr("b.csv", CSV)
    assert "zip archive holding 2 files (a.csv, b.csv)" in _err(two)
    png = tmp_path / "chart.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert "PNG image, not a text ratings file" in _err(png)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("userId,movieId,rating,timestamp,note\n1,2,3.0,4,caf\xe9\n".encode("latin-1"))
    assert "not valid UTF-8" in _err(latin)
    header = tmp_path / "header.csv"
    header.write_bytes("us\xe9rId,movieId,rating\n1,2,3\n".encode("latin-1"))
    assert "line 1: text is not valid UTF-8" in _err(header)


def test_cli_reads_gzip_named_csv_and_says_not_utf8_in_words(tmp_path: Path, capsys) -> None:
    packed = tmp_path / "ratings.csv"
    packed.write_bytes(gzip.compress(CSV))
    main_code = _run(["data", "info", "--ratings", str(packed), "--json"])
    out = capsys.readouterr()
    assert main_code == 0 and '"n_ratings": 28' in out.out, out
    latin = tmp_path / "latin.csv"
    latin.write_bytes("userId,movieId,rating,timestamp\n1,2,3.0,4\n\xe9,1,1,1\n".encode("latin-1"))
    code = _run(["data", "info", "--ratings", str(latin)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "not valid UTF-8" in err, err


def _run(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
