"""The ``serve`` extra installs everything ``movierec serve`` uses with its default options.

Walked on a fresh clone (``pip install -e '.[serve]'``, as README and docs/serving.md say): ``serve``
printed "metrics /metrics" in its banner and ``--metrics`` is on by default, yet ``GET /metrics``
answered ``501 prometheus-client is not installed (pip install 'movierec[serve]')`` — the extra it named
did not hold prometheus-client (only the separate ``metrics`` extra did), so the Docker image, built from
``movierec[serve,postgres]``, had no metrics either.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _names(requirements: list[str]) -> set[str]:
    """The distribution names of PEP 508 requirement strings, normalised (``prometheus_client`` → ``prometheus-client``)."""
    return {
        re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].strip().lower().replace("_", "-") for r in requirements
    }


def _extras() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return dict(project["optional-dependencies"])


def test_the_serve_extra_holds_prometheus_client() -> None:
    """/metrics is on by default and its 501 names the serve extra: that extra must install the client."""
    assert "prometheus-client" in _names(_extras()["serve"])
    observe = (ROOT / "src/movierec/serving/observe.py").read_text(encoding="utf-8")
    named = re.findall(r"prometheus-client is not installed \(pip install 'movierec\[(\w+)\]'\)", observe)
    assert named, "the /metrics 501 message no longer names an extra"
    for extra in named:
        assert "prometheus-client" in _names(_extras()[extra]), extra


def test_the_docker_image_installs_the_serve_extra() -> None:
    """The container (docs/serving.md, Containers) gets /metrics through the serve extra it installs."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    installed = re.findall(r"pip install [^\n]*'movierec\[([\w,]+)\]'", dockerfile)
    assert installed and all("serve" in group.split(",") for group in installed), installed
