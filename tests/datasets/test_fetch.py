"""``fetch`` against a real HTTP server on 127.0.0.1 serving zips built here (no mocks)."""

from __future__ import annotations

import hashlib
import io
import re
import socket
import subprocess
import threading
import time
import zipfile
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from clihelp import run_process
from movierec.datasets import REGISTRY, bundled_path, load, locate
from movierec.datasets.fetch import fetch, fetch_spec
from movierec.datasets.registry import DatasetSpec
from movierec.errors import ConfigError, DataError, DownloadError

# --- fixtures -------------------------------------------------------------------------------


def ratings_csv(n: int = 1500) -> bytes:
    """A small deterministic ratings.csv (n rows) with a header."""
    lines = ["userId,movieId,rating,timestamp"]
    for k in range(n):
        lines.append(f"{k % 37 + 1},{(k * 7) % 101 + 1},{(k % 10 + 1) / 2:.1f},{1_000_000_000 + k}")
    return ("\n".join(lines) + "\n").encode()


def make_zip(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buf.getvalue()


def dataset_zip(folder: str = "ml-test") -> bytes:
    return make_zip(
        {
            f"{folder}/ratings.csv": ratings_csv(),
            f"{folder}/movies.csv": b"movieId,title,genres\n1,Toy Story (1995),Animation|Comedy\n",
        }
    )


class _Handler(BaseHTTPRequestHandler):
    """Routes: /ok/* honours Range, /norange/* ignores it, /truncate/* stops halfway, /trickle/* sends
    64 KiB every 0.5 s, else 404."""

    def do_GET(self) -> None:
        srv: _Server = self.server  # type: ignore[assignment]
        srv.seen.append((self.path, self.headers.get("Range")))
        mode, _, name = self.path.lstrip("/").partition("/")
        body = srv.files.get(name)
        if body is None:
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if mode == "ok" and rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if mode == "slow":  # long enough that concurrent fetches overlap
            time.sleep(0.3)
        if mode == "trickle":  # 64 KiB every 0.5 s: a download that runs for seconds, as a real one does
            for at in range(start, len(body), 1 << 16):
                self.wfile.write(body[at : at + (1 << 16)])
                self.wfile.flush()
                time.sleep(0.5)
            return
        if mode == "truncate":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body[start:])

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    files: dict[str, bytes]
    seen: list[tuple[str, str | None]]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{path}"


@pytest.fixture
def server():
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.files, srv.seen = {}, []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("MOVIEREC_DATA", str(root))
    return root


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spec_for(
    url: str, body: bytes | None = None, *, md5: str | None = None, name: str = "ml-test"
) -> DatasetSpec:
    digest = md5 if md5 is not None else (hashlib.md5(body).hexdigest() if body is not None else None)
    return DatasetSpec(name, url, name, "ratings.csv", "csv", "movies.csv", "csv", md5=digest)


def leftovers(cache: Path) -> list[str]:
    """Anything in the cache besides finished dataset folders: temp folders, archives, .part files."""
    if not cache.exists():
        return []
    return sorted(p.name for p in cache.iterdir() if p.name.startswith(".") or p.suffix in (".zip", ".part"))


# --- downloads ------------------------------------------------------------------------------


def test_download_verifies_and_unpacks(server, cache):
    body = dataset_zip()
    server.files["ml-test.zip"] = body
    folder = fetch_spec(spec_for(server.url("ok/ml-test.zip"), body), progress=False)
    assert folder == cache / "ml-test"
    assert (folder / "ratings.csv").read_bytes() == ratings_csv()
    assert load(folder).interactions.n_ratings > 0
    assert leftovers(cache) == []
    # a second call finds it complete and does not download again
    n = len(server.seen)
    assert fetch_spec(spec_for(server.url("ok/ml-test.zip"), body), progress=False) == folder
    assert len(server.seen) == n


