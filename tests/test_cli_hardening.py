"""Small CLI hardening (issue 23): option mistakes are one line, the API key stays out of ``ps``,
too little training data is said out loud."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from clihelp import run_process
from datagen import mlls_first_users
from movierec.cli import main
from movierec.errors import ConfigError, install_hint, localize_install


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
        (["export", "--model", "svd", "--out", "x", "--seed", "abc"], "invalid value for '--seed'"),
        (["compare", "--models", "svd", "-k", "ten"], "'-k': must be a whole number, got 'ten'"),
        # typer checks values with pydantic: 'Input should be greater than or equal to 2', the value unnamed
        (
            ["tune", "-m", "svd", "--outer-folds", "1"],
            "invalid value for '--outer-folds': must be ≥ 2, got 1",
        ),
        (["tune", "-m", "svd", "--cv", "1.5"], "invalid value for '--cv': must be a whole number, got '1.5'"),
        (["cold-users", "--fraction", "a fifth"], "'--fraction': must be a number, got 'a fifth' (see"),
        (["export", "--model", "svd"], "missing option '--out'"),
        (["export", "--no-such-option"], "no such option --no-such-option"),
    ],
)
def test_option_mistakes_are_one_line_exit_2(args: list[str], needle: str, capsys) -> None:
    code, err = _run(args, capsys)
    assert code == 2 and err.count("\n") == 1 and needle in err and "╭" not in err, err
    assert err.startswith("movierec: error: ") and err.endswith(f" (see 'movierec {args[0]} --help')\n")
    assert err.count("movierec") == 2, err  # the prefix and the help, not the command path again


@pytest.mark.parametrize(
    "args, line",
    [
        (["frobnicate"], "no such command 'frobnicate' (see 'movierec --help')"),
        (["comapre"], "no such command 'comapre'; did you mean 'compare'? (see 'movierec --help')"),
        (["cold_users"], "no such command 'cold_users'; did you mean 'cold-users'? (see 'movierec --help')"),
        (["data", "fech"], "no such command 'fech'; did you mean 'fetch'? (see 'movierec data --help')"),
        # a value typed where the command takes options: the option it was meant for
        (
            ["recommend", "1"],
            "got unexpected extra argument(s) (1); did you mean --user 1? (see 'movierec recommend --help')",
        ),
        (
            ["recommend", "Toy Story"],
            'got unexpected extra argument(s) (Toy Story); did you mean --rated "Toy Story" (someone who liked '
            "it) or similar \"Toy Story\"? (see 'movierec recommend --help')",
        ),
        (["recommend", "1", "2"], "got unexpected extra argument(s) (1 2) (see 'movierec recommend --help')"),
        (
            ["compare", "svd,ease"],
            "got unexpected extra argument(s) (svd,ease); did you mean --models svd,ease? (see 'movierec compare --help')",
        ),
        # words no spelling distance finds: 'data --help' says "describe datasets", the command is 'info'
        (
            ["data", "describe"],
            "no such command 'describe'; did you mean 'info'? (see 'movierec data --help')",
        ),
        (["train"], "no such command 'train'; did you mean 'export'? (see 'movierec --help')"),
        (["spark", "fit"], "no such command 'fit'; did you mean 'train'? (see 'movierec spark --help')"),
        (["evaluate"], "no such command 'evaluate'; did you mean 'compare'? (see 'movierec --help')"),
        # a command of a group typed without the group (the README's 'data info', 'data fetch'), or its synonym
        (["info"], "no such command 'info'; did you mean 'data info'? (see 'movierec --help')"),
        (["fetch", "ml-1m"], "no such command 'fetch'; did you mean 'data fetch'? (see 'movierec --help')"),
        (["download"], "no such command 'download'; did you mean 'data fetch'? (see 'movierec --help')"),
        (["describe"], "no such command 'describe'; did you mean 'data info'? (see 'movierec --help')"),
        (
            ["recommend", "--ratd", "x"],
            "no such option --ratd; did you mean --rated? (see 'movierec recommend --help')",
        ),
        (["recommend", "--bogus"], "no such option --bogus (see 'movierec recommend --help')"),
        # git's and pip's 'help COMMAND' and a 'version' command, where movierec has options for them
        (
            ["help", "recommend"],
            "no such command 'help'; did you mean 'movierec recommend --help'? (see 'movierec --help')",
        ),
        (
            ["data", "help", "fetch"],
            "no such command 'help'; did you mean 'movierec data fetch --help'? (see 'movierec data --help')",
        ),
        (["help", "nosuch"], "no such command 'help' (see 'movierec --help')"),
        (
            ["version"],
            "no such command 'version'; did you mean 'movierec --version'? (see 'movierec --help')",
        ),
        # the list-length and model words of Surprise (get_top_n's n), implicit (N=) and the papers' top-k
        (
            ["recommend", "--top", "5"],
            "no such option --top; did you mean -k? (see 'movierec recommend --help')",
        ),
        (["recommend", "-n", "5"], "no such option -n; did you mean -k? (see 'movierec recommend --help')"),
        (
            ["similar", "--top-k", "5"],
            "no such option --top-k; did you mean -k? (see 'movierec similar --help')",
        ),
        (
            ["recommend", "--algo", "svd"],
            "no such option --algo; did you mean --model? (see 'movierec recommend --help')",
        ),
        (
            ["compare", "--algorithms", "svd"],
            "no such option --algorithms; did you mean --models? (see 'movierec compare --help')",
        ),
        (["data", "list", "-n", "5"], "no such option -n (see 'movierec data list --help')"),
        (
            ["spark", "recommend", "--top", "5"],
            "no such option --top; did you mean -k? (see 'movierec spark recommend --help')",
        ),
        (["recommend", "-k"], "option '-k' requires an argument (see 'movierec recommend --help')"),
        (
            ["recommend", "--json=1"],
            "option '--json' does not take a value (see 'movierec recommend --help')",
        ),
        (["data", "fetch"], "missing argument 'name' (see 'movierec data fetch --help')"),
    ],
)
def test_usage_mistakes_are_one_clean_line(args: list[str], line: str, capsys) -> None:
    """click's words came after the CLI's prefix and the command path ('movierec: error: movierec: No such
    command 'frobnicate'.'); an option missing its value pointed at 'movierec --help', not the command's."""
    code, err = _run(args, capsys)
    assert code == 2 and err == f"movierec: error: {line}\n", err


def test_a_usage_mistake_from_the_shell_is_one_line_exit_2() -> None:
    """The installed entry point (``run``, reading ``sys.argv``) gives the same line and exit code."""

    for args, line in (
        (["frobnicate"], "no such command 'frobnicate' (see 'movierec --help')"),
        (["recommend", "-k"], "option '-k' requires an argument (see 'movierec recommend --help')"),
    ):
        done = run_process(*args, inherit_columns=True)
        assert done.returncode == 2 and done.stderr == f"movierec: error: {line}\n", done.stderr


def test_help_and_version_still_exit_0(capsys) -> None:
    assert _run(["--version"], capsys)[0] == 0
    assert _run(["export", "--help"], capsys)[0] == 0


@pytest.mark.parametrize("args", [["-h"], ["recommend", "-h"], ["data", "info", "-h"], ["spark", "-h"]])
def test_dash_h_is_help_as_in_most_command_lines(args: list[str], capsys) -> None:
    """``movierec -h`` and ``movierec recommend -h``, the first thing many type, said "no such option -h";
    -h is --help now, at every level (no command has a -h of its own), the same page."""

    def page(argv: list[str]) -> tuple[int, str, str]:
        try:
            main(argv)
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    code, short, err = page(args)
    assert code == 0 and err == "" and "Usage: movierec" in short, (code, err)
    assert short == page([*args[:-1], "--help"])[1]


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


#: A fresh interpreter that imports the libraries every movierec command imports first (numpy, pandas, scipy,
#: typer: none of them is an optional dependency nor imports one) and then forks one child per run of
#: :func:`_cli_without`. Each child is a process of its own, as ``python -c`` was: it blocks the modules, then
#: runs ``movierec``'s ``__main__`` (movierec and every optional library still unimported there), its stdout,
#: stderr and exit status its own, Python's exit rules for SystemExit and an uncaught exception. A fresh
#: ``python -c`` per run spent ~1.3 CPU-s, most of it importing those libraries, ~20 such runs in this file.
#: One request a line on stdin (JSON); the reply, a line on stdout, is the child's exit status.
_FORKER_CODE = r"""
import atexit, json, os, runpy, signal, sys, traceback
import numpy, pandas, scipy.linalg, scipy.sparse, typer
reply = sys.stdout
for line in sys.stdin:
    ask = json.loads(line)
    early = [m for m in ask["modules"] if m in sys.modules or "movierec" in sys.modules]
    if early:
        reply.write(json.dumps({"error": f"already imported before the fork: {early}"}) + "\n")
        reply.flush()
        continue
    reply.flush()
    pid = os.fork()
    if pid == 0:
        signal.alarm(300)  # subprocess.run's timeout=300: past it the run is killed
        for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, ask["out"], os.O_WRONLY), (2, ask["err"], os.O_WRONLY)):
            got = os.open(path, flags)
            os.dup2(got, fd)
            os.close(got)
        os.chdir(ask["cwd"])
        os.environ.clear()
        os.environ.update(ask["env"])
        sys.modules.update(dict.fromkeys(ask["modules"]))
        sys.argv = ["movierec", *ask["args"]]
        code = 0
        try:
            if "code" in ask:  # python -c CODE
                exec(compile(ask["code"], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
            else:
                runpy.run_module("movierec", run_name="__main__")
        except SystemExit as exc:  # as the interpreter ends on it: None 0, an int itself, anything else printed, 1
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except BaseException:
            traceback.print_exc()
            code = 1
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code & 0xFF)
    _, status, usage = os.wait4(pid, 0)
    reply.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status),
                            "cpu": usage.ru_utime + usage.ru_stime}) + "\n")
    reply.flush()
