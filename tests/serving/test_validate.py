"""Broken artifacts whose checksums were RECOMPUTED (issue 23): structure is validated on its own, refused in one
line with exit 2 before ``serve`` binds a port; optional HMAC signing with MOVIEREC_ARTIFACT_KEY."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from servehelp import fit, movierec_cmd

from movierec.cli import main
from movierec.errors import ArtifactError
from movierec.serving.artifact import export_artifact, load_artifact
from movierec.serving.validate import KEY_ENV

DATA = ("ids.parquet", "items.parquet", "factors.npz", "seen.npz")


def reseal(root: Path) -> None:
    """Recompute every checksum the way an attacker with write access would (manifest digest included)."""
    mpath = root / "manifest.json"
    m = json.loads(mpath.read_text())
    m["files"] = {n: hashlib.sha256((root / n).read_bytes()).hexdigest() for n in DATA}
    body = {k: v for k, v in m.items() if k != "manifest_sha256"}
    m["manifest_sha256"] = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    mpath.write_text(json.dumps(m, indent=2))


def _npz(root: Path, name: str, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    with np.load(root / name, allow_pickle=False) as z:
        arrays = {k: z[k].copy() for k in z.files}
    change(arrays)
    np.savez(root / name, **arrays)


def _manifest(root: Path, change: Callable[[dict], None]) -> None:
    m = json.loads((root / "manifest.json").read_text())
    change(m)
    (root / "manifest.json").write_text(json.dumps(m))


def _truncate_bytes(root: Path) -> None:
    data = (root / "factors.npz").read_bytes()
    (root / "factors.npz").write_bytes(data[: len(data) // 2])


def _ids(root: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    frame = pd.read_parquet(root / "ids.parquet")
    buf = io.BytesIO()
    change(frame).to_parquet(buf, index=False)
    (root / "ids.parquet").write_bytes(buf.getvalue())


VARIANTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "item_factors truncated": (
        lambda r: _npz(r, "factors.npz", lambda a: a.update(item_factors=a["item_factors"][:-1])),
        "'item_factors' has shape (59, 8), expected (60, 8)",
    ),
    "item_factors missing": (
        lambda r: _npz(r, "factors.npz", lambda a: a.pop("item_factors")),
        "factors.npz has no 'item_factors'",
    ),
    "factors.npz cut in half": (_truncate_bytes, "unreadable artifact data"),
    "manifest without model": (lambda r: _manifest(r, lambda m: m.pop("model")), "has no 'model' object"),
    "manifest with n_items changed": (
        lambda r: _manifest(r, lambda m: m["dataset"].update(n_items=61)),
        "ids.parquet has 60 item ids, the manifest says 61",
    ),
    "rating scale not numbers": (
        lambda r: _manifest(r, lambda m: m.update(rating_scale=["low", 5])),
        "rating_scale must be [min, max]",
    ),
    "seen index out of range": (
        lambda r: _npz(r, "seen.npz", lambda a: a["indices"].__setitem__(0, 60)),
        "seen.npz index 60 is out of range 0..59",
    ),
    "seen indptr not monotone": (
        lambda r: _npz(r, "seen.npz", lambda a: a["indptr"].__setitem__(3, 10**6)),
        "not a monotone",
    ),
    "rated movies without their offsets": (
        lambda r: _npz(r, "seen.npz", lambda a: a.update(rated_indices=a["indices"].copy())),
        "seen.npz has one of 'rated_indptr' and 'rated_indices' without the other",
    ),
    "rated movie out of range": (
        lambda r: _npz(
            r,
            "seen.npz",
            lambda a: a.update(rated_indptr=a["indptr"].copy(), rated_indices=a["indices"] + 60),
        ),
        "seen.npz rated index 119 is out of range 0..59",
    ),
    "reason order of another length": (
        lambda r: _npz(r, "seen.npz", lambda a: a.update(reason_indices=a["indices"][:-1])),
        "seen.npz 'reason_indices' must hold one item index per training interaction",
    ),
    "lift values without their offsets": (
        lambda r: _npz(r, "seen.npz", lambda a: a.pop("similar_indptr")),
        "seen.npz has similar_indices, similar_values without the rest of similar_indptr/indices/values",
    ),
    "lift neighbour out of range": (
        lambda r: _npz(r, "seen.npz", lambda a: a["similar_indices"].__setitem__(0, 60)),
        "seen.npz similar index 60 is out of range 0..59",
    ),
    "lift value not a number": (
        lambda r: _npz(r, "seen.npz", lambda a: a["similar_values"].__setitem__(0, np.nan)),
        "seen.npz similar_values must be finite numbers",
    ),
    "NaN factors": (
        lambda r: _npz(r, "factors.npz", lambda a: a["user_factors"].__setitem__((0, 0), np.nan)),
        "'user_factors' holds 1 NaN or infinite values",
    ),
    "infinite item bias": (
        lambda r: _npz(r, "factors.npz", lambda a: a["item_bias"].__setitem__(5, np.inf)),
        "'item_bias' holds 1 NaN",
    ),
    "user_bias too short": (
        lambda r: _npz(r, "factors.npz", lambda a: a.update(user_bias=a["user_bias"][:3])),
        "'user_bias' has shape (3,), expected (40,)",
    ),
    "a user id row dropped": (
        lambda r: _ids(r, lambda f: f.drop(index=f.index[0]).reset_index(drop=True)),
        "ids.parquet has 39 user ids",
    ),
}


@pytest.fixture
def broken(svd_artifact, tmp_path: Path, request) -> tuple[Path, str]:
    root = tmp_path / "art"
    shutil.copytree(svd_artifact[0], root)
    change, message = VARIANTS[request.param]
    change(root)
    reseal(root)
    return root, message


# a broken archive leaves no file open (np.load raised before closing what it opened, so a server reloading a
# bad artifact leaked a file handle each time): a ResourceWarning fails the test
@pytest.mark.filterwarnings("error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("broken", sorted(VARIANTS), indirect=True)
def test_broken_artifact_with_recomputed_checksums_is_refused(broken: tuple[Path, str], capsys) -> None:
    root, message = broken
    with pytest.raises(ArtifactError) as info:
        load_artifact(root)
    assert message in str(info.value) and "\n" not in str(info.value)
    try:  # the CLI: one line, exit 2
        main(["recommend", "--user", "1", "--artifact", str(root)])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in " ".join(err.split()), err


@pytest.mark.parametrize(
    "broken", ["item_factors missing", "NaN factors", "seen index out of range"], indirect=True
)
def test_serve_refuses_before_binding_its_port(broken: tuple[Path, str]) -> None:
    root, message = broken
    proc = subprocess.run(
        movierec_cmd("serve", "--artifact", str(root), "--port", "0", "--db", "none"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert message in " ".join(proc.stderr.split()) and "Uvicorn running" not in proc.stderr + proc.stdout


@pytest.fixture(scope="module")
def ensemble_artifact(movies, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ensemble of ease, user-ease and iALS, every base weighted (three families under b0., b1., b2.)."""
    bases = {"ease": {"l2": 10.0}, "user-ease": {"l2": 10.0}, "ials": {"factors": 4, "epochs": 3}}
    model, train = fit("ensemble", movies, bases=bases)
    for n, label in enumerate(model.base_labels_):
        if model.models_[label] is None:
            model.models_[label] = model._make(model.base_names_[n], model.base_params_[n]).fit(train)
    model.weights_ = np.array([1.0, 0.5, 0.2])
    return export_artifact(model, movies, train, tmp_path_factory.mktemp("ens") / "ensemble")


