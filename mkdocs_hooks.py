"""mkdocs hooks: the model zoo table is generated from the registry and bench/results at build time,
and the tutorials' plotly figures get a renderer the site can show.

So the table cannot drift from the code: each model's paper (its docstring's first paragraph), what it
trains on, its parameters and defaults (the constructor), and its speed and quality as the last
``make bench`` measured them. The tutorials run while the site builds (mkdocs-jupyter ``execute: true``,
so their pages show the tables and lists, not bare code); :func:`on_startup` sets the renderer their
kernels inherit.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
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


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, model_zoo())
    return markdown
