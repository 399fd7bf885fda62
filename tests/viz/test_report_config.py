"""``movierec report --config`` reads every key of the experiment file: it honours ``protocols``, ``beyond``
and ``auc`` as ``compare --config`` does, and refuses in one line what it cannot draw (``rerank``, a
protocol outside its model table, protocols without full-ranking), naming the file, line and key.

Before, the report read the file's dataset, split, seed, K, threshold, models and item features and silently
ignored the rest: a file with ``protocols = ["full-ranking"]``, ``beyond = false``, ``auc = true`` or
``rerank = "mmr:0.3"`` gave the same page as one without. Real subprocesses on the tiny MovieLens folder of
tests/viz/conftest.py, two cheap models (no training curves: the figures are compare's to the digit).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clihelp import one_error_line, run_process
from movierec.beyond_names import is_beyond


def _experiment(folder: Path, dataset: Path, top: str) -> Path:
    """An experiment file whose first lines are ``top`` (so each key's line number is known)."""
    path = folder / "exp.toml"
    path.write_text(
        f'{top}\nseed = 3\n\n[dataset]\nname = "{dataset}"\n\n'
        '[[models]]\nname = "popularity"\n\n[[models]]\nname = "baseline"\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.slow
def test_report_config_honours_protocols_beyond_and_auc(movielens_dir: Path, tmp_path: Path) -> None:
    """``protocols = ["full-ranking"]``, ``beyond = false``, ``auc = true``: the report's rows are compare's
    rows on the same file (full-ranking only, AUC included, the same figures), the page has the AUC column
    and no beyond-accuracy section, and results.json says which protocols it drew."""
    exp = _experiment(tmp_path, movielens_dir, 'protocols = ["full-ranking"]\nbeyond = false\nauc = true')
    report = run_process("report", "--config", str(exp), "--out", "rep", "--projection", "pca",
                         "--map-items", "10", cwd=tmp_path)  # fmt: skip
    assert report.returncode == 0, report.stderr
    data = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert data["report"]["protocols"] == ["full-ranking"]
    assert "beyond" not in data  # no beyond-accuracy section
    assert {(r["model"], r["protocol"]) for r in data["results"]} == {
        ("popularity", "full-ranking"),
        ("baseline", "full-ranking"),
    }
    page = (tmp_path / "rep" / "index.html").read_text(encoding="utf-8")
    assert ">AUC<" in page and 'href="#beyond"' not in page

    compared = run_process("compare", "--config", str(exp), "--out", "runs", "--json", cwd=tmp_path)
    assert compared.returncode == 0, compared.stderr
    rows = json.loads(compared.stdout)
    got = {(r["model"], r["protocol"]): r for r in data["results"]}
    assert set(got) == {(r["model"], r["protocol"]) for r in rows}
    for row in rows:
        mine = got[(row["model"], row["protocol"])]
        assert 0 < mine["auc"] < 1 and mine["auc"] == pytest.approx(row["auc"], rel=1e-12), row["model"]
        assert mine["ndcg@10"] == pytest.approx(row["ndcg@10"], rel=1e-12, abs=1e-12), row["model"]
        assert not [m for m in mine if is_beyond(m)], sorted(mine)  # beyond = false: none measured


def test_report_config_refuses_what_it_cannot_draw_in_one_line(movielens_dir: Path, tmp_path: Path) -> None:
    """A re-ranker, a protocol outside the report's table: one line each, naming the file, the line and the
    key, and what to run instead; no folder is written."""
    cases = [
        (
            'rerank = "mmr:0.3"',
            "line 1: rerank: the report's curves, beyond-accuracy lists and maps rank by each model's own "
            "scores; remove rerank to report on them, or run compare --config {exp} for the mmr:0.3 figures",
        ),
        (
            'k = 5\nprotocols = ["full-ranking", "sampled"]',
            "line 2: protocols: the report's model table is on rating, full-ranking and test-candidates; "
            "remove sampled to report on the rest, or run compare --config {exp} for the sampled figures",
        ),
    ]
    for top, words in cases:
        exp = _experiment(tmp_path, movielens_dir, top)
        line = one_error_line(run_process("report", "--config", str(exp), "--out", "rep", cwd=tmp_path))
        assert line == f"{exp}, " + words.format(exp=exp), line
    assert not (tmp_path / "rep").exists()


@pytest.fixture(scope="module")
def rating_and_stopping(movielens_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One report of a file whose first lines are ``protocols = ["rating"]`` and ``early_stopping = "ndcg"``,
    read by the two tests below (each of the notes names its own line; popularity and baseline cannot stop,
    so the stopping setting changes no row): the folder and the file. It was two reports, one a key each.
    ``beyond = false`` (line 3): neither test reads the beyond-accuracy section, whose six charts were ~2
    CPU-s of the report."""
    folder = tmp_path_factory.mktemp("rating-and-stopping")
    exp = _experiment(
        folder, movielens_dir, 'protocols = ["rating"]\nearly_stopping = "ndcg"\nbeyond = false'
    )
    report = run_process("report", "--config", str(exp), "--out", "rep", "--projection", "pca",
                         "--map-items", "10", cwd=folder)  # fmt: skip
    assert report.returncode == 0, report.stderr
    (folder / "stderr.txt").write_text(report.stderr, encoding="utf-8")
    return folder, exp


@pytest.mark.slow
@pytest.mark.xdist_group("report_config_rating_and_stopping")
def test_report_config_adds_full_ranking_to_rating_alone_and_says_so(
    rating_and_stopping: tuple[Path, Path],
) -> None:
    """tune's best.toml of a rating model says ``protocols = ["rating"]``: the report draws its rating rows
    and adds full-ranking, which its curves, charts and maps need, in a note naming the file's line."""
    folder, exp = rating_and_stopping
    stderr = (folder / "stderr.txt").read_text(encoding="utf-8")
    note = (
        f"note: {exp}, line 1: protocols: the report adds full-ranking to rating: its curves, charts and maps "
        "rank every movie"
    )
    assert note in stderr.splitlines(), stderr
    data = json.loads((folder / "rep" / "results.json").read_text())
    assert data["report"]["protocols"] == ["rating", "full-ranking"]
    assert {r["protocol"] for r in data["results"]} == {"rating", "full-ranking"}  # no test-candidates rows


@pytest.mark.slow
@pytest.mark.xdist_group("report_config_rating_and_stopping")
def test_report_config_says_an_early_stopping_metric_is_read_at_10(
    rating_and_stopping: tuple[Path, Path],
) -> None:
    """``early_stopping = "ndcg"`` stops the report's models on ndcg@10, as compare --config does; the report
    said nothing of the cut-off it took, where compare (and ``--early-stopping ndcg``) now say it."""
    folder, exp = rating_and_stopping
    err = " ".join((folder / "stderr.txt").read_text(encoding="utf-8").split())
    assert (
        f'note: {exp}, line 2: early_stopping = "ndcg" is read as ndcg@10, the top 10 of each list' in err
    ), err


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, str]:
    """datagen's planted MovieLens folder (ml-100k's u.user: demographics tell who likes what), an experiment
    file with ``user_features = "demographics"``, popularity and segment-popularity, and ``report --config``
    of it run once in the working folder: (working folder, data folder, file, the report's stdout). The two
    tests below ran the same report each. ``beyond = false``: neither reads the beyond-accuracy section (~2
    CPU-s of the report's charts), and compare --config of the file measures none without it either."""
    from datagen import planted_movielens_folder

    work = tmp_path_factory.mktemp("planted-report")
    folder = planted_movielens_folder(work / "planted")
    exp = work / "exp.toml"
    exp.write_text(
        f'seed = 3\nuser_features = "demographics"\nbeyond = false\n\n[dataset]\nname = "{folder}"\n\n'
        '[[models]]\nname = "popularity"\n\n[[models]]\nname = "segment-popularity"\n',
        encoding="utf-8",
    )
    report = run_process("report", "--config", str(exp), "--out", "rep", "--projection", "pca",
                         "--map-items", "10", cwd=work)  # fmt: skip
    assert report.returncode == 0, report.stderr
    return work, folder, exp, report.stdout


@pytest.mark.slow
@pytest.mark.xdist_group("report_config_planted")
def test_report_config_fits_with_the_files_user_features_says_so_and_writes_them_into_best_toml(
    planted: tuple[Path, Path, Path, str],
) -> None:
    """``user_features = "demographics"`` in the file reached the report's fits (abc579c), but nothing on the
    page said so, and the report's best.toml left them out: segment-popularity, which needs them, won, and
    ``compare --config best.toml`` then failed ('segment-popularity needs user features'); warp would have
    trained without them. The page's header and results.json now name them, and best.toml writes them for a
    model that learns from them. Rows as compare --config's on the same file (neither model draws training
    curves). The data: datagen's planted MovieLens folder with ml-100k's u.user, on which demographics tell
    who likes what (the ``planted`` report)."""
    tmp_path, _folder, exp, _stdout = planted
    page = (tmp_path / "rep" / "index.html").read_text(encoding="utf-8")
    header = page[page.index('<header class="top">') : page.index("</header>")]
    assert '<span class="nb">user features <b>demographics</b></span>' in header, header
    data = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert data["report"]["user_features"] == "demographics"
    got = {r["model"]: r["ndcg@10"] for r in data["results"] if r["protocol"] == "full-ranking"}
    assert got["segment-popularity"] > 2 * got["popularity"]  # the demographics did the ranking

    compared = run_process("compare", "--config", str(exp), "--json", cwd=tmp_path)
    assert compared.returncode == 0, compared.stderr
    rows = {r["model"]: r["ndcg@10"] for r in json.loads(compared.stdout) if r["protocol"] == "full-ranking"}
    assert rows == pytest.approx(got, rel=1e-12)
    best = (tmp_path / "rep" / "best.toml").read_text()
    assert 'user_features = "demographics"' in best and 'name = "segment-popularity"' in best, best
    again = run_process("compare", "--config", "rep/best.toml", "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    (row,) = [r for r in json.loads(again.stdout) if r["protocol"] == "full-ranking"]
    assert row["ndcg@10"] == pytest.approx(got["segment-popularity"], rel=1e-12)


@pytest.mark.xdist_group("report_config_planted")
def test_compare_and_report_captions_name_the_user_features_a_model_learned_from(
    planted: tuple[Path, Path, Path, str],
) -> None:
    """The caption compare and report print above their tables named the data, split, K, relevance and seed,
    and no user features: a row's label names its item features (``warp+genres``), but segment-popularity's
    row, ranked by demographics, read as if it learned from ratings alone (the report's page said so since
    6c0e280; the terminal did not). Now the caption says 'user features demographics' where a model learned
    from them, from the option and from an experiment file alike; with only models that ignore them it says
    nothing of them (the note 'popularity ignores user features' does). The report's caption is the
    ``planted`` fixture's run of the same file (this test ran that report itself before)."""
    tmp_path, folder, exp, report_stdout = planted
    tail = " · K=10 · relevance ≥ 4 · user features demographics · seed 3"

    def first_line(*args: str) -> str:
        done = run_process(*args, cwd=tmp_path)  # 200 columns: the caption on one line
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()[0]

    data = ["--dataset", str(folder), "--user-features", "demographics", "--seed", "3"]
    line = first_line(
        "compare", *data, "--models", "popularity,segment-popularity", "--protocols", "full-ranking"
    )
    assert line.startswith("planted (sha256 ") and line.endswith(tail), line
    line = first_line("compare", *data, "--models", "popularity", "--protocols", "full-ranking")
    assert line.endswith(" · K=10 · relevance ≥ 4 · seed 3"), line  # no model learned from them
    assert first_line("compare", "--config", str(exp)).endswith(tail)
    report = report_stdout.splitlines()[
        0
    ]  # report --config exp.toml --out rep --projection pca --map-items 10
    assert report.startswith("planted (sha256 ") and report.endswith(tail), report
