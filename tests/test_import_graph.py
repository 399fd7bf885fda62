"""The package's import graph has no cycles, counting imports inside functions too.

A lazy import that closes a loop (``experiment`` → ``tuning`` → ``experiment``) still means two
modules each need the other; the fix is to move the shared piece down a layer (docs/architecture.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

import movierec

ROOT = Path(movierec.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            subs = {f"{base}.{a.name}" for a in node.names} & known
            found |= subs  # `from movierec import metrics` depends on movierec.metrics, not the package
            if len(subs) < len(node.names):
                found.add(base)
    return {m for m in found if m in known and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_package_import_graph_has_no_cycles() -> None:
    mods = _modules()
    graph = {name: _imports(name, path, set(mods)) for name, path in mods.items()}
    assert len(graph) > 50 and graph["movierec.tuning"]  # the scan found the package
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _module_level_imports(path: Path) -> set[str]:
    """Names a module imports when it is imported: its top level and class bodies, not function bodies nor
    ``if TYPE_CHECKING:`` blocks (absolute imports only: the package has no relative ones)."""
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if (
                isinstance(node, ast.If)
                and isinstance(node.test, ast.Name)
                and node.test.id == "TYPE_CHECKING"
            ):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
            for child in ast.iter_child_nodes(node):  # try: … except ImportError: bodies
                if isinstance(child, ast.excepthandler):
                    visit(child.body)
            for field in ("body", "orelse", "finalbody"):  # if, try, with, for and class bodies
                inner = getattr(node, field, None)
                if isinstance(inner, list):
                    visit(inner)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def _imported_with(start: str, mods: dict[str, Path]) -> dict[str, set[str]]:
    """Every package module importing ``start`` imports (its parents' ``__init__`` too), each with its own
    module-level imports."""
    out: dict[str, set[str]] = {}
    todo = [start]
    while todo:
        name = todo.pop()
        if name in out or name not in mods:
            continue
        out[name] = _module_level_imports(mods[name])
        parents = [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
        todo += [m for m in out[name] if m in mods] + parents
    return out


#: modules the server still imports pandas through: IdMap is a pandas Index (interactions) and MovieTable a
#: DataFrame subclass (display). Empty this when they no longer import it at module level.
SERVE_PANDAS_PENDING = {"movierec.interactions", "movierec.display"}


def test_the_server_modules_import_pandas_only_where_a_frame_is_built() -> None:
    """``movierec serve`` answers from numpy arrays; pandas (a quarter of a second of every server start and of
    each ``--workers`` process) is imported only by what builds frames: export, Python's lists, feedback
    reports. serving/app.py took FeatureValueError from demographics, and artifact, validate and store imported
    pandas at the top, each pulling it in before a request came."""
    mods = _modules()
    graph = _imported_with("movierec.serving.app", mods) | _imported_with("movierec.serving.server", mods)
    assert {"movierec.serving.artifact", "movierec.serving.store", "movierec.errors"} <= set(graph)
    with_pandas = {
        m for m, names in graph.items() if any(n == "pandas" or n.startswith("pandas.") for n in names)
    }
    assert with_pandas == SERVE_PANDAS_PENDING
