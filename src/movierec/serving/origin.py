"""Which movierec code exported an artifact, and whether the code serving it is the same.

An artifact's arrays are fixed at export, but the code around them is not: the scorers, the support
floor, the re-rankers and the leave-one-out reasons (``because``) run from whatever movierec serves
it. An artifact exported two days ago gave other ``explain`` reasons for the same user than a fresh
export, and nothing said so. Export records :func:`code_identity` in the manifest (``exported_by``);
``movierec serve`` prints :func:`version_note` once at start and ``GET /health`` carries both
identities and the note. A note only: a compatible artifact is always served.

"Same code" is decided by a digest of the package's Python sources, not by the commit alone: a
commit that touched only tests or docs changes nothing served, while two exports from the same
commit with different uncommitted edits can differ (and a wheel install has no commit at all).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

__all__ = ["code_identity", "exported_by", "short_commit", "version_note"]

_PACKAGE = Path(__file__).resolve().parent.parent  # src/movierec (or site-packages/movierec)


@functools.cache
def code_identity() -> dict[str, Any]:
    """The running movierec: ``{"movierec": version, "commit": git commit or None, "source_sha256": digest}``.

    The commit is the source tree's (``+dirty`` with uncommitted edits; None when no git checkout tracks
    the package, e.g. a wheel, even one in a venv inside another project's repository); the digest covers
    every ``.py`` file of the package (names and bytes), so it tells whether two installs run the same
    code whatever their commits say. Computed once per process (≈ 10 ms): the code a
    process runs is the code it imported."""
    from importlib import metadata

    from movierec.provenance import git_commit

    try:
        version = metadata.version("movierec")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        version = "unknown"
    commit = git_commit(_PACKAGE)
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return {
        "movierec": version,
        "commit": None if commit == "unknown" else commit,
        "source_sha256": digest.hexdigest(),
    }


def exported_by(manifest: dict[str, Any]) -> dict[str, Any]:
    """What a manifest says about the movierec that wrote it, in :func:`code_identity`'s shape.

    Artifacts exported before ``exported_by`` was recorded have only ``packages.movierec`` (the version):
    their commit and digest are None."""
    record = manifest.get("exported_by")
    if isinstance(record, dict):
        return {key: record.get(key) for key in ("movierec", "commit", "source_sha256")}
    packages = manifest.get("packages")
    version = packages.get("movierec") if isinstance(packages, dict) else None
    return {"movierec": version, "commit": None, "source_sha256": None}


def short_commit(commit: str | None) -> str:
    """A commit as a person reads it: ``c5e099c``, ``c5e099c, with uncommitted changes``, or why there is none."""
    if not commit:
        return "commit not recorded"
    sha, dirty = commit.removesuffix("+dirty"), commit.endswith("+dirty")
    return sha[:7] + (", with uncommitted changes" if dirty else "")


def version_note(manifest: dict[str, Any], name: str) -> str | None:
    """One sentence when ``manifest``'s artifact (called ``name``) was exported by other movierec code than
    this process runs, else None.

    Other code: another version, another source digest, or an artifact older than the record (its code is
    unknown, so it may differ). The same code under another commit (one that changed only tests or docs) is
    no note."""
    then, now = exported_by(manifest), code_identity()
    recorded = then["source_sha256"] is not None
    if recorded and then["movierec"] == now["movierec"] and then["source_sha256"] == now["source_sha256"]:
        return None
    outside = "not from a git checkout"
    then_commit = outside if recorded and not then["commit"] else short_commit(then["commit"])
    now_commit = short_commit(now["commit"]) if now["commit"] else outside
    if (
        recorded and then_commit == now_commit
    ):  # same commit, other uncommitted edits: say so, not "X; this is X"
        now_commit += " (other ones)"
    return (
        f"{name} was exported by movierec {then['movierec'] or 'of an unrecorded version'} ({then_commit}); "
        f"this is {now['movierec']} ({now_commit}): lists and reasons may differ from a fresh export — "
        "re-export to be sure"
    )
