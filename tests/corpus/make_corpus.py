"""Regenerate the malformed-input corpus (``python tests/corpus/make_corpus.py``); the files are committed.

Every file here is hand-written garbage for one reader; ``cases.toml`` says which command reads it and
which words its one-line error must contain. Artifacts and the zip bomb are made in test fixtures instead.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
GOOD_RATINGS = "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,2,3.5,964981247\n2,1,5.0,964982224\n2,3,2.0,964983815\n"
GOOD_MOVIES = 'movieId,title,genres\n1,Toy Story (1995),Animation|Comedy\n2,"Heat, The (1995)",Action\n3,Up (2009),Comedy\n'


def w(rel: str, data: str | bytes) -> None:
    p = HERE / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def folder(rel: str, **files: str | bytes) -> None:
    base = {"ratings.csv": GOOD_RATINGS, "movies.csv": GOOD_MOVIES}
    base.update(files)
    for name, data in base.items():
        if data is not None:
            w(f"{rel}/{name}", data)


def zipped(rel: str, members: dict[str, bytes], *, symlink: str | None = None) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, "/etc/passwd")
    w(rel, buf.getvalue())


def parquet(rel: str, table: pa.Table) -> None:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    w(rel, buf.getvalue())


def main() -> None:
    for sub in ("ratings", "folders", "archives", "configs"):
        shutil.rmtree(HERE / sub, ignore_errors=True)
    h = "userId,movieId,rating,timestamp\n"
    # --- ratings files (csv / tsv / dat / parquet) ---
    w("ratings/nonnumeric_rating.csv", h + "1,1,4.0,964982703\n1,2,great,964982704\n")
    w("ratings/nan_rating.csv", h + "1,1,4.0,964982703\n1,2,NaN,964982704\n")
    w("ratings/empty_rating.csv", h + "1,1,4.0,964982703\n1,2,,964982704\n")
    w("ratings/inf_rating.csv", h + "1,1,inf,964982703\n")
    w("ratings/out_of_scale.csv", h + "1,1,4.0,964982703\n1,2,7.5,964982704\n")
    w("ratings/negative_rating.csv", h + "1,1,-3,964982703\n")
    w("ratings/garbage_timestamp.csv", h + "1,1,4.0,yesterday\n")
    w("ratings/negative_timestamp.csv", h + "1,1,4.0,-964982703\n")
    w("ratings/huge_timestamp.csv", h + "1,1,4.0,1e300\n")
    w("ratings/missing_column.csv", "userId,movieId,timestamp\n1,1,964982703\n")
    w("ratings/misnamed_column.csv", "user,movieId,rating,timestamp\n1,1,4.0,964982703\n")
    w("ratings/semicolon.csv", "userId;movieId;rating;timestamp\n1;1;4.0;964982703\n")
    w("ratings/latin1.csv", h.encode() + "Jos\xe9,1,4.0,964982703\n".encode("latin-1"))
    w("ratings/header_only.csv", h)
    w("ratings/empty.csv", "")
    w("ratings/binary_junk.csv", bytes(range(256)) * 8)
    w("ratings/short_row.csv", h + "1,1,4.0,964982703\n1,2\n")
    w("ratings/extra_fields.csv", h + "1,1,4.0,964982703\n1,2,3.0,964982704,oops,more\n")
    w("ratings/empty_user.csv", h + ",1,4.0,964982703\n")
    w("ratings/comma_in.tsv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n")
    w("ratings/nonnumeric.tsv", "userId\tmovieId\trating\ttimestamp\n1\t1\tfour\t964982703\n")
    w("ratings/utf16.csv", (h + "1,1,4.0,964982703\n").encode("utf-16"))
    w("ratings/unknown_ext.xlsx", b"PK\x03\x04 not really a spreadsheet")
    parquet(
        "ratings/string_rating.parquet",
        pa.table({"userId": [1, 2], "movieId": [1, 2], "rating": ["good", "bad"], "timestamp": [1, 2]}),
    )
    parquet(
        "ratings/missing_column.parquet", pa.table({"userId": [1, 2], "movieId": [1, 2], "timestamp": [1, 2]})
    )
    parquet(
        "ratings/nan_rating.parquet",
        pa.table({"userId": [1, 2], "movieId": [1, 2], "rating": [4.0, float("nan")], "timestamp": [1, 2]}),
    )
    good = io.BytesIO()
    pq.write_table(
        pa.table(
            {
                "userId": list(range(200)),
                "movieId": list(range(200)),
                "rating": [4.0] * 200,
                "timestamp": list(range(200)),
            }
        ),
        good,
    )
    w("ratings/truncated.parquet", good.getvalue()[: len(good.getvalue()) // 2])
    w("ratings/not_parquet.parquet", h + "1,1,4.0,964982703\n")
    # --- MovieLens-layout folders with broken movies / tags ---
    folder(
        "folders/movies_broken_quote",
        **{"movies.csv": 'movieId,title,genres\n1,"Toy Story (1995),Animation\n2,Heat (1995),Action\n'},
    )
    folder(
        "folders/movies_latin1",
        **{"movies.csv": "movieId,title,genres\n1,Am\xe9lie (2001),Comedy\n".encode("latin-1")},
    )
    folder("folders/movies_missing_title", **{"movies.csv": "movieId,genres\n1,Comedy\n"})
    folder(
        "folders/movies_nonnumeric_id",
        **{"movies.csv": "movieId,title,genres\none,Toy Story (1995),Comedy\n"},
    )
    folder("folders/movies_binary", **{"movies.csv": b"\x00\xff\xfe" * 300})
    folder(
        "folders/tags_unquoted_newline",
        **{"tags.csv": "userId,movieId,tag,timestamp\n1,1,pix\nar,1445714994\n"},
    )
    folder("folders/tags_missing_tag", **{"tags.csv": "userId,movieId,timestamp\n1,1,1445714994\n"})
    folder("folders/no_ratings", **{"ratings.csv": None})
    folder("folders/ratings_garbage", **{"ratings.csv": "hello world\nthis is not a ratings file\n"})
    # --- archives for `data fetch ml-latest --path` (no fixed checksum, so the archive checks run) ---
    ok = {"ml-latest/ratings.csv": GOOD_RATINGS.encode(), "ml-latest/movies.csv": GOOD_MOVIES.encode()}
    zipped("archives/traversal.zip", {**ok, "../../evil.txt": b"pwned"})
    zipped("archives/absolute.zip", {**ok, "/tmp/movierec-evil.txt": b"pwned"})
    zipped("archives/symlink.zip", ok, symlink="ml-latest/link")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ml-latest/ratings.csv", (GOOD_RATINGS * 2000).encode())
    w("archives/truncated.zip", buf.getvalue()[: len(buf.getvalue()) * 2 // 3])
    w("archives/not_a_zip.zip", b"this is a text file, not an archive\n")
    zipped("archives/wrong_dataset.zip", {"something/else.csv": b"a,b\n1,2\n"})
    w("archives/empty.zip", b"PK\x05\x06" + b"\x00" * 18)
    # --- experiment configs ---
    w(
        "configs/unknown_key.toml",
        '[dataset]\nname = "ml-latest-small"\ncolour = "blue"\n\n[[models]]\nname = "svd"\n',
    )
    w("configs/wrong_type.toml", '[split]\ntest_size = "a fifth"\n\n[[models]]\nname = "svd"\n')
    w("configs/invalid.toml", '[dataset\nname = "ml-latest-small"\n')
    w("configs/unknown_model.toml", '[[models]]\nname = "deep-magic"\n')
    w("configs/unknown_split.toml", '[split]\nkind = "random-ish"\n\n[[models]]\nname = "svd"\n')
    w("configs/test_size_range.toml", '[split]\ntest_size = 1.5\n\n[[models]]\nname = "svd"\n')
    w("configs/latin1.toml", '# caf\xe9\n[[models]]\nname = "svd"\n'.encode("latin-1"))


if __name__ == "__main__":
    main()
