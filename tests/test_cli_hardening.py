"""Small CLI hardening (issue 23): option mistakes are one line, the API key stays out of ``ps``,
too little training data is said out loud."""

from __future__ import annotations

from pathlib import Path

import pytest

from movierec.cli import main


def _run(args: list[str], capsys) -> tuple[int, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "args, needle",
    [
        (["export", "--model", "svd", "--out", "x", "--seed", "abc"], "Invalid value for '--seed'"),
        (["compare", "--models", "svd", "-k", "ten"], "'-k': Input should be a valid integer"),
        (["export", "--model", "svd"], "Missing option '--out'"),
        (["export", "--no-such-option"], "No such option: --no-such-option"),
    ],
)
def test_option_mistakes_are_one_line_exit_2(args: list[str], needle: str, capsys) -> None:
    code, err = _run(args, capsys)
    assert code == 2 and err.count("\n") == 1 and needle in err and "╭" not in err, err
    assert err.startswith("movierec: error: movierec ") and "--help" in err


def test_help_and_version_still_exit_0(capsys) -> None:
    assert _run(["--version"], capsys)[0] == 0
    assert _run(["export", "--help"], capsys)[0] == 0


def test_api_key_on_the_command_line_warns(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = str(tmp_path / "no-artifact")
    code, err = _run(["serve", "--artifact", missing, "--db", "none", "--api-key", "s3cret"], capsys)
    assert code == 2 and "visible to other users" in err and "--api-key-file" in err
    monkeypatch.setenv("MOVIEREC_API_KEY", "s3cret")  # from the environment: no warning
    code, err = _run(["serve", "--artifact", missing, "--db", "none"], capsys)
    assert code == 2 and "visible" not in err and err.count("\n") == 1
    monkeypatch.delenv("MOVIEREC_API_KEY")
    key = tmp_path / "key"
    key.write_text("\n")
    code, err = _run(["serve", "--artifact", missing, "--db", "none", "--api-key-file", str(key)], capsys)
    assert code == 2 and err.count("\n") == 1 and "the first line is empty" in err
    key.write_text("s3cret\n")
    code, err = _run(["serve", "--artifact", missing, "--db", "none", "--api-key-file", str(key)], capsys)
    assert (
        code == 2 and "visible" not in err and "no-artifact" in err
    )  # the key was read; the artifact is missing
    args = ["serve", "--artifact", missing, "--api-key-file", str(key), "--api-key", "x"]
    assert "not both" in _run(args, capsys)[1]


def test_exporting_from_one_rating_warns(tmp_path: Path, capsys) -> None:
    one = tmp_path / "one.csv"
    one.write_text("userId,movieId,rating,timestamp\n1,1,4.0,1\n")
    code, err = _run(
        ["export", "--model", "svd", "--ratings", str(one), "--out", str(tmp_path / "a")], capsys
    )
    assert code == 0 and "too little data" in " ".join(err.split()) and "only 1 interactions" in err
