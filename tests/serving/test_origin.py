"""An artifact exported by other movierec code is served with one note (serve's stderr, GET /health).

An artifact from two days ago gave other ``explain`` reasons for the same user than a fresh export, and
``movierec serve`` said nothing. Export now records its code (version, commit, source digest); serve compares.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
from servehelp import Server, fit

from movierec.serving.artifact import _manifest_digest, export_artifact, load_artifact
from movierec.serving.origin import code_identity, exported_by, version_note

OLD = {"movierec": "0.0.9", "commit": "c5e099c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6", "source_sha256": "0" * 64}


def _rewritten(src: Path, dest: Path, record: dict[str, Any] | None) -> Path:
    """A copy of an artifact whose manifest says another movierec exported it (``None``: an export from before
    the record, with only ``packages.movierec``), its manifest digest made to match as that export's was."""
    shutil.copytree(src, dest)
    manifest = json.loads((dest / "manifest.json").read_text())
    if record is None:
        del manifest["exported_by"]
    else:
        manifest["exported_by"] = record
    manifest["manifest_sha256"] = _manifest_digest(manifest)
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return dest


def test_export_records_the_code_and_the_same_code_is_no_note(svd_artifact) -> None:
    manifest = load_artifact(svd_artifact[0]).manifest
    now = code_identity()
    assert manifest["exported_by"] == now and len(now["source_sha256"]) == 64
    assert now["movierec"] == manifest["packages"]["movierec"]
    assert version_note(manifest, "art") is None
    # another commit with the same sources (a commit of tests or docs only) serves the same code: no note
    assert version_note({**manifest, "exported_by": {**now, "commit": OLD["commit"]}}, "art") is None


def test_other_sources_or_an_unrecorded_export_are_a_note(svd_artifact) -> None:
    manifest = load_artifact(svd_artifact[0]).manifest
    now = code_identity()
    here = now["commit"][:7] if now["commit"] else "not from a git checkout"
    edited = {**now, "source_sha256": "1" * 64}  # the same version and commit, other uncommitted edits
    note = version_note({**manifest, "exported_by": edited}, "art")
    assert note is not None and note.startswith(f"art was exported by movierec {now['movierec']} (")
    assert "(other ones)" in note or not now["commit"], (
        note
    )  # never "X; this is X" with nothing to tell apart
    old = {k: v for k, v in manifest.items() if k != "exported_by"}
    assert exported_by(old) == {"movierec": now["movierec"], "commit": None, "source_sha256": None}
    note = version_note(old, "art")
    assert note is not None and f"exported by movierec {now['movierec']} (commit not recorded)" in note, note
    assert f"this is {now['movierec']} ({here}" in note, note


def test_serve_notes_an_artifact_of_another_version_once_and_health_carries_it(
    movies, tmp_path: Path
) -> None:
    """The note (wrapped at 80 columns in the log) comes before the banner, names the folder as given, both
    versions and commits; the artifact is served all the same, and GET /health has exportedBy, servedBy
    and the sentence."""
    # this process's identity as of now, and an export with it just before serving: in a checkout being edited,
    # the session's artifact may be minutes older than these sources
    code_identity.cache_clear()
    model, train = fit("popularity", movies)
    fresh = export_artifact(model, movies, train, tmp_path / "fresh")
    old = _rewritten(fresh, tmp_path / "pop-old", OLD)
    srv = Server(old, tmp_path / "fb.db").wait()
    try:
        health = httpx.get(srv.url + "/health").json()
        recs = httpx.get(srv.url + "/users/1/recommendations?k=3")
    finally:
        srv.stop()
    log = srv.log.read_text().splitlines()
    starts = [i for i, line in enumerate(log) if line.startswith("note:")]
    assert len(starts) == 1, log
    # piped, the note is wrapped at 80 columns: its lines run to the next that starts another message
    end = next(
        (
            i
            for i in range(starts[0] + 1, len(log))
            if log[i].startswith(("serving ", "note:", "warning:", "INFO"))
        ),
        len(log),
    )
    note = " ".join(" ".join(log[starts[0] : end]).split())
    now = code_identity()
    served = f"{now['commit'][:7]}" if now["commit"] else "not from a git checkout"
    expected = f"note: {old} was exported by movierec 0.0.9 (c5e099c); this is {now['movierec']} ({served}"
    assert note.startswith(" ".join(expected.split())), log
    assert note.endswith("lists and reasons may differ from a fresh export — re-export to be sure"), note
    assert end < len(log) and log[end].startswith("serving "), log  # the note comes before the banner
    assert recs.status_code == 200 and len(recs.json()["recommendations"]) == 3  # a note, never a refusal
    assert health["exportedBy"] == OLD and health["servedBy"] == now
    assert health["versionNote"].startswith("this artifact was exported by movierec 0.0.9 (c5e099c); this is")
    # the artifact as exported by this code: no note, and both identities equal
    srv = Server(fresh, tmp_path / "fb2.db").wait()
    try:
        health = httpx.get(srv.url + "/health").json()
    finally:
        srv.stop()
    assert not [line for line in srv.log.read_text().splitlines() if line.startswith("note:")]
    assert health["versionNote"] is None and health["exportedBy"] == health["servedBy"] == now