def test_concurrent_fetches_download_once(server, cache):
    """Four fetches of one dataset at once: one download, the others wait and reuse it."""
    body = dataset_zip()
    server.files["ml-test.zip"] = body
    spec = spec_for(server.url("slow/ml-test.zip"), body)
    start = threading.Barrier(4)
    results: list[Path | BaseException] = []

    def worker() -> None:
        start.wait()
        try:
            results.append(fetch_spec(spec, progress=False))
        except BaseException as exc:  # surfaced by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [cache / "ml-test"] * 4
    assert [p for p, _ in server.seen] == ["/slow/ml-test.zip"]
    assert (cache / "ml-test" / "ratings.csv").read_bytes() == ratings_csv()
    assert leftovers(cache) == []


def test_checksum_mismatch_leaves_nothing(server, cache):
    server.files["ml-test.zip"] = dataset_zip()
    with pytest.raises(DownloadError, match=r"checksum mismatch .*md5"):
        fetch_spec(spec_for(server.url("ok/ml-test.zip"), md5="0" * 32), progress=False)
    assert not (cache / "ml-test").exists()
    assert leftovers(cache) == []


def test_truncated_body_then_resume(server, cache):
    body = dataset_zip()
    server.files["ml-test.zip"] = body
    spec = spec_for(server.url("truncate/ml-test.zip"), body)
    with pytest.raises(DownloadError, match=r"truncated: got [\d,]+ of [\d,]+ bytes.*resume"):
        fetch_spec(spec, progress=False)
    assert not (cache / "ml-test").exists()
    part = cache / "ml-test.zip.part"
    assert part.stat().st_size == len(body) // 2  # only the explicitly partial file is kept
    # the next run asks for the rest only, and the checksum of the joined file passes
    folder = fetch_spec(spec, url=server.url("ok/ml-test.zip"), progress=False)
    assert server.seen[-1] == ("/ok/ml-test.zip", f"bytes={len(body) // 2}-")
    assert (folder / "ratings.csv").read_bytes() == ratings_csv()
    assert leftovers(cache) == []


def test_resume_when_server_ignores_range_restarts_cleanly(server, cache):
    body = dataset_zip()
    server.files["ml-test.zip"] = body
    cache.mkdir()
    (cache / "ml-test.zip.part").write_bytes(b"garbage from an older download")
    folder = fetch_spec(spec_for(server.url("norange/ml-test.zip"), body), progress=False)
    assert server.seen[-1][1] is not None  # we asked for a range; the server sent everything
    assert (folder / "ratings.csv").read_bytes() == ratings_csv()
    assert leftovers(cache) == []


def test_stale_partial_past_the_end_restarts(server, cache):
    body = dataset_zip()
    server.files["ml-test.zip"] = body
    cache.mkdir()
    (cache / "ml-test.zip.part").write_bytes(b"x" * (len(body) + 10))  # longer than the file: 416
    folder = fetch_spec(spec_for(server.url("ok/ml-test.zip"), body), progress=False)
    assert (folder / "ratings.csv").is_file()
    assert [r for _, r in server.seen] == [f"bytes={len(body) + 10}-", None]


def test_server_down_says_so_and_how_to_place_files(cache):
    url = f"http://127.0.0.1:{closed_port()}/ml-test.zip"
    with pytest.raises(DownloadError) as err:
        fetch_spec(spec_for(url), progress=False, timeout=5)
    msg = str(err.value)
    # each door's way to fetch a file by hand (one line named both): Python's call here, the CLI's command
    # in its words (test_cli_fetch_server_down)
    assert "connection refused" in msg and "\n" not in msg
    assert "by hand and fetch that file: fetch('ml-test', path='ml-test.zip'), or unzip it" in msg, msg
    assert (
        "--path" not in msg
        and "movierec data fetch ml-test --path ml-test.zip, or unzip" in err.value.in_cli()
    )
    assert leftovers(cache) == []


def test_http_404_is_one_line(server, cache):
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch_spec(spec_for(server.url("ok/missing.zip")), progress=False)
    assert leftovers(cache) == []


