"""Matplotlib charts written as PNG files (headless, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from movierec.errors import ConfigError
from movierec.interactions import Interactions


def _pyplot():  # type: ignore[no-untyped-def]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError as exc:
        raise ConfigError("charts need matplotlib: pip install 'movierec[viz]'") from exc
    return plt


def _save(fig, path: str | Path) -> Path:  # type: ignore[no-untyped-def]
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(path, dpi=110, bbox_inches="tight")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the chart ({exc.strerror})") from exc
    finally:
        fig.clf()
        _pyplot().close(fig)
    return path


def rating_histogram(inter: Interactions, path: str | Path, *, title: str = "Rating distribution") -> Path:
    """Bar chart of how many ratings take each value."""
    plt = _pyplot()
    values, counts = np.unique(inter.ratings, return_counts=True)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    width = float(np.min(np.diff(values))) * 0.8 if len(values) > 1 else 0.4
    ax.bar(values, counts, width=width, color="#3b6ea8")
    ax.set_xlabel("rating")
    ax.set_ylabel("number of ratings")
    ax.set_title(title)
    ax.set_xticks(values)
    return _save(fig, path)