ENSEMBLE_VARIANTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "a base's B cut": (
        lambda r: _npz(r, "factors.npz", lambda a: a.update({"b1.user_weights": a["b1.user_weights"][:-1]})),
        "'b1.user_weights' has shape",
    ),
    "a base's array missing": (
        lambda r: _npz(r, "factors.npz", lambda a: a.pop("b2.item_factors")),
        "factors.npz has no 'b2.item_factors', which a factors model scores with",
    ),
    "a base's users out of range": (
        lambda r: _npz(r, "factors.npz", lambda a: a["b1.active_users"].__setitem__(0, 99)),
        "'b1.active_users' holds user indices outside 0..39",
    ),
    "a negative weight": (
        lambda r: _manifest(r, lambda m: m["fold_in"]["bases"][0].update(weight=-1)),
        "fold_in.bases[0].weight must be a finite number > 0",
    ),
    "an unknown normalisation": (
        lambda r: _manifest(r, lambda m: m["fold_in"].update(normalize="rank")),
        "fold_in.normalize must be 'std' or 'max'",
    ),
}


@pytest.mark.parametrize("variant", sorted(ENSEMBLE_VARIANTS))
def test_a_broken_base_of_an_ensemble_is_refused(
    ensemble_artifact: Path, tmp_path: Path, variant: str
) -> None:
    assert load_artifact(ensemble_artifact).family == "ensemble"
    root = tmp_path / "art"
    shutil.copytree(ensemble_artifact, root)
    change, message = ENSEMBLE_VARIANTS[variant]
    change(root)
    reseal(root)
    with pytest.raises(ArtifactError, match="broken artifact") as info:
        load_artifact(root)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_intact_artifact_still_loads(svd_artifact) -> None:
    assert load_artifact(svd_artifact[0]).n_items == 60