def test_dns_failure_is_reported(cache):
    with pytest.raises(DownloadError, match="host not found"):
        fetch_spec(spec_for("http://movierec-test.invalid/ml-test.zip"), progress=False, timeout=5)


def test_force_replaces_a_cached_copy(server, cache):
    body = dataset_zip()
    server.files["ml-test.zip"] = body
    spec = spec_for(server.url("ok/ml-test.zip"), body)
    folder = fetch_spec(spec, progress=False)
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,1,1\n")
    fetch_spec(spec, force=True, progress=False)
    assert (folder / "ratings.csv").read_bytes() == ratings_csv()
    assert leftovers(cache) == []


# --- unsafe and broken archives -------------------------------------------------------------


@pytest.mark.parametrize("evil", ["../evil.txt", "ml-test/../../evil.txt", "/tmp/movierec-evil.txt"])
def test_path_traversal_refused(server, cache, tmp_path, evil):
    body = make_zip({"ml-test/ratings.csv": ratings_csv(10), evil: b"owned"})
    server.files["evil.zip"] = body
    with pytest.raises(DownloadError, match="outside the target folder"):
        fetch_spec(spec_for(server.url("ok/evil.zip"), body), progress=False)
    assert not (tmp_path / "evil.txt").exists() and not (cache.parent / "evil.txt").exists()
    assert not Path("/tmp/movierec-evil.txt").exists()
    assert not (cache / "ml-test").exists()
    assert leftovers(cache) == []


def test_zip_bomb_ratio_refused(server, cache):
    body = make_zip({"ml-test/ratings.csv": b"0" * (4 << 20)}, compression=zipfile.ZIP_DEFLATED)
    server.files["bomb.zip"] = body
    with pytest.raises(DownloadError, match="zip bomb"):
        fetch_spec(spec_for(server.url("ok/bomb.zip"), body), progress=False)
    assert leftovers(cache) == [] and not (cache / "ml-test").exists()


def test_size_cap_refused(server, cache):
    body = dataset_zip()
    server.files["ml-test.zip"] = body
    with pytest.raises(DownloadError, match="more than the 1,000 allowed"):
        fetch_spec(spec_for(server.url("ok/ml-test.zip"), body), progress=False, max_bytes=1000)
    assert leftovers(cache) == []


def test_corrupt_archive_without_checksum_is_one_line(server, cache):
    body = dataset_zip()
    broken = body[:100] + b"\0" * 50 + body[150:]  # damage a member's data, keep the directory
    server.files["broken.zip"] = broken
    with pytest.raises(
        DownloadError, match=r"truncated or corrupt .*; fetch again \(the partial download was removed\)"
    ):
        fetch_spec(spec_for(server.url("ok/broken.zip"), md5=""), progress=False)
    assert leftovers(cache) == [] and not (cache / "ml-test").exists()


def test_archive_without_the_ratings_file(server, cache):
    body = make_zip({"other/readme.txt": b"hello"})
    server.files["x.zip"] = body
    with pytest.raises(DownloadError, match=r"no ml-test/ratings.csv"):
        fetch_spec(spec_for(server.url("ok/x.zip"), body), progress=False)
    assert leftovers(cache) == []


# --- files placed by hand (--path) ----------------------------------------------------------


def test_path_zip_and_folder(cache, tmp_path):
    body = dataset_zip()
    archive = tmp_path / "ml-test.zip"
    archive.write_bytes(body)
    folder = fetch_spec(spec_for("http://unused.invalid/x.zip", body), path=archive)
    assert (folder / "ratings.csv").read_bytes() == ratings_csv()
    assert archive.exists()  # the user's file is left alone

    by_hand = tmp_path / "unzipped" / "ml-test"
    by_hand.mkdir(parents=True)
    (by_hand / "ratings.csv").write_bytes(ratings_csv(5))
    folder = fetch_spec(spec_for("http://unused.invalid/x.zip"), path=by_hand.parent, force=True)
    assert (folder / "ratings.csv").read_bytes() == ratings_csv(5)
    assert leftovers(cache) == []


