"""``movierec serve -a A -a B`` with artifacts that did not learn from the same data (serving.together).

serve shared users out between any artifacts it was given: one trained on ml-latest-small (0.5–5) beside
one trained on a 1–10 file served, the page's stars and "of 5" and POST /feedback following the first only,
and a userId or movieId naming another person or movie in each. Now such a pair is one line and exit 2,
naming both artifacts, what differs and how to go on, in the CLI, in Python (``build_server``) and on a
reload; the same data plus feedback rows serves; two versions of one file serve with a note. Every artifact
here is made by ``movierec export`` (popularity, --no-check: each export takes a second or two)."""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from clihelp import run_process
from movierec.errors import ConfigError
from movierec.serving.artifact import load_artifact
from movierec.serving.dispatch import ModelRouter
from movierec.serving.validate import KEY_ENV


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``movierec ARGS`` in this process, in ``cwd`` (so artifacts are named as typed), at 80 columns."""
    return run_process(*args, cwd=cwd, env={"MOVIEREC_DB": None, KEY_ENV: None, "COLUMNS": "80"})


def _ratings_1_to_10(path: Path, n_users: int = 20, seed: int = 0, first: int = 1) -> None:
    """A tiny ratings file on a 1–10 scale: each user rates 8 of 15 movies (movieIds ``first`` on)."""
    rng = random.Random(seed)
    rows = ["userId,movieId,rating"]
    for user in range(1, n_users + 1):
        rows += [f"{user},{movie},{rng.randint(1, 10)}" for movie in rng.sample(range(first, first + 15), 8)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n")


def _movies(path: Path, title: str, retitled: dict[int, str] | None = None) -> None:
    """Titles for movieIds 1-15: ``{title} N (2001)``, except those in ``retitled``."""
    names = {m: f"{title} {m} (2001)" for m in range(1, 16)} | (retitled or {})
    path.write_text("movieId,title\n" + "".join(f"{m},{t}\n" for m, t in names.items()))


def _export(root: Path, out: str, *args: str) -> None:
    done = _run("export", "-m", "popularity", "--no-check", "--out", out, *args, cwd=root)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Artifacts of one folder: ``small`` (ml-latest-small, 0.5–5), ``ten`` (a 1–10 file), ``a`` (data/a/ratings.csv
    with Film titles), ``a-fb`` (a's data plus two feedback ratings), ``b`` (a file also named ratings.csv,
    its movieIds other movies), ``c`` (one more ratings.csv, of
    movieIds 101-115, untitled), ``a2`` (a's movies, fewer rows, one movie retitled), ``a3`` (a's movies,
    other rows, another movie retitled)."""
    root = tmp_path_factory.mktemp("together")
    _ratings_1_to_10(root / "ten.csv")
    _ratings_1_to_10(root / "data" / "a" / "ratings.csv")
    _ratings_1_to_10(root / "data" / "b" / "ratings.csv", seed=1)
    _ratings_1_to_10(root / "data" / "a2" / "ratings.csv", n_users=15)
    _ratings_1_to_10(root / "data" / "a3" / "ratings.csv", n_users=16)
    _ratings_1_to_10(root / "data" / "c" / "ratings.csv", first=101)
    _movies(root / "data" / "a" / "movies.csv", "Film")
    _movies(root / "data" / "b" / "movies.csv", "Other")
    _movies(root / "data" / "a2" / "movies.csv", "Film", {7: "Film 7: Director's Cut (2001)"})
    _movies(root / "data" / "a3" / "movies.csv", "Film", {8: "Film 8: Extended (2001)"})
    from movierec.serving.store import FeedbackStore

    store = FeedbackStore(root / "fb.db")
    store.add("r1", "21", "3", 9.0)
    store.add("r2", "4", "12", 2.0)
    store.close()
    _export(root, "small")
    _export(root, "ten", "--ratings", "ten.csv")
    _export(root, "c", "--ratings", "data/c/ratings.csv")
    for name in ("a", "b", "a2", "a3"):
        _export(root, name, "--ratings", f"data/{name}/ratings.csv", "--movies", f"data/{name}/movies.csv")
    _export(
        root,
        "a-fb",
        "--ratings",
        "data/a/ratings.csv",
        "--movies",
        "data/a/movies.csv",
        "--with-feedback",
        "fb.db",
    )
    return root


