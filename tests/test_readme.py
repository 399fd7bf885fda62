"""README and docs name only flags the CLI has: every ``movierec …`` line and the option table are checked."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer

from movierec.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _commands() -> dict[str, set[str]]:
    """'compare' → its option strings (long and short); groups give 'data fetch' etc."""
    out: dict[str, set[str]] = {}

    def walk(cmd: object, path: list[str]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
            return
        opts = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
        out[" ".join(path)] = opts | {"--help"}

    walk(typer.main.get_command(app), [])
    return out


COMMANDS = _commands()
CLI = typer.main.get_command(app)


def _fences(text: str) -> list[tuple[str, str]]:
    """Each fenced block's (language, text), its opening and closing fence paired at their own indent. A
    search from any three backticks to the next paired a closing fence with the next opening one after a
    ```python or ```json block, so the flag check read prose and skipped blocks (index.md's commands, five
    of serving.md's)."""
    fences = re.finditer(r"^( *)```(\w*)\n(.*?)^\1```", text, flags=re.S | re.M)
    return [(fence.group(2), fence.group(3)) for fence in fences]


def _cli_lines(text: str) -> list[str]:
    """Lines of fenced shell blocks that run ``movierec``, split at ``&&`` and ``|``."""
    lines = []
    for language, block in _fences(text):
        if language not in ("", "bash", "sh", "console", "shell"):
            continue
        for raw in block.splitlines():
            line = raw.split(" #")[0].strip().lstrip("$ ").strip()
            for part in re.split(r"&&|\|", line):
                part = part.strip()
                if part.startswith("movierec "):
                    lines.append(part)
    return lines


def _resolve(words: list[str]) -> tuple[str, list[str]]:
    for n in (2, 1):
        name = " ".join(words[:n])
        if name in COMMANDS:
            return name, words[n:]
    raise AssertionError(f"no command {' '.join(words[:2])!r}")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_documented_command_line_uses_real_flags(doc: Path) -> None:
    lines = _cli_lines(doc.read_text())
    if doc.name == "README.md":
        assert len(lines) >= 10
    for line in lines:
        try:
            words = shlex.split(line)[1:]
        except ValueError:
            words = line.split()[1:]
        name, rest = _resolve(words)
        for w in rest:
            flag = w.split("=")[0]
            if flag.startswith("-") and not re.fullmatch(r"-\d+(\.\d+)?", flag):
                assert flag in COMMANDS[name], f"{doc.name}: `{line}`: {name} has no {flag}"


def _shell_commands(text: str) -> list[str]:
    """Each ``movierec …`` command of a page's shell blocks as the shell reads it: a line ended by a
    backslash joined to the next (the flag check above reads each line alone, so an option on a
    continuation line, docs/new-users.md's ``--user-features demographics``, was never checked), split at
    ``&&``, ``|`` and ``;``, its comment and a trailing ``&`` dropped; ``/opt/movierec/bin/movierec`` too."""
    commands = []
    for language, block in _fences(text):
        if language not in ("", "bash", "sh", "console", "shell"):
            continue
        for raw in re.sub(r"\\\n\s*", " ", block).splitlines():
            line = raw.split(" #")[0].strip().removeprefix("$ ").strip()
            for part in re.split(r"&&|\||;", line):
                part = part.strip().removesuffix("&").strip()
                if re.match(r"(\S*/)?movierec ", part):
                    commands.append(part)
    return commands


def _parse_error(words: list[str]) -> str | None:
    """What the CLI's parser says of ``movierec WORDS`` without running it (None: it parses): an unknown
    option, a value of the wrong type or off its list, a missing required option, a word left over."""
    command: Any = CLI
    try:
        ctx = command.make_context("movierec", list(words))
        while getattr(command, "commands", None):  # a group: down to its subcommand
            name, command, rest = command.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
            ctx = command.make_context(name, rest, parent=ctx)
    except typer.Exit:  # --help, which prints the help and stops
        return None
    except Exception as exc:  # click's own exceptions (typer vendors click): the message the user sees
        if hasattr(exc, "format_message"):
            return str(exc.format_message())
        raise
    return None


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_documented_command_parses_as_the_cli_reads_it(doc: Path) -> None:
    """A newcomer pastes a page's command: it gets past the parser (nothing runs here). Synopsis lines
    with placeholders (``[--json]``, ``…``, ``...``, ``<pid>``) are left out."""
    assert _parse_error(["export", "--model", "svd"]) == "Missing option '--out' / '-o'."  # the check bites
    assert _parse_error(["tune", "--trials", "many"]) is not None
    for line in _shell_commands(doc.read_text()):
        if re.search(r"\[|…|\.\.\.|<\w", line):
            continue
        said = _parse_error(shlex.split(line)[1:])
        assert said is None, f"{doc.name}: `{line}`: {said}"


def test_readme_option_table_is_true() -> None:
    text = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| `(--[a-z-]+)[^|]*?\| ([a-z ,-]+) \|$", text, flags=re.M)
    assert len(rows) >= 6, "the README's option table is missing"
    for flag, commands in rows:
        listed = {c.strip() for c in commands.split(",")}
        for cmd in listed:
            assert flag in COMMANDS[cmd], f"README says {cmd} takes {flag}"
        having = {name for name, opts in COMMANDS.items() if flag in opts}
        assert having == listed, f"README's {flag} row: missing {having - listed}, extra {listed - having}"


def test_every_flag_the_readme_mentions_exists() -> None:
    text = (ROOT / "README.md").read_text()
    every = set().union(*COMMANDS.values())
    for flag in set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", text)):
        assert flag in every, f"README mentions {flag}, which no command has"


def test_the_readme_python_example_runs_and_shows_what_its_comments_say() -> None:
    """The README's Python block, run as a newcomer pastes it: every line works, and the lists its comments
    promise are the ones it gives (its visitor list came from svd: Shawshank, Matrix, Pulp Fiction for
    someone who liked Alien and Heat, each "because" of both)."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"From Python.*?```python\n(.*?)```", text, flags=re.S)
    assert block is not None
    ns: dict[str, Any] = {}
    exec(compile(block.group(1), "README.md", "exec"), ns)  # our own README, pasted as a newcomer would
    rec, ranker = ns["rec"], ns["ranker"]
    assert 0.5 <= rec.predict(1, 1) <= 5.0
    visitor = ranker.recommend_for({"Alien": 5, "Heat": 4.5}, explain=True)
    assert list(visitor["title"][:2]) == [
        "Aliens (1986)",
        "Twelve Monkeys (a.k.a. 12 Monkeys) (1995)",
    ]  # as it says
    assert visitor["because"].str.len().gt(0).all()
    assert ranker.similar("Toy Story")["title"].iloc[0] == "Toy Story 2 (1999)"
    assert {"baseline", "svd", "ease"} <= set(ns["comparison"].to_frame()["model"])


def _extras(names: set[str]) -> set[str]:
    """pyproject's extras ``names`` with the extras they include (``report`` = ``movierec[viz]`` + implicit)."""
    import tomllib

    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    out, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in out:
            continue
        out.add(name)
        for req in table[name]:
            if req.startswith("movierec["):
                todo += req[len("movierec[") : req.index("]")].split(",")
    return out


def test_the_quick_start_runs_in_order_after_make_demo() -> None:
    """A newcomer types the Quick start's lines in order on a fresh clone. It named `movierec export … &&
    movierec serve …` right after `make demo`, but make demo leaves `movierec` in .venv/bin (not on the
    PATH: 'command not found') and installs only the report's extra, so serve stopped at 'this command needs
    uvicorn'. Every `movierec` line must come after the environment is activated, and a command that needs
    an extra (serve, tune) after a line that installs it; what make demo installs is read from the Makefile."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Quick start") : text.index("## Using it")]
    recipe = re.search(
        r"\.demo-installed:.*?\n(?:\t@echo .*?\n)*\t(.*?)\n", (ROOT / "Makefile").read_text(), flags=re.S
    )
    assert recipe is not None
    demo = set(re.findall(r"'\.\[([a-z,]+)\]'", recipe.group(1))[0].split(","))
    needs = {"serve": "serve", "tune": "tune"}  # the extra each command's import asks for
    table = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^serve = \[.*"uvicorn', table, flags=re.M) and re.search(
        r'^tune = \[.*"optuna', table, flags=re.M
    )
    installed: set[str] = set()
    activated = False
    ran: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
        for raw in block.splitlines():
            line = raw.split(" #")[0].strip()
            if line.startswith("make demo"):
                installed |= _extras(demo)
            elif line == "source .venv/bin/activate":
                activated = True
            elif line.startswith("pip install -e"):
                installed |= _extras(set(re.findall(r"\.\[([a-z,]+)\]", line)[0].split(",")))
            for part in (p.strip() for p in line.split("&&")):
                if part.startswith("movierec "):
                    command = part.split()[1]
                    assert activated, f"`{part}` before .venv is activated: movierec is not on the PATH"
                    need = needs.get(command)
                    assert need is None or need in installed, f"`{part}` needs the {need} extra: {installed}"
                    ran.append(command)
    assert "serve" in ran  # the quick start still ends in a served page


def test_what_the_readme_writes_into_the_checkout_is_ignored_by_git() -> None:
    """The README's commands write into the checkout: reports/, runs/ and artifacts/ (export's models,
    which hold every user's vectors). artifacts/ was not in .gitignore, so after the quick start `git status`
    listed it untracked, one `git add -A` from a commit of derived data."""
    import shutil
    import subprocess

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    text = (ROOT / "README.md").read_text()
    written = {m.split("/")[0] for m in re.findall(r"--out ([\w.-]+/[\w./-]*)", text)}
    assert {"reports", "runs", "artifacts"} <= written, written
    # a tune line without --out writes into tune's default folder, as its --help says: the README's nested
    # run ('tune --model svd --outer-folds 5 --trials 20') left tuning/svd-rmse-nested/ untracked
    tunes = [shlex.split(line) for line in _cli_lines(text) if line.startswith("movierec tune ")]
    if any("--out" not in words and "-o" not in words for words in tunes):
        from clihelp import run_process

        helped = " ".join(run_process("tune", "--help").stdout.split())
        default = re.search(r"Output folder \(default ([\w.-]+)/STUDY\)", helped)
        assert default is not None, helped
        written.add(default.group(1))
    for top in sorted(written):
        probe = f"{top}/readme-probe/manifest.json"
        proc = subprocess.run(["git", "check-ignore", "-q", probe], cwd=ROOT, capture_output=True)
        assert proc.returncode == 0, f"{probe}: README writes {top}/, which git does not ignore"


def _shown_as_printed(lines: list[str], start: int) -> bool:
    """Whether the note or warning at ``lines[start]`` is shown as the CLI prints it at 80 columns: some run
    of lines from it is exactly what ``prose_lines`` makes of their words (a note a page showed on one line
    of 217 characters is printed in three)."""
    from movierec.progress import prose_lines

    return any(
        prose_lines(" ".join(lines[start : end + 1]), 80) == lines[start : end + 1]
        for end in range(start, len(lines))
    )


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_a_note_a_page_shows_is_broken_where_the_cli_breaks_it(doc: Path) -> None:
    """Notes and warnings wrap at 80 columns in a terminal, a pipe or a log (errors stay one line, for grep);
    a page's console block shows them as they print there."""
    import textwrap

    for language, block in _fences(doc.read_text()):
        if language in ("python", "toml", "json"):
            continue
        lines = textwrap.dedent(block).splitlines()
        for i, line in enumerate(lines):
            if line.startswith(("note: ", "warning: ")):
                assert _shown_as_printed(lines, i), f"{doc.name}: not as printed at 80 columns: {line[:90]}"


def test_the_note_check_tells_a_wrapped_note_from_a_long_line() -> None:
    note = "note: " + "a fairly long sentence of words " * 4
    assert not _shown_as_printed([note.strip()], 0)
    assert _shown_as_printed(
        ["note: " + "a fairly long sentence of words " * 2 + "a fairly", "long sentence"], 0
    )
