"""The Python examples in README.md and docs/ are whole: pasted into a fresh notebook, they run.

A newcomer copies a fenced ``python`` block and expects it to work. Two checks:

* every page's blocks, read in order as one notebook, use no name they do not define or import
  (``conn``, ``ds`` or ``art`` from nowhere was the usual break), checked for every page;
* the pages whose examples run in seconds are executed, in order, in a fresh folder, with the files
  the page tells the reader to make first (an artifact from ``movierec export``, the page's own
  ``exp.toml``, a SQLite file with a ``ratings`` table).

The slow examples (Spark, a 200-epoch SASRec, 40 tuning trials, the ensemble's refits) are only
name-checked; each is listed in ``NOT_RUN`` with why.
"""

from __future__ import annotations

import builtins
import re
import sqlite3
import symtable
from pathlib import Path

import pytest

from clihelp import run_process
from datagen import ml100k_path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", flags=re.S | re.M)

# page → why its examples are checked for names but not run here
NOT_RUN = {
    "spark.md": "starts a Spark session and trains on a parquet file (tests/spark runs the same calls)",
    "sequential.md": "trains SASRec for up to 200 epochs (tests/models/test_sequence*.py cover the calls)",
    "tuning.md": "runs 40 tuning trials with 3-fold CV (tests/test_tuning.py covers tune()); its first, "
    "two-trial example runs below",
    "models.md": "fits the ensemble, ~20 s of hold-out and refits (tests/models cover it)",
    "README.md": "executed by tests/test_readme.py",
}


def python_blocks(page: Path) -> list[str]:
    """The page's fenced ``python`` blocks, in reading order."""
    return FENCE.findall(page.read_text())


def undefined_names(source: str) -> set[str]:
    """Global names ``source`` reads but never binds (assignment, import, def, for, with) and that are not
    builtins; nested scopes (lambdas, comprehensions, functions) count their free globals too."""
    top = symtable.symtable(source, "<doc>", "exec")
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    bound |= {t.get_name() for t in top.get_children()}  # def/class names
    read: set[str] = set()

    def walk(table: symtable.SymbolTable) -> None:
        for sym in table.get_symbols():
            if table is top:
                if sym.is_referenced():
                    read.add(sym.get_name())
            elif sym.is_global() and sym.is_referenced():
                read.add(sym.get_name())
        for child in table.get_children():
            walk(child)

    walk(top)
    return read - bound - set(dir(builtins))


PAGES_WITH_CODE = [p for p in PAGES if python_blocks(p)]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: p.name)
def test_a_pages_python_examples_define_every_name_they_use(page: Path) -> None:
    source = "\n".join(python_blocks(page))
    compile(source, str(page), "exec")  # a syntax error is a broken example too
    missing = undefined_names(source)
    assert not missing, f"{page.name}: the examples use {sorted(missing)} without defining or importing them"


def test_the_name_check_catches_a_name_from_nowhere() -> None:
    assert undefined_names("import pandas as pd\nx = pd.read_sql('q', conn)\n") == {"conn"}
    assert undefined_names("rows = [r for r in table]\nf = lambda: ds\n") == {"table", "ds"}
    assert undefined_names("import movierec\nds = movierec.load('x')\nprint(len(ds))\n") == set()


def test_every_page_with_examples_is_run_or_says_why_not() -> None:
    ran = {p.name for p in PAGES_WITH_CODE} - set(NOT_RUN)
    assert ran == set(RUN), (
        f"pages with Python examples that are neither run nor listed in NOT_RUN: {ran ^ set(RUN)}"
    )


def test_the_quick_tuning_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tuning.md's first block, two trials of svd with 5 epochs (about a second), runs as pasted: the
    page's other blocks are too slow to run here, but this one is what a newcomer tries first."""
    block = python_blocks(ROOT / "docs" / "tuning.md")[0]
    assert "n_trials=2" in block  # the quick one, not the 40-trial study
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    exec(compile(block, "tuning.md block 1", "exec"), namespace)  # our own docs, as a reader pastes them
    res = namespace["res"]
    assert res.n_trials == 2 and res.best_value is not None and res.test_score is not None  # type: ignore[attr-defined]
    assert list(tmp_path.iterdir()) == []  # no storage or out given: it writes nothing


def test_tuning_md_lists_every_keyword_tune_takes() -> None:
    """tuning.md spells out ``tune(dataset, model, *, …)``; it lacked ``early_stopping`` (protocols.md's
    early stopping in tune). The page's keywords are the ones tune's own refusal lists as valid."""
    from movierec import tune
    from movierec.errors import ConfigError

    page = (ROOT / "docs" / "tuning.md").read_text()
    listed = re.search(r"`tune\(dataset, model, \*, (.*?)\)`", page, flags=re.S)
    assert listed is not None
    with pytest.raises(ConfigError) as info:
        tune("ml-latest-small", "svd", no_such_keyword=1)
    valid = str(info.value).split("valid: ", 1)[1]
    assert set(" ".join(listed.group(1).split()).split(", ")) == set(valid.split(", "))


