"""The tutorial notebooks in examples/ run top to bottom (nbclient, a real kernel), so they never rot."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import movierec
from clihelp import run_process

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


def _text(cell: dict) -> str:
    out = []
    for o in cell.get("outputs", []):
        data = o.get("data", {})
        out.append(
            " ".join(data)
            + str(data.get("text/html", ""))
            + str(data.get("text/plain", ""))
            + str(o.get("text", ""))
        )
    return "\n".join(out)


def _execute(nb: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    """Run ``nb`` in a real python3 kernel with ``folder`` as its working directory; CellExecutionError
    (with the cell and traceback) on any error."""
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return nb


def _cells(*sources: str) -> nbformat.NotebookNode:
    """A new notebook of these code cells."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    return nb


def test_examples_are_stored_without_outputs() -> None:
    assert len(NOTEBOOKS) >= 3
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} holds outputs"


def test_the_serving_notebook_says_when_its_server_does_not_start(tmp_path: Path) -> None:
    """03's server cell picked its port by binding and closing a socket (another process could take the port
    before the server bound it), and a server that never answered ended, a minute later, in "NameError: name
    'health' is not defined". It passes --port 0 and reads the URL from the banner, as serve documents; a
    server that exits first is a RuntimeError with what it printed. The cell runs here as it is stored, on a
    folder that is no artifact."""
    import tempfile

    nb = nbformat.read(EXAMPLES / "03_serving.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and '"movierec", "serve"' in c.source]
    assert '"--port", "0"' in cell.source and "socket" not in cell.source, cell.source
    workspace = tempfile.TemporaryDirectory(dir=tmp_path)
    names = {"Path": Path, "workspace": workspace, "folder": tmp_path / "no-artifact"}
    with pytest.raises(
        RuntimeError, match=r"(?s)movierec serve did not start; it printed:\n.*no-artifact: no such"
    ):
        exec(cell.source, names)  # the notebook's own code, not a copy of it
    workspace.cleanup()


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    nb = _execute(nbformat.read(path, as_version=4), tmp_path)
    text = "\n".join(_text(c) for c in nb.cells if c.cell_type == "code")
    assert "Traceback" not in text
    # a newcomer reads every warning as something to fix: 02's first cell said "TqdmWarning: IProgress not
    # found. Please update jupyter and ipywidgets" (optuna's import of tqdm.auto; tune draws no tqdm bar)
    stderr = [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("name") == "stderr"]  # fmt: skip
    assert not [s for s in stderr if "Warning" in s], stderr
    if path.name.startswith("01"):
        assert "Dataset('ml-latest-small'" in text and "Toy Story" in text
        # the prose says the dataset shows as a card and print(ds) as two lines (it said 'one line', which
        # neither was once the text repr kept within 80 columns)
        (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.endswith("\nds")]
        (shown,) = [o["data"] for o in cell.outputs if o.output_type == "execute_result"]
        assert "<h4>Dataset ml-latest-small</h4>" in shown["text/html"]
        assert len(shown["text/plain"].splitlines()) == 2 and "(`print(ds)` gives the size in two lines)" in (
            _markdown(nb, "## 1. Data")
        )
        # the data cell's comment says 4 stars is the most common rating: its printed counts must agree
        stars = {float(r): int(n) for r, n in re.findall(r"^([0-5]\.[05])\s+(\d+)$", text, re.M)}
        assert len(stars) == 10 and max(stars, key=stars.__getitem__) == 4.0, stars
        assert "application/vnd.plotly.v1+json" in text  # the map cell returned a plotly Figure
        assert "ndcg@10" in text
        assert "because" in text and "Alien (1979)" in text  # a new person's list, explained
        # the note under the rating table quotes its RMSEs (baseline beats svd before tuning): they must agree
        rmse = {
            m: f"{float(v):.4f}"
            for m, v in re.findall(r"^\d+\s+(baseline|svd)\s+rating\s+([\d.]+)", text, re.M)
        }
        note = next(c.source for c in nb.cells if c.cell_type == "markdown" and "beats SVD" in c.source)
        assert f"RMSE {rmse['baseline']} against {rmse['svd']}" in " ".join(note.split()), (rmse, note)
        _check_tuned_svd(" ".join(note.split()))
        _check_comparison_card(nb)
        _check_feature_names(nb)
        # the map's prose says sample=300 maps 300 movies and a point's hover names it: the figure agrees
        (cell,) = [c for c in nb.cells if c.cell_type == "code" and ".map(" in c.source]
        (fig,) = [o["data"]["application/vnd.plotly.v1+json"] for o in cell.outputs if "data" in o
                  and "application/vnd.plotly.v1+json" in o["data"]]  # fmt: skip
        assert sum(len(t["customdata"]) for t in fig["data"]) == 300 and "sample=300" in cell.source
        assert all(t["hovertemplate"].startswith("<b>%{customdata[0]}</b>") for t in fig["data"])
        assert "`sample=300` maps 300 of the rated movies" in _markdown(nb, "## 5. An item-embedding map")
        _check_user_history(nb, text)
    if path.name.startswith("02"):
        _check_tuning_note(nb, text, tmp_path)
    if path.name.startswith("03"):
        assert "'model': 'svd'" in text or '"model": "svd"' in text
        # its export folder (the artifact's repr ends with it) stayed in /tmp after every run; the last cell
        # removes it, and only it
        exported = re.search(r"Artifact\('svd' on [^)]*?, (/\S+)\)", text)  # its repr may break a line
        assert exported is not None and Path(exported.group(1)).name == "svd", text[:2000]
        assert not Path(exported.group(1)).parent.exists(), exported.group(1)
        assert "'imdbId': '0111161'" in text  # the columns its text now says what they are
        said = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert "imdbId" in said and "tmdbId" in said and "links.csv" in said


def _check_comparison_card(nb: dict) -> None:
    """01's first comparison renders as the prose before it says: intervals in brackets under the ranking
    values, and coverage@10 and novelty@10 (which the prose explains) never bold."""
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("explicit = ")]
    (shown,) = [o for o in cell.outputs if o.output_type == "execute_result"]
    page = shown["data"]["text/html"].split("<p><b>full-ranking</b></p>")[1]
    head = re.findall(r"<th>([^<]+)</th>", page)
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)  # the body's rows (the header's <tr> has a style)
    assert len(rows) == 3, page
    columns = {name: [re.findall(r"<td>(.*?)</td>", r, re.S)[i] for r in rows] for i, name in enumerate(head)}
    assert all("<b>" not in v for m in ("coverage@10", "novelty@10") for v in columns[m]), columns
    assert all('<span class="mr-ci">[' in v for v in columns["ndcg@10"]), columns["ndcg@10"]
    said = _markdown(nb, "## 2. Explicit models")
    assert "(in brackets under each value)" in said and "`coverage@10`" in said and "`novelty@10`" in said