def test_artifacts_of_two_rating_scales_are_refused_in_one_line(root: Path) -> None:
    """ml-latest-small's 0.5–5 beside a 1–10 file: serve --check said ok for both and exit 0, and serve
    served them; now one line naming both artifacts, both datasets and scales, and what to do, exit 2."""
    out = _run("serve", "--check", "-a", "small", "-a", "ten", "--db", "none", cwd=root)
    assert out.returncode == 2 and out.stdout == "", out
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr
    line = out.stderr.strip()
    start = "movierec: error: cannot serve small and ten together, as they learned from different data"
    assert line.startswith(f"{start} (ml-latest-small and ten): ten rates 1–10"), line
    assert "small 0.5–5" in line and "follow small, the first" in line
    assert "a userId or movieId may name another person or movie in each" in line
    assert line.endswith(
        "Serve each with its own 'movierec serve' (another --port), or export both from one dataset"
    )
    # the same from Python: build_server is what serve (and each --workers process) calls
    from movierec.serving.app import ServeSettings
    from movierec.serving.server import build_server

    with pytest.raises(ConfigError) as caught:
        build_server([root / "ten", root / "small"], None, ServeSettings(static=False))
    said = str(caught.value)
    assert said.startswith(f"cannot serve {root / 'ten'} and {root / 'small'} together"), said
    assert f"{root / 'small'} rates 0.5–5 in steps of 0.5 and {root / 'ten'} 1–10 in steps of 1" in said


def test_the_same_data_plus_feedback_serves_without_a_word(root: Path) -> None:
    """export --with-feedback names its data 'ratings+feedback' with another checksum: the same users and
    movies plus the server's own ratings, the model beside one retrained on its feedback (the A/B test)."""
    assert load_artifact(root / "a-fb").dataset_name == "ratings+feedback"
    out = _run("serve", "--check", "-a", "a", "-a", "a-fb", "--db", "none", cwd=root)
    assert out.returncode == 0, out.stderr
    assert [line.split(" · ")[0] for line in out.stdout.splitlines() if line.startswith("ok:")] == [
        "ok: a",
        "ok: a-fb",
        "ok: feedback off (--db none)",
    ]
    assert "learned from" not in out.stderr and "differ in title" not in out.stderr, out.stderr


def test_two_files_of_one_name_are_told_apart_by_their_movies(root: Path) -> None:
    """a/ratings.csv and b/ratings.csv: both datasets are 'ratings', on one scale, with the same movieIds,
    but movieId 1 is Film 1 in one and Other 1 in the other: refused, naming that movie."""
    out = _run("serve", "--check", "-a", "a", "-a", "b", "--db", "none", cwd=root)
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out
    assert (
        "(two datasets named 'ratings'): movieId 1 is Film 1 (2001) in a and Other 1 (2001) in b "
        in out.stderr
    )
    assert "(15 of the 15 movieIds that a and b both hold differ in title)" in out.stderr
    assert "rates" not in out.stderr and "another person" not in out.stderr  # the scale and name agree
    # data/c/ratings.csv, untitled, rates movieIds 101-115: no title to compare, and no movieId in common
    out = _run("serve", "--check", "-a", "a", "-a", "c", "--db", "none", cwd=root)
    assert out.returncode == 2 and "'ratings'): only 0 of c's 15 movieIds are in a. Serve each" in out.stderr


def test_two_versions_of_one_file_serve_with_a_note(root: Path) -> None:
    """a2 holds fewer of a's rows (another checksum) and retitles one movie of 15: served, with a note on
    each, rather than refused (a newer dump of one catalogue)."""
    out = _run("serve", "--check", "-a", "a", "-a", "a2", "--db", "none", cwd=root)
    assert out.returncode == 0, out.stderr
    notes = " ".join(out.stderr.split())  # the notes wrap at 80 columns
    sha = {name: load_artifact(root / name).manifest["dataset"]["sha256"][:12] for name in ("a", "a2")}
    assert (
        f"note: a and a2 learned from two versions of 'ratings' (sha256 {sha['a']} and {sha['a2']}); "
        "served together, as their rating scale and movieIds agree"
    ) in notes, notes
    assert (
        "note: 1 of the 15 movieIds that a and a2 both hold differ in title (movieId 7 is Film 7 (2001) in a "
        "and Film 7: Director's Cut (2001) in a2); served together, as the other 14 agree"
    ) in notes, notes
    assert all(len(line) <= 80 for line in out.stderr.splitlines()), out.stderr


def test_a_reload_onto_other_data_is_refused_and_the_old_set_serves(root: Path) -> None:
    """A deploy that flips the second artifact's symlink onto another dataset's artifact: the reload is
    refused with the same reason (SIGHUP logs it, POST /admin/reload answers it) and both old ones serve."""
    link = root / "current"
    link.unlink(missing_ok=True)
    link.symlink_to("a-fb")
    router = ModelRouter([root / "a", link], build=lambda art: art, load=load_artifact)
    before = router.versions()
    tmp = root / "current.tmp"
    tmp.symlink_to("ten")
    tmp.replace(link)
    ok, message = router.reload()
    assert not ok and router.versions() == before, message
    assert f"cannot serve {root / 'a'} and {link} together" in message, message
    assert "two datasets named" not in message and "(ratings and ten)" in message, message