"""

_FORKER: list[subprocess.Popen[str]] = []


@pytest.fixture(scope="module", autouse=True)
def _forker_ends() -> Iterator[None]:
    """The forking interpreter (started by the first :func:`_cli_without`) ends with the module."""
    yield
    while _FORKER:
        forker = _FORKER.pop()
        assert forker.stdin is not None
        forker.stdin.close()
        forker.wait(timeout=60)


def _cli_without(
    module: str | tuple[str, ...], args: list[str], columns: int = 200
) -> subprocess.CompletedProcess[str]:
    """``movierec ARGS`` in a new process where importing ``module`` (or each of several) fails as if it
    were not installed (``sys.modules[module] = None``: both ``import`` and ``find_spec`` then report it
    missing), at ``columns`` wide: a child forked from ``_FORKER_CODE``'s interpreter, so neither movierec nor
    the module was imported in it before."""
    modules = [module] if isinstance(module, str) else list(module)
    env = {**os.environ, "COLUMNS": str(columns), "MOVIEREC_PROGRESS": "plain"}
    return _forked(modules, args, env)


def _forked(
    modules: list[str], args: list[str], env: dict[str, str], code: str | None = None
) -> subprocess.CompletedProcess[str]:
    """A child of ``_FORKER_CODE``'s interpreter with ``modules`` blocked and ``env`` its environment:
    ``movierec ARGS``, or ``python -c CODE`` where ``code`` is given."""
    import sys
    import tempfile

    if not _FORKER or _FORKER[0].poll() is not None:
        _FORKER[:] = [
            subprocess.Popen(
                [sys.executable, "-c", _FORKER_CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
        ]
    forker = _FORKER[0]
    assert forker.stdin is not None and forker.stdout is not None
    with tempfile.TemporaryDirectory() as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        out.touch()
        err.touch()
        ask = {
            "modules": modules,
            "args": args,
            "env": env,
            "cwd": os.getcwd(),
            "out": str(out),
            "err": str(err),
        }
        if code is not None:
            ask["code"] = code
        forker.stdin.write(json.dumps(ask) + "\n")
        forker.stdin.flush()
        done = json.loads(forker.stdout.readline() or '{"error": "the forking interpreter ended"}')
        assert "error" not in done, done
        argv = [sys.executable, "-m", "movierec", *args] if code is None else [sys.executable, "-c", code]
        return subprocess.CompletedProcess(argv, done["returncode"], out.read_text(), err.read_text())


@pytest.mark.parametrize(
    ("module", "models", "needle"),
    [
        ("torch", "popularity,ease,sasrec", "model 'sasrec' needs torch: pip install torch==2.13.0 'movierec[seq]'"),
        ("torch", "ease,mult-vae", "model 'mult-vae' needs torch"),
        ("lightfm", "ease,lightfm:bpr", "model 'lightfm:bpr' needs lightfm: pip install 'movierec[reference]'"),
        ("implicit", "ease,als", "model 'als' needs implicit: pip install 'movierec[report]'"),
        ("cornac", "ease,cornac:bpr", "model 'cornac:bpr' needs cornac"),
    ],
)  # fmt: skip
def test_a_model_whose_library_is_missing_stops_compare_before_any_model_trains(
    module: str, models: str, needle: str
) -> None:
    """compare used to train and evaluate every model before the one whose library was missing, then fail
    (`compare --models popularity,ease,markov,sasrec` without torch: three fits, then "needs torch")."""
    out = _cli_without(module, ["compare", "--models", models])
    assert out.returncode == 2, (out.returncode, out.stdout[-1500:], out.stderr[-1500:])
    text = out.stdout + out.stderr
    assert localize_install(needle) in text, text[-1500:]  # the hint as this install takes it
    assert "fitted in" not in text and "fitting" not in text, text[-1500:]  # nothing trained first


@pytest.mark.parametrize(
    ("modules", "args", "needs"),
    [
        (("matplotlib",), [], "matplotlib, which is"),
        (("implicit",), [], "implicit (for als), which is"),
        (("matplotlib", "implicit"), [], "matplotlib and implicit (for als), which are"),
        (("umap",), ["--projection", "umap"], "umap-learn, which is"),
        (("torch", "plotly"), ["--models", "ease,sasrec"], "plotly, which is"),
    ],
)  # fmt: skip
def test_report_names_everything_it_needs_and_the_one_extra_first(
    modules: tuple[str, ...], args: list[str], needs: str, tmp_path: Path
) -> None:
    """With only the serve extra, ``movierec report`` said "charts need matplotlib: pip install …[viz]" after
    loading the data, and once viz was installed "model 'als' needs implicit: pip install …[report]": two
    rounds. Now one line, before the data loads, names every missing module and the report extra (which holds
    viz and implicit); a model another extra serves (sasrec's torch) is named after it with its own install."""
    out = _cli_without(modules, ["report", "--out", str(tmp_path / "r"), *args])
    assert out.returncode == 2, (out.stdout[-1500:], out.stderr[-1500:])
    line = f"movierec: error: the report needs {needs} not installed here: {install_hint('report')}"
    if "torch" in modules:
        line += "; model 'sasrec' needs torch: " + localize_install(
            "pip install torch==2.13.0 'movierec[seq]'"
        )
    assert out.stderr.strip() == line, out.stderr[-1500:]
    assert "[viz]" not in out.stderr and not (tmp_path / "r").exists()


def test_build_report_in_python_names_the_report_extra_before_loading() -> None:
    """build_report (the report's pipeline, which a notebook calls) makes the same check before it loads.
    Run as ``python -c CODE`` runs it, in a child forked from ``_FORKER_CODE``'s interpreter."""
    code = (
        "import sys; sys.modules.update(dict.fromkeys(('matplotlib', 'implicit')))\n"
        "from movierec.errors import ConfigError\nfrom movierec.viz.report import build_report\n"
        "try:\n    build_report('no-such-dataset', show_progress=False)\n"
        "except ConfigError as exc:\n    print(exc)\n"
    )
    out = _forked([], [], dict(os.environ), code)
    assert out.stdout.strip() == (
        f"the report needs matplotlib and implicit (for als), which are not installed here: {install_hint('report')}"
    ), (out.stdout, out.stderr[-1500:])


def test_an_ensemble_with_a_base_whose_library_is_missing_is_refused_before_training() -> None:
    out = _cli_without(
        "implicit",
        ["recommend", "--user", "1", "--model", "ensemble", "--params", 'bases={"ease": {}, "als": {}}'],
    )
    assert out.returncode == 2, (out.stdout[-1500:], out.stderr[-1500:])
    assert f"ensemble base 'als' needs implicit: {install_hint('report')}" in out.stdout + out.stderr


def test_models_lists_what_to_install_for_a_model_whose_library_is_missing() -> None:
    out = _cli_without("torch", ["models", "--json"])
    assert out.returncode == 0, out.stderr[-1500:]
    infos = {i["name"]: i for i in json.loads(out.stdout)}
    assert infos["sasrec"]["available"] is False and infos["recvae"]["available"] is False
    assert infos["sasrec"]["install"] == localize_install("pip install torch==2.13.0 'movierec[seq]'")
    assert infos["ease"]["available"] is True  # only the models that need torch
    listed = " ".join(_cli_without("torch", ["models"]).stdout.split())
    assert (
        "not installed here: mult-vae, recvae, sasrec, gru4rec, cornac:bivae; to add them: pip install"
        in listed
    )
    # one such model in full: its head and what to install ('models sasrec' ended in KeyError 'acts_only_with')
    for module, name, needs in (
        ("torch", "sasrec", "needs torch"),
        ("surprise", "surprise:svd", "'surprise'"),
    ):
        one = _cli_without(module, ["models", name])
        assert one.returncode == 0 and one.stderr == "", one.stderr[-1500:]
        assert one.stdout.startswith(f"{name} (not installed) · ") and needs in one.stdout, one.stdout


def test_models_prints_the_install_command_whole_at_80_columns() -> None:
    """`movierec models` at 80 columns broke its install hint mid-command, '(pip install torch==2.13.0' ending
    one line and "-e '/checkout[seq]')" beginning the next: pasted, neither line installs anything. The
    command now has a line of its own, never wrapped, below the names it adds."""
    out = _cli_without("torch", ["models"], columns=80)
    assert out.returncode == 0, out.stderr[-1500:]
    lines = out.stdout.splitlines()
    command = "  " + localize_install("pip install torch==2.13.0 'movierec[seq]'")
    assert command in lines, out.stdout
    assert lines[lines.index(command) - 1].endswith("them:"), out.stdout  # the end of "…; to add them:"
    prose = [line for line in lines if line != command]
    assert max(len(line) for line in prose) <= 80, out.stdout


def test_tune_refuses_a_model_whose_library_is_missing_before_any_trial_or_folder(tmp_path: Path) -> None:
    out = _cli_without("torch", ["tune", "--model", "recvae", "--trials", "2", "--out", str(tmp_path / "t")])
    assert out.returncode == 2, (out.stdout[-1500:], out.stderr[-1500:])
    text = out.stdout + out.stderr
    assert "model 'recvae' needs torch" in text and "Trial" not in text, text[-1500:]
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize(
    ("module", "args", "extra"),
    [
        ("uvicorn", ["serve", "--artifact", "nowhere"], "serve"),
        ("fastapi", ["serve", "--artifact", "nowhere"], "serve"),
        ("sqlalchemy", ["feedback", "report", "--db", "nowhere.db"], "serve"),
    ],
)
def test_a_command_whose_extra_is_missing_says_which_to_install(
    module: str, args: list[str], extra: str
) -> None:
    """`movierec serve` without the serve extra ended in a 30-line ModuleNotFoundError traceback."""
    out = _cli_without(module, args)
    assert out.returncode == 2, (out.stdout[-1500:], out.stderr[-1500:])
    assert out.stderr.strip() == (
        f"movierec: error: this command needs {module}, which is not installed: {install_hint(extra)}"
    )


def test_a_missing_module_that_is_not_an_optional_dependency_stays_a_bug() -> None:
    from movierec.cli import missing_extra

    assert missing_extra(ModuleNotFoundError("no", name="movierec.nowhere")) is None
    assert missing_extra(ModuleNotFoundError("no", name="left_pad")) is None
    assert missing_extra(ModuleNotFoundError("no", name="sklearn.utils")) == (
        f"this command needs sklearn, which is not installed: {install_hint('viz')}"
    )


def test_an_install_hint_fits_an_editable_checkout() -> None:
    """After the README's make demo, movierec is an editable install of the checkout, where `pip install
    'movierec[serve]'` would fetch a package of that name from the index in place of the checkout. The
    hints there name the checkout: `pip install -e '/path/to/checkout[serve]'`."""
    import json
    from importlib import metadata

    editable = [
        json.loads(d.read_text("direct_url.json") or "{}").get("dir_info", {}).get("editable")
        for d in metadata.distributions(name="movierec")
    ]
    if not any(editable):
        pytest.skip("movierec is not an editable install here")
    root = Path(__file__).resolve().parents[1]
    assert install_hint("serve") == f"pip install -e '{root}[serve]'"
    assert localize_install("needs torch: pip install torch==2.13.0 'movierec[seq]'") == (
        f"needs torch: pip install torch==2.13.0 -e '{root}[seq]'"
    )
    assert str(ConfigError("charts need plotly: pip install 'movierec[viz]'")).endswith(f"-e '{root}[viz]'")
    out = _cli_without("uvicorn", ["serve", "--artifact", "nowhere"])
    assert out.stderr.strip().endswith(f"pip install -e '{root}[serve]'"), out.stderr


def test_a_library_warning_is_one_warning_line_not_a_source_listing(capsys) -> None:
    """Python's default display printed the raising file's path, line number and source line
    (`evaluation.py:984: UserWarning: … model.fit(train, **kwargs)`) in the middle of compare's progress."""
    import warnings

    before = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code, err = _run(
            ["compare", "--models", "bpr", "--item-features", "genres", "--protocols", "full-ranking",
             "--params", "bpr.normalize_features=true,bpr.epochs=1"],
            capsys,
        )  # fmt: skip
    assert code == 0, err[-2000:]
    lines = [ln for ln in err.splitlines() if "normalize_features=True" in ln]
    assert len(lines) == 1 and lines[0].startswith("warning: bpr with item features"), err[-2000:]
    assert "UserWarning" not in err and ".py:" not in err and "model.fit(" not in err, err[-2000:]
    assert warnings.showwarning is before  # restored when the command ends


@pytest.mark.parametrize(
    "model, needle",
    [
        ("ials", "ials: weighting must be 'binary' (iALS weighs every positive 1; als weighs"),
        ("implicit:bpr", "implicit:bpr: weighting must be 'binary' (implicit's BPR samples"),
        ("lightfm:warp-kos", "lightfm:warp-kos: weighting must be 'binary' (LightFM's k-OS loss"),
    ],
)
def test_a_weighting_a_model_cannot_use_stops_compare_before_any_model_trains(
    model: str, needle: str, capsys
) -> None:
    """These models read which items a user has, not their weights: weighting='rating' trained the same
    model as 'binary' (LightFM's k-OS raised NotImplementedError from inside the library), and a bad value
    was first checked by fit, after the models before it in --models had trained."""
    code, err = _run(
        ["compare", "--models", f"ease,{model}", "--params", f"{model}.weighting=rating"], capsys
    )
    assert code == 2 and err.count("\n") == 1 and needle in err, err  # the one line: nothing trained first


def test_weighting_by_rating_changes_an_implicit_models_list(capsys, tmp_path: Path) -> None:
    """The implicit view the CLI trains on holds 1 per positive; weighting='rating' now weighs each by its
    rating (it used to give the binary list, to the last digit). On ml-latest-small's first 150 users (the
    bundled files' reading path; the two ease runs took 1.05-1.44 CPU-s on the whole file, 0.36-0.50 here):
    the weighting is applied whatever the data's size."""
    data = ["--dataset", str(mlls_first_users(tmp_path / "mlls150"))]
    args = ["recommend", "--user", "1", "-m", "ease", "-k", "5", "--json", *data]
    lists = {}
    for w in ("binary", "rating"):
        with pytest.raises(SystemExit) as done:
            main([*args, "--params", f"weighting={w}"])
        assert done.value.code in (0, None)
        lists[w] = [(r["movieId"], r["score"]) for r in json.loads(capsys.readouterr().out)]
    assert lists["binary"] != lists["rating"], lists


def _good_csv(folder: Path) -> Path:
    """A small ratings file: three users, three movies, no times."""
    good = folder / "good.csv"
    good.write_text("userId,movieId,rating\n1,1,4\n1,2,3\n2,1,5\n2,3,2\n3,2,4\n")
    return good


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_a_file_that_is_not_a_feedback_database_is_one_line_and_left_untouched(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``feedback report --db keep.csv`` and ``data info --with-feedback keep.csv`` (a text file) ended in
    sqlalchemy's ~140-line ``DatabaseError: file is not a database``; an empty file was turned into a
    SQLite database in place, and another program's database was switched to WAL before being refused."""
    import sqlite3

    monkeypatch.chdir(tmp_path)
    _good_csv(tmp_path)
    Path("keep.csv").write_text("hello, this is mine\n")
    Path("empty.db").write_bytes(b"")
    other = sqlite3.connect("other.db")
    other.execute("CREATE TABLE t (x)")
    other.commit()
    other.close()
    before = _snapshot(tmp_path)
    cases = {
        "keep.csv": "not a SQLite file",
        "empty.db": "the file is empty",
        "other.db": "no table 'feedback'",
    }
    for name, why in cases.items():
        # the CLI names its own option: --db, --with-feedback (merge_feedback in Python names both spellings)
        for label, args in (
            (f"--db {name}", ["feedback", "report", "--db", name]),
            (f"--with-feedback {name}", ["data", "info", "--ratings", "good.csv", "--with-feedback", name]),
        ):
            code, err = _run(args, capsys)
            lines = [ln for ln in err.splitlines() if not ln.startswith("note:")]
            assert code == 2 and len(lines) == 1, err
            assert lines[0] == f"movierec: error: {label}: not a movierec feedback database ({why})", err
    code, err = _run(["serve", "--artifact", "nowhere", "--db", "keep.csv"], capsys)
    assert code == 2 and err.count("\n") == 1 and "not a feedback database (not a SQLite file)" in err, err
    assert _snapshot(tmp_path) == before  # same bytes, same mtimes, no -wal/-shm beside them


def test_report_force_never_writes_into_a_folder_that_holds_no_report(tmp_path: Path, capsys) -> None:
    """``report --out DIR --force`` where DIR held someone's ``results.json`` and no report overwrote it
    (and left a ``charts/`` folder); ``--force`` replaces "a different report", and compare refuses this."""
    good, out = _good_csv(tmp_path), tmp_path / "DIR"
    out.mkdir()
    (out / "results.json").write_text('{"mine": 1}\n')
    before = _snapshot(out)
    args = ["report", "-m", "popularity", "--ratings", str(good), "--projection", "pca", "--out", str(out)]
    # with --force typed, the line said again "force replaces only a movierec report (--force)": it now says
    # why --force does not apply here, naming a file movierec did not write, and what to do
    for force, why in (([], " and no movierec report"), (["--force"], ", which --force never replaces")):
        code, err = _run(args + force, capsys)
        lines = [ln for ln in err.splitlines() if not ln.startswith("note:")]
        assert code == 2 and len(lines) == 1, err
        assert lines[0] == (
            f"movierec: error: --out {out}: holds files movierec did not write (results.json){why}; nothing "
            "was changed — choose a new or empty folder"
        ), err
        assert _snapshot(out) == before  # results.json as it was, no charts/ beside it


def test_a_failed_serve_or_embed_leaves_no_database_or_empty_folder_behind(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve --artifact emptydir`` failed but left ``feedback.db``, ``-shm`` and ``-wal`` in the current
    folder (the store was created before the artifact loaded); ``embed -m popularity --out e2`` failed (no
    item vectors) but left an empty ``e2/``."""
    monkeypatch.chdir(tmp_path)
    good = _good_csv(tmp_path)
    Path("emptydir").mkdir()
    Path("kept").mkdir()  # there before the run: an empty folder the user made stays
    code, err = _run(["serve", "--artifact", "emptydir"], capsys)
    assert code == 2 and err.count("\n") == 1 and "not an artifact" in err, err
    for out in ("e2", "deep/a/b", "kept"):
        code, err = _run(["embed", "-m", "popularity", "--ratings", str(good), "--out", out], capsys)
        lines = [ln for ln in err.splitlines() if not ln.startswith("note:")]
        # refused before the data loads or the model fits (it declares no item vectors), --out untouched
        assert code == 2 and len(lines) == 1 and "--model popularity: learns no item vectors" in lines[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emptydir", "good.csv", "kept"]
    assert not any(Path("kept").iterdir())


@pytest.mark.parametrize(
    "args, own",
    [
        (["recommend", "--user", "1", "--model", "lightfm:warp"], "warp"),
        (["recommend", "--rated", "Alien", "--model", "surprise:svd"], "svd"),
        (["similar", "--movie", "Toy Story", "--model", "myfm:bfm"], "bayesian-fm"),
    ],
)
def test_a_reference_backend_asked_for_lists_names_the_movierec_model(
    args: list[str], own: str, capsys
) -> None:
    """A Surprise or LightFM name is what a newcomer types first: the refusal said 'cannot export' (they
    asked for no export) and did not say where those names do run."""
    code, err = _run(args, capsys)
    name = args[args.index("--model") + 1]
    assert code == 2 and err.count("\n") == 1 and "export" not in err, err
    assert err == (
        f"movierec: error: {name!r} is a reference backend: it runs only in compare, beside movierec's own "
        f"models, for parity checks; for lists use --model {own}\n"
    )


@pytest.mark.parametrize(
    "args, said",
    [
        (["recommend", "--user", "1", "--model", "surprise:svdd"], " (did you mean 'surprise:svd'?); all "),
        (["similar", "Toy Story", "--model", "lightfm:warpp"], " (did you mean 'lightfm:warp'?); all "),
        (["recommend", "--user", "1", "-m", "implicit:als"], ": implicit's AlternatingLeastSquares is als"),
    ],
)
def test_a_mistyped_reference_backend_is_an_unknown_model_not_a_model_to_use(
    args: list[str], said: str, capsys
) -> None:
    """``recommend --model surprise:svdd`` answered "'surprise:svdd' is a reference backend ...; for lists
    use --model svdd", sending a newcomer to a model that does not exist (and called implicit:als, which
    compare does not run, a reference backend). A name that is no reference backend now gets the unknown
    model's line every other command gives it (export, compare): the guess, and where the list is."""
    code, err = _run(args, capsys)
    name = args[-1]
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"movierec: error: unknown model {name!r}{said}"), err
    assert "reference backend" not in err and "for lists use" not in err, err


@pytest.mark.parametrize(
    "args",
    [["recommend", "--user", "1", "--model", "eas"], ["compare", "--models", "eas"], ["models", "eas"]],
)
def test_a_mistyped_model_gets_the_fix_and_where_the_list_is_not_the_list(args: list[str]) -> None:
    """``recommend --user 1 --model eas`` printed the guess, then all 52 model names: one 725-character
    line, 10 lines at 80 columns. Now one line of the guess and the command that lists them."""
    done = run_process(*args, env={"COLUMNS": "80"})
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("movierec: error: unknown model 'eas' (did you mean 'ease'?); all ")
    assert "movierec models" in done.stderr and "global-mean" not in done.stderr
    assert len(lines) == 1 and len(lines[0]) <= 160, lines


#: two rows of an 80-column terminal: a refusal that wraps once still reads as one sentence; the lines
#: below were 196 to 703 characters (3 to 9 rows), the guess and the fix lost in the list after them
TWO_ROWS = 160


@pytest.mark.parametrize(
    "args, fix",
    [
        (["models", "zzzz"], "e.g. svd, ease, als, popularity; all 52 models: "),  # was 703
        (
            ["compare", "--models", "svd", "--params", "svd.factrs=3"],
            "(did you mean 'factors'?); all 11: movierec models svd",
        ),  # 201
        (
            ["compare", "--models", "sasrec", "--params", "sasrec.zzz=3"],
            "(16 in all: movierec models sasrec)",
        ),  # 217
        (
            ["recommend", "--user", "999999"],
            "(its 610 users have ids 1 to 610); for someone not in the data, use --rated",
        ),  # 196
        (
            ["recommend", "--user", "1", "--genre", "Comdy"],
            "unknown genre 'Comdy' (did you mean 'Comedy'?)",
        ),  # 247
        (
            ["recommend", "--user", "1", "--genre", "zzz"],
            "unknown genre 'zzz' (e.g. Action, Adventure, Animation, Children, Comedy, Crime, Documentary, …); "
            "all 19 genres: movierec data info",
        ),  # 220
        (
            ["compare", "--models", "svd", "--split", "tempral"],
            "(did you mean 'temporal'?); all 15: movierec compare --help",
        ),  # 238
        (
            ["compare", "--models", "svd", "--protocols", "ful-ranking"],
            "(did you mean 'full-ranking'?); all 6: movierec compare",
        ),  # 181
        (
            ["similar", "Star Wars Episode"],
            "did you mean: Star Wars: Episode IV - A… (1977); … V - The Empire Strikes Back (1980) (or 5 more)?",
        ),  # 430, then one title "(or 6 more)"
        (
            ["similar", "Star Warz"],
            "Star Wars: Episode IV - A New Hope (1977); … V - The Empire Strikes… (1980) (or 11 more)?",
        ),  # 147, with Rogue One and Solo first; then one title "(or 7 more)" of 13; 3 rows wrapped at spaces
        (  # 453; the most-rated and another of the 20 most-rated, whole (4f45014), examples without ids
            ["similar", "The"],
            "Shawshank Redemption, The (1994); Matrix, The (1999) and 2938 more; be more specific",
        ),
        (
            ["similar", "Harry Potter"],
            "8 movies: Harry Potter and the Sorcerer's… (2001), movieId 4896 and 7 more; add the year or use "
            "--movie-id 4896",  # whole words
        ),  # 191: one title of 95 characters "and 7 more"
        (["tune", "-m", "svd", "--metric", "ndgc"], "(did you mean 'ndcg'?); valid: rmse, "),  # 164
        (
            ["compare", "--models", "svd", "--split", "zzz"],
            "'zzz'; valid: auto, ratings-holdout, interactions-holdout, per-user, … (15 in all: movierec compare",
        ),  # 234, then 166
        (
            ["data", "info", "--dataset", "ml-10"],
            "(did you mean 'ml-10m'?); all 8: movierec data list",
        ),  # 162
        (
            ["tune", "-m", "sasrec"],
            "models have one, e.g. ease, als, itemknn (movierec models NAME shows it)",
        ),  # 298
    ],
)
def test_a_refusal_fits_two_rows_at_80_columns_and_keeps_its_fix(args: list[str], fix: str, capsys) -> None:
    """The longest refusals (helper-174's newcomer run: a genre 249, a hyperparameter 201, a user 195
    columns): the guess and the fix stay, a long list gives way to its count and the command that lists
    it (:func:`movierec.errors.some_of`), titles to the first that fit."""
    code, err = _run(args, capsys)
    assert code == 2 and err.count("\n") == 1 and fix in err, err
    assert len(err.rstrip("\n")) <= TWO_ROWS, (len(err), err)
