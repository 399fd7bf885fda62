"""``movierec report --config`` on a split made elsewhere (``[split] train``/``test``), with and without
``[early_stopping]``.

Real files in tmp_path (ml-latest-small's first 150 users, 80/20 at random, 22,303 ratings), the CLI in
real subprocesses. The report's rows are ``compare --train --test``'s on the same files to the last digit
(models that draw no validation slice, or that are stopped early, which cuts none); its header names both
files and their sha256; ``best.toml`` names the files again, so ``compare --config best.toml`` gives the
report's best row and ``export --config best.toml`` trains on every file; the sections that draw their own
split of the whole data (sequence, new users) are left out with a sentence. With early stopping the table
shows each model's best epoch and the training chart is the stopping run's own, scored on the part it cut.
"""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clihelp import one_error_line, run_process
from movierec.datasets import Dataset

#: every test reads the module's ``files``, and four the ``stopped`` report: one worker builds each once under
#: make test's ``pytest -n 3 --dist loadgroup`` (the 390 and 1280 px runs of the browser test were sent to two
#: workers, and each built the files and the stopped report again: 7.7 CPU-s in CI)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("report_split_files")]
METRICS = ("precision@10", "recall@10", "hit_rate@10", "ndcg@10", "map@10", "mrr")
STOP = '\n[early_stopping]\nmetric = "ndcg@10"\npatience = 2\nevery = 5\n'


