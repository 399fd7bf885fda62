"""Every malformed input in tests/corpus/ through the CLI: exit 2, one stderr line naming the problem,
no traceback, nothing written to the cache dir or the output folder (manifest: tests/corpus/cases.toml)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from movierec.errors import ConfigError
from movierec.experiment import load_experiment

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = tomllib.loads((CORPUS / "cases.toml").read_text(encoding="utf-8"))
CASES = {c["id"]: c for c in MANIFEST["case"]}
# a handful go through a real interpreter (the rest use the same entry point in-process)
SUBPROCESS_IDS = [
    "latin1.csv",
    "truncated.parquet",
    "traversal.zip",
    "zip_bomb",
    "artifact_flipped_byte",
    "movies_broken_quote",
    "export_bad_ratings",
    "serve_flipped_byte",
]


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Inputs too big or too binary to commit: a zip bomb and tampered copies of a tiny exported artifact."""
    import shutil

    import numpy as np
    import pandas as pd

    from movierec.datasets import Dataset
    from movierec.interactions import Interactions
    from movierec.models.registry import create
    from movierec.serving.artifact import FORMAT_VERSION, export_artifact

    root = tmp_path_factory.mktemp("generated")
    # ratio ~1000: 8 MiB of zeros deflate to ~8 KiB (a member over 1 MiB claiming a ratio over MAX_RATIO,
    # 200, is a bomb; 64 MiB, as before, cost 0.2 CPU-s to deflate for the same refusal)
    with zipfile.ZipFile(root / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("ml-latest/ratings.csv", "w", force_zip64=True) as fh:
            block = b"\0" * (1 << 20)
            for _ in range(8):
                fh.write(block)
    rng = np.random.default_rng(0)
    n_users, n_items = 12, 15
    pairs = [(u, i) for u in range(1, n_users + 1) for i in range(1, n_items + 1) if rng.random() < 0.5]
    df = pd.DataFrame(pairs, columns=["userId", "movieId"])
    df["rating"] = rng.integers(1, 6, len(df)).astype(float)
    df["timestamp"] = np.arange(len(df), dtype=np.int64)
    inter = Interactions.from_frame(df)
    movies = pd.DataFrame(
        {
            "movieId": np.arange(1, n_items + 1),
            "title": [f"Movie {i} (2000)" for i in range(1, n_items + 1)],
            "genres": ["Comedy"] * n_items,
            "year": [2000] * n_items,
        }
    )
    ds = Dataset("tiny", inter, movies, None, "", "", [])
    model = create("svd", n_factors=4, n_epochs=3, random_state=0).fit(inter)
    good = export_artifact(model, ds, inter, root / "art_good")
    for name in ("art_flipped", "art_missing", "art_newer", "art_badjson"):
        shutil.copytree(good, root / name)
    data = bytearray((root / "art_flipped" / "factors.npz").read_bytes())
    data[len(data) // 2] ^= 0x01
    (root / "art_flipped" / "factors.npz").write_bytes(bytes(data))
    (root / "art_missing" / "seen.npz").unlink()
    manifest = json.loads((root / "art_newer" / "manifest.json").read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    (root / "art_newer" / "manifest.json").write_text(json.dumps(manifest))
    (root / "art_badjson" / "manifest.json").write_text('{"format_version": 1, "files": ')
    (root / "art_empty").mkdir()
    return root


def _argv(case: dict, generated: Path, out: Path) -> list[str]:
    subst = {"{corpus}": str(CORPUS), "{generated}": str(generated), "{out}": str(out)}
    argv = []
    for a in case["args"]:
        for k, v in subst.items():
            a = a.replace(k, v)
        argv.append(a)
    return argv


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _check(case: dict, code: int, stderr: str, cache: Path, out: Path) -> None:
    cid = case["id"]
    assert code == 2, (cid, code, stderr)
    assert "Traceback" not in stderr, (cid, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, (cid, stderr)
    for needle in case["needles"]:
        assert needle in lines[0], (cid, needle, lines[0])
    assert _files(cache) == [], (cid, "wrote into the cache", _files(cache))
    assert _files(out) == [], (cid, "wrote into the output folder", _files(out))


def test_manifest_is_big_and_every_file_is_used() -> None:
    files = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file()}
    files -= {"cases.toml", "make_corpus.py"}
    text = (CORPUS / "cases.toml").read_text()
    unused = sorted(f for f in files if f.split("/")[1] not in text)
    assert not unused, unused
    assert len(CASES) + len(MANIFEST["config"]) >= 40


def test_corpus_in_process(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from movierec.cli import main

    failures = []
    for cid, case in CASES.items():
        cache, out = tmp_path / cid / "cache", tmp_path / cid / "out"
        out.mkdir(parents=True)
        monkeypatch.setenv("MOVIEREC_DATA", str(cache))
        monkeypatch.setenv("COLUMNS", "200")
        capsys.readouterr()
        code = 0
        try:
            main(_argv(case, generated, out))
        except SystemExit as exc:
            code = int(exc.code or 0)
        err = capsys.readouterr().err
        try:
            _check(case, code, err, cache, out)
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_corpus_in_subprocesses(generated: Path, tmp_path: Path) -> None:
    """The same checks through a real ``python -m movierec`` (interpreter start-up, exit code, stderr bytes)."""

    def one(cid: str) -> tuple[dict, subprocess.CompletedProcess[str], Path, Path]:
        case = CASES[cid]
        cache, out = tmp_path / cid / "cache", tmp_path / cid / "out"
        out.mkdir(parents=True)
        proc = subprocess.run(
            [sys.executable, "-m", "movierec", *_argv(case, generated, out)],
            capture_output=True,
            text=True,
            timeout=240,
            env={**os.environ, "MOVIEREC_DATA": str(cache), "COLUMNS": "200"},
        )
        return case, proc, cache, out

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(one, SUBPROCESS_IDS))
    for case, proc, cache, out in results:
        _check(case, proc.returncode, proc.stderr, cache, out)


@pytest.mark.parametrize("case", MANIFEST["config"], ids=lambda c: c["id"])
def test_bad_experiment_configs(case: dict) -> None:
    with pytest.raises(ConfigError) as info:
        load_experiment(CORPUS / case["file"])
    line = str(info.value)
    assert "\n" not in line
    for needle in case["needles"]:
        assert needle in line, (needle, line)


def test_nothing_escaped_the_target_folder() -> None:
    """The traversal and absolute-path archives did not write their payloads anywhere we can see."""
    assert not Path("/tmp/movierec-evil.txt").exists()
    assert not (CORPUS.parent / "evil.txt").exists() and not (CORPUS.parent.parent / "evil.txt").exists()


def test_legal_cousins_of_the_corpus_are_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Quoted newlines in tags and quoted commas in titles are valid CSV: read, not refused."""
    from movierec.cli import main

    folder = tmp_path / "ok"
    folder.mkdir()
    (folder / "ratings.csv").write_text((CORPUS / "folders" / "movies_latin1" / "ratings.csv").read_text())
    (folder / "movies.csv").write_text(
        'movieId,title,genres\n1,"Heat, The (1995)",Action\n2,Up (2009),Comedy\n3,"Say ""Hi"" (2001)",Drama\n'
    )
    (folder / "tags.csv").write_text(
        'userId,movieId,tag,timestamp\n1,1,"pix\nar",1445714994\n2,3,"a, b",1445714995\n'
    )
    monkeypatch.setenv("MOVIEREC_DATA", str(tmp_path / "cache"))
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["data", "info", "--dataset", str(folder), "--json"])
    assert done.value.code in (0, None)
    info = json.loads(capsys.readouterr().out)
    assert info["n_tags"] == 2 and info["n_ratings"] == 4 and info["n_catalog_items"] == 3