def _check_feature_names(nb: dict) -> None:
    """01's implicit comparison (``item_features="genres,tags"``): its progress said 'ease+genres+tags (2/3) ·
    fitted' and its card below named the row 'ease', and the prose called EASE a baseline beside WARP's
    features. The card, its text and the prose now name each model with the features it learned from."""
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("implicit = ")]
    (shown,) = [o["data"] for o in cell.outputs if o.output_type == "execute_result"]
    cells = re.findall(r'<span class="mr-nw">([^<]+)</span>', shown["text/html"])
    assert cells == ["popularity", "ease+genres+tags", "warp+genres+tags"], cells
    assert "models [popularity, ease+genres+tags, warp+genres+tags]" in " ".join(shown["text/plain"].split())
    said = _markdown(nb, "## 4. Ranking")
    assert "(`ease+genres+tags`)" in said and "popularity, a strong baseline, ignores them" in said, said
    # the summary's rows (to_frame(): the labels, 'ease') say the features as the cards do: its table named
    # ease and warp as the explicit models are named, with nothing to tell them apart
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("import pandas")]
    (shown,) = [o["data"]["text/plain"] for o in cell.outputs if o.output_type == "execute_result"]
    featured = dict(re.findall(r"^\d+\s+(\S+)\s+(\S+)\s+full-ranking", shown, re.M))
    none = {m: featured.get(m) for m in ("global-mean", "baseline", "svd", "popularity")}
    assert set(none.values()) == {"None"}, shown  # it said None in explicit's rows, NaN in implicit's
    assert len(featured) == 6 and featured["ease"] == featured["warp"] == "genres,tags", shown
    assert "the item features its model learned from (`item_features`" in _markdown(nb, "## 6. Summary")


