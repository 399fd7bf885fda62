"""The whole ``movierec report`` on a tiny MovieLens folder: files, numbers equal to compare(), bad input."""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from reporthelp import FAMOUS, SMALL_PARAMS, make_movielens
from typer.testing import CliRunner, Result

from movierec.cli import app
from movierec.datasets import load
from movierec.epoch_validation import EpochValidator
from movierec.errors import ConfigError
from movierec.evaluation import compare
from movierec.viz.report import build_map, build_report, check_output, parse_models

#: one worker for the file (``make test``'s ``--dist loadgroup``): most of its tests read the session's
#: ``report_dir``, a whole report (~7 CPU-s) that each worker running one of them builds for itself, and the
#: suite spread them over two or three
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("viz-test-report")]

CHARTS = [
    "dataset_ratings",
    "dataset_ratings_narrow",
    "dataset_long_tail",
    "dataset_long_tail_narrow",
    "dataset_time",
    "dataset_time_narrow",
    "dataset_genres",
    "dataset_genres_narrow",
    "rmse",
    "rmse_narrow",
    "ranking",
    "ranking_narrow",
    "per_user_ndcg",
    "per_user_ndcg_narrow",
    "metric_vs_k",
    "metric_vs_k_narrow",
    "training_curves",
    "training_curves_narrow",
    "beyond_tradeoff",
    "beyond_tradeoff_narrow",
    "popularity_bias",
    "popularity_bias_narrow",
    "ndcg_by_group",
    "ndcg_by_group_narrow",
]


def _params() -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for p in SMALL_PARAMS:
        key, value = p.split("=")
        model, name = key.rsplit(".", 1)
        out.setdefault(model, {})[name] = int(value)
    return out


def test_report_writes_every_file(report_dir: Path) -> None:
    for name in ["index.html", "results.json", "results.csv", "embeddings.csv"]:
        assert (report_dir / name).stat().st_size > 0, name
    for chart in CHARTS:
        png = report_dir / "charts" / f"{chart}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", chart
        assert png.read_bytes()[25] == 3, chart  # colour type 3: a palette PNG (the page inlines every chart)
        with Image.open(png) as im:
            assert len(im.getcolors(256) or range(257)) <= 64, chart  # charts.PNG_COLOURS
    data = json.loads((report_dir / "results.json").read_text())
    assert sorted(data["report"]["files"]) == sorted(
        [f"charts/{c}.png" for c in CHARTS]
        + ["index.html", "results.json", "results.csv", "embeddings.csv", "best.toml"]
    )
    assert set(data["report"]["timings"]) == {
        "load",
        "dataset",
        "train_evaluate",
        "curves",
        "charts",
        "beyond",
        "embeddings",
        "write",
    }
    assert [row["model"] for row in data["table"]] == ["svd", "bpr", "ease", "warp+genres+tags"]
    assert len(data["curves"]["k"]) == 50 and len(data["curves"]["ease"]["ndcg"]) == 50
    emb = pd.read_csv(report_dir / "embeddings.csv")
    assert list(emb.columns[:6]) == ["model", "movieId", "title", "x", "y", "genre"]
    assert set(emb["model"]) == {"svd", "bpr", "warp+genres+tags"}
    assert "Toy Story (1995)" in set(emb["title"])
    csv = pd.read_csv(report_dir / "results.csv")
    assert {"rating", "full-ranking", "test-candidates"} == set(csv["protocol"])


def test_results_equal_compare_for_the_same_seed(report_dir: Path, movielens_dir: Path) -> None:
    data = json.loads((report_dir / "results.json").read_text())
    ds = load(movielens_dir)
    p = _params()
    protocols = ("rating", "full-ranking", "test-candidates")
    plain = compare(
        ds,
        [("svd", p["svd"]), ("bpr", p["bpr"]), ("ease", {})],
        split="ratings-holdout",
        protocols=protocols,
        k=10,
        seed=7,
        monitor=EpochValidator(k=10, seed=7),  # the report's validation slice (its training curves)
    )
    hybrid = compare(
        ds,
        [("warp", p["warp+genres+tags"])],
        split="ratings-holdout",
        protocols=protocols,
        k=10,
        seed=7,
        item_features="genres,tags",
        monitor=EpochValidator(k=10, seed=7),
    )
    expected = {(r.label, r.protocol): r for r in plain.rows}
    expected.update({("warp+genres+tags", r.protocol): r for r in hybrid.rows})
    got = {(r["model"], r["protocol"]): r for r in data["results"]}
    assert set(got) == set(expected)
    for key, row in expected.items():
        for metric, value in row.metrics.items():
            assert got[key][metric] == pytest.approx(value, rel=1e-9, abs=1e-12), (key, metric)
        for metric, (lo, hi) in row.intervals.items():
            assert got[key]["intervals"][metric] == pytest.approx([lo, hi]), (key, metric)
    # the table shows the same numbers, winners marked by the right direction
    table = {r["model"]: r for r in data["table"]}
    assert table["svd"]["values"]["rmse"] == pytest.approx(expected[("svd", "rating")].metrics["rmse"])
    assert table["ease"]["values"]["tc:precision@10"] == pytest.approx(
        expected[("ease", "test-candidates")].metrics["precision@10"]
    )
    best = max(table.values(), key=lambda r: r["values"]["ndcg@10"])
    assert "ndcg@10" in best["winner_of"]
    # Surprise's FCP sits beside RMSE and MAE: in the table and as a column of the page's rating group
    assert table["svd"]["values"]["fcp"] == pytest.approx(expected[("svd", "rating")].metrics["fcp"])
    html = (report_dir / "index.html").read_text()
    assert '<th class="group sep" colspan="3">rating prediction</th>' in html
    assert (
        '<th class="sep">RMSE ↓</th><th class="">MAE ↓</th><th class="">FCP</th><th class="sep">P@10</th>'
        in html
    )


