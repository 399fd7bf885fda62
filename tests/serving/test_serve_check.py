"""``movierec serve --check``: every ``--artifact``, the ``--weights`` and the ``--db`` store loaded and verified
exactly as serve does before it binds, one ``ok:`` line each and exit 0; a failure is serve's own one line
and exit 2; no port is bound, no server starts. CI steps, Docker health checks and ``ExecStartPre=`` had
to start the server (and stop it) to learn whether an artifact would serve."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from servehelp import fit

from clihelp import run_process
from movierec.serving.artifact import export_artifact, load_artifact
from movierec.serving.store import FeedbackStore, schema_table
from movierec.serving.validate import KEY_ENV


def _run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, fresh: bool = False
) -> subprocess.CompletedProcess[str]:
    """``movierec ARGS`` without MOVIEREC_DB and the API key from this environment, at the inherited
    $COLUMNS. A ``serve --check`` runs in this process (clihelp.run_process: it starts no server); a
    ``serve`` that fails before it binds runs here too, given a port held by the test (:func:`_held_port`);
    one that binds first, or a check that must show it binds nothing, in a new interpreter (``fresh``)."""
    changes = {"MOVIEREC_DB": None, KEY_ENV: None, **(env or {})}
    return run_process(*args, cwd=cwd, env=changes, fresh=fresh, timeout=120, inherit_columns=True)


def _ok_line(path: Path) -> str:
    art = load_artifact(path)
    return (
        f"ok: {path} · {art.model_name} {art.model_version} · format 1 · {art.n_items:,} movies · "
        f"{art.n_users:,} users · checksums verified"
    )


def _records(stdout: str) -> list[str]:
    """``serve --check``'s ``ok:`` records, each with its indented later lines joined back on."""
    records: list[str] = []
    for line in stdout.splitlines():
        if line.startswith("    ") and records:
            records[-1] += " " + line.strip()
        else:
            records.append(line)
    return records


def test_each_ok_record_fits_80_columns(svd_artifact, tmp_path: Path) -> None:
    """``ok: artifacts/ease · ease 456a2e46fe4c · format 1 · 9,724 movies · 610 users · checksums verified``
    was one 96-column line (113 for knn-baseline): now broken between its parts, its later lines indented."""
    import shutil

    short = Path("artifacts/svd")  # as in docs/serving.md
    shutil.copytree(svd_artifact[0], tmp_path / short)
    out = _run("serve", "--check", "--artifact", str(short), "--db", "none", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines) and len(lines) == 3, lines
    assert lines[0].startswith("ok: artifacts/svd · svd ") and lines[1].startswith("    "), lines
    assert [line for line in lines if line.startswith("ok:")] == [lines[0], "ok: feedback off (--db none)"]
    whole = _ok_line(tmp_path / short).replace(str(tmp_path / short), str(short))
    assert _records(out.stdout) == [whole, "ok: feedback off (--db none)"]


def test_check_says_ok_for_each_artifact_and_the_store_and_starts_nothing(
    svd_artifact, movies, tmp_path: Path
) -> None:
    path = svd_artifact[0]
    model, train = fit("ease", movies)
    other = export_artifact(model, movies, train, tmp_path / "ease")
    new = tmp_path / "feedback.db"
    # in a new interpreter: a check that started serving would fail here (port 1, timeout), not hang the run
    out = _run(
        "serve", "--check", "--artifact", str(path), "--db", str(new), "--port", "1", cwd=tmp_path, fresh=True
    )
    assert out.returncode == 0, out.stderr
    assert _records(out.stdout) == [
        _ok_line(path),
        f"ok: feedback sqlite:///{new} · new (serve creates it)",
    ]
    assert "serving" not in out.stderr and "Uvicorn" not in out.stderr, out.stderr  # port 1 was never bound
    assert not new.exists() and not list(tmp_path.glob("feedback.db*"))  # a check creates no database
    FeedbackStore(new).close()  # a store serve made
    out = _run("serve", "--check", "-a", str(path), "-a", str(other), "--weights", "90,10", "--db", str(new))
    assert out.returncode == 0, out.stderr
    assert _records(out.stdout) == [
        _ok_line(path),
        _ok_line(other),
        f"ok: feedback sqlite:///{new} · schema 3",
    ]
    out = _run("serve", "--check", "-a", str(path), env={"MOVIEREC_DB": f"sqlite:///{new}"})
    assert out.returncode == 0 and _records(out.stdout)[-1] == f"ok: feedback sqlite:///{new} · schema 3", out
    out = _run("serve", "--check", "-a", str(path), "--db", "none")
    assert out.returncode == 0 and out.stdout.splitlines()[-1] == "ok: feedback off (--db none)", out


