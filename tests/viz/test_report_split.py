"""``movierec report --config`` reports on the experiment file's ``[split]``, as ``compare --config`` does.

It read the file's dataset, seed, K, threshold, models and item features but not its split: every
report was on ``compare(split="auto")``'s 20% ratings hold-out, so ``compare --config exp.toml`` and
``report --config exp.toml`` printed different rows and neither said why. Each test runs the real CLI
in a subprocess on a tiny MovieLens folder written in code, with two cheap models (no training curves,
so no validation slice: the report's figures are compare's to the last digit).
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest

from clihelp import ERROR, one_error_line, run_process

#: the file's split, what compare and the report call it, and the split "auto" would have picked
TEMPORAL = "temporal (latest 0.25 of ratings by time)"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``movierec ARGS`` in a fresh interpreter at 200 columns (a table row on one line)."""
    return run_process(*args, cwd=cwd)


def _experiment(folder: Path, dataset: Path, extra: str = "") -> Path:
    path = folder / "exp.toml"
    path.write_text(
        f'seed = 3\n{extra}\n[dataset]\nname = "{dataset}"\n\n[split]\nkind = "temporal"\ntest_size = 0.25\n\n'
        '[[models]]\nname = "popularity"\n\n[[models]]\nname = "baseline"\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.slow
def test_report_config_is_on_the_files_split_with_compares_figures(
    movielens_dir: Path, tmp_path: Path
) -> None:
    """The file says ``temporal``, 25%: the report's caption, page, results.json and best.toml say so, and
    every figure of compare's rows (same file, same models) is the report's, intervals too. ``--test-size``
    typed on the command line wins over the file's, as ``compare --config`` lets it."""
    # beyond = false: no check here reads the beyond-accuracy section, and compare --config, whose rows the
    # report's are checked against, measures none without it; its six charts were ~2 CPU-s of each report
    exp = _experiment(tmp_path, movielens_dir, extra="beyond = false")
    report = _run("report", "--config", str(exp), "--out", "rep", "--projection", "pca", "--map-items", "10",
                  cwd=tmp_path)  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert f"· split: {TEMPORAL} · K=10 · relevance ≥ 4 · seed 3" in report.stdout, report.stdout
    assert "validation slice" not in report.stdout  # no model with training curves: nothing held back
    data = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert data["report"]["split"] == TEMPORAL
    assert (data["report"]["fingerprint"]["split"], data["report"]["fingerprint"]["test_size"]) == (
        "temporal",
        0.25,
    )
    assert f"split <b>{TEMPORAL}</b>" in (tmp_path / "rep" / "index.html").read_text(encoding="utf-8")
    best = tomllib.loads((tmp_path / "rep" / "best.toml").read_text(encoding="utf-8"))
    assert best["split"] == {"kind": "temporal", "test_size": 0.25}  # export --config best.toml: the same

    compared = _run("compare", "--config", str(exp), "--out", "runs", "--json", cwd=tmp_path)
    assert compared.returncode == 0, compared.stderr
    rows = json.loads(compared.stdout)
    got = {(r["model"], r["protocol"]): r for r in data["results"]}
    assert {(r["model"], r["protocol"]) for r in rows} == {
        ("baseline", "rating"),
        ("popularity", "full-ranking"),
        ("baseline", "full-ranking"),
    }
    for row in rows:
        mine = got[(row["model"], row["protocol"])]
        assert mine["split"] == row["split"] == TEMPORAL
        numbers = [
            m for m, v in row.items() if isinstance(v, float) and m != "fit_seconds" and "seconds" not in m
        ]
        assert {"rmse", "ndcg@10"} & set(numbers) and "n_users" in row
        assert mine["n_users"] == row["n_users"], row["model"]
        for metric in numbers:
            assert mine[metric] == pytest.approx(row[metric], rel=1e-12, abs=1e-12), (row["model"], metric)
        for metric, bounds in row["intervals"].items():  # the same bootstrap over the same users
            assert mine["intervals"][metric] == pytest.approx(bounds, rel=1e-12), (row["model"], metric)

    typed = _run("report", "--config", str(exp), "--test-size", "0.1", "--out", "typed", "--projection", "pca",
                 "--map-items", "10", cwd=tmp_path)  # fmt: skip
    assert typed.returncode == 0, typed.stderr
    again = json.loads((tmp_path / "typed" / "results.json").read_text())
    assert again["report"]["split"] == "temporal (latest 0.1 of ratings by time)"


def test_report_config_refuses_cv_and_split_in_one_line(movielens_dir: Path, tmp_path: Path) -> None:
    """A file with ``cv`` has k test sets and the report draws one: one line naming the file, line and key
    (it was ignored, as the split was). ``--split`` with ``--config`` is refused as compare refuses it;
    neither leaves a folder."""
    exp = _experiment(tmp_path, movielens_dir, extra="cv = 3")
    line = one_error_line(_run("report", "--config", str(exp), "--out", "rep", cwd=tmp_path))
    assert line == (
        f"{exp}, line 2: cv: the report draws one split's tables and charts, not 3 folds; remove cv to report "
        f"on the file's [split], or run compare --config {exp} for the k-fold figures"
    )
    exp = _experiment(tmp_path, movielens_dir)
    for command in ("report", "compare"):
        line = one_error_line(
            _run(command, "--config", str(exp), "--split", "per-user", "--out", "o", cwd=tmp_path)
        )
        assert line == "--split and --config exclude each other: the experiment file sets it (edit exp.toml)"
    assert not (tmp_path / "rep").exists() and not (tmp_path / "o").exists()


@pytest.mark.slow
def test_report_split_option_and_a_split_that_does_not_suit(movielens_dir: Path, tmp_path: Path) -> None:
    """``report --split`` without a file: the page is on that split. A split the data cannot give (a
    canonical ml-100k split of other data) is compare's own line, and nothing is written."""
    proc = _run("report", "--dataset", str(movielens_dir), "--models", "popularity", "--split", "per-user",
                "--test-size", "0.3", "--out", "rep", "--projection", "pca", "--map-items", "10", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    split = json.loads((tmp_path / "rep" / "results.json").read_text())["report"]["split"]
    assert split.startswith("per-user (0.3 of each user's"), split
    args = ["--dataset", str(movielens_dir), "--models", "popularity", "--split", "ml100k-u1"]
    compare_line = one_error_line(_run("compare", *args, cwd=tmp_path))
    report = _run("report", *args, "--out", "bad", cwd=tmp_path)  # after its progress lines: the error
    assert report.returncode == 2 and "Traceback" not in report.stderr, report.stderr
    assert compare_line.startswith("split ml100k-u1 is defined on ml-100k"), compare_line
    last = report.stderr.strip().splitlines()[-1]
    assert last == f"{ERROR}{compare_line}; nothing was written (bad was not created)"
    assert not (tmp_path / "bad").exists()