def test_training_chart_has_validation_curves(report_dir: Path) -> None:
    """svd, bpr and warp carry a validation series beside their training loss (issue 18)."""
    data = json.loads((report_dir / "results.json").read_text())
    training = data["training"]
    assert set(training) == {"svd", "bpr", "warp+genres+tags"}  # ease has no epochs
    for model, key in [("svd", "val_rmse"), ("bpr", "val_ndcg@10"), ("warp+genres+tags", "val_ndcg@10")]:
        rows = training[model]
        assert [r["epoch"] for r in rows] == [1, 2, 3, 4], model
        assert all("loss" in r and r[key] is not None and 0 <= r[key] <= 5 for r in rows), (model, rows)
    assert any(n.startswith("validation slice:") and "svd, bpr, warp+genres+tags" in n for n in data["notes"])
    assert "on a validation slice taken out of the training data" in (report_dir / "index.html").read_text()


def test_model_without_embeddings_gets_a_note_not_a_map(report_dir: Path) -> None:
    data = json.loads((report_dir / "results.json").read_text())
    assert "note" in data["maps"]["ease"] and "no embedding map" in data["maps"]["ease"]["note"]
    assert data["maps"]["svd"]["n_items"] > 0
    html = (report_dir / "index.html").read_text()
    assert (
        "ease learns item-to-item weights, not item vectors, so it has no embedding map; "
        "&#39;movierec similar TITLE --model ease --dataset " in html
    ) and "`" not in data["maps"]["ease"]["note"]
    assert not (report_dir / "charts" / "map_ease.png").exists()


def test_the_notes_similar_command_runs_as_written(report_dir: Path, movielens_dir: Path) -> None:
    """The note under the maps told a reader to run 'movierec similar --model ease', which is refused ('give
    exactly one movie: a TITLE …'): the command names its TITLE now, and with a title of the report's data
    in its place it lists ease's nearest movies. On a --dataset other than ml-latest-small it carries that
    --dataset (it read 'movierec similar TITLE --model ease', which lists the bundled data's movies)."""
    import shlex

    note = json.loads((report_dir / "results.json").read_text())["maps"]["ease"]["note"]
    command = re.search(r"'(movierec similar [^']*)'", note)
    assert command, note
    title = json.loads((report_dir / "results.json").read_text())["similar"][0]["title"]
    args = [title if a == "TITLE" else a for a in shlex.split(command.group(1))[1:]]
    assert title in args, (command.group(1), args)  # TITLE is the one thing to fill in
    assert args[-2:] == ["--dataset", str(movielens_dir)], args  # the report's data, not the default
    result = CliRunner().invoke(app, [*args, "-k", "3"])
    assert result.exit_code == 0, (args, result.output)
    assert "similarity" in result.output, result.output


def test_models_skipped_for_one_reason_share_one_note(report_dir: Path) -> None:
    """The report trains warp+genres+tags apart from the models without item features, and each group
    grouped only its own skips: 'rating skipped for bpr, ease: implicit models (no rating predictions), so no
    RMSE/MAE' was followed by 'rating skipped for warp+genres+tags: warp is an implicit model (…)'. One
    note names the three now, on the page as in results.json."""
    notes = json.loads((report_dir / "results.json").read_text())["notes"]
    skipped = [n for n in notes if n.startswith("rating skipped for ")]
    assert skipped == [
        "rating skipped for bpr, ease, warp+genres+tags: implicit models (no rating predictions), so no RMSE/MAE"
    ], notes
    assert skipped[0] in (report_dir / "index.html").read_text()


def test_html_is_self_contained(report_dir: Path) -> None:
    html = (report_dir / "index.html").read_text()
    assert 'src="http' not in html and "cdn.plot.ly" not in html.split("</script>")[-1]
    assert html.count("data:image/png;base64,") >= len(CHARTS)
    assert 'id="plotly-gz"' in html and "Plotly.newPlot" in html  # plotly.js inlined (gzipped)
    assert not list((report_dir / "charts").glob("map_*.png"))  # PNG maps only with --png-maps
    assert "own nearest neighbours" in html and "Toy Story (1995)" in html


