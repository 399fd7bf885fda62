"""The CLI read anywhere: 80-column tables, plain progress lines in pipes, `movierec models`, tidy help, lazy imports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

import movierec
from clihelp import as_from_a_terminal, run_process
from movierec.errors import ConfigError


def run(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    """``movierec ARGS`` at ``columns`` columns without FORCE_COLOR: in this process (``run_process``), or in
    a fresh interpreter where FORCE_COLOR is set, which the CLI's consoles read once, when they are built."""
    fresh = "FORCE_COLOR" in os.environ
    return run_process(*args, env={"COLUMNS": str(columns), "FORCE_COLOR": None}, fresh=fresh)


def test_compare_fits_80_columns_without_cutting_names_or_headline_numbers() -> None:
    proc = run("compare", "-m", "baseline,svd,popularity", "--params", "svd.n_epochs=2", "--k", "10")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    too_wide = [line for line in lines if cell_len(line) > 80]
    assert not too_wide, too_wide
    rows = {
        line.split()[0]: line
        for line in lines
        if line.split() and line.split()[0] in ("baseline", "svd", "popularity")
    }
    assert set(rows) == {"baseline", "svd", "popularity"}
    assert "…" not in "".join(rows.values())
    # one table per protocol, headline first: RMSE under rating, NDCG@10 under full-ranking
    assert re.search(r"^model\s+RMSE\s+MAE", proc.stdout, flags=re.M)
    assert re.search(r"^model\s+NDCG@10\s+P@10", proc.stdout, flags=re.M)
    assert re.search(r"^baseline\s+★?\s*0\.8\d{3}\s", proc.stdout, flags=re.M)  # RMSE whole, 4 decimals
    assert "not shown at this width" in proc.stdout  # what did not fit is named
    # the headline ranking metric keeps its interval at 80 columns: one bracket line under each model's row
    ranking = proc.stdout[proc.stdout.index("full-ranking") :]
    assert len(re.findall(r"^\s+\[0\.\d{4},0\.\d{4}\]\s*$", ranking, flags=re.M)) == 3, ranking
    assert "only under P@10 in test-candidates, NDCG@10 in full-ranking at this width" in " ".join(
        proc.stdout.split()
    ), proc.stdout
    # stderr is a pipe: progress comes as plain lines, not nothing
    assert re.search(r"^\[\s*\d+\.\ds\] svd · fitting", proc.stderr, flags=re.M), proc.stderr


def test_the_legend_breaks_between_definitions_at_80_columns() -> None:
    """Each legend line holds whole definitions ("FCP = fraction of concordant pairs"): wrapped by the
    terminal, "FCP =" ended one line and "fraction of concordant pairs" began the next (--auc's long one first)."""
    proc = run("compare", "-m", "baseline,popularity", "--auc", "--k", "10")
    assert proc.returncode == 0, proc.stderr
    before_notes = proc.stdout.split("\nnote: ")[0]  # the notes (their own lines) follow the legend
    legend = [ln for ln in before_notes.splitlines() if re.search(r"\w = ", ln) and "│" not in ln]
    assert any(ln.startswith("AUC = ") for ln in legend) and any("FCP = " in ln for ln in legend), proc.stdout
    definition = r"[A-Za-z@]+ = [^;]+"
    for line in legend:
        assert cell_len(line) <= 80 and re.fullmatch(rf"{definition}(; {definition})*", line), legend


def test_cross_validated_compare_counts_one_user_in_the_singular() -> None:
    """compare --cv 3 on ml-latest-small: one user of 610 has no test rating ≥ 4 in some fold, and the note
    read '(1 have none)'."""
    proc = run("compare", "-m", "baseline,popularity", "--cv", "3", "--protocols", "rating,full-ranking")
    assert proc.returncode == 0, proc.stderr
    flowing = " ".join(proc.stdout.split())
    assert "users: rating 610, full-ranking 609:" in flowing and "(1 has none)" in flowing, proc.stdout
    assert all(cell_len(line) <= 80 for line in proc.stdout.splitlines()), proc.stdout


def test_compare_stars_every_model_that_ties_the_best_value() -> None:
    """Under test-candidates every user of ml-latest-small has a hit in their own test movies for svd
    and ease alike (HR@10 = 1 for both): both carry the star, not only the first row."""
    proc = run("compare", "-m", "svd,ease", "--protocols", "test-candidates")
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.split()[:1] in (["svd"], ["ease"])]
    assert len(rows) == 2, proc.stdout
    for line in rows:
        assert "★ 1.0000" in line, line


def test_compare_shows_intervals_and_every_column_when_there_is_room() -> None:
    proc = run("compare", "-m", "popularity", "--protocols", "full-ranking", columns=200)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"\[0\.\d{4},0\.\d{4}\]", proc.stdout)
    assert "MRR" in proc.stdout and "not shown" not in proc.stdout
    # one model: nothing is starred, so the legend does not mention the star
    assert "★" not in proc.stdout and "Brackets: 95% bootstrap interval over users" in proc.stdout
    narrow = run("compare", "-m", "popularity", "--protocols", "full-ranking")
    assert "(under NDCG@10 only at this width)" in " ".join(narrow.stdout.split()), narrow.stdout


def test_the_brackets_note_says_which_column_keeps_its_intervals_in_each_table() -> None:
    """At 80 columns each table keeps intervals under its first metric alone: full-ranking's NDCG@10 and
    test-candidates' P@10. The note read '(under NDCG@10, P@10 only at this width)', which a newcomer
    read as brackets under both columns, where full-ranking's P@10 had none (helper-89, README's compare)."""
    proc = run("compare", "-m", "popularity,baseline", "--protocols", "test-candidates,full-ranking")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "(only under P@10 in test-candidates, NDCG@10 in full-ranking at this width)" in text, proc.stdout