@pytest.fixture(scope="module")
def files(bundled: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("files")
    df = bundled.to_frame()
    df = df[df.userId <= 150].reset_index(drop=True)
    test = np.random.default_rng(5).random(len(df)) >= 0.8
    df[~test].to_csv(folder / "train.csv", index=False)
    df[test].to_csv(folder / "test.csv", index=False)
    return folder


def _experiment(folder: Path, models: list[tuple[str, str]], tail: str = "") -> Path:
    """exp.toml in ``folder``: ml-latest-small's titles, the files as the split, ``models`` (name, params)."""
    body = (
        'seed = 3\n\n[dataset]\nname = "ml-latest-small"\n\n[split]\ntrain = "train.csv"\ntest = "test.csv"\n'
    )
    for name, params in models:
        body += f'\n[[models]]\nname = "{name}"\n' + (f"params = {{{params}}}\n" if params else "")
    path = folder / "exp.toml"
    path.write_text(body + tail, encoding="utf-8")
    return path


def _figures(rows: list[dict]) -> dict[tuple[str, str], dict[str, object]]:
    """Each row's ranking metrics and their intervals, keyed by (model, protocol) (the report's rows carry
    the beyond-accuracy and per-activity-group figures too, which compare gives with --beyond)."""
    return {
        (r["model"], r["protocol"]): {
            **{m: r.get(m) for m in METRICS},
            **{f"{m} ci": tuple(v) for m, v in (r.get("intervals") or {}).items() if m in METRICS},
            "best_epoch": r.get("best_epoch"),
        }
        for r in rows
    }


def _report(folder: Path, out: str) -> dict:
    proc = run_process("report", "--config", "exp.toml", "--out", out, "--projection", "pca",
                       "--map-items", "60", cwd=folder)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return {
        "stdout": " ".join(proc.stdout.split()),
        **json.loads((folder / out / "results.json").read_text()),
    }


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_report_on_files_is_compare_on_them_and_best_toml_names_them(files: Path) -> None:
    """popularity, ease and sequential-popularity on the files: the report's rows equal compare --train
    --test's, its header names both files with their sha256, the sequence section is left out in one
    sentence, best.toml's compare gives the best row again and its export trains on train + test."""
    _experiment(files, [("popularity", ""), ("ease", ""), ("sequential-popularity", "")])
    rep = _report(files, "rep")
    direct = run_process("compare", "--train", "train.csv", "--test", "test.csv", "--dataset", "ml-latest-small",
                         "--models", "popularity,ease,sequential-popularity", "--seed", "3", "--json", cwd=files)  # fmt: skip
    assert direct.returncode == 0, direct.stderr
    assert _figures(rep["results"]) == _figures(json.loads(direct.stdout))
    assert rep["report"]["split"] == "given files train.csv / test.csv (17,813 / 4,490 ratings)"
    page = (files / "rep" / "index.html").read_text(encoding="utf-8")
    for name in ("train.csv", "test.csv"):
        assert str((files / name).resolve()) in page and _sha(files / name) in page
        assert rep["provenance"]["split_files"][name[:-4]]["sha256"] == _sha(files / name)
    assert 'id="sequence"' not in page and "sequence" not in rep
    (left,) = [n for n in rep["notes"] if "left out" in n]
    assert left.startswith(
        "sequence section left out: it holds out each user's latest rating of the whole data"
    )
    assert 'id="charts"' in page and 'id="beyond"' in page and 'id="maps"' in page  # on the given split

    best = (files / "rep" / "best.toml").read_text()
    assert 'train = "../train.csv"' in best and "kind" not in best  # relative to best.toml, as read
    assert "export trains it on every file given (train.csv + test.csv)" in best
    # the page's serve box says the same, not "all of the report's data" (h128)
    assert (
        "export trains it with best.toml's settings on every file given (train.csv + test.csv) ("
        in html.unescape(page)
    )
    assert (
        "export trains it on every file given (train.csv + test.csv), all the data you gave" in rep["stdout"]
    )
    again = run_process("compare", "--config", "rep/best.toml", "--out", "runs", "--json", cwd=files)
    assert again.returncode == 0, again.stderr
    (row,) = json.loads(again.stdout)
    winner = max(rep["table"], key=lambda r: r["values"]["ndcg@10"])["model"]
    assert row["model"] == winner == "ease"
    assert _figures([row]) == {
        k: v for k, v in _figures(rep["results"]).items() if k == (winner, "full-ranking")
    }

    art = run_process("export", "--config", "rep/best.toml", "--out", "art", cwd=files)
    assert art.returncode == 0, art.stderr
    manifest = json.loads((files / "art" / "manifest.json").read_text())
    both = pd.concat([pd.read_csv(files / "train.csv"), pd.read_csv(files / "test.csv")])
    assert manifest["dataset"]["n_train_interactions"] == int((both.rating >= 4).sum()) == 11_532
    line = one_error_line(
        run_process("export", "--config", "rep/best.toml", "--out", "art2", "--holdout", cwd=files)
    )
    assert line == (  # one line of <= 160 columns with its prefix (it was 176)
        "--holdout and [split] train/test exclude each other: export trains on every file; "
        "compare --config rep/best.toml scores the test file"
    )


@pytest.fixture(scope="module")
def stopped(files: Path) -> dict:
    """The report of popularity and warp (at most 30 epochs) stopped early on the files, in files/stop.

    ``beyond = false``: the tests read the table, the stopping run's curve, best.toml and the page's header
    and model table (the browser test: its width, the files' sha256, the best epoch); the beyond-accuracy
    section's layout on a phone is test_report_browser's, on the session's report. Its six charts were ~3
    CPU-s of this one."""
    exp = _experiment(files, [("popularity", ""), ("warp", "epochs = 30")], STOP)
    exp.write_text(exp.read_text().replace("seed = 3\n", "seed = 3\nbeyond = false\n", 1))
    return _report(files, "stop")


def test_report_on_files_with_early_stopping_shows_best_epochs_and_the_stopping_runs(
    files: Path, stopped: dict
) -> None:
    """warp (at most 30 epochs) stopped on NDCG@10 beside popularity: the rows equal compare --train --test
    --early-stopping's, the table (under warp's name) and results.json's rows carry the best epoch, the
    training chart is warp's stopping run with its validation score every 5 epochs (up to the epoch it
    stopped at, past the best), and best.toml's epochs are the best epoch, which gives the row again."""
    rep = stopped
    direct = run_process("compare", "--train", "train.csv", "--test", "test.csv", "--dataset", "ml-latest-small",
                         "--models", "popularity,warp", "--params", "warp.epochs=30", "--seed", "3",
                         "--early-stopping", "ndcg@10", "--patience", "2", "--json", cwd=files)  # fmt: skip
    assert direct.returncode == 0, direct.stderr
    assert _figures(rep["results"]) == _figures(json.loads(direct.stdout))
    warp = next(r for r in rep["table"] if r["model"] == "warp")
    assert 1 <= warp["best_epoch"] <= 30 and warp["stopping"].startswith(
        "early stopping on validation ndcg@10"
    )
    assert "best_epoch" not in next(r for r in rep["table"] if r["model"] == "popularity")
    scored = {e["epoch"]: e["val_ndcg@10"] for e in rep["training"]["warp"] if "val_ndcg@10" in e}
    assert sorted(scored) == list(range(5, max(scored) + 1, 5)) and max(scored) > warp["best_epoch"]
    assert max(scored, key=lambda e: scored[e]) == warp["best_epoch"]
    assert scored[warp["best_epoch"]] == pytest.approx(warp["valid_score"])
    page = html.unescape((files / "stop" / "index.html").read_text(encoding="utf-8"))
    assert (
        f'>warp<span class="tag kind-under implicit">implicit</span>'
        f'<span class="ci epoch" title="{warp["stopping"]}">best epoch {warp["best_epoch"]}</span></th>'
        in page
    )
    assert page.count('class="ci epoch"') == 1  # popularity cannot stop: no best epoch under its name
    assert (
        "Each stopped model's early-stopping run" in page
        and (files / "stop/charts/training_curves.png").is_file()
    )

    best = (files / "stop" / "best.toml").read_text()
    assert f"epochs = {warp['best_epoch']}" in best and "early_stopping" not in best
    again = run_process("compare", "--config", "stop/best.toml", "--out", "runs", "--json", cwd=files)
    assert again.returncode == 0, again.stderr
    (row,) = json.loads(again.stdout)
    ours = _figures(rep["results"])[("warp", "full-ranking")]
    assert _figures([row])[("warp", "full-ranking")] == {**ours, "best_epoch": None}


def test_report_says_the_best_epochs_in_the_terminal_once(files: Path, stopped: dict) -> None:
    """The terminal summary prints compare's early-stopping note (each stopped model's best epoch, the
    refit, the models that cannot stop) once, as compare --config does on the same experiment; it was on
    the page only."""
    warp = next(r for r in stopped["table"] if r["model"] == "warp")
    (note,) = [n for n in stopped["notes"] if n.startswith("early stopping on validation")]
    assert f"best epochs warp {warp['best_epoch']}" in note and "popularity cannot stop" in note
    assert stopped["stdout"].count("early stopping on validation") == 1
    assert f"note: {note}" in stopped["stdout"]
    _experiment(files, [("popularity", ""), ("warp", "epochs = 30")], STOP)
    direct = run_process("compare", "--config", "exp.toml", "--out", "runs", cwd=files)
    assert direct.returncode == 0, direct.stderr
    assert f"note: {note}" in " ".join(direct.stdout.split())


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_the_report_on_files_fits_a_phone_and_a_desktop(
    browser, files: Path, stopped: dict, width: int
) -> None:  # type: ignore[no-untyped-def]
    """The early-stopping report on files in Chromium at 390 and 1280 px: no console error, no page wider
    than the screen (the header's 64-digit sha256 wraps, the table scrolls in its own box), both files'
    sha256 shown in the header, warp's best epoch under its name, every chart decoded."""
    page = browser.new_page(viewport={"width": width, "height": 860}, device_scale_factor=1)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto((files / "stop" / "index.html").resolve().as_uri())
    page.wait_for_load_state("load")
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    wide = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    assert wide <= width, f"page is {wide} px wide in a {width} px viewport"
    header = page.locator("header.top").inner_text()
    assert _sha(files / "train.csv") in header.replace("\n", "") and _sha(files / "test.csv") in header
    for box in page.locator("header.top .meta.files").all():
        assert box.bounding_box()["width"] <= width  # type: ignore[index]
    warp = next(r for r in stopped["table"] if r["model"] == "warp")
    assert page.locator("table.models th.name .epoch").inner_text() == f"best epoch {warp['best_epoch']}"
    assert errors == [], errors
    page.close()


def test_report_with_a_valid_file_says_early_stopping_scored_on_it(files: Path) -> None:
    """[split] valid beside train/test with [early_stopping]: warp stops on valid.csv and is refit on
    train.csv + valid.csv (compare's row says so), and the model table's note and the stopping chart's
    caption say the same; they said "a part cut from each user's training ratings" and "refit on the whole
    training part", which a valid file is not."""
    folder = files / "with-valid"
    folder.mkdir(exist_ok=True)
    df = pd.read_csv(files / "train.csv")
    valid = np.random.default_rng(7).random(len(df)) < 0.12
    df[~valid].to_csv(folder / "train.csv", index=False)
    df[valid].to_csv(folder / "valid.csv", index=False)
    (folder / "test.csv").write_bytes((files / "test.csv").read_bytes())
    exp = _experiment(folder, [("popularity", ""), ("warp", "epochs = 10")], STOP)
    # beyond = false: the checks read the stopping notes and captions only; the beyond-accuracy section's six
    # charts were ~2 CPU-s of the report
    text = exp.read_text().replace('train = "train.csv"\n', 'train = "train.csv"\nvalid = "valid.csv"\n')
    exp.write_text(text.replace("seed = 3\n", "seed = 3\nbeyond = false\n", 1))
    rep = _report(folder, "stop-valid")
    warp = next(r for r in rep["table"] if r["model"] == "warp")
    assert "on valid.csv (" in warp["stopping"] and warp["stopping"].endswith(
        f"refit on train.csv + valid.csv with epochs={warp['best_epoch']}"
    )
    assert rep["report"]["stopped_on"] == {"part": "valid.csv", "refit": "train.csv + valid.csv"}
    page = " ".join(html.unescape((folder / "stop-valid" / "index.html").read_text(encoding="utf-8")).split())
    assert (
        "early stopping on validation ndcg@10 (on valid.csv, the validation part given, never the test part) "
        "chose it; the row is the model refit on train.csv + valid.csv with that many epochs." in page
    )
    assert (
        "every 5 epochs on valid.csv, the validation part given (never the test part)." in page
        and "the table's row is the model refit on train.csv + valid.csv with the best epoch's count." in page
    )
    assert "cut from each user's training ratings" not in page and "the whole training part" not in page