def test_similar_movies_lead_by_lift_and_models_own_neighbours_are_labelled(report_dir: Path) -> None:
    """The page led with svd's own nearest neighbours of Toy Story, titled as the model's 'similar' (on
    ml-latest-small: The Incredibles, Die Hard, Fight Club). It now opens a 'Similar movies' section with
    the movies liked together by lift (``movierec similar``'s list), before the maps, and each model's own
    table is labelled as how that model groups movies."""
    data = json.loads((report_dir / "results.json").read_text())
    similar = data["similar"]
    assert similar and similar[0]["title"] in FAMOUS  # a famous title without a listable neighbour gives way
    for q in similar:
        sims = [nb["similarity"] for nb in q["neighbours"]]
        assert sims == sorted(sims, reverse=True) and all(s > 0 for s in sims), q
        assert q["title"] not in {nb["title"] for nb in q["neighbours"]}
    assert set(data["neighbours"]) >= {"svd", "bpr"}  # the models' own lists are still there
    html = (report_dir / "index.html").read_text()
    assert html.index('id="similar"') < html.index('id="maps"') and 'href="#similar"' in html
    table = html[html.index('id="similar-lift"') : html.index("</table>", html.index('id="similar-lift"'))]
    rows = re.findall(r'<td class="q">(.*?)</td>', table)
    assert rows == [q["title"] for q in similar]
    first = [nb["title"] for nb in similar[0]["neighbours"]]
    assert re.findall(r"<td>(.*?) <span", table)[: len(first)] == first
    assert "liked together (rated ≥ 4) more often than chance says" in html
    # the table is lift on the training part: the page called it the list `movierec similar` gives, which
    # reads every rating (ml-latest-small, Toy Story: Ghostbusters 5th here, not in similar's top 10)
    assert "they read every rating, not the training part, so their lists differ a little" in html
    assert "svd's own nearest neighbours, in its item space" in html and "how the model groups movies" in html
    assert "the model's own 'similar'" not in html


def test_same_report_again_is_allowed_a_different_one_is_refused(
    report_dir: Path, movielens_dir: Path
) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["report", "--dataset", str(movielens_dir), "--models", "svd", "--out", str(report_dir)]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError)
    said = (
        result.exception.in_cli()
    )  # the terminal's words only (it said "(force=True in Python, --force in the CLI)")
    assert (
        said.startswith(f"--out {report_dir}: already holds a different report (")
        and "force=True" not in said
    )
    assert said.endswith("; pass --force to replace it or choose another folder"), said
    assert (report_dir / "results.json").is_file()  # untouched


def test_force_replaces_a_different_report(tmp_path: Path, movielens_dir: Path, report_dir: Path) -> None:
    # the old report: a copy of the session's (svd, bpr, ease, warp+genres+tags), not one built here (a
    # whole report's ~5 CPU-s); its RMSE chart is a file the new one (bpr alone, implicit) does not write
    out = Path(shutil.copytree(report_dir, tmp_path / "r"))
    assert (out / "charts" / "rmse.png").is_file() and not (out / "charts" / "map_bpr.png").exists()
    ds = load(movielens_dir)
    specs2 = parse_models("bpr", {"bpr": {"epochs": 2, "no_components": 4}})
    with pytest.raises(ConfigError, match="different report"):
        build_report(ds, specs2, out, projection="pca", seed=2, show_progress=False)
    # beyond=False: what is checked is which files the replacement leaves, not its beyond-accuracy section
    # (six charts, ~2 CPU-s); the old report's beyond charts are among the files it removes
    rep = build_report(
        ds,
        specs2,
        out,
        projection="pca",
        seed=2,
        force=True,
        show_progress=False,
        png_maps=True,
        beyond=False,
    )
    assert not (out / "charts" / "rmse.png").exists()  # the old report's files are gone
    assert not (out / "charts" / "beyond_tradeoff.png").exists()
    assert (out / "charts" / "map_bpr.png").is_file()
    assert json.loads((out / "results.json").read_text())["report"]["fingerprint"]["models"] == ["bpr"]
    assert rep.table[0]["model"] == "bpr"