def _check_tuned_svd(note: str) -> None:
    """01's note quotes what `movierec tune --model svd` (50 trials, 5 minutes: too slow to rerun here)
    picked and its test RMSE; refit with those params on the notebook's split, they must score it. It
    said 0.8544, measured at c8b8601; the same command gave 0.8579 twice on 25fe084."""
    found = re.search(
        r"picks factors=(\d+), epochs=(\d+), learning_rate=([\d.]+) and regularization=([\d.]+), which "
        r"score ([\d.]+) on the test ratings",
        note,
    )
    assert found is not None, note
    factors, epochs, lr, reg, quoted = found.groups()
    params = {"factors": int(factors), "epochs": int(epochs), "learning_rate": float(lr)}
    params["regularization"] = float(reg)
    ds = movierec.load("ml-latest-small")
    tuned = movierec.compare(ds, [("svd", params)], protocols=["rating"], seed=42, progress=False)
    assert f"{tuned.to_frame('rating')['rmse'].iloc[0]:.4f}" == quoted, (params, quoted)


def _markdown(nb: dict, needle: str) -> str:
    """The one markdown cell holding ``needle``, its lines joined (notebooks wrap prose at ~110 columns)."""
    (source,) = [c.source for c in nb.cells if c.cell_type == "markdown" and needle in c.source]
    return " ".join(source.split())


def _check_user_history(nb: dict, text: str) -> None:
    """01 puts user 1's ratings beside svd's list; its note quotes their mean and the average user's."""
    printed = re.search(r"user 1: (\d+) ratings, mean ([\d.]+), \d+% of them 5 stars", text)
    assert printed is not None, text[:3000]
    assert "Shawshank Redemption" in text and "predicted_rating" in text  # svd's list the note reads
    ds = movierec.load("ml-latest-small")
    average = ds.to_frame().groupby("userId").rating.mean().mean()
    note = _markdown(nb, "rates generously")
    assert f"a mean of {printed.group(2)}, where the average user's is {average:.2f}" in note, note
    svd = movierec.Recommender(ds, "svd", epochs=10).fit()  # the notebook's svd, as seeded there
    listed = svd.recommend(1, k=100)
    at_top = int((listed["predicted_rating"] >= 5.0).sum())
    assert at_top == 10 and "predicts the scale's top, 5.0, for ten movies" in note, (at_top, note)
    # the note says what `score` is (01 printed score 4.954 beside predicted_rating 5.000 unexplained) and
    # quotes the first movie's n_ratings, the tie-break among the 5.0s
    tied = listed[listed["predicted_rating"] >= 5.0]
    assert tied["n_ratings"].is_monotonic_decreasing and (tied["score"] < 5.0).all(), tied
    first = listed.iloc[0]
    assert first["title"].startswith("Shawshank Redemption"), first
    assert f"*The Shawshank Redemption*, {first['n_ratings']} of them, first" in note, note
    assert "ranked by `score`, not by `predicted_rating`" in note, note