def test_hmac_signing(movies, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, train = fit("popularity", movies)
    monkeypatch.setenv(KEY_ENV, "s3cret")
    root = export_artifact(model, movies, train, tmp_path / "signed")
    assert (root / "manifest.sig").is_file() and load_artifact(root).n_items == 60
    export_artifact(model, movies, train, root, force=True)  # a signed artifact may be replaced with --force
    monkeypatch.setenv(KEY_ENV, "another key")
    with pytest.raises(ArtifactError, match="does not match"):
        load_artifact(root)
    monkeypatch.setenv(KEY_ENV, "s3cret")
    _manifest(
        root, lambda m: m["model"].update(name="svd")
    )  # edited, checksums recomputed: the MAC catches it
    reseal(root)
    with pytest.raises(ArtifactError, match="does not match"):
        load_artifact(root)
    (root / "manifest.sig").unlink()
    with pytest.raises(ArtifactError, match="unsigned artifact"):
        load_artifact(root)
    monkeypatch.delenv(KEY_ENV)
    unsigned = export_artifact(model, movies, train, tmp_path / "plain")
    assert not (unsigned / "manifest.sig").exists() and load_artifact(unsigned).n_items == 60


def test_an_artifact_without_the_lift_table_lists_similar_by_its_model(
    svd_artifact, tmp_path: Path, capsys
) -> None:
    """Artifacts exported before 'similar' by lift (2026-12-04) hold no lift table: they load, list by the
    model as they always did (similar_by 'model', /health's similarBy), and by='lift' is one clear line."""
    from movierec.errors import ConfigError

    root = tmp_path / "old"
    shutil.copytree(svd_artifact[0], root)
    new = load_artifact(root)
    assert new.similar_by() == "lift" and new.info()["similarBy"] == "lift"
    _npz(
        root,
        "seen.npz",
        lambda a: [a.pop(k) for k in ("similar_indptr", "similar_indices", "similar_values")],
    )
    reseal(root)
    old = load_artifact(root)
    assert old.similar_by() == "model" and old.info()["similarBy"] == "model"
    assert old.similar_rows(21, 5) == new.similar_rows(21, 5, by="model")  # the model's list, as before
    with pytest.raises(ConfigError, match="exported before 'similar' by lift"):
        old.similar_rows(21, 5, by="lift")
    # the CLI says it in its own words: one line, exit 2, '--by model' (the API's is by=model)
    try:
        main(["similar", "--artifact", str(root), "--movie-id", "21", "--by", "lift"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2 and "exported before 'similar' by lift" in err and "(--by model)" in err, err