@pytest.fixture(scope="module")
def no_titles_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Result]:
    """``movierec report`` through the CLI, piped (CliRunner), of svd (2 epochs) on a MovieLens folder of
    ratings.csv alone (no titles, genres or tags), default seed: (the data folder, the report folder, the
    run's result). Read by the two tests below, which ran a whole svd report each (~5 CPU-s apiece): the
    piped progress lines, which do not depend on the data having titles, and the ids standing for them."""
    work = tmp_path_factory.mktemp("no-titles-report")
    folder = make_movielens(work / "no-titles", titles=False)
    out = work / "r"
    result = CliRunner().invoke(
        app,
        ["report", "--dataset", str(folder), "--models", "svd", "--params", "svd.n_epochs=2",
         "--params", "svd.n_factors=4", "--projection", "pca", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, (result.output, result.exception)
    return folder, out, result


def test_dataset_without_titles_uses_ids(no_titles_run: tuple[Path, Path, Result]) -> None:
    folder, out, _ = no_titles_run
    ds = load(folder)
    assert ds.catalog is None
    emb = pd.read_csv(out / "embeddings.csv")
    # titled as every door names a movie of data without titles: its id column's name and id (id_title)
    assert (emb["title"] == "movieId " + emb["movieId"].astype(str)).all()
    assert set(emb["genre"]) == {"(none)"}
    notes = json.loads((out / "results.json").read_text())["notes"]  # the report's notes (build_report's)
    assert any("no movie titles" in n for n in notes)
    assert (out / "index.html").is_file()


def test_the_similar_grids_of_data_without_titles_show_the_raw_ids(tmp_path: Path) -> None:
    """A --ratings file with IMDb-like ids and no --movies file: the similar grid and the model's own
    neighbours read 'item tt0000011' in every cell under a 'movie' header, an id dressed as a title. They
    show the movieId as it is, under 'movieId', as ``movierec similar`` lists such data; so does the map's
    hover, which read '<b>item tt0000011</b>' over an empty year and genres (embeddings.csv's title column
    names each as every door does, 'movieId tt0000011': test_dataset_without_titles_uses_ids pins it)."""
    from reporthelp import make_ratings

    frame = make_ratings(30, 24, 0.4, seed=5)
    frame["movieId"] = [f"tt{m:07d}" for m in frame["movieId"]]
    frame.to_csv(tmp_path / "mine.csv", index=False)
    ds = load(tmp_path / "mine.csv")
    assert not ds.has_titles
    specs = parse_models("svd", {"svd": {"n_epochs": 2, "n_factors": 4}})
    # beyond=False: the grids and the map are the similar and maps sections; the beyond-accuracy section's six
    # charts (~2 CPU-s) are not read here
    build_report(ds, specs, tmp_path / "out", projection="pca", seed=3, show_progress=False, beyond=False)
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    html = (tmp_path / "out" / "index.html").read_text()
    assert data["similar"] and data["neighbours"]["svd"], "both grids have rows"
    grids = re.findall(r'<table class="nn"[^>]*>(.*?)</table>', html, re.S)
    assert len(grids) == 2  # liked together (lift), then svd's own
    for grid, rows in zip(grids, (data["similar"], data["neighbours"]["svd"]), strict=True):
        assert "<th>movieId</th>" in grid and "item " not in grid and "movieId tt" not in grid
        cells = re.findall(r'<td class="q">(.*?)</td>', grid)
        assert cells == [q["movieId"] for q in rows] and all(re.fullmatch(r"tt\d{7}", c) for c in cells)
        first = [nb["movieId"] for nb in rows[0]["neighbours"]]
        assert re.findall(r"<td>(tt\d{7}) <span", grid)[: len(first)] == first
    assert "The number beside an id is its lift" in html
    (packed,) = re.findall(r'<script type="application/octet-stream" data-map="[^"]+">([^<]+)</script>', html)
    traces = json.loads(gzip.decompress(base64.b64decode(packed)))["data"]
    shown = [row[0] for trace in traces for row in trace["customdata"]]
    assert shown and all(re.fullmatch(r"tt\d{7}", name) for name in shown), shown[:3]
    assert {t["hovertemplate"] for t in traces} == {
        "<b>movieId %{customdata[0]}</b><br>ratings: %{customdata[3]}<extra></extra>"
    }


def test_embed_command_writes_the_map_alone(tmp_path: Path, movielens_dir: Path) -> None:
    out = tmp_path / "emb"
    result = CliRunner().invoke(
        app,
        [
            "embed",
            "--model",
            "bpr",
            "-p",
            "epochs=3",
            "-p",
            "no_components=8",
            "--projection",
            "pca",
            "--sample",
            "25",
            "--out",
            str(out),
            "--dataset",
            str(movielens_dir),
            "--seed",
            "5",
        ],
    )
    assert result.exit_code == 0, (result.output, result.exception)
    for name in ["map.html", "map.png", "embeddings.csv", "neighbours.json", "results.json"]:
        assert (out / name).stat().st_size > 0
    emb = pd.read_csv(out / "embeddings.csv")
    assert len(emb) == 25 and list(emb.columns) == ["movieId", "title", "x", "y", "genre"]
    html = (out / "map.html").read_text()
    assert 'src="http' not in html
    neighbours = json.loads((out / "neighbours.json").read_text())
    # cosine shrunk by co-raters (as `movierec similar`): positive, best first; a famous title without a
    # positive co-rater on this tiny data gives its row to another movie, no row is empty
    assert len(neighbours) == 6 and all(0 < len(n["neighbours"]) <= 5 for n in neighbours)
    for n in neighbours:
        sims = [x["similarity"] for x in n["neighbours"]]
        assert sims == sorted(sims, reverse=True) and min(sims) > 0


def test_embed_refuses_a_model_without_vectors(tmp_path: Path, movielens_dir: Path) -> None:
    with pytest.raises(
        ConfigError, match="learns item-to-item weights, not item vectors, so there is no map"
    ):
        build_map(load(movielens_dir), "ease", tmp_path / "e", projection="pca", sample=None)
    assert not (tmp_path / "e").exists()


def test_unknown_model_and_projection_fail_before_training(tmp_path: Path, movielens_dir: Path) -> None:
    with pytest.raises(ConfigError, match="unknown model"):
        parse_models("svd,nosuchmodel")
    with pytest.raises(ConfigError, match="projection"):
        build_report(
            load(movielens_dir), parse_models("svd"), tmp_path / "x", projection="mds", show_progress=False
        )
    assert not (tmp_path / "x").exists()
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--dataset",
            str(movielens_dir),
            "--models",
            "svd",
            "--params",
            "svd.bogus=1",
            "--out",
            str(tmp_path / "y"),
        ],
    )
    assert isinstance(result.exception, ConfigError) and "bogus" in str(result.exception)


def test_unwritable_output_folder_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="cannot create the folder"):
        check_output(blocker / "report", {"dataset": "x"})
    with pytest.raises(ConfigError, match="is a file"):
        check_output(blocker, {"dataset": "x"})
    if os.geteuid() != 0:  # root writes through permission bits, so this half needs a normal user
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            with pytest.raises(ConfigError, match="not writable"):
                check_output(locked, {"dataset": "x"})
        finally:
            locked.chmod(0o700)