def _check_tuning_note(nb: dict, text: str, folder: Path) -> None:
    """02's note after the tuned model quotes the defaults' test RMSE and the tuned one, and the nested
    cell's note the mean ± std it printed (the CLI line it names prints the same): all must hold."""
    tuned = re.search(r"test ([\d.]+) \(lower is better\)", text)
    assert tuned is not None, text[:2000]
    ds = movierec.load("ml-latest-small")
    default = movierec.compare(ds, ["baseline"], protocols=["rating"], seed=42, progress=False)
    rmse = float(default.to_frame("rating")["rmse"].iloc[0])
    note = _markdown(nb, "Four trials")
    assert f"from the defaults' {rmse:.4f}" in note and f"to {tuned.group(1)}." in note, (rmse, tuned, note)
    # the nested cell: its note quotes the mean ± std the result prints, and the CLI line it names
    # (checked to print the same) is one the CLI takes
    nested = re.search(r"^test rmse ([\d.]+ ± [\d.]+) \(mean ± std of 3 folds", text, re.M)
    assert nested is not None and "NestedTuneResult('baseline' for rmse: 3 outer folds" in text, text[-3000:]
    # the nested cell shows a card, as the study's cell does (it showed the repr's text alone)
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("nested = ")]
    (shown,) = [o["data"] for o in cell.outputs if o.output_type == "execute_result"]
    assert "<h4>Nested tuning of baseline for rmse</h4>" in shown["text/html"], shown.keys()
    said = _markdown(nb, "Tuned this way")
    assert f"test RMSE is {nested.group(1)} over three folds" in said, (nested.group(1), said)
    line = re.search(
        r"`movierec (tune --model baseline --outer-folds 3 [^`]+)`", _markdown(nb, "How good is")
    )
    assert line is not None
    cli = run_process(*line.group(1).split(), "--out", str(folder / "nested"), env={"COLUMNS": "100"})
    assert cli.returncode == 0 and f"test rmse {nested.group(1)} (mean" in cli.stdout, cli.stdout + cli.stderr


def test_progress_in_a_notebook_is_one_plain_output_per_cell(tmp_path: Path) -> None:
    """In a Jupyter kernel the Python API's progress lines (compare's fits, Recommender.fit, tune's
    trials) are one plain-text output per cell, updated in place. On stderr each was a red block in
    JupyterLab, and nbconvert's HTML split 'svd (2/3): fitting…' from its seconds onto two lines."""
    nb = _execute(
        _cells(
            "import movierec\n"
            "ds = movierec.load('ml-latest-small')\n"
            "comp = movierec.compare(ds, ['popularity', 'baseline'], protocols=['full-ranking'])",
            "rec = movierec.Recommender(ds, 'popularity').fit()",
        ),
        tmp_path,
    )
    for cell, want in zip(
        nb.cells,
        [[r"popularity \(1/2\) · fitted in \d+\.\d s", r"baseline \(2/2\) · fitted in \d+\.\d s"],
         [r"popularity · fitted in \d+\.\d s"]],
        strict=True,
    ):  # fmt: skip
        assert not [o for o in cell.outputs if o.get("name") == "stderr"], cell.outputs
        shown = [o for o in cell.outputs if o.output_type == "display_data"]
        assert len(shown) == 1, cell.outputs  # one block: a fit's 'fitted in' replaced its 'fitting'
        lines = shown[0]["data"]["text/plain"].splitlines()
        assert len(lines) == len(want) and all(
            re.fullmatch(w, line) for w, line in zip(want, lines, strict=True)
        ), lines


def test_a_notebooks_compare_counts_the_users_a_slow_evaluation_has_scored(tmp_path: Path) -> None:
    """A notebook's ``compare()`` showed each fit and then nothing while a slow model scored (knn-baseline:
    6-8 s on ml-latest-small), as if hung. Its cell's one output now carries the evaluation's count of
    users scored, in the CLI's words, updated in place on one line ('popularity · evaluating full-ranking ·
    192/595 users scored' until the last count). MOVIEREC_PROGRESS_AFTER=0 makes every evaluation count
    (by default only one of 3 s or more does), so a fast model shows it here."""
    nb = _execute(
        _cells(
            "import os\n"
            "os.environ['MOVIEREC_PROGRESS_AFTER'] = '0'\n"
            "import movierec\n"
            "ds = movierec.load('ml-latest-small')\n"
            "comp = movierec.compare(ds, ['popularity'], protocols=['sampled', 'full-ranking'])",
        ),
        tmp_path,
    )
    cell = nb.cells[0]
    errs = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr")
    assert "SampledMetricsWarning" in errs and "popularity ·" not in errs, errs  # the lines are not on stderr
    (shown,) = [o for o in cell.outputs if o.output_type == "display_data"]
    lines = shown["data"]["text/plain"].splitlines()
    assert len(lines) == 3, lines
    assert re.fullmatch(r"popularity · fitted in \d+\.\d s", lines[0]), lines
    for line, protocol in zip(lines[1:], ("sampled", "full-ranking"), strict=True):
        assert re.fullmatch(rf"popularity · evaluating {protocol} · (\d+)/\1 users scored", line), lines


