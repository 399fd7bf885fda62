"""``movierec export`` end to end on the bundled ml-latest-small, and its mistakes as one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from clihelp import fail_with_stacks, run_cli, run_process
from movierec.cli.serve import parse_params
from movierec.errors import ConfigError
from movierec.serving.artifact import load_artifact


def test_parse_params() -> None:
    assert parse_params(["n_factors=40", "lr=0.01,biased=false", "similarity=cosine"]) == {
        "n_factors": 40,
        "lr": 0.01,
        "biased": False,
        "similarity": "cosine",
    }
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_params(["n_factors"])


def test_export_with_holdout_metrics(tmp_path: Path, capsys) -> None:
    out = tmp_path / "pop"
    code, stdout, err = run_cli(
        ["export", "--model", "popularity", "--out", str(out), "--holdout", "--json"], capsys
    )
    assert code == 0, err
    report = json.loads(stdout)
    art = load_artifact(out)
    assert report["model_version"] == art.model_version and art.dataset_name == "ml-latest-small"
    metrics = art.manifest["metrics"]
    assert metrics["protocol"] == "full-ranking" and 0 < metrics["precision@10"] < 1
    assert art.manifest["dataset"]["n_train_interactions"] < 48580  # 80% of the ≥ 4.0 positives
    # without --json the figures are one readable line, not a Python dict
    code, stdout, err = run_cli(
        ["export", "--model", "popularity", "--out", str(out), "--force", "--holdout"], capsys
    )
    assert code == 0, err
    text = " ".join(stdout.split())  # rich wraps at the terminal's width
    assert "hold-out (20% of ratings, seed 42" in text and "{" not in text
    assert f"NDCG@10 {metrics['ndcg@10']:.3f}" in text
    assert "trained on 80% of the ratings (the rest held out)" in art.manifest["notes"]
    code, stdout, err = run_cli(
        ["export", "--model", "popularity", "--out", str(out), "--force", "--holdout", "--test-size", "0.3"],
        capsys,
    )
    assert code == 0 and "hold-out (30% of ratings" in " ".join(stdout.split()), err
    assert "trained on 70% of the ratings (the rest held out)" in load_artifact(out).manifest["notes"]
    # exporting over it again needs --force; the error is one line and exit code 2
    code, _out, err = run_cli(["export", "--model", "popularity", "--out", str(out)], capsys)
    assert code == 2 and err.count("\n") == 1, err
    # the CLI's words only (it said "replace it (force=True in Python, --force in the CLI)"); Python's its own
    assert f"{out} already exists; pass --force to replace it" in err and "force=True" not in err, err
    from movierec.output_folders import OUT, check_artifact_target

    with pytest.raises(ConfigError) as exc:
        check_artifact_target(out, False, OUT)  # what export's pipeline runs first from a notebook too
    assert str(exc.value) == f"{out} already exists; pass force=True to replace it"
    code, _out, err = run_cli(
        ["export", "--model", "popularity", "--out", str(out), "--force", "--params", "bogus=1"], capsys
    )
    assert code == 2 and "bogus" in err


def test_metrics_line_names_the_split_and_keeps_popularity_beside() -> None:
    """The user count is the ranking metrics' (users with a test rating ≥ 4): it read '595 users' right
    before 'RMSE 0.881', which is over every test rating of all 610 users (helper-89, README's export)."""
    from movierec.cli.serve import metrics_line

    line = metrics_line(
        {"rmse": 0.8812, "ndcg@10": 0.0984, "coverage@10": 0.0277, "n_users": 595, "split": "ratings-holdout",
         "popularity": {"ndcg@10": 0.1648}, "weak_for_top_n": True},
        0.2, 7,
    )  # fmt: skip
    assert line == (
        "hold-out (20% of ratings, seed 7; ranking over 595 users): RMSE 0.881 · NDCG@10 0.098 · "
        "coverage@10 2.8% (popularity: NDCG@10 0.165)"
    )


@pytest.mark.slow
def test_export_explicit_model_with_params(tmp_path: Path, capsys) -> None:
    out = tmp_path / "svd"
    code, _stdout, err = run_cli(
        ["export", "-m", "svd", "-p", "n_factors=4,n_epochs=2", "--out", str(out)], capsys
    )
    assert code == 0, err
    art = load_artifact(out)
    assert art.manifest["model"]["params"]["factors"] == 4 and art.kind == "explicit"
    assert art.manifest["model"]["params"]["random_state"] == 42  # --seed reaches the model
    assert art.n_users == 610 and len(art.recommend_rows(1, 10)) == 10


def test_serve_refuses_bad_options(tmp_path: Path, capsys) -> None:
    code, _out, err = run_cli(["serve", "--artifact", str(tmp_path / "missing")], capsys)
    assert code == 2 and "no such artifact folder" in err
    code, _out, err = run_cli(["serve", "--artifact", str(tmp_path / "missing"), "--rec-cache", "-1"], capsys)
    assert code == 2 and "--rec-cache must be ≥ 0" in err and "Traceback" not in err


@pytest.mark.slow
def test_export_with_feedback_closes_the_loop(tmp_path: Path, capsys) -> None:
    from movierec.serving.store import FeedbackStore

    store = FeedbackStore(tmp_path / "fb.db")
    store.add("r1", "web-visitor", "1", 5.0)
    store.add("r2", "web-visitor", "318", 4.5)
    store.close()
    out = tmp_path / "art"
    code, _out, err = run_cli(
        ["export", "--model", "itemknn", "--with-feedback", str(tmp_path / "fb.db"), "--out", str(out)],
        capsys,
    )
    assert code == 0, err
    art = load_artifact(out)
    assert art.dataset_name == "ml-latest-small+feedback" and art.n_users == 611
    assert "got new id 611\n" in err  # the visitor is now training user 611: ids stay integers
    recs = art.recommend_rows(611, 5)
    assert len(recs) == 5 and not {1, 318} & {r["movieId"] for r in recs}
    assert art.user_map.ids.dtype.kind == "i" and len(art.recommend_rows(1, 3)) == 3


def test_serve_on_a_port_in_use_is_one_line_and_exit_2(svd_artifact, tmp_path: Path) -> None:
    """A second ``movierec serve`` on a taken port said uvicorn's ``ERROR: [Errno 98] … address already in use``
    among its log lines, after a "serving … on http://127.0.0.1:PORT" banner, and exited with 3; now one line
    naming the port and a free one to try, exit 2, and the feedback database is not created."""
    import socket
    import subprocess

    from servehelp import movierec_cmd

    db = tmp_path / "fb.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cmd = movierec_cmd("serve", "--artifact", str(svd_artifact[0]), "--port", str(port), "--db", str(db))
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "INFO" not in done.stderr and "serving" not in done.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr, done.stderr
    suggested = re.search(r"try --port (\d+), which is free", done.stderr)
    assert suggested is not None and int(suggested.group(1)) != port, done.stderr
    assert not db.exists()  # nothing written before the refusal
    # in this process (a new interpreter cost ~1.2 CPU-s, its imports): refused where it binds, it returns
    done = run_process(
        "serve",
        "--artifact",
        str(svd_artifact[0]),
        "--host",
        "192.0.2.1",
        "--db",
        "none",
        inherit_columns=True,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "--host 192.0.2.1: not an address of this machine" in done.stderr


def test_serve_given_the_manifest_file_names_the_folder(svd_artifact) -> None:
    """``serve --artifact DIR/manifest.json`` (a file of the artifact) said "no such artifact folder"."""
    import socket

    folder = svd_artifact[0]
    # in this process (a new interpreter cost ~1.1 CPU-s, its imports), on a port held here: a serve that
    # took the file would be refused at that port in another line, not serve on and hang the test run
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = run_process(
            "serve", "--artifact", str(folder / "manifest.json"), "--db", "none", "--port", port,
            inherit_columns=True,
        )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.rstrip().endswith(f"a file of the artifact; give its folder, {folder}"), done.stderr


def test_serve_names_a_bad_artifact_path_as_typed(svd_artifact, tmp_path, monkeypatch) -> None:
    """serve resolved every --artifact to an absolute path before loading it (so a symlink flipped mid-load
    cannot mix two versions), and its refusals named that path: `serve --artifact artifacts/svd/manifest.json`
    said '/home/me/proj/artifacts/svd/manifest.json: … give its folder, /home/me/proj/artifacts/svd' where
    `recommend --artifact` and docs/serving.md say 'artifacts/svd/manifest.json: … artifacts/svd'. A path
    with no symlink on the way is now loaded as typed; a symlink is still resolved first."""
    import shutil

    from movierec.errors import ArtifactError
    from movierec.serving.dispatch import ModelRouter

    shutil.copytree(svd_artifact[0], tmp_path / "artifacts" / "svd")
    monkeypatch.chdir(tmp_path)
    refusals = {
        "artifacts/svd/manifest.json": "artifacts/svd/manifest.json: a file of the artifact; give its folder, "
        "artifacts/svd",
        "artifacts": "artifacts: not an artifact but a folder of them (svd); give one, e.g. artifacts/svd",
    }
    for typed, said in refusals.items():
        with pytest.raises(ArtifactError) as caught:
            ModelRouter([typed], build=lambda art: art, load=load_artifact)
        assert str(caught.value) == said
    (tmp_path / "artifacts" / "current").symlink_to("svd")
    router = ModelRouter(["artifacts/current"], build=lambda art: art, load=load_artifact)
    assert router.served[0].path == tmp_path / "artifacts" / "svd"  # the symlink's target, resolved


def test_the_banner_reads_at_80_columns_with_the_url_first_and_the_pid_last() -> None:
    """serve's banner was one line of 120-140 characters ('serving ease@28a9b21a250f on http://127.0.0.1:8000
    · docs /docs · metrics /metrics · feedback sqlite:///… · reload: kill -HUP 8777'), which an 80-column
    terminal or log broke mid-word. Now its first line names what is served and the URL, its last the reload
    command with the pid as the banner's last word, and the rest between, indented, broken between parts."""
    import os

    from servehelp import BANNER

    from movierec.cli.serve import banner_lines

    class Bound:  # a bound socket as banner_lines reads it
        def __init__(self, address: str) -> None:
            self.address = address

        def getsockname(self) -> tuple[str, int]:
            return self.address, 8000

    one, both = [Bound("127.0.0.1")], [Bound("127.0.0.1"), Bound("::1")]
    pid = os.getpid()
    plain = banner_lines("ease@28a9b21a250f", "127.0.0.1", one, metrics=True, feedback="off", api_key=False)
    assert plain == [
        "serving ease@28a9b21a250f on http://127.0.0.1:8000",
        "  docs /docs · metrics /metrics · feedback off",
        f"  reload: kill -HUP {pid}",
    ]
    feedback = "postgresql+psycopg://movierec:***@db.example.com:5432/movierec"
    served = "sequential-popularity@2ba03129c7dd"  # the longest registered name
    full = banner_lines(served, "localhost", both, metrics=False, feedback=feedback, api_key=True)
    assert all(len(line) <= 80 for line in full), full
    m = BANNER.search("\n".join(full))
    assert m is not None and m.groups() == ("http://localhost:8000", str(pid)), full
    assert full[-1] == f"  reload: POST /admin/reload or kill -HUP {pid}"  # the pid: the banner's last word
    assert all(line.startswith("  ") for line in full[1:]) and not full[-2].endswith(" ·"), full
    assert " ".join(" ".join(full[1:-1]).split()) == (
        f"docs /docs · metrics off · feedback {feedback} · localhost: 127.0.0.1 and [::1]"
    )


def _serve_until_banner(
    artifact: Path, cwd: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[str, str | None, object]:
    """Start ``movierec serve --artifact ARTIFACT --port 0 *args`` in ``cwd`` (where a default ``--db`` would
    write); what it wrote to stderr up to and including its "serving …" banner, the URL the banner names, and
    the running process (the caller stops it)."""
    import os
    import subprocess
    import time

    from servehelp import banner_url, movierec_cmd

    cmd = movierec_cmd("serve", "--artifact", str(artifact), "--port", "0", *args)
    proc = subprocess.Popen(
        cmd,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while proc.stderr is not None and not _banner_read(lines, deadline):
        lines.append(proc.stderr.readline())
    return "".join(lines), banner_url("".join(lines), proc.pid), proc


def _banner_read(lines: list[str], deadline: float) -> bool:
    """Whether ``lines`` (serve's stderr so far) hold its whole banner, "serving … on URL" down to its last
    line, "  reload: … kill -HUP PID" (or the stream ended, or the time is up)."""
    import time

    return time.monotonic() > deadline or (
        bool(lines) and (not lines[-1] or lines[-1].startswith("  reload: "))
    )


def _shown(err: str) -> str:
    """serve's stderr without the note that its artifact was exported by other code (a checkout edited
    while the tests run: the fixture's export and this serve see different uncommitted changes); piped,
    the note is wrapped at 80 columns, so its lines run until, joined, they end 're-export to be sure'."""
    kept, note = [], ""
    for line in err.splitlines(True):
        if not note and not (line.startswith("note: ") and " was exported by " in line):
            kept.append(line)
            continue
        note = " ".join(f"{note} {line}".split())
        if note.endswith("re-export to be sure"):
            note = ""
    return "".join(kept)


def test_the_database_url_can_stay_off_the_command_line(svd_artifact, pg_cluster, tmp_path: Path) -> None:
    """A PostgreSQL password typed in ``--db`` is visible to every user of the machine in ``ps`` for as long as
    the server runs, the risk ``--api-key`` already warns of; serving.md's own example put it there and there
    was no other way to give the URL. Now ``MOVIEREC_DB`` holds it (the variable ``--workers`` processes
    already read), and a password typed in ``--db`` gets one warning naming the ways out, never the password.
    The test cluster trusts local connections, so the password is accepted and ignored."""
    import subprocess

    import httpx

    from movierec.serving.store import FeedbackStore

    url = pg_cluster.fresh_database("db_env").replace("@127.0.0.1", ":s3cret-pw@127.0.0.1")
    err, served, proc = _serve_until_banner(svd_artifact[0], tmp_path, env={"MOVIEREC_DB": url})
    try:
        # the only line: the banner (a note that the artifact came from other code shows in a working
        # tree being edited while the tests run, never in a clean clone)
        assert _shown(err).startswith("serving ") and "warning" not in err, err
        assert "feedback postgresql+psycopg://movierec:***@127.0.0.1" in err and "s3cret-pw" not in err, err
        # sent on the banner alone: the port listens before the banner is written (the banner came before
        # uvicorn bound the port, and under load this post was refused), the request waits for the app
        assert served is not None and served.startswith("http://127.0.0.1:"), err
        body = {"userId": "env-1", "movieId": 21, "rating": 4.0, "requestId": "db-env-1"}
        done = httpx.post(f"{served}/feedback", json=body, timeout=60)
        assert done.status_code == 201, done.text
    finally:
        proc.terminate()  # type: ignore[attr-defined]
        proc.wait(30)  # type: ignore[attr-defined]
    store = FeedbackStore(url, create=False)
    try:
        assert store.frame()["requestId"].tolist() == ["db-env-1"]  # written where MOVIEREC_DB points
    finally:
        store.close()
    # PYTHONFAULTHANDLER: if SIGTERM does not stop it (once, under load, a serve ran on 30 s past the signal,
    # which landed just after the banner), SIGABRT below prints every thread's stack into the failure
    err, _, proc = _serve_until_banner(
        svd_artifact[0], tmp_path, "--db", url, env={"PYTHONFAULTHANDLER": "1"}
    )
    proc.terminate()  # type: ignore[attr-defined]
    try:
        proc.wait(30)  # type: ignore[attr-defined]
    except subprocess.TimeoutExpired:
        fail_with_stacks(proc, "serve still running 30 s after SIGTERM")  # type: ignore[arg-type]
    before = err[: err.index("serving ")]  # the notes and the warning before the banner, wrapped at 80 piped
    assert before.count("warning: ") == 1 and "s3cret-pw" not in err, err
    # the banner goes to terminals and shipped logs: the password typed in --db is shown as *** (this was
    # test_serve_banner_masks_the_database_password, which started a serve of its own for it)
    banner = err[err.index("serving ") :]
    assert ":***@127.0.0.1" in banner, err
    warning = " ".join(before[before.index("warning: ") :].split())
    assert "visible to other users of this machine (ps, /proc)" in warning, err
    assert "MOVIEREC_DB" in warning and "PGPASSWORD" in warning, err
    err, _, proc = _serve_until_banner(svd_artifact[0], tmp_path, "--db", url.replace(":s3cret-pw", ""))
    proc.terminate()  # type: ignore[attr-defined]
    proc.wait(30)  # type: ignore[attr-defined]
    assert _shown(err).startswith("serving "), err  # no password typed: no warning
    assert not list(tmp_path.glob("*.db*"))  # never the default SQLite file beside
