"""Download, verify and unpack MovieLens archives into the cache dir, atomically.

A download goes to ``<cache>/<name>.zip.part`` (resumed with an HTTP ``Range`` request when a
partial file is there), is checked against the checksum GroupLens publishes, and is unpacked
into a temporary folder inside the cache that is renamed into place with :func:`os.replace`
only once everything is there: a half-finished download or extraction never looks complete.
Archives with absolute or ``..`` member paths, links, or an implausible uncompressed size
(zip bombs) are refused before anything is written.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import socket
import stat
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from movierec.datasets.registry import DatasetSpec, bundled_path, cache_dir, get_spec
from movierec.errors import ConfigError, Doors, DownloadError, framed
from movierec.output_folders import move_aside, temporary_folder

__all__ = ["MAX_RATIO", "MAX_UNPACKED_BYTES", "fetch", "fetch_spec", "safe_members"]

# ml-latest unpacks to ~1.4 GB; anything far beyond that is not a MovieLens archive.
MAX_UNPACKED_BYTES = 8 * 1024**3
# Text compresses 4-8x; a member that claims more than this ratio is treated as a zip bomb.
MAX_RATIO = 200.0
_CHUNK = 1 << 16
_USER_AGENT = "movierec (https://grouplens.org/datasets/movielens/ research use)"


def fetch(
    dataset: str | DatasetSpec,
    *,
    path: str | Path | None = None,
    url: str | None = None,
    force: bool = False,
    progress: bool | None = None,
    timeout: float = 30.0,
    max_bytes: int = MAX_UNPACKED_BYTES,
    max_ratio: float = MAX_RATIO,
) -> Path:
    """Make a dataset available in the cache and return its folder.

    ``dataset`` is a registered name or any :class:`DatasetSpec` (the registry's, or one built for a
    mirror or a test); the bundled one is its packaged folder unless ``path`` or ``url`` is given.
    ``path`` is an archive or an extracted folder the user downloaded by hand (no network);
    ``url`` overrides the registry's (a mirror; the registry checksum still applies);
    ``force`` downloads and unpacks again even when a cached copy exists; ``progress`` shows the download
    on stderr: ``None`` a bar on a terminal only, ``True`` also plain lines in a pipe or log once it has
    run 3 s (what ``movierec data fetch`` does), ``False`` nothing.
    """
    spec = get_spec(dataset) if isinstance(dataset, str) else dataset
    if url is not None:
        _check_url(url)
    if spec.bundled and path is None and url is None:
        return bundled_path()
    root = cache_dir()
    target = root / spec.name
    if not force and _complete(target, spec):
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"{root}: cannot create the cache dir ({exc.strerror}); set $MOVIEREC_DATA"
        ) from exc
    # two processes fetching the same dataset (parallel test workers, two shells) would share the
    # .part file and race on the final rename: the second waits, then finds the first one's copy
    with _dataset_lock(root, spec.name):
        if not force and _complete(target, spec):
            return target
        return _fetch_locked(
            spec,
            target,
            root,
            path=path,
            url=url,
            force=force,
            progress=progress,
            timeout=timeout,
            max_bytes=max_bytes,
            max_ratio=max_ratio,
        )


fetch_spec = fetch  # fetch for a DatasetSpec: the name it had before fetch took one too

#: the URL schemes urllib downloads from (``file:`` serves a local mirror)
_URL_SCHEMES = ("http", "https", "ftp", "file")


def _check_url(url: str) -> None:
    """Refuse (``ConfigError``) a ``url`` urllib cannot download from, before the cache is touched.

    ``--url notaurl`` reached ``urllib.request.Request``, whose ``ValueError: unknown url type`` was a
    traceback; a URL without a scheme or host is a typo the user should see in one line.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in _URL_SCHEMES:
        give = "give an http://, https://, ftp:// or file:// address, or a file on this machine"
        raise ConfigError(
            Doors(
                f"url={url!r} is not a download URL: {give} (path=)",
                f"--url {url!r} is not a download URL: {give} (--path)",
            )
        )
    if parts.scheme.lower() != "file" and not parts.hostname:
        raise ConfigError(
            Doors(
                f"the download URL url={url!r} names no host", f"the download URL --url {url!r} names no host"
            )
        )