def test_folder_with_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"\(notes.txt\) and no movierec report; nothing was changed"):
        check_output(tmp_path, {"dataset": "x"})
    with pytest.raises(ConfigError, match=r"\(notes.txt\), which force=True never replaces; nothing was"):
        check_output(tmp_path, {"dataset": "x"}, force=True)  # --force replaces a report, nothing else
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_refusal_of_the_folder_names_each_doors_setting(tmp_path: Path) -> None:
    """``report --out FILE`` said "FILE (out= in Python, --out in the CLI): is a file, not a folder" in the
    terminal, and a folder of someone's files "force replaces only a movierec report (--force)" to whoever had
    typed --force: each door now names its own setting, and the folder's refusal names a file that is there
    (a file before a folder) and, with force, why it does not apply."""
    file = tmp_path / "f.txt"
    file.write_text("mine")
    with pytest.raises(ConfigError) as refused:
        check_output(file, {"dataset": "x"})
    assert str(refused.value) == f"out='{file}': is a file, not a folder"
    assert refused.value.in_cli() == f"--out {file}: is a file, not a folder"
    (tmp_path / "a-folder").mkdir()
    with pytest.raises(ConfigError) as refused:
        check_output(tmp_path, {"dataset": "x"}, force=True)
    assert refused.value.in_cli() == (
        f"--out {tmp_path}: holds files movierec did not write (f.txt, …), which --force never replaces; "
        "nothing was changed — choose a new or empty folder"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-folder", "f.txt"]


def test_parse_models_features_and_params() -> None:
    specs = parse_models(
        "svd, warp+genres+tags",
        {"svd": {"n_factors": 3}, "warp+genres+tags": {"epochs": 2}, "warp": {"no_components": 5}},
    )
    assert [(s.name, s.label, s.features) for s in specs] == [
        ("svd", "svd", None),
        ("warp", "warp+genres+tags", "genres,tags"),
    ]
    assert specs[1].params == {"no_components": 5, "epochs": 2}
    with pytest.raises(ConfigError, match="unknown item feature"):
        parse_models("warp+colour")
    with pytest.raises(ConfigError, match="twice"):
        parse_models("svd,svd")


def test_reading_names_winners_and_noise() -> None:
    from movierec.viz.report import reading

    table = [
        {
            "model": "a",
            "kind": "explicit",
            "values": {"rmse": 0.9, "ndcg@10": 0.05},
            "intervals": {"ndcg@10": [0.04, 0.06]},
        },
        {
            "model": "b",
            "kind": "implicit",
            "values": {"ndcg@10": 0.30},
            "intervals": {"ndcg@10": [0.28, 0.32]},
        },
        {
            "model": "c",
            "kind": "implicit",
            "values": {"ndcg@10": 0.29},
            "intervals": {"ndcg@10": [0.27, 0.31]},
        },
    ]
    text = reading(table, 10)
    assert "a predicts held-out ratings" in text
    assert "b ranks best" in text and "within noise" in text
    table[2]["values"]["ndcg@10"] = 0.1
    table[2]["intervals"]["ndcg@10"] = [0.08, 0.12]
    assert "lead is clear" in reading(table, 10)
    assert np.isfinite(0.0)
    # popularity in the table: the reading names every model ranking below it
    table.append(
        {
            "model": "popularity",
            "kind": "implicit",
            "values": {"ndcg@10": 0.12},
            "intervals": {"ndcg@10": [0.11, 0.13]},
        }
    )
    text = reading(table, 10)
    assert "Below popularity (NDCG@10 0.120): c, a;" in text
    # popularity here counts ratings ≥ 4: the most liked, not the most rated (Forrest Gump has more ratings,
    # Shawshank more of 4+)
    assert "the most popular movies (the most liked)" in text and "most-rated" not in text


def test_default_report_models_include_popularity() -> None:
    from movierec.viz.report import DEFAULT_MODELS

    assert DEFAULT_MODELS.split(",")[0] == "popularity"


def test_sequence_models_add_a_leave_last_out_section(
    tmp_path: Path, movielens_dir: Path, report_dir: Path
) -> None:
    """Asking for markov adds a section numbered 3 (after the model table): every asked model under leave-last-out, numbers equal to compare()."""
    ds = load(movielens_dir)
    # beyond=False: the beyond-accuracy section (six charts, ~3 CPU-s here) is not what is checked; the
    # numbering still runs past an optional section (the sequence one) to the charts, similar movies and maps
    rep = build_report(
        ds,
        parse_models("popularity,markov"),
        tmp_path / "seq",
        projection="pca",
        seed=4,
        show_progress=False,
        beyond=False,
    )
    payload = json.loads((tmp_path / "seq" / "results.json").read_text())
    seq = payload["sequence"]
    assert seq["protocol"] == "leave-last-out" and "leave-last-out" in seq["split"]
    assert [r["model"] for r in seq["rows"]] == ["popularity", "markov"]
    direct = compare(ds, ["popularity", "markov"], protocols=["leave-last-out"], seed=4)
    for row in seq["rows"]:
        want = direct.row(row["model"], "leave-last-out")
        assert row["values"]["ndcg@10"] == pytest.approx(want.metrics["ndcg@10"])
        lo, hi = row["intervals"]["ndcg@10"]
        assert lo <= row["values"]["ndcg@10"] <= hi
    assert [r["sequence"] for r in seq["rows"]] == [False, True]
    html = (tmp_path / "seq" / "index.html").read_text()
    assert 'id="sequence"' in html and "leave-last-out" in html
    # sections are numbered 1, 2, 3 … in page order, the optional ones included
    numbers = re.findall(r"<h2>(\d+) · ", html)
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)] and len(numbers) >= 5
    assert re.search(r"<h2>3 · Sequence-aware", html)
    assert "sequence" in rep.timings
    # without a sequence model there is no such section: the session's report (svd, bpr, ease, warp), not a
    # popularity report built here for it (a whole report's ~4 CPU-s)
    assert "sequence" not in json.loads((report_dir / "results.json").read_text())
    page = (report_dir / "index.html").read_text()
    assert 'id="sequence"' not in page
    # and its numbering runs past the beyond-accuracy section, which the report above leaves out
    numbers = re.findall(r"<h2>(\d+) · ", page)
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)] and len(numbers) >= 5
    assert re.search(r"<h2>\d+ · Beyond accuracy", page)