def test_path_truncated_zip(cache, tmp_path):
    archive = tmp_path / "ml-test.zip"
    archive.write_bytes(dataset_zip()[:-200])
    with pytest.raises(DownloadError, match=r"ml-test.zip: the archive is truncated or corrupt"):
        fetch_spec(spec_for("http://unused.invalid/x.zip", md5=""), path=archive)
    assert leftovers(cache) == []


def test_path_checksum_mismatch(cache, tmp_path):
    archive = tmp_path / "ml-test.zip"
    archive.write_bytes(dataset_zip())
    with pytest.raises(DownloadError, match="checksum mismatch"):
        fetch_spec(spec_for("http://unused.invalid/x.zip", md5="1" * 32), path=archive)
    assert leftovers(cache) == []


def test_path_missing(cache, tmp_path):
    with pytest.raises(DownloadError, match="no such file or folder"):
        fetch_spec(spec_for("http://unused.invalid/x.zip"), path=tmp_path / "nope.zip")


def test_bundled_needs_no_download(cache):
    assert fetch("ml-latest-small") == bundled_path()


# --- through the CLI ------------------------------------------------------------------------


def run_cli(*args: str, env_data: Path) -> subprocess.CompletedProcess[str]:
    return run_process(*args, env={"MOVIEREC_DATA": str(env_data)})


def test_load_with_download_fetches_a_registered_dataset_then_loads_it(server, cache, monkeypatch):
    """movierec.load('ml-latest', download=True) (Surprise's load_builtin without its prompt) fetches the
    release into the data home and loads it; without download= the same call is refused, naming it."""
    server.files["ml-latest.zip"] = dataset_zip("ml-latest")
    monkeypatch.setitem(
        REGISTRY, "ml-latest", replace(REGISTRY["ml-latest"], url=server.url("ok/ml-latest.zip"))
    )
    with pytest.raises(DataError, match=r"fetch it: movierec\.load\('ml-latest', download=True\)"):
        load("ml-latest")
    assert server.seen == [] and not (cache / "ml-latest").exists()  # refused: nothing fetched
    ds = load("ml-latest", download=True)
    assert ds.interactions.n_ratings == 1500 and (cache / "ml-latest" / "ratings.csv").is_file()
    seen = len(server.seen)
    assert load("ml-latest", download=True).interactions.n_ratings == 1500
    assert len(server.seen) == seen  # in the cache now: no second download


def test_cli_fetch_success_then_listed(server, cache):
    server.files["ml-latest.zip"] = dataset_zip("ml-latest")  # ml-latest has no fixed checksum
    ok = run_cli("data", "fetch", "ml-latest", "--url", server.url("ok/ml-latest.zip"), env_data=cache)
    assert ok.returncode == 0, ok.stderr
    assert "ml-latest ready" in ok.stdout and (cache / "ml-latest" / "ratings.csv").is_file()
    assert locate(REGISTRY["ml-latest"]) == cache / "ml-latest"  # what `data list` reports as cached
    assert locate(REGISTRY["ml-1m"]) is None
    # again: it said 'ok ml-latest ready in …' as after a download; it says nothing was downloaded
    seen = len(server.seen)
    again = run_cli("data", "fetch", "ml-latest", "--url", server.url("ok/ml-latest.zip"), env_data=cache)
    assert again.returncode == 0 and len(server.seen) == seen, again.stderr  # no request
    said = " ".join(again.stdout.split())
    assert said.startswith(
        "ml-latest is already in the cache (nothing downloaded; --force fetches it again): "
    )
    assert "ok ml-latest ready" not in said, said