@contextmanager
def _dataset_lock(root: Path, name: str) -> Iterator[None]:
    """Hold an exclusive advisory lock on the cache folder itself while ``name`` is fetched.

    Locking the directory's own descriptor writes no lock file, so a refused fetch (bad archive,
    checksum mismatch) leaves the cache exactly as it was; fetches of different datasets wait for
    each other too, which costs little next to a download. A no-op where fcntl is missing (Windows):
    the atomic rename still protects the result there.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _fetch_locked(
    spec: DatasetSpec,
    target: Path,
    root: Path,
    *,
    path: str | Path | None,
    url: str | None,
    force: bool,
    progress: bool | None,
    timeout: float,
    max_bytes: int,
    max_ratio: float,
) -> Path:
    """The body of :func:`fetch`, run while holding the dataset's lock."""
    if path is not None:
        source = Path(path).expanduser()
        if not source.exists():
            raise DownloadError(
                f"{source}: no such file or folder (give the downloaded {spec.name}.zip or its folder)"
            )
        if source.is_dir():
            return _install_folder(spec, source, target)
        _verify(spec, source, str(source))
        return _install_archive(
            spec, source, target, label=str(source), max_bytes=max_bytes, max_ratio=max_ratio,
            fix=f"download {spec.name}.zip again and give that file (this one was left as it is)",
        )  # fmt: skip

    src_url = url or spec.url
    part = root / f"{spec.name}.zip.part"
    if force and part.exists():
        part.unlink()
    _download(src_url, part, spec, progress=progress, timeout=timeout)
    try:
        _verify(spec, part, src_url)
        return _install_archive(spec, part, target, label=src_url, max_bytes=max_bytes, max_ratio=max_ratio)
    finally:
        # verified and unpacked, or useless (bad checksum, corrupt archive): either way not resumable
        part.unlink(missing_ok=True)


# --- download -------------------------------------------------------------------------------


def _offline_hint(spec: DatasetSpec, url: str) -> Doors:
    """How to get the data without this download, in each door's words (a :class:`Doors`: one line named
    both, "(movierec.datasets.fetch('ml-1m', path='ml-1m.zip') in Python, movierec data fetch ml-1m --path
    ml-1m.zip in the CLI)"; Python's caller holds :func:`fetch`, the module's name is not it)."""
    unzip = f"or unzip it into {cache_dir() / spec.name}"
    return Doors(
        f"download {url} by hand and fetch that file: fetch({spec.name!r}, path='{spec.name}.zip'), {unzip}",
        f"download {url} by hand and fetch that file: movierec data fetch {spec.name} --path {spec.name}.zip, "
        f"{unzip}",
    )


def _open(url: str, start: int, timeout: float):  # type: ignore[no-untyped-def]
    headers = {"User-Agent": _USER_AGENT}
    if start:
        headers["Range"] = f"bytes={start}-"
    req = urllib.request.Request(url, headers=headers)
    return urllib.request.urlopen(req, timeout=timeout)


def _network_failure(spec: DatasetSpec, url: str, exc: BaseException) -> DownloadError:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.gaierror):
        why = "host not found (offline or DNS failure)"
    elif isinstance(reason, ConnectionRefusedError):
        why = "connection refused (server down?)"
    elif isinstance(reason, (TimeoutError, socket.timeout)):
        why = "timed out (offline or server not answering)"
    elif isinstance(exc, urllib.error.HTTPError):
        why = f"server answered HTTP {exc.code} {exc.reason}"
    else:
        why = str(reason) or type(reason).__name__
    # the URL once, in the hint that says what to do with it: 'cannot download ml-1m from URL: …; download URL
    # by hand …' was 409 columns, the same 55-character URL twice
    return DownloadError(
        framed(_offline_hint(spec, url), lambda hint: f"cannot download {spec.name}: {why}; {hint}")
    )