@pytest.fixture(scope="module")
def comparison_notebook(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    """One kernel's comparison of popularity and baseline (rating and full-ranking, seed 42, no progress),
    shown as a cell's result, its intervals as to_frame() gives them, then ``print(comp)``: what the two
    tests below read. Each built the same comparison in a kernel of its own (~1.6 CPU s a kernel); the
    print test's had compare's three default protocols, and two tables print through the same console.print
    calls that rich sent to the display one by one."""
    return _execute(
        _cells(
            "import movierec\n"
            "ds = movierec.load('ml-latest-small')\n"
            "comp = movierec.compare(ds, ['popularity', 'baseline'], protocols=['rating', 'full-ranking'],\n"
            "                        seed=42, progress=False)\n"
            "comp",
            "import json\n"
            "frame = comp.to_frame('full-ranking')\n"
            "bounds = [c[:-3] for c in frame.columns if c.endswith('_lo')]\n"
            "print(json.dumps([f'[{lo:.4f}, {hi:.4f}]' for m in bounds\n"
            "                  for lo, hi in zip(frame[m + '_lo'], frame[m + '_hi'])]))",
            "print(comp)",
        ),
        tmp_path_factory.mktemp("comparison"),
    )


def test_print_comparison_in_a_notebook_is_its_text(comparison_notebook: nbformat.NotebookNode) -> None:
    """``print(comparison)`` in a Jupyter kernel prints the tables as one stdout text, as in a script. rich
    detects the kernel and sent each of its console.print calls to IPython's display instead of the string
    it was building: 14 separate HTML blocks for five models, then an empty line from print()."""
    outputs = comparison_notebook.cells[2].outputs
    assert [(o.output_type, o.get("name")) for o in outputs] == [("stream", "stdout")], outputs
    text = outputs[0]["text"]
    for needle in ("rating", "full-ranking", "baseline", "popularity", "★", "note: "):
        assert needle in text, text


def test_models_on_tqdm_libraries_print_no_widget_warning(tmp_path: Path) -> None:
    """implicit (als, implicit:bpr) and cornac import ``tqdm.auto`` when they load, which in a Jupyter
    kernel without ipywidgets warns "TqdmWarning: IProgress not found. Please update jupyter and
    ipywidgets", pointing at tqdm/auto.py: the first cell that fitted ``als`` (a default of the report
    and of README's compare line) showed it in red though movierec draws no tqdm bar. tune() already
    hid optuna's copy of it; each import of these libraries now does."""
    pytest.importorskip("implicit")
    nb = _execute(
        _cells(
            "import movierec\n"
            "ds = movierec.load('ml-latest-small')\n"
            "rec = movierec.Recommender(ds, 'als', epochs=1).fit()\n"
            "rec.recommend(1, k=3)",
        ),
        tmp_path,
    )
    stderr = [o.get("text", "") for o in nb.cells[0].outputs if o.get("name") == "stderr"]
    assert not stderr, stderr
    assert "movieId" in _text(nb.cells[0])  # the list is shown


def test_a_comparison_in_a_notebook_shows_each_metrics_interval(
    comparison_notebook: nbformat.NotebookNode,
) -> None:
    """01's prose says compare gives 'ranking metrics with 95% bootstrap intervals', but the table a
    Comparison renders as in Jupyter showed the values alone (bold for the best) where print() and the CLI
    bracket NDCG's interval: a newcomer read popularity's 0.1648 against baseline's 0.1225 with nothing to
    say whether that gap is more than noise. Each ranking metric's [lo, hi] now sits under its value,
    the numbers to_frame() gives as METRIC_lo/METRIC_hi; the rating table has none, and says none."""
    nb = comparison_notebook
    (shown,) = [o for o in nb.cells[0].outputs if o.output_type == "execute_result"]
    page = shown["data"]["text/html"]
    rating, ranking = page.split("<p><b>full-ranking</b></p>")
    assert '<span class="mr-ci">' not in rating  # rmse, mae… have no interval here, and none is drawn
    wanted = json.loads(nb.cells[1].outputs[0]["text"])  # every '[lo, hi]' as to_frame() has them
    cells = re.findall(r'<span class="mr-ci">(\[[\d.]+, [\d.]+\])</span>', ranking)
    assert len(wanted) == 14 and sorted(cells) == sorted(wanted), (cells, wanted)  # 7 metrics × 2 models
    assert "brackets: 95% bootstrap interval over users" in page


def test_tunes_start_line_in_a_notebook_is_one_line(tmp_path: Path) -> None:
    """02's first cell printed 'tuning baseline for rmse: 4 trials, one 20% validation split of 80,668
    training' and then 'ratings' alone: the start line was cut at 80 columns, a terminal's width, in a cell
    that has none and wraps a long line itself. In a kernel it is one line (a terminal balances its lines:
    test_tuning.test_progress_is_a_switch_as_in_compare)."""
    pytest.importorskip("optuna")
    nb = _execute(
        _cells(
            "import movierec\n"
            "from movierec.tuning import tune\n"
            "ds = movierec.load('ml-latest-small')\n"
            "result = tune(ds, 'baseline', metric='rmse', n_trials=1, cv=1, seed=42)",
        ),
        tmp_path,
    )
    (shown,) = [o for o in nb.cells[0].outputs if o.output_type == "display_data"]
    lines = shown["data"]["text/plain"].splitlines()
    start = "tuning baseline for rmse: 1 trial, one 20% validation split of 80,668 training ratings"
    assert lines[0] == start and lines[1].startswith("trial 1/1 "), lines


def test_a_movierec_error_in_a_notebook_is_its_one_line_and_tb_shows_the_rest(tmp_path: Path) -> None:
    """A user's mistake in a Jupyter cell (``create('nope')``) printed 8-9 frames of movierec's internals
    above the one line that says what to change. The cell shows that line, as Python's last line names it,
    and how to see the rest: ``%tb`` prints the full traceback. Any other exception (a bug) keeps it."""
    nb = _cells(
        "import movierec\nmovierec.models.create('nope')",
        "%tb",
        "import movierec.models.registry\nmovierec.models.registry.registered_name(None)",
    )
    nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    error = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    assert len(error) == 1 and error[0].ename == "ConfigError", nb.cells[0].outputs
    assert error[0].traceback == [
        "ConfigError: unknown model 'nope'; e.g. svd, ease, als, popularity; all 52 models: "
        "movierec.models.available()",
        "(%tb shows the full traceback)",
    ]
    full = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(_text_and_tracebacks(nb.cells[1])))
    assert (
        "registry.py" in full
        and "raise ConfigError" in full
        and full.rstrip().endswith("movierec.models.available()")
    ), full
    bug = [o for o in nb.cells[2].outputs if o.output_type == "error"]
    assert len(bug) == 1 and bug[0].ename == "AttributeError" and len(bug[0].traceback) > 2, bug


def _text_and_tracebacks(cell: nbformat.NotebookNode) -> list[str]:
    """A cell's printed text and its error's traceback lines (``%tb`` prints as a traceback does)."""
    out: list[str] = []
    for o in cell.outputs:
        out += [*o.get("traceback", []), str(o.get("text", ""))]
    return out