def test_cli_report_prints_plain_progress_lines_in_a_pipe(no_titles_run: tuple[Path, Path, Result]) -> None:
    """Piped or logged, ``movierec report`` printed nothing until its tables (rich draws bars only on a
    terminal): it now prints compare's plain stamped lines, one as each step starts and ends and the
    models' lines between, and no bar's control characters. Above its tables it prints compare's
    provenance line and why its figures differ a little from compare's on the same split and seed (its
    models train without a validation slice for their curves): the terminal said neither. The run is
    :func:`no_titles_run`'s (svd on data without titles: the lines are the same with them)."""
    _, _, result = no_titles_run
    text = " ".join(result.output.split())
    assert "· split: ratings-holdout (0.2 of ratings" in text and "seed 42" in text, text
    assert "note: every model trained without " in text, text
    assert "so these figures differ a little from compare's on the same split" in text, text
    err = result.stderr
    assert "\r" not in err and "\x1b[" not in err, repr(err)
    stamped = [line for line in err.splitlines() if re.match(r"\[ *\d+\.\ds\] ", line)]
    texts = [line.split("] ", 1)[1] for line in stamped]
    steps = ["dataset section", "training and evaluating", "curves", "charts", "beyond-accuracy section"]
    steps += ["embedding maps", "writing the report"]
    expected = [t for s in steps for t in (f"{s} …", f"{s}: done in")]
    seen = [t for t in texts if any(t.startswith(e) for e in expected)]
    assert len(seen) == len(expected), texts
    assert all(t.startswith(e) for t, e in zip(seen, expected, strict=True)), texts
    models = [i for i, t in enumerate(texts) if t.startswith("svd · ")]
    assert models, texts
    ends = [i for i, t in enumerate(texts) if t.startswith("training and evaluating: done")]
    assert texts.index("training and evaluating …") < models[0] <= models[-1] < ends[0], texts
    stamps = [float(line[1:].split("s]", 1)[0]) for line in stamped]
    assert stamps == sorted(stamps), stamped  # one clock for the steps and the models


def _next_command(out: Path) -> str:
    """The report's 'next:' command, as the shell reads it, for a report in ``out``: its lines joined where
    they end in a backslash (at 80 columns a long checkout path puts the install on its own line, 'pip
    install … \\' then '&& …'), a continuation and its indent read as one space."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from movierec.viz.report import print_summary

    report = SimpleNamespace(
        reading="", timings={"train": 1.0}, out=out, best_config=out / "best.toml", best_label="ease"
    )
    text = io.StringIO()
    print_summary(Console(file=text, width=80), report, table=False)  # type: ignore[arg-type]
    joined = re.sub(r"\s*\\\n\s*", " ", text.getvalue())
    return next(line.strip() for line in joined.splitlines() if "movierec export" in line)


def test_the_next_step_installs_the_serve_extra_where_it_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """make demo installs the report extra, not serve: the report's 'next:' command failed at its serve
    step there. Where fastapi or uvicorn is missing it installs the extra first; where both are there it
    does not."""
    import sys

    from movierec.errors import install_hint

    def command() -> str:
        return _next_command(tmp_path)

    # the shell reaches this movierec (an activated venv): no 'source …/activate' first (the next test's)
    monkeypatch.setenv("PATH", f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    assert command().startswith("movierec export --config ")
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if not installed: find_spec says so
    assert command().startswith(f"{install_hint('serve')} && movierec export --config ")


def test_the_next_step_activates_the_venv_the_shell_does_not_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """make demo runs .venv/bin/movierec report from a shell with nothing activated; the 'next:' command's
    'pip install -e …[serve]' then ran the PATH's pip (pyenv's global Python here) and 'movierec export' was
    not found. Where the PATH does not reach this venv's movierec the command activates the venv first,
    with the activate script's path relative to the folder the report ran in."""
    import sys

    venv_bin = Path(sys.prefix) / "bin"
    if sys.prefix == sys.base_prefix or not (venv_bin / "activate").is_file():
        pytest.skip("the tests run outside a POSIX virtual environment")

    def command() -> str:
        return _next_command(tmp_path)

    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # make demo's shell: no venv on the PATH
    monkeypatch.chdir(Path(sys.prefix).parent)  # the checkout, where make demo runs
    first = command().split(" && ")[0]
    assert first == f"source {Path(sys.prefix).name}/bin/activate", command()
    assert "movierec export --config " in command()
    monkeypatch.chdir(tmp_path)  # elsewhere: the script's whole path
    assert command().split(" && ")[0] == f"source {venv_bin / 'activate'}", command()
    monkeypatch.setenv("PATH", f"{venv_bin}{os.pathsep}/usr/bin:/bin")  # activated: nothing to add
    assert not command().startswith("source "), command()