def _download(url: str, part: Path, spec: DatasetSpec, *, progress: bool | None, timeout: float) -> None:
    """Fetch ``url`` into ``part``, resuming from its current size when the server honours Range."""
    start = part.stat().st_size if part.exists() else 0
    try:
        resp = _open(url, start, timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # asked past the end: the partial file is stale or complete
            exc.close()
            part.unlink(missing_ok=True)
            return _download(url, part, spec, progress=progress, timeout=timeout)
        raise _network_failure(spec, url, exc) from None
    except (urllib.error.URLError, OSError) as exc:
        raise _network_failure(spec, url, exc) from None

    with resp:
        status = getattr(resp, "status", 200)
        content_range = resp.headers.get("Content-Range") or ""
        if start and status == 206 and content_range.startswith(f"bytes {start}-"):
            mode = "ab"
            total = _total_from_content_range(content_range)
        elif status == 206:  # a range we did not ask for: drop the partial file, ask for everything
            resp.close()
            part.unlink(missing_ok=True)
            return _download(url, part, spec, progress=progress, timeout=timeout)
        else:  # no partial file, or the server ignored Range and sends it all: start over
            start, mode = 0, "wb"
            total = None
        length = resp.headers.get("Content-Length")
        expected = start + int(length) if length and length.isdigit() else total
        done = start
        with (
            open(part, mode) as fh,
            _ProgressBar(spec.name, expected, done, progress) as advance,
            _kept_on_interrupt(part, lambda: done, expected),
        ):
            while True:
                try:
                    block = resp.read(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:  # reset, timeout, IncompleteRead
                    raise DownloadError(
                        f"download of {spec.name} from {url} broke off after {done:,} bytes "
                        f"({type(exc).__name__}); run the same command again to resume"
                    ) from None
                if not block:
                    break
                try:
                    fh.write(block)
                except OSError as exc:
                    raise DownloadError(f"{part}: cannot write the download ({exc.strerror})") from None
                done += len(block)
                advance(len(block))
    if expected is not None and done < expected:
        raise DownloadError(
            f"download of {spec.name} from {url} is truncated: got {done:,} of {expected:,} bytes; "
            f"run the same command again to resume"
        )
    return None


@contextmanager
def _kept_on_interrupt(part: Path, done: Callable[[], int], expected: int | None) -> Iterator[None]:
    """Ctrl-C or SIGTERM during a download: the CLI's 'movierec: interrupted' line says the part already
    downloaded is kept and how to go on (it said only 'interrupted', and a newcomer would delete the
    cache or start over), as tune's says its finished trials are kept."""
    try:
        yield
    except KeyboardInterrupt as exc:  # Terminated (SIGTERM) is one too
        from movierec.output_folders import record_outcome

        of = "" if expected is None else f" of {expected / 1e6:.1f}"
        record_outcome(
            exc,
            f"the {done() / 1e6:.1f}{of} MB downloaded are kept in {part}: run the same command again to "
            "resume",
        )
        raise


def _total_from_content_range(value: str | None) -> int | None:
    """Total size from ``Content-Range: bytes 100-199/2000`` (``None`` when absent or ``*``)."""
    if not value or "/" not in value:
        return None
    tail = value.rsplit("/", 1)[1].strip()
    return int(tail) if tail.isdigit() else None


class _ProgressBar:
    """The download's progress on stderr, yielding ``advance(n)``: rich's bar on a terminal (or in Jupyter);
    piped or logged, a plain line every few seconds once it has run a while (:class:`_DownloadLines`), where
    the bar drew nothing: ``movierec data fetch ml-25m 2>&1 | tee log`` was silent for the whole 262 MB."""

    def __init__(self, name: str, total: int | None, done: int, enabled: bool | None) -> None:
        self.name, self.total, self.done = name, total, done
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._progress: Any = None  # a rich Progress, or _DownloadLines away from a terminal

    def __enter__(self) -> Callable[[int], None]:
        if not self.enabled:
            return lambda n: None
        from rich.console import Console

        from movierec.progress import live

        console = Console(stderr=True)
        if not live(console):
            lines = _DownloadLines(console, f"fetch {self.name}", self.total, self.done)
            self._progress = lines
            return lines.advance
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._progress.start()
        task = self._progress.add_task(f"fetch {self.name}", total=self.total, completed=self.done)
        progress = self._progress
        return lambda n: progress.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


class _DownloadLines:
    """A download's progress as plain lines, for pipes and logs: ``[   3.0s] fetch ml-25m · 31.5/262.0 MB``
    (the stamp as :class:`movierec.progress.LineProgress` writes it), the first ``after`` seconds in, then
    one every ``every`` seconds, and where it stopped once a line was printed. A download shorter than
    ``after`` prints nothing, so a quick fetch, or a checksum refused after it, stays one line on stderr."""

    def __init__(
        self,
        console: Any,
        label: str,
        total: int | None,
        done: int,
        *,
        after: float = 3.0,
        every: float = 5.0,
    ) -> None:
        import time

        self.console, self.label, self.total, self.done = console, label, total, done
        self.after, self.every = after, every
        self.started = time.monotonic()
        self.next_at = self.started + after
        self.shown: int | None = None  # the byte count of the last line printed

    def advance(self, n: int) -> None:
        import time

        self.done += n
        now = time.monotonic()
        if now >= self.next_at:
            self._print(now)
            self.next_at = now + self.every

    def stop(self) -> None:
        """The last state (done, or where it broke off), if any line was printed."""
        import time

        if self.shown is not None and self.shown != self.done:
            self._print(time.monotonic())

    def _print(self, now: float) -> None:
        size = f"{self.done / 1e6:.1f}" + ("" if self.total is None else f"/{self.total / 1e6:.1f}") + " MB"
        self.shown = self.done
        self.console.print(
            f"[{now - self.started:6.1f}s] {self.label} · {size}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


# --- verify ---------------------------------------------------------------------------------


def file_digest(path: Path, algo: str) -> str:
    """Hex digest (``md5`` or ``sha256``) of a file, read in chunks."""
    h = hashlib.new(algo, usedforsecurity=False) if algo == "md5" else hashlib.new(algo)
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _verify(spec: DatasetSpec, archive: Path, label: str) -> None:
    """Compare the archive with the registry's checksums (those GroupLens publishes)."""
    for algo, want in (("sha256", spec.sha256), ("md5", spec.md5)):
        if not want:
            continue
        got = file_digest(archive, algo)
        if got != want.lower():
            raise DownloadError(
                f"{label}: checksum mismatch for {spec.name} ({algo} {got}, expected {want}); "
                "the file is damaged or not the official archive, so it was not used"
            )


# --- unpack ---------------------------------------------------------------------------------


def safe_members(
    zf: zipfile.ZipFile, label: str, *, max_bytes: int, max_ratio: float
) -> list[zipfile.ZipInfo]:
    """The archive's members, after refusing path traversal, links and zip bombs."""
    members = zf.infolist()
    total = 0
    for info in members:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in parts:
            raise DownloadError(
                f"{label}: refusing archive member {info.filename!r} (path outside the target folder)"
            )
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise DownloadError(f"{label}: refusing archive member {info.filename!r} (a symbolic link)")
        total += info.file_size
        if info.file_size > (1 << 20) and info.file_size > max_ratio * max(info.compress_size, 1):
            raise DownloadError(
                f"{label}: refusing archive member {info.filename!r}: it claims {info.file_size:,} bytes from "
                f"{info.compress_size:,} compressed (ratio over {max_ratio:g}, a zip bomb?)"
            )
    if total > max_bytes:
        raise DownloadError(
            f"{label}: refusing archive: it unpacks to {total:,} bytes, more than the {max_bytes:,} allowed"
        )
    return members


def _install_archive(
    spec: DatasetSpec,
    archive: Path,
    target: Path,
    *,
    label: str,
    max_bytes: int,
    max_ratio: float,
    fix: str = "fetch again (the partial download was removed)",
) -> Path:
    """Unpack ``archive`` into a temp folder in the cache, then rename the dataset folder into place.
    ``fix`` ends a corrupt archive's message: a download of ours is removed and fetched again; a file the
    user gave (``--path``) is theirs, never to be deleted on our say (it read 'delete it and fetch again')."""
    root = target.parent
    tmp = temporary_folder(root, f".{spec.name}.", ".unpack")  # .NAME.PID@HOST.unpack
    try:
        try:
            with zipfile.ZipFile(archive) as zf:
                members = safe_members(zf, label, max_bytes=max_bytes, max_ratio=max_ratio)
                written = 0
                for info in members:
                    dest = tmp.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
                    if info.is_dir():
                        dest.mkdir(parents=True, exist_ok=True)
                        continue
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(dest, "wb") as out:
                        while block := src.read(1 << 20):
                            written += len(block)
                            if written > max_bytes:
                                raise DownloadError(
                                    f"{label}: refusing archive: it unpacks to more than {max_bytes:,} bytes"
                                )
                            out.write(block)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, NotImplementedError) as exc:
            raise DownloadError(f"{label}: the archive is truncated or corrupt ({exc}); {fix}") from None
        except OSError as exc:
            if exc.errno == 28 or isinstance(exc, PermissionError):
                raise DownloadError(f"{root}: cannot unpack {spec.name} ({exc.strerror})") from None
            raise DownloadError(f"{label}: the archive is truncated or corrupt ({exc}); {fix}") from None
        found = _find_dataset_folder(tmp, spec)
        if found is None:
            raise DownloadError(
                f"{label}: the archive has no {spec.folder}/{spec.ratings}; is it really {spec.name}?"
            )
        _replace_into(found, target)
        return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _install_folder(spec: DatasetSpec, source: Path, target: Path) -> Path:
    """Copy an already extracted folder into the cache (copied to a temp folder, then renamed)."""
    found = _find_dataset_folder(source, spec)
    if found is None:
        raise DownloadError(f"{source}: no {spec.ratings} in this folder or in {source / spec.folder}")
    _check_rating_count(spec, found)
    if found.resolve() == target.resolve():
        return target
    tmp = temporary_folder(target.parent, f".{spec.name}.", ".copy")
    try:
        staged = tmp / spec.name
        try:
            shutil.copytree(found, staged)
        except OSError as exc:
            raise DownloadError(f"{found}: cannot copy into the cache ({exc})") from None
        _replace_into(staged, target)
        return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_rating_count(spec: DatasetSpec, folder: Path) -> None:
    """Refuse a folder whose ratings file does not hold the release's known count: an archive is md5-checked,
    but ``data fetch ml-1m --path folder`` took a folder of 4 ratings as "ml-1m ready". Only for a release
    with a fixed checksum (ml-latest is regenerated, so its count moves). Counts the file's non-blank lines
    (less a csv's header), which is each release's rating count; ml-25m's 25 M lines take a few seconds,
    beside the copy of its 650 MB."""
    if not spec.n_ratings or not (spec.md5 or spec.sha256):
        return
    path = folder / spec.ratings
    with path.open("rb") as f:
        n = sum(1 for line in f if line.strip()) - (spec.ratings_format == "csv")
    if n != spec.n_ratings:
        raise DownloadError(
            f"{path}: {n:,} ratings where {spec.name} has {spec.n_ratings:,}, so it is not the {spec.name} "
            f"release and was not copied into the cache: give the downloaded {spec.name}.zip or its unzipped folder"
        )


def _find_dataset_folder(base: Path, spec: DatasetSpec) -> Path | None:
    for cand in (base / spec.folder, base, base / spec.name):
        if (cand / spec.ratings).is_file():
            return cand
    subdirs = [p for p in base.iterdir() if p.is_dir()] if base.is_dir() else []
    if len(subdirs) == 1 and (subdirs[0] / spec.ratings).is_file():
        return subdirs[0]
    return None


def _replace_into(staged: Path, target: Path) -> None:
    """Atomically move a complete folder to ``target``, moving any older copy out of the way first."""
    old = move_aside(target) if target.exists() else None
    try:
        os.replace(staged, target)
    except OSError:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _complete(target: Path, spec: DatasetSpec) -> bool:
    return (target / spec.ratings).is_file() or (target / spec.folder / spec.ratings).is_file()
