"""mkdocs hooks: the model zoo table is generated from the registry and bench/results at build time,
and the tutorials' plotly figures get a renderer the site can show.

So the table cannot drift from the code: each model's paper (its docstring's first paragraph), what it
trains on, its parameters and defaults (the constructor), and its speed and quality as the last
``make bench`` measured them. The tutorials run while the site builds (mkdocs-jupyter ``execute: true``,
so their pages show the tables and lists, not bare code); :func:`on_startup` sets the renderer their
kernels inherit. :func:`on_config` keys mkdocs-jupyter's cache of those runs on the package's source as
well as on each notebook (:func:`source_key`), so a page shows what today's code prints.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
SOURCE = ROOT / "src" / "movierec"
#: what a build makes from the source, not the source: bytecode, the compiled kernels, Cython's C++
_BUILT = {".pyc", ".pyo", ".so", ".pyd", ".cpp"}
MARKER = "<!-- model-zoo -->"
_QUALITY_KEYS = (
    "rmse_ours",
    "rmse",
    "ndcg@10",
    "ndcg@10_ours",
    "precision@10_ours",
    "p@10_ours",
    "precision@10",
)


def _bench_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted((ROOT / "bench" / "results").glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, list):
            rows += [r for r in data if isinstance(r, dict) and r.get("mode") == "quick"]
    return rows


def _speed(name: str, rows: list[dict[str, Any]]) -> str:
    for r in rows:
        variant = str(r.get("variant", ""))
        if not (variant.startswith(f"{name} ") or variant.startswith(f"{name},")):
            continue
        secs = r.get("ours_seconds")
        if secs is None:
            continue
        text = f"{secs:.2f} s ({variant.split(',')[0]})"
        ratio, ref = r.get("ratio"), r.get("reference")
        if ratio and ref and not str(ref).startswith("target"):
            text += f"; {1 / ratio:.1f}× faster than {ref}" if ratio < 1 else f"; {ratio:.2f}× {ref}'s time"
        quality = r.get("quality") or {}
        for key in _QUALITY_KEYS:
            if isinstance(quality.get(key), (int, float)):
                text += f"; {key.replace('_ours', '')} {quality[key]:.4f}"
                break
        return text
    return "–"


def model_zoo() -> str:
    sys.path.insert(0, str(ROOT / "src"))
    from movierec.cli.models import model_info
    from movierec.models.registry import MODELS

    rows = _bench_rows()
    lines = [
        "| model | what it is (paper) | trains on | parameters (defaults) | speed and quality (make bench) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in MODELS:
        info = model_info(name)
        if not info["available"]:
            lines.append(f"| `{name}` | needs `pip install 'movierec[{info['extra']}]'` | – | – | – |")
            continue
        learns = (
            "sequences" if info["sequential"] else ("ratings" if info["kind"] == "explicit" else "positives")
        )
        params = ", ".join(f"`{k}={v}`" for k, v in info["params"].items() if k != "random_state") or "–"
        if info.get("defaults_from"):
            params += f"<br>*defaults from:* {info['defaults_from'].replace('|', chr(92) + '|')}"
        summary = inspect.cleandoc(info["summary"]).replace("|", "\\|").replace("``", "`")
        lines.append(f"| `{name}` | {summary} | {learns} | {params} | {_speed(name, rows)} |")
    return "\n".join(lines)


def on_startup(**_: Any) -> None:
    """Before any page builds: a kernel's plotly figure is plotly's own JSON type by default, which only
    Jupyter draws, so the site showed nothing where the map and the comparison chart go.
    ``notebook_connected`` writes HTML that loads plotly.js from its CDN when the page is read (the
    pages stay small; ``notebook`` inlines 3.5 MB of plotly.js). The tutorials' kernels inherit it."""
    os.environ.setdefault("PLOTLY_RENDERER", "notebook_connected")


def source_key(source: Path = SOURCE) -> str:
    """A short sha256 of the package's source: every file under ``source`` (its Python, templates, page
    assets, bundled data, the kernels' .pyx) by relative path and bytes, build outputs left out
    (``__pycache__``, the compiled extension, Cython's .cpp). mkdocs-jupyter keys its cache of executed
    notebooks on the notebook alone, so a site built after a change to movierec showed what the old code
    printed; :func:`on_config` puts the cache under this key, and a change to any source file runs them
    again."""
    digest = hashlib.sha256()
    for path in sorted(source.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix in _BUILT:
            continue
        digest.update(path.relative_to(source).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def on_config(config: Any) -> Any:
    """mkdocs-jupyter's cache folder gains the package's :func:`source_key`, ``.cache/mkdocs-jupyter/
    src-<key>``, so a notebook is executed again when the code it runs has changed, not only when the
    notebook has; the folders of other keys (and the flat cache of before) are dropped, being stale."""
    plugin = config.plugins.get("mkdocs-jupyter")
    if plugin is None or not plugin.config.get("cache"):
        return config
    base = Path(plugin.config["cache_dir"])
    keyed = base / f"src-{source_key()}"
    if base.is_dir():
        for old in base.iterdir():
            if old.is_dir() and old.name.startswith("src-") and old != keyed:
                shutil.rmtree(old, ignore_errors=True)
            elif old.is_file() and old.suffix == ".json":  # the cache keyed on notebooks alone
                old.unlink()
    plugin.config["cache_dir"] = str(keyed)
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, model_zoo())
    return markdown