def test_the_pages_serve_box_activates_the_venv_the_shell_does_not_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The terminal's 'next:' activated make demo's venv first, the page's "Serve it" box did not: opened
    later in a fresh terminal, its 'movierec export' was not found. The box's block now starts with the same
    'source …/activate' where the PATH does not reach this movierec: relative to the working folder for a
    relative --out (the box says to run it from there), the whole path for an absolute one."""
    import sys
    from types import SimpleNamespace

    from movierec.viz.report import _serve_box

    venv_bin = Path(sys.prefix) / "bin"
    if sys.prefix == sys.base_prefix or not (venv_bin / "activate").is_file():
        pytest.skip("the tests run outside a POSIX virtual environment")

    def block(best: Path) -> list[str]:
        box = _serve_box(SimpleNamespace(best_config=best, best_label="ease"))  # type: ignore[arg-type]
        assert box is not None
        return [part.strip() for part in box["commands"].replace(" \\\n", " ").split("&&")]

    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # make demo's shell, and a fresh one: no venv on the PATH
    monkeypatch.chdir(Path(sys.prefix).parent)  # the checkout, where make demo runs
    relative = block(Path("reports/demo/best.toml"))
    assert relative[0] == f"source {Path(sys.prefix).name}/bin/activate", relative
    assert relative[1].startswith("movierec export --config reports/demo/best.toml"), relative
    absolute = block(tmp_path / "best.toml")
    assert absolute[0] == f"source {venv_bin / 'activate'}", absolute
    monkeypatch.setenv("PATH", f"{venv_bin}{os.pathsep}/usr/bin:/bin")  # activated: nothing to add
    assert block(Path("reports/demo/best.toml"))[0].startswith("movierec export "), block(Path("x.toml"))


def test_the_default_report_runs_on_a_ratings_file_alone(tmp_path: Path) -> None:
    """`movierec report --ratings my.csv` trained every default model and then stopped at warp+genres+tags:
    'dataset 'mine' has no movie metadata, so genres/year features are unavailable'. On data without a
    movies or tags file the default models drop the features the data lacks, and the report says so. With
    --params and no --models the default list was spelled out before the data loaded, and the same report
    stopped at warp+genres+tags again: the defaults are chosen for the data with --params too."""
    import movierec

    frame = movierec.load("ml-latest-small").to_frame()
    frame[frame["userId"] <= 60].to_csv(tmp_path / "mine.csv", index=False)
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--ratings",
            str(tmp_path / "mine.csv"),
            "--projection",
            "pca",
            "--map-items",
            "10",  # the check reads the table and the notes, not the maps: 10 movies each, not 1,500
            "--params",
            "svd.epochs=2",
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "r" / "results.json").read_text())
    assert "warp" in {r["model"] for r in data["table"]}
    assert data["report"]["fingerprint"]["params"]["svd"] == {"epochs": 2}
    assert (
        "warp+genres+tags trains as warp: the data has no genres or tags (no movies or tags file)"
        in data["notes"]
    )


def test_params_go_with_models_by_name_not_with_specs(tmp_path: Path) -> None:
    """build_report's params= apply to models given by name or to the defaults; with ModelSpecs (which carry
    their own params) it is one line before anything loads, not params silently dropped."""
    from movierec.viz.report import ModelSpec

    with pytest.raises(ConfigError, match=r"^params= goes with models given by name, or none: a ModelSpec"):
        build_report("no-such-dataset", [ModelSpec("svd")], tmp_path / "r", params={"svd": {"epochs": 2}})
    assert not (tmp_path / "r").exists()


def test_best_toml_says_the_report_row_trained_without_the_validation_slice(report_dir: Path) -> None:
    """With training curves every model trained without a small validation slice, so the report's best row
    reads a little lower than export's hold-out check of best.toml (ease on ml-latest-small: 0.311 against
    0.317, unexplained). best.toml says so, with the report's figure and the slice's size."""
    data = json.loads((report_dir / "results.json").read_text())
    (held,) = [n for n in data["notes"] if n.startswith("validation slice:")]
    count = held.split(" training interactions")[0].rsplit(" ", 1)[-1]
    best = (report_dir / "best.toml").read_text(encoding="utf-8")
    name = tomllib.loads(best)["models"][0]["name"]
    (row,) = [r for r in data["results"] if r["model"] == name and r["protocol"] == "full-ranking"]
    comments = " ".join(line[2:] for line in best.splitlines() if line.startswith("# "))
    assert (
        f"the report's row (NDCG@10 {row['ndcg@10']:.3f}) trained without the {count} ratings of its training "
        "curves' validation slice; compare --config and export's hold-out check train on the whole training "
        "part and read a little higher"
    ) in comments, best


def test_every_model_that_reads_sequences_adds_the_sequence_section() -> None:
    """``report --models popularity,ease,gru4rec`` drew no sequence section: gru4rec, in ``movierec models``'
    sequences group and trained on time-ordered histories, was missing from the report's list, so it was
    judged on the random hold-out only, and beside markov its row read 'reads order: no'. The list is every
    registered model whose tags say it trains on sequences."""
    from movierec.models.base import tags_of
    from movierec.models.registry import available, get_class
    from movierec.viz.report import SEQUENCE_MODELS

    readers = {n for n in available() if tags_of(get_class(n)).trains_on == "sequences"}
    assert "gru4rec" in readers
    assert set(SEQUENCE_MODELS) == readers


def test_a_steps_name_reads_as_words_in_the_summary_and_on_the_page(tmp_path: Path) -> None:
    """The timing line and the page's timing table named the report's new-users step "new + users" (each
    underscore of its key read as a join of two steps, which only ``train_evaluate`` is), as `movierec
    report --dataset ml-100k --user-features demographics` (docs/new-users.md) printed it."""
    import io
    from types import SimpleNamespace

    import jinja2
    from rich.console import Console

    from movierec.viz.report import print_summary, step_label

    timings = {"load": 0.1, "train_evaluate": 2.0, "new_users": 1.2, "write": 0.5}
    report = SimpleNamespace(reading="", timings=timings, out=tmp_path, best_config=None)
    text = io.StringIO()
    print_summary(Console(file=text, width=200), report, table=False)  # type: ignore[arg-type]
    assert "3.8 s in all: load 0.1 s, train + evaluate 2.0 s, new users 1.2 s, write 0.5 s" in text.getvalue()
    source = (Path(__file__).parents[2] / "src/movierec/viz/templates/report.html.j2").read_text()
    footer = re.search(r'<footer id="timing">.*?</footer>', source, flags=re.S)
    assert footer is not None
    env = jinja2.Environment()
    env.filters["step_label"] = step_label
    page = env.from_string(footer.group(0)).render(timings=timings, total_seconds=3.8, provenance={})
    assert "<td>new users</td>" in page and "<td>train + evaluate</td>" in page and "+ users" not in page


def test_the_next_command_fits_80_columns_with_the_default_report_folder() -> None:
    """``movierec report`` writes to reports/TIMESTAMP by default, and its "next:" export line was then 83
    columns ('  movierec export --config reports/20261206-220236/best.toml --out artifacts/ease \\'), broken
    mid-path by an 80-column terminal (docs/index.md's and docs/data.md's report commands, run as written).
    A line past the width puts its --out on the next; the shell still reads one command."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from movierec.viz.report import print_summary

    out = Path("reports/20261206-220236")
    report = SimpleNamespace(
        reading="", timings={"train": 1.0}, out=out, best_config=out / "best.toml", best_label="ease"
    )
    text = io.StringIO()
    print_summary(Console(file=text, width=80), report, table=False)  # type: ignore[arg-type]
    lines = text.getvalue().splitlines()
    next_at = next(i for i, line in enumerate(lines) if line.startswith("next: "))
    shown = lines[next_at + 1 :]
    assert all(len(line) <= 80 for line in shown), shown
    assert any(line.strip() == "--out artifacts/ease \\" for line in shown), shown
    joined = " ".join(re.sub(r"\s*\\\n\s*", " ", "\n".join(shown)).split())
    assert joined.endswith(
        "movierec export --config reports/20261206-220236/best.toml --out artifacts/ease "
        "&& movierec serve --artifact artifacts/ease"
    ), joined