def test_models_shows_the_other_names_each_parameter_takes(capsys: pytest.CaptureFixture[str]) -> None:
    """A Surprise user reads their spellings next to ours (lr_all beside learning_rate and lr_bias), and the
    Surprise names with no exact counterpart with what they are called here."""
    from clihelp import run_cli

    code, out, err = run_cli(["models", "svd"], capsys)
    assert code == 0, err
    text = " ".join(out.split())
    assert "factors = 80 (also n_factors, no_components, embedding_size)" in text
    assert (
        "learning_rate = 0.005 (also lr, lr_all)" in text
        and "lr_bias = None (means learning_rate's value) (also lr_all)" in text
    )
    assert "init_std = 0.1 (also init_std_dev)" in text and "exact = False (also" not in text
    assert "lr_all sets learning_rate and lr_bias; reg_all sets regularization and reg_bias" in text
    assert "lr_bu, lr_bi: Surprise's per-bias learning rates are one here, lr_bias" in text
    # svd's class says 0, and the seed every run gives it is 42: the entry says which one a run uses
    assert (
        "random_state = 0 (the bare class's; Recommender, compare and the commands that fit give it their "
        "seed, 42 unless seed= or --seed)" in text
    )
    assert movierec.Recommender("ml-latest-small", "svd").model.random_state == 42
    code, out, err = run_cli(["models", "svdpp", "--json"], capsys)
    (info,) = json.loads(out)
    assert info["compound_names"] == {"lr_all": ["learning_rate"], "reg_all": ["regularization"]}
    assert info["spellings"]["init_std"] == ["init_std_dev"]
    assert "learning_rate (or lr_all)" in info["no_counterpart"]["lr_yj"]
    code, out, err = run_cli(["models", "baseline"], capsys)
    text = " ".join(out.split())
    # an alias note and an acts-only-with note sit side by side
    assert "learning_rate = 0.005 (also lr) (acts only with method 'sgd')" in text
    assert "bsl_options: Surprise's bsl_options keys are parameters of their own here" in text