def test_two_later_artifacts_are_compared_with_each_other_too(root: Path) -> None:
    """a2 retitles movie 7 of a's 15 and a3 movie 8: each is within a tenth of a (1 of 15, a note), but a2 and
    a3 differ in 2 of 15, over a tenth, as the pair alone is refused. Compared with the first only, 'a a2 a3'
    served with four notes while 'a2 a3 a' was refused: now every pair is compared, in either order."""
    for order in (("a", "a2", "a3"), ("a2", "a3", "a")):
        artifacts = [arg for name in order for arg in ("-a", name)]
        out = _run("serve", "--check", *artifacts, "--db", "none", cwd=root)
        assert out.returncode == 2 and out.stdout == "" and out.stderr.count("\n") == 1, (order, out)
        assert out.stderr.startswith(
            "movierec: error: cannot serve a2 and a3 together, as they learned from different data (two "
            "datasets named 'ratings'): movieId 7 is Film 7: Director's Cut (2001) in a2 and Film 7 (2001) in "
            "a3 (2 of the 15 movieIds that a2 and a3 both hold differ in title). Serve each"
        ), (order, out.stderr)
    out = _run("serve", "--check", "-a", "a", "-a", "a3", "--db", "none", cwd=root)  # a3 beside a: a note
    notes = " ".join(out.stderr.split())
    assert out.returncode == 0 and "1 of the 15 movieIds that a and a3 both hold" in notes, out.stderr


def _flip(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` in one rename, as a deploy does."""
    tmp = link.with_name(link.name + ".tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    tmp.replace(link)


def _wait_for(stream: io.StringIO, lines: int) -> list[str]:
    """The lines ``stream`` holds once it holds ``lines`` or more (the SIGHUP reload runs in a thread)."""
    deadline = time.monotonic() + 30
    while len(stream.getvalue().splitlines()) < lines and time.monotonic() < deadline:
        time.sleep(0.05)
    return stream.getvalue().splitlines()


def test_a_reload_onto_two_versions_says_the_notes_and_health_carries_them(root: Path) -> None:
    """The notes on two versions of one dataset were said at start and by serve --check, but a reload onto
    such a set said nothing and GET /health had no field for them. Now POST /admin/reload answers them in
    ``notes``, the SIGHUP log line is followed by one ``note:`` line each, GET /health carries them (for
    every served version) and a reload onto a set without any clears them; the schema declares both."""
    from fastapi.testclient import TestClient
    from jsonschema import Draft202012Validator

    from movierec.serving.app import ServeSettings
    from movierec.serving.server import build_server, install_sighup

    link = root / "deployed"
    _flip(link, "a-fb")
    asgi, router = build_server([root / "a", link], None, ServeSettings(static=False, api_key="k"))
    sha = {name: load_artifact(root / name).manifest["dataset"]["sha256"][:12] for name in ("a", "a2")}
    a = root / "a"
    expected = [
        f"{a} and {link} learned from two versions of 'ratings' (sha256 {sha['a']} and {sha['a2']}); "
        "served together, as their rating scale and movieIds agree",
        f"1 of the 15 movieIds that {a} and {link} both hold differ in title (movieId 7 is Film 7 (2001) in "
        f"{a} and Film 7: Director's Cut (2001) in {link}); served together, as the other 14 agree",
    ]
    log = io.StringIO()
    old_handler = signal.getsignal(signal.SIGHUP)
    try:
        with TestClient(asgi) as client:
            spec = client.get("/openapi.json").json()
            health, reload_result = (
                Draft202012Validator({**spec, "$ref": f"#/components/schemas/{name}"})
                for name in ("Health", "ReloadResult")
            )
            for name in ("Health", "ReloadResult"):  # extra keys validate: the field must be declared
                assert "notes" in spec["components"]["schemas"][name]["properties"], name
            assert client.get("/health").json()["notes"] == []  # a beside its data plus feedback: nothing
            _flip(link, "a2")
            answer = client.post("/admin/reload", headers={"X-API-Key": "k"})
            assert answer.status_code == 200 and answer.json()["notes"] == expected, answer.text
            reload_result.validate(answer.json())
            for query in ("", "?model=deployed"):  # the first version's app, and the second's
                body = client.get("/health" + query).json()
                assert body["notes"] == expected, body
                health.validate(body)
            install_sighup(router, log=log)
            _flip(link, "a-fb")
            os.kill(os.getpid(), signal.SIGHUP)
            assert [line.split(":")[0] for line in _wait_for(log, 1)] == ["reloaded"]
            time.sleep(0.2)  # no note line follows
            assert len(log.getvalue().splitlines()) == 1 and client.get("/health").json()["notes"] == []
            _flip(link, "a2")
            os.kill(os.getpid(), signal.SIGHUP)
            said = _wait_for(log, 4)[1:]
            assert said[0].startswith("reloaded: "), said
            assert said[1:] == [f"note: {note}" for note in expected], said
    finally:
        signal.signal(signal.SIGHUP, old_handler)