NUMBER = r"[−-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[−-]?\d+)?"  # 1e-4, 10,000, −0.5
#: after a parameter's name: an optional symbol ('(λ)', 'γ', 'c'), then 'low–high' and ' log' for a log range
RANGE = re.compile(rf"\s*(?:\([^)]*\)|[^\s\d−-]{{1,2}})?\s*({NUMBER})\s*–\s*({NUMBER})(\s+log\b)?")
CHOICES = re.compile(r"\s*([\w-]+(?:\s*(?:/|\bvs\b)\s*[\w-]+)+)")


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def _space_rows() -> list[tuple[list[str], str]]:
    """tuning.md's search-space table: (the models a row names, its hyperparameters cell)."""
    page = (ROOT / "docs" / "tuning.md").read_text()
    section = page.split("## Search spaces", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            rows.append((re.findall(r"`([^`]+)`", cells[0]), cells[1]))
    return rows


def _named(cell: str) -> list[tuple[list[str], str]]:
    """The cell's parameter names, grouped as written ('`reg_i`, `reg_u` 1–50 log' is one group), each group
    with the text after it up to the next name (bold marks dropped)."""
    cell = cell.replace("**", "")
    marks = list(re.finditer(r"`([A-Za-z_]\w*)`", cell))
    groups: list[tuple[list[str], str]] = []
    for n, m in enumerate(marks):
        after = cell[m.end() : marks[n + 1].start() if n + 1 < len(marks) else len(cell)]
        if groups and not groups[-1][1].strip(", "):  # only ', ' since the last name: the same group
            groups[-1] = (groups[-1][0] + [m.group(1)], after)
        else:
            groups.append(([m.group(1)], after))
    return groups


def test_tuning_md_search_space_table_says_what_each_space_draws() -> None:
    """tuning.md's table of search spaces named the parameters by other libraries' spellings (svd's
    ``n_factors``, ``lr``; bpr/warp's ``no_components``; als's ``iterations``), which the spaces, trials.csv
    and best.toml never use, and left some out (itemknn's ``neighbourhood`` and ``lift``, warp's
    ``max_sampled``). Each row's names are now its models' own parameters, every parameter their space
    draws is named, and its range (low, high, log) or its choices are the space's."""
    from movierec.models.registry import create
    from movierec.models.space import Choice, FloatRange, IntRange
    from movierec.tuning import search_spaces

    spaces = search_spaces()
    rows = _space_rows()
    assert len(rows) >= 10
    for models, cell in rows:
        groups = _named(cell)
        said = {name for names, _ in groups for name in names}
        for model in models:
            space = spaces[model]
            own = set(create(model).get_params()) | set(space)  # the space's: bpr's loss, a model switch
            assert said <= own, f"{model}: {sorted(said - own)} are not its parameters"
            assert set(space) <= said, f"{model}: the table leaves out {sorted(set(space) - said)}"
            for name, param in space.items():
                texts = [after for names, after in groups if name in names]
                if isinstance(param, (IntRange, FloatRange)):
                    found = [m for m in map(RANGE.match, texts) if m]
                    assert found, f"{model}: {name} has no range in the table (space: {param})"
                    low, high, log = found[0].groups()
                    assert (_number(low), _number(high), bool(log)) == pytest.approx(
                        (param.low, param.high, param.log)
                    ), f"{model}: {name} {found[0].group(0).strip()!r}, space {param}"
                elif isinstance(param, Choice):
                    listed = [m for m in map(CHOICES.match, texts) if m]
                    if not listed:  # a yes/no switch needs no list
                        assert set(param.choices) == {False, True}, f"{model}: {name} lists no choices"
                        continue
                    words = set(re.split(r"\s*(?:/|\bvs\b)\s*", listed[0].group(1)))
                    assert words == {str(c) for c in param.choices}, f"{model}: {name} {words}, space {param}"


def _make_shop_db(folder: Path) -> None:
    """data.md reads ``ratings`` and ``products`` from ``shop.db``: a small real SQLite file."""
    conn = sqlite3.connect(folder / "shop.db")
    rows = [
        (f"u{u}", f"s{(u * 7 + j * 3) % 40}", 1 + (u + j) % 5, 1_600_000_000 + 60 * j)
        for u in range(60)
        for j in range(12)
    ]
    conn.execute("create table ratings (uid text, sku text, stars real, ts integer)")
    conn.executemany("insert into ratings values (?, ?, ?, ?)", rows)
    conn.execute("create table products (sku text, name text, genres text)")
    conn.executemany(
        "insert into products values (?, ?, ?)",
        [(f"s{i}", f"Product {i}", "Comedy|Drama" if i % 2 else "Action") for i in range(40)],
    )
    conn.commit()
    conn.close()


def _export(folder: Path, model: str) -> None:
    """serving.md loads ``artifacts/<model>``, made by the command the page gives first."""
    proc = run_process(
        "export",
        "--model",
        model,
        "--out",
        f"artifacts/{model}",
        cwd=folder,
        inherit_columns=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


# page → what the reader is told to have before the first block
RUN = {
    "index.md": None,
    "beyond-accuracy.md": None,
    "data.md": _make_shop_db,
    "from-implicit.md": None,
    "from-lenskit.md": None,
    "from-lightfm.md": None,
    "from-recbole.md": None,
    "from-surprise.md": None,
    "new-users.md": None,
    "protocols.md": None,
    "serving.md": lambda folder: _export(folder, "svd"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RUN))
def test_a_pages_python_examples_run_in_a_fresh_folder(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = ROOT / "docs" / name
    if name == "new-users.md" and ml100k_path() is None:
        pytest.skip(
            "new-users.md's first example reads ml-100k, not found in ../shared/data or $MOVIEREC_DATA"
        )
    if name == "new-users.md":
        monkeypatch.setenv("MOVIEREC_DATA", str(ml100k_path().parent))  # type: ignore[union-attr]
    monkeypatch.chdir(tmp_path)
    setup = RUN[name]
    if setup is not None:
        setup(tmp_path)
    import matplotlib

    matplotlib.use("Agg")
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    for i, block in enumerate(python_blocks(page)):
        exec(
            compile(block, f"{name} block {i + 1}", "exec"), namespace
        )  # our own docs, as a reader pastes them