@contextmanager
def _held_port() -> Iterator[int]:
    """A port this test listens on while the block runs. A ``serve`` run in this process that got past its
    checks would be refused there in one line ("port … is already in use"), not serve and hang the test run
    (a ``serve`` in a new interpreter cost 1.2-1.7 CPU-s, mostly imports, once for each failing case)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def _tampered(src: Path, tmp_path: Path) -> Path:
    bad = tmp_path / "tampered"
    shutil.copytree(src, bad)
    data = bytearray((bad / "items.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bad / "items.parquet").write_bytes(bytes(data))
    return bad


def _newer_store(tmp_path: Path) -> Path:
    db = tmp_path / "newer.db"
    FeedbackStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE {schema_table.name} SET version = 99")
    return db


@pytest.mark.parametrize(
    "case", ["tampered", "missing", "bad-weights", "newer-schema", "unsigned", "db-folder", "bad-url-env"]
)
def test_a_check_that_fails_says_serves_own_line_and_exits_2(svd_artifact, tmp_path: Path, case: str) -> None:
    path = svd_artifact[0]
    args, env = ["-a", str(path), "--db", "none"], {}
    if case == "tampered":
        args[1] = str(_tampered(path, tmp_path))
    elif case == "missing":
        args[1] = str(tmp_path / "nowhere")
    elif case == "bad-weights":
        args += ["--weights", "1,2"]
    elif case == "newer-schema":
        args[3] = str(_newer_store(tmp_path))
    elif case == "unsigned":
        env = {KEY_ENV: "secret"}
    elif case == "db-folder":
        args[3] = str(tmp_path / "no" / "such" / "fb.db")
    else:
        args, env = args[:2], {"MOVIEREC_DB": "nosuchdriver://x"}
    checked = _run("serve", "--check", *args, env=env)
    if case == "newer-schema":  # refused after the port is bound (serve makes its tables then): the port is
        # its own, in a new interpreter, where a serve that went on serving would time out
        served = _run("serve", "--port", "0", *args, env=env, fresh=True)
    else:
        with _held_port() as port:  # serve fails before it binds; had it not, the held port refuses it
            served = _run("serve", "--port", str(port), *args, env=env)
    assert checked.returncode == 2 and served.returncode == 2, (checked.stderr, served.stderr)
    assert checked.stderr.startswith("movierec: error: ") and checked.stderr.count("\n") == 1, checked.stderr
    assert checked.stderr == served.stderr and checked.stdout == "", (checked, served)


def test_the_docs_example_is_broken_where_serve_check_breaks_it(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/serving.md shows the ease record broken after '610 users ·', where serve --check breaks it before
    '610 users' (its lines keep within 76 columns plus the indent): the page's lines are the printed ones."""
    from movierec.cli.serve import _say_ok

    page = (Path(__file__).resolve().parents[2] / "docs" / "serving.md").read_text()
    block = page.split("$ movierec serve --check --artifact artifacts/ease --db feedback.db\n", 1)[1]
    shown = _records(block.split("\nok: feedback", 1)[0] + "\n")
    assert len(shown) == 1 and shown[0].startswith("ok: artifacts/ease · ease "), shown
    _say_ok(shown[0])
    printed = capsys.readouterr().out
    assert block.startswith(printed), f"docs/serving.md shows:\n{block[: len(printed)]}printed:\n{printed}"
