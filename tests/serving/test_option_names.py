"""Messages name the setting the user gave, not one they never typed. A walk on a fresh clone read
``--db '…'`` from ``movierec serve`` whose URL came from ``MOVIEREC_DB``, and ``… (with_feedback= in Python,
--with-feedback in the CLI): …`` from the ``export`` command, where only ``--with-feedback`` exists."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from servehelp import movierec_cmd

from movierec.errors import DataError


def _serve(tmp_path: Path, env_db: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MOVIEREC_DB"}
    if env_db is not None:
        env["MOVIEREC_DB"] = env_db
    cmd = movierec_cmd("serve", "--artifact", str(tmp_path / "nowhere"), "--port", "0", *args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("sqlite:////nonexistent-h112/fb.db", "folder /nonexistent-h112 does not exist"),
        ("nosuchdriver://x", "cannot open this database URL"),
        ("{tmp}/notes.txt", "not a feedback database (not a SQLite file); nothing was changed"),
    ],
)
def test_serve_names_movierec_db_when_the_url_came_from_there(tmp_path: Path, url: str, why: str) -> None:
    (tmp_path / "notes.txt").write_text("not a database\n")
    url = url.format(tmp=tmp_path)
    from_env = _serve(tmp_path, url)
    assert from_env.returncode == 2, from_env.stderr
    assert from_env.stderr.startswith(f"movierec: error: MOVIEREC_DB={url!r}: {why}"), from_env.stderr
    assert "--db" not in from_env.stderr and from_env.stderr.count("\n") == 1, from_env.stderr
    typed = _serve(tmp_path, None, "--db", url)  # typed: the flag, as before
    assert typed.returncode == 2 and typed.stderr.startswith(f"movierec: error: --db {url!r}: {why}"), (
        typed.stderr
    )
    assert (tmp_path / "notes.txt").read_text() == "not a database\n"


def test_export_and_data_info_name_only_the_cli_option(tmp_path: Path) -> None:
    """The CLI's export and data info say ``--with-feedback``; Python's merge_feedback keeps both spellings."""
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    tail = "not a movierec feedback database (not a SQLite file)"
    for args in (
        ["export", "--model", "popularity", "--with-feedback", str(notes), "--out", str(tmp_path / "art")],
        ["data", "info", "--with-feedback", str(notes)],
    ):
        out = subprocess.run(movierec_cmd(*args), capture_output=True, text=True, timeout=300)
        assert out.returncode == 2, out.stderr[-1500:]
        assert out.stderr.strip().splitlines()[-1] == f"movierec: error: --with-feedback {notes}: {tail}", (
            out.stderr
        )
        assert "in Python" not in out.stderr and not (tmp_path / "art").exists()
    import movierec
    from movierec.serving.store import merge_feedback

    with pytest.raises(DataError) as exc:
        merge_feedback(movierec.load("ml-latest-small"), notes)
    assert str(exc.value) == f"{notes} (with_feedback= in Python, --with-feedback in the CLI): {tail}"
