"""The documentation site builds with ``mkdocs build --strict`` (no broken links, no docstring warnings)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mkdocs_builds_strict_with_api_reference_zoo_and_tutorials(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    pytest.importorskip("mkdocs_jupyter")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    api = (site / "api" / "index.html").read_text()
    assert "Recommender" in api and "recommend" in api and "check_indices" in api
    zoo = (site / "models" / "index.html").read_text()
    from movierec.models.registry import MODELS

    for name in MODELS:
        assert f"<code>{name}</code>" in zoo, name
    assert "Koren" in zoo and "factors=80" in zoo
    for nb in ("01_tutorial", "02_tuning", "03_serving"):
        assert (site / "tutorials" / nb / "index.html").is_file(), nb
    # the tutorials run as the site builds: their pages show what each cell printed, not bare code, and
    # the figures as HTML that loads plotly.js (a kernel's plotly JSON left an empty space there)
    tutorial = (site / "tutorials" / "01_tutorial" / "index.html").read_text()
    assert "Toy Story 2 (1999)" in tutorial and "fitted in " in tutorial
    assert "cdn.plot.ly/plotly-" in tutorial
    assert "trial 4/4 complete" in (site / "tutorials" / "02_tuning" / "index.html").read_text()
    assert "full-ranking" in (site / "protocols" / "index.html").read_text()


def _hooks():  # type: ignore[no-untyped-def]
    """mkdocs_hooks.py, which mkdocs loads from the repository root (not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("mkdocs_hooks", ROOT / "mkdocs_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_notebook_cache_is_keyed_on_the_package_source_too(tmp_path: Path) -> None:
    """mkdocs-jupyter keys its cache of executed tutorials on the notebook alone, so a local site build
    after a change to movierec showed the old code's outputs. The cache folder now carries a key of the
    package's source: any source file changed, added or renamed gives another key (the notebooks run
    again); build outputs (bytecode, the compiled kernels) do not."""
    hooks = _hooks()
    src = tmp_path / "movierec"
    (src / "viz" / "templates").mkdir(parents=True)
    (src / "__pycache__").mkdir()
    (src / "recommender.py").write_text("def recommend(): return 1\n")
    (src / "viz" / "templates" / "report.html.j2").write_text("<p>{{ x }}</p>\n")
    (src / "__pycache__" / "recommender.cpython-311.pyc").write_bytes(b"\0old")
    (src / "_native.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\0old")
    key = hooks.source_key(src)
    assert re.fullmatch(r"[0-9a-f]{16}", key) and hooks.source_key(src) == key
    (src / "__pycache__" / "recommender.cpython-311.pyc").write_bytes(b"\0new")
    (src / "_native.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\0new")
    assert hooks.source_key(src) == key  # build outputs are not the source
    keys = {key}
    for change in (
        lambda: (src / "recommender.py").write_text("def recommend(): return 2\n"),
        lambda: (src / "viz" / "templates" / "report.html.j2").write_text("<p>{{ y }}</p>\n"),
        lambda: (src / "titles.py").write_text(""),
        lambda: (src / "titles.py").rename(src / "names.py"),
    ):
        change()
        keys.add(hooks.source_key(src))
    assert len(keys) == 5  # each change a new key
    assert hooks.source_key() == hooks.source_key(ROOT / "src" / "movierec")  # the package by default

    # the site's own config: the cache folder gains the key, and stale ones (other keys, the flat cache
    # keyed on notebooks alone) are dropped
    pytest.importorskip("mkdocs_jupyter")
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    plugin = config.plugins["mkdocs-jupyter"]
    assert plugin.config["cache"] and plugin.config["cache_dir"] == ".cache/mkdocs-jupyter"
    cache = tmp_path / "cache"
    (cache / "src-0123456789abcdef").mkdir(parents=True)
    (cache / "0f0f.json").write_text("{}")
    plugin.config["cache_dir"] = str(cache)
    hooks.on_config(config)
    keyed = cache / f"src-{hooks.source_key()}"
    assert plugin.config["cache_dir"] == str(keyed)
    assert not (cache / "src-0123456789abcdef").exists() and not (cache / "0f0f.json").exists()