def test_cli_fetch_piped_shows_a_long_download_as_lines(server, cache):
    """Piped (``2>&1 | tee log``, CI), rich's bar drew nothing: a 262 MB fetch was silent until it ended.
    A download running past 3 s prints a stamped line every few seconds and where it ended; the Terms
    sentence (97 columns) is wrapped at words within 80."""
    body = make_zip({"ml-latest/ratings.csv": ratings_csv(), "ml-latest/README.txt": b"x" * 600_000})
    assert len(body) > 9 * (1 << 16)  # ten blocks, half a second apart: lines at 3 s and more to come
    server.files["ml-latest.zip"] = body
    url = server.url("trickle/ml-latest.zip")
    proc = run_process(
        "data", "fetch", "ml-latest", "--url", url, env={"MOVIEREC_DATA": str(cache), "COLUMNS": "80"}
    )
    assert proc.returncode == 0, proc.stderr
    total = f"{len(body) / 1e6:.1f}"
    lines = proc.stderr.splitlines()
    shape = re.compile(r"\[ +\d+\.\ds\] fetch ml-latest · \d+\.\d/" + re.escape(total) + " MB")
    assert len(lines) >= 2 and all(shape.fullmatch(ln) for ln in lines), lines
    assert lines[-1].endswith(f" · {total}/{total} MB"), lines  # where it ended: all of it
    assert float(lines[0].split("s]")[0].strip("[ ")) >= 3.0, lines  # nothing for a quick download
    out = proc.stdout.splitlines()
    # a path wider than the line keeps a line of its own, whole; the sentences fit 80 columns
    assert all(len(ln) <= 80 for ln in out if "/" not in ln) and all(ln == ln.rstrip() for ln in out), out
    assert "Terms: GroupLens research-use terms: non-commercial" in " ".join(out), out


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_cli_fetch_checksum_mismatch(server, cache):
    server.files["ml-100k.zip"] = dataset_zip("ml-100k")  # not the real ml-100k: its md5 will not match
    line = _one_error_line(
        run_cli("data", "fetch", "ml-100k", "--url", server.url("ok/ml-100k.zip"), env_data=cache)
    )
    assert "checksum mismatch" in line
    assert leftovers(cache) == [] and not (cache / "ml-100k").exists()


def test_cli_fetch_server_down(cache):
    url = f"http://127.0.0.1:{closed_port()}/ml-1m.zip"
    line = _one_error_line(run_cli("data", "fetch", "ml-1m", "--url", url, env_data=cache))
    assert "connection refused" in line and "--path" in line
    assert leftovers(cache) == [] and not (cache / "ml-1m").exists()


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("notaurl", "not a download URL"),
        ("mailto:x@example.org", "not a download URL"),
        ("http://", "no host"),
    ],
)
def test_cli_fetch_a_url_that_is_not_one_is_one_line_and_touches_no_cache(cache, url, needle):
    """``--url notaurl`` was urllib's ``ValueError: unknown url type`` with a traceback (exit 1)."""
    line = _one_error_line(run_cli("data", "fetch", "ml-1m", "--url", url, env_data=cache))
    assert needle in line and repr(url) in line, line
    assert not cache.exists()  # refused before the cache folder was made
    with pytest.raises(ConfigError, match=needle):
        fetch("ml-1m", url=url)


def test_the_registry_file_names_each_release_by_its_layout() -> None:
    """registry.toml: the URL from the name, the files from the layout, the folder where it differs."""
    ten = REGISTRY["ml-10m"]
    assert ten.url.endswith("/ml-10m.zip") and ten.folder == "ml-10M100K"
    assert (ten.ratings, ten.movies, ten.tags) == ("ratings.dat", "movies.dat", "tags.dat")
    assert REGISTRY["ml-1m"].tags is None and REGISTRY["ml-100k"].ratings_format == "u.data"
    small = REGISTRY["ml-latest-small"]
    assert small.bundled and small.redistributable and "redistribution allowed" in small.licence
    assert fetch(small) == fetch("ml-latest-small") == bundled_path()  # a spec or its name, one function
