"""A ratings file's delimiter, said: ``--sep`` in the CLI (every command with ``--ratings``), ``delimiter=`` in
Python, ``[dataset] delimiter`` in experiment files.

A tab-separated file named ``.csv`` was refused with 'the header looks '\\t'-separated (wrong delimiter?)'
and the CLI had no way to say the delimiter; Python's ``delimiter="::"`` (ml-1m's layout) ended in pyarrow's
ValueError. Now one parser (:func:`movierec.datasets.parsers.parse_delimiter`) takes a character, ``::`` or
a name (``tab``, or ``\\t`` as a shell passes it), the error names the option with the value to type, and
the delimiter is recorded so a run's config.toml loads the file again.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import movierec
from clihelp import run_process
from datagen import make_ratings
from movierec.errors import ConfigError
from movierec.experiment import DatasetConfig, load_experiment


@pytest.fixture(scope="module")
def tabbed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ratings separated by tabs in a file named ``.csv`` (as spreadsheet exports often are)."""
    path = tmp_path_factory.mktemp("sep") / "export.csv"
    make_ratings(40, 30, 0.3, seed=4).to_csv(path, sep="\t", index=False)
    return path


def _one_line_exit_2(proc: object) -> str:
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr  # type: ignore[attr-defined]
    lines = proc.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, lines
    return lines[0]


def test_sep_reads_a_tab_separated_csv_and_the_error_names_it(tabbed: Path) -> None:
    cwd = tabbed.parent
    line = _one_line_exit_2(run_process("data", "info", "--ratings", str(tabbed), cwd=cwd))
    assert line.endswith(
        "the header looks '\\t'-separated, not ',' (wrong delimiter?): read it with --sep tab"
    )
    n = len(make_ratings(40, 30, 0.3, seed=4))
    for typed in ("tab", "\\t", "\t"):  # the name, a backslash and a t as a shell passes '\t', a real tab
        proc = run_process("data", "info", "--ratings", str(tabbed), "--sep", typed, "--json", cwd=cwd)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["n_ratings"] == n
    line = _one_line_exit_2(run_process("data", "info", "--ratings", str(tabbed), "--sep", "ab", cwd=cwd))
    assert "delimiter 'ab' cannot separate fields: give one character (',', ';', '|'), tab" in line
    line = _one_line_exit_2(run_process("data", "info", "--sep", ";", cwd=cwd))
    assert line == "movierec: error: --sep is a --ratings file's delimiter; a --dataset reads its own files"

    with pytest.raises(movierec.DataError, match=r"\(wrong delimiter\?\): read it with delimiter='\\t'$"):
        movierec.load(tabbed)  # Python is told its own keyword


def test_double_colon_and_other_delimiters_load_alike(tabbed: Path, tmp_path: Path) -> None:
    frame = make_ratings(40, 30, 0.3, seed=4)
    want = movierec.load(tabbed, delimiter="tab").interactions
    for sep, name in (("::", "colons.txt"), (";", "semi.csv"), ("|", "pipes.csv")):
        path = tmp_path / name
        path.write_text(frame.to_csv(sep="|", index=False).replace("|", sep))
        got = movierec.load(path, delimiter=sep).interactions  # '::' was pyarrow's ValueError
        assert (got.ratings == want.ratings).all() and got.n_users == want.n_users
    proc = run_process("data", "info", "--ratings", str(tmp_path / "colons.txt"), "--sep", "::", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with pytest.raises(ConfigError, match=r"or '::' \(delimiter=\)$"):
        movierec.load(tabbed, delimiter=", ")


def test_the_delimiter_is_recorded_so_a_run_loads_the_file_again(tabbed: Path, tmp_path: Path) -> None:
    ds = movierec.load(tabbed, delimiter="tab")
    assert ds.load_options == {"delimiter": "\t"}
    cfg = DatasetConfig.of(str(tabbed), ds.load_options)
    assert cfg.delimiter == "tab" and DatasetConfig.model_validate(cfg.model_dump()) == cfg  # a tab by name
    assert cfg.load().sha256 == ds.sha256

    exp = tmp_path / "exp.toml"
    exp.write_text('protocols = ["full-ranking"]\nk = 5\n[[models]]\nname = "popularity"\n')
    proc = run_process(
        "compare",
        "--config",
        str(exp),
        "--ratings",
        str(tabbed),
        "--sep",
        "tab",
        "--out",
        "runs",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    (run,) = (tmp_path / "runs").iterdir()
    assert 'delimiter = "tab"' in (run / "config.toml").read_text()
    again = load_experiment(run / "config.toml").dataset.load()
    assert again.sha256 == ds.sha256 and again.interactions.n_ratings == ds.interactions.n_ratings