def test_one_model_prints_its_text_as_written_and_ends_no_line_in_spaces(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``movierec models NAME`` printed its summary and 'defaults from' through rich markup: ease's
    ``T[a, b] = Σ_u …`` lost ``[a, b]`` and markov's ``(C[i, j] + alpha · p(j)) / (C[i, ·] + alpha)`` its
    brackets, read as style tags. Piped, each wrapped line of those sentences ended in a space (ease: 10)."""
    from clihelp import run_cli

    monkeypatch.setenv("COLUMNS", "80")
    for name, needle in (
        ("ease", "T[a, b] = Σ_u |I_u|^−2δ"),
        ("markov", "(C[i, j] + alpha · p(j)) / (C[i, ·] + alpha)"),
        ("svd", "defaults from: the reference notebook's settings"),
    ):
        code, out, err = run_cli(["models", name], capsys)
        assert code == 0, err
        assert needle in " ".join(out.split()), out
        lines = out.splitlines()
        assert [ln for ln in lines if ln != ln.rstrip()] == [], out
        assert max(cell_len(ln) for ln in lines) <= 80, out


def test_every_none_default_says_what_it_stands_for(capsys: pytest.CaptureFixture[str]) -> None:
    """``lr_bias = None`` or ``similarity = None`` alone told a reader nothing: each registered model's
    parameter whose default is None has a meaning, shown by ``movierec models NAME`` and in ``--json``."""
    import inspect

    from clihelp import run_cli
    from movierec.models.registry import MODELS, get_class

    for name in MODELS:
        try:
            cls = get_class(name)
        except ConfigError:  # an optional extra is not installed
            continue
        nones = {p.name for p in inspect.signature(cls).parameters.values() if p.default is None}
        assert nones <= set(cls.none_means()), (name, nones - set(cls.none_means()))
    code, out, _ = run_cli(["models", "knn-baseline"], capsys)
    text = " ".join(out.split())
    assert code == 0 and "similarity = None (means 'pearson_baseline')" in text
    assert "max_neighbours = None (means max(600, 10·k), at most the catalogue)" in text
    code, out, _ = run_cli(["models", "knn-basic", "--json"], capsys)
    assert code == 0 and json.loads(out)[0]["none_means"]["similarity"] == "'msd'"


def test_models_lists_every_model_with_defaults() -> None:
    from movierec.models.registry import MODELS

    proc = run("models", "--json")
    assert proc.returncode == 0, proc.stderr
    infos = {m["name"]: m for m in json.loads(proc.stdout)}
    assert set(infos) == set(MODELS)
    assert infos["svd"]["params"]["factors"] > 0 and infos["svd"]["kind"] == "explicit"
    assert infos["ease"]["kind"] == "implicit" and "l2" in infos["ease"]["params"]
    table = run("models", "--defaults")
    assert table.returncode == 0 and all(cell_len(x) <= 80 for x in table.stdout.splitlines())
    assert "factors=80" in table.stdout
    # the first view: every model's name by what it learns from, on a screen (it was 234 lines of parameters)
    overview = run("models")
    lines = overview.stdout.splitlines()
    assert overview.returncode == 0 and len(lines) <= 30 and all(cell_len(x) <= 80 for x in lines)
    words = set(overview.stdout.replace("★", " ").split())
    assert {n for n, i in infos.items() if i["available"]} <= words
    assert "ease★" in overview.stdout and "ease★" not in words  # compare's defaults are starred
    one = run("models", "svd")
    assert "factors = 80" in one.stdout and "Koren" in one.stdout
    # what `movierec tune` searches is shown with the model (tune's --help points here)
    assert "search space (movierec tune --model svd):" in one.stdout
    # where the defaults come from: a study's command to rerun, or the parity/notebook reason
    assert "defaults from: the reference notebook's settings" in one.stdout
    ials = run("models", "ials").stdout
    assert all(cell_len(x) <= 80 for x in ials.splitlines()), ials
    assert "defaults from: bench/validation_study.py ials --protocol mlls --seeds" in ials, ials
    assert infos["global-mean"]["defaults_from"] == ""  # nothing to choose
    assert re.search(r"^\s+factors: 8 to 256, log scale$", one.stdout, flags=re.M), one.stdout
    assert infos["ensemble"]["search_space"]["normalize"] == "std | max"
    # parameters tune searches only under a condition say which
    assert (
        infos["ease"]["search_space"]["time_weight"] == "0 to 2 (searched when --params sets time_window > 0)"
    )
    assert infos["ease"]["search_space"]["feature_weight"].endswith("(searched with --item-features)")
    assert infos["popularity"]["search_space"] == {}
    assert "no search space" in run("models", "popularity").stdout
    # summaries are plain text: the docstrings' reST markup (``alpha``, :func:`…`) is dropped
    assert not [n for n, i in infos.items() if "`" in i.get("summary", "")]
    assert "scikit-learn's alpha/l1_ratio penalty" in " ".join(run("models", "slim").stdout.split())
    bad = run("models", "nope")
    assert bad.returncode == 2 and "unknown model 'nope'" in bad.stderr


def test_one_model_in_full_fits_80_columns_with_entries_wrapped_under_their_indent() -> None:
    """`models svd` at 80 columns: an indented entry wrapped by rich went on at column 0, where its last
    word read as an entry of its own ('  reg_bu, reg_bi: Surprise's per-bias regularisation terms are one
    here,' / 'reg_bias'); the head line was one line however long ('surprise:normal-predictor (explicit) ·
    movierec.models.reference.surprise.SurpriseNormalPredictor', 95 columns, broken by the terminal)."""
    proc = run("models", "svd")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert all(cell_len(line) <= 80 for line in lines), lines
    start = lines.index("reference libraries' names with no exact counterpart here:")
    end = next(i for i, line in enumerate(lines) if line.startswith("defaults from:"))
    assert end - start > 1 and all(line.startswith("  ") for line in lines[start + 1 : end]), lines
    assert any(line.startswith("    ") for line in lines[start + 1 : end]), lines  # one did wrap, indented
    head = run("models", "surprise:normal-predictor")
    assert head.returncode == 0, head.stderr
    assert all(cell_len(line) <= 80 for line in head.stdout.splitlines()), head.stdout


def test_help_has_no_bool_metavars_and_plain_argument_names() -> None:
    top = run("--help")
    assert top.returncode == 0 and "<bool>" not in top.stdout and "models" in top.stdout
    fetch = run("data", "fetch", "--help")
    assert "movierec data fetch [OPTIONS] NAME" in fetch.stdout and "{name}" not in fetch.stdout
    assert "<bool>" not in run("compare", "--help").stdout


def test_help_names_what_a_repeatable_option_takes() -> None:
    """typer shows a repeatable option's Python type: '--params <list[str]>', '--artifact <list[Path]>',
    '--rated <list[str]>' in ten commands' help (as it showed --rating-scale's tuple as '<float,float>...').
    Each says what to type instead."""
    wanted = {
        "recommend": ["--params", "-p", "KEY=VALUE", "--genre", "-g", "GENRE", "--rated", "MOVIE[=RATING]"],
        "serve": ["--artifact", "-a", "FOLDER", "--cors-origin", "ORIGIN"],
        "spark train": ["--conf", "KEY=VALUE"],
    }
    for command in ("compare", "recommend", "similar", "report", "embed", "export", "tune", "serve",
                    "spark train", "spark recommend"):  # fmt: skip
        text = run(*command.split(), "--help", columns=200).stdout
        assert "<list[" not in text, (command, re.findall(r"--\S+\s+(?:-\w\s+)?<list\[\w+\]>", text))
        for option in wanted.get(command, []):
            if option.isupper() or "=" in option:
                assert re.search(rf"\s{re.escape(option)}\s", text), (command, option)


def test_an_optional_argument_reads_once_bracketed_in_usage() -> None:
    """typer brackets an optional argument itself: metavar '[TITLE]' read 'movierec similar [OPTIONS]
    [[TITLE]]' (and models '[[NAME]]'), a double bracket no usage convention has."""
    for command, arg in (("similar", "TITLE"), ("models", "NAME")):
        text = run(command, "--help").stdout
        assert f"movierec {command} [OPTIONS] [{arg}]" in text and f"[[{arg}]]" not in text, text[:300]
        assert re.search(rf"^│\s+{arg}\s", text, flags=re.M), text  # the Arguments panel names it plainly


def test_help_at_80_columns_folds_long_words_instead_of_cutting_them() -> None:
    """rich cut a help cell's long word with an ellipsis ('svd,knn-baseline,base…', the --protocols
    default 'rating,test-candidate…', seven in compare's help); --seed's '[0<=x<=4294967295]' widened
    the type column of every options table, which left the help column 22 characters."""
    import re

    for command in ("compare", "recommend", "report", "tune", "export", "similar", "spark train"):
        text = run(*command.split(), "--help").stdout
        assert text.count("╭─ Options") == 1, (command, text)
        cut = re.findall(r"\w…\s*│", text)  # a word then an ellipsis at the cell's edge
        assert not cut, (command, cut)
        assert "<=x<=" not in text, command
    flat = "".join(line.strip(" │") for line in run("compare", "--help").stdout.splitlines())
    assert "svd,knn-baseline,baseline" in flat.replace(" ", "")
    assert "[default:rating,test-candidates,full-ranking]" in flat.replace(" ", "")


def test_help_at_80_columns_gives_an_options_names_one_column_and_its_help_the_rest() -> None:
    """typer's four name columns (long, short, negative long, negative short) took 57 of 80 columns: the
    help beside them was 20 wide, 'bpr/warp/logistic/wa' 'rp-kos' folded mid-word, and export's
    '--implicit-threshold' was cut to '--implicit-thresho…'. Names now share one column."""
    commands = ("compare", "recommend", "report", "tune", "export", "similar", "serve", "embed", "cold-users")
    for command in commands:
        text = run(command, "--help").stdout
        options = text.split("╭─ Options")[1]
        rows = [line for line in options.splitlines() if line.startswith("│")]
        assert all(cell_len(line) <= 80 for line in rows), command
        assert not re.findall(r"--[\w-]+…", text), command  # no option name cut
        # the help column (where a help's second line starts) is at most 40 columns in (it was 57)
        starts = {len(m[0]) for line in rows if (m := re.match(r"^│\s{10,}(?=\S)", line))}
        assert starts and min(starts) <= 40, (command, sorted(starts))
    export = run("export", "--help").stdout
    assert any("segment-popularity" in line for line in export.splitlines()), export  # not folded mid-word
    assert "--implicit-threshold  <float>" in export and "--header/--no-header" in export
    assert re.search(r"^│ \*  --out, -o\s+<path>\s+Artifact folder to write", export, flags=re.M), export
    similar = run("similar", "--help").stdout  # an argument's name, which typer puts in the short column
    assert re.search(r"^│ TITLE  <str>  Part of a title", similar, flags=re.M), similar


def test_help_descriptions_flow_as_paragraphs_at_80_columns() -> None:
    """A docstring's own line breaks made ragged half-lines at 80 columns ('left out and rating' alone on
    a line); each paragraph now fills the width, and reST's double backticks do not reach the reader."""
    for command in (["recommend"], ["similar"]):
        text = run(*command, "--help").stdout
        head = text.split("╭─ Options")[0]
        assert "``" not in head
        body = [line.strip() for line in head.splitlines()[3:]]  # after the usage line
        paragraphs = "\n".join(body).strip().split("\n\n")
        for para in paragraphs:
            lines = para.splitlines()
            assert all(len(line) >= 60 for line in lines[:-1]), (command, lines)
    assert "left out and rating models rank" in " ".join(run("recommend", "--help").stdout.split())


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys\nfrom movierec.cli import main\n"
        "for args in (['--help'], ['compare', '--help'], ['report', '--help'], ['serve', '--help']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "heavy = ('numpy', 'pandas', 'scipy', 'numba', 'sklearn', 'plotly', 'matplotlib', 'torch', 'fastapi')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "[]"


def test_params_one_syntax_everywhere() -> None:
    from movierec.cli.compare import parse_model_params
    from movierec.cli.serve import parse_params

    assert parse_params(["svd.n_factors=7", "lr=0.01"], "svd") == {"n_factors": 7, "lr": 0.01}
    assert parse_params(["SVD.n-factors=7"], "svd") == {"n_factors": 7}
    assert parse_model_params(["n_factors=7"], ["svd"]) == {"svd": {"n_factors": 7}}
    bad = run("recommend", "--user", "1", "--model", "svd", "--params", "ease.l2=3")
    assert bad.returncode == 2 and "is not --model (svd)" in bad.stderr


def test_tune_refuses_a_model_without_a_search_space_before_writing_anything(tmp_path) -> None:
    proc = run_process("tune", "--model", "popularity", "-n", "1", cwd=tmp_path, env={"COLUMNS": "80"})
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "model 'popularity' has no search space" in err[0], proc.stderr
    from movierec.tuning import tunable_names

    # the count is the registry's, not a stale copy; a few of the same kind, not all 24 (a 298-column line)
    assert f"; {len(tunable_names())} models have one, e.g. ease, als" in err[0] and len(err[0]) <= 160, err
    assert list(tmp_path.iterdir()) == []  # no tuning/ folder left behind
    helptext = run("tune", "--help").stdout
    assert "any model with a search space" in " ".join(helptext.replace("│", " ").split())


def test_tune_params_are_held_fixed_shown_and_written_to_best_toml(tmp_path) -> None:
    import tomllib

    out = tmp_path / "study"
    proc = run("tune", "--model", "svd", "-n", "2", "--cv", "1", "--params", "factors=12,epochs=3",
               "--out", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"factors \(fixed\)\s*│\s*12\s*│", proc.stdout), proc.stdout
    assert re.search(r"epochs \(fixed\)\s*│\s*3\s*│", proc.stdout), proc.stdout
    best = tomllib.loads((out / "best.toml").read_text())["models"][0]["params"]
    assert best["factors"] == 12 and best["epochs"] == 3 and "learning_rate" in best  # fixed + searched
    trials = (out / "trials.csv").read_text()
    assert "params_factors" not in trials  # never searched
    again = run("tune", "--model", "svd", "--resume", "--params", "factors=20", "--out", str(out))
    assert again.returncode == 2 and "keeps the fixed parameters" in again.stderr
    bad = run("tune", "--model", "svd", "--params", "fctors=3", "--out", str(tmp_path / "bad"))
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "fctors" in bad.stderr


def _table_rows(text: str) -> list[list[str]]:
    """The body lines of a printed list (``│ # │ movieId │ title │ …``), split into stripped cells; a line
    with an empty ``#`` cell is a row's continuation (a wrapped title or a second reason)."""
    return [[c.strip() for c in line.split("│")[1:-1]] for line in text.splitlines() if line.startswith("│")]


def test_every_list_row_is_one_line_at_80_columns() -> None:
    """At 80 columns svd's top 10 for user 1 took 17 lines: six titles wrapped over two or three lines
    beside a 'predicted rating' column reading 5.00 for nine of ten movies ('Dr. Strangelove or: How I' /
    'Learned to Stop Worrying and' / 'Love the Bomb (1964)'), and similar's 'Pirates of the Caribbean: The
    Curse of' / 'the Black Pearl (2003)'. Now the clipped rating gives way first (the score, that rating
    shrunk, stays and the caption says so), then a title too long for the room is cut at a word with its
    year kept; with room (130 columns) both columns and whole titles are back."""
    lists = [
        ("recommend", "--user", "1", "-m", "svd"),
        ("recommend", "--rated", "Toy Story", "--rated", "Alien=5", "-m", "svd", "--exclude", "Pulp Fiction"),
        ("recommend", "--user", "1", "-m", "svd", "--genre", "Comedy"),
        ("recommend", "--user", "1"),
        ("similar", "--movie", "Toy Story", "-m", "svd"),
    ]
    # each command runs once: svd's list for user 1 and the default list are read again below
    ran: dict[tuple[str, ...], subprocess.CompletedProcess[str]] = {}
    for args in lists:
        proc = ran[args] = run(*args)
        assert proc.returncode == 0, proc.stderr
        rows = _table_rows(proc.stdout)
        assert len(rows) == 10 and all(row[0] for row in rows), proc.stdout  # ten rows, no continuation
        assert all(cell_len(line) <= 80 for line in proc.stdout.splitlines()), proc.stdout
        assert "┃ predicted ┃" not in proc.stdout, proc.stdout  # the 'predicted' / 'rating' column gave way
        # a cut alternate title goes whole: 'Twelve Monkeys… (1995)', not 'Twelve Monkeys (a.k.a. 12… (1995)'
        cut = [row[2] for row in _table_rows(proc.stdout) if "…" in row[2]]
        assert all(re.fullmatch(r"[^()]*(\([^()]*\)[^()]*)*… \(\d{4}\)", t) for t in cut), cut
    svd = ran["recommend", "--user", "1", "-m", "svd"]
    titles = [row[2] for row in _table_rows(svd.stdout)]
    assert "Dr. Strangelove or: How I Learned… (1964)" in titles, titles  # cut at a word, year kept
    assert "Shawshank Redemption, The (1994)" in titles, titles  # what fits stays whole
    assert "score: the predicted rating, shrunk for rarely rated movies" in svd.stdout, svd.stdout
    wide = run("recommend", "--user", "1", "-m", "svd", columns=130)
    assert "┃ predicted ┃" in wide.stdout and "…" not in wide.stdout, wide.stdout
    assert "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1964)" in wide.stdout
    # the note said once, on one line: 'note: no --model given: the list is ease's (NDCG@10 0.21 against
    # svd's 0.08 on validation splits of ml-latest-small); --model svd ranks by predicted stars' was 160
    default = ran["recommend", "--user", "1"]
    notes = [line for line in default.stderr.splitlines() if line.startswith("note:")]
    assert notes == ["note: no --model given: the list is ease's; --model svd ranks by predicted stars"], (
        default.stderr
    )
    assert all(cell_len(line) <= 80 for line in notes)


def test_a_list_of_data_without_titles_has_no_title_column_repeating_the_id(tmp_path: Path) -> None:
    """A ratings file of one's own without --movies listed 'tt0114716 │ item tt0114716': the title column
    repeated every id (16 of 80 columns for IMDb ids), in recommend, --explain and similar alike. It is left
    out; the ids and the reasons stay (a reason reads 'movieId tt0001000', as a heading names such a movie), and
    with titles the column is back."""
    ratings = tmp_path / "ratings.csv"
    rows = [f"u{u},tt{1000 + (u * 3 + j) % 12:07d},{1 + (u + j) % 5}" for u in range(30) for j in range(6)]
    ratings.write_text("userId,movieId,rating\n" + "\n".join(rows) + "\n")
    for args in (
        ("recommend", "--user", "u1", "-m", "ease", "-k", "3"),
        ("recommend", "--user", "u1", "-m", "ease", "-k", "3", "--explain"),
        ("recommend", "--user", "u1", "-m", "svd", "-k", "3"),
        ("similar", "--movie-id", "tt0001000", "-k", "3"),
    ):
        proc = run(*args, "--ratings", str(ratings), "--min-support", "0")
        assert proc.returncode == 0, proc.stderr
        body = _table_rows(proc.stdout)
        assert body and "title" not in proc.stdout, proc.stdout
        assert all(re.fullmatch(r"tt\d{7}", row[1]) for row in body if row[0]), proc.stdout
        assert all(cell_len(line) <= 80 for line in proc.stdout.splitlines()), proc.stdout
        if "--explain" in args:
            assert any(row[-1].startswith("movieId tt") for row in body), proc.stdout  # a reason names its id
    titles = tmp_path / "titles.csv"
    titles.write_text("movieId,title\n" + "\n".join(f"tt{1000 + i:07d},Film {i} (2001)" for i in range(12)))
    proc = run(*"recommend --user u1 -m ease -k 3 --ratings".split(), str(ratings), "--movies", str(titles))
    assert proc.returncode == 0 and "┃ title" in proc.stdout and "Film " in proc.stdout, proc.stdout


def test_explained_lists_give_each_reason_its_own_line() -> None:
    """--explain's 'because' cell joined its movies with '; ', which the table broke anywhere at 80
    columns ('Alien (1979); Toy Story' / '(1995)'); now each reason is a line of its own, never broken."""
    proc = run("recommend", "--rated", "Toy Story", "--rated", "Alien=5", "--explain")
    assert proc.returncode == 0, proc.stderr
    assert all(cell_len(line) <= 80 for line in proc.stdout.splitlines()), proc.stdout
    reasons = [row[-1] for row in _table_rows(proc.stdout) if row[-1]]
    assert reasons and all(r in ("Toy Story (1995)", "Alien (1979)") for r in reasons), proc.stdout


def test_a_known_users_explained_list_keeps_each_reason_on_one_line_at_80_columns() -> None:
    """The README's ``recommend --user 1 --model ease --explain`` at 80 columns split the title and
    'because' columns evenly, so reasons broke: 'Clockwork Orange, A' over '(1971)', 'M*A*S*H (a.k.a.
    MASH)' over '(1970)', read as a reason each. The reasons column now keeps its longest reason's width
    and the titles wrap beside them, inside the row's two lines; every reason is a whole 'Title (year)'."""
    proc = run("recommend", "--user", "1", "--model", "ease", "--explain")
    assert proc.returncode == 0, proc.stderr
    assert all(cell_len(line) <= 80 for line in proc.stdout.splitlines()), proc.stdout
    rows = _table_rows(proc.stdout)
    reasons = [row[-1] for row in rows if row[-1]]
    assert len(reasons) >= 10 and all(re.fullmatch(r".+ \(\d{4}\)", r) for r in reasons), proc.stdout
    assert len(rows) == 20, proc.stdout  # two reasons a movie: the wrapped titles take no line of their own
    # a list without reasons where a note says why has no 'because' column: it was 0 cells wide, a bare
    # '┃  ┃' (4915f18c), then its header over ten blank cells a row; the list is the one without --explain
    none = run("recommend", "--user", "1", "--model", "knn-baseline", "--explain", "-k", "5")
    assert none.returncode == 0 and "knn-baseline's list rests on none of the user's movies" in none.stderr, (
        none.stderr
    )
    assert "because" not in none.stdout and "┃ ratings ┃" in none.stdout, none.stdout
    assert all(cell_len(line) <= 80 for line in none.stdout.splitlines()), none.stdout
    # so for a visitor's list from popularity (one list for everyone, the note says) and the fallback's
    for args, said in [
        (("--rated", "Alien", "-m", "popularity"), "popularity gives everyone the same list"),
        (("--user", "442", "-m", "ease"), "user 442 has no rating of 4 or more"),
    ]:
        blank = run("recommend", *args, "--explain", "-k", "3")
        assert blank.returncode == 0 and said in " ".join(blank.stderr.split()), blank.stderr
        assert "because" not in blank.stdout and "Shawshank" in blank.stdout, blank.stdout


def test_a_visitors_list_names_its_support_floor_as_a_known_users_does() -> None:
    """``recommend --user 1``'s title says 'only movies with ≥ 5 ratings of 4+'; ``recommend --rated …``
    passes the same floor (art.visitor's min_support) but its title left it out, so a newcomer running the
    README's two lines read one list as floored and the other not (helper-89)."""
    visitor = run("recommend", "--rated", "Toy Story=5", "--rated", "Alien", "-k", "3")
    assert visitor.returncode == 0, visitor.stderr
    text = " ".join(visitor.stdout.split())
    assert "Alien (1979) 5 · ease trained on ml-latest-small · only movies with ≥ 5 ratings of 4+" in text, (
        text
    )
    rating = run("recommend", "--rated", "Toy Story=5", "-m", "svd", "--min-support", "20", "-k", "3")
    assert rating.returncode == 0, rating.stderr
    assert "svd trained on ml-latest-small · only movies with ≥ 20 ratings" in " ".join(rating.stdout.split())


def test_a_long_list_title_breaks_between_its_parts() -> None:
    """``recommend --user 1``'s title word-wrapped at the terminal's width: at 80 columns 'top 3 for user 1 ·
    ease trained on ml-latest-small · only movies with ≥ 5 ratings' over 'of 4+' (at 85, '4+' alone). It
    breaks between its ' · ' parts now, the first line ending ' ·'; with room (200 columns) it is one line."""

    def title(columns: int) -> list[str]:
        proc = run("recommend", "--user", "1", "-k", "3", columns=columns)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split("┏")[0].splitlines()

    broken = ["top 3 for user 1 · ease trained on ml-latest-small ·", "only movies with ≥ 5 ratings of 4+"]
    assert title(80) == broken
    assert title(85) == broken
    assert title(200) == [" ".join(broken)]


def test_a_title_part_as_wide_as_the_terminal_keeps_its_mark_beside_a_word() -> None:
    """docs/new-users.md's ``recommend --rated "Toy Story=5" --rated Alien --rated "Heat=4.5"`` at 80 columns:
    the title's first part (who rated what) is 79 cells, and the ' ·' after it wrapped onto a line of its
    own, a lone '·' above the rest of the title. The word before the mark goes down with it."""
    proc = run(
        "recommend",
        "--rated",
        "Toy Story=5",
        "--rated",
        "Alien",
        "--rated",
        "Heat=4.5",
        "-k",
        "3",
        columns=80,
    )
    assert proc.returncode == 0, proc.stderr
    title = proc.stdout.split("┏")[0].splitlines()
    assert title == [
        "top 3 for someone who rated Toy Story (1995) 5, Alien (1979) 5, Heat (1995)",
        "4.5 ·",
        "ease trained on ml-latest-small · only movies with ≥ 5 ratings of 4+",
    ], title


def test_a_visitor_who_rated_thirty_movies_gets_a_heading_of_three_lines() -> None:
    """A visitor who rated 30 well-known movies got a heading naming all 30 with their ratings: ten lines
    at 80 columns above the table. Past five it names how many, the first three, any read from a near
    spelling (the heading is the CLI's only word on which movie a misspelt title was read as) and how
    many more; the list itself still rests on all 30."""
    titles = ["Toy Story (1995)", "Matrix, The", "Pulp Fiction", "Forrest Gump", "Shawshank", "Fargo"]
    titles += ["Silence of the Lambs", "Jurassic Park", "Braveheart", "Terminator 2", "Schindler's List"]
    titles += ["Fight Club", "Usual Suspects", "Godfather, The", "Back to the Future (1985)", "Memento"]
    titles += ["Titanic (1997)", "American Beauty", "Aladdin (1992)", "Lion King, The", "Gladiator (2000)"]
    titles += ["Saving Private Ryan", "Sixth Sense", "Dark Knight, The", "Inception", "Shrek (2001)"]
    titles += ["Finding Nmeo", "Apollo 13", "Speed (1994)", "Seven (a.k.a. Se7en)"]
    assert len(titles) == 30
    rated = [arg for t in titles for arg in ("--rated", f"{t}=4")]
    proc = run("recommend", *rated, "-k", "3")
    assert proc.returncode == 0, proc.stderr
    heading = " ".join(proc.stdout.split("┏")[0].splitlines())
    assert heading.startswith(
        "top 3 for someone who rated 30 movies: Toy Story (1995) 4, Matrix, The (1999) 4, Pulp Fiction "
        "(1994) 4, Finding Nemo (2003) 4 and 26 more · ease trained on ml-latest-small"
    ), heading
    assert len(proc.stdout.split("┏")[0].splitlines()) == 3, proc.stdout
    seen = [row[2] for row in _table_rows(proc.stdout) if row[0]]
    assert len(seen) == 3 and not {"Shawshank Redemption, The (1994)", "Finding Nemo (2003)"} & set(seen)


def test_a_rating_models_lists_say_why_score_and_predicted_rating_differ(tmp_path: Path) -> None:
    """A known user's list and a visitor's both show the predicted rating beside the ranking score where
    there is room (at 80 columns it gives way to the titles: test_every_list_row_is_one_line_…), and a
    caption says the score is that rating shrunk for rarely rated movies; a top-N model's list has neither,
    and its caption says its score is on the model's own scale (ease 0.136, itemknn 28.9: not ratings).

    The six commands read ml-latest-small's first 200 users as a MovieLens folder (``--dataset PATH``; 29k
    ratings of 5.6k movies): the captions and columns read as on the whole file, each fit or lift table
    costs ~1 s less, and the similar floor is still the default 5 (150 users would lower it to 4)."""
    from datagen import mlls_first_users

    data = ("--dataset", str(mlls_first_users(tmp_path / "mlls-200", 200)))
    caption = "score: the predicted rating, shrunk for rarely rated movies"
    for who in (["--user", "1"], ["--rated", "Toy Story=5", "--rated", "Alien=5"]):
        proc = run("recommend", *data, *who, "-k", "3", "-m", "svd", columns=100)  # room for both columns
        assert proc.returncode == 0, proc.stderr
        assert caption in proc.stdout and "predicted" in proc.stdout and "of 4+" not in proc.stdout, (
            proc.stdout
        )
        assert all(cell_len(line) <= 100 for line in proc.stdout.splitlines()), proc.stdout
    top_n = run("recommend", *data, "--rated", "Toy Story=5", "-k", "3", "-m", "ease")
    assert top_n.returncode == 0 and "predicted" not in top_n.stdout and caption not in top_n.stdout, (
        top_n.stdout
    )
    own_scale = "score: on the model's own scale, not a rating; only the order means something"
    assert own_scale in top_n.stdout, top_n.stdout
    # an implicit model counts the positives it trained on: its count column and floor say so (72ef02f)
    assert "of 4+ ┃" in top_n.stdout, top_n.stdout  # the header's second line: 'ratings' / 'of 4+'
    # similar's default lists by lift, a ratio to chance; -m ease's weights are on the model's own scale
    lift_caption = (
        "similarity: liked together this many times as often as chance says, shrunk for few co-ratings"
    )
    own_caption = "similarity: the model's own scale, shrunk for few co-ratings; only order counts"
    for model, caption in ((), lift_caption), (("-m", "ease"), own_caption):
        similar = run("similar", *data, "--movie", "Toy Story (1995)", "-k", "3", *model)
        assert similar.returncode == 0, similar.stderr
        flat = " ".join(similar.stdout.split())  # the caption wraps at 80 columns
        assert caption in flat, similar.stdout
        assert "· only movies with ≥ 5 ratings of 4+" in flat, similar.stdout  # the floor, not the user's
        assert "of 4+" in similar.stdout.split("┡")[0].splitlines()[-1], similar.stdout
    known = run("recommend", *data, "--user", "1", "-k", "3", "-m", "itemknn")
    assert known.returncode == 0 and own_scale in known.stdout, known.stdout
    assert all(cell_len(line) <= 80 for line in known.stdout.splitlines()), known.stdout


def test_the_rating_scale_option_reads_as_two_numbers_in_help() -> None:
    """--rating-scale takes two numbers (--rating-scale 1 5); its help read '<float,float>...', typer's
    rendering of a tuple, which suggested a comma."""
    text = run("recommend", "--help").stdout
    assert re.search(r"--rating-scale\s+MIN MAX\s", text) and "<float,float>" not in text, text


def _in_terminal(args: list[str], cwd: Path, columns: int = 80, until: str | None = None) -> str:
    """``movierec ARGS`` with stdout and stderr on a real pseudo-terminal ``columns`` wide, as a person at a
    terminal runs it: the text it wrote, colours stripped, one entry per line it wrote (a line wider than the
    window stays one line here: the terminal, not the program, would break it). With ``until``: interrupted
    (Ctrl-C) once that text has appeared, as a server is stopped."""
    return _on_a_terminal([sys.executable, "-m", "movierec", *args], cwd, columns, until)


#: the line :func:`_in_one_terminal`'s child writes between two commands' output
_NEXT_COMMAND = "=== next movierec command ==="

#: :func:`_in_one_terminal`'s child: each command through :func:`movierec.cli.main`, as the console script
#: runs it (``main`` ends in SystemExit; it forgets the last run's notes and outcomes as it starts, since a
#: process may run several), with a marker line between two commands' output
_COMMANDS_IN_TURN = f"""
import json, sys
from movierec.cli import main
for n, args in enumerate(json.loads(sys.argv[1])):
    if n:
        print({_NEXT_COMMAND!r}, flush=True)
    try:
        main(args)
    except SystemExit:
        pass
    sys.stdout.flush()
    sys.stderr.flush()
"""


def _in_one_terminal(commands: list[list[str]], cwd: Path, columns: int = 80) -> list[str]:
    """The text of each of ``commands`` (``movierec ARGS`` each) run in turn by one interpreter on one real
    pseudo-terminal ``columns`` wide, as :func:`_in_terminal` reads one: what the terminal shows is the
    command's, and a fresh interpreter for each cost ~1 CPU-s of imports (typer, rich, pandas) apiece."""
    text = _on_a_terminal([sys.executable, "-c", _COMMANDS_IN_TURN, json.dumps(commands)], cwd, columns)
    parts = text.split(_NEXT_COMMAND + "\n")
    assert len(parts) == len(commands), text
    return parts


def _on_a_terminal(argv: list[str], cwd: Path, columns: int = 80, until: str | None = None) -> str:
    """``argv`` run as :func:`_in_terminal` runs ``movierec ARGS``: the text it wrote on a pseudo-terminal
    ``columns`` wide, colours stripped; interrupted (Ctrl-C) once ``until`` has appeared."""
    import fcntl
    import pty
    import select
    import signal
    import struct
    import termios
    import time

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR")}
    proc = subprocess.Popen(
        argv,
        stdin=follower, stdout=follower, stderr=follower, cwd=cwd, env={**env, "TERM": "xterm"},
        preexec_fn=as_from_a_terminal,  # a background test run hands its children SIGINT ignored
    )  # fmt: skip
    os.close(follower)
    raw, deadline, stopped = b"", time.monotonic() + 240, False
    try:
        while time.monotonic() < deadline:
            if until is not None and not stopped and until.encode() in raw:
                proc.send_signal(signal.SIGINT)
                stopped = True
            if not select.select([leader], [], [], 0.2)[0]:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            raw += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        os.close(leader)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", "", raw.decode("utf-8", "replace"))
    return "\n".join(line.rsplit("\r", 1)[-1] if line.strip("\r") else "" for line in text.split("\r\n"))


def test_prose_lines_wrap_at_80_columns_when_piped(tmp_path: Path) -> None:
    """Piped into a log or a CI page (no terminal anywhere, no $COLUMNS), export's hold-out line was one line
    of 193 columns and compare's no-models note (say) 172, though compare's notes on stdout wrap at 80:
    print_prose and say wrap at the console's width there too (80), at spaces, each phrase whole once the
    lines are joined. Fails on the old code, which left piped prose on one line."""
    small = movierec.load("ml-latest-small").to_frame()
    small[small["userId"] <= 30].to_csv(tmp_path / "small.csv", index=False)
    # in this process when none of its stdin, stdout and stderr is a terminal (pytest's capture: /dev/null
    # and files), where rich, without $COLUMNS, finds no terminal's width, as a piped process finds none;
    # a fresh interpreter otherwise (pytest -s) or where FORCE_COLOR is set (read as the consoles are built)
    fresh = "FORCE_COLOR" in os.environ or any(os.isatty(fd) for fd in (0, 1, 2))
    unset: dict[str, str | None] = {"COLUMNS": None, "LINES": None, "FORCE_COLOR": None}

    def piped(*args: str) -> subprocess.CompletedProcess[str]:
        if fresh:
            env = {k: v for k, v in os.environ.items() if k not in unset}
            return subprocess.run(
                [sys.executable, "-m", "movierec", *args], capture_output=True, text=True, env=env, cwd=tmp_path,
                stdin=subprocess.DEVNULL, timeout=300,  # rich would take a terminal's width from stdin
            )  # fmt: skip
        return run_process(*args, cwd=tmp_path, env=unset)

    exported = piped("export", "--model", "popularity", "--out", "art")
    assert exported.returncode == 0, exported.stderr
    out = exported.stdout.splitlines()
    assert len(out) >= 3 and all(cell_len(line) <= 80 for line in out), out
    assert "hold-out (20% of ratings, seed 42; ranking over 595 users): NDCG@10" in " ".join(out), out
    noted = piped("compare", "--ratings", "small.csv", "--protocols", "full-ranking")
    assert noted.returncode == 0, noted.stderr
    note = [line for line in noted.stderr.splitlines() if not line.startswith("[")]  # progress lines apart
    assert all(cell_len(line) <= 80 for line in note), note
    flowing = " ".join(" ".join(note).split())
    assert "note: no --models given: comparing popularity,svd,ease" in flowing, note
    assert "`movierec models` lists them all" in flowing, note


def test_prose_lines_wrap_at_spaces_in_an_80_column_terminal(tmp_path: Path) -> None:
    """A newcomer at an 80-column terminal: data list's terms line (98 columns), the notes and warnings of
    every command (say), export's two result lines (82 and 174 columns) and serve's banner (~140) were each
    written as one line, which the terminal broke wherever the column ran out: 'ml-latest-sma' / 'll',
    'ndcg@' / '10 0.124 vs 0.16' / '5', 'item' / 's', 'R@10' / ' 0.219', '/metric' / 's'. In a terminal
    they are wrapped at spaces now, every line within 80 columns (piped too: the test above)."""

    def check(text: str, *phrases: str) -> None:
        prose = [line for line in text.splitlines() if not line.startswith("INFO:")]
        assert all(cell_len(line) <= 80 for line in prose), [line for line in prose if cell_len(line) > 80]
        flowing = " ".join(" ".join(prose).split())
        for phrase in phrases:
            assert phrase in flowing, (phrase, text)

    small = movierec.load("ml-latest-small").to_frame()
    small[small["userId"] <= 30].to_csv(tmp_path / "small.csv", index=False)
    # the four commands in one interpreter on the terminal (its width is read as each one prints); serve, which
    # is stopped by Ctrl-C, in one of its own below
    listed, noted, missing, exported = _in_one_terminal(
        [
            ["data", "list"],
            ["compare", "--ratings", "small.csv", "--protocols", "full-ranking"],
            ["recommend", "--artifact", "nowhere/at/all", "--user", "1"],
            ["export", "--model", "popularity", "--out", "art"],
        ],
        tmp_path,
    )
    check(listed, "only ml-latest-small is bundled.")
    # say(): the note that no --models were given (once the data has loaded: a few users' ratings here)
    check(noted, "note: no --models given: comparing popularity,svd,ease", "`movierec models` lists them all")
    # an error line too, wrapped at spaces: 'no such artifact folder (create one wit' / 'h ...' before
    assert missing.splitlines()[0].startswith("movierec: error: "), missing
    check(missing, "create one with")
    check(
        exported,
        "610 users × 9,724 items)",
        "hold-out (20% of ratings, seed 42; ranking over 595 users): NDCG@10",
    )
    # --port 0: the system picks the port as the server binds it, and the banner says which (a port picked
    # free beforehand could be taken by another test run in between)
    served = _in_terminal(
        ["serve", "--artifact", "art", "--port", "0", "--db", "none"], tmp_path, until="startup complete"
    )
    check(served, "serving popularity@", "docs /docs · metrics /metrics")
    port = re.search(r"on http://127\.0\.0\.1:(\d+) docs /docs", " ".join(served.split()))
    assert port is not None and int(port.group(1)) > 0, served
    assert f"Uvicorn running on http://127.0.0.1:{port.group(1)} " in served, served


def test_compares_caption_breaks_between_its_parts_and_no_line_ends_in_spaces() -> None:
    """At 80 columns compare's caption was word-wrapped mid-phrase ('(positives' over '≥ 4, 0.2 held out…',
    'relevance' over '≥ 4'), and piped (``| cat -A``) every interval row ended in 20-60 padding spaces and
    every wrapped note line in one. The caption now breaks between its ' · ' parts (the split's long one
    after a comma), one line at 200 columns; no line of the output, the CLI's or ``print(comparison)``'s,
    ends in a space."""
    from movierec.display import comparison_text
    from movierec.tables import caption

    proc = run("compare", "--models", "popularity")  # an implicit model: the split with the long caption
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line for line in lines if line != line.rstrip()] == []
    head = lines[: lines.index("")]
    assert head == [
        "ml-latest-small (sha256 80da8b3393da…) ·",
        "split: interactions-holdout (positives ≥ 4, 0.2 held out,",
        "LightFM random_train_test_split, seed 42) · K=10 · relevance ≥ 4 · seed 42",
    ]
    assert any(line.startswith("note: ") for line in lines)  # the notes are there, and wrapped
    wide = run("compare", "--models", "popularity", columns=200).stdout.splitlines()
    assert wide[0] == " ".join(head)
    comp = movierec.compare(movierec.load("ml-latest-small"), ["popularity"])
    text = comparison_text(comp, width=80).splitlines()
    assert text[:3] == head and caption(comp) == wide[0]
    assert [line for line in text if line != line.rstrip()] == []


def test_reports_piped_output_has_no_line_ending_in_spaces(tmp_path: Path) -> None:
    """Piped at 80 columns, ``movierec report`` left six lines ending in spaces: each interval row padded to
    the table's width, and the last word of each wrapped note, reading and timing line. It now prints
    them as compare does (``Rstripped`` / ``print_lines``).

    On ml-latest-small's first 30 users as a MovieLens folder (4,879 ratings of 2,412 movies; the bundled
    movies.csv whole): the same notes, reading, interval rows and timing line as on the whole file, for
    ease's movies × movies solve on a quarter of its 9,724 movies."""
    from datagen import mlls_first_users

    out = tmp_path / "rep"
    data = str(mlls_first_users(tmp_path / "mlls-30", 30))
    proc = run(
        "report", "--dataset", data, "--out", str(out), "--models", "popularity,ease", "--map-items", "200"
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line for line in lines if line != line.rstrip()] == []
    assert any(line.lstrip().startswith("[0.") for line in lines), proc.stdout  # the interval rows are there
    assert any("s in all:" in line for line in lines) and (out / "index.html").exists()


def test_a_row_whose_model_learned_item_features_says_so() -> None:
    """``compare --models popularity,ease,als,warp --item-features genres,tags`` printed rows 'ease' and
    'warp' like models without them; only a note naming the models that ignore them hinted otherwise. The
    model cell now reads 'warp+genres' (the report's NAME+feature form), in the CLI and print(comparison)
    alike, while the row's label, the key results.json, best.toml and Comparison.row read, stays 'warp'."""
    from movierec.display import comparison_text

    proc = run(
        "compare", "--models", "popularity,warp", "--item-features", "genres", "--params", "warp.epochs=2"
    )
    assert proc.returncode == 0, proc.stderr
    cells = [line.split()[0] for line in proc.stdout.splitlines() if line.startswith(("popularity", "warp"))]
    assert cells == ["popularity", "warp+genres"], proc.stdout
    assert "note: popularity ignores item features" in proc.stdout
    comp = movierec.compare(
        movierec.load("ml-latest-small"),
        [("popularity", {}), ("warp", {"epochs": 2})],
        item_features=["genres"],
        protocols="full-ranking",
    )
    assert [r.label for r in comp.rows] == ["popularity", "warp"]
    assert comp.row("warp", "full-ranking").label == "warp"
    text = comparison_text(comp, width=80)
    assert re.search(r"^warp\+genres +", text, re.M) and not re.search(r"^popularity\+", text, re.M), text


def test_the_seed_range_is_never_split_across_help_lines_at_80_columns() -> None:
    """--seed's '(0 … 2³² − 1).' broke at its spaces: eight commands' help at 80 columns ended the line in
    '2³² −' and put '1).' alone on the next. The range is one word now, '(0…2³²−1)'."""
    for command in ("compare", "recommend", "similar", "report", "embed", "export", "tune", "cold-users"):
        cells = [line.strip(" │") for line in run(command, "--help").stdout.splitlines()]
        assert any("(0…2³²−1)" in cell for cell in cells), command  # the range whole on one line


def _commands() -> list[list[str]]:
    """Every command and subcommand the CLI lists (``[]`` for ``movierec`` itself), hidden ones aside."""
    import typer

    from movierec.cli import app

    def walk(command: object, path: list[str]) -> list[list[str]]:
        subs = getattr(command, "commands", {})  # typer's own click: a group has its commands by name
        return [path] + [
            found
            for name, sub in subs.items()
            if not getattr(sub, "hidden", False)
            for found in walk(sub, [*path, name])
        ]

    return walk(typer.main.get_command(app), [])


def test_no_help_line_at_80_columns_is_a_lone_scrap_of_a_sentence() -> None:
    """compare --help at 80 columns wrapped --rating-col's '... every row a positive of' and left '1).' alone
    on the next line (and similar, report, embed, cold-users alike); tune's --header ended in '…).' alone.
    A line of 1 to 3 characters is such a scrap in any help; each command's help at 80 columns has none."""
    commands = _commands()
    assert len(commands) >= 20 and ["compare"] in commands and ["spark", "train"] in commands, commands
    scraps = []
    for command in commands:
        proc = run(*command, "--help")
        assert proc.returncode == 0, (command, proc.stderr)
        lines = proc.stdout.splitlines()
        scraps += [
            (command, lines[i - 1], line) for i, line in enumerate(lines) if 0 < len(line.strip(" │")) <= 3
        ]
    assert not scraps, scraps