def test_the_next_line_of_a_report_on_files_ends_no_line_in_a_space(tmp_path: Path) -> None:
    """docs/tuning.md's report on train.csv and test.csv printed 'next: serve ease, the best ranker here;
    export trains it on every file given ' at 80 columns, the line rich wrapped ending in a space."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from movierec.viz.report import print_summary

    report = SimpleNamespace(
        reading="",
        timings={"train": 1.0},
        out=tmp_path,
        best_config=tmp_path / "best.toml",
        best_label="ease",
        trains_on="every file given (train.csv + test.csv)",
    )
    text = io.StringIO()
    print_summary(Console(file=text, width=80), report, table=False)  # type: ignore[arg-type]
    lines = text.getvalue().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("next: "))
    said = lines[at : at + 2]
    assert not [line for line in said if line.endswith(" ")], said
    assert " ".join(said) == (
        "next: serve ease, the best ranker here; export trains it on every file given "
        "(train.csv + test.csv), all the data you gave:"
    )


def test_the_timing_line_breaks_between_steps_not_inside_one() -> None:
    """docs/data.md's report on a ratings file ended '118.4 s in all: load 0.0 s, dataset 2.4 s, train +
    evaluate 35.4 s, curves 14.4' over 's, charts 9.2 s, …' at 80 columns: word-wrapped, a step's seconds
    lost their unit. It breaks between steps now."""
    from movierec.viz.report import timing_lines

    timings = {"load": 0.0, "dataset": 2.4, "train_evaluate": 35.4, "curves": 14.4, "charts": 9.2}
    timings |= {"beyond": 3.6, "embeddings": 51.3, "write": 2.1}
    assert timing_lines(timings, 80) == [
        "118.4 s in all: load 0.0 s, dataset 2.4 s, train + evaluate 35.4 s,",
        "curves 14.4 s, charts 9.2 s, beyond 3.6 s, embeddings 51.3 s, write 2.1 s",
    ]
    assert timing_lines({"load": 0.25}, 80) == ["0.2 s in all: load 0.2 s"]
