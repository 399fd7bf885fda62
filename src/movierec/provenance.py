"""Where a result came from: package versions, git commit, machine, dataset checksum, time.

Recorded in every results file so a number can be traced back to the code and data that made it.
"""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["git_commit", "machine_info", "package_versions", "provenance", "shown_url"]

_PACKAGES = (
    "movierec",
    "numpy",
    "scipy",
    "pandas",
    "numba",
    "scikit-surprise",
    "lightfm-next",
    "lightfm",
    "implicit",
    "torch",
    "matplotlib",
)


def package_versions(names: tuple[str, ...] = _PACKAGES) -> dict[str, str]:
    """Installed versions of the packages results depend on (missing ones are left out)."""
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_commit(path: str | Path | None = None) -> str:
    """The commit of the source tree movierec runs from (``+dirty`` when modified), or ``"unknown"``.

    ``path`` (default: this package's folder) must be tracked by the repository git finds above it.
    A wheel installed into a virtual environment inside someone else's checkout (``myproject/.venv``,
    ignored there) sits under *their* repository: ``rev-parse HEAD`` alone recorded their commit and
    dirty state as movierec's in every result and artifact. So ``git ls-files --error-unmatch`` on the
    package's ``__init__.py`` (or ``path`` itself) asks first; untracked means ``"unknown"``, as for a
    wheel anywhere else. One git call when it is not tracked, three when it is, 5 s timeout each.
    ``status`` runs with ``--no-optional-locks`` (git's advice for tools that only read): otherwise it
    refreshes the index under ``.git/index.lock``, which the user's own ``git commit`` then meets as
    "another git process seems to be running", and a run killed mid-write (a timeout, a file-size
    limit) left the lock behind for good.
    """
    root = Path(path) if path is not None else Path(__file__).resolve().parent
    if root.is_file():
        root, target = root.parent, root.name
    else:
        target = "__init__.py" if (root / "__init__.py").is_file() else "."
    try:
        tracked = subprocess.run(
            ["git", "ls-files", "--error-unmatch", "--", target],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        )
        if tracked.returncode != 0:  # not in a repository, or in one that does not track this code
            return "unknown"
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{sha}+dirty" if sha and dirty else (sha or "unknown")


def machine_info() -> dict[str, Any]:
    """Platform, Python, CPU count and processor name."""
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }


def provenance(dataset: str | None = None, dataset_sha256: str | None = None) -> dict[str, Any]:
    """Everything above plus the dataset and a UTC creation time, as one JSON-ready dict."""
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": dataset,
        "dataset_sha256": dataset_sha256,
        "git_commit": git_commit(),
        "packages": package_versions(),
        "machine": machine_info(),
    }


def sqlite_file(url: str) -> Path | None:
    """The file a ``sqlite:///PATH`` URL names, its query left out (``None`` for other databases and for
    in-memory SQLite): the feedback store and tune's study databases read their files by it."""
    if not url.startswith("sqlite:///"):
        return None
    rest = url[len("sqlite:///") :].split("?", 1)[0]
    return None if rest in ("", ":memory:") else Path(rest)


def shown_url(url: str) -> str:
    """A database URL as it may be written down (results, notes, manifests, messages, logs): its password
    masked as ``***`` (SQLAlchemy's ``hide_password``); a URL SQLAlchemy cannot parse is shown as given."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url
